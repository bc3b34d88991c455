/* args.c - command-line parsing for the `cachewire` CLI (see args.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cachewire/cachewire.h>

#include "args.h"

const char cli_help_text[] =
    "Usage: cachewire [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Talk to a cachewired server.\n"
    "\n"
    "Commands:\n"
    "  get KEY    write the value to stdout (raw bytes, nothing added)\n"
    "  set KEY    store the value read from stdin (or --file)\n"
    "  del KEY    remove KEY\n"
    "  get-many KEY...\n"
    "             look up every KEY in one round trip; for each KEY, in\n"
    "             the order given: a line \"KEY<TAB>LEN\", then the value\n"
    "             (LEN raw bytes) and a newline; for a missing KEY only the\n"
    "             line \"KEY<TAB>-\"\n"
    "  set-many KEY VALUE [KEY VALUE...]\n"
    "             store each VALUE (an argument) under its KEY in one round\n"
    "             trip; --ttl / --expire-at apply to every KEY\n"
    "  delete-many KEY...\n"
    "             remove every KEY in one round trip\n"
    "  clear      remove every key of the server's namespace; prints how\n"
    "             many were removed\n"
    "  ping       check the server and its Redis; prints the server version\n"
    "\n"
    "Options (before or after the command; \"--\" ends them):\n"
    "  --url URL         server address: tcp://HOST:PORT, ipc:///PATH, ...\n"
    "                    (default: $CACHEWIRE_URL, else " CW_DEFAULT_URL ")\n"
    "  --timeout DUR     how long to wait for the server (default 5s)\n"
    "  --ttl DUR         set, set-many: expire DUR from now (0 = never)\n"
    "  --expire-at TIME  set, set-many: expire at TIME (a past TIME removes\n"
    "                    the key)\n"
    "  --file F          set: read the value from F (\"-\" = stdin)\n"
    "  --token-file F    send the bearer token in F (one line) with every\n"
    "                    request (default: $CACHEWIRE_TOKEN_FILE)\n"
    "  --namespace NS    work in namespace NS: 1 to 64 of A-Z a-z 0-9 _ . -\n"
    "                    (default: the server's, or the token's first)\n"
    "  -h, --help        show this help and exit\n"
    "  --version         show the version and exit\n"
    "\n"
    "TLS (tls+tcp://HOST:PORT URLs only):\n"
    "  --cacert F        the CA certificate(s) that signed the server's\n"
    "                    certificate (PEM); required\n"
    "  --cert F          client certificate (PEM), for servers that require "
    "one\n"
    "  --key F           its private key (PEM, unencrypted); --cert and --key\n"
    "                    go together\n"
    "  --server-name N   the name the server's certificate must carry\n"
    "                    (default: the URL's HOST; nng's TLS matches DNS\n"
    "                    names only, so with an IP address as HOST give one)\n"
    "\n"
    "DUR:  1500ms, 60s, 2m, 1h, 1d, or a bare number of seconds.\n"
    "TIME: Unix seconds (1767225600 or 1767225600.250), Unix milliseconds\n"
    "      (1767225600250ms), or RFC 3339 (2026-11-25T12:00:00Z,\n"
    "      2026-11-25T12:00:00.250+01:00).\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  key not found (get of a missing key, del of a missing key;\n"
    "     get-many or delete-many when any KEY is missing: stderr names\n"
    "     each)\n"
    "  2  usage error: bad arguments, or the value's input, the token file\n"
    "     or a TLS file cannot be read\n"
    "  3  the server or the transport failed, or stdout cannot be written;\n"
    "     stderr says why, e.g. \"cachewire: UNAVAILABLE: <message>\"\n";

static int fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read a run of decimal digits at *p into *v (checked for overflow) and
 * advance *p. Returns the number of digits, or -1 on overflow.
 */
static int scan_uint(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	int digits = 0;

	while (is_digit(*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		s++;
		digits++;
	}
	*p = s;
	*v = n;
	return digits;
}

/* ---- durations ------------------------------------------------------------
 */

int cli_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60 * 1000},
	    {"h", 60 * 60 * 1000},
	    {"d", 24 * 60 * 60 * 1000},
	    {"", 1000},
	};
	const char *p = s;
	uint64_t n;
	int digits;
	size_t i;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty duration");
	digits = scan_uint(&p, &n);
	if (digits == 0)
		return fail(err, errlen,
		    "invalid duration '%s' (expected e.g. 1500ms, 60s, 2m, "
		    "1h, 1d)",
		    s);
	if (digits < 0)
		return fail(err, errlen, "duration '%s' is too large", s);
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].ms)
			return fail(
			    err, errlen, "duration '%s' is too large", s);
		*ms = n * units[i].ms;
		return 0;
	}
	return fail(err, errlen,
	    "invalid duration '%s' (units: ms, s, m, h, d; a bare number "
	    "is seconds)",
	    s);
}

