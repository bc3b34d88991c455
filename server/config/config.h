/*
 * config.h - cachewired's configuration: built-in defaults, then a YAML
 * file (libyaml), then CACHEWIRE_* environment variables, then command-line
 * flags (options.c sets each through cw_config_set), then
 * cw_config_validate. config/cachewire.yaml documents every key.
 *
 * One key table serves the YAML loader, the environment and validation:
 * each scalar key <section>.<key> is set by CACHEWIRE_<SECTION>_<KEY>
 * (upper case), the list "listen" by CACHEWIRE_LISTEN (comma-separated).
 *
 * The YAML parser is separate from the file I/O so it can be tested (and
 * fuzzed) on strings. A call that takes errbuf returns 0, or -1 and writes
 * one line (no newline) into errbuf (errbuf may be NULL; the line is
 * truncated to errlen):
 *
 *   YAML         "<file>:<line>:<col>: <message>", line and column 1-based,
 *                at the offending key or value (or where libyaml found a
 *                syntax error)
 *   unreadable   "<path>: cannot read: <strerror>"
 *   environment  "<VARIABLE>: <message>"
 *   validation   "<message>" naming the keys involved (it checks the merged
 *                result of all layers, which has no single position)
 *
 * Values are quoted and escaped in messages. redis.url is never echoed,
 * because it may hold a password: its errors carry cw_redis_url_parse's
 * message, which leaves the password out.
 *
 * None of these functions are thread-safe on the same cw_config; different
 * configs may be used from different threads.
 */
#ifndef CW_SERVER_CONFIG_H
#define CW_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h" /* enum cw_log_level, enum cw_log_format */

#define CW_MAX_LISTEN 16

/* redis.mode: how cachewired finds the Redis it runs on. */
enum cw_redis_mode {
	CW_REDIS_STANDALONE, /* redis.url */
	CW_REDIS_CLUSTER,    /* Redis Cluster, seeds in redis.nodes */
	CW_REDIS_SENTINEL,   /* the master Sentinel names (redis.nodes) */
};

typedef struct cw_config {
	/* listen: nng URLs to serve on (tcp://, tcp4://, tcp6://, ipc://),
	 * 1..CW_MAX_LISTEN of them, no duplicates. Default
	 * tcp://127.0.0.1:7420 and ipc:///tmp/cachewire.sock. */
	char *listen[CW_MAX_LISTEN];
	int listen_count;
	/* server.* */
	int max_in_flight; /* requests served at once, more are refused
	                      (RESOURCE_EXHAUSTED); 1..65536, default 256 */
	size_t
	    max_message_bytes;  /* transport limit; 1KiB..1GiB, default 33MiB */
	int default_timeout_ms; /* when a request names none; 1..3600000,
	                           default 5000 */
	int drain_timeout_ms;   /* on SIGTERM, how long requests in flight may
	                           take to finish; 0..3600000, default 10000 */
	/* redis.* */
	enum cw_redis_mode redis_mode; /* default CW_REDIS_STANDALONE */
	char *
	    redis_nodes; /* NULL, or "host:port,host:port,...": cluster
	                    seeds or sentinels; each cw_redis_node_parse-able */
	char *redis_sentinel_master;        /* NULL, or the master's name */
	char *redis_sentinel_password_file; /* NULL, or the sentinels' own
	                                       password's file */
	char *redis_sentinel_password;      /* what it held; never log it */
	char *redis_url;  /* default "redis://127.0.0.1:6379/0"; valid for
	                     cw_redis_url_parse; may hold a password: never
	                     log it (cw_redis_target_describe) */
	char *redis_user; /* NULL, or the ACL user; replaces one in redis_url */
	char *redis_password_file; /* NULL, or the file redis_password was
	                              read from */
	char *redis_password;      /* NULL, or redis.password, or the content of
	                              redis.password_file (one trailing newline
	                              removed), whichever was set last; replaces
	                              a password in redis_url; never log it */
	int pool_size;             /* 1..256, default 4 */
	int connect_timeout_ms;    /* 1..3600000, default 1000 */
	int command_timeout_ms;    /* 1..3600000, default 5000 */
	/* cache.* */
	char *namespace_;        /* [A-Za-z0-9_.-]{1,64}, default "cachewire" */
	size_t max_key_bytes;    /* 1..1MiB, default 4096 */
	size_t max_value_bytes;  /* 1..512MiB, default 32MiB */
	int clear_batch;         /* 1..100000, default 512 */
	int max_batch_keys;      /* 1..100000, default 1000 */
	size_t chunk_bytes;      /* 64KiB..64MiB, default 1MiB; what is
	                            used: cw_config_chunk_bytes() */
	size_t max_upload_bytes; /* 1..4GiB, default 512MiB (and Redis's
	                            proto-max-bulk-len, asked at run time) */
	int upload_ttl_ms;       /* 1000..86400000, default 600000 */
	/* tls.*: for tls+tcp:// listen URLs; files readable when set */
	char *tls_cert_file;      /* NULL, or the server's PEM certificate */
	char *tls_key_file;       /* NULL, or its PEM private key */
	char *tls_client_ca_file; /* NULL, or CAs clients must be signed by */
	int tls_min_version;      /* 12 (TLS 1.2, default) or 13 */
	/* auth.* */
	char *auth_tokens_file;        /* NULL: no authentication */
	struct cw_tokens *auth_tokens; /* what it held, read when set */
	/* grpc.*: NULL (default: no gRPC), or "host:port,tls://host:port",
	 * each entry cw_grpc_listen_parse-able */
	char *grpc_listen;
	/* admin.* */
	char *admin_listen; /* NULL: no admin endpoint; else http://HOST:PORT,
	                       default http://127.0.0.1:7421 */
	/* log.* */
	enum cw_log_level log_level;   /* default CW_LOG_INFO */
	enum cw_log_format log_format; /* default CW_LOG_TEXT */
	/* not a key: the file the configuration was read from, or NULL
	 * (built-in defaults); set by options.c, for logs */
	char *source;
} cw_config;

