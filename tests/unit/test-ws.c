/* test-ws.c: the WebSocket client's handshake check, URL parser and
 * writes. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
/* The handshake over one end of a socket pair, the server's answer
 * already waiting; the request the client sent is read into req. */
static struct wb_ws *
handshake(const struct wb_ws_opts *o, const char *answer, char *req,
    size_t size, struct wb_err *err)
{
	struct wb_ws *ws;
	ssize_t n;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return NULL;
	if (write(sv[1], answer, strlen(answer)) != (ssize_t)strlen(answer))
		return NULL;
	ws = wb_ws_open_fd(sv[0], "ws://127.0.0.1:1/sub/w", KEY, o, NULL, err);
	if (ws == NULL)
		close(sv[0]);
	n = read(sv[1], req, size - 1);
	req[n > 0 ? n : 0] = '\0';
	close(sv[1]);
	return ws;
}

static void
a_subprotocol_and_last_event_id_are_asked_for(void)
{
	struct wb_ws_opts o = { .timeout = 2, .protocol = "ws+meta.nchan",
	    .last_event_id = "1700000000:3" };
	struct wb_err err = { 0 };
	struct wb_ws *ws;
	char req[4096];

	ws = handshake(&o, OK_HEAD "Sec-WebSocket-Protocol: ws+meta.nchan\r\n"
	    "\r\n", req, sizeof(req), &err);
	CHECK(ws != NULL);
	CHECK(strstr(req, "\r\nSec-WebSocket-Protocol: ws+meta.nchan\r\n") != NULL);
	CHECK(strstr(req, "\r\nLast-Event-ID: 1700000000:3\r\n") != NULL);
	CHECK(ws != NULL && wb_ws_protocol(ws) != NULL &&
	    strcmp(wb_ws_protocol(ws), "ws+meta.nchan") == 0);
	wb_ws_free(ws);
	/* A server that does not agree: no subprotocol. */
	ws = handshake(&o, OK_HEAD "\r\n", req, sizeof(req), &err);
	CHECK(ws != NULL && wb_ws_protocol(ws) == NULL);
	wb_ws_free(ws);
	/* Without them, neither header. */
	o.protocol = o.last_event_id = NULL;
	ws = handshake(&o, OK_HEAD "\r\n", req, sizeof(req), &err);
	CHECK(ws != NULL && strstr(req, "Protocol") == NULL &&
	    strstr(req, "Last-Event-ID") == NULL);
	wb_ws_free(ws);
	/* A header value cannot carry a line of its own. */
	o.last_event_id = "1\r\nX-Evil: 1";
	ws = handshake(&o, OK_HEAD "\r\n", req, sizeof(req), &err);
	CHECK(ws == NULL);
	CHECK_U(err.status, WB_EUSAGE);
	CHECK(strstr(req, "X-Evil") == NULL);
}

static volatile sig_atomic_t stops;
static int stop_pipe[2] = { -1, -1 };

static void
on_stop(int sig)
{
	ssize_t r;

	(void)sig;
	stops++;
	if (stop_pipe[1] >= 0)
		r = write(stop_pipe[1], "s", 1);
	(void)r;
}

/* A handshake to a peer that never answers, with a SIGUSR1 sent 0.1 s
 * in; the status, and the seconds it took in *took. */
static int
silent_handshake(const struct wb_ws_opts *o, double *took)
{
	struct timespec tenth = { 0, 100000000 };
	struct wb_err err = { 0 };
	struct wb_ws *ws;
	double t0 = wb_now();
	pid_t child;
	int sv[2];

	/* Non-blocking, as a connected socket of wb_ws_connect is. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return -1;
	if ((child = fork()) == 0) {
		nanosleep(&tenth, NULL);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	ws = wb_ws_open_fd(sv[0], "ws://127.0.0.1:1/sub/w", KEY, o, NULL, &err);
	*took = wb_now() - t0;
	if (ws == NULL)
		close(sv[0]);
	wb_ws_free(ws);
	close(sv[1]);
	waitpid(child, NULL, 0);
	return ws != NULL ? WB_OK : err.status;
}

static void
a_stop_gives_up_a_handshake_at_once(void)
{
	struct sigaction sa = { 0 };
	struct wb_ws_opts o = { .timeout = 5, .stop = &stops, .stop_fd = -1 };
	sigset_t block, orig;
	double took = 0;
	char req[4096];
	struct wb_err err = { 0 };
	struct wb_ws *ws;

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* A handler that writes to a pipe (wb-broadcast's way). */
	if (pipe(stop_pipe) != 0)
		return;
	fcntl(stop_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
	o.stop_fd = stop_pipe[0];
	CHECK_U(silent_handshake(&o, &took), WB_ETEMPFAIL);
	CHECK(took < 1);
	/* Signals blocked but while waiting (wb-subscribe's way). */
	o.stop_fd = -1;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &orig);
	o.sigmask = &orig;
	CHECK_U(silent_handshake(&o, &took), WB_ETEMPFAIL);
	CHECK(took < 1);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	/* A stop that came before the connect began does not end it. */
	o.sigmask = NULL;
	o.stop_fd = stop_pipe[0];
	ws = handshake(&o, OK_HEAD "\r\n", req, sizeof(req), &err);
	CHECK(stops > 0 && ws != NULL);
	wb_ws_free(ws);
	/* Without a stop, the same peer keeps it waiting to the timeout. */
	o.stop = NULL;
	o.timeout = 0.5;
	CHECK_U(silent_handshake(&o, &took), WB_EUNAVAIL);
	CHECK(took >= 0.5);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
}

/* A connection over a SOCK_SEQPACKET pair, so that each send of the
 * client is one packet to the peer end, *peer. */
