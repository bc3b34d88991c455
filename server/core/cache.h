/*
 * cache.h - the cache core: cachewire's cache contract over Redis (hiredis).
 *
 * Knows Redis and cache semantics, nothing of nng or protobuf. Its calls
 * have the same shape as the client's (cachewire/cachewire.h) and pass the
 * same conformance suite.
 *
 * - Every key is stored in Redis as "<namespace>:<key>"; callers never see
 *   the prefix. Keys and values are binary-safe.
 * - Expiry: CW_EXPIRY_NONE or a 0 ms never expires; CW_EXPIRY_TTL is
 *   relative (PX); CW_EXPIRY_AT is absolute Unix ms (PXAT); an absolute
 *   time at or before now removes the key and succeeds.
 * - clear removes the namespace's keys only: SCAN MATCH + UNLINK in batches.
 * - Up to pool_size pipelined Redis connections, shared by all calls and
 *   driven by one I/O thread (mux.h): the commands of concurrent calls go
 *   to Redis back to back, not one round trip each. Connections are made
 *   on demand; while Redis is down calls fail at once with CW_UNAVAILABLE,
 *   and reconnection is retried with a short capped backoff (<= 0.5 s). A
 *   call whose connection broke is sent again once on a fresh one (all
 *   commands used are idempotent).
 *
 * Every call comes in two forms. cw_cache_X() blocks until done.
 * cw_cache_X_async() returns at once and later runs its callback exactly
 * once, on the I/O thread (or before returning, for a call rejected by
 * validation), with a cw_result (cachewire/status.h) whose contents are
 * borrowed until the callback returns. The callback must not block. The
 * keys and values an async call is given must stay valid until its
 * callback has run: large ones are sent from where they are, not copied.
 * All calls are thread-safe.
 *
 * Timeouts (the timeout_ms argument of every call):
 * - timeout_ms > 0 is the whole call's budget, connecting included; each
 *   Redis command is also bounded by command_timeout_ms. Past it:
 *   CW_DEADLINE_EXCEEDED.
 * - timeout_ms <= 0: each Redis command is bounded by command_timeout_ms
 *   (so a long clear is not cut short).
 * A connection on which Redis has answered nothing for command_timeout_ms
 * is closed and replaced.
 *
 * Errors (status, message):
 * - CW_INVALID_ARGUMENT: NULL cache, "key is empty", "key is NULL",
 *   "key is N bytes; the limit is M", "value is NULL" (with a length), bad
 *   expiry (see cw_expiry_plan);
 * - CW_RESOURCE_EXHAUSTED: "value is N bytes; the limit is M", or Redis
 *   "OOM ..." (maxmemory reached);
 * - CW_DEADLINE_EXCEEDED: "Redis did not answer within N ms",
 *   "call timed out after N ms";
 * - CW_UNAVAILABLE: "cannot connect to <target>: <reason>", "AUTH on
 *   <target> failed: <Redis' reply>", "SELECT on <target> failed: ...",
 *   "lost connection to <target>: <reason>" (after the one resend),
 *   "the cache is shutting down", and
 *   "redis: <text>" for transient Redis errors (LOADING, MASTERDOWN, BUSY,
 *   TRYAGAIN, CLUSTERDOWN, READONLY, NOREPLICAS, MISCONF, NOAUTH);
 *   <target> is cw_redis_target_describe()'s, never with the password;
 * - CW_INTERNAL: "redis: <text>" for any other Redis error reply (e.g.
 *   WRONGTYPE), an unexpected reply type, or out of memory.
 * Outputs are written only on CW_OK.
 */
#ifndef CW_CORE_CACHE_H
#define CW_CORE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

#include "cluster.h"   /* cw_cluster_stats */
#include "redis_url.h" /* cw_redis_target */

