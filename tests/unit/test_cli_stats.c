/*
 * test_cli_stats.c - `cachewire stats`' pure half (client/cli/stats.c and
 * stats_format.c): the Prometheus text format of the daemon's /metrics
 * parsed, the latency quantiles estimated from the histogram buckets, and
 * the figures formatted for a human.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

/* ---- fixtures ---------------------------------------------------------- */

#define BUCKETS_HELP                                                           \
	"# HELP cachewire_request_duration_seconds Time from a request's "     \
	"arrival to its reply.\n"                                              \
	"# TYPE cachewire_request_duration_seconds histogram\n"

/* What the daemon serves, as in the spec (HELP/TYPE lines included). */
static const char fixture[] =
    "# HELP cachewire_build_info The daemon's version.\n"
    "# TYPE cachewire_build_info gauge\n"
    "cachewire_build_info{version=\"0.1.0\",nng=\"1.5.2\"} 1\n"
    "# HELP cachewire_start_time_seconds When the daemon started.\n"
    "# TYPE cachewire_start_time_seconds gauge\n"
    "cachewire_start_time_seconds 1764083045\n"
    "# TYPE cachewire_ready gauge\n"
    "cachewire_ready 1\n"
    "# HELP cachewire_requests_total Requests answered.\n"
    "# TYPE cachewire_requests_total counter\n"
    "cachewire_requests_total{method=\"Get\",code=\"OK\"} 9700\n"
    "cachewire_requests_total{method=\"Get\",code=\"NOT_FOUND\"} 300\n"
    "cachewire_requests_total{method=\"Set\",code=\"OK\"} 2300\n"
    "cachewire_requests_total{method=\"Set\",code=\"UNAVAILABLE\"} 45\n"
    "cachewire_requests_total{method=\"unknown\",code=\"INVALID_ARGUMENT\"} "
    "2\n"
    "cachewire_requests_total{method=\"Ping\",code=\"OK\"} 1\n" BUCKETS_HELP
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.0001\"} "
    "100\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.00025\"}"
    " 2000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.0005\"} "
    "6000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.001\"} "
    "9000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.0025\"} "
    "9950\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"0.005\"} "
    "10000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Get\",le=\"+Inf\"} "
    "10000\n"
    "cachewire_request_duration_seconds_sum{method=\"Get\"} 4.2\n"
    "cachewire_request_duration_seconds_count{method=\"Get\"} 10000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Set\",le=\"0.001\"} "
    "2000\n"
    "cachewire_request_duration_seconds_bucket{method=\"Set\",le=\"2.5\"} "
    "2344\n"
    "cachewire_request_duration_seconds_bucket{method=\"Set\",le=\"+Inf\"} "
    "2345\n"
    "cachewire_request_duration_seconds_sum{method=\"Set\"} 5.5\n"
    "cachewire_request_duration_seconds_count{method=\"Set\"} 2345\n"
    "cachewire_request_duration_seconds_bucket{method=\"Ping\",le=\"0.0001\"}"
    " 1\n"
    "cachewire_request_duration_seconds_bucket{method=\"Ping\",le=\"+Inf\"} "
    "1\n"
    "cachewire_request_duration_seconds_sum{method=\"Ping\"} 0.00005\n"
    "cachewire_request_duration_seconds_count{method=\"Ping\"} 1\n"
    "# TYPE cachewire_requests_in_flight gauge\n"
    "cachewire_requests_in_flight 3\n"
    "# TYPE cachewire_max_in_flight gauge\n"
    "cachewire_max_in_flight 256\n"
    "# TYPE cachewire_received_bytes_total counter\n"
    "cachewire_received_bytes_total 1258291\n"
    "# TYPE cachewire_sent_bytes_total counter\n"
    "cachewire_sent_bytes_total 3565158\n"
    "# TYPE cachewire_redis_up gauge\n"
    "cachewire_redis_up 1\n"
    "cachewire_redis_errors_total 0\n"
    "cachewire_redis_reconnects_total 1\n"
    "cachewire_redis_connections 2\n"
    "cachewire_redis_pool_size 4\n"
    "cachewire_redis_pending_commands 0\n";

