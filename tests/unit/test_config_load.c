/*
 * test_config_load.c - reading configuration files and checking the result
 * (server/config.h): the path in every message, unreadable and oversized
 * files, cw_config_validate on fields however they were set, and
 * cw_config_free.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config_cases.h"

/* A file in a fresh temporary directory holding text; free the result. */
static char *temp_file(const char *text)
{
	char dir[] = "/tmp/cw-test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	size_t len = strlen(dir) + 16;
	char *path = malloc(len);
	assert_non_null(path);
	snprintf(path, len, "%s/c.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void remove_temp_file(char *path)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* ---- files ------------------------------------------------------------ */

static void test_load_file_reports_its_path(void **state)
{
	cw_config *c = *state;
	char err[512], want[600];
	char *path =
	    temp_file("server:\n  max_in_flight: 2\nredis:\n  pool: 3\n");
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:4:3: unknown key redis.pool (did you mean redis.pool_size?)",
	    path);
	assert_string_equal(err, want);
	assert_int_equal(c->max_in_flight, 2); /* partly applied */
	remove_temp_file(path);
}

static void test_unreadable_file(void **state)
{
	cw_config *c = *state;
	char err[512];
	assert_int_equal(cw_config_load_file(
	                     c, "/nonexistent/cachewire.yaml", err, sizeof err),
	    -1);
	assert_string_equal(err, "/nonexistent/cachewire.yaml: cannot read: "
	                         "No such file or directory");
	assert_int_equal(cw_config_load_file(c, "/tmp", err, sizeof err), -1);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");

	if (geteuid() != 0) { /* root reads anything */
		char *path = temp_file("log: {level: warn}\n");
		char want[600];
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(
		    cw_config_load_file(c, path, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s: cannot read: %s", path,
		    strerror(EACCES));
		assert_string_equal(err, want);
		remove_temp_file(path);
	}
	/* Nothing was changed. */
	assert_int_equal(c->log_level, CW_LOG_INFO);
}

static void test_file_too_large(void **state)
{
	cw_config *c = *state;
	char err[512], want[600];
	size_t n = ((size_t)1 << 20) + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	big[n] = '\0';
	char *path = temp_file(big);
	free(big);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(
	    want, sizeof want, "%s: cannot read: %s", path, strerror(EFBIG));
	assert_string_equal(err, want);
	remove_temp_file(path);
}

/* ---- validation ------------------------------------------------------- */

static void expect_invalid(const cw_config *c, const char *want)
{
	char err[512] = "";
	int rc = cw_config_validate(c, err, sizeof err);
	if (rc != -1 || strcmp(err, want) != 0)
		print_error("want: %s\ngot:  %s (rc %d)\n", want, err, rc);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
}

static void test_validate_value_fits_message(void **state)
{
	cw_config *c = *state;
	char err[512];
	/* The defaults leave exactly 1MiB - 4096 - 64KiB to spare. */
	c->max_message_bytes = 32 * MIB + 4096 + 64 * 1024;
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	c->max_message_bytes--;
	expect_invalid(c,
	    "cache.max_value_bytes (32MiB) plus cache.max_key_bytes (4KiB) "
	    "and 64KiB of envelope must fit server.max_message_bytes "
	    "(33624063): raise it to at least 33624064 or lower the others");

	/* The same through the file. */
	cw_config d;
	assert_int_equal(cw_config_defaults(&d), 0);
	assert_int_equal(
	    parse(&d, "cache: {max_value_bytes: 512MiB}\n", err, sizeof err),
	    0);
	expect_invalid(&d,
	    "cache.max_value_bytes (512MiB) plus cache.max_key_bytes (4KiB) "
	    "and 64KiB of envelope must fit server.max_message_bytes "
	    "(33MiB): raise it to at least 536940544 or lower the others");
	cw_config_free(&d);
}

static void test_validate_fields_set_directly(void **state)
{
	cw_config *c = *state;
	c->max_in_flight = 0;
	expect_invalid(c, "server.max_in_flight must be 1..65536, got 0");
	c->max_in_flight = 16;
	c->max_key_bytes = 2 * MIB;
	expect_invalid(c, "cache.max_key_bytes must be 1..1MiB, got 2MiB");
	c->max_key_bytes = 4096;
	c->log_level = (enum cw_log_level)9;
	expect_invalid(
	    c, "log.level must be one of debug, info, warn, error, got 9");
	c->log_level = CW_LOG_ERROR;

	free(c->namespace_);
	c->namespace_ = NULL;
	expect_invalid(c, "cache.namespace is not set");
	c->namespace_ = strdup("no spaces please");
	assert_non_null(c->namespace_);
	expect_invalid(c,
	    "cache.namespace must be 1 to 64 characters from A-Z a-z 0-9 _ . "
	    "-, got \"no spaces please\"");
	free(c->namespace_);
	c->namespace_ = strdup("ok");

	free(c->redis_url);
	c->redis_url = strdup("memcached://h");
	assert_non_null(c->redis_url);
	expect_invalid(c, "invalid redis.url: unsupported scheme "
	                  "\"memcached\" (use redis:// or unix://)");
	free(c->redis_url);
	c->redis_url = strdup("redis://h");

	char *second = c->listen[1];
	c->listen[1] = NULL;
	c->listen_count = 1;
	char err[256];
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	c->listen[1] = strdup(c->listen[0]);
	c->listen_count = 2;
	expect_invalid(c, "listen URL \"tcp://127.0.0.1:7420\" is given twice");
	free(c->listen[1]);
	c->listen[1] = second;
	c->listen[1][0] = 'x';
	expect_invalid(c,
	    "bad listen URL \"xpc:///tmp/cachewire.sock\": the "
	    "scheme must be tcp://, tcp4://, tcp6://, ipc:// or tls+tcp:// "
	    "(tls+tcp4://, tls+tcp6://)");
}

static void test_validate_listen_not_empty(void **state)
{
	cw_config *c = *state;
	char err[256];
	assert_int_equal(parse(c, "listen: []\n", err, sizeof err), 0);
	assert_int_equal(c->listen_count, 0);
	expect_invalid(c, "listen must name 1..16 URLs, got 0");
}

/* redis.password_file is read where it is named: every bad file is an
 * error at that file:line:col (or variable), and the secret is never in
 * a message. */
static void test_password_file(void **state)
{
	cw_config *c = *state;
	char err[512], want[700], doc[300];
	char *secret = temp_file("s3cret-pw\n"); /* one trailing newline */
	snprintf(doc, sizeof doc, "redis:\n  password_file: %s\n", secret);
	char *path = temp_file(doc);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), 0);
	assert_string_equal(c->redis_password_file, secret);
	assert_string_equal(c->redis_password, "s3cret-pw");
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	remove_temp_file(path);

	/* missing */
	path = temp_file("redis:\n  password_file: /nonexistent/pw\n");
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:2:18: redis.password_file cannot read \"/nonexistent/pw\": "
	    "No such file or directory",
	    path);
	assert_string_equal(err, want);
	remove_temp_file(path);

	/* empty, and two lines */
	static const struct {
		const char *content, *why;
	} bad[] = {{"", "is empty"}, {"\n", "is empty"},
	    {"a\nb\n", "holds more than one line"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *pw = temp_file(bad[i].content);
		snprintf(doc, sizeof doc, "redis:\n  password_file: %s\n", pw);
		path = temp_file(doc);
		assert_int_equal(
		    cw_config_load_file(c, path, err, sizeof err), -1);
		snprintf(want, sizeof want,
		    "%s:2:18: redis.password_file \"%s\" %s", path, pw,
		    bad[i].why);
		assert_string_equal(err, want);
		remove_temp_file(path);
		remove_temp_file(pw);
	}

	/* from the environment */
	char var[300];
	snprintf(var, sizeof var, "CACHEWIRE_REDIS_PASSWORD_FILE=%s", secret);
	char *envp[] = {var, NULL};
	assert_int_equal(cw_config_apply_env(c, envp, err, sizeof err), 0);
	assert_string_equal(c->redis_password, "s3cret-pw");
	char *missing[] = {
	    "CACHEWIRE_REDIS_PASSWORD_FILE=/nonexistent/pw", NULL};
	assert_int_equal(cw_config_apply_env(c, missing, err, sizeof err), -1);
	assert_string_equal(err, "CACHEWIRE_REDIS_PASSWORD_FILE: cannot read "
	                         "\"/nonexistent/pw\": No such file or "
	                         "directory");
	/* empty: none */
	char *none[] = {"CACHEWIRE_REDIS_PASSWORD_FILE=", NULL};
	assert_int_equal(cw_config_apply_env(c, none, err, sizeof err), 0);
	assert_null(c->redis_password);
	assert_null(c->redis_password_file);
	remove_temp_file(secret);
}

