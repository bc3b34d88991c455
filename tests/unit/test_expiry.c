/*
 * test_expiry.c - cw_expiry_plan() and cw_now_ms(): every branch, with
 * exact actions and arguments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"

#define NOW ((uint64_t)1700000000000) /* 2023-11-14, in Unix ms */

/* Sentinels: a failing plan must leave the outputs alone. */
#define UNSET_ACTION ((enum cw_expiry_action)99)
#define UNSET_ARG    ((uint64_t)0xdeadbeef)

typedef struct plan {
	int rc;
	enum cw_expiry_action action;
	uint64_t arg;
	cw_error err;
} plan;

static plan run(cw_expiry e, uint64_t now)
{
	plan p = {.action = UNSET_ACTION, .arg = UNSET_ARG};

	memset(&p.err, 0, sizeof p.err);
	p.rc = cw_expiry_plan(e, now, &p.action, &p.arg, &p.err);
	return p;
}

static void expect_ok(plan p, enum cw_expiry_action action, uint64_t arg)
{
	assert_int_equal(p.rc, CW_OK);
	assert_int_equal(p.action, action);
	assert_int_equal(p.arg, arg);
}

static void expect_invalid(plan p, const char *fragment)
{
	assert_int_equal(p.rc, CW_INVALID_ARGUMENT);
	assert_int_equal(p.err.code, CW_INVALID_ARGUMENT);
	assert_non_null(strstr(p.err.message, fragment));
	assert_int_equal(p.action, UNSET_ACTION);
	assert_int_equal(p.arg, UNSET_ARG);
}

static void test_none_keeps(void **state)
{
	(void)state;
	expect_ok(run(CW_NO_EXPIRY, NOW), CW_EXPIRY_KEEP, 0);
	/* NONE ignores ms, whatever it holds. */
	expect_ok(
	    run((cw_expiry){CW_EXPIRY_NONE, 1234}, NOW), CW_EXPIRY_KEEP, 0);
	expect_ok(run((cw_expiry){CW_EXPIRY_NONE, UINT64_MAX}, NOW),
	    CW_EXPIRY_KEEP, 0);
}

static void test_zero_ms_keeps(void **state)
{
	(void)state;
	expect_ok(run(CW_TTL_MS(0), NOW), CW_EXPIRY_KEEP, 0);
	expect_ok(run(CW_EXPIRE_AT_MS(0), NOW), CW_EXPIRY_KEEP, 0);
}

static void test_ttl_is_px(void **state)
{
	(void)state;
	expect_ok(run(CW_TTL_MS(1), NOW), CW_EXPIRY_PX, 1);
	expect_ok(run(CW_TTL_MS(1500), NOW), CW_EXPIRY_PX, 1500);
	/* A TTL does not depend on the clock. */
	expect_ok(run(CW_TTL_MS(1500), 0), CW_EXPIRY_PX, 1500);
	expect_ok(run(CW_TTL_MS(CW_EXPIRY_MAX_MS), NOW), CW_EXPIRY_PX,
	    CW_EXPIRY_MAX_MS);
}

static void test_at_future_is_pxat(void **state)
{
	(void)state;
	expect_ok(run(CW_EXPIRE_AT_MS(NOW + 1), NOW), CW_EXPIRY_PXAT, NOW + 1);
	expect_ok(run(CW_EXPIRE_AT_MS(NOW + 60000), NOW), CW_EXPIRY_PXAT,
	    NOW + 60000);
	expect_ok(run(CW_EXPIRE_AT_MS(CW_EXPIRY_MAX_MS), NOW), CW_EXPIRY_PXAT,
	    CW_EXPIRY_MAX_MS);
}

static void test_at_past_or_now_removes(void **state)
{
	(void)state;
	expect_ok(run(CW_EXPIRE_AT_MS(NOW), NOW), CW_EXPIRY_REMOVE, 0);
	expect_ok(run(CW_EXPIRE_AT_MS(NOW - 1), NOW), CW_EXPIRY_REMOVE, 0);
	expect_ok(run(CW_EXPIRE_AT_MS(1), NOW), CW_EXPIRY_REMOVE, 0);
}

static void test_too_large(void **state)
{
	(void)state;
	expect_invalid(run(CW_TTL_MS(CW_EXPIRY_MAX_MS + 1), NOW), "too large");
	expect_invalid(run(CW_TTL_MS(UINT64_MAX), NOW), "too large");
	expect_invalid(
	    run(CW_EXPIRE_AT_MS(CW_EXPIRY_MAX_MS + 1), NOW), "too large");
	/* Even when "now" is beyond it: the limit wins over "already past". */
	expect_invalid(
	    run(CW_EXPIRE_AT_MS(UINT64_MAX), UINT64_MAX), "too large");
}

static void test_unknown_kind(void **state)
{
	(void)state;
	expect_invalid(run((cw_expiry){(enum cw_expiry_kind)3, 10}, NOW),
	    "unknown expiry kind 3");
	expect_invalid(run((cw_expiry){(enum cw_expiry_kind) - 1, 0}, NOW),
	    "unknown expiry kind -1");
}

static void test_null_outputs_and_err(void **state)
{
	(void)state;
	/* NULL outputs and a NULL err must not crash. */
	assert_int_equal(
	    cw_expiry_plan(CW_TTL_MS(5), NOW, NULL, NULL, NULL), CW_OK);
	assert_int_equal(cw_expiry_plan((cw_expiry){(enum cw_expiry_kind)7, 1},
	                     NOW, NULL, NULL, NULL),
	    CW_INVALID_ARGUMENT);
}

static void test_now_ms_is_wall_clock(void **state)
{
	(void)state;
	uint64_t before = (uint64_t)time(NULL) * 1000;
	uint64_t now = cw_now_ms();
	uint64_t after = ((uint64_t)time(NULL) + 2) * 1000; /* coarse clock */

	assert_true(now >= before);
	assert_true(now < after);
	assert_true(cw_now_ms() >= now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_none_keeps),
	    cmocka_unit_test(test_zero_ms_keeps),
	    cmocka_unit_test(test_ttl_is_px),
	    cmocka_unit_test(test_at_future_is_pxat),
	    cmocka_unit_test(test_at_past_or_now_removes),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_unknown_kind),
	    cmocka_unit_test(test_null_outputs_and_err),
	    cmocka_unit_test(test_now_ms_is_wall_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
