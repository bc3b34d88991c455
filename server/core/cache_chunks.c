/*
 * cache_chunks.c - values in chunks (cache.h, "values in chunks"): what
 * their calls share, and the one callback of all their steps.
 *
 * Each call is a few steps, one request each, started from the previous
 * step's callback (xop_done), all within the call's deadline. Nothing here
 * keeps state between calls: an upload lives in Redis only, so any
 * cachewired of a deployment may serve any of its chunks. The uploads are
 * in cache_upload.c, the reads in cache_range.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_chunks.h"

#define REDIS_DEFAULT_BULK ((uint64_t)512 * 1024 * 1024)

static void xop_done(
    void *arg, int status, const cw_error *err, redisReply **replies);

uint64_t cw__x_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void cw__x_finish(xop *x, const cw_error *e, cw_result *res)
{
	cw_result fail;

	if (e != NULL && e->code != CW_OK) {
		fail = (cw_result){.status = e->code, .message = e->message};
		res = &fail;
	}
	x->cb(x->arg, res);
	free(x->ukey);
	free(x);
}

void cw__x_fail(xop *x, const cw_error *e)
{
	cw__x_finish(x, e, NULL);
}

xop *cw__x_new(
    cw_cache *c, enum step step, int timeout_ms, cw_callback cb, void *arg)
{
	xop *x = calloc(1, sizeof *x);
	cw_error e;

	if (x == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__tell(cb, arg, &e);
		return NULL;
	}
	x->c = c;
	x->cb = cb;
	x->arg = arg;
	x->step = step;
	x->timeout_ms = timeout_ms;
	x->deadline =
	    cw_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	return x;
}

/* A request for x's next step within its deadline, or NULL (x failed). */
cw_mux_req *cw__x_req(xop *x)
{
	int t = 0;
	cw_mux_req *r;
	cw_error e;

	if (x->timeout_ms > 0) {
		uint64_t now = cw_mono_ms();
		if (now >= x->deadline) {
			cw_error_set(&e, CW_DEADLINE_EXCEEDED,
			    "call timed out after %d ms", x->timeout_ms);
			cw__x_fail(x, &e);
			return NULL;
		}
		t = (int)(x->deadline - now);
	}
	if ((r = cw_mux_req_new(t, xop_done, x)) == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__x_fail(x, &e);
	}
	return r;
}

/* Start command name of argc arguments, routed to x's slot. */
void cw__x_cmd(xop *x, cw_mux_req *r, int argc, const char *name)
{
	cw_mux_req_cmd(r, argc);
	cw_mux_req_arg(r, name, strlen(name));
	cw_mux_req_slot(r, x->c->cluster != NULL ? x->slot : CW_SLOT_NONE);
}

void cw__x_key_arg(xop *x, cw_mux_req *r)
{
	cw_mux_req_arg2(r, x->c->ns, x->c->ns_len, x->key, x->key_len);
}

void cw__x_tmp_arg(xop *x, cw_mux_req *r)
{
	cw_mux_req_arg2(r, x->c->ns, x->c->ns_len, x->tmp, x->tmp_len);
}

void cw__x_str_arg(cw_mux_req *r, const char *s)
{
	cw_mux_req_arg(r, s, strlen(s));
}

/* A decimal or hex (base) number in reply y; false when it is none. */
bool cw__x_reply_u64(const redisReply *y, int base, uint64_t *out)
{
	char buf[24], *end;

	if (y == NULL || y->type != REDIS_REPLY_STRING || y->len == 0 ||
	    y->len >= sizeof buf)
		return false;
	memcpy(buf, y->str, y->len);
	buf[y->len] = '\0';
	*out = strtoull(buf, &end, base);
	return *end == '\0';
}

/* ---- the one callback of every step ------------------------------------- */

static void xop_done(
    void *arg, int status, const cw_error *err, redisReply **rp)
{
	xop *x = arg;
	cw_result res = {.status = CW_OK, .message = ""};
	cw_error e = {.code = CW_OK};
	uint64_t v;

	if (status != CW_OK) {
		cw__x_fail(x, err);
		return;
	}
	switch (x->step) {
	case BEGIN_ASK: {
		/* ["proto-max-bulk-len", "<n>"], or an error (CONFIG may be
		 * renamed or forbidden): then Redis' default */
		const redisReply *y = rp[0];
		uint64_t bulk = REDIS_DEFAULT_BULK;
		if (y->type == REDIS_REPLY_ARRAY && y->elements == 2 &&
		    cw__x_reply_u64(y->element[1], 10, &v) && v > 0)
			bulk = v;
		atomic_store(&x->c->lim->redis_bulk_max, bulk);
		cw__x_begin_checked(x);
		return;
	}
	case BEGIN_MAKE:
		if (rp[0]->type != REDIS_REPLY_INTEGER) {
			cw__reply_error(rp[0], "HSET", &e);
			break;
		}
		res.upload_id = x->id;
		res.chunk_bytes = x->chunk;
		res.upload_ttl_ms = x->ttl;
		res.max_bytes = x->max;
		cw__x_finish(x, NULL, &res);
		return;
	case PUT_CHECK:
		cw__x_put_checked(x, rp, &e);
		break;
	case PUT_WRITE:
		if (rp[0]->type != REDIS_REPLY_INTEGER)
			cw__reply_error(rp[0], "HSET", &e);
		else if (rp[1]->type != REDIS_REPLY_INTEGER)
			cw__reply_error(rp[1], "PEXPIRE", &e);
		break;
	case COMMIT_READ:
		cw__x_commit_read(x, rp, &e);
		break;
	case COMMIT_SIZES:
		cw__x_commit_sizes(x, rp, &e);
		break;
	case COMMIT_MOVE:
		cw__x_commit_moved(x, rp, x->ncmds, &e);
		break;
	case COMMIT_VERIFY:
		if (cw__x_reply_u64(rp[0], 16, &v) && v == x->version) {
			res.version = v;
			cw__x_finish(x, NULL, &res);
			return;
		}
		cw__x_no_upload(x, &e);
		break;
	case ABORT:
		if (rp[0]->type != REDIS_REPLY_INTEGER) {
			cw__reply_error(rp[0], "UNLINK", &e);
			break;
		}
		res.existed = rp[0]->integer > 0;
		cw__x_finish(x, NULL, &res);
		return;
	case RANGE:
		cw__x_range_done(x, rp, x->ncmds, &e);
		break;
	case WHOLE_META:
		cw__x_whole_metad(x, rp, &e);
		break;
	case WHOLE_DATA:
		cw__x_whole_data(x, rp, &e);
		break;
	}
	if (e.code == -1)
		return; /* x answered, or its next step is on its way */
	cw__x_finish(x, &e, &res);
}
