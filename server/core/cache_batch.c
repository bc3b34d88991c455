/*
 * cache_batch.c - GetMany (one MGET and an EXISTS; on a Redis Cluster a
 * GET per key, each master sent its part; values stored in chunks are
 * then read whole, cache_range.c), SetMany and DeleteMany (one pipelined
 * request of SET / UNLINK commands), each checked as a whole before
 * anything is sent.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_internal.h"

/* Check a batch's size and keys; the message names the first bad one. */
static int check_batch(const cw_cache *c, size_t n, const void *items,
    const char *what, cw_error *err)
{
	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "cache is NULL");
	int max = LIMIT(c, max_batch_keys);
	if (n > (size_t)max)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "%zu %s in one call; the limit is %d", n, what, max);
	if (n > 0 && items == NULL)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "%s is NULL", what);
	return CW_OK;
}

static int check_keys(
    const cw_cache *c, size_t n, const cw_key *keys, cw_error *err)
{
	int rc = check_batch(c, n, keys, "keys", err);

	cw_error why;

	for (size_t i = 0; rc == CW_OK && i < n; i++)
		if ((rc = cw__check_key(c, keys[i].data, keys[i].len, &why)) !=
		    CW_OK)
			cw_error_set(err, rc, "keys[%zu]: %s", i, why.message);
	return rc;
}

/* An empty batch: nothing to send, nothing to wait for. */
static bool empty_batch(size_t n, cw_callback cb, void *arg)
{
	cw_result res = {.status = CW_OK, .message = ""};

	if (n > 0)
		return false;
	cb(arg, &res);
	return true;
}

/*
 * Begin a batch over keys: check them (telling cb on failure), answer an
 * empty batch at once, else make the op and its request. True when the
 * caller is to fill *r and submit it.
 */
static bool keys_op(cw_cache *c, enum op_kind kind, size_t n,
    const cw_key *keys, int timeout_ms, cw_callback cb, void *arg, op **o,
    cw_mux_req **r)
{
	cw_error e;

	if (check_keys(c, n, keys, &e) != CW_OK) {
		cw__tell(cb, arg, &e);
		return false;
	}
	return !empty_batch(n, cb, arg) &&
	       cw__op_start(c, kind, n, timeout_ms, cb, arg, o, r);
}

void cw_cache_get_many_async(cw_cache *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg)
{
	cw_mux_req *r;
	cw_error e;
	op *o;

	if (!keys_op(c, OP_GET_MANY, n, keys, timeout_ms, cb, arg, &o, &r))
		return;
	/* kept for values stored in chunks, read after the MGET */
	if ((o->keys = malloc(n * sizeof *keys)) == NULL) {
		cw_mux_req_free(r);
		cw__op_free(o);
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(cb, arg, &e);
		return;
	}
	memcpy(o->keys, keys, n * sizeof *keys);
	o->timeout_ms = timeout_ms;
	o->deadline =
	    cw_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	if (c->cluster != NULL) {
		/* MGET cannot cross slots: one GET per key, spread by slot. */
		for (size_t i = 0; i < n; i++) {
			cw_mux_req_cmd(r, 2);
			cw_mux_req_arg(r, "GET", 3);
			cw__key_arg(r, c, keys[i].data, keys[i].len);
		}
		cw__submit(c, r);
		return;
	}
	cw_mux_req_cmd(r, (int)n + 1);
	cw_mux_req_arg(r, "MGET", 4);
	for (size_t i = 0; i < n; i++)
		cw__key_arg(r, c, keys[i].data, keys[i].len);
	/* MGET answers nil for a hash (a value stored in chunks) as for a
	 * missing key; EXISTS counts both, so a difference says to look */
	cw_mux_req_cmd(r, (int)n + 1);
	cw_mux_req_arg(r, "EXISTS", 6);
	for (size_t i = 0; i < n; i++)
		cw__key_arg(r, c, keys[i].data, keys[i].len);
	cw__submit(c, r);
}

