/*
 * metrics.h - what the admin endpoint reports (admin.h serves it):
 * readiness and the Prometheus text for /metrics, read from the parts of
 * a running cachewired. main.c fills a cw_daemon as the parts come up and
 * go away; readers lock it, so a scrape never sees a part being freed.
 */
#ifndef CW_SERVER_METRICS_H
#define CW_SERVER_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "cache.h"
#include "dispatch.h"
#include "gate.h"
#include "grpc_server.h"
#include "health.h"
#include "server.h"

enum cw_phase { CW_STARTING, CW_SERVING, CW_STOPPING };

typedef struct cw_daemon {
	pthread_mutex_t mu;
	/* under mu: main.c sets them, and clears them before freeing */
	enum cw_phase phase;
	cw_server *server;    /* NULL until the listeners are up */
	cw_grpc_server *grpc; /* NULL: no gRPC */
	cw_gate *gate;
	cw_services services;
	cw_cache *cache;
	cw_health *health;
	long long start_time; /* Unix seconds */
} cw_daemon;

/* Ready to serve: listeners up, not stopping, Redis answering. If not,
 * the reason goes to why ("stopping", "redis at ... does not answer: ..."). */
bool cw_daemon_ready(cw_daemon *d, char *why, size_t len);

/* The Prometheus text exposition of d (malloc'd, *len bytes, NUL-
 * terminated), or NULL when out of memory. */
char *cw_metrics_render(cw_daemon *d, size_t *len);

#endif
