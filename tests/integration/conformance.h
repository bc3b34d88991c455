/*
 * conformance.h - what the conformance suite's files share: the backend
 * interface (the cache core, or the client over tcp or ipc, each with a
 * raw hiredis line to the same Redis for checks), its setups, and small
 * helpers. The cases are in test_conformance.c (single keys) and
 * conformance_batch.c (GetMany / SetMany / DeleteMany).
 */
#ifndef CW_TEST_CONFORMANCE_H
#define CW_TEST_CONFORMANCE_H

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

#define B ((backend *)*state)

/* Group setups: one backend each, with its own Redis (and cachewired). */
int setup_core(void **state);
int teardown_core(void **state);
int setup_remote_tcp(void **state);
int setup_remote_ipc(void **state);
int teardown_remote(void **state);

/* Empty the namespace before each case so counts are exact. */
int clean(void **state);
void put(void **state, const char *k, const char *v, cw_expiry x);
/* Get k; returns the value (free()) or NULL on a miss. */
char *fetch(void **state, const void *k, size_t kl, size_t *vl);
long long raw_int(void **state, const char *fmt, const char *arg);

/* The batch cases (conformance_batch.c). */
void many_results_in_request_order(void **state);
void many_of_nothing_is_ok(void **state);
void set_many_binary_round_trip(void **state);
void many_duplicates(void **state);
void set_many_each_entry_own_expiry(void **state);
void delete_many_present_and_missing(void **state);
void batch_is_checked_as_a_whole(void **state);
void big_batch(void **state);
void batch_over_the_limit(void **state);

#endif
