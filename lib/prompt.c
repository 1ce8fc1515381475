/* prompt.c: an NPC's system prompt and chat, built within its budgets. */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

/* The order of the blocks in the system prompt, between role and format. */
static const enum wb_category display[] = {
	WB_CAT_SCENE, WB_CAT_LOCATION, WB_CAT_DIRECTORIAL, WB_CAT_CHARACTER,
	WB_CAT_PLAYER, WB_CAT_CHALLENGES, WB_CAT_NARRATIVE,
};
#define NDISPLAY (sizeof(display) / sizeof(display[0]))

/* Everything that is counted, and how much of it is kept. */
struct prompt {
	const struct wb_settings *set;
	const struct wb_counter *c;
	struct wb_render r;      /* the request's texts before budgets */
	struct wb_text_stats role_st, format_st, sep_st;
	struct wb_section blk[WB_NCAT];  /* the blocks of the system prompt */
	size_t first;           /* r.turns[first..r.nturns) are kept */
	char *last;             /* the newest turn cut to fit, or NULL */
	size_t last_len;
	struct wb_text_stats last_st;
	uint64_t last_billed;
	char *sum;              /* summarize_history: turns [0, first) */
	size_t sum_len;
	struct wb_text_stats sum_st;
	uint64_t sum_billed;
	struct wb_text_stats *suf;  /* statistics of r.turns[i..] joined */
	uint64_t *bsuf;         /* exact: what r.turns[i..] are billed */
	uint64_t sys_billed;    /* exact: the system prompt's bill, if valid */
	bool sys_valid;
	uint64_t hist_original, hist_final;
	uint64_t own_final[WB_NCAT];  /* each at its own budget, before shedding */
	bool hist_truncated, hist_dropped;
	struct wb_err *err;
};

static bool
heuristic(const struct prompt *p)
{
	return wb_counter_by_stats(p->c);
}

static struct wb_text_stats
history_stats(const struct prompt *p)
{
	struct wb_text_stats none = { 0, 0, 0, 0, -1, -1 };

	if (p->first >= p->r.nturns)
		return none;
	if (p->last != NULL)
		return p->last_st;
	if (p->sum != NULL)
		return wb_text_stats_cat(wb_text_stats_cat(p->sum_st, p->sep_st),
		    p->suf[p->first]);
	return p->suf[p->first];
}

static uint64_t count_history(const struct prompt *p, bool *oom);

/* What the chat API bills for a message: 3 tokens, its role, its content. */
static uint64_t
billed(const struct prompt *p, const char *role, const char *s, size_t len)
{
	return 3 + wb_count(p->c, role, strlen(role)) + wb_count(p->c, s, len);
}

/* Build the system prompt from the kept blocks. */
static void
render_system(const struct prompt *p, struct wb_buf *b)
{
	wb_buf_add(b, p->r.role.p, p->r.role.len);
	for (size_t i = 0; i < NDISPLAY; i++) {
		const struct wb_section *k = &p->blk[display[i]];
		if (k->len == 0)
			continue;
		wb_buf_adds(b, WB_SEP);
		wb_buf_add(b, wb_section_kept(k), k->len);
	}
	wb_buf_adds(b, WB_SEP);
	wb_buf_add(b, p->r.format.p, p->r.format.len);
}

/*
 * Count everything sent before the player's action: the system prompt,
 * then each kept turn, joined by blank lines. Heuristic counts come from
 * concatenated statistics, without building the text.
 */
static uint64_t
count_total(struct prompt *p, bool *oom)
{
	char stack[16384];
	struct wb_buf b = { .p = stack, .cap = sizeof(stack) };

	if (heuristic(p)) {
		struct wb_text_stats all = p->role_st, h;
		for (size_t i = 0; i < NDISPLAY; i++) {
			const struct wb_section *k = &p->blk[display[i]];
			if (k->len == 0)
				continue;
			all = wb_text_stats_cat(wb_text_stats_cat(all, p->sep_st), k->st);
		}
		all = wb_text_stats_cat(wb_text_stats_cat(all, p->sep_st), p->format_st);
		h = history_stats(p);
		if (h.bytes > 0)
			all = wb_text_stats_cat(wb_text_stats_cat(all, p->sep_st), h);
		return wb_text_stats_count(&p->c->spec, &all);
	}
	/* Exact: the messages as the chat API bills them. The system prompt
	 * is encoded again only when a block has changed. */
	if (!p->sys_valid) {
		render_system(p, &b);
		*oom |= b.oom;
		p->sys_billed = b.oom ? 0 : billed(p, "system", b.p, b.len);
		p->sys_valid = !b.oom;
		wb_buf_free(&b);
	}
	return p->sys_billed + count_history(p, oom);
}

