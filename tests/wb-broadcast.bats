#!/usr/bin/env bats
# wb-broadcast against a real relay (scripts/relay: nginx + nchan) on free
# loopback ports, with real subscribers: curl -N for EventSource and
# tests/tools/wssub for WebSocket. Every process a test starts is stopped
# by PID in teardown; every wait is bounded.

load helper
load relay

RELAY=$TOP/scripts/relay
WSSUB=${WB_TOOLS:-$TOP/tests/tools}/wssub

lines_at_least() { [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }

# An EventSource subscriber on channel $2 of the relay at port $1, into $3.
es_sub() {
	bg timeout 60 curl -s -N -H 'Accept: text/event-stream' \
	    "http://127.0.0.1:$1/sub/$2" -o "$3"
	wait_until 50 lines_at_least "$3" '^: hi' 1
}

# A WebSocket subscriber for $3 messages on channel $2 at port $1, into $4.
ws_sub() {
	bg timeout 60 "$WSSUB" -n "$3" -t 20 "ws://127.0.0.1:$1/sub/$2" >"$4" 2>"$4.err"
	wait_until 50 lines_at_least "$4.err" '^wssub: connected' 1
}

es_data() { sed -n 's/^data: //p' "$1"; }

# N WorldDataChanged messages for world $1, numbered in "n".
worlds() {
	seq 1 "$2" | awk -v w="$1" '{ printf "{\"type\":\"WorldDataChanged\",\"world_id\":\"%s\",\"n\":%d}\n", w, $1 }'
}

setup_file() { start_file_relay; }

teardown_file() { stop_file_relay; }

teardown() {
	local p d
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r p; do kill -TERM "$p" 2>/dev/null || true; done <"$BATS_TEST_TMPDIR/pids"
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

@test "1,000 events reach an EventSource and a WebSocket subscriber, in order, once" {
	es_sub "$PORT" world.big "$BATS_TEST_TMPDIR/es"
	ws_sub "$PORT" world.big 1000 "$BATS_TEST_TMPDIR/ws"
	wspid=$BG
	worlds big 1000 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wb-broadcast -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ''
	assert_equal "$stderr" 'wb-broadcast: 1000 delivered, 0 dead-lettered, 0 rejected'
	wait_pid 200 "$wspid"
	assert_equal "$(jq -r .n "$BATS_TEST_TMPDIR/ws")" "$(seq 1 1000)"
	assert_equal "$(jq -r .seq "$BATS_TEST_TMPDIR/ws")" "$(seq 1 1000)"
	assert_equal "$(jq -r .run "$BATS_TEST_TMPDIR/ws" | sort -u | wc -l)" 1
	wait_until 100 lines_at_least "$BATS_TEST_TMPDIR/es" '^data: ' 1000
	sleep 0.2
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/es" | jq -c 'del(.run, .seq)')" \
	    "$(jq -c . "$BATS_TEST_TMPDIR/in")"
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/es" | jq -r .seq)" "$(seq 1 1000)"
}

@test "--dead-letter and --reject files it made and left empty are not left behind" {
	local d=$BATS_TEST_TMPDIR
	: >"$d/old-dead"
	run --separate-stderr wb-broadcast --dead-letter "$d/dead" --reject "$d/rej" \
	    -u "ws://127.0.0.1:$PORT/pub/nodead" <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	assert_success
	assert_equal "$stderr" 'wb-broadcast: 1 delivered, 0 dead-lettered, 0 rejected'
	[[ ! -e $d/dead && ! -e $d/rej ]]
	# One that was there stays, empty or not; a bad record still goes to --reject.
	run --separate-stderr wb-broadcast --dead-letter "$d/old-dead" --reject "$d/rej" \
	    -u "ws://127.0.0.1:$PORT/pub/nodead" <<<'{"type":"Weather"}'
	assert_failure 65
	[[ -f $d/old-dead && ! -s $d/old-dead ]]
	assert_equal "$(cat "$d/rej")" '{"type":"Weather"}'
}

@test "-a prints one line per delivered message, with its run" {
	run --separate-stderr wb-broadcast -a --run ack1 -u "ws://127.0.0.1:$PORT/pub/acks" <<-'EOF'
	{"type":"GoalUpdated","goal_id":"g1"}
	{"type":"CharacterDeleted","character_id":"c9"}
	{"type":"GoalUpdated","goal_id":"g1","run":"older","seq":7}
	EOF
	assert_success
	assert_equal "$stderr" 'wb-broadcast: 3 delivered, 0 dead-lettered, 0 rejected'
	assert_line -n 0 "{\"run\":\"ack1\",\"seq\":1,\"type\":\"GoalUpdated\",\"channel\":\"ws://127.0.0.1:$PORT/pub/acks\",\"status\":\"delivered\"}"
	assert_line -n 1 "{\"run\":\"ack1\",\"seq\":2,\"type\":\"CharacterDeleted\",\"channel\":\"ws://127.0.0.1:$PORT/pub/acks\",\"status\":\"delivered\"}"
	assert_line -n 2 "{\"run\":\"older\",\"seq\":7,\"type\":\"GoalUpdated\",\"channel\":\"ws://127.0.0.1:$PORT/pub/acks\",\"status\":\"delivered\"}"
	assert_equal "${#lines[@]}" 3
}

@test "a random run differs from run to run; --run sets it" {
	run --separate-stderr wb-broadcast -n <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	r1=$(jq -r .run <<<"$output")
	run --separate-stderr wb-broadcast -n <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	r2=$(jq -r .run <<<"$output")
	[[ $r1 =~ ^[0-9a-f]{16}$ ]]
	[ "$r1" != "$r2" ]
	run --separate-stderr wb-broadcast -n --run batch-7 <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	assert_output '{"type":"GoalUpdated","goal_id":"g1","run":"batch-7","seq":1}'
}

@test "per-world channels: world A's events never reach world B's subscriber" {
	es_sub "$PORT" world.wa "$BATS_TEST_TMPDIR/a"
	es_sub "$PORT" world.wb "$BATS_TEST_TMPDIR/b"
	paste -d '\n' <(worlds wa 10) <(worlds wb 10) >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wb-broadcast -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <"$BATS_TEST_TMPDIR/in"
	assert_success
	wait_until 50 lines_at_least "$BATS_TEST_TMPDIR/a" '^data: ' 10
	wait_until 50 lines_at_least "$BATS_TEST_TMPDIR/b" '^data: ' 10
	sleep 0.3
	# seq counts per channel: a gap on a channel is a loss.
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/a" | jq -c '[.world_id, .n, .seq]' | tr '\n' ' ')" \
	    '["wa",1,1] ["wa",2,2] ["wa",3,3] ["wa",4,4] ["wa",5,5] ["wa",6,6] ["wa",7,7] ["wa",8,8] ["wa",9,9] ["wa",10,10] '
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/b" | jq -c '[.world_id, .n, .seq]' | tr '\n' ' ')" \
	    '["wb",1,1] ["wb",2,2] ["wb",3,3] ["wb",4,4] ["wb",5,5] ["wb",6,6] ["wb",7,7] ["wb",8,8] ["wb",9,9] ["wb",10,10] '
}

@test "every row of the mutation table gives its message" {
	local ids='"world_id":"w","npc_id":"n","want_id":"x","description":"d","goal_id":"g","name":"nm","character_id":"c"'
	local n=0 route op type
	while read -r route op type; do
		n=$((n + 1))
		run --separate-stderr wb-broadcast -n -M --run r <<<"{\"route\":\"$route\",\"op\":\"$op\",$ids}"
		assert_success
		assert_output "{\"type\":\"$type\",$ids,\"run\":\"r\",\"seq\":1}"
	done <<-'EOF'
	want create NpcWantCreated
	want update NpcWantUpdated
	want delete NpcWantDeleted
	want set_target NpcWantUpdated
	want add_actantial_view NpcActantialViewAdded
	want remove_actantial_view NpcActantialViewRemoved
	goal create GoalCreated
	goal update GoalUpdated
	goal delete GoalDeleted
	character create WorldDataChanged
	character update CharacterUpdated
	character delete CharacterDeleted
	character change_archetype CharacterUpdated
	character create_relationship WorldDataChanged
	character delete_relationship WorldDataChanged
	character add_region_relationship CharacterUpdated
	character remove_region_relationship CharacterUpdated
	challenge create WorldDataChanged
	challenge update WorldDataChanged
	challenge delete WorldDataChanged
	challenge trigger_conditions WorldDataChanged
	narrative_event create WorldDataChanged
	narrative_event update WorldDataChanged
	narrative_event delete WorldDataChanged
	scene create WorldDataChanged
	scene update WorldDataChanged
	scene delete WorldDataChanged
	location create WorldDataChanged
	location update WorldDataChanged
	location delete WorldDataChanged
	settings update WorldDataChanged
	EOF
	assert_equal "$n" 31
}

@test "a mutation that lacks an id its message needs is a bad record naming the field" {
	run -65 --separate-stderr wb-broadcast -n -M --run r <<-'EOF'
	{"route":"want","op":"create","npc_id":"n","want_id":"w"}
	{"route":"character","op":"update","world_id":"w"}
	{"route":"settings","op":"delete","world_id":"w"}
	{"route":"weather","op":"update","world_id":"w"}
	{"route":"goal","op":"delete","goal_id":"g"}
	EOF
	assert_equal "$stderr" 'wb-broadcast: stdin:1: NpcWantCreated: missing field "description"
wb-broadcast: stdin:2: CharacterUpdated: missing field "character_id"
wb-broadcast: stdin:3: route "settings" has no op "delete"
wb-broadcast: stdin:4: unknown route "weather"'
	assert_line -n 0 '{"error":{"record":1,"line":1,"message":"NpcWantCreated: missing field \"description\""}}'
	assert_line -n 4 '{"type":"GoalDeleted","goal_id":"g","run":"r","seq":1}'
}

@test "mutations are published as their messages" {
	es_sub "$PORT" world.mut "$BATS_TEST_TMPDIR/es"
	run --separate-stderr wb-broadcast -M --run m1 -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <<-'EOF'
	{"route":"goal","op":"create","world_id":"mut","goal_id":"g1","name":"Find the key"}
	{"route":"scene","op":"update","world_id":"mut","scene_id":"s2"}
	EOF
	assert_success
	wait_until 50 lines_at_least "$BATS_TEST_TMPDIR/es" '^data: ' 2
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/es")" '{"type":"GoalCreated","world_id":"mut","goal_id":"g1","name":"Find the key","run":"m1","seq":1}
{"type":"WorldDataChanged","world_id":"mut","scene_id":"s2","run":"m1","seq":2}'
}

@test "bad records: not JSON, unknown type, missing field, non-string field; --reject keeps them as they came" {
	es_sub "$PORT" bad "$BATS_TEST_TMPDIR/es"
	cat >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	{"type":"GoalUpdated",
	{"type":"Weather",  "world_id":"w"}
	{"type":"GoalCreated","world_id":"w","goal_id":"g"}
	{"type":"GoalUpdated","goal_id":7}
	{"type":"GoalDeleted","goal_id":"g"}
	EOF
	printf '%s' '{"type":"GoalUpdated","goal_id":"zoë"' >>"$BATS_TEST_TMPDIR/in"
	echo '{"old":"line"}' >"$BATS_TEST_TMPDIR/rej"
	run -65 --separate-stderr wb-broadcast --run b --reject "$BATS_TEST_TMPDIR/rej" \
	    -u "ws://127.0.0.1:$PORT/pub/bad" <"$BATS_TEST_TMPDIR/in"
	assert_equal "$stderr" "wb-broadcast: stdin:1: invalid JSON: string or '}' expected near end of file
wb-broadcast: stdin:2: unknown message type \"Weather\"
wb-broadcast: stdin:3: GoalCreated: missing field \"name\"
wb-broadcast: stdin:4: GoalUpdated: field \"goal_id\" is an integer, not a string
wb-broadcast: stdin:6: invalid JSON: '}' expected near end of file
wb-broadcast: 1 delivered, 0 dead-lettered, 5 rejected"
	assert_equal "${#lines[@]}" 5
	assert_line -n 1 '{"error":{"record":2,"line":2,"message":"unknown message type \"Weather\""}}'
	# Appended, byte for byte; the last one, cut short, ends with a newline.
	{ echo '{"old":"line"}'; sed -n '1,4p;6p' "$BATS_TEST_TMPDIR/in"; echo; } >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/want"
	wait_until 50 lines_at_least "$BATS_TEST_TMPDIR/es" '^data: ' 1
	sleep 0.2
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/es")" '{"type":"GoalDeleted","goal_id":"g","run":"b","seq":1}'
}

@test "--allow-unknown lets unknown types through unchecked" {
	run --separate-stderr wb-broadcast -n --allow-unknown --run u <<<'{"type":"Weather","rain":true}'
	assert_success
	assert_output '{"type":"Weather","rain":true,"run":"u","seq":1}'
}

@test "a message that carries its run and seq keeps them" {
	run --separate-stderr wb-broadcast -n --run new <<-'EOF'
	{"type":"GoalUpdated","goal_id":"g","run":"old","seq":41}
	{"type":"GoalUpdated","goal_id":"g"}
	{"type":"GoalUpdated","goal_id":"g","run":"old"}
	EOF
	assert_failure 65
	assert_line -n 0 '{"type":"GoalUpdated","goal_id":"g","run":"old","seq":41}'
	assert_line -n 1 '{"type":"GoalUpdated","goal_id":"g","run":"new","seq":1}'
	assert_equal "$stderr" 'wb-broadcast: stdin:3: "run" and "seq" come together or not at all'
}

@test "relay in Redis mode SIGKILLed mid-stream and restarted: resent, nothing lost, exit 0" {
	local rp np rd=$BATS_TEST_TMPDIR/redis nd=$BATS_TEST_TMPDIR/node
	rp=$(free_port)
	echo "$rd $rp" >>"$BATS_TEST_TMPDIR/redises"
	"$RELAY" redis-start --redis-port "$rp" -d "$rd" >/dev/null
	np=$(free_port)
	echo "$nd" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$np" -d "$nd" --redis "redis://127.0.0.1:$rp" >/dev/null
	worlds crash 600 >"$BATS_TEST_TMPDIR/in"
	BG_IN=$BATS_TEST_TMPDIR/in bg wb-broadcast -a --rate 200 \
	    -u "ws://127.0.0.1:$np/pub/world.{world_id}" \
	    >"$BATS_TEST_TMPDIR/acks" 2>"$BATS_TEST_TMPDIR/err"
	pub=$BG
	wait_until 100 lines_at_least "$BATS_TEST_TMPDIR/acks" delivered 200
	pg=$(cat "$nd/nginx.pid")
	pids=$(ps -e -o pid=,pgid=,comm= | awk -v pg="$pg" '$2 == pg && $3 == "nginx" { print $1 }')
	kill -KILL $pids
	wait_until 50 eval '! (exec 3<>/dev/tcp/127.0.0.1/'"$np"') 2>/dev/null'
	sleep 0.5
	"$RELAY" start -p "$np" -d "$nd" --redis "redis://127.0.0.1:$rp" >/dev/null
	rc=0
	wait_pid 300 "$pub" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(grep -c 'connected again$' "$BATS_TEST_TMPDIR/err")" 1
	assert_equal "$(jq -r .seq "$BATS_TEST_TMPDIR/acks" | sort -n)" "$(seq 1 600)"
	timeout 3 curl -s -N -H 'Accept: text/event-stream' \
	    "http://127.0.0.1:$np/sub/world.crash" -o "$BATS_TEST_TMPDIR/replay" || true
	assert_equal "$(es_data "$BATS_TEST_TMPDIR/replay" | jq -sc 'unique_by([.run, .seq]) | sort_by(.seq) | .[] | del(.run, .seq)')" \
	    "$(jq -c . "$BATS_TEST_TMPDIR/in")"
}

@test "relay gone longer than --timeout: exit 69, the dead letter holds exactly the unacked" {
	local np nd=$BATS_TEST_TMPDIR/node
	np=$(free_port)
	echo "$nd" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	BG_IN=$BATS_TEST_TMPDIR/fifo bg wb-broadcast -a --timeout 1 --run dl \
	    --dead-letter "$BATS_TEST_TMPDIR/dead" -u "ws://127.0.0.1:$np/pub/gone" \
	    >"$BATS_TEST_TMPDIR/acks" 2>"$BATS_TEST_TMPDIR/err"
	pub=$BG
	exec 4<>"$BATS_TEST_TMPDIR/fifo"  # read-write: never blocks
	worlds gone 5 >&4
	wait_until 50 lines_at_least "$BATS_TEST_TMPDIR/acks" delivered 5
	"$RELAY" stop -d "$nd" >/dev/null
	seq 6 8 | awk '{ printf "{\"type\":\"GoalUpdated\",\"goal_id\":\"g%d\"}\n", $1 }' >&4
	exec 4>&-
	rc=0
	wait_pid 100 "$pub" || rc=$?
	assert_equal "$rc" 69
	assert_equal "$(jq -r .seq "$BATS_TEST_TMPDIR/acks" | tr '\n' ' ')" '1 2 3 4 5 '
	assert_equal "$(cat "$BATS_TEST_TMPDIR/dead")" '{"type":"GoalUpdated","goal_id":"g6","run":"dl","seq":6}
{"type":"GoalUpdated","goal_id":"g7","run":"dl","seq":7}
{"type":"GoalUpdated","goal_id":"g8","run":"dl","seq":8}'
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/err")" 'wb-broadcast: 5 delivered, 3 dead-lettered, 0 rejected'
	# A later run sends the dead letter again under its first run and seq.
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	run --separate-stderr wb-broadcast -a -u "ws://127.0.0.1:$np/pub/gone" <"$BATS_TEST_TMPDIR/dead"
	assert_success
	assert_equal "$(jq -r .seq <<<"$output" | tr '\n' ' ')" '6 7 8 '
}

@test "a wrong token: exit 77 at once, one line, the token never shown" {
	run --separate-stderr env WB_RELAY_TOKEN=wrong-secret wb-broadcast \
	    --dead-letter "$BATS_TEST_TMPDIR/dead" --run t -u "ws://127.0.0.1:$PORT/pub/tok" <<-'EOF'
	{"type":"GoalUpdated","goal_id":"g1"}
	{"type":"GoalUpdated","goal_id":"g2"}
	EOF
	assert_failure 77
	assert_output ''
	assert_equal "$stderr" "wb-broadcast: stdin:1: ws://127.0.0.1:$PORT/pub/tok: token refused: HTTP/1.1 403 Forbidden
wb-broadcast: 0 delivered, 1 dead-lettered, 0 rejected"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/dead")" '{"type":"GoalUpdated","goal_id":"g1","run":"t","seq":1}'
}

@test "--token-file is read instead of the environment" {
	printf '%s\n' "$WB_RELAY_TOKEN" >"$BATS_TEST_TMPDIR/token"
	run --separate-stderr env -u WB_RELAY_TOKEN wb-broadcast -a --token-file "$BATS_TEST_TMPDIR/token" \
	    -u "ws://127.0.0.1:$PORT/pub/tokfile" <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	assert_success
	assert_output --partial '"status":"delivered"'
}

@test "no token at all: one clear line before connecting, exit 78, nothing read" {
	run --separate-stderr env -u WB_RELAY_TOKEN wb-broadcast -u "ws://127.0.0.1:$PORT/pub/notok" \
	    --dead-letter "$BATS_TEST_TMPDIR/dead" <<<'{"type":"GoalUpdated","goal_id":"g1"}'
	assert_failure 78
	assert_output ''
	assert_equal "$stderr" 'wb-broadcast: no relay token: set WB_RELAY_TOKEN or --token-file'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/dead")" ''
	run --separate-stderr env WB_RELAY_TOKEN= wb-broadcast -u "ws://127.0.0.1:$PORT/pub/notok" </dev/null
	assert_failure 78
	assert_equal "$stderr" 'wb-broadcast: no relay token: set WB_RELAY_TOKEN or --token-file'
}

@test "wss with a self-signed certificate: refused without --cacert, accepted with it" {
	local url="wss://127.0.0.1:$TLS_PORT/pub/tls"
	run --separate-stderr wb-broadcast --dead-letter /dev/null -u "$url" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_failure 77
	assert_equal "${stderr_lines[0]}" "wb-broadcast: stdin:1: $url: certificate verify failed: self-signed certificate"
	run --separate-stderr wb-broadcast -a --cacert "$BATS_FILE_TMPDIR/cert.pem" -u "$url" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" delivered
	assert_equal "$stderr" 'wb-broadcast: 1 delivered, 0 dead-lettered, 0 rejected'
	run --separate-stderr wb-broadcast --insecure -u "$url" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_success
	assert_equal "${stderr_lines[0]}" "wb-broadcast: warning: --insecure: the relay's certificate is not verified"
}

@test "a full window stops the reading, and loses nothing" {
	ws_sub "$PORT" narrow 50 "$BATS_TEST_TMPDIR/ws"
	wspid=$BG
	worlds narrow 50 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wb-broadcast --window 1 -u "ws://127.0.0.1:$PORT/pub/narrow" <"$BATS_TEST_TMPDIR/in"
	assert_success
	wait_pid 100 "$wspid"
	assert_equal "$(jq -r .n "$BATS_TEST_TMPDIR/ws")" "$(seq 1 50)"
}

@test "--rate holds a channel to N messages per wall-clock second" {
	worlds slow 25 >"$BATS_TEST_TMPDIR/in"
	start=$(date +%s.%N)
	run --separate-stderr wb-broadcast -a --rate 10 -u "ws://127.0.0.1:$PORT/pub/slow" <"$BATS_TEST_TMPDIR/in"
	end=$(date +%s.%N)
	assert_success
	assert_equal "${#lines[@]}" 25
	# 25 at 10 a second span at least two second boundaries.
	awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a > 1.0) }'
}

