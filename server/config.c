/*
 * config.c - cachewired's configuration (config.h).
 *
 * One table (keys[] below) lists every key once: where it lives in the YAML
 * file, its type, range and default. The YAML walker, the environment
 * (CACHEWIRE_<SECTION>_<KEY>, derived from the table), the defaults and
 * cw_config_validate all go through the same value parser, set_value(),
 * and the same checks, check_value().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include <yaml.h>

#include "cache.h"
#include "config.h"

#define KIB (1LL << 10)
#define MIB (1LL << 20)
#define GIB (1LL << 30)

/* Room for one message, before its position or variable is prefixed. */
#define MSG_MAX        400
#define FILE_MAX       (1 << 20)  /* cw_config_load_file reads at most this */
#define ENVELOPE_BYTES (64 * KIB) /* room for the rpc envelope of a value */

enum ktype {
	KT_LISTEN,    /* list of nng URLs (top level) */
	KT_INT,       /* int, decimal, in min..max */
	KT_SIZE,      /* size_t, bytes or KiB/MiB/GiB, in min..max */
	KT_LEVEL,     /* enum cw_log_level by name */
	KT_NAMESPACE, /* char *, [A-Za-z0-9_.-]{1,64} */
	KT_REDIS_URL, /* char *, accepted by cw_redis_url_parse */
};

struct key {
	const char *section; /* NULL for a top-level key */
	const char *name;
	enum ktype type;
	size_t off; /* of the field in cw_config */
	long long min, max;
	const char *def; /* the default, written as in the environment */
};

#define F(field) offsetof(cw_config, field)

