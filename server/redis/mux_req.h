/*
 * mux_req.h - what a Redis request of the mux is made of (private to
 * mux.c and mux_req.c): the bytes to send, as pieces that are either
 * copied into the request or borrowed from the caller, the replies
 * received so far, and the links that put it in a queue.
 */
#ifndef CW_CORE_MUX_REQ_H
#define CW_CORE_MUX_REQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mux.h"

#define COPY_MAX        255 /* arguments up to this size are copied */
#define INLINE_BUF      512
#define INLINE_SEGS     16
#define INLINE_REPLIES  4
#define CONNECT_RETRIES 1 /* resends of a request whose connection broke */

/* Where command i of a request starts (segs[seg]) and its hash slot. */
typedef struct cmd_info {
	int seg;
	int slot; /* CW_SLOT_NONE when not set */
} cmd_info;

/* A piece of the request's bytes: in r->buf at off (p NULL) or at p. */
typedef struct seg {
	const uint8_t *p;
	size_t off;
	size_t len;
	bool owned; /* p was malloc'd by us (a detached copy) */
} seg;

struct cw_mux_req {
	cw_mux_req *prev, *next; /* in the queue or a connection's FIFO */
	cw_mux_req *dnext;       /* in the done list */
	atomic_int refs;         /* where it lives + a pending callback */
	int status;              /* for the callback */
	cw_error err;
	cw_mux_done done;
	void *arg;
	uint64_t deadline; /* monotonic ms; 0 until submitted if none */
	int timeout_ms;    /* as given, for messages */
	int ncmds;
	int pending_args; /* arguments still to add to the current command */
	bool oom;         /* building failed: fail on submit */
	bool finished;    /* the callback has run */
	bool handshake;   /* the connection's own AUTH/SELECT */
	int retries;
	/* replies received so far */
	int nreplies;
	redisReply **replies;
	redisReply *ireplies[INLINE_REPLIES];
	int rcap; /* of replies and of cmds */
	cmd_info *cmds;
	cmd_info icmds[INLINE_REPLIES];
	bool seal; /* the next copied bytes start a new seg (a command) */
	/* bytes to send */
	uint8_t *buf;
	size_t blen, bcap;
	seg *segs;
	int nsegs, scap;
	/* write progress: segs[wseg] from woff */
	int wseg;
	size_t woff;
	uint8_t ibuf[INLINE_BUF];
	seg isegs[INLINE_SEGS];
};

typedef struct list {
	cw_mux_req *head, *tail;
} list;

static inline void list_push(list *l, cw_mux_req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
}

static inline void list_unlink(list *l, cw_mux_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
}

/* Move all of src before dst's head, keeping src's order. */
static inline void list_prepend_all(list *dst, list *src)
{
	if (src->head == NULL)
		return;
	src->tail->next = dst->head;
	if (dst->head != NULL)
		dst->head->prev = src->tail;
	else
		dst->tail = src->tail;
	dst->head = src->head;
	src->head = src->tail = NULL;
}

/* Free the replies received so far. */
void cw__req_free_replies(cw_mux_req *r);

/* Copy what r borrowed and has not sent yet, so its caller may free it;
 * false when out of memory. */
bool cw__req_detach(cw_mux_req *r);

/* Forget partial progress so r can be sent again from the start. */
void cw__req_rewind(cw_mux_req *r);

/*
 * Append command i of src to dst (same bytes; what src borrowed, dst
 * borrows too), with its slot. dst->oom says whether it worked.
 */
void cw__req_copy_cmd(cw_mux_req *dst, const cw_mux_req *src, int i);

/* Has any byte of r been written? */
static inline bool cw__req_started(const cw_mux_req *r)
{
	return r->wseg > 0 || r->woff > 0;
}

#endif
