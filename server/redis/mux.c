/*
 * mux.c - pipelined Redis connections driven by one I/O thread (mux.h).
 *
 * One mutex guards all state. A submitting thread queues its request,
 * puts it on a connection and writes it to Redis itself, so a request
 * goes out without waiting for another thread to wake up. The mux thread
 * polls the connections, reads and matches replies, enforces deadlines
 * (a timerfd that submitters arm) and makes connections; an eventfd wakes
 * it when what it must poll for changes.
 *
 * Callbacks never run under the mutex: a finished request goes on the
 * `done` list, and whoever releases the mutex next runs the callbacks.
 * A request is referenced by where it lives (the queue, or one
 * connection's FIFO of requests sent or about to be, whose replies come
 * back in FIFO order) and by its pending callback; the last reference
 * frees it. A request whose callback ran early (deadline passed) but
 * which Redis has still to answer stays in its FIFO to absorb its
 * replies; before its callback runs, the arguments it borrowed are copied
 * (or it is taken out if none of it was sent), so the caller may free
 * them.
 *
 * Here: routing, the thread and the public calls. One connection's life
 * (connect, login, read, write) is in mux_conn.c, building a request in
 * mux_req.c, deadlines and the timer in mux_deadline.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mux_internal.h"
#include "sentinel.h"

void cw__req_unref(cw_mux_req *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		cw_mux_req_free(r);
}

/* r is over: its callback runs (once) when the mutex is released. */
void cw__finish(cw_mux *m, cw_mux_req *r, int status, const cw_error *err)
{
	if (r->finished)
		return;
	r->finished = true;
	if (r->done == NULL)
		return;
	r->status = status;
	if (err != NULL)
		r->err = *err;
	atomic_fetch_add(&r->refs, 1);
	r->dnext = NULL;
	*m->done_tail = r;
	m->done_tail = &r->dnext;
}

/* Release mu, then run the callbacks that were due, without it. */
static void unlock_and_run(cw_mux *m)
{
	cw_mux_req *r = m->done, *next;

	m->done = NULL;
	m->done_tail = &m->done;
	pthread_mutex_unlock(&m->mu);
	for (; r != NULL; r = next) {
		next = r->dnext;
		r->done(r->arg, r->status, r->status == CW_OK ? NULL : &r->err,
		    r->status == CW_OK ? r->replies : NULL);
		cw__req_unref(r);
	}
}

static void fail_msg(cw_mux_req *r, int status, const char *msg)
{
	cw_error e;

	cw_error_set(&e, status, "%s", msg);
	if (r->done != NULL)
		r->done(r->arg, status, &e, NULL);
}

/* ---- routing ---- */

static conn *pick_conn(cw_mux *m, bool *connecting)
{
	conn *best = NULL, *down = NULL;
	int i;

	*connecting = false;
	for (i = 0; i < m->nconns; i++) {
		conn *c = &m->conns[(m->rr + i) % m->nconns];
		if (c->st == C_READY) {
			if (best == NULL || c->fifo.head == NULL)
				best = c;
			if (c->fifo.head == NULL)
				break;
		} else if (c->st == C_DOWN) {
			if (down == NULL)
				down = c;
		} else {
			*connecting = true;
		}
	}
	m->rr = (m->rr + 1) % m->nconns;
	/* All ready ones are busy: open another while there are spares. */
	if ((best == NULL || best->fifo.head != NULL) && down != NULL &&
	    !*connecting && cw_mono_ms() >= m->next_attempt) {
		cw__conn_start(m, down);
		*connecting = down->st != C_DOWN;
	}
	return best;
}