/* config.h and config/cachewire.yaml document the same values. */
static const struct key keys[] = {
    {NULL, "listen", KT_LISTEN, F(listen), 1, CW_MAX_LISTEN,
        "tcp://127.0.0.1:7420,ipc:///tmp/cachewire.sock"},
    {"server", "workers", KT_INT, F(workers), 1, 1024, "16"},
    {"server", "max_message_bytes", KT_SIZE, F(max_message_bytes), KIB, GIB,
        "33MiB"},
    {"server", "default_timeout_ms", KT_INT, F(default_timeout_ms), 1, 3600000,
        "5000"},
    {"redis", "url", KT_REDIS_URL, F(redis_url), 0, 0,
        "redis://127.0.0.1:6379/0"},
    {"redis", "pool_size", KT_INT, F(pool_size), 1, 256, "8"},
    {"redis", "connect_timeout_ms", KT_INT, F(connect_timeout_ms), 1, 3600000,
        "1000"},
    {"redis", "command_timeout_ms", KT_INT, F(command_timeout_ms), 1, 3600000,
        "5000"},
    {"cache", "namespace", KT_NAMESPACE, F(namespace_), 1, 64, "cachewire"},
    {"cache", "max_key_bytes", KT_SIZE, F(max_key_bytes), 1, MIB, "4096"},
    {"cache", "max_value_bytes", KT_SIZE, F(max_value_bytes), 1, 512 * MIB,
        "32MiB"},
    {"cache", "clear_batch", KT_INT, F(clear_batch), 1, 100000, "512"},
    {"log", "level", KT_LEVEL, F(log_level), 0, 0, "info"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* CACHEWIRE_* variables that belong to the client, the CLI or main.c. */
static const char *const env_allowed[] = {
    "CACHEWIRE_URL",
    "CACHEWIRE_CONFIG",
    "CACHEWIRE_TIMEOUT",
};
#define ENV_PREFIX "CACHEWIRE_"

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_labels[] = {"DEBUG", "INFO", "WARN", "ERROR"};

const char *cw_log_level_name(enum cw_log_level l)
{
	if ((int)l < 0 ||
	    (int)l >= (int)(sizeof level_labels / sizeof level_labels[0]))
		return "UNKNOWN";
	return level_labels[l];
}

/* ---- messages --------------------------------------------------------- */

/* Write one line into errbuf (newlines become spaces) and return -1. */
static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (errbuf == NULL || errlen == 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	for (char *p = errbuf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

/* s as a double-quoted, escaped string of at most ~48 characters. */
static const char *quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; s[i] != '\0' && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i == 48) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* A key as typed: as it is when it looks like one, else quoted. */
static const char *key_text(
    char *buf, size_t len, const char *prefix, const char *name)
{
	char full[160];
	bool plain = strlen(name) <= 64 && name[0] != '\0';
	for (const char *p = name; plain && *p != '\0'; p++)
		plain = isalnum((unsigned char)*p) || strchr("_.-", *p);
	snprintf(full, sizeof full, "%s%.64s", prefix, name);
	if (plain) {
		snprintf(buf, len, "%s", full);
		return buf;
	}
	return quote(buf, len, full);
}

/* A size the way a person writes it: "32MiB", "4096". */
static const char *fmt_size(char *buf, size_t len, long long v)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, len, "%lldGiB", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%lldMiB", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, len, "%lldKiB", v / KIB);
	else
		snprintf(buf, len, "%lld", v);
	return buf;
}

static const char *fmt_number(
    char *buf, size_t len, const struct key *k, long long v)
{
	if (k->type == KT_SIZE)
		return fmt_size(buf, len, v);
	snprintf(buf, len, "%lld", v);
	return buf;
}

/* "server.workers", or "listen" for a top-level key. */
static const char *key_path(char *buf, size_t len, const struct key *k)
{
	if (k->section == NULL)
		snprintf(buf, len, "%s", k->name);
	else
		snprintf(buf, len, "%s.%s", k->section, k->name);
	return buf;
}

/* "CACHEWIRE_SERVER_WORKERS", "CACHEWIRE_LISTEN". */
static const char *key_env(char *buf, size_t len, const struct key *k)
{
	char path[64];
	key_path(path, sizeof path, k);
	snprintf(buf, len, ENV_PREFIX "%s", path);
	for (char *p = buf; *p != '\0'; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	return buf;
}

static const char *type_name(enum ktype t)
{
	switch (t) {
	case KT_LISTEN:
		return "a URL or a list of URLs";
	case KT_INT:
		return "an integer";
	case KT_SIZE:
		return "a size (bytes, or a number with a KiB, MiB or GiB "
		       "suffix)";
	case KT_LEVEL:
		return "a log level (debug, info, warn or error)";
	case KT_NAMESPACE:
		return "a string";
	case KT_REDIS_URL:
		return "a URL";
	}
	return "a value";
}

/*
 * Messages name the key when `subject` is set (YAML, validation), and leave
 * it to the caller's prefix when it is NULL (the environment).
 */
#define SUBJ(s) (s) ? (s) : "", (s) ? " " : ""
#define FOR(s)  (s) ? " for " : "", (s) ? (s) : ""

/* ---- "did you mean" ----------------------------------------------------- */

/* Levenshtein distance, case-insensitive; SIZE_MAX for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			              tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Close enough to suggest: a typo or two, never a different short word. */
static bool is_close(size_t d, const char *candidate)
{
	size_t len = strlen(candidate);
	size_t limit = len <= 4 ? 1 : len <= 10 ? 2 : 3;
	return d <= limit && d < len;
}

struct suggestion {
	char text[96];
	size_t score; /* lower is better */
};

/*
 * Consider candidate (shown as `shown`) for what the user typed: a typo
 * (small edit distance) scores best, then a completion (typed, at least 3
 * characters, is the start of the candidate), shortest first. penalty ranks
 * otherwise equal candidates.
 */
static void suggest(struct suggestion *s, const char *typed,
    const char *candidate, const char *shown, size_t penalty)
{
	size_t d = edit_distance(typed, candidate), score;
	size_t lt = strlen(typed), lc = strlen(candidate);
	if (d != SIZE_MAX && is_close(d, candidate))
		score = d * 2 + penalty;
	else if (lt >= 3 && lt < lc && strncasecmp(typed, candidate, lt) == 0)
		score = 100 + (lc - lt) * 2 + penalty;
	else
		return;
	if (s->text[0] == '\0' || score < s->score) {
		snprintf(s->text, sizeof s->text, "%s", shown);
		s->score = score;
	}
}

/* " (did you mean X?)" or "". */
static const char *did_you_mean(
    char *buf, size_t len, const struct suggestion *s)
{
	if (s->text[0] == '\0')
		return "";
	snprintf(buf, len, " (did you mean %s?)", s->text);
	return buf;
}

/* ---- the key table --------------------------------------------------------
 */

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		if ((section == NULL) != (k->section == NULL))
			continue;
		if (section != NULL && strcmp(section, k->section) != 0)
			continue;
		if (strcmp(name, k->name) == 0)
			return k;
	}
	return NULL;
}

static bool is_section(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section && strcmp(keys[i].section, name) == 0)
			return true;
	return false;
}

