/*
 * xfer.h - what exchange.c (one call's trip over the REQ socket) and
 * coalesce.c (many calls in one batch message) share. Private to the
 * library.
 *
 * An exchange (xfer) is an nng context + aio, pooled per client. A call
 * is one xfer in one of two roles:
 *   X_SINGLE  its own message: send, then receive, on its own aio;
 *   X_QUEUED  waiting in the client's queue, then carried by a batch; its
 *             deadline is kept by the client's one timer (c->tick), which
 *             sleeps until the earliest deadline of the calls queued or
 *             in batches and ends those whose deadline passed.
 * A batch message is an xfer of role X_BATCH: it sends the queued calls'
 * Requests as one (rpc.proto, Request.calls) and hands each its Reply.
 * Every xfer counts in c->inflight from its start until it is back in the
 * pool, so cw_close waits for batches too.
 */
#ifndef CACHEWIRE_XFER_H
#define CACHEWIRE_XFER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cachewire/v1/rpc.pb-c.h"

#include "client_internal.h"

enum xfer_role { X_SINGLE, X_QUEUED, X_BATCH };

typedef struct xfer {
	struct cw_client *c;
	struct xfer *next;     /* in the client's free list, its queue, or
	                          (X_BATCH) its batches in flight */
	struct xfer *all_next; /* in the client's list of all */
	nng_ctx ctx;
	nng_aio *aio;
	enum xfer_role role;
	bool receiving;
	nng_time deadline;
	int timeout_ms;
	const ProtobufCMethodDescriptor *md;
	cw__xfer_done done;
	void *arg;
	/* X_QUEUED: its Request, kept until its batch is over */
	nng_msg *request;
	atomic_int holds; /* the queue or its batch, and a tick ending it */
	struct xfer *tick_next; /* in a tick's list of calls to end */
	atomic_bool finished;   /* its outcome was handed over */
	/* X_BATCH */
	struct xfer **members;
	size_t nmembers;
} xfer;

/* exchange.c */
/* A protobuf varint: its size, and written at out (returns its size). */
CW_HIDDEN size_t cw__varint_size(size_t v);
CW_HIDDEN size_t cw__put_varint(uint8_t *out, size_t v);
CW_HIDDEN xfer *cw__xfer_get(struct cw_client *c, int *rv);
/* Put x back in the pool (inflight - 1, wake cw_close). */
CW_HIDDEN void cw__xfer_pool(xfer *x);
CW_HIDDEN int cw__transport_error(
    struct cw_client *c, int rv, int timeout_ms, cw_error *err);
/* The outcome in one Reply: the status, and on OK the response. */
CW_HIDDEN int cw__reply_outcome(const struct cw_client *c,
    const ProtobufCMethodDescriptor *md, const Cachewire__V1__Reply *reply,
    ProtobufCMessage **out, cw_error *err);

/* coalesce.c */
/* Queue x (its Request built) when messages are in flight and the
 * server takes batches; false: send it alone. Under c->mu. */
CW_HIDDEN bool cw__coalesce_queue_locked(
    struct cw_client *c, xfer *x, nng_msg *request, bool *ask);
/* A message (single or batch) is over: maybe send what waits. */
CW_HIDDEN void cw__coalesce_flush(struct cw_client *c);
/* Ask the server (Ping) whether it takes batches. */
CW_HIDDEN void cw__coalesce_ask(struct cw_client *c);
/* The aio callback of an X_BATCH xfer. */
CW_HIDDEN void cw__coalesce_cb(xfer *x, int rv);

#endif
