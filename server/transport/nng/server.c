/*
 * server.c - rep0 socket, listeners and contexts (server.h).
 *
 * Each context is a small state machine run by its aio's callback:
 *   RECEIVING --request--> cw_dispatch() ... sink done --> SENDING
 *   RECEIVING --batch--> cw_batch_serve() ... batch done --> SENDING
 *   SENDING --sent (or failed)--> RECEIVING
 * The callback never blocks; dispatch answers when the cache core does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "batch.h"
#include "dispatch.h"
#include "envelope.h"
#include "gate.h"
#include "log.h"
#include "server.h"
#include "stats.h"

/* After parking the contexts, time for the last replies to leave. */
#define QUIESCE_FLUSH_MS 20

/* A certificate chain or key file larger than this is refused. */
#define PEM_MAX (1 << 20)

enum state { RECEIVING, DISPATCHING, SENDING };

typedef struct context {
	cw_reply_sink sink; /* first: the sink callbacks cast back */
	struct cw_server *server;
	nng_ctx ctx;
	nng_aio *aio;
	enum state state;
	nng_msg *reply;
	uint64_t started_ns; /* when the request arrived (CLOCK_MONOTONIC) */
	bool admitted;       /* let in by the gate: leave it when done */
	cw_call call;
} context;

/* Contexts come in blocks: one at start, one more each time
 * cw_server_set_limits raises max_in_flight. They never move. */
typedef struct block {
	struct block *next;
	int n;
	context c[];
} block;

