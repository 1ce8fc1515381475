#!/usr/bin/env bats
# FILE operands, -, --files-from and -r over many files, in every command.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf '{"text":"one two"}\n{"text":"three"}\n' >a.jsonl
	printf '{"text":"four"}\nnot json\n{"text":"five six seven"}\n' >b.jsonl
	printf 'hello world\n' >a.txt
	printf 'one two three four five six\n' >b.txt
	printf '\x89PNG\r\n\x1a\n' >c.png
}

@test "records are read from each FILE in turn, and - is stdin" {
	run --separate-stderr bash -c 'echo "{\"text\":\"x\"}" | wb-count -m word a.jsonl - a.jsonl'
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_equal "$(jq -c .tokens <<<"$output" | paste -sd,)" 3,2,2,3,2
}

@test "a bad record names its file and line, in the message and the error record" {
	run --separate-stderr wb-count -m word a.jsonl b.jsonl
	assert_failure 65
	assert_equal "$stderr" "wb-count: b.jsonl:2: invalid JSON: invalid token near 'not'"
	assert_equal "${lines[3]}" '{"error":{"file":"b.jsonl","record":2,"line":2,"message":"invalid JSON: invalid token near '"'not'"'"}}'
	assert_equal "${lines[4]}" '{"text":"five six seven","tokens":4}'
}

@test "a file that cannot be opened is said, the others still read, exit 66" {
	mkdir dir
	run --separate-stderr wb-count -m word nope.jsonl a.jsonl dir
	assert_failure 66
	assert_equal "${stderr_lines[0]}" "wb-count: nope.jsonl: No such file or directory"
	assert_equal "${stderr_lines[1]}" "wb-count: dir: Is a directory"
	assert_equal "${#lines[@]}" 2
}

@test "--files-from reads names by line, or by NUL with -0, after the operands" {
	printf 'a.jsonl\n\nb.txt\n' >list
	run --separate-stderr wb-count -r -q --files-from list a.txt
	assert_success
	assert_output "$(printf '3 a.txt\n9 a.jsonl\n7 b.txt\n19 total')"
	run --separate-stderr bash -c 'printf "a.txt\0b.txt\0" | wb-count -r -q -0 --files-from -'
	assert_output "$(printf '3 a.txt\n7 b.txt\n10 total')"
	run -64 --separate-stderr wb-count -r -0 a.txt
	assert_equal "${stderr_lines[0]}" "wb-count: -0: only with --files-from"
	run -66 --separate-stderr wb-count -r --files-from nope
	assert_equal "$stderr" "wb-count: --files-from: nope: No such file or directory"
}

@test "-r counts each file whole, then a total that select(.file) leaves out" {
	run --separate-stderr wb-count -r a.txt b.txt
	assert_success
	assert_equal "${lines[0]}" '{"file":"a.txt","tokens":3}'
	assert_equal "${lines[1]}" '{"file":"b.txt","tokens":7}'
	assert_equal "${lines[2]}" '{"total":{"texts":2,"tokens":10,"largest":{"file":"b.txt","tokens":7}}}'
	assert_equal "$(wb-count -r a.txt b.txt | jq -c 'select(.file) | .tokens' | paste -sd,)" 3,7
	run --separate-stderr wb-count -r <a.txt
	assert_output '{"tokens":3}'
}

@test "-r skips a file that is not UTF-8, names it and its offset, exit 65" {
	run --separate-stderr wb-count -r a.txt c.png b.txt
	assert_failure 65
	assert_equal "$stderr" "wb-count: c.png: invalid UTF-8 at byte offset 0"
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[2]}" '{"total":{"texts":2,"tokens":10,"largest":{"file":"b.txt","tokens":7}}}'
}

@test "-l: the count printed is the whole count in every mode, and CI gets a summary" {
	yes 'word' | head -n 5000 >big.txt
	whole=$(wb-count -r -q big.txt | cut -d' ' -f1)
	[ "$whole" -gt 1000 ]
	run --separate-stderr wb-count -r -q -l 1000 big.txt
	assert_failure 1
	assert_output "$whole big.txt"
	run --separate-stderr wb-count -r -l 1000 <big.txt
	assert_output "{\"tokens\":$whole,\"over_limit\":true}"
	run --separate-stderr bash -c 'jq -Rsc "{text: .}" big.txt | wb-count -l 1000 | jq .tokens'
	assert_output "$whole"
	run --separate-stderr wb-count -r -l 5 a.txt big.txt b.txt
	assert_failure 1
	assert_equal "$stderr" "wb-count: 2 of 3 texts over 5 tokens; the largest: big.txt ($whole)"
	assert_equal "${lines[3]}" "{\"total\":{\"texts\":3,\"tokens\":$((whole + 10)),\"largest\":{\"file\":\"big.txt\",\"tokens\":$whole},\"over\":2}}"
}

@test "wb-truncate -r writes one record per file; -q takes one input" {
	run --separate-stderr wb-truncate -m word -r -b 2 a.txt b.txt
	assert_success
	assert_equal "$(jq -c '[.file, .final_tokens]' <<<"$output" | paste -sd,)" '["a.txt",2],["b.txt",2]'
	run --separate-stderr wb-truncate -m word -r -q -b 2 b.txt
	assert_output 'one...'
	run -64 --separate-stderr wb-truncate -r -q -b 2 a.txt b.txt
	assert_equal "${stderr_lines[0]}" "wb-truncate: -q: with one input only"
}

@test "wb-budget, wb-prompt and wb-broadcast read FILE operands too" {
	echo '{"sections":{"scene":"a b c d e f"}}' >s.jsonl
	run --separate-stderr wb-budget -m word -s scene=3 s.jsonl s.jsonl
	assert_success
	assert_equal "${#lines[@]}" 2
	run --separate-stderr wb-prompt "$TOP/examples/request.json" nope.json
	assert_failure 66
	assert_equal "$(jq -r '.system_prompt | length > 0' <<<"$output")" true
	echo '{"type":"WorldDataChanged","world_id":"w"}' >m.jsonl
	run --separate-stderr wb-broadcast -n m.jsonl m.jsonl
	assert_success
	assert_equal "${#lines[@]}" 2
}
