#!/usr/bin/env bats
# wb-count: counting, limits, raw input, and bad input.

load helper

@test "char method counts 20 characters as 5 tokens" {
	run --separate-stderr wb-count -m char <<<'{"text":"12345678901234567890"}'
	assert_success
	assert_output '{"text":"12345678901234567890","tokens":5}'
}

@test "word method counts five words as 7 tokens" {
	run --separate-stderr wb-count -m word <<<'{"text":"one two three four five"}'
	assert_success
	assert_output '{"text":"one two three four five","tokens":7}'
}

@test "hybrid is the default and counts the engine's sample sentence as 27" {
	run --separate-stderr wb-count <<<'{"text":"The quick brown fox jumps over the lazy dog. This is a sample sentence to test the token counting functionality."}'
	assert_success
	assert_output --partial '"tokens":27}'
}

@test "the llama preset uses 3.8 characters per token" {
	run --separate-stderr wb-count -m char -p llama <<<'{"text":"12345678901234567890"}'
	assert_output '{"text":"12345678901234567890","tokens":6}'
}

@test "counter parameters can be set one by one" {
	run --separate-stderr wb-count -m char --chars-per-token 2 <<<'{"text":"abcd"}'
	assert_output '{"text":"abcd","tokens":2}'
	run --separate-stderr wb-count -m word --tokens-per-word 2 <<<'{"text":"a b c"}'
	assert_output '{"text":"a b c","tokens":6}'
	run --separate-stderr wb-count --hybrid-threshold 3 <<<'{"text":"abcdefgh"}'
	assert_output '{"text":"abcdefgh","tokens":2}'
}

@test "other fields are kept and -f names the counted one" {
	run --separate-stderr wb-count -f body <<<'{"id":7,"body":"abcdefgh","text":5}'
	assert_success
	assert_output '{"id":7,"body":"abcdefgh","text":5,"tokens":2}'
}

@test "one output line per record, in order, for JSON Lines and pretty JSON" {
	run --separate-stderr wb-count <<<$'{"text":"a"}\n{\n  "text": "abcde"\n}\n{"text":""}'
	assert_success
	assert_line -n 0 '{"text":"a","tokens":1}'
	assert_line -n 1 '{"text":"abcde","tokens":2}'
	assert_line -n 2 '{"text":"","tokens":0}'
	assert_equal "${#lines[@]}" 3
}

@test "a NUL character inside a JSON string is counted" {
	run --separate-stderr wb-count -m char --chars-per-token 1 <<<'{"text":"a\u0000b"}'
	assert_success
	assert_output '{"text":"a\u0000b","tokens":3}'
}

@test "-l marks records over the limit and exits 1" {
	run -1 --separate-stderr wb-count -l 3 <<<$'{"text":"abcd"}\n{"text":"abcdefghijklmnopq"}'
	assert_line -n 0 '{"text":"abcd","tokens":1,"over_limit":false}'
	assert_line -n 1 '{"text":"abcdefghijklmnopq","tokens":5,"over_limit":true}'
	assert_equal "$stderr" ""
	# Counted again without -l: the old verdict does not stay behind.
	run --separate-stderr bash -c 'wb-count -l 3 <<<"{\"text\":\"abcdefghijklmnopq\"}" | wb-count'
	assert_success
	assert_output '{"text":"abcdefghijklmnopq","tokens":5}'
}

@test "-l prints the whole count past the limit, as without it" {
	text=$(head -c 400000 /dev/zero | tr '\0' 'a' | sed 's/aaaa/aaa /g')
	whole=$(wb-count -m word <<<"{\"text\":\"$text\"}" | jq .tokens)
	[ "$whole" -eq 133000 ]  # 100,000 words x 1.33
	run -1 --separate-stderr wb-count -m word -l 10 <<<"{\"text\":\"$text\"}"
	assert_equal "$(jq .tokens <<<"$output")" "$whole"
	assert_equal "$(jq .over_limit <<<"$output")" true
}

@test "-r counts all of stdin as one text" {
	run --separate-stderr wb-count -r -m char < <(printf '12345678901234567890')
	assert_success
	assert_output '{"tokens":5}'
	run --separate-stderr wb-count -r -q -m word < <(printf 'one two\nthree four five\n')
	assert_output '8'
}

@test "-r with -l exits 1 over the limit" {
	run -1 --separate-stderr wb-count -r -l 1 < <(printf 'abcdefghijkl')
	assert_output '{"tokens":3,"over_limit":true}'
}

