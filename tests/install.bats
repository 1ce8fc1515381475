#!/usr/bin/env bats
# make install and make uninstall. The tree is built for these tests in a
# build directory of their own (make B=...), so that the build the other
# tests run is left as it is.

load helper

# make in this tree, in this file's build directory, with nothing from an
# outer make (make check, make sanitize) or the environment but PATH.
wbmake() {
	env -i PATH="$PATH" make -s -C "$TOP" B="$BATS_FILE_TMPDIR/b" \
	    CFLAGS="-O0 -g" "$@"
}

# Count a text with an installed wb-count, which can only find rank files
# in its own DATADIR.
installed_count() {
	env -u WB_ENCODINGS_DIR -u XDG_DATA_HOME HOME="$BATS_TEST_TMPDIR/home" \
	    "$1/bin/wb-count" -M gpt-4o <<<'{"text":"hello world"}'
}

setup_file() {
	wbmake all
}

@test "make install PREFIX=DIR after a plain make installs commands that find their rank files" {
	wbmake install PREFIX="$BATS_TEST_TMPDIR/x" 2>/dev/null
	run --separate-stderr installed_count "$BATS_TEST_TMPDIR/x"
	assert_success
	assert_output '{"text":"hello world","tokens":2}'
	wbmake install PREFIX="$BATS_TEST_TMPDIR/y" 2>/dev/null
	run --separate-stderr installed_count "$BATS_TEST_TMPDIR/y"
	assert_success
	assert_output '{"text":"hello world","tokens":2}'
}

@test "make with an unchanged PREFIX compiles nothing again" {
	local o=$BATS_FILE_TMPDIR/b/lib/exact.o before
	wbmake all PREFIX="$BATS_TEST_TMPDIR/x"
	before=$(stat -c %y "$o")
	wbmake all PREFIX="$BATS_TEST_TMPDIR/x"
	assert_equal "$(stat -c %y "$o")" "$before"
	wbmake all PREFIX="$BATS_TEST_TMPDIR/z"
	[ "$(stat -c %y "$o")" != "$before" ]
	grep -qF "\"$BATS_TEST_TMPDIR/z/share/wb\"" "$BATS_FILE_TMPDIR/b/lib/wb_datadir.h"
}

@test "installed files have their modes whatever the umask" {
	local x=$BATS_TEST_TMPDIR/x
	(umask 077 && wbmake install PREFIX="$x" 2>/dev/null)
	assert_equal "$(stat -c %a "$x/bin/wb-count" "$x/bin/wb-relay" \
	    "$x/share/wb/fetch-encodings" "$x/lib/libwb.a" "$x/include/wb.h" \
	    "$x/lib/pkgconfig/wb.pc" "$x/share/man/man1/wb-count.1" \
	    "$x/share/man/man7/wb.7" "$x/share/wb/encodings/o200k_base.tiktoken" |
	    tr '\n' ' ')" '755 755 755 644 644 644 644 644 644 '
}

@test "the relay is installed as wb-relay, with its nginx template if there is one" {
	local x=$BATS_TEST_TMPDIR/x
	wbmake install PREFIX="$x" 2>/dev/null
	cmp "$TOP/scripts/relay" "$x/bin/wb-relay"
	cmp "$TOP/examples/player.html" "$x/share/wb/player.html"
	cmp "$TOP/man/wb-relay.8" "$x/share/man/man8/wb-relay.8"
	if [ -f "$TOP/scripts/relay.nginx.conf" ]; then
		cmp "$TOP/scripts/relay.nginx.conf" "$x/share/wb/relay.nginx.conf"
	else
		[ ! -e "$x/share/wb/relay.nginx.conf" ]
	fi
}

@test "the build's completions are installed where bash and zsh look for them" {
	local c=$BATS_FILE_TMPDIR/b/completions x=$BATS_TEST_TMPDIR/x
	mkdir -p "$c"
	[ -f "$c/wb-count" ] || printf 'complete -F _wb wb-count\n' >"$c/wb-count"
	[ -f "$c/_wb-count" ] || printf '#compdef wb-count\n' >"$c/_wb-count"
	wbmake install PREFIX="$x" 2>/dev/null
	cmp "$c/wb-count" "$x/share/bash-completion/completions/wb-count"
	cmp "$c/_wb-count" "$x/share/zsh/vendor-completions/_wb-count"
}

@test "the installed fetch-encodings runs its helpers from beside it" {
	local x=$BATS_TEST_TMPDIR/x npm=$BATS_TEST_TMPDIR/npm
	wbmake install PREFIX="$x" 2>/dev/null
	# A stand-in for npm pack: a tiktoken package with one rank each.
	cat >"$npm" <<-'EOF'
	#!/bin/sh
	mkdir -p p/package/encoders
	for n in gpt2 r50k_base p50k_base cl100k_base o200k_base; do
		printf '{"bpe_ranks":"! 0 YQ=="}' >p/package/encoders/$n.json
	done
	tar -czf t.tgz -C p package && echo t.tgz
	EOF
	chmod +x "$npm"
	run -65 --separate-stderr env NPM="$npm" "$x/share/wb/fetch-encodings" "$BATS_TEST_TMPDIR/enc"
	assert_equal "$(grep -c 'sha256 .*, expected .*; not installed' <<<"$stderr")" 4
	# and the package's gpt2 ranks are not r50k_base's
	grep -qxF "fetch-encodings: gpt2: sha256 $(printf 'YQ== 0\n' | sha256sum | cut -d' ' -f1), not r50k_base's ranks, which wb's gpt2 reads" <<<"$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/enc/o200k_base.tiktoken" ]
}

@test "llama3.tiktoken is installed only if fetched after make encodings fetched it for the tests" {
	local e=$BATS_TEST_TMPDIR/enc x=$BATS_TEST_TMPDIR/x
	mkdir -p "$e"
	printf 'YQ== 0\n' >"$e/cl100k_base.tiktoken"
	printf 'YQ== 0\n' >"$e/llama3.tiktoken"
	touch -d @1000 "$e/llama3.tiktoken"
	touch -d @2000 "$e/.llama3-for-tests"
	run --separate-stderr wbmake install PREFIX="$x" ENCDIR="$e"
	assert_success
	assert_equal "$stderr" "install: llama3.tiktoken was fetched for the tests; to install it, accept its license: scripts/fetch-encodings --llama3 $e"
	[ -f "$x/share/wb/encodings/cl100k_base.tiktoken" ]
	[ ! -e "$x/share/wb/encodings/llama3.tiktoken" ]
	touch -d @3000 "$e/llama3.tiktoken"
	run --separate-stderr wbmake install PREFIX="$x" ENCDIR="$e"
	assert_success
	assert_equal "$stderr" ""
	[ -f "$x/share/wb/encodings/llama3.tiktoken" ]
}

@test "uninstall removes every file that install put there" {
	local x=$BATS_TEST_TMPDIR/x
	wbmake install PREFIX="$x" 2>/dev/null
	[ -x "$x/bin/wb-count" ]
	wbmake uninstall PREFIX="$x"
	run find "$x" ! -type d
	assert_success
	assert_output ''
}

@test "warnings are errors in make check, not in a plain make" {
	run env -i PATH="$PATH" make -n -C "$TOP" B="$BATS_TEST_TMPDIR/n" all
	assert_success
	assert_output --partial ' -Wall '
	refute_output --partial -Werror
	run env -i PATH="$PATH" make -n -C "$TOP" B="$BATS_TEST_TMPDIR/n" check
	assert_success
	assert_output --partial ' -Werror '
}
