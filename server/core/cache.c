/*
 * cache.c - the cache contract over Redis (see cache.h): options, keys,
 * the single-key calls, and what the replies of every call mean.
 *
 * Each call validates its arguments before touching Redis, then builds
 * one mux request (mux.h) whose callback, cw__op_done(), turns Redis'
 * replies into the caller's cw_result. Redis keys are "<namespace>:<key>",
 * sent as two pieces with explicit lengths (binary-safe, no copy of a
 * large key). Batches are in cache_batch.c, clear in cache_clear.c, the
 * blocking forms in cache_wait.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_internal.h"
#include "mux.h"
#include "slot.h"

#define DEFAULT_POOL_SIZE          4
#define MAX_POOL_SIZE              1024
#define DEFAULT_CONNECT_TIMEOUT_MS 1000
#define DEFAULT_COMMAND_TIMEOUT_MS 5000
#define DEFAULT_MAX_KEY_BYTES      ((size_t)4096)
#define DEFAULT_MAX_VALUE_BYTES    ((size_t)32 * 1024 * 1024)
#define REDIS_MAX_BULK             ((size_t)512 * 1024 * 1024) /* proto-max-bulk-len */
#define DEFAULT_CLEAR_BATCH        512
#define MAX_CLEAR_BATCH            100000
#define DEFAULT_MAX_BATCH_KEYS     1000
#define DEFAULT_CHUNK_BYTES        ((size_t)1024 * 1024)
#define MIN_CHUNK_BYTES            ((size_t)4 * 1024)
#define MAX_CHUNK_BYTES            ((size_t)64 * 1024 * 1024)
#define DEFAULT_UPLOAD_TTL_MS      ((uint64_t)600000)
#define MAX_UPLOAD_TTL_MS          ((uint64_t)86400000)
#define DEFAULT_MAX_UPLOAD_BYTES   ((size_t)512 * 1024 * 1024)
#define MAX_UPLOAD_BYTES           ((size_t)4 * 1024 * 1024 * 1024)

/* ---- options ------------------------------------------------------------ */

static int check_namespace(const char *ns, cw_error *err)
{
	size_t i, n;

	if (ns == NULL || *ns == '\0')
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "namespace is empty");
	n = strlen(ns);
	if (n > NAMESPACE_MAX)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "namespace is %zu bytes; the limit is %d", n,
		    NAMESPACE_MAX);
	for (i = 0; i < n; i++) {
		char ch = ns[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		        (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		        ch == '-'))
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "namespace has a bad character at byte %zu "
			    "(allowed: A-Z a-z 0-9 _ . -)",
			    i);
	}
	return CW_OK;
}

/* *out = v, or def when v is 0; v must be in 0..max. */
static int int_option(
    const char *name, int v, int def, int max, int *out, cw_error *err)
{
	if (v < 0 || v > max)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "%s is %d; want 1..%d (0 for the default, %d)", name, v,
		    max, def);
	*out = v == 0 ? def : v;
	return CW_OK;
}

/* The key prefix "<ns>:" and clear's SCAN pattern; ns already checked. */
static void set_namespace(cw_cache *c, const char *ns)
{
	size_t i, o = 0;

	c->ns_len = (size_t)snprintf(c->ns, sizeof c->ns, "%s:", ns);
	/* Escape glob characters (none are allowed today; be safe anyway). */
	for (i = 0; i < c->ns_len; i++) {
		if (strchr("*?[]\\", c->ns[i]) != NULL)
			c->pattern[o++] = '\\';
		c->pattern[o++] = c->ns[i];
	}
	c->pattern[o++] = '*';
	c->pattern[o] = '\0';
}

