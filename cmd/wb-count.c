/* wb-count: count the tokens of each record's text, or of all of stdin. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                [-M MODEL] [-f FIELD] [-l LIMIT] [-C] [--ids] [-r [-q]]\n"
    "                [--allow-special] [--encodings-dir DIR]\n"
    "                [--max-record SIZE] [--chars-per-token N]\n"
    "                [--tokens-per-word N] [--hybrid-threshold N]\n";

enum {
	OPT_MAXREC = 256, OPT_CPT, OPT_TPW, OPT_HT, OPT_IDS, OPT_SPECIAL,
	OPT_ENCDIR,
};

static const struct option longopts[] = {
	{ "method", required_argument, NULL, 'm' },
	{ "preset", required_argument, NULL, 'p' },
	{ "field", required_argument, NULL, 'f' },
	{ "limit", required_argument, NULL, 'l' },
	{ "raw", no_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "max-record", required_argument, NULL, OPT_MAXREC },
	{ "chars-per-token", required_argument, NULL, OPT_CPT },
	{ "tokens-per-word", required_argument, NULL, OPT_TPW },
	{ "hybrid-threshold", required_argument, NULL, OPT_HT },
	{ "encoding", required_argument, NULL, 'e' },
	{ "model", required_argument, NULL, 'M' },
	{ "chat", no_argument, NULL, 'C' },
	{ "ids", no_argument, NULL, OPT_IDS },
	{ "allow-special", no_argument, NULL, OPT_SPECIAL },
	{ "encodings-dir", required_argument, NULL, OPT_ENCDIR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static struct wb_counter *counter;
static struct wb_counter_spec counter_spec;
static const char *field = "text";
static uint64_t limit = UINT64_MAX;
static bool has_limit, chat, ids;

static int
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

/* Add "ids": the token ids of s. */
static int
add_ids(json_t *rec, const char *s, size_t len, struct wb_err *err)
{
	/* A token is at least one byte: len ids are always room enough. */
	uint32_t *id = malloc((len + 1) * sizeof(*id));
	json_t *a = json_array();
	size_t n;
	int st = WB_OK;

	if (id == NULL || a == NULL) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto out;
	}
	n = wb_counter_encode(counter, s, len, id, len + 1, err);
	if (n == WB_BPE_FAIL) {
		st = WB_EINTERNAL;
		goto out;
	}
	for (size_t i = 0; i < n && i <= len; i++)
		if (json_array_append_new(a, json_integer(id[i])) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
	if (json_object_set(rec, "ids", a) != 0)
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
out:
	json_decref(a);
	free(id);
	return st;
}

/* Add "tokens" (and "over_limit" with -l, "ids" with --ids) to a record. */
static int
count_record(void *ctx, json_t *rec, struct wb_err *err)
{
	const char *s;
	size_t len;
	uint64_t n;

	(void)ctx;
	if (chat) {
		if (wb_count_chat(counter, json_object_get(rec, "messages"), &n,
		    err) != WB_OK)
			return WB_EDATA;
	} else {
		if (wb_get_string(rec, field, &s, &len, err) != WB_OK)
			return WB_EDATA;
		n = wb_count_limit(counter, s, len, limit);
		if (ids && add_ids(rec, s, len, err) != WB_OK)
			return WB_EINTERNAL;
	}
	if (wb_set_int(rec, "tokens", n, err) != WB_OK)
		return WB_EINTERNAL;
	if (!has_limit) {
		/* An earlier run's verdict would be wrong about this count. */
		if (json_is_boolean(json_object_get(rec, "over_limit")))
			json_object_del(rec, "over_limit");
		return WB_OK;
	}
	if (json_object_set_new(rec, "over_limit", json_boolean(n > limit)))
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return n > limit ? WB_ECHECK : WB_OK;
}

/* Count all of stdin as one text. */
static int
count_raw(const struct wb_io *io, bool quiet)
{
	struct wb_err err = { 0 };
	uint64_t n = 0;
	bool over;
	int st;

	st = wb_read_count(io, counter, limit, &n, &over, &err);
	if (st != WB_OK) {
		fprintf(io->err, "%s: %s\n", io->prog, err.msg);
		return st;
	}
	if (quiet)
		fprintf(io->out, "%llu\n", (unsigned long long)n);
	else if (has_limit)
		fprintf(io->out, "{\"tokens\":%llu,\"over_limit\":%s}\n",
		    (unsigned long long)n, over ? "true" : "false");
	else
		fprintf(io->out, "{\"tokens\":%llu}\n", (unsigned long long)n);
	return over ? WB_ECHECK : WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_io io = { "wb-count", stdin, stdout, stderr, "stdin", 0,
	    NULL, NULL, NULL };
	struct wb_counter_spec spec;
	struct wb_err err = { 0 };
	bool raw = false, quiet = false;
	const char *flag;
	int c, st;

	wb_counter_spec_default(&spec);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:p:e:M:f:l:CrqhV", longopts,
	    NULL)) != -1) {
		flag = NULL;
		switch (c) {
		case 'm': flag = "method"; break;
		case 'p': flag = "preset"; break;
		case 'e': flag = "encoding"; break;
		case 'M': flag = "model"; break;
		case OPT_ENCDIR: flag = "encodings-dir"; break;
		case OPT_SPECIAL: flag = "allow-special"; break;
		case 'C':
			chat = true;
			break;
		case OPT_IDS:
			ids = true;
			break;
		case OPT_CPT: flag = "chars-per-token"; break;
		case OPT_TPW: flag = "tokens-per-word"; break;
		case OPT_HT: flag = "hybrid-threshold"; break;
		case 'f':
			if (wb_utf8_valid(optarg, strlen(optarg)) != strlen(optarg)) {
				wb_err_set(&err, WB_EUSAGE, "-f: not UTF-8");
				goto bad;
			}
			field = optarg;
			break;
		case 'l':
			if (wb_parse_u64(optarg, 0, UINT64_MAX - 1, &limit, &err)) {
				wb_err_prefix(&err, "-l");
				goto bad;
			}
			has_limit = true;
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
			puts("wb-count (wb) " WB_VERSION);
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
	if (chat && ids) {
		wb_err_set(&err, WB_EUSAGE, "--ids: not with -C");
		goto bad;
	}
	if (raw && (chat || ids)) {
		wb_err_set(&err, WB_EUSAGE, "%s: not with -r", chat ? "-C" : "--ids");
		goto bad;
	}
	if ((counter = wb_counter_new(&spec, &err)) == NULL)
		goto fail;
	counter_spec = spec;
	if (ids && !wb_counter_has_ids(counter)) {
		wb_err_set(&err, WB_EUSAGE, "--ids: needs an encoding (-e or -M)");
		goto bad;
	}
	st = raw ? count_raw(&io, quiet) : wb_records_run(&io, count_record, NULL);
	wb_counter_free(counter);
	return wb_close_out(&io, st);
bad:
	fprintf(stderr, "wb-count: %s\n", err.msg);
	return usage(stderr, err.status == WB_EUSAGE ? WB_EUSAGE : err.status);
fail:
	/* Not a usage error: an encoding that is missing (66) or bad. */
	fprintf(stderr, "wb-count: %s\n", err.msg);
	return err.status;
}
