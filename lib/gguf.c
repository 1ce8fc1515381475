/*
 * gguf.c: the metadata of GGUF model files (llama.cpp, Ollama), for the
 * tokenizers they carry. The file is mapped and only its header and
 * key-value pairs are read, so that a model of gigabytes opens at once;
 * its tensors are never touched. Every count and length is checked
 * against what is left of the file before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"

#define HEADER_LEN 24           /* magic, version, tensor and key counts */
#define KEY_MAX 65535           /* the format's limit on a key's length */
#define KV_MIN 14               /* key length, 1 byte of key, type, 1 byte */
#define TENSOR_MIN 24           /* name length, dimensions, type, offset */
#define ALIGNMENT_DEFAULT 32

/* One key-value pair, pointing into the file. */
struct kv {
	const unsigned char *key;
	size_t klen;
	int type;                    /* enum wb_gguf_type */
	int elem;                    /* arrays: the type of the elements */
	uint64_t count;              /* arrays: how many; else 1 */
	const unsigned char *val;    /* the value; an array's first element */
	uint64_t at;                 /* the file offset of the pair */
};

struct wb_gguf {
	const unsigned char *p;
	size_t size;
	void *map;                   /* when the file is mapped by us */
	char *name;                  /* for messages */
	uint32_t version, alignment;
	uint64_t ntensors;
	struct kv *kv;               /* sorted by key */
	size_t nkv;
};

/* Where parsing is, and where its errors go. */
struct cur {
	const unsigned char *p;
	size_t size, off;
	const char *name;
	struct wb_err *err;
};

static const char *const type_names[] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
	"array", "u64", "i64", "f64",
};

