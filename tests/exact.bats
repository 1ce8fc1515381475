#!/usr/bin/env bats
# Exact encodings in every counting command: the ids of OpenAI's tiktoken.
# The rank files come from build/encodings (make test fetches them).

load helper

@test "-e cl100k_base counts and lists the exact token ids" {
	run --separate-stderr wb-count -e cl100k_base --ids <<<'{"text":"hello world"}'
	assert_success
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
}

@test "-M gpt-4o takes o200k_base" {
	run --separate-stderr wb-count -M gpt-4o --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[24912,2375],"tokens":2}'
}

@test "special-token text is plain text unless --allow-special" {
	run --separate-stderr wb-count -M gpt-4o --ids <<<'{"text":"<|endoftext|>"}'
	assert_output '{"text":"<|endoftext|>","ids":[27,91,419,1440,919,91,29],"tokens":7}'
	run --separate-stderr wb-count -M gpt-4o --ids --allow-special <<<'{"text":"<|endoftext|>"}'
	assert_output '{"text":"<|endoftext|>","ids":[199999],"tokens":1}'
}

@test "-C counts a chat as the chat API does" {
	# 3 + (3 + system + 4 tokens) + (3 + user + 1 token + bob + 1) = 18
	run --separate-stderr wb-count -C -M gpt-4 <<<'{"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"Hi","name":"bob"}]}'
	assert_success
	assert_output --partial '"tokens":18}'
	run -65 --separate-stderr wb-count -C <<<'{"messages":[{"role":"user"}]}'
	assert_equal "$stderr" 'wb-count: stdin:1: messages[0]: not an object with a string role and content'
}

@test "-r counts a raw text exactly" {
	run --separate-stderr wb-count -r -e r50k_base < <(printf 'The quick brown fox')
	assert_output '{"tokens":4}'
}

@test "-r with an exact encoding counts a 120 MB stream in constant memory" {
	under_tool && skip "memory limits do not apply under a sanitizer or valgrind"
	run --separate-stderr bash -c 'printf "hello world\n" | wb-count -r -q -e cl100k_base'
	assert_output 3
	run --separate-stderr bash -c 'ulimit -v 65536; yes "hello world" | head -c 120000000 | wb-count -r -q -e cl100k_base'
	assert_success
	assert_output 30000000
}

@test "--ids needs an encoding, and not -C" {
	run -64 --separate-stderr wb-count --ids
	assert_equal "${stderr_lines[0]}" 'wb-count: --ids: needs an encoding (-e, -M or -T)'
	run -64 --separate-stderr wb-count --ids -C -e cl100k_base
	assert_equal "${stderr_lines[0]}" 'wb-count: --ids: not with -C'
}

@test "an unknown model or encoding is a usage error" {
	run -64 --separate-stderr wb-count -M gpt-17
	assert_equal "${stderr_lines[0]}" "wb-count: -M: 'gpt-17': unknown model (wb-count --list-models lists them)"
	run -64 --separate-stderr wb-count -e cl200k </dev/null
	assert_equal "${stderr_lines[0]}" "wb-count: -e: 'cl200k': unknown encoding (wb-count --list-encodings lists them)"
}

@test "an empty -e, -M or -T is a usage error, not a silent heuristic count" {
	local pair opt
	for pair in -e:-e -M:-M -T:-T --encoding=:-e --model=:-M --tokenizer=:-T; do
		opt=${pair%:*}
		if [[ $opt == --* ]]; then set -- "$opt"; else set -- "$opt" ''; fi
		run -64 --separate-stderr wb-count "$@" <<<'{"text":"hello world"}'
		assert_output ''
		assert_equal "${stderr_lines[0]}" "wb-count: ${pair#*:}: empty"
	done
	run -64 --separate-stderr wb-truncate -b 1 -M '' <<<'{"text":"hello world"}'
	assert_equal "${stderr_lines[0]}" 'wb-truncate: -M: empty'
}

