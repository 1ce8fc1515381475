/* wb_priv.h: what the pieces of libwb share and the commands do not see. */
#ifndef WB_PRIV_H
#define WB_PRIV_H

#include <string.h>

#include "wb.h"
#include "pretok.h"

/* The statistics of a text behind every heuristic count; concatenable. */
struct wb_text_stats {
	uint64_t bytes;    /* UTF-8 bytes */
	uint64_t scalars;  /* Unicode scalar values */
	uint64_t words;    /* maximal runs of non-White_Space scalars */
	uint64_t punct;    /* \n \t " ' ( ) [ ] { } */
	int lead;          /* first scalar: 1 space, 0 non-space, -1 none */
	int trail;         /* last scalar, likewise */
};

/* A scanner that gathers wb_text_stats over text fed in pieces. */
struct wb_stats_scan {
	struct wb_text_stats st;
	unsigned char pend[4];  /* a UTF-8 sequence cut by a piece's end */
	int npend;
};

/* Every count stream starts with this; each kind of counter adds its own. */
struct wb_count_stream {
	const struct wb_counter *c;
};

/* What a kind of counter does; only counter.c calls these. */
struct wb_counter_ops {
	/* Count s[0..len), stopping once the count exceeds limit. */
	uint64_t (*count)(const struct wb_counter *c, const char *s, size_t len,
	    uint64_t limit);
	/* Token ids, as wb_counter_encode; NULL for a counter without ids. */
	size_t (*encode)(const struct wb_counter *c, const char *s, size_t len,
	    uint32_t *ids, size_t cap, struct wb_err *err);
	/* The bytes of the tokens ids[0..n), the first cap into out (which
	 * may be NULL), their length in *len; WB_EDATA for an id without a
	 * token.  NULL for a counter without ids. */
	int (*decode)(const struct wb_counter *c, const uint32_t *ids, size_t n,
	    char *out, size_t cap, size_t *len, struct wb_err *err);
	/* As wb_counter_last_cut and wb_counter_lookback; NULL: none. */
	size_t (*last_cut)(const struct wb_counter *c, const char *s,
	    size_t from, size_t to);
	size_t (*lookback)(const struct wb_counter *c);
	/* As wb_counter_left_cut; NULL: the cuts of last_cut. */
	size_t (*left_cut)(const struct wb_counter *c, const char *s,
	    size_t from, size_t to);
	/* The count streams, as the wb_count_stream_ functions. */
	struct wb_count_stream *(*stream_new)(const struct wb_counter *c);
	int (*stream_feed)(struct wb_count_stream *cs, const char *buf,
	    size_t len,
	    struct wb_err *err);
	uint64_t (*stream_count)(const struct wb_count_stream *cs);
	/* NULL unless the counter counts by statistics. */
	const struct wb_text_stats *(*stream_stats)(const struct wb_count_stream *cs);
	int (*stream_end)(struct wb_count_stream *cs, uint64_t *count,
	    struct wb_err *err);
	/* Make cs a new stream, keeping what it has learned of the text
	 * (an encoding's merged words); NULL: streams start anew. */
	void (*stream_reset)(struct wb_count_stream *cs);
	/* As wb_count_stream_go_on; NULL: a stream counts a text that goes
	 * on from a cut as it counts a text of its own. */
	void (*stream_go_on)(struct wb_count_stream *cs);
	void (*stream_free)(struct wb_count_stream *cs);
	void (*free)(struct wb_counter *c);
	/* Counts follow from concatenable statistics: truncation is exact. */
	bool by_stats;
};

struct wb_counter {
	const struct wb_counter_ops *ops;
	struct wb_counter_spec spec;
	char name[64];
	struct wb_bpe *bpe;      /* exact counters only */
};

/* The number of elements of an array. */
#define WB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* num.c */

/* Seconds on the monotonic clock. */
double wb_now(void);

/* utf8.c */

/* Decode the scalar at s (valid UTF-8 assumed); returns its length. */
size_t wb_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Length of the UTF-8 sequence at s: 0 if invalid, -1 if cut short. */
int wb_utf8_seqlen(const unsigned char *s, size_t len);

/* buf.c */

/*
 * A growing byte string, NUL-terminated once anything is added. It may
 * start empty ({ 0 }) or on the caller's stack ({ .p = a, .cap =
 * sizeof(a) }). A failed allocation sets oom, and every later append
 * fails too, so a caller checks once at the end.
 */
