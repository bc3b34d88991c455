#!/usr/bin/env bash
# client/bench/scale.sh - what scaling out costs or buys on this machine,
# all in one run, same workload (cachewire-bench --targets service):
#   one Redis, one cachewired                    (the baseline)
#   Redis Cluster of 3 masters + 3 replicas, one cachewired (cluster mode)
#   one Redis, three cachewired, the client given all three URLs
# Each REPS times (default 3); prints every command line, the median
# ops/s of each, and the ratios to the baseline. Builds nothing.
#
#   client/bench/scale.sh [BUILD_DIR]      default build/release
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build/release}
REPS=${REPS:-3}
DURATION=${DURATION:-3}
BENCH=$BUILD/cachewire-bench
DAEMON=$BUILD/cachewired
for f in "$BENCH" "$DAEMON"; do
	[ -x "$f" ] || { echo "scale.sh: $f not found; build first" >&2; exit 2; }
done
. tests/integration/lib.sh
. tests/integration/cluster_lib.sh
set +e
DPIDS=()
stop_all() {
	for p in "${DPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cluster_stop
	cleanup
}
trap stop_all EXIT

daemon() { # daemon NAME URL ENV...: start cachewired, wait until ready
	local name=$1 url=$2
	shift 2
	env CACHEWIRE_LISTEN="$url" CACHEWIRE_ADMIN_LISTEN= "$@" \
		"$DAEMON" >"$TMP/$name.log" 2>&1 &
	DPIDS+=($!)
	wait_for 20 grep -q ' INFO ready' "$TMP/$name.log" || { cat "$TMP/$name.log"; exit 1; }
}
RP=$(free_port)
"$REDIS_SERVER" --port "$RP" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
wait_for 10 sh -c "redis-cli -p $RP ping | grep -q PONG" || exit 1
cluster_start >/dev/null || exit 1
ONE=tcp://127.0.0.1:$(free_port)
daemon one "$ONE" CACHEWIRE_REDIS_URL="redis://127.0.0.1:$RP/0"
CL=tcp://127.0.0.1:$(free_port)
daemon cluster "$CL" CACHEWIRE_REDIS_MODE=cluster \
	CACHEWIRE_REDIS_NODES="$CLUSTER_NODES" \
	CACHEWIRE_REDIS_URL=redis://tester:s3cret@unused/0
THREE=$ONE
for i in 2 3; do
	u=tcp://127.0.0.1:$(free_port)
	daemon "r$i" "$u" CACHEWIRE_REDIS_URL="redis://127.0.0.1:$RP/0"
	THREE="$THREE,$u"
done
echo "# $(uname -srm), $(nproc) cores; redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
echo "# each setup $REPS times, --duration $DURATION, 100 B values, 4 conns x 16 deep"

run() { # run NAME URL WORKLOAD: ops/s of the service target
	local cmd=("$BENCH" --targets service --url "$2" --workload "$3"
		--value-size 100 --conns 4 --depth 16 --duration "$DURATION"
		--warmup 1 --json --quiet)
	echo "+ ${cmd[*]}" >&2
	"${cmd[@]}" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["results"]["service"]["ops_per_s"])'
}
declare -A R
for w in get set; do
	for i in $(seq 1 "$REPS"); do # interleaved, so drift hits all alike
		R[one.$w]+="$(run one "$ONE" $w) "
		R[cluster.$w]+="$(run cluster "$CL" $w) "
		R[three.$w]+="$(run three "$THREE" $w) "
	done
done
/usr/bin/python3 - "${R[one.get]}" "${R[cluster.get]}" "${R[three.get]}" \
	"${R[one.set]}" "${R[cluster.set]}" "${R[three.set]}" <<'PY'
import statistics, sys
v = [statistics.median(float(x) for x in a.split()) for a in sys.argv[1:]]
for k, w in enumerate(("get", "set")):
    one, cl, three = v[3 * k:3 * k + 3]
    print(f"{w} 100 B @64: one Redis, 1 daemon      {one:10.0f} ops/s")
    print(f"{w} 100 B @64: Redis Cluster, 1 daemon  {cl:10.0f} ops/s  ({cl / one:.2f} x one Redis)")
    print(f"{w} 100 B @64: one Redis, 3 daemons     {three:10.0f} ops/s  ({three / one:.2f} x 1 daemon)")
PY
