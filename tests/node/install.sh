#!/bin/sh
# install.sh DIR - the Node test clients (package.json, pinned by
# package-lock.json) into DIR/node_modules with `npm ci`, unless DIR
# already holds this very lockfile's install. Run by tests/python/run.sh
# into the build tree; nothing is installed in the source tree.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
if [ -d "$1/node_modules" ] && cmp -s "$here/package-lock.json" "$1/package-lock.json"; then
	exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$1/"
# --ignore-scripts: nothing of these packages runs at install time
(cd "$1" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
