/*
 * test_grpc_wire.c - the gRPC transport's framing without I/O (wire.h)
 * and its grpc.listen entries (grpc_server.h): bodies fed whole and byte
 * by byte, the refusals (too large before the bytes come, a second
 * message, cut short, a bad flag), grpc-timeout units and rounding,
 * bearer tokens, content types, grpc-message escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grpc_server.h"
#include "wire.h"

#define U(s) (const uint8_t *)(s), sizeof(s) - 1

static void feed_steps(cw_grpc_body *b, const uint8_t *p, size_t n, size_t step)
{
	for (size_t i = 0; i < n; i += step)
		assert_int_equal(
		    cw_grpc_body_feed(b, p + i, n - i < step ? n - i : step),
		    CW_OK);
}

static void test_body_whole_and_in_pieces(void **state)
{
	static const uint8_t msg[] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
	(void)state;
	for (size_t step = 1; step <= sizeof msg; step++) {
		cw_grpc_body b;
		cw_grpc_body_init(&b, 100);
		feed_steps(&b, msg, sizeof msg, step);
		assert_int_equal(cw_grpc_body_end(&b), CW_OK);
		assert_int_equal(b.got, 3);
		assert_memory_equal(b.buf, "abc", 3);
		assert_false(b.compressed);
		cw_grpc_body_free(&b);
	}
	/* an empty message is a message */
	cw_grpc_body b;
	cw_grpc_body_init(&b, 100);
	assert_int_equal(cw_grpc_body_feed(&b, U("\0\0\0\0\0")), CW_OK);
	assert_int_equal(cw_grpc_body_end(&b), CW_OK);
	assert_int_equal(b.got, 0);
	cw_grpc_body_free(&b);
}

static void test_body_refusals(void **state)
{
	cw_grpc_body b;
	(void)state;

	/* over the limit: known from the prefix, before any byte of it */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(
	    cw_grpc_body_feed(&b, U("\0\x40\0\0\0")), CW_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(b.err.message, "server.max_message_bytes"));
	assert_null(b.buf); /* nothing was allocated for it */
	assert_int_equal(cw_grpc_body_feed(&b, U("x")), CW_RESOURCE_EXHAUSTED);
	assert_int_equal(cw_grpc_body_end(&b), CW_RESOURCE_EXHAUSTED);
	cw_grpc_body_free(&b);
	/* exactly the limit is fine */
	cw_grpc_body_init(&b, 3);
	assert_int_equal(cw_grpc_body_feed(&b, U("\0\0\0\0\3abc")), CW_OK);
	assert_int_equal(cw_grpc_body_end(&b), CW_OK);
	cw_grpc_body_free(&b);
	/* a second message */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(
	    cw_grpc_body_feed(&b, U("\0\0\0\0\1a\0")), CW_INVALID_ARGUMENT);
	assert_non_null(strstr(b.err.message, "more than one"));
	cw_grpc_body_free(&b);
	/* cut short: in the prefix, and in the message */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(cw_grpc_body_feed(&b, U("\0\0")), CW_OK);
	assert_int_equal(cw_grpc_body_end(&b), CW_INVALID_ARGUMENT);
	assert_non_null(strstr(b.err.message, "5-byte length prefix"));
	cw_grpc_body_free(&b);
	cw_grpc_body_init(&b, 100);
	assert_int_equal(cw_grpc_body_feed(&b, U("\0\0\0\0\x0a"
	                                         "abc")),
	    CW_OK);
	assert_int_equal(cw_grpc_body_end(&b), CW_INVALID_ARGUMENT);
	assert_non_null(strstr(b.err.message, "says 10 bytes, 3 came"));
	cw_grpc_body_free(&b);
	/* nothing at all */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(cw_grpc_body_end(&b), CW_INVALID_ARGUMENT);
	assert_non_null(strstr(b.err.message, "without a request message"));
	/* a flag that is neither 0 nor 1 */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(
	    cw_grpc_body_feed(&b, U("\2\0\0\0\0")), CW_INVALID_ARGUMENT);
	cw_grpc_body_free(&b);
	/* compressed is reported, not refused, here */
	cw_grpc_body_init(&b, 100);
	assert_int_equal(cw_grpc_body_feed(&b, U("\1\0\0\0\1z")), CW_OK);
	assert_int_equal(cw_grpc_body_end(&b), CW_OK);
	assert_true(b.compressed);
	cw_grpc_body_free(&b);
}

