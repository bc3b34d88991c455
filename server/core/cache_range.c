/*
 * cache_range.c - reading values in chunks (cache.h, "values in chunks"):
 * GetRange, one MULTI that reads a hash's chunks or a string's range
 * with the value's version and size; and Get of a value stored in chunks.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_chunks.h"
#include "slot.h"

/* ---- range reads -------------------------------------------------------- */

static void range_read(xop *x)
{
	cw_mux_req *r = cw__x_req(x);
	uint64_t first = x->offset / x->chunk,
	         last = (x->offset + x->length - 1) / x->chunk;

	if (r == NULL)
		return;
	cw__x_cmd(x, r, 1, "MULTI");
	cw__x_cmd(x, r, 2, "EXISTS");
	cw__x_key_arg(x, r);
	cw__x_cmd(x, r, 5 + (int)(last - first + 1), "HMGET");
	cw__x_key_arg(x, r);
	cw__x_str_arg(r, "v");
	cw__x_str_arg(r, "n");
	cw__x_str_arg(r, "c");
	for (uint64_t i = first; i <= last; i++)
		cw_mux_req_arg_u64(r, i);
	cw__x_cmd(x, r, 4, "GETRANGE");
	cw__x_key_arg(x, r);
	cw_mux_req_arg_u64(r, x->offset);
	cw_mux_req_arg_u64(r, x->offset + x->length - 1);
	cw__x_cmd(x, r, 2, "STRLEN");
	cw__x_key_arg(x, r);
	cw__x_cmd(x, r, 1, "EXEC");
	x->ncmds = 6;
	x->step = RANGE;
	cw__submit(x->c, r);
}

void cw_cache_get_range_async(cw_cache *c, const void *key, size_t key_len,
    uint64_t offset, uint64_t length, uint64_t want_version, int timeout_ms,
    cw_callback cb, void *arg)
{
	cw_error e;
	xop *x;

	if (cw__check_key(c, key, key_len, &e) != CW_OK) {
		cw__tell(cb, arg, &e);
		return;
	}
	uint64_t chunk = LIMIT(c, chunk_bytes);
	if (length > chunk)
		length = chunk; /* one chunk's worth per call */
	if (length == 0 || offset > INT64_MAX - length) {
		cw_error_set(&e, CW_INVALID_ARGUMENT,
		    "offset %" PRIu64 " and length %" PRIu64
		    ": want a length of at least 1, and offset + length "
		    "within 2^63",
		    offset, length);
		cw__tell(cb, arg, &e);
		return;
	}
	if ((x = cw__x_new(c, RANGE, timeout_ms, cb, arg)) == NULL)
		return;
	x->key = key;
	x->key_len = key_len;
	x->offset = offset;
	x->length = length;
	x->want = want_version;
	x->chunk = chunk; /* a guess: the value's own may differ */
	x->slot = cw_redis_slot(c->ns, c->ns_len, key, key_len);
	range_read(x);
}

static int changed(const xop *x, uint64_t now, cw_error *e)
{
	if (now == 0)
		return cw_error_set(e, CW_FAILED_PRECONDITION,
		    "the value changed: version %016" PRIx64
		    " was replaced by a value written by Set",
		    x->want);
	return cw_error_set(e, CW_FAILED_PRECONDITION,
	    "the value changed: version %016" PRIx64 " is now %016" PRIx64,
	    x->want, now);
}

/*
 * The bytes [from, to) of a chunked value out of the chunk replies
 * el[0..] (chunk `first` onwards): a pointer into the reply when one chunk
 * holds them, else a malloc'd copy in *owned. NULL with *e when a chunk
 * is short (the hash is not one cachewired made).
 */