@test "a missing rank file exits 66 and names the command that fetches it" {
	run -66 --separate-stderr wb-count -e cl100k_base --encodings-dir "$BATS_TEST_TMPDIR" </dev/null
	assert_equal "$stderr" "wb-count: cl100k_base: $BATS_TEST_TMPDIR/cl100k_base.tiktoken: No such file or directory; run scripts/fetch-encodings to install the rank files"
}

@test "a missing encoding names every place searched, and --llama3 for llama3" {
	run -66 --separate-stderr env -u WB_ENCODINGS_DIR XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" \
	    WB_ENCODINGS_DIR="$BATS_TEST_TMPDIR/env" wb-count -e o200k_base </dev/null
	assert_output ''
	[[ $stderr == "wb-count: encoding o200k_base: no o200k_base.tiktoken in $BATS_TEST_TMPDIR/env, $BATS_TEST_TMPDIR/xdg/wb/encodings, "*"/encodings; run scripts/fetch-encodings" ]]
	run -66 --separate-stderr env XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" \
	    WB_ENCODINGS_DIR="$BATS_TEST_TMPDIR/env" wb-count -M llama3 </dev/null
	[[ $stderr == *"; run scripts/fetch-encodings --llama3 (Meta's licence)" ]]
}

@test "truncation with an exact encoding never ends over budget or inside a character" {
	text='日本語のテキスト and English, русский текст, emoji 👩‍👩‍👧 and (brackets) [many] {of} them'
	for e in r50k_base cl100k_base o200k_base; do
		for b in 0 1 2 3 5 8 13; do
			for k in head tail; do
				out=$(jq -cn --arg t "$text" '{text: $t}' | wb-truncate -e "$e" -b "$b" -k "$k")
				final=$(jq .final_tokens <<<"$out")
				recount=$(jq -c '{text}' <<<"$out" | wb-count -e "$e" | jq .tokens)
				[ "$final" -le "$b" ]
				[ "$final" -eq "$recount" ]
			done
		done
	done
	run --separate-stderr wb-truncate -e cl100k_base -b 7 <<<"$(jq -cn --arg t "$text" '{text: $t}')"
	assert_output '{"text":"日本語のテ...","original_tokens":42,"final_tokens":7,"was_truncated":true,"budget":7}'
}

@test "wb-budget and wb-prompt count with an encoding from flags or the file" {
	run --separate-stderr wb-budget -M gpt-4 -s scene=5 <<<'{"sections":{"scene":"The tavern is loud, warm and full of smoke."}}'
	assert_output --partial '"scene":{"original_tokens":11,"budget":5,"final_tokens":5,'
	printf 'counter:\n  model: gpt-4o\n' >"$BATS_TEST_TMPDIR/c.yaml"
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_output --partial '"encoding":"o200k_base"}'
	printf 'counter:\n  model: gpt-17\n' >"$BATS_TEST_TMPDIR/c.yaml"
	run -78 --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_equal "$stderr" "wb-budget: $BATS_TEST_TMPDIR/c.yaml:2:10: counter.model: 'gpt-17': unknown model (wb-count --list-models lists them)"
	run --separate-stderr wb-prompt -M gpt-4o -c /dev/null <"$TOP/examples/request.json"
	assert_equal "$(jq -c '.report.sections.character.original_tokens' <<<"$output")" 382
}

@test "-M llama3 counts with Llama 3's tokenizer and its special tokens" {
	run --separate-stderr wb-count -M llama3 --ids --allow-special <<<'{"text":"<|begin_of_text|>hello world<|eot_id|>"}'
	assert_output '{"text":"<|begin_of_text|>hello world<|eot_id|>","ids":[128000,15339,1917,128009],"tokens":4}'
}

@test "with an exact encoding, wb-prompt counts the messages as the chat API bills them" {
	run --separate-stderr wb-prompt -M gpt-4o -c /dev/null -P minimal -t 1000 <"$TOP/examples/request.json"
	assert_success
	total=$(jq .report.total.final_tokens <<<"$output")
	[ "$total" -le 1000 ]
	# wb-count -C adds the 3 tokens that prime the reply
	billed=$(jq -c '{messages: .messages[:-1]}' <<<"$output" | wb-count -C -M gpt-4o | jq .tokens)
	assert_equal "$total" "$((billed - 3))"
}

