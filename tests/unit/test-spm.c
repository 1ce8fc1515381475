/*
 * test-spm.c: the counters of SentencePiece-style BPE (lib/spm.c) with the
 * tokenizer.json files of Mistral 7B and Gemma 3 in $WB_TOKENIZERS_DIR and
 * the GGUF files tests/tokenizer/mkgguf.js --spm makes of them: streams fed
 * in random pieces count what the whole text counts; the cuts the counter
 * gives leave the ids before them as they are, and the counts add up;
 * truncation never ends over the budget; long runs of one character take
 * little time; text cut into pieces (and their cache) gives the ids of the
 * text merged whole.  (The ids themselves are compared with the references' in
 * tests/spm.bats.)
 */
#include <stdlib.h>
#include <unistd.h>

#include "wb_priv.h"
#include "unit.h"

#define CORPUS "tests/tokenizer/corpus.jsonl"

/* calloc, counting the tables of 1024 words asked for (none but by
 * sanitizers' builds, whose calloc is theirs). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_CALLOC_COUNT
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_CALLOC_COUNT
#endif
static unsigned long tables_asked;

#ifndef NO_CALLOC_COUNT
extern void *__libc_calloc(size_t n, size_t size);

void *
calloc(size_t n, size_t size)
{
	if (n == 1024 && size == sizeof(uint64_t))
		__atomic_add_fetch(&tables_asked, 1, __ATOMIC_RELAXED);
	return __libc_calloc(n, size);
}
#endif

static const char *const names[] = { "mistral", "gemma3" };
#define NMODELS 2
/* [model][0: tokenizer.json, 1: GGUF][allow_special] */
static struct wb_counter *ctr[NMODELS][2][2];
static char tmpdir[] = "/tmp/test-spm.XXXXXX";
static json_t *texts[4096];
static size_t ntexts;

static struct wb_counter *
open_counter(const char *path, int special)
{
	struct wb_counter_spec spec;
	struct wb_err err;
	struct wb_counter *c;

	wb_counter_spec_default(&spec);
	spec.tokenizer = path;
	spec.allow_special = special;
	if ((c = wb_counter_new(&spec, &err)) == NULL)
		fprintf(stderr, "  %s\n", err.msg);
	return c;
}

static void
the_counters_load(void)
{
	const char *dir = getenv("WB_TOKENIZERS_DIR");
	static char json[NMODELS][1100], gguf[NMODELS][1100];
	char cmd[3000];

	CHECK(dir != NULL && mkdtemp(tmpdir) != NULL);
	for (size_t m = 0; dir != NULL && m < NMODELS; m++) {
		snprintf(json[m], sizeof(json[m]), "%s/%s/tokenizer.json", dir,
		    names[m]);
		snprintf(gguf[m], sizeof(gguf[m]), "%s/%s.gguf", tmpdir, names[m]);
		snprintf(cmd, sizeof(cmd), "node tests/tokenizer/mkgguf.js --spm "
		    "'%s' '%s'", json[m], gguf[m]);
		CHECK(system(cmd) == 0);
		for (int s = 0; s < 2; s++) {
			CHECK((ctr[m][0][s] = open_counter(json[m], s)) != NULL);
			CHECK((ctr[m][1][s] = open_counter(gguf[m], s)) != NULL);
			/* Cut as soon as can be, so that short texts are cut. */
			for (int k = 0; k < 2; k++)
				if (ctr[m][k][s] != NULL)
					wb_spm_set_stream_hold(ctr[m][k][s], 0);
		}
		unlink(gguf[m]);
	}
	rmdir(tmpdir);
}

static void
the_corpus_reads(void)
{
	char *line = NULL;
	size_t cap = 0;
	json_error_t je;
	FILE *f = fopen(CORPUS, "r");

	CHECK(f != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0 &&
	    ntexts < WB_NELEM(texts)) {
		json_t *j = json_loads(line, JSON_ALLOW_NUL, &je);
		const json_t *t = json_object_get(j, "text");

		if (j != NULL && json_is_string(t) && wb_utf8_valid(
		    json_string_value(t), json_string_length(t)) ==
		    json_string_length(t))
			texts[ntexts++] = j;
		else
			json_decref(j);
	}
	free(line);
	if (f != NULL)
		fclose(f);
	CHECK(ntexts > 1000);
}

/* Three corpus texts from i on, joined, into *text (grown as needed). */
static size_t
three(size_t i, char **text, size_t *cap)
{
	size_t len = 0;

	for (size_t k = 0; k < 3; k++) {
		const json_t *jt = json_object_get(
		    texts[(i * (7 * k + 1) + 5 * k) % ntexts], "text");
		size_t l = json_string_length(jt);

		if (*text == NULL || len + l + 1 > *cap) {
			*cap = 2 * (len + l) + 1;
			*text = realloc(*text, *cap);
		}
		memcpy(*text + len, json_string_value(jt), l);
		len += l;
	}
	return len;
}

/* Fed in random pieces, a stream counts what the whole text counts. */
static void
streamed_counts_equal_whole_counts(void)
{
	size_t cases = 0, bad = 0, cap = 0;
	char *text = NULL;

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t i = 0; i < ntexts; i += 2) {
			size_t len = three(i, &text, &cap);
			uint64_t got = 0, want = wb_count(c, text, len);

			if (!unit_streamed(c, text, len, &got) || got != want) {
				if (bad++ < 5)
					fprintf(stderr, "  %s %s special %d text %zu: "
					    "%llu, whole %llu\n", names[e / 4],
					    e / 2 % 2 ? "gguf" : "json", (int)(e % 2), i,
					    (unsigned long long)got,
					    (unsigned long long)want);
			}
			cases++;
		}
	}
	free(text);
	printf("# %zu streamed texts\n", cases);
	CHECK(cases > 4000);
	CHECK_U(bad, 0);
}