/* redis.password and redis.user: the later of password and password_file
 * wins; a password never appears in a message. */
static void test_redis_credentials(void **state)
{
	cw_config *c = *state;
	char err[512];
	char *secret = temp_file("from-a-file\n");
	char var[300];
	snprintf(var, sizeof var, "CACHEWIRE_REDIS_PASSWORD_FILE=%s", secret);
	char *envp[] = {"CACHEWIRE_REDIS_USER=cache-user",
	    "CACHEWIRE_REDIS_PASSWORD=from-the-env", NULL};
	assert_int_equal(cw_config_apply_env(c, envp, err, sizeof err), 0);
	assert_string_equal(c->redis_user, "cache-user");
	assert_string_equal(c->redis_password, "from-the-env");
	assert_null(c->redis_password_file);
	char *file_later[] = {var, NULL};
	assert_int_equal(
	    cw_config_apply_env(c, file_later, err, sizeof err), 0);
	assert_string_equal(c->redis_password, "from-a-file");
	char *env_later[] = {"CACHEWIRE_REDIS_PASSWORD=again", NULL};
	assert_int_equal(cw_config_apply_env(c, env_later, err, sizeof err), 0);
	assert_string_equal(c->redis_password, "again");
	assert_null(c->redis_password_file);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);

	char *bad_user[] = {"CACHEWIRE_REDIS_USER=two words", NULL};
	assert_int_equal(cw_config_apply_env(c, bad_user, err, sizeof err), -1);
	assert_string_equal(err, "CACHEWIRE_REDIS_USER: may hold printable "
	                         "ASCII without spaces only, got \"two "
	                         "words\"");
	char big[5000 + 40] = "CACHEWIRE_REDIS_PASSWORD=";
	memset(big + strlen(big), 'p', 5000);
	char *too_long[] = {big, NULL};
	assert_int_equal(cw_config_apply_env(c, too_long, err, sizeof err), -1);
	assert_string_equal(err, "CACHEWIRE_REDIS_PASSWORD: is 5000 bytes; "
	                         "the limit is 4096");
	assert_null(strstr(err, "ppp"));
	remove_temp_file(secret);
}