static const char *gather(const xop *x, redisReply **el, uint64_t first,
    uint64_t from, uint64_t to, char **owned, cw_error *e)
{
	uint64_t c = x->chunk, last = to > from ? (to - 1) / c : first;
	char *out = NULL;

	*owned = NULL;
	if (to == from)
		return "";
	for (uint64_t i = first; i <= last; i++) {
		const redisReply *y = el[i - first];
		uint64_t a = i * c, need = cw__x_min(to, a + c) - a;
		if (y->type != REDIS_REPLY_STRING || (uint64_t)y->len < need) {
			cw_error_set(e, CW_INTERNAL,
			    "redis: chunk %" PRIu64 " of the value is missing "
			    "or short",
			    i);
			free(out);
			return NULL;
		}
	}
	if (first == last)
		return el[0]->str + (from - first * c);
	if ((out = malloc(to - from)) == NULL) {
		cw_error_set(e, CW_INTERNAL, "out of memory");
		return NULL;
	}
	for (uint64_t i = first, o = 0; i <= last; i++) {
		uint64_t a = i * c, s = from > a ? from - a : 0,
		         t = cw__x_min(to, a + c) - a;
		memcpy(out + o, el[i - first]->str + s, t - s);
		o += t - s;
	}
	*owned = out;
	return out;
}

/* RANGE's EXEC: a hash of ours, a plain string, or nothing. */
void cw__x_range_done(xop *x, redisReply **rp, int n, cw_error *e)
{
	const redisReply *ex = rp[n - 1], *hm, *gr, *sl;
	cw_result res = {.status = CW_OK, .message = ""};
	char *owned = NULL;

	if (ex->type != REDIS_REPLY_ARRAY || ex->elements != 4 ||
	    ex->element[0]->type != REDIS_REPLY_INTEGER) {
		cw__reply_error(ex, "EXEC", e);
		return;
	}
	hm = ex->element[1];
	gr = ex->element[2];
	sl = ex->element[3];
	if (ex->element[0]->integer == 0) {
		if (x->want != 0) {
			cw_error_set(e, CW_FAILED_PRECONDITION,
			    "the value changed: version %016" PRIx64
			    " is gone (deleted or expired)",
			    x->want);
			return;
		}
		cw__x_finish(x, NULL, &res);
		e->code = -1;
		return;
	}
	res.found = true;
	if (hm->type == REDIS_REPLY_ARRAY && hm->elements >= 4) {
		uint64_t v, size, c;
		if (!cw__x_reply_u64(hm->element[0], 16, &v) ||
		    !cw__x_reply_u64(hm->element[1], 10, &size) ||
		    !cw__x_reply_u64(hm->element[2], 10, &c) || c == 0) {
			cw_error_set(e, CW_INTERNAL,
			    "redis: the key holds a hash cachewired did not "
			    "write");
			return;
		}
		if (x->want != 0 && v != x->want) {
			changed(x, v, e);
			return;
		}
		if (c != x->chunk) {
			if (++x->tries >= MAX_TRIES) {
				cw_error_set(e, CW_UNAVAILABLE,
				    "the value kept changing while being "
				    "read");
				return;
			}
			x->chunk = c; /* read again on its grid */
			range_read(x);
			e->code = -1;
			return;
		}
		uint64_t from = cw__x_min(x->offset, size),
		         to = cw__x_min(x->offset + x->length, size);
		res.value = gather(
		    x, hm->element + 3, x->offset / c, from, to, &owned, e);
		if (res.value == NULL)
			return;
		res.value_len = to - from;
		res.total_size = size;
		res.version = v;
	} else if (gr->type == REDIS_REPLY_STRING &&
	           sl->type == REDIS_REPLY_INTEGER) {
		if (x->want != 0) {
			changed(x, 0, e);
			return;
		}
		res.value = gr->str;
		res.value_len = gr->len;
		res.total_size = (uint64_t)sl->integer;
	} else {
		cw__reply_error(
		    gr->type == REDIS_REPLY_ERROR ? gr : hm, "GETRANGE", e);
		return;
	}
	cw__x_finish(x, NULL, &res);
	free(owned);
	e->code = -1;
}

/* ---- Get of a value in chunks ------------------------------------------- */