@test "-r counts a 200 MB stream in constant memory" {
	under_tool && skip "memory limits do not apply under a sanitizer or valgrind"
	run --separate-stderr bash -c 'ulimit -v 65536; head -c 200000000 /dev/zero | tr "\0" a | wb-count -r -q -m char'
	assert_success
	assert_output 50000000
}

@test "-r rejects invalid UTF-8 naming the byte offset" {
	run -65 --separate-stderr wb-count -r < <(printf 'hello\xff world')
	assert_output ''
	assert_equal "$stderr" 'wb-count: stdin: invalid UTF-8 at byte offset 5'
}

@test "-r rejects text that ends inside a UTF-8 sequence" {
	run -65 --separate-stderr wb-count -r < <(printf 'ab\xe2\x82')
	assert_equal "$stderr" 'wb-count: stdin: invalid UTF-8 at byte offset 2: truncated sequence'
}

@test "empty input gives no output and exit 0" {
	run --separate-stderr wb-count </dev/null
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
}

@test "a line that is not JSON becomes an error record and later ones go on" {
	run -65 --separate-stderr wb-count <<<$'not json\n{"text":"abcd"}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"invalid JSON: invalid token near '"'"'not'"'"'"}}'
	assert_line -n 1 '{"text":"abcd","tokens":1}'
	assert_equal "$stderr" "wb-count: stdin:1: invalid JSON: invalid token near 'not'"
}

@test "a top-level array or number is a bad record" {
	run -65 --separate-stderr wb-count <<<$'[1,2]\n42'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"record is an array, not an object"}}'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"record is an integer, not an object"}}'
	assert_equal "${stderr_lines[1]}" 'wb-count: stdin:2: record is an integer, not an object'
}

@test "a missing or non-string field is a bad record" {
	run -65 --separate-stderr wb-count <<<$'{"txt":"a"}\n{"text":["a"]}'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"missing field \"text\""}}'
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"field \"text\" is an array, not a string"}}'
	assert_equal "${stderr_lines[0]}" 'wb-count: stdin:1: missing field "text"'
}

@test "a 100 MB record is refused with a clear error" {
	run -65 --separate-stderr bash -c '{ printf "{\"text\":\""; head -c 100000000 /dev/zero | tr "\0" a; printf "\"}\n{\"text\":\"ok\"}\n"; } | wb-count'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"record exceeds the maximum record size of 67108864 bytes (--max-record; -r reads a text of any size)"}}'
	assert_line -n 1 '{"text":"ok","tokens":1}'
	assert_equal "$stderr" 'wb-count: stdin:1: record exceeds the maximum record size of 67108864 bytes (--max-record; -r reads a text of any size)'
}

@test "--max-record sets the maximum record size" {
	run -65 --separate-stderr wb-count --max-record 1K <<<"{\"text\":\"$(printf '%02000d' 0)\"}"
	assert_output --partial 'maximum record size of 1024 bytes'
}

@test "an unknown option is a usage error" {
	run -64 --separate-stderr wb-count --frobnicate
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'wb-count: --frobnicate: unknown option'
	assert_equal "${stderr_lines[1]}" 'usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]'
}

@test "-l needs a number" {
	run -64 --separate-stderr wb-count -l
	assert_equal "${stderr_lines[0]}" 'wb-count: -l: needs a value'
	run -64 --separate-stderr wb-count -l 12x
	assert_equal "${stderr_lines[0]}" "wb-count: -l: '12x': not a number"
	run -64 --separate-stderr wb-count -l -3
	assert_equal "${stderr_lines[0]}" "wb-count: -l: '-3': not a number"
}

@test "a bad method or preset is a usage error" {
	run -64 --separate-stderr wb-count -m bytes
	assert_equal "${stderr_lines[0]}" "wb-count: -m: 'bytes': not char, word or hybrid"
	run -64 --separate-stderr wb-count -p gpt
	assert_equal "${stderr_lines[0]}" "wb-count: -p: 'gpt': not default or llama"
	run -64 --separate-stderr wb-count --chars-per-token 0
	assert_equal "${stderr_lines[0]}" "wb-count: --chars-per-token: expected a positive number, not '0'"
}

@test "-q without -r is a usage error" {
	run -64 --separate-stderr wb-count -q
	assert_equal "${stderr_lines[0]}" 'wb-count: -q: only with -r'
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr wb-count --help
	assert_success
	assert_line -n 0 'usage: wb-count [-m char|word|hybrid] [-p default|llama] [-e ENCODING]'
	assert_equal "$stderr" ''
}

@test "--version names the command and the version" {
	run --separate-stderr wb-count --version
	assert_success
	assert_output --regexp '^wb-count \(wb\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a write error on stdout exits 74" {
	run -74 --separate-stderr bash -c 'echo "{\"text\":\"a\"}" | wb-count >/dev/full'
	assert_equal "$stderr" 'wb-count: stdout: No space left on device'
}

