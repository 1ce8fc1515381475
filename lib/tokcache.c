/*
 * tokcache.c: compiled tokenizers of -T and ollama: models, cached across
 * runs.  Reading a tokenizer.json takes most of a second; its compiled
 * encoding maps in a millisecond.
 *
 * A cache file is a header, a table of tagged sections and their bytes
 * (each at an offset that is a multiple of 8): an engine keeps what it
 * needs under its own tags (bpe.c: the image and what goes with it), so
 * another engine adds its tags without changing the format.  The header
 * holds what the tokenizer file was when the cache was built -- device,
 * inode, size, modification time in ns, and a hash of its first and last
 * 64 KiB -- which build of the library made it (WB_BUILD_ID, a hash of
 * its sources: another build compiles again, whatever it changed), and a
 * checksum of all that follows it: a cache of another file, of an
 * older file, of another build or version of this format, or damaged or
 * cut short, is passed over and the file compiled again.
 *
 * The files live in $XDG_CACHE_HOME/wb/tokenizers (by default
 * ~/.cache/wb/tokenizers), one per tokenizer file, named by a hash of
 * its absolute path: a changed file replaces its own cache.  A cache that
 * cannot be written costs only time.
 */
#define _DEFAULT_SOURCE  /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wb_priv.h"
#include <wb_build.h>

#ifndef WB_BUILD_ID
#define WB_BUILD_ID 0u
#endif

#ifdef MAP_POPULATE
#define POPULATE MAP_POPULATE
#else
#define POPULATE 0
#endif

#define TC_MAGIC "WBtokc\r\n"
/* Bump when a section's layout or meaning changes, in any engine. */
#define TC_VERSION 5u
#define TC_ENDIAN 0x01020304u
#define TC_PROBE ((size_t)65536) /* bytes hashed at each end of the file */
#define TC_MAX_SECTIONS 64

struct tc_head {
	char magic[8];
	uint32_t version;
	uint32_t endian;
	uint64_t dev, ino, size;   /* the tokenizer file's identity */
	int64_t sec, nsec;         /* its modification time */
	uint64_t probe;            /* hash of its first and last TC_PROBE bytes */
	uint64_t build;            /* WB_BUILD_ID of the library that wrote it */
	uint64_t sum;              /* hash of the cache file after the header */
	uint32_t n_sections;
	uint32_t pad;
	uint64_t total;            /* the size of the cache file */
};

struct tc_section {
	uint32_t tag;
	uint32_t pad;
	uint64_t at, len;
};

struct wb_tokcache {
	void *map;
	size_t len;
	const struct tc_section *sec;
	uint32_t n;
};

/* A 64-bit hash of p[0..n) from seed: four lanes of 8 bytes, so that a
 * few MB take well under a millisecond. */
static uint64_t
hash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h[4] = { seed ^ 0x9e3779b97f4a7c15u, seed ^ 0xbf58476d1ce4e5b9u,
	    seed ^ 0x94d049bb133111ebu, seed ^ (uint64_t)n };
	uint64_t w;
	size_t i;

	for (; n >= 32; s += 32, n -= 32)
		for (i = 0; i < 4; i++) {
			memcpy(&w, s + 8 * i, 8);
			h[i] = (h[i] ^ w) * 0xff51afd7ed558ccdu;
			h[i] ^= h[i] >> 32;
		}
	for (i = 0; n > 0; i = (i + 1) % 4) {
		size_t k = n < 8 ? n : 8;

		w = 0;
		memcpy(&w, s, k);
		h[i] = (h[i] ^ w ^ (uint64_t)k << 56) * 0xff51afd7ed558ccdu;
		h[i] ^= h[i] >> 32;
		s += k;
		n -= k;
	}
	w = h[0] ^ (h[1] * 0xc4ceb9fe1a85ec53u) ^ (h[2] << 17 | h[2] >> 47) ^
	    (h[3] * 0x9e3779b97f4a7c15u);
	w ^= w >> 31;
	w *= 0xbf58476d1ce4e5b9u;
	return w ^ (w >> 29);
}

/* The checksum of a cache file's body, p[0..n): in eight lanes, the sum
 * of its 8-byte words and the sum of those sums (Fletcher's), so that any
 * one word changed, or two swapped, changes it.  It is read at every
 * start, tens of MB for a large vocabulary: it must go as fast as memory
 * does, which hash() does not quite (its lanes wait on their multiplies). */
