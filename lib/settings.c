/* settings.c: what a budget means: categories, presets, layers of settings
 * from a file, a record or flags, resolved and validated like the engine. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

const enum wb_category wb_priority[WB_NCAT] = {
	WB_CAT_CHARACTER, WB_CAT_SCENE, WB_CAT_DIRECTORIAL, WB_CAT_HISTORY,
	WB_CAT_CHALLENGES, WB_CAT_NARRATIVE, WB_CAT_LOCATION, WB_CAT_PLAYER,
};

const char *const wb_category_names[WB_NCAT] = {
	"scene", "character", "conversation_history", "challenges",
	"narrative_events", "directorial_notes", "location_context",
	"player_context",
};

/* Every key a block may set; counter keys are written "counter.KEY". */
enum key {
	K_PRESET, K_TOTAL, K_CAT0,
	K_SUMM = K_CAT0 + WB_NCAT, K_MODEL, K_CMD, K_TIMEOUT, K_SUMHIST,
	K_METHOD, K_CPRESET, K_CPT, K_TPW, K_HT, K_ENC, K_MODELENC, K_TOKENIZER,
	K_SPECIAL, K_ENCDIR,   /* only flags set these */
	K_NKEYS
};

static const char *const key_names[K_NKEYS] = {
	"preset", "total_budget_tokens", "scene_tokens", "character_tokens",
	"conversation_history_tokens", "challenges_tokens",
	"narrative_events_tokens", "directorial_notes_tokens",
	"location_context_tokens", "player_context_tokens",
	"enable_summarization", "summarization_model", "summarize_command",
	"summarize_timeout", "summarize_history", "counter.method",
	"counter.preset",
	"counter.chars_per_token", "counter.tokens_per_word",
	"counter.hybrid_threshold", "counter.encoding", "counter.model",
	"counter.tokenizer", "counter.allow_special", "counter.encodings_dir",
};

/* The engine's three budget presets: total, then the categories in order. */
static const struct {
	const char *name;
	uint64_t total, budget[WB_NCAT];
} presets[] = {
	{ "default", 4000, { 500, 800, 1000, 400, 400, 300, 300, 300 } },
	{ "large_context", 12000, { 1500, 2500, 3000, 1200, 1200, 800, 900, 900 } },
	{ "minimal", 2000, { 250, 400, 500, 200, 200, 150, 150, 150 } },
};

const char *
wb_category_name(enum wb_category c)
{
	return wb_category_names[c];
}

int
wb_category_parse(const char *name, enum wb_category *c)
{
	for (int i = 0; i < WB_NCAT; i++)
		if (strcmp(name, wb_category_names[i]) == 0) {
			*c = (enum wb_category)i;
			return 0;
		}
	return -1;
}

/* The encoding of the model $WB_MODEL names: NULL if it is unset, empty
 * or an Ollama model (ollama:NAME, a tokenizer), else an error (78) if
 * the model is unknown. */
int
wb_env_model(const char **encoding, struct wb_err *err)
{
	const char *m = getenv("WB_MODEL");

	*encoding = NULL;
	if (m == NULL || *m == '\0' || strncmp(m, "ollama:", 7) == 0)
		return WB_OK;
	if ((*encoding = wb_model_encoding(m)) == NULL)
		return wb_err_set(err, WB_ECONFIG, "WB_MODEL: '%.200s': unknown "
		    "model (wb-count --list-models lists them)", m);
	return WB_OK;
}

/* Fill s with the defaults: the built-in ones, then $WB_MODEL's encoding
 * (the layer below any file; an unknown model, which wb_env_model
 * reports, is left out). */
void
wb_settings_default(struct wb_settings *s)
{
	const char *enc;
	struct wb_err err;

	memset(s, 0, sizeof(*s));
	s->total = presets[0].total;
	memcpy(s->budget, presets[0].budget, sizeof(s->budget));
	s->enable_summarization = true;
	s->summarize_timeout = 30;
	wb_counter_spec_default(&s->counter);
	if (wb_env_model(&enc, &err) == WB_OK && enc != NULL)
		snprintf(s->counter.encoding, sizeof(s->counter.encoding), "%s",
		    enc);
	else if ((enc = getenv("WB_MODEL")) != NULL &&
	    strncmp(enc, "ollama:", 7) == 0)
		s->counter.tokenizer = enc;
}

