/* budget.c: hold prompt sections to their budgets and to the total. */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "wb_priv.h"

/* One section of a record as the enforcement sees it. */
struct section {
	struct wb_section s;
	struct wb_text_stats ost;    /* of the original, for counts by statistics */
	bool present, shed, changed;
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
		wb_section_init(&sec[c].s, json_string_value(v),
		    json_string_length(v), 0);
	}
	return WB_OK;
}

/* The non-empty sections joined by a blank line, in priority order. */
static char *
render(const struct section sec[WB_NCAT], bool original, size_t *len)
{
	size_t n = 0, l;
	char *b, *p;

	for (int i = 0; i < WB_NCAT; i++)
		n += (original ? sec[i].s.orig_len : sec[i].s.len) + strlen(WB_SEP);
	if ((b = p = malloc(n + 1)) == NULL)
		return NULL;
	for (int i = 0; i < WB_NCAT; i++) {
		const struct section *s = &sec[wb_priority[i]];
		const char *t = original ? s->s.orig : wb_section_kept(&s->s);
		l = original ? s->s.orig_len : s->s.len;
		if (!s->present || l == 0)
			continue;
		if (p != b) {
			memcpy(p, WB_SEP, strlen(WB_SEP));
			p += strlen(WB_SEP);
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
		struct wb_text_stats all, sep;
		memset(&all, 0, sizeof(all));
		all.lead = all.trail = -1;
		wb_text_stats_of(&sep, WB_SEP, strlen(WB_SEP));
		for (int i = 0; i < WB_NCAT; i++) {
			const struct section *s = &sec[wb_priority[i]];
			const struct wb_text_stats *st = original ? &s->ost : &s->s.st;
			if (!s->present || st->bytes == 0)
				continue;
			if (all.bytes > 0)
				all = wb_text_stats_cat(all, sep);
			all = wb_text_stats_cat(all, *st);
		}
		return wb_text_stats_count(&c->spec, &all);
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

/* Cut section s (category cat) from its base to b tokens. */
static int
cut(const struct wb_counter *c, struct section *s, enum wb_category cat,
    uint64_t b, struct wb_err *err)
{
	int st;

	if ((st = wb_section_cut(&s->s, c, b, keep_of(cat), err)) != WB_OK)
		return st;
	s->changed = true;
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
	if (s->s.final_tokens > 0 &&
	    (st = wb_search_fit(s->s.final_tokens - 1, trial_fits, &t, &best)))
		return st;
	if (best != UINT64_MAX && (st = cut(c, s, cat, best, err)) != WB_OK)
		return st;
	if (best == UINT64_MAX || wb_section_is_empty(&s->s)) {
		/* Nothing but the ellipsis would fit: drop the section. */
		wb_section_drop(&s->s);
		s->changed = true;
	}
	*fits = count_rendered(c, sec, false, &oom) <= set->total;
	return oom ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The report of a record's budgets, in the words of wb(7). */
static json_t *
report_of(const struct wb_settings *set, const struct section sec[WB_NCAT],
    uint64_t final_total, bool check)
{
	json_t *r = json_object(), *ss = json_object(), *o;

	for (int i = 0; i < WB_NCAT; i++) {
		const struct section *s = &sec[i];
		const char *why;
		if (!s->present)
			continue;
		/* --check: what enforcing would do to it first. */
		why = !check ? wb_section_reason(&s->s, s->shed) :
		    s->s.original_tokens > set->budget[i] ? "own_budget" : "fits";
		o = json_pack("{s:I,s:I,s:I}", "original_tokens",
		    (json_int_t)s->s.original_tokens, "budget",
		    (json_int_t)set->budget[i], "final_tokens",
		    (json_int_t)s->s.final_tokens);
		json_object_set_new_nocheck(o, "reason", json_string_nocheck(why));
		if (s->s.summary_error[0])
			json_object_set_new(o, "summary_error",
			    json_string(s->s.summary_error));
		json_object_set_new(ss, wb_category_name((enum wb_category)i), o);
	}
	json_object_set_new(r, "sections", ss);
	json_object_set_new(r, "total", json_pack("{s:I,s:I,s:b}", "budget",
	    (json_int_t)set->total, "final_tokens", (json_int_t)final_total,
	    "over", final_total > set->total));
	return r;
}

static void
free_sections(struct section sec[WB_NCAT])
{
	for (int i = 0; i < WB_NCAT; i++)
		wb_section_free(&sec[i].s);
}

int
wb_budget_enforce(const struct wb_settings *set, const struct wb_counter *c,
    json_t *sections, json_t **report, struct wb_err *err)
{
	struct section sec[WB_NCAT];
	uint64_t final_total;
	bool oom = false, fits;
	int st;

	*report = NULL;
	if ((st = load_sections(sections, sec, err)) != WB_OK)
		return st;
	for (int i = 0; i < WB_NCAT; i++) {
		struct section *s = &sec[i];
		if (!s->present)
			continue;
		wb_section_measure(&s->s, c);
		s->ost = s->s.st;
		if (s->s.original_tokens <= set->budget[i])
			continue;
		if (set->enable_summarization && set->summarize_command[0])
			wb_section_summarize(&s->s, set, c, (enum wb_category)i);
		/* A summary fits, so this copies it; otherwise it truncates. */
		if ((st = cut(c, s, (enum wb_category)i, set->budget[i], err)))
			goto out;
	}
	final_total = count_rendered(c, sec, false, &oom);
	fits = final_total <= set->total;
	/* Shed from the least important up until the whole fits. */
	for (int i = WB_NCAT - 1; !fits && !oom && i >= 0; i--) {
		enum wb_category cat = wb_priority[i];
		if (!sec[cat].present || sec[cat].s.len == 0)
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
		    json_stringn_nocheck(wb_section_kept(&sec[i].s),
		    sec[i].s.len)) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
	*report = report_of(set, sec, final_total, false);
out:
	free_sections(sec);
	return st;
}

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
		wb_section_measure(&sec[i].s, c);
		sec[i].ost = sec[i].s.st;
		if (sec[i].s.original_tokens > set->budget[i])
			over = true;
	}
	total = count_rendered(c, sec, true, &oom);
	if (oom)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	*report = report_of(set, sec, total, true);
	return over || total > set->total ? WB_ECHECK : WB_OK;
}

void
wb_warn_summaries(FILE *f, const char *prog, const char *where,
    const json_t *sections, bool turns)
{
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)sections, name, v)
		if (json_is_string(json_object_get(v, "summary_error")))
			fprintf(f, "%s: %s: %s: no summary (%s); %s instead\n",
			    prog, where, name, json_string_value(
			    json_object_get(v, "summary_error")),
			    turns && strcmp(name, "conversation_history") == 0 ?
			    "the oldest turns dropped" : "cut to its budget");
}