static void whole_meta(xop *x)
{
	cw_mux_req *r = cw__x_req(x);

	if (r == NULL)
		return;
	cw__x_cmd(x, r, 5, "HMGET");
	cw__x_key_arg(x, r);
	cw__x_str_arg(r, "v");
	cw__x_str_arg(r, "n");
	cw__x_str_arg(r, "c");
	x->step = WHOLE_META;
	cw__submit(x->c, r);
}

void cw__get_chunked(cw_cache *c, const void *key, size_t key_len,
    int timeout_ms, cw_callback cb, void *arg)
{
	xop *x = cw__x_new(c, WHOLE_META, timeout_ms, cb, arg);

	if (x == NULL)
		return;
	x->key = key;
	x->key_len = key_len;
	x->slot = cw_redis_slot(c->ns, c->ns_len, key, key_len);
	whole_meta(x);
}

/* Start over: Get found something else under the key meanwhile. */
static void whole_again(xop *x, cw_error *e)
{
	if (++x->tries >= MAX_TRIES) {
		cw_error_set(e, CW_UNAVAILABLE,
		    "the value kept changing while being read");
		return;
	}
	if (x->step == WHOLE_DATA) {
		whole_meta(x);
	} else {
		/* now a string again: Get from the start */
		cw_cache_get_async(x->c, x->key, x->key_len,
		    cw__left_ms(x->timeout_ms, x->deadline), x->cb, x->arg);
		free(x);
	}
	e->code = -1;
}

void cw__x_whole_metad(xop *x, redisReply **rp, cw_error *e)
{
	const redisReply *hm = rp[0];
	cw_result res = {.status = CW_OK, .message = ""};
	uint64_t size;
	size_t max = LIMIT(x->c, max_value_bytes);

	if (hm->type == REDIS_REPLY_ERROR &&
	    strncmp(hm->str, "WRONGTYPE", 9) == 0) {
		whole_again(x, e);
		return;
	}
	if (hm->type != REDIS_REPLY_ARRAY || hm->elements != 3) {
		cw__reply_error(hm, "HMGET", e);
		return;
	}
	if (hm->element[0]->type == REDIS_REPLY_NIL) {
		cw__x_finish(x, NULL, &res); /* gone meanwhile: a miss */
		e->code = -1;
		return;
	}
	if (!cw__x_reply_u64(hm->element[0], 16, &x->version) ||
	    !cw__x_reply_u64(hm->element[1], 10, &size) ||
	    !cw__x_reply_u64(hm->element[2], 10, &x->chunk) || x->chunk == 0) {
		cw_error_set(e, CW_INTERNAL,
		    "redis: the key holds a hash cachewired did not write");
		return;
	}
	if (size > max) {
		cw_error_set(e, CW_RESOURCE_EXHAUSTED,
		    "value is %" PRIu64 " bytes; Get returns at most %zu "
		    "(max_value_bytes): read it with GetRange",
		    size, max);
		return;
	}
	x->total = size;
	x->nchunks = (size + x->chunk - 1) / x->chunk;
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL) {
		e->code = -1;
		return;
	}
	cw__x_cmd(x, r, 3 + (int)x->nchunks, "HMGET");
	cw__x_key_arg(x, r);
	cw__x_str_arg(r, "v");
	for (uint64_t i = 0; i < x->nchunks; i++)
		cw_mux_req_arg_u64(r, i);
	x->step = WHOLE_DATA;
	cw__submit(x->c, r);
	e->code = -1;
}

void cw__x_whole_data(xop *x, redisReply **rp, cw_error *e)
{
	const redisReply *hm = rp[0];
	cw_result res = {.status = CW_OK, .message = ""};
	char *owned = NULL;
	uint64_t v;

	if (hm->type != REDIS_REPLY_ARRAY || hm->elements != 1 + x->nchunks) {
		if (hm->type == REDIS_REPLY_ERROR &&
		    strncmp(hm->str, "WRONGTYPE", 9) == 0) {
			x->step = WHOLE_META;
			whole_again(x, e);
			return;
		}
		cw__reply_error(hm, "HMGET", e);
		return;
	}
	if (!cw__x_reply_u64(hm->element[0], 16, &v) || v != x->version) {
		whole_again(x, e);
		return;
	}
	res.found = true;
	if (x->nchunks == 1) {
		/* one chunk: hand it over as it is */
		const redisReply *y = hm->element[1];
		if (y->type != REDIS_REPLY_STRING ||
		    (uint64_t)y->len != x->total) {
			cw_error_set(e, CW_INTERNAL,
			    "redis: chunk 0 of the value is missing or short");
			return;
		}
		res.value = y->str;
	} else if ((res.value = gather(x, hm->element + 1, 0, 0, x->total,
	                &owned, e)) == NULL) {
		return;
	}
	res.value_len = x->total;
	cw__x_finish(x, NULL, &res);
	free(owned);
	e->code = -1;
}

