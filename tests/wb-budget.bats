#!/usr/bin/env bats
# wb-budget: configuration, enforcement, the rendered total, --check and
# summarization.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export HOME=$BATS_TEST_TMPDIR XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	unset WB_CONFIG
}

words() { local i; for ((i = 0; i < $1; i++)); do printf 'w%d ' "$i"; done; }

@test "every default value is the engine's" {
	run --separate-stderr wb-budget --print-config
	assert_success
	assert_output '{"total_budget_tokens":4000,"scene_tokens":500,"character_tokens":800,"conversation_history_tokens":1000,"challenges_tokens":400,"narrative_events_tokens":400,"directorial_notes_tokens":300,"location_context_tokens":300,"player_context_tokens":300,"enable_summarization":true,"summarization_model":null,"summarize_command":null,"summarize_timeout":30.0,"summarize_history":false,"counter":{"method":"hybrid","chars_per_token":4.0,"tokens_per_word":1.33,"hybrid_threshold":100,"encoding":null}}'
}

@test "--print-config writes a configuration file that reads back the same" {
	for flags in "" "-P minimal -m word -s scene=7 -t 900" "-e cl100k_base"; do
		# shellcheck disable=SC2086 # the flags are words
		wb-budget -c /dev/null $flags --print-config >c.yaml
		run --separate-stderr wb-budget -c c.yaml --print-config
		assert_success
		assert_output "$(cat c.yaml)"
	done
	# null takes an encoding away again, as in a world of its own.
	printf 'counter:\n  model: gpt-4o\nworlds:\n  w:\n    counter:\n      encoding: ~\n' >m.yaml
	run --separate-stderr wb-budget -c m.yaml --print-config
	assert_output --partial '"encoding":"o200k_base"}'
	run --separate-stderr wb-budget -c m.yaml -w w --print-config
	assert_output --partial '"encoding":null}'
}

@test "the large_context preset has the engine's values" {
	run --separate-stderr wb-budget -P large_context --print-config
	assert_output --partial '{"total_budget_tokens":12000,"scene_tokens":1500,"character_tokens":2500,"conversation_history_tokens":3000,"challenges_tokens":1200,"narrative_events_tokens":1200,"directorial_notes_tokens":800,"location_context_tokens":900,"player_context_tokens":900,'
}

@test "the minimal preset has the engine's values" {
	run --separate-stderr wb-budget -P minimal --print-config
	assert_output --partial '{"total_budget_tokens":2000,"scene_tokens":250,"character_tokens":400,"conversation_history_tokens":500,"challenges_tokens":200,"narrative_events_tokens":200,"directorial_notes_tokens":150,"location_context_tokens":150,"player_context_tokens":150,'
}

@test "file, then world, then flags: each overrides the one before" {
	cat >c.yaml <<-'EOF2'
	preset: large_context
	scene_tokens: 1000
	counter:
	  method: word
	  preset: llama
	worlds:
	  w1:
	    scene_tokens: 700
	    character_tokens: 600
	EOF2
	run --separate-stderr wb-budget -c c.yaml --print-config
	assert_output --partial '"total_budget_tokens":12000,"scene_tokens":1000,"character_tokens":2500,'
	assert_output --partial '"counter":{"method":"word","chars_per_token":3.8,"tokens_per_word":1.25,'
	run --separate-stderr wb-budget -c c.yaml -w w1 --print-config
	assert_output --partial '"scene_tokens":700,"character_tokens":600,'
	run --separate-stderr wb-budget -c c.yaml -w w1 -s scene=50 -m char --print-config
	assert_output --partial '"scene_tokens":50,"character_tokens":600,'
	assert_output --partial '"counter":{"method":"char",'
}

@test "a record's world_id picks its world's budgets" {
	printf 'worlds:\n  small:\n    scene_tokens: 2\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml <<<$'{"world_id":"small","sections":{"scene":"one two three four five six"}}\n{"world_id":"other","sections":{"scene":"one two three four five six"}}'
	assert_success
	assert_equal "$(jq -c .budget.sections.scene.budget <<<"${lines[0]}")" 2
	assert_equal "$(jq -c .budget.sections.scene.budget <<<"${lines[1]}")" 500
}

