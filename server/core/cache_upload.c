/*
 * cache_upload.c - uploads (cache.h, "values in chunks"): BeginUpload
 * makes a temporary hash in the key's slot, PutChunk writes a chunk into
 * it, CommitUpload checks every chunk and RENAMEs it over the key in one
 * MULTI, AbortUpload UNLINKs it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cache_chunks.h"
#include "slot.h"

#define META_FIELDS 4 /* k c v x, and s when the size was given */

/* The temporary key's name after the namespace, from version and slot. */
static void name_tmp(xop *x)
{
	char tag[CW_SLOT_TAG_MAX];

	cw_slot_tag(x->slot, tag);
	x->tmp_len = (size_t)snprintf(
	    x->tmp, sizeof x->tmp, "{%s}:upload:%016" PRIx64, tag, x->version);
	snprintf(x->id, sizeof x->id, "%016" PRIx64 "-%04x", x->version,
	    (unsigned)x->slot);
}

/* x's version and slot from an upload id "<16 hex>-<4 hex>". */
static int parse_id(xop *x, const char *id, cw_error *e)
{
	char *end;

	if (id == NULL || strlen(id) != 21 || id[16] != '-' ||
	    strspn(id, "0123456789abcdef") != 16 ||
	    strspn(id + 17, "0123456789abcdef") != 4)
		return cw_error_set(e, CW_INVALID_ARGUMENT,
		    "malformed upload_id '%.40s' (BeginUpload gives one)",
		    id != NULL ? id : "");
	x->version = strtoull(id, &end, 16);
	x->slot = (int)strtoul(id + 17, &end, 16);
	if (x->slot >= CW_SLOTS || x->version == 0)
		return cw_error_set(e, CW_INVALID_ARGUMENT,
		    "malformed upload_id '%s' (BeginUpload gives one)", id);
	name_tmp(x);
	return CW_OK;
}

static uint64_t upload_max(const cw_cache *c, const char **which)
{
	uint64_t own = LIMIT(c, max_upload_bytes),
	         redis = LIMIT(c, redis_bulk_max);

	*which = "cache.max_upload_bytes";
	if (redis != 0 && redis < own) {
		*which = "Redis's proto-max-bulk-len";
		return redis;
	}
	return own;
}

static int too_large(
    cw_error *e, uint64_t size, uint64_t max, const char *which)
{
	return cw_error_set(e, CW_RESOURCE_EXHAUSTED,
	    "value is %" PRIu64 " bytes; the limit is %" PRIu64 " (%s)", size,
	    max, which);
}

/* The call on upload_id at step (its caller told, NULL, when c or the id
 * is bad): what PutChunk, CommitUpload and AbortUpload start with. */
static xop *upload_call(cw_cache *c, const char *upload_id, enum step step,
    int timeout_ms, cw_callback cb, void *arg)
{
	cw_error e;
	xop *x;

	if (c == NULL) {
		cw_error_set(&e, CW_INVALID_ARGUMENT, "cache is NULL");
		cw__tell(cb, arg, &e);
		return NULL;
	}
	if ((x = cw__x_new(c, step, timeout_ms, cb, arg)) == NULL)
		return NULL;
	if (parse_id(x, upload_id, &e) != CW_OK) {
		cw__x_fail(x, &e);
		return NULL;
	}
	return x;
}

/* ---- begin -------------------------------------------------------------- */

static void begin_make(xop *x)
{
	char buf[32];
	cw_mux_req *r = cw__x_req(x);

	if (r == NULL)
		return;
	cw__x_cmd(x, r, x->size_known ? 12 : 10, "HSET");
	cw__x_tmp_arg(x, r);
	cw__x_str_arg(r, "k");
	cw_mux_req_arg(r, x->key, x->key_len); /* without the namespace */
	cw__x_str_arg(r, "c");
	cw_mux_req_arg_u64(r, x->chunk);
	cw__x_str_arg(r, "v");
	cw_mux_req_arg(r, x->id, 16);
	cw__x_str_arg(r, "x");
	if (x->expiry.kind == CW_EXPIRY_NONE || x->expiry.ms == 0)
		snprintf(buf, sizeof buf, "n");
	else
		snprintf(buf, sizeof buf, "%c%" PRIu64,
		    x->expiry.kind == CW_EXPIRY_TTL ? 't' : 'a', x->expiry.ms);
	cw_mux_req_arg_copy(r, buf, strlen(buf));
	if (x->size_known) {
		cw__x_str_arg(r, "s");
		cw_mux_req_arg_u64(r, x->total);
	}
	cw__x_cmd(x, r, 3, "PEXPIRE");
	cw__x_tmp_arg(x, r);
	cw_mux_req_arg_u64(r, x->ttl);
	x->step = BEGIN_MAKE;
	cw__submit(x->c, r);
}

