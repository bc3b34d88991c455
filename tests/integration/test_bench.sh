#!/usr/bin/env bash
# cachewire-bench against a real cachewired and Redis: short runs with a
# fixed op count check the tool's own counting (ops done as asked, no
# errors, hits + misses = lookups, hit ratio 1 / 0 exact, histogram count =
# ops, percentiles ordered), that a set run really stores its keys, and its
# error paths. Nothing here is timed: speed is not a test result.
# The grpc target (the service over HTTP/2) and the twemproxy target (the
# redis target's load through nutcracker) are held to the same counts.
# Usage: test_bench.sh CACHEWIRED CACHEWIRE_BENCH
. "$(dirname "$0")/lib.sh"
BENCH=$2
REDIS_CLI=${REDIS_CLI:-redis-cli}
PYTHON=${PYTHON:-python3}
# the daemon serves gRPC too, for the grpc target
GRPC_ADDR="127.0.0.1:$(free_port)"
export CACHEWIRE_GRPC_LISTEN=$GRPC_ADDR
start_servers "$1"
# twemproxy (Debian's nutcracker) in front of the same Redis, for the
# twemproxy target
NUT_PORT=$(free_port)
printf 'bench:\n  listen: 127.0.0.1:%s\n  redis: true\n  servers:\n    - %s:1\n' \
	"$NUT_PORT" "$TMP/redis.sock" >"$TMP/nutcracker.yml"
nutcracker -c "$TMP/nutcracker.yml" -s "$(free_port)" -o "$TMP/nutcracker.log" &
NUT_PID=$!
trap 'kill "$NUT_PID" 2>/dev/null || true; wait "$NUT_PID" 2>/dev/null || true; cleanup' EXIT
wait_for 10 sh -c "redis-cli -p $NUT_PORT ping | grep -q PONG" ||
	{ cat "$TMP/nutcracker.log"; exit 1; }
total=0
t() { total=$((total + 1)); }

OPS=2000
bench() { # bench ARGS...: a short JSON run of all five targets
	"$BENCH" --url "$TCP_URL" --redis "unix://$TMP/redis.sock" \
		--grpc "$GRPC_ADDR" --twemproxy "redis://127.0.0.1:$NUT_PORT" \
		--targets service,redis,echo,grpc,twemproxy \
		--ops "$OPS" --warmup 0 --keys 500 --conns 2 --depth 8 \
		--timeout-ms 5000 --json --quiet "$@"
}
rcli() { "$REDIS_CLI" -s "$TMP/redis.sock" "$@"; }

# verify NAME FILE: the invariants of every target's counts in a JSON
# report; python prints "what|expected|actual" lines for check.
verify() {
	local name=$1 file=$2 what want got
	while IFS='|' read -r what want got; do
		t
		check "$name: $what" "$want" "$got"
	done < <("$PYTHON" - "$file" "$OPS" <<'PY'
import json, sys

d = json.load(open(sys.argv[1]))
ops = int(sys.argv[2])
p = d["params"]
reading = p["workload"] in ("get", "mixed", "getmany")
for name in p["targets"]:
    r = d["results"][name]
    def out(what, want, got):
        print(f"{name} {what}|{want}|{got}")
    out("ran", True, r["ran"])
    out("ops done", ops, r["ops"])
    out("errors", 0, r["errors_total"])
    out("ok", ops, r["ok"])
    out("histogram count", r["ok"], r["histogram_count"])
    out("keys", ops * p["keys_per_op"], r["keys"])
    lat = r["latency_us"]
    seq = [lat["min"], lat["p50"], lat["p90"], lat["p99"], lat["p999"],
           lat["max"]]
    out("min<=p50<=p90<=p99<=p999<=max", True,
        all(a <= b for a, b in zip(seq, seq[1:])))
    out("latency measured", True, lat["p50"] > 0)
    out("hits+misses", r["lookups"], r["hits"] + r["misses"])
    if p["workload"] in ("get", "getmany"):
        out("lookups", ops * p["keys_per_op"], r["lookups"])
        if p["hit_ratio"] == 1:
            out("misses at hit ratio 1", 0, r["misses"])
        if p["hit_ratio"] == 0:
            out("hits at hit ratio 0", 0, r["hits"])
        if 0 < p["hit_ratio"] < 1:
            out("some hits and some misses", True,
                r["hits"] > 0 and r["misses"] > 0)
    elif p["workload"] == "mixed":
        out("some gets and some sets", True, 0 < r["lookups"] < ops)
    else:
        out("no lookups", 0, r["lookups"])
    if not reading and p["workload"] != "delete":
        out("value bytes", r["keys"] * p["value_size"], r["bytes"])
for k, pair in (("service_over_echo_ops", ("service", "echo")),
                ("service_over_redis_ops", ("service", "redis")),
                ("grpc_over_service_ops", ("grpc", "service")),
                ("service_over_twemproxy_ops", ("service", "twemproxy"))):
    if all(t in p["targets"] for t in pair):
        print(f"ratio {k}|True|{d['ratios'][k] is not None and d['ratios'][k] > 0}")
PY
	)
}

set +e
for args in "get --hit-ratio 1" "get --hit-ratio 0.5" "get --hit-ratio 0" \
	"set" "mixed --ratio 0.5" "delete" "getmany --batch 20 --hit-ratio 0.5" \
	"setmany --batch 20"; do
	name=$(echo "$args" | tr -d '-' | tr ' ' '_')
	# shellcheck disable=SC2086 # args is a word list on purpose
	bench --workload $args >"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	t; check "$args: exits 0" 0 $rc
	[ $rc -eq 0 ] || cat "$TMP/$name.err"
	verify "$args" "$TMP/$name.json"
