/* pretok.c: tiktoken's split patterns, written out by hand.
 *
 * Each function returns the end of the match that the pattern's regex finds
 * at position i.  fancy-regex matches like a backtracking engine: the
 * alternatives are tried in order and the first that matches wins; a greedy
 * quantifier takes as much as it can and gives back one character at a
 * time.  Every character is a letter, a number, white space or something
 * else, and each of these starts some alternative, so a match always starts
 * at i and the pieces cover the text.
 *
 * Classes (lib/unicode_tables.h): L = \p{L}, N = \p{N}, S = \s, and for
 * o200k UP = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], LO = [\p{Ll}\p{Lm}\p{Lo}\p{M}].
 * "Other" is [^\s\p{L}\p{N}], which includes the marks \p{M}.
 */
#include <stdint.h>

#include "pretok.h"
#include "unicode_tables.h"

#define BADCP 0x110000u   /* a byte that is not part of valid UTF-8 */
#define LNS (WB_UC_L | WB_UC_N | WB_UC_S)
#define NONE ((size_t)-1)

/* A table of classes: Unicode 16.0's, or llama.cpp's. */
struct tab {
	const uint8_t *s1, *s2;
};

_Static_assert(WB_UC_SHIFT == WB_UCL_SHIFT, "one block size for both tables");
static const struct tab hf_tab = { wb_uc_stage1, wb_uc_stage2 };
static const struct tab llama_tab = { wb_ucl_stage1, wb_ucl_stage2 };

static inline int
cont(unsigned char b)
{
	return (b & 0xC0) == 0x80;
}

/* Decode the character at s[i] (i < n): its code point (BADCP for an
 * invalid byte) and class; returns its length in bytes. */
static inline __attribute__((always_inline)) size_t
next(const struct tab *t, const unsigned char *s, size_t n, size_t i, uint32_t *cp, unsigned *k)
{
	unsigned c = s[i];
	uint32_t v;
	size_t l;

	if (c < 0x80) {
		*cp = c;
		*k = t->s2[c];  /* block 0 holds ASCII */
		return 1;
	}
	if (c < 0xC2)
		goto bad;
	if (c < 0xE0) {
		if (i + 1 >= n || !cont(s[i + 1]))
			goto bad;
		v = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3Fu);
		l = 2;
	} else if (c < 0xF0) {
		if (i + 2 >= n || !cont(s[i + 1]) || !cont(s[i + 2]))
			goto bad;
		v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
		    (s[i + 2] & 0x3Fu);
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			goto bad;
		l = 3;
	} else if (c < 0xF5) {
		if (i + 3 >= n || !cont(s[i + 1]) || !cont(s[i + 2]) || !cont(s[i + 3]))
			goto bad;
		v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
		    ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3Fu);
		if (v < 0x10000 || v > 0x10FFFF)
			goto bad;
		l = 4;
	} else {
		goto bad;
	}
	*cp = v;
	*k = t->s2[((uint32_t)t->s1[v >> WB_UC_SHIFT] << WB_UC_SHIFT) |
	    (v & ((1u << WB_UC_SHIFT) - 1))];
	return l;
bad:
	*cp = BADCP;
	*k = 0;
	return 1;
}

/* The class of the character at s[i], 0 past the end. */
static inline unsigned
class_at(const struct tab *t, const unsigned char *s, size_t n, size_t i, uint32_t *cp, size_t *l)
{
	unsigned k;

	if (i >= n) {
		*cp = BADCP;
		*l = 0;
		return 0;
	}
	*l = next(t, s, n, i, cp, &k);
	return k;
}

/* End of the run of characters from i whose class meets mask. */
static inline size_t
run(const struct tab *t, const unsigned char *s, size_t n, size_t i, unsigned mask)
{
	while (i < n) {
		uint32_t cp;
		unsigned k;
		size_t l = next(t, s, n, i, &cp, &k);

		if (!(k & mask))
			break;
		i += l;
	}
	return i;
}

/* End of the run of "other" characters from i: [^\s\p{L}\p{N}]*. */
static inline size_t
run_other(const struct tab *t, const unsigned char *s, size_t n, size_t i)
{
	while (i < n) {
		uint32_t cp;
		unsigned k;
		size_t l = next(t, s, n, i, &cp, &k);

		if (k & LNS)
			break;
		i += l;
	}
	return i;
}

/* End of \p{N}{1,3} from i (s[i] is a number). */
static size_t
digits3(const struct tab *t, const unsigned char *s, size_t n, size_t i)
{
	for (int c = 0; c < 3 && i < n; c++) {
		uint32_t cp;
		unsigned k;
		size_t l = next(t, s, n, i, &cp, &k);

		if (!(k & WB_UC_N))
			break;
		i += l;
	}
	return i;
}

