#!/usr/bin/env bash
# A caller with nothing but proto/, protoc and nngcat calls every method of
# a real cachewired: proof that the wire format is only protobuf + nng.
# Usage: test_wire_stock_tools.sh CACHEWIRED PROTO_DIR
. "$(dirname "$0")/lib.sh"
CACHEWIRED=$1
PROTO=$2
start_servers "$CACHEWIRED"

# call METHOD REQUEST_TYPE 'text-format request' -> decoded Reply (raw form,
# so the nested payload shows as field numbers)
call() {
	printf '%s' "$3" | protoc -I"$PROTO" --encode="cachewire.v1.$2" \
		cachewire/v1/cache.proto >"$TMP/inner"
	# bytes field in text format: every byte as an octal escape
	local payload
	payload=$(od -An -v -to1 "$TMP/inner" | tr -s ' \n' ' ' | sed 's/ \([0-7][0-7]*\)/\\\1/g; s/ //g')
	printf 'method: "/cachewire.v1.Cache/%s" payload: "%s" timeout_ms: 5000' "$1" "$payload" |
		protoc -I"$PROTO" --encode=cachewire.v1.Request cachewire/v1/rpc.proto |
		nngcat --req0 --dial "$TCP_URL" --file - --raw --recv-timeout 5 >"$TMP/reply"
	protoc -I"$PROTO" --decode=cachewire.v1.Reply cachewire/v1/rpc.proto <"$TMP/reply" >"$TMP/reply.txt"
	protoc --decode_raw <"$TMP/reply" | tr -s ' \n' ' '
}

out=$(call Ping PingRequest '')
check_has "Ping answers with the version" '3 { 1: "' "$out"
check "Ping is OK (code absent = 0)" "" "$(grep code "$TMP/reply.txt" || true)"

out=$(call Set SetRequest 'key: "wire:k" value: "hello\000world" ttl_ms: 60000')
check "Set OK" "" "$(grep code "$TMP/reply.txt" || true)"

out=$(call Get GetRequest 'key: "wire:k"')
check_has "Get finds the value" '3 { 1: 1 2: "hello\000world" }' "$out"

out=$(call Get GetRequest 'key: "wire:missing"')
check "Get miss is OK with an empty payload" "" "$(cat "$TMP/reply.txt")"

out=$(call Delete DeleteRequest 'key: "wire:k"')
check_has "Delete reports existed" '3 { 1: 1 }' "$out"

call Set SetRequest 'key: "a" value: "1"' >/dev/null
call Set SetRequest 'key: "b" value: "2" expire_at_ms: 1' >/dev/null
out=$(call Clear ClearRequest '')
check_has "Clear counts removed keys" '3 { 1: 1 }' "$out"

out=$(call Frobnicate PingRequest '')
check_has "unknown method is UNIMPLEMENTED" 'code: UNIMPLEMENTED' "$(cat "$TMP/reply.txt")"

finish 8
