#!/usr/bin/env bats
# -T with SentencePiece-style BPE: the tokenizer.json files of Mistral 7B
# and Gemma 3 (build/tokenizers, fetched by make test), and one laid out as
# Phi-3's made of Mistral 7B's (tests/tokenizer/phi3-json.js), against
# Hugging Face's tokenizers, and the GGUF files of model llama made of them
# here (tests/tokenizer/mkgguf.js --spm, laid out as llama.cpp's converter
# lays them out; Phi-3's under two names, one that llama.cpp knows as
# Phi-3's and one that it does not) against llama.cpp (node-llama-cpp,
# build/tokenizers/llamacpp).

load helper

setup_file() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	for f in mistral gemma3 phi3 phi3n; do
		name=
		case $f in
		phi3) name='Phi-3 Mini 4k Instruct' ;;
		phi3n) name='Phi 3 Mini 4k Instruct' ;;
		esac
		node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/${f%n}/tokenizer.json" \
		    "$BATS_FILE_TMPDIR/$f.gguf" ${name:+--name "$name"}
		node "$TOP/tests/tokenizer/expect-llamacpp.js" "$T" "$f" \
		    "$BATS_FILE_TMPDIR/$f.gguf" "$TOP/tests/tokenizer/corpus.jsonl" \
		    "$T/${f%n}/tokenizer.json" >"$BATS_FILE_TMPDIR/$f.llamacpp.jsonl" 2>/dev/null
	done
}

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	G=$BATS_FILE_TMPDIR
}

# The ids wb-count -T $1 gives for the texts of the JSON lines $2, with
# the flag $3, one array a line.
ids() {
	jq -c '{text}' "$2" | wb-count -T "$1" $3 --ids | jq -c .ids
}

@test "-T tokenizer.json gives the ids of Hugging Face's tokenizers for Mistral 7B, Gemma 3 and Phi-3's layout" {
	for f in mistral gemma3 phi3; do
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			jq -c "select(.file == \"$f\" and .special == $s)" "$T/expect.jsonl" >"$BATS_TEST_TMPDIR/cases"
			jq -c .ids "$BATS_TEST_TMPDIR/cases" >"$BATS_TEST_TMPDIR/want"
			ids "$T/$f/tokenizer.json" "$BATS_TEST_TMPDIR/cases" "$flag" >"$BATS_TEST_TMPDIR/got"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 1900 ]
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
	done
	run --separate-stderr wb-count -T "$T/mistral/tokenizer.json" --ids --allow-special <<<'{"text":"<s>Hello world</s>"}'
	assert_output '{"text":"<s>Hello world</s>","ids":[1,22557,1526,2],"tokens":4}'
	run --separate-stderr wb-count -T "$T/gemma3/tokenizer.json" --ids <<<'{"text":"<start_of_turn>user\n"}'
	assert_output '{"text":"<start_of_turn>user\n","ids":[236820,3041,236779,1340,236779,887,236813,2364,107],"tokens":9}'
}

@test "-T FILE.gguf of model llama gives the ids of llama.cpp for Mistral 7B, Gemma 3 and Phi-3's layout" {
	for f in mistral gemma3 phi3 phi3n; do
		for s in 0 1; do
			flag=
			[ "$s" -eq 0 ] || flag=--allow-special
			jq -c "select(.special == $s)" "$G/$f.llamacpp.jsonl" >"$BATS_TEST_TMPDIR/cases"
			jq -c .ids "$BATS_TEST_TMPDIR/cases" >"$BATS_TEST_TMPDIR/want"
			ids "$G/$f.gguf" "$BATS_TEST_TMPDIR/cases" "$flag" >"$BATS_TEST_TMPDIR/got"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 1300 ]
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
	done
	# the dummy prefix: a space in front of the text, and after each
	# special token; none for Gemma
	run --separate-stderr wb-count -T "$G/mistral.gguf" --ids --allow-special <<<'{"text":"Hi<s>Hi"}'
	assert_output '{"text":"Hi<s>Hi","ids":[15359,1,15359],"tokens":3}'
	run --separate-stderr wb-count -T "$G/gemma3.gguf" --ids <<<'{"text":"Hi"}'
	assert_output '{"text":"Hi","ids":[10979],"tokens":1}'
}

