/*
 * args_internal.h - what the CLI's parsers (args.c, args_conn.c, values.c,
 * token.c) share.
 * Not for main.c or the tests: they use args.h.
 */
#ifndef CACHEWIRE_CLI_ARGS_INTERNAL_H
#define CACHEWIRE_CLI_ARGS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_args;

/* What the options said, before we know the command (args.c). */
struct cli_seen {
	const char *url;
	const char *timeout;
	const char *ttl;
	const char *expire_at;
	const char *file;
	const char *token_file;
	const char *admin;
	bool ready;
	/* Every non-option argument, in order (room for argc of them). */
	const char **positional;
	int npositional;
};

/* args_conn.c: the TLS options against the URL, once both are known. */
int cli_apply_tls_options(struct cli_args *out, char *err, size_t errlen);
/* args_conn.c: stats' and health's options (name: the command's). */
int cli_apply_admin_options(struct cli_args *out, const struct cli_seen *seen,
    const char *name, char *err, size_t errlen);

/* Write the message into err (if any room) and return -1. */
static inline int fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static inline int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#endif
