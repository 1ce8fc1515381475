/* wb.h: the public interface of libwb, the library behind the wb filters. */
#ifndef WB_H
#define WB_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define WB_VERSION "0.1.0"

/* Exit statuses, after sysexits(3); every command uses exactly these. */
enum wb_status {
	WB_OK = 0,
	WB_ECHECK = 1,     /* a check failed: over a limit or budget */
	WB_EUSAGE = 64,    /* command line misuse */
	WB_EDATA = 65,     /* bad input record or text */
	WB_ENOINPUT = 66,  /* a file could not be opened */
	WB_EUNAVAIL = 69,  /* a service was unavailable */
	WB_EINTERNAL = 70, /* internal error: a bug */
	WB_EIO = 74,       /* input/output error */
	WB_ETEMPFAIL = 75, /* stopped early or busy: not all done; retry */
	WB_EREFUSED = 77,  /* permission refused */
	WB_ECONFIG = 78,   /* bad configuration */
};

/* err.c */

/* An error as library code returns it: a status and a one-line message. */
struct wb_err {
	int status;        /* one of enum wb_status */
	uint64_t line;     /* 1-based line of the problem, 0 if none */
	uint64_t col;      /* 1-based column, 0 if none */
	uint64_t offset;   /* byte offset for text errors */
	char msg[512];
};

/* Set err to status and a printf-style message; returns status. */
int wb_err_set(struct wb_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put what (an option, a file, a field) in front of err's message. */
int wb_err_prefix(struct wb_err *err, const char *what);
/* Combine two exit statuses into the one a command should report. */
int wb_status_worst(int a, int b);

/* num.c */

/* Parse a decimal unsigned integer in [min, max]; no sign, no junk. */
int wb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    struct wb_err *err);
/* Parse a finite positive decimal number. */
int wb_parse_pos_double(const char *s, double *out, struct wb_err *err);
/* Parse a size with an optional K, M or G (binary) suffix. */
int wb_parse_size(const char *s, uint64_t *out, struct wb_err *err);

/* utf8.c */

/* The length of the longest prefix of s[0..len) that is whole UTF-8. */
size_t wb_utf8_valid(const char *s, size_t len);
/* True when cp has the Unicode White_Space property (PropList.txt). */
bool wb_is_space(uint32_t cp);

/* The largest count, budget or limit: 2^53, exact in a double and in JSON. */
#define WB_MAX_TOKENS (1ULL << 53)

/* counter.c, text_stats.c, exact.c */

enum wb_method {
	WB_METHOD_CHAR,    /* ceil(scalars / chars_per_token) */
	WB_METHOD_WORD,    /* ceil(words * tokens_per_word) + punct / 2 */
	WB_METHOD_HYBRID,  /* char below hybrid_threshold bytes, else word */
};

/* What a counter is made from: a method and its parameters. */
struct wb_counter_spec {
	enum wb_method method;
	double chars_per_token;
	double tokens_per_word;
	uint64_t hybrid_threshold;
	char encoding[32];          /* an exact encoding; "" for the heuristics */
	bool allow_special;         /* special-token text maps to special ids */
	const char *encodings_dir;  /* where the rank files are; NULL: search */
	const char *tokenizer;      /* a tokenizer.json file; NULL or "": none */
};

struct wb_counter;
struct wb_count_stream;

/* Fill spec with a named preset ("default" or "llama"); 0 or -1. */
int wb_counter_preset(struct wb_counter_spec *spec, const char *name);
/* Fill spec with the engine's defaults: hybrid, preset "default". */
void wb_counter_spec_default(struct wb_counter_spec *spec);
/* Parse a method name ("char", "word", "hybrid"); 0 or -1. */
int wb_method_parse(const char *name, enum wb_method *m);
/* The name of a method. */
const char *wb_method_name(enum wb_method m);
/* The encoding of a model ("gpt-4o" is "o200k_base"), or NULL. */
const char *wb_model_encoding(const char *model);
/* Model i of those known, then the prefixes: its name or prefix (*prefix
 * says which) and its encoding; NULL past the last. */
