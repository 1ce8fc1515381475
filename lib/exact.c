/* exact.c: counters with the exact tokens of an encoding, and models. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_priv.h"

#ifndef WB_DATADIR
#define WB_DATADIR "/usr/local/share/wb"
#endif

/* Which encoding each model uses, as OpenAI's tiktoken maps them. */
static const struct {
	const char *model, *encoding;
} models[] = {
	{ "gpt-4o", "o200k_base" }, { "gpt-4o-mini", "o200k_base" },
	{ "gpt-4.1", "o200k_base" }, { "o1", "o200k_base" },
	{ "o3", "o200k_base" }, { "o4-mini", "o200k_base" },
	{ "gpt-4", "cl100k_base" }, { "gpt-3.5-turbo", "cl100k_base" },
	{ "text-embedding-3-small", "cl100k_base" },
	{ "text-embedding-3-large", "cl100k_base" },
	{ "text-embedding-ada-002", "cl100k_base" },
	{ "text-davinci-003", "p50k_base" }, { "text-davinci-002", "p50k_base" },
	{ "code-davinci-002", "p50k_base" },
	{ "davinci", "r50k_base" }, { "curie", "r50k_base" },
	{ "babbage", "r50k_base" }, { "ada", "r50k_base" },
	{ "llama3", "llama3" },
};

/* The encoding of a model ("gpt-4o" is "o200k_base"), or NULL. */
const char *
wb_model_encoding(const char *model)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(model, models[i].model) == 0)
			return models[i].encoding;
	return NULL;
}

/* Do two specs make the same counter? */
bool
wb_counter_spec_same(const struct wb_counter_spec *a,
    const struct wb_counter_spec *b)
{
	if (strcmp(a->encoding, b->encoding) != 0)
		return false;
	if (a->encoding[0] != '\0')
		return a->allow_special == b->allow_special &&
		    (a->encodings_dir == b->encodings_dir ||
		    (a->encodings_dir && b->encodings_dir &&
		    strcmp(a->encodings_dir, b->encodings_dir) == 0));
	return a->method == b->method &&
	    a->chars_per_token == b->chars_per_token &&
	    a->tokens_per_word == b->tokens_per_word &&
	    a->hybrid_threshold == b->hybrid_threshold;
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

static void
exact_free(struct wb_counter *c)
{
	wb_bpe_free(c->bpe);
	free(c);
}

static const struct wb_counter_ops exact_ops = {
	.count = exact_count,
	.heuristic = false,
	.free = exact_free,
};

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
		if ((b = wb_bpe_load(dirs[i], spec->encoding, err)) != NULL)
			return b;
		if (err->status != WB_ENOINPUT)
			return NULL;
	}
	if (n > 1)
		wb_err_set(err, WB_ENOINPUT, "encoding %s: no rank file in %s or "
		    "the other places searched; run scripts/fetch-encodings",
		    spec->encoding, dirs[0]);
	return NULL;
}

/* Make a counter for spec->encoding; the caller owns it. */
struct wb_counter *
wb_exact_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	struct wb_counter *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	if ((c->bpe = load(spec, err)) == NULL) {
		free(c);
		return NULL;
	}
	c->ops = &exact_ops;
	c->spec = *spec;
	snprintf(c->name, sizeof(c->name), "%s", spec->encoding);
	return c;
}
