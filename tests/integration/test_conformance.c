/*
 * test_conformance.c - ONE suite of cache-contract cases, run twice: against
 * the cache core (in process, over hiredis) and against the remote client
 * (libcachewire -> nng -> a real cachewired -> the same kind of Redis). Both
 * backends must pass the same cases; raw hiredis checks what landed in Redis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <hiredis/hiredis.h>

#include <cachewire/cachewire.h>

#include "cache.h"
#include "servers.h"

#define NS         "conf"
#define MAX_KEY    1024
#define MAX_VALUE  ((size_t)16 * 1024 * 1024)
#define TIMEOUT_MS 10000

/* ---- the two backends behind one interface ------------------------------- */

typedef struct backend {
	const char *name;
	int (*get)(void *h, const void *k, size_t kl, bool *found, void **v,
	    size_t *vl, int t, cw_error *e);
	int (*set)(void *h, const void *k, size_t kl, const void *v, size_t vl,
	    cw_expiry x, int t, cw_error *e);
	int (*del)(void *h, const void *k, size_t kl, bool *existed, int t,
	    cw_error *e);
	int (*clear)(void *h, uint64_t *removed, int t, cw_error *e);
	int (*get_many)(void *h, size_t n, const cw_key *keys, cw_value *values,
	    int t, cw_error *e);
	int (*set_many)(
	    void *h, size_t n, const cw_entry *entries, int t, cw_error *e);
	int (*del_many)(void *h, size_t n, const cw_key *keys, bool *existed,
	    int t, cw_error *e);
	void *h;
	redisContext *raw; /* direct line to the same Redis, for checks */
	cw_test_redis redis;
	cw_test_daemon daemon;
} backend;

static int core_get(void *h, const void *k, size_t kl, bool *f, void **v,
    size_t *vl, int t, cw_error *e)
{
	return cw_cache_get(h, k, kl, f, v, vl, t, e);
}
static int core_set(void *h, const void *k, size_t kl, const void *v, size_t vl,
    cw_expiry x, int t, cw_error *e)
{
	return cw_cache_set(h, k, kl, v, vl, x, t, e);
}
static int core_del(
    void *h, const void *k, size_t kl, bool *x, int t, cw_error *e)
{
	return cw_cache_delete(h, k, kl, x, t, e);
}
static int core_clear(void *h, uint64_t *n, int t, cw_error *e)
{
	return cw_cache_clear(h, n, t, e);
}
static int core_get_many(
    void *h, size_t n, const cw_key *k, cw_value *v, int t, cw_error *e)
{
	return cw_cache_get_many(h, n, k, v, t, e);
}
static int core_set_many(
    void *h, size_t n, const cw_entry *x, int t, cw_error *e)
{
	return cw_cache_set_many(h, n, x, t, e);
}
static int core_del_many(
    void *h, size_t n, const cw_key *k, bool *x, int t, cw_error *e)
{
	return cw_cache_delete_many(h, n, k, x, t, e);
}
static int remote_get(void *h, const void *k, size_t kl, bool *f, void **v,
    size_t *vl, int t, cw_error *e)
{
	return cw_get(h, k, kl, f, v, vl, t, e);
}
static int remote_set(void *h, const void *k, size_t kl, const void *v,
    size_t vl, cw_expiry x, int t, cw_error *e)
{
	return cw_set(h, k, kl, v, vl, x, t, e);
}
static int remote_del(
    void *h, const void *k, size_t kl, bool *x, int t, cw_error *e)
{
	return cw_delete(h, k, kl, x, t, e);
}
static int remote_clear(void *h, uint64_t *n, int t, cw_error *e)
{
	return cw_clear(h, n, t, e);
}

static int remote_get_many(
    void *h, size_t n, const cw_key *k, cw_value *v, int t, cw_error *e)
{
	return cw_get_many(h, n, k, v, t, e);
}
static int remote_set_many(
    void *h, size_t n, const cw_entry *x, int t, cw_error *e)
{
	return cw_set_many(h, n, x, t, e);
}
static int remote_del_many(
    void *h, size_t n, const cw_key *k, bool *x, int t, cw_error *e)
{
	return cw_delete_many(h, n, k, x, t, e);
}

/* Redis with an ACL user and a password, on TCP and a unix socket, so the
 * core's AUTH (user + password), SELECT and TCP paths are the ones used. */
static const char *const redis_args[] = {"--user", "default", "off", "--user",
    "tester", "on", ">s3cret", "~*", "&*", "+@all", NULL};

static redisContext *raw_connect(cw_test_redis *r)
{
	redisContext *c = redisConnectUnix(r->sock);
	if (c == NULL || c->err)
		return NULL;
	freeReplyObject(redisCommand(c, "AUTH tester s3cret"));
	freeReplyObject(redisCommand(c, "SELECT 3"));
	return c;
}

