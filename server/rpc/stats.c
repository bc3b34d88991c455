/* stats.c - the rpc server's counters (stats.h). */
#include <stdatomic.h>
#include <stdlib.h>

#include "stats.h"

const double cw_stats_bounds_s[CW_STATS_BUCKETS] = {0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* The same bounds in nanoseconds, for the hot path. */
static const uint64_t bounds_ns[CW_STATS_BUCKETS] = {100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000};

typedef struct counters {
	atomic_uint_fast64_t codes[CW_STATS_CODES];
	atomic_uint_fast64_t buckets[CW_STATS_BUCKETS + 1];
	atomic_uint_fast64_t sum_ns;
} counters;

struct cw_rpc_stats {
	int methods;
	atomic_uint_fast64_t in, out;
	counters per[]; /* methods, then the unknown method */
};

#define ADD(a, v) atomic_fetch_add_explicit(&(a), (v), memory_order_relaxed)
#define GET(a)    atomic_load_explicit(&(a), memory_order_relaxed)

cw_rpc_stats *cw_rpc_stats_new(int methods)
{
	if (methods < 0)
		return NULL;
	cw_rpc_stats *s =
	    calloc(1, sizeof *s + (size_t)(methods + 1) * sizeof(counters));
	if (s != NULL)
		s->methods = methods;
	return s; /* all zero: calloc'd atomics are valid zeros on Linux */
}

void cw_rpc_stats_free(cw_rpc_stats *s)
{
	free(s);
}

static counters *slot(const cw_rpc_stats *s, int method)
{
	return (counters *)&s
	    ->per[method >= 0 && method < s->methods ? method : s->methods];
}

void cw_rpc_stats_record(cw_rpc_stats *s, int method, int code, uint64_t ns)
{
	counters *c = slot(s, method);
	int b = 0;

	while (b < CW_STATS_BUCKETS && ns > bounds_ns[b])
		b++;
	if (code < 0 || code >= CW_STATS_CODES)
		code = 2; /* CW_UNKNOWN */
	ADD(c->codes[code], 1);
	ADD(c->buckets[b], 1);
	ADD(c->sum_ns, ns);
}

void cw_rpc_stats_bytes(cw_rpc_stats *s, size_t in, size_t out)
{
	if (in > 0)
		ADD(s->in, in);
	if (out > 0)
		ADD(s->out, out);
}

void cw_rpc_stats_read(const cw_rpc_stats *s, int method, cw_method_stats *out)
{
	const counters *c = slot(s, method);

	*out = (cw_method_stats){.sum_ns = GET(c->sum_ns)};
	for (int i = 0; i < CW_STATS_CODES; i++)
		out->codes[i] = GET(c->codes[i]);
	for (int i = 0; i <= CW_STATS_BUCKETS; i++) {
		out->buckets[i] = GET(c->buckets[i]);
		out->count += out->buckets[i];
	}
}

void cw_rpc_stats_read_bytes(const cw_rpc_stats *s, uint64_t *in, uint64_t *out)
{
	*in = GET(s->in);
	*out = GET(s->out);
}
