/* test-truncate.c: the truncation guarantee, by example and at random. */
#include "wb_priv.h"
#include "unit.h"

static void
trunc_str(struct wb_counter *c, const char *s, uint64_t budget,
    enum wb_keep keep, const char *ell, const char *want)
{
	struct wb_trunc t;
	struct wb_err err;

	CHECK_U(wb_truncate(c, s, strlen(s), budget, keep, ell, &t, &err), WB_OK);
	CHECK(t.text != NULL && strcmp(t.text, want) == 0);
	if (t.text && strcmp(t.text, want) != 0)
		fprintf(stderr, "  got '%s', want '%s'\n", t.text, want);
	CHECK(t.final_tokens <= budget);
	free(t.text);
}

static void
head_cuts_after_a_word(void)
{
	struct wb_counter *c = counter(WB_METHOD_WORD, "default");
	const char *s = "The quick brown fox jumps over the lazy dog";

	/* 3 words + "..." joined to the last: ceil(3 * 1.33) = 4 */
	trunc_str(c, s, 4, WB_KEEP_HEAD, "...", "The quick brown...");
	trunc_str(c, s, 5, WB_KEEP_HEAD, "...", "The quick brown...");
	trunc_str(c, s, 6, WB_KEEP_HEAD, "...", "The quick brown fox...");
	trunc_str(c, s, 100, WB_KEEP_HEAD, "...", s);
	wb_counter_free(c);
}

static void
tail_keeps_the_newest_words(void)
{
	struct wb_counter *c = counter(WB_METHOD_WORD, "default");
	const char *s = "The quick brown fox jumps over the lazy dog";

	trunc_str(c, s, 4, WB_KEEP_TAIL, "...", "...the lazy dog");
	/* [ and ] count too: 2 words + 2 / 2 */
	trunc_str(c, s, 4, WB_KEEP_TAIL, "[cut] ", "[cut] dog");
	wb_counter_free(c);
}

static void
one_long_word_is_cut_at_a_character(void)
{
	struct wb_counter *c = counter(WB_METHOD_CHAR, "default");

	/* 8 scalars of which "..." takes 3: 5 kept; never half of an é */
	trunc_str(c, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 2,
	    WB_KEEP_HEAD, "...", "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9...");
	trunc_str(c, "abcdefghijkl", 2, WB_KEEP_TAIL, "...", "...hijkl");
	wb_counter_free(c);
}

static void
nothing_fits_gives_the_empty_string(void)
{
	struct wb_counter *c = counter(WB_METHOD_HYBRID, "default");

	trunc_str(c, "hello world", 0, WB_KEEP_HEAD, "...", "");
	trunc_str(c, "hello world", 0, WB_KEEP_TAIL, "...", "");
	/* the ellipsis alone fits when no word does */
	trunc_str(c, "abcdefghijkl", 1, WB_KEEP_HEAD, "...", "a...");
	trunc_str(c, "", 0, WB_KEEP_HEAD, "...", "");
	wb_counter_free(c);
}

static void
hybrid_keeps_the_longest_fit_not_the_first(void)
{
	/*
	 * Hybrid is not monotonic: 99 bytes of one word count 25 by chars,
	 * 100 bytes count 2 by words. Fitting 2 tokens, a search that
	 * assumed growth would stop at "aaaa..."; all 150 letters fit.
	 */
	struct wb_counter *c = counter(WB_METHOD_HYBRID, "default");
	char s[160], want[160];

	memset(s, 'a', 150);
	memcpy(s + 150, " b c d", 7);
	memset(want, 'a', 150);
	memcpy(want + 150, "...", 4);
	trunc_str(c, s, 2, WB_KEEP_HEAD, "...", want);
	wb_counter_free(c);
}

static const char *const pieces[] = {
	"a", "word", "Tokens", " ", "  ", "\n", "\t", "(", ")", "\"", "'",
	"[x]", "{}", "\xC3\xA9t\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
	"\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7", "\xC2\xA0", "\xE3\x80\x80",
	"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "\xD9\x85\xD8\xB1",
	"a\xCC\x81", "\0", ".", "12345", "supercalifragilistic",
};

static const char *const ellipses[] = { "...", "\xE2\x80\xA6", "", " [cut]" };

/* Is the cut that keeps k bytes between a word and white space? */
static int
is_word_cut(const char *s, size_t len, enum wb_keep keep, size_t cut)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t a, z;
	size_t j = cut;

	if (cut == 0 || cut == len)
		return 0;
	do
		j--;
	while ((p[j] & 0xC0) == 0x80);
	wb_utf8_decode(p + j, len - j, &a);
	wb_utf8_decode(p + cut, len - cut, &z);
	return keep == WB_KEEP_HEAD ? !wb_is_space(a) && wb_is_space(z) :
	    wb_is_space(a) && !wb_is_space(z);
}

