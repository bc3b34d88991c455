/*
 * calls.c - libcachewire's convenience API (cw_get, cw_set, ...), built on
 * the stubs protoc-c generates: each call fills in a request message and
 * runs cachewire__v1__cache__<method>() on the client's service with the
 * library's private closure (client_internal.h), which brings back the
 * status, the error details and the response.
 */
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/cache.pb-c.h"

#include "client_internal.h"

static int check_client(cw_client *c, cw_error *err)
{
	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "no client");
	return CW_OK;
}

static int check_bytes(
    const void *p, size_t len, const char *what, cw_error *err)
{
	if (p == NULL && len > 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "%s is NULL but its length is %zu", what, len);
	return CW_OK;
}

/* Fill req from e; CW_INVALID_ARGUMENT for an unknown expiry kind. */
static int set_request(Cachewire__V1__SetRequest *req, const void *key,
    size_t key_len, const void *value, size_t value_len, cw_expiry expiry,
    cw_error *err)
{
	*req = (Cachewire__V1__SetRequest)CACHEWIRE__V1__SET_REQUEST__INIT;
	req->key.data = (uint8_t *)key;
	req->key.len = key_len;
	req->value.data = (uint8_t *)value;
	req->value.len = value_len;
	switch (expiry.kind) {
	case CW_EXPIRY_NONE:
		req->expiry_case = CACHEWIRE__V1__SET_REQUEST__EXPIRY__NOT_SET;
		return CW_OK;
	case CW_EXPIRY_TTL:
		req->expiry_case = CACHEWIRE__V1__SET_REQUEST__EXPIRY_TTL_MS;
		req->ttl_ms = expiry.ms;
		return CW_OK;
	case CW_EXPIRY_AT:
		req->expiry_case =
		    CACHEWIRE__V1__SET_REQUEST__EXPIRY_EXPIRE_AT_MS;
		req->expire_at_ms = expiry.ms;
		return CW_OK;
	}
	return cw_error_set(err, CW_INVALID_ARGUMENT, "unknown expiry kind %d",
	    (int)expiry.kind);
}

int cw_get(cw_client *c, const void *key, size_t key_len, bool *found,
    void **value, size_t *value_len, int timeout_ms, cw_error *err)
{
	Cachewire__V1__GetRequest req = CACHEWIRE__V1__GET_REQUEST__INIT;
	Cachewire__V1__GetResponse *resp;
	struct cw_call call;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = check_client(c, err)) ||
	    (rc = check_bytes(key, key_len, "key", err)))
		return rc;
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	RUN(c, get, GetResponse, &req, &call, timeout_ms, err);
	if (call.status != CW_OK)
		return call.status;

	resp = (Cachewire__V1__GetResponse *)call.response;
	len = resp->found ? resp->value.len : 0;
	if (resp->found && value != NULL) {
		/*
		 * Take the unpacked bytes over instead of copying them: the
		 * response allocator left a spare byte for the NUL. protobuf-c
		 * leaves data NULL for an empty value.
		 */
		data = resp->value.data;
		resp->value.data = NULL;
		if (data == NULL && (data = malloc(1)) == NULL) {
			cw__call_release(&call);
			return cw_error_set(err, CW_INTERNAL, "out of memory");
		}
		data[len] = '\0';
	}
	if (found != NULL)
		*found = resp->found;
	if (value != NULL)
		*value = data;
	if (value_len != NULL)
		*value_len = len;
	cw__call_release(&call);
	return CW_OK;
}

int cw_set(cw_client *c, const void *key, size_t key_len, const void *value,
    size_t value_len, cw_expiry expiry, int timeout_ms, cw_error *err)
{
	Cachewire__V1__SetRequest req;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)) ||
	    (rc = check_bytes(key, key_len, "key", err)) ||
	    (rc = check_bytes(value, value_len, "value", err)) ||
	    (rc = set_request(
	         &req, key, key_len, value, value_len, expiry, err)))
		return rc;
	RUN(c, set, SetResponse, &req, &call, timeout_ms, err);
	cw__call_release(&call);
	return call.status;
}

