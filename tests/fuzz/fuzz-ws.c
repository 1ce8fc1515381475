/*
 * fuzz-ws.c: the WebSocket client against whatever a server may send: the
 * handshake response, then frames. The bytes come through a socket pair,
 * as from a relay. With an odd first byte a valid 101 head comes first,
 * so that the fuzzer spends its time on the frames too.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "wb_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The RFC 6455 sample key and its accept value. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

static void
on_message(void *ud, const uint8_t *p, size_t len)
{
	size_t *total = ud;

	FUZZ_ASSERT(len == 0 || p != NULL);
	*total += len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_ws_opts o = { .token = "t", .accept = "text/json",
	    .timeout = 1 };
	size_t total = 0;
	struct wb_ws_handler h = { on_message, &total };
	struct wb_err err;
	struct wb_ws *ws;
	int sv[2];

	if (size < 1 || size > 60000)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	if ((data[0] & 1) && write(sv[1], head, sizeof(head) - 1) < 0)
		abort();
	if (write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ws = wb_ws_open_fd(sv[0], "ws://127.0.0.1:1/pub/x", KEY, &o, &h, &err);
	if (ws == NULL) {
		FUZZ_ASSERT(err.status == WB_EUNAVAIL || err.status == WB_EREFUSED ||
		    err.status == WB_ECONFIG);
		close(sv[0]);
	} else {
		/* Until the end of the bytes: a bounded number of turns. */
		for (int i = 0; i < 1000; i++) {
			if (i == 1 && (wb_ws_send_text(ws, "{}", 2, &err) != WB_OK ||
			    wb_ws_ping(ws, &err) != WB_OK))
				break;
			if (wb_ws_io(ws, &err) != WB_OK)
				break;
		}
		FUZZ_ASSERT(total <= size);
		wb_ws_free(ws);
	}
	close(sv[1]);
	return 0;
}
