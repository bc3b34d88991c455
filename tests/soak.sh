#!/usr/bin/env bash
# tests/soak.sh - a bounded soak of a built cachewired: mixed load from
# cachewire-bench (64 calls in flight) for SOAK_SECONDS (default 60), Redis
# killed (SIGKILL) at one third and stopped (SIGTERM) at two thirds, each
# time started again a second later; at the end SIGHUP, a call, SIGTERM.
# Prints ops done, errors by status and the daemon's RSS after warm-up and
# at the end, and fails (exit 1) when:
#   - the benchmark did not run, or no call succeeded;
#   - an error other than UNAVAILABLE or DEADLINE_EXCEEDED occurred (those
#     two are what calls get while Redis is away);
#   - calls did not succeed again after each Redis restart;
#   - RSS grew by more than SOAK_RSS_SLACK_KIB (default 4096) from the
#     sample after warm-up to the end;
#   - the daemon did not survive SIGHUP or did not exit 0 on SIGTERM.
#
#   tests/soak.sh [BUILD_DIR]          default build/plain
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build/plain}
SECS=${SOAK_SECONDS:-60}
RSS_SLACK=${SOAK_RSS_SLACK_KIB:-4096}
DAEMON=$BUILD/cachewired
BENCH=$BUILD/cachewire-bench
CLI=$BUILD/cachewire
for f in "$DAEMON" "$BENCH" "$CLI"; do
	[ -x "$f" ] || { echo "soak: $f not found; build first" >&2; exit 2; }
done
[ "$SECS" -ge 15 ] || { echo "soak: SOAK_SECONDS must be >= 15" >&2; exit 2; }

TMP=$(mktemp -d /tmp/cw-soak-XXXXXX)
REDIS_PID= DAEMON_PID= BENCH_PID=
cleanup() {
	for p in $BENCH_PID $DAEMON_PID $REDIS_PID; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "soak: FAIL: $*" >&2; echo "--- cachewired log (tail)" >&2; tail -n 20 "$TMP/daemon.log" >&2 || true; exit 1; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status"; }

start_redis() {
	redis-server --port 0 --unixsocket "$TMP/redis.sock" --save '' \
		--appendonly no --dir "$TMP" >>"$TMP/redis.log" 2>&1 &
	REDIS_PID=$!
	for _ in $(seq 100); do
		[ -S "$TMP/redis.sock" ] && redis-cli -s "$TMP/redis.sock" ping >/dev/null 2>&1 && return
		sleep 0.05
	done
	fail "redis-server did not start"
}

# Calls succeed again within 5 s (each try has a 500 ms deadline).
serves_again() {
	for _ in $(seq 50); do
		"$CLI" --url "$URL" --timeout 500ms set-many soak:probe ok >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "no successful call within 5 s after $1"
}

port=$((20000 + RANDOM % 40000))
URL=tcp://127.0.0.1:$port
ADMIN=http://127.0.0.1:$((port + 1))
start_redis
CACHEWIRE_REDIS_URL=unix://$TMP/redis.sock CACHEWIRE_LISTEN=$URL CACHEWIRE_ADMIN_LISTEN=$ADMIN \
	CACHEWIRE_CACHE_NAMESPACE=soak "$DAEMON" >"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	grep -q ' INFO ready' "$TMP/daemon.log" && break
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "cachewired exited at start"
	sleep 0.05
done
grep -q ' INFO ready' "$TMP/daemon.log" || fail "cachewired not ready"

echo "soak: ${SECS} s of mixed load (90% get, 100 B, 4 conns x 16 deep) on $URL" >&2
"$BENCH" --url "$URL" --targets service --workload mixed --conns 4 --depth 16 \
	--value-size 100 --keys 10000 --duration "$SECS" --warmup 0 \
	--timeout-ms 2000 --json >"$TMP/bench.json" 2>"$TMP/bench.err" &
BENCH_PID=$!

sleep 5
RSS_START=$(rss_kib)
sleep $((SECS / 3 - 5))
echo "soak: t=$((SECS / 3))s: redis SIGKILL, back after 1 s" >&2
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
sleep 1
start_redis
serves_again "Redis was killed"
sleep $((SECS / 3 - 1))
echo "soak: t=$((2 * SECS / 3))s: redis SIGTERM, back after 1 s" >&2
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
sleep 1
start_redis
serves_again "Redis was stopped"

wait "$BENCH_PID" || { BENCH_PID=; cat "$TMP/bench.err" >&2; fail "cachewire-bench failed"; }
BENCH_PID=
RSS_END=$(rss_kib)

kill -HUP "$DAEMON_PID"
sleep 0.5
kill -0 "$DAEMON_PID" 2>/dev/null || fail "cachewired died on SIGHUP"
grep -q 'SIGHUP: configuration reloaded' "$TMP/daemon.log" || fail "no reload logged on SIGHUP"
serves_again "SIGHUP"

# The metrics saw it all: calls served, Redis lost twice and reconnected.
metrics=$(curl -sf "$ADMIN/metrics") || fail "no $ADMIN/metrics"
ok_calls=$(awk '/^cachewire_requests_total\{.*code="OK"\}/ { s += $2 } END { print s + 0 }' <<<"$metrics")
reconnects=$(awk '/^cachewire_redis_reconnects_total / { print $2 }' <<<"$metrics")
[ "$ok_calls" -gt 0 ] || fail "/metrics counts no successful request"
[ "${reconnects:-0}" -ge 1 ] || fail "Redis went away twice, /metrics counts ${reconnects:-no} reconnects"
curl -sf "$ADMIN/readyz" >/dev/null || fail "/readyz is not 200 after the load"
echo "soak: /metrics: $ok_calls requests OK, $reconnects Redis reconnects; /readyz 200" >&2
kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
DAEMON_PID=
[ "$status" -eq 0 ] || fail "cachewired exited $status on SIGTERM"

python3 - "$TMP/bench.json" "$RSS_START" "$RSS_END" "$RSS_SLACK" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]["service"]
start, end, slack = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
errors = r["errors"]
print(f"soak: ops {r['ops']}, ok {r['ok']}, errors {r['errors_total']}"
      f" {json.dumps(errors, sort_keys=True)}")
print(f"soak: cachewired RSS {start} KiB after warm-up, {end} KiB at the end"
      f" ({end - start:+d} KiB; bound +{slack})")
bad = []
if not r["ran"] or r["ok"] == 0:
    bad.append("no call succeeded")
other = {k: v for k, v in errors.items()
         if k not in ("UNAVAILABLE", "DEADLINE_EXCEEDED")}
if other:
    bad.append(f"unexpected errors {other}")
if end - start > slack:
    bad.append(f"RSS grew by {end - start} KiB")
for b in bad:
    print(f"soak: FAIL: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
echo "soak: OK (SIGHUP survived, SIGTERM exit 0)" >&2
