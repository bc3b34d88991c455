/*
 * test_redis_url.c - cw_redis_url_parse(), cw_redis_target_describe(),
 * cw_redis_target_copy() and cw_redis_target_free(): good forms with exact
 * fields, bad forms with the message each must give, and no password in
 * any message or description.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redis_url.h"

#define SECRET "hunter2"

/* ---- good forms --------------------------------------------------------- */

typedef struct good_case {
	const char *url;
	const char *host, *unix_path, *user, *password;
	int port, db;
} good_case;

static const good_case good[] = {
    {"redis://localhost", "localhost", NULL, NULL, NULL, 6379, 0},
    {"redis://localhost:6380/2", "localhost", NULL, NULL, NULL, 6380, 2},
    {"redis://127.0.0.1:1/0", "127.0.0.1", NULL, NULL, NULL, 1, 0},
    {"redis://h:65535", "h", NULL, NULL, NULL, 65535, 0},
    {"redis://h/", "h", NULL, NULL, NULL, 6379, 0},
    {"redis://h/1048575", "h", NULL, NULL, NULL, 6379, 1048575},
    {"REDIS://My-Host_1.example.com", "My-Host_1.example.com", NULL, NULL, NULL,
        6379, 0},
    {"redis://:" SECRET "@h", "h", NULL, NULL, SECRET, 6379, 0},
    {"redis://alice:s%40cr%3At@h:7000/3", "h", NULL, "alice", "s@cr:t", 7000,
        3},
    {"redis://al%20ice:p%2Fw%2f@h", "h", NULL, "al ice", "p/w/", 6379, 0},
    {"redis://u:p@ss@h", "h", NULL, "u", "p@ss", 6379, 0},
    {"redis://u:a:b@h", "h", NULL, "u", "a:b", 6379, 0},
    {"redis://[::1]", "::1", NULL, NULL, NULL, 6379, 0},
    {"redis://[::1]:6380/1", "::1", NULL, NULL, NULL, 6380, 1},
    {"redis://:pw@[fe80::1]:7/9", "fe80::1", NULL, NULL, "pw", 7, 9},
    {"redis://[::ffff:10.0.0.1]", "::ffff:10.0.0.1", NULL, NULL, NULL, 6379, 0},
    {"unix:///tmp/r.sock", NULL, "/tmp/r.sock", NULL, NULL, 0, 0},
    {"unix:///tmp/r.sock?db=5", NULL, "/tmp/r.sock", NULL, NULL, 0, 5},
    {"unix:///tmp/r.sock?", NULL, "/tmp/r.sock", NULL, NULL, 0, 0},
    {"UNIX:///tmp/my%20dir/r.sock", NULL, "/tmp/my dir/r.sock", NULL, NULL, 0,
        0},
    {"unix://:" SECRET "@/run/redis.sock?db=1", NULL, "/run/redis.sock", NULL,
        SECRET, 0, 1},
    {"unix://bob:pw@/r", NULL, "/r", "bob", "pw", 0, 0},
};

static void expect_str(
    const char *url, const char *field, const char *got, const char *want)
{
	if (want == NULL ? got != NULL : got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", want \"%s\"", url, field,
		    got ? got : "(NULL)", want ? want : "(NULL)");
}

static void expect_int(const char *url, const char *field, int got, int want)
{
	if (got != want)
		fail_msg("%s: %s is %d, want %d", url, field, got, want);
}

static void test_good_forms(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		const good_case *g = &good[i];
		cw_redis_target t;
		cw_error err = {0};

		memset(&t, 0x5a, sizeof t);
		if (cw_redis_url_parse(g->url, &t, &err) != CW_OK)
			fail_msg("%s: %s", g->url, err.message);
		expect_str(g->url, "host", t.host, g->host);
		expect_str(g->url, "unix_path", t.unix_path, g->unix_path);
		expect_str(g->url, "user", t.user, g->user);
		expect_str(g->url, "password", t.password, g->password);
		expect_int(g->url, "port", t.port, g->port);
		expect_int(g->url, "db", t.db, g->db);
		cw_redis_target_free(&t);
		assert_null(t.host);
		assert_null(t.unix_path);
		assert_null(t.user);
		assert_null(t.password);
		cw_redis_target_free(&t); /* twice is harmless */
	}
}

/* ---- bad forms ---------------------------------------------------------- */