/* ---- helpers ----------------------------------------------------------- */

static char errbuf[256];

static void parse_ok(const char *text, struct cli_metrics *m)
{
	errbuf[0] = '\0';
	if (cli_metrics_parse(text, strlen(text), m, errbuf, sizeof errbuf) !=
	    0)
		fail_msg("rejected: %s", errbuf);
}

/* text must be rejected with want_in_message in the message. */
static void parse_bad(const char *text, const char *want_in_message)
{
	struct cli_metrics m;

	errbuf[0] = '\0';
	if (cli_metrics_parse(text, strlen(text), &m, errbuf, sizeof errbuf) ==
	    0)
		fail_msg("accepted: [%s]; wanted an error with '%s'", text,
		    want_in_message);
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("[%s]: message '%s' lacks '%s'", text, errbuf,
		    want_in_message);
}

static const struct cli_metrics_method *method(
    const struct cli_metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nmethods; i++)
		if (strcmp(m->methods[i].name, name) == 0)
			return &m->methods[i];
	fail_msg("no method %s", name);
	return NULL;
}

static double code(const struct cli_metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ncodes; i++)
		if (strcmp(m->codes[i].name, name) == 0)
			return m->codes[i].n;
	fail_msg("no code %s", name);
	return -1;
}

/* cli_stats_format's output, in a static buffer. */
static const char *format(
    const struct cli_metrics *m, bool ready, const char *reason)
{
	static char out[4096];
	FILE *f = fmemopen(out, sizeof out, "w");

	assert_non_null(f);
	cli_stats_format(m, "http://127.0.0.1:7421", ready, reason, f);
	assert_true(ftell(f) < (long)sizeof out - 1);
	fclose(f);
	return out;
}

