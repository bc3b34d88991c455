/*
 * conformance_backends.c - the conformance suite's backends (see
 * conformance.h): the cache core in process, and the client against a
 * real cachewired over tcp or ipc, both configured by the settings of the
 * shared case file; the helpers every C case uses; and shared_cases, which
 * runs the shared cases (read by conformance_cases.c) on a backend.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <inttypes.h>

#include "conformance.h"

static int core_get(void *h, const void *k, size_t kl, bool *f, void **v,
    size_t *vl, int t, cw_error *e)
{
	return cw_cache_get(h, k, kl, f, v, vl, t, e);
}
static int core_set(void *h, const void *k, size_t kl, const void *v, size_t vl,
    cw_expiry x, int t, cw_error *e)
{
	return cw_cache_set(h, k, kl, v, vl, x, t, e);
}
static int core_del(
    void *h, const void *k, size_t kl, bool *x, int t, cw_error *e)
{
	return cw_cache_delete(h, k, kl, x, t, e);
}
static int core_clear(void *h, uint64_t *n, int t, cw_error *e)
{
	return cw_cache_clear(h, n, t, e);
}
static int core_get_many(
    void *h, size_t n, const cw_key *k, cw_value *v, int t, cw_error *e)
{
	return cw_cache_get_many(h, n, k, v, t, e);
}
static int core_set_many(
    void *h, size_t n, const cw_entry *x, int t, cw_error *e)
{
	return cw_cache_set_many(h, n, x, t, e);
}
static int core_del_many(
    void *h, size_t n, const cw_key *k, bool *x, int t, cw_error *e)
{
	return cw_cache_delete_many(h, n, k, x, t, e);
}
static int remote_get(void *h, const void *k, size_t kl, bool *f, void **v,
    size_t *vl, int t, cw_error *e)
{
	return cw_get(h, k, kl, f, v, vl, t, e);
}
static int remote_set(void *h, const void *k, size_t kl, const void *v,
    size_t vl, cw_expiry x, int t, cw_error *e)
{
	return cw_set(h, k, kl, v, vl, x, t, e);
}
static int remote_del(
    void *h, const void *k, size_t kl, bool *x, int t, cw_error *e)
{
	return cw_delete(h, k, kl, x, t, e);
}
static int remote_clear(void *h, uint64_t *n, int t, cw_error *e)
{
	return cw_clear(h, n, t, e);
}

static int remote_get_many(
    void *h, size_t n, const cw_key *k, cw_value *v, int t, cw_error *e)
{
	return cw_get_many(h, n, k, v, t, e);
}
static int remote_set_many(
    void *h, size_t n, const cw_entry *x, int t, cw_error *e)
{
	return cw_set_many(h, n, x, t, e);
}
static int remote_del_many(
    void *h, size_t n, const cw_key *k, bool *x, int t, cw_error *e)
{
	return cw_delete_many(h, n, k, x, t, e);
}

/* Redis with an ACL user and a password, on TCP and a unix socket, so the
 * core's AUTH (user + password), SELECT and TCP paths are the ones used. */
static const char *const redis_args[] = {"--user", "default", "off", "--user",
    "tester", "on", ">s3cret", "~*", "&*", "+@all", NULL};

static redisContext *raw_connect(cw_test_redis *r)
{
	redisContext *c = redisConnectUnix(r->sock);
	if (c == NULL || c->err)
		return NULL;
	freeReplyObject(redisCommand(c, "AUTH tester s3cret"));
	freeReplyObject(redisCommand(c, "SELECT 3"));
	return c;
}

/* The case file's settings as options of the core (the daemon gets them
 * as CACHEWIRE_* variables). A file that cannot be read sets nothing:
 * shared_cases then fails with its error. */