static struct wb_ws *
packet_pair(int *peer, const struct wb_ws_handler *h)
{
	struct wb_ws_opts o = { .timeout = 2 };
	struct wb_err err = { 0 };
	const char *answer = OK_HEAD "\r\n";
	struct wb_ws *ws;
	char req[4096];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return NULL;
	if (write(sv[1], answer, strlen(answer)) != (ssize_t)strlen(answer) ||
	    (ws = wb_ws_open_fd(sv[0], "ws://127.0.0.1:1/pub/w", KEY, &o, h,
	    &err)) == NULL || read(sv[1], req, sizeof(req)) <= 0) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	/* as a connected TCP socket is: writes never block */
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	*peer = sv[1];
	return ws;
}

/* Check that p holds n masked text frames of msg; the bytes they take. */
static size_t
frames_of(const uint8_t *p, size_t len, const char *msg, size_t n)
{
	size_t ml = strlen(msg), off = 0;

	for (size_t i = 0; i < n; i++) {
		if (off + 6 + ml > len || p[off] != 0x81 ||
		    p[off + 1] != (0x80 | ml))
			return 0;
		for (size_t k = 0; k < ml; k++)
			if ((p[off + 6 + k] ^ p[off + 2 + k % 4]) != (uint8_t)msg[k])
				return 0;
		off += 6 + ml;
	}
	return off;
}

static void
queued_messages_go_out_in_one_write(void)
{
	const char *msg = "{\"type\":\"WorldDataChanged\",\"world_id\":\"w\"}";
	struct wb_err err = { 0 };
	static uint8_t got[1 << 17];
	struct wb_ws *ws;
	ssize_t n;
	int peer = -1;

	CHECK((ws = packet_pair(&peer, NULL)) != NULL);
	if (ws == NULL)
		return;
	for (int i = 0; i < 100; i++)
		CHECK_U(wb_ws_send_text(ws, msg, strlen(msg), &err), WB_OK);
	CHECK_U(wb_ws_io(ws, &err), WB_OK);
	CHECK(wb_ws_queued(ws) == 0);
	/* one packet: all hundred frames, each head with its payload */
	n = recv(peer, got, sizeof(got), MSG_DONTWAIT);
	CHECK(n > 0 && frames_of(got, (size_t)n, msg, 100) == (size_t)n);
	CHECK(recv(peer, got, sizeof(got), MSG_DONTWAIT) < 0);
	wb_ws_free(ws);
	close(peer);
}

static void
what_the_socket_does_not_take_waits_for_pollout(void)
{
	char msg[1001];
	struct wb_err err = { 0 };
	static uint8_t got[1 << 17];
	struct wb_ws *ws;
	size_t total = 0, want;
	ssize_t n;
	int peer = -1, sent = 0;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	CHECK((ws = packet_pair(&peer, NULL)) != NULL);
	if (ws == NULL)
		return;
	/* each frame: 2 bytes, a 16-bit length, a 4-byte mask, the text */
	want = 2000 * (8 + 1000);
	for (int i = 0; i < 2000; i++)
		if (wb_ws_send_text(ws, msg, 1000, &err) == WB_OK)
			sent++;
	CHECK(sent == 2000);
	CHECK_U(wb_ws_io(ws, &err), WB_OK);
	/* the peer reads nothing yet: the rest is still queued */
	CHECK(wb_ws_queued(ws) > 0);
	CHECK(wb_ws_events(ws) & POLLOUT);
	for (int round = 0; round < 10000 && total < want; round++) {
		while ((n = recv(peer, got, sizeof(got), MSG_DONTWAIT)) > 0)
			total += (size_t)n;
		CHECK_U(wb_ws_io(ws, &err), WB_OK);
	}
	CHECK(total == want);
	CHECK(wb_ws_queued(ws) == 0);
	CHECK(!(wb_ws_events(ws) & POLLOUT));
	wb_ws_free(ws);
	close(peer);
}

static size_t got_n, got_bytes;

static void
count_message(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	if (len == 1000 && p[0] == 'y' && p[999] == 'y')
		got_n++;
	got_bytes += len;
}

static void
a_burst_of_frames_is_read_in_one_recv(void)
{
	struct wb_ws_handler h = { .on_message = count_message };
	static uint8_t burst[20 * 1004];
	struct wb_err err = { 0 };
	struct wb_ws *ws;
	int peer = -1;

	/* twenty unmasked 1000-byte text frames in one packet: a read of
	 * less than the packet would lose the rest of it */
	for (size_t i = 0; i < 20; i++) {
		uint8_t *f = burst + i * 1004;

		f[0] = 0x81;
		f[1] = 126;
		f[2] = 1000 >> 8;
		f[3] = 1000 & 0xff;
		memset(f + 4, 'y', 1000);
	}
	CHECK((ws = packet_pair(&peer, &h)) != NULL);
	if (ws == NULL)
		return;
	CHECK(send(peer, burst, sizeof(burst), 0) == (ssize_t)sizeof(burst));
	for (int i = 0; i < 5; i++)
		CHECK_U(wb_ws_io(ws, &err), WB_OK);
	CHECK(got_n == 20 && got_bytes == 20000);
	wb_ws_free(ws);
	close(peer);
}

int
main(void)
{
	RUN(handshake_heads_are_checked_against_the_key);
	RUN(urls_are_ws_or_wss_with_a_port_and_a_path);
	RUN(a_subprotocol_and_last_event_id_are_asked_for);
	RUN(a_stop_gives_up_a_handshake_at_once);
	RUN(queued_messages_go_out_in_one_write);
	RUN(what_the_socket_does_not_take_waits_for_pollout);
	RUN(a_burst_of_frames_is_read_in_one_recv);
	printf("# %d checks\n", unit_checks);
	return UNIT_END();
}
