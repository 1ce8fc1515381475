/* fuzz.h: what the libFuzzer harnesses share. */
#ifndef FUZZ_H
#define FUZZ_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A file holding data, for library calls that read a FILE or a path. */
static inline FILE *
fuzz_file(const uint8_t *data, size_t size, int *fd)
{
	*fd = memfd_create("fuzz", 0);
	if (*fd < 0 || write(*fd, data, size) != (ssize_t)size ||
	    lseek(*fd, 0, SEEK_SET) != 0)
		abort();
	return fdopen(*fd, "r");
}

/* Stop at once on a broken promise: libFuzzer keeps the input. */
#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: broken: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#endif