@test "the file is found through WB_CONFIG, ./wb.yaml and XDG_CONFIG_HOME" {
	mkdir -p xdg/wb
	echo 'scene_tokens: 11' >xdg/wb/config.yaml
	run --separate-stderr wb-budget --print-config
	assert_output --partial '"scene_tokens":11,'
	echo 'scene_tokens: 12' >wb.yaml
	run --separate-stderr wb-budget --print-config
	assert_output --partial '"scene_tokens":12,'
	echo 'scene_tokens: 13' >env.yaml
	WB_CONFIG=env.yaml run --separate-stderr wb-budget --print-config
	assert_output --partial '"scene_tokens":13,'
	echo 'scene_tokens: 14' >flag.yaml
	WB_CONFIG=env.yaml run --separate-stderr wb-budget -c flag.yaml --print-config
	assert_output --partial '"scene_tokens":14,'
}

@test "a missing -c file exits 66" {
	run -66 --separate-stderr wb-budget -c nope.yaml --print-config
	assert_equal "$stderr" 'wb-budget: nope.yaml: No such file or directory'
}

@test "each validation error names FILE:LINE:COL and exits 78" {
	check() { printf "$1" >bad.yaml; run -78 --separate-stderr wb-budget -c bad.yaml --print-config; assert_equal "$stderr" "wb-budget: bad.yaml:$2"; assert_output ''; }
	check 'total_budget_tokens: 0\n' '1:1: total_budget_tokens must be greater than 0'
	check 'total_budget_tokens: 100\nscene_tokens: 200\nconversation_history_tokens: 150\n' '1:1: sum of category budgets set (350: scene_tokens 200 at bad.yaml:2, conversation_history_tokens 150 at bad.yaml:3) is more than 3x total_budget_tokens 100 at bad.yaml:1'
	check 'scene_tokens: 5\nfoo: 1\n' '2:1: unknown key "foo"'
	check 'scene_tokens: five\n' "1:15: scene_tokens: expected a whole number, not 'five'"
	check 'scene_tokens: "5"\n' '1:15: scene_tokens: expected a whole number'
	check 'scene_tokens: !!str 5\n' '1:15: scene_tokens: expected a whole number'
	check 'scene_tokens: -1\n' '1:15: scene_tokens: must not be negative: -1'
	check 'scene_tokens: 1000000000000000000000000000000\n' '1:15: scene_tokens: too large: 1000000000000000000000000000000 (at most 9007199254740992)'
	check 'scene_tokens: 1\nscene_tokens: 2\n' '2:1: duplicate key "scene_tokens"'
	check 'enable_summarization: maybe\n' "1:23: enable_summarization: expected true or false, not 'maybe'"
	check 'preset: huge\n' "1:9: preset: 'huge': not default, large_context or minimal"
	check 'counter:\n  method: bytes\n' "2:11: counter.method: 'bytes': not char, word or hybrid"
	check 'scene_tokens: 40\nworlds:\n  a:\n    total_budget_tokens: 10\n' '3:3: world a: sum of category budgets set (40: scene_tokens 40 at bad.yaml:1) is more than 3x total_budget_tokens 10 at bad.yaml:4'
	check 'scene_tokens: [1\n' "1:15: scene_tokens: expected a scalar, got a list"
	check 'counter: {encoding: nope}\n' "1:21: counter.encoding: 'nope': unknown encoding (wb-count --list-encodings lists them)"
}

@test "malformed YAML is a configuration error with its position" {
	printf 'scene_tokens: "abc\n' >bad.yaml
	run -78 --separate-stderr wb-budget -c bad.yaml --print-config
	assert_output ''
	assert_equal "$stderr" 'wb-budget: bad.yaml:2:1: found unexpected end of stream'
}

@test "a YAML file that is a list is refused" {
	printf -- '- scene_tokens: 5\n' >bad.yaml
	run -78 --separate-stderr wb-budget -c bad.yaml --print-config
	assert_equal "$stderr" 'wb-budget: bad.yaml:1:1: the configuration must be a mapping, not a list'
}

