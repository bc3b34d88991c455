#!/usr/bin/env bash
# Across hosts: Redis, cachewired and the CLI each in a network namespace of
# their own, joined by veth pairs on private addresses made here:
#   [redis] REDIS_IP <-> SRV_R_IP [srv] SRV_IP <-> CLI_IP [cli]
# The client reaches only the daemon, never Redis. Calls over tcp:// and
# tls+tcp://, the admin endpoint (/healthz /readyz /metrics); then the link
# to Redis is cut and restored, and /readyz, the calls, /metrics and the
# daemon's log must follow it, with no data lost.
# Usage: test_netns.sh CACHEWIRED CACHEWIRE [MAKE_CERTS]
# First it finds out whether namespaces can be made and entered here at all
# (a throwaway one is added, entered and deleted). Where they cannot, for a
# reason that is the environment's (not root, not permitted, no ip, "/" not
# a mount point as in a chroot), it says why in one line and exits 77
# (ctest: skipped). Once that probe has passed, every failure is a failure.
# Whatever it made (namespaces, the /run/netns mount and directory that
# ip netns makes on first use) is undone on every exit.
set -euo pipefail
DAEMON=$1 CLI=$2
MAKE_CERTS=${3:-$(dirname "$0")/../helpers/make_certs.sh}
skip() { echo "SKIP test_netns: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces"
command -v ip >/dev/null || skip "no ip command (iproute2)"

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" # TMP, REDIS_SERVER, check, check_has, finish, cleanup
NS=cwt$$ # namespaces cwt$$-probe, -redis, -srv, -cli; names unique per run
NS_MADE=()
in_cli() { ip netns exec "$NS-cli" "$@"; }
# ip netns makes /run/netns and mounts it on itself the first time: note
# how it was, so that the undo leaves it so.
RUN_NETNS=/run/netns
run_netns_state() {
	if mountpoint -q "$RUN_NETNS" 2>/dev/null; then echo mounted
	elif [ -d "$RUN_NETNS" ]; then echo directory
	else echo absent; fi
}
RUN_NETNS_WAS=$(run_netns_state)
# netns_undo: delete the namespaces made here, then put /run/netns back as
# it was (only when no namespace of anyone else's is left in it)
netns_undo() {
	local n
	for n in "${NS_MADE[@]}"; do ip netns del "$n" 2>/dev/null || :; done
	NS_MADE=()
	[ "$RUN_NETNS_WAS" != mounted ] || return 0
	[ -z "$(ls -A "$RUN_NETNS" 2>/dev/null)" ] || return 0
	while mountpoint -q "$RUN_NETNS" 2>/dev/null; do umount "$RUN_NETNS" || return 1; done
	[ "$RUN_NETNS_WAS" = directory ] || rmdir "$RUN_NETNS" 2>/dev/null || :
}
on_exit() {
	local status=$?
	set +e
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
		for f in "$TMP/cachewired.log" "$TMP/redis.log"; do
			[ -f "$f" ] && { echo "---- $f"; cat "$f"; }
		done
	fi
	# lib.sh: stop DAEMON_PID and REDIS_PID (they would outlive their
	# namespace), remove TMP
	cleanup || :
	netns_undo
	local now
	now=$(run_netns_state)
	if [ "$now" != "$RUN_NETNS_WAS" ]; then
		echo "FAIL $RUN_NETNS was $RUN_NETNS_WAS before the test and is $now after it"
		[ "$status" -ne 0 ] && [ "$status" -ne 77 ] || status=1
	fi
	exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
die() { echo "FAIL $*"; exit 1; }

# ---- can this machine make and enter a namespace at all? -----------------------
# why: the first line of what a failed step printed
why() { head -n 1 "$TMP/err" | tr -d '\r'; }
ip netns add "$NS-probe" 2>"$TMP/err" ||
	skip "cannot make a network namespace here (ip netns add: $(why))"
NS_MADE+=("$NS-probe")
if ! ip netns exec "$NS-probe" true 2>"$TMP/err"; then
	hint=
	mountpoint -q / || hint="; / is not a mount point (a chroot?)"
	skip "cannot enter a network namespace here (ip netns exec: $(why)$hint)"
fi
ip netns del "$NS-probe" 2>"$TMP/err" ||
	skip "cannot delete a network namespace here (ip netns del: $(why))"
NS_MADE=()

for c in curl openssl timeout "$REDIS_SERVER"; do
	command -v "$c" >/dev/null || die "no $c (deploy/local/install-deps.sh --test installs it)"
done

# ---- three hosts -------------------------------------------------------------
for h in redis srv cli; do ip netns add "$NS-$h"; NS_MADE+=("$NS-$h"); done
# Two /30s in a 10.x.y.0/24 taken from our pid (the links exist only inside
# the namespaces; distinct ranges just keep concurrent runs tellable apart).
NET=10.$((100 + $$ % 100)).$(($$ / 100 % 256))
REDIS_IP=$NET.1 SRV_R_IP=$NET.2 SRV_IP=$NET.5 CLI_IP=$NET.6
ip -n "$NS-redis" link add to-srv type veth peer name to-redis netns "$NS-srv"
ip -n "$NS-srv" link add to-cli type veth peer name to-srv netns "$NS-cli"
ip -n "$NS-redis" addr add "$REDIS_IP/30" dev to-srv
ip -n "$NS-srv" addr add "$SRV_R_IP/30" dev to-redis
ip -n "$NS-srv" addr add "$SRV_IP/30" dev to-cli
ip -n "$NS-cli" addr add "$CLI_IP/30" dev to-srv
for n in redis srv cli; do ip -n "$NS-$n" link set lo up; done
ip -n "$NS-redis" link set to-srv up
ip -n "$NS-srv" link set to-redis up
ip -n "$NS-srv" link set to-cli up
ip -n "$NS-cli" link set to-srv up
total=0
t() { total=$((total + 1)); }
# expect NAME COMMAND...: one check, passed when COMMAND succeeds
expect() { local n=$1; shift; t; if "$@"; then check "$n" 1 1; else check "$n" success failure; fi; }
not() { ! "$@"; }
# reaches NS HOST PORT: a TCP connection from namespace NS gets through
reaches() { ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
# within SECONDS COMMAND...: retry COMMAND until it succeeds, for at most
# SECONDS of wall time (lib.sh's wait_for counts tries, and a try here may
# itself take seconds)
within() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ---- Redis, in its namespace on its veth address ------------------------------
# (ip netns exec execs: $! is the server itself, as kill and wait need)
ip netns exec "$NS-redis" "$REDIS_SERVER" --bind "$REDIS_IP" --port 6379 --protected-mode no \
	--save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
within 10 reaches "$NS-srv" "$REDIS_IP" 6379 ||
	die "redis-server does not answer at $REDIS_IP:6379 from the srv namespace"
echo "ok   redis answers at $REDIS_IP:6379 from the srv namespace"; t
# The client's host has no route to Redis: only through cachewired.
expect "cli namespace cannot reach Redis at $REDIS_IP" not reaches "$NS-cli" "$REDIS_IP" 6379

# ---- TLS material: the test CA, and a certificate for SRV_IP ------------------
"$MAKE_CERTS" "$TMP/certs" >/dev/null
# mbedTLS 2.28 matches DNS names only, never IP addresses: SRV_IP goes in
# as a DNS name too, so the CLI can check the certificate against the URL.
(cd "$TMP/certs" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out srv.key 2>/dev/null &&
	printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$SRV_IP" "$SRV_IP" >srv.ext &&
	openssl req -new -key srv.key -subj "/CN=$SRV_IP" |
	openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.crt 2>/dev/null) || die "cannot make the server certificate"

# ---- cachewired, in the middle ----------------------------------------------------
ADMIN=http://$SRV_IP:7421
TCP_URL=tcp://$SRV_IP:7420 TLS_URL=tls+tcp://$SRV_IP:7430
ip netns exec "$NS-srv" env CACHEWIRE_REDIS_URL="redis://$REDIS_IP:6379/0" \
	CACHEWIRE_LISTEN="$TCP_URL,$TLS_URL" \
	CACHEWIRE_TLS_CERT_FILE="$TMP/certs/srv.crt" CACHEWIRE_TLS_KEY_FILE="$TMP/certs/srv.key" \
	CACHEWIRE_ADMIN_LISTEN="$ADMIN" \
	CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=1000 CACHEWIRE_REDIS_CONNECT_TIMEOUT_MS=1000 \
	CACHEWIRE_CACHE_NAMESPACE=netns "$DAEMON" >"$TMP/cachewired.log" 2>&1 &
DAEMON_PID=$!
within 10 grep -q ' INFO ready' "$TMP/cachewired.log" || die "cachewired not ready in 10 s"
echo "ok   cachewired ready in the srv namespace"; t

cw() { in_cli "$CLI" --timeout 3s "$@"; }
tls() { cw --url "$TLS_URL" --cacert "$TMP/certs/ca.crt" "$@"; }
tcp() { cw --url "$TCP_URL" "$@"; }
# http PATH: GET it from the cli namespace; prints the status code ("000":
# no answer); body() prints what came with it
http() {
	rm -f "$TMP/body"
	in_cli curl -s -o "$TMP/body" -w '%{http_code}' --max-time 3 "$ADMIN$1" || :
}
body() { cat "$TMP/body" 2>/dev/null || :; }
answers() { [ "$(http "$1")" = "$2" ]; } # answers PATH CODE

# ---- calls from the client's host --------------------------------------------------
head -c 200000 /dev/urandom >"$TMP/value"
printf '\0end' >>"$TMP/value"
for via in tcp tls; do
	rc=0; "$via" set "k-$via" <"$TMP/value" || rc=$?; t
	check "$via: set exits 0" 0 "$rc"
	rc=0; "$via" get "k-$via" >"$TMP/out" || rc=$?; t
	check "$via: get exits 0" 0 "$rc"
	expect "$via: value round-trips byte-exact" cmp -s "$TMP/value" "$TMP/out"
	rc=0; "$via" del "k-$via" || rc=$?; t
	check "$via: del exits 0" 0 "$rc"
	rc=0; "$via" get "k-$via" >/dev/null 2>&1 || rc=$?; t
	check "$via: get after del exits 1" 1 "$rc"
	t; check_has "$via: ping prints the version" 0.1 "$("$via" ping 2>&1)"
done
t; check "/healthz answers 200" 200 "$(http /healthz)"
t; check "/readyz answers 200" 200 "$(http /readyz)"
t; check "/readyz says ready" ready "$(body)"

# ---- cut the link to Redis ------------------------------------------------------------
tcp set survivor <"$TMP/value" || die "cannot set the key meant to survive the cut"
log_at=$(wc -l <"$TMP/cachewired.log")
ip -n "$NS-redis" link set to-srv down
expect "/readyz answers 503 within 20 s of the cut" within 20 answers /readyz 503
t; check_has "/readyz says why" "not ready" "$(body)"
# The first calls may land on a pooled connection the daemon has not yet
# found stalled (no reply within redis.command_timeout_ms): those end
# DEADLINE_EXCEEDED and close it. Once every connection is down, calls end
# UNAVAILABLE (cannot connect). A few tries, the last one counts.
for try in 1 2 3 4 5 6; do
	rc=0; tcp get survivor >/dev/null 2>"$TMP/err" || rc=$?
	grep -q DEADLINE_EXCEEDED "$TMP/err" || break
	echo "     (try $try: $(cat "$TMP/err"))"
done
t; check "a call while Redis is cut off exits 3" 3 "$rc"
t; check_has "... with UNAVAILABLE" UNAVAILABLE "$(cat "$TMP/err")"
http /metrics >/dev/null
t; check "/metrics: cachewire_redis_up 0" "cachewire_redis_up 0" \
	"$(body | grep '^cachewire_redis_up ')"

# ---- restore it ---------------------------------------------------------------------------
ip -n "$NS-redis" link set to-srv up # restore
expect "/readyz answers 200 within 20 s of the restore" within 20 answers /readyz 200
rc=0; tcp get survivor >"$TMP/out" || rc=$?; t
check "tcp: get after the restore exits 0" 0 "$rc"
expect "tcp: the key set before the cut is intact" cmp -s "$TMP/value" "$TMP/out"
rc=0; echo -n after | tls set after || rc=$?; t
check "tls: set after the restore exits 0" 0 "$rc"
t; check "tls: get after the restore" after "$(tls get after)"
http /metrics >/dev/null
t; check "/metrics: cachewire_redis_up 1" "cachewire_redis_up 1" \
	"$(body | grep '^cachewire_redis_up ')"
reconnects=$(body | awk '/^cachewire_redis_reconnects_total / { print $2 }')
t; check "/metrics: the stalled connection was replaced (reconnects >= 1)" yes \
	"$([ "${reconnects:-0}" -ge 1 ] && echo yes || echo "no: ${reconnects:-none}")"
# The daemon's log tells the story (only lines since the cut count: the
# start-up line says "answers" too).
since_cut=$(tail -n +"$((log_at + 1))" "$TMP/cachewired.log")
t; check_has "log: Redis does not answer" "does not answer" "$since_cut"
expect "log: Redis answers again" grep -qiE 'redis.* answers' <<<"$since_cut"

finish "$total" # SIGTERM: the daemon must exit 0