/* Does a cut of the kind asked keep more than kept bytes and still fit? */
static int
longer_fit_exists(struct wb_counter *c, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const char *ell, size_t kept,
    int word_only)
{
	size_t el = strlen(ell);
	char *b = malloc(len + el + 1);
	int found = 0;

	for (size_t k = kept + 1; k < len && !found; k++) {
		size_t cut = keep == WB_KEEP_HEAD ? k : len - k;
		if ((s[cut] & 0xC0) == 0x80)
			continue;
		if (word_only && !is_word_cut(s, len, keep, cut))
			continue;
		if (keep == WB_KEEP_HEAD) {
			memcpy(b, s, cut);
			memcpy(b + cut, ell, el);
		} else {
			memcpy(b, ell, el);
			memcpy(b + el, s + cut, len - cut);
		}
		if (wb_count(c, b, k + el) <= budget)
			found = 1;
	}
	free(b);
	return found;
}

/* A counter that counts like a heuristic one but hides its statistics, so
 * that truncation takes the path of the exact tokenizers. */
static uint64_t
opaque_count(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit)
{
	struct wb_text_stats st;

	(void)limit;
	wb_text_stats_of(&st, s, len);
	return wb_text_stats_count(&c->spec, &st);
}

static void
opaque_free(struct wb_counter *c)
{
	free(c);
}

static const struct wb_counter_ops opaque_ops = {
	.count = opaque_count,
	.by_stats = false,
	.free = opaque_free,
};

static struct wb_counter *
opaque(enum wb_method m, const char *preset)
{
	struct wb_counter *c = counter(m, preset);

	c->ops = &opaque_ops;
	return c;
}

static void random_cases(struct wb_counter *cs[6], int n, bool maximal);

static void
random_truncations_keep_the_guarantee(void)
{
	static const enum wb_method methods[] = {
		WB_METHOD_CHAR, WB_METHOD_WORD, WB_METHOD_HYBRID,
	};
	static const char *const presets[] = { "default", "llama" };
	struct wb_counter *cs[6];

	for (int i = 0; i < 6; i++)
		cs[i] = counter(methods[i % 3], presets[i / 3]);
	random_cases(cs, 120000, true);
	for (int i = 0; i < 6; i++)
		wb_counter_free(cs[i]);
}

static void
the_exact_path_keeps_the_guarantee_too(void)
{
	/* Counts that grow with the text: the search then finds the best. */
	struct wb_counter *mono[6] = {
		opaque(WB_METHOD_CHAR, "default"), opaque(WB_METHOD_WORD, "default"),
		opaque(WB_METHOD_CHAR, "llama"), opaque(WB_METHOD_WORD, "llama"),
		opaque(WB_METHOD_CHAR, "default"), opaque(WB_METHOD_WORD, "llama"),
	};
	/* Counts that do not: only the guarantee holds. */
	struct wb_counter *hyb[6] = {
		opaque(WB_METHOD_HYBRID, "default"), opaque(WB_METHOD_HYBRID, "llama"),
		opaque(WB_METHOD_HYBRID, "default"), opaque(WB_METHOD_HYBRID, "llama"),
		opaque(WB_METHOD_HYBRID, "default"), opaque(WB_METHOD_HYBRID, "llama"),
	};

	random_cases(mono, 20000, true);
	random_cases(hyb, 20000, false);
	for (int i = 0; i < 6; i++) {
		wb_counter_free(mono[i]);
		wb_counter_free(hyb[i]);
	}
}

/* n random truncations by the counters cs: the guarantee, and with
 * maximal, that no longer cut of the same kind fits. */
