/* section.c: a text held to a budget, by cutting, summarizing or dropping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

void
wb_section_init(struct wb_section *s, const char *text, size_t len,
    size_t head)
{
	memset(s, 0, sizeof(*s));
	s->orig = s->base = text;
	s->orig_len = s->base_len = s->len = len;
	s->head = head;
	s->st.lead = s->st.trail = -1;
}

const char *
wb_section_kept(const struct wb_section *s)
{
	return s->text != NULL ? s->text : s->base;
}

uint64_t
wb_section_measure(struct wb_section *s, const struct wb_counter *c)
{
	if (wb_counter_by_stats(c)) {
		wb_text_stats_of(&s->st, s->base, s->base_len);
		s->original_tokens = wb_text_stats_count(&c->spec, &s->st);
	} else {
		s->original_tokens = wb_count(c, s->base, s->base_len);
	}
	s->final_tokens = s->original_tokens;
	s->len = s->base_len;
	return s->original_tokens;
}

int
wb_section_cut(struct wb_section *s, const struct wb_counter *c, uint64_t b,
    enum wb_keep keep, struct wb_err *err)
{
	struct wb_trunc t;
	int st;

	if ((st = wb_truncate(c, s->base, s->base_len, b, keep, WB_ELLIPSIS, &t,
	    err)) != WB_OK)
		return st;
	free(s->text);
	s->text = t.text;
	s->len = t.len;
	s->final_tokens = t.final_tokens;
	if (wb_counter_by_stats(c))
		wb_text_stats_of(&s->st, t.text, t.len);
	if (t.was_truncated)
		s->truncated = true;
	return WB_OK;
}

/*
 * Try the summarize command on s, over its budget in category name: on
 * success the summary, under the heading, becomes the base; otherwise
 * summary_error says why, for the report.
 */
void
wb_section_summarize(struct wb_section *s, const struct wb_settings *set,
    const struct wb_counter *c, const char *name, uint64_t budget)
{
	size_t head = s->head <= s->base_len ? s->head : 0, len;
	struct wb_err err = { 0 };
	char *out;

	/* The heading stays; the summary stands for what was under it. */
	if (wb_summarize_within(set, c, name, budget,
	    s->base, head, s->base + head, s->base_len - head, &out, &len,
	    &err) != WB_OK) {
		snprintf(s->summary_error, sizeof(s->summary_error), "%s", err.msg);
		return;
	}
	free(s->summary);
	s->summary = out;
	s->base = out;
	s->base_len = len;
	s->summarized = true;
}

const char *
wb_section_reason(const struct wb_section *s, bool shed)
{
	if (shed)
		return "shed";
	if (s->summary_error[0] != '\0')
		return "summary_failed";
	if (s->summarized)
		return "summarized";
	return s->truncated ? "own_budget" : "fits";
}

void
wb_section_drop(struct wb_section *s)
{
	s->dropped = s->truncated = true;
	s->len = 0;
	s->final_tokens = 0;
	memset(&s->st, 0, sizeof(s->st));
	s->st.lead = s->st.trail = -1;
}

bool
wb_section_is_empty(const struct wb_section *s)
{
	const char *t = wb_section_kept(s);
	size_t n = s->len, e = strlen(WB_ELLIPSIS);

	/* A short summary such as "ok" under the heading still says something. */
	if (n >= e && memcmp(t + n - e, WB_ELLIPSIS, e) == 0)
		n -= e;
	return n == 0 || (n <= s->head && memcmp(t, s->orig, n) == 0);
}

void
wb_section_free(struct wb_section *s)
{
	free(s->text);
	free(s->summary);
	s->text = s->summary = NULL;
}

/*
 * The largest b in [0, hi] with fits(ctx, b), searching as if fits were
 * monotonic (callers check the result on the final text); returns 0 and
 * *best = UINT64_MAX when none fits, or the callback's error status.
 */
int
wb_search_fit(uint64_t hi, int (*fits)(void *ctx, uint64_t b), void *ctx,
    uint64_t *best)
{
	uint64_t lo = 0, mid;
	int r;

	*best = UINT64_MAX;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = fits(ctx, mid)) < 0)
			return -r;
		if (r) {
			*best = mid;
			lo = mid + 1;
		} else if (mid == 0) {
			break;
		} else {
			hi = mid - 1;
		}
	}
	return WB_OK;
}
