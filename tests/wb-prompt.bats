#!/usr/bin/env bats
# wb-prompt: rendering, budgets and shedding, formats, bad requests.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export HOME=$BATS_TEST_TMPDIR XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	unset WB_CONFIG
}

# A small valid request; jq filters in $1 change it.
req() {
	jq -c "${1:-.}" <<-'EOF2'
	{"player_action": {"action_type": "speak", "target": "Mira", "dialogue": "Any news?"},
	 "scene_context": {"scene_name": "Dusk", "location_name": "The Docks",
	   "time_context": "Evening", "present_characters": [], "region_items": []},
	 "directorial_notes": "",
	 "conversation_history": [],
	 "responding_character": {"name": "Mira", "archetype": "innkeeper"},
	 "active_challenges": [], "active_narrative_events": []}
	EOF2
}

# n turns of about 20 words each, alternating Player and Mira.
turns() {
	jq -c -n --argjson n "$1" '[range($n) | {speaker: (if . % 2 == 0 then "Player" else "Mira" end),
	    text: ("turn \(.) " + ([range(19)] | map("word") | join(" ")))}]'
}

# The report's sections dropped, and those cut but kept, most important first.
DROPPED='[.report.sections | to_entries[] | select(.value.final_tokens == 0 and .value.reason != "fits") | .key]'
CUT='[.report.sections | to_entries[] | select(.value.final_tokens > 0 and .value.reason != "fits") | .key]'

@test "the example request gives the golden output" {
	run --separate-stderr wb-prompt -c /dev/null <"$TOP/examples/request.json"
	assert_success
	assert_equal "$output" "$(cat "$TOP/tests/golden/request.json.out")"
	run --separate-stderr wb-prompt -c /dev/null -F text <"$TOP/examples/request.json"
	assert_equal "$output" "$(cat "$TOP/tests/golden/request.text.out")"
}

@test "every heading appears, in order" {
	run --separate-stderr wb-prompt -F text -c /dev/null <"$TOP/examples/request.json"
	assert_success
	prev=0
	for h in 'You are roleplaying as Mira, a wary innkeeper with debts.' \
	    'CURRENT SCENE: ' 'LOCATION: ' 'TIME: ' 'OTHERS PRESENT: ' 'VISIBLE ITEMS IN AREA:' \
	    "=== DIRECTOR'S SCENE GUIDANCE ===" 'YOUR CURRENT MOOD: ' \
	    'YOUR DISPOSITION TOWARD THE PLAYER: ' 'YOUR RELATIONSHIP TO THE PLAYER: ' \
	    '=== KNOWN MOTIVATIONS ===' '=== SUSPECTED MOTIVATIONS (player senses something) ===' \
	    '=== SECRET MOTIVATIONS (player does not know) ===' 'Tells you may let slip:' \
	    '=== SOCIAL STANCE ===' '## Active Challenges' '## Active Narrative Events' \
	    'RESPONSE FORMAT:' 'use only these expressions: neutral, wary, amused, afraid.' \
	    'these actions suit the character: polishes a mug'; do
		n=$(grep -n -F -- "$h" <<<"$output" | head -n 1 | cut -d: -f1)
		[ -n "$n" ] || { echo "missing: $h" >&2; return 1; }
		[ "$n" -ge "$prev" ] || { echo "out of order: $h" >&2; return 1; }
		prev=$n
	done
}

@test "narrative events are listed highest priority first" {
	run --separate-stderr wb-prompt -F text -c /dev/null <"$TOP/examples/request.json"
	assert_line '1. "Brannoc'"'"'s Confession" (Priority: 5)'
	assert_line '2. "The Green Cloak Returns" (Priority: 2)'
}

@test "history turns become chat messages by speaker, then the player's action" {
	run --separate-stderr wb-prompt -c /dev/null <<<"$(req '.conversation_history = [{"speaker":"Player","text":"Hello"},{"speaker":"Mira","text":"Evening."},{"speaker":"Brannoc","text":"Fog tonight."}]')"
	assert_success
	assert_equal "$(jq -c '[.messages[] | .role]' <<<"$output")" '["system","user","assistant","user","user"]'
	assert_equal "$(jq -r '.messages[2].content' <<<"$output")" 'Mira: Evening.'
	assert_equal "$(jq -r '.messages[3].content' <<<"$output")" 'Brannoc: Fog tonight.'
	assert_equal "$(jq -r '.messages[4].content' <<<"$output")" $'The player says to Mira: "Any news?"\n\nRespond as Mira.'
	assert_equal "$(jq -r '.messages[0].content' <<<"$output")" "$(jq -r .system_prompt <<<"$output")"
}

