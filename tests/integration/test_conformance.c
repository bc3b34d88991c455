/*
 * test_conformance.c - ONE suite of cache-contract cases, run three times:
 * against the cache core (in process, over hiredis) and against the remote
 * client (libcachewire -> nng -> a real cachewired -> the same kind of
 * Redis) over tcp and over ipc. Every backend must pass the same cases; raw
 * hiredis checks what landed in Redis. The single-key cases are here, the
 * batch cases in conformance_batch.c, the backends in
 * conformance_backends.c.
 */
#include "conformance.h"

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
	return cw_test_exit(failed);
}