/* One stream counts text after text, started anew (wb_count_stream_reset)
 * after each, as the parts of a file are counted: each text as a stream of
 * its own counts it, though the one before went on from text before it. */
static void
a_stream_started_anew_counts_a_new_text(void)
{
	size_t cases = 0, bad = 0, cap = 0;
	char *text = NULL;
	struct wb_err err;

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];
		struct wb_count_stream *cs;

		if (c == NULL || (cs = wb_count_stream_new(c)) == NULL)
			continue;
		for (size_t i = 0; i < ntexts; i += 7) {
			size_t len = three(i, &text, &cap);
			uint64_t got = 0, want = wb_count(c, text, len);

			if (i > 0)
				CHECK(wb_count_stream_reset(cs));
			for (size_t at = 0; at < len; at += 100)
				CHECK(wb_count_stream_feed(cs, text + at, len - at <
				    100 ? len - at : 100, &err) == WB_OK);
			CHECK(wb_count_stream_end(cs, &got, &err) == WB_OK);
			if (got != want && bad++ < 5)
				fprintf(stderr, "  %s %s special %d text %zu: %llu, "
				    "alone %llu\n", names[e / 4], e / 2 % 2 ? "gguf" :
				    "json", (int)(e % 2), i, (unsigned long long)got,
				    (unsigned long long)want);
			/* The next text is a new one, not one that goes on. */
			wb_count_stream_go_on(cs);
			cases++;
		}
		wb_count_stream_free(cs);
	}
	free(text);
	printf("# %zu texts after a reset\n", cases);
	CHECK(cases > 1000);
	CHECK_U(bad, 0);
}

/* Long texts full of the places where added tokens may start are
 * counted without making the tables that pass over most of them: each
 * counter has them from its load. */
static void
added_tokens_are_found_without_new_tables(void)
{
	static const char *const runs[] = { "<s>a", "<start_of_turn>", "<b" };
	size_t n = 65536, counts = 0;
	char *s = malloc(n + 16);

	for (size_t r = 0; r < WB_NELEM(runs); r++) {
		size_t l = strlen(runs[r]), len;

		for (len = 0; len + l <= n; len += l)
			memcpy(s + len, runs[r], l);
		for (size_t e = 0; e < NMODELS * 4; e++) {
			struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];
			unsigned long before = tables_asked;

			if (c == NULL)
				continue;
			CHECK(wb_count(c, s, len) > 0);
			CHECK_U(tables_asked - before, 0);
			counts++;
		}
	}
	free(s);
	CHECK_U(counts, WB_NELEM(runs) * NMODELS * 4);
}

/* A long text of words between runs of spaces and tokens of Phi-3's that
 * strip them, fed to a stream in pieces of a few bytes (as a slow pipe
 * gives them): the stream holds about what it holds before a cut, not the
 * text, though most cuts need more text after them than a piece brings;
 * and it counts what the whole text counts. */
static void
streams_cut_near_tokens_that_strip_spaces(void)
{
	/* Runs of spaces too long for a cut before them to be known as one
	 * when it is first looked at, too short to be refused whatever
	 * follows (STRIP_LOOK); no cut inside the words: each pair of their
	 * letters is in a token. */
	static const char *const seps[] = { "", "<|end|>", "</s>", "<|user|>\n" };
	static const char *const words[] = { "hello", "world", "there",
	    "people", "thing", "other" };
	const char *dir = getenv("WB_TOKENIZERS_DIR");
	char path[1100];
	struct wb_buf t = { 0 };

	snprintf(path, sizeof(path), "%s/phi3/tokenizer.json", dir ? dir : ".");
	for (size_t i = 0; t.len < 1000000; i++) {
		const char *sep = seps[i % WB_NELEM(seps)];

		wb_buf_adds(&t, words[i % WB_NELEM(words)]);
		for (size_t k = 0; k < 20 + i % 23; k++)
			wb_buf_adds(&t, " ");
		wb_buf_adds(&t, sep);
		for (size_t k = 0; *sep != '\0' && k < i % 30; k++)
			wb_buf_adds(&t, i % 3 ? " " : "\t");
	}
	for (int special = 0; special < 2; special++) {
		struct wb_counter *c = open_counter(path, special);
		struct wb_count_stream *cs;
		struct wb_err err;
		size_t most = 0;
		uint64_t got = 0, want;

		CHECK(c != NULL);
		if (c == NULL || (cs = wb_count_stream_new(c)) == NULL)
			continue;
		/* Looked for at every piece, as once no cut was found in
		 * what a stream holds before it looks. */
		wb_spm_set_stream_hold(c, 0);
		want = wb_count(c, t.p, t.len);
		for (size_t at = 0, m; at < t.len; at += m) {
			m = 1 + unit_rand() % 16;
			if (m > t.len - at)
				m = t.len - at;
			CHECK(wb_count_stream_feed(cs, t.p + at, m, &err) == WB_OK);
			if (wb_spm_stream_held(cs) > most)
				most = wb_spm_stream_held(cs);
		}
		CHECK(wb_count_stream_end(cs, &got, &err) == WB_OK);
		printf("# phi3 special %d: %zu bytes held at most of %zu\n",
		    special, most, t.len);
		CHECK(most < 4096);
		CHECK_U(got, want);
		wb_count_stream_free(cs);
		wb_counter_free(c);
	}
	wb_buf_free(&t);
}

