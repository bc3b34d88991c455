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

SUMMARIES=()
pass() { # pass NAME CMAKE_ARGS...
	local dir="build/$1" rc=0; shift
	echo "==== $dir: build" >&2
	cmake -S . -B "$dir" -DCW_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)" >/dev/null
	echo "==== $dir: test" >&2
	ctest --test-dir "$dir" --output-on-failure | tee "$dir/ctest.out" || rc=$?
	SUMMARIES+=("$(summary "$dir")")
	echo "==== ${SUMMARIES[-1]}" >&2
	return "$rc"
}

# summary DIR: one line for the pass that ran in DIR, counting skipped
# tests apart from passed ones (ctest counts a skip as passed) and giving
# each one's reason: the line "SKIP NAME: why" that a skipping test prints.
summary() {
	local dir=$1 total failed name status why skips='' notrun=0
	total=$(sed -n 's/.*tests failed out of \([0-9]*\)$/\1/p' "$dir/ctest.out")
	failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$dir/ctest.out")
	while read -r name status; do
		why=$(grep -m 1 "^SKIP $name: " "$dir/Testing/Temporary/LastTest.log" 2>/dev/null) ||
			why="SKIP $name: (it printed no reason)"
		[ "$status" = "(Skipped)" ] || why="$name: $status"
		skips+="${skips:+ | }${why#SKIP }"
		notrun=$((notrun + 1))
	done < <(sed -n '/^The following tests did not run:/,/^$/s/^[[:space:]]*[0-9]* - \([^ ]*\) \(.*\)$/\1 \2/p' \
		"$dir/ctest.out")
	printf '%s: %s tests, %s passed, %s skipped, %s failed' "$dir" "${total:-?}" \
		"$(( ${total:-0} - ${failed:-0} - notrun ))" "$notrun" "${failed:-?}"
	[ "$notrun" -eq 0 ] || printf ' (%s)' "$skips"
	echo
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

echo "==== summary" >&2
printf '%s\n' "${SUMMARIES[@]}" >&2
