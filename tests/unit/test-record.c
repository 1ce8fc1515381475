/* test-record.c: framing of JSON streams, bad records and their lines. */
#include "wb.h"
#include "unit.h"

/* A record handler that tags each record it sees. */
static int
tag(void *ctx, json_t *rec, struct wb_err *err)
{
	int *n = ctx;

	(void)err;
	json_object_set_new(rec, "seen", json_integer(++*n));
	return WB_OK;
}

/* Run the records of in through tag(); return the output and status. */
static char *
run(const char *in, size_t inlen, uint64_t max, int *status)
{
	FILE *fi = tmpfile(), *fo = tmpfile(), *fe = tmpfile();
	struct wb_io io = { .prog = "wb-test", .in = fi, .out = fo, .err = fe,
	    .in_name = "stdin", .max_record = max };
	char *out;
	long n;
	int seen = 0;

	fwrite(in, 1, inlen, fi);
	rewind(fi);
	*status = wb_records_run(&io, tag, &seen);
	fflush(fo);
	n = ftell(fo);
	rewind(fo);
	out = calloc(1, (size_t)n + 1);
	if (fread(out, 1, (size_t)n, fo) != (size_t)n)
		out[0] = '\0';
	fclose(fi);
	fclose(fo);
	fclose(fe);
	return out;
}

static void
expect(const char *in, const char *want, int want_status)
{
	int st;
	char *got = run(in, strlen(in), 0, &st);

	CHECK_U(st, want_status);
	CHECK(strcmp(got, want) == 0);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "  in:   %s\n  got:  %s  want: %s", in, got, want);
	free(got);
}

static void
json_lines_pretty_and_concatenated_values(void)
{
	expect("{\"a\":1}\n{\"a\":2}\n",
	    "{\"a\":1,\"seen\":1}\n{\"a\":2,\"seen\":2}\n", WB_OK);
	expect("{\n  \"a\": [1,\n    {\"b\": \"}\"}]\n}\n",
	    "{\"a\":[1,{\"b\":\"}\"}],\"seen\":1}\n", WB_OK);
	expect("{\"a\":1}{\"a\":2} {\"a\":\"x\\\"{\"}",
	    "{\"a\":1,\"seen\":1}\n{\"a\":2,\"seen\":2}\n"
	    "{\"a\":\"x\\\"{\",\"seen\":3}\n", WB_OK);
	expect("\r\n{\"a\":1}\r\n", "{\"a\":1,\"seen\":1}\n", WB_OK);
}

static void
empty_input_has_no_records(void)
{
	expect("", "", WB_OK);
	expect(" \n\t\n", "", WB_OK);
}

static void
bad_records_are_replaced_and_later_ones_kept(void)
{
	expect("{\"a\":1}\nnot json\n{\"a\":3}\n",
	    "{\"a\":1,\"seen\":1}\n"
	    "{\"error\":{\"record\":2,\"line\":2,\"message\":"
	    "\"invalid JSON: invalid token near 'not'\"}}\n"
	    "{\"a\":3,\"seen\":2}\n", WB_EDATA);
	expect("[1]\n42\n\"s\"\nnull\n{\"a\":1}\n",
	    "{\"error\":{\"record\":1,\"line\":1,\"message\":"
	    "\"record is an array, not an object\"}}\n"
	    "{\"error\":{\"record\":2,\"line\":2,\"message\":"
	    "\"record is an integer, not an object\"}}\n"
	    "{\"error\":{\"record\":3,\"line\":3,\"message\":"
	    "\"record is a string, not an object\"}}\n"
	    "{\"error\":{\"record\":4,\"line\":4,\"message\":"
	    "\"record is null, not an object\"}}\n"
	    "{\"a\":1,\"seen\":1}\n", WB_EDATA);
}

static void
a_broken_line_costs_that_line_only(void)
{
	/* unterminated string: the newline ends it */
	expect("{\"a\":\"x\n{\"a\":2}\n",
	    "{\"error\":{\"record\":1,\"line\":1,\"message\":"
	    "\"invalid JSON: premature end of input near '\\\"x'\"}}\n"
	    "{\"a\":2,\"seen\":1}\n", WB_EDATA);
	/* unclosed object: a '{' in column 1 starts the next record */
	expect("{\"a\":1,\n{\"a\":2}\n",
	    "{\"error\":{\"record\":1,\"line\":1,\"message\":"
	    "\"invalid JSON: string or '}' expected near end of file\"}}\n"
	    "{\"a\":2,\"seen\":1}\n", WB_EDATA);
	/* a mismatched bracket ends the value where it stands */
	expect("{\"a\":[1}\n{\"a\":2}\n",
	    "{\"error\":{\"record\":1,\"line\":1,\"message\":"
	    "\"invalid JSON: ']' expected near '}'\"}}\n"
	    "{\"a\":2,\"seen\":1}\n", WB_EDATA);
}

static void
errors_inside_pretty_records_name_their_line(void)
{
	expect("{\"a\":1}\n{\n  \"a\": 1,\n  \"b\": nope\n}\n",
	    "{\"a\":1,\"seen\":1}\n"
	    "{\"error\":{\"record\":2,\"line\":4,\"message\":"
	    "\"invalid JSON: invalid token near 'nope'\"}}\n", WB_EDATA);
}

static void
nul_in_strings_is_accepted(void)
{
	expect("{\"a\":\"x\\u0000y\"}\n", "{\"a\":\"x\\u0000y\",\"seen\":1}\n",
	    WB_OK);
}

static void
records_over_the_maximum_are_skipped_whole(void)
{
	size_t big = 300000;
	char *in = malloc(big + 64), *got;
	int st;

	strcpy(in, "{\"a\":\"");
	memset(in + 6, 'x', big);
	strcpy(in + 6 + big, "\"}\n{\"a\":2}\n");
	got = run(in, strlen(in), 100000, &st);
	CHECK_U(st, WB_EDATA);
	CHECK(strcmp(got, "{\"error\":{\"record\":1,\"line\":1,\"message\":"
	    "\"record exceeds the maximum record size of 100000 bytes "
	    "(--max-record)\"}}\n"
	    "{\"a\":2,\"seen\":1}\n") == 0);
	free(got);
	/* just under the maximum is fine */
	got = run(in, strlen(in), big + 8, &st);
	CHECK_U(st, WB_OK);
	CHECK(strncmp(got, "{\"a\":\"xxx", 9) == 0);
	free(got);
	free(in);
}

int
main(void)
{
	RUN(json_lines_pretty_and_concatenated_values);
	RUN(empty_input_has_no_records);
	RUN(bad_records_are_replaced_and_later_ones_kept);
	RUN(a_broken_line_costs_that_line_only);
	RUN(errors_inside_pretty_records_name_their_line);
	RUN(nul_in_strings_is_accepted);
	RUN(records_over_the_maximum_are_skipped_whole);
	return UNIT_END();
}
