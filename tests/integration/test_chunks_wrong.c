/*
 * test_chunks_wrong.c - uploads done wrong, through a real cachewired and
 * Redis (chunks_lib.h): chunks off the grid, too long, empty or past the
 * total; commits with missing bytes, a short middle chunk or a wrong
 * total; unknown, malformed and another tenant's upload ids; the limits
 * (Redis's proto-max-bulk-len, asked) before any byte; values read
 * through a daemon with another chunk size; Redis gone mid-upload. Each
 * gets a clear status and stores nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chunks_lib.h"

static void wrong_uploads_are_refused_and_store_nothing(void **state)
{
	(void)state;
	uint8_t *p = pattern(3 * CHUNK, 21);
	cw_upload up;
	cw_error err;

	/* chunks in any order make the right value */
	assert_int_equal(
	    cw_upload_begin(fx.c, "rev", 3, CW_NO_EXPIRY, -1, &up, 0, &err),
	    CW_OK);
	for (int i = 2; i >= 0; i--)
		assert_int_equal(cw_upload_put(fx.c, up.id, (uint64_t)i * CHUNK,
		                     p + (size_t)i * CHUNK, CHUNK, 0, &err),
		    CW_OK);
	assert_int_equal(
	    cw_upload_commit(fx.c, up.id, 3 * CHUNK, NULL, 0, &err), CW_OK);
	cw_range r;
	assert_int_equal(
	    cw_get_range(fx.c, "rev", 3, 2 * CHUNK - 3, 6, 0, &r, 0, &err),
	    CW_OK);
	assert_memory_equal(r.data, p + 2 * CHUNK - 3, 6);
	cw_free(r.data);

	assert_int_equal(cw_upload_begin(fx.c, "bad", 3, CW_NO_EXPIRY,
	                     (int64_t)(2 * CHUNK + 10), &up, 0, &err),
	    CW_OK);
	/* off the chunk grid, too long, empty, past the announced size */
	expect_status(cw_upload_put(fx.c, up.id, 100, p, 10, 0, &err), &err,
	    CW_INVALID_ARGUMENT, "not a multiple");
	expect_status(cw_upload_put(fx.c, up.id, 0, p, CHUNK + 1, 0, &err),
	    &err, CW_INVALID_ARGUMENT, "chunk_bytes");
	expect_status(cw_upload_put(fx.c, up.id, 0, p, 0, 0, &err), &err,
	    CW_INVALID_ARGUMENT, "empty");
	expect_status(cw_upload_put(fx.c, up.id, 2 * CHUNK, p, 11, 0, &err),
	    &err, CW_RESOURCE_EXHAUSTED, "past the upload's total_size");
	/* missing bytes: commit refuses, stores nothing, upload stays */
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, 2 * CHUNK, p, 10, 0, &err), CW_OK);
	expect_status(
	    cw_upload_commit(fx.c, up.id, 2 * CHUNK + 10, NULL, 0, &err), &err,
	    CW_FAILED_PRECONDITION, "bytes [0, 65536) are missing");
	expect_missing("bad");
	expect_status(cw_upload_commit(fx.c, up.id, 2 * CHUNK, NULL, 0, &err),
	    &err, CW_FAILED_PRECONDITION, "is not BeginUpload's");
	/* a short chunk that is not the last */
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, 0, p, CHUNK, 0, &err), CW_OK);
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, CHUNK, p, 100, 0, &err), CW_OK);
	expect_status(
	    cw_upload_commit(fx.c, up.id, 2 * CHUNK + 10, NULL, 0, &err), &err,
	    CW_FAILED_PRECONDITION, "the chunk at offset 65536 is 100 bytes");
	expect_missing("bad");

	/* unknown and malformed ids */
	expect_status(
	    cw_upload_put(fx.c, "0123456789abcdef-0042", 0, p, 10, 0, &err),
	    &err, CW_NOT_FOUND, "no upload");
	expect_status(cw_upload_commit(fx.c, "nonsense", 10, NULL, 0, &err),
	    &err, CW_INVALID_ARGUMENT, "malformed upload_id");

	/* the upload is still open: mend it and commit */
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, CHUNK, p + CHUNK, CHUNK, 0, &err),
	    CW_OK);
	uint64_t v = 0;
	assert_int_equal(
	    cw_upload_commit(fx.c, up.id, 2 * CHUNK + 10, &v, 0, &err), CW_OK);
	assert_true(v != 0);
	free(p);
}