typedef struct bad_case {
	const char *url;
	const char *fragment; /* must appear in the message */
} bad_case;

static const bad_case bad[] = {
    {"", "Redis URL is empty"},
    {"localhost", "missing scheme"},
    {"//h:6379", "missing scheme"},
    {"1redis://h", "missing scheme"},
    {"localhost:6379", "unsupported scheme \"localhost\""},
    {"http://h", "unsupported scheme \"http\" (use redis:// or unix://)"},
    {"rediss://h", "TLS is not supported"},
    {"redis:h", "expected \"redis://\""},
    {"redis:/h", "expected \"redis://\""},
    {"unix:/tmp/x", "expected \"unix://\""},
    {"redis://", "missing host"},
    {"redis://:6379", "missing host"},
    {"redis://:" SECRET "@", "missing host"},
    {"redis://[]:6379", "missing host"},
    {"redis://h:99999", "bad port \"99999\" (want 1..65535)"},
    {"redis://h:65536", "bad port \"65536\""},
    {"redis://h:0", "bad port \"0\""},
    {"redis://h:", "bad port \"\""},
    {"redis://h:12ab", "bad port \"12ab\""},
    {"redis://h:-1", "bad port \"-1\""},
    {"redis://h:+1", "bad port \"+1\""},
    {"redis://h:99999999999999999999", "bad port \"9999999999"},
    {"redis://h/abc", "bad database \"abc\" (want 0..1048575)"},
    {"redis://h/-1", "bad database \"-1\""},
    {"redis://h/1048576", "bad database \"1048576\""},
    {"redis://h/1/2", "bad database \"1/2\""},
    {"redis://h?db=1", "unexpected query \"?db=1\""},
    {"redis://h/1?x", "unexpected query"},
    {"redis://h#x", "unexpected fragment"},
    {"redis://" SECRET "@h", "credentials need a ':'"},
    {"redis://u:@h", "password is empty"},
    {"redis://:@h", "password is empty"},
    {"redis://:" SECRET "%zz@h", "bad %-escape in password"},
    {"redis://:" SECRET "%4@h", "bad %-escape in password"},
    {"redis://:" SECRET "%@h", "bad %-escape in password"},
    {"redis://:" SECRET "%00@h", "%00 is not allowed in password"},
    {"redis://u%zz:" SECRET "@h", "bad %-escape in user name"},
    {"redis://::1:6379", "put IPv6 addresses in brackets"},
    {"redis://[::1", "missing ']'"},
    {"redis://[::1]x", "unexpected \"x\" after IPv6 address"},
    {"redis://[::1]:0", "bad port \"0\""},
    {"redis://[h_1]", "bad host \"h_1\""},
    {"redis://[fe80::1%25eth0]", "bad host \"fe80::1%25eth0\""},
    {"redis://ho st", "bad host \"ho st\""},
    {"redis://h\x01x", "bad host \"h?x\""},
    {"redis://h%41", "bad host \"h%41\""},
    {"unix://", "missing socket path"},
    {"unix://?db=1", "missing socket path"},
    {"unix://relative", "must be absolute"},
    {"unix://host/tmp/x", "take no host"},
    {"unix://:" SECRET "@host/tmp/x", "take no host"},
    {"unix://" SECRET "@/tmp/x", "credentials need a ':'"},
    {"unix:///tmp/r.sock?db=x", "bad database \"x\""},
    {"unix:///tmp/r.sock?db=", "bad database \"\""},
    {"unix:///tmp/r.sock?db=1&db=2", "db given twice"},
    {"unix:///tmp/r.sock?foo=1", "unknown parameter \"foo=1\""},
    {"unix:///tmp/r.sock?db=1&password=x", "unknown parameter \"password=x\""},
    {"unix:///tmp/r.sock#x", "unexpected fragment"},
    {"unix:///tmp/r.sock?db=1#x", "unexpected fragment"},
    {"unix:///tmp/a%00b", "%00 is not allowed in socket path"},
    {"unix:///tmp/a%g0", "bad %-escape in socket path"},
};

