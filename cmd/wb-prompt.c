/* wb-prompt: build an NPC's prompt from the engine's request, within budget. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-prompt [-c FILE] [-w WORLD] [-F json|text|openai|ollama]\n"
    "                 [--model-name NAME] [--allow-over] [-P PRESET]\n"
    "                 [-t TOTAL] [-s CATEGORY=N]... [-m char|word|hybrid]\n"
    "                 [-p default|llama] [-e ENCODING] [-M MODEL] [-T FILE]\n"
    "                 [--allow-special] [--encodings-dir DIR]\n"
    "                 [--max-record SIZE] [--chars-per-token N]\n"
    "                 [--tokens-per-word N] [--hybrid-threshold N]\n"
    "                 [--list-models] [--list-encodings]\n"
    "                 [--annotate github] [--report FILE] [-z]\n"
    "                 [--summarize-history]\n"
    "                 [--files-from FILE [-0]] [FILE ...]\n";

enum { OPT_MODEL = 256, OPT_ALLOW, OPT_REPORT, OPT_SUMHIST };

static const struct wb_opt options[] = {
	{ "format", 'F', "FORMAT", "json (default), text, openai or ollama" },
	{ "model-name", OPT_MODEL, "NAME", "the model named in the openai and "
	    "ollama bodies (default: -M's)" },
	{ "allow-over", OPT_ALLOW, NULL, "write a prompt over its budget, and "
	    "exit 1" },
	{ "report", OPT_REPORT, "FILE", "also write each request's report to "
	    "FILE, one JSON line each" },
	{ "print0", 'z', NULL, "with -F text, end each prompt with a NUL "
	    "instead of a form feed line between them" },
	{ "summarize-history", OPT_SUMHIST, NULL, "summarize the dropped "
	    "oldest turns into one (summarize_history)" },
	{ NULL, 0, NULL, NULL },
};

enum format { F_JSON, F_TEXT, F_OPENAI, F_OLLAMA };

static struct wb_config *cfg;
static struct wb_counter *counter;  /* reused while the records agree */
static struct wb_layer *flags;
static const struct wb_io *in;      /* the input, for messages */
static const char *world, *model_name;
static enum format format = F_JSON;
static bool allow_over;
static const char *report_name;     /* --report */
static FILE *report_file;
static bool withheld;               /* the record's body is not written */
static bool print0;                 /* -z */
static bool written;                /* -F text: a record was written */

