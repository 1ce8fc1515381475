/*
 * subscribe.c: read channels of the relay, each message once. One
 * WebSocket per channel with nchan's ws+meta.nchan subprotocol, so that
 * each frame carries the relay's message id; a connection that is lost is
 * opened again with jittered backoff and Last-Event-ID, so that the relay
 * resumes after the last message read. Messages of wb-broadcast carry
 * "run" and "seq": a (channel, run, seq) seen before is dropped, a seq
 * that skips some is reported as a gap.
 *
 * Output goes out in batches, one per poll round. With a state file, each
 * batch is first written into the state (with the channels' positions
 * after it and the size of the output before it) and fsync'd, then to the
 * output: a restart after SIGKILL finishes or skips the batch by the
 * output's size, so nothing is printed twice or lost.
 */
#define _GNU_SOURCE  /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wb_priv.h"

#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 5.0
#define CONNECT_TIMEOUT 5.0
#define MAX_RUNS 16               /* runs remembered per channel */
#define BATCH_MAX (1u << 20)      /* bytes of output before a commit */
#define META_PROTOCOL "ws+meta.nchan"

/* The last seq seen of one run on a channel. */
struct run_pos {
	char *run;
	uint64_t seq;
	uint64_t used;          /* when last seen: the oldest is forgotten */
};

struct chan {
	struct wb_sub *s;
	const char *url;        /* as given */
	char *key;              /* the URL without its query: the channel */
	struct wb_ws *ws;       /* NULL while down */
	char id[128];           /* the relay's id of the last message read */
	struct run_pos runs[MAX_RUNS];
	size_t nruns;
	unsigned attempts;      /* failed connects in a row */
	double next_try;        /* when to try connecting again */
	double down_since;      /* 0 while up */
	double last_ping, ping_out;
	bool said_down;
};