@test "an alias bomb is refused at once, not expanded" {
	{
		echo 'scene_tokens: &a 1'
		echo 'worlds:'
		echo '  w0: &w0 {scene_tokens: *a}'
		for i in $(seq 1 30); do echo "  w$i: &w$i [*w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1)), *w$((i - 1))]"; done
	} >bomb.yaml
	run -78 --separate-stderr timeout 5 wb-budget -c bomb.yaml --print-config
	assert_equal "$stderr" 'wb-budget: bomb.yaml:3:26: aliases are not supported'
}

@test "flags that break validation are a configuration error" {
	run -78 --separate-stderr wb-budget -t 100 -s scene=400 --print-config
	assert_equal "$stderr" 'wb-budget: with these flags: sum of category budgets set (400: scene_tokens 400 on the command line) is more than 3x total_budget_tokens 100 on the command line'
}

@test "-t alone scales the default budgets down in proportion, as far as the 3x rule needs" {
	b() { run --separate-stderr wb-budget -c /dev/null "$@" --print-config; assert_success
		jq -c '[.total_budget_tokens, .scene_tokens, .character_tokens, .conversation_history_tokens, .challenges_tokens, .narrative_events_tokens, .directorial_notes_tokens, .location_context_tokens, .player_context_tokens]' <<<"$output"; }
	# 3 x 1334 is at least their sum, 4000: unchanged
	assert_equal "$(b -t 1334)" '[1334,500,800,1000,400,400,300,300,300]'
	# x 3000/4000
	assert_equal "$(b -t 1000)" '[1000,375,600,750,300,300,225,225,225]'
	# x 1800/4000
	assert_equal "$(b -t 600)" '[600,225,360,450,180,180,135,135,135]'
	# a preset's budgets scale as the defaults do
	assert_equal "$(b -P minimal -t 500)" '[500,187,300,375,150,150,112,112,112]'
	# budgets set are kept, and the others share what is left of 3 x 600
	assert_equal "$(b -t 600 -s conversation_history=1000)" '[600,133,213,1000,106,106,80,80,80]'
	printf 'total_budget_tokens: 600\nscene_tokens: 100\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml --print-config
	assert_equal "$(jq -c '[.scene_tokens, .conversation_history_tokens]' <<<"$output")" '[100,485]'
}

@test "bad flags are usage errors" {
	run -64 --separate-stderr wb-budget -s plot=5
	assert_equal "${stderr_lines[0]}" "wb-budget: -s: 'plot': unknown category"
	run -64 --separate-stderr wb-budget -s scene
	assert_equal "${stderr_lines[0]}" "wb-budget: -s: 'scene': not CATEGORY=N"
	run -64 --separate-stderr wb-budget -t -1
	assert_equal "${stderr_lines[0]}" 'wb-budget: -t: must not be negative: -1'
	run -64 --separate-stderr wb-budget -P huge
	assert_equal "${stderr_lines[0]}" "wb-budget: -P: 'huge': not default, large_context or minimal"
}

@test "a shared flag's error names the flag, the same in every command" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt; do
		run -64 --separate-stderr $cmd -m bytes
		assert_equal "${stderr_lines[0]}" "$cmd: -m: 'bytes': not char, word or hybrid"
		run -64 --separate-stderr $cmd --hybrid-threshold x
		assert_equal "${stderr_lines[0]}" "$cmd: --hybrid-threshold: expected a whole number, not 'x'"
		run -64 --separate-stderr $cmd -M gpt-17
		assert_equal "${stderr_lines[0]}" "$cmd: -M: 'gpt-17': unknown model (wb-count --list-models lists them)"
	done
}

@test "a section at exactly its budget is kept, one token over is cut" {
	# 20 characters = 5 tokens by char
	run --separate-stderr wb-budget -m char -s scene=5 <<<'{"sections":{"scene":"abcdefghijklmnopqrst"}}'
	assert_output --partial '"scene":{"original_tokens":5,"budget":5,"final_tokens":5,"reason":"fits"}'
	run --separate-stderr wb-budget -m char -s scene=4 <<<'{"sections":{"scene":"abcdefghijklmnopqrst"}}'
	assert_output --partial '"sections":{"scene":"abcdefghijklm..."}'
	assert_output --partial '"scene":{"original_tokens":5,"budget":4,"final_tokens":4,"reason":"own_budget"}'
}

