/* budget.c: hold prompt sections to their budgets and to the total. */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "wb_priv.h"

/* The categories of a record: the eight of the engine, or those of the
 * configuration (categories:). */
struct cats {
	size_t n;
	const char *const *name;
	const uint64_t *budget;
	const uint8_t *order;        /* the most important first */
	const uint8_t *tail;         /* keep the end, not the start */
	bool npc;
};

/* The engine's: conversation_history keeps its newest part. */
static const uint8_t npc_order[WB_NCAT] = {
	WB_CAT_CHARACTER, WB_CAT_SCENE, WB_CAT_DIRECTORIAL, WB_CAT_HISTORY,
	WB_CAT_CHALLENGES, WB_CAT_NARRATIVE, WB_CAT_LOCATION, WB_CAT_PLAYER,
};
static const uint8_t npc_tail[WB_NCAT] = { [WB_CAT_HISTORY] = 1 };

static void
cats_of(const struct wb_settings *set, struct cats *k)
{
	const struct wb_cats *c = set->cats;

	if (c == NULL)
		*k = (struct cats){ WB_NCAT, wb_category_names, set->budget,
		    npc_order, npc_tail, true };
	else
		*k = (struct cats){ c->n, c->name, c->budget, c->order, c->tail,
		    false };
}

/* One section of a record as the enforcement sees it. */
struct section {
	struct wb_section s;
	struct wb_text_stats ost;    /* of the original, for counts by statistics */
	bool present, shed, changed;
};

/* The index of category name, or -1. */
static int
find(const struct cats *k, const char *name)
{
	enum wb_category c;

	if (k->npc)
		return wb_category_parse(name, &c) == 0 ? (int)c : -1;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(name, k->name[i]) == 0)
			return (int)i;
	return -1;
}

/* The sections of a record, checked: known names, string values. */
static int
load_sections(const struct cats *k, const json_t *sections,
    struct section *sec, struct wb_err *err)
{
	const char *key;
	json_t *v;
	int c;

