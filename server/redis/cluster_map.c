/*
 * cluster_map.c - the slot map (cluster.h): reading it out of a CLUSTER
 * SLOTS reply,
 *
 *   [[start, end, [ip, port, id, ...], [replica ip, port, id, ...]...]...]
 *
 * asking the cluster for it (blocking hiredis, dial.h), taking it in, and
 * the thread that reads it again.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include "cluster_internal.h"
#include "dial.h"
#include "log.h"
#include "mux_req.h"

static int bad(cw_error *err, const char *what)
{
	return cw_error_set(
	    err, CW_UNAVAILABLE, "malformed CLUSTER SLOTS reply: %s", what);
}

static bool is_int(const redisReply *r)
{
	return r->type == REDIS_REPLY_INTEGER;
}

int cw_cluster_slots_parse(const redisReply *r, const char *asked_host,
    cw_slot_range **out, int *n, cw_error *err)
{
	if (r->type == REDIS_REPLY_ERROR)
		return cw_error_set(err, CW_UNAVAILABLE, "CLUSTER SLOTS: %.*s",
		    (int)r->len, r->str);
	if (r->type != REDIS_REPLY_ARRAY)
		return bad(err, "not an array");
	cw_slot_range *v = calloc(r->elements > 0 ? r->elements : 1, sizeof *v);
	if (v == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	int k = 0;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		const char *why = NULL;
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    !is_int(e->element[0]) || !is_int(e->element[1]))
			why = "an entry is not [start, end, master, ...]";
		else if (e->element[0]->integer < 0 ||
		         e->element[1]->integer >= CW_SLOTS ||
		         e->element[0]->integer > e->element[1]->integer)
			why = "a slot range is out of 0..16383";
		const redisReply *m = why ? NULL : e->element[2];
		if (m != NULL &&
		    (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
		        m->element[0]->type != REDIS_REPLY_STRING ||
		        !is_int(m->element[1]) || m->element[1]->integer < 0 ||
		        m->element[1]->integer > 65535 ||
		        m->element[0]->len >= sizeof v->host))
			why = "a node is not [host, port, ...]";
		if (why != NULL) {
			free(v);
			return bad(err, why);
		}
		const char *host = m->element[0]->str;
		if (strcmp(host, "?") == 0 || m->element[1]->integer == 0)
			continue; /* address unknown: not served for us */
		if (*host == '\0')
			host = asked_host;
		v[k] = (cw_slot_range){
		    .start = (int)e->element[0]->integer,
		    .end = (int)e->element[1]->integer,
		    .port = (int)m->element[1]->integer,
		    .replicas = (int)e->elements - 3,
		};
		snprintf(v[k].host, sizeof v[k].host, "%s", host);
		k++;
	}
	*out = v;
	*n = k;
	return CW_OK;
}

/* ---- the slot map ---- */

static uint64_t map_sig(const cw_slot_range *v, int n)
{
	uint64_t h = 1469598103934665603u;

	for (int i = 0; i < n; i++) {
		char b[300];
		int l = snprintf(b, sizeof b, "%d-%d@%s:%d;", v[i].start,
		    v[i].end, v[i].host, v[i].port);
		for (int k = 0; k < l; k++)
			h = (h ^ (uint8_t)b[k]) * 1099511628211u;
	}
	return h;
}

/* Take the map read from `from`; nodes no longer used go to *dead. */
static void apply(cw_cluster *cl, const cw_slot_range *v, int n,
    const char *from, node **dead)
{
	node *x, **pp;
	cw_error e;

	for (x = cl->nodes; x != NULL; x = x->next)
		x->master = false;
	memset(cl->slots, 0, sizeof cl->slots);
	cl->masters = cl->replicas = cl->covered = 0;
	for (int i = 0; i < n; i++) {
		node *t = cw__cluster_node(cl, v[i].host, v[i].port, &e);
		if (t == NULL) {
			cw_log(CW_LOG_WARN, "cluster: %s:%d: %s", v[i].host,
			    v[i].port, e.message);
			continue;
		}
		if (!t->master) {
			t->master = true;
			cl->masters++;
			cl->replicas += v[i].replicas;
		}
		for (int s = v[i].start; s <= v[i].end; s++) {
			cl->covered += cl->slots[s] == NULL;
			cl->slots[s] = t;
		}
	}
	cl->have_map = true;
	cl->refreshes++;
	for (pp = &cl->nodes; (x = *pp) != NULL;) {
		if (!x->master && x->refs == 0) {
			*pp = x->next;
			x->next = *dead;
			*dead = x;
		} else {
			pp = &x->next;
		}
	}
	uint64_t sig = map_sig(v, n) ^ (uint64_t)cl->replicas;
	if (sig != cl->map_sig) {
		cl->map_sig = sig;
		cw_log(cl->covered == CW_SLOTS ? CW_LOG_INFO : CW_LOG_WARN,
		    "cluster: slot map from %s: %d master%s, %d replica%s, "
		    "%d of %d slots served",
		    from, cl->masters, cl->masters == 1 ? "" : "s",
		    cl->replicas, cl->replicas == 1 ? "" : "s", cl->covered,
		    CW_SLOTS);
	}
}

