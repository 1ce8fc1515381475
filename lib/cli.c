/* cli.c: the command line every wb command shares: one table of the
 * options several commands take, one parser, --help, one way out. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wb_priv.h"

/* Ids of the shared options that have no letter; a command's own start
 * at 256 and stay below these. */
enum {
	O_MAXREC = 1000, O_SPECIAL, O_ENCDIR, O_CPT, O_TPW, O_HT, O_FILES,
	O_LISTM, O_LISTE, O_ANNOTATE,
};

/* A shared option: its row, the set it belongs to, and the settings key it
 * writes (NULL: a field of struct wb_cli). */
static const struct {
	struct wb_opt o;
	unsigned set;
	const char *key;
} shared[] = {
	{ { "config", 'c', "FILE", "the configuration file (default: the "
	    "search in wb-config(5))" }, WB_OPTS_BUDGET, NULL },
	{ { "world", 'w', "WORLD", "the settings of this world of the "
	    "configuration" }, WB_OPTS_BUDGET, NULL },
	{ { "budget-preset", 'P', "PRESET", "default, large_context or "
	    "minimal" }, WB_OPTS_BUDGET, "preset" },
	{ { "total", 't', "TOTAL", "the total budget in tokens" },
	    WB_OPTS_BUDGET, "total_budget_tokens" },
	{ { "set", 's', "CATEGORY=N", "the budget of one category "
	    "(repeatable)" }, WB_OPTS_BUDGET, "" },
	{ { "field", 'f', "FIELD", "the field that holds the text (default "
	    "text)" }, WB_OPTS_TEXT, NULL },
	{ { "raw", 'r', NULL, "each input is one text, not JSON records" },
	    WB_OPTS_TEXT, NULL },
	{ { "quiet", 'q', NULL, "with -r: print the result alone" },
	    WB_OPTS_TEXT, NULL },
	{ { "raw-lines", 'R', NULL, "each line is a text, as jq -R reads it" },
	    WB_OPTS_TEXT, NULL },
	{ { "method", 'm', "METHOD", "count by char, word or hybrid "
	    "(default hybrid)" }, WB_OPTS_COUNTER, "counter.method" },
	{ { "preset", 'p', "PRESET", "the counter parameters of default or "
	    "llama" }, WB_OPTS_COUNTER, "counter.preset" },
	{ { "encoding", 'e', "ENCODING", "exact tokens of an encoding, such "
	    "as o200k_base" }, WB_OPTS_COUNTER, "counter.encoding" },
	{ { "model", 'M', "MODEL", "exact tokens of a model's encoding, such "
	    "as gpt-4o, or of an Ollama model, ollama:NAME" }, WB_OPTS_COUNTER,
	    "counter.model" },
	{ { "tokenizer", 'T', "FILE", "exact tokens of a Hugging Face "
	    "tokenizer.json or a GGUF file" }, WB_OPTS_COUNTER,
	    "counter.tokenizer" },
	{ { "allow-special", O_SPECIAL, NULL, "special-token text counts as "
	    "its special token" }, WB_OPTS_COUNTER, "counter.allow_special" },
	{ { "encodings-dir", O_ENCDIR, "DIR", "where the rank files are" },
	    WB_OPTS_COUNTER, "counter.encodings_dir" },
	{ { "chars-per-token", O_CPT, "N", "characters per token of the char "
	    "method" }, WB_OPTS_COUNTER, "counter.chars_per_token" },
	{ { "tokens-per-word", O_TPW, "N", "tokens per word of the word "
	    "method" }, WB_OPTS_COUNTER, "counter.tokens_per_word" },
	{ { "hybrid-threshold", O_HT, "N", "bytes from which hybrid counts "
	    "words" }, WB_OPTS_COUNTER, "counter.hybrid_threshold" },
	{ { "list-models", O_LISTM, NULL, "print the models -M knows, one JSON "
	    "line each, and exit" }, WB_OPTS_COUNTER, NULL },
	{ { "list-encodings", O_LISTE, NULL, "print the encodings -e knows, one "
	    "JSON line each, and exit" }, WB_OPTS_COUNTER, NULL },
	{ { "max-record", O_MAXREC, "SIZE", "the largest record, in bytes "
	    "(K, M, G; default 64M)" }, WB_OPTS_COMMON, NULL },
	{ { "files-from", O_FILES, "FILE", "read the names of the inputs from "
	    "FILE (- for stdin)" }, WB_OPTS_COMMON, NULL },
	{ { "null", '0', NULL, "with --files-from: the names end with NUL, not "
	    "a newline" }, WB_OPTS_COMMON, NULL },
	{ { "annotate", O_ANNOTATE, "github", "also say each problem as a "
	    "GitHub Actions annotation" }, WB_OPTS_COMMON, NULL },
	{ { "help", 'h', NULL, "print this help and exit" }, WB_OPTS_COMMON,
	    NULL },
	{ { "version", 'V', NULL, "print the version and exit" },
	    WB_OPTS_COMMON, NULL },
};

