/* prompt.c: an NPC's system prompt and chat, built within its budgets. */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

#define SEP "\n\n"
#define ELLIPSIS "..."
#define CHALLENGES_INTRO \
	"The player's action or words may trigger these challenges:\n"
#define EVENTS_INTRO "The player's action or words may trigger these story " \
	"events, the most important first:\n"

static const char *const tpl_default[WB_NTPL] = {
	[WB_TPL_ROLE] = "You are roleplaying as {name}, a {archetype}.",
	[WB_TPL_SCENE] = "CURRENT SCENE:",
	[WB_TPL_LOCATION] = "LOCATION:",
	[WB_TPL_TIME] = "TIME:",
	[WB_TPL_PRESENT] = "OTHERS PRESENT:",
	[WB_TPL_ITEMS] = "VISIBLE ITEMS IN AREA:",
	[WB_TPL_DIRECTOR] = "=== DIRECTOR'S SCENE GUIDANCE ===",
	[WB_TPL_MOOD] = "YOUR CURRENT MOOD:",
	[WB_TPL_DISPOSITION] = "YOUR DISPOSITION TOWARD THE PLAYER:",
	[WB_TPL_RELATIONSHIP] = "YOUR RELATIONSHIP TO THE PLAYER:",
	[WB_TPL_KNOWN] = "=== KNOWN MOTIVATIONS ===",
	[WB_TPL_SUSPECTED] =
	    "=== SUSPECTED MOTIVATIONS (player senses something) ===",
	[WB_TPL_SECRET] = "=== SECRET MOTIVATIONS (player does not know) ===",
	[WB_TPL_SOCIAL] = "=== SOCIAL STANCE ===",
	[WB_TPL_CHALLENGES] = "## Active Challenges",
	[WB_TPL_EVENTS] = "## Active Narrative Events",
	[WB_TPL_LOCATION_CONTEXT] = "=== LOCATION CONTEXT ===",
	[WB_TPL_PLAYER_CONTEXT] = "=== PLAYER CONTEXT ===",
	[WB_TPL_RESPONSE_FORMAT] =
	    "RESPONSE FORMAT:\n"
	    "<reasoning>\n"
	    "How you mean to answer and why: what you know, what you feel, "
	    "what you want from this moment. Only the Game Master reads this.\n"
	    "</reasoning>\n"
	    "<dialogue>\n"
	    "What {name} says, in character and in their own voice, "
	    "usually one to three sentences.\n"
	    "</dialogue>",
};

/* The order of the blocks in the system prompt, between role and format. */
static const enum wb_category display[] = {
	WB_CAT_SCENE, WB_CAT_LOCATION, WB_CAT_DIRECTORIAL, WB_CAT_CHARACTER,
	WB_CAT_PLAYER, WB_CAT_CHALLENGES, WB_CAT_NARRATIVE,
};
#define NDISPLAY (sizeof(display) / sizeof(display[0]))

/* Append a JSON string's value, NULs and all. */
static void
addj(struct wb_buf *b, const json_t *s)
{
	wb_buf_add(b, json_string_value(s), json_string_length(s));
}

/* Append a template, with {name} and {archetype} filled in. */
static void
addt(struct wb_buf *b, const char *t, const json_t *name, const json_t *arch)
{
	const char *p;

	while ((p = strchr(t, '{')) != NULL) {
		wb_buf_add(b, t, (size_t)(p - t));
		if (strncmp(p, "{name}", 6) == 0) {
			addj(b, name);
			t = p + 6;
		} else if (strncmp(p, "{archetype}", 11) == 0) {
			addj(b, arch);
			t = p + 11;
		} else {
			wb_buf_add(b, p, 1);
			t = p + 1;
		}
	}
	wb_buf_adds(b, t);
}

/* The template t of the settings, or its default. */
static const char *
tpl(const struct wb_settings *s, enum wb_template t)
{
	return s->templates[t] != NULL ? s->templates[t] : tpl_default[t];
}

/* "a, b, c" from an array of strings. */
static void
join(struct wb_buf *b, const json_t *a, const char *sep)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (i > 0)
			wb_buf_adds(b, sep);
		addj(b, v);
	}
}

static void
actors(struct wb_buf *b, const char *label, const json_t *a)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) == 0)
		return;
	wb_buf_adds(b, "  ");
	wb_buf_adds(b, label);
	json_array_foreach(a, i, v) {
		wb_buf_adds(b, i ? "; " : " ");
		addj(b, json_object_get(v, "name"));
		wb_buf_adds(b, " (");
		addj(b, json_object_get(v, "actor_type"));
		wb_buf_adds(b, "): ");
		addj(b, json_object_get(v, "reason"));
	}
	wb_buf_adds(b, "\n");
}

static void
motivation(struct wb_buf *b, const json_t *m)
{
	char n[32];
	json_t *t = json_object_get(m, "target");

	wb_buf_adds(b, "- ");
	addj(b, json_object_get(m, "description"));
	snprintf(n, sizeof(n), " (Priority: %lld, Intensity: ",
	    (long long)json_integer_value(json_object_get(m, "priority")));
	wb_buf_adds(b, n);
	addj(b, json_object_get(m, "intensity"));
	wb_buf_adds(b, ")\n");
	if (json_is_string(t)) {
		wb_buf_adds(b, "  Target: ");
		addj(b, t);
		wb_buf_adds(b, "\n");
	}
	actors(b, "Helpers:", json_object_get(m, "helpers"));
	actors(b, "Opponents:", json_object_get(m, "opponents"));
}

