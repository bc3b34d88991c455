/*
 * test_daemon.c - cachewired as a process: configuration errors and flags,
 * --check-redis, Redis unreachable at start (serves UNAVAILABLE, recovers when
 * Redis comes up, and again after Redis dies and returns), clean exit on
 * SIGINT/SIGTERM, configuration reload on SIGHUP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

#include <cachewire/cachewire.h>

#include "servers.h"

static char dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cw-test-cfg-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Run cachewired with args; check exit status and a fragment of stderr
 * (or stdout when err_fragment is NULL and out_fragment given). */
static void run(const char *const *args, const char *const *env, int status,
    const char *out_fragment, const char *err_fragment)
{
	const char *argv[8] = {CW_TEST_CACHEWIRED};
	for (int i = 0; args[i] != NULL && i < 6; i++)
		argv[i + 1] = args[i];
	char *out = NULL, *err = NULL;
	int got = cw_test_run(argv, env, NULL, 0, &out, NULL, &err, 20);
	if (got != status ||
	    (out_fragment && strstr(out, out_fragment) == NULL) ||
	    (err_fragment && strstr(err, err_fragment) == NULL))
		fail_msg("exit %d (want %d)\nstdout: %s\nstderr: %s", got,
		    status, out, err);
	free(out);
	free(err);
}

static void flags(void **state)
{
	(void)state;
	run((const char *[]){"--version", NULL}, NULL, 0, CW_VERSION, NULL);
	run((const char *[]){"--help", NULL}, NULL, 0, "--check-config", NULL);
	run((const char *[]){"--bogus", NULL}, NULL, 2, NULL, "usage");
	run((const char *[]){"extra", NULL}, NULL, 2, NULL, "unexpected");
}

static void config_errors_name_file_line_col(void **state)
{
	(void)state;
	char want[300];

	const char *missing = write_file("placeholder", "");
	snprintf(want, sizeof want, "%s/none.yaml", dir);
	run((const char *[]){"--config", want, NULL}, NULL, 2, NULL, want);
	(void)missing;

	const char *bad = write_file("bad.yaml", "listen:\n  - tcp://x:1\n"
	                                         "redis: [unclosed\n");
	snprintf(want, sizeof want, "%s:", bad);
	run((const char *[]){"--config", bad, NULL}, NULL, 2, NULL, want);

	const char *typo = write_file("typo.yaml", "redis:\n  pool_sise: 4\n");
	snprintf(want, sizeof want, "%s:2:3:", typo);
	run((const char *[]){"--check-config", "--config", typo, NULL}, NULL, 2,
	    NULL, want);
	run((const char *[]){"--check-config", "--config", typo, NULL}, NULL, 2,
	    NULL, "pool_size");

	const char *range =
	    write_file("range.yaml", "server:\n  max_in_flight: 0\n");
	snprintf(want, sizeof want, "%s:2:18:", range);
	run((const char *[]){"--config", range, NULL}, NULL, 2, NULL, want);

	run((const char *[]){"--check-config", NULL},
	    (const char *[]){"CACHEWIRE_REDIS_URL=http://nope", NULL}, 2, NULL,
	    "CACHEWIRE_REDIS_URL");
	run((const char *[]){"--check-config", "--redis-url", "redis://h:0",
	        NULL},
	    NULL, 2, NULL, "--redis-url: ");
	run((const char *[]){"--check-config", "--log-level", "loud", NULL},
	    NULL, 2, NULL, "--log-level: ");

	/* a secret file that is not there */
	const char *nosecret = write_file(
	    "nosecret.yaml", "redis:\n  password_file: /nonexistent/pw\n");
	snprintf(want, sizeof want,
	    "%s:2:18: redis.password_file cannot read \"/nonexistent/pw\"",
	    nosecret);
	run((const char *[]){"--check-config", "--config", nosecret, NULL},
	    NULL, 2, NULL, want);
}

/* redis.password_file authenticates to a Redis that wants a password, and
 * the password shows up in no log line. */
