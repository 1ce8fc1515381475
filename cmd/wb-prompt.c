/* wb-prompt: build an NPC's prompt from the engine's request, within budget. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-prompt [-c FILE] [-w WORLD] [-F json|text|openai|ollama]\n"
    "                 [--model-name NAME] [--allow-over] [-P PRESET]\n"
    "                 [-t TOTAL] [-s CATEGORY=N]... [-m char|word|hybrid]\n"
    "                 [-p default|llama] [-e ENCODING] [-M MODEL]\n"
    "                 [--allow-special] [--encodings-dir DIR]\n"
    "                 [--max-record SIZE] [--chars-per-token N]\n"
    "                 [--tokens-per-word N] [--hybrid-threshold N]\n";

enum {
	OPT_MAXREC = 256, OPT_CPT, OPT_TPW, OPT_HT, OPT_MODEL, OPT_ALLOW,
	OPT_SPECIAL, OPT_ENCDIR,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "world", required_argument, NULL, 'w' },
	{ "format", required_argument, NULL, 'F' },
	{ "model-name", required_argument, NULL, OPT_MODEL },
	{ "allow-over", no_argument, NULL, OPT_ALLOW },
	{ "budget-preset", required_argument, NULL, 'P' },
	{ "total", required_argument, NULL, 't' },
	{ "set", required_argument, NULL, 's' },
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

enum format { F_JSON, F_TEXT, F_OPENAI, F_OLLAMA };

static struct wb_config *cfg;
static struct wb_counter *counter;  /* reused while the records agree */
static const char *encodings_dir;
static bool allow_special;
static struct wb_layer *flags;
static const char *world, *model_name;
static enum format format = F_JSON;
static bool allow_over;

static int
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

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
		if (format == F_OLLAMA && model_name != NULL)
			bad |= json_object_set_new(rec, "model",
			    json_string(model_name));
		bad |= json_object_set(rec, "messages", o->messages);
		if (format == F_OLLAMA)
			bad |= json_object_set_new(rec, "stream", json_false());
	}
	return bad ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
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
	memset(&o, 0, sizeof(o));
	if ((st = record_layer(rec, &own, err)) != WB_OK)
		goto out;
	if (wb_settings_resolve(cfg, w, own, flags, &s, err) != WB_OK) {
		/* Only the record's own budgets can break them here. */
		err->status = WB_EDATA;
		st = wb_err_prefix(err, "context_budget");
		goto out;
	}
	s.counter.encodings_dir = encodings_dir;
	s.counter.allow_special = allow_special;
	if ((c = wb_counter_reuse(&counter, &s.counter, err)) == NULL) {
		st = err->status;
		goto out;
	}
	st = wb_prompt_build(&s, c, rec, allow_over, &o, err);
	if (st == WB_ECHECK) {
		/* No prompt over budget: the report, and a message. A chat
		 * body must not go out, so those formats keep the report only. */
		fprintf(stderr, "wb-prompt: stdin:%llu: %s\n",
		    (unsigned long long)err->line, err->msg);
		if (format == F_OPENAI || format == F_OLLAMA)
			json_object_clear(rec);
		if (json_object_set(rec, "report", o.report) != 0)
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
	} else if (st == WB_OK) {
		bool over = json_is_true(json_object_get(o.report,
		    "exceeded_budget"));
		json_t *total = json_object_get(o.report, "total_tokens");
		/* --allow-over writes it, but says so, and the status says so. */
		if (over)
			fprintf(stderr, "wb-prompt: stdin:%llu: the prompt has "
			    "%lld tokens, over the budget of %llu, written "
			    "because of --allow-over\n",
			    (unsigned long long)err->line,
			    (long long)json_integer_value(total),
			    (unsigned long long)s.total);
		st = reshape(rec, &o, err);
		if (st == WB_OK && over)
			st = WB_ECHECK;
	}
out:
	wb_prompt_out_free(&o);
	wb_layer_free(own);
	return st;
}

/* -F text: the system prompt itself, or the record when there is none. */
static int
emit_text(FILE *out, const json_t *rec, struct wb_err *err)
{
	const json_t *sp = json_object_get(rec, "system_prompt");
	size_t n;

	if (!json_is_string(sp))
		return wb_emit(out, rec, err);
	n = json_string_length(sp);
	if (fwrite(json_string_value(sp), 1, n, out) != n ||
	    putc('\n', out) == EOF || fflush(out) != 0)
		return wb_err_set(err, WB_EIO, "stdout: write error");
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_io io = { "wb-prompt", stdin, stdout, stderr, "stdin", 0,
	    NULL, NULL, NULL };
	struct wb_err err = { 0 };
	const char *path = NULL, *flag;
	int c, st;

	if ((flags = wb_layer_new()) == NULL)
		return WB_EINTERNAL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:w:F:P:t:s:m:p:e:M:hV", longopts,
	    NULL)) != -1) {
		flag = NULL;
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'w':
			world = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				format = F_JSON;
			else if (strcmp(optarg, "text") == 0)
				format = F_TEXT;
			else if (strcmp(optarg, "openai") == 0)
				format = F_OPENAI;
			else if (strcmp(optarg, "ollama") == 0)
				format = F_OLLAMA;
			else {
				wb_err_set(&err, WB_EUSAGE, "-F: '%s': not json, "
				    "text, openai or ollama", optarg);
				goto bad;
			}
			break;
		case OPT_MODEL:
			model_name = optarg;
			break;
		case OPT_ALLOW:
			allow_over = true;
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
			puts("wb-prompt (wb) " WB_VERSION);
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
	if (format == F_TEXT)
		io.emit = emit_text;
	st = wb_records_run(&io, prompt_record, NULL);
	wb_counter_free(counter);
	wb_config_free(cfg);
	wb_layer_free(flags);
	return wb_close_out(&io, st);
bad:
	fprintf(stderr, "wb-prompt: %s\n", err.msg);
	return usage(stderr, err.status == WB_EUSAGE ? WB_EUSAGE : err.status);
fail:
	fprintf(stderr, "wb-prompt: %s\n", err.msg);
	return err.status;
}