@test "conversation history keeps its tail, the others their head" {
	run --separate-stderr wb-budget -m word -s conversation_history=3 -s scene=3 <<<'{"sections":{"conversation_history":"old older oldest newest","scene":"first second third fourth"}}'
	assert_output --partial '"sections":{"conversation_history":"...oldest newest","scene":"first second..."}'
}

@test "the total is counted on the rendered text, not as a sum" {
	# by char: "abcd" + "\n\n" + "efgh" = 10 characters = 3 tokens, not 1 + 1
	run --separate-stderr wb-budget -m char <<<'{"sections":{"scene":"efgh","character":"abcd"}}'
	assert_output --partial '"total":{"budget":4000,"final_tokens":3,"over":false}'
}

@test "over the total, the lowest priority sheds first: cut, then dropped" {
	s=$(words 40)
	rec="{\"sections\":{\"character\":\"$s\",\"scene\":\"$s\",\"player_context\":\"$s\",\"location_context\":\"$s\"}}"
	# each section is 40 words = 54 tokens; 4 sections are 216 plus separators
	run --separate-stderr wb-budget -m word -P minimal -t 700 -s character=100 -s scene=100 -s player_context=100 -s location_context=100 <<<"$rec"
	assert_success
	assert_equal "$(jq -c '[.budget.sections[].reason] | unique' <<<"$output")" '["fits"]'
	run --separate-stderr wb-budget -m word -P minimal -t 700 -s character=100 -s scene=100 -s player_context=100 -s location_context=100 --check <<<"$rec"
	assert_success
	# now a total of 140: player_context goes, location_context is cut
	run --separate-stderr wb-budget -m word -t 1000 -s character=100 -s scene=100 -s player_context=100 -s location_context=100 -s conversation_history=100 -s challenges=100 -s narrative_events=100 -s directorial_notes=100 <<<"$rec"
	assert_success
	run --separate-stderr wb-budget -m word -t 140 -s character=100 -s scene=100 -s player_context=100 -s location_context=100 -s conversation_history=5 -s challenges=5 -s narrative_events=5 -s directorial_notes=5 <<<"$rec"
	assert_success
	assert_equal "$(jq -c '[.budget.sections | to_entries[] | select(.value.reason == "shed") | .key]' <<<"$output")" '["location_context","player_context"]'
	assert_equal "$(jq -c '[.budget.sections | to_entries[] | select(.value.reason == "shed" and .value.final_tokens == 0) | .key]' <<<"$output")" '["player_context"]'
	assert_equal "$(jq -r '.sections.player_context' <<<"$output")" ''
	final=$(jq '.budget.total.final_tokens' <<<"$output")
	[ "$final" -le 140 ]
	[ "$final" -ge 130 ]
	# the rendered text of what was kept counts the same by wb-count
	rendered=$(jq -c '{text: ([.sections.character, .sections.scene, .sections.location_context, .sections.player_context] | map(select(. != "")) | join("\n\n"))}' <<<"$output" | wb-count -m word | jq .tokens)
	assert_equal "$rendered" "$final"
}

@test "--check changes nothing, exits 1 and prints a table of offenders" {
	run -1 --separate-stderr wb-budget --check -m char -s scene=2 <<<'{"sections":{"scene":"abcdefghijklmnopqrst","character":"ok"}}'
	assert_output --partial '"sections":{"scene":"abcdefghijklmnopqrst","character":"ok"}'
	assert_output --partial '"scene":{"original_tokens":5,"budget":2,"final_tokens":5,"reason":"own_budget"}'
	assert_output --partial '"character":{"original_tokens":1,"budget":800,"final_tokens":1,"reason":"fits"}'
	assert_equal "${stderr_lines[0]}" 'LINE   CATEGORY                 TOKENS   BUDGET  OVER BY'
	assert_equal "${stderr_lines[1]}" '1      scene                         5        2        3'
	assert_equal "${#stderr_lines[@]}" 2
}

@test "--check passes when everything fits" {
	run --separate-stderr wb-budget --check <<<'{"sections":{"scene":"small"}}'
	assert_success
	assert_equal "$stderr" ''
	assert_output --partial '"total":{"budget":4000,"final_tokens":2,"over":false}'
}

