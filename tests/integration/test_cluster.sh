#!/usr/bin/env bash
# cachewired in redis.mode cluster against a real Redis Cluster: 3
# masters + 3 replicas (cluster_lib.sh) on throwaway ports.
# - the topology --check-redis reports; keys spread over every master,
#   none redirected (our slot of each key is Redis' own);
# - the shared conformance cases through the C core, the C client and the
#   Python client (test_conformance and tests/python with
#   CW_TEST_CLUSTER_NODES);
# - under load (cw_load: 64 calls in flight, Get/Set/GetMany, every value
#   checked against its key): a slot range migrated between masters
#   (redis-cli --cluster reshard: SETSLOT IMPORTING/MIGRATING, MIGRATE,
#   SETSLOT NODE), a CLUSTER FAILOVER, a SIGKILLed master. No call may
#   return a wrong value; failed calls are counted per event and must
#   fall inside an event's window; writes acknowledged before the manual
#   failover read back after it;
# - bad input: seeds that do not answer, a node not in cluster mode, a
#   cluster with slots no master serves: UNAVAILABLE with the reason.
# Usage: test_cluster.sh CACHEWIRED CLI CW_LOAD TEST_CONFORMANCE
#        PYTHON_RUN SOURCE_DIR BUILD_DIR
# CW_CLUSTER_QUICK=1 (tests/valgrind.sh): the topology, spread and C
# conformance parts and the bad input only, test_conformance under
# $CW_TEST_WRAPPER; the load and its events and the Python client are
# left to the full runs (plain and sanitize builds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
set +e # failures are counted, not fatal
DAEMON_BIN=$1 CLI=$2 LOAD_BIN=$3 CONFORMANCE=$4 PYRUN=$5 SRC=$6 BUILD=$7
total=0
t() { total=$((total + 1)); }
stop_all() {
	touch "$TMP/stop" 2>/dev/null
	[ -n "${LOAD_PID:-}" ] && wait "$LOAD_PID" 2>/dev/null
	cluster_stop
	cleanup
}
trap stop_all EXIT INT TERM

t0=$(date +%s%N)
cluster_start || exit 1
echo "note: cluster of 6 nodes up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# each master has its replica in sync (the failovers need them)
synced() {
	[ "$("${RCLI[@]}" -p "${CLUSTER_PORTS[0]}" cluster nodes | grep -c slave)" = 3 ] || return 1
	local p
	for p in $(cluster_masters); do
		"${RCLI[@]}" -p "$p" info replication | grep -q 'slave0:.*state=online' || return 1
	done
}
wait_for 30 synced || { echo "replicas did not sync"; "${RCLI[@]}" -p "${CLUSTER_PORTS[0]}" cluster nodes; exit 1; }

