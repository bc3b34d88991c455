/*
 * test_cli_args.c - the `cachewire` CLI's argument parsing (client/cli/args.c):
 * durations, times, and every way a command line can be right or wrong.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cachewire/cachewire.h>

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

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
static int parse_v(struct cli_args *a, const char *env_url, va_list ap)
{
	char *argv[32];
	int argc = 0;
	const char *s;

	argv[argc++] = (char *)"cachewire";
	while ((s = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < 31);
		argv[argc++] = (char *)s;
	}
	argv[argc] = NULL;
	errbuf[0] = '\0';
	return cli_parse_args(a, argc, argv, env_url, errbuf, sizeof errbuf);
}

static void args_ok(struct cli_args *a, const char *env_url, ...)
{
	va_list ap;
	int rc;

	va_start(ap, env_url);
	rc = parse_v(a, env_url, ap);
	va_end(ap);
	if (rc != 0)
		fail_msg("arguments rejected: %s", errbuf);
}

static void args_bad(const char *want_in_message, ...)
{
	struct cli_args a;
	va_list ap;
	int rc;

	va_start(ap, want_in_message);
	rc = parse_v(&a, NULL, ap);
	va_end(ap);
	if (rc == 0)
		fail_msg("arguments accepted; wanted an error with '%s'",
		    want_in_message);
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("message '%s' lacks '%s'", errbuf, want_in_message);
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

/* ---- commands
 * ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "ping", NULL);
	assert_int_equal(a.cmd, CLI_CMD_PING);
	assert_string_equal(a.url, CW_DEFAULT_URL);
	assert_int_equal(a.timeout_ms, 5000);
	assert_null(a.key);
	assert_null(a.file);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);

	args_ok(&a, "", "clear", NULL); /* empty $CACHEWIRE_URL = unset */
	assert_int_equal(a.cmd, CLI_CMD_CLEAR);
	assert_string_equal(a.url, CW_DEFAULT_URL);
}

static void test_commands(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "get", "k1", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET);
	assert_string_equal(a.key, "k1");
	args_ok(&a, NULL, "set", "k2", NULL);
	assert_int_equal(a.cmd, CLI_CMD_SET);
	assert_string_equal(a.key, "k2");
	assert_null(a.file);
	args_ok(&a, NULL, "del", "k3", NULL);
	assert_int_equal(a.cmd, CLI_CMD_DEL);
	assert_string_equal(a.key, "k3");
	args_ok(&a, NULL, "clear", NULL);
	assert_int_equal(a.cmd, CLI_CMD_CLEAR);
	args_ok(&a, NULL, "ping", NULL);
	assert_int_equal(a.cmd, CLI_CMD_PING);
}

static void test_url_and_timeout(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, "ipc:///env.sock", "ping", NULL);
	assert_string_equal(a.url, "ipc:///env.sock");
	args_ok(&a, "ipc:///env.sock", "--url", "tcp://h:1", "ping", NULL);
	assert_string_equal(a.url, "tcp://h:1");
	/* After the command, and in --opt=value form. */
	args_ok(&a, NULL, "ping", "--url=tcp://h:2", "--timeout=1500ms", NULL);
	assert_string_equal(a.url, "tcp://h:2");
	assert_int_equal(a.timeout_ms, 1500);
	args_ok(&a, NULL, "--timeout", "2", "get", "k", NULL);
	assert_int_equal(a.timeout_ms, 2000);
	args_ok(&a, NULL, "get", "k", "--timeout", "1m", NULL);
	assert_int_equal(a.timeout_ms, 60000);
	/* The last one wins. */
	args_ok(&a, NULL, "--timeout", "1s", "--timeout", "3s", "ping", NULL);
	assert_int_equal(a.timeout_ms, 3000);
	args_ok(&a, NULL, "--timeout", "2147483647ms", "ping", NULL);
	assert_int_equal(a.timeout_ms, INT_MAX);
}

static void test_set_options(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "set", "k", "--ttl", "60s", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 60000);
	args_ok(&a, NULL, "--ttl", "1500ms", "set", "k", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 1500);
	args_ok(&a, NULL, "set", "k", "--ttl", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	args_ok(&a, NULL, "set", "k", "--expire-at", "1767225600.250", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1767225600250ULL);
	args_ok(&a, NULL, "set", "--expire-at=2026-11-25T12:00:00Z", "k", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1795608000000ULL);
	/* The epoch is in the past, not "never" (0 on the wire). */
	args_ok(&a, NULL, "set", "k", "--expire-at", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1);
	args_ok(&a, NULL, "set", "k", "--file", "/tmp/v.bin", NULL);
	assert_string_equal(a.file, "/tmp/v.bin");
	args_ok(&a, NULL, "set", "k", "--file", "-", NULL);
	assert_null(a.file);
}

