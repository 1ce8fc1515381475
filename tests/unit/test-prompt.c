/* test-prompt.c: the order in which a prompt sheds its parts to fit. */
#include "wb_priv.h"
#include "unit.h"

/* A request with every part, written with ' for ". Six turns, oldest
 * first, each ending in its number. */
static const char request_text[] =
    "{'player_action':{'action_type':'speak','dialogue':'Any news?'},"
    "'scene_context':{'scene_name':'Dusk at the docks','location_name':"
    "'The Docks','time_context':'Evening','present_characters':['Tom']},"
    "'directorial_notes':'Keep the pace slow; let the rain be heard.',"
    "'conversation_history':["
    "{'speaker':'Player','text':'the first thing the player said #0'},"
    "{'speaker':'Mira','text':'the first thing Mira answered #1'},"
    "{'speaker':'Player','text':'a question about the ships #2'},"
    "{'speaker':'Mira','text':'an answer about the ships #3'},"
    "{'speaker':'Player','text':'a question about the rain #4'},"
    "{'speaker':'Mira','text':'the newest thing Mira said #5'}],"
    "'responding_character':{'name':'Mira','archetype':'innkeeper',"
    "'current_mood':'wary but kind'},"
    "'active_challenges':[{'id':'c','name':'Persuade Mira','description':"
    "'Mira keeps her secrets.','skill_name':'Persuasion',"
    "'difficulty_display':'Hard','trigger_hints':['asks about the ledger']}],"
    "'active_narrative_events':[{'id':'e','name':'The bridge burns',"
    "'description':'Smoke rises over the river.','scene_direction':"
    "'Someone shouts outside.','trigger_hints':['mentions fire'],"
    "'featured_npc_names':[],'priority':2}],"
    "'location_context':'The docks flood at high tide.',"
    "'player_context':'The player is a courier from the capital.'}";

#define NTURNS 6

static json_t *
request(void)
{
	char *s = strdup(request_text);
	json_t *r;

	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	r = json_loads(s, 0, NULL);
	free(s);
	return r;
}

/* Budgets that each part meets by itself, so that only the total sheds. */
static void
settings(struct wb_settings *s, uint64_t total)
{
	wb_settings_default(s);
	s->enable_summarization = false;
	for (int i = 0; i < WB_NCAT; i++)
		s->budget[i] = 10000;
	s->total = total;
}

/* The categories of a report cut but kept ("cut") or dropped ("dropped"),
 * as a set of bits. */
static unsigned
listed(const json_t *report, const char *which)
{
	const char *name;
	enum wb_category c;
	unsigned set = 0;
	json_t *v;

	json_object_foreach(json_object_get(report, "sections"), name, v) {
		const char *why = json_string_value(json_object_get(v, "reason"));
		bool gone = json_integer_value(json_object_get(v,
		    "final_tokens")) == 0;
		if (why == NULL || strcmp(why, "fits") == 0 ||
		    gone != (strcmp(which, "dropped") == 0))
			continue;
		if (wb_category_parse(name, &c) == 0)
			set |= 1u << c;
	}
	return set;
}

/* The report's total, as sent. */
static uint64_t
total_of(const json_t *report)
{
	return (uint64_t)json_integer_value(json_object_get(json_object_get(
	    report, "total"), "final_tokens"));
}

/* The order sections go in, and the sets of them gone at each step. */
static const enum wb_category shed_order[] = {
	WB_CAT_PLAYER, WB_CAT_LOCATION, WB_CAT_NARRATIVE, WB_CAT_CHALLENGES,
	WB_CAT_HISTORY, WB_CAT_DIRECTORIAL,
};

/* Is set the first k of shed_order, for some k? */
static bool
a_prefix_of_the_order(unsigned set)
{
	unsigned want = 0;

	for (size_t k = 0; k <= sizeof(shed_order) / sizeof(shed_order[0]); k++) {
		if (set == want)
			return true;
		if (k < sizeof(shed_order) / sizeof(shed_order[0]))
			want |= 1u << shed_order[k];
	}
	return false;
}

/* The size of the whole prompt, nothing shed. */
static uint64_t
whole(const struct wb_counter *c, const json_t *r)
{
	struct wb_settings s;
	struct wb_prompt_out out;
	struct wb_err err;
	uint64_t n;

	settings(&s, 100000);
	CHECK_U(wb_prompt_build(&s, c, r, false, &out, &err), WB_OK);
	n = total_of(out.report);
	CHECK_U(listed(out.report, "cut"), 0);
	wb_prompt_out_free(&out);
	return n;
}

static void
the_least_important_is_cut_first_then_dropped_in_order(void)
{
	struct wb_counter *c = per_scalar();
	json_t *r = request();
	uint64_t all = whole(c, r);
	unsigned before = 0, seen = 0;
	struct wb_settings s;
	struct wb_prompt_out out;
	struct wb_err err;

	/* One token short: only the player's context is cut. */
	settings(&s, all - 1);
	CHECK_U(wb_prompt_build(&s, c, r, false, &out, &err), WB_OK);
	CHECK_U(listed(out.report, "cut"), 1u << WB_CAT_PLAYER);
	CHECK_U(listed(out.report, "dropped"), 0);
	wb_prompt_out_free(&out);
	/* Then, as the total falls, sections go only in the order. */
	for (uint64_t t = all; t > 0; t--) {
		unsigned dropped;
		settings(&s, t);
		if (wb_prompt_build(&s, c, r, false, &out, &err) != WB_OK) {
			wb_prompt_out_free(&out);
			break;
		}
		dropped = listed(out.report, "dropped");
		CHECK(a_prefix_of_the_order(dropped));
		CHECK((dropped & before) == before);
		CHECK(total_of(out.report) <= t);
		before = dropped;
		seen |= dropped;
		wb_prompt_out_free(&out);
	}
	/* Every section that may go went, before the prompt stopped fitting. */
	CHECK(a_prefix_of_the_order(seen) && (seen & 1u << WB_CAT_DIRECTORIAL));
	json_decref(r);
	wb_counter_free(c);
}