@test "-T tokenizer.json: Metaspace of every prepend_scheme, split or not, ignore_merges, no byte fallback: the ids of tokenizers" {
	{
		head -300 "$TOP/tests/tokenizer/corpus.jsonl" | jq -c '{text}'
		for t in '<s> Hello' '<s>Hello' ' <s>x' 'a</s> b' '<s>' ' ' '  a  ' '▁a ▁' 'x<unk><unk>y'; do
			jq -cn --arg t "$t" '{text: $t}'
		done
	} >"$BATS_TEST_TMPDIR/texts"
	for f in \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false}' \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true}' \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true}' \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "never", split: false}' \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", add_prefix_space: true} | .model.ignore_merges = true' \
	    '.model.byte_fallback = false' \
	    '.model.byte_fallback = false | .model.fuse_unk = false'; do
		jq -c "$f" "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
		node "$TOP/tests/tokenizer/hf-ids.js" "$T" "$BATS_TEST_TMPDIR/tok.json" \
		    <"$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/want"
		ids "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/texts" --allow-special >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
}

# An Ollama models directory in OLLAMA_MODELS where the model $1 is the
# file $2.
ollama_install() {
	local d=$BATS_TEST_TMPDIR/ollama sum
	sum=$(sha256sum "$2" | cut -d' ' -f1)
	mkdir -p "$d/blobs" "$d/manifests/registry.ollama.ai/library/$1"
	cp "$2" "$d/blobs/sha256-$sum"
	printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":%d}]}\n' \
	    "$sum" "$(stat -c %s "$2")" >"$d/manifests/registry.ollama.ai/library/$1/latest"
	export OLLAMA_MODELS=$d
}

@test "-M ollama:NAME of a SentencePiece-style model counts with its GGUF file, in every counting command" {
	ollama_install gemma3 "$G/gemma3.gguf"
	run --separate-stderr wb-count -M ollama:gemma3 --ids <<<'{"text":"Hello world"}'
	assert_success
	assert_output "$(wb-count -T "$G/gemma3.gguf" --ids <<<'{"text":"Hello world"}')"
	run --separate-stderr wb-budget -M ollama:gemma3 -s scene=100 <<<'{"sections":{"scene":"Hello world"}}'
	assert_output --partial '"scene":{"original_tokens":2,'
}

