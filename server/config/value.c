/*
 * value.c - one key's value (config_internal.h): parsing the text
 * given for it (integers, sizes with KiB/MiB/GiB, log levels, namespaces,
 * Redis URLs; url.c does listen and admin URLs) into its cw_config
 * field, and checking the value a field holds. The YAML file, the environment,
 * the defaults and cw_config_validate all come through here.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "grpc_server.h"
#include "redis_url.h"
#include "config_internal.h"
#include "log.h"

/* Spelled in any case in the configuration; order of enum cw_log_level. */

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
	case KT_REDIS_MODE:
		return "a mode (standalone, cluster or sentinel)";
	case KT_NODES:
		return "host:port or a list of them";
	case KT_GRPC_LISTEN:
		return "host:port or tls://host:port, or a list of them";
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

/* config_internal.h */
int cw__cfg_parse_number(const char *s, bool sign, bool suffix, long long *out)
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
 * redis.nodes: "host:port" items, comma-separated (YAML lists are joined
 * so), up to 64 of them, no duplicates; "" is none.
 */
static int check_grpc_listen(
    const char *s, const char *subject, char *msg, size_t len)
{
	cw_grpc_addr a[CW_GRPC_MAX_LISTEN];
	cw_error err = {0};
	int n = 0;

	if (cw_grpc_listen_parse(s, a, CW_GRPC_MAX_LISTEN, &n, &err) == CW_OK)
		return 0;
	/* its message names grpc.listen already */
	snprintf(msg, len, "%s", err.message);
	(void)subject;
	return -1;
}

static int check_nodes(
    const char *s, const char *subject, char *msg, size_t len)
{
	cw_redis_node nodes[64];
	cw_error err = {0};
	int n = 0, rc = 0;

	if (s[0] == '\0')
		return 0;
	if (cw_redis_nodes_parse(s, nodes, 64, &n, &err) != CW_OK) {
		snprintf(msg, len, "%s%s%s", SUBJ(subject), err.message);
		return -1;
	}
	for (int i = 1; i < n && rc == 0; i++) {
		for (int j = 0; j < i && rc == 0; j++) {
			if (nodes[i].port == nodes[j].port &&
			    strcmp(nodes[i].host, nodes[j].host) == 0) {
				bool v6 = strchr(nodes[i].host, ':') != NULL;
				snprintf(msg, len,
				    "%s%snode \"%s%s%s:%d\" is given twice",
				    SUBJ(subject), v6 ? "[" : "", nodes[i].host,
				    v6 ? "]" : "", nodes[i].port);
				rc = -1;
			}
		}
	}
	for (int i = 0; i < n; i++)
		cw_redis_node_free(&nodes[i]);
	return rc;
}

/* ---- setting and checking a key ---------------------------------------- */

/* Longest secret a file may hold. */
#define SECRET_MAX 4096

/*
 * A secret file (redis.password_file, redis.sentinel_password_file): read
 * it now, so that a missing, unreadable, empty or oversized file is
 * reported where it is named. Its content, less one trailing newline,
 * goes to the field at k->secret_off (redis_password, ...). An empty path
 * means none. The secret never appears in a message.
 */
/* The field a KT_SECRET_FILE's content goes to. */
static char **secret_field(cw_config *c, const struct key *k)
{
	return (char **)((char *)c + k->secret_off);
}

/* Free a secret, zeroed first. */
static void wipe(char **secret)
{
	if (*secret != NULL)
		memset(*secret, 0, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

static int set_secret_file(cw_config *c, const struct key *k, const char *text,
    const char *subject, char *msg, size_t len)
{
	char q[256], buf[SECRET_MAX + 2];
	size_t n = 0, got;

	char **pathf = field(c, k), **secretf = secret_field(c, k);
	if (text[0] == '\0') {
		free(*pathf);
		*pathf = NULL;
		wipe(secretf);
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
	free(*pathf);
	*pathf = path;
	wipe(secretf);
	*secretf = secret;
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
		return cw__cfg_set_listen(c, text, msg, len);
	case KT_INT:
	case KT_SIZE:
		rc = cw__cfg_parse_number(
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
	case KT_GRPC_LISTEN:
		if (check_grpc_listen(text, subject, msg, len) != 0)
			return -1;
		if (text[0] == '\0') {
			free(*(char **)field(c, k));
			*(char **)field(c, k) = NULL;
			return 0;
		}
		return set_string(c, k, text, msg, len);
	case KT_NODES:
		if (check_nodes(text, subject, msg, len) != 0)
			return -1;
		if (text[0] == '\0') {
			free(*(char **)field(c, k));
			*(char **)field(c, k) = NULL;
			return 0;
		}
		return set_string(c, k, text, msg, len);
	case KT_REDIS_MODE: {
		static const char *const modes[] = {
		    "standalone", "cluster", "sentinel"};
		for (int i = 0; i < 3; i++) {
			if (strcasecmp(text, modes[i]) == 0) {
				*(enum cw_redis_mode *)field(c, k) =
				    (enum cw_redis_mode)i;
				return 0;
			}
		}
		snprintf(msg, len,
		    "%s%smust be standalone, cluster or sentinel, got %s",
		    SUBJ(subject), cw__cfg_quote(q, sizeof q, text));
		return -1;
	}
	case KT_FILE:
		return set_file(c, k, text, subject, msg, len);
	case KT_TOKENS:
		return set_tokens(c, text, subject, msg, len);
	case KT_STRING:
	case KT_SECRET:
		return set_optional_string(c, k, text, subject, msg, len);
	case KT_ADMIN_URL:
		if (cw__cfg_check_admin_url(text, subject, msg, len) != 0)
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
			if (cw__cfg_check_listen_url(c->listen[i], msg, len) !=
			    0)
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
	case KT_REDIS_MODE: {
		int v = (int)*(const enum cw_redis_mode *)cfield(c, k);
		if (v >= CW_REDIS_STANDALONE && v <= CW_REDIS_SENTINEL)
			return 0;
		snprintf(msg, len, "%s: unknown mode %d", subject, v);
		return -1;
	}
	case KT_NODES: {
		const char *const *v = cfield(c, k);
		return *v == NULL ? 0 : check_nodes(*v, subject, msg, len);
	}
	case KT_GRPC_LISTEN: {
		const char *const *v = cfield(c, k);
		return *v == NULL ? 0
		                  : check_grpc_listen(*v, subject, msg, len);
	}
	case KT_SECRET_FILE:
		if (*(char *const *)cfield(c, k) != NULL &&
		    *(char *const *)((const char *)c + k->secret_off) == NULL) {
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
		return *v == NULL
		           ? 0
		           : cw__cfg_check_admin_url(*v, subject, msg, len);
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
