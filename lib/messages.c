/*
 * messages.c: the engine's state-change messages, and the table that
 * turns a REST mutation into one. Both tables are data; the man page
 * wb-broadcast(1) repeats them, and the tests walk every row.
 */
#include <string.h>

#include "wb_priv.h"

/* A message type and the string fields it must carry. */
struct msgtype {
	const char *type;
	const char *fields[4];  /* NULL-terminated */
};

static const struct msgtype catalog[] = {
	{ "NpcWantCreated", { "npc_id", "want_id", "description", NULL } },
	{ "NpcWantUpdated", { "npc_id", "want_id", NULL } },
	{ "NpcWantDeleted", { "npc_id", "want_id", NULL } },
	{ "NpcActantialViewAdded", { "npc_id", NULL } },
	{ "NpcActantialViewRemoved", { "npc_id", NULL } },
	{ "GoalCreated", { "world_id", "goal_id", "name", NULL } },
	{ "GoalUpdated", { "goal_id", NULL } },
	{ "GoalDeleted", { "goal_id", NULL } },
	{ "WorldDataChanged", { "world_id", NULL } },
	{ "CharacterUpdated", { "character_id", NULL } },
	{ "CharacterDeleted", { "character_id", NULL } },
};

/* One row of the mutation table: route and op to a message type. */
struct mutation {
	const char *route, *op, *type;
};

static const struct mutation mutations[] = {
	{ "want", "create", "NpcWantCreated" },
	{ "want", "update", "NpcWantUpdated" },
	{ "want", "delete", "NpcWantDeleted" },
	{ "want", "set_target", "NpcWantUpdated" },
	{ "want", "add_actantial_view", "NpcActantialViewAdded" },
	{ "want", "remove_actantial_view", "NpcActantialViewRemoved" },
	{ "goal", "create", "GoalCreated" },
	{ "goal", "update", "GoalUpdated" },
	{ "goal", "delete", "GoalDeleted" },
	{ "character", "create", "WorldDataChanged" },
	{ "character", "update", "CharacterUpdated" },
	{ "character", "delete", "CharacterDeleted" },
	{ "character", "change_archetype", "CharacterUpdated" },
	{ "character", "create_relationship", "WorldDataChanged" },
	{ "character", "delete_relationship", "WorldDataChanged" },
	{ "character", "add_region_relationship", "CharacterUpdated" },
	{ "character", "remove_region_relationship", "CharacterUpdated" },
	{ "challenge", "create", "WorldDataChanged" },
	{ "challenge", "update", "WorldDataChanged" },
	{ "challenge", "delete", "WorldDataChanged" },
	{ "challenge", "trigger_conditions", "WorldDataChanged" },
	{ "narrative_event", "create", "WorldDataChanged" },
	{ "narrative_event", "update", "WorldDataChanged" },
	{ "narrative_event", "delete", "WorldDataChanged" },
	{ "scene", "create", "WorldDataChanged" },
	{ "scene", "update", "WorldDataChanged" },
	{ "scene", "delete", "WorldDataChanged" },
	{ "location", "create", "WorldDataChanged" },
	{ "location", "update", "WorldDataChanged" },
	{ "location", "delete", "WorldDataChanged" },
	{ "settings", "update", "WorldDataChanged" },
};


static const struct msgtype *
find_type(const char *type)
{
	for (size_t i = 0; i < WB_NELEM(catalog); i++)
		if (strcmp(catalog[i].type, type) == 0)
			return &catalog[i];
	return NULL;
}

int
wb_message_check(const json_t *msg, bool allow_unknown, struct wb_err *err)
{
	const struct msgtype *t;
	const char *type, *s;
	size_t len;

	if (wb_get_string(msg, "type", &type, &len, err) != WB_OK)
		return WB_EDATA;
	if ((t = find_type(type)) == NULL) {
		if (allow_unknown)
			return WB_OK;
		return wb_err_set(err, WB_EDATA, "unknown message type \"%s\"",
		    type);
	}
	for (const char *const *f = t->fields; *f != NULL; f++)
		if (wb_get_string(msg, *f, &s, &len, err) != WB_OK)
			return wb_err_prefix(err, t->type);
	return WB_OK;
}

const char *
wb_mutation_type(const char *route, const char *op)
{
	for (size_t i = 0; i < WB_NELEM(mutations); i++)
		if (strcmp(mutations[i].route, route) == 0 &&
		    strcmp(mutations[i].op, op) == 0)
			return mutations[i].type;
	return NULL;
}

/* True when some row of the table has this route. */
static bool
known_route(const char *route)
{
	for (size_t i = 0; i < WB_NELEM(mutations); i++)
		if (strcmp(mutations[i].route, route) == 0)
			return true;
	return false;
}

/*
 * Turn a mutation record into its message, in place: "route" and "op"
 * give way to "type", which comes first; every other field is kept.
 */
int
wb_mutation_to_message(json_t *rec, struct wb_err *err)
{
	const char *route, *op, *type, *k;
	json_t *copy, *v;
	size_t len;

	if (wb_get_string(rec, "route", &route, &len, err) != WB_OK ||
	    wb_get_string(rec, "op", &op, &len, err) != WB_OK)
		return WB_EDATA;
	if ((type = wb_mutation_type(route, op)) == NULL) {
		if (!known_route(route))
			return wb_err_set(err, WB_EDATA, "unknown route \"%s\"",
			    route);
		return wb_err_set(err, WB_EDATA, "route \"%s\" has no op \"%s\"",
		    route, op);
	}
	if ((copy = json_copy(rec)) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	json_object_clear(rec);
	if (json_object_set_new(rec, "type", json_string(type)) != 0)
		goto nomem;
	json_object_foreach(copy, k, v)
		if (strcmp(k, "route") != 0 && strcmp(k, "op") != 0 &&
		    strcmp(k, "type") != 0 && json_object_set(rec, k, v) != 0)
			goto nomem;
	json_decref(copy);
	return wb_message_check(rec, false, err);
nomem:
	json_decref(copy);
	return wb_err_set(err, WB_EINTERNAL, "out of memory");
}
