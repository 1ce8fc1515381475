/* hf.c: counters from a Hugging Face tokenizer.json whose model is
 * byte-level BPE and whose pre-tokenizer splits as cl100k_base or
 * o200k_base does (Llama 3, gpt-oss), as Qwen 2 (Qwen 2.5, 3), Tekken
 * (Mistral Nemo) or DeepSeek V3 does.
 *
 * The vocabulary becomes an encoding of bpe.c with rank = id: bpe.c
 * merges the pair whose merged token has the lowest id, where the
 * tokenizers library merges the pair of the lowest merge rank.  The two
 * agree when the merges come in the order of the ids of the tokens they
 * make, which the file must show: one that does not is refused.  Added
 * tokens are split out first: those not special always, the special ones
 * with allow_special only (else their text is ordinary text).  No token
 * is added at the start (no BOS).  The normalizer NFC (Qwen's) puts the
 * text between added tokens in NFC.  Anything else -- another normalizer,
 * another pre-tokenizer or regex, another model -- is refused with its
 * name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"

/* The split regexes that pretok.c implements, as tokenizer.json files
 * write them (a Sequence of Splits, one to three), and the pattern each
 * list is. */
#define CL100K_RE "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?" \
	"\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|" \
	"\\s+(?!\\S)|\\s+"
static const struct {
	enum wb_pat pat;
	const char *name, *regex[3];
} regexes[] = {
	{ WB_PAT_CL100K, "cl100k_base", { CL100K_RE } },
	{ WB_PAT_O200K, "o200k_base", { "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}"
	    "\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|"
	    "'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}"
	    "\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
	    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|"
	    "\\s+" } },
	{ WB_PAT_QWEN2, "Qwen 2's", { "(?i:'s|'t|'re|'ve|'m|'ll|'d)|"
	    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" } },
	{ WB_PAT_TEKKEN, "Tekken's", { "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}"
	    "\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}"
	    "\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}"
	    "\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|"
	    "\\s+(?!\\S)|\\s+" } },
	{ WB_PAT_DEEPSEEK3, "DeepSeek V3's", { "\\p{N}{1,3}",
	    "[一-龥぀-ゟ゠-ヿ]+",
	    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}"
	    "\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|"
	    "\\s+(?!\\S)|\\s+" } },
};

/* The byte behind each character of GPT-2's byte-level alphabet, -1 for
 * the characters outside it (U+0000 .. U+0143 hold it all). */
static void
byte_alphabet(int byte_of[324])
{
	int n = 0;

	for (int cp = 0; cp < 324; cp++)
		byte_of[cp] = -1;
	for (int b = 0; b < 256; b++) {
		if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
		    (b >= 0xAE && b <= 0xFF))
			byte_of[b] = b;
		else
			byte_of[256 + n++] = b;
	}
}

/* The bytes of the byte-level token s[0..len) into out (room for len);
 * their number, or -1 if a character is outside the alphabet. */
static long
unlevel(const int byte_of[324], const char *s, size_t len, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	uint32_t cp;

	while (i < len) {
		int n = wb_utf8_seqlen(p + i, len - i);

		if (n <= 0)
			return -1;
		wb_utf8_decode(p + i, (size_t)n, &cp);
		if (cp >= 324 || byte_of[cp] < 0)
			return -1;
		out[o++] = (unsigned char)byte_of[cp];
		i += (size_t)n;
	}
	return (long)o;
}

/* The "type" of a JSON object, or "(none)". */
static const char *
type_of(const json_t *o)
{
	const char *t = json_string_value(json_object_get(o, "type"));

	return t != NULL ? t : "(none)";
}

/* Is o's key a JSON false, or absent? */
static bool
off(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v == NULL || json_is_false(v);
}

/* Is o's key null, absent or the empty string? */
static bool
unset(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return v == NULL || json_is_null(v) || (s != NULL && s[0] == '\0');
}

/* The Split pre_tokenizers[i]'s regex, or NULL if it is not an Isolated,
 * not inverted Split by a regex. */
