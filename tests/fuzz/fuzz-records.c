/*
 * fuzz-records.c: the record path of every command, from bytes on stdin
 * through the library: the first byte picks the command.
 */
#include "fuzz.h"

#include <string.h>

#include "wb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	int mode;
	struct wb_counter *c;
	struct wb_settings s;
};

static int
handle(void *arg, json_t *rec, struct wb_err *err)
{
	struct ctx *x = arg;
	struct wb_prompt_out o;
	struct wb_trunc t;
	json_t *report;
	const char *s;
	size_t len;
	uint64_t n;
	int st;

	switch (x->mode) {
	case 0:
		if (wb_get_string(rec, "text", &s, &len, err) != WB_OK)
			return WB_EDATA;
		n = wb_count_limit(x->c, s, len, 10);
		FUZZ_ASSERT(n <= 10 ? n == wb_count(x->c, s, len) : n > 10);
		return WB_OK;
	case 1:
		if (wb_get_string(rec, "text", &s, &len, err) != WB_OK ||
		    wb_get_uint(rec, "budget", &(bool){ 0 }, &n, err) != WB_OK)
			return WB_EDATA;
		n %= 64;
		FUZZ_ASSERT(wb_truncate(x->c, s, len, n, WB_KEEP_TAIL, "...", &t,
		    err) == WB_OK);
		FUZZ_ASSERT(t.final_tokens <= n);
		free(t.text);
		return WB_OK;
	case 2:
	case 3:
		st = x->mode == 2 ? wb_budget_enforce(&x->s, x->c,
		    json_object_get(rec, "sections"), &report, err) :
		    wb_budget_check(&x->s, x->c, json_object_get(rec, "sections"),
		    &report, err);
		if (x->mode == 2 && st == WB_OK)
			FUZZ_ASSERT(json_integer_value(json_object_get(report,
			    "total_final_tokens")) <= (json_int_t)x->s.total);
		json_decref(report);
		return st;
	default:
		st = wb_prompt_build(&x->s, x->c, rec, false, &o, err);
		if (st == WB_OK)
			FUZZ_ASSERT(json_integer_value(json_object_get(o.report,
			    "total_tokens")) <= (json_int_t)x->s.total);
		wb_prompt_out_free(&o);
		return st;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx x;
	struct wb_err err;
	FILE *in, *out, *errf;
	int fd;

	if (size < 2)
		return 0;
	x.mode = data[0] % 5;
	wb_settings_default(&x.s);
	x.s.counter.method = (enum wb_method)(data[1] % 3);
	/* Small budgets so that every input makes the shedding work. */
	if (data[1] & 4) {
		x.s.total = 1 + data[1] / 8;
		for (int i = 0; i < WB_NCAT; i++)
			x.s.budget[i] = x.s.total * 3 / WB_NCAT;
	}
	x.c = wb_counter_new(&x.s.counter, &err);
	in = fuzz_file(data + 2, size - 2, &fd);
	out = fopen("/dev/null", "w");
	errf = fopen("/dev/null", "w");
	struct wb_io io = { .prog = "fuzz", .in = in, .out = out, .err = errf,
	    .in_name = "stdin", .max_record = 1 << 20 };
	int st = wb_records_run(&io, handle, &x);
	FUZZ_ASSERT(st == WB_OK || st == WB_ECHECK || st == WB_EDATA);
	fclose(in);
	fclose(out);
	fclose(errf);
	wb_counter_free(x.c);
	return 0;
}
