/*
 * envelope.c - the nng transport's framing: cachewire.v1.Request decoded
 * in place into a cw_request, and cachewire.v1.Reply packed from a call's
 * outcome (envelope.h).
 */
#include <stdio.h>
#include <string.h>

#include "cachewire/v1/rpc.pb-c.h"

#include "envelope.h"

/* Reply.payload is field 3, length-delimited: tag byte (3 << 3) | 2. */
#define REPLY_PAYLOAD_TAG 0x1au

size_t cw_envelope_varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t cw_envelope_put_varint(uint8_t *out, size_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t cw_envelope_reply_size(int code, const char *message,
    const ProtobufCMessage *response, size_t *payload_len)
{
	if (code == CW_OK) {
		size_t plen = protobuf_c_message_get_packed_size(response);
		*payload_len = plen;
		return plen > 0 ? 1 + cw_envelope_varint_size(plen) + plen : 0;
	}
	Cachewire__V1__Reply reply = CACHEWIRE__V1__REPLY__INIT;
	reply.code = (Cachewire__V1__Code)code;
	reply.message = (char *)message;
	*payload_len = 0;
	return cachewire__v1__reply__get_packed_size(&reply);
}

/*
 * On OK the Reply is just its payload field (code 0 and an empty message
 * are not encoded), packed straight from the response, so a value is
 * copied once, into the reply.
 */
void cw_envelope_reply_pack(int code, const char *message,
    const ProtobufCMessage *response, size_t payload_len, uint8_t *out)
{
	if (code == CW_OK) {
		if (payload_len == 0)
			return;
		out[0] = REPLY_PAYLOAD_TAG;
		size_t off = 1 + cw_envelope_put_varint(out + 1, payload_len);
		protobuf_c_message_pack(response, out + off);
		return;
	}
	Cachewire__V1__Reply reply = CACHEWIRE__V1__REPLY__INIT;
	reply.code = (Cachewire__V1__Code)code;
	reply.message = (char *)message;
	cachewire__v1__reply__pack(&reply, out);
}

/* ---- the request envelope, decoded in place ---------------------------- */

/*
 * cachewire.v1.Request is decoded by hand, not by protobuf-c, so that its
 * payload (a SetRequest with a value of up to 32 MiB) is not copied out of
 * the received message only to be decoded again: payload points into the
 * caller's buffer. Unknown fields are skipped, as protobuf requires; a
 * known field with the wrong wire type, a truncated field or a group is an
 * error, as it is for protobuf-c.
 */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*v = x;
			return true;
		}
	}
	return false; /* truncated, or more than 10 bytes */
}

/* One field at *p: its number, wire type, and for wire type 2 its
 * bytes (data, v); false when it does not decode. */
static bool next_field(const uint8_t **p, const uint8_t *end, uint64_t *field,
    unsigned *wire, const uint8_t **data, uint64_t *v)
{
	uint64_t key;

	*v = 0;
	*data = NULL;
	if (!get_varint(p, end, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff)
		return false;
	*field = key >> 3;
	*wire = (unsigned)(key & 7);
	switch (*wire) {
	case 0: /* varint */
		return get_varint(p, end, v);
	case 1: /* 64-bit */
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case 2: /* length-delimited */
		if (!get_varint(p, end, v) || *v > (uint64_t)(end - *p))
			return false;
		*data = *p;
		*p += *v;
		return true;
	case 5: /* 32-bit */
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	default: /* groups (3, 4) and reserved wire types */
		return false;
	}
}

bool cw_envelope_decode(
    const uint8_t *buf, size_t len, cw_request *e, size_t *ncalls)
{
	const uint8_t *p = buf, *end = buf + len;

	*e = (cw_request){.method = (const uint8_t *)""};
	if (ncalls != NULL)
		*ncalls = 0;
	while (p < end) {
		uint64_t field, v;
		unsigned wire;
		const uint8_t *data;
		if (!next_field(&p, end, &field, &wire, &data, &v))
			return false;
		/* method 1, payload 2, auth_token 4, namespace 5: bytes;
		 * timeout_ms 3 */
		if ((field == 1 || field == 2 || field == 4 || field == 5 ||
		        field == 6) &&
		    wire != 2)
			return false;
		if (field == 3 && wire != 0)
			return false;
		if (field == 1) {
			e->method = data;
			e->method_len = (size_t)v;
		} else if (field == 2) {
			e->payload = data;
			e->payload_len = (size_t)v;
		} else if (field == 3) {
			e->timeout_ms = v & 0xffffffffu; /* uint32 semantics */
		} else if (field == 4) {
			e->token = data;
			e->token_len = (size_t)v;
		} else if (field == 5) {
			e->ns = data;
			e->ns_len = (size_t)v;
		} else if (field == 6 && ncalls != NULL) {
			(*ncalls)++;
		}
	}
	return true;
}

bool cw_envelope_next_call(
    cw_envelope_calls *it, const uint8_t **call, size_t *call_len)
{
	while (it->p < it->end) {
		uint64_t field, v;
		unsigned wire;
		const uint8_t *data;
		if (!next_field(&it->p, it->end, &field, &wire, &data, &v))
			return false;
		if (field == 6) {
			*call = data;
			*call_len = (size_t)v;
			return true;
		}
	}
	return false;
}

void cw_envelope_dispatch(const cw_services *svcs, cw_auth *auth,
    const uint8_t *buf, size_t len, int default_timeout_ms, cw_call *call,
    cw_reply_sink *sink)
{
	cw_request req;

	if (!cw_envelope_decode(buf, len, &req, NULL)) {
		char msg[96];
		snprintf(msg, sizeof msg,
		    "request is not a cachewire.v1.Request envelope (%zu "
		    "bytes)",
		    len);
		cw_dispatch_refuse(call, sink, CW_INVALID_ARGUMENT, msg);
		return;
	}
	cw_dispatch(svcs, auth, &req, default_timeout_ms, call, sink);
}
