#!/usr/bin/env bats
# -T FILE and ollama: models keep their compiled tokenizer in
# $XDG_CACHE_HOME/wb/tokenizers, keyed by what the file is: a second run
# maps it instead of reading the file, a changed file is compiled again, a
# damaged cache is passed over, and a cache that cannot be written costs
# only time.  The reference files come from build/tokenizers (make test
# fetches them).

load helper

setup() {
	T=${WB_TOKENIZERS_DIR:-$TOP/build/tokenizers}
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
	C=$XDG_CACHE_HOME/wb/tokenizers
}

# The one cache file there is, or a failure if there is not exactly one.
cache_file() {
	local f
	f=("$C"/*.wbt)
	[ "${#f[@]}" -eq 1 ] && [ -f "${f[0]}" ] || return 1
	printf '%s\n' "${f[0]}"
}

# The inode and size of file $1: a cache written again is a new file.
ident() {
	stat -c '%i %s' "$1"
}

# The synthetic tokenizer.json of tests/tokenizer/synthetic.js in $1.
synthetic() {
	node "$TOP/tests/tokenizer/synthetic.js" >"$1"
}

@test "a second run maps the compiled tokenizer from the cache, not the file" {
	cp "$T/llama3_1/tokenizer.json" "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	f=$(cache_file)
	id=$(ident "$f")
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	assert_equal "$(ident "$f")" "$id"
	# Break the JSON in the middle of the file, keeping its size, inode and
	# time: the cache still answers, so the file is not read.
	touch -r "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/when"
	size=$(stat -c %s "$BATS_TEST_TMPDIR/tok.json")
	printf '\n\n}}}}\n\n' | dd of="$BATS_TEST_TMPDIR/tok.json" bs=1 seek=$((size / 2)) conv=notrunc status=none
	touch -r "$BATS_TEST_TMPDIR/when" "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello world"}'
	assert_output '{"text":"hello world","ids":[15339,1917],"tokens":2}'
	XDG_CACHE_HOME=$BATS_TEST_TMPDIR/other run -65 --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" <<<'{"text":"hello world"}'
	[[ $stderr == "wb-count: $BATS_TEST_TMPDIR/tok.json:"* ]]
}

@test "a SentencePiece-style tokenizer.json or GGUF is mapped from the cache on a second run, not read" {
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/tok.gguf"
	cp "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/tok.json"
	for tok in "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/tok.gguf"; do
		rm -rf "$C"
		run --separate-stderr wb-count -T "$tok" --ids --allow-special <<<'{"text":"<s>Hello world"}'
		want=$output
		[[ $want == '{"text":"<s>Hello world","ids":[1,'* ]]
		f=$(cache_file)
		id=$(ident "$f")
		run --separate-stderr wb-count -T "$tok" --ids --allow-special <<<'{"text":"<s>Hello world"}'
		assert_output "$want"
		assert_equal "$(ident "$f")" "$id"
		# Zeros over all but the first and last 64 KiB, size, inode and
		# time kept: the cache still answers, so the file is not read.
		touch -r "$tok" "$BATS_TEST_TMPDIR/when"
		size=$(stat -c %s "$tok")
		head -c $((size - 2 * 65536)) /dev/zero |
		    dd of="$tok" bs=65536 seek=1 conv=notrunc status=none
		touch -r "$BATS_TEST_TMPDIR/when" "$tok"
		run --separate-stderr wb-count -T "$tok" --ids --allow-special <<<'{"text":"<s>Hello world"}'
		assert_output "$want"
		XDG_CACHE_HOME=$BATS_TEST_TMPDIR/other run -65 --separate-stderr wb-count -T "$tok" <<<'{"text":"hello world"}'
		[[ $stderr == "wb-count: $tok:"* ]]
	done
}

@test "a changed SentencePiece-style tokenizer file is compiled again" {
	jq -c . "$T/mistral/tokenizer.json" >"$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"ꙮ"}'
	assert_output '{"text":"ꙮ","ids":[28705,237,156,177],"tokens":4}'
	id=$(ident "$(cache_file)")
	# No byte fallback now: the unknown token; the file's time put back.
	touch -r "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/when"
	jq -c '.model.byte_fallback = false' "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/new"
	cat "$BATS_TEST_TMPDIR/new" >"$BATS_TEST_TMPDIR/tok.json"
	touch -r "$BATS_TEST_TMPDIR/when" "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"ꙮ"}'
	assert_output '{"text":"ꙮ","ids":[28705,0],"tokens":2}'
	[ "$(ident "$(cache_file)")" != "$id" ]
}

@test "a cached SentencePiece-style tokenizer streams (-r) and truncates as a compiled one" {
	jq -j '.text' "$TOP/tests/tokenizer/corpus.jsonl" >"$BATS_TEST_TMPDIR/all"
	cp "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/tok.gguf"
	for tok in "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/tok.gguf"; do
		rm -rf "$C"
		# Neither XDG_CACHE_HOME nor HOME: compiled, no cache.
		want=$(env -u XDG_CACHE_HOME -u HOME wb-count -r -q -T "$tok" <"$BATS_TEST_TMPDIR/all")
		[ "$want" -gt 50000 ]
		for k in head tail; do
			env -u XDG_CACHE_HOME -u HOME wb-truncate -r -q -T "$tok" -b 20000 -k "$k" \
			    <"$BATS_TEST_TMPDIR/all" >"$BATS_TEST_TMPDIR/want.$k"
		done
		[ ! -e "$C" ]
		wb-count -T "$tok" <<<'{"text":"x"}' >/dev/null
		id=$(ident "$(cache_file)")
		run --separate-stderr wb-count -r -q -T "$tok" <"$BATS_TEST_TMPDIR/all"
		assert_output "$want"
		for k in head tail; do
			wb-truncate -r -q -T "$tok" -b 20000 -k "$k" <"$BATS_TEST_TMPDIR/all" >"$BATS_TEST_TMPDIR/got.$k"
			cmp "$BATS_TEST_TMPDIR/want.$k" "$BATS_TEST_TMPDIR/got.$k"
			[ "$(wb-count -r -q -T "$tok" <"$BATS_TEST_TMPDIR/got.$k")" -le 20000 ]
		done
		assert_equal "$(ident "$(cache_file)")" "$id"
	done
}

@test "a changed tokenizer file is compiled again, even with its old size and time" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello[X]"}'
	assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	id=$(ident "$(cache_file)")
	# Another added token of the same length, the file's time put back.
	touch -r "$BATS_TEST_TMPDIR/tok.json" "$BATS_TEST_TMPDIR/when"
	sed 's/"\[X\]"/"[Y]"/' "$BATS_TEST_TMPDIR/tok.json" >"$BATS_TEST_TMPDIR/new"
	cat "$BATS_TEST_TMPDIR/new" >"$BATS_TEST_TMPDIR/tok.json"
	touch -r "$BATS_TEST_TMPDIR/when" "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello[X][Y]"}'
	assert_output '{"text":"hello[X][Y]","ids":[259,91,88,93,300],"tokens":5}'
	[ "$(ident "$(cache_file)")" != "$id" ]
	# A new time alone compiles it again too.
	id=$(ident "$(cache_file)")
	touch -d '2001-02-03 04:05:06' "$BATS_TEST_TMPDIR/tok.json"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"[Y]"}'
	assert_output '{"text":"[Y]","ids":[300],"tokens":1}'
	[ "$(ident "$(cache_file)")" != "$id" ]
}

# Damage the one cache file, of the tokenizer $1, in every way, and check
# that wb-count -T $1 --ids --allow-special gives $3 for the text $2 all
# the same and writes the same cache again.
damaged() {
	wb-count -T "$1" <<<'{"text":"hello"}' >/dev/null
	f=$(cache_file)
	cp "$f" "$BATS_TEST_TMPDIR/good"
	size=$(stat -c %s "$f")
	for damage in half byte header build empty garbage; do
		cp "$BATS_TEST_TMPDIR/good" "$f"
		case $damage in
		half) truncate -s $((size / 2)) "$f" ;;
		byte) printf '\377' | dd of="$f" bs=1 seek=$((size - 100)) conv=notrunc status=none ;;
		header) printf 'X' | dd of="$f" bs=1 seek=9 conv=notrunc status=none ;;
		# Another build of the library: its WB_BUILD_ID at byte 64.
		build) printf 'X' | dd of="$f" bs=1 seek=64 conv=notrunc status=none ;;
		empty) : >"$f" ;;
		garbage) head -c "$size" /dev/urandom >"$f" ;;
		esac
		run --separate-stderr wb-count -T "$1" --ids --allow-special <<<"{\"text\":\"$2\"}"
		assert_success
		assert_equal "$stderr" ''
		assert_output "$3"
		cmp "$BATS_TEST_TMPDIR/good" "$f"
	done
}

@test "a damaged, short or foreign cache file, or another build's, is passed over and written again" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	damaged "$BATS_TEST_TMPDIR/tok.json" 'hello[X]<S>' \
	    '{"text":"hello[X]<S>","ids":[259,300,301],"tokens":3}'
	# SentencePiece-style: the last bytes are its merges.
	rm -rf "$C"
	cp "$T/mistral/tokenizer.json" "$BATS_TEST_TMPDIR/spm.json"
	damaged "$BATS_TEST_TMPDIR/spm.json" '<s>Hello ꙮ' \
	    '{"text":"<s>Hello ꙮ","ids":[1,22557,28705,237,156,177],"tokens":6}'
}

@test "the ids from the cache are those of the file on the whole corpus, for every tokenizer" {
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$T/llama3_1/tokenizer.json" \
	    llama-bpe "$BATS_TEST_TMPDIR/llama3.gguf"
	# SentencePiece-style GGUFs (model llama) of Mistral 7B, Gemma 3 and
	# Phi-3's layout (its tokens strip spaces).
	for f in mistral gemma3 phi3; do
		node "$TOP/tests/tokenizer/mkgguf.js" --spm "$T/$f/tokenizer.json" \
		    "$BATS_TEST_TMPDIR/$f.gguf" --name "$f"
	done
	n=0
	for tok in "$T"/*/tokenizer.json "$BATS_TEST_TMPDIR/llama3.gguf" \
	    "$BATS_TEST_TMPDIR/mistral.gguf" "$BATS_TEST_TMPDIR/gemma3.gguf" \
	    "$BATS_TEST_TMPDIR/phi3.gguf"; do
		export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache$n
		C=$XDG_CACHE_HOME/wb/tokenizers
		n=$((n + 1))
		for flag in "" --allow-special; do
			jq -c '{text}' "$TOP/tests/tokenizer/corpus.jsonl" |
			    wb-count --ids $flag -T "$tok" | jq -c .ids >"$BATS_TEST_TMPDIR/compiled"
			id=$(ident "$(cache_file)")
			jq -c '{text}' "$TOP/tests/tokenizer/corpus.jsonl" |
			    wb-count --ids $flag -T "$tok" | jq -c .ids >"$BATS_TEST_TMPDIR/cached"
			assert_equal "$(ident "$(cache_file)")" "$id"
			[ "$(wc -l <"$BATS_TEST_TMPDIR/cached")" -eq 1322 ]
			cmp "$BATS_TEST_TMPDIR/compiled" "$BATS_TEST_TMPDIR/cached"
			rm -rf "$C"
		done
	done
	[ "$n" -ge 11 ]
}

@test "a cache that cannot be written costs only time" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	: >"$BATS_TEST_TMPDIR/file"
	for home in "$BATS_TEST_TMPDIR/file" "$BATS_TEST_TMPDIR/file/below"; do
		XDG_CACHE_HOME=$home run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello[X]"}'
		assert_success
		assert_equal "$stderr" ''
		assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	done
	# Neither XDG_CACHE_HOME nor HOME: no cache at all.
	run --separate-stderr env -u XDG_CACHE_HOME -u HOME wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello[X]"}'
	assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	[ ! -e "$C" ]
	# A directory without write permission (root writes all the same).
	mkdir -p "$C"
	chmod 555 "$C"
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids <<<'{"text":"hello[X]"}'
	chmod 755 "$C"
	assert_success
	assert_equal "$stderr" ''
	assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
}