static void redis_password_from_file(void **state)
{
	(void)state;
	static const char *const args[] = {
	    "--requirepass", "pw-in-a-file", NULL};
	cw_test_redis r;
	assert_int_equal(cw_test_redis_start(&r, NULL, false, args), 0);
	const char *pw = write_file("redis.pw", "pw-in-a-file\n");
	char var[300];
	snprintf(var, sizeof var, "CACHEWIRE_REDIS_PASSWORD_FILE=%s", pw);
	const char *env[] = {var, NULL};
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	assert_int_equal(cw_test_daemon_start(&d, r.url, env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(
	    cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 5000, &err), CW_OK);
	cw_close(c);
	char *log = cw_test_read_file(d.log, NULL);
	assert_non_null(log);
	assert_null(strstr(log, "pw-in-a-file"));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&d), 0);

	/* a wrong password: calls fail UNAVAILABLE saying why, no secret */
	const char *wrong = write_file("wrong.pw", "not-it\n");
	snprintf(var, sizeof var, "CACHEWIRE_REDIS_PASSWORD_FILE=%s", wrong);
	assert_int_equal(cw_test_daemon_start(&d, r.url, env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 5000, &err),
	    CW_UNAVAILABLE);
	assert_null(strstr(err.message, "not-it"));
	cw_close(c);
	log = cw_test_read_file(d.log, NULL);
	assert_non_null(log);
	assert_null(strstr(log, "not-it"));
	assert_null(strstr(log, "pw-in-a-file"));
	free(log);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_test_redis_stop(&r, false);
}

static void check_config_ok(void **state)
{
	(void)state;
	run((const char *[]){"--check-config", "--config",
	        CW_SOURCE_DIR "/config/cachewire.yaml", NULL},
	    NULL, 0, "configuration OK", NULL);
	run((const char *[]){"--check-config", NULL}, NULL, 0,
	    "built-in defaults", NULL);
}

static void listen_failure_exits_1(void **state)
{
	(void)state;
	const char *env[] = {"CACHEWIRE_LISTEN=ipc:///nonexistent-dir/x.sock",
	    "CACHEWIRE_REDIS_URL=unix:///nonexistent-dir/r.sock", NULL};
	run((const char *[]){NULL}, env, 1, NULL, "cannot listen");
}

/* Poll until ping gives want (or 10 s pass); returns the last status. */
static int ping_until(cw_client *c, int want)
{
	cw_error err;
	int rc = -1;
	for (int i = 0; i < 100 && rc != want; i++) {
		rc = cw_ping(c, NULL, 2000, &err);
		if (rc != want)
			cw_test_sleep_ms(100);
	}
	return rc;
}

static void redis_down_then_up(void **state)
{
	(void)state;
	char sock[256];
	snprintf(sock, sizeof sock, "%s/late-redis.sock", dir);
	char url[300];
	snprintf(url, sizeof url, "unix://%s", sock);

	cw_test_daemon d;
	assert_int_equal(cw_test_daemon_start(&d, url, NULL), 0);
	char *log = cw_test_read_file(d.log, NULL);
	assert_non_null(strstr(log, "does not answer"));
	free(log);

	cw_client *c;
	cw_error err;
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);
	assert_int_equal(cw_ping(c, NULL, 5000, &err), CW_UNAVAILABLE);
	assert_non_null(strstr(err.message, sock));
	assert_int_equal(cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 5000, &err),
	    CW_UNAVAILABLE);

	char env_url[320];
	snprintf(env_url, sizeof env_url, "CACHEWIRE_REDIS_URL=%s", url);
	const char *env[] = {env_url, NULL};
	run((const char *[]){"--check-redis", NULL}, env, 1, "does not answer",
	    NULL);

	cw_test_redis r;
	assert_int_equal(cw_test_redis_start(&r, sock, false, NULL), 0);
	run((const char *[]){"--check-redis", NULL}, env, 0, "answers", NULL);
	assert_int_equal(ping_until(c, CW_OK), CW_OK);
	assert_int_equal(
	    cw_set(c, "k", 1, "v", 1, CW_NO_EXPIRY, 5000, &err), CW_OK);

	/* Redis dies under a running daemon: UNAVAILABLE, then recovery */
	cw_test_redis_stop(&r, true);
	bool found;
	void *v;
	size_t n;
	assert_int_equal(
	    cw_get(c, "k", 1, &found, &v, &n, 5000, &err), CW_UNAVAILABLE);
	assert_int_equal(cw_test_redis_start(&r, sock, false, NULL), 0);
	assert_int_equal(ping_until(c, CW_OK), CW_OK);
	assert_int_equal(cw_get(c, "k", 1, &found, &v, &n, 5000, &err), CW_OK);
	assert_false(found); /* a fresh Redis without persistence */

	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
	cw_test_redis_stop(&r, false);
}