void
wb_settings_apply(struct wb_settings *s, const struct wb_layer *l)
{
	if (l->set & 1u << K_PRESET) {
		s->total = presets[l->preset].total;
		memcpy(s->budget, presets[l->preset].budget, sizeof(s->budget));
		memset(s->from, 0, sizeof(s->from));
	}
	if (l->set & 1u << K_TOTAL) {
		s->total = l->total;
		s->from[0] = l;
	}
	for (int i = 0; i < WB_NCAT; i++)
		if (l->set & 1u << (K_CAT0 + i)) {
			s->budget[i] = l->budget[i];
			s->from[1 + i] = l;
		}
	if (l->set & 1u << K_SUMM)
		s->enable_summarization = l->summ;
	if (l->set & 1u << K_MODEL)
		memcpy(s->summarization_model, l->model, sizeof(l->model));
	if (l->set & 1u << K_CMD)
		memcpy(s->summarize_command, l->cmd, sizeof(l->cmd));
	if (l->set & 1u << K_TIMEOUT)
		s->summarize_timeout = l->timeout;
	if (l->set & 1u << K_SUMHIST)
		s->summarize_history = l->sumhist;
	if (l->set & 1u << K_CPRESET)
		wb_counter_preset(&s->counter, l->cpreset);
	if (l->set & 1u << K_METHOD)
		s->counter.method = l->method;
	if (l->set & 1u << K_CPT)
		s->counter.chars_per_token = l->cpt;
	if (l->set & 1u << K_TPW)
		s->counter.tokens_per_word = l->tpw;
	if (l->set & 1u << K_HT)
		s->counter.hybrid_threshold = l->ht;
	/* A layer that picks a heuristic drops an encoding or a tokenizer
	 * from below it; one that picks either drops the other. */
	if (l->set & (1u << K_METHOD | 1u << K_CPRESET | 1u << K_CPT |
	    1u << K_TPW | 1u << K_HT)) {
		s->counter.encoding[0] = '\0';
		s->counter.tokenizer = NULL;
	}
	if (l->set & (1u << K_ENC | 1u << K_MODELENC)) {
		memcpy(s->counter.encoding, l->enc, sizeof(l->enc));
		s->counter.tokenizer = NULL;
	}
	if (l->set & 1u << K_TOKENIZER) {
		s->counter.tokenizer = l->tokenizer;
		s->counter.encoding[0] = '\0';
	}
	if (l->set & 1u << K_SPECIAL)
		s->counter.allow_special = true;
	if (l->set & 1u << K_ENCDIR)
		s->counter.encodings_dir = l->encdir;
	for (int i = 0; i < WB_NTPL; i++)
		if (l->tpl[i] != NULL)
			s->templates[i] = l->tpl[i];
}

void
wb_layer_clear(struct wb_layer *l)
{
	for (int i = 0; i < WB_NTPL; i++)
		free(l->tpl[i]);
}

bool
wb_setting_null(const char *v, bool plain)
{
	return plain && (v[0] == '\0' || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0);
}

/* A whole number of tokens: not negative, not too large. */
static int
parse_tokens(const char *key, const char *v, bool plain, uint64_t *out,
    struct wb_err *err)
{
	const char *p = v;
	uint64_t n = 0;

	if (!plain || *p == '\0')
		return wb_err_set(err, WB_ECONFIG,
		    "%s: expected a whole number", key);
	if (*p == '-' && p[1] >= '0' && p[1] <= '9')
		return wb_err_set(err, WB_ECONFIG,
		    "%s: must not be negative: %s", key, v);
	if (*p == '+')
		p++;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return wb_err_set(err, WB_ECONFIG,
			    "%s: expected a whole number, not '%s'", key, v);
		if (n > WB_MAX_TOKENS / 10 + 1) {
			n = WB_MAX_TOKENS + 1;
			continue;
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n > WB_MAX_TOKENS)
		return wb_err_set(err, WB_ECONFIG,
		    "%s: too large: %s (at most %llu)", key, v,
		    (unsigned long long)WB_MAX_TOKENS);
	*out = n;
	return WB_OK;
}

