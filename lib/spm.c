/* spm.c: counters of SentencePiece-style BPE: a vocabulary of texts where
 * "▁" stands for a space, merged without a pre-tokenizer, with a byte
 * fallback to the tokens <0x00> .. <0xFF>.
 *
 * Two engines, each exactly its reference's:
 *  - a GGUF file of model "llama" tokenizes as llama.cpp's
 *    llm_tokenizer_spm (src/llama-vocab.cpp): the tokens split out first
 *    (user-defined ones always, control and unknown ones with
 *    allow_special), longest first over the whole text; each run of text
 *    between them gets a space in front when add_space_prefix is set,
 *    spaces become ▁, and neighbouring symbols (characters at first) merge
 *    while their text is a token, the pair of the highest score first
 *    (the leftmost among equal scores); what is no token in the end is
 *    written as its bytes' tokens.
 *  - a tokenizer.json of model BPE as Hugging Face's tokenizers: the added
 *    tokens split out first (leftmost, longest), special ones only with
 *    allow_special; the text between them normalized (Prepend "▁",
 *    Replace " " by "▁") or pre-tokenized by Metaspace (prepend_scheme
 *    first, always or never; split at ▁ or not); each word made of its
 *    characters' tokens (else their bytes' tokens, else the unknown token,
 *    runs of them fused with fuse_unk), merged by the rank of the merges,
 *    the lowest first (the leftmost among equal ranks); with
 *    ignore_merges a word that is a token is taken whole.
 * No token is added at the start (no BOS).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"

#define NONE UINT32_MAX
#define STREAM_HOLD 32768    /* bytes a count stream holds before a cut */
#define META "\xe2\x96\x81"  /* ▁, U+2581 */

enum { TYPE_NORMAL = 1, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_USER, TYPE_UNUSED,
	TYPE_BYTE };

enum prefix {
	PFX_NONE,        /* nothing in front */
	PFX_SEGMENT,     /* ▁ in front of every run of text */
	PFX_FIRST,       /* Metaspace first: the first, unless it starts with ▁ */
	PFX_ALWAYS,      /* Metaspace always: every run not starting with ▁ */
};

struct added {
	uint32_t off, len, id;
	bool special;
	uint8_t strip;  /* STRIP_: the spaces it takes on its left, right */
	char pad[2];    /* named, so that it is zero: caches hold these as
	                 * they are, and a file must always make the same one */
};

enum { STRIP_LEFT = 1, STRIP_RIGHT = 2 };
#define STRIP_LOOK 64        /* bytes of spaces a cut looks over for them */

struct slot {
	uint32_t id1, h;         /* id + 1 (0: empty), the text's hash */
};

struct merge {
	uint64_t key;    /* left id << 32 | right id; 0 with rank NONE: empty */
	uint32_t rank, id;
};

struct wb_spm {
	bool by_score;           /* llama.cpp's engine, else tokenizers' */
	enum prefix prefix;
	bool split;              /* Metaspace split: words start at each ▁ */
	bool whole;              /* ignore_merges: a word that is a token */
	bool fuse_unk;
	bool longest_first;      /* llama.cpp's order of the split tokens */
	uint32_t n_ids, unk;
	char *text;              /* the texts of the ids, then the added ones */
	uint32_t *off;           /* id i: text[off[i] .. off[i + 1]) */
	uint8_t *type;           /* TYPE_ of each id; 0: no such id */
	int16_t *byte;           /* the byte of a byte token, else -1 */
	float *score;
	struct slot *vh;         /* texts -> id + 1 (0: empty slot) */
	size_t vh_mask;
	uint32_t max_len;        /* of a token in vh */
	uint32_t byte_id[256];
	struct merge *mh;
	size_t mh_mask;
	struct added *add;
	size_t n_add;
	uint32_t *ah;            /* added texts -> index + 1 */
	size_t ah_mask;
	uint32_t lens[256];      /* the lengths of added tokens, longest first */
	size_t n_lens;
	uint64_t first[2][4];    /* first bytes of the added ones: [special] */
	uint64_t lfirst[256][2][4];  /* the same for each of lens[] */
	uint64_t llast[256][2][4];   /* their last bytes, for each of lens[] */
	uint32_t add_max[2];     /* longest added one that counts: [allow] */
	/* The first two bytes c d of the added ones of two bytes or more
	 * that count, bit d & 63 of [allow][c << 2 | d >> 6]; and their
	 * second and middle bytes, for each of lens[]: [allow][j][0], [1]. */
	uint64_t two[2][1024];
	uint64_t probe[2][256][2][4];
	bool strips[2];          /* one that counts strips spaces: [allow] */
	uint64_t *bg;            /* pairs of characters inside a token */
	size_t bg_mask;
	bool bg_built, bg_oom;
	bool bg_mapped;          /* bg lies in map: not to be freed */
	bool bytes_inert;        /* every byte has a token, and no merge has
	                          * one of them: bytes stay as they are */
	void *map;               /* a cache file the arrays above but bg are
	                          * in (wb_spm_from_cache), else NULL */
	size_t map_len;
};

struct spm_counter {
	struct wb_counter base;
	struct wb_spm *s;
	size_t hold;             /* how much a stream holds before a cut */
	bool whole;              /* runs merged whole, not in pieces (tests) */
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t
hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return mix(h);
}

static size_t
table_size(size_t n)
{
	size_t m = 16;

	while (m < n + n / 2 + 2)
		m *= 2;
	return m;
}

static const char *
tok(const struct wb_spm *s, uint32_t id, size_t *len)
{
	*len = s->off[id + 1] - s->off[id];
	return s->text + s->off[id];
}

/* The id whose text is p[0..n) in the vocabulary, or NONE. */
static uint32_t
lookup(const struct wb_spm *s, const char *p, size_t n)
{
	uint64_t h;
	size_t i, l;

	if (n > s->max_len)
		return NONE;
	h = hash(p, n);
	for (i = h & s->vh_mask; s->vh[i].id1 != 0; i = (i + 1) & s->vh_mask) {
		const char *t;

		if (s->vh[i].h != (uint32_t)(h >> 32))
			continue;
		t = tok(s, s->vh[i].id1 - 1, &l);
		if (l == n && memcmp(t, p, n) == 0)
			return s->vh[i].id1 - 1;
	}
	return NONE;
}

/* Put id in the vocabulary's table (a later id of the same text wins);
 * false if the text was there. */
static bool
vocab_put(struct wb_spm *s, uint32_t id)
{
	size_t l, n;
	const char *p = tok(s, id, &n), *t;
	uint64_t h = hash(p, n);
	size_t i;
	bool fresh = true;

	for (i = h & s->vh_mask; s->vh[i].id1 != 0; i = (i + 1) & s->vh_mask) {
		if (s->vh[i].h != (uint32_t)(h >> 32))
			continue;
		t = tok(s, s->vh[i].id1 - 1, &l);
		if (l == n && memcmp(t, p, n) == 0) {
			fresh = false;
			break;
		}
	}
	s->vh[i] = (struct slot){ id + 1, (uint32_t)(h >> 32) };
	if (n > s->max_len)
		s->max_len = (uint32_t)n;
	return fresh;
}

static const struct merge *
merge_of(const struct wb_spm *s, uint32_t a, uint32_t b)
{
	uint64_t key = (uint64_t)a << 32 | b;

	for (size_t i = mix(key) & s->mh_mask; s->mh[i].rank != NONE;
	    i = (i + 1) & s->mh_mask)
		if (s->mh[i].key == key)
			return &s->mh[i];
	return NULL;
}

/* The added token whose text is p[0..n) and that counts, or NULL. */
static const struct added *
added_at(const struct wb_spm *s, const char *p, size_t n, int allow)
{
	for (size_t i = hash(p, n) & s->ah_mask; s->ah[i] != 0;
	    i = (i + 1) & s->ah_mask) {
		const struct added *a = &s->add[s->ah[i] - 1];

		if (a->len == n && memcmp(s->text + a->off, p, n) == 0)
			return allow || !a->special ? a : NULL;
	}
	return NULL;
}

/* Could an added token that counts start with byte c? */
static inline bool
may_start(const struct wb_spm *s, unsigned char c, int allow)
{
	return (s->first[0][c >> 6] >> (c & 63) & 1) ||
	    (allow && (s->first[1][c >> 6] >> (c & 63) & 1));
}

/* Could one of length lens[j] be at p (lens[j] bytes there), by its first
 * and last bytes? */
static inline bool
may_start_len(const struct wb_spm *s, size_t j, const char *p, int allow)
{
	unsigned char c = (unsigned char)p[0],
	    e = (unsigned char)p[s->lens[j] > 0 ? s->lens[j] - 1 : 0];

	return ((s->lfirst[j][0][c >> 6] >> (c & 63) & 1) &&
	    (s->llast[j][0][e >> 6] >> (e & 63) & 1)) ||
	    (allow && (s->lfirst[j][1][c >> 6] >> (c & 63) & 1) &&
	    (s->llast[j][1][e >> 6] >> (e & 63) & 1));
}

static void
wb_spm_free(struct wb_spm *s)
{
	if (s == NULL)
		return;
	if (!s->bg_mapped)
		free(s->bg);
	if (s->map != NULL) {
		munmap(s->map, s->map_len);
		free(s);
		return;
	}
	free(s->text);
	free(s->off);
	free(s->type);
	free(s->byte);
	free(s->score);
	free(s->vh);
	free(s->mh);
	free(s->add);
	free(s->ah);
	free(s);
}

/*
 * Building one: the texts by id (holes empty), the types, the scores or
 * merges, the added tokens.
 */
struct spm_build {
	struct wb_spm *s;
	struct wb_buf text;
	const char *name;
};

static int
oom(const char *name, struct wb_err *err)
{
	return wb_err_set(err, WB_EINTERNAL, "%s: out of memory", name);
}

/* Start s with n ids whose texts come next, by id. */
static struct wb_spm *
spm_new(uint32_t n, bool by_score)
{
	struct wb_spm *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->by_score = by_score;
	s->n_ids = n;
	s->unk = NONE;
	s->vh_mask = table_size(n) - 1;
	s->off = calloc((size_t)n + 2, sizeof(*s->off));
	s->type = calloc((size_t)n + 1, 1);
	s->byte = calloc((size_t)n + 1, sizeof(*s->byte));
	s->vh = calloc(s->vh_mask + 1, sizeof(*s->vh));
	if (s->off == NULL || s->type == NULL || s->byte == NULL || s->vh == NULL) {
		wb_spm_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i <= n; i++)
		s->byte[i] = -1;
	for (int b = 0; b < 256; b++)
		s->byte_id[b] = NONE;
	return s;
}

/* The value of the upper-case hex digit c, else -1. */
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Is t[0..n) "<0xNN>"?  Its byte, else -1. */
static int
byte_token(const char *t, size_t n)
{
	int a, b;

	if (n != 6 || memcmp(t, "<0x", 3) != 0 || t[5] != '>' ||
	    (a = hex_digit(t[3])) < 0 || (b = hex_digit(t[4])) < 0)
		return -1;
	return a * 16 + b;
}

/* The length of the space at p (n bytes there) that an added token's
 * strip takes, else 0: for llama.cpp, what isspace() is in the C locale
 * (space, \t \n \v \f \r); for tokenizers, what its regex \s is (the
 * characters of Unicode's White_Space). */
static size_t
space_at(const struct wb_spm *s, const unsigned char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
		return 1;
	if (s->by_score || n < 2)
		return 0;
	if (p[0] == 0xC2)                               /* U+0085, U+00A0 */
		return p[1] == 0x85 || p[1] == 0xA0 ? 2 : 0;
	if (n < 3)
		return 0;
	if (p[0] == 0xE1)                               /* U+1680 */
		return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;
	if (p[0] == 0xE2 && p[1] == 0x80)   /* U+2000..200A, 2028, 2029, 202F */
		return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 ||
		    p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
	if (p[0] == 0xE2 && p[1] == 0x81)               /* U+205F */
		return p[2] == 0x9F ? 3 : 0;
	if (p[0] == 0xE3)                               /* U+3000 */
		return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
	return 0;
}

/* The length of such a space that ends t[e], else 0. */
static size_t
space_before(const struct wb_spm *s, const unsigned char *t, size_t e)
{
	size_t b = e;

	while (b > 0 && e - b < 3 && (b == e || (t[b] & 0xC0) == 0x80))
		b--;
	return e > 0 && space_at(s, t + b, e - b) == e - b ? e - b : 0;
}

