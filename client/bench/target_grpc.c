/*
 * target_grpc.c - the cachewire service over its gRPC transport: conns
 * HTTP/2 connections (nghttp2, plaintext h2c), each driven by a thread of
 * its own with depth streams in flight, one unary call per stream, as a
 * stock gRPC client multiplexes calls on a channel. The messages are the
 * same protobuf-c ones the C client sends, so the service does the same
 * work as for the service target; only the transport differs.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include <cachewire/status.h>

#include "cachewire/v1/cache.pb-c.h"
#include "run.h"

struct gconn;

/* One closed-loop slot: one call in flight on its connection. */
struct gslot {
	struct gconn *c;
	struct rng rng;
	struct slot_stats st;
	enum op_kind kind;
	unsigned n;
	bool measured, busy;
	int64_t t0;
	uint64_t *idx;
	char *keybuf; /* n keys of KEY_CAP bytes */
	ProtobufCBinaryData *keys;
	Cachewire__V1__SetRequest *sets, **setp;
	uint8_t *req; /* prefixed request message */
	size_t req_len, req_sent, req_cap;
	uint8_t *resp; /* the response body as it comes */
	size_t resp_len, resp_cap;
	int status; /* grpc-status, -1 until it comes */
	char message[160];
};

struct gtarget {
	const struct bench_opts *o;
	struct run *run;
	uint8_t *value;
	struct gconn *conns;
	struct gslot *slots;
	unsigned nslots;
	char host[256], port[16];
};

struct gconn {
	struct gtarget *t;
	int fd;
	nghttp2_session *h2;
	struct gslot *slots;
	unsigned nslots, live;
	pthread_t thread;
	bool started;
	char error[256];
};

static void g_next(struct gslot *s);

/* ---- a call ---------------------------------------------------------- */

static const char *method_path(enum op_kind k)
{
	switch (k) {
	case OP_GET:
		return "/cachewire.v1.Cache/Get";
	case OP_SET:
		return "/cachewire.v1.Cache/Set";
	case OP_DELETE:
		return "/cachewire.v1.Cache/Delete";
	case OP_GETMANY:
		return "/cachewire.v1.Cache/GetMany";
	case OP_SETMANY:
		return "/cachewire.v1.Cache/SetMany";
	}
	return "";
}

