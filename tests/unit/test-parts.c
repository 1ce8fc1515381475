/*
 * test-parts.c: counts of a file in parts, by several threads, equal the
 * one-thread counts: the texts of tests/tokenizer/corpus.jsonl joined in
 * random runs, cut into parts of random sizes (down to one byte, so that
 * nearly every cut a counter allows is taken), with every kind of counter;
 * bad UTF-8 in a part is reported at its offset in the whole file.
 */
#define _GNU_SOURCE  /* sched_getcpu, pthread_getaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "wb_priv.h"
#include "unit.h"

#define CORPUS "tests/tokenizer/corpus.jsonl"

static char *corpus;            /* every text of the corpus, joined */
static size_t corpus_len;
static size_t *starts;          /* where each text starts in corpus */
static size_t nstarts;
static FILE *file;              /* the file the counts read */
static int fd = -1;

static void
the_corpus_reads(void)
{
	FILE *f = fopen(CORPUS, "r");
	struct wb_buf b = { 0 };
	char *line = NULL;
	size_t cap = 0;
	json_error_t je;

	CHECK(f != NULL);
	while (f != NULL && getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, JSON_ALLOW_NUL, &je);
		const json_t *t = json_object_get(j, "text");

		CHECK(json_is_string(t));
		if (json_is_string(t) && wb_utf8_valid(json_string_value(t),
		    json_string_length(t)) == json_string_length(t)) {
			starts = realloc(starts, (nstarts + 1) * sizeof(*starts));
			starts[nstarts++] = b.len;
			wb_buf_add(&b, json_string_value(t), json_string_length(t));
		}
		json_decref(j);
	}
	free(line);
	if (f != NULL)
		fclose(f);
	corpus_len = b.len;
	corpus = wb_buf_take(&b);
	CHECK(corpus != NULL && nstarts > 1000);
	file = tmpfile();
	CHECK(file != NULL);
	if (file != NULL) {
		fd = fileno(file);
		CHECK(write(fd, corpus, corpus_len) == (ssize_t)corpus_len);
	}
}

/* The counters of every kind: heuristics, encodings with and without
 * special tokens, tokenizer.json files (byte-level; SentencePiece-style
 * with a ▁ in front of the text, Mistral's, and without, Gemma's). */
static struct wb_counter *
nth_counter(size_t i, char *name, size_t size)
{
	static const char *const encs[] = { "r50k_base", "cl100k_base",
	    "o200k_base", "llama3" };
	static const char *const toks[] = { "llama3_1", "gptoss", "mistral",
	    "gemma3" };
	static const enum wb_method methods[] = { WB_METHOD_HYBRID,
	    WB_METHOD_CHAR, WB_METHOD_WORD };
	struct wb_counter_spec spec;
	struct wb_err err;
	char tok[1024];
	struct wb_counter *c;

	wb_counter_spec_default(&spec);
	if (i < 3) {
		spec.method = methods[i];
		snprintf(name, size, "%s", wb_method_name(methods[i]));
	} else if ((i -= 3) < 2 * WB_NELEM(encs)) {
		snprintf(spec.encoding, sizeof(spec.encoding), "%s", encs[i / 2]);
		spec.encodings_dir = getenv("WB_ENCODINGS_DIR");
		spec.allow_special = i % 2;
		snprintf(name, size, "%s special %d", encs[i / 2], (int)(i % 2));
	} else if ((i -= 2 * WB_NELEM(encs)) < WB_NELEM(toks)) {
		snprintf(tok, sizeof(tok), "%s/%s/tokenizer.json",
		    getenv("WB_TOKENIZERS_DIR") ? getenv("WB_TOKENIZERS_DIR") :
		    ".", toks[i]);
		spec.tokenizer = tok;
		snprintf(name, size, "-T %s", toks[i]);
	} else {
		return NULL;
	}
	c = wb_counter_new(&spec, &err);
	if (c == NULL) {
		fprintf(stderr, "  %s: %s\n", name, err.msg);
		unit_failed++;
	}
	return c;
}

/* In random runs of the corpus, at random part sizes and threads, the
 * parts add up to the count of the whole. */