@test "--no-ack counts a written frame as delivered" {
	ws_sub "$PORT" noack 3 "$BATS_TEST_TMPDIR/ws"
	wspid=$BG
	worlds noack 3 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wb-broadcast -a --no-ack -u "ws://127.0.0.1:$PORT/pub/noack" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .seq <<<"$output" | tr '\n' ' ')" '1 2 3 '
	wait_pid 100 "$wspid"
	assert_equal "$(jq -r .n "$BATS_TEST_TMPDIR/ws" | tr '\n' ' ')" '1 2 3 '
}

@test "no relay at all: the messages go to the dead letter on stderr, exit 69" {
	np=$(free_port)
	run --separate-stderr wb-broadcast --timeout 0.5 --run x -u "ws://127.0.0.1:$np/pub/none" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_failure 69
	assert_output ''
	assert_equal "${stderr_lines[0]}" "wb-broadcast: ws://127.0.0.1:$np/pub/none: connect: Connection refused; trying again"
	[[ $stderr == *'{"type":"GoalUpdated","goal_id":"g","run":"x","seq":1}'* ]]
	assert_equal "${stderr##*$'\n'}" 'wb-broadcast: 0 delivered, 1 dead-lettered, 0 rejected'
}

@test "a dead letter that cannot be written: exit 74, and it says the messages are lost" {
	np=$(free_port)
	run --separate-stderr wb-broadcast --timeout 0.5 --run x --dead-letter /dev/full -u "ws://127.0.0.1:$np/pub/none" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_failure 74
	assert_equal "${stderr_lines[1]}" 'wb-broadcast: dead letter: No space left on device'
	assert_equal "${stderr_lines[2]}" 'wb-broadcast: 1 message not delivered and lost: the dead letter could not be written'
	assert_equal "${stderr_lines[3]}" 'wb-broadcast: 0 delivered, 0 dead-lettered, 0 rejected'
	assert_equal "${#stderr_lines[@]}" 4
}

