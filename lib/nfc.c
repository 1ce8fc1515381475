/* nfc.c: Unicode Normalization Form C (UAX #15), with the data of
 * lib/unicode_tables.c (Unicode 16.0).
 *
 * Text in which no character may change under NFC (WB_NFC_MAYBE: none
 * combining, decomposable, the second of a composite or a Hangul vowel or
 * trailing consonant) is left as it is, after one pass.  Else it is
 * decomposed in full, its runs of combining characters are put in the
 * order of their classes (stably), and composed again.  A byte that is not
 * part of valid UTF-8 stays as it is and composes with nothing.  Time is
 * linear in the text: the runs are ordered by counting when long.
 */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"
#include "unicode_tables.h"

#define BYTE0 0x110000u   /* BYTE0 + b: the byte b, not valid UTF-8 */
#define NONE 0xFFFFFFFFu

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7,
	LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT,
	SCOUNT = LCOUNT * NCOUNT };

static unsigned
ccc(uint32_t c)
{
	return c >= BYTE0 ? 0 : wb_nfc_info(c) & 0xFFu;
}

/* The character at s[i] (i < n): its code point, or BYTE0 + the byte if
 * it is not valid UTF-8; its length. */
static size_t
decode(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	int l = wb_utf8_seqlen(s + i, n - i);

	if (l <= 0) {
		*cp = BYTE0 + s[i];
		return 1;
	}
	wb_utf8_decode(s + i, (size_t)l, cp);
	return (size_t)l;
}

/* Write code point c (valid) as UTF-8 at o; its length. */
static size_t
encode(uint32_t c, unsigned char *o)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (c >> 12));
		o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (c >> 18));
	o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

struct buf {
	uint32_t *c;
	size_t n, cap;
};

static int
push(struct buf *b, uint32_t c)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		uint32_t *p = realloc(b->c, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		b->c = p;
		b->cap = cap;
	}
	b->c[b->n++] = c;
	return 0;
}

/* Push the full canonical decomposition of c. */
static int
decompose(struct buf *b, uint32_t c)
{
	size_t lo = 0, hi = WB_NELEM(wb_nfc_decomp);

	if (c >= SBASE && c < SBASE + SCOUNT) {
		uint32_t s = c - SBASE, t = s % TCOUNT;

		if (push(b, LBASE + s / NCOUNT) != 0 ||
		    push(b, VBASE + (s % NCOUNT) / TCOUNT) != 0)
			return -1;
		return t != 0 ? push(b, TBASE + t) : 0;
	}
	if (c < BYTE0 && (wb_nfc_info(c) & WB_NFC_MAYBE)) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (wb_nfc_decomp[mid].cp < c)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < WB_NELEM(wb_nfc_decomp) && wb_nfc_decomp[lo].cp == c) {
			for (size_t k = 0; k < wb_nfc_decomp[lo].len; k++)
				if (push(b, wb_nfc_dchars[wb_nfc_decomp[lo].off +
				    k]) != 0)
					return -1;
			return 0;
		}
	}
	return push(b, c);
}

/* Order c[0..n) (all combining) by class, stably. */
static int
order(uint32_t *c, size_t n)
{
	size_t count[256] = { 0 }, at = 0;
	uint32_t *tmp;

	if (n < 32) {
		for (size_t i = 1; i < n; i++) {
			uint32_t x = c[i];
			size_t j = i;

			for (; j > 0 && ccc(c[j - 1]) > ccc(x); j--)
				c[j] = c[j - 1];
			c[j] = x;
		}
		return 0;
	}
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		count[ccc(c[i])]++;
	for (size_t k = 0; k < 256; k++) {
		size_t m = count[k];

		count[k] = at;
		at += m;
	}
	for (size_t i = 0; i < n; i++)
		tmp[count[ccc(c[i])]++] = c[i];
	memcpy(c, tmp, n * sizeof(*tmp));
	free(tmp);
	return 0;
}

/* The primary composite of a and b, or NONE. */
static uint32_t
compose(uint32_t a, uint32_t b)
{
	size_t lo = 0, hi = WB_NELEM(wb_nfc_pairs);

	if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
		return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
	if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 &&
	    b > TBASE && b < TBASE + TCOUNT)
		return a + (b - TBASE);
	if (a >= BYTE0 || b >= BYTE0 || !(wb_nfc_info(b) & WB_NFC_MAYBE))
		return NONE;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct wb_nfc_pair *p = &wb_nfc_pairs[mid];

		if (p->a < a || (p->a == a && p->b < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < WB_NELEM(wb_nfc_pairs) && wb_nfc_pairs[lo].a == a &&
	    wb_nfc_pairs[lo].b == b)
		return wb_nfc_pairs[lo].c;
	return NONE;
}

/* Compose c[0..n) in place; the new length. */
static size_t
compose_all(uint32_t *c, size_t n)
{
	size_t starter = 0, out = 1;
	unsigned last;

	if (n == 0)
		return 0;
	last = ccc(c[0]) != 0 ? 256 : 0;
	for (size_t i = 1; i < n; i++) {
		uint32_t ch = c[i], x;
		unsigned cl = ccc(ch);

		if ((last < cl || last == 0) && (x = compose(c[starter],
		    ch)) != NONE) {
			c[starter] = x;
			continue;
		}
		if (cl == 0)
			starter = out;
		last = cl;
		c[out++] = ch;
	}
	return out;
}

int
wb_nfc(const unsigned char *s, size_t n, unsigned char **out, size_t *len)
{
	struct buf b = { 0 };
	unsigned char *o;
	size_t i = 0, m, k;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0xCC) {   /* below U+0300: nothing to change */
			i++;
			continue;
		}
		m = decode(s, n, i, &cp);
		if (cp < BYTE0 && (wb_nfc_info(cp) & WB_NFC_MAYBE))
			break;
		i += m;
	}
	if (i == n)
		return 0;
	for (i = 0; i < n; i += m) {
		m = decode(s, n, i, &cp);
		if (decompose(&b, cp) != 0)
			goto oom;
	}
	for (i = 0; i < b.n; i = k) {
		for (k = i; k < b.n && ccc(b.c[k]) != 0; k++)
			;
		if (k > i + 1 && order(b.c + i, k - i) != 0)
			goto oom;
		if (k == i)
			k++;
	}
	b.n = compose_all(b.c, b.n);
	if ((o = malloc(4 * b.n + 1)) == NULL)
		goto oom;
	*len = 0;
	for (i = 0; i < b.n; i++) {
		if (b.c[i] >= BYTE0)
			o[(*len)++] = (unsigned char)(b.c[i] - BYTE0);
		else
			*len += encode(b.c[i], o + *len);
	}
	free(b.c);
	*out = o;
	return 1;
oom:
	free(b.c);
	return -1;
}
