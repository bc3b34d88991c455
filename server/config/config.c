/*
 * config.c - cachewired's configuration (config.h): the one key table,
 * defaults, the environment, validation, reading the file and freeing.
 *
 * One table (cw__cfg_keys[] below) lists every key once: where it lives in
 * the YAML file, its type, range and default. The YAML walker
 * (yaml.c), the environment (CACHEWIRE_<SECTION>_<KEY>, derived from
 * the table), the defaults and cw_config_validate all go through the same
 * value parser, cw__cfg_set_value(), and the same checks,
 * cw__cfg_check_value() (value.c). config_internal.h says what the
 * files share.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config_internal.h"
#include "redis_url.h"
#include "grpc_server.h" /* cw_grpc_listen_parse */

#define FILE_MAX       (1 << 20)  /* cw_config_load_file reads at most this */
#define ENVELOPE_BYTES (64 * KIB) /* room for the rpc envelope of a value */

/* ---- the key table ---------------------------------------------------- */

#define F(field) offsetof(cw_config, field)

/* config.h and config/cachewire.yaml document the same values. */
const struct key cw__cfg_keys[] = {
    {NULL, "listen", KT_LISTEN, F(listen), 1, CW_MAX_LISTEN,
        "tcp://127.0.0.1:7420,ipc:///tmp/cachewire.sock"},
    {"server", "max_in_flight", KT_INT, F(max_in_flight), 1, 65536, "256"},
    {"server", "max_message_bytes", KT_SIZE, F(max_message_bytes), KIB, GIB,
        "33MiB"},
    {"server", "default_timeout_ms", KT_INT, F(default_timeout_ms), 1, 3600000,
        "5000"},
    {"server", "drain_timeout_ms", KT_INT, F(drain_timeout_ms), 0, 3600000,
        "10000"},
    {"redis", "mode", KT_REDIS_MODE, F(redis_mode), 0, 0, "standalone"},
    {"redis", "nodes", KT_NODES, F(redis_nodes), 1, 64, ""},
    {"redis", "sentinel_master", KT_STRING, F(redis_sentinel_master), 0, 256,
        ""},
    {"redis", "sentinel_password_file", KT_SECRET_FILE,
        F(redis_sentinel_password_file), 0, 0, "", F(redis_sentinel_password)},
    {"redis", "url", KT_REDIS_URL, F(redis_url), 0, 0,
        "redis://127.0.0.1:6379/0"},
    {"redis", "user", KT_STRING, F(redis_user), 0, 256, ""},
    {"redis", "password", KT_SECRET, F(redis_password), 0, 4096, ""},
    {"redis", "password_file", KT_SECRET_FILE, F(redis_password_file), 0, 0, "",
        F(redis_password)},
    {"redis", "pool_size", KT_INT, F(pool_size), 1, 256, "4"},
    {"redis", "connect_timeout_ms", KT_INT, F(connect_timeout_ms), 1, 3600000,
        "1000"},
    {"redis", "command_timeout_ms", KT_INT, F(command_timeout_ms), 1, 3600000,
        "5000"},
    {"cache", "namespace", KT_NAMESPACE, F(namespace_), 1, 64, "cachewire"},
    {"cache", "max_key_bytes", KT_SIZE, F(max_key_bytes), 1, MIB, "4096"},
    {"cache", "max_value_bytes", KT_SIZE, F(max_value_bytes), 1, 512 * MIB,
        "32MiB"},
    {"cache", "clear_batch", KT_INT, F(clear_batch), 1, 100000, "512"},
    {"cache", "max_batch_keys", KT_INT, F(max_batch_keys), 1, 100000, "1000"},
    {"cache", "chunk_bytes", KT_SIZE, F(chunk_bytes), 64 * KIB, 64 * MIB,
        "1MiB"},
    {"cache", "max_upload_bytes", KT_SIZE, F(max_upload_bytes), 1, 4 * GIB,
        "512MiB"},
    {"cache", "upload_ttl_ms", KT_INT, F(upload_ttl_ms), 1000, 86400000,
        "600000"},
    {"tls", "cert_file", KT_FILE, F(tls_cert_file), 0, 0, ""},
    {"tls", "key_file", KT_FILE, F(tls_key_file), 0, 0, ""},
    {"tls", "client_ca_file", KT_FILE, F(tls_client_ca_file), 0, 0, ""},
    {"tls", "min_version", KT_TLS_VERSION, F(tls_min_version), 0, 0, "1.2"},
    {"auth", "tokens_file", KT_TOKENS, F(auth_tokens_file), 0, 0, ""},
    {"grpc", "listen", KT_GRPC_LISTEN, F(grpc_listen), 0, 0, ""},
    {"admin", "listen", KT_ADMIN_URL, F(admin_listen), 0, 0,
        "http://127.0.0.1:7421"},
    {"log", "level", KT_LEVEL, F(log_level), 0, 0, "info"},
    {"log", "format", KT_LOG_FORMAT, F(log_format), 0, 0, "text"},
};
const size_t cw__cfg_nkeys = sizeof cw__cfg_keys / sizeof cw__cfg_keys[0];

