#!/usr/bin/env bats
# -T reads untrusted files: what the fuzz harness fuzz-hf found, and the
# shapes it was pointed at (huge ids, deep JSON, names with newlines),
# each refused with one line and exit 65, never a crash.

load helper

# tests/tokenizer/synthetic.js's tokenizer.json through the jq filter $1,
# in $BATS_TEST_TMPDIR/tok.json.
synthetic() {
	node "$TOP/tests/tokenizer/synthetic.js" | jq -c "${1:-.}" >"$BATS_TEST_TMPDIR/tok.json"
}

# wb-count -T on file $1 fails with 65 and the one-line message $2 (after
# the file name).
refused() {
	run -65 --separate-stderr wb-count -T "$1" <<<'{"text":"hi"}'
	assert_output ''
	assert_equal "$stderr" "wb-count: $1: $2"
}

@test "a name with a newline in a GGUF file is said on one line" {
	refused "$TOP/tests/fuzz/corpus/fuzz-hf/pre-newline.gguf" \
	    'pre-tokenizer ?lama-bpe is not supported (only those llama.cpp splits as Llama 3, Qwen 2, DeepSeek V3, gpt-4o, Tekken or GPT-2 do)'
	synthetic '.model.type = "BP\nE"'
	refused "$BATS_TEST_TMPDIR/tok.json" 'model BP?E is not supported (only byte-level BPE)'
}

@test "two added tokens of one id are refused: their ids would not decode back" {
	synthetic '.added_tokens[1].id = 300'
	refused "$BATS_TEST_TMPDIR/tok.json" 'added tokens [X] and <S> have the same id 300'
}

@test "an id far past the number of tokens is refused before tables that large are made" {
	synthetic '.model.vocab.abc = 60000000'
	refused "$BATS_TEST_TMPDIR/tok.json" 'model.vocab: id 60000000 for 263 tokens'
}

@test "JSON nested past any tokenizer's depth is bad input, not a crash" {
	{ printf '{"model": '; head -c 200000 /dev/zero | tr '\0' '['; } >"$BATS_TEST_TMPDIR/deep.json"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/deep.json" <<<'{"text":"hi"}'
	[[ $stderr == "wb-count: $BATS_TEST_TMPDIR/deep.json:1:"* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}