/* The size of a value of a fixed-size type; 0 for strings and arrays. */
static size_t
type_size(int t)
{
	static const unsigned char sizes[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0,
	    8, 8, 8 };

	return sizes[t];
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A key as messages show it: at most 64 bytes, no control characters. */
static void
show_key(char *out, size_t cap, const unsigned char *k, size_t len)
{
	size_t n = len > 64 ? 64 : len, i;

	if (n > cap - 4)
		n = cap - 4;
	for (i = 0; i < n; i++)
		out[i] = k[i] < 0x20 || k[i] == 0x7f ? '?' : (char)k[i];
	if (n < len)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
}

/* Fail at byte offset at: "NAME: byte AT: message"; returns 65. */
__attribute__((format(printf, 3, 4)))
static int
bad(struct cur *c, uint64_t at, const char *fmt, ...)
{
	char m[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	wb_err_set(c->err, WB_EDATA, "%s: byte %" PRIu64 ": %s", c->name, at, m);
	c->err->offset = at;
	return WB_EDATA;
}

/* Is n more bytes there? If not, fail naming what was being read. */
static int
need(struct cur *c, uint64_t n, const char *what)
{
	if (n <= c->size - c->off)
		return WB_OK;
	return bad(c, c->off, "truncated: %s needs %" PRIu64 " bytes, %zu left",
	    what, n, c->size - c->off);
}

static int
take32(struct cur *c, const char *what, uint32_t *v)
{
	if (need(c, 4, what) != WB_OK)
		return WB_EDATA;
	*v = rd32(c->p + c->off);
	c->off += 4;
	return WB_OK;
}

static int
take64(struct cur *c, const char *what, uint64_t *v)
{
	if (need(c, 8, what) != WB_OK)
		return WB_EDATA;
	*v = rd64(c->p + c->off);
	c->off += 8;
	return WB_OK;
}

/* Skip a string (length, then bytes) after checking its length. */
static int
skip_string(struct cur *c, const char *key)
{
	uint64_t at = c->off, len;

	if (take64(c, "a string length", &len) != WB_OK)
		return WB_EDATA;
	if (len > c->size - c->off)
		return bad(c, at, "key '%s': string length %" PRIu64
		    " runs past the end of the file (%zu bytes left)", key, len,
		    c->size - c->off);
	c->off += (size_t)len;
	return WB_OK;
}

static int skip_value(struct cur *c, int type, int depth, const char *key);

/* Check an array's header and elements; depth counts the arrays around
 * it, itself included. */
static int
skip_array(struct cur *c, int depth, const char *key, int *elem,
    uint64_t *count)
{
	uint64_t at = c->off, n, i, min;
	uint32_t t;
	size_t left;

	if (take32(c, "an array's element type", &t) != WB_OK)
		return WB_EDATA;
	if (t > WB_GGUF_F64)
		return bad(c, at, "key '%s': unknown array element type %" PRIu32,
		    key, t);
	if (t == WB_GGUF_ARRAY && depth >= WB_GGUF_MAX_DEPTH)
		return bad(c, at, "key '%s': arrays nested deeper than %d", key,
		    WB_GGUF_MAX_DEPTH);
	at = c->off;
	if (take64(c, "an array's element count", &n) != WB_OK)
		return WB_EDATA;
	/* The least room n elements take, against what is left. */
	min = t == WB_GGUF_STRING ? 8 : t == WB_GGUF_ARRAY ? 12 : type_size((int)t);
	left = c->size - c->off;
	if (n > left / min)
		return bad(c, at, "key '%s': %" PRIu64 " elements of type %s"
		    " cannot fit in the %zu bytes left", key, n, type_names[t],
		    left);
	*elem = (int)t;
	*count = n;
	if (t == WB_GGUF_BOOL) {
		for (i = 0; i < n; i++)
			if (c->p[c->off + i] > 1)
				return bad(c, c->off + i, "key '%s': bool value %u"
				    " is not 0 or 1", key, c->p[c->off + i]);
	}
	if (min == type_size((int)t)) {
		c->off += (size_t)(n * min);
		return WB_OK;
	}
	for (i = 0; i < n; i++)
		if (skip_value(c, (int)t, depth + 1, key) != WB_OK)
			return WB_EDATA;
	return WB_OK;
}

/* Check a value of type type and step over it. */
static int
skip_value(struct cur *c, int type, int depth, const char *key)
{
	int elem;
	uint64_t count;
	size_t n = type_size(type);

	if (type == WB_GGUF_STRING)
		return skip_string(c, key);
	if (type == WB_GGUF_ARRAY)
		return skip_array(c, depth, key, &elem, &count);
	if (need(c, n, type_names[type]) != WB_OK)
		return WB_EDATA;
	if (type == WB_GGUF_BOOL && c->p[c->off] > 1)
		return bad(c, c->off, "key '%s': bool value %u is not 0 or 1", key,
		    c->p[c->off]);
	c->off += n;
	return WB_OK;
}

/* Read one key-value pair into kv. */
static int
read_kv(struct cur *c, struct kv *kv)
{
	char key[80];
	uint64_t len, at = c->off;
	uint32_t t;

	kv->at = at;
	if (take64(c, "a key length", &len) != WB_OK)
		return WB_EDATA;
	if (len == 0)
		return bad(c, at, "an empty key");
	if (len > KEY_MAX)
		return bad(c, at, "key length %" PRIu64 " is over %d", len, KEY_MAX);
	if (len > c->size - c->off)
		return bad(c, at, "key length %" PRIu64 " runs past the end of the"
		    " file (%zu bytes left)", len, c->size - c->off);
	kv->key = c->p + c->off;
	kv->klen = (size_t)len;
	c->off += (size_t)len;
	show_key(key, sizeof(key), kv->key, kv->klen);
	at = c->off;
	if (take32(c, "a value type", &t) != WB_OK)
		return WB_EDATA;
	if (t > WB_GGUF_F64)
		return bad(c, at, "key '%s': unknown value type %" PRIu32, key, t);
	kv->type = (int)t;
	kv->elem = -1;
	kv->count = 1;
	if (t == WB_GGUF_ARRAY) {
		if (skip_array(c, 1, key, &kv->elem, &kv->count) != WB_OK)
			return WB_EDATA;
		/* The elements follow the element type and the count. */
		kv->val = c->p + at + 4 + 12;
		return WB_OK;
	}
	kv->val = c->p + c->off;
	return skip_value(c, (int)t, 0, key);
}

/* Keys in byte order; the same key by file order. */
static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(x->key, y->key, n);

	if (r != 0)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static const struct kv *
find(const struct wb_gguf *g, const char *key)
{
	struct kv k = { .key = (const unsigned char *)key, .klen = strlen(key) };
	size_t lo = 0, hi = g->nkv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r;

		k.at = g->kv[mid].at;
		r = kv_cmp(&k, &g->kv[mid]);
		if (r == 0)
			return &g->kv[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The header: magic, a version this reader knows, the counts. */
static int
read_header(struct cur *c, struct wb_gguf *g, uint64_t *nkv)
{
	size_t n = c->size < 4 ? c->size : 4;
	uint32_t v;

	/* A few bytes of the magic are a cut GGUF file; others are not one. */
	if (n == 0 || memcmp(c->p, "GGUF", n) != 0) {
		c->err->offset = 0;
		return wb_err_set(c->err, WB_EDATA, "%s: not a GGUF file", c->name);
	}
	if (need(c, 4, "the magic") != WB_OK)
		return WB_EDATA;
	c->off = 4;
	if (take32(c, "the version", &v) != WB_OK)
		return WB_EDATA;
	/* A big-endian file's version reads as 0x03000000 here. */
	if (v != 0 && (v & 0xffff) == 0)
		return bad(c, 4, "version 0x%08" PRIx32 ": a big-endian GGUF file,"
		    " which is not supported", v);
	if (v < 2 || v > 3)
		return bad(c, 4, "GGUF version %" PRIu32 " is not supported"
		    " (only 2 and 3)", v);
	g->version = v;
	if (take64(c, "the tensor count", &g->ntensors) != WB_OK ||
	    take64(c, "the key-value count", nkv) != WB_OK)
		return WB_EDATA;
	if (*nkv > (c->size - c->off) / KV_MIN)
		return bad(c, 16, "%" PRIu64 " key-value pairs cannot fit in the"
		    " %zu bytes left", *nkv, c->size - c->off);
	return WB_OK;
}

/* After the pairs: no key twice, a sound alignment, room for the tensors. */
static int
check_meta(struct cur *c, struct wb_gguf *g)
{
	char key[80];
	const struct kv *a;
	size_t i;

	for (i = 1; i < g->nkv; i++) {
		const struct kv *x = &g->kv[i - 1], *y = &g->kv[i];
		if (x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0) {
			show_key(key, sizeof(key), y->key, y->klen);
			return bad(c, y->at, "key '%s' appears twice", key);
		}
	}
	g->alignment = ALIGNMENT_DEFAULT;
	if ((a = find(g, "general.alignment")) != NULL) {
		if (a->type != WB_GGUF_U32)
			return bad(c, a->at, "general.alignment is a %s, not a u32",
			    type_names[a->type]);
		g->alignment = rd32(a->val);
		if (g->alignment == 0 || (g->alignment & (g->alignment - 1)) != 0)
			return bad(c, a->at, "general.alignment %" PRIu32
			    " is not a power of two", g->alignment);
	}
	if (g->ntensors > (c->size - c->off) / TENSOR_MIN)
		return bad(c, 8, "%" PRIu64 " tensors cannot fit in the %zu bytes"
		    " after the metadata", g->ntensors, c->size - c->off);
	return WB_OK;
}

static int
parse(struct wb_gguf *g, struct wb_err *err)
{
	struct cur c = { g->p, g->size, 0, g->name, err };
	uint64_t nkv = 0, i;
	size_t cap = 0;

	if (read_header(&c, g, &nkv) != WB_OK)
		return WB_EDATA;
	/* Grown as pairs are read, so a lying count allocates nothing. */
	for (i = 0; i < nkv; i++) {
		if (g->nkv == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			struct kv *k = realloc(g->kv, ncap * sizeof(*k));
			if (k == NULL)
				return wb_err_set(err, WB_EINTERNAL, "%s: out of memory",
				    g->name);
			g->kv = k;
			cap = ncap;
		}
		if (read_kv(&c, &g->kv[g->nkv]) != WB_OK)
			return WB_EDATA;
		g->nkv++;
	}
	if (g->nkv > 1)
		qsort(g->kv, g->nkv, sizeof(*g->kv), kv_cmp);
	return check_meta(&c, g);
}

static struct wb_gguf *
new_gguf(const char *name, struct wb_err *err)
{
	struct wb_gguf *g = calloc(1, sizeof(*g));

	if (g == NULL || (g->name = strdup(name)) == NULL) {
		free(g);
		wb_err_set(err, WB_EINTERNAL, "%s: out of memory", name);
		return NULL;
	}
	return g;
}

struct wb_gguf *
wb_gguf_open_mem(const void *buf, size_t size, const char *name,
    struct wb_err *err)
{
	struct wb_gguf *g = new_gguf(name, err);

	if (g == NULL)
		return NULL;
	g->p = size ? buf : (const unsigned char *)"";
	g->size = size;
	if (parse(g, err) != WB_OK) {
		wb_gguf_free(g);
		return NULL;
	}
	return g;
}

struct wb_gguf *
wb_gguf_open(const char *path, struct wb_err *err)
{
	struct wb_gguf *g;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		wb_err_set(err, WB_ENOINPUT, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		wb_err_set(err, WB_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		wb_err_set(err, WB_ENOINPUT, "%s: %s", path, S_ISDIR(st.st_mode) ?
		    "is a directory" : "not a regular file");
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		wb_err_set(err, WB_EDATA, "%s: too large to map", path);
		close(fd);
		return NULL;
	}
	if ((g = new_gguf(path, err)) == NULL) {
		close(fd);
		return NULL;
	}
	g->size = (size_t)st.st_size;
	g->p = (const unsigned char *)"";
	if (g->size > 0) {
		g->map = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (g->map == MAP_FAILED) {
			g->map = NULL;
			wb_err_set(err, WB_EIO, "%s: %s", path, strerror(errno));
			close(fd);
			wb_gguf_free(g);
			return NULL;
		}
		g->p = g->map;
	}
	close(fd);
	if (parse(g, err) != WB_OK) {
		wb_gguf_free(g);
		return NULL;
	}
	return g;
}

void
wb_gguf_free(struct wb_gguf *g)
{
	if (g == NULL)
		return;
	if (g->map != NULL)
		munmap(g->map, g->size);
	free(g->kv);
	free(g->name);
	free(g);
}

uint32_t
wb_gguf_version(const struct wb_gguf *g)
{
	return g->version;
}

uint32_t
wb_gguf_alignment(const struct wb_gguf *g)
{
	return g->alignment;
}

size_t
wb_gguf_nkeys(const struct wb_gguf *g)
{
	return g->nkv;
}

struct wb_gguf_str
wb_gguf_key(const struct wb_gguf *g, size_t i)
{
	struct wb_gguf_str s = { (const char *)g->kv[i].key, g->kv[i].klen };

	return s;
}

int
wb_gguf_type(const struct wb_gguf *g, const char *key, int *elem,
    uint64_t *count)
{
	const struct kv *kv = find(g, key);

	if (kv == NULL)
		return -1;
	if (elem != NULL)
		*elem = kv->elem;
	if (count != NULL)
		*count = kv->count;
	return kv->type;
}

/* The pair for key, if it holds what want says (a name for messages). */
static const struct kv *
lookup(const struct wb_gguf *g, const char *key, bool array, int type,
    const char *want, struct wb_err *err)
{
	const struct kv *kv = find(g, key);
	bool is_int;
	int t;

	if (kv == NULL) {
		wb_err_set(err, WB_EDATA, "%s: no key '%s'", g->name, key);
		return NULL;
	}
	t = array ? kv->elem : kv->type;
	is_int = t >= 0 && t != WB_GGUF_F32 && t != WB_GGUF_BOOL &&
	    t != WB_GGUF_STRING && t != WB_GGUF_ARRAY && t != WB_GGUF_F64;
	if ((array && kv->type != WB_GGUF_ARRAY) || (type >= 0 && t != type) ||
	    (type < 0 && !is_int)) {
		wb_err_set(err, WB_EDATA, "%s: key '%s' has type %s%s, not %s",
		    g->name, key, kv->type == WB_GGUF_ARRAY ? "array of " : "",
		    type_names[kv->type == WB_GGUF_ARRAY ? kv->elem : kv->type],
		    want);
		return NULL;
	}
	return kv;
}

/* An integer of type t at p: its magnitude, and whether it is negative. */
static uint64_t
int_at(const unsigned char *p, int t, bool *neg)
{
	int64_t s;

	*neg = false;
	switch (t) {
	case WB_GGUF_U8:  return p[0];
	case WB_GGUF_U16: return (uint64_t)p[0] | (uint64_t)p[1] << 8;
	case WB_GGUF_U32: return rd32(p);
	case WB_GGUF_U64: return rd64(p);
	case WB_GGUF_I8:  s = p[0] < 0x80 ? p[0] : (int64_t)p[0] - 0x100; break;
	case WB_GGUF_I16: s = (int16_t)(uint16_t)(p[0] | p[1] << 8); break;
	case WB_GGUF_I32: s = (int32_t)rd32(p); break;
	default:          s = (int64_t)rd64(p); break;
	}
	*neg = s < 0;
	return *neg ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
}

/* Is the integer (neg, mag) in the range of int32_t? */
static bool
fits_i32(bool neg, uint64_t mag)
{
	return neg ? mag <= (uint64_t)INT32_MAX + 1 : mag <= INT32_MAX;
}

static int32_t
to_i32(bool neg, uint64_t mag)
{
	return neg ? (int32_t)(-(int64_t)(mag - 1) - 1) : (int32_t)mag;
}

int
wb_gguf_str(const struct wb_gguf *g, const char *key, struct wb_gguf_str *out,
    struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, false, WB_GGUF_STRING, "string",
	    err);

	if (kv == NULL)
		return WB_EDATA;
	out->len = (size_t)rd64(kv->val);
	out->s = (const char *)kv->val + 8;
	return WB_OK;
}

int
wb_gguf_u32(const struct wb_gguf *g, const char *key, uint32_t *out,
    struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, false, -1, "integer", err);
	uint64_t v;
	bool neg;

	if (kv == NULL)
		return WB_EDATA;
	v = int_at(kv->val, kv->type, &neg);
	if (neg || v > UINT32_MAX)
		return wb_err_set(err, WB_EDATA, "%s: key '%s' is %s%" PRIu64
		    ", out of the range of a u32", g->name, key, neg ? "-" : "", v);
	*out = (uint32_t)v;
	return WB_OK;
}

int
wb_gguf_i32(const struct wb_gguf *g, const char *key, int32_t *out,
    struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, false, -1, "integer", err);
	uint64_t v;
	bool neg;

	if (kv == NULL)
		return WB_EDATA;
	v = int_at(kv->val, kv->type, &neg);
	if (!fits_i32(neg, v))
		return wb_err_set(err, WB_EDATA, "%s: key '%s' is %s%" PRIu64
		    ", out of the range of an i32", g->name, key, neg ? "-" : "", v);
	*out = to_i32(neg, v);
	return WB_OK;
}

int
wb_gguf_bool(const struct wb_gguf *g, const char *key, bool *out,
    struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, false, WB_GGUF_BOOL, "bool", err);

	if (kv == NULL)
		return WB_EDATA;
	*out = kv->val[0] != 0;
	return WB_OK;
}

/* Room for n elements of size sz, at least one so that NULL means none. */
static void *
alloc_array(const struct wb_gguf *g, uint64_t n, size_t sz, struct wb_err *err)
{
	void *p = calloc(n ? (size_t)n : 1, sz);

	if (p == NULL)
		wb_err_set(err, WB_EINTERNAL, "%s: out of memory", g->name);
	return p;
}

int
wb_gguf_strv(const struct wb_gguf *g, const char *key, struct wb_gguf_str **out,
    size_t *n, struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, true, WB_GGUF_STRING,
	    "array of string", err);
	const unsigned char *p;
	struct wb_gguf_str *v;
	uint64_t i;

	if (kv == NULL)
		return WB_EDATA;
	/* The parse checked every length: at most one per 8 bytes. */
	if ((v = alloc_array(g, kv->count, sizeof(*v), err)) == NULL)
		return err->status;
	for (p = kv->val, i = 0; i < kv->count; i++) {
		v[i].len = (size_t)rd64(p);
		v[i].s = (const char *)p + 8;
		p += 8 + v[i].len;
	}
	*out = v;
	*n = (size_t)kv->count;
	return WB_OK;
}

