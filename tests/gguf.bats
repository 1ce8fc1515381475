#!/usr/bin/env bats
# -T FILE.gguf and -M ollama:NAME: exact tokens of a GGUF file's byte-level
# BPE tokenizer, as llama.cpp tokenizes with it.  The GGUF files are made
# from tokenizer.json files (tests/tokenizer/mkgguf.js --from, laid out as
# llama.cpp's convert_hf_to_gguf.py does): those of Llama 3.1, gpt-oss,
# Qwen 3, DeepSeek V3 and Tekken by make test, in build/tokenizers/gguf, with the
# ids llama.cpp gives for them (tests/tokenizer/expect-llamacpp.js); others
# here.

load helper

setup_file() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/llama3_1/tokenizer.json" \
	    llama-bpe "$BATS_FILE_TMPDIR/llama3.gguf"
}

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	G=$BATS_FILE_TMPDIR/llama3.gguf
}

# The GGUF file of tests/tokenizer/synthetic.js's tokenizer.json with the
# pre-tokenizer $1, in $BATS_TEST_TMPDIR/tok.gguf (the JSON in tok.json).
synthetic() {
	node "$TOP/tests/tokenizer/synthetic.js" >"$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/tok.json" \
	    "$1" "$BATS_TEST_TMPDIR/tok.gguf"
}

# An Ollama models directory $BATS_TEST_TMPDIR/ollama in OLLAMA_MODELS
# where the model $1 (library/$1:latest) is the file $2.
ollama_install() {
	local d=$BATS_TEST_TMPDIR/ollama sum
	sum=$(sha256sum "$2" | cut -d' ' -f1)
	mkdir -p "$d/blobs" "$d/manifests/registry.ollama.ai/library/$1"
	cp "$2" "$d/blobs/sha256-$sum"
	printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":%d}]}\n' \
	    "$sum" "$(stat -c %s "$2")" >"$d/manifests/registry.ollama.ai/library/$1/latest"
	export OLLAMA_MODELS=$d
}

@test "-T FILE.gguf gives the ids of llama.cpp for Llama 3.1, gpt-oss (gpt-4o), Qwen 3, DeepSeek V3 and Tekken" {
	for f in llama3_1 gptoss qwen3 deepseek_v3 tekken; do
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			jq -c "select(.file == \"$f\" and .special == $s) | .ids" "$T/expect-llamacpp.jsonl" >"$BATS_TEST_TMPDIR/want"
			jq -c "select(.file == \"$f\" and .special == $s) | {text}" "$T/expect-llamacpp.jsonl" |
			    wb-count -T "$T/gguf/$f.gguf" $flag --ids | jq -c .ids >"$BATS_TEST_TMPDIR/got"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 1300 ]
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
		# the ids decode to the text
		jq -c "select(.file == \"$f\" and .special == 1) | {ids}" "$T/expect-llamacpp.jsonl" |
		    wb-count -T "$T/gguf/$f.gguf" --decode | jq -c .text >"$BATS_TEST_TMPDIR/got"
		jq -c "select(.file == \"$f\" and .special == 1) | .text" "$T/expect-llamacpp.jsonl" >"$BATS_TEST_TMPDIR/want"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run --separate-stderr wb-count -T "$G" --ids --allow-special <<<'{"text":"<|begin_of_text|>hello world<|eot_id|>"}'
	assert_output '{"text":"<|begin_of_text|>hello world<|eot_id|>","ids":[128000,15339,1917,128009],"tokens":4}'
}