static const char *
split_regex(const json_t *sp)
{
	const char *b = json_string_value(json_object_get(sp, "behavior"));

	if (strcmp(type_of(sp), "Split") != 0 || !off(sp, "invert") ||
	    b == NULL || strcmp(b, "Isolated") != 0)
		return NULL;
	return json_string_value(json_object_get(json_object_get(sp,
	    "pattern"), "Regex"));
}

/* The pattern of the file's pre-tokenizer, or -1 with err set: Splits by
 * one of regexes[], then ByteLevel without its own regex. */
static int
pre_tokenizer(const char *path, const json_t *pt, struct wb_err *err)
{
	const json_t *seq = json_object_get(pt, "pretokenizers"), *bl;
	const char *re[3];
	size_t n = json_array_size(seq), i, k;

	if (pt == NULL || json_is_null(pt)) {
		wb_err_set(err, WB_EDATA, "%s: no pre-tokenizer: not supported",
		    path);
		return -1;
	}
	if (strcmp(type_of(pt), "Sequence") != 0 || n < 2 || n > 4 ||
	    strcmp(type_of(bl = json_array_get(seq, n - 1)), "ByteLevel") != 0) {
		wb_err_set(err, WB_EDATA, "%s: pre-tokenizer %s is not supported "
		    "(only Splits by regex, then ByteLevel)", path,
		    strcmp(type_of(pt), "Sequence") == 0 ?
		    "Sequence of others" : type_of(pt));
		return -1;
	}
	if (!off(bl, "use_regex") || !off(bl, "add_prefix_space")) {
		wb_err_set(err, WB_EDATA, "%s: pre-tokenizer ByteLevel with "
		    "use_regex or add_prefix_space is not supported", path);
		return -1;
	}
	for (i = 0; i + 1 < n; i++)
		if ((re[i] = split_regex(json_array_get(seq, i))) == NULL) {
			wb_err_set(err, WB_EDATA, "%s: pre-tokenizer Split other "
			    "than by a regex, Isolated, not inverted, is not "
			    "supported", path);
			return -1;
		}
	for (k = 0; k < WB_NELEM(regexes); k++) {
		for (i = 0; i + 1 < n; i++)
			if (regexes[k].regex[i] == NULL ||
			    strcmp(re[i], regexes[k].regex[i]) != 0)
				break;
		if (i + 1 == n && (i == 3 || regexes[k].regex[i] == NULL))
			return (int)regexes[k].pat;
	}
	wb_err_set(err, WB_EDATA, "%s: pre-tokenizer Split regex is not "
	    "supported (only cl100k_base's, o200k_base's, Qwen 2's, Tekken's "
	    "and DeepSeek V3's)", path);
	return -1;
}

/* The halves of merge i of the JSON array merges ("A B" or ["A", "B"])
 * into pair[0..2); false if it is neither. */
static bool
merge_pair(const json_t *m, struct wb_gguf_str pair[2])
{
	const char *a, *b, *sp;

	if (json_is_string(m)) {
		a = json_string_value(m);
		if ((sp = strchr(a, ' ')) == NULL || strchr(sp + 1, ' ') != NULL)
			return false;
		pair[0] = (struct wb_gguf_str){ a, (size_t)(sp - a) };
		pair[1] = (struct wb_gguf_str){ sp + 1, strlen(sp + 1) };
		return true;
	}
	if (json_array_size(m) == 2 &&
	    (a = json_string_value(json_array_get(m, 0))) != NULL &&
	    (b = json_string_value(json_array_get(m, 1))) != NULL) {
		pair[0] = (struct wb_gguf_str){ a, strlen(a) };
		pair[1] = (struct wb_gguf_str){ b, strlen(b) };
		return true;
	}
	return false;
}

/* Do the merges (2 texts each) make their tokens in the order of the
 * tokens' ids?  Then merging by the lowest id is merging by the lowest
 * rank. */