/* The limits are known: check the size, then make the upload. */
void cw__x_begin_checked(xop *x)
{
	const char *which;
	cw_error e;

	x->max = upload_max(x->c, &which);
	if (x->size_known && x->total > x->max) {
		too_large(&e, x->total, x->max, which);
		cw__x_fail(x, &e);
		return;
	}
	begin_make(x);
}

void cw_cache_upload_begin_async(cw_cache *c, const void *key, size_t key_len,
    cw_expiry expiry, bool size_known, uint64_t total_size, int timeout_ms,
    cw_callback cb, void *arg)
{
	enum cw_expiry_action action;
	uint64_t arg_ms, v = 0;
	cw_error e;
	xop *x;

	if (cw__check_key(c, key, key_len, &e) != CW_OK ||
	    cw_expiry_plan(expiry, cw_now_ms(), &action, &arg_ms, &e) !=
	        CW_OK) {
		cw__tell(cb, arg, &e);
		return;
	}
	while (v == 0)
		if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
			cw_error_set(&e, CW_INTERNAL, "getrandom failed");
			cw__tell(cb, arg, &e);
			return;
		}
	if ((x = cw__x_new(c, BEGIN_ASK, timeout_ms, cb, arg)) == NULL)
		return;
	x->key = key;
	x->key_len = key_len;
	x->expiry = expiry;
	x->size_known = size_known;
	x->total = total_size;
	x->chunk = LIMIT(c, chunk_bytes);
	x->ttl = LIMIT(c, upload_ttl_ms);
	x->version = v;
	x->slot = cw_redis_slot(c->ns, c->ns_len, key, key_len);
	name_tmp(x);
	if (LIMIT(c, redis_bulk_max) != 0) {
		cw__x_begin_checked(x);
		return;
	}
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL)
		return;
	cw__x_cmd(x, r, 3, "CONFIG");
	cw__x_str_arg(r, "GET");
	cw__x_str_arg(r, "proto-max-bulk-len");
	cw__submit(c, r);
}

/* ---- put ---------------------------------------------------------------- */

void cw_cache_upload_put_async(cw_cache *c, const char *upload_id,
    uint64_t offset, const void *data, size_t len, int timeout_ms,
    cw_callback cb, void *arg)
{
	cw_error e;
	xop *x;

	if (len == 0 || data == NULL) {
		cw_error_set(&e, CW_INVALID_ARGUMENT,
		    "data is empty (a chunk is 1 to chunk_bytes bytes)");
		cw__tell(cb, arg, &e);
		return;
	}
	if ((x = upload_call(c, upload_id, PUT_CHECK, timeout_ms, cb, arg)) ==
	    NULL)
		return;
	x->offset = offset;
	x->data = data;
	x->len = len;
	x->ttl = LIMIT(c, upload_ttl_ms);
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL)
		return;
	cw__x_cmd(x, r, 3, "PEXPIRE");
	cw__x_tmp_arg(x, r);
	cw_mux_req_arg_u64(r, x->ttl);
	cw__x_cmd(x, r, 4, "HMGET");
	cw__x_tmp_arg(x, r);
	cw__x_str_arg(r, "c");
	cw__x_str_arg(r, "s");
	cw__submit(c, r);
}

int cw__x_no_upload(const xop *x, cw_error *e)
{
	return cw_error_set(e, CW_NOT_FOUND,
	    "no upload %s in this namespace (committed, aborted, cleared, "
	    "or idle for more than upload_ttl_ms)",
	    x->id);
}