static void
random_cases(struct wb_counter *cs[6], int n, bool maximal)
{
	char buf[400];
	int over = 0, badutf = 0, badcount = 0, notaffix = 0, short_ = 0;
	int cases = 0;

	for (int t = 0; t < n; t++) {
		size_t len = 0, want = unit_rand() % (t % 10 == 0 ? 400 : 160);
		while (len < want) {
			const char *p = pieces[unit_rand() %
			    (sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = p[0] ? strlen(p) : 1;
			if (len + l > sizeof(buf))
				break;
			memcpy(buf + len, p, l);
			len += l;
		}
		struct wb_counter *c = cs[unit_rand() % 6];
		enum wb_keep keep = unit_rand() & 1 ? WB_KEEP_TAIL : WB_KEEP_HEAD;
		const char *ell = ellipses[unit_rand() % 4];
		uint64_t full = wb_count(c, buf, len);
		uint64_t budget = full ? unit_rand() % (full + 2) : 0;
		struct wb_trunc tr;
		struct wb_err err;

		cases++;
		if (wb_truncate(c, buf, len, budget, keep, ell, &tr, &err) != WB_OK) {
			over++;
			continue;
		}
		if (tr.final_tokens > budget)
			over++;
		if (wb_utf8_valid(tr.text, tr.len) != tr.len)
			badutf++;
		if (wb_count(c, tr.text, tr.len) != tr.final_tokens ||
		    tr.original_tokens != full)
			badcount++;
		size_t el = strlen(ell), kept = 0;
		if (!tr.was_truncated) {
			if (tr.len != len || memcmp(tr.text, buf, len) != 0)
				notaffix++;
		} else if (tr.len > 0) {
			kept = tr.len - el;
			if (tr.len < el ||
			    (keep == WB_KEEP_HEAD && (memcmp(tr.text, buf, kept) ||
			    memcmp(tr.text + kept, ell, el))) ||
			    (keep == WB_KEEP_TAIL && (memcmp(tr.text, ell, el) ||
			    memcmp(tr.text + el, buf + len - kept, kept))))
				notaffix++;
		}
		/*
		 * Keep as much as fits: a cut after a word admits no longer
		 * one; a cut inside a word is taken only when no cut after a
		 * word fits, and then admits no longer cut at all.
		 */
		if (maximal && tr.was_truncated && t % 5 == 0 && tr.len > 0) {
			size_t cut = keep == WB_KEEP_HEAD ? kept : len - kept;
			if (is_word_cut(buf, len, keep, cut)) {
				if (longer_fit_exists(c, buf, len, budget, keep,
				    ell, kept, 1))
					short_++;
			} else if (longer_fit_exists(c, buf, len, budget, keep,
			    ell, 0, 1) || longer_fit_exists(c, buf, len, budget,
			    keep, ell, kept, 0)) {
				short_++;
			}
		}
		free(tr.text);
	}
	printf("# %d cases\n", cases);
	CHECK_U(over, 0);
	CHECK_U(badutf, 0);
	CHECK_U(badcount, 0);
	CHECK_U(notaffix, 0);
	CHECK_U(short_, 0);
}

/* Truncate s as a stream fed in random pieces, looking often for what can
 * go; the status as wb_truncate's. */
static int
stream_trunc(struct wb_counter *c, const char *s, size_t len, uint64_t budget,
    enum wb_keep keep, const char *ell, struct wb_trunc *t, struct wb_err *err)
{
	struct wb_trunc_stream *ts = wb_trunc_stream_new(c, budget, keep, ell);
	size_t off = 0, n;
	int st = WB_OK;

	if (unit_rand() % 4)
		wb_trunc_stream_set_step(ts, 1 + unit_rand() % 300);
	while (st == WB_OK && off < len) {
		n = 1 + unit_rand() % (unit_rand() % 3 ? 16 : 400);
		n = n < len - off ? n : len - off;
		st = wb_trunc_stream_feed(ts, s + off, n, err);
		off += n;
	}
	if (st == WB_OK)
		st = wb_trunc_stream_end(ts, t, err);
	wb_trunc_stream_free(ts);
	return st;
}

/* A random text: words, spaces, scripts, long runs of one letter or of
 * white space, now and then a special token or a broken UTF-8 byte. */
static size_t
random_text(char *buf, size_t cap, bool bad)
{
	static const char *const runs[] = { "a", " ", "\xE6\x97\xA5", "\n" };
	size_t len = 0, want = unit_rand() % cap;

	while (len < want) {
		const char *p;
		size_t l, r = 1;
		switch (unit_rand() % 12) {
		case 0:
			p = runs[unit_rand() % 4];
			r = unit_rand() % 300;
			break;
		case 1:
			p = "<|endoftext|>";
			break;
		default:
			p = pieces[unit_rand() %
			    (sizeof(pieces) / sizeof(pieces[0]))];
		}
		l = p[0] ? strlen(p) : 1;
		for (; r > 0 && len + l <= want; r--) {
			memcpy(buf + len, p, l);
			len += l;
		}
		if (r > 0)
			break;
	}
	if (bad && len > 0)
		buf[unit_rand() % len] = (char)(unit_rand() % 2 ? 0xFF : 0xE2);
	return len;
}

/* cs[0..n): the heuristics, then encodings; the stream truncates exactly
 * as the whole text does. */
static void
stream_cases(struct wb_counter **cs, int ncs, int n)
{
	static char buf[6000];
	int diff = 0, cases = 0, cut = 0;

	for (int t = 0; t < n; t++) {
		bool bad = unit_rand() % 20 == 0;
		size_t len = random_text(buf, sizeof(buf), bad);
		struct wb_counter *c = cs[unit_rand() % ncs];
		enum wb_keep keep = unit_rand() & 1 ? WB_KEEP_TAIL : WB_KEEP_HEAD;
		const char *ell = ellipses[unit_rand() % 4];
		struct wb_trunc a, b;
		struct wb_err ea = { 0 }, eb = { 0 };
		uint64_t full, budget;
		size_t valid;
		int sa, sb;

		if ((valid = wb_utf8_valid(buf, len)) != len) {
			sb = stream_trunc(c, buf, len, 7, keep, ell, &b, &eb);
			if (sb != WB_EDATA || eb.offset != valid)
				diff++;
			if (sb == WB_OK)
				free(b.text);
			continue;
		}
		full = wb_count(c, buf, len);
		budget = unit_rand() % 3 ? unit_rand() % (full / 8 + 2) :
		    unit_rand() % (full + 2);
		cases++;
		sa = wb_truncate(c, buf, len, budget, keep, ell, &a, &ea);
		sb = stream_trunc(c, buf, len, budget, keep, ell, &b, &eb);
		if (sa != sb || (sa == WB_OK && (a.len != b.len ||
		    memcmp(a.text, b.text, a.len) != 0 ||
		    a.original_tokens != b.original_tokens ||
		    a.final_tokens != b.final_tokens ||
		    a.was_truncated != b.was_truncated))) {
			if (diff++ == 0)
				fprintf(stderr, "  %s, budget %" PRIu64 ", %s, "
				    "'%s': %d '%.*s' vs %d '%.*s'\n",
				    wb_counter_name(c), budget,
				    keep == WB_KEEP_HEAD ? "head" : "tail", ell,
				    sa, sa ? 0 : (int)a.len, sa ? "" : a.text,
				    sb, sb ? 0 : (int)b.len, sb ? "" : b.text);
		}
		cut += sa == WB_OK && a.was_truncated;
		if (sa == WB_OK)
			free(a.text);
		if (sb == WB_OK)
			free(b.text);
	}
	printf("# %d cases, %d cut\n", cases, cut);
	CHECK_U(diff, 0);
	CHECK(cut > cases / 2);
}

static void
a_stream_truncates_as_the_whole_text(void)
{
	static const enum wb_method methods[] = {
		WB_METHOD_CHAR, WB_METHOD_WORD, WB_METHOD_HYBRID,
	};
	static const char *const presets[] = { "default", "llama" };
	struct wb_counter *cs[6];

	for (int i = 0; i < 6; i++)
		cs[i] = counter(methods[i % 3], presets[i / 3]);
	stream_cases(cs, 6, 30000);
	for (int i = 0; i < 6; i++)
		wb_counter_free(cs[i]);
}

static struct wb_counter *
encoding(const char *name, bool special)
{
	struct wb_counter_spec spec;
	struct wb_err err;

	wb_counter_spec_default(&spec);
	snprintf(spec.encoding, sizeof(spec.encoding), "%s", name);
	spec.allow_special = special;
	return wb_counter_new(&spec, &err);
}

static void
a_stream_truncates_as_the_whole_text_exactly(void)
{
	struct wb_counter *cs[3] = {
		encoding("cl100k_base", false), encoding("cl100k_base", false),
		encoding("o200k_base", true),
	};

	CHECK(cs[0] != NULL && cs[2] != NULL);
	if (cs[0] != NULL && cs[2] != NULL)
		stream_cases(cs, 3, 3000);
	for (int i = 0; i < 3; i++)
		wb_counter_free(cs[i]);
}

int
main(void)
{
	unit_seed();
	RUN(head_cuts_after_a_word);
	RUN(tail_keeps_the_newest_words);
	RUN(one_long_word_is_cut_at_a_character);
	RUN(nothing_fits_gives_the_empty_string);
	RUN(hybrid_keeps_the_longest_fit_not_the_first);
	RUN(random_truncations_keep_the_guarantee);
	RUN(the_exact_path_keeps_the_guarantee_too);
	RUN(a_stream_truncates_as_the_whole_text);
	RUN(a_stream_truncates_as_the_whole_text_exactly);
	return UNIT_END();
}