static void
actor_line(struct wb_buf *b, const char *label, const json_t *a)
{
	if (!json_is_object(a))
		return;
	wb_buf_adds(b, label);
	addj(b, json_object_get(a, "name"));
	wb_buf_adds(b, " - ");
	addj(b, json_object_get(a, "reason"));
	wb_buf_adds(b, "\n");
}

/* The character block: mood, motivations, social stance. */
static void
render_character(struct wb_buf *b, const struct wb_settings *s, const json_t *ch)
{
	static const struct { const char *key; enum wb_template t; } lines[] = {
		{ "current_mood", WB_TPL_MOOD },
		{ "disposition_toward_player", WB_TPL_DISPOSITION },
		{ "relationship_to_player", WB_TPL_RELATIONSHIP },
	};
	const json_t *m = json_object_get(ch, "motivations");
	const json_t *soc = json_object_get(ch, "social_stance"), *a, *v;
	size_t i, j;

	for (i = 0; i < 3; i++) {
		v = json_object_get(ch, lines[i].key);
		if (!json_is_string(v))
			continue;
		wb_buf_adds(b, tpl(s, lines[i].t));
		wb_buf_adds(b, " ");
		addj(b, v);
		wb_buf_adds(b, "\n");
	}
	if (json_array_size(a = json_object_get(m, "known")) > 0) {
		wb_buf_adds(b, b->len ? "\n" : "");
		wb_buf_adds(b, tpl(s, WB_TPL_KNOWN));
		wb_buf_adds(b, "\n");
		json_array_foreach(a, i, v)
			motivation(b, v);
	}
	if (json_array_size(a = json_object_get(m, "suspected")) > 0) {
		wb_buf_adds(b, b->len ? "\n" : "");
		wb_buf_adds(b, tpl(s, WB_TPL_SUSPECTED));
		wb_buf_adds(b, "\n");
		json_array_foreach(a, i, v)
			motivation(b, v);
		wb_buf_adds(b, "The player senses this interest without knowing its "
		    "cause; you may be evasive.\n");
	}
	if (json_array_size(a = json_object_get(m, "secret")) > 0) {
		wb_buf_adds(b, b->len ? "\n" : "");
		wb_buf_adds(b, tpl(s, WB_TPL_SECRET));
		wb_buf_adds(b, "\n");
		json_array_foreach(a, i, v) {
			json_t *tells = json_object_get(v, "tells"), *t;
			motivation(b, v);
			actor_line(b, "  Set in motion by: ",
			    json_object_get(v, "sender"));
			actor_line(b, "  For the benefit of: ",
			    json_object_get(v, "receiver"));
			wb_buf_adds(b, "  Behavioural guidance: when probed, ");
			addj(b, json_object_get(v, "deflection_behavior"));
			wb_buf_adds(b, "\n");
			if (json_array_size(tells) > 0) {
				wb_buf_adds(b, "  Tells you may let slip:\n");
				json_array_foreach(tells, j, t) {
					wb_buf_adds(b, "    * ");
					addj(b, t);
					wb_buf_adds(b, "\n");
				}
			}
			wb_buf_adds(b, "  Never state this motivation outright.\n");
		}
	}
	if (json_array_size(json_object_get(soc, "allies")) +
	    json_array_size(json_object_get(soc, "enemies")) > 0) {
		static const char *const side[] = { "allies", "enemies" };
		static const char *const head[] = {
			"ALLIES (characters you trust):\n",
			"ENEMIES (characters you oppose):\n",
		};
		wb_buf_adds(b, b->len ? "\n" : "");
		wb_buf_adds(b, tpl(s, WB_TPL_SOCIAL));
		wb_buf_adds(b, "\n");
		for (j = 0; j < 2; j++) {
			a = json_object_get(soc, side[j]);
			if (json_array_size(a) == 0)
				continue;
			wb_buf_adds(b, head[j]);
			json_array_foreach(a, i, v) {
				wb_buf_adds(b, "- ");
				addj(b, json_object_get(v, "name"));
				wb_buf_adds(b, " (");
				addj(b, json_object_get(v, "character_type"));
				wb_buf_adds(b, "): ");
				join(b, json_object_get(v, "reasons"), "; ");
				wb_buf_adds(b, "\n");
			}
		}
	}
}

static void
render_scene(struct wb_buf *b, const struct wb_settings *s, const json_t *sc)
{
	const json_t *items = json_object_get(sc, "region_items"), *v, *t;
	size_t i;

	wb_buf_adds(b, tpl(s, WB_TPL_SCENE));
	wb_buf_adds(b, " ");
	addj(b, json_object_get(sc, "scene_name"));
	wb_buf_adds(b, "\n");
	wb_buf_adds(b, tpl(s, WB_TPL_LOCATION));
	wb_buf_adds(b, " ");
	addj(b, json_object_get(sc, "location_name"));
	wb_buf_adds(b, "\n");
	wb_buf_adds(b, tpl(s, WB_TPL_TIME));
	wb_buf_adds(b, " ");
	addj(b, json_object_get(sc, "time_context"));
	wb_buf_adds(b, "\n");
	if (json_array_size(json_object_get(sc, "present_characters")) > 0) {
		wb_buf_adds(b, tpl(s, WB_TPL_PRESENT));
		wb_buf_adds(b, " ");
		join(b, json_object_get(sc, "present_characters"), ", ");
		wb_buf_adds(b, "\n");
	}
	if (json_array_size(items) > 0) {
		wb_buf_adds(b, tpl(s, WB_TPL_ITEMS));
		wb_buf_adds(b, "\n");
		json_array_foreach(items, i, v) {
			wb_buf_adds(b, "- ");
			addj(b, json_object_get(v, "name"));
			if (json_is_string(t = json_object_get(v, "item_type"))) {
				wb_buf_adds(b, " [");
				addj(b, t);
				wb_buf_adds(b, "]");
			}
			if (json_is_string(t = json_object_get(v, "description"))) {
				wb_buf_adds(b, " - ");
				addj(b, t);
			}
			wb_buf_adds(b, "\n");
		}
	}
}

