#!/usr/bin/env bash
# The `cachewire` CLI against a real cachewired over tcp:// and ipc://:
# every command, binary values, expiry, exit codes and error messages.
# Usage: test_cli.sh CACHEWIRED CACHEWIRE
. "$(dirname "$0")/lib.sh"
CLI=$2
# the daemon's: a small upload limit, so that going past it is cheap
export CACHEWIRE_CACHE_MAX_UPLOAD_BYTES=48MiB
start_servers "$1"
total=0
t() { total=$((total + 1)); }
# Short expiries, checked before and after; longer under valgrind.
TTL_MS=${CW_TEST_TTL_MS:-300}
AFTER_TTL=$(awk "BEGIN { print $TTL_MS * 2.7 / 1000 }")

for url in "$TCP_URL" "$IPC_URL"; do
	cw() { "$CLI" --url "$url" "$@"; }
	scheme=${url%%:*}

	head -c 300000 /dev/urandom >"$TMP/value"
	printf '\0' >>"$TMP/value"
	set +e
	cw set pip:foo --ttl 60s <"$TMP/value"; rc=$?; t
	check "$scheme: set from stdin exits 0" 0 $rc
	cw get pip:foo >"$TMP/out"; rc=$?; t
	check "$scheme: get exits 0" 0 $rc
	t; if cmp -s "$TMP/value" "$TMP/out"; then check "$scheme: binary value round trip" 1 1
	else check "$scheme: binary value round trip" same different; fi

	cw set from-file --file "$TMP/value"; t
	t; if cw get from-file | cmp -s - "$TMP/value"; then check "$scheme: set --file" 1 1
	else check "$scheme: set --file" same different; fi

	cw get pip:missing >"$TMP/out"; rc=$?; t
	check "$scheme: get miss exits 1" 1 $rc
	check "$scheme: get miss prints nothing" 0 "$(wc -c <"$TMP/out" | tr -d ' ')"; t
	cw del pip:foo; rc=$?; t
	check "$scheme: del of a present key exits 0" 0 $rc
	cw del pip:foo; rc=$?; t
	check "$scheme: del of a missing key exits 1" 1 $rc

	echo -n short | cw set brief --ttl "${TTL_MS}ms"; rc=$?; t
	check "$scheme: set --ttl ${TTL_MS}ms" 0 $rc
	sleep "$AFTER_TTL"
	cw get brief >/dev/null; rc=$?; t
	check "$scheme: expired after its ttl" 1 $rc

	echo -n old | cw set past --expire-at 2001-09-09T01:46:40Z; rc=$?; t
	check "$scheme: set with a past --expire-at succeeds" 0 $rc
	cw get past >/dev/null; rc=$?; t
	check "$scheme: past --expire-at leaves nothing" 1 $rc
	echo -n later | cw set future --expire-at "$(( $(date +%s) + 3600 ))"; rc=$?; t
	check "$scheme: future --expire-at" 0 $rc
	t; check "$scheme: value of future" later "$(cw get future)"

	t; check "$scheme: clear counts (from-file, future)" 2 "$(cw clear)"
	t; check_has "$scheme: ping prints the version" "0.1" "$(cw ping)"

	cw bogus 2>"$TMP/err"; rc=$?; t
	check "$scheme: unknown command exits 2" 2 $rc
	cw set k --ttl soon </dev/null 2>"$TMP/err"; rc=$?; t
	check "$scheme: bad duration exits 2" 2 $rc
	t; check_has "$scheme: bad duration says why" "soon" "$(cat "$TMP/err")"
	cw get 2>/dev/null; rc=$?; t
	check "$scheme: missing key argument exits 2" 2 $rc

	# batches: get-many prints, per key in order, "KEY<TAB>LEN", the value
	# and a newline, or "KEY<TAB>-" for a miss
	cw set-many a 1 b 'two words' c '' a first-a-is-overwritten a 1; rc=$?; t
	check "$scheme: set-many exits 0" 0 $rc
	cw get-many a b missing c a >"$TMP/out" 2>"$TMP/err"; rc=$?; t
	check "$scheme: get-many with a miss exits 1" 1 $rc
	printf 'a\t1\n1\nb\t9\ntwo words\nmissing\t-\nc\t0\n\na\t1\n1\n' >"$TMP/want"
	t; if cmp -s "$TMP/want" "$TMP/out"; then check "$scheme: get-many output" 1 1
	else check "$scheme: get-many output" "$(od -c "$TMP/want")" "$(od -c "$TMP/out")"; fi
	t; check "$scheme: get-many names the missing key" \
		"cachewire: not found: missing" "$(cat "$TMP/err")"
	t; check "$scheme: single get sees set-many's value" "two words" "$(cw get b)"
	cw get-many b a >/dev/null; rc=$?; t
	check "$scheme: get-many, all found, exits 0" 0 $rc

	cw set bin <"$TMP/value"; t
	cw get-many bin a >"$TMP/out"; rc=$?; t
	check "$scheme: get-many of a binary value exits 0" 0 $rc
	{ printf 'bin\t%s\n' "$(wc -c <"$TMP/value" | tr -d ' ')"
	  cat "$TMP/value"; printf '\na\t1\n1\n'; } >"$TMP/want"
	t; if cmp -s "$TMP/want" "$TMP/out"; then check "$scheme: get-many is binary-safe" 1 1
	else check "$scheme: get-many is binary-safe" same different; fi

	cw set-many x 1 y 2 --ttl "${TTL_MS}ms"; rc=$?; t
	check "$scheme: set-many --ttl ${TTL_MS}ms" 0 $rc
	t; check "$scheme: set-many --ttl, before expiry" "$(printf 'x\t1\n1\ny\t1\n2')" \
		"$(cw get-many x y)"
	sleep "$AFTER_TTL"
	t; check "$scheme: set-many --ttl applies to every key" "$(printf 'x\t-\ny\t-')" \
		"$(cw get-many x y 2>/dev/null)"
	cw set-many a new-a b new-b --expire-at 2001-09-09T01:46:40Z; rc=$?; t
	check "$scheme: set-many with a past --expire-at succeeds" 0 $rc
	cw get-many a b >/dev/null 2>&1; rc=$?; t
	check "$scheme: past --expire-at removes every key" 1 $rc

	cw delete-many bin c nope 2>"$TMP/err"; rc=$?; t
	check "$scheme: delete-many with a missing key exits 1" 1 $rc
	t; check "$scheme: delete-many names the missing key" \
		"cachewire: not found: nope" "$(cat "$TMP/err")"
	cw get bin >/dev/null 2>&1; rc=$?; t
	check "$scheme: delete-many removed the others" 1 $rc
	cw set-many d 1 e 2; t
	cw delete-many d e; rc=$?; t
	check "$scheme: delete-many, all present, exits 0" 0 $rc

	pairs=(); for i in $(seq 1 1000); do pairs+=("n$i" "v$i"); done
	cw set-many "${pairs[@]}"; rc=$?; t
	check "$scheme: set-many of 1000 keys" 0 $rc
	# shellcheck disable=SC2046 # one argument per key
	t; check "$scheme: get-many of 1000 keys" 2000 "$(cw get-many $(seq -f 'n%g' 1 1000) | wc -l)"
	# shellcheck disable=SC2046
	cw get-many $(seq -f 'n%g' 1 1001) >"$TMP/out" 2>"$TMP/err"; rc=$?; t
	check "$scheme: more keys than the server's limit exits 3" 3 $rc
	t; check_has "$scheme: ... as INVALID_ARGUMENT" "INVALID_ARGUMENT" "$(cat "$TMP/err")"
	t; check "$scheme: ... and prints nothing" 0 "$(wc -c <"$TMP/out" | tr -d ' ')"
	t; check "$scheme: clear after the batches" 1000 "$(cw clear)"

	cw set-many k1 v1 k2 2>"$TMP/err"; rc=$?; t
	check "$scheme: set-many with an odd count exits 2" 2 $rc
	t; check_has "$scheme: set-many odd count says why" "has no VALUE" "$(cat "$TMP/err")"
	cw get-many 2>/dev/null; rc=$?; t
	check "$scheme: get-many without keys exits 2" 2 $rc
	cw delete-many 2>/dev/null; rc=$?; t
	check "$scheme: delete-many without keys exits 2" 2 $rc
	set -e