/* PUT_CHECK's replies: is the chunk where it may go? Then write it. */
void cw__x_put_checked(xop *x, redisReply **rp, cw_error *e)
{
	const redisReply *hm = rp[1];
	const char *which = "the upload's total_size";
	uint64_t s, end = x->offset + x->len;

	if (rp[0]->type != REDIS_REPLY_INTEGER) {
		cw__reply_error(rp[0], "PEXPIRE", e);
		return;
	}
	if (rp[0]->integer == 0) {
		cw__x_no_upload(x, e);
		return;
	}
	if (hm->type != REDIS_REPLY_ARRAY || hm->elements != 2 ||
	    !cw__x_reply_u64(hm->element[0], 10, &x->chunk) || x->chunk == 0) {
		cw__reply_error(hm, "HMGET", e);
		return;
	}
	if (x->offset % x->chunk != 0) {
		cw_error_set(e, CW_INVALID_ARGUMENT,
		    "offset %" PRIu64 " is not a multiple of the upload's "
		    "chunk_bytes (%" PRIu64 ")",
		    x->offset, x->chunk);
		return;
	}
	if (x->len > x->chunk) {
		cw_error_set(e, CW_INVALID_ARGUMENT,
		    "data is %zu bytes; the upload's chunk_bytes is %" PRIu64,
		    x->len, x->chunk);
		return;
	}
	if (!cw__x_reply_u64(hm->element[1], 10, &s))
		s = upload_max(x->c, &which);
	if (end > s || end < x->offset) {
		cw_error_set(e, CW_RESOURCE_EXHAUSTED,
		    "bytes up to %" PRIu64 " are past %s (%" PRIu64 ")", end,
		    which, s);
		return;
	}
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL) {
		e->code = -1; /* x is gone */
		return;
	}
	cw__x_cmd(x, r, 4, "HSET");
	cw__x_tmp_arg(x, r);
	cw_mux_req_arg_u64(r, x->offset / x->chunk);
	cw_mux_req_arg(r, x->data, x->len);
	cw__x_cmd(x, r, 3, "PEXPIRE");
	cw__x_tmp_arg(x, r);
	cw_mux_req_arg_u64(r, x->ttl);
	x->step = PUT_WRITE;
	cw__submit(x->c, r);
	e->code = -1; /* on its way */
}

/* ---- commit ------------------------------------------------------------- */

void cw_cache_upload_commit_async(cw_cache *c, const char *upload_id,
    uint64_t total_size, int timeout_ms, cw_callback cb, void *arg)
{
	const char *which;
	cw_error e;
	xop *x;

	if ((x = upload_call(c, upload_id, COMMIT_READ, timeout_ms, cb, arg)) ==
	    NULL)
		return;
	x->total = total_size;
	x->max = upload_max(c, &which);
	if (total_size > x->max) {
		too_large(&e, total_size, x->max, which);
		cw__x_fail(x, &e);
		return;
	}
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL)
		return;
	cw__x_cmd(x, r, 7, "HMGET");
	cw__x_tmp_arg(x, r);
	cw__x_str_arg(r, "k");
	cw__x_str_arg(r, "c");
	cw__x_str_arg(r, "s");
	cw__x_str_arg(r, "x");
	cw__x_str_arg(r, "v");
	cw__x_cmd(x, r, 2, "HLEN");
	cw__x_tmp_arg(x, r);
	cw__submit(c, r);
}

/* The expiry an upload stored at begin ("n", "t<ms>", "a<ms>"). */
static bool parse_expiry(const redisReply *y, cw_expiry *out)
{
	uint64_t ms;
	char buf[24], *end;

	if (y->type != REDIS_REPLY_STRING || y->len == 0 ||
	    y->len >= sizeof buf)
		return false;
	memcpy(buf, y->str, y->len);
	buf[y->len] = '\0';
	if (strcmp(buf, "n") == 0) {
		*out = CW_NO_EXPIRY;
		return true;
	}
	ms = strtoull(buf + 1, &end, 10);
	if (*end != '\0' || (buf[0] != 't' && buf[0] != 'a'))
		return false;
	*out = buf[0] == 't' ? CW_TTL_MS(ms) : CW_EXPIRE_AT_MS(ms);
	return true;
}

