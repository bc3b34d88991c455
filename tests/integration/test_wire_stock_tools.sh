#!/usr/bin/env bash
# A caller with nothing but proto/, protoc and nngcat calls the methods of
# a real cachewired (the single-key ones and those of values in chunks):
# proof that the wire format is only protobuf + nng.
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

# a value in chunks (one chunk here): begin, put, commit, read a range
out=$(call BeginUpload BeginUploadRequest 'key: "wire:big" total_size: 11')
id=$(printf '%s' "$out" | sed -n 's/.*3 { 1: "\([0-9a-f-]*\)".*/\1/p')
check "BeginUpload gives an upload_id" 21 "${#id}"
call PutChunk PutChunkRequest "upload_id: \"$id\" offset: 0 data: \"hello world\"" >/dev/null
check "PutChunk OK" "" "$(grep code "$TMP/reply.txt" || true)"
out=$(call CommitUpload CommitUploadRequest "upload_id: \"$id\" total_size: 11")
check "CommitUpload OK" "" "$(grep code "$TMP/reply.txt" || true)"
out=$(call GetRange GetRangeRequest 'key: "wire:big" offset: 6 length: 100')
check_has "GetRange reads bytes 6.. of 11" '2: 11' "$out"
check_has "GetRange's data" '4: "world"' "$out"
out=$(call AbortUpload AbortUploadRequest "upload_id: \"$id\"")
check "AbortUpload of a committed upload: OK, existed absent" "" "$(grep -E 'code|existed' "$TMP/reply.txt" || true)"

out=$(call Frobnicate PingRequest '')
check_has "unknown method is UNIMPLEMENTED" 'code: UNIMPLEMENTED' "$(cat "$TMP/reply.txt")"

finish 15