static void
render_challenges(struct wb_buf *b, const struct wb_settings *s, const json_t *a)
{
	char n[32];
	size_t i;
	json_t *v;

	wb_buf_adds(b, tpl(s, WB_TPL_CHALLENGES));
	wb_buf_adds(b, "\n" CHALLENGES_INTRO);
	json_array_foreach(a, i, v) {
		snprintf(n, sizeof(n), "%zu. \"", i + 1);
		wb_buf_adds(b, n);
		addj(b, json_object_get(v, "name"));
		wb_buf_adds(b, "\" (");
		addj(b, json_object_get(v, "skill_name"));
		wb_buf_adds(b, " ");
		addj(b, json_object_get(v, "difficulty_display"));
		wb_buf_adds(b, ")\n   Triggers: ");
		join(b, json_object_get(v, "trigger_hints"), ", ");
		wb_buf_adds(b, "\n   Description: ");
		addj(b, json_object_get(v, "description"));
		wb_buf_adds(b, "\n");
	}
	wb_buf_adds(b, "For each challenge, answer whether the player triggers it:\n"
	    "<challenge name=\"NAME\"><quote>the player's words, or none"
	    "</quote><trigger>YES or NO</trigger></challenge>\n");
}

/* An event and where it stood, so that equal priorities keep their order. */
struct ranked {
	json_t *ev;
	size_t at;
};

static int
by_priority(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	json_int_t px = json_integer_value(json_object_get(x->ev, "priority"));
	json_int_t py = json_integer_value(json_object_get(y->ev, "priority"));

	if (px != py)
		return px < py ? 1 : -1;
	return x->at < y->at ? -1 : 1;
}

static void
render_events(struct wb_buf *b, const struct wb_settings *s, const json_t *a)
{
	size_t n = json_array_size(a), i;
	struct ranked *ev = malloc(n * sizeof(*ev) + 1);
	char num[64];
	json_t *v;

	if (ev == NULL) {
		b->oom = true;
		return;
	}
	json_array_foreach(a, i, v) {
		ev[i].ev = v;
		ev[i].at = i;
	}
	qsort(ev, n, sizeof(*ev), by_priority);
	wb_buf_adds(b, tpl(s, WB_TPL_EVENTS));
	wb_buf_adds(b, "\n" EVENTS_INTRO);
	for (i = 0; i < n; i++) {
		v = ev[i].ev;
		snprintf(num, sizeof(num), "%zu. \"", i + 1);
		wb_buf_adds(b, num);
		addj(b, json_object_get(v, "name"));
		snprintf(num, sizeof(num), "\" (Priority: %lld)\n   Description: ",
		    (long long)json_integer_value(json_object_get(v, "priority")));
		wb_buf_adds(b, num);
		addj(b, json_object_get(v, "description"));
		wb_buf_adds(b, "\n   Scene direction: ");
		addj(b, json_object_get(v, "scene_direction"));
		wb_buf_adds(b, "\n");
		if (json_array_size(json_object_get(v, "trigger_hints")) > 0) {
			wb_buf_adds(b, "   Triggers when: ");
			join(b, json_object_get(v, "trigger_hints"), ", ");
			wb_buf_adds(b, "\n");
		}
		if (json_array_size(json_object_get(v, "featured_npc_names")) > 0) {
			wb_buf_adds(b, "   Featured NPCs: ");
			join(b, json_object_get(v, "featured_npc_names"), ", ");
			wb_buf_adds(b, "\n");
		}
	}
	wb_buf_adds(b, "For each event, answer whether the player triggers it:\n"
	    "<event name=\"NAME\"><quote>the player's words, or none</quote>"
	    "<trigger>YES or NO</trigger></event>\n");
	free(ev);
}

/* The response format, with the character's markers when it has any. */
static void
render_format(struct wb_buf *b, const struct wb_settings *s, const json_t *ch)
{
	const json_t *ex = json_object_get(ch, "available_expressions");
	const json_t *ac = json_object_get(ch, "available_actions");

	addt(b, tpl(s, WB_TPL_RESPONSE_FORMAT), json_object_get(ch, "name"),
	    json_object_get(ch, "archetype"));
	if (json_array_size(ex) > 0) {
		wb_buf_adds(b, "\nShow a change of expression with a marker such as *");
		addj(b, json_array_get(ex, 0));
		wb_buf_adds(b, "*; use only these expressions: ");
		join(b, ex, ", ");
		wb_buf_adds(b, ".");
	}
	if (json_array_size(ac) > 0) {
		wb_buf_adds(b, "\nShow an action with a marker such as *");
		addj(b, json_array_get(ac, 0));
		wb_buf_adds(b, "*; these actions suit the character: ");
		join(b, ac, ", ");
		wb_buf_adds(b, ".");
	}
}

