#!/usr/bin/env bash
# Set up and run cachewired in the foreground, the quick way:
#   deploy/local/run.sh [cachewired flags...]
# Installs missing Debian packages, builds (build/release), and runs
# cachewired with config/cachewire.yaml. When no Redis is configured (no
# CACHEWIRE_REDIS_URL, and none answers at the configuration's redis.url),
# it starts a private redis-server on a unix socket for the session and
# stops it when cachewired exits (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/../.."

deploy/local/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null

redis_pid=
rundir=
cleanup() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	[ -n "$rundir" ] && rm -rf "$rundir"
}
trap cleanup EXIT

# A Redis is "configured" when CACHEWIRE_REDIS_URL is set or the one the
# configuration names (with "$@" applied) answers; otherwise start our own.
if [ -z "${CACHEWIRE_REDIS_URL:-}" ] &&
	! build/release/cachewired --config config/cachewire.yaml "$@" \
		--check-redis >&2 2>/dev/null; then
	rundir=$(mktemp -d /tmp/cachewire-redis-XXXXXX)
	redis-server --port 0 --unixsocket "$rundir/redis.sock" --save '' \
		--appendonly no --dir "$rundir" --logfile "$rundir/redis.log" &
	redis_pid=$!
	for _ in $(seq 100); do [ -S "$rundir/redis.sock" ] && break; sleep 0.05; done
	export CACHEWIRE_REDIS_URL="unix://$rundir/redis.sock"
	echo "started a private redis-server at $CACHEWIRE_REDIS_URL" >&2
fi

# Not exec: the trap must stop our redis-server after cachewired exits.
build/release/cachewired --config config/cachewire.yaml "$@" &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null' INT TERM
set +e
wait "$daemon"
status=$?
if kill -0 "$daemon" 2>/dev/null; then # interrupted by the trap: reap it
	wait "$daemon"
	status=$?
fi
exit "$status"
