/*
 * test_cli_args_conn.c - the `cachewire` CLI's connection options (TLS
 * files, server name, token file, namespace) and the admin commands
 * (stats, health, --admin): client/cli/args_conn.c and args.c.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cachewire/cachewire.h>

#include "args.h"

#include "cli_args_helpers.h"

#define TLS_URL "tls+tcp://cache.example:7421"

static void test_tls_options(void **state)
{
	struct cli_args a;

	(void)state;
	/* None by default. */
	args_ok(&a, NULL, "ping", NULL);
	assert_null(a.tls_ca);
	assert_null(a.tls_cert);
	assert_null(a.tls_key);
	assert_null(a.tls_server_name);
	assert_null(a.token_file);
	assert_null(a.token_file_from);
	assert_null(a.namespace_);

	args_ok(&a, NULL, "--url", TLS_URL, "--cacert", "/etc/ca.pem", "ping",
	    NULL);
	assert_string_equal(a.url, TLS_URL);
	assert_string_equal(a.tls_ca, "/etc/ca.pem");
	assert_null(a.tls_cert);
	assert_null(a.tls_key);
	assert_null(a.tls_server_name);

	/* Every one, before and after the command, and in --opt=value form. */
	args_ok(&a, NULL, "get", "k", "--cert=c.pem", "--url", TLS_URL, "--key",
	    "k.pem", "--cacert=ca.pem", "--server-name", "cache.internal",
	    NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET);
	assert_string_equal(a.key, "k");
	assert_string_equal(a.tls_ca, "ca.pem");
	assert_string_equal(a.tls_cert, "c.pem");
	assert_string_equal(a.tls_key, "k.pem");
	assert_string_equal(a.tls_server_name, "cache.internal");

	/* The URL from the environment counts; tcp4/tcp6; any case. */
	args_ok(&a, TLS_URL, "--cacert", "ca.pem", "ping", NULL);
	assert_string_equal(a.url, TLS_URL);
	args_ok(&a, NULL, "--url", "tls+tcp4://10.0.0.1:7421", "--cacert",
	    "ca.pem", "--server-name", "cache", "ping", NULL);
	assert_string_equal(a.tls_server_name, "cache");
	args_ok(&a, NULL, "--url", "tls+tcp6://[::1]:7421", "--cacert", "ca",
	    "ping", NULL);
	args_ok(&a, NULL, "--url", "TLS+TCP://h:7421", "--cacert", "ca", "ping",
	    NULL);
	/* The last one wins. */
	args_ok(&a, NULL, "--url", TLS_URL, "--cacert", "a", "--cacert", "b",
	    "ping", NULL);
	assert_string_equal(a.tls_ca, "b");
}

static void test_tls_usage_errors(void **state)
{
	(void)state;
	args_bad("'--cacert' needs a value", "--url", TLS_URL, "ping",
	    "--cacert", NULL);
	args_bad("'--cacert' needs a value", "--url", TLS_URL,
	    "--cacert=", "ping", NULL);
	args_bad("'--cert' needs a value", "ping", "--cert", NULL);
	args_bad("'--key' needs a value", "ping", "--key", NULL);
	args_bad(
	    "'--server-name' needs a value", "ping", "--server-name", NULL);
	args_bad("'--token-file' needs a value", "ping", "--token-file", NULL);
	args_bad("'--namespace' needs a value", "ping", "--namespace", NULL);
	args_bad("'--namespace' needs a value", "ping", "--namespace=", NULL);
	args_bad("unknown option '--ca'", "--ca", "x", "ping", NULL);

	/* A TLS URL needs the CA; the client certificate needs its key. */
	args_bad("a tls+tcp:// URL needs --cacert FILE", "--url", TLS_URL,
	    "ping", NULL);
	args_bad_env(TLS_URL, "a tls+tcp:// URL needs --cacert", "ping", NULL);
	args_bad("a tls+tcp:// URL needs --cacert", "--url", TLS_URL, "--cert",
	    "c", "--key", "k", "ping", NULL);
	args_bad("--cert and --key go together", "--url", TLS_URL, "--cacert",
	    "ca", "--cert", "c.pem", "ping", NULL);
	args_bad("(--key is missing)", "--url", TLS_URL, "--cacert", "ca",
	    "--cert", "c.pem", "ping", NULL);
	args_bad("(--cert is missing)", "--url", TLS_URL, "--cacert", "ca",
	    "--key", "k.pem", "ping", NULL);

	/* TLS options need a TLS URL. */
	args_bad("option '--cacert' needs a tls+tcp:// URL", "--cacert", "ca",
	    "ping", NULL);
	args_bad("(the URL is '" CW_DEFAULT_URL "')", "--cacert", "ca", "ping",
	    NULL);
	args_bad("option '--cert' needs a tls+tcp:// URL", "--url", "tcp://h:1",
	    "--cert", "c", "--key", "k", "ping", NULL);
	args_bad("option '--key' needs a tls+tcp:// URL", "--url",
	    "ipc:///run/cw.sock", "--key", "k", "ping", NULL);
	args_bad("option '--server-name' needs a tls+tcp:// URL",
	    "--server-name", "h", "ping", NULL);
	args_bad_env("ipc:///env.sock", "(the URL is 'ipc:///env.sock')",
	    "--cacert", "ca", "ping", NULL);
	args_bad("option '--cacert' needs a tls+tcp:// URL", "--url",
	    "tcp://tls+tcp:1", "--cacert", "ca", "ping", NULL);
}