/* redis.mode and the keys that go with it. */
static void test_redis_mode(void **state)
{
	cw_config *c = *state;
	char err[512];

	assert_int_equal(parse(c,
	                     "redis:\n  mode: sentinel\n  nodes:\n"
	                     "    - 10.0.0.1:26379\n    - \"[::1]:26380\"\n"
	                     "  sentinel_master: mymaster\n"
	                     "  url: redis://:pw@ignored/2\n",
	                     err, sizeof err),
	    0);
	assert_int_equal(c->redis_mode, CW_REDIS_SENTINEL);
	assert_string_equal(c->redis_nodes, "10.0.0.1:26379,[::1]:26380");
	assert_string_equal(c->redis_sentinel_master, "mymaster");
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);

	char *no_master[] = {"CACHEWIRE_REDIS_SENTINEL_MASTER=", NULL};
	assert_int_equal(cw_config_apply_env(c, no_master, err, sizeof err), 0);
	expect_invalid(c, "redis.mode sentinel needs redis.sentinel_master "
	                  "(the name the sentinels monitor the master by)");
	char *unix_url[] = {"CACHEWIRE_REDIS_SENTINEL_MASTER=m",
	    "CACHEWIRE_REDIS_URL=unix:///run/r.sock", NULL};
	assert_int_equal(cw_config_apply_env(c, unix_url, err, sizeof err), 0);
	expect_invalid(c,
	    "redis.url is unix:// but redis.mode sentinel reaches Redis by "
	    "host and port: give credentials and db in a redis:// URL (its "
	    "host is not used)");
	char *no_nodes[] = {
	    "CACHEWIRE_REDIS_URL=redis://h", "CACHEWIRE_REDIS_NODES=", NULL};
	assert_int_equal(cw_config_apply_env(c, no_nodes, err, sizeof err), 0);
	expect_invalid(c, "redis.mode sentinel needs redis.nodes (host:port "
	                  "of the sentinels)");

	/* keys of another mode are mistakes */
	char *standalone[] = {"CACHEWIRE_REDIS_MODE=standalone", NULL};
	assert_int_equal(
	    cw_config_apply_env(c, standalone, err, sizeof err), 0);
	expect_invalid(c, "redis.sentinel_master is set but redis.mode is "
	                  "standalone, not sentinel");
	char *nodes[] = {"CACHEWIRE_REDIS_SENTINEL_MASTER=",
	    "CACHEWIRE_REDIS_NODES=h:1", NULL};
	assert_int_equal(cw_config_apply_env(c, nodes, err, sizeof err), 0);
	expect_invalid(c, "redis.nodes is set but redis.mode is standalone: "
	                  "set redis.mode to cluster or sentinel, or unset "
	                  "redis.nodes");

	/* cluster: db 0 only */
	char *cluster[] = {"CACHEWIRE_REDIS_MODE=cluster",
	    "CACHEWIRE_REDIS_URL=redis://h/1", NULL};
	assert_int_equal(cw_config_apply_env(c, cluster, err, sizeof err), 0);
	expect_invalid(
	    c, "redis.url names db 1, but Redis Cluster has db 0 only");
	char *db0[] = {"CACHEWIRE_REDIS_URL=redis://h/0", NULL};
	assert_int_equal(cw_config_apply_env(c, db0, err, sizeof err), 0);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
}