struct wb_buf {
	char *p;
	size_t len, cap;
	char *heap;     /* p once it moved to the heap; wb_buf_free frees it */
	bool oom;
};

/* Room for n more bytes and a NUL; false, and b->oom, when there is none. */
bool wb_buf_grow(struct wb_buf *b, size_t n);
/* Append the string s; as wb_buf_add. */
int wb_buf_adds(struct wb_buf *b, const char *s);
/* The text, for the caller to free; NULL only when out of memory. */
char *wb_buf_take(struct wb_buf *b);
/* Free what b holds; b is empty again. */
void wb_buf_free(struct wb_buf *b);

/* Append s[0..n); 0, or -1 once an allocation has failed. Inline, as
 * JSON is written a few bytes at a time. */
static inline int
wb_buf_add(struct wb_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return b->oom ? -1 : 0;
	if (n >= b->cap - b->len && !wb_buf_grow(b, n))
		return -1;
	/* b->p is set: n > 0 and a buffer without one has cap 0, so it grew
	 * (the analyzer does not follow wb_buf_grow's first test). */
	memcpy(b->p + b->len, s, n); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}
/* spool.c: wb-broadcast's write-ahead journal in a directory. */

struct wb_spool;
/* A message left unacked in the journal: its text at off, len bytes. */
struct wb_spool_rec {
	uint64_t id, off;
	size_t len;
	char *url;
};

/* Lock dir (made if need be; 75 when another process holds it) and read
 * its journal. */
int wb_spool_open(const char *dir, struct wb_spool **sp, struct wb_err *err);
/* The spool's run id, or NULL for a new spool; set it (journaled with
 * the next sync). */
const char *wb_spool_run(const struct wb_spool *sp);
void wb_spool_set_run(struct wb_spool *sp, const char *run);
/* The messages an earlier run left unacked, in the order they came. */
size_t wb_spool_pending(struct wb_spool *sp, const struct wb_spool_rec **recs);
/* The last seq run gave on url, as the journal knows it; 0 for none. */
uint64_t wb_spool_last_seq(struct wb_spool *sp, const char *url,
    const char *run);
void wb_spool_note_seq(struct wb_spool *sp, const char *url, const char *run,
    uint64_t seq);
/* Append a message (written by the next wb_spool_sync): its id and the
 * offset of its text. */
int wb_spool_add(struct wb_spool *sp, const char *url, const char *text,
    size_t len, uint64_t *id, uint64_t *off, struct wb_err *err);
/* Record that message id was acknowledged. */
void wb_spool_ack(struct wb_spool *sp, uint64_t id);
/* Write what was appended; fsync once when it holds messages. */
int wb_spool_sync(struct wb_spool *sp, struct wb_err *err);
/* The last message id synced to disk. */
uint64_t wb_spool_synced(const struct wb_spool *sp);
/* True when messages were appended and not yet synced. */
bool wb_spool_dirty(const struct wb_spool *sp);
/* The text at off (synced), for the caller to free. */
char *wb_spool_read(struct wb_spool *sp, uint64_t off, size_t len,
    struct wb_err *err);
/* Bytes of the journal, written or not; messages not acknowledged. */
uint64_t wb_spool_size(const struct wb_spool *sp);
uint64_t wb_spool_live(const struct wb_spool *sp);
/* With every message acknowledged: a new journal of the seqs alone. */
int wb_spool_compact(struct wb_spool *sp, struct wb_err *err);
/* Unlock and free. */
void wb_spool_close(struct wb_spool *sp);

/* json.c */

/* What kind of JSON value j is, for messages ("an array"). */
const char *wb_json_kind(const json_t *j);

/* The value in buf, as jansson reads it; NULL if it would not or if unsure. */
json_t *wb_json_parse(const char *buf, size_t len);
/* json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, je), faster. */
json_t *wb_json_loadb(const char *buf, size_t len, json_error_t *je);
/* Append j as json_dumpf(JSON_COMPACT | JSON_REAL_PRECISION(p)) would;
 * p = 0: each real as short as reads back the same, 15 digits at least. */
int wb_json_dump(const json_t *j, int precision, struct wb_buf *b);

/* gguf.c */