#define MAX_OPTS 64

/* The shared options about reading inputs. */
static bool
input_option(int id)
{
	return id == O_FILES || id == '0' || id == O_ANNOTATE;
}

/* The rows a command takes: its own first, then its shared sets. */
static size_t
rows(const struct wb_cli *cli, const struct wb_opt **out, size_t cap)
{
	size_t n = 0;

	for (const struct wb_opt *o = cli->own; o && o->name && n < cap; o++)
		out[n++] = o;
	for (size_t i = 0; i < WB_NELEM(shared) && n < cap; i++)
		if ((shared[i].set & (cli->sets | WB_OPTS_COMMON)) &&
		    !((cli->sets & WB_OPTS_NOFILES) && input_option(shared[i].o.id)))
			out[n++] = &shared[i].o;
	return n;
}

/* Print s from column col on, wrapped to fit in 80 columns, the later
 * lines indented to col; a word too long for the room has it alone. */
static void
wrapped(FILE *f, const char *s, int col)
{
	size_t room = 79 - (size_t)col, n;

	while (strlen(s) > room) {
		for (n = room; n > 0 && s[n] != ' '; n--)
			;
		if (n == 0 && (n = strcspn(s, " ")) == strlen(s))
			break;
		fprintf(f, "%.*s\n%*s", (int)n, s, col, "");
		s += n + 1;
	}
	fprintf(f, "%s\n", s);
}

/* Print the usage, then each option, its help beside it. */
static void
help(const struct wb_cli *cli, FILE *f)
{
	const struct wb_opt *r[MAX_OPTS];
	size_t n = rows(cli, r, MAX_OPTS);
	char lhs[64];

	fputs(cli->usage, f);
	fputs("\noptions:\n", f);
	for (size_t i = 0; i < n; i++) {
		if (r[i]->id < 256)
			snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", r[i]->id,
			    r[i]->name, r[i]->arg ? " " : "",
			    r[i]->arg ? r[i]->arg : "");
		else
			snprintf(lhs, sizeof(lhs), "    --%s%s%s", r[i]->name,
			    r[i]->arg ? " " : "", r[i]->arg ? r[i]->arg : "");
		if (strlen(lhs) < 28)
			fprintf(f, "  %-28s", lhs);
		else
			fprintf(f, "  %s\n%30s", lhs, "");
		wrapped(f, r[i]->help, 30);
	}
}

/* Describe a getopt_long failure: c is ':' or '?', as getopt returned it. */
static int
getopt_err(struct wb_err *err, int c, int opt, const char *arg)
{
	const char *what = c == ':' ? "needs a value" : "unknown option";

	if (opt != 0 && opt < 256)
		return wb_err_set(err, WB_EUSAGE, "-%c: %s", opt, what);
	return wb_err_set(err, WB_EUSAGE, "%s: %s", arg, what);
}

/* The option as the user typed it, for messages: "-m" or "--total". */
static const char *
typed(const struct wb_opt *o, char *buf, size_t size)
{
	if (o->id < 256)
		snprintf(buf, size, "-%c", o->id);
	else
		snprintf(buf, size, "--%s", o->name);
	return buf;
}

