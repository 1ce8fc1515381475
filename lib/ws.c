/*
 * ws.c: a WebSocket client. TCP (and TLS through OpenSSL), the upgrade
 * handshake checked with OpenSSL's SHA-1, and frames through libwslay's
 * event API over a non-blocking socket that the caller polls.
 */
#define _GNU_SOURCE  /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "wb_priv.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define IO_AGAIN (-2)
#define IO_ERR (-1)
#define MAX_HEAD 16384
#define MAX_MSG (16u << 20)  /* the largest frame a server may send us */
/* Frames are gathered here and written together: one send for many
 * messages, not two (head and payload) for each. */
#define OUT_MAX 65536
/* What one recv may read ahead of wslay. */
#define IN_MAX 65536
/* Mask keys come from one RAND_bytes call per this many bytes. */
#define MASK_POOL 512

struct wb_ws {
	int fd;
	SSL *ssl;
	short rd_events;   /* what the transport needs to read on */
	short wr_events;   /* ... and to write on */
	uint8_t *pre;      /* bytes read past the handshake response, then
	                    * read ahead of wslay (pre_cap: its size) */
	size_t pre_len, pre_off, pre_cap;
	bool lost;         /* the transport failed or reached EOF */
	bool got_close;
	unsigned close_code;
	char close_reason[124];
	char tls_err[200];
	double last_rx;    /* when the last frame came in */
	char protocol[64]; /* the subprotocol agreed to, or "" */
	wslay_event_context_ptr ctx;
	struct wb_ws_handler h;
	uint8_t *out;      /* frames taken from wslay, not yet written */
	size_t out_len;
	uint8_t mask[MASK_POOL];
	size_t mask_left;  /* unused bytes at the end of mask */
};

int
wb_url_parse(const char *s, struct wb_url *u, struct wb_err *err)
{
	const char *p, *slash, *port = NULL;
	unsigned char tmp[16];
	char hp[256], *rb, *colon;
	size_t n;
	uint64_t pn;
	bool v6;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, "ws://", 5) == 0) {
		p = s + 5;
	} else if (strncasecmp(s, "wss://", 6) == 0) {
		u->tls = true;
		p = s + 6;
	} else {
		return wb_err_set(err, WB_EUSAGE, "%s: not a ws:// or wss:// URL",
		    s);
	}
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof(hp))
		return wb_err_set(err, WB_EUSAGE, "%s: bad host", s);
	memcpy(hp, p, n);
	hp[n] = '\0';
	if (hp[0] == '[') {
		if ((rb = strchr(hp, ']')) == NULL || (rb[1] && rb[1] != ':'))
			return wb_err_set(err, WB_EUSAGE, "%s: bad IPv6 host", s);
		*rb = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		snprintf(u->host, sizeof(u->host), "%s", hp + 1);
	} else {
		if ((colon = strrchr(hp, ':')) != NULL) {
			*colon = '\0';
			port = colon + 1;
		}
		snprintf(u->host, sizeof(u->host), "%s", hp);
	}
	if (u->host[0] == '\0')
		return wb_err_set(err, WB_EUSAGE, "%s: empty host", s);
	if (port != NULL) {
		if (wb_parse_u64(port, 1, 65535, &pn, err) != WB_OK)
			return wb_err_set(err, WB_EUSAGE, "%s: bad port", s);
		snprintf(u->port, sizeof(u->port), "%u", (unsigned)pn);
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->tls ? "443" : "80");
	}
	if (strlen(slash ? slash : "/") >= sizeof(u->path))
		return wb_err_set(err, WB_EUSAGE, "%s: path too long", s);
	snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/");
	for (p = u->path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return wb_err_set(err, WB_EUSAGE,
			    "%s: space or control character in the path", s);
	v6 = strchr(u->host, ':') != NULL;
	snprintf(u->hostport, sizeof(u->hostport), "%s%s%s:%s", v6 ? "[" : "",
	    u->host, v6 ? "]" : "", u->port);
	u->host_is_ip = inet_pton(AF_INET, u->host, tmp) == 1 ||
	    inet_pton(AF_INET6, u->host, tmp) == 1;
	return WB_OK;
}