# The encoding -M gives a model, or "-" for an unknown one.
model_encoding() {
	local out

	out=$(wb-budget -c /dev/null -M "$1" --print-config 2>/dev/null) ||
	    { echo -; return; }
	jq -r '.counter.encoding' <<<"$out"
}

@test "-M maps each model as tiktoken's encoding_for_model does, then by its prefixes" {
	# npm's tiktoken (as fetch-encodings packs it) knows exact names only;
	# the names it does not know map as the prefixes of tiktoken's Python
	# package (0.14.0) map them, as listed here.
	cd "$BATS_TEST_TMPDIR"
	"${NPM:-npm}" pack --loglevel=error "${TIKTOKEN_NPM:-tiktoken@1.0.22}" >pack.out
	tar -xzf "$(tail -n 1 pack.out)"
	cat >python.tsv <<'EOT'
gpt-4o-2099-01-01	o200k_base
gpt-4o-mini-2099-01-01	o200k_base
chatgpt-4o-2099	o200k_base
gpt-4.1-2099-01-01	o200k_base
gpt-4.5-turbo	o200k_base
gpt-5.1	o200k_base
gpt-5-codex	o200k_base
o1-2099	o200k_base
o3-pro	o200k_base
o4-mini-2099	o200k_base
gpt-4-2099	cl100k_base
gpt-3.5-turbo-2099	cl100k_base
gpt-35-turbo-16k	cl100k_base
gpt-3.5	cl100k_base
gpt-2	gpt2
gpt-oss-20b	o200k_harmony
gpt-oss-120b	o200k_harmony
ft:gpt-4o-mini-2024-07-18:org::id	o200k_base
ft:gpt-4-0613:org::id	cl100k_base
ft:gpt-3.5-turbo-0125:org::id	cl100k_base
ft:davinci-002:org::id	cl100k_base
ft:babbage-002:org::id	cl100k_base
gpt-oss	-
gpt-17	-
o2	-
o4	-
text-embedding-3-small-2099	-
ft:o3	-
EOT
	cut -f1 python.tsv | node "$TOP/tests/tokenizer/models.js" package >npm.tsv
	declare -A py
	while IFS=$'\t' read -r name enc; do py[$name]=$enc; done <python.tsv
	n=0
	while IFS=$'\t' read -r name enc; do
		[ "$enc" != - ] || enc=${py[$name]}
		assert_equal "$name $(model_encoding "$name")" "$name $enc"
		n=$((n + 1))
	done <npm.tsv
	[ "$n" -gt 130 ]
	# every name npm's table has is one of -M's models
	wb-count --list-models >list
	for name in $(jq -r 'keys[]' package/model_to_encoding.json); do
		grep -qxF "{\"model\":\"$name\",\"encoding\":\"$(jq -r --arg m "$name" '.[$m]' package/model_to_encoding.json)\"}" list ||
		    fail "$name is not listed as npm's table has it"
	done
}

@test "--list-models prints the models, then the prefixes in the order they are tried" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt; do
		run --separate-stderr "$cmd" --list-models
		assert_success
		assert_equal "$stderr" ""
		assert_line --index 0 '{"model":"o1","encoding":"o200k_base"}'
		assert_line '{"model":"gpt-4o","encoding":"o200k_base"}'
		assert_line '{"model":"llama3","encoding":"llama3"}'
		assert_line '{"prefix":"gpt-oss-","encoding":"o200k_harmony"}'
		assert_line --index -1 '{"prefix":"ft:babbage-002","encoding":"cl100k_base"}'
		# ft:gpt-4o must come before ft:gpt-4, which it starts with
		prefixes=$(grep -o '"prefix":"ft:gpt-4o\?"' <<<"$output" | tr '\n' ' ')
		assert_equal "$prefixes" '"prefix":"ft:gpt-4o" "prefix":"ft:gpt-4" '
		run jq -e . <<<"$output"
		assert_success
	done
}

