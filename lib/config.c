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
		if ((k = wb_setting_key(full, false)) < 0)
			return yerr(y, m, "unknown key \"%s\"", full);
		if (wb_layer_has(l, k))
			return yerr(y, m, "duplicate key \"%s\"", full);
		if ((st = read_value(y, l, k)) != WB_OK)
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
	return wb_settings_from(ls, 4, s, err);
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
	if (wb_config_check_flags(*cfg, flags, err) != WB_OK) {
		wb_config_free(*cfg);
		*cfg = NULL;
		return err->status;
	}
	return WB_OK;
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
