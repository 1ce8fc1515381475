/* config.c: the YAML configuration file: its search, its reader, worlds. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "wb_priv.h"

struct world {
	char *id;
	struct wb_layer l;
};

struct wb_config {
	char path[1024];
	struct wb_layer top;
	struct world *worlds;
	size_t nworlds;
	struct wb_cats *cats;    /* categories:, or NULL */
};

/* A scalar written as is: not quoted, and not tagged !!str, which quotes. */
static bool
plain_scalar(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (tag == NULL || strcmp(tag, YAML_STR_TAG) != 0);
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
read_value(struct yp *y, struct wb_layer *l, int k)
{
	yaml_mark_t m;
	int st;

	if ((st = next(y)) != WB_OK)
		return st;
	m = y->ev.start_mark;
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yerr(y, m, "%s: expected a scalar, got %s", wb_setting_name(k),
		    event_kind(&y->ev));
	if (strlen((const char *)y->ev.data.scalar.value) !=
	    y->ev.data.scalar.length)
		return yerr(y, m, "%s: NUL in value", wb_setting_name(k));
	st = wb_layer_put(l, k, (const char *)y->ev.data.scalar.value,
	    plain_scalar(&y->ev), WB_FROM_FILE, NULL, y->err);
	if (k < 32)
		l->kline[k] = (uint32_t)(m.line + 1);
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
			if (strcmp(key, wb_template_name((enum wb_template)t)) == 0)
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
		nw->l.origin = cfg->path;
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

/* A whole number from min to max in a plain scalar, for categories. */
static int
cat_number(struct yp *y, const char *cat, const char *key, uint64_t min,
    uint64_t max, uint64_t *out)
{
	yaml_mark_t m;
	struct wb_err e = { 0 };
	int st;

	if ((st = next(y)) != WB_OK)
		return st;
	m = y->ev.start_mark;
	if (y->ev.type != YAML_SCALAR_EVENT || !plain_scalar(&y->ev) ||
	    wb_parse_u64((const char *)y->ev.data.scalar.value, min, max, out,
	    &e) != WB_OK)
		return yerr(y, m, "categories.%s.%s: expected a whole number from "
		    "%llu to %llu", cat, key, (unsigned long long)min,
		    (unsigned long long)max);
	return WB_OK;
}

/* Read one category's mapping: budget (needed), priority and keep. */
static int
parse_category(struct yp *y, struct wb_cats *k, size_t i, yaml_mark_t at,
    yaml_mark_t *pm)
{
	const char *name = k->name[i];
	bool had[3] = { false, false, false };
	static const char *const keys[3] = { "budget", "priority", "keep" };
	char key[256];
	yaml_mark_t m;
	int st, j;

	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr(y, y->ev.start_mark, "categories.%s: expected a "
		    "mapping such as {budget: 800, priority: 1}, got %s", name,
		    event_kind(&y->ev));
	*pm = at;
	for (;;) {
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if ((st = read_key(y, key, sizeof(key), &m)) != WB_OK)
			return st;
		for (j = 0; j < 3 && strcmp(key, keys[j]) != 0; j++)
			;
		if (j == 3)
			return yerr(y, m, "categories.%s: unknown key \"%s\" "
			    "(budget, priority or keep)", name, key);
		if (had[j])
			return yerr(y, m, "categories.%s: duplicate key \"%s\"",
			    name, key);
		had[j] = true;
		if (j == 0) {
			st = cat_number(y, name, key, 0, WB_MAX_TOKENS,
			    &k->budget[i]);
		} else if (j == 1) {
			*pm = m;
			st = cat_number(y, name, key, 1, 1000000, &k->priority[i]);
		} else {
			if ((st = next(y)) != WB_OK)
				return st;
			if (y->ev.type == YAML_SCALAR_EVENT && (strcmp((const char *)
			    y->ev.data.scalar.value, "head") == 0 || strcmp(
			    (const char *)y->ev.data.scalar.value, "tail") == 0))
				k->tail[i] = y->ev.data.scalar.value[0] == 't';
			else
				st = yerr(y, y->ev.start_mark, "categories.%s.keep: "
				    "expected head or tail", name);
		}
		if (st != WB_OK)
			return st;
	}
	if (!had[0])
		return yerr(y, at, "categories.%s: no budget", name);
	/* No priority: its place in the list. */
	if (!had[1])
		k->priority[i] = i + 1;
	return WB_OK;
}

/* Read categories: a mapping of name to {budget, priority, keep}, which
 * replaces the engine's eight categories in wb-budget. */
static int
parse_categories(struct yp *y, struct wb_config *cfg, yaml_mark_t at)
{
	yaml_mark_t pm[WB_MAXCAT], m;
	struct wb_cats *k;
	char name[256];
	size_t i, j, len;
	int st;

	if (cfg->cats != NULL)
		return yerr(y, at, "duplicate key \"categories\"");
	if ((k = cfg->cats = calloc(1, sizeof(*k))) == NULL)
		return wb_err_set(y->err, WB_EINTERNAL, "out of memory");
	if ((st = next(y)) != WB_OK)
		return st;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr(y, y->ev.start_mark,
		    "categories: expected a mapping, got %s", event_kind(&y->ev));
	for (;;) {
		if ((st = next(y)) != WB_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if ((st = read_key(y, name, sizeof(name), &m)) != WB_OK)
			return st;
		len = strlen(name);
		if (len == 0 || len > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
			return yerr(y, m, "categories: '%.100s': a name is 1 to 64 "
			    "letters, digits, _ or -", name);
		for (j = 0; j < k->n; j++)
			if (strcmp(k->name[j], name) == 0)
				return yerr(y, m, "duplicate category \"%s\"", name);
		if (k->n == WB_MAXCAT)
			return yerr(y, m, "categories: more than %d", WB_MAXCAT);
		i = k->n;
		if ((k->name[i] = strdup(name)) == NULL)
			return wb_err_set(y->err, WB_EINTERNAL, "out of memory");
		k->n++;
		if ((st = parse_category(y, k, i, m, &pm[i])) != WB_OK)
			return st;
		for (j = 0; j < i; j++)
			if (k->priority[j] == k->priority[i])
				return yerr(y, pm[i], "categories.%s: priority %llu%s is "
				    "also that of categories.%s (line %zu)", name,
				    (unsigned long long)k->priority[i],
				    pm[i].index == m.index ? " (its place in the list)" :
				    "", k->name[j], pm[j].line + 1);
	}
	if (k->n == 0)
		return yerr(y, at, "categories: none declared");
	/* The order of importance: by priority, 1 first. */
	for (i = 0; i < k->n; i++) {
		uint8_t v = (uint8_t)i;
		for (j = i; j > 0 && k->priority[k->order[j - 1]] > k->priority[v];
		    j--)
			k->order[j] = k->order[j - 1];
		k->order[j] = v;
	}
	return WB_OK;
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
		if (!in_counter && strcmp(key, "categories") == 0) {
			if (cfg == NULL)
				return yerr(y, m, "categories: only at the top level, "
				    "not in a world");
			if ((st = parse_categories(y, cfg, m)) != WB_OK)
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
		if ((k = wb_setting_key(full, false)) < 0)
			return yerr(y, m, "unknown key \"%s\"", full);
		if (wb_layer_has(l, k))
			return yerr(y, m, "duplicate key \"%s\"", full);
		if ((st = read_value(y, l, k)) != WB_OK)
			return st;
	}
}

/* With categories of its own, a file sets no budget of the engine's. */
static int
no_npc_budgets(const struct wb_config *cfg, struct wb_err *err)
{
	char key[64];
	int k;

	for (size_t i = 0; cfg->cats != NULL && i <= cfg->nworlds; i++) {
		const struct wb_layer *l = i == 0 ? &cfg->top : &cfg->worlds[i - 1].l;
		for (int c = -1; c < WB_NCAT; c++) {
			if (c < 0)
				snprintf(key, sizeof(key), "preset");
			else
				snprintf(key, sizeof(key), "%s_tokens",
				    wb_category_names[c]);
			if ((k = wb_setting_key(key, false)) < 0 || !wb_layer_has(l, k))
				continue;
			err->line = l->kline[k];
			return wb_err_set(err, WB_ECONFIG, "%.500s:%u: %s: not with "
			    "categories of the file's own (give each its budget "
			    "under categories:)", cfg->path, (unsigned)l->kline[k],
			    key);
		}
	}
	return WB_OK;
}

/* Check the top level and every world as they will be used. */
static int
validate_config(struct wb_config *cfg, struct wb_err *err)
{
	struct wb_settings s;

	if (no_npc_budgets(cfg, err) != WB_OK)
		return err->status;

	for (size_t i = 0; i <= cfg->nworlds; i++) {
		const struct wb_layer *l = i == 0 ? &cfg->top : &cfg->worlds[i - 1].l;
		const struct wb_layer *ls[] = { &cfg->top, i > 0 ? l : NULL };
		if (wb_settings_from(ls, 2, &s, err) != WB_OK) {
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
	    wb_setting_null((const char *)y->ev.data.scalar.value,
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
	cfg->top.origin = cfg->path;
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

void
wb_config_free(struct wb_config *cfg)
{
	if (cfg == NULL)
		return;
	wb_layer_clear(&cfg->top);
	for (size_t i = 0; i < cfg->nworlds; i++) {
		free(cfg->worlds[i].id);
		wb_layer_clear(&cfg->worlds[i].l);
	}
	free(cfg->worlds);
	for (size_t i = 0; cfg->cats != NULL && i < cfg->cats->n; i++)
		free((void *)cfg->cats->name[i]);
	free(cfg->cats);
	free(cfg);
}

const char *
wb_config_find(char *buf, size_t size)
{
	const char *env = getenv("WB_CONFIG"), *xdg, *home;

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

int
wb_settings_resolve(const struct wb_config *cfg, const char *world,
    const struct wb_layer *rec, const struct wb_layer *flags,
    struct wb_settings *s, struct wb_err *err)
{
	const struct wb_layer *ls[4] = { cfg ? &cfg->top : NULL, NULL, rec, flags };

	for (size_t i = 0; cfg != NULL && world != NULL && i < cfg->nworlds; i++)
		if (strcmp(cfg->worlds[i].id, world) == 0)
			ls[1] = &cfg->worlds[i].l;
	if (wb_settings_from(ls, 4, s, err) != WB_OK)
		return err->status;
	s->cats = cfg != NULL ? cfg->cats : NULL;
	return WB_OK;
}

int
wb_config_open(const char *path, const struct wb_layer *flags,
    struct wb_config **cfg, struct wb_err *err)
{
	char found[1024];

	*cfg = NULL;
	if (path == NULL)
		path = wb_config_find(found, sizeof(found));
	if (path != NULL && (*cfg = wb_config_load(path, err)) == NULL)
		return err->status;
	if (*cfg != NULL && (*cfg)->cats != NULL && flags != NULL) {
		for (int c = -1; c < WB_NCAT; c++) {
			char key[64];
			int k;
			snprintf(key, sizeof(key), "%s%s", c < 0 ? "preset" :
			    wb_category_names[c], c < 0 ? "" : "_tokens");
			if ((k = wb_setting_key(key, true)) >= 0 &&
			    wb_layer_has(flags, k)) {
				wb_err_set(err, WB_EUSAGE, "%s: %.500s has categories "
				    "of its own", c < 0 ? "-P" : "-s", (*cfg)->path);
				wb_config_free(*cfg);
				*cfg = NULL;
				return err->status;
			}
		}
	}
	if (wb_config_check_flags(*cfg, flags, err) != WB_OK) {
		wb_config_free(*cfg);
		*cfg = NULL;
		return err->status;
	}
	return WB_OK;
}

const char *
wb_config_categories_path(const struct wb_config *cfg)
{
	return cfg != NULL && cfg->cats != NULL ? cfg->path : NULL;
}

bool
wb_config_has_world(const struct wb_config *cfg, const char *world)
{
	for (size_t i = 0; cfg != NULL && i < cfg->nworlds; i++)
		if (strcmp(cfg->worlds[i].id, world) == 0)
			return true;
	return false;
}

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
