/*
 * config_cases.h - what the test_config_*.c files share: a fixture holding
 * the defaults, parsing a string as "t.yaml", and a tally for tables of
 * cases that runs every case and then fails naming the first that failed.
 */
#ifndef CW_TESTS_CONFIG_CASES_H
#define CW_TESTS_CONFIG_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define MIB ((size_t)1 << 20)

/* *state is a cw_config holding the defaults. */
static inline int setup(void **state)
{
	cw_config *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(cw_config_defaults(c), 0);
	*state = c;
	return 0;
}

static inline int teardown(void **state)
{
	cw_config_free(*state);
	free(*state);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Parse text as "t.yaml" into c. */
static inline int parse(cw_config *c, const char *text, char *err, size_t len)
{
	err[0] = '\0';
	return cw_config_parse_yaml(c, "t.yaml", text, strlen(text), err, len);
}

/*
 * A table's loop calls case_tally_add for each case (which printed its own
 * details when it failed), then case_tally_check: every case runs, and the
 * test fails naming the first one that failed.
 */
typedef struct case_tally {
	size_t run, failed;
	const char *first_failed;
} case_tally;

static inline void case_tally_add(case_tally *t, const char *name, bool ok)
{
	t->run++;
	if (!ok && t->failed++ == 0)
		t->first_failed = name;
}

static inline void case_tally_check(const case_tally *t)
{
	if (t->failed)
		fail_msg("%zu of %zu cases failed, the first \"%s\"", t->failed,
		    t->run, t->first_failed);
}

#endif
