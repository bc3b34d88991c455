/*
 * test_security.c - bearer tokens, tenant namespaces and secrets, with a
 * real redis-server and real cachewired processes (TLS: test_tls.c):
 *
 * - tokens: missing or wrong is UNAUTHENTICATED, and a refused caller gets
 *   no work done (its payload is not even decoded); tokens reload on
 *   SIGHUP without a restart;
 * - tenants: a token's namespaces only (PERMISSION_DENIED for every method
 *   on another's), keys of namespaces never meet, Clear empties one only;
 * - secrets: Redis password and ACL user from the environment, AUTH failure
 *   at start reported and retried until Redis accepts; no token, password
 *   or value in the logs, nor on the daemon's command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <cachewire/cachewire.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"
#include "servers.h"

/* Tokens of the tests' token file (each >= 16 characters). */
#define TOKEN_A  "token-of-tenant-a-0123456789"
#define TOKEN_B  "token-of-tenant-b-0123456789"
#define TOKEN_AS "token-a-and-shared-0123456789"
#define TOKEN_A2 "token-a-after-reload-0123456"
#define WRONG    "wrong-token-never-valid-0000"

static char dir[128]; /* token files */
static cw_test_redis redis;

static const char *path(const char *name)
{
	static char p[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cw-test-sec-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	write_file("tokens.yaml", "# three tenants' tokens\n"
	                          "- token: " TOKEN_A "\n"
	                          "  namespaces: [tenant-a]\n"
	                          "- token: " TOKEN_B "\n"
	                          "  namespaces: [tenant-b]\n"
	                          "- token: " TOKEN_AS "\n"
	                          "  namespaces: [tenant-a, shared]\n");
	return cw_test_redis_start(&redis, NULL, false, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	cw_test_redis_stop(&redis, false);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tokens and tenants ------------------------------------------------- */

static cw_test_daemon auth_daemon;

static void start_auth(const char *extra)
{
	static char tokens[300];
	snprintf(tokens, sizeof tokens, "CACHEWIRE_AUTH_TOKENS_FILE=%s",
	    path("tokens.yaml"));
	const char *env[] = {tokens, extra, NULL};
	assert_int_equal(cw_test_daemon_start(&auth_daemon, redis.url, env), 0);
}

static cw_client *as(const char *token, const char *ns)
{
	cw_client_options o = {
	    .timeout_ms = 3000, .token = token, .namespace_ = ns};
	cw_client *c = NULL;
	cw_error err;
	assert_int_equal(cw_open(&c, auth_daemon.ipc_url, &o, &err), CW_OK);
	return c;
}

static void expect_code(int rc, const cw_error *err, int want,
    const char *fragment, const char *what)
{
	if (rc != want ||
	    (fragment != NULL && strstr(err->message, fragment) == NULL))
		fail_msg("%s: got %s \"%s\", want %s \"...%s...\"", what,
		    cw_strerror(rc), err->message, cw_strerror(want),
		    fragment ? fragment : "");
}

/* The value under key for c: its text, "" when missing. */
static const char *value_of(cw_client *c, const char *key)
{
	static char buf[64];
	bool found = false;
	void *v = NULL;
	size_t n = 0;
	cw_error err;
	assert_int_equal(
	    cw_get(c, key, strlen(key), &found, &v, &n, 0, &err), CW_OK);
	snprintf(buf, sizeof buf, "%.*s", found ? (int)n : 0,
	    found ? (char *)v : "");
	cw_free(v);
	return buf;
}

static void put(cw_client *c, const char *key, const char *value)
{
	cw_error err;
	assert_int_equal(cw_set(c, key, strlen(key), value, strlen(value),
	                     CW_NO_EXPIRY, 0, &err),
	    CW_OK);
}

static void tokens_required(void **state)
{
	(void)state;
	cw_error err;
	start_auth(NULL);
	cw_client *none = as(NULL, NULL), *wrong = as(WRONG, NULL),
	          *prefix = as("token-of-tenant-a-012345678", NULL),
	          *good = as(TOKEN_A, NULL);
	expect_code(cw_ping(none, NULL, 0, &err), &err, CW_UNAUTHENTICATED,
	    "requires a bearer token", "no token");
	expect_code(cw_set(none, "k", 1, "v", 1, CW_NO_EXPIRY, 0, &err), &err,
	    CW_UNAUTHENTICATED, NULL, "no token, set");
	expect_code(cw_ping(wrong, NULL, 0, &err), &err, CW_UNAUTHENTICATED,
	    "not valid", "wrong token");
	assert_null(strstr(err.message, WRONG));
	expect_code(cw_ping(prefix, NULL, 0, &err), &err, CW_UNAUTHENTICATED,
	    "not valid", "a prefix of a token");
	expect_code(
	    cw_ping(good, NULL, 0, &err), &err, CW_OK, NULL, "good token");
	cw_close(none);
	cw_close(wrong);
	cw_close(prefix);
	cw_close(good);
	assert_int_equal(cw_test_daemon_stop(&auth_daemon), 0);
}

/* An envelope for method with payload and token, sent raw; the reply. */
static Cachewire__V1__Reply *raw_call(nng_socket s, const char *method,
    const void *payload, size_t len, const char *token)
{
	Cachewire__V1__Request req = CACHEWIRE__V1__REQUEST__INIT;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	req.auth_token = (char *)(token ? token : "");
	size_t n = cachewire__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	cachewire__v1__request__pack(&req, buf);
	assert_int_equal(nng_send(s, buf, n, 0), 0);
	free(buf);
	char *rep = NULL;
	size_t rn = 0;
	assert_int_equal(nng_recv(s, &rep, &rn, NNG_FLAG_ALLOC), 0);
	Cachewire__V1__Reply *r =
	    cachewire__v1__reply__unpack(NULL, rn, (uint8_t *)rep);
	nng_free(rep, rn);
	assert_non_null(r);
	return r;
}

static void expect_reply(Cachewire__V1__Reply *r, int code, const char *what)
{
	if ((int)r->code != code)
		fail_msg("%s: got %s \"%s\", want %s", what,
		    cw_strerror(r->code), r->message, cw_strerror(code));
	cachewire__v1__reply__free_unpacked(r, NULL);
}

static void refused_caller_gets_no_work(void **state)
{
	(void)state;
	start_auth(NULL);
	nng_socket s;
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_dial(s, auth_daemon.ipc_url, NULL, 0), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);

	/* 300000 keys: with a token, too many for one call (the payload was
	 * decoded); without one, refused before it is decoded */
	size_t n = 300000;
	uint8_t *many = malloc(2 * n);
	assert_non_null(many);
	for (size_t i = 0; i < n; i++) {
		many[2 * i] = 0x0a; /* keys, length-delimited */
		many[2 * i + 1] = 0;
	}
	const char *gm = "/cachewire.v1.Cache/GetMany";
	expect_reply(raw_call(s, gm, many, 2 * n, NULL), CW_UNAUTHENTICATED,
	    "GetMany without a token");
	expect_reply(raw_call(s, gm, many, 2 * n, WRONG), CW_UNAUTHENTICATED,
	    "GetMany with a wrong token");
	expect_reply(raw_call(s, gm, many, 2 * n, TOKEN_A), CW_INVALID_ARGUMENT,
	    "GetMany with a token");
	free(many);

	/* a payload that does not decode, and a method that does not
	 * exist: an unknown caller learns neither */
	expect_reply(raw_call(s, "/cachewire.v1.Cache/Get", "\xff", 1, NULL),
	    CW_UNAUTHENTICATED, "bad payload without a token");
	expect_reply(raw_call(s, "/cachewire.v1.Cache/Nope", NULL, 0, NULL),
	    CW_UNAUTHENTICATED, "unknown method without a token");
	expect_reply(raw_call(s, "/cachewire.v1.Cache/Nope", NULL, 0, TOKEN_B),
	    CW_UNIMPLEMENTED, "unknown method with a token");
	cw_test_nng_close(s);
	assert_int_equal(cw_test_daemon_stop(&auth_daemon), 0);
}

static void tenants_are_isolated(void **state)
{
	(void)state;
	cw_error err;
	start_auth(NULL);
	cw_client *a = as(TOKEN_A, NULL), *b = as(TOKEN_B, NULL),
	          *b_in_a = as(TOKEN_B, "tenant-a"),
	          *as_shared = as(TOKEN_AS, "shared"),
	          *a_in_shared = as(TOKEN_A, "shared"),
	          *a_named = as(TOKEN_A, "tenant-a");

	/* the same key in two namespaces: two entries */
	put(a, "k", "a's value");
	put(b, "k", "b's value");
	put(b, "only-b", "b2");
	put(as_shared, "k", "shared value");
	assert_string_equal(value_of(a, "k"), "a's value");
	assert_string_equal(value_of(a_named, "k"), "a's value");
	assert_string_equal(value_of(b, "k"), "b's value");
	assert_string_equal(value_of(as_shared, "k"), "shared value");
	assert_string_equal(value_of(a, "only-b"), "");

	/* b may not read, write, delete or clear in tenant-a: no method */
	const char *deny = "namespace \"tenant-a\" is not allowed";
	bool found;
	uint64_t removed;
	cw_key keys[] = {{"k", 1}};
	cw_value vals[1];
	cw_entry ents[] = {{"k", 1, "x", 1, CW_NO_EXPIRY}};
	expect_code(cw_get(b_in_a, "k", 1, &found, NULL, NULL, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "get");
	expect_code(cw_set(b_in_a, "k", 1, "x", 1, CW_NO_EXPIRY, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "set");
	expect_code(cw_delete(b_in_a, "k", 1, &found, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "delete");
	expect_code(cw_clear(b_in_a, &removed, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "clear");
	expect_code(cw_get_many(b_in_a, 1, keys, vals, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "get_many");
	expect_code(cw_set_many(b_in_a, 1, ents, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "set_many");
	expect_code(cw_delete_many(b_in_a, 1, keys, NULL, 0, &err), &err,
	    CW_PERMISSION_DENIED, deny, "delete_many");
	expect_code(cw_ping(b_in_a, NULL, 0, &err), &err, CW_PERMISSION_DENIED,
	    deny, "ping");
	/* nor a: not in "shared", which only TOKEN_AS lists */
	expect_code(cw_get(a_in_shared, "k", 1, &found, NULL, NULL, 0, &err),
	    &err, CW_PERMISSION_DENIED, "namespace \"shared\" is not allowed",
	    "a in shared");
	assert_string_equal(value_of(a, "k"), "a's value");

	/* Clear empties one namespace and nothing else */
	assert_int_equal(cw_clear(a, &removed, 0, &err), CW_OK);
	assert_int_equal(removed, 1);
	assert_string_equal(value_of(a, "k"), "");
	assert_string_equal(value_of(b, "k"), "b's value");
	assert_string_equal(value_of(b, "only-b"), "b2");
	assert_string_equal(value_of(as_shared, "k"), "shared value");
	assert_int_equal(cw_clear(b, &removed, 0, &err), CW_OK);
	assert_int_equal(removed, 2);
	assert_string_equal(value_of(as_shared, "k"), "shared value");
	assert_int_equal(cw_clear(as_shared, &removed, 0, &err), CW_OK);
	assert_int_equal(removed, 1);

	cw_close(a);
	cw_close(b);
	cw_close(b_in_a);
	cw_close(as_shared);
	cw_close(a_in_shared);
	cw_close(a_named);
	assert_int_equal(cw_test_daemon_stop(&auth_daemon), 0);
}

static void no_tokens_one_namespace(void **state)
{
	(void)state;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	assert_int_equal(cw_test_daemon_start(&d, redis.url, NULL), 0);
	/* the daemon's own namespace ("conf", see servers.h) by name works,
	 * any other is refused: without tokens there are no tenants */
	cw_client_options o = {.namespace_ = "conf", .token = "ignored-here"};
	assert_int_equal(cw_open(&c, d.ipc_url, &o, &err), CW_OK);
	assert_int_equal(cw_ping(c, NULL, 0, &err), CW_OK);
	cw_close(c);
	o.namespace_ = "other";
	assert_int_equal(cw_open(&c, d.ipc_url, &o, &err), CW_OK);
	expect_code(cw_ping(c, NULL, 0, &err), &err, CW_PERMISSION_DENIED,
	    "no auth.tokens_file", "other namespace without tokens");
	cw_close(c);
	o.namespace_ = "bad namespace!";
	assert_int_equal(cw_open(&c, d.ipc_url, &o, &err), CW_INVALID_ARGUMENT);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

/* Whether d's log holds fragment within 5 s. */
static bool log_says(const cw_test_daemon *d, const char *fragment)
{
	char *log = cw_test_log_until(d, fragment, 5000);
	free(log);
	return log != NULL;
}

static void tokens_reload_on_sighup(void **state)
{
	(void)state;
	cw_error err;
	char tokens[300];
	snprintf(tokens, sizeof tokens, "CACHEWIRE_AUTH_TOKENS_FILE=%s",
	    path("reload.yaml"));
	write_file("reload.yaml", "- token: " TOKEN_A "\n"
	                          "  namespaces: [tenant-a]\n");
	const char *env[] = {tokens, NULL};
	assert_int_equal(cw_test_daemon_start(&auth_daemon, redis.url, env), 0);
	cw_client *old = as(TOKEN_A, NULL), *fresh = as(TOKEN_A2, NULL);
	assert_int_equal(cw_ping(old, NULL, 0, &err), CW_OK);
	expect_code(cw_ping(fresh, NULL, 0, &err), &err, CW_UNAUTHENTICATED,
	    NULL, "new token before reload");

	/* the token is rotated: the new one works, the old one no more */
	write_file("reload.yaml", "- token: " TOKEN_A2 "\n"
	                          "  namespaces: [tenant-a]\n");
	kill(auth_daemon.pid, SIGHUP);
	assert_true(log_says(&auth_daemon, "SIGHUP: bearer tokens required"));
	assert_int_equal(cw_ping(fresh, NULL, 0, &err), CW_OK);
	expect_code(cw_ping(old, NULL, 0, &err), &err, CW_UNAUTHENTICATED, NULL,
	    "old token after reload");

	/* a broken file is reported and the tokens in force stay */
	write_file("reload.yaml", "- token: short\n  namespaces: [x]\n");
	kill(auth_daemon.pid, SIGHUP);
	assert_true(log_says(&auth_daemon, "configuration not reloaded"));
	assert_int_equal(cw_ping(fresh, NULL, 0, &err), CW_OK);
	cw_close(old);
	cw_close(fresh);

	char *log = cw_test_read_file(auth_daemon.log, NULL);
	assert_non_null(log);
	assert_null(strstr(log, TOKEN_A));
	assert_null(strstr(log, TOKEN_A2));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&auth_daemon), 0);
}

/* ---- Redis credentials and what the logs hold --------------------------- */

#define REDIS_PW "redis-pw-never-logged-4242"
#define SENTINEL "value-that-must-not-be-logged-7331"

static void logs_hold_no_secrets(void **state)
{
	(void)state;
	cw_test_redis r;
	const char *args[] = {"--requirepass", REDIS_PW, NULL};
	assert_int_equal(cw_test_redis_start(&r, NULL, false, args), 0);
	static char tokens[300];
	snprintf(tokens, sizeof tokens, "CACHEWIRE_AUTH_TOKENS_FILE=%s",
	    path("tokens.yaml"));
	const char *env[] = {tokens, "CACHEWIRE_REDIS_PASSWORD=" REDIS_PW,
	    "CACHEWIRE_LOG_LEVEL=debug", NULL};
	assert_int_equal(cw_test_daemon_start(&auth_daemon, r.url, env), 0);

	/* the password is not on the command line */
	char cmdline[64];
	snprintf(
	    cmdline, sizeof cmdline, "/proc/%d/cmdline", (int)auth_daemon.pid);
	size_t n = 0;
	char *cl = cw_test_read_file(cmdline, &n);
	assert_non_null(cl);
	for (size_t i = 0; i < n; i++)
		cl[i] = cl[i] == '\0' ? ' ' : cl[i];
	assert_null(strstr(cl, REDIS_PW));
	free(cl);

	cw_client *a = as(TOKEN_A, NULL), *wrong = as(WRONG, NULL);
	cw_error err;
	put(a, "secret-key", SENTINEL);
	assert_string_equal(value_of(a, "secret-key"), SENTINEL);
	expect_code(cw_ping(wrong, NULL, 0, &err), &err, CW_UNAUTHENTICATED,
	    NULL, "wrong token");
	kill(auth_daemon.pid, SIGHUP);
	assert_true(log_says(&auth_daemon, "SIGHUP"));
	cw_close(a);
	cw_close(wrong);

	/* the whole log, to the last line: no password, token or value */
	kill(auth_daemon.pid, SIGTERM);
	assert_true(log_says(&auth_daemon, "stopped"));
	char *log = cw_test_read_file(auth_daemon.log, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "bearer tokens required"));
	const char *secrets[] = {
	    REDIS_PW, TOKEN_A, TOKEN_B, TOKEN_AS, WRONG, SENTINEL};
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (strstr(log, secrets[i]) != NULL)
			fail_msg("the log holds \"%s\":\n%s", secrets[i], log);
	free(log);
	assert_int_equal(cw_test_daemon_stop(&auth_daemon), 0);
	cw_test_redis_stop(&r, false);
}

/* A password on the command line is refused: every local user sees it. */
static void no_password_on_the_command_line(void **state)
{
	(void)state;
	const char *argv[] = {CW_TEST_CACHEWIRED, "--check-config",
	    "--redis-url", "redis://:cmdline-pw-4242@127.0.0.1:6379/0", NULL};
	char *out = NULL, *err = NULL;
	int rc = cw_test_run(argv, NULL, NULL, 0, &out, NULL, &err, 20);
	if (rc != 2 || strstr(err, "--redis-url: a password on the command "
	                           "line is visible") == NULL)
		fail_msg("exit %d, stderr:\n%s", rc, err);
	assert_null(strstr(out, "cmdline-pw-4242"));
	assert_null(strstr(err, "cmdline-pw-4242"));
	free(out);
	free(err);
	/* a URL without one is fine there */
	argv[3] = "redis://127.0.0.1:6379/0";
	rc = cw_test_run(argv, NULL, NULL, 0, &out, NULL, &err, 20);
	if (rc != 0)
		fail_msg("exit %d, stderr:\n%s", rc, err);
	free(out);
	free(err);
}

static void redis_auth_failure_retried(void **state)
{
	(void)state;
	cw_test_redis r;
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	/* an ACL user whose password Redis does not know yet */
	const char *args[] = {
	    "--user", "cwuser", "on", ">first-pw", "~*", "+@all", NULL};
	assert_int_equal(cw_test_redis_start(&r, NULL, false, args), 0);
	const char *env[] = {"CACHEWIRE_REDIS_USER=cwuser",
	    "CACHEWIRE_REDIS_PASSWORD=second-pw", NULL};
	assert_int_equal(cw_test_daemon_start(&d, r.url, env), 0);
	assert_true(log_says(&d, "AUTH on"));
	assert_int_equal(cw_open(&c, d.ipc_url, NULL, &err), CW_OK);
	expect_code(cw_ping(c, NULL, 2000, &err), &err, CW_UNAVAILABLE,
	    "AUTH on", "wrong Redis password");

	/* Redis learns the password: the daemon notices by itself */
	char redis_cli[256];
	const char *slash = strrchr(CW_TEST_REDIS_SERVER, '/');
	snprintf(redis_cli, sizeof redis_cli, "%.*s/redis-cli",
	    slash ? (int)(slash - CW_TEST_REDIS_SERVER) : 1,
	    slash ? CW_TEST_REDIS_SERVER : ".");
	const char *cli[] = {redis_cli, "-s", r.sock, "--user", "cwuser",
	    "--pass", "first-pw", "--no-auth-warning", "ACL", "SETUSER",
	    "cwuser", ">second-pw", NULL};
	char *out = NULL, *errout = NULL;
	int st = cw_test_run(cli, NULL, NULL, 0, &out, NULL, &errout, 10);
	if (st != 0)
		fail_msg("redis-cli: %s %s", out, errout);
	free(out);
	free(errout);
	assert_true(log_says(&d, "answers now"));
	assert_int_equal(cw_ping(c, NULL, 2000, &err), CW_OK);
	cw_close(c);

	char *log = cw_test_read_file(d.log, NULL);
	assert_non_null(log);
	assert_null(strstr(log, "second-pw"));
	assert_null(strstr(log, "first-pw"));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_test_redis_stop(&r, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tokens_required),
	    cmocka_unit_test(refused_caller_gets_no_work),
	    cmocka_unit_test(tenants_are_isolated),
	    cmocka_unit_test(no_tokens_one_namespace),
	    cmocka_unit_test(tokens_reload_on_sighup),
	    cmocka_unit_test(logs_hold_no_secrets),
	    cmocka_unit_test(no_password_on_the_command_line),
	    cmocka_unit_test(redis_auth_failure_retried),
	};
	return cw_test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
