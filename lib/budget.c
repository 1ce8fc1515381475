/* budget.c: hold prompt sections to their budgets and to the total. */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "wb_priv.h"

#define ELLIPSIS "..."
#define SEP "\n\n"

/* One section as the enforcement sees it. */
struct section {
	bool present;
	const char *base;        /* what truncation starts from */
	size_t base_len;
	const char *orig;        /* the section as it came */
	size_t orig_len;
	char *text;              /* the kept text, owned; NULL: the base */
	char *summary;           /* the summary, owned, when there is one */
	struct wb_tstats ost, st; /* of the original and the kept text */
	size_t len;
	uint64_t original_tokens, final_tokens;
	bool was_truncated, summarized, shed, dropped, changed;
	char summary_error[sizeof(((struct wb_err *)0)->msg)];
};

/* The sections of a record, checked: known names, string values. */
static int
load_sections(const json_t *sections, struct section sec[WB_NCAT],
    struct wb_err *err)
{
	enum wb_category c;
	const char *key;
	json_t *v;

	memset(sec, 0, sizeof(struct section) * WB_NCAT);
	if (sections == NULL)
		return wb_err_set(err, WB_EDATA, "missing field \"sections\"");
	if (!json_is_object(sections))
		return wb_err_set(err, WB_EDATA,
		    "field \"sections\" is not an object");
	json_object_foreach((json_t *)sections, key, v) {
		if (wb_category_parse(key, &c) != 0)
			return wb_err_set(err, WB_EDATA,
			    "sections: unknown category \"%.100s\"", key);
		if (!json_is_string(v))
			return wb_err_set(err, WB_EDATA,
			    "sections.%s: not a string", key);
		sec[c].present = true;
		sec[c].orig = sec[c].base = json_string_value(v);
		sec[c].orig_len = sec[c].base_len = json_string_length(v);
	}
	return WB_OK;
}

/* The kept text of a section. */
static const char *
kept(const struct section *s)
{
	return s->text != NULL ? s->text : s->base;
}

/* The non-empty sections joined by a blank line, in priority order. */
static char *
render(const struct section sec[WB_NCAT], bool original, size_t *len)
{
	size_t n = 0, l;
	char *b, *p;

	for (int i = 0; i < WB_NCAT; i++)
		n += (original ? sec[i].orig_len : sec[i].len) + strlen(SEP);
	if ((b = p = malloc(n + 1)) == NULL)
		return NULL;
	for (int i = 0; i < WB_NCAT; i++) {
		const struct section *s = &sec[wb_priority[i]];
		const char *t = original ? s->orig : kept(s);
		l = original ? s->orig_len : s->len;
		if (!s->present || l == 0)
			continue;
		if (p != b) {
			memcpy(p, SEP, strlen(SEP));
			p += strlen(SEP);
		}
		memcpy(p, t, l);
		p += l;
	}
	*p = '\0';
	*len = (size_t)(p - b);
	return b;
}

/*
 * Count the rendered text. Heuristic counts come from concatenated
 * statistics, exactly as from the text, without building it.
 */
static uint64_t
count_rendered(const struct wb_counter *c, const struct section sec[WB_NCAT],
    bool original, bool *oom)
{
	size_t len;
	char *r;
	uint64_t n;

	if (wb_counter_by_stats(c)) {
		struct wb_tstats all, sep;
		memset(&all, 0, sizeof(all));
		all.lead = all.trail = -1;
		wb_tstats_of(&sep, SEP, strlen(SEP));
		for (int i = 0; i < WB_NCAT; i++) {
			const struct section *s = &sec[wb_priority[i]];
			const struct wb_tstats *st = original ? &s->ost : &s->st;
			if (!s->present || st->bytes == 0)
				continue;
			if (all.bytes > 0)
				all = wb_tstats_cat(all, sep);
			all = wb_tstats_cat(all, *st);
		}
		return wb_tstats_count(&c->spec, &all);
	}
	r = render(sec, original, &len);

	if (r == NULL) {
		*oom = true;
		return 0;
	}
	n = wb_count(c, r, len);
	free(r);
	return n;
}

static enum wb_keep
keep_of(enum wb_category c)
{
	return c == WB_CAT_HISTORY ? WB_KEEP_TAIL : WB_KEEP_HEAD;
}

/* Count text; for heuristic counters keep its statistics in st. */
static uint64_t
measure(const struct wb_counter *c, const char *text, size_t len,
    struct wb_tstats *st)
{
	if (!wb_counter_by_stats(c))
		return wb_count(c, text, len);
	wb_tstats_of(st, text, len);
	return wb_tstats_count(&c->spec, st);
}

