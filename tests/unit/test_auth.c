/*
 * test_auth.c - checking requests (server/rpc/auth.c, declared in auth.h):
 * cw_auth_check with and without tokens, cw_auth_new's errors, and the
 * check across a replace and from several threads at once. Token files
 * themselves are test_tokens.c's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_cases.h"

/* check() must fail with code and exactly message, leaving out alone. */
static void check_fails(cw_auth *a, const char *token, const char *ns, int code,
    const char *message)
{
	char out[CW_NAMESPACE_MAX + 1] = "untouched";
	cw_error err;
	int rc = check(a, token, ns, out, &err);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.message, message);
	assert_string_equal(out, "untouched");
	assert_false(leaks(err.message, token));
}

static cw_auth *new_auth(const char *doc, const char *default_ns)
{
	cw_auth *a = NULL;
	cw_error err = {0};
	int rc =
	    cw_auth_new(&a, doc ? must_parse(doc) : NULL, default_ns, &err);
	if (rc != CW_OK)
		fail_msg("cw_auth_new: %s", err.message);
	return a;
}

/* ---- the check ----------------------------------------------------------- */

#define NOT_ALLOWED(q) "namespace " q " is not allowed for this token"

static void test_check_tokens(void **state)
{
	(void)state;
	cw_auth *a = new_auth(good_doc, "cachewire");
	cw_error err;
	char out[CW_NAMESPACE_MAX + 1];

	/* Who. */
	check_fails(a, NULL, "tenant-a", CW_UNAUTHENTICATED,
	    "this server requires a bearer token (auth_token)");
	check_fails(a, "", "", CW_UNAUTHENTICATED,
	    "this server requires a bearer token (auth_token)");
	check_fails(a, "wrong-token-0123456789", "tenant-a", CW_UNAUTHENTICATED,
	    "the bearer token is not valid");
	/* A prefix, an extension, one byte changed, the wrong case. */
	check_fails(a, "s3cr3t-token-of-at-least-16-char", "",
	    CW_UNAUTHENTICATED, "the bearer token is not valid");
	check_fails(a, TOK_A "s", "", CW_UNAUTHENTICATED,
	    "the bearer token is not valid");
	check_fails(
	    a, "s", "", CW_UNAUTHENTICATED, "the bearer token is not valid");
	check_fails(a, "s3cr3t-token-of-at-least-16-charS", "",
	    CW_UNAUTHENTICATED, "the bearer token is not valid");
	check_fails(a, "S3CR3T-TOKEN-OF-AT-LEAST-16-CHARS", "",
	    CW_UNAUTHENTICATED, "the bearer token is not valid");
	/* The right token with a NUL after it, or in it. */
	memset(&err, 0, sizeof err);
	assert_int_equal(cw_auth_check(a, (const uint8_t *)TOK_A, sizeof TOK_A,
	                     NULL, 0, out, &err),
	    CW_UNAUTHENTICATED);
	uint8_t nul[] = TOK_A;
	nul[3] = '\0';
	assert_int_equal(
	    cw_auth_check(a, nul, sizeof nul - 1, NULL, 0, out, &err),
	    CW_UNAUTHENTICATED);

	/* Where. */
	check_ok(a, TOK_A, "tenant-a", "tenant-a");
	check_ok(a, TOK_A, "shared", "shared");
	check_ok(a, TOK_A, "", "tenant-a");
	check_ok(a, TOK_A, NULL, "tenant-a");
	check_ok(a, TOK_B, "", "tenant-b");
	check_ok(a, TOK_B, "tenant-b", "tenant-b");
	check_fails(a, TOK_B, "tenant-a", CW_PERMISSION_DENIED,
	    NOT_ALLOWED("\"tenant-a\""));
	check_fails(a, TOK_A, "cachewire", CW_PERMISSION_DENIED,
	    NOT_ALLOWED("\"cachewire\""));
	check_fails(a, TOK_A, "tenant-", CW_PERMISSION_DENIED,
	    NOT_ALLOWED("\"tenant-\""));
	check_fails(a, TOK_A, "tenant-aa", CW_PERMISSION_DENIED,
	    NOT_ALLOWED("\"tenant-aa\""));
	check_fails(a, TOK_A, "Tenant-A", CW_PERMISSION_DENIED,
	    NOT_ALLOWED("\"Tenant-A\""));

	/* A namespace of any bytes is shown escaped, and cut. */
	static const uint8_t odd[] = {'t', 'e', 'n', 'a', 'n', 't', '-', 'a', 0,
	    '"', '\\', '\n', 0x7f, 0xff, 'z'};
	memset(&err, 0, sizeof err);
	strcpy(out, "untouched");
	assert_int_equal(cw_auth_check(a, (const uint8_t *)TOK_A, strlen(TOK_A),
	                     odd, sizeof odd, out, &err),
	    CW_PERMISSION_DENIED);
	assert_string_equal(err.message,
	    NOT_ALLOWED("\"tenant-a\\x00\\\"\\\\\\x0a\\x7f\\xffz\""));
	assert_string_equal(out, "untouched");
	uint8_t big[300];
	memset(big, 0x01, sizeof big);
	assert_int_equal(cw_auth_check(a, (const uint8_t *)TOK_A, strlen(TOK_A),
	                     big, sizeof big, out, &err),
	    CW_PERMISSION_DENIED);
	assert_string_equal(err.message,
	    NOT_ALLOWED("\"\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
	                "\\x01\\x01\\x01\\x01\\x01\\x01...\""));
	memset(big, 'n', sizeof big);
	assert_int_equal(cw_auth_check(a, (const uint8_t *)TOK_A, strlen(TOK_A),
	                     big, sizeof big, out, &err),
	    CW_PERMISSION_DENIED);
	assert_string_equal(err.message,
	    NOT_ALLOWED(
	        "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	        "nnnnnnnnnn...\""));
	/* err may be NULL. */
	assert_int_equal(
	    cw_auth_check(a, NULL, 0, NULL, 0, out, NULL), CW_UNAUTHENTICATED);
	cw_auth_free(a);
}

