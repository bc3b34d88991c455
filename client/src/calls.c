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

/*
 * The stubs take per-method closure types; they pass the closure on to
 * invoke as a ProtobufCClosure, which is cw__call_done's real type. The
 * detour through void (*)(void) tells the compiler the cast is deliberate.
 */
#define CALL_CLOSURE(type) ((type)(void (*)(void))cw__call_done)

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
	req.key.data = (uint8_t *)key;
	req.key.len = key_len;
	cw__call_init(&call, timeout_ms, err);
	cachewire__v1__cache__get(cw_client_service(c), &req,
	    CALL_CLOSURE(Cachewire__V1__GetResponse_Closure), &call);
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
	Cachewire__V1__SetRequest req = CACHEWIRE__V1__SET_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if ((rc = check_client(c, err)) ||
	    (rc = check_bytes(key, key_len, "key", err)) ||
	    (rc = check_bytes(value, value_len, "value", err)))
		return rc;
	req.key.data = (uint8_t *)key;
	req.key.len = key_len;
	req.value.data = (uint8_t *)value;
	req.value.len = value_len;
	switch (expiry.kind) {
	case CW_EXPIRY_NONE:
		req.expiry_case = CACHEWIRE__V1__SET_REQUEST__EXPIRY__NOT_SET;
		break;
	case CW_EXPIRY_TTL:
		req.expiry_case = CACHEWIRE__V1__SET_REQUEST__EXPIRY_TTL_MS;
		req.ttl_ms = expiry.ms;
		break;
	case CW_EXPIRY_AT:
		req.expiry_case =
		    CACHEWIRE__V1__SET_REQUEST__EXPIRY_EXPIRE_AT_MS;
		req.expire_at_ms = expiry.ms;
		break;
	default:
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unknown expiry kind %d", (int)expiry.kind);
	}
	cw__call_init(&call, timeout_ms, err);
	cachewire__v1__cache__set(cw_client_service(c), &req,
	    CALL_CLOSURE(Cachewire__V1__SetResponse_Closure), &call);
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
	req.key.data = (uint8_t *)key;
	req.key.len = key_len;
	cw__call_init(&call, timeout_ms, err);
	cachewire__v1__cache__delete(cw_client_service(c), &req,
	    CALL_CLOSURE(Cachewire__V1__DeleteResponse_Closure), &call);
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
	cw__call_init(&call, timeout_ms, err);
	cachewire__v1__cache__clear(cw_client_service(c), &req,
	    CALL_CLOSURE(Cachewire__V1__ClearResponse_Closure), &call);
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
	cw__call_init(&call, timeout_ms, err);
	cachewire__v1__cache__ping(cw_client_service(c), &req,
	    CALL_CLOSURE(Cachewire__V1__PingResponse_Closure), &call);
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
