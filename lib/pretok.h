/* pretok.h: the pre-tokenizers, one per tiktoken split pattern. */
#ifndef WB_PRETOK_H
#define WB_PRETOK_H

#include <stddef.h>

enum wb_pat {
	WB_PAT_R50K,    /* r50k_base, p50k_base, p50k_edit (GPT-2's pattern) */
	WB_PAT_CL100K,  /* cl100k_base */
	WB_PAT_O200K,   /* o200k_base */
	WB_PAT_LLAMA3,  /* cl100k_base's as llama.cpp has it: 'ſ is no contraction */
	WB_PAT_QWEN2,   /* cl100k_base's with \p{N} one by one (Qwen 2.5, 3) */
	WB_PAT_QWEN2_LLAMA,     /* that as llama.cpp has it */
	WB_PAT_O200K_LLAMA,     /* o200k_base's as llama.cpp's gpt-4o has it */
	WB_PAT_TEKKEN,  /* o200k_base's without contractions, \p{N} one by one */
	WB_PAT_TEKKEN_LLAMA,    /* that as llama.cpp has it */
	WB_PAT_DEEPSEEK3,       /* DeepSeek V3's three Splits */
	WB_PAT_DEEPSEEK3_LLAMA, /* those as llama.cpp has them */
	WB_PAT_GPT2_LLAMA,      /* GPT-2's as llama.cpp has it */
};
/* The _LLAMA ones and LLAMA3 class characters as llama.cpp does
 * (src/unicode-data.cpp, Unicode 15.1; letters without a-z are "upper",
 * without A-Z "lower", marks are no letters), the others by Unicode 16.0. */

/* The end of the piece that starts at s[i] (i < n), for text s[0..n) whose
 * end is the end of input: the end of the match that tiktoken's regex
 * (fancy-regex, leftmost-first) finds at i.  Always > i; the pieces of a
 * text are contiguous and cover it. */
size_t wb_pretok_next(enum wb_pat pat, const unsigned char *s, size_t n,
    size_t i);

#endif
