/* opts.c: command-line settings that several commands share. */
#include <string.h>

#include "wb.h"

/* Apply one counter flag (method, preset, chars-per-token, ...) to spec. */
int
wb_counter_flag(struct wb_counter_spec *spec, const char *flag,
    const char *arg, struct wb_err *err)
{
	uint64_t u;

	if (strcmp(flag, "method") == 0) {
		if (wb_method_parse(arg, &spec->method) != 0)
			return wb_err_set(err, WB_EUSAGE,
			    "-m: '%s': not char, word or hybrid", arg);
	} else if (strcmp(flag, "preset") == 0) {
		if (wb_counter_preset(spec, arg) != 0)
			return wb_err_set(err, WB_EUSAGE,
			    "-p: '%s': not default or llama", arg);
	} else if (strcmp(flag, "chars-per-token") == 0) {
		if (wb_parse_pos_double(arg, &spec->chars_per_token, err))
			return wb_err_prefix(err, "--chars-per-token");
	} else if (strcmp(flag, "tokens-per-word") == 0) {
		if (wb_parse_pos_double(arg, &spec->tokens_per_word, err))
			return wb_err_prefix(err, "--tokens-per-word");
	} else if (strcmp(flag, "encoding") == 0) {
		if (strlen(arg) >= sizeof(spec->encoding))
			return wb_err_set(err, WB_EUSAGE, "-e: '%s': too long", arg);
		memcpy(spec->encoding, arg, strlen(arg) + 1);
	} else if (strcmp(flag, "model") == 0) {
		if (wb_model_encoding(arg) == NULL)
			return wb_err_set(err, WB_EUSAGE, "-M: '%s': unknown model",
			    arg);
		snprintf(spec->encoding, sizeof(spec->encoding), "%s",
		    wb_model_encoding(arg));
	} else if (strcmp(flag, "encodings-dir") == 0) {
		spec->encodings_dir = arg;
	} else if (strcmp(flag, "allow-special") == 0) {
		spec->allow_special = true;
	} else if (strcmp(flag, "hybrid-threshold") == 0) {
		if (wb_parse_u64(arg, 0, UINT64_MAX, &u, err))
			return wb_err_prefix(err, "--hybrid-threshold");
		spec->hybrid_threshold = u;
	} else {
		return wb_err_set(err, WB_EINTERNAL, "unknown counter flag %s",
		    flag);
	}
	return WB_OK;
}

/* Describe a getopt_long failure: c is ':' or '?', as getopt returned it. */
int
wb_getopt_err(struct wb_err *err, int c, int opt, const char *arg)
{
	const char *what = c == ':' ? "needs a value" : "unknown option";

	if (opt != 0 && opt < 256)
		return wb_err_set(err, WB_EUSAGE, "-%c: %s", opt, what);
	return wb_err_set(err, WB_EUSAGE, "%s: %s", arg, what);
}

/*
 * Apply a budget flag to a layer of settings: P (preset), t (total),
 * s (CATEGORY=N), m and p (counter method and preset), or a counter
 * parameter by its long name.
 */
int
wb_budget_flag(struct wb_layer *l, const char *flag, const char *arg,
    struct wb_err *err)
{
	static const struct { const char *flag, *key; } keys[] = {
		{ "P", "preset" },
		{ "t", "total_budget_tokens" },
		{ "m", "counter.method" },
		{ "p", "counter.preset" },
		{ "chars-per-token", "counter.chars_per_token" },
		{ "tokens-per-word", "counter.tokens_per_word" },
		{ "hybrid-threshold", "counter.hybrid_threshold" },
		{ "e", "counter.encoding" },
		{ "M", "counter.model" },
	};
	enum wb_category cat;
	const char *eq;
	char key[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(flag, keys[i].flag) == 0)
			return wb_layer_set(l, keys[i].key, arg, err);
	/* -s CATEGORY=N */
	eq = strchr(arg, '=');
	if (eq == NULL || (size_t)(eq - arg) >= 32)
		return wb_err_set(err, WB_EUSAGE, "-s: '%s': not CATEGORY=N", arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (wb_category_parse(key, &cat) != 0)
		return wb_err_set(err, WB_EUSAGE, "-s: '%s': unknown category",
		    key);
	snprintf(key, sizeof(key), "%s_tokens", wb_category_name(cat));
	return wb_layer_set(l, key, eq + 1, err);
}
