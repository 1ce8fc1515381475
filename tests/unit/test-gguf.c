/*
 * test-gguf.c: the GGUF metadata reader on the files tests/tokenizer/mkgguf.js
 * writes (every key and value type read back), on every cut of them, and
 * on malformed files built here byte by byte, each with its message.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"
#include "unit.h"

#define MKGGUF "tests/tokenizer/mkgguf.js"

static char dir[] = "/tmp/test-gguf.XXXXXX";

static const char *
fixture(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static struct wb_gguf *
open_fixture(const char *name)
{
	struct wb_err err;
	struct wb_gguf *g = wb_gguf_open(fixture(name), &err);

	if (g == NULL)
		fprintf(stderr, "%s\n", err.msg);
	CHECK(g != NULL);
	return g;
}

/* Does s[0..len) read text? */
static bool
is(struct wb_gguf_str s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.s, text, s.len) == 0;
}

static bool
str_is(const struct wb_gguf *g, const char *key, const char *text)
{
	struct wb_gguf_str s;
	struct wb_err err;

	return wb_gguf_str(g, key, &s, &err) == WB_OK && is(s, text);
}

/* Is the array of strings at key exactly want[0..n)? */
static bool
strv_is(const struct wb_gguf *g, const char *key, const char *const *want,
    size_t n)
{
	struct wb_gguf_str *v;
	struct wb_err err;
	size_t got, i;
	bool ok;

	if (wb_gguf_strv(g, key, &v, &got, &err) != WB_OK)
		return false;
	ok = got == n;
	for (i = 0; ok && i < n; i++)
		ok = is(v[i], want[i]);
	free(v);
	return ok;
}

static bool
i32v_is(const struct wb_gguf *g, const char *key, const int32_t *want,
    size_t n)
{
	int32_t *v;
	struct wb_err err;
	size_t got;
	bool ok;

	if (wb_gguf_i32v(g, key, &v, &got, &err) != WB_OK)
		return false;
	ok = got == n && (n == 0 || memcmp(v, want, n * sizeof(*v)) == 0);
	free(v);
	return ok;
}

static bool
f32v_is(const struct wb_gguf *g, const char *key, const float *want, size_t n)
{
	float *v;
	struct wb_err err;
	size_t got, i;
	bool ok;

	if (wb_gguf_f32v(g, key, &v, &got, &err) != WB_OK)
		return false;
	ok = got == n;
	for (i = 0; ok && i < n; i++)
		ok = v[i] == want[i];
	free(v);
	return ok;
}

/* Does the call's error read msg, with "PATH" standing for the file? */
#define CHECK_ERR(call, status, file, text) do { \
	struct wb_err e_; \
	char want_[600]; \
	int rc_ = (call); \
	snprintf(want_, sizeof(want_), text, file); \
	CHECK_U(rc_, status); \
	if (strcmp(e_.msg, want_) != 0) \
		fprintf(stderr, "got:  %s\nwant: %s\n", e_.msg, want_); \
	CHECK(strcmp(e_.msg, want_) == 0); \
} while (0)
#define ERR (&e_)