/* The added tokens' table and first bytes; add[] and their texts set. */
static int
index_added(struct wb_spm *s, const char *name, struct wb_err *err)
{
	s->ah_mask = table_size(s->n_add) - 1;
	if ((s->ah = calloc(s->ah_mask + 1, sizeof(*s->ah))) == NULL)
		return oom(name, err);
	for (size_t k = 0; k < s->n_add; k++) {
		struct added *a = &s->add[k];
		const char *p = s->text + a->off;
		size_t i, j;

		for (i = hash(p, a->len) & s->ah_mask; s->ah[i] != 0;
		    i = (i + 1) & s->ah_mask) {
			const struct added *o = &s->add[s->ah[i] - 1];

			if (o->len == a->len && memcmp(s->text + o->off, p,
			    a->len) == 0)
				break;
		}
		s->ah[i] = (uint32_t)k + 1;
		s->first[a->special][(unsigned char)p[0] >> 6] |=
		    1ull << ((unsigned char)p[0] & 63);
		if (a->len > s->add_max[1])
			s->add_max[1] = a->len;
		if (!a->special && a->len > s->add_max[0])
			s->add_max[0] = a->len;
		if (a->strip != 0) {
			s->strips[1] = true;
			s->strips[0] = s->strips[0] || !a->special;
		}
		for (j = 0; j < s->n_lens && s->lens[j] != a->len; j++)
			;
		if (j == s->n_lens) {
			if (s->n_lens == WB_NELEM(s->lens))
				return wb_err_set(err, WB_EDATA, "%s: added tokens "
				    "of more than %zu lengths are not supported",
				    name, WB_NELEM(s->lens));
			s->lens[s->n_lens++] = a->len;
		}
	}
	/* Longest first. */
	for (size_t i = 1; i < s->n_lens; i++)
		for (size_t j = i; j > 0 && s->lens[j - 1] < s->lens[j]; j--) {
			uint32_t t = s->lens[j];

			s->lens[j] = s->lens[j - 1];
			s->lens[j - 1] = t;
		}
	for (size_t k = 0; k < s->n_add; k++) {
		const struct added *a = &s->add[k];
		unsigned char c = (unsigned char)s->text[a->off];
		size_t j;

		for (j = 0; s->lens[j] != a->len; j++)
			;
		s->lfirst[j][a->special][c >> 6] |= 1ull << (c & 63);
		c = (unsigned char)s->text[a->off + a->len - 1];
		s->llast[j][a->special][c >> 6] |= 1ull << (c & 63);
		/* find_added's filters, once for every text. */
		for (int allow = a->special; a->len >= 2 && allow < 2; allow++) {
			const unsigned char *t = (const unsigned char *)s->text +
			    a->off;

			s->two[allow][t[0] << 2 | t[1] >> 6] |= 1ull << (t[1] & 63);
			s->probe[allow][j][0][t[1] >> 6] |= 1ull << (t[1] & 63);
			s->probe[allow][j][1][t[a->len / 2] >> 6] |=
			    1ull << (t[a->len / 2] & 63);
		}
	}
	return WB_OK;
}

/*
 * Encoding.
 */
struct out {
	uint32_t *ids;
	size_t cap, n;
	bool fail;
	struct wb_err *err;
};

static void
emit(struct out *o, uint32_t id)
{
	if (o->n < o->cap)
		o->ids[o->n] = id;
	o->n++;
}

/* wb_utf8_seqlen, inline: the length of the character at s (len > 0
 * bytes there), 0 if it is none, -1 if it is cut short. */
static inline int
u8len(const unsigned char *s, size_t len)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	int n;

	if (b < 0x80)
		return 1;
	if (b < 0xC2)
		return 0;
	if (b < 0xE0) {
		n = 2;
	} else if (b < 0xF0) {
		n = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b < 0xF5) {
		n = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < 2)
		return -1;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++) {
		if ((size_t)i >= len)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	return n;
}

