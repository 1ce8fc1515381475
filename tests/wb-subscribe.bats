#!/usr/bin/env bats
# wb-subscribe against a real relay (scripts/relay: nginx + nchan) on free
# loopback ports, fed by wb-broadcast and curl. Every process a test
# starts is stopped by PID in teardown; every wait is bounded.

load helper
load relay

RELAY=$TOP/scripts/relay

lines_at_least() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# Publish the messages on stdin to channel $1 of the relay at port ${2:-$PORT}.
pub() {
	wb-broadcast --rate 0 -u "ws://127.0.0.1:${2:-$PORT}/pub/$1"
}

# POST one message body ($2) to channel $1 as it is.
post() {
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $WB_RELAY_TOKEN" --data-binary "$2" \
	    "http://127.0.0.1:$PORT/pub/$1"
}

# Messages of run $1 with the seqs given after it, for world "w".
crafted() {
	local run=$1 s
	shift
	for s in "$@"; do
		printf '{"type":"WorldDataChanged","world_id":"w","run":"%s","seq":%d}\n' "$run" "$s"
	done
}

# N WorldDataChanged messages for world $1, numbered in "n".
worlds() {
	seq 1 "$2" | awk -v w="$1" '{ printf "{\"type\":\"WorldDataChanged\",\"world_id\":\"%s\",\"n\":%d}\n", w, $1 }'
}

sub_url() { echo "ws://127.0.0.1:${2:-$PORT}/sub/$1"; }

setup_file() { start_file_relay; }

teardown_file() { stop_file_relay; }

teardown() {
	local p d
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$BATS_TEST_TMPDIR/pids"
	fi
	if [ -f "$BATS_TEST_TMPDIR/relays" ]; then
		while read -r d; do "$RELAY" stop -d "$d" >/dev/null 2>&1 || true; done <"$BATS_TEST_TMPDIR/relays"
	fi
}

@test "each message once, as one JSON line, exactly as published" {
	[ "$(post basic '{"type": "GoalUpdated",  "goal_id":"g1"}')" = 202 ] ||
	    [ "$(post basic '{"type": "GoalUpdated",  "goal_id":"g1"}')" = 201 ]
	worlds basic 3 | pub basic
	run --separate-stderr timeout 20 wb-subscribe --count 4 "$(sub_url basic)"
	assert_success
	assert_equal "$stderr" ''
	assert_line -n 0 '{"type": "GoalUpdated",  "goal_id":"g1"}'
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | jq -c '[.n, .seq]' | tr '\n' ' ')" '[1,1] [2,2] [3,3] '
	assert_equal "${#lines[@]}" 4
}

@test "several URLs: the messages of every channel" {
	worlds a 5 | pub multi.a
	worlds b 7 | pub multi.b
	run --separate-stderr timeout 20 wb-subscribe --count 12 "$(sub_url multi.a)" "$(sub_url multi.b)"
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.world_id == "a") | .n' | tr '\n' ' ')" '1 2 3 4 5 '
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.world_id == "b") | .n' | tr '\n' ' ')" '1 2 3 4 5 6 7 '
	assert_equal "${#lines[@]}" 12
}

@test "duplicates by (channel, run, seq) are dropped; messages without run and seq are not" {
	crafted R1 1 1 2 1 2 3 | pub dups
	crafted R2 1 2 | pub dups
	crafted R1 3 4 | pub dups
	post dups '{"type":"GoalUpdated","goal_id":"x"}' >/dev/null
	post dups '{"type":"GoalUpdated","goal_id":"x"}' >/dev/null
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url dups)"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '"\(.run // "-")/\(.seq // .goal_id)"' | tr '\n' ' ')" \
	    'R1/1 R1/2 R1/3 R2/1 R2/2 R1/4 -/x -/x '
}

