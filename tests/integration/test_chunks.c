/*
 * test_chunks.c - large values in chunks (cache.proto: BeginUpload,
 * PutChunk, CommitUpload, AbortUpload, GetRange) through a real cachewired
 * and Redis (chunks_lib.h): round trips at the sizes around a chunk's,
 * readers during uploads, abort, a client killed mid-upload, values
 * replaced during a read, expiry, GetMany, Delete and Clear. The ways an
 * upload can be wrong are in test_chunks_wrong.c.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "chunks_lib.h"

static char self_path[4096]; /* this program, for a child to run */

/* ---- cases ---- */

static void round_trip_at_every_size(void **state)
{
	(void)state;
	const size_t sizes[] = {
	    0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 123};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		char key[32];
		size_t n = sizes[i];
		uint8_t *p = pattern(n, (unsigned)i + 1);
		uint64_t version = 0;
		mem got = {0};
		bool found = false;
		cw_error err;

		snprintf(key, sizeof key, "size-%zu", n);
		upload(key, p, n, &version);
		assert_true(version != 0);
		assert_int_equal(cw_get_to(fx.c, key, strlen(key), &found,
		                     mem_write, &got, NULL, &err),
		    CW_OK);
		assert_true(found);
		assert_int_equal(got.outlen, n);
		assert_true(n == 0 || memcmp(got.out, p, n) == 0);
		/* Get returns it whole when it fits max_value_bytes */
		void *v = NULL;
		size_t vlen = 0;
		int rc =
		    cw_get(fx.c, key, strlen(key), &found, &v, &vlen, 0, &err);
		if (n <= MAX_VALUE) {
			assert_int_equal(rc, CW_OK);
			assert_true(found);
			assert_int_equal(vlen, n);
			assert_true(n == 0 || memcmp(v, p, n) == 0);
		} else {
			expect_status(rc, &err, CW_RESOURCE_EXHAUSTED,
			    "read it with GetRange");
		}
		cw_free(v);
		/* ranges across chunk borders */
		if (n > CHUNK + 10) {
			cw_range r;
			assert_int_equal(
			    cw_get_range(fx.c, key, strlen(key), CHUNK - 5, 10,
			        version, &r, 0, &err),
			    CW_OK);
			assert_true(r.found);
			assert_int_equal(r.total_size, n);
			assert_int_equal(r.version, version);
			assert_int_equal(r.len, 10);
			assert_memory_equal(r.data, p + CHUNK - 5, 10);
			cw_free(r.data);
		}
		free(got.out);
		free(p);
	}
}

static void through_file_descriptors(void **state)
{
	(void)state;
	char in[] = "/tmp/cw-chunks-in-XXXXXX",
	     out[] = "/tmp/cw-chunks-out-XXXXXX";
	int fi = mkstemp(in), fo = mkstemp(out);
	size_t n = 3 * CHUNK + 17, len = 0;
	uint8_t *p = pattern(n, 99);
	bool found = false;
	cw_error err;

	assert_true(fi >= 0 && fo >= 0);
	assert_int_equal(write(fi, p, n), (ssize_t)n);
	assert_int_equal(lseek(fi, 0, SEEK_SET), 0);
	assert_int_equal(
	    cw_set_from_fd(fx.c, "fd", 2, fi, CW_NO_EXPIRY, NULL, NULL, &err),
	    CW_OK);
	assert_int_equal(
	    cw_get_to_fd(fx.c, "fd", 2, &found, fo, NULL, &err), CW_OK);
	assert_true(found);
	char *back = cw_test_read_file(out, &len);
	assert_int_equal(len, n);
	assert_memory_equal(back, p, n);
	/* a miss writes nothing */
	assert_int_equal(
	    cw_get_to_fd(fx.c, "no-such", 7, &found, fo, NULL, &err), CW_OK);
	assert_false(found);
	free(back);
	free(p);
	close(fi);
	close(fo);
	unlink(in);
	unlink(out);
}

/* A reader during uploads sees a whole old or a whole new value. */
static volatile int stop_reader;
static atomic_int reader_bad, reader_reads;