/* The code point of the character of l > 1 bytes at s. */
static inline uint32_t
u8cp(const unsigned char *s, int l)
{
	if (l == 2)
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	if (l == 3)
		return (uint32_t)(s[0] & 0x0F) << 12 |
		    (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* The length of the character at s (len > 0 bytes there), its code
 * point in *cp; 0 if it is none or cut short.  Two and three bytes of the
 * common lead bytes go first. */
static inline int
u8next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b = s[0];
	int l;

	if (b >= 0xC2 && b <= 0xDF && len >= 2 && (s[1] & 0xC0) == 0x80) {
		*cp = (uint32_t)(b & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if (b >= 0xE0 && b <= 0xEF && len >= 3 && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80 && (b != 0xE0 || s[1] >= 0xA0) &&
	    (b != 0xED || s[1] < 0xA0)) {
		*cp = (uint32_t)(b & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
		    (s[2] & 0x3F);
		return 3;
	}
	if ((l = u8len(s, len)) <= 0)
		return 0;
	*cp = l == 1 ? b : u8cp(s, l);
	return l;
}

/* llama.cpp's symbols and bigrams. */
struct sym {
	int32_t prev, next;
	uint32_t start, n;
};

struct bigram {
	float score;
	int32_t left, right;
	uint32_t size;
};

/*
 * Binary heaps of bigrams and of merges, the first to go on top: typed,
 * as they are most of the work.
 */
#define HEAP(name, T, BEFORE)						\
struct name {								\
	T *p;								\
	size_t n, cap;							\
};									\
static bool								\
name##_push(struct name *h, T x)					\
{									\
	size_t i;							\
									\
	if (h->n == h->cap) {						\
		size_t c = h->cap ? 2 * h->cap : 64;			\
		T *p = realloc(h->p, c * sizeof(*p)); /* NOLINT(bugprone-macro-parentheses): T is a type */ \
									\
		if (p == NULL)						\
			return false;					\
		h->p = p;						\
		h->cap = c;						\
	}								\
	for (i = h->n++; i > 0 && BEFORE(&x, &h->p[(i - 1) / 2]);	\
	    i = (i - 1) / 2)						\
		h->p[i] = h->p[(i - 1) / 2];				\
	h->p[i] = x;							\
	return true;							\
}									\
static T								\
name##_pop(struct name *h)						\
{									\
	T top = h->p[0], x = h->p[--h->n];				\
	size_t i = 0, c;						\
									\
	while ((c = 2 * i + 1) < h->n) {				\
		if (c + 1 < h->n && BEFORE(&h->p[c + 1], &h->p[c]))	\
			c++;						\
		if (!BEFORE(&h->p[c], &x))				\
			break;						\
		h->p[i] = h->p[c];					\
		i = c;							\
	}								\
	h->p[i] = x;							\
	return top;							\
}

#define BIGRAM_BEFORE(x, y) ((x)->score > (y)->score ||			\
	((x)->score == (y)->score && (x)->left < (y)->left))
HEAP(bheap, struct bigram, BIGRAM_BEFORE)

static bool
try_bigram(const struct wb_spm *s, const char *t, const struct sym *sy,
    struct bheap *h, int32_t l, int32_t r)
{
	uint32_t id, n;

	if (l < 0 || r < 0)
		return true;
	n = sy[l].n + sy[r].n;
	if ((id = lookup(s, t + sy[l].start, n)) == NONE)
		return true;
	return bheap_push(h, (struct bigram){ s->score[id], l, r, n });
}

/*
 * Long words merge on a tournament tree instead of a heap: the key of
 * the pair that starts at each symbol (rank << 32 | its place; NOKEY:
 * none), the least of each block of TBLK symbols at the leaves, the least
 * of its two children in each node.  The merge taken is the least key,
 * the pair of the lowest rank and, among equal ranks, the leftmost: the
 * one the heap gives, as each pair that is there has one entry in the
 * heap and an entry that is not is passed over (the pair at a place that
 * maps to the same token would cover the same text, so it is the same
 * pair).  No entry goes stale, and the tree is a fixed array.
 *
 * Long runs (of one letter, of spaces) merge in waves of one rank from
 * left to right, or grow one token from the left, and the tree is not
 * asked for each merge.  Once it answered (r, a0), the keys not written
 * since are at least that; front, the first symbol from a0 on whose key
 * was not written since (-1: none), moves right as the merges take it or
 * the symbol before it, so those keys are at least (r, front).  So are
 * the keys written since but by the last merge: a merge is at front
 * (whose key is the least, so that the keys written before it, left of
 * front, are of a rank over r), or at a or z, the two keys the merge
 * before wrote, and then it writes over the one and takes the other.
 * The next merge is then the least of the keys at a, z and front if it is
 * at most (r, front); else the tree's least.  The blocks of the keys
 * written are brought up to date only when the tree is asked.
 */
#define TBLK 8
#define TREE_MIN 64              /* symbols before a word uses the tree */
#define NOKEY UINT64_MAX

struct tree {
	uint64_t *pr;            /* the key of each symbol's pair */
	uint64_t *t;             /* t[1] the root, t[m + b] block b */
	size_t n, m, blocks;
	size_t *dl, nd;          /* the blocks written since it was asked */
	uint8_t *dirty;          /* block b in dl */
	uint64_t rank;           /* the rank of its last answer, << 32 */
	int32_t front;
};

static uint64_t
block_min(const uint64_t *pr, size_t n, size_t b)
{
	uint64_t m = NOKEY;

	for (size_t i = b * TBLK; i < n && i < (b + 1) * TBLK; i++)
		if (pr[i] < m)
			m = pr[i];
	return m;
}

static void
tree_update(uint64_t *t, size_t m, const uint64_t *pr, size_t n, size_t b)
{
	size_t j = m + b;
	uint64_t v = block_min(pr, n, b);

	/* Up to the first node that keeps its value. */
	for (; j >= 1 && t[j] != v; j /= 2) {
		t[j] = v;
		if (j > 1)
			v = t[j ^ 1] < v ? t[j ^ 1] : v;
	}
}

/* A tree of n symbols, their keys to be put in pr; false if out of
 * memory. */
static bool
tree_new(struct tree *tr, size_t n)
{
	tr->n = n;
	tr->blocks = (n + TBLK - 1) / TBLK;
	for (tr->m = 1; tr->m < tr->blocks; tr->m *= 2)
		;
	tr->nd = 0;
	tr->pr = malloc(n * sizeof(*tr->pr));
	tr->t = malloc(2 * tr->m * sizeof(*tr->t));
	tr->dl = malloc(tr->blocks * sizeof(*tr->dl));
	tr->dirty = calloc(tr->blocks, 1);
	return tr->pr != NULL && tr->t != NULL && tr->dl != NULL &&
	    tr->dirty != NULL;
}

static void
tree_free(struct tree *tr)
{
	free(tr->pr);
	free(tr->t);
	free(tr->dl);
	free(tr->dirty);
}

/* The nodes over all the keys. */
static void
tree_build(struct tree *tr)
{
	for (size_t i = 0; i < tr->m; i++)
		tr->t[tr->m + i] = i < tr->blocks ? block_min(tr->pr, tr->n, i) :
		    NOKEY;
	for (size_t j = tr->m - 1; j >= 1; j--)
		tr->t[j] = tr->t[2 * j] < tr->t[2 * j + 1] ? tr->t[2 * j] :
		    tr->t[2 * j + 1];
}

/* Write the key of symbol i; its block waits for the next tree_least. */
static void
tree_set(struct tree *tr, size_t i, uint64_t key)
{
	size_t b = i / TBLK;

	tr->pr[i] = key;
	if (!tr->dirty[b]) {
		tr->dirty[b] = 1;
		tr->dl[tr->nd++] = b;
	}
}

/* The least key, the written blocks brought up to date first. */
static uint64_t
tree_least(struct tree *tr)
{
	if (tr->nd > tr->blocks / 4) {
		for (size_t k = 0; k < tr->nd; k++)
			tr->dirty[tr->dl[k]] = 0;
		tree_build(tr);
	} else {
		for (size_t k = 0; k < tr->nd; k++) {
			tree_update(tr->t, tr->m, tr->pr, tr->n, tr->dl[k]);
			tr->dirty[tr->dl[k]] = 0;
		}
	}
	tr->nd = 0;
	return tr->t[1];
}

/* The first merge: the tree's least key. */
static uint64_t
tree_first(struct tree *tr)
{
	uint64_t c = tree_least(tr);

	tr->rank = c >> 32 << 32;
	tr->front = c == NOKEY ? -1 : (int32_t)(uint32_t)c;
	return c;
}

/* The merge after one at a that took the symbol gone (a now goes on to
 * next; z before it, -1: none): the least key, found as above. */
static uint64_t
tree_next(struct tree *tr, int32_t a, int32_t z, int32_t gone,
    int32_t next)
{
	uint64_t c = tr->pr[a];

	if (a == tr->front || gone == tr->front)
		tr->front = next;
	if (z >= 0 && tr->pr[z] < c)
		c = tr->pr[z];
	if (tr->front >= 0 && tr->pr[tr->front] < c)
		c = tr->pr[tr->front];
	if (c != NOKEY && c <= (tr->rank |
	    (tr->front >= 0 ? (uint32_t)tr->front : UINT32_MAX)))
		return c;
	return tree_first(tr);
}

/* The key of the pair that starts at symbol i: the higher the score of
 * the token it makes, the less. */
static uint64_t
bigram_key(const struct wb_spm *s, const char *t, const struct sym *sy,
    int32_t i)
{
	uint32_t id, u;

	if (i < 0 || sy[i].next < 0 || (id = lookup(s, t + sy[i].start,
	    sy[i].n + sy[sy[i].next].n)) == NONE)
		return NOKEY;
	memcpy(&u, &s->score[id], sizeof(u));
	u = u >> 31 ? ~u : u | 0x80000000u;     /* in the order of the floats */
	return (uint64_t)~u << 32 | (uint32_t)i;
}

/*
 * A long word's pairs of tokens as it looked them up, by their ids (the
 * same two texts, the same ids): left << 32 | right -> the token the two
 * make, NONE if none; a slot holds the last pair that hashed to it.  Long
 * runs make the same few pairs over and over.
 */
#define UNSEEN (NONE - 1)        /* not looked up yet */

struct pslot {
	uint64_t key;            /* UINT64_MAX: empty (no id is NONE here) */
	uint32_t id;
};

struct spairs {
	uint32_t *id;            /* each symbol's token, NONE if none */
	uint32_t *made;          /* the token of the pair at each symbol */
	struct pslot *slot;
	size_t mask;
};

/* The key of the pair that starts at symbol i, as bigram_key gives it,
 * its token in p->made[i]. */
static uint64_t
spair_key(const struct wb_spm *s, const char *t, const struct sym *sy,
    struct spairs *p, int32_t i)
{
	int32_t j;
	uint32_t id, u;

	if (i < 0 || (j = sy[i].next) < 0)
		return NOKEY;
	if (p->id[i] != NONE && p->id[j] != NONE) {
		uint64_t k = (uint64_t)p->id[i] << 32 | p->id[j];
		struct pslot *e = &p->slot[mix(k) & p->mask];

		if (e->key != k) {
			e->key = k;
			e->id = lookup(s, t + sy[i].start, sy[i].n + sy[j].n);
		}
		id = e->id;
	} else {
		id = lookup(s, t + sy[i].start, sy[i].n + sy[j].n);
	}
	if ((p->made[i] = id) == NONE)
		return NOKEY;
	memcpy(&u, &s->score[id], sizeof(u));
	u = u >> 31 ? ~u : u | 0x80000000u;     /* in the order of the floats */
	return (uint64_t)~u << 32 | (uint32_t)i;
}

/* Merge the k symbols sy[] of t on a tree; false if out of memory. */
static bool
score_tree(const struct wb_spm *s, const char *t, struct sym *sy, int32_t k)
{
	struct tree tr;
	struct spairs p;
	uint32_t byte1[256];
	uint64_t cur;
	int32_t a = 0, r = 0, z = 0;
	size_t slots;
	bool ok;

	for (slots = 64; slots < 4096 && slots < (size_t)k / 2; slots *= 2)
		;
	p.id = malloc((size_t)k * sizeof(*p.id));
	p.made = malloc((size_t)k * sizeof(*p.made));
	p.slot = malloc(slots * sizeof(*p.slot));
	p.mask = slots - 1;
	ok = tree_new(&tr, (size_t)k) && p.id != NULL && p.made != NULL &&
	    p.slot != NULL;
	if (!ok)
		goto out;
	memset(p.slot, 0xFF, slots * sizeof(*p.slot));
	for (size_t b = 0; b < 256; b++)
		byte1[b] = UNSEEN;
	/* The symbols' tokens: those of one byte and repeats looked up once. */
	for (int32_t i = 0; i < k; i++) {
		const char *c = t + sy[i].start;

		if (sy[i].n == 1) {
			if (byte1[(unsigned char)*c] == UNSEEN)
				byte1[(unsigned char)*c] = lookup(s, c, 1);
			p.id[i] = byte1[(unsigned char)*c];
		} else if (i > 0 && sy[i - 1].n == sy[i].n &&
		    memcmp(c - sy[i].n, c, sy[i].n) == 0) {
			p.id[i] = p.id[i - 1];
		} else {
			p.id[i] = lookup(s, c, sy[i].n);
		}
	}
	for (int32_t i = 0; i < k; i++)
		tr.pr[i] = spair_key(s, t, sy, &p, i);
	tree_build(&tr);
	for (cur = tree_first(&tr); cur != NOKEY;
	    cur = tree_next(&tr, a, z, r, sy[a].next)) {
		a = (int32_t)(uint32_t)cur;
		r = sy[a].next;
		z = sy[a].prev;

		sy[a].n += sy[r].n;
		sy[r].n = 0;
		sy[a].next = sy[r].next;
		if (sy[r].next >= 0)
			sy[sy[r].next].prev = a;
		p.id[a] = p.made[a];
		tree_set(&tr, (size_t)r, NOKEY);
		tree_set(&tr, (size_t)a, spair_key(s, t, sy, &p, a));
		if (z >= 0)
			tree_set(&tr, (size_t)z, spair_key(s, t, sy, &p, z));
	}
out:
	tree_free(&tr);
	free(p.id);
	free(p.made);
	free(p.slot);
	return ok;
}

/* Merge the k < TREE_MIN symbols sy[] of t by the least key, found by a
 * scan: the tree's order, without its blocks. */
static void
score_small(const struct wb_spm *s, const char *t, struct sym *sy, int32_t k)
{
	uint64_t pr[TREE_MIN], best;

	for (int32_t i = 0; i < k; i++)
		pr[i] = bigram_key(s, t, sy, i);
	for (;;) {
		best = NOKEY;
		for (int32_t i = 0; i < k; i++)
			if (pr[i] < best)
				best = pr[i];
		if (best == NOKEY)
			break;
		int32_t a = (int32_t)(uint32_t)best, r = sy[a].next, z = sy[a].prev;

		sy[a].n += sy[r].n;
		sy[r].n = 0;
		sy[a].next = sy[r].next;
		if (sy[r].next >= 0)
			sy[sy[r].next].prev = a;
		pr[r] = NOKEY;
		pr[a] = bigram_key(s, t, sy, a);
		if (z >= 0)
			pr[z] = bigram_key(s, t, sy, z);
	}
}

/* llama.cpp's llm_tokenizer_spm_session::tokenize over t[0..n); heap:
 * merge on the heap whatever its length (tests compare the two). */
static void
by_score(const struct wb_spm *s, const char *t, size_t n, bool heap,
    struct out *o)
{
	struct sym sbuf[TREE_MIN], *sy;
	struct bheap h = { 0 };
	struct bigram b;
	int32_t k = 0;
	uint32_t id;

	/* Symbols: at most one a byte. */
	sy = sbuf;
	if (n > TREE_MIN && (sy = malloc((n + 1) * sizeof(*sy))) == NULL)
		goto fail;
	for (size_t i = 0; i < n; k++) {
		int l = u8len((const unsigned char *)t + i, n - i);
		size_t m = l > 0 ? (size_t)l : 1;

		sy[k] = (struct sym){ k - 1, i + m == n ? -1 : k + 1,
		    (uint32_t)i, (uint32_t)m };
		i += m;
	}
	if (!heap && k < TREE_MIN)
		score_small(s, t, sy, k);
	else if (!heap && !score_tree(s, t, sy, k))
		goto fail;
	for (int32_t i = 1; i < k && heap; i++)
		if (!try_bigram(s, t, sy, &h, i - 1, i))
			goto fail;
	while (h.n > 0) {
		struct sym *l, *r;

		b = bheap_pop(&h);
		l = &sy[b.left];
		r = &sy[b.right];
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			sy[r->next].prev = b.left;
		if (!try_bigram(s, t, sy, &h, l->prev, b.left) ||
		    !try_bigram(s, t, sy, &h, b.left, l->next))
			goto fail;
	}
	for (int32_t i = k > 0 ? 0 : -1; i != -1; i = sy[i].next) {
		if ((id = lookup(s, t + sy[i].start, sy[i].n)) != NONE) {
			emit(o, id);
			continue;
		}
		for (uint32_t j = 0; j < sy[i].n; j++) {
			unsigned char c = (unsigned char)t[sy[i].start + j];

			if (s->byte_id[c] == NONE) {
				if (!o->fail)
					wb_err_set(o->err, WB_EDATA, "the "
					    "vocabulary has no token for the "
					    "byte 0x%02X", c);
				o->fail = true;
				break;
			}
			emit(o, s->byte_id[c]);
		}
	}
	if (sy != sbuf)
		free(sy);
	free(h.p);
	return;
fail:
	if (sy != sbuf)
		free(sy);
	free(h.p);
	if (!o->fail)
		wb_err_set(o->err, WB_EINTERNAL, "out of memory");
	o->fail = true;
}

/* tokenizers' Word. */
struct wsym {
	uint32_t id, len;
	int32_t prev, next;
};

struct wmerge {
	uint32_t rank;
	int32_t pos;
	uint32_t id;
};

#define WMERGE_BEFORE(x, y) ((x)->rank < (y)->rank ||			\
	((x)->rank == (y)->rank && (x)->pos < (y)->pos))
HEAP(mheap, struct wmerge, WMERGE_BEFORE)

static bool
add_sym(struct wsym *w, int32_t *k, uint32_t id, uint32_t len)
{
	w[*k] = (struct wsym){ id, len, *k - 1, -1 };
	if (*k > 0)
		w[*k - 1].next = *k;
	(*k)++;
	return true;
}

static uint64_t
pair_key(const struct wb_spm *s, const struct wsym *w, int32_t i)
{
	const struct merge *mg;

	if (i < 0 || w[i].next < 0 ||
	    (mg = merge_of(s, w[i].id, w[w[i].next].id)) == NULL)
		return NOKEY;
	return (uint64_t)mg->rank << 32 | (uint32_t)i;
}

/* Merge the k symbols w[] on a tree; false if out of memory. */
static bool
rank_tree(const struct wb_spm *s, struct wsym *w, int32_t k)
{
	struct tree tr;
	uint64_t cur;
	int32_t a = 0, nx = 0, z = 0;

	if (!tree_new(&tr, (size_t)k)) {
		tree_free(&tr);
		return false;
	}
	for (int32_t i = 0; i < k; i++)
		tr.pr[i] = pair_key(s, w, i);
	tree_build(&tr);
	for (cur = tree_first(&tr); cur != NOKEY;
	    cur = tree_next(&tr, a, z, nx, w[a].next)) {
		const struct merge *mg;

		a = (int32_t)(uint32_t)cur;
		nx = w[a].next;
		z = w[a].prev;
		mg = merge_of(s, w[a].id, w[nx].id);

		w[a].id = mg->id;
		w[a].len += w[nx].len;
		w[a].next = w[nx].next;
		w[nx].len = 0;
		if (w[nx].next >= 0)
			w[w[nx].next].prev = a;
		tree_set(&tr, (size_t)nx, NOKEY);
		tree_set(&tr, (size_t)a, pair_key(s, w, a));
		if (z >= 0)
			tree_set(&tr, (size_t)z, pair_key(s, w, z));
	}
	tree_free(&tr);
	return true;
}

/* Merge the k < TREE_MIN symbols w[] by the least key, found by a scan:
 * the tree's order, without its blocks. */
static void
rank_small(const struct wb_spm *s, struct wsym *w, int32_t k)
{
	uint64_t pr[TREE_MIN], best;
	int32_t a;

	for (int32_t i = 0; i < k; i++)
		pr[i] = pair_key(s, w, i);
	for (;;) {
		best = NOKEY;
		for (int32_t i = 0; i < k; i++)
			if (pr[i] < best)
				best = pr[i];
		if (best == NOKEY)
			break;
		a = (int32_t)(uint32_t)best;
		int32_t nx = w[a].next, z = w[a].prev;
		const struct merge *mg = merge_of(s, w[a].id, w[nx].id);

		w[a].id = mg->id;
		w[a].len += w[nx].len;
		w[a].next = w[nx].next;
		w[nx].len = 0;
		if (w[nx].next >= 0)
			w[w[nx].next].prev = a;
		pr[nx] = NOKEY;
		pr[a] = pair_key(s, w, a);
		if (z >= 0)
			pr[z] = pair_key(s, w, z);
	}
}

/* tokenizers' BPE::tokenize of the word t[0..n); heap: merge on the heap
 * whatever its length (tests compare the two). */
static void
by_rank(const struct wb_spm *s, const char *t, size_t n, bool heap,
    struct out *o)
{
	struct wsym wbuf[TREE_MIN], *w = NULL;
	struct mheap h = { 0 };
	struct wmerge m;
	const struct merge *mg;
	int32_t k = 0;
	uint32_t unk_len = 0, id;
	bool unk = false;

	if (n == 0)
		return;
	if (s->whole && (id = lookup(s, t, n)) != NONE) {
		emit(o, id);
		return;
	}
	/* Symbols: at most one a byte. */
	w = wbuf;
	if (n > TREE_MIN && (w = malloc(n * sizeof(*w))) == NULL)
		goto fail;
	for (size_t i = 0; i < n;) {
		int l = u8len((const unsigned char *)t + i, n - i);
		size_t c = l > 0 ? (size_t)l : 1, j;

		if ((id = lookup(s, t + i, c)) != NONE) {
			if (unk)
				add_sym(w, &k, s->unk, unk_len);
			unk = false;
			add_sym(w, &k, id, (uint32_t)c);
			i += c;
			continue;
		}
		for (j = 0; j < c && s->byte_id[(unsigned char)t[i + j]] != NONE; j++)
			;
		if (j == c) {
			for (j = 0; j < c; j++)
				add_sym(w, &k, s->byte_id[(unsigned char)t[i + j]], 1);
		} else if (s->unk != NONE) {
			if (unk && s->fuse_unk) {
				unk_len += (uint32_t)c;
			} else {
				if (unk)
					add_sym(w, &k, s->unk, unk_len);
				unk = true;
				unk_len = (uint32_t)c;
			}
		}
		i += c;
	}
	if (unk)
		add_sym(w, &k, s->unk, unk_len);
	if (!heap && k < TREE_MIN) {
		rank_small(s, w, k);
		goto done;
	}
	if (!heap) {
		if (!rank_tree(s, w, k))
			goto fail;
		goto done;
	}
	for (int32_t i = 0; i + 1 < k; i++)
		if ((mg = merge_of(s, w[i].id, w[i + 1].id)) != NULL &&
		    !mheap_push(&h, (struct wmerge){ mg->rank, i, mg->id }))
			goto fail;
	while (h.n > 0) {
		int32_t nx;

		m = mheap_pop(&h);
		if (w[m.pos].len == 0 || w[m.pos].next == -1)
			continue;
		nx = w[m.pos].next;
		if ((mg = merge_of(s, w[m.pos].id, w[nx].id)) == NULL ||
		    mg->id != m.id)
			continue;
		w[m.pos].id = m.id;
		w[m.pos].len += w[nx].len;
		w[m.pos].next = w[nx].next;
		w[nx].len = 0;
		if (w[nx].next >= 0)
			w[w[nx].next].prev = m.pos;
		if (w[m.pos].prev >= 0 && (mg = merge_of(s,
		    w[w[m.pos].prev].id, w[m.pos].id)) != NULL &&
		    !mheap_push(&h, (struct wmerge){ mg->rank, w[m.pos].prev,
		    mg->id }))
			goto fail;
		if (w[m.pos].next >= 0 && (mg = merge_of(s, w[m.pos].id,
		    w[w[m.pos].next].id)) != NULL &&
		    !mheap_push(&h, (struct wmerge){ mg->rank, m.pos, mg->id }))
			goto fail;
	}
done:
	for (int32_t i = 0; i < k; i++)
		if (w[i].len != 0)
			emit(o, w[i].id);
	if (w != wbuf)
		free(w);
	free(h.p);
	return;
fail:
	if (w != wbuf)
		free(w);
	free(h.p);
	if (!o->fail)
		wb_err_set(o->err, WB_EINTERNAL, "out of memory");
	o->fail = true;
}

/*
 * Pieces.  Merges never join two characters x y that stand next to each
 * other in no token of the vocabulary (the pairs of bg): a text is cut
 * there into pieces, each merged alone, with the same tokens as the text
 * whole, as the merges of one piece never meet those of another and their
 * order within a piece is the one it has in the whole (ties: leftmost).
 * Cuts are only made where x or y is not ASCII (the texts of the byte
 * tokens <0xNN>, which llama.cpp's merges may make, are ASCII), not with
 * ignore_merges (a word that is a token is taken whole), and, for
 * tokenizers, only between characters that are tokens (a character that
 * is none is its bytes' tokens or the unknown one, whose runs fuse) unless
 * every byte has a token and no merge has one (bytes_inert).  Text
 * repeats its words: the tokens of short pieces are kept in a
 * direct-mapped cache (a slot holds the last piece that hashed to it).
 */
#define PC_SLOTS 16384
#define PC_KEY 58
#define PC_IDS 8
#define PC_AFTER 4096           /* bytes of text before a call caches */

struct pentry {
	uint8_t len;            /* of the piece; 0: empty */
	uint8_t n;
	char key[PC_KEY];
	uint32_t ids[PC_IDS];
};

/*
 * A piece of one character that is not ASCII (most of them in text of
 * scripts whose words the vocabulary does not hold) has no pair to merge:
 * its tokens are its own if it is one, else its bytes' (when every one has
 * a token, and, for tokenizers, when no merge has a byte token, as a word
 * of byte tokens would merge them).  They are kept by code point in a
 * direct-mapped cache next to the cache of pieces.
 */
#define CP_SLOTS 4096

struct cpentry {
	uint32_t cp1;           /* code point + 1; 0: empty */
	uint32_t n;             /* its tokens; 0: none known, merge it */
	uint32_t ids[4];
};

struct work {
	struct pentry *cache;   /* NULL: none (yet) */
	struct cpentry *cps;    /* with cache */
	char *nb;               /* the text with its spaces as ▁, kept */
	size_t nb_cap;          /* across calls: a fresh one is zeroed */
	bool no_cache;
	bool whole;             /* no cuts (tests compare with them) */
	int8_t meta_after[128]; /* ASCII x: may one cut x|▁? -1: not known */
	int8_t tok1[128];       /* ASCII x: a token? -1: not known */
};

static void
work_init(struct work *w, bool whole)
{
	w->cache = NULL;
	w->cps = NULL;
	w->nb = NULL;
	w->nb_cap = 0;
	w->no_cache = false;
	w->whole = whole;
	memset(w->meta_after, -1, sizeof(w->meta_after));
	memset(w->tok1, -1, sizeof(w->tok1));
}

static void
work_free(struct work *w)
{
	free(w->cache);
	w->cache = NULL;
	free(w->cps);
	w->cps = NULL;
	free(w->nb);
	w->nb = NULL;
	w->nb_cap = 0;
}

/* w's buffer for the text of n bytes with its spaces as ▁; NULL if out
 * of memory. */
static char *
work_nb(struct work *w, size_t n)
{
	size_t need = 3 * n + 4;

	if (need > w->nb_cap) {
		char *p = malloc(need);

		if (p == NULL)
			return NULL;
		free(w->nb);
		w->nb = p;
		w->nb_cap = need;
	}
	return w->nb;
}

static bool bg_has(const struct wb_spm *s, uint64_t key);

/* Is the character of code point cp, at p (l bytes), a token? */
static bool
is_tok(const struct wb_spm *s, struct work *w, uint32_t cp,
    const char *p, size_t l)
{
	if (cp < 0x80) {
		if (w->tok1[cp] < 0)
			w->tok1[cp] = lookup(s, p, 1) != NONE;
		return w->tok1[cp] != 0;
	}
	return lookup(s, p, l) != NONE;
}

/* May the text be cut between x (at px, xl bytes) and y (at py, yl)? */
static bool
piece_cut(const struct wb_spm *s, struct work *w, uint32_t x,
    const char *px, size_t xl, uint32_t y, const char *py, size_t yl)
{
	bool ok;

	if ((x | y) < 0x80)
		return false;
	if (x < 0x80 && y == 0x2581) {
		if (w->meta_after[x] < 0)
			w->meta_after[x] = !bg_has(s, (uint64_t)x << 32 | y |
			    1ull << 63) && (s->by_score || s->bytes_inert ||
			    (is_tok(s, w, x, px, xl) && is_tok(s, w, y, py, yl)));
		return w->meta_after[x] != 0;
	}
	ok = !bg_has(s, (uint64_t)x << 32 | y | 1ull << 63);
	if (ok && !s->by_score && !s->bytes_inert)
		ok = is_tok(s, w, x, px, xl) && is_tok(s, w, y, py, yl);
	return ok;
}

static void by_score(const struct wb_spm *s, const char *t, size_t n,
    bool heap, struct out *o);
static void by_rank(const struct wb_spm *s, const char *t, size_t n,
    bool heap, struct out *o);

static uint64_t
piece_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h ^ h >> 29;
}

/* The tokens of the piece t[0..n), from the cache if it is there. */
static void
piece(const struct wb_spm *s, struct work *w, const char *t, size_t n,
    struct out *o)
{
	uint32_t ids[PC_KEY];
	struct out p = { ids, PC_KEY, 0, false, o->err };
	struct pentry *e;

	if (w->cache == NULL || n > PC_KEY) {
		if (s->by_score)
			by_score(s, t, n, w->whole, o);
		else
			by_rank(s, t, n, w->whole, o);
		return;
	}
	e = &w->cache[piece_hash(t, n) & (PC_SLOTS - 1)];
	if (e->len == n && memcmp(e->key, t, n) == 0) {
		for (size_t i = 0; i < e->n; i++)
			emit(o, e->ids[i]);
		return;
	}
	/* At most a token a byte: all of them in ids. */
	if (s->by_score)
		by_score(s, t, n, w->whole, &p);
	else
		by_rank(s, t, n, w->whole, &p);
	if (p.fail) {
		o->fail = true;
		return;
	}
	for (size_t i = 0; i < p.n; i++)
		emit(o, ids[i]);
	if (p.n <= PC_IDS) {
		e->len = (uint8_t)n;
		e->n = (uint8_t)p.n;
		memcpy(e->key, t, n);
		memcpy(e->ids, ids, p.n * sizeof(*ids));
	}
}

/* The tokens of the character cp at p (l > 1 bytes) alone, from w's
 * cache of them; NULL if it has to be merged as a piece. */
static const struct cpentry *
char_ids(const struct wb_spm *s, struct work *w, uint32_t cp, const char *p,
    size_t l)
{
	struct cpentry *e = &w->cps[cp & (CP_SLOTS - 1)];
	uint32_t id;

	if (e->cp1 != cp + 1) {
		e->cp1 = cp + 1;
		e->n = 0;
		if ((id = lookup(s, p, l)) != NONE) {
			e->ids[e->n++] = id;
		} else if (s->by_score || s->bytes_inert) {
			for (size_t j = 0; j < l; j++)
				e->ids[j] = s->byte_id[(unsigned char)p[j]];
			e->n = (uint32_t)l;
			for (size_t j = 0; j < l; j++)
				if (e->ids[j] == NONE)
					e->n = 0;
		}
	}
	return e->n > 0 ? e : NULL;
}

/* The piece t[a..b); x at xi (xl bytes) is its last character. */
static void
piece_at(const struct wb_spm *s, struct work *w, const char *t, size_t a,
    size_t b, uint32_t x, size_t xi, size_t xl, struct out *o)
{
	const struct cpentry *e;

	if (a == xi && x >= 0x80 && w->cps != NULL &&
	    (e = char_ids(s, w, x, t + xi, xl)) != NULL) {
		for (uint32_t k = 0; k < e->n; k++)
			emit(o, e->ids[k]);
		return;
	}
	piece(s, w, t + a, b - a, o);
}

/* t[0..n) cut into pieces where piece_cut allows. */
static void
pieces(const struct wb_spm *s, struct work *w, const char *t, size_t n,
    struct out *o)
{
	const unsigned char *u = (const unsigned char *)t;
	size_t a = 0, i = 0, xi = 0, xl = 0;
	uint32_t x = 0, y;

	if (s->whole || w->whole || s->bg == NULL || s->bg_oom) {
		piece(s, w, t, n, o);
		return;
	}
	while (i < n && !o->fail) {
		size_t l;

		if (u[i] < 0x80) {
			y = u[i];
			l = 1;
		} else {
			int k = u8next(u + i, n - i, &y);

			if (k <= 0) {
				/* Not a character: no cut next to it. */
				i++;
				xl = 0;
				continue;
			}
			l = (size_t)k;
		}
		if (xl > 0 && i > a &&
		    piece_cut(s, w, x, t + xi, xl, y, t + i, l)) {
			const struct cpentry *e = w->cps == NULL ? NULL :
			    &w->cps[x & (CP_SLOTS - 1)];

			if (a == xi && x >= 0x80 && e != NULL &&
			    (e->cp1 == x + 1 ? e->n > 0 :
			    char_ids(s, w, x, t + xi, xl) != NULL))
				for (uint32_t k = 0; k < e->n; k++)
					emit(o, e->ids[k]);
			else
				piece(s, w, t + a, i - a, o);
			a = i;
		}
		x = y;
		xi = i;
		xl = l;
		i += l;
	}
	if (a < n && !o->fail) {
		if (xl > 0 && xi + xl == n)
			piece_at(s, w, t, a, n, x, xi, xl, o);
		else
			piece(s, w, t + a, n - a, o);
	}
}

/*
 * A run of text between split tokens: its spaces as ▁, with ▁ in front as
 * the prefix says (first: the run starts the text; cont: it goes on from
 * text before it, so that nothing is put in front), then merged whole or
 * word by word.
 */
static void
run(const struct wb_spm *s, const char *t, size_t n, bool first, bool cont,
    char *nb, struct work *wk, struct out *o)
{
	size_t m = 0, w;
	bool pre;

	if (n == 0)
		return;
	switch (s->prefix) {
	case PFX_SEGMENT:
		pre = !cont;
		break;
	case PFX_FIRST:
	case PFX_ALWAYS:
		pre = !cont && (s->prefix == PFX_ALWAYS || first) && t[0] != ' ' &&
		    !(n >= 3 && memcmp(t, META, 3) == 0);
		break;
	default:
		pre = false;
	}
	if (pre) {
		memcpy(nb, META, 3);
		m = 3;
	}
	for (size_t i = 0; i < n;) {
		const char *sp = memchr(t + i, ' ', n - i);
		size_t k = sp != NULL ? (size_t)(sp - (t + i)) : n - i;

		memcpy(nb + m, t + i, k);
		m += k;
		i += k;
		for (; i < n && t[i] == ' '; i++) {
			memcpy(nb + m, META, 3);
			m += 3;
		}
	}
	if (s->by_score || !s->split) {
		pieces(s, wk, nb, m, o);
		return;
	}
	/* Words: each ▁ starts one. */
	for (size_t i = 0; i < m; i = w) {
		for (w = i + 3; w < m && !(w + 3 <= m && memcmp(nb + w, META, 3) == 0);
		    w++)
			;
		if (w > m)
			w = m;
		pieces(s, wk, nb + i, w - i, o);
	}
}

/*
 * Where the added tokens that count are in s[0..len): mark[i] is the
 * length of the one that starts at i, 0 elsewhere.  llama.cpp: the
 * longest tokens first, each from the left of the runs left; tokenizers:
 * from the left, the longest at each place.  plain: llama.cpp's order
 * without passing over places and lengths (tests compare the two).
 */
static bool
find_added(const struct wb_spm *sp, const char *s, size_t len, int allow,
    bool plain, uint32_t *mark)
{
	if (sp->n_add == 0)
		return true;
	if (!sp->longest_first) {
		/* Where no two of its bytes start one, only one of length 1
		 * (the last length) may be. */
		const uint64_t *two = plain ? NULL : sp->two[allow != 0];

		for (size_t i = 0; i < len;) {
			if (!may_start(sp, (unsigned char)s[i], allow)) {
				i++;
				continue;
			}
			size_t j = 0;

			if (two != NULL) {
				unsigned char c = (unsigned char)s[i],
				    d = i + 1 < len ? (unsigned char)s[i + 1] : 0;

				if (i + 1 >= len ||
				    !(two[c << 2 | d >> 6] >> (d & 63) & 1))
					j = sp->n_lens - 1;
			}
			for (; j < sp->n_lens; j++)
				if (sp->lens[j] <= len - i &&
				    may_start_len(sp, j, s + i, allow) &&
				    added_at(sp, s + i, sp->lens[j], allow) != NULL)
					break;
			if (j < sp->n_lens) {
				mark[i] = sp->lens[j];
				i += sp->lens[j];
			} else {
				i++;
			}
		}
		return true;
	}
	/* The places where one may start, then each length over them: the
	 * places not covered yet, and only the lengths that one of the bytes
	 * there (in first) may start. */
	size_t nc = 0, *cand = malloc((len + 1) * sizeof(*cand));
	unsigned char *cov = calloc(len + 1, 1);
	uint64_t first[4] = { 0 };
	const uint64_t (*probe)[2][4] = NULL, *two = NULL;
	size_t *one = NULL, n1 = 0;

	if (cand == NULL || cov == NULL) {
		free(cand);
		free(cov);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (may_start(sp, (unsigned char)s[i], allow)) {
			cand[nc++] = i;
			first[(unsigned char)s[i] >> 6] |= 1ull << (s[i] & 63);
		}
	/* Many places: the second and middle bytes of the ones that count,
	 * for each length, and their first two bytes, so that text like
	 * their own (" \n \n" beside runs of spaces) is not looked up at
	 * each place and length.  The places where none of two bytes or more
	 * may start wait in one[] for the length 1 (the last: the order of
	 * its places does not matter, as no two of them overlap).  Without
	 * memory for one[], as with a short text. */
	if (!plain && nc >= 4096 && (one = malloc(nc * sizeof(*one))) != NULL) {
		size_t w = 0;

		probe = sp->probe[allow != 0];
		two = sp->two[allow != 0];
		memset(first, 0, sizeof(first));
		for (size_t k = 0; k < nc; k++) {
			size_t i = cand[k];
			unsigned char c = (unsigned char)s[i],
			    d = i + 1 < len ? (unsigned char)s[i + 1] : 0;

			if (i + 1 < len && (two[c << 2 | d >> 6] >> (d & 63) & 1)) {
				cand[w++] = i;
				first[c >> 6] |= 1ull << (c & 63);
			} else {
				one[n1++] = i;
			}
		}
		nc = w;
	}
	for (size_t j = 0; j < sp->n_lens; j++) {
		uint32_t l = sp->lens[j];
		size_t end = 0, w = 0;
		uint64_t any = 0;

		for (size_t q = 0; q < 4; q++)
			any |= first[q] & (sp->lfirst[j][0][q] |
			    (allow ? sp->lfirst[j][1][q] : 0));
		if (l == 1) {
			for (size_t k = 0; k < n1; k++) {
				size_t i = one[k];

				if (!cov[i] && may_start_len(sp, j, s + i, allow) &&
				    added_at(sp, s + i, 1, allow) != NULL) {
					mark[i] = 1;
					cov[i] = 1;
				}
			}
		}
		if (any == 0 && !plain)
			continue;
		for (size_t k = 0; k < nc; k++) {
			size_t i = cand[k], q;

			if (i < end || cov[i] || i + l > len ||
			    !may_start_len(sp, j, s + i, allow))
				continue;
			if (probe != NULL && l >= 2) {
				unsigned char b = (unsigned char)s[i + 1],
				    m = (unsigned char)s[i + l / 2];

				if (!(probe[j][0][b >> 6] >> (b & 63) & 1) ||
				    !(probe[j][1][m >> 6] >> (m & 63) & 1))
					continue;
			}
			if (added_at(sp, s + i, l, allow) == NULL)
				continue;
			for (q = i; q < i + l && !cov[q]; q++)
				;
			if (q < i + l)
				continue;
			mark[i] = l;
			memset(cov + i, 1, l);
			end = i + l;
		}
		if (end == 0 || plain)
			continue;
		memset(first, 0, sizeof(first));
		for (size_t k = 0; k < nc; k++)
			if (!cov[cand[k]]) {
				cand[w++] = cand[k];
				first[(unsigned char)s[cand[k]] >> 6] |=
				    1ull << (s[cand[k]] & 63);
			}
		nc = w;
	}
	free(one);
	free(cand);
	free(cov);
	return true;
}

/* The tokens of s[0..len); cont: it goes on from text before it, cut at
 * a place spm_cut allows. */
static size_t
encode(const struct wb_spm *sp, const char *s, size_t len, int allow,
    bool cont, uint32_t *ids, size_t cap, struct work *wk, struct wb_err *err)
{
	struct out o = { ids, ids ? cap : 0, 0, false, err };
	struct work own;
	uint32_t *mark = NULL;
	char *nb;
	size_t a = 0;

	if (wk == NULL) {
		work_init(&own, false);
		wk = &own;
	}
	if ((nb = work_nb(wk, len)) == NULL || (sp->n_add > 0 &&
	    sp->add_max[allow != 0] > 0 &&
	    (mark = calloc(len + 1, sizeof(*mark))) == NULL) ||
	    (mark != NULL && !find_added(sp, s, len, allow, wk->whole, mark))) {
		free(mark);
		if (wk == &own)
			work_free(&own);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return WB_BPE_FAIL;
	}
	if (wk->cache == NULL && !wk->no_cache && len >= PC_AFTER) {
		wk->cache = calloc(PC_SLOTS, sizeof(*wk->cache));
		wk->cps = calloc(CP_SLOTS, sizeof(*wk->cps));
		wk->no_cache = wk->cache == NULL || wk->cps == NULL;
		if (wk->no_cache) {
			free(wk->cache);
			free(wk->cps);
			wk->cache = NULL;
			wk->cps = NULL;
		}
	}
	/* Without marks, the text is one run. */
	for (size_t i = mark == NULL ? len : 0; i <= len && !o.fail; i++) {
		const struct added *t;
		size_t e = i, k;

		if (i < len && mark[i] == 0)
			continue;
		t = i < len ? added_at(sp, s + i, mark[i], allow) : NULL;
		/* The spaces a token strips on its left, back to what went
		 * before it, are no part of the run.  (With tokenizers, the
		 * token before may have taken more than the spaces up to
		 * it, see below: then one that strips on its left starts
		 * where that ends, and is dropped if it ends there too.) */
		while (t != NULL && (t->strip & STRIP_LEFT) && e > a &&
		    (k = space_before(sp, (const unsigned char *)s, e)) > 0 &&
		    e - k >= a)
			e -= k;
		if (t != NULL && (t->strip & STRIP_LEFT) && e < a)
			e = a;
		run(sp, s + a, e > a ? e - a : 0, a == 0, cont && a == 0, nb,
		    wk, &o);
		if (t == NULL)
			break;
		if (e < i + mark[i])
			emit(&o, t->id);
		i += mark[i] - 1;
		a = i + 1;
		/* Those on its right: for llama.cpp, up to the next token;
		 * for tokenizers, all of them, even over the start of the
		 * next token (one that starts with a space), which is found
		 * in the text as it is all the same. */
		while ((t->strip & STRIP_RIGHT) && a < len &&
		    (mark[a] == 0 || !sp->by_score) &&
		    (k = space_at(sp, (const unsigned char *)s + a, len - a)) > 0)
			a += k;
	}
	free(mark);
	if (wk == &own)
		work_free(&own);
	return o.fail ? WB_BPE_FAIL : o.n;
}

/*
 * Cuts.  A cut between the characters x and y (y at c) leaves the tokens
 * of the text before it as they are, and those after it as the text after
 * it alone makes them when nothing is put in front of it (cont), if: no
 * added token that counts may cover c or end there (so that the same
 * runs of text are found on both sides); x and y are tokens themselves
 * (for tokenizers: no byte fallback nor unknown token, whose runs fuse);
 * and no token of the vocabulary has x then y in its text, so that no
 * merge ever joins a symbol before c to one after it: the merges on the
 * two sides never meet, and their order does not matter.  With
 * ignore_merges, a word is taken whole if it is a token, so only the
 * places where a word starts (▁, with Metaspace's split) are cuts.
 */

static bool
bg_has(const struct wb_spm *s, uint64_t key)
{
	/* No table: no token of two characters. */
	if (s->bg == NULL)
		return false;
	for (size_t i = mix(key) & s->bg_mask; s->bg[i] != 0; i = (i + 1) & s->bg_mask)
		if (s->bg[i] == key)
			return true;
	return false;
}

static bool
bg_put(struct wb_spm *s, uint64_t key, size_t *n)
{
	size_t i;

	if (2 * (*n + 1) > s->bg_mask) {
		size_t m = s->bg_mask ? 2 * (s->bg_mask + 1) : 1u << 16;
		uint64_t *old = s->bg, *nw = calloc(m, sizeof(*nw));
		size_t om = s->bg_mask;

		if (nw == NULL)
			return false;
		s->bg = nw;
		s->bg_mask = m - 1;
		for (size_t j = 0; old != NULL && j <= om; j++)
			if (old[j] != 0) {
				for (i = mix(old[j]) & s->bg_mask; nw[i] != 0;
				    i = (i + 1) & s->bg_mask)
					;
				nw[i] = old[j];
			}
		free(old);
	}
	for (i = mix(key) & s->bg_mask; s->bg[i] != 0; i = (i + 1) & s->bg_mask)
		if (s->bg[i] == key)
			return true;
	s->bg[i] = key;
	(*n)++;
	return true;
}

/* The pairs of characters that stand next to each other in a token; and
 * whether the byte tokens stay out of every merge.  Made as a counter is
 * (spm_init), before any text is counted or cut, by any thread: bg_built
 * says it is done, not begun. */
static void
bg_build(struct wb_spm *s)
{
	size_t n = 0, len;

	s->bytes_inert = !s->by_score;
	for (size_t c = 0; c < 256 && s->bytes_inert; c++)
		s->bytes_inert = s->byte_id[c] != NONE;
	for (size_t i = 0; s->mh != NULL && s->bytes_inert && i <= s->mh_mask; i++) {
		const struct merge *m = &s->mh[i];
		uint32_t a = (uint32_t)(m->key >> 32), b = (uint32_t)m->key;

		if (m->rank == NONE)
			continue;
		if ((a < s->n_ids && s->byte[a] >= 0) ||
		    (b < s->n_ids && s->byte[b] >= 0) ||
		    (m->id < s->n_ids && s->byte[m->id] >= 0))
			s->bytes_inert = false;
	}
	for (uint32_t id = 0; id < s->n_ids; id++) {
		const unsigned char *t = (const unsigned char *)tok(s, id, &len);
		uint32_t prev = 0, cp;

		if (s->type[id] == 0 || s->type[id] == TYPE_BYTE)
			continue;
		for (size_t i = 0; i < len;) {
			int l = wb_utf8_seqlen(t + i, len - i);

			if (l <= 0) {
				cp = 0x110000 + t[i];
				l = 1;
			} else {
				wb_utf8_decode(t + i, (size_t)l, &cp);
			}
			if (i > 0 && !bg_put(s, (uint64_t)prev << 32 | cp | 1ull << 63, &n)) {
				s->bg_oom = true;
				s->bg_built = true;
				return;
			}
			prev = cp;
			i += (size_t)l;
		}
	}
	s->bg_built = true;
}

/* Is the character at p (n bytes) a token by itself?  Its code point in
 * *cp, a space as ▁. */
static bool
char_tok(const struct wb_spm *s, const unsigned char *p, size_t n,
    uint32_t *cp)
{
	int l = wb_utf8_seqlen(p, n);

	if (l <= 0)
		return false;
	wb_utf8_decode(p, (size_t)l, cp);
	if (*cp == ' ') {
		*cp = 0x2581;
		return lookup(s, META, 3) != NONE;
	}
	return lookup(s, (const char *)p, (size_t)l) != NONE;
}

/* Where added tokens strip spaces, may a cut be at c as to them?  Not in
 * or next to a run of spaces that a token which counts and strips on its
 * right ends right before, nor one that such a token which strips on its
 * left starts right after, nor a run longer than STRIP_LOOK or that goes
 * on to end (what comes after it is not known). */
static bool
strip_cut(const struct wb_spm *sp, const unsigned char *s, size_t end,
    size_t c, int allow)
{
	size_t e = c, f = c, k;
	const struct added *a;

	while (c - e < STRIP_LOOK && (k = space_before(sp, s, e)) > 0)
		e -= k;
	while (f - c < STRIP_LOOK && (k = space_at(sp, s + f, end - f)) > 0)
		f += k;
	if (e == c && f == c)
		return true;
	if (space_before(sp, s, e) > 0 || f + sp->add_max[allow != 0] > end ||
	    space_at(sp, s + f, end - f) > 0)
		return false;
	for (size_t j = 0; j < sp->n_lens; j++) {
		if (sp->lens[j] <= e && (a = added_at(sp, (const char *)s + e -
		    sp->lens[j], sp->lens[j], allow)) != NULL &&
		    (a->strip & STRIP_RIGHT))
			return false;
		if (sp->lens[j] <= end - f && (a = added_at(sp,
		    (const char *)s + f, sp->lens[j], allow)) != NULL &&
		    (a->strip & STRIP_LEFT))
			return false;
	}
	return true;
}

/* May the text be cut between the characters x and y (spaces as ▁), as
 * far as the two alone tell? */
static bool
pair_cuts(const struct wb_spm *sp, uint32_t x, uint32_t y)
{
	if (sp->split && y == 0x2581)
		return true;
	return !sp->whole && !sp->bg_oom &&
	    !bg_has(sp, (uint64_t)x << 32 | y | 1ull << 63);
}

/* May s[0..c) and s[c..) be tokenized apart (cont on the right)?  s[c]
 * starts a character, s[0..c) ends one; c > 0. */
static bool
spm_cut(const struct wb_spm *sp, const unsigned char *s, size_t end, size_t c,
    int allow)
{
	uint32_t x, y;
	size_t p = c - 1, back = sp->add_max[allow != 0];

	if (c >= end)
		return false;
	while (p > 0 && (s[p] & 0xC0) == 0x80)
		p--;
	/* The cheap test first: the pair in a token. */
	if (wb_utf8_seqlen(s + p, end - p) <= 0 ||
	    wb_utf8_seqlen(s + c, end - c) <= 0)
		return false;
	wb_utf8_decode(s + p, end - p, &x);
	wb_utf8_decode(s + c, end - c, &y);
	x = x == ' ' ? 0x2581 : x;
	y = y == ' ' ? 0x2581 : y;
	if (!pair_cuts(sp, x, y))
		return false;
	if (!char_tok(sp, s + p, end - p, &x) || !char_tok(sp, s + c, end - c, &y))
		return false;
	/* An added token over c, or ending at it. */
	for (size_t b = c > back ? c - back : 0; b < c; b++) {
		if (!may_start(sp, s[b], allow))
			continue;
		for (size_t j = 0; j < sp->n_lens; j++)
			if (b + sp->lens[j] >= c && b + sp->lens[j] <= end &&
			    may_start_len(sp, j, (const char *)s + b, allow) &&
			    added_at(sp, (const char *)s + b, sp->lens[j],
			    allow) != NULL)
				return false;
	}
	return !sp->strips[allow != 0] || strip_cut(sp, s, end, c, allow);
}

/* Can the whole-text counts of the two sides of a cut add up?  Only where
 * nothing is put in front of a text (no prefix), or where a text that
 * starts with a space gets nothing (Metaspace). */
static bool
whole_cut(const struct wb_spm *sp, const unsigned char *s, size_t end,
    size_t c, int allow)
{
	if (sp->prefix == PFX_SEGMENT ||
	    ((sp->prefix == PFX_FIRST || sp->prefix == PFX_ALWAYS) && s[c] != ' '))
		return false;
	return spm_cut(sp, s, end, c, allow);
}

/*
 * The counter.
 */
static const struct wb_spm *
spm_of(const struct wb_counter *c)
{
	return ((const struct spm_counter *)c)->s;
}

static uint64_t
spm_count(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	struct wb_err err = { 0 };
	struct work w;
	size_t n;

	work_init(&w, ((const struct spm_counter *)c)->whole);
	n = encode(spm_of(c), s, len, c->spec.allow_special, false, NULL, 0,
	    &w, &err);
	work_free(&w);

	(void)limit;
	return n == WB_BPE_FAIL ? UINT64_MAX : n;
}

static size_t
spm_encode(const struct wb_counter *c, const char *s, size_t len,
    uint32_t *ids, size_t cap, struct wb_err *err)
{
	struct work w;
	size_t n;

	work_init(&w, ((const struct spm_counter *)c)->whole);
	n = encode(spm_of(c), s, len, c->spec.allow_special, false, ids, cap,
	    &w, err);
	work_free(&w);
	return n;
}

static int
spm_decode(const struct wb_counter *c, const uint32_t *ids, size_t n,
    char *out, size_t cap, size_t *len, struct wb_err *err)
{
	const struct wb_spm *s = spm_of(c);
	size_t o = 0, l;

	for (size_t i = 0; i < n; i++) {
		const char *t;

		if (ids[i] >= s->n_ids || s->type[ids[i]] == 0)
			return wb_err_set(err, WB_EDATA, "ids[%zu]: %s has no "
			    "token %lu", i, c->name, (unsigned long)ids[i]);
		t = tok(s, ids[i], &l);
		if (s->byte[ids[i]] >= 0) {
			if (o < cap && out != NULL)
				out[o] = (char)s->byte[ids[i]];
			o++;
			continue;
		}
		for (size_t j = 0; j < l; j++) {
			char ch = t[j];

			if (j + 3 <= l && memcmp(t + j, META, 3) == 0) {
				ch = ' ';
				j += 2;
			}
			if (o < cap && out != NULL)
				out[o] = ch;
			o++;
		}
	}
	*len = o;
	return WB_OK;
}

/* The last cut in s[from..to) that keeps clear of added tokens which may
 * go on past to: one whose two sides add up as texts of their own (whole),
 * or one whose left side stays whatever follows (a stream's). */
static size_t
back_cut(const struct wb_counter *c, const char *s, size_t from, size_t to,
    bool whole)
{
	const struct wb_spm *sp = spm_of(c);
	const unsigned char *p = (const unsigned char *)s;
	int allow = c->spec.allow_special;
	size_t back = sp->add_max[allow != 0];

	for (size_t i = to > back ? to - back : 0; i > from;) {
		i--;
		if (i > 0 && (p[i] & 0xC0) != 0x80 && (whole ?
		    whole_cut(sp, p, to, i, allow) : spm_cut(sp, p, to, i, allow)))
			return i;
	}
	return 0;
}

static size_t
spm_last_cut(const struct wb_counter *c, const char *s, size_t from,
    size_t to)
{
	return back_cut(c, s, from, to, true);
}

/* The cuts of the count streams: the tokens before one stay whatever
 * follows, with any prefix. */
static size_t
spm_left_cut(const struct wb_counter *c, const char *s, size_t from,
    size_t to)
{
	return back_cut(c, s, from, to, false);
}

static size_t
spm_lookback(const struct wb_counter *c)
{
	const struct wb_spm *sp = spm_of(c);
	int allow = c->spec.allow_special != 0;

	/* A cut looks back over spaces a token before them may strip. */
	return sp->add_max[allow] + 4 + (sp->strips[allow] ? STRIP_LOOK + 4 : 0);
}

/* A count stream: the text after the last cut found, counted as going on
 * from what came before it; cuts are looked for once it holds the
 * counter's hold (STREAM_HOLD bytes but in tests). */

struct spm_stream {
	struct wb_count_stream base;
	struct wb_buf carry;
	struct work work;       /* its cache of pieces, across the cuts */
	size_t valid, checked;
	uint64_t done, count;
	bool go_on;             /* the text goes on from one before it */
	/* ASCII x y: may pair_cuts cut between them?  0: not known yet, 1:
	 * no, 2: yes.  Long runs ask the same few pairs over and over. */
	uint8_t pair[128][128];
};

static struct wb_count_stream *
spm_stream_new(const struct wb_counter *c)
{
	struct spm_stream *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
		return NULL;
	ss->base.c = c;
	work_init(&ss->work, ((const struct spm_counter *)c)->whole);
	return &ss->base;
}

static void
add_count(struct spm_stream *ss, size_t n)
{
	if (n == WB_BPE_FAIL || n > UINT64_MAX - ss->count)
		ss->count = UINT64_MAX;
	else
		ss->count += n;
}

static int
spm_stream_feed(struct wb_count_stream *cs, const char *buf, size_t len,
    struct wb_err *err)
{
	struct spm_stream *ss = (struct spm_stream *)cs;
	const struct wb_counter *c = cs->c;
	const struct wb_spm *sp = spm_of(c);
	const unsigned char *s;
	size_t i, start, cut = 0, back = spm_lookback(c);
	int n = 1;

	if (len == 0)
		return WB_OK;
	if (wb_buf_add(&ss->carry, buf, len) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	s = (const unsigned char *)ss->carry.p;
	for (i = ss->valid; i < ss->carry.len; i += (size_t)n) {
		if (s[i] < 0x80) {
			uint64_t w8;

			/* ASCII eight bytes at a time. */
			for (n = 1; ss->carry.len - i - (size_t)n >= 8; n += 8) {
				memcpy(&w8, s + i + n, 8);
				if (w8 & 0x8080808080808080ull)
					break;
			}
			continue;
		}
		/* The common three bytes first. */
		if (s[i] >= 0xE0 && s[i] <= 0xEF && ss->carry.len - i >= 3 &&
		    (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80 &&
		    (s[i] != 0xE0 || s[i + 1] >= 0xA0) &&
		    (s[i] != 0xED || s[i + 1] < 0xA0)) {
			n = 3;
			continue;
		}
		n = u8len(s + i, ss->carry.len - i);
		if (n < 0)
			break;
		if (n == 0) {
			err->offset = ss->done + i;
			return wb_err_set(err, WB_EDATA,
			    "invalid UTF-8 at byte offset %llu",
			    (unsigned long long)err->offset);
		}
	}
	ss->valid = i;
	/* Text is cut once there is enough of it: a short one is counted
	 * whole. */
	if (ss->valid < ((const struct spm_counter *)c)->hold + back)
		return WB_OK;
	/* A cut needs the added tokens that may end past it, and the spaces
	 * after it up to one that may strip them (STRIP_LOOK): keep back
	 * bytes.  Each place is looked at once, so it must be known there
	 * whether it cuts: one refused for the text after it not yet come
	 * would never be tried again, and where such were the only cuts, the
	 * stream would hold all the text. */
	start = ss->valid > back ? ss->valid - back : 0;
	for (i = start; i > ss->checked;) {
		i--;
		if (i > 0 && s[i] < 0x80 && s[i - 1] < 0x80) {
			uint8_t *m = &ss->pair[s[i - 1]][s[i]];

			if (*m == 0)
				*m = pair_cuts(sp, s[i - 1] == ' ' ? 0x2581 :
				    s[i - 1], s[i] == ' ' ? 0x2581 : s[i]) ? 2 : 1;
			if (*m == 1)
				continue;
		}
		if (i > 0 && (s[i] & 0xC0) != 0x80 &&
		    spm_cut(sp, s, ss->valid, i, c->spec.allow_special)) {
			cut = i;
			break;
		}
	}
	if (cut == 0) {
		if (start > ss->checked)
			ss->checked = start;
		return WB_OK;
	}
	add_count(ss, encode(sp, ss->carry.p, cut, c->spec.allow_special,
	    ss->done > 0 || ss->go_on, NULL, 0, &ss->work, err));
	memmove(ss->carry.p, ss->carry.p + cut, ss->carry.len - cut);
	ss->carry.len -= cut;
	ss->valid -= cut;
	ss->done += cut;
	ss->checked = start - cut;
	return WB_OK;
}

static uint64_t
spm_stream_count(const struct wb_count_stream *cs)
{
	return ((const struct spm_stream *)cs)->count;
}

static int
spm_stream_end(struct wb_count_stream *cs, uint64_t *count,
    struct wb_err *err)
{
	struct spm_stream *ss = (struct spm_stream *)cs;
	const struct wb_counter *c = cs->c;

	if (ss->valid < ss->carry.len) {
		err->offset = ss->done + ss->valid;
		return wb_err_set(err, WB_EDATA,
		    "invalid UTF-8 at byte offset %llu: truncated sequence",
		    (unsigned long long)err->offset);
	}
	if (ss->carry.len > 0)
		add_count(ss, encode(spm_of(c), ss->carry.p, ss->carry.len,
		    c->spec.allow_special, ss->done > 0 || ss->go_on, NULL, 0,
		    &ss->work, err));
	ss->done += ss->carry.len;
	ss->carry.len = ss->valid = ss->checked = 0;
	*count = ss->count;
	return WB_OK;
}

static void
spm_stream_go_on(struct wb_count_stream *cs)
{
	((struct spm_stream *)cs)->go_on = true;
}

/* A new text: the work (its buffers and caches of pieces and characters)
 * and the pairs known to cut are kept, as they hold for any text, so that
 * the parts of a file counted one after another find them again. */
static void
spm_stream_reset(struct wb_count_stream *cs)
{
	struct spm_stream *ss = (struct spm_stream *)cs;

	ss->carry.len = ss->valid = ss->checked = 0;
	ss->done = ss->count = 0;
	ss->go_on = false;
}

static void
spm_stream_free(struct wb_count_stream *cs)
{
	wb_buf_free(&((struct spm_stream *)cs)->carry);
	work_free(&((struct spm_stream *)cs)->work);
	free(cs);
}

static void
spm_free(struct wb_counter *c)
{
	wb_spm_free(((struct spm_counter *)c)->s);
	free(c);
}

static const struct wb_counter_ops spm_ops = {
	.count = spm_count,
	.encode = spm_encode,
	.decode = spm_decode,
	.last_cut = spm_last_cut,
	.lookback = spm_lookback,
	.left_cut = spm_left_cut,
	.stream_new = spm_stream_new,
	.stream_feed = spm_stream_feed,
	.stream_count = spm_stream_count,
	.stream_end = spm_stream_end,
	.stream_go_on = spm_stream_go_on,
	.stream_reset = spm_stream_reset,
	.stream_free = spm_stream_free,
	.free = spm_free,
};

/* c, zeroed, made the counter of s, named name. */
static struct wb_counter *
spm_init(struct spm_counter *c, const struct wb_counter_spec *spec,
    struct wb_spm *s, const char *name)
{
	/* The pairs that cuts need, now (a cache may lack them): counters
	 * may be shared by threads, and read it as they are. */
	if (!s->bg_built)
		bg_build(s);
	c->s = s;
	c->hold = STREAM_HOLD;
	c->base.ops = &spm_ops;
	c->base.spec = *spec;
	snprintf(c->base.name, sizeof(c->base.name), "%s", name);
	return &c->base;
}

/* A counter of s, named name; it owns s, and frees it if it fails. */
static struct wb_counter *
spm_counter(const struct wb_counter_spec *spec, struct wb_spm *s,
    const char *name, struct wb_err *err)
{
	struct spm_counter *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		wb_spm_free(s);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	return spm_init(c, spec, s, name);
}

void
wb_spm_set_stream_hold(struct wb_counter *c, size_t n)
{
	((struct spm_counter *)c)->hold = n;
}

void
wb_spm_set_whole(struct wb_counter *c, bool whole)
{
	((struct spm_counter *)c)->whole = whole;
}

size_t
wb_spm_stream_held(const struct wb_count_stream *cs)
{
	return ((const struct spm_stream *)cs)->carry.len;
}

/*
 * GGUF files of model "llama".
 */
static bool
is(struct wb_gguf_str g, const char *s)
{
	return g.len == strlen(s) && memcmp(g.s, s, g.len) == 0;
}

/* The texts of the tokens into s, and their table. */
static int
texts(struct wb_spm *s, const char *name, const char *key,
    const struct wb_gguf_str *t, struct wb_err *err)
{
	struct wb_buf b = { 0 };

	for (uint32_t i = 0; i < s->n_ids; i++) {
		s->off[i] = (uint32_t)b.len;
		wb_buf_add(&b, t[i].s, t[i].len);
		if (b.len > UINT32_MAX / 2) {
			wb_buf_free(&b);
			return wb_err_set(err, WB_EDATA, "%s: %s: too long", name,
			    key);
		}
	}
	s->off[s->n_ids] = (uint32_t)b.len;
	if (b.oom || (s->text = wb_buf_take(&b)) == NULL) {
		wb_buf_free(&b);
		return oom(name, err);
	}
	return WB_OK;
}

static struct wb_spm *
gguf_spm(const struct wb_gguf *g, const char *path, struct wb_err *err)
{
	struct wb_gguf_str *t = NULL;
	float *score = NULL;
	int32_t *type = NULL;
	uint8_t *final = NULL, *strip = NULL;
	size_t n = 0, n_score = 0, n_type = 0;
	struct wb_spm *s = NULL;
	bool prefix = true;
	int b;

	if (wb_gguf_strv(g, "tokenizer.ggml.tokens", &t, &n, err) != WB_OK)
		goto fail;
	if (n == 0 || n >= 1u << 26) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.tokens: %zu tokens",
		    path, n);
		goto fail;
	}
	if (wb_gguf_type(g, "tokenizer.ggml.scores", NULL, NULL) < 0) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer model llama without "
		    "tokenizer.ggml.scores is not supported", path);
		goto fail;
	}
	if (wb_gguf_f32v(g, "tokenizer.ggml.scores", &score, &n_score,
	    err) != WB_OK ||
	    (wb_gguf_type(g, "tokenizer.ggml.token_type", NULL, NULL) >= 0 &&
	    wb_gguf_i32v(g, "tokenizer.ggml.token_type", &type, &n_type,
	    err) != WB_OK) ||
	    (wb_gguf_type(g, "tokenizer.ggml.add_space_prefix", NULL, NULL) >= 0 &&
	    wb_gguf_bool(g, "tokenizer.ggml.add_space_prefix", &prefix,
	    err) != WB_OK))
		goto fail;
	if (n_score < n || (type != NULL && n_type < n)) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.%s has %zu values "
		    "for %zu tokens", path, n_score < n ? "scores" :
		    "token_type", n_score < n ? n_score : n_type, n);
		goto fail;
	}
	if ((s = spm_new((uint32_t)n, true)) == NULL ||
	    (s->score = calloc(n, sizeof(*s->score))) == NULL ||
	    (s->add = calloc(n, sizeof(*s->add))) == NULL ||
	    (final = malloc(n)) == NULL || (strip = malloc(n)) == NULL) {
		oom(path, err);
		goto fail;
	}
	if (texts(s, path, "tokenizer.ggml.tokens", t, err) != WB_OK)
		goto fail;
	s->prefix = prefix ? PFX_SEGMENT : PFX_NONE;
	s->longest_first = true;
	for (uint32_t i = 0; i < n; i++) {
		size_t l;
		const char *p = tok(s, i, &l);
		int ty = type != NULL ? type[i] : TYPE_NORMAL;

		if (l == 0) {
			wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.tokens: "
			    "token %u is empty", path, i);
			goto fail;
		}
		if (!vocab_put(s, i)) {
			wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.tokens: "
			    "%.*s is there twice", path, (int)(l > 60 ? 60 : l), p);
			goto fail;
		}
		s->score[i] = score[i];
		s->type[i] = ty >= TYPE_NORMAL && ty <= TYPE_BYTE ?
		    (uint8_t)ty : TYPE_NORMAL;
		if (ty == TYPE_BYTE && (b = byte_token(p, l)) >= 0)
			s->byte[i] = (int16_t)b;
	}
	/* The types (and Phi-3's strips) llama.cpp gives the tokens in the
	 * end, which say which it splits out first. */
	memcpy(final, s->type, n);
	if (wb_gguf_final_types(g, path, t, n, final, strip, err) != WB_OK)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		int ty = final[i];

		if (ty == TYPE_UNKNOWN || ty == TYPE_CONTROL || ty == TYPE_USER)
			s->add[s->n_add++] = (struct added){ .off = s->off[i],
			    .len = (uint32_t)(s->off[i + 1] - s->off[i]), .id = i,
			    .special = ty != TYPE_USER, .strip = strip[i] };
	}
	/* llama.cpp's byte_to_token: <0xNN>, else the byte itself; it fails
	 * on a byte with neither, which is refused here at once. */
	for (b = 0; b < 256; b++) {
		char hx[7], one = (char)b;

		snprintf(hx, sizeof(hx), "<0x%02X>", b);
		if ((s->byte_id[b] = lookup(s, hx, 6)) == NONE &&
		    (s->byte_id[b] = lookup(s, &one, 1)) == NONE) {
			wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.tokens: no "
			    "token for the byte 0x%02X (%s), which the byte "
			    "fallback needs", path, b, hx);
			goto fail;
		}
	}
	if (index_added(s, path, err) != WB_OK)
		goto fail;
	free(t);
	free(score);
	free(type);
	free(final);
	free(strip);
	return s;
