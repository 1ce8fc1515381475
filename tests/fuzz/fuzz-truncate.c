/* fuzz-truncate.c: the truncation guarantee on any text and budget. */
#include "fuzz.h"

#include <string.h>

#include "wb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_counter_spec spec;
	struct wb_counter *c;
	struct wb_trunc t;
	struct wb_err err;
	const char *ell;
	const char *text;
	size_t len, el;
	uint64_t budget;

	if (size < 4)
		return 0;
	wb_counter_spec_default(&spec);
	spec.method = (enum wb_method)(data[0] % 3);
	wb_counter_preset(&spec, data[1] & 1 ? "llama" : "default");
	if (data[1] & 2)
		spec.hybrid_threshold = data[1] >> 2;
	ell = (const char *[]){ "...", "", "\xE2\x80\xA6", " [cut]" }[data[2] & 3];
	budget = data[3];
	text = (const char *)data + 4;
	len = size - 4;
	if (wb_utf8_valid(text, len) != len)
		return 0;
	c = wb_counter_new(&spec, &err);
	FUZZ_ASSERT(c != NULL);
	enum wb_keep keep = data[2] & 4 ? WB_KEEP_TAIL : WB_KEEP_HEAD;
	FUZZ_ASSERT(wb_truncate(c, text, len, budget, keep, ell, &t, &err) ==
	    WB_OK);
	FUZZ_ASSERT(t.final_tokens <= budget);
	FUZZ_ASSERT(wb_count(c, t.text, t.len) == t.final_tokens);
	FUZZ_ASSERT(wb_count(c, text, len) == t.original_tokens);
	FUZZ_ASSERT(wb_utf8_valid(t.text, t.len) == t.len);
	el = strlen(ell);
	if (!t.was_truncated) {
		FUZZ_ASSERT(t.len == len && memcmp(t.text, text, len) == 0);
	} else if (t.len > 0) {
		size_t kept = t.len - el;
		FUZZ_ASSERT(t.len >= el && kept < len);
		if (keep == WB_KEEP_HEAD)
			FUZZ_ASSERT(memcmp(t.text, text, kept) == 0 &&
			    memcmp(t.text + kept, ell, el) == 0);
		else
			FUZZ_ASSERT(memcmp(t.text, ell, el) == 0 &&
			    memcmp(t.text + el, text + len - kept, kept) == 0);
	}
	free(t.text);
	wb_counter_free(c);
	return 0;
}