static int
parse_positive(const char *key, const char *v, bool plain, double *out,
    struct wb_err *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (!plain || end == v || *end != '\0' || errno || !isfinite(d) ||
	    d <= 0)
		return wb_err_set(err, WB_ECONFIG,
		    "%s: expected a positive number, not '%s'", key, v);
	*out = d;
	return WB_OK;
}

static int
copy_string(const char *key, const char *v, char *dst, size_t size,
    struct wb_err *err)
{
	if (strlen(v) >= size)
		return wb_err_set(err, WB_ECONFIG, "%s: too long", key);
	memcpy(dst, v, strlen(v) + 1);
	return WB_OK;
}

/* Set key k of l from the text v; plain says it was not quoted. Messages
 * name what (a flag as typed), else the key; the status says where the
 * value came from: 78 a file, 64 a flag, 65 a record. */
int
wb_layer_put(struct wb_layer *l, int k, const char *v, bool plain,
    enum wb_source src, const char *what, struct wb_err *err)
{
	const char *key = what != NULL ? what : key_names[k];
	int st = WB_OK;

	switch (k) {
	case K_PRESET:
		for (l->preset = 0; l->preset < 3; l->preset++)
			if (strcmp(v, presets[l->preset].name) == 0)
				break;
		if (l->preset == 3)
			st = wb_err_set(err, WB_ECONFIG, "%s: '%s': not "
			    "default, large_context or minimal", key, v);
		break;
	case K_TOTAL:
		st = parse_tokens(key, v, plain, &l->total, err);
		break;
	case K_SUMM:
	case K_SUMHIST:
		if (plain && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
			*(k == K_SUMM ? &l->summ : &l->sumhist) = v[0] == 't';
		else
			st = wb_err_set(err, WB_ECONFIG,
			    "%s: expected true or false, not '%s'", key, v);
		break;
	case K_MODEL:
		st = copy_string(key, wb_setting_null(v, plain) ? "" : v, l->model,
		    sizeof(l->model), err);
		break;
	case K_CMD:
		st = copy_string(key, wb_setting_null(v, plain) ? "" : v, l->cmd,
		    sizeof(l->cmd), err);
		break;
	case K_TIMEOUT:
		st = parse_positive(key, v, plain, &l->timeout, err);
		break;
	case K_METHOD:
		if (wb_method_parse(v, &l->method) != 0)
			st = wb_err_set(err, WB_ECONFIG,
			    "%s: '%s': not char, word or hybrid", key, v);
		break;
	case K_CPRESET:
		if (strlen(v) >= sizeof(l->cpreset) ||
		    wb_counter_preset(&(struct wb_counter_spec){ 0 }, v) != 0)
			st = wb_err_set(err, WB_ECONFIG,
			    "%s: '%s': not default or llama", key, v);
		else
			memcpy(l->cpreset, v, strlen(v) + 1);
		break;
	case K_CPT:
		st = parse_positive(key, v, plain, &l->cpt, err);
		break;
	case K_TPW:
		st = parse_positive(key, v, plain, &l->tpw, err);
		break;
	case K_HT:
		st = parse_tokens(key, v, plain, &l->ht, err);
		break;
	case K_ENC:
	case K_MODELENC:
		/* null: no exact encoding, as --print-config writes it. */
		if (wb_setting_null(v, plain)) {
			l->enc[0] = '\0';
			break;
		}
		if (k == K_MODELENC && strncmp(v, "ollama:", 7) == 0) {
			/* An Ollama model counts with its GGUF file, found
			 * when the counter is made. */
			if ((st = copy_string(key, v, l->tokenizer,
			    sizeof(l->tokenizer), err)) == WB_OK)
				k = K_TOKENIZER;
			break;
		}
		if (k == K_MODELENC) {
			if (wb_model_encoding(v) == NULL)
				st = wb_err_set(err, WB_ECONFIG,
				    "%s: '%s': unknown model (wb-count "
				    "--list-models lists them)", key, v);
			else
				snprintf(l->enc, sizeof(l->enc), "%s",
				    wb_model_encoding(v));
			break;
		}
		if (!wb_bpe_known(v) || strlen(v) >= sizeof(l->enc))
			st = wb_err_set(err, WB_ECONFIG, "%s: '%s': unknown encoding "
			    "(wb-count --list-encodings lists them)", key, v);
		else
			memcpy(l->enc, v, strlen(v) + 1);
		break;
	case K_TOKENIZER:
		/* null: no tokenizer, as --print-config writes it. */
		st = copy_string(key, wb_setting_null(v, plain) ? "" : v,
		    l->tokenizer, sizeof(l->tokenizer), err);
		break;
	case K_SPECIAL:
		break;
	case K_ENCDIR:
		st = copy_string(key, v, l->encdir, sizeof(l->encdir), err);
		break;
	default:
		st = parse_tokens(key, v, plain, &l->budget[k - K_CAT0], err);
		break;
	}
	if (st != WB_OK)
		return err->status = src == WB_FROM_FLAG ? WB_EUSAGE :
		    src == WB_FROM_RECORD ? WB_EDATA : WB_ECONFIG;
	l->set |= 1u << k;
	return WB_OK;
}

int
wb_setting_key(const char *name, bool flag)
{
	for (int k = 0; k < K_NKEYS; k++)
		if (strcmp(name, key_names[k]) == 0)
			return k >= K_SPECIAL && !flag ? -1 : k;
	return -1;
}

const char *
wb_setting_name(int k)
{
	return key_names[k];
}

bool
wb_layer_has(const struct wb_layer *l, int k)
{
	return (l->set & 1u << k) != 0;
}

struct wb_layer *
wb_layer_new(void)
{
	return calloc(1, sizeof(struct wb_layer));
}

void
wb_layer_free(struct wb_layer *l)
{
	if (l != NULL)
		wb_layer_clear(l);
	free(l);
}

int
wb_layer_set_json(struct wb_layer *l, const char *key, const json_t *v,
    struct wb_err *err)
{
	char num[32];
	const char *text;
	bool plain = true;

