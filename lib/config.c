/* config.c: budgets from YAML, worlds and flags, validated like the engine. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "wb_priv.h"

#define MAX_TOKENS (1ULL << 53)

const enum wb_category wb_priority[WB_NCAT] = {
	WB_CAT_CHARACTER, WB_CAT_SCENE, WB_CAT_DIRECTORIAL, WB_CAT_HISTORY,
	WB_CAT_CHALLENGES, WB_CAT_NARRATIVE, WB_CAT_LOCATION, WB_CAT_PLAYER,
};

static const char *const cat_names[WB_NCAT] = {
	"scene", "character", "conversation_history", "challenges",
	"narrative_events", "directorial_notes", "location_context",
	"player_context",
};

/* Every key a block may set; counter keys are written "counter.KEY". */
enum key {
	K_PRESET, K_TOTAL, K_CAT0,
	K_SUMM = K_CAT0 + WB_NCAT, K_MODEL, K_CMD, K_TIMEOUT,
	K_METHOD, K_CPRESET, K_CPT, K_TPW, K_HT, K_ENC, K_MODELENC, K_NKEYS
};

static const char *const key_names[K_NKEYS] = {
	"preset", "total_budget_tokens", "scene_tokens", "character_tokens",
	"conversation_history_tokens", "challenges_tokens",
	"narrative_events_tokens", "directorial_notes_tokens",
	"location_context_tokens", "player_context_tokens",
	"enable_summarization", "summarization_model", "summarize_command",
	"summarize_timeout", "counter.method", "counter.preset",
	"counter.chars_per_token", "counter.tokens_per_word",
	"counter.hybrid_threshold", "counter.encoding", "counter.model",
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

/* Settings as one block wrote them: only the keys it set count. */
struct wb_layer {
	uint32_t set;            /* bit k: key k was given */
	size_t preset;
	uint64_t total, budget[WB_NCAT];
	bool summ;
	char model[256];         /* "" for null */
	char cmd[1024];
	double timeout;
	enum wb_method method;
	char cpreset[16];
	double cpt, tpw;
	uint64_t ht;
	char enc[32];            /* counter.encoding, or a model's encoding */
	uint64_t line, col;      /* where the block starts */
	char *tpl[WB_NTPL];      /* templates, owned; NULL: not given */
};

struct world {
	char *id;
	struct wb_layer l;
};

struct wb_config {
	char path[1024];
	struct wb_layer top;
	struct world *worlds;
	size_t nworlds;
};

/* The name of a category ("conversation_history"). */
const char *
wb_category_name(enum wb_category c)
{
	return cat_names[c];
}

/* Parse a category name; 0 or -1. */
int
wb_category_parse(const char *name, enum wb_category *c)
{
	for (int i = 0; i < WB_NCAT; i++)
		if (strcmp(name, cat_names[i]) == 0) {
			*c = (enum wb_category)i;
			return 0;
		}
	return -1;
}

/* Fill s with the built-in defaults. */
void
wb_settings_default(struct wb_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->total = presets[0].total;
	memcpy(s->budget, presets[0].budget, sizeof(s->budget));
	s->enable_summarization = true;
	s->summarize_timeout = 30;
	wb_counter_spec_default(&s->counter);
}

/* Lay l over s: the preset first, then the keys given one by one. */
static void
apply(struct wb_settings *s, const struct wb_layer *l)
{
	if (l->set & 1u << K_PRESET) {
		s->total = presets[l->preset].total;
		memcpy(s->budget, presets[l->preset].budget, sizeof(s->budget));
	}
	if (l->set & 1u << K_TOTAL)
		s->total = l->total;
	for (int i = 0; i < WB_NCAT; i++)
		if (l->set & 1u << (K_CAT0 + i))
			s->budget[i] = l->budget[i];
	if (l->set & 1u << K_SUMM)
		s->enable_summarization = l->summ;
	if (l->set & 1u << K_MODEL)
		memcpy(s->summarization_model, l->model, sizeof(l->model));
	if (l->set & 1u << K_CMD)
		memcpy(s->summarize_command, l->cmd, sizeof(l->cmd));
	if (l->set & 1u << K_TIMEOUT)
		s->summarize_timeout = l->timeout;
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
	/* A layer that picks a heuristic drops an encoding from below it. */
	if (l->set & (1u << K_METHOD | 1u << K_CPRESET | 1u << K_CPT |
	    1u << K_TPW | 1u << K_HT))
		s->counter.encoding[0] = '\0';
	if (l->set & (1u << K_ENC | 1u << K_MODELENC))
		memcpy(s->counter.encoding, l->enc, sizeof(l->enc));
	for (int i = 0; i < WB_NTPL; i++)
		if (l->tpl[i] != NULL)
			s->templates[i] = l->tpl[i];
}

static void
layer_clear(struct wb_layer *l)
{
	for (int i = 0; i < WB_NTPL; i++)
		free(l->tpl[i]);
}

/* A scalar written as is: not quoted, and not tagged !!str, which quotes. */
static bool
plain_scalar(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (tag == NULL || strcmp(tag, YAML_STR_TAG) != 0);
}

static bool
is_null(const char *v, bool plain)
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
		if (n > MAX_TOKENS / 10 + 1) {
			n = MAX_TOKENS + 1;
			continue;
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n > MAX_TOKENS)
		return wb_err_set(err, WB_ECONFIG,
		    "%s: too large: %s (at most %llu)", key, v,
		    (unsigned long long)MAX_TOKENS);
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

/* Set key k of l from the text v; plain says it was not quoted. */
static int
layer_put(struct wb_layer *l, enum key k, const char *v, bool plain,
    struct wb_err *err)
{
	const char *key = key_names[k];
	int st = WB_OK;

	switch (k) {
	case K_PRESET:
		for (l->preset = 0; l->preset < 3; l->preset++)
			if (strcmp(v, presets[l->preset].name) == 0)
				break;
		if (l->preset == 3)
			st = wb_err_set(err, WB_ECONFIG, "preset: '%s': not "
			    "default, large_context or minimal", v);
		break;
	case K_TOTAL:
		st = parse_tokens(key, v, plain, &l->total, err);
		break;
	case K_SUMM:
		if (plain && strcmp(v, "true") == 0)
			l->summ = true;
		else if (plain && strcmp(v, "false") == 0)
			l->summ = false;
		else
			st = wb_err_set(err, WB_ECONFIG,
			    "%s: expected true or false, not '%s'", key, v);
		break;
	case K_MODEL:
		st = copy_string(key, is_null(v, plain) ? "" : v, l->model,
		    sizeof(l->model), err);
		break;
	case K_CMD:
		st = copy_string(key, is_null(v, plain) ? "" : v, l->cmd,
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
		if (is_null(v, plain)) {
			l->enc[0] = '\0';
			break;
		}
		if (k == K_MODELENC) {
			if (wb_model_encoding(v) == NULL)
				st = wb_err_set(err, WB_ECONFIG,
				    "%s: '%s': unknown model", key, v);
			else
				snprintf(l->enc, sizeof(l->enc), "%s",
				    wb_model_encoding(v));
			break;
		}
		if (!wb_bpe_known(v) || strlen(v) >= sizeof(l->enc))
			st = wb_err_set(err, WB_ECONFIG, "%s: '%s': unknown encoding",
			    key, v);
		else
			memcpy(l->enc, v, strlen(v) + 1);
		break;
	default:
		st = parse_tokens(key, v, plain, &l->budget[k - K_CAT0], err);
		break;
	}
	if (st == WB_OK)
		l->set |= 1u << k;
	return st;
}

/* A layer of settings from flags; the caller owns it. */
struct wb_layer *
wb_layer_new(void)
{
	return calloc(1, sizeof(struct wb_layer));
}

/* Free a layer. */
void
wb_layer_free(struct wb_layer *l)
{
	if (l != NULL)
		layer_clear(l);
	free(l);
}

/* Set key from a JSON value (a record's context_budget) in a layer. */
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
	/* The engine's ContextBudgetConfig: budgets and the summarization
	 * switch, never a command to run. */
	for (int k = K_TOTAL; k <= K_MODEL; k++)
		if (strcmp(key, key_names[k]) == 0) {
			if (layer_put(l, (enum key)k, text, plain, err) != WB_OK)
				return err->status = WB_EDATA;
			return WB_OK;
		}
	return wb_err_set(err, WB_EDATA, "unknown key \"%s\"", key);
}

/* Set key (a configuration file key) to value in a flags layer. */
int
wb_layer_set(struct wb_layer *l, const char *key, const char *value,
    struct wb_err *err)
{
	for (int k = 0; k < K_NKEYS; k++)
		if (strcmp(key, key_names[k]) == 0)
			return layer_put(l, (enum key)k, value, true, err);
	return wb_err_set(err, WB_EUSAGE, "unknown setting %s", key);
}

/* Check the settings as the engine does: total > 0, sum <= 3 x total. */
int
wb_settings_validate(const struct wb_settings *s, struct wb_err *err)
{
	uint64_t sum = 0;

	if (s->total == 0)
		return wb_err_set(err, WB_ECONFIG,
		    "total_budget_tokens must be greater than 0");
	for (int i = 0; i < WB_NCAT; i++)
		sum += s->budget[i];
	if (sum > 3 * s->total)
		return wb_err_set(err, WB_ECONFIG,
		    "sum of category budgets (%llu) is more than 3x total "
		    "budget (%llu)", (unsigned long long)sum,
		    (unsigned long long)s->total);
	return WB_OK;
}

/* The YAML parser and where its messages point. */
struct yp {
	yaml_parser_t p;
	yaml_event_t ev;
	bool have;
	const char *path;
	struct wb_err *err;
};

/* Say what is wrong at mark m, as FILE:LINE:COL: message. */
static int
yerr(struct yp *y, yaml_mark_t m, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	y->err->line = m.line + 1;
	y->err->col = m.column + 1;
	return wb_err_set(y->err, WB_ECONFIG, "%.500s:%zu:%zu: %s", y->path,
	    m.line + 1, m.column + 1, msg);
}

/* Move to the next event; aliases are refused, so none can multiply. */
static int
next(struct yp *y)
{
	if (y->have)
		yaml_event_delete(&y->ev);
	y->have = false;
	if (!yaml_parser_parse(&y->p, &y->ev)) {
		if (y->p.error == YAML_READER_ERROR)  /* no mark: a byte offset */
			return wb_err_set(y->err, WB_ECONFIG, "%.500s: byte %zu: %s",
			    y->path, y->p.problem_offset, y->p.problem ?
			    y->p.problem : "cannot read");
		return yerr(y, y->p.problem_mark, "%s",
		    y->p.problem ? y->p.problem : "YAML error");
	}
	y->have = true;
	if (y->ev.type == YAML_ALIAS_EVENT)
		return yerr(y, y->ev.start_mark, "aliases are not supported");
	return WB_OK;
}

static const char *
event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT:  return "a mapping";
	case YAML_SCALAR_EVENT:         return "a scalar";
	default:                        return "nothing";
	}
}

