/* buf.c: the one growing byte string of the library. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

/*
 * Room for n more bytes and a NUL. On failure b->oom is set and no room
 * is left, so that every later append fails too.
 */
bool
wb_buf_grow(struct wb_buf *b, size_t n)
{
	size_t need, cap;
	char *p = NULL;

	if (b->oom)
		return false;
	if (n < b->cap - b->len)
		return true;
	if (n <= SIZE_MAX / 2 - b->len - 1) {
		need = b->len + n + 1;
		cap = b->cap * 2;
		if (cap < need)
			cap = need * 2;
		if (b->heap != NULL) {
			p = realloc(b->heap, cap);
		} else if ((p = malloc(cap)) != NULL && b->len > 0) {
			/* The first bytes may be on the caller's stack. */
			memcpy(p, b->p, b->len);
		}
	}
	if (p == NULL) {
		b->oom = true;
		b->cap = b->len;
		return false;
	}
	b->p = b->heap = p;
	b->cap = cap;
	return true;
}

int
wb_buf_adds(struct wb_buf *b, const char *s)
{
	return wb_buf_add(b, s, strlen(s));
}

/*
 * The text, NUL-terminated, for the caller to own and free ("" when
 * nothing was added); b is empty again. NULL only when out of memory.
 */
char *
wb_buf_take(struct wb_buf *b)
{
	char *p;

	if (b->oom) {
		wb_buf_free(b);
		return NULL;
	}
	if ((p = b->heap) == NULL && (p = malloc(b->len + 1)) != NULL) {
		if (b->len > 0)
			memcpy(p, b->p, b->len);
		p[b->len] = '\0';
	}
	memset(b, 0, sizeof(*b));
	return p;
}

void
wb_buf_free(struct wb_buf *b)
{
	free(b->heap);
	memset(b, 0, sizeof(*b));
}
