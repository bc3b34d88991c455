/*
 * test_cli_values.c - the `cachewire` CLI's option values
 * (client/cli/values.c): durations and times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

/* ---- helpers ----------------------------------------------------------------
 */

static char errbuf[512];

static uint64_t duration_ok(const char *s)
{
	uint64_t ms = 12345;

	errbuf[0] = '\0';
	if (cli_parse_duration(s, &ms, errbuf, sizeof errbuf) != 0)
		fail_msg("duration '%s' rejected: %s", s, errbuf);
	return ms;
}

static void duration_bad(const char *s, const char *want_in_message)
{
	uint64_t ms = 12345;

	errbuf[0] = '\0';
	if (cli_parse_duration(s, &ms, errbuf, sizeof errbuf) == 0)
		fail_msg("duration '%s' accepted as %llu ms", s,
		    (unsigned long long)ms);
	assert_int_equal(ms, 12345); /* untouched on failure */
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("duration '%s': message '%s' lacks '%s'", s, errbuf,
		    want_in_message);
}

static uint64_t time_ok(const char *s)
{
	uint64_t ms = 12345;

	errbuf[0] = '\0';
	if (cli_parse_time(s, &ms, errbuf, sizeof errbuf) != 0)
		fail_msg("time '%s' rejected: %s", s, errbuf);
	return ms;
}

static void time_bad(const char *s, const char *want_in_message)
{
	uint64_t ms = 12345;

	errbuf[0] = '\0';
	if (cli_parse_time(s, &ms, errbuf, sizeof errbuf) == 0)
		fail_msg(
		    "time '%s' accepted as %llu ms", s, (unsigned long long)ms);
	assert_int_equal(ms, 12345);
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("time '%s': message '%s' lacks '%s'", s, errbuf,
		    want_in_message);
}

/* ---- durations
 * ---------------------------------------------------------------- */

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(duration_ok("1500ms"), 1500);
	assert_int_equal(duration_ok("60s"), 60000);
	assert_int_equal(duration_ok("2m"), 120000);
	assert_int_equal(duration_ok("1h"), 3600000);
	assert_int_equal(duration_ok("1d"), 86400000);
	assert_int_equal(duration_ok("7"), 7000); /* bare = seconds */
	assert_int_equal(duration_ok("0"), 0);
	assert_int_equal(duration_ok("0ms"), 0);
	assert_int_equal(duration_ok("007s"), 7000);
	assert_int_equal(duration_ok("18446744073709551615ms"), UINT64_MAX);
}

static void test_duration_invalid(void **state)
{
	(void)state;
	duration_bad("", "empty");
	duration_bad("s", "invalid duration");
	duration_bad("ms", "invalid duration");
	duration_bad("abc", "invalid duration");
	duration_bad("-5", "invalid duration");
	duration_bad("+5", "invalid duration");
	duration_bad(" 5", "invalid duration");
	duration_bad("5 s", "invalid duration");
	duration_bad("5x", "units");
	duration_bad("5sec", "units");
	duration_bad("5S", "units");
	duration_bad("1.5s", "units");
	duration_bad("5s5", "units");
	duration_bad("18446744073709551616ms", "too large");
	duration_bad("18446744073709551615s", "too large");
	duration_bad("213503982336d", "too large");
}

/* ---- times
 * ------------------------------------------------------------------------ */

static void test_time_unix(void **state)
{
	(void)state;
	assert_int_equal(time_ok("1767225600"), 1767225600000ULL);
	assert_int_equal(time_ok("1767225600.250"), 1767225600250ULL);
	assert_int_equal(time_ok("1767225600.25"), 1767225600250ULL);
	assert_int_equal(time_ok("1767225600.2"), 1767225600200ULL);
	assert_int_equal(time_ok("1767225600.2509"), 1767225600250ULL);
	assert_int_equal(time_ok("1767225600.000999"), 1767225600000ULL);
	assert_int_equal(time_ok("1767225600250ms"), 1767225600250ULL);
	assert_int_equal(time_ok("0"), 0);
	assert_int_equal(time_ok("0ms"), 0);
}