/* Read a key: a scalar, copied to key. */
static int
read_key(struct yp *y, char *key, size_t size, yaml_mark_t *mark)
{
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yerr(y, y->ev.start_mark, "expected a key, got %s",
		    event_kind(&y->ev));
	*mark = y->ev.start_mark;
	snprintf(key, size, "%s", (const char *)y->ev.data.scalar.value);
	return WB_OK;
}

/* Read the scalar value of key k into l. */
static int
read_value(struct yp *y, struct wb_layer *l, enum key k)
{
	yaml_mark_t m;
	int st;

	if ((st = next(y)) != WB_OK)
		return st;
	m = y->ev.start_mark;
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yerr(y, m, "%s: expected a scalar, got %s", key_names[k],
		    event_kind(&y->ev));
	if (strlen((const char *)y->ev.data.scalar.value) !=
	    y->ev.data.scalar.length)
		return yerr(y, m, "%s: NUL in value", key_names[k]);
	st = layer_put(l, k, (const char *)y->ev.data.scalar.value,
	    plain_scalar(&y->ev), y->err);
	if (st != WB_OK) {
		char msg[sizeof(y->err->msg)];
		memcpy(msg, y->err->msg, sizeof(msg));
		return yerr(y, m, "%.300s", msg);
	}
	return WB_OK;
}

