/* pretok.h: the pre-tokenizers, one per tiktoken split pattern. */
#ifndef WB_PRETOK_H
#define WB_PRETOK_H

#include <stddef.h>

enum wb_pat {
	WB_PAT_R50K,    /* r50k_base, p50k_base, p50k_edit (GPT-2's pattern) */
	WB_PAT_CL100K,  /* cl100k_base */
	WB_PAT_O200K,   /* o200k_base */
	WB_PAT_LLAMA3,  /* cl100k_base's as llama.cpp has it: 'ſ is no contraction */
};

/* The end of the piece that starts at s[i] (i < n), for text s[0..n) whose
 * end is the end of input: the end of the match that tiktoken's regex
 * (fancy-regex, leftmost-first) finds at i.  Always > i; the pieces of a
 * text are contiguous and cover it. */
size_t wb_pretok_next(enum wb_pat pat, const unsigned char *s, size_t n,
    size_t i);

#endif
