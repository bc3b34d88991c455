/*
 * stats.h - `cachewire stats` and `cachewire health`: the daemon's admin
 * HTTP endpoint (admin.listen; /metrics, /readyz, /healthz).
 *
 * stats.c and stats_format.c are pure: the first parses the Prometheus text
 * format of /metrics into struct cli_metrics, the second formats that for
 * a human. http.c does the I/O: it fetches the pages with nng's HTTP client
 * and runs the two commands.
 */
#ifndef CACHEWIRE_CLI_STATS_H
#define CACHEWIRE_CLI_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_args;

/* Room for the label values we keep; longer ones are cut. */
#define CLI_METRICS_NAME_MAX 48
/* Distinct methods and status codes kept; the rest count in the totals. */
#define CLI_METRICS_MAX_METHODS 16
#define CLI_METRICS_MAX_CODES   24
/* Histogram buckets kept per method (the daemon has 17). */
#define CLI_METRICS_MAX_BUCKETS 32

/* A gauge or counter: its value, and whether /metrics had it at all. */
struct cli_metric {
	double v;
	bool seen;
};

struct cli_metrics_method {
	char name[CLI_METRICS_NAME_MAX];
	/* Sum of cachewire_requests_total{method=name} over the codes. */
	struct cli_metric requests;
	/* cachewire_request_duration_seconds_{bucket,count,sum}. */
	size_t nbuckets;
	double le[CLI_METRICS_MAX_BUCKETS]; /* sorted ascending, +Inf last */
	double cumulative[CLI_METRICS_MAX_BUCKETS];
	struct cli_metric count;
	struct cli_metric sum;
};

struct cli_metrics_code {
	char name[CLI_METRICS_NAME_MAX];
	double n;
};

struct cli_metrics {
	/* cachewire_build_info's version label ("" when absent). */
	char version[CLI_METRICS_NAME_MAX];
	struct cli_metric start_time; /* unix seconds */
	struct cli_metric ready;
	/* cachewire_requests_total: the sum of every series, and by code. */
	struct cli_metric requests;
	size_t ncodes;
	struct cli_metrics_code codes[CLI_METRICS_MAX_CODES];
	/* By method (from requests_total and the histogram), first seen
	 * first. */
	size_t nmethods;
	struct cli_metrics_method methods[CLI_METRICS_MAX_METHODS];
	struct cli_metric in_flight, max_in_flight;
	struct cli_metric received_bytes, sent_bytes;
	struct cli_metric redis_up, redis_errors, redis_reconnects;
	struct cli_metric redis_connections, redis_pool_size, redis_pending;
	/* When the figures were taken (unix seconds), for the uptime; the
	 * caller sets it. */
	double now;
};

/*
 * Parse len bytes of the Prometheus text format (version 0.0.4) into out.
 * Comments, blank lines, unknown families and unknown labels are skipped;
 * labels may come in any order, label values may hold \\ \" \n escapes,
 * values may be NaN, +Inf, -Inf or in scientific notation, and a timestamp
 * may follow. A line that is not a sample is an error: returns -1 with
 * "line N: <what is wrong>" in err. Counters /metrics lacks stay 0 (and
 * not seen).
 */
int cli_metrics_parse(const char *text, size_t len, struct cli_metrics *out,
    char *err, size_t errlen);

/*
 * The figures a human wants at a glance, to f:
 *   cachewired 0.1.0 at http://127.0.0.1:7421: ready
 *   uptime           2h 03m 10s
 *   requests         12345 total, 3 in flight (max 256)
 *     by status      OK 12000, NOT_FOUND 300, UNAVAILABLE 45
 *     Get            10000 calls, p50 <= 0.5 ms, p99 <= 2.5 ms
 *   bytes            1.2 MiB in, 3.4 MiB out
 *   redis            up, 2 of 4 connections open, 0 pending, 0 errors, ...
 * reason (e.g. "not ready: stopping") replaces "ready" when !ready. The
 * quantiles are the upper bound of the histogram bucket that reaches them.
 */
void cli_stats_format(const struct cli_metrics *m, const char *admin_url,
    bool ready, const char *reason, FILE *f);

/*
 * The smallest bucket bound whose cumulative count reaches q (0 < q <= 1)
 * of the method's requests: +Inf when only the +Inf bucket does, NaN when
 * there is no histogram or no request.
 */
double cli_metrics_quantile(const struct cli_metrics_method *mm, double q);

/* ---- http.c: the commands (exit codes of args.h) ---- */
int cli_run_stats(const struct cli_args *a);
/* Flush stdout: CLI_EXIT_OK, or CLI_EXIT_FAILURE after saying why (disk
 * full, closed pipe); main.c. */
int cli_finish_stdout(void);
int cli_run_health(const struct cli_args *a);

#endif
