/* test-request.c: every way a wb-prompt request is refused, and its message. */
#include "wb_priv.h"
#include "unit.h"

/*
 * Requests are written with ' for " to be read. Members are checked in
 * order and only the first problem is told, so each case spells out,
 * valid, only what comes before its problem.
 */
#define ACTION "'player_action':{'action_type':'speak'}"
#define SCENE "'scene_context':{'scene_name':'Inn','location_name':'Docks'," \
	"'time_context':'Dusk','present_characters':[]}"
#define NOTES "'directorial_notes':''"
#define HISTORY "'conversation_history':[]"
#define BEFORE_CHARACTER "{" ACTION "," SCENE "," NOTES "," HISTORY ","
#define CHARACTER "'responding_character':{'name':'Mara'," \
	"'archetype':'innkeeper'"
#define MOTIVATION "'description':'d','priority':1,'intensity':'high'"
#define ACTOR "'name':'n','actor_type':'a','reason':'r'"
#define BEFORE_CHALLENGES BEFORE_CHARACTER CHARACTER "},"
#define BEFORE_EVENTS BEFORE_CHALLENGES "'active_challenges':[],"
#define EVENT "'id':'e','name':'n','description':'d','scene_direction':'s'," \
	"'trigger_hints':[],'featured_npc_names':[]"
#define WHOLE BEFORE_EVENTS "'active_narrative_events':[]"