static void *reader(void *arg)
{
	cw_client *c = arg;
	while (!stop_reader) {
		void *v = NULL;
		size_t n = 0;
		bool found = false;
		cw_error err;
		if (cw_get(c, "swap", 4, &found, &v, &n, 0, &err) != CW_OK ||
		    !found) {
			reader_bad++;
			continue;
		}
		/* value k is (k+1)*CHUNK/2 bytes of the byte 'a' + k */
		const uint8_t *b = v;
		size_t k = (size_t)(b[0] - 'a');
		bool whole = n == (k + 1) * CHUNK / 2;
		for (size_t i = 0; whole && i < n; i++)
			whole = b[i] == b[0];
		reader_bad += !whole;
		reader_reads++;
		cw_free(v);
	}
	return NULL;
}

static void readers_see_old_or_new_never_part(void **state)
{
	(void)state;
	uint8_t buf[4 * CHUNK];
	cw_client *rc;
	cw_error err;
	pthread_t t;

	memset(buf, 'a', CHUNK / 2);
	upload("swap", buf, CHUNK / 2, NULL);
	assert_int_equal(cw_open(&rc, fx.daemon.tcp_url, NULL, &err), CW_OK);
	stop_reader = 0;
	reader_bad = reader_reads = 0;
	assert_int_equal(pthread_create(&t, NULL, reader, rc), 0);
	for (int round = 0; round < 24; round++) {
		size_t k = (size_t)(round % 7) + 1, n = (k + 1) * CHUNK / 2;
		memset(buf, 'a' + (int)k, n);
		upload("swap", buf, n, NULL);
	}
	/* an upload half done is not visible */
	cw_upload up;
	memset(buf, 'z', 2 * CHUNK);
	assert_int_equal(
	    cw_upload_begin(fx.c, "swap", 4, CW_NO_EXPIRY, -1, &up, 0, &err),
	    CW_OK);
	assert_int_equal(up.chunk_bytes, CHUNK);
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, 0, buf, CHUNK, 0, &err), CW_OK);
	for (int i = 0; i < 100 && reader_reads < 3; i++)
		cw_test_sleep_ms(50);
	stop_reader = 1;
	pthread_join(t, NULL);
	cw_close(rc);
	assert_int_equal(reader_bad, 0);
	assert_true(reader_reads > 0);
	assert_int_equal(cw_upload_abort(fx.c, up.id, NULL, 0, &err), CW_OK);
}

static void abort_leaves_the_old_value(void **state)
{
	(void)state;
	uint8_t *old = pattern(2 * CHUNK, 5), *neu = pattern(CHUNK, 6);
	cw_upload up;
	bool existed = false;
	cw_error err;
	mem got = {0};
	bool found;

	upload("ab", old, 2 * CHUNK, NULL);
	assert_int_equal(cw_upload_begin(fx.c, "ab", 2, CW_NO_EXPIRY,
	                     (int64_t)CHUNK, &up, 0, &err),
	    CW_OK);
	assert_int_equal(
	    cw_upload_put(fx.c, up.id, 0, neu, CHUNK, 0, &err), CW_OK);
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 1);
	assert_int_equal(
	    cw_upload_abort(fx.c, up.id, &existed, 0, &err), CW_OK);
	assert_true(existed);
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 0);
	/* the upload is gone for good; aborting again is fine */
	expect_status(cw_upload_put(fx.c, up.id, 0, neu, CHUNK, 0, &err), &err,
	    CW_NOT_FOUND, "no upload");
	expect_status(cw_upload_commit(fx.c, up.id, CHUNK, NULL, 0, &err), &err,
	    CW_NOT_FOUND, "no upload");
	assert_int_equal(
	    cw_upload_abort(fx.c, up.id, &existed, 0, &err), CW_OK);
	assert_false(existed);
	assert_int_equal(
	    cw_get_to(fx.c, "ab", 2, &found, mem_write, &got, NULL, &err),
	    CW_OK);
	assert_int_equal(got.outlen, 2 * CHUNK);
	assert_memory_equal(got.out, old, 2 * CHUNK);
	free(got.out);
	free(old);
	free(neu);
}