@test "other actions are described too" {
	run --separate-stderr wb-prompt -c /dev/null <<<"$(req '.player_action = {"action_type":"examine","target":"the hat"}')"
	assert_equal "$(jq -r '.messages[-1].content' <<<"$output")" $'The player examines the hat.\n\nRespond as Mira.'
	run --separate-stderr wb-prompt -c /dev/null <<<"$(req '.player_action = {"action_type":"bow","target":null,"dialogue":null}')"
	assert_equal "$(jq -r '.messages[-1].content' <<<"$output")" $'The player performs the action: bow\n\nRespond as Mira.'
}

@test "history keeps the newest whole turns at its exact budget" {
	h=$(turns 10)
	r=$(req ".conversation_history = $h")
	# the newest 3 turns, joined by blank lines, counted by word
	three=$(jq -r '.[-3:] | map(.speaker + ": " + .text) | join("\n\n")' <<<"$h" | wb-count -r -q -m word)
	run --separate-stderr wb-prompt -c /dev/null -m word -s conversation_history="$three" <<<"$r"
	assert_equal "$(jq .report.history_turns_kept <<<"$output")" 3
	assert_equal "$(jq .report.history_turns_dropped <<<"$output")" 7
	assert_equal "$(jq .report.sections.conversation_history.final_tokens <<<"$output")" "$three"
	assert_equal "$(jq -r '.messages[1].content' <<<"$output")" "Mira: turn 7 $(printf 'word %.0s' $(seq 19) | sed 's/ $//')"
	run --separate-stderr wb-prompt -c /dev/null -m word -s conversation_history=$((three - 1)) <<<"$r"
	assert_equal "$(jq .report.history_turns_kept <<<"$output")" 2
}

@test "a newest turn larger than the history budget is cut at its start" {
	run --separate-stderr wb-prompt -c /dev/null -m word -s conversation_history=6 <<<"$(req '.conversation_history = [{"speaker":"Mira","text":"one two three four five six seven eight"}]')"
	assert_success
	assert_equal "$(jq -r '.messages[1].content' <<<"$output")" 'Mira: ...six seven eight'
	assert_equal "$(jq .report.sections.conversation_history.final_tokens <<<"$output")" 6
	assert_equal "$(jq -c "$CUT" <<<"$output")" '["conversation_history"]'
}

@test "a section over its own budget is cut, with its heading kept" {
	# the heading is 4 words; with two more and the ellipsis, 8 tokens
	run --separate-stderr wb-prompt -c /dev/null -m word -s player_context=8 <<<"$(req '.player_context = "Tessaly is a half-elf scrivener sent by a guild auditor"')"
	assert_equal "$(jq -r .system_prompt <<<"$output" | grep -A1 'PLAYER CONTEXT')" $'=== PLAYER CONTEXT ===\nTessaly is...'
	assert_equal "$(jq .report.sections.player_context.final_tokens <<<"$output")" 8
}

@test "over the total, sections are shed in order: player, location, events, challenges, history" {
	r=$(jq -c . "$TOP/examples/request.json")
	expect() {
		run --separate-stderr wb-prompt -c /dev/null -P minimal -t "$1" <<<"$r"
		assert_success
		assert_equal "$(jq -c "$DROPPED" <<<"$output")" "$2"
		assert_equal "$(jq -c "$CUT" <<<"$output")" "$3"
		total=$(jq .report.total.final_tokens <<<"$output")
		[ "$total" -le "$1" ]
		# the report's total is the count of what is sent before the action
		sent=$(jq -c '{text: ([.messages[:-1][] | .content] | join("\n\n"))}' <<<"$output" | wb-count | jq .tokens)
		assert_equal "$sent" "$total"
	}
	expect 1700 '[]' '["conversation_history"]'
	expect 1500 '[]' '["conversation_history","player_context"]'
	expect 1450 '["player_context"]' '["conversation_history","location_context"]'
	expect 1300 '["location_context","player_context"]' '["conversation_history","narrative_events"]'
	expect 1200 '["narrative_events","location_context","player_context"]' '["conversation_history","challenges"]'
	expect 1000 '["challenges","narrative_events","location_context","player_context"]' '["conversation_history"]'
	assert_equal "$(jq .report.history_turns_kept <<<"$output")" 25
	expect 670 '["challenges","narrative_events","location_context","player_context"]' '["conversation_history"]'
	assert_equal "$(jq .report.history_turns_kept <<<"$output")" 2
	assert_equal "$(jq .report.history_turns_dropped <<<"$output")" 38
}