static void test_keys(void **state)
{
	struct cli_args a;

	(void)state;
	/* "--" ends the options: keys may start with '-'. */
	args_ok(&a, NULL, "get", "--", "-k", NULL);
	assert_string_equal(a.key, "-k");
	args_ok(&a, NULL, "--", "get", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET);
	assert_string_equal(a.key, "--help");
	args_ok(&a, NULL, "del", "-", NULL); /* a lone "-" is an argument */
	assert_string_equal(a.key, "-");
	args_ok(&a, NULL, "get", "a key with spaces", NULL);
	assert_string_equal(a.key, "a key with spaces");
}

static void test_help_and_version(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "-h", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "get", "--help", NULL); /* wins over a missing key */
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "bogus", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "--version", NULL);
	assert_int_equal(a.cmd, CLI_CMD_VERSION);
	args_ok(&a, NULL, "ping", "--version", NULL);
	assert_int_equal(a.cmd, CLI_CMD_VERSION);

	/* The help documents the exit codes and the formats. */
	assert_non_null(strstr(cli_help_text, "Exit status"));
	assert_non_null(strstr(cli_help_text, "  1  key not found"));
	assert_non_null(strstr(cli_help_text, "  2  usage error"));
	assert_non_null(strstr(cli_help_text, "  3  "));
	assert_non_null(strstr(cli_help_text, "CACHEWIRE_URL"));
	assert_non_null(strstr(cli_help_text, "RFC 3339"));
	/* ... and the batch commands with get-many's output format */
	assert_non_null(strstr(cli_help_text, "  get-many KEY..."));
	assert_non_null(
	    strstr(cli_help_text, "  set-many KEY VALUE [KEY VALUE"));
	assert_non_null(strstr(cli_help_text, "  delete-many KEY..."));
	assert_non_null(strstr(cli_help_text, "\"KEY<TAB>LEN\""));
	assert_non_null(strstr(cli_help_text, "\"KEY<TAB>-\""));
}

static void test_usage_errors(void **state)
{
	(void)state;
	args_bad("no command", NULL);
	args_bad("no command", "--url", "tcp://h:1", NULL);
	args_bad("unknown command 'fetch'", "fetch", "k", NULL);
	args_bad("unknown command 'GET'", "GET", "k", NULL);
	args_bad("'get' needs a KEY", "get", NULL);
	args_bad("'set' needs a KEY", "set", "--ttl", "5s", NULL);
	args_bad("'del' needs a KEY", "del", NULL);
	args_bad("KEY must not be empty", "get", "", NULL);
	args_bad("unexpected argument 'b'", "get", "a", "b", NULL);
	args_bad("unexpected argument 'b'", "get", "a", "b", "c", "d", NULL);
	args_bad("stdin or --file", "set", "k", "value", NULL);
	args_bad("unexpected argument 'x'", "ping", "x", NULL);
	args_bad("unexpected argument 'x'", "clear", "x", NULL);
	args_bad("unknown option '--bogus'", "--bogus", "ping", NULL);
	args_bad("unknown option '--bogus'", "ping", "--bogus=1", NULL);
	args_bad("unknown option '-x'", "ping", "-x", NULL);
	args_bad("unknown option '--tt'", "set", "k", "--tt", "5", NULL);
	args_bad("'--url' needs a value", "ping", "--url", NULL);
	args_bad("'--url' needs a value", "ping", "--url=", NULL);
	args_bad("'--timeout' needs a value", "ping", "--timeout", NULL);
	args_bad("'--ttl' needs a value", "set", "k", "--ttl", NULL);
	args_bad("'--file' needs a value", "set", "k", "--file", NULL);
	args_bad(
	    "'--expire-at' needs a value", "set", "k", "--expire-at", NULL);
	args_bad("'--help' takes no value", "--help=yes", NULL);
	args_bad("'--version' takes no value", "--version=1", NULL);
	args_bad("invalid duration", "--timeout", "soon", "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "0", "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "2147483648ms",
	    "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "30d", "ping", NULL);
	args_bad("invalid duration", "set", "k", "--ttl", "-5", NULL);
	args_bad("units", "set", "k", "--ttl", "5y", NULL);
	args_bad("invalid date", "set", "k", "--expire-at",
	    "2026-02-30T00:00:00Z", NULL);
	args_bad("invalid time", "set", "k", "--expire-at", "noon", NULL);
	args_bad("cannot be used together", "set", "k", "--ttl", "5s",
	    "--expire-at", "1767225600", NULL);
	args_bad("'--ttl' is only valid with 'set'", "get", "k", "--ttl", "5s",
	    NULL);
	args_bad("'--expire-at' is only valid with 'set'", "del", "k",
	    "--expire-at", "1767225600", NULL);
	args_bad(
	    "'--file' is only valid with 'set'", "ping", "--file", "f", NULL);
}

static void test_many_commands(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "get-many", "k1", "k2", "k1", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET_MANY);
	assert_int_equal(a.count, 3);
	assert_string_equal(a.keys[0], "k1");
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.keys[2], "k1"); /* duplicates are kept */
	assert_null(a.values);
	assert_null(a.key);
	cli_args_free(&a);
	assert_null(a.keys);
	assert_int_equal(a.count, 0);
	cli_args_free(&a); /* twice is fine */

	args_ok(&a, NULL, "delete-many", "only", NULL);
	assert_int_equal(a.cmd, CLI_CMD_DELETE_MANY);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.keys[0], "only");
	assert_null(a.values);
	cli_args_free(&a);

	/* options anywhere, and "--" for keys that start with '-' */
	args_ok(&a, NULL, "get-many", "a", "--timeout", "2s", "b", "--", "-c",
	    "--help", NULL);
	assert_int_equal(a.timeout_ms, 2000);
	assert_int_equal(a.count, 4);
	assert_string_equal(a.keys[0], "a");
	assert_string_equal(a.keys[1], "b");
	assert_string_equal(a.keys[2], "-c");
	assert_string_equal(a.keys[3], "--help");
	cli_args_free(&a);

	args_ok(&a, NULL, "set-many", "k1", "v1", "k2", "", "k1", "v3", NULL);
	assert_int_equal(a.cmd, CLI_CMD_SET_MANY);
	assert_int_equal(a.count, 3);
	assert_string_equal(a.keys[0], "k1");
	assert_string_equal(a.values[0], "v1");
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.values[1], ""); /* an empty value is a value */
	assert_string_equal(a.keys[2], "k1");
	assert_string_equal(a.values[2], "v3");
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	assert_null(a.file);
	cli_args_free(&a);
	assert_null(a.values);

	/* the expiry options of set apply to every entry */
	args_ok(&a, NULL, "--ttl", "90s", "set-many", "k", "v", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 90000);
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--ttl=0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--expire-at",
	    "2026-11-25T12:00:00Z", "k2", "v2", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1795608000000ULL);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.values[1], "v2");
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--expire-at", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1);
	cli_args_free(&a);
	/* a value may look like an option after "--" */
	args_ok(&a, NULL, "set-many", "--", "k", "--ttl", NULL);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.values[0], "--ttl");
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	cli_args_free(&a);

	/* the single-key commands allocate nothing */
	args_ok(&a, NULL, "get", "k", NULL);
	assert_null(a.keys);
	assert_int_equal(a.count, 0);
	/* nor --help, even after a batch command */
	args_ok(&a, NULL, "get-many", "a", "b", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	assert_null(a.keys);

	/* a batch as large as the command line allows */
	char *many[2 * 1000 + 3];
	char names[1000][16];
	int argc = 0;
	many[argc++] = (char *)"cachewire";
	many[argc++] = (char *)"set-many";
	for (int i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof names[i], "key%d", i);
		many[argc++] = names[i];
		many[argc++] = names[i];
	}
	many[argc] = NULL;
	assert_int_equal(
	    cli_parse_args(&a, argc, many, NULL, errbuf, sizeof errbuf), 0);
	assert_int_equal(a.count, 1000);
	assert_string_equal(a.keys[999], "key999");
	assert_string_equal(a.values[999], "key999");
	cli_args_free(&a);
}

