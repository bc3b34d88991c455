/*
 * service.c - the Cache service's methods. Each unpacks nothing and packs
 * nothing (dispatch does that): its start_ function starts the core's
 * asynchronous call and, when that ends (usually on the core's I/O
 * thread), its respond_ function hands the closure a response; a core
 * error is recorded in the cw_call and answered NULL. METHOD() below
 * writes the rest, once for all.
 * The request message stays alive until the closure has run, so the core
 * may send keys and values from it without copying them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/cache.pb-c.h"

#include "dispatch.h"
#include "service.h"

/* The cache of one namespace other than the default (a tenant's). */
typedef struct view {
	char ns[CW_NAMESPACE_MAX + 1]; /* "" marks a free slot */
	cw_cache *cache;
} view;

typedef struct service {
	Cachewire__V1__Cache_Service base; /* first: cast to and from */
	cw_cache *cache;                   /* the default namespace's */
	char default_ns[CW_NAMESPACE_MAX + 1];
	/* Views made on first use, kept until the service is destroyed:
	 * only namespaces authentication allowed get here, so they are as
	 * many as the token files named. Open addressing, at most half
	 * full. */
	pthread_mutex_t mu;
	view *views;
	size_t cap, used;
	atomic_size_t max_message_bytes; /* for Ping's answer */
} service;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The slot for ns in v[0..cap): its view, or the free slot it would take. */
static view *slot(view *v, size_t cap, const char *ns)
{
	size_t i = (size_t)hash(ns) & (cap - 1);
	while (v[i].ns[0] != '\0' && strcmp(v[i].ns, ns) != 0)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static bool grow(service *svc)
{
	size_t cap = svc->cap ? 2 * svc->cap : 16;
	view *v = calloc(cap, sizeof *v);
	if (v == NULL)
		return false;
	for (size_t i = 0; i < svc->cap; i++)
		if (svc->views[i].ns[0] != '\0')
			*slot(v, cap, svc->views[i].ns) = svc->views[i];
	free(svc->views);
	svc->views = v;
	svc->cap = cap;
	return true;
}

/*
 * The cache the call's namespace (call->ns, as authentication resolved
 * it) lives in; NULL after answering the call with the reason.
 */
static cw_cache *cache_for(Cachewire__V1__Cache_Service *s, cw_call *call)
{
	service *svc = (service *)s;
	cw_cache *c = NULL;
	cw_error err = {.code = CW_INTERNAL};

	if (call->ns[0] == '\0' || strcmp(call->ns, svc->default_ns) == 0)
		return svc->cache;
	pthread_mutex_lock(&svc->mu);
	view *v = svc->cap > 0 ? slot(svc->views, svc->cap, call->ns) : NULL;
	if (v != NULL && v->ns[0] != '\0') {
		c = v->cache;
	} else if ((2 * (svc->used + 1) <= svc->cap || grow(svc)) &&
	           cw_cache_view(&c, svc->cache, call->ns, &err) == CW_OK) {
		v = slot(svc->views, svc->cap, call->ns);
		snprintf(v->ns, sizeof v->ns, "%s", call->ns);
		v->cache = c;
		svc->used++;
	} else if (err.code == CW_INTERNAL) {
		cw_error_set(&err, CW_INTERNAL, "out of memory");
	}
	pthread_mutex_unlock(&svc->mu);
	if (c == NULL) {
		cw_error_set(&call->err, err.code, "%s", err.message);
		call->closure(NULL, call);
	}
	return c;
}

static void answer(cw_call *call, const void *msg)
{
	call->closure((const ProtobufCMessage *)msg, call);
}

/* On failure, record it and answer NULL; true when r failed. */
static bool failed(cw_call *call, const cw_result *r)
{
	if (r->status == CW_OK)
		return false;
	cw_error_set(&call->err, r->status, "%s", r->message);
	answer(call, NULL);
	return true;
}

/* When an allocation failed (missing), answer so; returns missing. (A
 * bool, not the pointer: gcc then takes it for a read of the memory.) */
static bool out_of_memory(cw_call *call, bool missing)
{
	if (!missing)
		return false;
	cw_error_set(&call->err, CW_INTERNAL, "out of memory");
	answer(call, NULL);
	return true;
}

/*
 * METHOD(name, Request, Response) writes what every RPC does alike: svc_name,
 * which the generated CACHEWIRE__V1__CACHE__INIT(svc_) puts in the
 * service's method table (so an RPC without a METHOD line does not
 * compile), keeps the closure, finds the call's namespace's cache and calls
 * start_name(cache, request, call, ended_name); the core's callback
 * ended_name answers an error itself and hands a success to
 * respond_name(call, result). Each RPC is then those two functions.
 */
#define METHOD(name, Request, Response)                                        \
	static void ended_##name(void *data, const cw_result *r)               \
	{                                                                      \
		if (!failed(data, r))                                          \
			respond_##name(data, r);                               \
	}                                                                      \
	static void svc_##name(Cachewire__V1__Cache_Service *s,                \
	    const Cachewire__V1__##Request *in,                                \
	    Cachewire__V1__##Response##_Closure done, void *data)              \
	{                                                                      \
		cw_call *call = data;                                          \
		call->closure = (ProtobufCClosure)(void (*)(void))done;        \
		call->service = s;                                             \
		cw_cache *cache = cache_for(s, call);                          \
		if (cache != NULL)                                             \
			start_##name(cache, in, call, ended_##name);           \
	}

/* ---- Get, Set, Delete, Clear, Ping ---- */

static void start_get(cw_cache *c, const Cachewire__V1__GetRequest *in,
    cw_call *call, cw_callback ended)
{
	cw_cache_get_async(
	    c, in->key.data, in->key.len, call->timeout_ms, ended, call);
}

static void respond_get(cw_call *call, const cw_result *r)
{
	Cachewire__V1__GetResponse out = CACHEWIRE__V1__GET_RESPONSE__INIT;
	out.found = r->found;
	out.value.data = (uint8_t *)r->value;
	out.value.len = r->value_len;
	answer(call, &out);
}

static cw_expiry expiry_of(const Cachewire__V1__SetRequest *in)
{
	if (in->expiry_case == CACHEWIRE__V1__SET_REQUEST__EXPIRY_TTL_MS)
		return CW_TTL_MS(in->ttl_ms);
	if (in->expiry_case == CACHEWIRE__V1__SET_REQUEST__EXPIRY_EXPIRE_AT_MS)
		return CW_EXPIRE_AT_MS(in->expire_at_ms);
	return CW_NO_EXPIRY;
}

static void start_set(cw_cache *c, const Cachewire__V1__SetRequest *in,
    cw_call *call, cw_callback ended)
{
	cw_cache_set_async(c, in->key.data, in->key.len, in->value.data,
	    in->value.len, expiry_of(in), call->timeout_ms, ended, call);
}

static void respond_set(cw_call *call, const cw_result *r)
{
	Cachewire__V1__SetResponse out = CACHEWIRE__V1__SET_RESPONSE__INIT;
	(void)r;
	answer(call, &out);
}

static void start_delete(cw_cache *c, const Cachewire__V1__DeleteRequest *in,
    cw_call *call, cw_callback ended)
{
	cw_cache_delete_async(
	    c, in->key.data, in->key.len, call->timeout_ms, ended, call);
}

static void respond_delete(cw_call *call, const cw_result *r)
{
	Cachewire__V1__DeleteResponse out =
	    CACHEWIRE__V1__DELETE_RESPONSE__INIT;
	out.existed = r->existed;
	answer(call, &out);
}

static void start_clear(cw_cache *c, const Cachewire__V1__ClearRequest *in,
    cw_call *call, cw_callback ended)
{
	(void)in;
	cw_cache_clear_async(c, call->timeout_ms, ended, call);
}

static void respond_clear(cw_call *call, const cw_result *r)
{
	Cachewire__V1__ClearResponse out = CACHEWIRE__V1__CLEAR_RESPONSE__INIT;
	out.removed = r->removed;
	answer(call, &out);
}

static void start_ping(cw_cache *c, const Cachewire__V1__PingRequest *in,
    cw_call *call, cw_callback ended)
{
	(void)in;
	cw_cache_ping_async(c, call->timeout_ms, ended, call);
}

static void respond_ping(cw_call *call, const cw_result *r)
{
	Cachewire__V1__PingResponse out = CACHEWIRE__V1__PING_RESPONSE__INIT;
	(void)r;
	out.version = CW_VERSION_STRING;
	out.batches = true; /* the nng transport serves Request.calls */
	out.max_message_bytes =
	    atomic_load(&((service *)call->service)->max_message_bytes);
	answer(call, &out);
}

/* ---- GetMany, SetMany, DeleteMany ---- */

/* keys[i] of a request as the core's cw_key array (malloc'd; NULL: OOM). */
static cw_key *keys_of(size_t n, const ProtobufCBinaryData *keys)
{
	cw_key *k = malloc((n > 0 ? n : 1) * sizeof *k);

	for (size_t i = 0; k != NULL && i < n; i++)
		k[i] = (cw_key){keys[i].data, keys[i].len};
	return k;
}

static void start_get_many(cw_cache *c, const Cachewire__V1__GetManyRequest *in,
    cw_call *call, cw_callback ended)
{
	cw_key *keys = keys_of(in->n_keys, in->keys);

	if (out_of_memory(call, keys == NULL))
		return;
	cw_cache_get_many_async(
	    c, in->n_keys, keys, call->timeout_ms, ended, call);
	free(keys); /* read while the call was built, not after */
}

static void respond_get_many(cw_call *call, const cw_result *r)
{
	Cachewire__V1__GetManyResponse out =
	    CACHEWIRE__V1__GET_MANY_RESPONSE__INIT;
	size_t n = r->count;
	Cachewire__V1__GetResponse *items =
	    malloc((n > 0 ? n : 1) * sizeof *items);
	Cachewire__V1__GetResponse **ptrs =
	    malloc((n > 0 ? n : 1) * sizeof *ptrs);

	if (items == NULL || ptrs == NULL) {
		free(items);
		free(ptrs);
		out_of_memory(call, true);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		items[i] = (Cachewire__V1__GetResponse)
		    CACHEWIRE__V1__GET_RESPONSE__INIT;
		items[i].found = r->values[i].found;
		items[i].value.data = r->values[i].data;
		items[i].value.len = r->values[i].len;
		ptrs[i] = &items[i];
	}
	out.n_results = n;
	out.results = ptrs;
	answer(call, &out);
	free(items);
	free(ptrs);
}

static void start_set_many(cw_cache *c, const Cachewire__V1__SetManyRequest *in,
    cw_call *call, cw_callback ended)
{
	size_t n = in->n_entries;
	cw_entry *e = malloc((n > 0 ? n : 1) * sizeof *e);

	if (out_of_memory(call, e == NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		const Cachewire__V1__SetRequest *x = in->entries[i];
		e[i] = (cw_entry){x->key.data, x->key.len, x->value.data,
		    x->value.len, expiry_of(x)};
	}
	cw_cache_set_many_async(c, n, e, call->timeout_ms, ended, call);
	free(e);
}

static void respond_set_many(cw_call *call, const cw_result *r)
{
	Cachewire__V1__SetManyResponse out =
	    CACHEWIRE__V1__SET_MANY_RESPONSE__INIT;
	(void)r;
	answer(call, &out);
}

static void start_delete_many(cw_cache *c,
    const Cachewire__V1__DeleteManyRequest *in, cw_call *call,
    cw_callback ended)
{
	cw_key *keys = keys_of(in->n_keys, in->keys);

	if (out_of_memory(call, keys == NULL))
		return;
	cw_cache_delete_many_async(
	    c, in->n_keys, keys, call->timeout_ms, ended, call);
	free(keys);
}

static void respond_delete_many(cw_call *call, const cw_result *r)
{
	Cachewire__V1__DeleteManyResponse out =
	    CACHEWIRE__V1__DELETE_MANY_RESPONSE__INIT;
	/* protobuf_c_boolean is an int: widen the flags. */
	protobuf_c_boolean *flags =
	    malloc((r->count > 0 ? r->count : 1) * sizeof *flags);

	if (out_of_memory(call, flags == NULL))
		return;
	for (size_t i = 0; i < r->count; i++)
		flags[i] = r->existed_many[i];
	out.n_existed = r->count;
	out.existed = flags;
	answer(call, &out);
	free(flags);
}

/* ---- values in chunks ---- */

static void start_begin_upload(cw_cache *c,
    const Cachewire__V1__BeginUploadRequest *in, cw_call *call,
    cw_callback ended)
{
	cw_expiry e = CW_NO_EXPIRY;

	if (in->expiry_case ==
	    CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__EXPIRY_TTL_MS)
		e = CW_TTL_MS(in->ttl_ms);
	else if (in->expiry_case ==
	         CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__EXPIRY_EXPIRE_AT_MS)
		e = CW_EXPIRE_AT_MS(in->expire_at_ms);
	cw_cache_upload_begin_async(c, in->key.data, in->key.len, e,
	    in->size_case ==
	        CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__SIZE_TOTAL_SIZE,
	    in->total_size, call->timeout_ms, ended, call);
}

static void respond_begin_upload(cw_call *call, const cw_result *r)
{
	Cachewire__V1__BeginUploadResponse out =
	    CACHEWIRE__V1__BEGIN_UPLOAD_RESPONSE__INIT;
	out.upload_id = (char *)r->upload_id;
	out.chunk_bytes = r->chunk_bytes;
	out.upload_ttl_ms = r->upload_ttl_ms;
	out.max_bytes = r->max_bytes;
	answer(call, &out);
}

static void start_put_chunk(cw_cache *c,
    const Cachewire__V1__PutChunkRequest *in, cw_call *call, cw_callback ended)
{
	cw_cache_upload_put_async(c, in->upload_id, in->offset, in->data.data,
	    in->data.len, call->timeout_ms, ended, call);
}

static void respond_put_chunk(cw_call *call, const cw_result *r)
{
	Cachewire__V1__PutChunkResponse out =
	    CACHEWIRE__V1__PUT_CHUNK_RESPONSE__INIT;
	(void)r;
	answer(call, &out);
}

static void start_commit_upload(cw_cache *c,
    const Cachewire__V1__CommitUploadRequest *in, cw_call *call,
    cw_callback ended)
{
	cw_cache_upload_commit_async(
	    c, in->upload_id, in->total_size, call->timeout_ms, ended, call);
}

static void respond_commit_upload(cw_call *call, const cw_result *r)
{
	Cachewire__V1__CommitUploadResponse out =
	    CACHEWIRE__V1__COMMIT_UPLOAD_RESPONSE__INIT;
	out.version = r->version;
	answer(call, &out);
}

static void start_abort_upload(cw_cache *c,
    const Cachewire__V1__AbortUploadRequest *in, cw_call *call,
    cw_callback ended)
{
	cw_cache_upload_abort_async(
	    c, in->upload_id, call->timeout_ms, ended, call);
}

static void respond_abort_upload(cw_call *call, const cw_result *r)
{
	Cachewire__V1__AbortUploadResponse out =
	    CACHEWIRE__V1__ABORT_UPLOAD_RESPONSE__INIT;
	out.existed = r->existed;
	answer(call, &out);
}

static void start_get_range(cw_cache *c,
    const Cachewire__V1__GetRangeRequest *in, cw_call *call, cw_callback ended)
{
	cw_cache_get_range_async(c, in->key.data, in->key.len, in->offset,
	    in->length, in->version, call->timeout_ms, ended, call);
}

static void respond_get_range(cw_call *call, const cw_result *r)
{
	Cachewire__V1__GetRangeResponse out =
	    CACHEWIRE__V1__GET_RANGE_RESPONSE__INIT;
	out.found = r->found;
	out.total_size = r->total_size;
	out.version = r->version;
	out.data.data = (uint8_t *)r->value;
	out.data.len = r->value_len;
	answer(call, &out);
}

/* ---- the method list: one line per RPC of cachewire.v1.Cache ---- */

METHOD(get, GetRequest, GetResponse)
METHOD(set, SetRequest, SetResponse)
METHOD(delete, DeleteRequest, DeleteResponse)
METHOD(clear, ClearRequest, ClearResponse)
METHOD(ping, PingRequest, PingResponse)
METHOD(get_many, GetManyRequest, GetManyResponse)
METHOD(set_many, SetManyRequest, SetManyResponse)
METHOD(delete_many, DeleteManyRequest, DeleteManyResponse)
METHOD(begin_upload, BeginUploadRequest, BeginUploadResponse)
METHOD(put_chunk, PutChunkRequest, PutChunkResponse)
METHOD(commit_upload, CommitUploadRequest, CommitUploadResponse)
METHOD(abort_upload, AbortUploadRequest, AbortUploadResponse)
METHOD(get_range, GetRangeRequest, GetRangeResponse)

static void svc_destroy(Cachewire__V1__Cache_Service *s)
{
	service *svc = (service *)s;

	for (size_t i = 0; i < svc->cap; i++)
		if (svc->views[i].ns[0] != '\0')
			cw_cache_close(svc->views[i].cache);
	free(svc->views);
	pthread_mutex_destroy(&svc->mu);
	free(s);
}

ProtobufCService *cw_service_new(cw_cache *cache, const char *default_ns)
{
	service *svc = malloc(sizeof *svc);
	if (svc == NULL)
		return NULL;
	*svc = (service){
	    .base = CACHEWIRE__V1__CACHE__INIT(svc_),
	    .cache = cache,
	};
	snprintf(svc->default_ns, sizeof svc->default_ns, "%s", default_ns);
	atomic_init(&svc->max_message_bytes, 0);
	pthread_mutex_init(&svc->mu, NULL);
	svc->base.base.destroy = (void (*)(ProtobufCService *))svc_destroy;
	return &svc->base.base;
}

void cw_service_set_max_message_bytes(ProtobufCService *s, size_t n)
{
	atomic_store(&((service *)s)->max_message_bytes, n);
}
