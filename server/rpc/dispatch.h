/*
 * dispatch.h - one call in, one answer out, maybe later: what every
 * transport calls.
 *
 * A transport reads a call off its wire into a cw_request (method path,
 * serialized request message, timeout, token, namespace: the nng
 * envelope's fields, or gRPC's :path, body and metadata). cw_dispatch()
 * checks the caller (auth.h), finds the method in the service's protoc-c
 * descriptor (no per-method code here), decodes the payload with that
 * method's input descriptor and invokes the service. The service answers
 * through the closure it was given, then or later (from another thread):
 * with its response on success, or with NULL after recording the failure
 * in call->err (e.g. via cw_error_set). Dispatch hands the outcome to the
 * transport's sink, which encodes it for its wire. Every call gets exactly
 * one answer: an undecodable payload is INVALID_ARGUMENT, an unknown
 * service or method UNIMPLEMENTED. Pure: no I/O and no wire format, so it
 * is unit-tested and fuzzed alone.
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

/*
 * One call as a transport read it. The pointers are the transport's and
 * need to stay valid only while cw_dispatch runs; the bytes need not be
 * NUL-terminated. A NULL pointer with length 0 is empty.
 */
typedef struct cw_request {
	const uint8_t *method; /* "/cachewire.v1.Cache/Get" */
	size_t method_len;
	const uint8_t *payload; /* the serialized request message */
	size_t payload_len;
	uint64_t timeout_ms;  /* 0: the server's default */
	const uint8_t *token; /* bearer token; may be empty */
	size_t token_len;
	const uint8_t *ns; /* namespace asked for; may be empty */
	size_t ns_len;
} cw_request;

/* Where an answer goes (the transport encodes it for its wire). */
typedef struct cw_reply_sink cw_reply_sink;
struct cw_reply_sink {
	/*
	 * The call's answer: code (CW_OK or an error), message ("" on OK)
	 * and, on CW_OK only, the method's response (else NULL). Both are
	 * borrowed until this returns: encode them now. Called exactly once
	 * per call, before done.
	 */
	void (*reply)(cw_reply_sink *sink, int code, const char *message,
	    const ProtobufCMessage *response);
	/*
	 * The call is over: send what reply encoded. code and outcome are
	 * for logs and metrics. Called exactly once per call, last: the
	 * call may be reused from here on.
	 */
	void (*done)(cw_reply_sink *sink, int code, const cw_error *outcome);
};

/*
 * What a server serves: its cache service, and optionally the standard
 * gRPC health service (grpc.health.v1.Health), which any caller may ask
 * without a token (probes carry none) and whatever namespace it names.
 */
typedef struct cw_services {
	ProtobufCService *cache;  /* callers are checked by auth */
	ProtobufCService *health; /* NULL: not served */
	/* Optional (NULL: nothing): a transport that dispatches many calls
	 * at once (a batch, a read of many streams) brackets them with
	 * hold and release, on its thread, and the service then does their
	 * I/O together (cw_cache_hold_writes). See cw_services_hold. */
	void (*hold)(void);
	void (*release)(void);
} cw_services;

/* svcs->hold / svcs->release when set. */
void cw_services_hold(const cw_services *svcs);
void cw_services_release(const cw_services *svcs);

/*
 * The methods of svcs counted together, for stats: the cache service's
 * first, then the health service's; cw_call.method_index is an index into
 * them. The name of method i ("Get", "Check"), or "unknown" for an
 * index out of range (-1: a call whose method was never known).
 */
int cw_services_methods(const cw_services *svcs);
const char *cw_services_method_name(const cw_services *svcs, int i);

typedef struct cw_call {
	cw_error err;       /* set by the service on failure */
	int timeout_ms;     /* the caller's timeout, or the server default */
	const char *method; /* "/cachewire.v1.Cache/Get", for logs */
	int method_index;   /* cw_services_methods' numbering; -1 while
	                       unknown (refused or undecodable), for metrics */
	/* The namespace the call works in, as authentication resolved it;
	 * "" when dispatch had no cw_auth (the service's default). */
	char ns[CW_NAMESPACE_MAX + 1];
	/* Free for the service: where it keeps the closure when it answers
	 * later, and itself. */
	ProtobufCClosure closure;
	void *service;
	/* private to dispatch */
	cw_reply_sink *sink;
	char method_buf[160];
	ProtobufCMessage *input;
	atomic_int holds; /* invoke running + reply pending */
	atomic_bool replied;
	int code;
} cw_call;

/*
 * Handle the call req with the service of svcs its method names; the
 * answer goes to sink. call is the
 * call's state and must stay valid until sink->done has run; req's bytes
 * may be freed when cw_dispatch returns. default_timeout_ms applies when
 * the request names none.
 *
 * auth (may be NULL: everyone may call, call->ns is "") checks the
 * request's token and namespace first (in place, nothing allocated),
 * before the method is looked up and the payload decoded: a caller it
 * refuses (UNAUTHENTICATED, PERMISSION_DENIED) costs no more than that.
 * On success call->ns is the namespace the call works in. Calls to the
 * health service skip auth.
 */
void cw_dispatch(const cw_services *svcs, cw_auth *auth, const cw_request *req,
    int default_timeout_ms, cw_call *call, cw_reply_sink *sink);

/*
 * Answer a call without reading it: code (not CW_OK) and message go to
 * sink exactly as cw_dispatch would send them, before this returns. For a
 * server that must refuse work (overload, stopping) or a request its
 * transport could not decode.
 */
void cw_dispatch_refuse(
    cw_call *call, cw_reply_sink *sink, int code, const char *message);

#endif