int cw_delete(cw_client *c, const void *key, size_t key_len, bool *existed,
    int timeout_ms, cw_error *err)
{
	Cachewire__V1__DeleteRequest req = CACHEWIRE__V1__DELETE_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)) ||
	    (rc = check_bytes(key, key_len, "key", err)))
		return rc;
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	RUN(c, delete, DeleteResponse, &req, &call, timeout_ms, err);
	if (call.status == CW_OK && existed != NULL)
		*existed =
		    ((Cachewire__V1__DeleteResponse *)call.response)->existed;
	cw__call_release(&call);
	return call.status;
}

int cw_clear(cw_client *c, uint64_t *removed, int timeout_ms, cw_error *err)
{
	Cachewire__V1__ClearRequest req = CACHEWIRE__V1__CLEAR_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)))
		return rc;
	RUN(c, clear, ClearResponse, &req, &call, timeout_ms, err);
	if (call.status == CW_OK && removed != NULL)
		*removed =
		    ((Cachewire__V1__ClearResponse *)call.response)->removed;
	cw__call_release(&call);
	return call.status;
}

int cw_ping(cw_client *c, char **version, int timeout_ms, cw_error *err)
{
	Cachewire__V1__PingRequest req = CACHEWIRE__V1__PING_REQUEST__INIT;
	struct cw_call call;
	const char *v;
	char *copy = NULL;
	int rc;

	if ((rc = check_client(c, err)))
		return rc;
	RUN(c, ping, PingResponse, &req, &call, timeout_ms, err);
	if (call.status != CW_OK)
		return call.status;
	if (version != NULL) {
		v = ((Cachewire__V1__PingResponse *)call.response)->version;
		if ((copy = strdup(v != NULL ? v : "")) == NULL) {
			cw__call_release(&call);
			return cw_error_set(err, CW_INTERNAL, "out of memory");
		}
		*version = copy;
	}
	cw__call_release(&call);
	return CW_OK;
}

/* ---- batches ----------------------------------------------------------- */

/* n keys as a request's repeated bytes, in *out (malloc'd: free()). */
static int keys_field(
    size_t n, const cw_key *keys, ProtobufCBinaryData **out, cw_error *err)
{
	ProtobufCBinaryData *b;

	if (n > 0 && keys == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "keys is NULL");
	for (size_t i = 0; i < n; i++)
		if (keys[i].data == NULL && keys[i].len > 0)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "keys[%zu] is NULL but its length is %zu", i,
			    keys[i].len);
	if ((b = malloc((n > 0 ? n : 1) * sizeof *b)) == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++)
		b[i] =
		    (ProtobufCBinaryData){keys[i].len, (uint8_t *)keys[i].data};
	*out = b;
	return CW_OK;
}

/* A SetManyRequest's entries (two malloc'd arrays; free with free()). */
static int entries_field(size_t n, const cw_entry *entries,
    Cachewire__V1__SetRequest **items, Cachewire__V1__SetRequest ***ptrs,
    cw_error *err)
{
	int rc = CW_OK;

	if (n > 0 && entries == NULL)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "entries is NULL");
	*items = malloc((n > 0 ? n : 1) * sizeof **items);
	*ptrs = malloc((n > 0 ? n : 1) * sizeof **ptrs);
	if (*items == NULL || *ptrs == NULL)
		rc = cw_error_set(err, CW_INTERNAL, "out of memory");
	for (size_t i = 0; rc == CW_OK && i < n; i++) {
		const cw_entry *e = &entries[i];
		cw_error why;
		if ((rc = check_bytes(e->key, e->key_len, "key", &why)) ||
		    (rc = check_bytes(e->value, e->value_len, "value", &why)) ||
		    (rc = set_request(&(*items)[i], e->key, e->key_len,
		         e->value, e->value_len, e->expiry, &why)))
			cw_error_set(
			    err, rc, "entries[%zu]: %s", i, why.message);
		(*ptrs)[i] = &(*items)[i];
	}
	if (rc != CW_OK) {
		free(*items);
		free(*ptrs);
	}
	return rc;
}

