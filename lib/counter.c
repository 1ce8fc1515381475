/* counter.c: the counter interface: specs, presets, and counting through
 * whichever kind of counter a spec makes (text_stats.c, exact.c, hf.c). */
#include <stdio.h>
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
 * Chats, counted as the npm package gpt-tokenizer (4.0.0) counts a chat
 * completion request (countChatCompletionTokens), which follows OpenAI's
 * own estimates: each message 3 tokens, plus its role, its content, its
 * name and 1, and each function call's name and arguments and 3; a
 * message of the role "function" 2 fewer; 3 that prime the reply.  With
 * functions, their definitions written out as TypeScript, as OpenAI
 * renders them for the model, plus 9; the first system message ends in a
 * newline, and 4 fewer when there is one.  A pinned function call adds
 * its name and 4, "none" 1.
 */

/* JSON.stringify of a string: JavaScript escapes controls in lower case. */
static void
js_quote(struct wb_buf *b, const char *s, size_t len)
{
	char u[8];

	wb_buf_add(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" :
		    c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" :
		    c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;

		if (e != NULL)
			wb_buf_adds(b, e);
		else if (c < 0x20) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			wb_buf_adds(b, u);
		} else
			wb_buf_add(b, s + i, 1);
	}
	wb_buf_add(b, "\"", 1);
}

/* A JSON scalar as JavaScript's `${v}` (or JSON.stringify, quoted) writes
 * it; false if v is an array or an object. */
static bool
js_scalar(struct wb_buf *b, const json_t *v, bool quoted)
{
	char num[40];

	if (json_is_string(v)) {
		if (quoted)
			js_quote(b, json_string_value(v), json_string_length(v));
		else
			wb_buf_add(b, json_string_value(v), json_string_length(v));
		return true;
	}
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d == (double)(long long)d && d > -1e18 && d < 1e18)
			snprintf(num, sizeof(num), "%lld", (long long)d);
		else
			for (int p = 1; p <= 17; p++) {
				snprintf(num, sizeof(num), "%.*g", p, d);
				if (strtod(num, NULL) == d)
					break;
			}
	} else if (json_is_boolean(v) || json_is_null(v)) {
		snprintf(num, sizeof(num), "%s", json_is_null(v) ? "null" :
		    json_is_true(v) ? "true" : "false");
	} else {
		return false;
	}
	wb_buf_adds(b, num);
	return true;
}

