/*
 * test_dispatch.c - dispatch (rpc/) with the nng envelope (transport/nng/
 * envelope.c) alone: cw_envelope_dispatch() against a fake
 * Cache service (no Redis, no nng). Every malformed input gets a reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"
#include "dispatch.h"
#include "envelope.h"

/* ---- a fake service: behaviour chosen per test --------------------------- */

static int seen_timeout;
static int get_calls;
static char seen_ns[CW_NAMESPACE_MAX + 1];

static void fake_get(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__GetRequest *in,
    Cachewire__V1__GetResponse_Closure done, void *data)
{
	(void)s;
	cw_call *call = data;
	get_calls++;
	seen_timeout = call->timeout_ms;
	snprintf(seen_ns, sizeof seen_ns, "%s", call->ns);
	Cachewire__V1__GetResponse out = CACHEWIRE__V1__GET_RESPONSE__INIT;
	out.found = true;
	out.value = in->key; /* echo the key as the value */
	done(&out, data);
}

static void fake_set(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__SetRequest *in,
    Cachewire__V1__SetResponse_Closure done, void *data)
{
	(void)s, (void)in;
	cw_error_set(
	    &((cw_call *)data)->err, CW_RESOURCE_EXHAUSTED, "value too large");
	done(NULL, data);
}

/* Delete answers later, as the real service does once Redis has. */
static Cachewire__V1__DeleteResponse_Closure later_done;
static void *later_data;

static void fake_delete(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__DeleteRequest *in,
    Cachewire__V1__DeleteResponse_Closure done, void *data)
{
	(void)s, (void)in;
	later_done = done;
	later_data = data;
}

static void fake_clear(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__ClearRequest *in,
    Cachewire__V1__ClearResponse_Closure done, void *data)
{
	(void)s, (void)in;
	Cachewire__V1__ClearResponse out = CACHEWIRE__V1__CLEAR_RESPONSE__INIT;
	out.removed = 7;
	done(&out, data);
	out.removed = 8;
	done(&out, data); /* a second answer is ignored */
}

static void fake_ping(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__PingRequest *in,
    Cachewire__V1__PingResponse_Closure done, void *data)
{
	(void)s, (void)in;
	Cachewire__V1__PingResponse out = CACHEWIRE__V1__PING_RESPONSE__INIT;
	out.version = "test";
	done(&out, data);
}

/* Fails without saying why: dispatch must still answer something. */
static void fake_get_many(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__GetManyRequest *in,
    Cachewire__V1__GetManyResponse_Closure done, void *data)
{
	(void)s, (void)in;
	done(NULL, data);
}

static void fake_set_many(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__SetManyRequest *in,
    Cachewire__V1__SetManyResponse_Closure done, void *data)
{
	(void)s;
	Cachewire__V1__SetManyResponse out =
	    CACHEWIRE__V1__SET_MANY_RESPONSE__INIT;
	assert_int_equal(in->n_entries, 2);
	done(&out, data);
}

static void fake_delete_many(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__DeleteManyRequest *in,
    Cachewire__V1__DeleteManyResponse_Closure done, void *data)
{
	(void)s, (void)in;
	cw_error_set(&((cw_call *)data)->err, CW_UNAVAILABLE, "redis down");
	done(NULL, data);
}

/* The chunked-transfer methods are not what this test is about: each
 * fails the same way (test_chunks covers them for real). */
#define FAKE_UNIMPLEMENTED(name, Request, Response)                            \
	static void fake_##name(Cachewire__V1__Cache_Service *s,               \
	    const Cachewire__V1__##Request *in,                                \
	    Cachewire__V1__##Response##_Closure done, void *data)              \
	{                                                                      \
		(void)s, (void)in;                                             \
		cw_error_set(&((cw_call *)data)->err, CW_UNIMPLEMENTED,        \
		    "not in this test");                                       \
		done(NULL, data);                                              \
	}
