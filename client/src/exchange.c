/*
 * exchange.c - one call's trip over the nng REQ socket (see client.c for
 * the picture): the request envelope packed straight into an nng message,
 * an exchange (nng context + aio, reused from a free list) driven by its
 * aio callback, the reply decoded, and invoke, which the stubs call.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "cachewire/v1/cache.pb-c.h"
#include "cachewire/v1/rpc.pb-c.h"

#include "client_internal.h"
#include "xfer.h"

/* Request.payload is field 2, length-delimited: tag byte (2 << 3) | 2. */
#define REQUEST_PAYLOAD_TAG 0x12u

/* ---- the round trip
 * ---------------------------------------------------------- */

size_t cw__varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t cw__put_varint(uint8_t *out, size_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/*
 * Build the request envelope for input straight into a new nng message. The
 * input is packed directly into the message body, after the other envelope
 * fields (protobuf accepts fields in any order), so a large value is copied
 * once, not twice.
 */
static int build_request(const struct cw_client *c, const char *method,
    const ProtobufCMessage *input, int timeout_ms, nng_msg **out, cw_error *err)
{
	Cachewire__V1__Request env = CACHEWIRE__V1__REQUEST__INIT;
	size_t env_len, payload_len, total, off;
	uint8_t *body;
	nng_msg *m;

	env.method = (char *)method;
	env.timeout_ms = (uint32_t)timeout_ms;
	if (c->token != NULL)
		env.auth_token = c->token;
	if (c->namespace_ != NULL)
		env.namespace_ = c->namespace_;
	env_len = cachewire__v1__request__get_packed_size(&env);
	payload_len = protobuf_c_message_get_packed_size(input);
	total = env_len;
	if (payload_len > 0)
		total += 1 + cw__varint_size(payload_len) + payload_len;
	if (total > c->max_message_bytes)
		return cw_error_set(err, CW_RESOURCE_EXHAUSTED,
		    "request is %zu bytes; the transport limit is %zu", total,
		    c->max_message_bytes);
	if (nng_msg_alloc(&m, total) != 0)
		return cw_error_set(err, CW_INTERNAL,
		    "out of memory for a %zu-byte request", total);
	body = nng_msg_body(m);
	off = cachewire__v1__request__pack(&env, body);
	if (payload_len > 0) {
		body[off++] = REQUEST_PAYLOAD_TAG;
		off += cw__put_varint(body + off, payload_len);
		off += protobuf_c_message_pack(input, body + off);
	}
	if (off != total) {
		nng_msg_free(m);
		return cw_error_set(err, CW_INTERNAL,
		    "request packed to %zu bytes, expected %zu", off, total);
	}
	*out = m;
	return CW_OK;
}

int cw__transport_error(
    struct cw_client *c, int rv, int timeout_ms, cw_error *err)
{
	char why[sizeof c->diag_why];

	if (rv == NNG_ETIMEDOUT) {
		cw__redial_arm(c);
		if (atomic_load(&c->npipes) == 0) {
			/* Say why connecting fails, when a test found out. */
			bool testing;
			cw__diag_kick(c);
			if (cw__diag_reason(c, why, sizeof why, &testing))
				return cw_error_set(err, CW_UNAVAILABLE,
				    "cannot connect to %s: %s", c->url, why);
			/* A slow TLS handshake: the next call will know. */
			return cw_error_set(err, CW_UNAVAILABLE,
			    "no connection to %s within %d ms (%s)", c->url,
			    timeout_ms,
			    testing ? "a test connection is finding out why"
			            : "is the server running?");
		}
		return cw_error_set(err, CW_DEADLINE_EXCEEDED,
		    "no reply from %s within %d ms", c->url, timeout_ms);
	}
	if (rv == NNG_ECONNRESET || rv == NNG_ECONNSHUT) {
		cw__redial_arm(c);
		return cw_error_set(err, CW_UNAVAILABLE,
		    "connection to %s broke before the reply came (%s); the "
		    "request was not retried",
		    c->url, nng_strerror(rv));
	}
	if (rv == NNG_ENOMEM)
		return cw_error_set(
		    err, CW_INTERNAL, "%s: %s", c->url, nng_strerror(rv));
	return cw_error_set(
	    err, CW_UNAVAILABLE, "%s: %s", c->url, nng_strerror(rv));
}

static int reply_status(int code)
{
	return code > CW_OK && code <= CW_UNAUTHENTICATED ? code : CW_UNKNOWN;
}

int cw__reply_outcome(const struct cw_client *c,
    const ProtobufCMethodDescriptor *md, const Cachewire__V1__Reply *reply,
    ProtobufCMessage **out, cw_error *err)
{
	ProtobufCMessage *resp;
	int status;

	if (reply->code != CACHEWIRE__V1__CODE__OK) {
		status = reply_status((int)reply->code);
		if (reply->message != NULL && reply->message[0] != '\0')
			cw_error_set(err, status, "%s", reply->message);
		else
			cw_error_set(err, status, "the server answered %s",
			    cw_strerror((int)reply->code));
		return status;
	}
	resp = protobuf_c_message_unpack(md->output, &cw__response_allocator,
	    reply->payload.len, reply->payload.data);
	if (resp == NULL)
		return cw_error_set(err, CW_INTERNAL, "undecodable %s from %s",
		    md->output->name, c->url);
	*out = resp;
	return CW_OK;
}

/*
 * Decode the reply envelope (consumes m) and, when the server says OK, the
 * response message with the response allocator.
 */
static int decode_reply(const struct cw_client *c,
    const ProtobufCMethodDescriptor *md, nng_msg *m, ProtobufCMessage **out,
    cw_error *err)
{
	Cachewire__V1__Reply *reply;
	size_t len = nng_msg_len(m);

	reply = cachewire__v1__reply__unpack(NULL, len, nng_msg_body(m));
	nng_msg_free(m);
	if (reply == NULL)
		return cw_error_set(err, CW_INTERNAL,
		    "undecodable reply from %s (%zu bytes)", c->url, len);
	int status = cw__reply_outcome(c, md, reply, out, err);
	cachewire__v1__reply__free_unpacked(reply, NULL);
	return status;
}

/* ---- exchanges: one request and its reply, driven by aio callbacks ------ */

typedef cw__xfer_done xfer_done;

static void xfer_cb(void *arg);

/* A free exchange (context + aio), reused or new; NULL with *rv set. */
xfer *cw__xfer_get(struct cw_client *c, int *rv)
{
	xfer *x;

	pthread_mutex_lock(&c->mu);
	if ((x = c->free) != NULL)
		c->free = x->next;
	pthread_mutex_unlock(&c->mu);
	if (x != NULL)
		return x;
	if ((x = calloc(1, sizeof *x)) == NULL) {
		*rv = NNG_ENOMEM;
		return NULL;
	}
	x->c = c;
	if ((*rv = nng_aio_alloc(&x->aio, xfer_cb, x)) != 0) {
		free(x);
		return NULL;
	}
	if ((*rv = nng_ctx_open(&x->ctx, c->sock)) != 0) {
		nng_aio_free(x->aio);
		free(x);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	x->all_next = c->all;
	c->all = x;
	pthread_mutex_unlock(&c->mu);
	return x;
}

void cw__xfer_pool(xfer *x)
{
	struct cw_client *c = x->c;

	pthread_mutex_lock(&c->mu);
	x->next = c->free;
	c->free = x;
	if (--c->inflight == 0)
		pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->mu);
}

/* A single exchange is over: tell its owner, make x reusable, and send
 * what waited for a message to end. */
static void xfer_end(
    xfer *x, int status, const cw_error *err, ProtobufCMessage *resp)
{
	struct cw_client *c = x->c;

	x->done(x->arg, status, err, resp);
	pthread_mutex_lock(&c->mu);
	c->sending--;
	pthread_mutex_unlock(&c->mu);
	cw__xfer_pool(x);
	cw__coalesce_flush(c);
}

static void xfer_cb(void *arg)
{
	xfer *x = arg;
	struct cw_client *c = x->c;
	int rv = nng_aio_result(x->aio);
	ProtobufCMessage *resp = NULL;
	cw_error err = {.code = CW_OK};
	int status;

	if (x->role != X_SINGLE) {
		cw__coalesce_cb(x, rv);
		return;
	}
	if (!x->receiving) {
		if (rv != 0) {
			/* A failed send leaves the message with us. */
			nng_msg_free(nng_aio_get_msg(x->aio));
			goto failed;
		}
		nng_time now = nng_clock();
		x->receiving = true;
		nng_aio_set_timeout(x->aio,
		    now >= x->deadline ? NNG_DURATION_ZERO
		                       : (nng_duration)(x->deadline - now));
		nng_ctx_recv(x->ctx, x->aio);
		return;
	}
	if (rv != 0)
		goto failed;
	atomic_fetch_add(&c->replies, 1); /* the connection works */
	status = decode_reply(c, x->md, nng_aio_get_msg(x->aio), &resp, &err);
	xfer_end(x, status, &err, resp);
	return;
failed:
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		status = cw_error_set(&err, CW_CANCELLED,
		    "the client was closed before the reply came");
	else
		status = cw__transport_error(c, rv, x->timeout_ms, &err);
	xfer_end(x, status, &err, NULL);
}

int cw__xfer_start(struct cw_client *c, unsigned method_index,
    const ProtobufCMessage *input, int timeout_ms, xfer_done done, void *arg,
    cw_error *err)
{
	const ProtobufCServiceDescriptor *sd = c->service.descriptor;
	const ProtobufCMethodDescriptor *md;
	char method[128];
	nng_msg *request = NULL;
	xfer *x;
	int n, rc, rv;

	if (method_index >= sd->n_methods)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "no method %u in %s", method_index, sd->name);
	md = &sd->methods[method_index];
	if (input == NULL || input->descriptor != md->input)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "%s expects a %s",
		    md->name, md->input->name);
	n = snprintf(method, sizeof method, "/%s/%s", sd->name, md->name);
	if (n < 0 || (size_t)n >= sizeof method)
		return cw_error_set(err, CW_INTERNAL, "method name too long");
	rc = build_request(c, method, input, timeout_ms, &request, err);
	if (rc != CW_OK)
		return rc;
	if ((x = cw__xfer_get(c, &rv)) == NULL) {
		nng_msg_free(request);
		return cw__transport_error(c, rv, timeout_ms, err);
	}
	/* No connection up: find out why, should the call fail. */
	if (atomic_load(&c->npipes) == 0)
		cw__diag_kick(c);
	x->role = X_SINGLE;
	x->receiving = false;
	x->timeout_ms = timeout_ms;
	x->deadline = nng_clock() + (nng_time)timeout_ms;
	x->md = md;
	x->done = done;
	x->arg = arg;
	bool ask = false;
	pthread_mutex_lock(&c->mu);
	if (c->closing) { /* the caller broke cw_close's contract */
		x->next = c->free;
		c->free = x;
		pthread_mutex_unlock(&c->mu);
		nng_msg_free(request);
		return cw_error_set(err, CW_CANCELLED, "the client is closed");
	}
	c->inflight++;
	/* Messages in flight already: ride with the next batch. */
	if (cw__coalesce_queue_locked(c, x, request, &ask)) {
		pthread_mutex_unlock(&c->mu);
		if (ask)
			cw__coalesce_ask(c);
		return CW_OK;
	}
	c->sending++;
	nng_aio_set_timeout(x->aio, timeout_ms);
	nng_aio_set_msg(x->aio, request);
	nng_ctx_send(x->ctx, x->aio);
	pthread_mutex_unlock(&c->mu);
	if (ask)
		cw__coalesce_ask(c);
	return CW_OK;
}

