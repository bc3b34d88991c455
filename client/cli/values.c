/* values.c - the CLI's option values: durations and times (see args.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "args.h"
#include "args_internal.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read a run of decimal digits at *p into *v (checked for overflow) and
 * advance *p. Returns the number of digits, or -1 on overflow.
 */
static int scan_uint(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	int digits = 0;

	while (is_digit(*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		s++;
		digits++;
	}
	*p = s;
	*v = n;
	return digits;
}

/* ---- durations ------------------------------------------------------------
 */

int cli_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60 * 1000},
	    {"h", 60 * 60 * 1000},
	    {"d", 24 * 60 * 60 * 1000},
	    {"", 1000},
	};
	const char *p = s;
	uint64_t n;
	int digits;
	size_t i;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty duration");
	digits = scan_uint(&p, &n);
	if (digits == 0)
		return fail(err, errlen,
		    "invalid duration '%s' (expected e.g. 1500ms, 60s, 2m, "
		    "1h, 1d)",
		    s);
	if (digits < 0)
		return fail(err, errlen, "duration '%s' is too large", s);
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].ms)
			return fail(
			    err, errlen, "duration '%s' is too large", s);
		*ms = n * units[i].ms;
		return 0;
	}
	return fail(err, errlen,
	    "invalid duration '%s' (units: ms, s, m, h, d; a bare number "
	    "is seconds)",
	    s);
}

/* ---- times ------------------------------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dim[m - 1];
}

/* Exactly n digits at *p, into *v. */
static bool fixed_digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		x = x * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* Milliseconds from a fraction's digits at *p (at least one required). */
static bool fraction_ms(const char **p, unsigned *ms)
{
	const char *s = *p;
	unsigned v = 0;
	int i;

	if (!is_digit(*s))
		return false;
	for (i = 0; is_digit(*s); i++, s++)
		if (i < 3)
			v = v * 10 + (unsigned)(*s - '0');
	for (; i < 3; i++)
		v *= 10;
	*p = s;
	*ms = v;
	return true;
}

static int parse_rfc3339(
    const char *s, uint64_t *unix_ms, char *err, size_t errlen)
{
	const char *p = s;
	unsigned year, mon, day, hour, min, sec, ms = 0, oh = 0, om = 0;
	int sign = 0;
	int64_t t;

	/* RFC 3339 allows 't' and (section 5.6, note) a space for 'T'. */
	if (!fixed_digits(&p, 4, &year) || *p++ != '-' ||
	    !fixed_digits(&p, 2, &mon) || *p++ != '-' ||
	    !fixed_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		goto syntax;
	p++;
	if (!fixed_digits(&p, 2, &hour) || *p++ != ':' ||
	    !fixed_digits(&p, 2, &min) || *p++ != ':' ||
	    !fixed_digits(&p, 2, &sec))
		goto syntax;
	if (*p == '.') {
		p++;
		if (!fraction_ms(&p, &ms))
			goto syntax;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!fixed_digits(&p, 2, &oh) || *p++ != ':' ||
		    !fixed_digits(&p, 2, &om))
			goto syntax;
	} else {
		goto syntax;
	}
	if (*p != '\0')
		goto syntax;

	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return fail(err, errlen, "invalid date in '%s'", s);
	/* 60 is a leap second; it counts as the next minute's 0. */
	if (hour > 23 || min > 59 || sec > 60)
		return fail(err, errlen, "invalid time of day in '%s'", s);
	if (oh > 23 || om > 59)
		return fail(err, errlen, "invalid UTC offset in '%s'", s);

	t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 +
	    sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	if (t < 0)
		return fail(err, errlen, "time '%s' is before 1970", s);
	*unix_ms = (uint64_t)t * 1000 + ms;
	return 0;

syntax:
	return fail(err, errlen,
	    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC 3339 "
	    "such as 2026-11-25T12:00:00Z)",
	    s);
}

int cli_parse_time(const char *s, uint64_t *unix_ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t n;
	unsigned ms = 0;
	int digits;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty time");
	digits = scan_uint(&p, &n);
	if (digits > 0 && *p == '-')
		return parse_rfc3339(s, unix_ms, err, errlen);
	if (digits < 0)
		return fail(err, errlen, "time '%s' is too large", s);
	if (digits == 0)
		return fail(err, errlen,
		    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC "
		    "3339 such as 2026-11-25T12:00:00Z)",
		    s);
	if (strcmp(p, "ms") == 0) {
		*unix_ms = n;
		return 0;
	}
	if (*p == '.') {
		p++;
		if (!fraction_ms(&p, &ms))
			return fail(err, errlen,
			    "invalid time '%s' (no digits after '.')", s);
	}
	if (*p != '\0')
		return fail(err, errlen,
		    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC "
		    "3339 such as 2026-11-25T12:00:00Z)",
		    s);
	if (n > (UINT64_MAX - ms) / 1000)
		return fail(err, errlen, "time '%s' is too large", s);
	*unix_ms = n * 1000 + ms;
	return 0;
}