FAKE_UNIMPLEMENTED(begin_upload, BeginUploadRequest, BeginUploadResponse)
FAKE_UNIMPLEMENTED(put_chunk, PutChunkRequest, PutChunkResponse)
FAKE_UNIMPLEMENTED(commit_upload, CommitUploadRequest, CommitUploadResponse)
FAKE_UNIMPLEMENTED(abort_upload, AbortUploadRequest, AbortUploadResponse)
FAKE_UNIMPLEMENTED(get_range, GetRangeRequest, GetRangeResponse)

static Cachewire__V1__Cache_Service fake = CACHEWIRE__V1__CACHE__INIT(fake_);

/* ---- a reply sink that keeps what dispatch hands over ---- */

typedef struct test_sink {
	cw_reply_sink base;
	uint8_t *buf;
	size_t len;
	int done_calls;
	int code;
	cw_error outcome;
} test_sink;

/* Packs the answer as the nng transport does (envelope.h). */
static void sink_pack(cw_reply_sink *s, int code, const char *message,
    const ProtobufCMessage *response)
{
	test_sink *t = (test_sink *)s;
	size_t plen;
	assert_null(t->buf);                /* one reply per request */
	assert_int_equal(t->done_calls, 0); /* reply comes before done */
	assert_true(code == CW_OK ? response != NULL : response == NULL);
	t->len = cw_envelope_reply_size(code, message, response, &plen);
	t->buf = malloc(t->len > 0 ? t->len : 1);
	cw_envelope_reply_pack(code, message, response, plen, t->buf);
}

static void sink_done(cw_reply_sink *s, int code, const cw_error *outcome)
{
	test_sink *t = (test_sink *)s;
	t->done_calls++;
	t->code = code;
	t->outcome = *outcome;
}

static test_sink new_sink(void)
{
	return (test_sink){.base = {.reply = sink_pack, .done = sink_done}};
}

/* The reply the sink received (free with free_unpacked). */
static Cachewire__V1__Reply *sink_reply(test_sink *t)
{
	assert_int_equal(t->done_calls, 1);
	Cachewire__V1__Reply *reply =
	    cachewire__v1__reply__unpack(NULL, t->len, t->buf);
	free(t->buf);
	t->buf = NULL;
	assert_non_null(reply);
	assert_int_equal(t->code, reply->code);
	assert_int_equal(t->outcome.code, t->code);
	if (t->code != CW_OK)
		assert_string_equal(t->outcome.message, reply->message);
	return reply;
}

/* ---- helpers ---------------------------------------------------------------
 */

/* What cw_dispatch checks callers with; NULL: no authentication. */
static cw_auth *auth;

/* Dispatch raw bytes; returns the decoded reply (free with free_unpacked). */
static Cachewire__V1__Reply *roundtrip(const void *req, size_t len)
{
	test_sink sink = new_sink();
	cw_call state;
	cw_services svcs = {.cache = &fake.base};
	cw_envelope_dispatch(&svcs, auth, req, len, 5000, &state, &sink.base);
	return sink_reply(&sink);
}

/* Dispatch an envelope for method with payload. */
static Cachewire__V1__Reply *call(
    const char *method, const void *payload, size_t len, uint32_t timeout_ms)
{
	Cachewire__V1__Request req = CACHEWIRE__V1__REQUEST__INIT;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	req.timeout_ms = timeout_ms;
	size_t n = cachewire__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(n ? n : 1);
	cachewire__v1__request__pack(&req, buf);
	Cachewire__V1__Reply *reply = roundtrip(buf, n);
	free(buf);
	return reply;
}

