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

/* A 101 head with the accept value for the RFC 6455 sample key. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define OK_HEAD "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" \
	"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

static void
handshake_heads(void)
{
	struct wb_err err;

	CHECK_U(wb_ws_check_head(OK_HEAD, KEY, &err), WB_OK);
	CHECK_U(wb_ws_check_head(OK_HEAD, "AAAAAAAAAAAAAAAAAAAAAA==", &err),
	    WB_EUNAVAIL);
	CHECK_U(wb_ws_check_head("HTTP/1.1 403 Forbidden\r\n", KEY, &err),
	    WB_EREFUSED);
	CHECK(strcmp(err.msg, "token refused: HTTP/1.1 403 Forbidden") == 0);
	CHECK_U(wb_ws_check_head("HTTP/1.1 401 Unauthorized\r\n", KEY, &err),
	    WB_EREFUSED);
	CHECK_U(wb_ws_check_head("HTTP/1.1 404 Not Found\r\n", KEY, &err),
	    WB_ECONFIG);
	CHECK_U(wb_ws_check_head("HTTP/1.1 503 Service Unavailable\r\n", KEY,
	    &err), WB_EUNAVAIL);
	CHECK_U(wb_ws_check_head("SSH-2.0-OpenSSH\r\n", KEY, &err), WB_EUNAVAIL);
	CHECK_U(wb_ws_check_head("HTTP/1.1 101 OK\r\nUpgrade: h2c\r\n", KEY,
	    &err), WB_EUNAVAIL);
}

static void
urls(void)
{
	struct wb_url u;
	struct wb_err err;

	CHECK_U(wb_url_parse("ws://127.0.0.1:8089/pub/w.1", &u, &err), WB_OK);
	CHECK(!u.tls && u.host_is_ip && strcmp(u.port, "8089") == 0 &&
	    strcmp(u.path, "/pub/w.1") == 0 &&
	    strcmp(u.hostport, "127.0.0.1:8089") == 0);
	CHECK_U(wb_url_parse("wss://[::1]/x", &u, &err), WB_OK);
	CHECK(u.tls && strcmp(u.host, "::1") == 0 && strcmp(u.port, "443") == 0);
	CHECK_U(wb_url_parse("http://h/x", &u, &err), WB_EUSAGE);
	CHECK_U(wb_url_parse("ws://h:0/x", &u, &err), WB_EUSAGE);
	CHECK_U(wb_url_parse("ws://h/a b", &u, &err), WB_EUSAGE);
}

int
main(void)
{
	RUN(catalog_requires_string_fields);
	RUN(unknown_types_only_when_allowed);
	RUN(mutations_keep_their_fields_after_the_type);
	RUN(handshake_heads);
	RUN(urls);
	printf("# %d checks\n", unit_checks);
	return UNIT_END();
}
