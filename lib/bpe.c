/* bpe.c: rank files, the rank table, byte-pair merging, encode and decode.
 *
 * The ranks of an encoding live in one contiguous image (struct img): a
 * header, the offsets of each rank's bytes, an open-addressing hash table
 * from bytes to rank, and the bytes themselves.  The image is built from
 * the .tiktoken text file, written next to it as a cache (.wbc) and, on
 * later loads, mapped read-only from the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pretok.h"
#include "wb_priv.h"

#define NORANK UINT32_MAX

/* Pieces up to this long merge by scans (merge_small). */
#ifndef WB_BPE_SMALL_PIECE
#define WB_BPE_SMALL_PIECE 63
#endif
_Static_assert(WB_BPE_SMALL_PIECE < 64, "merge_small keeps offsets in 6 bits");
/* Merges in one call before it caches its pieces (see struct centry). */
#define CACHE_AFTER 256

/* ---------------------------------------------------------------------- */
/* Encodings */

struct special {
	const char *text;
	uint32_t id;
};

struct encdef {
	const char *name;
	const char *ranks;      /* rank file, without ".tiktoken" */
	enum wb_pat pat;
	uint32_t n_tokens;      /* tokens in the official rank file */
	const struct special *sp;
	size_t n_sp;
	uint32_t res_lo, res_hi; /* "<|reserved_N|>" is N for N in [lo, hi];
	                          * none if hi is 0 */
};

static const struct special sp_r50k[] = {
	{ "<|endoftext|>", 50256 },
};
static const struct special sp_p50k_edit[] = {
	{ "<|endoftext|>", 50256 },
	{ "<|fim_prefix|>", 50281 },
	{ "<|fim_middle|>", 50282 },
	{ "<|fim_suffix|>", 50283 },
};
static const struct special sp_cl100k[] = {
	{ "<|endoftext|>", 100257 },
	{ "<|fim_prefix|>", 100258 },
	{ "<|fim_middle|>", 100259 },
	{ "<|fim_suffix|>", 100260 },
	{ "<|endofprompt|>", 100276 },
};
static const struct special sp_o200k[] = {
	{ "<|endoftext|>", 199999 },
	{ "<|endofprompt|>", 200018 },
};
/* o200k_harmony, as tiktoken defines it: o200k_base's special tokens, these,
 * and "<|reserved_N|>" for N from 200013 to 201087 (so that both
 * "<|endofprompt|>" and "<|reserved_200018|>" are 200018; it decodes as
 * the first). */
static const struct special sp_harmony[] = {
	{ "<|endofprompt|>", 200018 },
	{ "<|startoftext|>", 199998 },
	{ "<|endoftext|>", 199999 },
	{ "<|reserved_200000|>", 200000 },
	{ "<|reserved_200001|>", 200001 },
	{ "<|return|>", 200002 },
	{ "<|constrain|>", 200003 },
	{ "<|reserved_200004|>", 200004 },
	{ "<|channel|>", 200005 },
	{ "<|start|>", 200006 },
	{ "<|end|>", 200007 },
	{ "<|message|>", 200008 },
	{ "<|reserved_200009|>", 200009 },
	{ "<|reserved_200010|>", 200010 },
	{ "<|reserved_200011|>", 200011 },
	{ "<|call|>", 200012 },
};


#include "llama3_special.h"

static const struct encdef encodings[] = {
	/* GPT-2's own files hold r50k_base's ranks, pattern and token. */
	{ "gpt2", "r50k_base", WB_PAT_R50K, 50256, sp_r50k, WB_NELEM(sp_r50k),
	    0, 0 },
	{ "r50k_base", "r50k_base", WB_PAT_R50K, 50256, sp_r50k, WB_NELEM(sp_r50k),
	    0, 0 },
	{ "p50k_base", "p50k_base", WB_PAT_R50K, 50280, sp_r50k, WB_NELEM(sp_r50k),
	    0, 0 },
	{ "p50k_edit", "p50k_base", WB_PAT_R50K, 50280, sp_p50k_edit, WB_NELEM(sp_p50k_edit),
	    0, 0 },
	{ "cl100k_base", "cl100k_base", WB_PAT_CL100K, 100256, sp_cl100k, WB_NELEM(sp_cl100k),
	    0, 0 },
	{ "o200k_base", "o200k_base", WB_PAT_O200K, 199998, sp_o200k, WB_NELEM(sp_o200k),
	    0, 0 },
	{ "o200k_harmony", "o200k_base", WB_PAT_O200K, 199998, sp_harmony,
	    WB_NELEM(sp_harmony), 200013, 201087 },
	/* Meta's tokenizer.model: cl100k's pattern, ranks = ids. */
	{ "llama3", "llama3", WB_PAT_CL100K, 128000, sp_llama3, WB_NELEM(sp_llama3),
	    0, 0 },
};

/* ---------------------------------------------------------------------- */
/* The image */

#define IMG_MAGIC "WBBPEimg"
#define IMG_VERSION 2u
#define IMG_ENDIAN 0x01020304u
#define RANK_BITS 26    /* ranks are less than 1 << RANK_BITS */
#define RES_STRIDE 24   /* "<|reserved_4294967295|>" and its NUL */

struct img {
	char magic[8];
	uint32_t version;
	uint32_t endian;
	uint64_t src_size;      /* what the rank file was when this was built */
	int64_t src_sec;
	int64_t src_nsec;
	uint64_t src_ino;
	uint32_t n_tokens;
	uint32_t n_ranks;       /* largest rank + 1 */
	uint32_t slots;         /* hash table size, a power of 2 */
	uint32_t max_len;       /* longest token, in bytes */
	uint64_t off_at;        /* uint32_t off[n_ranks + 1] */
	uint64_t table_at;      /* uint64_t table[slots]: tag << 32 | rank + 1 */
	uint64_t pair_at;       /* uint32_t pair[65536]: rank of bytes x, y at
	                         * x << 8 | y, or NORANK */
	uint64_t blob_at;       /* bytes of rank r: blob[off[r] .. off[r + 1]) */
	uint64_t blob_len;
	uint64_t total;         /* size of the whole image */
	uint32_t byte_rank[256];
};

struct wb_bpe {
	const struct encdef *def;
	const struct img *img;
	const uint32_t *off;
	const uint64_t *table;
	const uint32_t *pair;
	const unsigned char *blob;
	uint32_t n_ranks;
	uint32_t mask;
	uint32_t max_len;
	uint32_t n_vocab;
	uint32_t blob_len;
	uint32_t byte_rank[256];
	char *res_text;         /* "<|reserved_N|>" of the range, RES_STRIDE
	                         * bytes each */
	size_t small;           /* longest piece merged by merge_small */
	bool nfc;               /* text is put in NFC before it is split */
	size_t cache_after;     /* merges before a call starts its cache */
	void *mem;              /* the image, malloc'd or mapped */
	size_t mem_len;
	int mapped;
	/* The special tokens: bit 1 of sp_first[c]: an "always" one starts
	 * with the byte c, bit 2: any one does; sp_one: the byte they all
	 * start with, or -1; sp_reach[0]: the longest "always" one, [1]: the
	 * longest of all. */
	unsigned char sp_first[256];
	int sp_one;
	size_t sp_reach[2];
	/* What wb_bpe_from_tokens owns: its encoding and special tokens;
	 * always[i]: def->sp[i] counts even without allow_special (NULL: none
	 * does); merge_whole: a piece that is a token is merged all the
	 * same. */
	struct encdef own;
	struct special *own_sp;
	char *own_text;
	bool *always;
	bool merge_whole;
	/* strip[i]: the WB_STRIP_ bits of def->sp[i] (NULL: none strips);
	 * strips[allow]: one that counts does. */
	uint8_t *strip;
	bool strips[2];
	/* sp_len[i]: the length of def->sp[i]; sp_ord[allow][0..sp_n[allow]):
	 * the indexes of those that count with allow, in the order of their
	 * texts (bytes as unsigned), for wb_bpe_special_across (NULL: out of
	 * memory, no cut then). */
	size_t *sp_len;
	uint32_t *sp_ord[2];
	size_t sp_n[2];
};

