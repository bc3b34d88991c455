/*
 * service.c - the Cache service's methods. Each unpacks nothing and packs
 * nothing (dispatch does that): it calls the core and hands the closure a
 * response, or records the core's error in the cw_call and answers NULL.
 */
#include <stdlib.h>

#include "cachewire/v1/cache.pb-c.h"

#include "dispatch.h"
#include "service.h"

typedef struct service {
	Cachewire__V1__Cache_Service base; /* first: cast to and from */
	cw_cache *cache;
} service;

static cw_cache *cache_of(Cachewire__V1__Cache_Service *s)
{
	return ((service *)s)->cache;
}

static void svc_get(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__GetRequest *in,
    Cachewire__V1__GetResponse_Closure done, void *data)
{
	cw_call *call = data;
	bool found;
	void *value;
	size_t len;
	if (cw_cache_get(cache_of(s), in->key.data, in->key.len, &found, &value,
	        &len, call->timeout_ms, &call->err) != CW_OK) {
		done(NULL, data);
		return;
	}
	Cachewire__V1__GetResponse out = CACHEWIRE__V1__GET_RESPONSE__INIT;
	out.found = found;
	out.value.data = value;
	out.value.len = len;
	done(&out, data);
	free(value);
}

static void svc_set(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__SetRequest *in,
    Cachewire__V1__SetResponse_Closure done, void *data)
{
	cw_call *call = data;
	cw_expiry e = CW_NO_EXPIRY;
	if (in->expiry_case == CACHEWIRE__V1__SET_REQUEST__EXPIRY_TTL_MS)
		e = CW_TTL_MS(in->ttl_ms);
	else if (in->expiry_case ==
	         CACHEWIRE__V1__SET_REQUEST__EXPIRY_EXPIRE_AT_MS)
		e = CW_EXPIRE_AT_MS(in->expire_at_ms);
	if (cw_cache_set(cache_of(s), in->key.data, in->key.len, in->value.data,
	        in->value.len, e, call->timeout_ms, &call->err) != CW_OK) {
		done(NULL, data);
		return;
	}
	Cachewire__V1__SetResponse out = CACHEWIRE__V1__SET_RESPONSE__INIT;
	done(&out, data);
}

static void svc_delete(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__DeleteRequest *in,
    Cachewire__V1__DeleteResponse_Closure done, void *data)
{
	cw_call *call = data;
	bool existed;
	if (cw_cache_delete(cache_of(s), in->key.data, in->key.len, &existed,
	        call->timeout_ms, &call->err) != CW_OK) {
		done(NULL, data);
		return;
	}
	Cachewire__V1__DeleteResponse out =
	    CACHEWIRE__V1__DELETE_RESPONSE__INIT;
	out.existed = existed;
	done(&out, data);
}

static void svc_clear(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__ClearRequest *in,
    Cachewire__V1__ClearResponse_Closure done, void *data)
{
	(void)in;
	cw_call *call = data;
	uint64_t removed;
	if (cw_cache_clear(
	        cache_of(s), &removed, call->timeout_ms, &call->err) != CW_OK) {
		done(NULL, data);
		return;
	}
	Cachewire__V1__ClearResponse out = CACHEWIRE__V1__CLEAR_RESPONSE__INIT;
	out.removed = removed;
	done(&out, data);
}

static void svc_ping(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__PingRequest *in,
    Cachewire__V1__PingResponse_Closure done, void *data)
{
	(void)in;
	cw_call *call = data;
	if (cw_cache_ping(cache_of(s), call->timeout_ms, &call->err) != CW_OK) {
		done(NULL, data);
		return;
	}
	Cachewire__V1__PingResponse out = CACHEWIRE__V1__PING_RESPONSE__INIT;
	out.version = CW_VERSION_STRING;
	done(&out, data);
}

static void svc_destroy(Cachewire__V1__Cache_Service *s)
{
	free(s);
}

ProtobufCService *cw_service_new(cw_cache *cache)
{
	service *svc = malloc(sizeof *svc);
	if (svc == NULL)
		return NULL;
	*svc = (service){
	    .base = CACHEWIRE__V1__CACHE__INIT(svc_),
	    .cache = cache,
	};
	svc->base.base.destroy = (void (*)(ProtobufCService *))svc_destroy;
	return &svc->base.base;
}