static void
gpt2_tokenizer_reads_back(void)
{
	static const char *const tokens[] = { "a", "b", "c", "ab", "abc",
	    "\xc4\xa0", "\304\240a", "<|end|>" };
	static const char *const merges[] = { "a b", "ab c", "\xc4\xa0 a" };
	static const int32_t types[] = { 1, 1, 1, 1, 1, 1, 1, 3 };
	struct wb_gguf *g = open_fixture("gpt2.gguf");
	struct wb_err err;
	uint32_t u = 0;
	uint64_t count = 0;
	int elem = -2;
	size_t i;

	if (g == NULL)
		return;
	CHECK_U(wb_gguf_version(g), 3);
	CHECK_U(wb_gguf_alignment(g), 32);
	CHECK_U(wb_gguf_nkeys(g), 9);
	CHECK(str_is(g, "tokenizer.ggml.model", "gpt2"));
	CHECK(str_is(g, "tokenizer.ggml.pre", "default"));
	CHECK(str_is(g, "general.architecture", "gpt2"));
	CHECK(str_is(g, "general.name", "Tiny BPE"));
	CHECK(strv_is(g, "tokenizer.ggml.tokens", tokens, WB_NELEM(tokens)));
	CHECK(strv_is(g, "tokenizer.ggml.merges", merges, WB_NELEM(merges)));
	CHECK(i32v_is(g, "tokenizer.ggml.token_type", types, WB_NELEM(types)));
	CHECK(wb_gguf_u32(g, "tokenizer.ggml.bos_token_id", &u, &err) == WB_OK);
	CHECK_U(u, 7);
	CHECK_U(wb_gguf_type(g, "tokenizer.ggml.tokens", &elem, &count),
	    WB_GGUF_ARRAY);
	CHECK_U(elem, WB_GGUF_STRING);
	CHECK_U(count, 8);
	CHECK_U(wb_gguf_type(g, "tokenizer.ggml.model", &elem, &count),
	    WB_GGUF_STRING);
	CHECK(elem == -1 && count == 1);
	CHECK(wb_gguf_type(g, "tokenizer.ggml.scores", NULL, NULL) == -1);
	/* The keys come in byte order, whatever the file's order. */
	CHECK(is(wb_gguf_key(g, 0), "general.architecture"));
	for (i = 1; i < wb_gguf_nkeys(g); i++) {
		struct wb_gguf_str a = wb_gguf_key(g, i - 1), b = wb_gguf_key(g, i);
		size_t n = a.len < b.len ? a.len : b.len;
		int r = memcmp(a.s, b.s, n);
		CHECK(r < 0 || (r == 0 && a.len < b.len));
	}
	wb_gguf_free(g);
}

static void
llama_tokenizer_reads_back(void)
{
	static const char *const tokens[] = { "<unk>", "<s>", "</s>", "<0x0A>",
	    "\xe2\x96\x81", "\342\226\201a", "b", "\342\226\201ab" };
	static const float scores[] = { 0, 0, 0, 0, -1.5f, -2.25f, -3, -0.5f };
	static const int32_t types[] = { 2, 3, 3, 6, 1, 1, 1, 1 };
	struct wb_gguf *g = open_fixture("llama.gguf");
	struct wb_err err;
	bool b = true;
	uint32_t u = 0;
	int32_t i = 0;

	if (g == NULL)
		return;
	CHECK_U(wb_gguf_version(g), 2);
	CHECK_U(wb_gguf_alignment(g), 64);
	CHECK_U(wb_gguf_nkeys(g), 10);
	CHECK(str_is(g, "tokenizer.ggml.model", "llama"));
	CHECK(strv_is(g, "tokenizer.ggml.tokens", tokens, WB_NELEM(tokens)));
	CHECK(f32v_is(g, "tokenizer.ggml.scores", scores, WB_NELEM(scores)));
	CHECK(i32v_is(g, "tokenizer.ggml.token_type", types, WB_NELEM(types)));
	CHECK(wb_gguf_bool(g, "tokenizer.ggml.add_space_prefix", &b, &err) ==
	    WB_OK && !b);
	CHECK(wb_gguf_bool(g, "tokenizer.ggml.add_bos_token", &b, &err) ==
	    WB_OK && b);
	CHECK(wb_gguf_u32(g, "tokenizer.ggml.unknown_token_id", &u, &err) ==
	    WB_OK && u == 0);
	/* A count written as u64 reads as u32 and i32 when it fits. */
	CHECK(wb_gguf_u32(g, "llama.context_length", &u, &err) == WB_OK);
	CHECK_U(u, 4096);
	CHECK(wb_gguf_i32(g, "llama.context_length", &i, &err) == WB_OK);
	CHECK_U(i, 4096);
	wb_gguf_free(g);
}

