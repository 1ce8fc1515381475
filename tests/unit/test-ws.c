/* test-ws.c: the WebSocket client's handshake check and URL parser. */
#include "wb_priv.h"
#include "unit.h"

/* A 101 head with the accept value for the RFC 6455 sample key. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define OK_HEAD "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" \
	"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

static void
handshake_heads_are_checked_against_the_key(void)
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
urls_are_ws_or_wss_with_a_port_and_a_path(void)
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
	RUN(handshake_heads_are_checked_against_the_key);
	RUN(urls_are_ws_or_wss_with_a_port_and_a_path);
	printf("# %d checks\n", unit_checks);
	return UNIT_END();
}
