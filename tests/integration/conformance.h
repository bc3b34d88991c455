/*
 * conformance.h - what the conformance suite's files share: the backend
 * interface (the cache core, or the client over tcp or ipc, each with a
 * raw hiredis line to the same Redis for checks), its setups, and small
 * helpers. Most cases are in tests/conformance/cases.txt, shared with the
 * Python client: conformance_cases.c reads them into the steps below and
 * shared_cases (conformance_backends.c) runs them. The C-only cases (what
 * lands in Redis, NULL pointers of the C API, threads) are in
 * test_conformance.c (single keys) and conformance_batch.c (batches).
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
/* the same, with cw_client_options.no_coalescing */
int setup_remote_tcp_alone(void **state);
int setup_remote_ipc(void **state);
int teardown_remote(void **state);
int setup_core_cluster(void **state);
int teardown_core_cluster(void **state);
int setup_remote_cluster(void **state);
int teardown_remote_cluster(void **state);

/* Empty the namespace before each case so counts are exact. */
int clean(void **state);
void put(void **state, const char *k, const char *v, cw_expiry x);
/* Get k; returns the value (free()) or NULL on a miss. */
char *fetch(void **state, const void *k, size_t kl, size_t *vl);
long long raw_int(void **state, const char *fmt, const char *arg);

/* The C-only batch cases (conformance_batch.c). */
void set_many_lands_in_redis(void **state);
void many_of_nothing_c_api(void **state);
void batch_is_checked_as_a_whole_c_api(void **state);
/* The asynchronous forms (conformance_async.c). */
void async_results_c_api(void **state);

/* ---- the shared cases (tests/conformance/cases.txt), as read ------------- */

enum case_op { SET, GET, DEL, CLEAR, GET_MANY, SET_MANY, DEL_MANY, SLEEP };
extern const char *const case_ops[]; /* their names in the file */
enum case_expiry { X_NONE, X_TTL, X_AT_REL, X_AT_ABS };
enum case_result { R_VALUE, R_MISS, R_TRUE, R_FALSE };

typedef struct bytes {
	unsigned char *p; /* never NULL once read, even for 0 bytes */
	size_t n;
} bytes;

typedef struct item { /* a key, or an entry (key, value, expiry) */
	bytes key, value;
	int xkind;   /* enum case_expiry */
	int64_t xms; /* ttl ms, ms from now (X_AT_REL), Unix ms (X_AT_ABS) */
} item;

typedef struct result { /* what a get (or a delete) must answer */
	int kind;       /* enum case_result */
	bytes value;    /* R_VALUE */
} result;

typedef struct step {
	int op, line; /* enum case_op; its line in the file */
	size_t n_items, n_results;
	item *items;     /* keys, or entries of set/set_many */
	result *results; /* one per item (get, delete, get_many, delete_many) */
	uint64_t number; /* clear's count, sleep's ms */
	int status;      /* the error it must fail with (0: none) */
	bytes message;   /* ... whose message holds this (p NULL: any) */
} step;

typedef struct conf_case {
	char name[96];
	size_t n, cap;
	step *steps;
} conf_case;

#define MAX_SETTINGS 16
typedef struct conf_cases {
	bool loaded;
	char path[512];
	char error[1100]; /* "file:line: what" when it could not be read */
	size_t n_settings;
	char names[MAX_SETTINGS][64]; /* e.g. cache.max_key_bytes */
	uint64_t values[MAX_SETTINGS];
	char env_text[MAX_SETTINGS]
	             [128]; /* CACHEWIRE_CACHE_MAX_KEY_BYTES=1024 */
	const char *env[MAX_SETTINGS + 1]; /* NULL-terminated, for the daemon */
	conf_case *cases;
	size_t n_cases;
} conf_cases;

/* Read the file ($CW_CONFORMANCE_CASES, else the source tree's) the first
 * time; later calls return the same. error[0] != 0 when it failed. */
const conf_cases *cases_load(void);
void cases_free(void);
/* The cmocka test running every shared case on the group's backend. */
void shared_cases(void **state);

#endif