/* Put queued requests on connections, or fail them when none can come. */
void cw__route(cw_mux *m)
{
	cw_mux_req *r;
	bool connecting;

	while ((r = m->queue.head) != NULL) {
		conn *c = pick_conn(m, &connecting);
		if (c == NULL) {
			if (connecting)
				return; /* they wait for it */
			/* No connection and none coming: fail fast. */
			while ((r = m->queue.head) != NULL) {
				list_unlink(&m->queue, r);
				cw__finish(
				    m, r, m->last_err.code, &m->last_err);
				cw__req_unref(r);
			}
			return;
		}
		list_unlink(&m->queue, r);
		if (c->fifo.head == NULL)
			c->progress_at = cw_mono_ms();
		list_push(&c->fifo, r);
		if (c->wcur == NULL)
			c->wcur = r;
	}
}

/* ---- the thread ---- */

static void wake(cw_mux *m)
{
	uint64_t one = 1;

	while (write(m->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

/* Send what the ready connections have to send. */
static void write_all(cw_mux *m)
{
	for (int i = 0; i < m->nconns; i++) {
		conn *c = &m->conns[i];
		if ((c->st == C_READY || c->st == C_HANDSHAKE) && c->wcur)
			cw__conn_write(m, c);
	}
}

/*
 * Send what waits on connections that have nothing in flight. A request
 * behind others that Redis has yet to answer waits for their replies:
 * the mux thread then sends everything that queued up meanwhile in one
 * write, so under load Redis reads many commands per read(2) instead of
 * one (automatic pipelining), at the cost of at most one Redis round trip
 * of waiting; with nothing in flight a request goes out at once.
 */
static void write_idle(cw_mux *m)
{
	for (int i = 0; i < m->nconns; i++) {
		conn *c = &m->conns[i];
		if ((c->st == C_READY || c->st == C_HANDSHAKE) && c->wcur &&
		    c->fifo.head == c->wcur && !cw__req_started(c->wcur))
			cw__conn_write(m, c);
	}
}

static void shut_down(cw_mux *m)
{
	cw_error e;
	cw_mux_req *r;

	cw_error_set(&e, CW_UNAVAILABLE, "the cache is shutting down");
	for (int i = 0; i < m->nconns; i++)
		cw__conn_fail(m, &m->conns[i], false, CW_UNAVAILABLE, &e);
	while ((r = m->queue.head) != NULL) {
		list_unlink(&m->queue, r);
		cw__finish(m, r, CW_UNAVAILABLE, &e);
		cw__req_unref(r);
	}
}

/* Poll for what the connections wait for; handle it. Called with mu. */
static void poll_once(cw_mux *m, struct pollfd *pf, int *which)
{
	uint64_t n;
	int k = 0;

	pf[k++] = (struct pollfd){.fd = m->efd, .events = POLLIN};
	pf[k++] = (struct pollfd){.fd = m->tfd, .events = POLLIN};
	for (int i = 0; i < m->nconns; i++) {
		conn *c = &m->conns[i];
		short ev = 0;
		if (c->st == C_CONNECTING)
			ev = POLLOUT;
		else if (c->st != C_DOWN)
			ev = (short)(POLLIN |
			             (c->wcur && c->want_out ? POLLOUT : 0));
		if (ev == 0)
			continue;
		which[k] = i;
		pf[k++] = (struct pollfd){.fd = c->fd, .events = ev};
	}
	m->repoll = false;
	unlock_and_run(m);
	int got = poll(pf, (nfds_t)k, -1);
	pthread_mutex_lock(&m->mu);
	if (got <= 0)
		return;
	if (pf[0].revents)
		while (read(m->efd, &n, sizeof n) > 0)
			;
	if (pf[1].revents) {
		while (read(m->tfd, &n, sizeof n) > 0)
			;
		m->armed = UINT64_MAX; /* it fired */
	}
	for (int j = 2; j < k; j++) {
		conn *c = &m->conns[which[j]];
		short re = pf[j].revents;
		/* Another thread may have closed or replaced it meanwhile. */
		if (re == 0 || c->fd != pf[j].fd || c->st == C_DOWN)
			continue;
		if (c->st == C_CONNECTING) {
			if (re & (POLLOUT | POLLERR | POLLHUP))
				cw__conn_connected(m, c);
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			cw__conn_read(m, c);
		if (c->st != C_DOWN && (re & POLLOUT))
			cw__conn_write(m, c);
	}
}

static void *mux_main(void *arg)
{
	cw_mux *m = arg;
	struct pollfd *pf = calloc((size_t)m->nconns + 2, sizeof *pf);
	int *which = calloc((size_t)m->nconns + 2, sizeof *which);

	if (pf == NULL || which == NULL)
		abort(); /* a few dozen bytes at start-up */
	pthread_setname_np(pthread_self(), "cw:redis-io"); /* for top, perf */
	pthread_mutex_lock(&m->mu);
	while (!m->stopping) {
		cw__route(m);
		write_all(m);
		cw__arm(m, cw__tick(m));
		poll_once(m, pf, which);
	}
	shut_down(m);
	unlock_and_run(m);
	free(pf);
	free(which);
	return NULL;
}

/* ---- corking (mux.h) ---- */

#define CORK_MAX 8
static _Thread_local int cork_depth;
static _Thread_local int ncorked;
static _Thread_local cw_mux *corked[CORK_MAX];

/* Under m->mu: may m's requests wait for this thread's uncork? */
static bool cork_hold(cw_mux *m)
{
	if (cork_depth == 0 || !m->corkable)
		return false;
	for (int i = 0; i < ncorked; i++)
		if (corked[i] == m)
			return true;
	if (ncorked == CORK_MAX)
		return false;
	corked[ncorked++] = m;
	return true;
}

void cw_mux_cork(void)
{
	cork_depth++;
}

void cw_mux_uncork(void)
{
	cw_mux *held[CORK_MAX];
	int n = ncorked;

	if (cork_depth == 0 || --cork_depth > 0)
		return;
	memcpy(held, corked, (size_t)n * sizeof held[0]);
	ncorked = 0; /* callbacks below may submit (uncorked) */
	for (int i = 0; i < n; i++) {
		cw_mux *m = held[i];
		pthread_mutex_lock(&m->mu);
		write_idle(m);
		bool poke = m->repoll;
		unlock_and_run(m);
		if (poke)
			wake(m);
	}
}

/* ---- public ---- */

void cw_mux_submit(cw_mux *m, cw_mux_req *r)
{
	if (r->oom || r->pending_args != 0 || r->ncmds == 0) {
		fail_msg(r, CW_INTERNAL,
		    r->oom ? "out of memory" : "malformed Redis request");
		cw_mux_req_free(r);
		return;
	}
	pthread_mutex_lock(&m->mu);
	if (m->stopping) {
		pthread_mutex_unlock(&m->mu);
		fail_msg(r, CW_UNAVAILABLE, "the cache is shutting down");
		cw_mux_req_free(r);
		return;
	}
	/* Command deadline: no request waits longer than the timeout. */
	uint64_t cmd = cw_mono_ms() + (uint64_t)m->command_timeout_ms;
	if (r->deadline == 0 || r->deadline > cmd)
		r->deadline = cmd;
	if (r->deadline < m->armed)
		cw__arm(m, r->deadline);
	list_push(&m->queue, r);
	cw__route(m);
	if (!cork_hold(m))
		write_idle(m);
	/* Still queued: waiting for a connection the mux thread makes. */
	bool poke = m->repoll || m->queue.head != NULL;
	unlock_and_run(m);
	if (poke)
		wake(m);
}

/* m->desc: the target as logs show it. */
static void describe(cw_mux *m)
{
	if (m->no_target) {
		snprintf(m->desc, sizeof m->desc, "no master found yet");
		return;
	}
	cw_redis_target_describe(&m->target, m->desc, sizeof m->desc);
}

void cw_mux_retarget(cw_mux *m, const char *host, int port, const cw_error *why)
{
	char *h = host != NULL ? strdup(host) : NULL;

	pthread_mutex_lock(&m->mu);
	if (m->stopping || (host != NULL && h == NULL)) {
		/* out of memory: keep the old master; Sentinel looks again */
		pthread_mutex_unlock(&m->mu);
		free(h);
		return;
	}
	if (h == NULL) {
		m->no_target = true;
		if (why != NULL)
			m->last_err = *why;
	} else {
		if (m->had_master)
			m->master_moves++;
		m->had_master = true;
		free(m->target.host);
		m->target.host = h;
		m->target.port = port;
		m->no_target = false;
		describe(m);
		/* What went to the old master goes once more, to this one. */
		cw_error e;
		cw_error_set(
		    &e, CW_UNAVAILABLE, "the master moved to %s", m->desc);
		for (int i = 0; i < m->nconns; i++)
			if (m->conns[i].st != C_DOWN)
				cw__conn_fail(
				    m, &m->conns[i], true, CW_UNAVAILABLE, &e);
		cw_error_set(&m->last_err, CW_UNAVAILABLE,
		    "cannot connect to %s", m->desc);
		m->backoff_ms = 0;
		m->next_attempt = 0;
		cw__route(m);
	}
	m->repoll = true;
	unlock_and_run(m);
	wake(m);
}

void cw_mux_describe(cw_mux *m, char *buf, size_t len)
{
	pthread_mutex_lock(&m->mu);
	snprintf(buf, len, "%s", m->desc);
	pthread_mutex_unlock(&m->mu);
}

void cw__suspect(cw_mux *m)
{
	if (m->sentinel != NULL && !m->stopping)
		cw_sentinel_suspect(m->sentinel);
}

/* Is t something we can connect to? (a URL parsed fine, a struct may not) */
static int check_target(const cw_redis_target *t, cw_error *err)
{
	bool tcp = t->host != NULL && *t->host != '\0';
	bool unix_ = t->unix_path != NULL && *t->unix_path != '\0';

	if (tcp == unix_)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "Redis target needs exactly one of host and unix_path");
	if (tcp && (t->port < 1 || t->port > 65535))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "bad Redis port %d (want 1..65535)", t->port);
	if (unix_ && strlen(t->unix_path) > 107)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "Redis socket path is %zu bytes; the limit is 107",
		    strlen(t->unix_path));
	if (t->db < 0 || t->db > CW_REDIS_MAX_DB)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "bad Redis database %d (want 0..%d)", t->db,
		    CW_REDIS_MAX_DB);
	if (t->password != NULL && *t->password == '\0')
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "Redis password is empty");
	return CW_OK;
}