/* Every cut that last_cut gives: the ids of the text before it are the
 * first ids of the whole, and the counts of the two sides add up. */
static void
cuts_keep_the_ids_before_them(void)
{
	size_t cuts = 0, bad = 0, cap = 0;
	char *text = NULL;
	uint32_t *whole = NULL, *left = NULL;
	struct wb_err err;

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t i = 1; i < ntexts; i += 5) {
			size_t len = three(i, &text, &cap), to = len, n, l, k;

			whole = realloc(whole, (len + 8) * sizeof(*whole));
			left = realloc(left, (len + 8) * sizeof(*left));
			n = wb_counter_encode(c, text, len, whole, len + 8, &err);
			for (k = 0; k < 3; k++) {
				size_t cut = wb_counter_last_cut(c, text, 0, to);

				if (cut == 0)
					break;
				cuts++;
				l = wb_counter_encode(c, text, cut, left, len + 8, &err);
				if (l > n || memcmp(left, whole, l * sizeof(*left)) != 0 ||
				    l + wb_count(c, text + cut, len - cut) != n) {
					if (bad++ < 5)
						fprintf(stderr, "  %s %s special %d text "
						    "%zu: cut at %zu\n", names[e / 4],
						    e / 2 % 2 ? "gguf" : "json",
						    (int)(e % 2), i, cut);
				}
				to = cut;
			}
		}
	}
	free(text);
	free(whole);
	free(left);
	printf("# %zu cuts\n", cuts);
	CHECK(cuts > 1000);
	CHECK_U(bad, 0);
}

/* Truncation, whole and streamed, never ends over the budget. */
static void
truncation_stays_within_the_budget(void)
{
	size_t cases = 0, over = 0, cap = 0;
	char *text = NULL;
	struct wb_err err;
	struct wb_trunc t;

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t i = 2; i < ntexts; i += 23) {
			size_t len = three(i, &text, &cap), at = 0;
			uint64_t full = wb_count(c, text, len);
			uint64_t budget = unit_rand() % (full + 1);
			enum wb_keep keep = unit_rand() & 1 ? WB_KEEP_TAIL :
			    WB_KEEP_HEAD;
			struct wb_trunc_stream *ts;
			int st;

			cases++;
			if (wb_truncate(c, text, len, budget, keep, "...", &t,
			    &err) != WB_OK || t.final_tokens > budget ||
			    wb_count(c, t.text, t.len) != t.final_tokens)
				over++;
			else
				free(t.text);
			ts = wb_trunc_stream_new(c, budget, keep, "...");
			wb_trunc_stream_set_step(ts, 1 + unit_rand() % 300);
			st = WB_OK;
			while (at < len && st == WB_OK) {
				size_t m = 1 + unit_rand() % 200;

				if (m > len - at)
					m = len - at;
				st = wb_trunc_stream_feed(ts, text + at, m, &err);
				at += m;
			}
			if (st == WB_OK)
				st = wb_trunc_stream_end(ts, &t, &err);
			if (st != WB_OK || t.final_tokens > budget ||
			    wb_count(c, t.text, t.len) != t.final_tokens)
				over++;
			else
				free(t.text);
			wb_trunc_stream_free(ts);
		}
	}
	free(text);
	printf("# %zu truncations\n", cases);
	CHECK(cases > 300);
	CHECK_U(over, 0);
}

/* Every left cut: the ids of the text before it, as a text of its own,
 * are the first ids of the whole; with a space put in front (Mistral 7B)
 * there are such cuts, where last_cut has none. */
static void
left_cuts_keep_the_ids_before_them(void)
{
	size_t cuts[NMODELS] = { 0 }, bad = 0, cap = 0;
	char *text = NULL;
	uint32_t *whole = NULL, *left = NULL;
	struct wb_err err;

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t i = 3; i < ntexts; i += 5) {
			size_t len = three(i, &text, &cap), to = len, n, l, k;

			whole = realloc(whole, (len + 8) * sizeof(*whole));
			left = realloc(left, (len + 8) * sizeof(*left));
			n = wb_counter_encode(c, text, len, whole, len + 8, &err);
			for (k = 0; k < 3; k++) {
				size_t cut = wb_counter_left_cut(c, text, 0, to);

				if (cut == 0)
					break;
				cuts[e / 4]++;
				l = wb_counter_encode(c, text, cut, left, len + 8, &err);
				if (l > n || memcmp(left, whole, l * sizeof(*left)) != 0) {
					if (bad++ < 5)
						fprintf(stderr, "  %s %s special %d text "
						    "%zu: left cut at %zu\n", names[e / 4],
						    e / 2 % 2 ? "gguf" : "json",
						    (int)(e % 2), i, cut);
				}
				to = cut;
			}
		}
	}
	free(text);
	free(whole);
	free(left);
	printf("# %zu left cuts for %s, %zu for %s\n", cuts[0], names[0],
	    cuts[1], names[1]);
	CHECK(cuts[0] > 1000 && cuts[1] > 1000);
	CHECK_U(bad, 0);
}

/* One truncation of text[0..len), whole and streamed in random pieces
 * with a random step: the same text, within the budget on a recount.
 * Whether the stream let any of the text go, in *dropped. */
