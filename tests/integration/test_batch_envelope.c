/*
 * test_batch_envelope.c - batch envelopes (rpc.proto: Request.calls) sent
 * over a real nng socket to a real cachewired: every call of a batch gets
 * its own Reply, in order, with its own status, as if it had come alone;
 * its own token and namespace; its own deadline. Hostile batches: a
 * nested batch, a call that is not a Request, more calls than
 * server.max_in_flight, a batch with a method of its own. Ping says the
 * server takes batches. The daemon serves on and exits 0.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"
#include "servers.h"

#define TOKEN "batch-token-0123456789abcdef"

typedef struct fixture {
	cw_test_redis redis;
	cw_test_daemon daemon;
	nng_socket sock;
	char tokens[256];
} fixture;

static int setup(void **state)
{
	static fixture f;
	snprintf(f.tokens, sizeof f.tokens, "/tmp/cw-batch-tokens-%d.yaml",
	    (int)getpid());
	FILE *t = fopen(f.tokens, "w");
	if (t == NULL)
		return -1;
	fprintf(t, "- token: %s\n  namespaces: [a, b]\n", TOKEN);
	fclose(t);
	if (cw_test_redis_start(&f.redis, NULL, false, NULL) != 0)
		return -1;
	char tokens_env[300];
	snprintf(tokens_env, sizeof tokens_env, "CACHEWIRE_AUTH_TOKENS_FILE=%s",
	    f.tokens);
	const char *env[] = {"CACHEWIRE_SERVER_MAX_IN_FLIGHT=8",
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=3000", tokens_env, NULL};
	if (cw_test_daemon_start(&f.daemon, f.redis.url, env) != 0)
		return -1;
	if (nng_req0_open(&f.sock) != 0 ||
	    nng_dial(f.sock, f.daemon.tcp_url, NULL, 0) != 0)
		return -1;
	nng_socket_set_ms(f.sock, NNG_OPT_RECVTIMEO, 10000);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	cw_test_nng_close(f->sock);
	int status = cw_test_daemon_stop(&f->daemon);
	cw_test_redis_stop(&f->redis, false);
	remove(f->tokens);
	return status == 0 ? 0 : -1;
}

#define F ((fixture *)*state)

/* ---- building requests ------------------------------------------------ */

typedef struct call {
	Cachewire__V1__Request req;
	uint8_t payload[256];
} call;

/* A call of method with its request message, token, namespace and
 * timeout. */
static void make(call *c, const char *method, const ProtobufCMessage *in,
    const char *ns, uint32_t timeout_ms)
{
	cachewire__v1__request__init(&c->req);
	c->req.method = (char *)method;
	c->req.auth_token = TOKEN;
	c->req.namespace_ = (char *)(ns != NULL ? ns : "");
	c->req.timeout_ms = timeout_ms;
	if (in != NULL) {
		assert_true(protobuf_c_message_get_packed_size(in) <=
		            sizeof c->payload);
		c->req.payload.len = protobuf_c_message_pack(in, c->payload);
		c->req.payload.data = c->payload;
	}
}

static void get(call *c, const char *key, const char *ns, uint32_t tmo)
{
	Cachewire__V1__GetRequest g = CACHEWIRE__V1__GET_REQUEST__INIT;
	g.key.data = (uint8_t *)key;
	g.key.len = strlen(key);
	make(c, "/cachewire.v1.Cache/Get", &g.base, ns, tmo);
}

static void set(call *c, const char *key, const char *value, const char *ns)
{
	Cachewire__V1__SetRequest s = CACHEWIRE__V1__SET_REQUEST__INIT;
	s.key.data = (uint8_t *)key;
	s.key.len = strlen(key);
	s.value.data = (uint8_t *)value;
	s.value.len = strlen(value);
	make(c, "/cachewire.v1.Cache/Set", &s.base, ns, 0);
}

/* Send the batch of n calls (method: the batch's own, normally NULL),
 * return its decoded Reply. */
