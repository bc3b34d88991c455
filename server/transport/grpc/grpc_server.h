/*
 * grpc_server.h - the gRPC side of cachewired: real gRPC over HTTP/2, so that
 * any stock gRPC client generated from proto/ can call it. HTTP/2 (frames,
 * HPACK, flow control) is nghttp2's and TLS is OpenSSL's (ALPN "h2");
 * what gRPC adds on top is wire.h. One thread runs every connection
 * (epoll); a call is read whole, let in by the shared gate (rpc/gate.h),
 * and handed to cw_dispatch, the same dispatch the nng transport uses;
 * its answer, from whatever thread gives it, is sent by that thread.
 *
 * Mapping: :path is the method, grpc-timeout the deadline, authorization
 * "Bearer <token>" the token, cachewire-namespace the namespace; the
 * reply's code and message go out as grpc-status and grpc-message.
 */
#ifndef CW_TRANSPORT_GRPC_GRPC_SERVER_H
#define CW_TRANSPORT_GRPC_GRPC_SERVER_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include <cachewire/status.h>

#include "auth.h"
#include "dispatch.h"

#define CW_GRPC_MAX_LISTEN 16

/* One grpc.listen entry: "host:port" (h2c) or "tls://host:port". */
typedef struct cw_grpc_addr {
	char host[256]; /* "" or "*": every address */
	int port;       /* 0: any free port (tests) */
	bool tls;
} cw_grpc_addr;

/*
 * Parse grpc.listen (comma-separated entries, blanks around each
 * ignored; "" is no entry) into out[max]. CW_OK with *n set, or
 * CW_INVALID_ARGUMENT naming the bad entry.
 */
int cw_grpc_listen_parse(
    const char *list, cw_grpc_addr *out, int max, int *n, cw_error *err);

typedef struct cw_grpc_tls {
	const char *cert_file;      /* PEM certificate (chain), server first */
	const char *key_file;       /* its PEM private key, unencrypted */
	const char *client_ca_file; /* NULL or "": no client certificates;
	                               else required (mutual TLS) */
	int min_version;            /* 12 or 13 */
} cw_grpc_tls;

typedef struct cw_grpc_options {
	const char *listen;       /* grpc.listen, as cw_grpc_listen_parse */
	const cw_grpc_tls *tls;   /* needed when an entry is tls:// */
	cw_auth *auth;            /* as for cw_dispatch; may be NULL */
	struct cw_gate *gate;     /* admits calls; outlives the server */
	size_t max_message_bytes; /* larger requests: RESOURCE_EXHAUSTED */
	int default_timeout_ms;   /* for calls without grpc-timeout */
} cw_grpc_options;

typedef struct cw_grpc_server cw_grpc_server;

/*
 * Listen on every entry and serve svcs from a thread of its own; svcs
 * must outlive the server. Fails (nothing left running) with
 * CW_UNAVAILABLE naming the address that could not be listened on, or
 * CW_INVALID_ARGUMENT for a bad entry or TLS files OpenSSL cannot use.
 */
int cw_grpc_start(cw_grpc_server **out, const cw_services *svcs,
    const cw_grpc_options *o, cw_error *err);

/* The port entry i listens on (after start; useful with port 0). */
int cw_grpc_port(const cw_grpc_server *s, int i);

/* New limits for calls that start from now on (SIGHUP). */
void cw_grpc_set_limits(
    cw_grpc_server *s, size_t max_message_bytes, int default_timeout_ms);

/* The request counters (stats.h), valid until cw_grpc_stop. */
const struct cw_rpc_stats *cw_grpc_stats(const cw_grpc_server *s);

/*
 * Start stopping: close the listeners and tell every client (GOAWAY) to
 * open no more calls here. Calls in flight go on; new ones on open
 * connections are refused by the gate once it drains. NULL is a no-op.
 */
void cw_grpc_shutdown(cw_grpc_server *s);

/*
 * Wait for the calls in flight to be answered (each ends by its
 * deadline; drain the gate first to bound the wait), send the final
 * GOAWAY, close every connection and free s. NULL is a no-op.
 */
void cw_grpc_stop(cw_grpc_server *s);

#endif
