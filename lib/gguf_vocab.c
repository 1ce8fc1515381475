/* gguf_vocab.c: the tokenizer in a GGUF file, as llama.cpp builds it
 * (src/llama-vocab.cpp), for the byte-level BPE ones (model "gpt2") whose
 * pre-tokenizer pretok.c has.
 *
 * The tokens (tokenizer.ggml.tokens) are in GPT-2's byte alphabet, the
 * merges (tokenizer.ggml.merges) "A B" by rank; hf.c's builder turns them
 * into an encoding merged by rank = id.  Token types
 * (tokenizer.ggml.token_type), as llama.cpp changes them by the tokens'
 * texts when it loads the file (wb_gguf_final_types, which spm.c's GGUF
 * reader uses too), mark the tokens split out of the text before it is
 * pre-tokenized, by their text as written: control and unknown ones (3,
 * 2) only with allow_special, user-defined ones (4) always, as llama.cpp's
 * tokenizer_st_partition does with parse_special.  No token is added at
 * the start (no BOS).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wb_priv.h"

enum { TYPE_NORMAL = 1, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_USER, TYPE_UNUSED,
    TYPE_BYTE };

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

/*
 * The types llama.cpp (llama_vocab::impl::load) gives tokens in the end,
 * by their texts, whatever the file says.  Tokens are found by their text
 * as the file writes it; where a text is there twice, the last id, as in
 * llama.cpp's token_to_id.
 */
#define NONE UINT32_MAX

/* The texts of end of generation (made control), then gpt-oss's (made
 * user-defined), then the others the rules look at. */
static const char *const eog[] = { "<|eot_id|>", "<|im_end|>", "<|end|>",
    "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
    "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
    "<|tool_response>",
    /* <｜end▁of▁sentence｜>, in octal: a hex escape would run on. */
    "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>",
    "[e~[" };
static const char *const user[] = { "<|channel|>", "<|message|>",
    "<|start|>", "<|constrain|>" };

/*
 * The fill-in-the-middle roles: the keys that set their ids, and the
 * texts llama.cpp makes control for a role no key sets, at most 8.
 */
#define FW "\xef\xbd\x9c" /* ｜ */
#define LB "\xe2\x96\x81" /* ▁ */
static const struct {
	const char *key[2];
	const char *text[8];
} fim[] = {
	{ { "tokenizer.ggml.fim_pre_token_id",
	    "tokenizer.ggml.prefix_token_id" },
	  { "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
	    "<" FW "fim" LB "begin" FW ">", "<PRE>", LB "<PRE>",
	    "<|code_prefix|>", "<|prefix|>" } },
	{ { "tokenizer.ggml.fim_suf_token_id",
	    "tokenizer.ggml.suffix_token_id" },
	  { "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
	    "<" FW "fim" LB "hole" FW ">", "<SUF>", LB "<SUF>",
	    "<|code_suffix|>", "<|suffix|>" } },
	{ { "tokenizer.ggml.fim_mid_token_id",
	    "tokenizer.ggml.middle_token_id" },
	  { "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
	    "<" FW "fim" LB "end" FW ">", "<MID>", LB "<MID>",
	    "<|code_middle|>", "<|middle|>" } },
	{ { "tokenizer.ggml.fim_pad_token_id" },
	  { "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]" } },
	{ { "tokenizer.ggml.fim_rep_token_id" },
	  { "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
	    "<reponame>" } },
	{ { "tokenizer.ggml.fim_sep_token_id" }, { "<|file_sep|>" } },
};
#undef FW
#undef LB

/* The ids of the texts the rules look at. */
struct known {
	const char *text[80];
	size_t len[80];
	uint32_t id[80];
	size_t n_text;
};

static void
know(struct known *k, const char *text)
{
	if (text != NULL && k->n_text < WB_NELEM(k->text)) {
		k->text[k->n_text] = text;
		k->len[k->n_text] = strlen(text);
		k->id[k->n_text++] = NONE;
	}
}