/* Cut section s (category c) from its base to b tokens. */
static int
cut(const struct wb_counter *c, struct section *s, enum wb_category cat,
    uint64_t b, struct wb_err *err)
{
	struct wb_trunc t;
	int st;

	if ((st = wb_truncate(c, s->base, s->base_len, b, keep_of(cat),
	    ELLIPSIS, &t, err)) != WB_OK)
		return st;
	free(s->text);
	s->text = t.text;
	s->len = t.len;
	s->final_tokens = t.final_tokens;
	if (wb_counter_by_stats(c))
		wb_tstats_of(&s->st, t.text, t.len);
	if (t.was_truncated)
		s->was_truncated = true;
	s->changed = true;
	return WB_OK;
}

/* Try the summarize command; on success the summary becomes the base. */
static void
summarize(const struct wb_settings *set, const struct wb_counter *c,
    struct section *s, enum wb_category cat, uint64_t budget)
{
	struct wb_err err = { 0 };
	char *out;
	size_t len;

	if (wb_summarize_within(set, c, wb_category_name(cat), budget, "", 0,
	    s->base, s->base_len, &out, &len, &err) != WB_OK) {
		snprintf(s->summary_error, sizeof(s->summary_error), "%s", err.msg);
		return;
	}
	s->summary = out;
	s->base = out;
	s->base_len = len;
	s->summarized = true;
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

/* What a trial cut of one section needs to know. */
struct trial {
	const struct wb_settings *set;
	const struct wb_counter *c;
	struct section *sec;
	enum wb_category cat;
	struct wb_err *err;
};

/* Does the whole fit with the section cut to b tokens? */
static int
trial_fits(void *ctx, uint64_t b)
{
	struct trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = cut(t->c, &t->sec[t->cat], t->cat, b, t->err)) != WB_OK)
		return -st;
	if (count_rendered(t->c, t->sec, false, &oom) <= t->set->total)
		return 1;
	return oom ? -wb_err_set(t->err, WB_EINTERNAL, "out of memory") : 0;
}

/* Shed category cat until the rendered total fits: cut, else drop. */
static int
shed(const struct wb_settings *set, const struct wb_counter *c,
    struct section sec[WB_NCAT], enum wb_category cat, bool *fits,
    struct wb_err *err)
{
	struct trial t = { set, c, sec, cat, err };
	struct section *s = &sec[cat];
	uint64_t best = UINT64_MAX;
	bool oom = false;
	int st;