static void
seterr(struct wb_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set *err, which may be NULL, as wb_err_set does (one line). */
static void
seterr(struct wb_err *err, int status, const char *fmt, ...)
{
	char m[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	wb_err_set(err, status, "%s", m);
}

static inline uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline uint64_t
mix(uint64_t x)
{
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 31;
	return x;
}

static inline uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The n bytes at p (n <= 8) as a little-endian number: two loads that
 * may overlap rather than a loop, as pair lookups are mostly that short. */
static inline uint64_t
le_tail(const unsigned char *p, size_t n)
{
	if (n >= 4)
		return le32(p) | (uint64_t)le32(p + n - 4) << (8 * (n - 4));
	if (n >= 2)
		return (uint64_t)(p[0] | p[1] << 8) |
		    (uint64_t)(p[n - 2] | p[n - 1] << 8) << (8 * (n - 2));
	return n ? p[0] : 0;
}

/* Hash of a byte string; part of the cache format (IMG_VERSION).  The
 * last (up to 8) bytes, as a number, are left in *tail. */
static inline uint64_t
hash_bytes(const unsigned char *p, size_t n, uint64_t *tail)
{
	uint64_t h = 0x9e3779b97f4a7c15u * (n + 1);

	while (n > 8) {
		h = mix(h ^ le64(p));
		p += 8;
		n -= 8;
	}
	*tail = le_tail(p, n);
	h = mix(h ^ *tail);
	h *= 0x94d049bb133111ebu;
	return h ^ (h >> 29);
}

/* The rank of the bytes p[0..n) (2 < n <= b->max_len) whose hash_bytes is
 * h, with tail, or NORANK. */
static inline uint32_t
rank_hashed(const struct wb_bpe *b, const unsigned char *p, size_t n,
    uint64_t h, uint64_t tail)
{
	uint64_t e;
	uint32_t i, tag, r, probes, o;

	tag = (uint32_t)(h >> 32);
	i = (uint32_t)h & b->mask;
	for (probes = 0; probes <= b->mask; probes++) {
		e = b->table[i];
		if (e == 0)
			return NORANK;
		if ((uint32_t)(e >> 32) == tag) {
			r = (uint32_t)e - 1;
			if (r < b->n_ranks && b->off[r + 1] - (o = b->off[r]) == n &&
			    b->off[r + 1] <= b->blob_len &&
			    (n <= 8 ? le_tail(b->blob + o, n) == tail :
			    memcmp(b->blob + o, p, n) == 0))
				return r;
		}
		i = (i + 1) & b->mask;
	}
	return NORANK;
}

/* The rank of the bytes p[0..n), or NORANK. */
static inline uint32_t
rank_of(const struct wb_bpe *b, const unsigned char *p, size_t n)
{
	uint64_t h, tail;
	uint32_t r;

	if (n == 1)
		return b->byte_rank[p[0]];
	if (n == 2) {
		/* Most lookups are of two bytes: one load, checked here as
		 * the offsets are. */
		r = b->pair[p[0] << 8 | p[1]];
		return r < b->n_ranks ? r : NORANK;
	}
	if (n > b->max_len || n == 0)
		return NORANK;
	h = hash_bytes(p, n, &tail);
	return rank_hashed(b, p, n, h, tail);
}

/* Set b's fields from its image; checks what a damaged cache could make
 * unsafe.  Returns 0 if the image is sound. */
static int
attach(struct wb_bpe *b, const struct img *im, size_t len)
{
	const uint32_t *off;
	uint32_t r;

	if (len < sizeof(*im) || memcmp(im->magic, IMG_MAGIC, 8) != 0 ||
	    im->version != IMG_VERSION || im->endian != IMG_ENDIAN ||
	    im->total != len || im->n_ranks == 0 || im->slots == 0 ||
	    im->max_len > UINT16_MAX ||  /* merge_tree's part lengths */
	    im->n_ranks > 1u << RANK_BITS ||  /* merge_small's keys */
	    (im->slots & (im->slots - 1)) != 0 || im->max_len == 0)
		return -1;
	if (im->off_at % 8 || im->table_at % 8 || im->pair_at % 8 ||
	    im->pair_at > len || (len - im->pair_at) / 4 < 65536 ||
	    im->off_at > len || (len - im->off_at) / 4 < (uint64_t)im->n_ranks + 1 ||
	    im->table_at > len || (len - im->table_at) / 8 < im->slots ||
	    im->blob_at > len || len - im->blob_at < im->blob_len)
		return -1;
	/* The offsets are checked where they are used (tok_ok), so that a
	 * load does not have to touch them all. */
	off = (const uint32_t *)(const void *)((const char *)im + im->off_at);
	if (im->blob_len > UINT32_MAX)
		return -1;
	for (r = 0; r < 256; r++)
		if (im->byte_rank[r] >= im->n_ranks)
			return -1;
	b->img = im;
	b->off = off;
	b->table = (const uint64_t *)(const void *)((const char *)im + im->table_at);
	b->pair = (const uint32_t *)(const void *)((const char *)im + im->pair_at);
	b->blob = (const unsigned char *)im + im->blob_at;
	b->n_ranks = im->n_ranks;
	b->blob_len = (uint32_t)im->blob_len;
	b->mask = im->slots - 1;
	b->max_len = im->max_len;
	memcpy(b->byte_rank, im->byte_rank, sizeof(b->byte_rank));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Reading a .tiktoken file */

static const unsigned char b64val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* Decode base64 s[0..n) (padded) into out; returns the length, or -1. */
static long
b64dec(const char *s, size_t n, unsigned char *out)
{
	size_t i, pad = 0, o = 0;
	uint32_t acc = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++) {
		int v = b64val[(unsigned char)s[i]];

		if (v == 0)
			return -1;
		acc = acc << 6 | (uint32_t)(v - 1);
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (pad == 1) {
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	} else if (pad == 2) {
		out[o++] = (unsigned char)(acc >> 4);
	}
	return (long)o;
}

struct tok {
	uint32_t rank;
	uint32_t at;            /* offset of its bytes in the decoded buffer */
	uint32_t len;
};

static int
read_all(int fd, size_t size, char **out)
{
	char *buf = malloc(size + 1);
	size_t got = 0;

	if (!buf)
		return WB_EINTERNAL;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return WB_EIO;
		}
		got += (size_t)r;
	}
	buf[size] = '\0';
	*out = buf;
	return 0;
}

static uint64_t
align8(uint64_t x)
{
	return (x + 7) & ~(uint64_t)7;
}

/* Build the image of the tokens toks[0..ntok) (their bytes in dec) into
 * b; path names the source in messages. */
static int
build_img(struct wb_bpe *b, const char *path, const struct tok *toks,
    size_t ntok, const unsigned char *dec, uint32_t max_len, uint32_t n_ranks,
    const struct stat *st, struct wb_err *err)
{
	uint32_t *by_rank = NULL, slots, r;
	struct img *im;
	uint32_t *off;
	uint64_t *table;
	uint32_t *pair;
	unsigned char *blob;
	uint64_t total, blob_at, table_at, pair_at;
	size_t i, dec_len = 0;
	int status = WB_EDATA;

	for (i = 0; i < ntok; i++)
		dec_len += toks[i].len;
	if (n_ranks > 2 * ntok + 1024) {
		seterr(err, WB_EDATA, "%s: ranks go up to %u for %zu tokens",
		    path, (unsigned)(n_ranks - 1), ntok);
		return WB_EDATA;
	}
	by_rank = malloc((size_t)(n_ranks ? n_ranks : 1) * sizeof(*by_rank));
	if (!by_rank) {
		status = WB_EINTERNAL;
		goto nomem;
	}
	for (r = 0; r < n_ranks; r++)
		by_rank[r] = NORANK;
	for (i = 0; i < ntok; i++) {
		if (by_rank[toks[i].rank] != NORANK) {
			seterr(err, WB_EDATA, "%s: rank %u given twice", path,
			    (unsigned)toks[i].rank);
			goto fail;
		}
		by_rank[toks[i].rank] = (uint32_t)i;
	}

	for (slots = 1024; slots < 2 * ntok; slots *= 2)
		;
	table_at = align8(sizeof(*im) + ((uint64_t)n_ranks + 1) * 4);
	pair_at = table_at + (uint64_t)slots * 8;
	blob_at = pair_at + (uint64_t)65536 * 4;
	total = align8(blob_at + dec_len);
	im = calloc(1, total);
	if (!im) {
		status = WB_EINTERNAL;
		goto nomem;
	}
	memcpy(im->magic, IMG_MAGIC, 8);
	im->version = IMG_VERSION;
	im->endian = IMG_ENDIAN;
	im->src_size = (uint64_t)st->st_size;
	im->src_sec = (int64_t)st->st_mtim.tv_sec;
	im->src_nsec = (int64_t)st->st_mtim.tv_nsec;
	im->src_ino = (uint64_t)st->st_ino;
	im->n_tokens = (uint32_t)ntok;
	im->n_ranks = n_ranks;
	im->slots = slots;
	im->max_len = max_len;
	im->off_at = sizeof(*im);
	im->table_at = table_at;
	im->pair_at = pair_at;
	im->blob_at = blob_at;
	im->blob_len = dec_len;
	im->total = total;
	off = (uint32_t *)(void *)((char *)im + im->off_at);
	table = (uint64_t *)(void *)((char *)im + table_at);
	pair = (uint32_t *)(void *)((char *)im + pair_at);
	blob = (unsigned char *)im + blob_at;
	{
		uint32_t o = 0;

		for (r = 0; r < n_ranks; r++) {
			off[r] = o;
			if (by_rank[r] != NORANK) {
				const struct tok *t = &toks[by_rank[r]];

				memcpy(blob + o, dec + t->at, t->len);
				o += t->len;
			}
		}
		off[n_ranks] = o;
	}
	for (i = 0; i < 256; i++)
		im->byte_rank[i] = NORANK;
	for (i = 0; i < 65536; i++)
		pair[i] = NORANK;
	for (r = 0; r < n_ranks; r++) {
		uint32_t len = off[r + 1] - off[r], s;
		uint64_t h, tail;

		if (len == 0)
			continue;
		if (len == 1)
			im->byte_rank[blob[off[r]]] = r;
		if (len == 2)
			pair[blob[off[r]] << 8 | blob[off[r] + 1]] = r;
		h = hash_bytes(blob + off[r], len, &tail);
		for (s = (uint32_t)h & (slots - 1); table[s] != 0; s = (s + 1) & (slots - 1)) {
			uint32_t q = (uint32_t)table[s] - 1;

			if (off[q + 1] - off[q] == len &&
			    memcmp(blob + off[q], blob + off[r], len) == 0) {
				seterr(err, WB_EDATA, "%s: ranks %u and %u have the same bytes",
				    path, (unsigned)q, (unsigned)r);
				free(im);
				goto fail;
			}
		}
		table[s] = (h >> 32) << 32 | (uint64_t)(r + 1);
	}
	for (i = 0; i < 256; i++) {
		if (im->byte_rank[i] == NORANK) {
			seterr(err, WB_EDATA, "%s: no token for the byte 0x%02zx", path, i);
			free(im);
			goto fail;
		}
	}
	free(by_rank);
	b->mem = im;
	b->mem_len = (size_t)total;
	b->mapped = 0;
	if (attach(b, im, (size_t)total) != 0) {
		seterr(err, WB_EDATA, "%s: bad rank data", path);
		return WB_EDATA;
	}
	return 0;
nomem:
	seterr(err, WB_EINTERNAL, "%s: out of memory", path);
fail:
	free(by_rank);
	return status;
}

/* Build the image of the rank file text[0..size) (path for messages). */
static int
build(struct wb_bpe *b, const char *path, const char *text, size_t size,
    const struct stat *st, struct wb_err *err)
{
	size_t ntok = 0, cap = 0, line = 0, i;
	struct tok *toks = NULL;
	unsigned char *dec = NULL;
	uint32_t max_len = 0, n_ranks = 0;
	size_t dec_len = 0;
	const char *p = text, *end = text + size;
	int status = WB_EDATA;

	for (i = 0; i < size; i++)
		cap += text[i] == '\n';
	cap++;
	toks = malloc(cap * sizeof(*toks));
	dec = malloc(size / 4 * 3 + 4);
	if (!toks || !dec) {
		status = WB_EINTERNAL;
		goto nomem;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *sp;
		uint64_t v = 0;
		long dl;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			p = nl ? nl + 1 : end;
			continue;
		}
		sp = memchr(p, ' ', (size_t)(le - p));
		if (!sp || sp + 1 == le)
			goto bad;
		dl = b64dec(p, (size_t)(sp - p), dec + dec_len);
		if (dl <= 0)
			goto bad;
		for (const char *q = sp + 1; q < le; q++) {
			if (*q < '0' || *q > '9' || v > (1u << RANK_BITS))
				goto bad;
			v = v * 10 + (uint64_t)(*q - '0');
		}
		if (v >= (1u << RANK_BITS))
			goto bad;
		toks[ntok].rank = (uint32_t)v;
		toks[ntok].at = (uint32_t)dec_len;
		toks[ntok].len = (uint32_t)dl;
		ntok++;
		dec_len += (size_t)dl;
		if ((uint32_t)dl > max_len)
			max_len = (uint32_t)dl;
		if ((uint32_t)v + 1 > n_ranks)
			n_ranks = (uint32_t)v + 1;
		p = nl ? nl + 1 : end;
	}
	if (ntok != b->def->n_tokens) {
		seterr(err, WB_EDATA, "%s: %zu tokens, the official %s file has %u; "
		    "run scripts/fetch-encodings", path, ntok, b->def->ranks,
		    (unsigned)b->def->n_tokens);
		goto fail;
	}
	status = build_img(b, path, toks, ntok, dec, max_len, n_ranks, st, err);
	free(toks);
	free(dec);
	return status;
bad:
	seterr(err, WB_EDATA, "%s:%zu: not a line of the form \"BASE64 RANK\"",
	    path, line);
	goto fail;
nomem:
	seterr(err, WB_EINTERNAL, "%s: out of memory", path);
fail:
	free(toks);
	free(dec);
	return status;
}

