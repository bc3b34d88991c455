/*
 * server.h - the nng side of cachewired: one rep0 socket listening on one
 * or more URLs, and 2 x max_in_flight nng contexts, each serving one
 * request at a time, driven by nng's aio callbacks (no thread per
 * request). A context receives a request, starts cw_dispatch() on it, and
 * sends the reply when dispatch hands it over (often from the cache core's
 * I/O thread). With max_in_flight requests already being served, a new
 * one is answered RESOURCE_EXHAUSTED at once instead of queueing.
 */
#ifndef CW_TRANSPORT_NNG_SERVER_H
#define CW_TRANSPORT_NNG_SERVER_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include <cachewire/status.h>

#include "auth.h"

/* For tls+tcp:// listeners. */
typedef struct cw_server_tls {
	const char *cert_file;      /* PEM certificate (chain), server first */
	const char *key_file;       /* its PEM private key, unencrypted */
	const char *client_ca_file; /* NULL or "": no client certificates;
	                               else clients must present one signed
	                               by a CA in this PEM file (mutual TLS) */
	int min_version;            /* NNG_TLS_1_2 (0 too) or NNG_TLS_1_3 */
} cw_server_tls;

typedef struct cw_server_options {
	char *const *listen; /* nng URLs: tcp://, ipc://, tls+tcp://, ... */
	int listen_count;
	const cw_server_tls *tls; /* needed when a URL is tls+tcp:// */
	cw_auth *auth;     /* NULL: no authentication; else checked on every
	                      request (cw_dispatch) and must outlive the server */
	int max_in_flight; /* requests served at once, >= 1; up to as many
	                      more are answered RESOURCE_EXHAUSTED at once */
	size_t max_message_bytes; /* larger requests are dropped by nng */
	int default_timeout_ms;   /* for requests that name none */
} cw_server_options;

typedef struct cw_server cw_server;

/*
 * Listen on every URL and start serving; svc must outlive the server.
 * Fails (nothing left running) with CW_UNAVAILABLE naming the URL that
 * could not be listened on, or CW_INVALID_ARGUMENT for a bad URL or TLS
 * files nng cannot use (named in the message).
 */
int cw_server_start(cw_server **out, ProtobufCService *svc,
    const cw_server_options *opts, cw_error *err);

/*
 * Change limits while serving (SIGHUP): the cap on requests served at
 * once (raising it adds contexts; lowering it refuses more at once), the
 * transport's message size limit, and the timeout of requests that name
 * none. Requests in flight keep what they started with. On error
 * (CW_INTERNAL: no memory for more contexts) nothing changed but maybe
 * some contexts were added.
 */
int cw_server_set_limits(cw_server *s, int max_in_flight,
    size_t max_message_bytes, int default_timeout_ms, cw_error *err);

/* Requests being served now, and the cap (for metrics). */
void cw_server_load(cw_server *s, int *in_flight, int *max_in_flight);

/* The request counters (stats.h), valid until cw_server_stop. */
const struct cw_rpc_stats *cw_server_stats(const cw_server *s);

/*
 * Stop taking work (a request arriving from now on is answered
 * UNAVAILABLE "the server is stopping") and wait up to timeout_ms for the
 * requests in flight to be answered. Returns how many are still in flight
 * (0 when all were answered). NULL returns 0.
 */
int cw_server_drain(cw_server *s, int timeout_ms);

/*
 * cw_server_drain without a time limit (each request in flight ends by its
 * deadline), then close and free s. NULL is a no-op.
 */
void cw_server_stop(cw_server *s);

#endif