/* The first OpenSSL error, for a message. */
static const char *
ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown TLS error";
	ERR_error_string_n(e, buf, size);
	return buf;
}

/* Read into buf: >0 bytes, 0 at EOF, IO_AGAIN or IO_ERR. */
static ssize_t
conn_read(struct wb_ws *ws, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;
	int e;

	if (ws->pre_off < ws->pre_len) {
		got = ws->pre_len - ws->pre_off;
		if (got > len)
			got = len;
		memcpy(buf, ws->pre + ws->pre_off, got);
		ws->pre_off += got;
		return (ssize_t)got;
	}
	ws->rd_events = POLLIN;
	if (ws->ssl == NULL && ws->ctx != NULL && len < IN_MAX) {
		/* After the handshake, read ahead: wslay asks for a few KB
		 * at a time, a window of messages is many times that. */
		if (ws->pre_cap < IN_MAX) {
			uint8_t *p = realloc(ws->pre, IN_MAX);

			if (p == NULL)
				return IO_ERR;
			ws->pre = p;
			ws->pre_cap = IN_MAX;
		}
		do
			r = recv(ws->fd, ws->pre, IN_MAX, 0);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return r == 0 ? 0 : errno == EAGAIN ||
			    errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
		ws->pre_len = (size_t)r;
		ws->pre_off = got = len < (size_t)r ? len : (size_t)r;
		memcpy(buf, ws->pre, got);
		return (ssize_t)got;
	}
	if (ws->ssl != NULL) {
		ERR_clear_error();
		if (SSL_read_ex(ws->ssl, buf, len, &got) == 1)
			return (ssize_t)got;
		e = SSL_get_error(ws->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ws->rd_events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
			return IO_AGAIN;
		}
		/* A peer that closes TCP without close_notify is at EOF too. */
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
		    (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING))
			return 0;
		ssl_reason(ws->tls_err, sizeof(ws->tls_err));
		return IO_ERR;
	}
	do
		r = recv(ws->fd, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
}

