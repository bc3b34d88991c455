/*
 * args.h - command-line parsing for the `cachewire` CLI. Pure functions: no
 * I/O (but cli_read_token_file, which reads the file it is given), no
 * environment access, no exit(), so they can be unit-tested.
 *
 * Every parser returns 0 on success and -1 on failure with a one-line
 * message (no "cachewire: " prefix, no trailing newline) in err.
 *
 * args.c parses the command line (args_conn.c checks its TLS and --admin
 * options), values.c the durations and times in it, token.c reads the
 * token file; help.c holds the --help text and cli_option_names().
 */
#ifndef CACHEWIRE_CLI_ARGS_H
#define CACHEWIRE_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

/* The exit codes of `cachewire` (also listed in its --help). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_NOT_FOUND = 1, /* get: no such key; del: key did not exist;
	                           get-many, delete-many: any key; stats:
	                           not ready; health: not HTTP 200 */
	CLI_EXIT_USAGE = 2,     /* bad arguments, unreadable value input */
	CLI_EXIT_FAILURE = 3,   /* the server or the transport failed */
};

enum cli_command {
	CLI_CMD_NONE = 0,
	CLI_CMD_GET,
	CLI_CMD_SET,
	CLI_CMD_DEL,
	CLI_CMD_CLEAR,
	CLI_CMD_PING,
	CLI_CMD_GET_MANY,
	CLI_CMD_SET_MANY,
	CLI_CMD_DELETE_MANY,
	CLI_CMD_STATS,
	CLI_CMD_HEALTH,
	CLI_CMD_HELP,
	CLI_CMD_VERSION,
};

#define CLI_DEFAULT_TIMEOUT_MS 5000
/* The daemon's admin HTTP endpoint (admin.listen) by default. */
#define CLI_DEFAULT_ADMIN_URL "http://127.0.0.1:7421"

struct cli_args {
	enum cli_command cmd;
	/* --url, else the environment's CACHEWIRE_URL, else CW_DEFAULT_URL. */
	const char *url;
	/* --timeout in ms, 1 .. INT_MAX; CLI_DEFAULT_TIMEOUT_MS by default. */
	int timeout_ms;
	/* get, set, del: the key (never empty). NULL otherwise. */
	const char *key;
	/* set, set-many: from --ttl or --expire-at; CW_NO_EXPIRY by default. */
	cw_expiry expiry;
	/* set: --file, or NULL to read the value from stdin ("-" too). */
	const char *file;
	/*
	 * get-many, delete-many: the count keys (none empty; duplicates kept).
	 * set-many: the count KEY VALUE pairs, keys[i] storing values[i] (a
	 * value may be empty). Both arrays point into argv and live in one
	 * allocation: free it with cli_args_free(). NULL (and count 0) for the
	 * other commands; values is NULL except for set-many.
	 */
	const char **keys;
	const char **values;
	size_t count;
	/*
	 * TLS, for tls+tcp:// URLs (required with one: tls_ca), from --cacert,
	 * --cert, --key (both or neither) and --server-name; NULL when not
	 * given.
	 */
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_server_name;
	/*
	 * --token-file, else the environment's CACHEWIRE_TOKEN_FILE; NULL for
	 * none. token_file_from names its source for messages: "--token-file"
	 * or "CACHEWIRE_TOKEN_FILE".
	 */
	const char *token_file;
	const char *token_file_from;
	/* --namespace, or NULL for the server's default. */
	const char *namespace_;
	/*
	 * stats, health: --admin (an http:// URL), else CLI_DEFAULT_ADMIN_URL;
	 * NULL for the other commands. ready: health --ready (GET /readyz
	 * rather than /healthz).
	 */
	const char *admin_url;
	bool ready;
};

/* The longest token --token-file accepts, in bytes. */
#define CLI_TOKEN_MAX 4096

/*
 * Parse argv[1 .. argc-1] into out. env_url is $CACHEWIRE_URL and
 * env_token_file $CACHEWIRE_TOKEN_FILE (NULL or empty when unset). Options
 * may come before or after the command; "--" ends the options (so a key may
 * start with '-'). --help / --version win as soon as they are seen. The
 * strings in out point into argv, env_url or env_token_file.
 */
int cli_parse_args(struct cli_args *out, int argc, char *const argv[],
    const char *env_url, const char *env_token_file, char *err, size_t errlen);

/*
 * Read the bearer token from the file path: one line of 1 to CLI_TOKEN_MAX
 * bytes, its line break ("\n" or "\r\n") dropped. An empty file, a second
 * line, a NUL byte or a longer token is an error naming from (the option or
 * variable that named the file) and path, never the content. On success
 * *token is a malloc'd copy: release it with cli_token_free().
 */
int cli_read_token_file(
    const char *path, const char *from, char **token, char *err, size_t errlen);

/* Overwrite the token, then free it; NULL is fine. */
void cli_token_free(char *token);

/*
 * Copy the library's message msg into out (outlen bytes, truncated, always
 * NUL-terminated) with the names of cw_client_options' TLS fields replaced
 * by the CLI's options: tls_ca_file by --cacert, tls_cert_file by --cert,
 * tls_key_file by --key, tls_server_name by --server-name.
 */
void cli_option_names(const char *msg, char *out, size_t outlen);

/* Free what cli_parse_args() allocated in a (keys, values). Safe to call
 * after a failed parse and more than once. */
void cli_args_free(struct cli_args *a);

/*
 * A duration: "<n>ms", "<n>s", "<n>m", "<n>h", "<n>d", or a bare "<n>"
 * (seconds); n is a non-negative decimal integer. Result in ms.
 */
int cli_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen);

/*
 * An absolute time, as Unix milliseconds (UTC):
 *   "1767225600" or "1767225600.250"  Unix seconds, optional fraction
 *   "1767225600250ms"                 Unix milliseconds
 *   "2026-11-25T12:00:00Z", "2026-11-25T12:00:00.250+01:00"   RFC 3339
 * Digits past the millisecond are dropped. Times before 1970 are rejected.
 */
int cli_parse_time(const char *s, uint64_t *unix_ms, char *err, size_t errlen);

/*
 * --admin's URL: http://HOST[:PORT][/PATH], no query or fragment (https://
 * and other schemes are refused: the admin endpoint speaks plain HTTP).
 */
int cli_check_admin_url(const char *s, char *err, size_t errlen);

/* The --help text. */
extern const char cli_help_text[];

#endif
