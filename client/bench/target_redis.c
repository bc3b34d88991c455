/*
 * target_redis.c - Redis directly through hiredis: the floor a user would
 * pick instead of the service. One thread per connection, each with a
 * blocking context that keeps depth operations pipelined: append depth,
 * then loop: read a reply, which answers the oldest outstanding operation,
 * and append the next. The commands are the ones the service sends: GET,
 * SET, UNLINK, MGET, and one SET per key for setmany.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis.h>

#include <cachewire/status.h>

#include "run.h"

/* An operation in flight: its replies come back in order. */
struct rop {
	enum op_kind kind;
	bool measured;
	bool failed;
	unsigned n;         /* keys */
	unsigned remaining; /* replies still to come */
	int64_t t0;
	uint64_t hits, misses, bytes;
};

struct rconn {
	struct rtarget *t;
	redisContext *c;
	pthread_t thread;
	bool started;
	/* One generator per ring position: with the pipeline full, a new op
	 * takes the position of the one that just finished, so position p of
	 * connection i draws the keys of the service's slot i * depth + p. */
	struct rng *rng;
	struct slot_stats st;
	struct rop *ring; /* depth ops, oldest at head */
	unsigned head, inflight;
	uint64_t *idx;
	char *keybuf;      /* batch keys of KEY_CAP bytes */
	const char **argv; /* batch + 1, for MGET */
	size_t *argvlen;
};

struct rtarget {
	const struct bench_opts *o;
	const struct redis_addr *addr; /* Redis, or twemproxy in front */
	const char *url;               /* for messages */
	const char *name;              /* "redis" or "twemproxy" */
	struct run *run;
	char *value;
	struct rconn *conns;
};

/* ---- connecting ------------------------------------------------------------
 */