static uint64_t
checksum(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t a[8] = { 0 }, b[8] = { 0 }, d[8], w = TC_VERSION ^ (uint64_t)n;
	size_t i;

	for (; n >= sizeof(d); s += sizeof(d), n -= sizeof(d)) {
		memcpy(d, s, sizeof(d));
		for (i = 0; i < 8; i++) {
			a[i] += d[i];
			b[i] += a[i];
		}
	}
	memset(d, 0, sizeof(d));
	memcpy(d, s, n);
	for (i = 0; i < 8; i++) {
		w = (w ^ a[i] ^ d[i]) * 0xff51afd7ed558ccdu;
		w = (w ^ b[i]) * 0xc4ceb9fe1a85ec53u;
		w ^= w >> 32;
	}
	return w;
}

/* Read n bytes at off of fd into buf; false if they are not all there. */
static bool
read_at(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got,
		    off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

int
wb_tokcache_key(const char *path, struct wb_tokcache_key *k)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char real[PATH_MAX], *buf;
	struct stat st;
	size_t n;
	int fd, w;
	bool ok;

	memset(k, 0, sizeof(*k));
	if (path[0] == '/')
		w = snprintf(real, sizeof(real), "%s", path);
	else if (getcwd(real, sizeof(real)) != NULL)
		w = snprintf(real + strlen(real), sizeof(real) - strlen(real),
		    "/%s", path);
	else
		return -1;
	if (w < 0 || strlen(real) + 1 >= sizeof(real))
		return -1;
	if (x != NULL && x[0] == '/')
		w = snprintf(k->dir, sizeof(k->dir), "%s/wb/tokenizers", x);
	else if (home != NULL && home[0] == '/')
		w = snprintf(k->dir, sizeof(k->dir), "%s/.cache/wb/tokenizers",
		    home);
	else
		return -1;
	if (w < 0 || (size_t)w >= sizeof(k->dir) ||
	    snprintf(k->file, sizeof(k->file), "%s/%016llx.wbt", k->dir,
	    (unsigned long long)hash(real, strlen(real), 0)) >=
	    (int)sizeof(k->file))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (buf = malloc(2 * TC_PROBE)) == NULL) {
		close(fd);
		return -1;
	}
	/* The whole of a small file, else its first and last TC_PROBE. */
	n = (uint64_t)st.st_size <= 2 * TC_PROBE ? (size_t)st.st_size :
	    TC_PROBE;
	ok = read_at(fd, buf, n, 0) && (n == (size_t)st.st_size ||
	    read_at(fd, buf + n, TC_PROBE, st.st_size - TC_PROBE));
	close(fd);
	if (ok)
		k->probe = hash(buf, n == (size_t)st.st_size ? n : 2 * n,
		    (uint64_t)st.st_size);
	free(buf);
	k->build = (uint64_t)WB_BUILD_ID;
	k->dev = (uint64_t)st.st_dev;
	k->ino = (uint64_t)st.st_ino;
	k->size = (uint64_t)st.st_size;
	k->sec = (int64_t)st.st_mtim.tv_sec;
	k->nsec = (int64_t)st.st_mtim.tv_nsec;
	return ok ? 0 : -1;
}

/*
 * The checksum reads the whole cache, tens of MB for a large vocabulary,
 * which is most of a start-up.  Once a cache was found sound, and is old
 * enough that no write to it can keep its status-change time (ctime: the
 * kernel's clock is coarse), a stamp beside it (NAME.ok) records that
 * time with its inode, size and checksum; while the cache has all of
 * them, it was not written since it was read sound, and is mapped without
 * reading it through.  Any write, truncation or replacement of the cache
 * changes its ctime, which no program can set back: the next start reads
 * it through again.
 */
#define TC_STAMP_MAGIC "WBtoks\r\n"
#define TC_STAMP_AGE 2       /* seconds a cache is old before it is stamped */

struct tc_stamp {
	char magic[8];
	uint64_t dev, ino, size, sum;
	int64_t sec, nsec;       /* the cache file's ctime */
};