static int setup_core(void **state)
{
	static backend b = {"core", core_get, core_set, core_del, core_clear,
	    core_get_many, core_set_many, core_del_many};
	if (cw_test_redis_start(&b.redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b.redis.port);
	cw_cache_options o = {.namespace_ = NS,
	    .pool_size = 4,
	    .max_key_bytes = MAX_KEY,
	    .max_value_bytes = MAX_VALUE,
	    .clear_batch = 100};
	cw_error err;
	if (cw_redis_url_parse(url, &o.redis, &err) != CW_OK ||
	    cw_cache_open((cw_cache **)&b.h, &o, &err) != CW_OK) {
		fprintf(stderr, "core: %s\n", err.message);
		return -1;
	}
	cw_redis_target_free(&o.redis);
	b.raw = raw_connect(&b.redis);
	*state = &b;
	return b.raw ? 0 : -1;
}

static int teardown_core(void **state)
{
	backend *b = *state;
	cw_cache_close(b->h);
	redisFree(b->raw);
	cw_test_redis_stop(&b->redis, false);
	return 0;
}

static int setup_remote(void **state, bool ipc)
{
	static backend tcp = {"remote tcp", remote_get, remote_set, remote_del,
	    remote_clear, remote_get_many, remote_set_many, remote_del_many};
	static backend unix_ = {"remote ipc", remote_get, remote_set,
	    remote_del, remote_clear, remote_get_many, remote_set_many,
	    remote_del_many};
	backend *b = ipc ? &unix_ : &tcp;
	if (cw_test_redis_start(&b->redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b->redis.port);
	const char *env[] = {"CACHEWIRE_CACHE_MAX_KEY_BYTES=1024",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=16MiB",
	    "CACHEWIRE_CACHE_CLEAR_BATCH=100", NULL};
	if (cw_test_daemon_start(&b->daemon, url, env) != 0)
		return -1;
	cw_error err;
	if (cw_open((cw_client **)&b->h,
	        ipc ? b->daemon.ipc_url : b->daemon.tcp_url, NULL,
	        &err) != CW_OK) {
		fprintf(stderr, "cw_open: %s\n", err.message);
		return -1;
	}
	b->raw = raw_connect(&b->redis);
	*state = b;
	return b->raw ? 0 : -1;
}

static int setup_remote_tcp(void **state)
{
	return setup_remote(state, false);
}

static int setup_remote_ipc(void **state)
{
	return setup_remote(state, true);
}

static int teardown_remote(void **state)
{
	backend *b = *state;
	cw_close(b->h);
	redisFree(b->raw);
	int status = cw_test_daemon_stop(&b->daemon);
	cw_test_redis_stop(&b->redis, false);
	return status == 0 ? 0 : -1; /* a clean exit on SIGTERM is part of it */
}

/* ---- helpers ------------------------------------------------------------- */

#define B ((backend *)*state)

/* Empty the namespace before each case so counts are exact. */
static int clean(void **state)
{
	cw_error err;
	assert_int_equal(B->clear(B->h, NULL, TIMEOUT_MS, &err), CW_OK);
	return 0;
}

static void put(void **state, const char *k, const char *v, cw_expiry x)
{
	cw_error err;
	int rc = B->set(B->h, k, strlen(k), v, strlen(v), x, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: set %s: %s: %s", B->name, k, cw_strerror(rc),
		    err.message);
}

/* Get k; returns the value (free()) or NULL on a miss. */
static char *fetch(void **state, const void *k, size_t kl, size_t *vl)
{
	cw_error err;
	bool found = true;
	void *v = (void *)1;
	size_t len = 99;
	int rc = B->get(B->h, k, kl, &found, &v, &len, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg(
		    "%s: get: %s: %s", B->name, cw_strerror(rc), err.message);
	if (!found) {
		assert_null(v);
		assert_int_equal(len, 0);
		return NULL;
	}
	if (vl != NULL)
		*vl = len;
	return v;
}

static long long raw_int(void **state, const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(B->raw, fmt, arg);
	assert_non_null(r);
	long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	freeReplyObject(r);
	return n;
}

/* ---- the cases ------------------------------------------------------------
 */

static void hit_and_miss(void **state)
{
	put(state, "pip:foo", "bar", CW_NO_EXPIRY);
	size_t n;
	char *v = fetch(state, "pip:foo", 7, &n);
	assert_non_null(v);
	assert_int_equal(n, 3);
	assert_string_equal(v, "bar"); /* NUL-terminated for convenience */
	cw_free(v);
	assert_null(fetch(state, "pip:nope", 8, NULL));
	/* stored under the namespace prefix, invisible to the caller */
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":pip:foo"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "pip:foo"), 0);
}

static void overwrite_and_empty_value(void **state)
{
	put(state, "k", "first", CW_NO_EXPIRY);
	put(state, "k", "second", CW_NO_EXPIRY);
	char *v = fetch(state, "k", 1, NULL);
	assert_string_equal(v, "second");
	cw_free(v);
	put(state, "empty", "", CW_NO_EXPIRY);
	size_t n = 5;
	v = fetch(state, "empty", 5, &n);
	assert_non_null(v); /* found, with an empty value: not a miss */
	assert_int_equal(n, 0);
	cw_free(v);
}

static void binary_keys_and_values(void **state)
{
	static const char key[] = {'a', '\0', 'b', '\xff', '\n', '*'};
	unsigned char val[256];
	for (int i = 0; i < 256; i++)
		val[i] = (unsigned char)i;
	cw_error err;
	assert_int_equal(B->set(B->h, key, sizeof key, val, sizeof val,
	                     CW_NO_EXPIRY, TIMEOUT_MS, &err),
	    CW_OK);
	size_t n;
	char *v = fetch(state, key, sizeof key, &n);
	assert_non_null(v);
	assert_int_equal(n, sizeof val);
	assert_memory_equal(v, val, sizeof val);
	cw_free(v);
	/* a key that differs only after the NUL byte is a different key */
	assert_null(fetch(state, key, 2, NULL));
}

static void large_value(void **state)
{
	size_t n = (size_t)8 * 1024 * 1024 + 3;
	unsigned char *val = malloc(n);
	assert_non_null(val);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		val[i] = (unsigned char)(x >> 24);
	}
	cw_error err;
	assert_int_equal(
	    B->set(B->h, "big", 3, val, n, CW_NO_EXPIRY, TIMEOUT_MS, &err),
	    CW_OK);
	size_t got;
	char *v = fetch(state, "big", 3, &got);
	assert_non_null(v);
	assert_int_equal(got, n);
	assert_memory_equal(v, val, n);
	cw_free(v);
	free(val);
}

