/*
 * test_conformance.c - ONE suite of cache-contract cases, run four times:
 * against the cache core (in process, over hiredis) and against the remote
 * client (libcachewire -> nng -> a real cachewired -> the same kind of
 * Redis) over tcp, over tcp with coalescing off (no_coalescing), and over
 * ipc. Every backend must pass the same cases.
 * With CW_TEST_CLUSTER_NODES set (integration/test_cluster.sh), the core
 * and the client over tcp run them on that Redis Cluster instead.
 *
 * Where the cases live:
 * - tests/conformance/cases.txt: everything a client can see (hit/miss,
 *   overwrite, empty and binary values, large values, ttl / absolute /
 *   past expiry, delete, clear counts, limits and their errors, and every
 *   batch case). It is shared with the Python client
 *   (tests/python/test_conformance.py); here conformance_cases.c reads it
 *   and shared_cases (conformance_backends.c) runs it on each backend.
 * - this file: what only C can check: the keys and TTLs that land in Redis
 *   (raw hiredis), clear leaving other namespaces alone, the C API's NULL
 *   outputs and out-of-range expiries, and concurrent callers.
 * - conformance_batch.c: the same for GetMany / SetMany / DeleteMany.
 * - conformance_async.c: what the asynchronous forms' results carry.
 */
#include "conformance.h"

/* ---- C-only cases: what a client cannot see --------------------------------
 */

static void what_lands_in_redis(void **state)
{
	/* stored under the namespace prefix, as a plain string */
	put(state, "pip:foo", "bar", CW_NO_EXPIRY);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":pip:foo"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "pip:foo"), 0);
	/* 1500 ms kept as such: not truncated to 1 s or rounded to 2 s */
	put(state, "ms", "v", CW_TTL_MS(1500));
	long long pttl = raw_int(state, "PTTL %s", NS ":ms");
	assert_true(pttl > 1000 && pttl <= 1500);
	/* zero, of either kind, means no expiry at all */
	put(state, "a", "v", CW_TTL_MS(0));
	put(state, "b", "v", CW_EXPIRE_AT_MS(0));
	put(state, "c", "v", CW_NO_EXPIRY);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":a"), -1);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":b"), -1);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":c"), -1);
	/* a plain set removes an earlier expiry */
	put(state, "d", "v", CW_TTL_MS(60000));
	put(state, "d", "v", CW_NO_EXPIRY);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":d"), -1);
	/* absolute expiry becomes the matching TTL */
	put(state, "future", "v", CW_EXPIRE_AT_MS(cw_now_ms() + 60000));
	pttl = raw_int(state, "PTTL %s", NS ":future");
	assert_true(pttl > 50000 && pttl <= 60000);
	/* a past one removes the key from Redis, not just from view */
	put(state, "old", "new", CW_EXPIRE_AT_MS(cw_now_ms() - 1000));
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":old"), 0);
}

static void clear_removes_only_the_namespace(void **state)
{
	/* neighbours: another namespace, a look-alike prefix, a glob trap */
	redisContext *r = B->raw;
	freeReplyObject(redisCommand(r, "SET other:keep 1"));
	freeReplyObject(redisCommand(r, "SET confx:keep 1"));
	freeReplyObject(redisCommand(r, "SET conf 1"));
	put(state, "k", "v", CW_NO_EXPIRY);
	put(state, "*", "glob", CW_NO_EXPIRY);
	cw_error err;
	uint64_t removed = 0;
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(raw_int(state, "EXISTS %s", "other:keep"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "confx:keep"), 1);
	assert_int_equal(raw_int(state, "EXISTS %s", "conf"), 1);
	freeReplyObject(redisCommand(r, "DEL other:keep confx:keep conf"));
}

static void c_api_outputs_and_expiry_range(void **state)
{
	/* values come back NUL-terminated one past their length */
	put(state, "k", "bar", CW_NO_EXPIRY);
	size_t n;
	char *v = fetch(state, "k", 1, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v, "bar");
	cw_free(v);
	/* the error carries the code; outputs may be NULL */
	cw_error err;
	bool found;
	assert_int_equal(
	    B->get(B->h, "", 0, &found, (void **)&v, &n, TIMEOUT_MS, &err),
	    CW_INVALID_ARGUMENT);
	assert_int_equal(err.code, CW_INVALID_ARGUMENT);
	assert_int_equal(B->del(B->h, "k", 1, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(
	    B->del(B->h, "never", 5, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(B->clear(B->h, NULL, TIMEOUT_MS, &err), CW_OK);
	/* expiries beyond what Redis can hold (no other client sends these) */
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
	    /* every case of tests/conformance/cases.txt */
	    cmocka_unit_test(shared_cases),
	    /* C-only: here and in conformance_batch.c */
	    cmocka_unit_test_setup(what_lands_in_redis, clean),
	    cmocka_unit_test_setup(clear_removes_only_the_namespace, clean),
	    cmocka_unit_test_setup(c_api_outputs_and_expiry_range, clean),
	    cmocka_unit_test_setup(concurrent_callers, clean),
	    cmocka_unit_test_setup(set_many_lands_in_redis, clean),
	    cmocka_unit_test_setup(many_of_nothing_c_api, clean),
	    cmocka_unit_test_setup(batch_is_checked_as_a_whole_c_api, clean),
	    cmocka_unit_test_setup(async_results_c_api, clean),
	};
	/* what needs no raw line to one Redis (see setup_core_cluster) */
	const struct CMUnitTest on_cluster[] = {
	    cmocka_unit_test(shared_cases),
	    cmocka_unit_test_setup(c_api_outputs_and_expiry_range, clean),
	    cmocka_unit_test_setup(concurrent_callers, clean),
	    cmocka_unit_test_setup(many_of_nothing_c_api, clean),
	    cmocka_unit_test_setup(async_results_c_api, clean),
	};
	int failed = 0;
	if (getenv("CW_TEST_CLUSTER_NODES") != NULL) {
		failed += cmocka_run_group_tests_name(
		    "conformance on Redis Cluster: cache core", on_cluster,
		    setup_core_cluster, teardown_core_cluster);
		failed += cmocka_run_group_tests_name(
		    "conformance on Redis Cluster: client over tcp", on_cluster,
		    setup_remote_cluster, teardown_remote_cluster);
		cases_free();
		return cw_test_exit(failed);
	}
	failed += cmocka_run_group_tests_name(
	    "conformance: cache core", cases, setup_core, teardown_core);
	failed += cmocka_run_group_tests_name("conformance: client over tcp",
	    cases, setup_remote_tcp, teardown_remote);
	failed += cmocka_run_group_tests_name(
	    "conformance: client over tcp, no coalescing", cases,
	    setup_remote_tcp_alone, teardown_remote);
	failed += cmocka_run_group_tests_name("conformance: client over ipc",
	    cases, setup_remote_ipc, teardown_remote);
	cases_free();
	return cw_test_exit(failed);
}