typedef struct cw_cache_options {
	cw_redis_target redis; /* borrowed: copied by cw_cache_open */
	const cw_redis_sentinel *sentinel;  /* NULL, or the master is found by
	                                       Sentinel (redis's host and port
	                                       are then not used); copied */
	const cw_redis_node *cluster_nodes; /* NULL, or Redis Cluster with
	                                       these seeds (cluster.h; redis's
	                                       credentials apply); copied */
	int cluster_nnodes;
	const char *namespace_; /* required: [A-Za-z0-9_.-]{1,64} */
	int pool_size;          /* connections; default 4 */
	int connect_timeout_ms; /* per connection attempt; default 1000 */
	int command_timeout_ms; /* per Redis command; default 5000 */
	size_t max_key_bytes;   /* default 4096 */
	size_t max_value_bytes; /* default 32 MiB */
	int clear_batch;        /* SCAN COUNT / UNLINK batch; default 512 */
	int max_batch_keys;     /* items per *_many call; default 1000 */
	/* values in chunks (cache_chunks.c) */
	size_t chunk_bytes;      /* default 1 MiB; 4 KiB..64 MiB */
	uint64_t upload_ttl_ms;  /* default 600000; 1000..86400000 */
	size_t max_upload_bytes; /* default 512 MiB; at most 4 GiB, and
	                            Redis's proto-max-bulk-len counts too */
} cw_cache_options;

typedef struct cw_cache cw_cache;

/*
 * Create a cache. Does not need Redis to be up: connections are made on
 * first use. Fails with CW_INVALID_ARGUMENT for bad options: a namespace
 * outside [A-Za-z0-9_.-]{1,64}; a target without exactly one of host and
 * unix_path, with a port outside 1..65535, a db outside 0..CW_REDIS_MAX_DB,
 * a socket path over 107 bytes or an empty password; a negative count or
 * timeout (0 means the default; at most 1024 connections, 1 hour, 100000
 * per clear batch or *_many call); limits over Redis' 512 MiB. Free with
 * cw_cache_close().
 */
int cw_cache_open(cw_cache **out, const cw_cache_options *opts, cw_error *err);

/*
 * A second cache over base's Redis connections, for another namespace
 * (one per tenant): same limits and pool, its own key prefix, so its keys
 * and base's never meet and its clear leaves base's keys alone. The
 * namespace is checked as cw_cache_open checks it. base must outlive the
 * view; cw_cache_close(view) frees the view only, and cw_cache_shutdown
 * on either stops both. Free with cw_cache_close().
 */
int cw_cache_view(
    cw_cache **out, cw_cache *base, const char *namespace_, cw_error *err);

/*
 * Change the limits of c (from cw_cache_open) and its views while calls
 * run: max_key_bytes, max_value_bytes, clear_batch and max_batch_keys of o,
 * checked as cw_cache_open checks them (0: the default); o's other fields
 * are ignored. Calls already started keep the limits they were checked
 * against. On error nothing changes.
 */
int cw_cache_set_limits(cw_cache *c, const cw_cache_options *o, cw_error *err);

/* What c's Redis connections are doing (shared with its views). */
typedef struct cw_cache_stats {
	int connections_up;    /* connected and ready now */
	int pool_size;         /* redis.pool_size */
	uint64_t pending;      /* Redis requests queued or awaiting replies */
	uint64_t errors;       /* connection attempts that failed, connections
	                          that broke or stalled */
	uint64_t reconnects;   /* connections made to replace ones that broke */
	int master_known;      /* redis.mode sentinel: 1 when Sentinel has
	                          named a master, 0 not yet; -1 other modes */
	uint64_t master_moves; /* sentinel: the master moved (failovers) */
} cw_cache_stats;

void cw_cache_get_stats(cw_cache *c, cw_cache_stats *out);

/*
 * On a Redis Cluster: its stats (true), and fn called for each master
 * with its connections' stats. False (fn not called) in other modes.
 */
bool cw_cache_cluster_stats(cw_cache *c, cw_cluster_stats *out,
    void (*fn)(void *arg, const char *addr, const cw_mux_stats *s), void *arg);