bool cw__get_many_replies(
    op *o, redisReply **replies, cw_value **out, cw_error *e)
{
	bool cluster = o->c->cluster != NULL, chunked = false;
	const redisReply *x = replies[0];
	cw_value *values;
	size_t found = 0;

	*out = NULL;
	/* One MGET (and an EXISTS); on a cluster one GET per key (keys of a
	 * batch rarely share a slot, and MGET cannot cross one). */
	if (!cluster && (x->type != REDIS_REPLY_ARRAY || x->elements != o->n)) {
		cw__reply_error(x, "MGET", e);
		return false;
	}
	if ((values = calloc(o->n, sizeof *values)) == NULL) {
		cw_error_set(e, CW_INTERNAL, "out of memory");
		return false;
	}
	*out = values;
	for (size_t i = 0; i < o->n && e->code == CW_OK; i++) {
		redisReply *v = cluster ? replies[i] : x->element[i];
		if (v->type == REDIS_REPLY_STRING) {
			values[i] = (cw_value){true, v->str, v->len};
			found++;
		} else if (v->type == REDIS_REPLY_NIL) {
			continue;
		} else if (cluster && v->type == REDIS_REPLY_ERROR &&
		           strncmp(v->str, "WRONGTYPE", 9) == 0) {
			chunked = true;
		} else if (cluster) {
			cw__reply_error(v, "GET", e);
		} else {
			cw_error_set(e, CW_INTERNAL,
			    "redis: unexpected reply type %d in MGET", v->type);
		}
	}
	if (!cluster && e->code == CW_OK) {
		x = replies[1];
		if (x->type != REDIS_REPLY_INTEGER)
			cw__reply_error(x, "EXISTS", e);
		else
			chunked = (size_t)x->integer > found;
	}
	if (!chunked || e->code != CW_OK)
		return false;
	cw__get_many_chunked(o->c, o->n, o->keys, values,
	    cw__left_ms(o->timeout_ms, o->deadline), o->cb, o->arg);
	free(values);
	*out = NULL;
	return true;
}

void cw_cache_set_many_async(cw_cache *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_callback cb, void *arg)
{
	enum cw_expiry_action action;
	uint64_t now = cw_now_ms(), arg_ms;
	cw_mux_req *r;
	cw_error e, why;
	op *o;
	size_t i;
	int rc = check_batch(c, n, entries, "entries", &e);

	for (i = 0; rc == CW_OK && i < n; i++) {
		const cw_entry *x = &entries[i];
		if ((rc = cw__check_key(c, x->key, x->key_len, &why)) !=
		        CW_OK ||
		    (rc = cw__check_entry(c, x->value, x->value_len, x->expiry,
		         now, &action, &arg_ms, &why)) != CW_OK)
			cw_error_set(
			    &e, rc, "entries[%zu]: %s", i, why.message);
	}
	if (rc != CW_OK) {
		cw__tell(cb, arg, &e);
		return;
	}
	if (empty_batch(n, cb, arg) ||
	    !cw__op_start(c, OP_SET_MANY, n, timeout_ms, cb, arg, &o, &r))
		return;
	for (i = 0; i < n; i++) {
		const cw_entry *x = &entries[i];
		/* Same clock reading as the check: the same plan. */
		cw_expiry_plan(x->expiry, now, &action, &arg_ms, NULL);
		o->removes[i] = action == CW_EXPIRY_REMOVE;
		cw__set_cmd(r, c, x->key, x->key_len, x->value, x->value_len,
		    action, arg_ms);
	}
	cw__submit(c, r);
}

void cw_cache_delete_many_async(cw_cache *c, size_t n, const cw_key *keys,
    int timeout_ms, cw_callback cb, void *arg)
{
	cw_mux_req *r;
	op *o;

	if (!keys_op(c, OP_DELETE_MANY, n, keys, timeout_ms, cb, arg, &o, &r))
		return;
	/* One UNLINK per key, so each tells whether its key existed. */
	for (size_t i = 0; i < n; i++) {
		cw_mux_req_cmd(r, 2);
		cw_mux_req_arg(r, "UNLINK", 6);
		cw__key_arg(r, c, keys[i].data, keys[i].len);
	}
	cw__submit(c, r);
}
