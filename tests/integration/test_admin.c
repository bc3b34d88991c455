/*
 * test_admin.c - the admin endpoint, logs and SIGHUP, with a real
 * redis-server, a real cachewired, and curl as the HTTP client:
 *
 * - /healthz, /readyz and /metrics answer; other paths and methods do not;
 * - the counters move with the calls made (by method and status, latency
 *   histogram, bytes), and a request whose method was never read counts
 *   as "unknown";
 * - Redis stopped: /readyz turns 503 naming Redis, the metrics say so;
 *   Redis back: ready again, the reconnect counted;
 * - SIGHUP changes limits while serving (a smaller cache.max_value_bytes
 *   is enforced, server.max_in_flight is raised) and the log format;
 * - JSON logs are one JSON object per line, every line;
 * - an admin address that cannot be listened on stops the daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <cachewire/cachewire.h>
#include "cachewire/v1/cache.pb-c.h"

#include "servers.h"

static cw_test_redis redis;

static int setup(void **state)
{
	(void)state;
	return cw_test_redis_start(&redis, NULL, false, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cw_test_redis_stop(&redis, false);
	return 0;
}

/* GET (or another method) base+path with curl: the HTTP status, and the
 * body in *body (malloc'd; free()). */
static int http(
    const char *method, const char *base, const char *path, char **body)
{
	char url[160];
	snprintf(url, sizeof url, "%s%s", base, path);
	const char *argv[] = {"/usr/bin/curl", "-s", "-X", method, "-o", "-",
	    "-w", "\n%{http_code}", "--max-time", "5", url, NULL};
	char *out = NULL, *err = NULL;
	size_t len = 0;
	int rc = cw_test_run(argv, NULL, NULL, 0, &out, &len, &err, 10);
	assert_int_equal(rc, 0); /* curl reached the endpoint */
	free(err);
	char *nl = strrchr(out, '\n');
	assert_non_null(nl);
	int status = atoi(nl + 1);
	*nl = '\0';
	*body = out;
	return status;
}

/* The value of the metric line starting with `series ` in /metrics, or -1
 * when there is none. */
static double metric(const cw_test_daemon *d, const char *series)
{
	char *text;
	assert_int_equal(http("GET", d->admin_url, "/metrics", &text), 200);
	double v = -1;
	size_t n = strlen(series);
	for (char *line = text; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
		line = next ? next + 1 : NULL;
	}
	free(text);
	return v;
}

/* Wait up to 15 s for /readyz to answer status; its last body. */
static char *readyz_until(const cw_test_daemon *d, int status)
{
	char *body = NULL;
	for (int i = 0; i < 150; i++) {
		free(body);
		if (http("GET", d->admin_url, "/readyz", &body) == status)
			return body;
		cw_test_sleep_ms(100);
	}
	fail_msg("/readyz never answered %d; last: %s", status, body);
	return NULL;
}

