/*
 * mux_conn.c - one pipelined Redis connection of a mux (mux_internal.h):
 * connect (non-blocking), log in (AUTH, SELECT), write requests with
 * sendmsg() from the pieces they are made of, read and match replies in
 * FIFO order, and settle the requests of a connection that broke.
 * Everything runs with the mux's mutex held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mux_internal.h"

void cw__conn_close(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	c->st = C_DOWN;
	c->wcur = NULL;
	c->relogin = false;
}

/*
 * Close c and settle its requests: finished ones are freed; with resend,
 * the others go back to the front of the queue (a request that had been
 * sent uses up one of its resends); the rest end with status/err.
 */
void cw__conn_fail(
    cw_mux *m, conn *c, bool resend, int status, const cw_error *err)
{
	list again = {NULL, NULL};
	cw_mux_req *r;

	if (!m->stopping) {
		m->errors++;
		m->owed += c->st == C_READY;
	}
	cw__conn_close(c);
	while ((r = c->fifo.head) != NULL) {
		list_unlink(&c->fifo, r);
		if (r->handshake || r->finished) {
			cw__req_unref(r);
			continue;
		}
		if (resend && (!cw__req_started(r) || r->retries-- > 0)) {
			cw__req_rewind(r);
			list_push(&again, r);
			continue;
		}
		cw__finish(m, r, status, err);
		cw__req_unref(r);
	}
	list_prepend_all(&m->queue, &again);
	m->repoll = true;
}

void cw__connect_failed(cw_mux *m, conn *c, const cw_error *err)
{
	unsigned jitter;

	if (!m->no_target)
		cw__suspect(m);
	m->last_err = *err;
	m->backoff_ms = m->backoff_ms == 0 ? BACKOFF_MIN_MS
	                : m->backoff_ms * 2 > BACKOFF_MAX_MS
	                    ? BACKOFF_MAX_MS
	                    : m->backoff_ms * 2;
	/* +-20%, so that many servers do not retry in step */
	jitter = (unsigned)m->backoff_ms * 2 / 5 + 1;
	m->next_attempt = cw_mono_ms() + (uint64_t)m->backoff_ms -
	                  (uint64_t)m->backoff_ms / 5 +
	                  (uint64_t)(rand_r(&m->seed) % jitter);
	cw__conn_fail(m, c, false, err->code, err);
}

static void login_cmds(cw_mux *m, cw_mux_req *r)
{
	const cw_redis_target *t = &m->target;

	if (t->password != NULL) {
		cw_mux_req_cmd(r, t->user != NULL ? 3 : 2);
		cw_mux_req_arg(r, "AUTH", 4);
		if (t->user != NULL)
			cw_mux_req_arg(r, t->user, strlen(t->user));
		cw_mux_req_arg(r, t->password, strlen(t->password));
	}
	if (t->db != 0) {
		cw_mux_req_cmd(r, 2);
		cw_mux_req_arg(r, "SELECT", 6);
		cw_mux_req_arg_u64(r, (uint64_t)t->db);
	}
}

static void conn_ready(cw_mux *m, conn *c)
{
	c->st = C_READY;
	if (m->owed > 0) { /* it replaces one that broke */
		m->owed--;
		m->reconnects++;
	}
	m->backoff_ms = 0;
	m->next_attempt = 0;
}

/* The connect finished (or failed): log in, or be ready. */
void cw__conn_connected(cw_mux *m, conn *c)
{
	const cw_redis_target *t = &m->target;
	int soerr = 0, one = 1;
	socklen_t sl = sizeof soerr;
	cw_error e;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0) {
		cw_error_set(&e, CW_UNAVAILABLE, "cannot connect to %s: %s",
		    m->desc, strerror(soerr));
		cw__connect_failed(m, c, &e);
		return;
	}
	if (t->unix_path == NULL) {
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	}
	if (t->password == NULL && t->db == 0) {
		conn_ready(m, c);
		return;
	}
	cw_mux_req *r = cw_mux_req_new(0, NULL, NULL);
	if (r != NULL)
		login_cmds(m, r);
	if (r == NULL || r->oom) {
		cw_mux_req_free(r);
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__connect_failed(m, c, &e);
		return;
	}
	r->handshake = true;
	list_push(&c->fifo, r);
	c->wcur = r;
	c->st = C_HANDSHAKE;
}

void cw__conn_start(cw_mux *m, conn *c)
{
	const cw_redis_target *t = &m->target;
	redisContext *ctx;
	cw_error e;

	if (m->no_target) { /* Sentinel has named no master yet */
		e = m->last_err;
		cw__connect_failed(m, c, &e);
		return;
	}
	ctx = t->unix_path != NULL ? redisConnectUnixNonBlock(t->unix_path)
	                           : redisConnectNonBlock(t->host, t->port);
	if (ctx == NULL || ctx->err) {
		cw_error_set(&e, ctx == NULL ? CW_INTERNAL : CW_UNAVAILABLE,
		    "cannot connect to %s: %s", m->desc,
		    ctx == NULL ? "out of memory" : ctx->errstr);
		if (ctx != NULL)
			redisFree(ctx);
		cw__connect_failed(m, c, &e);
		return;
	}
	c->fd = redisFreeKeepFd(ctx);
	fcntl(c->fd, F_SETFD, FD_CLOEXEC);
	c->reader = redisReaderCreate();
	if (c->reader == NULL) {
		cw_error_set(&e, CW_INTERNAL, "out of memory");
		cw__connect_failed(m, c, &e);
		return;
	}
	c->st = C_CONNECTING;
	c->deadline = cw_mono_ms() + (uint64_t)m->connect_timeout_ms;
	m->repoll = true;
}