/* ---- times ------------------------------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dim[m - 1];
}

/* Exactly n digits at *p, into *v. */
static bool fixed_digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		x = x * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* Milliseconds from a fraction's digits at *p (at least one required). */
static bool fraction_ms(const char **p, unsigned *ms)
{
	const char *s = *p;
	unsigned v = 0;
	int i;

	if (!is_digit(*s))
		return false;
	for (i = 0; is_digit(*s); i++, s++)
		if (i < 3)
			v = v * 10 + (unsigned)(*s - '0');
	for (; i < 3; i++)
		v *= 10;
	*p = s;
	*ms = v;
	return true;
}

static int parse_rfc3339(
    const char *s, uint64_t *unix_ms, char *err, size_t errlen)
{
	const char *p = s;
	unsigned year, mon, day, hour, min, sec, ms = 0, oh = 0, om = 0;
	int sign = 0;
	int64_t t;

	/* RFC 3339 allows 't' and (section 5.6, note) a space for 'T'. */
	if (!fixed_digits(&p, 4, &year) || *p++ != '-' ||
	    !fixed_digits(&p, 2, &mon) || *p++ != '-' ||
	    !fixed_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		goto syntax;
	p++;
	if (!fixed_digits(&p, 2, &hour) || *p++ != ':' ||
	    !fixed_digits(&p, 2, &min) || *p++ != ':' ||
	    !fixed_digits(&p, 2, &sec))
		goto syntax;
	if (*p == '.') {
		p++;
		if (!fraction_ms(&p, &ms))
			goto syntax;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!fixed_digits(&p, 2, &oh) || *p++ != ':' ||
		    !fixed_digits(&p, 2, &om))
			goto syntax;
	} else {
		goto syntax;
	}
	if (*p != '\0')
		goto syntax;

	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return fail(err, errlen, "invalid date in '%s'", s);
	/* 60 is a leap second; it counts as the next minute's 0. */
	if (hour > 23 || min > 59 || sec > 60)
		return fail(err, errlen, "invalid time of day in '%s'", s);
	if (oh > 23 || om > 59)
		return fail(err, errlen, "invalid UTC offset in '%s'", s);

	t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 +
	    sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	if (t < 0)
		return fail(err, errlen, "time '%s' is before 1970", s);
	*unix_ms = (uint64_t)t * 1000 + ms;
	return 0;

syntax:
	return fail(err, errlen,
	    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC 3339 "
	    "such as 2026-11-25T12:00:00Z)",
	    s);
}

int cli_parse_time(const char *s, uint64_t *unix_ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t n;
	unsigned ms = 0;
	int digits;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty time");
	digits = scan_uint(&p, &n);
	if (digits > 0 && *p == '-')
		return parse_rfc3339(s, unix_ms, err, errlen);
	if (digits < 0)
		return fail(err, errlen, "time '%s' is too large", s);
	if (digits == 0)
		return fail(err, errlen,
		    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC "
		    "3339 such as 2026-11-25T12:00:00Z)",
		    s);
	if (strcmp(p, "ms") == 0) {
		*unix_ms = n;
		return 0;
	}
	if (*p == '.') {
		p++;
		if (!fraction_ms(&p, &ms))
			return fail(err, errlen,
			    "invalid time '%s' (no digits after '.')", s);
	}
	if (*p != '\0')
		return fail(err, errlen,
		    "invalid time '%s' (expected Unix seconds, <n>ms, or RFC "
		    "3339 such as 2026-11-25T12:00:00Z)",
		    s);
	if (n > (UINT64_MAX - ms) / 1000)
		return fail(err, errlen, "time '%s' is too large", s);
	*unix_ms = n * 1000 + ms;
	return 0;
}

/* ---- arguments
 * --------------------------------------------------------------- */

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
};

/* What the options said, before we know the command. */
struct seen {
	const char *url;
	const char *timeout;
	const char *ttl;
	const char *expire_at;
	const char *file;
	const char *token_file;
	/* Every non-option argument, in order (room for argc of them). */
	const char **positional;
	int npositional;
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

static void add_positional(struct seen *seen, const char *arg)
{
	seen->positional[seen->npositional++] = arg;
}

static int scan_args(struct cli_args *out, struct seen *seen, int argc,
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
		}
	}
	return 0;
}

