/*
 * test_security.c - TLS, bearer tokens, tenant namespaces and secrets, with
 * a real redis-server, real cachewired processes and certificates made at
 * test time by the openssl CLI (tests/helpers/make_certs.sh):
 *
 * - TLS round trip; a client that does not trust the server, or expects
 *   another name, fails with an error that says TLS; with client_ca_file
 *   set, a client without a certificate, or with one from another CA, is
 *   refused, and one with a good certificate is served;
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

static char dir[128]; /* certificates, token files */
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
	char cmd[400];
	snprintf(dir, sizeof dir, "/tmp/cw-test-sec-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/tests/helpers/make_certs.sh '%s'",
	    CW_SOURCE_DIR, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "make_certs.sh failed\n");
		return -1;
	}
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

/* ---- TLS ---------------------------------------------------------------- */

typedef struct tls_daemon {
	cw_test_daemon d;
	char url[64]; /* tls+tcp://127.0.0.1:<port> */
} tls_daemon;

/* cachewired listening on tls+tcp:// (and its ipc URL), with env added. */
static void start_tls(tls_daemon *t, const char *client_ca, const char *extra)
{
	static char listen[300], cert[300], key[300], ca[300];
	snprintf(t->url, sizeof t->url, "tls+tcp://127.0.0.1:%d",
	    cw_test_free_port());
	snprintf(listen, sizeof listen, "CACHEWIRE_LISTEN=%s", t->url);
	snprintf(cert, sizeof cert, "CACHEWIRE_TLS_CERT_FILE=%s",
	    path("server.crt"));
	snprintf(
	    key, sizeof key, "CACHEWIRE_TLS_KEY_FILE=%s", path("server.key"));
	snprintf(ca, sizeof ca, "CACHEWIRE_TLS_CLIENT_CA_FILE=%s",
	    client_ca ? path(client_ca) : "");
	const char *env[] = {listen, cert, key, ca, extra, NULL};
	assert_int_equal(cw_test_daemon_start(&t->d, redis.url, env), 0);
}

/* A client for url with these TLS files (names in dir, or NULL). */
static int open_tls(cw_client **c, const char *url, const char *ca,
    const char *cert, const char *key, const char *server_name, cw_error *err)
{
	cw_client_options o = {
	    .timeout_ms = 2000,
	    .tls_ca_file = ca ? path(ca) : NULL,
	    .tls_cert_file = cert ? path(cert) : NULL,
	    .tls_key_file = key ? path(key) : NULL,
	    .tls_server_name = server_name,
	};
	return cw_open(c, url, &o, err);
}

/* A call through c must fail, saying it is about TLS. */
static void expect_refused(cw_client *c, const char *why)
{
	cw_error err = {0};
	int rc = cw_ping(c, NULL, 2000, &err);
	if (rc == CW_OK)
		fail_msg("%s: the call succeeded", why);
	if (rc != CW_UNAVAILABLE || strstr(err.message, "TLS") == NULL)
		fail_msg("%s: got %s \"%s\", want UNAVAILABLE naming TLS", why,
		    cw_strerror(rc), err.message);
}

static void tls_round_trip(void **state)
{
	(void)state;
	tls_daemon t;
	cw_client *c;
	cw_error err;
	start_tls(&t, NULL, NULL);
	assert_int_equal(
	    open_tls(&c, t.url, "ca.crt", NULL, NULL, NULL, &err), CW_OK);
	assert_int_equal(
	    cw_set(c, "tk", 2, "over tls", 8, CW_NO_EXPIRY, 0, &err), CW_OK);
	bool found = false;
	void *v = NULL;
	size_t n = 0;
	assert_int_equal(cw_get(c, "tk", 2, &found, &v, &n, 0, &err), CW_OK);
	assert_true(found);
	assert_int_equal(n, 8);
	assert_memory_equal(v, "over tls", 8);
	cw_free(v);
	cw_close(c);

	/* a plain tcp:// client cannot talk to a TLS listener */
	char plain[64];
	snprintf(plain, sizeof plain, "tcp://%s", t.url + strlen("tls+tcp://"));
	cw_client_options o = {.timeout_ms = 1000};
	assert_int_equal(cw_open(&c, plain, &o, &err), CW_OK);
	assert_int_not_equal(cw_ping(c, NULL, 1000, &err), CW_OK);
	cw_close(c);

	/* the log says TLS is on, and which listener */
	char *log = cw_test_read_file(t.d.log, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "(TLS)"));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&t.d), 0);
}

