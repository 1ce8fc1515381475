#!/usr/bin/env bats
# scripts/fetch-encodings when npm cannot reach its registry.

load helper

@test "an unreachable registry gives npm's own error, what to do, and 69" {
	export npm_config_registry=http://127.0.0.1:9/
	export npm_config_cache=$BATS_TEST_TMPDIR/c npm_config_fetch_retries=0
	run -69 --separate-stderr "$TOP/scripts/fetch-encodings" "$BATS_TEST_TMPDIR/enc"
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'fetch-encodings: packing tiktoken@1.0.22'
	# npm 10 and later say "npm error", older ones "npm ERR!".
	assert_regex "${stderr_lines[1]}" '^npm (error|ERR!) code ECONNREFUSED$'
	assert_regex "$stderr" $'\nnpm (error|ERR!) FetchError: request to http://127.0.0.1:9/tiktoken failed'
	refute_regex "$stderr" ' at '
	assert_equal "${stderr_lines[-1]}" "fetch-encodings: npm could not fetch tiktoken@1.0.22; check the network and npm's registry (npm config get registry), then run fetch-encodings again"
	assert [ ! -e "$BATS_TEST_TMPDIR/enc" ]
}

@test "--help prints the usage, and an unknown option is no directory to fill" {
	run --separate-stderr "$TOP/scripts/fetch-encodings" --help
	assert_success
	assert_output 'usage: fetch-encodings [--llama3] [DIR]'
	assert_equal "$stderr" ''
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd"
	for opt in --bogus -x "--llama3 --bogus"; do
		# shellcheck disable=SC2086 # "--llama3 --bogus" is two words
		NPM=false run -64 --separate-stderr "$TOP/scripts/fetch-encodings" $opt
		assert_equal "$stderr" "fetch-encodings: ${opt##* }: unknown option
usage: fetch-encodings [--llama3] [DIR]"
	done
	assert_equal "$(ls -A)" ''
}