const char *wb_model_at(size_t i, bool *prefix, const char **encoding);
/* Do two specs make the same counter? */
bool wb_counter_spec_same(const struct wb_counter_spec *a,
    const struct wb_counter_spec *b);
/* The exact encoding behind a counter, or NULL for the heuristics. */
const struct wb_bpe *wb_counter_bpe(const struct wb_counter *c);
/* Make a counter; the caller owns it. */
struct wb_counter *wb_counter_new(const struct wb_counter_spec *spec,
    struct wb_err *err);
/* Free a counter. */
void wb_counter_free(struct wb_counter *c);
/* The counter in *slot if spec makes the same, else a new one put there. */
struct wb_counter *wb_counter_reuse(struct wb_counter **slot,
    const struct wb_counter_spec *spec, struct wb_err *err);
/* Count a chat completion request {"messages": [...], "tools"?: [...]}
 * as the chat API bills it (as the npm package gpt-tokenizer counts it). */
int wb_count_chat(const struct wb_counter *c, const json_t *chat,
    uint64_t *n, struct wb_err *err);
/* Can the counter give token ids (wb_counter_encode, wb_counter_decode)? */
bool wb_counter_has_ids(const struct wb_counter *c);
/* Token ids of s (the first cap into ids, which may be NULL); their
 * number, or WB_BPE_FAIL with err set. */
size_t wb_counter_encode(const struct wb_counter *c, const char *s, size_t len,
    uint32_t *ids, size_t cap, struct wb_err *err);
/* The bytes of the tokens ids[0..n), NUL-terminated, for the caller to
 * free, their length in *len; NULL with err set: WB_EDATA for an id that
 * is no token's.  The bytes need not be UTF-8. */
char *wb_counter_decode(const struct wb_counter *c, const uint32_t *ids,
    size_t n, size_t *len, struct wb_err *err);
/* A short description of the counter, such as "hybrid" or "o200k_base". */
const char *wb_counter_name(const struct wb_counter *c);
/* Count the tokens of s[0..len) (valid UTF-8; NUL bytes allowed). */
uint64_t wb_count(const struct wb_counter *c, const char *s, size_t len);
/* Count, stopping early once the count is known to exceed limit. */
uint64_t wb_count_limit(const struct wb_counter *c, const char *s, size_t len,
    uint64_t limit);
/* Start counting a text that arrives in pieces; the caller owns it. */
struct wb_count_stream *wb_count_stream_new(const struct wb_counter *c);
/* Feed the next piece; invalid UTF-8 fails with its offset in the text. */
int wb_count_stream_feed(struct wb_count_stream *cs, const char *buf,
    size_t len, struct wb_err *err);
/* The count of everything fed so far; a lower bound until the end. */
uint64_t wb_count_stream_count(const struct wb_count_stream *cs);
/* End the text: fails if it stops inside a UTF-8 sequence. */
int wb_count_stream_end(struct wb_count_stream *cs, uint64_t *count,
    struct wb_err *err);
/* Free a stream. */
void wb_count_stream_free(struct wb_count_stream *cs);

/* truncate.c */

enum wb_keep {
	WB_KEEP_HEAD,  /* keep the beginning, append the ellipsis */
	WB_KEEP_TAIL,  /* keep the end, prepend the ellipsis */
};

/* What wb_truncate made of a text. */
struct wb_trunc {
	char *text;              /* the result, NUL-terminated; caller frees */
	size_t len;              /* its length in bytes */
	uint64_t original_tokens;
	uint64_t final_tokens;   /* counted on text, never over the budget */
	bool was_truncated;
};

/* Cut s[0..len) to at most budget tokens, keeping as much as fits. */
int wb_truncate(const struct wb_counter *c, const char *s, size_t len,
    uint64_t budget, enum wb_keep keep, const char *ellipsis,
    struct wb_trunc *out, struct wb_err *err);

struct wb_trunc_stream;

/* Start truncating a text that arrives in pieces (ellipsis borrowed); the
 * caller owns it. */
struct wb_trunc_stream *wb_trunc_stream_new(const struct wb_counter *c,
    uint64_t budget, enum wb_keep keep, const char *ellipsis);
