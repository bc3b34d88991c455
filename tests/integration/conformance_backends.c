/*
 * conformance_backends.c - the conformance suite's backends (see
 * conformance.h): the cache core in process, and the client against a
 * real cachewired over tcp or ipc; plus the helpers every case uses.
 */
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

int setup_core(void **state)
{
	static backend b = {"core", core_get, core_set, core_del, core_clear,
	    core_get_many, core_set_many, core_del_many};
	if (cw_test_redis_start(&b.redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b.redis.port);
	cw_cache_options o = {.namespace_ = NS,
	    .pool_size = 4,
	    .max_key_bytes = MAX_KEY,
	    .max_value_bytes = MAX_VALUE,
	    .clear_batch = 100};
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
	cw_cache_close(b->h);
	redisFree(b->raw);
	cw_test_redis_stop(&b->redis, false);
	return 0;
}

static int setup_remote(void **state, bool ipc)
{
	static backend tcp = {"remote tcp", remote_get, remote_set, remote_del,
	    remote_clear, remote_get_many, remote_set_many, remote_del_many};
	static backend unix_ = {"remote ipc", remote_get, remote_set,
	    remote_del, remote_clear, remote_get_many, remote_set_many,
	    remote_del_many};
	backend *b = ipc ? &unix_ : &tcp;
	if (cw_test_redis_start(&b->redis, NULL, true, redis_args) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof url, "redis://tester:s3cret@127.0.0.1:%d/3",
	    b->redis.port);
	const char *env[] = {"CACHEWIRE_CACHE_MAX_KEY_BYTES=1024",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=16MiB",
	    "CACHEWIRE_CACHE_CLEAR_BATCH=100", NULL};
	if (cw_test_daemon_start(&b->daemon, url, env) != 0)
		return -1;
	cw_error err;
	if (cw_open((cw_client **)&b->h,
	        ipc ? b->daemon.ipc_url : b->daemon.tcp_url, NULL,
	        &err) != CW_OK) {
		fprintf(stderr, "cw_open: %s\n", err.message);
		return -1;
	}
	b->raw = raw_connect(&b->redis);
	*state = b;
	return b->raw ? 0 : -1;
}

int setup_remote_tcp(void **state)
{
	return setup_remote(state, false);
}

int setup_remote_ipc(void **state)
{
	return setup_remote(state, true);
}

int teardown_remote(void **state)
{
	backend *b = *state;
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