/* ---- invoke: what the generated stubs call ------------------------------ */

/* A synchronous caller waiting for its exchange. */
typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	cw_error err;
	ProtobufCMessage *resp;
} waiter;

static void waiter_done(
    void *arg, int status, const cw_error *err, ProtobufCMessage *resp)
{
	waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->status = status;
	if (err != NULL)
		w->err = *err;
	w->resp = resp;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int cw__round_trip(struct cw_client *c, unsigned method_index,
    const ProtobufCMessage *input, int timeout_ms, ProtobufCMessage **resp,
    cw_error *err)
{
	waiter w = {.status = CW_INTERNAL};
	int rc;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	rc = cw__xfer_start(
	    c, method_index, input, timeout_ms, waiter_done, &w, err);
	if (rc == CW_OK) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		rc = w.status;
		if (rc == CW_OK)
			*resp = w.resp;
		else if (err != NULL)
			*err = w.err;
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

/* An async call's exchange ended: hand the outcome to its closure. */
static void async_done(
    void *arg, int status, const cw_error *err, ProtobufCMessage *resp)
{
	struct cw_call *call = arg;

	call->status = status;
	if (status != CW_OK && err != NULL)
		call->async_err = *err;
	cw__call_async_done(resp, call);
}

/*
 * ProtobufCService.invoke. Our async calls (closure cw__call_async_done)
 * return at once and are finished from an nng thread. Every other caller,
 * our own blocking calls included, waits here and gets its closure run
 * before invoke returns, as protoc-c's generated stubs expect.
 */
void cw__client_invoke(ProtobufCService *service, unsigned method_index,
    const ProtobufCMessage *input, ProtobufCClosure closure, void *closure_data)
{
	struct cw_client *c = (struct cw_client *)service;
	bool own = closure == cw__call_done || closure == cw__call_async_done;
	struct cw_call *call = own ? closure_data : NULL;
	ProtobufCMessage *resp = NULL;
	int timeout_ms = c->timeout_ms;
	int rc;

	if (c->members != NULL) {
		cw__replicas_invoke(
		    c, method_index, input, closure, closure_data);
		return;
	}
	if (call != NULL && call->timeout_ms > 0)
		timeout_ms = call->timeout_ms;
	if (closure == cw__call_async_done) {
		/* Once started, call belongs to the completion, which may
		 * already have freed it when xfer_start returns. */
		int *start_rc = call->start_rc;
		*start_rc = cw__xfer_start(c, method_index, input, timeout_ms,
		    async_done, call, call->err);
		return;
	}
	rc = cw__round_trip(c, method_index, input, timeout_ms, &resp,
	    call != NULL ? call->err : NULL);
	if (call != NULL)
		call->status = rc;
	if (closure != NULL)
		closure(resp, closure_data);
	/* Our own closure took the response over; free it for anyone else. */
	if (call == NULL && resp != NULL)
		protobuf_c_message_free_unpacked(resp, &cw__response_allocator);
}

void cw__xfers_free(struct cw_client *c)
{
	while (c->all != NULL) {
		struct xfer *x = c->all;
		c->all = x->all_next;
		nng_aio_free(x->aio);
		free(x);
	}
}