/* A non-empty string member of o, or NULL. */
static const char *
nonempty(const json_t *o, const char *key, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

static int fn_props(struct wb_buf *b, const json_t *obj, int indent,
    bool *any, struct wb_err *err);

/* The TypeScript type of a parameter, as gpt-tokenizer writes it. */
static int
fn_type(struct wb_buf *b, const json_t *param, int indent, struct wb_err *err)
{
	const char *t = json_string_value(json_object_get(param, "type"));
	const json_t *en = json_object_get(param, "enum"), *v, *items;
	bool num, any;
	size_t i;

	if (t == NULL)
		t = "";
	num = strcmp(t, "integer") == 0 || strcmp(t, "number") == 0;
	if ((strcmp(t, "string") == 0 || num) && en != NULL &&
	    !json_is_null(en)) {
		if (!json_is_array(en))
			return wb_err_set(err, WB_EDATA, "a parameter's enum is "
			    "not an array");
		json_array_foreach(en, i, v) {
			if (i > 0)
				wb_buf_adds(b, " | ");
			if (!js_scalar(b, v, !num))
				return wb_err_set(err, WB_EDATA, "a parameter's "
				    "enum has %s", json_is_array(v) ?
				    "an array" : "an object");
		}
		return WB_OK;
	}
	if (strcmp(t, "string") == 0 || strcmp(t, "boolean") == 0 ||
	    strcmp(t, "null") == 0)
		wb_buf_adds(b, t);
	else if (num)
		wb_buf_adds(b, "number");
	else if (strcmp(t, "array") == 0) {
		items = json_object_get(param, "items");
		if (items == NULL || json_is_null(items) || json_is_false(items)) {
			wb_buf_adds(b, "any[]");
		} else {
			if (fn_type(b, items, indent, err) != WB_OK)
				return err->status;
			wb_buf_adds(b, "[]");
		}
	} else if (strcmp(t, "object") == 0) {
		wb_buf_adds(b, "{\n");
		if (fn_props(b, param, indent + 2, &any, err) != WB_OK)
			return err->status;
		wb_buf_adds(b, "\n");
		for (int k = 0; k < indent; k++)
			wb_buf_add(b, " ", 1);
		wb_buf_adds(b, "}");
	} else
		wb_buf_adds(b, "any");
	return WB_OK;
}

/* Is name among the strings of the array required? */
static bool
required(const json_t *req, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(req, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

/* The lines of an object's properties, joined by newlines; *any: there
 * was one. */
static int
fn_props(struct wb_buf *b, const json_t *obj, int indent, bool *any,
    struct wb_err *err)
{
	const json_t *props = json_object_get(obj, "properties"), *p;
	const json_t *req = json_object_get(obj, "required");
	const char *name, *d;
	size_t dl;

	*any = false;
	if (!json_is_object(props))
		return WB_OK;
	json_object_foreach((json_t *)props, name, p) {
		if (*any)
			wb_buf_adds(b, "\n");
		*any = true;
		if (indent < 2 && (d = nonempty(p, "description", &dl)) != NULL) {
			for (int k = 0; k < indent; k++)
				wb_buf_add(b, " ", 1);
			wb_buf_adds(b, "// ");
			wb_buf_add(b, d, dl);
			wb_buf_adds(b, "\n");
		}
		for (int k = 0; k < indent; k++)
			wb_buf_add(b, " ", 1);
		wb_buf_adds(b, name);
		wb_buf_adds(b, required(req, name) ? ": " : "?: ");
		if (fn_type(b, p, indent, err) != WB_OK)
			return err->status;
		wb_buf_adds(b, ",");
	}
	return WB_OK;
}

/* The definition of function f, element i of the list what, as
 * gpt-tokenizer writes it out. */
static int
fn_definition(struct wb_buf *b, const json_t *f, const char *what, size_t i,
    struct wb_err *err)
{
	const json_t *name = json_object_get(f, "name");
	const json_t *params = json_object_get(f, "parameters");
	const char *d;
	size_t dl;
	bool any;

	if (!json_is_string(name))
		return wb_err_set(err, WB_EDATA, "%s[%zu]: no function name",
		    what, i);
	if ((d = nonempty(f, "description", &dl)) != NULL) {
		wb_buf_adds(b, "// ");
		wb_buf_add(b, d, dl);
		wb_buf_adds(b, "\n");
	}
	wb_buf_adds(b, "type ");
	wb_buf_add(b, json_string_value(name), json_string_length(name));
	if (json_object_size(json_object_get(params, "properties")) == 0) {
		wb_buf_adds(b, " = () => any;\n\n");
		return WB_OK;
	}
	wb_buf_adds(b, " = (_: {\n");
	if (fn_props(b, params, 0, &any, err) != WB_OK)
		return err->status;
	wb_buf_adds(b, any ? "\n}) => any;\n\n" : "}) => any;\n\n");
	return WB_OK;
}

/* Is the member key of o an array, null or missing?  Else a bad record. */
static int
list_or_none(const json_t *o, const char *key, struct wb_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v) || json_is_array(v))
		return WB_OK;
	return wb_err_set(err, WB_EDATA, "field \"%s\" is not an array", key);
}

/* The function definitions (of "functions", then of "tools") as
 * gpt-tokenizer writes them out; *n: how many. */
static int
fn_definitions(struct wb_buf *b, const json_t *chat, size_t *n,
    struct wb_err *err)
{
	const json_t *t;
	const char *type;
	size_t i;
	int st;

	*n = 0;
	if ((st = list_or_none(chat, "functions", err)) != WB_OK ||
	    (st = list_or_none(chat, "tools", err)) != WB_OK)
		return st;
	wb_buf_adds(b, "namespace functions {\n\n");
	json_array_foreach(json_object_get(chat, "functions"), i, t) {
		if ((st = fn_definition(b, t, "functions", i, err)) != WB_OK)
			return st;
		(*n)++;
	}
	json_array_foreach(json_object_get(chat, "tools"), i, t) {
		type = json_string_value(json_object_get(t, "type"));
		if (type == NULL || strcmp(type, "function") != 0)
			return wb_err_set(err, WB_EDATA, "tools[%zu]: a tool of "
			    "type %s cannot be counted (only \"function\")", i,
			    type ? type : "(none)");
		if ((st = fn_definition(b, json_object_get(t, "function"),
		    "tools", i, err)) != WB_OK)
			return st;
		(*n)++;
	}
	wb_buf_adds(b, "} // namespace functions");
	return b->oom ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The tokens of a function call {"name", "arguments"} of messages[m]. */
static int
count_call(const struct wb_counter *c, const json_t *call, size_t m,
    uint64_t *n, struct wb_err *err)
{
	const char *s;
	size_t len;

	if (!json_is_object(call))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: a function "
		    "call that is not an object", m);
	if ((s = nonempty(call, "name", &len)) != NULL)
		*n += wb_count(c, s, len);
	if ((s = nonempty(call, "arguments", &len)) != NULL)
		*n += wb_count(c, s, len);
	*n += 3;
	return WB_OK;
}

/* The text of messages[m]'s content into b: a string, or the texts of an
 * array of content parts one after the other; null or missing (only
 * with function calls) is none. */
static int
content_text(struct wb_buf *b, const json_t *msg, size_t m, bool calls,
    struct wb_err *err)
{
	const json_t *ct = json_object_get(msg, "content"), *part, *t;
	const char *type;
	size_t i;

	if (json_is_string(ct))
		return wb_buf_add(b, json_string_value(ct),
		    json_string_length(ct)) == 0 ? WB_OK : WB_EINTERNAL;
	if ((ct == NULL || json_is_null(ct)) && calls)
		return WB_OK;
	if (ct == NULL || json_is_null(ct))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: not an object "
		    "with a string role and content", m);
	if (!json_is_array(ct))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: content is "
		    "neither a string nor an array of parts", m);
	json_array_foreach(ct, i, part) {
		type = json_string_value(json_object_get(part, "type"));
		t = json_object_get(part, "text");
		if (type == NULL || strcmp(type, "text") != 0)
			return wb_err_set(err, WB_EDATA, "messages[%zu].content"
			    "[%zu]: a part of type %s cannot be counted (only "
			    "\"text\")", m, i, type ? type : "(none)");
		if (!json_is_string(t))
			return wb_err_set(err, WB_EDATA, "messages[%zu].content"
			    "[%zu]: a text part without a string text", m, i);
		wb_buf_add(b, json_string_value(t), json_string_length(t));
	}
	return WB_OK;
}

