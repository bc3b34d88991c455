/*
 * args_internal.h - what the CLI's parsers (args.c, values.c, token.c) share.
 * Not for main.c or the tests: they use args.h.
 */
#ifndef CACHEWIRE_CLI_ARGS_INTERNAL_H
#define CACHEWIRE_CLI_ARGS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

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