@test "usage errors: no URL, a bad URL, a field-less placeholder" {
	run -64 --separate-stderr wb-broadcast </dev/null
	assert_equal "${stderr%%$'\n'*}" 'wb-broadcast: no relay: give -u URL'
	run -64 --separate-stderr wb-broadcast -u http://127.0.0.1/x </dev/null
	assert_equal "${stderr%%$'\n'*}" 'wb-broadcast: -u: http://127.0.0.1/x: not a ws:// or wss:// URL'
	run -64 --separate-stderr wb-broadcast -u 'ws://127.0.0.1/{}' </dev/null
	assert_equal "${stderr%%$'\n'*}" "wb-broadcast: -u: '{' without a field name and '}'"
	run -64 --separate-stderr wb-broadcast --window 0 -u ws://127.0.0.1/x </dev/null
	assert_equal "${stderr%%$'\n'*}" "wb-broadcast: --window: '0': out of range 1 to 1000000"
}

@test "a message without the field its URL needs is a bad record" {
	run -65 --separate-stderr wb-broadcast -n -u 'ws://127.0.0.1:1/pub/world.{world_id}' <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_equal "$stderr" 'wb-broadcast: stdin:1: -u: missing field "world_id"'
}

# The nginx processes of the relay run from directory $1.
relay_pids() {
	local pg
	pg=$(cat "$1/nginx.pid")
	ps -e -o pid=,pgid=,comm= | awk -v pg="$pg" '$2 == pg && $3 == "nginx" { print $1 }'
}

