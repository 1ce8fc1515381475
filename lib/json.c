/*
 * json.c: read and write records as jansson does, several times faster.
 *
 * wb_json_loadb() accepts what json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL)
 * accepts and builds the same value with the same calls; whatever it is
 * not sure of (any error, a number it would have to round differently)
 * it hands to json_loadb, so messages and corner cases are jansson's own.
 * wb_json_dump() writes the bytes json_dumpf(JSON_COMPACT |
 * JSON_REAL_PRECISION(p)) writes; with p = 0 each real gets the fewest
 * digits from 15 to 17 that read back as the same number. Both are proven equal to jansson by
 * tests/unit/test-json and tests/fuzz/fuzz-json.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

#define MAX_DEPTH JSON_PARSER_MAX_DEPTH

struct parser {
	const unsigned char *p, *end;
	int depth;
	char *tmp;          /* decoded strings with escapes */
	size_t tmp_cap;
};

static const uint64_t ones = 0x0101010101010101ULL;
static const uint64_t highs = 0x8080808080808080ULL;

/* Does any byte of w equal zero? (exact, whatever the other bytes) */
static inline uint64_t
has_zero(uint64_t w)
{
	return (w - ones) & ~w & highs;
}

/* Does any byte of w need a look: '"', '\\' or a control character? */
static inline uint64_t
special(uint64_t w)
{
	return has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) |
	    has_zero(w & (ones * 0xE0));
}

