/* truncate.c: cut a text to a token budget, never over it. */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

#define NONE SIZE_MAX

/* Where a cut may fall, found by one pass over the text. */
struct cuts {
	size_t any;   /* the best cut at a character boundary */
	size_t word;  /* the best cut between a word and white space */
};

/* The character boundary after (right) or before off in s[0..len). */
static size_t
step(const char *s, size_t len, size_t off, bool right)
{
	const unsigned char *p = (const unsigned char *)s;

	if (right) {
		do
			off++;
		while (off < len && (p[off] & 0xC0) == 0x80);
	} else {
		do
			off--;
		while (off > 0 && (p[off] & 0xC0) == 0x80);
	}
	return off;
}

/* No text at all. */
static const struct wb_text_stats no_text = { .lead = -1, .trail = -1 };

/* The statistics of the scalar cp (n bytes) followed by a text with kept. */
static struct wb_text_stats
prepend(uint32_t cp, size_t n, struct wb_text_stats kept)
{
	struct wb_text_stats one = no_text;

	wb_text_stats_add(&one, cp, n);
	return wb_text_stats_cat(one, kept);
}

/*
 * Can a longer candidate than st fit again once st does not? Each method
 * counts a longer text as no fewer tokens; hybrid changes from char to
 * word at its threshold, so below it a longer text may count fewer.
 */
static bool
monotone(const struct wb_counter_spec *spec, const struct wb_text_stats *st)
{
	return spec->method != WB_METHOD_HYBRID ||
	    st->bytes >= spec->hybrid_threshold;
}

/*
 * Find the longest head (or tail) that fits with the ellipsis. Counts
 * from statistics are exact and cost O(1) per cut, so every cut is tried,
 * from the shortest kept text up: hybrid counts are not monotonic in the
 * length, so a bisection could miss the longest fit. The walk stops at
 * the first cut that does not fit where counts can only grow.
 */
static struct cuts
heuristic_cuts(const struct wb_counter_spec *spec, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const struct wb_text_stats *e)
{
	const unsigned char *p = (const unsigned char *)s;
	struct cuts r = { NONE, NONE };
	struct wb_text_stats kept = no_text, cand;
	int prev = -1, next;
	size_t i, j, n = 0;
	uint32_t cp = 0;

	if (keep == WB_KEEP_HEAD) {
		/* Cuts at i = 0, 1, ...: the head s[0..i) grows. */
		for (i = 0; i < len; i += n) {
			n = wb_utf8_decode(p + i, len - i, &cp);
			next = wb_is_space(cp);
			cand = wb_text_stats_cat(kept, *e);
			if (wb_text_stats_count(spec, &cand) <= budget) {
				r.any = i;
				if (prev == 0 && next == 1)
					r.word = i;
			} else if (monotone(spec, &cand)) {
				break;
			}
			wb_text_stats_add(&kept, cp, n);
			prev = next;
		}
		return r;
	}
	/* Cuts at i = len, ..., 1 (a scalar earlier each time): the tail
	 * s[i..len) grows; next is the scalar at i, prev the one before. */
	next = -1;
	for (i = len; i > 0; i = j) {
		j = step(s, len, i, false);
		n = wb_utf8_decode(p + j, len - j, &cp);
		prev = wb_is_space(cp);
		cand = wb_text_stats_cat(*e, kept);
		if (wb_text_stats_count(spec, &cand) <= budget) {
			r.any = i;
			if (prev == 1 && next == 0)
				r.word = i;
		} else if (monotone(spec, &cand)) {
			break;
		}
		kept = prepend(cp, n, kept);
		next = prev;
	}
	return r;
}

/* A candidate: the text kept by a cut, with the ellipsis, in buf. */
static size_t
candidate(char *buf, const char *s, size_t len, size_t cut, enum wb_keep keep,
    const char *ell, size_t elen)
{
	if (keep == WB_KEEP_HEAD) {
		memcpy(buf, s, cut);
		memcpy(buf + cut, ell, elen);
		return cut + elen;
	}
	memcpy(buf, ell, elen);
	memcpy(buf + elen, s + cut, len - cut);
	return elen + len - cut;
}