/*
 * End every call still waiting on Redis with CW_UNAVAILABLE ("the cache is
 * shutting down"), their callbacks run before this returns, and refuse the
 * same way every call made afterwards. Stored data is untouched, but a
 * Set or Delete so ended may or may not have reached Redis. For a server's
 * drain timeout; cw_cache_close() is still needed. NULL is a no-op.
 */
void cw_cache_shutdown(cw_cache *c);

/*
 * Calls the calling thread starts between these two (nestable) send their
 * Redis commands together: in one write per connection when release comes,
 * instead of the first at once and the rest behind its reply. For a
 * transport that starts many calls at once (a batch). Per thread, for any
 * cache; a Redis Cluster's commands go at once as before.
 */
void cw_cache_hold_writes(void);
void cw_cache_release_writes(void);

/*
 * Close all connections and free c; stored data is untouched. No call on c
 * may be running or start afterwards. NULL is a no-op.
 */
void cw_cache_close(cw_cache *c);

/*
 * Same contract as cw_get() in cachewire/cachewire.h: on CW_OK, *found,
 * and when found a malloc'd, NUL-terminated copy in *value (free()) and
 * its length in *value_len; on a miss *value is NULL and *value_len 0.
 * found, value and value_len may each be NULL when not wanted.
 * timeout_ms: see "Timeouts" above.
 */
int cw_cache_get(cw_cache *c, const void *key, size_t key_len, bool *found,
    void **value, size_t *value_len, int timeout_ms, cw_error *err);

/*
 * SET the key, replacing any value, with expiry (PX / PXAT); an absolute
 * expiry at or before now UNLINKs the key instead and succeeds. value may be
 * NULL when value_len is 0 (an empty value).
 */
int cw_cache_set(cw_cache *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_error *err);

/* UNLINK the key; *existed (may be NULL) tells whether it was there. */
int cw_cache_delete(cw_cache *c, const void *key, size_t key_len, bool *existed,
    int timeout_ms, cw_error *err);

/*
 * Remove every key of the namespace (SCAN MATCH "<namespace>:*" COUNT
 * clear_batch, then one UNLINK per batch); *removed (may be NULL) counts
 * them. Keys outside the namespace are never touched.
 */
int cw_cache_clear(
    cw_cache *c, uint64_t *removed, int timeout_ms, cw_error *err);

/*
 * PING Redis: CW_OK, or CW_UNAVAILABLE with the reason (any Redis error
 * reply counts), or CW_DEADLINE_EXCEEDED when it did not answer in time.
 */
int cw_cache_ping(cw_cache *c, int timeout_ms, cw_error *err);

/* Where c's commands go now, as logs show it (never the password). */
void cw_cache_describe(cw_cache *c, char *buf, size_t len);

/*
 * Batches: like the single-key calls, for n items, as one pipelined round
 * trip (GetMany is one MGET). The whole batch is checked first; the first
 * bad item fails the call (CW_INVALID_ARGUMENT "keys[i]: ...", or
 * CW_RESOURCE_EXHAUSTED "entries[i]: value is ...") and nothing runs, as
 * does n > max_batch_keys. n == 0 is CW_OK. get_many writes every
 * values[i] on CW_OK (free with cw_values_free); delete_many's existed may
 * be NULL.
 */
int cw_cache_get_many(cw_cache *c, size_t n, const cw_key *keys,
    cw_value *values, int timeout_ms, cw_error *err);
int cw_cache_set_many(cw_cache *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_error *err);
int cw_cache_delete_many(cw_cache *c, size_t n, const cw_key *keys,
    bool *existed, int timeout_ms, cw_error *err);

/* The asynchronous forms (see the top of this file). */
void cw_cache_get_async(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg);
void cw_cache_set_async(cw_cache *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_callback cb, void *arg);
void cw_cache_delete_async(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg);
void cw_cache_clear_async(
    cw_cache *c, int timeout_ms, cw_callback cb, void *arg);
void cw_cache_ping_async(
    cw_cache *c, int timeout_ms, cw_callback cb, void *arg);