#define NOT_SERVED(q)                                                          \
	"namespace " q " is not served: this server has no auth.tokens_file, " \
	"so its only namespace is \"cachewire\""

static void test_check_without_tokens(void **state)
{
	(void)state;
	cw_auth *a = new_auth(NULL, "cachewire");
	assert_false(cw_auth_enabled(a));
	check_ok(a, NULL, NULL, "cachewire");
	check_ok(a, NULL, "", "cachewire");
	check_ok(a, NULL, "cachewire", "cachewire");
	check_ok(a, "any-token-at-all-is-ignored", "", "cachewire");
	check_ok(a, "x", "cachewire", "cachewire");
	check_fails(a, NULL, "tenant-a", CW_PERMISSION_DENIED,
	    NOT_SERVED("\"tenant-a\""));
	check_fails(a, TOK_A, "cachewir", CW_PERMISSION_DENIED,
	    NOT_SERVED("\"cachewir\""));
	check_fails(a, NULL, "cachewire2", CW_PERMISSION_DENIED,
	    NOT_SERVED("\"cachewire2\""));
	/* The longest message still fits, whole. */
	uint8_t big[200];
	memset(big, 0xee, sizeof big);
	cw_error err;
	char out[CW_NAMESPACE_MAX + 1];
	assert_int_equal(cw_auth_check(a, NULL, 0, big, sizeof big, out, &err),
	    CW_PERMISSION_DENIED);
	assert_string_equal(err.message,
	    NOT_SERVED("\"\\xee\\xee\\xee\\xee\\xee\\xee\\xee\\xee\\xee\\xee"
	               "\\xee\\xee\\xee\\xee\\xee\\xee...\""));
	cw_auth_free(a);

	/* The longest default namespace, in the longest message. */
	const char *ns64 =
	    "d123456789012345678901234567890123456789012345678901234567890123";
	a = new_auth(NULL, ns64);
	assert_int_equal(cw_auth_check(a, NULL, 0, big, sizeof big, out, &err),
	    CW_PERMISSION_DENIED);
	assert_non_null(strstr(err.message, ns64));
	assert_true(strlen(err.message) < sizeof err.message - 1);
	check_ok(a, NULL, ns64, ns64);
	cw_auth_free(a);
}

static void test_auth_new_errors(void **state)
{
	(void)state;
	cw_auth *a = NULL;
	cw_error err = {0};
	/* The tokens are freed on failure too (ASan would see a leak). */
	assert_int_equal(cw_auth_new(&a, must_parse(good_doc), "a b", &err),
	    CW_INVALID_ARGUMENT);
	assert_string_equal(err.message,
	    "the default namespace \"a b\" is not 1 to 64 characters from A-Z "
	    "a-z 0-9 _ . -");
	assert_null(a);
	assert_int_equal(cw_auth_new(&a, NULL, "", &err), CW_INVALID_ARGUMENT);
	assert_int_equal(
	    cw_auth_new(&a, NULL, NULL, &err), CW_INVALID_ARGUMENT);
	assert_int_equal(cw_auth_new(NULL, must_parse(good_doc), "x", &err),
	    CW_INVALID_ARGUMENT);
	assert_null(a);
	cw_auth_free(NULL);
}

