/*
 * test_cli_args.c - the `cachewire` CLI's command line (client/cli/args.c):
 * every way a command line can be right or wrong, the --help text, and the
 * library's messages in the CLI's option names.
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

/* ---- helpers ----------------------------------------------------------------
 */

static char errbuf[512];

/* $CACHEWIRE_TOKEN_FILE for the next parse_v (NULL: unset). */
static const char *env_token_file;

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
static int parse_v(struct cli_args *a, const char *env_url, va_list ap)
{
	char *argv[32];
	int argc = 0;
	const char *s;

	argv[argc++] = (char *)"cachewire";
	while ((s = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < 31);
		argv[argc++] = (char *)s;
	}
	argv[argc] = NULL;
	errbuf[0] = '\0';
	return cli_parse_args(
	    a, argc, argv, env_url, env_token_file, errbuf, sizeof errbuf);
}

static void args_ok(struct cli_args *a, const char *env_url, ...)
{
	va_list ap;
	int rc;

	va_start(ap, env_url);
	rc = parse_v(a, env_url, ap);
	va_end(ap);
	if (rc != 0)
		fail_msg("arguments rejected: %s", errbuf);
}

static void args_bad_v(
    const char *env_url, const char *want_in_message, va_list ap)
{
	struct cli_args a;

	if (parse_v(&a, env_url, ap) == 0)
		fail_msg("arguments accepted; wanted an error with '%s'",
		    want_in_message);
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("message '%s' lacks '%s'", errbuf, want_in_message);
}

static void args_bad(const char *want_in_message, ...)
{
	va_list ap;

	va_start(ap, want_in_message);
	args_bad_v(NULL, want_in_message, ap);
	va_end(ap);
}

/* args_bad with $CACHEWIRE_URL set to env_url. */
static void args_bad_env(const char *env_url, const char *want_in_message, ...)
{
	va_list ap;

	va_start(ap, want_in_message);
	args_bad_v(env_url, want_in_message, ap);
	va_end(ap);
}

/* ---- commands
 * ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "ping", NULL);
	assert_int_equal(a.cmd, CLI_CMD_PING);
	assert_string_equal(a.url, CW_DEFAULT_URL);
	assert_int_equal(a.timeout_ms, 5000);
	assert_null(a.key);
	assert_null(a.file);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);

	args_ok(&a, "", "clear", NULL); /* empty $CACHEWIRE_URL = unset */
	assert_int_equal(a.cmd, CLI_CMD_CLEAR);
	assert_string_equal(a.url, CW_DEFAULT_URL);
}

static void test_commands(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "get", "k1", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET);
	assert_string_equal(a.key, "k1");
	args_ok(&a, NULL, "set", "k2", NULL);
	assert_int_equal(a.cmd, CLI_CMD_SET);
	assert_string_equal(a.key, "k2");
	assert_null(a.file);
	args_ok(&a, NULL, "del", "k3", NULL);
	assert_int_equal(a.cmd, CLI_CMD_DEL);
	assert_string_equal(a.key, "k3");
	args_ok(&a, NULL, "clear", NULL);
	assert_int_equal(a.cmd, CLI_CMD_CLEAR);
	args_ok(&a, NULL, "ping", NULL);
	assert_int_equal(a.cmd, CLI_CMD_PING);
}

static void test_url_and_timeout(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, "ipc:///env.sock", "ping", NULL);
	assert_string_equal(a.url, "ipc:///env.sock");
	args_ok(&a, "ipc:///env.sock", "--url", "tcp://h:1", "ping", NULL);
	assert_string_equal(a.url, "tcp://h:1");
	/* After the command, and in --opt=value form. */
	args_ok(&a, NULL, "ping", "--url=tcp://h:2", "--timeout=1500ms", NULL);
	assert_string_equal(a.url, "tcp://h:2");
	assert_int_equal(a.timeout_ms, 1500);
	args_ok(&a, NULL, "--timeout", "2", "get", "k", NULL);
	assert_int_equal(a.timeout_ms, 2000);
	args_ok(&a, NULL, "get", "k", "--timeout", "1m", NULL);
	assert_int_equal(a.timeout_ms, 60000);
	/* The last one wins. */
	args_ok(&a, NULL, "--timeout", "1s", "--timeout", "3s", "ping", NULL);
	assert_int_equal(a.timeout_ms, 3000);
	args_ok(&a, NULL, "--timeout", "2147483647ms", "ping", NULL);
	assert_int_equal(a.timeout_ms, INT_MAX);
}

