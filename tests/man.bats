#!/usr/bin/env bats
# The EXAMPLES of every man page are run, so that they cannot rot: in each
# literal display, a line "$ command" is run and the lines after it, up to
# the next command or the end of the display, are its expected output.

load helper

# Print the examples of a page as: "$ cmd" lines and expected lines.
examples() {
	awk '
		/^\.Sh / { inex = ($2 == "EXAMPLES") }
		inex && /^\.Bd -literal/ { lit = 1; next }
		inex && /^\.Ed/ { lit = 0; print "%%"; next }
		inex && lit { gsub(/\\&/, ""); gsub(/\\e/, "\\"); print }
	' "$1"
}

# Run every example of a page; fail on the first whose output differs.
check_page() {
	local cmd="" want="" n=0 line got
	while IFS= read -r line; do
		if [[ $line == '$ '* || $line == %% ]]; then
			if [ -n "$cmd" ]; then
				got=$(cd "$BATS_TEST_TMPDIR" && bash -c "$cmd" 2>&1) || true
				if [ "$got" != "${want%$'\n'}" ]; then
					printf 'example: %s\nwant:\n%s\ngot:\n%s\n' \
					    "$cmd" "${want%$'\n'}" "$got" >&2
					return 1
				fi
				n=$((n + 1))
			fi
			cmd="" want=""
			[[ $line == '$ '* ]] && cmd=${line#\$ }
		elif [ -n "$cmd" ]; then
			want+="$line"$'\n'
		fi
	done < <(examples "$1")
	[ "$n" -gt 0 ] || [ "$(basename "$1")" = wb.7 ]
}

@test "the examples of wb-count(1) give the output shown" {
	check_page "$TOP/man/wb-count.1"
}

@test "the examples of wb-truncate(1) give the output shown" {
	check_page "$TOP/man/wb-truncate.1"
}

@test "the examples of wb-budget(1) give the output shown" {
	check_page "$TOP/man/wb-budget.1"
}

@test "the examples of wb-broadcast(1) give the output shown" {
	check_page "$TOP/man/wb-broadcast.1"
}

@test "the examples of wb-prompt(1) give the output shown" {
	cp -r "$TOP/examples" "$BATS_TEST_TMPDIR/"
	check_page "$TOP/man/wb-prompt.1"
}

@test "the example file in wb-config(5) is examples/wb.yaml, and loads" {
	got=$(awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Ed/ { exit }
	    ex && lit { sub(/^\\&/, ""); gsub(/\\e/, "\\"); print }
	    ex && /^\.Bd -literal/ { lit = 1 }' "$TOP/man/wb-config.5")
	assert_equal "$got" "$(cat "$TOP/examples/wb.yaml")"
	run --separate-stderr wb-budget -c "$TOP/examples/wb.yaml" -w one-shot --print-config
	assert_success
	assert_output --partial '"total_budget_tokens":2500,'
}

@test "every command's --help starts with its man page's SYNOPSIS" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		synopsis=$(mandoc -Tascii -Ios= "$page" | col -b |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' ' ')
		usage=$("$name" --help | sed '/^$/,$d; s/^usage: //' | tr -s ' \n' ' ')
		assert_equal "$(echo $usage)" "$(echo $synopsis)"
	done
}

@test "every command's --help has a line for each option of its usage" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		usage=$("$name" --help | sed '/^$/,$d')
		lines=$("$name" --help | sed '1,/^options:$/d')
		for opt in $(grep -o -- '--[a-z][-a-z]*' <<<"$usage" | sort -u); do
			grep -q -- "^  \(-[A-Za-z], \|    \)$opt\( \|$\)" <<<"$lines" ||
			    fail "$name --help: no line for $opt"
		done
		for opt in $(grep -o -- '\[-[A-Za-z]\+' <<<"$usage" | cut -c3- | grep -o .); do
			grep -q -- "^  -$opt, --" <<<"$lines" ||
			    fail "$name --help: no line for -$opt"
		done
	done
}

@test "every option of every command is described in its man page" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		body=$(mandoc -Tascii -Ios= "$page" | col -b | sed -n '/^DESCRIPTION/,$p')
		for opt in $("$name" --help | sed -n 's/^  \(-[A-Za-z], \)\{0,1\} *\(--[a-z][-a-z]*\).*/\1 \2/p' |
		    tr -d , | tr ' ' '\n' | sort -u) \
		    -h --help -V --version; do
			grep -q -- "$opt\([^-a-z]\|$\)" <<<"$body" ||
			    fail "$name: $opt is not described in $(basename "$page")"
		done
	done
}
