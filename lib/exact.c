/* exact.c: counters with the exact tokens of an encoding, and models. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unicode_tables.h"
#include "wb_priv.h"
#include <wb_datadir.h>

#ifndef WB_DATADIR
#define WB_DATADIR "/usr/local/share/wb"
#endif

/*
 * Which encoding each model uses, as OpenAI's tiktoken maps them: first
 * the names tiktoken's Python package (0.14.0) lists, then those its npm
 * package (1.0.22) lists besides, each of which the Python package maps
 * the same way through a prefix; then Meta's Llama 3.
 */
struct model {
	const char *name, *encoding;
};
static const struct model models[] = {
	{ "o1", "o200k_base" }, { "o3", "o200k_base" },
	{ "o4-mini", "o200k_base" }, { "gpt-5", "o200k_base" },
	{ "gpt-4.1", "o200k_base" }, { "gpt-4o", "o200k_base" },
	{ "gpt-4", "cl100k_base" }, { "gpt-3.5-turbo", "cl100k_base" },
	{ "gpt-3.5", "cl100k_base" }, { "gpt-35-turbo", "cl100k_base" },
	{ "davinci-002", "cl100k_base" }, { "babbage-002", "cl100k_base" },
	{ "text-embedding-ada-002", "cl100k_base" },
	{ "text-embedding-3-small", "cl100k_base" },
	{ "text-embedding-3-large", "cl100k_base" },
	{ "text-davinci-003", "p50k_base" },
	{ "text-davinci-002", "p50k_base" },
	{ "text-davinci-001", "r50k_base" }, { "text-curie-001", "r50k_base" },
	{ "text-babbage-001", "r50k_base" }, { "text-ada-001", "r50k_base" },
	{ "davinci", "r50k_base" }, { "curie", "r50k_base" },
	{ "babbage", "r50k_base" }, { "ada", "r50k_base" },
	{ "code-davinci-002", "p50k_base" },
	{ "code-davinci-001", "p50k_base" },
	{ "code-cushman-002", "p50k_base" },
	{ "code-cushman-001", "p50k_base" }, { "davinci-codex", "p50k_base" },
	{ "cushman-codex", "p50k_base" },
	{ "text-davinci-edit-001", "p50k_edit" },
	{ "code-davinci-edit-001", "p50k_edit" },
	{ "text-similarity-davinci-001", "r50k_base" },
	{ "text-similarity-curie-001", "r50k_base" },
	{ "text-similarity-babbage-001", "r50k_base" },
	{ "text-similarity-ada-001", "r50k_base" },
	{ "text-search-davinci-doc-001", "r50k_base" },
	{ "text-search-curie-doc-001", "r50k_base" },
	{ "text-search-babbage-doc-001", "r50k_base" },
	{ "text-search-ada-doc-001", "r50k_base" },
	{ "code-search-babbage-code-001", "r50k_base" },
	{ "code-search-ada-code-001", "r50k_base" }, { "gpt2", "gpt2" },
	{ "gpt-2", "gpt2" },
	{ "gpt-3.5-turbo-0301", "cl100k_base" },
	{ "gpt-3.5-turbo-0613", "cl100k_base" },
	{ "gpt-3.5-turbo-1106", "cl100k_base" },
	{ "gpt-3.5-turbo-0125", "cl100k_base" },
	{ "gpt-3.5-turbo-16k", "cl100k_base" },
	{ "gpt-3.5-turbo-16k-0613", "cl100k_base" },
	{ "gpt-3.5-turbo-instruct", "cl100k_base" },
	{ "gpt-3.5-turbo-instruct-0914", "cl100k_base" },
	{ "gpt-4-0314", "cl100k_base" }, { "gpt-4-0613", "cl100k_base" },
	{ "gpt-4-32k", "cl100k_base" }, { "gpt-4-32k-0314", "cl100k_base" },
	{ "gpt-4-32k-0613", "cl100k_base" }, { "gpt-4-turbo", "cl100k_base" },
	{ "gpt-4-turbo-2024-04-09", "cl100k_base" },
	{ "gpt-4-turbo-preview", "cl100k_base" },
	{ "gpt-4-1106-preview", "cl100k_base" },
	{ "gpt-4-0125-preview", "cl100k_base" },
	{ "gpt-4-vision-preview", "cl100k_base" },
	{ "gpt-4o-2024-05-13", "o200k_base" },
	{ "gpt-4o-2024-08-06", "o200k_base" },
	{ "gpt-4o-2024-11-20", "o200k_base" },
	{ "gpt-4o-mini-2024-07-18", "o200k_base" },
	{ "gpt-4o-mini", "o200k_base" },
	{ "gpt-4o-search-preview", "o200k_base" },
	{ "gpt-4o-search-preview-2025-03-11", "o200k_base" },
	{ "gpt-4o-mini-search-preview", "o200k_base" },
	{ "gpt-4o-mini-search-preview-2025-03-11", "o200k_base" },
	{ "gpt-4o-audio-preview", "o200k_base" },
	{ "gpt-4o-audio-preview-2024-12-17", "o200k_base" },
	{ "gpt-4o-audio-preview-2024-10-01", "o200k_base" },
	{ "gpt-4o-mini-audio-preview", "o200k_base" },
	{ "gpt-4o-mini-audio-preview-2024-12-17", "o200k_base" },
	{ "o1-2024-12-17", "o200k_base" }, { "o1-mini", "o200k_base" },
	{ "o1-mini-2024-09-12", "o200k_base" }, { "o1-preview", "o200k_base" },
	{ "o1-preview-2024-09-12", "o200k_base" }, { "o1-pro", "o200k_base" },
	{ "o1-pro-2025-03-19", "o200k_base" },
	{ "o3-2025-04-16", "o200k_base" }, { "o3-mini", "o200k_base" },
	{ "o3-mini-2025-01-31", "o200k_base" },
	{ "o4-mini-2025-04-16", "o200k_base" },
	{ "chatgpt-4o-latest", "o200k_base" },
	{ "gpt-4o-realtime", "o200k_base" },
	{ "gpt-4o-realtime-preview-2024-10-01", "o200k_base" },
	{ "gpt-4o-realtime-preview-2024-12-17", "o200k_base" },
	{ "gpt-4o-mini-realtime-preview", "o200k_base" },
	{ "gpt-4o-mini-realtime-preview-2024-12-17", "o200k_base" },
	{ "gpt-4.1-2025-04-14", "o200k_base" },
	{ "gpt-4.1-mini", "o200k_base" },
	{ "gpt-4.1-mini-2025-04-14", "o200k_base" },
	{ "gpt-4.1-nano", "o200k_base" },
	{ "gpt-4.1-nano-2025-04-14", "o200k_base" },
	{ "gpt-4.5-preview", "o200k_base" },
	{ "gpt-4.5-preview-2025-02-27", "o200k_base" },
	{ "gpt-5-2025-08-07", "o200k_base" }, { "gpt-5-nano", "o200k_base" },
	{ "gpt-5-nano-2025-08-07", "o200k_base" },
	{ "gpt-5-mini", "o200k_base" },
	{ "gpt-5-mini-2025-08-07", "o200k_base" },
	{ "gpt-5-chat-latest", "o200k_base" },
	{ "llama3", "llama3" },
};

