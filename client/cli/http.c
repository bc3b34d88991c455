/*
 * http.c - `cachewire stats` and `cachewire health`: GET the daemon's admin
 * pages (/metrics, /readyz, /healthz) with nng's HTTP client, and report
 * with the exit codes of args.h (see stats.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "args.h"
#include "stats.h"

/* One page: the HTTP status and the body (NUL-terminated, malloc'd). */
struct page {
	char url[512];
	int status;
	char reason[64]; /* "Service Unavailable" */
	char *body;
	size_t len;
};

/* Milliseconds on a clock that does not jump. */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The largest page we read: /metrics is a few kB. */
#define PAGE_LIMIT ((size_t)16 << 20)

/* Wait for the operation started on aio; its result. */
static int step(nng_aio *aio)
{
	nng_aio_wait(aio);
	return nng_aio_result(aio);
}

static void until(nng_aio *aio, long long deadline)
{
	long long left = deadline - mono_ms();

	nng_aio_set_timeout(aio, left > 0 ? (nng_duration)left : 1);
}

/*
 * The response's body: Content-Length bytes, or without one all until the
 * server closes. Into pg->body (NUL-terminated) and pg->len.
 */
static int read_body(nng_http_conn *conn, nng_http_res *res, nng_aio *aio,
    long long deadline, struct page *pg)
{
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	size_t cap = cl != NULL ? (size_t)strtoull(cl, NULL, 10) : 4096;
	bool to_close = cl == NULL;
	nng_iov iov;
	char *bigger;
	int rv = 0;

	if (cap > PAGE_LIMIT)
		return NNG_EMSGSIZE;
	if ((pg->body = malloc(cap + 1)) == NULL)
		return NNG_ENOMEM;
	while (pg->len < cap) {
		iov.iov_buf = pg->body + pg->len;
		iov.iov_len = cap - pg->len;
		nng_aio_set_iov(aio, 1, &iov);
		until(aio, deadline);
		nng_http_conn_read(conn, aio);
		rv = step(aio);
		pg->len += nng_aio_count(aio);
		if (to_close && (rv == NNG_ECLOSED || rv == NNG_ECONNSHUT))
			return 0;
		if (rv != 0)
			return rv;
		if (to_close && pg->len == cap) {
			if (cap >= PAGE_LIMIT)
				return NNG_EMSGSIZE;
			if ((bigger = realloc(pg->body, cap * 2 + 1)) == NULL)
				return NNG_ENOMEM;
			pg->body = bigger;
			cap *= 2;
		}
	}
	return 0;
}

/*
 * One GET on a connection of our own. (Not nng_http_client_transact: in
 * nng 1.5.2 it finishes closing the connection on its own thread after
 * the caller's aio completes, which nng_fini() can then race.)
 */
static int exchange(nng_http_client *client, nng_http_req *req,
    nng_http_res *res, nng_aio *aio, long long deadline, struct page *pg)
{
	nng_http_conn *conn;
	int rv;

	until(aio, deadline);
	nng_http_client_connect(client, aio);
	if ((rv = step(aio)) != 0)
		return rv;
	conn = nng_aio_get_output(aio, 0);
	until(aio, deadline);
	nng_http_conn_write_req(conn, req, aio);
	if ((rv = step(aio)) == 0) {
		until(aio, deadline);
		nng_http_conn_read_res(conn, res, aio);
		rv = step(aio);
	}
	if (rv == 0)
		rv = read_body(conn, res, aio, deadline, pg);
	nng_http_conn_close(conn);
	return rv;
}

/*
 * GET base + path within timeout_ms into pg. Returns CLI_EXIT_OK whatever
 * the HTTP status, else the exit code with a message on stderr.
 */
static int get(const char *base, const char *path, nng_duration timeout_ms,
    struct page *pg)
{
	size_t n = strlen(base);
	nng_url *url = NULL;
	nng_http_client *client = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	long long deadline = mono_ms() + timeout_ms;
	int rv;

	memset(pg, 0, sizeof *pg);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if ((size_t)snprintf(pg->url, sizeof pg->url, "%.*s%s", (int)n, base,
	        path) >= sizeof pg->url) {
		fprintf(stderr, "cachewire: --admin: the URL is too long\n");
		return CLI_EXIT_USAGE;
	}
	if ((rv = nng_url_parse(&url, pg->url)) != 0) {
		fprintf(stderr, "cachewire: --admin: invalid URL '%s': %s\n",
		    pg->url, nng_strerror(rv));
		return CLI_EXIT_USAGE;
	}
	if ((rv = nng_http_client_alloc(&client, url)) == 0 &&
	    (rv = nng_http_req_alloc(&req, url)) == 0 &&
	    (rv = nng_http_res_alloc(&res)) == 0 &&
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) == 0)
		rv = exchange(client, req, res, aio, deadline, pg);
	if (rv == 0) {
		pg->status = nng_http_res_get_status(res);
		snprintf(pg->reason, sizeof pg->reason, "%s",
		    nng_http_res_get_reason(res));
		pg->body[pg->len] = '\0';
	} else {
		free(pg->body);
		pg->body = NULL;
		pg->len = 0;
	}
	if (rv == NNG_ETIMEDOUT)
		fprintf(stderr, "cachewire: no answer from %s within %d ms\n",
		    pg->url, (int)timeout_ms);
	else if (rv != 0)
		fprintf(stderr, "cachewire: cannot reach %s: %s%s\n", pg->url,
		    nng_strerror(rv),
		    rv == NNG_ECONNREFUSED ? " (is admin.listen enabled?)"
		                           : "");
	if (aio != NULL)
		nng_aio_free(aio);
	if (res != NULL)
		nng_http_res_free(res);
	if (req != NULL)
		nng_http_req_free(req);
	if (client != NULL)
		nng_http_client_free(client);
	nng_url_free(url);
	return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* "HTTP 503 Service Unavailable" */
