/* status.c - status names and error details (cachewire/status.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cachewire/status.h>

static const char *const names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *cw_strerror(int status)
{
	if (status < 0 || status >= (int)(sizeof names / sizeof names[0]))
		return "UNKNOWN";
	return names[status];
}

int cw_error_set(cw_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

void cw_values_free(cw_value *values, size_t n)
{
	if (values == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(values[i].data);
		values[i].data = NULL;
	}
}
