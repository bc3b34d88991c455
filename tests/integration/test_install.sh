#!/usr/bin/env bash
# `cmake --install` into a throwaway prefix, then build the example client
# against the installed headers and pkg-config file only, and run it against
# a real cachewired: the installed library is usable on its own.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR [SANITIZE_FLAGS]
. "$(dirname "$0")/lib.sh"
BUILD=$1
SRC=$2
SANITIZE=${3:-} # a sanitized library needs a sanitized program
PREFIX=$TMP/prefix
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
start_servers "$PREFIX/bin/cachewired"

export PKG_CONFIG_PATH=$(dirname "$(find "$PREFIX" -name cachewire.pc)")
total=0
t() { total=$((total + 1)); }

t; check "pkg-config knows cachewire" 0.1.0 "$(pkg-config --modversion cachewire)"
t; test -f "$PREFIX/include/cachewire/v1/cache.pb-c.h"
check "generated stub header is installed" 0 $?
set +e
cc -Wall -Wextra -Werror $SANITIZE "$SRC/client/examples/hello.c" \
	$(pkg-config --cflags --libs cachewire) -o "$TMP/hello" 2>"$TMP/cc.log"
rc=$?; t
check "example builds against the installed files" 0 $rc
[ $rc -eq 0 ] || cat "$TMP/cc.log"
out=$(LD_LIBRARY_PATH=$(dirname "$(find "$PREFIX" -name 'libcachewire.so' | head -1)") \
	"$TMP/hello" "$IPC_URL"); t
check "example runs against the daemon" "hello -> world" "$out"
out=$(CACHEWIRE_URL=$TCP_URL LD_LIBRARY_PATH=$(dirname "$(find "$PREFIX" -name 'libcachewire.so' | head -1)") \
	"$PREFIX/bin/cachewire" ping); t
check "installed CLI runs" 0.1.0 "$out"
set -e
finish "$total"
