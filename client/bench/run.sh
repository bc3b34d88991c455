#!/usr/bin/env bash
# client/bench/run.sh - the benchmark figures cachewire records, measured
# on this machine: starts a private redis-server and cachewired, runs each
# scenario REPS times (default 3) with cachewire-bench, prints every
# command line and the median of each figure, and stops the servers.
# Builds nothing.
#
#   client/bench/run.sh [BUILD_DIR]        default build/release
#   REPS=5 DURATION=5 client/bench/run.sh build/bench
#
# Scenarios (each target measured in the same invocation):
#   get, set     100 B values, 4 conns x 16 deep = 64 in flight: ops/s of
#                service, redis, echo, the service over gRPC (grpc) and
#                Redis through twemproxy (Debian's nutcracker, default
#                config: 1 server connection), service/echo,
#                service/redis, grpc/service and service/twemproxy
#   get-1        1 in flight: p50 of service, echo, redis and grpc, and
#                service - (echo + redis)
#   get-16t      16 threads each making blocking Gets: the service's
#                sharing one client, twemproxy's and redis's a connection
#                each (--blocking); service/twemproxy
#   getmany      100 keys of 100 B per call at 64 in flight: service keys/s
#                against the redis target's single GETs of the get scenario
#                (pipelined 16 deep) and of redis-64x1 (64 clients, one
#                GET each at a time)
#   mixed-1mib   Set+Get (50/50) of 1 MiB values, 2 conns x 2 deep: MiB/s
#   server RSS   from --server-pid, for the 64-in-flight scenarios
#   large        one 256 MiB value set and read back through the service
#                in chunks, and SET/GET on Redis directly through hiredis,
#                alternately (cachewire-bench-large): MiB/s, their ratio,
#                the client's and cachewired's peak RSS (printed as is)
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${1:-build/release}
REPS=${REPS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
PYTHON=${PYTHON:-python3}
BENCH=$BUILD/cachewire-bench
DAEMON=$BUILD/cachewired
for f in "$BENCH" "$DAEMON"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f not found; build first, e.g." >&2
		echo "  cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD" >&2
		exit 2
	fi
done

TMP=$(mktemp -d /tmp/cw-bench-XXXXXX)
REDIS_PID=
DAEMON_PID=
NUT_PID=
cleanup() { # each stopped whatever its exit status (nutcracker's is not 0)
	[ -z "$NUT_PID" ] || { kill "$NUT_PID" 2>/dev/null; wait "$NUT_PID" 2>/dev/null; } || true
	[ -z "$DAEMON_PID" ] || { kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; } || true
	[ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; } || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a port nobody answers on right now
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

wait_for() { # wait_for SECONDS COMMAND...
	local n=$(($1 * 20))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
wait_for 10 redis-cli -p "$REDIS_PORT" ping >/dev/null ||
	{ cat "$TMP/redis.log"; exit 1; }
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
URL="tcp://127.0.0.1:$(free_port)"
GRPC="127.0.0.1:$(free_port)"
NUT_PORT=$(free_port)
printf 'bench:\n  listen: 127.0.0.1:%s\n  redis: true\n  servers:\n    - 127.0.0.1:%s:1\n' \
	"$NUT_PORT" "$REDIS_PORT" >"$TMP/nutcracker.yml"
nutcracker -c "$TMP/nutcracker.yml" -s "$(free_port)" -o "$TMP/nutcracker.log" &
NUT_PID=$!
wait_for 10 sh -c "redis-cli -p $NUT_PORT ping | grep -q PONG" ||
	{ cat "$TMP/nutcracker.log"; exit 1; }
CACHEWIRE_ADMIN_LISTEN= CACHEWIRE_GRPC_LISTEN=$GRPC "$DAEMON" --listen "$URL" \
	--redis-url "$REDIS_URL" >"$TMP/cachewired.log" 2>&1 &
DAEMON_PID=$!
wait_for 10 grep -q ' INFO ready' "$TMP/cachewired.log" ||
	{ cat "$TMP/cachewired.log"; exit 1; }

echo "# $(uname -srm), $(nproc) cores; redis-server $(redis-server --version |
	sed 's/.*v=\([^ ]*\).*/\1/'); cachewired $URL (pid $DAEMON_PID); redis $REDIS_URL"
echo "# each scenario $REPS times, --duration $DURATION --warmup $WARMUP per target"

# scenario NAME ARGS...: REPS runs into $TMP/NAME.N.json
scenario() {
	local name=$1 i
	shift
	for i in $(seq 1 "$REPS"); do
		local cmd=("$BENCH" --url "$URL" --redis "$REDIS_URL"
			--server-pid "$DAEMON_PID" --duration "$DURATION"
			--warmup "$WARMUP" --json --quiet "$@")
		echo "+ ${cmd[*]}"
		"${cmd[@]}" >"$TMP/$name.$i.json" ||
			echo "  (exit status $?: the figures of a target that could not run are missing)"
	done
}

ALL=(--targets service,redis,echo,grpc,twemproxy --grpc "$GRPC"
	--twemproxy "redis://127.0.0.1:$NUT_PORT")
scenario get "${ALL[@]}" --workload get --value-size 100 --conns 4 --depth 16
scenario set "${ALL[@]}" --workload set --value-size 100 --conns 4 --depth 16
scenario getmany --workload getmany --batch 100 --value-size 100 \
	--conns 4 --depth 16
scenario get-1 "${ALL[@]}" --workload get --value-size 100 --conns 1 --depth 1
scenario get-16t --targets service,redis,twemproxy \
	--twemproxy "redis://127.0.0.1:$NUT_PORT" --blocking --workload get \
	--value-size 100 --conns 1 --depth 16
# 64 clients each waiting for its GET: what a direct-Redis user gets at a
# concurrency of 64 without pipelining by hand
scenario redis-64x1 --targets redis --workload get --value-size 100 \
	--conns 64 --depth 1
scenario mixed-1mib --workload mixed --ratio 0.5 --value-size 1MiB \
	--keys 64 --conns 2 --depth 2

LARGE=$BUILD/cachewire-bench-large
echo "# large: $LARGE --url $URL --redis $REDIS_URL --size 256MiB --runs $REPS --server-pid $DAEMON_PID"
"$LARGE" --url "$URL" --redis "$REDIS_URL" --size 256MiB --runs "$REPS" \
	--server-pid "$DAEMON_PID" | sed 's/^/#   /'

"$PYTHON" - "$TMP" "$REPS" <<'PY'
import json, statistics, sys

tmp, reps = sys.argv[1], int(sys.argv[2])

def runs(name):
    return [json.load(open(f"{tmp}/{name}.{i}.json")) for i in range(1, reps + 1)]

def res(d, target, key, sub=None):
    r = d["results"].get(target)
    if r is None or not r["ran"] or r["ok"] == 0:
        return None
    return r[key][sub] if sub else r[key]

rows = []
def figure(label, values, unit=""):
    vals = [v for v in values if v is not None]
    med = statistics.median(vals) if vals else None
    rows.append((label, med, vals, unit))

get, set_, many, one, big, single, threads = (runs(n) for n in
    ("get", "set", "getmany", "get-1", "mixed-1mib", "redis-64x1", "get-16t"))
for name, rs in (("get", get), ("set", set_)):
    for t in ("service", "redis", "echo", "grpc", "twemproxy"):
        figure(f"{name} 100 B @64: {t} ops/s", [res(d, t, "ops_per_s") for d in rs])
    figure(f"{name} 100 B @64: service/twemproxy",
           [d["ratios"]["service_over_twemproxy_ops"] for d in rs])
    figure(f"{name} 100 B @64: grpc/service",
           [d["ratios"]["grpc_over_service_ops"] for d in rs])
    figure(f"{name} 100 B @64: service/echo",
           [d["ratios"]["service_over_echo_ops"] for d in rs])
    figure(f"{name} 100 B @64: service/redis",
           [d["ratios"]["service_over_redis_ops"] for d in rs])
for t in ("service", "echo", "redis", "grpc", "twemproxy"):
    figure(f"get 100 B @1: {t} p50", [res(d, t, "latency_us", "p50") for d in one], "us")
figure("get 100 B @1: grpc/service ops/s",
       [d["ratios"]["grpc_over_service_ops"] for d in one])
figure("get 100 B @1: service - (echo + redis) p50",
       [d["ratios"]["p50_overhead_us"] for d in one], "us")
for t in ("service", "redis", "twemproxy"):
    figure(f"get 100 B, 16 blocking threads: {t} ops/s",
           [res(d, t, "ops_per_s") for d in threads])
figure("get 100 B, 16 blocking threads: service/twemproxy",
       [d["ratios"]["service_over_twemproxy_ops"] for d in threads])
figure("getmany 100x100 B @64: service keys/s",
       [res(d, "service", "keys_per_s") for d in many])
figure("getmany 100x100 B @64: redis MGET keys/s",
       [res(d, "redis", "keys_per_s") for d in many])
figure("get 100 B @64: redis single GET ops/s",
       [res(d, "redis", "ops_per_s") for d in get])
pairs = [(res(m, "service", "keys_per_s"), res(g, "redis", "ops_per_s"))
         for m, g in zip(many, get)]
figure("getmany service keys/s / redis GET ops/s",
       [a / b if a and b else None for a, b in pairs])
figure("get 100 B, 64 clients x 1: redis single GET ops/s",
       [res(d, "redis", "ops_per_s") for d in single])
pairs = [(res(m, "service", "keys_per_s"), res(s, "redis", "ops_per_s"))
         for m, s in zip(many, single)]
figure("getmany service keys/s / redis GET ops/s (64 x 1)",
       [a / b if a and b else None for a, b in pairs])
mib = 1024 * 1024
for t in ("service", "redis", "echo"):
    figure(f"set+get 1 MiB @4: {t} MiB/s",
           [(res(d, t, "bytes_per_s") or 0) / mib or None for d in big])
figure("set+get 1 MiB @4: service/redis",
       [d["ratios"]["service_over_redis_ops"] for d in big])
for name, rs in (("get", get), ("set", set_)):
    figure(f"server RSS during {name} @64: peak sampled",
           [(d["server"] or {}).get("rss_peak_sampled_kib") for d in rs], "KiB")
last = set_[-1]["server"] or {}
figure("server VmHWM after the set runs (since start)",
       [last.get("hwm_after_kib")], "KiB")
first = get[0]["server"] or {}
figure("server VmRSS before the first get run", [first.get("rss_before_kib")], "KiB")
figure("server VmRSS after the first get run", [first.get("rss_after_kib")], "KiB")

def fmt(v):
    if v is None:
        return "-"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:,.0f}"

print()
print(f"{'figure':52} {'median':>12}  runs")
for label, med, vals, unit in rows:
    print(f"{label:52} {fmt(med):>12}{(' ' + unit) if unit else '':4}  "
          + ", ".join(fmt(v) for v in vals))
PY
