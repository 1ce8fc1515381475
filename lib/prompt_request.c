/* prompt_request.c: a wb-prompt request checked against the engine's shapes. */
#include <stdarg.h>
#include <stdio.h>

#include "wb_priv.h"

/* How a member may differ from one value of its type. */
enum {
	REQ = 0,        /* required, one value */
	OPT = 1,        /* may be missing or null */
	ARRAY = 2,      /* an array of values of the type */
	NONNEG = 4,     /* an integer that is not negative */
};

/*
 * One member of an object. A shape is a list of them, in the order they
 * are checked, ended by a NULL key; objects of a shape are checked
 * member by member, and objects without one only for their type.
 */
struct field {
	const char *key;
	json_type type;
	unsigned flags;
	const struct field *shape;
};

static const struct field item[] = {
	{ "name", JSON_STRING, REQ, NULL },
	{ "description", JSON_STRING, OPT, NULL },
	{ "item_type", JSON_STRING, OPT, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field turn[] = {
	{ "speaker", JSON_STRING, REQ, NULL },
	{ "text", JSON_STRING, REQ, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field actor[] = {
	{ "name", JSON_STRING, REQ, NULL },
	{ "actor_type", JSON_STRING, REQ, NULL },
	{ "reason", JSON_STRING, REQ, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field motivation[] = {
	{ "description", JSON_STRING, REQ, NULL },
	{ "priority", JSON_INTEGER, NONNEG, NULL },
	{ "intensity", JSON_STRING, REQ, NULL },
	{ "target", JSON_STRING, OPT, NULL },
	{ "helpers", JSON_OBJECT, ARRAY | OPT, actor },
	{ "opponents", JSON_OBJECT, ARRAY | OPT, actor },
	{ NULL, JSON_NULL, REQ, NULL },
};

/* A secret motivation: a motivation's members, then its own. */
static const struct field secret[] = {
	{ "description", JSON_STRING, REQ, NULL },
	{ "priority", JSON_INTEGER, NONNEG, NULL },
	{ "intensity", JSON_STRING, REQ, NULL },
	{ "target", JSON_STRING, OPT, NULL },
	{ "helpers", JSON_OBJECT, ARRAY | OPT, actor },
	{ "opponents", JSON_OBJECT, ARRAY | OPT, actor },
	{ "sender", JSON_OBJECT, OPT, actor },
	{ "receiver", JSON_OBJECT, OPT, actor },
	{ "deflection_behavior", JSON_STRING, REQ, NULL },
	{ "tells", JSON_STRING, ARRAY | OPT, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field relation[] = {
	{ "name", JSON_STRING, REQ, NULL },
	{ "character_type", JSON_STRING, REQ, NULL },
	{ "reasons", JSON_STRING, ARRAY, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field challenge[] = {
	{ "id", JSON_STRING, REQ, NULL },
	{ "name", JSON_STRING, REQ, NULL },
	{ "description", JSON_STRING, REQ, NULL },
	{ "skill_name", JSON_STRING, REQ, NULL },
	{ "difficulty_display", JSON_STRING, REQ, NULL },
	{ "trigger_hints", JSON_STRING, ARRAY, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field event[] = {
	{ "id", JSON_STRING, REQ, NULL },
	{ "name", JSON_STRING, REQ, NULL },
	{ "description", JSON_STRING, REQ, NULL },
	{ "scene_direction", JSON_STRING, REQ, NULL },
	{ "trigger_hints", JSON_STRING, ARRAY, NULL },
	{ "featured_npc_names", JSON_STRING, ARRAY, NULL },
	{ "priority", JSON_INTEGER, REQ, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field action[] = {
	{ "action_type", JSON_STRING, REQ, NULL },
	{ "target", JSON_STRING, OPT, NULL },
	{ "dialogue", JSON_STRING, OPT, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field scene[] = {
	{ "scene_name", JSON_STRING, REQ, NULL },
	{ "location_name", JSON_STRING, REQ, NULL },
	{ "time_context", JSON_STRING, REQ, NULL },
	{ "present_characters", JSON_STRING, ARRAY, NULL },
	{ "region_items", JSON_OBJECT, ARRAY | OPT, item },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field motivations[] = {
	{ "known", JSON_OBJECT, ARRAY | OPT, motivation },
	{ "suspected", JSON_OBJECT, ARRAY | OPT, motivation },
	{ "secret", JSON_OBJECT, ARRAY | OPT, secret },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field stance[] = {
	{ "allies", JSON_OBJECT, ARRAY | OPT, relation },
	{ "enemies", JSON_OBJECT, ARRAY | OPT, relation },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field character[] = {
	{ "character_id", JSON_STRING, OPT, NULL },
	{ "name", JSON_STRING, REQ, NULL },
	{ "archetype", JSON_STRING, REQ, NULL },
	{ "current_mood", JSON_STRING, OPT, NULL },
	{ "disposition_toward_player", JSON_STRING, OPT, NULL },
	{ "relationship_to_player", JSON_STRING, OPT, NULL },
	{ "available_expressions", JSON_STRING, ARRAY | OPT, NULL },
	{ "available_actions", JSON_STRING, ARRAY | OPT, NULL },
	{ "motivations", JSON_OBJECT, OPT, motivations },
	{ "social_stance", JSON_OBJECT, OPT, stance },
	{ NULL, JSON_NULL, REQ, NULL },
};

static const struct field request[] = {
	{ "world_id", JSON_STRING, OPT, NULL },
	{ "player_action", JSON_OBJECT, REQ, action },
	{ "scene_context", JSON_OBJECT, REQ, scene },
	{ "directorial_notes", JSON_STRING, REQ, NULL },
	{ "conversation_history", JSON_OBJECT, ARRAY, turn },
	{ "responding_character", JSON_OBJECT, REQ, character },
	{ "active_challenges", JSON_OBJECT, ARRAY, challenge },
	{ "active_narrative_events", JSON_OBJECT, ARRAY, event },
	{ "location_context", JSON_STRING, OPT, NULL },
	{ "player_context", JSON_STRING, OPT, NULL },
	{ "context_budget", JSON_OBJECT, OPT, NULL },
	{ NULL, JSON_NULL, REQ, NULL },
};

/* Checking a request: the first problem, named by its JSON path. */
struct check {
	struct wb_err *err;
	int status;
};

static void
bad(struct check *k, const char *path, const char *fmt, ...)
{
	char m[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	k->status = wb_err_set(k->err, WB_EDATA, "%.180s: %s", path, m);
}

static const char *
type_name(json_type t)
{
	return t == JSON_STRING ? "a string" : t == JSON_ARRAY ? "an array" :
	    t == JSON_OBJECT ? "an object" : "an integer";
}

/* The path of member key of the object at base, or of its element i. */
static void
path_of(char *buf, size_t size, const char *base, const char *key,
    size_t i, bool element)
{
	if (element)
		snprintf(buf, size, "%s%s%s[%zu]", base, *base ? "." : "", key, i);
	else
		snprintf(buf, size, "%s%s%s", base, *base ? "." : "", key);
}

static void check_shape(struct check *k, const json_t *o, const char *base,
    const struct field *shape);

/* Check member f of the object o at path base. */
static void
check_field(struct check *k, const json_t *o, const char *base,
    const struct field *f)
{
	json_type want = f->flags & ARRAY ? JSON_ARRAY : f->type;
	json_t *v = json_object_get(o, f->key), *e;
	char path[200];
	size_t i;

	/* The path is made only for a message or a shape within. Engines
	 * write an empty list as null: a list may be null, a required
	 * object may not. */
	if (v == NULL || (f->flags & (OPT | ARRAY) && json_is_null(v))) {
		if (v == NULL && !(f->flags & OPT)) {
			path_of(path, sizeof(path), base, f->key, 0, false);
			bad(k, path, "missing");
		}
		return;
	}
	if (json_typeof(v) != want) {
		path_of(path, sizeof(path), base, f->key, 0, false);
		bad(k, path, "expected %s, got %s", type_name(want),
		    wb_json_kind(v));
		return;
	}
	if (f->flags & NONNEG && json_integer_value(v) < 0) {
		path_of(path, sizeof(path), base, f->key, 0, false);
		bad(k, path, "must not be negative");
		return;
	}
	if (!(f->flags & ARRAY)) {
		if (f->shape != NULL) {
			path_of(path, sizeof(path), base, f->key, 0, false);
			check_shape(k, v, path, f->shape);
		}
		return;
	}
	json_array_foreach(v, i, e) {
		if (json_typeof(e) != f->type) {
			path_of(path, sizeof(path), base, f->key, i, true);
			bad(k, path, "expected %s, got %s", type_name(f->type),
			    wb_json_kind(e));
			return;
		}
		if (f->shape != NULL) {
			path_of(path, sizeof(path), base, f->key, i, true);
			check_shape(k, e, path, f->shape);
			if (k->status != WB_OK)
				return;
		}
	}
}

/* Check each member of the object o at path base, up to the first problem. */
static void
check_shape(struct check *k, const json_t *o, const char *base,
    const struct field *shape)
{
	for (const struct field *f = shape; f->key != NULL; f++) {
		check_field(k, o, base, f);
		if (k->status != WB_OK)
			return;
	}
}

int
wb_request_check(const json_t *req, struct wb_err *err)
{
	struct check k = { err, WB_OK };

	check_shape(&k, req, "", request);
	return k.status;
}