/* Pack the slot's planned request, prefixed; 0 or -1 (no memory). */
static int g_build(struct gslot *s)
{
	const struct bench_opts *o = s->c->t->o;
	const ProtobufCMessage *m;
	Cachewire__V1__GetRequest get = CACHEWIRE__V1__GET_REQUEST__INIT;
	Cachewire__V1__DeleteRequest del = CACHEWIRE__V1__DELETE_REQUEST__INIT;
	Cachewire__V1__GetManyRequest gm =
	    CACHEWIRE__V1__GET_MANY_REQUEST__INIT;
	Cachewire__V1__SetManyRequest sm =
	    CACHEWIRE__V1__SET_MANY_REQUEST__INIT;
	ProtobufCBinaryData value = {o->value_size, s->c->t->value};

	for (unsigned i = 0; i < s->n; i++) {
		char *k = s->keybuf + (size_t)i * KEY_CAP;
		s->keys[i].data = (uint8_t *)k;
		s->keys[i].len = wl_key(k, "", s->idx[i]);
		cachewire__v1__set_request__init(&s->sets[i]);
		s->sets[i].key = s->keys[i];
		s->sets[i].value = value;
		s->setp[i] = &s->sets[i];
	}
	switch (s->kind) {
	case OP_GET:
		get.key = s->keys[0];
		m = &get.base;
		break;
	case OP_SET:
		m = &s->sets[0].base;
		break;
	case OP_DELETE:
		del.key = s->keys[0];
		m = &del.base;
		break;
	case OP_GETMANY:
		gm.n_keys = s->n;
		gm.keys = s->keys;
		m = &gm.base;
		break;
	default:
		sm.n_entries = s->n;
		sm.entries = s->setp;
		m = &sm.base;
		break;
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	if (5 + n > s->req_cap) {
		uint8_t *p = realloc(s->req, 5 + n);
		if (p == NULL)
			return -1;
		s->req = p;
		s->req_cap = 5 + n;
	}
	s->req[0] = 0;
	s->req[1] = (uint8_t)(n >> 24);
	s->req[2] = (uint8_t)(n >> 16);
	s->req[3] = (uint8_t)(n >> 8);
	s->req[4] = (uint8_t)n;
	protobuf_c_message_pack(m, s->req + 5);
	s->req_len = 5 + n;
	s->req_sent = 0;
	return 0;
}

static ssize_t g_read_req(nghttp2_session *h2, int32_t id, uint8_t *buf,
    size_t len, uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct gslot *s = src->ptr;
	size_t n = s->req_len - s->req_sent;
	(void)h2;
	(void)id;
	(void)arg;
	if (n > len)
		n = len;
	memcpy(buf, s->req + s->req_sent, n);
	s->req_sent += n;
	if (s->req_sent == s->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v)                                                               \
	{                                                                      \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v),      \
		    NGHTTP2_NV_FLAG_NONE                                       \
	}

/* Send the slot's call; 0, or -1 when it could not even be submitted. */
static int g_issue(struct gslot *s)
{
	struct gtarget *t = s->c->t;
	char timeout[24];

	if (g_build(s) != 0)
		return -1;
	snprintf(timeout, sizeof timeout, "%dm", t->o->timeout_ms);
	nghttp2_nv h[] = {NV(":method", "POST"), NV(":scheme", "http"),
	    NV(":path", method_path(s->kind)), NV(":authority", t->host),
	    NV("content-type", "application/grpc"), NV("te", "trailers"),
	    NV("grpc-timeout", timeout)};
	nghttp2_data_provider p = {
	    .source.ptr = s, .read_callback = g_read_req};
	s->status = -1;
	s->message[0] = '\0';
	s->resp_len = 0;
	s->busy = true;
	s->t0 = now_ns();
	int32_t id = nghttp2_submit_request(
	    s->c->h2, NULL, h, sizeof h / sizeof h[0], &p, s);
	if (id < 0) {
		s->busy = false;
		return -1;
	}
	return 0;
}

/* The call ended: count it (a measured one) by its status and reply. */
static void g_count(struct gslot *s)
{
	int64_t lat = now_ns() - s->t0;
	size_t vsize = s->c->t->o->value_size;
	uint64_t hits = 0, bytes = 0;
	char msg[160] = "";

	if (s->status != 0) {
		stats_error(&s->st,
		    s->status < 0 || s->status > 16 ? CW_UNKNOWN
		                                    : (unsigned)s->status,
		    s->status < 0 ? "the stream ended without grpc-status"
		                  : s->message);
		return;
	}
	const uint8_t *body = s->resp + 5;
	size_t blen = s->resp_len >= 5 ? s->resp_len - 5 : 0;
	if (s->resp_len < 5)
		snprintf(msg, sizeof msg, "a reply without a message");
	else if (s->kind == OP_GET) {
		Cachewire__V1__GetResponse *r =
		    cachewire__v1__get_response__unpack(NULL, blen, body);
		if (r == NULL)
			snprintf(msg, sizeof msg, "an undecodable GetResponse");
		else if (r->found && r->value.len != vsize)
			snprintf(msg, sizeof msg,
			    "Get returned %zu bytes, %zu were stored",
			    r->value.len, vsize);
		else {
			hits = r->found;
			bytes = r->found ? r->value.len : 0;
		}
		if (r != NULL)
			cachewire__v1__get_response__free_unpacked(r, NULL);
	} else if (s->kind == OP_GETMANY) {
		Cachewire__V1__GetManyResponse *r =
		    cachewire__v1__get_many_response__unpack(NULL, blen, body);
		if (r == NULL || r->n_results != s->n)
			snprintf(msg, sizeof msg,
			    "GetMany did not return %u results", s->n);
		for (size_t i = 0; msg[0] == '\0' && i < r->n_results; i++) {
			hits += r->results[i]->found;
			bytes += r->results[i]->value.len;
		}
		if (r != NULL)
			cachewire__v1__get_many_response__free_unpacked(
			    r, NULL);
	} else if (s->kind == OP_SET || s->kind == OP_SETMANY) {
		bytes = (uint64_t)s->n * vsize;
	}
	if (msg[0] != '\0') {
		stats_error(&s->st, CW_DATA_LOSS, msg);
		return;
	}
	if (s->kind == OP_GET || s->kind == OP_GETMANY) {
		s->st.lookups += s->n;
		s->st.hits += hits;
		s->st.misses += s->n - hits;
	}
	hist_record(s->st.h, (uint64_t)lat);
	s->st.ok++;
	s->st.keys += s->n;
	s->st.bytes += bytes;
}

/* Issue the slot's next call, or finish the slot. */
static void g_next(struct gslot *s)
{
	struct gtarget *t = s->c->t;
	uint64_t seq = 0;
	enum claim c = run_claim(t->run, &seq);

	if (c != CLAIM_STOP) {
		s->n = wl_plan(
		    t->o, &s->rng, t->run->prepare, seq, &s->kind, s->idx);
		s->measured = c == CLAIM_MEASURE;
		if (g_issue(s) == 0)
			return;
		stats_error(&s->st, CW_INTERNAL, "the call could not be sent");
	}
	s->c->live--;
	run_slot_done(t->run);
}

/* ---- nghttp2's callbacks --------------------------------------------- */

static int on_header(nghttp2_session *h2, const nghttp2_frame *f,
    const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen,
    uint8_t flags, void *arg)
{
	struct gslot *s =
	    nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	(void)flags;
	(void)arg;
	if (s == NULL)
		return 0;
	if (nlen == 11 && memcmp(name, "grpc-status", 11) == 0)
		s->status = atoi((const char *)value);
	else if (nlen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(s->message, sizeof s->message, "%.*s", (int)vlen,
		    (const char *)value);
	return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct gslot *s = nghttp2_session_get_stream_user_data(h2, id);
	(void)flags;
	(void)arg;
	if (s == NULL)
		return 0;
	if (s->resp_len + len > s->resp_cap) {
		size_t cap = (s->resp_len + len) * 2;
		uint8_t *p = realloc(s->resp, cap);
		if (p == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		s->resp = p;
		s->resp_cap = cap;
	}
	memcpy(s->resp + s->resp_len, data, len);
	s->resp_len += len;
	return 0;
}

static int on_close(nghttp2_session *h2, int32_t id, uint32_t code, void *arg)
{
	struct gslot *s = nghttp2_session_get_stream_user_data(h2, id);
	(void)arg;
	if (s == NULL || !s->busy)
		return 0;
	s->busy = false;
	if (s->status < 0 && code != NGHTTP2_NO_ERROR)
		snprintf(s->message, sizeof s->message, "stream reset: %s",
		    nghttp2_http2_strerror(code));
	if (s->measured) {
		g_count(s);
		run_completed(s->c->t->run);
	} else if (s->c->t->run->prepare && s->status != 0) {
		g_count(s); /* the prepare pass reports its first error */
	}
	g_next(s);
	return 0;
}

/* ---- a connection ---------------------------------------------------- */

static int g_flush(struct gconn *c)
{
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2, &data);
		if (n < 0) {
			snprintf(c->error, sizeof c->error, "HTTP/2: %s",
			    nghttp2_strerror((int)n));
			return -1;
		}
		if (n == 0)
			return 0;
		while (n > 0) {
			ssize_t w = send(c->fd, data, (size_t)n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				snprintf(c->error, sizeof c->error, "send: %s",
				    strerror(errno));
				return -1;
			}
			data += w;
			n -= w;
		}
	}
}

/* The connection's loop: its slots' calls until every slot is done. */
static void *g_loop(void *arg)
{
	struct gconn *c = arg;
	uint8_t buf[16384];

	for (unsigned i = 0; i < c->nslots; i++) {
		c->live++;
		g_next(&c->slots[i]);
	}
	while (c->live > 0) {
		if (g_flush(c) != 0)
			break;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n <= 0) {
			snprintf(c->error, sizeof c->error, "%s",
			    n == 0 ? "the server closed the connection"
			           : strerror(errno));
			break;
		}
		if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0) {
			snprintf(c->error, sizeof c->error,
			    "HTTP/2: the server sent what nghttp2 refuses");
			break;
		}
	}
	/* Broken: stop the pass; the slots still in flight are done. */
	if (c->live > 0) {
		run_stop(c->t->run);
		for (unsigned i = 0; i < c->nslots; i++) {
			if (c->slots[i].busy) {
				c->slots[i].busy = false;
				stats_error(
				    &c->slots[i].st, CW_UNAVAILABLE, c->error);
				run_slot_done(c->t->run);
			}
		}
		c->live = 0;
	}
	return NULL;
}

