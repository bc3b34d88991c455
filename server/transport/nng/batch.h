/*
 * batch.h - a batch envelope (rpc.proto: Request.calls) served call by
 * call: each call is decoded and handed to cw_dispatch exactly as a lone
 * request would be (its own gate admission, deadline, token, namespace and
 * status), and the calls' Replies are gathered, in order, into one Reply
 * (Reply.replies) once the last is answered. Pure of I/O: the nng server
 * sends what it gets, and the fuzz target and the unit test drive it
 * alone.
 */
#ifndef CW_TRANSPORT_NNG_BATCH_H
#define CW_TRANSPORT_NNG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

struct cw_gate;
struct cw_rpc_stats;

/*
 * The batch is answered: reply is the packed Reply (reply_len bytes,
 * malloc'd; the callee frees it), or NULL when there was no memory for it
 * (the caller then answers nothing, and its client times out). From
 * whatever thread answered the last call.
 */
typedef void (*cw_batch_done)(void *arg, uint8_t *reply, size_t reply_len);

typedef struct cw_batch_ctx {
	const cw_services *svcs;
	cw_auth *auth;
	struct cw_gate *gate;       /* NULL: every call is let in */
	struct cw_rpc_stats *stats; /* NULL: not counted */
	int default_timeout_ms;
} cw_batch_ctx;

/*
 * Serve the batch in buf[0..len), a Request that cw_envelope_decode found
 * to hold ncalls > 0 calls; buf may be freed when this returns. done runs
 * exactly once, maybe before this returns. ctx is copied.
 */
void cw_batch_serve(const cw_batch_ctx *ctx, const uint8_t *buf, size_t len,
    size_t ncalls, cw_batch_done done, void *arg);

#endif
