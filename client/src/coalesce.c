/*
 * coalesce.c - many calls in one message (xfer.h says the roles).
 *
 * A call that finds fewer than WINDOW messages in flight on the socket is
 * sent alone at once (exchange.c): an idle client adds no latency. One
 * that finds WINDOW in flight (1: any message, as the Python client does;
 * 2 measured 16% fewer calls a second at 64 in flight, the batches being
 * half as large), with a server that takes batches, is
 * queued; each message that ends sends what is queued as one batch
 * (rpc.proto, Request.calls: the calls' own Requests, byte for byte), so
 * the batch size follows the load. One timer per client (c->tick) keeps
 * the deadlines of the calls queued or in batches: it sleeps until the
 * earliest, and a call whose deadline passes first ends
 * DEADLINE_EXCEEDED then, whatever its batch does. Whichever of the tick
 * and the batch's reply comes first decides (xfer.finished); the xfer goes
 * back to the pool once neither holds it (xfer.holds). (A timer per call
 * cost each call a timer insert and a cancellation handed to another
 * thread: some 8% of the throughput at 64 calls in flight.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/cache.pb-c.h"

#include "xfer.h"

#define WINDOW         1    /* messages in flight before calls queue */
#define BATCH_SLACK_MS 1000 /* a batch's own timeout past its last call's */
#define ASK_AGAIN_MS   1000 /* after a Ping that failed */
#define ALONE_BYTES    (64 * 1024) /* larger requests always go alone */

/* Request.calls is field 6, length-delimited: tag byte (6 << 3) | 2. */
#define REQUEST_CALLS_TAG 0x32u

/* Have c->tick wake by deadline at the latest. Under c->mu. */
static void tick_by_locked(struct cw_client *c, nng_time deadline)
{
	if (c->tick_stop)
		return;
	if (c->tick_armed) {
		if (deadline < c->tick_at)
			nng_aio_cancel(
			    c->tick); /* its callback arms it again */
		return;
	}
	nng_time now = nng_clock();
	c->tick_armed = true;
	c->tick_at = deadline;
	nng_sleep_aio(
	    deadline > now ? (nng_duration)(deadline - now) : 0, c->tick);
}

bool cw__coalesce_queue_locked(
    struct cw_client *c, xfer *x, nng_msg *request, bool *ask)
{
	if (!c->coalesce || c->sending < WINDOW ||
	    nng_msg_len(request) > ALONE_BYTES)
		return false;
	if (c->batches == CW_BATCHES_UNKNOWN && nng_clock() >= c->ask_after) {
		c->batches = CW_BATCHES_ASKING;
		*ask = true;
	}
	if (c->batches != CW_BATCHES_YES)
		return false;
	x->role = X_QUEUED;
	x->request = request;
	atomic_store(&x->holds, 1); /* the queue's, then its batch's */
	atomic_store(&x->finished, false);
	x->next = NULL;
	*c->queue_tail = x;
	c->queue_tail = &x->next;
	c->queued++;
	tick_by_locked(c, x->deadline);
	return true;
}

/* Hand x's outcome to its caller, unless its timer (or batch) did. */
static void finish(
    xfer *x, int status, const cw_error *err, ProtobufCMessage *resp)
{
	if (atomic_exchange(&x->finished, true)) {
		if (resp != NULL)
			protobuf_c_message_free_unpacked(
			    resp, &cw__response_allocator);
		return;
	}
	x->done(x->arg, status, err, resp);
}

static void drop_hold(xfer *x)
{
	if (atomic_fetch_sub(&x->holds, 1) != 1)
		return;
	if (x->request != NULL)
		nng_msg_free(x->request);
	x->request = NULL;
	cw__xfer_pool(x);
}

/* The batch of b is over (reply or not): free what it held. */
static void batch_over(xfer *b)
{
	struct cw_client *c = b->c;

	/* off the list first: the tick holds no member it has not seen */
	pthread_mutex_lock(&c->mu);
	for (xfer **p = &c->batches_out; *p != NULL; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	c->sending--;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < b->nmembers; i++)
		drop_hold(b->members[i]);
	free(b->members);
	b->members = NULL;
	b->nmembers = 0;
	cw__xfer_pool(b);
	cw__coalesce_flush(c);
}

/* Every call of b that is not finished ends with status and err. */
static void fail_members(xfer *b, int status, const cw_error *err)
{
	for (size_t i = 0; i < b->nmembers; i++)
		finish(b->members[i], status, err, NULL);
}

