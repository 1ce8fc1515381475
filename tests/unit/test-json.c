/*
 * test-json.c: the record reader and writer against jansson itself.
 *
 * Whatever wb_json_parse() accepts, json_loadb() must accept as the same
 * value; whatever jansson refuses, wb_json_parse() must refuse too (and
 * wb_json_loadb() then gives jansson's own error). wb_json_dump() must
 * write the bytes json_dumpb() writes.
 */
#include "wb_priv.h"
#include "unit.h"

#define FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static char *
jansson_dump(const json_t *j, int precision, size_t *len)
{
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(precision);
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *s;

	if (n == 0)
		return NULL;
	s = malloc(n);
	*len = json_dumpb(j, s, n, flags);
	return s;
}

/* Our dump of j equals jansson's, failures included. */
static bool
same_dump(const json_t *j, int precision)
{
	char stack[16];  /* small: the heap path is taken too */
	struct wb_buf b = { .p = stack, .cap = sizeof(stack) };
	size_t n = 0;
	char *s = jansson_dump(j, precision, &n);
	int r = wb_json_dump(j, precision, &b);
	bool ok = s == NULL ? r != 0 :
	    r == 0 && b.len == n && memcmp(b.p, s, n) == 0;

	if (!ok)
		fprintf(stderr, "dump differs: jansson '%.*s', ours '%.*s'\n",
		    s ? (int)n : 4, s ? s : "fail", r ? 4 : (int)b.len,
		    r ? "fail" : b.p);
	free(s);
	free(b.heap);
	return ok;
}

/*
 * Parse buf both ways; the two must agree. fast: the fast path must
 * take it (a common record must not fall back to jansson).
 */
