/*
 * cli_args_helpers.h - what test_cli_args.c and test_cli_args_conn.c
 * share: parse a command line given as arguments, expect success or a
 * message. Included once per test program.
 */
#ifndef CW_TEST_CLI_ARGS_HELPERS_H
#define CW_TEST_CLI_ARGS_HELPERS_H

static char errbuf[512];

/* $CACHEWIRE_TOKEN_FILE for the next parse_v (NULL: unset). */
static const char *env_token_file;

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
static inline int parse_v(struct cli_args *a, const char *env_url, va_list ap)
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

static inline void args_ok(struct cli_args *a, const char *env_url, ...)
{
	va_list ap;
	int rc;

	va_start(ap, env_url);
	rc = parse_v(a, env_url, ap);
	va_end(ap);
	if (rc != 0)
		fail_msg("arguments rejected: %s", errbuf);
}

static inline void args_bad_v(
    const char *env_url, const char *want_in_message, va_list ap)
{
	struct cli_args a;

	if (parse_v(&a, env_url, ap) == 0)
		fail_msg("arguments accepted; wanted an error with '%s'",
		    want_in_message);
	if (strstr(errbuf, want_in_message) == NULL)
		fail_msg("message '%s' lacks '%s'", errbuf, want_in_message);
}

static inline void args_bad(const char *want_in_message, ...)
{
	va_list ap;

	va_start(ap, want_in_message);
	args_bad_v(NULL, want_in_message, ap);
	va_end(ap);
}

/* args_bad with $CACHEWIRE_URL set to env_url. */
static inline void args_bad_env(
    const char *env_url, const char *want_in_message, ...)
{
	va_list ap;

	va_start(ap, want_in_message);
	args_bad_v(env_url, want_in_message, ap);
	va_end(ap);
}

/* ---- commands
 * ------------------------------------------------------------------ */

#endif