static int core_options(cw_cache_options *o)
{
	const conf_cases *cs = cases_load();
	for (size_t i = 0; i < cs->n_settings; i++) {
		const char *n = cs->names[i];
		uint64_t v = cs->values[i];
		if (strcmp(n, "cache.max_key_bytes") == 0)
			o->max_key_bytes = v;
		else if (strcmp(n, "cache.max_value_bytes") == 0)
			o->max_value_bytes = v;
		else if (strcmp(n, "cache.clear_batch") == 0)
			o->clear_batch = (int)v;
		else if (strcmp(n, "cache.max_batch_keys") == 0)
			o->max_batch_keys = (int)v;
		else
			return fprintf(stderr,
			           "%s: setting %s: the core has no such "
			           "option\n",
			           cs->path, n),
			       -1;
	}
	return 0;
}

int setup_core(void **state)
{
	static backend b = {"core", core_get, core_set, core_del, core_clear,
	    core_get_many, core_set_many, core_del_many};
	if (cw_test_redis_start(&b.redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b.redis.port);
	cw_cache_options o = {.namespace_ = NS, .pool_size = 4};
	if (core_options(&o) != 0)
		return -1;
	cw_error err;
	if (cw_redis_url_parse(url, &o.redis, &err) != CW_OK ||
	    cw_cache_open((cw_cache **)&b.h, &o, &err) != CW_OK) {
		fprintf(stderr, "core: %s\n", err.message);
		return -1;
	}
	cw_redis_target_free(&o.redis);
	b.raw = raw_connect(&b.redis);
	*state = &b;
	return b.raw ? 0 : -1;
}

int teardown_core(void **state)
{
	backend *b = *state;
	if (b == NULL) /* its setup failed (and said why) */
		return -1;
	cw_cache_close(b->h);
	redisFree(b->raw);
	cw_test_redis_stop(&b->redis, false);
	return 0;
}

static int setup_remote(void **state, bool ipc, bool no_coalescing)
{
	static backend tcp = {"remote tcp", remote_get, remote_set, remote_del,
	    remote_clear, remote_get_many, remote_set_many, remote_del_many};
	static backend tcp_alone = {"remote tcp, no coalescing", remote_get,
	    remote_set, remote_del, remote_clear, remote_get_many,
	    remote_set_many, remote_del_many};
	static backend unix_ = {"remote ipc", remote_get, remote_set,
	    remote_del, remote_clear, remote_get_many, remote_set_many,
	    remote_del_many};
	backend *b = ipc ? &unix_ : no_coalescing ? &tcp_alone : &tcp;
	cw_client_options opts = {.no_coalescing = no_coalescing};
	if (cw_test_redis_start(&b->redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b->redis.port);
	/* the case file's settings, as cachewired's environment */
	if (cw_test_daemon_start(&b->daemon, url, cases_load()->env) != 0)
		return -1;
	cw_error err;
	if (cw_open((cw_client **)&b->h,
	        ipc ? b->daemon.ipc_url : b->daemon.tcp_url, &opts,
	        &err) != CW_OK) {
		fprintf(stderr, "cw_open: %s\n", err.message);
		return -1;
	}
	b->raw = raw_connect(&b->redis);
	*state = b;
	return b->raw ? 0 : -1;
}

/* ---- on a Redis Cluster (CW_TEST_CLUSTER_NODES: its nodes, from
 * integration/test_cluster.sh; user tester, password s3cret). No raw
 * line: a key's node depends on its slot, so only the cases that check
 * through the API run there. */

int setup_core_cluster(void **state)
{
	static backend b = {"core on a cluster", core_get, core_set, core_del,
	    core_clear, core_get_many, core_set_many, core_del_many};
	cw_redis_node nodes[16];
	cw_cache_options o = {.namespace_ = NS, .pool_size = 2};
	cw_error err;
	if (core_options(&o) != 0)
		return -1;
	if (cw_redis_nodes_parse(getenv("CW_TEST_CLUSTER_NODES"), nodes, 16,
	        &o.cluster_nnodes, &err) != CW_OK ||
	    cw_redis_url_parse(
	        "redis://tester:s3cret@unused/0", &o.redis, &err) != CW_OK) {
		fprintf(stderr, "CW_TEST_CLUSTER_NODES: %s\n", err.message);
		return -1;
	}
	o.cluster_nodes = nodes;
	int rc = cw_cache_open((cw_cache **)&b.h, &o, &err);
	for (int i = 0; i < o.cluster_nnodes; i++)
		cw_redis_node_free(&nodes[i]);
	cw_redis_target_free(&o.redis);
	if (rc != CW_OK) {
		fprintf(stderr, "core: %s\n", err.message);
		return -1;
	}
	*state = &b;
	return 0;
}

int teardown_core_cluster(void **state)
{
	backend *b = *state;
	if (b == NULL)
		return -1;
	cw_cache_close(b->h);
	return 0;
}

int setup_remote_cluster(void **state)
{
	static backend b = {"remote tcp on a cluster", remote_get, remote_set,
	    remote_del, remote_clear, remote_get_many, remote_set_many,
	    remote_del_many};
	static char nodes[1024];
	const char *env[MAX_SETTINGS + 4];
	size_t n = 0;
	for (const char *const *e = cases_load()->env; *e != NULL; e++)
		env[n++] = *e;
	snprintf(nodes, sizeof nodes, "CACHEWIRE_REDIS_NODES=%s",
	    getenv("CW_TEST_CLUSTER_NODES"));
	env[n++] = "CACHEWIRE_REDIS_MODE=cluster";
	env[n++] = nodes;
	env[n] = NULL;
	if (cw_test_daemon_start(
	        &b.daemon, "redis://tester:s3cret@unused/0", env) != 0)
		return -1;
	cw_error err;
	if (cw_open((cw_client **)&b.h, b.daemon.tcp_url, NULL, &err) !=
	    CW_OK) {
		fprintf(stderr, "cw_open: %s\n", err.message);
		return -1;
	}
	*state = &b;
	return 0;
}

int teardown_remote_cluster(void **state)
{
	backend *b = *state;
	if (b == NULL)
		return -1;
	cw_close(b->h);
	return cw_test_daemon_stop(&b->daemon) == 0 ? 0 : -1;
}

int setup_remote_tcp(void **state)
{
	return setup_remote(state, false, false);
}

int setup_remote_tcp_alone(void **state)
{
	return setup_remote(state, false, true);
}

int setup_remote_ipc(void **state)
{
	return setup_remote(state, true, false);
}

int teardown_remote(void **state)
{
	backend *b = *state;
	if (b == NULL) /* its setup failed (and said why) */
		return -1;
	cw_close(b->h);
	redisFree(b->raw);
	int status = cw_test_daemon_stop(&b->daemon);
	cw_test_redis_stop(&b->redis, false);
	return status == 0 ? 0 : -1; /* a clean exit on SIGTERM is part of it */
}

/* ---- helpers ------------------------------------------------------------- */

/* Empty the namespace before each case so counts are exact. */
int clean(void **state)
{
	cw_error err;
	assert_int_equal(B->clear(B->h, NULL, TIMEOUT_MS, &err), CW_OK);
	return 0;
}

void put(void **state, const char *k, const char *v, cw_expiry x)
{
	cw_error err;
	int rc = B->set(B->h, k, strlen(k), v, strlen(v), x, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: set %s: %s: %s", B->name, k, cw_strerror(rc),
		    err.message);
}

/* Get k; returns the value (free()) or NULL on a miss. */
char *fetch(void **state, const void *k, size_t kl, size_t *vl)
{
	cw_error err;
	bool found = true;
	void *v = (void *)1;
	size_t len = 99;
	int rc = B->get(B->h, k, kl, &found, &v, &len, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg(
		    "%s: get: %s: %s", B->name, cw_strerror(rc), err.message);
	if (!found) {
		assert_null(v);
		assert_int_equal(len, 0);
		return NULL;
	}
	if (vl != NULL)
		*vl = len;
	return v;
}

long long raw_int(void **state, const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(B->raw, fmt, arg);
	assert_non_null(r);
	long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	freeReplyObject(r);
	return n;
}

/* ---- running them -------------------------------------------------------- */

/* b, shown for a message: its length and its first bytes, escaped. */
static const char *show(const void *p, size_t n, char *buf)
{
	const unsigned char *b = p;
	char *o = buf + sprintf(buf, "%zu bytes \"", n);
	for (size_t i = 0; i < n && i < 24; i++)
		o += isprint(b[i]) && b[i] != '"' && b[i] != '\\'
		         ? sprintf(o, "%c", b[i])
		         : sprintf(o, "\\x%02x", b[i]);
	sprintf(o, "\"%s", n > 24 ? "..." : "");
	return buf;
}

static cw_expiry expiry(const item *it, uint64_t now)
{
	switch (it->xkind) {
	case X_TTL:
		return CW_TTL_MS((uint64_t)it->xms);
	case X_AT_REL:
		return CW_EXPIRE_AT_MS((uint64_t)((int64_t)now + it->xms));
	case X_AT_ABS:
		return CW_EXPIRE_AT_MS((uint64_t)it->xms);
	}
	return CW_NO_EXPIRY;
}

/* A result against what the step expects; why gets the difference. */
static int check_value(const result *want, bool found, const void *v, size_t n,
    const char *what, char *why)
{
	char a[160], b[160];
	if (want->kind == R_MISS && found)
		return sprintf(why, "%s: wanted a miss, got %s", what,
		           show(v, n, a)),
		       -1;
	if (want->kind == R_VALUE && !found)
		return sprintf(why, "%s: wanted %s, got a miss", what,
		           show(want->value.p, want->value.n, b)),
		       -1;
	if (want->kind == R_VALUE &&
	    (n != want->value.n || memcmp(v, want->value.p, n) != 0))
		return sprintf(why, "%s: wanted %s, got %s", what,
		           show(want->value.p, want->value.n, b),
		           show(v, n, a)),
		       -1;
	return 0;
}

static int check_flag(const result *want, bool existed, size_t i, char *why)
{
	if (existed == (want->kind == R_TRUE))
		return 0;
	return sprintf(why, "existed[%zu]: wanted %s, got %s", i,
	           existed ? "false" : "true", existed ? "true" : "false"),
	       -1;
}

/* Run one step on B; 0, or -1 with why (a 1 KiB buffer) saying what differs. */
static int run_step(void **state, const step *s, char *why)
{
	cw_error err = {0};
	size_t n = s->n_items, i;
	const item *it = s->items;
	int rc = CW_OK, bad = 0;
	bool found = false, *flags = calloc(n + 1, sizeof *flags);
	void *v = NULL;
	size_t vl = 0;
	uint64_t removed = 0, now = cw_now_ms();
	cw_key *keys = calloc(n + 1, sizeof *keys);
	cw_entry *entries = calloc(n + 1, sizeof *entries);
	cw_value *values = calloc(n + 1, sizeof *values);
	assert_true(flags && keys && entries && values);
	for (i = 0; i < n; i++) {
		keys[i] = (cw_key){it[i].key.p, it[i].key.n};
		entries[i] = (cw_entry){it[i].key.p, it[i].key.n, it[i].value.p,
		    it[i].value.n, expiry(&it[i], now)};
	}
	switch (s->op) {
	case SET:
		rc = B->set(B->h, keys[0].data, keys[0].len, entries[0].value,
		    entries[0].value_len, entries[0].expiry, TIMEOUT_MS, &err);
		break;
	case GET:
		rc = B->get(B->h, keys[0].data, keys[0].len, &found, &v, &vl,
		    TIMEOUT_MS, &err);
		break;
	case DEL:
		rc = B->del(B->h, keys[0].data, keys[0].len, &flags[0],
		    TIMEOUT_MS, &err);
		break;
	case CLEAR:
		rc = B->clear(B->h, &removed, TIMEOUT_MS, &err);
		break;
	case GET_MANY:
		rc = B->get_many(B->h, n, keys, values, TIMEOUT_MS, &err);
		break;
	case SET_MANY:
		rc = B->set_many(B->h, n, entries, TIMEOUT_MS, &err);
		break;
	case DEL_MANY:
		rc = B->del_many(B->h, n, keys, flags, TIMEOUT_MS, &err);
		break;
	case SLEEP:
		cw_test_sleep_ms((int)s->number);
		break;
	}
	int ml = s->message.n > 200 ? 200 : (int)s->message.n;
	if (s->status != 0 && rc != s->status)
		bad = sprintf(why, "wanted %s \"%.*s\", got %s%s%s",
		    cw_strerror(s->status), ml,
		    s->message.p ? (char *)s->message.p : "", cw_strerror(rc),
		    rc ? ": " : "", rc ? err.message : "");
	else if (s->status != 0 && s->message.n &&
	         !memmem(err.message, strlen(err.message), s->message.p,
	             s->message.n))
		bad = sprintf(why,
		    "%s: wanted a message containing \"%.*s\", got \"%s\"",
		    cw_strerror(rc), ml, s->message.p, err.message);
	else if (s->status == 0 && rc != CW_OK)
		bad = sprintf(why, "%s: %s", cw_strerror(rc), err.message);
	else if (s->status == 0 && s->op == GET)
		bad = check_value(&s->results[0], found, v, vl, "get", why);
	else if (s->status == 0 && s->op == DEL)
		bad = check_flag(&s->results[0], flags[0], 0, why);
	else if (s->status == 0 && s->op == CLEAR && removed != s->number)
		bad = sprintf(why,
		    "clear: wanted %" PRIu64 " removed, got %" PRIu64,
		    s->number, removed);
	for (i = 0; s->status == 0 && rc == CW_OK && !bad && i < n; i++) {
		char what[32];
		snprintf(what, sizeof what, "get_many[%zu]", i);
		if (s->op == GET_MANY)
			bad = check_value(&s->results[i], values[i].found,
			    values[i].data, values[i].len, what, why);
		else if (s->op == DEL_MANY)
			bad = check_flag(&s->results[i], flags[i], i, why);
	}
	if (s->op == GET_MANY && rc == CW_OK)
		cw_values_free(values, n);
	cw_free(v);
	free(flags), free(keys), free(entries), free(values);
	return bad ? -1 : 0;
}

/*
 * The cmocka test: every shared case on backend B, each on an empty
 * namespace; a failing step fails its case (with the case's name and the
 * step's file:line), the other cases still run, and the test fails at the
 * end when any case did.
 */
void shared_cases(void **state)
{
	const conf_cases *S = cases_load();
	if (S->error[0])
		fail_msg("%s: %s", B->name, S->error);
	size_t failed = 0;
	char first[2048] = "", why[1024], msg[2048];
	for (size_t c = 0; c < S->n_cases; c++) {
		const conf_case *k = &S->cases[c];
		cw_error err;
		if (B->clear(B->h, NULL, TIMEOUT_MS, &err) != CW_OK)
			fail_msg("%s: clear before case %s: %s", B->name,
			    k->name, err.message);
		for (size_t j = 0; j < k->n; j++) {
			why[0] = '\0';
			if (run_step(state, &k->steps[j], why) == 0)
				continue;
			snprintf(msg, sizeof msg, "%s: case %s (%s:%d): %s",
			    B->name, k->name, S->path, k->steps[j].line, why);
			print_error("FAIL %s\n", msg);
			if (failed++ == 0)
				snprintf(first, sizeof first, "%s", msg);
			break;
		}
	}
	if (failed)
		fail_msg("%zu of %zu shared cases failed; the first: %s",
		    failed, S->n_cases, first);
	size_t steps = 0;
	for (size_t c = 0; c < S->n_cases; c++)
		steps += S->cases[c].n;
	print_message("%s: %zu shared cases, %zu steps passed (%s)\n", B->name,
	    S->n_cases, steps, S->path);
}
