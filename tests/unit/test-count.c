/* test-count.c: the heuristic counts, against the engine and a reference. */
#include "wb_priv.h"
#include "unit.h"

static uint64_t
count(enum wb_method m, const char *preset, const char *s)
{
	struct wb_counter *c = counter(m, preset);
	uint64_t n = wb_count(c, s, strlen(s));

	wb_counter_free(c);
	return n;
}

static void
engine_known_values(void)
{
	CHECK_U(count(WB_METHOD_CHAR, "default", "12345678901234567890"), 5);
	CHECK_U(count(WB_METHOD_WORD, "default", "one two three four five"), 7);
	CHECK_U(count(WB_METHOD_HYBRID, "default", "The quick brown fox jumps "
	    "over the lazy dog. This is a sample sentence to test the token "
	    "counting functionality."), 27);
	CHECK_U(count(WB_METHOD_HYBRID, "default", ""), 0);
	CHECK_U(count(WB_METHOD_WORD, "default", ""), 0);
	CHECK_U(count(WB_METHOD_CHAR, "default", "Hello"), 2);
}

static void
char_counts_scalars_not_bytes(void)
{
	/* 5 scalars, 6 bytes */
	CHECK_U(count(WB_METHOD_CHAR, "default", "h\xC3\xA9llo"), 2);
	/* 4 scalars of 4 bytes each: 1 token */
	CHECK_U(count(WB_METHOD_CHAR, "default",
	    "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"), 1);
	/* llama: 20 / 3.8 = 5.26 -> 6 */
	CHECK_U(count(WB_METHOD_CHAR, "llama", "12345678901234567890"), 6);
}

static void
word_count_splits_on_unicode_white_space(void)
{
	static const char *const spaces[] = {
		"\t", "\n", "\v", "\f", "\r", " ", "\xC2\x85", "\xC2\xA0",
		"\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x8A", "\xE2\x80\xA8",
		"\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80",
	};
	static const char *const not_spaces[] = {
		"\xE2\x80\x8B",  /* U+200B ZERO WIDTH SPACE */
		"\xE1\xA0\x8E",  /* U+180E MONGOLIAN VOWEL SEPARATOR */
		"\xEF\xBB\xBF",  /* U+FEFF */
		"\x1C",          /* information separators are not White_Space */
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		snprintf(buf, sizeof(buf), "aa%sbb%scc", spaces[i], spaces[i]);
		struct wb_text_stats st;
		wb_text_stats_of(&st, buf, strlen(buf));
		CHECK_U(st.words, 3);
	}
	for (size_t i = 0; i < sizeof(not_spaces) / sizeof(not_spaces[0]); i++) {
		snprintf(buf, sizeof(buf), "aa%sbb", not_spaces[i]);
		struct wb_text_stats st;
		wb_text_stats_of(&st, buf, strlen(buf));
		CHECK_U(st.words, 1);
	}
}

static void
word_count_adds_half_the_punctuation(void)
{
	/* 2 words -> ceil(2.66) = 3; ( ) [ ] -> 4 / 2 = 2 */
	CHECK_U(count(WB_METHOD_WORD, "default", "(a) [b]"), 5);
	/* \n and \t are both white space and punctuation; 3 of them -> 1 */
	CHECK_U(count(WB_METHOD_WORD, "default", "a\nb\tc\n"), 4 + 1);
	/* " ' { } each count; one word */
	CHECK_U(count(WB_METHOD_WORD, "default", "{\"x'}"), 2 + 2);
	/* llama: ceil(5 * 1.25) = 7 */
	CHECK_U(count(WB_METHOD_WORD, "llama", "one two three four five"), 7);
	CHECK_U(count(WB_METHOD_WORD, "llama", "one two three four"), 5);
}

