/*
 * test_coalesce.c - the C client's coalescing (many calls in one message)
 * against a real cachewired and Redis:
 * - interleaving: 16 threads share one client: mixed Set/Get/Delete/
 *   GetMany, random deadlines, some calls invalid; their Gets go through
 *   the blocking call, the generated stub or the async call (a third of
 *   the threads each). Every call gets its own reply: checked
 *   by value (each thread's keys hold values only it writes), status by
 *   status; and batches really were sent (the server's
 *   cachewire_nng_batches_total grew);
 * - the same load with coalescing off sends no batch;
 * - calls that fit a server's message limit each but not all together
 *   (the client's own limit being larger): every batch stays under the
 *   server's limit, which the client learned from its Ping, and all
 *   succeed;
 * - deadlines, with Redis stopped: a queued call and a call in a batch
 *   in flight each end DEADLINE_EXCEEDED by their own deadline, not
 *   earlier and not late, and the call beside them is answered once
 *   Redis is back;
 * - a server SIGKILLed under that load: every call ends by its own
 *   deadline (plus slack) or with UNAVAILABLE, none hangs, and the client
 *   works again once the server is back.
 */
#include <pthread.h>
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

#include <cmocka.h>

#include <cachewire/cachewire.h>

#include "cachewire/v1/cache.pb-c.h"

#include "servers.h"

#define THREADS 16
#define CALLS   400
#define SLACK_MS                                                               \
	(getenv("CW_TEST_SLACK_MS") ? atoi(getenv("CW_TEST_SLACK_MS")) : 700)

typedef struct fixture {
	cw_test_redis redis;
	cw_test_daemon daemon;
} fixture;

static int setup(void **state)
{
	static fixture f;
	if (cw_test_redis_start(&f.redis, NULL, false, NULL) != 0)
		return -1;
	const char *env[] = {"CACHEWIRE_LOG_LEVEL=info", NULL};
	if (cw_test_daemon_start(&f.daemon, f.redis.url, env) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int status = cw_test_daemon_stop(&f->daemon);
	cw_test_redis_stop(&f->redis, false);
	return status == 0 ? 0 : -1;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A metric's value from a daemon's admin endpoint. */
static double metric_of(const cw_test_daemon *d, const char *name)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "curl -s %s/metrics", d->admin_url);
	FILE *p = popen(cmd, "r");
	char line[512];
	double v = -1;
	while (p != NULL && fgets(line, sizeof line, p) != NULL)
		if (strncmp(line, name, strlen(name)) == 0 &&
		    line[strlen(name)] == ' ')
			v = atof(line + strlen(name) + 1);
	if (p != NULL)
		pclose(p);
	return v;
}

static double metric(const fixture *f, const char *name)
{
	return metric_of(&f->daemon, name);
}

typedef struct worker {
	cw_client *c;
	int id;
	bool server_dies; /* failures allowed: UNAVAILABLE or by deadline */
	unsigned seed;
	int ok, failed, wrong, late;
	char first_wrong[256];
	int set_failed_key[CALLS]; /* the key a failed set i wrote, or -1 */
} worker;

static void wrong(worker *w, const char *fmt, ...)
{
	va_list ap;
	if (w->wrong++ == 0) {
		va_start(ap, fmt);
		vsnprintf(w->first_wrong, sizeof w->first_wrong, fmt, ap);
		va_end(ap);
	}
}

/* A failure is fine when the server dies (UNAVAILABLE, or its deadline),
 * or for a deadline of a few ms; it must never come late. */
static void failed(worker *w, int rc, int tmo, long long took, const char *what)
{
	w->failed++;
	if (took > tmo + SLACK_MS)
		w->late++;
	if (rc == CW_DEADLINE_EXCEEDED && (tmo < 1000 || w->server_dies))
		return;
	if (rc == CW_UNAVAILABLE && w->server_dies)
		return;
	wrong(w, "%s: %s (timeout %d ms)", what, cw_strerror(rc), tmo);
}

/* A Get through the generated stub (the client's default timeout, 5 s):
 * CW_OK, or CW_UNAVAILABLE standing for any failure (a stub's closure
 * gets NULL and no more). */
typedef struct got {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, ok, found;
	int status;
	void *v;
	size_t vl;
} got;

static void keep_value(got *g, bool found, const void *v, size_t vl)
{
	g->found = found;
	if (found && (g->v = malloc(vl + 1)) != NULL) {
		memcpy(g->v, v, vl);
		((char *)g->v)[vl] = '\0';
		g->vl = vl;
	}
}