@test "-T FILE.gguf byte-level: llama.cpp's types by text (end of generation, fill in the middle) with and without --allow-special" {
	# Qwen's fill-in-the-middle tokens are not special in its tokenizer.json
	# and user-defined in files of older converters; llama.cpp makes them
	# control when it loads the file (unless a key names the role's token:
	# <|fim_prefix|> in b.gguf), as it does <|im_end|> and <|endoftext|>
	# (ending generation) and </s>, which Qwen has as an ordinary token.
	user=
	for t in '<|fim_prefix|>' '<|fim_middle|>' '<|fim_suffix|>' '<|fim_pad|>' '<|repo_name|>' \
	    '<|file_sep|>' '<|im_end|>' '<|endoftext|>' '<|im_start|>'; do
		user="$user --user $t"
	done
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/qwen3/tokenizer.json" qwen2 "$BATS_TEST_TMPDIR/a.gguf" $user
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/qwen3/tokenizer.json" qwen2 "$BATS_TEST_TMPDIR/b.gguf" $user \
	    --u32 tokenizer.ggml.fim_pre_token_id=151659 --u32 tokenizer.ggml.fim_pad_token_id=999999
	cat >"$BATS_TEST_TMPDIR/texts" <<-'EOF'
	{"name":"fim","text":"def f(x):<|fim_prefix|>    return x<|fim_suffix|>\n<|fim_middle|> pass"}
	{"name":"repo","text":"<|repo_name|>wb\n<|file_sep|>lib/spm.c\nint x;<|fim_pad|><|fim_pad|> end"}
	{"name":"eog","text":"hello<|im_end|>\n<|im_start|>user <|endoftext|>x</s> </s>y"}
	{"name":"user","text":"a <think>b</think> <tool_call>{}</tool_call>"}
	EOF
	for f in a b; do
		node "$TOP/tests/tokenizer/expect-llamacpp.js" "$T" "$f" "$BATS_TEST_TMPDIR/$f.gguf" \
		    "$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/$f.ref" 2>/dev/null
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			jq -c "select(.special == $s) | .ids" "$BATS_TEST_TMPDIR/$f.ref" >"$BATS_TEST_TMPDIR/want"
			jq -c "select(.special == $s) | {text}" "$BATS_TEST_TMPDIR/$f.ref" |
			    wb-count -T "$BATS_TEST_TMPDIR/$f.gguf" $flag --ids | jq -c .ids >"$BATS_TEST_TMPDIR/got"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 60 ]
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
	done
	# the control ones are text without --allow-special, the others split out
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/a.gguf" --ids <<<'{"text":"<|im_start|><|fim_pad|>"}'
	assert_output '{"text":"<|im_start|><|fim_pad|>","ids":[151644,27,91,69,318,30290,91,29],"tokens":8}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/a.gguf" --ids --allow-special <<<'{"text":"<|im_start|><|fim_pad|>"}'
	assert_output '{"text":"<|im_start|><|fim_pad|>","ids":[151644,151662],"tokens":2}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/b.gguf" --ids <<<'{"text":"<|fim_prefix|><|fim_pad|>"}'
	assert_output '{"text":"<|fim_prefix|><|fim_pad|>","ids":[151659,27,91,69,318,30290,91,29],"tokens":8}'
}

@test "GGUF follows llama.cpp where it differs from tokenizer.json: no NFC, marks, Unicode 15.1" {
	# qwen2: llama.cpp skips the NFC normalizer of Qwen's tokenizer.json
	run --separate-stderr wb-count -T "$T/gguf/qwen3.gguf" --ids <<<'{"text":"cafe\u0301"}'
	assert_output $'{"text":"cafe\u0301","ids":[924,1859,53839],"tokens":3}'
	run --separate-stderr wb-count -T "$T/qwen3/tokenizer.json" --ids <<<'{"text":"cafe\u0301"}'
	assert_output $'{"text":"cafe\u0301","ids":[924,58858],"tokens":2}'
	# gpt-4o: a combining mark is no part of a word in llama.cpp
	run --separate-stderr wb-count -T "$T/gguf/gptoss.gguf" --ids <<<'{"text":"नमस्ते"}'
	assert_output '{"text":"नमस्ते","ids":[998,1637,1496,4385,628],"tokens":5}'
	run --separate-stderr wb-count -T "$T/gptoss/tokenizer.json" --ids <<<'{"text":"नमस्ते"}'
	assert_output '{"text":"नमस्ते","ids":[998,1637,14681,628],"tokens":4}'
	# and in a tekken word
	run --separate-stderr wb-count -T "$T/gguf/tekken.gguf" --ids <<<'{"text":"नमस्ते"}'
	assert_output '{"text":"नमस्ते","ids":[2485,3525,3053,6660,1803],"tokens":5}'
	run --separate-stderr wb-count -T "$T/tekken/tokenizer.json" --ids <<<'{"text":"नमस्ते"}'
	assert_output '{"text":"नमस्ते","ids":[2485,3525,22475,1803],"tokens":4}'
	# Garay (Unicode 16.0) is no letter in llama.cpp's tables (15.1): 's
	# after it is no contraction
	run --separate-stderr wb-count -T "$T/gguf/llama3_1.gguf" --ids <<<"{\"text\":\"\\ud803\\udd50's\"}"
	assert_output "{\"text\":\"𐵐's\",\"ids\":[172,238,113,238,6,82],\"tokens\":6}"
	run --separate-stderr wb-count -T "$T/llama3_1/tokenizer.json" --ids <<<"{\"text\":\"\\ud803\\udd50's\"}"
	assert_output "{\"text\":\"𐵐's\",\"ids\":[172,238,113,238,596],\"tokens\":5}"
}

