/*
 * mux_deadline.c - the mux's timers (mux.c says the whole): request
 * deadlines, connect deadlines and stalled connections, and the timerfd
 * that wakes the mux thread for the next of them. Called under mu.
 */
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>

#include "mux_internal.h"

/*
 * End the requests of l whose deadline has passed (of c's FIFO when c is
 * not NULL) and return the earliest deadline still ahead (or `next`).
 */
static uint64_t expire(cw_mux *m, list *l, conn *c, uint64_t now, uint64_t next)
{
	cw_mux_req *r, *nx;

	for (r = l->head; r != NULL; r = nx) {
		nx = r->next;
		if (r->finished || r->handshake)
			continue;
		if (r->deadline > now) {
			if (r->deadline < next)
				next = r->deadline;
			continue;
		}
		cw_error e;
		if (r->timeout_ms > 0 && r->timeout_ms <= m->command_timeout_ms)
			cw_error_set(&e, CW_DEADLINE_EXCEEDED,
			    "call timed out after %d ms", r->timeout_ms);
		else
			cw_error_set(&e, CW_DEADLINE_EXCEEDED,
			    "Redis did not answer within %d ms",
			    m->command_timeout_ms);
		/* Not a byte of it sent (queued, or behind the write
		 * position): take it out; Redis never sees it. */
		bool unsent = c == NULL || !cw__req_started(r);
		if (unsent) {
			if (c != NULL && c->wcur == r)
				c->wcur = r->next;
			list_unlink(l, r);
			cw__finish(m, r, CW_DEADLINE_EXCEEDED, &e);
			cw__req_unref(r);
		} else if (cw__req_detach(r)) {
			cw__finish(m, r, CW_DEADLINE_EXCEEDED, &e);
		} else {
			/* Cannot copy what it borrowed: drop the connection. */
			cw__finish(m, r, CW_DEADLINE_EXCEEDED, &e);
			cw__conn_fail(m, c, true, CW_UNAVAILABLE, &e);
			return now;
		}
	}
	return next;
}

/* Timers: request deadlines, connect deadlines, stalled connections. */
uint64_t cw__tick(cw_mux *m)
{
	uint64_t now = cw_mono_ms(), next = UINT64_MAX;

	next = expire(m, &m->queue, NULL, now, next);
	for (int i = 0; i < m->nconns; i++) {
		conn *c = &m->conns[i];
		cw_error e;
		if (c->st == C_CONNECTING || c->st == C_HANDSHAKE) {
			if (now >= c->deadline) {
				cw_error_set(&e, CW_UNAVAILABLE,
				    "cannot connect to %s: no answer within "
				    "%d ms",
				    m->desc, m->connect_timeout_ms);
				cw__connect_failed(m, c, &e);
				cw__route(m);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
		}
		if (c->st == C_DOWN)
			continue;
		next = expire(m, &c->fifo, c, now, next);
		if (c->st == C_DOWN)
			continue;
		/* Sent requests and no reply for command_timeout_ms. */
		cw_mux_req *h = c->fifo.head;
		if (c->st == C_READY && h != NULL && cw__req_started(h)) {
			uint64_t stall =
			    c->progress_at + (uint64_t)m->command_timeout_ms;
			if (now >= stall) {
				cw_error_set(&e, CW_DEADLINE_EXCEEDED,
				    "Redis did not answer within %d ms",
				    m->command_timeout_ms);
				cw__conn_fail(
				    m, c, false, CW_DEADLINE_EXCEEDED, &e);
				continue;
			}
			if (stall < next)
				next = stall;
		}
	}
	if (m->queue.head != NULL && m->next_attempt > now &&
	    m->next_attempt < next)
		next = m->next_attempt;
	return next;
}

/*
 * Make sure the timerfd fires by t (monotonic ms). It is only ever moved
 * earlier: a timer left at an earlier time than needed merely wakes the
 * mux thread once for nothing, which costs less than a timerfd_settime()
 * per request.
 */
void cw__arm(cw_mux *m, uint64_t t)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (t >= m->armed)
		return;
	m->armed = t;
	its.it_value.tv_sec = (time_t)(t / 1000);
	its.it_value.tv_nsec = (long)(t % 1000) * 1000000L;
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1; /* zero would disarm */
	timerfd_settime(m->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}
