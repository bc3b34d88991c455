/* dispatch.c - envelope decode, method lookup, invoke, reply encode. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/rpc.pb-c.h"

#include "dispatch.h"

/* The closure every method gets: pack its response into call->payload. */
static void on_response(const ProtobufCMessage *msg, void *data)
{
	cw_call *call = data;
	if (call->replied)
		return; /* a second answer from a buggy method: keep the first
		         */
	call->replied = true;
	if (msg != NULL)
		protobuf_c_message_pack_to_buffer(msg, &call->payload.base);
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

static void invoke(
    ProtobufCService *svc, const Cachewire__V1__Request *req, cw_call *call)
{
	const ProtobufCServiceDescriptor *sd = svc->descriptor;
	const ProtobufCMethodDescriptor *m = find_method(sd, req->method, call);
	if (m == NULL)
		return;

	ProtobufCMessage *input = protobuf_c_message_unpack(
	    m->input, NULL, req->payload.len, req->payload.data);
	if (input == NULL) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "payload of %s is not a valid %s (%zu bytes)", req->method,
		    m->input->name, req->payload.len);
		return;
	}
	svc->invoke(svc, (unsigned)(m - sd->methods), input, on_response, call);
	protobuf_c_message_free_unpacked(input, NULL);

	if (call->err.code == CW_OK && !call->replied)
		cw_error_set(&call->err, CW_INTERNAL, "%s produced no response",
		    req->method);
}

int cw_dispatch(ProtobufCService *svc, const uint8_t *req, size_t len,
    int default_timeout_ms, ProtobufCBuffer *out, cw_error *outcome)
{
	uint8_t scratch[256]; /* small responses are packed here, no malloc */
	cw_call call = {
	    .err = {.code = CW_OK},
	    .timeout_ms = default_timeout_ms,
	    .method = "",
	    .payload = PROTOBUF_C_BUFFER_SIMPLE_INIT(scratch),
	};

	Cachewire__V1__Request *envelope =
	    cachewire__v1__request__unpack(NULL, len, req);
	if (envelope == NULL) {
		cw_error_set(&call.err, CW_INVALID_ARGUMENT,
		    "request is not a cachewire.v1.Request envelope (%zu "
		    "bytes)",
		    len);
	} else {
		call.method = envelope->method;
		if (envelope->timeout_ms > 0)
			call.timeout_ms = envelope->timeout_ms > INT_MAX
			                      ? INT_MAX
			                      : (int)envelope->timeout_ms;
		invoke(svc, envelope, &call);
	}

	Cachewire__V1__Reply reply = CACHEWIRE__V1__REPLY__INIT;
	int code = call.err.code;
	if (code < CW_OK || code > CW_UNAUTHENTICATED)
		code = CW_UNKNOWN;
	reply.code = (Cachewire__V1__Code)code;
	if (code == CW_OK) {
		reply.payload.data = call.payload.data;
		reply.payload.len = call.payload.len;
	} else {
		reply.message = call.err.message;
	}
	cachewire__v1__reply__pack_to_buffer(&reply, out);
	if (outcome != NULL) {
		*outcome = call.err;
		outcome->code = code;
	}

	PROTOBUF_C_BUFFER_SIMPLE_CLEAR(&call.payload);
	if (envelope != NULL)
		cachewire__v1__request__free_unpacked(envelope, NULL);
	return code;
}
