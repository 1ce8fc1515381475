#!/usr/bin/env bats
# scripts/bench-peers.js, which scripts/bench-tokenizers runs for each peer:
# Hugging Face's tokenizers on a tokenizer.json count what wb -T counts.
# (The whole benchmark takes minutes: make bench-tokenizers.)

load helper

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
}

@test "bench-peers.js hf-tokenizers counts a tokenizer.json as wb-count -T does" {
	node "$TOP/tests/tokenizer/synthetic.js" >"$BATS_TEST_TMPDIR/tok.json"
	printf 'hello world, hello\nabc[X]x<S> 日本語\n' >"$BATS_TEST_TMPDIR/text"
	WB_BENCH_NPM_PATHS=$T/node run --separate-stderr node "$TOP/scripts/bench-peers.js" \
	    hf-tokenizers "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/text" 2
	assert_success
	# Its special token <S> is ordinary text, as for wb without
	# --allow-special; the added token [X] that is not special splits out.
	want=$(wb-count -r -q -T "$BATS_TEST_TMPDIR/tok.json" <"$BATS_TEST_TMPDIR/text")
	[[ $want != "$(wb-count -r -q --allow-special -T "$BATS_TEST_TMPDIR/tok.json" <"$BATS_TEST_TMPDIR/text")" ]]
	assert_equal "$(jq -c '[.tool, .encoding, .bytes, .tokens, .runs]' <<<"$output")" \
	    "[\"hf-tokenizers\",\"tok.json\",$(wc -c <"$BATS_TEST_TMPDIR/text"),$want,2]"
}

@test "bench-peers.js says which peers it knows" {
	run -64 --separate-stderr node "$TOP/scripts/bench-peers.js" nothing x y 1
	[[ $stderr == *'hf-tokenizers | llama.cpp'* ]]
}