static void
the_scene_and_the_character_are_never_dropped(void)
{
	struct wb_counter *c = per_scalar();
	json_t *r = request();
	struct wb_settings s;
	struct wb_prompt_out out;
	struct wb_err err;
	const char *sys;

	for (uint64_t t = 1; t < 400; t += 7) {
		int st;
		settings(&s, t);
		st = wb_prompt_build(&s, c, r, false, &out, &err);
		CHECK(st == WB_OK || st == WB_ECHECK);
		CHECK((listed(out.report, "dropped") &
		    (1u << WB_CAT_SCENE | 1u << WB_CAT_CHARACTER)) == 0);
		wb_prompt_out_free(&out);
	}
	/* Over the budget anyway, they keep their own budgets and are sent. */
	settings(&s, 1);
	CHECK_U(wb_prompt_build(&s, c, r, false, &out, &err), WB_ECHECK);
	CHECK(out.system == NULL && out.messages == NULL);
	CHECK(json_is_true(json_object_get(json_object_get(out.report, "total"),
	    "over")));
	wb_prompt_out_free(&out);
	CHECK_U(wb_prompt_build(&s, c, r, true, &out, &err), WB_OK);
	sys = out.system;
	CHECK(sys != NULL && strstr(sys, "CURRENT SCENE: Dusk at the docks") &&
	    strstr(sys, "YOUR CURRENT MOOD: wary but kind"));
	CHECK(sys != NULL && strstr(sys, "PLAYER CONTEXT") == NULL);
	CHECK_U(listed(out.report, "dropped") &
	    (1u << WB_CAT_SCENE | 1u << WB_CAT_CHARACTER), 0);
	wb_prompt_out_free(&out);
	json_decref(r);
	wb_counter_free(c);
}

/* The turn a chat message holds: the digit it ends in (a cut turn keeps
 * its end), or -1. */
static int
turn_of(const json_t *m)
{
	const json_t *s = json_object_get(m, "content");
	size_t n = json_string_length(s);
	char d = n > 0 ? json_string_value(s)[n - 1] : 0;

	return d >= '0' && d <= '9' ? d - '0' : -1;
}

static void
history_goes_oldest_first(void)
{
	struct wb_counter *c = per_scalar();
	json_t *r = request();
	uint64_t all = whole(c, r);
	size_t before = NTURNS;
	bool some = false;
	struct wb_settings s;
	struct wb_prompt_out out;
	struct wb_err err;

	for (uint64_t t = all; t > 0; t--) {
		size_t kept, n, i;
		settings(&s, t);
		if (wb_prompt_build(&s, c, r, false, &out, &err) != WB_OK) {
			wb_prompt_out_free(&out);
			break;
		}
		kept = (size_t)json_integer_value(json_object_get(out.report,
		    "history_turns_kept"));
		n = json_array_size(out.messages);
		/* The system prompt, the kept turns, the player's action. */
		CHECK_U(n, kept + 2);
		/* What is kept is the newest turns, in their order. */
		for (i = 1; i + 1 < n; i++)
			CHECK_U(turn_of(json_array_get(out.messages, i)),
			    NTURNS - kept + i - 1);
		CHECK(kept <= before);
		some |= kept > 0 && kept < NTURNS;
		before = kept;
		wb_prompt_out_free(&out);
	}
	CHECK(some && before == 0);
	json_decref(r);
	wb_counter_free(c);
}

static void
the_newest_turn_is_cut_at_its_start_before_the_history_goes(void)
{
	struct wb_counter *c = per_scalar();
	json_t *r = request();
	struct wb_settings s;
	struct wb_prompt_out out;
	struct wb_err err;
	const char *last;

	/* A history budget of less than the newest turn keeps it, cut. */
	settings(&s, 100000);
	s.budget[WB_CAT_HISTORY] = 20;
	CHECK_U(wb_prompt_build(&s, c, r, false, &out, &err), WB_OK);
	CHECK_U(json_array_size(out.messages), 3);
	last = json_string_value(json_object_get(json_array_get(out.messages, 1),
	    "content"));
	CHECK(last != NULL && strcmp(last, "Mira: ...said #5") == 0);
	if (last != NULL && strcmp(last, "Mira: ...said #5") != 0)
		fprintf(stderr, "  got '%s'\n", last);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(
	    json_object_get(out.report, "sections"), "conversation_history"),
	    "reason")), "fits") != 0);
	wb_prompt_out_free(&out);
	json_decref(r);
	wb_counter_free(c);
}

int
main(void)
{
	RUN(the_least_important_is_cut_first_then_dropped_in_order);
	RUN(the_scene_and_the_character_are_never_dropped);
	RUN(history_goes_oldest_first);
	RUN(the_newest_turn_is_cut_at_its_start_before_the_history_goes);
	return UNIT_END();
}