static void killed_client_leaves_nothing_visible(void **state)
{
	(void)state;
	static const char *const env[] = {"CACHEWIRE_CACHE_CHUNK_BYTES=64KiB",
	    "CACHEWIRE_CACHE_UPLOAD_TTL_MS=1000", NULL};
	cw_test_daemon d;
	int fds[2];
	char id[CW_UPLOAD_ID_SIZE] = "";

	assert_int_equal(cw_test_daemon_start(&d, fx.redis.url, env), 0);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* nng does not survive a fork: the child runs this program
		 * afresh (main, "--upload-and-hang") */
		char fd[16];
		snprintf(fd, sizeof fd, "%d", fds[1]);
		close(fds[0]);
		execl(self_path, self_path, "--upload-and-hang", d.tcp_url, fd,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], id, sizeof id), (ssize_t)sizeof id);
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	expect_missing("killed");
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 1);
	/* it is there, named by the id's version, and expiring */
	char *keys = redis_cli("KEYS conf:{*}:upload:%.16s", id);
	keys[strcspn(keys, "\n")] = '\0';
	char *ttl = redis_cli("PTTL %s", keys);
	assert_true(atoll(ttl) > 0 && atoll(ttl) <= 1000);
	free(keys);
	free(ttl);
	/* Redis removes it by itself once upload_ttl_ms passed */
	for (int i = 0; i < 40 && redis_keys("conf:{*}:upload:*") > 0; i++)
		cw_test_sleep_ms(100);
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 0);
	expect_missing("killed");
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

static void replace_under_the_reader(void)
{
	uint8_t *p = pattern(3 * CHUNK, 77);
	upload("moving", p, 3 * CHUNK, NULL);
	free(p);
}

static void a_value_replaced_during_a_read_is_noticed(void **state)
{
	(void)state;
	uint8_t *p = pattern(3 * CHUNK, 11);
	uint64_t v1 = 0;
	cw_range r;
	cw_error err;
	mem got = {.after_first = replace_under_the_reader};
	bool found;

	upload("moving", p, 3 * CHUNK, &v1);
	assert_int_equal(
	    cw_get_range(fx.c, "moving", 6, 0, CHUNK, v1, &r, 0, &err), CW_OK);
	assert_int_equal(r.version, v1);
	cw_free(r.data);
	/* replaced by another upload */
	replace_under_the_reader();
	expect_status(
	    cw_get_range(fx.c, "moving", 6, CHUNK, CHUNK, v1, &r, 0, &err),
	    &err, CW_FAILED_PRECONDITION, "the value changed");
	/* the streaming read notices it too */
	expect_status(
	    cw_get_to(fx.c, "moving", 6, &found, mem_write, &got, NULL, &err),
	    &err, CW_FAILED_PRECONDITION, "the value changed");
	free(got.out);
	/* replaced by Set, then gone */
	assert_int_equal(
	    cw_get_range(fx.c, "moving", 6, 0, 1, 0, &r, 0, &err), CW_OK);
	uint64_t v2 = r.version;
	cw_free(r.data);
	assert_int_equal(
	    cw_set(fx.c, "moving", 6, "small", 5, CW_NO_EXPIRY, 0, &err),
	    CW_OK);
	expect_status(cw_get_range(fx.c, "moving", 6, 0, 1, v2, &r, 0, &err),
	    &err, CW_FAILED_PRECONDITION, "written by Set");
	assert_int_equal(
	    cw_get_range(fx.c, "moving", 6, 1, 100, 0, &r, 0, &err), CW_OK);
	assert_true(r.found);
	assert_int_equal(r.version, 0);
	assert_int_equal(r.total_size, 5);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.data, "mall", 4);
	cw_free(r.data);
	assert_int_equal(cw_delete(fx.c, "moving", 6, NULL, 0, &err), CW_OK);
	expect_status(cw_get_range(fx.c, "moving", 6, 0, 1, v2, &r, 0, &err),
	    &err, CW_FAILED_PRECONDITION, "gone");
	free(p);
}

static void expiry_counts_from_commit(void **state)
{
	(void)state;
	uint8_t *p = pattern(CHUNK + 1, 8);
	cw_stream_options o = {.total_size = -1};
	mem m = {.p = p, .len = CHUNK + 1};
	cw_error err;

	assert_int_equal(cw_set_from(fx.c, "ttl", 3, mem_read, &m,
	                     CW_TTL_MS(60000), &o, NULL, &err),
	    CW_OK);
	char *pttl = redis_cli("PTTL conf:ttl");
	long long ms = atoll(pttl);
	free(pttl);
	assert_true(ms > 50000 && ms <= 60000);
	/* already past at commit: the key goes, the call succeeds */
	m.at = 0;
	assert_int_equal(cw_set_from(fx.c, "ttl", 3, mem_read, &m,
	                     CW_EXPIRE_AT_MS(1000), &o, NULL, &err),
	    CW_OK);
	expect_missing("ttl");
	assert_int_equal(redis_keys("conf:{*}:upload:*"), 0);
	free(p);
}