static void test_token_and_namespace(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "--token-file", "/run/secrets/cw", "ping", NULL);
	assert_string_equal(a.token_file, "/run/secrets/cw");
	assert_string_equal(a.token_file_from, "--token-file");
	args_ok(&a, NULL, "ping", "--namespace=tenant-1.a_B", NULL);
	assert_string_equal(a.namespace_, "tenant-1.a_B");
	assert_null(a.token_file);

	/* $CACHEWIRE_TOKEN_FILE, unless --token-file says otherwise. */
	env_token_file = "/env/token";
	args_ok(&a, NULL, "ping", NULL);
	assert_string_equal(a.token_file, "/env/token");
	assert_string_equal(a.token_file_from, "CACHEWIRE_TOKEN_FILE");
	args_ok(&a, NULL, "ping", "--token-file", "/arg/token", NULL);
	assert_string_equal(a.token_file, "/arg/token");
	assert_string_equal(a.token_file_from, "--token-file");
	env_token_file = ""; /* empty = unset */
	args_ok(&a, NULL, "ping", NULL);
	assert_null(a.token_file);
	assert_null(a.token_file_from);
	env_token_file = NULL;

	/* With TLS and a batch command, in any order. */
	args_ok(&a, NULL, "get-many", "--namespace", "ns", "a", "--url",
	    TLS_URL, "b", "--token-file=t", "--cacert", "ca", NULL);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.namespace_, "ns");
	assert_string_equal(a.token_file, "t");
	assert_string_equal(a.tls_ca, "ca");
	cli_args_free(&a);
}

/* ---- stats and health: the admin endpoint ------------------------------ */

