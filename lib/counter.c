/* counter.c: the counter interface: specs, presets, and counting through
 * whichever kind of counter a spec makes (text_stats.c, exact.c, hf.c). */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

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

int
wb_method_parse(const char *name, enum wb_method *m)
{
	for (size_t i = 0; i < WB_NELEM(method_names); i++) {
		if (strcmp(name, method_names[i]) == 0) {
			*m = (enum wb_method)i;
			return 0;
		}
	}
	return -1;
}

const char *
wb_method_name(enum wb_method m)
{
	return method_names[m];
}

void
wb_counter_spec_default(struct wb_counter_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->method = WB_METHOD_HYBRID;
	wb_counter_preset(spec, "default");
}

struct wb_counter *
wb_counter_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	if (spec->tokenizer != NULL && spec->tokenizer[0] != '\0')
		return wb_hf_new(spec, err);
	if (spec->encoding[0] != '\0')
		return wb_exact_new(spec, err);
	return wb_stats_counter_new(spec, err);
}

bool
wb_counter_spec_same(const struct wb_counter_spec *a,
    const struct wb_counter_spec *b)
{
	const char *ta = a->tokenizer ? a->tokenizer : "";
	const char *tb = b->tokenizer ? b->tokenizer : "";

	if (strcmp(ta, tb) != 0)
		return false;
	if (ta[0] != '\0')
		return a->allow_special == b->allow_special;
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

void
wb_counter_free(struct wb_counter *c)
{
	if (c != NULL)
		c->ops->free(c);
}

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

const char *
wb_counter_name(const struct wb_counter *c)
{
	return c->name;
}

uint64_t
wb_count(const struct wb_counter *c, const char *s, size_t len)
{
	return c->ops->count(c, s, len, UINT64_MAX);
}

uint64_t
wb_count_limit(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	return c->ops->count(c, s, len, limit);
}

struct wb_count_stream *
wb_count_stream_new(const struct wb_counter *c)
{
	return c->ops->stream_new(c);
}

int
wb_count_stream_feed(struct wb_count_stream *cs, const char *buf, size_t len,
    struct wb_err *err)
{
	return cs->c->ops->stream_feed(cs, buf, len, err);
}

uint64_t
wb_count_stream_count(const struct wb_count_stream *cs)
{
	return cs->c->ops->stream_count(cs);
}

const struct wb_text_stats *
wb_count_stream_stats(const struct wb_count_stream *cs)
{
	return cs->c->ops->stream_stats ? cs->c->ops->stream_stats(cs) : NULL;
}

int
wb_count_stream_end(struct wb_count_stream *cs, uint64_t *count,
    struct wb_err *err)
{
	return cs->c->ops->stream_end(cs, count, err);
}

void
wb_count_stream_free(struct wb_count_stream *cs)
{
	if (cs != NULL)
		cs->c->ops->stream_free(cs);
}

bool
wb_counter_by_stats(const struct wb_counter *c)
{
	return c->ops->by_stats;
}

bool
wb_counter_has_ids(const struct wb_counter *c)
{
	return c->ops->encode != NULL;
}

size_t
wb_counter_encode(const struct wb_counter *c, const char *s, size_t len,
    uint32_t *ids, size_t cap, struct wb_err *err)
{
	if (c->ops->encode == NULL) {
		wb_err_set(err, WB_EUSAGE, "%s: no token ids", c->name);
		return WB_BPE_FAIL;
	}
	return c->ops->encode(c, s, len, ids, cap, err);
}

char *
wb_counter_decode(const struct wb_counter *c, const uint32_t *ids, size_t n,
    size_t *len, struct wb_err *err)
{
	char *out;
	size_t got;

	if (c->ops->decode == NULL) {
		wb_err_set(err, WB_EUSAGE, "%s: no token ids", c->name);
		return NULL;
	}
	if (c->ops->decode(c, ids, n, NULL, 0, len, err) != WB_OK)
		return NULL;
	if ((out = malloc(*len + 1)) == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	if (c->ops->decode(c, ids, n, out, *len, &got, err) != WB_OK) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	return out;
}

/*
 * The last cut of s at an offset in [from, to) where the counts of the two
 * sides add up, or 0 if there is none: to ends whole characters, and s[0]
 * starts the text or lies wb_counter_lookback() before from.  Counters by
 * statistics need none: their statistics concatenate anywhere.
 */
size_t
wb_counter_last_cut(const struct wb_counter *c, const char *s, size_t from,
    size_t to)
{
	return c->ops->last_cut ? c->ops->last_cut(c, s, from, to) : 0;
}

size_t
wb_counter_lookback(const struct wb_counter *c)
{
	return c->ops->lookback ? c->ops->lookback(c) : 0;
}