done

set +e
# The client learns why it cannot connect from a test connection of its own
# (after 100 ms without a connection), and says so.
port=$(free_port)
"$CLI" --url "tcp://127.0.0.1:$port" --timeout 1s ping 2>"$TMP/err"; rc=$?; t
check "no server: exits 3" 3 $rc
t; check_has "no server: says what failed" \
	"UNAVAILABLE: cannot connect to tcp://127.0.0.1:$port: Connection refused" "$(cat "$TMP/err")"
CACHEWIRE_URL=$TCP_URL "$CLI" ping >/dev/null; rc=$?; t
check "CACHEWIRE_URL is the default URL" 0 $rc
# Values over one message go in chunks by themselves: set of more than
# 4 MiB, get of a value over cache.max_value_bytes (32 MiB by default).
head -c 40000000 /dev/urandom >"$TMP/big"
"$CLI" --url "$TCP_URL" set big --file "$TMP/big" 2>"$TMP/err"; rc=$?; t
check "set --file of 40 MB (in chunks) exits 0" 0 $rc
t; check "no progress bar when stderr is no terminal" "" "$(cat "$TMP/err")"
"$CLI" --url "$TCP_URL" get big >"$TMP/out"; rc=$?; t
check "get of 40 MB (in chunks) exits 0" 0 $rc
t; if cmp -s "$TMP/big" "$TMP/out"; then check "40 MB round trip" 1 1
else check "40 MB round trip" same different; fi
cat "$TMP/big" | "$CLI" --url "$TCP_URL" set piped; rc=$?; t
check "set of 40 MB from a pipe (size unknown) exits 0" 0 $rc
t; if "$CLI" --url "$TCP_URL" get piped | cmp -s - "$TMP/big"; then
	check "40 MB through pipes both ways" 1 1
