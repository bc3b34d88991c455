/*
 * conn.c - one gRPC connection (grpc_internal.h): the TLS handshake, the
 * socket's reads and writes, its nghttp2 session, and the calls on it.
 *
 * A call's stream goes READING (headers, then the body into a
 * cw_grpc_body) -> DISPATCHED (cw_dispatch has it; the sink answers from
 * any thread through the server's done queue) -> ANSWERING (the response
 * is with nghttp2). A stream the client resets, or whose connection goes
 * away, while DISPATCHED is left to the done queue to free.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "gate.h"
#include "grpc_internal.h"
#include "log.h"
#include "stats.h"

#define READ_CHUNK (16 * 1024)
#define WRITE_MAX  (64 * 1024) /* gathered from nghttp2 per write */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- calls ---------------------------------------------------------- */

static void wipe_free(uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	volatile uint8_t *v = p;
	while (n-- > 0)
		*v++ = 0;
	free(p);
}

void cw__grpc_stream_free(gstream *st)
{
	cw_grpc_body_free(&st->body);
	wipe_free(st->token, st->token_len);
	free(st->message);
	free(st->out);
	free(st);
}

static void unlink_stream(gstream *st)
{
	gconn *c = st->conn;
	if (st->prev != NULL)
		st->prev->next = st->next;
	else if (c != NULL && c->streams == st)
		c->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	st->prev = st->next = NULL;
}

/* The sink's reply (any thread): the response message, prefixed, or the
 * error's message, encoded for grpc-message. */
static void sink_reply(cw_reply_sink *sink, int code, const char *message,
    const ProtobufCMessage *response)
{
	gstream *st = (gstream *)sink;

	st->code = code;
	if (code != CW_OK) {
		size_t cap = strlen(message) * 3 + 1;
		if ((st->message = malloc(cap)) != NULL)
			cw_grpc_message_encode(message, st->message, cap);
		return;
	}
	size_t n = protobuf_c_message_get_packed_size(response);
	if ((st->out = malloc(CW_GRPC_PREFIX + n)) == NULL) {
		st->code = CW_INTERNAL;
		cw_log(CW_LOG_ERROR, "grpc: no memory for a %zu-byte reply", n);
		return;
	}
	st->out[0] = 0;
	st->out[1] = (uint8_t)(n >> 24);
	st->out[2] = (uint8_t)(n >> 16);
	st->out[3] = (uint8_t)(n >> 8);
	st->out[4] = (uint8_t)n;
	protobuf_c_message_pack(response, st->out + CW_GRPC_PREFIX);
	st->out_len = CW_GRPC_PREFIX + n;
}

/* The sink's done (any thread): count it, queue it for the loop. */
static void sink_done(cw_reply_sink *sink, int code, const cw_error *outcome)
{
	gstream *st = (gstream *)sink;
	cw_grpc_server *s = st->srv;

	if (code == CW_INTERNAL || code == CW_UNKNOWN)
		cw_log(CW_LOG_ERROR, "grpc: %s: %s", cw_strerror(code),
		    outcome->message);
	else if (code != CW_OK)
		cw_log(CW_LOG_DEBUG, "grpc: %s: %s", cw_strerror(code),
		    outcome->message);
	cw_rpc_stats_record(
	    s->stats, st->call.method_index, code, now_ns() - st->started_ns);
	cw_rpc_stats_bytes(s->stats, 0, st->out_len);
	if (st->admitted)
		cw_gate_leave(s->gate);
	pthread_mutex_lock(&s->mu);
	bool was_empty = s->done_head == NULL;
	st->done_next = NULL;
	*s->done_tail = st;
	s->done_tail = &st->done_next;
	pthread_mutex_unlock(&s->mu);
	/* From the loop itself (an answer given at once) no wake is
	 * needed: the loop looks at the queue after every event. */
	if (was_empty && !pthread_equal(pthread_self(), s->thread))
		cw__grpc_wake(s);
}