# The seqs of JSON lines in $1, one line.
seqs() { jq -r 'select(.seq) | .seq' "$1" | tr '\n' ' '; }

@test "each stop signal with the relay slow: the grace, then exit 75, every read record delivered or dead-lettered" {
	local np nd=$BATS_TEST_TMPDIR/node sig pids d=$BATS_TEST_TMPDIR
	np=$(free_port)
	echo "$nd" >>"$d/relays"
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	for sig in TERM INT HUP; do
		rm -f "$d/fifo" "$d/dead" "$d/acks"
		mkfifo "$d/fifo"
		BG_IN=$d/fifo bg wb-broadcast -a --run "s$sig" --grace 1 --dead-letter "$d/dead" \
		    -u "ws://127.0.0.1:$np/pub/slow$sig" >"$d/acks" 2>"$d/err" 4>&-
		pub=$BG
		exec 4<>"$d/fifo"
		worlds slow 5 >&4
		wait_until 50 lines_at_least "$d/acks" delivered 5
		pids=$(relay_pids "$nd")
		kill -STOP $pids
		seq 6 9 | awk '{ printf "{\"type\":\"GoalUpdated\",\"goal_id\":\"g%d\"}\n", $1 }' >&4
		printf '%s' '{"type":"GoalUpd' >&4
		sleep 0.3
		kill "-$sig" "$pub"
		rc=0
		wait_pid 100 "$pub" || rc=$?
		kill -CONT $pids
		exec 4>&-
		assert_equal "$rc" 75
		assert_equal "$(seqs "$d/acks")" '1 2 3 4 5 '
		assert_equal "$(cat "$d/dead")" "$(seq 6 9 | awk -v r="s$sig" '{ printf "{\"type\":\"GoalUpdated\",\"goal_id\":\"g%d\",\"run\":\"%s\",\"seq\":%d}\n", $1, r, $1 }')"
		assert_equal "$(head -n 1 "$d/err")" 'wb-broadcast: stopping on a signal: no more input; 4 unacked messages get 1 s'
		# What was read of a record cut short is a bad record, not lost.
		assert_equal "$(sed -n 2p "$d/err")" "wb-broadcast: stdin:10: invalid JSON: premature end of input near '\"GoalUpd'"
		assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 5 delivered, 4 dead-lettered, 1 rejected'
	done
}

@test "each stop signal with the relay down: exit 75 at the end of the grace, all read in the dead letter" {
	local np sig d=$BATS_TEST_TMPDIR
	np=$(free_port)
	for sig in TERM INT HUP; do
		rm -f "$d/fifo" "$d/dead"
		mkfifo "$d/fifo"
		BG_IN=$d/fifo bg wb-broadcast --run "d$sig" --grace 0.5 --dead-letter "$d/dead" \
		    -u "ws://127.0.0.1:$np/pub/down" 2>"$d/err" 4>&-
		pub=$BG
		exec 4<>"$d/fifo"
		worlds down 7 >&4
		wait_until 50 lines_at_least "$d/err" 'trying again' 1
		signal_wait "$sig" "$pub"
		exec 4>&-
		assert_equal "$rc" 75
		assert_equal "$(seqs "$d/dead")" '1 2 3 4 5 6 7 '
		assert_equal "$(jq -c 'del(.run, .seq)' "$d/dead")" "$(worlds down 7)"
		assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 0 delivered, 7 dead-lettered, 0 rejected'
		# The grace is waited, the 30 s --timeout is not.
		awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a >= 0.5 && b - a < 5) }'
	done
}

