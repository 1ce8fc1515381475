#!/usr/bin/env bats
# Bad input across the commands, table-driven. For each case the bad record
# comes first and a good one after it: the exit status, the one line on
# stderr and the error record in the bad one's place are exact, nothing
# else is written for it, and the good record is still processed.

load helper

REQ='{"player_action":{"action_type":"speak","target":"Mira","dialogue":"Any news?"},"scene_context":{"scene_name":"Dusk","location_name":"The Docks","time_context":"Evening","present_characters":[],"region_items":[]},"directorial_notes":"","conversation_history":[],"responding_character":{"name":"Mira","archetype":"innkeeper"},"active_challenges":[],"active_narrative_events":[]}'

# The good record each command gets after the bad one, and a field its
# output must have.
good() {
	case $1 in
	wb-count) echo '{"text":"ok"} tokens' ;;
	wb-truncate) echo '{"text":"ok","budget":5} final_tokens' ;;
	wb-budget) echo '{"sections":{"scene":"ok"}} budget' ;;
	wb-prompt) echo "$REQ system_prompt" ;;
	esac
}

# Run one case: command (with options), bad input (a jq filter on the
# request when it starts with "jq:"), message.
check_case() {
	local cmd=$1 bad=$2 msg=$3 name=${1%% *} g
	g=$(good "$name")
	[[ $bad == jq:* ]] && bad=$(jq -c "${bad#jq:}" <<<"$REQ")
	run -65 --separate-stderr bash -c "printf '%s\n%s\n' \"\$1\" \"\$2\" | $cmd" _ "$bad" "${g% *}"
	if [ "$status" -ne 65 ] || [ "$stderr" != "$name: stdin:1: $msg" ] ||
	    [ "${#lines[@]}" -ne 2 ] ||
	    [ "${lines[0]}" != "$(jq -cn --arg m "$msg" '{error: {record: 1, line: 1, message: $m}}')" ] ||
	    [ "$(jq -c "has(\"${g##* }\")" <<<"${lines[1]}")" != true ]; then
		printf 'case: %s <<< %s\nstatus %s\nstderr: %s\nstdout:\n%s\n' \
		    "$cmd" "$bad" "$status" "$stderr" "$output" >&2
		return 1
	fi
}

run_table() {
	local n=0 cmd bad msg
	while IFS='|' read -r cmd bad msg; do
		[ -z "$cmd" ] && continue
		check_case "$cmd" "$bad" "$msg" || return 1
		n=$((n + 1))
	done
	echo "# $n cases" >&3
}

@test "bad JSON records: exact status, message and error record" {
	run_table <<-'EOF2'
	wb-count|nope|invalid JSON: invalid token near 'nope'
	wb-count|[1,2]|record is an array, not an object
	wb-count|42|record is an integer, not an object
	wb-count|"s"|record is a string, not an object
	wb-count|null|record is null, not an object
	wb-count|{"text":"abc|invalid JSON: premature end of input near '"abc'
	wb-count|{"text":"a"]|invalid JSON: '}' expected near ']'
	wb-count|{"text":"\ud800"}|invalid JSON: invalid Unicode '\uD800' near '"\ud800"'
	wb-count|{"text":"a","n":99999999999999999999}|invalid JSON: too big integer near '99999999999999999999'
	wb-truncate -b 3|{"text":"a"]|invalid JSON: '}' expected near ']'
	wb-budget|{"sections":{"scene":"a"}|invalid JSON: '}' expected near end of file
	EOF2
}

@test "bad fields of wb-count and wb-truncate" {
	run_table <<-'EOF2'
	wb-count|{}|missing field "text"
	wb-count|{"text":1}|field "text" is an integer, not a string
	wb-count|{"text":null}|field "text" is null, not a string
	wb-count|{"text":["a"]}|field "text" is an array, not a string
	wb-truncate -b 3|{"text":true}|field "text" is a boolean, not a string
	wb-truncate|{"text":"a"}|no budget: give -b or a "budget" field
	wb-truncate -b 3|{"text":"a","budget":-1}|field "budget" is out of range 0 to 9007199254740992
	wb-truncate -b 3|{"text":"a","budget":1.5}|field "budget" is a number, not a whole number
	wb-truncate -b 3|{"text":"a","budget":"3"}|field "budget" is a string, not a whole number
	wb-truncate -b 3|{"text":"a","budget":9007199254740993}|field "budget" is out of range 0 to 9007199254740992
	wb-truncate -b 3|{"budget":3}|missing field "text"
	EOF2
}

@test "bad fields of wb-budget" {
	run_table <<-'EOF2'
	wb-budget|{"sections":{"plot":"a"}}|sections: unknown category "plot"
	wb-budget|{"sections":{"scene":5}}|sections.scene: not a string
	wb-budget|{"text":"a"}|missing field "sections"
	wb-budget|{"sections":"a"}|field "sections" is not an object
	wb-budget|{"world_id":7,"sections":{}}|field "world_id" is not a string
	EOF2
}

@test "bad requests of wb-prompt name their JSON path" {
	run_table <<-'EOF2'
	wb-prompt|jq:del(.player_action)|player_action: missing
	wb-prompt|jq:.player_action.action_type = 3|player_action.action_type: expected a string, got an integer
	wb-prompt|jq:.scene_context = []|scene_context: expected an object, got an array
	wb-prompt|jq:.scene_context.present_characters = ["a", 2]|scene_context.present_characters[1]: expected a string, got an integer
	wb-prompt|jq:.scene_context.region_items = [{"description":"d"}]|scene_context.region_items[0].name: missing
	wb-prompt|jq:.conversation_history = [{"speaker":"Mira"}]|conversation_history[0].text: missing
	wb-prompt|jq:.responding_character.motivations = {"known":[{"description":"d","priority":-1,"intensity":"i"}]}|responding_character.motivations.known[0].priority: must not be negative
	wb-prompt|jq:.responding_character.social_stance = {"allies":[{"name":"x","character_type":"Npc"}]}|responding_character.social_stance.allies[0].reasons: missing
	wb-prompt|jq:.active_challenges = [{"id":"c"}]|active_challenges[0].name: missing
	wb-prompt|jq:.context_budget = 5|context_budget: expected an object
	wb-prompt|jq:.context_budget = {"plot_tokens": 5}|context_budget: unknown key "plot_tokens"
	EOF2
}

@test "invalid UTF-8 in a JSON record is a bad record" {
	run -65 --separate-stderr bash -c "printf '{\"text\":\"\\xff\"}\n{\"text\":\"ok\"}\n' | wb-count"
	assert_equal "$stderr" "wb-count: stdin:1: invalid JSON: unable to decode byte 0xff near '\"'"
	assert_line -n 1 '{"text":"ok","tokens":1}'
}

@test "a record cut short by the end of the input is said at its last line, not after it" {
	run -65 --separate-stderr bash -c "printf '{\"text\":\"a\"}\n{\"text\":\n' | wb-count"
	assert_equal "$stderr" 'wb-count: stdin:2: invalid JSON: unexpected token near end of file'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"invalid JSON: unexpected token near end of file"}}'
	# Blank lines after it too; an error inside a record keeps its own line.
	printf '{"text":"a"}\n{"sections":\n {"scene":"b"}\n\n\n' >"$BATS_TEST_TMPDIR/cut.jsonl"
	run -65 --separate-stderr wb-budget "$BATS_TEST_TMPDIR/cut.jsonl"
	assert_equal "${stderr_lines[1]}" "wb-budget: $BATS_TEST_TMPDIR/cut.jsonl:3: invalid JSON: '}' expected near end of file"
	run -65 --separate-stderr wb-count <<<$'{"a":\n1,\n"text":x}'
	assert_equal "$stderr" "wb-count: stdin:3: invalid JSON: invalid token near 'x'"
}