static void test_many_usage_errors(void **state)
{
	(void)state;
	args_bad("'get-many' needs at least one KEY", "get-many", NULL);
	args_bad("'delete-many' needs at least one KEY", "delete-many",
	    "--timeout", "1s", NULL);
	args_bad(
	    "'set-many' needs at least one KEY VALUE pair", "set-many", NULL);
	args_bad("'set-many' needs at least one KEY VALUE pair", "set-many",
	    "--ttl", "5s", NULL);
	/* an odd number of arguments: the last KEY has no VALUE */
	args_bad("KEY 'k' has no VALUE", "set-many", "k", NULL);
	args_bad(
	    "KEY 'c' has no VALUE", "set-many", "a", "1", "b", "2", "c", NULL);
	args_bad("KEY VALUE pairs", "set-many", "a", "1", "b", NULL);
	args_bad("KEY must not be empty (KEY 2 of 3)", "get-many", "a", "", "c",
	    NULL);
	args_bad("KEY must not be empty (KEY 1 of 1)", "delete-many", "", NULL);
	args_bad("KEY must not be empty (pair 2 of 2)", "set-many", "a", "1",
	    "", "2", NULL);
	args_bad("'--ttl' is only valid with 'set' and 'set-many'", "get-many",
	    "k", "--ttl", "5s", NULL);
	args_bad("'--expire-at' is only valid with 'set' and 'set-many'",
	    "delete-many", "k", "--expire-at", "1767225600", NULL);
	args_bad("'--file' is only valid with 'set'", "set-many", "k", "v",
	    "--file", "f", NULL);
	args_bad("cannot be used together", "set-many", "k", "v", "--ttl", "5s",
	    "--expire-at", "1767225600", NULL);
	args_bad(
	    "invalid duration", "set-many", "k", "v", "--ttl", "soon", NULL);
	args_bad("set-many takes KEY VALUE pairs", "set", "k", "v", NULL);
	args_bad("unknown command 'getmany'", "getmany", "k", NULL);
	args_bad("unknown command 'get_many'", "get_many", "k", NULL);
	args_bad("unknown command 'del-many'", "del-many", "k", NULL);
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
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_url_and_timeout),
	    cmocka_unit_test(test_set_options),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_many_commands),
	    cmocka_unit_test(test_many_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
