/*
 * test_cli_args.c - the `cachewire` CLI's command line (client/cli/args.c):
 * every way a command line can be right or wrong, the --help text, and the
 * library's messages in the CLI's option names. The connection options
 * (TLS, token, namespace) and the admin commands: test_cli_args_conn.c.
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

/* ---- the library's messages in the CLI's words ---- */

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
	    cmocka_unit_test(test_option_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
