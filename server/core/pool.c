/*
 * pool.c - a fixed pool of blocking hiredis connections (see pool.h).
 *
 * The mutex guards only the slots' busy flags; a slot's connection is used
 * and (re)made by whoever holds the slot, without the mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "pool.h"

struct cw_pool_slot {
	redisContext *ctx; /* NULL until connected, and after a failure */
	bool busy;
};

struct cw_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when a slot is released */
	cw_redis_target target;
	char desc[192]; /* the target without its password, for messages */
	int connect_timeout_ms;
	int size;
	cw_pool_slot *slots;
};

uint64_t cw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct timeval ms_to_tv(int ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1; /* a zero timeval would mean "no timeout" */
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
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

int cw_pool_create(cw_pool **out, const cw_redis_target *target, int size,
    int connect_timeout_ms, cw_error *err)
{
	pthread_condattr_t ca;
	cw_pool *p;
	int rc;

	if (target == NULL || size < 1 || connect_timeout_ms < 1)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "bad pool target, size or connect timeout");
	rc = check_target(target, err);
	if (rc != CW_OK)
		return rc;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	p->slots = calloc((size_t)size, sizeof *p->slots);
	if (p->slots == NULL) {
		free(p);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	rc = cw_redis_target_copy(&p->target, target, err);
	if (rc != CW_OK) {
		free(p->slots);
		free(p);
		return rc;
	}
	cw_redis_target_describe(&p->target, p->desc, sizeof p->desc);
	p->size = size;
	p->connect_timeout_ms = connect_timeout_ms;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = p;
	return CW_OK;
}

void cw_pool_destroy(cw_pool *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++)
		if (p->slots[i].ctx != NULL)
			redisFree(p->slots[i].ctx);
	free(p->slots);
	cw_redis_target_free(&p->target);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int cw_pool_acquire(cw_pool *p, int wait_ms, cw_pool_slot **out, cw_error *err)
{
	uint64_t deadline =
	    cw_mono_ms() + (uint64_t)(wait_ms < 1 ? 1 : wait_ms);
	struct timespec ts = {
	    (time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
	cw_pool_slot *pick;
	int i;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		/* Prefer a connected slot so that idle ones stay unconnected.
		 */
		pick = NULL;
		for (i = 0; i < p->size; i++) {
			cw_pool_slot *s = &p->slots[i];
			if (s->busy)
				continue;
			if (s->ctx != NULL) {
				pick = s;
				break;
			}
			if (pick == NULL)
				pick = s;
		}
		if (pick != NULL)
			break;
		if (cw_mono_ms() >= deadline) {
			pthread_mutex_unlock(&p->mu);
			return cw_error_set(err, CW_DEADLINE_EXCEEDED,
			    "no free Redis connection within %d ms", wait_ms);
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pick->busy = true;
	pthread_mutex_unlock(&p->mu);
	*out = pick;
	return CW_OK;
}

void cw_pool_release(cw_pool *p, cw_pool_slot *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	s->busy = false;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void slot_reset(cw_pool_slot *s)
{
	if (s->ctx != NULL) {
		redisFree(s->ctx);
		s->ctx = NULL;
	}
}

/* Did ctx fail because a socket timeout (SO_RCVTIMEO/SO_SNDTIMEO) passed? */
static bool is_timeout(const redisContext *ctx, int saved_errno)
{
	if (ctx->err != REDIS_ERR_IO)
		return false;
	if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
	    saved_errno == ETIMEDOUT)
		return true;
	return strstr(ctx->errstr, "temporarily unavailable") != NULL ||
	       strstr(ctx->errstr, "timed out") != NULL;
}

/*
 * hiredis writes with write(2): a peer that went away raises SIGPIPE,
 * which would kill the process. Block it around our I/O and swallow one
 * that we caused, unless the thread had it blocked already.
 */
typedef struct sigpipe_guard {
	sigset_t old;
	bool was_blocked;
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->was_blocked = sigismember(&g->old, SIGPIPE) == 1;
}

static void sigpipe_restore(sigpipe_guard *g)
{
	sigset_t set, pending;
	struct timespec zero = {0, 0};

	if (g->was_blocked)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* One login command (AUTH or SELECT) on a fresh connection. */
static int login_step(cw_pool *p, redisContext *ctx, int argc,
    const char **argv, const size_t *argvlen, const char *what, cw_error *err)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, argvlen);
	int saved_errno = errno, rc = CW_OK;

	if (r == NULL) {
		if (is_timeout(ctx, saved_errno))
			return cw_error_set(err, CW_DEADLINE_EXCEEDED,
			    "%s on %s timed out: %s", what, p->desc,
			    ctx->errstr);
		return cw_error_set(err, CW_UNAVAILABLE, "%s on %s failed: %s",
		    what, p->desc, ctx->errstr);
	}
	if (r->type == REDIS_REPLY_ERROR)
		rc = cw_error_set(err, CW_UNAVAILABLE, "%s on %s failed: %.*s",
		    what, p->desc, (int)r->len, r->str);
	freeReplyObject(r);
	return rc;
}

/* Connect s, then AUTH and SELECT as the target says. */
static int slot_connect(
    cw_pool *p, cw_pool_slot *s, int timeout_ms, cw_error *err)
{
	const cw_redis_target *t = &p->target;
	int limit = p->connect_timeout_ms < timeout_ms ? p->connect_timeout_ms
	                                               : timeout_ms;
	redisContext *ctx;
	int saved_errno, rc = CW_OK;

	if (t->unix_path != NULL)
		ctx =
		    redisConnectUnixWithTimeout(t->unix_path, ms_to_tv(limit));
	else
		ctx =
		    redisConnectWithTimeout(t->host, t->port, ms_to_tv(limit));
	saved_errno = errno;
	if (ctx == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	if (ctx->err) {
		/* The call's own deadline was the tighter bound: say so. */
		int code = is_timeout(ctx, saved_errno) &&
		                   timeout_ms < p->connect_timeout_ms
		               ? CW_DEADLINE_EXCEEDED
		               : CW_UNAVAILABLE;
		rc = cw_error_set(err, code, "cannot connect to %s: %s",
		    p->desc, ctx->errstr);
		redisFree(ctx);
		return rc;
	}
	if (t->unix_path == NULL)
		redisEnableKeepAlive(ctx);
	if (redisSetTimeout(ctx, ms_to_tv(timeout_ms)) != REDIS_OK) {
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "cannot set timeout on %s: %s", p->desc, ctx->errstr);
		redisFree(ctx);
		return rc;
	}
	if (t->password != NULL) {
		const char *argv[3] = {"AUTH", t->user, t->password};
		size_t lens[3] = {
		    4, t->user ? strlen(t->user) : 0, strlen(t->password)};
		if (t->user != NULL)
			rc = login_step(p, ctx, 3, argv, lens, "AUTH", err);
		else {
			argv[1] = argv[2];
			lens[1] = lens[2];
			rc = login_step(p, ctx, 2, argv, lens, "AUTH", err);
		}
	}
	if (rc == CW_OK && t->db != 0) {
		char db[16];
		int n = snprintf(db, sizeof db, "%d", t->db);
		const char *argv[2] = {"SELECT", db};
		size_t lens[2] = {6, (size_t)n};
		rc = login_step(p, ctx, 2, argv, lens, "SELECT", err);
	}
	if (rc != CW_OK) {
		redisFree(ctx);
		return rc;
	}
	s->ctx = ctx;
	return CW_OK;
}

/* The body of cw_pool_command, with SIGPIPE blocked. */
static int run_command(cw_pool *p, cw_pool_slot *s, int argc, const char **argv,
    const size_t *argvlen, int timeout_ms, redisReply **reply, bool *retryable,
    cw_error *err)
{
	redisReply *r;
	int saved_errno, rc;

	if (s->ctx != NULL && s->ctx->err)
		slot_reset(s);
	if (s->ctx == NULL) {
		rc = slot_connect(p, s, timeout_ms, err);
		if (rc != CW_OK)
			return rc;
	} else if (redisSetTimeout(s->ctx, ms_to_tv(timeout_ms)) != REDIS_OK) {
		*retryable = true;
		rc = cw_error_set(err, CW_UNAVAILABLE,
		    "cannot set timeout on %s: %s", p->desc, s->ctx->errstr);
		slot_reset(s);
		return rc;
	}
	r = redisCommandArgv(s->ctx, argc, argv, argvlen);
	saved_errno = errno;
	if (r == NULL) {
		if (s->ctx->err == REDIS_ERR_OOM)
			rc = cw_error_set(err, CW_INTERNAL, "out of memory");
		else if (is_timeout(s->ctx, saved_errno))
			rc = cw_error_set(err, CW_DEADLINE_EXCEEDED,
			    "Redis did not answer %.*s within %d ms",
			    (int)argvlen[0], argv[0], timeout_ms);
		else {
			*retryable = true;
			rc = cw_error_set(err, CW_UNAVAILABLE,
			    "lost connection to %s: %s", p->desc,
			    s->ctx->errstr[0] ? s->ctx->errstr
			                      : "unknown error");
		}
		slot_reset(s);
		return rc;
	}
	/* Redis restarted with a password, or our login was revoked. */
	if (r->type == REDIS_REPLY_ERROR && r->len >= 6 &&
	    memcmp(r->str, "NOAUTH", 6) == 0) {
		*retryable = true;
		rc = cw_error_set(
		    err, CW_UNAVAILABLE, "redis: %.*s", (int)r->len, r->str);
		freeReplyObject(r);
		slot_reset(s);
		return rc;
	}
	*reply = r;
	return CW_OK;
}

int cw_pool_command(cw_pool *p, cw_pool_slot *s, int argc, const char **argv,
    const size_t *argvlen, int timeout_ms, redisReply **reply, bool *retryable,
    cw_error *err)
{
	sigpipe_guard g;
	int rc;

	*retryable = false;
	sigpipe_block(&g);
	rc = run_command(p, s, argc, argv, argvlen,
	    timeout_ms < 1 ? 1 : timeout_ms, reply, retryable, err);
	sigpipe_restore(&g);
	return rc;
}
