/*
 * client.c - libcachewire's transport: the nng REQ socket (open, close)
 * and the ProtobufCService whose invoke (exchange.c) does one round trip
 * per call; the response allocator and the private closure.
 *
 * A call is an exchange: an nng context and an aio (kept in a free list
 * and reused, so any number of threads may call at once) driven by the
 * aio's callback:
 *
 *   input message ──pack──► cachewire.v1.Request {method, payload,
 *   timeout_ms} ──nng_ctx_send──► ... ──nng_ctx_recv──► cachewire.v1.Reply
 *   {code, message, payload} ──unpack payload──► the exchange's done
 *
 * Blocking calls wait for done on a condition variable; asynchronous ones
 * get their closure run from done, on an nng thread.
 *
 * Error mapping (exchange.c; details go to the call's cw_error when the caller
 * is one of the cw_* calls; a foreign closure just gets NULL):
 *   - Reply.code != OK: that code, the server's message
 *   - timeout, no connection up: CW_UNAVAILABLE, "cannot connect to URL:
 *     <why>" when a test connection found out why (diag.c),
 *     else "no connection to URL ..."
 *   - timeout, connected: CW_DEADLINE_EXCEEDED ("no reply from URL ...")
 *   - connection broke mid-call: CW_UNAVAILABLE (the request is not resent)
 *   - client closed mid-call: CW_CANCELLED
 *   - NNG_ENOMEM: CW_INTERNAL
 *   - any other nng error: CW_UNAVAILABLE with nng_strerror()
 *   - undecodable reply: CW_INTERNAL
 *   - request too large: CW_RESOURCE_EXHAUSTED, nothing is sent
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "cachewire/v1/cache.pb-c.h"

#include "client_internal.h"

#define DEFAULT_TIMEOUT_MS 5000
/* Room for the reply envelope around a value of max_message_bytes. */
#define RECV_SLACK_BYTES ((size_t)64 * 1024)
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000
#define CLOSE_GRACE_MS   100
#define CLOSE_WAIT_MS    2000
#define REDIAL_AFTER_MS  1000
#define PROBE_MS         1000

/* ---- response allocator ---------------------------------------------------
 */

static void *response_alloc(void *data, size_t size)
{
	(void)data;
	if (size == SIZE_MAX)
		return NULL;
	return malloc(size + 1);
}

static void response_free(void *data, void *p)
{
	(void)data;
	free(p);
}

ProtobufCAllocator cw__response_allocator = {
    .alloc = response_alloc,
    .free = response_free,
    .allocator_data = NULL,
};

/* ---- the private closure ------------------------------------------------- */

void cw__call_init(struct cw_call *call, int timeout_ms, cw_error *err)
{
	memset(call, 0, sizeof *call);
	call->timeout_ms = timeout_ms;
	call->err = err;
	call->status = CW_INTERNAL;
	call->response = NULL;
}

void cw__call_done(const ProtobufCMessage *msg, void *closure_data)
{
	struct cw_call *call = closure_data;

	/* invoke hands ownership of msg to us: it does not free it. */
	call->response = (ProtobufCMessage *)msg;
}

void cw__call_release(struct cw_call *call)
{
	if (call->response != NULL) {
		protobuf_c_message_free_unpacked(
		    call->response, &cw__response_allocator);
		call->response = NULL;
	}
}

/* The service belongs to its client: destroying it is not the way to close. */
static void client_service_destroy(ProtobufCService *service)
{
	(void)service;
}

/* ---- open / close ----------------------------------------------------------
 */

/*
 * A new dialer for c's URL, with c's TLS configuration if any, connecting
 * (and reconnecting) in the background: nng_dial(NNG_FLAG_NONBLOCK) plus
 * the TLS configuration.
 */
