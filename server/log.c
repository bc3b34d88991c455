/* log.c - leveled, timestamped lines on stderr (log.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int min_level = CW_LOG_INFO;

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

void cw_log(enum cw_log_level level, const char *fmt, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;

	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, cw_log_level_name(level));

	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 2)
		len = sizeof line - 2; /* truncated */
	line[len++] = '\n';
	/* One write per line, so lines from several threads never interleave.
	 */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
