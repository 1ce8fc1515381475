/* wb-truncate: cut each record's text to a token budget, never over it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-truncate [-b BUDGET] [-k head|tail] [-E ELLIPSIS]\n"
    "                   [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                   [-M MODEL] [-f FIELD] [-r [-q]] [--allow-special]\n"
    "                   [--encodings-dir DIR] [--max-record SIZE]\n"
    "                   [--chars-per-token N] [--tokens-per-word N]\n"
    "                   [--hybrid-threshold N]\n";

enum { OPT_MAXREC = 256, OPT_CPT, OPT_TPW, OPT_HT, OPT_SPECIAL, OPT_ENCDIR };

static const struct option longopts[] = {
	{ "budget", required_argument, NULL, 'b' },
	{ "keep", required_argument, NULL, 'k' },
	{ "ellipsis", required_argument, NULL, 'E' },
	{ "method", required_argument, NULL, 'm' },
	{ "preset", required_argument, NULL, 'p' },
	{ "field", required_argument, NULL, 'f' },
	{ "raw", no_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "max-record", required_argument, NULL, OPT_MAXREC },
	{ "chars-per-token", required_argument, NULL, OPT_CPT },
	{ "tokens-per-word", required_argument, NULL, OPT_TPW },
	{ "hybrid-threshold", required_argument, NULL, OPT_HT },
	{ "encoding", required_argument, NULL, 'e' },
	{ "model", required_argument, NULL, 'M' },
	{ "allow-special", no_argument, NULL, OPT_SPECIAL },
	{ "encodings-dir", required_argument, NULL, OPT_ENCDIR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_BUDGET (1ULL << 53)

static struct wb_counter *counter;
static const char *field = "text";
static const char *ellipsis = "...";
static enum wb_keep keep = WB_KEEP_HEAD;
static uint64_t budget;
static bool has_budget;

static int
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

/* Put the truncation's result and report into rec. */
static int
set_result(json_t *rec, const char *key, const struct wb_trunc *t,
    uint64_t b, struct wb_err *err)
{
	if (json_object_set_new(rec, key, json_stringn(t->text, t->len)) ||
	    json_object_set_new(rec, "original_tokens",
	    json_integer((json_int_t)t->original_tokens)) ||
	    json_object_set_new(rec, "final_tokens",
	    json_integer((json_int_t)t->final_tokens)) ||
	    json_object_set_new(rec, "was_truncated",
	    json_boolean(t->was_truncated)) ||
	    json_object_set_new(rec, "budget", json_integer((json_int_t)b)))
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return WB_OK;
}

/* Truncate one record's field to its own budget, or -b's. */
static int
truncate_record(void *ctx, json_t *rec, struct wb_err *err)
{
	struct wb_trunc t;
	const char *s;
	size_t len;
	uint64_t b = budget;
	bool own;
	int st;

	(void)ctx;
	if (wb_get_string(rec, field, &s, &len, err) != WB_OK)
		return WB_EDATA;
	/*
	 * A "budget" that an earlier wb-truncate wrote (it came with
	 * "was_truncated") or wb-budget's report (an object) is a report, not
	 * a request: it must not turn -b, or the budget of another field,
	 * into this one.
	 */
	own = false;
	if (!json_is_object(json_object_get(rec, "budget")) &&
	    json_object_get(rec, "was_truncated") == NULL &&
	    wb_get_count(rec, "budget", &own, &b, err) != WB_OK)
		return WB_EDATA;
	if (!own)
		b = budget;
	if (!own && !has_budget)
		return wb_err_set(err, WB_EDATA,
		    "no budget: give -b or a \"budget\" field");
	if ((st = wb_truncate(counter, s, len, b, keep, ellipsis, &t, err)))
		return st;
	st = set_result(rec, field, &t, b, err);
	free(t.text);
	return st;
}

