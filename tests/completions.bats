#!/usr/bin/env bats
# The bash and zsh completions, generated from each command's --help.

load helper

COMP=${WB_COMPLETIONS:-$TOP/completions}

# What bash completes for the words given, one per line.
complete_words() {
	local cmd=$1
	shift
	# shellcheck disable=SC1090
	source "$COMP/$cmd"
	COMP_WORDS=("$cmd" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	"_$(tr - _ <<<"$cmd")"
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash completes every long option of --help" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt wb-broadcast wb-subscribe; do
		run complete_words "$cmd" --
		for opt in $("$cmd" --help | sed '1,/^options:$/d' | grep -o -- '--[a-z][-a-z0-9]*' | sort -u); do
			assert_line -- "$opt"
		done
	done
	run complete_words wb-count --me
	assert_output -- --method
	run complete_words wb-budget -c ''
	refute_output --partial -- --method
}

@test "zsh completions name every option of --help, with its help line" {
	for cmd in wb-count wb-truncate wb-budget wb-prompt wb-broadcast wb-subscribe; do
		head -n 1 "$COMP/_$cmd" | grep -qx "#compdef $cmd"
		for opt in $("$cmd" --help | sed '1,/^options:$/d' | grep -o -- '--[a-z][-a-z0-9]*' | sort -u); do
			grep -q -- "$opt[]},[]" "$COMP/_$cmd" || fail "_$cmd: no $opt"
		done
	done
	grep -qF "'(-m --method)'{-m,--method}'[count by char, word or hybrid (default hybrid)]:METHOD:'" "$COMP/_wb-count"
	# A help wrapped in --help is whole, on one line.
	grep -qF "'--list-models[print the models -M knows, one JSON line each, and exit]' \\" "$COMP/_wb-count"
	grep -qF "'(-z --print0)'{-z,--print0}'[with -F text, end each prompt with a NUL instead of a form feed line between them]' \\" "$COMP/_wb-prompt"
}