static bool
same_truncation(struct wb_counter *c, const char *text, size_t len,
    uint64_t budget, enum wb_keep keep, const char *ell, bool *dropped)
{
	struct wb_trunc whole, part;
	struct wb_trunc_stream *ts;
	struct wb_err err;
	size_t at = 0;
	bool ok;
	int st;

	if (wb_truncate(c, text, len, budget, keep, ell, &whole, &err) != WB_OK)
		return false;
	ts = wb_trunc_stream_new(c, budget, keep, ell);
	wb_trunc_stream_set_step(ts, 1 + unit_rand() % 400);
	st = WB_OK;
	while (at < len && st == WB_OK) {
		size_t m = 1 + unit_rand() % 300;

		if (m > len - at)
			m = len - at;
		st = wb_trunc_stream_feed(ts, text + at, m, &err);
		at += m;
	}
	*dropped = wb_trunc_stream_held(ts) < len;
	if (st == WB_OK)
		st = wb_trunc_stream_end(ts, &part, &err);
	wb_trunc_stream_free(ts);
	if (st != WB_OK) {
		free(whole.text);
		return false;
	}
	ok = whole.len == part.len && memcmp(whole.text, part.text,
	    whole.len) == 0 && whole.final_tokens == part.final_tokens &&
	    whole.original_tokens == part.original_tokens &&
	    part.final_tokens <= budget &&
	    wb_count(c, part.text, part.len) == part.final_tokens;
	free(whole.text);
	free(part.text);
	return ok;
}

/*
 * Streamed truncation gives what the whole text gives, head and tail, at
 * many budgets: on corpus texts joined and on random stretches of the
 * whole corpus cut anywhere.  And the stream lets text go (a head once it
 * is over the budget at a left cut, a tail before a stretch over it),
 * with a space put in front of the text too.
 */
static void
streamed_truncation_is_whole_truncation(void)
{
	static const char *const ell[] = { "...", "\xE2\x80\xA6", "", " [cut]" };
	size_t cases = 0, bad = 0, cap = 0, all = 0;
	size_t dropped[NMODELS][2] = { { 0 } }, tried[NMODELS][2] = { { 0 } };
	char *text = NULL, *big = NULL;

	for (size_t i = 0; i < ntexts; i++) {
		const json_t *jt = json_object_get(texts[i], "text");
		size_t l = json_string_length(jt);

		big = realloc(big, all + l + 1);
		memcpy(big + all, json_string_value(jt), l);
		all += l;
	}
	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t r = 0; r < 120; r++) {
			const char *t;
			size_t len, a, b;
			uint64_t full, budget;
			enum wb_keep keep = r & 1 ? WB_KEEP_TAIL : WB_KEEP_HEAD;
			bool gone = false;

			if (r % 3 == 0) {
				len = three(r * 7 + e, &text, &cap);
				t = text;
			} else {
				/* A stretch of up to 6 KB, cut at characters. */
				a = unit_rand() % all;
				b = a + 1 + unit_rand() % 6000;
				b = b > all ? all : b;
				while (a > 0 && (big[a] & 0xC0) == 0x80)
					a--;
				while (b < all && (big[b] & 0xC0) == 0x80)
					b++;
				t = big + a;
				len = b - a;
			}
			full = wb_count(c, t, len);
			/* Small budgets mostly, where the most can go. */
			budget = unit_rand() % 4 ? unit_rand() % (full / 4 + 1) :
			    unit_rand() % (full + 2);
			cases++;
			if (!same_truncation(c, t, len, budget, keep,
			    ell[unit_rand() % WB_NELEM(ell)], &gone)) {
				if (bad++ < 5)
					fprintf(stderr, "  %s %s special %d case %zu "
					    "(%s, budget %llu): streamed differs\n",
					    names[e / 4], e / 2 % 2 ? "gguf" : "json",
					    (int)(e % 2), r, keep == WB_KEEP_HEAD ?
					    "head" : "tail", (unsigned long long)budget);
			}
			if (budget < full / 4 && len > 2000) {
				tried[e / 4][keep == WB_KEEP_TAIL]++;
				dropped[e / 4][keep == WB_KEEP_TAIL] += gone;
			}
		}
	}
	free(text);
	free(big);
	printf("# %zu streamed truncations, %zu differ\n", cases, bad);
	for (size_t m = 0; m < NMODELS; m++) {
		printf("# %s: head let text go in %zu of %zu, tail in %zu of "
		    "%zu\n", names[m], dropped[m][0], tried[m][0],
		    dropped[m][1], tried[m][1]);
		CHECK(tried[m][0] > 20 && tried[m][1] > 20);
		CHECK(dropped[m][0] * 2 > tried[m][0]);
		CHECK(dropped[m][1] * 2 > tried[m][1]);
	}
	CHECK(cases > 900);
	CHECK_U(bad, 0);
}

/* The ids of s[0..len) by c, merged whole and in pieces, are the same. */
static bool
same_ids(struct wb_counter *c, const char *s, size_t len, uint32_t *a,
    uint32_t *b, size_t cap)
{
	struct wb_err err;
	size_t n, m;

	wb_spm_set_whole(c, true);
	n = wb_counter_encode(c, s, len, a, cap, &err);
	wb_spm_set_whole(c, false);
	m = wb_counter_encode(c, s, len, b, cap, &err);
	return n == m && n != WB_BPE_FAIL && n <= cap &&
	    memcmp(a, b, n * sizeof(*a)) == 0;
}

