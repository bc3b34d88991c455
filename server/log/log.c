/* log.c - leveled, timestamped lines on stderr (log.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_BYTES 1024

static atomic_int min_level = CW_LOG_INFO;
static atomic_int format = CW_LOG_TEXT;

const char *cw_log_level_name(enum cw_log_level level)
{
	static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	if ((int)level < 0 ||
	    (int)level >= (int)(sizeof names / sizeof names[0]))
		return "UNKNOWN";
	return names[level];
}

void cw_log_set_level(enum cw_log_level level)
{
	atomic_store(&min_level, (int)level);
}

void cw_log_set_format(enum cw_log_format f)
{
	atomic_store(&format, (int)f);
}

/* Append s to out[*n..cap) as the inside of a JSON string; stops (without
 * splitting an escape) when full. */
static void json_escape(char *out, size_t *n, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[7];
		size_t k = 0;
		if (ch == '"' || ch == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)ch;
		} else if (ch == '\n' || ch == '\t' || ch == '\r') {
			esc[k++] = '\\';
			esc[k++] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
		} else if (ch < 0x20 || ch == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			k = 6;
		} else {
			esc[k++] = (char)ch; /* UTF-8 passes as it is */
		}
		if (*n + k > cap)
			return;
		memcpy(out + *n, esc, k);
		*n += k;
	}
}

void cw_log(enum cw_log_level level, const char *fmt, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;

	char msg[LINE_MAX_BYTES], line[2 * LINE_MAX_BYTES], ts[64];
	struct timespec t;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, t.tv_nsec / 1000000);

	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0'; /* longer messages are cut */
	va_end(ap);

	size_t len;
	if (atomic_load(&format) == CW_LOG_JSON) {
		/* {"ts":"...","level":"info","msg":"..."} */
		char lvl[8];
		const char *name = cw_log_level_name(level);
		size_t i = 0;
		for (; name[i] != '\0' && i < sizeof lvl - 1; i++)
			lvl[i] = (char)(name[i] | 0x20); /* lower case */
		lvl[i] = '\0';
		len = (size_t)snprintf(line, sizeof line,
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, lvl);
		json_escape(line, &len, sizeof line - 3, msg);
		memcpy(line + len, "\"}", 2);
		len += 2;
	} else {
		len = (size_t)snprintf(line, sizeof line, "%s %s %s", ts,
		    cw_log_level_name(level), msg);
		if (len > sizeof line - 1)
			len = sizeof line - 1;
	}
	line[len++] = '\n';
	/* One write per line, so lines from several threads never interleave.
	 */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
