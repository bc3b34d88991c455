/*
 * args.c - the `cachewire` CLI's command line: options, commands and the
 * environment's defaults (see args.h).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cachewire/cachewire.h>

#include "args.h"
#include "args_internal.h"

enum opt_id {
	OPT_URL,
	OPT_TIMEOUT,
	OPT_TTL,
	OPT_EXPIRE_AT,
	OPT_FILE,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_SERVER_NAME,
	OPT_TOKEN_FILE,
	OPT_NAMESPACE,
	OPT_ADMIN,
	OPT_READY,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option_def {
	const char *name;
	enum opt_id id;
	bool has_value;
} options[] = {
    {"--url", OPT_URL, true},
    {"--timeout", OPT_TIMEOUT, true},
    {"--ttl", OPT_TTL, true},
    {"--expire-at", OPT_EXPIRE_AT, true},
    {"--file", OPT_FILE, true},
    {"--cacert", OPT_CACERT, true},
    {"--cert", OPT_CERT, true},
    {"--key", OPT_KEY, true},
    {"--server-name", OPT_SERVER_NAME, true},
    {"--token-file", OPT_TOKEN_FILE, true},
    {"--namespace", OPT_NAMESPACE, true},
    {"--admin", OPT_ADMIN, true},
    {"--ready", OPT_READY, false},
    {"--help", OPT_HELP, false},
    {"-h", OPT_HELP, false},
    {"--version", OPT_VERSION, false},
};

/* What a command takes after its name. */
enum arity {
	ARGS_NONE,  /* nothing */
	ARGS_KEY,   /* exactly one KEY */
	ARGS_KEYS,  /* KEY... (at least one) */
	ARGS_PAIRS, /* KEY VALUE [KEY VALUE ...] */
};

static const struct {
	const char *name;
	enum cli_command cmd;
	enum arity arity;
} commands[] = {
    {"get", CLI_CMD_GET, ARGS_KEY},
    {"set", CLI_CMD_SET, ARGS_KEY},
    {"del", CLI_CMD_DEL, ARGS_KEY},
    {"get-many", CLI_CMD_GET_MANY, ARGS_KEYS},
    {"set-many", CLI_CMD_SET_MANY, ARGS_PAIRS},
    {"delete-many", CLI_CMD_DELETE_MANY, ARGS_KEYS},
    {"clear", CLI_CMD_CLEAR, ARGS_NONE},
    {"ping", CLI_CMD_PING, ARGS_NONE},
    {"stats", CLI_CMD_STATS, ARGS_NONE},
    {"health", CLI_CMD_HEALTH, ARGS_NONE},
};

/*
 * Find the option arg names; its value is "=..." in arg or the next
 * argument. Returns 0 with *def and *value set, or -1 with a message.
 */
static int match_option(int argc, char *const argv[], int *i,
    const struct option_def **def, const char **value, char *err, size_t errlen)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	size_t k;

	for (k = 0; k < sizeof options / sizeof options[0]; k++) {
		if (strlen(options[k].name) != len ||
		    strncmp(options[k].name, arg, len) != 0)
			continue;
		*def = &options[k];
		*value = NULL;
		if (!options[k].has_value) {
			if (eq != NULL)
				return fail(err, errlen,
				    "option '%s' takes no value",
				    options[k].name);
			return 0;
		}
		if (eq != NULL) {
			*value = eq + 1;
		} else {
			if (*i + 1 >= argc)
				return fail(err, errlen,
				    "option '%s' needs a value",
				    options[k].name);
			*value = argv[++*i];
		}
		if (**value == '\0')
			return fail(err, errlen, "option '%s' needs a value",
			    options[k].name);
		return 0;
	}
	return fail(err, errlen, "unknown option '%.*s'", (int)len, arg);
}

static void add_positional(struct cli_seen *seen, const char *arg)
{
	seen->positional[seen->npositional++] = arg;
}

