/*
 * envelope.h - how the nng transport frames a call: each nng message is one
 * cachewire.v1.Request (method, payload, timeout, token, namespace; see
 * proto/cachewire/v1/rpc.proto), answered by one cachewire.v1.Reply (code,
 * message, payload). This file turns the one into a cw_request for
 * dispatch and a call's outcome into the other; the rpc layer knows
 * neither. Pure: no I/O, so it is unit-tested and fuzzed with dispatch.
 */
#ifndef CW_TRANSPORT_NNG_ENVELOPE_H
#define CW_TRANSPORT_NNG_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "dispatch.h"

/*
 * Decode buf[0..len) as a cachewire.v1.Request into *req, whose pointers
 * point into buf (nothing is copied, so a large payload is not copied
 * twice). Unknown fields are skipped, as protobuf requires; a known field
 * with the wrong wire type, a truncated field or a group make it false.
 * *ncalls (may be NULL) gets how many calls it holds as a batch
 * (Request.calls; 0: not a batch).
 */
bool cw_envelope_decode(
    const uint8_t *buf, size_t len, cw_request *req, size_t *ncalls);

/* The calls of a decoded batch, one by one: start with {buf, buf + len}. */
typedef struct cw_envelope_calls {
	const uint8_t *p, *end;
} cw_envelope_calls;

/* The next call's bytes (a Request of its own, in buf); false when there
 * are no more. */
bool cw_envelope_next_call(
    cw_envelope_calls *it, const uint8_t **call, size_t *call_len);

/* A protobuf varint: its size, and written at out (returns its size). For
 * packing envelope fields by hand (this file, batch.c). */
size_t cw_envelope_varint_size(size_t v);
size_t cw_envelope_put_varint(uint8_t *out, size_t v);

/*
 * The size of the cachewire.v1.Reply for an outcome: code (CW_OK or an
 * error), message (ignored on CW_OK) and, on CW_OK, the method's response.
 * *payload_len is for cw_envelope_reply_pack.
 */
size_t cw_envelope_reply_size(int code, const char *message,
    const ProtobufCMessage *response, size_t *payload_len);

/* Pack that Reply into out, which has room for its size. */
void cw_envelope_reply_pack(int code, const char *message,
    const ProtobufCMessage *response, size_t payload_len, uint8_t *out);

/*
 * Decode the envelope in buf[0..len) and cw_dispatch() it (dispatch.h says
 * what call, sink and auth are); one that does not decode is answered
 * INVALID_ARGUMENT through sink, as dispatch answers. buf may be freed
 * when this returns.
 */
void cw_envelope_dispatch(const cw_services *svcs, cw_auth *auth,
    const uint8_t *buf, size_t len, int default_timeout_ms, cw_call *call,
    cw_reply_sink *sink);

#endif