/* Hand a read call to dispatch, or refuse it. */
static void start_call(gstream *st)
{
	cw_grpc_server *s = st->srv;
	cw_error why = {.code = CW_OK};

	st->state = S_DISPATCHED;
	pthread_mutex_lock(&s->mu);
	s->in_flight++;
	pthread_mutex_unlock(&s->mu);
	if (st->bad.code == CW_OK && cw_grpc_body_end(&st->body) != CW_OK)
		st->bad = st->body.err;
	if (st->bad.code == CW_OK && st->body.compressed) {
		if (st->encoding[0] == '\0' ||
		    strcmp(st->encoding, "identity") == 0)
			cw_error_set(&st->bad, CW_INTERNAL,
			    "a compressed message without grpc-encoding");
		else
			cw_error_set(&st->bad, CW_UNIMPLEMENTED,
			    "grpc-encoding \"%s\" is not supported "
			    "(identity only)",
			    st->encoding);
	}
	if (st->bad.code != CW_OK) {
		cw_dispatch_refuse(
		    &st->call, &st->sink, st->bad.code, st->bad.message);
		return;
	}
	if (cw_gate_enter(s->gate, &why) != CW_OK) {
		cw_dispatch_refuse(&st->call, &st->sink, why.code, why.message);
		return;
	}
	st->admitted = true;
	cw_request req = {
	    .method = (const uint8_t *)st->path,
	    .method_len = st->path_len,
	    .payload = st->body.buf,
	    .payload_len = st->body.got,
	    .timeout_ms = st->timeout_ms,
	    .token = st->token,
	    .token_len = st->token_len,
	    .ns = (const uint8_t *)st->ns,
	    .ns_len = st->ns_len,
	};
	cw_rpc_stats_bytes(s->stats, CW_GRPC_PREFIX + st->body.got, 0);
	cw_dispatch(&s->svcs, s->auth, &req,
	    atomic_load(&s->default_timeout_ms), &st->call, &st->sink);
	cw_grpc_body_free(&st->body); /* dispatch decoded what it needs */
}

/* ---- the answer ------------------------------------------------------ */

#define NV(n, v)                                                               \
	{                                                                      \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v),      \
		    NGHTTP2_NV_FLAG_NO_COPY_NAME                               \
	}