static int parse_block(struct yp *y, struct wb_layer *l,
    struct wb_config *cfg);

/* Read templates: a mapping of template key to text. */
static int
parse_templates(struct yp *y, struct wb_layer *l)
{
	char key[256];
	yaml_mark_t m;
	int st, t;

	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr(y, y->ev.start_mark,
		    "templates: expected a mapping, got %s", event_kind(&y->ev));
	for (;;) {
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return WB_OK;
		if ((st = read_key(y, key, sizeof(key), &m)) != WB_OK)
			return st;
		for (t = 0; t < WB_NTPL; t++)
			if (strcmp(key, wb_template_name(t)) == 0)
				break;
		if (t == WB_NTPL)
			return yerr(y, m, "unknown template \"%s\"", key);
		if (l->tpl[t] != NULL)
			return yerr(y, m, "duplicate template \"%s\"", key);
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return yerr(y, y->ev.start_mark,
			    "templates.%s: expected a string, got %s", key,
			    event_kind(&y->ev));
		if (strlen((const char *)y->ev.data.scalar.value) !=
		    y->ev.data.scalar.length)
			return yerr(y, y->ev.start_mark, "templates.%s: NUL in value",
			    key);
		if ((l->tpl[t] = strdup((const char *)y->ev.data.scalar.value)) == NULL)
			return wb_err_set(y->err, WB_EINTERNAL, "out of memory");
	}
}

