/*
 * fuzz-json.c: the record reader and writer against jansson on any bytes.
 * The fast reader refuses what jansson refuses and reads the rest as the
 * same value; the writer writes jansson's bytes.
 */
#include "fuzz.h"

#include <string.h>

#include "wb_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17);
	const char *buf = (const char *)data;
	json_error_t je;
	json_t *a = wb_json_parse(buf, size);
	json_t *b = json_loadb(buf, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

	if (a != NULL) {
		char stack[64];
		struct wb_buf out = { .p = stack, .cap = sizeof(stack) };
		char *s;

		FUZZ_ASSERT(b != NULL && json_equal(a, b));
		s = json_dumps(b, flags);
		FUZZ_ASSERT(s != NULL);
		FUZZ_ASSERT(wb_json_dump(a, 17, &out) == 0);
		FUZZ_ASSERT(out.len == strlen(s) && memcmp(out.p, s, out.len) == 0);
		free(s);
		free(out.heap);
	}
	json_decref(a);
	json_decref(b);
	return 0;
}