static ssize_t read_out(nghttp2_session *h2, int32_t id, uint8_t *buf,
    size_t len, uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	gstream *st = src->ptr;
	size_t n = st->out_len - st->out_sent;
	(void)arg;

	if (n > len)
		n = len;
	memcpy(buf, st->out + st->out_sent, n);
	st->out_sent += n;
	if (st->out_sent == st->out_len) {
		nghttp2_nv trailer[] = {NV("grpc-status", "0")};
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (nghttp2_submit_trailer(h2, id, trailer, 1) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return (ssize_t)n;
}

void cw__grpc_answer(gstream *st)
{
	gconn *c = st->conn;
	char code[16];

	st->state = S_ANSWERING;
	if (st->code == CW_OK && st->out != NULL) {
		nghttp2_nv head[] = {NV(":status", "200"),
		    NV("content-type", "application/grpc"),
		    NV("grpc-accept-encoding", "identity")};
		nghttp2_data_provider p = {
		    .source.ptr = st, .read_callback = read_out};
		nghttp2_submit_response(c->h2, st->id, head, 3, &p);
		return;
	}
	/* Trailers-Only: the status in the one HEADERS frame. */
	if (st->code == CW_OK)
		st->code = CW_INTERNAL; /* no memory for the response */
	snprintf(code, sizeof code, "%d", st->code);
	nghttp2_nv head[] = {NV(":status", "200"),
	    NV("content-type", "application/grpc"),
	    NV("grpc-accept-encoding", "identity"), NV("grpc-status", code),
	    NV("grpc-message",
	        st->message != NULL ? st->message : "out of memory")};
	nghttp2_submit_response(c->h2, st->id, head, 5, NULL);
}

/* ---- nghttp2's callbacks --------------------------------------------- */

static int on_begin_headers(
    nghttp2_session *h2, const nghttp2_frame *f, void *arg)
{
	gconn *c = arg;

	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	gstream *st = calloc(1, sizeof *st);
	if (st == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
	st->sink.reply = sink_reply;
	st->sink.done = sink_done;
	st->srv = c->srv;
	st->conn = c;
	st->id = f->hd.stream_id;
	st->started_ns = now_ns();
	st->bad.code = CW_OK;
	cw_grpc_body_init(&st->body, atomic_load(&c->srv->max_message_bytes));
	st->next = c->streams;
	if (c->streams != NULL)
		c->streams->prev = st;
	c->streams = st;
	nghttp2_session_set_stream_user_data(h2, st->id, st);
	return 0;
}

static bool is(const uint8_t *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

static void bad(gstream *st, int code, const char *what)
{
	if (st->bad.code == CW_OK)
		cw_error_set(&st->bad, code, "%s", what);
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f,
    const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen,
    uint8_t flags, void *arg)
{
	gstream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	(void)flags;
	(void)arg;

	if (st == NULL || f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* trailers of the client: nothing we use */
	if (is(name, nlen, ":path")) {
		st->path_len = vlen;
		size_t k =
		    vlen < sizeof st->path - 1 ? vlen : sizeof st->path - 1;
		memcpy(st->path, value, k);
		st->path[k] = '\0';
	} else if (is(name, nlen, ":method")) {
		if (!is(value, vlen, "POST"))
			bad(st, CW_UNIMPLEMENTED,
			    "gRPC calls are POST requests");
	} else if (is(name, nlen, "content-type")) {
		if (!cw_grpc_content_type_ok(value, vlen))
			bad(st, CW_INVALID_ARGUMENT,
			    "content-type is not application/grpc (or "
			    "application/grpc+proto)");
	} else if (is(name, nlen, "grpc-timeout")) {
		if (cw_grpc_timeout_parse(value, vlen, &st->timeout_ms) != 0)
			bad(st, CW_INVALID_ARGUMENT,
			    "grpc-timeout is not 1-8 digits and a unit "
			    "(H, M, S, m, u, n)");
	} else if (is(name, nlen, "authorization")) {
		const uint8_t *tok;
		size_t tlen;
		if (cw_grpc_bearer(value, vlen, &tok, &tlen) != 0)
			bad(st, CW_UNAUTHENTICATED,
			    "authorization is not \"Bearer <token>\"");
		else if (tlen > FIELD_MAX)
			bad(st, CW_UNAUTHENTICATED, "the token is too long");
		else if (st->token == NULL &&
		         (st->token = malloc(tlen + 1)) != NULL) {
			memcpy(st->token, tok, tlen);
			st->token_len = tlen;
		}
	} else if (is(name, nlen, "cachewire-namespace")) {
		if (vlen > CW_NAMESPACE_MAX)
			bad(st, CW_INVALID_ARGUMENT,
			    "cachewire-namespace is longer than 64 bytes");
		else {
			memcpy(st->ns, value, vlen);
			st->ns[vlen] = '\0';
			st->ns_len = vlen;
		}
	} else if (is(name, nlen, "grpc-encoding")) {
		size_t k = vlen < sizeof st->encoding - 1
		               ? vlen
		               : sizeof st->encoding - 1;
		memcpy(st->encoding, value, k);
		st->encoding[k] = '\0';
	}
	return 0;
}

/* The client finished sending (END_STREAM): start the call. */
static void remote_done(gstream *st)
{
	st->remote_closed = true;
	if (st->state == S_READING)
		start_call(st);
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *arg)
{
	gconn *c = arg;

	if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK))
		c->ready = true;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	gstream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (st != NULL)
		remote_done(st);
	return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	gstream *st = nghttp2_session_get_stream_user_data(h2, id);
	(void)flags;
	(void)arg;

	if (st == NULL || st->state != S_READING)
		return 0; /* answered already: the rest is dropped */
	if (cw_grpc_body_feed(&st->body, data, len) != CW_OK) {
		/* Answer now (too large, say): no need to take the rest. */
		st->bad = st->body.err;
		start_call(st);
	}
	return 0;
}

static int on_stream_close(
    nghttp2_session *h2, int32_t id, uint32_t code, void *arg)
{
	gstream *st = nghttp2_session_get_stream_user_data(h2, id);
	(void)code;
	(void)arg;

	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(h2, id, NULL);
	unlink_stream(st);
	if (st->state == S_DISPATCHED)
		st->conn = NULL; /* the done queue frees it */
	else
		cw__grpc_stream_free(st);
	return 0;
}

/* After our last frame of a call the client may still be sending (we
 * answered early): tell it to stop, with no error. */
static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *f, void *arg)
{
	(void)arg;
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		gstream *st =
		    nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
		if (st != NULL && !st->remote_closed)
			nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE,
			    f->hd.stream_id, NGHTTP2_NO_ERROR);
	}
	return 0;
}

