/* dispatch.c - envelope decode, method lookup, invoke, reply encode. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/rpc.pb-c.h"

#include "auth.h"
#include "dispatch.h"

/* Reply.payload is field 3, length-delimited: tag byte (3 << 3) | 2. */
#define REPLY_PAYLOAD_TAG 0x1au

static size_t varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t put_varint(uint8_t *out, size_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/*
 * Pack the reply into the sink's buffer: on OK the Reply is just its
 * payload field (code 0 and an empty message are not encoded), packed
 * straight from the response, so a value is copied once, into the reply.
 */
static void pack_reply(cw_call *call, const ProtobufCMessage *msg)
{
	cw_reply_sink *sink = call->sink;
	uint8_t *buf;

	if (call->code == CW_OK) {
		size_t plen = protobuf_c_message_get_packed_size(msg);
		size_t total = plen > 0 ? 1 + varint_size(plen) + plen : 0;
		if ((buf = sink->alloc(sink, total)) == NULL || total == 0)
			return;
		buf[0] = REPLY_PAYLOAD_TAG;
		size_t off = 1 + put_varint(buf + 1, plen);
		protobuf_c_message_pack(msg, buf + off);
		return;
	}
	Cachewire__V1__Reply reply = CACHEWIRE__V1__REPLY__INIT;
	reply.code = (Cachewire__V1__Code)call->code;
	reply.message = call->err.message;
	size_t total = cachewire__v1__reply__get_packed_size(&reply);
	if ((buf = sink->alloc(sink, total)) != NULL)
		cachewire__v1__reply__pack(&reply, buf);
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
typedef struct envelope {
	const uint8_t *method;
	size_t method_len;
	const uint8_t *payload;
	size_t payload_len;
	uint64_t timeout_ms;
	const uint8_t *token;
	size_t token_len;
	const uint8_t *ns;
	size_t ns_len;
} envelope;

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

static bool decode_envelope(const uint8_t *buf, size_t len, envelope *e)
{
	const uint8_t *p = buf, *end = buf + len;

	*e = (envelope){.method = (const uint8_t *)""};
	while (p < end) {
		uint64_t key, v = 0;
		if (!get_varint(&p, end, &key) || key >> 3 == 0 ||
		    key >> 3 > 0x1fffffff)
			return false;
		uint64_t field = key >> 3;
		unsigned wire = (unsigned)(key & 7);
		const uint8_t *data = NULL;
		switch (wire) {
		case 0: /* varint */
			if (!get_varint(&p, end, &v))
				return false;
			break;
		case 1: /* 64-bit */
			if (end - p < 8)
				return false;
			p += 8;
			break;
		case 2: /* length-delimited */
			if (!get_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			data = p;
			p += v;
			break;
		case 5: /* 32-bit */
			if (end - p < 4)
				return false;
			p += 4;
			break;
		default: /* groups (3, 4) and reserved wire types */
			return false;
		}
		/* method 1, payload 2, auth_token 4, namespace 5: bytes;
		 * timeout_ms 3 */
		if ((field == 1 || field == 2 || field == 4 || field == 5) &&
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
		}
	}
	return true;
}

/* Drop one hold; the last one frees the request and hands over the reply. */
static void release(cw_call *call)
{
	if (atomic_fetch_sub(&call->holds, 1) != 1)
		return;
	if (call->input != NULL)
		protobuf_c_message_free_unpacked(call->input, NULL);
	call->input = NULL;
	cw_error outcome = call->err;
	outcome.code = call->code;
	call->sink->done(call->sink, call->code, &outcome);
}

/* The closure every method gets: pack its response (or its error). */
static void on_response(const ProtobufCMessage *msg, void *data)
{
	cw_call *call = data;

	if (atomic_exchange(&call->replied, true))
		return; /* a second answer from a buggy method: keep the first
		         */
	int code = call->err.code;
	if (code == CW_OK && msg == NULL)
		code = cw_error_set(&call->err, CW_INTERNAL,
		    "%s failed without saying why", call->method);
	if (code < CW_OK || code > CW_UNAUTHENTICATED)
		code = CW_UNKNOWN;
	call->code = code;
	pack_reply(call, msg);
	release(call);
}

/*
 * Find the method named by path "/<service full name>/<Method>"; NULL (with
 * the reason in call->err) when there is none.
 */
static const ProtobufCMethodDescriptor *find_method(
    const ProtobufCServiceDescriptor *sd, const char *path, cw_call *call)
{
	size_t n = strlen(sd->name);
	if (path[0] != '/' || strncmp(path + 1, sd->name, n) != 0 ||
	    path[n + 1] != '/') {
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\": this server has only /%s/*",
		    path, sd->name);
		return NULL;
	}
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(sd, path + n + 2);
	if (m == NULL)
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\"", path);
	return m;
}

void cw_dispatch(ProtobufCService *svc, cw_auth *auth, const uint8_t *req,
    size_t len, int default_timeout_ms, cw_call *call, cw_reply_sink *sink)
{
	const ProtobufCServiceDescriptor *sd = svc->descriptor;
	const ProtobufCMethodDescriptor *m = NULL;
	envelope env;

	*call = (cw_call){
	    .err = {.code = CW_OK},
	    .timeout_ms = default_timeout_ms,
	    .method = call->method_buf,
	    .method_index = -1,
	    .sink = sink,
	};
	atomic_init(&call->holds, 2); /* this function + the reply */
	atomic_init(&call->replied, false);

	if (!decode_envelope(req, len, &env)) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "request is not a cachewire.v1.Request envelope (%zu "
		    "bytes)",
		    len);
		goto answer;
	}
	/* A name with a NUL byte, or too long to be ours, matches nothing:
	 * keep what fits, for the message. */
	size_t n = env.method_len < sizeof call->method_buf - 1
	               ? env.method_len
	               : sizeof call->method_buf - 1;
	memcpy(call->method_buf, env.method, n);
	call->method_buf[n] = '\0';
	if (env.timeout_ms > 0)
		call->timeout_ms =
		    env.timeout_ms > INT_MAX ? INT_MAX : (int)env.timeout_ms;
	/* Who asks, before anything else is done for them: an unknown
	 * caller learns nothing of the methods and gets nothing decoded. */
	if (auth != NULL &&
	    cw_auth_check(auth, env.token, env.token_len, env.ns, env.ns_len,
	        call->ns, &call->err) != CW_OK)
		goto answer;
	if (strlen(call->method_buf) != env.method_len) {
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\"", call->method_buf);
		goto answer;
	}
	if ((m = find_method(sd, call->method_buf, call)) == NULL)
		goto answer;
	call->method_index = (int)(m - sd->methods);
	call->input = protobuf_c_message_unpack(
	    m->input, NULL, env.payload_len, env.payload);
	if (call->input == NULL) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "payload of %s is not a valid %s (%zu bytes)",
		    call->method_buf, m->input->name, env.payload_len);
		goto answer;
	}
	svc->invoke(
	    svc, (unsigned)(m - sd->methods), call->input, on_response, call);
	release(call);
	return;
answer:
	on_response(NULL, call);
	release(call);
}

void cw_dispatch_refuse(
    cw_call *call, cw_reply_sink *sink, int code, const char *message)
{
	*call = (cw_call){
	    .err = {.code = CW_OK},
	    .method = call->method_buf,
	    .method_index = -1,
	    .sink = sink,
	};
	call->method_buf[0] = '\0';
	atomic_init(&call->holds, 1); /* the reply only */
	atomic_init(&call->replied, false);
	cw_error_set(&call->err, code, "%s", message);
	on_response(NULL, call);
}