else check "40 MB through pipes both ways" same different; fi
# on a terminal (script(1) gives the CLI one) a progress bar is drawn
script -qec "'$CLI' --url '$TCP_URL' set big-tty --file '$TMP/big'" \
	/dev/null </dev/null >"$TMP/tty" 2>&1; rc=$?; t
check "set on a terminal exits 0" 0 $rc
t; check_has "set on a terminal draws a progress bar" "100%" "$(tr '\r' '\n' <"$TMP/tty")"
# cache.max_upload_bytes is 48MiB here (set before start_servers)
head -c 60000000 /dev/zero | "$CLI" --url "$TCP_URL" set huge 2>"$TMP/err"; rc=$?; t
check "value over max_upload_bytes exits 3" 3 $rc
t; check_has "value over max_upload_bytes is RESOURCE_EXHAUSTED" "RESOURCE_EXHAUSTED" "$(cat "$TMP/err")"
"$CLI" --url "$TCP_URL" get huge >/dev/null 2>&1; rc=$?; t
check "nothing of it is stored" 1 $rc
t; check "clear removes the large values" 3 "$("$CLI" --url "$TCP_URL" clear)"
rm -f "$TMP/big" "$TMP/out" "$TMP/tty"
"$CLI" --version >/dev/null; rc=$?; t
check "--version exits 0" 0 $rc

# stats and health, from the daemon's admin endpoint ($ADMIN_URL, its
# admin.listen, from lib.sh)
adm() { "$CLI" --timeout 3s "$@" --admin "$ADMIN_URL"; }
get_calls() { adm stats | awk '$1 == "Get" { print $2 }'; }
before=$(get_calls)
for k in a b c; do "$CLI" --url "$TCP_URL" get "stats-$k" 2>/dev/null; done
t; check "stats: the Get calls count moves by 3" "$((${before:-0} + 3))" "$(get_calls)"
adm stats >"$TMP/out" 2>"$TMP/err"; rc=$?; t
check "stats: ready exits 0" 0 $rc
t; check "stats: the first line" "cachewired $("$CLI" --url "$TCP_URL" ping) at $ADMIN_URL: ready" \
	"$(head -n 1 "$TMP/out")"
