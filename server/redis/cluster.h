/*
 * cluster.h - Redis Cluster: commands routed by hash slot to the master
 * that serves it, over one mux (mux.h) per master.
 *
 * Requests are built as for a mux, each keyed command marked with its
 * slot (cw_mux_req_slot, slot.h). cw_cluster_submit splits a request by
 * master, sends the parts in parallel, and answers once with every reply
 * in the request's order, so a caller sees one mux. Commands without a
 * slot (PING) go to every master: their reply is the first error any
 * gives, else the first answer.
 *
 * The slot map comes from CLUSTER SLOTS, asked of the masters known and
 * then of the seeds in turn by a thread of its own (blocking hiredis,
 * each exchange bounded by the connect timeout): once before
 * cw_cluster_create returns, every RECHECK_MS, and soon (at most every
 * REFRESH_MIN_MS) after a MOVED reply, a lost connection or a
 * CLUSTERDOWN. Masters that appear get a mux; ones that vanish are closed
 * once nothing is in flight on them.
 *
 * Redirections: MOVED updates the slot's master at once and sends the
 * command there; ASK sends it once to the named node behind ASKING. A
 * command is redirected at most MAX_HOPS times, then fails with
 * CW_UNAVAILABLE. A reply always answers its own command: a redirected
 * command's reply is the one from the node that served it.
 *
 * Failures: with no slot map (no node answered), or a slot no master
 * serves, a request fails at once with CW_UNAVAILABLE and the reason. A
 * request split over several masters waits for every part; if a part
 * fails, the request fails with that part's status and message (the
 * first to fail), prefixed, for a request of several commands, with the
 * indexes of those that failed ("3 of 100 keys failed (4, 17, 52): ...");
 * the other parts may have been applied.
 */
#ifndef CW_REDIS_CLUSTER_H
#define CW_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis.h>

#include "mux.h"

#define CW_NODE_ADDR_MAX 300 /* "host:port", host up to 255 bytes */

typedef struct cw_cluster cw_cluster;

typedef struct cw_cluster_options {
	const cw_redis_target *target; /* credentials; host, port, db unused */
	const cw_redis_node *seeds;    /* 1 or more; copied */
	int nseeds;
	int connections; /* per master */
	int connect_timeout_ms;
	int command_timeout_ms;
} cw_cluster_options;

/*
 * Ask the seeds for the slot map once, then start the thread. No node
 * answering is not an error here (requests fail until one does);
 * CW_INVALID_ARGUMENT for bad options, CW_INTERNAL without memory or a
 * thread. Free with cw_cluster_destroy().
 */
int cw_cluster_create(
    cw_cluster **out, const cw_cluster_options *o, cw_error *err);

/* As cw_mux_stop, for every master; again is a no-op. */
void cw_cluster_stop(cw_cluster *cl);
/* cw_cluster_stop, then free everything. NULL is a no-op. */
void cw_cluster_destroy(cw_cluster *cl);

/* Route r by its commands' slots (see the top); takes r. */
void cw_cluster_submit(cw_cluster *cl, cw_mux_req *r);

/*
 * Send all of r to the node at addr ("host:port", as cw_cluster_masters
 * gives it), slots or not: for SCAN on each master. MOVED and ASK replies
 * are followed as for cw_cluster_submit.
 */
void cw_cluster_submit_node(cw_cluster *cl, const char *addr, cw_mux_req *r);

/* The masters of the current map, up to max; returns how many there are. */
int cw_cluster_masters(
    cw_cluster *cl, char (*addrs)[CW_NODE_ADDR_MAX], int max);

/* "Redis Cluster: 3 masters, 3 replicas, 16384 of 16384 slots covered". */
void cw_cluster_describe(cw_cluster *cl, char *buf, size_t len);

typedef struct cw_cluster_stats {
	cw_mux_stats mux; /* summed over the masters */
	int masters;
	int replicas; /* as CLUSTER SLOTS lists them: Redis leaves out
	                 replicas that hold no data yet */
	int slots_covered;
	uint64_t moved;          /* MOVED replies followed */
	uint64_t ask;            /* ASK replies followed */
	uint64_t refreshes;      /* slot maps read */
	uint64_t refresh_errors; /* times no node gave one */
} cw_cluster_stats;

void cw_cluster_stats_get(cw_cluster *cl, cw_cluster_stats *out);

/* Per master, for metrics: calls fn for each with its mux's stats. */
void cw_cluster_each_master(cw_cluster *cl,
    void (*fn)(void *arg, const char *addr, const cw_mux_stats *s), void *arg);

/* ---- the slot map (cluster_map.c; pure, exposed for tests) ---- */

typedef struct cw_slot_range {
	int start, end; /* inclusive */
	char host[256];
	int port;
	int replicas;
} cw_slot_range;

/*
 * Read a CLUSTER SLOTS reply. A master with an empty host is the node
 * asked (asked_host); one whose address is unknown ("?") is left out, so
 * its slots count as uncovered. *out is malloc'd (free()); CW_OK, or
 * CW_UNAVAILABLE with a message for an error reply (e.g. "ERR This
 * instance has cluster support disabled") or a malformed one.
 */
int cw_cluster_slots_parse(const redisReply *r, const char *asked_host,
    cw_slot_range **out, int *n, cw_error *err);

#endif