static void test_admin_commands(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "stats", NULL);
	assert_int_equal(a.cmd, CLI_CMD_STATS);
	assert_string_equal(a.admin_url, CLI_DEFAULT_ADMIN_URL);
	assert_string_equal(a.admin_url, "http://127.0.0.1:7421");
	assert_false(a.ready);
	assert_int_equal(a.timeout_ms, 5000);
	args_ok(&a, NULL, "health", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HEALTH);
	assert_string_equal(a.admin_url, CLI_DEFAULT_ADMIN_URL);
	assert_false(a.ready);
	args_ok(&a, NULL, "--ready", "health", "--admin=http://10.0.0.5:9000",
	    "--timeout", "2s", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HEALTH);
	assert_true(a.ready);
	assert_string_equal(a.admin_url, "http://10.0.0.5:9000");
	assert_int_equal(a.timeout_ms, 2000);
	args_ok(&a, NULL, "stats", "--admin", "HTTP://[::1]:7421/admin/", NULL);
	assert_string_equal(a.admin_url, "HTTP://[::1]:7421/admin/");
	args_ok(&a, NULL, "stats", "--admin", "http://cachewire", NULL);
	assert_string_equal(a.admin_url, "http://cachewire");
	/* The other commands have no admin URL. */
	args_ok(&a, NULL, "ping", NULL);
	assert_null(a.admin_url);
	assert_false(a.ready);

	/* The service's URL and token file from the environment are not
	 * theirs: no TLS check of $CACHEWIRE_URL, no token file to read. */
	env_token_file = "/env/token";
	args_ok(&a, "tls+tcp://h:1", "stats", NULL);
	assert_null(a.token_file);
	assert_string_equal(a.admin_url, CLI_DEFAULT_ADMIN_URL);
	env_token_file = NULL;

	/* --help still wins. */
	args_ok(&a, NULL, "health", "--admin", "ftp://x", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	assert_non_null(strstr(cli_help_text, "  stats "));
	assert_non_null(strstr(cli_help_text, "  health "));
	assert_non_null(strstr(cli_help_text, "  --admin URL "));
	assert_non_null(strstr(cli_help_text, "  --ready "));
	assert_non_null(strstr(cli_help_text, CLI_DEFAULT_ADMIN_URL));
	assert_non_null(
	    strstr(cli_help_text, "stats: the server is not ready"));
}

static void test_admin_usage_errors(void **state)
{
	(void)state;
	args_bad("'--admin' is only valid with 'stats' and 'health'", "ping",
	    "--admin", "http://h:1", NULL);
	args_bad("'--admin' is only valid with 'stats' and 'health'", "get",
	    "k", "--admin=http://h:1", NULL);
	args_bad(
	    "'--ready' is only valid with 'health'", "stats", "--ready", NULL);
	args_bad(
	    "'--ready' is only valid with 'health'", "ping", "--ready", NULL);
	args_bad("'--ready' takes no value", "health", "--ready=yes", NULL);
	args_bad("'--admin' needs a value", "stats", "--admin", NULL);
	args_bad("'--admin' needs a value", "stats", "--admin=", NULL);
	args_bad("unexpected argument 'x'", "stats", "x", NULL);
	args_bad("unexpected argument 'ready'", "health", "ready", NULL);
	args_bad(
	    "only http:// URLs", "stats", "--admin", "https://h:7421", NULL);
	args_bad(
	    "not 'tcp://h:7421'", "health", "--admin", "tcp://h:7421", NULL);
	args_bad("not '127.0.0.1:7421'", "health", "--admin", "127.0.0.1:7421",
	    NULL);
	args_bad("has no host", "stats", "--admin", "http://", NULL);
	args_bad("has no host", "stats", "--admin", "http://:7421", NULL);
	args_bad("has no host", "stats", "--admin", "http:///metrics", NULL);
	args_bad("no query", "stats", "--admin", "http://h:1/?x=1", NULL);
	args_bad("no query", "stats", "--admin", "http://h:1#top", NULL);
	args_bad("no query", "stats", "--admin", "http://u:p@h:1", NULL);
	args_bad("blanks", "stats", "--admin", "http://h :1", NULL);
	args_bad("--timeout must be between", "health", "--timeout", "0", NULL);
	/* The service's connection options are refused, by name. */
	args_bad("'--url' is not used by 'stats'", "stats", "--url",
	    "tcp://h:1", NULL);
	args_bad("'--cacert' is not used by 'health'", "health", "--cacert",
	    "ca", NULL);
	args_bad("'--token-file' is not used by 'health'", "health",
	    "--token-file", "t", NULL);
	args_bad("'--namespace' is not used by 'stats'", "stats", "--namespace",
	    "ns", NULL);
	args_bad(
	    "'--ttl' is only valid with 'set'", "stats", "--ttl", "5s", NULL);
	args_bad(
	    "'--file' is only valid with 'set'", "health", "--file", "f", NULL);
	/* The no-command message lists them. */
	args_bad("ping, stats or health", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_options),
	    cmocka_unit_test(test_tls_usage_errors),
	    cmocka_unit_test(test_token_and_namespace),
	    cmocka_unit_test(test_admin_commands),
	    cmocka_unit_test(test_admin_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