/* How many more cuts past the bisection's are tried, and word cuts before. */
#define LOOK_AHEAD 8
#define LOOK_BACK 8

/* Is the scalar that ends at cut (before) or starts there (!before) a space? */
static int
space_at(const char *s, size_t len, size_t cut, int before)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	if (before) {
		if (cut == 0)
			return -1;
		do
			cut--;
		while (cut > 0 && (p[cut] & 0xC0) == 0x80);
	} else if (cut >= len) {
		return -1;
	}
	wb_utf8_decode(p + cut, len - cut, &cp);
	return wb_is_space(cp);
}

/*
 * One exact truncation search. Cut number k keeps k characters; s may be
 * only the part of a longer text that holds cuts 0 to inside, the later
 * ones keeping text known to be over the budget. A cursor walks to each
 * cut from the last one tried, so no table of them is needed.
 */
struct search {
	const struct wb_counter *c;
	const char *s, *ell;
	size_t len, elen;
	enum wb_keep keep;
	uint64_t budget;
	size_t inside;
	size_t k, off;  /* the cursor: cut number k is at byte off */
	char *buf;
};

/* The byte offset of cut number k. */
static size_t
cut_at(struct search *x, size_t k)
{
	/* A head keeps more as its cut moves right, a tail as it moves left. */
	bool head = x->keep == WB_KEEP_HEAD;

	for (; x->k < k; x->k++)
		x->off = step(x->s, x->len, x->off, head);
	for (; x->k > k; x->k--)
		x->off = step(x->s, x->len, x->off, !head);
	return x->off;
}

/* Does the candidate of cut number k fit the budget? */
static bool
fits(struct search *x, size_t k)
{
	size_t n;

	if (k > x->inside)
		return false;
	n = candidate(x->buf, x->s, x->len, cut_at(x, k), x->keep, x->ell,
	    x->elen);
	return wb_count(x->c, x->buf, n) <= x->budget;
}

/*
 * Cuts for counters without text statistics (exact tokenizers), counting
 * whole candidates. Their counts grow with the text nearly but not
 * strictly, so a bisection over the character boundaries finds a long
 * fit in O(log n) counts, the few cuts just beyond it are tried too, and
 * the nearest cuts after a word are tried for the word cut. The caller
 * checks the result on the final text in any case. The text has outside
 * more characters than s, beyond the cuts that can fit.
 */
static int
exact_cuts(const struct wb_counter *c, const char *s, size_t len,
    uint64_t outside, uint64_t budget, enum wb_keep keep, const char *ell,
    struct cuts *r)
{
	struct search x = { c, s, ell, len, strlen(ell), keep, budget, 0, 0,
	    keep == WB_KEEP_HEAD ? 0 : len, NULL };
	size_t nb, lo, hi, mid, best = NONE, i, tried;

	r->any = r->word = NONE;
	for (i = 0; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			x.inside++;
	x.buf = malloc(len + x.elen + 1);
	if (x.buf == NULL)
		return -1;
	/* Cuts 0 to nb; the last keeps everything, which does not fit. */
	nb = x.inside + outside;
	lo = 0;
	hi = nb;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fits(&x, mid)) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (best != NONE) {
		for (i = best + 1; i < nb && i <= best + LOOK_AHEAD; i++)
			if (fits(&x, i))
				best = i;
		r->any = cut_at(&x, best);
		/* The nearest cuts after a word, from the longest down. */
		for (i = best, tried = 0; i > 0 && tried < LOOK_BACK; i--) {
			size_t cut = cut_at(&x, i);
			int before = space_at(s, len, cut, 1);
			int after = space_at(s, len, cut, 0);
			if (keep == WB_KEEP_HEAD ? before != 0 || after != 1 :
			    before != 1 || after != 0)
				continue;
			tried++;
			if (fits(&x, i)) {
				r->word = cut;
				break;
			}
		}
	}
	free(x.buf);
	return 0;
}

