/* test-section.c: a text held to a budget, and the largest cut that fits. */
#include "wb_priv.h"
#include "unit.h"

static bool
kept_is(const struct wb_section *s, const char *want)
{
	bool ok = s->len == strlen(want) &&
	    memcmp(wb_section_kept(s), want, s->len) == 0;

	if (!ok)
		fprintf(stderr, "  kept '%.*s', want '%s'\n", (int)s->len,
		    wb_section_kept(s), want);
	return ok;
}

static void
measure_counts_the_whole_and_keeps_it(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_section s;

	wb_section_init(&s, "caf\xC3\xA9 au lait", 13, 0);
	CHECK_U(wb_section_measure(&s, c), 12);
	CHECK_U(s.original_tokens, 12);
	CHECK_U(s.final_tokens, 12);
	CHECK_U(s.st.bytes, 13);
	CHECK(kept_is(&s, "caf\xC3\xA9 au lait"));
	CHECK(!s.truncated && !s.dropped && !s.summarized);
	wb_section_free(&s);
	wb_counter_free(c);
}

static void
a_cut_keeps_the_head_or_the_tail_within_its_budget(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_section s;
	struct wb_err err;

	wb_section_init(&s, "abcdefghij", 10, 0);
	wb_section_measure(&s, c);
	CHECK_U(wb_section_cut(&s, c, 6, WB_KEEP_HEAD, &err), WB_OK);
	CHECK(kept_is(&s, "abc..."));
	CHECK_U(s.final_tokens, 6);
	CHECK_U(s.st.scalars, 6);
	CHECK(s.truncated);
	/* Cuts start again from the base, not from the last cut. */
	CHECK_U(wb_section_cut(&s, c, 5, WB_KEEP_TAIL, &err), WB_OK);
	CHECK(kept_is(&s, "...ij"));
	CHECK_U(s.original_tokens, 10);
	CHECK_U(wb_section_cut(&s, c, 10, WB_KEEP_HEAD, &err), WB_OK);
	CHECK(kept_is(&s, "abcdefghij"));
	/* Once cut, a section stays marked so for the report. */
	CHECK(s.truncated);
	wb_section_free(&s);
	CHECK(s.text == NULL);
	wb_counter_free(c);
}

static void
a_whole_cut_is_not_a_truncation(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_section s;
	struct wb_err err;

	wb_section_init(&s, "abcdefghij", 10, 0);
	wb_section_measure(&s, c);
	CHECK_U(wb_section_cut(&s, c, 10, WB_KEEP_HEAD, &err), WB_OK);
	CHECK(kept_is(&s, "abcdefghij"));
	CHECK(!s.truncated);
	wb_section_free(&s);
	wb_counter_free(c);
}

static void
a_dropped_section_keeps_nothing(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_section s;

	wb_section_init(&s, "abcdefghij", 10, 0);
	wb_section_measure(&s, c);
	wb_section_drop(&s);
	CHECK_U(s.len, 0);
	CHECK_U(s.final_tokens, 0);
	CHECK_U(s.original_tokens, 10);
	CHECK(s.dropped && s.truncated);
	/* Its statistics are those of no text: it adds nothing when joined. */
	CHECK_U(s.st.bytes, 0);
	CHECK(s.st.lead == -1 && s.st.trail == -1);
	wb_counter_free(c);
}

/* Is the section on orig with this heading length empty when it keeps t? */
static bool
empty_when(const char *orig, size_t head, const char *t)
{
	struct wb_section s;
	bool e;

	wb_section_init(&s, orig, strlen(orig), head);
	s.text = strdup(t);
	s.len = strlen(t);
	e = wb_section_is_empty(&s);
	wb_section_free(&s);
	return e;
}

static void
a_heading_and_an_ellipsis_are_empty(void)
{
	const char *o = "## Events\nThe bridge falls.";

	CHECK(empty_when(o, 0, ""));
	CHECK(empty_when(o, 0, "..."));
	CHECK(!empty_when(o, 0, "## ..."));
	CHECK(empty_when(o, 10, "## Events\n..."));
	CHECK(empty_when(o, 10, "## Even..."));
	CHECK(empty_when(o, 10, "## Events\n"));
	CHECK(!empty_when(o, 10, "## Events\nThe..."));
	/* A short summary under the heading still says something. */
	CHECK(!empty_when(o, 10, "## Events\nok"));
	/* Text as short as the heading but not the heading is something. */
	CHECK(!empty_when(o, 10, "Bridge..."));
}

