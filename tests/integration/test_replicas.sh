#!/usr/bin/env bash
# Several cachewired replicas on one Redis, and clients that know all of
# them (cw_open / the CLI's --url / CACHEWIRE_URL with "a,b,c", the Python
# client with a list): calls are spread over the replicas; with one of
# them SIGKILLed under load (cw_load: 64 calls in flight through the C
# client) only calls in flight on it may fail (counted), the rest are
# retried on the others and served; a replica that is down is skipped;
# Clear is not retried.
# Usage: test_replicas.sh CACHEWIRED CLI CW_LOAD SOURCE_DIR
. "$(dirname "$0")/lib.sh"
set +e
DAEMON_BIN=$1 CLI=$2 LOAD_BIN=$3 SRC=$4
total=0
t() { total=$((total + 1)); }
DPIDS=()
stop_all() {
	touch "$TMP/stop"
	[ -n "${LOAD_PID:-}" ] && wait "$LOAD_PID" 2>/dev/null
	for p in "${DPIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT INT TERM

"$REDIS_SERVER" --port 0 --unixsocket "$TMP/redis.sock" --save '' \
	--appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
wait_for 10 test -S "$TMP/redis.sock" || { cat "$TMP/redis.log"; exit 1; }
URLS=() ADMINS=()
for i in 0 1 2; do
	u="tcp://127.0.0.1:$(free_port)" a="http://127.0.0.1:$(free_port)"
	URLS+=("$u") ADMINS+=("$a")
	CACHEWIRE_LISTEN="$u" CACHEWIRE_ADMIN_LISTEN="$a" \
	CACHEWIRE_REDIS_URL="unix://$TMP/redis.sock" CACHEWIRE_CACHE_NAMESPACE=rp \
		"$DAEMON_BIN" >"$TMP/d$i.log" 2>&1 &
	DPIDS+=($!)
done
for i in 0 1 2; do
	wait_for 10 grep -q ' INFO ready' "$TMP/d$i.log" || { cat "$TMP/d$i.log"; exit 1; }
done
LIST=$(IFS=,; echo "${URLS[*]}")
requests() { # requests I: calls replica I has answered
	curl -s "${ADMINS[$1]}/metrics" |
		awk '/^cachewire_requests_total\{/ { n += $2 } END { print n + 0 }'
}

# ---- spread ---------------------------------------------------------------
for i in $(seq 1 30); do echo -n "v$i" | "$CLI" --url "$LIST" set "k$i" || echo "set k$i failed"; done
for i in 1 2 3; do
	n=$(requests $((i - 1)))
	t; check "the CLI's calls reached replica $i" yes "$([ "$n" -gt 0 ] && echo yes)"
	echo "note: replica $i answered $n of 30 (separate CLI processes)"
done
t; check "CACHEWIRE_URL lists replicas too" v7 "$(CACHEWIRE_URL="$LIST" "$CLI" get k7)"
t; check "blanks around the URLs are fine" v8 \
	"$("$CLI" --url " ${URLS[0]} , ${URLS[1]} " get k8)"
out=$("$CLI" --url "${URLS[0]},,tcp://nohost" get k1 2>&1); rc=$?
t; check "a bad URL in the list: INVALID_ARGUMENT (exit 2)" 2 "$rc"
t; check_has "a bad URL in the list: named" "tcp://nohost" "$out"

# ---- one replica SIGKILLed under load -------------------------------------
mkdir -p "$TMP/load"
rm -f "$TMP/stop"
"$LOAD_BIN" "$LIST" "$TMP/stop" "$TMP/load" 64 200 &
LOAD_PID=$!
sleep 1.5
kill -9 "${DPIDS[1]}"; wait "${DPIDS[1]}" 2>/dev/null
killed_at=$(date +%s%3N)
sleep 2
touch "$TMP/stop"
wait "$LOAD_PID"; LOAD_PID=
read -r _ calls _ failed _ wrong <"$TMP/load/summary"
echo "note: load over 3 replicas, one SIGKILLed: $calls calls, $failed failed, $wrong wrong"
[ "$failed" -gt 0 ] && echo "note: failures: $(cut -d' ' -f2- "$TMP/load/errors" | sort | uniq -c | sort -rn | head -3 | tr -s ' ' | tr '\n' ';')"
t; check "no wrong values" 0 "$wrong"
t; check "only calls in flight on the killed replica failed (at most 64)" yes \
	"$([ "$failed" -le 64 ] && echo yes)"
# a call in flight on the killed replica fails at its timeout (2 s): none later
late=$(awk -v k="$killed_at" '$1 > k + 3000' "$TMP/load/errors" | wc -l)
t; check "no call failed after those in flight at the kill timed out" 0 "$late"
t; check "the load made calls after the kill" yes "$([ "$calls" -gt 1000 ] && echo yes)"

# ---- a replica that is down is skipped; Clear is not retried ---------------
ok=0
for i in $(seq 1 10); do
	[ "$("$CLI" --url "$LIST" --timeout 2s get k5)" = v5 ] && ok=$((ok + 1))
done
t; check "with a replica down, every call is served" 10 "$ok"
out=$("$CLI" --url "${URLS[1]},${URLS[1]}" --timeout 1s clear 2>&1); rc=$?
t; check "clear on dead replicas only: UNAVAILABLE (exit 3)" 3 "$rc"

# ---- the Python client with a list -----------------------------------------
PYBUILD="$TMP/python"
"$SRC/client/python/build.sh" "$PYBUILD" >"$TMP/pybuild.log" 2>&1 || cat "$TMP/pybuild.log"
out=$(PYTHONPATH="$PYBUILD" /usr/bin/python3 - "${URLS[@]}" <<'EOF2' 2>&1
import sys, cachewire
c = cachewire.Client(sys.argv[1:], timeout=2.0)
ok = sum(1 for i in range(20) if c.get("k3") == b"v3")
c.set("py", "x")
print("served", ok, c.get("py").decode(), c.clear() > 0)
c.close()
EOF2
)
t; check "Python: a list of replicas, one down: every call served" "served 20 x True" "$out"

echo "$((total - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
