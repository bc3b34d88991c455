/*
 * sentinel.c - finding the master through Redis Sentinel (sentinel.h).
 *
 * Blocking hiredis on a thread of its own: every exchange with a
 * sentinel or the master is bounded by the connect timeout, so the mux's
 * I/O thread never waits for one. The subscription (+switch-master) is
 * read with poll() beside an eventfd that cw_sentinel_suspect and
 * cw_sentinel_stop write, so either wakes the thread at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <hiredis.h>

#include "dial.h"
#include "log.h"
#include "sentinel.h"

#define RECHECK_MS     5000 /* look again this often in any case */
#define RETRY_MS       500  /* while no master is known */
#define SUSPECT_MIN_MS 200  /* at most this often when the mux suspects */
#define HOST_MAX       256

struct cw_sentinel {
	cw_mux *mux;
	pthread_t thread;
	bool started;
	int efd;
	int timeout_ms;
	cw_redis_node *nodes;
	int nnodes;
	int next; /* the sentinel to ask first: the one that answered last */
	char *master;
	char *password;
	cw_redis_target data; /* credentials of the master */
	/* what the mux was told */
	bool known;
	char host[HOST_MAX];
	int port;
	pthread_mutex_t mu;
	bool stopping; /* under mu */
};

static redisContext *dial(const cw_sentinel *s, const char *host, int port,
    const char *user, const char *password, cw_error *err)
{
	return cw__redis_dial(host, port, user, password, s->timeout_ms, err);
}

/* Does host:port call itself a master? */
static int confirm(const cw_sentinel *s, const char *host, int port,
    const cw_redis_node *by, cw_error *err)
{
	redisContext *c =
	    dial(s, host, port, s->data.user, s->data.password, err);
	if (c == NULL)
		return err->code;
	redisReply *r = redisCommand(c, "ROLE");
	int rc = CW_OK;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "%s:%d (named by sentinel %s:%d) did not answer ROLE: %s",
		    host, port, by->host, by->port,
		    r == NULL                      ? c->errstr
		    : r->type == REDIS_REPLY_ERROR ? r->str
		                                   : "unexpected reply");
	else if (strcmp(r->element[0]->str, "master") != 0)
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "%s:%d, which sentinel %s:%d names as master '%s', is a "
		    "%s",
		    host, port, by->host, by->port, s->master,
		    r->element[0]->str);
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

/* Ask sentinel i where the master is, and check it there. */
static int ask(
    const cw_sentinel *s, int i, char *host, int *port, cw_error *err)
{
	const cw_redis_node *n = &s->nodes[i];
	redisContext *c = dial(s, n->host, n->port, NULL, s->password, err);
	if (c == NULL) {
		char why[sizeof err->message];
		snprintf(why, sizeof why, "%s", err->message);
		return cw_error_set(err, CW_UNAVAILABLE, "sentinel: %s", why);
	}
	redisReply *r =
	    redisCommand(c, "SENTINEL get-master-addr-by-name %s", s->master);
	int rc = CW_OK;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    strlen(r->element[0]->str) < HOST_MAX) {
		snprintf(host, HOST_MAX, "%s", r->element[0]->str);
		*port = atoi(r->element[1]->str);
	} else if (r != NULL && r->type == REDIS_REPLY_NIL) {
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "sentinel %s:%d knows no master named '%s'", n->host,
		    n->port, s->master);
	} else {
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "sentinel %s:%d: SENTINEL get-master-addr-by-name: %s",
		    n->host, n->port,
		    r == NULL                      ? c->errstr
		    : r->type == REDIS_REPLY_ERROR ? r->str
		                                   : "unexpected reply");
	}
	freeReplyObject(r);
	redisFree(c);
	if (rc != CW_OK)
		return rc;
	return confirm(s, host, *port, n, err);
}

static bool stopping(cw_sentinel *s)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* Find the master and tell the mux what changed. */
static void resolve(cw_sentinel *s)
{
	char host[HOST_MAX];
	int port = 0, rc = CW_UNAVAILABLE;
	cw_error err = {0};

	for (int k = 0; k < s->nnodes && !stopping(s); k++) {
		int i = (s->next + k) % s->nnodes;
		if ((rc = ask(s, i, host, &port, &err)) == CW_OK) {
			s->next = i;
			break;
		}
	}
	if (rc == CW_OK) {
		if (s->known && s->port == port && strcmp(s->host, host) == 0)
			return;
		if (s->known)
			cw_log(CW_LOG_WARN,
			    "sentinel: master '%s' moved from %s:%d to %s:%d",
			    s->master, s->host, s->port, host, port);
		else
			cw_log(CW_LOG_INFO, "sentinel: master '%s' is at %s:%d",
			    s->master, host, port);
		snprintf(s->host, sizeof s->host, "%s", host);
		s->port = port;
		s->known = true;
		cw_mux_retarget(s->mux, host, port, NULL);
		return;
	}
	if (stopping(s))
		return;
	char why[sizeof err.message];
	snprintf(why, sizeof why, "%s", err.message);
	cw_error_set(&err, CW_UNAVAILABLE,
	    "no master '%s' found by %d sentinel%s: %s", s->master, s->nnodes,
	    s->nnodes == 1 ? "" : "s", why);
	if (s->known) {
		cw_log(CW_LOG_WARN, "%s; still using %s:%d", err.message,
		    s->host, s->port);
	} else {
		cw_log(CW_LOG_WARN, "%s", err.message);
		cw_mux_retarget(s->mux, NULL, 0, &err);
	}
}