static void
a_summary_that_fits_replaces_the_body_under_the_heading(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_settings set;
	struct wb_section s;
	const char *o = "HEAD\nA long account of the bridge and who burned it.";

	wb_settings_default(&set);
	set.budget[WB_CAT_NARRATIVE] = 20;
	snprintf(set.summarize_command, sizeof(set.summarize_command),
	    "cat >/dev/null; printf 'It burned.'");
	wb_section_init(&s, o, strlen(o), 5);
	wb_section_measure(&s, c);
	wb_section_summarize(&s, &set, c, "narrative_events",
	    set.budget[WB_CAT_NARRATIVE]);
	CHECK(s.summarized);
	CHECK(s.summary_error[0] == '\0');
	CHECK(s.base_len == 15 && memcmp(s.base, "HEAD\nIt burned.", 15) == 0);
	/* The original stays what it was, for the report and the heading. */
	CHECK(s.orig == o);
	wb_section_free(&s);
	wb_counter_free(c);
}

static void
a_summary_that_fails_or_is_too_long_leaves_the_text_and_says_why(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_settings set;
	struct wb_section s;
	const char *o = "A long account of the bridge and who burned it.";

	wb_settings_default(&set);
	set.budget[WB_CAT_SCENE] = 5;
	snprintf(set.summarize_command, sizeof(set.summarize_command),
	    "cat >/dev/null; printf 'It burned.'");
	wb_section_init(&s, o, strlen(o), 0);
	wb_section_summarize(&s, &set, c, "scene", set.budget[WB_CAT_SCENE]);
	CHECK(!s.summarized && s.base == o && s.summary == NULL);
	CHECK(strcmp(s.summary_error,
	    "summary has 10 tokens, over the budget of 5") == 0);
	snprintf(set.summarize_command, sizeof(set.summarize_command),
	    "cat >/dev/null; echo no >&2; exit 3");
	wb_section_summarize(&s, &set, c, "scene", set.budget[WB_CAT_SCENE]);
	CHECK(!s.summarized && s.base == o);
	CHECK(strcmp(s.summary_error,
	    "summarize_command exited with status 3: no") == 0);
	wb_section_free(&s);
	wb_counter_free(c);
}

/* fits(b) is b <= *limit; an error past a sentinel, to see it passed on. */
static int
up_to(void *ctx, uint64_t b)
{
	const uint64_t *limit = ctx;

	if (limit[1] != 0 && b >= limit[1])
		return -WB_EINTERNAL;
	return b <= limit[0];
}

static void
the_search_finds_the_largest_that_fits(void)
{
	uint64_t best, lim[2] = { 0, 0 };

	for (uint64_t hi = 0; hi < 40; hi++)
		for (lim[0] = 0; lim[0] < 45; lim[0]++) {
			CHECK_U(wb_search_fit(hi, up_to, lim, &best), WB_OK);
			CHECK_U(best, lim[0] < hi ? lim[0] : hi);
		}
	lim[0] = UINT64_MAX - 1;
	CHECK_U(wb_search_fit(UINT64_MAX - 1, up_to, lim, &best), WB_OK);
	CHECK_U(best, UINT64_MAX - 1);
}

static int
never(void *ctx, uint64_t b)
{
	(void)ctx;
	(void)b;
	return 0;
}

static void
when_nothing_fits_the_search_says_so(void)
{
	uint64_t best = 7, lim[2] = { 100, 50 };

	CHECK_U(wb_search_fit(1000, never, NULL, &best), WB_OK);
	CHECK_U(best, UINT64_MAX);
	CHECK_U(wb_search_fit(0, never, NULL, &best), WB_OK);
	CHECK_U(best, UINT64_MAX);
	/* A callback's error ends the search with its status. */
	CHECK_U(wb_search_fit(1000, up_to, lim, &best), WB_EINTERNAL);
}

int
main(void)
{
	RUN(measure_counts_the_whole_and_keeps_it);
	RUN(a_cut_keeps_the_head_or_the_tail_within_its_budget);
	RUN(a_whole_cut_is_not_a_truncation);
	RUN(a_dropped_section_keeps_nothing);
	RUN(a_heading_and_an_ellipsis_are_empty);
	RUN(a_summary_that_fits_replaces_the_body_under_the_heading);
	RUN(a_summary_that_fails_or_is_too_long_leaves_the_text_and_says_why);
	RUN(the_search_finds_the_largest_that_fits);
	RUN(when_nothing_fits_the_search_says_so);
	return UNIT_END();
}
