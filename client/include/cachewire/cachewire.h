/*
 * cachewire/cachewire.h - the C client of the cachewire service.
 *
 * A cw_client holds one nng REQ socket dialed to a cachewired URL
 * (tcp://host:port, ipc:///path, tls+tcp://host:port, ...). The calls
 * below are synchronous round trips, except the *_async ones; all of them
 * are safe to call from many threads on the same client at once (each call
 * in flight uses its own nng context, so many share the one connection).
 * The client redials by itself when the server goes away and comes back;
 * meanwhile calls fail with CW_UNAVAILABLE or CW_DEADLINE_EXCEEDED.
 *
 * Return values: CW_OK (0) or a CW_* status from cachewire/status.h. On
 * failure the optional cw_error gets the code and a message (the server's
 * message when the server answered, a local one otherwise). Outputs are
 * written only on success.
 *
 * timeout_ms: how long a call may take; 0 (or less) means the client's
 * default (cw_client_options.timeout_ms). The timeout travels to the server
 * in the envelope, so the server stops working on a call nobody waits for.
 *
 * For callers who prefer protoc-c's generated stubs, cw_client_service()
 * returns a ProtobufCService on which cachewire__v1__cache__get() and
 * friends (cachewire/v1/cache.pb-c.h) work as generated.
 */
#ifndef CACHEWIRE_CACHEWIRE_H
#define CACHEWIRE_CACHEWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CW_VERSION "0.1.0"

/* The URL `cachewire` and the examples use when none is given. */
#define CW_DEFAULT_URL "tcp://127.0.0.1:7420"

typedef struct cw_client cw_client;

typedef struct cw_client_options {
	/* Default per-call timeout in ms; 0 means 5000. */
	int timeout_ms;
	/*
	 * Largest request the client will send, in bytes; 0 means the server's
	 * default limit (CW_DEFAULT_MAX_MESSAGE_BYTES). A larger request fails
	 * locally with CW_RESOURCE_EXHAUSTED instead of being dropped by the
	 * server's transport. Largest reply accepted likewise.
	 */
	size_t max_message_bytes;

	/*
	 * TLS, for tls+tcp:// URLs (also tls+tcp4://, tls+tcp6://) only:
	 * setting any of these with another URL fails cw_open with
	 * CW_INVALID_ARGUMENT. NULL or "" means unset. The files are read
	 * once, by cw_open; a file that cannot be read or parsed fails it
	 * with CW_INVALID_ARGUMENT naming the option and the file.
	 *
	 * tls_ca_file: PEM file of the CA certificate(s) the server's
	 * certificate must be signed by. Required with a tls+tcp:// URL
	 * (nng has no system trust store).
	 */
	const char *tls_ca_file;
	/*
	 * tls_cert_file, tls_key_file: the client's certificate and its
	 * private key (PEM; the key unencrypted), for servers that require
	 * client certificates (mutual TLS). Both or neither.
	 */
	const char *tls_cert_file;
	const char *tls_key_file;
	/*
	 * The name the server's certificate must carry; default: the URL's
	 * host. Note: nng's TLS (mbedTLS 2.x on Debian 12) matches DNS names
	 * (subjectAltName DNS entries, else the common name) only, never IP
	 * address entries: for a URL such as tls+tcp://127.0.0.1:7421, set a
	 * DNS name the certificate carries (e.g. "localhost").
	 *
	 * When TLS cannot be set up (untrusted certificate, wrong name, a
	 * client certificate missing or refused, ...), calls fail with
	 * CW_UNAVAILABLE and a message saying which, e.g. "cannot connect to
	 * tls+tcp://h:7421: TLS handshake failed: the server's certificate is
	 * not signed by a CA in tls_ca_file". The client learns it from test
	 * connections of its own, made in the background while it has no
	 * connection (at most one a second).
	 */
	const char *tls_server_name;

	/*
	 * Bearer token sent with every request, for servers that require
	 * authentication (else CW_UNAUTHENTICATED). Copied by cw_open and
	 * wiped from memory by cw_close; never part of an error message. At
	 * most 4096 bytes, no control characters (CW_INVALID_ARGUMENT).
	 */
	const char *token;
	/*
	 * The namespace every call works in: 1 to 64 characters from
	 * A-Z a-z 0-9 _ . - (else CW_INVALID_ARGUMENT). NULL or "": the
	 * server's default (the token's first namespace on a server with
	 * tokens, else its configured one). A namespace the server does not
	 * allow the caller is CW_PERMISSION_DENIED, call by call. Copied.
	 */
	const char *namespace_;

	/*
	 * Calls are coalesced by default: a call that finds the connection
	 * idle (no message in flight) goes at once, alone; calls started
	 * while a message is in flight wait for it to end and then go
	 * together, as one batch message (rpc.proto,
	 * Request.calls; up to 64 calls and the message size limit), which
	 * the server serves call by call and answers at once. Each call keeps
	 * its own deadline, status and result; none waits on a timer. Only
	 * with servers that take batches (PingResponse.batches, asked once
	 * when calls first overlap). true: every call is a message of its
	 * own, as before.
	 */
	bool no_coalescing;
} cw_client_options;

