/*
 * dispatch.h - one request envelope in, one reply envelope out.
 *
 * cw_dispatch() decodes a cachewire.v1.Request, finds the method in the
 * service's protoc-c descriptor (no per-method code here), decodes the
 * payload with that method's input descriptor, invokes the service and
 * encodes a cachewire.v1.Reply. It never fails to produce a reply: a
 * malformed envelope or payload is INVALID_ARGUMENT, an unknown service or
 * method UNIMPLEMENTED. Pure: no I/O, so it is unit-tested and fuzzed alone.
 *
 * The service implementation receives a cw_call as closure_data. It calls
 * the closure exactly once: with its response on success, or with NULL
 * after recording the failure in call->err (e.g. via cw_error_set).
 */
#ifndef CW_RPC_DISPATCH_H
#define CW_RPC_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include <cachewire/status.h>

typedef struct cw_call {
	cw_error err;       /* set by the service on failure */
	int timeout_ms;     /* the caller's timeout, or the server default */
	const char *method; /* "/cachewire.v1.Cache/Get", for logs */
	/* private to dispatch */
	ProtobufCBufferSimple payload;
	bool replied;
} cw_call;

/*
 * Handle the request in req[0..len) with svc and append the packed reply
 * to out. default_timeout_ms applies when the request names none.
 * Returns the reply's status code (for logs and metrics); when outcome is
 * not NULL it gets that code and the reply's message.
 */
int cw_dispatch(ProtobufCService *svc, const uint8_t *req, size_t len,
    int default_timeout_ms, ProtobufCBuffer *out, cw_error *outcome);

#endif
