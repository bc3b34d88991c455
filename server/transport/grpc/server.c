/*
 * server.c - the gRPC server's loop thread (server.h): listeners, an epoll
 * over every socket, the queue of answered calls, start and stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "gate.h"
#include "grpc_internal.h"
#include "log.h"
#include "stats.h"

#define TICK_MS 1000 /* setup timeouts are checked this often */

uint64_t cw__grpc_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

void cw__grpc_wake(cw_grpc_server *s)
{
	uint64_t one = 1;
	ssize_t w = write(s->wakefd, &one, sizeof one);
	(void)w; /* a full counter wakes the loop as well */
}

void cw__grpc_watch(gconn *c, bool out)
{
	struct epoll_event ev = {
	    .events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c};
	c->out_armed = out;
	epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_forget(cw_grpc_server *s, gconn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
}

/*
 * The connection c after an event; it may be freed by what conn.c does,
 * so it is taken off the list first and put back if it lives.
 */
static void conn_event(cw_grpc_server *s, gconn *c, uint32_t events)
{
	conn_forget(s, c);
	bool alive = c->handshaking || events & (EPOLLIN | EPOLLHUP | EPOLLERR)
	                 ? cw__grpc_conn_on_event(c, events)
	                 : cw__grpc_conn_flush(c);
	if (!alive)
		return;
	c->prev = NULL;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage a;
	socklen_t alen = sizeof a;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&a, &alen) == 0) {
		if (a.ss_family == AF_INET) {
			struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
			inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
			port = ntohs(v4->sin_port);
		} else if (a.ss_family == AF_INET6) {
			struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
			inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
			port = ntohs(v6->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", host, port);
}

static void accept_all(cw_grpc_server *s, listener *l)
{
	for (;;) {
		int fd =
		    accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				cw_log(CW_LOG_WARN, "grpc: accept: %s",
				    strerror(errno));
			return;
		}
		if (s->nconns >= MAX_CONNS) {
			cw_log(CW_LOG_WARN,
			    "grpc: %d connections open; refusing one more",
			    MAX_CONNS);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		gconn *c = cw__grpc_conn_new(s, fd, l->tls);
		if (c == NULL) {
			close(fd);
			continue;
		}
		peer_name(fd, c->peer, sizeof c->peer);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			cw__grpc_conn_free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		/* h2c: our SETTINGS go out at once */
		if (!l->tls)
			conn_event(s, c, 0);
	}
}

/* Answer what the done queue holds. */
static void answer_done(cw_grpc_server *s)
{
	pthread_mutex_lock(&s->mu);
	gstream *st = s->done_head;
	int n = 0;
	s->done_head = NULL;
	s->done_tail = &s->done_head;
	pthread_mutex_unlock(&s->mu);
	if (st == NULL)
		return;
	/* Answer every call (its connection owns it again), or free it
	 * when its stream or connection went away; then write each
	 * connection that got answers, once (not every connection). */
	gconn *answered = NULL;
	while (st != NULL) {
		gstream *next = st->done_next;
		n++;
		if (st->conn != NULL) {
			cw__grpc_answer(st);
			if (!st->conn->answered) {
				st->conn->answered = true;
				st->conn->answered_next = answered;
				answered = st->conn;
			}
		} else {
			cw__grpc_stream_free(st);
		}
		st = next;
	}
	while (answered != NULL) {
		gconn *c = answered;
		answered = c->answered_next;
		c->answered = false;
		conn_event(s, c, 0); /* writes; may free c */
	}
	pthread_mutex_lock(&s->mu);
	s->in_flight -= n;
	if (s->in_flight == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
}

static void close_listeners(cw_grpc_server *s)
{
	for (int i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].fd >= 0) {
			epoll_ctl(
			    s->epfd, EPOLL_CTL_DEL, s->listeners[i].fd, NULL);
			close(s->listeners[i].fd);
			s->listeners[i].fd = -1;
		}
	}
}

/* GOAWAY to every connection (the notice, or the last), and write it. */
static void goaway_all(cw_grpc_server *s, bool last)
{
	for (gconn *c = s->conns; c != NULL; c = c->next)
		cw__grpc_conn_goaway(c, last);
	for (gconn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->h2 != NULL)
			conn_event(s, c, 0);
	}
}

