/*
 * cluster.c - routing by hash slot over one mux per master (cluster.h).
 *
 * A caller's request becomes a job; the job is split into parts, one
 * mux request per master holding copies of that master's commands (what
 * the caller's request borrowed, the parts borrow too, so the job lives
 * until every part is over). Each part's replies are moved into the
 * caller's request at their command's index; a MOVED or ASK reply sends
 * that one command again, as a part of its own, to the node named. When
 * the last part is over, the caller's callback runs with every reply.
 *
 * Locking: cw_cluster.mu guards the map, the nodes and every job. It is
 * never held while submitting to a mux or running a caller's callback,
 * since either may run a part's callback (which takes mu) at once; it is
 * held while a mux is created or asked for stats, which never takes mu.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_internal.h"
#include "dial.h"
#include "log.h"
#include "mux_req.h"
#include "slot.h"

#define MAX_HOPS 5 /* redirections of one command */

typedef struct job {
	cw_cluster *cl;
	cw_mux_req *req; /* the caller's; its replies fill in here */
	int left;        /* parts in flight */
	int status;      /* the first failure, or CW_OK */
	cw_error err;
	uint8_t *failed; /* per command: did it fail (hops + ncmds) */
	uint8_t hops[];  /* redirections so far, per command */
} job;

typedef struct part {
	struct part *next; /* in a list to submit */
	job *j;
	node *n;
	cw_mux_req *r;
	int k;
	int idx[]; /* the job's command for each of r's; -1 for an ASKING */
} part;

/* ---- nodes ---- */

