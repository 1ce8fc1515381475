#!/usr/bin/env bats
# The examples of every man page and of README.md are run, so that they
# cannot rot: a line "$ command" is run and the lines after it, up to the
# next command or the end of the display, are its expected output.

load helper

# Print the examples of a page as: "$ cmd" lines, expected lines, and "%%"
# at the end of each literal display.
examples() {
	awk '
		/^\.Sh / { inex = ($2 == "EXAMPLES") }
		inex && /^\.Bd -literal/ { lit = 1; next }
		inex && /^\.Ed/ { lit = 0; print "%%"; next }
		inex && lit { gsub(/\\&/, ""); gsub(/\\e/, "\\"); print }
	' "$1"
}

# The same for a Markdown file: in its indented blocks, a "$ cmd" line
# (joined with the lines its trailing backslashes continue) and the
# indented lines after it that are not another "$". A command whose
# output is not shown is left out: it needs what a test cannot have (a
# model server, a relay, the network) or its output is not the point.
md_examples() {
	awk '
		function flush() {
			if (cmd != "" && want != "")
				printf "$ %s\n%s%%%%\n", cmd, want
			cmd = want = ""
		}
		/^    \$ / {
			flush()
			cmd = substr($0, 7)
			while (cmd ~ /\\$/ && (getline line) > 0) {
				sub(/^ +/, "", line)
				cmd = substr(cmd, 1, length(cmd) - 1) line
			}
			next
		}
		/^    / && cmd != "" { want = want substr($0, 5) "\n"; next }
		{ flush() }
		END { flush() }
	' "$1"
}

# Run the examples read from standard input in directory $1; fail on the
# first whose output differs. Sets ran to the number run.
run_examples() {
	local dir=$1 cmd="" want="" line got
	ran=0
	while IFS= read -r line; do
		if [[ $line == '$ '* || $line == %% ]]; then
			if [ -n "$cmd" ]; then
				got=$(cd "$dir" && bash -c "$cmd" 2>&1) || true
				if [ "$got" != "${want%$'\n'}" ]; then
					printf 'example: %s\nwant:\n%s\ngot:\n%s\n' \
					    "$cmd" "${want%$'\n'}" "$got" >&2
					return 1
				fi
				ran=$((ran + 1))
			fi
			cmd="" want=""
			if [[ $line == '$ '* ]]; then cmd=${line#\$ }; fi
		elif [ -n "$cmd" ]; then
			want+="$line"$'\n'
		fi
	done
}

# Run every example of a page, in a scratch directory.
check_page() {
	run_examples "$BATS_TEST_TMPDIR" < <(examples "$1")
	[ "$ran" -gt 0 ] || [ "$(basename "$1")" = wb.7 ]
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

@test "the examples of README.md give the output shown" {
	run_examples "$TOP" < <(md_examples "$TOP/README.md")
	[ "$ran" -gt 0 ]
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

@test "every command's --help is its man page's SYNOPSIS" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		synopsis=$(mandoc -Tascii -Ios= "$page" | col -b |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' ' ')
		usage=$("$name" --help | sed 's/^usage: //' | tr -s ' \n' ' ')
		assert_equal "$(echo $usage)" "$(echo $synopsis)"
	done
}

@test "every option of every command is described in its man page" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		body=$(mandoc -Tascii -Ios= "$page" | col -b | sed -n '/^DESCRIPTION/,$p')
		for opt in $("$name" --help | grep -o -- '--\{0,1\}-[A-Za-z][-a-z]*' | sort -u) \
		    -h --help -V --version; do
			grep -q -- "$opt\([^-a-z]\|$\)" <<<"$body" ||
			    fail "$name: $opt is not described in $(basename "$page")"
		done
	done
}