@test "the same channel given twice (another query string): 64" {
	crafted R 1 2 3 | pub twice
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url twice)" "$(sub_url twice)?x=1"
	assert_failure 64
	[[ $stderr == *"channel given twice"* ]]
}

@test "a gap in a run is reported on stderr and exits 1; the rest is printed" {
	crafted G 1 2 5 6 9 | pub gaps
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url gaps)"
	assert_failure 1
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .seq | tr '\n' ' ')" '1 2 5 6 9 '
	assert_equal "$stderr" "wb-subscribe: $(sub_url gaps): gap: run G: seq 3 to 4 missing (2 messages)
wb-subscribe: $(sub_url gaps): gap: run G: seq 7 to 8 missing (2 messages)
wb-subscribe: 2 gaps: some messages were missing (see above)"
}

@test "a gap forced by a small relay buffer is reported after a restart with --state" {
	local d=$BATS_TEST_TMPDIR/small p
	p=$(free_port)
	echo "$d" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$p" -d "$d" --buffer-length 5 >/dev/null
	worlds s 3 | wb-broadcast --run RUN1 -u "ws://127.0.0.1:$p/pub/small"
	run --separate-stderr timeout 20 wb-subscribe --state "$BATS_TEST_TMPDIR/st" --count 3 "$(sub_url small "$p")"
	assert_success
	assert_equal "${#lines[@]}" 3
	# 20 more: the relay keeps the last 5 (seq 19 to 23), seq 4 to 18 are lost.
	seq 4 23 | awk '{ printf "{\"type\":\"WorldDataChanged\",\"world_id\":\"s\",\"run\":\"RUN1\",\"seq\":%d}\n", $1 }' |
	    wb-broadcast -u "ws://127.0.0.1:$p/pub/small"
	run --separate-stderr timeout 20 wb-subscribe --state "$BATS_TEST_TMPDIR/st" --idle 1 "$(sub_url small "$p")"
	assert_failure 1
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .seq | tr '\n' ' ')" '19 20 21 22 23 '
	assert_equal "${stderr_lines[0]}" "wb-subscribe: $(sub_url small "$p"): gap: run RUN1: seq 4 to 18 missing (15 messages)"
}

@test "a new run seen from seq > 1 is a gap too" {
	crafted LATE 3 4 | pub late
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url late)"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	[[ $stderr == *"gap: run LATE: seq 1 to 2 missing (2 messages)"* ]]
}

@test "--state resumes after the relay's last message id (Last-Event-ID)" {
	local st=$BATS_TEST_TMPDIR/st
	post resume '{"type":"GoalUpdated","goal_id":"a"}' >/dev/null
	post resume '{"type":"GoalUpdated","goal_id":"b"}' >/dev/null
	run --separate-stderr timeout 20 wb-subscribe --state "$st" --count 1 "$(sub_url resume)"
	assert_success
	assert_output '{"type":"GoalUpdated","goal_id":"a"}'
	assert [ "$(jq -r '.channels[0].id' "$st")" != '' ]
	# Without run and seq only the relay's id keeps "a" from coming again.
	run --separate-stderr timeout 20 wb-subscribe --state "$st" --idle 1 "$(sub_url resume)"
	assert_success
	assert_output '{"type":"GoalUpdated","goal_id":"b"}'
	post resume '{"type":"GoalUpdated","goal_id":"c"}' >/dev/null
	# A URL with a query (a signed URL) names the same channel.
	run --separate-stderr timeout 20 wb-subscribe --state "$st" --idle 1 "$(sub_url resume)?md5=abc&expires=2000000000"
	assert_success
	assert_output '{"type":"GoalUpdated","goal_id":"c"}'
}

