/* wb-count: count the tokens of each record's text, or of all of stdin. */
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                [-M MODEL] [-T FILE] [-f FIELD] [-l LIMIT] [-C] [--ids]\n"
    "                [-r [-q] | -R] [--allow-special] [--encodings-dir DIR]\n"
    "                [--max-record SIZE] [--chars-per-token N]\n"
    "                [--tokens-per-word N] [--hybrid-threshold N]\n"
    "                [--list-models] [--list-encodings]\n"
    "                [--annotate github] [--files-from FILE [-0]] [FILE ...]\n";

enum { OPT_IDS = 256 };

static const struct wb_opt options[] = {
	{ "limit", 'l', "LIMIT", "exit 1 when a text is over LIMIT tokens" },
	{ "chat", 'C', NULL, "count {\"messages\": [...]} as the chat API "
	    "does" },
	{ "ids", OPT_IDS, NULL, "add the token ids (needs -e or -M)" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_counter *counter;
static const struct wb_io *in;      /* the input, for annotations */
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
	uint64_t n, lim = limit;
	bool own = false;

	(void)ctx;
	/* A record's own "limit" wins over -l, as its "budget" does in
	 * wb-truncate. */
	if (wb_get_uint(rec, "limit", &own, &lim, err) != WB_OK)
		return WB_EDATA;
	if (!own)
		lim = limit;
	if (chat) {
		if (wb_count_chat(counter, json_object_get(rec, "messages"), &n,
		    err) != WB_OK)
			return WB_EDATA;
	} else {
		if (wb_get_string(rec, field, &s, &len, err) != WB_OK)
			return WB_EDATA;
		/* The whole count, even past the limit: it is printed. */
		n = wb_count(counter, s, len);
		if (ids && add_ids(rec, s, len, err) != WB_OK)
			return WB_EINTERNAL;
	}
	if (wb_set_int(rec, "tokens", n, err) != WB_OK)
		return WB_EINTERNAL;
	if (!has_limit && !own) {
		/* An earlier run's verdict would be wrong about this count. */
		if (json_is_boolean(json_object_get(rec, "over_limit")))
			json_object_del(rec, "over_limit");
		return WB_OK;
	}
	if (json_object_set_new(rec, "over_limit", json_boolean(n > lim)))
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	if (n > lim)
		wb_annotate(in, err->line, "%llu tokens, over the limit of %llu",
		    (unsigned long long)n, (unsigned long long)lim);
	return n > lim ? WB_ECHECK : WB_OK;
}

/* One input's count: a record (named when it is a file), or with -q a
 * line "N NAME" as wc writes it. */
static int
print_count(const struct wb_io *io, bool quiet, uint64_t n)
{
	struct wb_err err;
	json_t *rec;
	int st;

	if (quiet) {
		if (io->in_file)
			fprintf(io->out, "%llu %s\n", (unsigned long long)n,
			    io->in_name);
		else
			fprintf(io->out, "%llu\n", (unsigned long long)n);
		return WB_OK;
	}
	rec = json_object();
	if (rec == NULL || (io->in_file && json_object_set_new(rec, "file",
	    json_string(io->in_name)) != 0) ||
	    json_object_set_new(rec, "tokens", json_integer((json_int_t)n)) ||
	    (has_limit && json_object_set_new(rec, "over_limit",
	    json_boolean(n > limit)))) {
		json_decref(rec);
		fprintf(io->err, "%s: %s: cannot write its count (a name that is "
		    "not UTF-8?)\n", io->prog, io->in_name);
		return WB_EDATA;
	}
	if ((st = wb_emit(io->out, rec, &err)) != WB_OK)
		fprintf(io->err, "%s: %s\n", io->prog, err.msg);
	json_decref(rec);
	return st;
}

/* What a run of -r over several inputs adds up to. */
struct total {
	uint64_t texts, tokens, over, largest;
	char *largest_name;
};

/* After several inputs, their total: a record {"total": {...}} that has no
 * "file", so that select(.file) keeps the others; with -q "N total". */
static int
print_total(const struct wb_io *io, bool quiet, const struct total *t)
{
	struct wb_err err;
	json_t *rec;
	int st;

	if (has_limit && t->over > 0)
		fprintf(io->err, "%s: %llu of %llu texts over %llu tokens; the "
		    "largest: %s (%llu)\n", io->prog, (unsigned long long)t->over,
		    (unsigned long long)t->texts, (unsigned long long)limit,
		    t->largest_name, (unsigned long long)t->largest);
	if (quiet) {
		fprintf(io->out, "%llu total\n", (unsigned long long)t->tokens);
		return WB_OK;
	}
	rec = json_pack("{s:{s:I,s:I}}", "total", "texts", (json_int_t)t->texts,
	    "tokens", (json_int_t)t->tokens);
	if (rec != NULL && t->largest_name != NULL)
		json_object_set_new(json_object_get(rec, "total"), "largest",
		    json_pack("{s:s?,s:I}", "file", t->largest_name, "tokens",
		    (json_int_t)t->largest));
	if (rec != NULL && has_limit)
		json_object_set_new(json_object_get(rec, "total"), "over",
		    json_integer((json_int_t)t->over));
	if (rec == NULL)
		return WB_EINTERNAL;
	if ((st = wb_emit(io->out, rec, &err)) != WB_OK)
		fprintf(io->err, "%s: %s\n", io->prog, err.msg);
	json_decref(rec);
	return st;
}

/* -r: each input is one text, counted whole; after several, a total. */
static int
count_raw(struct wb_cli *cli)
{
	const struct wb_io *io = &cli->io;
	bool many = cli->nfiles > 1 || cli->files_from != NULL;
	struct total t = { 0 };
	struct wb_err err;
	uint64_t n;
	int st = WB_OK, r;

	while (wb_cli_next(cli) > 0) {
		memset(&err, 0, sizeof(err));
		if ((r = wb_read_count(io, counter, &n, &err)) != WB_OK) {
			/* Not UTF-8 (a PNG among the prompts) or unreadable:
			 * said, skipped, and the status at the end. */
			fprintf(io->err, "%s: %s\n", io->prog, err.msg);
			wb_annotate(io, 0, "%s", err.msg);
			st = wb_status_worst(st, r);
			continue;
		}
		t.texts++;
		t.tokens = n > WB_MAX_TOKENS - t.tokens ? WB_MAX_TOKENS :
		    t.tokens + n;
		t.over += has_limit && n > limit;
		if (has_limit && n > limit)
			wb_annotate(io, 0, "%llu tokens, over the limit of %llu",
			    (unsigned long long)n, (unsigned long long)limit);
		if (t.largest_name == NULL || n > t.largest) {
			free(t.largest_name);
			t.largest_name = strdup(io->in_file ? io->in_name : "-");
			t.largest = n;
		}
		r = print_count(io, cli->quiet, n);
		st = wb_status_worst(st, r);
		if (r == WB_EIO)
			break;
	}
	if (many && st != WB_EIO)
		st = wb_status_worst(st, print_total(io, cli->quiet, &t));
	free(t.largest_name);
	if (t.over > 0)
		st = wb_status_worst(st, WB_ECHECK);
	return wb_status_worst(st, cli->in_status);
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
	in = &cli.io;
	st = cli.raw ? count_raw(&cli) :
	    wb_cli_records(&cli, count_record, NULL);
	wb_counter_free(counter);
	return wb_cli_exit(&cli, st, &err);
}