struct wb_sub {
	struct wb_sub_opts o;
	struct chan *chans;
	size_t nchans;
	struct wb_buf batch;    /* output not yet written */
	bool dirty;             /* positions moved since the last save */
	json_t *others;         /* channels of the state file not given */
	uint64_t printed, gaps, uses;
	double last_msg;        /* when the last message was printed */
	bool done;              /* --count reached */
	int status;
	struct wb_err fatal;
	uint64_t rng;
	struct pollfd *pfd;
	int lock_fd;            /* FILE.lock of --state, held while running */
	sigset_t wait_mask;     /* the signal mask to wait with */
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static double
rnd(struct wb_sub *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (double)(s->rng >> 11) / 9007199254740992.0;
}

static void
say(struct wb_sub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line on the error stream. */
static void
say(struct wb_sub *s, const char *fmt, ...)
{
	va_list ap;

	if (s->o.err == NULL)
		return;
	fprintf(s->o.err, "%s: ", s->o.prog);
	va_start(ap, fmt);
	vfprintf(s->o.err, fmt, ap);
	va_end(ap);
	fputc('\n', s->o.err);
	fflush(s->o.err);
}

/* Write all of p to fd. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* The channel of a subscribe URL: the URL without its query string,
 * so that a URL signed again names the same channel. */
static char *
channel_key(const char *url)
{
	size_t n = strcspn(url, "?#");
	char *k = malloc(n + 1);

	if (k != NULL) {
		memcpy(k, url, n);
		k[n] = '\0';
	}
	return k;
}

/* True for a message id the relay could have sent: printable, no space. */
static bool
id_ok(const char *p, size_t n)
{
	if (n == 0 || n >= sizeof(((struct chan *)0)->id))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return false;
	return true;
}

/* The position of run on ch, made (forgetting the oldest) if new. */
static struct run_pos *
run_pos(struct chan *ch, const char *run, bool *fresh)
{
	struct run_pos *r, *old = &ch->runs[0];
	char *copy;

	*fresh = false;
	for (size_t i = 0; i < ch->nruns; i++) {
		r = &ch->runs[i];
		if (strcmp(r->run, run) == 0) {
			r->used = ++ch->s->uses;
			return r;
		}
		if (r->used < old->used)
			old = r;
	}
	if ((copy = strdup(run)) == NULL)
		return NULL;
	if (ch->nruns < MAX_RUNS) {
		r = &ch->runs[ch->nruns++];
	} else {
		r = old;
		free(r->run);
	}
	r->run = copy;
	r->seq = 0;
	r->used = ++ch->s->uses;
	*fresh = true;
	return r;
}

/* Split an ws+meta.nchan frame: "id: ID\n" [other "name: value\n"] "\n"
 * then the message. False when it is not one. */
static bool
split_meta(const uint8_t *p, size_t len, const char **id, size_t *idlen,
    const uint8_t **body, size_t *blen)
{
	const uint8_t *e = p + len, *nl;

	*id = NULL;
	while (p < e && *p != '\n') {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			return false;
		if (nl - p > 4 && memcmp(p, "id: ", 4) == 0) {
			*id = (const char *)p + 4;
			*idlen = (size_t)(nl - p) - 4;
		}
		p = nl + 1;
	}
	if (p == e || *id == NULL)
		return false;
	*body = p + 1;
	*blen = (size_t)(e - p - 1);
	return true;
}

/* Dedupe and gap check of one message; true when it is to be printed. */
static bool
check_seq(struct chan *ch, const json_t *msg)
{
	struct wb_sub *s = ch->s;
	const json_t *jr = json_object_get(msg, "run");
	const json_t *js = json_object_get(msg, "seq");
	struct run_pos *r;
	json_int_t seq;
	bool fresh;

	if (!json_is_string(jr) || !json_is_integer(js) ||
	    (seq = json_integer_value(js)) < 1)
		return true;  /* not from wb-broadcast: nothing to check */
	if ((r = run_pos(ch, json_string_value(jr), &fresh)) == NULL) {
		wb_err_set(&s->fatal, WB_EINTERNAL, "out of memory");
		return false;
	}
	if ((uint64_t)seq <= r->seq)
		return false;  /* a duplicate */
	if ((uint64_t)seq > r->seq + 1) {
		unsigned long long from = r->seq + 1, to = (uint64_t)seq - 1,
		    n = to - from + 1;

		say(s, "%s: gap: run %s: seq %llu to %llu missing "
		    "(%llu message%s)", ch->key, r->run, from, to, n,
		    n == 1 ? "" : "s");
		s->gaps++;
		s->status = wb_status_worst(s->status, WB_ECHECK);
	}
	r->seq = (uint64_t)seq;
	return true;
}

static int commit(struct wb_sub *s);

/* A frame from the relay: print its message unless seen before. */
static void
on_message(void *ud, const uint8_t *p, size_t len)
{
	struct chan *ch = ud;
	struct wb_sub *s = ch->s;
	const uint8_t *body;
	const char *id;
	size_t blen, idlen = 0;
	json_error_t jerr;
	json_t *msg;
	char *text;

	if (s->done || s->fatal.status != 0)
		return;
	if (!split_meta(p, len, &id, &idlen, &body, &blen) ||
	    !id_ok(id, idlen)) {
		wb_err_set(&s->fatal, WB_EUNAVAIL, "%s: a frame without the "
		    "relay's message id", ch->url);
		return;
	}
	memcpy(ch->id, id, idlen);
	ch->id[idlen] = '\0';
	s->dirty = true;
	/* json_loadb(JSON_ALLOW_NUL), faster; a value that is not an
	 * object is skipped below */
	msg = wb_json_loadb((const char *)body, blen, &jerr);
	if (!json_is_object(msg)) {
		say(s, "%s: message %s is not a JSON object; skipped", ch->key,
		    ch->id);
		s->status = wb_status_worst(s->status, WB_EDATA);
		json_decref(msg);
		return;
	}
	if (check_seq(ch, msg)) {
		if (memchr(body, '\n', blen) == NULL) {
			wb_buf_add(&s->batch, (const char *)body, blen);
		} else {
			/* One line each: a message over lines is made compact. */
			text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER |
			    JSON_REAL_PRECISION(17));
			if (text != NULL)
				wb_buf_add(&s->batch, text, strlen(text));
			free(text);
		}
		wb_buf_add(&s->batch, "\n", 1);
		s->printed++;
		s->last_msg = wb_now();
		if (s->o.count > 0 && s->printed >= s->o.count)
			s->done = true;
	}
	json_decref(msg);
	if (s->batch.len >= BATCH_MAX)
		commit(s);
}

/* The state as JSON, with pending as the batch about to be written. */
static json_t *
state_json(struct wb_sub *s, const struct stat *out, const char *pending,
    size_t plen)
{
	json_t *st, *chans, *c, *runs;
	struct chan *ch;

	st = json_object();
	chans = json_array();
	if (st == NULL || chans == NULL) {
		json_decref(st);
		json_decref(chans);
		return NULL;
	}
	json_object_set_new(st, "wb_subscribe_state", json_integer(1));
	for (size_t i = 0; i < s->nchans; i++) {
		ch = &s->chans[i];
		runs = json_array();
		for (size_t k = 0; k < ch->nruns; k++)
			json_array_append_new(runs, json_pack("{s:s,s:I,s:I}", "run",
			    ch->runs[k].run, "seq", (json_int_t)ch->runs[k].seq,
			    "used", (json_int_t)ch->runs[k].used));
		c = json_pack("{s:s,s:s,s:o}", "channel", ch->key, "id", ch->id,
		    "runs", runs);
		if (c == NULL || json_array_append_new(chans, c) != 0) {
			json_decref(st);
			json_decref(chans);
			return NULL;
		}
	}
	json_array_extend(chans, s->others);
	json_object_set_new(st, "channels", chans);
	if (out != NULL && S_ISREG(out->st_mode))
		json_object_set_new(st, "out", json_pack("{s:I,s:I,s:I}", "dev",
		    (json_int_t)out->st_dev, "ino", (json_int_t)out->st_ino,
		    "size", (json_int_t)out->st_size));
	if (plen > 0)
		json_object_set_new(st, "pending", json_stringn(pending, plen));
	return st;
}

/* Write the state file: a temporary file fsync'd, renamed over it, and
 * the directory fsync'd. */
static int
save_state(struct wb_sub *s, const struct stat *out, const char *pending,
    size_t plen)
{
	char tmp[4096], dir[4096], *slash;
	json_t *st = state_json(s, out, pending, plen);
	char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	int fd = -1, dfd, e = 0;

	json_decref(st);
	if (text == NULL)
		return wb_err_set(&s->fatal, WB_EINTERNAL, "out of memory");
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->o.state);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) ||
	    fsync(fd) != 0)
		e = errno ? errno : EIO;
	if (fd >= 0 && close(fd) != 0 && e == 0)
		e = errno;
	free(text);
	if (e == 0 && rename(tmp, s->o.state) != 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		return wb_err_set(&s->fatal, WB_EIO, "--state: %s: %s",
		    s->o.state, strerror(e));
	}
	snprintf(dir, sizeof(dir), "%s", s->o.state);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	s->dirty = false;
	return WB_OK;
}

