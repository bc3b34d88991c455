/*
 * config_value.c - one key's value (config_internal.h): parsing the text
 * given for it (integers, sizes with KiB/MiB/GiB, log levels, namespaces,
 * Redis and listen URLs) into its cw_config field, and checking the value a
 * field holds. The YAML file, the environment, the defaults and
 * cw_config_validate all come through here.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "auth.h"
#include "cache.h"
#include "config_internal.h"
#include "log.h"

/* Spelled in any case in the configuration; order of enum cw_log_level. */

/*
 * Messages name the key when `subject` is set (YAML, validation), and leave
 * it to the caller's prefix when it is NULL (the environment).
 */
#define SUBJ(s) (s) ? (s) : "", (s) ? " " : ""
#define FOR(s)  (s) ? " for " : "", (s) ? (s) : ""

/* k's field in c. */
static void *field(cw_config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static const void *cfield(const cw_config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

const char *cw__cfg_type_name(enum ktype t)
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
	case KT_SECRET_FILE:
	case KT_FILE:
	case KT_TOKENS:
		return "a file path";
	case KT_STRING:
	case KT_SECRET:
		return "a string";
	case KT_TLS_VERSION:
		return "a TLS version (1.2 or 1.3)";
	case KT_ADMIN_URL:
		return "a URL";
	case KT_LOG_FORMAT:
		return "a log format (text or json)";
	}
	return "a value";
}

static const char *fmt_number(
    char *buf, size_t len, const struct key *k, long long v)
{
	if (k->type == KT_SIZE)
		return cw__cfg_fmt_size(buf, len, v);
	snprintf(buf, len, "%lld", v);
	return buf;
}

/* ---- parsing and checking ---------------------------------------------- */

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
	    SUBJ(subject), k->min, k->max, cw__cfg_quote(q, sizeof q, s));
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

/*
 * HOST:PORT after a URL's scheme ("tcp", "http"): NULL when fine, else
 * what is wrong (in why, which has room for 96 bytes).
 */
static const char *check_host_port(
    const char *rest, const char *scheme, char *why)
{
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
	    parse_number(colon + 1, false, false, &port) != 0 || port > 65535)
		snprintf(why, 96,
		    "expected %s://host:port with a port 0..65535", scheme);
	else if (strcspn(rest, "/?# \t") < (size_t)(colon - rest))
		snprintf(
		    why, 96, "the host may not hold '/', '?', '#' or spaces");
	else if (*rest != '[' && memchr(rest, ':', (size_t)(colon - rest)))
		snprintf(why, 96,
		    "put an IPv6 address in brackets: %s://[::1]:%s", scheme,
		    strcmp(scheme, "http") == 0 ? "7421" : "7420");
	else
		return NULL;
	return why;
}

/* A URL nng can listen on: tcp[46]://host:port or ipc:///path. */
static int check_listen_url(const char *url, char *msg, size_t len)
{
	static const char *const tcp[] = {"tcp://", "tcp4://", "tcp6://",
	    "tls+tcp://", "tls+tcp4://", "tls+tcp6://"};
	const char *why = NULL, *rest = NULL;
	char q[256], buf[96];
	for (int i = 0; i < 6 && rest == NULL; i++)
		if (strncmp(url, tcp[i], strlen(tcp[i])) == 0)
			rest = url + strlen(tcp[i]);
	if (rest != NULL) {
		why = check_host_port(rest, "tcp", buf);
	} else if (strncmp(url, "ipc://", 6) == 0) {
		size_t n = strlen(url + 6);
		if (n == 0)
			why = "expected ipc:///path/to/socket";
		else if (n >= sizeof(((struct sockaddr_un *)0)->sun_path))
			why = "the socket path is too long for a unix socket";
	} else {
		why = "the scheme must be tcp://, tcp4://, tcp6://, ipc:// or "
		      "tls+tcp:// (tls+tcp4://, tls+tcp6://)";
	}
	if (why == NULL)
		return 0;
	snprintf(msg, len, "bad listen URL %s: %s",
	    cw__cfg_quote(q, sizeof q, url), why);
	return -1;
}

