/*
 * mux.h - pipelined Redis connections driven by one I/O thread (what the cache
 * core, core/cache.h, runs its commands on).
 *
 * A caller builds a request: one or more Redis commands written back to
 * back (cw_mux_req_cmd / cw_mux_req_arg), and submits it from any thread.
 * The mux thread puts it on one of its connections behind whatever else is
 * in flight there, so the commands of many concurrent callers travel to
 * Redis in one write and their replies come back in one read: pipelining
 * without the callers knowing of each other. When every reply of the
 * request has arrived (or the request failed), its callback runs once, on
 * the mux thread, and must not block.
 *
 * Arguments of 256 bytes or more are not copied: the request points at
 * them and writev() sends them from where they are, so they must stay
 * valid until the callback has run. Smaller ones are copied.
 *
 * Connections are made on demand (TCP or unix socket, then AUTH and SELECT
 * as the target says), non-blocking, each bounded by connect_timeout_ms.
 * When a connection breaks, the requests it had sent are sent again once
 * on another connection (everything the core sends is idempotent). When no
 * connection can be made, requests fail at once with CW_UNAVAILABLE and the
 * reason, and the mux tries again after a capped, jittered exponential
 * backoff (50 ms doubling to 500 ms), so service resumes quickly once Redis
 * is back.
 *
 * Deadlines: a request ends with CW_DEADLINE_EXCEEDED at its deadline, or
 * when Redis has not answered it within command_timeout_ms; a connection
 * that has made no progress on the requests it sent for command_timeout_ms
 * is considered stalled, closed, and its requests fail the same way.
 */
#ifndef CW_CORE_MUX_H
#define CW_CORE_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "redis_url.h"

typedef struct cw_mux cw_mux;
typedef struct cw_mux_req cw_mux_req;

/*
 * The outcome of a request: status CW_OK with every reply (replies[i]
 * answers command i; REDIS_REPLY_ERROR replies are the caller's to
 * interpret), or a failure with err set and replies NULL. Everything is
 * borrowed: valid until the callback returns, except a reply the
 * callback takes by setting replies[i] to NULL (it then frees it with
 * freeReplyObject).
 */
typedef void (*cw_mux_done)(
    void *arg, int status, const cw_error *err, redisReply **replies);

typedef struct cw_mux_options {
	const cw_redis_target *target; /* copied; with sentinel, its host and
	                                  port are ignored */
	const cw_redis_sentinel *sentinel; /* NULL, or find the master by
	                                      it (sentinel.h); copied */
	int connections;                   /* >= 1 */
	int connect_timeout_ms;            /* >= 1 */
	int command_timeout_ms;            /* >= 1 */
	/* cw_mux_cork applies: only for a mux that outlives every corked
	 * submission to it by a thread that has yet to uncork (the cache's
	 * own mux, not a Cluster node's, which may go with the map) */
	bool corkable;
} cw_mux_options;

/*
 * Start the mux thread (no connection is made yet). CW_INVALID_ARGUMENT
 * when the target names no usable host or socket path, CW_INTERNAL when a
 * thread or memory cannot be had. Free with cw_mux_destroy().
 */
int cw_mux_create(cw_mux **out, const cw_mux_options *o, cw_error *err);

/*
 * Stop the thread: requests still pending end with CW_UNAVAILABLE ("the
 * cache is shutting down") before it returns, and so does every request
 * submitted afterwards, at once. Call it from one thread only; again is a
 * no-op.
 */
void cw_mux_stop(cw_mux *m);

/*
 * cw_mux_stop, then close everything and free m. No submission may race
 * with it. NULL is a no-op.
 */
void cw_mux_destroy(cw_mux *m);

/*
 * A new, empty request whose callback will be done(arg, ...); NULL when out
 * of memory. timeout_ms > 0 sets its deadline from now; otherwise only
 * command_timeout_ms bounds it.
 */
cw_mux_req *cw_mux_req_new(int timeout_ms, cw_mux_done done, void *arg);

/* Start a command of argc arguments, then add exactly argc of them. */
void cw_mux_req_cmd(cw_mux_req *r, int argc);
void cw_mux_req_arg(cw_mux_req *r, const void *p, size_t len);
/* An argument that is always copied (for memory that will not outlive
 * the request, such as another reply's strings). */
void cw_mux_req_arg_copy(cw_mux_req *r, const void *p, size_t len);
/* One argument made of two pieces, e.g. a namespace prefix and a key. */
void cw_mux_req_arg2(
    cw_mux_req *r, const void *p1, size_t l1, const void *p2, size_t l2);
/* A decimal number argument. */
void cw_mux_req_arg_u64(cw_mux_req *r, uint64_t v);

/*
 * The Redis Cluster hash slot (slot.h) of the command last started, for
 * cluster.h to route it by; a mux ignores it. CW_SLOT_NONE: a command
 * without a key (PING, SCAN).
 */
#define CW_SLOT_NONE (-1)
void cw_mux_req_slot(cw_mux_req *r, int slot);
int cw_mux_req_ncmds(const cw_mux_req *r);
int cw_mux_req_cmd_slot(const cw_mux_req *r, int i);

/*
 * Hand r to the mux (which frees it after its callback). If building r ran
 * out of memory, or m is shutting down, the callback runs before this
 * returns with CW_INTERNAL / CW_UNAVAILABLE.
 */
void cw_mux_submit(cw_mux *m, cw_mux_req *r);

/*
 * Cork the calling thread (nestable): requests it submits to a corkable
 * mux wait for cw_mux_uncork instead of going out one by one, so the
 * requests of calls dispatched together (a batch) leave in one write per
 * connection and reach Redis in one read, not one ahead of the rest with
 * the others behind its reply. Corks at most 8 muxes at once; a ninth
 * writes as if uncorked. Uncork runs callbacks that became due.
 */
void cw_mux_cork(void);
void cw_mux_uncork(void);

/* Discard a request that was never submitted (its callback never runs). */
void cw_mux_req_free(cw_mux_req *r);

/*
 * Point m at another master (what Sentinel found): host:port replace the
 * target's; connections to the old one close, and the requests they had
 * sent go once more, to the new one. host NULL: no master is known; calls
 * fail at once with why until one is. Any thread, not under a callback.
 */
void cw_mux_retarget(
    cw_mux *m, const char *host, int port, const cw_error *why);

/* Where m sends its commands, as logs show it (never the password). */
void cw_mux_describe(cw_mux *m, char *buf, size_t len);

/* What the mux is doing, for metrics (cw_cache_stats says more). */
typedef struct cw_mux_stats {
	int connections_up; /* ready for commands */
	int pool_size;
	uint64_t pending; /* requests queued or awaiting replies */
	uint64_t errors;  /* connection attempts failed, connections broken */
	uint64_t reconnects;   /* connections made to replace broken ones */
	int master_known;      /* Sentinel mode: 1 a master is known, 0 none;
	                          -1 in other modes */
	uint64_t master_moves; /* Sentinel mode: times the master moved */
} cw_mux_stats;

void cw_mux_stats_get(cw_mux *m, cw_mux_stats *out);

/* Monotonic milliseconds, for deadlines. */
uint64_t cw_mono_ms(void);

#endif