static void ttl_expires_with_ms_precision(void **state)
{
	put(state, "short", "v", CW_TTL_MS(600));
	put(state, "ms", "v", CW_TTL_MS(1500));
	long long pttl = raw_int(state, "PTTL %s", NS ":ms");
	/* 1500 ms kept as such: not truncated to 1 s or rounded to 2 s */
	assert_true(pttl > 1000 && pttl <= 1500);
	char *v = fetch(state, "short", 5, NULL);
	assert_non_null(v);
	cw_free(v);
	cw_test_sleep_ms(1300);
	assert_null(fetch(state, "short", 5, NULL));
}

static void zero_means_no_expiry(void **state)
{
	put(state, "a", "v", CW_TTL_MS(0));
	put(state, "b", "v", CW_EXPIRE_AT_MS(0));
	put(state, "c", "v", CW_NO_EXPIRY);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":a"), -1);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":b"), -1);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":c"), -1);
	/* and a plain set removes an earlier expiry */
	put(state, "d", "v", CW_TTL_MS(60000));
	put(state, "d", "v", CW_NO_EXPIRY);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":d"), -1);
}

static void absolute_expiry(void **state)
{
	put(state, "future", "v", CW_EXPIRE_AT_MS(cw_now_ms() + 60000));
	long long pttl = raw_int(state, "PTTL %s", NS ":future");
	assert_true(pttl > 50000 && pttl <= 60000);
	char *v = fetch(state, "future", 6, NULL);
	assert_non_null(v);
	cw_free(v);
}

static void past_absolute_expiry_removes_and_succeeds(void **state)
{
	put(state, "old", "v", CW_NO_EXPIRY);
	/* cachecontrol fails here ("invalid expire time"); we succeed */
	put(state, "old", "new", CW_EXPIRE_AT_MS(cw_now_ms() - 1000));
	assert_null(fetch(state, "old", 3, NULL));
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":old"), 0);
	put(state, "epoch", "v", CW_EXPIRE_AT_MS(1));
	assert_null(fetch(state, "epoch", 5, NULL));
}

static void delete_present_and_missing(void **state)
{
	put(state, "d", "v", CW_NO_EXPIRY);
	cw_error err;
	bool existed = false;
	assert_int_equal(
	    B->del(B->h, "d", 1, &existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed);
	assert_null(fetch(state, "d", 1, NULL));
	existed = true;
	assert_int_equal(
	    B->del(B->h, "d", 1, &existed, TIMEOUT_MS, &err), CW_OK);
	assert_false(existed);
	assert_int_equal(
	    B->del(B->h, "never", 5, NULL, TIMEOUT_MS, &err), CW_OK);
}

static void clear_removes_only_the_namespace(void **state)
{
	/* neighbours: another namespace, a look-alike prefix, a glob trap */
	redisContext *r = B->raw;
	freeReplyObject(redisCommand(r, "SET other:keep 1"));
	freeReplyObject(redisCommand(r, "SET confx:keep 1"));
	freeReplyObject(redisCommand(r, "SET conf 1"));
	char key[32];
	for (int i = 0; i < 250; i++) { /* > clear_batch: several batches */
		snprintf(key, sizeof key, "k%d", i);
		put(state, key, "v", CW_NO_EXPIRY);
	}
	put(state, "*", "glob", CW_NO_EXPIRY);
	cw_error err;
	uint64_t removed = 0;
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, 251);
	assert_null(fetch(state, "k7", 2, NULL));
	assert_int_equal(raw_int(state, "EXISTS %s", "other:keep"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "confx:keep"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "conf"), 1);
	/* clearing an empty namespace removes nothing */
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, 0);
	freeReplyObject(redisCommand(r, "DEL other:keep confx:keep conf"));
}

