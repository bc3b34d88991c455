/*
 * stats.h - what the rpc server counts, for metrics: requests by method
 * and status, their latency as a histogram per method, bytes in and out.
 * Lock-free (relaxed atomics): recording costs a few atomic adds, and a
 * reader sees each counter exactly, though not all of them at one instant.
 */
#ifndef CW_RPC_STATS_H
#define CW_RPC_STATS_H

#include <stddef.h>
#include <stdint.h>

#define CW_STATS_CODES   17 /* status codes 0..16 (cachewire/status.h) */
#define CW_STATS_BUCKETS 16

/* Upper bounds of the latency buckets, in seconds, ascending; a last
 * bucket (+Inf) holds the rest. */
extern const double cw_stats_bounds_s[CW_STATS_BUCKETS];

typedef struct cw_method_stats {
	uint64_t codes[CW_STATS_CODES];         /* requests answered, by code */
	uint64_t buckets[CW_STATS_BUCKETS + 1]; /* by latency, not cumulative */
	uint64_t count;                         /* requests answered */
	uint64_t sum_ns;                        /* their total latency */
} cw_method_stats;

typedef struct cw_rpc_stats cw_rpc_stats;

/* Counters for `methods` methods plus one for requests whose method was
 * never known (index -1). NULL when out of memory. */
cw_rpc_stats *cw_rpc_stats_new(int methods);
void cw_rpc_stats_free(cw_rpc_stats *s);

/* A request of method (-1: unknown) was answered with code after ns. */
void cw_rpc_stats_record(cw_rpc_stats *s, int method, int code, uint64_t ns);
/* in bytes of request arrived; out bytes of reply were handed to nng. */
void cw_rpc_stats_bytes(cw_rpc_stats *s, size_t in, size_t out);

/* A copy of method's counters (-1: unknown). */
void cw_rpc_stats_read(const cw_rpc_stats *s, int method, cw_method_stats *out);
void cw_rpc_stats_read_bytes(
    const cw_rpc_stats *s, uint64_t *in, uint64_t *out);

#endif
