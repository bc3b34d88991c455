/*
 * cache.c - the cache contract over Redis (see cache.h).
 *
 * Each call validates its arguments before touching Redis, takes one pooled
 * connection for its whole duration and runs its commands through call_run(),
 * which enforces the call's deadline and retries a command once when the
 * connection under it broke. Redis keys are "<namespace>:<key>", passed with
 * explicit lengths everywhere (binary-safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "pool.h"

#define NAMESPACE_MAX              64
#define DEFAULT_POOL_SIZE          8
#define MAX_POOL_SIZE              1024
#define DEFAULT_CONNECT_TIMEOUT_MS 1000
#define DEFAULT_COMMAND_TIMEOUT_MS 5000
#define DEFAULT_MAX_KEY_BYTES      ((size_t)4096)
#define DEFAULT_MAX_VALUE_BYTES    ((size_t)32 * 1024 * 1024)
#define REDIS_MAX_BULK             ((size_t)512 * 1024 * 1024) /* proto-max-bulk-len */
#define DEFAULT_CLEAR_BATCH        512
#define MAX_CLEAR_BATCH            100000

struct cw_cache {
	cw_pool *pool;
	char ns[NAMESPACE_MAX + 2];          /* "<namespace>:" */
	size_t ns_len;                       /* including the ':' */
	char pattern[2 * NAMESPACE_MAX + 3]; /* SCAN MATCH "<namespace>:*" */
	int command_timeout_ms;
	size_t max_key_bytes;
	size_t max_value_bytes;
	int clear_batch;
};

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

int cw_cache_open(cw_cache **out, const cw_cache_options *opts, cw_error *err)
{
	cw_cache *c;
	int rc, pool_size = 0, connect_ms = 0;
	size_t i, o = 0;

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
	         DEFAULT_COMMAND_TIMEOUT_MS, 3600 * 1000,
	         &c->command_timeout_ms, err)) != CW_OK ||
	    (rc = int_option("clear_batch", opts->clear_batch,
	         DEFAULT_CLEAR_BATCH, MAX_CLEAR_BATCH, &c->clear_batch, err)) !=
	        CW_OK)
		goto fail;
	c->max_key_bytes =
	    opts->max_key_bytes ? opts->max_key_bytes : DEFAULT_MAX_KEY_BYTES;
	c->max_value_bytes = opts->max_value_bytes ? opts->max_value_bytes
	                                           : DEFAULT_MAX_VALUE_BYTES;
	if (c->max_key_bytes > REDIS_MAX_BULK - sizeof c->ns ||
	    c->max_value_bytes > REDIS_MAX_BULK) {
		rc = cw_error_set(err, CW_INVALID_ARGUMENT,
		    "max_key_bytes and max_value_bytes must be at most %zu "
		    "(Redis' limit)",
		    REDIS_MAX_BULK - sizeof c->ns);
		goto fail;
	}
	c->ns_len =
	    (size_t)snprintf(c->ns, sizeof c->ns, "%s:", opts->namespace_);
	/* Escape glob characters (none are allowed today; be safe anyway). */
	for (i = 0; i < c->ns_len; i++) {
		if (strchr("*?[]\\", c->ns[i]) != NULL)
			c->pattern[o++] = '\\';
		c->pattern[o++] = c->ns[i];
	}
	c->pattern[o++] = '*';
	c->pattern[o] = '\0';
	rc = cw_pool_create(&c->pool, &opts->redis, pool_size, connect_ms, err);
	if (rc != CW_OK)
		goto fail;
	*out = c;
	return CW_OK;
fail:
	free(c);
	return rc;
}

void cw_cache_close(cw_cache *c)
{
	if (c == NULL)
		return;
	cw_pool_destroy(c->pool);
	free(c);
}

/* ---- one call: its deadline, its connection, its retry ------------------ */

typedef struct call {
	cw_cache *c;
	uint64_t deadline; /* monotonic ms, 0 = none (per-command bound only) */
	int timeout_ms;    /* as the caller gave it */
	int retries;       /* connection-level retries left */
	cw_pool_slot *slot;
} call;

static int call_begin(call *k, cw_cache *c, int timeout_ms, cw_error *err)
{
	k->c = c;
	k->timeout_ms = timeout_ms;
	k->retries = 1;
	k->slot = NULL;
	k->deadline = timeout_ms > 0 ? cw_mono_ms() + (uint64_t)timeout_ms : 0;
	return cw_pool_acquire(c->pool,
	    timeout_ms > 0 ? timeout_ms : c->command_timeout_ms, &k->slot, err);
}

static void call_end(call *k)
{
	cw_pool_release(k->c->pool, k->slot);
	k->slot = NULL;
}