static void limits_and_bad_arguments(void **state)
{
	cw_error err;
	bool found;
	void *v;
	size_t n;
	assert_int_equal(B->get(B->h, "", 0, &found, &v, &n, TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_int_equal(err.code, CW_INVALID_ARGUMENT);
	assert_non_null(strstr(err.message, "empty"));
	assert_int_equal(
	    B->set(B->h, "", 0, "v", 1, CW_NO_EXPIRY, TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_int_equal(
	    B->del(B->h, "", 0, NULL, TIMEOUT_MS, &err), CW_INVALID_ARGUMENT);

	char *big = calloc(1, MAX_VALUE + 1);
	assert_non_null(big);
	memset(big, 'k', MAX_KEY + 1);
	assert_int_equal(
	    B->set(B->h, big, MAX_KEY, "v", 1, CW_NO_EXPIRY, TIMEOUT_MS, &err),
	    CW_OK); /* at the limit: fine */
	assert_int_equal(B->set(B->h, big, MAX_KEY + 1, "v", 1, CW_NO_EXPIRY,
	                     TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_non_null(strstr(err.message, "1025"));
	assert_int_equal(
	    B->get(B->h, big, MAX_KEY + 1, &found, &v, &n, TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_int_equal(B->set(B->h, "v", 1, big, MAX_VALUE + 1, CW_NO_EXPIRY,
	                     TIMEOUT_MS, &err),
	    CW_RESOURCE_EXHAUSTED);
	assert_int_equal(B->set(B->h, "v", 1, big, MAX_VALUE, CW_NO_EXPIRY,
	                     TIMEOUT_MS, &err),
	    CW_OK);
	free(big);
	assert_null(fetch(state, "never-set", 9, NULL));

	assert_int_equal(
	    B->set(B->h, "x", 1, "v", 1, CW_EXPIRE_AT_MS(CW_EXPIRY_MAX_MS + 1),
	        TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_int_equal(B->set(B->h, "x", 1, "v", 1, CW_TTL_MS(UINT64_MAX),
	                     TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_null(fetch(state, "x", 1, NULL)); /* nothing half-stored */
}

#define THREADS 8
#define OPS     150

typedef struct worker_arg {
	void **state;
	int id;
	int failures;
} worker_arg;

static void *worker(void *p)
{
	worker_arg *a = p;
	void **state = a->state;
	cw_error err;
	char key[32], val[64];
	for (int i = 0; i < OPS; i++) {
		snprintf(key, sizeof key, "t%d:%d", a->id, i % 10);
		snprintf(val, sizeof val, "value-%d-%d", a->id, i);
		if (B->set(B->h, key, strlen(key), val, strlen(val),
		        CW_NO_EXPIRY, TIMEOUT_MS, &err) != CW_OK) {
			a->failures++;
			continue;
		}
		bool found;
		void *v;
		size_t n;
		if (B->get(B->h, key, strlen(key), &found, &v, &n, TIMEOUT_MS,
		        &err) != CW_OK ||
		    !found || n != strlen(val) || memcmp(v, val, n) != 0)
			a->failures++;
		if (found)
			cw_free(v);
	}
	return NULL;
}

static void concurrent_callers(void **state)
{
	pthread_t t[THREADS];
	worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (worker_arg){state, i, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, worker, &args[i]), 0);
	}
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		failures += args[i].failures;
	}
	assert_int_equal(failures, 0);
	cw_error err;
	uint64_t removed;
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, THREADS * 10);
}

/* ---- batches: GetMany / SetMany / DeleteMany ------------------------------
 */

#define KEY(s)         ((cw_key){(s), sizeof(s) - 1})
#define ENTRY(k, v, x) ((cw_entry){(k), sizeof(k) - 1, (v), sizeof(v) - 1, (x)})

static char sentinel; /* what an output that no call wrote points at */

static void prefill(cw_value *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		values[i] = (cw_value){true, &sentinel, 12345};
}

/* GetMany (which must succeed) and check the shape of every result. */
static void fetch_many(
    void **state, size_t n, const cw_key *keys, cw_value *values)
{
	cw_error err;
	prefill(values, n);
	int rc = B->get_many(B->h, n, keys, values, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: get_many: %s: %s", B->name, cw_strerror(rc),
		    err.message);
	for (size_t i = 0; i < n; i++) {
		if (!values[i].found) {
			assert_null(values[i].data); /* a miss: NULL, 0 */
			assert_int_equal(values[i].len, 0);
			continue;
		}
		assert_non_null(values[i].data);
		assert_ptr_not_equal(values[i].data, &sentinel);
		/* NUL-terminated one past len, for convenience */
		assert_int_equal(((char *)values[i].data)[values[i].len], 0);
	}
}

static void put_many(void **state, size_t n, const cw_entry *entries)
{
	cw_error err;
	int rc = B->set_many(B->h, n, entries, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: set_many: %s: %s", B->name, cw_strerror(rc),
		    err.message);
}

/* v is a hit holding exactly the string s. */
static void assert_value(const cw_value *v, const char *s)
{
	assert_true(v->found);
	assert_int_equal(v->len, strlen(s));
	assert_string_equal(v->data, s);
}

/* The call failed with code, and the message holds want (and want2). */
static void assert_failed(void **state, int rc, const cw_error *err, int code,
    const char *want, const char *want2)
{
	if (rc != code)
		fail_msg("%s: wanted %s (%s), got %s: %s", B->name,
		    cw_strerror(code), want, cw_strerror(rc),
		    rc == CW_OK ? "" : err->message);
	assert_int_equal(err->code, code);
	if (strstr(err->message, want) == NULL ||
	    (want2 != NULL && strstr(err->message, want2) == NULL))
		fail_msg("%s: message '%s' lacks '%s'/'%s'", B->name,
		    err->message, want, want2 ? want2 : "");
}

/* The raw Redis value at the (already prefixed) key, malloc'd, or NULL. */
static char *raw_get(void **state, const void *key, size_t len, size_t *vl)
{
	redisReply *r = redisCommand(B->raw, "GET %b", key, len);
	assert_non_null(r);
	char *v = NULL;
	if (r->type == REDIS_REPLY_STRING) {
		v = malloc(r->len + 1);
		assert_non_null(v);
		memcpy(v, r->str, r->len + 1);
		*vl = r->len;
	} else {
		assert_int_equal(r->type, REDIS_REPLY_NIL);
	}
	freeReplyObject(r);
	return v;
}

static void many_results_in_request_order(void **state)
{
	put(state, "a", "alpha", CW_NO_EXPIRY);
	put(state, "c", "gamma", CW_NO_EXPIRY);
	put(state, "e", "", CW_NO_EXPIRY);
	const cw_key keys[] = {
	    KEY("c"), KEY("b"), KEY("a"), KEY("e"), KEY("z")};
	cw_value v[5];
	fetch_many(state, 5, keys, v);
	assert_value(&v[0], "gamma");
	assert_false(v[1].found);
	assert_value(&v[2], "alpha");
	assert_value(&v[3], ""); /* found, with an empty value: not a miss */
	assert_false(v[4].found);
	cw_values_free(v, 5);
	for (int i = 0; i < 5; i++)
		assert_null(v[i].data);
	/* a batch of one is the single call */
	fetch_many(state, 1, &keys[2], v);
	assert_value(&v[0], "alpha");
	cw_values_free(v, 1);
}

static void many_of_nothing_is_ok(void **state)
{
	put(state, "k", "v", CW_NO_EXPIRY);
	cw_error err;
	cw_key key = KEY("k");
	cw_entry entry = ENTRY("k", "changed", CW_NO_EXPIRY);
	cw_value value = {true, &sentinel, 12345};
	bool existed = true;
	assert_int_equal(
	    B->get_many(B->h, 0, &key, &value, TIMEOUT_MS, &err), CW_OK);
	assert_ptr_equal(value.data, &sentinel); /* no item: nothing written */
	assert_int_equal(B->set_many(B->h, 0, &entry, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(
	    B->del_many(B->h, 0, &key, &existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed);
	/* with no items, the arrays may be NULL */
	assert_int_equal(
	    B->get_many(B->h, 0, NULL, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(B->set_many(B->h, 0, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(
	    B->del_many(B->h, 0, NULL, NULL, TIMEOUT_MS, &err), CW_OK);
	char *got = fetch(state, "k", 1, NULL);
	assert_string_equal(got, "v"); /* untouched */
	cw_free(got);
}

static void set_many_binary_round_trip(void **state)
{
	static const char k0[] = {'b', '\0', 'i', 'n'};
	static const char k1[] = {'b', '\0', 'i', 'n', '\xff', '\n'};
	static const char v1[] = {'\0', '\0', 'x', '\0'};
	unsigned char v0[256];
	for (int i = 0; i < 256; i++)
		v0[i] = (unsigned char)i;
	const cw_entry e[] = {
	    {k0, sizeof k0, v0, sizeof v0, CW_NO_EXPIRY},
	    {k1, sizeof k1, v1, sizeof v1, CW_NO_EXPIRY},
	    {"empty", 5, NULL, 0, CW_NO_EXPIRY}, /* NULL is fine for 0 bytes */
	    ENTRY("text", "plain", CW_NO_EXPIRY),
	};
	put_many(state, 4, e);
	const cw_key keys[] = {{k1, sizeof k1}, {k0, sizeof k0},
	    {k0, 2} /* differs from k0 only after the NUL */, KEY("empty"),
	    KEY("text")};
	cw_value v[5];
	fetch_many(state, 5, keys, v);
	assert_true(v[0].found);
	assert_int_equal(v[0].len, sizeof v1);
	assert_memory_equal(v[0].data, v1, sizeof v1);
	assert_true(v[1].found);
	assert_int_equal(v[1].len, sizeof v0);
	assert_memory_equal(v[1].data, v0, sizeof v0);
	assert_false(v[2].found);
	assert_value(&v[3], "");
	assert_value(&v[4], "plain");
	cw_values_free(v, 5);

	/* the single-key Get sees the same */
	size_t n;
	char *got = fetch(state, k1, sizeof k1, &n);
	assert_int_equal(n, sizeof v1);
	assert_memory_equal(got, v1, sizeof v1);
	cw_free(got);

	/* stored under the namespace prefix, as plain Redis strings */
	char raw_key[32];
	memcpy(raw_key, NS ":", 5);
	memcpy(raw_key + 5, k0, sizeof k0);
	got = raw_get(state, raw_key, 5 + sizeof k0, &n);
	assert_non_null(got);
	assert_int_equal(n, sizeof v0);
	assert_memory_equal(got, v0, sizeof v0);
	free(got);
	got = raw_get(state, NS ":text", strlen(NS ":text"), &n);
	assert_non_null(got);
	assert_string_equal(got, "plain");
	free(got);
	assert_int_equal(raw_int(state, "EXISTS %s", "text"), 0);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":empty"), 1);
}

static void many_duplicates(void **state)
{
	/* SetMany: the last entry of a key wins */
	const cw_entry e[] = {ENTRY("d", "one", CW_NO_EXPIRY),
	    ENTRY("o", "other", CW_NO_EXPIRY), ENTRY("d", "two", CW_NO_EXPIRY),
	    ENTRY("d", "three", CW_NO_EXPIRY)};
	put_many(state, 4, e);
	char *got = fetch(state, "d", 1, NULL);
	assert_string_equal(got, "three");
	cw_free(got);
	/* ... also when the last one removes it, or the first one did */
	const cw_entry gone[] = {ENTRY("g", "set", CW_NO_EXPIRY),
	    ENTRY("g", "past", CW_EXPIRE_AT_MS(1)),
	    ENTRY("h", "past", CW_EXPIRE_AT_MS(1)),
	    ENTRY("h", "back", CW_NO_EXPIRY)};
	put_many(state, 4, gone);
	assert_null(fetch(state, "g", 1, NULL));
	got = fetch(state, "h", 1, NULL);
	assert_string_equal(got, "back");
	cw_free(got);

	/* GetMany: the value for every occurrence, each its own copy */
	const cw_key keys[] = {
	    KEY("d"), KEY("x"), KEY("d"), KEY("o"), KEY("x"), KEY("d")};
	cw_value v[6];
	fetch_many(state, 6, keys, v);
	assert_value(&v[0], "three");
	assert_false(v[1].found);
	assert_value(&v[2], "three");
	assert_value(&v[3], "other");
	assert_false(v[4].found);
	assert_value(&v[5], "three");
	assert_ptr_not_equal(v[0].data, v[2].data);
	assert_ptr_not_equal(v[2].data, v[5].data);
	cw_values_free(v, 6);

	/* DeleteMany: existed is true for the first occurrence only */
	const cw_key del[] = {
	    KEY("d"), KEY("o"), KEY("d"), KEY("x"), KEY("x"), KEY("o")};
	bool existed[6] = {false, false, true, true, true, true};
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, 6, del, existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed[0]);
	assert_true(existed[1]);
	assert_false(existed[2]);
	assert_false(existed[3]);
	assert_false(existed[4]);
	assert_false(existed[5]);
	assert_null(fetch(state, "d", 1, NULL));
	assert_null(fetch(state, "o", 1, NULL));
}

static void set_many_each_entry_own_expiry(void **state)
{
	put(state, "gone", "old", CW_NO_EXPIRY);
	put(state, "plain", "old", CW_TTL_MS(60000));
	uint64_t now = cw_now_ms();
	const cw_entry e[] = {
	    ENTRY("ttl", "v", CW_TTL_MS(1500)),
	    ENTRY("plain", "v", CW_NO_EXPIRY), /* drops the earlier expiry */
	    ENTRY("gone", "new", CW_EXPIRE_AT_MS(now - 1000)),
	    ENTRY("at", "v", CW_EXPIRE_AT_MS(now + 60000)),
	    ENTRY("zero", "v", CW_TTL_MS(0)),
	    ENTRY("epoch", "v", CW_EXPIRE_AT_MS(1)),
	    ENTRY("short", "v", CW_TTL_MS(600)),
	};
	put_many(state, 7, e);
	long long pttl = raw_int(state, "PTTL %s", NS ":ttl");
	assert_true(pttl > 1000 && pttl <= 1500); /* ms kept as such */
	assert_int_equal(raw_int(state, "PTTL %s", NS ":plain"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":gone"), 0);
	pttl = raw_int(state, "PTTL %s", NS ":at");
	assert_true(pttl > 50000 && pttl <= 60000);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":zero"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":epoch"), 0);

	const cw_key keys[] = {KEY("ttl"), KEY("plain"), KEY("gone"), KEY("at"),
	    KEY("zero"), KEY("epoch"), KEY("short")};
	cw_value v[7];
	fetch_many(state, 7, keys, v);
	assert_value(&v[0], "v");
	assert_value(&v[1], "v");
	assert_false(v[2].found); /* past absolute expiry: removed, no error */
	assert_value(&v[3], "v");
	assert_value(&v[4], "v");
	assert_false(v[5].found);
	assert_value(&v[6], "v");
	cw_values_free(v, 7);
	cw_test_sleep_ms(1300);
	assert_null(fetch(state, "short", 5, NULL));
	assert_int_equal(raw_int(state, "PTTL %s", NS ":plain"), -1);
}

static void delete_many_present_and_missing(void **state)
{
	put(state, "a", "v", CW_NO_EXPIRY);
	put(state, "c", "v", CW_NO_EXPIRY);
	const cw_key keys[] = {KEY("a"), KEY("b"), KEY("c")};
	bool existed[3] = {false, true, false};
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, 3, keys, existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed[0]);
	assert_false(existed[1]);
	assert_true(existed[2]);
	assert_null(fetch(state, "a", 1, NULL));
	assert_null(fetch(state, "c", 1, NULL));
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":a"), 0);
	/* existed may be NULL */
	put(state, "a", "v", CW_NO_EXPIRY);
	assert_int_equal(
	    B->del_many(B->h, 3, keys, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_null(fetch(state, "a", 1, NULL));
}

static void batch_is_checked_as_a_whole(void **state)
{
	cw_error err;
	int rc;
	char *big = calloc(1, MAX_VALUE + 1);
	assert_non_null(big);
	memset(big, 'k', MAX_KEY + 1);

	/* SetMany: one bad entry, anywhere, and nothing is written */
	cw_entry e[] = {ENTRY("s0", "v", CW_NO_EXPIRY),
	    ENTRY("s1", "v", CW_NO_EXPIRY), ENTRY("s2", "v", CW_NO_EXPIRY)};
	e[2].key_len = 0;
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "entries[2]: key is empty", NULL);
	e[2].key_len = 2;
	e[1].key = big;
	e[1].key_len = MAX_KEY + 1;
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(
	    state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", "1025");
	e[1].key = NULL; /* NULL with a length */
	e[1].key_len = 2;
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", NULL);
	e[1] = (cw_entry){"s1", 2, NULL, 4, CW_NO_EXPIRY}; /* value NULL */
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", NULL);
	e[1] = ENTRY("s1", "v", CW_NO_EXPIRY);
	e[2].expiry = CW_TTL_MS(UINT64_MAX);
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[2]", NULL);
	e[2].expiry = CW_EXPIRE_AT_MS(CW_EXPIRY_MAX_MS + 1);
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[2]", NULL);
	/* a value over the limit is RESOURCE_EXHAUSTED, as for Set */
	e[2] = (cw_entry){"s2", 2, big, MAX_VALUE + 1, CW_NO_EXPIRY};
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_RESOURCE_EXHAUSTED,
	    "entries[2]: value is 16777217 bytes; the limit is 16777216", NULL);
	free(big);
	assert_null(fetch(state, "s0", 2, NULL));
	assert_null(fetch(state, "s1", 2, NULL));
	assert_null(fetch(state, "s2", 2, NULL));
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":s0"), 0);

	/* GetMany: the index is named; no result is written */
	put(state, "kept", "v", CW_NO_EXPIRY);
	cw_key keys[] = {KEY("kept"), KEY("a"), KEY("b"), {"", 0}, KEY("c")};
	cw_value v[5];
	prefill(v, 5);
	rc = B->get_many(B->h, 5, keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "keys[3]: key is empty", NULL);
	assert_ptr_equal(v[0].data, &sentinel);
	keys[3] = (cw_key){NULL, 4};
	rc = B->get_many(B->h, 5, keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "keys[3]", NULL);
	assert_ptr_equal(v[0].data, &sentinel);

	/* DeleteMany: a bad last key, and the earlier ones stay */
	bool existed[5] = {false, true, true, true, true};
	keys[3] = KEY("d");
	keys[4] = (cw_key){"", 0};
	rc = B->del_many(B->h, 5, keys, existed, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "keys[4]: key is empty", NULL);
	assert_false(existed[0]); /* not written */
	char *got = fetch(state, "kept", 4, NULL);
	assert_non_null(got);
	cw_free(got);
}

#define BATCH_LIMIT 1000 /* cache.max_batch_keys' default */

/* n keys "<prefix><i>", and entries storing "value-<i>" under them. */
typedef struct batch {
	size_t n;
	char (*names)[32];
	char (*values)[32];
	cw_key *keys;
	cw_entry *entries;
} batch;

static void batch_make(batch *b, const char *prefix, size_t n)
{
	b->n = n;
	b->names = calloc(n, sizeof *b->names);
	b->values = calloc(n, sizeof *b->values);
	b->keys = calloc(n, sizeof *b->keys);
	b->entries = calloc(n, sizeof *b->entries);
	assert_non_null(b->names);
	assert_non_null(b->values);
	assert_non_null(b->keys);
	assert_non_null(b->entries);
	for (size_t i = 0; i < n; i++) {
		snprintf(b->names[i], sizeof b->names[i], "%s%zu", prefix, i);
		snprintf(b->values[i], sizeof b->values[i], "value-%zu", i);
		size_t kl = strlen(b->names[i]);
		b->keys[i] = (cw_key){b->names[i], kl};
		b->entries[i] = (cw_entry){b->names[i], kl, b->values[i],
		    strlen(b->values[i]), CW_NO_EXPIRY};
	}
}

static void batch_free(batch *b)
{
	free(b->names);
	free(b->values);
	free(b->keys);
	free(b->entries);
}

static void big_batch(void **state)
{
	size_t n = BATCH_LIMIT;
	batch b;
	batch_make(&b, "big:", n);
	put_many(state, n, b.entries);

	/* every key landed under the namespace prefix */
	char raw_key[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(raw_key, sizeof raw_key, NS ":%s", b.names[i]);
		assert_int_equal(raw_int(state, "EXISTS %s", raw_key), 1);
	}
	assert_int_equal(raw_int(state, "EXISTS %s", "big:0"), 0);
	size_t len;
	char *got = raw_get(state, NS ":big:999", strlen(NS ":big:999"), &len);
	assert_non_null(got);
	assert_string_equal(got, "value-999");
	free(got);

	/* all of them back, in reverse order, every third one a miss */
	cw_key *ask = calloc(n, sizeof *ask);
	char(*missing)[32] = calloc(n, sizeof *missing);
	cw_value *v = calloc(n, sizeof *v);
	assert_non_null(ask);
	assert_non_null(missing);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0) {
			snprintf(missing[i], sizeof missing[i], "nope:%zu", i);
			ask[i] = (cw_key){missing[i], strlen(missing[i])};
		} else {
			ask[i] = b.keys[n - 1 - i];
		}
	}
	fetch_many(state, n, ask, v);
	char want[32];
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0) {
			assert_false(v[i].found);
			continue;
		}
		snprintf(want, sizeof want, "value-%zu", n - 1 - i);
		assert_value(&v[i], want);
	}
	cw_values_free(v, n);

	/* and all of them deleted */
	bool *existed = calloc(n, sizeof *existed);
	assert_non_null(existed);
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, n, b.keys, existed, TIMEOUT_MS, &err), CW_OK);
	for (size_t i = 0; i < n; i++)
		assert_true(existed[i]);
	uint64_t removed = 99;
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, 0);

	free(existed);
	free(v);
	free(missing);
	free(ask);
	batch_free(&b);
}