@test "each category's reason says what became of it" {
	r=$(jq -c . "$TOP/examples/request.json")
	run --separate-stderr wb-prompt -c /dev/null -P minimal -t 1300 -s directorial_notes=20 <<<"$r"
	assert_success
	assert_equal "$(jq -c '.report.sections | map_values(.reason)' <<<"$output")" '{"character":"fits","scene":"fits","directorial_notes":"own_budget","conversation_history":"own_budget","challenges":"fits","narrative_events":"shed","location_context":"shed","player_context":"shed"}'
	# history shed to fit the total, not to its own budget
	run --separate-stderr wb-prompt -c /dev/null -P minimal -t 670 <<<"$r"
	assert_equal "$(jq -r '.report.sections.conversation_history.reason' <<<"$output")" shed
}

@test "then the director's notes go, then the scene and the character are cut" {
	r=$(jq -c . "$TOP/examples/request.json")
	few="-s conversation_history=0 -s challenges=0 -s narrative_events=0"
	run --separate-stderr wb-prompt -c /dev/null -P minimal -t 500 $few <<<"$r"
	assert_equal "$(jq -c "[$DROPPED[0], $CUT]" <<<"$output")" '["directorial_notes",["scene"]]'
	run --separate-stderr wb-prompt -c /dev/null -P minimal -t 400 $few <<<"$r"
	assert_equal "$(jq -c "[.report.total.final_tokens, $CUT]" <<<"$output")" '[400,["character","scene"]]'
}

@test "when even the character and scene cannot fit: exit 1, the report and no prompt" {
	zero="-s conversation_history=0 -s challenges=0 -s narrative_events=0 -s directorial_notes=0 -s location_context=0 -s player_context=0"
	run -1 --separate-stderr wb-prompt -c /dev/null -P minimal -t 60 $zero -s character=90 -s scene=90 <"$TOP/examples/request.json"
	assert_equal "$(jq -c 'has("system_prompt"), has("messages"), .report.total.over' <<<"$output" | tr '\n' ' ')" 'false false true '
	assert_equal "$stderr" 'wb-prompt: stdin:1: the prompt needs at least 146 tokens, over the budget of 60, with every other section dropped and the character and scene cut to their smallest'
	# --allow-over writes it, and still says so on stderr and in the status.
	run -1 --separate-stderr wb-prompt --allow-over -c /dev/null -P minimal -t 60 $zero -s character=90 -s scene=90 <"$TOP/examples/request.json"
	assert_equal "$(jq -c '.report.total.over, (.system_prompt | length > 0)' <<<"$output" | tr '\n' ' ')" 'true true '
	total=$(jq .report.total.final_tokens <<<"$output")
	assert_equal "$stderr" "wb-prompt: stdin:1: the prompt has $total tokens, over the budget of 60, written because of --allow-over"
}

@test "-t alone fits the default budgets to a small total" {
	for t in 600 1000 1334; do
		run --separate-stderr wb-prompt -c /dev/null -t $t <"$TOP/examples/request.json"
		assert_success
		assert_equal "$(jq '[.report.sections[].budget] | add <= 3 * '$t <<<"$output")" true
		assert_equal "$(jq ".report.total.final_tokens <= $t" <<<"$output")" true
	done
	assert_equal "$(jq -c '[.report.sections | .conversation_history.budget, .scene.budget]' <<<"$output")" '[1000,500]'
	run --separate-stderr wb-prompt -c /dev/null -t 600 <"$TOP/examples/request.json"
	assert_equal "$(jq -c '[.report.sections | .conversation_history.budget, .scene.budget]' <<<"$output")" '[450,225]'
}

@test "a world's templates and budgets apply to its records" {
	cat >c.yaml <<-'EOF2'
	worlds:
	  noir:
	    scene_tokens: 7
	    templates:
	      role: "You play {name}, {archetype}, in a rain-soaked city."
	      current_scene: "SETTING:"
	EOF2
	run --separate-stderr wb-prompt -c c.yaml -F text <<<"$(req '.world_id = "noir"')"
	assert_line -n 0 'You play Mira, innkeeper, in a rain-soaked city.'
	assert_line 'SETTING: Dusk'
	run --separate-stderr wb-prompt -c c.yaml <<<"$(req '.world_id = "noir"')"
	assert_equal "$(jq .report.sections.scene.budget <<<"$output")" 7
	run --separate-stderr wb-prompt -c c.yaml -F text <<<"$(req '.world_id = "other"')"
	assert_line -n 0 'You are roleplaying as Mira, a innkeeper.'
}