/* Run one command within the call's deadline; retry once on a broken link. */
static int call_run(call *k, int argc, const char **argv, const size_t *lens,
    redisReply **reply, cw_error *err)
{
	for (;;) {
		int t = k->c->command_timeout_ms, rc;
		bool retryable;

		if (k->deadline != 0) {
			uint64_t now = cw_mono_ms();
			if (now >= k->deadline)
				return cw_error_set(err, CW_DEADLINE_EXCEEDED,
				    "call timed out after %d ms",
				    k->timeout_ms);
			if (k->deadline - now < (uint64_t)t)
				t = (int)(k->deadline - now);
		}
		rc = cw_pool_command(k->c->pool, k->slot, argc, argv, lens, t,
		    reply, &retryable, err);
		if (rc == CW_OK || !retryable || k->retries == 0)
			return rc;
		k->retries--;
	}
}

/*
 * A reply that is not what cmd should answer: Redis' error text, as
 * CW_UNAVAILABLE when the condition is transient (loading, failover, busy
 * script...), CW_RESOURCE_EXHAUSTED for OOM, CW_INTERNAL otherwise.
 */
static int reply_error(const redisReply *r, const char *cmd, cw_error *err)
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

static int check_key(
    const cw_cache *c, const void *key, size_t key_len, cw_error *err)
{
	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "cache is NULL");
	if (key_len == 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "key is empty");
	if (key == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "key is NULL");
	if (key_len > c->max_key_bytes)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "key is %zu bytes; the limit is %zu", key_len,
		    c->max_key_bytes);
	return CW_OK;
}

/*
 * Run argv as one call, with argv[1] set to the Redis key for key (whose
 * slot the caller leaves NULL): "<verb> <namespace>:<key> [args...]".
 */
static int key_call(cw_cache *c, const void *key, size_t key_len, int argc,
    const char **argv, size_t *lens, int timeout_ms, redisReply **reply,
    cw_error *err)
{
	char *rk = malloc(c->ns_len + key_len);
	call k;
	int rc;

	if (rk == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	memcpy(rk, c->ns, c->ns_len);
	memcpy(rk + c->ns_len, key, key_len);
	argv[1] = rk;
	lens[1] = c->ns_len + key_len;
	rc = call_begin(&k, c, timeout_ms, err);
	if (rc == CW_OK) {
		rc = call_run(&k, argc, argv, lens, reply, err);
		call_end(&k);
	}
	argv[1] = NULL;
	free(rk);
	return rc;
}

/* ---- the calls ---------------------------------------------------------- */

int cw_cache_get(cw_cache *c, const void *key, size_t key_len, bool *found,
    void **value, size_t *value_len, int timeout_ms, cw_error *err)
{
	const char *argv[2] = {"GET", NULL};
	size_t lens[2] = {3, 0};
	redisReply *r = NULL;
	int rc = check_key(c, key, key_len, err);

	if (rc != CW_OK || (rc = key_call(c, key, key_len, 2, argv, lens,
	                        timeout_ms, &r, err)) != CW_OK)
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		if (found != NULL)
			*found = false;
		if (value != NULL)
			*value = NULL;
		if (value_len != NULL)
			*value_len = 0;
	} else if (r->type == REDIS_REPLY_STRING) {
		char *v = NULL;
		if (value != NULL) {
			v = malloc(r->len + 1);
			if (v == NULL) {
				freeReplyObject(r);
				return cw_error_set(err, CW_INTERNAL,
				    "out of memory for a %zu-byte value",
				    r->len);
			}
			memcpy(v, r->str, r->len);
			v[r->len] = '\0';
			*value = v;
		}
		if (found != NULL)
			*found = true;
		if (value_len != NULL)
			*value_len = r->len;
	} else {
		rc = reply_error(r, "GET", err);
	}
	freeReplyObject(r);
	return rc;
}

int cw_cache_set(cw_cache *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_error *err)
{
	enum cw_expiry_action action = CW_EXPIRY_KEEP;
	uint64_t arg_ms = 0;
	redisReply *r = NULL;
	char num[24];
	int rc = check_key(c, key, key_len, err);

	if (rc != CW_OK)
		return rc;
	if (value == NULL && value_len > 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "value is NULL");
	if (value_len > c->max_value_bytes)
		return cw_error_set(err, CW_RESOURCE_EXHAUSTED,
		    "value is %zu bytes; the limit is %zu", value_len,
		    c->max_value_bytes);
	rc = cw_expiry_plan(expiry, cw_now_ms(), &action, &arg_ms, err);
	if (rc != CW_OK)
		return rc;

	/* SET key value [PX|PXAT ms], or UNLINK key */
	const char *argv[5] = {
	    "SET", NULL, value != NULL ? value : "", NULL, num};
	size_t lens[5] = {3, 0, value_len, 0, 0};
	int argc = 3;
	if (action == CW_EXPIRY_REMOVE) {
		/* Already expired: make sure no older value survives. */
		argv[0] = "UNLINK";
		lens[0] = 6;
		argc = 2;
	} else if (action != CW_EXPIRY_KEEP) {
		argv[3] = action == CW_EXPIRY_PX ? "PX" : "PXAT";
		lens[3] = strlen(argv[3]);
		lens[4] = (size_t)snprintf(
		    num, sizeof num, "%llu", (unsigned long long)arg_ms);
		argc = 5;
	}
	rc = key_call(c, key, key_len, argc, argv, lens, timeout_ms, &r, err);
	if (rc != CW_OK)
		return rc;
	if (action == CW_EXPIRY_REMOVE ? r->type != REDIS_REPLY_INTEGER
	                               : r->type != REDIS_REPLY_STATUS)
		rc = reply_error(r, argv[0], err);
	freeReplyObject(r);
	return rc;
}