static int
check_merges(const struct wb_bytelevel *v, const struct wb_bpe *b,
    struct wb_err *err)
{
	int byte_of[324];
	unsigned char buf[1024];
	uint32_t last = 0, z;
	size_t i;
	long x, y;

	byte_alphabet(byte_of);
	for (i = 0; i < v->n_merges; i++) {
		const struct wb_gguf_str *m = v->merges + 2 * i;

		if (m[0].len + m[1].len > sizeof(buf) ||
		    (x = unlevel(byte_of, m[0].s, m[0].len, buf)) <= 0 ||
		    (y = unlevel(byte_of, m[1].s, m[1].len, buf + x)) <= 0)
			return wb_err_set(err, WB_EDATA, "%s: merge %zu is not "
			    "two byte-level tokens", v->name, i);
		z = wb_bpe_id_of(b, buf, (size_t)(x + y));
		if (z == UINT32_MAX || wb_bpe_id_of(b, buf, (size_t)x) ==
		    UINT32_MAX || wb_bpe_id_of(b, buf + x, (size_t)y) == UINT32_MAX)
			return wb_err_set(err, WB_EDATA, "%s: merge %zu: a token "
			    "that is not in the vocabulary", v->name, i);
		if (z < last)
			return wb_err_set(err, WB_EDATA, "%s: merge %zu: merges "
			    "not in the order of their tokens' ids are not "
			    "supported", v->name, i);
		last = z;
	}
	return WB_OK;
}

/* Is token r of the vocabulary an added token of the same text? */
static bool
is_added(const struct wb_bytelevel *v, uint32_t r)
{
	for (size_t i = 0; i < v->n_added; i++)
		if (v->added[i].id == r && v->added[i].len == v->tok[r].len &&
		    memcmp(v->added[i].text, v->tok[r].s, v->tok[r].len) == 0)
			return true;
	return false;
}

/* The vocabulary as bytes by id, for wb_bpe_from_tokens. */
static int
vocabulary(const struct wb_bytelevel *v, unsigned char **bytes,
    uint32_t **offs, struct wb_err *err)
{
	int byte_of[324];
	size_t total = 0, o = 0;
	uint32_t *off;
	unsigned char *b;

	byte_alphabet(byte_of);
	for (uint32_t r = 0; r < v->n_ids; r++)
		total += v->tok[r].len;
	off = malloc(((size_t)v->n_ids + 1) * sizeof(*off));
	b = malloc(total + 1);
	if (off == NULL || b == NULL) {
		free(off);
		free(b);
		return wb_err_set(err, WB_EINTERNAL, "%s: out of memory",
		    v->name);
	}
	for (uint32_t r = 0; r < v->n_ids; r++) {
		long n = v->tok[r].len ? unlevel(byte_of, v->tok[r].s,
		    v->tok[r].len, b + o) : 0;

		if (n < 0 && is_added(v, r))
			n = 0;  /* the added token's, split out before */
		if (n < 0) {
			free(off);
			free(b);
			return wb_err_set(err, WB_EDATA, "%s: %s: %.*s: not a "
			    "byte-level token; only byte-level BPE is supported",
			    v->name, v->tokens_key, (int)v->tok[r].len,
			    v->tok[r].s);
		}
		off[r] = (uint32_t)o;
		o += (size_t)n;
	}
	off[v->n_ids] = (uint32_t)o;
	*bytes = b;
	*offs = off;
	return WB_OK;
}

struct wb_bpe *
wb_bytelevel_bpe(const struct wb_bytelevel *v, struct wb_err *err)
{
	struct wb_bpe *b = NULL;
	unsigned char *bytes = NULL;
	uint32_t *offs = NULL;

	if (vocabulary(v, &bytes, &offs, err) == WB_OK &&
	    (b = wb_bpe_from_tokens(v->name, v->pat, bytes, offs, v->n_ids,
	    v->added, v->n_added, v->merge_whole, err)) != NULL &&
	    check_merges(v, b, err) != WB_OK) {
		wb_bpe_free(b);
		b = NULL;
	}
	free(bytes);
	free(offs);
	return b;
}