/* ---- GetMany of values in chunks ---------------------------------------- */

typedef struct many {
	pthread_mutex_t mu;
	cw_callback cb;
	void *arg;
	size_t n, left;
	cw_value *values; /* owned copies */
	cw_error err;     /* the first failure */
	struct many_part {
		struct many *m;
		size_t i;
	} parts[];
} many;

static void many_free(many *m)
{
	cw_values_free(m->values, m->n);
	free(m->values);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static void many_finish(many *m)
{
	cw_result res = {.status = CW_OK, .message = ""};

	if (m->err.code != CW_OK) {
		cw__tell(m->cb, m->arg, &m->err);
	} else {
		res.count = m->n;
		res.values = m->values;
		m->cb(m->arg, &res);
	}
	many_free(m);
}

static void many_part_done(void *arg, const cw_result *r)
{
	struct many_part *p = arg;
	many *m = p->m;
	char *v = NULL;
	bool last;

	if (r->status == CW_OK && r->found &&
	    (v = malloc(r->value_len + 1)) != NULL) {
		memcpy(v, r->value, r->value_len);
		v[r->value_len] = '\0';
	}
	pthread_mutex_lock(&m->mu);
	if (r->status != CW_OK && m->err.code == CW_OK)
		cw_error_set(
		    &m->err, r->status, "keys[%zu]: %s", p->i, r->message);
	else if (r->status == CW_OK && r->found && v == NULL &&
	         m->err.code == CW_OK)
		cw_error_set(&m->err, CW_INTERNAL, "out of memory");
	else if (v != NULL)
		m->values[p->i] = (cw_value){true, v, r->value_len};
	last = --m->left == 0;
	pthread_mutex_unlock(&m->mu);
	if (last)
		many_finish(m);
}

void cw__get_many_chunked(cw_cache *c, size_t n, const cw_key *keys,
    const cw_value *values, int timeout_ms, cw_callback cb, void *arg)
{
	many *m = calloc(1, sizeof *m + n * sizeof m->parts[0]);
	cw_error e;

	if (m == NULL || (m->values = calloc(n, sizeof *m->values)) == NULL) {
		free(m);
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(cb, arg, &e);
		return;
	}
	pthread_mutex_init(&m->mu, NULL);
	m->cb = cb;
	m->arg = arg;
	m->n = n;
	/* the values found keep their place; copy them, the replies go */
	for (size_t i = 0; i < n; i++) {
		m->parts[i] = (struct many_part){m, i};
		if (!values[i].found) {
			m->left++;
			continue;
		}
		if ((m->values[i].data = malloc(values[i].len + 1)) == NULL) {
			many_free(m);
			cw_error_set(&e, CW_INTERNAL, "out of memory");
			cw__tell(cb, arg, &e);
			return;
		}
		memcpy(m->values[i].data, values[i].data, values[i].len);
		((char *)m->values[i].data)[values[i].len] = '\0';
		m->values[i].len = values[i].len;
		m->values[i].found = true;
	}
	if (m->left == 0) { /* nothing to read after all */
		many_finish(m);
		return;
	}
	/* m->left counts them all before the first may finish */
	for (size_t i = 0; i < n; i++)
		if (!values[i].found)
			cw__get_chunked(c, keys[i].data, keys[i].len,
			    timeout_ms, many_part_done, &m->parts[i]);
}
