/*
 * config_internal.h - what the configuration's files share. Private to
 * server/config*.c: not installed, not included anywhere else.
 *
 *   config.c        the public API (config.h) and the one key table
 *   yaml.c   the libyaml walk: nodes to keys, file:line:col
 *   value.c  parsing and checking one key's value
 *   url.c    the listen and admin URLs
 *   msg.c    error lines: quoting, sizes, "did you mean"
 *
 * The key table below is the only list of keys: the YAML walker, the
 * environment (CACHEWIRE_<SECTION>_<KEY>, derived from the table), the
 * defaults and cw_config_validate all go through the same value parser,
 * cw__cfg_set_value(), and the same checks, cw__cfg_check_value().
 */
#ifndef CW_SERVER_CONFIG_INTERNAL_H
#define CW_SERVER_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "errline.h"

#define KIB (1LL << 10)
#define MIB (1LL << 20)
#define GIB (1LL << 30)

/* Room for one message, before its position or variable is prefixed. */
#define MSG_MAX 400

/* ---- the key table (config.c) ------------------------------------------ */

enum ktype {
	KT_LISTEN,      /* list of nng URLs (top level) */
	KT_INT,         /* int, decimal, in min..max */
	KT_SIZE,        /* size_t, bytes or KiB/MiB/GiB, in min..max */
	KT_LEVEL,       /* enum cw_log_level by name */
	KT_NAMESPACE,   /* char *, [A-Za-z0-9_.-]{1,64} */
	KT_REDIS_URL,   /* char *, accepted by cw_redis_url_parse */
	KT_SECRET_FILE, /* char *, a path read at once into redis_password */
	KT_SECRET,      /* char *, redis.password: never shown; "" is NULL */
	KT_STRING,      /* char *, printable, no spaces; "" is NULL */
	KT_FILE,        /* char *, a path readable when set; "" is NULL */
	KT_TOKENS,      /* char *, a path read at once into auth_tokens */
	KT_TLS_VERSION, /* int, "1.2" -> 12, "1.3" -> 13 */
	KT_ADMIN_URL,   /* char *, http://HOST:PORT; "" is NULL */
	KT_LOG_FORMAT,  /* enum cw_log_format by name */
	KT_REDIS_MODE,  /* enum cw_redis_mode by name */
	KT_NODES,       /* char *, host:port list, comma-joined; "" is NULL */
	KT_GRPC_LISTEN, /* char *, grpc.listen entries, comma-joined; "" is
	                   NULL */
};

struct key {
	const char *section; /* NULL for a top-level key */
	const char *name;
	enum ktype type;
	size_t off; /* of the field in cw_config */
	long long min, max;
	const char *def;   /* the default, written as in the environment */
	size_t secret_off; /* KT_SECRET_FILE: the field its content goes to */
};

extern const struct key cw__cfg_keys[];
extern const size_t cw__cfg_nkeys;

/* "server.workers", or "listen" for a top-level key. */
const char *cw__cfg_key_path(char *buf, size_t len, const struct key *k);

/* ---- values (value.c) ------------------------------------------- */

/*
 * Parse text as k's value and store it in c: the one value parser for the
 * YAML file, the environment and the defaults. Messages name the key when
 * `subject` is set (YAML), and leave it to the caller's prefix when it is
 * NULL (the environment). On error writes the message (without position)
 * into msg and returns -1.
 */
int cw__cfg_set_value(cw_config *c, const struct key *k, const char *text,
    const char *subject, char *msg, size_t len);

/* Check the value c holds for k (cw_config_validate). */
int cw__cfg_check_value(
    const cw_config *c, const struct key *k, char *msg, size_t len);

/* What a value of type t looks like: "an integer", "a URL", ... */
const char *cw__cfg_type_name(enum ktype t);

/*
 * Messages name the key when `subject` is set (YAML, validation), and leave
 * it to the caller's prefix when it is NULL (the environment).
 */
#define SUBJ(s) (s) ? (s) : "", (s) ? " " : ""
#define FOR(s)  (s) ? " for " : "", (s) ? (s) : ""

/*
 * Parse a decimal integer (with an optional sign when `sign`, with an
 * optional KiB/MiB/GiB suffix when `suffix`). Returns 0, -1 when s is not
 * such a number, 1 when it is one too large for *out.
 */
int cw__cfg_parse_number(const char *s, bool sign, bool suffix, long long *out);

/* ---- URLs (url.c) ------------------------------------------------ */

/* A URL nng can listen on; 0, or -1 and msg. */
int cw__cfg_check_listen_url(const char *url, char *msg, size_t len);
/* admin.listen: "" or http://HOST:PORT; 0, or -1 and msg. */
int cw__cfg_check_admin_url(
    const char *url, const char *subject, char *msg, size_t len);
/* Comma-separated URLs (blanks around each ignored) into c->listen. */
int cw__cfg_set_listen(cw_config *c, const char *text, char *msg, size_t len);

/* A listen list being built; becomes c->listen on success. */
struct urls {
	char *v[CW_MAX_LISTEN];
	int n;
};

/* Check the first ulen bytes of url and add them to l: 0, or -1 and msg. */
int cw__cfg_urls_add(
    struct urls *l, const char *url, size_t ulen, char *msg, size_t len);

void cw__cfg_urls_free(struct urls *l);

/* Replace c's listen list with l's (which is left empty). */
void cw__cfg_urls_commit(cw_config *c, struct urls *l);

/* ---- messages (msg.c) ------------------------------------------- */

/* s as a double-quoted, escaped string of at most ~48 characters. */
const char *cw__cfg_quote(char *buf, size_t len, const char *s);

/* A size the way a person writes it: "32MiB", "4096". */
const char *cw__cfg_fmt_size(char *buf, size_t len, long long v);

struct suggestion {
	char text[96];
	size_t score; /* lower is better */
};

/*
 * Consider candidate (shown as `shown`) for what the user typed: a typo
 * (small edit distance) scores best, then a completion (typed, at least 3
 * characters, is the start of the candidate), shortest first. penalty ranks
 * otherwise equal candidates.
 */
void cw__cfg_suggest(struct suggestion *s, const char *typed,
    const char *candidate, const char *shown, size_t penalty);

/* " (did you mean X?)" or "". */
const char *cw__cfg_did_you_mean(
    char *buf, size_t len, const struct suggestion *s);

#endif