fail:
	wb_spm_free(s);
	free(t);
	free(score);
	free(type);
	free(final);
	free(strip);
	return NULL;
}

struct wb_counter *
wb_spm_gguf_new(const struct wb_counter_spec *spec, const char *path,
    const char *name, bool *mine, struct wb_err *err)
{
	struct wb_gguf *g;
	struct wb_gguf_str model;
	struct wb_spm *s;

	*mine = false;
	if ((g = wb_gguf_open(path, err)) == NULL) {
		*mine = true;
		return NULL;
	}
	if (wb_gguf_type(g, "tokenizer.ggml.model", NULL, NULL) != WB_GGUF_STRING ||
	    wb_gguf_str(g, "tokenizer.ggml.model", &model, err) != WB_OK ||
	    !is(model, "llama")) {
		wb_gguf_free(g);
		return NULL;
	}
	*mine = true;
	s = gguf_spm(g, path, err);
	wb_gguf_free(g);
	return s == NULL ? NULL : spm_counter(spec, s, name, err);
}

/*
 * tokenizer.json files.
 */

/* The "type" of a JSON object, or "(none)". */
static const char *
type_of(const json_t *o)
{
	const char *t = json_string_value(json_object_get(o, "type"));

	return t != NULL ? t : "(none)";
}