static int apply_set_options(
    struct cli_args *out, const struct seen *seen, char *err, size_t errlen)
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
static int apply_operands(struct cli_args *out, const struct seen *seen,
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

static bool is_tls_url(const char *url)
{
	return strncasecmp(url, "tls+tcp://", 10) == 0 ||
	       strncasecmp(url, "tls+tcp4://", 11) == 0 ||
	       strncasecmp(url, "tls+tcp6://", 11) == 0;
}

/* The TLS options against the URL, once both are known. */
static int apply_tls_options(struct cli_args *out, char *err, size_t errlen)
{
	const char *given = out->tls_ca != NULL            ? "--cacert"
	                    : out->tls_cert != NULL        ? "--cert"
	                    : out->tls_key != NULL         ? "--key"
	                    : out->tls_server_name != NULL ? "--server-name"
	                                                   : NULL;

	if (!is_tls_url(out->url)) {
		if (given != NULL)
			return fail(err, errlen,
			    "option '%s' needs a tls+tcp:// URL (the URL is "
			    "'%s')",
			    given, out->url);
		return 0;
	}
	if (out->tls_ca == NULL)
		return fail(err, errlen,
		    "a tls+tcp:// URL needs --cacert FILE (the CA that signed "
		    "the server's certificate)");
	if ((out->tls_cert == NULL) != (out->tls_key == NULL))
		return fail(err, errlen,
		    "--cert and --key go together: the client certificate and "
		    "its private key (%s is missing)",
		    out->tls_cert == NULL ? "--cert" : "--key");
	return 0;
}

static int parse(struct cli_args *out, struct seen *seen, int argc,
    char *const argv[], char *err, size_t errlen)
{
	const char *name;
	enum arity arity = ARGS_NONE;
	bool sets;
	uint64_t ms;
	size_t k;
	int rc;

	if ((rc = scan_args(out, seen, argc, argv, err, errlen)) != 0)
		return rc < 0 ? -1 : 0;

	if (seen->npositional == 0)
		return fail(err, errlen,
		    "no command given (get, set, del, get-many, set-many, "
		    "delete-many, clear or ping)");
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

	if (seen->url != NULL)
		out->url = seen->url;
	if (apply_tls_options(out, err, errlen) != 0)
		return -1;
	if (seen->token_file != NULL) {
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
	struct seen seen;
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

/* ---- the token file
 * ---------------------------------------------------------- */

/* memset through a volatile pointer: not optimised away before free(). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void cli_token_free(char *token)
{
	if (token != NULL) {
		wipe_memset(token, 0, strlen(token));
		free(token);
	}
}

int cli_read_token_file(
    const char *path, const char *from, char **token, char *err, size_t errlen)
{
	/* The token, its line break, and one byte to tell a longer file. */
	char buf[CLI_TOKEN_MAX + 3];
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(err, errlen, "%s '%s': cannot read: %s", from, path,
		    strerror(errno));
	while (len < sizeof buf) {
		n = read(fd, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(err, errlen, "%s '%s': cannot read: %s", from,
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* One line: drop its "\n" or "\r\n". */
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > CLI_TOKEN_MAX)
		fail(err, errlen, "%s '%s': the token is longer than %d bytes",
		    from, path, CLI_TOKEN_MAX);
	else if (len == 0)
		fail(err, errlen, "%s '%s': the file holds no token", from,
		    path);
	else if (memchr(buf, '\0', len) != NULL)
		fail(err, errlen, "%s '%s': the file contains a NUL byte", from,
		    path);
	else if (memchr(buf, '\n', len) != NULL ||
	         memchr(buf, '\r', len) != NULL)
		fail(err, errlen,
		    "%s '%s': the file has more than one line (the token is "
		    "one line)",
		    from, path);
	else if ((*token = malloc(len + 1)) == NULL)
		fail(err, errlen, "out of memory");
	else {
		memcpy(*token, buf, len);
		(*token)[len] = '\0';
		rc = 0;
	}
out:
	close(fd);
	wipe_memset(buf, 0, sizeof buf);
	return rc;
}

/* ---- messages
 * --------------------------------------------------------------- */

void cli_option_names(const char *msg, char *out, size_t outlen)
{
	static const struct {
		const char *field, *option;
	} names[] = {
	    {"tls_ca_file", "--cacert"},
	    {"tls_cert_file", "--cert"},
	    {"tls_key_file", "--key"},
	    {"tls_server_name", "--server-name"},
	};
	size_t o = 0, k;

	if (outlen == 0)
		return;
	while (*msg != '\0' && o + 1 < outlen) {
		for (k = 0; k < sizeof names / sizeof names[0]; k++) {
			size_t n = strlen(names[k].field);
			if (strncmp(msg, names[k].field, n) == 0) {
				size_t m = strlen(names[k].option);
				if (m > outlen - 1 - o)
					m = outlen - 1 - o;
				memcpy(out + o, names[k].option, m);
				o += m;
				msg += n;
				break;
			}
		}
		if (k == sizeof names / sizeof names[0])
			out[o++] = *msg++;
	}
	out[o] = '\0';
}