/* The limits in o (0: the default), checked, to c->own. */
static int set_limits(cw_cache *c, const cw_cache_options *o, cw_error *err)
{
	int clear_batch, max_batch_keys, rc;
	size_t key_max =
	           o->max_key_bytes ? o->max_key_bytes : DEFAULT_MAX_KEY_BYTES,
	       value_max = o->max_value_bytes ? o->max_value_bytes
	                                      : DEFAULT_MAX_VALUE_BYTES;

	if ((rc = int_option("clear_batch", o->clear_batch, DEFAULT_CLEAR_BATCH,
	         MAX_CLEAR_BATCH, &clear_batch, err)) != CW_OK ||
	    (rc = int_option("max_batch_keys", o->max_batch_keys,
	         DEFAULT_MAX_BATCH_KEYS, MAX_CLEAR_BATCH, &max_batch_keys,
	         err)) != CW_OK)
		return rc;
	size_t chunk = o->chunk_bytes ? o->chunk_bytes : DEFAULT_CHUNK_BYTES,
	       upload_max = o->max_upload_bytes ? o->max_upload_bytes
	                                        : DEFAULT_MAX_UPLOAD_BYTES;
	uint64_t ttl =
	    o->upload_ttl_ms ? o->upload_ttl_ms : DEFAULT_UPLOAD_TTL_MS;
	if (chunk < MIN_CHUNK_BYTES || chunk > MAX_CHUNK_BYTES)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "chunk_bytes is %zu; want %zu..%zu", chunk, MIN_CHUNK_BYTES,
		    MAX_CHUNK_BYTES);
	if (ttl < 1000 || ttl > MAX_UPLOAD_TTL_MS)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "upload_ttl_ms is %llu; want 1000..%llu",
		    (unsigned long long)ttl,
		    (unsigned long long)MAX_UPLOAD_TTL_MS);
	if (upload_max > MAX_UPLOAD_BYTES)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "max_upload_bytes is %zu; the limit is %zu", upload_max,
		    MAX_UPLOAD_BYTES);
	if (key_max > REDIS_MAX_BULK - sizeof c->ns ||
	    value_max > REDIS_MAX_BULK)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "max_key_bytes and max_value_bytes must be at most %zu "
		    "(Redis' limit)",
		    REDIS_MAX_BULK - sizeof c->ns);
	c->lim = &c->own;
	atomic_store(&c->own.max_key_bytes, key_max);
	atomic_store(&c->own.max_value_bytes, value_max);
	atomic_store(&c->own.clear_batch, clear_batch);
	atomic_store(&c->own.max_batch_keys, max_batch_keys);
	atomic_store(&c->own.chunk_bytes, chunk);
	atomic_store(&c->own.upload_ttl_ms, ttl);
	atomic_store(&c->own.max_upload_bytes, upload_max);
	return CW_OK;
}

int cw_cache_set_limits(cw_cache *c, const cw_cache_options *o, cw_error *err)
{
	if (c == NULL || o == NULL || !c->owns_mux)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_cache_set_limits needs a cache from cw_cache_open");
	return set_limits(c, o, err);
}

void cw_cache_get_stats(cw_cache *c, cw_cache_stats *out)
{
	cw_mux_stats m;

	if (c->cluster != NULL) {
		cw_cluster_stats cs;
		cw_cluster_stats_get(c->cluster, &cs);
		m = cs.mux;
	} else {
		cw_mux_stats_get(c->mux, &m);
	}
	*out = (cw_cache_stats){
	    .connections_up = m.connections_up,
	    .pool_size = m.pool_size,
	    .pending = m.pending,
	    .errors = m.errors,
	    .reconnects = m.reconnects,
	    .master_known = c->cluster != NULL ? -1 : m.master_known,
	    .master_moves = m.master_moves,
	};
}

bool cw_cache_cluster_stats(cw_cache *c, cw_cluster_stats *out,
    void (*fn)(void *arg, const char *addr, const cw_mux_stats *s), void *arg)
{
	if (c->cluster == NULL)
		return false;
	cw_cluster_stats_get(c->cluster, out);
	if (fn != NULL)
		cw_cluster_each_master(c->cluster, fn, arg);
	return true;
}