static void on_stub_get(const Cachewire__V1__GetResponse *r, void *arg)
{
	got *g = arg;
	g->done = true;
	g->ok = r != NULL;
	if (r != NULL)
		keep_value(g, r->found, r->value.data, r->value.len);
}

static int get_by_stub(cw_client *c, const char *key, got *g)
{
	Cachewire__V1__GetRequest in = CACHEWIRE__V1__GET_REQUEST__INIT;
	in.key.data = (uint8_t *)key;
	in.key.len = strlen(key);
	/* the closure runs before the stub returns */
	cachewire__v1__cache__get(cw_client_service(c), &in, on_stub_get, g);
	if (!g->done)
		return CW_INTERNAL;
	return g->ok ? CW_OK : CW_UNAVAILABLE;
}

/* A Get through the async call, waited for. */
static void on_async_get(void *arg, const cw_result *r)
{
	got *g = arg;
	pthread_mutex_lock(&g->mu);
	g->status = r->status;
	if (r->status == CW_OK)
		keep_value(g, r->found, r->value, r->value_len);
	g->done = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static int get_by_async(cw_client *c, const char *key, int tmo, got *g)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	int rc = cw_get_async(c, key, strlen(key), tmo, on_async_get, g);
	if (rc == CW_OK) {
		pthread_mutex_lock(&g->mu);
		while (!g->done)
			pthread_cond_wait(&g->cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
		rc = g->status;
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	return rc;
}

static void *work(void *arg)
{
	worker *w = arg;
	char key[64], val[64], got_key[64];
	cw_error err;

	for (int i = 0; i < CALLS; i++) {
		/* with the server gone each call waits out its timeout: a
		 * few such are enough */
		if (w->server_dies && w->failed >= 3)
			break;
		unsigned r = (unsigned)rand_r(&w->seed);
		/* a tenth of the calls with deadlines that a Redis stall
		 * (staller) outlasts, the rest with room to spare */
		int tmo = r % 10 == 0 ? 50 + (int)(r % 300) : 3000;
		int k = (int)(r / 7 % 8);
		snprintf(key, sizeof key, "t%d:k%d", w->id, k);
		snprintf(val, sizeof val, "v%d:%d:%u", w->id, i, r);
		long long t0 = now_ms();
		int rc;
		switch (r / 3 % 5) {
		case 0: { /* set, then get it back */
			rc = cw_set(w->c, key, strlen(key), val, strlen(val),
			    CW_NO_EXPIRY, tmo, &err);
			if (rc != CW_OK) {
				/* it may still be done, later */
				w->set_failed_key[i] = k;
				failed(w, rc, tmo, now_ms() - t0, "set");
				break;
			}
			bool found;
			void *v = NULL;
			size_t vl = 0;
			t0 = now_ms();
			rc = cw_get(w->c, key, strlen(key), &found, &v, &vl,
			    3000, &err);
			if (rc != CW_OK) {
				failed(w, rc, 3000, now_ms() - t0, "get");
				break;
			}
			int id = -1, j = -1;
			if (found &&
			    sscanf((char *)v, "v%d:%d:", &id, &j) == 2 &&
			    id == w->id && j >= 0 && j < i &&
			    w->set_failed_key[j] == k) {
				/* an earlier set that failed (its deadline)
				 * was done after all, after this one */
				w->ok++;
				cw_free(v);
				break;
			}
			/* only this thread writes its keys: a successful set
			 * reads back, unless the server died in between */
			if (!found || vl != strlen(val) ||
			    memcmp(v, val, vl) != 0) {
				if (!w->server_dies || found)
					wrong(w, "get %s: wanted %s, got %.*s",
					    key, val, found ? (int)vl : 4,
					    found ? (char *)v : "miss");
			} else {
				w->ok++;
			}
			cw_free(v);
			break;
		}
		case 1: { /* get: a value of this thread's key, or a miss */
			bool found = false;
			void *v = NULL;
			size_t vl = 0;
			got g = {.done = false};
			if (w->id % 3 == 0) {
				rc = cw_get(w->c, key, strlen(key), &found, &v,
				    &vl, tmo, &err);
			} else {
				if (w->id % 3 == 1) {
					/* the stub's timeout: the default */
					tmo = 5000;
					rc = get_by_stub(w->c, key, &g);
				} else {
					rc = get_by_async(w->c, key, tmo, &g);
				}
				found = g.found;
				v = g.v;
				vl = g.vl;
			}
			if (rc != CW_OK) {
				failed(w, rc, tmo, now_ms() - t0, "get");
				break;
			}
			snprintf(got_key, sizeof got_key, "v%d:", w->id);
			if (found && strncmp(v, got_key, strlen(got_key)) != 0)
				wrong(w, "get %s: another's value %.*s", key,
				    (int)vl, (char *)v);
			else
				w->ok++;
			cw_free(v);
			break;
		}
		case 2: /* invalid: an empty key */
			rc = cw_set(w->c, "", 0, val, strlen(val), CW_NO_EXPIRY,
			    tmo, &err);
			if (rc == CW_INVALID_ARGUMENT &&
			    strstr(err.message, "key is empty") != NULL)
				w->ok++;
			else if (rc != CW_INVALID_ARGUMENT)
				failed(w, rc, tmo, now_ms() - t0, "empty key");
			else
				wrong(w, "empty key: %s", err.message);
			break;
		case 3: { /* delete */
			bool existed;
			rc = cw_delete(
			    w->c, key, strlen(key), &existed, tmo, &err);
			if (rc != CW_OK)
				failed(w, rc, tmo, now_ms() - t0, "delete");
			else
				w->ok++;
			break;
		}
		default: { /* get_many of two of this thread's keys */
			char k2[64];
			snprintf(k2, sizeof k2, "t%d:k%d", w->id, (k + 1) % 8);
			cw_key keys[] = {{key, strlen(key)}, {k2, strlen(k2)}};
			cw_value vals[2];
			rc = cw_get_many(w->c, 2, keys, vals, tmo, &err);
			if (rc != CW_OK) {
				failed(w, rc, tmo, now_ms() - t0, "get_many");
				break;
			}
			snprintf(got_key, sizeof got_key, "v%d:", w->id);
			bool ok = true;
			for (int j = 0; j < 2; j++)
				if (vals[j].found &&
				    strncmp(vals[j].data, got_key,
				        strlen(got_key)) != 0)
					ok = false;
			if (ok)
				w->ok++;
			else
				wrong(w, "get_many: another's value");
			cw_values_free(vals, 2);
			break;
		}
		}
	}
	return NULL;
}

/* THREADS workers on one client; returns the sums. */
static void load(cw_client *c, bool dies, worker *sum)
{
	pthread_t t[THREADS];
	worker w[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){.c = c,
		    .id = i,
		    .server_dies = dies,
		    .seed = 1234u + (unsigned)i};
		for (int j = 0; j < CALLS; j++)
			w[i].set_failed_key[j] = -1;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	*sum = (worker){.first_wrong = ""};
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		sum->ok += w[i].ok;
		sum->failed += w[i].failed;
		sum->late += w[i].late;
		if (w[i].wrong > 0 && sum->wrong == 0)
			snprintf(sum->first_wrong, sizeof sum->first_wrong,
			    "%s", w[i].first_wrong);
		sum->wrong += w[i].wrong;
	}
}

/* Redis stopped for 400 ms, 100 ms into the load: the short deadlines
 * pass meanwhile, the others do not. */
static void *stall(void *arg)
{
	fixture *f = arg;
	cw_test_sleep_ms(100);
	kill(f->redis.pid, SIGSTOP);
	cw_test_sleep_ms(400);
	kill(f->redis.pid, SIGCONT);
	return NULL;
}

static void interleaved_calls_get_their_own_replies(void **state)
{
	fixture *f = *state;
	cw_client *c;
	cw_error err;
	worker sum;
	pthread_t staller;

	assert_int_equal(cw_open(&c, f->daemon.tcp_url, NULL, &err), CW_OK);
	double before = metric(f, "cachewire_nng_batches_total");
	double calls0 = metric(f, "cachewire_nng_batched_calls_total");
	assert_int_equal(pthread_create(&staller, NULL, stall, f), 0);
	load(c, false, &sum);
	pthread_join(staller, NULL);
	double after = metric(f, "cachewire_nng_batches_total");
	double calls = metric(f, "cachewire_nng_batched_calls_total") - calls0;
	printf("coalescing on: %d ok, %d failed, %d wrong; %.0f batches "
	       "carried %.0f calls\n",
	    sum.ok, sum.failed, sum.wrong, after - before, calls);
	if (sum.wrong > 0)
		fail_msg("%d wrong, the first: %s", sum.wrong, sum.first_wrong);
	assert_int_equal(sum.late, 0);
	assert_true(sum.ok > THREADS * CALLS / 2);
	assert_true(after > before); /* calls did travel together */
	assert_true(calls >= 2 * (after - before));
	cw_close(c);
}

static void coalescing_off_sends_no_batch(void **state)
{
	fixture *f = *state;
	cw_client *c;
	cw_error err;
	worker sum;
	cw_client_options o = {.no_coalescing = true};

	assert_int_equal(cw_open(&c, f->daemon.tcp_url, &o, &err), CW_OK);
	double before = metric(f, "cachewire_nng_batches_total");
	load(c, false, &sum);
	double after = metric(f, "cachewire_nng_batches_total");
	if (sum.wrong > 0)
		fail_msg("%d wrong, the first: %s", sum.wrong, sum.first_wrong);
	assert_int_equal(sum.late, 0);
	assert_true(after == before);
	cw_close(c);
}

typedef struct timed {
	long long t0;
	atomic_llong at; /* ms after t0 when it ended; -1 until then */
	atomic_int status;
} timed;

static void timed_done(void *arg, const cw_result *r)
{
	timed *t = arg;
	atomic_store(&t->status, r->status);
	atomic_store(&t->at, now_ms() - t->t0);
}

static void start_get(cw_client *c, timed *t, long long t0, int tmo)
{
	t->t0 = t0;
	atomic_store(&t->at, -1);
	atomic_store(&t->status, -1);
	assert_int_equal(cw_get_async(c, "k", 1, tmo, timed_done, t), CW_OK);
}

/* Wait (at most 10 s) for t to end; its status. */
static int ended(timed *t)
{
	for (int i = 0; i < 1000 && atomic_load(&t->at) < 0; i++)
		cw_test_sleep_ms(10);
	assert_true(atomic_load(&t->at) >= 0);
	return atomic_load(&t->status);
}

/* ended by its deadline of tmo ms: not before it, not late */
static void by_deadline(timed *t, int tmo, const char *what)
{
	int status = ended(t);
	long long at = atomic_load(&t->at);
	printf("%s: %s after %lld ms (deadline %d ms)\n", what,
	    cw_strerror(status), at, tmo);
	assert_int_equal(status, CW_DEADLINE_EXCEEDED);
	assert_true(at >= tmo - 2); /* nng's clock: ms, truncated */
	assert_true(at <= tmo + SLACK_MS);
}

static void each_call_keeps_its_deadline(void **state)
{
	fixture *f = *state;
	cw_client *c;
	cw_error err;

	assert_int_equal(cw_open(&c, f->daemon.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(
	    cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 3000, &err), CW_OK);
	/* calls that overlap: the client asks once whether the server
	 * takes batches, then sends them */
	timed warm[20];
	long long t0 = now_ms();
	for (int i = 0; i < 20; i++)
		start_get(c, &warm[i], t0, 3000);
	for (int i = 0; i < 20; i++)
		assert_int_equal(ended(&warm[i]), CW_OK);
	for (int i = 0; i < 20; i++)
		start_get(c, &warm[i], t0, 3000);
	for (int i = 0; i < 20; i++)
		assert_int_equal(ended(&warm[i]), CW_OK);

	/* Redis stopped: alone ends by its own message's deadline (200
	 * ms); in_queue waits behind it and ends in the queue (100 ms);
	 * then in_batch and answered go as one batch, in_batch ends while
	 * the batch is in flight (600 ms); answered is served once Redis is
	 * back (900 ms). */
	timed alone, in_queue, in_batch, answered;
	kill(f->redis.pid, SIGSTOP);
	t0 = now_ms();
	start_get(c, &alone, t0, 200);
	start_get(c, &in_queue, t0, 100);
	start_get(c, &in_batch, t0, 600);
	start_get(c, &answered, t0, 5000);
	by_deadline(&in_queue, 100, "queued");
	by_deadline(&alone, 200, "alone");
	by_deadline(&in_batch, 600, "in a batch");
	long long left = 900 - (now_ms() - t0);
	if (left > 0)
		cw_test_sleep_ms((int)left);
	assert_int_equal(atomic_load(&answered.at), -1); /* still waiting */
	kill(f->redis.pid, SIGCONT);
	assert_int_equal(ended(&answered), CW_OK);
	printf("beside them: OK after %lld ms\n", atomic_load(&answered.at));
	assert_true(atomic_load(&answered.at) >= 900);
	cw_close(c);
}

/* Calls each well under a server's message limit, which together would
 * not be: the client learns the server's limit (Ping) and keeps every
 * batch under it, so none is refused for its neighbours' size. */
typedef struct big_sets {
	cw_client *c;
	int id;
	atomic_int *ok;
} big_sets;

#define BIG_VALUE (48 * 1024)

static void *set_big(void *arg)
{
	big_sets *b = arg;
	static char value[BIG_VALUE];
	char key[32];
	cw_error err;

	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "big%d:%d", b->id, i);
		if (cw_set(b->c, key, strlen(key), value, sizeof value,
		        CW_NO_EXPIRY, 5000, &err) == CW_OK)
			atomic_fetch_add(b->ok, 1);
		else
			fprintf(stderr, "set %s: %s\n", key, err.message);
	}
	return NULL;
}