static void has(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("[%s] not in:\n%s", want, text);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse_fixture(void **state)
{
	struct cli_metrics m;
	const struct cli_metrics_method *get;

	(void)state;
	parse_ok(fixture, &m);
	assert_string_equal(m.version, "0.1.0");
	assert_true(m.start_time.seen);
	assert_true(m.start_time.v == 1764083045);
	assert_true(m.ready.seen && m.ready.v == 1);
	assert_true(m.requests.v == 12348);
	assert_int_equal(m.ncodes, 4);
	assert_true(code(&m, "OK") == 12001);
	assert_true(code(&m, "NOT_FOUND") == 300);
	assert_true(code(&m, "UNAVAILABLE") == 45);
	assert_true(code(&m, "INVALID_ARGUMENT") == 2);
	assert_int_equal(m.nmethods, 4);
	get = method(&m, "Get");
	assert_true(get->requests.v == 10000);
	assert_int_equal(get->nbuckets, 7);
	assert_true(get->le[0] == 0.0001);
	assert_true(isinf(get->le[6]));
	assert_true(get->cumulative[6] == 10000);
	assert_true(get->count.v == 10000 && get->sum.v == 4.2);
	assert_true(method(&m, "unknown")->requests.v == 2);
	assert_int_equal(method(&m, "unknown")->nbuckets, 0);
	assert_true(m.in_flight.v == 3 && m.max_in_flight.v == 256);
	assert_true(m.received_bytes.v == 1258291);
	assert_true(m.sent_bytes.v == 3565158);
	assert_true(m.redis_up.seen && m.redis_up.v == 1);
	assert_true(m.redis_errors.seen && m.redis_errors.v == 0);
	assert_true(m.redis_reconnects.v == 1);
	assert_true(m.redis_connections.v == 2 && m.redis_pool_size.v == 4);
	assert_true(m.redis_pending.seen && m.redis_pending.v == 0);
}

static void test_parse_missing_families(void **state)
{
	struct cli_metrics m;

	(void)state;
	parse_ok("", &m);
	assert_string_equal(m.version, "");
	assert_false(m.start_time.seen);
	assert_false(m.ready.seen);
	assert_false(m.requests.seen);
	assert_true(m.requests.v == 0);
	assert_int_equal(m.nmethods, 0);
	assert_int_equal(m.ncodes, 0);
	assert_false(m.redis_up.seen);
	assert_true(m.redis_errors.v == 0 && m.sent_bytes.v == 0);

	/* Comments and unknown families only; no final newline. */
	parse_ok("# just a comment\n\n   \n#\nsome_other_metric 5\n"
	         "process_cpu_seconds_total{mode=\"user\"} 1.5",
	    &m);
	assert_int_equal(m.nmethods, 0);
	assert_false(m.requests.seen);
}

static void test_parse_labels(void **state)
{
	struct cli_metrics m;

	(void)state;
	/* Any label order, unknown labels, blanks, a trailing comma. */
	parse_ok("cachewire_requests_total{code=\"OK\",zone=\"a\",method="
	         "\"Get\"} 2\n"
	         "cachewire_requests_total { method = \"Get\" , code = "
	         "\"NOT_FOUND\" , } 3\n"
	         "cachewire_request_duration_seconds_bucket{le=\"+Inf\","
	         "method=\"Get\"} 5\n"
	         "cachewire_request_duration_seconds_bucket{le=\"1e-3\","
	         "method=\"Get\",} 4\n",
	    &m);
	assert_int_equal(m.nmethods, 1);
	assert_true(method(&m, "Get")->requests.v == 5);
	assert_true(code(&m, "OK") == 2 && code(&m, "NOT_FOUND") == 3);
	/* Buckets sorted by le whatever their order. */
	assert_int_equal(method(&m, "Get")->nbuckets, 2);
	assert_true(method(&m, "Get")->le[0] == 0.001);
	assert_true(isinf(method(&m, "Get")->le[1]));

	/* Escapes in label values: \\ \" \n, in skipped labels too. */
	parse_ok("cachewire_build_info{nng=\"a\\\"}b\",version=\"1.0 \\\"x\\\" "
	         "\\\\ y\\nz\"} 1\n",
	    &m);
	assert_string_equal(m.version, "1.0 \"x\" \\ y\nz");
	parse_ok("cachewire_requests_total{method=\"we{ird},\\\"\","
	         "code=\"OK\"} 1\n",
	    &m);
	assert_string_equal(m.methods[0].name, "we{ird},\"");

	/* Timestamps, CRLF line ends, tabs; an empty method is "unknown". */
	parse_ok("cachewire_ready 0 1764083045000\r\n"
	         "\tcachewire_requests_total{code=\"OK\"}\t7\t-12\r\n",
	    &m);
	assert_true(m.ready.seen && m.ready.v == 0);
	assert_string_equal(m.methods[0].name, "unknown");

	/* A label value longer than we keep is cut, not an error. */
	parse_ok("cachewire_build_info{version=\"0123456789012345678901234567"
	         "8901234567890123456789\"} 1\n",
	    &m);
	assert_int_equal(strlen(m.version), CLI_METRICS_NAME_MAX - 1);
}

static void test_parse_values(void **state)
{
	struct cli_metrics m;

	(void)state;
	parse_ok("cachewire_received_bytes_total 1.5e3\n"
	         "cachewire_sent_bytes_total 1E+300\n"
	         "cachewire_requests_in_flight -4\n"
	         "cachewire_max_in_flight NaN\n"
	         "cachewire_redis_pending_commands +Inf\n"
	         "cachewire_redis_errors_total -Inf\n"
	         "cachewire_redis_up nan\n"
	         "cachewire_start_time_seconds 1.764083045e9\n",
	    &m);
	assert_true(m.received_bytes.v == 1500);
	assert_true(m.sent_bytes.v == 1e300);
	assert_true(m.in_flight.v == -4);
	assert_true(isnan(m.max_in_flight.v));
	assert_true(isinf(m.redis_pending.v) && m.redis_pending.v > 0);
	assert_true(isinf(m.redis_errors.v) && m.redis_errors.v < 0);
	assert_true(isnan(m.redis_up.v));
	assert_true(m.start_time.v == 1764083045);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	parse_bad("cachewire_ready 1\ncachewire_ready one\n", "line 2: ");
	parse_bad("cachewire_ready one\n", "the value is not a number");
	parse_bad("cachewire_ready\n", "line 1: the sample has no value");
	parse_bad("cachewire_ready 1 2 3\n", "after the timestamp");
	parse_bad("cachewire_ready 1 soon\n", "after the value");
	parse_bad("cachewire_ready 1 1.5\n", "timestamp is not an integer");
	parse_bad("cachewire_ready 1 -\n", "timestamp is not an integer");
	parse_bad("cachewire_ready 0x1p3\n", "not a number");
	parse_bad("cachewire_ready 1e\n", "not a number");
	parse_bad("cachewire_ready 12abc\n", "not a number");
	parse_bad("\n\n<html><body>Not Found</body></html>\n",
	    "line 3: expected a metric name: '<html><body>Not Found");
	parse_bad("9lives 1\n", "line 1: expected a metric name");
	parse_bad("cachewire-ready 1\n", "expected '{' or a blank");
	parse_bad("cachewire_requests_total{method=Get} 1\n", "double quotes");
	parse_bad("cachewire_requests_total{method=\"Get} 1\n",
	    "unterminated label value");
	parse_bad(
	    "cachewire_requests_total{method=\"G\\et\"} 1\n", "invalid escape");
	parse_bad("cachewire_requests_total{method \"Get\"} 1\n",
	    "expected '=' after a label name");
	parse_bad("cachewire_requests_total{method=\"Get\" code=\"OK\"} 1\n",
	    "expected ',' or '}'");
	parse_bad("cachewire_requests_total{,} 1\n", "expected a label name");
	parse_bad(
	    "cachewire_requests_total{method=\"Get\"\n", "expected ',' or '}'");
	parse_bad("cachewire_request_duration_seconds_bucket{method=\"Get\"} "
	          "1\n",
	    "le label");
	parse_bad("cachewire_request_duration_seconds_bucket{le=\"soon\"} 1\n",
	    "le label");
	parse_bad("cachewire_request_duration_seconds_bucket{le=\"NaN\"} 1\n",
	    "le label");
	/* A long line is shown cut, unprintables as '?'. */
	parse_bad(
	    "cachewire_ready 1\n\x01\x02 zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	    "zzzzzzzzzzzzzzzzzzzzzz\n",
	    "line 2: expected a metric name: '?? zzzz");
	parse_bad("\n\n\n\n\n\n\n\n\n\n\n\n# ok\ncachewire_ready 1 2 3 4 5 6 7 "
	          "8 9 10 11 12 13 14 15 16 17 18 19 20\n",
	    "...'");
}

static void test_parse_nul_in_text(void **state)
{
	static const char text[] = "cachewire_ready 1\n\0";
	struct cli_metrics m;

	(void)state;
	/* len covers the NUL: line 2 is "\0". */
	assert_int_equal(
	    cli_metrics_parse(text, sizeof text - 1, &m, errbuf, sizeof errbuf),
	    -1);
	assert_non_null(strstr(errbuf, "line 2: NUL byte"));
	/* Only len bytes are read. */
	assert_int_equal(
	    cli_metrics_parse("cachewire_ready 1garbage", 17, &m, NULL, 0), 0);
	assert_true(m.ready.v == 1);
}

static void test_parse_limits(void **state)
{
	char text[8192], *p = text;
	struct cli_metrics m;
	int i;

	(void)state;
	/* More methods and codes than kept: the totals still count them. */
	for (i = 0; i < 40; i++)
		p += sprintf(p,
		    "cachewire_requests_total{method=\"M%d\",code=\"C%d\"} 1\n",
		    i, i);
	/* More buckets than kept. */
	for (i = 0; i < 40; i++)
		p += sprintf(p,
		    "cachewire_request_duration_seconds_bucket{method=\"M0\","
		    "le=\"%d\"} %d\n",
		    i, i);
	parse_ok(text, &m);
	assert_true(m.requests.v == 40);
	assert_int_equal(m.nmethods, CLI_METRICS_MAX_METHODS);
	assert_int_equal(m.ncodes, CLI_METRICS_MAX_CODES);
	assert_int_equal(m.methods[0].nbuckets, CLI_METRICS_MAX_BUCKETS);
}

/* ---- quantiles --------------------------------------------------------- */

static void test_quantiles(void **state)
{
	struct cli_metrics m;
	const struct cli_metrics_method *get, *set;

	(void)state;
	parse_ok(fixture, &m);
	get = method(&m, "Get");
	/* 6000 of 10000 by 0.5 ms, 9950 by 2.5 ms: the bucket reaching q. */
	assert_true(cli_metrics_quantile(get, 0.5) == 0.0005);
	assert_true(cli_metrics_quantile(get, 0.6) == 0.0005);
	assert_true(cli_metrics_quantile(get, 0.61) == 0.001);
	assert_true(cli_metrics_quantile(get, 0.99) == 0.0025);
	assert_true(cli_metrics_quantile(get, 0.996) == 0.005);
	assert_true(cli_metrics_quantile(get, 1) == 0.005);
	assert_true(cli_metrics_quantile(get, 0.001) == 0.0001);
	set = method(&m, "Set");
	/* 2344 of 2345 by 2.5 s: p99 in it, the maximum only in +Inf. */
	assert_true(cli_metrics_quantile(set, 0.5) == 0.001);
	assert_true(cli_metrics_quantile(set, 0.99) == 2.5);
	assert_true(isinf(cli_metrics_quantile(set, 1)));
	/* No histogram, or no request: no estimate. */
	assert_true(isnan(cli_metrics_quantile(method(&m, "unknown"), 0.5)));
	parse_ok("cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"0.1\"} 0\n"
	         "cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"+Inf\"} 0\n",
	    &m);
	assert_true(isnan(cli_metrics_quantile(&m.methods[0], 0.5)));
	/* Without a +Inf bucket, _count is the total. */
	parse_ok("cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"0.1\"} 1\n"
	         "cachewire_request_duration_seconds_count{method=\"Get\"} 4\n",
	    &m);
	assert_true(isinf(cli_metrics_quantile(&m.methods[0], 0.5)));
	assert_true(cli_metrics_quantile(&m.methods[0], 0.25) == 0.1);
	/* NaN counts give no estimate, not a crash. */
	parse_ok("cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"+Inf\"} NaN\n",
	    &m);
	assert_true(isnan(cli_metrics_quantile(&m.methods[0], 0.5)));
}

/* ---- formatting -------------------------------------------------------- */

static void test_format_fixture(void **state)
{
	struct cli_metrics m;

	(void)state;
	parse_ok(fixture, &m);
	m.now = 1764083045 + 2 * 3600 + 3 * 60 + 10;
	assert_string_equal(format(&m, true, NULL),
	    "cachewired 0.1.0 at http://127.0.0.1:7421: ready\n"
	    "uptime           2h 03m 10s\n"
	    "requests         12348 total, 3 in flight (max 256)\n"
	    "  by status      OK 12001, NOT_FOUND 300, UNAVAILABLE 45, "
	    "INVALID_ARGUMENT 2\n"
	    "  Get            10000 calls, p50 <= 0.5 ms, p99 <= 2.5 ms, mean "
	    "0.42 ms\n"
	    "  Set            2345 calls, p50 <= 1 ms, p99 <= 2.5 s, mean 2.35 "
	    "ms\n"
	    "  Ping           1 call, p50 <= 0.1 ms, p99 <= 0.1 ms, mean 0.05 "
	    "ms\n"
	    "  unknown        2 calls\n"
	    "bytes            1.2 MiB in, 3.4 MiB out\n"
	    "redis            up, 2 of 4 connections open, 0 pending, 0 "
	    "errors, 1 reconnect\n");
}

static void test_format_not_ready(void **state)
{
	struct cli_metrics m;
	const char *out;

	(void)state;
	parse_ok(fixture, &m);
	m.now = 1764083045 + 3 * 86400 + 5;
	out = format(&m, false,
	    "not ready: redis at redis://10.0.0.1:6379/0 does not answer");
	has(out, "cachewired 0.1.0 at http://127.0.0.1:7421: not ready: redis "
	         "at redis://10.0.0.1:6379/0 does not answer\n");
	has(out, "uptime           3d 00h 00m 05s\n");
	out = format(&m, false, NULL);
	has(out, "7421: not ready\n");
	m.redis_up.v = 0;
	has(format(&m, true, NULL), "redis            DOWN, 2 of 4");
}

static void test_format_missing(void **state)
{
	struct cli_metrics m;

	(void)state;
	parse_ok("", &m);
	m.now = 1764083045;
	assert_string_equal(format(&m, true, NULL),
	    "cachewired (version unknown) at http://127.0.0.1:7421: ready\n"
	    "uptime           unknown\n"
	    "requests         0 total\n"
	    "bytes            0 B in, 0 B out\n"
	    "redis            state unknown, 0 errors, 0 reconnects\n");
	parse_ok("cachewire_start_time_seconds 1764083000\n"
	         "cachewire_redis_connections 1\n"
	         "cachewire_received_bytes_total 1023\n"
	         "cachewire_sent_bytes_total 1024\n",
	    &m);
	m.now = 1764083045;
	has(format(&m, true, NULL), "uptime           45s\n");
	has(format(&m, true, NULL),
	    "bytes            1023 B in, 1.0 KiB out\n");
	has(format(&m, true, NULL), "state unknown, 1 connection open, 0 err");
	/* A start in the future (clocks apart) is no negative uptime. */
	m.now = 1764082000;
	has(format(&m, true, NULL), "uptime           0s\n");
	m.now = 1764083000 + 61;
	has(format(&m, true, NULL), "uptime           1m 01s\n");
}

static void test_format_odd_values(void **state)
{
	struct cli_metrics m;
	const char *out;

	(void)state;
	parse_ok("cachewire_requests_total{method=\"Get\",code=\"OK\"} 1e300\n"
	         "cachewire_requests_total{method=\"Set\",code=\"OK\"} NaN\n"
	         "cachewire_requests_in_flight -4\n"
	         "cachewire_max_in_flight +Inf\n"
	         "cachewire_received_bytes_total 1e30\n"
	         "cachewire_sent_bytes_total -1\n"
	         "cachewire_redis_up 1\n"
	         "cachewire_redis_errors_total 123456789012345678\n"
	         "cachewire_start_time_seconds NaN\n"
	         "cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"10\"} 0\n"
	         "cachewire_request_duration_seconds_bucket{method=\"Get\","
	         "le=\"+Inf\"} 1e300\n",
	    &m);
	m.now = 1764083045;
	out = format(&m, true, NULL);
	has(out, "uptime           unknown\n");
	has(out, "requests         NaN total, -4 in flight (max +Inf)\n");
	has(out, "  Get            1e+300 calls, p50 > 10 s, p99 > 10 s\n");
	has(out, "  Set            NaN calls\n");
	has(out, "bytes            8.67e+11 EiB in, -1 B out\n");
	has(out, "up, 1.23e+17 errors");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_fixture),
	    cmocka_unit_test(test_parse_missing_families),
	    cmocka_unit_test(test_parse_labels),
	    cmocka_unit_test(test_parse_values),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_nul_in_text),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_quantiles),
	    cmocka_unit_test(test_format_fixture),
	    cmocka_unit_test(test_format_not_ready),
	    cmocka_unit_test(test_format_missing),
	    cmocka_unit_test(test_format_odd_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