int cw_mux_create(cw_mux **out, const cw_mux_options *o, cw_error *err)
{
	cw_mux *m;
	int rc;

	if (o == NULL || o->target == NULL || o->connections < 1 ||
	    o->connect_timeout_ms < 1 || o->command_timeout_ms < 1)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "bad Redis target, connection count or timeout");
	if (o->sentinel != NULL &&
	    (o->sentinel->nnodes < 1 || o->sentinel->master == NULL))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "Sentinel mode needs sentinels and a master name");
	if (o->sentinel != NULL && o->target->unix_path != NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "Sentinel names masters by host and port, not unix "
		    "sockets: use a redis:// URL for the credentials");
	if (o->sentinel == NULL && (rc = check_target(o->target, err)) != CW_OK)
		return rc;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	m->efd = -1;
	m->tfd = -1;
	rc = cw_redis_target_copy(&m->target, o->target, err);
	if (rc != CW_OK) {
		free(m);
		return rc;
	}
	m->no_target = o->sentinel != NULL;
	describe(m);
	m->nconns = o->connections;
	m->connect_timeout_ms = o->connect_timeout_ms;
	m->command_timeout_ms = o->command_timeout_ms;
	m->corkable = o->corkable;
	m->seed = (unsigned)cw_mono_ms() ^ (unsigned)getpid();
	if (m->no_target)
		cw_error_set(&m->last_err, CW_UNAVAILABLE,
		    "no master '%s' found by Sentinel yet",
		    o->sentinel->master);
	else
		cw_error_set(&m->last_err, CW_UNAVAILABLE,
		    "cannot connect to %s", m->desc);
	m->conns = calloc((size_t)m->nconns, sizeof *m->conns);
	m->rbuf = malloc(READ_CHUNK);
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	m->armed = UINT64_MAX;
	m->done_tail = &m->done;
	if (m->conns == NULL || m->rbuf == NULL || m->efd < 0 || m->tfd < 0) {
		rc = cw_error_set(err, CW_INTERNAL,
		    "cannot set up the Redis connections: %s",
		    m->efd < 0 || m->tfd < 0 ? strerror(errno)
		                             : "out of memory");
		goto fail;
	}
	for (int i = 0; i < m->nconns; i++)
		m->conns[i].fd = -1;
	pthread_mutex_init(&m->mu, NULL);
	if (pthread_create(&m->thread, NULL, mux_main, m) != 0) {
		pthread_mutex_destroy(&m->mu);
		rc = cw_error_set(
		    err, CW_INTERNAL, "cannot start the Redis I/O thread");
		goto fail;
	}
	if (o->sentinel != NULL) {
		struct cw_sentinel *sent;
		rc = cw_sentinel_start(&sent, o->sentinel, o->target,
		    o->connect_timeout_ms, m, err);
		if (rc != CW_OK) {
			cw_mux_destroy(m);
			return rc;
		}
		pthread_mutex_lock(&m->mu);
		m->sentinel = sent;
		pthread_mutex_unlock(&m->mu);
	}
	*out = m;
	return CW_OK;
