#!/usr/bin/env bats
# examples/player.html in a real headless browser (Debian's chromium, driven
# over the DevTools protocol by tests/player.js), served by a real relay on
# loopback, the page opened by the URL relay sign gives, the events
# published by wb-broadcast. Every process a test starts is stopped by PID
# in teardown; every wait is bounded.

load helper
load relay

RELAY=$TOP/scripts/relay
WORLD='Salt Marsh Zoë'
# The channel the relay, wb-broadcast's {world_id} and the page all name
# $WORLD by: the tests publish by the template, so all three must agree.
CHANNEL=world.Salt.20Marsh.20Zo.C3.AB
PUB_TEMPLATE='/pub/world.{world_id}'

setup() {
	command -v chromium >/dev/null || skip "no chromium (scripts/bootstrap test installs it)"
	unset WB_RELAY_OPEN_SUBSCRIBE
	searchable "$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	D=$BATS_TEST_TMPDIR/relay
	P=$BATS_TEST_TMPDIR/page
	mkdir -p "$P"
}

teardown() {
	local p d
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r p; do kill -TERM "$p" 2>/dev/null || true; done <"$BATS_TEST_TMPDIR/pids"
	fi
	# the driver closes the browser on TERM; if it could not, end the
	# browser's process group by its PID
	if [ -s "$P/chromium.pid" ]; then
		p=$(cat "$P/chromium.pid")
		wait_until 60 eval "! kill -0 $p 2>/dev/null" || kill -KILL -- "-$p" 2>/dev/null || true
	fi
	if [ -f "$BATS_TEST_TMPDIR/relays" ]; then
		while read -r d; do "$RELAY" stop -d "$d" >/dev/null 2>&1 || true; done <"$BATS_TEST_TMPDIR/relays"
	fi
	if [ -f "$BATS_TEST_TMPDIR/redises" ]; then
		while read -r d p; do
			"$RELAY" redis-stop -d "$d" --redis-port "$p" >/dev/null 2>&1 || true
		done <"$BATS_TEST_TMPDIR/redises"
	fi
}

# The page's state as player.js last read it: field $1.
page() { jq -r ".$1" "$P/state" 2>/dev/null; }
page_count_at_least() { [ "$(page count)" -ge "$1" ] 2>/dev/null; }
page_live() { [ "$(page status)" = live ]; }
acks_at_least() { [ "$(grep -c delivered "$BATS_TEST_TMPDIR/acks" 2>/dev/null)" -ge "$1" ]; }

# Open the page at the URL relay sign gives for $WORLD, and wait until its
# EventSource is open.
open_page() {
	local url
	url=$("$RELAY" sign -d "$D" --world "$WORLD")
	bg node "$TOP/tests/player.js" "$url" "$P" 150 2>"$P/driver.err"
	DRIVER=$BG
	wait_until 300 page_live || fail "the page is not live: $(cat "$P/state" "$P/driver.err" 2>&1)"
}

# N WorldDataChanged messages of $WORLD, numbered in "n", with run and seq.
messages() {
	seq 1 "$1" | jq -c --arg w "$WORLD" '{type: "WorldDataChanged", world_id: $w, n: .}' |
	    wb-broadcast -n --run "$2"
}

# The page ends with every message of file $1 once, in order.
assert_page_holds() {
	wait_until 600 page_count_at_least "$(wc -l <"$1")" ||
	    fail "the page shows $(page count) events of $(wc -l <"$1")"
	sleep 1	# nothing more comes
	assert_equal "$(page count)" "$(wc -l <"$1")"
	assert_equal "$(wc -l <"$P/events")" "$(wc -l <"$1")"
	assert_equal "$(jq -c . "$P/events")" "$(jq -c . "$1")"
}

@test "the page shows 500 events live, in order, each once, duplicates dropped" {
	echo "$D" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$PORT" -d "$D" >/dev/null
	export WB_RELAY_TOKEN
	WB_RELAY_TOKEN=$("$RELAY" token -d "$D")
	messages 500 r1 >"$BATS_TEST_TMPDIR/in"
	# the publisher maps the world id to the channel the page subscribes to
	assert_equal "$(wb-broadcast -n -u "ws://127.0.0.1:$PORT$PUB_TEMPLATE" <"$BATS_TEST_TMPDIR/in" |
	    jq -r .channel | sort -u)" "$CHANNEL"
	open_page
	run --separate-stderr wb-broadcast -u "ws://127.0.0.1:$PORT$PUB_TEMPLATE" <"$BATS_TEST_TMPDIR/in"
	assert_success
	# the first 100 once more, as a publisher's retry would send them
	head -n 100 "$BATS_TEST_TMPDIR/in" |
	    wb-broadcast -u "ws://127.0.0.1:$PORT$PUB_TEMPLATE"
	assert_page_holds "$BATS_TEST_TMPDIR/in"
	wait_until 50 eval '[ "$(page dups)" = 100 ]'
	assert_equal "$(page dups)" 100
	assert_equal "$(page status)" live
}

@test "the relay restarted mid-stream (Redis mode): the page resumes and ends with every event once" {
	local rd=$BATS_TEST_TMPDIR/redis rp n rc=0
	rp=$(free_port)
	echo "$rd $rp" >>"$BATS_TEST_TMPDIR/redises"
	"$RELAY" redis-start --redis-port "$rp" -d "$rd" >/dev/null
	echo "$D" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$PORT" -d "$D" --redis "redis://127.0.0.1:$rp" >/dev/null
	export WB_RELAY_TOKEN
	WB_RELAY_TOKEN=$("$RELAY" token -d "$D")
	messages 500 r2 >"$BATS_TEST_TMPDIR/in"
	open_page
	BG_IN=$BATS_TEST_TMPDIR/in bg wb-broadcast -a --rate 100 \
	    -u "ws://127.0.0.1:$PORT$PUB_TEMPLATE" >"$BATS_TEST_TMPDIR/acks" 2>"$BATS_TEST_TMPDIR/err"
	pub=$BG
	wait_until 100 acks_at_least 150
	wait_until 50 page_count_at_least 100
	"$RELAY" stop -d "$D" >/dev/null
	n=$(page count)
	sleep 1
	"$RELAY" start -p "$PORT" -d "$D" --redis "redis://127.0.0.1:$rp" >/dev/null
	wait_pid 300 "$pub" || rc=$?
	assert_equal "$rc" 0
	# the page had some and not all when the relay went
	assert [ "$n" -ge 100 ] && assert [ "$n" -lt 500 ]
	assert_page_holds "$BATS_TEST_TMPDIR/in"
	assert_equal "$(page status)" live
	# it resumed after its last event (Last-Event-ID): what it dropped are
	# the publisher's resends, not a replay of the $n it had
	assert [ "$(page dups)" -lt "$n" ]
}
