/*
 * auth.h - bearer tokens and tenant namespaces: who may call cachewired,
 * and in which namespaces.
 *
 * A token file (the configuration's auth.tokens_file) is one YAML document,
 * a sequence of entries, each a token and the namespaces it may use:
 *
 *     - token: "s3cr3t-token-of-at-least-16-chars"
 *       namespaces: [tenant-a, shared]
 *
 * cw_tokens_parse / cw_tokens_load_file turn one into an immutable
 * cw_tokens. A cw_auth holds the current set (or none: authentication off)
 * and answers cw_auth_check for every request, from any number of threads
 * at once, while cw_auth_replace swaps in a reloaded set (SIGHUP).
 *
 * Secrets: no message of these calls ever holds a token's text (errors
 * name the entry by number instead), token bytes are wiped before their
 * memory is freed, and cw_auth_check compares a presented token in time
 * that does not depend on the tokens' content.
 *
 * Two files implement it: tokens.c the token sets (cw_tokens_*), auth.c
 * the checks (cw_auth_*).
 */
#ifndef CW_RPC_AUTH_H
#define CW_RPC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

/* The longest namespace: 1 to 64 characters from A-Z a-z 0-9 _ . - (the
 * same rule as cache.namespace). */
#define CW_NAMESPACE_MAX 64

/* ---- token sets ---------------------------------------------------------- */

/* A parsed token file: immutable once built, so any thread may read it. */
typedef struct cw_tokens cw_tokens;

/*
 * Parse the token file text[0..len) (need not be NUL-terminated); name is
 * what messages call it (NULL: "<string>"). The rules: one document, a
 * non-empty sequence (an empty file or sequence is an error: authentication
 * is turned off by leaving auth.tokens_file empty, not by listing nothing);
 * at most 10000 entries and 1 MiB of text; each entry a mapping with
 * exactly the keys token (16 to 4096 bytes of printable ASCII without
 * spaces, 0x21..0x7e, different from every other entry's) and namespaces (a
 * non-empty sequence of distinct namespaces, see CW_NAMESPACE_MAX); no
 * anchors, aliases or tags.
 *
 * Returns 0 with a new set in *out (free it with cw_tokens_free), or -1
 * with *out unchanged and, when errbuf is not NULL, one line in
 * errbuf[0..errlen) naming where the first error is, as
 * "name:line:column: message" (1-based, at the offending node).
 */
int cw_tokens_parse(cw_tokens **out, const char *name, const char *text,
    size_t len, char *errbuf, size_t errlen);

/*
 * cw_tokens_parse on the content of the file at path (messages name it by
 * path). A file that cannot be read fails with "path: cannot read: reason",
 * one larger than 1 MiB with "path: larger than 1 MiB".
 */
int cw_tokens_load_file(
    cw_tokens **out, const char *path, char *errbuf, size_t errlen);

/* Wipe the token bytes of t, then free it; NULL is a no-op. */
void cw_tokens_free(cw_tokens *t);

/*
 * Whether a and b hold the same entries (tokens and namespaces) in the same
 * order; two NULLs are equal, NULL and a set are not. For telling whether a
 * reload changed anything; not constant-time.
 */
bool cw_tokens_equal(const cw_tokens *a, const cw_tokens *b);

/* How many entries t holds; 0 for NULL. */
size_t cw_tokens_count(const cw_tokens *t);

/* ---- what the server checks requests against ----------------------------- */

/* Thread-safe: cw_auth_check, cw_auth_enabled and cw_auth_replace may run
 * on any threads at once (not cw_auth_free). */
typedef struct cw_auth cw_auth;

/*
 * A new cw_auth in *out (free it with cw_auth_free). t is the token set,
 * owned by the auth from now on, even when this fails (it is then freed);
 * NULL turns authentication off. default_ns is the server's
 * cache.namespace, copied: the only namespace served without tokens.
 * Fails with CW_INVALID_ARGUMENT when default_ns is not a valid namespace,
 * CW_INTERNAL when out of memory.
 */
int cw_auth_new(
    cw_auth **out, cw_tokens *t, const char *default_ns, cw_error *err);

/*
 * Replace the token set (a SIGHUP reload) with t, owned by the auth from
 * now on; NULL turns authentication off. Atomic for concurrent checks: each
 * sees the old set or the new one, never a mix. The old set is freed before
 * this returns, once no check uses it.
 */
void cw_auth_replace(cw_auth *a, cw_tokens *t);

/* Whether a holds tokens (requests must then carry one). */
bool cw_auth_enabled(cw_auth *a);

/*
 * Check one request: token[0..token_len) is its envelope's auth_token,
 * ns[0..ns_len) its namespace; both may be empty and are bytes (not
 * NUL-terminated, any value). Allocates nothing.
 *
 * With tokens: no token is CW_UNAUTHENTICATED "this server requires a
 * bearer token (auth_token)", one that is not in the set CW_UNAUTHENTICATED
 * "the bearer token is not valid". An empty ns means the entry's first
 * namespace; one the entry does not list is CW_PERMISSION_DENIED
 * "namespace \"x\" is not allowed for this token".
 *
 * Without tokens: the token is ignored; an empty ns or the default
 * namespace means the default namespace, any other is CW_PERMISSION_DENIED
 * "namespace \"x\" is not served: this server has no auth.tokens_file, so
 * its only namespace is \"default\"".
 *
 * In messages, x is quoted, cut after about 64 characters and its
 * non-printable bytes escaped (\xNN); a token is never shown. On CW_OK the
 * namespace the call works in is written, NUL-terminated, to ns_out (which
 * is left alone on failure); err (may be NULL) gets the failure.
 */
int cw_auth_check(cw_auth *a, const uint8_t *token, size_t token_len,
    const uint8_t *ns, size_t ns_len, char ns_out[CW_NAMESPACE_MAX + 1],
    cw_error *err);

/* Free a and its token set; no check may be running. NULL is a no-op. */
void cw_auth_free(cw_auth *a);

#endif