@test "DeepSeek V3 splits a run of CJK characters again: ・ and ゛ are pieces of their own" {
	for f in "$T/deepseek_v3/tokenizer.json" "$T/gguf/deepseek_v3.gguf"; do
		run --separate-stderr wb-count -T "$f" --ids <<<'{"text":"ジョン・スミス"}'
		assert_output '{"text":"ジョン・スミス","ids":[15124,71802,4919,4825,6421,24338,6421],"tokens":7}'
		run --separate-stderr wb-count -T "$f" --ids <<<'{"text":"か゛き"}'
		assert_output '{"text":"か゛き","ids":[4196,665,252,6155],"tokens":4}'
	done
}

@test "-T tells a GGUF file from a tokenizer.json by its content, not its name" {
	cp "$G" "$BATS_TEST_TMPDIR/model.json"
	cp "$T/llama3_1/tokenizer.json" "$BATS_TEST_TMPDIR/tokenizer.gguf"
	for f in model.json tokenizer.gguf; do
		run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/$f" --ids <<<'{"text":"hello world"}'
		assert_success
		assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	done
}

@test "GGUF: user-defined tokens split out always, control tokens with --allow-special only" {
	synthetic llama-bpe
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.gguf" --ids <<<'{"text":"hello\nabc[X]x<S>"}'
	assert_success
	assert_output '{"text":"hello\nabc[X]x<S>","ids":[259,10,260,300,120,60,83,62],"tokens":8}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.gguf" --ids --allow-special <<<'{"text":"hello\nabc[X]x<S>"}'
	assert_output '{"text":"hello\nabc[X]x<S>","ids":[259,10,260,300,120,301],"tokens":6}'
}