/* The tokens of messages[m], the system message padded with a newline
 * when *pad. */
static int
count_message(const struct wb_counter *c, const json_t *msg, size_t m,
    bool *pad, int64_t *total, struct wb_err *err)
{
	const json_t *role = json_object_get(msg, "role");
	const json_t *fc = json_object_get(msg, "function_call");
	const json_t *tc = json_object_get(msg, "tool_calls"), *call;
	const json_t *name = json_object_get(msg, "name");
	struct wb_buf b = { 0 };
	const char *type;
	uint64_t n = 3;
	size_t i;
	int st;

	if (!json_is_object(msg) || !json_is_string(role))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: not an object "
		    "with a string role and content", m);
	if (name != NULL && !json_is_null(name) && !json_is_string(name))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: name is not a "
		    "string", m);
	if (tc != NULL && !json_is_null(tc) && !json_is_array(tc))
		return wb_err_set(err, WB_EDATA, "messages[%zu]: tool_calls is "
		    "not an array", m);
	if (fc != NULL && !json_is_null(fc) &&
	    (st = count_call(c, fc, m, &n, err)) != WB_OK)
		return st;
	json_array_foreach(tc, i, call) {
		type = json_string_value(json_object_get(call, "type"));
		if (type == NULL || strcmp(type, "function") != 0)
			return wb_err_set(err, WB_EDATA, "messages[%zu].tool_calls"
			    "[%zu]: a call of type %s cannot be counted (only "
			    "\"function\")", m, i, type ? type : "(none)");
		if ((st = count_call(c, json_object_get(call, "function"), m,
		    &n, err)) != WB_OK)
			return st;
	}
	if ((st = content_text(&b, msg, m, json_array_size(tc) > 0 ||
	    (fc != NULL && !json_is_null(fc)), err)) != WB_OK) {
		wb_buf_free(&b);
		return st;
	}
	if (strcmp(json_string_value(role), "system") == 0 && *pad) {
		*pad = false;
		if (b.len > 0 && b.p[b.len - 1] != '\n')
			wb_buf_add(&b, "\n", 1);
	}
	if (b.oom) {
		wb_buf_free(&b);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	n += wb_count(c, json_string_value(role), json_string_length(role));
	n += b.len > 0 ? wb_count(c, b.p, b.len) : 0;
	wb_buf_free(&b);
	if (json_string_length(name) > 0)
		n += wb_count(c, json_string_value(name),
		    json_string_length(name)) + 1;
	*total += (int64_t)n;
	if (strcmp(json_string_value(role), "function") == 0)
		*total -= 2;
	return WB_OK;
}