static void sigint_exits_cleanly(void **state)
{
	(void)state;
	cw_test_daemon d;
	assert_int_equal(
	    cw_test_daemon_start(&d, "unix:///nonexistent/r.sock", NULL), 0);
	kill(d.pid, SIGINT);
	int st = 0;
	for (int i = 0; i < 500 && waitpid(d.pid, &st, WNOHANG) == 0; i++)
		cw_test_sleep_ms(10);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char *log = cw_test_read_file(d.log, NULL);
	assert_non_null(strstr(log, "stopping on SIGINT"));
	assert_non_null(strstr(log, "INFO stopped"));
	free(log);
	d.pid = 0;
	cw_test_daemon_stop(&d);
}

/* Wait until d's log has fragment (or 5 s pass); the log, to free(). */
static char *log_until(const cw_test_daemon *d, const char *fragment)
{
	char *log = cw_test_log_until(d, fragment, 5000);
	if (log == NULL) {
		char *now = cw_test_read_file(d->log, NULL);
		fail_msg("log has no \"%s\":\n%s", fragment, now ? now : "");
	}
	return log;
}

/* SIGHUP: log.level and the limits change at once, other changes are
 * reported as needing a restart, a broken file is reported and the
 * running configuration kept; the daemon serves throughout. (test_admin
 * shows the new limits at work.) */
static void sighup_reloads(void **state)
{
	(void)state;
	char env_config[300];
	const char *path = write_file("reload.yaml", "log:\n  level: info\n");
	snprintf(env_config, sizeof env_config, "CACHEWIRE_CONFIG=%s", path);
	/* A name without "=" unsets it: the file decides the log level. */
	const char *env[] = {env_config, "CACHEWIRE_LOG_LEVEL", NULL};
	cw_test_daemon d;
	cw_client *c;
	cw_error err;
	assert_int_equal(
	    cw_test_daemon_start(&d, "unix:///nonexistent/r.sock", env), 0);
	assert_int_equal(cw_open(&c, d.tcp_url, NULL, &err), CW_OK);

	kill(d.pid, SIGHUP);
	free(log_until(&d, "reload.yaml; nothing changed"));

	write_file("reload.yaml", "log:\n  level: debug\n"
	                          "server:\n  max_in_flight: 7\n"
	                          "redis:\n  pool_size: 2\n");
	kill(d.pid, SIGHUP);
	char *log = log_until(&d, "SIGHUP: log.level is now DEBUG");
	assert_non_null(strstr(log, "reload.yaml; 3 keys changed"));
	assert_non_null(
	    strstr(log, "INFO SIGHUP: server.max_in_flight changed\n"));
	assert_non_null(strstr(log, "WARN SIGHUP: redis.pool_size changed; "
	                            "it takes effect after a restart"));
	free(log);

	write_file("reload.yaml", "server:\n  max_in_flight: many\n");
	kill(d.pid, SIGHUP);
	log = log_until(&d, "SIGHUP: configuration not reloaded: ");
	assert_non_null(strstr(log, "reload.yaml:2:18: expected an integer"));
	assert_non_null(strstr(log, "the running one stays"));
	free(log);

	/* Still serving (Redis is absent: UNAVAILABLE is the answer). */
	assert_int_equal(cw_ping(c, NULL, 5000, &err), CW_UNAVAILABLE);
	cw_close(c);
	assert_int_equal(cw_test_daemon_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flags),
	    cmocka_unit_test(config_errors_name_file_line_col),
	    cmocka_unit_test(check_config_ok),
	    cmocka_unit_test(listen_failure_exits_1),
	    cmocka_unit_test(redis_down_then_up),
	    cmocka_unit_test(sigint_exits_cleanly),
	    cmocka_unit_test(sighup_reloads),
	    cmocka_unit_test(redis_password_from_file),
	};
	int failed =
	    cmocka_run_group_tests_name("daemon", tests, setup, teardown);
	return cw_test_exit(failed);
}
