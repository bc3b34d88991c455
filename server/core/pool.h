/*
 * pool.h - a fixed pool of blocking hiredis connections (private to the
 * cache core; see cache.h for the contract it serves).
 *
 * A slot is taken with cw_pool_acquire(), used for one or more commands
 * with cw_pool_command() and given back with cw_pool_release(). Slots
 * connect lazily, on their first command (TCP or unix socket, then AUTH and
 * SELECT as the target says). A slot whose connection breaks or times out
 * is closed, so its next command connects afresh.
 */
#ifndef CW_CORE_POOL_H
#define CW_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis.h>

#include "cache.h"

typedef struct cw_pool cw_pool;
typedef struct cw_pool_slot cw_pool_slot;

/*
 * Create a pool of size slots (none connected yet) for a copy of target;
 * CW_INVALID_ARGUMENT when target names no usable host or socket path.
 * connect_timeout_ms bounds each connection attempt. Free with
 * cw_pool_destroy().
 */
int cw_pool_create(cw_pool **out, const cw_redis_target *target, int size,
    int connect_timeout_ms, cw_error *err);

/* Close every connection and free p. No slot may be in use. NULL is a no-op. */
void cw_pool_destroy(cw_pool *p);

/*
 * Take a free slot, waiting at most wait_ms (>= 1) for one: CW_OK, or
 * CW_DEADLINE_EXCEEDED "no free Redis connection within N ms".
 * Give it back with cw_pool_release().
 */
int cw_pool_acquire(cw_pool *p, int wait_ms, cw_pool_slot **out, cw_error *err);
void cw_pool_release(cw_pool *p, cw_pool_slot *s);

/*
 * Run one command (argv/argvlen, binary-safe) on slot s, connecting it
 * first when needed; timeout_ms (>= 1) bounds the connection attempt (with
 * the pool's connect timeout) and each socket read and write.
 *
 * On CW_OK, *reply is the reply (free with freeReplyObject); it may be a
 * REDIS_REPLY_ERROR, which the caller interprets. Otherwise:
 * - CW_UNAVAILABLE: Redis cannot be reached, refused the login, or the
 *   connection broke; *retryable is true when a connection that was up
 *   broke (or lost its login), so the command may be retried on a fresh one;
 * - CW_DEADLINE_EXCEEDED: timeout_ms passed (not retryable);
 * - CW_INTERNAL: out of memory.
 * After any failure the slot is disconnected.
 */
int cw_pool_command(cw_pool *p, cw_pool_slot *s, int argc, const char **argv,
    const size_t *argvlen, int timeout_ms, redisReply **reply, bool *retryable,
    cw_error *err);

/* Monotonic milliseconds, for deadlines. */
uint64_t cw_mono_ms(void);

#endif
