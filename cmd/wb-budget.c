/* wb-budget: hold each prompt section to its budget, or check that it is. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-budget [-c FILE] [-w WORLD] [-P PRESET] [-t TOTAL]\n"
    "                 [-s CATEGORY=N]... [--check] [--print-config]\n"
    "                 [-m char|word|hybrid] [-p default|llama]\n"
    "                 [-e ENCODING] [-M MODEL] [--allow-special]\n"
    "                 [--encodings-dir DIR] [--max-record SIZE]\n"
    "                 [--chars-per-token N] [--tokens-per-word N]\n"
    "                 [--hybrid-threshold N]\n";

enum {
	OPT_MAXREC = 256, OPT_CPT, OPT_TPW, OPT_HT, OPT_CHECK, OPT_PRINT,
	OPT_SPECIAL, OPT_ENCDIR,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "world", required_argument, NULL, 'w' },
	{ "budget-preset", required_argument, NULL, 'P' },
	{ "total", required_argument, NULL, 't' },
	{ "set", required_argument, NULL, 's' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "print-config", no_argument, NULL, OPT_PRINT },
	{ "method", required_argument, NULL, 'm' },
	{ "preset", required_argument, NULL, 'p' },
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

static struct wb_config *cfg;
static struct wb_counter *counter;  /* reused while the records agree */
static const char *encodings_dir;
static bool allow_special;
static struct wb_layer *flags;
static const char *world;
static bool check, table_started;

static int
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

/* One row of the --check table on stderr, with its header the first time. */
static void
offender(uint64_t line, const char *what, json_int_t tokens, json_int_t budget)
{
	if (!table_started) {
		fprintf(stderr, "%-6s %-22s %8s %8s %8s\n", "LINE", "CATEGORY",
		    "TOKENS", "BUDGET", "OVER BY");
		table_started = true;
	}
	fprintf(stderr, "%-6llu %-22s %8lld %8lld %8lld\n",
	    (unsigned long long)line, what, (long long)tokens, (long long)budget,
	    (long long)(tokens - budget));
}

static void
print_offenders(uint64_t line, const json_t *report)
{
	const char *cat;
	json_t *v;

	json_object_foreach(json_object_get(report, "sections"), cat, v)
		if (json_is_true(json_object_get(v, "over_budget")))
			offender(line, cat,
			    json_integer_value(json_object_get(v, "original_tokens")),
			    json_integer_value(json_object_get(v, "budget")));
	if (json_is_true(json_object_get(report, "over_total")))
		offender(line, "total (rendered)",
		    json_integer_value(json_object_get(report, "total_final_tokens")),
		    json_integer_value(json_object_get(report, "total_budget")));
}

/* Enforce or check the budgets of one record. */
static int
budget_record(void *ctx, json_t *rec, struct wb_err *err)
{
	struct wb_settings s;
	struct wb_counter *c;
	const char *w = world;
	json_t *report, *wid = json_object_get(rec, "world_id");
	uint64_t line = err->line;
	int st;

	(void)ctx;
	if (wid != NULL && !json_is_string(wid))
		return wb_err_set(err, WB_EDATA,
		    "field \"world_id\" is not a string");
	if (wid != NULL)
		w = json_string_value(wid);
	if ((st = wb_settings_resolve(cfg, w, NULL, flags, &s, err)) != WB_OK)
		return st;
	s.counter.encodings_dir = encodings_dir;
	s.counter.allow_special = allow_special;
	if ((c = wb_counter_reuse(&counter, &s.counter, err)) == NULL)
		return err->status;
	if (check)
		st = wb_budget_check(&s, c, json_object_get(rec, "sections"),
		    &report, err);
	else
		st = wb_budget_enforce(&s, c, json_object_get(rec, "sections"),
		    &report, err);
	if (report == NULL)
		return st;
	if (st == WB_ECHECK)
		print_offenders(line, report);
	if (json_object_set_new(rec, "budget", report) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return st;
}

int
main(int argc, char *argv[])
{
	struct wb_io io = { "wb-budget", stdin, stdout, stderr, "stdin", 0,
	    NULL, NULL, NULL };
	struct wb_err err = { 0 };
	struct wb_settings s;
	const char *path = NULL, *flag;
	bool print = false;
	int c, st;

	if ((flags = wb_layer_new()) == NULL)
		return WB_EINTERNAL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:w:P:t:s:m:p:e:M:hV", longopts,
	    NULL)) != -1) {
		flag = NULL;
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'w':
			world = optarg;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_PRINT:
			print = true;
			break;
		case OPT_MAXREC:
			if (wb_parse_size(optarg, &io.max_record, &err)) {
				wb_err_prefix(&err, "--max-record");
				goto bad;
			}
			break;
		case 'P': flag = "P"; break;
		case 't': flag = "t"; break;
		case 's': flag = "s"; break;
		case 'm': flag = "m"; break;
		case 'p': flag = "p"; break;
		case 'e': flag = "e"; break;
		case 'M': flag = "M"; break;
		case OPT_SPECIAL:
			allow_special = true;
			break;
		case OPT_ENCDIR:
			encodings_dir = optarg;
			break;
		case OPT_CPT: flag = "chars-per-token"; break;
		case OPT_TPW: flag = "tokens-per-word"; break;
		case OPT_HT: flag = "hybrid-threshold"; break;
		case 'h':
			return wb_close_out(&io, usage(stdout, WB_OK));
		case 'V':
			puts("wb-budget (wb) " WB_VERSION);
			return wb_close_out(&io, WB_OK);
		default:
			wb_getopt_err(&err, c, optopt, argv[optind - 1]);
			goto bad;
		}
		if (flag != NULL && wb_budget_flag(flags, flag, optarg, &err)) {
			err.status = WB_EUSAGE;
			goto bad;
		}
	}
	if (optind < argc) {
		wb_err_set(&err, WB_EUSAGE, "%s: unexpected argument",
		    argv[optind]);
		goto bad;
	}
	if (wb_config_open(path, flags, &cfg, &err) != WB_OK)
		goto fail;
	/* A record's unknown world_id takes the top level; -w must exist. */
	if (world != NULL && !wb_config_has_world(cfg, world)) {
		wb_err_set(&err, WB_ECONFIG, "-w: '%s': no such world in the "
		    "configuration", world);
		goto fail;
	}
	if (print) {
		if (wb_settings_resolve(cfg, world, NULL, flags, &s, &err) != WB_OK)
			goto fail;
		/* 15 digits print 1.33 as 1.33, not 1.3300000000000001. */
		json_t *j = wb_settings_json(&s);
		if (json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15)))
			st = WB_EIO;
		else
			st = putchar('\n') == EOF ? WB_EIO : WB_OK;
		json_decref(j);
	} else {
		st = wb_records_run(&io, budget_record, NULL);
	}
	wb_counter_free(counter);
	wb_config_free(cfg);
	wb_layer_free(flags);
	return wb_close_out(&io, st);
bad:
	fprintf(stderr, "wb-budget: %s\n", err.msg);
	return usage(stderr, err.status == WB_EUSAGE ? WB_EUSAGE : err.status);
fail:
	fprintf(stderr, "wb-budget: %s\n", err.msg);
	return err.status;
}
