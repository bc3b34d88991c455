/*
 * test_bad_input.c - hostile and malformed input sent over a real nng socket
 * to a real cachewired: every request that can be read gets a reply with a
 * status and a message, oversized messages are dropped without harm, and
 * the daemon keeps serving and exits cleanly afterwards. Last, protoc-c's
 * generated stubs with a caller's own closures: NULL on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <cachewire/cachewire.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"
#include "servers.h"

#define MAX_MSG (1024 * 1024)

typedef struct fixture {
	cw_test_redis redis;
	cw_test_daemon daemon;
	nng_socket sock;
	cw_client *client;
} fixture;

static int setup(void **state)
{
	static fixture f;
	if (cw_test_redis_start(&f.redis, NULL, false, NULL) != 0)
		return -1;
	/* small limits so that "too large" is cheap to provoke */
	const char *env[] = {"CACHEWIRE_SERVER_MAX_MESSAGE_BYTES=1MiB",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=512KiB",
	    "CACHEWIRE_CACHE_MAX_KEY_BYTES=100", NULL};
	if (cw_test_daemon_start(&f.daemon, f.redis.url, env) != 0)
		return -1;
	if (nng_req0_open(&f.sock) != 0 ||
	    nng_dial(f.sock, f.daemon.tcp_url, NULL, 0) != 0)
		return -1;
	nng_socket_set_ms(f.sock, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(f.sock, NNG_OPT_SENDTIMEO, 5000);
	cw_error err;
	if (cw_open(&f.client, f.daemon.ipc_url, NULL, &err) != CW_OK)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	cw_test_nng_close(f->sock);
	cw_close(f->client);
	int status = cw_test_daemon_stop(&f->daemon);
	cw_test_redis_stop(&f->redis, false);
	return status == 0 ? 0 : -1;
}

#define F ((fixture *)*state)

/* Send raw bytes, return the decoded reply (NULL when none came). */
static Cachewire__V1__Reply *send_raw(void **state, const void *buf, size_t len)
{
	assert_int_equal(nng_send(F->sock, (void *)buf, len, 0), 0);
	char *rep = NULL;
	size_t n = 0;
	int rv = nng_recv(F->sock, &rep, &n, NNG_FLAG_ALLOC);
	if (rv != 0)
		return NULL;
	Cachewire__V1__Reply *r =
	    cachewire__v1__reply__unpack(NULL, n, (uint8_t *)rep);
	nng_free(rep, n);
	assert_non_null(r); /* whatever we sent, the reply is well-formed */
	return r;
}

static Cachewire__V1__Reply *send_call(
    void **state, const char *method, const void *payload, size_t len)
{
	Cachewire__V1__Request req = CACHEWIRE__V1__REQUEST__INIT;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	size_t n = cachewire__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(n + 1);
	cachewire__v1__request__pack(&req, buf);
	Cachewire__V1__Reply *r = send_raw(state, buf, n);
	free(buf);
	return r;
}

