/* errline.c - one-line error messages (errline.h). */
#include <stdio.h>

#include "errline.h"

/* The longest message before its position is prefixed. */
#define MSG_MAX 512

static int vfail_line(char *errbuf, size_t errlen, const char *fmt, va_list ap)
    CW_PRINTF(3, 0);

static int vfail_line(char *errbuf, size_t errlen, const char *fmt, va_list ap)
{
	if (errbuf == NULL || errlen == 0)
		return -1;
	vsnprintf(errbuf, errlen, fmt, ap);
	for (char *p = errbuf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

int cw_fail_line(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_line(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int cw_vfail_at(char *errbuf, size_t errlen, const char *name, size_t line,
    size_t col, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	vsnprintf(msg, sizeof msg, fmt, ap);
	return cw_fail_line(
	    errbuf, errlen, "%s:%zu:%zu: %s", name, line + 1, col + 1, msg);
}