@test "the cache lives in ~/.cache/wb/tokenizers without XDG_CACHE_HOME" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	mkdir "$BATS_TEST_TMPDIR/home"
	HOME=$BATS_TEST_TMPDIR/home run --separate-stderr env -u XDG_CACHE_HOME wb-count -T "$BATS_TEST_TMPDIR/tok.json" <<<'{"text":"hello"}'
	assert_output '{"text":"hello","tokens":1}'
	C=$BATS_TEST_TMPDIR/home/.cache/wb/tokenizers
	cache_file >/dev/null
}

@test "a GGUF file is read for its metadata only: 64 GB of tensors after it open at once" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/tok.json" \
	    llama-bpe "$BATS_TEST_TMPDIR/model.gguf"
	# A hole: nothing on disk, but reading it would take many seconds.
	truncate -s +64G "$BATS_TEST_TMPDIR/model.gguf"
	for i in 1 2; do
		run --separate-stderr timeout 5 wb-count -T "$BATS_TEST_TMPDIR/model.gguf" --ids <<<'{"text":"hello[X]"}'
		assert_success
		assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	done
	cache_file >/dev/null
	rm -f "$BATS_TEST_TMPDIR/model.gguf"
}

@test "ollama: models are cached as their GGUF blob" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	node "$TOP/tests/tokenizer/mkgguf.js" --from "$BATS_TEST_TMPDIR/tok.json" \
	    llama-bpe "$BATS_TEST_TMPDIR/model.gguf"
	d=$BATS_TEST_TMPDIR/ollama
	sum=$(sha256sum "$BATS_TEST_TMPDIR/model.gguf" | cut -d' ' -f1)
	mkdir -p "$d/blobs" "$d/manifests/registry.ollama.ai/library/tiny"
	cp "$BATS_TEST_TMPDIR/model.gguf" "$d/blobs/sha256-$sum"
	printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":1}]}\n' \
	    "$sum" >"$d/manifests/registry.ollama.ai/library/tiny/latest"
	export OLLAMA_MODELS=$d
	run --separate-stderr wb-count -M ollama:tiny --ids <<<'{"text":"hello[X]"}'
	assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	id=$(ident "$(cache_file)")
	run --separate-stderr wb-count -M ollama:tiny --ids <<<'{"text":"hello[X]"}'
	assert_output '{"text":"hello[X]","ids":[259,300],"tokens":2}'
	assert_equal "$(ident "$(cache_file)")" "$id"
}