/* 32 MiB value + 1 MiB for key and envelope; matches cachewired's default. */
#define CW_DEFAULT_MAX_MESSAGE_BYTES ((size_t)33 * 1024 * 1024)

/*
 * Open a client for url. opts may be NULL for the defaults. The connection
 * is made in the background: opening succeeds even when the server is not
 * up yet (calls then fail with CW_UNAVAILABLE / CW_DEADLINE_EXCEEDED until
 * it is). Fails with CW_INVALID_ARGUMENT for a malformed or unsupported URL
 * or invalid options (see cw_client_options), e.g. a tls+tcp:// URL without
 * tls_ca_file. On success *out owns the client; free it with cw_close().
 *
 * Several replicas: url may list several URLs, comma-separated
 * ("tcp://a:7420,tcp://b:7420"; blanks around items are ignored; at most
 * 64), each opened as above with the same opts. Calls are spread over
 * them in turn, skipping replicas with no connection up (when none is
 * up, the next in turn is tried anyway; a blocking call on a client just
 * opened first waits for one to be up, at most half its timeout and 1 s).
 * Every call but Clear that fails
 * with CW_UNAVAILABLE (its replica went away, is stopping, or cannot be
 * reached) is sent once more, to another replica, with what is left of
 * its timeout; a call that fails so twice reports the second failure.
 * Clear is never resent: a second run would report fewer keys removed.
 * Calls in flight on a replica whose server dies are not moved: nng
 * keeps each for a reconnection of that replica, so they fail at their
 * timeout (UNAVAILABLE "no connection to ...") unless it comes back.
 */
int cw_open(cw_client **out, const char *url, const cw_client_options *opts,
    cw_error *err);

/*
 * Close the client and release its resources; stored data is untouched.
 * Waits for asynchronous calls still in flight (see below); no blocking
 * call on c may be running, and none may start afterwards. NULL is a
 * no-op. Known limit: after the server died with requests in flight,
 * nng 1.5.2 (Debian 12) may never finish closing the socket; cw_close()
 * then returns after 2 s and leaves the client's memory behind, and
 * later closes in the same process take 2 s each.
 */
void cw_close(cw_client *c);

/*
 * Look up key. On CW_OK, *found tells whether the key exists; when it does,
 * *value is a malloc'd copy of the value (free it with cw_free(); it is
 * NUL-terminated one byte past *value_len for convenience) and *value_len
 * its length. On a miss *value is NULL and *value_len 0.
 */
int cw_get(cw_client *c, const void *key, size_t key_len, bool *found,
    void **value, size_t *value_len, int timeout_ms, cw_error *err);

/* Store value under key, replacing any earlier value, with expiry. */
int cw_set(cw_client *c, const void *key, size_t key_len, const void *value,
    size_t value_len, cw_expiry expiry, int timeout_ms, cw_error *err);

/* Remove key; *existed (may be NULL) tells whether it was there. */
int cw_delete(cw_client *c, const void *key, size_t key_len, bool *existed,
    int timeout_ms, cw_error *err);

/* Remove every key of the server's namespace; *removed (may be NULL) counts
 * them. */