static int start_dialer(struct cw_client *c, nng_dialer *out)
{
	nng_dialer d;
	int rv;

	if ((rv = nng_dialer_create(&d, c->sock, c->url)) != 0)
		return rv;
	if ((c->tls != NULL && (rv = nng_dialer_set_ptr(
	                            d, NNG_OPT_TLS_CONFIG, c->tls)) != 0) ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	*out = d;
	return 0;
}

/*
 * Dialer replacement. When a connection breaks, nng's dialer reconnects
 * only once the broken pipe has been torn down, and nng 1.5.2 can hang for
 * good in that teardown (an aio stopped while in its "prepared" state,
 * upstream #1813): seen here about once in 40 breaks in the middle of
 * sending a large request, and often when the server dies under load. The
 * client would then never reconnect. Worse, the teardown runs on nng's
 * one reaper thread, so from then on no broken connection of the process
 * is torn down or reported (no NNG_PIPE_EV_REM_POST).
 *
 * So the timer below is armed by a break that leaves no connection
 * (REM_POST), by a call whose request failed because its connection broke
 * (NNG_ECONNRESET, NNG_ECONNSHUT), which still comes once REM_POST no
 * longer does, and by a call that timed out, which is all a client with
 * no call in flight at the break gets. When it fires REDIAL_AFTER_MS
 * later, and since it was armed no connection was made and no reply
 * came:
 *   - with no connection up, a new dialer (TLS configuration included)
 *     takes over and the old one is closed. A working dialer easily
 *     beats REDIAL_AFTER_MS when the server is up (its first retry is
 *     within RECONNECT_MIN_MS); when the server is simply down, a
 *     working dialer is replaced: harmless.
 *   - with a connection up (as nng counts it), it may be dead or the
 *     server slow (Redis stalled, say). A probe tells: a request with no
 *     method, which a server answers (UNIMPLEMENTED) at once without
 *     touching Redis. No answer within PROBE_MS: redial as above.
 */
static void redial(struct cw_client *c)
{
	nng_dialer old = NNG_DIALER_INITIALIZER, fresh;

	pthread_mutex_lock(&c->redial_mu);
	if (!c->redial_off && start_dialer(c, &fresh) == 0) {
		old = c->dialer;
		c->dialer = fresh;
		atomic_fetch_add(&c->redials, 1);
	}
	pthread_mutex_unlock(&c->redial_mu);
	if (nng_dialer_id(old) > 0)
		nng_dialer_close(old);
}

void cw__redial_arm(struct cw_client *c)
{
	pthread_mutex_lock(&c->redial_mu);
	if (!c->redial_armed && !c->redial_off) {
		c->redial_armed = true;
		c->redial_connects = atomic_load(&c->connects);
		c->redial_replies = atomic_load(&c->replies);
		nng_sleep_aio(REDIAL_AFTER_MS, c->redial);
	}
	pthread_mutex_unlock(&c->redial_mu);
}

static void redial_cb(void *arg)
{
	struct cw_client *c = arg;
	nng_msg *m = NULL;

	pthread_mutex_lock(&c->redial_mu);
	bool act = !c->redial_off && nng_aio_result(c->redial) == 0 &&
	           atomic_load(&c->connects) == c->redial_connects &&
	           atomic_load(&c->replies) == c->redial_replies;
	bool up = atomic_load(&c->npipes) > 0;
	bool probe = act && up && !c->probing && nng_msg_alloc(&m, 0) == 0;
	if (probe) {
		c->probing = true;
		c->probe_receiving = false;
	} else if (m != NULL) {
		nng_msg_free(m);
	}
	c->redial_armed = false;
	pthread_mutex_unlock(&c->redial_mu);
	if (probe) {
		nng_aio_set_msg(c->probe, m);
		nng_aio_set_timeout(c->probe, PROBE_MS);
		nng_ctx_send(c->probe_ctx, c->probe);
	} else if (act && !up) {
		redial(c);
	}
}

static void probe_cb(void *arg)
{
	struct cw_client *c = arg;
	int rv = nng_aio_result(c->probe);
	bool dead = false;

	if (rv != 0 && !c->probe_receiving)
		nng_msg_free(nng_aio_get_msg(c->probe));
	if (rv == 0 && !c->probe_receiving) {
		c->probe_receiving = true; /* sent: now the answer */
		nng_ctx_recv(c->probe_ctx, c->probe);
		return;
	}
	if (rv == 0) {
		nng_msg_free(nng_aio_get_msg(c->probe)); /* answered: alive */
		atomic_fetch_add(&c->replies, 1);
	} else {
		dead = rv != NNG_ECLOSED && rv != NNG_ECANCELED;
	}
	pthread_mutex_lock(&c->redial_mu);
	c->probing = false;
	pthread_mutex_unlock(&c->redial_mu);
	if (dead)
		redial(c);
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct cw_client *c = arg;

	(void)p;
	/* nng reports REM_POST exactly for the pipes it reported ADD_PRE for.
	 */
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&c->npipes, 1);
	} else if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&c->connects, 1);
		pthread_mutex_lock(&c->redial_mu);
		c->diag_why[0] = '\0'; /* connecting works */
		pthread_mutex_unlock(&c->redial_mu);
	} else if (ev == NNG_PIPE_EV_REM_POST &&
	           atomic_fetch_sub(&c->npipes, 1) == 1) {
		cw__redial_arm(c);
	}
}