/* -s CATEGORY=N: the budget of one category. */
static int
set_category(struct wb_layer *l, const char *arg, struct wb_err *err)
{
	enum wb_category cat;
	const char *eq = strchr(arg, '=');
	char key[64];

	if (eq == NULL || (size_t)(eq - arg) >= 32)
		return wb_err_set(err, WB_EUSAGE, "-s: '%s': not CATEGORY=N", arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (wb_category_parse(key, &cat) != 0)
		return wb_err_set(err, WB_EUSAGE, "-s: '%s': unknown category",
		    key);
	snprintf(key, sizeof(key), "%s_tokens", wb_category_name(cat));
	return wb_layer_set(l, key, eq + 1, "-s", err);
}

/* --list-models: the models, then the prefixes, in the order -M tries
 * them. */
static void
list_models(FILE *f)
{
	const char *name, *enc;
	bool prefix;

	for (size_t i = 0; (name = wb_model_at(i, &prefix, &enc)) != NULL; i++)
		fprintf(f, "{\"%s\":\"%s\",\"encoding\":\"%s\"}\n",
		    prefix ? "prefix" : "model", name, enc);
}

/* --list-encodings: each encoding, its rank file and special tokens. */
static void
list_encodings(FILE *f)
{
	const char *name, *ranks;
	size_t nsp;

	for (size_t i = 0; (name = wb_bpe_encoding_at(i, &ranks, &nsp)) != NULL;
	    i++)
		fprintf(f, "{\"encoding\":\"%s\",\"rank_file\":\"%s.tiktoken\","
		    "\"special_tokens\":%zu}\n", name, ranks, nsp);
}

/* Handle a shared option i with its argument. */
static int
shared_option(struct wb_cli *cli, size_t i, const char *arg,
    struct wb_err *err)
{
	char name[40];

	if (shared[i].key != NULL && shared[i].key[0] == '\0')
		return set_category(cli->flags, arg, err);
	/* An empty -e, -M or -T (an unset variable) would mean "none" as in
	 * the configuration, and count by the heuristic without a word. */
	if ((shared[i].o.id == 'e' || shared[i].o.id == 'M' ||
	    shared[i].o.id == 'T') && arg[0] == '\0')
		return wb_err_set(err, WB_EUSAGE, "-%c: empty", shared[i].o.id);
	if (shared[i].o.id == 'M')
		cli->model = arg;
	if (shared[i].key != NULL)
		return wb_layer_set(cli->flags, shared[i].key, arg ? arg : "true",
		    typed(&shared[i].o, name, sizeof(name)), err);
	switch (shared[i].o.id) {
	case 'c': cli->config = arg; break;
	case 'w': cli->world = arg; break;
	case 'r': cli->raw = true; break;
	case 'q': cli->quiet = true; break;
	case 'R': cli->lines = true; break;
	case 'f':
		if (wb_utf8_valid(arg, strlen(arg)) != strlen(arg))
			return wb_err_set(err, WB_EUSAGE, "-f: not UTF-8");
		cli->field = arg;
		break;
	case O_MAXREC:
		if (wb_parse_size(arg, &cli->io.max_record, err))
			return wb_err_prefix(err, "--max-record");
		break;
	case O_FILES: cli->files_from = arg; break;
	case O_ANNOTATE:
		if (strcmp(arg, "github") != 0)
			return wb_err_set(err, WB_EUSAGE, "--annotate: '%s': not "
			    "github", arg);
		cli->io.annotate = true;
		break;
	case '0': cli->nul = true; break;
	case 'h':
		help(cli, cli->io.out);
		cli->done = true;
		break;
	case O_LISTM:
		list_models(cli->io.out);
		cli->done = true;
		break;
	case O_LISTE:
		list_encodings(cli->io.out);
		cli->done = true;
		break;
	case 'V':
		fprintf(cli->io.out, "%s (wb) %s\n", cli->prog, WB_VERSION);
		cli->done = true;
		break;
	}
	return WB_OK;
}

int
wb_cli_parse(struct wb_cli *cli, int argc, char **argv, struct wb_err *err)
{
	const struct wb_opt *r[MAX_OPTS];
	struct option lo[MAX_OPTS + 1];
	char so[3 * MAX_OPTS + 2], *p = so;
	size_t n = rows(cli, r, MAX_OPTS), i;
	int c, st;

	cli->io = (struct wb_io){ .prog = cli->prog, .in = stdin, .out = stdout,
	    .err = stderr, .in_name = "stdin",
	    .text_modes = (cli->sets & WB_OPTS_TEXT) != 0 };
	if (cli->field == NULL)
		cli->field = "text";
	if ((cli->flags = wb_layer_new()) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	*p++ = ':';
	for (i = 0; i < n; i++) {
		lo[i] = (struct option){ r[i]->name, r[i]->arg ? required_argument :
		    no_argument, NULL, r[i]->id };
		if (r[i]->id < 256) {
			*p++ = (char)r[i]->id;
			if (r[i]->arg)
				*p++ = ':';
		}
	}
	*p = '\0';
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == ':' || c == '?')
			return getopt_err(err, c, optopt, argv[optind - 1]);
		for (i = 0; i < WB_NELEM(shared); i++)
			if (shared[i].o.id == c &&
			    (shared[i].set & (cli->sets | WB_OPTS_COMMON)) &&
			    !((cli->sets & WB_OPTS_NOFILES) && input_option(c)))
				break;
		if (i < WB_NELEM(shared))
			st = shared_option(cli, i, optarg, err);
		else
			st = cli->own_option(cli->ctx, c, optarg, err);
		if (st != WB_OK)
			return st;
		if (cli->done)
			return WB_OK;
	}
	cli->files = argv + optind;
	cli->nfiles = (size_t)(argc - optind);
	if (cli->nul && cli->files_from == NULL)
		return wb_err_set(err, WB_EUSAGE, "-0: only with --files-from");
	if (cli->lines && cli->raw)
		return wb_err_set(err, WB_EUSAGE, "-R: not with -r");
	if (cli->quiet && !cli->raw)
		return wb_err_set(err, WB_EUSAGE, "-q: only with -r");
	if (cli->sets & WB_OPTS_COUNTER) {
		const char *enc;

		return wb_env_model(&enc, err);
	}
	return WB_OK;
}

