#!/bin/sh
# build.sh OUTDIR - the importable Python package: copies cachewire/ to
# OUTDIR/cachewire/ and generates OUTDIR/cachewire/v1/{cache,rpc}_pb2.py
# from proto/ with protoc (generated code is never committed). Then
#   PYTHONPATH=OUTDIR /usr/bin/python3 -c "import cachewire"
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=$1
rm -rf "$out/cachewire"
mkdir -p "$out/cachewire/v1"
cp "$here"/cachewire/*.py "$out/cachewire/"
protoc -I "$src/proto" --python_out="$out" \
	"$src/proto/cachewire/v1/cache.proto" "$src/proto/cachewire/v1/rpc.proto"
: >"$out/cachewire/v1/__init__.py"
