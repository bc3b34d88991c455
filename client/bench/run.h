/*
 * run.h - one pass of the closed loop: who may issue the next operation,
 * warm-up then measurement, and waiting for the slots to finish.
 *
 * A driver sets r->slots, calls run_pass() with a start function that
 * launches every slot, and every slot then loops: run_claim() says whether
 * to issue another operation (and whether it counts), the slot issues it,
 * and once nothing is left it calls run_slot_done() exactly once. Claims
 * and completions may come from any thread.
 */
#ifndef CW_BENCH_RUN_H
#define CW_BENCH_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

enum claim {
	CLAIM_STOP = -1,   /* issue nothing more; finish what is in flight */
	CLAIM_WARMUP = 0,  /* issue an op that is not counted */
	CLAIM_MEASURE = 1, /* issue an op that is counted */
};

struct run {
	const struct bench_opts *o;
	const char *label; /* for the progress line */
	bool prepare;   /* sequential prepare pass: no warm-up, no counting */
	unsigned slots; /* how many will call run_slot_done() */
	/* internal */
	uint64_t budget; /* ops to claim in the measured phase; 0: by time */
	atomic_int phase;
	atomic_uint_fast64_t claimed;
	atomic_uint_fast64_t done; /* measured completions, for progress */
	int64_t t_start_ns;        /* measured phase */
	int64_t deadline_ns;       /* when by time */
	int64_t t_end_ns;          /* last slot done */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned active;
	uint64_t rss_peak_kib;
};

/* Monotonic clock in ns. */
int64_t now_ns(void);

/*
 * Initialise r for a pass of o's workload (prepare: the sequential prepare
 * pass over all keys). Returns 0 or -1. run_destroy() releases it.
 */
int run_init(struct run *r, const struct bench_opts *o, const char *label,
    bool prepare, unsigned slots);
void run_destroy(struct run *r);

/* May the caller issue another op? In a prepare pass *seq gets the op's
 * sequence number. */
enum claim run_claim(struct run *r, uint64_t *seq);

/* Count a measured completion (for the progress line). */
void run_completed(struct run *r);

/* A slot has nothing in flight and will claim no more. */
void run_slot_done(struct run *r);

/* Stop claiming at once (e.g. a driver failed half-way). */
void run_stop(struct run *r);

/*
 * Start the pass: call start(ctx), which must launch all r->slots slots
 * (and call run_slot_done() itself for any it could not launch), run the
 * warm-up, switch to measuring, and wait until every slot is done, showing
 * progress and sampling the server's RSS. Returns start's result.
 */
int run_pass(struct run *r, int (*start)(void *ctx), void *ctx);

/* Seconds of the measured phase. */
double run_elapsed_s(const struct run *r);

#endif