/* SUBSCRIBE +switch-master on the sentinel that answered last. */
static redisContext *subscribe(cw_sentinel *s)
{
	cw_error err;
	const cw_redis_node *n = &s->nodes[s->next];
	redisContext *c = dial(s, n->host, n->port, NULL, s->password, &err);
	if (c == NULL)
		return NULL;
	redisReply *r = redisCommand(c, "SUBSCRIBE +switch-master");
	bool ok = r != NULL && r->type == REDIS_REPLY_ARRAY;
	freeReplyObject(r);
	if (!ok) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Read what the subscription has: does any message name our master? */
static bool switched(cw_sentinel *s, redisContext *c, bool *broken)
{
	void *reply = NULL;
	bool ours = false;

	if (redisBufferRead(c) != REDIS_OK) {
		*broken = true;
		return true;
	}
	while (
	    redisGetReplyFromReader(c, &reply) == REDIS_OK && reply != NULL) {
		redisReply *r = reply;
		/* ["message", "+switch-master", "<name> <old ip> <old port>
		 * <new ip> <new port>"] */
		size_t n = strlen(s->master);
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[2]->type == REDIS_REPLY_STRING &&
		    strncmp(r->element[2]->str, s->master, n) == 0 &&
		    r->element[2]->str[n] == ' ')
			ours = true;
		freeReplyObject(reply);
		reply = NULL;
	}
	if (c->err)
		*broken = true;
	return ours || *broken;
}

static void *watch(void *arg)
{
	cw_sentinel *s = arg;
	redisContext *sub = NULL;
	uint64_t last = cw_mono_ms();

	pthread_setname_np(pthread_self(), "cw:sentinel");
	while (!stopping(s)) {
		if (sub == NULL)
			sub = subscribe(s);
		uint64_t now = cw_mono_ms();
		uint64_t every = s->known ? RECHECK_MS : RETRY_MS;
		int wait = now >= last + every ? 0 : (int)(last + every - now);
		struct pollfd pf[2] = {{.fd = s->efd, .events = POLLIN},
		    {.fd = sub ? sub->fd : -1, .events = POLLIN}};
		/* No subscription: try for one again at the next look. */
		int got = poll(pf, 2, wait);
		bool look = got == 0;
		if (got > 0 && pf[0].revents) {
			uint64_t v;
			while (read(s->efd, &v, sizeof v) < 0 && errno == EINTR)
				;
			if (cw_mono_ms() < last + SUSPECT_MIN_MS)
				usleep(SUSPECT_MIN_MS * 1000);
			look = true;
		}
		if (got > 0 && sub != NULL && pf[1].revents) {
			bool broken = false;
			look |= switched(s, sub, &broken);
			if (broken) {
				redisFree(sub);
				sub = NULL;
			}
		}
		if (look && !stopping(s)) {
			resolve(s);
			last = cw_mono_ms();
		}
	}
	redisFree(sub);
	return NULL;
}

static void wake(cw_sentinel *s)
{
	uint64_t one = 1;
	while (write(s->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

void cw_sentinel_suspect(cw_sentinel *s)
{
	if (s != NULL)
		wake(s);
}

static void sentinel_free(cw_sentinel *s)
{
	for (int i = 0; i < s->nnodes; i++)
		cw_redis_node_free(&s->nodes[i]);
	free(s->nodes);
	free(s->master);
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	free(s->password);
	cw_redis_target_free(&s->data);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int cw_sentinel_start(cw_sentinel **out, const cw_redis_sentinel *o,
    const cw_redis_target *data, int connect_timeout_ms, cw_mux *m,
    cw_error *err)
{
	cw_sentinel *s = calloc(1, sizeof *s);
	if (s == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->mux = m;
	s->timeout_ms = connect_timeout_ms;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->nodes = calloc((size_t)o->nnodes, sizeof *s->nodes);
	s->master = strdup(o->master);
	s->password = o->password ? strdup(o->password) : NULL;
	bool ok = s->efd >= 0 && s->nodes != NULL && s->master != NULL &&
	          (o->password == NULL || s->password != NULL) &&
	          cw_redis_target_copy(&s->data, data, err) == CW_OK;
	for (int i = 0; ok && i < o->nnodes; i++) {
		s->nodes[i].port = o->nodes[i].port;
		ok = (s->nodes[i].host = strdup(o->nodes[i].host)) != NULL;
		s->nnodes = i + 1;
	}
	if (!ok) {
		sentinel_free(s);
		return cw_error_set(err, CW_INTERNAL,
		    "cannot set up Sentinel: out of memory or descriptors");
	}
	resolve(s);
	if (pthread_create(&s->thread, NULL, watch, s) != 0) {
		sentinel_free(s);
		return cw_error_set(
		    err, CW_INTERNAL, "cannot start the Sentinel thread");
	}
	s->started = true;
	*out = s;
	return CW_OK;
}

void cw_sentinel_stop(cw_sentinel *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_mutex_unlock(&s->mu);
	wake(s);
	if (s->started)
		pthread_join(s->thread, NULL);
	sentinel_free(s);
}