/* Write from buf: bytes written, IO_AGAIN or IO_ERR. */
static ssize_t
conn_write(struct wb_ws *ws, const void *buf, size_t len, bool more)
{
	size_t put = 0;
	ssize_t r;
	int e;

	ws->wr_events = POLLOUT;
	if (ws->ssl != NULL) {
		ERR_clear_error();
		if (SSL_write_ex(ws->ssl, buf, len, &put) == 1)
			return (ssize_t)put;
		e = SSL_get_error(ws->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ws->wr_events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return IO_AGAIN;
		}
		ssl_reason(ws->tls_err, sizeof(ws->tls_err));
		return IO_ERR;
	}
	do
		r = send(ws->fd, buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
}

/* How long a connect may wait, and what stops it early. */
struct wait {
	double deadline;
	const struct wb_ws_opts *o;
	sig_atomic_t stop0;     /* *o->stop when the connect began */
	bool stopped;           /* a stop came: the wait was given up */
};

/* True once a stop came since the connect began. */
static bool
stop_came(struct wait *w)
{
	if (w->o->stop != NULL && *w->o->stop != w->stop0)
		w->stopped = true;
	return w->stopped;
}

/*
 * Wait for events on fd until the deadline; false when it passed or a
 * stop came. A caller whose signals are blocked gives the mask to wait
 * with (ppoll), so that a signal ends the wait at once; one whose handler
 * writes to a pipe gives the pipe, which is read empty here.
 */
static bool
wait_fd(int fd, short events, struct wait *w)
{
	struct pollfd p[2] = { { .fd = fd, .events = events },
	    { .fd = -1, .events = POLLIN } };
	struct timespec ts;
	char drain[64];
	double left;
	int r;

	if (w->o->stop != NULL)
		p[1].fd = w->o->stop_fd;
	for (;;) {
		if (stop_came(w))
			return false;
		left = w->deadline - wb_now();
		if (left <= 0)
			return false;
		left += 0.001;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		r = ppoll(p, 2, &ts, w->o->stop != NULL ? w->o->sigmask : NULL);
		if (r > 0 && p[1].revents != 0)
			while (read(p[1].fd, drain, sizeof(drain)) > 0)
				;
		if (r > 0 && p[0].revents != 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* Connect a non-blocking TCP socket to u before deadline. */
static int
tcp_connect(const struct wb_url *u, struct wait *w, int *fdp,
    struct wb_err *err)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	int fd = -1, e = 0, one = 1, rc;
	socklen_t sl;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		return wb_err_set(err, WB_EUNAVAIL, "%s: %s", u->host,
		    gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, w)) {
			sl = sizeof(e);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 &&
			    e == 0)
				break;
		} else {
			e = errno == EINPROGRESS ? ETIMEDOUT : errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return wb_err_set(err, WB_EUNAVAIL, "connect: %s", strerror(e));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return WB_OK;
}

/*
 * Start TLS on ws->fd, verifying the peer against u's host unless
 * insecure. A certificate that does not verify is a refusal (77): trying
 * again cannot help.
 */
static int
tls_connect(struct wb_ws *ws, const struct wb_url *u,
    const struct wb_ws_opts *o, struct wait *w, struct wb_err *err)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	char buf[200];
	SSL_CTX *ctx;
	SSL *ssl;
	long vr;
	int r, e;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "TLS: %s",
		    ssl_reason(buf, sizeof(buf)));
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
	    NULL);
	if (!o->insecure && (o->cacert != NULL ?
	    SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) :
	    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		SSL_CTX_free(ctx);
		return wb_err_set(err, WB_ENOINPUT, "%s: %s",
		    o->cacert ? o->cacert : "CA certificates",
		    ssl_reason(buf, sizeof(buf)));
	}
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);  /* ssl holds its own reference */
	if (ssl == NULL)
		return wb_err_set(err, WB_EINTERNAL, "TLS: %s",
		    ssl_reason(buf, sizeof(buf)));
	ws->ssl = ssl;
	if (!u->host_is_ip)
		SSL_set_tlsext_host_name(ssl, u->host);
	if (!o->insecure && (u->host_is_ip ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host) :
	    SSL_set1_host(ssl, u->host)) != 1)
		return wb_err_set(err, WB_EUSAGE, "%s: cannot verify this host",
		    u->host);
	SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
	SSL_set_fd(ssl, ws->fd);
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(ssl)) == 1)
			return WB_OK;
		e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		if (!wait_fd(ws->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    w))
			return wb_err_set(err, WB_EUNAVAIL,
			    "TLS handshake timed out");
	}
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK)
		return wb_err_set(err, WB_EREFUSED,
		    "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	return wb_err_set(err, WB_EUNAVAIL, "TLS handshake failed: %s",
	    ssl_reason(buf, sizeof(buf)));
}

/* The Sec-WebSocket-Accept a server must answer to key. */
static void
accept_for(const char *key, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char cat[128];
	int n;

	n = snprintf(cat, sizeof(cat), "%s%s", key, WS_GUID);
	if (EVP_Digest(cat, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1)
		mdlen = 0;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* Find header name in a response head; copy its trimmed value to out. */
static bool
find_header(const char *head, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), vl;
	const char *line = strstr(head, "\r\n"), *eol, *v, *e;

	while (line != NULL && line[2] != '\0') {
		line += 2;
		if ((eol = strstr(line, "\r\n")) == NULL)
			break;
		if ((size_t)(eol - line) > nl &&
		    strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			for (v = line + nl + 1; v < eol && (*v == ' ' || *v == '\t');)
				v++;
			for (e = eol; e > v && (e[-1] == ' ' || e[-1] == '\t');)
				e--;
			vl = (size_t)(e - v) < size - 1 ? (size_t)(e - v) : size - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		line = eol;
	}
	return false;
}

/* True when the comma-separated list holds tok, case aside. */
static bool
has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	const char *p = list, *s, *e;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		for (s = p; *p && *p != ',';)
			p++;
		for (e = p; e > s && (e[-1] == ' ' || e[-1] == '\t');)
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
			return true;
	}
	return false;
}