/* CLUSTER SLOTS of host:port, into *v / *n. */
static int ask_slots(cw_cluster *cl, const char *host, int port,
    cw_slot_range **v, int *n, cw_error *err)
{
	redisContext *c = cw__redis_dial(host, port, cl->target.user,
	    cl->target.password, cl->connect_timeout_ms, err);
	if (c == NULL)
		return err->code;
	redisReply *r = redisCommand(c, "CLUSTER SLOTS");
	int rc;
	if (r == NULL)
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "%s:%d did not answer CLUSTER SLOTS: %s", host, port,
		    c->errstr);
	else if ((rc = cw_cluster_slots_parse(r, host, v, n, err)) != CW_OK) {
		char why[sizeof err->message];
		snprintf(why, sizeof why, "%s", err->message);
		cw_error_set(err, rc, "%s:%d: %s", host, port, why);
	}
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

typedef struct where {
	char host[256];
	int port;
} where;

/* Read the map from a master we know, else from a seed; apply it. */
void cw__cluster_refresh(cw_cluster *cl)
{
	node *dead = NULL;
	int n = 0, k = 0, rc = CW_UNAVAILABLE;
	cw_slot_range *v = NULL;
	cw_error err = {0};

	pthread_mutex_lock(&cl->mu);
	for (node *x = cl->nodes; x != NULL; x = x->next)
		n += x->master;
	where *w = malloc((size_t)(n + cl->nseeds) * sizeof *w);
	for (node *x = cl->nodes; w != NULL && x != NULL; x = x->next)
		if (x->master) {
			snprintf(w[k].host, sizeof w[k].host, "%s", x->host);
			w[k++].port = x->port;
		}
	for (int i = 0; w != NULL && i < cl->nseeds; i++) {
		snprintf(w[k].host, sizeof w[k].host, "%s", cl->seeds[i].host);
		w[k++].port = cl->seeds[i].port;
	}
	pthread_mutex_unlock(&cl->mu);
	if (w == NULL)
		cw_error_set(&err, CW_INTERNAL, "out of memory");
	int i;
	for (i = 0; i < k; i++) {
		int got;
		if ((rc = ask_slots(
		         cl, w[i].host, w[i].port, &v, &got, &err)) == CW_OK) {
			n = got;
			break;
		}
	}
	pthread_mutex_lock(&cl->mu);
	if (rc == CW_OK) {
		char from[CW_NODE_ADDR_MAX];
		snprintf(from, sizeof from, "%s:%d", w[i].host, w[i].port);
		apply(cl, v, n, from, &dead);
	} else {
		char why[sizeof err.message];
		snprintf(why, sizeof why, "%s", err.message);
		cl->refresh_errors++;
		cw_error_set(&cl->map_err, CW_UNAVAILABLE,
		    "no node of the Redis Cluster gave its slot map (%d "
		    "asked): %s",
		    k, why);
		if (cl->map_sig != 0 || !cl->have_map)
			cw_log(CW_LOG_WARN, "cluster: %s%s",
			    cl->map_err.message,
			    cl->have_map ? "; keeping the last map" : "");
		cl->map_sig = 0; /* log the next map read */
	}
	pthread_mutex_unlock(&cl->mu);
	free(v);
	free(w);
	while (dead != NULL) {
		node *next = dead->next;
		cw_mux_destroy(dead->mux);
		free(dead);
		dead = next;
	}
}

void *cw__cluster_watch(void *arg)
{
	cw_cluster *cl = arg;
	uint64_t last = cw_mono_ms();

	pthread_setname_np(pthread_self(), "cw:cluster");
	pthread_mutex_lock(&cl->mu);
	while (!cl->stopping) {
		uint64_t now = cw_mono_ms();
		uint64_t due =
		    last + (cl->have_map && cl->covered == CW_SLOTS ? RECHECK_MS
		                                                    : RETRY_MS);
		if (cl->want_refresh && last + REFRESH_MIN_MS < due)
			due = last + REFRESH_MIN_MS;
		if (now < due) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns =
			    (uint64_t)ts.tv_nsec + (due - now) * 1000000u;
			ts.tv_sec += (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			pthread_cond_timedwait(&cl->cv, &cl->mu, &ts);
			continue;
		}
		cl->want_refresh = false;
		pthread_mutex_unlock(&cl->mu);
		cw__cluster_refresh(cl);
		last = cw_mono_ms();
		pthread_mutex_lock(&cl->mu);
	}
	pthread_mutex_unlock(&cl->mu);
	return NULL;
}