static int scan_args(struct cli_args *out, struct cli_seen *seen, int argc,
    char *const argv[], char *err, size_t errlen)
{
	const struct option_def *def = NULL;
	const char *value = NULL;
	bool options_done = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			add_positional(seen, arg);
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (match_option(argc, argv, &i, &def, &value, err, errlen))
			return -1;
		switch (def->id) {
		case OPT_HELP:
			out->cmd = CLI_CMD_HELP;
			return 1;
		case OPT_VERSION:
			out->cmd = CLI_CMD_VERSION;
			return 1;
		case OPT_URL:
			seen->url = value;
			break;
		case OPT_TIMEOUT:
			seen->timeout = value;
			break;
		case OPT_TTL:
			seen->ttl = value;
			break;
		case OPT_EXPIRE_AT:
			seen->expire_at = value;
			break;
		case OPT_FILE:
			seen->file = value;
			break;
		case OPT_CACERT:
			out->tls_ca = value;
			break;
		case OPT_CERT:
			out->tls_cert = value;
			break;
		case OPT_KEY:
			out->tls_key = value;
			break;
		case OPT_SERVER_NAME:
			out->tls_server_name = value;
			break;
		case OPT_TOKEN_FILE:
			seen->token_file = value;
			break;
		case OPT_NAMESPACE:
			out->namespace_ = value;
			break;
		case OPT_ADMIN:
			seen->admin = value;
			break;
		case OPT_READY:
			seen->ready = true;
			break;
		}
	}
	return 0;
}

static int apply_set_options(
    struct cli_args *out, const struct cli_seen *seen, char *err, size_t errlen)
{
	uint64_t ms;

	if (seen->ttl != NULL && seen->expire_at != NULL)
		return fail(err, errlen,
		    "--ttl and --expire-at cannot be used together");
	if (seen->ttl != NULL) {
		if (cli_parse_duration(seen->ttl, &ms, err, errlen) != 0)
			return -1;
		out->expiry = ms == 0 ? CW_NO_EXPIRY : CW_TTL_MS(ms);
	}
	if (seen->expire_at != NULL) {
		if (cli_parse_time(seen->expire_at, &ms, err, errlen) != 0)
			return -1;
		/*
		 * On the wire 0 means "never"; the epoch itself is simply a
		 * time in the past, so send the next millisecond.
		 */
		out->expiry = CW_EXPIRE_AT_MS(ms == 0 ? 1 : ms);
	}
	if (seen->file != NULL && strcmp(seen->file, "-") != 0)
		out->file = seen->file;
	return 0;
}

/*
 * The arguments after the command's name: check them against its arity and
 * record them in out (key, or keys / values for the batch commands).
 */
static int apply_operands(struct cli_args *out, const struct cli_seen *seen,
    const char *name, enum arity arity, char *err, size_t errlen)
{
	const char *const *operands = seen->positional + 1;
	size_t n = (size_t)seen->npositional - 1;
	size_t i;

	switch (arity) {
	case ARGS_NONE:
		if (n > 0)
			return fail(err, errlen, "unexpected argument '%s'",
			    operands[0]);
		return 0;
	case ARGS_KEY:
		if (n == 0)
			return fail(err, errlen, "'%s' needs a KEY", name);
		out->key = operands[0];
		if (out->key[0] == '\0')
			return fail(err, errlen, "KEY must not be empty");
		if (n > 1)
			return fail(err, errlen,
			    out->cmd == CLI_CMD_SET
			        ? "unexpected argument '%s' (set reads the "
			          "value from stdin or --file; set-many takes "
			          "KEY VALUE pairs)"
			        : "unexpected argument '%s'",
			    operands[1]);
		return 0;
	case ARGS_KEYS:
		if (n == 0)
			return fail(
			    err, errlen, "'%s' needs at least one KEY", name);
		for (i = 0; i < n; i++)
			if (operands[i][0] == '\0')
				return fail(err, errlen,
				    "KEY must not be empty (KEY %zu of %zu)",
				    i + 1, n);
		if ((out->keys = malloc(n * sizeof *out->keys)) == NULL)
			return fail(err, errlen, "out of memory");
		memcpy(out->keys, operands, n * sizeof *out->keys);
		out->count = n;
		return 0;
	case ARGS_PAIRS:
		if (n == 0)
			return fail(err, errlen,
			    "'%s' needs at least one KEY VALUE pair", name);
		if (n % 2 != 0)
			return fail(err, errlen,
			    "'%s' takes KEY VALUE pairs; KEY '%s' has no VALUE",
			    name, operands[n - 1]);
		for (i = 0; i < n; i += 2)
			if (operands[i][0] == '\0')
				return fail(err, errlen,
				    "KEY must not be empty (pair %zu of %zu)",
				    i / 2 + 1, n / 2);
		/* One allocation: keys in [0, n/2), values in [n/2, n). */
		if ((out->keys = malloc(n * sizeof *out->keys)) == NULL)
			return fail(err, errlen, "out of memory");
		out->values = out->keys + n / 2;
		out->count = n / 2;
		for (i = 0; i < n / 2; i++) {
			out->keys[i] = operands[2 * i];
			out->values[i] = operands[2 * i + 1];
		}
		return 0;
	}
	return fail(err, errlen, "unknown command '%s'", name);
}