static int g_connect(struct gtarget *t, struct gconn *c, char *err, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0) {
		snprintf(
		    err, len, "%s:%s: %s", t->host, t->port, gai_strerror(rc));
		return -1;
	}
	c->fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (c->fd < 0 || connect(c->fd, res->ai_addr, res->ai_addrlen) != 0) {
		snprintf(
		    err, len, "%s:%s: %s", t->host, t->port, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
	rc = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0)
		return -1;
	nghttp2_settings_entry set[] = {
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set, 1);
	nghttp2_session_set_local_window_size(
	    c->h2, NGHTTP2_FLAG_NONE, 0, 4 << 20);
	return g_flush(c) == 0 ? 0 : -1;
}

/* ---- the target ------------------------------------------------------ */

static int g_start(void *ctx)
{
	struct gtarget *t = ctx;
	for (unsigned i = 0; i < t->o->conns; i++) {
		struct gconn *c = &t->conns[i];
		c->started = pthread_create(&c->thread, NULL, g_loop, c) == 0;
		if (!c->started)
			for (unsigned k = 0; k < c->nslots; k++)
				run_slot_done(t->run);
	}
	return 0;
}

static int g_pass(struct gtarget *t, bool prepare, struct target_result *res)
{
	struct run run;
	int rc = 0;

	if (run_init(&run, t->o, prepare ? "grpc prepare" : "grpc", prepare,
	        t->nslots) != 0)
		return -1;
	t->run = &run;
	run_pass(&run, g_start, t);
	for (unsigned i = 0; i < t->o->conns; i++) {
		if (t->conns[i].started)
			pthread_join(t->conns[i].thread, NULL);
		t->conns[i].started = false;
	}
	struct slot_stats sum;
	memset(&sum, 0, sizeof sum);
	if (prepare) {
		for (unsigned i = 0; i < t->nslots; i++)
			stats_merge(&sum, &t->slots[i].st);
		if (sum.first_error[0] != '\0') {
			snprintf(res->message, sizeof res->message,
			    "grpc at %.100s:%.10s: storing the keys to get "
			    "failed: %.200s",
			    t->host, t->port, sum.first_error);
			rc = -1;
		}
		for (unsigned i = 0; i < t->nslots; i++) {
			stats_free(&t->slots[i].st);
			if (stats_init(&t->slots[i].st) != 0)
				rc = -1;
		}
	} else {
		for (unsigned i = 0; i < t->nslots; i++)
			stats_merge(&res->s, &t->slots[i].st);
		res->elapsed_s = run_elapsed_s(&run);
		res->rss_peak_kib = run.rss_peak_kib;
		res->ran = true;
	}
	t->run = NULL;
	run_destroy(&run);
	return rc;
}