/* Write out the batch: into the state first, then to the output. */
static int
commit(struct wb_sub *s)
{
	struct stat sb;

	if (s->batch.oom)
		return wb_err_set(&s->fatal, WB_EINTERNAL, "out of memory");
	if (s->batch.len == 0 && !s->dirty)
		return WB_OK;
	if (s->o.state != NULL) {
		if (fstat(s->o.out, &sb) != 0)
			memset(&sb, 0, sizeof(sb));
		if (save_state(s, &sb, s->batch.p, s->batch.len) != WB_OK)
			return s->fatal.status;
	}
	s->dirty = false;
	if (s->batch.len > 0 &&
	    write_all(s->o.out, s->batch.p, s->batch.len) != 0)
		return wb_err_set(&s->fatal, WB_EIO, "output: %s",
		    strerror(errno));
	s->batch.len = 0;
	return WB_OK;
}

/* Take a channel's positions from its object in the state file. */
static int
load_chan(struct chan *ch, const json_t *c)
{
	const json_t *runs = json_object_get(c, "runs"), *r;
	const char *id = json_string_value(json_object_get(c, "id"));
	size_t i;

	if (id == NULL || (id[0] != '\0' && !id_ok(id, strlen(id))) ||
	    !json_is_array(runs) || json_array_size(runs) > MAX_RUNS)
		return -1;
	snprintf(ch->id, sizeof(ch->id), "%s", id);
	json_array_foreach(runs, i, r) {
		const char *run = json_string_value(json_object_get(r, "run"));
		json_int_t seq = json_integer_value(json_object_get(r, "seq"));
		json_int_t used = json_integer_value(json_object_get(r, "used"));

		if (run == NULL || seq < 0 || used < 0 ||
		    (ch->runs[ch->nruns].run = strdup(run)) == NULL)
			return -1;
		ch->runs[ch->nruns].seq = (uint64_t)seq;
		ch->runs[ch->nruns++].used = (uint64_t)used;
		if ((uint64_t)used > ch->s->uses)
			ch->s->uses = (uint64_t)used;
	}
	return 0;
}