static void endpoints_answer(void **state)
{
	(void)state;
	cw_test_daemon d;
	char *body;
	assert_int_equal(cw_test_daemon_start(&d, redis.url, NULL), 0);

	assert_int_equal(http("GET", d.admin_url, "/healthz", &body), 200);
	assert_string_equal(body, "ok\n");
	free(body);
	free(readyz_until(&d, 200));
	assert_int_equal(http("GET", d.admin_url, "/metrics", &body), 200);
	assert_non_null(
	    strstr(body, "# TYPE cachewire_requests_total counter"));
	assert_non_null(strstr(body, "cachewire_build_info{version=\""));
	assert_non_null(strstr(body, "cachewire_ready 1\n"));
	free(body);
	assert_int_equal(http("GET", d.admin_url, "/nothing", &body), 404);
	free(body);
	assert_int_equal(http("POST", d.admin_url, "/metrics", &body), 405);
	free(body);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

/* Send bytes that are no cachewire.v1.Request; wait for the reply. */
static void send_garbage(const char *url)
{
	nng_socket s;
	nng_msg *reply;
	assert_int_equal(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_send(s, "\xff\xff\xff", 3, 0), 0);
	assert_int_equal(nng_recvmsg(s, &reply, 0), 0);
	nng_msg_free(reply);
	cw_test_nng_close(s);
}

static void counters_move(void **state)
{
	(void)state;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	bool found;
	void *v;
	size_t vlen;
	assert_int_equal(cw_test_daemon_start(&d, redis.url, NULL), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);

	double in0 = metric(&d, "cachewire_received_bytes_total");
	double out0 = metric(&d, "cachewire_sent_bytes_total");
	for (int i = 0; i < 5; i++)
		assert_int_equal(
		    cw_set(c, "k", 1, "value", 5, CW_NO_EXPIRY, 5000, &err),
		    CW_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    cw_get(c, "k", 1, &found, &v, &vlen, 5000, &err), CW_OK),
		    cw_free(v);
	assert_int_equal(cw_get(c, "", 0, &found, &v, &vlen, 5000, &err),
	    CW_INVALID_ARGUMENT);
	send_garbage(d.tcp_url);

	assert_true(metric(&d, "cachewire_requests_total{method=\"Set\","
	                       "code=\"OK\"}") == 5);
	assert_true(metric(&d, "cachewire_requests_total{method=\"Get\","
	                       "code=\"OK\"}") == 3);
	assert_true(metric(&d, "cachewire_requests_total{method=\"Get\","
	                       "code=\"INVALID_ARGUMENT\"}") == 1);
	assert_true(metric(&d, "cachewire_requests_total{method=\"unknown\","
	                       "code=\"INVALID_ARGUMENT\"}") == 1);
	/* The histogram holds every answered Get, +Inf bucket = count. */
	assert_true(metric(&d, "cachewire_request_duration_seconds_count"
	                       "{method=\"Get\"}") == 4);
	assert_true(metric(&d, "cachewire_request_duration_seconds_bucket"
	                       "{method=\"Get\",le=\"+Inf\"}") == 4);
	assert_true(metric(&d, "cachewire_request_duration_seconds_sum"
	                       "{method=\"Get\"}") > 0);
	assert_true(metric(&d, "cachewire_received_bytes_total") > in0 + 10);
	assert_true(metric(&d, "cachewire_sent_bytes_total") > out0);
	assert_true(metric(&d, "cachewire_requests_in_flight") == 0);
	assert_true(metric(&d, "cachewire_redis_up") == 1);
	assert_true(metric(&d, "cachewire_redis_connections") >= 1);
	assert_true(metric(&d, "cachewire_redis_pool_size") == 4);
	/* Methods never called have no series. */
	assert_true(metric(&d, "cachewire_request_duration_seconds_count"
	                       "{method=\"Clear\"}") == -1);

	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

static void redis_down_not_ready(void **state)
{
	(void)state;
	cw_test_redis r;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	/* Our own socket path, so Redis can come back at the same place. */
	char dir[] = "/tmp/cw-test-admin-XXXXXX", sock[64], url[80];
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/redis.sock", dir);
	snprintf(url, sizeof url, "unix://%s", sock);
	assert_int_equal(cw_test_redis_start(&r, sock, false, NULL), 0);
	const char *env[] = {"CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=500", NULL};
	assert_int_equal(cw_test_daemon_start(&d, url, env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(cw_ping(c, NULL, 5000, &err), CW_OK);
	free(readyz_until(&d, 200));

	cw_test_redis_stop(&r, true);
	char *body = readyz_until(&d, 503);
	assert_non_null(strstr(body, "not ready: redis at unix://"));
	assert_non_null(strstr(body, "does not answer"));
	free(body);
	assert_true(metric(&d, "cachewire_ready") == 0);
	assert_true(metric(&d, "cachewire_redis_up") == 0);
	assert_true(metric(&d, "cachewire_redis_errors_total") >= 1);
	assert_int_equal(cw_ping(c, NULL, 2000, &err), CW_UNAVAILABLE);
	/* health is alive all along */
	assert_int_equal(http("GET", d.admin_url, "/healthz", &body), 200);
	free(body);

	assert_int_equal(cw_test_redis_start(&r, sock, false, NULL), 0);
	free(readyz_until(&d, 200));
	assert_true(metric(&d, "cachewire_redis_up") == 1);
	assert_true(metric(&d, "cachewire_redis_reconnects_total") >= 1);
	assert_int_equal(cw_ping(c, NULL, 5000, &err), CW_OK);
	char *log = cw_test_log_until(&d, "answers now", 5000);
	assert_non_null(log);
	assert_non_null(strstr(log, "WARN redis at unix://"));
	free(log);

	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_test_redis_stop(&r, false);
	rmdir(dir);
}

/* PingResponse.max_message_bytes, through the generated stub. */
static void on_pong(const Cachewire__V1__PingResponse *r, void *arg)
{
	*(uint64_t *)arg = r != NULL ? r->max_message_bytes : UINT64_MAX;
}

static uint64_t ping_max_message_bytes(cw_client *c)
{
	Cachewire__V1__PingRequest in = CACHEWIRE__V1__PING_REQUEST__INIT;
	uint64_t got = 0;
	cachewire__v1__cache__ping(cw_client_service(c), &in, on_pong, &got);
	return got;
}

static void sighup_changes_limits(void **state)
{
	(void)state;
	char cfg_path[] = "/tmp/cw-test-admin-XXXXXX";
	int fd = mkstemp(cfg_path);
	assert_true(fd >= 0);
	close(fd);
	char env_config[300];
	snprintf(
	    env_config, sizeof env_config, "CACHEWIRE_CONFIG=%s", cfg_path);
	FILE *f = fopen(cfg_path, "w");
	fputs("server:\n  max_in_flight: 2\n", f);
	fclose(f);
	const char *env[] = {env_config, NULL};
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	static char big[2000];
	assert_int_equal(cw_test_daemon_start(&d, redis.url, env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_true(metric(&d, "cachewire_max_in_flight") == 2);
	assert_int_equal(
	    cw_set(c, "b", 1, big, sizeof big, CW_NO_EXPIRY, 5000, &err),
	    CW_OK);

	assert_int_equal(ping_max_message_bytes(c), 33 * 1024 * 1024);

	f = fopen(cfg_path, "w");
	fputs("server:\n  max_in_flight: 300\n  max_message_bytes: 2MiB\n"
	      "cache:\n  max_value_bytes: 1KiB\n"
	      "log:\n  format: json\n",
	    f);
	fclose(f);
	kill(d.pid, SIGHUP);
	char *log = cw_test_log_until(&d, "log.format is now json", 5000);
	assert_non_null(log);
	free(log);
	assert_true(metric(&d, "cachewire_max_in_flight") == 300);
	/* what clients keep their batches under follows */
	assert_int_equal(ping_max_message_bytes(c), 2 * 1024 * 1024);
	assert_int_equal(
	    cw_set(c, "b", 1, big, sizeof big, CW_NO_EXPIRY, 5000, &err),
	    CW_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.message, "the limit is 1024"));
	assert_int_equal(
	    cw_set(c, "s", 1, big, 1024, CW_NO_EXPIRY, 5000, &err), CW_OK);
	/* 300 > the 2 x 2 contexts made at start: more were added, and the
	 * server goes on serving with them */
	for (int i = 0; i < 20; i++)
		assert_int_equal(cw_ping(c, NULL, 5000, &err), CW_OK);

	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	unlink(cfg_path);
}

/* Every line a JSON object with ts, level and msg (Python's parser
 * decides). */
static void json_logs(void **state)
{
	(void)state;
	const char *env[] = {"CACHEWIRE_LOG_FORMAT=json", NULL};
	cw_test_daemon d;
	assert_int_equal(cw_test_daemon_start(&d, redis.url, env), 0);
	char log_path[200];
	snprintf(log_path, sizeof log_path, "%s", d.log);
	kill(d.pid, SIGHUP);
	free(cw_test_log_until(&d, "nothing changed", 5000));
	char *log = cw_test_read_file(log_path, NULL);
	assert_non_null(log);
	assert_int_equal(cw_test_daemon_stop(&d), 0); /* removes the log */

	const char *argv[] = {"/usr/bin/python3", "-c",
	    "import json, sys\n"
	    "n = 0\n"
	    "for line in sys.stdin:\n"
	    "    o = json.loads(line)\n"
	    "    assert set(o) == {'ts', 'level', 'msg'}, o\n"
	    "    assert o['level'] in ('debug', 'info', 'warn', 'error'), o\n"
	    "    n += 1\n"
	    "assert n >= 5, n\n",
	    NULL};
	char *out = NULL, *err = NULL;
	size_t len;
	int rc =
	    cw_test_run(argv, NULL, log, strlen(log), &out, &len, &err, 10);
	if (rc != 0)
		fail_msg("not JSON lines (%s):\n%s", err, log);
	assert_non_null(strstr(log, "\"msg\":\"ready\"}\n"));
	free(out);
	free(err);
	free(log);
}

static void admin_address_in_use(void **state)
{
	(void)state;
	cw_test_daemon first;
	assert_int_equal(cw_test_daemon_start(&first, redis.url, NULL), 0);
	char env_admin[100];
	snprintf(env_admin, sizeof env_admin, "CACHEWIRE_ADMIN_LISTEN=%s",
	    first.admin_url);
	const char *argv[] = {
	    CW_TEST_CACHEWIRED, "--listen", "tcp://127.0.0.1:0", NULL};
	const char *env[] = {
	    env_admin, "CACHEWIRE_REDIS_URL=unix:///nonexistent", NULL};
	char *out = NULL, *err = NULL;
	size_t len;
	assert_int_equal(
	    cw_test_run(argv, env, NULL, 0, &out, &len, &err, 20), 1);
	assert_non_null(strstr(err, "cannot listen on admin.listen"));
	assert_non_null(strstr(err, first.admin_url));
	free(out);
	free(err);
	assert_int_equal(cw_test_daemon_stop(&first), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(endpoints_answer),
	    cmocka_unit_test(counters_move),
	    cmocka_unit_test(redis_down_not_ready),
	    cmocka_unit_test(sighup_changes_limits),
	    cmocka_unit_test(json_logs),
	    cmocka_unit_test(admin_address_in_use),
	};
	return cw_test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