static void expect(Cachewire__V1__Reply *r, int code, const char *fragment)
{
	assert_non_null(r);
	if ((int)r->code != code || strstr(r->message, fragment) == NULL)
		fail_msg("got %s \"%s\", want %s \"...%s...\"",
		    cw_strerror(r->code), r->message, cw_strerror(code),
		    fragment);
	assert_int_equal(r->payload.len, 0);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void still_serving(void **state)
{
	cw_error err;
	char *version = NULL;
	int rc = cw_ping(F->client, &version, 5000, &err);
	if (rc != CW_OK)
		fail_msg("ping: %s: %s", cw_strerror(rc), err.message);
	assert_string_equal(version, CW_VERSION);
	cw_free(version);
}

static void random_bytes(void **state)
{
	uint32_t x = 7;
	uint8_t buf[512];
	for (int round = 0; round < 50; round++) {
		size_t n = 1 + (size_t)(round * 37) % sizeof buf;
		for (size_t i = 0; i < n; i++) {
			x = x * 1664525u + 1013904223u;
			buf[i] = (uint8_t)(x >> 24);
		}
		Cachewire__V1__Reply *r = send_raw(state, buf, n);
		assert_non_null(r);
		/* random bytes occasionally decode as an envelope with some
		 * unknown method; either way it's an error with a message */
		assert_true((int)r->code == CW_INVALID_ARGUMENT ||
		            (int)r->code == CW_UNIMPLEMENTED);
		assert_true(r->message[0] != '\0');
		cachewire__v1__reply__free_unpacked(r, NULL);
	}
	still_serving(state);
}

static void malformed_envelopes(void **state)
{
	static const uint8_t truncated[] = {0x0a, 0x20, '/', 'c'};
	expect(send_raw(state, truncated, sizeof truncated),
	    CW_INVALID_ARGUMENT, "not a cachewire.v1.Request");
	static const uint8_t wire_type[] = {0x0d, 1, 2, 3, 4}; /* fixed32 */
	expect(send_raw(state, wire_type, sizeof wire_type),
	    CW_INVALID_ARGUMENT, "not a cachewire.v1.Request");
	expect(send_raw(state, "", 0), CW_UNIMPLEMENTED, "unknown method");
	still_serving(state);
}

static void unknown_methods(void **state)
{
	expect(send_call(state, "/cachewire.v1.Cache/Flush", NULL, 0),
	    CW_UNIMPLEMENTED, "/cachewire.v1.Cache/Flush");
	/* the standard health service is served, but only its Check */
	expect(send_call(state, "/grpc.health.v1.Health/Watch", NULL, 0),
	    CW_UNIMPLEMENTED, "unknown method");
	Cachewire__V1__Reply *r =
	    send_call(state, "/grpc.health.v1.Health/Check", NULL, 0);
	assert_non_null(r);
	assert_int_equal(r->code, CW_OK);
	/* HealthCheckResponse{status: SERVING} */
	assert_int_equal(r->payload.len, 2);
	assert_memory_equal(r->payload.data, "\x08\x01", 2);
	cachewire__v1__reply__free_unpacked(r, NULL);
	expect(send_call(state, "Get", NULL, 0), CW_UNIMPLEMENTED,
	    "unknown method");
}

static void malformed_payloads(void **state)
{
	static const uint8_t junk[] = {0x12, 0x7f, 0x00};
	expect(send_call(state, "/cachewire.v1.Cache/Set", junk, sizeof junk),
	    CW_INVALID_ARGUMENT, "cachewire.v1.SetRequest");
	static const uint8_t varint_key[] = {0x08, 0x01};
	expect(send_call(state, "/cachewire.v1.Cache/Get", varint_key,
	           sizeof varint_key),
	    CW_INVALID_ARGUMENT, "cachewire.v1.GetRequest");
	/* an empty payload is a valid, empty GetRequest: empty key */
	expect(send_call(state, "/cachewire.v1.Cache/Get", NULL, 0),
	    CW_INVALID_ARGUMENT, "empty");
	still_serving(state);
}

/* Huge repeated fields and deep nesting inside a message under the size
 * limit: refused with a status and a message, never a crash or a stall. */
static void huge_repeated_and_nested(void **state)
{
	/* GetMany with 300000 empty keys (2 bytes each, 600 KB) */
	size_t n = 300000;
	uint8_t *many = malloc(2 * n);
	assert_non_null(many);
	for (size_t i = 0; i < n; i++) {
		many[2 * i] = 0x0a; /* keys: field 1, length-delimited */
		many[2 * i + 1] = 0;
	}
	expect(send_call(state, "/cachewire.v1.Cache/GetMany", many, 2 * n),
	    CW_INVALID_ARGUMENT, "300000 keys in one call; the limit is");
	free(many);

	/* 100000 nested groups (start-group tags of an unknown field 15),
	 * as a payload and as the envelope itself */
	n = 100000;
	uint8_t *deep = malloc(n);
	assert_non_null(deep);
	memset(deep, 0x7b, n); /* (15 << 3) | 3: start group */
	expect(send_call(state, "/cachewire.v1.Cache/Get", deep, n),
	    CW_INVALID_ARGUMENT, "cachewire.v1.GetRequest");
	expect(send_raw(state, deep, n), CW_INVALID_ARGUMENT,
	    "not a cachewire.v1.Request");
	free(deep);

	still_serving(state);
}

static void limits(void **state)
{
	cw_error err;
	char key[101];
	memset(key, 'k', sizeof key);
	assert_int_equal(cw_set(F->client, key, sizeof key, "v", 1,
	                     CW_NO_EXPIRY, 5000, &err),
	    CW_INVALID_ARGUMENT);
	assert_non_null(strstr(err.message, "limit"));
	size_t n = 512 * 1024 + 1;
	char *v = calloc(1, n);
	assert_int_equal(
	    cw_set(F->client, "k", 1, v, n, CW_NO_EXPIRY, 5000, &err),
	    CW_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.message, "limit"));
	free(v);
	still_serving(state);
}