static Cachewire__V1__Reply *send_batch(
    void **state, call *calls, size_t n, const char *method)
{
	Cachewire__V1__Request batch = CACHEWIRE__V1__REQUEST__INIT;
	Cachewire__V1__Request **p = calloc(n, sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = &calls[i].req;
	batch.n_calls = n;
	batch.calls = p;
	if (method != NULL)
		batch.method = (char *)method;
	size_t len = cachewire__v1__request__get_packed_size(&batch);
	uint8_t *buf = malloc(len);
	cachewire__v1__request__pack(&batch, buf);
	free(p);
	assert_int_equal(nng_send(F->sock, buf, len, 0), 0);
	free(buf);
	char *rep = NULL;
	size_t rn = 0;
	assert_int_equal(nng_recv(F->sock, &rep, &rn, NNG_FLAG_ALLOC), 0);
	Cachewire__V1__Reply *r =
	    cachewire__v1__reply__unpack(NULL, rn, (uint8_t *)rep);
	nng_free(rep, rn);
	assert_non_null(r);
	return r;
}

static void expect_code(
    const Cachewire__V1__Reply *r, int code, const char *fragment)
{
	if ((int)r->code != code ||
	    (fragment != NULL && strstr(r->message, fragment) == NULL))
		fail_msg("got code %d \"%s\", want %d \"...%s...\"", r->code,
		    r->message, code, fragment != NULL ? fragment : "");
}

/* The value a Get reply holds, or NULL on a miss. */
static char *got(const Cachewire__V1__Reply *r)
{
	expect_code(r, 0, NULL);
	Cachewire__V1__GetResponse *g = cachewire__v1__get_response__unpack(
	    NULL, r->payload.len, r->payload.data);
	assert_non_null(g);
	char *v =
	    g->found ? strndup((char *)g->value.data, g->value.len) : NULL;
	cachewire__v1__get_response__free_unpacked(g, NULL);
	return v;
}

/* ---- the cases ------------------------------------------------------------
 */

static void each_call_its_own_reply_in_order(void **state)
{
	/* The calls of a batch run side by side, in no set order (as
	 * separate messages would): what one writes, another of the same
	 * batch may or may not see. So the keys read here were written by an
	 * earlier batch, and each reply is told apart by its key's value. */
	call w[2];
	set(&w[0], "k1", "one", NULL);
	set(&w[1], "k2", "two", NULL);
	Cachewire__V1__Reply *r = send_batch(state, w, 2, NULL);
	assert_int_equal(r->n_replies, 2);
	expect_code(r->replies[0], 0, NULL);
	expect_code(r->replies[1], 0, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);

	call c[7];
	Cachewire__V1__GetRequest empty = CACHEWIRE__V1__GET_REQUEST__INIT;
	get(&c[0], "k2", NULL, 0);
	get(&c[1], "k1", NULL, 0);
	get(&c[2], "missing", NULL, 0);
	make(&c[3], "/cachewire.v1.Cache/Get", &empty.base, NULL, 0);
	make(&c[4], "/cachewire.v1.Cache/Frobnicate", NULL, NULL, 0);
	set(&c[5], "k3", "three", NULL);
	get(&c[6], "k1", NULL, 0);
	r = send_batch(state, c, 7, NULL);
	expect_code(r, 0, NULL);
	assert_int_equal(r->n_replies, 7);
	char *v = got(r->replies[0]);
	assert_string_equal(v, "two");
	free(v);
	v = got(r->replies[1]);
	assert_string_equal(v, "one");
	free(v);
	assert_null(got(r->replies[2]));
	expect_code(r->replies[3], 3, "key is empty");
	expect_code(r->replies[4], 12, "Frobnicate");
	expect_code(r->replies[5], 0, NULL);
	v = got(r->replies[6]);
	assert_string_equal(v, "one");
	free(v);
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* what the batch wrote is there once it has answered */
	call after;
	get(&after, "k3", NULL, 0);
	r = send_batch(state, &after, 1, NULL);
	v = got(r->replies[0]);
	assert_string_equal(v, "three");
	free(v);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void each_call_its_own_token_and_namespace(void **state)
{
	call c[3];
	set(&c[0], "t", "in a", "a");
	set(&c[1], "t", "in b", "b");
	get(&c[2], "t", "c", 0); /* the token does not list c */
	c[1].req.auth_token = "not-a-token";
	Cachewire__V1__Reply *r = send_batch(state, c, 3, NULL);
	assert_int_equal(r->n_replies, 3);
	expect_code(r->replies[0], 0, NULL);
	expect_code(r->replies[1], 16, NULL); /* UNAUTHENTICATED */
	expect_code(r->replies[2], 7, NULL);  /* PERMISSION_DENIED */
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* read back by a later batch (a batch's calls run in no set
	 * order): a's value is there, the refused call stored nothing */
	get(&c[0], "t", "a", 0);
	get(&c[1], "t", "b", 0);
	r = send_batch(state, c, 2, NULL);
	assert_int_equal(r->n_replies, 2);
	char *v = got(r->replies[0]);
	assert_non_null(v);
	assert_string_equal(v, "in a");
	free(v);
	assert_null(got(r->replies[1]));
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void hostile_batches(void **state)
{
	/* a call that is itself a batch, and one that is not a Request */
	call c[3], inner;
	get(&inner, "k", NULL, 0);
	get(&c[0], "k", NULL, 0);
	Cachewire__V1__Request *nested[] = {&inner.req};
	c[0].req.n_calls = 1;
	c[0].req.calls = nested;
	get(&c[1], "k", NULL, 0);
	get(&c[2], "k", NULL, 0);
	Cachewire__V1__Reply *r = send_batch(state, c, 3, NULL);
	assert_int_equal(r->n_replies, 3);
	expect_code(r->replies[0], 3, "cannot be a batch");
	expect_code(r->replies[1], 0, NULL);
	expect_code(r->replies[2], 0, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* a call's bytes that do not decode (a group's wire type) */
	static const uint8_t bad[] = {0x32, 0x02, 0x0b, 0x00};
	assert_int_equal(nng_send(F->sock, (void *)bad, sizeof bad, 0), 0);
	char *rep = NULL;
	size_t rn = 0;
	assert_int_equal(nng_recv(F->sock, &rep, &rn, NNG_FLAG_ALLOC), 0);
	r = cachewire__v1__reply__unpack(NULL, rn, (uint8_t *)rep);
	nng_free(rep, rn);
	assert_non_null(r);
	assert_int_equal(r->n_replies, 1);
	expect_code(r->replies[0], 3, "not a cachewire.v1.Request");
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* more calls than server.max_in_flight (8): refused as a whole */
	call many[9];
	for (int i = 0; i < 9; i++)
		get(&many[i], "k", NULL, 0);
	r = send_batch(state, many, 9, NULL);
	expect_code(r, 8, "server.max_in_flight");
	assert_int_equal(r->n_replies, 0);
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* a batch with a method of its own: the calls decide, not it */
	r = send_batch(state, many, 2, "/cachewire.v1.Cache/Clear");
	assert_int_equal(r->n_replies, 2);
	expect_code(r->replies[0], 0, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* no method and no calls: an empty request, as before batches (here
	 * without a token, so refused as such) */
	Cachewire__V1__Reply *e = send_batch(state, many, 0, NULL);
	expect_code(e, 16, "bearer token");
	cachewire__v1__reply__free_unpacked(e, NULL);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void each_call_its_own_deadline(void **state)
{
	call c[2];
	get(&c[0], "k", NULL, 300);
	get(&c[1], "k", NULL, 1200);
	kill(F->redis.pid, SIGSTOP);
	long long t0 = now_ms();
	Cachewire__V1__Reply *r = send_batch(state, c, 2, NULL);
	long long took = now_ms() - t0;
	kill(F->redis.pid, SIGCONT);
	assert_int_equal(r->n_replies, 2);
	expect_code(r->replies[0], 4, NULL); /* DEADLINE_EXCEEDED */
	expect_code(r->replies[1], 4, NULL);
	/* the reply waits for the slowest call, and no longer */
	assert_true(took >= 1100);
	assert_true(took < 3000 + 2000);
	cachewire__v1__reply__free_unpacked(r, NULL);
	/* served again once Redis is back */
	call p;
	make(&p, "/cachewire.v1.Cache/Ping", NULL, NULL, 5000);
	for (int i = 0; i < 50; i++) {
		r = send_batch(state, &p, 1, NULL);
		int code = (int)r->replies[0]->code;
		cachewire__v1__reply__free_unpacked(r, NULL);
		if (code == 0)
			return;
		cw_test_sleep_ms(100);
	}
	fail_msg("not served again after Redis came back");
}

static void ping_says_batches(void **state)
{
	call p;
	make(&p, "/cachewire.v1.Cache/Ping", NULL, NULL, 0);
	Cachewire__V1__Reply *r = send_batch(state, &p, 1, NULL);
	expect_code(r->replies[0], 0, NULL);
	Cachewire__V1__PingResponse *pr = cachewire__v1__ping_response__unpack(
	    NULL, r->replies[0]->payload.len, r->replies[0]->payload.data);
	assert_non_null(pr);
	assert_true(pr->batches);
	cachewire__v1__ping_response__free_unpacked(pr, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_call_its_own_reply_in_order),
	    cmocka_unit_test(each_call_its_own_token_and_namespace),
	    cmocka_unit_test(hostile_batches),
	    cmocka_unit_test(each_call_its_own_deadline),
	    cmocka_unit_test(ping_says_batches),
	};
	return cw_test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