@test "--check reports a rendered total over budget" {
	run -1 --separate-stderr wb-budget --check -m char -P minimal -t 700 -s scene=800 -s character=50 -s conversation_history=100 <<<"{\"sections\":{\"scene\":\"$(printf '%03000d' 0)\"}}"
	assert_equal "${stderr_lines[1]}" '1      total (rendered)            750      700       50'
}

@test "a summary that fits replaces the section" {
	printf '#!/bin/sh\ncat >in.txt\necho "in brief ($WB_CATEGORY, $WB_TARGET_TOKENS)"\n' >sum.sh
	chmod +x sum.sh
	printf 'summarize_command: ./sum.sh\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml -m word -s scene=8 <<<'{"sections":{"scene":"one two three four five six seven"}}'
	assert_success
	assert_output --partial '"sections":{"scene":"in brief (scene, 8)"}'
	assert_output --partial '"budget":8,"final_tokens":7,"reason":"summarized"}'
	assert_equal "$stderr" ''
	run head -n 1 in.txt
	assert_output 'Summarize the following scene text in at most 8 tokens. Reply with the summary only.'
}

@test "enable_summarization false never runs the command" {
	printf 'summarize_command: "touch ran"\nenable_summarization: false\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml -m word -s scene=2 <<<'{"sections":{"scene":"one two three four"}}'
	assert_output --partial '"final_tokens":2,"reason":"own_budget"}'
	[ ! -e ran ]
}

@test "a failing summarizer falls back to truncation and says why" {
	printf 'summarize_command: "echo no model >&2; exit 3"\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml -m word -s scene=3 <<<'{"sections":{"scene":"one two three four"}}'
	assert_success
	assert_output --partial '"sections":{"scene":"one two..."}'
	assert_output --partial '"final_tokens":3,"reason":"summary_failed","summary_error":"summarize_command exited with status 3: no model"}'
	# and says so on stderr too, one line
	assert_equal "$stderr" 'wb-budget: stdin:1: scene: no summary (summarize_command exited with status 3: no model); cut to its budget instead'
}

@test "each section's reason says what became of it" {
	r='{"sections":{"character":"a b c d","scene":"a b c d e f g h i j","player_context":"a b c d e f g h"}}'
	few="-P minimal -s character=15 -s player_context=15 -s conversation_history=0 -s challenges=0 -s narrative_events=0 -s directorial_notes=0 -s location_context=0"
	run --separate-stderr wb-budget -c /dev/null -m word $few -t 16 -s scene=6 <<<"$r"
	assert_success
	assert_equal "$(jq -c '.budget.sections | map_values([.reason, .final_tokens])' <<<"$output")" '{"scene":["own_budget",6],"character":["fits",6],"player_context":["shed",3]}'
}

@test "a summarizer over its timeout is killed and truncation used" {
	printf 'summarize_command: "sleep 10"\nsummarize_timeout: 0.2\n' >c.yaml
	SECONDS=0
	run --separate-stderr wb-budget -c c.yaml -m word -s scene=3 <<<'{"sections":{"scene":"one two three four"}}'
	assert_success
	[ "$SECONDS" -lt 5 ]
	assert_output --partial '"summary_error":"summarize_command timed out after 0.2 s"}'
	assert_output --partial '"scene":"one two..."'
}

@test "a summary over the budget is not used" {
	printf 'summarize_command: "echo this summary is far too long to fit"\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml -m word -s scene=3 <<<'{"sections":{"scene":"one two three four"}}'
	assert_output --partial '"scene":"one two..."'
	assert_output --partial '"summary_error":"summary has 11 tokens, over the budget of 3"}'
}

@test "an unknown category is a bad record" {
	run -65 --separate-stderr wb-budget <<<$'{"sections":{"plot":"x"}}\n{"sections":{"scene":"ok"}}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"sections: unknown category \"plot\""}}'
	assert_line -n 1 --partial '{"sections":{"scene":"ok"},"budget":'
	assert_equal "$stderr" 'wb-budget: stdin:1: sections: unknown category "plot"'
}