/* Write the image to cache through a temporary file; failure is not an
 * error (the cache only saves time). */
static void
write_cache(const char *cache, const void *mem, size_t len)
{
	size_t n = strlen(cache);
	char *tmp = malloc(n + 8);
	size_t done = 0;
	int fd;

	if (!tmp)
		return;
	memcpy(tmp, cache, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return;
	}
	(void)fchmod(fd, 0644);
	while (done < len) {
		ssize_t w = write(fd, (const char *)mem + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done != len ||
	    rename(tmp, cache) != 0)
		unlink(tmp);
	free(tmp);
}

/* Map the cache if it was built from the rank file as it is now. */
static int
try_cache(struct wb_bpe *b, const char *cache, const struct stat *src)
{
	struct stat st;
	const struct img *im;
	void *m;
	int fd = open(cache, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct img)) {
		close(fd);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	im = m;
	if (im->src_size != (uint64_t)src->st_size ||
	    im->src_sec != (int64_t)src->st_mtim.tv_sec ||
	    im->src_nsec != (int64_t)src->st_mtim.tv_nsec ||
	    im->src_ino != (uint64_t)src->st_ino ||
	    im->n_tokens != b->def->n_tokens ||
	    attach(b, im, (size_t)st.st_size) != 0) {
		munmap(m, (size_t)st.st_size);
		return -1;
	}
	b->mem = m;
	b->mem_len = (size_t)st.st_size;
	b->mapped = 1;
	return 0;
}

/* Compare the bytes t[0..tl) to p[0..pl), as unsigned, shorter first. */
static int
bytes_cmp(const char *t, size_t tl, const unsigned char *p, size_t pl)
{
	int r = memcmp(t, p, tl < pl ? tl : pl);

	return r != 0 ? r : tl < pl ? -1 : tl > pl;
}

/* Sort the indexes x[0..n) of b's special tokens by their texts
 * (merge sort, t: room for n). */
static void
sort_by_text(const struct wb_bpe *b, uint32_t *x, uint32_t *t, size_t n)
{
	const struct special *sp = b->def->sp;
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort_by_text(b, x, t, h);
	sort_by_text(b, x + h, t, n - h);
	while (i < h && j < n)
		t[k++] = bytes_cmp(sp[x[j]].text, b->sp_len[x[j]],
		    (const unsigned char *)sp[x[i]].text, b->sp_len[x[i]]) < 0 ?
		    x[j++] : x[i++];
	while (i < h)
		t[k++] = x[i++];
	memcpy(x, t, k * sizeof(*x));
}

/* sp_len and sp_ord of b (see struct wb_bpe); left NULL out of memory. */
static void
sp_sort(struct wb_bpe *b)
{
	const struct encdef *def = b->def;
	size_t n = def->n_sp;
	uint32_t *t;

	free(b->sp_len);
	free(b->sp_ord[0]);
	free(b->sp_ord[1]);
	b->sp_ord[0] = b->sp_ord[1] = NULL;
	b->sp_n[0] = b->sp_n[1] = 0;
	if ((b->sp_len = malloc((n ? n : 1) * sizeof(*b->sp_len))) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		b->sp_len[i] = strlen(def->sp[i].text);
	if ((t = malloc((n ? n : 1) * sizeof(*t))) == NULL)
		return;
	for (int a = 0; a < 2; a++) {
		if ((b->sp_ord[a] = malloc((n ? n : 1) * sizeof(uint32_t))) ==
		    NULL)
			break;
		for (size_t i = 0; i < n; i++)
			if (a || (b->always != NULL && b->always[i]))
				b->sp_ord[a][b->sp_n[a]++] = (uint32_t)i;
		sort_by_text(b, b->sp_ord[a], t, b->sp_n[a]);
	}
	free(t);
}

/* The tables of b's special tokens (see struct wb_bpe). */
static void
sp_setup(struct wb_bpe *b)
{
	const struct encdef *def = b->def;

	memset(b->sp_first, 0, sizeof(b->sp_first));
	b->sp_reach[0] = b->sp_reach[1] = 0;
	b->sp_one = def->n_sp > 0 ? (unsigned char)def->sp[0].text[0] : -1;
	for (size_t i = 0; i < def->n_sp; i++) {
		const struct special *sp = &def->sp[i];
		unsigned char c = (unsigned char)sp->text[0];
		size_t l = strlen(sp->text);
		bool always = b->always != NULL && b->always[i];

		b->sp_first[c] |= (unsigned char)(always ? 3 : 2);
		if (c != b->sp_one)
			b->sp_one = -1;
		if (always && l > b->sp_reach[0])
			b->sp_reach[0] = l;
		if (l > b->sp_reach[1])
			b->sp_reach[1] = l;
	}
	if (b->res_text != NULL) {   /* "<|reserved_N|>", special ones */
		size_t l = strlen(b->res_text + (size_t)(def->res_hi -
		    def->res_lo) * RES_STRIDE);

		b->sp_first['<'] |= 2;
		if (def->n_sp == 0)
			b->sp_one = '<';
		else if (b->sp_one != '<')
			b->sp_one = -1;
		if (l > b->sp_reach[1])
			b->sp_reach[1] = l;
	}
	sp_sort(b);
}

static char *
join(const char *a, const char *b, const char *c)
{
	size_t la, lb, lc;
	char *s;

	if (a == NULL)
		return NULL;
	la = strlen(a);
	lb = strlen(b);
	lc = strlen(c);
	s = malloc(la + lb + lc + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb);
		memcpy(s + la + lb, c, lc + 1);
	}
	return s;
}

void
wb_bpe_free(struct wb_bpe *b)
{
	if (!b)
		return;
	if (b->mapped)
		munmap(b->mem, b->mem_len);
	else
		free(b->mem);
	free(b->own_sp);
	free(b->own_text);
	free(b->always);
	free(b->strip);
	free(b->res_text);
	free(b->sp_len);
	free(b->sp_ord[0]);
	free(b->sp_ord[1]);
	free(b);
}

struct wb_bpe *
wb_bpe_open(const char *dir, const char *encoding, unsigned flags,
    struct wb_err *err)
{
	const struct encdef *def = NULL;
	struct wb_bpe *b = NULL;
	char *defdir = NULL, *path = NULL, *cache = NULL, *text = NULL;
	struct stat st;
	size_t i;
	int fd, status;

	if (err) {
		err->status = WB_OK;
		err->msg[0] = '\0';
	}
	for (i = 0; encoding && i < WB_NELEM(encodings); i++)
		if (strcmp(encodings[i].name, encoding) == 0)
			def = &encodings[i];
	if (!def) {
		seterr(err, WB_EUSAGE, "unknown encoding '%s' (wb-count "
		    "--list-encodings lists them)", encoding ? encoding : "(null)");
		return NULL;
	}
	if (!dir) {
		const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");

		if (x && x[0] == '/')
			defdir = join(x, "/wb/encodings", "");
		else if (h && h[0])
			defdir = join(h, "/.local/share/wb/encodings", "");
		else {
			seterr(err, WB_ENOINPUT, "%s: no rank directory given and "
			    "neither XDG_DATA_HOME nor HOME is set", encoding);
			return NULL;
		}
		if (!defdir)
			goto nomem;
		dir = defdir;
	}
	path = join(dir, "/", def->ranks);
	if (path) {
		char *p2 = join(path, ".tiktoken", "");

		free(path);
		path = p2;
	}
	cache = path ? join(path, ".wbc", "") : NULL;
	b = calloc(1, sizeof(*b));
	if (!path || !cache || !b)
		goto nomem;
	b->def = def;
	if (stat(path, &st) != 0) {
		seterr(err, WB_ENOINPUT, "%s: %s: %s; run scripts/fetch-encodings "
		    "to install the rank files", encoding, path, strerror(errno));
		goto fail;
	}
	if (!(flags & WB_BPE_NO_CACHE) && try_cache(b, cache, &st) == 0)
		goto done;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, WB_ENOINPUT, "%s: %s: %s; run scripts/fetch-encodings "
		    "to install the rank files", encoding, path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > (1u << 30)) {
		close(fd);
		seterr(err, WB_EDATA, "%s: %s: not a rank file", encoding, path);
		goto fail;
	}
	status = read_all(fd, (size_t)st.st_size, &text);
	close(fd);
	if (status != 0) {
		seterr(err, status, "%s: %s: %s", encoding, path,
		    status == WB_EINTERNAL ? "out of memory" : "read error");
		goto fail;
	}
	if (build(b, path, text, (size_t)st.st_size, &st, err) != 0)
		goto fail;
	if (!(flags & WB_BPE_NO_CACHE))
		write_cache(cache, b->mem, b->mem_len);
done:
	b->n_vocab = b->n_ranks;
	b->small = WB_BPE_SMALL_PIECE;
	b->cache_after = CACHE_AFTER;
	for (i = 0; i < def->n_sp; i++) {
		uint32_t id = def->sp[i].id;

		if (id < b->n_ranks && b->off[id + 1] != b->off[id]) {
			seterr(err, WB_EDATA, "%s: %s: special token %s has id %u, "
			    "which is also a rank", encoding, path, def->sp[i].text,
			    (unsigned)id);
			goto fail;
		}
		if (id + 1 > b->n_vocab)
			b->n_vocab = id + 1;
	}
	if (def->res_hi != 0) {
		if (def->res_lo < b->n_ranks) {
			seterr(err, WB_EDATA, "%s: %s: its reserved tokens from %u "
			    "on are also ranks", encoding, path,
			    (unsigned)def->res_lo);
			goto fail;
		}
		b->res_text = malloc((size_t)(def->res_hi - def->res_lo + 1) *
		    RES_STRIDE);
		if (b->res_text == NULL)
			goto nomem;
		for (uint32_t id = def->res_lo; id <= def->res_hi; id++)
			snprintf(b->res_text + (size_t)(id - def->res_lo) *
			    RES_STRIDE, RES_STRIDE, "<|reserved_%u|>", (unsigned)id);
		if (def->res_hi + 1 > b->n_vocab)
			b->n_vocab = def->res_hi + 1;
	}
	sp_setup(b);
	free(text);
	free(defdir);
	free(path);
	free(cache);
	return b;
nomem:
	seterr(err, WB_EINTERNAL, "%s: out of memory", encoding);
fail:
	free(text);
	free(defdir);
	free(path);
	free(cache);
	wb_bpe_free(b);
	return NULL;
}