static void
every_value_type_reads_back(void)
{
	static const struct { const char *key; int type, elem; uint64_t n; }
	types[] = {
		{ "t.u8", WB_GGUF_U8, -1, 1 }, { "t.i8", WB_GGUF_I8, -1, 1 },
		{ "t.u16", WB_GGUF_U16, -1, 1 }, { "t.i16", WB_GGUF_I16, -1, 1 },
		{ "t.u32", WB_GGUF_U32, -1, 1 }, { "t.i32", WB_GGUF_I32, -1, 1 },
		{ "t.f32", WB_GGUF_F32, -1, 1 }, { "t.bool", WB_GGUF_BOOL, -1, 1 },
		{ "t.string", WB_GGUF_STRING, -1, 1 },
		{ "t.u64", WB_GGUF_U64, -1, 1 }, { "t.i64", WB_GGUF_I64, -1, 1 },
		{ "t.f64", WB_GGUF_F64, -1, 1 },
		{ "a.u8", WB_GGUF_ARRAY, WB_GGUF_U8, 2 },
		{ "a.i8", WB_GGUF_ARRAY, WB_GGUF_I8, 2 },
		{ "a.u16", WB_GGUF_ARRAY, WB_GGUF_U16, 1 },
		{ "a.i16", WB_GGUF_ARRAY, WB_GGUF_I16, 2 },
		{ "a.u32", WB_GGUF_ARRAY, WB_GGUF_U32, 1 },
		{ "a.i32", WB_GGUF_ARRAY, WB_GGUF_I32, 3 },
		{ "a.f32", WB_GGUF_ARRAY, WB_GGUF_F32, 2 },
		{ "a.bool", WB_GGUF_ARRAY, WB_GGUF_BOOL, 3 },
		{ "a.string", WB_GGUF_ARRAY, WB_GGUF_STRING, 3 },
		{ "a.u64", WB_GGUF_ARRAY, WB_GGUF_U64, 2 },
		{ "a.i64", WB_GGUF_ARRAY, WB_GGUF_I64, 1 },
		{ "a.f64", WB_GGUF_ARRAY, WB_GGUF_F64, 1 },
		{ "a.empty", WB_GGUF_ARRAY, WB_GGUF_U32, 0 },
		{ "a.nested", WB_GGUF_ARRAY, WB_GGUF_ARRAY, 2 },
	};
	static const char *const strs[] = { "", "x", "h\xc3\xa9" };
	static const int32_t i8s[] = { -128, 127 }, u8s[] = { 1, 255 },
	    i32s[] = { INT32_MIN, INT32_MAX, 0 }, i16s[] = { -32768, 32767 },
	    u16s[] = { 65535 }, u64s[] = { 5, 6 }, i64s[] = { -5 };
	static const float f32s[] = { 1.5f, -0.125f };
	struct wb_gguf *g = open_fixture("types.gguf");
	struct wb_err err;
	uint64_t count;
	uint32_t u;
	int32_t i;
	int elem;
	bool b;
	size_t k;

	if (g == NULL)
		return;
	CHECK_U(wb_gguf_nkeys(g), 28);
	for (k = 0; k < WB_NELEM(types); k++) {
		elem = -2;
		count = 99;
		CHECK_U(wb_gguf_type(g, types[k].key, &elem, &count), types[k].type);
		CHECK_U(elem, types[k].elem);
		CHECK_U(count, types[k].n);
	}
	CHECK(wb_gguf_u32(g, "t.u8", &u, &err) == WB_OK && u == 200);
	CHECK(wb_gguf_u32(g, "t.u16", &u, &err) == WB_OK && u == 60000);
	CHECK(wb_gguf_u32(g, "t.u32", &u, &err) == WB_OK && u == 4000000000u);
	CHECK(wb_gguf_u32(g, "t.small_u64", &u, &err) == WB_OK && u == 7);
	CHECK(wb_gguf_u32(g, "t.small_i64", &u, &err) == WB_EDATA);
	CHECK(wb_gguf_i32(g, "t.i8", &i, &err) == WB_OK && i == -100);
	CHECK(wb_gguf_i32(g, "t.i16", &i, &err) == WB_OK && i == -30000);
	CHECK(wb_gguf_i32(g, "t.i32", &i, &err) == WB_OK && i == -2000000000);
	CHECK(wb_gguf_i32(g, "t.small_i64", &i, &err) == WB_OK && i == -7);
	CHECK(wb_gguf_i32(g, "t.u8", &i, &err) == WB_OK && i == 200);
	CHECK(wb_gguf_bool(g, "t.bool", &b, &err) == WB_OK && b);
	CHECK(str_is(g, "t.string", "h\xc3\xa9llo"));
	CHECK(strv_is(g, "a.string", strs, WB_NELEM(strs)));
	CHECK(i32v_is(g, "a.i8", i8s, 2));
	CHECK(i32v_is(g, "a.u8", u8s, 2));
	CHECK(i32v_is(g, "a.i16", i16s, 2));
	CHECK(i32v_is(g, "a.u16", u16s, 1));
	CHECK(i32v_is(g, "a.i32", i32s, 3));
	CHECK(i32v_is(g, "a.u64", u64s, 2));
	CHECK(i32v_is(g, "a.i64", i64s, 1));
	CHECK(i32v_is(g, "a.empty", NULL, 0));
	CHECK(f32v_is(g, "a.f32", f32s, 2));
	wb_gguf_free(g);
}

