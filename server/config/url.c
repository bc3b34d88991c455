/*
 * url.c - the URLs of the configuration (config_internal.h): the
 * listen list (tcp://, tcp4://, tcp6://, tls+tcp://..., ipc://) and
 * admin.listen (http://HOST:PORT), checked where they are given.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config_internal.h"

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
	    cw__cfg_parse_number(colon + 1, false, false, &port) != 0 ||
	    port > 65535)
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
int cw__cfg_check_listen_url(const char *url, char *msg, size_t len)
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
int cw__cfg_check_admin_url(
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
	else if (cw__cfg_check_listen_url(u, msg, len) != 0)
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
int cw__cfg_set_listen(cw_config *c, const char *text, char *msg, size_t len)
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