nghttp2_session_callbacks *cw__grpc_callbacks_new(void)
{
	nghttp2_session_callbacks *cbs;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(
	    cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(
	    cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(
	    cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(
	    cbs, on_frame_send);
	return cbs;
}

/* ---- the connection -------------------------------------------------- */

/* The HTTP/2 session, once the bytes are plain (after TLS). */
static bool start_session(gconn *c)
{
	nghttp2_option *opt = NULL;

	if (nghttp2_option_new(&opt) != 0)
		return false;
	nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
	int rv = nghttp2_session_server_new2(&c->h2, c->srv->cbs, c, opt);
	nghttp2_option_del(opt);
	if (rv != 0)
		return false;
	nghttp2_settings_entry set[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024},
	};
	return nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set, 3) == 0 &&
	       nghttp2_session_set_local_window_size(
	           c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW) == 0;
}

gconn *cw__grpc_conn_new(cw_grpc_server *s, int fd, bool tls)
{
	gconn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->kind = EP_CONN;
	c->srv = s;
	c->fd = fd;
	c->opened_ms = cw__grpc_now_ms();
	if (tls) {
		if ((c->ssl = SSL_new(s->ssl)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			if (c->ssl != NULL)
				SSL_free(c->ssl);
			free(c);
			return NULL;
		}
		SSL_set_accept_state(c->ssl);
		c->handshaking = true;
	} else if (!start_session(c)) {
		free(c);
		return NULL;
	}
	return c;
}

void cw__grpc_conn_free(gconn *c)
{
	/* Calls still with dispatch are freed from the done queue. */
	while (c->streams != NULL) {
		gstream *st = c->streams;
		c->streams = st->next;
		st->prev = st->next = NULL;
		if (st->state == S_DISPATCHED)
			st->conn = NULL;
		else
			cw__grpc_stream_free(st);
	}
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	free(c->wbuf);
	free(c);
}

/* n bytes off the socket: > 0, 0 at EOF, -1 on error, -2 to wait. */
static ssize_t sock_read(gconn *c, uint8_t *buf, size_t n)
{
	if (c->ssl == NULL) {
		ssize_t r = read(c->fd, buf, n);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? -2 : -1;
		return r;
	}
	int r = SSL_read(c->ssl, buf, (int)n);
	if (r > 0)
		return r;
	int e = SSL_get_error(c->ssl, r);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -2;
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static ssize_t sock_write(gconn *c, const uint8_t *buf, size_t n)
{
	if (c->ssl == NULL) {
		ssize_t w = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? -2 : -1;
		return w;
	}
	int w = SSL_write(c->ssl, buf, (int)n);
	if (w > 0)
		return w;
	int e = SSL_get_error(c->ssl, w);
	ERR_clear_error();
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -2 : -1;
}

/* The TLS handshake, a step: 1 done, 0 to wait, -1 failed. */
static int handshake(gconn *c)
{
	int r = SSL_do_handshake(c->ssl);
	if (r != 1) {
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			cw__grpc_watch(c, e == SSL_ERROR_WANT_WRITE);
			return 0;
		}
		unsigned long why = ERR_get_error();
		char msg[256];
		ERR_error_string_n(why, msg, sizeof msg);
		cw_log(CW_LOG_DEBUG, "grpc: TLS handshake with %s failed: %s",
		    c->peer, why != 0 ? msg : "connection closed");
		ERR_clear_error();
		return -1;
	}
	const unsigned char *proto;
	unsigned int plen;
	SSL_get0_alpn_selected(c->ssl, &proto, &plen);
	if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
		cw_log(CW_LOG_DEBUG,
		    "grpc: %s did not ask for HTTP/2 (ALPN h2); closing",
		    c->peer);
		return -1;
	}
	c->handshaking = false;
	return start_session(c) ? 1 : -1;
}

bool cw__grpc_conn_flush(gconn *c)
{
	if (c->handshaking)
		return true;
	for (;;) {
		while (c->woff < c->wlen) {
			ssize_t w =
			    sock_write(c, c->wbuf + c->woff, c->wlen - c->woff);
			if (w == -2) {
				cw__grpc_watch(c, true);
				return true;
			}
			if (w < 0) {
				cw__grpc_conn_free(c);
				return false;
			}
			c->woff += (size_t)w;
		}
		c->wlen = c->woff = 0;
		/* Gather what nghttp2 has, up to WRITE_MAX, in one write. */
		while (c->wlen < WRITE_MAX) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->h2, &data);
			if (n < 0) {
				cw__grpc_conn_free(c);
				return false;
			}
			if (n == 0)
				break;
			if (c->wlen + (size_t)n > c->wcap) {
				size_t cap = c->wlen + (size_t)n;
				cap = cap < WRITE_MAX ? WRITE_MAX : cap;
				uint8_t *p = realloc(c->wbuf, cap);
				if (p == NULL) {
					cw__grpc_conn_free(c);
					return false;
				}
				c->wbuf = p;
				c->wcap = cap;
			}
			memcpy(c->wbuf + c->wlen, data, (size_t)n);
			c->wlen += (size_t)n;
		}
		if (c->wlen == 0)
			break;
	}
	if (c->out_armed)
		cw__grpc_watch(c, false);
	if (!nghttp2_session_want_read(c->h2) &&
	    !nghttp2_session_want_write(c->h2)) {
		cw__grpc_conn_free(c); /* GOAWAY both ways, or an error */
		return false;
	}
	return true;
}