/* The player's action, as the final user message. */
static void
render_action(struct wb_buf *b, const json_t *pa, const json_t *name)
{
	const char *type = json_string_value(json_object_get(pa, "action_type"));
	const json_t *tg = json_object_get(pa, "target");
	const json_t *dl = json_object_get(pa, "dialogue");
	bool has_t = json_is_string(tg), has_d = json_is_string(dl);

	if (strcmp(type, "speak") == 0 && has_d) {
		wb_buf_adds(b, "The player says");
		if (has_t) {
			wb_buf_adds(b, " to ");
			addj(b, tg);
		}
		wb_buf_adds(b, ": \"");
		addj(b, dl);
		wb_buf_adds(b, "\"");
	} else if (strcmp(type, "examine") == 0 && has_t) {
		wb_buf_adds(b, "The player examines ");
		addj(b, tg);
		wb_buf_adds(b, ".");
	} else if (strcmp(type, "use_item") == 0 && has_t) {
		wb_buf_adds(b, "The player uses an item on ");
		addj(b, tg);
		wb_buf_adds(b, ".");
	} else {
		wb_buf_adds(b, "The player performs the action: ");
		addj(b, json_object_get(pa, "action_type"));
		if (has_t) {
			wb_buf_adds(b, "\nTarget: ");
			addj(b, tg);
		}
		if (has_d) {
			wb_buf_adds(b, "\nWords: \"");
			addj(b, dl);
			wb_buf_adds(b, "\"");
		}
	}
	wb_buf_adds(b, "\n\nRespond as ");
	addj(b, name);
	wb_buf_adds(b, ".");
}

/* One conversation turn, as its chat message will read. */
struct turn {
	char *content;          /* "Speaker: text", owned */
	size_t len;
	size_t prefix;          /* the length of "Speaker: " */
	bool assistant;
	struct wb_tstats st;
	uint64_t billed;        /* exact counters: as the chat API bills it */
};

/* One budgeted block of the system prompt. */
struct block {
	struct wb_buf orig;        /* as rendered from the request */
	size_t head;            /* the length of its heading line, if any */
	const char *base;       /* orig, or its summary */
	size_t base_len;
	char *summary;
	char *text;             /* the kept text, owned; NULL: the base */
	size_t len;
	struct wb_tstats st;
	uint64_t original, final;
	bool truncated, dropped, summarized;
	char summary_error[sizeof(((struct wb_err *)0)->msg)];
};

/* Everything that is counted, and how much of it is kept. */
struct prompt {
	const struct wb_settings *set;
	const struct wb_counter *c;
	struct wb_buf role, format;
	struct wb_tstats role_st, format_st, sep_st;
	struct block blk[WB_NCAT];
	struct turn *turns;
	size_t nturns;
	size_t first;           /* turns[first..nturns) are kept */
	char *last;             /* the newest turn cut to fit, or NULL */
	size_t last_len;
	struct wb_tstats last_st;
	uint64_t last_billed;
	struct wb_tstats *suf;  /* statistics of turns[i..] joined */
	uint64_t *bsuf;         /* exact: what turns[i..] are billed */
	uint64_t sys_billed;    /* exact: the system prompt's bill, if valid */
	bool sys_valid;
	uint64_t hist_original, hist_final;
	bool hist_truncated, hist_dropped;
	struct wb_err *err;
};

static const char *
kept(const struct block *b)
{
	return b->text != NULL ? b->text : b->base;
}

static bool
heuristic(const struct prompt *p)
{
	return wb_counter_by_stats(p->c);
}

static struct wb_tstats
history_stats(const struct prompt *p)
{
	struct wb_tstats none = { 0, 0, 0, 0, -1, -1 };

	if (p->first >= p->nturns)
		return none;
	if (p->last != NULL)
		return p->last_st;
	return p->suf[p->first];
}

static uint64_t count_history(const struct prompt *p, bool *oom);
static void drop_block(struct prompt *p, struct block *k);

/* What the chat API bills for a message: 3 tokens, its role, its content. */
static uint64_t
billed(const struct prompt *p, const char *role, const char *s, size_t len)
{
	return 3 + wb_count(p->c, role, strlen(role)) + wb_count(p->c, s, len);
}

/* Build the system prompt from the kept blocks. */
static void
render_system(const struct prompt *p, struct wb_buf *b)
{
	wb_buf_add(b, p->role.p, p->role.len);
	for (size_t i = 0; i < NDISPLAY; i++) {
		const struct block *k = &p->blk[display[i]];
		if (k->len == 0)
			continue;
		wb_buf_adds(b, SEP);
		wb_buf_add(b, kept(k), k->len);
	}
	wb_buf_adds(b, SEP);
	wb_buf_add(b, p->format.p, p->format.len);
}

/*
 * Count everything sent before the player's action: the system prompt,
 * then each kept turn, joined by blank lines. Heuristic counts come from
 * concatenated statistics, without building the text.
 */
static uint64_t
count_total(struct prompt *p, bool *oom)
{
	struct wb_buf b = { 0 };

	if (heuristic(p)) {
		struct wb_tstats all = p->role_st, h;
		for (size_t i = 0; i < NDISPLAY; i++) {
			const struct block *k = &p->blk[display[i]];
			if (k->len == 0)
				continue;
			all = wb_tstats_cat(wb_tstats_cat(all, p->sep_st), k->st);
		}
		all = wb_tstats_cat(wb_tstats_cat(all, p->sep_st), p->format_st);
		h = history_stats(p);
		if (h.bytes > 0)
			all = wb_tstats_cat(wb_tstats_cat(all, p->sep_st), h);
		return wb_tstats_count(&p->c->spec, &all);
	}
	/* Exact: the messages as the chat API bills them. The system prompt
	 * is encoded again only when a block has changed. */
	if (!p->sys_valid) {
		render_system(p, &b);
		*oom |= b.oom;
		p->sys_billed = b.oom ? 0 : billed(p, "system", b.p, b.len);
		p->sys_valid = !b.oom;
		free(b.p);
	}
	return p->sys_billed + count_history(p, oom);
}