/* The batch's Reply came: each call gets its own. */
static void batch_reply(xfer *b, nng_msg *m)
{
	struct cw_client *c = b->c;
	size_t len = nng_msg_len(m);
	cw_error err = {.code = CW_OK};
	Cachewire__V1__Reply *r =
	    cachewire__v1__reply__unpack(NULL, len, nng_msg_body(m));

	nng_msg_free(m);
	if (r == NULL) {
		cw_error_set(&err, CW_INTERNAL,
		    "undecodable batch reply from %s (%zu bytes)", c->url, len);
		fail_members(b, CW_INTERNAL, &err);
		return;
	}
	if (r->n_replies != b->nmembers) {
		/* Refused as a whole: each call is told why. */
		int status = r->code != CACHEWIRE__V1__CODE__OK ? (int)r->code
		                                                : CW_INTERNAL;
		if (status > CW_UNAUTHENTICATED)
			status = CW_UNKNOWN;
		cw_error_set(&err, status, "%s",
		    r->code != CACHEWIRE__V1__CODE__OK && r->message[0] != '\0'
		        ? r->message
		        : "the server answered a batch with the wrong number "
		          "of replies");
		pthread_mutex_lock(&c->mu);
		if (status == CW_RESOURCE_EXHAUSTED && c->max_batch > 1)
			c->max_batch /= 2;      /* more calls than it takes */
		if (status == CW_UNIMPLEMENTED) /* it does not take them */
			c->batches = CW_BATCHES_NO;
		pthread_mutex_unlock(&c->mu);
		fail_members(b, status, &err);
		cachewire__v1__reply__free_unpacked(r, NULL);
		return;
	}
	for (size_t i = 0; i < b->nmembers; i++) {
		xfer *x = b->members[i];
		ProtobufCMessage *resp = NULL;
		cw_error e = {.code = CW_OK};
		int status =
		    cw__reply_outcome(c, x->md, r->replies[i], &resp, &e);
		finish(x, status, &e, resp);
	}
	cachewire__v1__reply__free_unpacked(r, NULL);
}

/* x is queued or in a batch: past its deadline at now, it joins the
 * expired list (held); else *next is its deadline if earlier. Under mu. */
static void sweep_one(xfer *x, nng_time now, xfer ***expired, nng_time *next)
{
	if (atomic_load(&x->finished))
		return;
	if (x->deadline <= now) {
		atomic_fetch_add(&x->holds, 1);
		**expired = x;
		*expired = &x->tick_next;
		x->tick_next = NULL;
	} else if (*next == 0 || x->deadline < *next) {
		*next = x->deadline;
	}
}

/* c->tick: end the calls whose deadline passed; sleep until the next. */
void cw__coalesce_tick(void *arg)
{
	struct cw_client *c = arg;
	xfer *expired = NULL, **tail = &expired, *x;
	nng_time now = nng_clock(), next = 0;

	pthread_mutex_lock(&c->mu);
	c->tick_armed = false;
	for (x = c->queue; x != NULL; x = x->next)
		sweep_one(x, now, &tail, &next);
	for (xfer *b = c->batches_out; b != NULL; b = b->next)
		for (size_t i = 0; i < b->nmembers; i++)
			sweep_one(b->members[i], now, &tail, &next);
	if (next != 0)
		tick_by_locked(c, next);
	pthread_mutex_unlock(&c->mu);
	while ((x = expired) != NULL) {
		cw_error err;
		expired = x->tick_next;
		cw_error_set(&err, CW_DEADLINE_EXCEEDED,
		    "no reply from %s within %d ms", c->url, x->timeout_ms);
		finish(x, CW_DEADLINE_EXCEEDED, &err, NULL);
		drop_hold(x);
	}
}

void cw__coalesce_cb(xfer *x, int rv)
{
	struct cw_client *c = x->c;
	cw_error err = {.code = CW_OK};

	/* X_BATCH: sent, then received */
	if (!x->receiving && rv == 0) {
		nng_time now = nng_clock();
		x->receiving = true;
		nng_aio_set_timeout(x->aio,
		    now >= x->deadline ? NNG_DURATION_ZERO
		                       : (nng_duration)(x->deadline - now));
		nng_ctx_recv(x->ctx, x->aio);
		return;
	}
	if (rv == 0) {
		atomic_fetch_add(&c->replies, 1);
		batch_reply(x, nng_aio_get_msg(x->aio));
	} else {
		if (!x->receiving)
			nng_msg_free(nng_aio_get_msg(x->aio)); /* still ours */
		int status =
		    rv == NNG_ECLOSED || rv == NNG_ECANCELED
		        ? cw_error_set(&err, CW_CANCELLED,
		              "the client was closed before the reply came")
		        : cw__transport_error(c, rv, x->timeout_ms, &err);
		fail_members(x, status, &err);
	}
	batch_over(x);
}

