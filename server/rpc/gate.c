/* gate.c - the in-flight cap every transport shares (gate.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

struct cw_gate {
	pthread_mutex_t mu;
	pthread_cond_t idle; /* signalled when the last request leaves */
	int in, max;
	bool stopping;
};

cw_gate *cw_gate_new(int max)
{
	cw_gate *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->max = max;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->idle, &ca);
	pthread_condattr_destroy(&ca);
	return g;
}

void cw_gate_free(cw_gate *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->idle);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int cw_gate_enter(cw_gate *g, cw_error *err)
{
	pthread_mutex_lock(&g->mu);
	bool stopping = g->stopping, over = g->in >= g->max;
	int max = g->max;
	if (!stopping && !over)
		g->in++;
	pthread_mutex_unlock(&g->mu);
	if (stopping)
		return cw_error_set(
		    err, CW_UNAVAILABLE, "the server is stopping");
	if (over)
		return cw_error_set(err, CW_RESOURCE_EXHAUSTED,
		    "server overloaded: %d requests in flight "
		    "(server.max_in_flight)",
		    max);
	return CW_OK;
}

void cw_gate_leave(cw_gate *g)
{
	pthread_mutex_lock(&g->mu);
	if (--g->in == 0)
		pthread_cond_broadcast(&g->idle);
	pthread_mutex_unlock(&g->mu);
}

void cw_gate_set_max(cw_gate *g, int max)
{
	pthread_mutex_lock(&g->mu);
	g->max = max;
	pthread_mutex_unlock(&g->mu);
}

void cw_gate_load(cw_gate *g, int *in, int *max)
{
	pthread_mutex_lock(&g->mu);
	*in = g->in;
	*max = g->max;
	pthread_mutex_unlock(&g->mu);
}

void cw_gate_close(cw_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	pthread_mutex_unlock(&g->mu);
}

int cw_gate_drain(cw_gate *g, int timeout_ms)
{
	struct timespec until;

	if (g == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	while (
	    g->in > 0 && pthread_cond_timedwait(&g->idle, &g->mu, &until) == 0)
		;
	int left = g->in;
	pthread_mutex_unlock(&g->mu);
	return left;
}
