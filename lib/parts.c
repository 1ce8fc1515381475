/*
 * parts.c: the count of a large regular file, in parts counted by several
 * threads at once.  The parts end where a counter's stream may cut the
 * text (wb_counter_left_cut; each part after the first counted as going
 * on from it) or, for counters by statistics, anywhere between
 * characters; each part is read with pread in pieces, so memory stays
 * that of a stream per thread, whatever the size of the file.
 */
#define _GNU_SOURCE  /* sched_getcpu, pthread_attr_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"

#define PIECE 65536     /* bytes a part reads at a time */
#define WINDOW 65536    /* bytes before a part's nominal end searched for a cut */
#define PART_MIN (1u << 20)  /* the smallest part wb_parts_size makes */

/* pread all of buf[0..n) from off; false on an error or a short file. */
static bool
read_at(int fd, char *buf, size_t n, uint64_t off, int *eno)
{
	ssize_t r;

	while (n > 0) {
		do
			r = pread(fd, buf, n, (off_t)off);
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			*eno = r < 0 ? errno : EIO;
			return false;
		}
		buf += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return true;
}

/*
 * The end of the part that starts at prev and should end near nominal
 * (prev < nominal < end): the last cut at or before nominal, no further
 * back than WINDOW, or 0 when there is none there (the part goes on to
 * the next nominal end).  buf holds WINDOW + lookback + 8 bytes.
 */
static uint64_t
part_end(const struct wb_counter *c, int fd, char *buf, uint64_t prev,
    uint64_t nominal, uint64_t end, int *eno)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t look = wb_counter_lookback(c) + 3, from, to, n, cut;
	uint64_t ws = nominal - prev > WINDOW ? nominal - WINDOW : prev;
	uint64_t rs = ws - prev > look ? ws - look : prev;
	uint64_t re = end - nominal > 4 ? nominal + 4 : end;

	if (wb_counter_by_stats(c)) {
		/* Statistics concatenate between any two characters: the
		 * start of the one at nominal, at most 3 bytes back. */
		rs = nominal - prev > 3 ? nominal - 3 : prev;
		if (!read_at(fd, buf, (size_t)(nominal + 1 - rs), rs, eno))
			return UINT64_MAX;
		to = (size_t)(nominal - rs);
		while (to > 0 && (s[to] & 0xC0) == 0x80)
			to--;
		return rs + to > prev ? rs + to : 0;
	}
	n = (size_t)(re - rs);
	if (!read_at(fd, buf, n, rs, eno))
		return UINT64_MAX;
	to = (size_t)(nominal - rs);
	/* The search starts at a character: s[0] starts the text (rs is
	 * prev) or lies at least the lookback before from (3 bytes more
	 * were read for the start of the character). */
	while (rs > prev && rs < nominal && (s[0] & 0xC0) == 0x80) {
		s++;
		rs++;
		to--;
	}
	from = ws > rs ? (size_t)(ws - rs) : 0;
	while (to > from && (s[to] & 0xC0) == 0x80)
		to--;
	if (to <= from)
		return 0;
	cut = wb_counter_left_cut(c, (const char *)s, from, to);
	return cut > 0 ? rs + cut : 0;
}

/* The work of the threads: parts to take in turn, and their results. */
struct job {
	const struct wb_counter *c;
	int fd;
	const uint64_t *at;            /* part i is [at[i], at[i + 1]) */
	size_t nparts;
	uint64_t *count;               /* each part's count */
	struct wb_text_stats *stats;   /* each part's statistics, or NULL */
	pthread_mutex_t lock;
	size_t next;                   /* the next part to take */
	int status;                    /* the first failure, or WB_OK */
	struct wb_err err;             /* its message */
	bool placed;                   /* the threads start off this CPU */
	pthread_t first;               /* the calling thread */
	cpu_set_t cpus;                /* the CPUs the process may use */
};

/*
 * Count part i with the thread's stream *csp (made here if NULL, left
 * for the next part); WB_OK or a status with err set.  A stream goes on
 * from part to part where its kind can start anew (an encoding's stream
 * keeps the words it has merged: a cache cold at every part cost about
 * a millisecond a part of English with cl100k_base).
 */
static int
count_part(struct job *j, size_t i, char *buf, struct wb_count_stream **csp,
    struct wb_err *err)
{
	struct wb_count_stream *cs = *csp;
	uint64_t off = j->at[i], end = j->at[i + 1];
	size_t n;
	int st = WB_OK, eno = 0;

