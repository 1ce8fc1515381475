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
	assert_equal "${stderr_lines[0]}" "wb-count: -M: 'gpt-17': unknown model"
	run -64 --separate-stderr wb-count -e cl200k </dev/null
	assert_equal "${stderr_lines[0]}" "wb-count: -e: 'cl200k': unknown encoding (known: r50k_base, p50k_base, p50k_edit, cl100k_base, o200k_base, llama3)"
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
	assert_output --partial '"scene":{"original_tokens":11,"final_tokens":5,'
	printf 'counter:\n  model: gpt-4o\n' >"$BATS_TEST_TMPDIR/c.yaml"
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_output --partial '"encoding":"o200k_base"}'
	printf 'counter:\n  model: gpt-17\n' >"$BATS_TEST_TMPDIR/c.yaml"
	run -78 --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_equal "$stderr" "wb-budget: $BATS_TEST_TMPDIR/c.yaml:2:10: counter.model: 'gpt-17': unknown model"
	run --separate-stderr wb-prompt -M gpt-4o -c /dev/null <"$TOP/examples/request.json"
	assert_equal "$(jq -c '.report.categories.character.original_tokens' <<<"$output")" 382
}

@test "-M llama3 counts with Llama 3's tokenizer and its special tokens" {
	run --separate-stderr wb-count -M llama3 --ids --allow-special <<<'{"text":"<|begin_of_text|>hello world<|eot_id|>"}'
	assert_output '{"text":"<|begin_of_text|>hello world<|eot_id|>","ids":[128000,15339,1917,128009],"tokens":4}'
}

@test "with an exact encoding, wb-prompt counts the messages as the chat API bills them" {
	run --separate-stderr wb-prompt -M gpt-4o -c /dev/null -P minimal -t 1000 <"$TOP/examples/request.json"
	assert_success
	total=$(jq .report.total_tokens <<<"$output")
	[ "$total" -le 1000 ]
	# wb-count -C adds the 3 tokens that prime the reply
	billed=$(jq -c '{messages: .messages[:-1]}' <<<"$output" | wb-count -C -M gpt-4o | jq .tokens)
	assert_equal "$total" "$((billed - 3))"
}