static bool
str_is(const json_t *o, const char *key, const char *v)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && strcmp(s, v) == 0;
}

/* Is o's key a JSON false, or absent? */
static bool
off(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v == NULL || json_is_false(v);
}

static bool
unset(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return v == NULL || json_is_null(v) || (s != NULL && s[0] == '\0');
}

/* Replace " " by "▁"? */
static bool
is_replace(const json_t *n)
{
	return strcmp(type_of(n), "Replace") == 0 &&
	    str_is(json_object_get(n, "pattern"), "String", " ") &&
	    str_is(n, "content", META);
}

/* Does the normalizer n put ▁ for spaces or in front? */
static bool
meta_normalizer(const json_t *n)
{
	const json_t *seq = json_object_get(n, "normalizers"), *x;
	size_t i;

	if (strcmp(type_of(n), "Sequence") != 0)
		return is_replace(n) || strcmp(type_of(n), "Prepend") == 0;
	json_array_foreach(seq, i, x)
		if (is_replace(x) || strcmp(type_of(x), "Prepend") == 0)
			return true;
	return false;
}

bool
wb_spm_json_wants(const json_t *root)
{
	const json_t *m = json_object_get(root, "model");

	if (!str_is(m, "type", "BPE"))
		return false;
	return json_is_true(json_object_get(m, "byte_fallback")) ||
	    strcmp(type_of(json_object_get(root, "pre_tokenizer")),
	    "Metaspace") == 0 ||
	    meta_normalizer(json_object_get(root, "normalizer"));
}

