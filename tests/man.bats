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

@test "the examples of wb-subscribe(1) give the output shown" {
	check_page "$TOP/man/wb-subscribe.1"
}

@test "the examples of wb-prompt(1) give the output shown" {
	cp -r "$TOP/examples" "$BATS_TEST_TMPDIR/"
	check_page "$TOP/man/wb-prompt.1"
}

@test "the examples of README.md give the output shown" {
	run_examples "$TOP" < <(md_examples "$TOP/README.md")
	[ "$ran" -gt 0 ]
}

@test "the README's quick start reaches this checkout's commands, rank files and pages" {
	setup=$(awk '/^## / { q = ($0 == "## Quick start") }
	    q && /^    / && !/^    make / { print substr($0, 5) }' "$TOP/README.md")
	assert [ -n "$setup" ]
	got=$(cd "$TOP" && env -i HOME="$BATS_TEST_TMPDIR" PATH=/usr/bin:/bin \
	    bash -c "$setup"$'\n''printf "%s\n" "${PATH%%:*}" "$WB_ENCODINGS_DIR"')
	assert_equal "$got" "$TOP/cmd"$'\n'"$TOP/build/encodings"
	assert [ -f "$TOP/build/encodings/cl100k_base.tiktoken" ]
	pages=$(grep -o '`man man/[^`]*`' "$TOP/README.md" | sed 's/^`man //; s/`$//')
	assert [ -n "$pages" ]
	for page in $pages; do
		assert [ -f "$TOP/$page" ]
	done
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

@test "every command's --help fits in 80 columns, its help lines wrapped beside the options" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		"$name" --help | awk -v n="$name" 'length > 79 { print n ": " $0; bad = 1 } END { exit bad }' ||
		    fail "$name --help: lines over 79 columns"
	done
	run --separate-stderr wb-count --help
	assert_line '      --list-models           print the models -M knows, one JSON line each,'
	assert_line '                              and exit'
}

@test "every command's --help has a line for each option of its usage" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		usage=$("$name" --help | sed '/^$/,$d')
		lines=$("$name" --help | sed '1,/^options:$/d')
		for opt in $(grep -o -- '--[a-z][-a-z]*' <<<"$usage" | sort -u); do
			grep -q -- "^  \(-[A-Za-z0-9], \|    \)$opt\( \|$\)" <<<"$lines" ||
			    fail "$name --help: no line for $opt"
		done
		for opt in $(grep -o -- '\[-[A-Za-z0-9]\+' <<<"$usage" | cut -c3- | grep -o .); do
			grep -q -- "^  -$opt, --" <<<"$lines" ||
			    fail "$name --help: no line for -$opt"
		done
	done
}

@test "every option of every command is described in its man page" {
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		body=$(mandoc -Tascii -Ios= "$page" | col -b | sed -n '/^DESCRIPTION/,$p')
		for opt in $("$name" --help | sed -n 's/^  \(-[A-Za-z0-9], \)\{0,1\} *\(--[a-z][-a-z]*\).*/\1 \2/p' |
		    tr -d , | tr ' ' '\n' | sort -u) \
		    -h --help -V --version; do
			grep -q -- "$opt\([^-a-z]\|$\)" <<<"$body" ||
			    fail "$name: $opt is not described in $(basename "$page")"
		done
	done
}

# The exit statuses as "N NAME": the enum in wb.h ...
enum_statuses() {
	sed -n '/^enum wb_status {/,/^};/s/^\t\(WB_[A-Z]*\) = \([0-9]*\),.*/\2 \1/p' \
	    "$TOP/lib/wb.h"
}

# ... and the EXIT STATUS of a command's page as "N text", one line each.
page_statuses() {
	awk '
		/^\.Sh / { in_es = ($0 == ".Sh EXIT STATUS") }
		!in_es { next }
		/^\.It [0-9]/ { if (n != "") print n, t; n = $2; t = ""; next }
		/^\.El/ { if (n != "") print n, t; n = ""; next }
		n != "" { sub(/^\.[A-Z][a-z] /, ""); t = t (t == "" ? "" : " ") $0 }
	' "$1"
}

