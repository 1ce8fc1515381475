/*
 * broadcast.c: messages to a WebSocket relay, one connection per channel,
 * at least once. Each channel keeps its unacknowledged messages in a
 * bounded window, in order; the relay answers each published frame with
 * one reply frame, so the k-th reply on a connection acknowledges the k-th
 * message sent on it. A lost connection is reopened with jittered
 * exponential backoff and the whole window is sent again; a channel down
 * for longer than the timeout hands its messages to the dead letter.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "wb_priv.h"

#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 5.0
#define CONNECT_TIMEOUT 5.0
#define CLOSE_WAIT 1.0
#define WB_CHANNEL_MAX 128
/* Journal bytes that make it worth compacting once all is acked (or
 * half of --spool-max, if less). */
#define SPOOL_COMPACT (1u << 20)
/* Past this (or half of --spool-max), with every channel up, reading
 * waits for the acks so that the journal can be compacted. */
#define SPOOL_ROLL (64u << 20)
/* Unsent messages of a channel that are sent before the next record is
 * read; fewer wait for the pump before the next read of the input, so that
 * a burst of input goes out in few writes, not one poll and send each. */
#define SEND_BATCH 32

/* One message waiting for its ack. */
struct entry {
	char *text;
	size_t len;
	uint64_t seq;
	char *type;
	char *run;
	uint64_t sid;           /* its id in the spool, or 0 */
};

/* A message waiting in the spool only, for room in the window. */
struct park {
	uint64_t sid, off;
	size_t len;
};

/* A message read after a stop signal: never sent, dead-lettered. */
struct late {
	char *text;
	size_t len;
	struct late *next;
};

struct chan {
	struct wb_bcast *bc;
	char *url;
	uint64_t seq;           /* the last seq stamped on this channel */
	struct late *late, **late_tail;
	struct park *park;      /* a ring of park_cap */
	size_t park_head, park_count, park_cap;
	struct wb_ws *ws;       /* NULL while down */
	struct entry *ring;     /* the window: cap entries */
	size_t head, count;     /* unacked: ring[head..head+count) */
	size_t nsent;           /* of those, sent on the current connection */
	unsigned attempts;      /* failed connects in a row */
	double next_try;        /* when to try connecting again */
	double down_since;      /* 0 while up or never tried */
	double last_ping;       /* when the last ping went out */
	double ping_out;        /* when an unanswered ping went out, or 0 */
	bool failing;           /* down too long: messages go to dead letter */
	bool hopeless;          /* the relay has no such channel (78) */
	bool said_down;         /* the loss was reported */
	time_t rate_sec;        /* the CLOCK_REALTIME second counted */
	uint64_t rate_used;
	struct chan *next;
};

struct wb_bcast {
	struct wb_bcast_opts o;
	char run[40];
	struct chan *chans;
	size_t nchans;
	int status;             /* the worst outcome so far */
	struct wb_err fatal;    /* a refusal: stop everything */
	bool fatal_said;
	uint64_t dead;          /* messages written to the dead letter */
	uint64_t lost;          /* messages it could not take either */
	uint64_t taken;         /* messages given to a channel */
	struct wb_spool *sp;    /* --spool, or NULL */
	uint64_t kept;          /* messages left unacked in the spool */
	uint64_t delivered;     /* messages acknowledged */
	double stop_at;         /* when the first stop signal was seen, or 0 */
	bool hard_said;         /* the second signal was said */
	bool in_closed;         /* the input was cut off after a signal */
	double last_progress;   /* when the progress line was last drawn */
	bool progress_drawn;    /* a progress line without its newline */
	uint64_t rng;
	struct pollfd *pfd;
	struct chan **pch;
	size_t pcap;
};

/* A uniform number in [0, 1) from the run's own generator. */
static double
rnd(struct wb_bcast *bc)
{
	bc->rng ^= bc->rng << 13;
	bc->rng ^= bc->rng >> 7;
	bc->rng ^= bc->rng << 17;
	return (double)(bc->rng >> 11) / 9007199254740992.0;
}

/* Say one thing about a channel on the error stream. */
static void
say(struct wb_bcast *bc, const char *url, const char *msg)
{
	if (bc->o.err != NULL) {
		if (bc->progress_drawn)
			fputs("\r\033[K", bc->o.err);
		bc->progress_drawn = false;
		fprintf(bc->o.err, "%s: %s: %s\n", bc->o.prog, url, msg);
		fflush(bc->o.err);
	}
}

