/* dispatch.c - envelope decode, method lookup, invoke, reply encode. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/rpc.pb-c.h"

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

/* Drop one hold; the last one frees the request and hands over the reply. */
static void release(cw_call *call)
{
	if (atomic_fetch_sub(&call->holds, 1) != 1)
		return;
	if (call->input != NULL)
		protobuf_c_message_free_unpacked(call->input, NULL);
	if (call->envelope != NULL)
		cachewire__v1__request__free_unpacked(call->envelope, NULL);
	call->input = NULL;
	call->envelope = NULL;
	cw_error outcome = call->err;
	outcome.code = call->code;
	call->method = "";
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

void cw_dispatch(ProtobufCService *svc, const uint8_t *req, size_t len,
    int default_timeout_ms, cw_call *call, cw_reply_sink *sink)
{
	const ProtobufCServiceDescriptor *sd = svc->descriptor;
	const ProtobufCMethodDescriptor *m = NULL;
	Cachewire__V1__Request *envelope;

	*call = (cw_call){
	    .err = {.code = CW_OK},
	    .timeout_ms = default_timeout_ms,
	    .method = "",
	    .sink = sink,
	};
	atomic_init(&call->holds, 2); /* this function + the reply */
	atomic_init(&call->replied, false);

	envelope = cachewire__v1__request__unpack(NULL, len, req);
	call->envelope = envelope;
	if (envelope == NULL) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "request is not a cachewire.v1.Request envelope (%zu "
		    "bytes)",
		    len);
		goto answer;
	}
	call->method = envelope->method;
	if (envelope->timeout_ms > 0)
		call->timeout_ms = envelope->timeout_ms > INT_MAX
		                       ? INT_MAX
		                       : (int)envelope->timeout_ms;
	if ((m = find_method(sd, envelope->method, call)) == NULL)
		goto answer;
	call->input = protobuf_c_message_unpack(
	    m->input, NULL, envelope->payload.len, envelope->payload.data);
	if (call->input == NULL) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "payload of %s is not a valid %s (%zu bytes)",
		    envelope->method, m->input->name, envelope->payload.len);
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
