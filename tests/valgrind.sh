#!/usr/bin/env bash
# tests/valgrind.sh - the integration tests once under valgrind memcheck:
# each C test program but test_tls runs under it, and so does every
# cachewired the tests start, except the TLS daemons (see below). (The shell tests' cachewire
# CLI runs natively: it is a thin layer on libcachewire, which the C tests
# exercise under memcheck, and under valgrind its hundred invocations took
# minutes.) Any memcheck error or
# definite leak makes that process exit 99, which fails its test.
#
#   tests/valgrind.sh [BUILD_DIR]       default build/plain (built already)
#
# Deadlines the fault tests promise get CW_TEST_SLACK_MS=3000 of slack
# here instead of 700, and the CLI test's expiries are 3 s instead of
# 300 ms: valgrind runs code some 20 times slower.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build/plain}
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=30"
for f in cachewired cachewire tests/test_conformance; do
	[ -x "$BUILD/$f" ] || { echo "valgrind.sh: $BUILD/$f not found; build first" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/cw-valgrind-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# The shell tests take the daemon's path: give them a wrapper.
printf '#!/bin/sh\nexec %s %s "$@"\n' "$VG" "$(realpath "$BUILD/cachewired")" \
	>"$TMP/cachewired"
chmod +x "$TMP/cachewired"

export CW_TEST_WRAPPER="$VG" CW_TEST_SLACK_MS=3000 CW_TEST_TTL_MS=3000
# test_cli.sh's TLS daemon runs natively: under memcheck its TLS
# handshakes take seconds, each CLI call makes one, and nng 1.5.2 then
# sometimes left a connection unanswered for good (never seen natively).
# test_tls is not run here: with cachewired's side under memcheck, nng
# 1.5.2's TLS listener left the first request of a fresh connection
# unanswered for good in about one run in five (the request's bytes read
# off the socket, no reply, 14 s and more; both ends under memcheck: most
# runs), and with only its client under memcheck it happened once more
# (2026-12-06: no reply in 14 s, then nng panicked in its redial during
# close). Both sides' TLS paths run in the plain pass and under ASan+UBSan
# (with LeakSanitizer) in the sanitize pass.
export CW_TEST_TLS_DAEMON="$(realpath "$BUILD/cachewired")"
failed=()
run() { # run NAME COMMAND...
	local name=$1 t0=$SECONDS
	shift
	if "$@" >"$TMP/$name.log" 2>&1; then
		echo "valgrind: $name passed ($((SECONDS - t0)) s)" >&2
	else
		echo "valgrind: $name FAILED ($((SECONDS - t0)) s):" >&2
		tail -n 60 "$TMP/$name.log" >&2
		failed+=("$name")
	fi
}

for t in test_conformance test_bad_input test_batch_envelope test_daemon test_faults test_security test_admin test_chunks test_chunks_wrong; do
	run "$t" $VG "$BUILD/tests/$t"
done
# test_coalesce without its SIGKILLed server: 16 threads sending into a
# connection as it dies hit a leak of nng 1.5.2's own (req0_pipe_close
# closes the pipe's send aio before it takes the pipe off the ready list;
# a request sent in between is cloned onto the closed aio and never
# freed: "definitely lost", allocated in build_request or send_batch).
# The killed-server case runs in the plain pass and under ASan+LSan.
run test_coalesce env CW_COALESCE_NO_KILL=1 $VG "$BUILD/tests/test_coalesce"
run test_cli tests/integration/test_cli.sh "$TMP/cachewired" "$BUILD/cachewire"
run test_wire_stock_tools tests/integration/test_wire_stock_tools.sh \
	"$TMP/cachewired" proto
run test_bench tests/integration/test_bench.sh "$TMP/cachewired" \
	"$BUILD/cachewire-bench"
run test_redis_cluster $VG "$BUILD/tests/test_redis_cluster"
# gRPC: the daemons under memcheck, the clients (grpcio, h2) native.
run test_grpc env CW_PYTHON_TESTS="test_grpc test_grpc_hostile" \
	tests/python/run.sh "$BUILD/cachewired" "$BUILD/cachewire" "$PWD" "$BUILD"
# Redis Cluster: the daemons and test_conformance (core and client) under
# memcheck; the load and its failovers run in the plain and sanitize
# passes only (CW_CLUSTER_QUICK, see test_cluster.sh).
run test_cluster env CW_CLUSTER_QUICK=1 tests/integration/test_cluster.sh \
	"$TMP/cachewired" "$BUILD/cachewire" "$BUILD/tests/cw_load" \
	"$BUILD/tests/test_conformance" tests/python/run.sh "$PWD" "$BUILD/tests"

if [ "${#failed[@]}" -gt 0 ]; then
	# Again at the end, where a log cut to its tail still shows them: the
	# failing checks of each failed test, or its last lines.
	for name in "${failed[@]}"; do
		echo "valgrind: $name:" >&2
		grep -E '^(FAIL|ERROR|\[  FAILED|==[0-9]+== [A-Z])|Error|Assert' \
			"$TMP/$name.log" | head -n 12 >&2 || tail -n 5 "$TMP/$name.log" >&2
	done
	echo "valgrind: failed: ${failed[*]}" >&2
	exit 1
fi
echo "valgrind: no memcheck errors, no definite leaks" >&2