void cw__conn_write(cw_mux *m, conn *c)
{
	c->want_out = false;
	while (c->wcur != NULL) {
		struct iovec iov[MAX_IOV];
		int n = 0;
		cw_mux_req *r;
		ssize_t w;

		for (r = c->wcur; r != NULL && n < MAX_IOV; r = r->next) {
			int i = r == c->wcur ? r->wseg : 0;
			size_t off = r == c->wcur ? r->woff : 0;
			for (; i < r->nsegs && n < MAX_IOV; i++, off = 0) {
				const seg *s = &r->segs[i];
				const uint8_t *base =
				    s->p != NULL ? s->p : r->buf + s->off;
				iov[n].iov_base = (void *)(base + off);
				iov[n].iov_len = s->len - off;
				n++;
			}
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->want_out = true;
				m->repoll = true; /* poll for POLLOUT */
				return;
			}
			cw_error e;
			cw_error_set(&e, CW_UNAVAILABLE,
			    "lost connection to %s: %s", m->desc,
			    strerror(errno));
			cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
			return;
		}
		/* Advance the write position over w bytes. */
		size_t left = (size_t)w;
		while (c->wcur != NULL) {
			r = c->wcur;
			while (r->wseg < r->nsegs) {
				size_t avail = r->segs[r->wseg].len - r->woff;
				if (left < avail) {
					r->woff += left;
					c->want_out = true; /* it is full */
					m->repoll = true;
					return;
				}
				left -= avail;
				r->wseg++;
				r->woff = 0;
			}
			c->wcur = r->next;
			if (left == 0 && (n < MAX_IOV || c->wcur == NULL))
				break;
		}
	}
}

/* Hand one reply to the request at the head of c's FIFO. */
static bool deliver(cw_mux *m, conn *c, redisReply *reply)
{
	cw_mux_req *r = c->fifo.head;

	if (r == NULL || !cw__req_started(r)) {
		freeReplyObject(reply);
		return false; /* a reply to nothing we sent */
	}
	r->replies[r->nreplies++] = reply;
	if (reply->type == REDIS_REPLY_ERROR && reply->len >= 6 &&
	    memcmp(reply->str, "NOAUTH", 6) == 0)
		c->relogin = true;
	if (reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
	    memcmp(reply->str, "READONLY", 8) == 0)
		cw__suspect(m); /* a replica now: a failover */
	if (r->nreplies < r->ncmds)
		return true;
	list_unlink(&c->fifo, r);
	if (r->handshake) {
		for (int i = 0; i < r->nreplies; i++) {
			redisReply *x = r->replies[i];
			if (x->type == REDIS_REPLY_ERROR) {
				cw_error e;
				cw_error_set(&e, CW_UNAVAILABLE,
				    "%s on %s failed: %.*s",
				    m->target.password != NULL && i == 0
				        ? "AUTH"
				        : "SELECT",
				    m->desc, (int)x->len, x->str);
				cw_mux_req_free(r);
				cw__connect_failed(m, c, &e);
				return false;
			}
		}
		cw_mux_req_free(r);
		conn_ready(m, c);
		return true;
	}
	cw__finish(m, r, CW_OK, NULL);
	cw__req_unref(r);
	return true;
}

void cw__conn_read(cw_mux *m, conn *c)
{
	size_t budget = READ_BUDGET;
	cw_error e;

	for (;;) {
		ssize_t n = read(c->fd, m->rbuf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			cw_error_set(&e, CW_UNAVAILABLE,
			    "lost connection to %s: %s", m->desc,
			    n == 0 ? "Redis closed the connection"
			           : strerror(errno));
			if (c->st == C_HANDSHAKE) {
				cw__connect_failed(m, c, &e);
			} else {
				cw__suspect(m);
				cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
			}
			return;
		}
		if (redisReaderFeed(c->reader, (const char *)m->rbuf,
		        (size_t)n) != REDIS_OK)
			break;
		c->progress_at = cw_mono_ms();
		if ((size_t)n < READ_CHUNK || budget <= (size_t)n)
			break;
		budget -= (size_t)n;
	}
	for (;;) {
		void *reply = NULL;
		if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
			cw_error_set(&e, CW_UNAVAILABLE,
			    "lost connection to %s: bad reply: %s", m->desc,
			    c->reader->errstr);
			cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
			return;
		}
		if (reply == NULL)
			break;
		enum conn_state before = c->st;
		if (!deliver(m, c, reply)) {
			if (c->st != C_DOWN) {
				cw_error_set(&e, CW_UNAVAILABLE,
				    "lost connection to %s: a reply to no "
				    "request",
				    m->desc);
				cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
			}
			return;
		}
		if (before == C_HANDSHAKE && c->st == C_READY)
			cw__route(m); /* queued requests may go now */
	}
	if (c->relogin && c->fifo.head == NULL) {
		cw_error_set(&e, CW_UNAVAILABLE, "redis: NOAUTH");
		cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
	}
}
