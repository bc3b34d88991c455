/*
 * auth_cases.h - what test_auth.c and test_tokens.c share: the tokens and
 * documents they use, and helpers to parse and check. Included by those
 * two tests only.
 */
#ifndef CW_TEST_AUTH_CASES_H
#define CW_TEST_AUTH_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

/* Tokens the documents use: no message may ever hold one. */
#define TOK_A "s3cr3t-token-of-at-least-16-chars"
#define TOK_B "another-token-0123456789"
#define TOK_C "third-token:!#$%&()*+,/;<=>?@[]^`{|}~"

static const char *const secrets[] = {TOK_A, TOK_B, TOK_C};

/* The example of the token file's documentation, comments and all. */
static const char good_doc[] = "# comments allowed\n"
                               "- token: \"" TOK_A "\"\n"
                               "  namespaces: [tenant-a, shared]\n"
                               "- token: " TOK_B "\n"
                               "  namespaces:\n"
                               "    - tenant-b   # a comment here too\n"
                               "- {token: '" TOK_C "', namespaces: [c]}\n";

/* ---- helpers ------------------------------------------------------------- */

static inline int parse(cw_tokens **out, const char *doc, char *err, size_t len)
{
	err[0] = '\0';
	return cw_tokens_parse(out, "t.yaml", doc, strlen(doc), err, len);
}

static inline cw_tokens *must_parse(const char *doc)
{
	cw_tokens *t = NULL;
	char err[512];
	int rc = parse(&t, doc, err, sizeof err);
	if (rc != 0)
		fail_msg("parse failed: %s\ndocument:\n%s", err, doc);
	assert_non_null(t);
	return t;
}

/* Whether a known token, or the case's own secret, appears in msg. */
static inline bool leaks(const char *msg, const char *secret)
{
	for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
		if (strstr(msg, secrets[i]) != NULL)
			return true;
	/* (A secret too short to be a token could be any word.) */
	return secret != NULL && strlen(secret) >= 10 &&
	       strstr(msg, secret) != NULL;
}

static inline int check(cw_auth *a, const char *token, const char *ns,
    char out[CW_NAMESPACE_MAX + 1], cw_error *err)
{
	memset(err, 0, sizeof *err);
	return cw_auth_check(a, (const uint8_t *)token,
	    token ? strlen(token) : 0, (const uint8_t *)ns, ns ? strlen(ns) : 0,
	    out, err);
}

/* check() must pass with the namespace want. */
static inline void check_ok(
    cw_auth *a, const char *token, const char *ns, const char *want)
{
	char out[CW_NAMESPACE_MAX + 1] = "";
	cw_error err;
	int rc = check(a, token, ns, out, &err);
	if (rc != CW_OK)
		fail_msg("check(ns \"%s\") failed: %d %s", ns ? ns : "", rc,
		    err.message);
	assert_string_equal(out, want);
}

#endif