/* Send members[0..n) as one batch message; they are the batch's now. */
static void send_batch(struct cw_client *c, xfer **members, size_t n)
{
	size_t total = 0;
	nng_time deadline = 0;
	nng_msg *m = NULL;
	int rv = 0;
	xfer *b = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t len = nng_msg_len(members[i]->request);
		total += 1 + cw__varint_size(len) + len;
		if (members[i]->deadline > deadline)
			deadline = members[i]->deadline;
	}
	if ((b = cw__xfer_get(c, &rv)) == NULL ||
	    (rv = nng_msg_alloc(&m, total)) != 0) {
		cw_error err;
		cw__transport_error(c, rv, 0, &err);
		for (size_t i = 0; i < n; i++) {
			finish(members[i], err.code, &err, NULL);
			drop_hold(members[i]);
		}
		free(members);
		pthread_mutex_lock(&c->mu);
		c->sending--;
		if (b == NULL && --c->inflight == 0)
			pthread_cond_broadcast(&c->idle);
		pthread_mutex_unlock(&c->mu);
		if (b != NULL)
			cw__xfer_pool(b);
		return;
	}
	uint8_t *out = nng_msg_body(m);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = nng_msg_len(members[i]->request);
		out[off++] = REQUEST_CALLS_TAG;
		off += cw__put_varint(out + off, len);
		memcpy(out + off, nng_msg_body(members[i]->request), len);
		off += len;
	}
	b->role = X_BATCH;
	b->receiving = false;
	b->members = members;
	b->nmembers = n;
	pthread_mutex_lock(&c->mu); /* where the tick sees its calls */
	b->next = c->batches_out;
	c->batches_out = b;
	for (size_t i = 0; i < n; i++)
		tick_by_locked(c, members[i]->deadline);
	pthread_mutex_unlock(&c->mu);
	b->deadline = deadline + BATCH_SLACK_MS;
	nng_time now = nng_clock();
	b->timeout_ms = b->deadline > now ? (int)(b->deadline - now) : 1;
	nng_aio_set_timeout(b->aio, b->timeout_ms);
	nng_aio_set_msg(b->aio, m);
	nng_ctx_send(b->ctx, b->aio);
}

void cw__coalesce_flush(struct cw_client *c)
{
	for (;;) {
		xfer **members = NULL, *skipped = NULL;
		size_t n = 0, bytes = 0;

		pthread_mutex_lock(&c->mu);
		if (c->queue == NULL || c->sending >= WINDOW) {
			pthread_mutex_unlock(&c->mu);
			return;
		}
		size_t max = c->max_batch;
		if ((members = malloc(max * sizeof *members)) == NULL) {
			pthread_mutex_unlock(&c->mu);
			return; /* the queued calls end by the tick */
		}
		/* the batch's calls: in order, within the size limits */
		while (c->queue != NULL && n < max) {
			xfer *x = c->queue;
			size_t len = nng_msg_len(x->request) + 16;
			if (atomic_load(&x->finished)) { /* the tick ended it */
				c->queue = x->next;
				x->next = skipped;
				skipped = x;
				c->queued--;
				continue;
			}
			if (n > 0 && bytes + len > c->batch_bytes)
				break;
			c->queue = x->next;
			c->queued--;
			members[n++] = x;
			bytes += len;
		}
		if (c->queue == NULL)
			c->queue_tail = &c->queue;
		if (n > 0) {
			c->sending++;
			c->inflight++; /* the batch's own xfer */
		}
		pthread_mutex_unlock(&c->mu);
		while (skipped != NULL) {
			xfer *x = skipped;
			skipped = x->next;
			drop_hold(x);
		}
		if (n == 0) {
			free(members);
			continue;
		}
		send_batch(c, members, n);
	}
}

/* The Ping that asks whether the server takes batches answered. */
static void asked(
    void *arg, int status, const cw_error *err, ProtobufCMessage *resp)
{
	struct cw_client *c = arg;
	bool yes = false;
	uint64_t server_max = 0;
	(void)err;

	if (status == CW_OK && resp != NULL) {
		yes = ((Cachewire__V1__PingResponse *)resp)->batches;
		server_max =
		    ((Cachewire__V1__PingResponse *)resp)->max_message_bytes;
	}
	if (resp != NULL)
		protobuf_c_message_free_unpacked(resp, &cw__response_allocator);
	pthread_mutex_lock(&c->mu);
	if (server_max > 0 && server_max < c->batch_bytes)
		c->batch_bytes = (size_t)server_max; /* its limit is lower */
	if (status == CW_OK)
		c->batches = yes ? CW_BATCHES_YES : CW_BATCHES_NO;
	else {
		c->batches = CW_BATCHES_UNKNOWN;
		c->ask_after = nng_clock() + ASK_AGAIN_MS;
	}
	pthread_mutex_unlock(&c->mu);
}

void cw__coalesce_ask(struct cw_client *c)
{
	const ProtobufCServiceDescriptor *sd = c->service.descriptor;
	const ProtobufCMethodDescriptor *ping =
	    protobuf_c_service_descriptor_get_method_by_name(sd, "Ping");
	Cachewire__V1__PingRequest in = CACHEWIRE__V1__PING_REQUEST__INIT;
	cw_error err;

	if (ping == NULL ||
	    cw__xfer_start(c, (unsigned)(ping - sd->methods), &in.base,
	        c->timeout_ms, asked, c, &err) != CW_OK) {
		pthread_mutex_lock(&c->mu);
		c->batches = CW_BATCHES_UNKNOWN;
		c->ask_after = nng_clock() + ASK_AGAIN_MS;
		pthread_mutex_unlock(&c->mu);
	}
}