/* The next name that --files-from gives, or NULL after the last. */
static const char *
listed(struct wb_cli *cli)
{
	ssize_t n;

	if (cli->files_from == NULL)
		return NULL;
	if (cli->list == NULL) {
		cli->list = strcmp(cli->files_from, "-") == 0 ? stdin :
		    fopen(cli->files_from, "r");
		if (cli->list == NULL) {
			fprintf(cli->io.err, "%s: --files-from: %s: %s\n", cli->prog,
			    cli->files_from, strerror(errno));
			cli->in_status = wb_status_worst(cli->in_status, WB_ENOINPUT);
			cli->files_from = NULL;
			return NULL;
		}
	}
	do {
		n = getdelim(&cli->name, &cli->name_cap, cli->nul ? '\0' : '\n',
		    cli->list);
		if (n > 0 && !cli->nul && cli->name[n - 1] == '\n')
			cli->name[--n] = '\0';
	} while (n == 0);
	if (n > 0)
		return cli->name;
	if (ferror(cli->list)) {
		fprintf(cli->io.err, "%s: --files-from: %s: %s\n", cli->prog,
		    cli->files_from, strerror(errno));
		cli->in_status = wb_status_worst(cli->in_status, WB_EIO);
	}
	if (cli->list != stdin)
		fclose(cli->list);
	cli->list = NULL;
	cli->files_from = NULL;
	return NULL;
}

/* A directory is no input: fopen opens it, and reading it fails later. */
int
wb_cli_next(struct wb_cli *cli)
{
	const char *name;
	struct stat sb;
	FILE *f;

	if (cli->io.in != NULL && cli->io.in != stdin)
		fclose(cli->io.in);
	cli->io.in = NULL;
	for (;;) {
		if (cli->next < cli->nfiles)
			name = cli->files[cli->next++];
		else if (cli->files_from != NULL)
			name = listed(cli);
		else
			name = cli->started ? NULL : "-";
		cli->started = true;
		if (name == NULL)
			return 0;
		if (strcmp(name, "-") == 0) {
			cli->io.in = stdin;
			cli->io.in_name = "stdin";
			cli->io.in_file = false;
			return 1;
		}
		errno = 0;
		if ((f = fopen(name, "r")) == NULL ||
		    (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode))) {
			fprintf(cli->io.err, "%s: %s: %s\n", cli->prog, name,
			    f ? strerror(EISDIR) : strerror(errno));
			if (f != NULL)
				fclose(f);
			cli->in_status = wb_status_worst(cli->in_status, WB_ENOINPUT);
			continue;
		}
		cli->io.in = f;
		cli->io.in_name = name;
		cli->io.in_file = true;
		return 1;
	}
}

/* A failure of the output or the machine stops the run; bad input does
 * not. */
int
wb_cli_records(struct wb_cli *cli, wb_record_fn fn, void *ctx)
{
	int st = WB_OK, r;

	while (wb_cli_next(cli) > 0) {
		r = cli->lines ? wb_lines_run(&cli->io, cli->field, fn, ctx) :
		    wb_records_run(&cli->io, fn, ctx);
		st = wb_status_worst(st, r);
		if (r != WB_OK && r != WB_ECHECK && r != WB_EDATA)
			break;
	}
	return wb_status_worst(st, cli->in_status);
}

struct wb_counter *
wb_cli_counter(const struct wb_cli *cli, struct wb_err *err)
{
	const struct wb_layer *l = cli->flags;
	struct wb_settings s;

	if (wb_settings_from(&l, 1, &s, err) != WB_OK)
		return NULL;
	return wb_counter_new(&s.counter, err);
}

int
wb_cli_exit(struct wb_cli *cli, int status, const struct wb_err *err)
{
	if (status != WB_OK && err->msg[0] != '\0') {
		fprintf(cli->io.err ? cli->io.err : stderr, "%s: %s\n", cli->prog,
		    err->msg);
		if (status == WB_EUSAGE)
			fputs(cli->usage, cli->io.err ? cli->io.err : stderr);
	}
	wb_layer_free(cli->flags);
	cli->flags = NULL;
	if (cli->io.in != NULL && cli->io.in != stdin)
		fclose(cli->io.in);
	if (cli->list != NULL && cli->list != stdin)
		fclose(cli->list);
	free(cli->name);
	if (cli->io.out == NULL)
		return status;
	return wb_close_out(&cli->io, status);
}