static void test_time_unix_invalid(void **state)
{
	(void)state;
	time_bad("", "empty");
	time_bad("-1", "invalid time");
	time_bad("1767225600.", "no digits");
	time_bad(".5", "invalid time");
	time_bad("1767225600s", "invalid time");
	time_bad("1767225600.5ms", "invalid time");
	time_bad("1767225600 ", "invalid time");
	time_bad("tomorrow", "invalid time");
	time_bad("99999999999999999999", "too large");
	time_bad("18446744073709551615", "too large");
}

static void test_time_rfc3339(void **state)
{
	(void)state;
	assert_int_equal(time_ok("2026-11-25T12:00:00Z"), 1795608000000ULL);
	assert_int_equal(
	    time_ok("2026-11-25T12:00:00.250+01:00"), 1795604400250ULL);
	assert_int_equal(time_ok("2026-11-25t12:00:00z"), 1795608000000ULL);
	assert_int_equal(time_ok("2026-11-25 12:00:00Z"), 1795608000000ULL);
	assert_int_equal(
	    time_ok("2026-11-25T12:00:00+00:00"), 1795608000000ULL);
	assert_int_equal(
	    time_ok("2026-11-25T12:00:00-00:00"), 1795608000000ULL);
	assert_int_equal(time_ok("2026-11-25T12:00:00.5Z"), 1795608000500ULL);
	assert_int_equal(
	    time_ok("2026-11-25T12:00:00.123456789Z"), 1795608000123ULL);
	/* A negative offset adds; half-hour offsets work. */
	assert_int_equal(
	    time_ok("2024-02-29T23:59:59-05:30"), 1709270999000ULL);
	assert_int_equal(time_ok("2000-02-29T00:00:00Z"), 951782400000ULL);
	assert_int_equal(time_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(time_ok("1970-01-01T01:00:00+01:00"), 0);
	/* A leap second counts as the next minute's first second. */
	assert_int_equal(
	    time_ok("2016-12-31T23:59:60Z"), (1483228799ULL + 1) * 1000);
	assert_int_equal(time_ok("9999-12-31T23:59:59Z"), 253402300799000ULL);
}

static void test_time_rfc3339_invalid(void **state)
{
	(void)state;
	time_bad("2026-13-01T00:00:00Z", "invalid date");
	time_bad("2026-00-01T00:00:00Z", "invalid date");
	time_bad("2026-01-00T00:00:00Z", "invalid date");
	time_bad("2026-01-32T00:00:00Z", "invalid date");
	time_bad("2026-04-31T00:00:00Z", "invalid date");
	time_bad("2023-02-29T00:00:00Z", "invalid date");
	time_bad("1900-02-29T00:00:00Z", "invalid date");
	time_bad("2026-11-25T24:00:00Z", "invalid time of day");
	time_bad("2026-11-25T12:60:00Z", "invalid time of day");
	time_bad("2026-11-25T12:00:61Z", "invalid time of day");
	time_bad("2026-11-25T12:00:00+24:00", "invalid UTC offset");
	time_bad("2026-11-25T12:00:00+01:60", "invalid UTC offset");
	time_bad("1969-12-31T23:59:59Z", "before 1970");
	time_bad("1970-01-01T00:00:00+00:01", "before 1970");
	/* Syntax: every piece is required and exact. */
	time_bad("2026-11-25T12:00:00", "invalid time");
	time_bad("2026-11-25", "invalid time");
	time_bad("2026-11-25T12:00Z", "invalid time");
	time_bad("2026-1-25T12:00:00Z", "invalid time");
	time_bad("26-11-25T12:00:00Z", "invalid time");
	time_bad("2026-11-25X12:00:00Z", "invalid time");
	time_bad("2026-11-25T12:00:00.Z", "invalid time");
	time_bad("2026-11-25T12:00:00+0100", "invalid time");
	time_bad("2026-11-25T12:00:00+1:00", "invalid time");
	time_bad("2026-11-25T12:00:00ZZ", "invalid time");
	time_bad("2026-11-25T12:00:00Z ", "invalid time");
	time_bad("2026/11/25T12:00:00Z", "invalid time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_units),
	    cmocka_unit_test(test_duration_invalid),
	    cmocka_unit_test(test_time_unix),
	    cmocka_unit_test(test_time_unix_invalid),
	    cmocka_unit_test(test_time_rfc3339),
	    cmocka_unit_test(test_time_rfc3339_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