/* The model's vocabulary, by id, and its merges, as texts that point into
 * the JSON. */
static int
json_vocabulary(struct wb_bytelevel *v, const json_t *vocab,
    const json_t *merges, struct wb_err *err)
{
	const char *key;
	const json_t *t;
	json_int_t max = -1, id;
	struct wb_gguf_str *tok;
	size_t i;

	json_object_foreach((json_t *)vocab, key, t) {
		if (!json_is_integer(t) || (id = json_integer_value(t)) < 0 ||
		    id >= 1 << 26)
			return wb_err_set(err, WB_EDATA, "%s: model.vocab: %s: "
			    "not an id", v->name, key);
		if (id > max)
			max = id;
	}
	if (!json_is_array(merges))
		return wb_err_set(err, WB_EDATA, "%s: model.merges is not an "
		    "array", v->name);
	/* Ids far past the number of tokens would make the tables by id
	 * far larger than the file. */
	if (max >= 0 && (size_t)max >= 2 * json_object_size(vocab) + 1024)
		return wb_err_set(err, WB_EDATA, "%s: model.vocab: id %lld for "
		    "%zu tokens", v->name, (long long)max,
		    json_object_size(vocab));
	v->n_ids = (uint32_t)(max + 1);
	v->n_merges = json_array_size(merges);
	v->tok = tok = calloc((size_t)max + 2, sizeof(*tok));
	v->merges = calloc(2 * v->n_merges + 1, sizeof(*v->merges));
	if (tok == NULL || v->merges == NULL)
		return wb_err_set(err, WB_EINTERNAL, "%s: out of memory",
		    v->name);
	json_object_foreach((json_t *)vocab, key, t) {
		id = json_integer_value(t);
		if (tok[id].s != NULL)
			return wb_err_set(err, WB_EDATA, "%s: model.vocab: id "
			    "%lld given twice", v->name, (long long)id);
		if (key[0] == '\0')
			return wb_err_set(err, WB_EDATA, "%s: model.vocab: an "
			    "empty token; only byte-level BPE is supported",
			    v->name);
		tok[id] = (struct wb_gguf_str){ key, strlen(key) };
	}
	json_array_foreach(merges, i, t)
		if (!merge_pair(t, (struct wb_gguf_str *)v->merges + 2 * i))
			return wb_err_set(err, WB_EDATA, "%s: merge %zu is not "
			    "two byte-level tokens", v->name, i);
	return WB_OK;
}

/* The added tokens, for wb_bpe_from_tokens (texts point into the JSON). */
static int
added_tokens(const char *path, const json_t *a, struct wb_bpe_added **out,
    size_t *n, struct wb_err *err)
{
	const json_t *t;
	size_t i;

	*n = json_array_size(a);
	if ((*out = calloc(*n ? *n : 1, sizeof(**out))) == NULL)
		return wb_err_set(err, WB_EINTERNAL, "%s: out of memory", path);
	json_array_foreach(a, i, t) {
		const json_t *c = json_object_get(t, "content");
		const json_t *id = json_object_get(t, "id");

		if (!json_is_string(c) || json_string_length(c) == 0 ||
		    strlen(json_string_value(c)) != json_string_length(c) ||
		    !json_is_integer(id) || json_integer_value(id) < 0 ||
		    json_integer_value(id) >= 1 << 26)
			return wb_err_set(err, WB_EDATA, "%s: added_tokens[%zu]: "
			    "not a token with a content and an id", path, i);
		if (!off(t, "single_word"))
			return wb_err_set(err, WB_EDATA, "%s: added token %s: "
			    "single_word is not supported", path,
			    json_string_value(c));
		(*out)[i] = (struct wb_bpe_added){ json_string_value(c),
		    json_string_length(c), (uint32_t)json_integer_value(id),
		    json_is_true(json_object_get(t, "special")),
		    (off(t, "lstrip") ? 0 : WB_STRIP_LEFT) |
		    (off(t, "rstrip") ? 0 : WB_STRIP_RIGHT) };
	}
	return WB_OK;
}