/* The tls keys: files readable where named, and they go together. */
static void test_tls_keys(void **state)
{
	cw_config *c = *state;
	char err[512], want[700], doc[600];
	char *cert = temp_file("cert"), *key = temp_file("key");
	snprintf(doc, sizeof doc,
	    "listen: [tls+tcp://0.0.0.0:7421, tcp://127.0.0.1:7420]\n"
	    "tls:\n  cert_file: %s\n  key_file: %s\n"
	    "  client_ca_file: %s\n  min_version: \"1.3\"\n",
	    cert, key, cert);
	char *path = temp_file(doc);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), 0);
	assert_string_equal(c->tls_cert_file, cert);
	assert_string_equal(c->tls_key_file, key);
	assert_string_equal(c->tls_client_ca_file, cert);
	assert_int_equal(c->tls_min_version, 13);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	remove_temp_file(path);

	/* no tls+tcp:// listener for the certificate */
	assert_int_equal(
	    parse(c, "listen: tcp://127.0.0.1:1\n", err, sizeof err), 0);
	expect_invalid(c, "tls.cert_file is set but no listen URL is "
	                  "tls+tcp:// and no grpc.listen entry is tls://: add "
	                  "one (e.g. tls+tcp://0.0.0.0:7421) or unset the tls "
	                  "keys");
	/* a tls:// gRPC entry is a use for it */
	assert_int_equal(
	    parse(c, "grpc:\n  listen: [tls://127.0.0.1:0]\n", err, sizeof err),
	    0);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	assert_int_equal(parse(c, "grpc:\n  listen: []\n", err, sizeof err), 0);
	/* a key without a certificate */
	char *env_none[] = {"CACHEWIRE_TLS_CERT_FILE=", NULL};
	assert_int_equal(cw_config_apply_env(c, env_none, err, sizeof err), 0);
	expect_invalid(c, "tls.cert_file and tls.key_file go together: set "
	                  "both or neither");
	char *env_nokey[] = {"CACHEWIRE_TLS_KEY_FILE=",
	    "CACHEWIRE_LISTEN=tls+tcp://127.0.0.1:1", NULL};
	assert_int_equal(cw_config_apply_env(c, env_nokey, err, sizeof err), 0);
	expect_invalid(c, "tls.client_ca_file needs tls.cert_file and "
	                  "tls.key_file (the server's own certificate)");
	char *env_noca[] = {"CACHEWIRE_TLS_CLIENT_CA_FILE=", NULL};
	assert_int_equal(cw_config_apply_env(c, env_noca, err, sizeof err), 0);
	expect_invalid(c, "a tls+tcp:// listen URL needs tls.cert_file and "
	                  "tls.key_file");

	/* a missing file, a bad version: file:line:col */
	path = temp_file("tls:\n  cert_file: /nonexistent/c.pem\n");
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:2:14: tls.cert_file cannot read \"/nonexistent/c.pem\": No "
	    "such file or directory",
	    path);
	assert_string_equal(err, want);
	remove_temp_file(path);
	path = temp_file("tls:\n  min_version: 1.1\n");
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:2:16: tls.min_version must be 1.2 or 1.3, got \"1.1\"", path);
	assert_string_equal(err, want);
	remove_temp_file(path);
	remove_temp_file(cert);
	remove_temp_file(key);
}