/* Cut into pieces where no token has the two characters side by side,
 * the text gives the ids it gives whole: on every corpus text, on all of
 * them at once (long enough for the cache of pieces), and on texts glued
 * of the vocabulary's own tokens, with spaces, newlines and random
 * characters between them. */
static void
pieces_give_the_ids_of_the_whole(void)
{
	static const char *const glue[] = { "", " ", "  ", "\n", "中", "é",
	    "▁", "\t", ">", "x", "<0x41>", "\xe2\x96" };
	size_t cases = 0, bad = 0, cap = 1 << 22, all = 0;
	uint32_t *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
	char *big = malloc(cap);

	for (size_t i = 0; i < ntexts; i++) {
		const json_t *jt = json_object_get(texts[i], "text");
		size_t l = json_string_length(jt);

		if (all + l <= cap) {
			memcpy(big + all, json_string_value(jt), l);
			all += l;
		}
	}
	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t i = 0; i < ntexts; i++) {
			const json_t *jt = json_object_get(texts[i], "text");

			cases++;
			if (!same_ids(c, json_string_value(jt),
			    json_string_length(jt), a, b, cap) && bad++ < 5)
				printf("# %s %s special=%d: text %zu differs\n",
				    names[e / 4], e / 2 % 2 ? "gguf" : "json",
				    (int)(e % 2), i);
		}
		cases++;
		if (!same_ids(c, big, all, a, b, cap) && bad++ < 5)
			printf("# %s %s: the whole corpus differs\n",
			    names[e / 4], e / 2 % 2 ? "gguf" : "json");
		for (size_t r = 0; r < 300; r++) {
			uint32_t id[1];
			size_t len = 0, tl;
			char *t;
			struct wb_err err;

			/* Tokens of the vocabulary, glued: 8 KB or so. */
			while (len < 8192) {
				id[0] = (uint32_t)(unit_rand() % 32000);
				if ((t = wb_counter_decode(c, id, 1, &tl, &err)) != NULL) {
					if (wb_utf8_valid(t, tl) == tl && len + tl < cap) {
						memcpy(big + len, t, tl);
						len += tl;
					}
					free(t);
				}
				if (unit_rand() % 3 == 0) {
					const char *g = glue[unit_rand() % WB_NELEM(glue)];

					memcpy(big + len, g, strlen(g));
					len += strlen(g);
				}
			}
			if (wb_utf8_valid(big, len) != len)
				continue;
			cases++;
			if (!same_ids(c, big, len, a, b, cap) && bad++ < 5)
				printf("# %s %s special=%d: glued text %zu differs\n",
				    names[e / 4], e / 2 % 2 ? "gguf" : "json",
				    (int)(e % 2), r);
		}
		/* Long stretches without a cut (merged on a tree, not a heap):
		 * random text of a few letters, up to 20 KB. */
		for (size_t r = 0; r < 100; r++) {
			static const char *const abc[] = { "a", "b", "e", "t",
			    "th", "  ", "\n", "ab", "é", "中", "▁", "x" };
			size_t len = 0, want = 100 + unit_rand() % 20000;
			size_t kinds = 1 + unit_rand() % WB_NELEM(abc);

			while (len < want) {
				const char *g = abc[unit_rand() % kinds];

				memcpy(big + len, g, strlen(g));
				len += strlen(g);
			}
			cases++;
			if (!same_ids(c, big, len, a, b, cap) && bad++ < 5)
				printf("# %s %s special=%d: run %zu differs\n",
				    names[e / 4], e / 2 % 2 ? "gguf" : "json",
				    (int)(e % 2), r);
		}
	}
	printf("# %zu texts, %zu differ\n", cases, bad);
	CHECK(cases > 8 * ntexts);
	CHECK_U(bad, 0);
	free(a);
	free(b);
	free(big);
}