/* Read the worlds: a mapping of world id to a block. */
static int
parse_worlds(struct yp *y, struct wb_config *cfg)
{
	char id[256];
	yaml_mark_t m = { 0 };
	struct world *nw;
	int st;

	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr(y, y->ev.start_mark,
		    "worlds: expected a mapping, got %s", event_kind(&y->ev));
	for (;;) {
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return WB_OK;
		if ((st = read_key(y, id, sizeof(id), &m)) != WB_OK)
			return st;
		for (size_t i = 0; i < cfg->nworlds; i++)
			if (strcmp(cfg->worlds[i].id, id) == 0)
				return yerr(y, m, "duplicate world \"%s\"", id);
		nw = realloc(cfg->worlds, (cfg->nworlds + 1) * sizeof(*nw));
		if (nw == NULL)
			return wb_err_set(y->err, WB_EINTERNAL, "out of memory");
		cfg->worlds = nw;
		nw = &cfg->worlds[cfg->nworlds];
		memset(nw, 0, sizeof(*nw));
		if ((nw->id = strdup(id)) == NULL)
			return wb_err_set(y->err, WB_EINTERNAL, "out of memory");
		cfg->nworlds++;
		nw->l.line = m.line + 1;
		nw->l.col = m.column + 1;
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type != YAML_MAPPING_START_EVENT)
			return yerr(y, y->ev.start_mark,
			    "worlds: %s: expected a mapping, got %s", id,
			    event_kind(&y->ev));
		if ((st = parse_block(y, &nw->l, NULL)) != WB_OK)
			return st;
	}
}

/* Read the keys of a mapping into l; at the top, cfg takes the worlds. */
static int
parse_block(struct yp *y, struct wb_layer *l, struct wb_config *cfg)
{
	bool in_counter = false, had_counter = false, had_worlds = false,
	    had_templates = false;
	char key[256], full[300];
	yaml_mark_t m;
	int st, k;

	for (;;) {
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT) {
			if (!in_counter)
				return WB_OK;
			in_counter = false;
			continue;
		}
		if ((st = read_key(y, key, sizeof(key), &m)) != WB_OK)
			return st;
		if (!in_counter && strcmp(key, "counter") == 0) {
			if (had_counter)
				return yerr(y, m, "duplicate key \"counter\"");
			had_counter = in_counter = true;
			if ((st = next(y)) != WB_OK)
				return st;
			if (y->ev.type != YAML_MAPPING_START_EVENT)
				return yerr(y, y->ev.start_mark,
				    "counter: expected a mapping, got %s",
				    event_kind(&y->ev));
			continue;
		}
		if (!in_counter && strcmp(key, "templates") == 0) {
			if (had_templates)
				return yerr(y, m, "duplicate key \"templates\"");
			had_templates = true;
			if ((st = parse_templates(y, l)) != WB_OK)
				return st;
			continue;
		}
		if (!in_counter && cfg != NULL && strcmp(key, "worlds") == 0) {
			if (had_worlds)
				return yerr(y, m, "duplicate key \"worlds\"");
			had_worlds = true;
			if ((st = parse_worlds(y, cfg)) != WB_OK)
				return st;
			continue;
		}
		snprintf(full, sizeof(full), "%s%s", in_counter ? "counter." : "",
		    key);
		for (k = 0; k < K_NKEYS; k++)
			if (strcmp(full, key_names[k]) == 0 &&
			    (k >= K_METHOD) == in_counter)
				break;
		if (k == K_NKEYS)
			return yerr(y, m, "unknown key \"%s\"", full);
		if (l->set & 1u << k)
			return yerr(y, m, "duplicate key \"%s\"", full);
		if ((st = read_value(y, l, (enum key)k)) != WB_OK)
			return st;
	}
}