static void batch_over_the_limit(void **state)
{
	size_t n = BATCH_LIMIT + 1;
	batch b;
	batch_make(&b, "over:", n);
	cw_error err;
	int rc = B->set_many(B->h, n, b.entries, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":over:0"), 0);
	assert_null(fetch(state, "over:0", 6, NULL));

	cw_value *v = calloc(n, sizeof *v);
	assert_non_null(v);
	prefill(v, n);
	rc = B->get_many(B->h, n, b.keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	assert_ptr_equal(v[0].data, &sentinel);

	put(state, "over:0", "v", CW_NO_EXPIRY);
	rc = B->del_many(B->h, n, b.keys, NULL, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	char *got = fetch(state, "over:0", 6, NULL); /* nothing deleted */
	assert_non_null(got);
	cw_free(got);

	free(v);
	batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest cases[] = {
	    cmocka_unit_test_setup(hit_and_miss, clean),
	    cmocka_unit_test_setup(overwrite_and_empty_value, clean),
	    cmocka_unit_test_setup(binary_keys_and_values, clean),
	    cmocka_unit_test_setup(large_value, clean),
	    cmocka_unit_test_setup(ttl_expires_with_ms_precision, clean),
	    cmocka_unit_test_setup(zero_means_no_expiry, clean),
	    cmocka_unit_test_setup(absolute_expiry, clean),
	    cmocka_unit_test_setup(
	        past_absolute_expiry_removes_and_succeeds, clean),
	    cmocka_unit_test_setup(delete_present_and_missing, clean),
	    cmocka_unit_test_setup(clear_removes_only_the_namespace, clean),
	    cmocka_unit_test_setup(limits_and_bad_arguments, clean),
	    cmocka_unit_test_setup(concurrent_callers, clean),
	    cmocka_unit_test_setup(many_results_in_request_order, clean),
	    cmocka_unit_test_setup(many_of_nothing_is_ok, clean),
	    cmocka_unit_test_setup(set_many_binary_round_trip, clean),
	    cmocka_unit_test_setup(many_duplicates, clean),
	    cmocka_unit_test_setup(set_many_each_entry_own_expiry, clean),
	    cmocka_unit_test_setup(delete_many_present_and_missing, clean),
	    cmocka_unit_test_setup(batch_is_checked_as_a_whole, clean),
	    cmocka_unit_test_setup(big_batch, clean),
	    cmocka_unit_test_setup(batch_over_the_limit, clean),
	};
	int failed = 0;
	failed += cmocka_run_group_tests_name(
	    "conformance: cache core", cases, setup_core, teardown_core);
	failed += cmocka_run_group_tests_name("conformance: client over tcp",
	    cases, setup_remote_tcp, teardown_remote);
	failed += cmocka_run_group_tests_name("conformance: client over ipc",
	    cases, setup_remote_ipc, teardown_remote);
	nng_fini(); /* let nng finish closing, so leak checks see only ours */
	return failed;
}