void cw_cache_get_many_async(cw_cache *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg);
void cw_cache_set_many_async(cw_cache *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_callback cb, void *arg);
void cw_cache_delete_many_async(cw_cache *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg);

/*
 * ---- values in chunks (cache_chunks.c) ----
 *
 * A value uploaded in chunks is a Redis hash under its key: fields "v"
 * (its version, 16 hex digits), "n" (its size), "c" (the chunk size) and
 * "0", "1", ... (the chunks, each c bytes but the last). An upload builds
 * that hash under a temporary key "<namespace>:{<tag>}:upload:<version>",
 * where the tag puts it in the key's Cluster slot (cw_slot_tag), with
 * PEXPIRE upload_ttl_ms renewed by every chunk; commit is MULTI, RENAME
 * to the key, the expiry, EXEC. Get reads such a hash whole (when it is
 * at most max_value_bytes); Set, Delete and clear treat it as any key.
 *
 * begin: CW_OK with r->upload_id, chunk_bytes, upload_ttl_ms, max_bytes.
 * max_bytes is max_upload_bytes, or Redis's proto-max-bulk-len when
 * smaller (asked once, with CONFIG GET; 512 MiB when Redis will not say).
 * A known total_size over it is CW_RESOURCE_EXHAUSTED.
 * put: data (borrowed until the callback) at offset; CW_NOT_FOUND for an
 * upload that is not (or no longer) there, CW_INVALID_ARGUMENT for an
 * offset off the chunk grid or a chunk too long, CW_RESOURCE_EXHAUSTED
 * past the total.
 * commit: CW_OK with r->version; CW_FAILED_PRECONDITION "..." naming the
 * first missing or wrong bytes (the upload stays).
 * abort: r->existed.
 * get_range: r->found, total_size, version, value/value_len; length is
 * cut to chunk_bytes; a version other than want_version (when not 0) is
 * CW_FAILED_PRECONDITION.
 */
#define CW_UPLOAD_ID_MAX 32
void cw_cache_upload_begin_async(cw_cache *c, const void *key, size_t key_len,
    cw_expiry expiry, bool size_known, uint64_t total_size, int timeout_ms,
    cw_callback cb, void *arg);
void cw_cache_upload_put_async(cw_cache *c, const char *upload_id,
    uint64_t offset, const void *data, size_t len, int timeout_ms,
    cw_callback cb, void *arg);
void cw_cache_upload_commit_async(cw_cache *c, const char *upload_id,
    uint64_t total_size, int timeout_ms, cw_callback cb, void *arg);
void cw_cache_upload_abort_async(cw_cache *c, const char *upload_id,
    int timeout_ms, cw_callback cb, void *arg);
void cw_cache_get_range_async(cw_cache *c, const void *key, size_t key_len,
    uint64_t offset, uint64_t length, uint64_t want_version, int timeout_ms,
    cw_callback cb, void *arg);

/* ---- expiry arithmetic (pure; exposed for tests) ---- */

enum cw_expiry_action {
	CW_EXPIRY_KEEP,   /* SET without expiry */
	CW_EXPIRY_PX,     /* SET ... PX arg */
	CW_EXPIRY_PXAT,   /* SET ... PXAT arg */
	CW_EXPIRY_REMOVE, /* already expired: UNLINK instead of SET */
};

/*
 * Decide how to store an entry with expiry e when the time is now_ms (Unix
 * ms). On CW_OK *action and *arg_ms say what to send. Fails with
 * CW_INVALID_ARGUMENT for an unknown kind or a time too large for Redis
 * (beyond CW_EXPIRY_MAX_MS).
 */
#define CW_EXPIRY_MAX_MS ((uint64_t)1 << 52) /* ~142,000 years */
int cw_expiry_plan(cw_expiry e, uint64_t now_ms, enum cw_expiry_action *action,
    uint64_t *arg_ms, cw_error *err);

/* Wall-clock Unix time in milliseconds. */
uint64_t cw_now_ms(void);

#endif