/* admin.listen: "" (none) or http://HOST:PORT, nothing after the port. */
static int check_admin_url(
    const char *url, const char *subject, char *msg, size_t len)
{
	const char *why = NULL;
	char q[256], buf[96];
	if (url[0] == '\0')
		return 0;
	if (strncmp(url, "http://", 7) != 0)
		why = "expected http://HOST:PORT (https is not offered; keep "
		      "the endpoint on loopback or a private network)";
	else
		why = check_host_port(url + 7, "http", buf);
	if (why == NULL)
		return 0;
	snprintf(msg, len, "%s%sis not usable: %s: %s", SUBJ(subject),
	    cw__cfg_quote(q, sizeof q, url), why);
	return -1;
}

/* ---- the listen list --------------------------------------------------- */

void cw__cfg_urls_free(struct urls *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

int cw__cfg_urls_add(
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
			    cw__cfg_quote(q, sizeof q, u));
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

void cw__cfg_urls_commit(cw_config *c, struct urls *l)
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
			cw__cfg_urls_free(&l);
			return -1;
		}
		if (cw__cfg_urls_add(&l, b, (size_t)(e - b), msg, len) != 0) {
			cw__cfg_urls_free(&l);
			return -1;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	cw__cfg_urls_commit(c, &l);
	return 0;
}

/* ---- setting and checking a key ---------------------------------------- */

/* Longest secret a file may hold. */
#define SECRET_MAX 4096

/*
 * A secret file (redis.password_file): read it now, so that a missing,
 * unreadable, empty or oversized file is reported where it is named. Its
 * content, less one trailing newline, goes to c->redis_password. An empty
 * path means none. The secret never appears in a message.
 */