static int configure_socket(struct cw_client *c)
{
	size_t recv_max = c->max_message_bytes;
	int rv;

	recv_max = recv_max > SIZE_MAX - RECV_SLACK_BYTES
	               ? SIZE_MAX
	               : recv_max + RECV_SLACK_BYTES;
	if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, recv_max)) ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS)) ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS)))
		return rv;
	/*
	 * No resends: a request goes out once and waits for its reply until
	 * its deadline; if its connection breaks first, the call fails at
	 * once (NNG_ECONNRESET: CW_UNAVAILABLE) instead of running twice.
	 */
	if ((rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)))
		return rv;
	if ((rv = nng_ctx_open(&c->probe_ctx, c->sock)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, c)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c)))
		return rv;
	return 0;
}

static void client_free(struct cw_client *c)
{
	if (c->redial != NULL)
		nng_aio_free(c->redial);
	if (c->probe != NULL)
		nng_aio_free(c->probe);
	if (c->diag_timer != NULL)
		nng_aio_free(c->diag_timer); /* stops it first */
	if (c->tick != NULL)
		nng_aio_free(c->tick);
	if (c->diag != NULL)
		nng_aio_free(c->diag);
	if (c->diag_stream != NULL) {
		nng_stream_close(c->diag_stream);
		nng_stream_free(c->diag_stream);
	}
	if (c->diag_dialer != NULL)
		nng_stream_dialer_free(c->diag_dialer);
	for (int i = 0; i < 3; i++)
		if (c->diag_cfg[i] != NULL)
			nng_tls_config_free(c->diag_cfg[i]);
	if (c->tls != NULL)
		nng_tls_config_free(c->tls);
	pthread_mutex_destroy(&c->redial_mu);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->mu);
	cw__wipe_free(c->token);
	free(c->namespace_);
	free(c->tls_server_name);
	free(c->url);
	free(c);
}

int cw_open(cw_client **out, const char *url, const cw_client_options *opts,
    cw_error *err)
{
	static const ProtobufCService base = CACHEWIRE__V1__CACHE__BASE_INIT;
	static const cw_client_options defaults = {0};
	struct cw_client *c;
	int rc, rv;

	if (out == NULL || url == NULL || url[0] == '\0')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_open needs an output pointer and a URL");
	if (opts == NULL)
		opts = &defaults;
	if (strchr(url, ',') != NULL) /* several replicas */
		return cw__replicas_open(out, url, opts, err);
	if ((rc = cw__check_options(url, opts, err)) != CW_OK)
		return rc;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->url = strdup(url)) == NULL) {
		free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	if ((cw__is_set(opts->token) &&
	        (c->token = strdup(opts->token)) == NULL) ||
	    (cw__is_set(opts->namespace_) &&
	        (c->namespace_ = strdup(opts->namespace_)) == NULL)) {
		cw__wipe_free(c->token);
		free(c->url);
		free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	c->service = base;
	c->service.invoke = cw__client_invoke;
	c->service.destroy = client_service_destroy;
	c->timeout_ms =
	    opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_message_bytes = opts->max_message_bytes > 0
	                           ? opts->max_message_bytes
	                           : CW_DEFAULT_MAX_MESSAGE_BYTES;
	c->coalesce = !opts->no_coalescing;
	c->queue_tail = &c->queue;
	c->batches = CW_BATCHES_UNKNOWN;
	c->max_batch = CW__MAX_BATCH;
	c->batch_bytes = c->max_message_bytes;
	atomic_init(&c->npipes, 0);
	atomic_init(&c->connects, 0);
	atomic_init(&c->redials, 0);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->redial_mu, NULL);
	if ((rv = nng_aio_alloc(&c->redial, redial_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->probe, probe_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->diag_timer, cw__diag_timer_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->diag, cw__diag_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->tick, cw__coalesce_tick, c)) != 0) {
		client_free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	if (cw__is_tls_url(url) &&
	    (rc = cw__tls_setup(c, opts, err)) != CW_OK) {
		client_free(c);
		return rc;
	}

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		client_free(c);
		return cw_error_set(err,
		    rv == NNG_ENOMEM ? CW_INTERNAL : CW_UNAVAILABLE,
		    "cannot open an nng req0 socket: %s", nng_strerror(rv));
	}
	if ((rv = configure_socket(c)) != 0) {
		nng_close(c->sock);
		client_free(c);
		return cw_error_set(err, CW_INTERNAL,
		    "cannot configure the nng socket: %s", nng_strerror(rv));
	}
	/* Non-blocking: connect (and reconnect) in the background. */
	if ((rv = start_dialer(c, &c->dialer)) != 0) {
		nng_close(c->sock);
		client_free(c);
		return cw_error_set(err,
		    rv == NNG_ENOMEM ? CW_INTERNAL : CW_INVALID_ARGUMENT,
		    "cannot use URL '%s': %s", url, nng_strerror(rv));
	}
	/* Diagnosis (diag.c): none for transports without streams. */
	if (nng_stream_dialer_alloc(&c->diag_dialer, url) != 0)
		c->diag_dialer = NULL;
	c->diag_sp = strncasecmp(url, "tcp", 3) == 0 ||
	             strncasecmp(url, "ipc://", 6) == 0;
	cw__diag_kick(c);
	*out = c;
	return CW_OK;
}

