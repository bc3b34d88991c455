/*
 * server.h - the nng side of cachewired: one rep0 socket listening on one
 * or more URLs, and 2 x max_in_flight nng contexts, each serving one
 * request at a time, driven by nng's aio callbacks (no thread per
 * request). A context receives a request, starts cw_dispatch() on it, and
 * sends the reply when dispatch hands it over (often from the cache core's
 * I/O thread). The gate (rpc/gate.h, shared with the other transports)
 * decides what is let in: past server.max_in_flight a request is answered
 * RESOURCE_EXHAUSTED at once instead of queueing, and once the gate is
 * draining, UNAVAILABLE.
 */
#ifndef CW_TRANSPORT_NNG_SERVER_H
#define CW_TRANSPORT_NNG_SERVER_H

#include <stddef.h>
#include <stdint.h>

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
	cw_auth *auth;        /* NULL: no authentication; else checked on every
	                         request (cw_dispatch) and must outlive the server */
	struct cw_gate *gate; /* admits requests; must outlive the server */
	int max_in_flight;    /* the gate's cap, >= 1: contexts for that many
	                         requests, and as many more to refuse at once */
	size_t max_message_bytes; /* larger requests are dropped by nng */
	int default_timeout_ms;   /* for requests that name none */
} cw_server_options;

typedef struct cw_server cw_server;

/*
 * Listen on every URL and start serving; svcs' services must outlive the
 * server.
 * Fails (nothing left running) with CW_UNAVAILABLE naming the URL that
 * could not be listened on, or CW_INVALID_ARGUMENT for a bad URL or TLS
 * files nng cannot use (named in the message).
 */
int cw_server_start(cw_server **out, const cw_services *svcs,
    const cw_server_options *opts, cw_error *err);

/*
 * Change limits while serving (SIGHUP): the gate's cap (raising it adds
 * contexts; the caller sets the gate's own cap), the
 * transport's message size limit, and the timeout of requests that name
 * none. Requests in flight keep what they started with. On error
 * (CW_INTERNAL: no memory for more contexts) nothing changed but maybe
 * some contexts were added.
 */
int cw_server_set_limits(cw_server *s, int max_in_flight,
    size_t max_message_bytes, int default_timeout_ms, cw_error *err);

/* Batch envelopes served, and the calls they carried (every call counts
 * in the request counters as well). */
void cw_server_batches(cw_server *s, uint64_t *batches, uint64_t *calls);

/* The request counters (stats.h), valid until cw_server_stop. */
const struct cw_rpc_stats *cw_server_stats(const cw_server *s);

/*
 * Refuse new requests (UNAVAILABLE "the server is stopping"), wait for
 * the ones in flight (each ends by its deadline; drain the gate first to
 * bound the wait), then close and free s. NULL is a no-op.
 */
void cw_server_stop(cw_server *s);

#endif