/* Cut a block from its base to b tokens. */
static int
cut_block(struct prompt *p, struct wb_section *k, uint64_t b)
{
	int st;

	if ((st = wb_section_cut(k, p->c, b, WB_KEEP_HEAD, p->err)) != WB_OK)
		return st;
	p->sys_valid = false;
	return WB_OK;
}

/* Fit the newest turn alone by cutting its text, keeping the speaker. */
struct last_trial {
	struct prompt *p;
	uint64_t limit;          /* the history budget, or UINT64_MAX */
	bool total;              /* also check the whole */
};

static int
set_last(struct prompt *p, uint64_t b)
{
	const struct wb_turn *t = &p->r.turns[p->r.nturns - 1];
	struct wb_trunc tr;
	struct wb_buf nb = { 0 };
	size_t len;
	char *last;
	int st;

	if ((st = wb_truncate(p->c, t->content + t->prefix, t->len - t->prefix, b,
	    WB_KEEP_TAIL, WB_ELLIPSIS, &tr, p->err)) != WB_OK)
		return st;
	wb_buf_add(&nb, t->content, t->prefix);
	wb_buf_add(&nb, tr.text, tr.len);
	free(tr.text);
	len = nb.len;
	if ((last = wb_buf_take(&nb)) == NULL)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	free(p->last);
	p->last = last;
	p->last_len = len;
	if (heuristic(p))
		wb_text_stats_of(&p->last_st, last, len);
	else
		p->last_billed = billed(p, t->assistant ? "assistant" : "user",
		    last, len);
	return WB_OK;
}

/*
 * Count the kept history. Heuristic counts are of the turns joined by
 * blank lines; exact ones are what the chat API bills for them as
 * messages: 3 tokens each, with the tokens of the role and content.
 */
static uint64_t
count_history(const struct prompt *p, bool *oom)
{
	uint64_t n = 0;

	(void)oom;
	if (heuristic(p)) {
		struct wb_text_stats h = history_stats(p);
		return wb_text_stats_count(&p->c->spec, &h);
	}
	if (p->first >= p->r.nturns)
		return 0;
	if (p->last != NULL)
		return p->last_billed;
	n = p->bsuf[p->first];
	return p->sum != NULL ? n + p->sum_billed : n;
}

static int
last_fits(void *ctx, uint64_t b)
{
	struct last_trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = set_last(t->p, b)) != WB_OK)
		return -st;
	if (count_history(t->p, &oom) > t->limit)
		return 0;
	if (t->total && count_total(t->p, &oom) > t->p->set->total)
		return 0;
	return oom ? -wb_err_set(t->p->err, WB_EINTERNAL, "out of memory") : 1;
}

/* Keep only the newest turn, cut to fit; or drop the history. */
static int
fit_last_turn(struct prompt *p, uint64_t limit, bool total)
{
	struct last_trial t = { p, limit, total };
	const struct wb_turn *last = &p->r.turns[p->r.nturns - 1];
	uint64_t best;
	int st;

	p->first = p->r.nturns - 1;
	p->hist_truncated = true;
	if ((st = wb_search_fit(last->len, last_fits, &t, &best)) != WB_OK)
		return st;
	if (best != UINT64_MAX && (st = set_last(p, best)) != WB_OK)
		return st;
	/* A speaker with nothing said, or only an ellipsis, is no turn. */
	if (best != UINT64_MAX && (p->last_len == last->prefix ||
	    (p->last_len == last->prefix + strlen(WB_ELLIPSIS) &&
	    memcmp(p->last + last->prefix, WB_ELLIPSIS,
	    strlen(WB_ELLIPSIS)) == 0)))
		best = UINT64_MAX;
	if (best == UINT64_MAX) {
		p->first = p->r.nturns;
		p->hist_dropped = true;
		free(p->last);
		p->last = NULL;
	}
	return WB_OK;
}

/* Keep the newest whole turns within the history budget, never a gap. */
static int
fit_history(struct prompt *p)
{
	uint64_t b = p->set->budget[WB_CAT_HISTORY];
	bool oom = false;

	p->first = p->r.nturns;
	if (p->r.nturns == 0)
		return WB_OK;
	/* O(1) a step with heuristic counters, from the suffix statistics. */
	while (p->first > 0) {
		p->first--;
		if (count_history(p, &oom) > b) {
			p->first++;
			break;
		}
	}
	if (oom)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	if (p->first < p->r.nturns) {
		p->hist_truncated = p->first > 0;
		return WB_OK;
	}
	return fit_last_turn(p, b, false);
}