/* auth.tokens_file is read where it is named; its own errors carry its own
 * position, after the key's; a token is never in a message. */
static void test_tokens_file(void **state)
{
	cw_config *c = *state;
	char err[700], want[900], doc[300];
	char *tokens = temp_file("- token: a-token-of-16-chars-or-more\n"
	                         "  namespaces: [t1, t2]\n");
	snprintf(doc, sizeof doc, "auth:\n  tokens_file: %s\n", tokens);
	char *path = temp_file(doc);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), 0);
	assert_string_equal(c->auth_tokens_file, tokens);
	assert_non_null(c->auth_tokens);
	assert_int_equal(cw_tokens_count(c->auth_tokens), 1);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	remove_temp_file(path);

	char *bad = temp_file("- token: a-token-of-16-chars-or-more\n"
	                      "  namespaces: [t1, \"no spaces\"]\n");
	snprintf(doc, sizeof doc, "auth:\n  tokens_file: %s\n", bad);
	path = temp_file(doc);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(
	    want, sizeof want, "%s:2:16: auth.tokens_file: %s:2:", path, bad);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want it to start \"%s\"", err, want);
	assert_null(strstr(err, "a-token-of-16"));
	/* the tokens in force stay */
	assert_int_equal(cw_tokens_count(c->auth_tokens), 1);
	remove_temp_file(path);

	char var[300];
	snprintf(var, sizeof var, "CACHEWIRE_AUTH_TOKENS_FILE=%s", bad);
	char *envp[] = {var, NULL};
	assert_int_equal(cw_config_apply_env(c, envp, err, sizeof err), -1);
	snprintf(want, sizeof want, "CACHEWIRE_AUTH_TOKENS_FILE: %s:2:", bad);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want it to start \"%s\"", err, want);
	char *off[] = {"CACHEWIRE_AUTH_TOKENS_FILE=", NULL};
	assert_int_equal(cw_config_apply_env(c, off, err, sizeof err), 0);
	assert_null(c->auth_tokens);
	assert_null(c->auth_tokens_file);
	remove_temp_file(bad);
	remove_temp_file(tokens);
}

static void test_free_twice(void **state)
{
	(void)state;
	cw_config c;
	assert_int_equal(cw_config_defaults(&c), 0);
	cw_config_free(&c);
	cw_config_free(&c);
	assert_null(c.redis_url);
	assert_int_equal(c.listen_count, 0);
	cw_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_load_file_reports_its_path),
	    T(test_unreadable_file),
	    T(test_file_too_large),
	    T(test_validate_value_fits_message),
	    T(test_validate_fields_set_directly),
	    T(test_validate_listen_not_empty),
	    T(test_password_file),
	    T(test_redis_credentials),
	    T(test_redis_mode),
	    T(test_tls_keys),
	    T(test_tokens_file),
	    T(test_free_twice),
	};
	return cmocka_run_group_tests_name(
	    "config files and validation", tests, NULL, NULL);
}
