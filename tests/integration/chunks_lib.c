/* chunks_lib.c - the shared part of the tests of values in chunks
 * (chunks_lib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chunks_lib.h"

fixture fx;

int chunks_setup(void **state)
{
	static const char *const redis_args[] = {
	    "--proto-max-bulk-len", "4mb", NULL};
	static const char *const env[] = {"CACHEWIRE_CACHE_CHUNK_BYTES=64KiB",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=256KiB", NULL};
	cw_error err;

	if (cw_test_redis_start(&fx.redis, NULL, false, redis_args) != 0 ||
	    cw_test_daemon_start(&fx.daemon, fx.redis.url, env) != 0 ||
	    cw_open(&fx.c, fx.daemon.tcp_url, NULL, &err) != CW_OK)
		return -1;
	*state = &fx;
	return 0;
}

int chunks_teardown(void **state)
{
	(void)state;
	cw_close(fx.c);
	int status = cw_test_daemon_stop(&fx.daemon);
	cw_test_redis_stop(&fx.redis, false);
	return status == 0 ? 0 : -1;
}

/* redis-cli against the test's Redis; its output (malloc'd). */
char *redis_cli(const char *fmt, ...)
{
	char line[512], *out = NULL, *err = NULL;
	const char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	argv[argc++] = "/usr/bin/redis-cli";
	argv[argc++] = "-s";
	argv[argc++] = fx.redis.sock;
	for (char *t = strtok(line, " "); t != NULL && argc < 15;
	     t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	assert_int_equal(
	    cw_test_run(argv, NULL, NULL, 0, &out, NULL, &err, 10), 0);
	free(err);
	return out;
}

/* Bytes that differ with position and seed, so a misplaced chunk shows. */
uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n > 0 ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

int mem_read(void *arg, void *buf, size_t len, size_t *got)
{
	mem *m = arg;
	size_t n = m->len - m->at < len ? m->len - m->at : len;
	/* hand out odd pieces: the client must fill whole chunks */
	if (n > 1000)
		n -= 7;
	memcpy(buf, m->p + m->at, n);
	m->at += n;
	*got = n;
	return 0;
}

int mem_write(void *arg, const void *buf, size_t len)
{
	mem *m = arg;
	if (m->outlen + len > m->cap) {
		m->cap = (m->outlen + len) * 2;
		m->out = realloc(m->out, m->cap);
		assert_non_null(m->out);
	}
	memcpy(m->out + m->outlen, buf, len);
	m->outlen += len;
	if (m->writes++ == 0 && m->after_first != NULL)
		m->after_first();
	return 0;
}

void upload(const char *key, const uint8_t *p, size_t n, uint64_t *version)
{
	mem m = {.p = p, .len = n};
	cw_error err;

	if (cw_set_from(fx.c, key, strlen(key), mem_read, &m, CW_NO_EXPIRY,
	        NULL, version, &err) != CW_OK)
		fail_msg("cw_set_from(%s, %zu bytes): %s", key, n, err.message);
}

void expect_status(int rc, const cw_error *err, int want, const char *fragment)
{
	if (rc != want || strstr(err->message, fragment) == NULL)
		fail_msg("got %s \"%s\"; want %s with \"%s\"", cw_strerror(rc),
		    rc == CW_OK ? "" : err->message, cw_strerror(want),
		    fragment);
}

void expect_missing(const char *key)
{
	bool found = true;
	cw_error err;
	assert_int_equal(
	    cw_get(fx.c, key, strlen(key), &found, NULL, NULL, 0, &err), CW_OK);
	assert_false(found);
}

/* Keys in Redis matching pattern (redis-cli KEYS; a test Redis is small). */
int redis_keys(const char *pattern)
{
	char *out = redis_cli("KEYS %s", pattern);
	int n = 0;
	for (char *p = out; *p != '\0'; p++)
		n += *p == '\n' && p > out && p[-1] != '\n';
	free(out);
	return n;
}

/* ---- cases ---- */
