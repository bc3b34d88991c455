/*
 * test_faults.c - Redis failing under a running cachewired, with real
 * processes: killed (SIGKILL) while requests are in flight, and stalled
 * (SIGSTOP) then resumed. Calls must end - with UNAVAILABLE or
 * DEADLINE_EXCEEDED and a message - and never outlive their deadline; the
 * daemon must stay up and serve again soon after Redis is back; and stop
 * cleanly at the end. The bounds below are deadlines the service promises
 * (with slack for a loaded machine), not speed measurements.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

#include <cachewire/cachewire.h>

#include "servers.h"

#define COMMAND_TIMEOUT_MS 1000
/* Scheduling on a busy 2-core machine: 700 ms, or $CW_TEST_SLACK_MS (more
 * under valgrind). */
static int slack_ms = 700;
#define SLACK_MS slack_ms

typedef struct fixture {
	char dir[128];
	char sock[192];
	char url[224];
	cw_test_redis redis;
	cw_test_daemon daemon;
	cw_client *c;
} fixture;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	static fixture f;
	static const char *const env[] = {
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=1000",
	    "CACHEWIRE_REDIS_CONNECT_TIMEOUT_MS=500", NULL};
	cw_error err;

	memset(&f, 0, sizeof f);
	snprintf(f.dir, sizeof f.dir, "/tmp/cw-test-faults-XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		return -1;
	/* Our own socket path, so Redis can come back at the same place. */
	snprintf(f.sock, sizeof f.sock, "%s/redis.sock", f.dir);
	snprintf(f.url, sizeof f.url, "unix://%s", f.sock);
	if (cw_test_redis_start(&f.redis, f.sock, false, NULL) != 0 ||
	    cw_test_daemon_start(&f.daemon, f.url, env) != 0 ||
	    cw_open(&f.c, f.daemon.tcp_url, NULL, &err) != CW_OK)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[200];

	cw_close(f->c);
	int status = cw_test_daemon_stop(&f->daemon);
	if (f->redis.pid > 0)
		cw_test_redis_stop(&f->redis, true);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0 || status != 0) {
		fprintf(stderr, "cachewired exit status %d\n", status);
		return -1;
	}
	return 0;
}

/* Retry a cheap call until it succeeds; the ms it took, or -1. */
static long long ms_until_ok(cw_client *c, int limit_ms)
{
	long long t0 = now_ms();
	cw_error err;

	while (now_ms() - t0 < limit_ms) {
		if (cw_set(c, "probe", 5, "v", 1, CW_NO_EXPIRY, 1000, &err) ==
		    CW_OK)
			return now_ms() - t0;
		cw_test_sleep_ms(20);
	}
	return -1;
}

/* A daemon of the test's own on the fixture's Redis (env added), and a
 * client that has made one call through it. alone: the client sends every
 * call as a message of its own (no_coalescing), for the cases that count
 * requests at the server: a call queued behind another (or the Ping that
 * asks whether the server takes batches) would change the count. */
static void own_daemon(const fixture *f, const char *const *env,
    cw_test_daemon *d, cw_client **c, bool alone)
{
	cw_error err;
	cw_client_options o = {.no_coalescing = alone};

	assert_int_equal(cw_test_daemon_start(d, f->url, env), 0);
	assert_int_equal(cw_open(c, d->tcp_url, &o, &err), CW_OK);
	assert_true(ms_until_ok(*c, 5000) >= 0);
}

/* ---- load: async calls kept in flight until told to stop ---- */

typedef struct load {
	cw_client *c;
	atomic_int stop;
	atomic_int inflight;
	atomic_int by_status[CW_UNAUTHENTICATED + 1];
	atomic_long issued;
	atomic_int silent; /* failures without a message (must stay 0) */
} load;

static void issue(load *l);

static void done(void *arg, const cw_result *r)
{
	load *l = arg;
	int s = r->status >= 0 && r->status <= CW_UNAUTHENTICATED ? r->status
	                                                          : CW_UNKNOWN;
	if (r->status != CW_OK && r->message[0] == '\0')
		atomic_fetch_add(&l->silent, 1); /* checked by the test */
	atomic_fetch_add(&l->by_status[s], 1);
	if (!atomic_load(&l->stop))
		issue(l);
	atomic_fetch_sub(&l->inflight, 1);
}