static int parse(struct cli_args *out, struct cli_seen *seen, int argc,
    char *const argv[], char *err, size_t errlen)
{
	const char *name;
	enum arity arity = ARGS_NONE;
	bool sets, admin;
	uint64_t ms;
	size_t k;
	int rc;

	if ((rc = scan_args(out, seen, argc, argv, err, errlen)) != 0)
		return rc < 0 ? -1 : 0;

	if (seen->npositional == 0)
		return fail(err, errlen,
		    "no command given (get, set, del, get-many, set-many, "
		    "delete-many, clear, ping, stats or health)");
	name = seen->positional[0];
	for (k = 0; k < sizeof commands / sizeof commands[0]; k++) {
		if (strcmp(commands[k].name, name) == 0) {
			out->cmd = commands[k].cmd;
			arity = commands[k].arity;
			break;
		}
	}
	if (out->cmd == CLI_CMD_NONE)
		return fail(err, errlen, "unknown command '%s'", name);

	if (apply_operands(out, seen, name, arity, err, errlen) != 0)
		return -1;

	sets = out->cmd == CLI_CMD_SET || out->cmd == CLI_CMD_SET_MANY;
	if (!sets && (seen->ttl != NULL || seen->expire_at != NULL))
		return fail(err, errlen,
		    "option '%s' is only valid with 'set' and 'set-many'",
		    seen->ttl != NULL ? "--ttl" : "--expire-at");
	if (out->cmd != CLI_CMD_SET && seen->file != NULL)
		return fail(err, errlen,
		    "option '--file' is only valid with 'set' (set-many "
		    "takes its values as arguments)");
	if (sets && apply_set_options(out, seen, err, errlen) != 0)
		return -1;

	admin = out->cmd == CLI_CMD_STATS || out->cmd == CLI_CMD_HEALTH;
	if (!admin && seen->admin != NULL)
		return fail(err, errlen,
		    "option '--admin' is only valid with 'stats' and 'health'");
	if (out->cmd != CLI_CMD_HEALTH && seen->ready)
		return fail(err, errlen,
		    "option '--ready' is only valid with 'health'");
	if (admin && cli_apply_admin_options(out, seen, name, err, errlen) != 0)
		return -1;

	if (!admin && seen->url != NULL)
		out->url = seen->url;
	if (!admin && cli_apply_tls_options(out, err, errlen) != 0)
		return -1;
	if (!admin && seen->token_file != NULL) {
		out->token_file = seen->token_file;
		out->token_file_from = "--token-file";
	}
	if (seen->timeout != NULL) {
		if (cli_parse_duration(seen->timeout, &ms, err, errlen) != 0)
			return -1;
		if (ms == 0 || ms > INT_MAX)
			return fail(err, errlen,
			    "--timeout must be between 1ms and %dms", INT_MAX);
		out->timeout_ms = (int)ms;
	}
	return 0;
}

int cli_parse_args(struct cli_args *out, int argc, char *const argv[],
    const char *env_url, const char *env_token_file, char *err, size_t errlen)
{
	struct cli_seen seen;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&seen, 0, sizeof seen);
	out->cmd = CLI_CMD_NONE;
	out->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	out->expiry = CW_NO_EXPIRY;
	out->url =
	    env_url != NULL && env_url[0] != '\0' ? env_url : CW_DEFAULT_URL;
	if (env_token_file != NULL && env_token_file[0] != '\0') {
		out->token_file = env_token_file;
		out->token_file_from = "CACHEWIRE_TOKEN_FILE";
	}

	seen.positional =
	    malloc((argc > 0 ? (size_t)argc : 1) * sizeof *seen.positional);
	if (seen.positional == NULL)
		return fail(err, errlen, "out of memory");
	rc = parse(out, &seen, argc, argv, err, errlen);
	free(seen.positional);
	if (rc != 0)
		cli_args_free(out);
	return rc;
}

void cli_args_free(struct cli_args *a)
{
	if (a == NULL)
		return;
	free(a->keys);
	a->keys = NULL;
	a->values = NULL;
	a->count = 0;
}
