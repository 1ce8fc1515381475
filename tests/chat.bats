#!/usr/bin/env bats
# wb-count -C: chat completion requests in the shapes of OpenAI's chat API,
# counted as the npm package gpt-tokenizer counts them
# (countChatCompletionTokens; make test installs it in build/chat).

load helper

CHATS=$TOP/tests/chat/chats.jsonl

# The reference counts of every chat for model $1, next to wb-count's.
compare() {
	local dir=${WB_CHAT_DIR:-$TOP/build/chat}
	node "$TOP/tests/chat/expect.js" "$dir" "$CHATS" "$1" >"$BATS_TEST_TMPDIR/want"
	wb-count -C -M "$1" <"$CHATS" | jq -c '{name, tokens}' >"$BATS_TEST_TMPDIR/got"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -eq "$(wc -l <"$CHATS")" ]
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "-C -M gpt-4o counts every chat as gpt-tokenizer does" {
	run compare gpt-4o
	assert_success
	assert_output ''
}

@test "-C -M gpt-4-turbo (cl100k_base) counts every chat as gpt-tokenizer does" {
	run compare gpt-4-turbo
	assert_success
	assert_output ''
}

@test "-C counts content parts, tool calls without content, and tool definitions" {
	run --separate-stderr wb-count -C -M gpt-4o <<'EOF2'
{"messages":[{"role":"user","content":[{"type":"text","text":"Describe this:"},{"type":"text","text":" a cat on a mat."}]}]}
{"messages":[{"role":"user","content":"Describe this: a cat on a mat."}]}
{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{}"}}]}]}
{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"ping"}}]}
{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"ping"}}]}
EOF2
	assert_success
	# The parts count as their texts one after the other: as the string
	# of the same text.  A call counts its name, its arguments and 3; a
	# list of tools its definitions written out as TypeScript
	# ("namespace functions {...}", 14 tokens here) and 9; a system
	# message then ends in a newline, and the chat counts 4 fewer.
	assert_line -n 0 --partial '"tokens":16}'
	assert_line -n 1 --partial '"tokens":16}'
	assert_line -n 2 --partial '"tokens":13}'
	assert_line -n 3 --partial '"tokens":31}'
	assert_line -n 4 --partial '"tokens":34}'
}

@test "-C: a content part, a tool or a call that cannot be counted is a bad record naming its type" {
	run -65 --separate-stderr wb-count -C -M gpt-4o <<'EOF2'
{"messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
{"messages":[{"role":"user","content":[{"text":"no type"}]}]}
{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"code_interpreter"}]}
{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"custom","custom":{"name":"x","input":"y"}}]}]}
{"messages":[{"role":"assistant","content":null}]}
{"messages":[{"role":"user","content":7}]}
{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"description":"no name"}}]}
{"messages":[{"role":"user","content":"Hi"}],"functions":null,"tools":{"type":"function"}}
{"messages":[{"role":"user","content":"Hi"}]}
EOF2
	assert_equal "$stderr" 'wb-count: stdin:1: messages[0].content[1]: a part of type image_url cannot be counted (only "text")
wb-count: stdin:2: messages[0].content[0]: a part of type (none) cannot be counted (only "text")
wb-count: stdin:3: tools[0]: a tool of type code_interpreter cannot be counted (only "function")
wb-count: stdin:4: messages[0].tool_calls[0]: a call of type custom cannot be counted (only "function")
wb-count: stdin:5: messages[0]: not an object with a string role and content
wb-count: stdin:6: messages[0]: content is neither a string nor an array of parts
wb-count: stdin:7: tools[0]: no function name
wb-count: stdin:8: field "tools" is not an array'
	assert_line -n 8 '{"messages":[{"role":"user","content":"Hi"}],"tokens":8}'
}
