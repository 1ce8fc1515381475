#!/usr/bin/env bats
# scripts/bootstrap: which packages each target needs, and what a user who
# is not root is told. It never runs apt-get here: every run that could
# find a package missing runs unprivileged.

load helper

BOOTSTRAP=$TOP/scripts/bootstrap

# Run a command unprivileged: as ourselves, or as nobody when we are root.
as_user() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
	fi
}

setup() {
	if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups -- true 2>/dev/null; then
		skip "root, and no way to run as nobody"
	fi
}

# The bootstrap lines that make -n shows for a target.
bootstraps() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -C "$TOP" "$1" 2>&1 |
	    grep -xE 'scripts/bootstrap [a-z]+' | sort -u | tr '\n' ' '
}

@test "with everything make check needs installed, bootstrap says nothing" {
	for target in '' build test; do
		run --separate-stderr as_user "$BOOTSTRAP" $target
		assert_success
		assert_output ''
		assert_equal "$stderr" ''
	done
}

@test "an unknown target is a usage error" {
	run -64 --separate-stderr "$BOOTSTRAP" everything
	assert_output ''
	assert_equal "$stderr" 'usage: bootstrap [build|test|lint|sanitize|fuzz|valgrind]'
}

@test "a user who is not root gets the one apt-get line to run, and 69" {
	run -69 --separate-stderr as_user env WB_BOOTSTRAP_EXTRA='wb-no-such-package wb-nor-this' \
	    "$BOOTSTRAP" build
	assert_output ''
	assert_equal "$stderr" 'bootstrap: make build needs packages; as root, run: apt-get install -y wb-no-such-package wb-nor-this'
}

@test "node and npm are needed from the test set on, not to build" {
	# A PATH with what bootstrap runs, but no node or npm; reachable by
	# nobody.
	chmod 711 "$BATS_RUN_TMPDIR"
	mkdir "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v dpkg-query)" "$(command -v id)" "$BATS_TEST_TMPDIR/bin/"
	run --separate-stderr as_user env PATH="$BATS_TEST_TMPDIR/bin" "$BOOTSTRAP" build
	assert_success
	assert_equal "$stderr" ''
	run -69 --separate-stderr as_user env PATH="$BATS_TEST_TMPDIR/bin" "$BOOTSTRAP" test
	assert_equal "$stderr" 'bootstrap: make test needs packages; as root, run: apt-get install -y nodejs npm'
}

@test "make all and make demo bootstrap the build set, each other target its own" {
	assert_equal "$(bootstraps all)" 'scripts/bootstrap build '
	assert_equal "$(bootstraps demo)" 'scripts/bootstrap build '
	assert_equal "$(bootstraps check)" 'scripts/bootstrap build scripts/bootstrap test '
	assert_equal "$(bootstraps lint)" 'scripts/bootstrap lint '
	assert_equal "$(bootstraps sanitize)" 'scripts/bootstrap build scripts/bootstrap sanitize '
	assert_equal "$(bootstraps bench-smoke)" 'scripts/bootstrap build scripts/bootstrap test '
}

@test "where there is no dpkg, bootstrap names what the target needs and lets make go on" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v id)" "$BATS_TEST_TMPDIR/bin/"
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin" "$BOOTSTRAP" build
	assert_success
	assert_output ''
	assert_equal "$stderr" 'bootstrap: not Debian: packages unchecked; make build needs the equivalents of: gcc libc6-dev make pkg-config libjansson-dev libyaml-dev libwslay-dev libssl-dev jq'
}