/* Longest first, so that the first match at a place is the longest. */
static int
by_length_desc(const void *x, const void *y)
{
	size_t a = strlen(((const struct special *)x)->text);
	size_t c = strlen(((const struct special *)y)->text);

	return a < c ? 1 : a > c ? -1 : 0;
}

/* What follows from an encoding of wb_bpe_from_tokens once its image is
 * attached: its vocabulary size, the checks of its added tokens, the
 * tables of its special ones. */
static int
own_finish(struct wb_bpe *b, const char *name, struct wb_err *err)
{
	b->n_vocab = b->n_ranks;
	b->small = WB_BPE_SMALL_PIECE;
	b->cache_after = CACHE_AFTER;
	for (size_t i = 0; i < b->own.n_sp; i++) {
		uint32_t id = b->own_sp[i].id;
		uint32_t l = id < b->n_ranks ? b->off[id + 1] - b->off[id] : 0;

		if (l != 0 && (l != strlen(b->own_sp[i].text) || memcmp(b->blob +
		    b->off[id], b->own_sp[i].text, l) != 0)) {
			seterr(err, WB_EDATA, "%s: added token %s has id %u, which "
			    "the vocabulary gives to other bytes", name,
			    b->own_sp[i].text, (unsigned)id);
			return -1;
		}
		if (id + 1 > b->n_vocab)
			b->n_vocab = id + 1;
	}
	sp_setup(b);
	for (size_t i = 0; b->strip != NULL && i < b->own.n_sp; i++)
		if (b->strip[i] != 0) {
			b->strips[1] = true;
			b->strips[0] = b->strips[0] || b->always[i];
		}
	return 0;
}

static int
by_id(const void *x, const void *y)
{
	uint32_t a = ((const struct special *)x)->id;
	uint32_t c = ((const struct special *)y)->id;

	return a < c ? -1 : a > c;
}

/* Two added tokens of one id would not decode to the texts they came
 * from: refused. */
static int
same_id(const struct wb_bpe *b, const char *name, struct wb_err *err)
{
	size_t n = b->own.n_sp;
	struct special *s = malloc((n ? n : 1) * sizeof(*s));

	if (s == NULL) {
		seterr(err, WB_EINTERNAL, "%s: out of memory", name);
		return -1;
	}
	memcpy(s, b->own_sp, n * sizeof(*s));
	qsort(s, n, sizeof(*s), by_id);
	for (size_t i = 1; i < n; i++)
		if (s[i].id == s[i - 1].id) {
			seterr(err, WB_EDATA, "%s: added tokens %s and %s have "
			    "the same id %u", name, s[i - 1].text, s[i].text,
			    (unsigned)s[i].id);
			free(s);
			return -1;
		}
	free(s);
	return 0;
}

struct wb_bpe *
wb_bpe_from_tokens(const char *name, enum wb_pat pat,
    const unsigned char *bytes, const uint32_t *off, uint32_t n_ids,
    const struct wb_bpe_added *added, size_t n_added, bool merge_whole,
    struct wb_err *err)
{
	struct wb_bpe *b = calloc(1, sizeof(*b));
	struct tok *toks = malloc((n_ids ? n_ids : 1) * sizeof(*toks));
	struct stat st = { 0 };
	size_t ntok = 0, text_len = strlen(name) + 1, i;
	uint32_t max_len = 0, n_ranks = 0, r;
	char *t;

	if (err) {
		err->status = WB_OK;
		err->msg[0] = '\0';
	}
	for (i = 0; i < n_added; i++)
		text_len += added[i].len + 1;
	if (b == NULL || toks == NULL)
		goto nomem;
	b->own_sp = calloc(n_added ? n_added : 1, sizeof(*b->own_sp));
	b->always = calloc(n_added ? n_added : 1, sizeof(*b->always));
	b->own_text = t = malloc(text_len);
	if (b->own_sp == NULL || b->always == NULL || t == NULL)
		goto nomem;
	for (r = 0; r < n_ids; r++) {
		uint32_t len = off[r + 1] - off[r];

		if (len == 0)
			continue;
		toks[ntok++] = (struct tok){ r, off[r], len };
		if (len > max_len)
			max_len = len;
		n_ranks = r + 1;
	}
	memcpy(t, name, strlen(name) + 1);
	b->own = (struct encdef){ .name = t, .ranks = t, .pat = pat,
	    .n_tokens = (uint32_t)ntok, .sp = b->own_sp, .n_sp = n_added };
	b->merge_whole = merge_whole;
	t += strlen(name) + 1;
	for (i = 0; i < n_added; i++) {
		memcpy(t, added[i].text, added[i].len);
		t[added[i].len] = '\0';
		b->own_sp[i] = (struct special){ t, added[i].id };
		t += added[i].len + 1;
	}
	/* Longest first; the special bit rides in the id's top bit meanwhile,
	 * the strip bits in the two below it. */
	for (i = 0; i < n_added; i++) {
		b->own_sp[i].id |= added[i].special ? 0 : 1u << 31;
		b->own_sp[i].id |= (uint32_t)(added[i].strip & 3) << 29;
		if (added[i].strip != 0 && b->strip == NULL &&
		    (b->strip = calloc(n_added, 1)) == NULL)
			goto nomem;
	}
	qsort(b->own_sp, n_added, sizeof(*b->own_sp), by_length_desc);
	for (i = 0; i < n_added; i++) {
		b->always[i] = b->own_sp[i].id >> 31;
		if (b->strip != NULL)
			b->strip[i] = (uint8_t)(b->own_sp[i].id >> 29 & 3);
		b->own_sp[i].id &= ~(7u << 29);
	}
	b->def = &b->own;
	if (same_id(b, name, err) != 0 ||
	    build_img(b, name, toks, ntok, bytes, max_len, n_ranks, &st, err) != 0 ||
	    own_finish(b, name, err) != 0)
		goto fail;
	free(toks);
	return b;
nomem:
	seterr(err, WB_EINTERNAL, "%s: out of memory", name);
fail:
	free(toks);
	wb_bpe_free(b);
	return NULL;
}

