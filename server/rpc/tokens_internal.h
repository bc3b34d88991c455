/*
 * tokens_internal.h - private to server/rpc, not installed: what tokens.c
 * (which builds a cw_tokens from a token file) shares with auth.c (which
 * checks requests against one). The layout of a token set, and the
 * namespace rule and message quoting both use; defined in tokens.c.
 */
#ifndef CW_RPC_TOKENS_INTERNAL_H
#define CW_RPC_TOKENS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* cw_quote() shows at most QUOTE_MAX characters between its quotes. */
#define QUOTE_MAX 64
#define QUOTE_BUF (QUOTE_MAX + 8)

struct ns_name {
	size_t len;
	char s[CW_NAMESPACE_MAX + 1];
};

struct entry {
	uint8_t *token; /* token_len bytes, wiped before free */
	size_t token_len;
	struct ns_name *ns; /* nns >= 1 of them, distinct */
	size_t nns;
};

struct cw_tokens {
	struct entry *e;
	size_t n;
};

/* Whether p[0..n) is a namespace: [A-Za-z0-9_.-]{1,64}, as cache.namespace. */
bool cw_ns_valid(const void *p, size_t n);

/*
 * p[0..n) in double quotes for a message, in buf: '"' and '\' backslashed,
 * bytes outside 0x20..0x7e as \xNN, cut with "..." once QUOTE_MAX
 * characters are shown. Returns buf.
 */
const char *cw_quote(char buf[QUOTE_BUF], const void *p, size_t n);

#endif
