/*
 * dispatch.h - one request envelope in, one reply envelope out, maybe later.
 *
 * cw_dispatch() decodes a cachewire.v1.Request, finds the method in the
 * service's protoc-c descriptor (no per-method code here), decodes the
 * payload with that method's input descriptor and invokes the service. The
 * service answers through the closure it was given, then or later (from
 * another thread): with its response on success, or with NULL after
 * recording the failure in call->err (e.g. via cw_error_set). Dispatch then
 * packs the cachewire.v1.Reply straight into a buffer the caller's sink
 * provides, and tells the sink. Every request gets exactly one reply: a
 * malformed envelope or payload is INVALID_ARGUMENT, an unknown service or
 * method UNIMPLEMENTED. Pure: no I/O, so it is unit-tested and fuzzed alone.
 */
#ifndef CW_RPC_DISPATCH_H
#define CW_RPC_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include <cachewire/status.h>

#include "auth.h"

/* Where a reply goes (the server packs it into an nng message). */
typedef struct cw_reply_sink cw_reply_sink;
struct cw_reply_sink {
	/* Room for exactly len bytes of packed reply; NULL when out of
	 * memory (the reply is then dropped). */
	uint8_t *(*alloc)(cw_reply_sink *sink, size_t len);
	/*
	 * The reply is packed (or was dropped): send it. code and outcome
	 * (the reply's message) are for logs and metrics. Called exactly
	 * once per cw_dispatch, last: the call may be reused from here on.
	 */
	void (*done)(cw_reply_sink *sink, int code, const cw_error *outcome);
};

typedef struct cw_call {
	cw_error err;       /* set by the service on failure */
	int timeout_ms;     /* the caller's timeout, or the server default */
	const char *method; /* "/cachewire.v1.Cache/Get", for logs */
	int method_index;   /* in the service descriptor's methods; -1 while
	                       unknown (refused or undecodable), for metrics */
	/* The namespace the call works in, as authentication resolved it;
	 * "" when dispatch had no cw_auth (the service's default). */
	char ns[CW_NAMESPACE_MAX + 1];
	/* Free for the service: where it keeps the closure when it answers
	 * later. */
	ProtobufCClosure closure;
	/* private to dispatch */
	cw_reply_sink *sink;
	char method_buf[160];
	ProtobufCMessage *input;
	atomic_int holds; /* invoke running + reply pending */
	atomic_bool replied;
	int code;
} cw_call;

/*
 * Handle the request in req[0..len) with svc; the reply goes to sink. call
 * is the request's state and must stay valid until sink->done has run;
 * req may be freed when cw_dispatch returns. default_timeout_ms applies
 * when the request names none.
 *
 * auth (may be NULL: everyone may call, call->ns is "") checks the
 * envelope's token and namespace right after the envelope is read (in
 * place, nothing allocated), before the method is looked up and the
 * payload decoded: a caller it refuses (UNAUTHENTICATED,
 * PERMISSION_DENIED) costs no more than that. On success call->ns is the
 * namespace the call works in.
 */
void cw_dispatch(ProtobufCService *svc, cw_auth *auth, const uint8_t *req,
    size_t len, int default_timeout_ms, cw_call *call, cw_reply_sink *sink);

/*
 * Answer a request without reading it: a reply with code (not CW_OK) and
 * message goes to sink exactly as cw_dispatch would send it, before this
 * returns. For a server that must refuse work (overload).
 */
void cw_dispatch_refuse(
    cw_call *call, cw_reply_sink *sink, int code, const char *message);

#endif
