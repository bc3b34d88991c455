/*
 * test_dispatch.c - the envelope layer alone: cw_dispatch() against a fake
 * Cache service (no Redis, no nng). Every malformed input gets a reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"
#include "dispatch.h"

/* ---- a fake service: behaviour chosen per test --------------------------- */

static int seen_timeout;
static int get_calls;

static void fake_get(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__GetRequest *in,
    Cachewire__V1__GetResponse_Closure done, void *data)
{
	(void)s;
	cw_call *call = data;
	get_calls++;
	seen_timeout = call->timeout_ms;
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

static void fake_delete(Cachewire__V1__Cache_Service *s,
    const Cachewire__V1__DeleteRequest *in,
    Cachewire__V1__DeleteResponse_Closure done, void *data)
{
	(void)s, (void)in, (void)done, (void)data;
	/* forgets to answer: dispatch must still reply */
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

static Cachewire__V1__Cache_Service fake = CACHEWIRE__V1__CACHE__INIT(fake_);

/* ---- helpers ---------------------------------------------------------------
 */

/* Dispatch raw bytes; returns the decoded reply (free with free_unpacked). */
static Cachewire__V1__Reply *roundtrip(const void *req, size_t len)
{
	uint8_t scratch[16];
	ProtobufCBufferSimple out = PROTOBUF_C_BUFFER_SIMPLE_INIT(scratch);
	cw_error outcome;
	int code = cw_dispatch(&fake.base, req, len, 5000, &out.base, &outcome);
	Cachewire__V1__Reply *reply =
	    cachewire__v1__reply__unpack(NULL, out.len, out.data);
	PROTOBUF_C_BUFFER_SIMPLE_CLEAR(&out);
	assert_non_null(reply);
	assert_int_equal(code, reply->code);
	assert_int_equal(outcome.code, code);
	if (code != CW_OK)
		assert_string_equal(outcome.message, reply->message);
	return reply;
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

static void no_answer_is_internal(void **state)
{
	(void)state;
	expect(call("/cachewire.v1.Cache/Delete", NULL, 0, 0), CW_INTERNAL,
	    "produced no response");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unknown_methods),
	    cmocka_unit_test(get_ok_and_timeout),
	    cmocka_unit_test(empty_payload_is_default_message),
	    cmocka_unit_test(garbage_envelope),
	    cmocka_unit_test(empty_envelope_names_no_method),
	    cmocka_unit_test(bad_payload),
	    cmocka_unit_test(service_error_is_carried),
	    cmocka_unit_test(no_answer_is_internal),
	    cmocka_unit_test(second_answer_ignored),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