/* k's field in c. */
static void *field(cw_config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static const void *cfield(const cw_config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

/* ---- values ------------------------------------------------------------- */

/*
 * Parse a decimal integer (with an optional sign when `sign`, with an
 * optional KiB/MiB/GiB suffix when `suffix`). Returns 0, -1 when s is not
 * such a number, 1 when it is one too large for *out.
 */
static int parse_number(const char *s, bool sign, bool suffix, long long *out)
{
	const long long limit = LLONG_MAX / 1024 / 1024 / 1024;
	bool neg = false, big = false;
	long long v = 0;
	if (sign && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > limit)
			big = true;
		else
			v = v * 10 + (*s - '0');
	}
	if (suffix && *s != '\0') {
		static const char *const units[] = {"KiB", "MiB", "GiB"};
		long long mul = 0;
		while (*s == ' ')
			s++;
		for (int i = 0; i < 3; i++)
			if (strcmp(s, units[i]) == 0)
				mul = 1LL << (10 * (i + 1));
		if (mul == 0)
			return -1;
		if (v > limit)
			big = true;
		else
			v *= mul;
		s += 3;
	}
	if (*s != '\0')
		return -1;
	*out = neg ? -v : v;
	return big ? 1 : 0;
}

static int check_range(const struct key *k, long long v, const char *got,
    const char *subject, char *msg, size_t len)
{
	char lo[32], hi[32], num[32];
	if (got == NULL)
		got = fmt_number(num, sizeof num, k, v);
	if (v >= k->min && v <= k->max)
		return 0;
	snprintf(msg, len, "%s%smust be %s..%s, got %s", SUBJ(subject),
	    fmt_number(lo, sizeof lo, k, k->min),
	    fmt_number(hi, sizeof hi, k, k->max), got);
	return -1;
}

static int check_namespace(const struct key *k, const char *s,
    const char *subject, char *msg, size_t len)
{
	size_t n = strlen(s);
	bool ok = n >= (size_t)k->min && n <= (size_t)k->max;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || strchr("_.-", s[i]);
	if (ok)
		return 0;
	char q[256];
	snprintf(msg, len,
	    "%s%smust be %lld to %lld characters from A-Z a-z 0-9 _ . -, "
	    "got %s",
	    SUBJ(subject), k->min, k->max, quote(q, sizeof q, s));
	return -1;
}

/* Never echoes the URL: it may hold a password. */
static int check_redis_url(
    const char *s, const char *subject, char *msg, size_t len)
{
	cw_redis_target t;
	cw_error err;
	memset(&t, 0, sizeof t);
	memset(&err, 0, sizeof err);
	if (cw_redis_url_parse(s, &t, &err) == CW_OK) {
		cw_redis_target_free(&t);
		return 0;
	}
	snprintf(msg, len, "invalid %s: %s", subject ? subject : "Redis URL",
	    err.message[0] ? err.message : "cannot parse");
	return -1;
}

/* A URL nng can listen on: tcp[46]://host:port or ipc:///path. */
static int check_listen_url(const char *url, char *msg, size_t len)
{
	static const char *const tcp[] = {"tcp://", "tcp4://", "tcp6://"};
	const char *why = NULL, *rest = NULL;
	char q[256];
	for (int i = 0; i < 3 && rest == NULL; i++)
		if (strncmp(url, tcp[i], strlen(tcp[i])) == 0)
			rest = url + strlen(tcp[i]);
	if (rest != NULL) {
		const char *colon;
		if (*rest == '[') {
			const char *end = strchr(rest, ']');
			colon = end ? end + 1 : NULL;
			if (colon && *colon != ':')
				colon = NULL;
		} else {
			colon = strrchr(rest, ':');
		}
		long long port = -1;
		if (colon == NULL ||
		    parse_number(colon + 1, false, false, &port) != 0 ||
		    port > 65535)
			why = "expected tcp://host:port with a port 0..65535";
		else if (strcspn(rest, "/?# \t") < (size_t)(colon - rest))
			why = "the host may not hold '/', '?', '#' or spaces";
		else if (*rest != '[' &&
		         memchr(rest, ':', (size_t)(colon - rest)))
			why =
			    "put an IPv6 address in brackets: tcp://[::1]:7420";
	} else if (strncmp(url, "ipc://", 6) == 0) {
		size_t n = strlen(url + 6);
		if (n == 0)
			why = "expected ipc:///path/to/socket";
		else if (n >= sizeof(((struct sockaddr_un *)0)->sun_path))
			why = "the socket path is too long for a unix socket";
	} else {
		why = "the scheme must be tcp://, tcp4://, tcp6:// or ipc://";
	}
	if (why == NULL)
		return 0;
	snprintf(
	    msg, len, "bad listen URL %s: %s", quote(q, sizeof q, url), why);
	return -1;
}

/* A listen list being built; becomes c->listen on success. */
struct urls {
	char *v[CW_MAX_LISTEN];
	int n;
};

static void urls_free(struct urls *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static int urls_add(
    struct urls *l, const char *url, size_t ulen, char *msg, size_t len)
{
	char *u = strndup(url, ulen);
	if (u == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	int rc = -1;
	char q[256];
	if (l->n == CW_MAX_LISTEN)
		snprintf(msg, len, "more than %d listen URLs", CW_MAX_LISTEN);
	else if (check_listen_url(u, msg, len) != 0)
		;
	else
		rc = 0;
	for (int i = 0; rc == 0 && i < l->n; i++) {
		if (strcmp(l->v[i], u) == 0) {
			snprintf(msg, len, "listen URL %s is given twice",
			    quote(q, sizeof q, u));
			rc = -1;
		}
	}
	if (rc != 0) {
		free(u);
		return -1;
	}
	l->v[l->n++] = u;
	return 0;
}

/* Replace c's listen list with l's (which is left empty). */
static void urls_commit(cw_config *c, struct urls *l)
{
	for (int i = 0; i < c->listen_count; i++)
		free(c->listen[i]);
	memset(c->listen, 0, sizeof c->listen);
	for (int i = 0; i < l->n; i++)
		c->listen[i] = l->v[i];
	c->listen_count = l->n;
	l->n = 0;
}

/* Comma-separated URLs (blanks around each ignored) into c->listen. */
static int set_listen(cw_config *c, const char *text, char *msg, size_t len)
{
	struct urls l = {0};
	const char *p = text;
	for (;;) {
		size_t n = strcspn(p, ",");
		const char *b = p, *e = p + n;
		while (b < e && isblank((unsigned char)*b))
			b++;
		while (e > b && isblank((unsigned char)e[-1]))
			e--;
		if (b == e) {
			snprintf(msg, len, "empty URL in the list");
			urls_free(&l);
			return -1;
		}
		if (urls_add(&l, b, (size_t)(e - b), msg, len) != 0) {
			urls_free(&l);
			return -1;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	urls_commit(c, &l);
	return 0;
}

static int set_string(
    cw_config *c, const struct key *k, const char *text, char *msg, size_t len)
{
	char *s = strdup(text);
	if (s == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	char **f = field(c, k);
	free(*f);
	*f = s;
	return 0;
}

/*
 * Parse text as k's value and store it in c: the one value parser for the
 * YAML file, the environment and the defaults. On error writes the message
 * (without position) into msg.
 */
static int set_value(cw_config *c, const struct key *k, const char *text,
    const char *subject, char *msg, size_t len)
{
	char q[256];
	long long v;
	int rc;
	switch (k->type) {
	case KT_LISTEN:
		return set_listen(c, text, msg, len);
	case KT_INT:
	case KT_SIZE:
		rc = parse_number(
		    text, k->type == KT_INT, k->type == KT_SIZE, &v);
		if (rc < 0) {
			snprintf(msg, len, "expected %s%s%s, got %s",
			    type_name(k->type), FOR(subject),
			    quote(q, sizeof q, text));
			return -1;
		}
		if (rc > 0) /* too large for any range */
			return check_range(k, k->max + 1,
			    quote(q, sizeof q, text), subject, msg, len);
		if (check_range(k, v, NULL, subject, msg, len) != 0)
			return -1;
		if (k->type == KT_INT)
			*(int *)field(c, k) = (int)v;
		else
			*(size_t *)field(c, k) = (size_t)v;
		return 0;
	case KT_LEVEL:
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(text, level_names[i]) == 0) {
				*(enum cw_log_level *)field(c, k) =
				    (enum cw_log_level)i;
				return 0;
			}
		}
		snprintf(msg, len,
		    "%s%smust be one of debug, info, warn, error, got %s",
		    SUBJ(subject), quote(q, sizeof q, text));
		return -1;
	case KT_NAMESPACE:
		if (check_namespace(k, text, subject, msg, len) != 0)
			return -1;
		return set_string(c, k, text, msg, len);
	case KT_REDIS_URL:
		if (check_redis_url(text, subject, msg, len) != 0)
			return -1;
		return set_string(c, k, text, msg, len);
	}
	snprintf(msg, len, "internal error: unknown key type");
	return -1;
}

/* Check the value c holds for k (cw_config_validate). */
static int check_value(
    const cw_config *c, const struct key *k, char *msg, size_t len)
{
	char path[96];
	const char *subject = key_path(path, sizeof path, k);
	switch (k->type) {
	case KT_LISTEN:
		if (c->listen_count < 1 || c->listen_count > CW_MAX_LISTEN) {
			snprintf(msg, len,
			    "listen must name 1..%d URLs, got %d",
			    CW_MAX_LISTEN, c->listen_count);
			return -1;
		}
		for (int i = 0; i < c->listen_count; i++) {
			if (c->listen[i] == NULL) {
				snprintf(msg, len, "listen URL %d is not set",
				    i + 1);
				return -1;
			}
			if (check_listen_url(c->listen[i], msg, len) != 0)
				return -1;
			for (int j = 0; j < i; j++) {
				if (strcmp(c->listen[i], c->listen[j]) == 0) {
					char q[256];
					snprintf(msg, len,
					    "listen URL %s is given twice",
					    quote(q, sizeof q, c->listen[i]));
					return -1;
				}
			}
		}
		return 0;
	case KT_INT:
		return check_range(
		    k, *(const int *)cfield(c, k), NULL, subject, msg, len);
	case KT_SIZE: {
		size_t v = *(const size_t *)cfield(c, k);
		if (v > (size_t)LLONG_MAX)
			v = (size_t)LLONG_MAX;
		return check_range(k, (long long)v, NULL, subject, msg, len);
	}
	case KT_LEVEL: {
		int v = (int)*(const enum cw_log_level *)cfield(c, k);
		if (v >= CW_LOG_DEBUG && v <= CW_LOG_ERROR)
			return 0;
		snprintf(msg, len,
		    "%s must be one of debug, info, warn, error, got %d",
		    subject, v);
		return -1;
	}
	case KT_NAMESPACE:
	case KT_REDIS_URL: {
		const char *const *s = cfield(c, k);
		if (*s == NULL) {
			snprintf(msg, len, "%s is not set", subject);
			return -1;
		}
		if (k->type == KT_NAMESPACE)
			return check_namespace(k, *s, subject, msg, len);
		return check_redis_url(*s, subject, msg, len);
	}
	}
	return 0;
}

/* ---- defaults, free, validate -----------------------------------------------
 */

int cw_config_defaults(cw_config *c)
{
	char msg[MSG_MAX];
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (set_value(c, &keys[i], keys[i].def, NULL, msg, sizeof msg))
			return -1; /* out of memory */
	return 0;
}

void cw_config_free(cw_config *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CW_MAX_LISTEN; i++) {
		free(c->listen[i]);
		c->listen[i] = NULL;
	}
	c->listen_count = 0;
	free(c->redis_url);
	c->redis_url = NULL;
	free(c->namespace_);
	c->namespace_ = NULL;
}

int cw_config_validate(const cw_config *c, char *errbuf, size_t errlen)
{
	char msg[MSG_MAX];
	for (size_t i = 0; i < NKEYS; i++)
		if (check_value(c, &keys[i], msg, sizeof msg) != 0)
			return fail(errbuf, errlen, "%s", msg);

	long long need = (long long)c->max_value_bytes +
	                 (long long)c->max_key_bytes + ENVELOPE_BYTES;
	if (need > (long long)c->max_message_bytes) {
		char v[32], k[32], m[32];
		return fail(errbuf, errlen,
		    "cache.max_value_bytes (%s) plus cache.max_key_bytes (%s) "
		    "and %lldKiB of envelope must fit server.max_message_bytes "
		    "(%s): raise it to at least %lld or lower the others",
		    fmt_size(v, sizeof v, (long long)c->max_value_bytes),
		    fmt_size(k, sizeof k, (long long)c->max_key_bytes),
		    ENVELOPE_BYTES / KIB,
		    fmt_size(m, sizeof m, (long long)c->max_message_bytes),
		    need);
	}
	return 0;
}

/* ---- environment -------------------------------------------------------- */

static bool env_is_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof env_allowed / sizeof *env_allowed; i++)
		if (strcmp(name, env_allowed[i]) == 0)
			return true;
	return false;
}

static const struct key *find_env(const char *name)
{
	char env[96];
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(name, key_env(env, sizeof env, &keys[i])) == 0)
			return &keys[i];
	return NULL;
}

