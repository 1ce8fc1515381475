/* gguf_vocab.c: the tokenizer in a GGUF file, as llama.cpp builds it
 * (src/llama-vocab.cpp), for the byte-level BPE ones (model "gpt2") whose
 * pre-tokenizer pretok.c has.
 *
 * The tokens (tokenizer.ggml.tokens) are in GPT-2's byte alphabet, the
 * merges (tokenizer.ggml.merges) "A B" by rank; hf.c's builder turns them
 * into an encoding merged by rank = id.  Token types
 * (tokenizer.ggml.token_type) mark the tokens split out of the text
 * before it is pre-tokenized, by their text as written: control and
 * unknown ones (3, 2) only with allow_special, user-defined ones (4)
 * always, as llama.cpp's tokenizer_st_partition does with parse_special.
 * No token is added at the start (no BOS).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wb_priv.h"

enum { TYPE_NORMAL = 1, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_USER, TYPE_UNUSED };

/*
 * The tokenizer.ggml.pre names whose split in llama.cpp is one that
 * pretok.c has, and whether llama.cpp takes a piece that is a token whole
 * (ignore_merges).  llama.cpp splits LLAMA3, DBRX, SMAUG and CHATGLM4 by
 * "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}
 * \p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|
 * \s+" (cl100k_base's, contractions in ASCII only), QWEN2 by the same with
 * \p{N} for \p{N}{1,3}, GPT2, MPT, OLMO, JAIS, TRILLION, GRANITE_DOCLING by
 * GPT-2's, DEEPSEEK3_LLM by DeepSeek V3's three, GPT4O and TEKKEN by
 * o200k_base's and Tekken's with letters but a-z for the upper-case class
 * and letters but A-Z for the lower-case one (so marks are no part of a
 * word), all with the character classes of its own Unicode tables
 * (15.1).  Others are refused.
 */
static const struct {
	const char *name;
	enum wb_pat pat;
	bool ignore_merges;
} pres[] = {
	{ "llama3", WB_PAT_LLAMA3, true },
	{ "llama-v3", WB_PAT_LLAMA3, true },
	{ "llama-bpe", WB_PAT_LLAMA3, true },
	{ "falcon3", WB_PAT_LLAMA3, true },
	{ "falcon-h1", WB_PAT_LLAMA3, true },
	{ "pixtral", WB_PAT_LLAMA3, true },
	{ "midm-2.0", WB_PAT_LLAMA3, true },
	{ "lfm2", WB_PAT_LLAMA3, true },
	{ "jina-v5-nano", WB_PAT_LLAMA3, true },
	{ "dbrx", WB_PAT_LLAMA3, false },
	{ "smaug-bpe", WB_PAT_LLAMA3, false },
	{ "glm4", WB_PAT_LLAMA3, false },
	{ "chatglm-bpe", WB_PAT_LLAMA3, false },
	{ "qwen2", WB_PAT_QWEN2_LLAMA, false },
	{ "deepseek-r1-qwen", WB_PAT_QWEN2_LLAMA, false },
	{ "kormo", WB_PAT_QWEN2_LLAMA, false },
	{ "f2llmv2", WB_PAT_QWEN2_LLAMA, false },
	{ "megrez", WB_PAT_QWEN2_LLAMA, false },
	{ "deepseek-v3", WB_PAT_DEEPSEEK3_LLAMA, false },
	{ "gpt-4o", WB_PAT_O200K_LLAMA, false },
	{ "llama4", WB_PAT_O200K_LLAMA, false },
	{ "tekken", WB_PAT_TEKKEN_LLAMA, true },
	{ "gpt-2", WB_PAT_GPT2_LLAMA, false },
	{ "phi-2", WB_PAT_GPT2_LLAMA, false },
	{ "jina-es", WB_PAT_GPT2_LLAMA, false },
	{ "jina-de", WB_PAT_GPT2_LLAMA, false },
	{ "gigachat", WB_PAT_GPT2_LLAMA, false },
	{ "jina-v2-es", WB_PAT_GPT2_LLAMA, false },
	{ "jina-v2-de", WB_PAT_GPT2_LLAMA, false },
	{ "a.x-4.0", WB_PAT_GPT2_LLAMA, false },
	{ "mellum", WB_PAT_GPT2_LLAMA, false },
	{ "modern-bert", WB_PAT_GPT2_LLAMA, false },
	{ "exaone4", WB_PAT_GPT2_LLAMA, false },
	{ "jina-v1-en", WB_PAT_GPT2_LLAMA, false },
	{ "jina-v2-code", WB_PAT_GPT2_LLAMA, false },
	{ "roberta-bpe", WB_PAT_GPT2_LLAMA, false },
	{ "mpt", WB_PAT_GPT2_LLAMA, false },
	{ "olmo", WB_PAT_GPT2_LLAMA, false },
	{ "jais", WB_PAT_GPT2_LLAMA, false },
	{ "trillion", WB_PAT_GPT2_LLAMA, false },
	{ "granite-docling", WB_PAT_GPT2_LLAMA, false },
};