int
wb_gguf_f32v(const struct wb_gguf *g, const char *key, float **out, size_t *n,
    struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, true, WB_GGUF_F32,
	    "array of f32", err);
	float *v;
	uint64_t i;

	if (kv == NULL)
		return WB_EDATA;
	if ((v = alloc_array(g, kv->count, sizeof(*v), err)) == NULL)
		return err->status;
	for (i = 0; i < kv->count; i++) {
		uint32_t bits = rd32(kv->val + 4 * i);
		memcpy(&v[i], &bits, sizeof(bits));
	}
	*out = v;
	*n = (size_t)kv->count;
	return WB_OK;
}

int
wb_gguf_i32v(const struct wb_gguf *g, const char *key, int32_t **out,
    size_t *n, struct wb_err *err)
{
	const struct kv *kv = lookup(g, key, true, -1, "array of integers",
	    err);
	int32_t *v;
	uint64_t i, mag;
	size_t sz;
	bool neg;

	if (kv == NULL)
		return WB_EDATA;
	sz = type_size(kv->elem);
	if ((v = alloc_array(g, kv->count, sizeof(*v), err)) == NULL)
		return err->status;
	for (i = 0; i < kv->count; i++) {
		mag = int_at(kv->val + sz * i, kv->elem, &neg);
		if (!fits_i32(neg, mag)) {
			free(v);
			return wb_err_set(err, WB_EDATA, "%s: key '%s': element %"
			    PRIu64 " is %s%" PRIu64 ", out of the range of an i32",
			    g->name, key, i, neg ? "-" : "", mag);
		}
		v[i] = to_i32(neg, mag);
	}
	*out = v;
	*n = (size_t)kv->count;
	return WB_OK;
}