static const struct {
	const char *req;
	const char *msg;
} refused[] = {
	/* The top level, in order. */
	{ "{}", "player_action: missing" },
	{ "[]", "player_action: missing" },
	{ "{'world_id':7}", "world_id: expected a string, got an integer" },
	{ "{'world_id':null}", "player_action: missing" },
	{ "{'player_action':[]}",
	  "player_action: expected an object, got an array" },
	{ "{" ACTION "}", "scene_context: missing" },
	{ "{" ACTION ",'scene_context':'x'}",
	  "scene_context: expected an object, got a string" },
	{ "{" ACTION "," SCENE "}", "directorial_notes: missing" },
	{ "{" ACTION "," SCENE ",'directorial_notes':null}",
	  "directorial_notes: expected a string, got null" },
	{ "{" ACTION "," SCENE "," NOTES "}", "conversation_history: missing" },
	{ "{" ACTION "," SCENE "," NOTES ",'conversation_history':{}}",
	  "conversation_history: expected an array, got an object" },
	{ BEFORE_CHARACTER "'x':1}", "responding_character: missing" },
	{ BEFORE_CHARACTER "'responding_character':true}",
	  "responding_character: expected an object, got a boolean" },
	{ BEFORE_CHALLENGES "'x':1}", "active_challenges: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':{}}",
	  "active_challenges: expected an array, got an object" },
	{ BEFORE_EVENTS "'x':1}", "active_narrative_events: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':1.5}",
	  "active_narrative_events: expected an array, got a number" },
	{ WHOLE ",'location_context':[]}",
	  "location_context: expected a string, got an array" },
	{ WHOLE ",'player_context':false}",
	  "player_context: expected a string, got a boolean" },
	{ WHOLE ",'context_budget':[]}",
	  "context_budget: expected an object, got an array" },

	/* player_action */
	{ "{'player_action':{}}", "player_action.action_type: missing" },
	{ "{'player_action':{'action_type':null}}",
	  "player_action.action_type: expected a string, got null" },
	{ "{'player_action':{'action_type':'x','target':1}}",
	  "player_action.target: expected a string, got an integer" },
	{ "{'player_action':{'action_type':'x','dialogue':{}}}",
	  "player_action.dialogue: expected a string, got an object" },

	/* scene_context */
	{ "{" ACTION ",'scene_context':{}}", "scene_context.scene_name: missing" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s'}}",
	  "scene_context.location_name: missing" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l'}}",
	  "scene_context.time_context: missing" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t'}}", "scene_context.present_characters: missing" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':['a',2]}}",
	  "scene_context.present_characters[1]: expected a string, got an integer" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':[],'region_items':'x'}}",
	  "scene_context.region_items: expected an array, got a string" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':[],'region_items':[1]}}",
	  "scene_context.region_items[0]: expected an object, got an integer" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':[],'region_items':[{}]}}",
	  "scene_context.region_items[0].name: missing" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':[],'region_items':"
	  "[{'name':'a'},{'name':'b','description':1}]}}",
	  "scene_context.region_items[1].description: expected a string, got an "
	  "integer" },
	{ "{" ACTION ",'scene_context':{'scene_name':'s','location_name':'l',"
	  "'time_context':'t','present_characters':[],'region_items':"
	  "[{'name':'a','item_type':[]}]}}",
	  "scene_context.region_items[0].item_type: expected a string, got an "
	  "array" },

	/* conversation_history */
	{ "{" ACTION "," SCENE "," NOTES ",'conversation_history':['hi']}",
	  "conversation_history[0]: expected an object, got a string" },
	{ "{" ACTION "," SCENE "," NOTES ",'conversation_history':[{}]}",
	  "conversation_history[0].speaker: missing" },
	{ "{" ACTION "," SCENE "," NOTES ",'conversation_history':"
	  "[{'speaker':'a','text':'b'},{'speaker':'a'}]}",
	  "conversation_history[1].text: missing" },

	/* responding_character */
	{ BEFORE_CHARACTER "'responding_character':{}}",
	  "responding_character.name: missing" },
	{ BEFORE_CHARACTER "'responding_character':{'character_id':1}}",
	  "responding_character.character_id: expected a string, got an integer" },
	{ BEFORE_CHARACTER "'responding_character':{'name':'n'}}",
	  "responding_character.archetype: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'current_mood':1}}",
	  "responding_character.current_mood: expected a string, got an integer" },
	{ BEFORE_CHARACTER CHARACTER ",'disposition_toward_player':1}}",
	  "responding_character.disposition_toward_player: expected a string, "
	  "got an integer" },
	{ BEFORE_CHARACTER CHARACTER ",'relationship_to_player':1}}",
	  "responding_character.relationship_to_player: expected a string, got "
	  "an integer" },
	{ BEFORE_CHARACTER CHARACTER ",'available_expressions':'smile'}}",
	  "responding_character.available_expressions: expected an array, got "
	  "a string" },
	{ BEFORE_CHARACTER CHARACTER ",'available_actions':['bow',null]}}",
	  "responding_character.available_actions[1]: expected a string, got "
	  "null" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':[]}}",
	  "responding_character.motivations: expected an object, got an array" },
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':'x'}}",
	  "responding_character.social_stance: expected an object, got a string" },

	/* responding_character.motivations */
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':{}}}}",
	  "responding_character.motivations.known: expected an array, got an "
	  "object" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[[]]}}}",
	  "responding_character.motivations.known[0]: expected an object, got an "
	  "array" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{}]}}}",
	  "responding_character.motivations.known[0].description: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{'description':"
	  "'d'}]}}}", "responding_character.motivations.known[0].priority: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{'description':"
	  "'d','priority':'high'}]}}}",
	  "responding_character.motivations.known[0].priority: expected an "
	  "integer, got a string" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{'description':"
	  "'d','priority':2.0}]}}}",
	  "responding_character.motivations.known[0].priority: expected an "
	  "integer, got a number" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{'description':"
	  "'d','priority':-1}]}}}",
	  "responding_character.motivations.known[0].priority: must not be "
	  "negative" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{'description':"
	  "'d','priority':0}]}}}",
	  "responding_character.motivations.known[0].intensity: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'target':5}]}}}",
	  "responding_character.motivations.known[0].target: expected a string, "
	  "got an integer" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'helpers':{}}]}}}",
	  "responding_character.motivations.known[0].helpers: expected an array, "
	  "got an object" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'helpers':['Tom']}]}}}",
	  "responding_character.motivations.known[0].helpers[0]: expected an "
	  "object, got a string" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'helpers':[{}]}]}}}",
	  "responding_character.motivations.known[0].helpers[0].name: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'helpers':[{'name':'n'}]}]}}}",
	  "responding_character.motivations.known[0].helpers[0].actor_type: "
	  "missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'helpers':[{'name':'n','actor_type':'a'}]}]}}}",
	  "responding_character.motivations.known[0].helpers[0].reason: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  ",'opponents':[{" ACTOR "},{'name':1}]}]}}}",
	  "responding_character.motivations.known[0].opponents[1].name: expected "
	  "a string, got an integer" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'known':[{" MOTIVATION
	  "}],'suspected':[{}]}}}",
	  "responding_character.motivations.suspected[0].description: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{}]}}}",
	  "responding_character.motivations.secret[0].description: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{'description':"
	  "'d','priority':-3}]}}}",
	  "responding_character.motivations.secret[0].priority: must not be "
	  "negative" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'helpers':[{}]}]}}}",
	  "responding_character.motivations.secret[0].helpers[0].name: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'sender':'Tom'}]}}}",
	  "responding_character.motivations.secret[0].sender: expected an object, "
	  "got a string" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'sender':{'name':'n','actor_type':'a'}}]}}}",
	  "responding_character.motivations.secret[0].sender.reason: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'receiver':{}}]}}}",
	  "responding_character.motivations.secret[0].receiver.name: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'sender':null,'receiver':null,'tells':[3]}]}}}",
	  "responding_character.motivations.secret[0].deflection_behavior: "
	  "missing" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'deflection_behavior':'shrug','tells':'x'}]}}}",
	  "responding_character.motivations.secret[0].tells: expected an array, "
	  "got a string" },
	{ BEFORE_CHARACTER CHARACTER ",'motivations':{'secret':[{" MOTIVATION
	  ",'deflection_behavior':'shrug','tells':['blush',3]}]}}}",
	  "responding_character.motivations.secret[0].tells[1]: expected a "
	  "string, got an integer" },

	/* responding_character.social_stance */
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':{'allies':'x'}}}",
	  "responding_character.social_stance.allies: expected an array, got a "
	  "string" },
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':{'allies':[{}]}}}",
	  "responding_character.social_stance.allies[0].name: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':{'allies':[{'name':'n'}]}}}",
	  "responding_character.social_stance.allies[0].character_type: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':{'allies':[{'name':'n',"
	  "'character_type':'c'}]}}}",
	  "responding_character.social_stance.allies[0].reasons: missing" },
	{ BEFORE_CHARACTER CHARACTER ",'social_stance':{'enemies':[{'name':'n',"
	  "'character_type':'c','reasons':[1]}]}}}",
	  "responding_character.social_stance.enemies[0].reasons[0]: expected a "
	  "string, got an integer" },

	/* active_challenges */
	{ BEFORE_CHALLENGES "'active_challenges':[7]}",
	  "active_challenges[0]: expected an object, got an integer" },
	{ BEFORE_CHALLENGES "'active_challenges':[{}]}",
	  "active_challenges[0].id: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c'}]}",
	  "active_challenges[0].name: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c','name':'n'}]}",
	  "active_challenges[0].description: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c','name':'n',"
	  "'description':'d'}]}", "active_challenges[0].skill_name: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c','name':'n',"
	  "'description':'d','skill_name':'s'}]}",
	  "active_challenges[0].difficulty_display: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c','name':'n',"
	  "'description':'d','skill_name':'s','difficulty_display':'x'}]}",
	  "active_challenges[0].trigger_hints: missing" },
	{ BEFORE_CHALLENGES "'active_challenges':[{'id':'c','name':'n',"
	  "'description':'d','skill_name':'s','difficulty_display':'x',"
	  "'trigger_hints':[{}]}]}",
	  "active_challenges[0].trigger_hints[0]: expected a string, got an "
	  "object" },

	/* active_narrative_events */
	{ BEFORE_EVENTS "'active_narrative_events':[null]}",
	  "active_narrative_events[0]: expected an object, got null" },
	{ BEFORE_EVENTS "'active_narrative_events':[{}]}",
	  "active_narrative_events[0].id: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e'}]}",
	  "active_narrative_events[0].name: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e','name':'n'}]}",
	  "active_narrative_events[0].description: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e','name':'n',"
	  "'description':'d'}]}",
	  "active_narrative_events[0].scene_direction: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e','name':'n',"
	  "'description':'d','scene_direction':'s'}]}",
	  "active_narrative_events[0].trigger_hints: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e','name':'n',"
	  "'description':'d','scene_direction':'s','trigger_hints':[]}]}",
	  "active_narrative_events[0].featured_npc_names: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{'id':'e','name':'n',"
	  "'description':'d','scene_direction':'s','trigger_hints':[],"
	  "'featured_npc_names':[false]}]}",
	  "active_narrative_events[0].featured_npc_names[0]: expected a string, "
	  "got a boolean" },
	{ BEFORE_EVENTS "'active_narrative_events':[{" EVENT "}]}",
	  "active_narrative_events[0].priority: missing" },
	{ BEFORE_EVENTS "'active_narrative_events':[{" EVENT ",'priority':'high'}]}",
	  "active_narrative_events[0].priority: expected an integer, got a "
	  "string" },
};