/* The variable the user probably meant by name. */
static void env_hint(const char *name, struct suggestion *s)
{
	const size_t pre = strlen(ENV_PREFIX);
	char env[96];
	for (size_t i = 0; i < NKEYS; i++) {
		key_env(env, sizeof env, &keys[i]);
		suggest(s, name + pre, env + pre, env, 0);
	}
	for (size_t i = 0; i < sizeof env_allowed / sizeof *env_allowed; i++)
		suggest(s, name + pre, env_allowed[i] + pre, env_allowed[i], 0);
	/* CACHEWIRE_WORKERS, CACHEWIRE_SERVER_POOL_SIZE: the right key in the
	 * wrong (or no) section. */
	for (size_t i = 0; i < NKEYS && s->text[0] == '\0'; i++) {
		const struct key *k = &keys[i];
		key_env(env, sizeof env, k);
		const char *tail =
		    env + pre + (k->section ? strlen(k->section) + 1 : 0);
		size_t nl = strlen(name), tl = strlen(tail);
		if (nl > tl && name[nl - tl - 1] == '_' &&
		    strcmp(name + nl - tl, tail) == 0)
			snprintf(s->text, sizeof s->text, "%s", env);
	}
}

int cw_config_apply_env(
    cw_config *c, char *const *envp, char *errbuf, size_t errlen)
{
	char name[128], msg[MSG_MAX], hint[128];
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *var = *envp, *eq = strchr(var, '=');
		if (eq == NULL || strncmp(var, ENV_PREFIX, strlen(ENV_PREFIX)))
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(eq - var), var);
		if (env_is_allowed(name))
			continue;
		const struct key *k = find_env(name);
		if (k == NULL) {
			struct suggestion s = {0};
			env_hint(name, &s);
			return fail(errbuf, errlen, "%.*s: unknown variable%s",
			    (int)(eq - var), var,
			    did_you_mean(hint, sizeof hint, &s));
		}
		if (set_value(c, k, eq + 1, NULL, msg, sizeof msg) != 0)
			return fail(errbuf, errlen, "%s: %s", name, msg);
	}
	return 0;
}