/* The value types of GGUF metadata, numbered as the format numbers them. */
enum wb_gguf_type {
	WB_GGUF_U8 = 0,
	WB_GGUF_I8 = 1,
	WB_GGUF_U16 = 2,
	WB_GGUF_I16 = 3,
	WB_GGUF_U32 = 4,
	WB_GGUF_I32 = 5,
	WB_GGUF_F32 = 6,
	WB_GGUF_BOOL = 7,
	WB_GGUF_STRING = 8,
	WB_GGUF_ARRAY = 9,
	WB_GGUF_U64 = 10,
	WB_GGUF_I64 = 11,
	WB_GGUF_F64 = 12,
};

/* How deep arrays of arrays may nest before a file is refused. */
#define WB_GGUF_MAX_DEPTH 4

/* A string in a GGUF file: not NUL-terminated, borrowed from the file. */
struct wb_gguf_str {
	const char *s;
	size_t len;
};

/* Open a GGUF file (v2, v3; little-endian) and check its metadata; the
 * tensors are never read. 66 if it cannot be opened, 65 if malformed
 * (the message names the byte offset). The caller owns the result. */
struct wb_gguf *wb_gguf_open(const char *path, struct wb_err *err);
/* The same over buf[0..size), borrowed until wb_gguf_free; name is for
 * messages. */
struct wb_gguf *wb_gguf_open_mem(const void *buf, size_t size,
    const char *name, struct wb_err *err);
/* Free g, and unmap its file. */
void wb_gguf_free(struct wb_gguf *g);
/* The format version (2 or 3), and general.alignment (32 if unset). */
uint32_t wb_gguf_version(const struct wb_gguf *g);
uint32_t wb_gguf_alignment(const struct wb_gguf *g);
/* The number of metadata keys, and key i of them in byte order. */
size_t wb_gguf_nkeys(const struct wb_gguf *g);
struct wb_gguf_str wb_gguf_key(const struct wb_gguf *g, size_t i);
/* The type of key's value, or -1 if absent; for an array, the type of
 * its elements and their count in *elem and *count (either may be NULL). */
int wb_gguf_type(const struct wb_gguf *g, const char *key, int *elem,
    uint64_t *count);
/* Lookups by key: WB_OK, or 65 when the key is absent or of another type.
 * Integer lookups take any integer type whose value fits. */
int wb_gguf_str(const struct wb_gguf *g, const char *key,
    struct wb_gguf_str *out, struct wb_err *err);
int wb_gguf_u32(const struct wb_gguf *g, const char *key, uint32_t *out,
    struct wb_err *err);
int wb_gguf_i32(const struct wb_gguf *g, const char *key, int32_t *out,
    struct wb_err *err);
int wb_gguf_bool(const struct wb_gguf *g, const char *key, bool *out,
    struct wb_err *err);
/* Arrays by key, into an array of *n elements the caller frees. */
int wb_gguf_strv(const struct wb_gguf *g, const char *key,
    struct wb_gguf_str **out, size_t *n, struct wb_err *err);
int wb_gguf_f32v(const struct wb_gguf *g, const char *key, float **out,
    size_t *n, struct wb_err *err);
int wb_gguf_i32v(const struct wb_gguf *g, const char *key, int32_t **out,
    size_t *n, struct wb_err *err);

/* ollama.c */

/* The GGUF file of an installed Ollama model, from "ollama:NAME[:TAG]"
 * (NAME: [[HOST/]NAMESPACE/]MODEL) as Ollama stores it under
 * $OLLAMA_MODELS or ~/.ollama/models: 64 for a bad name, 66 when not
 * installed (the message names the paths tried), 65 for a bad manifest. */
int wb_ollama_resolve(const char *spec, char *path, size_t size,
    struct wb_err *err);

/* bpe.c */

/* Merge the pieces longer than n bytes as long pieces are (for tests). */
void wb_bpe_set_small_piece(struct wb_bpe *b, size_t n);
/* Start the cache of merged pieces after n merges (SIZE_MAX: never; tests). */
void wb_bpe_set_cache_after(struct wb_bpe *b, size_t n);
/* Length of the longest special token that counts with allow_special. */
size_t wb_bpe_special_max(const struct wb_bpe *b, int allow_special);
/* Could a special token that counts with allow_special start before s[c]
 * and end after it?  Or take spaces at c (s[c - 1] no space; what is
 * known of the text ends at end)? */