/* The normalizer and pre-tokenizer: how spaces become ▁. */
static int
json_spaces(struct wb_spm *s, const char *path, const json_t *root,
    struct wb_err *err)
{
	const json_t *n = json_object_get(root, "normalizer");
	const json_t *p = json_object_get(root, "pre_tokenizer");
	const json_t *seq = json_object_get(n, "normalizers"), *x;
	bool prepend = false, replace = false;
	size_t i;

	if (n != NULL && !json_is_null(n)) {
		if (strcmp(type_of(n), "Sequence") != 0)
			seq = NULL;
		for (i = 0; i < (seq ? json_array_size(seq) : 1); i++) {
			x = seq ? json_array_get(seq, i) : n;
			if (strcmp(type_of(x), "Prepend") == 0 && !prepend &&
			    !replace && str_is(x, "prepend", META))
				prepend = true;
			else if (is_replace(x) && !replace)
				replace = true;
			else
				return wb_err_set(err, WB_EDATA, "%s: normalizer "
				    "%s is not supported (only Prepend \"▁\", "
				    "Replace \" \" by \"▁\")", path, type_of(x));
		}
	}
	if (p == NULL || json_is_null(p)) {
		if (!replace)
			return wb_err_set(err, WB_EDATA, "%s: model BPE "
			    "with byte_fallback and neither Metaspace nor a "
			    "normalizer that replaces spaces is not supported",
			    path);
		s->prefix = prepend ? PFX_SEGMENT : PFX_NONE;
		return WB_OK;
	}
	if (strcmp(type_of(p), "Split") == 0 && replace && off(p, "invert") &&
	    str_is(json_object_get(p, "pattern"), "String", " ")) {
		/* No space is left to split at. */
		s->prefix = prepend ? PFX_SEGMENT : PFX_NONE;
		return WB_OK;
	}
	if (strcmp(type_of(p), "Metaspace") != 0 || replace || prepend ||
	    !str_is(p, "replacement", META))
		return wb_err_set(err, WB_EDATA, "%s: pre-tokenizer %s is not "
		    "supported here (only Metaspace \"▁\" without a "
		    "normalizer)", path, type_of(p));
	if (str_is(p, "prepend_scheme", "first"))
		s->prefix = PFX_FIRST;
	else if (str_is(p, "prepend_scheme", "always") ||
	    (json_object_get(p, "prepend_scheme") == NULL &&
	    !json_is_false(json_object_get(p, "add_prefix_space"))))
		s->prefix = PFX_ALWAYS;
	else if (str_is(p, "prepend_scheme", "never") ||
	    json_object_get(p, "prepend_scheme") == NULL)
		s->prefix = PFX_NONE;
	else
		return wb_err_set(err, WB_EDATA, "%s: pre-tokenizer Metaspace: "
		    "prepend_scheme is not first, always or never", path);
	s->split = json_object_get(p, "split") == NULL ||
	    json_is_true(json_object_get(p, "split"));
	return WB_OK;
}

