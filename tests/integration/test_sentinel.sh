#!/usr/bin/env bash
# cachewired in redis.mode sentinel against real processes: a master, a
# replica and three sentinels (redis-server --sentinel), all on throwaway
# ports. The daemon finds the master through the sentinels; a SENTINEL
# FAILOVER under load and then a SIGKILLed master move it to the new
# master by itself (the time each recovery took is printed; it is bounded
# only so that a hang fails); writes acknowledged before the manual
# failover read back after it. A master name the sentinels do not know,
# and sentinels that do not answer, give calls UNAVAILABLE with that
# reason and a log line, and --check-redis says so.
# Usage: test_sentinel.sh CACHEWIRED CACHEWIRE
. "$(dirname "$0")/lib.sh"
set +e # failures are counted, not fatal
DAEMON_BIN=$1
CLI=$2
total=0
t() { total=$((total + 1)); }
PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	cleanup
}
trap stop_all EXIT INT TERM

PM=$(free_port)
PR=$(free_port)
while [ "$PR" = "$PM" ]; do PR=$(free_port); done
redis() { # redis NAME PORT ARGS...
	local name=$1 port=$2
	shift 2
	mkdir -p "$TMP/$name"
	"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$TMP/$name" "$@" >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
}
answers() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
redis master "$PM"
redis replica "$PR" --replicaof 127.0.0.1 "$PM"
wait_for 10 answers "$PM" && wait_for 10 answers "$PR" ||
	{ cat "$TMP"/*.log; exit 1; }
wait_for 20 sh -c "redis-cli -p $PR info replication | grep -q master_link_status:up" ||
	{ echo "replica did not sync"; cat "$TMP/replica.log"; exit 1; }

SENTINELS=
PS=()
for i in 1 2 3; do
	p=$(free_port)
	PS+=("$p")
	cat >"$TMP/sentinel$i.conf" <<-EOF
	port $p
	bind 127.0.0.1
	dir $TMP
	sentinel monitor cwm 127.0.0.1 $PM 2
	sentinel down-after-milliseconds cwm 1000
	sentinel failover-timeout cwm 10000
	EOF
	"$REDIS_SERVER" "$TMP/sentinel$i.conf" --sentinel >"$TMP/sentinel$i.log" 2>&1 &
	PIDS+=($!)
	SENTINELS="$SENTINELS${SENTINELS:+,}127.0.0.1:$p"
done
for p in "${PS[@]}"; do
	wait_for 10 answers "$p" || { cat "$TMP"/sentinel*.log; exit 1; }
done
# Each sentinel has seen the replica and the other two sentinels.
for p in "${PS[@]}"; do
	wait_for 30 sh -c "redis-cli -p $p sentinel master cwm | grep -A1 -x num-other-sentinels | grep -qx 2" ||
		{ echo "sentinels did not find each other"; cat "$TMP"/sentinel*.log; exit 1; }
	wait_for 30 sh -c "redis-cli -p $p sentinel replicas cwm | grep -q $PR" ||
		{ echo "sentinel $p does not see the replica"; exit 1; }
done

URL="tcp://127.0.0.1:$(free_port)"
ADMIN="http://127.0.0.1:$(free_port)"
metrics() { curl -s "$ADMIN/metrics"; }
start_daemon() { # start_daemon MASTER_NAME NODES
	CACHEWIRE_LISTEN="$URL" CACHEWIRE_ADMIN_LISTEN="$ADMIN" \
	CACHEWIRE_REDIS_MODE=sentinel CACHEWIRE_REDIS_NODES="$2" \
	CACHEWIRE_REDIS_SENTINEL_MASTER="$1" CACHEWIRE_CACHE_NAMESPACE=st \
	CACHEWIRE_REDIS_CONNECT_TIMEOUT_MS=300 \
		"$DAEMON_BIN" >"$TMP/cachewired.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 20 grep -q ' INFO ready' "$TMP/cachewired.log" ||
		{ cat "$TMP/cachewired.log"; exit 1; }
}
cw() { "$CLI" --url "$URL" --timeout 2s "$@"; }
master_port() { redis-cli -p "${PS[0]}" sentinel get-master-addr-by-name cwm | sed -n 2p; }

# ---- the master found, calls served -------------------------------------
start_daemon cwm "$SENTINELS"
t; check_has "the log names the master Sentinel found" \
	"sentinel: master 'cwm' is at 127.0.0.1:$PM" "$(cat "$TMP/cachewired.log")"
echo -n one | cw set k1; t
check "set through sentinel mode" one "$(redis-cli -p "$PM" get st:k1)"
t; check "get through sentinel mode" one "$(cw get k1)"
out=$(CACHEWIRE_REDIS_MODE=sentinel CACHEWIRE_REDIS_NODES="$SENTINELS" \
	CACHEWIRE_REDIS_SENTINEL_MASTER=cwm "$DAEMON_BIN" --check-redis 2>&1) || true
t; check_has "--check-redis names the master it found" \
	"Sentinel master 'cwm' (now at redis://127.0.0.1:$PM/0) answers" "$out"

t; check_has "metrics: the master Sentinel named" \
	"cachewire_redis_sentinel_master{url=\"redis://127.0.0.1:$PM/0\"} 1" "$(metrics)"
t; check_has "metrics: no move yet" \
	"cachewire_redis_sentinel_master_moves_total 0" "$(metrics)"

# ---- SENTINEL FAILOVER: acknowledged writes survive, service recovers ---
for i in $(seq 1 50); do echo -n "v$i" | cw set "w$i"; done
wait_for 10 sh -c "[ \"\$(redis-cli -p $PR get st:w50)\" = v50 ]" || true
# load while it fails over: a writer that counts what failed
load() {
	local i=0 bad=0
	while [ ! -e "$TMP/stop" ]; do
		i=$((i + 1))
		echo -n "l$i" | cw set "load$((i % 20))" 2>>"$TMP/load.err" || bad=$((bad + 1))
	done
	echo "$i $bad" >"$TMP/load.out"
}
rm -f "$TMP/stop" "$TMP/load.out"
load &
LOAD=$!
sleep 0.5
old=$(master_port)
t0=$(date +%s%N)
redis-cli -p "${PS[0]}" sentinel failover cwm >/dev/null
# recovered: the replica is master now, and a Set made since lands on it
# (while the old master was master, its writes reached the replica too)
n=0
recovered() {
	redis-cli -p "$PR" role | head -1 | grep -qx master || return 1
	n=$((n + 1))
	echo -n "after$n" | cw set probe 2>/dev/null &&
		[ "$(redis-cli -p "$PR" get st:probe)" = "after$n" ]
}
if wait_for 60 recovered; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "note: after SENTINEL FAILOVER, served again on the new master in $ms ms"
	t; check "recovers by itself after SENTINEL FAILOVER" yes yes
else
	t; check "recovers by itself after SENTINEL FAILOVER" yes no
	cat "$TMP/cachewired.log"
fi
sleep 0.5
touch "$TMP/stop"
wait "$LOAD" || true
read -r calls bad <"$TMP/load.out"
echo "note: during the failover $bad of $calls calls failed: $(sort "$TMP/load.err" | uniq -c | sort -rn | head -3 | tr '\n' ';')"
t; check "calls went on during the failover" yes "$([ "$calls" -gt "$bad" ] && echo yes)"
t; check "the old master was $PM" "$PM" "$old"
t; check_has "the log says the master moved" \
	"master 'cwm' moved from 127.0.0.1:$PM to 127.0.0.1:$PR" "$(cat "$TMP/cachewired.log")"
t; check_has "metrics: the new master" \
	"cachewire_redis_sentinel_master{url=\"redis://127.0.0.1:$PR/0\"} 1" "$(metrics)"
t; check_has "metrics: one move" \
	"cachewire_redis_sentinel_master_moves_total 1" "$(metrics)"
lost=0
for i in $(seq 1 50); do [ "$(cw get "w$i")" = "v$i" ] || lost=$((lost + 1)); done
t; check "writes acknowledged before the failover read back" 0 "$lost"

# ---- the master killed: its replica is promoted, service recovers -------
wait_for 30 sh -c "redis-cli -p $PM info replication | grep -q master_link_status:up" ||
	echo "note: the old master has not synced as a replica yet"
{ kill -9 "$PID_replica"; wait "$PID_replica"; } 2>/dev/null
t0=$(date +%s%N)
recovered_old() {
	n=$((n + 1))
	echo -n "again$n" | cw set probe 2>/dev/null &&
		[ "$(redis-cli -p "$PM" get st:probe)" = "again$n" ]
}
if wait_for 60 recovered_old; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "note: after SIGKILL of the master, served again in $ms ms"
	t; check "recovers by itself after the master is killed" yes yes
else
	t; check "recovers by itself after the master is killed" yes no
	cat "$TMP/cachewired.log"
fi
stop_daemon

# ---- bad input: each a clear reason, never a hang ----------------------
start_daemon nosuch "$SENTINELS"
cw get k1 2>"$TMP/err"; rc=$?; t
check "unknown master name: get exits 3 (UNAVAILABLE)" 3 "$rc"
t; check_has "metrics: no master known" "cachewire_redis_sentinel_master 0" "$(metrics)"
t; check_has "unknown master name: the call says why" \
	"knows no master named 'nosuch'" "$(cat "$TMP/err")"
t; check_has "unknown master name: the log says why" \
	"no master 'nosuch' found by 3 sentinels" "$(cat "$TMP/cachewired.log")"
stop_daemon

dead="127.0.0.1:$(free_port)"
start_daemon cwm "$dead"
cw get k1 2>"$TMP/err"; rc=$?; t
check "no sentinel answers: get exits 3 (UNAVAILABLE)" 3 "$rc"
t; check_has "no sentinel answers: the call says why" \
	"sentinel: cannot connect to $dead" "$(cat "$TMP/err")"
stop_daemon
out=$(CACHEWIRE_REDIS_MODE=sentinel CACHEWIRE_REDIS_NODES="$dead" \
	CACHEWIRE_REDIS_SENTINEL_MASTER=cwm "$DAEMON_BIN" --check-redis 2>&1); rc=$?
t; check "--check-redis with no sentinel answering exits 1" 1 "$rc"
t; check_has "--check-redis says no master was found" "no master 'cwm' found" "$out"

echo "$((total - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