/* Check the top level and every world as they will be used. */
static int
validate_config(struct wb_config *cfg, struct wb_err *err)
{
	struct wb_settings s;

	for (size_t i = 0; i <= cfg->nworlds; i++) {
		const struct wb_layer *l = i == 0 ? &cfg->top : &cfg->worlds[i - 1].l;
		wb_settings_default(&s);
		apply(&s, &cfg->top);
		if (i > 0)
			apply(&s, l);
		if (wb_settings_validate(&s, err) != WB_OK) {
			char msg[sizeof(err->msg)];
			memcpy(msg, err->msg, sizeof(msg));
			err->line = l->line;
			err->col = l->col;
			return wb_err_set(err, WB_ECONFIG, "%.500s:%llu:%llu: %s%s%s%.300s",
			    cfg->path, (unsigned long long)l->line,
			    (unsigned long long)l->col, i ? "world " : "",
			    i ? cfg->worlds[i - 1].id : "", i ? ": " : "", msg);
		}
	}
	return WB_OK;
}

/* Read the whole document: one mapping, or nothing at all. */
static int
parse_doc(struct yp *y, struct wb_config *cfg)
{
	int st;

	if ((st = next(y)) != WB_OK)       /* stream start */
		return st;
	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return WB_OK;                  /* an empty file */
	if ((st = next(y)) != WB_OK)       /* after document start */
		return st;
	cfg->top.line = y->ev.start_mark.line + 1;
	cfg->top.col = y->ev.start_mark.column + 1;
	if (y->ev.type == YAML_SCALAR_EVENT &&
	    is_null((const char *)y->ev.data.scalar.value,
	    plain_scalar(&y->ev))) {
		/* only comments */
	} else if (y->ev.type != YAML_MAPPING_START_EVENT) {
		return yerr(y, y->ev.start_mark,
		    "the configuration must be a mapping, not %s",
		    event_kind(&y->ev));
	} else if ((st = parse_block(y, &cfg->top, cfg)) != WB_OK) {
		return st;
	}
	if ((st = next(y)) != WB_OK)       /* document end */
		return st;
	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return yerr(y, y->ev.start_mark,
		    "the configuration must be one YAML document");
	return WB_OK;
}