/* A pinned call, "function_call" or "tool_choice": its name and 4, or 1
 * for "none". */
static int
count_choice(const struct wb_counter *c, const json_t *chat, int64_t *total)
{
	const json_t *fc = json_object_get(chat, "function_call");
	const json_t *tc = json_object_get(chat, "tool_choice"), *f;
	const char *s;
	size_t len;

	if (fc == NULL || json_is_null(fc))
		fc = tc;
	f = json_is_object(json_object_get(fc, "function")) ?
	    json_object_get(fc, "function") : fc;
	if (json_is_string(fc) && strcmp(json_string_value(fc), "none") == 0)
		*total += 1;
	else if ((s = nonempty(f, "name", &len)) != NULL)
		*total += (int64_t)wb_count(c, s, len) + 4;
	return WB_OK;
}

int
wb_count_chat(const struct wb_counter *c, const json_t *chat, uint64_t *n,
    struct wb_err *err)
{
	const json_t *messages = json_object_get(chat, "messages"), *m;
	struct wb_buf b = { 0 };
	size_t i, nfn = 0;
	int64_t total = 3;
	bool pad, system = false;
	int st;

	if (!json_is_array(messages))
		return wb_err_set(err, WB_EDATA,
		    "field \"messages\" is not an array");
	if ((st = fn_definitions(&b, chat, &nfn, err)) != WB_OK) {
		wb_buf_free(&b);
		return st;
	}
	pad = nfn > 0;
	json_array_foreach(messages, i, m) {
		if ((st = count_message(c, m, i, &pad, &total, err)) != WB_OK) {
			wb_buf_free(&b);
			return st;
		}
		system |= strcmp(json_string_value(json_object_get(m, "role")),
		    "system") == 0;
	}
	if (nfn > 0)
		total += (int64_t)wb_count(c, b.p, b.len) + 9 - (system ? 4 : 0);
	wb_buf_free(&b);
	count_choice(c, chat, &total);
	*n = total < 0 ? 0 : (uint64_t)total;
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

bool
wb_count_stream_reset(struct wb_count_stream *cs)
{
	if (cs->c->ops->stream_reset == NULL)
		return false;
	cs->c->ops->stream_reset(cs);
	return true;
}

void
wb_count_stream_go_on(struct wb_count_stream *cs)
{
	if (cs->c->ops->stream_go_on != NULL)
		cs->c->ops->stream_go_on(cs);
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
wb_counter_left_cut(const struct wb_counter *c, const char *s, size_t from,
    size_t to)
{
	if (c->ops->left_cut != NULL)
		return c->ops->left_cut(c, s, from, to);
	return wb_counter_last_cut(c, s, from, to);
}

size_t
wb_counter_lookback(const struct wb_counter *c)
{
	return c->ops->lookback ? c->ops->lookback(c) : 0;
}

bool
wb_counter_can_cut(const struct wb_counter *c)
{
	return c->ops->last_cut != NULL;
}
