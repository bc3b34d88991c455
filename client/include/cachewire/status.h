/*
 * cachewire/status.h - status codes, error details and expiry, shared by the
 * client library (libcachewire) and the server's cache core.
 *
 * Every cachewire call returns an int status: 0 (CW_OK) on success, one of
 * the CW_* codes below otherwise. The numbers are gRPC's status codes, the
 * same ones a remote caller sees in the wire envelope (proto/cachewire/v1/
 * rpc.proto). When a call is given a non-NULL cw_error, it also writes a
 * human-readable message there on failure. There is no global error state.
 */
#ifndef CACHEWIRE_STATUS_H
#define CACHEWIRE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cw_status {
	CW_OK = 0,
	CW_CANCELLED = 1,
	CW_UNKNOWN = 2,
	CW_INVALID_ARGUMENT = 3,  /* malformed request, empty/too long key */
	CW_DEADLINE_EXCEEDED = 4, /* the call's timeout passed */
	CW_NOT_FOUND = 5,
	CW_ALREADY_EXISTS = 6,
	CW_PERMISSION_DENIED = 7,
	CW_RESOURCE_EXHAUSTED = 8, /* value or message too large, overload */
	CW_FAILED_PRECONDITION = 9,
	CW_ABORTED = 10,
	CW_OUT_OF_RANGE = 11,
	CW_UNIMPLEMENTED = 12, /* unknown method */
	CW_INTERNAL = 13,      /* a bug or out of memory */
	CW_UNAVAILABLE = 14,   /* Redis or the server cannot be reached */
	CW_DATA_LOSS = 15,
	CW_UNAUTHENTICATED = 16,
};

/*
 * The name of a status code, e.g. "UNAVAILABLE" for CW_UNAVAILABLE; "UNKNOWN"
 * for a number that is not a status code. The string is static.
 */
const char *cw_strerror(int status);

/* Error details a call fills in when it fails. */
typedef struct cw_error {
	int code;          /* the status the call returned */
	char message[256]; /* NUL-terminated, human-readable */
} cw_error;

/*
 * Record code and a printf-style message in err (when err is not NULL) and
 * return code, so a failing path can `return cw_error_set(err, ...)`.
 */
int cw_error_set(cw_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* When a stored entry expires. */
enum cw_expiry_kind {
	CW_EXPIRY_NONE = 0, /* never expires */
	CW_EXPIRY_TTL = 1,  /* ms milliseconds from now; 0 = never */
	CW_EXPIRY_AT = 2, /* at Unix time ms (UTC); 0 = never; past = removed */
};

typedef struct cw_expiry {
	enum cw_expiry_kind kind;
	uint64_t ms;
} cw_expiry;

#define CW_NO_EXPIRY       ((cw_expiry){CW_EXPIRY_NONE, 0})
#define CW_TTL_MS(n)       ((cw_expiry){CW_EXPIRY_TTL, (n)})
#define CW_EXPIRE_AT_MS(t) ((cw_expiry){CW_EXPIRY_AT, (t)})

/* ---- items of the batch calls (the client's and the core's) ---- */

/* One key of a cw_get_many / cw_delete_many. */
typedef struct cw_key {
	const void *data;
	size_t len;
} cw_key;

/* One entry of a cw_set_many. */
typedef struct cw_entry {
	const void *key;
	size_t key_len;
	const void *value; /* may be NULL when value_len is 0 */
	size_t value_len;
	cw_expiry expiry;
} cw_entry;

/*
 * One result of a cw_get_many: found, and when found a malloc'd,
 * NUL-terminated (one byte past len) copy of the value in data (NULL on a
 * miss). Free data with cw_free() (or free() in server code), or all of a
 * batch's with cw_values_free().
 */
typedef struct cw_value {
	bool found;
	void *data;
	size_t len;
} cw_value;

/* Free the data of values[0..n) and set it to NULL; values may be NULL. */
void cw_values_free(cw_value *values, size_t n);

/*
 * The outcome of an asynchronous call (the client's cw_*_async, the core's
 * cw_cache_*_async), handed to its callback. Everything in it is borrowed:
 * valid until the callback returns.
 */
typedef struct cw_result {
	int status;          /* CW_OK, or the failure's status */
	const char *message; /* "" on CW_OK, else what went wrong */
	/* Get: found, and the value (borrowed: valid until the callback
	 * returns; copy what you keep). */
	bool found;
	const void *value;
	size_t value_len;
	bool existed;     /* Delete */
	uint64_t removed; /* Clear */
	/* GetMany: count results (borrowed like value); DeleteMany: count
	 * flags. */
	size_t count;
	const cw_value *values;
	const bool *existed_many;
	/* Values in chunks. BeginUpload: upload_id (NUL-terminated),
	 * chunk_bytes, upload_ttl_ms, max_bytes. CommitUpload: version.
	 * GetRange: found, total_size, version, and the range's bytes in
	 * value / value_len. */
	const char *upload_id;
	uint64_t chunk_bytes;
	uint64_t upload_ttl_ms;
	uint64_t max_bytes;
	uint64_t total_size;
	uint64_t version;
} cw_result;

typedef void (*cw_callback)(void *arg, const cw_result *result);

#ifdef __cplusplus
}
#endif
#endif