static void
lookups_of_another_type_fail(void)
{
	const char *p = fixture("types.gguf");
	struct wb_gguf *g = open_fixture("types.gguf");
	struct wb_gguf_str s, *sv;
	float *fv;
	int32_t i, *iv;
	uint32_t u;
	size_t n;
	bool b;

	if (g == NULL)
		return;
	CHECK_ERR(wb_gguf_str(g, "nope", &s, ERR), 65, p,
	    "%s: no key 'nope'");
	CHECK_ERR(wb_gguf_str(g, "t.u32", &s, ERR), 65, p,
	    "%s: key 't.u32' has type u32, not string");
	CHECK_ERR(wb_gguf_bool(g, "t.u8", &b, ERR), 65, p,
	    "%s: key 't.u8' has type u8, not bool");
	CHECK_ERR(wb_gguf_u32(g, "t.f32", &u, ERR), 65, p,
	    "%s: key 't.f32' has type f32, not integer");
	CHECK_ERR(wb_gguf_u32(g, "t.bool", &u, ERR), 65, p,
	    "%s: key 't.bool' has type bool, not integer");
	CHECK_ERR(wb_gguf_i32(g, "t.string", &i, ERR), 65, p,
	    "%s: key 't.string' has type string, not integer");
	CHECK_ERR(wb_gguf_u32(g, "a.u32", &u, ERR), 65, p,
	    "%s: key 'a.u32' has type array of u32, not integer");
	CHECK_ERR(wb_gguf_u32(g, "t.u64", &u, ERR), 65, p,
	    "%s: key 't.u64' is 1099511627776, out of the range of a u32");
	CHECK_ERR(wb_gguf_u32(g, "t.i8", &u, ERR), 65, p,
	    "%s: key 't.i8' is -100, out of the range of a u32");
	CHECK_ERR(wb_gguf_i32(g, "t.u32", &i, ERR), 65, p,
	    "%s: key 't.u32' is 4000000000, out of the range of an i32");
	CHECK_ERR(wb_gguf_i32(g, "t.i64", &i, ERR), 65, p,
	    "%s: key 't.i64' is -1099511627776, out of the range of an i32");
	CHECK_ERR(wb_gguf_strv(g, "t.string", &sv, &n, ERR), 65, p,
	    "%s: key 't.string' has type string, not array of string");
	CHECK_ERR(wb_gguf_strv(g, "a.u8", &sv, &n, ERR), 65, p,
	    "%s: key 'a.u8' has type array of u8, not array of string");
	CHECK_ERR(wb_gguf_f32v(g, "a.f64", &fv, &n, ERR), 65, p,
	    "%s: key 'a.f64' has type array of f64, not array of f32");
	CHECK_ERR(wb_gguf_i32v(g, "a.f32", &iv, &n, ERR), 65, p,
	    "%s: key 'a.f32' has type array of f32, not array of integers");
	CHECK_ERR(wb_gguf_i32v(g, "a.nested", &iv, &n, ERR), 65, p,
	    "%s: key 'a.nested' has type array of array, not array of integers");
	CHECK_ERR(wb_gguf_i32v(g, "a.u32", &iv, &n, ERR), 65, p,
	    "%s: key 'a.u32': element 0 is 4294967295, out of the range of an"
	    " i32");
	wb_gguf_free(g);
}