static void
parts_count_what_the_whole_counts(void)
{
	size_t cases = 0, bad = 0, parts = 0, kinds = 0, kind_parts;
	char name[128];
	struct wb_counter *c;

	for (size_t k = 0; fd >= 0; k++) {
		if ((c = nth_counter(k, name, sizeof(name))) == NULL) {
			if (k < 3 + 8 + 4)
				continue;
			break;
		}
		CHECK(wb_counter_splits(c));
		kinds++;
		kind_parts = parts;
		for (int r = 0; r < 24; r++) {
			size_t a = starts[unit_rand() % nstarts], b, np = 0;
			size_t part;
			unsigned threads = 1 + (unsigned)(unit_rand() % 4);
			uint64_t got = 0, want;
			struct wb_err err = { 0 };

			/* All the texts in parts of a few KB; runs of texts up to
			 * 4 KB in parts of a few bytes; up to 64 KB in parts of
			 * up to 300 bytes or 20 KB. */
			size_t most = r % 3 == 0 ? 4096 : 65536;

			if (r == 0)
				a = 0, b = corpus_len;
			else
				b = a + 1 + unit_rand() % most;
			if (b > corpus_len)
				b = corpus_len;
			while (b < corpus_len && (corpus[b] & 0xC0) == 0x80)
				b++;
			part = r == 0 ? 1000 + unit_rand() % 5000 : r % 3 == 0 ?
			    1 + unit_rand() % 8 :
			    1 + unit_rand() % (r % 3 == 1 ? 300 : 20000);
			want = wb_count(c, corpus + a, b - a);
			if (wb_count_fd_parts(c, fd, a, b - a, threads, part, &got,
			    &np, &err) != WB_OK || got != want) {
				if (bad++ < 5)
					fprintf(stderr, "  %s [%zu, %zu) parts of %zu: "
					    "%llu, whole %llu %s\n", name, a, b, part,
					    (unsigned long long)got,
					    (unsigned long long)want, err.msg);
			}
			parts += np;
			cases++;
		}
		/* Every kind is cut: 24 cases in more than 24 × 10 parts. */
		if (parts - kind_parts <= 240) {
			fprintf(stderr, "  %s: %zu parts in 24 cases\n", name,
			    parts - kind_parts);
			bad++;
		}
		wb_counter_free(c);
	}
	printf("# %zu kinds, %zu cases, %zu parts\n", kinds, cases, parts);
	CHECK(kinds >= 3 + 8);
	CHECK(parts > 100 * cases);
	CHECK_U(bad, 0);
}

/* Bad UTF-8 in a part: the parallel read falls back to one thread, which
 * reports it at its offset in the file; a good file counts the same in
 * one thread and in four, from the file's offset on. */
static void
bad_input_is_reported_at_its_file_offset(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_io io = { .prog = "test", .in_name = "t" };
	struct wb_err err = { 0 };
	uint64_t n1 = 0, n4 = 0;
	char text[4096];
	FILE *f = tmpfile();

	CHECK(f != NULL && c != NULL);
	if (f == NULL || c == NULL)
		return;
	memset(text, 'a', sizeof(text));
	for (size_t i = 0; i < sizeof(text); i += 7)
		text[i] = ' ';
	fwrite(text, 1, sizeof(text), f);
	fflush(f);
	io.in = f;
	lseek(fileno(f), 100, SEEK_SET);
	CHECK(wb_read_count_parts(&io, c, 1, 0, 64, &n1, &err) == WB_OK);
	lseek(fileno(f), 100, SEEK_SET);
	CHECK(wb_read_count_parts(&io, c, 4, 0, 64, &n4, &err) == WB_OK);
	CHECK_U(n1, sizeof(text) - 100);
	CHECK_U(n4, n1);
	CHECK_U((uint64_t)lseek(fileno(f), 0, SEEK_CUR), sizeof(text));
	/* 0xFF, in the part that ends the file */
	text[3000] = (char)0xFF;
	rewind(f);
	fwrite(text, 1, sizeof(text), f);
	fflush(f);
	lseek(fileno(f), 100, SEEK_SET);
	CHECK(wb_read_count_parts(&io, c, 4, 0, 64, &n4, &err) == WB_EDATA);
	CHECK_U(err.offset, 2900);
	CHECK(strstr(err.msg, "offset 2900") != NULL);
	fclose(f);
	wb_counter_free(c);
}

/* A kind of counter whose streams have no cuts, and which does not count
 * by statistics, is not split: one part, one thread, the same count. */
static void
a_counter_without_cuts_counts_in_one_part(void)
{
	struct wb_counter *c = per_scalar();
	struct wb_counter_ops ops;
	const struct wb_counter_ops *real;
	struct wb_err err = { 0 };
	uint64_t want, got = 0;
	size_t np = 0;

	CHECK(c != NULL && fd >= 0);
	if (c == NULL || fd < 0)
		return;
	real = c->ops;
	ops = *real;
	ops.last_cut = NULL;
	ops.by_stats = false;
	ops.stream_stats = NULL;
	c->ops = &ops;
	CHECK(!wb_counter_splits(c));
	want = wb_count(c, corpus, corpus_len);
	CHECK(wb_count_fd_parts(c, fd, 0, corpus_len, 4, 100, &got, &np,
	    &err) == WB_OK);
	CHECK_U(got, want);
	CHECK_U(np, 1);
	c->ops = real;
	wb_counter_free(c);
}

/* The real operations of a counter whose streams are counted as made. */
static const struct wb_counter_ops *real_ops;
static unsigned long streams_made;

static struct wb_count_stream *
counted_stream_new(const struct wb_counter *c)
{
	__atomic_add_fetch(&streams_made, 1, __ATOMIC_RELAXED);
	return real_ops->stream_new(c);
}

/* A thread counts all its parts with one stream, started anew at each
 * part (an encoding's keeps the words it has merged, a SentencePiece
 * one its pieces), not with a stream a part; the count is the same. */