@test "numbers in records print as short as they round-trip" {
	run --separate-stderr wb-count <<<'{"text":"a","x":0.1,"y":1E2,"n":-7}'
	assert_output '{"text":"a","x":0.1,"y":100.0,"n":-7,"tokens":1}'
	run --separate-stderr wb-count <<<'{"text":"a","z":0.30000000000000004}'
	assert_output '{"text":"a","z":0.30000000000000004,"tokens":1}'
	# Each number its own digits: 0.1 stays short beside one that needs 17.
	run --separate-stderr wb-count <<<'{"text":"a","x":0.1,"z":0.30000000000000004}'
	assert_output '{"text":"a","x":0.1,"z":0.30000000000000004,"tokens":1}'
}

@test "a UTF-8 byte order mark before a record is skipped" {
	run --separate-stderr wb-count < <(printf '\xef\xbb\xbf{"text":"a"}\n')
	assert_success
	assert_output '{"text":"a","tokens":1}'
	# Files that start with one, concatenated: each is skipped.
	run --separate-stderr wb-count < <(printf '\xef\xbb\xbf{"text":"a"}\n\xef\xbb\xbf{"text":"b"}\n')
	assert_success
	assert_equal "$output" $'{"text":"a","tokens":1}\n{"text":"b","tokens":1}'
}

@test "a mismatched bracket costs its line once" {
	run -65 --separate-stderr wb-count <<<$'{"a":[}],"text":"x"}\n{"text":"ok"}'
	assert_line -n 0 --partial '{"error":{"record":1,"line":1,'
	assert_line -n 1 '{"text":"ok","tokens":1}'
	assert_equal "${#lines[@]}" 2
}

@test "an oversized value cut by a read boundary does not eat the next record" {
	run -65 --separate-stderr bash -c '(printf "[1,2,3,4,5,6,7,8,9,\n"; sleep 0.3; printf "{\"text\":\"ok\"}\n") | wb-count --max-record 16'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"record exceeds the maximum record size of 16 bytes (--max-record; -r reads a text of any size)"}}'
	assert_line -n 1 '{"text":"ok","tokens":1}'
}

@test "absurd counter parameters cannot wrap a count" {
	run --separate-stderr wb-count -m word --tokens-per-word 1e300 <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","tokens":9007199254740992}'
}

@test "-f must be UTF-8" {
	run -64 --separate-stderr wb-count -f $'\xff'
	assert_equal "${stderr_lines[0]}" 'wb-count: -f: not UTF-8'
}

@test "--version and --help check stdout too" {
	run -74 --separate-stderr bash -c 'wb-count --version >/dev/full'
	assert_equal "$stderr" 'wb-count: stdout: No space left on device'
	run -74 --separate-stderr bash -c 'wb-count --help >/dev/full'
	assert_equal "$stderr" 'wb-count: stdout: No space left on device'
	run -74 --separate-stderr bash -c 'wb-count -r -q <<<"a b" >/dev/full'
	assert_equal "$stderr" 'wb-count: stdout: No space left on device'
}

@test "--ids with -r gives each input's ids, and a total after several" {
	printf 'hello world' >"$BATS_TEST_TMPDIR/a.txt"
	printf 'hi' >"$BATS_TEST_TMPDIR/b.txt"
	run --separate-stderr wb-count -r -M gpt-4o --ids < <(printf 'hello world')
	assert_success
	assert_output '{"ids":[24912,2375],"tokens":2}'
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr wb-count -r -M gpt-4o --ids -l 1 a.txt b.txt
	assert_failure 1
	assert_output '{"file":"a.txt","ids":[24912,2375],"tokens":2,"over_limit":true}
{"file":"b.txt","ids":[3686],"tokens":1,"over_limit":false}
{"total":{"texts":2,"tokens":3,"largest":{"file":"a.txt","tokens":2},"over":1}}'
}

@test "--ids with -r says an input that is not UTF-8 and goes on" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a\xffb' >bad.txt
	printf 'a\xe6\x97' >cut.txt
	printf 'hi' >b.txt
	run -65 --separate-stderr wb-count -r -M gpt-4o --ids bad.txt cut.txt b.txt
	assert_output '{"file":"b.txt","ids":[3686],"tokens":1}
{"total":{"texts":1,"tokens":1,"largest":{"file":"b.txt","tokens":1}}}'
	assert_equal "$stderr" 'wb-count: bad.txt: invalid UTF-8 at byte offset 1
wb-count: cut.txt: invalid UTF-8 at byte offset 1: truncated sequence'
}

