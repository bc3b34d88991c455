/* wire.c - gRPC's framing on top of HTTP/2, without I/O (wire.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define FIRST_CAP 256 /* the message buffer's first size */

void cw_grpc_body_init(cw_grpc_body *b, size_t max)
{
	*b = (cw_grpc_body){.max = max, .err = {.code = CW_OK}};
}

void cw_grpc_body_free(cw_grpc_body *b)
{
	free(b->buf);
	b->buf = NULL;
	b->cap = 0;
}

/* Room for `need` message bytes in all, grown by doubling. */
static int reserve(cw_grpc_body *b, size_t need)
{
	if (need <= b->cap)
		return CW_OK;
	size_t cap = b->cap > 0 ? b->cap : FIRST_CAP;
	while (cap < need)
		cap = cap > b->len / 2 ? b->len : cap * 2;
	uint8_t *p = realloc(b->buf, cap);
	if (p == NULL)
		return cw_error_set(&b->err, CW_INTERNAL,
		    "out of memory for a %zu-byte message", b->len);
	b->buf = p;
	b->cap = cap;
	return CW_OK;
}

int cw_grpc_body_feed(cw_grpc_body *b, const uint8_t *p, size_t n)
{
	if (b->err.code != CW_OK)
		return b->err.code;
	while (n > 0) {
		if (b->prefix_got < CW_GRPC_PREFIX) {
			size_t k = CW_GRPC_PREFIX - b->prefix_got;
			if (k > n)
				k = n;
			memcpy(b->prefix + b->prefix_got, p, k);
			b->prefix_got += k;
			p += k;
			n -= k;
			if (b->prefix_got < CW_GRPC_PREFIX)
				break;
			b->compressed = b->prefix[0] != 0;
			b->len = (size_t)b->prefix[1] << 24 |
			         (size_t)b->prefix[2] << 16 |
			         (size_t)b->prefix[3] << 8 | b->prefix[4];
			if (b->prefix[0] > 1)
				return cw_error_set(&b->err,
				    CW_INVALID_ARGUMENT,
				    "the message's compressed flag is %u "
				    "(0 or 1)",
				    b->prefix[0]);
			if (b->len > b->max)
				return cw_error_set(&b->err,
				    CW_RESOURCE_EXHAUSTED,
				    "request message of %zu bytes is over "
				    "the limit of %zu "
				    "(server.max_message_bytes)",
				    b->len, b->max);
			continue;
		}
		size_t k = b->len - b->got;
		if (k == 0)
			return cw_error_set(&b->err, CW_INVALID_ARGUMENT,
			    "more than one request message on a unary call");
		if (k > n)
			k = n;
		if (reserve(b, b->got + k) != CW_OK)
			return b->err.code;
		memcpy(b->buf + b->got, p, k);
		b->got += k;
		p += k;
		n -= k;
	}
	return CW_OK;
}

int cw_grpc_body_end(cw_grpc_body *b)
{
	if (b->err.code != CW_OK)
		return b->err.code;
	if (b->prefix_got == 0)
		return cw_error_set(&b->err, CW_INVALID_ARGUMENT,
		    "the call ended without a request message");
	if (b->prefix_got < CW_GRPC_PREFIX)
		return cw_error_set(&b->err, CW_INVALID_ARGUMENT,
		    "the request message was cut short: %zu bytes came, "
		    "not even its 5-byte length prefix",
		    b->prefix_got);
	if (b->got < b->len)
		return cw_error_set(&b->err, CW_INVALID_ARGUMENT,
		    "the request message was cut short: its prefix says %zu "
		    "bytes, %zu came",
		    b->len, b->got);
	return CW_OK;
}

int cw_grpc_timeout_parse(const uint8_t *v, size_t n, uint64_t *ms)
{
	uint64_t x = 0;

	if (n < 2 || n > 9)
		return -1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	/* at most 99,999,999 of a unit: no overflow below */
	switch (v[n - 1]) {
	case 'H':
		*ms = x * 3600000u;
		break;
	case 'M':
		*ms = x * 60000u;
		break;
	case 'S':
		*ms = x * 1000u;
		break;
	case 'm':
		*ms = x;
		break;
	case 'u':
		*ms = (x + 999) / 1000;
		break;
	case 'n':
		*ms = (x + 999999) / 1000000;
		break;
	default:
		return -1;
	}
	if (*ms == 0)
		*ms = 1;
	return 0;
}

int cw_grpc_bearer(
    const uint8_t *v, size_t n, const uint8_t **tok, size_t *tok_len)
{
	static const char scheme[] = "bearer";
	size_t k = sizeof scheme - 1, i;

	if (n <= k || strncasecmp((const char *)v, scheme, k) != 0 ||
	    (v[k] != ' ' && v[k] != '\t'))
		return -1;
	for (i = k; i < n && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	*tok = v + i;
	*tok_len = n - i;
	return 0;
}

bool cw_grpc_content_type_ok(const uint8_t *v, size_t n)
{
	static const char base[] = "application/grpc";
	size_t k = sizeof base - 1;

	if (n < k || strncasecmp((const char *)v, base, k) != 0)
		return false;
	if (n == k || v[k] == ';')
		return true;
	return n - k == 6 && strncasecmp((const char *)v + k, "+proto", 6) == 0;
}

size_t cw_grpc_message_encode(const char *msg, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)msg; *p != '\0';
	     p++) {
		bool plain = *p >= 0x20 && *p <= 0x7E && *p != '%';
		if (o + (plain ? 1 : 3) >= len)
			break;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}
