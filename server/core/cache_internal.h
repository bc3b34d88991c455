/*
 * cache_internal.h - what the cache core's files share (cache.c: options,
 * keys, single-key calls and the replies of every call; cache_batch.c;
 * cache_clear.c). Private to server/core.
 */
#ifndef CW_CORE_CACHE_INTERNAL_H
#define CW_CORE_CACHE_INTERNAL_H

#include <stdatomic.h>

#include <hiredis.h>

#include "cache.h"
#include "cluster.h"
#include "mux.h"

#define NAMESPACE_MAX 64

/* The limits a cache and all its views share; cw_cache_set_limits may
 * change them while calls run, so they are read with LIMIT(). */
struct limits {
	_Atomic size_t max_key_bytes;
	_Atomic size_t max_value_bytes;
	atomic_int clear_batch;
	atomic_int max_batch_keys;
	_Atomic size_t chunk_bytes;
	_Atomic uint64_t upload_ttl_ms;
	_Atomic size_t max_upload_bytes;
	_Atomic uint64_t redis_bulk_max; /* proto-max-bulk-len; 0: not known */
};

#define LIMIT(c, name)                                                         \
	atomic_load_explicit(&(c)->lim->name, memory_order_relaxed)

struct cw_cache {
	cw_mux *mux;                /* standalone or Sentinel; or NULL and: */
	cw_cluster *cluster;        /* Redis Cluster */
	bool owns_mux;              /* false for a cw_cache_view() */
	char ns[NAMESPACE_MAX + 2]; /* "<namespace>:" */
	size_t ns_len;              /* including the ':' */
	char pattern[2 * NAMESPACE_MAX + 3]; /* SCAN MATCH "<namespace>:*" */
	struct limits *lim;                  /* &own, or the base's */
	struct limits own;
};

enum op_kind {
	OP_GET,
	OP_SET,
	OP_DELETE,
	OP_PING,
	OP_CLEAR,
	OP_GET_MANY,
	OP_SET_MANY,
	OP_DELETE_MANY,
};

/* One call in flight: whom to cw__tell, and what its replies mean. */
typedef struct op {
	cw_cache *c;
	enum op_kind kind;
	cw_callback cb;
	void *arg;
	size_t n; /* items of a batch */
	/* clear */
	int timeout_ms;
	uint64_t deadline;
	uint64_t removed;
	bool unlinking;  /* the step in flight is an UNLINK, not a SCAN */
	int unlinks;     /* its UNLINK commands (one per key on a cluster) */
	char cursor[24]; /* where the next SCAN starts */
	/* clear on a cluster: the masters, each SCANned in turn */
	char (*masters)[CW_NODE_ADDR_MAX];
	int nmasters, at;
	/* get: the key, for a value stored in chunks */
	const void *key;
	size_t key_len;
	/* get_many: its keys (a copy of the array; the bytes are the
	 * caller's), for values stored in chunks */
	cw_key *keys;
	/* set, set_many: was entry i already expired (UNLINK, not SET)? */
	bool removes[];
} op;

/* Get found key holding a hash: read it whole (cache_range.c). */
void cw__get_chunked(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg);
/* GetMany's replies (cache_batch.c): *values (malloc'd, borrowing the
 * replies) or *e; true when some keys hold values in chunks and a
 * follow-up (cw__get_many_chunked) now answers o's caller instead. */
bool cw__get_many_replies(
    op *o, redisReply **replies, cw_value **values, cw_error *e);
/* Read keys[i] whole for every values[i] not found (cache_range.c), then
 * answer cb with all n values (values is copied; keys' bytes must live
 * until cb). */
void cw__get_many_chunked(cw_cache *c, size_t n, const cw_key *keys,
    const cw_value *values, int timeout_ms, cw_callback cb, void *arg);
/* What is left of a call's timeout_ms by its deadline (0: none was
 * given; at least 1 once it passed, so the next step times out). */
int cw__left_ms(int timeout_ms, uint64_t deadline);

/* Tell cb the failure e. */
void cw__tell(cw_callback cb, void *arg, const cw_error *e);
/* A new op, or NULL when out of memory (n: items of a batch). */
op *cw__op_new(
    cw_cache *c, enum op_kind kind, size_t n, cw_callback cb, void *arg);
void cw__op_free(op *o);
/* A new op and its request; false (cb told) when out of memory. */
bool cw__op_start(cw_cache *c, enum op_kind kind, size_t n, int timeout_ms,
    cw_callback cb, void *arg, op **o_out, cw_mux_req **r_out);
/* The mux callback of every op's request. */
void cw__op_done(
    void *arg, int status, const cw_error *err, redisReply **replies);
/* Hand r to Redis: the mux, or the cluster (which routes by slot). */
void cw__submit(const cw_cache *c, cw_mux_req *r);
/* Key k as "<namespace>:<k>", one argument of r (and, on a cluster, the
 * slot of r's command). */
void cw__key_arg(cw_mux_req *r, const cw_cache *c, const void *k, size_t n);
int cw__check_key(
    const cw_cache *c, const void *key, size_t key_len, cw_error *err);
/* Check a SET's value and expiry; *action says what to send. */
int cw__check_entry(const cw_cache *c, const void *value, size_t value_len,
    cw_expiry expiry, uint64_t now, enum cw_expiry_action *action,
    uint64_t *arg_ms, cw_error *err);
/* SET key value [PX|PXAT ms], or UNLINK key when already expired. */
void cw__set_cmd(cw_mux_req *r, const cw_cache *c, const void *key,
    size_t key_len, const void *value, size_t value_len,
    enum cw_expiry_action action, uint64_t arg_ms);
/* The failure a reply that is not what cmd should answer stands for. */
int cw__reply_error(const redisReply *r, const char *cmd, cw_error *err);
/* Take the reply to a clear's last step (cache_clear.c); true when the
 * next step is on its way, false when the clear is over. */
bool cw__clear_next(op *o, redisReply **replies, cw_error *e);

#endif