@test "the stop line counts one unacked message in the singular" {
	local np d=$BATS_TEST_TMPDIR
	np=$(free_port)
	mkfifo "$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast --run one --grace 0.2 --dead-letter "$d/dead" \
	    -u "ws://127.0.0.1:$np/pub/down" 2>"$d/err" 4>&-
	pub=$BG
	exec 4<>"$d/fifo"
	worlds down 1 >&4
	wait_until 50 lines_at_least "$d/err" 'trying again' 1
	signal_wait INT "$pub"
	exec 4>&-
	assert_equal "$rc" 75
	assert_equal "$(grep stopping "$d/err")" 'wb-broadcast: stopping on a signal: no more input; 1 unacked message gets 0.2 s'
}

@test "a stop signal mid-stream, relay up: what was read is delivered or dead-lettered, in order, nothing lost" {
	local d=$BATS_TEST_TMPDIR
	worlds mid 3000 >"$d/in"
	BG_IN=$d/in bg wb-broadcast -a --rate 1000 --run mid --dead-letter "$d/dead" --reject "$d/rej" \
	    -u "ws://127.0.0.1:$PORT/pub/mid" >"$d/acks" 2>"$d/err" 4>&-
	pub=$BG
	wait_until 100 lines_at_least "$d/acks" delivered 500
	kill -TERM "$pub"
	rc=0
	wait_pid 100 "$pub" || rc=$?
	assert_equal "$rc" 75
	touch "$d/dead" "$d/rej"
	acked=$(grep -c delivered "$d/acks")
	n=$(( acked + $(wc -l <"$d/dead") ))
	[ "$n" -lt 3000 ]
	assert_equal "$(cat <(seqs "$d/acks" | tr ' ' '\n') <(jq -r .seq "$d/dead") | sed '/^$/d' | sort -n)" "$(seq 1 "$n")"
	assert_equal "$(jq -c 'del(.run, .seq)' "$d/dead")" "$(sed -n "$(( acked + 1 )),${n}p" "$d/in")"
	# A record the stop cut short, read in part, is a bad record whose
	# bytes are kept.
	rejected=$(wc -l <"$d/rej")
	[ "$rejected" -le 1 ]
	if [ "$rejected" = 1 ]; then
		line=$(sed -n "$((n + 1))p" "$d/in")
		[[ $line == "$(cat "$d/rej")"* ]]
	fi
	assert_equal "$(tail -n 1 "$d/err")" "wb-broadcast: $acked delivered, $(wc -l <"$d/dead") dead-lettered, $rejected rejected"
}

@test "a second signal skips the grace" {
	local np nd=$BATS_TEST_TMPDIR/node pids d=$BATS_TEST_TMPDIR
	np=$(free_port)
	echo "$nd" >>"$d/relays"
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	mkfifo "$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast -a --run two --grace 60 --dead-letter "$d/dead" \
	    -u "ws://127.0.0.1:$np/pub/two" >"$d/acks" 2>"$d/err" 4>&-
	pub=$BG
	exec 4<>"$d/fifo"
	pids=$(relay_pids "$nd")
	echo '{"type":"GoalUpdated","goal_id":"first"}' >&4
	wait_until 50 lines_at_least "$d/acks" delivered 1
	kill -STOP $pids
	worlds two 3 >&4
	sleep 0.3
	kill -TERM "$pub"
	wait_until 50 lines_at_least "$d/err" 'stopping on a signal' 1
	kill -INT "$pub"
	rc=0
	wait_pid 30 "$pub" || rc=$?
	kill -CONT $pids
	exec 4>&-
	assert_equal "$rc" 75
	assert_equal "$(seqs "$d/dead")" '2 3 4 '
	grep -q '^wb-broadcast: a second signal: not waiting for acks$' "$d/err"
}

@test "each stop signal while connecting (a peer that never answers the handshake, or none): at once, all read in the dead letter, 75" {
	local np sig d=$BATS_TEST_TMPDIR start end
	np=$(free_port)
	silent_listener "$np" "$d/conns"
	for sig in TERM INT HUP; do
		rm -f "$d/fifo" "$d/dead"
		mkfifo "$d/fifo"
		exec 4<>"$d/fifo"
		: >"$d/conns"
		BG_IN=$d/fifo bg wb-broadcast --run "c$sig" --grace 0.2 --dead-letter "$d/dead" \
		    -u "ws://127.0.0.1:$np/pub/hang" 2>"$d/err" 4>&-
		pub=$BG
		worlds hang 3 >&4
		# It hangs in the handshake (5 s before it gives up); a signal
		# ends it in the grace, well under that on a busy machine too.
		wait_until 50 grep -q accepted "$d/conns"
		sleep 0.2
		signal_wait "$sig" "$pub"
		exec 4>&-
		assert_equal "$rc" 75
		assert_equal "$(seqs "$d/dead")" '1 2 3 '
		assert_equal "$(jq -c 'del(.run, .seq)' "$d/dead")" "$(worlds hang 3)"
		assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 0 delivered, 3 dead-lettered, 0 rejected'
		took_under "$start" "$end" 2.5
	done
	# With --spool the same, kept in the spool.
	rm -f "$d/fifo"
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	: >"$d/conns"
	BG_IN=$d/fifo bg wb-broadcast --spool "$d/spool" --grace 0.2 --dead-letter "$d/dead2" \
	    -u "ws://127.0.0.1:$np/pub/hang" 2>"$d/err" 4>&-
	pub=$BG
	worlds hang 3 >&4
	wait_until 50 grep -q accepted "$d/conns"
	sleep 0.2
	signal_wait TERM "$pub"
	exec 4>&-
	assert_equal "$rc" 75
	[ ! -s "$d/dead2" ]
	assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 0 delivered, 0 dead-lettered, 0 rejected, 3 left in the spool'
	took_under "$start" "$end" 2.5
	# Nothing listening: a signal in the backoff between tries, as fast.
	np=$(free_port)
	rm -f "$d/fifo" "$d/dead"
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast --grace 0.2 --dead-letter "$d/dead" \
	    -u "ws://127.0.0.1:$np/pub/none" 2>"$d/err" 4>&-
	pub=$BG
	worlds none 3 >&4
	wait_until 50 grep -q 'trying again' "$d/err"
	signal_wait TERM "$pub"
	exec 4>&-
	assert_equal "$rc" 75
	assert_equal "$(seqs "$d/dead")" '1 2 3 '
	took_under "$start" "$end" 1
}
@test "a dead letter or reject file that is also an input: refused at start (64), nothing written" {
	local d=$BATS_TEST_TMPDIR
	worlds same 3 >"$d/same"
	cp "$d/same" "$d/orig"
	run --separate-stderr wb-broadcast --timeout 0.2 --dead-letter "$d/same" -u "ws://127.0.0.1:1/pub/x" <"$d/same"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "wb-broadcast: --dead-letter: $d/same is also the standard input: move it aside and read the moved copy"
	cmp "$d/same" "$d/orig"
	run --separate-stderr wb-broadcast --dead-letter "$d/same" -u "ws://127.0.0.1:1/pub/x" "$d/orig" "$d/same" </dev/null
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "wb-broadcast: --dead-letter: $d/same is also the input $d/same: move it aside and read the moved copy"
	run --separate-stderr wb-broadcast -n --reject "$d/same" "$d/same"
	assert_failure 64
	assert_output ''
	cmp "$d/same" "$d/orig"
	# The default dead letter, stderr, appended to the input.
	# (only the refusal is written there, no message).
	run bash -c 'wb-broadcast -u "ws://127.0.0.1:1/pub/x" <"$1" 2>>"$1"' _ "$d/same"
	assert_failure 64
	assert_equal "$(sed -n 4p "$d/same")" 'wb-broadcast: the dead letter (standard error) is also the standard input'
	assert_equal "$(grep -c '^{' "$d/same")" 3
	head -n 3 "$d/same" >"$d/same.3"
	mv "$d/same.3" "$d/same"
	cmp "$d/same" "$d/orig"
	# The recipe: move it aside, retry from the moved copy.
	mv "$d/same" "$d/retry"
	run --separate-stderr wb-broadcast --timeout 0.2 --dead-letter "$d/same" -u "ws://127.0.0.1:$(free_port)/pub/x" <"$d/retry"
	assert_failure 69
	assert_equal "$(jq -c 'del(.run, .seq)' "$d/same")" "$(cat "$d/orig")"
}