/* CACHEWIRE_* variables that belong to the client, the CLI or main.c. */
static const char *const env_allowed[] = {
    "CACHEWIRE_URL",
    "CACHEWIRE_CONFIG",
    "CACHEWIRE_TIMEOUT",
    "CACHEWIRE_TOKEN_FILE",
};
#define ENV_PREFIX "CACHEWIRE_"

const char *cw__cfg_key_path(char *buf, size_t len, const struct key *k)
{
	if (k->section == NULL)
		snprintf(buf, len, "%s", k->name);
	else
		snprintf(buf, len, "%s.%s", k->section, k->name);
	return buf;
}

/* "CACHEWIRE_SERVER_WORKERS", "CACHEWIRE_LISTEN". */
static const char *key_env(char *buf, size_t len, const struct key *k)
{
	char path[64];
	cw__cfg_key_path(path, sizeof path, k);
	snprintf(buf, len, ENV_PREFIX "%s", path);
	for (char *p = buf; *p != '\0'; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	return buf;
}

/* ---- defaults, free, validate ----------------------------------------- */

int cw_config_defaults(cw_config *c)
{
	char msg[MSG_MAX];
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < cw__cfg_nkeys; i++)
		if (cw__cfg_set_value(c, &cw__cfg_keys[i], cw__cfg_keys[i].def,
		        NULL, msg, sizeof msg))
			return -1; /* out of memory */
	return 0;
}

void cw_config_free(cw_config *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CW_MAX_LISTEN; i++) {
		free(c->listen[i]);
		c->listen[i] = NULL;
	}
	c->listen_count = 0;
	free(c->source);
	c->source = NULL;
	free(c->redis_url);
	c->redis_url = NULL;
	free(c->redis_password_file);
	c->redis_password_file = NULL;
	if (c->redis_password != NULL) {
		memset(c->redis_password, 0, strlen(c->redis_password));
		free(c->redis_password);
		c->redis_password = NULL;
	}
	free(c->redis_sentinel_password_file);
	c->redis_sentinel_password_file = NULL;
	if (c->redis_sentinel_password != NULL) {
		memset(c->redis_sentinel_password, 0,
		    strlen(c->redis_sentinel_password));
		free(c->redis_sentinel_password);
		c->redis_sentinel_password = NULL;
	}
	free(c->redis_nodes);
	c->redis_nodes = NULL;
	free(c->redis_sentinel_master);
	c->redis_sentinel_master = NULL;
	free(c->namespace_);
	c->namespace_ = NULL;
	free(c->redis_user);
	c->redis_user = NULL;
	char **files[] = {&c->tls_cert_file, &c->tls_key_file,
	    &c->tls_client_ca_file, &c->auth_tokens_file, &c->admin_listen,
	    &c->grpc_listen};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		free(*files[i]);
		*files[i] = NULL;
	}
	cw_tokens_free(c->auth_tokens);
	c->auth_tokens = NULL;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_value(
    const cw_config *a, const cw_config *b, const struct key *k)
{
	const char *pa = (const char *)a + k->off,
	           *pb = (const char *)b + k->off;

	switch (k->type) {
	case KT_LISTEN:
		if (a->listen_count != b->listen_count)
			return false;
		for (int i = 0; i < a->listen_count; i++)
			if (!same_string(a->listen[i], b->listen[i]))
				return false;
		return true;
	case KT_INT:
		return *(const int *)pa == *(const int *)pb;
	case KT_SIZE:
		return *(const size_t *)pa == *(const size_t *)pb;
	case KT_LEVEL:
		return *(const enum cw_log_level *)pa ==
		       *(const enum cw_log_level *)pb;
	case KT_LOG_FORMAT:
		return *(const enum cw_log_format *)pa ==
		       *(const enum cw_log_format *)pb;
	case KT_SECRET_FILE: /* the file, and what it held when read */
		return same_string(*(char *const *)pa, *(char *const *)pb) &&
		       same_string(
		           *(char *const *)((const char *)a + k->secret_off),
		           *(char *const *)((const char *)b + k->secret_off));
	case KT_REDIS_MODE:
		return *(const enum cw_redis_mode *)pa ==
		       *(const enum cw_redis_mode *)pb;
	case KT_SECRET: /* set by redis.password itself, not from a file */
		return same_string(
		    a->redis_password_file ? NULL : a->redis_password,
		    b->redis_password_file ? NULL : b->redis_password);
	case KT_TOKENS: /* the file, and the tokens it held when read */
		return same_string(a->auth_tokens_file, b->auth_tokens_file) &&
		       cw_tokens_equal(a->auth_tokens, b->auth_tokens);
	case KT_TLS_VERSION:
		return *(const int *)pa == *(const int *)pb;
	case KT_STRING:
	case KT_NODES:
	case KT_GRPC_LISTEN:
	case KT_FILE:
	case KT_NAMESPACE:
	case KT_REDIS_URL:
	case KT_ADMIN_URL:
		return same_string(*(char *const *)pa, *(char *const *)pb);
	}
	return false;
}