static void commit_move(xop *x, cw_error *e);

/* COMMIT_READ's replies: the upload's meta; then check every chunk. */
void cw__x_commit_read(xop *x, redisReply **rp, cw_error *e)
{
	const redisReply *hm = rp[0];
	uint64_t s, v, have;
	bool sized;

	if (hm->type != REDIS_REPLY_ARRAY || hm->elements != 5) {
		cw__reply_error(hm, "HMGET", e);
		return;
	}
	if (hm->element[0]->type == REDIS_REPLY_NIL) {
		cw__x_no_upload(x, e);
		return;
	}
	sized = cw__x_reply_u64(hm->element[2], 10, &s);
	if (hm->element[0]->type != REDIS_REPLY_STRING ||
	    !cw__x_reply_u64(hm->element[1], 10, &x->chunk) || x->chunk == 0 ||
	    !parse_expiry(hm->element[3], &x->expiry) ||
	    !cw__x_reply_u64(hm->element[4], 16, &v) || v != x->version ||
	    rp[1]->type != REDIS_REPLY_INTEGER) {
		cw_error_set(e, CW_INTERNAL,
		    "redis: upload %s is malformed (not made by cachewired?)",
		    x->id);
		return;
	}
	if (sized && s != x->total) {
		cw_error_set(e, CW_FAILED_PRECONDITION,
		    "total_size %" PRIu64 " is not BeginUpload's %" PRIu64,
		    x->total, s);
		return;
	}
	if ((x->ukey = malloc(hm->element[0]->len + 1)) == NULL) {
		cw_error_set(e, CW_INTERNAL, "out of memory");
		return;
	}
	memcpy(x->ukey, hm->element[0]->str, hm->element[0]->len);
	x->key = x->ukey;
	x->key_len = hm->element[0]->len;
	x->nchunks = (x->total + x->chunk - 1) / x->chunk;
	have = (uint64_t)rp[1]->integer - META_FIELDS - (sized ? 1 : 0);
	if (have > x->nchunks) {
		cw_error_set(e, CW_FAILED_PRECONDITION,
		    "%" PRIu64 " chunks were put but a value of %" PRIu64
		    " bytes has %" PRIu64 " (chunks past total_size)",
		    have, x->total, x->nchunks);
		return;
	}
	if (x->nchunks == 0) {
		commit_move(x, e);
		return;
	}
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL) {
		e->code = -1;
		return;
	}
	for (uint64_t i = 0; i < x->nchunks; i++) {
		cw__x_cmd(x, r, 3, "HSTRLEN");
		cw__x_tmp_arg(x, r);
		cw_mux_req_arg_u64(r, i);
	}
	x->step = COMMIT_SIZES;
	cw__submit(x->c, r);
	e->code = -1;
}

/* COMMIT_SIZES' replies: every chunk there, each of its size? */
void cw__x_commit_sizes(xop *x, redisReply **rp, cw_error *e)
{
	for (uint64_t i = 0; i < x->nchunks; i++) {
		uint64_t at = i * x->chunk,
		         want = cw__x_min(x->chunk, x->total - at);
		if (rp[i]->type != REDIS_REPLY_INTEGER) {
			cw__reply_error(rp[i], "HSTRLEN", e);
			return;
		}
		if (rp[i]->integer == 0) {
			cw_error_set(e, CW_FAILED_PRECONDITION,
			    "bytes [%" PRIu64 ", %" PRIu64 ") are missing "
			    "(no chunk at offset %" PRIu64 ")",
			    at, at + want, at);
			return;
		}
		if ((uint64_t)rp[i]->integer != want) {
			cw_error_set(e, CW_FAILED_PRECONDITION,
			    "the chunk at offset %" PRIu64 " is %lld bytes; a "
			    "value of %" PRIu64 " bytes needs %" PRIu64
			    " there",
			    at, rp[i]->integer, x->total, want);
			return;
		}
	}
	commit_move(x, e);
}

