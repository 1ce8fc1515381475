/* count.c: the counter interface and the engine's heuristic counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

/* Bit 0: White_Space; bit 1: one of the characters the word count adds. */
static const unsigned char ascii_class[128] = {
	['\t'] = 3, ['\n'] = 3, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
	['"'] = 2, ['\''] = 2, ['('] = 2, [')'] = 2, ['['] = 2, [']'] = 2,
	['{'] = 2, ['}'] = 2,
};

/* How much text to scan between checks of a count limit. */
#define LIMIT_STEP 65536

/* Start a scan. */
void
wb_scan_init(struct wb_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->st.lead = sc->st.trail = -1;
}

/* Add one scalar of n bytes to st: the slow path, a scalar at a time. */
void
wb_tstats_add(struct wb_tstats *st, uint32_t cp, size_t n)
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
finish_pending(struct wb_scan *sc, const unsigned char *p, size_t len,
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
			wb_tstats_add(&sc->st, cp, (size_t)n);
			sc->npend = 0;
			break;
		}
	}
	return i;
}

/* Scan the next piece; invalid UTF-8 fails with its offset in the text. */
int
wb_scan_feed(struct wb_scan *sc, const char *s, size_t len, struct wb_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	struct wb_tstats *st = &sc->st;
	uint64_t words, punct, ascii = 0;
	unsigned prev;
	size_t i = 0, base;
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
		wb_tstats_add(st, cp, (size_t)n);
	}
	base = i;
	prev = st->trail != 0;  /* 1: not inside a word */
	words = st->words;
	punct = st->punct;
	while (i < len) {
		unsigned char b = p[i];
		if (b < 0x80) {
			unsigned c = ascii_class[b], sp = c & 1;
			words += prev & (sp ^ 1);
			punct += c >> 1;
			prev = sp;
			ascii++;
			i++;
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

/* Statistics of s[0..len) (valid UTF-8). */
void
wb_tstats_of(struct wb_tstats *st, const char *s, size_t len)
{
	struct wb_scan sc;
	struct wb_err err;

	wb_scan_init(&sc);
	wb_scan_feed(&sc, s, len, &err);
	*st = sc.st;
}

/* The statistics of a followed by b. */
struct wb_tstats
wb_tstats_cat(struct wb_tstats a, struct wb_tstats b)
{
	struct wb_tstats r;

	r.bytes = a.bytes + b.bytes;
	r.scalars = a.scalars + b.scalars;
	r.punct = a.punct + b.punct;
	r.words = a.words + b.words - (a.trail == 0 && b.lead == 0);
	r.lead = a.lead >= 0 ? a.lead : b.lead;
	r.trail = b.trail >= 0 ? b.trail : a.trail;
	return r;
}

/* Counts stop at 2^53, so that absurd parameters cannot wrap them. */
#define MAX_COUNT 9007199254740992.0

static uint64_t
clamp(double d)
{
	return d >= MAX_COUNT ? (uint64_t)MAX_COUNT : (uint64_t)d;
}

static uint64_t
count_chars(const struct wb_counter_spec *spec, const struct wb_tstats *st)
{
	return clamp(ceil((double)st->scalars / spec->chars_per_token));
}

static uint64_t
count_words(const struct wb_counter_spec *spec, const struct wb_tstats *st)
{
	uint64_t base = clamp(ceil((double)st->words * spec->tokens_per_word));
	uint64_t half = st->punct / 2;  /* floor(P / 2), as the engine has it */

	return base > (uint64_t)MAX_COUNT - half ? (uint64_t)MAX_COUNT :
	    base + half;
}

/* The heuristic count of a text with statistics st. */
uint64_t
wb_tstats_count(const struct wb_counter_spec *spec, const struct wb_tstats *st)
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
	struct wb_scan sc;
	struct wb_err err;
	size_t off = 0, step;

	/* The length is known, so hybrid is one method here: counts grow. */
	if (spec.method == WB_METHOD_HYBRID)
		spec.method = len < spec.hybrid_threshold ? WB_METHOD_CHAR :
		    WB_METHOD_WORD;
	wb_scan_init(&sc);
	while (off < len) {
		step = len - off < LIMIT_STEP ? len - off : LIMIT_STEP;
		wb_scan_feed(&sc, s + off, step, &err);
		off += step;
		if (off < len && wb_tstats_count(&spec, &sc.st) > limit)
			break;
	}
	return wb_tstats_count(&spec, &sc.st);
}

static void
heuristic_free(struct wb_counter *c)
{
	free(c);
}

static const struct wb_counter_ops heuristic_ops = {
	.count = heuristic_count,
	.heuristic = true,
	.free = heuristic_free,
};

/* Fill spec with a named preset ("default" or "llama"); 0 or -1. */
int
wb_counter_preset(struct wb_counter_spec *spec, const char *name)
{
	if (strcmp(name, "default") == 0) {
		spec->chars_per_token = 4.0;
		spec->tokens_per_word = 1.33;
		spec->hybrid_threshold = 100;
	} else if (strcmp(name, "llama") == 0) {
		spec->chars_per_token = 3.8;
		spec->tokens_per_word = 1.25;
		spec->hybrid_threshold = 100;
	} else {
		return -1;
	}
	return 0;
}

static const char *const method_names[] = {
	[WB_METHOD_CHAR] = "char",
	[WB_METHOD_WORD] = "word",
	[WB_METHOD_HYBRID] = "hybrid",
};

/* Parse a method name ("char", "word", "hybrid"); 0 or -1. */
int
wb_method_parse(const char *name, enum wb_method *m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]);
	    i++) {
		if (strcmp(name, method_names[i]) == 0) {
			*m = (enum wb_method)i;
			return 0;
		}
	}
	return -1;
}