	if (cs != NULL && !wb_count_stream_reset(cs)) {
		wb_count_stream_free(cs);
		cs = NULL;
	}
	if (cs == NULL && (cs = wb_count_stream_new(j->c)) == NULL) {
		*csp = NULL;
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	*csp = cs;
	if (i > 0)
		wb_count_stream_go_on(cs);
	while (off < end && st == WB_OK) {
		n = end - off < PIECE ? (size_t)(end - off) : PIECE;
		if (!read_at(j->fd, buf, n, off, &eno))
			st = wb_err_set(err, WB_EIO, "%s", strerror(eno));
		else
			st = wb_count_stream_feed(cs, buf, n, err);
		off += n;
	}
	if (st == WB_OK)
		st = wb_count_stream_end(cs, &j->count[i], err);
	if (st == WB_OK && j->stats != NULL)
		j->stats[i] = *wb_count_stream_stats(cs);
	return st;
}

/*
 * Attributes that start the threads on the CPUs other than this one, or
 * NULL to let the system place them.  Left to itself, Linux may queue a
 * new thread on the CPU of the thread that made it, busy with the first
 * part, until a balancing pass moves it to an idle CPU: measured on a
 * 2-CPU virtual machine, a loop of 27 ms on one thread took 21 ms on two
 * (1.3x), and 16 ms (1.7x) with the second thread started elsewhere.
 * Each thread then widens its affinity back to the process's.
 */
static pthread_attr_t *
place(struct job *j, pthread_attr_t *attr)
{
	cpu_set_t other;
	int me = sched_getcpu();

	if (me < 0 || me >= CPU_SETSIZE ||
	    sched_getaffinity(0, sizeof(j->cpus), &j->cpus) != 0 ||
	    !CPU_ISSET(me, &j->cpus) || CPU_COUNT(&j->cpus) < 2)
		return NULL;
	other = j->cpus;
	CPU_CLR(me, &other);
	if (pthread_attr_init(attr) != 0)
		return NULL;
	if (pthread_attr_setaffinity_np(attr, sizeof(other), &other) != 0) {
		pthread_attr_destroy(attr);
		return NULL;
	}
	j->first = pthread_self();
	j->placed = true;
	return attr;
}

/* A thread: take parts until none is left or one has failed. */
static void *
worker(void *arg)
{
	struct job *j = arg;
	struct wb_count_stream *cs = NULL;
	struct wb_err err;
	char *buf = malloc(PIECE);
	size_t i;
	int st = buf ? WB_OK : WB_EINTERNAL;

	/* Started on another CPU than the first thread's, a thread may go
	 * anywhere from then on. */
	if (j->placed && !pthread_equal(pthread_self(), j->first))
		pthread_setaffinity_np(pthread_self(), sizeof(j->cpus),
		    &j->cpus);
	memset(&err, 0, sizeof(err));
	if (buf == NULL)
		wb_err_set(&err, WB_EINTERNAL, "out of memory");
	for (;;) {
		pthread_mutex_lock(&j->lock);
		if (st != WB_OK && j->status == WB_OK) {
			j->status = st;
			j->err = err;
		}
		i = j->next < j->nparts && j->status == WB_OK ? j->next++ :
		    SIZE_MAX;
		pthread_mutex_unlock(&j->lock);
		if (i == SIZE_MAX)
			break;
		st = count_part(j, i, buf, &cs, &err);
	}
	wb_count_stream_free(cs);
	free(buf);
	return NULL;
}

bool
wb_counter_splits(const struct wb_counter *c)
{
	return wb_counter_by_stats(c) || wb_counter_can_cut(c);
}

int
wb_count_fd_parts(const struct wb_counter *c, int fd, uint64_t off,
    uint64_t len, unsigned threads, size_t part, uint64_t *count,
    size_t *nparts, struct wb_err *err)
{
	struct job j = { .c = c, .fd = fd };
	uint64_t *at = NULL, end = off + len, e, total = 0;
	pthread_t *tid = NULL;
	struct wb_text_stats st;
	unsigned nt = 0;
	size_t max, n = 1;
	char *buf = NULL;
	int eno = 0;

	if (part == 0)
		part = 1;
	if (threads == 0)
		threads = 1;
	if (!wb_counter_splits(c))
		part = len > 0 ? len : 1;
	max = (size_t)(len / part) + 2;
	if ((at = malloc(max * sizeof(*at))) == NULL ||
	    (buf = calloc(1, WINDOW + wb_counter_lookback(c) + 8)) == NULL) {
		free(at);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	at[0] = off;
	for (uint64_t nominal = off + part; nominal < end; nominal += part) {
		if (nominal <= at[n - 1])
			continue;
		e = part_end(c, fd, buf, at[n - 1], nominal, end, &eno);
		if (e == UINT64_MAX) {
			free(at);
			free(buf);
			return wb_err_set(err, WB_EIO, "%s", strerror(eno));
		}
		if (e > at[n - 1])
			at[n++] = e;
	}
	at[n] = end;
	free(buf);
	j.at = at;
	j.nparts = n;
	j.count = calloc(n, sizeof(*j.count));
	j.stats = wb_counter_by_stats(c) ? calloc(n, sizeof(*j.stats)) : NULL;
	if (j.count == NULL || (wb_counter_by_stats(c) && j.stats == NULL)) {
		free(j.count);
		free(j.stats);
		free(at);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	pthread_mutex_init(&j.lock, NULL);
	if (threads > n)
		threads = (unsigned)n;
	if (threads > 1 && (tid = calloc(threads - 1, sizeof(*tid))) != NULL) {
		pthread_attr_t attr, *ap = place(&j, &attr);

		for (; nt < threads - 1; nt++)
			if (pthread_create(&tid[nt], ap, worker, &j) != 0)
				break;  /* fewer threads do the same work */
		if (ap != NULL)
			pthread_attr_destroy(ap);
	}
	worker(&j);
	for (unsigned t = 0; t < nt; t++)
		pthread_join(tid[t], NULL);
	free(tid);
	pthread_mutex_destroy(&j.lock);
	if (j.status == WB_OK && j.stats != NULL) {
		st = j.stats[0];
		for (size_t i = 1; i < n; i++)
			st = wb_text_stats_cat(st, j.stats[i]);
		total = wb_text_stats_count(&c->spec, &st);
	} else if (j.status == WB_OK) {
		for (size_t i = 0; i < n; i++)
			total = j.count[i] > WB_MAX_TOKENS - total ?
			    WB_MAX_TOKENS : total + j.count[i];
	}
	free(j.count);
	free(j.stats);
	free(at);
	if (j.status != WB_OK) {
		*err = j.err;
		return j.status;
	}
	*count = total;
	if (nparts != NULL)
		*nparts = n;
	return WB_OK;
}

/*
 * Sixteen parts a thread, of a MiB at least.  The threads take the parts
 * in turn, and the last to end waits for no more than one part: equal
 * bytes are not equal work (a script of more tokens a byte, a core that
 * its host lends elsewhere), and with four parts a thread the wait was
 * up to a quarter of a thread's share.  A part costs a cut search (a
 * window before it, for an encoding; its last character, for the
 * heuristics) and nothing more: a thread's stream goes on.
 */
size_t
wb_parts_size(uint64_t len, unsigned threads)
{
	uint64_t part = len / ((uint64_t)(threads > 0 ? threads : 1) * 16);

	if (part < PART_MIN)
		part = PART_MIN;
	return part > SIZE_MAX ? SIZE_MAX : (size_t)part;
}

/* The threads a count of a large file uses by default: one a CPU. */
static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

int
wb_read_count_parts(const struct wb_io *io, const struct wb_counter *c,
    unsigned threads, uint64_t min, size_t part, uint64_t *count,
    struct wb_err *err)
{
	int fd = fileno(io->in), st;
	struct stat sb;
	off_t pos;
	uint64_t len;

	if (threads == 0)
		threads = online_cpus();
	if (threads < 2 || !wb_counter_splits(c) || fstat(fd, &sb) != 0 ||
	    !S_ISREG(sb.st_mode) || (pos = lseek(fd, 0, SEEK_CUR)) < 0 ||
	    sb.st_size < pos || (uint64_t)(sb.st_size - pos) < min)
		return wb_read_count(io, c, count, err);
	len = (uint64_t)(sb.st_size - pos);
	if (part == 0)
		part = wb_parts_size(len, threads);
	st = wb_count_fd_parts(c, fd, (uint64_t)pos, len, threads, part, count,
	    NULL, err);
	if (st == WB_OK) {
		lseek(fd, pos + (off_t)len, SEEK_SET);
		return WB_OK;
	}
	/* Bad input (or a file that changed): the one-thread count says
	 * where, at its offset in the whole text. */
	if (lseek(fd, pos, SEEK_SET) < 0)
		return wb_err_set(err, WB_EIO, "%s: %s", io->in_name,
		    strerror(errno));
	memset(err, 0, sizeof(*err));
	return wb_read_count(io, c, count, err);
}

int
wb_read_count_parallel(const struct wb_io *io, const struct wb_counter *c,
    unsigned threads, uint64_t *count, struct wb_err *err)
{
	return wb_read_count_parts(io, c, threads, WB_PARALLEL_MIN, 0, count,
	    err);
}