static inline uint64_t
load8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static bool
utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;
	int n;

	while (i < len) {
		if (i + 8 <= len && (load8(s + i) & highs) == 0) {
			i += 8;
			continue;
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = wb_utf8_seqlen(s + i, len - i)) <= 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
	    *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int
hex4(const unsigned char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v += c - '0';
		else if (c >= 'a' && c <= 'f')
			v += c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v += c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t
put_utf8(char *t, uint32_t cp)
{
	if (cp < 0x80) {
		t[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		t[0] = (char)(0xC0 | cp >> 6);
		t[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		t[0] = (char)(0xE0 | cp >> 12);
		t[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	t[0] = (char)(0xF0 | cp >> 18);
	t[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	t[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	t[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the escapes of the string body b[0..n) into ps->tmp. */
static bool
unescape(struct parser *ps, const unsigned char *b, size_t n, size_t *len)
{
	const unsigned char *e = b + n;
	char *t;

	/* The text never grows: "\n" is 1 byte, "\uXXXX" at most 3. */
	if (ps->tmp_cap < n + 1) {
		char *nt = realloc(ps->tmp, n + 1);
		if (nt == NULL)
			return false;
		ps->tmp = nt;
		ps->tmp_cap = n + 1;
	}
	t = ps->tmp;
	while (b < e) {
		int v, w;

		if (*b != '\\') {
			*t++ = (char)*b++;
			continue;
		}
		b++;
		switch (*b++) {
		case '"':  *t++ = '"'; break;
		case '\\': *t++ = '\\'; break;
		case '/':  *t++ = '/'; break;
		case 'b':  *t++ = '\b'; break;
		case 'f':  *t++ = '\f'; break;
		case 'n':  *t++ = '\n'; break;
		case 'r':  *t++ = '\r'; break;
		case 't':  *t++ = '\t'; break;
		case 'u':
			if (e - b < 4 || (v = hex4(b)) < 0)
				return false;
			b += 4;
			if (v >= 0xDC00 && v <= 0xDFFF)
				return false;
			if (v >= 0xD800 && v <= 0xDBFF) {
				if (e - b < 6 || b[0] != '\\' || b[1] != 'u' ||
				    (w = hex4(b + 2)) < 0xDC00 || w > 0xDFFF)
					return false;
				b += 6;
				v = ((v - 0xD800) << 10) + (w - 0xDC00) + 0x10000;
			}
			t += put_utf8(t, (uint32_t)v);
			break;
		default:
			return false;
		}
	}
	*len = (size_t)(t - ps->tmp);
	return true;
}

/*
 * A string at ps->p (just past its '"'): its bytes in *s, *len, either in
 * the input or decoded into ps->tmp. False for anything jansson refuses.
 */
static bool
string(struct parser *ps, const char **s, size_t *len)
{
	const unsigned char *b = ps->p, *q = b, *end = ps->end;
	uint64_t high = 0, w;
	bool esc = false;

	for (;;) {
		while (end - q >= 8 && !special(w = load8(q))) {
			high |= w;
			q += 8;
		}
		if (q == end)
			return false;
		if (*q == '"')
			break;
		if (*q == '\\') {
			esc = true;
			if (++q == end)
				return false;
		} else if (*q < 0x20) {
			return false;
		} else {
			high |= *q;
		}
		q++;
	}
	ps->p = q + 1;
	if (!esc) {
		if ((high & highs) != 0 && !utf8_ok(b, (size_t)(q - b)))
			return false;
		*s = (const char *)b;
		*len = (size_t)(q - b);
		return true;
	}
	if (!unescape(ps, b, (size_t)(q - b), len) ||
	    !utf8_ok((const unsigned char *)ps->tmp, *len))
		return false;
	*s = ps->tmp;
	return true;
}

static bool
is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static json_t *
number(struct parser *ps)
{
	const unsigned char *b = ps->p, *p = b, *end = ps->end;
	bool neg = false, real = false;
	char buf[64];
	size_t n;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!is_digit(p, end))
		return NULL;
	if (*p == '0') {
		if (is_digit(++p, end))
			return NULL;
	} else {
		while (is_digit(p, end))
			p++;
	}
	if (p < end && *p == '.') {
		real = true;
		if (!is_digit(++p, end))
			return NULL;
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return NULL;
		while (is_digit(p, end))
			p++;
	}
	ps->p = p;
	n = (size_t)(p - b);
	if (!real && n - neg <= 18) {
		json_int_t v = 0;
		for (const unsigned char *d = b + neg; d < p; d++)
			v = v * 10 + (*d - '0');
		return json_integer(neg ? -v : v);
	}
	/* Long numbers: the same library call jansson makes, or jansson. */
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, b, n);
	buf[n] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(buf, NULL, 10);
		return errno == ERANGE ? NULL : json_integer(v);
	}
	double d = strtod(buf, NULL);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return NULL;
	return json_real(d);
}

static bool
word(struct parser *ps, const char *w, size_t n)
{
	const unsigned char *p = ps->p;

	if ((size_t)(ps->end - p) < n || memcmp(p, w, n) != 0)
		return false;
	p += n;
	/* jansson reads a whole run of letters as one word. */
	if (p < ps->end && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		return false;
	ps->p = p;
	return true;
}

static json_t *value(struct parser *ps);

static json_t *
object(struct parser *ps)
{
	json_t *o = json_object(), *v;
	const char *k;
	char *key;
	size_t klen;

	if (o == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return o;
	}
	for (;;) {
		if (ps->p == ps->end || *ps->p != '"')
			goto fail;
		ps->p++;
		if (!string(ps, &k, &klen) || memchr(k, '\0', klen) != NULL)
			goto fail;
		/* The value may reuse ps->tmp: keep an unescaped key aside. */
		key = NULL;
		if (k == ps->tmp) {
			if ((key = malloc(klen + 1)) == NULL)
				goto fail;
			memcpy(key, k, klen);
			k = key;
		}
		skip_ws(ps);
		if (ps->p == ps->end || *ps->p != ':') {
			free(key);
			goto fail;
		}
		ps->p++;
		skip_ws(ps);
		v = value(ps);
		if (v == NULL || json_object_setn_new_nocheck(o, k, klen, v) != 0) {
			free(key);
			goto fail;
		}
		free(key);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return o;
		}
		goto fail;
	}
fail:
	json_decref(o);
	return NULL;
}

static json_t *
array(struct parser *ps)
{
	json_t *a = json_array(), *v;

	if (a == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return a;
	}
	for (;;) {
		if ((v = value(ps)) == NULL || json_array_append_new(a, v) != 0)
			break;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

/* The value at ps->p (white space skipped), or NULL. */
static json_t *
value(struct parser *ps)
{
	const char *s;
	json_t *v = NULL;
	size_t len;

	if (ps->p == ps->end || ++ps->depth > MAX_DEPTH)
		return NULL;
	switch (*ps->p) {
	case '{':
		ps->p++;
		v = object(ps);
		break;
	case '[':
		ps->p++;
		v = array(ps);
		break;
	case '"':
		ps->p++;
		if (string(ps, &s, &len))
			v = json_stringn_nocheck(s, len);
		break;
	case 't':
		if (word(ps, "true", 4))
			v = json_true();
		break;
	case 'f':
		if (word(ps, "false", 5))
			v = json_false();
		break;
	case 'n':
		if (word(ps, "null", 4))
			v = json_null();
		break;
	default:
		v = number(ps);
		break;
	}
	ps->depth--;
	return v;
}

json_t *
wb_json_parse(const char *buf, size_t len)
{
	struct parser ps = { (const unsigned char *)buf,
	    (const unsigned char *)buf + len, 0, NULL, 0 };
	json_t *v;

	skip_ws(&ps);
	v = value(&ps);
	if (v != NULL) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			json_decref(v);
			v = NULL;
		}
	}
	free(ps.tmp);
	return v;
}

json_t *
wb_json_loadb(const char *buf, size_t len, json_error_t *je)
{
	json_t *v = wb_json_parse(buf, len);

	if (v != NULL)
		return v;
	return json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, je);
}

/* Writing. */

static bool
put(struct wb_buf *b, const char *s, size_t n)
{
	return wb_buf_add(b, s, n) == 0;
}

static bool
put_string(struct wb_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n, *q;
	static const char hex[] = "0123456789ABCDEF";
	char esc[6];

	/* jansson refuses to write text that is not UTF-8. */
	if (!utf8_ok(p, n) || !put(b, "\"", 1))
		return false;
	while (p < e) {
		q = p;
		while (e - q >= 8 && !special(load8(q)))
			q += 8;
		while (q < e && *q != '"' && *q != '\\' && *q >= 0x20)
			q++;
		if (!put(b, (const char *)p, (size_t)(q - p)))
			return false;
		if (q == e)
			break;
		esc[0] = '\\';
		switch (*q) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = esc[3] = '0';
			esc[4] = hex[*q >> 4];
			esc[5] = hex[*q & 15];
			if (!put(b, esc, 6))
				return false;
			p = q + 1;
			continue;
		}
		if (!put(b, esc, 2))
			return false;
		p = q + 1;
	}
	return put(b, "\"", 1);
}

static bool
put_real(struct wb_buf *b, double d, int precision)
{
	char buf[100], *e, *s, *t;
	int n;

	if (!isfinite(d))
		return false;
	if (precision == 0) {
		/* The fewest digits from 15 that read back as d: 0.1 stays 0.1
		 * whatever else the record holds, 100.0 does not become 1e2. */
		for (precision = 15; precision < 17; precision++) {
			snprintf(buf, sizeof(buf), "%.*g", precision, d);
			if (strtod(buf, NULL) == d)
				break;
		}
	}
	n = snprintf(buf, sizeof(buf), "%.*g", precision, d);
	if (n < 0 || (size_t)n + 3 >= sizeof(buf))
		return false;
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	/* "1e+05" is written "1e5", "1e-05" "1e-5". */
	if ((e = strchr(buf, 'e')) != NULL) {
		s = e + 1;
		t = s + 1;
		if (*s == '-')
			s++;
		while (*t == '0')
			t++;
		if (t != s) {
			memmove(s, t, (size_t)(buf + n + 1 - t));
			n -= (int)(t - s);
		}
	}
	return put(b, buf, (size_t)n);
}

static bool
dump(const json_t *j, int precision, struct wb_buf *b, int depth)
{
	char num[32];
	const char *k;
	json_t *v;
	size_t i;
	bool first = true;

	if (depth > MAX_DEPTH * 4)
		return false;  /* built, not parsed: loops are possible */
	switch (json_typeof(j)) {
	case JSON_NULL:
		return put(b, "null", 4);
	case JSON_TRUE:
		return put(b, "true", 4);
	case JSON_FALSE:
		return put(b, "false", 5);
	case JSON_INTEGER: {
		/* printf("%lld"), without printf: records are full of them. */
		json_int_t iv = json_integer_value(j);
		unsigned long long u = iv < 0 ? 0ULL - (unsigned long long)iv :
		    (unsigned long long)iv;
		char *e = num + sizeof(num), *d = e;
		do
			*--d = (char)('0' + u % 10);
		while ((u /= 10) != 0);
		if (iv < 0)
			*--d = '-';
		return put(b, d, (size_t)(e - d));
	}
	case JSON_REAL:
		return put_real(b, json_real_value(j), precision);
	case JSON_STRING:
		return put_string(b, json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
		if (!put(b, "[", 1))
			return false;
		json_array_foreach(j, i, v)
			if ((i > 0 && !put(b, ",", 1)) ||
			    !dump(v, precision, b, depth + 1))
				return false;
		return put(b, "]", 1);
	case JSON_OBJECT:
		if (!put(b, "{", 1))
			return false;
		json_object_keylen_foreach((json_t *)j, k, i, v) {
			if ((!first && !put(b, ",", 1)) || !put_string(b, k, i) ||
			    !put(b, ":", 1) || !dump(v, precision, b, depth + 1))
				return false;
			first = false;
		}
		return put(b, "}", 1);
	}
	return false;
}

int
wb_json_dump(const json_t *j, int precision, struct wb_buf *b)
{
	return j != NULL && dump(j, precision, b, 0) ? 0 : -1;
}

const char *
wb_json_kind(const json_t *j)
{
	if (j == NULL)
		return "nothing";
	switch (json_typeof(j)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a number";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "unknown";
}