int cw_get_many(cw_client *c, size_t n, const cw_key *keys, cw_value *values,
    int timeout_ms, cw_error *err)
{
	Cachewire__V1__GetManyRequest req =
	    CACHEWIRE__V1__GET_MANY_REQUEST__INIT;
	Cachewire__V1__GetManyResponse *resp;
	struct cw_call call;
	size_t i;
	int rc;

	if ((rc = check_client(c, err)))
		return rc;
	if (n > 0 && values == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "values is NULL");
	if ((rc = keys_field(n, keys, &req.keys, err)))
		return rc;
	req.n_keys = n;
	if (n == 0) {
		free(req.keys);
		return CW_OK;
	}
	RUN(c, get_many, GetManyResponse, &req, &call, timeout_ms, err);
	free(req.keys);
	if (call.status != CW_OK)
		return call.status;
	resp = (Cachewire__V1__GetManyResponse *)call.response;
	if (resp->n_results != n) {
		cw__call_release(&call);
		return cw_error_set(err, CW_INTERNAL,
		    "the server answered %zu results for %zu keys",
		    resp->n_results, n);
	}
	for (i = 0; i < n; i++) {
		Cachewire__V1__GetResponse *r = resp->results[i];
		uint8_t *data = NULL;
		if (r->found) {
			/* Take the bytes over (see cw_get). */
			data = r->value.data;
			r->value.data = NULL;
			if (data == NULL && (data = malloc(1)) == NULL) {
				cw_values_free(values, i);
				cw__call_release(&call);
				return cw_error_set(
				    err, CW_INTERNAL, "out of memory");
			}
			data[r->value.len] = '\0';
		}
		values[i] = (cw_value){
		    r->found != 0, data, r->found ? r->value.len : 0};
	}
	cw__call_release(&call);
	return CW_OK;
}

int cw_set_many(cw_client *c, size_t n, const cw_entry *entries, int timeout_ms,
    cw_error *err)
{
	Cachewire__V1__SetManyRequest req =
	    CACHEWIRE__V1__SET_MANY_REQUEST__INIT;
	Cachewire__V1__SetRequest *items, **ptrs;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)) ||
	    (rc = entries_field(n, entries, &items, &ptrs, err)))
		return rc;
	if (n == 0) {
		free(items);
		free(ptrs);
		return CW_OK;
	}
	req.n_entries = n;
	req.entries = ptrs;
	RUN(c, set_many, SetManyResponse, &req, &call, timeout_ms, err);
	free(items);
	free(ptrs);
	cw__call_release(&call);
	return call.status;
}

int cw_delete_many(cw_client *c, size_t n, const cw_key *keys, bool *existed,
    int timeout_ms, cw_error *err)
{
	Cachewire__V1__DeleteManyRequest req =
	    CACHEWIRE__V1__DELETE_MANY_REQUEST__INIT;
	Cachewire__V1__DeleteManyResponse *resp;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)))
		return rc;
	if ((rc = keys_field(n, keys, &req.keys, err)))
		return rc;
	req.n_keys = n;
	if (n == 0) {
		free(req.keys);
		return CW_OK;
	}
	RUN(c, delete_many, DeleteManyResponse, &req, &call, timeout_ms, err);
	free(req.keys);
	if (call.status != CW_OK)
		return call.status;
	resp = (Cachewire__V1__DeleteManyResponse *)call.response;
	if (resp->n_existed != n) {
		cw__call_release(&call);
		return cw_error_set(err, CW_INTERNAL,
		    "the server answered %zu flags for %zu keys",
		    resp->n_existed, n);
	}
	for (size_t i = 0; existed != NULL && i < n; i++)
		existed[i] = resp->existed[i] != 0;
	cw__call_release(&call);
	return CW_OK;
}

/* ---- asynchronous calls -------------------------------------------------- */