/* Split merge m ("A B" or ["A", "B"]) into its halves. */
static bool
halves(const json_t *m, const char **a, size_t *al, const char **b,
    size_t *bl)
{
	const char *s, *sp;

	if ((s = json_string_value(m)) != NULL) {
		if ((sp = strchr(s, ' ')) == NULL || strchr(sp + 1, ' ') != NULL)
			return false;
		*a = s;
		*al = (size_t)(sp - s);
		*b = sp + 1;
		*bl = strlen(sp + 1);
		return true;
	}
	if (json_array_size(m) == 2 &&
	    (*a = json_string_value(json_array_get(m, 0))) != NULL &&
	    (*b = json_string_value(json_array_get(m, 1))) != NULL) {
		*al = json_string_length(json_array_get(m, 0));
		*bl = json_string_length(json_array_get(m, 1));
		return true;
	}
	return false;
}

static int
json_merges(struct wb_spm *s, const char *path, const json_t *merges,
    struct wb_err *err)
{
	size_t nm = json_array_size(merges), i;
	const json_t *m;
	char *cat = NULL;
	size_t cap = 0;

	if (!json_is_array(merges))
		return wb_err_set(err, WB_EDATA, "%s: model.merges is not an "
		    "array", path);
	s->mh_mask = table_size(nm) - 1;
	if ((s->mh = calloc(s->mh_mask + 1, sizeof(*s->mh))) == NULL)
		return oom(path, err);
	for (i = 0; i <= s->mh_mask; i++)
		s->mh[i].rank = NONE;
	json_array_foreach(merges, i, m) {
		const char *a, *b;
		size_t al, bl, j;
		uint32_t x, y, z;
		uint64_t key;

		if (!halves(m, &a, &al, &b, &bl)) {
			free(cat);
			return wb_err_set(err, WB_EDATA, "%s: merge %zu is not "
			    "two tokens", path, i);
		}
		if (al + bl >= cap) {
			char *c = realloc(cat, cap = 2 * (al + bl) + 16);

			if (c == NULL) {
				free(cat);
				return oom(path, err);
			}
			cat = c;
		}
		memcpy(cat, a, al);
		memcpy(cat + al, b, bl);
		if ((x = lookup(s, a, al)) == NONE || (y = lookup(s, b, bl)) == NONE ||
		    (z = lookup(s, cat, al + bl)) == NONE) {
			free(cat);
			return wb_err_set(err, WB_EDATA, "%s: merge %zu: a token "
			    "that is not in the vocabulary", path, i);
		}
		key = (uint64_t)x << 32 | y;
		for (j = mix(key) & s->mh_mask; s->mh[j].rank != NONE &&
		    s->mh[j].key != key; j = (j + 1) & s->mh_mask)
			;
		s->mh[j] = (struct merge){ key, (uint32_t)i, z };
	}
	free(cat);
	return WB_OK;
}