@test "any world id names a channel: bytes outside A-Z a-z 0-9 _ - become .XX, end to end" {
	local d=$BATS_TEST_TMPDIR
	es_sub "$PORT" world.Salt.20Marsh "$d/salt"
	es_sub "$PORT" world.Zo.C3.AB "$d/zoe"
	printf '%s\n' '{"type":"WorldDataChanged","world_id":"Salt Marsh","n":1}' \
	    '{"type":"WorldDataChanged","world_id":"Zoë","n":2}' \
	    '{"type":"WorldDataChanged","world_id":"Salt Marsh","n":3}' >"$d/in"
	run --separate-stderr wb-broadcast -n --run c -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <"$d/in"
	assert_success
	assert_equal "$(jq -r '[.channel, .seq] | @tsv' <<<"$output")" "$(printf 'world.Salt.20Marsh\t1\nworld.Zo.C3.AB\t1\nworld.Salt.20Marsh\t2')"
	run --separate-stderr wb-broadcast --run c -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <"$d/in"
	assert_success
	wait_until 50 lines_at_least "$d/salt" '^data: ' 2
	wait_until 50 lines_at_least "$d/zoe" '^data: ' 1
	sleep 0.2
	assert_equal "$(es_data "$d/salt" | jq -c '[.world_id, .n, .seq]' | tr '\n' ' ')" '["Salt Marsh",1,1] ["Salt Marsh",3,2] '
	assert_equal "$(es_data "$d/zoe" | jq -c '[.world_id, .n, .seq]' | tr '\n' ' ')" '["Zoë",2,1] '
	# wb-subscribe, on the URLs relay sign maps the world ids to (wss).
	run --separate-stderr timeout 20 wb-subscribe --count 3 --cacert "$BATS_FILE_TMPDIR/cert.pem" \
	    "$("$RELAY" sign -d "$RUNDIR" --ws --world 'Salt Marsh' 2>/dev/null)" \
	    "$("$RELAY" sign -d "$RUNDIR" --ws --world 'Zoë' 2>/dev/null)"
	assert_success
	assert_equal "$(jq -c '[.world_id, .n, .seq]' <<<"$output" | sort | tr '\n' ' ')" '["Salt Marsh",1,1] ["Salt Marsh",3,2] ["Zoë",2,1] '
}

@test "channel names: the dot is escaped too; empty and over 128 bytes are bad records" {
	local long
	long=$(printf 'x%.0s' $(seq 1 126))
	run --separate-stderr wb-broadcast -n --run c -u 'ws://127.0.0.1:1/pub/w.{world_id}' <<-EOF
	{"type":"WorldDataChanged","world_id":"a.b"}
	{"type":"WorldDataChanged","world_id":"a_b-C9/%~ "}
	{"type":"WorldDataChanged","world_id":""}
	{"type":"WorldDataChanged","world_id":"${long}y"}
	{"type":"WorldDataChanged","world_id":"${long}"}
	EOF
	assert_failure 65
	assert_equal "$(jq -r '.channel // .error.message' <<<"$output")" "w.a.2Eb
w.a_b-C9.2F.25.7E.20
-u: field \"world_id\" is empty: no channel name
-u: the channel name is 129 bytes long; the relay takes at most 128
w.${long}"
}

@test "--progress: a line each second on stderr" {
	local d=$BATS_TEST_TMPDIR
	worlds prog 10 >"$d/in"
	run --separate-stderr wb-broadcast --progress --rate 4 -u "ws://127.0.0.1:$PORT/pub/prog" <"$d/in"
	assert_success
	[ "${#stderr_lines[@]}" -ge 2 ]
	[[ ${stderr_lines[0]} =~ ^wb-broadcast:\ [0-9]+\ delivered,\ [0-9]+\ unacked,\ 0\ dead-lettered,\ 0\ rejected$ ]]
	assert_equal "${stderr_lines[-1]}" 'wb-broadcast: 10 delivered, 0 dead-lettered, 0 rejected'
	run --separate-stderr wb-broadcast --rate 4 -u "ws://127.0.0.1:$PORT/pub/prog" <"$d/in"
	assert_equal "$stderr" 'wb-broadcast: 10 delivered, 0 dead-lettered, 0 rejected'
}

# A producer of records n=$2..$3 for world $1 into fd 4, a few ms apart, so
# that the reader takes each as it comes.
trickle() {
	for ((i = $2; i <= $3; i++)); do
		printf '{"type":"WorldDataChanged","world_id":"%s","n":%d}\n' "$1" "$i" >&4
		((i % 20)) || sleep 0.02
	done
}

# The messages of an EventSource capture $1.., once each by (run, seq), as
# [n, run, seq] with the check that a message sent twice kept its pair.
es_once() {
	cat "$@" | sed -n 's/^data: //p' | jq -sc 'unique_by([.run, .seq]) | sort_by(.n) | .[] | .n'
}
es_same_pairs() {
	cat "$@" | sed -n 's/^data: //p' | jq -s 'group_by(.n) | map(map([.run, .seq]) | unique | length) | max'
}

# Lines $2..$3 of file $1 into fd 4, a few ms apart, so that the reader
# takes each as it comes.
trickle_lines() {
	local i
	for ((i = $2; i <= $3; i += 20)); do
		sed -n "$i,$((i + 19 < $3 ? i + 19 : $3))p" "$1" >&4
		sleep 0.02
	done
}