/* Shed history to meet the total: drop old turns, then cut the last. */
static int
shed_history(struct prompt *p, bool *fits)
{
	bool oom = false;
	int st;

	if (p->first >= p->r.nturns)
		return WB_OK;
	if (p->last == NULL) {
		while (p->first < p->r.nturns - 1 &&
		    count_total(p, &oom) > p->set->total) {
			p->first++;
			p->hist_truncated = true;
		}
		if (count_total(p, &oom) > p->set->total &&
		    (st = fit_last_turn(p, p->set->budget[WB_CAT_HISTORY], true)))
			return st;
	} else if (count_total(p, &oom) > p->set->total &&
	    (st = fit_last_turn(p, p->set->budget[WB_CAT_HISTORY], true))) {
		return st;
	}
	*fits = count_total(p, &oom) <= p->set->total;
	return oom ? wb_err_set(p->err, WB_EINTERNAL, "out of memory") : WB_OK;
}

struct block_trial {
	struct prompt *p;
	struct wb_section *k;
};

static int
block_fits(void *ctx, uint64_t b)
{
	struct block_trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = cut_block(t->p, t->k, b)) != WB_OK)
		return -st;
	if (count_total(t->p, &oom) <= t->p->set->total)
		return 1;
	return oom ? -wb_err_set(t->p->err, WB_EINTERNAL, "out of memory") : 0;
}

static void
drop_block(struct prompt *p, struct wb_section *k)
{
	p->sys_valid = false;
	wb_section_drop(k);
}

/*
 * Shed a block to meet the total: cut it to the largest budget up to hi
 * with which the whole fits, else drop it. A block that may not be
 * dropped is cut to its smallest useful size instead, and *fits says
 * whether the whole fits.
 */