/*
 * What an async call's response means as a cw_result (the responses of
 * Set, SetMany and Ping say nothing beyond success: NULL). May point r at
 * the response's bytes; returns what to free() after the callback, and
 * sets r->status to CW_INTERNAL when out of memory.
 */
typedef void *(*result_of_fn)(const ProtobufCMessage *msg, cw_result *r);

static void *get_result(const ProtobufCMessage *msg, cw_result *r)
{
	const Cachewire__V1__GetResponse *g = (const void *)msg;
	r->found = g->found;
	r->value = g->found && g->value.data != NULL ? g->value.data
	                                             : (const void *)"";
	r->value_len = g->found ? g->value.len : 0;
	return NULL;
}

static void *delete_result(const ProtobufCMessage *msg, cw_result *r)
{
	r->existed = ((const Cachewire__V1__DeleteResponse *)msg)->existed;
	return NULL;
}

static void *get_many_result(const ProtobufCMessage *msg, cw_result *r)
{
	const Cachewire__V1__GetManyResponse *g = (const void *)msg;
	cw_value *values =
	    malloc((g->n_results > 0 ? g->n_results : 1) * sizeof *values);

	if (values == NULL) {
		r->status = CW_INTERNAL;
		return NULL;
	}
	for (size_t i = 0; i < g->n_results; i++) {
		const Cachewire__V1__GetResponse *x = g->results[i];
		values[i] =
		    (cw_value){x->found != 0, x->found ? x->value.data : NULL,
		        x->found ? x->value.len : 0};
	}
	r->count = g->n_results;
	r->values = values;
	return values;
}

static void *delete_many_result(const ProtobufCMessage *msg, cw_result *r)
{
	const Cachewire__V1__DeleteManyResponse *d = (const void *)msg;
	bool *flags =
	    malloc((d->n_existed > 0 ? d->n_existed : 1) * sizeof *flags);

	if (flags == NULL) {
		r->status = CW_INTERNAL;
		return NULL;
	}
	for (size_t i = 0; i < d->n_existed; i++)
		flags[i] = d->existed[i] != 0;
	r->count = d->n_existed;
	r->existed_many = flags;
	return flags;
}

void cw__call_async_done(const ProtobufCMessage *msg, void *closure_data)
{
	struct cw_call *call = closure_data;
	cw_result r = {.status = call->status, .message = ""};
	void *scratch = NULL;

	if (call->status != CW_OK || msg == NULL) {
		r.status = call->status != CW_OK ? call->status : CW_INTERNAL;
		r.message = call->async_err.message;
	} else if (call->result_of != NULL) {
		scratch = call->result_of(msg, &r);
		if (r.status != CW_OK)
			r = (cw_result){
			    .status = CW_INTERNAL, .message = "out of memory"};
	}
	call->cb(call->cb_arg, &r);
	free(scratch);
	if (msg != NULL)
		protobuf_c_message_free_unpacked(
		    (ProtobufCMessage *)msg, &cw__response_allocator);
	free(call);
}

/*
 * ASYNC(rc, c, method, Response, req, timeout_ms, cb, arg, result_of): what
 * every cw_*_async does once its request is built: a heap call, the
 * generated stub cachewire__v1__cache__<method>() with it, and in rc CW_OK
 * when the callback will run (the call is then no longer ours) or why
 * not (and the call is freed).
 */
#define ASYNC(rc, c, method, Response, req, timeout_ms, cb, arg, result_of)    \
	do {                                                                   \
		int start_rc_ = CW_INTERNAL;                                   \
		struct cw_call *call_ = async_call(                            \
		    c, timeout_ms, cb, arg, result_of, &start_rc_, &(rc));     \
		if (call_ == NULL)                                             \
			break;                                                 \
		cachewire__v1__cache__##method(cw_client_service(c), req,      \
		    (Cachewire__V1__##Response##_Closure)(                     \
		        void (*)(void))cw__call_async_done,                    \
		    call_);                                                    \
		(rc) = start_rc_;                                              \
		if ((rc) != CW_OK)                                             \
			free(call_);                                           \
	} while (0)

