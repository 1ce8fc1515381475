/* text_stats.c: the engine's heuristic counts, from text statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Bit 0: White_Space; bit 1: one of the characters the word count adds. */
static const unsigned char ascii_class[128] = {
	['\t'] = 3, ['\n'] = 3, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
	['"'] = 2, ['\''] = 2, ['('] = 2, [')'] = 2, ['['] = 2, [']'] = 2,
	['{'] = 2, ['}'] = 2,
};

#ifdef __SSE2__
/* The bytes of v equal to c, as a mask. */
#define EQ(v, c) _mm_cmpeq_epi8((v), _mm_set1_epi8((char)(c)))

/* The bytes of v from lo to hi (unsigned), as a mask. */
static inline __m128i
in_range(__m128i v, unsigned char lo, unsigned char hi)
{
	return _mm_and_si128(
	    _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)lo)), v),
	    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8((char)hi)), v));
}

/* The sum of the bytes of v. */
static inline uint64_t
sum_bytes(__m128i v)
{
	__m128i s = _mm_sad_epu8(v, _mm_setzero_si128());

	return (uint64_t)_mm_cvtsi128_si32(s) +
	    (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
}

/*
 * The run of whole blocks of sixteen ASCII bytes at p[*i..len), with the
 * classes of ascii_class as byte masks: White_Space is \t..\r and the
 * space; the word count adds \t \n " ' ( ) [ ] { }.  A word starts at a
 * byte that is not a space after one that is (at the first, after *prev).
 * The counts gather in bytes, 255 blocks at most; returns where the first
 * other byte is, or len when none.
 */
static size_t
ascii_run(const unsigned char *p, size_t *i, size_t len, unsigned *prev,
    uint64_t *words, uint64_t *punct)
{
	__m128i zero = _mm_setzero_si128(), aw = zero, ap = zero;
	__m128i last = *prev ? _mm_set1_epi8(-1) : zero, v, sp, pu;
	size_t other = len;
	unsigned m, k = 0;

	while (len - *i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(p + *i));
		if ((m = (unsigned)_mm_movemask_epi8(v)) != 0) {
			other = *i + (size_t)__builtin_ctz(m);
			break;
		}
		sp = _mm_or_si128(in_range(v, '\t', '\r'), EQ(v, ' '));
		pu = _mm_or_si128(_mm_or_si128(in_range(v, '\t', '\n'),
		    EQ(v, '"')), _mm_or_si128(in_range(v, '\'', ')'),
		    _mm_or_si128(_mm_or_si128(EQ(v, '['), EQ(v, ']')),
		    _mm_or_si128(EQ(v, '{'), EQ(v, '}')))));
		/* A mask is -1 a byte: subtracting it counts. */
		aw = _mm_sub_epi8(aw, _mm_andnot_si128(sp, _mm_or_si128(
		    _mm_slli_si128(sp, 1), _mm_srli_si128(last, 15))));
		ap = _mm_sub_epi8(ap, pu);
		last = sp;
		*i += 16;
		if (++k == 255) {
			*words += sum_bytes(aw);
			*punct += sum_bytes(ap);
			aw = ap = zero;
			k = 0;
		}
	}
	*words += sum_bytes(aw);
	*punct += sum_bytes(ap);
	*prev = (unsigned)_mm_movemask_epi8(last) >> 15;
	return other;
}
#endif

/* The length of the whole valid character of two to four bytes at
 * p[0..len), or 0 (ASCII, invalid, or cut short: wb_utf8_seqlen says). */
static inline int
whole_len(const unsigned char *p, size_t len)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xBF;

	if (b < 0xC2 || b > 0xF4)
		return 0;
	if (b < 0xE0)
		return len >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (b == 0xE0 || b == 0xF0)
		lo = b == 0xE0 ? 0xA0 : 0x90;
	else if (b == 0xED || b == 0xF4)
		hi = 0x8F + (b == 0xED) * 0x10;
	if (len < 2 || p[1] < lo || p[1] > hi)
		return 0;
	if (b < 0xF0)
		return len >= 3 && (p[2] & 0xC0) == 0x80 ? 3 : 0;
	return len >= 4 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ?
	    4 : 0;
}