fail:
	if (m->efd >= 0)
		close(m->efd);
	if (m->tfd >= 0)
		close(m->tfd);
	free(m->rbuf);
	free(m->conns);
	cw_redis_target_free(&m->target);
	free(m);
	return rc;
}

void cw_mux_stop(cw_mux *m)
{
	if (m == NULL || m->joined)
		return;
	/* The Sentinel thread first: it may be calling cw_mux_retarget. */
	pthread_mutex_lock(&m->mu);
	struct cw_sentinel *sent = m->sentinel;
	m->sentinel = NULL;
	pthread_mutex_unlock(&m->mu);
	cw_sentinel_stop(sent);
	pthread_mutex_lock(&m->mu);
	m->stopping = true;
	pthread_mutex_unlock(&m->mu);
	wake(m);
	pthread_join(m->thread, NULL);
	m->joined = true;
}

static uint64_t count_pending(const list *l)
{
	uint64_t n = 0;
	for (const cw_mux_req *r = l->head; r != NULL; r = r->next)
		n += !r->handshake && !r->finished;
	return n;
}

void cw_mux_stats_get(cw_mux *m, cw_mux_stats *out)
{
	pthread_mutex_lock(&m->mu);
	*out = (cw_mux_stats){
	    .pool_size = m->nconns,
	    .pending = count_pending(&m->queue),
	    .errors = m->errors,
	    .reconnects = m->reconnects,
	    .master_known = m->sentinel == NULL ? -1 : !m->no_target,
	    .master_moves = m->master_moves,
	};
	for (int i = 0; i < m->nconns; i++) {
		out->connections_up += m->conns[i].st == C_READY;
		out->pending += count_pending(&m->conns[i].fifo);
	}
	pthread_mutex_unlock(&m->mu);
}

void cw_mux_destroy(cw_mux *m)
{
	if (m == NULL)
		return;
	cw_mux_stop(m);
	close(m->efd);
	close(m->tfd);
	free(m->rbuf);
	free(m->conns);
	cw_redis_target_free(&m->target);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