/* Feed the next piece; invalid UTF-8 fails with its offset in the text. */
int wb_trunc_stream_feed(struct wb_trunc_stream *ts, const char *buf,
    size_t len, struct wb_err *err);
/* End the text and truncate it as wb_truncate would all of it. */
int wb_trunc_stream_end(struct wb_trunc_stream *ts, struct wb_trunc *out,
    struct wb_err *err);
/* Free a truncation stream. */
void wb_trunc_stream_free(struct wb_trunc_stream *ts);

/* settings.c, config.c */

/* The eight kinds of prompt context, each with its own budget. */
enum wb_category {
	WB_CAT_SCENE,
	WB_CAT_CHARACTER,
	WB_CAT_HISTORY,       /* conversation_history */
	WB_CAT_CHALLENGES,
	WB_CAT_NARRATIVE,     /* narrative_events */
	WB_CAT_DIRECTORIAL,   /* directorial_notes */
	WB_CAT_LOCATION,      /* location_context */
	WB_CAT_PLAYER,        /* player_context */
	WB_NCAT
};

/* The most categories a configuration may declare of its own. */
#define WB_MAXCAT 32

struct wb_cats;

/* Categories from the most important to the least, as the engine has it. */
extern const enum wb_category wb_priority[WB_NCAT];

/* The headings and fixed texts of a prompt that a world may reword. */
enum wb_template {
	WB_TPL_ROLE, WB_TPL_SCENE, WB_TPL_LOCATION, WB_TPL_TIME,
	WB_TPL_PRESENT, WB_TPL_ITEMS, WB_TPL_DIRECTOR, WB_TPL_MOOD,
	WB_TPL_DISPOSITION, WB_TPL_RELATIONSHIP, WB_TPL_KNOWN,
	WB_TPL_SUSPECTED, WB_TPL_SECRET, WB_TPL_SOCIAL, WB_TPL_CHALLENGES,
	WB_TPL_EVENTS, WB_TPL_LOCATION_CONTEXT, WB_TPL_PLAYER_CONTEXT,
	WB_TPL_RESPONSE_FORMAT,
	WB_NTPL
};

/* The effective settings for one record: budgets, counter, summarizing. */
struct wb_settings {
	uint64_t total;                  /* total_budget_tokens */
	uint64_t budget[WB_NCAT];        /* <category>_tokens */
	bool enable_summarization;
	char summarization_model[256];   /* "" for null */
	char summarize_command[1024];    /* "" for none */
	double summarize_timeout;        /* seconds */
	bool summarize_history;          /* wb-prompt: dropped turns too */
	struct wb_counter_spec counter;
	const char *templates[WB_NTPL];  /* NULL: the default; borrowed */
	/* The configuration's own categories, which replace the eight
	 * above in wb-budget; NULL: none. Borrowed. */
	const struct wb_cats *cats;
	/* Which layer set the total (0) and each budget (1 + category);
	 * NULL: a default or a preset. Borrowed, for messages. */
	const struct wb_layer *from[1 + WB_NCAT];
};

struct wb_config;
struct wb_layer;

/* Set key from a JSON value (a record's context_budget) in a layer. */
int wb_layer_set_json(struct wb_layer *l, const char *key, const json_t *v,
    struct wb_err *err);
/* The name of a category ("conversation_history"). */
const char *wb_category_name(enum wb_category c);
/* Parse a category name; 0 or -1. */
int wb_category_parse(const char *name, enum wb_category *c);
/* Fill s with the defaults: the built-in ones, then $WB_MODEL's encoding. */
void wb_settings_default(struct wb_settings *s);
/* Load a YAML configuration file; errors are FILE:LINE:COL, status 78. */
struct wb_config *wb_config_load(const char *path, struct wb_err *err);
/* Find the configuration file by the documented search; NULL for none. */
const char *wb_config_find(char *buf, size_t size);
/* Free a configuration. */
void wb_config_free(struct wb_config *cfg);
/* The configuration's path if it declares categories of its own, else
 * NULL. */
