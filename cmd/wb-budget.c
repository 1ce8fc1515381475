/* wb-budget: hold each prompt section to its budget, or check that it is. */
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-budget [-c FILE] [-w WORLD] [-P PRESET] [-t TOTAL]\n"
    "                 [-s CATEGORY=N]... [--check] [--print-config]\n"
    "                 [-m char|word|hybrid] [-p default|llama]\n"
    "                 [-e ENCODING] [-M MODEL] [-T FILE] [--allow-special]\n"
    "                 [--encodings-dir DIR] [--max-record SIZE]\n"
    "                 [--chars-per-token N] [--tokens-per-word N]\n"
    "                 [--hybrid-threshold N]\n"
    "                 [--list-models] [--list-encodings]\n"
    "                 [--annotate github] [--files-from FILE [-0]] [FILE ...]\n";

enum { OPT_CHECK = 256, OPT_PRINT };

static const struct wb_opt options[] = {
	{ "check", OPT_CHECK, NULL, "change nothing; exit 1 when anything is "
	    "over" },
	{ "print-config", OPT_PRINT, NULL, "print the resolved settings and "
	    "exit" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_config *cfg;
static struct wb_counter *counter;  /* reused while the records agree */
static struct wb_layer *flags;
static const char *world;
static const struct wb_io *in;      /* the input, for messages */
static bool check, print, table_started;

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

	json_t *total = json_object_get(report, "total");

	json_object_foreach(json_object_get(report, "sections"), cat, v)
		if (strcmp(json_string_value(json_object_get(v, "reason")),
		    "own_budget") == 0)
			offender(line, cat,
			    json_integer_value(json_object_get(v, "original_tokens")),
			    json_integer_value(json_object_get(v, "budget")));
	if (json_is_true(json_object_get(total, "over")))
		offender(line, "total (rendered)",
		    json_integer_value(json_object_get(total, "final_tokens")),
		    json_integer_value(json_object_get(total, "budget")));
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
	if (s.enable_summarization && s.summarize_command[0] != '\0') {
		char where[1100];
		snprintf(where, sizeof(where), "%.1000s:%llu", in->in_name,
		    (unsigned long long)line);
		wb_warn_summaries(stderr, "wb-budget", where,
		    json_object_get(report, "sections"), false);
	}
	if (st == WB_ECHECK)
		print_offenders(line, report);
	if (json_object_set_new(rec, "budget", report) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return st;
}

/* wb-budget's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	(void)ctx;
	(void)arg;
	(void)err;
	if (id == OPT_CHECK)
		check = true;
	else
		print = true;
	return WB_OK;
}

/* --print-config: the settings of -w (or the top level) under the flags. */
static int
print_config(struct wb_err *err)
{
	struct wb_settings s;
	json_t *j;
	int st;

	if ((st = wb_settings_resolve(cfg, world, NULL, flags, &s, err)))
		return st;
	/* 15 digits print 1.33 as 1.33, not 1.3300000000000001. */
	j = wb_settings_json(&s);
	if (json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15)))
		st = WB_EIO;
	else
		st = putchar('\n') == EOF ? WB_EIO : WB_OK;
	json_decref(j);
	return st;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-budget", .usage = usage_text,
	    .sets = WB_OPTS_COUNTER | WB_OPTS_BUDGET, .own = options,
	    .own_option = option };
	struct wb_err err = { 0 };
	int st;

	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	flags = cli.flags;
	world = cli.world;
	in = &cli.io;
	if ((st = wb_config_open(cli.config, flags, &cfg, &err)) != WB_OK)
		return wb_cli_exit(&cli, st, &err);
	/* A record's unknown world_id takes the top level; -w must exist. */
	if (world != NULL && !wb_config_has_world(cfg, world))
		st = wb_err_set(&err, WB_ECONFIG, "-w: '%s': no such world in the "
		    "configuration", world);
	else if (print)
		st = print_config(&err);
	else
		st = wb_cli_records(&cli, budget_record, NULL);
	wb_counter_free(counter);
	wb_config_free(cfg);
	return wb_cli_exit(&cli, st, &err);
}
