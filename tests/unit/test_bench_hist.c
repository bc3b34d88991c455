/*
 * test_bench_hist.c - the benchmark's latency histogram: every value falls in a
 * bucket that holds it, buckets are at most 1/128 wide, percentiles of
 * known distributions, merge, and the edges (empty, huge values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hist.h"

static void buckets_hold_their_values(void **state)
{
	uint64_t v, lo, hi;
	unsigned i, prev = 0;

	(void)state;
	for (v = 0; v < HIST_MAX_NS; v = v < 1000 ? v + 1 : v + v / 97 + 1) {
		i = hist_index(v);
		assert_true(i < HIST_BUCKETS);
		assert_true(i >= prev); /* monotonic */
		prev = i;
		hist_bucket_range(i, &lo, &hi);
		assert_true(lo <= v && v <= hi);
		/* at most 1/128 of the values it holds wide */
		assert_true((hi - lo + 1) * 128 <= lo || hi == lo);
	}
	assert_int_equal(hist_index(HIST_MAX_NS), HIST_BUCKETS - 1);
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void bucket_edges_are_contiguous(void **state)
{
	uint64_t lo, hi, next_lo, next_hi;
	unsigned i;

	(void)state;
	for (i = 0; i + 1 < HIST_BUCKETS; i++) {
		hist_bucket_range(i, &lo, &hi);
		hist_bucket_range(i + 1, &next_lo, &next_hi);
		assert_int_equal(hi + 1, next_lo);
		assert_int_equal(hist_index(lo), i);
		assert_int_equal(hist_index(hi), i);
	}
}

static void percentiles_of_a_uniform_spread(void **state)
{
	hist *h = hist_alloc();
	uint64_t v, p;

	(void)state;
	assert_non_null(h);
	/* 1 us .. 100 ms in 1 us steps */
	for (v = 1; v <= 100000; v++)
		hist_record(h, v * 1000);
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, 1000);
	assert_int_equal(h->max, 100000000);
	p = hist_percentile(h, 0.5);
	assert_true(p >= 50000000 && p <= 50000000 + 50000000 / 128);
	p = hist_percentile(h, 0.99);
	assert_true(p >= 99000000 && p <= 99000000 + 99000000 / 128);
	p = hist_percentile(h, 0.999);
	assert_true(p >= 99900000 && p <= 100000000);
	assert_int_equal(hist_percentile(h, 1.0), 100000000);
	p = hist_percentile(h, 0.0); /* the top of min's bucket */
	assert_true(p >= 1000 && p <= 1000 + 1000 / 128);
	assert_true(hist_mean(h) > 50000000.0 && hist_mean(h) < 50001000.0);
	hist_free(h);
}

static void percentiles_are_ordered_and_exact_for_one_value(void **state)
{
	hist *h = hist_alloc();

	(void)state;
	assert_int_equal(hist_percentile(h, 0.5), 0); /* empty */
	assert_true(hist_mean(h) == 0.0);
	hist_record(h, 123456);
	assert_int_equal(hist_percentile(h, 0.5), 123456);
	assert_int_equal(hist_percentile(h, 0.999), 123456);
	hist_free(h);
}

static void merge_adds_counts(void **state)
{
	hist *a = hist_alloc(), *b = hist_alloc();
	unsigned i;

	(void)state;
	for (i = 0; i < 1000; i++)
		hist_record(a, 2000);
	for (i = 0; i < 3000; i++)
		hist_record(b, 9000000);
	hist_merge(a, b);
	assert_int_equal(a->count, 4000);
	assert_int_equal(a->min, 2000);
	assert_int_equal(a->max, 9000000);
	assert_true(hist_percentile(a, 0.25) < 2000 + 2000 / 128 + 1);
	assert_true(hist_percentile(a, 0.26) >= 9000000 - 9000000 / 128);
	hist_reset(b);
	assert_int_equal(b->count, 0);
	hist_merge(a, b); /* empty: no change */
	assert_int_equal(a->count, 4000);
	hist_free(a);
	hist_free(b);
}

static void huge_values_land_in_the_last_bucket(void **state)
{
	hist *h = hist_alloc();

	(void)state;
	hist_record(h, UINT64_C(1) << 50);
	assert_int_equal(h->buckets[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist_percentile(h, 0.5), UINT64_C(1) << 50);
	hist_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(buckets_hold_their_values),
	    cmocka_unit_test(bucket_edges_are_contiguous),
	    cmocka_unit_test(percentiles_of_a_uniform_spread),
	    cmocka_unit_test(percentiles_are_ordered_and_exact_for_one_value),
	    cmocka_unit_test(merge_adds_counts),
	    cmocka_unit_test(huge_values_land_in_the_last_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