@test "Phi-3: the spaces after its tokens that strip them are dropped, as each reference drops them" {
	t=$'<|user|>\nHello<|end|>\n<|assistant|> Hi</s>  x<|endoftext|> y'
	# (" y" merges by rank as ▁ ▁y, by score as ▁▁ y)
	for file in "$T/phi3/tokenizer.json:28705,337" "$G/phi3.gguf:259,28724"; do
		run --separate-stderr wb-count -T "${file%:*}" --ids --allow-special < <(jq -cn --arg t "$t" '{text: $t}')
		assert_output "$(jq -cn --arg t "$t" "{text: \$t, ids: [32010,22557,32007,32001,15359,2,1318,32000,${file#*:}], tokens: 10}")"
	done
	# tokenizer.json: </s> is no special token there, and strips even
	# without --allow-special; \s is Unicode's White_Space
	run --separate-stderr wb-count -T "$T/phi3/tokenizer.json" --ids <<<'{"text":"Hi</s> \n x"}'
	assert_output '{"text":"Hi</s> \n x","ids":[15359,2,1318],"tokens":3}'
	got=$(wb-count -T "$T/phi3/tokenizer.json" --ids <<<'{"text":"</s>\u3000\u00a0x"}' | jq -c .ids)
	assert_equal "$got" '[2,1318]'
	# llama.cpp: </s> ends generation, so it is a control token, text
	# without --allow-special; isspace() only; and only for a model it
	# knows as Phi-3 by its name
	run --separate-stderr wb-count -T "$G/phi3.gguf" --ids <<<'{"text":"Hi</s> x"}'
	assert_output '{"text":"Hi</s> x","ids":[15359,700,28713,28767,1318],"tokens":5}'
	got=$(wb-count -T "$G/phi3.gguf" --ids --allow-special <<<'{"text":"</s>\u3000x"}' | jq -c .ids)
	assert_equal "$got" '[2,28705,29351,28744]'
	run --separate-stderr wb-count -T "$G/phi3n.gguf" --ids --allow-special <<<'{"text":"Hi</s> x"}'
	assert_output '{"text":"Hi</s> x","ids":[15359,2,259,28744],"tokens":4}'
}

@test "-T tokenizer.json: added tokens with lstrip and rstrip, with a normalizer or Metaspace, give the ids of tokenizers" {
	node -e 'for (const c of require(process.argv[1]).texts(["<s>", "</s>", "<unk>", "[A]", "▁[B]"])) console.log(JSON.stringify({text: c.text}))' \
	    "$TOP/tests/tokenizer/strip-texts.js" >"$BATS_TEST_TMPDIR/texts"
	head -200 "$TOP/tests/tokenizer/corpus.jsonl" | jq -c '{text}' >>"$BATS_TEST_TMPDIR/texts"
	add='.added_tokens += [{id: 32000, content: "[A]", single_word: false, lstrip: true, rstrip: true, normalized: false, special: false},
	    {id: 32001, content: "▁[B]", single_word: false, lstrip: true, rstrip: false, normalized: false, special: true}]
	    | .added_tokens[1].lstrip = true | .added_tokens[2].rstrip = true | .added_tokens[2].special = false'
	for f in . \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true}' \
	    '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false}'; do
		jq -c "$add | $f" "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
		for flag in "" --allow-special; do
			hf_reference "$BATS_TEST_TMPDIR/tok.json" "$flag" "$BATS_TEST_TMPDIR/ref.json"
			node "$TOP/tests/tokenizer/hf-ids.js" "$T" "$BATS_TEST_TMPDIR/ref.json" \
			    <"$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/want"
			ids "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/texts" "$flag" >"$BATS_TEST_TMPDIR/got"
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
	done
}

@test "-T tokenizer.json: a token that strips the spaces on its right takes them even over the start of the next token, as tokenizers" {
	# Mistral 7B's file and tokens that strip, start with a space, are all
	# spaces (tests/tokenizer/strip-pairs.js); for llama.cpp, such a token
	# stops at the next one
	node "$TOP/tests/tokenizer/strip-pairs.js" "$T/mistral/tokenizer.json" spm >"$BATS_TEST_TMPDIR/tok.json"
	node -e 'for (const c of require(process.argv[1]).texts()) console.log(JSON.stringify({text: c.text}))' \
	    "$TOP/tests/tokenizer/strip-pairs.js" >"$BATS_TEST_TMPDIR/texts"
	for f in . '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true}'; do
		for flag in "" --allow-special; do
			if [ -z "$flag" ]; then
				jq -c ".added_tokens |= map(select(.special | not)) | $f" "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/ref.json"
			else
				jq -c "$f" "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/ref.json"
			fi
			jq -c "$f" "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/f.json"
			node "$TOP/tests/tokenizer/hf-ids.js" "$T" "$BATS_TEST_TMPDIR/ref.json" \
			    <"$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/want"
			ids "$BATS_TEST_TMPDIR/f.json" "$BATS_TEST_TMPDIR/texts" "$flag" >"$BATS_TEST_TMPDIR/got"
			cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
		done
	done
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special < <(jq -cn '{text: "x<|r|> <|sp|>\n\n  y"}')
	assert_output '{"text":"x<|r|> <|sp|>\n\n  y","ids":[1318,32004,32005,32002,259,337],"tokens":6}'
	# streamed: no cut takes apart what a token takes
	node -e 'let t = ""; for (let i = 0; t.length < 200000; i++) for (const c of require(process.argv[1]).texts()) t += c.text + " word" + i + "日本 "; process.stdout.write(t)' \
	    "$TOP/tests/tokenizer/strip-pairs.js" >"$BATS_TEST_TMPDIR/all"
	streams_as_whole "$BATS_TEST_TMPDIR/all" 40000 "$BATS_TEST_TMPDIR/tok.json"
}