/* The id of text, or NONE. */
static uint32_t
id_of(const struct known *k, const char *text)
{
	for (size_t j = 0; j < k->n_text; j++)
		if (strcmp(k->text[j], text) == 0)
			return k->id[j];
	return NONE;
}

static void
find_known(struct known *k, const struct wb_gguf_str *tok, size_t n)
{
	static const char *const other[] = { "<unk>", "<s>", "<mask>",
	    "[MASK]" };
	uint8_t by_len[64], next[WB_NELEM(k->text)];

	for (size_t j = 0; j < WB_NELEM(eog); j++)
		know(k, eog[j]);
	for (size_t j = 0; j < WB_NELEM(user); j++)
		know(k, user[j]);
	for (size_t j = 0; j < WB_NELEM(other); j++)
		know(k, other[j]);
	for (size_t r = 0; r < WB_NELEM(fim); r++)
		for (size_t j = 0; j < WB_NELEM(fim[r].text); j++)
			know(k, fim[r].text[j]);
	/* Every text starts with <, [, _ or ▁< (most of SentencePiece's
	 * words start with ▁) and is shorter than 64 bytes; a token is
	 * compared with the texts of its length only (by_len[l], a list
	 * through next, ending in 0xff). */
	memset(by_len, 0xff, sizeof(by_len));
	for (size_t j = 0; j < k->n_text; j++) {
		next[j] = by_len[k->len[j]];
		by_len[k->len[j]] = (uint8_t)j;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = tok[i].s;
		size_t l = tok[i].len;

		if (l >= 64 || by_len[l] == 0xff ||
		    (p[0] != '<' && p[0] != '[' && p[0] != '_' &&
		    !(l > 4 && memcmp(p, "\xe2\x96\x81<", 4) == 0)))
			continue;
		for (uint8_t j = by_len[l]; j != 0xff; j = next[j])
			if (memcmp(p, k->text[j], l) == 0)
				k->id[j] = (uint32_t)i;
	}
}

/* Does a token of type ty stay out of the text before it is split? */
static bool
split_out(int ty)
{
	return ty == TYPE_UNKNOWN || ty == TYPE_CONTROL || ty == TYPE_USER;
}

/* Does the type ty stay as it is when llama.cpp marks its token control? */
static bool
controls(int ty)
{
	return ty == TYPE_CONTROL || ty == TYPE_UNKNOWN;
}

/* Is the fill-in-the-middle role r's id set by a key, to a token? */
static int
fim_set(const struct wb_gguf *g, const char *path, size_t r, size_t n,
    bool *set, struct wb_err *err)
{
	*set = false;
	for (size_t j = 0; j < WB_NELEM(fim[r].key) && fim[r].key[j]; j++) {
		uint32_t id;

		if (wb_gguf_type(g, fim[r].key[j], NULL, NULL) < 0)
			continue;
		if (wb_gguf_u32(g, fim[r].key[j], &id, err) != WB_OK)
			return wb_err_set(err, WB_EDATA, "%s: %s is not a token "
			    "id", path, fim[r].key[j]);
		*set = *set || id < n;
	}
	return WB_OK;
}

/* Does the string key of g have sub in it (in any case with nocase)? */
static bool
has(const struct wb_gguf *g, const char *key, const char *sub, bool nocase)
{
	struct wb_gguf_str v;
	struct wb_err e = { 0 };
	size_t l = strlen(sub);

	if (wb_gguf_type(g, key, NULL, NULL) != WB_GGUF_STRING ||
	    wb_gguf_str(g, key, &v, &e) != WB_OK)
		return false;
	for (size_t i = 0; i + l <= v.len; i++)
		if (nocase ? strncasecmp(v.s + i, sub, l) == 0 :
		    memcmp(v.s + i, sub, l) == 0)
			return true;
	return false;
}

/* The strips llama.cpp gives tokens of a model it knows by its names:
 * the first of these that applies. */
enum rule { RULE_NONE, RULE_JINA, RULE_PHI3, RULE_MODERN_BERT };