int cw_cache_open(cw_cache **out, const cw_cache_options *opts, cw_error *err)
{
	cw_cache *c;
	int rc, pool_size = 0, connect_ms = 0, command_ms = 0;

	if (out == NULL || opts == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_cache_open needs out and opts");
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	if ((rc = check_namespace(opts->namespace_, err)) != CW_OK ||
	    (rc = int_option("pool_size", opts->pool_size, DEFAULT_POOL_SIZE,
	         MAX_POOL_SIZE, &pool_size, err)) != CW_OK ||
	    (rc = int_option("connect_timeout_ms", opts->connect_timeout_ms,
	         DEFAULT_CONNECT_TIMEOUT_MS, 3600 * 1000, &connect_ms, err)) !=
	        CW_OK ||
	    (rc = int_option("command_timeout_ms", opts->command_timeout_ms,
	         DEFAULT_COMMAND_TIMEOUT_MS, 3600 * 1000, &command_ms, err)) !=
	        CW_OK ||
	    (rc = set_limits(c, opts, err)) != CW_OK)
		goto fail;
	set_namespace(c, opts->namespace_);
	c->owns_mux = true;
	if (opts->cluster_nodes != NULL) {
		cw_cluster_options co = {
		    .target = &opts->redis,
		    .seeds = opts->cluster_nodes,
		    .nseeds = opts->cluster_nnodes,
		    .connections = pool_size,
		    .connect_timeout_ms = connect_ms,
		    .command_timeout_ms = command_ms,
		};
		rc = cw_cluster_create(&c->cluster, &co, err);
	} else {
		cw_mux_options mo = {
		    .target = &opts->redis,
		    .sentinel = opts->sentinel,
		    .connections = pool_size,
		    .connect_timeout_ms = connect_ms,
		    .command_timeout_ms = command_ms,
		    .corkable = true, /* lives as long as the cache */
		};
		rc = cw_mux_create(&c->mux, &mo, err);
	}
	if (rc != CW_OK)
		goto fail;
	*out = c;
	return CW_OK;
fail:
	free(c);
	return rc;
}

int cw_cache_view(
    cw_cache **out, cw_cache *base, const char *namespace_, cw_error *err)
{
	int rc;

	if (out == NULL || base == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_cache_view needs out and base");
	if ((rc = check_namespace(namespace_, err)) != CW_OK)
		return rc;
	cw_cache *c = malloc(sizeof *c);
	if (c == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	*c = (cw_cache){.mux = base->mux,
	    .cluster = base->cluster,
	    .owns_mux = false,
	    .lim = base->lim};
	set_namespace(c, namespace_);
	*out = c;
	return CW_OK;
}

void cw_cache_describe(cw_cache *c, char *buf, size_t len)
{
	if (c->cluster != NULL)
		cw_cluster_describe(c->cluster, buf, len);
	else
		cw_mux_describe(c->mux, buf, len);
}

void cw_cache_shutdown(cw_cache *c)
{
	if (c != NULL && c->cluster != NULL)
		cw_cluster_stop(c->cluster);
	else if (c != NULL)
		cw_mux_stop(c->mux);
}

void cw_cache_hold_writes(void)
{
	cw_mux_cork();
}

void cw_cache_release_writes(void)
{
	cw_mux_uncork();
}

void cw_cache_close(cw_cache *c)
{
	if (c == NULL)
		return;
	if (c->owns_mux) {
		cw_cluster_destroy(c->cluster);
		cw_mux_destroy(c->mux);
	}
	free(c);
}

/*
 * A reply that is not what cmd should answer: Redis' error text, as
 * CW_UNAVAILABLE when the condition is transient (loading, failover, busy
 * script...), CW_RESOURCE_EXHAUSTED for OOM, CW_INTERNAL otherwise.
 */
int cw__reply_error(const redisReply *r, const char *cmd, cw_error *err)
{
	static const char *const transient[] = {"LOADING", "MASTERDOWN", "BUSY",
	    "TRYAGAIN", "CLUSTERDOWN", "READONLY", "NOREPLICAS", "MISCONF",
	    "NOAUTH"};
	size_t i, w;

	if (r->type != REDIS_REPLY_ERROR)
		return cw_error_set(err, CW_INTERNAL,
		    "redis: unexpected reply type %d to %s", r->type, cmd);
	w = strcspn(r->str, " ");
	for (i = 0; i < sizeof transient / sizeof transient[0]; i++)
		if (w == strlen(transient[i]) &&
		    memcmp(r->str, transient[i], w) == 0)
			return cw_error_set(err, CW_UNAVAILABLE, "redis: %.*s",
			    (int)r->len, r->str);
	if (w == 3 && memcmp(r->str, "OOM", 3) == 0)
		return cw_error_set(err, CW_RESOURCE_EXHAUSTED, "redis: %.*s",
		    (int)r->len, r->str);
	return cw_error_set(
	    err, CW_INTERNAL, "redis: %.*s", (int)r->len, r->str);
}

/* ---- keys ------------------------------------------------------------- */

int cw__check_key(
    const cw_cache *c, const void *key, size_t key_len, cw_error *err)
{
	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "cache is NULL");
	if (key_len == 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "key is empty");
	if (key == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "key is NULL");
	size_t max = LIMIT(c, max_key_bytes);
	if (key_len > max)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "key is %zu bytes; the limit is %zu", key_len, max);
	return CW_OK;
}

/* ---- operations: build the Redis request, read its replies -------------- */

void cw__tell(cw_callback cb, void *arg, const cw_error *e)
{
	cw_result r = {.status = e->code, .message = e->message};
	cb(arg, &r);
}

op *cw__op_new(
    cw_cache *c, enum op_kind kind, size_t n, cw_callback cb, void *arg)
{
	op *o = malloc(sizeof *o + n * sizeof(bool));

	if (o == NULL)
		return NULL;
	memset(o, 0, sizeof *o);
	o->c = c;
	o->kind = kind;
	o->cb = cb;
	o->arg = arg;
	o->n = n;
	return o;
}

/* A request for o, or NULL after telling o's caller we are out of memory. */
static cw_mux_req *op_req(op *o, int timeout_ms)
{
	cw_mux_req *r = cw_mux_req_new(timeout_ms, cw__op_done, o);
	cw_error e;

	if (r == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(o->cb, o->arg, &e);
		cw__op_free(o);
	}
	return r;
}

void cw__op_free(op *o)
{
	if (o != NULL) {
		free(o->masters);
		free(o->keys);
	}
	free(o);
}

int cw__left_ms(int timeout_ms, uint64_t deadline)
{
	uint64_t now = cw_mono_ms();

	if (timeout_ms <= 0)
		return 0;
	return now < deadline ? (int)(deadline - now) : 1;
}

bool cw__op_start(cw_cache *c, enum op_kind kind, size_t n, int timeout_ms,
    cw_callback cb, void *arg, op **o_out, cw_mux_req **r_out)
{
	op *o = cw__op_new(c, kind, n, cb, arg);
	cw_error e;

	if (o == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(cb, arg, &e);
		return false;
	}
	*o_out = o;
	*r_out = op_req(o, timeout_ms);
	return *r_out != NULL;
}

void cw__submit(const cw_cache *c, cw_mux_req *r)
{
	if (c->cluster != NULL)
		cw_cluster_submit(c->cluster, r);
	else
		cw_mux_submit(c->mux, r);
}

void cw__key_arg(cw_mux_req *r, const cw_cache *c, const void *k, size_t n)
{
	cw_mux_req_arg2(r, c->ns, c->ns_len, k, n);
	if (c->cluster != NULL)
		cw_mux_req_slot(r, cw_redis_slot(c->ns, c->ns_len, k, n));
}

/* Check a SET's value and expiry; *action says what to send. */
int cw__check_entry(const cw_cache *c, const void *value, size_t value_len,
    cw_expiry expiry, uint64_t now, enum cw_expiry_action *action,
    uint64_t *arg_ms, cw_error *err)
{
	if (value == NULL && value_len > 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "value is NULL");
	size_t max = LIMIT(c, max_value_bytes);
	if (value_len > max)
		return cw_error_set(err, CW_RESOURCE_EXHAUSTED,
		    "value is %zu bytes; the limit is %zu", value_len, max);
	return cw_expiry_plan(expiry, now, action, arg_ms, err);
}

/* SET key value [PX|PXAT ms], or UNLINK key when already expired. */
void cw__set_cmd(cw_mux_req *r, const cw_cache *c, const void *key,
    size_t key_len, const void *value, size_t value_len,
    enum cw_expiry_action action, uint64_t arg_ms)
{
	if (action == CW_EXPIRY_REMOVE) {
		cw_mux_req_cmd(r, 2);
		cw_mux_req_arg(r, "UNLINK", 6);
		cw__key_arg(r, c, key, key_len);
		return;
	}
	cw_mux_req_cmd(r, action == CW_EXPIRY_KEEP ? 3 : 5);
	cw_mux_req_arg(r, "SET", 3);
	cw__key_arg(r, c, key, key_len);
	cw_mux_req_arg(r, value_len > 0 ? value : "", value_len);
	if (action != CW_EXPIRY_KEEP) {
		cw_mux_req_arg(r, action == CW_EXPIRY_PX ? "PX" : "PXAT",
		    action == CW_EXPIRY_PX ? 2 : 4);
		cw_mux_req_arg_u64(r, arg_ms);
	}
}

static int check_set_reply(const redisReply *x, bool removed, cw_error *err)
{
	if (removed ? x->type == REDIS_REPLY_INTEGER
	            : x->type == REDIS_REPLY_STATUS)
		return CW_OK;
	return cw__reply_error(x, removed ? "UNLINK" : "SET", err);
}

/* The replies to o's request are in: tell its caller (or go on, clear). */
void cw__op_done(
    void *arg, int status, const cw_error *err, redisReply **replies)
{
	op *o = arg;
	cw_result res = {.status = CW_OK, .message = ""};
	cw_error e = {.code = CW_OK};
	cw_value *values = NULL;
	bool *flags = NULL;
	redisReply *x = replies != NULL ? replies[0] : NULL;
	size_t i;

	if (status != CW_OK) {
		e = *err;
		goto out;
	}
	switch (o->kind) {
	case OP_GET:
		if (x->type == REDIS_REPLY_STRING) {
			res.found = true;
			res.value = x->str;
			res.value_len = x->len;
		} else if (x->type == REDIS_REPLY_ERROR &&
		           strncmp(x->str, "WRONGTYPE", 9) == 0) {
			/* a value uploaded in chunks: a hash */
			cw__get_chunked(o->c, o->key, o->key_len,
			    cw__left_ms(o->timeout_ms, o->deadline), o->cb,
			    o->arg);
			cw__op_free(o);
			return;
		} else if (x->type != REDIS_REPLY_NIL)
			cw__reply_error(x, "GET", &e);
		break;
	case OP_SET:
		check_set_reply(x, o->removes[0], &e);
		break;
	case OP_DELETE:
		if (x->type == REDIS_REPLY_INTEGER)
			res.existed = x->integer > 0;
		else
			cw__reply_error(x, "UNLINK", &e);
		break;
	case OP_PING:
		if (x->type == REDIS_REPLY_ERROR)
			cw_error_set(&e, CW_UNAVAILABLE, "redis: %.*s",
			    (int)x->len, x->str);
		else if (x->type != REDIS_REPLY_STATUS)
			cw__reply_error(x, "PING", &e);
		break;
	case OP_GET_MANY:
		if (cw__get_many_replies(o, replies, &values, &e)) {
			cw__op_free(o); /* the follow-up answers */
			return;
		}
		res.count = o->n;
		res.values = values;
		break;
	case OP_SET_MANY:
		for (i = 0; i < o->n && e.code == CW_OK; i++)
			check_set_reply(replies[i], o->removes[i], &e);
		break;
	case OP_DELETE_MANY:
		if ((flags = calloc(o->n, sizeof *flags)) == NULL) {
			cw_error_set(&e, CW_INTERNAL, "out of memory");
			break;
		}
		for (i = 0; i < o->n && e.code == CW_OK; i++) {
			if (replies[i]->type == REDIS_REPLY_INTEGER)
				flags[i] = replies[i]->integer > 0;
			else
				cw__reply_error(replies[i], "UNLINK", &e);
		}
		res.count = o->n;
		res.existed_many = flags;
		break;
	case OP_CLEAR:
		if (cw__clear_next(o, replies, &e))
			return; /* another step is on its way; o lives on */
		res.removed = o->removed;
		break;
	}
out:
	if (e.code != CW_OK)
		res = (cw_result){.status = e.code, .message = e.message};
	o->cb(o->arg, &res);
	free(values);
	free(flags);
	cw__op_free(o);
}

/* ---- the asynchronous calls ---------------------------------------------- */

/* "<verb> <namespace>:<key>": GET or UNLINK of one key, as op kind. */
static void key_command(cw_cache *c, enum op_kind kind, const char *verb,
    const void *key, size_t key_len, int timeout_ms, cw_callback cb, void *arg)
{
	cw_mux_req *r;
	cw_error e;
	op *o;

	if (cw__check_key(c, key, key_len, &e) != CW_OK) {
		cw__tell(cb, arg, &e);
		return;
	}
	if (!cw__op_start(c, kind, 0, timeout_ms, cb, arg, &o, &r))
		return;
	o->key = key;
	o->key_len = key_len;
	o->timeout_ms = timeout_ms;
	o->deadline =
	    cw_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	cw_mux_req_cmd(r, 2);
	cw_mux_req_arg(r, verb, strlen(verb));
	cw__key_arg(r, c, key, key_len);
	cw__submit(c, r);
}

void cw_cache_get_async(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg)
{
	key_command(c, OP_GET, "GET", key, key_len, timeout_ms, cb, arg);
}

void cw_cache_set_async(cw_cache *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_callback cb, void *arg)
{
	enum cw_expiry_action action = CW_EXPIRY_KEEP;
	uint64_t arg_ms = 0;
	cw_mux_req *r;
	cw_error e;
	op *o;

	if (cw__check_key(c, key, key_len, &e) != CW_OK ||
	    cw__check_entry(c, value, value_len, expiry, cw_now_ms(), &action,
	        &arg_ms, &e) != CW_OK) {
		cw__tell(cb, arg, &e);
		return;
	}
	if (!cw__op_start(c, OP_SET, 1, timeout_ms, cb, arg, &o, &r))
		return;
	o->removes[0] = action == CW_EXPIRY_REMOVE;
	cw__set_cmd(r, c, key, key_len, value, value_len, action, arg_ms);
	cw__submit(c, r);
}

void cw_cache_delete_async(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg)
{
	key_command(c, OP_DELETE, "UNLINK", key, key_len, timeout_ms, cb, arg);
}

void cw_cache_ping_async(cw_cache *c, int timeout_ms, cw_callback cb, void *arg)
{
	cw_mux_req *r;
	cw_error e;
	op *o;

	if (c == NULL) {
		cw_error_set(&e, CW_INVALID_ARGUMENT, "cache is NULL");
		cw__tell(cb, arg, &e);
		return;
	}
	if (!cw__op_start(c, OP_PING, 0, timeout_ms, cb, arg, &o, &r))
		return;
	cw_mux_req_cmd(r, 1);
	cw_mux_req_arg(r, "PING", 4);
	cw__submit(c, r);
}