static void test_set_options(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "set", "k", "--ttl", "60s", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 60000);
	args_ok(&a, NULL, "--ttl", "1500ms", "set", "k", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 1500);
	args_ok(&a, NULL, "set", "k", "--ttl", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	args_ok(&a, NULL, "set", "k", "--expire-at", "1767225600.250", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1767225600250ULL);
	args_ok(&a, NULL, "set", "--expire-at=2026-11-25T12:00:00Z", "k", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1795608000000ULL);
	/* The epoch is in the past, not "never" (0 on the wire). */
	args_ok(&a, NULL, "set", "k", "--expire-at", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1);
	args_ok(&a, NULL, "set", "k", "--file", "/tmp/v.bin", NULL);
	assert_string_equal(a.file, "/tmp/v.bin");
	args_ok(&a, NULL, "set", "k", "--file", "-", NULL);
	assert_null(a.file);
}

static void test_keys(void **state)
{
	struct cli_args a;

	(void)state;
	/* "--" ends the options: keys may start with '-'. */
	args_ok(&a, NULL, "get", "--", "-k", NULL);
	assert_string_equal(a.key, "-k");
	args_ok(&a, NULL, "--", "get", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET);
	assert_string_equal(a.key, "--help");
	args_ok(&a, NULL, "del", "-", NULL); /* a lone "-" is an argument */
	assert_string_equal(a.key, "-");
	args_ok(&a, NULL, "get", "a key with spaces", NULL);
	assert_string_equal(a.key, "a key with spaces");
}

static void test_help_and_version(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "-h", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "get", "--help", NULL); /* wins over a missing key */
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "bogus", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	args_ok(&a, NULL, "--version", NULL);
	assert_int_equal(a.cmd, CLI_CMD_VERSION);
	args_ok(&a, NULL, "ping", "--version", NULL);
	assert_int_equal(a.cmd, CLI_CMD_VERSION);

	/* The help documents the exit codes and the formats. */
	assert_non_null(strstr(cli_help_text, "Exit status"));
	assert_non_null(strstr(cli_help_text, "  1  key not found"));
	assert_non_null(strstr(cli_help_text, "  2  usage error"));
	assert_non_null(strstr(cli_help_text, "  3  "));
	assert_non_null(strstr(cli_help_text, "CACHEWIRE_URL"));
	assert_non_null(strstr(cli_help_text, "RFC 3339"));
	/* ... and the batch commands with get-many's output format */
	assert_non_null(strstr(cli_help_text, "  get-many KEY..."));
	assert_non_null(
	    strstr(cli_help_text, "  set-many KEY VALUE [KEY VALUE"));
	assert_non_null(strstr(cli_help_text, "  delete-many KEY..."));
	assert_non_null(strstr(cli_help_text, "\"KEY<TAB>LEN\""));
	assert_non_null(strstr(cli_help_text, "\"KEY<TAB>-\""));
	/* ... and TLS, the token and the namespace */
	assert_non_null(strstr(cli_help_text, "  --cacert F "));
	assert_non_null(strstr(cli_help_text, "  --cert F "));
	assert_non_null(strstr(cli_help_text, "  --key F "));
	assert_non_null(strstr(cli_help_text, "  --server-name N "));
	assert_non_null(strstr(cli_help_text, "  --token-file F "));
	assert_non_null(strstr(cli_help_text, "$CACHEWIRE_TOKEN_FILE"));
	assert_non_null(strstr(cli_help_text, "  --namespace NS "));
	assert_non_null(strstr(cli_help_text, "tls+tcp://"));
}

