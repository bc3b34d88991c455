/*
 * args.h - command-line parsing for the `cachewire` CLI. Pure functions: no
 * I/O, no environment access, no exit(), so they can be unit-tested.
 *
 * Every parser returns 0 on success and -1 on failure with a one-line
 * message (no "cachewire: " prefix, no trailing newline) in err.
 */
#ifndef CACHEWIRE_CLI_ARGS_H
#define CACHEWIRE_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

/* The exit codes of `cachewire` (also listed in its --help). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_NOT_FOUND = 1, /* get: no such key; del: key did not exist;
	                           get-many, delete-many: any key */
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
	CLI_CMD_HELP,
	CLI_CMD_VERSION,
};

#define CLI_DEFAULT_TIMEOUT_MS 5000

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
};

/*
 * Parse argv[1 .. argc-1] into out. env_url is $CACHEWIRE_URL (NULL or empty
 * when unset). Options may come before or after the command; "--" ends the
 * options (so a key may start with '-'). --help / --version win as soon as
 * they are seen. The strings in out point into argv or env_url.
 */
int cli_parse_args(struct cli_args *out, int argc, char *const argv[],
    const char *env_url, char *err, size_t errlen);

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

/* The --help text. */
extern const char cli_help_text[];

#endif
