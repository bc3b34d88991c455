/*
 * url.c - parse and describe Redis URLs (redis_url.h).
 *
 *   redis://[[user]:password@]host[:port][/db]   host may be [IPv6]
 *   unix://[[user]:password@]/path/to/socket[?db=N]
 *
 * user, password and the socket path may be %-encoded. Messages never
 * contain the password; pieces of the input they quote are shortened and
 * stripped of control characters.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

#define URL_MAX_LEN       4096
#define HOST_MAX_LEN      253
#define UNIX_PATH_MAX_LEN 107 /* sizeof(sockaddr_un.sun_path) - 1 */

/* A printable, shortened copy of s[0..n) for quoting input in a message. */
static const char *quote(char *buf, size_t size, const char *s, size_t n)
{
	size_t i, o = 0, keep = n;

	if (keep > size - 4)
		keep = size - 4;
	for (i = 0; i < keep; i++)
		buf[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (keep < n) {
		buf[o - 3] = buf[o - 2] = buf[o - 1] = '.';
	}
	buf[o] = '\0';
	return buf;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* %-decode s[0..n) into a malloc'd string; what names the part for messages. */
static int decode(
    const char *s, size_t n, const char *what, char **out, cw_error *err)
{
	char *d = malloc(n + 1);
	size_t i, o = 0;

	if (d == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[o++] = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(d);
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "bad %%-escape in %s (want %%XX)", what);
		}
		int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0) {
			free(d);
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "bad %%-escape in %s (want %%XX)", what);
		}
		if (hi == 0 && lo == 0) {
			free(d);
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "%%00 is not allowed in %s", what);
		}
		d[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	d[o] = '\0';
	*out = d;
	return CW_OK;
}

/* Parse a decimal number s[0..n) into [lo, hi]; -1 when it is not one. */
static long parse_num(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

static int parse_db(const char *s, size_t n, int *db, cw_error *err)
{
	char q[56];
	long v = parse_num(s, n, 0, CW_REDIS_MAX_DB);

	if (v < 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "bad database \"%s\" (want 0..%d)",
		    quote(q, sizeof q, s, n), CW_REDIS_MAX_DB);
	*db = (int)v;
	return CW_OK;
}

/*
 * Split "user:password" (s[0..n), the part before '@') into t->user and
 * t->password. An empty user means none; the password must not be empty.
 */
static int parse_userinfo(
    const char *s, size_t n, cw_redis_target *t, cw_error *err)
{
	const char *colon = memchr(s, ':', n);
	int rc;

	if (colon == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "credentials need a ':' (use :password@ or "
		    "user:password@ before the host)");
	if (colon == s + n - 1)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "password is empty");
	if (colon > s) {
		rc = decode(s, (size_t)(colon - s), "user name", &t->user, err);
		if (rc != CW_OK)
			return rc;
	}
	return decode(colon + 1, (size_t)(s + n - colon - 1), "password",
	    &t->password, err);
}

static int valid_host_char(char ch, int ipv6)
{
	if (isalnum((unsigned char)ch) || ch == '.' || ch == '-')
		return 1;
	if (ipv6)
		return ch == ':'; /* no zone ids ("%eth0") */
	return ch == '_';
}

/* host[:port] or [ipv6][:port], s[0..n). */
static int parse_hostport(
    const char *s, size_t n, cw_redis_target *t, cw_error *err)
{
	const char *end = s + n, *h = s, *hend, *p;
	int ipv6 = 0;
	char q[56];
	size_t i;

	if (n > 0 && s[0] == '[') {
		hend = memchr(s, ']', n);
		if (hend == NULL)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "missing ']' after IPv6 address");
		h = s + 1;
		p = hend + 1;
		ipv6 = 1;
		if (p < end && *p != ':')
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "unexpected \"%s\" after IPv6 address",
			    quote(q, sizeof q, p, (size_t)(end - p)));
	} else {
		hend = memchr(s, ':', n);
		if (hend == NULL)
			hend = end;
		p = hend;
		if (p < end && memchr(p + 1, ':', (size_t)(end - p - 1)))
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "bad host \"%s\" (put IPv6 addresses in brackets: "
			    "redis://[::1]:6379)",
			    quote(q, sizeof q, s, n));
	}
	if (hend == h)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "missing host");
	if ((size_t)(hend - h) > HOST_MAX_LEN)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "host is %zu bytes; the limit is %d", (size_t)(hend - h),
		    HOST_MAX_LEN);
	for (i = 0; i < (size_t)(hend - h); i++)
		if (!valid_host_char(h[i], ipv6))
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "bad host \"%s\"",
			    quote(q, sizeof q, h, (size_t)(hend - h)));
	t->port = 6379;
	if (p < end) { /* *p == ':' */
		long v = parse_num(p + 1, (size_t)(end - p - 1), 1, 65535);
		if (v < 0)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "bad port \"%s\" (want 1..65535)",
			    quote(q, sizeof q, p + 1, (size_t)(end - p - 1)));
		t->port = (int)v;
	}
	t->host = strndup(h, (size_t)(hend - h));
	if (t->host == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	return CW_OK;
}