/* Feed nghttp2 what the socket has; false when c is gone. */
static bool read_all(gconn *c, uint8_t *buf, size_t size)
{
	for (;;) {
		ssize_t n = sock_read(c, buf, size);
		if (n == -2)
			return true;
		if (n <= 0) {
			cw__grpc_conn_free(c);
			return false;
		}
		ssize_t used = nghttp2_session_mem_recv(c->h2, buf, (size_t)n);
		if (used < 0) {
			cw_log(CW_LOG_DEBUG, "grpc: %s: %s; closing", c->peer,
			    nghttp2_strerror((int)used));
			/* nghttp2 queued a GOAWAY where it could: send it */
			if (cw__grpc_conn_flush(c))
				cw__grpc_conn_free(c); /* (else flush did) */
			return false;
		}
	}
}

bool cw__grpc_conn_on_event(gconn *c, uint32_t events)
{
	uint8_t buf[READ_CHUNK];
	(void)events;

	if (c->handshaking) {
		int r = handshake(c);
		if (r < 0) {
			cw__grpc_conn_free(c);
			return false;
		}
		if (r == 0)
			return true;
	}
	/* The calls of what is read now leave for Redis together. */
	const cw_services *svcs = &c->srv->svcs;
	cw_services_hold(svcs);
	bool alive = read_all(c, buf, sizeof buf);
	cw_services_release(svcs);
	return alive && cw__grpc_conn_flush(c);
}

void cw__grpc_conn_goaway(gconn *c, bool last)
{
	if (c->h2 == NULL)
		return;
	if (last)
		nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
	else
		nghttp2_submit_shutdown_notice(c->h2);
}