static void tls_client_must_trust_server(void **state)
{
	(void)state;
	tls_daemon t;
	cw_client *c;
	cw_error err;
	start_tls(&t, NULL, NULL);

	/* a CA that did not sign the server's certificate */
	assert_int_equal(
	    open_tls(&c, t.url, "rogue-ca.crt", NULL, NULL, NULL, &err), CW_OK);
	expect_refused(c, "untrusted server");
	cw_close(c);

	/* the right CA, but a name the certificate does not carry */
	assert_int_equal(open_tls(&c, t.url, "ca.crt", NULL, NULL,
	                     "not-the-server.example", &err),
	    CW_OK);
	expect_refused(c, "wrong server name");
	cw_close(c);

	/* the right name, spelled out */
	assert_int_equal(
	    open_tls(&c, t.url, "ca.crt", NULL, NULL, "localhost", &err),
	    CW_OK);
	assert_int_equal(cw_ping(c, NULL, 2000, &err), CW_OK);
	cw_close(c);

	/* a tls+tcp:// URL without a CA is refused at once, locally */
	assert_int_equal(open_tls(&c, t.url, NULL, NULL, NULL, NULL, &err),
	    CW_INVALID_ARGUMENT);
	assert_non_null(strstr(err.message, "tls_ca_file"));
	assert_int_equal(cw_test_daemon_stop(&t.d), 0);
}

static void mutual_tls(void **state)
{
	(void)state;
	tls_daemon t;
	cw_client *c;
	cw_error err;
	start_tls(&t, "ca.crt", NULL);

	assert_int_equal(
	    open_tls(&c, t.url, "ca.crt", NULL, NULL, NULL, &err), CW_OK);
	expect_refused(c, "no client certificate");
	cw_close(c);

	assert_int_equal(open_tls(&c, t.url, "ca.crt", "rogue-client.crt",
	                     "rogue-client.key", NULL, &err),
	    CW_OK);
	expect_refused(c, "client certificate from another CA");
	cw_close(c);

	assert_int_equal(open_tls(&c, t.url, "ca.crt", "client.crt",
	                     "client.key", NULL, &err),
	    CW_OK);
	assert_int_equal(cw_ping(c, NULL, 2000, &err), CW_OK);
	cw_close(c);

	char *log = cw_test_read_file(t.d.log, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "client certificates required"));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&t.d), 0);
}

/* Run cachewired with env; it must exit with status and say fragment. */
static void run_daemon(const char *const *env, int status, const char *fragment)
{
	const char *argv[] = {CW_TEST_CACHEWIRED, NULL};
	char *out = NULL, *err = NULL;
	int rc = cw_test_run(argv, env, NULL, 0, &out, NULL, &err, 20);
	if (rc != status || strstr(err, fragment) == NULL)
		fail_msg("cachewired exited %d, want %d; stderr:\n%s", rc,
		    status, err);
	free(out);
	free(err);
}

static void tls_bad_files(void **state)
{
	(void)state;
	char listen[200], cert[300], key[300], redis_url[300];
	snprintf(listen, sizeof listen,
	    "CACHEWIRE_LISTEN=tls+tcp://127.0.0.1:%d", cw_test_free_port());
	snprintf(
	    redis_url, sizeof redis_url, "CACHEWIRE_REDIS_URL=%s", redis.url);
	snprintf(
	    key, sizeof key, "CACHEWIRE_TLS_KEY_FILE=%s", path("server.key"));

	/* a file that is missing: a configuration error, exit 2 */
	snprintf(cert, sizeof cert, "CACHEWIRE_TLS_CERT_FILE=%s",
	    path("missing.crt"));
	run_daemon((const char *[]){listen, redis_url, cert, key, NULL}, 2,
	    "CACHEWIRE_TLS_CERT_FILE: ");
	/* a file that is not a certificate: cannot serve, exit 1 */
	snprintf(
	    cert, sizeof cert, "CACHEWIRE_TLS_CERT_FILE=%s", path("bad.pem"));
	run_daemon((const char *[]){listen, redis_url, cert, key, NULL}, 1,
	    "are not a PEM certificate and its unencrypted private key");
	/* TLS 1.3 only: Debian's mbedTLS cannot, and says so */
	snprintf(cert, sizeof cert, "CACHEWIRE_TLS_CERT_FILE=%s",
	    path("server.crt"));
	run_daemon((const char *[]){listen, redis_url, cert, key,
	               "CACHEWIRE_TLS_MIN_VERSION=1.3", NULL},
	    1, "tls.min_version");
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

/* Wait up to 5 s for the daemon's log to hold fragment. */
static bool log_says(const cw_test_daemon *d, const char *fragment)
{
	for (int i = 0; i < 500; i++) {
		char *log = cw_test_read_file(d->log, NULL);
		bool yes = log != NULL && strstr(log, fragment) != NULL;
		free(log);
		if (yes)
			return true;
		cw_test_sleep_ms(10);
	}
	return false;
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
	    cmocka_unit_test(tls_round_trip),
	    cmocka_unit_test(tls_client_must_trust_server),
	    cmocka_unit_test(mutual_tls),
	    cmocka_unit_test(tls_bad_files),
	    cmocka_unit_test(tokens_required),
	    cmocka_unit_test(refused_caller_gets_no_work),
	    cmocka_unit_test(tenants_are_isolated),
	    cmocka_unit_test(no_tokens_one_namespace),
	    cmocka_unit_test(tokens_reload_on_sighup),
	    cmocka_unit_test(logs_hold_no_secrets),
	    cmocka_unit_test(redis_auth_failure_retried),
	};
	return cw_test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