static void message_over_transport_limit(void **state)
{
	/* libcachewire allowing more than the server does: nng on the server
	 * drops the message unread and hangs up; the call fails at once with
	 * UNAVAILABLE saying so, and the daemon keeps serving. */
	size_t n = 2 * MAX_MSG;
	char *big = calloc(1, n);
	assert_non_null(big);
	cw_error err;
	assert_int_equal(
	    cw_set(F->client, "k", 1, big, n, CW_NO_EXPIRY, 5000, &err),
	    CW_UNAVAILABLE);
	assert_non_null(strstr(err.message, "broke"));
	still_serving(state);

	/* told the server's limit, the client refuses locally and clearly */
	cw_client *c;
	cw_client_options o = {
	    .timeout_ms = 5000, .max_message_bytes = MAX_MSG};
	assert_int_equal(cw_open(&c, F->daemon.tcp_url, &o, &err), CW_OK);
	assert_int_equal(cw_set(c, "k", 1, big, n, CW_NO_EXPIRY, 0, &err),
	    CW_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.message, "transport limit"));
	cw_close(c);
	free(big);
}

/* What a closure of the caller's own saw. */
typedef struct seen {
	int calls;
	bool got_response;
	char version[32];
	bool found;
} seen;

static void on_ping(const Cachewire__V1__PingResponse *r, void *arg)
{
	seen *s = arg;
	s->calls++;
	s->got_response = r != NULL;
	if (r != NULL)
		snprintf(s->version, sizeof s->version, "%s", r->version);
}

static void on_get(const Cachewire__V1__GetResponse *r, void *arg)
{
	seen *s = arg;
	s->calls++;
	s->got_response = r != NULL;
	s->found = r != NULL && r->found;
}

static void generated_stubs(void **state)
{
	/* protoc-c's stubs, called as generated, with our own closures */
	ProtobufCService *svc = cw_client_service(F->client);
	assert_non_null(svc);
	Cachewire__V1__PingRequest ping = CACHEWIRE__V1__PING_REQUEST__INIT;
	seen s = {0};
	cachewire__v1__cache__ping(svc, &ping, on_ping, &s);
	assert_int_equal(s.calls, 1);
	assert_true(s.got_response);
	assert_string_equal(s.version, CW_VERSION);

	Cachewire__V1__GetRequest get = CACHEWIRE__V1__GET_REQUEST__INIT;
	get.key.data = (uint8_t *)"stub-missing";
	get.key.len = 12;
	s = (seen){0};
	cachewire__v1__cache__get(svc, &get, on_get, &s);
	assert_int_equal(s.calls, 1);
	assert_true(s.got_response); /* a miss is a response */
	assert_false(s.found);

	get.key.len = 0; /* INVALID_ARGUMENT: the closure gets NULL */
	s = (seen){0};
	cachewire__v1__cache__get(svc, &get, on_get, &s);
	assert_int_equal(s.calls, 1);
	assert_false(s.got_response);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_bytes),
	    cmocka_unit_test(malformed_envelopes),
	    cmocka_unit_test(unknown_methods),
	    cmocka_unit_test(malformed_payloads),
	    cmocka_unit_test(huge_repeated_and_nested),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(message_over_transport_limit),
	    cmocka_unit_test(generated_stubs),
	};
	int failed =
	    cmocka_run_group_tests_name("bad input", tests, setup, teardown);
	return cw_test_exit(failed);
}