int cw_redis_node_parse(const char *s, cw_redis_node *n, cw_error *err)
{
	cw_redis_target t = {0};
	size_t len = s != NULL ? strlen(s) : 0;
	const char *rb = len > 0 && s[0] == '[' ? memchr(s, ']', len) : NULL;
	const char *colon = rb != NULL ? rb + 1 : memchr(s, ':', len);
	int rc;

	if (len == 0)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "empty node (want host:port)");
	if (len > HOST_MAX_LEN + 8)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "node is %zu bytes; the limit is %d", len,
		    HOST_MAX_LEN + 8);
	if (colon == NULL || colon >= s + len || *colon != ':') {
		char q[56];
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "node \"%s\" has no port (want host:port, or "
		    "[ipv6]:port)",
		    quote(q, sizeof q, s, len));
	}
	if ((rc = parse_hostport(s, len, &t, err)) != CW_OK)
		return rc;
	n->host = t.host;
	n->port = t.port;
	return CW_OK;
}

void cw_redis_node_free(cw_redis_node *n)
{
	if (n == NULL)
		return;
	free(n->host);
	n->host = NULL;
}

int cw_redis_nodes_parse(
    const char *list, cw_redis_node *out, int max, int *n, cw_error *err)
{
	char item[HOST_MAX_LEN + 16];
	int rc = CW_OK;

	*n = 0;
	for (const char *p = list; rc == CW_OK;) {
		size_t w = strcspn(p, ",");
		const char *b = p, *e = p + w;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (*n == max) {
			rc = cw_error_set(err, CW_INVALID_ARGUMENT,
			    "more than %d nodes", max);
			break;
		}
		if ((size_t)(e - b) >= sizeof item) {
			rc = cw_error_set(err, CW_INVALID_ARGUMENT,
			    "node is %zu bytes; the limit is %zu",
			    (size_t)(e - b), sizeof item - 1);
			break;
		}
		memcpy(item, b, (size_t)(e - b));
		item[e - b] = '\0';
		if ((rc = cw_redis_node_parse(item, &out[*n], err)) == CW_OK)
			(*n)++;
		if (p[w] == '\0')
			break;
		p += w + 1;
	}
	if (rc != CW_OK) {
		while (*n > 0)
			cw_redis_node_free(&out[--*n]);
	}
	return rc;
}

/* Everything after "redis://". */
static int parse_redis(const char *s, cw_redis_target *t, cw_error *err)
{
	size_t alen = strcspn(s, "/?#");
	const char *at = NULL, *p, *rest = s + alen;
	char q[56];
	int rc;

	for (p = s; p < rest; p++)
		if (*p == '@')
			at = p; /* the last one: tolerate '@' in a password */
	if (at != NULL) {
		rc = parse_userinfo(s, (size_t)(at - s), t, err);
		if (rc != CW_OK)
			return rc;
		s = at + 1;
	}
	rc = parse_hostport(s, (size_t)(rest - s), t, err);
	if (rc != CW_OK)
		return rc;
	if (*rest == '/') {
		size_t n = strcspn(rest + 1, "?#");
		if (n > 0) {
			rc = parse_db(rest + 1, n, &t->db, err);
			if (rc != CW_OK)
				return rc;
		}
		rest += 1 + n;
	}
	if (*rest == '?')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unexpected query \"%s\" (put the database in the path: "
		    "redis://host:port/db)",
		    quote(q, sizeof q, rest, strlen(rest)));
	if (*rest == '#')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unexpected fragment \"%s\"",
		    quote(q, sizeof q, rest, strlen(rest)));
	return CW_OK;
}

/* "db=N[&...]" after '?' in a unix:// URL. */
static int parse_unix_query(const char *s, cw_redis_target *t, cw_error *err)
{
	int have_db = 0, rc;
	char q[56];

	while (*s != '\0') {
		size_t n = strcspn(s, "&");
		if (n >= 3 && memcmp(s, "db=", 3) == 0) {
			if (have_db)
				return cw_error_set(
				    err, CW_INVALID_ARGUMENT, "db given twice");
			rc = parse_db(s + 3, n - 3, &t->db, err);
			if (rc != CW_OK)
				return rc;
			have_db = 1;
		} else if (n > 0) {
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "unknown parameter \"%s\" (unix:// URLs take only "
			    "db=N)",
			    quote(q, sizeof q, s, n));
		}
		s += n;
		if (*s == '&')
			s++;
	}
	return CW_OK;
}