/* The metadata of tensor.gguf ends at byte 69; its tensor info (33
 * bytes), padding and data follow, and are not read: a cut there is seen
 * only when fewer bytes are left than the tensor count needs at least. */
static void
tensors_after_the_metadata_are_left_alone(void)
{
	struct wb_gguf *g = open_fixture("tensor.gguf");
	FILE *f = fopen(fixture("tensor.gguf"), "rb");
	unsigned char buf[256];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	struct wb_err err;

	if (f)
		fclose(f);
	if (g == NULL)
		return;
	CHECK(str_is(g, "general.architecture", "llama"));
	CHECK_U(wb_gguf_nkeys(g), 1);
	wb_gguf_free(g);
	CHECK_U(n, 144);
	g = wb_gguf_open_mem(buf, 69 + 24, "t", &err);
	CHECK(g != NULL);
	wb_gguf_free(g);
	CHECK(wb_gguf_open_mem(buf, 69 + 23, "t", &err) == NULL);
	CHECK(strcmp(err.msg, "t: byte 8: 1 tensors cannot fit in the 23 bytes"
	    " after the metadata") == 0);
}

/* Every proper prefix of a file of metadata is refused with a one-line message
 * naming a byte offset inside it; none crashes. */
static void
every_cut_of_a_file_fails(void)
{
	static const char *const files[] = { "gpt2.gguf", "llama.gguf",
	    "types.gguf" };
	char cut[160];
	size_t f;

	snprintf(cut, sizeof(cut), "%s/cut.gguf", dir);
	for (f = 0; f < WB_NELEM(files); f++) {
		FILE *in = fopen(fixture(files[f]), "rb");
		unsigned char buf[4096];
		size_t size = in ? fread(buf, 1, sizeof(buf), in) : 0, len;
		int bad = 0;

		if (in)
			fclose(in);
		CHECK(size > 24 && size < sizeof(buf));
		for (len = 0; len < size; len++) {
			struct wb_err err;
			struct wb_gguf *g;
			FILE *out = fopen(cut, "wb");
			char want[200];

			if (out == NULL || fwrite(buf, 1, len, out) != len ||
			    fclose(out) != 0)
				abort();
			memset(&err, 0, sizeof(err));
			g = wb_gguf_open(cut, &err);
			snprintf(want, sizeof(want), "%s: %s", cut,
			    len == 0 ? "not a GGUF file" : "byte ");
			if (g != NULL || err.status != WB_EDATA ||
			    strncmp(err.msg, want, strlen(want)) != 0 ||
			    strchr(err.msg, '\n') != NULL || err.offset > len) {
				if (bad++ == 0)
					fprintf(stderr, "%s cut at %zu: %s\n", files[f],
					    len, g ? "opened" : err.msg);
			}
			wb_gguf_free(g);
			/* The same bytes in memory, as the fuzzer reads them. */
			g = wb_gguf_open_mem(buf, len, "m", &err);
			if (g != NULL || err.status != WB_EDATA)
				bad++;
			wb_gguf_free(g);
		}
		CHECK(bad == 0);
	}
	unlink(cut);
}

/* Malformed files, built byte by byte. */
struct b {
	unsigned char p[512];
	size_t n;
};

