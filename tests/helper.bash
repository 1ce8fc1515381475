# Shared by the bats files: assertions, and a check that the commands under
# test are this tree's fresh build, not an installed copy.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# The commands must come from this tree: its own build or one under build/.
case $(command -v wb-count) in
"$TOP"/cmd/* | "$TOP"/build/*/cmd/* | "${WB_WRAPPED:-/nonexistent}"/*) ;;
*) echo "wb-count is not this tree's build: run through make check" >&2
   exit 1 ;;
esac

# Under memcheck, every command runs through valgrind, from a directory of
# wrappers put first on PATH.
if [ -n "${WB_VALGRIND:-}" ] && [ -z "${WB_WRAPPED:-}" ]; then
	export WB_WRAPPED=$BATS_RUN_TMPDIR/valgrind-bin
	mkdir -p "$WB_WRAPPED"
	for c in "$(dirname "$(command -v wb-count)")"/wb-*; do
		printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "%s" "$@"\n' "$c" >"$WB_WRAPPED/${c##*/}"
		chmod +x "$WB_WRAPPED/${c##*/}"
	done
fi
[ -n "${WB_WRAPPED:-}" ] && PATH=$WB_WRAPPED:$PATH

# A default model from the caller's shell would change every default count.
unset WB_MODEL
# Compiled tokenizers are cached for this run only, not in the caller's home.
export XDG_CACHE_HOME=$BATS_RUN_TMPDIR/cache

# Tests that limit memory cannot run under a sanitizer or valgrind.
under_tool() {
	[ -n "${WB_SANITIZE:-}" ] || [ -n "${WB_VALGRIND:-}" ]
}

# streams_as_whole TEXT MIN TOKENIZER...: with each tokenizer file, with
# and without --allow-special, wb-count -r on the file TEXT (streamed, cut
# where the counter may cut) gives the count of the whole text as one
# record, and that count is over MIN.
streams_as_whole() {
	local text=$1 min=$2 file flag want got
	shift 2
	for file; do
		for flag in "" --allow-special; do
			want=$(jq -Rsc '{text: .}' "$text" | wb-count -T "$file" $flag | jq .tokens)
			got=$(wb-count -r -q -T "$file" $flag <"$text")
			[ "$want" -gt "$min" ]
			assert_equal "$got" "$want"
		done
	done
}

# hf_reference TOK FLAG OUT: the tokenizer.json to give Hugging Face's
# tokenizers for what wb-count -T TOK FLAG counts: TOK itself with
# --allow-special, else TOK without its special added tokens.
hf_reference() {
	if [ -z "$2" ]; then
		jq -c '.added_tokens |= map(select(.special | not))' "$1" >"$3"
	else
		cp "$1" "$3"
	fi
}