/* Load a YAML configuration file; errors are FILE:LINE:COL, status 78. */
struct wb_config *
wb_config_load(const char *path, struct wb_err *err)
{
	struct wb_config *cfg = calloc(1, sizeof(*cfg));
	struct yp y = { .path = path, .err = err };
	FILE *f;
	int st;

	if (cfg == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->top.line = cfg->top.col = 1;
	if ((f = fopen(path, "r")) == NULL) {
		wb_err_set(err, WB_ENOINPUT, "%s: %s", path, strerror(errno));
		free(cfg);
		return NULL;
	}
	if (fgetc(f) == EOF && ferror(f)) {  /* a directory, say */
		wb_err_set(err, WB_ENOINPUT, "%s: %s", path, strerror(errno));
		fclose(f);
		free(cfg);
		return NULL;
	}
	rewind(f);
	yaml_parser_initialize(&y.p);
	yaml_parser_set_input_file(&y.p, f);
	st = parse_doc(&y, cfg);
	if (y.have)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.p);
	fclose(f);
	if (st == WB_OK)
		st = validate_config(cfg, err);
	if (st != WB_OK) {
		wb_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Free a configuration. */
void
wb_config_free(struct wb_config *cfg)
{
	if (cfg == NULL)
		return;
	layer_clear(&cfg->top);
	for (size_t i = 0; i < cfg->nworlds; i++) {
		free(cfg->worlds[i].id);
		layer_clear(&cfg->worlds[i].l);
	}
	free(cfg->worlds);
	free(cfg);
}

/* Find the configuration file by the documented search; NULL for none. */
const char *
wb_config_find(char *buf, size_t size, struct wb_err *err)
{
	const char *env = getenv("WB_CONFIG"), *xdg, *home;

	(void)err;
	if (env != NULL && *env != '\0') {
		snprintf(buf, size, "%s", env);
		return buf;
	}
	if (access("wb.yaml", F_OK) == 0) {
		snprintf(buf, size, "wb.yaml");
		return buf;
	}
	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (xdg != NULL && *xdg != '\0')
		snprintf(buf, size, "%s/wb/config.yaml", xdg);
	else if (home != NULL)
		snprintf(buf, size, "%s/.config/wb/config.yaml", home);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && access(buf, F_OK) == 0)
		return buf;
	if (access("/etc/wb/config.yaml", F_OK) == 0) {
		snprintf(buf, size, "/etc/wb/config.yaml");
		return buf;
	}
	return NULL;
}

/* Resolve the settings of world (or none) under cfg (or none), a record's
 * own layer (or none) and flags, in that order. */
int
wb_settings_resolve(const struct wb_config *cfg, const char *world,
    const struct wb_layer *rec, const struct wb_layer *flags,
    struct wb_settings *s, struct wb_err *err)
{
	wb_settings_default(s);
	if (cfg != NULL) {
		apply(s, &cfg->top);
		for (size_t i = 0; world != NULL && i < cfg->nworlds; i++)
			if (strcmp(cfg->worlds[i].id, world) == 0)
				apply(s, &cfg->worlds[i].l);
	}
	if (rec != NULL)
		apply(s, rec);
	if (flags != NULL)
		apply(s, flags);
	return wb_settings_validate(s, err);
}

/* The settings as one JSON object with the keys of the file; new ref. */
json_t *
wb_settings_json(const struct wb_settings *s)
{
	json_t *o = json_object(), *c = json_object();

	json_object_set_new(o, "total_budget_tokens",
	    json_integer((json_int_t)s->total));
	for (int i = 0; i < WB_NCAT; i++)
		json_object_set_new(o, key_names[K_CAT0 + i],
		    json_integer((json_int_t)s->budget[i]));
	json_object_set_new(o, "enable_summarization",
	    json_boolean(s->enable_summarization));
	json_object_set_new(o, "summarization_model", s->summarization_model[0] ?
	    json_string(s->summarization_model) : json_null());
	json_object_set_new(o, "summarize_command", s->summarize_command[0] ?
	    json_string(s->summarize_command) : json_null());
	json_object_set_new(o, "summarize_timeout",
	    json_real(s->summarize_timeout));
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
	json_object_set_new(o, "counter", c);
	return o;
}

/* Load path, or the file the search finds (none: defaults), under flags. */
int
wb_config_open(const char *path, const struct wb_layer *flags,
    struct wb_config **cfg, struct wb_err *err)
{
	char found[1024];

	*cfg = NULL;
	if (path == NULL)
		path = wb_config_find(found, sizeof(found), err);
	if (path != NULL && (*cfg = wb_config_load(path, err)) == NULL)
		return err->status;
	if (wb_config_check_flags(*cfg, flags, err) != WB_OK) {
		wb_config_free(*cfg);
		*cfg = NULL;
		return err->status;
	}
	return WB_OK;
}

/* Is world one of the configuration's? */
bool
wb_config_has_world(const struct wb_config *cfg, const char *world)
{
	for (size_t i = 0; cfg != NULL && i < cfg->nworlds; i++)
		if (strcmp(cfg->worlds[i].id, world) == 0)
			return true;
	return false;
}

/* Check the top level and every world again with the flags laid over. */
int
wb_config_check_flags(const struct wb_config *cfg, const struct wb_layer *flags,
    struct wb_err *err)
{
	struct wb_settings s;
	size_t n = cfg ? cfg->nworlds : 0;

	for (size_t i = 0; i <= n; i++) {
		const char *w = i ? cfg->worlds[i - 1].id : NULL;
		if (wb_settings_resolve(cfg, w, NULL, flags, &s, err) != WB_OK) {
			char msg[sizeof(err->msg)];
			memcpy(msg, err->msg, sizeof(msg));
			return wb_err_set(err, WB_ECONFIG, "with these flags%s%.200s: "
			    "%.300s", w ? ", world " : "", w ? w : "", msg);
		}
	}
	return WB_OK;
}
