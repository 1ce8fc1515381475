/*
 * fuzz-bpe.c: the exact encoder on any bytes, and the rank-file loader on
 * any file. The first byte picks: an encoding to encode the rest with
 * (the count equals the ids, the ids decode to the input, a truncation
 * keeps its budget), or the loader, fed the rest as a .tiktoken file.
 * o200k_harmony has two texts for one special token ("<|endofprompt|>"
 * and "<|reserved_200018|>"): its ids decode to a text that encodes to
 * them again.
 */
#include "fuzz.h"

#include <string.h>
#include <sys/stat.h>

#include "wb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const encodings[] = {
	"r50k_base", "p50k_edit", "cl100k_base", "o200k_base", "o200k_harmony",
};
#define NENC (sizeof(encodings) / sizeof(encodings[0]))

static struct wb_counter *counters[NENC];

/* The rank files: WB_ENCODINGS_DIR, as make test and make fuzz set it. */
static struct wb_counter *
counter(int i)
{
	struct wb_counter_spec spec;
	struct wb_err err;

	if (counters[i] != NULL)
		return counters[i];
	wb_counter_spec_default(&spec);
	snprintf(spec.encoding, sizeof(spec.encoding), "%s", encodings[i]);
	spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
	counters[i] = wb_counter_new(&spec, &err);
	if (counters[i] == NULL) {
		fprintf(stderr, "fuzz-bpe: %s\n", err.msg);
		abort();
	}
	return counters[i];
}

static void
load_any(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/fuzz-bpe.XXXXXX", path[64];
	struct wb_err err;
	struct wb_bpe *b;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/r50k_base.tiktoken", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	b = wb_bpe_open(dir, "r50k_base", WB_BPE_NO_CACHE, &err);
	/* Anything but the official file is refused, with a reason. */
	FUZZ_ASSERT(b == NULL && err.msg[0] != '\0');
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 2;
	size_t len, n, back_len;
	uint32_t *ids;
	char *back;
	struct wb_err err;
	struct wb_trunc t;
	struct wb_counter *c;

	if (size < 2)
		return 0;
	if (data[0] >= 4 * 60) {
		load_any(data + 1, size - 1);
		return 0;
	}
	c = counter(data[0] % NENC);
	len = size - 2;
	ids = malloc((len + 1) * sizeof(*ids));
	back = malloc(len + 1);
	n = wb_bpe_encode(wb_counter_bpe(c), s, len, data[1] & 1, ids, len + 1,
	    &err);
	FUZZ_ASSERT(n != WB_BPE_FAIL && n <= len);
	FUZZ_ASSERT(wb_bpe_decode(wb_counter_bpe(c), ids, n, back, len + 1,
	    &back_len, &err) == WB_OK);
	if (data[0] % NENC == NENC - 1 && (data[1] & 1)) {
		uint32_t *again = malloc((back_len + 1) * sizeof(*again));

		FUZZ_ASSERT(back_len <= len && wb_bpe_encode(wb_counter_bpe(c),
		    back, back_len, 1, again, back_len + 1, &err) == n &&
		    (n == 0 || memcmp(again, ids, n * sizeof(*ids)) == 0));
		free(again);
	} else
		FUZZ_ASSERT(back_len == len && memcmp(back, s, len) == 0);
	if (!(data[1] & 1))
		FUZZ_ASSERT(wb_count(c, s, len) == n);
	if (wb_utf8_valid(s, len) == len) {
		uint64_t budget = data[1] >> 2;
		FUZZ_ASSERT(wb_truncate(c, s, len, budget, data[1] & 2 ?
		    WB_KEEP_TAIL : WB_KEEP_HEAD, "...", &t, &err) == WB_OK);
		FUZZ_ASSERT(t.final_tokens <= budget);
		FUZZ_ASSERT(wb_count(c, t.text, t.len) == t.final_tokens);
		free(t.text);
	}
	free(ids);
	free(back);
	return 0;
}
