/*
 * hist.h - a log-linear latency histogram (HDR-style) for cachewire-bench.
 *
 * Values are nanoseconds. Below 256 ns every value has its own bucket;
 * above, every power of two is split into 128 equal buckets, so a bucket is
 * at most 1/128 (0.8%) of its values wide, from 1 ns up to HIST_MAX_NS
 * (about 137 s). Larger values are counted in the last bucket; min, max,
 * count and sum are exact.
 *
 * A histogram is plain memory with no locking: give each thread (or each
 * closed-loop slot, whose operations never overlap) its own and merge them
 * once the writers are done. hist_alloc/hist_free; hist_reset clears.
 */
#ifndef CW_BENCH_HIST_H
#define CW_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7  /* 128 buckets per power of two */
#define HIST_MAX_BITS 37 /* 2^37 ns ~ 137 s */
/* 256 exact buckets, then 128 per power of two from 2^8 to 2^36. */
#define HIST_BUCKETS                                                           \
	((1u << (HIST_SUB_BITS + 1)) +                                         \
	    (HIST_MAX_BITS - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS))
#define HIST_MAX_NS ((UINT64_C(1) << HIST_MAX_BITS) - 1)

typedef struct hist {
	uint64_t count;
	uint64_t sum; /* ns */
	uint64_t min; /* ns; UINT64_MAX while empty */
	uint64_t max; /* ns */
	uint64_t buckets[HIST_BUCKETS];
} hist;

/* A zeroed histogram, or NULL when out of memory. Free with hist_free(). */
hist *hist_alloc(void);
void hist_free(hist *h);
void hist_reset(hist *h);

/* Count one value (ns). */
void hist_record(hist *h, uint64_t ns);

/* Add every count of src to dst. */
void hist_merge(hist *dst, const hist *src);

/*
 * The value (ns) at or below which a fraction q (0..1) of the values lie:
 * the highest value of the bucket that holds the q-th value, but never above
 * the exact max. 0 for an empty histogram.
 */
uint64_t hist_percentile(const hist *h, double q);

/* Mean in ns (exact: from the sum), 0 when empty. */
double hist_mean(const hist *h);

/* Bucket index of a value and the range [lo, hi] of values in a bucket,
 * exposed for the tests of the bucketing. */
unsigned hist_index(uint64_t ns);
void hist_bucket_range(unsigned index, uint64_t *lo, uint64_t *hi);

#endif
