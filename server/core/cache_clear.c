/*
 * cache_clear.c - clear (cache.h): SCAN the namespace's keys, UNLINK what
 * each batch found, repeat until the cursor comes back to 0; each step is
 * one request, started from the previous step's callback.
 *
 * On a Redis Cluster every master is SCANned in turn (the masters of the
 * slot map when the clear began), and what a batch found is one UNLINK
 * per key, routed by slot (a multi-key UNLINK cannot cross slots).
 */
#include <stdlib.h>
#include <string.h>

#include "cache_internal.h"
#include "slot.h"

/* Is r a well-formed SCAN reply: [cursor, [key, ...]]? */
static bool scan_reply_ok(const redisReply *r)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len == 0 || r->element[0]->len > 20 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return false;
	for (i = 0; i < r->element[1]->elements; i++)
		if (r->element[1]->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

/* A request for o's next step within its deadline, or NULL (*e says). */
static cw_mux_req *clear_req(op *o, cw_error *e)
{
	int t = 0;
	cw_mux_req *r;

	if (o->timeout_ms > 0) {
		uint64_t now = cw_mono_ms();
		if (now >= o->deadline) {
			cw_error_set(e, CW_DEADLINE_EXCEEDED,
			    "call timed out after %d ms", o->timeout_ms);
			return NULL;
		}
		t = (int)(o->deadline - now);
	}
	if ((r = cw_mux_req_new(t, cw__op_done, o)) == NULL)
		cw_error_set(e, CW_INTERNAL, "out of memory");
	return r;
}

static bool clear_scan(op *o, cw_error *e)
{
	cw_mux_req *r = clear_req(o, e);

	if (r == NULL)
		return false;
	cw_mux_req_cmd(r, 6);
	cw_mux_req_arg(r, "SCAN", 4);
	cw_mux_req_arg(r, o->cursor, strlen(o->cursor));
	cw_mux_req_arg(r, "MATCH", 5);
	cw_mux_req_arg(r, o->c->pattern, strlen(o->c->pattern));
	cw_mux_req_arg(r, "COUNT", 5);
	cw_mux_req_arg_u64(r, (uint64_t)LIMIT(o->c, clear_batch));
	o->unlinking = false;
	if (o->c->cluster != NULL)
		cw_cluster_submit_node(o->c->cluster, o->masters[o->at], r);
	else
		cw__submit(o->c, r);
	return true;
}

static bool clear_unlink(op *o, const redisReply *keys, cw_error *e)
{
	cw_mux_req *r = clear_req(o, e);

	if (r == NULL)
		return false;
	/* The SCAN reply is freed when we return: copy its keys. */
	if (o->c->cluster != NULL) {
		for (size_t i = 0; i < keys->elements; i++) {
			const redisReply *k = keys->element[i];
			cw_mux_req_cmd(r, 2);
			cw_mux_req_arg(r, "UNLINK", 6);
			cw_mux_req_arg_copy(r, k->str, k->len);
			cw_mux_req_slot(
			    r, cw_redis_slot(k->str, k->len, NULL, 0));
		}
		o->unlinks = (int)keys->elements;
	} else {
		cw_mux_req_cmd(r, (int)keys->elements + 1);
		cw_mux_req_arg(r, "UNLINK", 6);
		for (size_t i = 0; i < keys->elements; i++)
			cw_mux_req_arg_copy(
			    r, keys->element[i]->str, keys->element[i]->len);
		o->unlinks = 1;
	}
	o->unlinking = true;
	cw__submit(o->c, r);
	return true;
}

/*
 * Take the reply to o's last step; true when the next step is on its way,
 * false when the clear is over (done, or failed with *e).
 */
bool cw__clear_next(op *o, redisReply **replies, cw_error *e)
{
	const redisReply *x = replies[0];

	if (o->unlinking) {
		for (int i = 0; i < o->unlinks; i++) {
			x = replies[i];
			if (x->type != REDIS_REPLY_INTEGER || x->integer < 0) {
				cw__reply_error(x, "UNLINK", e);
				return false;
			}
			o->removed += (uint64_t)x->integer;
		}
	} else {
		if (!scan_reply_ok(x)) {
			if (x->type == REDIS_REPLY_ERROR)
				cw__reply_error(x, "SCAN", e);
			else
				cw_error_set(e, CW_INTERNAL,
				    "redis: malformed reply to SCAN");
			return false;
		}
		memcpy(o->cursor, x->element[0]->str, x->element[0]->len);
		o->cursor[x->element[0]->len] = '\0';
		if (x->element[1]->elements > 0)
			return clear_unlink(o, x->element[1], e);
	}
	if (strcmp(o->cursor, "0") == 0 && ++o->at >= o->nmasters)
		return false; /* the whole keyspace has been seen */
	return clear_scan(o, e);
}

/* o->masters: the cluster's masters now; false with *e when none. */
static bool cluster_masters(op *o, cw_error *e)
{
	int cap = 0, n;

	while ((n = cw_cluster_masters(o->c->cluster, o->masters, cap)) > cap) {
		void *p = realloc(o->masters, (size_t)n * sizeof *o->masters);
		if (p == NULL) {
			cw_error_set(e, CW_INTERNAL, "out of memory");
			return false;
		}
		o->masters = p;
		cap = n;
	}
	o->nmasters = n;
	if (n == 0) {
		char why[sizeof e->message];
		cw_cache_describe(o->c, why, sizeof why);
		cw_error_set(e, CW_UNAVAILABLE, "no master to clear: %s", why);
		return false;
	}
	return true;
}

void cw_cache_clear_async(
    cw_cache *c, int timeout_ms, cw_callback cb, void *arg)
{
	cw_error e;
	op *o;

	if (c == NULL) {
		cw_error_set(&e, CW_INVALID_ARGUMENT, "cache is NULL");
		cw__tell(cb, arg, &e);
		return;
	}
	if ((o = cw__op_new(c, OP_CLEAR, 0, cb, arg)) == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(cb, arg, &e);
		return;
	}
	o->timeout_ms = timeout_ms;
	if (timeout_ms > 0)
		o->deadline = cw_mono_ms() + (uint64_t)timeout_ms;
	strcpy(o->cursor, "0");
	o->nmasters = 1;
	if (c->cluster != NULL && !cluster_masters(o, &e)) {
		cw__tell(cb, arg, &e);
		cw__op_free(o);
		return;
	}
	if (!clear_scan(o, &e)) {
		cw__tell(cb, arg, &e);
		cw__op_free(o);
	}
}
