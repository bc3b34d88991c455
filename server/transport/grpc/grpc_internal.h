/*
 * grpc_internal.h - what the gRPC transport's files share. Private to
 * server/transport/grpc/.
 *
 *   server.c  the loop thread (epoll), listeners, the queue of answered
 *             calls, start and stop
 *   conn.c    one connection: TLS handshake, reads and writes, its
 *             nghttp2 session and the calls (streams) on it
 *   tls.c     the OpenSSL context: certificate, client CAs, ALPN h2
 *   listen.c  grpc.listen entries
 *   wire.c    gRPC's framing, without I/O (wire.h)
 *
 * Everything here runs on the loop thread, except the sink callbacks of a
 * call (conn.c), which hand the answer over through the server's done
 * queue (under mu) and wake the loop.
 */
#ifndef CW_TRANSPORT_GRPC_INTERNAL_H
#define CW_TRANSPORT_GRPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "dispatch.h"
#include "grpc_server.h"
#include "wire.h"

#define MAX_CONNS     4096  /* more are closed at once */
#define SETUP_MS      10000 /* to finish TLS and the HTTP/2 preface */
#define STOP_FLUSH_MS 1000  /* for the last frames to leave at stop */
#define MAX_STREAMS   256   /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define STREAM_WINDOW (1 << 20)
#define CONN_WINDOW   (4 << 20)
#define FIELD_MAX     4096 /* a token or namespace longer is refused */

enum { EP_LISTENER, EP_CONN, EP_WAKE }; /* what an epoll event is for */

typedef struct gstream gstream;
typedef struct gconn gconn;

/* One call: a stream of a connection, from its HEADERS to its answer. */
struct gstream {
	cw_reply_sink sink; /* first: the sink callbacks cast back */
	cw_grpc_server *srv;
	gconn *conn;          /* NULL once the connection is gone (loop only) */
	gstream *prev, *next; /* on conn's list */
	gstream *done_next;   /* on the server's done queue */
	int32_t id;
	enum { S_READING, S_DISPATCHED, S_ANSWERING } state;
	bool admitted;      /* the gate let it in: leave when done */
	bool remote_closed; /* the client's END_STREAM came */
	uint64_t started_ns;
	cw_error bad; /* the first problem with its headers */
	/* headers */
	char path[160];
	size_t path_len; /* as sent; > sizeof path - 1 is too long */
	uint64_t timeout_ms;
	uint8_t *token; /* malloc'd, wiped when freed */
	size_t token_len;
	char ns[CW_NAMESPACE_MAX + 1];
	size_t ns_len;
	char encoding[32]; /* grpc-encoding, "" when absent */
	cw_grpc_body body;
	/* the answer, filled by the sink */
	int code;
	char *message; /* grpc-message, percent-encoded; NULL on OK */
	uint8_t *out;  /* prefixed response message, on OK */
	size_t out_len, out_sent;
	cw_call call;
};

struct gconn {
	int kind; /* EP_CONN: first, for epoll's data */
	cw_grpc_server *srv;
	gconn *prev, *next; /* on the server's list */
	int fd;
	SSL *ssl;             /* NULL: h2c */
	bool handshaking;     /* TLS not set up yet */
	bool ready;           /* the client's preface and SETTINGS came */
	bool out_armed;       /* EPOLLOUT is asked for */
	gconn *answered_next; /* answer_done's list of connections to write */
	bool answered;        /* on that list */
	nghttp2_session *h2;  /* NULL until TLS is done */
	gstream *streams;
	uint8_t *wbuf; /* bytes nghttp2 gave that the socket did not take */
	size_t wlen, woff, wcap;
	uint64_t opened_ms;
	char peer[64];
};

typedef struct listener {
	int kind; /* EP_LISTENER */
	int fd;
	bool tls;
	int port;
} listener;

struct cw_grpc_server {
	cw_services svcs;
	cw_auth *auth;
	struct cw_gate *gate;
	struct cw_rpc_stats *stats;
	atomic_size_t max_message_bytes;
	atomic_int default_timeout_ms;
	SSL_CTX *ssl;
	nghttp2_session_callbacks *cbs;
	int epfd;
	int wakefd;    /* eventfd: answers queued, or stop asked */
	int wake_kind; /* EP_WAKE, for epoll's data */
	pthread_t thread;
	bool started;
	listener listeners[CW_GRPC_MAX_LISTEN];
	int nlisteners;
	/* loop thread only */
	gconn *conns;
	int nconns;
	bool shut; /* listeners closed, GOAWAY notices sent */
	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t idle; /* the last call in flight was answered */
	gstream *done_head, **done_tail;
	int in_flight;      /* calls dispatched, not yet done */
	bool want_shutdown; /* cw_grpc_shutdown asked */
	bool want_stop;     /* cw_grpc_stop asked */
};

/* conn.c */
nghttp2_session_callbacks *cw__grpc_callbacks_new(void);
gconn *cw__grpc_conn_new(cw_grpc_server *s, int fd, bool tls);
void cw__grpc_conn_free(gconn *c);
/* Read what the socket has; false: the connection is over (freed). */
bool cw__grpc_conn_on_event(gconn *c, uint32_t events);
/* Write what nghttp2 has; false: the connection is over (freed). */
bool cw__grpc_conn_flush(gconn *c);
/* Send the answered call's response (loop thread). */
void cw__grpc_answer(gstream *st);
void cw__grpc_stream_free(gstream *st);
/* GOAWAY: the notice (no new calls), or the last one. */
void cw__grpc_conn_goaway(gconn *c, bool last);

/* server.c: wake the loop (answers queued, or stop asked). */
void cw__grpc_wake(cw_grpc_server *s);
/* server.c: epoll interest in c's socket (EPOLLOUT when out is set). */
void cw__grpc_watch(gconn *c, bool out);
uint64_t cw__grpc_now_ms(void);

/* tls.c: the server's TLS context, NULL with the reason in err. */
SSL_CTX *cw__grpc_tls_context(const cw_grpc_tls *t, cw_error *err);

#endif