/* The prefixes tried, in this order, for a name that is not a model
 * above: dated snapshots, fine-tuned models, and models newer than these
 * tables, as tiktoken's Python package tries them. */
static const struct model prefixes[] = {
	{ "o1-", "o200k_base" }, { "o3-", "o200k_base" },
	{ "o4-mini-", "o200k_base" }, { "gpt-5", "o200k_base" },
	{ "gpt-4.5-", "o200k_base" }, { "gpt-4.1-", "o200k_base" },
	{ "chatgpt-4o-", "o200k_base" }, { "gpt-4o-", "o200k_base" },
	{ "gpt-4-", "cl100k_base" }, { "gpt-3.5-turbo-", "cl100k_base" },
	{ "gpt-35-turbo-", "cl100k_base" }, { "gpt-oss-", "o200k_harmony" },
	{ "ft:gpt-4o", "o200k_base" }, { "ft:gpt-4", "cl100k_base" },
	{ "ft:gpt-3.5-turbo", "cl100k_base" },
	{ "ft:davinci-002", "cl100k_base" },
	{ "ft:babbage-002", "cl100k_base" },
};

/* The encoding of a model ("gpt-4o" is "o200k_base"), or NULL. */
const char *
wb_model_encoding(const char *model)
{
	for (size_t i = 0; i < WB_NELEM(models); i++)
		if (strcmp(model, models[i].name) == 0)
			return models[i].encoding;
	for (size_t i = 0; i < WB_NELEM(prefixes); i++)
		if (strncmp(model, prefixes[i].name, strlen(prefixes[i].name)) == 0)
			return prefixes[i].encoding;
	return NULL;
}