@test "a non-string section or missing sections is a bad record" {
	run -65 --separate-stderr wb-budget <<<$'{"sections":{"scene":5}}\n{"text":"x"}\n{"sections":[]}\n{"world_id":7,"sections":{}}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"sections.scene: not a string"}}'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"missing field \"sections\""}}'
	assert_line -n 2 '{"error":{"record":3,"line":3,"message":"field \"sections\" is not an object"}}'
	assert_line -n 3 '{"error":{"record":4,"line":4,"message":"field \"world_id\" is not a string"}}'
}

@test "a file that is not UTF-8 is an error naming the byte" {
	printf 'scene_tokens: 5\n\xff\n' >bad.yaml
	run -78 --separate-stderr wb-budget -c bad.yaml --print-config
	assert_equal "$stderr" 'wb-budget: bad.yaml: byte 16: invalid leading UTF-8 octet'
}

@test "-c naming a directory cannot be opened" {
	run -66 --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR" --print-config
	assert_equal "$stderr" "wb-budget: $BATS_TEST_TMPDIR: Is a directory"
}

@test "an unknown -w world is a configuration error" {
	run -78 --separate-stderr wb-budget -c "$TOP/examples/wb.yaml" -w saltmarh --print-config
	assert_equal "$stderr" "wb-budget: -w: 'saltmarh': no such world in the configuration"
}

@test "a heuristic flag overrides the file's encoding" {
	printf 'counter: {encoding: cl100k_base}\n' >c.yaml
	run --separate-stderr wb-budget -c c.yaml -m word --print-config
	assert_output --partial '"counter":{"method":"word","chars_per_token":4.0,"tokens_per_word":1.33,"hybrid_threshold":100,"encoding":null}'
}

# A configuration with categories of its own, and a record of them.
own_categories() {
	cat >cats.yaml <<-'EOF2'
	total_budget_tokens: 40
	categories:
	  system: {budget: 20, priority: 1}
	  examples: {budget: 15, priority: 3}
	  history: {budget: 12, priority: 2, keep: tail}
	EOF2
	REC='{"sections":{"system":"You are a helpful assistant who answers in French and never in English at all.","examples":"one two three four five six seven eight nine ten eleven twelve","history":"a b c d e f g h i j k l m n o p q r s t u v w x y z"}}'
}

@test "categories of a file's own are enforced like the engine's" {
	own_categories
	run --separate-stderr wb-budget -c cats.yaml -m word <<<"$REC"
	assert_success
	assert_equal "$stderr" ''
	# history kept to its budget from its end; then the least important,
	# examples (priority 3), shed so that the whole fits the total
	assert_equal "$(jq -c .sections <<<"$output")" '{"system":"You are a helpful assistant who answers in French and never in English at all.","examples":"one two three four...","history":"...r s t u v w x y z"}'
	assert_equal "$(jq -c .budget <<<"$output")" '{"sections":{"system":{"original_tokens":20,"budget":20,"final_tokens":20,"reason":"fits"},"examples":{"original_tokens":16,"budget":15,"final_tokens":6,"reason":"shed"},"history":{"original_tokens":35,"budget":12,"final_tokens":12,"reason":"own_budget"}},"total":{"budget":40,"final_tokens":40,"over":false}}'
	# the engine's categories are not among them
	run -65 --separate-stderr wb-budget -c cats.yaml <<<'{"sections":{"scene":"x"}}'
	assert_equal "$stderr" 'wb-budget: stdin:1: sections: unknown category "scene"'
	run --separate-stderr wb-budget -c cats.yaml --print-config
	assert_equal "$(jq -c '[.categories, .scene_tokens]' <<<"$output")" '[{"system":{"budget":20,"priority":1,"keep":"head"},"examples":{"budget":15,"priority":3,"keep":"head"},"history":{"budget":12,"priority":2,"keep":"tail"}},null]'
}

@test "--check with categories of a file's own" {
	own_categories
	run -1 --separate-stderr wb-budget -c cats.yaml -m word --check <<<"$REC"
	assert_equal "$(jq -c .budget.total <<<"$output")" '{"budget":40,"final_tokens":73,"over":true}'
	assert_equal "$(jq -c '[.budget.sections | to_entries[] | [.key, .value.reason]]' <<<"$output")" '[["system","fits"],["examples","own_budget"],["history","own_budget"]]'
	assert_equal "$stderr" "$(printf '%s\n' 'LINE   CATEGORY                 TOKENS   BUDGET  OVER BY' '1      examples                     16       15        1' '1      history                      35       12       23' '1      total (rendered)             73       40       33')"
	run --separate-stderr wb-budget -c cats.yaml -m word --check -t 100 <<<'{"sections":{"system":"be brief","history":"hi"}}'
	assert_success
	assert_equal "$stderr" ''
}