/* The white-space alternatives at i (s[i] is white space):
 *   nl:  \s*[\r\n]+  when nl is set: ends after the last \r or \n of the
 *        run of white space, if there is one;
 *   then \s+(?!\S): the whole run at the end of input, else the run less
 *        its last character, if that leaves something;
 *   then \s+: the whole run. */
static size_t
space(const struct tab *t, const unsigned char *s, size_t n, size_t i, int nl)
{
	size_t j = i, last = i, nl_end = NONE;

	while (j < n) {
		uint32_t cp;
		unsigned k;
		size_t l = next(t, s, n, j, &cp, &k);

		if (!(k & WB_UC_S))
			break;
		if (cp == '\r' || cp == '\n')
			nl_end = j + l;
		last = j;
		j += l;
	}
	if (nl && nl_end != NONE)
		return nl_end;
	if (j == n || last == i)
		return j;
	return last;
}

/* Length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at i, or 0.  Under (?i) the
 * regex crate folds s to [sSſ] (U+017F), unless ascii (llama.cpp's
 * (?:'[sS]|'[tT]|...)); the other letters have no non-ASCII case
 * variants. */
static size_t
contraction_ci(const unsigned char *s, size_t n, size_t i, int ascii)
{
	unsigned a, b;

	if (i + 1 >= n || s[i] != '\'')
		return 0;
	a = s[i + 1] | 0x20u;  /* ASCII lower case; other bytes stay >= 0x80 */
	switch (a) {
	case 's':
	case 't':
	case 'm':
	case 'd':
		if (s[i + 1] < 0x80)
			return 2;
		return 0;
	case 'r':
	case 'v':
	case 'l':
		if (s[i + 1] >= 0x80 || i + 2 >= n)
			return 0;
		b = s[i + 2] | 0x20u;
		if (s[i + 2] < 0x80 && b == (a == 'l' ? 'l' : 'e'))
			return 3;
		return 0;
	default:
		if (!ascii && s[i + 1] == 0xC5 && i + 2 < n && s[i + 2] == 0xBF)
			return 3;  /* 'ſ */
		return 0;
	}
}

/* 's|'t|'re|'ve|'m|'ll|'d (case-sensitive) at i, or 0. */
static size_t
contraction_cs(const unsigned char *s, size_t n, size_t i)
{
	if (i + 1 >= n || s[i] != '\'')
		return 0;
	switch (s[i + 1]) {
	case 's':
	case 't':
	case 'm':
	case 'd':
		return 2;
	case 'r':
	case 'v':
		return i + 2 < n && s[i + 2] == 'e' ? 3 : 0;
	case 'l':
		return i + 2 < n && s[i + 2] == 'l' ? 3 : 0;
	default:
		return 0;
	}
}

