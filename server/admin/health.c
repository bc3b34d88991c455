/* health.c - the Redis watcher (health.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health.h"
#include "log.h"

struct cw_health {
	cw_cache *cache;
	int timeout_ms;
	char where[256];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	/* under mu */
	bool stop;
	bool up;
	char why[sizeof(cw_error){0}.message]; /* when down */
};

static void *run(void *arg)
{
	cw_health *h = arg;
	cw_error err;

	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += CW_HEALTH_INTERVAL_MS / 1000;
		t.tv_nsec += (long)(CW_HEALTH_INTERVAL_MS % 1000) * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wake, &h->mu, &t);
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->mu);
		int rc = cw_cache_ping(h->cache, h->timeout_ms, &err);
		pthread_mutex_lock(&h->mu);
		if (rc == CW_OK) {
			if (!h->up)
				cw_log(CW_LOG_INFO, "redis at %s answers now",
				    h->where);
			h->up = true;
		} else if (h->up || strcmp(err.message, h->why) != 0) {
			cw_log(CW_LOG_WARN, "redis at %s %s not answer: %s",
			    h->where, h->up ? "does" : "still does",
			    err.message);
			h->up = false;
			snprintf(h->why, sizeof h->why, "%s", err.message);
		}
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

cw_health *cw_health_start(cw_cache *cache, const char *where, int timeout_ms,
    bool up, const char *why_down)
{
	cw_health *h = calloc(1, sizeof *h);

	if (h == NULL) {
		cw_log(CW_LOG_ERROR, "out of memory");
		return NULL;
	}
	h->cache = cache;
	h->timeout_ms = timeout_ms;
	h->up = up;
	snprintf(h->where, sizeof h->where, "%s", where);
	snprintf(h->why, sizeof h->why, "%s", up ? "" : why_down);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->wake, NULL);
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		cw_log(CW_LOG_ERROR, "cannot start the Redis health thread");
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	return h;
}

bool cw_health_redis_up(cw_health *h, char *why, size_t len)
{
	if (h == NULL) {
		if (why != NULL)
			snprintf(why, len, "Redis is not being watched");
		return false;
	}
	pthread_mutex_lock(&h->mu);
	bool up = h->up;
	if (!up && why != NULL)
		snprintf(why, len, "redis at %s does not answer: %s", h->where,
		    h->why);
	pthread_mutex_unlock(&h->mu);
	return up;
}

void cw_health_stop(cw_health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