/* cp in UTF-8 at out; its length. */
static size_t
put_utf8(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A random character of the corpus: most of them tokens. */
static size_t
corpus_char(char *out)
{
	const json_t *jt = json_object_get(texts[unit_rand() % ntexts], "text");
	const unsigned char *t = (const unsigned char *)json_string_value(jt);
	size_t l = json_string_length(jt), i;
	int n;

	if (l == 0)
		return 0;
	for (i = unit_rand() % l; i > 0 && (t[i] & 0xC0) == 0x80; i--)
		;
	if ((n = wb_utf8_seqlen(t + i, l - i)) <= 0)
		return 0;
	memcpy(out, t + i, (size_t)n);
	return (size_t)n;
}

/* Characters that are tokens and characters that are none (their bytes'
 * tokens), of many scripts and more of them than the counters keep by
 * code point, alone or between letters, spaces and ▁, in texts long
 * enough for those caches: the ids of the text merged whole. */
static void
lone_characters_give_the_ids_of_the_whole(void)
{
	static const uint32_t ranges[][2] = { { 0xA0, 0x17F }, { 0x370, 0x3FF },
	    { 0x400, 0x4FF }, { 0x590, 0x6FF }, { 0x900, 0x97F },
	    { 0xB80, 0xBFF }, { 0xE00, 0xE7F }, { 0x1100, 0x137F },
	    { 0x1780, 0x17FF }, { 0x2000, 0x21FF }, { 0x2C00, 0x2C5F },
	    { 0x3040, 0x30FF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA48F },
	    { 0xAC00, 0xD7A3 }, { 0x1F300, 0x1F6FF }, { 0x20000, 0x2A6DF } };
	static const char *const glue[] = { " ", " ", "\n", "a", "x", "th",
	    "\xe2\x96\x81", "  ", ".", "<0x41>" };
	size_t cases = 0, bad = 0, cap = 1 << 16, lone[2] = { 0 };
	uint32_t *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
	char *big = malloc(cap + 16);

	for (size_t e = 0; e < NMODELS * 4; e++) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

		if (c == NULL)
			continue;
		for (size_t r = 0; r < 40; r++) {
			size_t len = 0, want = 5000 + unit_rand() % 20000;

			while (len < want) {
				unsigned k = (unsigned)(unit_rand() % 8);

				if (k < 4) {
					const uint32_t *g = ranges[unit_rand() %
					    WB_NELEM(ranges)];
					uint32_t cp = g[0] + (uint32_t)(unit_rand() %
					    (g[1] - g[0] + 1));

					len += put_utf8(cp, big + len);
				} else if (k < 6) {
					len += corpus_char(big + len);
				} else {
					const char *g = glue[unit_rand() % WB_NELEM(glue)];

					memcpy(big + len, g, strlen(g));
					len += strlen(g);
				}
			}
			cases++;
			if (!same_ids(c, big, len, a, b, cap) && bad++ < 5)
				printf("# %s %s special=%d: text %zu differs\n",
				    names[e / 4], e / 2 % 2 ? "gguf" : "json",
				    (int)(e % 2), r);
		}
		/* Both kinds were there: a token alone, and bytes' tokens. */
		for (size_t r = 0; r < 200; r++) {
			const uint32_t *g = ranges[r % WB_NELEM(ranges)];
			uint32_t cp = g[0] + (uint32_t)(unit_rand() % (g[1] - g[0] + 1));
			size_t l = put_utf8(cp, big);

			lone[wb_count(c, big, l) > 1]++;
		}
	}
	printf("# %zu texts, %zu differ; %zu characters alone a token, %zu "
	    "not\n", cases, bad, lone[0], lone[1]);
	CHECK(cases >= 8 * 40);
	CHECK(lone[0] > 100 && lone[1] > 100);
	CHECK_U(bad, 0);
	free(a);
	free(b);
	free(big);
}

/* Streamed in random pieces, the text s[0..len): WB_OK and the count in
 * *got, or the status of the first error and its offset in *off. */
static int
stream_status(const struct wb_counter *c, const char *s, size_t len,
    uint64_t *got, uint64_t *off)
{
	struct wb_count_stream *cs = wb_count_stream_new(c);
	struct wb_err err = { 0 };
	size_t at = 0;
	int st = WB_OK;

	while (st == WB_OK && at < len) {
		size_t m = 1 + unit_rand() % 700;

		m = m > len - at ? len - at : m;
		st = wb_count_stream_feed(cs, s + at, m, &err);
		at += m;
	}
	if (st == WB_OK)
		st = wb_count_stream_end(cs, got, &err);
	*off = err.offset;
	wb_count_stream_free(cs);
	return st;
}

/* Text of characters of one to four bytes (among them the lead bytes
 * with narrower second bytes: E0, ED, F0, F4), runs of ASCII, and now and
 * then a sequence that is no character (overlong, a surrogate, past
 * U+10FFFF, a stray or missing continuation byte, cut short at the end):
 * a stream stops at the first byte that wb_utf8_valid stops at, or counts
 * what the whole text counts; and cut into pieces, the text gives the ids
 * it gives merged whole, whatever bytes are in it. */
static void
invalid_utf8_is_found_where_it_is(void)
{
	static const char *const chars[] = { "a", "The quick brown fox ",
	    "        ", "\xc3\xa9", "\xd0\x96", "\xe0\xa4\x95",
	    "\xe0\xb8\x81", "\xe4\xb8\xad", "\xed\x95\x9c",
	    "\xed\x9f\xbb", "\xef\xbf\xbd", "\xf0\x9f\x98\x80",
	    "\xf0\xa0\x80\x80", "\xf4\x8f\xbf\xbf", "\xe2\x96\x81", " " };
	static const char *const bad[] = { "\xe0\x80\x80", "\xe0\x9f\xbf",
	    "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
	    "\xf0\x80\x80\x80", "\xc0\xaf", "\xc1\xbf", "\xf5\x80",
	    "\xff", "\x80", "\xbf", "\xe4\xb8", "\xe4\x61", "\xc3", "\xf0\x9f\x98" };
	size_t cases = 0, bad_n = 0, invalid = 0, cap = 1 << 16;
	uint32_t *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
	char *t = malloc(cap);

	for (size_t e = 0; e < NMODELS * 4; e += 2) {
		struct wb_counter *c = ctr[e / 4][e / 2 % 2][0];

		if (c == NULL)
			continue;
		for (size_t r = 0; r < 150; r++) {
			size_t len = 0, want = 1 + unit_rand() % 9000, valid;
			uint64_t got = 0, off = 0;
			unsigned odds = r % 2 ? 1 + (unsigned)(want / 40) : 0;
			int st;

			while (len < want) {
				const char *g = odds > 0 && unit_rand() % odds == 0 ?
				    bad[unit_rand() % WB_NELEM(bad)] :
				    chars[unit_rand() % WB_NELEM(chars)];

				memcpy(t + len, g, strlen(g));
				len += strlen(g);
			}
			valid = wb_utf8_valid(t, len);
			invalid += valid < len;
			cases++;
			st = stream_status(c, t, len, &got, &off);
			if ((valid < len ? st != WB_EDATA || off != valid :
			    st != WB_OK || got != wb_count(c, t, len)) &&
			    bad_n++ < 5)
				printf("# %s %s: text %zu: status %d at %llu, "
				    "valid up to %zu of %zu\n", names[e / 4],
				    e / 2 % 2 ? "gguf" : "json", r, st,
				    (unsigned long long)off, valid, len);
			cases++;
			if (!same_ids(c, t, len, a, b, cap) && bad_n++ < 5)
				printf("# %s %s: text %zu: ids differ\n",
				    names[e / 4], e / 2 % 2 ? "gguf" : "json", r);
		}
	}
	printf("# %zu cases, %zu invalid texts, %zu differ\n", cases, invalid,
	    bad_n);
	CHECK(invalid > 100 && cases / 2 - invalid > 100);
	CHECK_U(bad_n, 0);
	free(a);
	free(b);
	free(t);
}

