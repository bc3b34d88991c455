#!/usr/bin/env bash
# The one test command: install what is missing, build, run every test
# (unit and integration), twice: an optimised build (where gcc sees the most
# warnings; any warning fails the build), then a debug build under
# ASan+UBSan.
# Integration tests start their own redis-server and cachewired processes
# on throwaway ports and sockets in temporary directories and stop them.
#
#   tests/run.sh            both passes
#   tests/run.sh --quick    the plain pass only
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/local/install-deps.sh --test

pass() { # pass NAME CMAKE_ARGS...
	local dir="build/$1"; shift
	echo "==== $dir: build" >&2
	cmake -S . -B "$dir" -DCW_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)" >/dev/null
	echo "==== $dir: test" >&2
	ctest --test-dir "$dir" --output-on-failure
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass plain -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != "--quick" ]; then
	pass sanitize -DCMAKE_BUILD_TYPE=Debug -DCW_SANITIZE=ON
fi