static int
shed_block(struct prompt *p, enum wb_category cat, bool may_drop, uint64_t hi,
    bool *fits)
{
	struct block_trial t = { p, &p->blk[cat] };
	struct wb_section *k = &p->blk[cat];
	uint64_t best = UINT64_MAX;
	bool oom = false;
	int st;

	if (k->base_len == 0)
		return WB_OK;
	if ((st = wb_search_fit(hi, block_fits, &t, &best)) != WB_OK)
		return st;
	if (best != UINT64_MAX && (st = cut_block(p, k, best)) != WB_OK)
		return st;
	if (best == UINT64_MAX || wb_section_is_empty(k)) {
		if (may_drop) {
			drop_block(p, k);
		} else {
			/* The first budget that keeps more than the ellipsis. */
			for (uint64_t b = 1; b <= hi; b++) {
				if ((st = cut_block(p, k, b)) != WB_OK)
					return st;
				if (!wb_section_is_empty(k))
					break;
			}
		}
	}
	*fits = count_total(p, &oom) <= p->set->total;
	return oom ? wb_err_set(p->err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The largest budget a block can be cut to: its own, or its size. */
static uint64_t
room(const struct prompt *p, enum wb_category cat)
{
	const struct wb_section *k = &p->blk[cat];

	return k->original_tokens < p->set->budget[cat] ? k->original_tokens :
	    p->set->budget[cat];
}

/*
 * Shed the sections in turn, from the least important. The scene and the
 * character are cut but never dropped: the scene first, to its smallest
 * if need be; then the character; then the scene grows back into
 * whatever room the character left.
 */
static int
shed_all(struct prompt *p, bool *fits)
{
	int st = WB_OK;

	for (int i = WB_NCAT - 1; !*fits && st == WB_OK && i >= 0; i--) {
		enum wb_category cat = wb_priority[i];
		if (cat == WB_CAT_HISTORY)
			st = shed_history(p, fits);
		else if (cat != WB_CAT_SCENE && cat != WB_CAT_CHARACTER)
			st = shed_block(p, cat, true, room(p, cat), fits);
	}
	if (*fits || st != WB_OK)
		return st;
	if ((st = shed_block(p, WB_CAT_SCENE, false, room(p, WB_CAT_SCENE),
	    fits)) != WB_OK || *fits)
		return st;
	if ((st = shed_block(p, WB_CAT_CHARACTER, false,
	    room(p, WB_CAT_CHARACTER), fits)) != WB_OK || !*fits)
		return st;
	return shed_block(p, WB_CAT_SCENE, false, room(p, WB_CAT_SCENE), fits);
}

/* Put the scene and the character back at their own budgets. */
static int
restore(struct prompt *p)
{
	static const enum wb_category both[] = { WB_CAT_SCENE, WB_CAT_CHARACTER };
	int st;

	for (int i = 0; i < 2; i++) {
		struct wb_section *k = &p->blk[both[i]];
		if (k->base_len == 0)
			continue;
		if ((st = cut_block(p, k, p->set->budget[both[i]])) != WB_OK)
			return st;
	}
	return WB_OK;
}

/* The summary turn: who says it, and what stands before the summary. */
#define SUM_ROLE "user"
#define SUM_HEAD "Earlier in the conversation: "

/* Set the summary turn to SUM_HEAD and text, or none for NULL. */
static int
set_summary(struct prompt *p, const char *text, size_t len)
{
	struct wb_buf b = { 0 };

	free(p->sum);
	p->sum = NULL;
	p->sum_len = 0;
	if (text == NULL)
		return WB_OK;
	wb_buf_adds(&b, SUM_HEAD);
	wb_buf_add(&b, text, len);
	p->sum_len = b.len;
	if ((p->sum = wb_buf_take(&b)) == NULL)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	if (heuristic(p))
		wb_text_stats_of(&p->sum_st, p->sum, p->sum_len);
	else
		p->sum_billed = billed(p, SUM_ROLE, p->sum, p->sum_len);
	return WB_OK;
}

/* The tokens the history and the whole may still take. */
static uint64_t
room_left(struct prompt *p, bool *oom)
{
	uint64_t hb = p->set->budget[WB_CAT_HISTORY], h, t;

	h = count_history(p, oom);
	t = count_total(p, oom);
	if (h >= hb || t >= p->set->total)
		return 0;
	return hb - h < p->set->total - t ? hb - h : p->set->total - t;
}

/*
 * summarize_history: the oldest turns that were dropped, summarized into
 * one turn before the kept ones. The summary gets the room the kept turns
 * leave in the history budget and the total; while that is less than a
 * quarter of the history budget, the oldest kept turns join the dropped
 * ones (the newest turn always stays). The summary turn is counted as it
 * is sent and used only if everything still fits; otherwise the turns
 * stay dropped and summary_error says why.
 */
static int
summarize_dropped(struct prompt *p)
{
	const struct wb_settings *s = p->set;
	struct wb_section *k = &p->blk[WB_CAT_HISTORY];
	struct wb_buf text = { 0 };
	struct wb_err e = { 0 };
	size_t first = p->first;
	uint64_t want = s->budget[WB_CAT_HISTORY] / 4, left, head, n;
	bool oom = false;
	char *sum = NULL;
	size_t slen = 0;
	int st;

	if (!s->summarize_history || !s->enable_summarization ||
	    s->summarize_command[0] == '\0' || p->first == 0 ||
	    p->first >= p->r.nturns || p->last != NULL)
		return WB_OK;
	while ((left = room_left(p, &oom)) < want && p->first < p->r.nturns - 1)
		p->first++;
	/* What the summary turn costs with nothing summarized. */
	if ((st = set_summary(p, "", 0)) != WB_OK)
		return st;
	head = count_total(p, &oom);
	if ((st = set_summary(p, NULL, 0)) != WB_OK)
		return st;
	head = head > count_total(p, &oom) ? head - count_total(p, &oom) : 0;
	if (left <= head) {
		p->first = first;
		snprintf(k->summary_error, sizeof(k->summary_error),
		    "no room for a summary within the budgets");
		return oom ? wb_err_set(p->err, WB_EINTERNAL, "out of memory") :
		    WB_OK;
	}
	for (size_t i = 0; i < p->first; i++) {
		if (i > 0)
			wb_buf_adds(&text, WB_SEP);
		wb_buf_add(&text, p->r.turns[i].content, p->r.turns[i].len);
	}
	if (text.oom) {
		wb_buf_free(&text);
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	}
	st = wb_summarize(s->summarize_command, s->summarize_timeout,
	    wb_category_name(WB_CAT_HISTORY), left - head, text.p, text.len,
	    &sum, &slen, &e);
	wb_buf_free(&text);
	if (st == WB_OK) {
		if ((st = set_summary(p, sum, slen)) != WB_OK) {
			free(sum);
			return st;
		}
		free(sum);
		if (count_history(p, &oom) > s->budget[WB_CAT_HISTORY] ||
		    count_total(p, &oom) > s->total) {
			n = p->sum_billed;
			if (heuristic(p))
				n = wb_text_stats_count(&p->c->spec, &p->sum_st);
			wb_err_set(&e, WB_EDATA, "summary turn has %llu tokens, "
			    "over the room of %llu", (unsigned long long)n,
			    (unsigned long long)left);
			st = WB_EDATA;
			(void)set_summary(p, NULL, 0);
		}
	}
	if (oom)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	if (st != WB_OK) {
		p->first = first;
		snprintf(k->summary_error, sizeof(k->summary_error), "%s", e.msg);
		return WB_OK;
	}
	k->summarized = true;
	return WB_OK;
}

static void
prompt_free(struct prompt *p)
{
	for (int i = 0; i < WB_NCAT; i++)
		wb_section_free(&p->blk[i]);
	free(p->suf);
	free(p->bsuf);
	free(p->last);
	free(p->sum);
	wb_render_free(&p->r);
}

/* Render the request and measure every part, as it is without budgets. */
static int
prepare(struct prompt *p, const json_t *req)
{
	bool oom = false;
	size_t i, n;
	int st;

	if ((st = wb_render_request(p->set, req, &p->r, p->err)) != WB_OK)
		return st;
	for (int c = 0; c < WB_NCAT; c++) {
		struct wb_section *k = &p->blk[c];
		const struct wb_buf *o = &p->r.block[c];
		wb_section_init(k, o->p ? o->p : "", o->len, p->r.head[c]);
		wb_section_measure(k, p->c);
	}
	n = p->r.nturns;
	p->suf = calloc(n + 1, sizeof(*p->suf));
	p->bsuf = calloc(n + 1, sizeof(*p->bsuf));
	if (p->suf == NULL || p->bsuf == NULL)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	/* Suffix statistics make each "newest k turns" count O(1). */
	for (i = n; i-- > 0;) {
		const struct wb_turn *t = &p->r.turns[i];
		struct wb_text_stats ts;
		if (!heuristic(p)) {
			p->bsuf[i] = p->bsuf[i + 1] + billed(p, t->assistant ?
			    "assistant" : "user", t->content, t->len);
			continue;
		}
		wb_text_stats_of(&ts, t->content, t->len);
		p->suf[i] = i == n - 1 ? ts :
		    wb_text_stats_cat(wb_text_stats_cat(ts, p->sep_st), p->suf[i + 1]);
	}
	if (heuristic(p)) {
		wb_text_stats_of(&p->role_st, p->r.role.p ? p->r.role.p : "",
		    p->r.role.len);
		wb_text_stats_of(&p->format_st, p->r.format.p ? p->r.format.p : "",
		    p->r.format.len);
	}
	p->first = 0;
	p->hist_original = count_history(p, &oom);
	return WB_OK;
}

static json_t *
message(const char *role, const char *s, size_t len)
{
	return json_pack("{s:s,s:s%}", "role", role, "content", s, len);
}

/* The report of one prompt, in the words of wb(7). */
static json_t *
report(const struct prompt *p, uint64_t total, bool fits)
{
	json_t *r = json_object(), *cats = json_object(), *o;

	for (int i = 0; i < WB_NCAT; i++) {
		enum wb_category c = wb_priority[i];
		const struct wb_section *k = &p->blk[c];
		bool history = c == WB_CAT_HISTORY;
		uint64_t final = history ? p->hist_final : k->final_tokens;
		bool shed = final < p->own_final[c];
		const char *why = wb_section_reason(k, shed);
		/* The history says first what became of its dropped turns. */
		if (history)
			why = k->summary_error[0] ? "summary_failed" :
			    k->summarized ? "summarized" : shed ? "shed" :
			    p->hist_truncated ? "own_budget" : "fits";
		o = json_pack("{s:I,s:I,s:I}", "original_tokens",
		    (json_int_t)(history ? p->hist_original : k->original_tokens),
		    "budget", (json_int_t)p->set->budget[c], "final_tokens",
		    (json_int_t)final);
		json_object_set_new_nocheck(o, "reason", json_string_nocheck(why));
		if (k->summary_error[0])
			json_object_set_new(o, "summary_error",
			    json_string(k->summary_error));
		json_object_set_new(cats, wb_category_name(c), o);
	}
	json_object_set_new(r, "sections", cats);
	json_object_set_new(r, "total", json_pack("{s:I,s:I,s:b}", "budget",
	    (json_int_t)p->set->total, "final_tokens", (json_int_t)total,
	    "over", !fits));
	json_object_set_new(r, "history_turns_kept",
	    json_integer((json_int_t)(p->r.nturns - p->first)));
	json_object_set_new(r, "history_turns_dropped",
	    json_integer((json_int_t)p->first));
	if (p->sum != NULL)
		json_object_set_new(r, "history_turns_summarized",
		    json_integer((json_int_t)p->first));
	return r;
}

int
wb_prompt_build(const struct wb_settings *s, const struct wb_counter *c,
    const json_t *req, bool allow_over, struct wb_prompt_out *out,
    struct wb_err *err)
{
	struct prompt p = { .set = s, .c = c, .err = err };
	struct wb_buf sys = { 0 }, user = { 0 };
	bool fits, oom = false;
	uint64_t total;
	int st;

	memset(out, 0, sizeof(*out));
	if ((st = wb_request_check(req, err)) != WB_OK)
		return st;
	wb_text_stats_of(&p.sep_st, WB_SEP, strlen(WB_SEP));
	if ((st = prepare(&p, req)) != WB_OK)
		goto done;
	/* Each category to its own budget. */
	for (int i = 0; i < WB_NCAT; i++) {
		struct wb_section *k = &p.blk[i];
		if (i == WB_CAT_HISTORY || k->original_tokens <= s->budget[i])
			continue;
		if (s->enable_summarization && s->summarize_command[0])
			wb_section_summarize(k, s, c, wb_category_name(
			    (enum wb_category)i), s->budget[i]);
		if ((st = cut_block(&p, k, s->budget[i])) != WB_OK)
			goto done;
		/* A heading with nothing under it says nothing: drop it. */
		if (wb_section_is_empty(k))
			drop_block(&p, k);
	}
	if ((st = fit_history(&p)) != WB_OK)
		goto done;
	for (int i = 0; i < WB_NCAT; i++)
		p.own_final[i] = i == WB_CAT_HISTORY ? count_history(&p, &oom) :
		    p.blk[i].final_tokens;
	/* Then the whole, shedding the least important first. */
	fits = count_total(&p, &oom) <= s->total;
	if ((st = shed_all(&p, &fits)) != WB_OK)
		goto done;
	total = count_total(&p, &oom);
	fits = total <= s->total;
	if (fits && (st = summarize_dropped(&p)) != WB_OK)
		goto done;
	if (!fits && !allow_over) {
		p.hist_final = count_history(&p, &oom);
		out->report = report(&p, total, fits);
		st = wb_err_set(err, WB_ECHECK, "the prompt needs at least %llu "
		    "tokens, over the budget of %llu, with every other section "
		    "dropped and the character and scene cut to their smallest",
		    (unsigned long long)total, (unsigned long long)s->total);
		goto done;
	}
	/* Over anyway: the scene and character at least keep their budgets. */
	if (!fits && (st = restore(&p)) != WB_OK)
		goto done;
	p.hist_final = count_history(&p, &oom);
	total = count_total(&p, &oom);
	if (oom) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto done;
	}
	out->report = report(&p, total, fits);
	render_system(&p, &sys);
	wb_render_action(&user, req);
	if (sys.oom || user.oom) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto done;
	}
	out->messages = json_array();
	json_array_append_new(out->messages, message("system", sys.p, sys.len));
	if (p.sum != NULL)
		json_array_append_new(out->messages, message(SUM_ROLE, p.sum,
		    p.sum_len));
	for (size_t i = p.first; i < p.r.nturns; i++) {
		const struct wb_turn *t = &p.r.turns[i];
		bool cut = p.last != NULL && i == p.r.nturns - 1;
		json_array_append_new(out->messages, message(t->assistant ?
		    "assistant" : "user", cut ? p.last : t->content,
		    cut ? p.last_len : t->len));
	}
	json_array_append_new(out->messages, message("user", user.p, user.len));
	out->system_len = sys.len;
	out->system = wb_buf_take(&sys);
	st = WB_OK;  /* over the budget only when allowed, and reported */
done:
	wb_buf_free(&sys);
	wb_buf_free(&user);
	prompt_free(&p);
	return st;
}

void
wb_prompt_out_free(struct wb_prompt_out *out)
{
	free(out->system);
	json_decref(out->messages);
	json_decref(out->report);
	memset(out, 0, sizeof(*out));
}