bool wb_bpe_special_across(const struct wb_bpe *b, int allow_special,
    const unsigned char *s, size_t c, size_t end);
/* Put text in Unicode NFC before it is split (not the special tokens). */
void wb_bpe_set_nfc(struct wb_bpe *b);
/* Scratch memory of wb_bpe_encode_with, kept from one call to the next
 * (the merged pieces it has seen, for any one encoding at a time); NULL
 * out of memory.  One thread uses a work at a time. */
struct wb_bpe_work *wb_bpe_work_new(void);
void wb_bpe_work_free(struct wb_bpe_work *w);
/* wb_bpe_encode in w's memory. */
size_t wb_bpe_encode_with(const struct wb_bpe *b, struct wb_bpe_work *w,
    const char *text, size_t len, int allow_special, uint32_t *ids,
    size_t cap, struct wb_err *err);
/* nfc.c: the NFC of s[0..n): 0 if it is s, 1 with a new *out[0..*len)
 * (free it), -1 out of memory.  Bytes that are not UTF-8 stay. */
int wb_nfc(const unsigned char *s, size_t n, unsigned char **out,
    size_t *len);
/* The id of the token whose bytes are p[0..n), or UINT32_MAX. */
uint32_t wb_bpe_id_of(const struct wb_bpe *b, const void *p, size_t n);
/* A token that a vocabulary adds to its byte-pair merges: text[0..len)
 * (no NUL) is token id; special ones count only with allow_special, the
 * others always; strip: WB_STRIP_ bits, the spaces (Unicode's White_Space)
 * next to it that it takes, as Hugging Face's lstrip and rstrip. */
struct wb_bpe_added {
	const char *text;
	size_t len;
	uint32_t id;
	bool special;
	uint8_t strip;
};
enum { WB_STRIP_LEFT = 1, WB_STRIP_RIGHT = 2 };
/* An encoding from a vocabulary: the bytes of id r are bytes[off[r] ..
 * off[r + 1]) (none if empty), for r < n_ids, merged by rank = id; text
 * split into pieces by the pre-tokenizer pat; added tokens split out first, the longest where several
 * start at one place.  With merge_whole, a piece that is a token is
 * merged all the same rather than taken whole.  name names it. */
struct wb_bpe *wb_bpe_from_tokens(const char *name, enum wb_pat pat,
    const unsigned char *bytes, const uint32_t *off, uint32_t n_ids,
    const struct wb_bpe_added *added, size_t n_added, bool merge_whole,
    struct wb_err *err);

/* tokcache.c */

/* A tokenizer file as a cache keeps it: where its cache is, what the
 * file was (identity, time, and a hash of its first and last 64 KiB),
 * and which build of the library reads it (WB_BUILD_ID). */
struct wb_tokcache_key {
	char dir[1024], file[1100];
	uint64_t dev, ino, size, probe, build;
	int64_t sec, nsec;
};
/* One section of a cache file: an engine's bytes under its tag. */
struct wb_tokcache_part {
	uint32_t tag;
	const void *p;
	size_t len;
};
#define WB_TC_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
	(uint32_t)(c) << 16 | (uint32_t)(d) << 24)
/* The key of the tokenizer file path; -1 if there is no cache for it. */
int wb_tokcache_key(const char *path, struct wb_tokcache_key *k);
/* The cache of k's file, mapped, if it was built from the file as it is
 * now and is sound; else NULL. */
struct wb_tokcache *wb_tokcache_open(const struct wb_tokcache_key *k);
/* Section tag of tc (8-byte aligned) and its length, or NULL. */
const void *wb_tokcache_section(const struct wb_tokcache *tc, uint32_t tag,
    size_t *len);
/* Free tc but keep its mapping, which the caller then owns (munmap). */
void *wb_tokcache_take(struct wb_tokcache *tc, size_t *len);
void wb_tokcache_close(struct wb_tokcache *tc);
/* Write the cache of k's file with the sections parts[0..n); a failure
 * is no error (the next run compiles the file again). */
void wb_tokcache_write(const struct wb_tokcache_key *k,
    const struct wb_tokcache_part *parts, size_t n);
/* A tokenizer file compiled: an encoding (byte-level BPE, made into a
 * counter by wb_exact_from_bpe) or, for SentencePiece-style BPE, its
 * counter (spm.c).  One of the two is set. */
