/*
 * health.h - is Redis answering? A thread PINGs it through the cache core
 * every second (each PING bounded by redis.command_timeout_ms, queued
 * behind real traffic like any command), keeps the answer for /readyz and
 * the metrics, and logs each change once:
 *   WARN redis at redis://10.0.0.1:6379/0 does not answer: <why>
 *   WARN redis at ... still does not answer: <new reason>
 *   INFO redis at ... answers now
 */
#ifndef CW_SERVER_HEALTH_H
#define CW_SERVER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "cache.h"

#define CW_HEALTH_INTERVAL_MS 1000

typedef struct cw_health cw_health;

/*
 * Start watching cache (which must outlive the watcher) at where (its URL
 * without password, for messages), from the state the caller saw: up, or
 * down for the reason why_down. NULL when no thread can be had (logged).
 */
cw_health *cw_health_start(cw_cache *cache, const char *where, int timeout_ms,
    bool up, const char *why_down);

/* Did the last PING succeed? If not and why is given, the reason:
 * "redis at URL does not answer: ...". NULL: not watching, so false. */
bool cw_health_redis_up(cw_health *h, char *why, size_t len);

/* Stop and free (waits for a PING under way). NULL is a no-op. */
void cw_health_stop(cw_health *h);

#endif