/* Close connections still setting up after SETUP_MS. */
static void expire_setups(cw_grpc_server *s)
{
	uint64_t now = cw__grpc_now_ms();
	for (gconn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (!c->ready && now - c->opened_ms > SETUP_MS) {
			cw_log(CW_LOG_DEBUG,
			    "grpc: %s did not set up HTTP/2 in %d ms; closing",
			    c->peer, SETUP_MS);
			conn_forget(s, c);
			cw__grpc_conn_free(c);
		}
	}
}

static void *loop(void *arg)
{
	cw_grpc_server *s = arg;
	struct epoll_event ev[64];
	uint64_t stop_at = 0, last_tick = cw__grpc_now_ms();

	pthread_setname_np(pthread_self(), "cw:grpc");
	for (;;) {
		int n = epoll_wait(s->epfd, ev, 64, stop_at ? 50 : TICK_MS);
		for (int i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;
			if (kind == EP_WAKE) {
				uint64_t v;
				ssize_t r = read(s->wakefd, &v, sizeof v);
				(void)r;
			} else if (kind == EP_LISTENER) {
				accept_all(s, ev[i].data.ptr);
			} else {
				conn_event(s, ev[i].data.ptr, ev[i].events);
			}
			answer_done(s);
		}
		answer_done(s);
		uint64_t now = cw__grpc_now_ms();
		if (now - last_tick >= TICK_MS) {
			expire_setups(s);
			last_tick = now;
		}
		pthread_mutex_lock(&s->mu);
		bool shutdown = s->want_shutdown, stop = s->want_stop;
		pthread_mutex_unlock(&s->mu);
		if (shutdown && !s->shut) {
			s->shut = true;
			close_listeners(s);
			goaway_all(s, false);
		}
		if (stop && stop_at == 0) {
			goaway_all(s, true);
			stop_at = now + STOP_FLUSH_MS;
		}
		if (stop_at != 0 && (s->conns == NULL || now >= stop_at))
			break;
	}
	while (s->conns != NULL) {
		gconn *c = s->conns;
		conn_forget(s, c);
		cw__grpc_conn_free(c);
	}
	return NULL;
}

/* ---- start and stop --------------------------------------------------- */

static int listen_on(cw_grpc_server *s, const cw_grpc_addr *a, cw_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char port[8];
	const char *host =
	    a->host[0] == '\0' || strcmp(a->host, "*") == 0 ? NULL : a->host;
	snprintf(port, sizeof port, "%d", a->port);
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return cw_error_set(err, CW_UNAVAILABLE,
		    "cannot listen on %s%s:%d (gRPC): %s",
		    a->tls ? "tls://" : "", a->host, a->port, gai_strerror(rc));
	int fd = socket(res->ai_family,
	    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return cw_error_set(err, CW_UNAVAILABLE,
		    "cannot listen on %s%s:%d (gRPC): %s",
		    a->tls ? "tls://" : "", a->host, a->port, strerror(e));
	}
	freeaddrinfo(res);
	listener *l = &s->listeners[s->nlisteners++];
	struct sockaddr_storage sa;
	socklen_t slen = sizeof sa;
	l->kind = EP_LISTENER;
	l->fd = fd;
	l->tls = a->tls;
	l->port = a->port;
	if (getsockname(fd, (struct sockaddr *)&sa, &slen) == 0)
		l->port = ntohs(sa.ss_family == AF_INET6
		                    ? ((struct sockaddr_in6 *)&sa)->sin6_port
		                    : ((struct sockaddr_in *)&sa)->sin_port);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return cw_error_set(
		    err, CW_INTERNAL, "epoll: %s", strerror(errno));
	cw_log(CW_LOG_INFO, "gRPC listening on %s%s:%d%s",
	    a->tls ? "tls://" : "", a->host, l->port,
	    a->tls ? (s->ssl != NULL ? " (TLS, ALPN h2)" : "")
	           : " (h2c, plaintext)");
	return CW_OK;
}