struct wb_compiled {
	struct wb_bpe *bpe;
	struct wb_counter *spm;
};
/* The tokenizer file path compiled, into *out: from its cache, else made
 * by build(path, arg, out, err), and then cached.  A counter read from
 * the cache gets spec and name, as build would have given it.  WB_OK, or
 * build's error (out then holds nothing). */
int wb_tokcache_tokenizer(const char *path, const struct wb_counter_spec *spec,
    const char *name, int (*build)(const char *path, void *arg,
    struct wb_compiled *out, struct wb_err *err), void *arg,
    struct wb_compiled *out, struct wb_err *err);
/* bpe.c's side: write an encoding of wb_bpe_from_tokens to k's cache;
 * read one from tc, which it then owns (NULL, tc still the caller's, if
 * tc does not hold a sound one); name names it. */
void wb_bpe_to_cache(const struct wb_bpe *b, const struct wb_tokcache_key *k);
struct wb_bpe *wb_bpe_from_cache(struct wb_tokcache *tc, const char *name);

/* text_stats.c */

/* Start a scan. */
void wb_stats_scan_init(struct wb_stats_scan *sc);
/* Scan the next piece; invalid UTF-8 fails with its offset in the text. */
int wb_stats_scan_feed(struct wb_stats_scan *sc, const char *s, size_t len,
    struct wb_err *err);
/* Statistics of s[0..len) (valid UTF-8). */
void wb_text_stats_of(struct wb_text_stats *st, const char *s, size_t len);
/* Add one scalar of n bytes to st: the slow path, a scalar at a time. */
void wb_text_stats_add(struct wb_text_stats *st, uint32_t cp, size_t n);
/* The statistics of a followed by b. */
struct wb_text_stats wb_text_stats_cat(struct wb_text_stats a,
    struct wb_text_stats b);
/* The heuristic count of a text with statistics st. */
uint64_t wb_text_stats_count(const struct wb_counter_spec *spec,
    const struct wb_text_stats *st);
/* Make a counter of the engine's heuristics; the caller owns it. */
struct wb_counter *wb_stats_counter_new(const struct wb_counter_spec *spec,
    struct wb_err *err);

/* counter.c */

/* Do counts follow from concatenable text statistics (the heuristics)? */
bool wb_counter_by_stats(const struct wb_counter *c);
/* The last cut of s at an offset in [from, to) where the counts of the two
 * sides add up, or 0: to ends whole characters, and s[0] starts the text
 * or lies wb_counter_lookback() before from. */
size_t wb_counter_last_cut(const struct wb_counter *c, const char *s,
    size_t from, size_t to);
/*
 * The last cut of s at an offset p in [from, to) where the tokens before
 * it stay whatever follows, or 0, on the terms of wb_counter_last_cut:
 * s[0..p) counts as a text of its own, and the rest as going on from it,
 * so that any text that starts with s[0..to) counts at least what s[0..p)
 * does.  A tokenizer that puts a space in front of a text has such cuts
 * where it has no cuts whose two sides add up as texts of their own.
 */
size_t wb_counter_left_cut(const struct wb_counter *c, const char *s,
    size_t from, size_t to);
/* How far before a cut the text must be kept to find it again, or 0. */
size_t wb_counter_lookback(const struct wb_counter *c);
/* Does the counter have cuts (wb_counter_last_cut) at all? */
bool wb_counter_can_cut(const struct wb_counter *c);
/* The statistics of what was fed, for counters by statistics; else NULL. */
const struct wb_text_stats *wb_count_stream_stats(const struct wb_count_stream *cs);
/* Make cs count a new text, as a new stream of its counter would, and
 * true; false (cs unchanged) when its kind cannot. */
bool wb_count_stream_reset(struct wb_count_stream *cs);
/* Make the fresh or reset cs count what it is fed as going on from a
 * left cut (wb_counter_left_cut) of a text before it: the counts of the
 * parts of a text cut at left cuts then add up to the count of the whole
 * (a tokenizer that puts a space in front puts none in front of them). */
void wb_count_stream_go_on(struct wb_count_stream *cs);

/* parts.c */

/* wb_read_count_parallel for files of min bytes or more, in parts of
 * about part bytes (0: wb_parts_size). */