static void batches_stay_under_the_servers_limit(void **state)
{
	fixture *f = *state;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	const char *env[] = {"CACHEWIRE_SERVER_MAX_MESSAGE_BYTES=256KiB",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=128KiB", NULL};
	pthread_t t[THREADS];
	big_sets b[THREADS];
	atomic_int ok = 0;

	assert_int_equal(cw_test_daemon_start(&d, f->redis.url, env), 0);
	/* the client's own limit is the default, 33 MiB */
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	for (int i = 0; i < THREADS; i++) {
		b[i] = (big_sets){c, i, &ok};
		assert_int_equal(
		    pthread_create(&t[i], NULL, set_big, &b[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	double batches = metric_of(&d, "cachewire_nng_batches_total");
	double calls = metric_of(&d, "cachewire_nng_batched_calls_total");
	printf("48 KiB sets under a 256 KiB limit: %d of %d ok, %.0f batches "
	       "carried %.0f calls\n",
	    atomic_load(&ok), THREADS * 20, batches, calls);
	assert_int_equal(atomic_load(&ok), THREADS * 20);
	assert_true(batches > 0);          /* they did go together */
	assert_true(calls <= 5 * batches); /* 5 x 48 KiB fit, not 6 */
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

typedef struct killer {
	fixture *f;
	int after_ms;
} killer;

static void *kill_later(void *arg)
{
	killer *k = arg;
	cw_test_sleep_ms(k->after_ms);
	cw_test_daemon_kill(&k->f->daemon);
	return NULL;
}

static void server_killed_under_load(void **state)
{
	fixture *f = *state;
	cw_client *c;
	cw_error err;
	worker sum;
	pthread_t t;
	killer k = {f, 60};

	assert_int_equal(cw_open(&c, f->daemon.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
	long long t0 = now_ms();
	load(c, true, &sum);
	long long took = now_ms() - t0;
	pthread_join(t, NULL);
	printf("server killed: %d ok, %d failed (all UNAVAILABLE or by their "
	       "deadline), %d late, in %lld ms\n",
	    sum.ok, sum.failed, sum.late, took);
	if (sum.wrong > 0)
		fail_msg("%d wrong, the first: %s", sum.wrong, sum.first_wrong);
	assert_int_equal(sum.late, 0);
	assert_true(sum.failed > 0);
	/* back again: the same client works */
	assert_int_equal(
	    cw_test_daemon_restart(&f->daemon, f->redis.url,
	        (const char *const[]){"CACHEWIRE_LOG_LEVEL=info", NULL}),
	    0);
	int rc = CW_UNAVAILABLE;
	for (int i = 0; i < 100 && rc != CW_OK; i++) {
		rc = cw_ping(c, NULL, 1000, &err);
		if (rc != CW_OK)
			cw_test_sleep_ms(100);
	}
	assert_int_equal(rc, CW_OK);
	cw_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(interleaved_calls_get_their_own_replies),
	    cmocka_unit_test(coalescing_off_sends_no_batch),
	    cmocka_unit_test(each_call_keeps_its_deadline),
	    cmocka_unit_test(batches_stay_under_the_servers_limit),
	    cmocka_unit_test(server_killed_under_load),
	};
	/* CW_COALESCE_NO_KILL=1 (tests/valgrind.sh): all but the last;
	 * see valgrind.sh for why. */
	size_t n = sizeof tests / sizeof tests[0];
	if (getenv("CW_COALESCE_NO_KILL") != NULL) {
		printf("note: server_killed_under_load left out "
		       "(CW_COALESCE_NO_KILL); the plain and sanitize passes "
		       "run it\n");
		n--;
	}
	return cw_test_exit(_cmocka_run_group_tests(
	    "test_coalesce", tests, n, setup, teardown));
}