t; check_has "stats: requests by status" "  by status      OK " "$(cat "$TMP/out")"
t; check_has "stats: Get's quantiles" "p99 <= " "$(grep '^  Get ' "$TMP/out")"
t; check_has "stats: redis" "redis            up, " "$(cat "$TMP/out")"
t; check "stats: nothing on stderr" "" "$(cat "$TMP/err")"
t; check "health: prints the body" ok "$(adm health)"
adm health >/dev/null; rc=$?; t
check "health: exits 0" 0 $rc
t; check "health --ready: prints the body" ready "$(adm health --ready)"
adm health --ready >/dev/null; rc=$?; t
check "health --ready: exits 0" 0 $rc
port=$(free_port)
"$CLI" health --admin "http://127.0.0.1:$port" 2>"$TMP/err"; rc=$?; t
check "health: a closed port exits 3" 3 $rc
t; check "health: a closed port says so" \
	"cachewire: cannot reach http://127.0.0.1:$port/healthz: Connection refused (is admin.listen enabled?)" \
	"$(cat "$TMP/err")"
"$CLI" stats --admin "http://127.0.0.1:$port" >"$TMP/out" 2>/dev/null; rc=$?; t
check "stats: a closed port exits 3" 3 $rc
t; check "stats: a closed port prints nothing" "" "$(cat "$TMP/out")"
"$CLI" stats --admin "$ADMIN_URL/nothing-here" 2>"$TMP/err"; rc=$?; t
check "stats: a 404 exits 3" 3 $rc
t; check_has "stats: a 404 says so" "/nothing-here/metrics answered HTTP 404" "$(cat "$TMP/err")"
"$CLI" health --admin "${ADMIN_URL/http/https}" 2>/dev/null; rc=$?; t
check "health: an https:// URL exits 2" 2 $rc
"$CLI" ping --admin "$ADMIN_URL" 2>/dev/null; rc=$?; t
check "--admin with ping exits 2" 2 $rc
# ... and from a daemon whose Redis does not answer: alive, not ready
NR_ADMIN="http://127.0.0.1:$(free_port)"
CACHEWIRE_LISTEN="tcp://127.0.0.1:$(free_port)" CACHEWIRE_ADMIN_LISTEN="$NR_ADMIN" \
CACHEWIRE_REDIS_URL="unix://$TMP/no-redis.sock" "$1" >"$TMP/nr.log" 2>&1 &
NR_PID=$!
nr() { "$CLI" --timeout 3s "$@" --admin "$NR_ADMIN"; }
# not ready because of Redis (before that it is "starting", for long
# under valgrind)
not_ready() { nr health --ready 2>/dev/null | grep -q "not ready: redis at"; }
wait_for 10 not_ready || cat "$TMP/nr.log"
nr stats >"$TMP/out" 2>"$TMP/err"; rc=$?; t
check "stats: not ready exits 1" 1 $rc
t; check_has "stats: not ready says why" \
	"at $NR_ADMIN: not ready: redis at unix://$TMP/no-redis.sock" "$(head -n 1 "$TMP/out")"
t; check_has "stats: redis down" "redis            DOWN" "$(cat "$TMP/out")"
nr health --ready >"$TMP/out" 2>"$TMP/err"; rc=$?; t
check "health --ready: not ready exits 1" 1 $rc
t; check_has "health --ready: prints the reason" "not ready: redis at" "$(cat "$TMP/out")"
t; check_has "health --ready: names the status" "answered HTTP 503" "$(cat "$TMP/err")"
nr health >/dev/null 2>&1; rc=$?; t
check "health: alive without Redis exits 0" 0 $rc
kill "$NR_PID"; wait "$NR_PID"