static uint64_t
measure(const struct prompt *p, const char *s, size_t len, struct wb_tstats *st)
{
	if (!heuristic(p))
		return wb_count(p->c, s, len);
	wb_tstats_of(st, s, len);
	return wb_tstats_count(&p->c->spec, st);
}

/* Cut a block from its base to b tokens. */
static int
cut_block(struct prompt *p, struct block *k, uint64_t b)
{
	struct wb_trunc t;
	int st;

	if ((st = wb_truncate(p->c, k->base, k->base_len, b, WB_KEEP_HEAD,
	    ELLIPSIS, &t, p->err)) != WB_OK)
		return st;
	free(k->text);
	k->text = t.text;
	k->len = t.len;
	k->final = t.final_tokens;
	p->sys_valid = false;
	if (heuristic(p))
		wb_tstats_of(&k->st, t.text, t.len);
	if (t.was_truncated)
		k->truncated = true;
	return WB_OK;
}

/* Try the summarize command on an over-budget block's body. */
static void
summarize_block(struct prompt *p, struct block *k, enum wb_category cat)
{
	size_t head = k->head <= k->base_len ? k->head : 0, len;
	struct wb_err e = { 0 };
	char *out;

	/* The heading stays; the summary stands for what was under it. */
	if (wb_summarize_within(p->set, p->c, wb_category_name(cat),
	    p->set->budget[cat], k->base, head, k->base + head,
	    k->base_len - head, &out, &len, &e) != WB_OK) {
		snprintf(k->summary_error, sizeof(k->summary_error), "%s", e.msg);
		return;
	}
	k->summary = out;
	k->base = out;
	k->base_len = len;
	k->summarized = true;
}

/* Fit the newest turn alone by cutting its text, keeping the speaker. */
struct last_trial {
	struct prompt *p;
	uint64_t limit;          /* the history budget, or UINT64_MAX */
	bool total;              /* also check the whole */
};

static int
set_last(struct prompt *p, uint64_t b)
{
	const struct turn *t = &p->turns[p->nturns - 1];
	struct wb_trunc tr;
	struct wb_buf nb = { 0 };
	int st;

	if ((st = wb_truncate(p->c, t->content + t->prefix, t->len - t->prefix, b,
	    WB_KEEP_TAIL, ELLIPSIS, &tr, p->err)) != WB_OK)
		return st;
	wb_buf_add(&nb, t->content, t->prefix);
	wb_buf_add(&nb, tr.text, tr.len);
	free(tr.text);
	if (nb.oom || nb.p == NULL) {
		free(nb.p);
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	}
	free(p->last);
	p->last = nb.p;
	p->last_len = nb.len;
	if (heuristic(p))
		wb_tstats_of(&p->last_st, nb.p, nb.len);
	else
		p->last_billed = billed(p, t->assistant ? "assistant" : "user",
		    nb.p, nb.len);
	return WB_OK;
}

/*
 * Count the kept history. Heuristic counts are of the turns joined by
 * blank lines; exact ones are what the chat API bills for them as
 * messages: 3 tokens each, with the tokens of the role and content.
 */
static uint64_t
count_history(const struct prompt *p, bool *oom)
{
	uint64_t n = 0;

	(void)oom;
	if (heuristic(p)) {
		struct wb_tstats h = history_stats(p);
		return wb_tstats_count(&p->c->spec, &h);
	}
	if (p->first >= p->nturns)
		return 0;
	if (p->last != NULL)
		return p->last_billed;
	n = p->bsuf[p->first];
	return n;
}

static int
last_fits(void *ctx, uint64_t b)
{
	struct last_trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = set_last(t->p, b)) != WB_OK)
		return -st;
	if (count_history(t->p, &oom) > t->limit)
		return 0;
	if (t->total && count_total(t->p, &oom) > t->p->set->total)
		return 0;
	return oom ? -wb_err_set(t->p->err, WB_EINTERNAL, "out of memory") : 1;
}

/* Keep only the newest turn, cut to fit; or drop the history. */
static int
fit_last_turn(struct prompt *p, uint64_t limit, bool total)
{
	struct last_trial t = { p, limit, total };
	const struct turn *last = &p->turns[p->nturns - 1];
	uint64_t best;
	int st;

	p->first = p->nturns - 1;
	p->hist_truncated = true;
	if ((st = wb_search_fit(last->len, last_fits, &t, &best)) != WB_OK)
		return st;
	if (best != UINT64_MAX && (st = set_last(p, best)) != WB_OK)
		return st;
	/* A speaker with nothing said, or only an ellipsis, is no turn. */
	if (best != UINT64_MAX && (p->last_len == last->prefix ||
	    (p->last_len == last->prefix + strlen(ELLIPSIS) &&
	    memcmp(p->last + last->prefix, ELLIPSIS, strlen(ELLIPSIS)) == 0)))
		best = UINT64_MAX;
	if (best == UINT64_MAX) {
		p->first = p->nturns;
		p->hist_dropped = true;
		free(p->last);
		p->last = NULL;
	}
	return WB_OK;
}

/* Keep the newest whole turns within the history budget, never a gap. */
static int
fit_history(struct prompt *p)
{
	uint64_t b = p->set->budget[WB_CAT_HISTORY];
	bool oom = false;

	p->first = p->nturns;
	if (p->nturns == 0)
		return WB_OK;
	/* O(1) a step with heuristic counters, from the suffix statistics. */
	while (p->first > 0) {
		p->first--;
		if (count_history(p, &oom) > b) {
			p->first++;
			break;
		}
	}
	if (oom)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	if (p->first < p->nturns) {
		p->hist_truncated = p->first > 0;
		return WB_OK;
	}
	return fit_last_turn(p, b, false);
}