@test "a record's context_budget overrides the file" {
	echo 'scene_tokens: 100' >c.yaml
	run --separate-stderr wb-prompt -c c.yaml <<<"$(req '.context_budget = {"scene_tokens": 9, "enable_summarization": false}')"
	assert_equal "$(jq .report.sections.scene.budget <<<"$output")" 9
	run -65 --separate-stderr wb-prompt -c c.yaml <<<"$(req '.context_budget = {"scene_tokens": "9"}')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: context_budget: scene_tokens: expected a whole number'
	run -65 --separate-stderr wb-prompt -c c.yaml <<<"$(req '.context_budget = {"summarize_command": "rm -rf /"}')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: context_budget: unknown key "summarize_command"'
	run -65 --separate-stderr wb-prompt -c c.yaml <<<"$(req '.context_budget = {"total_budget_tokens": 10}')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: context_budget: sum of category budgets set (100: scene_tokens 100 at c.yaml:1) is more than 3x total_budget_tokens 10 in the record'
}

# The published request shapes: Chat Completions takes model and messages;
# Ollama's /api/chat takes model, messages and stream.
chat_shape='(.model | type == "string" and length > 0) and
    (.messages | type == "array" and length > 0 and all(.[]; (keys == ["content","role"]) and
    (.role | IN("system","user","assistant")) and (.content | type == "string")))'

@test "-F openai gives the golden chat-completions body, with its model" {
	run --separate-stderr wb-prompt -c /dev/null -F openai --model-name gpt-4o <"$TOP/examples/request.json"
	assert_success
	assert_equal "$output" "$(cat "$TOP/tests/golden/request.openai.out")"
	assert_equal "$(jq -c "keys_unsorted, .model, ($chat_shape)" <<<"$output" | tr '\n' ' ')" '["model","messages"] "gpt-4o" true '
	assert_equal "$(jq -c .messages <<<"$output")" "$(jq -c .messages "$TOP/tests/golden/request.json.out")"
}

@test "-F ollama gives the golden /api/chat body, with its model and no stream" {
	run --separate-stderr wb-prompt -c /dev/null -F ollama --model-name llama3 <"$TOP/examples/request.json"
	assert_success
	assert_equal "$output" "$(cat "$TOP/tests/golden/request.ollama.out")"
	assert_equal "$(jq -c "keys_unsorted, .model, .stream, ($chat_shape)" <<<"$output" | tr '\n' ' ')" '["model","messages","stream"] "llama3" false true '
}

@test "the body's model is -M's when --model-name is not given, and --model-name wins" {
	run --separate-stderr wb-prompt -c /dev/null -F openai -M gpt-4o <<<"$(req)"
	assert_success
	assert_equal "$(jq -r .model <<<"$output")" gpt-4o
	run --separate-stderr wb-prompt -c /dev/null -F ollama -M gpt-4o --model-name llama3 <<<"$(req)"
	assert_equal "$(jq -r .model <<<"$output")" llama3
}

@test "a chat body without a model is a usage error" {
	for f in openai ollama; do
		run -64 --separate-stderr wb-prompt -c /dev/null -F $f <<<"$(req)"
		assert_output ''
		assert_equal "$(head -n 1 <<<"$stderr")" "wb-prompt: -F $f: the body needs a model: --model-name NAME or -M MODEL"
	done
}

@test "--model-name with a format that ignores it is a usage error" {
	for f in json text; do
		run -64 --separate-stderr wb-prompt -c /dev/null -F $f --model-name llama3 <<<"$(req)"
		assert_output ''
		assert_equal "$(head -n 1 <<<"$stderr")" 'wb-prompt: --model-name: only with -F openai or -F ollama'
	done
}

@test "-F text prints the system prompt alone" {
	run --separate-stderr wb-prompt -c /dev/null -F text <<<"$(req)"
	# bats leaves blank lines out of lines[]
	assert_line -n 0 'You are roleplaying as Mira, a innkeeper.'
	assert_line -n 1 'CURRENT SCENE: Dusk'
}