/* The record's own context_budget, as a layer over the file's. */
static int
record_layer(const json_t *rec, struct wb_layer **out, struct wb_err *err)
{
	const json_t *cb = json_object_get(rec, "context_budget");
	const char *key;
	json_t *v;

	*out = NULL;
	if (cb == NULL || json_is_null(cb))
		return WB_OK;
	if (!json_is_object(cb))
		return wb_err_set(err, WB_EDATA,
		    "context_budget: expected an object");
	if ((*out = wb_layer_new()) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	json_object_foreach((json_t *)cb, key, v)
		if (wb_layer_set_json(*out, key, v, err) != WB_OK)
			return wb_err_prefix(err, "context_budget");
	return WB_OK;
}

/* Replace rec by the chat body that format asks for. */
static int
reshape(json_t *rec, struct wb_prompt_out *o, struct wb_err *err)
{
	int bad = 0;

	if (format == F_JSON || format == F_TEXT) {
		bad |= json_object_set_new(rec, "system_prompt",
		    json_stringn(o->system, o->system_len));
		bad |= json_object_set(rec, "messages", o->messages);
		bad |= json_object_set(rec, "report", o->report);
	} else {
		json_object_clear(rec);
		bad |= json_object_set_new(rec, "model", json_string(model_name));
		bad |= json_object_set(rec, "messages", o->messages);
		if (format == F_OLLAMA)
			bad |= json_object_set_new(rec, "stream", json_false());
	}
	return bad ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The report of one request, and where the request was, as one JSON line
 * to --report's file and, when to_stderr, to stderr. */
static int
write_report(const json_t *report, uint64_t line, bool to_stderr,
    struct wb_err *err)
{
	json_t *o;
	int st = WB_OK;

	if (report_file == NULL && !to_stderr)
		return WB_OK;
	if ((o = json_pack("{s:s,s:I,s:O}", "file", in->in_name, "line",
	    (json_int_t)line, "report", report)) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	if (to_stderr)
		st = wb_emit(stderr, o, err);
	if (st == WB_OK && report_file != NULL &&
	    (st = wb_emit(report_file, o, err)) == WB_EIO)
		wb_err_set(err, WB_EIO, "--report: %s: write error", report_name);
	json_decref(o);
	return st;
}

/* Build the prompt of one request record. */
static int
prompt_record(void *ctx, json_t *rec, struct wb_err *err)
{
	struct wb_prompt_out o;
	struct wb_layer *own = NULL;
	struct wb_settings s;
	struct wb_counter *c = NULL;
	const json_t *wid = json_object_get(rec, "world_id");
	const char *w = json_is_string(wid) ? json_string_value(wid) : world;
	int st;

	(void)ctx;
	withheld = false;
	memset(&o, 0, sizeof(o));
	if ((st = record_layer(rec, &own, err)) != WB_OK)
		goto out;
	if (wb_settings_resolve(cfg, w, own, flags, &s, err) != WB_OK) {
		/* Only the record's own budgets can break them here. */
		err->status = WB_EDATA;
		st = wb_err_prefix(err, "context_budget");
		goto out;
	}
	if ((c = wb_counter_reuse(&counter, &s.counter, err)) == NULL) {
		st = err->status;
		goto out;
	}
	st = wb_prompt_build(&s, c, rec, allow_over, &o, err);
	if (o.report != NULL && s.enable_summarization &&
	    s.summarize_command[0] != '\0') {
		char where[1100];
		snprintf(where, sizeof(where), "%.1000s:%llu", in->in_name,
		    (unsigned long long)err->line);
		wb_warn_summaries(stderr, "wb-prompt", where,
		    json_object_get(o.report, "sections"), true);
	}
	if (st == WB_ECHECK) {
		/* No prompt over budget: the report, and a message. A chat
		 * body must not go out, so those formats write nothing on
		 * stdout, and the report goes to stderr as one JSON line. */
		uint64_t line = err->line;
		fprintf(stderr, "wb-prompt: %s:%llu: %s\n", in->in_name,
		    (unsigned long long)line, err->msg);
		if (json_object_set(rec, "report", o.report) != 0) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
		withheld = format == F_OPENAI || format == F_OLLAMA;
		st = write_report(o.report, line, withheld, err);
		if (st == WB_OK)
			st = WB_ECHECK;
		err->line = line;
	} else if (st == WB_OK) {
		json_t *tot = json_object_get(o.report, "total");
		bool over = json_is_true(json_object_get(tot, "over"));
		json_t *total = json_object_get(tot, "final_tokens");
		/* --allow-over writes it, but says so, and the status says so. */
		if (over)
			fprintf(stderr, "wb-prompt: %s:%llu: the prompt has "
			    "%lld tokens, over the budget of %llu, written "
			    "because of --allow-over\n", in->in_name,
			    (unsigned long long)err->line,
			    (long long)json_integer_value(total),
			    (unsigned long long)s.total);
		if ((st = write_report(o.report, err->line, false, err)) ==
		    WB_OK)
			st = reshape(rec, &o, err);
		if (st == WB_OK && over)
			st = WB_ECHECK;
	}
out:
	wb_prompt_out_free(&o);
	wb_layer_free(own);
	return st;
}

/* Write a record's body: nothing when it was withheld; with -F text, the
 * system prompt itself, or the record when there is none, with a form
 * feed line between records, or a NUL after each with -z. */
static int
emit(FILE *out, const json_t *rec, struct wb_err *err)
{
	const json_t *sp = json_object_get(rec, "system_prompt");
	size_t n;
	int st;

	if (withheld) {
		withheld = false;
		return WB_OK;
	}
	if (format != F_TEXT)
		return wb_emit(out, rec, err);
	if (written && !print0 && fputs("\f\n", out) == EOF)
		return wb_err_set(err, WB_EIO, "stdout: %s", strerror(errno));
	written = true;
	if (!json_is_string(sp)) {
		if ((st = wb_emit(out, rec, err)) != WB_OK)
			return st;
	} else {
		n = json_string_length(sp);
		if (fwrite(json_string_value(sp), 1, n, out) != n ||
		    (!print0 && putc('\n', out) == EOF))
			return wb_err_set(err, WB_EIO, "stdout: %s", strerror(errno));
	}
	if ((print0 && putc('\0', out) == EOF) || fflush(out) != 0)
		return wb_err_set(err, WB_EIO, "stdout: %s", strerror(errno));
	return WB_OK;
}

/* wb-prompt's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	static const char *const names[] = {
		[F_JSON] = "json", [F_TEXT] = "text", [F_OPENAI] = "openai",
		[F_OLLAMA] = "ollama",
	};
	size_t i;

	switch (id) {
	case 'F':
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(arg, names[i]) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return wb_err_set(err, WB_EUSAGE, "-F: '%s': not json, "
			    "text, openai or ollama", arg);
		format = (enum format)i;
		break;
	case OPT_MODEL: model_name = arg; break;
	case OPT_ALLOW: allow_over = true; break;
	case OPT_REPORT: report_name = arg; break;
	case 'z': print0 = true; break;
	case OPT_SUMHIST:
		return wb_layer_set(((struct wb_cli *)ctx)->flags,
		    "summarize_history", "true", "--summarize-history", err);
	}
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-prompt", .usage = usage_text,
	    .sets = WB_OPTS_COUNTER | WB_OPTS_BUDGET, .own = options,
	    .own_option = option };
	struct wb_err err = { 0 };
	int st;

	cli.ctx = &cli;
	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	/* A body the API would refuse is a usage error, and so is an option
	 * that the format would ignore. */
	if (format == F_OPENAI || format == F_OLLAMA) {
		if (model_name == NULL)
			model_name = cli.model;
		if (model_name == NULL) {
			st = wb_err_set(&err, WB_EUSAGE, "-F %s: the body needs a "
			    "model: --model-name NAME or -M MODEL",
			    format == F_OPENAI ? "openai" : "ollama");
			return wb_cli_exit(&cli, st, &err);
		}
	} else if (model_name != NULL) {
		st = wb_err_set(&err, WB_EUSAGE, "--model-name: only with -F "
		    "openai or -F ollama");
		return wb_cli_exit(&cli, st, &err);
	}
	if (print0 && format != F_TEXT) {
		st = wb_err_set(&err, WB_EUSAGE, "-z: only with -F text");
		return wb_cli_exit(&cli, st, &err);
	}
	flags = cli.flags;
	world = cli.world;
	in = &cli.io;
	if ((st = wb_config_open(cli.config, flags, &cfg, &err)) != WB_OK)
		return wb_cli_exit(&cli, st, &err);
	/* A record's unknown world_id takes the top level; -w must exist. */
	if (wb_config_categories_path(cfg) != NULL) {
		st = wb_err_set(&err, WB_ECONFIG, "%.500s: categories: only "
		    "wb-budget uses categories of a file's own; wb-prompt builds "
		    "the engine's", wb_config_categories_path(cfg));
	} else if (world != NULL && !wb_config_has_world(cfg, world)) {
		st = wb_err_set(&err, WB_ECONFIG, "-w: '%s': no such world in the "
		    "configuration", world);
	} else if (report_name != NULL &&
	    (report_file = fopen(report_name, "w")) == NULL) {
		st = wb_err_set(&err, WB_EIO, "--report: %s: %s", report_name,
		    strerror(errno));
	} else {
		cli.io.emit = emit;
		st = wb_cli_records(&cli, prompt_record, NULL);
		if (report_file != NULL && (ferror(report_file) |
		    fclose(report_file)) != 0) {
			fprintf(stderr, "wb-prompt: --report: %s: write error\n",
			    report_name);
			st = wb_status_worst(st, WB_EIO);
		}
	}
	wb_counter_free(counter);
	wb_config_free(cfg);
	return wb_cli_exit(&cli, st, &err);
}