static void
hybrid_switches_at_threshold_bytes(void)
{
	char buf[256];

	/* 99 bytes, no spaces: 25 by chars */
	memset(buf, 'a', 99);
	buf[99] = '\0';
	CHECK_U(count(WB_METHOD_HYBRID, "default", buf), 25);
	/* 100 bytes: one word, 2 tokens */
	buf[99] = 'a';
	buf[100] = '\0';
	CHECK_U(count(WB_METHOD_HYBRID, "default", buf), 2);
	/* the threshold is in bytes: 50 two-byte scalars are 100 bytes */
	for (int i = 0; i < 50; i++)
		memcpy(buf + 2 * i, "\xC3\xA9", 2);
	buf[100] = '\0';
	CHECK_U(count(WB_METHOD_HYBRID, "default", buf), 2);
	buf[98] = '\0';
	CHECK_U(count(WB_METHOD_HYBRID, "default", buf), 13);
}

static void
nul_is_a_scalar(void)
{
	struct wb_counter *c = counter(WB_METHOD_CHAR, "default");

	CHECK_U(wb_count(c, "a\0b\0c", 5), 2);
	wb_counter_free(c);
}

/* The reference: one scalar at a time, as the engine's definition reads. */
static void
slow_stats(struct wb_text_stats *st, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	memset(st, 0, sizeof(*st));
	st->lead = st->trail = -1;
	for (size_t i = 0; i < len;) {
		size_t n = wb_utf8_decode(p + i, len - i, &cp);
		int sp = wb_is_space(cp);
		if (!sp && st->trail != 0)
			st->words++;
		if (cp < 128 && cp && strchr("\n\t\"'()[]{}", (int)cp))
			st->punct++;
		if (st->lead < 0)
			st->lead = sp;
		st->trail = sp;
		st->scalars++;
		st->bytes += n;
		i += n;
	}
}

static const char *const pieces[] = {
	"a", "word", " ", "  ", "\n", "\t", "(", ")", "\"", "'", "[x]", "{}",
	"\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x91\xA9\xE2\x80\x8D",
	"\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8", "\xC2\x85", "\xEF\xBB\xBF",
	"\0", ".", "123",
};