static int
json_added(struct wb_spm *s, const char *path, const json_t *a,
    struct wb_buf *text, struct wb_err *err)
{
	const json_t *t;
	size_t i;

	if (a != NULL && !json_is_array(a))
		return wb_err_set(err, WB_EDATA, "%s: added_tokens is not an "
		    "array", path);
	if ((s->add = calloc(json_array_size(a) + 1, sizeof(*s->add))) == NULL)
		return oom(path, err);
	json_array_foreach(a, i, t) {
		const json_t *c = json_object_get(t, "content");
		const json_t *id = json_object_get(t, "id");
		json_int_t v;

		if (!json_is_string(c) || json_string_length(c) == 0 ||
		    strlen(json_string_value(c)) != json_string_length(c) ||
		    !json_is_integer(id) || (v = json_integer_value(id)) < 0 ||
		    v >= (json_int_t)s->n_ids)
			return wb_err_set(err, WB_EDATA, "%s: added_tokens[%zu]: "
			    "not a token with a content and an id", path, i);
		if (!off(t, "single_word") || !off(t, "normalized"))
			return wb_err_set(err, WB_EDATA, "%s: added token %s: "
			    "single_word and normalized are not supported", path,
			    json_string_value(c));
		s->add[s->n_add++] = (struct added){ .off = (uint32_t)text->len,
		    .len = (uint32_t)json_string_length(c), .id = (uint32_t)v,
		    .special = json_is_true(json_object_get(t, "special")),
		    .strip = (off(t, "lstrip") ? 0 : STRIP_LEFT) |
		    (off(t, "rstrip") ? 0 : STRIP_RIGHT) };
		wb_buf_add(text, json_string_value(c), json_string_length(c));
	}
	return WB_OK;
}

struct wb_counter *
wb_spm_json_new(const struct wb_counter_spec *spec, const json_t *root,
    const char *path, const char *name, struct wb_err *err)
{
	const json_t *model = json_object_get(root, "model");
	const json_t *vocab = json_object_get(model, "vocab"), *v;
	const char *key, *unk;
	json_int_t max = -1, id;
	struct wb_spm *s = NULL;
	struct wb_buf text = { 0 };
	size_t k;

	if (!json_is_object(vocab)) {
		wb_err_set(err, WB_EDATA, "%s: model.vocab is not an object",
		    path);
		return NULL;
	}
	if (!unset(model, "dropout") || !unset(model, "continuing_subword_prefix") ||
	    !unset(model, "end_of_word_suffix")) {
		wb_err_set(err, WB_EDATA, "%s: model BPE with dropout or subword "
		    "affixes is not supported", path);
		return NULL;
	}
	json_object_foreach((json_t *)vocab, key, v) {
		if (!json_is_integer(v) || (id = json_integer_value(v)) < 0 ||
		    id >= 1 << 26 || key[0] == '\0') {
			wb_err_set(err, WB_EDATA, "%s: model.vocab: %s: not an id",
			    path, key);
			return NULL;
		}
		if (id > max)
			max = id;
	}
	json_array_foreach(json_object_get(root, "added_tokens"), k, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id > max && id < 1 << 26)
			max = id;
	}
	if ((s = spm_new((uint32_t)(max + 1), false)) == NULL) {
		oom(path, err);
		return NULL;
	}
	if (json_spaces(s, path, root, err) != WB_OK)
		goto fail;
	/* The vocabulary's texts by id (an added token's where it has
	 * none), then the added ones'. */
	{
		const char **by = calloc((size_t)max + 2, sizeof(*by));
		bool *extra = calloc((size_t)max + 2, sizeof(*extra));
		const json_t *a = json_object_get(root, "added_tokens");

		if (by == NULL || extra == NULL) {
			free(by);
			free(extra);
			oom(path, err);
			goto fail;
		}
		json_object_foreach((json_t *)vocab, key, v) {
			id = json_integer_value(v);
			if (by[id] != NULL) {
				free(by);
				free(extra);
				wb_err_set(err, WB_EDATA, "%s: model.vocab: id "
				    "%lld given twice", path, (long long)id);
				goto fail;
			}
			by[id] = key;
		}
		json_array_foreach(a, k, v) {
			id = json_integer_value(json_object_get(v, "id"));
			if (json_is_integer(json_object_get(v, "id")) && id >= 0 &&
			    id <= max && by[id] == NULL &&
			    json_string_value(json_object_get(v, "content"))) {
				by[id] = json_string_value(json_object_get(v,
				    "content"));
				extra[id] = true;
			}
		}
		for (uint32_t i = 0; i < s->n_ids; i++) {
			s->off[i] = (uint32_t)text.len;
			if (by[i] != NULL)
				wb_buf_adds(&text, by[i]);
		}
		s->off[s->n_ids] = (uint32_t)text.len;
		for (uint32_t i = 0; i < s->n_ids; i++)
			s->type[i] = by[i] == NULL ? 0 : extra[i] ? TYPE_USER :
			    TYPE_NORMAL;
		free(by);
		free(extra);
	}
	if (json_added(s, path, json_object_get(root, "added_tokens"), &text,
	    err) != WB_OK)
		goto fail;
	if (text.oom || text.len > UINT32_MAX / 2) {
		oom(path, err);
		goto fail;
	}
	s->text = text.p ? wb_buf_take(&text) : calloc(1, 1);
	if (s->text == NULL) {
		oom(path, err);
		goto fail;
	}
	for (uint32_t i = 0; i < s->n_ids; i++) {
		size_t l;
		const char *p = tok(s, i, &l);
		int b;

		if (s->type[i] != TYPE_NORMAL)
			continue;
		vocab_put(s, i);
		if ((b = byte_token(p, l)) >= 0) {
			s->byte[i] = (int16_t)b;
			s->byte_id[b] = i;
		}
	}
	if (!json_is_true(json_object_get(model, "byte_fallback")))
		for (int b = 0; b < 256; b++)
			s->byte_id[b] = NONE;
	s->whole = json_is_true(json_object_get(model, "ignore_merges"));
	s->fuse_unk = json_is_true(json_object_get(model, "fuse_unk"));
	if ((unk = json_string_value(json_object_get(model, "unk_token"))) != NULL &&
	    (s->unk = lookup(s, unk, strlen(unk))) == NONE) {
		wb_err_set(err, WB_EDATA, "%s: model.unk_token %s is not in "
		    "model.vocab", path, unk);
		goto fail;
	}
	if (json_merges(s, path, json_object_get(model, "merges"), err) != WB_OK ||
	    index_added(s, path, err) != WB_OK)
		goto fail;
	return spm_counter(spec, s, name, err);
fail:
	wb_buf_free(&text);
	wb_spm_free(s);
	return NULL;
}

/*
 * The cache (tokcache.c): struct wb_spm as it is (section SPMs, its
 * pointers cleared; the cache is read by the build that wrote it only,
 * so its layout is this one) and each of its arrays in a section of its
 * own, read back where they lie in the mapped file.  The table of pairs
 * (bg) is kept too: building it reads every token, tens of ms for a large
 * vocabulary, and every text longer than a stream's hold needs it.
 * Whatever a builder sets in struct wb_spm must be in these sections (and
 * TC_VERSION bumped when they change), or a cached counter would differ
 * from a compiled one; the tests compare them on the whole corpus.
 */
#define SPM_STRUCT WB_TC_TAG('S', 'P', 'M', 's')
#define SPM_TEXT WB_TC_TAG('S', 'P', 'M', 't')
#define SPM_OFF WB_TC_TAG('S', 'P', 'M', 'o')
#define SPM_TYPE WB_TC_TAG('S', 'P', 'M', 'y')
#define SPM_BYTE WB_TC_TAG('S', 'P', 'M', 'b')
#define SPM_SCORE WB_TC_TAG('S', 'P', 'M', 'c')
#define SPM_VOCAB WB_TC_TAG('S', 'P', 'M', 'v')
#define SPM_MERGE WB_TC_TAG('S', 'P', 'M', 'm')
#define SPM_ADD WB_TC_TAG('S', 'P', 'M', 'a')
#define SPM_ADDH WB_TC_TAG('S', 'P', 'M', 'h')
#define SPM_PAIR WB_TC_TAG('S', 'P', 'M', 'p')

/* The length of text: its ids' texts, then the added ones'. */
static size_t
text_len(const struct wb_spm *s)
{
	size_t n = s->off[s->n_ids];

	for (size_t k = 0; k < s->n_add; k++)
		if ((size_t)s->add[k].off + s->add[k].len > n)
			n = (size_t)s->add[k].off + s->add[k].len;
	return n;
}

void
wb_spm_to_cache(const struct wb_counter *c, const struct wb_tokcache_key *k)
{
	const struct wb_spm *s = spm_of(c);
	struct wb_spm h;
	size_t n = s->n_ids;

	if (s->map != NULL)
		return;
	memcpy(&h, s, sizeof(h));       /* padding too: the same file makes
	                                 * the same cache */
	h.text = NULL;
	h.off = NULL;
	h.type = NULL;
	h.byte = NULL;
	h.score = NULL;
	h.vh = NULL;
	h.mh = NULL;
	h.add = NULL;
	h.ah = NULL;
	h.bg = NULL;
	if (s->bg_oom || s->bg == NULL) {
		h.bg_mask = 0;
		h.bg_built = h.bg_oom = false;
	}
	h.bg_mapped = false;
	h.map = NULL;
	h.map_len = 0;
	wb_tokcache_write(k, (const struct wb_tokcache_part[]){
	    { SPM_STRUCT, &h, sizeof(h) },
	    { SPM_TEXT, s->text, text_len(s) },
	    { SPM_OFF, s->off, (n + 2) * sizeof(*s->off) },
	    { SPM_TYPE, s->type, n + 1 },
	    { SPM_BYTE, s->byte, (n + 1) * sizeof(*s->byte) },
	    { SPM_VOCAB, s->vh, (s->vh_mask + 1) * sizeof(*s->vh) },
	    { SPM_ADD, s->add, s->n_add * sizeof(*s->add) },
	    { SPM_ADDH, s->ah, (s->ah_mask + 1) * sizeof(*s->ah) },
	    /* Either one: scores (GGUF) or merges (tokenizer.json). */
	    s->score != NULL ?
	    (struct wb_tokcache_part){ SPM_SCORE, s->score, n * sizeof(*s->score) } :
	    (struct wb_tokcache_part){ SPM_MERGE, s->mh,
	    (s->mh_mask + 1) * sizeof(*s->mh) },
	    { SPM_PAIR, h.bg_built ? s->bg : NULL,
	    h.bg_built ? (s->bg_mask + 1) * sizeof(*s->bg) : 0 } }, 10);
}

/* Section tag of tc if it is len bytes long, else NULL. */
static const void *
section(const struct wb_tokcache *tc, uint32_t tag, size_t len)
{
	size_t l;
	const void *p = wb_tokcache_section(tc, tag, &l);

	return p != NULL && l == len ? p : NULL;
}

struct wb_counter *
wb_spm_from_cache(const struct wb_counter_spec *spec, struct wb_tokcache *tc,
    const char *name)
{
	const struct wb_spm *h;
	struct wb_spm *s;
	struct spm_counter *c;
	size_t n, tl;
	const char *text;

	if ((h = section(tc, SPM_STRUCT, sizeof(*h))) == NULL ||
	    (text = wb_tokcache_section(tc, SPM_TEXT, &tl)) == NULL)
		return NULL;
	n = h->n_ids;
	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	*s = *h;
	s->text = (char *)text;
	s->off = (uint32_t *)section(tc, SPM_OFF, (n + 2) * sizeof(*s->off));
	s->type = (uint8_t *)section(tc, SPM_TYPE, n + 1);
	s->byte = (int16_t *)section(tc, SPM_BYTE, (n + 1) * sizeof(*s->byte));
	s->vh = (struct slot *)section(tc, SPM_VOCAB,
	    (s->vh_mask + 1) * sizeof(*s->vh));
	s->add = (struct added *)section(tc, SPM_ADD,
	    s->n_add * sizeof(*s->add));
	s->ah = (uint32_t *)section(tc, SPM_ADDH,
	    (s->ah_mask + 1) * sizeof(*s->ah));
	s->score = s->by_score ? (float *)section(tc, SPM_SCORE,
	    n * sizeof(*s->score)) : NULL;
	s->mh = s->by_score ? NULL : (struct merge *)section(tc, SPM_MERGE,
	    (s->mh_mask + 1) * sizeof(*s->mh));
	s->bg = NULL;
	s->bg_mapped = false;
	if (s->bg_built && (s->bg = (uint64_t *)section(tc, SPM_PAIR,
	    (s->bg_mask + 1) * sizeof(*s->bg))) != NULL)
		s->bg_mapped = true;
	else
		s->bg_mask = 0, s->bg_built = s->bg_oom = false;
	if (s->off == NULL || s->type == NULL || s->byte == NULL ||
	    s->vh == NULL || s->add == NULL || s->ah == NULL ||
	    (s->by_score ? s->score == NULL : s->mh == NULL) ||
	    s->off[n] > tl || s->n_lens > WB_NELEM(s->lens)) {
		free(s);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(s);
		return NULL;
	}
	s->map = wb_tokcache_take(tc, &s->map_len);
	return spm_init(c, spec, s, name);
}