done

# --blocking: a thread per slot making blocking calls (the service's
# sharing their client, each RESP thread on a connection of its own)
for args in "get --hit-ratio 0.5" "set" "getmany --batch 20"; do
	name=blocking_$(echo "$args" | tr -d '-' | tr ' ' '_')
	# shellcheck disable=SC2086 # args is a word list on purpose
	bench --blocking --targets service,redis,twemproxy --workload $args \
		>"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	t; check "--blocking $args: exits 0" 0 $rc
	[ $rc -eq 0 ] || cat "$TMP/$name.err"
	verify "--blocking $args" "$TMP/$name.json"
done
t; check "--blocking is in the JSON" True "$("$PYTHON" -c '
import json, sys
print(json.load(open(sys.argv[1]))["params"]["blocking"])' "$TMP/blocking_set.json")"
bench --blocking 2>"$TMP/err" >/dev/null; rc=$?
t; check "--blocking with the echo target exits 2" 2 $rc
t; check_has "... and says why" "the echo target has no blocking mode" "$(cat "$TMP/err")"

# A set run stores its values: the service under its namespace, the redis
# target under its own prefix (one key, so which key is certain).
bench --workload set --keys 1 --value-size 777 --targets service,redis \
	>/dev/null 2>"$TMP/err"; rc=$?
t; check "set of one key exits 0" 0 $rc
t; check "service stored the value" 777 "$(rcli STRLEN shtest:bench:0)"
t; check "redis target stored its own key" 777 "$(rcli STRLEN cwbench:bench:0)"

# The human table, with the server's memory.
"$BENCH" --url "$TCP_URL" --redis "unix://$TMP/redis.sock" --ops 500 \
	--warmup 0 --keys 100 --server-pid "$DAEMON_PID" >"$TMP/table" 2>&1
rc=$?
t; check "table run exits 0" 0 $rc
t; check_has "table has the service row" "service " "$(cat "$TMP/table")"
t; check_has "table has the ratio to echo" "service/echo" "$(cat "$TMP/table")"
t; check_has "table has the p50 difference" "p50 service - (echo + redis)" \
	"$(cat "$TMP/table")"
t; check_has "table has the server memory" "VmHWM" "$(cat "$TMP/table")"
bench --targets service --server-pid "$DAEMON_PID" >"$TMP/mem.json"
t; check "server memory in JSON" True "$("$PYTHON" -c '
import json, sys
s = json.load(open(sys.argv[1]))["server"]
print(s["rss_after_kib"] > 0 and s["hwm_after_kib"] >= s["rss_after_kib"]
      and s["rss_peak_sampled_kib"] > 0)' "$TMP/mem.json")"

# Error paths.
"$BENCH" --workload nonsense 2>"$TMP/err"; rc=$?
t; check "bad option exits 2" 2 $rc
t; check_has "bad option says which" "--workload" "$(cat "$TMP/err")"
"$BENCH" --ops 10 --duration 1 2>"$TMP/err"; rc=$?
t; check "--ops with --duration exits 2" 2 $rc
# No server: a clear message once the timeout passes, not a hang (timeout
# only guards against one; the exit status is what is checked).
timeout 60 "$BENCH" --targets service --url "tcp://127.0.0.1:$(free_port)" \
	--ops 100 --timeout-ms 500 >"$TMP/out" 2>"$TMP/err"; rc=$?
t; check "no server: exits 1" 1 $rc
t; check_has "no server: says so" "UNAVAILABLE" "$(cat "$TMP/err")"
timeout 60 "$BENCH" --targets redis --redis "unix://$TMP/none.sock" \
	--ops 100 --timeout-ms 500 >"$TMP/out" 2>"$TMP/err"; rc=$?
t; check "no redis: exits 1" 1 $rc
t; check_has "no redis: says where" "none.sock" "$(cat "$TMP/err")"
timeout 60 "$BENCH" --targets grpc --grpc "127.0.0.1:$(free_port)" \
	--ops 100 --timeout-ms 500 >"$TMP/out" 2>"$TMP/err"; rc=$?
t; check "no gRPC listener: exits 1" 1 $rc
t; check_has "no gRPC listener: says so" "Connection refused" "$(cat "$TMP/err")"
"$BENCH" --url "$TCP_URL" --grpc "$GRPC_ADDR" --targets service,grpc \
	--ops 500 --warmup 0 --keys 100 >"$TMP/table" 2>&1
t; check_has "table has the gRPC ratio" "grpc/service  ops/s" "$(cat "$TMP/table")"

# cachewire-bench-large: a (small here) value through the service in
# chunks and through hiredis, checked on the way back
LARGE=$(dirname "$BENCH")/cachewire-bench-large
"$LARGE" --url "$TCP_URL" --redis "unix://$TMP/redis.sock" --size 8MiB \
	--runs 1 --server-pid "$DAEMON_PID" >"$TMP/large" 2>&1; rc=$?
t; check "bench-large exits 0" 0 $rc
t; check_has "bench-large gives the ratio" "round trip, service / redis direct:" "$(cat "$TMP/large")"
t; check_has "bench-large gives cachewired's peak RSS" "cachewired peak RSS: " "$(cat "$TMP/large")"
"$LARGE" --url "$TCP_URL" --redis "unix://$TMP/none.sock" --size 1MiB \
	>"$TMP/large" 2>&1; rc=$?
t; check "bench-large without Redis exits 1" 1 $rc
set -e

finish "$total"