/*
 * A heap call for an async stub: its callback, its result_of, and where
 * invoke reports whether it started (*start_rc, on the caller's stack).
 * NULL with *rc.
 */
static struct cw_call *async_call(cw_client *c, int timeout_ms, cw_callback cb,
    void *arg, result_of_fn result_of, int *start_rc, int *rc)
{
	struct cw_call *call;

	*rc = CW_OK;
	if (c == NULL || cb == NULL) {
		*rc = CW_INVALID_ARGUMENT;
		return NULL;
	}
	if ((call = malloc(sizeof *call)) == NULL) {
		*rc = CW_INTERNAL;
		return NULL;
	}
	cw__call_init(call, timeout_ms, &call->async_err);
	call->cb = cb;
	call->cb_arg = arg;
	call->result_of = result_of;
	call->start_rc = start_rc;
	return call;
}

int cw_get_async(cw_client *c, const void *key, size_t key_len, int timeout_ms,
    cw_callback cb, void *arg)
{
	Cachewire__V1__GetRequest req = CACHEWIRE__V1__GET_REQUEST__INIT;
	int rc;

	if (check_bytes(key, key_len, "key", NULL) != CW_OK)
		return CW_INVALID_ARGUMENT;
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	ASYNC(rc, c, get, GetResponse, &req, timeout_ms, cb, arg, get_result);
	return rc;
}

int cw_set_async(cw_client *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_callback cb, void *arg)
{
	Cachewire__V1__SetRequest req;
	int rc;

	if (check_bytes(key, key_len, "key", NULL) != CW_OK ||
	    check_bytes(value, value_len, "value", NULL) != CW_OK)
		return CW_INVALID_ARGUMENT;
	if ((rc = set_request(
	         &req, key, key_len, value, value_len, expiry, NULL)) != CW_OK)
		return rc;
	ASYNC(rc, c, set, SetResponse, &req, timeout_ms, cb, arg, NULL);
	return rc;
}

int cw_delete_async(cw_client *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg)
{
	Cachewire__V1__DeleteRequest req = CACHEWIRE__V1__DELETE_REQUEST__INIT;
	int rc;

	if (check_bytes(key, key_len, "key", NULL) != CW_OK)
		return CW_INVALID_ARGUMENT;
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	ASYNC(rc, c, delete, DeleteResponse, &req, timeout_ms, cb, arg,
	    delete_result);
	return rc;
}

int cw_get_many_async(cw_client *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg)
{
	Cachewire__V1__GetManyRequest req =
	    CACHEWIRE__V1__GET_MANY_REQUEST__INIT;
	int rc;

	if ((rc = keys_field(n, keys, &req.keys, NULL)))
		return rc;
	req.n_keys = n;
	ASYNC(rc, c, get_many, GetManyResponse, &req, timeout_ms, cb, arg,
	    get_many_result);
	free(req.keys);
	return rc;
}

int cw_set_many_async(cw_client *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_callback cb, void *arg)
{
	Cachewire__V1__SetManyRequest req =
	    CACHEWIRE__V1__SET_MANY_REQUEST__INIT;
	Cachewire__V1__SetRequest *items, **ptrs;
	int rc;

	if ((rc = entries_field(n, entries, &items, &ptrs, NULL)) != CW_OK)
		return rc;
	req.n_entries = n;
	req.entries = ptrs;
	ASYNC(
	    rc, c, set_many, SetManyResponse, &req, timeout_ms, cb, arg, NULL);
	free(items);
	free(ptrs);
	return rc;
}

int cw_delete_many_async(cw_client *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg)
{
	Cachewire__V1__DeleteManyRequest req =
	    CACHEWIRE__V1__DELETE_MANY_REQUEST__INIT;
	int rc;

	if ((rc = keys_field(n, keys, &req.keys, NULL)))
		return rc;
	req.n_keys = n;
	ASYNC(rc, c, delete_many, DeleteManyResponse, &req, timeout_ms, cb, arg,
	    delete_many_result);
	free(req.keys);
	return rc;
}
