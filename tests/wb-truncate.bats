#!/usr/bin/env bats
# wb-truncate: the budget guarantee, head and tail, and bad input.

load helper

@test "a text over budget keeps its head and gets an ellipsis" {
	run --separate-stderr wb-truncate -m word -b 4 <<<'{"text":"The quick brown fox jumps over the lazy dog"}'
	assert_success
	assert_output '{"text":"The quick brown...","original_tokens":12,"final_tokens":4,"was_truncated":true,"budget":4}'
}

@test "-k tail keeps the end and puts the ellipsis first" {
	run --separate-stderr wb-truncate -m word -b 4 -k tail <<<'{"text":"The quick brown fox jumps over the lazy dog"}'
	assert_success
	assert_output --partial '"text":"...the lazy dog"'
}

@test "-E sets the ellipsis and the ellipsis counts against the budget" {
	run --separate-stderr wb-truncate -m word -b 4 -E ' [more]' <<<'{"text":"The quick brown fox jumps over the lazy dog"}'
	# " [more]" is a word and two brackets: 2 words + 1 = 4
	assert_output --partial '"text":"The [more]","original_tokens":12,"final_tokens":4'
}

@test "a text that fits is left alone" {
	run --separate-stderr wb-truncate -b 10 <<<'{"text":"short","id":1}'
	assert_output '{"text":"short","id":1,"original_tokens":2,"final_tokens":2,"was_truncated":false,"budget":10}'
}

@test "a record's own budget wins over -b" {
	run --separate-stderr wb-truncate -m word -b 100 <<<'{"text":"The quick brown fox jumps over the lazy dog","budget":4}'
	assert_output '{"text":"The quick brown...","budget":4,"original_tokens":12,"final_tokens":4,"was_truncated":true}'
}

@test "budget 0 gives the empty string" {
	run --separate-stderr wb-truncate -b 0 <<<'{"text":"anything at all"}'
	assert_success
	assert_output '{"text":"","original_tokens":4,"final_tokens":0,"was_truncated":true,"budget":0}'
}

@test "a word longer than the budget is cut between characters, never inside one" {
	run --separate-stderr wb-truncate -m char -b 2 <<<'{"text":"ééééééééééééé"}'
	assert_output --partial '"text":"ééééé...","original_tokens":4,"final_tokens":2'
}

@test "the final count never exceeds the budget on multilingual text" {
	input='{"text":"日本語のテキスト and English, русский текст, العربية, emoji 👩‍👩‍👧 and (brackets) [many] {of} them"}'
	for m in char word hybrid; do
		for b in 0 1 2 3 5 8 13 21; do
			for k in head tail; do
				out=$(wb-truncate -m "$m" -b "$b" -k "$k" <<<"$input")
				final=$(jq .final_tokens <<<"$out")
				recount=$(jq -c '{text}' <<<"$out" | wb-count -m "$m" | jq .tokens)
				[ "$final" -le "$b" ]
				[ "$final" -eq "$recount" ]
			done
		done
	done
}

@test "wb-count and wb-truncate compose in a pipeline" {
	run --separate-stderr bash -c 'echo "{\"text\":\"one two three four five six seven\"}" | wb-truncate -m word -b 5 | wb-count -m word'
	assert_success
	assert_output '{"text":"one two three...","original_tokens":10,"final_tokens":4,"was_truncated":true,"budget":5,"tokens":4}'
}

@test "a budget that wb-truncate or wb-budget wrote is a report, not a request" {
	# Again with a smaller -b: the first run's "budget" does not win.
	run --separate-stderr bash -c 'echo "{\"text\":\"The quick brown fox jumps over the lazy dog\"}" | wb-truncate -m word -b 6 | wb-truncate -m word -b 3'
	assert_success
	assert_output '{"text":"The quick...","original_tokens":6,"final_tokens":3,"was_truncated":true,"budget":3}'
	# Two fields, two budgets.
	run --separate-stderr bash -c 'echo "{\"title\":\"A very long title that goes on and on\",\"body\":\"one two three four\"}" | wb-truncate -m word -f title -b 3 | wb-truncate -m word -f body -b 100'
	assert_success
	assert_equal "$(jq -c '[.title, .body, .budget]' <<<"$output")" '["A very...","one two three four",100]'
	# After wb-budget, whose report is an object.
	run --separate-stderr bash -c 'echo "{\"text\":\"one two three four\",\"sections\":{\"scene\":\"A tavern.\"}}" | wb-budget -c /dev/null -m word | wb-truncate -m word -b 3'
	assert_success
	assert_equal "$(jq -c '[.text, .budget]' <<<"$output")" '["one two...",3]'
}

@test "-r truncates all of stdin, -q prints the bare text" {
	run --separate-stderr wb-truncate -r -m word -b 3 < <(printf 'one two three four')
	assert_output '{"text":"one two...","original_tokens":6,"final_tokens":3,"was_truncated":true,"budget":3}'
	run --separate-stderr wb-truncate -r -q -m word -b 3 -k tail < <(printf 'one two three four')
	assert_output '...three four'
}

@test "-r without -b is a usage error" {
	run -64 --separate-stderr wb-truncate -r </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-truncate: -r needs -b'
}

@test "a record without a budget and no -b is a bad record" {
	run -65 --separate-stderr wb-truncate <<<'{"text":"abc"}'
	assert_output '{"error":{"record":1,"line":1,"message":"no budget: give -b or a \"budget\" field"}}'
	assert_equal "$stderr" 'wb-truncate: stdin:1: no budget: give -b or a "budget" field'
}