static bool
agree(const char *buf, size_t len, bool fast)
{
	json_error_t je;
	json_t *a = wb_json_parse(buf, len);
	json_t *b = json_loadb(buf, len, FLAGS, &je);
	json_t *c = wb_json_loadb(buf, len, &je);
	bool ok;

	if (a == NULL)
		ok = !fast && (b == NULL) == (c == NULL);
	else
		ok = b != NULL && json_equal(a, b) && json_equal(b, c) &&
		    same_dump(a, 17) && same_dump(b, 17);
	if (a != NULL && b != NULL) {
		/* json_equal says 0.0 == -0.0: the bytes tell them apart. */
		char *x = json_dumps(a, JSON_COMPACT | JSON_DECODE_ANY |
		    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		char *y = json_dumps(b, JSON_COMPACT | JSON_DECODE_ANY |
		    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		ok = ok && x != NULL && y != NULL && strcmp(x, y) == 0;
		free(x);
		free(y);
	}
	if (!ok)
		fprintf(stderr, "disagree on '%.*s': ours %s, jansson %s (%s)\n",
		    (int)len, buf, a ? "ok" : "refused", b ? "ok" : "refused",
		    b ? "" : je.text);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	return ok;
}

#define AGREE(s) CHECK(agree(s, sizeof(s) - 1, false))
#define FAST(s) CHECK(agree(s, sizeof(s) - 1, true))
#define REFUSED(s) do { \
	json_t *j_ = wb_json_parse(s, sizeof(s) - 1); \
	CHECK(j_ == NULL); \
	json_decref(j_); \
	AGREE(s); \
} while (0)

static void
test_values(void)
{
	FAST("{}");
	FAST(" {\"a\" : 1 ,\n\t\"b\":[true,false,null,-0,0.5,\"x\"]}\r\n");
	FAST("[]");
	FAST("\"\"");
	FAST("[[[[]]]]");
	FAST("{\"a\":{\"b\":{\"c\":{}}}}");
	FAST("{\"a\":1,\"a\":2,\"b\":3,\"a\":4}");  /* last wins, first place */
	FAST("{\"\":\"empty key\"}");
	FAST("{\"sections\":{\"scene\":\"A tavern.\",\"character\":\"Mira\"}}");
	REFUSED("");
	REFUSED("   ");
	REFUSED("{");
	REFUSED("{\"a\"}");
	REFUSED("{\"a\":}");
	REFUSED("{\"a\":1,}");
	REFUSED("[1,]");
	REFUSED("[,1]");
	REFUSED("{,}");
	REFUSED("{\"a\" 1}");
	REFUSED("{1:2}");
	REFUSED("{} {}");
	REFUSED("{}x");
	REFUSED("[1 2]");
	REFUSED("]");
	REFUSED("{]");
	REFUSED("[}");
	REFUSED("{\"a\":1}\0");
	REFUSED("\0{}");
}

static void
test_literals(void)
{
	FAST("true");
	FAST("false");
	FAST("null");
	FAST("[true,false,null]");
	REFUSED("tru");
	REFUSED("truex");
	REFUSED("nul");
	REFUSED("nullx");
	REFUSED("True");
	REFUSED("[true1]");
	REFUSED("[null_]");
	REFUSED("falsetrue");
}

static void
test_numbers(void)
{
	FAST("0");
	FAST("-0");
	FAST("7");
	FAST("-7");
	FAST("123456789012345678");
	FAST("-123456789012345678");
	FAST("1234567890123456789");
	FAST("9223372036854775807");
	FAST("-9223372036854775808");
	FAST("0.1");
	FAST("-0.0");
	FAST("1e5");
	FAST("1E5");
	FAST("1e+5");
	FAST("1e-5");
	FAST("1.5e300");
	FAST("1e-400");          /* underflow: jansson takes it */
	FAST("2.2250738585072011e-308");
	FAST("4.9406564584124654e-324");
	FAST("[0,1,-1,10,0.25,1e2]");
	FAST("123.456");
	FAST("0.30000000000000004");
	REFUSED("9223372036854775808");
	REFUSED("-9223372036854775809");
	REFUSED("99999999999999999999999");
	REFUSED("1e400");
	REFUSED("-1e400");
	REFUSED("01");
	REFUSED("-01");
	REFUSED("00");
	REFUSED("-");
	REFUSED("+1");
	REFUSED("1.");
	REFUSED(".5");
	REFUSED("1.e5");
	REFUSED("1e");
	REFUSED("1e+");
	REFUSED("1e-");
	REFUSED("0x10");
	REFUSED("1.5.5");
	REFUSED("--1");
	REFUSED("NaN");
	REFUSED("Infinity");
	/* Longer than the fast path copies: jansson decides, the same way. */
	AGREE("0.000000000000000000000000000000000000000000000000000000000001");
	AGREE("1.0000000000000000000000000000000000000000000000000000000000001e1");
}

static void
test_strings(void)
{
	FAST("\"plain\"");
	FAST("\"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\"");
	FAST("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
	FAST("\"\\u0041\\u00e9\\u00E9\\u4e2d\\uFFFF\"");
	FAST("\"\\ud83d\\ude00\"");          /* a surrogate pair */
	FAST("\"\\u0000 inside\"");            /* NUL in a value: allowed */
	FAST("\"\x7F\"");
	FAST("\"a long text, longer than eight bytes, with \\\"quotes\\\"\"");
	FAST("{\"k\\u00e9y\":\"v\\nal\"}");
	FAST("{\"\\u0041\":\"\\u0042\",\"A\":1}");  /* escaped key = plain key */
	REFUSED("\"");
	REFUSED("\"abc");
	REFUSED("\"abc\\\"");
	REFUSED("\"\\x\"");
	REFUSED("\"\\u12\"");
	REFUSED("\"\\u12G4\"");
	REFUSED("\"\\ud83d\"");               /* high surrogate alone */
	REFUSED("\"\\ud83dx\"");
	REFUSED("\"\\ud83d\\u0041\"");
	REFUSED("\"\\ude00\"");               /* low surrogate alone */
	REFUSED("\"tab\there\"");
	REFUSED("\"new\nline\"");
	REFUSED("\"\x01\"");
	REFUSED("\"\x1F\"");
	REFUSED("\"\xFF\"");
	REFUSED("\"\xC0\x80\"");             /* overlong NUL */
	REFUSED("\"\xC3\"");
	REFUSED("\"\xC3x\"");
	REFUSED("\"\xE0\x80\x80\"");
	REFUSED("\"\xED\xA0\x80\"");          /* a surrogate in UTF-8 */
	REFUSED("\"\xF4\x90\x80\x80\"");      /* above U+10FFFF */
	REFUSED("\"\xF5\x80\x80\x80\"");
	REFUSED("\"\x80\"");
	REFUSED("\"\\u00e9\xA9\"");
	REFUSED("\"abcdefgh\xC3\"");
	REFUSED("{\"a\\u0000b\":1}");         /* NUL in a key: refused */
	REFUSED("[\"\xE4\xB8\"]");
}

static void
test_depth(void)
{
	char *b = malloc(2 * (JSON_PARSER_MAX_DEPTH + 1) + 1);
	size_t d;

	for (d = JSON_PARSER_MAX_DEPTH; d <= JSON_PARSER_MAX_DEPTH + 1; d++) {
		memset(b, '[', d);
		memset(b + d, ']', d);
		CHECK(agree(b, 2 * d, d == JSON_PARSER_MAX_DEPTH));
	}
	free(b);
}

/* A random JSON-like text: mostly valid, with the odd piece that is not. */
static void
gen(char *b, size_t *n, size_t cap, int depth)
{
	static const char *atoms[] = {
		"0", "-0", "1", "-12", "3.25", "1e3", "-2.5E-3", "1e400", "01",
		"9223372036854775807", "9223372036854775808", "true", "false",
		"null", "tru", "\"\"", "\"a\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"",
		"\"\\ud83d\"", "\"\xC3\xA9\"", "\"\xC3\"", "\"a\\nb\"", "\"\\q\"",
		"\"\\u0000\"", "\"12345678\\\"9\"", "0.1", "1.", "-",
	};
	size_t i, k = (size_t)(unit_rand() % 4);
	int pick = (int)(unit_rand() % 8);

	if (*n + 64 >= cap)
		return;
	if (depth > 4 || pick < 4) {
		const char *a = atoms[unit_rand() % (sizeof(atoms) / sizeof(*atoms))];
		memcpy(b + *n, a, strlen(a));
		*n += strlen(a);
		return;
	}
	b[(*n)++] = pick < 6 ? '[' : '{';
	for (i = 0; i < k && *n + 64 < cap; i++) {
		if (i > 0)
			b[(*n)++] = ',';
		if (unit_rand() % 5 == 0)
			b[(*n)++] = ' ';
		if (pick >= 6) {
			const char *key = unit_rand() % 3 ? "\"k\"" :
			    unit_rand() % 2 ? "\"k\\u0041\"" : "\"a\\u0000\"";
			memcpy(b + *n, key, strlen(key));
			*n += strlen(key);
			b[(*n)++] = ':';
		}
		gen(b, n, cap, depth + 1);
	}
	b[(*n)++] = pick < 6 ? ']' : '}';
}

static void
test_random(void)
{
	char b[4096];
	size_t n, i;
	int round, bad = 0;

	for (round = 0; round < 40000; round++) {
		n = 0;
		gen(b, &n, sizeof(b), 0);
		/* Break some: flip, drop or cut a byte. */
		switch (unit_rand() % 6) {
		case 0:
			if (n > 0)
				b[unit_rand() % n] ^= (char)(1u << (unit_rand() % 8));
			break;
		case 1:
			if (n > 0) {
				i = unit_rand() % n;
				memmove(b + i, b + i + 1, n - i - 1);
				n--;
			}
			break;
		case 2:
			if (n > 0)
				n = unit_rand() % n;
			break;
		}
		if (!agree(b, n, false))
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_dump(void)
{
	static const double reals[] = {
		0.1, 0.5, 1.0, -0.0, 0.0, 1e21, 1e22, 1e-7, 123456789.0, 1e100,
		5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
		0.30000000000000004, 3.141592653589793, 100.0, -2.5e-5, 1e5,
	};
	size_t i;
	int p;
	json_t *j, *o;

	for (i = 0; i < sizeof(reals) / sizeof(*reals); i++)
		for (p = 1; p <= 17; p++) {
			j = json_real(reals[i]);
			CHECK(same_dump(j, p));
			json_decref(j);
		}
	/* Precision 0: each real as jansson writes it with the fewest digits
	 * from 15 that read back, whatever its neighbours need. */
	for (i = 0; i < sizeof(reals) / sizeof(*reals); i++) {
		char stack[8], buf[40];
		struct wb_buf b = { .p = stack, .cap = sizeof(stack) };
		size_t n = 0;
		char *want;

		for (p = 15; p < 17; p++) {
			snprintf(buf, sizeof(buf), "%.*g", p, reals[i]);
			if (strtod(buf, NULL) == reals[i])
				break;
		}
		j = json_pack("[f,f]", reals[i], 0.1);
		o = json_pack("[f,f]", reals[i], 0.1);
		want = jansson_dump(json_array_get(j, 0), p, &n);
		CHECK(wb_json_dump(o, 0, &b) == 0);
		CHECK(b.len == n + 6 && memcmp(b.p + 1, want, n) == 0 &&
		    memcmp(b.p + n + 1, ",0.1]", 5) == 0);
		free(want);
		free(b.heap);
		json_decref(j);
		json_decref(o);
	}
	/* Every control character, and text outside the BMP. */
	char s[40];
	for (i = 0; i < 32; i++)
		s[i] = (char)i;
	memcpy(s + 32, "\"\\/\x7F\xF0\x9F\x98\x80", 8);
	j = json_stringn(s, 40);
	CHECK(same_dump(j, 17));
	o = json_pack("{s:o,s:[i,f,b,n],s:{}}", "k\n\"ey", j, "a",
	    (json_int_t)-5, 0.25, 1, "empty");
	CHECK(same_dump(o, 17));
	json_decref(o);
	/* Not UTF-8: neither writes it. */
	j = json_stringn_nocheck("a\xFF", 2);
	CHECK(same_dump(j, 17));
	json_decref(j);
	/* Big enough to leave the caller's buffer several times. */
	o = json_array();
	for (i = 0; i < 5000; i++)
		json_array_append_new(o, json_string("some text, \"quoted\"\t"));
	CHECK(same_dump(o, 17));
	json_decref(o);
}

int
main(void)
{
	unit_seed();
	RUN(test_values);
	RUN(test_literals);
	RUN(test_numbers);
	RUN(test_strings);
	RUN(test_depth);
	RUN(test_random);
	RUN(test_dump);
	return UNIT_END();
}