static int redis_check(
    redisContext *c, redisReply *r, const char *what, char *err, size_t errlen)
{
	int rc = 0;

	if (r == NULL) {
		snprintf(err, errlen, "%s: %s", what,
		    c->errstr[0] ? c->errstr : "no reply");
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s: %s", what, r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

static redisContext *redis_connect(const struct bench_opts *o,
    const struct redis_addr *a, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = o->timeout_ms / 1000,
	    .tv_usec = (o->timeout_ms % 1000) * 1000};
	redisContext *c;
	redisReply *r;

	c = a->path != NULL ? redisConnectUnixWithTimeout(a->path, tv)
	                    : redisConnectWithTimeout(a->host, a->port, tv);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(err, errlen, "cannot connect: %s", c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(err, errlen, "cannot set the timeout: %s", c->errstr);
		goto fail;
	}
	if (a->pass != NULL) {
		r = a->user != NULL && a->user[0] != '\0'
		        ? redisCommand(c, "AUTH %s %s", a->user, a->pass)
		        : redisCommand(c, "AUTH %s", a->pass);
		if (redis_check(c, r, "AUTH", err, errlen) != 0)
			goto fail;
	}
	if (a->db != 0) {
		r = redisCommand(c, "SELECT %d", a->db);
		if (redis_check(c, r, "SELECT", err, errlen) != 0)
			goto fail;
	}
	r = redisCommand(c, "PING");
	if (redis_check(c, r, "PING", err, errlen) != 0)
		goto fail;
	return c;
fail:
	redisFree(c);
	return NULL;
}

/* ---- the loop of one connection ------------------------------------------
 */

static const char *key_at(struct rconn *k, unsigned i)
{
	return k->keybuf + (size_t)i * KEY_CAP;
}

/* Append the commands of a new operation; 0 or -1 (out of memory). */
static int append_op(struct rconn *k, bool measured, uint64_t seq)
{
	const struct bench_opts *o = k->t->o;
	unsigned pos = (k->head + k->inflight) % o->depth, i, n;
	struct rop *op = &k->ring[pos];
	int rc = REDIS_OK;

	memset(op, 0, sizeof(*op));
	n = wl_plan(
	    o, &k->rng[pos], k->t->run->prepare, seq, &op->kind, k->idx);
	for (i = 0; i < n; i++)
		k->argvlen[i + 1] = wl_key(k->keybuf + (size_t)i * KEY_CAP,
		    o->redis_prefix, k->idx[i]);
	op->n = n;
	op->measured = measured;
	op->remaining = 1;
	op->t0 = now_ns();
	switch (op->kind) {
	case OP_GET:
		rc = redisAppendCommand(
		    k->c, "GET %b", key_at(k, 0), k->argvlen[1]);
		break;
	case OP_SET:
		rc = redisAppendCommand(k->c, "SET %b %b", key_at(k, 0),
		    k->argvlen[1], k->t->value, o->value_size);
		break;
	case OP_DELETE:
		rc = redisAppendCommand(
		    k->c, "UNLINK %b", key_at(k, 0), k->argvlen[1]);
		break;
	case OP_GETMANY:
		k->argv[0] = "MGET";
		k->argvlen[0] = 4;
		for (i = 0; i < n; i++)
			k->argv[i + 1] = key_at(k, i);
		rc = redisAppendCommandArgv(
		    k->c, (int)n + 1, k->argv, k->argvlen);
		break;
	case OP_SETMANY:
		op->remaining = n;
		for (i = 0; i < n && rc == REDIS_OK; i++)
			rc = redisAppendCommand(k->c, "SET %b %b", key_at(k, i),
			    k->argvlen[i + 1], k->t->value, o->value_size);
		break;
	}
	if (rc != REDIS_OK)
		return -1;
	k->inflight++;
	return 0;
}

/* The op failed: count it once, with the first reason. */
static void op_fail(
    struct rconn *k, struct rop *op, unsigned kind, const char *msg)
{
	if (op->measured && !op->failed)
		stats_error(&k->st, kind, msg);
	op->failed = true;
}

/* A value read back: found, and as long as the ones the bench stores. */
static void take_value(struct rconn *k, struct rop *op, const redisReply *r)
{
	char msg[96];

	if (r->type != REDIS_REPLY_STRING) {
		op->misses++;
		return;
	}
	if (r->len != k->t->o->value_size) {
		snprintf(msg, sizeof(msg),
		    "GET returned %zu bytes, %zu were "
		    "stored",
		    r->len, k->t->o->value_size);
		op_fail(k, op, CW_DATA_LOSS, msg);
	}
	op->hits++;
	op->bytes += r->len;
}

/* Fold one reply into the oldest operation. */
static void take_reply(struct rconn *k, struct rop *op, redisReply *r)
{
	char msg[96];
	size_t i;

	if (r->type == REDIS_REPLY_ERROR) {
		op_fail(k, op, ERR_REDIS_REPLY, r->str);
		return;
	}
	switch (op->kind) {
	case OP_GET:
		take_value(k, op, r);
		break;
	case OP_GETMANY:
		if (r->type != REDIS_REPLY_ARRAY || r->elements != op->n) {
			snprintf(msg, sizeof(msg),
			    "MGET returned %zu values for %u keys",
			    r->type == REDIS_REPLY_ARRAY ? r->elements : 0,
			    op->n);
			op_fail(k, op, CW_DATA_LOSS, msg);
			break;
		}
		for (i = 0; i < r->elements; i++)
			take_value(k, op, r->element[i]);
		break;
	case OP_SET:
	case OP_SETMANY:
		op->bytes += k->t->o->value_size;
		break;
	case OP_DELETE:
		break;
	}
}

/* The oldest operation has all its replies: count it. */
static void finish_op(struct rconn *k, struct rop *op, int64_t t)
{
	if (op->measured && !op->failed) {
		hist_record(k->st.h, (uint64_t)(t - op->t0));
		k->st.ok++;
		k->st.keys += op->n;
		if (op->kind == OP_GET || op->kind == OP_GETMANY)
			k->st.lookups += op->n;
		k->st.hits += op->hits;
		k->st.misses += op->misses;
		k->st.bytes += op->bytes;
	}
	if (op->measured)
		run_completed(k->t->run);
	k->head = (k->head + 1) % k->t->o->depth;
	k->inflight--;
}

/* Claim and append operations until depth are in flight. */
static int fill(struct rconn *k, bool *stopped)
{
	uint64_t seq = 0;
	enum claim c;

	while (!*stopped && k->inflight < k->t->o->depth) {
		c = run_claim(k->t->run, &seq);
		if (c == CLAIM_STOP) {
			*stopped = true;
			break;
		}
		if (append_op(k, c == CLAIM_MEASURE, seq) != 0)
			return -1;
	}
	return 0;
}

/* The connection broke or timed out: every op in flight fails. */
static void fail_inflight(struct rconn *k)
{
	unsigned kind = k->c->err == REDIS_ERR_IO && errno == EAGAIN
	                    ? CW_DEADLINE_EXCEEDED
	                    : CW_UNAVAILABLE;

	while (k->inflight > 0) {
		struct rop *op = &k->ring[k->head];
		if (op->measured) {
			stats_error(&k->st, kind, k->c->errstr);
			run_completed(k->t->run);
		}
		k->head = (k->head + 1) % k->t->o->depth;
		k->inflight--;
	}
}

static void *rconn_main(void *arg)
{
	struct rconn *k = arg;
	bool stopped = false;
	redisReply *r;
	void *reply;

	k->head = k->inflight = 0;
	if (fill(k, &stopped) != 0)
		goto oom;
	while (k->inflight > 0) {
		if (redisGetReply(k->c, &reply) != REDIS_OK) {
			fail_inflight(k);
			break;
		}
		r = reply;
		struct rop *op = &k->ring[k->head];
		take_reply(k, op, r);
		freeReplyObject(r);
		if (--op->remaining == 0) {
			finish_op(k, op, now_ns());
			if (fill(k, &stopped) != 0)
				goto oom;
		}
	}
	run_slot_done(k->t->run);
	return NULL;
oom:
	stats_error(&k->st, CW_INTERNAL, "out of memory appending a command");
	run_stop(k->t->run);
	/* Drain what was sent so the context stays usable. */
	while (k->inflight > 0 && redisGetReply(k->c, &reply) == REDIS_OK) {
		freeReplyObject(reply);
		struct rop *op = &k->ring[k->head];
		if (--op->remaining == 0)
			finish_op(k, op, now_ns());
	}
	run_slot_done(k->t->run);
	return NULL;
}

static int rt_start(void *ctx)
{
	struct rtarget *t = ctx;
	unsigned i;

	for (i = 0; i < t->o->conns; i++) {
		struct rconn *k = &t->conns[i];
		k->started =
		    pthread_create(&k->thread, NULL, rconn_main, k) == 0;
		if (!k->started) {
			stats_error(&k->st, CW_INTERNAL,
			    "cannot start a connection thread");
			run_slot_done(t->run);
		}
	}
	return 0;
}

static void rt_join(struct rtarget *t)
{
	unsigned i;

	for (i = 0; i < t->o->conns; i++) {
		if (t->conns[i].started)
			pthread_join(t->conns[i].thread, NULL);
		t->conns[i].started = false;
	}
}

/* ---- the target ------------------------------------------------------------
 */

static void rt_free(struct rtarget *t)
{
	unsigned i;

	if (t->conns != NULL) {
		for (i = 0; i < t->o->conns; i++) {
			struct rconn *k = &t->conns[i];
			if (k->c != NULL)
				redisFree(k->c);
			stats_free(&k->st);
			free(k->ring);
			free(k->rng);
			free(k->idx);
			free(k->keybuf);
			free(k->argv);
			free(k->argvlen);
		}
		free(t->conns);
	}
	free(t->value);
}

static int rt_alloc(struct rtarget *t)
{
	const struct bench_opts *o = t->o;
	unsigned n = wl_keys_per_op(o), i;

	t->conns = calloc(o->conns, sizeof(*t->conns));
	t->value = malloc(o->value_size + 1);
	if (t->conns == NULL || t->value == NULL)
		return -1;
	for (size_t b = 0; b < o->value_size; b++)
		t->value[b] = (char)('a' + b % 26);
	for (i = 0; i < o->conns; i++) {
		struct rconn *k = &t->conns[i];
		k->t = t;
		k->ring = calloc(o->depth, sizeof(*k->ring));
		k->rng = calloc(o->depth, sizeof(*k->rng));
		for (unsigned p = 0; k->rng != NULL && p < o->depth; p++)
			rng_seed(&k->rng[p], o->seed, i * o->depth + p);
		k->idx = calloc(n, sizeof(*k->idx));
		k->keybuf = malloc((size_t)n * KEY_CAP);
		k->argv = calloc((size_t)n + 1, sizeof(*k->argv));
		k->argvlen = calloc((size_t)n + 1, sizeof(*k->argvlen));
		if (stats_init(&k->st) != 0 || !k->ring || !k->rng || !k->idx ||
		    !k->keybuf || !k->argv || !k->argvlen)
			return -1;
	}
	return 0;
}

static int rt_pass(struct rtarget *t, bool prepare, struct target_result *res)
{
	struct run run;
	struct slot_stats sum;
	unsigned i;
	int rc = 0;

	char label[32];
	snprintf(
	    label, sizeof label, "%s%s", t->name, prepare ? " prepare" : "");
	if (run_init(&run, t->o, label, prepare, t->o->conns) != 0)
		return -1;
	t->run = &run;
	run_pass(&run, rt_start, t);
	rt_join(t);
	memset(&sum, 0, sizeof(sum));
	if (prepare) {
		for (i = 0; i < t->o->conns; i++)
			stats_merge(&sum, &t->conns[i].st);
		if (sum.first_error[0] != '\0') {
			snprintf(res->message, sizeof(res->message),
			    "%s at %s: storing the keys to get failed: %s",
			    t->name, t->o->redis_url, sum.first_error);
			rc = -1;
		}
		for (i = 0; i < t->o->conns; i++) {
			stats_free(&t->conns[i].st);
			if (stats_init(&t->conns[i].st) != 0)
				rc = -1;
		}
	} else {
		for (i = 0; i < t->o->conns; i++)
			stats_merge(&res->s, &t->conns[i].st);
		res->elapsed_s = run_elapsed_s(&run);
		res->rss_peak_kib = run.rss_peak_kib;
		res->ran = true;
	}
	t->run = NULL;
	run_destroy(&run);
	return rc;
}

/* The RESP target at a (Redis itself, or twemproxy in front of it). */
static int rt_run(const struct bench_opts *given, const struct redis_addr *a,
    const char *url, const char *name, struct target_result *res)
{
	/* --blocking: a connection per slot, one request on it at a time
	 * (slot i keeps the keys of the service's slot i) */
	struct bench_opts blocking = *given;
	blocking.conns = given->conns * given->depth;
	blocking.depth = 1;
	const struct bench_opts *o = given->blocking ? &blocking : given;
	struct rtarget t = {.o = o, .addr = a, .url = url, .name = name};
	char err[256];
	unsigned i;
	int rc = -1;

	if (rt_alloc(&t) != 0)
		goto out;
	rc = 0;
	for (i = 0; i < o->conns; i++) {
		if ((t.conns[i].c = redis_connect(o, a, err, sizeof(err))) ==
		    NULL) {
			snprintf(res->message, sizeof(res->message),
			    "%s at %s: %s", name, url, err);
			goto out;
		}
	}
	if (wl_needs_prepare(o) && rt_pass(&t, true, res) != 0) {
		rc = res->message[0] != '\0' ? 0 : -1;
		goto out;
	}
	/* A connection that broke in the prepare pass is not reused. */
	for (i = 0; i < o->conns; i++) {
		if (t.conns[i].c->err) {
			snprintf(res->message, sizeof(res->message),
			    "%s at %s: %s", name, url, t.conns[i].c->errstr);
			goto out;
		}
	}
	rc = rt_pass(&t, false, res);
out:
	rt_free(&t);
	return rc;
}

int target_redis_run(const struct bench_opts *o, struct target_result *res)
{
	return rt_run(o, &o->redis, o->redis_url, "redis", res);
}

int target_twemproxy_run(const struct bench_opts *o, struct target_result *res)
{
	if (o->twemproxy_url == NULL) {
		snprintf(res->message, sizeof(res->message),
		    "no --twemproxy URL given");
		return 0;
	}
	return rt_run(o, &o->twemproxy, o->twemproxy_url, "twemproxy", res);
}