@test "-q with --ids or --tokens is a usage error" {
	run -64 --separate-stderr wb-count -r -q -M gpt-4o --ids </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-count: --ids: not with -q, which prints the count alone'
	run -64 --separate-stderr wb-count -r -q -M gpt-4o --tokens </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-count: --tokens: not with -q, which prints the count alone'
	assert_output ''
}

@test "--tokens adds each token's text, and the bytes of a token that is part of a character" {
	# 🦜 is F0 9F A6 9C: o200k_base and cl100k_base cut it after two
	# bytes, the first two with the space before it.
	run --separate-stderr wb-count -M gpt-4o --tokens <<<'{"text":"hello 日本 🦜"}'
	assert_success
	assert_output '{"text":"hello 日本 🦜","token_texts":["hello"," 日本",[32,240,159],[166],[156]],"tokens":5}'
	# A backslash in a token is text: bytes are never written as escapes.
	run --separate-stderr wb-count -e cl100k_base --ids --tokens <<<'{"text":"a\\xe6 日本"}'
	assert_output '{"text":"a\\xe6 日本","ids":[64,45398,21,76502,22656],"token_texts":["a","\\xe","6"," 日","本"],"tokens":5}'
	run --separate-stderr wb-count -r -M gpt-4o --tokens < <(printf 'hi 🦜')
	assert_output '{"token_texts":["hi",[32,240,159],[166],[156]],"tokens":4}'
}

@test "--tokens and --decode with a tokenizer.json" {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}/llama3_1/tokenizer.json
	run --separate-stderr wb-count -T "$T" --ids --tokens <<<'{"text":"hi 🦜"}'
	assert_success
	assert_output '{"text":"hi 🦜","ids":[6151,11410,99,250],"token_texts":["hi",[32,240,159],[166],[156]],"tokens":4}'
	run --separate-stderr wb-count -T "$T" --decode <<<'{"ids":[6151,11410,99,250,128000]}'
	assert_output '{"ids":[6151,11410,99,250,128000],"text":"hi 🦜<|begin_of_text|>"}'
}

@test "--decode gives records their text at -f's field and keeps the rest" {
	run --separate-stderr wb-count -M gpt-4o --decode <<<'{"id":7,"ids":[24912,2375,199999]}'
	assert_success
	assert_output '{"id":7,"ids":[24912,2375,199999],"text":"hello world<|endoftext|>"}'
	run --separate-stderr wb-count -e cl100k_base --decode -f prompt.user <<<'{"ids":[15339],"prompt":{"user":"old"}}'
	assert_output '{"ids":[15339],"prompt":{"user":"hello"}}'
	run --separate-stderr wb-count -e cl100k_base --decode <<<'{"ids":[]}'
	assert_output '{"ids":[],"text":""}'
}

@test "--decode: ids that are not valid make a bad record, and the others go on" {
	run -65 --separate-stderr wb-count -M gpt-4o --decode <<'EOF2'
{"ids":[24912,300000]}
{"ids":[1.5]}
{"ids":[-1]}
{"ids":["5"]}
{"ids":[4294967296]}
{"ids":7}
{"text":"no ids"}
{"ids":[4103]}
{"ids":[4103,99,250]}
EOF2
	assert_equal "$stderr" 'wb-count: stdin:1: ids[1]: o200k_base has no token 300000
wb-count: stdin:2: ids[0]: not a token id (an integer from 0)
wb-count: stdin:3: ids[0]: not a token id (an integer from 0)
wb-count: stdin:4: ids[0]: not a token id (an integer from 0)
wb-count: stdin:5: ids[0]: not a token id (an integer from 0)
wb-count: stdin:6: field "ids" is not an array
wb-count: stdin:7: missing field "ids"
wb-count: stdin:8: ids: their bytes are not UTF-8 (at byte offset 0 of the text)'
	assert_line -n 8 '{"ids":[4103,99,250],"text":"🦜"}'
	assert_equal "${#lines[@]}" 9
}

@test "--decode needs an encoding and goes with no counting option" {
	run -64 --separate-stderr wb-count --decode </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-count: --decode: needs an encoding (-e, -M or -T)'
	run -64 --separate-stderr wb-count --tokens </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-count: --tokens: needs an encoding (-e, -M or -T)'
	for o in -C -l1 -r -R --ids --tokens; do
		run -64 --separate-stderr wb-count -M gpt-4o --decode "$o" </dev/null
		assert_equal "${stderr_lines[0]}" "wb-count: --decode: not with ${o%1}"
	done
}

