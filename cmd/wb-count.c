/* wb-count: count the tokens of each record's text, or of all of stdin. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]\n"
    "                [-M MODEL] [-T FILE] [-f FIELD] [-l LIMIT] [-C]\n"
    "                [--ids] [--tokens] [--decode]\n"
    "                [-r [-q] [-j N] | -R] [--allow-special]\n"
    "                [--encodings-dir DIR]\n"
    "                [--max-record SIZE] [--chars-per-token N]\n"
    "                [--tokens-per-word N] [--hybrid-threshold N]\n"
    "                [--list-models] [--list-encodings]\n"
    "                [--annotate github] [--files-from FILE [-0]] [FILE ...]\n";

enum { OPT_IDS = 256, OPT_TOKENS, OPT_DECODE };

static const struct wb_opt options[] = {
	{ "limit", 'l', "LIMIT", "exit 1 when a text is over LIMIT tokens" },
	{ "chat", 'C', NULL, "count a chat request {\"messages\", \"tools\"?} "
	    "as the API bills it" },
	{ "ids", OPT_IDS, NULL, "add \"ids\": the token ids (needs -e, -M or -T)" },
	{ "tokens", OPT_TOKENS, NULL, "add \"token_texts\": the text of each "
	    "token" },
	{ "decode", OPT_DECODE, NULL, "give records' \"ids\" their text at "
	    "-f's field" },
	{ "jobs", 'j', "N", "with -r: count a file of 64 MiB or more in N "
	    "threads (default: one a CPU)" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_counter *counter;
static const struct wb_io *in;      /* the input, for annotations */
static const char *field;
static uint64_t limit = UINT64_MAX;
static unsigned jobs;             /* -j; 0: one a CPU */
static bool has_limit, chat, ids, tokens, decode;

/* One token's text: a string, or the list of its bytes when they are
 * not UTF-8 by themselves (part of a character, as one of the tokens of
 * a rare character is). */
static json_t *
token_text(uint32_t id, struct wb_err *err)
{
	size_t len;
	char *b = wb_counter_decode(counter, &id, 1, &len, err);
	json_t *v;

	if (b == NULL)
		return NULL;
	if (wb_utf8_valid(b, len) == len) {
		v = json_stringn(b, len);
	} else {
		v = json_array();
		for (size_t i = 0; v != NULL && i < len; i++)
			if (json_array_append_new(v, json_integer(
			    (unsigned char)b[i])) != 0) {
				json_decref(v);
				v = NULL;
			}
	}
	free(b);
	if (v == NULL)
		wb_err_set(err, WB_EINTERNAL, "out of memory");
	return v;
}

/* Add "ids" (with --ids) and "token_texts" (with --tokens) for s. */
static int
add_tokens(json_t *rec, const char *s, size_t len, struct wb_err *err)
{
	/* A token is at least one byte: len ids are always room enough. */
	uint32_t *id = malloc((len + 1) * sizeof(*id));
	json_t *a = json_array(), *t = json_array(), *v;
	size_t n;
	int st = WB_OK;

	if (id == NULL || a == NULL || t == NULL) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto out;
	}
	n = wb_counter_encode(counter, s, len, id, len + 1, err);
	if (n == WB_BPE_FAIL) {
		st = WB_EINTERNAL;
		goto out;
	}
	for (size_t i = 0; i < n && i <= len; i++) {
		if (ids && json_array_append_new(a, json_integer(id[i])) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
		if (!tokens)
			continue;
		if ((v = token_text(id[i], err)) == NULL) {
			st = WB_EINTERNAL;
			goto out;
		}
		if (json_array_append_new(t, v) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
	}
	if ((ids && json_object_set(rec, "ids", a) != 0) ||
	    (tokens && json_object_set(rec, "token_texts", t) != 0))
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
out:
	json_decref(a);
	json_decref(t);
	free(id);
	return st;
}

/* --decode: set -f's field to the text of the record's "ids". */
static int
decode_record(void *ctx, json_t *rec, struct wb_err *err)
{
	json_t *a = json_object_get(rec, "ids"), *v;
	uint32_t *id;
	size_t i, n, len, bad;
	char *text;
	int st = WB_OK;

	(void)ctx;
	if (a == NULL)
		return wb_err_set(err, WB_EDATA, "missing field \"ids\"");
	if (!json_is_array(a))
		return wb_err_set(err, WB_EDATA, "field \"ids\" is not an "
		    "array");
	n = json_array_size(a);
	if ((id = malloc((n ? n : 1) * sizeof(*id))) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX) {
			free(id);
			return wb_err_set(err, WB_EDATA, "ids[%zu]: not a token "
			    "id (an integer from 0)", i);
		}
		id[i] = (uint32_t)json_integer_value(v);
	}
	text = wb_counter_decode(counter, id, n, &len, err);
	free(id);
	if (text == NULL)
		return err->status;
	if ((bad = wb_utf8_valid(text, len)) < len)
		st = wb_err_set(err, WB_EDATA, "ids: their bytes are not UTF-8 "
		    "(at byte offset %zu of the text)", bad);
	else if (wb_path_set(rec, field, json_stringn(text, len)) != 0)
		st = wb_err_set(err, WB_EDATA, "-f %s: no place for the text "
		    "in this record", field);
	free(text);
	return st;
}

