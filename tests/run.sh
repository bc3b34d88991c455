#!/usr/bin/env bash
# The one test command: install what is missing, build, run every test
# (unit and integration), twice: an optimised build (where gcc sees the most
# warnings; any warning fails the build), then a debug build under
# ASan+UBSan. Then, from the optimised build, the integration tests once
# under valgrind memcheck (tests/valgrind.sh) and a bounded soak
# (tests/soak.sh, SOAK_SECONDS, default 60); then the fuzz targets
# (tests/fuzz/) for FUZZ_SECONDS each (default 60), failing on any crash,
# leak or sanitizer report.
# Integration tests start their own redis-server and cachewired processes
# on throwaway ports and sockets in temporary directories and stop them.
#
#   tests/run.sh            everything
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
	echo "==== build/plain: integration tests under valgrind" >&2
	tests/valgrind.sh build/plain
	echo "==== build/plain: soak for ${SOAK_SECONDS:-60} s" >&2
	tests/soak.sh build/plain
fi

fuzz() { # fuzz TARGET: run it from its seed corpus for FUZZ_SECONDS
	local dir=build/fuzz work
	echo "==== $dir: fuzz $1 for ${FUZZ_SECONDS:-60} s" >&2
	work=$(mktemp -d /tmp/cw-fuzz-XXXXXX)
	# New inputs go to the scratch corpus; the committed seeds stay as
	# they are. A finding is written to $dir/ and fails the run.
	"$dir/$1" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" \
		"$work" "tests/fuzz/corpus/${1#fuzz_}" 2>"$work.log" ||
		{ tail -n 60 "$work.log" >&2; rm -rf "$work" "$work.log"; return 1; }
	grep -E '^stat::number_of_executed_units' "$work.log" >&2 || true
	rm -rf "$work" "$work.log"
}

if [ "${1:-}" != "--quick" ]; then
	echo "==== build/fuzz: build" >&2
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DCW_FUZZ=ON \
		-DCW_BUILD_TESTS=OFF -DCW_WERROR=ON >/dev/null
	cmake --build build/fuzz -j "$(nproc)" --target fuzz_dispatch >/dev/null
	fuzz fuzz_dispatch
fi
