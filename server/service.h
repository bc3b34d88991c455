/*
 * service.h - cachewire.v1.Cache implemented over the cache core: one small
 * function per RPC, reached through the protoc-c service descriptor.
 */
#ifndef CW_SERVER_SERVICE_H
#define CW_SERVER_SERVICE_H

#include <protobuf-c/protobuf-c.h>

#include "cache.h"

/*
 * A service answering from cache (borrowed; must outlive it), the cache of
 * namespace default_ns. A call whose cw_call.ns names another namespace
 * (authentication allowed it) is served by a cw_cache_view() of cache for
 * that namespace, made on first use and kept until the service is
 * destroyed. Returns NULL when out of memory. Free with
 * protobuf_c_service_destroy().
 */
ProtobufCService *cw_service_new(cw_cache *cache, const char *default_ns);

/* The largest message the server takes (server.max_message_bytes), for
 * Ping's answer; at start and on SIGHUP. */
void cw_service_set_max_message_bytes(ProtobufCService *s, size_t n);

#endif