@test "GGUF llama-bpe splits contractions in ASCII only, as llama.cpp does: 'ſa is one piece" {
	synthetic llama-bpe
	# tokenizer.json's (?i:'s|...) takes 'ſ as a contraction; llama.cpp's
	# (?:'[sS]|...) does not, so ſa merges to one token (271).
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"'"'"'ſa"}'
	assert_output '{"text":"'"'"'ſa","ids":[39,270,97],"tokens":3}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.gguf" --ids <<<'{"text":"'"'"'ſa"}'
	assert_output '{"text":"'"'"'ſa","ids":[39,271],"tokens":2}'
}

@test "GGUF gpt-2 merges a piece that is a token, as llama.cpp does without ignore_merges" {
	# "abc" is a token that no merge makes: llama-bpe takes it whole.
	synthetic gpt-2
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.gguf" --ids <<<'{"text":"abc\nhello"}'
	assert_success
	assert_output '{"text":"abc\nhello","ids":[97,98,99,10,259],"tokens":5}'
	synthetic llama-bpe
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.gguf" --ids <<<'{"text":"abc\nhello"}'
	assert_output '{"text":"abc\nhello","ids":[260,10,259],"tokens":3}'
}

@test "-M ollama:NAME counts with the installed model's GGUF file, as WB_MODEL and counter.model do" {
	ollama_install tiny "$G"
	for m in ollama:tiny ollama:tiny:latest ollama:library/tiny; do
		run --separate-stderr wb-count -M "$m" --ids <<<'{"text":"hello world"}'
		assert_success
		assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	done
	run --separate-stderr env WB_MODEL=ollama:tiny wb-count --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	printf 'counter:\n  model: ollama:tiny\n' >"$BATS_TEST_TMPDIR/c.yaml"
	run --separate-stderr wb-budget -c "$BATS_TEST_TMPDIR/c.yaml" -s scene=100 <<<'{"sections":{"scene":"hello world, hello"}}'
	assert_output --partial '"scene":{"original_tokens":4,'
}

@test "-M ollama:NAME: a model not installed is 66, a blob that is not GGUF 65" {
	ollama_install tiny "$G"
	run -66 --separate-stderr wb-count -M ollama:other <<<'{"text":"hi"}'
	assert_output ''
	assert_equal "$stderr" "wb-count: ollama:other: not installed: no manifest $OLLAMA_MODELS/manifests/registry.ollama.ai/library/other/latest"
	ollama_install json "$T/llama3_1/tokenizer.json"
	run -65 --separate-stderr wb-count -M ollama:json <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: ollama:json: $OLLAMA_MODELS/blobs/sha256-$(sha256sum "$T/llama3_1/tokenizer.json" | cut -d' ' -f1): not a GGUF file"
}

@test "GGUF: what is not byte-level BPE with a known split is refused, naming it, with exit 65" {
	node "$TOP/tests/tokenizer/mkgguf.js" "$BATS_TEST_TMPDIR/m"
	refused() {
		run -65 --separate-stderr wb-count -T "$1" <<<'{"text":"hi"}'
		assert_output ''
		assert_equal "$stderr" "wb-count: $1: $2"
	}
	refused "$BATS_TEST_TMPDIR/m/tensor.gguf" 'no tokenizer in the file (no tokenizer.ggml.model)'
	refused "$BATS_TEST_TMPDIR/m/llama.gguf" 'tokenizer.ggml.tokens: no token for the byte 0x00 (<0x00>), which the byte fallback needs'
	perl -pe 's/(tokenizer\.ggml\.model\x08\x00{3}\x05\x00{7})llama/$1rwkv5/' "$BATS_TEST_TMPDIR/m/llama.gguf" >"$BATS_TEST_TMPDIR/m/rwkv.gguf"
	refused "$BATS_TEST_TMPDIR/m/rwkv.gguf" 'tokenizer model rwkv5 is not supported (only gpt2, byte-level BPE, and llama, SentencePiece-style BPE)'
	refused "$BATS_TEST_TMPDIR/m/gpt2.gguf" 'pre-tokenizer default is not supported (only those llama.cpp splits as Llama 3, Qwen 2, DeepSeek V3, gpt-4o, Tekken or GPT-2 do)'
	for pre in deepseek-llm qwen35 no-such-pre; do
		synthetic "$pre"
		refused "$BATS_TEST_TMPDIR/tok.gguf" "pre-tokenizer $pre is not supported (only those llama.cpp splits as Llama 3, Qwen 2, DeepSeek V3, gpt-4o, Tekken or GPT-2 do)"
	done
	# llama.cpp strips spaces after the tokens of a model named Phi-3
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/llama3_1/tokenizer.json" llama-bpe \
	    "$BATS_TEST_TMPDIR/p.gguf" --name 'Phi-3 test'
	refused "$BATS_TEST_TMPDIR/p.gguf" 'a byte-level model named Phi-3 is not supported'
	# and before <mask> of jina's, [MASK] of modern-bert's
	jq -c '.added_tokens += [{id: 128256, content: "<mask>", special: true}, {id: 128257, content: "[MASK]", special: true}]' \
	    "$T/llama3_1/tokenizer.json" >"$BATS_TEST_TMPDIR/mask.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/mask.json" jina-v2-es "$BATS_TEST_TMPDIR/p.gguf"
	refused "$BATS_TEST_TMPDIR/p.gguf" 'a model whose <mask> llama.cpp strips the spaces before (jina, modern-bert, by its names) is not supported'
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/mask.json" gpt-2 "$BATS_TEST_TMPDIR/p.gguf" --name 'Modern-BERT base'
	refused "$BATS_TEST_TMPDIR/p.gguf" 'a model whose [MASK] llama.cpp strips the spaces before (jina, modern-bert, by its names) is not supported'
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/mask.json" jina-v2-es "$BATS_TEST_TMPDIR/p.gguf" --name 'phi-3 mask'
	refused "$BATS_TEST_TMPDIR/p.gguf" 'a model whose <mask> llama.cpp strips the spaces before (jina, modern-bert, by its names) is not supported'
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/mask.json" gpt-2 "$BATS_TEST_TMPDIR/p.gguf" --name 'bert'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/p.gguf" --allow-special <<<'{"text":"a <mask> [MASK]"}'
	assert_output '{"text":"a <mask> [MASK]","tokens":5}'
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/llama3_1/tokenizer.json" llama-bpe \
	    "$BATS_TEST_TMPDIR/p.gguf" --name 'Phi 4'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/p.gguf" <<<'{"text":"hi"}'
	assert_output '{"text":"hi","tokens":1}'
}

@test "GGUF: a truncated file is 65, naming the byte where it ends" {
	head -c 100000 "$G" >"$BATS_TEST_TMPDIR/cut.gguf"
	run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/cut.gguf" <<<'{"text":"hi"}'
	assert_output ''
	assert_regex "$stderr" "^wb-count: $BATS_TEST_TMPDIR/cut.gguf: byte [0-9]+: .+$"
	run -66 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/none.gguf" <<<'{"text":"hi"}'
	assert_equal "$stderr" "wb-count: $BATS_TEST_TMPDIR/none.gguf: No such file or directory"
}