@test "-T with tokens that strip spaces: -r streams a long text to the count of the whole text" {
	node -e 'let t = ""; for (let i = 0; t.length < 300000; i++) for (const c of require(process.argv[1]).texts(["<|end|>", "</s>", "<|user|>", "<s>"])) t += c.text + " word" + i + "日本 "; process.stdout.write(t)' \
	    "$TOP/tests/tokenizer/strip-texts.js" >"$BATS_TEST_TMPDIR/all"
	jq -c '.added_tokens[1].lstrip = true | .added_tokens[1].special = false | .normalizer = null
	    | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true}' \
	    "$T/phi3/tokenizer.json" >"$BATS_TEST_TMPDIR/meta.json"
	streams_as_whole "$BATS_TEST_TMPDIR/all" 100000 "$T/phi3/tokenizer.json" \
	    "$G/phi3.gguf" "$BATS_TEST_TMPDIR/meta.json"
}

@test "-T FILE.gguf of model llama: the types llama.cpp gives tokens by their text, as it gives them" {
	# user-defined tokens that end generation count as control ones; those
	# of gpt-oss that it writes in the text, user-defined ones
	jq -c '.added_tokens += ([["<|eot_id|>", false], ["<|im_end|>", false], ["<end_of_turn>", false],
	    ["<|endoftext|>", false], ["<|eom_id|>", false], ["<EOT>", false], ["[EOS]", false],
	    ["<|end_of_text|>", false], ["<eos>", false], ["<|channel|>", true], ["<|message|>", false],
	    ["<|end|>", true], ["<|user|>", false]]
	    | to_entries | map({id: (32000 + .key), content: .value[0], single_word: false, lstrip: false,
	      rstrip: false, normalized: false, special: .value[1]}))' \
	    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/t.gguf"
	jq -c '.added_tokens[] | {text: ("a" + .content + "b " + .content)}' "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/texts"
	node "$TOP/tests/tokenizer/expect-llamacpp.js" "$T" t "$BATS_TEST_TMPDIR/t.gguf" \
	    "$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/ref" 2>/dev/null
	for s in 0 1; do
		flag=
		[ "$s" -eq 0 ] || flag=--allow-special
		jq -c "select(.special == $s) | .ids" "$BATS_TEST_TMPDIR/ref" | head -16 >"$BATS_TEST_TMPDIR/want"
		ids "$BATS_TEST_TMPDIR/t.gguf" "$BATS_TEST_TMPDIR/texts" "$flag" >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	# <|eot_id|> as text without --allow-special, <|channel|> split out
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/t.gguf" --ids <<<'{"text":"<|channel|><|eot_id|>"}'
	assert_output '{"text":"<|channel|><|eot_id|>","ids":[32009,523,28766,28706,322,28730,313,28766,28767],"tokens":9}'
}