/* How much text to scan between checks of a count limit. */
#define LIMIT_STEP 65536

void
wb_stats_scan_init(struct wb_stats_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->st.lead = sc->st.trail = -1;
}

void
wb_text_stats_add(struct wb_text_stats *st, uint32_t cp, size_t n)
{
	int sp = wb_is_space(cp);

	if (!sp && st->trail != 0)
		st->words++;
	if (cp < 0x80 && (ascii_class[cp] & 2))
		st->punct++;
	if (st->lead < 0)
		st->lead = sp;
	st->trail = sp;
	st->scalars++;
	st->bytes += n;
}

/* Complete a UTF-8 sequence cut by the previous piece; returns bytes used. */
static size_t
finish_pending(struct wb_stats_scan *sc, const unsigned char *p, size_t len,
    struct wb_err *err)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		sc->pend[sc->npend++] = p[i++];
		n = wb_utf8_seqlen(sc->pend, (size_t)sc->npend);
		if (n == 0) {
			err->offset = sc->st.bytes;
			wb_err_set(err, WB_EDATA, "invalid UTF-8 at byte offset %llu",
			    (unsigned long long)sc->st.bytes);
			return SIZE_MAX;
		}
		if (n > 0) {
			wb_utf8_decode(sc->pend, (size_t)n, &cp);
			wb_text_stats_add(&sc->st, cp, (size_t)n);
			sc->npend = 0;
			break;
		}
	}
	return i;
}

int
wb_stats_scan_feed(struct wb_stats_scan *sc, const char *s, size_t len,
    struct wb_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	struct wb_text_stats *st = &sc->st;
	uint64_t words, punct, ascii = 0;
	unsigned prev;
	size_t i = 0, base;
#ifdef __SSE2__
	size_t resume = 0;      /* where to try sixteen bytes again */
#endif
	uint32_t cp;
	int n;

	if (sc->npend > 0) {
		i = finish_pending(sc, p, len, err);
		if (i == SIZE_MAX)
			return WB_EDATA;
	}
	/* The fast loop below does not track the lead; take it here. */
	while (st->lead < 0 && i < len && sc->npend == 0) {
		n = wb_utf8_seqlen(p + i, len - i);
		if (n <= 0)
			break;
		i += wb_utf8_decode(p + i, (size_t)n, &cp);
		wb_text_stats_add(st, cp, (size_t)n);
	}
	base = i;
	prev = st->trail != 0;  /* 1: not inside a word */
	words = st->words;
	punct = st->punct;
	while (i < len) {
		unsigned char b = p[i];

		if (b < 0x80) {
#ifdef __SSE2__
			/* Runs of ASCII sixteen bytes at a time; up to the first
			 * other byte (and its character) one at a time.  Tried
			 * where two ASCII bytes start a run, not at every space
			 * between words of another script. */
			if (i >= resume && len - i >= 16 && p[i + 1] < 0x80) {
				size_t from = i;

				resume = ascii_run(p, &i, len, &prev, &words,
				    &punct) + 1;
				ascii += i - from;
				continue;
			}
#endif
			unsigned c = ascii_class[b], sp = c & 1;
			words += prev & (sp ^ 1);
			punct += c >> 1;
			prev = sp;
			ascii++;
			i++;
			continue;
		}
		/* Whole valid characters of two, three and four bytes (every
		 * script) without a call: a lead and continuation bytes, the
		 * second in the range its lead allows (E0, ED, F0 and F4 allow
		 * less).  Of these only C2 85, C2 A0 and some of E1..E3 are
		 * White_Space. */
		if ((n = whole_len(p + i, len - i)) > 0) {
			unsigned sp = 0;

			if (b == 0xC2)
				sp = p[i + 1] == 0x85 || p[i + 1] == 0xA0;
			else if (b >= 0xE1 && b <= 0xE3)
				sp = wb_is_space((uint32_t)(b & 0x0F) << 12 |
				    (uint32_t)(p[i + 1] & 0x3F) << 6 |
				    (uint32_t)(p[i + 2] & 0x3F));
			words += prev & (sp ^ 1);
			prev = sp;
			st->scalars++;
			i += (size_t)n;
			continue;
		}
		n = wb_utf8_seqlen(p + i, len - i);
		if (n < 0) {
			memcpy(sc->pend, p + i, len - i);
			sc->npend = (int)(len - i);
			break;
		}
		if (n == 0) {
			uint64_t off = st->bytes + (i - base);
			err->offset = off;
			return wb_err_set(err, WB_EDATA,
			    "invalid UTF-8 at byte offset %llu",
			    (unsigned long long)off);
		}
		wb_utf8_decode(p + i, (size_t)n, &cp);
		unsigned sp = wb_is_space(cp);
		words += prev & (sp ^ 1);
		prev = sp;
		st->scalars++;
		i += (size_t)n;
	}
	st->bytes += i - base;
	st->scalars += ascii;
	st->words = words;
	st->punct = punct;
	if (st->lead >= 0 && i > base)
		st->trail = (int)prev;
	return WB_OK;
}