/* Check the URL template: balanced braces around field names. */
static int
check_template(const char *tpl, struct wb_err *err)
{
	char buf[2048];
	size_t n = 0;
	const char *p, *e;
	struct wb_url u;

	for (p = tpl; *p != '\0'; p++) {
		if (*p == '}')
			return wb_err_set(err, WB_EUSAGE, "-u: '}' without '{'");
		if (*p == '{') {
			if ((e = strchr(p, '}')) == NULL || e == p + 1 ||
			    memchr(p + 1, '{', (size_t)(e - p - 1)) != NULL)
				return wb_err_set(err, WB_EUSAGE,
				    "-u: '{' without a field name and '}'");
			p = e;
			if (n < sizeof(buf) - 2)
				buf[n++] = 'x';
		} else if (n < sizeof(buf) - 2) {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	if (wb_url_parse(buf, &u, err) != WB_OK)
		return wb_err_prefix(err, "-u");
	return WB_OK;
}

char *
wb_channel_name(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;

	if ((out = malloc(3 * len + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-') {
			*o++ = (char)c;
		} else {
			*o++ = '.';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* The channel name in url: its last path segment. */
static const char *
url_channel(const char *url, size_t *len)
{
	const char *q = url + strcspn(url, "?#"), *p = q;

	while (p > url && p[-1] != '/')
		p--;
	*len = (size_t)(q - p);
	return p;
}

/* The URL of rec's channel: each {field} replaced by its channel name. A
 * value that makes no channel name the relay takes is a bad record. */
static char *
expand(const char *tpl, const json_t *rec, struct wb_err *err)
{
	struct wb_buf out = { 0 };
	size_t len;
	char name[256], *url, *enc;
	const char *p, *e, *s;

	for (p = tpl; *p != '\0'; p++) {
		if (*p != '{') {
			wb_buf_add(&out, p, 1);
			continue;
		}
		e = strchr(p, '}');
		snprintf(name, sizeof(name), "%.*s", (int)(e - p - 1), p + 1);
		p = e;
		if (wb_get_string(rec, name, &s, &len, err) != WB_OK) {
			wb_buf_free(&out);
			wb_err_prefix(err, "-u");
			return NULL;
		}
		if (len == 0) {
			wb_buf_free(&out);
			wb_err_set(err, WB_EDATA, "-u: field \"%s\" is empty: "
			    "no channel name", name);
			return NULL;
		}
		if ((enc = wb_channel_name(s, len)) == NULL) {
			wb_buf_free(&out);
			wb_err_set(err, WB_EINTERNAL, "out of memory");
			return NULL;
		}
		wb_buf_add(&out, enc, strlen(enc));
		free(enc);
	}
	if ((url = wb_buf_take(&out)) == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	url_channel(url, &len);
	if (strchr(tpl, '{') != NULL && len > WB_CHANNEL_MAX) {
		wb_err_set(err, WB_EDATA, "-u: the channel name is %zu bytes "
		    "long; the relay takes at most %d", len, WB_CHANNEL_MAX);
		free(url);
		return NULL;
	}
	return url;
}

static struct chan *channel(struct wb_bcast *bc, char *url,
    struct wb_err *err);
static bool stopping(struct wb_bcast *bc);
static bool stop_now(struct wb_bcast *bc);
static void connect_chan(struct chan *ch);
static int park(struct chan *ch, uint64_t sid, uint64_t off, size_t len);
static void unpark(struct chan *ch);

/* Where a message from the spool goes now: its channel under this run's
 * -u (the relay may have moved), or where it was first meant to go when
 * -u does not fit it. */
static char *
resume_url(struct wb_bcast *bc, const struct wb_spool_rec *r,
    struct wb_err *err)
{
	struct wb_err e = { 0 };
	char *text, *url = NULL;
	json_t *j;

	if ((text = wb_spool_read(bc->sp, r->off, r->len, err)) == NULL)
		return NULL;
	if ((j = json_loadb(text, r->len, 0, NULL)) != NULL)
		url = expand(bc->o.url, j, &e);
	json_decref(j);
	free(text);
	if (url == NULL && (url = strdup(r->url)) == NULL)
		wb_err_set(err, WB_EINTERNAL, "out of memory");
	return url;
}

/* Open the spool, and queue what an earlier run left unacked there, in
 * its order, with its own run and seq. */
static int
resume(struct wb_bcast *bc, struct wb_err *err)
{
	const struct wb_spool_rec *r;
	struct chan *ch;
	size_t n;
	char *url;

	if (bc->o.spool_max == 0)
		bc->o.spool_max = 1ULL << 30;
	if (wb_spool_open(bc->o.spool, &bc->sp, err) != WB_OK)
		return err->status;
	/* The run survives restarts, and its seqs go on. */
	if (bc->o.run == NULL && wb_spool_run(bc->sp) != NULL)
		snprintf(bc->run, sizeof(bc->run), "%s", wb_spool_run(bc->sp));
	wb_spool_set_run(bc->sp, bc->run);
	n = wb_spool_pending(bc->sp, &r);
	for (size_t i = 0; i < n; i++) {
		if ((url = resume_url(bc, &r[i], err)) == NULL)
			return err->status;
		if ((ch = channel(bc, url, err)) == NULL)
			return err->status;
		if (park(ch, r[i].id, r[i].off, r[i].len) != 0)
			return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	for (ch = bc->chans; ch != NULL; ch = ch->next) {
		unpark(ch);
		if (bc->fatal.status == 0)
			connect_chan(ch);
	}
	if (n > 0 && bc->o.err != NULL)
		fprintf(bc->o.err, "%s: --spool: sending %zu message%s an "
		    "earlier run left unacked\n", bc->o.prog, n,
		    n == 1 ? "" : "s");
	if (bc->fatal.status != 0) {
		*err = bc->fatal;
		return err->status;
	}
	return WB_OK;
}

struct wb_bcast *
wb_bcast_new(const struct wb_bcast_opts *o, struct wb_err *err)
{
	struct wb_bcast *bc;
	unsigned char r[8];

	if (wb_bcast_check(o, err) != WB_OK)
		return NULL;
	if ((bc = calloc(1, sizeof(*bc))) == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	bc->o = *o;
	if (bc->o.window == 0)
		bc->o.window = 256;
	/* The kernel's, not OpenSSL's: a dry run need not start OpenSSL. */
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		free(bc);
		wb_err_set(err, WB_EINTERNAL, "no random bytes");
		return NULL;
	}
	memcpy(&bc->rng, r, sizeof(r));
	bc->rng |= 1;
	if (o->run != NULL)
		snprintf(bc->run, sizeof(bc->run), "%s", o->run);
	else
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(bc->run + 2 * i, 3, "%02x", r[i] ^ 0x5a);
	if (o->spool != NULL && !o->dry_run && resume(bc, err) != WB_OK) {
		wb_bcast_free(bc);
		return NULL;
	}
	return bc;
}

int
wb_bcast_check(const struct wb_bcast_opts *o, struct wb_err *err)
{
	if (o->url != NULL && check_template(o->url, err) != WB_OK)
		return err->status;
	if (o->url == NULL && !o->dry_run)
		return wb_err_set(err, WB_EUSAGE, "no relay: give -u URL");
	if (o->run != NULL && (*o->run == '\0' || strlen(o->run) > 32))
		return wb_err_set(err, WB_EUSAGE, "--run: 1 to 32 characters");
	return WB_OK;
}

/* Write one message to the dead letter. */
static void
dead_letter(struct wb_bcast *bc, const char *text, size_t len)
{
	bc->status = wb_status_worst(bc->status, WB_EUNAVAIL);
	if (fwrite(text, 1, len, bc->o.dead) != len ||
	    putc('\n', bc->o.dead) == EOF || fflush(bc->o.dead) != 0) {
		if (bc->status != WB_EIO && bc->o.err != NULL)
			fprintf(bc->o.err, "%s: dead letter: %s\n", bc->o.prog,
			    strerror(errno));
		bc->status = WB_EIO;
		bc->lost++;
		return;
	}
	bc->dead++;
}

static void
entry_free(struct entry *e)
{
	free(e->text);
	free(e->type);
	free(e->run);
	memset(e, 0, sizeof(*e));
}

/* Take the oldest message of the window away. */
static void
pop(struct chan *ch)
{
	entry_free(&ch->ring[ch->head]);
	ch->head = (ch->head + 1) % ch->bc->o.window;
	ch->count--;
	if (ch->nsent > 0)
		ch->nsent--;
}

/* An entry for a message's text from the spool; false when it is not a
 * message (the journal was edited) or memory ran out. */
static bool
entry_from_text(struct entry *e, char *text, size_t len, uint64_t sid)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *run = json_string_value(json_object_get(j, "run"));
	json_t *seq = json_object_get(j, "seq");

	memset(e, 0, sizeof(*e));
	e->text = text;
	e->len = len;
	e->sid = sid;
	e->type = strdup(type ? type : "");
	e->run = strdup(run ? run : "");
	e->seq = json_is_integer(seq) ? (uint64_t)json_integer_value(seq) : 0;
	json_decref(j);
	if (e->type == NULL || e->run == NULL) {
		entry_free(e);
		return false;
	}
	return true;
}

/* Leave a message in the spool only, after those already there. */
static int
park(struct chan *ch, uint64_t sid, uint64_t off, size_t len)
{
	struct park *np;
	size_t i, n;

	if (ch->park_count == ch->park_cap) {
		n = ch->park_cap ? ch->park_cap * 2 : 256;
		if ((np = malloc(n * sizeof(*np))) == NULL)
			return -1;
		for (i = 0; i < ch->park_count; i++)
			np[i] = ch->park[(ch->park_head + i) % ch->park_cap];
		free(ch->park);
		ch->park = np;
		ch->park_head = 0;
		ch->park_cap = n;
	}
	ch->park[(ch->park_head + ch->park_count) % ch->park_cap] =
	    (struct park){ sid, off, len };
	ch->park_count++;
	return 0;
}

/* Fill the window from the spool while it has room. */
static void
unpark(struct chan *ch)
{
	struct wb_bcast *bc = ch->bc;
	struct park *p;
	struct entry e;
	char *text;

	while (ch->count < bc->o.window && ch->park_count > 0 &&
	    bc->fatal.status == 0) {
		p = &ch->park[ch->park_head];
		if ((text = wb_spool_read(bc->sp, p->off, p->len, &bc->fatal)) == NULL)
			return;
		if (!entry_from_text(&e, text, p->len, p->sid)) {
			wb_err_set(&bc->fatal, WB_EINTERNAL, "out of memory");
			return;
		}
		ch->ring[(ch->head + ch->count) % bc->o.window] = e;
		ch->count++;
		ch->park_head = (ch->park_head + 1) % ch->park_cap;
		ch->park_count--;
	}
}

/* With a spool: what is not delivered stays there for the next run. */
static void
keep_spooled(struct chan *ch)
{
	ch->bc->kept += ch->count + ch->park_count;
	while (ch->count > 0)
		pop(ch);
	ch->park_count = 0;
}

/* Hand the whole window to the dead letter, then what came after a stop. */
static void
flush_dead(struct chan *ch)
{
	struct late *l;

	if (ch->bc->sp != NULL) {
		keep_spooled(ch);
		return;
	}
	while (ch->count > 0) {
		struct entry *e = &ch->ring[ch->head];

		dead_letter(ch->bc, e->text, e->len);
		pop(ch);
	}
	while ((l = ch->late) != NULL) {
		dead_letter(ch->bc, l->text, l->len);
		ch->late = l->next;
		free(l->text);
		free(l);
	}
	ch->late_tail = &ch->late;
}

/* The oldest message was delivered: say so with -a, and let it go. */
static void
delivered(struct chan *ch)
{
	struct wb_bcast *bc = ch->bc;
	struct entry *e = &ch->ring[ch->head];
	struct wb_err err;
	json_t *j;

	bc->delivered++;
	if (bc->o.acks) {
		j = json_pack("{s:s,s:I,s:s,s:s,s:s}", "run", e->run, "seq",
		    (json_int_t)e->seq, "type", e->type, "channel", ch->url,
		    "status", "delivered");
		if (j == NULL || wb_emit(bc->o.out, j, &err) != WB_OK)
			bc->status = WB_EIO;
		json_decref(j);
	}
	if (bc->sp != NULL && e->sid != 0)
		wb_spool_ack(bc->sp, e->sid);
	pop(ch);
	if (ch->park_count > 0)
		unpark(ch);
}

/* A reply frame: the ack of the oldest message sent on this connection. */
static void
on_reply(void *ud, const uint8_t *p, size_t len)
{
	struct chan *ch = ud;

	(void)p;
	(void)len;
	if (!ch->bc->o.no_ack && ch->nsent > 0)
		delivered(ch);
}

/* The connection of ch is gone: schedule the next try. */
static void
lost(struct chan *ch, const struct wb_err *why)
{
	struct wb_bcast *bc = ch->bc;
	double now = wb_now(), d;

	wb_ws_free(ch->ws);
	ch->ws = NULL;
	ch->nsent = 0;
	ch->ping_out = 0;
	if (ch->down_since == 0)
		ch->down_since = now;
	if (why->status == WB_ECONFIG) {
		/* Asking again will not make the channel exist. */
		ch->hopeless = ch->failing = true;
		say(bc, ch->url, why->msg);
		flush_dead(ch);
		return;
	}
	if (!ch->said_down) {
		char m[600];

		snprintf(m, sizeof(m), "%s%s", why->msg,
		    stopping(bc) ? "" : "; trying again");
		say(bc, ch->url, m);
		ch->said_down = true;
	}
	d = BACKOFF_MIN * pow(2, ch->attempts < 16 ? ch->attempts : 16);
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	ch->attempts++;
	ch->next_try = now + d * (0.5 + 0.5 * rnd(bc));
}

/* Try to open ch's connection; a refusal stops the whole run. */
static void
connect_chan(struct chan *ch)
{
	struct wb_bcast *bc = ch->bc;
	struct wb_ws_handler h = { on_reply, ch };
	struct wb_ws_opts wo = bc->o.ws;
	struct wb_err err = { 0 };

	if (wo.timeout <= 0 || wo.timeout > CONNECT_TIMEOUT)
		wo.timeout = CONNECT_TIMEOUT;
	/* A stop signal gives up a connect at once; after one, a connect
	 * may take what is left of the grace, no more. */
	wo.stop = bc->o.stops;
	wo.stop_fd = bc->o.stop_fd;
	if (stopping(bc)) {
		double left = bc->stop_at + bc->o.grace - wb_now();

		if (stop_now(bc) || left <= 0) {
			ch->next_try = wb_now() + BACKOFF_MIN;
			return;
		}
		if (left < wo.timeout)
			wo.timeout = left;
	}
	if ((ch->ws = wb_ws_connect(ch->url, &wo, &h, &err)) != NULL) {
		if (ch->said_down)
			say(bc, ch->url, "connected again");
		ch->attempts = 0;
		ch->down_since = 0;
		ch->failing = ch->said_down = false;
		ch->last_ping = wb_now();
		return;
	}
	if (err.status == WB_ETEMPFAIL) {
		/* Stopped while connecting: the grace may try again. */
		if (ch->down_since == 0)
			ch->down_since = wb_now();
		ch->next_try = wb_now();
		return;
	}
	if (err.status == WB_EREFUSED || err.status == WB_EINTERNAL ||
	    err.status == WB_ENOINPUT || err.status == WB_EUSAGE) {
		bc->fatal = err;
		wb_err_prefix(&bc->fatal, ch->url);
		return;
	}
	lost(ch, &err);
}

/* Find the channel of url, making it the first time. */
static struct chan *
channel(struct wb_bcast *bc, char *url, struct wb_err *err)
{
	struct chan *ch;

	for (ch = bc->chans; ch != NULL; ch = ch->next)
		if (strcmp(ch->url, url) == 0) {
			free(url);
			return ch;
		}
	if ((ch = calloc(1, sizeof(*ch))) == NULL ||
	    (ch->ring = calloc(bc->o.window, sizeof(*ch->ring))) == NULL) {
		free(ch);
		free(url);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	ch->bc = bc;
	ch->url = url;
	ch->late_tail = &ch->late;
	if (bc->sp != NULL)
		ch->seq = wb_spool_last_seq(bc->sp, url, bc->run);
	ch->next = bc->chans;
	bc->chans = ch;
	bc->nchans++;
	return ch;
}

/* May ch send one more message in this wall-clock second? */
static bool
rate_ok(struct chan *ch)
{
	struct timespec ts;

	if (ch->bc->o.rate == 0)
		return true;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != ch->rate_sec) {
		ch->rate_sec = ts.tv_sec;
		ch->rate_used = 0;
	}
	return ch->rate_used < ch->bc->o.rate;
}

/* Queue the window's unsent messages on the connection, within the rate. */
static void
send_more(struct chan *ch)
{
	struct wb_err err;
	struct entry *e;

	while (ch->ws != NULL && ch->nsent < ch->count && rate_ok(ch)) {
		e = &ch->ring[(ch->head + ch->nsent) % ch->bc->o.window];
		if (ch->bc->sp != NULL && e->sid > wb_spool_synced(ch->bc->sp))
			return;  /* not on disk yet */
		if (wb_ws_send_text(ch->ws, e->text, e->len, &err) != WB_OK) {
			lost(ch, &err);
			return;
		}
		ch->nsent++;
		ch->rate_used++;
	}
}

/* Read and write on ch's connection. */
static void
service(struct chan *ch)
{
	struct wb_err err;

	if (wb_ws_io(ch->ws, &err) != WB_OK) {
		lost(ch, &err);
		return;
	}
	if (ch->ping_out > 0 && wb_ws_last_rx(ch->ws) >= ch->ping_out)
		ch->ping_out = 0;
	/* Without acks, a message is delivered once it is written. */
	if (ch->bc->o.no_ack && wb_ws_queued(ch->ws) == 0)
		while (ch->nsent > 0)
			delivered(ch);
}

/* Timers of one channel: reconnect, give up, ping. Next deadline out. */
static void
timers(struct chan *ch, double now, double *next)
{
	struct wb_bcast *bc = ch->bc;
	struct wb_err err;

	if (ch->ws == NULL) {
		if (ch->hopeless)
			return;
		if (ch->count == 0 && ch->park_count == 0 && !ch->failing) {
			/* Down with nothing to send: connect when there is. */
			ch->down_since = 0;
			return;
		}
		if (!ch->failing && bc->sp == NULL &&
		    now - ch->down_since >= bc->o.timeout) {
			char m[200];

			snprintf(m, sizeof(m), "unavailable for %.0f s: "
			    "messages go to the dead letter", bc->o.timeout);
			say(bc, ch->url, m);
			ch->failing = true;
			flush_dead(ch);
		}
		if (now >= ch->next_try)
			connect_chan(ch);
		if (ch->ws == NULL) {
			/* Still down (a failed try set the next one). */
			if (ch->next_try < *next)
				*next = ch->next_try;
			if (!ch->failing && bc->sp == NULL && ch->down_since > 0 &&
			    ch->down_since + bc->o.timeout < *next)
				*next = ch->down_since + bc->o.timeout;
			return;
		}
	}
	if (bc->o.ping > 0) {
		if (ch->ping_out > 0 && now - ch->ping_out >= bc->o.ping) {
			wb_err_set(&err, WB_EUNAVAIL, "ping timeout");
			lost(ch, &err);
			return;
		}
		if (now - ch->last_ping >= bc->o.ping) {
			if (wb_ws_ping(ch->ws, &err) != WB_OK) {
				lost(ch, &err);
				return;
			}
			ch->last_ping = now;
			if (ch->ping_out == 0)
				ch->ping_out = now;
		}
		if (ch->last_ping + bc->o.ping < *next)
			*next = ch->last_ping + bc->o.ping;
		if (ch->ping_out > 0 && ch->ping_out + bc->o.ping < *next)
			*next = ch->ping_out + bc->o.ping;
	}
}

/* Messages given to channels and not yet acked or dead-lettered. */
static uint64_t
unacked(const struct wb_bcast *bc)
{
	uint64_t n = 0;

	for (const struct chan *ch = bc->chans; ch != NULL; ch = ch->next) {
		n += ch->count + ch->park_count;
		for (const struct late *l = ch->late; l != NULL; l = l->next)
			n++;
	}
	return n;
}

/* True once a stop signal came; the first time, say so. */
static bool
stopping(struct wb_bcast *bc)
{
	if (bc->o.stops == NULL || *bc->o.stops == 0)
		return false;
	if (bc->stop_at == 0) {
		bc->stop_at = wb_now();
		if (bc->o.err != NULL && *bc->o.stops < 2)
			fprintf(bc->o.err, "%s: stopping on a signal: no more "
			    "input; %llu unacked message%s %g s\n",
			    bc->o.prog, (unsigned long long)unacked(bc),
			    unacked(bc) == 1 ? " gets" : "s get", bc->o.grace);
	}
	if (*bc->o.stops >= 2 && !bc->hard_said) {
		bc->hard_said = true;
		if (bc->o.err != NULL)
			fprintf(bc->o.err, "%s: a second signal: not waiting "
			    "for acks\n", bc->o.prog);
	}
	return true;
}

/* True once a second stop signal came: no more waiting at all. */
static bool
stop_now(struct wb_bcast *bc)
{
	return stopping(bc) && *bc->o.stops >= 2;
}

/* The counts so far, as the progress line and the summary say them. */
static void
counts(struct wb_bcast *bc, bool summary)
{
	unsigned long long bad = bc->o.nbad ? *bc->o.nbad : 0;

	if (bc->o.err == NULL)
		return;
	if (bc->progress_drawn)
		fputs("\r\033[K", bc->o.err);
	bc->progress_drawn = false;
	if (summary && bc->sp != NULL)
		fprintf(bc->o.err, "%s: %llu delivered, %llu dead-lettered, %llu "
		    "rejected, %llu left in the spool\n", bc->o.prog,
		    (unsigned long long)bc->delivered,
		    (unsigned long long)bc->dead, bad,
		    (unsigned long long)bc->kept);
	else if (summary)
		fprintf(bc->o.err, "%s: %llu delivered, %llu dead-lettered, %llu "
		    "rejected\n", bc->o.prog, (unsigned long long)bc->delivered,
		    (unsigned long long)bc->dead, bad);
	else
		fprintf(bc->o.err, "%s: %llu delivered, %llu unacked, %llu "
		    "dead-lettered, %llu rejected%s", bc->o.prog,
		    (unsigned long long)bc->delivered,
		    (unsigned long long)unacked(bc),
		    (unsigned long long)bc->dead, bad,
		    bc->o.progress_tty ? "" : "\n");
	bc->progress_drawn = !summary && bc->o.progress_tty;
	fflush(bc->o.err);
}

/* Draw the progress line when it is due. */
static void
progress(struct wb_bcast *bc, double now)
{
	if (!bc->o.progress || now - bc->last_progress < 1.0)
		return;
	if (bc->last_progress == 0) {
		bc->last_progress = now;  /* the first after a second */
		return;
	}
	bc->last_progress = now;
	counts(bc, false);
}

/* Room in the pollfd arrays for every channel and the input. */
static int
poll_room(struct wb_bcast *bc)
{
	size_t need = bc->nchans + 2;
	struct pollfd *p;
	struct chan **c;

	if (need <= bc->pcap)
		return 0;
	p = realloc(bc->pfd, need * 2 * sizeof(*p));
	if (p != NULL)
		bc->pfd = p;
	c = realloc(bc->pch, need * 2 * sizeof(struct chan *));
	if (c != NULL)
		bc->pch = c;
	if (p == NULL || c == NULL)
		return -1;
	bc->pcap = need * 2;
	return 0;
}

/* n bytes, or half of --spool-max if less. */
static uint64_t
spool_limit(const struct wb_bcast *bc, uint64_t n)
{
	return bc->o.spool_max / 2 < n ? bc->o.spool_max / 2 : n;
}

/* Is every channel that has messages connected? */
static bool
all_up(const struct wb_bcast *bc)
{
	for (const struct chan *ch = bc->chans; ch != NULL; ch = ch->next)
		if ((ch->count > 0 || ch->park_count > 0) && ch->ws == NULL)
			return false;
	return true;
}

/* Compact the spool, its seqs brought up to date first. */
static int
spool_compact(struct wb_bcast *bc, struct wb_err *err)
{
	for (struct chan *ch = bc->chans; ch != NULL; ch = ch->next)
		if (ch->seq > 0)
			wb_spool_note_seq(bc->sp, ch->url, bc->run, ch->seq);
	return wb_spool_compact(bc->sp, err);
}

/*
 * Drive every connection once: timers, then poll until something
 * happens, the next timer, a stop signal, or until (a wb_now() time; 0
 * for a quick look). With in_fd >= 0 it also waits for input: true when
 * it is readable.
 */
static bool
pump(struct wb_bcast *bc, double until, int in_fd)
{
	double now = wb_now(), next = until;
	bool buffered = false, rate_wait = false, in_ready = false;
	struct chan *ch;
	size_t n = 0, nch, stop_i = SIZE_MAX, in_i = SIZE_MAX;
	int ms, r;

	if (poll_room(bc) != 0) {
		wb_err_set(&bc->fatal, WB_EINTERNAL, "out of memory");
		return false;
	}
	/* The group commit: what was appended is on disk before it is sent. */
	if (bc->sp != NULL && (wb_spool_sync(bc->sp, &bc->fatal) != WB_OK ||
	    (wb_spool_size(bc->sp) > spool_limit(bc, SPOOL_COMPACT) &&
	    wb_spool_live(bc->sp) == 0 && spool_compact(bc, &bc->fatal) != WB_OK)))
		return false;
	progress(bc, now);
	if (bc->o.progress && bc->last_progress + 1.0 < next)
		next = bc->last_progress + 1.0;
	for (ch = bc->chans; ch != NULL && bc->fatal.status == 0; ch = ch->next) {
		timers(ch, now, &next);
		if (ch->ws == NULL)
			continue;
		send_more(ch);
		if (ch->ws == NULL)
			continue;
		if (ch->nsent < ch->count)
			rate_wait = true;
		if (wb_ws_buffered(ch->ws))
			buffered = true;
		bc->pfd[n].fd = wb_ws_fd(ch->ws);
		bc->pfd[n].events = wb_ws_events(ch->ws);
		bc->pfd[n].revents = 0;
		bc->pch[n++] = ch;
	}
	if (bc->fatal.status != 0)
		return false;
	nch = n;
	if (bc->o.stops != NULL && bc->o.stop_fd >= 0) {
		bc->pfd[n].fd = bc->o.stop_fd;
		bc->pfd[n].events = POLLIN;
		bc->pfd[n].revents = 0;
		stop_i = n++;
	}
	if (in_fd >= 0) {
		bc->pfd[n].fd = in_fd;
		bc->pfd[n].events = POLLIN;
		bc->pfd[n].revents = 0;
		in_i = n++;
	}
	if (rate_wait) {
		/* The rate allows more at the next wall-clock second. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (now + (1e9 - (double)ts.tv_nsec) / 1e9 < next)
			next = now + (1e9 - (double)ts.tv_nsec) / 1e9;
	}
	ms = buffered || next <= now ? 0 : isinf(next) ? -1 :
	    (int)((next - now) * 1000) + 1;
	r = poll(bc->pfd, (nfds_t)n, ms);
	if (r < 0 && errno != EINTR) {
		wb_err_set(&bc->fatal, WB_EINTERNAL, "poll: %s", strerror(errno));
		return false;
	}
	if (r > 0 && stop_i != SIZE_MAX && bc->pfd[stop_i].revents != 0) {
		char drain[64];

		while (read(bc->o.stop_fd, drain, sizeof(drain)) > 0)
			;
	}
	if (r > 0 && in_i != SIZE_MAX && bc->pfd[in_i].revents != 0)
		in_ready = true;
	for (size_t i = 0; i < nch; i++) {
		ch = bc->pch[i];
		if (bc->pfd[i].revents != 0 || wb_ws_buffered(ch->ws))
			service(ch);
		if (ch->ws != NULL)
			send_more(ch);
		if (ch->ws != NULL && (wb_ws_events(ch->ws) & POLLOUT))
			service(ch);
	}
	return in_ready;
}

/* Check or set the "run" and "seq" of a message; seq counts per channel. */
static int
stamp(struct wb_bcast *bc, struct chan *ch, json_t *rec, struct wb_err *err)
{
	json_t *run = json_object_get(rec, "run"), *seq = json_object_get(rec, "seq");
	const char *s;
	size_t len;

	/* A message from a dead letter keeps its own, so that subscribers
	 * can drop it if its first sending got through after all. */
	if (run != NULL || seq != NULL) {
		if (run == NULL || seq == NULL)
			return wb_err_set(err, WB_EDATA,
			    "\"run\" and \"seq\" come together or not at all");
		if (wb_get_string(rec, "run", &s, &len, err) != WB_OK)
			return WB_EDATA;
		if (!json_is_integer(seq) || json_integer_value(seq) < 1)
			return wb_err_set(err, WB_EDATA,
			    "field \"seq\" is not a positive whole number");
		return WB_OK;
	}
	if (json_object_set_new(rec, "run", json_string(bc->run)) != 0 ||
	    json_object_set_new(rec, "seq", json_integer((json_int_t)++ch->seq)))
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return WB_OK;
}

/* Keep a message read after a stop signal for the dead letter. */
static int
keep_late(struct chan *ch, struct entry *e, struct wb_err *err)
{
	struct late *l = malloc(sizeof(*l));

	if (l == NULL) {
		entry_free(e);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	l->text = e->text;
	l->len = e->len;
	l->next = NULL;
	e->text = NULL;
	entry_free(e);
	*ch->late_tail = l;
	ch->late_tail = &l->next;
	return WB_OK;
}

/* A full window takes input again at this many unacked messages: room
 * for a batch, not one message per ack. */
static size_t
refill_at(const struct wb_bcast *bc)
{
	return bc->o.window > SEND_BATCH ? bc->o.window - SEND_BATCH :
	    bc->o.window - 1;
}

/* With --spool: the message goes to the journal first (synced with the
 * rest of its batch before anything is sent), then to the window, or
 * stays in the spool while the window is full. */
static int
spool_enqueue(struct wb_bcast *bc, struct chan *ch, struct entry *e,
    struct wb_err *err)
{
	uint64_t off;

	if (wb_spool_add(bc->sp, ch->url, e->text, e->len, &e->sid, &off,
	    err) != WB_OK) {
		entry_free(e);
		return err->status;
	}
	/* A full window of a channel that is up: wait for its acks, as
	 * without a spool; only a channel that is down parks messages. */
	if (ch->count == bc->o.window)
		while (ch->count > refill_at(bc) && ch->park_count == 0 &&
		    ch->ws != NULL && bc->fatal.status == 0 && !stopping(bc))
			pump(bc, INFINITY, -1);
	if (stopping(bc) || ch->hopeless) {
		bc->kept++;
		entry_free(e);
	} else if (ch->count < bc->o.window && ch->park_count == 0) {
		ch->ring[(ch->head + ch->count) % bc->o.window] = *e;
		ch->count++;
	} else {
		if (park(ch, e->sid, off, e->len) != 0) {
			entry_free(e);
			return wb_err_set(err, WB_EINTERNAL, "out of memory");
		}
		entry_free(e);
	}
	if (ch->ws == NULL && ch->down_since == 0 && !ch->hopeless &&
	    bc->fatal.status == 0 && !stopping(bc)) {
		/* Not a byte goes out before the sync. */
		if (wb_spool_sync(bc->sp, &bc->fatal) == WB_OK)
			connect_chan(ch);
	}
	/* Backpressure once the journal is full, or past the roll with the
	 * relay up: acks make room, and compaction. */
	while ((wb_spool_size(bc->sp) >= bc->o.spool_max ||
	    (wb_spool_size(bc->sp) >= spool_limit(bc, SPOOL_ROLL) &&
	    all_up(bc))) && wb_spool_live(bc->sp) > 0 &&
	    bc->fatal.status == 0 && !stopping(bc))
		pump(bc, INFINITY, -1);
	if (bc->fatal.status == 0 && wb_spool_live(bc->sp) == 0 &&
	    wb_spool_size(bc->sp) > spool_limit(bc, SPOOL_COMPACT))
		spool_compact(bc, &bc->fatal);
	if (bc->fatal.status != 0) {
		*err = bc->fatal;
		bc->fatal_said = true;
		return bc->fatal.status;
	}
	return WB_OK;
}

/* Put one message, ready to send, into its channel's window. */
static int
enqueue(struct wb_bcast *bc, struct chan *ch, json_t *rec, struct wb_err *err)
{
	struct entry e = { 0 };
	struct wb_buf b = { 0 };

	/* the bytes of json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(17)),
	 * written faster */
	if (wb_json_dump(rec, 17, &b) != 0)
		wb_buf_free(&b);
	else
		e.text = wb_buf_take(&b);
	e.type = strdup(json_string_value(json_object_get(rec, "type")));
	e.run = strdup(json_string_value(json_object_get(rec, "run")));
	e.seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	if (e.text == NULL || e.type == NULL || e.run == NULL) {
		entry_free(&e);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	e.len = strlen(e.text);
	bc->taken++;
	if (bc->sp != NULL)
		return spool_enqueue(bc, ch, &e, err);
	if (ch->failing) {
		dead_letter(bc, e.text, e.len);
		entry_free(&e);
		return WB_OK;
	}
	/* Backpressure: no more input until the window has room. */
	if (ch->count == bc->o.window)
		while (ch->count > refill_at(bc) && !ch->failing &&
		    bc->fatal.status == 0 && !stopping(bc))
			pump(bc, INFINITY, -1);
	if (ch->failing) {
		dead_letter(bc, e.text, e.len);
		entry_free(&e);
	} else if (stopping(bc)) {
		/* After the window, in order: the dead letter gets both. */
		if (keep_late(ch, &e, err) != WB_OK)
			return err->status;
	} else {
		ch->ring[(ch->head + ch->count) % bc->o.window] = e;
		ch->count++;
		if (ch->ws == NULL && ch->down_since == 0 && bc->fatal.status == 0)
			connect_chan(ch);
		if (ch->count - ch->nsent >= SEND_BATCH)
			pump(bc, 0, -1);
	}
	if (bc->fatal.status != 0) {
		*err = bc->fatal;
		bc->fatal_said = true;  /* the record loop says it */
		return bc->fatal.status;
	}
	return WB_OK;
}

/*
 * Handle one record (a wb_record_fn): check it or map the mutation, give
 * it its run and seq, and send it; with dry_run, only normalize it (and
 * name its channel).
 */
int
wb_bcast_record(void *arg, json_t *rec, struct wb_err *err)
{
	struct wb_bcast *bc = arg;
	struct chan *ch;
	char *url = NULL;
	const char *name;
	size_t len;
	int st;

	st = bc->o.mutations ? wb_mutation_to_message(rec, err) :
	    wb_message_check(rec, bc->o.allow_unknown, err);
	if (st != WB_OK)
		return st;
	if (bc->o.url != NULL && (url = expand(bc->o.url, rec, err)) == NULL)
		return err->status;
	if (url == NULL && (!bc->o.dry_run || (url = strdup("")) == NULL))
		return wb_err_set(err, WB_EINTERNAL, "no URL");
	if ((ch = channel(bc, url, err)) == NULL)
		return err->status;
	if ((st = stamp(bc, ch, rec, err)) != WB_OK)
		return st;
	if (bc->o.dry_run) {
		if (bc->o.url != NULL) {
			name = url_channel(ch->url, &len);
			if (json_object_set_new(rec, "channel",
			    json_stringn(name, len)) != 0)
				return wb_err_set(err, WB_EINTERNAL,
				    "out of memory");
		}
		return WB_OK;
	}
	return enqueue(bc, ch, rec, err);
}

int
wb_bcast_wait(void *arg, int fd)
{
	struct wb_bcast *bc = arg;
	int nul;

	while (bc->fatal.status == 0) {
		if (stopping(bc)) {
			if (bc->in_closed)
				return WB_ETEMPFAIL;
			/* Read what is left of the record being read as
			 * the end of the input, so that nothing read is
			 * lost, and read no more. */
			bc->in_closed = true;
			if ((nul = open("/dev/null", O_RDONLY)) < 0)
				return WB_ETEMPFAIL;
			if (dup2(nul, fd) < 0) {
				close(nul);
				return WB_ETEMPFAIL;
			}
			close(nul);
			return WB_OK;
		}
		if (pump(bc, INFINITY, fd))
			return WB_OK;
	}
	return bc->fatal.status;
}

/* True when some channel that can still deliver has unacked messages. */
static bool
pending(const struct wb_bcast *bc)
{
	for (const struct chan *ch = bc->chans; ch != NULL; ch = ch->next)
		if ((ch->count > 0 || ch->park_count > 0) && !ch->failing)
			return true;
	return false;
}

/*
 * At the end of input: wait for every ack up to the timeout (after a stop
 * signal, up to the grace; after a second one, not at all), close each
 * connection with 1000, and write what is still unacked to the dead
 * letter. Returns the worst of status and what happened.
 */
int
wb_bcast_finish(struct wb_bcast *bc, int status)
{
	double deadline = wb_now() + bc->o.timeout, end, until;
	struct wb_err err;
	struct chan *ch;
	bool open;

	if (status == WB_OK || status == WB_EDATA || status == WB_ECHECK ||
	    status == WB_ETEMPFAIL)
		while (bc->fatal.status == 0 && pending(bc)) {
			until = deadline;
			if (stopping(bc)) {
				if (stop_now(bc))
					break;
				if (bc->stop_at + bc->o.grace < until)
					until = bc->stop_at + bc->o.grace;
			}
			if (wb_now() >= until)
				break;
			pump(bc, until, -1);
		}
	for (ch = bc->chans; ch != NULL; ch = ch->next)
		if (ch->ws != NULL)
			wb_ws_close(ch->ws, 1000);
	/* Give the relay a moment to answer the close; acks may come too. */
	end = wb_now() + CLOSE_WAIT;
	do {
		open = false;
		for (ch = bc->chans; ch != NULL; ch = ch->next) {
			if (ch->ws == NULL)
				continue;
			if (wb_ws_io(ch->ws, &err) != WB_OK) {
				wb_ws_free(ch->ws);
				ch->ws = NULL;
				ch->nsent = 0;
			} else {
				open = true;
			}
		}
		if (open && !stop_now(bc)) {
			if (poll_room(bc) == 0) {
				size_t n = 0;

				for (ch = bc->chans; ch != NULL; ch = ch->next)
					if (ch->ws != NULL) {
						bc->pfd[n].fd = wb_ws_fd(ch->ws);
						bc->pfd[n].events = wb_ws_events(ch->ws);
						bc->pfd[n++].revents = 0;
					}
				poll(bc->pfd, (nfds_t)n, 50);
			}
		}
	} while (open && !stop_now(bc) && wb_now() < end);
	for (ch = bc->chans; ch != NULL; ch = ch->next)
		flush_dead(ch);
	if (bc->sp != NULL) {
		struct wb_err serr = { 0 };

		if (wb_spool_sync(bc->sp, &serr) != WB_OK ||
		    spool_compact(bc, &serr) != WB_OK) {
			if (bc->o.err != NULL)
				fprintf(bc->o.err, "%s: %s\n", bc->o.prog, serr.msg);
			status = wb_status_worst(status, serr.status);
		}
		if (bc->kept > 0)
			status = wb_status_worst(status, WB_EUNAVAIL);
	}
	if (bc->fatal.status != 0) {
		if (!bc->fatal_said && bc->o.err != NULL)
			fprintf(bc->o.err, "%s: %s\n", bc->o.prog, bc->fatal.msg);
		status = wb_status_worst(status, bc->fatal.status);
	}
	if (bc->lost > 0 && bc->o.err != NULL)
		fprintf(bc->o.err, "%s: %llu message%s not delivered and lost: "
		    "the dead letter could not be written\n", bc->o.prog,
		    (unsigned long long)bc->lost, bc->lost == 1 ? "" : "s");
	/* A signal that cut the input short, or left messages undelivered,
	 * says so; one at the end, after every ack came, changes nothing. */
	if (stopping(bc) && (bc->in_closed || bc->dead > 0 || bc->kept > 0 ||
	    bc->lost > 0))
		status = wb_status_worst(status, WB_ETEMPFAIL);
	if (!bc->o.dry_run)
		counts(bc, true);
	return wb_status_worst(status, bc->status);
}

void
wb_bcast_free(struct wb_bcast *bc)
{
	struct chan *ch, *next;
	struct late *l;

	if (bc == NULL)
		return;
	for (ch = bc->chans; ch != NULL; ch = next) {
		next = ch->next;
		wb_ws_free(ch->ws);
		while (ch->count > 0)
			pop(ch);
		while ((l = ch->late) != NULL) {
			ch->late = l->next;
			free(l->text);
			free(l);
		}
		free(ch->ring);
		free(ch->park);
		free(ch->url);
		free(ch);
	}
	wb_spool_close(bc->sp);
	free(bc->pfd);
	free(bc->pch);
	free(bc);
}
