/* test-buf.c: the growing byte string. */
#include <stdint.h>

#include "wb_priv.h"
#include "unit.h"

static void
appends_join_and_end_in_a_nul(void)
{
	struct wb_buf b = { 0 };

	CHECK(wb_buf_adds(&b, "Ada: ") == 0);
	CHECK(wb_buf_add(&b, "hello, world", 5) == 0);
	CHECK_U(b.len, 10);
	CHECK(strcmp(b.p, "Ada: hello") == 0);
	/* Bytes are bytes: a NUL inside is kept and counted. */
	CHECK(wb_buf_add(&b, "\0x", 2) == 0);
	CHECK_U(b.len, 12);
	CHECK(memcmp(b.p, "Ada: hello\0x", 13) == 0);
	CHECK(!b.oom);
	wb_buf_free(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
}

static void
an_empty_append_allocates_nothing(void)
{
	struct wb_buf b = { 0 };

	CHECK(wb_buf_add(&b, NULL, 0) == 0);
	CHECK(wb_buf_adds(&b, "") == 0);
	CHECK(b.p == NULL && b.heap == NULL && b.len == 0);
}

static void
a_buffer_on_the_stack_moves_to_the_heap_when_full(void)
{
	char stack[8];
	struct wb_buf b = { .p = stack, .cap = sizeof(stack) };

	/* Seven bytes and the NUL fit where they are. */
	CHECK(wb_buf_adds(&b, "abcdefg") == 0);
	CHECK(b.p == stack && b.heap == NULL);
	CHECK(wb_buf_adds(&b, "h") == 0);
	CHECK(b.p != stack && b.p == b.heap);
	CHECK_U(b.len, 8);
	CHECK(strcmp(b.p, "abcdefgh") == 0);
	for (int i = 0; i < 1000; i++)
		wb_buf_adds(&b, "0123456789");
	CHECK_U(b.len, 10008);
	CHECK(memcmp(b.p + 9998, "01234567890123456789", 10) == 0);
	CHECK(b.p[b.len] == '\0');
	wb_buf_free(&b);
}

static void
take_hands_over_the_text_wherever_it_is(void)
{
	char stack[16];
	struct wb_buf s = { .p = stack, .cap = sizeof(stack) };
	struct wb_buf h = { 0 }, e = { 0 };
	char *p;

	wb_buf_adds(&s, "on the stack");
	p = wb_buf_take(&s);
	CHECK(p != NULL && p != stack && strcmp(p, "on the stack") == 0);
	CHECK(s.p == NULL && s.len == 0 && s.cap == 0 && s.heap == NULL);
	free(p);
	wb_buf_adds(&h, "on the heap");
	p = h.heap;
	CHECK(wb_buf_take(&h) == p && strcmp(p, "on the heap") == 0);
	CHECK(h.heap == NULL);
	free(p);
	/* Nothing added is the empty string, not a failure. */
	p = wb_buf_take(&e);
	CHECK(p != NULL && *p == '\0');
	free(p);
}

static void
a_failed_allocation_sticks_until_the_end(void)
{
	struct wb_buf b = { 0 };

	wb_buf_adds(&b, "kept");
	/* No allocation can hold this: the buffer says so and keeps it. */
	CHECK(wb_buf_add(&b, "x", SIZE_MAX - 2) == -1);
	CHECK(b.oom);
	CHECK(wb_buf_adds(&b, "more") == -1);
	CHECK(wb_buf_add(&b, NULL, 0) == -1);
	CHECK(!wb_buf_grow(&b, 1));
	CHECK_U(b.len, 4);
	CHECK(wb_buf_take(&b) == NULL);
	CHECK(!b.oom && b.heap == NULL);
}

int
main(void)
{
	RUN(appends_join_and_end_in_a_nul);
	RUN(an_empty_append_allocates_nothing);
	RUN(a_buffer_on_the_stack_moves_to_the_heap_when_full);
	RUN(take_hands_over_the_text_wherever_it_is);
	RUN(a_failed_allocation_sticks_until_the_end);
	return UNIT_END();
}