/*
 * An encoding of wb_bpe_from_tokens in a tokcache.c file: its image as
 * it is (section BPE_IMG) and what wb_bpe_from_tokens was told besides
 * (BPE_EXT): the pre-tokenizer, merge_whole, NFC or not, and the added
 * tokens with their ids and whether they count always.  Whatever else a builder sets
 * in struct wb_bpe must be kept here too (and TC_VERSION bumped), or a
 * cached encoding would differ from a compiled one; the tests compare
 * them on every tokenizer they have.
 */
#define BPE_IMG WB_TC_TAG('B', 'P', 'E', 'i')
#define BPE_EXT WB_TC_TAG('B', 'P', 'E', 'x')

struct bpe_ext {
	uint32_t pat;
	uint32_t merge_whole;
	uint32_t n_tokens;
	uint32_t n_sp;
	uint32_t text_len;      /* the texts of the added tokens, NUL each */
	uint32_t nfc;           /* wb_bpe_set_nfc was called */
	/* then n_sp of struct bpe_ext_sp, then the texts */
};

struct bpe_ext_sp {
	uint32_t id;
	uint32_t always;        /* bit 0; the WB_STRIP_ bits above it */
	uint32_t at;            /* of its text, in the texts */
	uint32_t len;
};

void
wb_bpe_to_cache(const struct wb_bpe *b, const struct wb_tokcache_key *k)
{
	const struct encdef *d = b->def;
	struct bpe_ext *x;
	struct bpe_ext_sp *sp;
	size_t text_len = 0, len, i;
	char *t;

	if (d != &b->own || b->mapped)
		return;
	for (i = 0; i < d->n_sp; i++)
		text_len += strlen(d->sp[i].text) + 1;
	if (text_len > UINT32_MAX)
		return;
	len = sizeof(*x) + d->n_sp * sizeof(*sp) + text_len;
	if ((x = calloc(1, len)) == NULL)
		return;
	*x = (struct bpe_ext){ (uint32_t)d->pat, b->merge_whole, d->n_tokens,
	    (uint32_t)d->n_sp, (uint32_t)text_len, b->nfc };
	sp = (struct bpe_ext_sp *)(void *)(x + 1);
	t = (char *)(sp + d->n_sp);
	for (i = 0; i < d->n_sp; i++) {
		size_t l = strlen(d->sp[i].text);

		sp[i] = (struct bpe_ext_sp){ d->sp[i].id, (b->always != NULL &&
		    b->always[i]) | (b->strip != NULL ? (uint32_t)b->strip[i] <<
		    1 : 0), (uint32_t)(t - (char *)(sp + d->n_sp)),
		    (uint32_t)l };
		memcpy(t, d->sp[i].text, l + 1);
		t += l + 1;
	}
	wb_tokcache_write(k, (const struct wb_tokcache_part[]){
	    { BPE_EXT, x, len }, { BPE_IMG, b->mem, b->mem_len } }, 2);
	free(x);
}

struct wb_bpe *
wb_bpe_from_cache(struct wb_tokcache *tc, const char *name)
{
	const struct bpe_ext *x;
	const struct bpe_ext_sp *sp;
	const char *texts;
	const void *im;
	size_t xlen, ilen, i, name_len = strlen(name) + 1;
	struct wb_err err;      /* a cache that fails is passed over */
	struct wb_bpe *b;
	char *t;

	x = wb_tokcache_section(tc, BPE_EXT, &xlen);
	im = wb_tokcache_section(tc, BPE_IMG, &ilen);
	if (x == NULL || im == NULL || xlen < sizeof(*x) ||
	    (xlen - sizeof(*x)) / sizeof(*sp) < x->n_sp ||
	    xlen - sizeof(*x) - x->n_sp * sizeof(*sp) != x->text_len)
		return NULL;
	sp = (const struct bpe_ext_sp *)(const void *)(x + 1);
	texts = (const char *)(sp + x->n_sp);
	for (i = 0; i < x->n_sp; i++)
		if (sp[i].len == 0 || sp[i].at > x->text_len ||
		    sp[i].len >= x->text_len - sp[i].at ||
		    texts[sp[i].at + sp[i].len] != '\0' ||
		    memchr(texts + sp[i].at, '\0', sp[i].len) != NULL ||
		    (i > 0 && sp[i].len > sp[i - 1].len))
			return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->own_sp = calloc(x->n_sp ? x->n_sp : 1, sizeof(*b->own_sp));
	b->always = calloc(x->n_sp ? x->n_sp : 1, sizeof(*b->always));
	b->own_text = t = malloc(name_len + x->text_len);
	if (b->own_sp == NULL || b->always == NULL || t == NULL ||
	    attach(b, im, ilen) != 0)
		goto fail;
	memcpy(t, name, name_len);
	memcpy(t + name_len, texts, x->text_len);
	for (i = 0; i < x->n_sp; i++) {
		b->own_sp[i] = (struct special){ t + name_len + sp[i].at,
		    sp[i].id };
		b->always[i] = (sp[i].always & 1) != 0;
		if ((sp[i].always >> 1) != 0 && b->strip == NULL &&
		    (b->strip = calloc(x->n_sp, 1)) == NULL)
			goto fail;
		if (b->strip != NULL)
			b->strip[i] = (uint8_t)(sp[i].always >> 1 & 3);
	}
	b->own = (struct encdef){ .name = t, .ranks = t,
	    .pat = (enum wb_pat)x->pat, .n_tokens = x->n_tokens,
	    .sp = b->own_sp, .n_sp = x->n_sp };
	b->def = &b->own;
	b->merge_whole = x->merge_whole != 0;
	b->nfc = x->nfc != 0;
	if (own_finish(b, name, &err) != 0)
		goto fail;
	b->mem = wb_tokcache_take(tc, &b->mem_len);
	b->mapped = 1;
	return b;
fail:
	b->mem = NULL;
	wb_bpe_free(b);
	return NULL;
}

uint32_t
wb_bpe_id_of(const struct wb_bpe *b, const void *p, size_t n)
{
	return rank_of(b, p, n);
}

/* Encoding i of those known: its name, its rank file (without
 * ".tiktoken") and how many special tokens it has; NULL past the last. */
const char *
wb_bpe_encoding_at(size_t i, const char **ranks, size_t *n_special)
{
	const struct encdef *d;

	if (i >= WB_NELEM(encodings))
		return NULL;
	d = &encodings[i];
	*ranks = d->ranks;
	*n_special = d->n_sp + (d->res_hi ? d->res_hi - d->res_lo + 1 : 0);
	return d->name;
}

bool
wb_bpe_known(const char *name)
{
	for (size_t i = 0; i < WB_NELEM(encodings); i++)
		if (strcmp(encodings[i].name, name) == 0)
			return true;
	return false;
}

const char *
wb_bpe_name(const struct wb_bpe *b)
{
	return b->def->name;
}

uint32_t
wb_bpe_n_vocab(const struct wb_bpe *b)
{
	return b->n_vocab;
}

/* ---------------------------------------------------------------------- */
/* Byte-pair merging
 *
 * tiktoken merges, again and again, the adjacent pair of parts whose
 * concatenation has the lowest rank, the leftmost of equals, until no pair
 * is a token.  Short pieces do just that over arrays (O(n^2) for n at most
 * WB_BPE_SMALL_PIECE).  Long ones keep, for every byte, the rank of the
 * pair that starts there (NORANK if no part starts there) and the length
 * of the part that starts or ends there (the two ends of a part hold the
 * same length, so both neighbours are one step away); a tournament tree
 * over blocks of BLK bytes (a complete binary tree whose every node holds
 * the least key below it), keyed by rank << 32 | start offset, has at
 * its root the lowest rank, and of equal ranks the leftmost, since
 * offsets grow from left to right -- the pair tiktoken's scan picks.  A
 * merge changes the pairs at three offsets; their blocks are scanned
 * again and updated up towards the root until a minimum no longer
 * changes: O(n log n) in all, in about 8 bytes of memory per byte, as
 * page faults are most of the cost of a long piece.  The tokens are the
 * ranks of the parts left, looked up at the end.
 *
 * A backtracking encoder (the longest token that starts here, kept if
 * undoing its merges and those of the token before it finds no merge
 * across the two that tiktoken would have made first, else the next
 * shorter one, as in GitHub's rust-gems bpe) gives the same tokens with
 * fewer instructions on long pieces of scripts written without spaces.
 * It is not used: it needs a prefix automaton of the vocabulary and the
 * two parts of every token (for o200k_base about 240 million
 * instructions and 37 MB to build, too much to load), and its lookups,
 * in that automaton a byte at a time and of pairs of tokens in the table
 * of all tokens, miss the cache more than the merges here, so that it ran
 * slower on the multilingual and UDHR texts all the same.
 */


struct out {
	uint32_t *ids;
	size_t cap;
	size_t n;
};

static inline void
emit(struct out *o, uint32_t id)
{
	if (o->n < o->cap)
		o->ids[o->n] = id;
	o->n++;
}

/* Short pieces: each pair of parts has a key, rank << 6 | start, kept at
 * the start of its left part (NOKEY32 where no part starts or the pair is
 * not a token), so that the pair tiktoken's scan picks, the lowest rank
 * and the leftmost of equals, is the least key: one pass of compares and
 * conditional moves over the array, where a scan of the list of parts
 * mispredicts its comparisons and waits on each link. */
#define NOKEY32 UINT32_MAX