int wb_read_count_parts(const struct wb_io *io, const struct wb_counter *c,
    unsigned threads, uint64_t min, size_t part, uint64_t *count,
    struct wb_err *err);
/* The size of the parts of len bytes for threads threads, by default. */
size_t wb_parts_size(uint64_t len, unsigned threads);

/* exact.c */

/* Make a counter for spec->encoding; the caller owns it. */
struct wb_counter *wb_exact_new(const struct wb_counter_spec *spec,
    struct wb_err *err);
/* Make an exact counter of the encoding b, named name; it owns b, and
 * frees it if it fails. */
struct wb_counter *wb_exact_from_bpe(const struct wb_counter_spec *spec,
    struct wb_bpe *b, const char *name, struct wb_err *err);

/* hf.c */

/* Make a counter for spec->tokenizer: a tokenizer.json or a GGUF file
 * (told apart by content), or "ollama:NAME[:TAG]". */
struct wb_counter *wb_hf_new(const struct wb_counter_spec *spec,
    struct wb_err *err);
/* The encoding of the tokenizer.json file path. */
struct wb_bpe *wb_hf_open(const char *path, struct wb_err *err);
/* A byte-level BPE vocabulary as files write it: the text of id r is
 * tok[r] in GPT-2's byte alphabet (len 0: no such token); merge i is
 * merges[2i] + merges[2i + 1], by rank; the added tokens are split out
 * first.  name and tokens_key ("model.vocab") are for messages. */
struct wb_bytelevel {
	const char *name, *tokens_key;
	enum wb_pat pat;
	const struct wb_gguf_str *tok, *merges;
	uint32_t n_ids;
	size_t n_merges;
	const struct wb_bpe_added *added;
	size_t n_added;
	bool merge_whole;
};
/* The encoding of v, merged by rank = id: refused unless the merges make
 * their tokens in the order of the tokens' ids. */
struct wb_bpe *wb_bytelevel_bpe(const struct wb_bytelevel *v,
    struct wb_err *err);

/* gguf_vocab.c */

/* The encoding of the tokenizer in the GGUF file path, if llama.cpp
 * tokenizes with it as wb can: byte-level BPE (model gpt2) whose
 * pre-tokenizer is one of pretok.c's; else 65, naming what is not. */
struct wb_bpe *wb_gguf_bpe_open(const char *path, struct wb_err *err);
/* Does g's general.name say Phi-3 to llama.cpp ("phi3" or "phi-3" in any
 * case)? */
bool wb_gguf_phi3(const struct wb_gguf *g);
/* The types (GGUF's numbers, 1 normal to 6 byte) that llama.cpp gives the
 * n tokens tok of g in the end, by their texts, from those in type[] the
 * file gives them: end of generation control, fill in the middle control
 * (where it is known which), gpt-oss's user-defined and so on.  With strip,
 * the WB_STRIP_ bits it gives them (Phi-3's), 65 if it refuses the file. */
int wb_gguf_final_types(const struct wb_gguf *g, const char *path,
    const struct wb_gguf_str *tok, size_t n, uint8_t *type, uint8_t *strip,
    struct wb_err *err);

/* spm.c */

/* A counter of the GGUF file path if its tokenizer is SentencePiece-style
 * BPE (model "llama"), tokenizing as llama.cpp does; name names it.  Not
 * such a file: NULL with *mine false and err untouched, for another
 * reader to try.  Else *mine true, and NULL with err set on failure. */
struct wb_counter *wb_spm_gguf_new(const struct wb_counter_spec *spec,
    const char *path, const char *name, bool *mine, struct wb_err *err);
/* Is the tokenizer.json root SentencePiece-style BPE (byte_fallback, or
 * spaces made "▁" by its normalizer or Metaspace)? */
bool wb_spm_json_wants(const json_t *root);
/* A counter of such a tokenizer.json, tokenizing as Hugging Face's
 * tokenizers does; path is for messages, name names it. */
struct wb_counter *wb_spm_json_new(const struct wb_counter_spec *spec,
    const json_t *root, const char *path, const char *name,
    struct wb_err *err);
/* Write the counter c of wb_spm_gguf_new or wb_spm_json_new to k's
 * cache.  Read one from tc, mapped, which it then owns, with spec and
 * name (NULL, tc still the caller's, if tc does not hold a sound one). */
