/*
 * target_echo.c - a bare nng REQ/REP echo that does no work: the
 * transport's own ceiling on this machine.
 *
 * The server runs in a child process (echo_start, forked before the parent
 * touches nng, which is not fork-safe): a rep0 socket with one context per
 * slot, each answering in its aio callback. A request's first 4 bytes (big
 * endian) say how many bytes the answer has, so the echo moves the same
 * bytes both ways as the service would (wl_wire_sizes).
 *
 * The client side mirrors the service target: conns req0 sockets, depth
 * contexts on each, a closed loop driven by the aio callbacks.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <cachewire/status.h>

#include "run.h"

#define HEADER_BYTES     4
#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS    2000

/* ---- the server (child process) ------------------------------------------
 */

struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
};

static void echo_ctx_cb(void *arg)
{
	struct echo_ctx *e = arg;
	int rv = nng_aio_result(e->aio);
	size_t old, want;
	uint8_t *b;
	nng_msg *m;

	if (e->sending) {
		e->sending = false;
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(e->aio));
		if (rv == NNG_ECLOSED)
			return;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	if (rv != 0) {
		if (rv != NNG_ECLOSED)
			nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	m = nng_aio_get_msg(e->aio);
	old = nng_msg_len(m);
	b = nng_msg_body(m);
	want = old < HEADER_BYTES ? 0
	                          : (size_t)b[0] << 24 | (size_t)b[1] << 16 |
	                                (size_t)b[2] << 8 | b[3];
	if (nng_msg_realloc(m, want) != 0) {
		nng_msg_free(m);
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	if (want > old)
		memset((uint8_t *)nng_msg_body(m) + old, 0, want - old);
	nng_aio_set_msg(e->aio, m);
	e->sending = true;
	nng_ctx_send(e->ctx, e->aio);
}

/* Tell the parent how the start went: one line, "OK url" or "ERR why". */
static void report(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 &&
	    write(fd, line,
	        (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		_exit(1);
}

/* The child: serve until ctl_fd reaches end of file; never returns. */
static void echo_child(const struct bench_opts *o, const char *url,
    pid_t parent, int report_fd, int ctl_fd)
{
	unsigned n = o->conns * o->depth + 1, i;
	struct echo_ctx *ctxs;
	char actual[300], *colon;
	nng_listener l;
	nng_socket s;
	int rv, port;
	ssize_t got;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	ctxs = calloc(n, sizeof(*ctxs));
	if (ctxs == NULL) {
		report(report_fd, "ERR out of memory\n");
		_exit(1);
	}
	if ((rv = nng_rep0_open(&s)) != 0 ||
	    (rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (rv = nng_listen(s, url, &l, 0)) != 0) {
		report(report_fd, "ERR cannot listen on %s: %s\n", url,
		    nng_strerror(rv));
		_exit(1);
	}
	for (i = 0; i < n; i++) {
		if ((rv = nng_ctx_open(&ctxs[i].ctx, s)) != 0 ||
		    (rv = nng_aio_alloc(&ctxs[i].aio, echo_ctx_cb, &ctxs[i])) !=
		        0) {
			report(report_fd, "ERR echo server: %s\n",
			    nng_strerror(rv));
			_exit(1);
		}
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	/* tcp://host:0 asks for a free port: say which one it got. */
	snprintf(actual, sizeof(actual), "%s", url);
	colon = strrchr(actual, ':');
	if (strncmp(url, "tcp://", 6) == 0 && colon != NULL &&
	    strcmp(colon, ":0") == 0 &&
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
		snprintf(colon, sizeof(actual) - (size_t)(colon - actual),
		    ":%d", port);
	report(report_fd, "OK %s\n", actual);
	close(report_fd);

	/* The parent never writes: end of file is the signal to stop. */
	do
		got = read(ctl_fd, &c, 1);
	while (got > 0 || (got < 0 && errno == EINTR));
	nng_close(s);
	for (i = 0; i < n; i++)
		nng_aio_free(ctxs[i].aio);
	free(ctxs);
	nng_fini();
	_exit(0);
}

int echo_start(const struct bench_opts *o, pid_t *child, int *ctl_fd, char *url,
    size_t urlcap)
{
	const char *want = o->echo_url ? o->echo_url : "tcp://127.0.0.1:0";
	int rep[2], ctl[2];
	char line[512];
	size_t len = 0;
	struct pollfd p;
	ssize_t got;
	pid_t pid;

	if (pipe(rep) != 0) {
		snprintf(url, urlcap, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe(ctl) != 0) {
		snprintf(url, urlcap, "pipe: %s", strerror(errno));
		close(rep[0]);
		close(rep[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(rep[0]);
		close(ctl[1]);
		echo_child(o, want, getppid(), rep[1], ctl[0]);
	}
	close(rep[1]);
	close(ctl[0]);
	if (pid < 0) {
		snprintf(url, urlcap, "fork: %s", strerror(errno));
		close(rep[0]);
		close(ctl[1]);
		return -1;
	}
	/* One line: "OK <url>" or "ERR <message>". */
	p.fd = rep[0];
	p.events = POLLIN;
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		if (poll(&p, 1, START_TIMEOUT_MS) <= 0)
			break;
		got = read(rep[0], line + len, sizeof(line) - 1 - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(rep[0]);
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "OK ", 3) != 0) {
		snprintf(url, urlcap, "echo server: %s",
		    strncmp(line, "ERR ", 4) == 0 ? line + 4 : "did not start");
		echo_stop(pid, ctl[1]);
		return -1;
	}
	snprintf(url, urlcap, "%s", line + 3);
	*child = pid;
	*ctl_fd = ctl[1];
	return 0;
}

void echo_stop(pid_t child, int ctl_fd)
{
	int waited, status;

	if (ctl_fd >= 0)
		close(ctl_fd); /* the child's signal to exit */
	if (child <= 0)
		return;
	for (waited = 0; waited < STOP_GRACE_MS; waited += 10) {
		if (waitpid(child, &status, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

/* ---- the client side --------------------------------------------------------
 */

struct eslot {
	struct etarget *t;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	struct rng rng;
	struct slot_stats st;
	/* the exchange in flight */
	enum op_kind kind;
	unsigned n;
	bool measured;
	bool sending;
	int64_t t0;
	size_t want; /* answer bytes expected */
	uint64_t hits;
	uint64_t *idx;
};

struct etarget {
	const struct bench_opts *o;
	const char *url;
	struct run *run;
	char *fill; /* FILL_BYTES of request filler */
	size_t fill_len;
	nng_socket *socks;
	bool *sock_open;
	struct eslot *slots;
	unsigned nslots;
};

static unsigned nng_err_kind(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return CW_DEADLINE_EXCEEDED;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return CW_CANCELLED;
	case NNG_ENOMEM:
		return CW_INTERNAL;
	default:
		return CW_UNAVAILABLE;
	}
}

static void es_next(struct eslot *s);

/* A request of len bytes whose header asks for want bytes back. */
static int es_build(struct eslot *s, size_t len, size_t want, nng_msg **out)
{
	struct etarget *t = s->t;
	size_t off, chunk;
	uint8_t *b;
	nng_msg *m;

	if (len < HEADER_BYTES)
		len = HEADER_BYTES;
	if (want > UINT32_MAX || nng_msg_alloc(&m, len) != 0)
		return -1;
	b = nng_msg_body(m);
	b[0] = (uint8_t)(want >> 24);
	b[1] = (uint8_t)(want >> 16);
	b[2] = (uint8_t)(want >> 8);
	b[3] = (uint8_t)want;
	for (off = HEADER_BYTES; off < len; off += chunk) {
		chunk = len - off < t->fill_len ? len - off : t->fill_len;
		memcpy(b + off, t->fill, chunk);
	}
	*out = m;
	return 0;
}

static void es_cb(void *arg)
{
	struct eslot *s = arg;
	struct etarget *t = s->t;
	int rv = nng_aio_result(s->aio);
	int64_t lat;
	size_t got;
	nng_msg *m;
	char msg[128];

	if (s->sending && rv == 0) {
		s->sending = false;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	lat = now_ns() - s->t0;
	if (s->sending) {
		nng_msg_free(nng_aio_get_msg(s->aio));
		s->sending = false;
	}
	if (rv != 0) {
		if (s->measured) {
			snprintf(msg, sizeof(msg), "echo at %s: %s", t->url,
			    nng_strerror(rv));
			stats_error(&s->st, nng_err_kind(rv), msg);
		}
	} else {
		m = nng_aio_get_msg(s->aio);
		got = nng_msg_len(m);
		nng_msg_free(m);
		if (!s->measured) {
			/* warm-up */
		} else if (got != s->want) {
			snprintf(msg, sizeof(msg),
			    "echo answered %zu bytes, expected %zu", got,
			    s->want);
			stats_error(&s->st, CW_DATA_LOSS, msg);
		} else {
			hist_record(s->st.h, (uint64_t)lat);
			s->st.ok++;
			s->st.keys += s->n;
			if (s->kind == OP_GET || s->kind == OP_GETMANY) {
				s->st.lookups += s->n;
				s->st.hits += s->hits;
				s->st.misses += s->n - s->hits;
				s->st.bytes += s->hits * t->o->value_size;
			} else if (s->kind != OP_DELETE) {
				s->st.bytes +=
				    (uint64_t)s->n * t->o->value_size;
			}
		}
	}
	if (s->measured)
		run_completed(t->run);
	es_next(s);
}

static void es_next(struct eslot *s)
{
	struct etarget *t = s->t;
	enum claim c = run_claim(t->run, NULL);
	size_t req, rep;
	nng_msg *m;

	if (c == CLAIM_STOP) {
		run_slot_done(t->run);
		return;
	}
	s->n = wl_plan(t->o, &s->rng, false, 0, &s->kind, s->idx);
	s->measured = c == CLAIM_MEASURE;
	wl_wire_sizes(t->o, s->kind, s->n, s->idx, &req, &rep, &s->hits);
	if (es_build(s, HEADER_BYTES + req, rep, &m) != 0) {
		stats_error(&s->st, CW_INTERNAL, "out of memory for a request");
		run_slot_done(t->run);
		return;
	}
	s->want = rep;
	s->sending = true;
	s->t0 = now_ns();
	nng_aio_set_msg(s->aio, m);
	nng_ctx_send(s->ctx, s->aio);
}

static int es_start(void *ctx)
{
	struct etarget *t = ctx;
	unsigned i;

	for (i = 0; i < t->nslots; i++)
		es_next(&t->slots[i]);
	return 0;
}

static void et_free(struct etarget *t)
{
	unsigned i;

	if (t->slots != NULL) {
		for (i = 0; i < t->nslots; i++) {
			struct eslot *s = &t->slots[i];
			if (s->aio != NULL)
				nng_aio_free(s->aio);
			if (s->ctx_open)
				nng_ctx_close(s->ctx);
			stats_free(&s->st);
			free(s->idx);
		}
		free(t->slots);
	}
	if (t->socks != NULL) {
		for (i = 0; i < t->o->conns; i++)
			if (t->sock_open[i])
				nng_close(t->socks[i]);
		free(t->socks);
	}
	free(t->sock_open);
	free(t->fill);
}

/* Sockets, contexts and aios; 0, or -1 with res->message set (or empty
 * when out of memory). */
static int et_open(struct etarget *t, struct target_result *res)
{
	const struct bench_opts *o = t->o;
	unsigned n = wl_keys_per_op(o), i;
	size_t b;
	int rv;

	t->nslots = o->conns * o->depth;
	t->fill_len = o->value_size > 4096 ? o->value_size : 4096;
	t->fill = malloc(t->fill_len);
	t->socks = calloc(o->conns, sizeof(*t->socks));
	t->sock_open = calloc(o->conns, sizeof(*t->sock_open));
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->fill || !t->socks || !t->sock_open || !t->slots)
		return -1;
	for (b = 0; b < t->fill_len; b++)
		t->fill[b] = (char)('a' + b % 26);
	for (i = 0; i < o->conns; i++) {
		if ((rv = nng_req0_open(&t->socks[i])) != 0)
			goto nng_fail;
		t->sock_open[i] = true;
		if ((rv = nng_socket_set_ms(t->socks[i], NNG_OPT_REQ_RESENDTIME,
		         NNG_DURATION_INFINITE)) != 0 ||
		    (rv = nng_socket_set_size(
		         t->socks[i], NNG_OPT_RECVMAXSZ, 0)) != 0 ||
		    (rv = nng_dial(t->socks[i], t->url, NULL, 0)) != 0)
			goto nng_fail;
	}
	for (i = 0; i < t->nslots; i++) {
		struct eslot *s = &t->slots[i];
		s->t = t;
		rng_seed(&s->rng, o->seed, i);
		if (stats_init(&s->st) != 0 ||
		    (s->idx = calloc(n, sizeof(*s->idx))) == NULL)
			return -1;
		if ((rv = nng_ctx_open(&s->ctx, t->socks[i / o->depth])) != 0)
			goto nng_fail;
		s->ctx_open = true;
		if ((rv = nng_aio_alloc(&s->aio, es_cb, s)) != 0)
			goto nng_fail;
		nng_aio_set_timeout(s->aio, o->timeout_ms);
	}
	return 0;
nng_fail:
	snprintf(res->message, sizeof(res->message), "echo at %s: %s", t->url,
	    nng_strerror(rv));
	return -1;
}

int target_echo_run(
    const struct bench_opts *o, const char *url, struct target_result *res)
{
	struct etarget t = {.o = o, .url = url};
	struct run run;
	unsigned i;
	int rc = 0;

	if (et_open(&t, res) != 0) {
		rc = res->message[0] != '\0' ? 0 : -1;
		goto out;
	}
	if (run_init(&run, o, "echo", false, t.nslots) != 0) {
		rc = -1;
		goto out;
	}
	t.run = &run;
	run_pass(&run, es_start, &t);
	for (i = 0; i < t.nslots; i++)
		stats_merge(&res->s, &t.slots[i].st);
	res->elapsed_s = run_elapsed_s(&run);
	res->rss_peak_kib = run.rss_peak_kib;
	res->ran = true;
	run_destroy(&run);
out:
	et_free(&t);
	return rc;
}