static void
a_thread_keeps_one_stream_for_its_parts(void)
{
	/* hybrid; cl100k_base; Mistral's and Gemma's tokenizer.json */
	static const size_t kinds[] = { 0, 5, 13, 14 };
	char name[128];

	for (size_t k = 0; k < WB_NELEM(kinds) && fd >= 0; k++) {
		struct wb_counter *c = nth_counter(kinds[k], name, sizeof(name));
		struct wb_counter_ops ops;
		struct wb_err err = { 0 };
		uint64_t want, got = 0;
		size_t np = 0;

		if (c == NULL)
			continue;
		real_ops = c->ops;
		ops = *real_ops;
		ops.stream_new = counted_stream_new;
		c->ops = &ops;
		want = wb_count(c, corpus, corpus_len);
		streams_made = 0;
		CHECK(wb_count_fd_parts(c, fd, 0, corpus_len, 2, 2000, &got, &np,
		    &err) == WB_OK);
		CHECK_U(got, want);
		CHECK(np > 50);
		if (streams_made > 2)
			fprintf(stderr, "  %s: %lu streams for %zu parts\n", name,
			    streams_made, np);
		CHECK(streams_made <= 2);
		c->ops = real_ops;
		wb_counter_free(c);
	}
}

/* Where the streams of placed_stream_new were made. */
static pthread_t made_by_caller;
static int cpu_of_caller, cpu_of_other, cpus_of_other;

static struct wb_count_stream *
placed_stream_new(const struct wb_counter *c)
{
	cpu_set_t set;

	if (pthread_equal(pthread_self(), made_by_caller))
		cpu_of_caller = sched_getcpu();
	else {
		cpu_of_other = sched_getcpu();
		if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) == 0)
			cpus_of_other = CPU_COUNT(&set);
	}
	return real_ops->stream_new(c);
}

/* A second thread starts on another CPU than the caller's, not queued
 * behind it, and may then run on any CPU of the process. */
static void
threads_start_on_other_cpus_and_may_then_move(void)
{
	char name[128];
	struct wb_counter *c = nth_counter(5, name, sizeof(name));  /* cl100k */
	struct wb_counter_ops ops;
	cpu_set_t set;
	int elsewhere = 0, tries = 16, all;

	/* Valgrind runs one thread at a time, on any CPU. */
	if (getenv("WB_VALGRIND") != NULL) {
		fprintf(stderr, "  (skipped under valgrind)\n");
		wb_counter_free(c);
		return;
	}
	if (c == NULL || fd < 0 ||
	    sched_getaffinity(0, sizeof(set), &set) != 0 ||
	    (all = CPU_COUNT(&set)) < 2) {
		fprintf(stderr, "  (skipped: one CPU)\n");
		wb_counter_free(c);
		return;
	}
	real_ops = c->ops;
	ops = *real_ops;
	ops.stream_new = placed_stream_new;
	c->ops = &ops;
	for (int t = 0; t < tries; t++) {
		struct wb_err err = { 0 };
		uint64_t got = 0;

		/* The other CPUs idle, as when a count starts. */
		nanosleep(&(struct timespec){ .tv_nsec = 30000000 }, NULL);
		made_by_caller = pthread_self();
		cpu_of_caller = cpu_of_other = cpus_of_other = -1;
		CHECK(wb_count_fd_parts(c, fd, 0, corpus_len, 2, 4096, &got,
		    NULL, &err) == WB_OK);
		CHECK(cpu_of_other >= 0);
		CHECK_U((uint64_t)cpus_of_other, (uint64_t)all);
		elsewhere += cpu_of_other != cpu_of_caller;
	}
	/* A thread may move once it has started, before it makes its
	 * stream: most, not all (without the placement, about half were on
	 * the caller's CPU). */
	if (elsewhere < tries - 3)
		fprintf(stderr, "  %d of %d second threads on the caller's CPU\n",
		    tries - elsewhere, tries);
	CHECK(elsewhere >= tries - 3);
	c->ops = real_ops;
	wb_counter_free(c);
}

/* Parts are sixteen a thread, of a MiB at least. */
static void
parts_are_sixteen_a_thread_of_a_mib_at_least(void)
{
	CHECK_U(wb_parts_size(64ULL << 20, 2), 2U << 20);
	CHECK_U(wb_parts_size(75709074, 2), 75709074 / 32);
	CHECK_U(wb_parts_size(1ULL << 30, 1), 64U << 20);
	CHECK_U(wb_parts_size(64ULL << 20, 64), 1U << 20);
	CHECK_U(wb_parts_size(100, 0), 1U << 20);
}

int
main(void)
{
	unit_seed();
	RUN(the_corpus_reads);
	RUN(parts_count_what_the_whole_counts);
	RUN(bad_input_is_reported_at_its_file_offset);
	RUN(a_counter_without_cuts_counts_in_one_part);
	RUN(a_thread_keeps_one_stream_for_its_parts);
	RUN(parts_are_sixteen_a_thread_of_a_mib_at_least);
	RUN(threads_start_on_other_cpus_and_may_then_move);
	if (file != NULL)
		fclose(file);
	free(corpus);
	free(starts);
	return UNIT_END();
}