/* 100 KB of one letter, of spaces, of 中, ...: counted whole and as a
 * stream alike (the times are printed; a quadratic one would take
 * minutes). */
static void
long_runs_are_quick(void)
{
	static const char *const runs[] = { "a", " ", "中", "\n", "ab " };
	size_t n = 100000;
	char *s = malloc(n + 8);

	for (size_t r = 0; r < WB_NELEM(runs); r++) {
		size_t l = strlen(runs[r]), len = 0;

		while (len + l <= n) {
			memcpy(s + len, runs[r], l);
			len += l;
		}
		for (size_t e = 0; e < NMODELS * 4; e += 2) {
			struct wb_counter *c = ctr[e / 4][e / 2 % 2][0];
			double t0 = wb_now();
			struct wb_count_stream *cs;
			struct wb_err err;
			uint64_t k, got = 0;

			if (c == NULL)
				continue;
			k = wb_count(c, s, len);
			printf("# %s %s: %zu x \"%s\": %llu tokens in %.1f ms\n",
			    names[e / 4], e / 2 % 2 ? "gguf" : "json", len / l,
			    runs[r][0] == '\n' ? "\\n" : runs[r],
			    (unsigned long long)k, (wb_now() - t0) * 1e3);
			CHECK(k > 0 && k <= len + 1);
			/* Streams as wb-count -r makes them. */
			wb_spm_set_stream_hold(c, 32768);
			cs = wb_count_stream_new(c);
			for (size_t at = 0; at < len; at += 4096)
				CHECK(wb_count_stream_feed(cs, s + at, len - at < 4096 ?
				    len - at : 4096, &err) == WB_OK);
			CHECK(wb_count_stream_end(cs, &got, &err) == WB_OK);
			CHECK_U(got, k);
			wb_count_stream_free(cs);
			wb_spm_set_stream_hold(c, 0);
		}
	}
	free(s);
}

/* 100 KB of one character or a few, repeated (long runs merge in waves on
 * the tree, and split tokens are looked for over them), give the ids of
 * the text merged whole on the heap. */
static void
long_runs_give_the_ids_of_the_whole(void)
{
	static const char *const runs[] = { "a", " ", "ab", "\n", "\t", "▁",
	    "7", "0123456789", "😀", " \n", "中", "aab", "a a", "\n\n ",
	    "  \t", "<", "<unused1", "=", "é", "▁▁a", "<s>", "a</s>", "<bos>",
	    "<start_of_turn>user\n", "<end_of_turn>\n\n", "<unk><pad>" };
	size_t n = 100000, cases = 0, bad = 0, len;
	char *s = malloc(n + 16);
	uint32_t *a = malloc((n + 8) * sizeof(*a)), *b = malloc((n + 8) * sizeof(*b));

	for (size_t r = 0; r < WB_NELEM(runs); r++) {
		size_t l = strlen(runs[r]);

		for (len = 0; len + l <= n; len += l)
			memcpy(s + len, runs[r], l);
		for (size_t e = 0; e < NMODELS * 4; e++) {
			struct wb_counter *c = ctr[e / 4][e / 2 % 2][e % 2];

			if (c == NULL)
				continue;
			cases++;
			if (!same_ids(c, s, len, a, b, n + 8) && bad++ < 5)
				printf("# %s %s special=%d: 100 KB of \"%s\" "
				    "differs\n", names[e / 4], e / 2 % 2 ?
				    "gguf" : "json", (int)(e % 2), runs[r]);
		}
	}
	printf("# %zu runs, %zu differ\n", cases, bad);
	CHECK_U(cases, WB_NELEM(runs) * NMODELS * 4);
	CHECK_U(bad, 0);
	free(s);
	free(a);
	free(b);
}

/* A vocabulary of every string of one to four of the letters a, b, c,
 * each made by a random merge of two of its parts, the merges in random
 * order and the ids shuffled (a GGUF scores a token by its id): lower
 * ranks made after higher ones, pairs of low rank on both sides of a
 * merge; "a", "bb" and "cab" are also added tokens, split out first.
 * Long random words of those letters give the heap's ids, and the places
 * the whole (test) setting finds the added ones at. */