static void
stamp_path(const struct wb_tokcache_key *k, char *buf, size_t cap)
{
	size_t n = strlen(k->file);

	if (n > 4 && strcmp(k->file + n - 4, ".wbt") == 0)
		n -= 4;
	snprintf(buf, cap, "%.*s.ok", (int)n, k->file);
}

static void
stamp_of(const struct stat *st, uint64_t sum, struct tc_stamp *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->magic, TC_STAMP_MAGIC, 8);
	t->dev = (uint64_t)st->st_dev;
	t->ino = (uint64_t)st->st_ino;
	t->size = (uint64_t)st->st_size;
	t->sum = sum;
	t->sec = (int64_t)st->st_ctim.tv_sec;
	t->nsec = (int64_t)st->st_ctim.tv_nsec;
}

/* Does the stamp of k's cache vouch for the cache st, of checksum sum? */
static bool
stamped(const struct wb_tokcache_key *k, const struct stat *st, uint64_t sum)
{
	char path[sizeof(k->file) + 4];
	struct tc_stamp want, got;
	bool ok;
	int fd;

	stamp_path(k, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	ok = read_at(fd, &got, sizeof(got), 0);
	close(fd);
	stamp_of(st, sum, &want);
	return ok && memcmp(&got, &want, sizeof(got)) == 0;
}

/* Stamp k's cache st, just read sound, if it is old enough. */
static void
stamp(const struct wb_tokcache_key *k, const struct stat *st, uint64_t sum)
{
	char path[sizeof(k->file) + 4], tmp[sizeof(path) + 8];
	struct tc_stamp t;
	struct timespec now;
	bool ok;
	int fd;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    (int64_t)now.tv_sec - (int64_t)st->st_ctim.tv_sec < TC_STAMP_AGE)
		return;
	stamp_of(st, sum, &t);
	stamp_path(k, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return;
	ok = write(fd, &t, sizeof(t)) == (ssize_t)sizeof(t);
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
}

struct wb_tokcache *
wb_tokcache_open(const struct wb_tokcache_key *k)
{
	struct wb_tokcache *tc;
	const struct tc_head *h;
	const struct tc_section *sec;
	struct tc_head head;
	struct stat st;
	bool trusted;
	void *m;
	int fd = open(k->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < sizeof(*h) ||
	    (uint64_t)st.st_size > SIZE_MAX / 2 ||
	    !read_at(fd, &head, sizeof(head), 0)) {
		close(fd);
		return NULL;
	}
	/* A stamped cache is mapped as it is used; else all of it is read at
	 * once, for its checksum: map it so. */
	trusted = stamped(k, &st, head.sum);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ,
	    MAP_PRIVATE | (trusted ? 0 : POPULATE), fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	h = m;
	sec = (const struct tc_section *)(const void *)(h + 1);
	if (memcmp(h->magic, TC_MAGIC, 8) != 0 || h->version != TC_VERSION ||
	    h->endian != TC_ENDIAN || h->total != (uint64_t)st.st_size ||
	    h->dev != k->dev || h->ino != k->ino || h->size != k->size ||
	    h->sec != k->sec || h->nsec != k->nsec || h->probe != k->probe ||
	    h->build != k->build ||
	    h->n_sections > TC_MAX_SECTIONS || h->total - sizeof(*h) <
	    h->n_sections * sizeof(*sec) || h->sum != head.sum ||
	    (!trusted && checksum(h + 1, (size_t)h->total - sizeof(*h)) != h->sum))
		goto miss;
	for (uint32_t i = 0; i < h->n_sections; i++)
		if (sec[i].at % 8 != 0 || sec[i].at > h->total ||
		    sec[i].len > h->total - sec[i].at)
			goto miss;
	if ((tc = malloc(sizeof(*tc))) == NULL)
		goto miss;
	*tc = (struct wb_tokcache){ m, (size_t)st.st_size, sec,
	    h->n_sections };
	if (!trusted)
		stamp(k, &st, h->sum);
	return tc;
miss:
	munmap(m, (size_t)st.st_size);
	return NULL;
}

const void *
wb_tokcache_section(const struct wb_tokcache *tc, uint32_t tag, size_t *len)
{
	for (uint32_t i = 0; i < tc->n; i++)
		if (tc->sec[i].tag == tag) {
			*len = (size_t)tc->sec[i].len;
			return (const char *)tc->map + tc->sec[i].at;
		}
	*len = 0;
	return NULL;
}

void *
wb_tokcache_take(struct wb_tokcache *tc, size_t *len)
{
	void *m = tc->map;

	*len = tc->len;
	free(tc);
	return m;
}

void
wb_tokcache_close(struct wb_tokcache *tc)
{
	if (tc == NULL)
		return;
	munmap(tc->map, tc->len);
	free(tc);
}

/* Make dir and its parents (0700, as XDG asks of the base directory). */
static void
make_dirs(char *dir)
{
	for (char *p = dir + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(dir, 0700);
			*p = '/';
		}
	(void)mkdir(dir, 0700);
}

void
wb_tokcache_write(const struct wb_tokcache_key *k,
    const struct wb_tokcache_part *parts, size_t n)
{
	struct tc_head h = { .version = TC_VERSION, .endian = TC_ENDIAN,
	    .dev = k->dev, .ino = k->ino, .size = k->size, .sec = k->sec,
	    .nsec = k->nsec, .probe = k->probe, .build = k->build,
	    .n_sections = (uint32_t)n };
	char dir[sizeof(k->dir)], tmp[sizeof(k->file) + 8];
	unsigned char *img;
	uint64_t at;
	size_t i, done = 0;
	int fd;

	if (n == 0 || n > TC_MAX_SECTIONS || k->file[0] == '\0')
		return;
	at = sizeof(h) + n * sizeof(struct tc_section);
	for (i = 0; i < n; i++) {
		at = (at + 7) & ~(uint64_t)7;
		if (parts[i].len > SIZE_MAX / 2 - at)
			return;
		at += parts[i].len;
	}
	h.total = at;
	if ((img = calloc(1, (size_t)h.total)) == NULL)
		return;
	memcpy(h.magic, TC_MAGIC, 8);
	at = sizeof(h) + n * sizeof(struct tc_section);
	for (i = 0; i < n; i++) {
		struct tc_section s = { parts[i].tag, 0, 0, parts[i].len };

		at = (at + 7) & ~(uint64_t)7;
		s.at = at;
		memcpy(img + sizeof(h) + i * sizeof(s), &s, sizeof(s));
		if (parts[i].len > 0)
			memcpy(img + at, parts[i].p, parts[i].len);
		at += parts[i].len;
	}
	h.sum = checksum(img + sizeof(h), (size_t)h.total - sizeof(h));
	memcpy(img, &h, sizeof(h));
	memcpy(dir, k->dir, sizeof(dir));
	make_dirs(dir);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", k->file);
	if ((fd = mkstemp(tmp)) < 0) {
		free(img);
		return;
	}
	while (done < h.total) {
		ssize_t w = write(fd, img + done, (size_t)h.total - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done != h.total || rename(tmp, k->file) != 0)
		unlink(tmp);
	free(img);
}

int
wb_tokcache_tokenizer(const char *path, const struct wb_counter_spec *spec,
    const char *name, int (*build)(const char *path, void *arg,
    struct wb_compiled *out, struct wb_err *err), void *arg,
    struct wb_compiled *out, struct wb_err *err)
{
	struct wb_tokcache_key k;
	struct wb_tokcache *tc;
	bool keyed = wb_tokcache_key(path, &k) == 0;
	int rc;

	*out = (struct wb_compiled){ NULL, NULL };
	if (keyed && (tc = wb_tokcache_open(&k)) != NULL) {
		/* A cache holds the sections of one engine or the other. */
		if ((out->bpe = wb_bpe_from_cache(tc, path)) != NULL ||
		    (out->spm = wb_spm_from_cache(spec, tc, name)) != NULL)
			return WB_OK;
		wb_tokcache_close(tc);
	}
	/* The key was taken first: a file changed while it is compiled
	 * leaves a cache that the next run passes over. */
	if ((rc = build(path, arg, out, err)) != WB_OK) {
		*out = (struct wb_compiled){ NULL, NULL };
		return rc;
	}
	if (keyed && out->bpe != NULL)
		wb_bpe_to_cache(out->bpe, &k);
	else if (keyed && out->spm != NULL)
		wb_spm_to_cache(out->spm, &k);
	return WB_OK;
}
