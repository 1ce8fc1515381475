#!/usr/bin/env bats
# scripts/relay's nginx configuration: the template filled in as start fills
# it, checked by nginx -t with the nchan module loaded; where relay finds
# the template, in the source tree and installed; and a real relay on
# loopback: signed subscribers' URLs, the publishers' address allow-list,
# the player page.

load helper
load relay

RELAY=$TOP/scripts/relay
TEMPLATE=$TOP/scripts/relay.nginx.conf

setup() {
	export WB_RELAY_TOKEN=tok.en+1/x=
	unset WB_RELAY_TEMPLATE WB_RELAY_PLAYER WB_RELAY_OPEN_SUBSCRIBE
	mkdir -p "$BATS_TEST_TMPDIR/p/logs" "$BATS_TEST_TMPDIR/p/tmp"
	# the relays' workers may run as nobody
	searchable "$BATS_TEST_TMPDIR"
}

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

# nginx -t on the configuration file $1, in a prefix of its own, with a
# secret.conf beside it as start writes one.
nginx_t() {
	printf 'set $relay_secret "%s";\n' "$(printf '%064d' 7)" >"$(dirname "$1")/secret.conf"
	"${NGINX_BIN:-/usr/sbin/nginx}" -t -p "$BATS_TEST_TMPDIR/p/" -c "$1" -e logs/error.log
}

# Start a relay in run directory $1 on a free port (in $PORT) with the
# options after it; stopped in teardown.
start_relay() {
	local d=$BATS_TEST_TMPDIR/$1
	shift
	PORT=$(free_port)
	echo "$d" >>"$BATS_TEST_TMPDIR/relays"
	"$RELAY" start -p "$PORT" -d "$d" "$@" >"$BATS_TEST_TMPDIR/start.out"
}

# POST message $2 to channel $1 of the relay on 127.0.0.1:$PORT.
publish() {
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $WB_RELAY_TOKEN" \
	    -d "$2" "http://127.0.0.1:$PORT/pub/$1"
}

# The data lines an EventSource URL $1 gives within a second.
es_data() {
	curl -s -N -m 1 -H 'Accept: text/event-stream' "$1" | sed -n 's/^data: //p' || true
}

@test "the template with every option filled in passes nginx -t, nchan loaded" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	run --separate-stderr "$RELAY" config -p 8123 --tls-port 8124 \
	    --cert "$BATS_TEST_TMPDIR/cert.pem" --key "$BATS_TEST_TMPDIR/key.pem" \
	    --redis redis://127.0.0.1:6390 --workers 2 --buffer-length 10 \
	    --buffer-timeout 5m --ping 3 -d "$BATS_TEST_TMPDIR/run"
	assert_success
	assert_equal "$stderr" ''
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/nginx.conf"
	refute_regex "$output" '@[A-Z_]+@|#redis#|#tls#'
	assert_line --index 0 "# Written by relay from $TEMPLATE; edits are overwritten at every start."
	assert_line 'load_module /usr/lib/nginx/modules/ngx_nchan_module.so;'
	assert_line 'worker_processes 2;'
	assert_line '		"~^[Bb][Ee][Aa][Rr][Ee][Rr] +tok[.]en[+]1/x=$" 1;'
	assert_line '		nchan_redis_server redis://127.0.0.1:6390;'
	assert_line '		listen 127.0.0.1:8123;'
	assert_line '		listen 127.0.0.1:8124 ssl;'
	assert_line "		ssl_certificate $BATS_TEST_TMPDIR/cert.pem;"
	assert_line '			nchan_message_buffer_length 10;'
	assert_line '			nchan_message_timeout 5m;'
	assert_line '			nchan_eventsource_ping_interval 3;'
	assert_equal "$(grep -c 'nchan_redis_pass relay_redis;' <<<"$output")" 3
	run nginx_t "$BATS_TEST_TMPDIR/nginx.conf"
	assert_success
	assert_output --partial 'test is successful'
}

