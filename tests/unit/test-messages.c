/* test-messages.c: the message catalog, the mutation table, handshakes. */
#include "wb_priv.h"
#include "unit.h"

/* Check a message given as JSON text; return the status, err filled. */
static int
check(const char *text, bool allow_unknown, struct wb_err *err)
{
	json_t *j = json_loads(text, 0, NULL);
	int st;

	memset(err, 0, sizeof(*err));
	st = wb_message_check(j, allow_unknown, err);
	json_decref(j);
	return st;
}

static void
catalog_requires_string_fields(void)
{
	struct wb_err err;

	CHECK_U(check("{\"type\":\"GoalUpdated\",\"goal_id\":\"g\"}", false,
	    &err), WB_OK);
	CHECK_U(check("{\"type\":\"GoalCreated\",\"goal_id\":\"g\",\"name\":\"n\"}",
	    false, &err), WB_EDATA);
	CHECK(strcmp(err.msg, "GoalCreated: missing field \"world_id\"") == 0);
	CHECK_U(check("{\"type\":\"CharacterDeleted\",\"character_id\":7}",
	    false, &err), WB_EDATA);
	CHECK(strcmp(err.msg, "CharacterDeleted: field \"character_id\" is an "
	    "integer, not a string") == 0);
	CHECK_U(check("{\"goal_id\":\"g\"}", false, &err), WB_EDATA);
	CHECK(strcmp(err.msg, "missing field \"type\"") == 0);
}

static void
unknown_types_only_when_allowed(void)
{
	struct wb_err err;

	CHECK_U(check("{\"type\":\"Weather\"}", false, &err), WB_EDATA);
	CHECK(strcmp(err.msg, "unknown message type \"Weather\"") == 0);
	CHECK_U(check("{\"type\":\"Weather\"}", true, &err), WB_OK);
}

static void
mutations_keep_their_fields_after_the_type(void)
{
	json_t *j = json_loads("{\"route\":\"want\",\"op\":\"set_target\","
	    "\"npc_id\":\"n\",\"want_id\":\"w\",\"world_id\":\"x\"}", 0, NULL);
	struct wb_err err = { 0 };
	char *s;

	CHECK_U(wb_mutation_to_message(j, &err), WB_OK);
	s = json_dumps(j, JSON_COMPACT);
	CHECK(strcmp(s, "{\"type\":\"NpcWantUpdated\",\"npc_id\":\"n\","
	    "\"want_id\":\"w\",\"world_id\":\"x\"}") == 0);
	free(s);
	json_decref(j);
	CHECK(strcmp(wb_mutation_type("settings", "update"),
	    "WorldDataChanged") == 0);
	CHECK(wb_mutation_type("settings", "delete") == NULL);
	CHECK(wb_mutation_type("weather", "update") == NULL);
}

int
main(void)
{
	RUN(catalog_requires_string_fields);
	RUN(unknown_types_only_when_allowed);
	RUN(mutations_keep_their_fields_after_the_type);
	printf("# %d checks\n", unit_checks);
	return UNIT_END();
}