/*
 * What a run killed after saving its state may not have written: the
 * batch pending in it. Into the same regular file, the bytes not yet
 * there by its size; anywhere else, all of it (it may come twice).
 */
static int
finish_pending(struct wb_sub *s, const json_t *st)
{
	const json_t *out = json_object_get(st, "out");
	const json_t *pend = json_object_get(st, "pending");
	const char *p = json_string_value(pend);
	size_t len = json_string_length(pend), skip = 0;
	struct stat sb;
	json_int_t size;

	if (p == NULL || len == 0)
		return WB_OK;
	if (out != NULL && fstat(s->o.out, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    json_integer_value(json_object_get(out, "dev")) ==
	    (json_int_t)sb.st_dev &&
	    json_integer_value(json_object_get(out, "ino")) ==
	    (json_int_t)sb.st_ino) {
		size = json_integer_value(json_object_get(out, "size"));
		if ((json_int_t)sb.st_size >= size)
			skip = (json_int_t)sb.st_size - size >= (json_int_t)len ?
			    len : (size_t)(sb.st_size - size);
	}
	if (skip < len && write_all(s->o.out, p + skip, len - skip) != 0)
		return wb_err_set(&s->fatal, WB_EIO, "output: %s",
		    strerror(errno));
	return WB_OK;
}

/* Take FILE.lock of the state file: one process per state. */
static int
lock_state(struct wb_sub *s, struct wb_err *err)
{
	char path[4096];
	struct stat sb;

	/* A directory would get a lock beside it, then read as empty JSON. */
	if (stat(s->o.state, &sb) == 0 && !S_ISREG(sb.st_mode))
		return wb_err_set(err, WB_EIO, "--state: %s: not a regular file",
		    s->o.state);
	snprintf(path, sizeof(path), "%s.lock", s->o.state);
	if ((s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return wb_err_set(err, WB_EIO, "--state: %s: %s", path,
		    strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return wb_err_set(err, errno == EWOULDBLOCK ? WB_EUNAVAIL : WB_EIO,
		    "--state: %s: %s", s->o.state, errno == EWOULDBLOCK ?
		    "in use by another wb-subscribe" : strerror(errno));
	return WB_OK;
}

/* Read the state file, if there is one. */
static int
load_state(struct wb_sub *s, struct wb_err *err)
{
	json_error_t jerr;
	json_t *st, *chans, *c;
	const char *key;
	size_t i, k;

	if ((st = json_load_file(s->o.state, 0, &jerr)) == NULL) {
		if (access(s->o.state, F_OK) != 0 && errno == ENOENT)
			return WB_OK;
		return wb_err_set(err, WB_EDATA, "--state: %s: %s", s->o.state,
		    jerr.text);
	}
	chans = json_object_get(st, "channels");
	if (json_integer_value(json_object_get(st, "wb_subscribe_state")) != 1 ||
	    !json_is_array(chans))
		goto bad;
	json_array_foreach(chans, i, c) {
		if ((key = json_string_value(json_object_get(c, "channel"))) == NULL)
			goto bad;
		for (k = 0; k < s->nchans; k++)
			if (strcmp(s->chans[k].key, key) == 0)
				break;
		if (k == s->nchans) {
			json_array_append(s->others, c);
		} else if (load_chan(&s->chans[k], c) != 0) {
			goto bad;
		}
	}
	if (finish_pending(s, st) != WB_OK) {
		json_decref(st);
		*err = s->fatal;
		return err->status;
	}
	json_decref(st);
	return WB_OK;
bad:
	json_decref(st);
	return wb_err_set(err, WB_EDATA, "--state: %s: not a state file of "
	    "wb-subscribe", s->o.state);
}

struct wb_sub *
wb_sub_new(const struct wb_sub_opts *o, char **urls, size_t n,
    struct wb_err *err)
{
	struct wb_sub *s;
	struct wb_url u;
	unsigned char r[8];

	if (n == 0) {
		wb_err_set(err, WB_EUSAGE, "no URL: give the relay's subscribe "
		    "URL of each channel");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (wb_url_parse(urls[i], &u, err) != WB_OK)
			return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->chans = calloc(n, sizeof(*s->chans))) == NULL ||
	    (s->pfd = calloc(n, sizeof(*s->pfd))) == NULL ||
	    (s->others = json_array()) == NULL) {
		wb_sub_free(s);
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	s->o = *o;
	s->nchans = n;
	s->lock_fd = -1;
	for (size_t i = 0; i < n; i++) {
		s->chans[i].s = s;
		s->chans[i].url = urls[i];
		if ((s->chans[i].key = channel_key(urls[i])) == NULL) {
			wb_sub_free(s);
			wb_err_set(err, WB_EINTERNAL, "out of memory");
			return NULL;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->chans[k].key, s->chans[i].key) == 0) {
				wb_err_set(err, WB_EUSAGE, "%s: channel given twice",
				    s->chans[i].key);
				wb_sub_free(s);
				return NULL;
			}
	}
	if (getrandom(r, sizeof(r), 0) == (ssize_t)sizeof(r))
		memcpy(&s->rng, r, sizeof(r));
	s->rng |= 1;
	if (s->o.state != NULL && (lock_state(s, err) != WB_OK ||
	    load_state(s, err) != WB_OK)) {
		wb_sub_free(s);
		return NULL;
	}
	return s;
}

/* The connection of ch is gone: schedule the next try. */
static void
lost(struct chan *ch, const struct wb_err *why)
{
	struct wb_sub *s = ch->s;
	double now = wb_now(), d;

	wb_ws_free(ch->ws);
	ch->ws = NULL;
	ch->ping_out = 0;
	if (ch->down_since == 0)
		ch->down_since = now;
	if (!ch->said_down) {
		say(s, "%s: %s; trying again", ch->url, why->msg);
		ch->said_down = true;
	}
	d = BACKOFF_MIN * pow(2, ch->attempts < 16 ? ch->attempts : 16);
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	ch->attempts++;
	ch->next_try = now + d * (0.5 + 0.5 * rnd(s));
}

/* Open ch's connection, from its last message id; a refusal is fatal. */
static void
connect_chan(struct chan *ch)
{
	struct wb_sub *s = ch->s;
	struct wb_ws_handler h = { on_message, ch };
	struct wb_ws_opts wo = s->o.ws;
	struct wb_err err = { 0 };

	if (wo.timeout <= 0 || wo.timeout > CONNECT_TIMEOUT)
		wo.timeout = CONNECT_TIMEOUT;
	wo.protocol = META_PROTOCOL;
	wo.last_event_id = ch->id[0] ? ch->id : NULL;
	/* A stop signal ends a connect at once, as it ends the wait. */
	wo.stop = &got_signal;
	wo.stop_fd = -1;
	wo.sigmask = &s->wait_mask;
	if ((ch->ws = wb_ws_connect(ch->url, &wo, &h, &err)) != NULL) {
		const char *p = wb_ws_protocol(ch->ws);

		if (p == NULL || strcmp(p, META_PROTOCOL) != 0) {
			wb_err_set(&s->fatal, WB_ECONFIG, "%s: the relay does not "
			    "speak %s", ch->url, META_PROTOCOL);
			return;
		}
		if (ch->said_down)
			say(s, "%s: connected again", ch->url);
		ch->attempts = 0;
		ch->down_since = 0;
		ch->said_down = false;
		ch->last_ping = wb_now();
		return;
	}
	if (err.status == WB_ETEMPFAIL)
		return;  /* a stop signal: the run ends */
	if (err.status == WB_EREFUSED &&
	    strncmp(err.msg, "token refused: ", 15) == 0) {
		/* A subscriber sends no token: its URL is what was refused. */
		wb_err_set(&s->fatal, WB_EREFUSED, "%s: %s: the relay wants a URL "
		    "it signed (relay sign --ws CHANNEL), unexpired and unaltered",
		    ch->url, err.msg + 15);
		return;
	}
	if (err.status != WB_EUNAVAIL) {
		s->fatal = err;
		wb_err_prefix(&s->fatal, ch->url);
		return;
	}
	lost(ch, &err);
}

/* Timers of one channel: reconnect, give up, ping. Next deadline out. */
static void
timers(struct chan *ch, double now, double *next)
{
	struct wb_sub *s = ch->s;
	struct wb_err err;

	if (ch->ws == NULL) {
		if (s->o.timeout > 0 && ch->down_since > 0 &&
		    now - ch->down_since >= s->o.timeout) {
			wb_err_set(&s->fatal, WB_EUNAVAIL, "%s: unavailable for "
			    "%g s", ch->url, s->o.timeout);
			return;
		}
		if (now >= ch->next_try)
			connect_chan(ch);
		if (ch->ws == NULL) {
			if (ch->next_try < *next)
				*next = ch->next_try;
			if (s->o.timeout > 0 && ch->down_since > 0 &&
			    ch->down_since + s->o.timeout < *next)
				*next = ch->down_since + s->o.timeout;
			return;
		}
	}
	if (s->o.ping > 0) {
		if (ch->ping_out > 0 && wb_ws_last_rx(ch->ws) >= ch->ping_out)
			ch->ping_out = 0;
		if (ch->ping_out > 0 && now - ch->ping_out >= s->o.ping) {
			wb_err_set(&err, WB_EUNAVAIL, "ping timeout");
			lost(ch, &err);
			goto down;
		}
		if (now - ch->last_ping >= s->o.ping) {
			if (wb_ws_ping(ch->ws, &err) != WB_OK) {
				lost(ch, &err);
				goto down;
			}
			ch->last_ping = now;
			if (ch->ping_out == 0)
				ch->ping_out = now;
		}
		if (ch->last_ping + s->o.ping < *next)
			*next = ch->last_ping + s->o.ping;
		if (ch->ping_out > 0 && ch->ping_out + s->o.ping < *next)
			*next = ch->ping_out + s->o.ping;
	}
	return;
down:
	/* Lost here: the next try is a timer of this round too. */
	if (ch->next_try < *next)
		*next = ch->next_try;
}

/* Read and write on ch's connection. */
static void
service(struct chan *ch)
{
	struct wb_err err;

	if (wb_ws_io(ch->ws, &err) != WB_OK)
		lost(ch, &err);
}

/*
 * --idle has passed without a message: nothing new, if every channel is
 * connected; a channel down then may have had some, so the run fails as
 * unavailable (a cron job tells "nothing new" from "relay down").
 */
static void
idle_end(struct wb_sub *s)
{
	for (size_t i = 0; i < s->nchans; i++)
		if (s->chans[i].ws == NULL) {
			wb_err_set(&s->fatal, WB_EUNAVAIL, "%s: unreachable when "
			    "--idle %g s ended", s->chans[i].url, s->o.idle);
			return;
		}
}

int
wb_sub_run(struct wb_sub *s)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { 0 }, old[WB_NELEM(sigs)];
	sigset_t block, orig;
	struct timespec ts;
	double now, next;
	size_t n, i;
	int r;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < WB_NELEM(sigs); i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, &old[i]);
	}
	/* Signals come only while waiting in ppoll: never mid-batch. */
	sigprocmask(SIG_BLOCK, &block, &orig);
	s->wait_mask = orig;
	signal(SIGPIPE, SIG_IGN);
	got_signal = 0;
	s->last_msg = wb_now();
	while (!s->done && got_signal == 0 && s->fatal.status == 0) {
		now = wb_now();
		next = INFINITY;
		for (i = 0; i < s->nchans && s->fatal.status == 0 &&
		    got_signal == 0; i++)
			timers(&s->chans[i], now, &next);
		/* A signal that came while connecting ends it here. */
		if (s->fatal.status != 0 || got_signal != 0 || commit(s) != WB_OK)
			break;
		if (s->o.idle > 0) {
			if (now - s->last_msg >= s->o.idle) {
				idle_end(s);
				break;
			}
			if (s->last_msg + s->o.idle < next)
				next = s->last_msg + s->o.idle;
		}
		n = 0;
		for (i = 0; i < s->nchans; i++) {
			struct chan *ch = &s->chans[i];

			if (ch->ws != NULL && wb_ws_buffered(ch->ws))
				next = now;
			s->pfd[i].fd = ch->ws != NULL ? wb_ws_fd(ch->ws) : -1;
			s->pfd[i].events = ch->ws != NULL ? wb_ws_events(ch->ws) : 0;
			s->pfd[i].revents = 0;
			n++;
		}
		if (next > now && !isinf(next)) {
			ts.tv_sec = (time_t)(next - now);
			ts.tv_nsec = (long)((next - now - (double)ts.tv_sec) * 1e9) +
			    1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		} else {
			ts.tv_sec = ts.tv_nsec = 0;
		}
		r = ppoll(s->pfd, (nfds_t)n, isinf(next) ? NULL : &ts, &orig);
		if (r < 0 && errno != EINTR) {
			wb_err_set(&s->fatal, WB_EINTERNAL, "poll: %s",
			    strerror(errno));
			break;
		}
		for (i = 0; i < n && !s->done && s->fatal.status == 0; i++) {
			struct chan *ch = &s->chans[i];

			if (ch->ws != NULL && (s->pfd[i].revents != 0 ||
			    wb_ws_buffered(ch->ws)))
				service(ch);
			if (ch->ws != NULL && (wb_ws_events(ch->ws) & POLLOUT))
				service(ch);
		}
	}
	/* What was read is written and the state saved, whatever ended it. */
	if (s->fatal.status == 0 || s->fatal.status != WB_EIO) {
		struct wb_err keep = s->fatal;

		s->fatal.status = 0;
		if (commit(s) == WB_OK && s->o.state != NULL)
			save_state(s, NULL, NULL, 0);
		if (keep.status != 0)
			s->fatal = keep;
	}
	for (i = 0; i < s->nchans; i++) {
		wb_ws_free(s->chans[i].ws);
		s->chans[i].ws = NULL;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	for (i = 0; i < WB_NELEM(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	if (s->fatal.status != 0)
		return s->fatal.status;
	return s->status;
}

const struct wb_err *
wb_sub_error(const struct wb_sub *s)
{
	return &s->fatal;
}

uint64_t
wb_sub_gaps(const struct wb_sub *s)
{
	return s->gaps;
}

void
wb_sub_free(struct wb_sub *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->chans != NULL && i < s->nchans; i++) {
		wb_ws_free(s->chans[i].ws);
		free(s->chans[i].key);
		for (size_t k = 0; k < s->chans[i].nruns; k++)
			free(s->chans[i].runs[k].run);
	}
	free(s->chans);
	free(s->pfd);
	wb_buf_free(&s->batch);
	json_decref(s->others);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}
