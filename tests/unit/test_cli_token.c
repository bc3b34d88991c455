/*
 * test_cli_token.c - reading the `cachewire` CLI's token file
 * (client/cli/token.c): what it accepts, and what it says when it does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "args.h"

static char errbuf[512];

static char tmpdir[64];

/* Write len bytes of data to a new file in tmpdir; returns its path. */
static const char *token_file(const char *name, const char *data, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void token_ok(const char *data, size_t len, const char *want)
{
	const char *path = token_file("ok", data, len);
	char *tok = NULL;

	errbuf[0] = '\0';
	if (cli_read_token_file(
	        path, "--token-file", &tok, errbuf, sizeof errbuf) != 0)
		fail_msg("token file rejected: %s", errbuf);
	assert_string_equal(tok, want);
	cli_token_free(tok);
	unlink(path);
}

/* The message names the source and the file, never the content. */
static void token_bad(const char *data, size_t len, const char *want)
{
	const char *path = token_file("bad", data, len);
	char *tok = NULL;

	errbuf[0] = '\0';
	if (cli_read_token_file(
	        path, "CACHEWIRE_TOKEN_FILE", &tok, errbuf, sizeof errbuf) == 0)
		fail_msg("token file accepted; wanted '%s'", want);
	assert_null(tok);
	if (strstr(errbuf, want) == NULL)
		fail_msg("message '%s' lacks '%s'", errbuf, want);
	assert_non_null(strstr(errbuf, "CACHEWIRE_TOKEN_FILE"));
	assert_non_null(strstr(errbuf, path));
	assert_null(strstr(errbuf, "SeCrEt"));
	unlink(path);
}

static void test_token_file(void **state)
{
	static char big[CLI_TOKEN_MAX + 8];
	char *tok = NULL;

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_cli_token.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	token_ok("SeCrEt\n", 7, "SeCrEt");
	token_ok("SeCrEt\r\n", 8, "SeCrEt");
	token_ok("SeCrEt", 6, "SeCrEt"); /* no line break at the end */
	token_ok("with inner spaces\n", 18, "with inner spaces");
	/* The longest token: CLI_TOKEN_MAX bytes. */
	static char longest[CLI_TOKEN_MAX + 1];
	memset(longest, 'x', CLI_TOKEN_MAX);
	memcpy(big, longest, CLI_TOKEN_MAX);
	big[CLI_TOKEN_MAX] = '\n';
	token_ok(big, CLI_TOKEN_MAX + 1, longest);
	big[CLI_TOKEN_MAX] = '\r';
	big[CLI_TOKEN_MAX + 1] = '\n';
	token_ok(big, CLI_TOKEN_MAX + 2, longest);
	token_ok(big, CLI_TOKEN_MAX, longest);

	token_bad("", 0, "holds no token");
	token_bad("\n", 1, "holds no token");
	token_bad("\r\n", 2, "holds no token");
	token_bad("SeCrEt\nline2\n", 13, "more than one line");
	token_bad("SeCrEt\n\n", 8, "more than one line");
	token_bad("SeCrEt\rx", 8, "more than one line");
	token_bad("SeC\0rEt\n", 8, "NUL byte");
	memset(big, 'x', sizeof big);
	token_bad(big, CLI_TOKEN_MAX + 1, "longer than 4096 bytes");
	big[CLI_TOKEN_MAX + 1] = '\n';
	token_bad(big, CLI_TOKEN_MAX + 2, "longer than 4096 bytes");
	token_bad(big, sizeof big, "longer than 4096 bytes");

	/* Files that cannot be read. */
	char missing[128];
	snprintf(missing, sizeof missing, "%s/missing", tmpdir);
	assert_int_equal(cli_read_token_file(missing, "--token-file", &tok,
	                     errbuf, sizeof errbuf),
	    -1);
	assert_null(tok);
	assert_non_null(strstr(errbuf, "--token-file '"));
	assert_non_null(strstr(errbuf, "/missing': cannot read: No such file"));
	assert_int_equal(cli_read_token_file(tmpdir, "--token-file", &tok,
	                     errbuf, sizeof errbuf),
	    -1);
	assert_non_null(strstr(errbuf, "cannot read: Is a directory"));
	assert_int_equal(rmdir(tmpdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