/*
 * Check a response head (NUL-terminated, ending in its last CRLF) to
 * the key: 101 with the right Upgrade, Connection and accept value.
 * 401 and 403 are refusals (77), a 4xx other than 408 and 429 will not
 * change by asking again (78), anything else may (69).
 */
int
wb_ws_check_head(const char *head, const char *key, struct wb_err *err)
{
	char val[256], want[64];
	int code = 0, n = (int)strcspn(head, "\r\n");

	if (n > 100)
		n = 100;
	if (sscanf(head, "HTTP/1.%*1[01] %3d", &code) != 1 || code < 100)
		return wb_err_set(err, WB_EUNAVAIL, "not an HTTP response: %.*s",
		    n, head);
	if (code == 401 || code == 403)
		return wb_err_set(err, WB_EREFUSED, "token refused: %.*s", n, head);
	if (code != 101)
		return wb_err_set(err, code >= 400 && code < 500 && code != 408 &&
		    code != 429 ? WB_ECONFIG : WB_EUNAVAIL,
		    "handshake refused: %.*s", n, head);
	if (!find_header(head, "Upgrade", val, sizeof(val)) ||
	    strcasecmp(val, "websocket") != 0)
		return wb_err_set(err, WB_EUNAVAIL,
		    "101 without \"Upgrade: websocket\"");
	if (!find_header(head, "Connection", val, sizeof(val)) ||
	    !has_token(val, "upgrade"))
		return wb_err_set(err, WB_EUNAVAIL,
		    "101 without \"Connection: upgrade\"");
	accept_for(key, want);
	if (!find_header(head, "Sec-WebSocket-Accept", val, sizeof(val)) ||
	    strcmp(val, want) != 0)
		return wb_err_set(err, WB_EUNAVAIL,
		    "101 without the right Sec-WebSocket-Accept");
	return WB_OK;
}

/* Write all of buf before deadline (the handshake request). */
static int
write_all(struct wb_ws *ws, const char *buf, size_t len, struct wait *w,
    struct wb_err *err)
{
	size_t off = 0;
	ssize_t r;

	while (off < len) {
		r = conn_write(ws, buf + off, len - off, false);
		if (r > 0)
			off += (size_t)r;
		else if (r != IO_AGAIN || !wait_fd(ws->fd, ws->wr_events, w))
			return wb_err_set(err, WB_EUNAVAIL,
			    "sending the handshake: %s",
			    ws->tls_err[0] ? ws->tls_err : strerror(errno));
	}
	return WB_OK;
}

/* Read the response head; keep the bytes after it for wslay. */
static int
read_head(struct wb_ws *ws, const char *key, struct wait *w,
    struct wb_err *err)
{
	char *buf = malloc(MAX_HEAD + 1), *end = NULL;
	size_t have = 0, hl;
	ssize_t r;
	int st = WB_OK;