/* Shed history to meet the total: drop old turns, then cut the last. */
static int
shed_history(struct prompt *p, bool *fits)
{
	bool oom = false;
	int st;

	if (p->first >= p->nturns)
		return WB_OK;
	if (p->last == NULL) {
		while (p->first < p->nturns - 1 &&
		    count_total(p, &oom) > p->set->total) {
			p->first++;
			p->hist_truncated = true;
		}
		if (count_total(p, &oom) > p->set->total &&
		    (st = fit_last_turn(p, p->set->budget[WB_CAT_HISTORY], true)))
			return st;
	} else if (count_total(p, &oom) > p->set->total &&
	    (st = fit_last_turn(p, p->set->budget[WB_CAT_HISTORY], true))) {
		return st;
	}
	*fits = count_total(p, &oom) <= p->set->total;
	return oom ? wb_err_set(p->err, WB_EINTERNAL, "out of memory") : WB_OK;
}

struct block_trial {
	struct prompt *p;
	struct block *k;
};

static int
block_fits(void *ctx, uint64_t b)
{
	struct block_trial *t = ctx;
	bool oom = false;
	int st;

	if ((st = cut_block(t->p, t->k, b)) != WB_OK)
		return -st;
	if (count_total(t->p, &oom) <= t->p->set->total)
		return 1;
	return oom ? -wb_err_set(t->p->err, WB_EINTERNAL, "out of memory") : 0;
}

static void
drop_block(struct prompt *p, struct block *k)
{
	p->sys_valid = false;
	k->dropped = k->truncated = true;
	k->len = 0;
	k->final = 0;
	memset(&k->st, 0, sizeof(k->st));
	k->st.lead = k->st.trail = -1;
}

/* Is nothing of the block left but (part of) its heading and an ellipsis? */
static bool
only_ellipsis(const struct block *k)
{
	const char *t = kept(k);
	size_t n = k->len, e = strlen(ELLIPSIS);

	/* A short summary such as "ok" under the heading still says something. */
	if (n >= e && memcmp(t + n - e, ELLIPSIS, e) == 0)
		n -= e;
	return n == 0 || (n <= k->head && memcmp(t, k->orig.p, n) == 0);
}

/*
 * Shed a block to meet the total: cut it to the largest budget up to hi
 * with which the whole fits, else drop it. A block that may not be
 * dropped is cut to its smallest useful size instead, and *fits says
 * whether the whole fits.
 */
static int
shed_block(struct prompt *p, enum wb_category cat, bool may_drop, uint64_t hi,
    bool *fits)
{
	struct block_trial t = { p, &p->blk[cat] };
	struct block *k = &p->blk[cat];
	uint64_t best = UINT64_MAX;
	bool oom = false;
	int st;

	if (k->base_len == 0)
		return WB_OK;
	if ((st = wb_search_fit(hi, block_fits, &t, &best)) != WB_OK)
		return st;
	if (best != UINT64_MAX && (st = cut_block(p, k, best)) != WB_OK)
		return st;
	if (best == UINT64_MAX || only_ellipsis(k)) {
		if (may_drop) {
			drop_block(p, k);
		} else {
			/* The first budget that keeps more than the ellipsis. */
			for (uint64_t b = 1; b <= hi; b++) {
				if ((st = cut_block(p, k, b)) != WB_OK)
					return st;
				if (!only_ellipsis(k))
					break;
			}
		}
	}
	*fits = count_total(p, &oom) <= p->set->total;
	return oom ? wb_err_set(p->err, WB_EINTERNAL, "out of memory") : WB_OK;
}

/* The largest budget a block can be cut to: its own, or its size. */
static uint64_t
room(const struct prompt *p, enum wb_category cat)
{
	const struct block *k = &p->blk[cat];

	return k->original < p->set->budget[cat] ? k->original :
	    p->set->budget[cat];
}

/*
 * Shed the sections in turn, from the least important. The scene and the
 * character are cut but never dropped: the scene first, to its smallest
 * if need be; then the character; then the scene grows back into
 * whatever room the character left.
 */
static int
shed_all(struct prompt *p, bool *fits)
{
	int st = WB_OK;

	for (int i = WB_NCAT - 1; !*fits && st == WB_OK && i >= 0; i--) {
		enum wb_category cat = wb_priority[i];
		if (cat == WB_CAT_HISTORY)
			st = shed_history(p, fits);
		else if (cat != WB_CAT_SCENE && cat != WB_CAT_CHARACTER)
			st = shed_block(p, cat, true, room(p, cat), fits);
	}
	if (*fits || st != WB_OK)
		return st;
	if ((st = shed_block(p, WB_CAT_SCENE, false, room(p, WB_CAT_SCENE),
	    fits)) != WB_OK || *fits)
		return st;
	if ((st = shed_block(p, WB_CAT_CHARACTER, false,
	    room(p, WB_CAT_CHARACTER), fits)) != WB_OK || !*fits)
		return st;
	return shed_block(p, WB_CAT_SCENE, false, room(p, WB_CAT_SCENE), fits);
}

/* Put the scene and the character back at their own budgets. */
static int
restore(struct prompt *p)
{
	static const enum wb_category both[] = { WB_CAT_SCENE, WB_CAT_CHARACTER };
	int st;

	for (int i = 0; i < 2; i++) {
		struct block *k = &p->blk[both[i]];
		if (k->base_len == 0)
			continue;
		if ((st = cut_block(p, k, p->set->budget[both[i]])) != WB_OK)
			return st;
	}
	return WB_OK;
}