/* The request in text, with ' for "; NULL if it is not JSON. */
static json_t *
request(const char *text)
{
	char *s = strdup(text);
	json_t *r;

	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	r = json_loads(s, JSON_DECODE_ANY, NULL);
	free(s);
	return r;
}

static int
check(const char *text, struct wb_err *err)
{
	json_t *r = request(text);
	int st;

	memset(err, 0, sizeof(*err));
	if (r == NULL) {
		fprintf(stderr, "not JSON: %s\n", text);
		return -1;
	}
	st = wb_request_check(r, err);
	json_decref(r);
	return st;
}

static void
each_problem_is_refused_with_its_path_and_message(void)
{
	struct wb_err err;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_U(check(refused[i].req, &err), WB_EDATA);
		CHECK(strcmp(err.msg, refused[i].msg) == 0);
		if (strcmp(err.msg, refused[i].msg) != 0)
			fprintf(stderr, "  case %zu: got '%s'\n  want '%s'\n", i,
			    err.msg, refused[i].msg);
	}
	printf("# %zu refused requests\n", sizeof(refused) / sizeof(refused[0]));
}

static void
the_least_request_passes(void)
{
	struct wb_err err;

	CHECK_U(check(WHOLE "}", &err), WB_OK);
	/* Optional members may be null, and event priorities negative. */
	CHECK_U(check(WHOLE ",'world_id':null,'location_context':null,"
	    "'player_context':null,'context_budget':null}", &err), WB_OK);
	CHECK_U(check(BEFORE_EVENTS "'active_narrative_events':[{" EVENT
	    ",'priority':-5}]}", &err), WB_OK);
}