struct cw_server {
	nng_socket sock;
	cw_services svcs;
	cw_auth *auth;
	cw_gate *gate;
	cw_rpc_stats *stats;
	atomic_uint_fast64_t batches, batched_calls; /* batch envelopes */
	atomic_int default_timeout_ms;
	block *blocks;
	int ncontexts; /* in all blocks; changes under mu */
	pthread_mutex_t mu;
	pthread_cond_t idle; /* signalled when a dispatch ends or a context
	                        parks */
	int dispatching;     /* contexts between request and reply */
	bool stopping;       /* refusing new requests */
	bool running;        /* the contexts were started */
	bool closing;        /* contexts park instead of receiving */
	int parked;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void receive(context *c)
{
	c->state = RECEIVING;
	nng_ctx_recv(c->ctx, c->aio);
}

/* Take the next request, or park the context once the server is closing. */
static void next(context *c)
{
	cw_server *s = c->server;

	pthread_mutex_lock(&s->mu);
	bool closing = s->closing;
	if (closing && ++s->parked == s->ncontexts)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
	if (!closing)
		receive(c);
}

/* Dispatch has the answer: pack it as a cachewire.v1.Reply message. */
static void sink_reply(cw_reply_sink *sink, int code, const char *message,
    const ProtobufCMessage *response)
{
	context *c = (context *)sink;
	size_t payload_len;
	size_t len =
	    cw_envelope_reply_size(code, message, response, &payload_len);
	int rv = nng_msg_alloc(&c->reply, len);

	if (rv != 0) {
		cw_log(CW_LOG_ERROR, "cannot build a %zu-byte reply: %s", len,
		    nng_strerror(rv));
		c->reply = NULL;
		return;
	}
	cw_envelope_reply_pack(
	    code, message, response, payload_len, nng_msg_body(c->reply));
}

static void dispatch_ended(cw_server *s)
{
	pthread_mutex_lock(&s->mu);
	if (--s->dispatching == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
}

/* Dispatch handed over the reply: send it (from whatever thread this is). */
static void sink_done(cw_reply_sink *sink, int code, const cw_error *outcome)
{
	context *c = (context *)sink;
	cw_server *s = c->server;

	/* Bugs are errors; a client's mistakes and Redis outages are not
	 * worth a line per request at the default level. */
	if (code == CW_INTERNAL || code == CW_UNKNOWN)
		cw_log(CW_LOG_ERROR, "%s: %s", cw_strerror(code),
		    outcome->message);
	else if (code != CW_OK)
		cw_log(CW_LOG_DEBUG, "%s: %s", cw_strerror(code),
		    outcome->message);
	cw_rpc_stats_record(
	    s->stats, c->call.method_index, code, now_ns() - c->started_ns);
	if (c->reply != NULL)
		cw_rpc_stats_bytes(s->stats, 0, nng_msg_len(c->reply));
	if (c->admitted)
		cw_gate_leave(s->gate);
	dispatch_ended(s);
	if (c->reply == NULL) {
		next(c); /* nothing to send: the caller times out */
		return;
	}
	c->state = SENDING;
	nng_aio_set_msg(c->aio, c->reply);
	c->reply = NULL;
	nng_ctx_send(c->ctx, c->aio);
}

/* A batch is answered: send its Reply (from whatever thread this is). */
static void batch_done(void *arg, uint8_t *reply, size_t len)
{
	context *c = arg;
	cw_server *s = c->server;
	nng_msg *m = NULL;

	if (reply != NULL && nng_msg_alloc(&m, len) == 0)
		memcpy(nng_msg_body(m), reply, len);
	else
		cw_log(
		    CW_LOG_ERROR, "cannot build a %zu-byte batch reply", len);
	free(reply);
	if (m != NULL)
		cw_rpc_stats_bytes(s->stats, 0, len);
	dispatch_ended(s);
	if (m == NULL) {
		next(c); /* nothing to send: the caller times out */
		return;
	}
	c->state = SENDING;
	nng_aio_set_msg(c->aio, m);
	nng_ctx_send(c->ctx, c->aio);
}

/* Serve the batch of ncalls calls in req (dispatching, not stopping). */
static void serve_batch(context *c, nng_msg *req, size_t ncalls)
{
	cw_server *s = c->server;
	int in, max;

	cw_gate_load(s->gate, &in, &max);
	if (ncalls > (size_t)max) {
		char msg[128];
		snprintf(msg, sizeof msg,
		    "a batch of %zu calls is more than server.max_in_flight "
		    "(%d)",
		    ncalls, max);
		cw_dispatch_refuse(
		    &c->call, &c->sink, CW_RESOURCE_EXHAUSTED, msg);
		return;
	}
	atomic_fetch_add_explicit(&s->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &s->batched_calls, ncalls, memory_order_relaxed);
	cw_batch_ctx ctx = {
	    .svcs = &s->svcs,
	    .auth = s->auth,
	    .gate = s->gate,
	    .stats = s->stats,
	    .default_timeout_ms = atomic_load(&s->default_timeout_ms),
	};
	cw_batch_serve(
	    &ctx, nng_msg_body(req), nng_msg_len(req), ncalls, batch_done, c);
}

static void on_aio(void *arg)
{
	context *c = arg;
	cw_server *s = c->server;
	int rv = nng_aio_result(c->aio);

	if (c->state == SENDING) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(c->aio)); /* still ours */
		if (rv == NNG_ECLOSED)
			return;
		next(c);
		return;
	}
	if (rv == NNG_ECLOSED)
		return;
	if (rv != 0) {
		if (rv != NNG_ECANCELED) /* closing cancels receives */
			cw_log(CW_LOG_WARN, "receive failed: %s",
			    nng_strerror(rv));
		next(c);
		return;
	}
	nng_msg *req = nng_aio_get_msg(c->aio);
	c->started_ns = now_ns();
	cw_rpc_stats_bytes(s->stats, nng_msg_len(req), 0);
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		/* Too late to answer: the caller learns when we close. */
		pthread_mutex_unlock(&s->mu);
		nng_msg_free(req);
		next(c);
		return;
	}
	bool stopping = s->stopping;
	s->dispatching++;
	pthread_mutex_unlock(&s->mu);
	c->state = DISPATCHING;
	cw_error refused;
	cw_request one;
	size_t ncalls = 0;
	bool decoded = cw_envelope_decode(
	    nng_msg_body(req), nng_msg_len(req), &one, &ncalls);
	c->admitted = false;
	if (stopping) {
		/* Nothing new once stopping, but the caller hears so now. */
		cw_dispatch_refuse(&c->call, &c->sink, CW_UNAVAILABLE,
		    "the server is stopping");
	} else if (decoded && ncalls > 0) {
		serve_batch(c, req, ncalls);
	} else if (cw_gate_enter(s->gate, &refused) != CW_OK) {
		/* Past the cap, or stopping: say so at once, never queue. */
		cw_dispatch_refuse(
		    &c->call, &c->sink, refused.code, refused.message);
	} else {
		c->admitted = true;
		if (decoded) /* decoded once: dispatch it as it is */
			cw_dispatch(&s->svcs, s->auth, &one,
			    atomic_load(&s->default_timeout_ms), &c->call,
			    &c->sink);
		else /* refused there, with the envelope's error */
			cw_envelope_dispatch(&s->svcs, s->auth,
			    nng_msg_body(req), nng_msg_len(req),
			    atomic_load(&s->default_timeout_ms), &c->call,
			    &c->sink);
	}
	nng_msg_free(req); /* dispatch keeps what it needs */
}