static void
prompt_free(struct prompt *p)
{
	for (int i = 0; i < WB_NCAT; i++) {
		free(p->blk[i].orig.p);
		free(p->blk[i].text);
		free(p->blk[i].summary);
	}
	for (size_t i = 0; i < p->nturns; i++)
		free(p->turns[i].content);
	free(p->turns);
	free(p->suf);
	free(p->bsuf);
	free(p->last);
	free(p->role.p);
	free(p->format.p);
}

/* The blocks that are a heading and a string of the request. */
static const struct {
	enum wb_category cat;
	const char *key;
	enum wb_template heading;
} texts[] = {
	{ WB_CAT_DIRECTORIAL, "directorial_notes", WB_TPL_DIRECTOR },
	{ WB_CAT_LOCATION, "location_context", WB_TPL_LOCATION_CONTEXT },
	{ WB_CAT_PLAYER, "player_context", WB_TPL_PLAYER_CONTEXT },
};

/* Render every part of the request, as it would be without budgets. */
static int
render(struct prompt *p, const json_t *r)
{
	const struct wb_settings *s = p->set;
	const json_t *ch = json_object_get(r, "responding_character");
	const json_t *name = json_object_get(ch, "name"), *v;
	const json_t *hist = json_object_get(r, "conversation_history");
	bool oom = false;
	size_t i;

	addt(&p->role, tpl(s, WB_TPL_ROLE), name, json_object_get(ch, "archetype"));
	render_format(&p->format, s, ch);
	render_scene(&p->blk[WB_CAT_SCENE].orig, s, json_object_get(r,
	    "scene_context"));
	render_character(&p->blk[WB_CAT_CHARACTER].orig, s, ch);
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		struct block *k = &p->blk[texts[t].cat];
		if (json_string_length(v = json_object_get(r, texts[t].key)) == 0)
			continue;
		wb_buf_adds(&k->orig, tpl(s, texts[t].heading));
		wb_buf_adds(&k->orig, "\n");
		k->head = k->orig.len;
		addj(&k->orig, v);
	}
	if (json_array_size(v = json_object_get(r, "active_challenges")) > 0)
		render_challenges(&p->blk[WB_CAT_CHALLENGES].orig, s, v);
	/* The heading and the line under it say nothing by themselves. */
	p->blk[WB_CAT_CHALLENGES].head = strlen(tpl(s, WB_TPL_CHALLENGES)) + 1 +
	    strlen(CHALLENGES_INTRO);
	if (json_array_size(v = json_object_get(r, "active_narrative_events")) > 0)
		render_events(&p->blk[WB_CAT_NARRATIVE].orig, s, v);
	p->blk[WB_CAT_NARRATIVE].head = strlen(tpl(s, WB_TPL_EVENTS)) + 1 +
	    strlen(EVENTS_INTRO);
	for (int c = 0; c < WB_NCAT; c++) {
		struct block *k = &p->blk[c];
		struct wb_buf *o = &k->orig;
		/* Blocks end without the newline that separates their lines. */
		while (o->len > 0 && o->p[o->len - 1] == '\n')
			o->p[--o->len] = '\0';
		oom |= o->oom;
		k->base = o->p ? o->p : "";
		k->base_len = o->len;
		k->len = o->len;
		k->original = k->final = measure(p, k->base, k->base_len, &k->st);
	}
	p->nturns = json_array_size(hist);
	p->turns = calloc(p->nturns + 1, sizeof(*p->turns));
	p->suf = calloc(p->nturns + 1, sizeof(*p->suf));
	p->bsuf = calloc(p->nturns + 1, sizeof(*p->bsuf));
	if (p->turns == NULL || p->suf == NULL || p->bsuf == NULL)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	json_array_foreach(hist, i, v) {
		struct wb_buf b = { 0 };
		const json_t *sp = json_object_get(v, "speaker");
		addj(&b, sp);
		wb_buf_adds(&b, ": ");
		p->turns[i].prefix = b.len;
		addj(&b, json_object_get(v, "text"));
		oom |= b.oom;
		p->turns[i].content = b.p;
		p->turns[i].len = b.len;
		p->turns[i].assistant = json_equal((json_t *)sp, (json_t *)name);
		if (heuristic(p))
			wb_tstats_of(&p->turns[i].st, b.p ? b.p : "", b.len);
		else
			p->turns[i].billed = billed(p, p->turns[i].assistant ?
			    "assistant" : "user", b.p ? b.p : "", b.len);
	}
	for (i = p->nturns; i-- > 0;)
		p->bsuf[i] = p->bsuf[i + 1] + p->turns[i].billed;
	/* Suffix statistics make each "newest k turns" count O(1). */
	if (heuristic(p) && p->nturns > 0) {
		p->suf[p->nturns - 1] = p->turns[p->nturns - 1].st;
		for (i = p->nturns - 1; i-- > 0;)
			p->suf[i] = wb_tstats_cat(wb_tstats_cat(p->turns[i].st,
			    p->sep_st), p->suf[i + 1]);
	}
	oom |= p->role.oom || p->format.oom;
	if (oom)
		return wb_err_set(p->err, WB_EINTERNAL, "out of memory");
	measure(p, p->role.p, p->role.len, &p->role_st);
	measure(p, p->format.p, p->format.len, &p->format_st);
	p->first = 0;
	p->hist_original = count_history(p, &oom);
	return WB_OK;
}

static json_t *
message(const char *role, const char *s, size_t len)
{
	return json_pack("{s:s,s:s%}", "role", role, "content", s, len);
}