const char *wb_config_categories_path(const struct wb_config *cfg);
/* Is world one of the configuration's? */
bool wb_config_has_world(const struct wb_config *cfg, const char *world);
/* Load path, or the file the search finds (none: defaults), under flags. */
int wb_config_open(const char *path, const struct wb_layer *flags,
    struct wb_config **cfg, struct wb_err *err);
/* A layer of settings from flags; the caller owns it. */
struct wb_layer *wb_layer_new(void);
/* Free a layer. */
void wb_layer_free(struct wb_layer *l);
/* Set key (a configuration file key) to value in a flags layer; messages
 * name flag, the option as typed (NULL: the key). */
int wb_layer_set(struct wb_layer *l, const char *key, const char *value,
    const char *flag, struct wb_err *err);
/* Settings from the defaults and layers[0..n) (NULLs skipped), validated. */
int wb_settings_from(const struct wb_layer *const *layers, size_t n,
    struct wb_settings *s, struct wb_err *err);
/* Resolve the settings of world (or none) under cfg (or none), a record's
 * own layer (or none) and flags, in that order. */
int wb_settings_resolve(const struct wb_config *cfg, const char *world,
    const struct wb_layer *rec, const struct wb_layer *flags,
    struct wb_settings *s, struct wb_err *err);
/* Check the top level and every world again with the flags laid over. */
int wb_config_check_flags(const struct wb_config *cfg,
    const struct wb_layer *flags, struct wb_err *err);
/* Check the settings as the engine does: total > 0, sum <= 3 x total. */
int wb_settings_validate(const struct wb_settings *s, struct wb_err *err);
/* The settings as one JSON object with the keys of the file; new ref. */
json_t *wb_settings_json(const struct wb_settings *s);

/* budget.c */

/* Hold each section of a record to its budget and the whole to the total. */
int wb_budget_enforce(const struct wb_settings *s, const struct wb_counter *c,
    json_t *sections, json_t **report, struct wb_err *err);
/* Measure the sections against the budgets without changing them. */
int wb_budget_check(const struct wb_settings *s, const struct wb_counter *c,
    const json_t *sections, json_t **report, struct wb_err *err);
/* One warning line on f for each section of a report whose summarizer
 * failed: "PROG: WHERE: SECTION: no summary (WHY); ..."; turns: the
 * history is turns, whose oldest were dropped instead. */
void wb_warn_summaries(FILE *f, const char *prog, const char *where,
    const json_t *sections, bool turns);

/* prompt.c */

/* What wb_prompt_build makes of a request; free with wb_prompt_out_free. */
struct wb_prompt_out {
	char *system;        /* the system prompt; NULL when it cannot fit */
	size_t system_len;
	json_t *messages;    /* system, history turns, the player's action */
	json_t *report;      /* tokens, budgets, what was cut or dropped */
};

/* Build the system prompt and messages of one request within budget. */
int wb_prompt_build(const struct wb_settings *s, const struct wb_counter *c,
    const json_t *req, bool allow_over, struct wb_prompt_out *out,
    struct wb_err *err);
/* Free what wb_prompt_build made. */
void wb_prompt_out_free(struct wb_prompt_out *out);

/* prompt_render.c */

/* The key of a template in the configuration file ("current_scene"). */
const char *wb_template_name(enum wb_template t);

/* summarize.c */

/* Run cmd on text with a deadline; its output, if it fits, in *out. */
int wb_summarize(const char *cmd, double timeout, const char *category,
    uint64_t target, const char *text, size_t len, char **out, size_t *outlen,
    struct wb_err *err);

/* bpe.c: the exact tokens of OpenAI's tiktoken */

#define WB_BPE_FAIL ((size_t)-1)   /* wb_bpe_encode failed */
#define WB_BPE_NO_CACHE 0x1u       /* wb_bpe_open: no binary cache */

struct wb_bpe;

/* Load an encoding's ranks from dir (NULL: the default) with flags
 * (WB_BPE_NO_CACHE); the caller owns it. */
struct wb_bpe *wb_bpe_open(const char *dir, const char *encoding,
    unsigned flags, struct wb_err *err);