static void g_free(struct gtarget *t)
{
	for (unsigned i = 0; t->conns != NULL && i < t->o->conns; i++) {
		if (t->conns[i].h2 != NULL)
			nghttp2_session_del(t->conns[i].h2);
		if (t->conns[i].fd > 0)
			close(t->conns[i].fd);
	}
	free(t->conns);
	for (unsigned i = 0; t->slots != NULL && i < t->nslots; i++) {
		struct gslot *s = &t->slots[i];
		stats_free(&s->st);
		free(s->idx);
		free(s->keybuf);
		free(s->keys);
		free(s->sets);
		free(s->setp);
		free(s->req);
		free(s->resp);
	}
	free(t->slots);
	free(t->value);
}

int target_grpc_run(const struct bench_opts *o, struct target_result *res)
{
	struct gtarget t = {.o = o};
	unsigned n = wl_keys_per_op(o);
	const char *colon = strrchr(o->grpc_addr, ':');
	int rc = -1;

	if (colon == NULL) {
		snprintf(res->message, sizeof res->message,
		    "--grpc %s: want host:port", o->grpc_addr);
		return 0;
	}
	snprintf(t.host, sizeof t.host, "%.*s", (int)(colon - o->grpc_addr),
	    o->grpc_addr);
	snprintf(t.port, sizeof t.port, "%s", colon + 1);
	t.nslots = o->conns * o->depth;
	t.conns = calloc(o->conns, sizeof *t.conns);
	t.slots = calloc(t.nslots, sizeof *t.slots);
	t.value = malloc(o->value_size + 1);
	if (t.conns == NULL || t.slots == NULL || t.value == NULL)
		goto out;
	for (size_t b = 0; b < o->value_size; b++)
		t.value[b] = (uint8_t)('a' + b % 26);
	for (unsigned i = 0; i < t.nslots; i++) {
		struct gslot *s = &t.slots[i];
		s->c = &t.conns[i / o->depth];
		rng_seed(&s->rng, o->seed, i);
		s->idx = calloc(n, sizeof *s->idx);
		s->keybuf = malloc((size_t)n * KEY_CAP);
		s->keys = calloc(n, sizeof *s->keys);
		s->sets = calloc(n, sizeof *s->sets);
		s->setp = calloc(n, sizeof *s->setp);
		if (stats_init(&s->st) != 0 || !s->idx || !s->keybuf ||
		    !s->keys || !s->sets || !s->setp)
			goto out;
	}
	rc = 0;
	for (unsigned i = 0; i < o->conns; i++) {
		struct gconn *c = &t.conns[i];
		c->t = &t;
		c->slots = &t.slots[i * o->depth];
		c->nslots = o->depth;
		if (g_connect(&t, c, res->message, sizeof res->message) != 0) {
			if (res->message[0] == '\0')
				snprintf(res->message, sizeof res->message,
				    "grpc at %s: %s", o->grpc_addr, c->error);
			goto out;
		}
	}
	if (wl_needs_prepare(o) && g_pass(&t, true, res) != 0) {
		rc = res->message[0] != '\0' ? 0 : -1;
		goto out;
	}
	rc = g_pass(&t, false, res);
out:
	g_free(&t);
	return rc;
}
