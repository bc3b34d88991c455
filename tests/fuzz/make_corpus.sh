#!/usr/bin/env bash
# Regenerate the seed corpus of fuzz_dispatch: one valid request envelope
# per method (and a few edge cases), encoded with protoc from text.
#   tests/fuzz/make_corpus.sh        writes tests/fuzz/corpus/dispatch/
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/dispatch
mkdir -p "$out"

enc() { protoc -Iproto --encode="cachewire.v1.$1" cachewire/v1/cache.proto cachewire/v1/rpc.proto; }
# seed NAME METHOD PAYLOAD_TYPE PAYLOAD_TEXT [TIMEOUT]
seed() {
	local payload
	payload=$(printf '%s' "$4" | enc "$3" | od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')
	printf 'method: "/cachewire.v1.Cache/%s" payload: "%s" timeout_ms: %s' \
		"$2" "$payload" "${5:-0}" | enc Request >"$out/$1"
}
seed ping Ping PingRequest ''
seed get Get GetRequest 'key: "k"' 250
seed get-binary Get GetRequest 'key: "\000\377:*"'
seed set-ttl Set SetRequest 'key: "k" value: "v" ttl_ms: 1000'
seed set-past Set SetRequest 'key: "k" value: "" expire_at_ms: 1'
seed set-far Set SetRequest 'key: "k" value: "v" expire_at_ms: 18446744073709551615'
seed delete Delete DeleteRequest 'key: "k"'
seed clear Clear ClearRequest ''
seed get-many GetMany GetManyRequest 'keys: "a" keys: "b" keys: "a"'
seed set-many SetMany SetManyRequest 'entries { key: "a" value: "1" } entries { key: "b" value: "2" ttl_ms: 5 }'
seed delete-many DeleteMany DeleteManyRequest 'keys: "a" keys: ""'
seed unknown-method Frobnicate PingRequest ''
printf 'method: "/other.v1.X/Get" auth_token: "t"' | enc Request >"$out/other-service"
printf '\377\377\377\377\017\001' >"$out/garbage"
# gRPC request bodies (transport/grpc/wire.h): a whole prefixed message,
# one whose prefix claims more than follows, and two messages
printf '\000\000\000\000\003\012\001k' >"$out/grpc-body"
printf '\000\000\000\001\000\012\001k' >"$out/grpc-body-short"
printf '\000\000\000\000\000\000\000\000\000\000' >"$out/grpc-body-two"
printf '250m' >"$out/grpc-timeout"
# batch envelopes: a Ping and a Get, and one with a nested batch
printf 'calls { method: "/cachewire.v1.Cache/Ping" } calls { method: "/cachewire.v1.Cache/Get" payload: "\\n\\001k" timeout_ms: 5 }' |
	enc Request >"$out/batch"
printf 'calls { calls { method: "/cachewire.v1.Cache/Ping" } } calls { auth_token: "fuzz-token-0123456789" namespace: "other" method: "/cachewire.v1.Cache/Clear" }' |
	enc Request >"$out/batch-nested"