/* ---- YAML --------------------------------------------------------------- */

struct ydoc {
	yaml_document_t *doc;
	const char *name;
	char *errbuf;
	size_t errlen;
};

/* "name:line:col: msg" at node n (libyaml counts from 0, we from 1). */
static int yfail(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int yfail(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail(y->errbuf, y->errlen, "%s:%zu:%zu: %s", y->name,
	    n->start_mark.line + 1, n->start_mark.column + 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
		if (strcmp(scalar(n), nulls[i]) == 0)
			return true;
	return false;
}

/* "a mapping", "a sequence" or the scalar quoted. */
static const char *describe(char *buf, size_t len, const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return quote(buf, len, scalar(n));
}

/* n's text, which must be a scalar without NUL characters. */
static int text_of(
    struct ydoc *y, const yaml_node_t *n, const char *what, const char **out)
{
	char q[256];
	if (n->type != YAML_SCALAR_NODE)
		return yfail(y, n, "expected %s, got %s", what,
		    describe(q, sizeof q, n));
	if (strlen(scalar(n)) != n->data.scalar.length)
		return yfail(y, n,
		    "expected %s, got a value containing a NUL byte", what);
	*out = scalar(n);
	return 0;
}

static yaml_node_t *node(struct ydoc *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

/* The key of pair p in mapping m, checked to be a string not seen before. */
static int pair_key(struct ydoc *y, const yaml_node_t *m,
    const yaml_node_pair_t *p, const char *prefix, const char **out)
{
	const yaml_node_t *kn = node(y, p->key);
	char q[256];
	if (text_of(y, kn, "a key (a plain string)", out) != 0)
		return -1;
	for (const yaml_node_pair_t *o = m->data.mapping.pairs.start; o < p;
	     o++) {
		const yaml_node_t *prev = node(y, o->key);
		if (strcmp(scalar(prev), *out) == 0)
			return yfail(y, kn,
			    "duplicate key %s (first at line %zu, column %zu)",
			    key_text(q, sizeof q, prefix, *out),
			    prev->start_mark.line + 1,
			    prev->start_mark.column + 1);
	}
	return 0;
}

/*
 * The key the user probably meant by `name` in section (NULL: at the top
 * level): a key of the same section, else a section, else a key elsewhere.
 */
static void yaml_hint(
    const char *section, const char *name, struct suggestion *s)
{
	char path[96];
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		key_path(path, sizeof path, k);
		if (section == NULL) {
			const char *top = k->section ? k->section : k->name;
			suggest(s, name, top, top, 0);
			if (k->section != NULL)
				suggest(s, name, k->name, path, 1);
		} else {
			bool same = k->section && !strcmp(k->section, section);
			suggest(s, name, k->name, path, same ? 0 : 1);
		}
	}
}

/* "listen, server, redis, cache, log": what the top level may hold. */
static const char *top_names(char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		const char *top =
		    keys[i].section ? keys[i].section : keys[i].name;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(top,
			    keys[j].section ? keys[j].section : keys[j].name);
		if (!seen && o < len)
			o += (size_t)snprintf(
			    buf + o, len - o, "%s%s", o ? ", " : "", top);
	}
	return buf;
}

/* Set k from value node v. */
static int apply_node(
    struct ydoc *y, cw_config *c, const struct key *k, const yaml_node_t *v)
{
	char path[96], msg[MSG_MAX], what[160];
	const char *text = NULL;
	key_path(path, sizeof path, k);
	if (k->type == KT_LISTEN && v->type == YAML_SEQUENCE_NODE) {
		struct urls l = {0};
		for (const yaml_node_item_t *i = v->data.sequence.items.start;
		     i < v->data.sequence.items.top; i++) {
			const yaml_node_t *item = node(y, *i);
			if (text_of(y, item, "a URL in listen", &text) != 0) {
				urls_free(&l);
				return -1;
			}
			if (urls_add(&l, text, strlen(text), msg, sizeof msg) !=
			    0) {
				urls_free(&l);
				return yfail(y, item, "%s", msg);
			}
		}
		urls_commit(c, &l);
		return 0;
	}
	snprintf(what, sizeof what, "%s for %s", type_name(k->type), path);
	if (text_of(y, v, what, &text) != 0)
		return -1;
	if (k->type == KT_LISTEN) {
		/* One URL: no comma splitting in YAML. */
		struct urls l = {0};
		if (urls_add(&l, text, strlen(text), msg, sizeof msg) != 0)
			return yfail(y, v, "%s", msg);
		urls_commit(c, &l);
		return 0;
	}
	if (set_value(c, k, text, path, msg, sizeof msg) != 0)
		return yfail(y, v, "%s", msg);
	return 0;
}

static int apply_section(
    struct ydoc *y, cw_config *c, const char *section, const yaml_node_t *m)
{
	char prefix[80], q[256], hint[128];
	snprintf(prefix, sizeof prefix, "%s.", section);
	if (is_null(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return yfail(y, m,
		    "expected a mapping of keys for section %s, "
		    "got %s",
		    section, describe(q, sizeof q, m));
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *name = NULL;
		if (pair_key(y, m, p, prefix, &name) != 0)
			return -1;
		const struct key *k = find_key(section, name);
		if (k == NULL) {
			struct suggestion s = {0};
			yaml_hint(section, name, &s);
			return yfail(y, node(y, p->key), "unknown key %s%s",
			    key_text(q, sizeof q, prefix, name),
			    did_you_mean(hint, sizeof hint, &s));
		}
		if (apply_node(y, c, k, node(y, p->value)) != 0)
			return -1;
	}
	return 0;
}

static int apply_root(struct ydoc *y, cw_config *c, const yaml_node_t *root)
{
	char q[256], hint[128], names[128];
	if (is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return yfail(y, root,
		    "expected a mapping of sections (%s) at the top level, "
		    "got %s",
		    top_names(names, sizeof names),
		    describe(q, sizeof q, root));
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const char *name = NULL;
		if (pair_key(y, root, p, "", &name) != 0)
			return -1;
		const struct key *k = find_key(NULL, name);
		int rc;
		if (k != NULL) {
			rc = apply_node(y, c, k, node(y, p->value));
		} else if (is_section(name)) {
			rc = apply_section(y, c, name, node(y, p->value));
		} else {
			struct suggestion s = {0};
			yaml_hint(NULL, name, &s);
			return yfail(y, node(y, p->key), "unknown section %s%s",
			    key_text(q, sizeof q, "", name),
			    did_you_mean(hint, sizeof hint, &s));
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Line and column (1-based) of byte offset off in text. */
static void position(
    const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(const yaml_parser_t *p, const char *name,
    const char *text, size_t len, char *errbuf, size_t errlen)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	char ctx[160] = "";
	size_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(errbuf, errlen, "%s: out of memory", name);
	case YAML_READER_ERROR:
		position(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			snprintf(ctx, sizeof ctx, " (byte 0x%02x)",
			    (unsigned)p->problem_value & 0xffu);
		return fail(errbuf, errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", name, line, col,
		    problem, ctx);
	default:
		if (p->context != NULL)
			snprintf(ctx, sizeof ctx, " (%s at %zu:%zu)",
			    p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		return fail(errbuf, errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem, ctx);
	}
}

int cw_config_parse_yaml(cw_config *c, const char *name, const char *text,
    size_t len, char *errbuf, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc, next;
	if (name == NULL)
		name = "<string>";
	if (text == NULL)
		text = "", len = 0;
	if (!yaml_parser_initialize(&p))
		return fail(errbuf, errlen, "%s: out of memory", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		int rc = syntax_error(&p, name, text, len, errbuf, errlen);
		yaml_parser_delete(&p);
		return rc;
	}

	struct ydoc y = {&doc, name, errbuf, errlen};
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	int rc = root ? apply_root(&y, c, root) : 0;
	/* A root means a document, not the end: there must be no other. */
	if (rc == 0 && root != NULL) {
		if (!yaml_parser_load(&p, &next)) {
			rc = syntax_error(&p, name, text, len, errbuf, errlen);
		} else {
			if (yaml_document_get_root_node(&next) != NULL)
				rc = fail(errbuf, errlen,
				    "%s:%zu:%zu: a second YAML document; a "
				    "configuration file holds one",
				    name, next.start_mark.line + 1,
				    next.start_mark.column + 1);
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}

/* Read all of path into a malloc'd buffer; 0 or an errno value. */
static int read_all(const char *path, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int err = buf ? 0 : ENOMEM;
	while (err == 0) {
		if (len == cap) {
			char *b = cap > FILE_MAX ? NULL : realloc(buf, cap * 2);
			if (b == NULL) {
				err = cap > FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		else if (r == 0)
			break;
		else
			len += (size_t)r;
	}
	close(fd);
	if (err == 0 && len > FILE_MAX)
		err = EFBIG;
	if (err != 0) {
		free(buf);
		return err;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int cw_config_load_file(
    cw_config *c, const char *path, char *errbuf, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int err = read_all(path, &text, &len);
	if (err != 0)
		return fail(
		    errbuf, errlen, "%s: cannot read: %s", path, strerror(err));
	int rc = cw_config_parse_yaml(c, path, text, len, errbuf, errlen);
	free(text);
	return rc;
}
