#!/usr/bin/env bats
# scripts/relay's nginx configuration: the template filled in as start fills
# it, checked by nginx -t with the nchan module loaded; and where relay
# finds the template, in the source tree and installed.

load helper

RELAY=$TOP/scripts/relay
TEMPLATE=$TOP/scripts/relay.nginx.conf

setup() {
	export WB_RELAY_TOKEN=tok.en+1/x=
	unset WB_RELAY_TEMPLATE
	mkdir -p "$BATS_TEST_TMPDIR/p/logs" "$BATS_TEST_TMPDIR/p/tmp"
}

# nginx -t on the configuration file $1, in a prefix of its own.
nginx_t() {
	"${NGINX_BIN:-/usr/sbin/nginx}" -t -p "$BATS_TEST_TMPDIR/p/" -c "$1" -e logs/error.log
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
	assert_equal "$(grep -c 'nchan_redis_pass relay_redis;' <<<"$output")" 2
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
