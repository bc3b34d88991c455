/*
 * hist.c - the log-linear latency histogram of hist.h.
 *
 * Bucketing: a value v < 256 is its own bucket. Otherwise let m be the
 * index of v's highest set bit (m >= 8) and shift = m - 7: the bucket is
 * (v >> shift), one of 128 sub-buckets [128, 255] of the power of two 2^m,
 * each 2^shift wide, i.e. at most 1/128 of the values it holds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define LINEAR (1u << (HIST_SUB_BITS + 1)) /* 256 */
#define HALF   (1u << HIST_SUB_BITS)       /* 128 */

hist *hist_alloc(void)
{
	hist *h = malloc(sizeof(*h));

	if (h != NULL)
		hist_reset(h);
	return h;
}

void hist_free(hist *h)
{
	free(h);
}

void hist_reset(hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned hist_index(uint64_t ns)
{
	unsigned msb, shift;

	if (ns > HIST_MAX_NS)
		ns = HIST_MAX_NS;
	if (ns < LINEAR)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	shift = msb - HIST_SUB_BITS;
	return LINEAR + (shift - 1) * HALF + (unsigned)((ns >> shift) - HALF);
}

void hist_bucket_range(unsigned index, uint64_t *lo, uint64_t *hi)
{
	unsigned k, shift;

	if (index < LINEAR) {
		*lo = *hi = index;
		return;
	}
	k = index - LINEAR;
	shift = k / HALF + 1;
	*lo = (uint64_t)(HALF + k % HALF) << shift;
	*hi = *lo + (UINT64_C(1) << shift) - 1;
}

void hist_record(hist *h, uint64_t ns)
{
	h->buckets[hist_index(ns)]++;
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void hist_merge(hist *dst, const hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	hist_bucket_range(i < HIST_BUCKETS ? i : HIST_BUCKETS - 1, &lo, &hi);
	if (hi > h->max)
		hi = h->max;
	if (hi < h->min)
		hi = h->min;
	return hi;
}

double hist_mean(const hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
