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
	static backend b = {"core", core_get, core_set, core_del, core_clear};
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
	static backend tcp = {
	    "remote tcp", remote_get, remote_set, remote_del, remote_clear};
	static backend unix_ = {
	    "remote ipc", remote_get, remote_set, remote_del, remote_clear};
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