static inline uint32_t
small_key(uint32_t rank, size_t at)
{
	return rank == NORANK ? NOKEY32 : rank << 6 | (uint32_t)at;
}

/* The least of key[0..n), where key[n..n + KEY_PAD) may be read and are
 * NOKEY32: by fours, so that the loop ends after few enough turns to be
 * foreseen.  (Vectors of four keys took fewer instructions but more
 * time, measured on the UDHR text: likely as they load, 16 bytes at once,
 * keys that the merge has just stored 4 bytes at a time.) */
#define KEY_PAD 3

static inline uint32_t
least(const uint32_t *key, size_t n)
{
	uint32_t m0 = NOKEY32, m1 = NOKEY32;

	for (size_t i = 0; i < n; i += 4) {
		m0 = key[i] < m0 ? key[i] : m0;
		m1 = key[i + 1] < m1 ? key[i + 1] : m1;
		m0 = key[i + 2] < m0 ? key[i + 2] : m0;
		m1 = key[i + 3] < m1 ? key[i + 3] : m1;
	}
	return m1 < m0 ? m1 : m0;
}

/*
 * Merging a piece looks up the bytes of two adjacent parts again and again,
 * and the parts are tokens: the rank of the pair of tokens x, y (that of
 * their bytes together, or NORANK) is kept in a direct-mapped memo beside
 * the cache, where one load and compare find it, instead of hashing and
 * comparing bytes.  A token's bytes are those of its rank alone, so the
 * pair of ranks says what the bytes are.
 */
#define MEMO_BITS 15

struct pentry {
	uint32_t x, y;          /* NORANK, NORANK: empty */
	uint32_t r;
};

/* The rank of the part at p[0..m) (token x) and the part at p[m..n)
 * (token y) together. */
static inline uint32_t
pair_rank(const struct wb_bpe *b, struct pentry *memo, const unsigned char *p,
    size_t n, uint32_t x, uint32_t y)
{
	struct pentry *e;
	uint32_t r;

	if (memo == NULL || x == NORANK || y == NORANK)
		return rank_of(b, p, n);
	e = &memo[(((uint64_t)x << 32 | y) * 0x9e3779b97f4a7c15u) >>
	    (64 - MEMO_BITS)];
	if (e->x == x && e->y == y)
		return e->r;
	r = rank_of(b, p, n);
	e->x = x;
	e->y = y;
	e->r = r;
	return r;
}

static void
merge_small(const struct wb_bpe *b, const unsigned char *p, size_t n,
    struct pentry *memo, struct out *o)
{
	/* nx[i]: where the part after the one at i starts (n after the last);
	 * pv[i]: where the part before it starts; tok[i]: its rank. */
	uint8_t nx[WB_BPE_SMALL_PIECE], pv[WB_BPE_SMALL_PIECE];
	uint32_t tok[WB_BPE_SMALL_PIECE], key[WB_BPE_SMALL_PIECE + KEY_PAD], min;
	size_t i, a, c, e, z;

	memset(key + n, 0xFF, KEY_PAD * sizeof(*key));     /* NOKEY32 */

	for (i = 0; i < n; i++) {
		nx[i] = (uint8_t)(i + 1);
		pv[i] = (uint8_t)(i - 1);
		tok[i] = b->byte_rank[p[i]];
		key[i] = i + 1 < n ? small_key(rank_of(b, p + i, 2), i) : NOKEY32;
	}
	for (;;) {
		min = least(key, n);
		if (min == NOKEY32)
			break;
		a = min & 63;
		tok[a] = min >> 6;
		c = nx[a];
		e = nx[a] = nx[c];
		key[c] = NOKEY32;
		if (e < n) {
			pv[e] = (uint8_t)a;
			key[a] = small_key(pair_rank(b, memo, p + a, nx[e] - a,
			    tok[a], tok[e]), a);
		} else {
			key[a] = NOKEY32;
		}
		if (a > 0) {
			z = pv[a];
			key[z] = small_key(pair_rank(b, memo, p + z, e - z,
			    tok[z], tok[a]), z);
		}
	}
	for (i = 0; i < n; i = nx[i])
		emit(o, tok[i]);
}

#define BLK 8
#define NOKEY UINT64_MAX

/* Scratch memory for long pieces, kept across the pieces of one call. */
struct wb_bpe_work {
	uint32_t *pr;           /* per byte: rank of the pair starting there */
	uint16_t *ln;           /* per byte: length of the part it starts or ends */
	uint32_t *tk;           /* per byte: rank of the part it starts */
	uint64_t *tree;         /* 2 * leaves keys: rank << 32 | start */
	size_t cap;             /* bytes */
	size_t tcap;            /* tree nodes */
	struct centry *cache;   /* tokens of short pieces seen in this call */
	size_t pieces;          /* merged so far, to start the cache late */
	bool no_cache;          /* it could not be had */
	struct pentry *memo;    /* ranks of pairs of tokens, with the cache */
	const struct wb_bpe *of; /* the encoding whose tokens the cache holds */
};

/*
 * Text repeats its words, and merging a word costs more than finding it
 * again: the tokens of short pieces merged in one call are kept in a
 * direct-mapped cache (a slot holds the last piece that hashed to it),
 * found by the hash that looked the whole piece up as a token.  Words in
 * most scripts take 2 or 3 bytes a letter, so a slot holds any piece
 * merge_small takes.  The cache starts after CACHE_AFTER merges
 * (b->cache_after), so that short texts never pay for it, and lasts as
 * long as its struct wb_bpe_work: one call of wb_bpe_encode, or all the
 * calls of a stream that keeps one (wb_bpe_work_new).
 */
#define CACHE_SLOTS 8192
#define CACHE_KEY WB_BPE_SMALL_PIECE
#define CACHE_IDS 18

struct centry {
	uint32_t tag;           /* bits of the piece's hash */
	uint8_t len;            /* of the piece; 0: empty */
	uint8_t ntok;
	uint32_t ids[CACHE_IDS];
	unsigned char key[CACHE_KEY];
};

static int
work_grow(struct wb_bpe_work *w, size_t n)
{
	size_t m, t;
	void *mem;

	if (n <= w->cap)
		return 0;
	for (m = 1024; m < n; m *= 2)
		if (m > SIZE_MAX / 64)
			return -1;
	for (t = 2; t < 2 * ((m + BLK - 1) / BLK); t *= 2)
		;
	free(w->tree);
	w->tree = NULL;
	w->cap = 0;
	mem = malloc(t * sizeof(uint64_t) + m * (2 * sizeof(uint32_t) +
	    sizeof(uint16_t)));
	if (!mem)
		return -1;
	w->tree = mem;
	w->pr = (uint32_t *)(void *)(w->tree + t);
	w->tk = w->pr + m;
	w->ln = (uint16_t *)(void *)(w->tk + m);
	w->cap = m;
	w->tcap = t;
	return 0;
}

/* The least key in block k of the pair ranks pr[0..n), which are NORANK
 * from n up to a multiple of BLK.  Where the compiler has vectors, the
 * least of eight 32-bit keys in two vectors of four, compared as signed
 * numbers (SSE2 compares no others): the rank (less than 1 << RANK_BITS,
 * NORANK the greatest once cut to 27 bits) above its place in the block,
 * in the low 3 bits. */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__ARM_NEON))
typedef int32_t v4i32 __attribute__((vector_size(16)));

static inline v4i32
vmin(v4i32 a, v4i32 b)
{
	return b ^ ((a ^ b) & (a < b));
}

#if defined(__clang__)
#define VSWAP(v, a, b, c, d) __builtin_shufflevector(v, v, a, b, c, d)
#else
#define VSWAP(v, a, b, c, d) __builtin_shuffle(v, (v4i32){ a, b, c, d })
#endif

_Static_assert(BLK == 8 && RANK_BITS < 27, "block_min's keys");

static inline uint64_t
block_min(const uint32_t *pr, size_t n, size_t k)
{
	const v4i32 lo = { 0, 1, 2, 3 }, hi = { 4, 5, 6, 7 },
	    cut = { 0x7FFFFFF, 0x7FFFFFF, 0x7FFFFFF, 0x7FFFFFF };
	v4i32 a, c;
	uint32_t m;

	(void)n;
	memcpy(&a, pr + k * BLK, sizeof(a));
	memcpy(&c, pr + k * BLK + 4, sizeof(c));
	a = ((a & cut) << 3) | lo;
	c = ((c & cut) << 3) | hi;
	a = vmin(a, c);
	a = vmin(a, VSWAP(a, 2, 3, 0, 1));
	a = vmin(a, VSWAP(a, 1, 0, 3, 2));
	m = (uint32_t)a[0];
	if (m >> 3 == 0x7FFFFFF)
		return NOKEY;
	return (uint64_t)(m >> 3) << 32 | (k * BLK + (m & 7));
}
#else
static inline uint64_t
block_min(const uint32_t *pr, size_t n, size_t k)
{
	size_t i = k * BLK, e = i + BLK < n ? i + BLK : n;
	uint64_t min = NOKEY, key;

	/* without branches: which pair is least is not predictable */
	for (; i < e; i++) {
		key = (uint64_t)pr[i] << 32 | i;
		min = key < min ? key : min;
	}
	return min >> 32 == NORANK ? NOKEY : min;
}
#endif

/* Set leaf k of the tournament tree t (m leaves) to the least key of its
 * block and update the minima above it, stopping where they no longer
 * change. */
static inline void
tree_update(uint64_t *t, size_t m, const uint32_t *pr, size_t n, size_t k)
{
	size_t j = m + k;

	t[j] = block_min(pr, n, k);
	for (j >>= 1; j >= 1; j >>= 1) {
		uint64_t l = t[2 * j], r = t[2 * j + 1], v = l < r ? l : r;

		if (t[j] == v)
			break;
		t[j] = v;
	}
}