	s->shed = true;
	if (s->final_tokens > 0 &&
	    (st = wb_search_fit(s->final_tokens - 1, trial_fits, &t, &best)))
		return st;
	if (best != UINT64_MAX && (st = cut(c, s, cat, best, err)) != WB_OK)
		return st;
	if (best == UINT64_MAX || s->len == 0 ||
	    (s->len == strlen(ELLIPSIS) && memcmp(kept(s), ELLIPSIS, s->len) == 0)) {
		/* Nothing but the ellipsis would fit: drop the section. */
		s->dropped = s->changed = s->was_truncated = true;
		s->len = 0;
		s->final_tokens = 0;
		memset(&s->st, 0, sizeof(s->st));
		s->st.lead = s->st.trail = -1;
	}
	*fits = count_rendered(c, sec, false, &oom) <= set->total;
	return oom ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

static json_t *
names(const struct section sec[WB_NCAT], size_t field)
{
	json_t *a = json_array();

	for (int i = 0; i < WB_NCAT; i++) {
		enum wb_category c = wb_priority[i];
		if (*(const bool *)((const char *)&sec[c] + field))
			json_array_append_new(a, json_string(wb_category_name(c)));
	}
	return a;
}

/* The report of a record's budgets. */
static json_t *
report_of(const struct wb_settings *set, const struct section sec[WB_NCAT],
    uint64_t orig_total, uint64_t final_total, bool check)
{
	json_t *r = json_object(), *ss = json_object(), *o;

	for (int i = 0; i < WB_NCAT; i++) {
		const struct section *s = &sec[i];
		if (!s->present)
			continue;
		o = json_pack("{s:I,s:I,s:b,s:I}", "original_tokens",
		    (json_int_t)s->original_tokens, "final_tokens",
		    (json_int_t)s->final_tokens, "was_truncated", s->was_truncated,
		    "budget", (json_int_t)set->budget[i]);
		if (check)
			json_object_set_new(o, "over_budget",
			    json_boolean(s->original_tokens > set->budget[i]));
		else
			json_object_set_new(o, "summarized",
			    json_boolean(s->summarized));
		if (s->summary_error[0])
			json_object_set_new(o, "summary_error",
			    json_string(s->summary_error));
		json_object_set_new(ss, wb_category_name((enum wb_category)i), o);
	}
	json_object_set_new(r, "sections", ss);
	json_object_set_new(r, "sections_truncated",
	    names(sec, offsetof(struct section, was_truncated)));
	if (!check) {
		json_object_set_new(r, "sections_shed",
		    names(sec, offsetof(struct section, shed)));
		json_object_set_new(r, "sections_dropped",
		    names(sec, offsetof(struct section, dropped)));
	}
	json_object_set_new(r, "total_original_tokens",
	    json_integer((json_int_t)orig_total));
	json_object_set_new(r, "total_final_tokens",
	    json_integer((json_int_t)final_total));
	json_object_set_new(r, "total_budget", json_integer((json_int_t)set->total));
	json_object_set_new(r, "over_total", json_boolean(final_total > set->total));
	return r;
}

static void
free_sections(struct section sec[WB_NCAT])
{
	for (int i = 0; i < WB_NCAT; i++) {
		free(sec[i].text);
		free(sec[i].summary);
	}
}

/* Hold each section of a record to its budget and the whole to the total. */
int
wb_budget_enforce(const struct wb_settings *set, const struct wb_counter *c,
    json_t *sections, json_t **report, struct wb_err *err)
{
	struct section sec[WB_NCAT];
	uint64_t orig_total, final_total;
	bool oom = false, fits;
	int st;

	*report = NULL;
	if ((st = load_sections(sections, sec, err)) != WB_OK)
		return st;
	for (int i = 0; i < WB_NCAT; i++) {
		struct section *s = &sec[i];
		if (!s->present)
			continue;
		s->original_tokens = s->final_tokens =
		    measure(c, s->base, s->base_len, &s->ost);
		s->st = s->ost;
		s->len = s->base_len;
		if (s->original_tokens <= set->budget[i])
			continue;
		if (set->enable_summarization && set->summarize_command[0])
			summarize(set, c, s, (enum wb_category)i, set->budget[i]);
		/* A summary fits, so this copies it; otherwise it truncates. */
		if ((st = cut(c, s, (enum wb_category)i, set->budget[i], err)))
			goto out;
	}
	orig_total = count_rendered(c, sec, true, &oom);
	final_total = count_rendered(c, sec, false, &oom);
	fits = final_total <= set->total;
	/* Shed from the least important up until the whole fits. */
	for (int i = WB_NCAT - 1; !fits && !oom && i >= 0; i--) {
		enum wb_category cat = wb_priority[i];
		if (!sec[cat].present || sec[cat].len == 0)
			continue;
		if ((st = shed(set, c, sec, cat, &fits, err)) != WB_OK)
			goto out;
	}
	if (!oom)
		final_total = count_rendered(c, sec, false, &oom);
	if (oom) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto out;
	}
	if (final_total > set->total) {
		st = wb_err_set(err, WB_EINTERNAL,
		    "rendered total %llu over the budget %llu after shedding",
		    (unsigned long long)final_total,
		    (unsigned long long)set->total);
		goto out;
	}
	for (int i = 0; i < WB_NCAT; i++)
		if (sec[i].changed && json_object_set_new(sections,
		    wb_category_name((enum wb_category)i),
		    json_stringn_nocheck(kept(&sec[i]), sec[i].len)) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
	*report = report_of(set, sec, orig_total, final_total, false);
out:
	free_sections(sec);
	return st;
}

/* Measure the sections against the budgets without changing them. */
int
wb_budget_check(const struct wb_settings *set, const struct wb_counter *c,
    const json_t *sections, json_t **report, struct wb_err *err)
{
	struct section sec[WB_NCAT];
	uint64_t total;
	bool oom = false, over = false;
	int st;

	*report = NULL;
	if ((st = load_sections(sections, sec, err)) != WB_OK)
		return st;
	for (int i = 0; i < WB_NCAT; i++) {
		if (!sec[i].present)
			continue;
		sec[i].original_tokens = sec[i].final_tokens =
		    measure(c, sec[i].base, sec[i].base_len, &sec[i].ost);
		if (sec[i].original_tokens > set->budget[i])
			over = true;
	}
	total = count_rendered(c, sec, true, &oom);
	if (oom)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	*report = report_of(set, sec, total, total, true);
	return over || total > set->total ? WB_ECHECK : WB_OK;
}
