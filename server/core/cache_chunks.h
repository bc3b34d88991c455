/*
 * cache_chunks.h - what the files of values in chunks share (cache.h,
 * "values in chunks"): one call in flight (xop) and its steps, each one
 * request started from the previous step's callback. cache_chunks.c has
 * the helpers and that callback, cache_upload.c the uploads, cache_range.c
 * the reads. Private to server/core.
 */
#ifndef CW_CORE_CACHE_CHUNKS_H
#define CW_CORE_CACHE_CHUNKS_H

#include "cache_internal.h"

#define MAX_TRIES 3 /* reads of a value that keeps changing */

enum step {
	BEGIN_ASK,     /* CONFIG GET proto-max-bulk-len */
	BEGIN_MAKE,    /* HSET tmp meta; PEXPIRE */
	PUT_CHECK,     /* PEXPIRE tmp; HMGET tmp c s */
	PUT_WRITE,     /* HSET tmp <i> data; PEXPIRE */
	COMMIT_READ,   /* HMGET tmp k c s x v; HLEN tmp */
	COMMIT_SIZES,  /* HSTRLEN tmp <i> for every chunk */
	COMMIT_MOVE,   /* MULTI RENAME tmp key ... EXEC */
	COMMIT_VERIFY, /* HGET key v: was it our own earlier commit? */
	ABORT,         /* UNLINK tmp */
	RANGE,         /* MULTI EXISTS HMGET GETRANGE STRLEN EXEC */
	WHOLE_META,    /* HMGET key v n c */
	WHOLE_DATA,    /* HMGET key v 0 1 ... */
};

typedef struct xop {
	cw_cache *c;
	cw_callback cb;
	void *arg;
	enum step step;
	int timeout_ms;
	uint64_t deadline;
	int tries;
	int slot;  /* of the key, and so of the temporary key */
	int ncmds; /* of a MULTI step: its EXEC's reply is the last */
	/* the key: borrowed from the caller, or (commit) ukey */
	const void *key;
	size_t key_len;
	char *ukey;
	/* the upload */
	char id[CW_UPLOAD_ID_MAX];
	uint64_t version;
	char tmp[64]; /* the temporary key after the namespace */
	size_t tmp_len;
	cw_expiry expiry;
	bool size_known;
	uint64_t total, chunk, max, ttl, nchunks;
	uint64_t offset, length, want;
	const void *data;
	size_t len;
} xop;

/* ---- cache_chunks.c ---- */
uint64_t cw__x_min(uint64_t a, uint64_t b);
/* Answer x's caller (with e when it is a failure, else res) and free x. */
void cw__x_finish(xop *x, const cw_error *e, cw_result *res);
void cw__x_fail(xop *x, const cw_error *e);
/* A new call (its caller told, NULL, when out of memory). */
xop *cw__x_new(
    cw_cache *c, enum step step, int timeout_ms, cw_callback cb, void *arg);
/* A request for x's next step within its deadline, or NULL (x failed). */
cw_mux_req *cw__x_req(xop *x);
/* Start command name of argc arguments, routed to x's slot. */
void cw__x_cmd(xop *x, cw_mux_req *r, int argc, const char *name);
void cw__x_key_arg(xop *x, cw_mux_req *r); /* "<ns>:<key>" */
void cw__x_tmp_arg(xop *x, cw_mux_req *r); /* "<ns>:<temporary key>" */
void cw__x_str_arg(cw_mux_req *r, const char *s);
/* A decimal or hex (base) number in a reply; false when it is none. */
bool cw__x_reply_u64(const redisReply *y, int base, uint64_t *out);

/*
 * The steps' reply handlers. Each either answers x (or starts its next
 * step) and sets e->code to -1, or leaves a failure in e for the caller
 * to answer with.
 */
/* cache_upload.c */
void cw__x_begin_checked(xop *x);
int cw__x_no_upload(const xop *x, cw_error *e);
void cw__x_put_checked(xop *x, redisReply **rp, cw_error *e);
void cw__x_commit_read(xop *x, redisReply **rp, cw_error *e);
void cw__x_commit_sizes(xop *x, redisReply **rp, cw_error *e);
void cw__x_commit_moved(xop *x, redisReply **rp, int n, cw_error *e);
/* cache_range.c */
void cw__x_range_done(xop *x, redisReply **rp, int n, cw_error *e);
void cw__x_whole_metad(xop *x, redisReply **rp, cw_error *e);
void cw__x_whole_data(xop *x, redisReply **rp, cw_error *e);

#endif