@test "--ids then --decode gives back every text of the corpus" {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	corpus=$TOP/tests/tokenizer/corpus.jsonl
	n=$(wc -l <"$corpus")
	for c in "-M gpt-4o" "-e cl100k_base" "-T $T/llama3_1/tokenizer.json" "-T $T/gptoss/tokenizer.json"; do
		# shellcheck disable=SC2086
		run --separate-stderr bash -c "wb-count $c --ids <'$corpus' |
		    jq -c '{name, want: .text, ids}' | wb-count $c --decode |
		    jq -s 'map(select(.text == .want)) | length'"
		assert_success
		assert_output "$n"
	done
}

@test "-j needs a number of threads from 1, and -r" {
	run -64 --separate-stderr wb-count -r -j 0 </dev/null
	assert_equal "${stderr_lines[0]}" "wb-count: -j: '0': out of range 1 to 1024"
	run -64 --separate-stderr wb-count -r -j x </dev/null
	assert_equal "${stderr_lines[0]}" "wb-count: -j: 'x': not a number"
	run -64 --separate-stderr wb-count -j 2 </dev/null
	assert_equal "${stderr_lines[0]}" 'wb-count: -j: only with -r'
}

# A file of 64 MiB, the smallest that -r counts in parts: the same line
# over and over, in several scripts, whole lines.
big_file() {
	[ -z "${WB_VALGRIND:-}" ] || skip "64 MiB under memcheck takes too long"
	local line='The quick brown fox — «Über» 日本語のテキスト, Ελληνικά, русский; x = f(y) + 42;'
	local n=$(( (64 << 20) / (${#line} + 1) + 2 ))
	yes "$line" | head -n "$n" >"$BATS_TEST_TMPDIR/big"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/big")" -ge $((64 << 20)) ]
}

@test "-r counts a file of 64 MiB in parts on threads, as one thread counts it" {
	big_file
	for c in "" "-m char" "-e cl100k_base"; do
		# shellcheck disable=SC2086
		one=$(wb-count -r -q -j 1 $c <"$BATS_TEST_TMPDIR/big")
		# shellcheck disable=SC2086
		run --separate-stderr wb-count -r -q -j 3 $c "$BATS_TEST_TMPDIR/big"
		assert_success
		assert_output "$one $BATS_TEST_TMPDIR/big"
		# shellcheck disable=SC2086
		run --separate-stderr wb-count -r -q $c <"$BATS_TEST_TMPDIR/big"
		assert_output "$one"
		# shellcheck disable=SC2086
		run --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR/big' | wb-count -r -q $c"
		assert_output "$one"
	done
}

@test "-r counts stdin in parts from where its offset is" {
	big_file
	want=$(tail -c +12 "$BATS_TEST_TMPDIR/big" | wb-count -r -q -e cl100k_base)
	run --separate-stderr bash -c "{ dd bs=11 count=1 of=/dev/null 2>/dev/null
	    wb-count -r -q -j 2 -e cl100k_base; } <'$BATS_TEST_TMPDIR/big'"
	assert_success
	assert_output "$want"
}

@test "-r in parts takes threads only for large regular files and -j above 1" {
	! under_tool || skip "a sanitizer's or memcheck's own threads"
	command -v strace >/dev/null || skip "no strace"
	big_file
	threads() {  # the threads wb-count starts
		strace -f -e trace=clone,clone3 -o "$BATS_TEST_TMPDIR/trace" \
		    wb-count "$@" >/dev/null
		grep -c 'clone' "$BATS_TEST_TMPDIR/trace" || true
	}
	run threads -r -q -j 2 "$BATS_TEST_TMPDIR/big"
	assert_output 1
	run threads -r -q -j 1 "$BATS_TEST_TMPDIR/big"
	assert_output 0
	head -c 1000 "$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/small"
	run threads -r -q -j 2 "$BATS_TEST_TMPDIR/small"
	assert_output 0
}

@test "-r in parts says bad UTF-8 at its offset in the whole file" {
	big_file
	# After a whole line: the line's first byte, then 0xFF.
	off=$(head -c 50000000 "$BATS_TEST_TMPDIR/big" | wc -l)
	off=$(head -n "$off" "$BATS_TEST_TMPDIR/big" | wc -c)
	printf 'T\xff' | dd of="$BATS_TEST_TMPDIR/big" bs=1 seek="$off" conv=notrunc 2>/dev/null
	for c in "" "-e cl100k_base"; do
		# shellcheck disable=SC2086
		run -65 --separate-stderr wb-count -r -q -j 2 $c "$BATS_TEST_TMPDIR/big"
		assert_output ''
		assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/big: invalid UTF-8 at byte offset $((off + 1))"
	done
}