static void
put(struct b *b, const void *s, size_t n)
{
	if (n > sizeof(b->p) - b->n)
		abort();
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
p32(struct b *b, uint32_t v)
{
	unsigned char x[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(b, x, 4);
}

static void
p64(struct b *b, uint64_t v)
{
	p32(b, (uint32_t)v);
	p32(b, (uint32_t)(v >> 32));
}

static void
pstr(struct b *b, const char *s)
{
	p64(b, strlen(s));
	put(b, s, strlen(s));
}

static struct b *
head(uint32_t version, uint64_t ntensors, uint64_t nkv)
{
	static struct b b;

	b.n = 0;
	put(&b, "GGUF", 4);
	p32(&b, version);
	p64(&b, ntensors);
	p64(&b, nkv);
	return &b;
}

/* Key "k" of type t: its type field at byte 33, the value at 37. */
static struct b *
key_k(uint32_t t)
{
	struct b *b = head(3, 0, 1);

	pstr(b, "k");
	p32(b, t);
	return b;
}

static void
expect_bad(const struct b *b, const char *msg)
{
	struct wb_err err;
	struct wb_gguf *g = wb_gguf_open_mem(b->p, b->n, "x.gguf", &err);

	CHECK(g == NULL);
	if (g != NULL) {
		wb_gguf_free(g);
		return;
	}
	CHECK_U(err.status, WB_EDATA);
	if (strcmp(err.msg, msg) != 0)
		fprintf(stderr, "got:  %s\nwant: %s\n", err.msg, msg);
	CHECK(strcmp(err.msg, msg) == 0);
}

static void
expect_good(const struct b *b)
{
	struct wb_err err;
	struct wb_gguf *g = wb_gguf_open_mem(b->p, b->n, "x.gguf", &err);

	if (g == NULL)
		fprintf(stderr, "refused: %s\n", err.msg);
	CHECK(g != NULL);
	wb_gguf_free(g);
}

static void
a_file_of_another_kind_is_not_gguf(void)
{
	static const char text[] = "{\"not\": \"a model\"}\n";
	struct b *b = head(3, 0, 0);
	char want[200];
	struct wb_err err;

	b->p[3] = 'X';
	expect_bad(b, "x.gguf: not a GGUF file");
	b->n = 0;
	expect_bad(b, "x.gguf: not a GGUF file");
	b->n = 0;
	put(b, text, sizeof(text) - 1);
	expect_bad(b, "x.gguf: not a GGUF file");
	b->n = 0;
	put(b, "GG", 2);
	expect_bad(b, "x.gguf: byte 0: truncated: the magic needs 4 bytes, 2"
	    " left");
	/* Through a path, the path is named. */
	snprintf(want, sizeof(want), "%s: not a GGUF file", MKGGUF);
	CHECK(wb_gguf_open(MKGGUF, &err) == NULL && err.status == WB_EDATA);
	CHECK(strcmp(err.msg, want) == 0);
	CHECK(wb_gguf_open("/nonexistent.gguf", &err) == NULL);
	CHECK_U(err.status, WB_ENOINPUT);
	CHECK(strcmp(err.msg, "/nonexistent.gguf: No such file or directory")
	    == 0);
	CHECK(wb_gguf_open(dir, &err) == NULL);
	CHECK_U(err.status, WB_ENOINPUT);
	CHECK(strstr(err.msg, "is a directory") != NULL);
}

static void
versions_other_than_2_and_3_are_refused(void)
{
	expect_bad(head(1, 0, 0), "x.gguf: byte 4: GGUF version 1 is not"
	    " supported (only 2 and 3)");
	expect_bad(head(0, 0, 0), "x.gguf: byte 4: GGUF version 0 is not"
	    " supported (only 2 and 3)");
	expect_bad(head(4, 0, 0), "x.gguf: byte 4: GGUF version 4 is not"
	    " supported (only 2 and 3)");
	expect_bad(head(0x03000000, 0, 0), "x.gguf: byte 4: version 0x03000000:"
	    " a big-endian GGUF file, which is not supported");
	expect_good(head(2, 0, 0));
	expect_good(head(3, 0, 0));
}

static void
counts_past_the_file_are_refused(void)
{
	struct b *b;

	expect_bad(head(3, 0, UINT64_MAX), "x.gguf: byte 16:"
	    " 18446744073709551615 key-value pairs cannot fit in the 0 bytes"
	    " left");
	/* Each pair takes 14 bytes at least. */
	b = head(3, 0, 2);
	pstr(b, "k");
	p32(b, WB_GGUF_U8);
	put(b, "\1", 1);
	put(b, "0123456789abc", 13);
	expect_bad(b, "x.gguf: byte 16: 2 key-value pairs cannot fit in the 27"
	    " bytes left");
	expect_bad(head(3, 1000, 0), "x.gguf: byte 8: 1000 tensors cannot fit"
	    " in the 0 bytes after the metadata");
	expect_bad(head(3, UINT64_MAX, 0), "x.gguf: byte 8: 18446744073709551615"
	    " tensors cannot fit in the 0 bytes after the metadata");
	b = key_k(WB_GGUF_ARRAY);
	p32(b, WB_GGUF_U32);
	p64(b, UINT64_MAX);
	expect_bad(b, "x.gguf: byte 41: key 'k': 18446744073709551615 elements"
	    " of type u32 cannot fit in the 0 bytes left");
	/* 2^61 strings: 8 bytes each would overflow 64 bits. */
	b = key_k(WB_GGUF_ARRAY);
	p32(b, WB_GGUF_STRING);
	p64(b, (uint64_t)1 << 61);
	pstr(b, "x");
	expect_bad(b, "x.gguf: byte 41: key 'k': 2305843009213693952 elements"
	    " of type string cannot fit in the 9 bytes left");
	b = key_k(WB_GGUF_ARRAY);
	p32(b, WB_GGUF_ARRAY);
	p64(b, 2);
	p32(b, WB_GGUF_U8);
	p64(b, 0);
	expect_bad(b, "x.gguf: byte 41: key 'k': 2 elements of type array"
	    " cannot fit in the 12 bytes left");
}

static void
lengths_past_the_end_are_refused(void)
{
	struct b *b;

	b = head(3, 0, 1);
	p64(b, UINT64_MAX);
	put(b, "k\0\0\0\0\0", 6);
	expect_bad(b, "x.gguf: byte 24: key length 18446744073709551615 is over"
	    " 65535");
	b = head(3, 0, 1);
	p64(b, 70000);
	put(b, "k\0\0\0\0\0", 6);
	expect_bad(b, "x.gguf: byte 24: key length 70000 is over 65535");
	b = head(3, 0, 1);
	p64(b, 100);
	put(b, "k\0\0\0\0\0", 6);
	expect_bad(b, "x.gguf: byte 24: key length 100 runs past the end of the"
	    " file (6 bytes left)");
	b = head(3, 0, 1);
	p64(b, 0);
	put(b, "\0\0\0\0\0\0", 6);
	expect_bad(b, "x.gguf: byte 24: an empty key");
	b = key_k(WB_GGUF_STRING);
	p64(b, 10);
	put(b, "abc", 3);
	expect_bad(b, "x.gguf: byte 37: key 'k': string length 10 runs past the"
	    " end of the file (3 bytes left)");
	b = key_k(WB_GGUF_STRING);
	p64(b, UINT64_MAX);
	expect_bad(b, "x.gguf: byte 37: key 'k': string length"
	    " 18446744073709551615 runs past the end of the file (0 bytes"
	    " left)");
	/* In an array, the second string runs out. */
	b = key_k(WB_GGUF_ARRAY);
	p32(b, WB_GGUF_STRING);
	p64(b, 2);
	pstr(b, "ab");
	p64(b, 5);
	put(b, "xyz", 3);
	expect_bad(b, "x.gguf: byte 59: key 'k': string length 5 runs past the"
	    " end of the file (3 bytes left)");
	b = key_k(WB_GGUF_U32);
	put(b, "\1\2", 2);
	expect_bad(b, "x.gguf: byte 37: truncated: u32 needs 4 bytes, 2 left");
}

static void
unknown_and_wrong_value_types_are_refused(void)
{
	struct b *b;

	b = key_k(13);
	put(b, "\0", 1);
	expect_bad(b, "x.gguf: byte 33: key 'k': unknown value type 13");
	b = key_k(UINT32_MAX);
	put(b, "\0", 1);
	expect_bad(b, "x.gguf: byte 33: key 'k': unknown value type 4294967295");
	b = key_k(WB_GGUF_ARRAY);
	p32(b, 13);
	p64(b, 0);
	expect_bad(b, "x.gguf: byte 37: key 'k': unknown array element type 13");
	b = key_k(WB_GGUF_BOOL);
	put(b, "\2", 1);
	expect_bad(b, "x.gguf: byte 37: key 'k': bool value 2 is not 0 or 1");
	b = key_k(WB_GGUF_ARRAY);
	p32(b, WB_GGUF_BOOL);
	p64(b, 2);
	put(b, "\1\377", 2);
	expect_bad(b, "x.gguf: byte 50: key 'k': bool value 255 is not 0 or 1");
	/* general.alignment must be a u32 power of two. */
	b = head(3, 0, 1);
	pstr(b, "general.alignment");
	p32(b, WB_GGUF_STRING);
	pstr(b, "32");
	expect_bad(b, "x.gguf: byte 24: general.alignment is a string, not a"
	    " u32");
	b = head(3, 0, 1);
	pstr(b, "general.alignment");
	p32(b, WB_GGUF_U32);
	p32(b, 48);
	expect_bad(b, "x.gguf: byte 24: general.alignment 48 is not a power of"
	    " two");
	b->n -= 4;
	p32(b, 0);
	expect_bad(b, "x.gguf: byte 24: general.alignment 0 is not a power of"
	    " two");
	b->n -= 4;
	p32(b, 8);
	expect_good(b);
}

static void
keys_are_unique_and_shown_safely(void)
{
	char key[101], want[200];
	struct b *b = head(3, 0, 3);

	pstr(b, "k");
	p32(b, WB_GGUF_U8);
	put(b, "\1", 1);
	pstr(b, "j");
	p32(b, WB_GGUF_U8);
	put(b, "\1", 1);
	pstr(b, "k");
	p32(b, WB_GGUF_U8);
	put(b, "\1", 1);
	expect_bad(b, "x.gguf: byte 52: key 'k' appears twice");
	b = head(3, 0, 1);
	pstr(b, "a\nb");
	p32(b, 99);
	expect_bad(b, "x.gguf: byte 35: key 'a?b': unknown value type 99");
	memset(key, 'x', 100);
	key[100] = '\0';
	b = head(3, 0, 1);
	pstr(b, key);
	p32(b, 99);
	snprintf(want, sizeof(want), "x.gguf: byte 132: key '%.64s...': unknown"
	    " value type 99", key);
	expect_bad(b, want);
}

static void
arrays_nest_four_deep_at_most(void)
{
	struct b *b = key_k(WB_GGUF_ARRAY);
	int d;

	/* Arrays at 37, 49, 61 and 73: the fourth holds one u8. */
	for (d = 1; d < WB_GGUF_MAX_DEPTH; d++) {
		p32(b, WB_GGUF_ARRAY);
		p64(b, 1);
	}
	p32(b, WB_GGUF_U8);
	p64(b, 1);
	put(b, "\7", 1);
	expect_good(b);
	b = key_k(WB_GGUF_ARRAY);
	for (d = 1; d <= WB_GGUF_MAX_DEPTH; d++) {
		p32(b, WB_GGUF_ARRAY);
		p64(b, 1);
	}
	p32(b, WB_GGUF_U8);
	p64(b, 0);
	expect_bad(b, "x.gguf: byte 73: key 'k': arrays nested deeper than 4");
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(dir) == NULL)
		return 70;
	snprintf(cmd, sizeof(cmd), "node %s %s", MKGGUF, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "test-gguf: %s failed\n", cmd);
		return 1;
	}
	RUN(gpt2_tokenizer_reads_back);
	RUN(llama_tokenizer_reads_back);
	RUN(every_value_type_reads_back);
	RUN(lookups_of_another_type_fail);
	RUN(tensors_after_the_metadata_are_left_alone);
	RUN(every_cut_of_a_file_fails);
	RUN(a_file_of_another_kind_is_not_gguf);
	RUN(versions_other_than_2_and_3_are_refused);
	RUN(counts_past_the_file_are_refused);
	RUN(lengths_past_the_end_are_refused);
	RUN(unknown_and_wrong_value_types_are_refused);
	RUN(keys_are_unique_and_shown_safely);
	RUN(arrays_nest_four_deep_at_most);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_END();
}
