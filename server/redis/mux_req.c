/*
 * mux_req.c - building a mux request (see mux.h): Redis commands in the
 * RESP protocol, written as pieces that writev() sends as they are. Small
 * arguments are copied into the request, large ones borrowed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mux_req.h"

uint64_t cw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

cw_mux_req *cw_mux_req_new(int timeout_ms, cw_mux_done done, void *arg)
{
	cw_mux_req *r = malloc(sizeof *r);

	if (r == NULL)
		return NULL;
	memset(r, 0, offsetof(cw_mux_req, ibuf));
	r->done = done;
	r->arg = arg;
	r->timeout_ms = timeout_ms;
	if (timeout_ms > 0)
		r->deadline = cw_mono_ms() + (uint64_t)timeout_ms;
	r->retries = CONNECT_RETRIES;
	atomic_init(&r->refs, 1);
	r->replies = r->ireplies;
	r->rcap = INLINE_REPLIES;
	r->cmds = r->icmds;
	r->buf = r->ibuf;
	r->bcap = INLINE_BUF;
	r->segs = r->isegs;
	r->scap = INLINE_SEGS;
	return r;
}

void cw__req_free_replies(cw_mux_req *r)
{
	for (int i = 0; i < r->nreplies; i++)
		freeReplyObject(r->replies[i]);
	r->nreplies = 0;
}

void cw_mux_req_free(cw_mux_req *r)
{
	if (r == NULL)
		return;
	cw__req_free_replies(r);
	for (int i = 0; i < r->nsegs; i++)
		if (r->segs[i].owned)
			free((void *)r->segs[i].p);
	if (r->replies != r->ireplies)
		free(r->replies);
	if (r->cmds != r->icmds)
		free(r->cmds);
	if (r->buf != r->ibuf)
		free(r->buf);
	if (r->segs != r->isegs)
		free(r->segs);
	free(r);
}

static bool grow(void **p, void *inline_, size_t *cap, size_t need, size_t sz)
{
	size_t n = *cap;
	void *q;

	while (n < need)
		n *= 2;
	if (*p == inline_) {
		if ((q = malloc(n * sz)) != NULL)
			memcpy(q, *p, *cap * sz);
	} else {
		q = realloc(*p, n * sz);
	}
	if (q == NULL)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static seg *add_seg(cw_mux_req *r)
{
	if (r->nsegs == r->scap) {
		size_t cap = (size_t)r->scap;
		void *p = r->segs;
		if (!grow(&p, r->isegs, &cap, cap + 1, sizeof(seg))) {
			r->oom = true;
			return NULL;
		}
		r->segs = p;
		r->scap = (int)cap;
	}
	return &r->segs[r->nsegs++];
}

static void put_copy(cw_mux_req *r, const void *p, size_t len)
{
	seg *last = r->nsegs > 0 ? &r->segs[r->nsegs - 1] : NULL;

	if (r->oom || len == 0)
		return;
	if (r->blen + len > r->bcap) {
		void *b = r->buf;
		if (!grow(&b, r->ibuf, &r->bcap, r->blen + len, 1)) {
			r->oom = true;
			return;
		}
		r->buf = b;
	}
	memcpy(r->buf + r->blen, p, len);
	if (last != NULL && last->p == NULL &&
	    last->off + last->len == r->blen && !r->seal)
		last->len += len;
	else {
		seg *s = add_seg(r);
		if (s == NULL)
			return;
		*s = (seg){.off = r->blen, .len = len};
	}
	r->seal = false;
	r->blen += len;
}

static void put_ref(cw_mux_req *r, const void *p, size_t len)
{
	seg *s;

	if (len <= COPY_MAX) {
		put_copy(r, p, len);
		return;
	}
	if (r->oom || (s = add_seg(r)) == NULL)
		return;
	*s = (seg){.p = p, .len = len};
}

/* Room for one more command, which starts at the next seg. */
static bool add_cmd(cw_mux_req *r, int slot)
{
	if (r->ncmds == r->rcap) {
		size_t cap = (size_t)r->rcap, ccap = cap;
		void *p = r->replies, *q = r->cmds;
		if (!grow(
		        &p, r->ireplies, &cap, cap + 1, sizeof(redisReply *))) {
			r->oom = true;
			return false;
		}
		r->replies = p;
		if (!grow(&q, r->icmds, &ccap, cap, sizeof(cmd_info))) {
			r->oom = true;
			return false;
		}
		r->cmds = q;
		r->rcap = (int)cap;
	}
	r->cmds[r->ncmds++] = (cmd_info){.seg = r->nsegs, .slot = slot};
	r->seal = true;
	return true;
}

