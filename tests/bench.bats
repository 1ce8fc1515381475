#!/usr/bin/env bats
# scripts/bench's command line (the runs themselves are make bench and
# make bench-smoke).

load helper

@test "scripts/bench --help prints its usage; a size that is not a number is refused" {
	run --separate-stderr "$TOP/scripts/bench" --help
	assert_success
	assert_line -n 0 'Usage: scripts/bench [MB]      (corpus size, default 24)'
	assert_line --partial 'scripts/bench broadcast [--e2e] [--rows ROWS] [EVENTS]'
	assert_line -n -1 '           few seconds: fails if a command fails or an event is lost)'
	assert_equal "$stderr" ''
	for args in --bogus 'count x' '1 2' 0; do
		# shellcheck disable=SC2086 # each is a command line
		run -64 --separate-stderr "$TOP/scripts/bench" $args
		assert_equal "${stderr_lines[0]}" "bench: not a size in MB: ${args#count }"
		assert_equal "${stderr_lines[1]}" 'Usage: scripts/bench [MB]      (corpus size, default 24)'
		assert_output ''
	done
}
