# lib.sh - shared by the shell tests: start redis-server and cachewired in a
# temporary directory, stop both on exit (even on failure).
# Usage: . lib.sh; start_servers CACHEWIRED   -> sets TMP, TCP_URL, IPC_URL

set -eu
REDIS_SERVER=${REDIS_SERVER:-redis-server}
TMP=$(mktemp -d /tmp/cw-test-sh-XXXXXX)
REDIS_PID=
DAEMON_PID=
failures=0

cleanup() { # each stopped whatever its exit status, even under set -e
	[ -z "$DAEMON_PID" ] || { kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; } || true
	[ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; } || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() { # a port nobody answers on right now
	local p
	while :; do
		# below Linux's ephemeral range (32768-60999), where outgoing
		# connections would take ports between our check and the bind
		p=$(( 20000 + RANDOM % 12000 ))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

wait_for() { # wait_for SECONDS COMMAND...
	local n=$(( $1 * 20 )); shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1)); [ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}

start_servers() {
	"$REDIS_SERVER" --port 0 --unixsocket "$TMP/redis.sock" --save '' \
		--appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
	REDIS_PID=$!
	wait_for 10 test -S "$TMP/redis.sock" || { cat "$TMP/redis.log"; exit 1; }
	TCP_URL="tcp://127.0.0.1:$(free_port)"
	IPC_URL="ipc://$TMP/cw.sock"
	ADMIN_URL="http://127.0.0.1:$(free_port)"
	[ "$ADMIN_URL" != "http://${TCP_URL#tcp://}" ] || ADMIN_URL="http://127.0.0.1:$(free_port)"
	CACHEWIRE_LISTEN="$TCP_URL,$IPC_URL" \
	CACHEWIRE_ADMIN_LISTEN="$ADMIN_URL" \
	CACHEWIRE_REDIS_URL="unix://$TMP/redis.sock" \
	CACHEWIRE_CACHE_NAMESPACE=shtest \
		"$1" >"$TMP/cachewired.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 10 grep -q ' INFO ready' "$TMP/cachewired.log" ||
		{ cat "$TMP/cachewired.log"; exit 1; }
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

# check_has NAME FRAGMENT TEXT
check_has() {
	case "$3" in
	*"$2"*) echo "ok   $1" ;;
	*) echo "FAIL $1: [$2] not in [$3]"; failures=$((failures + 1)) ;;
	esac
}

# stop_daemon: SIGTERM, and count a failure unless it exits 0 (a clean
# shutdown; under ASan also no leaks)
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID"
	local status=0
	wait "$DAEMON_PID" || status=$?
	DAEMON_PID=
	total=$((total + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok   cachewired exits 0 on SIGTERM"
	else
		echo "FAIL cachewired exited $status on SIGTERM"
		cat "$TMP/cachewired.log"
		failures=$((failures + 1))
	fi
}

# finish TOTAL: stop the daemon, print the tally, fail on any failure
finish() {
	total=$1
	stop_daemon
	echo "$((total - failures)) passed, $failures failed"
	[ "$failures" -eq 0 ]
}
