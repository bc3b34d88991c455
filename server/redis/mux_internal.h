/*
 * mux_internal.h - the state of a mux (mux.c: routing, deadlines, the
 * I/O thread; mux_conn.c: one connection's life and its reads and
 * writes). Everything here is guarded by cw_mux.mu.
 */
#ifndef CW_CORE_MUX_INTERNAL_H
#define CW_CORE_MUX_INTERNAL_H

#include <pthread.h>

#include "mux_req.h"

#define READ_CHUNK     ((size_t)256 * 1024)
#define READ_BUDGET    ((size_t)4 * 1024 * 1024) /* per wakeup, per conn */
#define MAX_IOV        256
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 500

enum conn_state { C_DOWN, C_CONNECTING, C_HANDSHAKE, C_READY };

typedef struct conn {
	int fd;
	enum conn_state st;
	redisReader *reader;
	list fifo;            /* sent, being sent, or to be sent, in order */
	cw_mux_req *wcur;     /* first request not wholly written; NULL: none */
	uint64_t deadline;    /* connect + handshake must end by then */
	uint64_t progress_at; /* last reply, or when waiting for one began */
	bool want_out;        /* the socket was full: poll for POLLOUT */
	bool relogin;         /* a NOAUTH reply: reconnect after this batch */
} conn;

struct cw_mux {
	pthread_t thread;
	bool joined; /* cw_mux_stop has joined the thread */
	int efd;
	int tfd;
	pthread_mutex_t mu;
	/* under mu from here */
	bool stopping;
	bool repoll;      /* the mux thread must rebuild its poll set */
	bool corkable;    /* cw_mux_options.corkable */
	uint64_t armed;   /* when the timerfd fires; UINT64_MAX: never */
	cw_mux_req *done; /* callbacks to run once mu is released */
	cw_mux_req **done_tail;
	list queue;
	conn *conns;
	int nconns;
	int rr;
	cw_redis_target target;
	bool no_target; /* sentinel mode, no master known: last_err says why */
	struct cw_sentinel *sentinel; /* NULL in standalone mode */
	bool had_master;       /* sentinel mode: a master was known once */
	uint64_t master_moves; /* masters Sentinel named after the first */
	char desc[192];
	int connect_timeout_ms;
	int command_timeout_ms;
	int backoff_ms;
	uint64_t next_attempt;
	cw_error last_err;   /* why the last connection attempt failed */
	uint64_t errors;     /* connections that failed or broke (metrics) */
	uint64_t reconnects; /* connections made to replace broken ones */
	uint64_t owed;       /* broken connections not replaced yet */
	unsigned seed;
	uint8_t *rbuf;
};

/* mux.c */
void cw__req_unref(cw_mux_req *r);
/* r is over: its callback runs (once) when the mutex is released. */
void cw__finish(cw_mux *m, cw_mux_req *r, int status, const cw_error *err);
/* Put queued requests on connections, or fail them when none can come. */
void cw__route(cw_mux *m);
/* mux_deadline.c: end what is past its deadline (connects, requests,
 * stalled connections) and return the next deadline (monotonic ms); have
 * the timerfd fire by t. Under mu. */
uint64_t cw__tick(cw_mux *m);
void cw__arm(cw_mux *m, uint64_t t);
/* The master may have moved (a connection refused or lost, -READONLY):
 * tell Sentinel, if there is one. */
void cw__suspect(cw_mux *m);

/* mux_conn.c */
void cw__conn_close(conn *c);
/*
 * Close c and settle its requests: finished ones are freed; with resend,
 * the others go back to the front of the queue (a request that had been
 * sent uses up one of its resends); the rest end with status/err.
 */
void cw__conn_fail(
    cw_mux *m, conn *c, bool resend, int status, const cw_error *err);
/* A connection attempt failed: remember why, back off, fail c. */
void cw__connect_failed(cw_mux *m, conn *c, const cw_error *err);
/* The connect finished (or failed): log in, or be ready. */
void cw__conn_connected(cw_mux *m, conn *c);
/* Start a non-blocking connect on c. */
void cw__conn_start(cw_mux *m, conn *c);
/* Write what c has to send, until done or the socket is full. */
void cw__conn_write(cw_mux *m, conn *c);
/* Read what Redis sent on c and hand the replies out. */
void cw__conn_read(cw_mux *m, conn *c);

#endif
