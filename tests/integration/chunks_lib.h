/*
 * chunks_lib.h - what the tests of values in chunks share (test_chunks.c,
 * test_chunks_wrong.c): a Redis (proto-max-bulk-len 4 MiB) and a
 * cachewired (64 KiB chunks, 256 KiB max_value_bytes) for the group, a
 * client to it, and helpers.
 */
#ifndef CW_TEST_CHUNKS_LIB_H
#define CW_TEST_CHUNKS_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/cachewire.h>

#include "servers.h"

#define CHUNK     ((size_t)64 * 1024)
#define MAX_VALUE ((size_t)256 * 1024) /* cw_get's limit here */
#define BULK_MAX  ((uint64_t)4 * 1024 * 1024)

typedef struct fixture {
	cw_test_redis redis;
	cw_test_daemon daemon;
	cw_client *c;
} fixture;

extern fixture fx;

/* cmocka group setup and teardown: start and stop fx. */
int chunks_setup(void **state);
int chunks_teardown(void **state);
/* redis-cli against fx's Redis, words split at spaces; its output. */
char *redis_cli(const char *fmt, ...);
/* Keys in fx's Redis matching a KEYS pattern. */
int redis_keys(const char *pattern);
/* n bytes (malloc'd) that differ with position and seed. */
uint8_t *pattern(size_t n, unsigned seed);

/* ---- memory as a stream ---- */

typedef struct mem {
	const uint8_t *p;
	size_t len, at;
	uint8_t *out; /* for writes */
	size_t cap, outlen;
	int writes;
	void (*after_first)(void); /* a write hook */
} mem;
int mem_read(void *arg, void *buf, size_t len, size_t *got);
int mem_write(void *arg, const void *buf, size_t len);

/* cw_set_from of p[0..n) under key through fx's client, or fail. */
void upload(const char *key, const uint8_t *p, size_t n, uint64_t *version);
/* rc must be want, with fragment in err's message. */
void expect_status(int rc, const cw_error *err, int want, const char *fragment);
/* key must be missing (through fx's client). */
void expect_missing(const char *key);

#endif