/*
 * Cut a text of original tokens to the budget. s[0..len) is all of it, or
 * (only when it is over the budget) its head or tail that holds every cut
 * the search could choose, with outside more characters beyond.
 */
static int
truncate_part(const struct wb_counter *c, const char *s, size_t len,
    uint64_t outside, uint64_t original, uint64_t budget, enum wb_keep keep,
    const char *ellipsis, struct wb_trunc *out, struct wb_err *err)
{
	size_t elen = strlen(ellipsis), cut, keep_len;
	struct wb_text_stats e;
	struct cuts cuts;
	char *t;

	memset(out, 0, sizeof(*out));
	out->original_tokens = original;
	if (out->original_tokens <= budget) {
		cut = keep == WB_KEEP_HEAD ? len : 0;
		elen = 0;
	} else {
		if (wb_counter_by_stats(c)) {
			wb_text_stats_of(&e, ellipsis, elen);
			cuts = heuristic_cuts(&c->spec, s, len, budget, keep, &e);
		} else if (exact_cuts(c, s, len, outside, budget, keep, ellipsis,
		    &cuts) != 0) {
			return wb_err_set(err, WB_EINTERNAL, "out of memory");
		}
		cut = cuts.word != NONE ? cuts.word : cuts.any;
		if (cut == NONE) {
			/* Not even the ellipsis fits. */
			cut = keep == WB_KEEP_HEAD ? 0 : len;
			elen = 0;
		}
		out->was_truncated = true;
	}
	keep_len = keep == WB_KEEP_HEAD ? cut : len - cut;
	t = malloc(keep_len + elen + 1);
	if (t == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	if (keep == WB_KEEP_HEAD) {
		memcpy(t, s, keep_len);
		memcpy(t + keep_len, ellipsis, elen);
	} else {
		memcpy(t, ellipsis, elen);
		memcpy(t + elen, s + cut, keep_len);
	}
	t[keep_len + elen] = '\0';
	out->text = t;
	out->len = keep_len + elen;
	/* The guarantee is checked on the final bytes, not inferred. */
	out->final_tokens = wb_count(c, t, out->len);
	if (out->final_tokens > budget) {
		free(t);
		out->text = NULL;
		return wb_err_set(err, WB_EINTERNAL,
		    "truncation left %llu tokens over a budget of %llu",
		    (unsigned long long)out->final_tokens,
		    (unsigned long long)budget);
	}
	return WB_OK;
}

int
wb_truncate(const struct wb_counter *c, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const char *ellipsis,
    struct wb_trunc *out, struct wb_err *err)
{
	return truncate_part(c, s, len, 0, wb_count(c, s, len), budget, keep,
	    ellipsis, out, err);
}

/*
 * A text truncated as it arrives. It keeps what the cut can keep: a head
 * until the text read so far is over the budget in a way no more text can
 * undo; a tail from the last place where the text after it alone is.
 */
struct wb_trunc_stream {
	const struct wb_counter *c;
	struct wb_count_stream *cs;   /* the count of the whole, and its UTF-8 check */
	uint64_t budget;
	enum wb_keep keep;
	const char *ell;
	struct wb_buf b;         /* the head, or the tail from byte start on */
	uint64_t start;
	bool full;               /* a head that can keep nothing more */
	uint64_t scalars;        /* characters of the text so far */
	size_t step, next;       /* look for what can go once len reaches next */
	size_t need;             /* exact tail: the stretch last found over */
};

struct wb_trunc_stream *
wb_trunc_stream_new(const struct wb_counter *c, uint64_t budget,
    enum wb_keep keep, const char *ellipsis)
{
	struct wb_trunc_stream *ts = calloc(1, sizeof(*ts));

	if (ts == NULL)
		return NULL;
	if ((ts->cs = wb_count_stream_new(c)) == NULL) {
		free(ts);
		return NULL;
	}
	ts->c = c;
	ts->budget = budget;
	ts->keep = keep;
	ts->ell = ellipsis;
	ts->step = ts->next = 65536;
	return ts;
}

void
wb_trunc_stream_set_step(struct wb_trunc_stream *ts, size_t n)
{
	ts->step = ts->next = n;
}

/* The end of the whole characters of s[0..len), valid UTF-8 so far. */
static size_t
whole_end(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = len;

	while (i > 0 && len - i < 3 && (p[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return 0;
	i--;
	return wb_utf8_seqlen(p + i, len - i) < 0 ? i : len;
}

/* Is a text with statistics st over the budget where counts only grow? */
static bool
over(const struct wb_counter_spec *spec, const struct wb_text_stats *st,
    uint64_t budget)
{
	return monotone(spec, st) && wb_text_stats_count(spec, st) > budget;
}

/*
 * Stop keeping a head once what is kept no longer fits where counts can
 * only grow: with statistics, past hybrid's threshold; with an encoding,
 * up to a cut where the tokens before it stay whatever follows (a left
 * cut), so that every longer head counts at least as much. No cut past it
 * can fit then, and the search needs the character after it, which is
 * kept too.
 */
static void
head_check(struct wb_trunc_stream *ts)
{
	const struct wb_text_stats *st = wb_count_stream_stats(ts->cs);
	size_t v, p;

	if (st != NULL) {
		if (over(&ts->c->spec, st, ts->budget)) {
			ts->b.len = (size_t)st->bytes;
			ts->full = true;
		}
		return;
	}
	v = whole_end(ts->b.p, ts->b.len);
	p = wb_counter_left_cut(ts->c, ts->b.p, 0, v);
	if (p > 0 && wb_count(ts->c, ts->b.p, p) > ts->budget) {
		ts->b.len = v;
		ts->full = true;
	}
	ts->next = 2 * ts->b.len + ts->step;
}

/*
 * The last character boundary before v where the text from it to v alone
 * is over the budget where counts can only grow, or 0. Statistics
 * concatenate, so whole blocks are scanned from the end first, and only
 * the block where the text goes over is walked a character at a time.
 */
static size_t
tail_over_heuristic(const struct wb_trunc_stream *ts, size_t v)
{
	const unsigned char *p = (const unsigned char *)ts->b.p;
	const struct wb_counter_spec *spec = &ts->c->spec;
	struct wb_text_stats kept = no_text, cand;
	size_t i = v, b, n;
	uint32_t cp;

	for (;;) {
		if (i == 0)
			return 0;
		b = i > ts->step ? i - ts->step : 0;
		while (b > 0 && (p[b] & 0xC0) == 0x80)
			b--;
		wb_text_stats_of(&cand, ts->b.p + b, i - b);
		cand = wb_text_stats_cat(cand, kept);
		if (over(spec, &cand, ts->budget))
			break;
		kept = cand;
		i = b;
	}
	while (i > b) {
		i = step(ts->b.p, v, i, false);
		n = wb_utf8_decode(p + i, v - i, &cp);
		kept = prepend(cp, n, kept);
		if (over(spec, &kept, ts->budget))
			return i;
	}
	return 0;  /* not reached: the block goes over */
}

/*
 * The count of s[d1..d2) as going on from the text before it, d1 a left
 * cut: the count from lookback before it less the count of what is
 * before it there (where the counts of both sides add up as texts of
 * their own, this is the count of s[d1..d2) alone).
 */
static uint64_t
count_after(const struct wb_trunc_stream *ts, size_t d1, size_t d2)
{
	size_t look = wb_counter_lookback(ts->c), d0 = 0;
	uint64_t all, before;

	if (d1 > look)
		d0 = step(ts->b.p, d1, d1 - look + 1, false);
	all = wb_count(ts->c, ts->b.p + d0, d2 - d0);
	before = wb_count(ts->c, ts->b.p + d0, d1 - d0);
	return all == UINT64_MAX || before > all ? 0 : all - before;
}

/*
 * The last left cut of an encoding before v where the text from it to a
 * later left cut, counted as going on from what is before it, is over
 * the budget, or 0. Every tail that starts before it (far enough that
 * the cut sees the same text before it) counts at least as much: the
 * tail's tokens after the first cut are those of the text from there on,
 * and the second cut splits those. The stretch to count doubles from
 * half the last one found, so that finding it costs a few times its
 * length.
 */
static size_t
tail_over_exact(struct wb_trunc_stream *ts, size_t v)
{
	size_t from = ts->start > 0 ? wb_counter_lookback(ts->c) : 0;
	size_t d1, d2, g = ts->need / 2 > ts->step / 16 ? ts->need / 2 :
	    ts->step / 16 + 1;

	if ((d2 = wb_counter_left_cut(ts->c, ts->b.p, from, v)) == 0)
		return 0;
	while (g < d2) {
		if ((d1 = wb_counter_left_cut(ts->c, ts->b.p, from,
		    d2 - g + 1)) == 0)
			return 0;
		if (count_after(ts, d1, d2) > ts->budget) {
			ts->need = d2 - d1;
			return d1;
		}
		g *= 2;
	}
	return 0;
}

/*
 * Drop the start of a tail that no cut can keep: everything before the
 * place found over the budget, less (with an encoding) one character and
 * the longest special token, so that a cut before what is kept still has
 * that place to add up at, and the search still has the character before
 * each cut it can choose.
 */
static void
tail_drop(struct wb_trunc_stream *ts)
{
	size_t v = whole_end(ts->b.p, ts->b.len), d, back = 0;

	if (wb_counter_by_stats(ts->c)) {
		d = tail_over_heuristic(ts, v);
	} else {
		d = tail_over_exact(ts, v);
		back = wb_counter_lookback(ts->c);
		back = back > 0 ? back : 1;
		d = d > back ? step(ts->b.p, v, d - back + 1, false) : 0;
	}
	if (d > 0) {
		memmove(ts->b.p, ts->b.p + d, ts->b.len - d);
		ts->b.len -= d;
		ts->start += d;
	}
	ts->next = 2 * ts->b.len + ts->step;
}

int
wb_trunc_stream_feed(struct wb_trunc_stream *ts, const char *buf, size_t len,
    struct wb_err *err)
{
	int st;

	if ((st = wb_count_stream_feed(ts->cs, buf, len, err)) != WB_OK)
		return st;
	for (size_t i = 0; i < len; i++)
		ts->scalars += (buf[i] & 0xC0) != 0x80;
	if (ts->full)
		return WB_OK;
	if (wb_buf_add(&ts->b, buf, len) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	if (ts->keep == WB_KEEP_HEAD &&
	    (wb_counter_by_stats(ts->c) || ts->b.len >= ts->next))
		head_check(ts);
	else if (ts->keep == WB_KEEP_TAIL && ts->b.len >= ts->next)
		tail_drop(ts);
	return WB_OK;
}

int
wb_trunc_stream_end(struct wb_trunc_stream *ts, struct wb_trunc *out,
    struct wb_err *err)
{
	uint64_t original, inside = 0;
	int st;

	memset(out, 0, sizeof(*out));
	if ((st = wb_count_stream_end(ts->cs, &original, err)) != WB_OK)
		return st;
	/* Only a text over the budget lets any of it go. */
	if (original <= ts->budget && (ts->full || ts->start > 0))
		return wb_err_set(err, WB_EINTERNAL,
		    "a text of %llu tokens was cut while read",
		    (unsigned long long)original);
	for (size_t i = 0; i < ts->b.len; i++)
		inside += (ts->b.p[i] & 0xC0) != 0x80;
	return truncate_part(ts->c, ts->b.p ? ts->b.p : "", ts->b.len,
	    ts->scalars - inside, original, ts->budget, ts->keep, ts->ell, out,
	    err);
}

size_t
wb_trunc_stream_held(const struct wb_trunc_stream *ts)
{
	return ts->b.len;
}

void
wb_trunc_stream_free(struct wb_trunc_stream *ts)
{
	if (ts == NULL)
		return;
	wb_count_stream_free(ts->cs);
	wb_buf_free(&ts->b);
	free(ts);
}
