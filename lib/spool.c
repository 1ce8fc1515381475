/*
 * spool.c: wb-broadcast's write-ahead journal, a directory holding
 * "lock" (flock'd by the one process using the spool) and "journal",
 * an append-only file of lines:
 *
 *   m ID URLLEN URL TEXT   a message (TEXT: compact JSON, no newline)
 *   a ID                   the message ID was acknowledged
 *   s SEQ RUNLEN RUN URL   the last seq that run gave on that channel
 *   r RUN                  the spool's run id, kept across restarts
 *
 * A message is appended and fsync'd (a group of them at once) before it
 * is sent; acks are appended without a sync, since losing one only sends
 * a message again. A torn last line, from a crash, is cut off at open.
 * Once every message is acknowledged the journal is replaced by its "s"
 * lines alone, so that a run id given again goes on with its seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"

/* The seqs kept past a compaction: the newest runs'. */
#define SEQ_ROWS 4096

struct seqrow {
	char *url, *run;
	uint64_t seq;
	struct seqrow *next;
};

struct wb_spool {
	char *dir;
	int lock_fd, fd;
	uint64_t size;          /* bytes in the file */
	struct wb_buf out;      /* lines not yet written */
	bool need_sync;         /* out holds messages */
	uint64_t next_id;
	uint64_t synced;        /* the last message id on disk */
	uint64_t live;          /* messages not acknowledged */
	struct wb_spool_rec *pend;  /* unacked at open, in order */
	size_t npend;
	struct seqrow *seqs;
	char run[40];           /* the last "r" line's, or "" */
};

static char *
path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static struct seqrow *
seq_find(struct wb_spool *sp, const char *url, const char *run)
{
	for (struct seqrow *r = sp->seqs; r != NULL; r = r->next)
		if (strcmp(r->url, url) == 0 && strcmp(r->run, run) == 0)
			return r;
	return NULL;
}

void
wb_spool_note_seq(struct wb_spool *sp, const char *url, const char *run,
    uint64_t seq)
{
	struct seqrow *r = seq_find(sp, url, run);

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->url = strdup(url)) == NULL ||
		    (r->run = strdup(run)) == NULL) {
			if (r != NULL)
				free(r->url);
			free(r);
			return;
		}
		r->next = sp->seqs;
		sp->seqs = r;
	}
	if (seq > r->seq)
		r->seq = seq;
}

uint64_t
wb_spool_last_seq(struct wb_spool *sp, const char *url, const char *run)
{
	struct seqrow *r = seq_find(sp, url, run);

	return r ? r->seq : 0;
}

/* Note the run and seq of a message's text. */
static void
note_text(struct wb_spool *sp, const char *url, const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	json_t *run = json_object_get(j, "run"), *seq = json_object_get(j, "seq");

	if (json_is_string(run) && json_is_integer(seq))
		wb_spool_note_seq(sp, url, json_string_value(run),
		    (uint64_t)json_integer_value(seq));
	json_decref(j);
}

/* Read the journal: the unacked messages, the seqs, the next id. */
static int
load(struct wb_spool *sp, struct wb_err *err)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, cut = 0;
	ssize_t n;
	uint64_t off = 0, id;
	size_t ulen, i, nr = 0, rcap = 0;
	int used;
	struct wb_spool_rec *recs = NULL, *nrecs;

	if ((f = fdopen(dup(sp->fd), "r")) == NULL)
		return wb_err_set(err, WB_EIO, "--spool: %s: %s", sp->dir,
		    strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break;  /* torn: never sent */
		cut = (size_t)(off + (uint64_t)n);
		if (sscanf(line, "m %" SCNu64 " %zu %n", &id, &ulen, &used) == 2 &&
		    (size_t)used + ulen + 1 < (size_t)n && line[used + ulen] == ' ') {
			if (nr == rcap) {
				rcap = rcap ? rcap * 2 : 256;
				if ((nrecs = realloc(recs, rcap * sizeof(*recs))) == NULL)
					goto oom;
				recs = nrecs;
			}
			recs[nr].id = id;
			recs[nr].url = strndup(line + used, ulen);
			if (recs[nr].url == NULL)
				goto oom;
			recs[nr].off = off + (uint64_t)used + ulen + 1;
			recs[nr].len = (size_t)n - (size_t)used - ulen - 2;
			note_text(sp, recs[nr].url, line + used + ulen + 1,
			    recs[nr].len);
			nr++;
			if (id >= sp->next_id)
				sp->next_id = id + 1;
		} else if (line[0] == 'r' && line[1] == ' ' && n > 3 &&
		    (size_t)n - 3 < sizeof(sp->run)) {
			memcpy(sp->run, line + 2, (size_t)n - 3);
			sp->run[n - 3] = '\0';
		} else if (sscanf(line, "a %" SCNu64, &id) == 1) {
			/* Ids grow down the file: a binary search, and the
			 * acked one left as a hole (url NULL) till the end. */
			size_t lo = 0, hi = nr;

			while (lo < hi) {
				i = lo + (hi - lo) / 2;
				if (recs[i].id < id)
					lo = i + 1;
				else
					hi = i;
			}
			if (lo < nr && recs[lo].id == id && recs[lo].url != NULL) {
				free(recs[lo].url);
				recs[lo].url = NULL;
			}
		} else if (sscanf(line, "s %" SCNu64 " %zu %n", &id, &ulen,
		    &used) == 2 && (size_t)used + ulen + 1 < (size_t)n) {
			char *run = strndup(line + used, ulen);
			char *url = strndup(line + used + ulen + 1,
			    (size_t)n - (size_t)used - ulen - 2);

			if (run != NULL && url != NULL)
				wb_spool_note_seq(sp, url, run, id);
			free(run);
			free(url);
		}
		off += (uint64_t)n;
	}
	free(line);
	fclose(f);
	/* Cut a torn last line off, so that appends start clean. */
	if (cut != sp->size && ftruncate(sp->fd, (off_t)cut) != 0) {
		for (i = 0; i < nr; i++)
			free(recs[i].url);
		free(recs);
		return wb_err_set(err, WB_EIO, "--spool: %s: %s", sp->dir,
		    strerror(errno));
	}
	sp->size = cut;
	sp->synced = sp->next_id - 1;
	for (i = 0, n = 0; i < nr; i++)
		if (recs[i].url != NULL)
			recs[n++] = recs[i];
	nr = (size_t)n;
	sp->pend = recs;
	sp->npend = nr;
	sp->live = nr;
	return WB_OK;