static uint64_t timeout(const char *s)
{
	uint64_t ms = 12345;
	if (cw_grpc_timeout_parse((const uint8_t *)s, strlen(s), &ms) != 0)
		return UINT64_MAX;
	return ms;
}

static void test_timeout(void **state)
{
	(void)state;
	assert_int_equal(timeout("1H"), 3600000);
	assert_int_equal(timeout("2M"), 120000);
	assert_int_equal(timeout("3S"), 3000);
	assert_int_equal(timeout("250m"), 250);
	assert_int_equal(timeout("1500u"), 2); /* rounded up */
	assert_int_equal(timeout("1n"), 1);    /* never 0: not "none" */
	assert_int_equal(timeout("0m"), 1);    /* already passed: 1 ms */
	assert_int_equal(timeout("99999999S"), 99999999000ull);
	assert_int_equal(timeout("100000000S"), UINT64_MAX); /* 9 digits */
	assert_int_equal(timeout("S"), UINT64_MAX);
	assert_int_equal(timeout("10"), UINT64_MAX);
	assert_int_equal(timeout("10s"), UINT64_MAX);
	assert_int_equal(timeout("-1S"), UINT64_MAX);
	assert_int_equal(timeout("1 S"), UINT64_MAX);
}

static void test_bearer_and_content_type(void **state)
{
	const uint8_t *t;
	size_t n;
	(void)state;
	assert_int_equal(cw_grpc_bearer(U("Bearer abc"), &t, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(t, "abc", 3);
	assert_int_equal(cw_grpc_bearer(U("bearer \t xyz"), &t, &n), 0);
	assert_memory_equal(t, "xyz", 3);
	assert_int_equal(cw_grpc_bearer(U("Basic abc"), &t, &n), -1);
	assert_int_equal(cw_grpc_bearer(U("Bearerabc"), &t, &n), -1);
	assert_int_equal(cw_grpc_bearer(U("Bearer"), &t, &n), -1);
	assert_true(cw_grpc_content_type_ok(U("application/grpc")));
	assert_true(cw_grpc_content_type_ok(U("application/grpc+proto")));
	assert_true(cw_grpc_content_type_ok(U("application/grpc; charset=x")));
	assert_false(cw_grpc_content_type_ok(U("application/grpc+json")));
	assert_false(cw_grpc_content_type_ok(U("application/json")));
	assert_false(cw_grpc_content_type_ok(U("application/grpc-web")));
}

static void test_message_encoding(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(
	    cw_grpc_message_encode("key is empty", out, sizeof out), 12);
	assert_string_equal(out, "key is empty");
	cw_grpc_message_encode("100% \xc3\xa9\n", out, sizeof out);
	assert_string_equal(out, "100%25 %C3%A9%0A");
	/* never an escape cut in two */
	cw_grpc_message_encode("ab%", out, 5);
	assert_string_equal(out, "ab");
}

static int listen_n(const char *s, cw_grpc_addr *a, char *why, size_t len)
{
	int n = -1;
	cw_error e;
	if (cw_grpc_listen_parse(s, a, 4, &n, &e) != CW_OK) {
		snprintf(why, len, "%s", e.message);
		return -1;
	}
	return n;
}

static void test_listen_entries(void **state)
{
	cw_grpc_addr a[4];
	char why[256];
	(void)state;
	assert_int_equal(listen_n("127.0.0.1:7422, tls://0.0.0.0:7423,"
	                          "tls://[::1]:7424",
	                     a, why, sizeof why),
	    3);
	assert_string_equal(a[0].host, "127.0.0.1");
	assert_int_equal(a[0].port, 7422);
	assert_false(a[0].tls);
	assert_true(a[1].tls);
	assert_int_equal(a[1].port, 7423);
	assert_string_equal(a[2].host, "::1");
	assert_true(a[2].tls);
	assert_int_equal(listen_n("", a, why, sizeof why), 0);
	assert_int_equal(listen_n(":7422", a, why, sizeof why), 1);
	static const char *const bad[] = {"127.0.0.1", "h:", "h:70000", "h:1x",
	    "http://h:1", "tcp://h:1", "::1:80", "h:1,,h:2", "h:1,h:1",
	    "a:1,b:2,c:3,d:4,e:5", "h o:1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (listen_n(bad[i], a, why, sizeof why) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(strstr(why, "grpc.listen"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_body_whole_and_in_pieces),
	    cmocka_unit_test(test_body_refusals),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_bearer_and_content_type),
	    cmocka_unit_test(test_message_encoding),
	    cmocka_unit_test(test_listen_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
