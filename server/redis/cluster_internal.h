/*
 * cluster_internal.h - what cluster.c (routing, nodes, life) and
 * cluster_map.c (the slot map and the thread that reads it) share.
 * Private to server/redis. Everything in cw_cluster marked "under mu"
 * is guarded by cw_cluster.mu.
 */
#ifndef CW_REDIS_CLUSTER_INTERNAL_H
#define CW_REDIS_CLUSTER_INTERNAL_H

#include <pthread.h>

#include "cluster.h"
#include "slot.h"

#define RECHECK_MS     5000 /* read the slot map this often in any case */
#define RETRY_MS       500  /* while no map, or slots are uncovered */
#define REFRESH_MIN_MS 100  /* at most this often when asked to */

struct part;

typedef struct node {
	struct node *next;
	char addr[CW_NODE_ADDR_MAX];
	char host[256];
	int port;
	cw_mux *mux;
	int refs;    /* parts in flight on it */
	bool master; /* serves slots in the current map */
	/* scratch, while a job is split */
	int count;
	struct part *part;
} node;

struct cw_cluster {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool stopping;
	bool want_refresh;
	node *nodes;
	node *slots[CW_SLOTS];
	int masters, replicas, covered;
	bool have_map;
	cw_error map_err; /* why there is no map, or why the last read failed */
	uint64_t map_sig; /* of the last map logged */
	uint64_t moved, ask, refreshes, refresh_errors;
	/* set at create */
	cw_redis_target target;
	cw_redis_node *seeds;
	int nseeds;
	int connections, connect_timeout_ms, command_timeout_ms;
};

/* cluster.c: the node at host:port, made (with its mux) when new; under
 * mu. NULL with *e when stopping or out of memory. */
node *cw__cluster_node(cw_cluster *cl, const char *host, int port, cw_error *e);

/* cluster_map.c: read the map now (not under mu), and the thread that
 * reads it again (cw_cluster.thread). */
void cw__cluster_refresh(cw_cluster *cl);
void *cw__cluster_watch(void *arg);

#endif