void
wb_text_stats_of(struct wb_text_stats *st, const char *s, size_t len)
{
	struct wb_stats_scan sc;
	struct wb_err err;

	wb_stats_scan_init(&sc);
	wb_stats_scan_feed(&sc, s, len, &err);
	*st = sc.st;
}

struct wb_text_stats
wb_text_stats_cat(struct wb_text_stats a, struct wb_text_stats b)
{
	struct wb_text_stats r;

	r.bytes = a.bytes + b.bytes;
	r.scalars = a.scalars + b.scalars;
	r.punct = a.punct + b.punct;
	r.words = a.words + b.words - (a.trail == 0 && b.lead == 0);
	r.lead = a.lead >= 0 ? a.lead : b.lead;
	r.trail = b.trail >= 0 ? b.trail : a.trail;
	return r;
}

/* Counts stop at WB_MAX_TOKENS, so that absurd parameters cannot wrap them. */
static uint64_t
clamp(double d)
{
	return d >= (double)WB_MAX_TOKENS ? WB_MAX_TOKENS : (uint64_t)d;
}

static uint64_t
count_chars(const struct wb_counter_spec *spec, const struct wb_text_stats *st)
{
	return clamp(ceil((double)st->scalars / spec->chars_per_token));
}

static uint64_t
count_words(const struct wb_counter_spec *spec, const struct wb_text_stats *st)
{
	uint64_t base = clamp(ceil((double)st->words * spec->tokens_per_word));
	uint64_t half = st->punct / 2;  /* floor(P / 2), as the engine has it */

	return base > WB_MAX_TOKENS - half ? WB_MAX_TOKENS : base + half;
}

uint64_t
wb_text_stats_count(const struct wb_counter_spec *spec,
    const struct wb_text_stats *st)
{
	enum wb_method m = spec->method;

	if (st->bytes == 0)
		return 0;
	if (m == WB_METHOD_HYBRID)
		m = st->bytes < spec->hybrid_threshold ? WB_METHOD_CHAR :
		    WB_METHOD_WORD;
	return m == WB_METHOD_CHAR ? count_chars(spec, st) :
	    count_words(spec, st);
}