static size_t
random_text(char *buf, size_t max)
{
	size_t n = 0, want = unit_rand() % max;

	while (n < want) {
		const char *p = pieces[unit_rand() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = p[0] ? strlen(p) : 1;
		if (n + l > max)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	return n;
}

static int
same_stats(const struct wb_text_stats *a, const struct wb_text_stats *b)
{
	return a->bytes == b->bytes && a->scalars == b->scalars &&
	    a->words == b->words && a->punct == b->punct &&
	    a->lead == b->lead && a->trail == b->trail;
}

static void
fast_scan_equals_reference_in_any_pieces(void)
{
	char buf[512];
	int bad = 0;

	for (int t = 0; t < 20000; t++) {
		size_t len = random_text(buf, sizeof(buf));
		struct wb_text_stats ref, whole;
		struct wb_stats_scan sc;
		struct wb_err err;

		slow_stats(&ref, buf, len);
		wb_text_stats_of(&whole, buf, len);
		/* the same text fed in random pieces, cutting sequences */
		wb_stats_scan_init(&sc);
		for (size_t off = 0; off < len;) {
			size_t step = 1 + unit_rand() % 7;
			if (step > len - off)
				step = len - off;
			if (wb_stats_scan_feed(&sc, buf + off, step, &err) != WB_OK)
				bad++;
			off += step;
		}
		/* concatenation of two halves' statistics */
		size_t cut = len ? unit_rand() % len : 0;
		while (cut > 0 && (buf[cut] & 0xC0) == 0x80)
			cut--;
		struct wb_text_stats a, b, ab;
		wb_text_stats_of(&a, buf, cut);
		wb_text_stats_of(&b, buf + cut, len - cut);
		ab = wb_text_stats_cat(a, b);
		if (!same_stats(&ref, &whole) || !same_stats(&ref, &sc.st) ||
		    sc.npend != 0 || !same_stats(&ref, &ab))
			bad++;
	}
	CHECK_U(bad, 0);
}

/* Runs of ASCII of every byte (the scan takes them sixteen at a time),
 * broken by other characters at any place, equal the reference. */
static void
every_ascii_byte_in_runs_equals_reference(void)
{
	static const char *const other[] = { "\xC3\xA9", "\xC2\xA0",
	    "\xE3\x80\x80", "\xF0\x9F\x91\xA9" };
	char buf[300];
	int bad = 0;

	for (int t = 0; t < 20000; t++) {
		size_t len = 0, want = unit_rand() % 200;
		struct wb_text_stats ref, whole;

		while (len < want) {
			if (unit_rand() % 24 == 0) {
				const char *o = other[unit_rand() % 4];

				memcpy(buf + len, o, strlen(o));
				len += strlen(o);
			} else {
				buf[len++] = (char)(unit_rand() % 128);
			}
		}
		slow_stats(&ref, buf, len);
		wb_text_stats_of(&whole, buf, len);
		if (!same_stats(&ref, &whole))
			bad++;
	}
	CHECK_U(bad, 0);
}

/* The UTF-8 bytes of cp (not a surrogate) at p; their number. */
static size_t
utf8_put(unsigned char *p, uint32_t cp)
{
	if (cp < 0x800) {
		p[0] = (unsigned char)(0xC0 | cp >> 6);
		p[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (unsigned char)(0xE0 | cp >> 12);
		p[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		p[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	p[0] = (unsigned char)(0xF0 | cp >> 18);
	p[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	p[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	p[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Every character of two to four bytes, and every lead byte before any
 * second byte and some third and fourth (the scan takes whole valid
 * characters without a call): between letters, or between spaces, the
 * statistics equal the reference where the text is valid; where it is
 * not, the scan fails at the offset of the first bad byte. */
static void
every_sequence_equals_reference_or_fails_where_it_is_bad(void)
{
	static const unsigned char ends[] = { 0x80, 0x9F, 0xA0, 0xBF, 'z', 0xC3 };
	unsigned char buf[16];
	size_t cases = 0;
	int bad = 0;

	for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
		struct wb_text_stats ref, got;
		size_t n;

		if (cp == 0xD800)
			cp = 0xE000;
		for (int around = 0; around < 2; around++) {
			buf[0] = around ? ' ' : 'a';
			n = 1 + utf8_put(buf + 1, cp);
			buf[n++] = buf[0];
			slow_stats(&ref, (const char *)buf, n);
			wb_text_stats_of(&got, (const char *)buf, n);
			if (!same_stats(&ref, &got) && bad++ < 5)
				fprintf(stderr, "  U+%04X: not the reference\n",
				    (unsigned)cp);
		}
	}
	for (unsigned b0 = 0x80; b0 < 0x100; b0++)
	for (unsigned b1 = 0; b1 < 0x100; b1++)
	for (size_t e2 = 0; e2 < sizeof(ends); e2++)
	for (size_t e3 = 0; e3 < sizeof(ends); e3 += 3)
	for (int around = 0; around < 2; around++) {
		const char *c = around ? " " : "a";
		size_t len = 0, valid;
		struct wb_text_stats ref, got;
		struct wb_stats_scan sc;
		struct wb_err err = { 0 };
		int st;

		buf[len++] = (unsigned char)c[0];
		buf[len++] = (unsigned char)b0;
		buf[len++] = (unsigned char)b1;
		buf[len++] = ends[e2];
		buf[len++] = ends[e3];
		buf[len++] = (unsigned char)c[0];
		valid = wb_utf8_valid((const char *)buf, len);
		wb_stats_scan_init(&sc);
		st = wb_stats_scan_feed(&sc, (const char *)buf, len, &err);
		got = sc.st;
		cases++;
		if (valid == len) {
			slow_stats(&ref, (const char *)buf, len);
			if (st != WB_OK || !same_stats(&ref, &got))
				bad++;
		} else if (st != WB_EDATA || err.offset != valid) {
			if (bad++ < 5)
				fprintf(stderr, "  %02X %02X %02X %02X: status %d "
				    "offset %llu, first bad byte %zu\n", b0, b1,
				    ends[e2], ends[e3], st,
				    (unsigned long long)err.offset, valid);
		}
	}
	printf("# %zu sequences\n", cases);
	CHECK_U(bad, 0);
}

static void
limit_stops_early_but_stays_over(void)
{
	size_t len = 1 << 20;
	char *s = malloc(len);
	struct wb_counter *c = counter(WB_METHOD_WORD, "default");

	for (size_t i = 0; i < len; i++)
		s[i] = i % 5 == 4 ? ' ' : 'x';
	uint64_t full = wb_count(c, s, len);
	uint64_t lim = wb_count_limit(c, s, len, 10);
	CHECK(lim > 10);
	CHECK(lim < full);
	CHECK_U(wb_count_limit(c, s, len, full), full);
	CHECK_U(wb_count_limit(c, s, len, full - 1), full);
	wb_counter_free(c);
	free(s);
}

static void
utf8_errors_name_their_offset(void)
{
	static const struct { const char *s; size_t len, off; } bad[] = {
		{ "ab\xC0\x80", 4, 2 },          /* overlong */
		{ "\xE0\x80\xAF", 3, 0 },        /* overlong */
		{ "x\xED\xA0\x80", 4, 1 },       /* surrogate */
		{ "xy\xF4\x90\x80\x80", 6, 2 },  /* above U+10FFFF */
		{ "\xF5\x80\x80\x80", 4, 0 },
		{ "abc\x80", 4, 3 },             /* lone continuation */
		{ "ab\xE2\x82", 4, 2 },          /* cut short */
		{ "\xC3(", 2, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_U(wb_utf8_valid(bad[i].s, bad[i].len), bad[i].off);
	CHECK_U(wb_utf8_valid("\xF4\x8F\xBF\xBF\xEF\xBF\xBF", 7), 7);
}

static void
stream_reports_errors_across_pieces(void)
{
	struct wb_counter *c = counter(WB_METHOD_CHAR, "default");
	struct wb_count_stream *cs = wb_count_stream_new(c);
	struct wb_err err;
	uint64_t n;

	CHECK_U(wb_count_stream_feed(cs, "abcd\xE2", 5, &err), WB_OK);
	CHECK_U(wb_count_stream_feed(cs, "\x82", 1, &err), WB_OK);
	CHECK_U(wb_count_stream_feed(cs, "\xAC", 1, &err), WB_OK);  /* U+20AC */
	CHECK_U(wb_count_stream_end(cs, &n, &err), WB_OK);
	CHECK_U(n, 2);
	wb_count_stream_free(cs);

	cs = wb_count_stream_new(c);
	CHECK_U(wb_count_stream_feed(cs, "abcd\xE2", 5, &err), WB_OK);
	CHECK_U(wb_count_stream_feed(cs, "x", 1, &err), WB_EDATA);
	CHECK_U(err.offset, 4);
	wb_count_stream_free(cs);

	cs = wb_count_stream_new(c);
	CHECK_U(wb_count_stream_feed(cs, "ab\xF0\x9F", 4, &err), WB_OK);
	CHECK_U(wb_count_stream_end(cs, &n, &err), WB_EDATA);
	CHECK_U(err.offset, 2);
	wb_count_stream_free(cs);
	wb_counter_free(c);
}

static void
bad_counter_parameters_are_refused(void)
{
	struct wb_counter_spec spec;
	struct wb_err err;

	wb_counter_spec_default(&spec);
	spec.chars_per_token = 0;
	CHECK(wb_counter_new(&spec, &err) == NULL);
	CHECK_U(err.status, WB_EUSAGE);
	CHECK(wb_counter_preset(&spec, "gpt") != 0);
	enum wb_method m;
	CHECK(wb_method_parse("chars", &m) != 0);
	CHECK(wb_method_parse("word", &m) == 0 && m == WB_METHOD_WORD);
}

int
main(void)
{
	unit_seed();
	RUN(engine_known_values);
	RUN(char_counts_scalars_not_bytes);
	RUN(word_count_splits_on_unicode_white_space);
	RUN(word_count_adds_half_the_punctuation);
	RUN(hybrid_switches_at_threshold_bytes);
	RUN(nul_is_a_scalar);
	RUN(fast_scan_equals_reference_in_any_pieces);
	RUN(every_ascii_byte_in_runs_equals_reference);
	RUN(every_sequence_equals_reference_or_fails_where_it_is_bad);
	RUN(limit_stops_early_but_stays_over);
	RUN(utf8_errors_name_their_offset);
	RUN(stream_reports_errors_across_pieces);
	RUN(bad_counter_parameters_are_refused);
	return UNIT_END();
}