/* Model i of those known, then prefix i - (number of models): its name
 * or prefix (*prefix says which) and its encoding; NULL past the last. */
const char *
wb_model_at(size_t i, bool *prefix, const char **encoding)
{
	const struct model *m;

	if (i < WB_NELEM(models))
		m = &models[i];
	else if (i - WB_NELEM(models) < WB_NELEM(prefixes))
		m = &prefixes[i - WB_NELEM(models)];
	else
		return NULL;
	*prefix = i >= WB_NELEM(models);
	*encoding = m->encoding;
	return m->name;
}

/* The exact encoding behind a counter, or NULL for the heuristics. */
const struct wb_bpe *
wb_counter_bpe(const struct wb_counter *c)
{
	return c->bpe;
}

static uint64_t
exact_count(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	size_t n = wb_bpe_encode(c->bpe, s, len, c->spec.allow_special, NULL, 0,
	    NULL);

	(void)limit;
	/* Out of memory: a count no budget admits, rather than a small one. */
	return n == WB_BPE_FAIL ? UINT64_MAX : n;
}

static size_t
exact_encode(const struct wb_counter *c, const char *s, size_t len,
    uint32_t *ids, size_t cap, struct wb_err *err)
{
	return wb_bpe_encode(c->bpe, s, len, c->spec.allow_special, ids, cap,
	    err);
}

/* The bytes of tokens ids[0..n); an id that is no token's is bad data. */
static int
exact_decode(const struct wb_counter *c, const uint32_t *ids, size_t n,
    char *out, size_t cap, size_t *len, struct wb_err *err)
{
	size_t l;

	for (size_t i = 0; i < n; i++)
		if (wb_bpe_token(c->bpe, ids[i], &l) == NULL)
			return wb_err_set(err, WB_EDATA, "ids[%zu]: %s has no "
			    "token %lu", i, c->name, (unsigned long)ids[i]);
	return wb_bpe_decode(c->bpe, ids, n, out, cap, len, err);
}

/* The longest special token that a cut must look back for, 0 if none. */
static size_t
exact_lookback(const struct wb_counter *c)
{
	return wb_bpe_special_max(c->bpe, c->spec.allow_special);
}

static void
exact_free(struct wb_counter *c)
{
	wb_bpe_free(c->bpe);
	free(c);
}

/* Say that no place had the encoding, naming each, and how to fetch it. */
static void
not_found(const char *enc, char dirs[][1024], int n, struct wb_err *err)
{
	char where[400];
	size_t off = 0;

	where[0] = '\0';
	for (int i = 0; i < n && off < sizeof(where); i++)
		off += (size_t)snprintf(where + off, sizeof(where) - off, "%s%s",
		    i ? ", " : "", dirs[i]);
	wb_err_set(err, WB_ENOINPUT, "encoding %s: no %s.tiktoken in %s; "
	    "run scripts/fetch-encodings%s", enc, enc, where,
	    strcmp(enc, "llama3") == 0 ? " --llama3 (Meta's licence)" : "");
}

/*
 * Load an encoding from the first place that has it: the spec's
 * directory, $WB_ENCODINGS_DIR, $XDG_DATA_HOME/wb/encodings (by default
 * ~/.local/share/wb/encodings), then the install directory.
 */
static struct wb_bpe *
load(const struct wb_counter_spec *spec, struct wb_err *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char dirs[4][1024];
	int n = 0;
	struct wb_bpe *b;

	if (spec->encodings_dir != NULL)
		snprintf(dirs[n++], sizeof(dirs[0]), "%s", spec->encodings_dir);
	else {
		if (getenv("WB_ENCODINGS_DIR") != NULL)
			snprintf(dirs[n++], sizeof(dirs[0]), "%s",
			    getenv("WB_ENCODINGS_DIR"));
		if (xdg != NULL && *xdg != '\0')
			snprintf(dirs[n++], sizeof(dirs[0]), "%s/wb/encodings", xdg);
		else if (home != NULL)
			snprintf(dirs[n++], sizeof(dirs[0]),
			    "%s/.local/share/wb/encodings", home);
		snprintf(dirs[n++], sizeof(dirs[0]), "%s/encodings", WB_DATADIR);
	}
	for (int i = 0; i < n; i++) {
		if ((b = wb_bpe_open(dirs[i], spec->encoding, 0, err)) != NULL)
			return b;
		if (err->status != WB_ENOINPUT)
			return NULL;
	}
	if (n > 1)
		not_found(spec->encoding, dirs, n, err);
	return NULL;
}