static void
merge_tree(const struct wb_bpe *b, const unsigned char *p, size_t n,
    struct wb_bpe_work *w, struct out *o)
{
	uint32_t *pr = w->pr;
	uint16_t *ln = w->ln;
	uint32_t *tk = w->tk;
	uint64_t *t = w->tree;
	struct pentry *memo = w->memo;
	size_t blocks = (n + BLK - 1) / BLK, m, i, j;

	for (m = 1; m < blocks; m *= 2)
		;
	for (i = 0; memo != NULL && i < n; i++)
		tk[i] = b->byte_rank[p[i]];
	for (i = 0; i < n; i++) {
		ln[i] = 1;
		pr[i] = i + 1 < n ? rank_of(b, p + i, 2) : NORANK;
	}
	for (; i % BLK != 0; i++)       /* w->cap is a multiple of BLK */
		pr[i] = NORANK;
	for (i = 0; i < m; i++)
		t[m + i] = i < blocks ? block_min(pr, n, i) : NOKEY;
	for (j = m - 1; j >= 1; j--)
		t[j] = t[2 * j] < t[2 * j + 1] ? t[2 * j] : t[2 * j + 1];
	while (t[1] != NOKEY) {
		size_t a = (uint32_t)t[1], c, d, z;

		c = a + ln[a];
		d = c + ln[c];
		ln[a] = ln[d - 1] = (uint16_t)(d - a);
		pr[c] = NORANK;
		z = a > 0 ? a - ln[a - 1] : a;
		if (memo != NULL) {
			/* the parts' ranks, and the memo of pairs of them */
			tk[a] = (uint32_t)(t[1] >> 32);
			pr[a] = d < n ? pair_rank(b, memo, p + a, d + ln[d] - a,
			    tk[a], tk[d]) : NORANK;
			if (a > 0)
				pr[z] = pair_rank(b, memo, p + z, d - z, tk[z],
				    tk[a]);
		} else {
			pr[a] = d < n ? rank_of(b, p + a, d + ln[d] - a) : NORANK;
			if (a > 0)
				pr[z] = rank_of(b, p + z, d - z);
		}
		/* z <= a < c: their blocks, once each, after all three change */
		tree_update(t, m, pr, n, a / BLK);
		if (c / BLK != a / BLK)
			tree_update(t, m, pr, n, c / BLK);
		if (z / BLK != a / BLK)
			tree_update(t, m, pr, n, z / BLK);
	}
	if (o->cap > 0 || o->ids != NULL)
		for (i = 0; i < n; i += ln[i])
			emit(o, rank_of(b, p + i, ln[i]));
	else    /* only counted: the parts are the tokens */
		for (i = 0; i < n; i += ln[i])
			o->n++;
}

/* Count a piece of m merges or so, and start the cache and the memo of
 * pairs after b->cache_after. */
static void
cache_count(const struct wb_bpe *b, struct wb_bpe_work *w, size_t m)
{
	if (w->cache != NULL || w->no_cache)
		return;
	if (w->pieces < b->cache_after) {
		w->pieces += m;
		return;
	}
	w->cache = calloc(CACHE_SLOTS, sizeof(*w->cache));
	w->memo = malloc(sizeof(*w->memo) << MEMO_BITS);
	if (w->memo != NULL)
		memset(w->memo, 0xFF, sizeof(*w->memo) << MEMO_BITS);
	w->no_cache = w->cache == NULL;
}

/* Tokens of one piece. */
static int
piece(const struct wb_bpe *b, const unsigned char *p, size_t n, struct wb_bpe_work *w,
    struct out *o, struct wb_err *err)
{
	uint64_t h = 0, tail = 0;
	uint32_t r;

	if (n > 2 && n <= b->max_len) {
		/* one hash for the lookup as a token and in the cache */
		h = hash_bytes(p, n, &tail);
		r = b->merge_whole ? NORANK : rank_hashed(b, p, n, h, tail);
	} else {
		r = b->merge_whole ? NORANK : rank_of(b, p, n);
	}
	if (r != NORANK) {
		emit(o, r);
		return 0;
	}
	if (n <= b->small) {
		uint32_t ids[WB_BPE_SMALL_PIECE];
		struct out t = { ids, WB_BPE_SMALL_PIECE, 0 };
		struct centry *e = NULL;
		size_t i;

		if (w->cache != NULL && n <= CACHE_KEY) {
			if (h == 0)
				h = hash_bytes(p, n, &tail);
			e = &w->cache[(h >> 12) & (CACHE_SLOTS - 1)];
			if (e->tag == (uint32_t)(h >> 32) && e->len == n &&
			    memcmp(e->key, p, n) == 0) {
				for (i = 0; i < e->ntok; i++)
					emit(o, e->ids[i]);
				return 0;
			}
		}
		merge_small(b, p, n, w->memo, &t);
		for (i = 0; i < t.n; i++)
			emit(o, ids[i]);
		if (e != NULL && t.n <= CACHE_IDS) {
			e->tag = (uint32_t)(h >> 32);
			e->len = (uint8_t)n;
			e->ntok = (uint8_t)t.n;
			memcpy(e->key, p, n);
			memcpy(e->ids, ids, t.n * sizeof(*ids));
		} else {
			cache_count(b, w, 1);
		}
		return 0;
	}
	if (n >= UINT32_MAX || work_grow(w, n) != 0) {
		seterr(err, WB_EINTERNAL, "out of memory for a piece of %zu bytes", n);
		return WB_EINTERNAL;
	}
	merge_tree(b, p, n, w, o);
	cache_count(b, w, n);
	return 0;
}

static int
ordinary(const struct wb_bpe *b, const unsigned char *s, size_t n,
    struct wb_bpe_work *w, struct out *o, struct wb_err *err)
{
	size_t i = 0, e;

	while (i < n) {
		e = wb_pretok_next(b->def->pat, s, n, i);
		if (piece(b, s + i, e - i, w, o, err) != 0)
			return -1;
		i = e;
	}
	return 0;
}

/* ordinary() on s[0..n) in NFC, if b's text is to be. */
static int
normal(const struct wb_bpe *b, const unsigned char *s, size_t n,
    struct wb_bpe_work *w, struct out *o, struct wb_err *err)
{
	unsigned char *t;
	size_t len;
	int rc;

	if (!b->nfc || n == 0)
		return ordinary(b, s, n, w, o, err);
	switch (wb_nfc(s, n, &t, &len)) {
	case 0:
		return ordinary(b, s, n, w, o, err);
	case 1:
		rc = ordinary(b, t, len, w, o, err);
		free(t);
		return rc;
	default:
		seterr(err, WB_EINTERNAL, "out of memory for NFC of %zu bytes", n);
		return -1;
	}
}

void
wb_bpe_set_nfc(struct wb_bpe *b)
{
	b->nfc = true;
}

/* Can the special token k of b count where allow_special is allow? */
static inline bool
sp_active(const struct wb_bpe *b, size_t k, int allow)
{
	return allow || (b->always != NULL && b->always[k]);
}

/* Is s[0..n) "<|reserved_N|>" for an N of def's range (N written as
 * printf writes it)?  Its length then, else 0. */
static size_t
reserved_at(const struct encdef *def, const unsigned char *s, size_t n,
    uint32_t *id)
{
	static const char pre[] = "<|reserved_";
	size_t i = sizeof(pre) - 1;
	uint64_t v = 0;

	if (def->res_hi == 0 || n < i + 3 || memcmp(s, pre, i) != 0 ||
	    s[i] < '1' || s[i] > '9')
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && v <= def->res_hi)
		v = v * 10 + (uint64_t)(s[i++] - '0');
	if (v < def->res_lo || v > def->res_hi || n - i < 2 || s[i] != '|' ||
	    s[i + 1] != '>')
		return 0;
	*id = (uint32_t)v;
	return i + 2;
}

/* The length of the space (Unicode's White_Space, the \s of tokenizers'
 * regex) at s[i] (the text ends at n), else 0. */
static size_t
space_len(const unsigned char *s, size_t n, size_t i)
{
	uint32_t cp;
	int l = i < n ? wb_utf8_seqlen(s + i, n - i) : 0;

	if (l <= 0)
		return 0;
	wb_utf8_decode(s + i, (size_t)l, &cp);
	return wb_is_space(cp) ? (size_t)l : 0;
}

/* The length of such a space that ends at s[e], else 0. */
static size_t
space_len_before(const unsigned char *s, size_t e)
{
	size_t b = e;

	while (b > 0 && e - b < 4)
		if ((s[--b] & 0xC0) != 0x80)
			break;
	return e > b && space_len(s, e, b) == e - b ? e - b : 0;
}

/* The first special token at or after s[i] of those that count with
 * allow (the first of the list where several start at one place, so that
 * lists longest first find the longest): its start in *at, its id in
 * *id, the WB_STRIP_ bits of it in *strip; its length, or 0 if there is
 * none. */
