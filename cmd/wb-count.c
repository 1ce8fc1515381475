/* wb-count: count the tokens of each record's text, or of all of stdin. */
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                [-M MODEL] [-T FILE] [-f FIELD] [-l LIMIT] [-C] [--ids]\n"
    "                [-r [-q]] [--allow-special] [--encodings-dir DIR]\n"
    "                [--max-record SIZE] [--chars-per-token N]\n"
    "                [--tokens-per-word N] [--hybrid-threshold N]\n";

enum { OPT_IDS = 256 };

static const struct wb_opt options[] = {
	{ "limit", 'l', "LIMIT", "exit 1 when a text is over LIMIT tokens" },
	{ "chat", 'C', NULL, "count {\"messages\": [...]} as the chat API "
	    "does" },
	{ "ids", OPT_IDS, NULL, "add the token ids (needs -e or -M)" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_counter *counter;
static const char *field;
static uint64_t limit = UINT64_MAX;
static bool has_limit, chat, ids;

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

/* wb-count's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	(void)ctx;
	switch (id) {
	case 'l':
		if (wb_parse_u64(arg, 0, UINT64_MAX - 1, &limit, err))
			return wb_err_prefix(err, "-l");
		has_limit = true;
		break;
	case 'C': chat = true; break;
	case OPT_IDS: ids = true; break;
	}
	return WB_OK;
}

/* Options that go together, once all are known. */
static int
check_options(const struct wb_cli *cli, struct wb_err *err)
{
	if (chat && ids)
		return wb_err_set(err, WB_EUSAGE, "--ids: not with -C");
	if (cli->raw && (chat || ids))
		return wb_err_set(err, WB_EUSAGE, "%s: not with -r",
		    chat ? "-C" : "--ids");
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-count", .usage = usage_text,
	    .sets = WB_OPTS_COUNTER | WB_OPTS_TEXT, .own = options,
	    .own_option = option };
	struct wb_settings s;
	struct wb_err err = { 0 };
	int st;

	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	if ((st = check_options(&cli, &err)) != WB_OK ||
	    (st = wb_cli_settings(&cli, &s, &err)) != WB_OK)
		return wb_cli_exit(&cli, st, &err);
	if ((counter = wb_counter_new(&s.counter, &err)) == NULL)
		return wb_cli_exit(&cli, err.status, &err);
	if (ids && !wb_counter_has_ids(counter)) {
		wb_counter_free(counter);
		wb_err_set(&err, WB_EUSAGE, "--ids: needs an encoding (-e, -M or -T)");
		return wb_cli_exit(&cli, WB_EUSAGE, &err);
	}
	field = cli.field;
	st = cli.raw ? count_raw(&cli.io, cli.quiet) :
	    wb_records_run(&cli.io, count_record, NULL);
	wb_counter_free(counter);
	return wb_cli_exit(&cli, st, &err);
}