@test "a cache read sound is stamped once it is old, and a stamped cache written to is read through again" {
	synthetic "$BATS_TEST_TMPDIR/tok.json"
	want='{"text":"hello[X]<S>","ids":[259,300,301],"tokens":3}'
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"hello[X]<S>"}'
	assert_output "$want"
	f=$(cache_file)
	ok=${f%.wbt}.ok
	# Fresh: a write within the kernel's clock tick could keep its ctime.
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"hello[X]<S>"}'
	assert_output "$want"
	[ ! -e "$ok" ]
	sleep 2.1
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"hello[X]<S>"}'
	assert_output "$want"
	[ -s "$ok" ]
	cp "$f" "$BATS_TEST_TMPDIR/good"
	id=$(ident "$f")
	# One byte damaged in place: its ctime is new, so it is read through,
	# passed over and written again.
	size=$(stat -c %s "$f")
	printf '\377' | dd of="$f" bs=1 seek=$((size - 100)) conv=notrunc status=none
	run --separate-stderr wb-count -T "$BATS_TEST_TMPDIR/tok.json" --ids --allow-special <<<'{"text":"hello[X]<S>"}'
	assert_success
	assert_equal "$stderr" ''
	assert_output "$want"
	cmp "$BATS_TEST_TMPDIR/good" "$f"
	[ "$(stat -c %i "$f")" != "${id% *}" ]
}