void wb_spm_to_cache(const struct wb_counter *c, const struct wb_tokcache_key *k);
struct wb_counter *wb_spm_from_cache(const struct wb_counter_spec *spec,
    struct wb_tokcache *tc, const char *name);
/* Let the counter's streams look for cuts once they hold n bytes (tests;
 * 32 KB otherwise). */
void wb_spm_set_stream_hold(struct wb_counter *c, size_t n);
/* Merge each run of text whole, not cut into pieces (tests compare the
 * two). */
void wb_spm_set_whole(struct wb_counter *c, bool whole);
/* The bytes of text a stream of such a counter holds, not yet counted
 * (tests). */
size_t wb_spm_stream_held(const struct wb_count_stream *cs);

/* settings.c */

/* Where a setting's value came from: it decides the status of an error. */
enum wb_source {
	WB_FROM_FILE,    /* 78 */
	WB_FROM_FLAG,    /* 64 */
	WB_FROM_RECORD,  /* 65 */
};

/* The names of the engine's categories, by enum wb_category. */
extern const char *const wb_category_names[WB_NCAT];

/* A configuration's own categories (categories:), for wb-budget. */
struct wb_cats {
	size_t n;
	const char *name[WB_MAXCAT];     /* owned */
	uint64_t budget[WB_MAXCAT];
	uint64_t priority[WB_MAXCAT];    /* 1: the most important */
	uint8_t order[WB_MAXCAT];        /* indexes, the most important first */
	uint8_t tail[WB_MAXCAT];         /* keep: tail */
};

/* Settings as one block wrote them: only the keys it set count. */
struct wb_layer {
	uint32_t set;            /* bit k: key k was given */
	size_t preset;
	uint64_t total, budget[WB_NCAT];
	bool summ, sumhist;      /* enable_summarization, summarize_history */
	char model[256];         /* "" for null */
	char cmd[1024];
	double timeout;
	enum wb_method method;
	char cpreset[16];
	double cpt, tpw;
	uint64_t ht;
	char enc[32];            /* counter.encoding, or a model's encoding */
	char encdir[1024];       /* counter.encodings_dir */
	char tokenizer[1024];    /* counter.tokenizer: a tokenizer.json file */
	uint64_t line, col;      /* where the block starts */
	char *tpl[WB_NTPL];      /* templates, owned; NULL: not given */
	const char *origin;      /* a file's path; NULL: flags or a record */
	bool from_record;        /* a record's context_budget */
	uint32_t kline[32];      /* in a file: the line of each key set */
};


/* The key named name ("counter.method"), or -1; keys that only flags set
 * are -1 unless flag. */
int wb_setting_key(const char *name, bool flag);
/* The name of key k. */
const char *wb_setting_name(int k);
/* Is v, as written (plain: not quoted), a null? */
bool wb_setting_null(const char *v, bool plain);
/* Set key k of l from the text v; messages name what, else the key. */
int wb_layer_put(struct wb_layer *l, int k, const char *v, bool plain,
    enum wb_source src, const char *what, struct wb_err *err);
/* Did l set key k? */
bool wb_layer_has(const struct wb_layer *l, int k);
/* Free what a layer owns, not the layer. */
void wb_layer_clear(struct wb_layer *l);
/* Lay l over s: the preset first, then the keys given one by one. */
void wb_settings_apply(struct wb_settings *s, const struct wb_layer *l);
/* The encoding of the model $WB_MODEL names: NULL if it is unset or empty,
 * else an error (78) if the model is unknown. */
int wb_env_model(const char **encoding, struct wb_err *err);

/* truncate.c */

/* Look for what can go first once n bytes are kept, and after (tests). */
void wb_trunc_stream_set_step(struct wb_trunc_stream *ts, size_t n);
/* How many bytes of the text the stream holds now (tests). */
size_t wb_trunc_stream_held(const struct wb_trunc_stream *ts);

/* summarize.c */

/* Summarize text for a budget: prefix + summary in *out only if it fits. */
int wb_summarize_within(const struct wb_settings *s,
    const struct wb_counter *c, const char *category, uint64_t budget,
    const char *prefix, size_t plen, const char *text, size_t len, char **out,
    size_t *outlen, struct wb_err *err);

/* section.c */

/* What stands for the part of a text that was cut. */
#define WB_ELLIPSIS "..."
/* What joins the sections of a prompt: a blank line. */
#define WB_SEP "\n\n"