static void
random_vocabularies_give_the_ids_of_the_heap(void)
{
	char dir[] = "/tmp/test-spm-voc.XXXXXX", json[64], gguf[64], cmd[256];
	static char text[8192];
	static uint32_t a[8192], b[8192];
	char tok[121][5];
	size_t nt = 0, cases = 0, bad = 0;
	uint32_t id[376], order[121];

	CHECK(mkdtemp(dir) != NULL);
	for (size_t l = 1; l <= 4; l++)
		for (size_t x = 0, m = l == 1 ? 3 : l == 2 ? 9 : l == 3 ? 27 : 81;
		    x < m; x++, nt++) {
			for (size_t i = 0, v = x; i < l; i++, v /= 3)
				tok[nt][i] = (char)('a' + v % 3);
			tok[nt][l] = '\0';
		}
	for (size_t v = 0; v < 6; v++) {
		FILE *f;

		/* Ids 0..255 the bytes, 256.. the letters' strings, shuffled. */
		for (size_t i = 0; i < 120; i++)
			id[i] = (uint32_t)i;
		for (size_t i = 119; i > 0; i--) {
			size_t j = unit_rand() % (i + 1);
			uint32_t t = id[i];

			id[i] = id[j];
			id[j] = t;
		}
		for (size_t i = 0; i < 117; i++)
			order[i] = (uint32_t)(i + 3);
		for (size_t i = 116; i > 0; i--) {
			size_t j = unit_rand() % (i + 1);
			uint32_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		snprintf(json, sizeof(json), "%s/tokenizer.json", dir);
		snprintf(gguf, sizeof(gguf), "%s/v.gguf", dir);
		CHECK((f = fopen(json, "w")) != NULL);
		if (f == NULL)
			break;
		fprintf(f, "{\"version\":\"1.0\",\"added_tokens\":[");
		for (size_t i = 0; i < 120; i++)
			if (strcmp(tok[i], "a") == 0 || strcmp(tok[i], "bb") == 0 ||
			    strcmp(tok[i], "cab") == 0)
				fprintf(f, "%s{\"id\":%u,\"content\":\"%s\","
				    "\"special\":false}", tok[i][0] == 'a' ? "" :
				    ",", 256 + id[i], tok[i]);
		fprintf(f, "],"
		    "\"normalizer\":{\"type\":\"Replace\",\"pattern\":"
		    "{\"String\":\" \"},\"content\":\"▁\"},"
		    "\"pre_tokenizer\":null,\"model\":"
		    "{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{");
		for (size_t c = 0; c < 256; c++)
			fprintf(f, "\"<0x%02X>\":%u,", (unsigned)c,
			    (unsigned)c);
		for (size_t i = 0; i < 120; i++)
			fprintf(f, "\"%s\":%u%s", tok[i], 256 + id[i],
			    i + 1 < 120 ? "," : "");
		fprintf(f, "},\"merges\":[");
		for (size_t i = 0; i < 117; i++) {
			const char *t = tok[order[i]];
			size_t l = strlen(t), cut = 1 + unit_rand() % (l - 1);

			fprintf(f, "\"%.*s %s\"%s", (int)cut, t, t + cut,
			    i + 1 < 117 ? "," : "");
		}
		fprintf(f, "]}}\n");
		fclose(f);
		snprintf(cmd, sizeof(cmd), "node tests/tokenizer/mkgguf.js "
		    "--spm '%s' '%s'", json, gguf);
		CHECK(system(cmd) == 0);
		for (int k = 0; k < 2; k++) {
			struct wb_counter *c = open_counter(k ? gguf : json, 0);

			CHECK(c != NULL);
			if (c == NULL)
				continue;
			for (size_t r = 0; r < 300; r++) {
				size_t len = r % 10 == 0 ? 5000 + unit_rand() % 3000 :
				    64 + unit_rand() % 3000;
				size_t kinds = 1 + unit_rand() % 3;

				for (size_t i = 0; i < len; i++)
					text[i] = (char)('a' + (unit_rand() % 4 == 0 ?
					    unit_rand() % kinds : r % kinds));
				cases++;
				if (!same_ids(c, text, len, a, b, WB_NELEM(a)) &&
				    bad++ < 5)
					printf("# vocabulary %zu %s: word %zu "
					    "differs\n", v, k ? "gguf" : "json", r);
			}
			wb_counter_free(c);
		}
		unlink(json);
		unlink(gguf);
	}
	rmdir(dir);
	printf("# %zu words, %zu differ\n", cases, bad);
	CHECK_U(cases, 6 * 2 * 300);
	CHECK_U(bad, 0);
}

static void
free_all(void)
{
	for (size_t m = 0; m < NMODELS; m++)
		for (int k = 0; k < 2; k++)
			for (int s = 0; s < 2; s++)
				wb_counter_free(ctr[m][k][s]);
	for (size_t i = 0; i < ntexts; i++)
		json_decref(texts[i]);
}

int
main(void)
{
	unit_seed();
	RUN(the_counters_load);
	RUN(the_corpus_reads);
	RUN(streamed_counts_equal_whole_counts);
	RUN(a_stream_started_anew_counts_a_new_text);
	RUN(added_tokens_are_found_without_new_tables);
	RUN(streams_cut_near_tokens_that_strip_spaces);
	RUN(cuts_keep_the_ids_before_them);
	RUN(truncation_stays_within_the_budget);
	RUN(left_cuts_keep_the_ids_before_them);
	RUN(streamed_truncation_is_whole_truncation);
	RUN(pieces_give_the_ids_of_the_whole);
	RUN(lone_characters_give_the_ids_of_the_whole);
	RUN(invalid_utf8_is_found_where_it_is);
	RUN(long_runs_are_quick);
	RUN(long_runs_give_the_ids_of_the_whole);
	RUN(random_vocabularies_give_the_ids_of_the_heap);
	free_all();
	return UNIT_END();
}