static void another_tenants_upload_is_not_found(void **state)
{
	(void)state;
	char dir[] = "/tmp/cw-test-chunks-XXXXXX", path[64], env0[128];
	const char *env[] = {env0, "CACHEWIRE_CACHE_CHUNK_BYTES=64KiB", NULL};
	uint8_t *p = pattern(CHUNK, 31);
	cw_client *a, *b;
	cw_test_daemon d;
	cw_upload up;
	cw_error err;
	bool existed = true, found = true;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/tokens.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("- token: token-of-tenant-a\n  namespaces: [tenant-a]\n"
	      "- token: token-of-tenant-b\n  namespaces: [tenant-b]\n",
	    f);
	fclose(f);
	snprintf(env0, sizeof env0, "CACHEWIRE_AUTH_TOKENS_FILE=%s", path);
	assert_int_equal(cw_test_daemon_start(&d, fx.redis.url, env), 0);
	cw_client_options oa = {.token = "token-of-tenant-a"},
	                  ob = {.token = "token-of-tenant-b"};
	assert_int_equal(cw_open(&a, d.tcp_url, &oa, &err), CW_OK);
	assert_int_equal(cw_open(&b, d.tcp_url, &ob, &err), CW_OK);
	assert_int_equal(cw_upload_begin(a, "shared-name", 11, CW_NO_EXPIRY,
	                     (int64_t)CHUNK, &up, 0, &err),
	    CW_OK);
	/* tenant b holds a's upload id: nothing it does reaches it */
	expect_status(cw_upload_put(b, up.id, 0, p, CHUNK, 0, &err), &err,
	    CW_NOT_FOUND, "no upload");
	expect_status(cw_upload_commit(b, up.id, CHUNK, NULL, 0, &err), &err,
	    CW_NOT_FOUND, "no upload");
	assert_int_equal(cw_upload_abort(b, up.id, &existed, 0, &err), CW_OK);
	assert_false(existed);
	assert_int_equal(
	    cw_get(b, "shared-name", 11, &found, NULL, NULL, 0, &err), CW_OK);
	assert_false(found);
	/* ... and a's upload is intact */
	assert_int_equal(cw_upload_put(a, up.id, 0, p, CHUNK, 0, &err), CW_OK);
	assert_int_equal(
	    cw_upload_commit(a, up.id, CHUNK, NULL, 0, &err), CW_OK);
	void *v = NULL;
	size_t n = 0;
	assert_int_equal(
	    cw_get(a, "shared-name", 11, &found, &v, &n, 0, &err), CW_OK);
	assert_true(found);
	assert_int_equal(n, CHUNK);
	assert_memory_equal(v, p, CHUNK);
	assert_int_equal(
	    cw_get(b, "shared-name", 11, &found, NULL, NULL, 0, &err), CW_OK);
	assert_false(found);
	cw_free(v);
	cw_close(a);
	cw_close(b);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	unlink(path);
	rmdir(dir);
	free(p);
}

static void limits_come_before_any_byte(void **state)
{
	(void)state;
	cw_upload up;
	cw_error err;

	/* Redis's proto-max-bulk-len (4 MiB here) caps max_upload_bytes */
	assert_int_equal(
	    cw_upload_begin(fx.c, "big", 3, CW_NO_EXPIRY, -1, &up, 0, &err),
	    CW_OK);
	assert_int_equal(up.max_bytes, BULK_MAX);
	assert_int_equal(cw_upload_abort(fx.c, up.id, NULL, 0, &err), CW_OK);
	expect_status(cw_upload_begin(fx.c, "big", 3, CW_NO_EXPIRY,
	                  (int64_t)BULK_MAX + 1, &up, 0, &err),
	    &err, CW_RESOURCE_EXHAUSTED, "proto-max-bulk-len");
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 0);
	/* a stream of unknown size is stopped at the limit, nothing stored */
	uint8_t *p = pattern(BULK_MAX + CHUNK, 3);
	mem m = {.p = p, .len = BULK_MAX + CHUNK};
	expect_status(cw_set_from(fx.c, "big", 3, mem_read, &m, CW_NO_EXPIRY,
	                  NULL, NULL, &err),
	    &err, CW_RESOURCE_EXHAUSTED, "limit");
	expect_missing("big");
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 0);
	free(p);
}