static void server_free(cw_grpc_server *s)
{
	close_listeners(s);
	if (s->wakefd >= 0)
		close(s->wakefd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->ssl != NULL)
		SSL_CTX_free(s->ssl);
	if (s->cbs != NULL)
		nghttp2_session_callbacks_del(s->cbs);
	cw_rpc_stats_free(s->stats);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int cw_grpc_start(cw_grpc_server **out, const cw_services *svcs,
    const cw_grpc_options *o, cw_error *err)
{
	cw_grpc_addr addrs[CW_GRPC_MAX_LISTEN];
	int n = 0;

	if (cw_grpc_listen_parse(
	        o->listen, addrs, CW_GRPC_MAX_LISTEN, &n, err) != CW_OK)
		return err->code;
	cw_grpc_server *s = calloc(1, sizeof *s);
	if (s == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	s->svcs = *svcs;
	s->auth = o->auth;
	s->gate = o->gate;
	atomic_init(&s->max_message_bytes, o->max_message_bytes);
	atomic_init(&s->default_timeout_ms, o->default_timeout_ms);
	s->wake_kind = EP_WAKE;
	s->done_tail = &s->done_head;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->stats = cw_rpc_stats_new(cw_services_methods(svcs));
	s->cbs = cw__grpc_callbacks_new();
	if (s->epfd < 0 || s->wakefd < 0 || s->stats == NULL ||
	    s->cbs == NULL) {
		server_free(s);
		return cw_error_set(err, CW_INTERNAL,
		    "cannot set up the gRPC server: out of memory or file "
		    "descriptors");
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->wake_kind};
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev);
	int rc = CW_OK;
	for (int i = 0; i < n && rc == CW_OK; i++) {
		if (addrs[i].tls && s->ssl == NULL) {
			if (o->tls == NULL || o->tls->cert_file == NULL ||
			    o->tls->key_file == NULL)
				rc = cw_error_set(err, CW_INVALID_ARGUMENT,
				    "cannot listen on tls://%s:%d (gRPC): it "
				    "needs tls.cert_file and tls.key_file",
				    addrs[i].host, addrs[i].port);
			else if ((s->ssl = cw__grpc_tls_context(o->tls, err)) ==
			         NULL)
				rc = err->code;
		}
		if (rc == CW_OK)
			rc = listen_on(s, &addrs[i], err);
	}
	if (rc == CW_OK && pthread_create(&s->thread, NULL, loop, s) != 0)
		rc = cw_error_set(
		    err, CW_INTERNAL, "cannot start the gRPC thread");
	if (rc != CW_OK) {
		server_free(s);
		return rc;
	}
	s->started = true;
	*out = s;
	return CW_OK;
}

int cw_grpc_port(const cw_grpc_server *s, int i)
{
	return i >= 0 && i < s->nlisteners ? s->listeners[i].port : -1;
}

void cw_grpc_set_limits(
    cw_grpc_server *s, size_t max_message_bytes, int default_timeout_ms)
{
	atomic_store(&s->max_message_bytes, max_message_bytes);
	atomic_store(&s->default_timeout_ms, default_timeout_ms);
}

const struct cw_rpc_stats *cw_grpc_stats(const cw_grpc_server *s)
{
	return s->stats;
}

static void ask(cw_grpc_server *s, bool stop)
{
	pthread_mutex_lock(&s->mu);
	if (stop)
		s->want_stop = true;
	else
		s->want_shutdown = true;
	pthread_mutex_unlock(&s->mu);
	cw__grpc_wake(s);
}

void cw_grpc_shutdown(cw_grpc_server *s)
{
	if (s != NULL)
		ask(s, false);
}

void cw_grpc_stop(cw_grpc_server *s)
{
	if (s == NULL)
		return;
	ask(s, false);
	/* The calls in flight are answered by the loop, which runs on. */
	pthread_mutex_lock(&s->mu);
	while (s->in_flight > 0)
		pthread_cond_wait(&s->idle, &s->mu);
	pthread_mutex_unlock(&s->mu);
	ask(s, true);
	pthread_join(s->thread, NULL);
	server_free(s);
}
