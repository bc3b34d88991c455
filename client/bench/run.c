/*
 * run.c - the closed loop's pass control (run.h): claims against an op
 * budget or a deadline, the warm-up switch, the wait for the slots, the
 * progress line and the server RSS samples.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

enum phase {
	PH_WARMUP,
	PH_MEASURE,
	PH_STOP,
};

#define NS_PER_S       INT64_C(1000000000)
#define PROGRESS_TICK  NS_PER_S
#define RSS_TICK       (NS_PER_S / 5)
#define PROGRESS_AFTER (3 * NS_PER_S) /* no progress line for short passes */

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int run_init(struct run *r, const struct bench_opts *o, const char *label,
    bool prepare, unsigned slots)
{
	pthread_condattr_t ca;

	r->o = o;
	r->label = label;
	r->prepare = prepare;
	r->slots = slots;
	r->budget = prepare ? o->keys : o->ops;
	atomic_init(
	    &r->phase, !prepare && o->warmup_s > 0 ? PH_WARMUP : PH_MEASURE);
	atomic_init(&r->claimed, 0);
	atomic_init(&r->done, 0);
	r->t_start_ns = r->deadline_ns = r->t_end_ns = 0;
	r->active = slots;
	r->rss_peak_kib = 0;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&r->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		pthread_cond_destroy(&r->cv);
		return -1;
	}
	return 0;
}

void run_destroy(struct run *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

enum claim run_claim(struct run *r, uint64_t *seq)
{
	int ph = atomic_load_explicit(&r->phase, memory_order_acquire);
	uint64_t n;

	if (ph == PH_WARMUP)
		return CLAIM_WARMUP;
	if (ph == PH_STOP)
		return CLAIM_STOP;
	if (r->budget > 0) {
		n = atomic_fetch_add_explicit(
		    &r->claimed, 1, memory_order_relaxed);
		if (n >= r->budget)
			return CLAIM_STOP;
		if (seq != NULL)
			*seq = n;
		return CLAIM_MEASURE;
	}
	if (now_ns() >= r->deadline_ns)
		return CLAIM_STOP;
	return CLAIM_MEASURE;
}

void run_completed(struct run *r)
{
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
}

void run_slot_done(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->active > 0 && --r->active == 0) {
		r->t_end_ns = now_ns();
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

void run_stop(struct run *r)
{
	atomic_store_explicit(&r->phase, PH_STOP, memory_order_release);
}

/* Begin the measured phase at t (the mutex is held or no slot runs). */
static void begin_measure(struct run *r, int64_t t)
{
	int expected = PH_WARMUP;

	r->t_start_ns = t;
	r->deadline_ns = t + (int64_t)(r->o->duration_s * (double)NS_PER_S);
	/* Not when a failed start already stopped the pass. */
	atomic_compare_exchange_strong_explicit(&r->phase, &expected,
	    PH_MEASURE, memory_order_release, memory_order_relaxed);
}

static void sample_rss(struct run *r)
{
	uint64_t rss, hwm;
	char err[64];

	if (r->o->server_pid <= 0 || r->prepare)
		return;
	if (read_proc_mem(r->o->server_pid, &rss, &hwm, err, sizeof(err)) ==
	        0 &&
	    rss > r->rss_peak_kib)
		r->rss_peak_kib = rss;
}

static void timespec_at(struct timespec *ts, int64_t t)
{
	ts->tv_sec = (time_t)(t / NS_PER_S);
	ts->tv_nsec = (long)(t % NS_PER_S);
}

int run_pass(struct run *r, int (*start)(void *ctx), void *ctx)
{
	const struct bench_opts *o = r->o;
	bool show =
	    o->progress || (!o->quiet && !o->json && isatty(STDERR_FILENO));
	bool shown = false;
	int64_t t0 = now_ns(), warm_end, next_progress, next_rss, wake, t;
	int64_t last_t = t0;
	uint64_t last_done = 0, done;
	struct timespec ts;
	int rc;

	warm_end = t0 + (int64_t)(o->warmup_s * (double)NS_PER_S);
	if (atomic_load(&r->phase) == PH_MEASURE)
		begin_measure(r, t0);
	rc = start(ctx);
	if (rc != 0)
		run_stop(r);

	next_progress = t0 + PROGRESS_AFTER;
	next_rss = t0;
	pthread_mutex_lock(&r->mu);
	while (r->active > 0) {
		t = now_ns();
		if (atomic_load(&r->phase) == PH_WARMUP && t >= warm_end)
			begin_measure(r, t);
		if (t >= next_rss) {
			sample_rss(r);
			next_rss = t + RSS_TICK;
		}
		if (show && t >= next_progress) {
			done = atomic_load(&r->done);
			fprintf(stderr,
			    "\r%s: %5.1f s, %llu ops, %.0f ops/s   ", r->label,
			    (double)(t - t0) / (double)NS_PER_S,
			    (unsigned long long)done,
			    (double)(done - last_done) * (double)NS_PER_S /
			        (double)(t - last_t));
			fflush(stderr);
			last_done = done;
			last_t = t;
			shown = true;
			next_progress = t + PROGRESS_TICK;
		}
		wake = next_rss;
		if (show && next_progress < wake)
			wake = next_progress;
		if (atomic_load(&r->phase) == PH_WARMUP && warm_end < wake)
			wake = warm_end;
		if (o->server_pid <= 0 && !show &&
		    atomic_load(&r->phase) != PH_WARMUP)
			wake = t + 10 * NS_PER_S; /* nothing to do but wait */
		timespec_at(&ts, wake);
		while (r->active > 0 &&
		       pthread_cond_timedwait(&r->cv, &r->mu, &ts) == EINTR)
			;
	}
	pthread_mutex_unlock(&r->mu);
	sample_rss(r);
	if (shown)
		fputs(isatty(STDERR_FILENO) ? "\r\033[K" : "\n", stderr);
	return rc;
}

double run_elapsed_s(const struct run *r)
{
	if (r->t_start_ns == 0 || r->t_end_ns <= r->t_start_ns)
		return 0;
	return (double)(r->t_end_ns - r->t_start_ns) / (double)NS_PER_S;
}