@test "-F text separates prompts by a form feed line, or ends each with a NUL with -z" {
	two=$(req)$'\n'$(req '.responding_character.name = "Brannoc"')
	wb-prompt -c /dev/null -F text <<<"$two" >out.txt
	assert_equal "$(grep -c $'^\f$' out.txt)" 1
	# the form feed line comes between the two prompts, each whole
	assert_equal "$(awk 'BEGIN { RS = "\f\n" } { n++ } END { print n }' out.txt)" 2
	assert_equal "$(awk 'BEGIN { RS = "\f\n" } NR == 2 { print $0; exit }' out.txt | head -n 1)" 'You are roleplaying as Brannoc, a innkeeper.'
	assert_equal "$(head -n 1 out.txt)" 'You are roleplaying as Mira, a innkeeper.'
	wb-prompt -c /dev/null -F text -z <<<"$two" >out0.txt
	assert_equal "$(tr -cd '\0' <out0.txt | wc -c)" 2
	assert_equal "$(grep -c $'\f' out0.txt)" 0
	assert_equal "$(xargs -0 -n 1 sh -c 'printf "%s\n" "$1" | head -n 1' _ <out0.txt)" $'You are roleplaying as Mira, a innkeeper.\nYou are roleplaying as Brannoc, a innkeeper.'
	# one prompt alone has no separator
	run --separate-stderr wb-prompt -c /dev/null -F text <<<"$(req)"
	refute_output --partial $'\f'
}

@test "-z with a format other than text is a usage error" {
	run -64 --separate-stderr wb-prompt -c /dev/null -z <<<"$(req)"
	assert_output ''
	assert_equal "$(head -n 1 <<<"$stderr")" 'wb-prompt: -z: only with -F text'
}

@test "a bad request names the JSON path of the problem" {
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req 'del(.scene_context.scene_name)')"$'\n'"$(req '.responding_character.motivations = {"secret": [{"description": "x", "priority": 1, "intensity": "y", "tells": [3]}]}')"$'\n'"$(req '.active_narrative_events = [{"id":"e","name":"n","description":"d","scene_direction":"s","trigger_hints":[],"featured_npc_names":[],"priority":"high"}]')"$'\n'"$(req '.conversation_history = [{"speaker": "Mira"}]')"$'\n'"$(req)"
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"scene_context.scene_name: missing"}}'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"responding_character.motivations.secret[0].deflection_behavior: missing"}}'
	assert_line -n 2 '{"error":{"record":3,"line":3,"message":"active_narrative_events[0].priority: expected an integer, got a string"}}'
	assert_line -n 3 '{"error":{"record":4,"line":4,"message":"conversation_history[0].text: missing"}}'
	assert_line -n 4 --partial '"system_prompt":"You are roleplaying as Mira'
}

@test "null for a list of the request is an empty list" {
	run --separate-stderr wb-prompt -c /dev/null <<<"$(req)"
	want=$output
	run --separate-stderr wb-prompt -c /dev/null <<<"$(req '.active_challenges = null | .active_narrative_events = null | .conversation_history = null | .scene_context.present_characters = null | .scene_context.region_items = null | .responding_character.available_expressions = null')"
	assert_success
	assert_equal "$(jq -c 'del(.active_challenges, .active_narrative_events, .conversation_history, .scene_context) | .report' <<<"$output")" "$(jq -c .report <<<"$want")"
	assert_equal "$(jq -c .messages <<<"$output")" "$(jq -c .messages <<<"$want")"
	# within a list's members too
	run --separate-stderr wb-prompt -c /dev/null -F text <<<"$(req '.active_challenges = [{"id":"c","name":"Read Mira","description":"d","skill_name":"Insight","difficulty_display":"DC 14","trigger_hints":null}]')"
	assert_success
	assert_line '   Triggers: '
}

@test "null for an object the request needs is still a bad record" {
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req '.scene_context = null')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: scene_context: expected an object, got null'
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req 'del(.active_challenges)')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: active_challenges: missing'
}

@test "a wrong type is a bad record too" {
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req '.responding_character.available_expressions = ["a", 1]')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: responding_character.available_expressions[1]: expected a string, got an integer'
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req '.directorial_notes = null')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: directorial_notes: expected a string, got null'
}

