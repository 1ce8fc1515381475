/*
 * test-hf.c: the counters of tokenizer.json files (lib/hf.c) against
 * Hugging Face's tokenizers: every id of every text that
 * tests/tokenizer/expect-hf.js wrote with the npm `tokenizers` into
 * $WB_TOKENIZERS_DIR/expect.jsonl, for Llama 3.1's, gpt-oss's, Qwen 3's,
 * DeepSeek V3's and Tekken's files, with and without special tokens; the ids decode
 * to the text (Qwen's to its NFC); streams
 * count what tokenizers counts; truncation never ends over the budget.
 */
#include "wb_priv.h"
#include "unit.h"

static const char *const files[] = { "llama3_1", "gptoss", "qwen3",
	"deepseek_v3", "tekken" };
#define NFILES (sizeof(files) / sizeof(files[0]))

/* A counter of each file without and with special tokens; their encodings
 * (the same file's twice: one of them suffices). */
static struct wb_counter *ctr[NFILES][2];
static struct wb_bpe *bpe[NFILES];
static char path[NFILES][1024];
static json_t **cases;
static size_t ncases;

static size_t
file_index(const char *name)
{
	for (size_t i = 0; i < NFILES; i++)
		if (strcmp(name, files[i]) == 0)
			return i;
	return NFILES;
}

static struct wb_counter *
hf_counter(size_t e, int special)
{
	struct wb_counter_spec spec;
	struct wb_err err;
	struct wb_counter *c;

	wb_counter_spec_default(&spec);
	spec.tokenizer = path[e];
	spec.allow_special = special;
	c = wb_counter_new(&spec, &err);
	if (c == NULL)
		fprintf(stderr, "  %s\n", err.msg);
	return c;
}

static void
both_files_load(void)
{
	const char *dir = getenv("WB_TOKENIZERS_DIR");

	CHECK(dir != NULL);
	for (size_t i = 0; dir != NULL && i < NFILES; i++) {
		double t0 = wb_now();

		snprintf(path[i], sizeof(path[i]), "%s/%s/tokenizer.json", dir,
		    files[i]);
		CHECK((ctr[i][0] = hf_counter(i, 0)) != NULL);
		if (ctr[i][0] != NULL)
			printf("# %s loaded in %.0f ms\n", files[i],
			    (wb_now() - t0) * 1e3);
		CHECK((ctr[i][1] = hf_counter(i, 1)) != NULL);
		if (ctr[i][1] != NULL)
			bpe[i] = (struct wb_bpe *)wb_counter_bpe(ctr[i][1]);
	}
}

static void
the_expected_ids_read(void)
{
	char name[1100], *line = NULL;
	size_t cap = 0;
	json_error_t je;
	FILE *f;

	snprintf(name, sizeof(name), "%s/expect.jsonl",
	    getenv("WB_TOKENIZERS_DIR") ? getenv("WB_TOKENIZERS_DIR") : ".");
	f = fopen(name, "r");
	CHECK(f != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, JSON_ALLOW_NUL, &je);

		CHECK(j != NULL && json_is_string(json_object_get(j, "text")) &&
		    json_is_array(json_object_get(j, "ids")));
		cases = realloc(cases, (ncases + 1) * sizeof(*cases));
		cases[ncases++] = j;
	}
	free(line);
	if (f != NULL)
		fclose(f);
	CHECK(ncases > 8000);
}

/* The case's file (NFILES if unknown), special flag, text and ids. */
static size_t
case_of(const json_t *c, int *special, const char **s, size_t *len,
    uint32_t **ids, size_t *n)
{
	const json_t *t = json_object_get(c, "text"), *a = json_object_get(c, "ids");

	*special = (int)json_integer_value(json_object_get(c, "special"));
	*s = json_string_value(t);
	*len = json_string_length(t);
	*n = json_array_size(a);
	*ids = malloc((*n + 1) * sizeof(**ids));
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = (uint32_t)json_integer_value(json_array_get(a, i));
	return file_index(json_string_value(json_object_get(c, "file")));
}

static void
every_id_equals_hf(void)
{
	size_t bad = 0, badcount = 0, badround = 0, compared = 0;
	struct wb_err err;

	for (size_t k = 0; k < ncases; k++) {
		int special;
		const char *s;
		size_t len, nw, ng, blen, e;
		uint32_t *want, *got;
		unsigned char *nfc = NULL;
		char *back;

		e = case_of(cases[k], &special, &s, &len, &want, &nw);
		if (e == NFILES) {
			/* Another engine's file (tests/spm.bats). */
			free(want);
			continue;
		}
		if (bpe[e] == NULL) {
			bad++;
			free(want);
			continue;
		}
		got = malloc((len + 1) * sizeof(*got));
		ng = wb_bpe_encode(bpe[e], s, len, special, got, len + 1, &err);
		if ((ng != nw || memcmp(got, want, nw * sizeof(*got)) != 0) &&
		    bad++ < 5)
			fprintf(stderr, "  %s special %d %s: ids differ\n", files[e],
			    special, json_string_value(json_object_get(cases[k],
			    "name")));
		if (wb_bpe_encode(bpe[e], s, len, special, NULL, 0, &err) != nw)
			badcount++;
		if (strcmp(files[e], "qwen3") == 0 &&
		    wb_nfc((const unsigned char *)s, len, &nfc, &len) == 1)
			s = (const char *)nfc;
		back = malloc(len + 1);
		if (wb_bpe_decode(bpe[e], got, ng, back, len + 1, &blen, &err) !=
		    WB_OK || blen != len || memcmp(back, s, len) != 0)
			badround++;
		free(back);
		free(nfc);
		nfc = NULL;
		free(got);
		free(want);
		compared++;
	}
	printf("# %zu id lists compared\n", compared);
	CHECK(compared > 8000);
	CHECK_U(bad, 0);
	CHECK_U(badcount, 0);
	CHECK_U(badround, 0);
}