int cw_config_changed(
    const cw_config *a, const cw_config *b, char (*out)[48], int max)
{
	int n = 0;

	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		if (same_value(a, b, &cw__cfg_keys[i]))
			continue;
		if (n < max)
			cw__cfg_key_path(
			    out[n], sizeof out[n], &cw__cfg_keys[i]);
		n++;
	}
	return n;
}

/*
 * redis.mode and the keys that go with it: cluster and sentinel need
 * redis.nodes; sentinel needs redis.sentinel_master; redis.url then gives
 * only credentials and db, and must be redis:// (Sentinel and Cluster
 * name nodes by host and port); a cluster has db 0 only. Keys of one mode
 * set in another are mistakes, not ignored.
 */
static int check_redis_mode(const cw_config *c, char *msg, size_t len)
{
	static const char *const names[] = {
	    "standalone", "cluster", "sentinel"};
	const char *mode = names[c->redis_mode];
	bool sentinel = c->redis_mode == CW_REDIS_SENTINEL;

	if (c->redis_mode == CW_REDIS_STANDALONE && c->redis_nodes != NULL)
		return snprintf(msg, len,
		           "redis.nodes is set but redis.mode is standalone: "
		           "set redis.mode to cluster or sentinel, or unset "
		           "redis.nodes"),
		       -1;
	if (!sentinel && (c->redis_sentinel_master != NULL ||
	                     c->redis_sentinel_password_file != NULL))
		return snprintf(msg, len,
		           "redis.sentinel_%s is set but redis.mode is %s, not "
		           "sentinel",
		           c->redis_sentinel_master != NULL ? "master"
		                                            : "password_file",
		           mode),
		       -1;
	if (c->redis_mode == CW_REDIS_STANDALONE)
		return 0;
	if (c->redis_nodes == NULL)
		return snprintf(msg, len,
		           "redis.mode %s needs redis.nodes (host:port of %s)",
		           mode, sentinel ? "the sentinels" : "seed nodes"),
		       -1;
	if (sentinel && c->redis_sentinel_master == NULL)
		return snprintf(msg, len,
		           "redis.mode sentinel needs redis.sentinel_master "
		           "(the "
		           "name the sentinels monitor the master by)"),
		       -1;
	cw_redis_target t = {0};
	cw_error err = {0};
	if (cw_redis_url_parse(c->redis_url, &t, &err) != CW_OK)
		return snprintf(msg, len, "invalid redis.url: %s", err.message),
		       -1;
	bool unix_ = t.unix_path != NULL;
	int db = t.db;
	cw_redis_target_free(&t);
	if (unix_)
		return snprintf(msg, len,
		           "redis.url is unix:// but redis.mode %s reaches "
		           "Redis by host and port: give credentials and db in "
		           "a redis:// URL (its host is not used)",
		           mode),
		       -1;
	if (c->redis_mode == CW_REDIS_CLUSTER && db != 0)
		return snprintf(msg, len,
		           "redis.url names db %d, but Redis Cluster has db 0 "
		           "only",
		           db),
		       -1;
	return 0;
}