/* The report of one prompt. */
static json_t *
report(const struct prompt *p, uint64_t total, bool fits)
{
	json_t *r = json_object(), *cats = json_object();
	json_t *tr = json_array(), *dr = json_array(), *o;

	for (int i = 0; i < WB_NCAT; i++) {
		enum wb_category c = wb_priority[i];
		const struct block *k = &p->blk[c];
		bool history = c == WB_CAT_HISTORY;
		bool truncated = history ? p->hist_truncated : k->truncated;
		bool dropped = history ? p->hist_dropped : k->dropped;
		o = json_pack("{s:I,s:I,s:b,s:I,s:b}", "original_tokens",
		    (json_int_t)(history ? p->hist_original : k->original),
		    "final_tokens", (json_int_t)(history ? p->hist_final : k->final),
		    "was_truncated", truncated, "budget",
		    (json_int_t)p->set->budget[c], "summarized", k->summarized);
		if (k->summary_error[0])
			json_object_set_new(o, "summary_error",
			    json_string(k->summary_error));
		json_object_set_new(cats, wb_category_name(c), o);
		if (truncated && !dropped)
			json_array_append_new(tr, json_string(wb_category_name(c)));
		if (dropped)
			json_array_append_new(dr, json_string(wb_category_name(c)));
	}
	json_object_set_new(r, "total_tokens", json_integer((json_int_t)total));
	json_object_set_new(r, "budget_limit",
	    json_integer((json_int_t)p->set->total));
	json_object_set_new(r, "exceeded_budget", json_boolean(!fits));
	json_object_set_new(r, "categories", cats);
	json_object_set_new(r, "sections_truncated", tr);
	json_object_set_new(r, "sections_dropped", dr);
	json_object_set_new(r, "history_turns_kept",
	    json_integer((json_int_t)(p->nturns - p->first)));
	json_object_set_new(r, "history_turns_dropped",
	    json_integer((json_int_t)p->first));
	return r;
}

/* Build the system prompt and messages of one request within budget. */
int
wb_prompt_build(const struct wb_settings *s, const struct wb_counter *c,
    const json_t *req, bool allow_over, struct wb_prompt_out *out,
    struct wb_err *err)
{
	struct prompt p = { .set = s, .c = c, .err = err };
	struct wb_buf sys = { 0 }, user = { 0 };
	bool fits, oom = false;
	uint64_t total;
	int st;

	memset(out, 0, sizeof(*out));
	if ((st = wb_request_check(req, err)) != WB_OK)
		return st;
	wb_tstats_of(&p.sep_st, SEP, strlen(SEP));
	if ((st = render(&p, req)) != WB_OK)
		goto done;
	/* Each category to its own budget. */
	for (int i = 0; i < WB_NCAT; i++) {
		struct block *k = &p.blk[i];
		if (i == WB_CAT_HISTORY || k->original <= s->budget[i])
			continue;
		if (s->enable_summarization && s->summarize_command[0])
			summarize_block(&p, k, (enum wb_category)i);
		if ((st = cut_block(&p, k, s->budget[i])) != WB_OK)
			goto done;
		/* A heading with nothing under it says nothing: drop it. */
		if (only_ellipsis(k))
			drop_block(&p, k);
	}
	if ((st = fit_history(&p)) != WB_OK)
		goto done;
	/* Then the whole, shedding the least important first. */
	fits = count_total(&p, &oom) <= s->total;
	if ((st = shed_all(&p, &fits)) != WB_OK)
		goto done;
	total = count_total(&p, &oom);
	fits = total <= s->total;
	if (!fits && !allow_over) {
		p.hist_final = count_history(&p, &oom);
		out->report = report(&p, total, fits);
		st = wb_err_set(err, WB_ECHECK, "the prompt needs at least %llu "
		    "tokens, over the budget of %llu, with every other section "
		    "dropped and the character and scene cut to their smallest",
		    (unsigned long long)total, (unsigned long long)s->total);
		goto done;
	}
	/* Over anyway: the scene and character at least keep their budgets. */
	if (!fits && (st = restore(&p)) != WB_OK)
		goto done;
	p.hist_final = count_history(&p, &oom);
	total = count_total(&p, &oom);
	if (oom) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto done;
	}
	out->report = report(&p, total, fits);
	render_system(&p, &sys);
	render_action(&user, json_object_get(req, "player_action"),
	    json_object_get(json_object_get(req, "responding_character"), "name"));
	if (sys.oom || user.oom) {
		st = wb_err_set(err, WB_EINTERNAL, "out of memory");
		goto done;
	}
	out->messages = json_array();
	json_array_append_new(out->messages, message("system", sys.p, sys.len));
	for (size_t i = p.first; i < p.nturns; i++) {
		const struct turn *t = &p.turns[i];
		bool cut = p.last != NULL && i == p.nturns - 1;
		json_array_append_new(out->messages, message(t->assistant ?
		    "assistant" : "user", cut ? p.last : t->content,
		    cut ? p.last_len : t->len));
	}
	json_array_append_new(out->messages, message("user", user.p, user.len));
	out->system = sys.p;
	out->system_len = sys.len;
	sys.p = NULL;
	st = WB_OK;  /* over the budget only when allowed, and reported */
done:
	free(sys.p);
	free(user.p);
	prompt_free(&p);
	return st;
}

/* Free what wb_prompt_build made. */
void
wb_prompt_out_free(struct wb_prompt_out *out)
{
	free(out->system);
	json_decref(out->messages);
	json_decref(out->report);
	memset(out, 0, sizeof(*out));
}
