#!/usr/bin/env bash
# Install cachewired, the cachewire CLI and libcachewire from a build tree:
#   deploy/install.sh [--build-dir DIR] [--prefix P] [--destdir D]
# --build-dir  an already built tree (default: build it in build/release,
#              Release, as deploy/local/run.sh does)
# --prefix     where the files will live at run time (default /usr/local:
#              deploy/systemd/cachewired.service runs /usr/local/bin/cachewired)
# --destdir    stage the files under D instead (D/P/bin/...), for packaging:
#              the container image copies D/usr/local into its runtime stage
# Binaries are stripped. Prints the installed cachewired's --version.
# tests/deploy/check_deploy.sh runs this into a temporary prefix in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

build='' prefix=/usr/local destdir=''
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	--destdir) destdir=$2; shift 2 ;;
	*) echo "usage: $0 [--build-dir DIR] [--prefix P] [--destdir D]" >&2; exit 2 ;;
	esac
done

if [ -z "$build" ]; then
	build=build/release
	deploy/local/install-deps.sh
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j "$(nproc)" >/dev/null
fi
[ -x "$build/cachewired" ] || { echo "$0: no cachewired in $build" >&2; exit 1; }

# cmake --install honours DESTDIR from the environment.
DESTDIR=$destdir cmake --install "$build" --prefix "$prefix" --strip >/dev/null
"$destdir$prefix/bin/cachewired" --version