/* Free c and its exchanges, once its socket is closed. */
static void client_destroy(struct cw_client *c)
{
	cw__xfers_free(c);
	client_free(c);
}

/*
 * nng_close() on a thread of its own, waited for at most CLOSE_WAIT_MS.
 * nng 1.5.2 can hang in nng_close() for good after the server died while
 * requests were in flight on the connection (reproduced here about once
 * in twenty such closes; it waits for the dead connection's send to stop,
 * the pattern of upstream issue #1813). Rather than hang its caller,
 * cw_close() then returns and leaves the client to that thread, which
 * frees it should nng_close() ever return. Nothing of the client is used
 * by the caller after cw_close(), so the cost is the leak.
 */
typedef struct closer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool abandoned;
	struct cw_client *c;
} closer;

static void *close_main(void *arg)
{
	closer *k = arg;

	/* Returns after the pipe callbacks that use c have finished. */
	nng_close(k->c->sock);
	pthread_mutex_lock(&k->mu);
	k->done = true;
	bool abandoned = k->abandoned;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (abandoned) {
		client_destroy(k->c);
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		free(k);
	}
	return NULL;
}

static void close_socket(struct cw_client *c)
{
	closer *k = calloc(1, sizeof *k);
	pthread_condattr_t ca;
	pthread_t t;
	struct timespec until;

	if (k == NULL) {
		nng_close(c->sock);
		client_destroy(c);
		return;
	}
	k->c = c;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, close_main, k) != 0) {
		nng_close(c->sock);
		k->done = true;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += CLOSE_WAIT_MS / 1000;
		until.tv_nsec += (long)(CLOSE_WAIT_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&k->mu);
		while (!k->done &&
		       pthread_cond_timedwait(&k->cv, &k->mu, &until) == 0)
			;
		k->abandoned = !k->done;
		pthread_mutex_unlock(&k->mu);
		if (k->abandoned) {
			pthread_detach(t);
			return; /* close_main frees everything, if ever */
		}
		pthread_join(t, NULL);
	}
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
	client_destroy(c);
}

void cw_close(cw_client *c)
{
	if (c == NULL)
		return;
	if (c->members != NULL) {
		cw__replicas_close(c);
		return;
	}
	/*
	 * nng 1.5.2 (Debian 12) leaks a dialer's objects when its socket is
	 * closed while a connection to a live server is still being set up
	 * (endpoint close became synchronous upstream only later). A client
	 * closed right after cw_open is in that window: let its first
	 * connection attempt finish, for at most CLOSE_GRACE_MS. A refused
	 * connection is not affected, so a down server costs only the wait.
	 */
	for (int i = 0; i < CLOSE_GRACE_MS && atomic_load(&c->connects) == 0;
	     i++)
		nng_msleep(1);
	/*
	 * Let the calls in flight finish first (each ends by its deadline):
	 * nng 1.5.2 can deadlock in nng_close() when it has to abort
	 * requests that are still pending (upstream issue #1813, fixed in
	 * 1.8), so the socket is closed only once none is. New calls are
	 * refused from here on.
	 */
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	while (c->inflight > 0)
		pthread_cond_wait(&c->idle, &c->mu);
	pthread_mutex_unlock(&c->mu);
	/* No call can use the token any more. */
	if (c->token != NULL)
		cw__wipe(c->token, strlen(c->token));
	pthread_mutex_lock(&c->redial_mu);
	c->redial_off = true;
	pthread_mutex_unlock(&c->redial_mu);
	nng_aio_stop(c->redial);
	nng_aio_stop(c->probe);
	pthread_mutex_lock(&c->mu);
	c->tick_stop = true; /* no call is left for it to watch */
	pthread_mutex_unlock(&c->mu);
	nng_aio_stop(c->tick);
	nng_aio_stop(c->diag_timer); /* may start diag: first */
	nng_aio_stop(c->diag);
	close_socket(c);
}

ProtobufCService *cw_client_service(cw_client *c)
{
	return c != NULL ? &c->service : NULL;
}

void cw_free(void *p)
{
	free(p);
}