/* Truncate all of stdin as one text, streamed. */
static int
truncate_raw(const struct wb_io *io, bool quiet)
{
	struct wb_err err = { 0 };
	struct wb_trunc t = { 0 };
	json_t *rec = NULL;
	int st;

	if (!has_budget) {
		fprintf(io->err, "%s: -r needs -b\n", io->prog);
		return usage(io->err, WB_EUSAGE);
	}
	if ((st = wb_read_truncate(io, counter, budget, keep, ellipsis, &t,
	    &err)) != WB_OK)
		goto out;
	if (quiet) {
		if (fwrite(t.text, 1, t.len, io->out) != t.len)
			st = wb_err_set(&err, WB_EIO, "stdout: write error");
		goto out;
	}
	if ((rec = json_object()) == NULL) {
		st = wb_err_set(&err, WB_EINTERNAL, "out of memory");
		goto out;
	}
	if ((st = set_result(rec, field, &t, budget, &err)) == WB_OK)
		st = wb_emit(io->out, rec, &err);
out:
	if (st != WB_OK)
		fprintf(io->err, "%s: %s\n", io->prog, err.msg);
	json_decref(rec);
	free(t.text);
	return st;
}

int
main(int argc, char *argv[])
{
	struct wb_io io = { "wb-truncate", stdin, stdout, stderr, "stdin", 0,
	    NULL, NULL, NULL };
	struct wb_counter_spec spec;
	struct wb_err err = { 0 };
	bool raw = false, quiet = false;
	const char *flag;
	int c, st;

	wb_counter_spec_default(&spec);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:k:E:m:p:e:M:f:rqhV", longopts,
	    NULL)) != -1) {
		flag = NULL;
		switch (c) {
		case 'm': flag = "method"; break;
		case 'p': flag = "preset"; break;
		case 'e': flag = "encoding"; break;
		case 'M': flag = "model"; break;
		case OPT_ENCDIR: flag = "encodings-dir"; break;
		case OPT_SPECIAL: flag = "allow-special"; break;
		case OPT_CPT: flag = "chars-per-token"; break;
		case OPT_TPW: flag = "tokens-per-word"; break;
		case OPT_HT: flag = "hybrid-threshold"; break;
		case 'b':
			if (wb_parse_u64(optarg, 0, MAX_BUDGET, &budget, &err)) {
				wb_err_prefix(&err, "-b");
				goto bad;
			}
			has_budget = true;
			break;
		case 'k':
			if (strcmp(optarg, "head") == 0)
				keep = WB_KEEP_HEAD;
			else if (strcmp(optarg, "tail") == 0)
				keep = WB_KEEP_TAIL;
			else {
				wb_err_set(&err, WB_EUSAGE,
				    "-k: '%s': not head or tail", optarg);
				goto bad;
			}
			break;
		case 'E':
			if (wb_utf8_valid(optarg, strlen(optarg)) != strlen(optarg)) {
				wb_err_set(&err, WB_EUSAGE, "-E: not UTF-8");
				goto bad;
			}
			ellipsis = optarg;
			break;
		case 'f':
			if (wb_utf8_valid(optarg, strlen(optarg)) != strlen(optarg)) {
				wb_err_set(&err, WB_EUSAGE, "-f: not UTF-8");
				goto bad;
			}
			field = optarg;
			break;
		case 'r':
			raw = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_MAXREC:
			if (wb_parse_size(optarg, &io.max_record, &err)) {
				wb_err_prefix(&err, "--max-record");
				goto bad;
			}
			break;
		case 'h':
			return wb_close_out(&io, usage(stdout, WB_OK));
		case 'V':
			puts("wb-truncate (wb) " WB_VERSION);
			return wb_close_out(&io, WB_OK);
		default:
			wb_getopt_err(&err, c, optopt, argv[optind - 1]);
			goto bad;
		}
		if (flag != NULL && wb_counter_flag(&spec, flag, optarg, &err))
			goto bad;  /* the message names the flag */
	}
	if (optind < argc) {
		wb_err_set(&err, WB_EUSAGE, "%s: unexpected argument",
		    argv[optind]);
		goto bad;
	}
	if (quiet && !raw) {
		wb_err_set(&err, WB_EUSAGE, "-q: only with -r");
		goto bad;
	}
	if ((counter = wb_counter_new(&spec, &err)) == NULL) {
		/* Not a usage error: an encoding that is missing (66) or bad. */
		fprintf(stderr, "wb-truncate: %s\n", err.msg);
		return err.status;
	}
	st = raw ? truncate_raw(&io, quiet) :
	    wb_records_run(&io, truncate_record, NULL);
	wb_counter_free(counter);
	return wb_close_out(&io, st);
bad:
	fprintf(stderr, "wb-truncate: %s\n", err.msg);
	return usage(stderr, err.status == WB_EUSAGE ? WB_EUSAGE : err.status);
}