/*
 * A text held to a budget. It is cut from its base, the original or a
 * summary of it, and counted; or dropped.
 */
struct wb_section {
	const char *orig;        /* as it came; borrowed */
	size_t orig_len;
	size_t head;             /* its heading, which says nothing alone */
	const char *base;        /* what cuts start from: orig, or summary */
	size_t base_len;
	char *summary;           /* owned, when there is one */
	char *text;              /* the kept text, owned; NULL: the base */
	size_t len;
	struct wb_text_stats st;     /* of the kept text, for counts by statistics */
	uint64_t original_tokens, final_tokens;
	bool truncated, summarized, dropped;
	char summary_error[sizeof(((struct wb_err *)0)->msg)];
};

/* Why s is as it is, in the reports' words: "shed" when it was cut or
 * dropped to fit the total, else "summary_failed", "summarized",
 * "own_budget" (cut to its budget) or "fits". */
const char *wb_section_reason(const struct wb_section *s, bool shed);
/* Start s on text (borrowed), whose first head bytes are a heading. */
void wb_section_init(struct wb_section *s, const char *text, size_t len,
    size_t head);
/* The text of s as it stands. */
const char *wb_section_kept(const struct wb_section *s);
/* Count s whole: its original tokens, and its statistics when c uses them. */
uint64_t wb_section_measure(struct wb_section *s, const struct wb_counter *c);
/* Cut s from its base to b tokens, keeping its head or its tail. */
int wb_section_cut(struct wb_section *s, const struct wb_counter *c,
    uint64_t b, enum wb_keep keep, struct wb_err *err);
/* Try the summarize command on s, over budget in category name. */
void wb_section_summarize(struct wb_section *s, const struct wb_settings *set,
    const struct wb_counter *c, const char *name, uint64_t budget);
/* Drop s: nothing of it is kept. */
void wb_section_drop(struct wb_section *s);
/* Is nothing of s left but (part of) its heading and an ellipsis? */
bool wb_section_is_empty(const struct wb_section *s);
/* Free what s owns. */
void wb_section_free(struct wb_section *s);
/* The largest b in [0, hi] with fits(ctx, b) (1 yes, 0 no, <0 -status). */
int wb_search_fit(uint64_t hi, int (*fits)(void *ctx, uint64_t b), void *ctx,
    uint64_t *best);

/* prompt_request.c */

/* Check a wb-prompt request: the first problem, with its JSON path, 65. */
int wb_request_check(const json_t *req, struct wb_err *err);

/* prompt_render.c */

/* One conversation turn as its chat message reads: "Speaker: text". */
struct wb_turn {
	char *content;          /* owned */
	size_t len;
	size_t prefix;          /* the length of "Speaker: " */
	bool assistant;         /* said by the responding character */
};

/* A request's texts as they read before any budget. */
struct wb_render {
	struct wb_buf role, format;
	struct wb_buf block[WB_NCAT];   /* by category; history's is empty */
	size_t head[WB_NCAT];           /* the length of each one's heading */
	struct wb_turn *turns;
	size_t nturns;
};

/* Render a checked request's texts under the settings' templates. */
int wb_render_request(const struct wb_settings *s, const json_t *req,
    struct wb_render *out, struct wb_err *err);
/* Free what wb_render_request made. */
void wb_render_free(struct wb_render *r);
/* The player's action, as the final user message. */
void wb_render_action(struct wb_buf *b, const json_t *req);

/* ws.c */

/* A parsed ws:// or wss:// URL. */
struct wb_url {
	bool tls;
	bool host_is_ip;
	char host[256];      /* without brackets */
	char port[8];
	char hostport[280];  /* for the Host header */
	char path[2048];
};

/* Parse ws://HOST[:PORT]/PATH or wss://...; 64 when malformed. */
int wb_url_parse(const char *s, struct wb_url *u, struct wb_err *err);
/* Check a handshake response head against the key that was sent. */
int wb_ws_check_head(const char *head, const char *key, struct wb_err *err);
/* Run the client handshake over a connected fd with a fixed key. */
struct wb_ws *wb_ws_open_fd(int fd, const char *url, const char *key,
    const struct wb_ws_opts *o, const struct wb_ws_handler *h,
    struct wb_err *err);

#endif
