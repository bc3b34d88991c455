/* batch.c - a batch envelope served call by call (batch.h). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "envelope.h"
#include "gate.h"
#include "stats.h"

/* Reply.replies is field 4, length-delimited: tag byte (4 << 3) | 2. */
#define REPLY_REPLIES_TAG 0x22u

typedef struct item {
	cw_reply_sink sink; /* first: the sink callbacks cast back */
	struct batch *b;
	bool admitted;
	uint8_t *reply; /* this call's packed Reply */
	size_t reply_len;
	cw_call call;
} item;

typedef struct batch {
	cw_batch_ctx ctx;
	cw_batch_done done;
	void *arg;
	uint64_t started_ns;
	atomic_size_t left;    /* calls not answered yet, + 1 while starting */
	atomic_bool no_memory; /* a call's Reply could not be packed */
	size_t n;
	item items[];
} batch;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Every call is answered: pack the Replies into one, hand it over. */
static void finish(batch *b)
{
	size_t total = 0;
	uint8_t *out = NULL;

	for (size_t i = 0; i < b->n; i++)
		total += 1 + cw_envelope_varint_size(b->items[i].reply_len) +
		         b->items[i].reply_len;
	if (!atomic_load(&b->no_memory) &&
	    (out = malloc(total > 0 ? total : 1)) != NULL) {
		size_t off = 0;
		for (size_t i = 0; i < b->n; i++) {
			out[off++] = REPLY_REPLIES_TAG;
			off += cw_envelope_put_varint(
			    out + off, b->items[i].reply_len);
			if (b->items[i].reply_len > 0)
				memcpy(out + off, b->items[i].reply,
				    b->items[i].reply_len);
			off += b->items[i].reply_len;
		}
	}
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].reply);
	cw_batch_done done = b->done;
	void *arg = b->arg;
	free(b);
	done(arg, out, out != NULL ? total : 0);
}

static void leave(batch *b)
{
	if (atomic_fetch_sub(&b->left, 1) == 1)
		finish(b);
}

static void item_reply(cw_reply_sink *sink, int code, const char *message,
    const ProtobufCMessage *response)
{
	item *it = (item *)sink;
	size_t payload_len;
	size_t len =
	    cw_envelope_reply_size(code, message, response, &payload_len);

	/* An empty Reply (OK with an empty response) needs no buffer. */
	if (len > 0 && (it->reply = malloc(len)) == NULL) {
		atomic_store(&it->b->no_memory, true);
		return;
	}
	if (len > 0)
		cw_envelope_reply_pack(
		    code, message, response, payload_len, it->reply);
	it->reply_len = len;
}

static void item_done(cw_reply_sink *sink, int code, const cw_error *outcome)
{
	item *it = (item *)sink;
	batch *b = it->b;
	(void)outcome;

	if (b->ctx.stats != NULL)
		cw_rpc_stats_record(b->ctx.stats, it->call.method_index, code,
		    now_ns() - b->started_ns);
	if (it->admitted)
		cw_gate_leave(b->ctx.gate);
	leave(b);
}

/* Serve one call of the batch. */
static void serve_one(batch *b, item *it, const uint8_t *buf, size_t len)
{
	cw_request req;
	size_t nested;
	cw_error why;

	if (!cw_envelope_decode(buf, len, &req, &nested)) {
		cw_dispatch_refuse(&it->call, &it->sink, CW_INVALID_ARGUMENT,
		    "a call of the batch is not a cachewire.v1.Request");
		return;
	}
	if (nested > 0) {
		cw_dispatch_refuse(&it->call, &it->sink, CW_INVALID_ARGUMENT,
		    "a call of a batch cannot be a batch itself");
		return;
	}
	if (b->ctx.gate != NULL && cw_gate_enter(b->ctx.gate, &why) != CW_OK) {
		cw_dispatch_refuse(&it->call, &it->sink, why.code, why.message);
		return;
	}
	it->admitted = b->ctx.gate != NULL;
	cw_dispatch(b->ctx.svcs, b->ctx.auth, &req, b->ctx.default_timeout_ms,
	    &it->call, &it->sink);
}

void cw_batch_serve(const cw_batch_ctx *ctx, const uint8_t *buf, size_t len,
    size_t ncalls, cw_batch_done done, void *arg)
{
	batch *b = calloc(1, sizeof *b + ncalls * sizeof b->items[0]);

	if (b == NULL) {
		done(arg, NULL, 0);
		return;
	}
	b->ctx = *ctx;
	b->done = done;
	b->arg = arg;
	b->n = ncalls;
	b->started_ns = now_ns();
	/* Held open while starting, so that calls answered at once do not
	 * finish the batch before the last one is started. */
	atomic_init(&b->left, ncalls + 1);
	cw_envelope_calls calls = {buf, buf + len};
	cw_services_hold(ctx->svcs); /* their Redis commands go together */
	for (size_t i = 0; i < ncalls; i++) {
		item *it = &b->items[i];
		const uint8_t *call = NULL;
		size_t call_len = 0;
		it->b = b;
		it->sink.reply = item_reply;
		it->sink.done = item_done;
		if (!cw_envelope_next_call(&calls, &call, &call_len))
			cw_dispatch_refuse(&it->call, &it->sink, CW_INTERNAL,
			    "the batch's calls went missing");
		else
			serve_one(b, it, call, call_len);
	}
	cw_services_release(ctx->svcs);
	leave(b);
}
