/* wb-truncate: cut each record's text to a token budget, never over it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-truncate [-b BUDGET] [-k head|tail] [-E ELLIPSIS]\n"
    "                   [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                   [-M MODEL] [-T FILE] [-f FIELD] [-r [-q] | -R]\n"
    "                   [--allow-special]\n"
    "                   [--encodings-dir DIR] [--max-record SIZE]\n"
    "                   [--chars-per-token N] [--tokens-per-word N]\n"
    "                   [--hybrid-threshold N]\n"
    "                   [--list-models] [--list-encodings]\n"
    "                   [--annotate github] [--files-from FILE [-0]] [FILE ...]\n";

static const struct wb_opt options[] = {
	{ "budget", 'b', "BUDGET", "the budget in tokens, unless a record has "
	    "its own" },
	{ "keep", 'k', "head|tail", "keep the beginning (default) or the end" },
	{ "ellipsis", 'E', "ELLIPSIS", "what marks the cut (default ...)" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_counter *counter;
static const char *field;
static const char *ellipsis = "...";
static enum wb_keep keep = WB_KEEP_HEAD;
static uint64_t budget;
static bool has_budget;

/* Put the truncation's result and report into rec. */
static int
set_result(json_t *rec, const char *key, const struct wb_trunc *t,
    uint64_t b, struct wb_err *err)
{
	if (wb_path_set(rec, key, json_stringn(t->text, t->len)) ||
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
	    wb_get_uint(rec, "budget", &own, &b, err) != WB_OK)
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

/* -r: one input, streamed, cut as one text; a record, or with -q the
 * text itself. */
static int
truncate_one(const struct wb_io *io, bool quiet)
{
	struct wb_err err = { 0 };
	struct wb_trunc t = { 0 };
	json_t *rec = NULL;
	int st;

	if ((st = wb_read_truncate(io, counter, budget, keep, ellipsis, &t,
	    &err)) != WB_OK)
		goto out;
	if (quiet) {
		if (fwrite(t.text, 1, t.len, io->out) != t.len)
			st = wb_err_set(&err, WB_EIO, "stdout: %s", strerror(errno));
		goto out;
	}
	if ((rec = json_object()) == NULL ||
	    (io->in_file && json_object_set_new(rec, "file",
	    json_string(io->in_name)) != 0)) {
		st = wb_err_set(&err, WB_EDATA, "%s: cannot write its record "
		    "(a name that is not UTF-8?)", io->in_name);
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

/* -r: each input cut as one text, one record each. */
static int
truncate_raw(struct wb_cli *cli)
{
	int st = WB_OK, r;

	while (wb_cli_next(cli) > 0) {
		r = truncate_one(&cli->io, cli->quiet);
		st = wb_status_worst(st, r);
		if (r != WB_OK && r != WB_EDATA)
			break;
	}
	return wb_status_worst(st, cli->in_status);
}

/* wb-truncate's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	(void)ctx;
	switch (id) {
	case 'b':
		if (wb_parse_u64(arg, 0, WB_MAX_TOKENS, &budget, err))
			return wb_err_prefix(err, "-b");
		has_budget = true;
		break;
	case 'k':
		if (strcmp(arg, "head") == 0)
			keep = WB_KEEP_HEAD;
		else if (strcmp(arg, "tail") == 0)
			keep = WB_KEEP_TAIL;
		else
			return wb_err_set(err, WB_EUSAGE,
			    "-k: '%s': not head or tail", arg);
		break;
	case 'E':
		if (wb_utf8_valid(arg, strlen(arg)) != strlen(arg))
			return wb_err_set(err, WB_EUSAGE, "-E: not UTF-8");
		ellipsis = arg;
		break;
	}
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-truncate", .usage = usage_text,
	    .sets = WB_OPTS_COUNTER | WB_OPTS_TEXT, .own = options,
	    .own_option = option };
	struct wb_err err = { 0 };
	int st;

	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	if (cli.raw && !has_budget) {
		wb_err_set(&err, WB_EUSAGE, "-r needs -b");
		return wb_cli_exit(&cli, WB_EUSAGE, &err);
	}
	if (cli.quiet && (cli.nfiles > 1 || cli.files_from != NULL)) {
		wb_err_set(&err, WB_EUSAGE, "-q: with one input only");
		return wb_cli_exit(&cli, WB_EUSAGE, &err);
	}
	if ((counter = wb_cli_counter(&cli, &err)) == NULL)
		return wb_cli_exit(&cli, err.status, &err);
	field = cli.field;
	st = cli.raw ? truncate_raw(&cli) :
	    wb_cli_records(&cli, truncate_record, NULL);
	wb_counter_free(counter);
	return wb_cli_exit(&cli, st, &err);
}