static void get_many_returns_chunked_values_whole(void **state)
{
	(void)state;
	uint8_t *p = pattern(2 * CHUNK + 5, 12), *big = pattern(5 * CHUNK, 13);
	cw_key keys[] = {{"gm-up", 5}, {"gm-plain", 8}, {"gm-none", 7},
	    {"gm-up", 5}, {"gm-big", 6}};
	cw_value v[5];
	cw_error err;

	upload("gm-up", p, 2 * CHUNK + 5, NULL);
	assert_int_equal(
	    cw_set(fx.c, "gm-plain", 8, "plain", 5, CW_NO_EXPIRY, 0, &err),
	    CW_OK);
	upload("gm-big", big, 5 * CHUNK, NULL); /* over max_value_bytes */
	assert_int_equal(cw_get_many(fx.c, 4, keys, v, 0, &err), CW_OK);
	assert_true(v[0].found && v[1].found && !v[2].found && v[3].found);
	assert_int_equal(v[0].len, 2 * CHUNK + 5);
	assert_memory_equal(v[0].data, p, 2 * CHUNK + 5);
	assert_memory_equal(v[3].data, p, 2 * CHUNK + 5);
	assert_int_equal(v[1].len, 5);
	assert_memory_equal(v[1].data, "plain", 5);
	cw_values_free(v, 4);
	/* one too large for a message fails the batch, naming it */
	expect_status(cw_get_many(fx.c, 5, keys, v, 0, &err), &err,
	    CW_RESOURCE_EXHAUSTED, "keys[4]: value is");
	free(p);
	free(big);
}

/* A value keeps the chunk size it was uploaded with: a daemon configured
 * with another reads it on the value's own grid. */
static void clear_and_delete_take_chunked_values(void **state)
{
	(void)state;
	uint8_t *p = pattern(2 * CHUNK, 9);
	cw_upload up;
	cw_error err;
	uint64_t removed = 0;
	bool existed = false;

	upload("gone1", p, 2 * CHUNK, NULL);
	upload("gone2", p, 2 * CHUNK, NULL);
	assert_int_equal(cw_delete(fx.c, "gone1", 5, &existed, 0, &err), CW_OK);
	assert_true(existed);
	expect_missing("gone1");
	assert_int_equal(
	    cw_upload_begin(fx.c, "pending", 7, CW_NO_EXPIRY, -1, &up, 0, &err),
	    CW_OK);
	assert_int_equal(cw_clear(fx.c, &removed, 0, &err), CW_OK);
	assert_true(removed >= 2);
	expect_missing("gone2");
	expect_status(cw_upload_put(fx.c, up.id, 0, p, 10, 0, &err), &err,
	    CW_NOT_FOUND, "no upload");
	assert_int_equal(redis_keys("conf:*"), 0);
	free(p);
}

/* The killed client: begin, put a chunk, tell the id on fd, hang. */
static int upload_and_hang(const char *url, int fd)
{
	uint8_t *p = pattern(CHUNK, 7);
	cw_client *c;
	cw_upload up;
	cw_error err;

	if (cw_open(&c, url, NULL, &err) != CW_OK ||
	    cw_upload_begin(c, "killed", 6, CW_NO_EXPIRY, -1, &up, 0, &err) !=
	        CW_OK ||
	    cw_upload_put(c, up.id, 0, p, CHUNK, 0, &err) != CW_OK ||
	    write(fd, up.id, sizeof up.id) != (ssize_t)sizeof up.id)
		return 1;
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--upload-and-hang") == 0)
		return upload_and_hang(argv[2], atoi(argv[3]));
	/* argv[0], not /proc/self/exe: under valgrind that is valgrind */
	if (realpath(argv[0], self_path) == NULL)
		return 1;

	const struct CMUnitTest cases[] = {
	    cmocka_unit_test(round_trip_at_every_size),
	    cmocka_unit_test(through_file_descriptors),
	    cmocka_unit_test(readers_see_old_or_new_never_part),
	    cmocka_unit_test(abort_leaves_the_old_value),
	    cmocka_unit_test(killed_client_leaves_nothing_visible),
	    cmocka_unit_test(a_value_replaced_during_a_read_is_noticed),
	    cmocka_unit_test(expiry_counts_from_commit),
	    cmocka_unit_test(get_many_returns_chunked_values_whole),
	    cmocka_unit_test(clear_and_delete_take_chunked_values),
	};
	int failed = cmocka_run_group_tests_name(
	    "values in chunks", cases, chunks_setup, chunks_teardown);
	return cw_test_exit(failed);
}