static void expect(Cachewire__V1__Reply *r, int code, const char *fragment)
{
	assert_int_equal(r->code, code);
	if (fragment != NULL)
		assert_non_null(strstr(r->message, fragment));
	if (code != CW_OK)
		assert_int_equal(r->payload.len, 0);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

/* ---- tests ------------------------------------------------------------------
 */

static void get_ok_and_timeout(void **state)
{
	(void)state;
	Cachewire__V1__GetRequest in = CACHEWIRE__V1__GET_REQUEST__INIT;
	in.key.data = (uint8_t *)"k\0y";
	in.key.len = 3;
	uint8_t buf[64];
	size_t n = cachewire__v1__get_request__pack(&in, buf);

	Cachewire__V1__Reply *r = call("/cachewire.v1.Cache/Get", buf, n, 250);
	assert_int_equal(r->code, CW_OK);
	assert_string_equal(r->message, "");
	assert_int_equal(seen_timeout, 250);
	Cachewire__V1__GetResponse *out = cachewire__v1__get_response__unpack(
	    NULL, r->payload.len, r->payload.data);
	assert_non_null(out);
	assert_true(out->found);
	assert_int_equal(out->value.len, 3);
	assert_memory_equal(out->value.data, "k\0y", 3);
	cachewire__v1__get_response__free_unpacked(out, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);

	/* no timeout in the envelope: the server default */
	expect(call("/cachewire.v1.Cache/Get", buf, n, 0), CW_OK, NULL);
	assert_int_equal(seen_timeout, 5000);
}

static void empty_payload_is_default_message(void **state)
{
	(void)state;
	Cachewire__V1__Reply *r = call("/cachewire.v1.Cache/Ping", NULL, 0, 0);
	assert_int_equal(r->code, CW_OK);
	Cachewire__V1__PingResponse *p = cachewire__v1__ping_response__unpack(
	    NULL, r->payload.len, r->payload.data);
	assert_non_null(p);
	assert_string_equal(p->version, "test");
	cachewire__v1__ping_response__free_unpacked(p, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void garbage_envelope(void **state)
{
	(void)state;
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
	expect(roundtrip(junk, sizeof junk), CW_INVALID_ARGUMENT,
	    "not a cachewire.v1.Request");
	/* truncated: field 2 says 100 bytes follow, 1 does */
	static const uint8_t cut[] = {0x12, 0x64, 0x00};
	expect(roundtrip(cut, sizeof cut), CW_INVALID_ARGUMENT,
	    "not a cachewire.v1.Request");
	/* method with the wrong wire type (varint instead of bytes) */
	static const uint8_t wt[] = {0x08, 0x01};
	expect(roundtrip(wt, sizeof wt), CW_INVALID_ARGUMENT, "(2 bytes)");
}

/* The envelope is decoded by hand (no copy of the payload): it must
 * accept and reject exactly what a protobuf parser would. */
static void envelope_wire_format(void **state)
{
	(void)state;
	/* "/cachewire.v1.Cache/Ping" is 24 bytes */
#define PING_METHOD                                                            \
	0x0a, 24, '/', 'c', 'a', 'c', 'h', 'e', 'w', 'i', 'r', 'e', '.', 'v',  \
	    '1', '.', 'C', 'a', 'c', 'h', 'e', '/', 'P', 'i', 'n', 'g'
	/* unknown fields of every wire type, before and after: skipped */
	static const uint8_t unknown[] = {0x48, 0x96, 0x01, /* 9: varint */
	    0x51, 1, 2, 3, 4, 5, 6, 7, 8,                   /* 10: fixed64 */
	    0x3d, 1, 2, 3, 4,                               /* 7: fixed32 */
	    PING_METHOD, 0x42, 2, 'h', 'i',                 /* 8: bytes */
	    0x22, 3, 't', 'o', 'k'};                        /* auth_token */
	expect(roundtrip(unknown, sizeof unknown), CW_OK, NULL);
	/* the last occurrence of a field wins */
	static const uint8_t twice[] = {0x0a, 1, 'x', PING_METHOD};
	expect(roundtrip(twice, sizeof twice), CW_OK, NULL);
	/* a group (wire type 3) is not accepted */
	static const uint8_t group[] = {PING_METHOD, 0x2b, 0x2c};
	expect(roundtrip(group, sizeof group), CW_INVALID_ARGUMENT,
	    "not a cachewire.v1.Request");
	/* field number 0, and a varint of more than 10 bytes */
	static const uint8_t zero[] = {0x00, 0x01};
	expect(roundtrip(zero, sizeof zero), CW_INVALID_ARGUMENT, NULL);
	static const uint8_t longv[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	expect(roundtrip(longv, sizeof longv), CW_INVALID_ARGUMENT, NULL);
	/* timeout_ms (3) as bytes, payload (2) as a varint */
	static const uint8_t wt3[] = {PING_METHOD, 0x1a, 1, 0};
	expect(roundtrip(wt3, sizeof wt3), CW_INVALID_ARGUMENT, NULL);
	static const uint8_t wt2[] = {PING_METHOD, 0x10, 1};
	expect(roundtrip(wt2, sizeof wt2), CW_INVALID_ARGUMENT, NULL);
	/* calls (6, a batch's) as a fixed64 */
	static const uint8_t wt6[] = {
	    PING_METHOD, 0x31, 1, 2, 3, 4, 5, 6, 7, 8};
	expect(roundtrip(wt6, sizeof wt6), CW_INVALID_ARGUMENT, NULL);
	/* a method name with a NUL byte names no method */
	static const uint8_t nul[] = {0x0a, 3, '/', 0, 'x'};
	expect(roundtrip(nul, sizeof nul), CW_UNIMPLEMENTED, "unknown method");
	/* a timeout beyond 32 bits keeps its low 32, as uint32 does */
	static const uint8_t big[] = {0x0a, 23, '/', 'c', 'a', 'c', 'h', 'e',
	    'w', 'i', 'r', 'e', '.', 'v', '1', '.', 'C', 'a', 'c', 'h', 'e',
	    '/', 'G', 'e', 't', 0x18, 0xe8, 0x07 | 0x80, 0x80, 0x80, 0x10};
	expect(roundtrip(big, sizeof big), CW_OK, NULL);
	assert_int_equal(seen_timeout, 1000);
#undef PING_METHOD
}

static void empty_envelope_names_no_method(void **state)
{
	(void)state;
	expect(roundtrip("", 0), CW_UNIMPLEMENTED, "unknown method \"\"");
}

static void unknown_methods(void **state)
{
	(void)state;
	assert_int_equal(get_calls, 0);
	expect(call("/cachewire.v1.Cache/Frobnicate", NULL, 0, 0),
	    CW_UNIMPLEMENTED,
	    "unknown method \"/cachewire.v1.Cache/Frobnicate\"");
	expect(call("/other.v1.Cache/Get", NULL, 0, 0), CW_UNIMPLEMENTED,
	    "only /cachewire.v1.Cache/*");
	expect(call("/cachewire.v1.CacheX/Get", NULL, 0, 0), CW_UNIMPLEMENTED,
	    NULL);
	expect(
	    call("cachewire.v1.Cache/Get", NULL, 0, 0), CW_UNIMPLEMENTED, NULL);
	expect(call("/cachewire.v1.Cache", NULL, 0, 0), CW_UNIMPLEMENTED, NULL);
	expect(call("/cachewire.v1.Cache/get", NULL, 0, 0), CW_UNIMPLEMENTED,
	    NULL);
	assert_int_equal(get_calls, 0);
}

static void bad_payload(void **state)
{
	(void)state;
	static const uint8_t junk[] = {0x0a, 0x50, 0x01};
	expect(call("/cachewire.v1.Cache/Get", junk, sizeof junk, 0),
	    CW_INVALID_ARGUMENT, "not a valid cachewire.v1.GetRequest");
	/* key (field 1, bytes) sent as a varint */
	static const uint8_t wt[] = {0x08, 0x05};
	expect(call("/cachewire.v1.Cache/Get", wt, sizeof wt, 0),
	    CW_INVALID_ARGUMENT, "GetRequest");
}

static void service_error_is_carried(void **state)
{
	(void)state;
	expect(call("/cachewire.v1.Cache/Set", NULL, 0, 0),
	    CW_RESOURCE_EXHAUSTED, "value too large");
}

static void null_without_error_is_internal(void **state)
{
	(void)state;
	expect(call("/cachewire.v1.Cache/GetMany", NULL, 0, 0), CW_INTERNAL,
	    "failed without saying why");
	expect(call("/cachewire.v1.Cache/DeleteMany", NULL, 0, 0),
	    CW_UNAVAILABLE, "redis down");
}

static void batch_request_decoded(void **state)
{
	(void)state;
	Cachewire__V1__SetRequest e0 = CACHEWIRE__V1__SET_REQUEST__INIT,
	                          e1 = CACHEWIRE__V1__SET_REQUEST__INIT;
	Cachewire__V1__SetRequest *entries[] = {&e0, &e1};
	Cachewire__V1__SetManyRequest in =
	    CACHEWIRE__V1__SET_MANY_REQUEST__INIT;
	in.n_entries = 2;
	in.entries = entries;
	uint8_t buf[64];
	size_t n = cachewire__v1__set_many_request__pack(&in, buf);
	expect(call("/cachewire.v1.Cache/SetMany", buf, n, 0), CW_OK, NULL);
}

/* The service answers after dispatch returned (from another thread, in
 * the server): the reply goes out then, and only then. */
static void late_answer(void **state)
{
	(void)state;
	Cachewire__V1__Request req = CACHEWIRE__V1__REQUEST__INIT;
	req.method = "/cachewire.v1.Cache/Delete";
	uint8_t buf[64];
	size_t n = cachewire__v1__request__pack(&req, buf);
	test_sink sink = new_sink();
	cw_call st;

	later_done = NULL;
	cw_services svcs = {.cache = &fake.base};
	cw_envelope_dispatch(&svcs, NULL, buf, n, 5000, &st, &sink.base);
	assert_int_equal(sink.done_calls, 0);
	assert_non_null(later_done);
	assert_string_equal(st.method, "/cachewire.v1.Cache/Delete");

	Cachewire__V1__DeleteResponse out =
	    CACHEWIRE__V1__DELETE_RESPONSE__INIT;
	out.existed = true;
	later_done(&out, later_data);
	Cachewire__V1__Reply *r = sink_reply(&sink);
	assert_int_equal(r->code, CW_OK);
	Cachewire__V1__DeleteResponse *d =
	    cachewire__v1__delete_response__unpack(
	        NULL, r->payload.len, r->payload.data);
	assert_non_null(d);
	assert_true(d->existed);
	cachewire__v1__delete_response__free_unpacked(d, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

/* A server past its cap answers without reading the request. */
static void refuse_answers_at_once(void **state)
{
	(void)state;
	test_sink sink = new_sink();
	cw_call st;

	cw_dispatch_refuse(
	    &st, &sink.base, CW_RESOURCE_EXHAUSTED, "server overloaded");
	Cachewire__V1__Reply *r = sink_reply(&sink);
	assert_int_equal(r->code, CW_RESOURCE_EXHAUSTED);
	assert_string_equal(r->message, "server overloaded");
	assert_int_equal(r->payload.len, 0);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void second_answer_ignored(void **state)
{
	(void)state;
	Cachewire__V1__Reply *r = call("/cachewire.v1.Cache/Clear", NULL, 0, 0);
	assert_int_equal(r->code, CW_OK);
	Cachewire__V1__ClearResponse *c = cachewire__v1__clear_response__unpack(
	    NULL, r->payload.len, r->payload.data);
	assert_non_null(c);
	assert_int_equal(c->removed, 7);
	cachewire__v1__clear_response__free_unpacked(c, NULL);
	cachewire__v1__reply__free_unpacked(r, NULL);
}

/* An envelope for Get with key "k", token and namespace; the reply. */
static Cachewire__V1__Reply *get_as(const char *token, const char *ns)
{
	static const uint8_t key[] = {0x0a, 1, 'k'}; /* GetRequest.key */
	Cachewire__V1__Request req = CACHEWIRE__V1__REQUEST__INIT;
	req.method = "/cachewire.v1.Cache/Get";
	req.payload.data = (uint8_t *)key;
	req.payload.len = sizeof key;
	req.auth_token = (char *)token;
	req.namespace_ = (char *)ns;
	size_t n = cachewire__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(n);
	cachewire__v1__request__pack(&req, buf);
	Cachewire__V1__Reply *reply = roundtrip(buf, n);
	free(buf);
	return reply;
}

/* Authentication comes first: a refused caller's request reaches no
 * service, and an accepted one carries its namespace to it. */
static void auth_before_anything(void **state)
{
	(void)state;
	static const char file[] = "- token: token-aaaaaaaaaaaaaaaa\n"
	                           "  namespaces: [one, two]\n";
	cw_tokens *t;
	cw_error err;
	char msg[256];
	assert_int_equal(
	    cw_tokens_parse(&t, "t.yaml", file, strlen(file), msg, sizeof msg),
	    0);
	assert_int_equal(cw_auth_new(&auth, t, "dflt", &err), CW_OK);
	get_calls = 0;
	expect(get_as("", ""), CW_UNAUTHENTICATED, "requires a bearer token");
	expect(get_as("token-bbbbbbbbbbbbbbbb", ""), CW_UNAUTHENTICATED,
	    "not valid");
	expect(get_as("token-aaaaaaaaaaaaaaaa", "dflt"), CW_PERMISSION_DENIED,
	    "namespace \"dflt\" is not allowed");
	/* a bad payload or method is not looked at before the token */
	static const uint8_t bad[] = {0x0a, 3, 'b', 'a', 'd', 0x12, 1, 0xff};
	expect(roundtrip(bad, sizeof bad), CW_UNAUTHENTICATED, NULL);
	assert_int_equal(get_calls, 0);
	expect(get_as("token-aaaaaaaaaaaaaaaa", ""), CW_OK, NULL);
	assert_string_equal(seen_ns, "one");
	expect(get_as("token-aaaaaaaaaaaaaaaa", "two"), CW_OK, NULL);
	assert_string_equal(seen_ns, "two");
	assert_int_equal(get_calls, 2);
	cw_auth_free(auth);

	/* without tokens: the default namespace, by name or not at all */
	assert_int_equal(cw_auth_new(&auth, NULL, "dflt", &err), CW_OK);
	expect(get_as("", ""), CW_OK, NULL);
	assert_string_equal(seen_ns, "dflt");
	expect(get_as("any-token", "dflt"), CW_OK, NULL);
	expect(get_as("", "one"), CW_PERMISSION_DENIED, "no auth.tokens_file");
	cw_auth_free(auth);
	auth = NULL;
	/* no cw_auth at all: the service's default (""), as before */
	expect(get_as("", "whatever"), CW_OK, NULL);
	assert_string_equal(seen_ns, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unknown_methods),
	    cmocka_unit_test(get_ok_and_timeout),
	    cmocka_unit_test(empty_payload_is_default_message),
	    cmocka_unit_test(garbage_envelope),
	    cmocka_unit_test(envelope_wire_format),
	    cmocka_unit_test(empty_envelope_names_no_method),
	    cmocka_unit_test(bad_payload),
	    cmocka_unit_test(service_error_is_carried),
	    cmocka_unit_test(null_without_error_is_internal),
	    cmocka_unit_test(batch_request_decoded),
	    cmocka_unit_test(late_answer),
	    cmocka_unit_test(second_answer_ignored),
	    cmocka_unit_test(refuse_answers_at_once),
	    cmocka_unit_test(auth_before_anything),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
