/*
 * auth.c - the check every request goes through (auth.h): a token
 * presented in constant time against the current cw_tokens (parsed by
 * tokens.c, shared through tokens_internal.h) or, without tokens, the
 * default namespace; and the rwlock that lets a reload replace the set
 * while checks run.
 */
#define _GNU_SOURCE /* glibc: pthread_rwlockattr_setkind_np */

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tokens_internal.h"

struct cw_auth {
	pthread_rwlock_t lock; /* read: a check; write: a replace */
	cw_tokens *tokens;     /* under lock; NULL: authentication off */
	size_t default_len;
	char default_ns[CW_NAMESPACE_MAX + 1];
};

/* ---- the check ----------------------------------------------------------- */

/* All ones when d is 0, else 0, without a branch. */
static size_t zero_mask(size_t d)
{
	return ((d | (0 - d)) >> (sizeof d * CHAR_BIT - 1)) - 1;
}

/*
 * The entry whose token is tok[0..n) (n >= 1), or NULL; constant-time with
 * respect to the tokens' content. Every entry is compared over the whole
 * of its stored token, with no early exit: byte differences are OR-ed
 * together with the length difference, and the matching entry (at most
 * one: tokens are distinct) is selected with masks, not branches. The
 * presented token is read at index j while j < n, else at index 0, so
 * what is loaded depends on lengths only. The time taken depends only on
 * the number of entries and the stored tokens' lengths.
 */
static const struct entry *find_token(
    const cw_tokens *t, const uint8_t *tok, size_t n)
{
	size_t found = 0, which = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];
		size_t d = e->token_len ^ n;
		for (size_t j = 0; j < e->token_len; j++) {
			size_t in = 0 - (size_t)(j < n);
			d |= (size_t)(e->token[j] ^ tok[j & in]);
		}
		size_t m = zero_mask(d);
		found |= m;
		which |= i & m;
	}
	return found ? &t->e[which] : NULL;
}

static int check_tokens(const cw_tokens *t, const uint8_t *token,
    size_t token_len, const uint8_t *ns, size_t ns_len,
    char ns_out[CW_NAMESPACE_MAX + 1], cw_error *err)
{
	char q[QUOTE_BUF];
	if (token_len == 0)
		return cw_error_set(err, CW_UNAUTHENTICATED,
		    "this server requires a bearer token (auth_token)");
	const struct entry *e = find_token(t, token, token_len);
	if (e == NULL)
		return cw_error_set(
		    err, CW_UNAUTHENTICATED, "the bearer token is not valid");
	if (ns_len == 0) {
		memcpy(ns_out, e->ns[0].s, e->ns[0].len + 1);
		return CW_OK;
	}
	for (size_t i = 0; i < e->nns; i++) {
		if (e->ns[i].len == ns_len &&
		    memcmp(e->ns[i].s, ns, ns_len) == 0) {
			memcpy(ns_out, e->ns[i].s, ns_len + 1);
			return CW_OK;
		}
	}
	return cw_error_set(err, CW_PERMISSION_DENIED,
	    "namespace %s is not allowed for this token",
	    cw_quote(q, ns, ns_len));
}

static int check_default(const cw_auth *a, const uint8_t *ns, size_t ns_len,
    char ns_out[CW_NAMESPACE_MAX + 1], cw_error *err)
{
	char q[QUOTE_BUF];
	if (ns_len == 0 || (ns_len == a->default_len &&
	                       memcmp(ns, a->default_ns, ns_len) == 0)) {
		memcpy(ns_out, a->default_ns, a->default_len + 1);
		return CW_OK;
	}
	return cw_error_set(err, CW_PERMISSION_DENIED,
	    "namespace %s is not served: this server has no "
	    "auth.tokens_file, so its only namespace is \"%s\"",
	    cw_quote(q, ns, ns_len), a->default_ns);
}

int cw_auth_check(cw_auth *a, const uint8_t *token, size_t token_len,
    const uint8_t *ns, size_t ns_len, char ns_out[CW_NAMESPACE_MAX + 1],
    cw_error *err)
{
	pthread_rwlock_rdlock(&a->lock);
	int rc = a->tokens != NULL ? check_tokens(a->tokens, token, token_len,
	                                 ns, ns_len, ns_out, err)
	                           : check_default(a, ns, ns_len, ns_out, err);
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

/* ---- the auth ------------------------------------------------------------ */

int cw_auth_new(
    cw_auth **out, cw_tokens *t, const char *default_ns, cw_error *err)
{
	char q[QUOTE_BUF];
	size_t n = default_ns ? strlen(default_ns) : 0;
	if (out == NULL) {
		cw_tokens_free(t);
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "cw_auth_new: out is NULL");
	}
	if (!cw_ns_valid(default_ns, n)) {
		cw_tokens_free(t);
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "the default namespace %s is not 1 to %d characters from "
		    "A-Z a-z 0-9 _ . -",
		    cw_quote(q, default_ns ? default_ns : "", n),
		    CW_NAMESPACE_MAX);
	}
	cw_auth *a = calloc(1, sizeof *a);
	pthread_rwlockattr_t attr;
	if (a == NULL || pthread_rwlockattr_init(&attr) != 0) {
		free(a);
		cw_tokens_free(t);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
#if defined(__GLIBC__)
	/* glibc prefers readers by default: a steady stream of checks would
	 * keep a reload waiting for ever. */
	pthread_rwlockattr_setkind_np(
	    &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	int rv = pthread_rwlock_init(&a->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rv != 0) {
		free(a);
		cw_tokens_free(t);
		return cw_error_set(err, CW_INTERNAL,
		    "cannot create the lock for authentication: %s",
		    strerror(rv));
	}
	a->tokens = t;
	memcpy(a->default_ns, default_ns, n + 1);
	a->default_len = n;
	*out = a;
	return CW_OK;
}

void cw_auth_replace(cw_auth *a, cw_tokens *t)
{
	pthread_rwlock_wrlock(&a->lock);
	cw_tokens *old = a->tokens;
	a->tokens = t;
	pthread_rwlock_unlock(&a->lock);
	/* No check can hold old now: each took the lock before the swap and
	 * released it before this write lock was granted. */
	cw_tokens_free(old);
}

bool cw_auth_enabled(cw_auth *a)
{
	pthread_rwlock_rdlock(&a->lock);
	bool on = a->tokens != NULL;
	pthread_rwlock_unlock(&a->lock);
	return on;
}

void cw_auth_free(cw_auth *a)
{
	if (a == NULL)
		return;
	pthread_rwlock_destroy(&a->lock);
	cw_tokens_free(a->tokens);
	free(a);
}