static size_t
find_special(const struct wb_bpe *b, int allow, const unsigned char *s,
    size_t n, size_t i, size_t *at, uint32_t *id, unsigned *strip)
{
	const struct encdef *def = b->def;
	unsigned mask = allow ? 2u : 1u;
	size_t l;

	while (i < n) {
		if (!(b->sp_first[s[i]] & mask)) {
			const unsigned char *q;

			if (b->sp_one < 0) {
				i++;
				continue;
			}
			if ((q = memchr(s + i, b->sp_one, n - i)) == NULL)
				break;
			i = (size_t)(q - s);
			if (!(b->sp_first[s[i]] & mask))
				break;  /* only specials that do not count start so */
		}
		for (size_t k = 0; k < def->n_sp; k++) {
			if ((unsigned char)def->sp[k].text[0] != s[i])
				continue;
			l = b->sp_len != NULL ? b->sp_len[k] :
			    strlen(def->sp[k].text);
			if (sp_active(b, k, allow) && l <= n - i &&
			    memcmp(s + i, def->sp[k].text, l) == 0) {
				*at = i;
				*id = def->sp[k].id;
				*strip = b->strip != NULL ? b->strip[k] : 0;
				return l;
			}
		}
		if (allow && (l = reserved_at(def, s + i, n - i, id)) != 0) {
			*at = i;
			*strip = 0;
			return l;
		}
		i++;
	}
	return 0;
}

/* Merge the pieces longer than n bytes (at most WB_BPE_SMALL_PIECE, the
 * default) as long ones, so tests can run them all through merge_tree. */
void
wb_bpe_set_small_piece(struct wb_bpe *b, size_t n)
{
	b->small = n < WB_BPE_SMALL_PIECE ? n : WB_BPE_SMALL_PIECE;
}

void
wb_bpe_set_cache_after(struct wb_bpe *b, size_t n)
{
	b->cache_after = n;
}

size_t
wb_bpe_special_max(const struct wb_bpe *b, int allow_special)
{
	return b->sp_reach[allow_special ? 1 : 0];
}

/* The first place in sp_ord[a] whose text is not below p[0..n) (above,
 * with after), or sp_n[a]. */
static size_t
sp_bound(const struct wb_bpe *b, int a, const unsigned char *p, size_t n,
    bool after)
{
	const uint32_t *ord = b->sp_ord[a];
	size_t lo = 0, hi = b->sp_n[a];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = bytes_cmp(b->def->sp[ord[mid]].text, b->sp_len[ord[mid]],
		    p, n);

		if (r < 0 || (after && r == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index in def->sp of the longest special token that counts with a
 * and is the start of p[0..n), or SIZE_MAX.  The last text not above
 * p[0..n) is it if it starts p; else the token is no longer than what
 * the two have in common. */
static size_t
longest_at(const struct wb_bpe *b, int a, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t i = sp_bound(b, a, p, n, true), k, l = 0;

		if (i == 0)
			break;
		k = b->sp_ord[a][i - 1];
		while (l < n && l < b->sp_len[k] &&
		    (unsigned char)b->def->sp[k].text[l] == p[l])
			l++;
		if (l == b->sp_len[k])
			return k;
		n = l;
	}
	return SIZE_MAX;
}

bool
wb_bpe_special_across(const struct wb_bpe *b, int allow_special,
    const unsigned char *s, size_t c, size_t end)
{
	int a = allow_special ? 1 : 0;
	size_t reach = b->sp_reach[a], f = c, k;
	size_t from = c > reach ? c - reach : 0;
	unsigned mask = allow_special ? 2u : 1u;
	const uint32_t *ord = b->sp_ord[a];
	const struct encdef *def = b->def;
	bool spaces = false;

	if (ord == NULL)
		return true;
	/* Spaces at c that a token which ends at c, or starts after them,
	 * takes (those taken apart would be split out as text): no cut
	 * there, nor where the spaces go on past what is known. */
	if (b->strips[allow_special ? 1 : 0] && space_len(s, end, c) > 0) {
		spaces = true;
		while (f - c < 64 && (k = space_len(s, end, f)) > 0)
			f += k;
		if (f + reach > end || space_len(s, end, f) > 0)
			return true;
		/* the longest there is the one found there */
		if ((b->sp_first[s[f]] & mask) && (k = longest_at(b, a, s + f,
		    reach)) != SIZE_MAX && (b->strip[k] & WB_STRIP_LEFT))
			return true;
	}

	/* One pass over where a token may start: one over c, or one that
	 * ends at c and takes the spaces there.  (At a place, the longest
	 * one that ends by c is the one found; none is longer but those
	 * over c.)  Where s[j..c) would sort among the texts in order, the
	 * first there is s[j..c) itself or starts with it, if any does,
	 * and the next one starts with it if s[j..c) is a token. */
	for (size_t j = from; j < c; j++) {
		size_t lo, m = c - j;
		const struct special *sp;

		if (!(b->sp_first[s[j]] & mask))
			continue;
		for (lo = sp_bound(b, a, s + j, m, false); lo < b->sp_n[a]; lo++) {
			sp = &def->sp[ord[lo]];
			if (b->sp_len[ord[lo]] < m ||
			    memcmp(sp->text, s + j, m) != 0)
				break;
			if (b->sp_len[ord[lo]] > m)
				return true;
			if (spaces && (b->strip[ord[lo]] & WB_STRIP_RIGHT))
				return true;
		}
	}
	/* "<|reserved_N|>": any "<|" may start one */
	for (size_t j = from; allow_special && b->res_text != NULL && j < c;
	    j++)
		if (s[j] == '<' && (j + 1 == c || s[j + 1] == '|'))
			return true;
	return false;
}

struct wb_bpe_work *
wb_bpe_work_new(void)
{
	return calloc(1, sizeof(struct wb_bpe_work));
}

void
wb_bpe_work_free(struct wb_bpe_work *w)
{
	if (w == NULL)
		return;
	free(w->tree);
	free(w->cache);
	free(w->memo);
	free(w);
}

size_t
wb_bpe_encode_with(const struct wb_bpe *b, struct wb_bpe_work *w,
    const char *text, size_t len, int allow_special, uint32_t *ids,
    size_t cap, struct wb_err *err)
{
	const unsigned char *s = (const unsigned char *)text;
	struct out o = { ids, ids ? cap : 0, 0 };
	size_t pos = 0, at;
	int rc = 0;

	if (w->of != b) {
		/* another encoding's tokens */
		if (w->cache != NULL)
			memset(w->cache, 0, CACHE_SLOTS * sizeof(*w->cache));
		if (w->memo != NULL)
			memset(w->memo, 0xFF, sizeof(*w->memo) << MEMO_BITS);
		w->of = b;
	}
	/*
	 * As Hugging Face's tokenizers: the special tokens are found in the
	 * text as it is, each after the one before (from), then each is
	 * widened over the spaces it strips: on its left back to where the
	 * one before it ended as widened (pos), on its right over all of
	 * them, even over the start of the next token (one that starts with
	 * a space).  The text is what lies between.  One that strips on its
	 * left and is all in what the one before took is dropped (tokenizers
	 * gives it nothing if it ends where that ends, and fails if before).
	 */
	for (size_t from = 0;;) {
		size_t splen = 0, start, stop, k;
		uint32_t id = 0;
		unsigned strip = 0;

		at = len;
		if (b->sp_reach[allow_special ? 1 : 0] > 0)
			splen = find_special(b, allow_special, s, len,
			    from, &at, &id, &strip);
		start = at;
		if (strip & WB_STRIP_LEFT) {
			while (start > pos && (k = space_len_before(s,
			    start)) > 0 && start - k >= pos)
				start -= k;
			if (start < pos)
				start = pos;
		}
		rc = normal(b, s + pos, start > pos ? start - pos : 0, w, &o,
		    err);
		if (rc != 0 || splen == 0)
			break;
		stop = from = at + splen;
		if (start < stop)
			emit(&o, id);
		while ((strip & WB_STRIP_RIGHT) && (k = space_len(s, len,
		    stop)) > 0)
			stop += k;
		pos = stop;
	}
	return rc != 0 ? WB_BPE_FAIL : o.n;
}

size_t
wb_bpe_encode(const struct wb_bpe *b, const char *text, size_t len,
    int allow_special, uint32_t *ids, size_t cap, struct wb_err *err)
{
	struct wb_bpe_work w = { .of = b };  /* it holds nothing yet */
	size_t n = wb_bpe_encode_with(b, &w, text, len, allow_special, ids,
	    cap, err);

	free(w.tree);
	free(w.cache);
	free(w.memo);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Decoding */

const char *
wb_bpe_token(const struct wb_bpe *b, uint32_t id, size_t *len)
{
	size_t i;

	if (id < b->n_ranks && b->off[id + 1] > b->off[id] &&
	    b->off[id + 1] <= b->blob_len) {
		*len = b->off[id + 1] - b->off[id];
		return (const char *)b->blob + b->off[id];
	}
	for (i = 0; i < b->def->n_sp; i++) {
		if (b->def->sp[i].id == id) {
			*len = strlen(b->def->sp[i].text);
			return b->def->sp[i].text;
		}
	}
	if (b->res_text != NULL && id >= b->def->res_lo && id <= b->def->res_hi) {
		const char *t = b->res_text + (size_t)(id - b->def->res_lo) *
		    RES_STRIDE;

		*len = strlen(t);
		return t;
	}
	*len = 0;
	return NULL;
}

int
wb_bpe_decode(const struct wb_bpe *b, const uint32_t *ids, size_t n, char *out,
    size_t cap, size_t *outlen, struct wb_err *err)
{
	size_t i, total = 0;

	if (!out)
		cap = 0;
	for (i = 0; i < n; i++) {
		size_t l;
		const char *t = wb_bpe_token(b, ids[i], &l);

		if (!t) {
			seterr(err, WB_EUSAGE, "%s: no token has id %u (at %zu)",
			    b->def->name, (unsigned)ids[i], i);
			if (outlen)
				*outlen = total;
			return WB_EUSAGE;
		}
		if (total < cap)
			memcpy(out + total, t, l < cap - total ? l : cap - total);
		total += l;
	}
	if (outlen)
		*outlen = total;
	return WB_OK;
}