@test "summarization as in wb-budget, with truncation as fallback" {
	printf 'summarize_command: "echo Tessaly, a scrivener."\n' >c.yaml
	r=$(req '.player_context = "Tessaly is a half-elf scrivener sent by a guild auditor to recover a ledger"')
	# the heading stays: 7 words with the summary, 10 tokens
	run --separate-stderr wb-prompt -c c.yaml -m word -s player_context=12 <<<"$r"
	assert_equal "$(jq -r .system_prompt <<<"$output" | grep -A1 'PLAYER CONTEXT')" $'=== PLAYER CONTEXT ===\nTessaly, a scrivener.'
	assert_equal "$(jq -c .report.sections.player_context <<<"$output")" '{"original_tokens":24,"budget":12,"final_tokens":10,"reason":"summarized"}'
	assert_equal "$stderr" ''
	run --separate-stderr wb-prompt -c c.yaml -m word -s player_context=9 <<<"$r"
	assert_equal "$(jq -c .report.sections.player_context <<<"$output")" '{"original_tokens":24,"budget":9,"final_tokens":8,"reason":"summary_failed","summary_error":"summary has 10 tokens, over the budget of 9"}'
	assert_equal "$stderr" 'wb-prompt: stdin:1: player_context: no summary (summary has 10 tokens, over the budget of 9); cut to its budget instead'
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr wb-prompt --help
	assert_success
	assert_line -n 0 'usage: wb-prompt [-c FILE] [-w WORLD] [-F json|text|openai|ollama]'
}

@test "a write error on stdout names its reason, in every format" {
	for f in json text 'text -z' 'openai --model-name m'; do
		run -74 --separate-stderr bash -c "wb-prompt -c /dev/null -F $f >/dev/full" <<<"$(req)"
		assert_equal "$stderr" 'wb-prompt: stdout: No space left on device'
	done
}

@test "a section cut down to its heading is dropped instead" {
	run --separate-stderr wb-prompt -c /dev/null -m word -s player_context=6 <<<"$(req '.player_context = "Tessaly is a half-elf scrivener sent by a guild auditor"')"
	assert_success
	refute_output --partial 'PLAYER CONTEXT'
	assert_equal "$(jq -c "$DROPPED, .report.sections.player_context.final_tokens" <<<"$output" | tr '\n' ' ')" '["player_context"] 0 '
}

@test "a short summary under a heading is kept, not taken for an empty cut" {
	printf 'summarize_command: "echo ok"\n' >c.yaml
	run --separate-stderr wb-prompt -c c.yaml -m word -s directorial_notes=9 <<<"$(req '.directorial_notes = "Keep the tension low and the fear under the surface, always."')"
	assert_success
	assert_equal "$(jq -r .system_prompt <<<"$output" | grep -A1 GUIDANCE)" $'=== DIRECTOR\'S SCENE GUIDANCE ===\nok'
	assert_equal "$(jq -c "$DROPPED" <<<"$output")" '[]'
}

@test "challenges cut down to their heading and intro are dropped" {
	run --separate-stderr wb-prompt -c /dev/null -m word -s challenges=10 <"$TOP/examples/request.json"
	assert_success
	refute_output --partial 'Active Challenges'
	assert_equal "$(jq -c "$DROPPED" <<<"$output")" '["challenges"]'
}

@test "a newest turn that would keep only its speaker is dropped" {
	run --separate-stderr wb-prompt -c /dev/null -m word -s conversation_history=2 <<<"$(req '.conversation_history = [{"speaker":"Brannoc","text":"Fog my foot, something turned them back."}]')"
	assert_success
	assert_equal "$(jq -c '[.messages[].role]' <<<"$output")" '["system","user"]'
	assert_equal "$(jq -c "[.report.history_turns_kept, $DROPPED]" <<<"$output")" '[0,["conversation_history"]]'
}

@test "a chat body that cannot fit sends nothing: the report is on stderr and in --report" {
	zero="-s conversation_history=0 -s challenges=0 -s narrative_events=0 -s directorial_notes=0 -s location_context=0 -s player_context=0"
	for f in openai ollama; do
		# what a pipe to curl would post
		run -0 --separate-stderr bash -c "wb-prompt -F $f --model-name m --report r.json -c /dev/null -P minimal -t 60 $zero -s character=90 -s scene=90 <'$TOP/examples/request.json' | wc -c"
		assert_output 0
		assert_equal "${#stderr_lines[@]}" 2
		assert_equal "${stderr_lines[0]}" 'wb-prompt: stdin:1: the prompt needs at least 146 tokens, over the budget of 60, with every other section dropped and the character and scene cut to their smallest'
		assert_equal "$(jq -c '[.file, .line, .report.total.final_tokens, .report.total.over]' <<<"${stderr_lines[1]}")" '["stdin",1,146,true]'
		assert_equal "$(cat r.json)" "${stderr_lines[1]}"
		run -1 --separate-stderr wb-prompt -F $f --model-name m -c /dev/null -P minimal -t 60 $zero -s character=90 -s scene=90 <"$TOP/examples/request.json"
		assert_output ''
	done
}