/*
 * Overwrite c (without freeing what it held) with the defaults above,
 * allocating its strings. Returns 0, or -1 when out of memory (c can then
 * still be given to cw_config_free). Free with cw_config_free().
 */
int cw_config_defaults(cw_config *c);

/*
 * Apply the YAML document text (len bytes, need not be NUL-terminated)
 * named `name` (used in messages) on top of c. Keys that are absent keep
 * their value; an empty document (or one of comments only) changes nothing.
 * The document must be one mapping of sections; a section whose value is
 * empty (null) changes nothing. On error returns -1 and writes
 * "name:line:col: msg" into errbuf; c may then be partly updated and must
 * still be freed.
 */
int cw_config_parse_yaml(cw_config *c, const char *name, const char *text,
    size_t len, char *errbuf, size_t errlen);

/*
 * Read the file at path (at most 1 MiB) and apply it as above. An
 * unreadable file is "path: cannot read: <strerror>".
 */
int cw_config_load_file(
    cw_config *c, const char *path, char *errbuf, size_t errlen);

/*
 * Apply CACHEWIRE_* overrides from envp (a NULL-terminated "K=V" array, e.g.
 * environ), in order. Recognised: CACHEWIRE_LISTEN (comma-separated URLs,
 * replaces the whole list) and CACHEWIRE_<SECTION>_<KEY> for every scalar
 * key (CACHEWIRE_SERVER_WORKERS, CACHEWIRE_REDIS_URL,
 * CACHEWIRE_CACHE_NAMESPACE, CACHEWIRE_LOG_LEVEL, ...). Values are parsed
 * exactly as in YAML. Other CACHEWIRE_* variables are errors ("did you
 * mean"), except those other programs or main.c own: CACHEWIRE_URL,
 * CACHEWIRE_CONFIG, CACHEWIRE_TIMEOUT. Errors are "VARIABLE: msg"; c may
 * then be partly updated and must still be freed.
 */
int cw_config_apply_env(
    cw_config *c, char *const *envp, char *errbuf, size_t errlen);

/*
 * Set the key at path ("redis.url", "log.level", "listen", ...) from text,
 * parsed as the environment's value would be (a list is comma-separated).
 * Errors are "<origin>: msg", e.g. origin "--redis-url" for a flag.
 */
int cw_config_set(cw_config *c, const char *path, const char *text,
    const char *origin, char *errbuf, size_t errlen);

/*
 * Check c as a whole: every key's range and format again (fields may have
 * been set directly), at least one listen URL, and cross-field rules:
 * cache.max_value_bytes + cache.max_key_bytes + 64KiB (envelope) must be
 * <= server.max_message_bytes. Returns 0 or -1 with "msg" in errbuf.
 */
int cw_config_validate(const cw_config *c, char *errbuf, size_t errlen);

/*
 * The keys whose values differ between a and b: their paths ("log.level",
 * "listen") go to out[0..max), in key-table order. Returns how many differ
 * (that may be more than max).
 */
int cw_config_changed(
    const cw_config *a, const cw_config *b, char (*out)[48], int max);

/* Free c's strings and leave it empty; safe to call twice. */
void cw_config_free(cw_config *c);

/*
 * The chunk size in use: cache.chunk_bytes, cut to what a message holds
 * (server.max_message_bytes less max_key_bytes and 64KiB of envelope;
 * at least 4KiB).
 */
size_t cw_config_chunk_bytes(const cw_config *c);

#endif
