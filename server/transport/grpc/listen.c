/* listen.c - grpc.listen entries: "host:port" or "tls://host:port". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_server.h"

/* One entry, s[0..n), into *a. */
static int parse_one(const char *s, size_t n, cw_grpc_addr *a, cw_error *err)
{
	char e[300];
	const char *p = s, *end = s + n;

	snprintf(e, sizeof e, "%.*s", (int)(n < 256 ? n : 256), s);
	*a = (cw_grpc_addr){0};
	if (n >= 6 && strncmp(p, "tls://", 6) == 0) {
		a->tls = true;
		p += 6;
	} else if (memchr(s, '/', n) != NULL) {
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "grpc.listen entry \"%s\": want host:port or "
		    "tls://host:port",
		    e);
	}
	const char *colon;
	if (p < end && *p == '[') { /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL || rb + 1 >= end || rb[1] != ':')
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": want [v6 address]:port",
			    e);
		if ((size_t)(rb - p - 1) >= sizeof a->host)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": host too long", e);
		memcpy(a->host, p + 1, (size_t)(rb - p - 1));
		colon = rb + 1;
	} else {
		colon = NULL;
		for (const char *q = p; q < end; q++)
			if (*q == ':')
				colon = q;
		if (colon == NULL)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": no port (want "
			    "host:port)",
			    e);
		if ((size_t)(colon - p) >= sizeof a->host ||
		    memchr(p, ':', (size_t)(colon - p)) != NULL)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": bad host (an IPv6 "
			    "address goes in brackets)",
			    e);
		memcpy(a->host, p, (size_t)(colon - p));
	}
	for (const char *q = a->host; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && !strchr(".-_:*", *q))
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": bad host", e);
	long port = 0;
	const char *q = colon + 1;
	if (q == end)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "grpc.listen entry \"%s\": no port", e);
	for (; q < end; q++) {
		if (!isdigit((unsigned char)*q) ||
		    (port = port * 10 + (*q - '0')) > 65535)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen entry \"%s\": the port is not a "
			    "number in 0..65535",
			    e);
	}
	a->port = (int)port;
	return CW_OK;
}

int cw_grpc_listen_parse(
    const char *list, cw_grpc_addr *out, int max, int *n, cw_error *err)
{
	const char *p = list;

	*n = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len;
		while (b < e && isblank((unsigned char)*b))
			b++;
		while (e > b && isblank((unsigned char)e[-1]))
			e--;
		if (b == e)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen: an empty entry in the list");
		if (*n == max)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "grpc.listen: more than %d entries", max);
		if (parse_one(b, (size_t)(e - b), &out[*n], err) != CW_OK)
			return err->code;
		for (int i = 0; i < *n; i++)
			if (out[i].port == out[*n].port && out[i].port != 0 &&
			    strcmp(out[i].host, out[*n].host) == 0)
				return cw_error_set(err, CW_INVALID_ARGUMENT,
				    "grpc.listen: %.*s is given twice",
				    (int)(e - b), b);
		(*n)++;
		p += len;
		if (*p == ',')
			p++;
	}
	return CW_OK;
}