/* Count by statistics, in steps, so that a limit can end the scan early. */
static uint64_t
heuristic_count(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	struct wb_counter_spec spec = c->spec;
	struct wb_stats_scan sc;
	struct wb_err err;
	size_t off = 0, step;

	/* The length is known, so hybrid is one method here: counts grow. */
	if (spec.method == WB_METHOD_HYBRID)
		spec.method = len < spec.hybrid_threshold ? WB_METHOD_CHAR :
		    WB_METHOD_WORD;
	wb_stats_scan_init(&sc);
	while (off < len) {
		step = len - off < LIMIT_STEP ? len - off : LIMIT_STEP;
		wb_stats_scan_feed(&sc, s + off, step, &err);
		off += step;
		if (off < len && wb_text_stats_count(&spec, &sc.st) > limit)
			break;
	}
	return wb_text_stats_count(&spec, &sc.st);
}

static void
heuristic_free(struct wb_counter *c)
{
	free(c);
}

/* A count stream of the heuristics: the statistics so far. */
struct stats_stream {
	struct wb_count_stream base;
	struct wb_stats_scan scan;
};

static struct wb_count_stream *
stats_stream_new(const struct wb_counter *c)
{
	struct stats_stream *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
		return NULL;
	ss->base.c = c;
	wb_stats_scan_init(&ss->scan);
	return &ss->base;
}

static int
stats_stream_feed(struct wb_count_stream *cs, const char *buf, size_t len,
    struct wb_err *err)
{
	return wb_stats_scan_feed(&((struct stats_stream *)cs)->scan, buf, len, err);
}

/* Has hybrid settled on its method: no more text can switch it? */
static bool
settled(const struct wb_counter_spec *spec, const struct wb_text_stats *st)
{
	return spec->method != WB_METHOD_HYBRID ||
	    st->bytes >= spec->hybrid_threshold;
}

static uint64_t
stats_stream_count(const struct wb_count_stream *cs)
{
	const struct wb_counter_spec *spec = &cs->c->spec;
	const struct wb_text_stats *st = &((const struct stats_stream *)cs)->scan.st;
	uint64_t a, b;

	if (settled(spec, st))
		return wb_text_stats_count(spec, st);
	/* More text may still switch hybrid from chars to words. */
	a = st->bytes ? count_chars(spec, st) : 0;
	b = st->bytes ? count_words(spec, st) : 0;
	return a < b ? a : b;
}

static const struct wb_text_stats *
stats_stream_stats(const struct wb_count_stream *cs)
{
	return &((const struct stats_stream *)cs)->scan.st;
}

static int
stats_stream_end(struct wb_count_stream *cs, uint64_t *count,
    struct wb_err *err)
{
	const struct wb_stats_scan *sc = &((struct stats_stream *)cs)->scan;

	if (sc->npend > 0) {
		err->offset = sc->st.bytes;
		return wb_err_set(err, WB_EDATA,
		    "invalid UTF-8 at byte offset %llu: truncated sequence",
		    (unsigned long long)sc->st.bytes);
	}
	*count = wb_text_stats_count(&cs->c->spec, &sc->st);
	return WB_OK;
}

static void
stats_stream_reset(struct wb_count_stream *cs)
{
	wb_stats_scan_init(&((struct stats_stream *)cs)->scan);
}

static void
stats_stream_free(struct wb_count_stream *cs)
{
	free(cs);
}

static const struct wb_counter_ops stats_ops = {
	.count = heuristic_count,
	.stream_new = stats_stream_new,
	.stream_feed = stats_stream_feed,
	.stream_count = stats_stream_count,
	.stream_stats = stats_stream_stats,
	.stream_end = stats_stream_end,
	.stream_reset = stats_stream_reset,
	.stream_free = stats_stream_free,
	.free = heuristic_free,
	.by_stats = true,
};

struct wb_counter *
wb_stats_counter_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	struct wb_counter *c;

	if (!(spec->chars_per_token > 0) || !isfinite(spec->chars_per_token) ||
	    !(spec->tokens_per_word > 0) || !isfinite(spec->tokens_per_word)) {
		wb_err_set(err, WB_EUSAGE,
		    "chars_per_token and tokens_per_word must be positive");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	c->ops = &stats_ops;
	c->spec = *spec;
	snprintf(c->name, sizeof(c->name), "%s", wb_method_name(spec->method));
	return c;
}