static void chunk_sizes_differ_between_daemons(void **state)
{
	(void)state;
	static const char *const env[] = {
	    "CACHEWIRE_CACHE_CHUNK_BYTES=128KiB", NULL};
	uint8_t *p = pattern(5 * CHUNK + 77, 14);
	cw_test_daemon d;
	cw_client *c2;
	cw_error err;
	cw_range r;
	mem got = {0};
	bool found;

	assert_int_equal(cw_test_daemon_start(&d, fx.redis.url, env), 0);
	assert_int_equal(cw_open(&c2, d.tcp_url, NULL, &err), CW_OK);
	/* uploaded in 128 KiB chunks, read through 64 KiB ranges */
	mem m = {.p = p, .len = 5 * CHUNK + 77};
	assert_int_equal(cw_set_from(c2, "grid", 4, mem_read, &m, CW_NO_EXPIRY,
	                     NULL, NULL, &err),
	    CW_OK);
	assert_int_equal(
	    cw_get_to(fx.c, "grid", 4, &found, mem_write, &got, NULL, &err),
	    CW_OK);
	assert_int_equal(got.outlen, 5 * CHUNK + 77);
	assert_memory_equal(got.out, p, 5 * CHUNK + 77);
	assert_int_equal(
	    cw_get_range(fx.c, "grid", 4, 2 * CHUNK - 3, CHUNK, 0, &r, 0, &err),
	    CW_OK);
	assert_int_equal(r.len, CHUNK);
	assert_memory_equal(r.data, p + 2 * CHUNK - 3, CHUNK);
	cw_free(r.data);
	/* and the other way round */
	free(got.out);
	got = (mem){0};
	upload("grid", p, 5 * CHUNK + 77, NULL);
	assert_int_equal(
	    cw_get_to(c2, "grid", 4, &found, mem_write, &got, NULL, &err),
	    CW_OK);
	assert_int_equal(got.outlen, 5 * CHUNK + 77);
	assert_memory_equal(got.out, p, 5 * CHUNK + 77);
	/* past the end: found, nothing; a zero length is refused */
	assert_int_equal(
	    cw_get_range(fx.c, "grid", 4, 6 * CHUNK, 10, 0, &r, 0, &err),
	    CW_OK);
	assert_true(r.found);
	assert_int_equal(r.total_size, 5 * CHUNK + 77);
	assert_int_equal(r.len, 0);
	cw_free(r.data);
	expect_status(cw_get_range(fx.c, "grid", 4, 0, 0, 0, &r, 0, &err), &err,
	    CW_INVALID_ARGUMENT, "length");
	free(got.out);
	free(p);
	cw_close(c2);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

/* Redis gone: every step of an upload and a range read says so. */
static void redis_down_is_unavailable(void **state)
{
	(void)state;
	static const char *const env[] = {
	    "CACHEWIRE_CACHE_CHUNK_BYTES=64KiB", NULL};
	uint8_t *p = pattern(CHUNK, 41);
	cw_test_redis r;
	cw_test_daemon d;
	cw_client *c;
	cw_upload up;
	cw_range rg;
	cw_error err;

	assert_int_equal(cw_test_redis_start(&r, NULL, false, NULL), 0);
	assert_int_equal(cw_test_daemon_start(&d, r.url, env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(
	    cw_upload_begin(c, "down", 4, CW_NO_EXPIRY, -1, &up, 0, &err),
	    CW_OK);
	cw_test_redis_stop(&r, true);
	expect_status(cw_upload_put(c, up.id, 0, p, CHUNK, 0, &err), &err,
	    CW_UNAVAILABLE, "connect");
	expect_status(cw_upload_commit(c, up.id, CHUNK, NULL, 0, &err), &err,
	    CW_UNAVAILABLE, "connect");
	expect_status(
	    cw_upload_begin(c, "down", 4, CW_NO_EXPIRY, -1, &up, 0, &err), &err,
	    CW_UNAVAILABLE, "connect");
	expect_status(cw_get_range(c, "down", 4, 0, 10, 0, &rg, 0, &err), &err,
	    CW_UNAVAILABLE, "connect");
	mem m = {.p = p, .len = CHUNK};
	expect_status(cw_set_from(c, "down", 4, mem_read, &m, CW_NO_EXPIRY,
	                  NULL, NULL, &err),
	    &err, CW_UNAVAILABLE, "connect");
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest cases[] = {
	    cmocka_unit_test(wrong_uploads_are_refused_and_store_nothing),
	    cmocka_unit_test(another_tenants_upload_is_not_found),
	    cmocka_unit_test(limits_come_before_any_byte),
	    cmocka_unit_test(chunk_sizes_differ_between_daemons),
	    cmocka_unit_test(redis_down_is_unavailable),
	};
	int failed = cmocka_run_group_tests_name("values in chunks, done wrong",
	    cases, chunks_setup, chunks_teardown);
	return cw_test_exit(failed);
}
