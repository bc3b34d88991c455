/*
 * dial.h - a blocking hiredis connection for the threads that ask Redis
 * about its topology (sentinel.c, cluster.c), never the mux's I/O thread.
 */
#ifndef CW_REDIS_DIAL_H
#define CW_REDIS_DIAL_H

#include <hiredis.h>

#include <cachewire/status.h>

/*
 * Connect to host:port and AUTH (user may be NULL; no AUTH when password
 * is NULL); connecting and every later command are bounded by timeout_ms.
 * NULL with CW_UNAVAILABLE in *err saying why. Free with redisFree().
 */
redisContext *cw__redis_dial(const char *host, int port, const char *user,
    const char *password, int timeout_ms, cw_error *err);

#endif
