#!/usr/bin/env bats
# Reading JSON as jq reads it: any layout, text sequences, plain text.

load helper

@test "a document pretty-printed with indent=0 is one record" {
	# As Python's json.dumps(..., indent=0) writes it: nested values in
	# column 1.
	doc='{
"text": "a b",
"nested": {
"x": [
{
"y": 1
},
{
"z": [
1,
2
]
}
]
},
"l": [
[
1
],
[
2
]
]
}'
	run --separate-stderr wb-count -m word <<<"$doc"$'\n'"$doc"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" '{"text":"a b","nested":{"x":[{"y":1},{"z":[1,2]}]},"l":[[1],[2]],"tokens":3}'
}

@test "a top-level array in indent=0 layout is one (bad) record, not several" {
	run --separate-stderr wb-count <<<$'[\n{"a":1},\n{"b":2}\n]\n{"text":"x"}'
	assert_failure 65
	assert_equal "$stderr" "wb-count: stdin:1: record is an array, not an object"
	assert_equal "${#lines[@]}" 2
}

@test "a broken value gives back the records after it, even when cut in two reads" {
	run --separate-stderr wb-count -m word <<<$'[1,2,\n{"text":"b"}\n{"text":"c"}'
	assert_failure 65
	assert_equal "$(jq -c '.tokens // "bad"' <<<"$output" | paste -sd,)" '"bad",2,2'
	run --separate-stderr bash -c '(printf "[1,2,3,4,5,6,7,8,9,\n"; sleep 0.3; printf "{\"text\":\"ok\"}\n") | wb-count --max-record 16'
	assert_failure 65
	assert_equal "${lines[1]}" '{"text":"ok","tokens":1}'
}

@test "a broken line still costs that line only, even ending in a comma" {
	run --separate-stderr wb-count -m word <<-'EOF2'
	{"text":"a",
	{"text":"b"}
	{"text":"c"
	{"text":"d"}
	EOF2
	assert_failure 65
	assert_equal "$(jq -c 'if .error then "bad" else .text end' <<<"$output" | paste -sd,)" '"bad","b","bad","d"'
}

@test "JSON text sequences (RFC 7464, jq --seq) are read, a cut one is bad" {
	run --separate-stderr bash -c 'printf "\x1e{\"text\":\"a\"}\n\x1e{\"text\":\n\x1e{\"text\":\"b c\"}\n" | wb-count -m word'
	assert_failure 65
	assert_equal "$(jq -c '.tokens // "bad"' <<<"$output" | paste -sd,)" '2,"bad",3'
	run --separate-stderr bash -c 'jq -nc --seq "{text: \"x y\"}, {text: \"z\"}" | wb-count -m word'
	assert_success
	assert_equal "$(jq -c .tokens <<<"$output" | paste -sd,)" 3,2
}

@test "plain text gets one hint to use -r or -R, not one per line" {
	run --separate-stderr wb-count <<<$'hello world\nsecond line\nthird'
	assert_failure 65
	assert_equal "${stderr_lines[0]}" "wb-count: stdin:1: invalid JSON: invalid token near 'hello' (plain text? -r reads each input as one text, -R each line)"
	assert_equal "${stderr_lines[1]}" "wb-count: stdin:2: invalid JSON: invalid token near 'second'"
	run --separate-stderr wb-budget <<<'hello world'
	assert_equal "$stderr" "wb-budget: stdin:1: invalid JSON: invalid token near 'hello'"
}

@test "a record over the maximum names --max-record, and -r where it exists" {
	run --separate-stderr wb-count --max-record 16 <<<'{"text":"a long text here"}'
	assert_equal "$stderr" "wb-count: stdin:1: record exceeds the maximum record size of 16 bytes (--max-record; -r reads a text of any size)"
	run --separate-stderr wb-budget --max-record 16 <<<'{"sections":{"scene":"a long text"}}'
	assert_equal "$stderr" "wb-budget: stdin:1: record exceeds the maximum record size of 16 bytes (--max-record)"
}

@test "-R reads each line as a text, with its file and line" {
	printf 'hello world\nthe quick brown fox\n' >"$BATS_TEST_TMPDIR/l.txt"
	run --separate-stderr wb-count -R -m word "$BATS_TEST_TMPDIR/l.txt"
	assert_success
	assert_equal "${lines[1]}" "{\"file\":\"$BATS_TEST_TMPDIR/l.txt\",\"line\":2,\"text\":\"the quick brown fox\",\"tokens\":6}"
	run --separate-stderr bash -c 'printf "a b\n\xff\nc\n" | wb-count -R -m word'
	assert_failure 65
	assert_equal "${lines[0]}" '{"line":1,"text":"a b","tokens":3}'
	assert_equal "${lines[1]}" '{"error":{"record":2,"line":2,"message":"invalid UTF-8 at byte offset 0 of the line"}}'
	assert_equal "${lines[2]}" '{"line":3,"text":"c","tokens":2}'
	run --separate-stderr bash -c 'printf "one two three\n" | wb-truncate -R -m word -b 2 -f t'
	assert_output '{"line":1,"t":"one...","original_tokens":4,"final_tokens":2,"was_truncated":true,"budget":2}'
	run -64 --separate-stderr wb-count -R -r
	assert_equal "${stderr_lines[0]}" "wb-count: -R: not with -r"
}