static enum rule
model_rule(const struct wb_gguf *g)
{
	static const char *const pre[] = { "jina-v2-de", "jina-v2-es",
	    "jina-v2-code" };
	static const char *const arch[] = { "nomic-bert-moe", "jina-bert-v3" };

	for (size_t j = 0; j < WB_NELEM(pre); j++)
		if (has(g, "tokenizer.ggml.pre", pre[j], false))
			return RULE_JINA;
	for (size_t j = 0; j < WB_NELEM(arch); j++)
		if (has(g, "general.architecture", arch[j], false))
			return RULE_JINA;
	if (has(g, "general.name", "phi3", true) ||
	    has(g, "general.name", "phi-3", true))
		return RULE_PHI3;
	if (has(g, "general.name", "modern-bert", true))
		return RULE_MODERN_BERT;
	return RULE_NONE;
}

bool
wb_gguf_phi3(const struct wb_gguf *g)
{
	return model_rule(g) == RULE_PHI3;
}

int
wb_gguf_final_types(const struct wb_gguf *g, const char *path,
    const struct wb_gguf_str *tok, size_t n, uint8_t *type, uint8_t *strip,
    struct wb_err *err)
{
	struct known *k = calloc(1, sizeof(*k));
	enum rule rule;
	const char *mask;
	uint32_t id;
	int rc = WB_OK;