static void
every_member_filled_in_passes(void)
{
	struct wb_err err;

	CHECK_U(check("{'world_id':'w','player_action':{'action_type':'speak',"
	    "'target':'Mara','dialogue':'Hi'},'scene_context':{'scene_name':'s',"
	    "'location_name':'l','time_context':'t','present_characters':['a'],"
	    "'region_items':[{'name':'cup','description':'d','item_type':'i'}]},"
	    "'directorial_notes':'n','conversation_history':[{'speaker':'a',"
	    "'text':'b'}],'responding_character':{'character_id':'c','name':'Mara',"
	    "'archetype':'a','current_mood':'m','disposition_toward_player':'d',"
	    "'relationship_to_player':'r','available_expressions':['smile'],"
	    "'available_actions':['bow'],'motivations':{'known':[{" MOTIVATION
	    ",'target':'t','helpers':[{" ACTOR "}],'opponents':[{" ACTOR "}]}],"
	    "'suspected':[{" MOTIVATION "}],'secret':[{" MOTIVATION ",'sender':{"
	    ACTOR "},'receiver':{" ACTOR "},'deflection_behavior':'x','tells':"
	    "['y']}]},'social_stance':{'allies':[{'name':'n','character_type':'c',"
	    "'reasons':['r']}],'enemies':[]}},'active_challenges':[{'id':'c',"
	    "'name':'n','description':'d','skill_name':'s','difficulty_display':"
	    "'x','trigger_hints':['h']}],'active_narrative_events':[{" EVENT
	    ",'priority':3}],'location_context':'l','player_context':'p',"
	    "'context_budget':{'total_budget_tokens':100}}", &err), WB_OK);
	if (err.msg[0])
		fprintf(stderr, "  got '%s'\n", err.msg);
}

static void
only_the_first_problem_is_told(void)
{
	struct wb_err err;

	CHECK_U(check("{'world_id':1,'player_action':2}", &err), WB_EDATA);
	CHECK(strcmp(err.msg, "world_id: expected a string, got an integer") == 0);
	CHECK_U(check("{" ACTION "," SCENE ",'conversation_history':[{},{}]}",
	    &err), WB_EDATA);
	CHECK(strcmp(err.msg, "directorial_notes: missing") == 0);
}

int
main(void)
{
	RUN(each_problem_is_refused_with_its_path_and_message);
	RUN(the_least_request_passes);
	RUN(every_member_filled_in_passes);
	RUN(only_the_first_problem_is_told);
	return UNIT_END();
}