static void issue(load *l)
{
	char key[32];
	long i = atomic_fetch_add(&l->issued, 1);
	int n = snprintf(key, sizeof key, "load:%ld", i % 500);

	atomic_fetch_add(&l->inflight, 1);
	int rc = i % 2 ? cw_get_async(l->c, key, (size_t)n, 3000, done, l)
	               : cw_set_async(l->c, key, (size_t)n, "value", 5,
	                     CW_NO_EXPIRY, 3000, done, l);
	if (rc != CW_OK)
		atomic_fetch_sub(&l->inflight, 1);
}

static void redis_killed_under_load(void **state)
{
	fixture *f = *state;
	load l = {.c = f->c};
	cw_error err;

	for (int i = 0; i < 32; i++)
		issue(&l);
	cw_test_sleep_ms(300);
	cw_test_redis_stop(&f->redis, true); /* SIGKILL, mid-load */
	cw_test_sleep_ms(500);
	atomic_store(&l.stop, 1);
	/* Every call in flight ends within its 3 s deadline. */
	long long t0 = now_ms();
	while (atomic_load(&l.inflight) > 0 && now_ms() - t0 < 3000 + SLACK_MS)
		cw_test_sleep_ms(10);
	assert_int_equal(atomic_load(&l.inflight), 0);
	assert_true(atomic_load(&l.by_status[CW_OK]) > 0);
	assert_true(atomic_load(&l.by_status[CW_UNAVAILABLE]) > 0);
	int other = 0;
	for (int s = 0; s <= CW_UNAUTHENTICATED; s++)
		if (s != CW_OK && s != CW_UNAVAILABLE &&
		    s != CW_DEADLINE_EXCEEDED)
			other += atomic_load(&l.by_status[s]);
	assert_int_equal(other, 0);
	assert_int_equal(atomic_load(&l.silent), 0); /* each failure says why */

	/* While Redis is down, calls fail fast, not at their deadline. */
	for (int i = 0; i < 5; i++) {
		t0 = now_ms();
		assert_int_equal(
		    cw_set(f->c, "k", 1, "v", 1, CW_NO_EXPIRY, 5000, &err),
		    CW_UNAVAILABLE);
		assert_true(now_ms() - t0 < 1000 + SLACK_MS);
		assert_non_null(strstr(err.message, f->sock));
	}

	/* Redis back at the same place: service again within about 1 s. */
	assert_int_equal(
	    cw_test_redis_start(&f->redis, f->sock, false, NULL), 0);
	long long took = ms_until_ok(f->c, 5000);
	assert_true(took >= 0);
	assert_true(took < 1000 + SLACK_MS);

	/* No context is stuck: more calls than the client has in flight at
	 * once all go through. */
	load again = {.c = f->c};
	for (int i = 0; i < 64; i++)
		issue(&again);
	cw_test_sleep_ms(300);
	atomic_store(&again.stop, 1);
	while (atomic_load(&again.inflight) > 0)
		cw_test_sleep_ms(10);
	assert_true(atomic_load(&again.by_status[CW_OK]) >= 64);
	assert_int_equal(atomic_load(&again.by_status[CW_OK]),
	    (int)atomic_load(&again.issued));
}

static void redis_stalled_then_resumed(void **state)
{
	fixture *f = *state;
	cw_error err;
	bool found;

	assert_true(ms_until_ok(f->c, 5000) >= 0);
	kill(f->redis.pid, SIGSTOP);

	/* The caller's own deadline, carried to the server. */
	long long t0 = now_ms();
	assert_int_equal(cw_get(f->c, "k", 1, &found, NULL, NULL, 600, &err),
	    CW_DEADLINE_EXCEEDED);
	long long took = now_ms() - t0;
	assert_true(took >= 550 && took < 600 + SLACK_MS);

	/* A longer deadline: the server gives up at its command timeout. */
	t0 = now_ms();
	assert_int_equal(cw_get(f->c, "k", 1, &found, NULL, NULL, 5000, &err),
	    CW_DEADLINE_EXCEEDED);
	took = now_ms() - t0;
	assert_true(took < COMMAND_TIMEOUT_MS + SLACK_MS);
	assert_non_null(strstr(err.message, "did not answer"));

	kill(f->redis.pid, SIGCONT);
	took = ms_until_ok(f->c, 5000);
	assert_true(took >= 0);
	assert_true(took < 1000 + SLACK_MS);
}