# TLS, a token from a file and a namespace, against a second cachewired
# that requires all three (certificates from make_certs.sh). That daemon
# is $CW_TEST_TLS_DAEMON when set: tests/valgrind.sh runs it natively (see
# there), the first one under memcheck.
TLS_DAEMON=${CW_TEST_TLS_DAEMON:-$1}
"$(dirname "$0")/../helpers/make_certs.sh" "$TMP/certs"
printf '%s\n' '- token: cli-test-token-0123456789' '  namespaces: [cli-a, cli-b]' >"$TMP/tokens.yaml"
printf 'cli-test-token-0123456789\n' >"$TMP/token"
printf 'not-the-token-0123456789\n' >"$TMP/wrong-token"
TLS_URL="tls+tcp://127.0.0.1:$(free_port)"
CACHEWIRE_LISTEN="$TLS_URL" CACHEWIRE_REDIS_URL="unix://$TMP/redis.sock" CACHEWIRE_ADMIN_LISTEN='' \
CACHEWIRE_TLS_CERT_FILE="$TMP/certs/server.crt" CACHEWIRE_TLS_KEY_FILE="$TMP/certs/server.key" \
CACHEWIRE_TLS_CLIENT_CA_FILE="$TMP/certs/ca.crt" CACHEWIRE_AUTH_TOKENS_FILE="$TMP/tokens.yaml" \
	"$TLS_DAEMON" >"$TMP/tls.log" 2>&1 &
TLS_PID=$!
wait_for 10 grep -q ' INFO ready' "$TMP/tls.log" || cat "$TMP/tls.log"
tls() { "$CLI" --url "$TLS_URL" --cacert "$TMP/certs/ca.crt" --cert "$TMP/certs/client.crt" \
	--key "$TMP/certs/client.key" --timeout 3s "$@"; }
echo -n in-a | tls --token-file "$TMP/token" --namespace cli-a set k; rc=$?; t
check "tls: set with token and namespace" 0 $rc
echo -n in-b | CACHEWIRE_TOKEN_FILE="$TMP/token" tls --namespace cli-b set k; rc=$?; t
check "tls: CACHEWIRE_TOKEN_FILE" 0 $rc
t; check "tls: the token's first namespace by default" in-a "$(tls --token-file "$TMP/token" get k)"
t; check "tls: namespaces keep their own keys" in-b "$(tls --token-file "$TMP/token" --namespace cli-b get k)"
tls get k 2>"$TMP/err"; rc=$?; t
check "tls: no token exits 3" 3 $rc
t; check_has "tls: no token is UNAUTHENTICATED" UNAUTHENTICATED "$(cat "$TMP/err")"
tls --token-file "$TMP/wrong-token" get k 2>"$TMP/err"; rc=$?; t
t; check_has "tls: a wrong token is UNAUTHENTICATED" UNAUTHENTICATED "$(cat "$TMP/err")"
t; check "tls: ... and never shown" "" "$(grep -o not-the-token "$TMP/err")"
tls --token-file "$TMP/token" --namespace other get k 2>"$TMP/err"; rc=$?; t
t; check_has "tls: another namespace is PERMISSION_DENIED" PERMISSION_DENIED "$(cat "$TMP/err")"
"$CLI" --url "$TLS_URL" --cacert "$TMP/certs/rogue-ca.crt" --cert "$TMP/certs/client.crt" \
	--key "$TMP/certs/client.key" --token-file "$TMP/token" --timeout 2s ping 2>"$TMP/err"; rc=$?; t
check "tls: untrusted server exits 3" 3 $rc
t; check_has "tls: untrusted server says so" "not signed by a CA in --cacert" "$(cat "$TMP/err")"
"$CLI" --url "$TLS_URL" --token-file "$TMP/token" ping 2>"$TMP/err"; rc=$?; t
check "tls: no --cacert exits 2" 2 $rc
"$CLI" --url "$TLS_URL" --cacert "$TMP/certs/ca.crt" --token-file "$TMP/token" --timeout 2s \
	ping 2>"$TMP/err"; rc=$?; t
check "tls: no client certificate exits 3" 3 $rc
t; check_has "tls: no client certificate says so" "client certificate" "$(cat "$TMP/err")"
"$CLI" --url "$TCP_URL" --token-file "$TMP/missing" ping 2>"$TMP/err"; rc=$?; t
check "a missing --token-file exits 2" 2 $rc
t; check "the TLS daemon's log holds no token" "" "$(grep -o cli-test-token "$TMP/tls.log")"
kill "$TLS_PID"; wait "$TLS_PID"; rc=$?; t
check "the TLS daemon exits 0 on SIGTERM" 0 $rc
set -e

finish "$total"
