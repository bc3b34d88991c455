/* server.c - rep0 socket, listeners and worker threads (server.h). */
#include <pthread.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "dispatch.h"
#include "log.h"
#include "server.h"

typedef struct worker {
	struct cw_server *server;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool started;
} worker;

struct cw_server {
	nng_socket sock;
	ProtobufCService *svc;
	int default_timeout_ms;
	int nworkers;
	worker *workers;
};

/* A ProtobufCBuffer that appends to an nng message, so replies are packed
 * straight into the message nng will send. */
typedef struct msg_buffer {
	ProtobufCBuffer base;
	nng_msg *msg;
	int rv;
} msg_buffer;

static void msg_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	msg_buffer *mb = (msg_buffer *)b;
	if (mb->rv == 0)
		mb->rv = nng_msg_append(mb->msg, data, len);
}

/* Handle one request; returns the reply to send, or NULL (out of memory). */
static nng_msg *handle(cw_server *s, nng_msg *req)
{
	msg_buffer out = {.base = {.append = msg_append}};
	if (nng_msg_alloc(&out.msg, 0) != 0)
		return NULL;
	cw_error outcome;
	int code = cw_dispatch(s->svc, nng_msg_body(req), nng_msg_len(req),
	    s->default_timeout_ms, &out.base, &outcome);
	if (out.rv != 0) {
		cw_log(CW_LOG_ERROR, "cannot build a reply: %s",
		    nng_strerror(out.rv));
		nng_msg_free(out.msg);
		return NULL;
	}
	/* Bugs are errors; a client's mistakes and Redis outages are not
	 * worth a line per request at the default level. */
	if (code == CW_INTERNAL || code == CW_UNKNOWN)
		cw_log(
		    CW_LOG_ERROR, "%s: %s", cw_strerror(code), outcome.message);
	else if (code != CW_OK)
		cw_log(
		    CW_LOG_DEBUG, "%s: %s", cw_strerror(code), outcome.message);
	return out.msg;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		int rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED)
			break;
		if (rv != 0) {
			cw_log(CW_LOG_WARN, "receive failed: %s",
			    nng_strerror(rv));
			continue;
		}
		nng_msg *req = nng_aio_get_msg(w->aio);
		nng_msg *rep = handle(w->server, req);
		nng_msg_free(req);
		if (rep == NULL)
			continue; /* the caller times out; we keep serving */
		nng_aio_set_msg(w->aio, rep);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv != 0) {
			nng_msg_free(rep); /* not sent: still ours */
			if (rv == NNG_ECLOSED)
				break;
		}
	}
	return NULL;
}

static int listen_all(cw_server *s, const cw_server_options *o, cw_error *err)
{
	for (int i = 0; i < o->listen_count; i++) {
		int rv = nng_listen(s->sock, o->listen[i], NULL, 0);
		if (rv != 0)
			return cw_error_set(err,
			    rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
			        ? CW_INVALID_ARGUMENT
			        : CW_UNAVAILABLE,
			    "cannot listen on %s: %s", o->listen[i],
			    nng_strerror(rv));
		cw_log(CW_LOG_INFO, "listening on %s", o->listen[i]);
	}
	return CW_OK;
}

int cw_server_start(cw_server **out, ProtobufCService *svc,
    const cw_server_options *o, cw_error *err)
{
	cw_server *s = calloc(1, sizeof *s);
	if (s == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	s->svc = svc;
	s->default_timeout_ms = o->default_timeout_ms;

	int rv = nng_rep0_open(&s->sock);
	if (rv != 0) {
		free(s);
		return cw_error_set(err, CW_INTERNAL, "cannot open socket: %s",
		    nng_strerror(rv));
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, o->max_message_bytes);

	s->workers = calloc((size_t)o->workers, sizeof *s->workers);
	if (s->workers == NULL) {
		cw_server_stop(s);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	for (int i = 0; i < o->workers; i++) {
		worker *w = &s->workers[i];
		w->server = s;
		if ((rv = nng_ctx_open(&w->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0) {
			cw_server_stop(s);
			return cw_error_set(err, CW_INTERNAL,
			    "cannot set up worker: %s", nng_strerror(rv));
		}
		s->nworkers = i + 1;
	}

	rv = listen_all(s, o, err);
	if (rv != CW_OK) {
		cw_server_stop(s);
		return rv;
	}
	for (int i = 0; i < s->nworkers; i++) {
		worker *w = &s->workers[i];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			cw_server_stop(s);
			return cw_error_set(
			    err, CW_INTERNAL, "cannot start worker thread");
		}
		w->started = true;
	}
	*out = s;
	return CW_OK;
}

void cw_server_stop(cw_server *s)
{
	if (s == NULL)
		return;
	/* Closing the socket fails every pending receive with NNG_ECLOSED. */
	nng_close(s->sock);
	for (int i = 0; i < s->nworkers; i++) {
		worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->aio != NULL)
			nng_aio_free(w->aio);
	}
	free(s->workers);
	free(s);
}
