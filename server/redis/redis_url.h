/*
 * redis_url.h - where a Redis is and how to log in to it: the target that
 * the connections (mux.h) dial, parsed from a redis:// or unix:// URL, and
 * described for logs without its password.
 */
#ifndef CW_REDIS_URL_H
#define CW_REDIS_URL_H

#include <stddef.h>

#include <cachewire/status.h>

/* Where Redis is and how to log in; see cw_redis_url_parse(). */
typedef struct cw_redis_target {
	char *host;      /* NULL when unix_path is set */
	int port;        /* default 6379 */
	char *unix_path; /* NULL for TCP */
	int db;          /* SELECT db after connect when not 0 */
	char *user;      /* ACL user, or NULL */
	char *password;  /* AUTH password, or NULL */
} cw_redis_target;

/* Largest database number a URL or cw_cache_options may name. */
#define CW_REDIS_MAX_DB ((1 << 20) - 1)

/*
 * Parse "redis://[[user]:password@]host[:port][/db]" (host may be an IPv6
 * address in brackets, "[::1]") or "unix://[[user]:password@]/path/to/
 * socket[?db=N]" into *t. User, password and socket path may be
 * %-encoded; "redis://:pw@h" gives a password only; port defaults to 6379,
 * db to 0. The scheme is case-insensitive. Returns CW_OK, or
 * CW_INVALID_ARGUMENT with a message naming what is wrong (never the
 * password); *t is written only on success. Free with cw_redis_target_free().
 */
int cw_redis_url_parse(const char *url, cw_redis_target *t, cw_error *err);

/* Free t's strings and set them to NULL; t itself is not freed. NULL is a
 * no-op. */
void cw_redis_target_free(cw_redis_target *t);

/*
 * Deep-copy src into *dst (CW_OK, or CW_INTERNAL when out of memory).
 * Free with cw_redis_target_free().
 */
int cw_redis_target_copy(
    cw_redis_target *dst, const cw_redis_target *src, cw_error *err);

/*
 * The URL of t without its password, for logs and messages:
 * "redis://u:***@h:6379/0", "redis://[::1]:6379/0",
 * "unix:///run/redis.sock?db=0". Truncated to fit len bytes.
 */
void cw_redis_target_describe(const cw_redis_target *t, char *buf, size_t len);

/* A Redis Cluster seed or a Sentinel: "host:port" of redis.nodes. */
typedef struct cw_redis_node {
	char *host; /* a name, an IPv4 or an IPv6 address (no brackets) */
	int port;
} cw_redis_node;

/*
 * Parse "host:port" or "[ipv6]:port" (the port is required: 6379 and
 * Sentinel's 26379 are both common) into *n. CW_OK, or
 * CW_INVALID_ARGUMENT saying what is wrong; *n is written only on
 * success. Free with cw_redis_node_free().
 */
int cw_redis_node_parse(const char *s, cw_redis_node *n, cw_error *err);
void cw_redis_node_free(cw_redis_node *n);

/*
 * A comma-separated list of them (blanks around items allowed; redis.nodes
 * as the environment gives it) into out[0..max): CW_OK with *n set, or
 * CW_INVALID_ARGUMENT saying what is wrong, with nothing left allocated.
 */
int cw_redis_nodes_parse(
    const char *list, cw_redis_node *out, int max, int *n, cw_error *err);

/*
 * Where Redis Sentinel is asked for the master (redis.mode sentinel).
 * The master is then dialled with the credentials and db of the target
 * this goes with; the sentinels have their own password, if any.
 */
typedef struct cw_redis_sentinel {
	const cw_redis_node *nodes; /* the sentinels, 1 or more */
	int nnodes;
	const char *master;   /* the name the sentinels monitor it by */
	const char *password; /* the sentinels' AUTH password, or NULL */
} cw_redis_sentinel;

#endif