/*
 * Streaming exact counts.  The text is cut where a letter (\p{L}) is
 * followed by a character that is neither a letter, nor a mark, nor an
 * apostrophe.  Every pattern ends a piece there: runs of letters (and
 * o200k's runs of cased letters and marks) stop, and the contractions
 * that may follow a word start with an apostrophe.  No match that ends
 * there reads past the character after it, and a match from there on
 * does not look back, so the count of the whole is the sum of the counts
 * of the two sides, each as a whole text.  The cut must not fall inside a
 * special token that counts (with --allow-special, or one that a
 * vocabulary always splits out).  A run without such a place (100 KB
 * of one letter) is held whole until it ends.
 */

/* The class bits of the whole character at s, in both tables of classes
 * (Unicode 16.0's and llama.cpp's): those of either (any), or of both. */
static unsigned
class_of(const unsigned char *s, bool any)
{
	uint32_t cp;

	wb_utf8_decode(s, 4, &cp);
	return any ? wb_uc_class(cp) | wb_ucl_class(cp) :
	    wb_uc_class(cp) & wb_ucl_class(cp);
}

/* Can the text be cut before the character at s[c] (c > 0, and s[0..c]
 * whole characters), with the special tokens of ctr?  (A letter to one
 * table and not to the other is no letter here, a mark or a letter to
 * either one is.) */
static bool
is_cut(const struct wb_counter *ctr, const unsigned char *s, size_t c,
    size_t end)
{
	size_t p = c - 1;

	if (s[c] == '\'' || (class_of(s + c, true) & (WB_UC_L | WB_UC_M)))
		return false;
	while (p > 0 && (s[p] & 0xC0) == 0x80)
		p--;
	if (!(class_of(s + p, false) & WB_UC_L))
		return false;
	return !wb_bpe_special_across(ctr->bpe, ctr->spec.allow_special, s, c,
	    end);
}

/* The last cut at an offset in [from, to) (to: the end of the whole
 * characters), or 0 if there is none. */
static size_t
last_cut(const struct wb_counter *ctr, const unsigned char *s, size_t from,
    size_t to)
{
	size_t c = to;

	while (c > from) {
		c--;
		if (c > 0 && (s[c] & 0xC0) != 0x80 && is_cut(ctr, s, c, to))
			return c;
	}
	return 0;
}

/* The last cut of s in [from, to) where the counts of the sides add up. */
static size_t
exact_last_cut(const struct wb_counter *c, const char *s, size_t from,
    size_t to)
{
	return last_cut(c, (const unsigned char *)s, from, to);
}

/* An exact count stream: the text after the last cut found. */
struct exact_stream {
	struct wb_count_stream base;
	struct wb_buf carry;     /* the text after the last cut found */
	size_t valid;            /* carry[0..valid) is whole UTF-8 characters */
	size_t checked;          /* no cut at offsets below this */
	uint64_t done;           /* bytes counted before carry */
	uint64_t count;          /* their tokens */
	struct wb_bpe_work *work; /* kept from one count to the next, so
	                          * that words merged once are found again */
};

/* The tokens of s[0..len), in es's work where it has one. */
static uint64_t
stream_count(struct exact_stream *es, const char *s, size_t len)
{
	const struct wb_counter *c = es->base.c;
	size_t n;

	if (es->work == NULL)
		es->work = wb_bpe_work_new();
	if (es->work == NULL)
		return exact_count(c, s, len, UINT64_MAX);
	n = wb_bpe_encode_with(c->bpe, es->work, s, len,
	    c->spec.allow_special, NULL, 0, NULL);
	return n == WB_BPE_FAIL ? UINT64_MAX : n;
}

static struct wb_count_stream *
exact_stream_new(const struct wb_counter *c)
{
	struct exact_stream *es = calloc(1, sizeof(*es));

	if (es == NULL)
		return NULL;
	es->base.c = c;
	return &es->base;
}

/* es->count plus n; a failed count (UINT64_MAX) stays one. */
static void
add_count(struct exact_stream *es, uint64_t n)
{
	es->count = n > UINT64_MAX - es->count ? UINT64_MAX : es->count + n;
}

/* The length of the UTF-8 character at s[0..len) (len > 0): that of
 * wb_utf8_seqlen, found here without a call for ASCII and for the two-
 * and three-byte characters of most scripts, which it leaves to it only
 * for the leads with narrower second bytes (E0, ED) and the rest. */