@test "-T FILE.gguf of model llama: llama.cpp makes the fill-in-the-middle tokens control, unless a key names the role's" {
	# user-defined in the file; <fim-suffix> is the suffix token by key
	# (the older tokenizer.ggml.suffix_token_id), so it stays user-defined
	jq -c '.added_tokens += (["<|fim_prefix|>", "<fim-suffix>", "▁<MID>", "<|fim_pad|>", "<|repo_name|>",
	    "<|file_sep|>", "<|user|>"]
	    | to_entries | map({id: (32000 + .key), content: .value, single_word: false, lstrip: false,
	      rstrip: false, normalized: false, special: false}))' \
	    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/t.gguf" \
	    --u32 tokenizer.ggml.suffix_token_id=32001
	jq -c '.added_tokens[] | {text: ("a" + .content + "b " + .content + " c\n" + .content)}' \
	    "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/texts"
	echo '{"text":"<|fim_prefix|>def f():<fim-suffix>\n    pass▁<MID><|fim_pad|><|file_sep|>x"}' >>"$BATS_TEST_TMPDIR/texts"
	node "$TOP/tests/tokenizer/expect-llamacpp.js" "$T" t "$BATS_TEST_TMPDIR/t.gguf" \
	    "$BATS_TEST_TMPDIR/texts" >"$BATS_TEST_TMPDIR/ref" 2>/dev/null
	for s in 0 1; do
		flag=
		[ "$s" -eq 0 ] || flag=--allow-special
		jq -c "select(.special == $s) | .ids" "$BATS_TEST_TMPDIR/ref" >"$BATS_TEST_TMPDIR/want"
		jq -c "select(.special == $s)" "$BATS_TEST_TMPDIR/ref" >"$BATS_TEST_TMPDIR/cases"
		ids "$BATS_TEST_TMPDIR/t.gguf" "$BATS_TEST_TMPDIR/cases" "$flag" >"$BATS_TEST_TMPDIR/got"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 60 ]
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/t.gguf" --ids <<<'{"text":"<fim-suffix><|fim_pad|>"}'
	assert_output '{"text":"<fim-suffix><|fim_pad|>","ids":[32001,523,28766,28722,321,28730,9845,28766,28767],"tokens":9}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/t.gguf" --ids --allow-special <<<'{"text":"<fim-suffix><|fim_pad|>"}'
	assert_output '{"text":"<fim-suffix><|fim_pad|>","ids":[32001,32003],"tokens":2}'
	# two pad texts: which llama.cpp makes control is its hash order's, and
	# both keep their types (wb(7))
	jq -c '.added_tokens += (["<|fim_pad|>", "<PAD>", "<|file_sep|>"]
	    | to_entries | map({id: (32000 + .key), content: .value, single_word: false, lstrip: false,
	      rstrip: false, normalized: false, special: false}))' \
	    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/t.gguf"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/t.gguf" --ids <<<'{"text":"<|fim_pad|><PAD><|file_sep|>"}'
	assert_output '{"text":"<|fim_pad|><PAD><|file_sep|>","ids":[32000,32001,523,28766,1516,28730,21571,28766,28767],"tokens":9}'
}

@test "Metaspace prepend_scheme first drops the leading ▁ of a text that starts with a space; llama.cpp keeps it" {
	jq -c '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false}' \
	    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":" Hello"}'
	assert_output '{"text":" Hello","ids":[22557],"tokens":1}'
	run --separate-stderr wb-count -T "$G/mistral.gguf" --ids <<<'{"text":" Hello"}'
	assert_output '{"text":" Hello","ids":[259,16230],"tokens":2}'
}

@test "-T SentencePiece-style: --decode gives the text back, after the prefix the tokenizer put in front" {
	for file in "$T/mistral/tokenizer.json" "$G/mistral.gguf" "$T/gemma3/tokenizer.json" "$G/gemma3.gguf"; do
		pre=
		case $file in */mistral*) pre=' ' ;; esac
		# texts without ▁ (which decodes as a space)
		jq -c 'select(.text | contains("▁") | not) | {text}' "$TOP/tests/tokenizer/corpus.jsonl" |
		    wb-count -T "$file" --ids | jq -c '{ids}' | wb-count -T "$file" --decode -f text |
		    jq -c .text >"$BATS_TEST_TMPDIR/got"
		jq -c --arg p "$pre" 'select(.text | contains("▁") | not) | if .text == "" then "" else $p + .text end' \
		    "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/want"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 1000 ]
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
}

@test "-T SentencePiece-style -r streams the whole corpus to the count of the whole text" {
	jq -j '.text' "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/all"
	for file in "$T/mistral/tokenizer.json" "$G/mistral.gguf" "$T/gemma3/tokenizer.json" "$G/gemma3.gguf"; do
		for flag in "" --allow-special; do
			want=$(jq -sc '{text: map(.text) | join("")}' "$TOP/tests/tokenizer/corpus.jsonl" |
			    wb-count -T "$file" $flag | jq .tokens)
			got=$(wb-count -r -q -T "$file" $flag <"$BATS_TEST_TMPDIR/all")
			[ "$want" -gt 50000 ]
			assert_equal "$got" "$want"
		done
	done
}