/* Add "tokens" (and "over_limit" with -l, "ids" with --ids, "token_texts"
 * with --tokens) to a record. */
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
		if (wb_count_chat(counter, rec, &n,
		    err) != WB_OK)
			return WB_EDATA;
	} else {
		if (wb_get_string(rec, field, &s, &len, err) != WB_OK)
			return WB_EDATA;
		/* The whole count, even past the limit: it is printed. */
		n = wb_count(counter, s, len);
		if ((ids || tokens) && add_tokens(rec, s, len, err) != WB_OK)
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

/* One input's count: a record (named when it is a file, with its ids and
 * token texts when text is not NULL), or with -q a line "N NAME" as wc
 * writes it. */
static int
print_count(const struct wb_io *io, bool quiet, uint64_t n, const char *text,
    size_t len)
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
	    (text != NULL && add_tokens(rec, text, len, &err) != WB_OK) ||
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

/* Is s[0..len) the start of a UTF-8 sequence that the end cuts short? */
static bool
cut_short(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 &&
	    p[0] <= 0xEF ? 3 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : 0;

	if (need == 0 || len >= need)
		return false;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return false;
	return true;
}

/* -r with --ids or --tokens: the whole input into *text, counted; its
 * ids need it all at once. */
static int
read_whole(const struct wb_io *io, char **text, size_t *len, uint64_t *n,
    struct wb_err *err)
{
	size_t cap = 65536, bad;
	char *b = malloc(cap), *nb;
	ssize_t r;

	*len = 0;
	for (;;) {
		if (b == NULL)
			return wb_err_set(err, WB_EINTERNAL, "out of memory");
		if (cap - *len < 65536) {
			if ((nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				return wb_err_set(err, WB_EINTERNAL,
				    "out of memory");
			}
			b = nb;
			cap *= 2;
		}
		do
			r = read(fileno(io->in), b + *len, cap - *len - 1);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			free(b);
			return wb_err_set(err, WB_EIO, "%s: %s", io->in_name,
			    strerror(errno));
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	b[*len] = '\0';
	if ((bad = wb_utf8_valid(b, *len)) < *len) {
		bool cut = cut_short(b + bad, *len - bad);

		free(b);
		err->offset = bad;
		return wb_err_set(err, WB_EDATA, "%s: invalid UTF-8 at byte "
		    "offset %zu%s", io->in_name, bad, cut ?
		    ": truncated sequence" : "");
	}
	*text = b;
	*n = wb_count(counter, b, *len);
	return WB_OK;
}

/* -r: each input is one text, counted whole; after several, a total. */
static int
count_raw(struct wb_cli *cli)
{
	const struct wb_io *io = &cli->io;
	bool many = cli->nfiles > 1 || cli->files_from != NULL;
	struct total t = { 0 };
	struct wb_err err;
	uint64_t n = 0;
	char *text = NULL;
	size_t len = 0;
	int st = WB_OK, r;

	while (wb_cli_next(cli) > 0) {
		memset(&err, 0, sizeof(err));
		free(text);
		text = NULL;
		if ((r = ids || tokens ? read_whole(io, &text, &len, &n, &err) :
		    wb_read_count_parallel(io, counter, jobs, &n, &err)) != WB_OK) {
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
		r = print_count(io, cli->quiet, n, text, len);
		st = wb_status_worst(st, r);
		if (r == WB_EIO)
			break;
	}
	free(text);
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
	uint64_t j;

	(void)ctx;
	switch (id) {
	case 'l':
		if (wb_parse_u64(arg, 0, UINT64_MAX - 1, &limit, err))
			return wb_err_prefix(err, "-l");
		has_limit = true;
		break;
	case 'j':
		if (wb_parse_u64(arg, 1, 1024, &j, err))
			return wb_err_prefix(err, "-j");
		jobs = (unsigned)j;
		break;
	case 'C': chat = true; break;
	case OPT_IDS: ids = true; break;
	case OPT_TOKENS: tokens = true; break;
	case OPT_DECODE: decode = true; break;
	}
	return WB_OK;
}

/* Options that go together, once all are known. */
static int
check_options(const struct wb_cli *cli, struct wb_err *err)
{
	const char *what = ids ? "--ids" : "--tokens";

	if (decode && (chat || ids || tokens || has_limit || cli->raw ||
	    cli->lines))
		return wb_err_set(err, WB_EUSAGE, "--decode: not with %s",
		    chat ? "-C" : ids ? "--ids" : tokens ? "--tokens" :
		    has_limit ? "-l" : cli->raw ? "-r" : "-R");
	if (chat && (ids || tokens))
		return wb_err_set(err, WB_EUSAGE, "%s: not with -C", what);
	if (cli->raw && chat)
		return wb_err_set(err, WB_EUSAGE, "-C: not with -r");
	if (jobs > 0 && !cli->raw)
		return wb_err_set(err, WB_EUSAGE, "-j: only with -r");
	if (cli->quiet && (ids || tokens))
		return wb_err_set(err, WB_EUSAGE, "%s: not with -q, which "
		    "prints the count alone", what);
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-count", .usage = usage_text,
	    .sets = WB_OPTS_COUNTER | WB_OPTS_TEXT, .own = options,
	    .own_option = option };
	struct wb_err err = { 0 };
	int st;

	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	if ((st = check_options(&cli, &err)) != WB_OK)
		return wb_cli_exit(&cli, st, &err);
	if ((counter = wb_cli_counter(&cli, &err)) == NULL)
		return wb_cli_exit(&cli, err.status, &err);
	if ((ids || tokens || decode) && !wb_counter_has_ids(counter)) {
		wb_counter_free(counter);
		wb_err_set(&err, WB_EUSAGE, "%s: needs an encoding (-e, -M or -T)",
		    ids ? "--ids" : tokens ? "--tokens" : "--decode");
		return wb_cli_exit(&cli, WB_EUSAGE, &err);
	}
	field = cli.field;
	in = &cli.io;
	st = cli.raw ? count_raw(&cli) : wb_cli_records(&cli, decode ?
	    decode_record : count_record, NULL);
	wb_counter_free(counter);
	return wb_cli_exit(&cli, st, &err);
}