/* Free an encoding. */
void wb_bpe_free(struct wb_bpe *bpe);
/* Is name an encoding this library knows? */
bool wb_bpe_known(const char *name);
/* Encoding i of those known: its name, its rank file (without ".tiktoken")
 * and how many special tokens it has; NULL past the last. */
const char *wb_bpe_encoding_at(size_t i, const char **ranks,
    size_t *n_special);
/* The encoding's name. */
const char *wb_bpe_name(const struct wb_bpe *bpe);
/* Token ids of s (the first cap into ids, which may be NULL); their count. */
size_t wb_bpe_encode(const struct wb_bpe *bpe, const char *s, size_t len,
    int allow_special, uint32_t *ids, size_t cap, struct wb_err *err);
/* The bytes of token id, or NULL if there is none. */
const char *wb_bpe_token(const struct wb_bpe *bpe, uint32_t id, size_t *len);
/* The bytes of ids[0..n) into out (at most cap), their length in *outlen. */
int wb_bpe_decode(const struct wb_bpe *bpe, const uint32_t *ids, size_t n,
    char *out, size_t cap, size_t *outlen, struct wb_err *err);
/* One more than the largest token id. */
uint32_t wb_bpe_n_vocab(const struct wb_bpe *bpe);

/* record.c */

/* Where records come from and go, and how bad ones are reported. */
struct wb_io {
	const char *prog;      /* "wb-count": prefix of stderr messages */
	FILE *in, *out, *err;
	const char *in_name;   /* "stdin", or the file's name */
	bool in_file;          /* in is a named file: error records say so */
	bool text_modes;       /* the command has -r and -R: hints name them */
	bool annotate;         /* --annotate github: workflow commands too */
	uint64_t max_record;   /* bytes; 0 = WB_MAX_RECORD */
	/* How a handled record is written; NULL: wb_emit. */
	int (*emit)(FILE *out, const json_t *rec, struct wb_err *err);
	/* Called before each read of in: returns once in has input, doing
	 * other work meanwhile; a nonzero status stops reading. NULL: none. */
	int (*wait)(void *ctx, int fd);
	void *wait_ctx;
	/* Where bad records go too, byte for byte as read, one a line (a
	 * record too big to keep is not); NULL: nowhere. */
	FILE *reject;
	uint64_t *nbad;        /* counts the bad records; NULL: not counted */
};

#define WB_MAX_RECORD (64ULL << 20)

/* Handle one record in place; return WB_OK, WB_ECHECK or set err. */
typedef int (*wb_record_fn)(void *ctx, json_t *rec, struct wb_err *err);

/* Run fn over every record of io->in, writing one line per record. */
int wb_records_run(const struct wb_io *io, wb_record_fn fn, void *ctx);
/* Run fn over each line of io->in as the text at field of a record
 * {"file": NAME, "line": N}, as jq -R reads lines; a line that is not
 * UTF-8 is a bad record. */
int wb_lines_run(const struct wb_io *io, const char *field, wb_record_fn fn,
    void *ctx);
/* Count all of io->in as one text, in constant memory. */
int wb_read_count(const struct wb_io *io, const struct wb_counter *c,
    uint64_t *count, struct wb_err *err);
/* Files of this size or more are counted in parts by several threads. */
#define WB_PARALLEL_MIN (64LL << 20)
/* Count all of io->in as one text: when it is a regular file of
 * WB_PARALLEL_MIN bytes or more from its offset, and the counter splits,
 * in parts by threads (0: one a CPU) at once; else as wb_read_count.  The
 * count is the same either way, and so is an error's offset. */
int wb_read_count_parallel(const struct wb_io *io, const struct wb_counter *c,
    unsigned threads, uint64_t *count, struct wb_err *err);
/* Can the counter count a text in parts: do its counts add up across the
 * cuts its streams make (or its statistics concatenate)? */
bool wb_counter_splits(const struct wb_counter *c);
/* Count the bytes [off, off + len) of the regular file fd in parts of
 * about part bytes, each ending at a cut the counter allows, by up to
 * threads threads; *nparts (if not NULL): how many parts.  Invalid UTF-8
 * fails with an offset in its part, not in the file. */