/* Is the GGUF string g the C string s? */
static bool
is(struct wb_gguf_str g, const char *s)
{
	return g.len == strlen(s) && memcmp(g.s, s, g.len) == 0;
}

/* The model and pre-tokenizer: the pres[] row, or -1 with err set. */
static int
kind(const struct wb_gguf *g, const char *path, struct wb_err *err)
{
	struct wb_gguf_str model, pre;

	if (wb_gguf_type(g, "tokenizer.ggml.model", NULL, NULL) < 0) {
		wb_err_set(err, WB_EDATA, "%s: no tokenizer in the file "
		    "(no tokenizer.ggml.model)", path);
		return -1;
	}
	if (wb_gguf_str(g, "tokenizer.ggml.model", &model, err) != WB_OK)
		return -1;
	if (!is(model, "gpt2")) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer model %.*s is not "
		    "supported (only gpt2, byte-level BPE, and llama, "
		    "SentencePiece-style BPE)", path,
		    (int)(model.len > 100 ? 100 : model.len), model.s);
		return -1;
	}
	if (wb_gguf_type(g, "tokenizer.ggml.pre", NULL, NULL) < 0) {
		wb_err_set(err, WB_EDATA, "%s: pre-tokenizer default (no "
		    "tokenizer.ggml.pre) is not supported", path);
		return -1;
	}
	if (wb_gguf_str(g, "tokenizer.ggml.pre", &pre, err) != WB_OK)
		return -1;
	for (size_t i = 0; i < WB_NELEM(pres); i++)
		if (is(pre, pres[i].name))
			return (int)i;
	wb_err_set(err, WB_EDATA, "%s: pre-tokenizer %.*s is not supported "
	    "(only those llama.cpp splits as Llama 3, Qwen 2, DeepSeek V3, "
	    "gpt-4o, Tekken or GPT-2 do)", path,
	    (int)(pre.len > 100 ? 100 : pre.len), pre.s);
	return -1;
}

/* Split merge i "A B" at its first space after the first byte, as
 * llama.cpp does, into out[0..2). */
static int
split_merges(const char *path, const struct wb_gguf_str *m, size_t n,
    struct wb_gguf_str *out, struct wb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *sp = m[i].len > 1 ?
		    memchr(m[i].s + 1, ' ', m[i].len - 1) : NULL;

		if (sp == NULL)
			return wb_err_set(err, WB_EDATA, "%s: merge %zu is not "
			    "two byte-level tokens", path, i);
		out[2 * i] = (struct wb_gguf_str){ m[i].s, (size_t)(sp - m[i].s) };
		out[2 * i + 1] = (struct wb_gguf_str){ sp + 1,
		    m[i].len - (size_t)(sp - m[i].s) - 1 };
	}
	return WB_OK;
}

/* The vocabulary of tokens by their types: the ordinary ones stay, the
 * ones split out first become added tokens and leave the vocabulary. */