@test "--report writes each request's report for every format, one line each" {
	printf '%s\n%s\n' "$(req)" "$(jq -c . "$TOP/examples/request.json")" >two.json
	for f in json text openai ollama; do
		m=; [ $f = openai ] || [ $f = ollama ] && m="--model-name m"
		run --separate-stderr wb-prompt -c /dev/null -F $f $m --report r.json two.json
		assert_success
		assert_equal "$(jq -c '[.file, .line, .report.total.over]' r.json | tr '\n' ' ')" '["two.json",1,false] ["two.json",2,false] '
	done
	run --separate-stderr wb-prompt -c /dev/null two.json
	assert_equal "$(jq -c .report <<<"$output")" "$(jq -c .report r.json)"
}

@test "a --report file that cannot be written is an I/O error" {
	# A directory of this test that is not there: /nonexistent, nobody's
	# home on Debian, can be made by whatever runs as nobody.
	run -74 --separate-stderr wb-prompt -c /dev/null --report "$BATS_TEST_TMPDIR/missing/r.json" <<<"$(req)"
	assert_output ''
	assert_equal "$stderr" "wb-prompt: --report: $BATS_TEST_TMPDIR/missing/r.json: No such file or directory"
}

@test "-w names a world of the configuration" {
	run -78 --separate-stderr wb-prompt -c "$TOP/examples/wb.yaml" -w saltmarh </dev/null
	assert_equal "$stderr" "wb-prompt: -w: 'saltmarh': no such world in the configuration"
}

# A summarizer that keeps what it was given and says one short sentence.
fake_summarizer() {
	cat >sum.sh <<-'EOF2'
	#!/bin/sh
	cat >in.txt
	echo "$WB_CATEGORY $WB_TARGET_TOKENS" >env.txt
	echo "Player asked about the docks; Mira answered."
	EOF2
	chmod +x sum.sh
}

HIST='.report.sections.conversation_history'

@test "summarize_history: the dropped oldest turns become one summary turn" {
	fake_summarizer
	printf 'summarize_command: ./sum.sh\nsummarize_history: true\n' >c.yaml
	r=$(req ".conversation_history = $(turns 10)")
	run --separate-stderr wb-prompt -c c.yaml -m word -s conversation_history=100 <<<"$r"
	assert_success
	assert_equal "$stderr" ''
	# 3 newest turns fit in 100 tokens, leaving less than a quarter of
	# the budget: the oldest of them joins the 7 dropped in the summary
	assert_equal "$(jq -c "$HIST, .report.history_turns_kept, .report.history_turns_dropped, .report.history_turns_summarized" <<<"$output" | tr '\n' ' ')" \
	    '{"original_tokens":302,"budget":100,"final_tokens":76,"reason":"summarized"} 2 8 8 '
	assert_equal "$(jq -c '.messages[1], [.messages[2:][].content[0:11]]' <<<"$output" | tr '\n' ' ')" \
	    '{"role":"user","content":"Earlier in the conversation: Player asked about the docks; Mira answered."} ["Player: tur","Mira: turn ","The player "] '
	# the summarizer had the 8 dropped turns, and the room left, less the heading
	assert_equal "$(cat env.txt)" 'conversation_history 34'
	assert_equal "$(grep -c ': turn ' in.txt)" 8
	assert_equal "$(grep ': turn ' in.txt | tail -n 1 | cut -c1-12)" 'Mira: turn 7'
	# the same with the flag; without either, the turns are only dropped
	printf 'summarize_command: ./sum.sh\n' >c.yaml
	run --separate-stderr wb-prompt -c c.yaml --summarize-history -m word -s conversation_history=100 <<<"$r"
	assert_equal "$(jq -r "$HIST.reason" <<<"$output")" summarized
	rm env.txt
	run --separate-stderr wb-prompt -c c.yaml -m word -s conversation_history=100 <<<"$r"
	assert_equal "$(jq -c "$HIST, .report.history_turns_dropped, .report.history_turns_summarized, (.messages | length)" <<<"$output" | tr '\n' ' ')" \
	    '{"original_tokens":302,"budget":100,"final_tokens":90,"reason":"own_budget"} 7 null 5 '
	assert [ ! -e env.txt ]
}