@test "a negative, fractional or huge budget in a record is a bad record" {
	run -65 --separate-stderr wb-truncate <<<$'{"text":"a","budget":-1}\n{"text":"a","budget":1.5}\n{"text":"a","budget":9007199254740993}\n{"text":"a","budget":"3"}\n{"text":"a","budget":2}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"field \"budget\" is out of range 0 to 9007199254740992"}}'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"field \"budget\" is a number, not a whole number"}}'
	assert_line -n 2 '{"error":{"record":3,"line":3,"message":"field \"budget\" is out of range 0 to 9007199254740992"}}'
	assert_line -n 3 '{"error":{"record":4,"line":4,"message":"field \"budget\" is a string, not a whole number"}}'
	assert_line -n 4 '{"text":"a","budget":2,"original_tokens":1,"final_tokens":1,"was_truncated":false}'
	assert_equal "${stderr_lines[1]}" 'wb-truncate: stdin:2: field "budget" is a number, not a whole number'
}

@test "a negative, fractional or huge -b is a usage error" {
	run -64 --separate-stderr wb-truncate -b -1
	assert_equal "${stderr_lines[0]}" "wb-truncate: -b: '-1': not a number"
	run -64 --separate-stderr wb-truncate -b 2.5
	assert_equal "${stderr_lines[0]}" "wb-truncate: -b: '2.5': not a number"
	run -64 --separate-stderr wb-truncate -b 9007199254740993
	assert_equal "${stderr_lines[0]}" "wb-truncate: -b: '9007199254740993': out of range 0 to 9007199254740992"
}

@test "-k takes head or tail only" {
	run -64 --separate-stderr wb-truncate -b 1 -k middle
	assert_equal "${stderr_lines[0]}" "wb-truncate: -k: 'middle': not head or tail"
}

@test "bad records are reported and the good ones still truncated" {
	run -65 --separate-stderr wb-truncate -b 1 <<<$'{"text":7}\n{oops}\n{"text":"ab"}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"field \"text\" is an integer, not a string"}}'
	assert_line -n 1 --partial '{"error":{"record":2,"line":2,"message":"invalid JSON:'
	assert_line -n 2 '{"text":"ab","original_tokens":1,"final_tokens":1,"was_truncated":false,"budget":1}'
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr wb-truncate --help
	assert_success
	assert_line -n 0 'usage: wb-truncate [-b BUDGET] [-k head|tail] [-E ELLIPSIS]'
}

@test "a write error on stdout names its reason, with -r -q too" {
	run -74 --separate-stderr bash -c 'wb-truncate -r -q -b 3 <<<"a b c d e" >/dev/full'
	assert_equal "$stderr" 'wb-truncate: stdout: No space left on device'
	run -74 --separate-stderr bash -c 'wb-truncate -b 3 <<<"{\"text\":\"a\"}" >/dev/full'
	assert_equal "$stderr" 'wb-truncate: stdout: No space left on device'
}

@test "-r truncates 120 MB, head and tail, holding only what it keeps" {
	under_tool && skip "memory limits do not apply under a sanitizer or valgrind"
	# 10 000 000 lines of 2 words and a newline: 20 000 000 * 1.33 + 5 000 000.
	want='"original_tokens":31600000,"final_tokens":%d,"was_truncated":true,"budget":7}'
	run --separate-stderr bash -c "ulimit -v 65536; yes 'hello world' | head -c 120000000 | wb-truncate -r -m word -b 7"
	assert_success
	assert_output "{\"text\":\"hello world\\nhello world...\",$(printf "$want" 6)"
	run --separate-stderr bash -c "ulimit -v 65536; yes 'hello world' | head -c 120000000 | wb-truncate -r -m word -b 7 -k tail"
	assert_success
	assert_output "{\"text\":\"...hello world\\nhello world\\n\",$(printf "$want" 7)"
}

@test "-r with an exact encoding truncates 120 MB, head and tail, in little memory" {
	under_tool && skip "memory limits do not apply under a sanitizer or valgrind"
	run --separate-stderr bash -c "ulimit -v 65536; yes 'hello world' | head -c 120000000 | wb-truncate -r -e cl100k_base -b 5"
	assert_success
	assert_output '{"text":"hello world\nhello...","original_tokens":30000000,"final_tokens":5,"was_truncated":true,"budget":5}'
	run --separate-stderr bash -c "ulimit -v 65536; yes 'hello world' | head -c 120000000 | wb-truncate -r -q -e cl100k_base -b 5 -k tail"
	assert_success
	assert_output '...hello world'
}

@test "-r takes texts over the maximum record size, kept whole or cut" {
	under_tool && skip "a 70 MB text is slow under a sanitizer or valgrind"
	# 70 MB of white space counts 0 words: all of it fits and is printed.
	run --separate-stderr bash -c "head -c 70000000 /dev/zero | tr '\\0' ' ' | wb-truncate -r -q -m word -b 1 | wc -c"
	assert_success
	assert_output 70000000
	run --separate-stderr bash -c "yes 'hello world' | head -c 70000000 | wb-truncate -r -q -b 3 -k tail"
	assert_success
	assert_output '...hell'
}

@test "-r with bad UTF-8 deep in a long text writes nothing and names the offset" {
	run -65 --separate-stderr bash -c "{ yes 'hello world' | head -c 1000000; printf 'ab\\xff'; } | wb-truncate -r -b 3"
	assert_output ''
	assert_equal "$stderr" 'wb-truncate: stdin: invalid UTF-8 at byte offset 1000002'
	run -65 --separate-stderr bash -c "{ yes 'hello world' | head -c 1000000; printf 'ab\\xe2\\x82'; } | wb-truncate -r -b 3 -k tail -e cl100k_base"
	assert_output ''
	assert_equal "$stderr" 'wb-truncate: stdin: invalid UTF-8 at byte offset 1000002: truncated sequence'
}
