# Process helpers for the tests that run a relay (tests/wb-broadcast.bats),
# also sourced by scripts/bench: free loopback ports, bounded waits,
# background commands stopped by PID.

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p _
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))  # below the ephemeral ports
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_until TENTHS COMMAND...: poll every 0.1 s, at most TENTHS times.
wait_until() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# Start a command in the background, its PID kept for teardown; fd 3
# closed so that bats does not wait for it. The caller redirects its
# output; its input is $BG_IN (a background command's stdin is /dev/null
# unless the redirection is on the command itself).
bg() {
	"$@" <"${BG_IN:-/dev/null}" 3>&- &
	BG=$!
	echo "$BG" >>"$BATS_TEST_TMPDIR/pids"
}

# Wait for a background PID to end (bounded); its exit status.
wait_pid() {
	local n=$1 p=$2
	wait_until "$n" eval "! kill -0 $p 2>/dev/null || grep -q '^[^ ]* ([^)]*) Z' /proc/$p/stat" ||
	    { kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; return 124; }
	wait "$p"
}

# signal_wait SIG PID: send SIG to the background PID and wait (bounded)
# for it to end; rc is its exit status, start and end the times around.
signal_wait() {
	start=$(date +%s.%N)
	kill "-$1" "$2"
	rc=0
	wait_pid 100 "$2" || rc=$?
	end=$(date +%s.%N)
}

# A relay's subscribers need URLs signed by relay sign unless it was
# started with --open-subscribe; the tests that subscribe with plain
# loopback URLs start their relays open. The tests of signing unset this.
export WB_RELAY_OPEN_SUBSCRIBE=1

# The HTTP status of an EventSource request for URL $1 (200 once the
# stream is open; the stream is cut after a second).
es_status() {
	curl -s -N -m 1 -H 'Accept: text/event-stream' -o /dev/null -w '%{http_code}' "$1" || true
}

# Make the directories from $BATS_RUN_TMPDIR down to $1 searchable by
# others: a relay started by root serves its files from workers running as
# nobody.
searchable() {
	local d=$1
	while [ -n "$d" ] && [ "$d" != / ]; do
		chmod go+x "$d"
		[ "$d" != "$BATS_RUN_TMPDIR" ] || break
		d=$(dirname "$d")
	done
}

# One relay, plain and TLS, for all the tests of a file (from setup_file):
# WB_RELAY_TOKEN, RUNDIR, PORT and TLS_PORT exported, its self-signed
# certificate for 127.0.0.1 in $BATS_FILE_TMPDIR/cert.pem.
start_file_relay() {
	export WB_RELAY_TOKEN=tok-$RANDOM$RANDOM
	export RUNDIR=$BATS_FILE_TMPDIR/relay
	chmod 711 "$BATS_FILE_TMPDIR"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 -keyout "$BATS_FILE_TMPDIR/key.pem" \
	    -out "$BATS_FILE_TMPDIR/cert.pem" 2>/dev/null
	export PORT TLS_PORT
	PORT=$(free_port)
	TLS_PORT=$(free_port)
	"$RELAY" start -p "$PORT" -d "$RUNDIR" --tls-port "$TLS_PORT" \
	    --cert "$BATS_FILE_TMPDIR/cert.pem" --key "$BATS_FILE_TMPDIR/key.pem" >&3
}

# Stop start_file_relay's relay (from teardown_file).
stop_file_relay() {
	"$RELAY" stop -d "$RUNDIR" >/dev/null
}

# A TCP listener on 127.0.0.1:$1 that accepts and never answers, as a
# relay that hangs in the handshake; a line "accepted" in $2 for each
# connection. Stopped by PID in teardown.
silent_listener() {
	bg node -e '
const fs = require("fs"), port = +process.argv[1], log = process.argv[2];
require("net").createServer(c => {
	c.on("error", () => {});
	fs.appendFileSync(log, "accepted\n");
}).listen(port, "127.0.0.1", () => fs.appendFileSync(log, "listening\n"));' "$1" "$2"
	wait_until 100 grep -q '^listening$' "$2"
}

# Seconds from $1 to $2 (date +%s.%N) under $3.
took_under() {
	awk -v a="$1" -v b="$2" -v lim="$3" 'BEGIN { exit !(b - a < lim) }'
}