int cw_config_validate(const cw_config *c, char *errbuf, size_t errlen)
{
	char msg[MSG_MAX];
	for (size_t i = 0; i < cw__cfg_nkeys; i++)
		if (cw__cfg_check_value(c, &cw__cfg_keys[i], msg, sizeof msg) !=
		    0)
			return cw_fail_line(errbuf, errlen, "%s", msg);

	if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL))
		return cw_fail_line(errbuf, errlen,
		    "tls.cert_file and tls.key_file go together: set both or "
		    "neither");
	if (c->tls_client_ca_file != NULL && c->tls_cert_file == NULL)
		return cw_fail_line(errbuf, errlen,
		    "tls.client_ca_file needs tls.cert_file and "
		    "tls.key_file (the server's own certificate)");
	int tls_urls = 0, grpc_tls = 0;
	for (int i = 0; i < c->listen_count; i++)
		tls_urls += strncmp(c->listen[i], "tls+", 4) == 0;
	if (c->grpc_listen != NULL) {
		cw_grpc_addr a[CW_GRPC_MAX_LISTEN];
		int n = 0;
		cw_error e;
		if (cw_grpc_listen_parse(
		        c->grpc_listen, a, CW_GRPC_MAX_LISTEN, &n, &e) != CW_OK)
			return cw_fail_line(errbuf, errlen, "%s", e.message);
		for (int i = 0; i < n; i++)
			grpc_tls += a[i].tls;
	}
	if (tls_urls > 0 && c->tls_cert_file == NULL)
		return cw_fail_line(errbuf, errlen,
		    "a tls+tcp:// listen URL needs tls.cert_file and "
		    "tls.key_file");
	if (grpc_tls > 0 && c->tls_cert_file == NULL)
		return cw_fail_line(errbuf, errlen,
		    "a tls:// grpc.listen entry needs tls.cert_file and "
		    "tls.key_file");
	if (tls_urls + grpc_tls == 0 && c->tls_cert_file != NULL)
		return cw_fail_line(errbuf, errlen,
		    "tls.cert_file is set but no listen URL is tls+tcp:// and "
		    "no grpc.listen entry is tls://: add one (e.g. "
		    "tls+tcp://0.0.0.0:7421) or unset the tls keys");

	if (check_redis_mode(c, msg, sizeof msg) != 0)
		return cw_fail_line(errbuf, errlen, "%s", msg);

	long long need = (long long)c->max_value_bytes +
	                 (long long)c->max_key_bytes + ENVELOPE_BYTES;
	if (need > (long long)c->max_message_bytes) {
		char v[32], k[32], m[32];
		return cw_fail_line(errbuf, errlen,
		    "cache.max_value_bytes (%s) plus cache.max_key_bytes (%s) "
		    "and %lldKiB of envelope must fit server.max_message_bytes "
		    "(%s): raise it to at least %lld or lower the others",
		    cw__cfg_fmt_size(
		        v, sizeof v, (long long)c->max_value_bytes),
		    cw__cfg_fmt_size(k, sizeof k, (long long)c->max_key_bytes),
		    ENVELOPE_BYTES / KIB,
		    cw__cfg_fmt_size(
		        m, sizeof m, (long long)c->max_message_bytes),
		    need);
	}
	return 0;
}

size_t cw_config_chunk_bytes(const cw_config *c)
{
	long long room = (long long)c->max_message_bytes -
	                 (long long)c->max_key_bytes - ENVELOPE_BYTES;

	if (room < 4 * KIB)
		room = 4 * KIB; /* uploads then fail as too large, and say so */
	return (long long)c->chunk_bytes < room ? c->chunk_bytes : (size_t)room;
}

/* ---- environment -------------------------------------------------------- */

static bool env_is_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof env_allowed / sizeof *env_allowed; i++)
		if (strcmp(name, env_allowed[i]) == 0)
			return true;
	return false;
}