	if (k == NULL)
		return wb_err_set(err, WB_EINTERNAL, "%s: out of memory", path);
	find_known(k, tok, n);
	/* Fill in the middle: for a role no key sets, the first of its
	 * texts llama.cpp meets in its hash table's order becomes control.
	 * That order is its C++ library's: where several texts of a role
	 * are there and one is not control already, which of them it makes
	 * control is not known here, and all keep their types. */
	for (size_t r = 0; r < WB_NELEM(fim); r++) {
		size_t m = 0, odd = 0;
		uint32_t last = NONE;
		bool set;

		if ((rc = fim_set(g, path, r, n, &set, err)) != WB_OK)
			goto out;
		for (size_t j = 0; !set && j < WB_NELEM(fim[r].text) &&
		    fim[r].text[j] != NULL; j++)
			if ((id = id_of(k, fim[r].text[j])) != NONE) {
				m++;
				odd += !controls(type[id]);
				last = id;
			}
		if (m == 1 && odd == 1)
			type[last] = TYPE_CONTROL;
	}
	for (size_t j = 0; j < WB_NELEM(eog); j++)
		if ((id = id_of(k, eog[j])) != NONE && !controls(type[id]))
			type[id] = TYPE_CONTROL;
	for (size_t j = 0; j < WB_NELEM(user); j++)
		if ((id = id_of(k, user[j])) != NONE)
			type[id] = TYPE_USER;
	/* o200k_harmony, solar-open: <|end|> does not end generation */
	if ((id = id_of(k, "<|end|>")) != NONE &&
	    (id_of(k, "<|call|>") != NONE || id_of(k, "<|calls|>") != NONE) &&
	    (id_of(k, "<|return|>") != NONE || id_of(k, "<|flush|>") != NONE))
		type[id] = TYPE_USER;
	/* Gemma 4 */
	if ((id = id_of(k, "</s>")) != NONE &&
	    id_of(k, "<|tool_response>") != NONE)
		type[id] = TYPE_NORMAL;
	/* A jina or modern-bert model: <mask> or [MASK] strips the spaces on
	 * its left, as llama.cpp's isspace() has them, which is not done. */
	rule = model_rule(g);
	mask = rule == RULE_JINA ? "<mask>" : rule == RULE_MODERN_BERT ?
	    "[MASK]" : NULL;
	if (mask != NULL && (id = id_of(k, mask)) != NONE &&
	    split_out(type[id])) {
		rc = wb_err_set(err, WB_EDATA, "%s: a model whose %s llama.cpp "
		    "strips the spaces before (jina, modern-bert, by its "
		    "names) is not supported", path, mask);
		goto out;
	}
	if (strip == NULL)
		goto out;
	memset(strip, 0, n);
	/* A model whose name has "phi3" or "phi-3" in any case: every token
	 * llama.cpp splits out strips the spaces on its right
	 * (LLAMA_TOKEN_ATTR_RSTRIP), but <unk>, <s> and <|endoftext|>; it
	 * does not load a file without those or </s>. */
	if (rule == RULE_PHI3) {
		static const char *const keep[] = { "</s>", "<unk>", "<s>",
		    "<|endoftext|>" };

		for (size_t i = 0; i < n; i++)
			if (split_out(type[i]))
				strip[i] = WB_STRIP_RIGHT;
		for (size_t j = 0; j < WB_NELEM(keep); j++) {
			if ((id = id_of(k, keep[j])) == NONE) {
				rc = wb_err_set(err, WB_EDATA, "%s: a model "
				    "named Phi-3 without the token %s is not "
				    "supported (llama.cpp does not load it)",
				    path, keep[j]);
				goto out;
			}
			if (j > 0)
				strip[id] = 0;
		}
	}
out:
	free(k);
	return rc;
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

/* The vocabulary of tokens by their types: the ones split out first (by
 * the types llama.cpp gives them in the end, final) become added tokens;
 * those the file has split out first leave the vocabulary, while those
 * the file has as ordinary (the texts llama.cpp makes control, </s> in
 * Qwen's, say) stay in it for the merges to make. */
static void
by_type(struct wb_gguf_str *tok, size_t n, const int32_t *type,
    const uint8_t *final, struct wb_bpe_added *added, size_t *n_added)
{
	*n_added = 0;
	for (size_t i = 0; i < n; i++) {
		if (!split_out(final[i]) && !(type != NULL && split_out(type[i])))
			continue;
		if (split_out(final[i]) && tok[i].len != 0 &&
		    memchr(tok[i].s, '\0', tok[i].len) == NULL)
			added[(*n_added)++] = (struct wb_bpe_added){ tok[i].s,
			    tok[i].len, (uint32_t)i, final[i] != TYPE_USER, 0 };
		if (type != NULL && split_out(type[i]))
			tok[i].len = 0;
	}
}

struct wb_bpe *
wb_gguf_bpe_open(const char *path, struct wb_err *err)
{
	struct wb_gguf *g;
	struct wb_gguf_str *tok = NULL, *merges = NULL, *pairs = NULL;
	struct wb_bpe_added *added = NULL;
	int32_t *type = NULL;
	uint8_t *final = NULL;
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
	if (type != NULL && n_type < n_tok) {
		wb_err_set(err, WB_EDATA, "%s: tokenizer.ggml.token_type has "
		    "%zu types for %zu tokens", path, n_type, n_tok);
		goto out;
	}
	/* llama.cpp strips the spaces after the tokens of a model it knows
	 * as Phi-3's by its name (spm.c does so for model llama). */
	if (wb_gguf_phi3(g)) {
		wb_err_set(err, WB_EDATA, "%s: a byte-level model named Phi-3 "
		    "is not supported", path);
		goto out;
	}
	pairs = malloc((2 * n_merges + 1) * sizeof(*pairs));
	added = malloc(n_tok * sizeof(*added));
	final = malloc(n_tok);
	if (pairs == NULL || added == NULL || final == NULL) {
		wb_err_set(err, WB_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < n_tok; i++)
		final[i] = type != NULL && type[i] >= TYPE_NORMAL &&
		    type[i] <= TYPE_BYTE ? (uint8_t)type[i] : TYPE_NORMAL;
	if (split_merges(path, merges, n_merges, pairs, err) != WB_OK ||
	    wb_gguf_final_types(g, path, tok, n_tok, final, NULL,
	    err) != WB_OK)
		goto out;
	by_type(tok, n_tok, type, final, added, &n_added);
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
	free(final);
	wb_gguf_free(g);
	return b;
}