/* Everything after "unix://". */
static int parse_unix(const char *s, cw_redis_target *t, cw_error *err)
{
	const char *slash = strchr(s, '/'), *at = NULL, *p;
	size_t n;
	int rc;

	if (slash == NULL) {
		if (*s == '\0' || *s == '?' || *s == '#')
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "missing socket path (use unix:///path/to/socket)");
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "socket path must be absolute (use "
		    "unix:///path/to/socket)");
	}
	for (p = s; p < slash; p++)
		if (*p == '@')
			at = p;
	if (slash != s && (at == NULL || at + 1 != slash))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unix:// URLs take no host; the socket path must be "
		    "absolute (use unix:///path/to/socket)");
	if (at != NULL) {
		rc = parse_userinfo(s, (size_t)(at - s), t, err);
		if (rc != CW_OK)
			return rc;
	}
	n = strcspn(slash, "?#");
	rc = decode(slash, n, "socket path", &t->unix_path, err);
	if (rc != CW_OK)
		return rc;
	if (strlen(t->unix_path) > UNIX_PATH_MAX_LEN)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "socket path is %zu bytes; the limit is %d",
		    strlen(t->unix_path), UNIX_PATH_MAX_LEN);
	p = slash + n;
	if (*p == '#')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unexpected fragment in unix:// URL");
	if (*p == '?') {
		size_t qn = strcspn(p + 1, "#");
		if (p[1 + qn] == '#')
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "unexpected fragment in unix:// URL");
		return parse_unix_query(p + 1, t, err);
	}
	return CW_OK;
}

int cw_redis_url_parse(const char *url, cw_redis_target *t, cw_error *err)
{
	cw_redis_target r = {0};
	size_t slen = 0;
	char q[56];
	int rc;

	if (t == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "target is NULL");
	if (url == NULL || *url == '\0')
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "Redis URL is empty");
	if (strlen(url) > URL_MAX_LEN)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "Redis URL is %zu bytes; the limit is %d", strlen(url),
		    URL_MAX_LEN);
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':' */
	while (isalpha((unsigned char)url[slen]) ||
	       (slen > 0 &&
	           (isdigit((unsigned char)url[slen]) || url[slen] == '+' ||
	               url[slen] == '-' || url[slen] == '.')))
		slen++;
	if (slen == 0 || url[slen] != ':')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "missing scheme (use redis://host[:port][/db] or "
		    "unix:///path/to/socket)");
	if (slen == 6 && strncasecmp(url, "rediss", 6) == 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unsupported scheme \"rediss\" (TLS is not supported; use "
		    "redis:// or unix://)");
	int is_redis = slen == 5 && strncasecmp(url, "redis", 5) == 0;
	int is_unix = slen == 4 && strncasecmp(url, "unix", 4) == 0;
	if (!is_redis && !is_unix)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unsupported scheme \"%s\" (use redis:// or unix://)",
		    quote(q, sizeof q, url, slen));
	if (strncmp(url + slen, "://", 3) != 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "expected \"%s://\" at the start",
		    is_redis ? "redis" : "unix");
	if (is_redis)
		rc = parse_redis(url + slen + 3, &r, err);
	else
		rc = parse_unix(url + slen + 3, &r, err);
	if (rc != CW_OK) {
		cw_redis_target_free(&r);
		return rc;
	}
	*t = r;
	return CW_OK;
}

void cw_redis_target_free(cw_redis_target *t)
{
	if (t == NULL)
		return;
	free(t->host);
	free(t->unix_path);
	free(t->user);
	free(t->password);
	t->host = t->unix_path = t->user = t->password = NULL;
}

static int dup_field(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int cw_redis_target_copy(
    cw_redis_target *dst, const cw_redis_target *src, cw_error *err)
{
	cw_redis_target r = {0};

	if (dst == NULL || src == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "target is NULL");
	r.port = src->port;
	r.db = src->db;
	if (dup_field(&r.host, src->host) ||
	    dup_field(&r.unix_path, src->unix_path) ||
	    dup_field(&r.user, src->user) ||
	    dup_field(&r.password, src->password)) {
		cw_redis_target_free(&r);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	*dst = r;
	return CW_OK;
}

void cw_redis_target_describe(const cw_redis_target *t, char *buf, size_t len)
{
	const char *user, *creds;

	if (buf == NULL || len == 0)
		return;
	if (t == NULL) {
		snprintf(buf, len, "(no Redis target)");
		return;
	}
	user = t->user != NULL ? t->user : "";
	creds = t->password != NULL ? ":***@" : (t->user != NULL ? "@" : "");
	if (t->unix_path != NULL)
		snprintf(buf, len, "unix://%s%s%s?db=%d", user, creds,
		    t->unix_path, t->db);
	else if (t->host != NULL && strchr(t->host, ':') != NULL)
		snprintf(buf, len, "redis://%s%s[%s]:%d/%d", user, creds,
		    t->host, t->port, t->db);
	else
		snprintf(buf, len, "redis://%s%s%s:%d/%d", user, creds,
		    t->host != NULL ? t->host : "(no host)", t->port, t->db);
}