@test "--spool: kill -9 mid-stream, then a new run: wb-subscribe prints the input exactly once, in order per channel" {
	local d=$BATS_TEST_TMPDIR url="ws://127.0.0.1:$PORT/pub/world.{world_id}" w
	# Two worlds, interleaved: two channels.
	seq 1 400 | awk '{ printf "{\"type\":\"WorldDataChanged\",\"world_id\":\"k9%s\",\"n\":%d}\n", ($1 % 3 ? "a" : "b"), $1 }' >"$d/in"
	bg wb-subscribe "ws://127.0.0.1:$PORT/sub/world.k9a" "ws://127.0.0.1:$PORT/sub/world.k9b" >"$d/out" 2>"$d/sub.err"
	sub=$BG
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast -a --spool "$d/spool" --rate 40 -u "$url" >"$d/acks1" 2>"$d/err1" 4>&-
	pub=$BG
	trickle_lines "$d/in" 1 300
	wait_until 100 lines_at_least "$d/acks1" delivered 60
	kill -KILL "$pub"
	wait_pid 50 "$pub" || true
	# Some were read and not acked: they are in the journal.
	[ "$(grep -c delivered "$d/acks1")" -lt 300 ]
	[ "$(grep -c "^m " "$d/spool/journal")" -gt "$(grep -c delivered "$d/acks1")" ]
	BG_IN=$d/fifo bg wb-broadcast -a --spool "$d/spool" -u "$url" >"$d/acks2" 2>"$d/err2" 4>&-
	pub=$BG
	trickle_lines "$d/in" 301 400
	exec 4>&-
	rc=0
	wait_pid 300 "$pub" || rc=$?
	assert_equal "$rc" 0
	grep -q '^wb-broadcast: --spool: sending [0-9]* messages\? an earlier run left unacked$' "$d/err2"
	# What the first run left unacked was sent again by the second.
	[ "$(grep -c delivered "$d/acks2")" -gt 100 ]
	wait_until 100 lines_at_least "$d/out" '"n"' 400
	sleep 0.5
	kill -TERM "$sub"
	rc=0
	wait_pid 50 "$sub" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$d/sub.err")" ''
	# Exactly the input, once, in order on each channel, seq 1, 2, ...
	assert_equal "$(wc -l <"$d/out")" 400
	for w in k9a k9b; do
		assert_equal "$(jq -c "select(.world_id == \"$w\") | del(.run, .seq)" "$d/out")" "$(grep "\"$w\"" "$d/in")"
		assert_equal "$(jq -r "select(.world_id == \"$w\") | .seq" "$d/out")" "$(seq 1 "$(grep -c "\"$w\"" "$d/in")")"
	done
	assert_equal "$(jq -r .run "$d/out" | sort -u | wc -l)" 1
	# Everything acked: the journal is compacted to its seq lines.
	assert_equal "$(grep -c '^m ' "$d/spool/journal")" 0
}

@test "--spool: the relay down, the journal keeps what is read; kill -9; relay back, a new run delivers it all" {
	local np nd=$BATS_TEST_TMPDIR/node d=$BATS_TEST_TMPDIR url
	np=$(free_port)
	url="ws://127.0.0.1:$np/pub/world.{world_id}"
	echo "$nd" >>"$d/relays"
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	es_sub "$np" world.down "$d/es1"
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast -a --spool "$d/spool" --timeout 1 -u "$url" >"$d/acks1" 2>"$d/err1" 4>&-
	pub=$BG
	trickle down 1 50
	wait_until 100 lines_at_least "$d/acks1" delivered 50
	"$RELAY" stop -d "$nd" >/dev/null
	trickle down 51 150
	# Past --timeout nothing goes to a dead letter: it waits in the spool.
	wait_until 100 eval '[ "$(grep -c "^m " "$d/spool/journal")" -ge 150 ]'
	sleep 1.2
	kill -KILL "$pub"
	wait_pid 50 "$pub" || true
	"$RELAY" start -p "$np" -d "$nd" >/dev/null 4>&-
	es_sub "$np" world.down "$d/es2" 4>&-
	BG_IN=$d/fifo bg wb-broadcast -a --spool "$d/spool" -u "$url" >"$d/acks2" 2>"$d/err2" 4>&-
	pub=$BG
	trickle down 151 200
	exec 4>&-
	rc=0
	wait_pid 300 "$pub" || rc=$?
	assert_equal "$rc" 0
	wait_until 100 eval '[ "$(es_once "$d/es2" | wc -l)" -ge 150 ]'
	assert_equal "$(es_once "$d/es1" "$d/es2")" "$(seq 1 200)"
	assert_equal "$(es_same_pairs "$d/es1" "$d/es2")" 1
	# The re-sent ones kept their run and seq; the run survives the
	# restart, and its seq goes on.
	run1=$(jq -r 'select(.seq) | .run' "$d/acks1" | sort -u)
	assert_equal "$(sed -n 's/^data: //p' "$d/es2" | jq -r '.run' | sort -u)" "$run1"
	assert_equal "$(sed -n 's/^data: //p' "$d/es1" "$d/es2" | jq -sr 'unique_by(.seq) | map(.seq == .n) | all')" true
}

@test "--spool: one process per spool; a second is refused with 75 and a clear line" {
	local d=$BATS_TEST_TMPDIR
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast --spool "$d/spool" -u "ws://127.0.0.1:$PORT/pub/lock" 2>"$d/err1" 4>&-
	pub=$BG
	wait_until 50 test -s "$d/spool/lock"
	run --separate-stderr wb-broadcast --spool "$d/spool" -u "ws://127.0.0.1:$PORT/pub/lock" <<<'{"type":"GoalUpdated","goal_id":"g"}'
	assert_failure 75
	assert_equal "$stderr" "wb-broadcast: --spool: $d/spool is in use by another wb-broadcast (pid $pub); one process per spool"
	exec 4>&-
	wait_pid 100 "$pub"
}

@test "--spool: a stop signal keeps the unacked in the spool, not in a dead letter; the next run sends them" {
	local np d=$BATS_TEST_TMPDIR url
	np=$(free_port)
	url="ws://127.0.0.1:$np/pub/held"
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast --spool "$d/spool" --grace 0.2 --run held --dead-letter "$d/dead" -u "$url" 2>"$d/err" 4>&-
	pub=$BG
	worlds held 4 >&4
	wait_until 50 eval '[ "$(grep -c "^m " "$d/spool/journal" 2>/dev/null)" = 4 ]'
	kill -TERM "$pub"
	rc=0
	wait_pid 100 "$pub" || rc=$?
	exec 4>&-
	assert_equal "$rc" 75
	[ ! -s "$d/dead" ]
	assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 0 delivered, 0 dead-lettered, 0 rejected, 4 left in the spool'
	echo "$d/node" >>"$d/relays"
	"$RELAY" start -p "$np" -d "$d/node" >/dev/null 4>&-
	run --separate-stderr wb-broadcast -a --spool "$d/spool" --run held -u "$url" <<<'{"type":"GoalUpdated","goal_id":"next"}'
	assert_success
	# The earlier run's first, then the new message goes on with its seq.
	assert_equal "$(jq -r '[.run, .seq] | @tsv' <<<"$output" | tr '\t\n' ': ')" 'held:1 held:2 held:3 held:4 held:5 '
}