@test "killed with SIGKILL mid-stream and started again with --state: every message once, in order" {
	local st=$BATS_TEST_TMPDIR/st out=$BATS_TEST_TMPDIR/out i
	: >"$out"
	worlds k 1500 >"$BATS_TEST_TMPDIR/in"
	BG_IN=$BATS_TEST_TMPDIR/in bg wb-broadcast --rate 500 --run K -u "ws://127.0.0.1:$PORT/pub/kill"
	for i in 1 2 3; do
		bg wb-subscribe --state "$st" "$(sub_url kill)" >>"$out" 2>>"$BATS_TEST_TMPDIR/err"
		wait_until 100 lines_at_least "$out" $((i * 300))
		kill -KILL "$BG"
		wait "$BG" 2>/dev/null || true
	done
	# The same file again: a batch the last kill cut short is finished.
	timeout 60 wb-subscribe --state "$st" --idle 2 "$(sub_url kill)" >>"$out" 2>>"$BATS_TEST_TMPDIR/err"
	assert_equal "$(jq -r .n "$out")" "$(seq 1 1500)"
	assert_equal "$(jq -r .seq "$out")" "$(seq 1 1500)"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ''
}

@test "a batch saved in the state but not yet written is written once after a restart" {
	local st=$BATS_TEST_TMPDIR/st out=$BATS_TEST_TMPDIR/out
	local m1='{"type":"GoalUpdated","goal_id":"p1"}' m2='{"type":"GoalUpdated","goal_id":"p2"}'
	printf 'before\n' >"$out"
	# As a run killed between saving the state and writing its batch
	# leaves them: the output's size before the batch, and the batch.
	state() {
		jq -nc --arg ch "$(sub_url pending)" --arg p "$m1"$'\n'"$m2"$'\n' \
		    --argjson dev "$(stat -c %d "$out")" --argjson ino "$(stat -c %i "$out")" \
		    --argjson size "$1" \
		    '{wb_subscribe_state: 1, channels: [{channel: $ch, id: "", runs: []}],
		      out: {dev: $dev, ino: $ino, size: $size}, pending: $p}' >"$st"
	}
	state 7
	timeout 20 wb-subscribe --state "$st" --idle 0.5 "$(sub_url pending)" >>"$out"
	assert_equal "$(cat "$out")" "before
$m1
$m2"
	# Killed in the middle of the batch: the rest of it.
	printf 'before\n%s\n' "$m1" >"$out"
	state 7
	timeout 20 wb-subscribe --state "$st" --idle 0.5 "$(sub_url pending)" >>"$out"
	assert_equal "$(cat "$out")" "before
$m1
$m2"
	# Killed after the batch: nothing again.
	state 7
	timeout 20 wb-subscribe --state "$st" --idle 0.5 "$(sub_url pending)" >>"$out"
	assert_equal "$(cat "$out")" "before
$m1
$m2"
	# Into a pipe nobody can tell: the whole batch (at least once).
	state 7
	run --separate-stderr timeout 20 wb-subscribe --state "$st" --idle 0.5 "$(sub_url pending)"
	assert_success
	assert_output "$m1
$m2"
}

@test "a relay restarted mid-stream: said once, connected again, the rest printed" {
	local d=$BATS_TEST_TMPDIR/restart p out=$BATS_TEST_TMPDIR/out
	p=$(free_port)
	echo "$d" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$p" -d "$d" >/dev/null
	crafted RS 1 2 3 | pub rs "$p"
	bg wb-subscribe --state "$BATS_TEST_TMPDIR/st" "$(sub_url rs "$p")" >"$out" 2>"$out.err"
	local spid=$BG
	wait_until 100 lines_at_least "$out" 3
	"$RELAY" stop -d "$d" >/dev/null
	wait_until 100 grep -q 'trying again' "$out.err"
	"$RELAY" start -p "$p" -d "$d" >/dev/null
	wait_until 100 grep -q 'connected again' "$out.err"
	crafted RS 4 5 6 | pub rs "$p"
	wait_until 100 lines_at_least "$out" 6
	kill -TERM "$spid"
	local st=0
	wait_pid 50 "$spid" || st=$?
	assert_equal "$st" 0
	assert_equal "$(jq -r .seq "$out" | tr '\n' ' ')" '1 2 3 4 5 6 '
	assert_equal "$(grep -c 'trying again' "$out.err")" 1
}

