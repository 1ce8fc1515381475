/*
 * fuzz-hf.c: the tokenizer loaders of -T on any file: a tokenizer.json,
 * or a GGUF file when it starts as one (as -T tells them apart).  A file
 * they refuse says why in one line, with status 65 (or 70 when memory
 * runs out); the encoding of one they accept gives ids that decode to
 * the text they came from, with and without the special tokens.
 * libFuzzer's -malloc_limit_mb (make fuzz: the rss limit) catches an
 * allocation that the size of the file does not justify.  The same file
 * goes to the SentencePiece-style loaders too (GGUF model "llama", a
 * tokenizer.json with byte fallback or "▁"), whose counters must encode
 * and decode the texts without failing.
 */
#include "fuzz.h"

#include <string.h>

#include "wb_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
	"", "hello world", "hello\nabc[X]x<S>", " 'll 123456  \n\n\t x",
	"日本語のテキスト, русский текст 👩‍👩‍👧 <|endoftext|>",
};

/* Every text encodes to ids that decode to it. */
static void
round_trip(const struct wb_bpe *b)
{
	uint32_t ids[256];
	char out[512];
	struct wb_err err = { 0 };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (int allow = 0; allow < 2; allow++) {
			size_t len = strlen(texts[i]), got;
			size_t n = wb_bpe_encode(b, texts[i], len, allow, ids,
			    sizeof(ids) / sizeof(ids[0]), &err);

			FUZZ_ASSERT(n != WB_BPE_FAIL && n <= len);
			FUZZ_ASSERT(wb_bpe_encode(b, texts[i], len, allow, NULL,
			    0, NULL) == n);
			for (size_t j = 0; j < n; j++)
				FUZZ_ASSERT(ids[j] < wb_bpe_n_vocab(b));
			FUZZ_ASSERT(wb_bpe_decode(b, ids, n, out, sizeof(out),
			    &got, &err) == WB_OK);
			FUZZ_ASSERT(got == len && memcmp(out, texts[i], len) == 0);
		}
}

/* The SentencePiece-style counter of the file at path, if it is one:
 * each text encodes, each id list decodes, the count is the ids'. */
static void
spm(const uint8_t *data, size_t size, const char *path)
{
	struct wb_counter_spec spec;
	struct wb_err err = { 0 };
	struct wb_counter *c = NULL;
	bool mine = true;
	json_t *root;

	wb_counter_spec_default(&spec);
	if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
		c = wb_spm_gguf_new(&spec, path, "m", &mine, &err);
	} else {
		root = json_loadb((const char *)data, size, 0, NULL);
		mine = root != NULL && wb_spm_json_wants(root);
		if (mine)
			c = wb_spm_json_new(&spec, root, path, "m", &err);
		json_decref(root);
	}
	if (!mine)
		return;
	if (c == NULL) {
		FUZZ_ASSERT(err.status == WB_EDATA ||
		    err.status == WB_EINTERNAL);
		FUZZ_ASSERT(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
		return;
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		uint32_t ids[512];
		size_t len = strlen(texts[i]), got;
		size_t n = wb_counter_encode(c, texts[i], len, ids,
		    sizeof(ids) / sizeof(ids[0]), &err);
		char *out;

		FUZZ_ASSERT(n != WB_BPE_FAIL && n <= sizeof(ids) / sizeof(ids[0]));
		FUZZ_ASSERT(wb_count(c, texts[i], len) == n);
		out = wb_counter_decode(c, ids, n, &got, &err);
		FUZZ_ASSERT(out != NULL);
		free(out);
	}
	wb_counter_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_err err = { 0 };
	struct wb_bpe *b;
	char path[64];
	int fd;
	FILE *f = fuzz_file(data, size, &fd);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	spm(data, size, path);
	b = size >= 4 && memcmp(data, "GGUF", 4) == 0 ?
	    wb_gguf_bpe_open(path, &err) : wb_hf_open(path, &err);
	fclose(f);
	if (b == NULL) {
		FUZZ_ASSERT(err.status == WB_EDATA ||
		    err.status == WB_EINTERNAL);
		FUZZ_ASSERT(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
		return 0;
	}
	round_trip(b);
	wb_bpe_free(b);
	return 0;
}
