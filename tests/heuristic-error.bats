#!/usr/bin/env bats
# scripts/heuristic-error: the error of each heuristic method against the
# exact tokenizers, on corpora made here (-c DIR).

load helper

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	D=$BATS_TEST_TMPDIR/corpus
	mkdir -p "$D"
	# 100 × "hello world\n": 1200 characters, 200 words, 100 newlines;
	# 300 tokens in every tokenizer.
	yes 'hello world' | head -n 100 >"$D/english.txt"
	yes 'int main(void) { return 0; }' | head -n 50 >"$D/code.txt"
	yes 'время человек 时间 人' | head -n 50 >"$D/multilingual.txt"
}

@test "heuristic-error gives each method's error against each exact tokenizer" {
	run --separate-stderr "$TOP/scripts/heuristic-error" -c "$D"
	assert_success
	# char: 1200 / 4 = 300; word: 200 × 1.33 + 100 / 2 = 316; llama: 1200 /
	# 3.8 = 316, 200 × 1.25 + 50 = 300.
	assert_line '| english 0.0 MB | cl100k_base | 300 | +0.0 % | +5.3 % | +5.3 % | +0.0 % |'
	assert_line '| multilingual 0.0 MB | cl100k_base | 550 | -56.7 % | -47.1 % | -54.5 % | -50.0 % |'
	assert_line '| multilingual 0.0 MB | o200k_base | 300 | -20.7 % | -3.0 % | -16.7 % | -8.3 % |'
	for f in "$T"/*/tokenizer.json; do
		d=${f%/tokenizer.json}
		# SentencePiece-style vocabularies (phi3 is made of Mistral's) split
		# the code finer
		case ${d##*/} in mistral | gemma3 | phi3) want=600 ;; *) want=500 ;; esac
		assert_line --partial "| code 0.0 MB | ${d##*/} (tokenizer.json) | $want |"
	done
	[ "$(grep -c '^| [a-z]* 0.0 MB |' <<<"$output")" -eq $((3 * (3 + $(ls "$T"/*/tokenizer.json | wc -l)))) ]
}

@test "heuristic-error leaves out what it cannot load, and says so" {
	mkdir -p "$BATS_TEST_TMPDIR/toks/broken"
	echo '{' >"$BATS_TEST_TMPDIR/toks/broken/tokenizer.json"
	WB_TOKENIZERS_DIR=$BATS_TEST_TMPDIR/toks run --separate-stderr "$TOP/scripts/heuristic-error" -c "$D"
	assert_success
	[[ $stderr == *"broken/tokenizer.json: left out: "* ]]
	refute_line --partial 'broken'
	assert_line '| english 0.0 MB | llama3 | 300 | +0.0 % | +5.3 % | +5.3 % | +0.0 % |'
}