/* The same through the merging of long pieces, then the piece cache. */
static void
long_pieces_and_the_cache_equal_hf(void)
{
	for (size_t i = 0; i < NFILES; i++)
		if (bpe[i] != NULL)
			wb_bpe_set_small_piece(bpe[i], 1);
	every_id_equals_hf();
	for (size_t i = 0; i < NFILES; i++)
		if (bpe[i] != NULL) {
			wb_bpe_set_small_piece(bpe[i], SIZE_MAX);
			wb_bpe_set_cache_after(bpe[i], 0);
		}
	every_id_equals_hf();
	for (size_t i = 0; i < NFILES; i++)
		if (bpe[i] != NULL)
			wb_bpe_set_cache_after(bpe[i], 256);
}

/* Fed in random pieces (the added tokens' texts in pieces of 1 to 3
 * bytes, so that cuts fall near and inside them), a stream counts as
 * many tokens as tokenizers gives. */
static void
streamed_counts_equal_hf(void)
{
	struct wb_counter *(*c)[2] = ctr;
	size_t streamed = 0, bad = 0;
	struct wb_err err;

	for (size_t k = 0; k < ncases; k++) {
		const char *name = json_string_value(json_object_get(cases[k], "name"));
		int special, small;
		const char *s;
		size_t len, nw, e, at = 0;
		uint32_t *want;
		uint64_t got = 0;
		struct wb_count_stream *cs;

		if (strcmp(name, "joined") != 0 && strncmp(name, "added", 5) != 0)
			continue;
		small = strcmp(name, "joined") != 0;
		e = case_of(cases[k], &special, &s, &len, &want, &nw);
		free(want);
		if (e == NFILES || c[e][special] == NULL)
			continue;
		cs = wb_count_stream_new(c[e][special]);
		while (at < len) {
			size_t m = small ? 1 + unit_rand() % 3 : 1 + unit_rand() % 70000;

			m = m < len - at ? m : len - at;
			if (wb_count_stream_feed(cs, s + at, m, &err) != WB_OK)
				break;
			at += m;
		}
		if ((at < len || wb_count_stream_end(cs, &got, &err) != WB_OK ||
		    got != nw) && bad++ < 5)
			fprintf(stderr, "  %s special %d %s: streamed %llu, "
			    "tokenizers %zu\n", files[e], special, name,
			    (unsigned long long)got, nw);
		wb_count_stream_free(cs);
		streamed++;
	}
	printf("# %zu streamed texts\n", streamed);
	CHECK(streamed > 500);
	CHECK_U(bad, 0);
}

/* Truncated to a random budget, a text never counts more than it. */
static void
truncation_never_ends_over_budget(void)
{
	size_t cases_run = 0, over = 0, badutf = 0, badcount = 0;
	struct wb_counter *(*c)[2] = ctr;
	struct wb_err err;

	for (size_t k = 0; k < ncases; k += 5) {
		int special;
		const char *s;
		size_t len, nw, e;
		uint32_t *want;
		uint64_t budget;
		struct wb_trunc t;

		e = case_of(cases[k], &special, &s, &len, &want, &nw);
		free(want);
		if (e == NFILES || c[e][special] == NULL || nw == 0 ||
		    strcmp(json_string_value(json_object_get(cases[k], "name")),
		    "joined") == 0)
			continue;
		budget = unit_rand() % (nw + 1);
		cases_run++;
		if (wb_truncate(c[e][special], s, len, budget, unit_rand() & 1 ?
		    WB_KEEP_TAIL : WB_KEEP_HEAD, "...", &t, &err) != WB_OK) {
			over++;
			continue;
		}
		if (t.final_tokens > budget)
			over++;
		if (wb_utf8_valid(t.text, t.len) != t.len)
			badutf++;
		if (wb_count(c[e][special], t.text, t.len) != t.final_tokens)
			badcount++;
		free(t.text);
	}
	printf("# %zu truncations\n", cases_run);
	CHECK(cases_run > 1000);
	CHECK_U(over, 0);
	CHECK_U(badutf, 0);
	CHECK_U(badcount, 0);
}

int
main(void)
{
	unit_seed();
	RUN(both_files_load);
	RUN(the_expected_ids_read);
	RUN(every_id_equals_hf);
	RUN(long_pieces_and_the_cache_equal_hf);
	RUN(streamed_counts_equal_hf);
	RUN(truncation_never_ends_over_budget);
	for (size_t i = 0; i < NFILES; i++) {
		wb_counter_free(ctr[i][0]);
		wb_counter_free(ctr[i][1]);
	}
	for (size_t i = 0; i < ncases; i++)
		json_decref(cases[i]);
	free(cases);
	return UNIT_END();
}
