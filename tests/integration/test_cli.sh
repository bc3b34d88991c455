#!/usr/bin/env bash
# The `cachewire` CLI against a real cachewired over tcp:// and ipc://:
# every command, binary values, expiry, exit codes and error messages.
# Usage: test_cli.sh CACHEWIRED CACHEWIRE
. "$(dirname "$0")/lib.sh"
CLI=$2
start_servers "$1"
total=0
t() { total=$((total + 1)); }

for url in "$TCP_URL" "$IPC_URL"; do
	cw() { "$CLI" --url "$url" "$@"; }
	scheme=${url%%:*}

	head -c 300000 /dev/urandom >"$TMP/value"
	printf '\0' >>"$TMP/value"
	set +e
	cw set pip:foo --ttl 60s <"$TMP/value"; rc=$?; t
	check "$scheme: set from stdin exits 0" 0 $rc
	cw get pip:foo >"$TMP/out"; rc=$?; t
	check "$scheme: get exits 0" 0 $rc
	t; if cmp -s "$TMP/value" "$TMP/out"; then check "$scheme: binary value round trip" 1 1
	else check "$scheme: binary value round trip" same different; fi

	cw set from-file --file "$TMP/value"; t
	t; if cw get from-file | cmp -s - "$TMP/value"; then check "$scheme: set --file" 1 1
	else check "$scheme: set --file" same different; fi

	cw get pip:missing >"$TMP/out"; rc=$?; t
	check "$scheme: get miss exits 1" 1 $rc
	check "$scheme: get miss prints nothing" 0 "$(wc -c <"$TMP/out" | tr -d ' ')"; t
	cw del pip:foo; rc=$?; t
	check "$scheme: del of a present key exits 0" 0 $rc
	cw del pip:foo; rc=$?; t
	check "$scheme: del of a missing key exits 1" 1 $rc

	echo -n short | cw set brief --ttl 300ms; rc=$?; t
	check "$scheme: set --ttl 300ms" 0 $rc
	sleep 0.8
	cw get brief >/dev/null; rc=$?; t
	check "$scheme: expired after its ttl" 1 $rc

	echo -n old | cw set past --expire-at 2001-09-09T01:46:40Z; rc=$?; t
	check "$scheme: set with a past --expire-at succeeds" 0 $rc
	cw get past >/dev/null; rc=$?; t
	check "$scheme: past --expire-at leaves nothing" 1 $rc
	echo -n later | cw set future --expire-at "$(( $(date +%s) + 3600 ))"; rc=$?; t
	check "$scheme: future --expire-at" 0 $rc
	t; check "$scheme: value of future" later "$(cw get future)"

	t; check "$scheme: clear counts (from-file, future)" 2 "$(cw clear)"
	t; check_has "$scheme: ping prints the version" "0.1" "$(cw ping)"

	cw bogus 2>"$TMP/err"; rc=$?; t
	check "$scheme: unknown command exits 2" 2 $rc
	cw set k --ttl soon </dev/null 2>"$TMP/err"; rc=$?; t
	check "$scheme: bad duration exits 2" 2 $rc
	t; check_has "$scheme: bad duration says why" "soon" "$(cat "$TMP/err")"
	cw get 2>/dev/null; rc=$?; t
	check "$scheme: missing key argument exits 2" 2 $rc
	set -e
done

set +e
"$CLI" --url "tcp://127.0.0.1:$(free_port)" --timeout 300ms ping 2>"$TMP/err"; rc=$?; t
check "no server: exits 3" 3 $rc
t; check_has "no server: says what failed" "UNAVAILABLE: no connection" "$(cat "$TMP/err")"
CACHEWIRE_URL=$TCP_URL "$CLI" ping >/dev/null; rc=$?; t
check "CACHEWIRE_URL is the default URL" 0 $rc
head -c 40000000 /dev/zero | "$CLI" --url "$TCP_URL" set huge 2>"$TMP/err"; rc=$?; t
check "value over the limit exits 3" 3 $rc
t; check_has "value over the limit is RESOURCE_EXHAUSTED" "RESOURCE_EXHAUSTED" "$(cat "$TMP/err")"
"$CLI" --version >/dev/null; rc=$?; t
check "--version exits 0" 0 $rc
set -e

finish "$total"