	switch (json_typeof(v)) {
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		text = num;
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		text = num;
		break;
	case JSON_TRUE:  text = "true"; break;
	case JSON_FALSE: text = "false"; break;
	case JSON_NULL:  text = "null"; break;
	case JSON_STRING:
		text = json_string_value(v);
		plain = false;
		break;
	default:
		return wb_err_set(err, WB_EDATA, "%s: expected a scalar", key);
	}
	l->from_record = true;
	/* The engine's ContextBudgetConfig: budgets and the summarization
	 * switch, never a command to run. */
	for (int k = K_TOTAL; k <= K_MODEL; k++)
		if (strcmp(key, key_names[k]) == 0)
			return wb_layer_put(l, k, text, plain, WB_FROM_RECORD, NULL,
			    err);
	return wb_err_set(err, WB_EDATA, "unknown key \"%s\"", key);
}

int
wb_layer_set(struct wb_layer *l, const char *key, const char *value,
    const char *flag, struct wb_err *err)
{
	int k = wb_setting_key(key, true);

	if (k < 0)
		return wb_err_set(err, WB_EINTERNAL, "unknown setting %s", key);
	return wb_layer_put(l, k, value, true, WB_FROM_FLAG, flag, err);
}

/*
 * The engine allows the category budgets to sum to at most 3x the total.
 * Budgets that no layer set (the defaults, a preset's) give way to a
 * smaller total: they are scaled down together by (3 x total - the sum
 * of the budgets set) / their sum, rounded down, so that -t alone
 * composes with them. Budgets set explicitly are never changed.
 */
static void
scale_budgets(struct wb_settings *s)
{
	uint64_t set = 0, unset = 0, room;

	for (int i = 0; i < WB_NCAT; i++)
		if (s->from[1 + i] != NULL)
			set += s->budget[i];
		else
			unset += s->budget[i];
	if (set + unset <= 3 * s->total || unset == 0 || set > 3 * s->total)
		return;
	room = 3 * s->total - set;
	for (int i = 0; i < WB_NCAT; i++)
		if (s->from[1 + i] == NULL)
			s->budget[i] = (uint64_t)((unsigned __int128)s->budget[i] *
			    room / unset);
}

int
wb_settings_from(const struct wb_layer *const *layers, size_t n,
    struct wb_settings *s, struct wb_err *err)
{
	wb_settings_default(s);
	for (size_t i = 0; i < n; i++)
		if (layers[i] != NULL)
			wb_settings_apply(s, layers[i]);
	scale_budgets(s);
	return wb_settings_validate(s, err);
}

/* Append "KEY N at WHERE" for key k, set by layer l, to m. */
static void
say_where(struct wb_buf *m, int k, uint64_t v, const struct wb_layer *l)
{
	char b[1200];

	if (l == NULL)
		snprintf(b, sizeof(b), "%s %llu", key_names[k],
		    (unsigned long long)v);
	else if (l->origin != NULL)
		snprintf(b, sizeof(b), "%s %llu at %.1000s:%u", key_names[k],
		    (unsigned long long)v, l->origin, (unsigned)l->kline[k]);
	else
		snprintf(b, sizeof(b), "%s %llu %s", key_names[k],
		    (unsigned long long)v, l->from_record ? "in the record" :
		    "on the command line");
	wb_buf_adds(m, b);
}

int
wb_settings_validate(const struct wb_settings *s, struct wb_err *err)
{
	struct wb_buf m = { 0 };
	uint64_t sum = 0, set = 0;

	if (s->total == 0)
		return wb_err_set(err, WB_ECONFIG,
		    "total_budget_tokens must be greater than 0");
	for (int i = 0; i < WB_NCAT; i++)
		sum += s->budget[i];
	if (sum <= 3 * s->total)
		return WB_OK;
	/* Budgets that were not set have given way already: the ones set
	 * are too large by themselves. Name them, and where they were set. */
	for (int i = 0; i < WB_NCAT; i++) {
		if (s->from[1 + i] == NULL || s->budget[i] == 0)
			continue;
		wb_buf_adds(&m, set ? ", " : "");
		say_where(&m, K_CAT0 + i, s->budget[i], s->from[1 + i]);
		set += s->budget[i];
	}
	wb_buf_adds(&m, ") is more than 3x ");
	say_where(&m, K_TOTAL, s->total, s->from[0]);
	wb_err_set(err, WB_ECONFIG, "sum of category budgets set (%llu: %.400s",
	    (unsigned long long)set, m.oom ? "" : m.p);
	wb_buf_free(&m);
	return WB_ECONFIG;
}


json_t *
wb_settings_json(const struct wb_settings *s)
{
	json_t *o = json_object(), *c = json_object();

	json_object_set_new(o, "total_budget_tokens",
	    json_integer((json_int_t)s->total));
	for (int i = 0; s->cats == NULL && i < WB_NCAT; i++)
		json_object_set_new(o, key_names[K_CAT0 + i],
		    json_integer((json_int_t)s->budget[i]));
	if (s->cats != NULL) {
		json_t *cs = json_object();
		for (size_t i = 0; i < s->cats->n; i++)
			json_object_set_new(cs, s->cats->name[i], json_pack(
			    "{s:I,s:I,s:s}", "budget", (json_int_t)s->cats->budget[i],
			    "priority", (json_int_t)s->cats->priority[i], "keep",
			    s->cats->tail[i] ? "tail" : "head"));
		json_object_set_new(o, "categories", cs);
	}
	json_object_set_new(o, "enable_summarization",
	    json_boolean(s->enable_summarization));
	json_object_set_new(o, "summarization_model", s->summarization_model[0] ?
	    json_string(s->summarization_model) : json_null());
	json_object_set_new(o, "summarize_command", s->summarize_command[0] ?
	    json_string(s->summarize_command) : json_null());
	json_object_set_new(o, "summarize_timeout",
	    json_real(s->summarize_timeout));
	json_object_set_new(o, "summarize_history",
	    json_boolean(s->summarize_history));
	json_object_set_new(c, "method",
	    json_string(wb_method_name(s->counter.method)));
	json_object_set_new(c, "chars_per_token",
	    json_real(s->counter.chars_per_token));
	json_object_set_new(c, "tokens_per_word",
	    json_real(s->counter.tokens_per_word));
	json_object_set_new(c, "hybrid_threshold",
	    json_integer((json_int_t)s->counter.hybrid_threshold));
	json_object_set_new(c, "encoding", s->counter.encoding[0] ?
	    json_string(s->counter.encoding) : json_null());
	if (s->counter.tokenizer != NULL && s->counter.tokenizer[0] != '\0')
		json_object_set_new(c, "tokenizer",
		    json_string(s->counter.tokenizer));
	json_object_set_new(o, "counter", c);
	return o;
}