static void test_replace(void **state)
{
	(void)state;
	cw_auth *a =
	    new_auth("- {token: " TOK_A ", namespaces: [a]}\n", "dflt");
	assert_true(cw_auth_enabled(a));
	check_ok(a, TOK_A, "", "a");
	check_fails(
	    a, TOK_B, "", CW_UNAUTHENTICATED, "the bearer token is not valid");

	/* A new set: the old token is refused, the new one accepted. */
	cw_auth_replace(
	    a, must_parse("- {token: " TOK_B ", namespaces: [b]}\n"));
	assert_true(cw_auth_enabled(a));
	check_fails(
	    a, TOK_A, "", CW_UNAUTHENTICATED, "the bearer token is not valid");
	check_ok(a, TOK_B, "", "b");
	check_fails(a, TOK_B, "a", CW_PERMISSION_DENIED, NOT_ALLOWED("\"a\""));

	/* NULL: authentication off, only the default namespace. */
	cw_auth_replace(a, NULL);
	assert_false(cw_auth_enabled(a));
	check_ok(a, NULL, "", "dflt");
	check_ok(a, TOK_B, "dflt", "dflt");
	check_fails(a, TOK_B, "b", CW_PERMISSION_DENIED,
	    "namespace \"b\" is not served: this server has no "
	    "auth.tokens_file, so its only namespace is \"dflt\"");

	/* And on again. */
	cw_auth_replace(
	    a, must_parse("- {token: " TOK_A ", namespaces: [c]}\n"));
	check_fails(a, NULL, "", CW_UNAUTHENTICATED,
	    "this server requires a bearer token (auth_token)");
	check_ok(a, TOK_A, "c", "c");
	cw_auth_free(a);
}

/* ---- from several threads at once ---------------------------------------- */

#define CHECKERS 4
#define REPLACES 1000

typedef struct checker {
	cw_auth *auth;
	atomic_bool *stop;
	long checks, bad;
} checker;

/*
 * While the sets change under it, every answer must be one that some set
 * gives: with set A, TOK_A is "a" and TOK_B refused; with set B, TOK_B is
 * "b" and TOK_A refused; without tokens, both get the default namespace.
 */
static void *checker_main(void *arg)
{
	checker *c = arg;
	char out[CW_NAMESPACE_MAX + 1];
	cw_error err;
	for (long i = 0; !atomic_load(c->stop) || i < 1000; i++) {
		bool use_a = i % 2 == 0;
		const char *tok = use_a ? TOK_A : TOK_B;
		int rc = cw_auth_check(c->auth, (const uint8_t *)tok,
		    strlen(tok), NULL, 0, out, &err);
		bool ok = rc == CW_OK
		              ? strcmp(out, use_a ? "a" : "b") == 0 ||
		                    strcmp(out, "dflt") == 0
		              : rc == CW_UNAUTHENTICATED &&
		                    strcmp(err.message,
		                        "the bearer token is not valid") == 0;
		c->bad += !ok;
		c->checks++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	const char *set_a = "- {token: " TOK_A ", namespaces: [a]}\n";
	const char *set_b = "- {token: " TOK_B ", namespaces: [b]}\n";
	cw_auth *a = new_auth(set_a, "dflt");
	atomic_bool stop = false;
	checker c[CHECKERS];
	pthread_t th[CHECKERS];
	for (int i = 0; i < CHECKERS; i++) {
		c[i] = (checker){a, &stop, 0, 0};
		assert_int_equal(
		    pthread_create(&th[i], NULL, checker_main, &c[i]), 0);
	}
	for (int i = 0; i < REPLACES; i++)
		cw_auth_replace(a, i % 3 == 2   ? NULL
		                   : i % 3 == 1 ? must_parse(set_b)
		                                : must_parse(set_a));
	atomic_store(&stop, true);
	long checks = 0, bad = 0;
	for (int i = 0; i < CHECKERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		checks += c[i].checks;
		bad += c[i].bad;
	}
	cw_auth_free(a);
	assert_int_equal(bad, 0);
	assert_true(checks >= CHECKERS * 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_tokens),
	    cmocka_unit_test(test_check_without_tokens),
	    cmocka_unit_test(test_auth_new_errors),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