static void expect_bad(const char *url, const char *fragment)
{
	cw_redis_target t, before;
	cw_error err = {0};
	const char *shown = url != NULL ? url : "(NULL)";
	int rc;

	memset(&t, 0x5a, sizeof t);
	before = t;
	rc = cw_redis_url_parse(url, &t, &err);
	if (rc != CW_INVALID_ARGUMENT)
		fail_msg("%s: status %d, want INVALID_ARGUMENT", shown, rc);
	assert_int_equal(err.code, CW_INVALID_ARGUMENT);
	if (strstr(err.message, fragment) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", shown, err.message,
		    fragment);
	if (strstr(err.message, SECRET) != NULL)
		fail_msg("%s: message \"%s\" shows the password", shown,
		    err.message);
	/* *t is written only on success. */
	assert_memory_equal(&t, &before, sizeof t);
}

static void test_bad_forms(void **state)
{
	size_t i;

	(void)state;
	expect_bad(NULL, "Redis URL is empty");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_bad(bad[i].url, bad[i].fragment);
}

static void test_too_long(void **state)
{
	char url[5000], host[300];

	(void)state;
	memset(host, 'a', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	snprintf(url, sizeof url, "redis://%s:1", host);
	expect_bad(url, "host is 299 bytes; the limit is 253");

	memset(url, 'a', sizeof url - 1);
	url[sizeof url - 1] = '\0';
	memcpy(url, "redis://", 8);
	expect_bad(url, "Redis URL is 4999 bytes; the limit is 4096");

	snprintf(url, sizeof url, "unix:///%0120d", 0);
	expect_bad(url, "socket path is 121 bytes; the limit is 107");
}

static void test_null_target_and_err(void **state)
{
	(void)state;
	assert_int_equal(
	    cw_redis_url_parse("redis://h", NULL, NULL), CW_INVALID_ARGUMENT);
	assert_int_equal(
	    cw_redis_url_parse("bogus", NULL, NULL), CW_INVALID_ARGUMENT);
	cw_redis_target t = {0};
	assert_int_equal(
	    cw_redis_url_parse("http://x", &t, NULL), CW_INVALID_ARGUMENT);
	assert_null(t.host);
	cw_redis_target_free(NULL);
}

/* ---- describe and copy -------------------------------------------------- */

static void expect_description(const char *url, const char *want)
{
	cw_redis_target t;
	char buf[256];

	assert_int_equal(cw_redis_url_parse(url, &t, NULL), CW_OK);
	cw_redis_target_describe(&t, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		fail_msg(
		    "%s: described as \"%s\", want \"%s\"", url, buf, want);
	assert_null(strstr(buf, SECRET));
	cw_redis_target_free(&t);
}

static void test_describe(void **state)
{
	(void)state;
	expect_description(
	    "redis://alice:" SECRET "@h:7000/3", "redis://alice:***@h:7000/3");
	expect_description("redis://:" SECRET "@h", "redis://:***@h:6379/0");
	expect_description("redis://h", "redis://h:6379/0");
	expect_description("redis://[::1]:6380/1", "redis://[::1]:6380/1");
	expect_description("unix:///tmp/r.sock", "unix:///tmp/r.sock?db=0");
	expect_description("unix://:" SECRET "@/tmp/r.sock?db=2",
	    "unix://:***@/tmp/r.sock?db=2");
}

static void test_describe_edges(void **state)
{
	cw_redis_target t = {.host = "h", .port = 1, .user = "bob"};
	char buf[64], small[10];

	(void)state;
	cw_redis_target_describe(&t, buf, sizeof buf);
	assert_string_equal(buf, "redis://bob@h:1/0");

	t.password = SECRET;
	cw_redis_target_describe(&t, small, sizeof small);
	assert_string_equal(small, "redis://b"); /* truncated, terminated */

	cw_redis_target_describe(NULL, buf, sizeof buf);
	assert_string_equal(buf, "(no Redis target)");

	cw_redis_target empty = {0};
	cw_redis_target_describe(&empty, buf, sizeof buf);
	assert_string_equal(buf, "redis://(no host):0/0");

	buf[0] = 'x';
	cw_redis_target_describe(&t, buf, 0); /* nothing written */
	assert_int_equal(buf[0], 'x');
	cw_redis_target_describe(&t, NULL, 10);
}

static void test_copy(void **state)
{
	cw_redis_target src, dst;
	cw_error err = {0};

	(void)state;
	assert_int_equal(
	    cw_redis_url_parse("redis://u:" SECRET "@h:7/3", &src, NULL),
	    CW_OK);
	assert_int_equal(cw_redis_target_copy(&dst, &src, &err), CW_OK);
	cw_redis_target_free(&src);
	assert_string_equal(dst.host, "h");
	assert_string_equal(dst.user, "u");
	assert_string_equal(dst.password, SECRET);
	assert_null(dst.unix_path);
	assert_int_equal(dst.port, 7);
	assert_int_equal(dst.db, 3);
	cw_redis_target_free(&dst);
	assert_int_equal(
	    cw_redis_target_copy(NULL, &src, &err), CW_INVALID_ARGUMENT);
}

/* ---- never a crash ------------------------------------------------------ */

static void parse_any(const char *url)
{
	cw_redis_target t;
	cw_error err = {0};
	char buf[128];
	int rc = cw_redis_url_parse(url, &t, &err);

	assert_true(rc == CW_OK || rc == CW_INVALID_ARGUMENT);
	if (rc == CW_OK) {
		cw_redis_target_describe(&t, buf, sizeof buf);
		cw_redis_target_free(&t);
	} else {
		assert_true(strlen(err.message) > 0);
	}
}

/* redis.nodes items: host:port, [ipv6]:port; the port required. */
static void test_nodes(void **state)
{
	(void)state;
	static const struct {
		const char *in, *host;
		int port;
	} good_nodes[] = {{"10.0.0.1:26379", "10.0.0.1", 26379},
	    {"redis-a.example:6379", "redis-a.example", 6379},
	    {"[::1]:7000", "::1", 7000}};
	static const struct {
		const char *in, *want;
	} bad_nodes[] = {{"", "empty node (want host:port)"},
	    {"h", "node \"h\" has no port (want host:port, or [ipv6]:port)"},
	    {"[::1]", "node \"[::1]\" has no port (want host:port, or "
	              "[ipv6]:port)"},
	    {"h:", "bad port \"\" (want 1..65535)"},
	    {"h:65536", "bad port \"65536\" (want 1..65535)"},
	    {":1", "missing host"},
	    {"::1:7000", "bad host \"::1:7000\" (put IPv6 addresses in "
	                 "brackets: redis://[::1]:6379)"}};
	for (size_t i = 0; i < sizeof good_nodes / sizeof *good_nodes; i++) {
		cw_redis_node n = {0};
		cw_error err = {0};
		assert_int_equal(
		    cw_redis_node_parse(good_nodes[i].in, &n, &err), CW_OK);
		assert_string_equal(n.host, good_nodes[i].host);
		assert_int_equal(n.port, good_nodes[i].port);
		cw_redis_node_free(&n);
		assert_null(n.host);
	}
	for (size_t i = 0; i < sizeof bad_nodes / sizeof *bad_nodes; i++) {
		cw_redis_node n = {0};
		cw_error err = {0};
		assert_int_equal(cw_redis_node_parse(bad_nodes[i].in, &n, &err),
		    CW_INVALID_ARGUMENT);
		if (strcmp(err.message, bad_nodes[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bad_nodes[i].in,
			    err.message, bad_nodes[i].want);
		assert_null(n.host);
	}
}

static void test_prefixes_and_mutations(void **state)
{
	static const char *const seeds[] = {
	    "redis://alice:s%40cr%3At@[::1]:7000/3",
	    "unix://:pw@/tmp/r.sock?db=5&",
	    "redis://h:6379/0?#@[]%",
	};
	static const char alphabet[] = ":/@[]%?#&=0123456789aZ \x01\xff";
	unsigned seed = 12345;
	size_t s, i, n;
	char buf[64];

	(void)state;
	for (s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		n = strlen(seeds[s]);
		for (i = 0; i <= n; i++) { /* every prefix */
			memcpy(buf, seeds[s], i);
			buf[i] = '\0';
			parse_any(buf);
		}
		for (i = 0; i < 20000; i++) { /* random 1-3 byte mutations */
			int m;
			memcpy(buf, seeds[s], n + 1);
			for (m = 0; m < 3; m++) {
				seed = seed * 1103515245u + 12345u;
				size_t pos = (seed >> 8) % n;
				seed = seed * 1103515245u + 12345u;
				buf[pos] = alphabet[(seed >> 8) %
				                    (sizeof alphabet - 1)];
			}
			parse_any(buf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_forms),
	    cmocka_unit_test(test_bad_forms),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_null_target_and_err),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_describe_edges),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_prefixes_and_mutations),
	    cmocka_unit_test(test_nodes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