static int set_secret_file(cw_config *c, const struct key *k, const char *text,
    const char *subject, char *msg, size_t len)
{
	char q[256], buf[SECRET_MAX + 2];
	size_t n = 0, got;

	(void)k;
	if (text[0] == '\0') {
		free(c->redis_password_file);
		c->redis_password_file = NULL;
		free(c->redis_password);
		c->redis_password = NULL;
		return 0;
	}
	FILE *f = fopen(text, "rb");
	if (f == NULL) {
		snprintf(msg, len, "%s%scannot read %s: %s", SUBJ(subject),
		    cw__cfg_quote(q, sizeof q, text), strerror(errno));
		return -1;
	}
	while (
	    n < sizeof buf && (got = fread(buf + n, 1, sizeof buf - n, f)) > 0)
		n += got;
	bool failed = ferror(f) != 0;
	int e = errno;
	fclose(f);
	if (failed) {
		snprintf(msg, len, "%s%scannot read %s: %s", SUBJ(subject),
		    cw__cfg_quote(q, sizeof q, text), strerror(e));
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	const char *why = n == 0                 ? "is empty"
	                  : n > SECRET_MAX       ? "holds more than 4096 bytes"
	                  : memchr(buf, '\0', n) ? "holds a NUL byte"
	                  : memchr(buf, '\n', n) ? "holds more than one line"
	                                         : NULL;
	if (why != NULL) {
		memset(buf, 0, sizeof buf);
		snprintf(msg, len, "%s%s%s %s", SUBJ(subject),
		    cw__cfg_quote(q, sizeof q, text), why);
		return -1;
	}
	char *secret = malloc(n + 1), *path = strdup(text);
	if (secret == NULL || path == NULL) {
		free(secret);
		free(path);
		memset(buf, 0, sizeof buf);
		snprintf(msg, len, "out of memory");
		return -1;
	}
	memcpy(secret, buf, n);
	secret[n] = '\0';
	memset(buf, 0, sizeof buf);
	free(c->redis_password_file);
	c->redis_password_file = path;
	free(c->redis_password);
	c->redis_password = secret;
	return 0;
}

/* A file named now must be readable now; "" means none (NULL). */
static int set_file(cw_config *c, const struct key *k, const char *text,
    const char *subject, char *msg, size_t len)
{
	char q[256];
	char **f = field(c, k);

	if (text[0] != '\0') {
		FILE *fp = fopen(text, "rb");
		if (fp == NULL) {
			snprintf(msg, len, "%s%scannot read %s: %s",
			    SUBJ(subject), cw__cfg_quote(q, sizeof q, text),
			    strerror(errno));
			return -1;
		}
		fclose(fp);
	}
	char *s = text[0] != '\0' ? strdup(text) : NULL;
	if (text[0] != '\0' && s == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	free(*f);
	*f = s;
	return 0;
}

/* auth.tokens_file: read and check the tokens now, where it is named. */
static int set_tokens(
    cw_config *c, const char *text, const char *subject, char *msg, size_t len)
{
	cw_tokens *t = NULL;
	char m[MSG_MAX - 64], *path = NULL;

	if (text[0] != '\0') {
		if (cw_tokens_load_file(&t, text, m, sizeof m) != 0) {
			snprintf(msg, len, "%s%s%s", subject ? subject : "",
			    subject ? ": " : "", m);
			return -1;
		}
		if ((path = strdup(text)) == NULL) {
			cw_tokens_free(t);
			snprintf(msg, len, "out of memory");
			return -1;
		}
	}
	cw_tokens_free(c->auth_tokens);
	free(c->auth_tokens_file);
	c->auth_tokens = t;
	c->auth_tokens_file = path;
	return 0;
}

/*
 * redis.user: printable ASCII, no spaces, up to k->max bytes; "" is none.
 * redis.password: anything up to k->max bytes, never shown; "" is none.
 * Setting redis.password forgets a redis.password_file: the later wins.
 */
static int set_optional_string(cw_config *c, const struct key *k,
    const char *text, const char *subject, char *msg, size_t len)
{
	char q[256];
	size_t n = strlen(text);

	if (n > (size_t)k->max) {
		snprintf(msg, len, "%s%sis %zu bytes; the limit is %lld",
		    SUBJ(subject), n, k->max);
		return -1;
	}
	for (size_t i = 0; k->type == KT_STRING && i < n; i++) {
		if (text[i] <= ' ' || text[i] > '~') {
			snprintf(msg, len,
			    "%s%smay hold printable ASCII without spaces "
			    "only, got %s",
			    SUBJ(subject), cw__cfg_quote(q, sizeof q, text));
			return -1;
		}
	}
	char *v = n > 0 ? strdup(text) : NULL;
	if (n > 0 && v == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	char **f = field(c, k);
	if (*f != NULL && k->type == KT_SECRET)
		memset(*f, 0, strlen(*f));
	free(*f);
	*f = v;
	if (k->type == KT_SECRET) {
		free(c->redis_password_file);
		c->redis_password_file = NULL;
	}
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

int cw__cfg_set_value(cw_config *c, const struct key *k, const char *text,
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
			    cw__cfg_type_name(k->type), FOR(subject),
			    cw__cfg_quote(q, sizeof q, text));
			return -1;
		}
		if (rc > 0) /* too large for any range */
			return check_range(k, k->max + 1,
			    cw__cfg_quote(q, sizeof q, text), subject, msg,
			    len);
		if (check_range(k, v, NULL, subject, msg, len) != 0)
			return -1;
		if (k->type == KT_INT)
			*(int *)field(c, k) = (int)v;
		else
			*(size_t *)field(c, k) = (size_t)v;
		return 0;
	case KT_LEVEL:
		for (int i = CW_LOG_DEBUG; i <= CW_LOG_ERROR; i++) {
			if (strcasecmp(text, cw_log_level_name(i)) == 0) {
				*(enum cw_log_level *)field(c, k) =
				    (enum cw_log_level)i;
				return 0;
			}
		}
		snprintf(msg, len,
		    "%s%smust be one of debug, info, warn, error, got %s",
		    SUBJ(subject), cw__cfg_quote(q, sizeof q, text));
		return -1;
	case KT_NAMESPACE:
		if (check_namespace(k, text, subject, msg, len) != 0)
			return -1;
		return set_string(c, k, text, msg, len);
	case KT_REDIS_URL:
		if (check_redis_url(text, subject, msg, len) != 0)
			return -1;
		return set_string(c, k, text, msg, len);
	case KT_SECRET_FILE:
		return set_secret_file(c, k, text, subject, msg, len);
	case KT_FILE:
		return set_file(c, k, text, subject, msg, len);
	case KT_TOKENS:
		return set_tokens(c, text, subject, msg, len);
	case KT_STRING:
	case KT_SECRET:
		return set_optional_string(c, k, text, subject, msg, len);
	case KT_ADMIN_URL:
		if (check_admin_url(text, subject, msg, len) != 0)
			return -1;
		if (text[0] == '\0') {
			free(*(char **)field(c, k));
			*(char **)field(c, k) = NULL;
			return 0;
		}
		return set_string(c, k, text, msg, len);
	case KT_LOG_FORMAT:
		if (strcasecmp(text, "text") == 0 ||
		    strcasecmp(text, "json") == 0) {
			*(enum cw_log_format *)field(c, k) =
			    strcasecmp(text, "json") == 0 ? CW_LOG_JSON
			                                  : CW_LOG_TEXT;
			return 0;
		}
		snprintf(msg, len, "%s%smust be text or json, got %s",
		    SUBJ(subject), cw__cfg_quote(q, sizeof q, text));
		return -1;
	case KT_TLS_VERSION:
		if (strcmp(text, "1.2") == 0 || strcmp(text, "1.3") == 0) {
			*(int *)field(c, k) = text[2] == '2' ? 12 : 13;
			return 0;
		}
		snprintf(msg, len, "%s%smust be 1.2 or 1.3, got %s",
		    SUBJ(subject), cw__cfg_quote(q, sizeof q, text));
		return -1;
	}
	snprintf(msg, len, "internal error: unknown key type");
	return -1;
}

int cw__cfg_check_value(
    const cw_config *c, const struct key *k, char *msg, size_t len)
{
	char path[96];
	const char *subject = cw__cfg_key_path(path, sizeof path, k);
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
					    cw__cfg_quote(
					        q, sizeof q, c->listen[i]));
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
	case KT_SECRET_FILE:
		if (c->redis_password_file != NULL &&
		    c->redis_password == NULL) {
			snprintf(msg, len, "%s was not read", subject);
			return -1;
		}
		return 0;
	case KT_TOKENS:
		if (c->auth_tokens_file != NULL && c->auth_tokens == NULL) {
			snprintf(msg, len, "%s was not read", subject);
			return -1;
		}
		return 0;
	case KT_FILE:
		return 0;
	case KT_STRING:
	case KT_SECRET: {
		const char *const *v = cfield(c, k);
		if (*v != NULL && strlen(*v) > (size_t)k->max) {
			snprintf(msg, len, "%s is longer than %lld bytes",
			    subject, k->max);
			return -1;
		}
		return 0;
	}
	case KT_ADMIN_URL: {
		const char *const *v = cfield(c, k);
		return *v == NULL ? 0 : check_admin_url(*v, subject, msg, len);
	}
	case KT_LOG_FORMAT: {
		int v = (int)*(const enum cw_log_format *)cfield(c, k);
		if (v == CW_LOG_TEXT || v == CW_LOG_JSON)
			return 0;
		snprintf(msg, len, "%s must be text or json", subject);
		return -1;
	}
	case KT_TLS_VERSION: {
		int v = *(const int *)cfield(c, k);
		if (v == 12 || v == 13)
			return 0;
		snprintf(msg, len, "%s must be 1.2 or 1.3", subject);
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