@test "--list-encodings prints each encoding, its rank file and its special tokens" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt; do
		run --separate-stderr "$cmd" --list-encodings
		assert_success
		assert_output - <<'EOT'
{"encoding":"gpt2","rank_file":"r50k_base.tiktoken","special_tokens":1}
{"encoding":"r50k_base","rank_file":"r50k_base.tiktoken","special_tokens":1}
{"encoding":"p50k_base","rank_file":"p50k_base.tiktoken","special_tokens":1}
{"encoding":"p50k_edit","rank_file":"p50k_base.tiktoken","special_tokens":4}
{"encoding":"cl100k_base","rank_file":"cl100k_base.tiktoken","special_tokens":5}
{"encoding":"o200k_base","rank_file":"o200k_base.tiktoken","special_tokens":2}
{"encoding":"o200k_harmony","rank_file":"o200k_base.tiktoken","special_tokens":1091}
{"encoding":"llama3","rank_file":"llama3.tiktoken","special_tokens":256}
EOT
	done
}

@test "-M gpt-oss-120b counts with o200k_harmony and its special tokens" {
	run --separate-stderr wb-count -M gpt-oss-120b --ids --allow-special <<<'{"text":"<|start|>assistant<|channel|>final<|message|>Hi<|end|>"}'
	assert_success
	assert_output --partial '"ids":[200006,173781,200005,17196,200008,12194,200007],"tokens":7}'
}

@test "-e gpt2 gives GPT-2's ids, which are r50k_base's" {
	run --separate-stderr wb-count -e gpt2 --ids <<<'{"text":"hello world<|endoftext|>"}'
	assert_output '{"text":"hello world<|endoftext|>","ids":[31373,995,27,91,437,1659,5239,91,29],"tokens":9}'
	run --separate-stderr wb-count -M gpt2 --ids --allow-special <<<'{"text":"hello world<|endoftext|>"}'
	assert_output '{"text":"hello world<|endoftext|>","ids":[31373,995,50256],"tokens":3}'
}

@test "WB_MODEL is the default model of every counting command" {
	WB_MODEL=gpt-4o run --separate-stderr wb-count --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[24912,2375],"tokens":2}'
	WB_MODEL=gpt-4 run --separate-stderr wb-truncate -b 1 <<<'{"text":"hello world"}'
	assert_output --partial '"original_tokens":2,'
	WB_MODEL=gpt-oss-20b run --separate-stderr wb-budget -c /dev/null --print-config
	assert_equal "$(jq -r .counter.encoding <<<"$output")" o200k_harmony
	# empty: unset
	WB_MODEL= run --separate-stderr wb-count <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","tokens":3}'
}

@test "a file's counter and the flags win over WB_MODEL" {
	printf 'counter:\n  method: word\n' >"$BATS_TEST_TMPDIR/c.yaml"
	WB_MODEL=gpt-4o run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_equal "$(jq -c '.counter | [.method, .encoding]' <<<"$output")" '["word",null]'
	printf 'counter:\n  model: gpt-4\n' >"$BATS_TEST_TMPDIR/c.yaml"
	WB_MODEL=gpt-4o run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_equal "$(jq -r .counter.encoding <<<"$output")" cl100k_base
	WB_MODEL=gpt-4o run --separate-stderr wb-count -m char <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","tokens":3}'
	WB_MODEL=gpt-4o run --separate-stderr wb-count -e cl100k_base --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
}

@test "an unknown WB_MODEL is a configuration error that names it" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt; do
		WB_MODEL=gpt-17 run -78 --separate-stderr "$cmd" -M gpt-4o </dev/null
		assert_output ''
		assert_equal "$stderr" "$cmd: WB_MODEL: 'gpt-17': unknown model (wb-count --list-models lists them)"
	done
	# the lists still answer
	WB_MODEL=gpt-17 run --separate-stderr wb-count --list-models
	assert_success
}