/* Check what the file is: one-line errors name what is not supported.
 * The pattern of its pre-tokenizer, or -1; *nfc if it normalizes to NFC. */
static int
check(const char *path, const json_t *root, bool *nfc, struct wb_err *err)
{
	const json_t *model = json_object_get(root, "model");
	const json_t *norm = json_object_get(root, "normalizer");
	const char *mt;

	if (!json_is_object(root) || !json_is_object(model)) {
		wb_err_set(err, WB_EDATA, "%s: not a tokenizer.json (no model)",
		    path);
		return -1;
	}
	mt = type_of(model);
	if (strcmp(mt, "BPE") != 0) {
		wb_err_set(err, WB_EDATA, "%s: model %s is not supported (only "
		    "byte-level BPE)", path, mt);
		return -1;
	}
	if (norm != NULL && !json_is_null(norm) &&
	    strcmp(type_of(norm), "NFC") != 0 &&
	    !(strcmp(type_of(norm), "Sequence") == 0 &&
	    json_array_size(json_object_get(norm, "normalizers")) == 0)) {
		wb_err_set(err, WB_EDATA, "%s: normalizer %s is not supported "
		    "(only NFC)", path, type_of(norm));
		return -1;
	}
	*nfc = norm != NULL && strcmp(type_of(norm), "NFC") == 0;
	if (!json_is_object(json_object_get(model, "vocab"))) {
		wb_err_set(err, WB_EDATA, "%s: model.vocab is not an object",
		    path);
		return -1;
	}
	if (!unset(model, "dropout") || !off(model, "byte_fallback") ||
	    !unset(model, "continuing_subword_prefix") ||
	    !unset(model, "end_of_word_suffix")) {
		wb_err_set(err, WB_EDATA, "%s: model BPE with dropout, "
		    "byte_fallback or subword affixes is not supported", path);
		return -1;
	}
	if (json_object_get(root, "added_tokens") != NULL &&
	    !json_is_array(json_object_get(root, "added_tokens"))) {
		wb_err_set(err, WB_EDATA, "%s: added_tokens is not an array",
		    path);
		return -1;
	}
	return pre_tokenizer(path, json_object_get(root, "pre_tokenizer"), err);
}

/* The JSON of the file at path: read whole, then parsed (jansson's own
 * file reading takes a character at a time, twice as long). */
static json_t *
load(const char *path, struct wb_err *err)
{
	struct stat st;
	json_error_t je;
	json_t *root;
	char *text;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* A model's directory: say which file of it is wanted. */
		wb_err_set(err, WB_ENOINPUT, "%s: %s", path, fd < 0 ?
		    strerror(errno) : S_ISDIR(st.st_mode) ? "is a directory "
		    "(-T takes its tokenizer.json or a .gguf file)" :
		    "not a regular file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size == 0) {
		close(fd);
		wb_err_set(err, WB_EDATA, "%s: empty: neither a GGUF file nor "
		    "a tokenizer.json", path);
		return NULL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		wb_err_set(err, WB_EINTERNAL, "%s: out of memory", path);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got < (size_t)st.st_size) {
		free(text);
		wb_err_set(err, WB_EIO, "%s: read error", path);
		return NULL;
	}
	root = json_loadb(text, got, 0, &je);
	free(text);
	if (root == NULL)
		wb_err_set(err, WB_EDATA,
		    "%s:%d:%d: neither a GGUF file nor a tokenizer.json: %s",
		    path, je.line, je.column, je.text);
	return root;
}