int cw_cache_delete(cw_cache *c, const void *key, size_t key_len, bool *existed,
    int timeout_ms, cw_error *err)
{
	const char *argv[2] = {"UNLINK", NULL};
	size_t lens[2] = {6, 0};
	redisReply *r = NULL;
	int rc = check_key(c, key, key_len, err);

	if (rc != CW_OK || (rc = key_call(c, key, key_len, 2, argv, lens,
	                        timeout_ms, &r, err)) != CW_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER) {
		if (existed != NULL)
			*existed = r->integer > 0;
	} else {
		rc = reply_error(r, "UNLINK", err);
	}
	freeReplyObject(r);
	return rc;
}

/* UNLINK the keys of one SCAN batch; add how many went to *removed. */
static int unlink_batch(
    call *k, const redisReply *keys, uint64_t *removed, cw_error *err)
{
	size_t n = keys->elements, i;
	const char **argv = malloc((n + 1) * sizeof *argv);
	size_t *lens = malloc((n + 1) * sizeof *lens);
	redisReply *r = NULL;
	int rc;

	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	argv[0] = "UNLINK";
	lens[0] = 6;
	for (i = 0; i < n; i++) {
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	rc = call_run(k, (int)(n + 1), argv, lens, &r, err);
	free(argv);
	free(lens);
	if (rc != CW_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
		*removed += (uint64_t)r->integer;
	else
		rc = reply_error(r, "UNLINK", err);
	freeReplyObject(r);
	return rc;
}

/* Is r a well-formed SCAN reply: [cursor, [key, ...]]? */
static bool scan_reply_ok(const redisReply *r)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len == 0 || r->element[0]->len > 20 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return false;
	for (i = 0; i < r->element[1]->elements; i++)
		if (r->element[1]->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

int cw_cache_clear(
    cw_cache *c, uint64_t *removed, int timeout_ms, cw_error *err)
{
	char cursor[24] = "0", count[16];
	uint64_t total = 0;
	call k;
	int rc;

	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "cache is NULL");
	const char *argv[6] = {
	    "SCAN", cursor, "MATCH", c->pattern, "COUNT", count};
	size_t lens[6] = {4, 1, 5, strlen(c->pattern), 5, 0};
	lens[5] = (size_t)snprintf(count, sizeof count, "%d", c->clear_batch);

	rc = call_begin(&k, c, timeout_ms, err);
	if (rc != CW_OK)
		return rc;
	do {
		redisReply *r = NULL;
		lens[1] = strlen(cursor);
		rc = call_run(&k, 6, argv, lens, &r, err);
		if (rc != CW_OK)
			break;
		if (!scan_reply_ok(r)) {
			rc = r->type == REDIS_REPLY_ERROR
			         ? reply_error(r, "SCAN", err)
			         : cw_error_set(err, CW_INTERNAL,
			               "redis: malformed reply to SCAN");
			freeReplyObject(r);
			break;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = '\0';
		if (r->element[1]->elements > 0)
			rc = unlink_batch(&k, r->element[1], &total, err);
		freeReplyObject(r);
	} while (rc == CW_OK && strcmp(cursor, "0") != 0);
	call_end(&k);
	if (rc == CW_OK && removed != NULL)
		*removed = total;
	return rc;
}

int cw_cache_ping(cw_cache *c, int timeout_ms, cw_error *err)
{
	const char *argv[1] = {"PING"};
	size_t lens[1] = {4};
	redisReply *r = NULL;
	call k;
	int rc;

	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "cache is NULL");
	rc = call_begin(&k, c, timeout_ms, err);
	if (rc != CW_OK)
		return rc;
	rc = call_run(&k, 1, argv, lens, &r, err);
	call_end(&k);
	if (rc != CW_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR)
		rc = cw_error_set(
		    err, CW_UNAVAILABLE, "redis: %.*s", (int)r->len, r->str);
	else if (r->type != REDIS_REPLY_STATUS)
		rc = reply_error(r, "PING", err);
	freeReplyObject(r);
	return rc;
}