static inline int
valid_len(const unsigned char *s, size_t len)
{
	unsigned char b = s[0];

	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b < 0xE0 && len >= 2 && (s[1] & 0xC0) == 0x80)
		return 2;
	if (b > 0xE0 && b < 0xF0 && b != 0xED && len >= 3 &&
	    (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80)
		return 3;
	return wb_utf8_seqlen(s, len);
}

/* Count what lies before the last cut, and keep the rest. */
static int
exact_stream_feed(struct wb_count_stream *cs, const char *buf, size_t len,
    struct wb_err *err)
{
	struct exact_stream *es = (struct exact_stream *)cs;
	const struct wb_counter *ctr = cs->c;
	const unsigned char *s;
	size_t i, c;
	int n = 1;

	if (len == 0)
		return WB_OK;
	if (wb_buf_add(&es->carry, buf, len) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	s = (const unsigned char *)es->carry.p;
	for (i = es->valid; i < es->carry.len; i += (size_t)n) {
		uint64_t w;

		if (s[i] < 0x80) {
			/* and the ASCII after it, eight bytes at a time */
			n = 1;
			while (es->carry.len - i > 8 && (memcpy(&w, s + i + 1,
			    8), (w & 0x8080808080808080u) == 0))
				i += 8;
			continue;
		}
		n = valid_len(s + i, es->carry.len - i);
		if (n < 0)
			break;  /* the rest of it comes with the next piece */
		if (n == 0) {
			err->offset = es->done + i;
			return wb_err_set(err, WB_EDATA,
			    "invalid UTF-8 at byte offset %llu",
			    (unsigned long long)err->offset);
		}
	}
	es->valid = i;
	/* The last cut, looking only where earlier calls have not. */
	if ((c = last_cut(ctr, s, es->checked, es->valid)) == 0) {
		es->checked = es->valid;
		return WB_OK;
	}
	add_count(es, stream_count(es, es->carry.p, c));
	memmove(es->carry.p, es->carry.p + c, es->carry.len - c);
	es->carry.len -= c;
	es->valid -= c;
	es->done += c;
	es->checked = es->valid;
	return WB_OK;
}

static uint64_t
exact_stream_count(const struct wb_count_stream *cs)
{
	return ((const struct exact_stream *)cs)->count;
}

/* Count the rest. */
static int
exact_stream_end(struct wb_count_stream *cs, uint64_t *count,
    struct wb_err *err)
{
	struct exact_stream *es = (struct exact_stream *)cs;

	if (es->valid < es->carry.len) {
		err->offset = es->done + es->valid;
		return wb_err_set(err, WB_EDATA,
		    "invalid UTF-8 at byte offset %llu: truncated sequence",
		    (unsigned long long)err->offset);
	}
	if (es->carry.len > 0)
		add_count(es, stream_count(es, es->carry.p, es->carry.len));
	es->done += es->carry.len;
	es->carry.len = es->valid = es->checked = 0;
	*count = es->count;
	return WB_OK;
}

/* A new text; the work keeps the words it has merged, so that the parts
 * of a file counted one after another find them again. */
static void
exact_stream_reset(struct wb_count_stream *cs)
{
	struct exact_stream *es = (struct exact_stream *)cs;

	es->carry.len = es->valid = es->checked = 0;
	es->done = es->count = 0;
}

static void
exact_stream_free(struct wb_count_stream *cs)
{
	wb_buf_free(&((struct exact_stream *)cs)->carry);
	wb_bpe_work_free(((struct exact_stream *)cs)->work);
	free(cs);
}

static const struct wb_counter_ops exact_ops = {
	.count = exact_count,
	.encode = exact_encode,
	.decode = exact_decode,
	.last_cut = exact_last_cut,
	.lookback = exact_lookback,
	.stream_new = exact_stream_new,
	.stream_feed = exact_stream_feed,
	.stream_count = exact_stream_count,
	.stream_end = exact_stream_end,
	.stream_reset = exact_stream_reset,
	.stream_free = exact_stream_free,
	.free = exact_free,
};

struct wb_counter *
wb_exact_from_bpe(const struct wb_counter_spec *spec, struct wb_bpe *b,
    const char *name, struct wb_err *err)
{
	struct wb_counter *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		wb_bpe_free(b);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	c->bpe = b;
	c->ops = &exact_ops;
	c->spec = *spec;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

struct wb_counter *
wb_exact_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	struct wb_bpe *b = load(spec, err);

	return b == NULL ? NULL : wb_exact_from_bpe(spec, b, spec->encoding, err);
}