@test "without --redis and --tls-port the template has neither, and passes nginx -t" {
	run --separate-stderr "$RELAY" config -p 8123 -d "$BATS_TEST_TMPDIR/run"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/nginx.conf"
	refute_regex "$output" '@[A-Z_]+@|#redis#|#tls#|redis|ssl'
	assert_line 'worker_processes 1;'
	assert_line '			nchan_message_buffer_length 2000;'
	run nginx_t "$BATS_TEST_TMPDIR/nginx.conf"
	assert_success
	assert_output --partial 'test is successful'
}

@test "config with no token to use says so, and 69" {
	run -69 --separate-stderr env -u WB_RELAY_TOKEN "$RELAY" config -d "$BATS_TEST_TMPDIR/run"
	assert_output ''
	assert_equal "$stderr" "relay: no token: set WB_RELAY_TOKEN, or start once with -d $BATS_TEST_TMPDIR/run"
}

@test "installed in bin/ as wb-relay, relay finds its template in ../share/wb/" {
	d=$BATS_TEST_TMPDIR/prefix
	mkdir -p "$d/bin" "$d/share/wb"
	cp "$RELAY" "$d/bin/wb-relay"
	cp "$TEMPLATE" "$d/share/wb/relay.nginx.conf"
	run --separate-stderr "$d/bin/wb-relay" config
	assert_success
	assert_line --index 0 "# Written by relay from $d/share/wb/relay.nginx.conf; edits are overwritten at every start."
}

@test "installed in share/wb/, relay finds its template beside itself" {
	d=$BATS_TEST_TMPDIR/prefix
	mkdir -p "$d/share/wb"
	cp "$RELAY" "$TEMPLATE" "$d/share/wb/"
	run --separate-stderr "$d/share/wb/relay" config
	assert_success
	assert_line --index 0 "# Written by relay from $d/share/wb/relay.nginx.conf; edits are overwritten at every start."
}

@test "WB_RELAY_TEMPLATE names the template to fill" {
	sed 's/^events {$/# this one\n&/' "$TEMPLATE" >"$BATS_TEST_TMPDIR/mine.conf"
	WB_RELAY_TEMPLATE=$BATS_TEST_TMPDIR/mine.conf run --separate-stderr "$RELAY" config
	assert_success
	assert_line --index 0 "# Written by relay from $BATS_TEST_TMPDIR/mine.conf; edits are overwritten at every start."
	assert_line '# this one'
}

@test "with no template to be found, relay says where it looked, and 69" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$RELAY" "$BATS_TEST_TMPDIR/bin/"
	run -69 --separate-stderr "$BATS_TEST_TMPDIR/bin/relay" config
	assert_output ''
	assert_equal "$stderr" "relay: relay.nginx.conf not found beside $BATS_TEST_TMPDIR/bin/ or in $BATS_TEST_TMPDIR/bin/../share/wb/ (set WB_RELAY_TEMPLATE)"
	WB_RELAY_TEMPLATE=$BATS_TEST_TMPDIR/none run -69 --separate-stderr "$RELAY" config
	assert_equal "$stderr" "relay: WB_RELAY_TEMPLATE: cannot read $BATS_TEST_TMPDIR/none"
}

@test "by default subscribers need a signed URL, publishers come from loopback" {
	run --separate-stderr "$RELAY" config -p 8123 -d "$BATS_TEST_TMPDIR/run"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/nginx.conf"
	refute_regex "$output" '#signed#|#open#'
	assert_line '		listen 127.0.0.1:8123;'
	assert_line '		include secret.conf;'
	assert_line '			secure_link $arg_md5,$arg_expires;'
	assert_line '			secure_link_md5 "$secure_link_expires/sub/$relay_chan $relay_secret";'
	assert_equal "$(grep -c '^			allow 127.0.0.0/8; allow ::1; deny all;$' <<<"$output")" 2
	run nginx_t "$BATS_TEST_TMPDIR/nginx.conf"
	assert_success
}

@test "--open-subscribe, --listen and --publish-from in the configuration" {
	run --separate-stderr "$RELAY" config -p 8123 -d "$BATS_TEST_TMPDIR/run" \
	    --open-subscribe --listen :: --publish-from 10.0.0.0/8 --publish-from 192.0.2.7,::1
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/nginx.conf"
	refute_regex "$output" 'secure_link[_a-z]* |include secret.conf|#open#'
	assert_line '		listen [::]:8123;'
	assert_line '			allow 10.0.0.0/8; allow 192.0.2.7; allow ::1; deny all;'
	assert_equal "$stderr" 'relay: warning: --open-subscribe on ::: whoever reaches it reads every channel'
	run nginx_t "$BATS_TEST_TMPDIR/nginx.conf"
	assert_success
	WB_RELAY_OPEN_SUBSCRIBE=1 run --separate-stderr "$RELAY" config -p 8123 -d "$BATS_TEST_TMPDIR/run"
	refute_regex "$output" 'secure_link'
	assert_equal "$stderr" ''
}