static void test_usage_errors(void **state)
{
	(void)state;
	args_bad("no command", NULL);
	args_bad("no command", "--url", "tcp://h:1", NULL);
	args_bad("unknown command 'fetch'", "fetch", "k", NULL);
	args_bad("unknown command 'GET'", "GET", "k", NULL);
	args_bad("'get' needs a KEY", "get", NULL);
	args_bad("'set' needs a KEY", "set", "--ttl", "5s", NULL);
	args_bad("'del' needs a KEY", "del", NULL);
	args_bad("KEY must not be empty", "get", "", NULL);
	args_bad("unexpected argument 'b'", "get", "a", "b", NULL);
	args_bad("unexpected argument 'b'", "get", "a", "b", "c", "d", NULL);
	args_bad("stdin or --file", "set", "k", "value", NULL);
	args_bad("unexpected argument 'x'", "ping", "x", NULL);
	args_bad("unexpected argument 'x'", "clear", "x", NULL);
	args_bad("unknown option '--bogus'", "--bogus", "ping", NULL);
	args_bad("unknown option '--bogus'", "ping", "--bogus=1", NULL);
	args_bad("unknown option '-x'", "ping", "-x", NULL);
	args_bad("unknown option '--tt'", "set", "k", "--tt", "5", NULL);
	args_bad("'--url' needs a value", "ping", "--url", NULL);
	args_bad("'--url' needs a value", "ping", "--url=", NULL);
	args_bad("'--timeout' needs a value", "ping", "--timeout", NULL);
	args_bad("'--ttl' needs a value", "set", "k", "--ttl", NULL);
	args_bad("'--file' needs a value", "set", "k", "--file", NULL);
	args_bad(
	    "'--expire-at' needs a value", "set", "k", "--expire-at", NULL);
	args_bad("'--help' takes no value", "--help=yes", NULL);
	args_bad("'--version' takes no value", "--version=1", NULL);
	args_bad("invalid duration", "--timeout", "soon", "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "0", "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "2147483648ms",
	    "ping", NULL);
	args_bad("--timeout must be between", "--timeout", "30d", "ping", NULL);
	args_bad("invalid duration", "set", "k", "--ttl", "-5", NULL);
	args_bad("units", "set", "k", "--ttl", "5y", NULL);
	args_bad("invalid date", "set", "k", "--expire-at",
	    "2026-02-30T00:00:00Z", NULL);
	args_bad("invalid time", "set", "k", "--expire-at", "noon", NULL);
	args_bad("cannot be used together", "set", "k", "--ttl", "5s",
	    "--expire-at", "1767225600", NULL);
	args_bad("'--ttl' is only valid with 'set'", "get", "k", "--ttl", "5s",
	    NULL);
	args_bad("'--expire-at' is only valid with 'set'", "del", "k",
	    "--expire-at", "1767225600", NULL);
	args_bad(
	    "'--file' is only valid with 'set'", "ping", "--file", "f", NULL);
}

static void test_many_commands(void **state)
{
	struct cli_args a;

	(void)state;
	args_ok(&a, NULL, "get-many", "k1", "k2", "k1", NULL);
	assert_int_equal(a.cmd, CLI_CMD_GET_MANY);
	assert_int_equal(a.count, 3);
	assert_string_equal(a.keys[0], "k1");
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.keys[2], "k1"); /* duplicates are kept */
	assert_null(a.values);
	assert_null(a.key);
	cli_args_free(&a);
	assert_null(a.keys);
	assert_int_equal(a.count, 0);
	cli_args_free(&a); /* twice is fine */

	args_ok(&a, NULL, "delete-many", "only", NULL);
	assert_int_equal(a.cmd, CLI_CMD_DELETE_MANY);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.keys[0], "only");
	assert_null(a.values);
	cli_args_free(&a);

	/* options anywhere, and "--" for keys that start with '-' */
	args_ok(&a, NULL, "get-many", "a", "--timeout", "2s", "b", "--", "-c",
	    "--help", NULL);
	assert_int_equal(a.timeout_ms, 2000);
	assert_int_equal(a.count, 4);
	assert_string_equal(a.keys[0], "a");
	assert_string_equal(a.keys[1], "b");
	assert_string_equal(a.keys[2], "-c");
	assert_string_equal(a.keys[3], "--help");
	cli_args_free(&a);

	args_ok(&a, NULL, "set-many", "k1", "v1", "k2", "", "k1", "v3", NULL);
	assert_int_equal(a.cmd, CLI_CMD_SET_MANY);
	assert_int_equal(a.count, 3);
	assert_string_equal(a.keys[0], "k1");
	assert_string_equal(a.values[0], "v1");
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.values[1], ""); /* an empty value is a value */
	assert_string_equal(a.keys[2], "k1");
	assert_string_equal(a.values[2], "v3");
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	assert_null(a.file);
	cli_args_free(&a);
	assert_null(a.values);

	/* the expiry options of set apply to every entry */
	args_ok(&a, NULL, "--ttl", "90s", "set-many", "k", "v", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_TTL);
	assert_int_equal(a.expiry.ms, 90000);
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--ttl=0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--expire-at",
	    "2026-11-25T12:00:00Z", "k2", "v2", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1795608000000ULL);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.keys[1], "k2");
	assert_string_equal(a.values[1], "v2");
	cli_args_free(&a);
	args_ok(&a, NULL, "set-many", "k", "v", "--expire-at", "0", NULL);
	assert_int_equal(a.expiry.kind, CW_EXPIRY_AT);
	assert_int_equal(a.expiry.ms, 1);
	cli_args_free(&a);
	/* a value may look like an option after "--" */
	args_ok(&a, NULL, "set-many", "--", "k", "--ttl", NULL);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.values[0], "--ttl");
	assert_int_equal(a.expiry.kind, CW_EXPIRY_NONE);
	cli_args_free(&a);

	/* the single-key commands allocate nothing */
	args_ok(&a, NULL, "get", "k", NULL);
	assert_null(a.keys);
	assert_int_equal(a.count, 0);
	/* nor --help, even after a batch command */
	args_ok(&a, NULL, "get-many", "a", "b", "--help", NULL);
	assert_int_equal(a.cmd, CLI_CMD_HELP);
	assert_null(a.keys);

	/* a batch as large as the command line allows */
	char *many[2 * 1000 + 3];
	char names[1000][16];
	int argc = 0;
	many[argc++] = (char *)"cachewire";
	many[argc++] = (char *)"set-many";
	for (int i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof names[i], "key%d", i);
		many[argc++] = names[i];
		many[argc++] = names[i];
	}
	many[argc] = NULL;
	assert_int_equal(
	    cli_parse_args(&a, argc, many, NULL, NULL, errbuf, sizeof errbuf),
	    0);
	assert_int_equal(a.count, 1000);
	assert_string_equal(a.keys[999], "key999");
	assert_string_equal(a.values[999], "key999");
	cli_args_free(&a);
}

