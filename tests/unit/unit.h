/* unit.h: the smallest harness that reports like TAP and fails loudly. */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed, unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_failed++; \
	} \
} while (0)

#define CHECK_U(a, b) do { \
	uint64_t a_ = (a), b_ = (b); \
	unit_checks++; \
	if (a_ != b_) { \
		fprintf(stderr, "%s:%d: failed: %s == %s (%" PRIu64 " != %" \
		    PRIu64 ")\n", __FILE__, __LINE__, #a, #b, a_, b_); \
		unit_failed++; \
	} \
} while (0)

#define RUN(fn) do { \
	int before_ = unit_failed; \
	fn(); \
	printf("%s - %s\n", unit_failed == before_ ? "ok" : "not ok", #fn); \
} while (0)

#define UNIT_END() (unit_failed ? 1 : 0)

#ifdef WB_H
/* A heuristic counter of method m with a preset's parameters. */
static inline struct wb_counter *
counter(enum wb_method m, const char *preset)
{
	struct wb_counter_spec spec;
	struct wb_err err;

	wb_counter_spec_default(&spec);
	spec.method = m;
	wb_counter_preset(&spec, preset);
	return wb_counter_new(&spec, &err);
}

/* A counter of one token per scalar, so that counts can be read off. */
static inline struct wb_counter *
per_scalar(void)
{
	struct wb_counter_spec spec;
	struct wb_err err;

	wb_counter_spec_default(&spec);
	spec.method = WB_METHOD_CHAR;
	spec.chars_per_token = 1;
	return wb_counter_new(&spec, &err);
}
#endif

/* A seeded generator, so a failure can be replayed with WB_SEED. */
static uint64_t unit_rng = 0x9E3779B97F4A7C15ULL;

static inline uint64_t
unit_rand(void)
{
	unit_rng ^= unit_rng << 13;
	unit_rng ^= unit_rng >> 7;
	unit_rng ^= unit_rng << 17;
	return unit_rng;
}

/* The count of text[0..len) by a stream of c fed in random pieces (1-4
 * bytes one time in four, else 1-300) into *got; false if the stream
 * fails. */
static inline bool
unit_streamed(const struct wb_counter *c, const char *text, size_t len,
    uint64_t *got)
{
	struct wb_count_stream *cs = wb_count_stream_new(c);
	struct wb_err err;
	size_t at = 0;
	bool ok;

	if (cs == NULL)
		return false;
	while (at < len) {
		size_t m = unit_rand() % 4 == 0 ? 1 + unit_rand() % 4 :
		    1 + unit_rand() % 300;

		if (m > len - at)
			m = len - at;
		if (wb_count_stream_feed(cs, text + at, m, &err) != WB_OK)
			break;
		at += m;
	}
	ok = at == len && wb_count_stream_end(cs, got, &err) == WB_OK;
	wb_count_stream_free(cs);
	return ok;
}

static inline void
unit_seed(void)
{
	const char *s = getenv("WB_SEED");

	if (s != NULL)
		unit_rng = strtoull(s, NULL, 0) | 1;
	printf("# seed %#" PRIx64 "\n", unit_rng);
}

#endif