@test "a relay that stops answering is found by its pings; --timeout then ends it with 69" {
	local d=$BATS_TEST_TMPDIR/frozen p master
	p=$(free_port)
	echo "$d" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$p" -d "$d" --ping 60 >/dev/null
	crafted F 1 | pub frozen "$p"
	bg wb-subscribe --ping 0.5 --timeout 2 "$(sub_url frozen "$p")" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	local spid=$BG
	wait_until 100 lines_at_least "$BATS_TEST_TMPDIR/out" 1
	master=$(cat "$d/nginx.pid")
	# Frozen, the relay's kernel still holds the TCP connection open.
	kill -STOP "$master" $(pgrep -P "$master")
	local st=0
	wait_pid 150 "$spid" || st=$?
	kill -CONT "$master" $(pgrep -P "$master")
	assert_equal "$st" 69
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line -n 0 -p 'ping timeout; trying again'
	assert_line -p 'unavailable for 2 s'
}

@test "--count ends it after N messages, --idle after the quiet time, both with 0" {
	worlds c 5 | pub count
	run --separate-stderr timeout 20 wb-subscribe --count 2 "$(sub_url count)"
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .n | tr '\n' ' ')" '1 2 '
	SECONDS=0
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url empty)"
	assert_success
	assert_output ''
	assert [ "$SECONDS" -le 4 ]
}

@test "SIGTERM saves the state and exits 0" {
	local st=$BATS_TEST_TMPDIR/st out=$BATS_TEST_TMPDIR/out
	crafted T 1 2 | pub term
	bg wb-subscribe --state "$st" "$(sub_url term)" >"$out" 2>"$out.err"
	wait_until 100 lines_at_least "$out" 2
	kill -TERM "$BG"
	local st_term=0
	wait_pid 50 "$BG" || st_term=$?
	assert_equal "$st_term" 0
	assert_equal "$(cat "$out.err")" ''
	assert_equal "$(jq -c '.channels[0].runs[0] | [.run, .seq]' "$st")" '["T",2]'
	assert_equal "$(jq -r 'has("pending")' "$st")" false
	crafted T 3 | pub term
	run --separate-stderr timeout 20 wb-subscribe --state "$st" --idle 1 "$(sub_url term)"
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .seq)" 3
}

@test "a stop signal while connecting (a peer that never answers the handshake, or none): the state saved, 0, at once" {
	local np sig d=$BATS_TEST_TMPDIR start end
	np=$(free_port)
	silent_listener "$np" "$d/conns"
	for sig in TERM INT HUP; do
		: >"$d/conns"
		rm -f "$d/st"
		bg wb-subscribe --state "$d/st" "$(sub_url hang "$np")" >"$d/out" 2>"$d/err"
		wait_until 50 grep -q accepted "$d/conns"
		sleep 0.2
		signal_wait "$sig" "$BG"
		assert_equal "$rc" 0
		assert_equal "$(jq -r '.channels[0].channel' "$d/st")" "$(sub_url hang "$np")"
		assert_equal "$(cat "$d/err")" ''
		took_under "$start" "$end" 2.5
	done
	np=$(free_port)
	bg wb-subscribe --state "$d/st2" "$(sub_url none "$np")" >"$d/out" 2>"$d/err"
	wait_until 50 grep -q 'trying again' "$d/err"
	signal_wait TERM "$BG"
	assert_equal "$rc" 0
	[ -s "$d/st2" ]
	took_under "$start" "$end" 1
}

@test "a message that is not a JSON object is skipped, said, and exits 65" {
	post notjson 'hello' >/dev/null
	post notjson '{"type":"GoalUpdated","goal_id":"g"}' >/dev/null
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url notjson)"
	assert_failure 65
	assert_output '{"type":"GoalUpdated","goal_id":"g"}'
	[[ $stderr == *"is not a JSON object; skipped"* ]]
}

