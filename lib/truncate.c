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

/* The statistics of s[i..len), from those of the whole and of s[0..i). */
static struct wb_tstats
suffix_stats(const struct wb_tstats *t, const struct wb_tstats *p, int next)
{
	struct wb_tstats r;

	if (p->bytes == t->bytes) {
		memset(&r, 0, sizeof(r));
		r.lead = r.trail = -1;
		return r;
	}
	r.bytes = t->bytes - p->bytes;
	r.scalars = t->scalars - p->scalars;
	r.punct = t->punct - p->punct;
	/* A word cut in two counts once in each part. */
	r.words = t->words - p->words + (p->trail == 0 && next == 0);
	r.lead = next;
	r.trail = t->trail;
	return r;
}

/*
 * Find the longest head (or tail) that fits with the ellipsis. Counts
 * from statistics are exact and cost O(1) per cut, so every cut is tried:
 * hybrid counts are not monotonic in the length, so a bisection could
 * miss the longest fit.
 */
static struct cuts
heuristic_cuts(const struct wb_counter_spec *spec, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const struct wb_tstats *e)
{
	const unsigned char *p = (const unsigned char *)s;
	struct cuts r = { NONE, NONE };
	struct wb_tstats t, pre, cand;
	int prev = -1, next;
	size_t i = 0, n = 0;
	uint32_t cp = 0;

	wb_tstats_of(&t, s, len);
	memset(&pre, 0, sizeof(pre));
	pre.lead = pre.trail = -1;
	for (;;) {
		next = -1;
		if (i < len) {
			n = wb_utf8_decode(p + i, len - i, &cp);
			next = wb_is_space(cp);
		}
		if (keep == WB_KEEP_HEAD && i < len) {
			cand = wb_tstats_cat(pre, *e);
			if (wb_tstats_count(spec, &cand) <= budget) {
				r.any = i;
				if (prev == 0 && next == 1)
					r.word = i;
			}
		} else if (keep == WB_KEEP_TAIL && i > 0) {
			struct wb_tstats suf = suffix_stats(&t, &pre, next);
			cand = wb_tstats_cat(*e, suf);
			if (wb_tstats_count(spec, &cand) <= budget) {
				if (r.any == NONE)
					r.any = i;
				if (r.word == NONE && prev == 1 && next == 0)
					r.word = i;
				if (r.word != NONE)
					break;
			}
		}
		if (i >= len)
			break;
		wb_tstats_add(&pre, cp, n);
		prev = next;
		i += n;
	}
	return r;
}

/* Cut s[0..len) to at most budget tokens, keeping as much as fits. */
int
wb_truncate(const struct wb_counter *c, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const char *ellipsis,
    struct wb_trunc *out, struct wb_err *err)
{
	size_t elen = strlen(ellipsis), cut, keep_len;
	struct wb_tstats e;
	struct cuts cuts;
	char *t;

	memset(out, 0, sizeof(*out));
	out->original_tokens = wb_count(c, s, len);
	if (out->original_tokens <= budget) {
		cut = keep == WB_KEEP_HEAD ? len : 0;
		elen = 0;
	} else {
		if (!c->ops->heuristic)
			return wb_err_set(err, WB_EINTERNAL,
			    "counter %s cannot truncate", c->name);
		wb_tstats_of(&e, ellipsis, elen);
		cuts = heuristic_cuts(&c->spec, s, len, budget, keep, &e);
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