static const char *status_line(const struct page *pg, char *buf, size_t len)
{
	snprintf(buf, len, "HTTP %d%s%s", pg->status, pg->reason[0] ? " " : "",
	    pg->reason);
	return buf;
}

/* The body's first line, printable, for a one-line message. */
static void first_line(const struct page *pg, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && i < pg->len && pg->body[i] != '\n'; i++)
		buf[i] = pg->body[i] >= ' ' && pg->body[i] != 0x7f ? pg->body[i]
		                                                   : '?';
	while (i > 0 && (buf[i - 1] == '\r' || buf[i - 1] == ' '))
		i--;
	buf[i] = '\0';
}

/*
 * Whether the daemon is ready: /readyz's status (503 gives the reason), or
 * when /readyz has no answer the cachewire_ready gauge from /metrics.
 */
static bool readiness(const struct cli_args *a, const struct cli_metrics *m,
    nng_duration left, char *reason, size_t len)
{
	struct page pg;
	char sl[96];
	bool ready;

	if (get(a->admin_url, "/readyz", left, &pg) == CLI_EXIT_OK &&
	    (pg.status == 200 || pg.status == 503)) {
		ready = pg.status == 200;
		first_line(&pg, reason, len);
		if (!ready && reason[0] == '\0')
			snprintf(reason, len, "not ready (/readyz: %s)",
			    status_line(&pg, sl, sizeof sl));
		free(pg.body);
		return ready;
	}
	free(pg.body);
	ready = m->ready.seen && m->ready.v == 1;
	snprintf(reason, len, "%s",
	    m->ready.seen ? "not ready (cachewire_ready is not 1)"
	                  : "readiness unknown (no answer from /readyz, no "
	                    "cachewire_ready in /metrics)");
	return ready;
}

int cli_run_stats(const struct cli_args *a)
{
	long long deadline = mono_ms() + a->timeout_ms;
	struct cli_metrics m;
	struct page pg;
	char err[256], reason[256], sl[96];
	long long left;
	bool ready;
	int rc;

	if ((rc = get(a->admin_url, "/metrics", a->timeout_ms, &pg)) != 0)
		return rc;
	if (pg.status != 200) {
		fprintf(stderr, "cachewire: %s answered %s\n", pg.url,
		    status_line(&pg, sl, sizeof sl));
		free(pg.body);
		return CLI_EXIT_FAILURE;
	}
	rc = cli_metrics_parse(pg.body, pg.len, &m, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr,
		    "cachewire: %s is not in the Prometheus text format: %s\n",
		    pg.url, err);
		free(pg.body);
		return CLI_EXIT_FAILURE;
	}
	free(pg.body);
	left = deadline - mono_ms();
	ready = readiness(
	    a, &m, left > 0 ? (nng_duration)left : 1, reason, sizeof reason);
	m.now = (double)time(NULL);
	cli_stats_format(&m, a->admin_url, ready, reason, stdout);
	rc = cli_finish_stdout();
	return rc != CLI_EXIT_OK ? rc
	       : ready           ? CLI_EXIT_OK
	                         : CLI_EXIT_NOT_FOUND;
}

int cli_run_health(const struct cli_args *a)
{
	struct page pg;
	char sl[96];
	int rc;

	rc = get(a->admin_url, a->ready ? "/readyz" : "/healthz", a->timeout_ms,
	    &pg);
	if (rc != CLI_EXIT_OK)
		return rc;
	fwrite(pg.body, 1, pg.len, stdout);
	if (pg.len > 0 && pg.body[pg.len - 1] != '\n')
		putchar('\n');
	free(pg.body);
	if ((rc = cli_finish_stdout()) != CLI_EXIT_OK)
		return rc;
	if (pg.status != 200) {
		fprintf(stderr, "cachewire: %s answered %s\n", pg.url,
		    status_line(&pg, sl, sizeof sl));
		return CLI_EXIT_NOT_FOUND;
	}
	return CLI_EXIT_OK;
}