/* Wipe and free n bytes at p (a private key, say). NULL is a no-op. */
static void free_secret(char *p, size_t n)
{
	if (p == NULL)
		return;
	volatile char *v = p;
	while (n-- > 0)
		*v++ = 0;
	free(p);
}

/* The whole of a PEM file, NUL-terminated (nng wants a string); NULL with
 * the reason in err. Free with free_secret(). */
static char *read_pem(const char *what, const char *path, cw_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL) {
		cw_error_set(err, CW_INVALID_ARGUMENT,
		    "%s \"%s\": cannot read: %s", what, path, strerror(errno));
		return NULL;
	}
	do {
		if (n + 4096 + 1 > cap) {
			char *more =
			    cap > PEM_MAX ? NULL : realloc(buf, cap + 8192);
			if (more == NULL) {
				cw_error_set(err, CW_INVALID_ARGUMENT,
				    "%s \"%s\": too large or out of memory",
				    what, path);
				free_secret(buf, cap);
				fclose(f);
				return NULL;
			}
			buf = more;
			cap += 8192;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	bool failed = ferror(f) != 0;
	fclose(f);
	if (failed) {
		cw_error_set(err, CW_INVALID_ARGUMENT, "%s \"%s\": cannot read",
		    what, path);
		free_secret(buf, cap);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The listeners' TLS configuration; NULL with the reason in err. */
static nng_tls_config *tls_config(const cw_server_tls *t, cw_error *err)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL;
	int rv;

	if ((cert = read_pem("tls.cert_file", t->cert_file, err)) == NULL ||
	    (key = read_pem("tls.key_file", t->key_file, err)) == NULL)
		goto fail;
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		cw_error_set(err, CW_INTERNAL, "TLS: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls.cert_file \"%s\" and tls.key_file \"%s\" are not a "
		    "PEM certificate and its unencrypted private key: %s",
		    t->cert_file, t->key_file, nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_version(cfg,
	         t->min_version == 0 ? NNG_TLS_1_2 : t->min_version,
	         NNG_TLS_1_3)) != 0) {
		cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls.min_version: not supported by nng's TLS library "
		    "here (%s): %s",
		    nng_tls_engine_description(), nng_strerror(rv));
		goto fail;
	}
	if (t->client_ca_file != NULL && t->client_ca_file[0] != '\0') {
		if ((rv = nng_tls_config_ca_file(cfg, t->client_ca_file)) !=
		        0 ||
		    (rv = nng_tls_config_auth_mode(
		         cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
			cw_error_set(err, CW_INVALID_ARGUMENT,
			    "tls.client_ca_file \"%s\": not usable as PEM CA "
			    "certificates: %s",
			    t->client_ca_file, nng_strerror(rv));
			goto fail;
		}
	}
	free_secret(cert, strlen(cert));
	free_secret(key, strlen(key));
	return cfg;
fail:
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	if (cert != NULL)
		free_secret(cert, strlen(cert));
	if (key != NULL)
		free_secret(key, strlen(key));
	return NULL;
}

static bool is_tls_url(const char *url)
{
	return strncmp(url, "tls+", 4) == 0;
}

static int listen_all(cw_server *s, const cw_server_options *o, cw_error *err)
{
	nng_tls_config *tls = NULL;

	for (int i = 0; i < o->listen_count; i++) {
		if (is_tls_url(o->listen[i]) && tls == NULL) {
			if (o->tls == NULL || o->tls->cert_file == NULL)
				return cw_error_set(err, CW_INVALID_ARGUMENT,
				    "cannot listen on %s: it needs "
				    "tls.cert_file and tls.key_file",
				    o->listen[i]);
			if ((tls = tls_config(o->tls, err)) == NULL)
				return err->code;
		}
	}
	int rc = CW_OK;
	for (int i = 0; i < o->listen_count && rc == CW_OK; i++) {
		nng_listener l;
		int rv = nng_listener_create(&l, s->sock, o->listen[i]);
		if (rv == 0 && is_tls_url(o->listen[i]))
			rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
		if (rv == 0)
			rv = nng_listener_start(l, 0);
		if (rv != 0)
			rc = cw_error_set(err,
			    rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
			        ? CW_INVALID_ARGUMENT
			        : CW_UNAVAILABLE,
			    "cannot listen on %s: %s", o->listen[i],
			    nng_strerror(rv));
		else if (is_tls_url(o->listen[i]))
			cw_log(CW_LOG_INFO, "listening on %s (TLS%s)",
			    o->listen[i],
			    o->tls->client_ca_file != NULL &&
			            o->tls->client_ca_file[0] != '\0'
			        ? ", client certificates required"
			        : "");
		else
			cw_log(CW_LOG_INFO, "listening on %s", o->listen[i]);
	}
	if (tls != NULL)
		nng_tls_config_free(tls); /* the listeners hold it */
	return rc;
}

/* Free a block's contexts (their aios wait for their callbacks). */
static void free_block(block *b)
{
	for (int i = 0; i < b->n; i++) {
		if (b->c[i].aio != NULL)
			nng_aio_free(b->c[i].aio);
		if (nng_ctx_id(b->c[i].ctx) > 0)
			nng_ctx_close(b->c[i].ctx);
	}
	free(b);
}

/* n more contexts, receiving at once when the server runs. All or none. */
static int add_contexts(cw_server *s, int n, cw_error *err)
{
	block *b = calloc(1, sizeof *b + (size_t)n * sizeof b->c[0]);
	int rv;

	if (b == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	b->n = n;
	for (int i = 0; i < n; i++) {
		context *c = &b->c[i];
		c->server = s;
		c->sink.reply = sink_reply;
		c->sink.done = sink_done;
		if ((rv = nng_ctx_open(&c->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&c->aio, on_aio, c)) != 0) {
			free_block(b);
			return cw_error_set(err, CW_INTERNAL,
			    "cannot set up a context: %s", nng_strerror(rv));
		}
	}
	pthread_mutex_lock(&s->mu);
	b->next = s->blocks;
	s->blocks = b;
	s->ncontexts += n;
	bool running = s->running && !s->closing;
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; running && i < n; i++)
		receive(&b->c[i]);
	return CW_OK;
}

int cw_server_start(cw_server **out, const cw_services *svcs,
    const cw_server_options *o, cw_error *err)
{
	cw_server *s = calloc(1, sizeof *s);
	int rv;

	if (s == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	s->svcs = *svcs;
	s->auth = o->auth;
	s->gate = o->gate;
	atomic_init(&s->default_timeout_ms, o->default_timeout_ms);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for drain */
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return cw_error_set(err, CW_INTERNAL, "cannot open socket: %s",
		    nng_strerror(rv));
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, o->max_message_bytes);

	/* As many contexts again as the cap, to refuse the excess at once
	 * (beyond that, requests wait in the transport). */
	if ((s->stats = cw_rpc_stats_new(cw_services_methods(svcs))) == NULL) {
		cw_server_stop(s);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	if ((rv = add_contexts(s, 2 * o->max_in_flight, err)) != CW_OK ||
	    (rv = listen_all(s, o, err)) != CW_OK) {
		cw_server_stop(s);
		return rv;
	}
	s->running = true;
	for (block *b = s->blocks; b != NULL; b = b->next)
		for (int i = 0; i < b->n; i++)
			receive(&b->c[i]);
	*out = s;
	return CW_OK;
}

int cw_server_set_limits(cw_server *s, int max_in_flight,
    size_t max_message_bytes, int default_timeout_ms, cw_error *err)
{
	int rv;

	if (max_in_flight < 1 || default_timeout_ms < 1)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "max_in_flight and default_timeout_ms must be >= 1");
	pthread_mutex_lock(&s->mu);
	int more = 2 * max_in_flight - s->ncontexts;
	pthread_mutex_unlock(&s->mu);
	/* Raising the cap needs contexts for it (and as many again to
	 * refuse the excess); lowering keeps them all, refusing more. */
	if (more > 0 && (rv = add_contexts(s, more, err)) != CW_OK)
		return rv;
	if ((rv = nng_socket_set_size(
	         s->sock, NNG_OPT_RECVMAXSZ, max_message_bytes)) != 0)
		return cw_error_set(err, CW_INTERNAL,
		    "cannot set the message size limit: %s", nng_strerror(rv));
	atomic_store(&s->default_timeout_ms, default_timeout_ms);
	return CW_OK;
}

const cw_rpc_stats *cw_server_stats(const cw_server *s)
{
	return s->stats;
}

void cw_server_batches(cw_server *s, uint64_t *batches, uint64_t *calls)
{
	*batches = atomic_load_explicit(&s->batches, memory_order_relaxed);
	*calls = atomic_load_explicit(&s->batched_calls, memory_order_relaxed);
}

/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on s->idle. */
static struct timespec in_ms(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Wait up to ms for every context to park; true when they all have. */
static bool wait_parked(cw_server *s, int ms)
{
	struct timespec until = in_ms(ms);

	pthread_mutex_lock(&s->mu);
	while (s->parked < s->ncontexts &&
	       pthread_cond_timedwait(&s->idle, &s->mu, &until) == 0)
		;
	bool all = s->parked == s->ncontexts;
	pthread_mutex_unlock(&s->mu);
	return all;
}

/*
 * Before nng_close(): park every context (cancelling the receives) and let
 * the last replies leave. nng 1.5.2 can hang for good tearing down a
 * connection whose send is under way (an aio stopped in its "prepared"
 * state, upstream #1813; nng_close() then waits forever), and clients
 * that keep sending while we stop keep replies under way. Parked contexts
 * answer nothing more; a request that arrives now gets no reply, and its
 * caller learns of the stop when the connection closes. Bounded: a
 * context that re-armed its receive just after a cancel is cancelled
 * again, up to 10 times 100 ms.
 */
static void quiesce(cw_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_mutex_unlock(&s->mu);
	for (int round = 0; round < 10; round++) {
		for (block *b = s->blocks; b != NULL; b = b->next)
			for (int i = 0; i < b->n; i++)
				nng_aio_cancel(b->c[i].aio);
		if (wait_parked(s, 100))
			break;
	}
	nng_msleep(QUIESCE_FLUSH_MS); /* replies handed to nng, on the wire */
}

void cw_server_stop(cw_server *s)
{
	if (s == NULL)
		return;
	/* No new work (requests arriving now are answered UNAVAILABLE);
	 * the ones being dispatched are answered before the socket closes. */
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	while (s->dispatching > 0)
		pthread_cond_wait(&s->idle, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->running)
		quiesce(s);
	nng_close(s->sock);
	while (s->blocks != NULL) {
		block *b = s->blocks;
		s->blocks = b->next;
		for (int i = 0; i < b->n; i++)
			nng_aio_free(b->c[i].aio); /* waits for it */
		free(b);
	}
	cw_rpc_stats_free(s->stats);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
