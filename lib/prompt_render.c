/* prompt_render.c: a request's texts, from the templates, before budgets. */
#include <stdlib.h>
#include <string.h>

#include "wb_priv.h"

#define CHALLENGES_INTRO \
	"The player's action or words may trigger these challenges:\n"
#define EVENTS_INTRO "The player's action or words may trigger these story " \
	"events, the most important first:\n"

/* The templates of a prompt: their keys in a world's file, and defaults. */
static const struct {
	const char *key;
	const char *text;
} templates[WB_NTPL] = {
	[WB_TPL_ROLE] = { "role",
	    "You are roleplaying as {name}, a {archetype}." },
	[WB_TPL_SCENE] = { "current_scene", "CURRENT SCENE:" },
	[WB_TPL_LOCATION] = { "location", "LOCATION:" },
	[WB_TPL_TIME] = { "time", "TIME:" },
	[WB_TPL_PRESENT] = { "others_present", "OTHERS PRESENT:" },
	[WB_TPL_ITEMS] = { "visible_items", "VISIBLE ITEMS IN AREA:" },
	[WB_TPL_DIRECTOR] = { "directorial_notes",
	    "=== DIRECTOR'S SCENE GUIDANCE ===" },
	[WB_TPL_MOOD] = { "mood", "YOUR CURRENT MOOD:" },
	[WB_TPL_DISPOSITION] = { "disposition",
	    "YOUR DISPOSITION TOWARD THE PLAYER:" },
	[WB_TPL_RELATIONSHIP] = { "relationship",
	    "YOUR RELATIONSHIP TO THE PLAYER:" },
	[WB_TPL_KNOWN] = { "known_motivations", "=== KNOWN MOTIVATIONS ===" },
	[WB_TPL_SUSPECTED] = { "suspected_motivations",
	    "=== SUSPECTED MOTIVATIONS (player senses something) ===" },
	[WB_TPL_SECRET] = { "secret_motivations",
	    "=== SECRET MOTIVATIONS (player does not know) ===" },
	[WB_TPL_SOCIAL] = { "social_stance", "=== SOCIAL STANCE ===" },
	[WB_TPL_CHALLENGES] = { "challenges", "## Active Challenges" },
	[WB_TPL_EVENTS] = { "narrative_events", "## Active Narrative Events" },
	[WB_TPL_LOCATION_CONTEXT] = { "location_context",
	    "=== LOCATION CONTEXT ===" },
	[WB_TPL_PLAYER_CONTEXT] = { "player_context", "=== PLAYER CONTEXT ===" },
	[WB_TPL_RESPONSE_FORMAT] = { "response_format",
	    "RESPONSE FORMAT:\n"
	    "<reasoning>\n"
	    "How you mean to answer and why: what you know, what you feel, "
	    "what you want from this moment. Only the Game Master reads this.\n"
	    "</reasoning>\n"
	    "<dialogue>\n"
	    "What {name} says, in character and in their own voice, "
	    "usually one to three sentences.\n"
	    "</dialogue>" },
};

const char *
wb_template_name(enum wb_template t)
{
	return templates[t].key;
}

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
	return s->templates[t] != NULL ? s->templates[t] : templates[t].text;
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
render_character(struct wb_buf *b, const struct wb_settings *s,
    const json_t *ch)
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
render_challenges(struct wb_buf *b, const struct wb_settings *s,
    const json_t *a)
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

void
wb_render_action(struct wb_buf *b, const json_t *req)
{
	const json_t *pa = json_object_get(req, "player_action");
	const json_t *name = json_object_get(json_object_get(req,
	    "responding_character"), "name");
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

int
wb_render_request(const struct wb_settings *s, const json_t *r,
    struct wb_render *out, struct wb_err *err)
{
	const json_t *ch = json_object_get(r, "responding_character");
	const json_t *name = json_object_get(ch, "name"), *v;
	const json_t *hist = json_object_get(r, "conversation_history");
	struct wb_buf *blk = out->block;
	bool oom = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	addt(&out->role, tpl(s, WB_TPL_ROLE), name, json_object_get(ch,
	    "archetype"));
	render_format(&out->format, s, ch);
	render_scene(&blk[WB_CAT_SCENE], s, json_object_get(r, "scene_context"));
	render_character(&blk[WB_CAT_CHARACTER], s, ch);
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		struct wb_buf *b = &blk[texts[t].cat];
		if (json_string_length(v = json_object_get(r, texts[t].key)) == 0)
			continue;
		wb_buf_adds(b, tpl(s, texts[t].heading));
		wb_buf_adds(b, "\n");
		out->head[texts[t].cat] = b->len;
		addj(b, v);
	}
	if (json_array_size(v = json_object_get(r, "active_challenges")) > 0)
		render_challenges(&blk[WB_CAT_CHALLENGES], s, v);
	/* The heading and the line under it say nothing by themselves. */
	out->head[WB_CAT_CHALLENGES] = strlen(tpl(s, WB_TPL_CHALLENGES)) + 1 +
	    strlen(CHALLENGES_INTRO);
	if (json_array_size(v = json_object_get(r, "active_narrative_events")) > 0)
		render_events(&blk[WB_CAT_NARRATIVE], s, v);
	out->head[WB_CAT_NARRATIVE] = strlen(tpl(s, WB_TPL_EVENTS)) + 1 +
	    strlen(EVENTS_INTRO);
	for (int c = 0; c < WB_NCAT; c++) {
		struct wb_buf *b = &blk[c];
		/* Blocks end without the newline that separates their lines. */
		while (b->len > 0 && b->p[b->len - 1] == '\n')
			b->p[--b->len] = '\0';
		oom |= b->oom;
	}
	oom |= out->role.oom || out->format.oom;
	out->nturns = json_array_size(hist);
	if ((out->turns = calloc(out->nturns + 1, sizeof(*out->turns))) == NULL)
		oom = true;
	for (i = 0; !oom && i < out->nturns; i++) {
		struct wb_turn *t = &out->turns[i];
		struct wb_buf b = { 0 };
		const json_t *sp = json_object_get(v = json_array_get(hist, i),
		    "speaker");
		addj(&b, sp);
		wb_buf_adds(&b, ": ");
		t->prefix = b.len;
		addj(&b, json_object_get(v, "text"));
		t->len = b.len;
		t->assistant = json_equal(sp, name);
		oom = (t->content = wb_buf_take(&b)) == NULL;
	}
	return oom ? wb_err_set(err, WB_EINTERNAL, "out of memory") : WB_OK;
}

void
wb_render_free(struct wb_render *r)
{
	wb_buf_free(&r->role);
	wb_buf_free(&r->format);
	for (int c = 0; c < WB_NCAT; c++)
		wb_buf_free(&r->block[c]);
	for (size_t i = 0; r->turns != NULL && i < r->nturns; i++)
		free(r->turns[i].content);
	free(r->turns);
	memset(r, 0, sizeof(*r));
}