static const struct key *find_env(const char *name)
{
	char env[96];
	for (size_t i = 0; i < cw__cfg_nkeys; i++)
		if (strcmp(name, key_env(env, sizeof env, &cw__cfg_keys[i])) ==
		    0)
			return &cw__cfg_keys[i];
	return NULL;
}

/* The variable the user probably meant by name. */
static void env_hint(const char *name, struct suggestion *s)
{
	const size_t pre = strlen(ENV_PREFIX);
	char env[96];
	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		key_env(env, sizeof env, &cw__cfg_keys[i]);
		cw__cfg_suggest(s, name + pre, env + pre, env, 0);
	}
	for (size_t i = 0; i < sizeof env_allowed / sizeof *env_allowed; i++)
		cw__cfg_suggest(
		    s, name + pre, env_allowed[i] + pre, env_allowed[i], 0);
	/* CACHEWIRE_WORKERS, CACHEWIRE_SERVER_POOL_SIZE: the right key in the
	 * wrong (or no) section. */
	for (size_t i = 0; i < cw__cfg_nkeys && s->text[0] == '\0'; i++) {
		const struct key *k = &cw__cfg_keys[i];
		key_env(env, sizeof env, k);
		const char *tail =
		    env + pre + (k->section ? strlen(k->section) + 1 : 0);
		size_t nl = strlen(name), tl = strlen(tail);
		if (nl > tl && name[nl - tl - 1] == '_' &&
		    strcmp(name + nl - tl, tail) == 0)
			snprintf(s->text, sizeof s->text, "%s", env);
	}
}

int cw_config_apply_env(
    cw_config *c, char *const *envp, char *errbuf, size_t errlen)
{
	char name[128], msg[MSG_MAX], hint[128];
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *var = *envp, *eq = strchr(var, '=');
		if (eq == NULL || strncmp(var, ENV_PREFIX, strlen(ENV_PREFIX)))
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(eq - var), var);
		if (env_is_allowed(name))
			continue;
		const struct key *k = find_env(name);
		if (k == NULL) {
			struct suggestion s = {0};
			env_hint(name, &s);
			return cw_fail_line(errbuf, errlen,
			    "%.*s: unknown variable%s", (int)(eq - var), var,
			    cw__cfg_did_you_mean(hint, sizeof hint, &s));
		}
		if (cw__cfg_set_value(c, k, eq + 1, NULL, msg, sizeof msg) != 0)
			return cw_fail_line(
			    errbuf, errlen, "%s: %s", name, msg);
	}
	return 0;
}

int cw_config_set(cw_config *c, const char *path, const char *text,
    const char *origin, char *errbuf, size_t errlen)
{
	char buf[64], msg[MSG_MAX];
	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		const struct key *k = &cw__cfg_keys[i];
		if (strcmp(cw__cfg_key_path(buf, sizeof buf, k), path) != 0)
			continue;
		if (cw__cfg_set_value(c, k, text, NULL, msg, sizeof msg) != 0)
			return cw_fail_line(
			    errbuf, errlen, "%s: %s", origin, msg);
		return 0;
	}
	return cw_fail_line(
	    errbuf, errlen, "%s: no configuration key %s", origin, path);
}

/* ---- the file --------------------------------------------------------- */

/* Read all of path into a malloc'd buffer; 0 or an errno value. */
static int read_all(const char *path, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int err = buf ? 0 : ENOMEM;
	while (err == 0) {
		if (len == cap) {
			char *b = cap > FILE_MAX ? NULL : realloc(buf, cap * 2);
			if (b == NULL) {
				err = cap > FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		else if (r == 0)
			break;
		else
			len += (size_t)r;
	}
	close(fd);
	if (err == 0 && len > FILE_MAX)
		err = EFBIG;
	if (err != 0) {
		free(buf);
		return err;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int cw_config_load_file(
    cw_config *c, const char *path, char *errbuf, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int err = read_all(path, &text, &len);
	if (err != 0)
		return cw_fail_line(
		    errbuf, errlen, "%s: cannot read: %s", path, strerror(err));
	int rc = cw_config_parse_yaml(c, path, text, len, errbuf, errlen);
	free(text);
	return rc;
}