/* [\r\n]* from i, or [\r\n/]* when slash is set. */
static size_t
newlines(const unsigned char *s, size_t n, size_t i, int slash)
{
	while (i < n && (s[i] == '\r' || s[i] == '\n' || (slash && s[i] == '/')))
		i++;
	return i;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t
r50k(const struct tab *t, const unsigned char *s, size_t n, size_t i)
{
	uint32_t c, c2;
	unsigned k, k2;
	size_t l, l2, m;

	if ((m = contraction_cs(s, n, i)) != 0)
		return i + m;
	k = class_at(t, s, n, i, &c, &l);
	if (c == ' ' && i + 1 < n) {
		k2 = class_at(t, s, n, i + 1, &c2, &l2);
		if (k2 & WB_UC_L)
			return run(t, s, n, i + 1 + l2, WB_UC_L);
		if (k2 & WB_UC_N)
			return run(t, s, n, i + 1 + l2, WB_UC_N);
		if (!(k2 & LNS))
			return run_other(t, s, n, i + 1 + l2);
	}
	if (k & WB_UC_L)
		return run(t, s, n, i + l, WB_UC_L);
	if (k & WB_UC_N)
		return run(t, s, n, i + l, WB_UC_N);
	if (!(k & LNS))
		return run_other(t, s, n, i + l);
	return space(t, s, n, i, 0);
}

/* cl100k: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *         ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t
cl100k(const struct tab *t, const unsigned char *s, size_t n, size_t i, int ascii,
    int digits)
{
	uint32_t c, c2;
	unsigned k, k2;
	size_t l, l2, m;

	if ((m = contraction_ci(s, n, i, ascii)) != 0)
		return i + m;
	k = class_at(t, s, n, i, &c, &l);
	if (k & WB_UC_L)
		return run(t, s, n, i + l, WB_UC_L);
	k2 = class_at(t, s, n, i + l, &c2, &l2);
	if (c != '\r' && c != '\n' && !(k & WB_UC_N) && (k2 & WB_UC_L))
		return run(t, s, n, i + l + l2, WB_UC_L);
	if (k & WB_UC_N)
		return digits == 3 ? digits3(t, s, n, i) : i + l;
	if (c == ' ' && l2 != 0 && !(k2 & LNS))
		return newlines(s, n, run_other(t, s, n, i + 1 + l2), 0);
	if (!(k & LNS))
		return newlines(s, n, run_other(t, s, n, i + l), 0);
	return space(t, s, n, i, 1);
}

/* Length of the optional contraction after an o200k word. */
static size_t
o200k_tail(const unsigned char *s, size_t n, size_t i, int con)
{
	return con ? i + contraction_ci(s, n, i, con == 2) : i;
}

/* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:...)? at j;
 * 0 if it does not match.  The greedy UP* gives back characters until the
 * next one is LO: that is the character right after the UP run if it is
 * LO, else the last LO character inside the run.  Each character is
 * decoded once: the one that ends the UP run is the first of the LO run
 * or the end, and after the last LO character inside the run none is LO. */
static size_t
o200k_lower(const struct tab *t, const unsigned char *s, size_t n, size_t j,
    int con)
{
	size_t u = j, lo = NONE, lol = 0, l = 0;
	uint32_t cp;
	unsigned k = 0;

	while (u < n) {
		l = next(t, s, n, u, &cp, &k);
		if (!(k & WB_UC_UP))
			break;
		if (k & WB_UC_LO) {
			lo = u;
			lol = l;
		}
		u += l;
	}
	if (u < n && (k & WB_UC_LO))
		return o200k_tail(s, n, run(t, s, n, u + l, WB_UC_LO), con);
	if (lo == NONE)
		return 0;
	return o200k_tail(s, n, lo + lol, con);
}

/* o200k:
 *   [^\r\n\p{L}\p{N}]?[UP]*[LO]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *  |[^\r\n\p{L}\p{N}]?[UP]+[LO]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *  |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * The optional first character may be a mark (\p{M} is not \p{L}), so the
 * version without it is tried when the version with it fails. */
static size_t
o200k(const struct tab *t, const unsigned char *s, size_t n, size_t i, int con,
    int digits)
{
	uint32_t c, c2;
	unsigned k, k2;
	size_t l, l2, e, j;
	int pre;

	k = class_at(t, s, n, i, &c, &l);
	pre = c != '\r' && c != '\n' && !(k & (WB_UC_L | WB_UC_N)) && i + l < n;
	if (pre && (e = o200k_lower(t, s, n, i + l, con)) != 0)
		return e;
	if ((e = o200k_lower(t, s, n, i, con)) != 0)
		return e;
	k2 = class_at(t, s, n, i + l, &c2, &l2);
	j = NONE;
	if (pre && (k2 & WB_UC_UP))
		j = i + l;
	else if (k & WB_UC_UP)
		j = i;
	if (j != NONE) {
		e = run(t, s, n, j, WB_UC_UP);
		return o200k_tail(s, n, run(t, s, n, e, WB_UC_LO), con);
	}
	if (k & WB_UC_N)
		return digits == 3 ? digits3(t, s, n, i) : i + l;
	if (c == ' ' && l2 != 0 && !(k2 & LNS))
		return newlines(s, n, run_other(t, s, n, i + 1 + l2), 1);
	if (!(k & LNS))
		return newlines(s, n, run_other(t, s, n, i + l), 1);
	return space(t, s, n, i, 1);
}

/* DeepSeek V3's Sequence of three Splits, each Isolated:
 *   \p{N}{1,3}
 *   [一-龥぀-ゟ゠-ヿ]+   (U+4E00..U+9FA5, U+3040..U+30FF)
 *   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?
 *   [\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * A number is a piece of its own; the third pattern splits each run of
 * those CJK characters and each stretch of text between them and the
 * numbers as if it were the whole input: its matches, and the text between
 * two matches (characters none of whose alternatives match: controls,
 * format characters, ...).  (The CJK ranges hold punctuation, symbols and
 * marks too: ・ ゠ ゛ ゜ and the combining sound marks.) */
static int
cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF);
}

/* The class of the character at i, 0 with *l = 0 where the stretch ends:
 * the end of the text, and in a CJK run (cj) a character that is not CJK,
 * else a number or a CJK character. */
static unsigned
ds_at(const struct tab *t, const unsigned char *s, size_t n, size_t i,
    uint32_t *cp, size_t *l, int cj)
{
	unsigned k = class_at(t, s, n, i, cp, l);

	if (*l == 0 || (cj ? !cjk(*cp) : (k & WB_UC_N) || cjk(*cp))) {
		*l = 0;
		return 0;
	}
	return k;
}

/* End of the run from i, within the stretch, of characters whose class
 * meets mask. */