/* RESP's "<c><v>\r\n" at h (32 bytes); its length. Not snprintf: three
 * of these per command, on every call's path. */
static size_t resp_head(char *h, char c, uint64_t v)
{
	char d[20];
	size_t k = 0, n = 0;

	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	h[n++] = c;
	while (k > 0)
		h[n++] = d[--k];
	h[n++] = '\r';
	h[n++] = '\n';
	return n;
}

void cw_mux_req_cmd(cw_mux_req *r, int argc)
{
	char h[32];
	size_t n = resp_head(h, '*', argc > 0 ? (uint64_t)argc : 0);

	if (r->pending_args != 0)
		r->oom =
		    true; /* a misuse; fail the request rather than Redis */
	r->pending_args = argc;
	if (add_cmd(r, CW_SLOT_NONE))
		put_copy(r, h, n);
}

void cw_mux_req_slot(cw_mux_req *r, int slot)
{
	if (r->ncmds > 0)
		r->cmds[r->ncmds - 1].slot = slot;
}

int cw_mux_req_ncmds(const cw_mux_req *r)
{
	return r->ncmds;
}

int cw_mux_req_cmd_slot(const cw_mux_req *r, int i)
{
	return r->cmds[i].slot;
}

void cw__req_copy_cmd(cw_mux_req *dst, const cw_mux_req *src, int i)
{
	int end = i + 1 < src->ncmds ? src->cmds[i + 1].seg : src->nsegs;

	if (!add_cmd(dst, src->cmds[i].slot))
		return;
	for (int k = src->cmds[i].seg; k < end && !dst->oom; k++) {
		const seg *s = &src->segs[k];
		seg *d;
		if (s->p == NULL)
			put_copy(dst, src->buf + s->off, s->len);
		else if ((d = add_seg(dst)) != NULL)
			*d = (seg){.p = s->p, .len = s->len};
	}
}

void cw_mux_req_arg2(
    cw_mux_req *r, const void *p1, size_t l1, const void *p2, size_t l2)
{
	char h[32];
	size_t n = resp_head(h, '$', l1 + l2);

	r->pending_args--;
	put_copy(r, h, n);
	put_ref(r, p1, l1);
	put_ref(r, p2, l2);
	put_copy(r, "\r\n", 2);
}

void cw_mux_req_arg_copy(cw_mux_req *r, const void *p, size_t len)
{
	char h[32];
	size_t n = resp_head(h, '$', len);

	r->pending_args--;
	put_copy(r, h, n);
	put_copy(r, p, len);
	put_copy(r, "\r\n", 2);
}

void cw_mux_req_arg(cw_mux_req *r, const void *p, size_t len)
{
	cw_mux_req_arg2(r, p, len, NULL, 0);
}

void cw_mux_req_arg_u64(cw_mux_req *r, uint64_t v)
{
	char num[32];
	size_t n = resp_head(num, ' ', v); /* " <digits>\r\n" */

	cw_mux_req_arg(r, num + 1, n - 3);
}

bool cw__req_detach(cw_mux_req *r)
{
	for (int i = r->wseg; i < r->nsegs; i++) {
		seg *s = &r->segs[i];
		if (s->p == NULL || s->owned)
			continue;
		uint8_t *copy = malloc(s->len);
		if (copy == NULL)
			return false;
		memcpy(copy, s->p, s->len);
		s->p = copy;
		s->owned = true;
	}
	return true;
}

void cw__req_rewind(cw_mux_req *r)
{
	cw__req_free_replies(r);
	r->wseg = 0;
	r->woff = 0;
}