@test "a bad URL, no URL, a bad option value: 64" {
	run --separate-stderr wb-subscribe http://127.0.0.1:1/sub/x
	assert_failure 64
	[[ $stderr == *"not a ws:// or wss:// URL"* ]]
	run --separate-stderr wb-subscribe
	assert_failure 64
	[[ $stderr == *"no URL"* ]]
	run --separate-stderr wb-subscribe --count 0 ws://127.0.0.1:1/sub/x
	assert_failure 64
	run --separate-stderr wb-subscribe --files-from - ws://127.0.0.1:1/sub/x
	assert_failure 64
}

@test "no relay there: it keeps trying, said once; --timeout ends it with 69" {
	local p
	p=$(free_port)
	run --separate-stderr timeout 20 wb-subscribe --timeout 1 "ws://127.0.0.1:$p/sub/x"
	assert_failure 69
	assert_equal "$(grep -c 'trying again' <<<"$stderr")" 1
	[[ $stderr == *"unavailable for 1 s"* ]]
}

@test "--idle with a relay that was never reached: 69, not an idle 0" {
	local p
	p=$(free_port)
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "$(sub_url idledown)" "ws://127.0.0.1:$p/sub/x"
	assert_failure 69
	assert_output ''
	assert_equal "$(grep -c 'trying again' <<<"$stderr")" 1
	[[ $stderr == *"ws://127.0.0.1:$p/sub/x: unreachable when --idle 1 s ended"* ]]
}

@test "a channel the relay does not have (404): 78 at once" {
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "ws://127.0.0.1:$PORT/nosuch"
	assert_failure 78
}

@test "a state file in use by another wb-subscribe: 69 at once" {
	bg wb-subscribe --state "$BATS_TEST_TMPDIR/st" "$(sub_url inuse)" >/dev/null 2>&1
	wait_until 50 test -e "$BATS_TEST_TMPDIR/st.lock"
	sleep 0.2
	run --separate-stderr timeout 20 wb-subscribe --state "$BATS_TEST_TMPDIR/st" --idle 1 "$(sub_url inuse)"
	assert_failure 69
	[[ $stderr == *"st: in use by another wb-subscribe"* ]]
}

@test "a state file that is not one: 65, nothing read" {
	echo '{"x":1}' >"$BATS_TEST_TMPDIR/st"
	run --separate-stderr timeout 20 wb-subscribe --state "$BATS_TEST_TMPDIR/st" --idle 1 "$(sub_url basic)"
	assert_failure 65
	assert_output ''
	[[ $stderr == *"not a state file of wb-subscribe"* ]]
}

@test "a state that is a directory: 74 at once, no lock made beside it" {
	mkdir "$BATS_TEST_TMPDIR/st"
	run --separate-stderr timeout 20 wb-subscribe --state "$BATS_TEST_TMPDIR/st" --idle 1 "$(sub_url basic)"
	assert_failure 74
	assert_output ''
	assert_equal "$stderr" "wb-subscribe: --state: $BATS_TEST_TMPDIR/st: not a regular file"
	assert [ ! -e "$BATS_TEST_TMPDIR/st.lock" ]
}

@test "wss: a self-signed certificate is refused (77) without --cacert, taken with it" {
	crafted W 1 | pub tls
	run --separate-stderr timeout 20 wb-subscribe --idle 1 "wss://127.0.0.1:$TLS_PORT/sub/tls"
	assert_failure 77
	[[ $stderr == *"certificate verify failed"* ]]
	run --separate-stderr timeout 20 wb-subscribe --cacert "$BATS_FILE_TMPDIR/cert.pem" --count 1 "wss://127.0.0.1:$TLS_PORT/sub/tls"
	assert_success
	assert_equal "$(jq -r .run <<<"$output")" W
}