oom:
	free(line);
	fclose(f);
	for (i = 0; i < nr; i++)
		free(recs[i].url);
	free(recs);
	return wb_err_set(err, WB_EINTERNAL, "out of memory");
}

int
wb_spool_open(const char *dir, struct wb_spool **out, struct wb_err *err)
{
	struct wb_spool *sp;
	char *p;
	struct stat st;
	char pid[32];
	ssize_t r;

	*out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return wb_err_set(err, WB_EIO, "--spool: %s: %s", dir,
		    strerror(errno));
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL) {
		free(sp);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	sp->lock_fd = sp->fd = -1;
	sp->next_id = 1;
	if ((p = path_in(dir, "lock")) == NULL)
		goto oom;
	sp->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (sp->lock_fd < 0) {
		wb_err_set(err, WB_EIO, "--spool: %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		r = pread(sp->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		wb_err_set(err, WB_ETEMPFAIL, "--spool: %s is in use by another "
		    "wb-broadcast%s%s%s; one process per spool", dir,
		    pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		goto fail;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	/* The pid is only for the message above: no error if it fails. */
	if (ftruncate(sp->lock_fd, 0) == 0 &&
	    pwrite(sp->lock_fd, pid, strlen(pid), 0) < 0)
		pid[0] = '\0';
	if ((p = path_in(dir, "journal")) == NULL)
		goto oom;
	sp->fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(p);
	if (sp->fd < 0 || fstat(sp->fd, &st) != 0) {
		wb_err_set(err, WB_EIO, "--spool: %s/journal: %s", dir,
		    strerror(errno));
		goto fail;
	}
	sp->size = (uint64_t)st.st_size;
	if (load(sp, err) != WB_OK)
		goto fail;
	*out = sp;
	return WB_OK;
oom:
	wb_err_set(err, WB_EINTERNAL, "out of memory");
fail:
	wb_spool_close(sp);
	return err->status;
}

const char *
wb_spool_run(const struct wb_spool *sp)
{
	return sp->run[0] ? sp->run : NULL;
}

void
wb_spool_set_run(struct wb_spool *sp, const char *run)
{
	if (strcmp(sp->run, run) == 0)
		return;
	snprintf(sp->run, sizeof(sp->run), "%s", run);
	wb_buf_adds(&sp->out, "r ");
	wb_buf_adds(&sp->out, sp->run);
	wb_buf_add(&sp->out, "\n", 1);
}

size_t
wb_spool_pending(struct wb_spool *sp, const struct wb_spool_rec **recs)
{
	*recs = sp->pend;
	return sp->npend;
}

int
wb_spool_add(struct wb_spool *sp, const char *url, const char *text,
    size_t len, uint64_t *id, uint64_t *off, struct wb_err *err)
{
	char head[64];
	size_t ulen = strlen(url);
	int n;

	*id = sp->next_id++;
	n = snprintf(head, sizeof(head), "m %" PRIu64 " %zu ", *id, ulen);
	if (wb_buf_add(&sp->out, head, (size_t)n) != 0 ||
	    wb_buf_add(&sp->out, url, ulen) != 0 ||
	    wb_buf_add(&sp->out, " ", 1) != 0) {
		*off = 0;
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	*off = sp->size + sp->out.len;
	if (wb_buf_add(&sp->out, text, len) != 0 ||
	    wb_buf_add(&sp->out, "\n", 1) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	sp->need_sync = true;
	sp->live++;
	return WB_OK;
}

void
wb_spool_ack(struct wb_spool *sp, uint64_t id)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "a %" PRIu64 "\n", id);

	wb_buf_add(&sp->out, line, (size_t)n);
	if (sp->live > 0)
		sp->live--;
}

int
wb_spool_sync(struct wb_spool *sp, struct wb_err *err)
{
	size_t done = 0;
	ssize_t n;

	if (sp->out.oom)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	while (done < sp->out.len) {
		n = write(sp->fd, sp->out.p + done, sp->out.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wb_err_set(err, WB_EIO, "--spool: %s/journal: %s",
			    sp->dir, strerror(errno));
		done += (size_t)n;
	}
	sp->size += sp->out.len;
	sp->out.len = 0;
	if (sp->need_sync && fdatasync(sp->fd) != 0)
		return wb_err_set(err, WB_EIO, "--spool: %s/journal: %s",
		    sp->dir, strerror(errno));
	sp->need_sync = false;
	sp->synced = sp->next_id - 1;
	return WB_OK;
}

uint64_t
wb_spool_synced(const struct wb_spool *sp)
{
	return sp->synced;
}

bool
wb_spool_dirty(const struct wb_spool *sp)
{
	return sp->need_sync;
}

char *
wb_spool_read(struct wb_spool *sp, uint64_t off, size_t len,
    struct wb_err *err)
{
	char *t = malloc(len + 1);
	size_t done = 0;
	ssize_t n;

	if (t == NULL) {
		wb_err_set(err, WB_EINTERNAL, "out of memory");
		return NULL;
	}
	while (done < len) {
		n = pread(sp->fd, t + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			wb_err_set(err, WB_EIO, "--spool: %s/journal: %s", sp->dir,
			    n == 0 ? "cut short" : strerror(errno));
			free(t);
			return NULL;
		}
		done += (size_t)n;
	}
	t[len] = '\0';
	return t;
}

uint64_t
wb_spool_size(const struct wb_spool *sp)
{
	return sp->size + sp->out.len;
}

uint64_t
wb_spool_live(const struct wb_spool *sp)
{
	return sp->live;
}

int
wb_spool_compact(struct wb_spool *sp, struct wb_err *err)
{
	struct wb_buf b = { 0 };
	char head[64], *p = NULL, *tmp = NULL;
	int fd = -1, dfd, n, st = WB_OK;
	size_t nrows = 0;

	if (sp->live != 0 || wb_spool_size(sp) == 0)
		return WB_OK;
	if (wb_spool_sync(sp, err) != WB_OK)
		return err->status;
	if (sp->run[0] != '\0') {
		wb_buf_adds(&b, "r ");
		wb_buf_adds(&b, sp->run);
		wb_buf_add(&b, "\n", 1);
	}
	for (struct seqrow *r = sp->seqs; r != NULL && nrows++ < SEQ_ROWS;
	    r = r->next) {
		n = snprintf(head, sizeof(head), "s %" PRIu64 " %zu ", r->seq,
		    strlen(r->run));
		wb_buf_add(&b, head, (size_t)n);
		wb_buf_adds(&b, r->run);
		wb_buf_add(&b, " ", 1);
		wb_buf_adds(&b, r->url);
		wb_buf_add(&b, "\n", 1);
	}
	if (b.oom || (p = path_in(sp->dir, "journal")) == NULL ||
	    (tmp = path_in(sp->dir, "journal.new")) == NULL) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto out;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || (b.len > 0 && write(fd, b.p, b.len) != (ssize_t)b.len) ||
	    fdatasync(fd) != 0 || rename(tmp, p) != 0) {
		st = wb_err_set(err, WB_EIO, "--spool: %s: %s", tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if ((dfd = open(sp->dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	close(sp->fd);
	sp->fd = fd;
	sp->size = b.len;
out:
	wb_buf_free(&b);
	free(p);
	free(tmp);
	return st;
}

void
wb_spool_close(struct wb_spool *sp)
{
	struct seqrow *r;

	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	for (size_t i = 0; i < sp->npend; i++)
		free(sp->pend[i].url);
	free(sp->pend);
	while ((r = sp->seqs) != NULL) {
		sp->seqs = r->next;
		free(r->url);
		free(r->run);
		free(r);
	}
	wb_buf_free(&sp->out);
	free(sp->dir);
	free(sp);
}