/* Stalled Redis holds requests in flight: past the cap, RESOURCE_EXHAUSTED
 * comes at once, and the daemon serves again when Redis does. */
static void overload_is_refused_at_once(void **state)
{
	fixture *f = *state;
	static const char *const env[] = {"CACHEWIRE_SERVER_MAX_IN_FLIGHT=2",
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=2000", NULL};
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	bool found;

	own_daemon(f, env, &d, &c, true);

	kill(f->redis.pid, SIGSTOP);
	load l = {.c = c};
	atomic_store(&l.stop, 1); /* exactly two calls, no follow-ups */
	issue(&l);
	issue(&l);
	cw_test_sleep_ms(200); /* both are now waiting on Redis */
	long long t0 = now_ms();
	assert_int_equal(cw_get(c, "k", 1, &found, NULL, NULL, 3000, &err),
	    CW_RESOURCE_EXHAUSTED);
	assert_true(now_ms() - t0 < SLACK_MS);
	assert_non_null(strstr(err.message, "max_in_flight"));

	kill(f->redis.pid, SIGCONT);
	while (atomic_load(&l.inflight) > 0)
		cw_test_sleep_ms(10);
	assert_int_equal(atomic_load(&l.by_status[CW_OK]), 2);
	assert_true(ms_until_ok(c, 5000) >= 0);
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

/* SIGTERM with a request in flight (held by a stalled Redis): the daemon
 * answers it before exiting 0, and a request that arrives meanwhile is
 * told UNAVAILABLE at once rather than left unanswered. */
static void stop_answers_in_flight_and_refuses_new(void **state)
{
	fixture *f = *state;
	static const char *const env[] = {
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=3000", NULL};
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	bool found;

	own_daemon(f, env, &d, &c, true);

	kill(f->redis.pid, SIGSTOP);
	load l = {.c = c};
	atomic_store(&l.stop, 1);
	issue(&l); /* one call, held by Redis */
	cw_test_sleep_ms(200);
	kill(d.pid, SIGTERM);
	cw_test_sleep_ms(200); /* the daemon now waits for that call */
	long long t0 = now_ms();
	assert_int_equal(
	    cw_get(c, "k", 1, &found, NULL, NULL, 2000, &err), CW_UNAVAILABLE);
	assert_true(now_ms() - t0 < SLACK_MS);
	assert_non_null(strstr(err.message, "stopping"));

	kill(f->redis.pid, SIGCONT);
	t0 = now_ms();
	while (atomic_load(&l.inflight) > 0 && now_ms() - t0 < 5000)
		cw_test_sleep_ms(10);
	assert_int_equal(atomic_load(&l.by_status[CW_OK]), 1);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_close(c);
}

/* SIGTERM while Redis holds a request longer than the drain timeout: the
 * request ends UNAVAILABLE when the drain timeout is up, not at its own
 * deadline, and the daemon exits 0 saying what it did. */
static void drain_timeout_ends_what_is_left(void **state)
{
	fixture *f = *state;
	static const char *const env[] = {
	    "CACHEWIRE_SERVER_DRAIN_TIMEOUT_MS=500",
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=10000", NULL};
	cw_test_daemon d;
	cw_client *c;

	own_daemon(f, env, &d, &c, true);

	kill(f->redis.pid, SIGSTOP);
	load l = {.c = c};
	atomic_store(&l.stop, 1);
	issue(&l); /* deadline 3 s, held by Redis */
	cw_test_sleep_ms(200);
	long long t0 = now_ms();
	kill(d.pid, SIGTERM);
	while (atomic_load(&l.inflight) > 0 && now_ms() - t0 < 3000 + SLACK_MS)
		cw_test_sleep_ms(10);
	long long took = now_ms() - t0;
	kill(f->redis.pid, SIGCONT);
	assert_int_equal(atomic_load(&l.inflight), 0);
	assert_int_equal(atomic_load(&l.by_status[CW_UNAVAILABLE]), 1);
	assert_true(took >= 450 && took < 500 + SLACK_MS);
	char *text = cw_test_read_file(d.log, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "1 request still in flight after "
	                             "server.drain_timeout_ms (500 ms)"));
	free(text);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_close(c);
}

/* ---- a stream of writes, each remembered when acknowledged ---- */

#define MAX_WRITES 200000

typedef struct writes {
	cw_client *c;
	atomic_int stop;
	atomic_int inflight;
	atomic_int next;
	atomic_int by_status[CW_UNAUTHENTICATED + 1];
	atomic_bool acked[MAX_WRITES];
} writes;

typedef struct write_op {
	writes *w;
	int i;
} write_op;

static void write_next(writes *w);

static void wrote(void *arg, const cw_result *r)
{
	write_op *op = arg;
	writes *w = op->w;
	int s = r->status >= 0 && r->status <= CW_UNAUTHENTICATED ? r->status
	                                                          : CW_UNKNOWN;
	atomic_fetch_add(&w->by_status[s], 1);
	if (r->status == CW_OK)
		atomic_store(&w->acked[op->i], true);
	free(op);
	if (!atomic_load(&w->stop))
		write_next(w);
	atomic_fetch_sub(&w->inflight, 1);
}

static void write_next(writes *w)
{
	char key[32], value[32];
	int i = atomic_fetch_add(&w->next, 1);
	if (i >= MAX_WRITES)
		return;
	write_op *op = malloc(sizeof *op);
	assert_non_null(op);
	*op = (write_op){w, i};
	int kn = snprintf(key, sizeof key, "ack:%d", i);
	int vn = snprintf(value, sizeof value, "value-%d", i);
	atomic_fetch_add(&w->inflight, 1);
	if (cw_set_async(w->c, key, (size_t)kn, value, (size_t)vn, CW_NO_EXPIRY,
	        3000, wrote, op) != CW_OK) {
		free(op);
		atomic_fetch_sub(&w->inflight, 1);
	}
}

/* SIGTERM while 16 writes are always in flight: every Set the daemon
 * acknowledged is in Redis afterwards, with its value; the ones it
 * refused while stopping were told so. */
static void no_acknowledged_write_lost_on_stop(void **state)
{
	fixture *f = *state;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	static writes w;

	memset(&w, 0, sizeof w);
	own_daemon(f, NULL, &d, &c, false);
	w.c = c;
	for (int i = 0; i < 16; i++)
		write_next(&w);
	cw_test_sleep_ms(300);
	assert_true(atomic_load(&w.inflight) > 0);
	assert_int_equal(cw_test_daemon_stop(&d), 0); /* SIGTERM, exit 0 */
	atomic_store(&w.stop, 1);
	long long t0 = now_ms();
	while (atomic_load(&w.inflight) > 0 && now_ms() - t0 < 3000 + SLACK_MS)
		cw_test_sleep_ms(10);
	assert_int_equal(atomic_load(&w.inflight), 0);
	cw_close(c);
	int acked = atomic_load(&w.by_status[CW_OK]);
	int refused = atomic_load(&w.by_status[CW_UNAVAILABLE]) +
	              atomic_load(&w.by_status[CW_DEADLINE_EXCEEDED]);
	assert_true(acked > 0);
	assert_true(refused > 0); /* the stream was still running at the stop */
	assert_int_equal(acked + refused, atomic_load(&w.next) < MAX_WRITES
	                                      ? atomic_load(&w.next)
	                                      : MAX_WRITES);

	/* Read every acknowledged key back through a new daemon. */
	assert_int_equal(cw_test_daemon_start(&d, f->url, NULL), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	int n = atomic_load(&w.next), checked = 0;
	if (n > MAX_WRITES)
		n = MAX_WRITES;
	for (int i = 0; i < n; i++) {
		if (!atomic_load(&w.acked[i]))
			continue;
		char key[32], want[32];
		int kn = snprintf(key, sizeof key, "ack:%d", i);
		snprintf(want, sizeof want, "value-%d", i);
		bool found = false;
		void *v = NULL;
		size_t vlen = 0;
		int rc =
		    cw_get(c, key, (size_t)kn, &found, &v, &vlen, 5000, &err);
		if (rc != CW_OK || !found || vlen != strlen(want) ||
		    memcmp(v, want, vlen) != 0)
			fail_msg("acknowledged write %s lost: %s found=%d", key,
			    rc == CW_OK ? "ok" : err.message, found);
		cw_free(v);
		checked++;
	}
	assert_int_equal(checked, acked);
	print_message(
	    "%d writes acknowledged and found, %d refused\n", acked, refused);
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

/* The daemon killed and started again under a running client: calls in
 * flight end by their deadlines with UNAVAILABLE or DEADLINE_EXCEEDED and
 * a message, calls while it is down fail the same way, and the client
 * reconnects by itself once it is back - twice over, then once with no
 * call in flight. */
static void daemon_restarted_under_client(void **state)
{
	fixture *f = *state;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;

	own_daemon(f, NULL, &d, &c, false);
	for (int round = 0; round < 2; round++) {
		load l = {.c = c};
		for (int i = 0; i < 32; i++)
			issue(&l);
		cw_test_sleep_ms(200);
		cw_test_daemon_kill(&d);
		atomic_store(&l.stop, 1);
		long long t0 = now_ms();
		while (atomic_load(&l.inflight) > 0 &&
		       now_ms() - t0 < 3000 + SLACK_MS)
			cw_test_sleep_ms(10);
		assert_int_equal(atomic_load(&l.inflight), 0);
		assert_true(atomic_load(&l.by_status[CW_OK]) > 0);
		int failed = atomic_load(&l.by_status[CW_UNAVAILABLE]) +
		             atomic_load(&l.by_status[CW_DEADLINE_EXCEEDED]);
		assert_int_equal(atomic_load(&l.by_status[CW_OK]) + failed,
		    (int)atomic_load(&l.issued));
		assert_int_equal(atomic_load(&l.silent), 0);

		/* Down: a call ends by its deadline, saying why. (UNAVAILABLE
		 * "no connection", or DEADLINE_EXCEEDED once nng 1.5.2 no
		 * longer reports broken connections: see client.c.) */
		t0 = now_ms();
		int rc = cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 300, &err);
		assert_true(now_ms() - t0 < 300 + SLACK_MS);
		if (rc != CW_UNAVAILABLE && rc != CW_DEADLINE_EXCEEDED)
			fail_msg(
			    "while down: %s: %s", cw_strerror(rc), err.message);
		assert_non_null(strstr(err.message, d.tcp_url));

		/* Back on the same address: the client finds it by itself
		 * (its reconnect interval is at most 2 s). */
		assert_int_equal(cw_test_daemon_restart(&d, f->url, NULL), 0);
		long long took = ms_until_ok(c, 6000);
		assert_true(took >= 0);
		assert_true(took < 2000 + 1000 + SLACK_MS);
	}
	/* Once more with no call in flight when it dies: nothing but the
	 * next calls can tell the client (see client.c). */
	cw_test_daemon_kill(&d);
	assert_int_equal(cw_test_daemon_restart(&d, f->url, NULL), 0);
	long long took = ms_until_ok(c, 8000);
	assert_true(took >= 0);
	assert_true(took < 2000 + 2000 + SLACK_MS);
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

int main(void)
{
	const char *slack = getenv("CW_TEST_SLACK_MS");
	if (slack != NULL && atoi(slack) > 0)
		slack_ms = atoi(slack);
	const struct CMUnitTest cases[] = {
	    cmocka_unit_test(redis_killed_under_load),
	    cmocka_unit_test(redis_stalled_then_resumed),
	    cmocka_unit_test(overload_is_refused_at_once),
	    cmocka_unit_test(stop_answers_in_flight_and_refuses_new),
	    cmocka_unit_test(drain_timeout_ends_what_is_left),
	    cmocka_unit_test(daemon_restarted_under_client),
	    cmocka_unit_test(no_acknowledged_write_lost_on_stop),
	};
	int failed = cmocka_run_group_tests_name(
	    "Redis faults under cachewired", cases, setup, teardown);
	return cw_test_exit(failed);
}