@test "summarize_history: a summary of turns shed for the total stays within it" {
	fake_summarizer
	printf 'summarize_command: ./sum.sh\nsummarize_history: true\n' >c.yaml
	r=$(req ".conversation_history = $(turns 10)")
	run --separate-stderr wb-prompt -c c.yaml -m word -t 150 <<<"$r"
	assert_success
	assert_equal "$(jq -c "$HIST.reason, .report.total, .report.history_turns_summarized" <<<"$output" | tr '\n' ' ')" \
	    '"summarized" {"budget":150,"final_tokens":134,"over":false} 9 '
	# the prompt as sent: counted again from its text, it is what the report says
	assert_equal "$(jq -r '[.system_prompt] + [.messages[1:-1][].content] | join("\n\n")' <<<"$output" | wb-count -r -q -m word)" 134
	# exact counts: the summary turn billed as a message, within the total
	run --separate-stderr wb-prompt -c c.yaml -M gpt-4o -t 150 <<<"$r"
	assert_success
	assert_equal "$(jq -r "$HIST.reason" <<<"$output")" summarized
	assert [ "$(jq .report.total.final_tokens <<<"$output")" -le 150 ]
}

@test "summarize_history: a failing summarizer drops the turns and says so once" {
	r=$(req ".conversation_history = $(turns 10)")
	for c in '"echo model down >&2; exit 3"' '"sleep 10"' '"yes word | head -n 200"'; do
		printf 'summarize_command: %s\nsummarize_history: true\nsummarize_timeout: 0.3\n' "$c" >c.yaml
		run --separate-stderr wb-prompt -c c.yaml -m word -s conversation_history=100 <<<"$r"
		assert_success
		# as without a summary: the 3 newest turns, 7 dropped
		assert_equal "$(jq -c "[$HIST.final_tokens, $HIST.reason], .report.history_turns_dropped, .report.history_turns_summarized, (.messages | length)" <<<"$output" | tr '\n' ' ')" \
		    '[90,"summary_failed"] 7 null 5 '
		why=$(jq -r "$HIST.summary_error" <<<"$output")
		assert_equal "$stderr" "wb-prompt: stdin:1: conversation_history: no summary ($why); the oldest turns dropped instead"
		case $c in
		*exit*) assert_equal "$why" 'summarize_command exited with status 3: model down' ;;
		*sleep*) assert_equal "$why" 'summarize_command timed out after 0.3 s' ;;
		*) assert_equal "$why" 'summary turn has 371 tokens, over the room of 40' ;;
		esac
	done
}

@test "summarize_history: true or false, and only from a file or the flag" {
	printf 'summarize_history: maybe\n' >c.yaml
	run -78 --separate-stderr wb-prompt -c c.yaml <<<"$(req)"
	assert_equal "$stderr" "wb-prompt: c.yaml:1:20: summarize_history: expected true or false, not 'maybe'"
	run -65 --separate-stderr wb-prompt -c /dev/null <<<"$(req '.context_budget = {"summarize_history": true}')"
	assert_equal "$stderr" 'wb-prompt: stdin:1: context_budget: unknown key "summarize_history"'
}

@test "summarize_history: no summary without dropped turns, or without room for one" {
	printf 'summarize_command: "touch ran; echo short"\nsummarize_history: true\n' >c.yaml
	# everything fits: the command is not run
	run --separate-stderr wb-prompt -c c.yaml -m word <<<"$(req ".conversation_history = $(turns 4)")"
	assert_success
	assert_equal "$(jq -c "$HIST.reason, .report.history_turns_dropped" <<<"$output" | tr '\n' ' ')" '"fits" 0 '
	assert [ ! -e ran ]
	# the newest turn (30 tokens) fills the budget of 30: no room for the heading
	run --separate-stderr wb-prompt -c c.yaml -m word -s conversation_history=30 <<<"$(req ".conversation_history = $(turns 4)")"
	assert_success
	assert_equal "$(jq -c "[$HIST.final_tokens, $HIST.reason, $HIST.summary_error], .report.history_turns_dropped, (.messages | length)" <<<"$output" | tr '\n' ' ')" \
	    '[30,"summary_failed","no room for a summary within the budgets"] 3 3 '
	assert_equal "$stderr" 'wb-prompt: stdin:1: conversation_history: no summary (no room for a summary within the budgets); the oldest turns dropped instead'
	assert [ ! -e ran ]
}