/* The encoding of the tokenizer.json path whose JSON is root. */
static struct wb_bpe *
open_json(const char *path, json_t *root, struct wb_err *err)
{
	json_t *model;
	struct wb_bpe *b = NULL;
	struct wb_bpe_added *added = NULL;
	struct wb_bytelevel v = { .name = path, .tokens_key = "model.vocab" };
	int pat;
	bool nfc = false;

	model = json_object_get(root, "model");
	if ((pat = check(path, root, &nfc, err)) >= 0 &&
	    json_vocabulary(&v, json_object_get(model, "vocab"),
	    json_object_get(model, "merges"), err) == WB_OK &&
	    added_tokens(path, json_object_get(root, "added_tokens"), &added,
	    &v.n_added, err) == WB_OK) {
		v.pat = (enum wb_pat)pat;
		v.added = added;
		v.merge_whole = !json_is_true(json_object_get(model,
		    "ignore_merges"));
		b = wb_bytelevel_bpe(&v, err);
		if (b != NULL && nfc)
			wb_bpe_set_nfc(b);
	}
	free(added);
	free((void *)v.tok);
	free((void *)v.merges);
	return b;
}

struct wb_bpe *
wb_hf_open(const char *path, struct wb_err *err)
{
	json_t *root = load(path, err);
	struct wb_bpe *b = root != NULL ? open_json(path, root, err) : NULL;

	json_decref(root);
	return b;
}

/* Does the file at path start as a GGUF file does?  (One that cannot be
 * read is left to the JSON reader to report.) */
static bool
is_gguf(const char *path)
{
	char magic[4];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while ((r = read(fd, magic, sizeof(magic))) < 0 && errno == EINTR)
		;
	close(fd);
	return r == (ssize_t)sizeof(magic) && memcmp(magic, "GGUF", 4) == 0;
}

/* What wb_hf_new asks of build. */
struct build {
	const struct wb_counter_spec *spec;
	const char *name;
	bool gguf;
};

/* WB_OK if out holds what was made, else the error that says why not. */
static int
made(const struct wb_compiled *out, struct wb_err *err)
{
	if (out->spm != NULL || out->bpe != NULL)
		return WB_OK;
	return err->status != WB_OK ? err->status :
	    wb_err_set(err, WB_EINTERNAL, "tokenizer not made");
}

/* The file path compiled for wb_tokcache_tokenizer: byte-level BPE into
 * its encoding; a SentencePiece-style file (GGUF model llama, or a
 * tokenizer.json with byte fallback or "▁") into its counter. */
static int
build(const char *path, void *arg, struct wb_compiled *out,
    struct wb_err *err)
{
	struct build *x = arg;
	json_t *root;
	bool spm;

	if (x->gguf) {
		out->spm = wb_spm_gguf_new(x->spec, path, x->name, &spm, err);
		if (!spm)
			out->bpe = wb_gguf_bpe_open(path, err);
		return made(out, err);
	}
	if ((root = load(path, err)) == NULL)
		return made(out, err);
	if (wb_spm_json_wants(root))
		out->spm = wb_spm_json_new(x->spec, root, path, x->name, err);
	else
		out->bpe = open_json(path, root, err);
	json_decref(root);
	return made(out, err);
}

struct wb_counter *
wb_hf_new(const struct wb_counter_spec *spec, struct wb_err *err)
{
	const char *t = spec->tokenizer, *base = strrchr(t, '/'), *path = t;
	char blob[4096];
	struct wb_compiled c;
	struct build x;

	if (strncmp(t, "ollama:", 7) == 0) {
		if (wb_ollama_resolve(t, blob, sizeof(blob), err) != WB_OK)
			return NULL;
		if (!is_gguf(blob)) {
			wb_err_set(err, WB_EDATA, "%s: %s: not a GGUF file", t,
			    blob);
			return NULL;
		}
		path = blob;
	} else {
		t = base ? base + 1 : t;
	}
	x = (struct build){ spec, t, path == blob || is_gguf(path) };
	if (wb_tokcache_tokenizer(path, spec, t, build, &x, &c, err) != WB_OK)
		return NULL;
	if (c.spm != NULL)
		return c.spm;
	return wb_exact_from_bpe(spec, c.bpe, t, err);
}