	if (buf == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	buf[0] = '\0';
	while (end == NULL) {
		if (have == MAX_HEAD) {
			st = wb_err_set(err, WB_EUNAVAIL,
			    "handshake response too large");
			goto out;
		}
		r = conn_read(ws, buf + have, MAX_HEAD - have);
		if (r > 0) {
			/* A NUL byte in a head ends the text we look at. */
			have += (size_t)r;
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
		} else if (r == 0) {
			st = wb_err_set(err, WB_EUNAVAIL,
			    "connection closed during the handshake");
			goto out;
		} else if (r == IO_ERR ||
		    !wait_fd(ws->fd, ws->rd_events, w)) {
			st = wb_err_set(err, WB_EUNAVAIL,
			    "no handshake response");
			goto out;
		}
	}
	hl = (size_t)(end - buf) + 4;
	if (have > hl) {
		if ((ws->pre = malloc(have - hl)) == NULL) {
			st = wb_err_set(err, WB_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(ws->pre, buf + hl, have - hl);
		ws->pre_len = have - hl;
	}
	end[2] = '\0';
	st = wb_ws_check_head(buf, key, err);
	if (st == WB_OK && !find_header(buf, "Sec-WebSocket-Protocol",
	    ws->protocol, sizeof(ws->protocol)))
		ws->protocol[0] = '\0';
out:
	free(buf);
	return st;
}

static ssize_t
cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *ud)
{
	struct wb_ws *ws = ud;
	ssize_t r = conn_read(ws, buf, len);

	(void)flags;
	if (r > 0)
		return r;
	if (r == IO_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	} else {
		ws->lost = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

/* Write out what cb_send gathered: WB_OK (perhaps not all of it, the
 * rest kept for POLLOUT) or IO_ERR. */
static int
flush_out(struct wb_ws *ws)
{
	size_t off = 0;
	ssize_t r = 0;

	while (off < ws->out_len &&
	    (r = conn_write(ws, ws->out + off, ws->out_len - off, false)) > 0)
		off += (size_t)r;
	if (off > 0) {
		memmove(ws->out, ws->out + off, ws->out_len - off);
		ws->out_len -= off;
	}
	return r == IO_ERR ? IO_ERR : WB_OK;
}

/* Take frame bytes from wslay into the output buffer, written out when it
 * is full and at the end of each wb_ws_io. */
static ssize_t
cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *ud)
{
	struct wb_ws *ws = ud;
	size_t n;

	(void)flags;
	if (ws->out == NULL && (ws->out = malloc(OUT_MAX)) == NULL) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (ws->out_len + len > OUT_MAX && flush_out(ws) != WB_OK) {
		ws->lost = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (ws->out_len == OUT_MAX) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = OUT_MAX - ws->out_len < len ? OUT_MAX - ws->out_len : len;
	memcpy(ws->out + ws->out_len, data, n);
	ws->out_len += n;
	return (ssize_t)n;
}

/* A frame's mask key: from the CSPRNG, drawn a pool at a time. */
static int
cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
	struct wb_ws *ws = ud;

	if (len > ws->mask_left) {
		if (len > sizeof(ws->mask) ||
		    RAND_bytes(ws->mask, (int)sizeof(ws->mask)) != 1) {
			wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
			return -1;
		}
		ws->mask_left = sizeof(ws->mask);
	}
	memcpy(buf, ws->mask + sizeof(ws->mask) - ws->mask_left, len);
	ws->mask_left -= len;
	return 0;
}

static void
cb_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
	struct wb_ws *ws = ud;
	size_t n;

	(void)ctx;
	ws->last_rx = wb_now();
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		if (ws->h.on_message != NULL)
			ws->h.on_message(ws->h.ud, arg->msg, arg->msg_length);
		break;
	case WSLAY_CONNECTION_CLOSE:
		ws->got_close = true;
		ws->close_code = arg->status_code;
		n = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
		if (n >= sizeof(ws->close_reason))
			n = sizeof(ws->close_reason) - 1;
		if (n > 0)
			memcpy(ws->close_reason, arg->msg + 2, n);
		ws->close_reason[n] = '\0';
		break;
	default:
		break;  /* wslay answers pings itself; pongs only count as life */
	}
}

/* Make a connection object over fd; on failure fd is the caller's. */
static struct wb_ws *
ws_new(int fd, const struct wb_ws_handler *h)
{
	struct wb_ws *ws = calloc(1, sizeof(*ws));

	if (ws == NULL)
		return NULL;
	ws->fd = fd;
	ws->rd_events = POLLIN;
	ws->wr_events = POLLOUT;
	if (h != NULL)
		ws->h = *h;
	return ws;
}

/* True for a header value without control characters (or none). */
static bool
header_ok(const char *v)
{
	for (; v != NULL && *v; v++)
		if ((unsigned char)*v < ' ' || *v == 0x7f)
			return false;
	return true;
}

/* Upgrade the connection in ws (TCP or TLS) to a WebSocket. */
static int
ws_upgrade(struct wb_ws *ws, const struct wb_url *u,
    const struct wb_ws_opts *o, const char *key, struct wait *w,
    struct wb_err *err)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = cb_recv,
		.send_callback = cb_send,
		.genmask_callback = cb_genmask,
		.on_msg_recv_callback = cb_msg,
	};
	char req[4096], keybuf[32];
	unsigned char nonce[16];
	int n;
	int st;

	if (!header_ok(o->protocol) || !header_ok(o->last_event_id))
		return wb_err_set(err, WB_EUSAGE,
		    "control character in a handshake header");
	if (key == NULL) {
		if (RAND_bytes(nonce, sizeof(nonce)) != 1)
			return wb_err_set(err, WB_EINTERNAL, "no random bytes");
		EVP_EncodeBlock((unsigned char *)keybuf, nonce, sizeof(nonce));
		key = keybuf;
	}
	/* The token goes into this buffer only, never into a message. */
	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s%s%s%s%s%s%s\r\n",
	    u->path, u->hostport, key,
	    o->accept ? "Accept: " : "", o->accept ? o->accept : "",
	    o->accept ? "\r\n" : "",
	    o->protocol ? "Sec-WebSocket-Protocol: " : "",
	    o->protocol ? o->protocol : "", o->protocol ? "\r\n" : "",
	    o->last_event_id ? "Last-Event-ID: " : "",
	    o->last_event_id ? o->last_event_id : "",
	    o->last_event_id ? "\r\n" : "",
	    o->token ? "Authorization: Bearer " : "", o->token ? o->token : "",
	    o->token ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return wb_err_set(err, WB_EUSAGE, "handshake request too long");
	st = write_all(ws, req, (size_t)n, w, err);
	OPENSSL_cleanse(req, sizeof(req));
	if (st != WB_OK || (st = read_head(ws, key, w, err)) != WB_OK)
		return st;
	if (wslay_event_context_client_init(&ws->ctx, &cbs, ws) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	wslay_event_config_set_max_recv_msg_length(ws->ctx,
	    o->max_msg > 0 ? o->max_msg : MAX_MSG);
	ws->last_rx = wb_now();
	return WB_OK;
}