/* All there: make it the key's value, with its expiry, in one MULTI. */
static void commit_move(xop *x, cw_error *e)
{
	enum cw_expiry_action action;
	uint64_t ms;
	cw_mux_req *r;

	if (cw_expiry_plan(x->expiry, cw_now_ms(), &action, &ms, e) != CW_OK)
		return;
	if ((r = cw__x_req(x)) == NULL) {
		e->code = -1;
		return;
	}
	cw__x_cmd(x, r, 1, "MULTI");
	if (action == CW_EXPIRY_REMOVE) {
		/* already expired: the key goes, and the upload with it */
		cw__x_cmd(x, r, 3, "UNLINK");
		cw__x_tmp_arg(x, r);
		cw__x_key_arg(x, r);
	} else {
		cw__x_cmd(x, r, 3, "RENAME");
		cw__x_tmp_arg(x, r);
		cw__x_key_arg(x, r);
		cw__x_cmd(x, r, 5, "HDEL");
		cw__x_key_arg(x, r);
		cw__x_str_arg(r, "k");
		cw__x_str_arg(r, "s");
		cw__x_str_arg(r, "x");
		cw__x_cmd(x, r, 4, "HSET");
		cw__x_key_arg(x, r);
		cw__x_str_arg(r, "n");
		cw_mux_req_arg_u64(r, x->total);
		if (action == CW_EXPIRY_KEEP) {
			cw__x_cmd(x, r, 2, "PERSIST");
			cw__x_key_arg(x, r);
		} else {
			cw__x_cmd(x, r, 3,
			    action == CW_EXPIRY_PX ? "PEXPIRE" : "PEXPIREAT");
			cw__x_key_arg(x, r);
			cw_mux_req_arg_u64(r, ms);
		}
	}
	cw__x_cmd(x, r, 1, "EXEC");
	x->ncmds = action == CW_EXPIRY_REMOVE ? 3 : 6;
	x->step = COMMIT_MOVE;
	cw__submit(x->c, r);
	e->code = -1;
}

/* COMMIT_MOVE's EXEC: done, or the upload vanished meanwhile. */
void cw__x_commit_moved(xop *x, redisReply **rp, int n, cw_error *e)
{
	const redisReply *ex = rp[n - 1], *first;
	cw_result res = {.status = CW_OK, .message = ""};

	if (ex->type != REDIS_REPLY_ARRAY || ex->elements < 1) {
		cw__reply_error(ex, "EXEC", e);
		return;
	}
	first = ex->element[0];
	if (first->type == REDIS_REPLY_ERROR &&
	    strstr(first->str, "no such key") != NULL) {
		/* gone: aborted, expired, or this very commit, sent again
		 * after a lost connection; the key's version tells */
		cw_mux_req *r = cw__x_req(x);
		if (r == NULL) {
			e->code = -1;
			return;
		}
		cw__x_cmd(x, r, 3, "HGET");
		cw__x_key_arg(x, r);
		cw__x_str_arg(r, "v");
		x->step = COMMIT_VERIFY;
		cw__submit(x->c, r);
		e->code = -1;
		return;
	}
	for (size_t i = 0; i < ex->elements; i++)
		if (ex->element[i]->type == REDIS_REPLY_ERROR) {
			cw__reply_error(ex->element[i], "EXEC", e);
			return;
		}
	res.version = x->version;
	cw__x_finish(x, NULL, &res);
	e->code = -1;
}

/* ---- abort -------------------------------------------------------------- */

void cw_cache_upload_abort_async(cw_cache *c, const char *upload_id,
    int timeout_ms, cw_callback cb, void *arg)
{
	xop *x;

	if ((x = upload_call(c, upload_id, ABORT, timeout_ms, cb, arg)) == NULL)
		return;
	cw_mux_req *r = cw__x_req(x);
	if (r == NULL)
		return;
	cw__x_cmd(x, r, 2, "UNLINK");
	cw__x_tmp_arg(x, r);
	cw__submit(c, r);
}