int wb_count_fd_parts(const struct wb_counter *c, int fd, uint64_t off,
    uint64_t len, unsigned threads, size_t part, uint64_t *count,
    size_t *nparts, struct wb_err *err);
/* Truncate all of io->in as one text, holding only what the cut can keep. */
int wb_read_truncate(const struct wb_io *io, const struct wb_counter *c,
    uint64_t budget, enum wb_keep keep, const char *ellipsis,
    struct wb_trunc *out, struct wb_err *err);
/* With --annotate github, one "::error file=F,line=L::message" line on
 * io->err for a problem at line (0: none) of the input; else nothing. */
void wb_annotate(const struct wb_io *io, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write rec as one compact line, whole or not at all, and flush. */
int wb_emit(FILE *out, const json_t *rec, struct wb_err *err);
/* Flush and close stdout; a write error makes status WB_EIO, said once. */
int wb_close_out(const struct wb_io *io, int status);

/* The value at path in rec: a member name, or names and array indexes
 * joined by dots ("messages.0.content"; "\." is a dot in a name); a member
 * whose whole name is path comes first. NULL if there is none. */
json_t *wb_path_get(const json_t *rec, const char *path);
/* Set the value at path to v (stolen); its container must exist; 0 or -1. */
int wb_path_set(json_t *rec, const char *path, json_t *v);
/* Fetch the string at key (a path); a missing or non-string field fails. */
int wb_get_string(const json_t *rec, const char *key, const char **s,
    size_t *len, struct wb_err *err);
/* Fetch an optional non-negative integer at key (at most 2^53). */
int wb_get_uint(const json_t *rec, const char *key, bool *present,
    uint64_t *v, struct wb_err *err);
/* Set key to a new integer; failure is an internal error. */
int wb_set_int(json_t *rec, const char *key, uint64_t v, struct wb_err *err);

/* cli.c */

/* One option of a command: --name, or -id when id is a letter. */
struct wb_opt {
	const char *name;   /* the long name */
	int id;             /* the letter, or a number from 256 for none */
	const char *arg;    /* the argument's name in --help; NULL: none */
	const char *help;   /* one line for --help */
};

/* The sets of shared options a command takes (-h, -V and --max-record are
 * everyone's). */
#define WB_OPTS_COMMON  0x1u  /* -h -V --max-record */
#define WB_OPTS_COUNTER 0x2u  /* -m -p -e -M and the counter parameters */
#define WB_OPTS_BUDGET  0x4u  /* -c -w -P -t -s */
#define WB_OPTS_TEXT    0x8u  /* -f -r -q */
#define WB_OPTS_NOFILES 0x10u /* operands are no inputs: without
                               * --files-from, -0 and --annotate */

/* A command's line: what it gives, and what the parser fills in. */
struct wb_cli {
	const char *prog;            /* "wb-count" */
	const char *usage;           /* the synopsis, "usage: ...\n" */
	unsigned sets;               /* WB_OPTS_ */
	const struct wb_opt *own;    /* its own options; a NULL name ends them */
	int (*own_option)(void *ctx, int id, const char *arg,
	    struct wb_err *err);
	void *ctx;
	/* Filled in by wb_cli_parse. */
	struct wb_io io;
	struct wb_layer *flags;      /* the settings the options gave */
	const char *config, *world;  /* -c, -w */
	const char *model;           /* -M's model name, as typed; or NULL */
	const char *field;           /* -f; "text" */
	bool raw, quiet, lines;      /* -r, -q, -R */
	bool done;                   /* -h or -V answered: exit now */
	/* The inputs: FILE operands, then the names --files-from gives. */
	char **files;
	size_t nfiles;
	const char *files_from;      /* --files-from; "-" is stdin */
	bool nul;                    /* -0: its names end with NUL */
	size_t next;                 /* the next operand */
	bool started;
	FILE *list;                  /* --files-from, once open */
	char *name;                  /* the last name read from it */
	size_t name_cap;
	int in_status;               /* 66 once an input could not be opened */
};

/* Parse the command line: shared options into cli, the command's own to
 * own_option; after -h or -V, cli->done is set. */
int wb_cli_parse(struct wb_cli *cli, int argc, char **argv,
    struct wb_err *err);
/* Open the next input as cli->io.in: 1, or 0 after the last. One that
 * cannot be opened is said on stderr, makes in_status 66, and is skipped. */
int wb_cli_next(struct wb_cli *cli);
/* Run fn over the records of every input in turn; the worst status. */
int wb_cli_records(struct wb_cli *cli, wb_record_fn fn, void *ctx);
/* The counter that the flags alone ask for, over the defaults (and
 * WB_MODEL); NULL with err set. */
struct wb_counter *wb_cli_counter(const struct wb_cli *cli,
    struct wb_err *err);
/* The way out of every command: err's message first, if it has one (with
 * the usage for 64); then stdout is closed and checked. */
int wb_cli_exit(struct wb_cli *cli, int status, const struct wb_err *err);

/* messages.c */

/* Check msg against the catalog: a known "type" and its string fields. */
int wb_message_check(const json_t *msg, bool allow_unknown, struct wb_err *err);
/* The message type of a mutation's route and op; NULL if there is none. */
const char *wb_mutation_type(const char *route, const char *op);
/* Turn a mutation record into its message, in place, and check it. */
int wb_mutation_to_message(json_t *rec, struct wb_err *err);

/* ws.c */

/* How to open a WebSocket. */
struct wb_ws_opts {
	const char *token;    /* sent as "Authorization: Bearer", or NULL */
	const char *accept;   /* the handshake's Accept header, or NULL */
	const char *cacert;   /* CA certificates for wss://; NULL: the system's */
	bool insecure;        /* wss:// without verifying the certificate */
	double timeout;       /* seconds for connect, TLS and the handshake */
	const char *protocol; /* the subprotocol to ask for, or NULL */
	const char *last_event_id;  /* sent as "Last-Event-ID", or NULL */
	size_t max_msg;       /* the largest message taken; 0: 16 MiB */
	/* Giving up a connect on a signal: once *stop (NULL: never) differs
	 * from its value when the connect began, it fails with 75. stop_fd
	 * (-1: none), a pipe the signal handler writes to, wakes the wait
	 * and is read empty; sigmask (NULL: the current one) is the mask to
	 * wait with, for a caller that blocks its signals. */
	const volatile sig_atomic_t *stop;
	int stop_fd;
	const sigset_t *sigmask;
};

/* What a connection calls with each text or binary message it reads. */
struct wb_ws_handler {
	void (*on_message)(void *ud, const uint8_t *p, size_t len);
	void *ud;
};

struct wb_ws;

/* Open a WebSocket to url; 69 unreachable, 77 refused, 78 no such place,
 * 75 given up for a stop (see stop). */
struct wb_ws *wb_ws_connect(const char *url, const struct wb_ws_opts *o,
    const struct wb_ws_handler *h, struct wb_err *err);
/* Queue one text frame; wb_ws_io writes it. */
int wb_ws_send_text(struct wb_ws *ws, const char *s, size_t len,
    struct wb_err *err);
/* Queue a ping. */
int wb_ws_ping(struct wb_ws *ws, struct wb_err *err);
/* Queue a close frame with code; the peer's answer ends the connection. */
void wb_ws_close(struct wb_ws *ws, unsigned code);
/* The socket to poll. */
int wb_ws_fd(const struct wb_ws *ws);
/* The poll events the connection waits for; 0 once it is over. */
short wb_ws_events(const struct wb_ws *ws);
/* True when bytes wait in a buffer that poll cannot see. */
bool wb_ws_buffered(const struct wb_ws *ws);
/* Messages queued and not yet written. */
size_t wb_ws_queued(const struct wb_ws *ws);
/* When the last frame arrived, in seconds on the monotonic clock. */
double wb_ws_last_rx(const struct wb_ws *ws);
/* The subprotocol the server agreed to, or NULL. */
const char *wb_ws_protocol(const struct wb_ws *ws);
/* Read and write what the socket allows; 69 once the connection is over. */
int wb_ws_io(struct wb_ws *ws, struct wb_err *err);
/* Close the socket and free the connection. */
void wb_ws_free(struct wb_ws *ws);

/* broadcast.c */

/* What a broadcaster does. */
struct wb_bcast_opts {
	const char *prog;       /* prefix of messages on err */
	const char *url;        /* the relay, with {field}s; NULL with dry_run */
	struct wb_ws_opts ws;
	bool mutations;         /* records are mutations, not messages */
	bool allow_unknown;     /* let unknown message types through */
	bool dry_run;           /* normalize only; connect to nothing */
	bool no_ack;            /* a written frame counts as delivered */
	bool acks;              /* a line on out for each delivered message */
	uint64_t window;        /* unacked messages per channel; 0: 256 */
	uint64_t rate;          /* messages per second per channel; 0: no cap */
	double timeout;         /* seconds: the final wait, the longest outage */
	double ping;            /* seconds between pings; 0: none */
	const char *run;        /* the run id; NULL: a random one */
	FILE *out, *dead, *err; /* acks, dead letters, notices */
	/* Stopping on a signal: *stops counts the signals (NULL: none);
	 * with stops, stop_fd (-1: none) becomes readable with each one. */
	const volatile sig_atomic_t *stops;
	int stop_fd;
	double grace;           /* seconds the unacked get after the first */
	bool progress;          /* a progress line on err, about each second */
	bool progress_tty;      /* err is a terminal: redraw it in place */
	const uint64_t *nbad;   /* the bad records so far, for the summary */
	const char *spool;      /* a write-ahead journal's directory, or NULL */
	uint64_t spool_max;     /* bytes of journal before the reading waits */
};

struct wb_bcast;

/* Check what a broadcaster would be made from: 64 when it cannot be. */
int wb_bcast_check(const struct wb_bcast_opts *o, struct wb_err *err);
/* Make a broadcaster; the caller owns it. */
struct wb_bcast *wb_bcast_new(const struct wb_bcast_opts *o, struct wb_err *err);
/* Handle one record (a wb_record_fn): check, stamp, send or queue it. */
int wb_bcast_record(void *bc, json_t *rec, struct wb_err *err);
/* Wait for input on fd, keeping the connections going (a wb_io wait). */
int wb_bcast_wait(void *bc, int fd);
/* At the end: wait for acks, close, dead-letter the rest; the status. */
int wb_bcast_finish(struct wb_bcast *bc, int status);
/* The channel name of a {field} value: each byte of A-Z a-z 0-9 _ - as
 * it is, any other as '.' and two uppercase hex digits. The caller frees
 * it; NULL when out of memory. */
char *wb_channel_name(const char *s, size_t len);
/* Free a broadcaster and its connections. */
void wb_bcast_free(struct wb_bcast *bc);

/* subscribe.c */

/* What a subscriber does. */
struct wb_sub_opts {
	const char *prog;       /* prefix of messages on err */
	struct wb_ws_opts ws;   /* cacert, insecure, max_msg */
	const char *state;      /* the state file, or NULL */
	uint64_t count;         /* end after this many messages; 0: never */
	double idle;            /* end after this long without one; 0: never */
	double timeout;         /* the longest outage of a channel; 0: none */
	double ping;            /* seconds between pings; 0: none */
	int out;                /* where the messages go */
	FILE *err;              /* notices: gaps, outages */
};

struct wb_sub;

/* Make a subscriber of the channels at urls (kept, not copied), reading
 * the state file if there is one; 64 for a bad URL, 65 a bad state. */
struct wb_sub *wb_sub_new(const struct wb_sub_opts *o, char **urls, size_t n,
    struct wb_err *err);
/* Print each message once until --count, --idle, SIGTERM, SIGINT or
 * SIGHUP (caught while it runs), or a failure; the state is saved at the
 * end. 0, 1 when a gap was reported, 65 when a message was not JSON, or
 * the failure's status (wb_sub_error says it). */
int wb_sub_run(struct wb_sub *s);
/* What ended the run, when a failure did. */
const struct wb_err *wb_sub_error(const struct wb_sub *s);
/* The gaps reported. */
uint64_t wb_sub_gaps(const struct wb_sub *s);
/* Free a subscriber. */
void wb_sub_free(struct wb_sub *s);

#endif