@test "a summary of a category of a file's own is asked for by its name" {
	own_categories
	printf 'summarize_command: "echo $WB_CATEGORY $WB_TARGET_TOKENS"\n' >>cats.yaml
	run --separate-stderr wb-budget -c cats.yaml -m word -t 100 <<<"$REC"
	assert_success
	assert_equal "$(jq -c '[.sections.examples, .sections.history, .budget.sections.history.reason]' <<<"$output")" '["examples 15","history 12","summarized"]'
}

@test "bad categories: each a line naming FILE:LINE:COL, exit 78" {
	check() { printf "$1" >bad.yaml; run -78 --separate-stderr wb-budget -c bad.yaml </dev/null; assert_equal "$stderr" "wb-budget: bad.yaml:$2"; assert_output ''; }
	check 'categories:\n  system: {priority: 1}\n' '2:3: categories.system: no budget'
	check 'categories:\n  a: {budget: 5, priority: 1}\n  b: {budget: 5, priority: 1}\n' '3:18: categories.b: priority 1 is also that of categories.a (line 2)'
	check 'categories:\n  a: {budget: 5, priority: 2}\n  b: {budget: 5}\n' '3:3: categories.b: priority 2 (its place in the list) is also that of categories.a (line 2)'
	check 'categories:\n  a: {budget: 5, colour: red}\n' '2:18: categories.a: unknown key "colour" (budget, priority or keep)'
	check 'categories:\n  a: {budget: 5, budget: 6}\n' '2:18: categories.a: duplicate key "budget"'
	check 'categories:\n  a: {budget: -5}\n' '2:15: categories.a.budget: expected a whole number from 0 to 9007199254740992'
	check 'categories:\n  a: {budget: 5, priority: 0}\n' '2:28: categories.a.priority: expected a whole number from 1 to 1000000'
	check 'categories:\n  a: {budget: 5, keep: middle}\n' '2:24: categories.a.keep: expected head or tail'
	check 'categories:\n  a b: {budget: 5}\n' "2:3: categories: 'a b': a name is 1 to 64 letters, digits, _ or -"
	check 'categories:\n  a: {budget: 5}\n  a: {budget: 6}\n' '3:3: duplicate category "a"'
	check 'categories:\n  a: 5\n' '2:6: categories.a: expected a mapping such as {budget: 800, priority: 1}, got a scalar'
	check 'categories: {}\n' '1:1: categories: none declared'
	check 'categories: [a]\n' '1:13: categories: expected a mapping, got a list'
	check 'worlds:\n  w:\n    categories: {a: {budget: 5}}\n' '3:5: categories: only at the top level, not in a world'
	check 'categories: {a: {budget: 5}}\nscene_tokens: 5\n' "2: scene_tokens: not with categories of the file's own (give each its budget under categories:)"
	check 'categories: {a: {budget: 5}}\nworlds:\n  w:\n    preset: minimal\n' "4: preset: not with categories of the file's own (give each its budget under categories:)"
}

@test "the engine's budgets from flags, or wb-prompt, with categories of a file's own" {
	printf 'categories: {a: {budget: 5}}\n' >c.yaml
	run -64 --separate-stderr wb-budget -c c.yaml -s scene=4 </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-budget: -s: c.yaml has categories of its own'
	run -64 --separate-stderr wb-budget -c c.yaml -P minimal </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-budget: -P: c.yaml has categories of its own'
	run -78 --separate-stderr wb-prompt -c c.yaml </dev/null
	assert_equal "$stderr" "wb-prompt: c.yaml: categories: only wb-budget uses categories of a file's own; wb-prompt builds the engine's"
	# -t still applies to the total
	run --separate-stderr wb-budget -c c.yaml -t 3 -m word <<<'{"sections":{"a":"one two three four"}}'
	assert_equal "$(jq -c '.budget.total' <<<"$output")" '{"budget":3,"final_tokens":3,"over":false}'
}