int cw_clear(cw_client *c, uint64_t *removed, int timeout_ms, cw_error *err);

/*
 * Check that the server and its Redis answer. *version (may be NULL) gets
 * the server's version string, malloc'd: free it with cw_free().
 */
int cw_ping(cw_client *c, char **version, int timeout_ms, cw_error *err);

/* ---- batches: one round trip for many keys ----
 *
 * Each does what its single-key call does, for n items, in one request to
 * the server and one pipelined round trip to Redis. The batch is checked
 * as a whole first: one bad item (or more items than the server's
 * cache.max_batch_keys) fails the call with CW_INVALID_ARGUMENT, naming the
 * item's index, and nothing runs. n == 0 is CW_OK (the blocking calls then
 * send nothing).
 */

/*
 * values[i] answers keys[i]. On CW_OK every values[i] is written (free the
 * data with cw_values_free(values, n)); on failure none is.
 */
int cw_get_many(cw_client *c, size_t n, const cw_key *keys, cw_value *values,
    int timeout_ms, cw_error *err);

/* Store every entry (not atomically: after a failure some may be stored). */
int cw_set_many(cw_client *c, size_t n, const cw_entry *entries, int timeout_ms,
    cw_error *err);

/* existed (may be NULL) gets n flags: existed[i] answers keys[i]. */
int cw_delete_many(cw_client *c, size_t n, const cw_key *keys, bool *existed,
    int timeout_ms, cw_error *err);

/* ---- asynchronous calls: many requests in flight from one thread ----
 *
 * Each *_async call sends its request and returns at once; the callback
 * runs exactly once, later, on one of nng's threads, with the outcome. The
 * call returns CW_OK when the callback will run, or a failure status (and
 * the callback never runs) when the request could not be sent at all, e.g.
 * CW_INVALID_ARGUMENT or CW_RESOURCE_EXHAUSTED for a request that is too
 * large. The request's buffers may be reused as soon as the call returns.
 *
 * Callbacks of one client may run concurrently on several threads. A
 * callback may start new async calls but must not block: no synchronous
 * cw_* call from a callback. cw_close() waits for the calls in flight to
 * end (each by its deadline), so their callbacks have run when it returns.
 */
/* cw_result and cw_callback are in cachewire/status.h. */

int cw_get_async(cw_client *c, const void *key, size_t key_len, int timeout_ms,
    cw_callback cb, void *arg);
int cw_set_async(cw_client *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_callback cb, void *arg);
int cw_delete_async(cw_client *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg);
int cw_get_many_async(cw_client *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg);
int cw_set_many_async(cw_client *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_callback cb, void *arg);
int cw_delete_many_async(cw_client *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg);

/* ---- large values: streamed in chunks, never whole in memory ----
 *
 * Values of up to the server's cache.max_upload_bytes (512 MiB by
 * default) travel in chunks of the server's cache.chunk_bytes (1 MiB by
 * default): the client holds one chunk, cachewired one chunk per call,
 * only Redis the whole value. A value so stored is an ordinary entry
 * (cw_get returns it whole up to the server's max_value_bytes, cw_delete
 * removes it, cw_set replaces it). cache.proto says what each RPC does.
 */

/* Reads up to len bytes into buf: *got = how many, 0 at the end. Returns
 * 0, or non-zero to stop the transfer. */