static int split_addr(const char *addr, char *host, size_t hlen, int *port)
{
	const char *c = strrchr(addr, ':');

	if (c == NULL || (size_t)(c - addr) >= hlen || c[1] == '\0')
		return -1;
	memcpy(host, addr, (size_t)(c - addr));
	host[c - addr] = '\0';
	char *end;
	long p = strtol(c + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/* The node at host:port, made (with its mux) when new; under mu. */
node *cw__cluster_node(cw_cluster *cl, const char *host, int port, cw_error *e)
{
	node *n;

	for (n = cl->nodes; n != NULL; n = n->next)
		if (n->port == port && strcmp(n->host, host) == 0)
			return n;
	if (cl->stopping) {
		cw_error_set(e, CW_UNAVAILABLE, "the cache is shutting down");
		return NULL;
	}
	if (strlen(host) >= sizeof n->host ||
	    (n = calloc(1, sizeof *n)) == NULL) {
		cw_error_set(e, CW_INTERNAL, "out of memory");
		return NULL;
	}
	snprintf(n->host, sizeof n->host, "%s", host);
	n->port = port;
	snprintf(n->addr, sizeof n->addr,
	    strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	cw_redis_target t = cl->target;
	t.host = n->host;
	t.port = port;
	t.unix_path = NULL;
	t.db = 0;
	cw_mux_options mo = {
	    .target = &t,
	    .connections = cl->connections,
	    .connect_timeout_ms = cl->connect_timeout_ms,
	    .command_timeout_ms = cl->command_timeout_ms,
	};
	if (cw_mux_create(&n->mux, &mo, e) != CW_OK) {
		free(n);
		return NULL;
	}
	n->next = cl->nodes;
	cl->nodes = n;
	return n;
}

static void want_refresh(cw_cluster *cl)
{
	cl->want_refresh = true;
	pthread_cond_signal(&cl->cv);
}

/* ---- jobs and parts ---- */

static void fail(job *j, int status, const cw_error *e)
{
	if (j->status == CW_OK) {
		j->status = status;
		j->err = *e;
		j->err.code = status;
	}
}

static void part_done(
    void *arg, int status, const cw_error *err, redisReply **replies);

/* A part of j for n with room for cap commands; NULL when out of memory. */
static part *part_new(job *j, node *n, int cap)
{
	part *p = malloc(sizeof *p + (size_t)cap * sizeof(int));

	if (p == NULL)
		return NULL;
	if ((p->r = cw_mux_req_new(0, part_done, p)) == NULL) {
		free(p);
		return NULL;
	}
	p->r->deadline = j->req->deadline;
	p->r->timeout_ms = j->req->timeout_ms;
	p->next = NULL;
	p->j = j;
	p->n = n;
	p->k = 0;
	n->refs++;
	j->left++;
	return p;
}

/* Undo parts never submitted. */
static void parts_drop(part *p)
{
	while (p != NULL) {
		part *next = p->next;
		p->n->refs--;
		p->j->left--;
		cw_mux_req_free(p->r);
		free(p);
		p = next;
	}
}

static void part_add(part *p, int i, bool asking)
{
	if (asking) {
		cw_mux_req_cmd(p->r, 1);
		cw_mux_req_arg(p->r, "ASKING", 6);
		p->idx[p->k++] = -1;
	}
	cw__req_copy_cmd(p->r, p->j->req, i);
	p->idx[p->k++] = i;
}

static void submit_all(part *p)
{
	while (p != NULL) {
		part *next = p->next; /* p may be gone once submitted */
		cw_mux_submit(p->n->mux, p->r);
		p = next;
	}
}

/*
 * A request of several keys (a batch, a clear's UNLINKs) that failed in
 * part: say which keys, by index, before why.
 */
static void name_failed(job *j)
{
	int n = j->req->ncmds, nf = 0;
	char which[96] = "";
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		if (!j->failed[i])
			continue;
		if (++nf <= 8 && o < sizeof which)
			o += (size_t)snprintf(which + o, sizeof which - o,
			    "%s%d", nf > 1 ? ", " : "", i);
	}
	if (n < 2 || nf == 0)
		return;
	char why[sizeof j->err.message];
	snprintf(why, sizeof why, "%s", j->err.message);
	cw_error_set(&j->err, j->status, "%d of %d keys failed (%s%s): %s", nf,
	    n, which, nf > 8 ? ", ..." : "", why);
}

/* The caller's callback, then free j. */
static void finish(job *j)
{
	cw_mux_req *req = j->req;

	for (int i = 0; j->status == CW_OK && i < req->ncmds; i++)
		if (req->replies[i] == NULL) {
			cw_error e;
			cw_error_set(
			    &e, CW_INTERNAL, "no reply to command %d", i);
			fail(j, CW_INTERNAL, &e);
		}
	if (j->status == CW_OK) {
		req->done(req->arg, CW_OK, NULL, req->replies);
	} else {
		name_failed(j);
		req->done(req->arg, j->status, &j->err, NULL);
	}
	cw_mux_req_free(req);
	free(j);
}

/* Fail a request that was never split. */
static void refuse(cw_mux_req *r, int status, const cw_error *e)
{
	cw_error x = *e;

	x.code = status;
	r->nreplies = 0;
	r->done(r->arg, status, &x, NULL);
	cw_mux_req_free(r);
}

/* "MOVED <slot> <host>:<port>" or "ASK ...": where to send it. */
static bool redirect(const redisReply *x, const node *from, bool *ask,
    int *slot, char *host, size_t hlen, int *port)
{
	char addr[CW_NODE_ADDR_MAX];
	int skip;

	if (x->type != REDIS_REPLY_ERROR)
		return false;
	if (strncmp(x->str, "MOVED ", 6) == 0)
		*ask = false, skip = 6;
	else if (strncmp(x->str, "ASK ", 4) == 0)
		*ask = true, skip = 4;
	else
		return false;
	if (sscanf(x->str + skip, "%d %299s", slot, addr) != 2 || *slot < 0 ||
	    *slot >= CW_SLOTS || split_addr(addr, host, hlen, port) != 0)
		return false;
	if (*host == '\0')
		snprintf(host, hlen, "%s", from->host);
	else if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	return true;
}

/* Move reply k of a part into the job's command i. */
static void take(cw_mux_req *req, int i, redisReply **replies, int k)
{
	redisReply *x = replies[k], *cur = req->replies[i];

	if (cur == NULL) {
		req->replies[i] = x;
		replies[k] = NULL;
	} else if (x->type == REDIS_REPLY_ERROR &&
	           cur->type != REDIS_REPLY_ERROR) {
		/* a command sent to every master: its first error tells */
		freeReplyObject(cur);
		req->replies[i] = x;
		replies[k] = NULL;
	}
}

/* Follow reply x to command i (MOVED, ASK); false when it is no redirect. */
static bool follow(cw_cluster *cl, job *j, node *from, int i,
    const redisReply *x, part **out, bool *refresh)
{
	char host[256];
	int slot, port;
	bool ask;
	cw_error e;

	if (!redirect(x, from, &ask, &slot, host, sizeof host, &port))
		return false;
	if (j->hops[i] >= MAX_HOPS) {
		cw_error_set(&e, CW_UNAVAILABLE,
		    "slot %d still redirected after %d hops (%.*s)", slot,
		    MAX_HOPS, (int)x->len, x->str);
		fail(j, CW_UNAVAILABLE, &e);
		j->failed[i] = 1;
		return true;
	}
	j->hops[i]++;
	node *t = cw__cluster_node(cl, host, port, &e);
	part *p = t != NULL ? part_new(j, t, 2) : NULL;
	if (p == NULL) {
		if (t != NULL)
			cw_error_set(&e, CW_INTERNAL, "out of memory");
		fail(j, e.code, &e);
		j->failed[i] = 1;
		return true;
	}
	if (ask) {
		cl->ask++;
	} else {
		cl->moved++;
		cl->slots[slot] = t;
		*refresh = true;
	}
	part_add(p, i, ask);
	p->next = *out;
	*out = p;
	return true;
}

static void part_done(
    void *arg, int status, const cw_error *err, redisReply **replies)
{
	part *p = arg, *out = NULL;
	job *j = p->j;
	cw_cluster *cl = j->cl;
	bool refresh = false;

	pthread_mutex_lock(&cl->mu);
	p->n->refs--;
	if (status != CW_OK) {
		fail(j, status, err);
		refresh = status == CW_UNAVAILABLE;
		for (int k = 0; k < p->k; k++)
			if (p->idx[k] >= 0)
				j->failed[p->idx[k]] = 1;
	}
	for (int k = 0; status == CW_OK && k < p->k; k++) {
		int i = p->idx[k];
		redisReply *x = replies[k];
		if (i < 0 || follow(cl, j, p->n, i, x, &out, &refresh))
			continue;
		if (x->type == REDIS_REPLY_ERROR &&
		    strncmp(x->str, "CLUSTERDOWN", 11) == 0)
			refresh = true;
		take(j->req, i, replies, k);
	}
	bool last = --j->left == 0;
	if (refresh)
		want_refresh(cl);
	pthread_mutex_unlock(&cl->mu);
	free(p);
	submit_all(out);
	if (last)
		finish(j);
}

/*
 * Split j over the masters (or all of it to `to`); the parts to submit in
 * *out. False with *e when it cannot be routed. Under mu.
 */
static bool split(cw_cluster *cl, job *j, node *to, part **out, cw_error *e)
{
	cw_mux_req *req = j->req;
	node *n;

	*out = NULL;
	if (to == NULL && !cl->have_map) {
		*e = cl->map_err;
		return false;
	}
	for (n = cl->nodes; n != NULL; n = n->next) {
		n->count = 0;
		n->part = NULL;
	}
	for (int i = 0; i < req->ncmds; i++) {
		int s = req->cmds[i].slot;
		if (to != NULL) {
			to->count++;
		} else if (s == CW_SLOT_NONE) {
			if (cl->covered < CW_SLOTS) {
				cw_error_set(e, CW_UNAVAILABLE,
				    "%d of %d slots are not served by any "
				    "master of the cluster",
				    CW_SLOTS - cl->covered, CW_SLOTS);
				return false;
			}
			for (n = cl->nodes; n != NULL; n = n->next)
				n->count += n->master;
		} else if (cl->slots[s] == NULL) {
			cw_error_set(e, CW_UNAVAILABLE,
			    "slot %d is not served by any master of the "
			    "cluster",
			    s);
			return false;
		} else {
			cl->slots[s]->count++;
		}
	}
	for (int i = 0; i < req->ncmds; i++) {
		int s = req->cmds[i].slot;
		for (n = cl->nodes; n != NULL; n = n->next) {
			bool here = to != NULL          ? n == to
			            : s == CW_SLOT_NONE ? n->master
			                                : n == cl->slots[s];
			if (!here)
				continue;
			if (n->part == NULL) {
				if ((n->part = part_new(j, n, n->count)) ==
				    NULL) {
					parts_drop(*out);
					*out = NULL;
					cw_error_set(
					    e, CW_INTERNAL, "out of memory");
					return false;
				}
				n->part->next = *out;
				*out = n->part;
			}
			part_add(n->part, i, false);
		}
	}
	return true;
}

static void route(cw_cluster *cl, const char *addr, cw_mux_req *r)
{
	cw_error e;
	node *to = NULL;
	part *out;

	if (r->oom || r->pending_args != 0 || r->ncmds == 0) {
		cw_error_set(&e, CW_INTERNAL,
		    r->oom ? "out of memory" : "malformed Redis request");
		refuse(r, CW_INTERNAL, &e);
		return;
	}
	job *j = calloc(1, sizeof *j + 2 * (size_t)r->ncmds);
	if (j == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		refuse(r, CW_INTERNAL, &e);
		return;
	}
	j->cl = cl;
	j->req = r;
	j->failed = j->hops + r->ncmds;
	memset(r->replies, 0, (size_t)r->ncmds * sizeof *r->replies);
	r->nreplies = r->ncmds; /* so cw_mux_req_free frees what came */
	pthread_mutex_lock(&cl->mu);
	bool ok = !cl->stopping;
	if (!ok)
		cw_error_set(&e, CW_UNAVAILABLE, "the cache is shutting down");
	if (ok && addr != NULL) {
		char host[256];
		int port;
		if (split_addr(addr, host, sizeof host, &port) != 0) {
			cw_error_set(&e, CW_INVALID_ARGUMENT,
			    "bad node address '%s'", addr);
			ok = false;
		} else if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		ok = ok && (to = cw__cluster_node(cl, host, port, &e)) != NULL;
	}
	ok = ok && split(cl, j, to, &out, &e);
	pthread_mutex_unlock(&cl->mu);
	if (!ok) {
		free(j);
		refuse(r, e.code != CW_OK ? e.code : CW_UNAVAILABLE, &e);
		return;
	}
	submit_all(out);
}

void cw_cluster_submit(cw_cluster *cl, cw_mux_req *r)
{
	route(cl, NULL, r);
}

void cw_cluster_submit_node(cw_cluster *cl, const char *addr, cw_mux_req *r)
{
	route(cl, addr, r);
}

/* ---- life ---- */

static void cluster_free(cw_cluster *cl)
{
	while (cl->nodes != NULL) {
		node *n = cl->nodes;
		cl->nodes = n->next;
		cw_mux_destroy(n->mux);
		free(n);
	}
	for (int i = 0; i < cl->nseeds; i++)
		cw_redis_node_free(&cl->seeds[i]);
	free(cl->seeds);
	cw_redis_target_free(&cl->target);
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

int cw_cluster_create(
    cw_cluster **out, const cw_cluster_options *o, cw_error *err)
{
	if (o->nseeds < 1 || o->connections < 1 || o->connect_timeout_ms < 1 ||
	    o->command_timeout_ms < 1)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "a Redis Cluster needs seed nodes, connections and "
		    "timeouts");
	cw_cluster *cl = calloc(1, sizeof *cl);
	if (cl == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	pthread_mutex_init(&cl->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->cv, &ca);
	pthread_condattr_destroy(&ca);
	cl->connections = o->connections;
	cl->connect_timeout_ms = o->connect_timeout_ms;
	cl->command_timeout_ms = o->command_timeout_ms;
	cw_error_set(&cl->map_err, CW_UNAVAILABLE,
	    "the Redis Cluster's slot map is not known yet");
	bool ok = cw_redis_target_copy(&cl->target, o->target, err) == CW_OK &&
	          (cl->seeds = calloc((size_t)o->nseeds, sizeof *cl->seeds));
	for (int i = 0; ok && i < o->nseeds; i++) {
		cl->seeds[i].port = o->seeds[i].port;
		ok = (cl->seeds[i].host = strdup(o->seeds[i].host)) != NULL;
		cl->nseeds = i + 1;
	}
	if (!ok) {
		cluster_free(cl);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	cw__cluster_refresh(cl);
	if (pthread_create(&cl->thread, NULL, cw__cluster_watch, cl) != 0) {
		cluster_free(cl);
		return cw_error_set(
		    err, CW_INTERNAL, "cannot start the cluster thread");
	}
	cl->started = true;
	*out = cl;
	return CW_OK;
}

void cw_cluster_stop(cw_cluster *cl)
{
	pthread_mutex_lock(&cl->mu);
	bool again = cl->stopping;
	cl->stopping = true;
	pthread_cond_signal(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	if (again)
		return;
	if (cl->started)
		pthread_join(cl->thread, NULL);
	cl->started = false;
	/* Nothing adds nodes now (node_get refuses), nor removes them. */
	for (node *n = cl->nodes; n != NULL; n = n->next)
		cw_mux_stop(n->mux);
}

void cw_cluster_destroy(cw_cluster *cl)
{
	if (cl == NULL)
		return;
	cw_cluster_stop(cl);
	cluster_free(cl);
}

/* ---- what it is doing ---- */

int cw_cluster_masters(cw_cluster *cl, char (*addrs)[CW_NODE_ADDR_MAX], int max)
{
	int n = 0;

	pthread_mutex_lock(&cl->mu);
	for (node *x = cl->nodes; x != NULL; x = x->next)
		if (x->master) {
			if (n < max)
				snprintf(
				    addrs[n], CW_NODE_ADDR_MAX, "%s", x->addr);
			n++;
		}
	pthread_mutex_unlock(&cl->mu);
	return n;
}

void cw_cluster_describe(cw_cluster *cl, char *buf, size_t len)
{
	size_t o;

	pthread_mutex_lock(&cl->mu);
	if (!cl->have_map) {
		snprintf(buf, len, "Redis Cluster (seed %s:%d%s): %s",
		    cl->seeds[0].host, cl->seeds[0].port,
		    cl->nseeds > 1 ? " and more" : "", cl->map_err.message);
		pthread_mutex_unlock(&cl->mu);
		return;
	}
	o = (size_t)snprintf(buf, len,
	    "Redis Cluster: %d master%s, %d replica%s, %d of %d slots served",
	    cl->masters, cl->masters == 1 ? "" : "s", cl->replicas,
	    cl->replicas == 1 ? "" : "s", cl->covered, CW_SLOTS);
	const char *sep = " (";
	for (node *x = cl->nodes; x != NULL && o < len; x = x->next) {
		int n = 0;
		if (!x->master)
			continue;
		for (int s = 0; s < CW_SLOTS; s++)
			n += cl->slots[s] == x;
		o += (size_t)snprintf(
		    buf + o, len - o, "%s%s: %d slots", sep, x->addr, n);
		sep = ", ";
	}
	if (o + 1 < len && *sep == ',')
		snprintf(buf + o, len - o, ")");
	pthread_mutex_unlock(&cl->mu);
}

void cw_cluster_stats_get(cw_cluster *cl, cw_cluster_stats *out)
{
	*out = (cw_cluster_stats){0};
	pthread_mutex_lock(&cl->mu);
	for (node *x = cl->nodes; x != NULL; x = x->next) {
		cw_mux_stats s;
		cw_mux_stats_get(x->mux, &s);
		out->mux.connections_up += s.connections_up;
		out->mux.pool_size += x->master ? s.pool_size : 0;
		out->mux.pending += s.pending;
		out->mux.errors += s.errors;
		out->mux.reconnects += s.reconnects;
	}
	out->masters = cl->masters;
	out->replicas = cl->replicas;
	out->slots_covered = cl->covered;
	out->moved = cl->moved;
	out->ask = cl->ask;
	out->refreshes = cl->refreshes;
	out->refresh_errors = cl->refresh_errors;
	pthread_mutex_unlock(&cl->mu);
}

void cw_cluster_each_master(cw_cluster *cl,
    void (*fn)(void *arg, const char *addr, const cw_mux_stats *s), void *arg)
{
	pthread_mutex_lock(&cl->mu);
	for (node *x = cl->nodes; x != NULL; x = x->next)
		if (x->master) {
			cw_mux_stats s;
			cw_mux_stats_get(x->mux, &s);
			fn(arg, x->addr, &s);
		}
	pthread_mutex_unlock(&cl->mu);
}
