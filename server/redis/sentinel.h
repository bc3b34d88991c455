/*
 * sentinel.h - finding the master through Redis Sentinel, for a mux in
 * sentinel mode (private to server/redis/: mux.c starts and stops it).
 *
 * The master is asked of the sentinels in turn (SENTINEL
 * get-master-addr-by-name), first the one that answered last, and
 * confirmed on the master itself (ROLE says "master", logged in with the
 * mux target's credentials), so a sentinel with a stale view is not
 * believed. The answer goes to the mux (cw_mux_retarget).
 *
 * Once at start, before cw_sentinel_start returns (so the first calls
 * find the master), then on a thread of its own: again when a sentinel
 * publishes +switch-master for our master (the thread stays subscribed
 * on one sentinel), when the mux suspects the master moved (a connection
 * lost or refused, a -READONLY reply: cw_sentinel_suspect), at most every
 * SUSPECT_MIN_MS, and every RECHECK_MS in any case.
 *
 * While no sentinel names a master that confirms, the mux keeps the
 * master it had (a sentinel outage alone does not stop the service); with
 * none found yet, calls fail at once with CW_UNAVAILABLE and the reason.
 */
#ifndef CW_REDIS_SENTINEL_H
#define CW_REDIS_SENTINEL_H

#include "mux.h"

typedef struct cw_sentinel cw_sentinel;

/*
 * Look for the master once, tell m, and start the watching thread. s and
 * data (the target whose credentials reach the master) are copied.
 * CW_INTERNAL when no thread or memory; no master found is not an error.
 */
int cw_sentinel_start(cw_sentinel **out, const cw_redis_sentinel *s,
    const cw_redis_target *data, int connect_timeout_ms, cw_mux *m,
    cw_error *err);

/* The master may have moved: look again soon. Any thread, any lock held. */
void cw_sentinel_suspect(cw_sentinel *s);

/* Stop the thread (within about a connect timeout) and free s. */
void cw_sentinel_stop(cw_sentinel *s);

#endif