/* The name of a method. */
const char *
wb_method_name(enum wb_method m)
{
	return method_names[m];
}

/* Fill spec with the engine's defaults: hybrid, preset "default". */
void
wb_counter_spec_default(struct wb_counter_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->method = WB_METHOD_HYBRID;
	wb_counter_preset(spec, "default");
}

/* Make a counter; the caller owns it. */
struct wb_counter *
wb_counter_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	struct wb_counter *c;

	if (spec->encoding[0] != '\0')
		return wb_exact_new(spec, err);
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
	c->ops = &heuristic_ops;
	c->spec = *spec;
	snprintf(c->name, sizeof(c->name), "%s", wb_method_name(spec->method));
	return c;
}

/* Free a counter. */
void
wb_counter_free(struct wb_counter *c)
{
	if (c != NULL)
		c->ops->free(c);
}

/* The counter in *slot if spec makes the same, else a new one put there. */
struct wb_counter *
wb_counter_reuse(struct wb_counter **slot, const struct wb_counter_spec *spec,
    struct wb_err *err)
{
	struct wb_counter *c;

	if (*slot != NULL && wb_counter_spec_same(&(*slot)->spec, spec))
		return *slot;
	if ((c = wb_counter_new(spec, err)) == NULL)
		return NULL;
	wb_counter_free(*slot);
	*slot = c;
	return c;
}

/*
 * Count a chat as the chat API bills it: 3 tokens a message, the tokens
 * of each of its strings (role, content, name), 1 more for a name, and 3
 * that prime the reply.
 */
int
wb_count_chat(const struct wb_counter *c, const json_t *messages, uint64_t *n,
    struct wb_err *err)
{
	const char *key;
	size_t i;
	json_t *m, *v;

	if (!json_is_array(messages))
		return wb_err_set(err, WB_EDATA,
		    "field \"messages\" is not an array");
	*n = 3;
	json_array_foreach(messages, i, m) {
		if (!json_is_object(m) ||
		    !json_is_string(json_object_get(m, "role")) ||
		    !json_is_string(json_object_get(m, "content")))
			return wb_err_set(err, WB_EDATA, "messages[%zu]: not an "
			    "object with a string role and content", i);
		*n += 3;
		json_object_foreach(m, key, v) {
			if (!json_is_string(v))
				continue;
			*n += wb_count(c, json_string_value(v),
			    json_string_length(v));
			if (strcmp(key, "name") == 0)
				*n += 1;
		}
	}
	return WB_OK;
}

/* A short description of the counter, such as "hybrid". */
const char *
wb_counter_name(const struct wb_counter *c)
{
	return c->name;
}

/* Count the tokens of s[0..len) (valid UTF-8; NUL bytes allowed). */
uint64_t
wb_count(const struct wb_counter *c, const char *s, size_t len)
{
	return c->ops->count(c, s, len, UINT64_MAX);
}

/* Count, stopping early once the count is known to exceed limit. */
uint64_t
wb_count_limit(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	return c->ops->count(c, s, len, limit);
}

/* Start counting a text that arrives in pieces; the caller owns it. */
struct wb_cstream *
wb_cstream_new(const struct wb_counter *c)
{
	struct wb_cstream *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->c = c;
	wb_scan_init(&cs->scan);
	return cs;
}

/* Feed the next piece; invalid UTF-8 fails with its offset in the text. */
int
wb_cstream_feed(struct wb_cstream *cs, const char *buf, size_t len,
    struct wb_err *err)
{
	if (!cs->c->ops->heuristic)
		return wb_exact_feed(cs, buf, len, err);
	return wb_scan_feed(&cs->scan, buf, len, err);
}

/* The count of everything fed so far; a lower bound until the end. */
uint64_t
wb_cstream_count(const struct wb_cstream *cs)
{
	const struct wb_counter_spec *spec = &cs->c->spec;
	const struct wb_tstats *st = &cs->scan.st;
	uint64_t a, b;

	if (!cs->c->ops->heuristic)
		return cs->count;
	if (spec->method != WB_METHOD_HYBRID || st->bytes >= spec->hybrid_threshold)
		return wb_tstats_count(spec, st);
	/* More text may still switch hybrid from chars to words. */
	a = st->bytes ? count_chars(spec, st) : 0;
	b = st->bytes ? count_words(spec, st) : 0;
	return a < b ? a : b;
}

/* End the text: fails if it stops inside a UTF-8 sequence. */
int
wb_cstream_end(struct wb_cstream *cs, uint64_t *count, struct wb_err *err)
{
	if (!cs->c->ops->heuristic)
		return wb_exact_end(cs, count, err);
	if (cs->scan.npend > 0) {
		err->offset = cs->scan.st.bytes;
		return wb_err_set(err, WB_EDATA,
		    "invalid UTF-8 at byte offset %llu: truncated sequence",
		    (unsigned long long)cs->scan.st.bytes);
	}
	*count = wb_tstats_count(&cs->c->spec, &cs->scan.st);
	return WB_OK;
}

/* Free a stream. */
void
wb_cstream_free(struct wb_cstream *cs)
{
	if (cs != NULL)
		free(cs->carry);
	free(cs);
}

/* Does c count from a text's statistics (so that they concatenate)? */
bool
wb_counter_by_stats(const struct wb_counter *c)
{
	return c->ops->heuristic;
}