@test "a bad --listen or --publish-from is a usage error" {
	run -64 --separate-stderr "$RELAY" config --listen example.org
	assert_equal "$stderr" 'relay: bad --listen address: example.org (an IPv4 or IPv6 address)'
	run -64 --separate-stderr "$RELAY" config --publish-from '10.0.0.0/8; allow all'
	assert_equal "$stderr" 'relay: bad --publish-from: 10.0.0.0/8; allow all (an address or CIDR block)'
}

@test "signed URLs: good, unsigned, expired, tampered, other channel" {
	start_relay r
	local d=$BATS_TEST_TMPDIR/r u m t
	assert_equal "$(stat -c %a "$d/secret" "$d/conf/secret.conf" | tr '\n' ' ')" '600 600 '
	assert_equal "$(publish world.a '{"n":1}')" 202
	u=$("$RELAY" sign -d "$d" --sse world.a)
	assert_regex "$u" "^http://127.0.0.1:$PORT/sub/world.a\?expires=[0-9]+&md5=[A-Za-z0-9_-]{22}$"
	assert_equal "$(es_data "$u")" '{"n":1}'
	assert_equal "$(es_status "http://127.0.0.1:$PORT/sub/world.a")" 403
	assert_equal "$(es_status "${u/world.a/world.b}")" 403
	# one character of the signature changed, at the start and in the
	# middle, each to a character it is not
	m=${u#*md5=}
	t=A; [ "${m:0:1}" != A ] || t=B
	assert_equal "$(es_status "${u%md5=*}md5=$t${m:1}")" 403
	t=x; [ "${m:11:1}" != x ] || t=y
	assert_equal "$(es_status "${u%md5=*}md5=${m:0:11}$t${m:12}")" 403
	e=${u#*expires=}; e=${e%%&*}
	assert_equal "$(es_status "${u/expires=$e/expires=$((e + 1))}")" 403
	# a URL for world.b is good for world.b only
	assert_equal "$(es_status "$("$RELAY" sign -d "$d" --sse world.b)")" 200
	u=$("$RELAY" sign -d "$d" --sse --ttl 1s world.a)
	assert_equal "$(es_status "$u")" 200
	e=${u#*expires=}; e=${e%%&*}
	wait_until 30 eval '[ "$(date +%s)" -gt '"$e"' ]'
	assert_equal "$(es_status "$u")" 403
}

@test "a signed WebSocket URL subscribes; an unsigned one is refused" {
	start_relay r
	local d=$BATS_TEST_TMPDIR/r u
	assert_equal "$(publish world.ws '{"n":2}')" 202
	u=$("$RELAY" sign -d "$d" --ws world.ws)
	assert_regex "$u" "^ws://127.0.0.1:$PORT/sub/world.ws\?expires=[0-9]+&md5="
	run --separate-stderr timeout 20 "$WB_TOOLS/wssub" -n 1 -t 5 "$u"
	assert_success
	assert_output '{"n":2}'
	run --separate-stderr timeout 20 "$WB_TOOLS/wssub" -n 1 -t 5 "ws://127.0.0.1:$PORT/sub/world.ws"
	assert_failure
	assert_output ''
	# wb-subscribe takes the signed URL; the unsigned one is 77, and the
	# line says what is missing.
	run --separate-stderr timeout 20 wb-subscribe --count 1 "$u"
	assert_success
	assert_output '{"n":2}'
	run --separate-stderr timeout 20 wb-subscribe --count 1 "ws://127.0.0.1:$PORT/sub/world.ws"
	assert_failure 77
	assert_output ''
	assert_equal "$stderr" "wb-subscribe: ws://127.0.0.1:$PORT/sub/world.ws: HTTP/1.1 403 Forbidden: the relay wants a URL it signed (relay sign --ws CHANNEL), unexpired and unaltered"
}

@test "the secret is in the run directory only: not in the config, the logs or sign's argv" {
	start_relay r
	local d=$BATS_TEST_TMPDIR/r u m secret
	secret=$(cat "$d/secret")
	assert_regex "$secret" '^[0-9a-f]{64}$'
	u=$("$RELAY" sign -d "$d" --sse world.a)
	m=${u#*md5=}
	es_status "$u" >/dev/null
	es_status "${u/world.a/world.b}" >/dev/null
	"$RELAY" sign -d "$d" world.a >/dev/null
	run --separate-stderr "$RELAY" config -d "$d"
	assert_success
	refute_output --partial "$secret"
	refute grep -rqF -e "$secret" -e "$m" "$d/conf/nginx.conf" "$d/logs" "$d/relay.env"
	grep -qF '"GET /sub/world.a HTTP/1.1" 499' "$d/logs/access.log"
	# no command that sign runs has the secret among its arguments
	strace -f -qq -e trace=execve -s 4096 -o "$BATS_TEST_TMPDIR/trace" \
	    "$RELAY" sign -d "$d" world.a >/dev/null
	grep -q 'execve(".*openssl' "$BATS_TEST_TMPDIR/trace"
	refute grep -qF "$secret" "$BATS_TEST_TMPDIR/trace"
}

@test "a signed URL outlives a restart; a new secret revokes it" {
	start_relay r
	local d=$BATS_TEST_TMPDIR/r u
	u=$("$RELAY" sign -d "$d" --sse world.a)
	"$RELAY" stop -d "$d" >/dev/null
	"$RELAY" start -d "$d" >/dev/null
	assert_equal "$(es_status "$u")" 200
	"$RELAY" stop -d "$d" >/dev/null
	rm "$d/secret"
	"$RELAY" start -d "$d" >/dev/null
	assert_equal "$(es_status "$u")" 403
	assert_equal "$(es_status "$("$RELAY" sign -d "$d" --sse world.a)")" 200
}

@test "restart, and stop then start -d alone, bring back the relay as it was started" {
	local d=$BATS_TEST_TMPDIR/r rd=$BATS_TEST_TMPDIR/redis rp tp
	rp=$(free_port)
	tp=$(free_port)
	echo "$rd $rp" >>"$BATS_TEST_TMPDIR/redises"
	"$RELAY" redis-start --redis-port "$rp" -d "$rd" >/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.2 \
	    -addext subjectAltName=IP:127.0.0.2 -keyout "$BATS_TEST_TMPDIR/key.pem" \
	    -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	start_relay r --listen 127.0.0.2 --publish-from 127.0.0.3/32 --open-subscribe \
	    --redis "redis://127.0.0.1:$rp" --tls-port "$tp" --cert "$BATS_TEST_TMPDIR/cert.pem" \
	    --key "$BATS_TEST_TMPDIR/key.pem" --ping 7 --buffer-length 50 --workers 2
	cp "$d/conf/nginx.conf" "$BATS_TEST_TMPDIR/first.conf"
	run --separate-stderr "$RELAY" restart -d "$d"
	assert_success
	assert_equal "$stderr" "relay: as started last in $d: --listen 127.0.0.2 --publish-from 127.0.0.3/32 --open-subscribe --redis redis://127.0.0.1:$rp --tls-port $tp --cert $BATS_TEST_TMPDIR/cert.pem --key $BATS_TEST_TMPDIR/key.pem --workers 2 --buffer-length 50 --ping 7"
	assert_equal "$(cat "$d/conf/nginx.conf")" "$(cat "$BATS_TEST_TMPDIR/first.conf")"
	# The same relay: open subscribing on 127.0.0.2, plain and TLS, the
	# allow-list, the store.
	assert_equal "$(es_status "http://127.0.0.2:$PORT/sub/world.a")" 200
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$BATS_TEST_TMPDIR/cert.pem" "https://127.0.0.2:$tp/player.html")" 200
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.1 -H "Authorization: Bearer $WB_RELAY_TOKEN" -d '{}' "http://127.0.0.2:$PORT/pub/world.a")" 403
	# (201 while the subscriber above is still counted, 202 without.)
	assert_regex "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -H "Authorization: Bearer $WB_RELAY_TOKEN" -d '{}' "http://127.0.0.2:$PORT/pub/world.a")" '^20[12]$'
	assert_regex "$("$RELAY" status -d "$d")" "store redis://127.0.0.1:$rp "
	# stop, then start with the run directory alone: the same again.
	"$RELAY" stop -d "$d" >/dev/null
	"$RELAY" start -d "$d" >/dev/null 2>&1
	assert_equal "$(cat "$d/conf/nginx.conf")" "$(cat "$BATS_TEST_TMPDIR/first.conf")"
	# An option given replaces what is remembered, only that one.
	"$RELAY" restart -d "$d" --ping 9 >/dev/null 2>&1
	assert_equal "$(diff "$BATS_TEST_TMPDIR/first.conf" "$d/conf/nginx.conf" | grep -c '^>')" 2
	grep -q 'nchan_websocket_ping_interval 9;' "$d/conf/nginx.conf"
	# ... and it is remembered in turn; --forget starts from the defaults.
	"$RELAY" restart -d "$d" >/dev/null 2>&1
	grep -q 'nchan_websocket_ping_interval 9;' "$d/conf/nginx.conf"
	run --separate-stderr "$RELAY" restart -d "$d" -p "$PORT" --forget
	assert_success
	assert_equal "$stderr" ''
	refute grep -q 'redis\|ssl\|127.0.0.2' "$d/conf/nginx.conf"
	grep -q "listen 127.0.0.1:$PORT;" "$d/conf/nginx.conf"
	grep -q 'secure_link_md5' "$d/conf/nginx.conf"
}

@test "--open-subscribe: plain URLs subscribe, and sign says no signature is needed" {
	start_relay r --open-subscribe
	local d=$BATS_TEST_TMPDIR/r
	assert_equal "$(es_status "http://127.0.0.1:$PORT/sub/world.a")" 200
	run --separate-stderr "$RELAY" sign -d "$d" --sse world.a
	assert_success
	assert_output "http://127.0.0.1:$PORT/sub/world.a"
	assert_equal "$stderr" 'relay: subscribing is open on this relay: the URL needs no signature'
	grep -qxF "relay: subscribing is open: http://127.0.0.1:$PORT/player.html?world=ID" "$BATS_TEST_TMPDIR/start.out"
}

@test "sign maps a world id to its channel as wb-broadcast does" {
	start_relay r
	local d=$BATS_TEST_TMPDIR/r
	run --separate-stderr "$RELAY" sign -d "$d" --ws --world 'Salt Marsh'
	assert_regex "$output" "^ws://127.0.0.1:$PORT/sub/world[.]Salt[.]20Marsh[?]expires="
	run --separate-stderr "$RELAY" sign -d "$d" --ws --world 'Zoë' --prefix w-
	assert_regex "$output" "^ws://127.0.0.1:$PORT/sub/w-Zo[.]C3[.]AB[?]expires="
	run --separate-stderr "$RELAY" sign -d "$d" --world 'Zoë.x y'
	assert_regex "$output" "^http://127.0.0.1:$PORT/player.html[?]world=Zo%C3%AB.x%20y&expires=[0-9]+&md5="
	run --separate-stderr "$RELAY" sign -d "$d" --world a/b --prefix p_
	assert_regex "$output" "[?]world=a%2Fb&prefix=p_&expires="
	run --separate-stderr "$RELAY" sign -d "$d" world.a --base https://relay.example.org/
	assert_regex "$output" "^https://relay.example.org/player.html[?]channel=world.a&expires="
	# a URL for the mapped channel subscribes to it
	assert_equal "$(publish world.Zo.C3.AB '{"n":3}')" 202
	assert_equal "$(es_data "$("$RELAY" sign -d "$d" --sse --world 'Zoë')")" '{"n":3}'
}

@test "sign: usage errors are 64, no relay started is 69" {
	run -64 --separate-stderr "$RELAY" sign -d "$BATS_TEST_TMPDIR/none"
	assert_equal "$stderr" 'relay: sign: which channel? (relay sign CHANNEL or --world ID)'
	run -64 --separate-stderr "$RELAY" sign -d "$BATS_TEST_TMPDIR/none" 'a b'
	assert_equal "$stderr" 'relay: sign: bad channel name: a b ([A-Za-z0-9_.-], at most 128)'
	run -64 --separate-stderr "$RELAY" sign -d "$BATS_TEST_TMPDIR/none" a --ttl 0
	assert_equal "$stderr" 'relay: sign: bad --ttl: 0 (N, Ns, Nm, Nh or Nd)'
	run -64 --separate-stderr "$RELAY" sign -d "$BATS_TEST_TMPDIR/none" a --world b
	assert_equal "$stderr" 'relay: sign: a CHANNEL or --world ID, not both'
	run -64 --separate-stderr "$RELAY" start a
	assert_equal "$stderr" 'relay: unexpected operand: a'
	run -69 --separate-stderr "$RELAY" sign -d "$BATS_TEST_TMPDIR/none" a
	assert_equal "$stderr" "relay: no relay started in $BATS_TEST_TMPDIR/none"
}

@test "publishing from an address outside --publish-from is refused, with the token" {
	start_relay r --listen 127.0.0.2 --publish-from 127.0.0.3/32
	pub() {
		curl -s -o /dev/null -w '%{http_code}' --interface "$1" \
		    -H "Authorization: Bearer $WB_RELAY_TOKEN" -d '{"n":1}' \
		    "http://127.0.0.2:$PORT/pub/world.a"
	}
	assert_equal "$(pub 127.0.0.1)" 403
	assert_equal "$(pub 127.0.0.3)" 202
	# wb-broadcast connects from 127.0.0.1: refused, 77
	run --separate-stderr wb-broadcast --timeout 5 -u "ws://127.0.0.2:$PORT/pub/world.{world_id}" \
	    <<<'{"type":"WorldDataChanged","world_id":"a"}'
	assert_equal "$status" 77
	# the relay listens on 127.0.0.2 only
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/player.html" || true)" 000
	run "$RELAY" sign -d "$BATS_TEST_TMPDIR/r" world.a
	assert_regex "$output" "^http://127.0.0.2:$PORT/player.html[?]"
}

@test "the relay serves the player page" {
	start_relay r
	run curl -s -D "$BATS_TEST_TMPDIR/h" "http://127.0.0.1:$PORT/player.html"
	assert_success
	assert_equal "$output" "$(cat "$TOP/examples/player.html")"
	grep -qi '^content-type: text/html; charset=utf-8' "$BATS_TEST_TMPDIR/h"
	grep -qi '^referrer-policy: no-referrer' "$BATS_TEST_TMPDIR/h"
	# WB_RELAY_PLAYER names another page; none found is 69
	echo mine >"$BATS_TEST_TMPDIR/mine.html"
	"$RELAY" stop -d "$BATS_TEST_TMPDIR/r" >/dev/null
	WB_RELAY_PLAYER=$BATS_TEST_TMPDIR/mine.html "$RELAY" start -d "$BATS_TEST_TMPDIR/r" >/dev/null
	assert_equal "$(curl -s "http://127.0.0.1:$PORT/player.html")" mine
}

@test "installed in bin/ as wb-relay, relay serves the page from ../share/wb/" {
	d=$BATS_TEST_TMPDIR/prefix
	mkdir -p "$d/bin" "$d/share/wb"
	cp "$RELAY" "$d/bin/wb-relay"
	cp "$TEMPLATE" "$d/share/wb/relay.nginx.conf"
	echo installed >"$d/share/wb/player.html"
	PORT=$(free_port)
	echo "$BATS_TEST_TMPDIR/r" >>"$BATS_TEST_TMPDIR/relays"
	"$d/bin/wb-relay" start -p "$PORT" -d "$BATS_TEST_TMPDIR/r" >/dev/null
	assert_equal "$(curl -s "http://127.0.0.1:$PORT/player.html")" installed
	rm "$d/share/wb/player.html"
	"$d/bin/wb-relay" stop -d "$BATS_TEST_TMPDIR/r" >/dev/null
	run -69 --separate-stderr "$d/bin/wb-relay" start -p "$PORT" -d "$BATS_TEST_TMPDIR/r"
	assert_equal "$stderr" "relay: player.html not found in $d/bin/../examples/, beside $d/bin/ or in $d/bin/../share/wb/ (set WB_RELAY_PLAYER)"
}

@test "started by root with a run directory nobody can reach, start warns that the page will be 403" {
	[ "$(id -u)" -eq 0 ] || skip "not root: nginx's workers run as this user"
	mkdir -m 700 "$BATS_TEST_TMPDIR/private"
	PORT=$(free_port)
	echo "$BATS_TEST_TMPDIR/private/r" >>"$BATS_TEST_TMPDIR/relays"
	run --separate-stderr "$RELAY" start -p "$PORT" -d "$BATS_TEST_TMPDIR/private/r"
	assert_success
	assert_equal "$stderr" "relay: warning: nobody (nginx's workers) cannot reach $BATS_TEST_TMPDIR/private/r/www: the page will be 403 (make the directories above $BATS_TEST_TMPDIR/private/r searchable: chmod o+x)"
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/player.html")" 403
}

@test "every option and command of relay --help is described in wb-relay(8)" {
	local page opt
	page=$(mandoc -Tascii -Ios= "$TOP/man/wb-relay.8" | col -b)
	run --separate-stderr "$RELAY" --help
	assert_success
	for opt in $(grep -o -- '--[a-z][-a-z]*' <<<"$output" | sort -u) -p -d; do
		grep -q -- "$opt\([^-a-z]\|$\)" <<<"$page" || fail "relay $opt is not in wb-relay(8)"
	done
	for c in start stop status restart token sign config redis-start redis-stop redis-status; do
		grep -q "^ *$c\b\| $c " <<<"$page" || fail "relay $c is not in wb-relay(8)"
	done
	for v in WB_RELAY_TOKEN WB_RELAY_OPEN_SUBSCRIBE WB_RELAY_TEMPLATE WB_RELAY_PLAYER; do
		grep -q "$v" <<<"$output" || fail "$v is not in relay --help"
		grep -q "$v" <<<"$page" || fail "$v is not in wb-relay(8)"
	done
}

@test "--tls-listen: plain on loopback for the publishers, TLS elsewhere for the players" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.2 \
	    -addext subjectAltName=IP:127.0.0.2 -keyout "$BATS_TEST_TMPDIR/key.pem" \
	    -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	run --separate-stderr "$RELAY" config -p 8123 --tls-port 8124 --tls-listen :: \
	    --cert "$BATS_TEST_TMPDIR/cert.pem" --key "$BATS_TEST_TMPDIR/key.pem"
	assert_line '		listen 127.0.0.1:8123;'
	assert_line '		listen [::]:8124 ssl;'
	run -64 --separate-stderr "$RELAY" config --tls-listen 127.0.0.2
	assert_equal "$stderr" 'relay: --tls-listen needs --tls-port'
	local tls u
	tls=$(free_port)
	start_relay r --tls-port "$tls" --tls-listen 127.0.0.2 \
	    --cert "$BATS_TEST_TMPDIR/cert.pem" --key "$BATS_TEST_TMPDIR/key.pem"
	assert_equal "$(publish world.t '{"n":4}')" 202
	u=$("$RELAY" sign -d "$BATS_TEST_TMPDIR/r" --sse world.t)
	assert_regex "$u" "^https://127.0.0.2:$tls/sub/world.t[?]expires="
	assert_equal "$(curl -s -N -m 1 --cacert "$BATS_TEST_TMPDIR/cert.pem" \
	    -H 'Accept: text/event-stream' "$u" | sed -n 's/^data: //p')" '{"n":4}'
	assert_equal "$(curl -s -N -m 1 --cacert "$BATS_TEST_TMPDIR/cert.pem" \
	    -H 'Accept: text/event-stream' -o /dev/null -w '%{http_code}' "${u%%\?*}" || true)" 403
	# the plain port is on loopback only, the TLS port on 127.0.0.2 only
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.2:$PORT/player.html" || true)" 000
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -k "https://127.0.0.1:$tls/player.html" || true)" 000
	run "$RELAY" sign -d "$BATS_TEST_TMPDIR/r" --ws world.t
	assert_regex "$output" "^wss://127.0.0.2:$tls/sub/world.t[?]expires="
}