@test "--spool-max: with the relay down, reading waits once the journal is full" {
	local np d=$BATS_TEST_TMPDIR
	np=$(free_port)
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast --spool "$d/spool" --spool-max 2K --grace 0 \
	    -u "ws://127.0.0.1:$np/pub/full" 2>"$d/err" 4>&-
	pub=$BG
	# More than one read can take: the writer blocks on the full pipe.
	bg awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"type\":\"WorldDataChanged\",\"world_id\":\"full\",\"n\":%d}\n", i }' >&4
	wait_until 50 eval '[ "$(wc -c <"$d/spool/journal" 2>/dev/null)" -ge 2048 ]'
	sleep 0.5
	size=$(wc -c <"$d/spool/journal")
	[ "$size" -lt 2300 ]
	kill -TERM "$pub"
	rc=0
	wait_pid 100 "$pub" || rc=$?
	exec 4>&-
	assert_equal "$rc" 75
	# What was read when the signal came is journaled too, no more.
	n=$(grep -c '^m ' "$d/spool/journal")
	[ "$n" -lt 3000 ]
	# (A record the stop cut short is a bad record.)
	[[ $(tail -n 1 "$d/err") =~ ^wb-broadcast:\ 0\ delivered,\ 0\ dead-lettered,\ [01]\ rejected,\ $n\ left\ in\ the\ spool$ ]]
}

@test "on a terminal the progress line is drawn in place, then the summary" {
	local d=$BATS_TEST_TMPDIR
	worlds tty 10 >"$d/in"
	script -qec "wb-broadcast --rate 4 -u ws://127.0.0.1:$PORT/pub/tty <'$d/in'" /dev/null >"$d/tty"
	grep -q $'^wb-broadcast: [0-9]* delivered, [0-9]* unacked, 0 dead-lettered, 0 rejected\r\e\\[Kwb-broadcast' "$d/tty"
	[[ $(tail -c 60 "$d/tty") == *$'\e[Kwb-broadcast: 10 delivered, 0 dead-lettered, 0 rejected\r' ]]
}

@test "--spool: the run survives restarts and its seq goes on; --run starts another" {
	local d=$BATS_TEST_TMPDIR url="ws://127.0.0.1:$PORT/pub/world.{world_id}"
	run --separate-stderr wb-broadcast -a --spool "$d/spool" -u "$url" < <(worlds r1 3)
	assert_success
	r=$(jq -r .run <<<"$output" | sort -u)
	run --separate-stderr wb-broadcast -a --spool "$d/spool" -u "$url" < <(worlds r1 2; worlds r2 1)
	assert_success
	assert_equal "$(jq -r 'select(.channel | endswith(".r1")) | [.run, .seq] | @tsv' <<<"$output" | tr '\t\n' ': ')" "$r:4 $r:5 "
	assert_equal "$(jq -r 'select(.channel | endswith(".r2")) | [.run, .seq] | @tsv' <<<"$output")" "$r	1"
	run --separate-stderr wb-broadcast -a --spool "$d/spool" --run other -u "$url" < <(worlds r1 1)
	assert_equal "$(jq -r '[.run, .seq] | @tsv' <<<"$output")" "other	1"
	run --separate-stderr wb-broadcast -a --spool "$d/spool" -u "$url" < <(worlds r1 1)
	assert_equal "$(jq -r '[.run, .seq] | @tsv' <<<"$output")" "other	2"
}

@test "a stop signal after the end of the input: the grace, and 0 when every ack came" {
	local np nd=$BATS_TEST_TMPDIR/node pids d=$BATS_TEST_TMPDIR
	np=$(free_port)
	echo "$nd" >>"$d/relays"
	"$RELAY" start -p "$np" -d "$nd" >/dev/null
	mkfifo "$d/fifo"
	exec 4<>"$d/fifo"
	BG_IN=$d/fifo bg wb-broadcast -a --grace 5 --run late -u "ws://127.0.0.1:$np/pub/late" >"$d/acks" 2>"$d/err" 4>&-
	pub=$BG
	worlds late 1 >&4
	wait_until 50 lines_at_least "$d/acks" delivered 1
	pids=$(relay_pids "$nd")
	kill -STOP $pids
	# The input ends; the acks wait for the relay.
	worlds late 2 | tail -n 1 >&4
	exec 4>&-
	sleep 0.5
	kill -TERM "$pub"
	sleep 0.3
	kill -CONT $pids
	rc=0
	wait_pid 100 "$pub" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(seqs "$d/acks")" '1 2 '
	assert_equal "$(tail -n 1 "$d/err")" 'wb-broadcast: 2 delivered, 0 dead-lettered, 0 rejected'
}

@test "--spool: what an earlier run left goes to its channel under the new -u" {
	local d=$BATS_TEST_TMPDIR np
	np=$(free_port)
	run --separate-stderr wb-broadcast --spool "$d/spool" --timeout 0.2 --run moved \
	    -u "ws://127.0.0.1:$np/pub/world.{world_id}" < <(worlds moved 3)
	assert_failure 69
	assert_equal "${stderr_lines[-1]}" 'wb-broadcast: 0 delivered, 0 dead-lettered, 0 rejected, 3 left in the spool'
	es_sub "$PORT" world.moved "$d/es"
	run --separate-stderr wb-broadcast -a --spool "$d/spool" -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" </dev/null
	assert_success
	assert_equal "$(jq -r '[.run, .seq, .channel] | @tsv' <<<"$output" | tr '\t\n' '  ')" \
	    "moved 1 ws://127.0.0.1:$PORT/pub/world.moved moved 2 ws://127.0.0.1:$PORT/pub/world.moved moved 3 ws://127.0.0.1:$PORT/pub/world.moved "
	wait_until 50 lines_at_least "$d/es" '^data: ' 3
	assert_equal "$(es_data "$d/es" | jq -r .n | tr '\n' ' ')" '1 2 3 '
}

@test "--spool under a steady stream: compacted as it goes, never past --spool-max" {
	local d=$BATS_TEST_TMPDIR
	worlds roll 3000 >"$d/in"
	# The largest size the journal is seen at, every 5 ms.
	bg bash -c 'max=0; while sleep 0.005; do s=$(stat -c %s "$1/journal" 2>/dev/null || echo 0); [ "$s" -gt "$max" ] && max=$s && echo "$max" >"$2"; done' _ "$d/spool" "$d/max"
	run --separate-stderr wb-broadcast --spool "$d/spool" --spool-max 16K -u "ws://127.0.0.1:$PORT/pub/world.{world_id}" <"$d/in"
	assert_success
	assert_equal "${stderr_lines[-1]}" 'wb-broadcast: 3000 delivered, 0 dead-lettered, 0 rejected, 0 left in the spool'
	# 3000 messages of some 90 bytes went through a journal of 16K.
	[ "$(cat "$d/max")" -gt 1000 ]
	[ "$(cat "$d/max")" -le 17000 ]
	assert_equal "$(grep -c '^m ' "$d/spool/journal")" 0
}