/* A connect given up for a stop says so, whatever failed with it. */
static int
stopped(const struct wait *w, struct wb_err *err)
{
	if (w->stopped)
		wb_err_set(err, WB_ETEMPFAIL, "connecting given up: a stop signal");
	return err->status;
}

struct wb_ws *
wb_ws_connect(const char *url, const struct wb_ws_opts *o,
    const struct wb_ws_handler *h, struct wb_err *err)
{
	struct wait w = { wb_now() + (o->timeout > 0 ? o->timeout : 10), o,
	    o->stop != NULL ? *o->stop : 0, false };
	struct wb_url u;
	struct wb_ws *ws;
	int fd = -1;

	if (wb_url_parse(url, &u, err) != WB_OK)
		return NULL;
	if (tcp_connect(&u, &w, &fd, err) != WB_OK) {
		stopped(&w, err);
		return NULL;
	}
	if ((ws = ws_new(fd, h)) == NULL) {
		close(fd);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	if ((u.tls && tls_connect(ws, &u, o, &w, err) != WB_OK) ||
	    ws_upgrade(ws, &u, o, NULL, &w, err) != WB_OK) {
		stopped(&w, err);
		wb_ws_free(ws);
		return NULL;
	}
	return ws;
}

struct wb_ws *
wb_ws_open_fd(int fd, const char *url, const char *key,
    const struct wb_ws_opts *o, const struct wb_ws_handler *h,
    struct wb_err *err)
{
	struct wait w = { wb_now() + o->timeout, o,
	    o->stop != NULL ? *o->stop : 0, false };
	struct wb_url u;
	struct wb_ws *ws;

	if (wb_url_parse(url, &u, err) != WB_OK)
		return NULL;
	if ((ws = ws_new(fd, h)) == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	if (ws_upgrade(ws, &u, o, key, &w, err) != WB_OK) {
		stopped(&w, err);
		ws->fd = -1;
		wb_ws_free(ws);
		return NULL;
	}
	return ws;
}

/* Queue one message (text or ping) for the next wb_ws_io. */
static int
queue(struct wb_ws *ws, uint8_t op, const void *p, size_t len,
    struct wb_err *err)
{
	struct wslay_event_msg m = { op, p, len };
	int r = wslay_event_queue_msg(ws->ctx, &m);

	if (r == WSLAY_ERR_NOMEM)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	if (r != 0)
		return wb_err_set(err, WB_EUNAVAIL, "connection closing");
	return WB_OK;
}

int
wb_ws_send_text(struct wb_ws *ws, const char *s, size_t len,
    struct wb_err *err)
{
	return queue(ws, WSLAY_TEXT_FRAME, s, len, err);
}

int
wb_ws_ping(struct wb_ws *ws, struct wb_err *err)
{
	return queue(ws, WSLAY_PING, "wb", 2, err);
}

void
wb_ws_close(struct wb_ws *ws, unsigned code)
{
	wslay_event_queue_close(ws->ctx, (uint16_t)code, (const uint8_t *)"", 0);
}

int
wb_ws_fd(const struct wb_ws *ws)
{
	return ws->fd;
}

short
wb_ws_events(const struct wb_ws *ws)
{
	short ev = 0;

	if (ws->lost)
		return 0;
	if (wslay_event_want_read(ws->ctx))
		ev |= ws->rd_events;
	if (wslay_event_want_write(ws->ctx) || ws->out_len > 0)
		ev |= ws->wr_events;
	return ev;
}

bool
wb_ws_buffered(const struct wb_ws *ws)
{
	return ws->pre_off < ws->pre_len ||
	    (ws->ssl != NULL && SSL_pending(ws->ssl) > 0);
}

size_t
wb_ws_queued(const struct wb_ws *ws)
{
	return wslay_event_get_queued_msg_count(ws->ctx) +
	    (ws->out_len > 0 ? 1 : 0);
}

double
wb_ws_last_rx(const struct wb_ws *ws)
{
	return ws->last_rx;
}

const char *
wb_ws_protocol(const struct wb_ws *ws)
{
	return ws->protocol[0] ? ws->protocol : NULL;
}

/* Say why a connection ended. */
static int
ended(struct wb_ws *ws, struct wb_err *err)
{
	if (ws->got_close)
		return wb_err_set(err, WB_EUNAVAIL, "closed by the relay: %u%s%s",
		    ws->close_code, ws->close_reason[0] ? " " : "",
		    ws->close_reason);
	if (ws->tls_err[0])
		return wb_err_set(err, WB_EUNAVAIL, "connection lost: %s",
		    ws->tls_err);
	return wb_err_set(err, WB_EUNAVAIL, "connection lost");
}

/*
 * Read and write what the socket allows, calling the handler for each
 * message. WB_OK while the connection lives; 69 once it is over, with err
 * saying why (a close we started and the peer answered is "closed by the
 * relay: 1000").
 */
int
wb_ws_io(struct wb_ws *ws, struct wb_err *err)
{
	if (ws->lost)
		return ended(ws, err);
	if (wslay_event_want_read(ws->ctx) && wslay_event_recv(ws->ctx) != 0)
		ws->lost = true;
	if (!ws->lost && wslay_event_want_write(ws->ctx) &&
	    wslay_event_send(ws->ctx) != 0)
		ws->lost = true;
	if (!ws->lost && ws->out_len > 0 && flush_out(ws) != WB_OK)
		ws->lost = true;
	if (!ws->lost && !wslay_event_want_read(ws->ctx) &&
	    !wslay_event_want_write(ws->ctx) && ws->out_len == 0)
		ws->lost = true;  /* the close handshake is over */
	return ws->lost ? ended(ws, err) : WB_OK;
}

void
wb_ws_free(struct wb_ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	if (ws->ssl != NULL) {
		SSL_set_quiet_shutdown(ws->ssl, 1);
		SSL_free(ws->ssl);
	}
	if (ws->fd >= 0)
		close(ws->fd);
	free(ws->pre);
	free(ws->out);
	free(ws);
}