	/* A constant size for the engine's, which the compiler inlines. */
	if (k->npc)
		memset(sec, 0, sizeof(struct section) * WB_NCAT);
	else
		memset(sec, 0, sizeof(struct section) * k->n);
	if (sections == NULL)
		return wb_err_set(err, WB_EDATA, "missing field \"sections\"");
	if (!json_is_object(sections))
		return wb_err_set(err, WB_EDATA,
		    "field \"sections\" is not an object");
	json_object_foreach((json_t *)sections, key, v) {
		if ((c = find(k, key)) < 0)
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
render(const struct cats *k, const struct section *sec, bool original,
    size_t *len)
{
	size_t n = 0, l;
	char *b, *p;

	for (size_t i = 0; i < k->n; i++)
		n += (original ? sec[i].s.orig_len : sec[i].s.len) + strlen(WB_SEP);
	if ((b = p = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < k->n; i++) {
		const struct section *s = &sec[k->order[i]];
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
count_rendered(const struct cats *k, const struct wb_counter *c,
    const struct section *sec, bool original, bool *oom)
{
	size_t len;
	char *r;
	uint64_t n;

	if (wb_counter_by_stats(c)) {
		struct wb_text_stats all, sep;
		memset(&all, 0, sizeof(all));
		all.lead = all.trail = -1;
		wb_text_stats_of(&sep, WB_SEP, strlen(WB_SEP));
		for (size_t i = 0; i < k->n; i++) {
			const struct section *s = &sec[k->order[i]];
			const struct wb_text_stats *st = original ? &s->ost : &s->s.st;
			if (!s->present || st->bytes == 0)
				continue;
			if (all.bytes > 0)
				all = wb_text_stats_cat(all, sep);
			all = wb_text_stats_cat(all, *st);
		}
		return wb_text_stats_count(&c->spec, &all);
	}
	r = render(k, sec, original, &len);

	if (r == NULL) {
		*oom = true;
		return 0;
	}
	n = wb_count(c, r, len);
	free(r);
	return n;
}

/* Cut section i from its base to b tokens. */
static int
cut(const struct cats *k, const struct wb_counter *c, struct section *sec,
    size_t i, uint64_t b, struct wb_err *err)
{
	int st;

	if ((st = wb_section_cut(&sec[i].s, c, b, k->tail[i] ? WB_KEEP_TAIL :
	    WB_KEEP_HEAD, err)) != WB_OK)
		return st;
	sec[i].changed = true;
	return WB_OK;
}

/* What a trial cut of one section needs to know. */
struct trial {
	const struct wb_settings *set;
	const struct cats *k;
	const struct wb_counter *c;
	struct section *sec;
	size_t i;
	struct wb_err *err;
};

/* Does the whole fit with the section cut to b tokens? */
static int
trial_fits(void *ctx, uint64_t b)
{
	struct trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = cut(t->k, t->c, t->sec, t->i, b, t->err)) != WB_OK)
		return -st;
	if (count_rendered(t->k, t->c, t->sec, false, &oom) <= t->set->total)
		return 1;
	return oom ? -wb_err_set(t->err, WB_EINTERNAL, "out of memory") : 0;
}

/* Shed section i until the rendered total fits: cut, else drop. */
static int
shed(const struct wb_settings *set, const struct cats *k,
    const struct wb_counter *c, struct section *sec, size_t i, bool *fits,
    struct wb_err *err)
{
	struct trial t = { set, k, c, sec, i, err };
	struct section *s = &sec[i];
	uint64_t best = UINT64_MAX;
	bool oom = false;
	int st;

	s->shed = true;
	if (s->s.final_tokens > 0 &&
	    (st = wb_search_fit(s->s.final_tokens - 1, trial_fits, &t, &best)))
		return st;
	if (best != UINT64_MAX && (st = cut(k, c, sec, i, best, err)) != WB_OK)
		return st;
	if (best == UINT64_MAX || wb_section_is_empty(&s->s)) {
		/* Nothing but the ellipsis would fit: drop the section. */
		wb_section_drop(&s->s);
		s->changed = true;
	}
	*fits = count_rendered(k, c, sec, false, &oom) <= set->total;
	return oom ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The report of a record's budgets, in the words of wb(7). */
static json_t *
report_of(const struct wb_settings *set, const struct cats *k,
    const struct section *sec, uint64_t final_total, bool check)
{
	json_t *r = json_object(), *ss = json_object(), *o;

	for (size_t i = 0; i < k->n; i++) {
		const struct section *s = &sec[i];
		const char *why;
		if (!s->present)
			continue;
		/* --check: what enforcing would do to it first. */
		why = !check ? wb_section_reason(&s->s, s->shed) :
		    s->s.original_tokens > k->budget[i] ? "own_budget" : "fits";
		o = json_pack("{s:I,s:I,s:I}", "original_tokens",
		    (json_int_t)s->s.original_tokens, "budget",
		    (json_int_t)k->budget[i], "final_tokens",
		    (json_int_t)s->s.final_tokens);
		json_object_set_new_nocheck(o, "reason", json_string_nocheck(why));
		if (s->s.summary_error[0])
			json_object_set_new(o, "summary_error",
			    json_string(s->s.summary_error));
		json_object_set_new(ss, k->name[i], o);
	}
	json_object_set_new(r, "sections", ss);
	json_object_set_new(r, "total", json_pack("{s:I,s:I,s:b}", "budget",
	    (json_int_t)set->total, "final_tokens", (json_int_t)final_total,
	    "over", final_total > set->total));
	return r;
}

static void
free_sections(const struct cats *k, struct section *sec)
{
	for (size_t i = 0; i < k->n; i++)
		wb_section_free(&sec[i].s);
}

int
wb_budget_enforce(const struct wb_settings *set, const struct wb_counter *c,
    json_t *sections, json_t **report, struct wb_err *err)
{
	struct section sec[WB_MAXCAT];
	struct cats k;
	uint64_t final_total;
	bool oom = false, fits;
	int st;

	*report = NULL;
	cats_of(set, &k);
	if ((st = load_sections(&k, sections, sec, err)) != WB_OK)
		return st;
	for (size_t i = 0; i < k.n; i++) {
		struct section *s = &sec[i];
		if (!s->present)
			continue;
		wb_section_measure(&s->s, c);
		s->ost = s->s.st;
		if (s->s.original_tokens <= k.budget[i])
			continue;
		if (set->enable_summarization && set->summarize_command[0])
			wb_section_summarize(&s->s, set, c, k.name[i], k.budget[i]);
		/* A summary fits, so this copies it; otherwise it truncates. */
		if ((st = cut(&k, c, sec, i, k.budget[i], err)) != WB_OK)
			goto out;
	}
	final_total = count_rendered(&k, c, sec, false, &oom);
	fits = final_total <= set->total;
	/* Shed from the least important up until the whole fits. */
	for (size_t j = k.n; !fits && !oom && j-- > 0;) {
		size_t i = k.order[j];
		if (!sec[i].present || sec[i].s.len == 0)
			continue;
		if ((st = shed(set, &k, c, sec, i, &fits, err)) != WB_OK)
			goto out;
	}
	if (!oom)
		final_total = count_rendered(&k, c, sec, false, &oom);
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
	for (size_t i = 0; i < k.n; i++)
		if (sec[i].changed && json_object_set_new(sections, k.name[i],
		    json_stringn_nocheck(wb_section_kept(&sec[i].s),
		    sec[i].s.len)) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
	*report = report_of(set, &k, sec, final_total, false);
out:
	free_sections(&k, sec);
	return st;
}

int
wb_budget_check(const struct wb_settings *set, const struct wb_counter *c,
    const json_t *sections, json_t **report, struct wb_err *err)
{
	struct section sec[WB_MAXCAT];
	struct cats k;
	uint64_t total;
	bool oom = false, over = false;
	int st;

	*report = NULL;
	cats_of(set, &k);
	if ((st = load_sections(&k, sections, sec, err)) != WB_OK)
		return st;
	for (size_t i = 0; i < k.n; i++) {
		if (!sec[i].present)
			continue;
		wb_section_measure(&sec[i].s, c);
		sec[i].ost = sec[i].s.st;
		if (sec[i].s.original_tokens > k.budget[i])
			over = true;
	}
	total = count_rendered(&k, c, sec, true, &oom);
	if (oom)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	*report = report_of(set, &k, sec, total, true);
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