@test "wb.h, wb(7) and README.md give the same exit statuses" {
	enum=$(enum_statuses)
	assert [ "$(wc -l <<<"$enum")" -ge 2 ]
	man=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /s/^\.It \([0-9]*\) Ta Dv \(WB_[A-Z]*\) Ta /\1 \2 /p' \
	    "$TOP/man/wb.7")
	readme=$(sed -n 's/^| \([0-9]*\) | `\(WB_[A-Z]*\)` | \(.*\) |$/\1 \2 \3/p' "$TOP/README.md")
	assert_equal "$(cut -d' ' -f1,2 <<<"$man")" "$enum"
	assert_equal "$readme" "$man"
}

@test "each command's exit statuses are among wb(7)'s, with their meanings" {
	# The words that carry each status's meaning, whatever the page says
	# of its own causes.
	local -A means=([0]='^Every' [1]='over|not fit' [64]='command line'
	    [65]='bad' [66]='could not be (opened|found|read)|not found'
	    [69]='not delivered|unavailable' [70]='[Ii]nternal'
	    [74]='read|written' [75]='not delivered|try again'
	    [77]='refused' [78]='[Cc]onfiguration')
	local nums=" $(enum_statuses | cut -d' ' -f1 | tr '\n' ' ')"
	for page in "$TOP"/man/wb-*.1; do
		page_statuses "$page" >"$BATS_TEST_TMPDIR/st"
		assert [ -s "$BATS_TEST_TMPDIR/st" ]
		while read -r n text; do
			[[ $nums == *" $n "* ]] ||
			    fail "$(basename "$page"): $n is not a status of wb.h"
			grep -Eq -- "${means[$n]}" <<<"$text" ||
			    fail "$(basename "$page"): $n: '$text' does not mean /${means[$n]}/"
		done <"$BATS_TEST_TMPDIR/st"
	done
}

@test "every command's -h and -V are described with its other options" {
	for page in "$TOP"/man/wb-*.1; do
		desc=$(mandoc -Tascii -Ios= "$page" | col -b | sed -n '/^DESCRIPTION/,/^[A-Z]/p')
		for opt in '-h, --help' '-V, --version'; do
			grep -q -- "^ *$opt\$" <<<"$desc" ||
			    fail "$(basename "$page"): $opt is not among the options"
		done
	done
}

@test "each command's ENVIRONMENT names the variables it reads, and only those" {
	# Which command reaches which getenv() of cmd/ and lib/.
	local -A reads=(
	    [wb-broadcast]="WB_RELAY_TOKEN"
	    [wb-budget]="HOME OLLAMA_MODELS WB_CONFIG WB_ENCODINGS_DIR WB_MODEL XDG_CACHE_HOME XDG_CONFIG_HOME XDG_DATA_HOME"
	    [wb-count]="HOME OLLAMA_MODELS WB_ENCODINGS_DIR WB_MODEL XDG_CACHE_HOME XDG_DATA_HOME"
	    [wb-prompt]="HOME OLLAMA_MODELS WB_CONFIG WB_ENCODINGS_DIR WB_MODEL XDG_CACHE_HOME XDG_CONFIG_HOME XDG_DATA_HOME"
	    [wb-truncate]="HOME OLLAMA_MODELS WB_ENCODINGS_DIR WB_MODEL XDG_CACHE_HOME XDG_DATA_HOME")
	local unreached=
	words() { tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '; }
	all=$(grep -oh 'getenv("[A-Za-z_]*")' "$TOP"/lib/*.c "$TOP"/cmd/*.c |
	    sed 's/^getenv("//; s/")$//' | tr '\n' ' ' | words)
	assert_equal "$all" "$(echo "${reads[@]}" $unreached | words)"
	for page in "$TOP"/man/wb-*.1; do
		name=$(basename "$page" .1)
		env=$(sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' "$page" | grep '^\.It ' || true)
		if grep -v '^\.It Ev ' <<<"$env" | grep -q .; then
			fail "$name: ENVIRONMENT has more than variables"
		fi
		got=$(grep -o 'Ev [A-Z_]*' <<<"$env" | cut -d' ' -f2 | tr '\n' ' ' | words)
		assert_equal "$name: $got" "$name: $(echo "${reads[$name]-}" | words)"
	done
}