URL="tcp://127.0.0.1:$(free_port)"
ADMIN="http://127.0.0.1:$(free_port)"
denv() { # the daemon's environment for cluster mode on NODES
	echo CACHEWIRE_REDIS_MODE=cluster CACHEWIRE_REDIS_NODES="$1" \
		CACHEWIRE_REDIS_URL=redis://tester:s3cret@unused/0 \
		CACHEWIRE_REDIS_CONNECT_TIMEOUT_MS=300 CACHEWIRE_CACHE_NAMESPACE=ct
}
start_daemon() { # start_daemon NODES
	env $(denv "$1") CACHEWIRE_LISTEN="$URL" CACHEWIRE_ADMIN_LISTEN="$ADMIN" \
		"$DAEMON_BIN" >"$TMP/cachewired.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 20 grep -q ' INFO ready' "$TMP/cachewired.log" ||
		{ cat "$TMP/cachewired.log"; exit 1; }
}
cw() { "$CLI" --url "$URL" --timeout 2s "$@"; }
metric() { curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# ---- topology, routing, spread -------------------------------------------
out=$(env $(denv "$CLUSTER_NODES") "$DAEMON_BIN" --check-redis 2>&1)
# (replicas: CLUSTER SLOTS lists them once they have data; counted below)
t; check_has "--check-redis: the masters" "Redis Cluster: 3 masters, " "$out"
t; check_has "--check-redis: the slots" "16384 of 16384 slots served (127.0.0.1:" "$out"
t; check_has "--check-redis: it answers" "answers" "$out"
start_daemon "${CLUSTER_NODES%%,*}" # one seed is enough
args=()
for i in $(seq 1 300); do args+=("s$i" "v$i"); done
cw set-many "${args[@]}"; t; check "set-many of 300 keys" 0 $?
sum=0 empty=0
for p in $(cluster_masters); do
	n=$("${RCLI[@]}" -p "$p" dbsize)
	echo "note: master $p holds $n keys"
	sum=$((sum + n)); [ "$n" -gt 0 ] || empty=$((empty + 1))
done
t; check "every master holds some of the keys" 0 "$empty"
t; check "the masters hold all 300 keys" 300 "$sum"
t; check "get-many reads them back" "$(printf 'v7\nv150\nv300')" \
	"$(cw get-many s7 s150 s300 | grep -v '^s')"
t; check "no call was redirected: our slots are Redis' slots" 0 \
	"$(metric cachewire_redis_cluster_moved_total)"
t; check "/readyz: ready" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/readyz")"
t; check "metrics: slots served" 16384 "$(metric cachewire_redis_cluster_slots_served)"
t; check "metrics: a line per master" 3 \
	"$(curl -s "$ADMIN/metrics" | grep -c '^cachewire_redis_node_connections{')"
out=$(cw clear); t; check "clear on every master" "300" "$out"
sum=0
for p in $(cluster_masters); do sum=$((sum + $("${RCLI[@]}" -p "$p" dbsize))); done
t; check "clear left nothing" 0 "$sum"
# a hash tag keeps keys in one slot: one master holds all of them
for i in 1 2 3 4 5; do echo -n x | cw set "{cart42}:item$i"; done
slot=$("${RCLI[@]}" -p "${CLUSTER_PORTS[0]}" cluster keyslot "{cart42}")
holders=0
for p in $(cluster_masters); do
	[ "$("${RCLI[@]}" -p "$p" cluster countkeysinslot "$slot")" = 5 ] && holders=$((holders + 1))
done
t; check "{hash tag}: the 5 keys share one slot on one master" 1 "$holders"

# Large values in chunks: the upload's temporary key must share the key's
# slot (RENAME and the MULTI of the commit cannot cross slots), whatever
# braces the key holds; a range read is a MULTI on the key's master.
cw clear >/dev/null
head -c 6000000 /dev/urandom >"$TMP/big"
for key in plain-big "{tagged}:big" "odd}key{" "{}:empty-tag"; do
	cw set "$key" --file "$TMP/big"; rc=$?
	t; check "6 MB in chunks under '$key'" 0 $rc
	t; if cw get "$key" | cmp -s - "$TMP/big"; then check "... reads back" 1 1
	else check "... reads back" same different; fi
done
left=0
for p in $(cluster_masters); do
	left=$((left + $("${RCLI[@]}" -p "$p" --scan --pattern '*:upload:*' | wc -l)))
done
t; check "no upload left behind on any master" 0 "$left"
t; check "clear takes them" 4 "$(cw clear)"
rm -f "$TMP/big"
cw clear >/dev/null

# ---- conformance: C core, C client, Python client ------------------------
CW_TEST_CLUSTER_NODES="$CLUSTER_NODES" ${CW_TEST_WRAPPER:-} "$CONFORMANCE" >"$TMP/conf.log" 2>&1
rc=$?; t; check "C conformance (core and client) on the cluster" 0 "$rc"
[ "$rc" = 0 ] || tail -40 "$TMP/conf.log"
grep -E '^\[  (PASSED|FAILED) ' "$TMP/conf.log" | sed 's/^/note: C: /'
if [ -z "${CW_CLUSTER_QUICK:-}" ]; then
CW_TEST_CLUSTER_NODES="$CLUSTER_NODES" CW_PYTHON_TESTS=test_conformance \
	"$PYRUN" "$DAEMON_BIN" "$CLI" "$SRC" "$BUILD" >"$TMP/py.log" 2>&1
rc=$?; t; check "Python conformance on the cluster" 0 "$rc"
[ "$rc" = 0 ] || tail -40 "$TMP/py.log"
t; check "the Python cluster cases ran" 1 \
	"$(grep -c '^test_tcp (test_conformance.SharedCasesOnCluster' "$TMP/py.log")"

t; check "metrics: the replicas, once they hold data" 3 \
	"$(metric cachewire_redis_cluster_replicas)"

# ---- events under load ---------------------------------------------------
now_ms() { date +%s%3N; }
WINDOWS=()
# window START: an event's window, from START until now + slack; then a
# pause, so the next event's window does not overlap it
window() { WINDOWS+=("$1 $(( $(now_ms) + 1500 ))"); sleep 2; }
mkdir -p "$TMP/load"
rm -f "$TMP/stop"
"$LOAD_BIN" "$URL" "$TMP/stop" "$TMP/load" 64 200 &
LOAD_PID=$!
sleep 1
probe_n=0
serves() { # a Set of a key on each master, and its Get, succeed
	probe_n=$((probe_n + 1))
	local k
	for k in a b c d e f g h; do
		echo -n "p$probe_n" | cw set "probe:$k" 2>/dev/null || return 1
		[ "$(cw get "probe:$k" 2>/dev/null)" = "p$probe_n" ] || return 1
	done
}
id_of() { "${RCLI[@]}" -p "$1" cluster myid; }
masters=($(cluster_masters))

# 1. migrate 500 slots from the first master to the second
a=${masters[0]} b=${masters[1]}
s=$(now_ms)
"${RCLI[@]}" --cluster reshard "127.0.0.1:$a" --cluster-from "$(id_of "$a")" \
	--cluster-to "$(id_of "$b")" --cluster-slots 500 --cluster-yes \
	>"$TMP/reshard.log" 2>&1
rc=$?; t; check "reshard of 500 slots from $a to $b" 0 "$rc"
[ "$rc" = 0 ] || tail -20 "$TMP/reshard.log"
wait_for 20 serves; t; check "serves after the migration" 0 $?
window "$s"
moved=$(metric cachewire_redis_cluster_moved_total)
echo "note: migration: $(( $(now_ms) - s )) ms; MOVED followed $moved, ASK $(metric cachewire_redis_cluster_ask_total)"
t; check "MOVED replies were followed" yes "$([ "${moved:-0}" -gt 0 ] && echo yes)"

# 2. writes acknowledged, replicated, then CLUSTER FAILOVER on a replica
for i in $(seq 1 50); do echo -n "w$i" | cw set "ack$i" || echo "ack$i not set"; done
c=${masters[2]}
replica_of() { # the port of the replica of master port $1
	local id; id=$(id_of "$1")
	"${RCLI[@]}" -p "$1" cluster nodes | awk -v id="$id" '$4 == id { split($2, a, "[:@]"); print a[2] }'
}
rc_port=$(replica_of "$c")
# the replica has what the master had once the writes were acknowledged
mo=$("${RCLI[@]}" -p "$c" info replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')
in_sync() {
	local ro
	ro=$("${RCLI[@]}" -p "$rc_port" info replication | tr -d '\r' | sed -n 's/^slave_repl_offset://p')
	[ -n "$ro" ] && [ "$ro" -ge "$mo" ]
}
wait_for 20 in_sync || echo "note: replica $rc_port not in sync before the failover"
s=$(now_ms)
"${RCLI[@]}" -p "$rc_port" cluster failover >/dev/null
promoted() { "${RCLI[@]}" -p "$1" role | head -1 | grep -qx master; }
wait_for 30 promoted "$rc_port"; t; check "CLUSTER FAILOVER: $rc_port promoted" 0 $?
wait_for 30 serves; t; check "serves after CLUSTER FAILOVER" 0 $?
echo "note: CLUSTER FAILOVER: served again after $(( $(now_ms) - s )) ms"
window "$s"
lost=0
for i in $(seq 1 50); do [ "$(cw get "ack$i")" = "w$i" ] || lost=$((lost + 1)); done
t; check "acknowledged writes read back after the manual failover" 0 "$lost"

# 3. SIGKILL a master: its replica is promoted by the cluster
victim=${masters[1]}
vr=$(replica_of "$victim")
s=$(now_ms)
eval "kill -9 \$CLUSTER_PID_$victim"
# a batch over every master, one of them gone: which keys failed, and why
out=$(cw get-many $(seq -f 'load%g' 0 29) 2>&1); rc=$?
t; check "a batch with a master gone: UNAVAILABLE (exit 3)" 3 "$rc"
t; check_has "a batch with a master gone: the failed keys by index" \
	" of 30 keys failed (" "$out"
# why: its connection lost or refused, either way naming that master
t; check_has "a batch with a master gone: why" "127.0.0.1:$victim/0: Connection" "$out"
wait_for 30 promoted "$vr"; t; check "SIGKILL of master $victim: $vr promoted" 0 $?
wait_for 30 serves; t; check "serves after the master was killed" 0 $?
echo "note: SIGKILL of a master: served again after $(( $(now_ms) - s )) ms"
window "$s"
sleep 1
touch "$TMP/stop"
wait "$LOAD_PID"; LOAD_PID=
read -r _ calls _ failed _ wrong <"$TMP/load/summary"
echo "note: load: $calls calls, $failed failed, $wrong wrong"
t; check "no call returned another key's value" 0 "$wrong"
t; check "the load made calls" yes "$([ "$calls" -gt 1000 ] && echo yes)"
outside=0
while read -r ms rest; do
	in=0
	for w in "${WINDOWS[@]}"; do
		set -- $w
		[ "$ms" -ge "$1" ] && [ "$ms" -le "$2" ] && in=1
	done
	[ "$in" = 1 ] || { outside=$((outside + 1)); echo "note: outside the windows: $ms $rest"; }
done < <(grep -v WRONG "$TMP/load/errors")
t; check "failed calls happened only during the events" 0 "$outside"
i=0
for w in "${WINDOWS[@]}"; do
	set -- $w
	i=$((i + 1))
	n=$(awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b' "$TMP/load/errors" | wc -l)
	echo "note: event $i: $n failed calls: $(awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { $1 = ""; print }' "$TMP/load/errors" | sort | uniq -c | sort -rn | head -2 | tr -s ' ' | tr '\n' ';')"
done
stop_daemon

else
	echo "note: CW_CLUSTER_QUICK: no Python client, no load and events here"
	stop_daemon
fi

# ---- bad input -----------------------------------------------------------
dead="127.0.0.1:$(free_port)"
start_daemon "$dead"
cw get k1 2>"$TMP/err"; rc=$?
t; check "no seed answers: UNAVAILABLE (exit 3)" 3 "$rc"
t; check_has "no seed answers: the call says why" \
	"no node of the Redis Cluster gave its slot map (1 asked): cannot connect to $dead" "$(cat "$TMP/err")"
t; check_has "no seed answers: the log says so" "cluster: no node of the Redis Cluster" \
	"$(cat "$TMP/cachewired.log")"
stop_daemon

PLAIN=$(free_port)
"$REDIS_SERVER" --port "$PLAIN" --bind 127.0.0.1 --save '' \
	--user default off --user tester on '>s3cret' '~*' '&*' '+@all' \
	>"$TMP/plain.log" 2>&1 &
PLAIN_PID=$!
wait_for 10 sh -c "${RCLI[*]} -p $PLAIN ping | grep -q PONG"
start_daemon "127.0.0.1:$PLAIN"
cw get k1 2>"$TMP/err"; rc=$?
t; check "a node not in cluster mode: UNAVAILABLE (exit 3)" 3 "$rc"
t; check_has "a node not in cluster mode: the call says why" \
	"127.0.0.1:$PLAIN: CLUSTER SLOTS: ERR This instance has cluster support disabled" "$(cat "$TMP/err")"
stop_daemon
kill "$PLAIN_PID"; wait "$PLAIN_PID" 2>/dev/null

# a one-node cluster serving half the slots
HALF=$(free_cluster_port)
mkdir -p "$TMP/half"
"$REDIS_SERVER" --port "$HALF" --bind 127.0.0.1 --save '' --dir "$TMP/half" \
	--cluster-enabled yes --cluster-config-file "$TMP/half/nodes.conf" \
	>"$TMP/half.log" 2>&1 &
HALF_PID=$!
wait_for 10 sh -c "redis-cli -p $HALF ping | grep -q PONG" || cat "$TMP/half.log"
redis-cli -p "$HALF" cluster addslotsrange 0 8191 >/dev/null
wait_for 10 sh -c "redis-cli -p $HALF cluster slots | grep -qx 8191"
out=$(CACHEWIRE_REDIS_MODE=cluster CACHEWIRE_REDIS_NODES="127.0.0.1:$HALF" "$DAEMON_BIN" --check-redis 2>&1); rc=$?
t; check "uncovered slots: --check-redis exits 1" 1 "$rc"
t; check_has "uncovered slots: --check-redis says how many" \
	"8192 of 16384 slots are not served by any master of the cluster" "$out"
t; check_has "uncovered slots: the log warns" "1 master, 0 replicas, 8192 of 16384 slots served" "$out"
kill "$HALF_PID"; wait "$HALF_PID" 2>/dev/null

echo "$((total - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
