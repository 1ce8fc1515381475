/*
 * fuzz-gguf.c: the GGUF metadata reader on any bytes, in memory and as a
 * mapped file, which must agree. A file it refuses says why in one line,
 * at an offset inside it; one it accepts answers every lookup of every
 * key as the key's type says, with strings inside its bytes.
 */
#include "fuzz.h"

#include <string.h>

#include "wb_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char key[65536];

/* Does s[0..len) lie inside data[0..size)? */
static bool
inside(const uint8_t *data, size_t size, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	return p >= data && p <= data + size && len <= (size_t)(data + size - p);
}

static bool
is_int(int t)
{
	return t == WB_GGUF_U8 || t == WB_GGUF_I8 || t == WB_GGUF_U16 ||
	    t == WB_GGUF_I16 || t == WB_GGUF_U32 || t == WB_GGUF_I32 ||
	    t == WB_GGUF_U64 || t == WB_GGUF_I64;
}

/* Every lookup of key, against its type. */
static void
look_up(const struct wb_gguf *g, const uint8_t *data, size_t size)
{
	struct wb_err err;
	struct wb_gguf_str s, *sv;
	uint64_t count;
	uint32_t u;
	int32_t i, *iv;
	float *fv;
	size_t n, j;
	bool b;
	int t, elem, rc;

	t = wb_gguf_type(g, key, &elem, &count);
	FUZZ_ASSERT(t >= WB_GGUF_U8 && t <= WB_GGUF_F64);
	FUZZ_ASSERT((t == WB_GGUF_ARRAY) == (elem >= 0));
	rc = wb_gguf_str(g, key, &s, &err);
	FUZZ_ASSERT((rc == WB_OK) == (t == WB_GGUF_STRING));
	if (rc == WB_OK)
		FUZZ_ASSERT(inside(data, size, s.s, s.len));
	rc = wb_gguf_bool(g, key, &b, &err);
	FUZZ_ASSERT((rc == WB_OK) == (t == WB_GGUF_BOOL));
	if (wb_gguf_u32(g, key, &u, &err) == WB_OK)
		FUZZ_ASSERT(is_int(t));
	if (wb_gguf_i32(g, key, &i, &err) == WB_OK)
		FUZZ_ASSERT(is_int(t));
	rc = wb_gguf_strv(g, key, &sv, &n, &err);
	FUZZ_ASSERT((rc == WB_OK) == (t == WB_GGUF_ARRAY &&
	    elem == WB_GGUF_STRING));
	if (rc == WB_OK) {
		FUZZ_ASSERT(n == count);
		for (j = 0; j < n; j++)
			FUZZ_ASSERT(inside(data, size, sv[j].s, sv[j].len));
		free(sv);
	}
	rc = wb_gguf_f32v(g, key, &fv, &n, &err);
	FUZZ_ASSERT((rc == WB_OK) == (t == WB_GGUF_ARRAY && elem == WB_GGUF_F32));
	if (rc == WB_OK) {
		FUZZ_ASSERT(n == count);
		free(fv);
	}
	if (wb_gguf_i32v(g, key, &iv, &n, &err) == WB_OK) {
		FUZZ_ASSERT(t == WB_GGUF_ARRAY && is_int(elem) && n == count);
		free(iv);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_err err = { 0 }, ferr = { 0 };
	struct wb_gguf *g = wb_gguf_open_mem(data, size, "m", &err), *fg;
	char path[64];
	size_t k, nkeys;
	int fd;
	FILE *f = fuzz_file(data, size, &fd);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fg = wb_gguf_open(path, &ferr);
	FUZZ_ASSERT((g == NULL) == (fg == NULL));
	wb_gguf_free(fg);
	fclose(f);
	if (g == NULL) {
		FUZZ_ASSERT(err.status == WB_EDATA && ferr.status == WB_EDATA);
		FUZZ_ASSERT(err.offset <= size && err.offset == ferr.offset);
		FUZZ_ASSERT(strncmp(err.msg, "m: ", 3) == 0);
		FUZZ_ASSERT(strchr(err.msg, '\n') == NULL);
		return 0;
	}
	FUZZ_ASSERT(wb_gguf_version(g) == 2 || wb_gguf_version(g) == 3);
	FUZZ_ASSERT((wb_gguf_alignment(g) & (wb_gguf_alignment(g) - 1)) == 0);
	nkeys = wb_gguf_nkeys(g);
	for (k = 0; k < nkeys; k++) {
		struct wb_gguf_str s = wb_gguf_key(g, k);
		FUZZ_ASSERT(s.len > 0 && s.len < sizeof(key));
		FUZZ_ASSERT(inside(data, size, s.s, s.len));
		/* A key with a NUL in it cannot be named by a C string. */
		if (memchr(s.s, '\0', s.len) != NULL)
			continue;
		memcpy(key, s.s, s.len);
		key[s.len] = '\0';
		look_up(g, data, size);
	}
	wb_gguf_free(g);
	return 0;
}