static int
by_type(const char *path, struct wb_gguf_str *tok, size_t n,
    const int32_t *type, size_t n_type, struct wb_bpe_added *added,
    size_t *n_added, struct wb_err *err)
{
	if (type != NULL && n_type < n)
		return wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.token_type "
		    "has %zu types for %zu tokens", path, n_type, n);
	*n_added = 0;
	for (size_t i = 0; i < n; i++) {
		int t = type != NULL ? type[i] : TYPE_NORMAL;

		if (t != TYPE_UNKNOWN && t != TYPE_CONTROL && t != TYPE_USER)
			continue;
		if (tok[i].len != 0 && memchr(tok[i].s, '\0', tok[i].len) == NULL)
			added[(*n_added)++] = (struct wb_bpe_added){ tok[i].s,
			    tok[i].len, (uint32_t)i, t != TYPE_USER, 0 };
		tok[i].len = 0;
	}
	return WB_OK;
}

struct wb_bpe *
wb_gguf_bpe_open(const char *path, struct wb_err *err)
{
	struct wb_gguf *g;
	struct wb_gguf_str *tok = NULL, *merges = NULL, *pairs = NULL;
	struct wb_bpe_added *added = NULL;
	struct wb_gguf_str name;
	int32_t *type = NULL;
	size_t n_tok = 0, n_merges = 0, n_type = 0, n_added = 0;
	struct wb_bpe *b = NULL;
	int k;

	if ((g = wb_gguf_open(path, err)) == NULL)
		return NULL;
	if ((k = kind(g, path, err)) < 0 ||
	    wb_gguf_strv(g, "tokenizer.ggml.tokens", &tok, &n_tok, err) != WB_OK ||
	    wb_gguf_strv(g, "tokenizer.ggml.merges", &merges, &n_merges,
	    err) != WB_OK ||
	    (wb_gguf_type(g, "tokenizer.ggml.token_type", NULL, NULL) >= 0 &&
	    wb_gguf_i32v(g, "tokenizer.ggml.token_type", &type, &n_type,
	    err) != WB_OK))
		goto out;
	if (n_tok == 0 || n_tok >= 1u << 26) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.tokens: %zu "
		    "tokens", path, n_tok);
		goto out;
	}
	/* llama.cpp strips the spaces after the tokens of a model it knows
	 * as Phi-3's by its name (spm.c does so for model llama). */
	if (wb_gguf_type(g, "general.name", NULL, NULL) == WB_GGUF_STRING &&
	    wb_gguf_str(g, "general.name", &name, err) == WB_OK)
		for (size_t i = 0; i + 4 <= name.len; i++)
			if (strncasecmp(name.s + i, "phi3", 4) == 0 ||
			    (i + 5 <= name.len &&
			    strncasecmp(name.s + i, "phi-3", 5) == 0)) {
				wb_err_set(err, WB_EDATA, "%s: a byte-level "
				    "model named Phi-3 is not supported", path);
				goto out;
			}
	pairs = malloc((2 * n_merges + 1) * sizeof(*pairs));
	added = malloc(n_tok * sizeof(*added));
	if (pairs == NULL || added == NULL) {
		wb_err_set(err, WB_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	if (split_merges(path, merges, n_merges, pairs, err) != WB_OK ||
	    by_type(path, tok, n_tok, type, n_type, added, &n_added,
	    err) != WB_OK)
		goto out;
	b = wb_bytelevel_bpe(&(struct wb_bytelevel){ .name = path,
	    .tokens_key = "tokenizer.ggml.tokens", .pat = pres[k].pat,
	    .tok = tok, .n_ids = (uint32_t)n_tok, .merges = pairs,
	    .n_merges = n_merges, .added = added, .n_added = n_added,
	    .merge_whole = !pres[k].ignore_merges }, err);
out:
	free(tok);
	free(merges);
	free(pairs);
	free(added);
	free(type);
	wb_gguf_free(g);
	return b;
}