static void test_many_usage_errors(void **state)
{
	(void)state;
	args_bad("'get-many' needs at least one KEY", "get-many", NULL);
	args_bad("'delete-many' needs at least one KEY", "delete-many",
	    "--timeout", "1s", NULL);
	args_bad(
	    "'set-many' needs at least one KEY VALUE pair", "set-many", NULL);
	args_bad("'set-many' needs at least one KEY VALUE pair", "set-many",
	    "--ttl", "5s", NULL);
	/* an odd number of arguments: the last KEY has no VALUE */
	args_bad("KEY 'k' has no VALUE", "set-many", "k", NULL);
	args_bad(
	    "KEY 'c' has no VALUE", "set-many", "a", "1", "b", "2", "c", NULL);
	args_bad("KEY VALUE pairs", "set-many", "a", "1", "b", NULL);
	args_bad("KEY must not be empty (KEY 2 of 3)", "get-many", "a", "", "c",
	    NULL);
	args_bad("KEY must not be empty (KEY 1 of 1)", "delete-many", "", NULL);
	args_bad("KEY must not be empty (pair 2 of 2)", "set-many", "a", "1",
	    "", "2", NULL);
	args_bad("'--ttl' is only valid with 'set' and 'set-many'", "get-many",
	    "k", "--ttl", "5s", NULL);
	args_bad("'--expire-at' is only valid with 'set' and 'set-many'",
	    "delete-many", "k", "--expire-at", "1767225600", NULL);
	args_bad("'--file' is only valid with 'set'", "set-many", "k", "v",
	    "--file", "f", NULL);
	args_bad("cannot be used together", "set-many", "k", "v", "--ttl", "5s",
	    "--expire-at", "1767225600", NULL);
	args_bad(
	    "invalid duration", "set-many", "k", "v", "--ttl", "soon", NULL);
	args_bad("set-many takes KEY VALUE pairs", "set", "k", "v", NULL);
	args_bad("unknown command 'getmany'", "getmany", "k", NULL);
	args_bad("unknown command 'get_many'", "get_many", "k", NULL);
	args_bad("unknown command 'del-many'", "del-many", "k", NULL);
}

/* ---- TLS, token and namespace options
 * ----------------------------------------- */

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

static void test_option_names(void **state)
{
	char out[256];

	(void)state;
	cli_option_names(
	    "tls_ca_file \"/x\": cannot read: No such file", out, sizeof out);
	assert_string_equal(out, "--cacert \"/x\": cannot read: No such file");
	cli_option_names(
	    "tls_cert_file \"c\" / tls_key_file \"k\": bad", out, sizeof out);
	assert_string_equal(out, "--cert \"c\" / --key \"k\": bad");
	cli_option_names("set tls_server_name to a DNS name", out, sizeof out);
	assert_string_equal(out, "set --server-name to a DNS name");
	cli_option_names("nothing to change", out, sizeof out);
	assert_string_equal(out, "nothing to change");
	cli_option_names("", out, sizeof out);
	assert_string_equal(out, "");
	/* Truncated, never overrun. */
	cli_option_names("tls_server_name", out, 6);
	assert_string_equal(out, "--ser");
	cli_option_names("abc", out, 1);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_url_and_timeout),
	    cmocka_unit_test(test_set_options),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_many_commands),
	    cmocka_unit_test(test_many_usage_errors),
	    cmocka_unit_test(test_tls_options),
	    cmocka_unit_test(test_tls_usage_errors),
	    cmocka_unit_test(test_token_and_namespace),
	    cmocka_unit_test(test_admin_commands),
	    cmocka_unit_test(test_admin_usage_errors),
	    cmocka_unit_test(test_option_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