typedef int (*cw_read_fn)(void *arg, void *buf, size_t len, size_t *got);
/* Takes len bytes; returns 0, or non-zero to stop the transfer. */
typedef int (*cw_write_fn)(void *arg, const void *buf, size_t len);
/* Called after each chunk: done bytes of total (total 0: not known). */
typedef void (*cw_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct cw_stream_options {
	/* The value's size when known (set_from: then checked against the
	 * server's limit before any byte is sent); < 0: not known. */
	int64_t total_size;
	/* Per RPC (each chunk is one): 0 means the client's default. */
	int timeout_ms;
	cw_progress_fn progress; /* NULL: none */
	void *progress_arg;
} cw_stream_options;

/*
 * Store what read gives (until *got is 0) under key, in chunks, and make
 * it visible at once when it has all arrived: readers see the old value
 * or the whole new one. o may be NULL (size unknown, default timeout).
 * On any failure the upload is aborted and the old value stays; a failing
 * read is CW_ABORTED "the read callback failed". Too large for the server
 * is CW_RESOURCE_EXHAUSTED (before any byte is sent when the size is
 * known). *version (may be NULL) gets the new value's version.
 */
int cw_set_from(cw_client *c, const void *key, size_t key_len, cw_read_fn read,
    void *arg, cw_expiry expiry, const cw_stream_options *o, uint64_t *version,
    cw_error *err);
/* The same from a file descriptor (read to its end; a regular file's
 * size is taken as total_size when o does not give one). */
int cw_set_from_fd(cw_client *c, const void *key, size_t key_len, int fd,
    cw_expiry expiry, const cw_stream_options *o, uint64_t *version,
    cw_error *err);

/*
 * Hand the value under key to write, chunk by chunk, in order. *found
 * tells whether there was one (write is then not called). A value
 * replaced while being read fails with CW_FAILED_PRECONDITION ("the value
 * changed"), after write may have had its first part: start again. A
 * value written by cw_set (one message at most) is fetched whole with one
 * Get instead, since it has no version to check. A failing write is
 * CW_ABORTED "the write callback failed".
 */
int cw_get_to(cw_client *c, const void *key, size_t key_len, bool *found,
    cw_write_fn write, void *arg, const cw_stream_options *o, cw_error *err);
/* The same into a file descriptor (written fully; EINTR retried). */
int cw_get_to_fd(cw_client *c, const void *key, size_t key_len, bool *found,
    int fd, const cw_stream_options *o, cw_error *err);

/* The chunked RPCs one by one (what the calls above are made of). */
#define CW_UPLOAD_ID_SIZE 32
typedef struct cw_upload {
	char id[CW_UPLOAD_ID_SIZE]; /* the upload_id, NUL-terminated */
	uint64_t chunk_bytes;       /* every chunk but the last: this many */
	uint64_t ttl_ms;            /* idle this long, the upload is gone */
	uint64_t max_bytes;         /* the largest value it may make */
} cw_upload;

/* total_size < 0: not known. */
int cw_upload_begin(cw_client *c, const void *key, size_t key_len,
    cw_expiry expiry, int64_t total_size, cw_upload *out, int timeout_ms,
    cw_error *err);
int cw_upload_put(cw_client *c, const char *upload_id, uint64_t offset,
    const void *data, size_t len, int timeout_ms, cw_error *err);
int cw_upload_commit(cw_client *c, const char *upload_id, uint64_t total_size,
    uint64_t *version, int timeout_ms, cw_error *err);
int cw_upload_abort(cw_client *c, const char *upload_id, bool *existed,
    int timeout_ms, cw_error *err);

typedef struct cw_range {
	bool found;
	uint64_t total_size; /* the whole value's */
	uint64_t version;    /* 0: a value written by cw_set */
	void *data;          /* malloc'd (cw_free), NUL one past len */
	size_t len;
} cw_range;

/* Bytes [offset, offset + length) of the value (length is cut to the
 * server's chunk_bytes and at the value's end); version 0 or an earlier
 * read's (else CW_FAILED_PRECONDITION when the value changed). */
int cw_get_range(cw_client *c, const void *key, size_t key_len, uint64_t offset,
    uint64_t length, uint64_t version, cw_range *out, int timeout_ms,
    cw_error *err);

/* Free memory that a cw_* call returned. NULL is a no-op. */
void cw_free(void *p);

/*
 * The client as a ProtobufCService for protoc-c's generated stubs, e.g.
 *   cachewire__v1__cache__get(cw_client_service(c), &req, done, arg);
 * The closure runs before the stub returns, with the response, or with NULL
 * when the call failed (use the cw_* calls above to learn why). Calls use
 * the client's default timeout. The service belongs to c: do not destroy
 * it; it is valid until cw_close(c).
 */
struct ProtobufCService;
struct ProtobufCService *cw_client_service(cw_client *c);

#ifdef __cplusplus
}
#endif
#endif