@test "-T SentencePiece-style with no token of two characters: -r streams to the count of the whole text, from the file and from its cache" {
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
	jq -c '.model.vocab |= with_entries(select(.key | length == 1)) | .model.merges = []
	    | .added_tokens = [] | .model.byte_fallback = false | .model.unk_token = null' \
	    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/chars.json"
	yes 'the quick brown fox jumps over the lazy dog' | head -c 200000 | tr '\n' ' ' >"$BATS_TEST_TMPDIR/all"
	run -0 wb-count -r -q -T "$BATS_TEST_TMPDIR/chars.json" <"$BATS_TEST_TMPDIR/all"
	first=$output
	ls "$XDG_CACHE_HOME"/wb/tokenizers/*.wbt
	run -0 wb-count -r -q -T "$BATS_TEST_TMPDIR/chars.json" <"$BATS_TEST_TMPDIR/all"
	assert_output "$first"
	want=$(jq -Rsc '{text: .}' "$BATS_TEST_TMPDIR/all" | wb-count -T "$BATS_TEST_TMPDIR/chars.json" | jq .tokens)
	[ "$want" -gt 200000 ]
	assert_equal "$first" "$want"
}

@test "wb-truncate -T SentencePiece-style never ends over budget, whole or streamed" {
	text='日本語のテキスト and English,   русский текст, emoji 👩‍👩‍👧 and <s> </s> <start_of_turn> (brackets) [many] {of} them'
	for file in "$T/mistral/tokenizer.json" "$G/mistral.gguf" "$T/gemma3/tokenizer.json" "$G/gemma3.gguf"; do
		for k in head tail; do
			for b in 0 1 2 3 5 8 13 21; do
				jq -cn --arg t "$text" --argjson b "$b" '{text: $t, budget: $b}'
			done | wb-truncate -T "$file" --allow-special -k "$k"
		done >"$BATS_TEST_TMPDIR/out"
		jq -c '{text}' "$BATS_TEST_TMPDIR/out" |
		    wb-count -T "$file" --allow-special | jq .tokens >"$BATS_TEST_TMPDIR/recount"
		jq .final_tokens "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/final"
		cmp "$BATS_TEST_TMPDIR/final" "$BATS_TEST_TMPDIR/recount"
		[ "$(jq -s 'map(select(.final_tokens > .budget)) | length' "$BATS_TEST_TMPDIR/out")" -eq 0 ]
		[ "$(jq -s 'map(select(.was_truncated)) | length' "$BATS_TEST_TMPDIR/out")" -ge 14 ]
		for k in head tail; do
			printf '%s' "$text$text$text" | wb-truncate -r -q -T "$file" -b 20 -k "$k" >"$BATS_TEST_TMPDIR/cut"
			n=$(wb-count -r -q -T "$file" <"$BATS_TEST_TMPDIR/cut")
			[ "$n" -le 20 ] && [ "$n" -ge 15 ]
		done
	done
}

@test "-T SentencePiece-style: what is not supported is refused, naming it, with exit 65" {
	refused() {
		run -65 --separate-stderr wb-count -T "$1" <<<'{"text":"hi"}'
		assert_output ''
		assert_equal "$stderr" "wb-count: $1: $2"
	}
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/ns.gguf" --no-scores
	refused "$BATS_TEST_TMPDIR/ns.gguf" 'tokenizer model llama without tokenizer.ggml.scores is not supported'
	node "$TOP/tests/tokenizer/mkgguf.js" "$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m/llama.gguf" 'tokenizer.ggml.tokens: no token for the byte 0x00 (<0x00>), which the byte fallback needs'
	j=$BATS_TEST_TMPDIR/tok.json
	jq -c '.model = {type: "Unigram", unk_id: 0, vocab: [["▁a", -1.0]]}' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'model Unigram is not supported (only byte-level BPE)'
	jq -c '.normalizer = {type: "NFKC"}' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'normalizer NFKC is not supported (only Prepend "▁", Replace " " by "▁")'
	jq -c '.normalizer = null | .pre_tokenizer = {type: "Metaspace", replacement: "_", prepend_scheme: "first"}' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'pre-tokenizer Metaspace is not supported here (only Metaspace "▁" without a normalizer)'
	jq -c '.pre_tokenizer.invert = true' "$T/gemma3/tokenizer.json" >"$j"
	refused "$j" 'pre-tokenizer Split is not supported here (only Metaspace "▁" without a normalizer)'
	jq -c '.normalizer = null' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'model BPE with byte_fallback and neither Metaspace nor a normalizer that replaces spaces is not supported'
	jq -c '.added_tokens[1].normalized = true' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'added token <s>: single_word and normalized are not supported'
	jq -c '.added_tokens[2].single_word = true' "$T/phi3/tokenizer.json" >"$j"
	refused "$j" 'added token </s>: single_word and normalized are not supported'
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/p.gguf" --name 'phi3 mini'
	refused "$BATS_TEST_TMPDIR/p.gguf" 'a model named Phi-3 without the token <|endoftext|> is not supported (llama.cpp does not load it)'
	jq -c '.model.merges += ["▁ zzzq"]' "$T/mistral/tokenizer.json" >"$j"
	refused "$j" 'merge 58980: a token that is not in the vocabulary'
}

@test "wb-truncate -r -T SentencePiece-style with a space in front gives what the whole text gives" {
	# Mistral 7B puts ▁ in front of the text (tokenizer.json Prepend, GGUF
	# add_space_prefix); Metaspace does so unless it starts with a space.
	# A stream lets what no cut can keep go (65 536 bytes at a time), so
	# over 300 KB it lets go of most: the cut is still the whole text's.
	jq -sc '{text: map(.text) | join("")}' "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/all.json"
	jq -sc '{text: map(select(.text | test("[a-z]")) | .text) | join("")}' "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/latin.json"
	for text in all latin; do
		jq -j .text "$BATS_TEST_TMPDIR/$text.json" >"$BATS_TEST_TMPDIR/$text"
	done
	for s in first always; do
		jq -c ".normalizer = null | .pre_tokenizer = {type: \"Metaspace\", replacement: \"▁\", prepend_scheme: \"$s\", split: false}" \
		    "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/meta-$s.json"
	done
	n=0
	for file in "$T/mistral/tokenizer.json" "$G/mistral.gguf" "$BATS_TEST_TMPDIR/meta-first.json" "$BATS_TEST_TMPDIR/meta-always.json"; do
		for text in all latin; do
			for b in 1 37 1000 25000; do
				for k in head tail; do
					wb-truncate -T "$file" -b "$b" -k "$k" <"$BATS_TEST_TMPDIR/$text.json" >"$BATS_TEST_TMPDIR/whole"
					wb-truncate -r -T "$file" -b "$b" -k "$k" <"$BATS_TEST_TMPDIR/$text" >"$BATS_TEST_TMPDIR/part"
					cmp "$BATS_TEST_TMPDIR/part" "$BATS_TEST_TMPDIR/whole"
					jq -j .text "$BATS_TEST_TMPDIR/part" >"$BATS_TEST_TMPDIR/cut"
					recount=$(wb-count -r -q -T "$file" <"$BATS_TEST_TMPDIR/cut")
					assert_equal "$recount" "$(jq .final_tokens "$BATS_TEST_TMPDIR/part")"
					[ "$recount" -le "$b" ] && [ "$recount" -ge $((b / 2)) ]
					n=$((n + 1))
				done
			done
		done
	done
	[ "$n" -eq 64 ]
}

@test "wb-truncate -r -T Mistral 7B truncates 30 MB, head and tail, in little memory" {
	under_tool && skip "memory limits do not apply under a sanitizer or valgrind"
	jq -j '.text' "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/all"
	for i in $(seq 100); do cat "$BATS_TEST_TMPDIR/all"; done >"$BATS_TEST_TMPDIR/big"
	[ "$(wc -c <"$BATS_TEST_TMPDIR/big")" -gt 30000000 ]
	for file in "$T/mistral/tokenizer.json" "$G/mistral.gguf"; do
		for k in head tail; do
			/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
			    wb-truncate -r -T "$file" -b 1000 -k "$k" <"$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/out"
			rss=$(cat "$BATS_TEST_TMPDIR/rss")
			echo "# $file -k $k: $rss KB" >&3
			[ "$rss" -lt 32768 ]
			jq -j .text "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/cut"
			n=$(wb-count -r -q -T "$file" <"$BATS_TEST_TMPDIR/cut")
			assert_equal "$n" "$(jq .final_tokens "$BATS_TEST_TMPDIR/out")"
			[ "$n" -le 1000 ] && [ "$n" -ge 950 ]
			[ "$(jq .was_truncated "$BATS_TEST_TMPDIR/out")" = true ]
		done
	done
}