static size_t
ds_run(const struct tab *t, const unsigned char *s, size_t n, size_t i,
    unsigned mask, int cj)
{
	uint32_t cp;
	size_t l;

	while ((ds_at(t, s, n, i, &cp, &l, cj) & mask) && l != 0)
		i += l;
	return i;
}

/* Does an alternative of the third pattern match at i?  (A match is
 * never empty.)  Its end, else 0. */
static size_t
ds_match(const struct tab *t, const unsigned char *s, size_t n, size_t i,
    int cj)
{
	uint32_t c, c2;
	size_t l, l2, j, last, nl_end;
	unsigned k = ds_at(t, s, n, i, &c, &l, cj), k2;

	if (l == 0)
		return 0;
	k2 = ds_at(t, s, n, i + l, &c2, &l2, cj);
	if (c < 0x80 && (k & (WB_UC_P | WB_UC_SY)) && c2 < 0x80 &&
	    (c2 | 0x20u) >= 'a' && (c2 | 0x20u) <= 'z') {
		for (j = i + 2; j < n && (s[j] | 0x20u) >= 'a' &&
		    (s[j] | 0x20u) <= 'z'; j++)
			;
		return j;
	}
	if (c != '\r' && c != '\n' && !(k & (WB_UC_L | WB_UC_P | WB_UC_SY)) &&
	    (k2 & (WB_UC_L | WB_UC_M)))
		return ds_run(t, s, n, i + l + l2, WB_UC_L | WB_UC_M, cj);
	if (k & (WB_UC_L | WB_UC_M))
		return ds_run(t, s, n, i + l, WB_UC_L | WB_UC_M, cj);
	/* (a CJK run holds no \r or \n) */
	if (c == ' ' && (k2 & (WB_UC_P | WB_UC_SY)))
		return newlines(s, n, ds_run(t, s, n, i + 1 + l2,
		    WB_UC_P | WB_UC_SY, cj), 0);
	if (k & (WB_UC_P | WB_UC_SY)) {
		j = ds_run(t, s, n, i + l, WB_UC_P | WB_UC_SY, cj);
		return cj ? j : newlines(s, n, j, 0);
	}
	if (!(k & WB_UC_S))
		return 0;
	/* \s*[\r\n]+ | \s+(?!\S) | \s+, the stretch's end as the end */
	j = last = i;
	nl_end = NONE;
	for (;;) {
		k = ds_at(t, s, n, j, &c, &l, cj);
		if (l == 0 || !(k & WB_UC_S))
			break;
		if (c == '\r' || c == '\n')
			nl_end = j + l;
		last = j;
		j += l;
	}
	if (nl_end != NONE)
		return nl_end;
	ds_at(t, s, n, j, &c, &l, cj);
	if (l == 0 || last == i)
		return j;
	return last;
}

static size_t
deepseek3(const struct tab *t, const unsigned char *s, size_t n, size_t i)
{
	uint32_t c;
	size_t l, e;
	unsigned k = class_at(t, s, n, i, &c, &l);
	int cj = cjk(c);

	if (k & WB_UC_N)
		return digits3(t, s, n, i);
	if ((e = ds_match(t, s, n, i, cj)) != 0)
		return e;
	/* text that no alternative matches, up to where one does */
	for (e = i + l; ds_at(t, s, n, e, &c, &l, cj), l != 0; e += l)
		if (ds_match(t, s, n, e, cj) != 0)
			break;
	return e;
}

size_t
wb_pretok_next(enum wb_pat pat, const unsigned char *s, size_t n, size_t i)
{
	switch (pat) {
	case WB_PAT_CL100K:
		return cl100k(&hf_tab, s, n, i, 0, 3);
	case WB_PAT_LLAMA3:
		return cl100k(&llama_tab, s, n, i, 1, 3);
	case WB_PAT_QWEN2:
		return cl100k(&hf_tab, s, n, i, 0, 1);
	case WB_PAT_QWEN2_LLAMA:
		return cl100k(&llama_tab, s, n, i, 1, 1);
	case WB_PAT_O200K:
		return o200k(&hf_tab, s, n, i, 1, 3);
	case WB_PAT_O200K_LLAMA:
		return o200k(&llama_tab, s, n, i, 2, 3);
	case WB_PAT_TEKKEN:
		return o200k(&hf_tab, s, n, i, 0, 1);
	case WB_PAT_TEKKEN_LLAMA:
		return o200k(&llama_tab, s, n, i, 0, 1);
	case WB_PAT_DEEPSEEK3:
		return deepseek3(&hf_tab, s, n, i);
	case WB_PAT_DEEPSEEK3_LLAMA:
		return deepseek3(&llama_tab, s, n, i);
	case WB_PAT_GPT2_LLAMA:
		return r50k(&llama_tab, s, n, i);
	case WB_PAT_R50K:
	default:
		return r50k(&hf_tab, s, n, i);
	}
}
