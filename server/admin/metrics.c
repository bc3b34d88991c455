/*
 * metrics.c - readiness and the Prometheus text format (metrics.h).
 * Names and meanings are listed in README.md, "Operating".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "metrics.h"
#include "stats.h"

/* A growing string; on out of memory it stays failed and render says so. */
typedef struct buf {
	char *p;
	size_t len, cap;
	bool failed;
} buf;

static void put(buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n + 1;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void family(buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool ready_locked(cw_daemon *d, char *why, size_t len)
{
	const char *reason = NULL;

	if (d->phase == CW_STARTING || d->server == NULL)
		reason = "starting";
	else if (d->phase == CW_STOPPING)
		reason = "stopping";
	else if (!cw_health_redis_up(d->health, why, len))
		return false; /* why says which Redis and why */
	if (reason != NULL && why != NULL)
		snprintf(why, len, "%s", reason);
	return reason == NULL;
}

bool cw_daemon_ready(cw_daemon *d, char *why, size_t len)
{
	pthread_mutex_lock(&d->mu);
	bool ready = ready_locked(d, why, len);
	pthread_mutex_unlock(&d->mu);
	return ready;
}

/* Add x's counters into *into. */
static void add(cw_method_stats *into, const cw_method_stats *x)
{
	for (int c = 0; c < CW_STATS_CODES; c++)
		into->codes[c] += x->codes[c];
	for (int k = 0; k <= CW_STATS_BUCKETS; k++)
		into->buckets[k] += x->buckets[k];
	into->count += x->count;
	into->sum_ns += x->sum_ns;
}

static const char *method_name(const cw_daemon *d, int i)
{
	return cw_services_method_name(&d->services, i);
}

/* Requests of every transport together, by method; and each
 * transport's count. */
static void requests(buf *b, cw_daemon *d)
{
	const cw_rpc_stats *t[2] = {cw_server_stats(d->server),
	    d->grpc != NULL ? cw_grpc_stats(d->grpc) : NULL};
	static const char *const tname[2] = {"nng", "grpc"};
	uint64_t per[2] = {0, 0}, in = 0, out = 0;
	int n = cw_services_methods(&d->services);
	cw_method_stats m[n + 1]; /* n is the services' few methods */

	memset(m, 0, sizeof m);
	for (int k = 0; k < 2; k++) {
		if (t[k] == NULL)
			continue;
		for (int i = -1; i < n; i++) {
			cw_method_stats x;
			cw_rpc_stats_read(t[k], i, &x);
			add(&m[i + 1], &x);
			per[k] += x.count;
		}
		uint64_t ki, ko;
		cw_rpc_stats_read_bytes(t[k], &ki, &ko);
		in += ki;
		out += ko;
	}
	uint64_t nb, nc;
	cw_server_batches(d->server, &nb, &nc);
	family(b, "cachewire_nng_batches_total", "counter",
	    "Batch envelopes (many calls in one nng message) served.");
	put(b, "cachewire_nng_batches_total %llu\n", (unsigned long long)nb);
	family(b, "cachewire_nng_batched_calls_total", "counter",
	    "Calls that came in batch envelopes.");
	put(b, "cachewire_nng_batched_calls_total %llu\n",
	    (unsigned long long)nc);
	family(b, "cachewire_transport_requests_total", "counter",
	    "Requests answered, by transport (nng, grpc).");
	for (int k = 0; k < 2; k++)
		if (t[k] != NULL)
			put(b,
			    "cachewire_transport_requests_total{transport="
			    "\"%s\"} %llu\n",
			    tname[k], (unsigned long long)per[k]);
	family(b, "cachewire_requests_total", "counter",
	    "Requests answered, by method and status code.");
	for (int i = -1; i < n; i++)
		for (int code = 0; code < CW_STATS_CODES; code++)
			if (m[i + 1].codes[code] > 0)
				put(b,
				    "cachewire_requests_total{method=\"%s\","
				    "code=\"%s\"} %llu\n",
				    method_name(d, i), cw_strerror(code),
				    (unsigned long long)m[i + 1].codes[code]);
	family(b, "cachewire_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its reply, by method.");
	for (int i = -1; i < n; i++) {
		const cw_method_stats *x = &m[i + 1];
		if (x->count == 0)
			continue;
		unsigned long long sum = 0;
		for (int k = 0; k < CW_STATS_BUCKETS; k++) {
			sum += x->buckets[k];
			put(b,
			    "cachewire_request_duration_seconds_bucket{method="
			    "\"%s\",le=\"%g\"} %llu\n",
			    method_name(d, i), cw_stats_bounds_s[k], sum);
		}
		put(b,
		    "cachewire_request_duration_seconds_bucket{method=\"%s\","
		    "le=\"+Inf\"} %llu\n"
		    "cachewire_request_duration_seconds_sum{method=\"%s\"} "
		    "%.9f\n"
		    "cachewire_request_duration_seconds_count{method=\"%s\"} "
		    "%llu\n",
		    method_name(d, i), (unsigned long long)x->count,
		    method_name(d, i), (double)x->sum_ns / 1e9,
		    method_name(d, i), (unsigned long long)x->count);
	}

	int in_flight, max;
	cw_gate_load(d->gate, &in_flight, &max);
	family(b, "cachewire_requests_in_flight", "gauge",
	    "Requests being served now (every transport).");
	put(b, "cachewire_requests_in_flight %d\n", in_flight);
	family(b, "cachewire_max_in_flight", "gauge",
	    "server.max_in_flight: requests served at once before refusing.");
	put(b, "cachewire_max_in_flight %d\n", max);
	family(b, "cachewire_received_bytes_total", "counter",
	    "Bytes of request messages received.");
	put(b, "cachewire_received_bytes_total %llu\n", (unsigned long long)in);
	family(b, "cachewire_sent_bytes_total", "counter",
	    "Bytes of reply messages sent.");
	put(b, "cachewire_sent_bytes_total %llu\n", (unsigned long long)out);
}

static void redis(buf *b, cw_daemon *d)
{
	cw_cache_stats c;

	cw_cache_get_stats(d->cache, &c);
	family(b, "cachewire_redis_up", "gauge",
	    "1 when Redis answered the last health PING.");
	put(b, "cachewire_redis_up %d\n",
	    cw_health_redis_up(d->health, NULL, 0) ? 1 : 0);
	family(b, "cachewire_redis_errors_total", "counter",
	    "Redis connection attempts that failed and connections that "
	    "broke or stalled.");
	put(b, "cachewire_redis_errors_total %llu\n",
	    (unsigned long long)c.errors);
	family(b, "cachewire_redis_reconnects_total", "counter",
	    "Redis connections made to replace ones that broke.");
	put(b, "cachewire_redis_reconnects_total %llu\n",
	    (unsigned long long)c.reconnects);
	family(b, "cachewire_redis_connections", "gauge",
	    "Redis connections open and ready.");
	put(b, "cachewire_redis_connections %d\n", c.connections_up);
	family(b, "cachewire_redis_pool_size", "gauge",
	    "redis.pool_size: the most Redis connections.");
	put(b, "cachewire_redis_pool_size %d\n", c.pool_size);
	family(b, "cachewire_redis_pending_commands", "gauge",
	    "Redis requests queued or awaiting replies.");
	put(b, "cachewire_redis_pending_commands %llu\n",
	    (unsigned long long)c.pending);
	if (c.master_known < 0)
		return;
	char where[256];
	cw_cache_describe(d->cache, where, sizeof where);
	family(b, "cachewire_redis_sentinel_master", "gauge",
	    "redis.mode sentinel: 1, labelled with the master Sentinel "
	    "named; 0 (no label) while none is known.");
	if (c.master_known)
		put(b, "cachewire_redis_sentinel_master{url=\"%s\"} 1\n",
		    where);
	else
		put(b, "cachewire_redis_sentinel_master 0\n");
	family(b, "cachewire_redis_sentinel_master_moves_total", "counter",
	    "redis.mode sentinel: times the master moved (failovers seen).");
	put(b, "cachewire_redis_sentinel_master_moves_total %llu\n",
	    (unsigned long long)c.master_moves);
}

static void node_line(void *arg, const char *addr, const cw_mux_stats *s)
{
	put(arg, "cachewire_redis_node_connections{node=\"%s\"} %d\n", addr,
	    s->connections_up);
}

/* redis.mode cluster: the map and the redirections followed. */
static void cluster(buf *b, cw_daemon *d)
{
	cw_cluster_stats s;

	if (!cw_cache_cluster_stats(d->cache, &s, NULL, NULL))
		return;
	family(b, "cachewire_redis_cluster_masters", "gauge",
	    "Masters in the Redis Cluster's slot map.");
	put(b, "cachewire_redis_cluster_masters %d\n", s.masters);
	family(b, "cachewire_redis_cluster_replicas", "gauge",
	    "Replicas the slot map lists.");
	put(b, "cachewire_redis_cluster_replicas %d\n", s.replicas);
	family(b, "cachewire_redis_cluster_slots_served", "gauge",
	    "Hash slots (of 16384) that a master of the map serves.");
	put(b, "cachewire_redis_cluster_slots_served %d\n", s.slots_covered);
	family(b, "cachewire_redis_cluster_moved_total", "counter",
	    "MOVED replies followed (the slot map was out of date).");
	put(b, "cachewire_redis_cluster_moved_total %llu\n",
	    (unsigned long long)s.moved);
	family(b, "cachewire_redis_cluster_ask_total", "counter",
	    "ASK replies followed (a slot being migrated).");
	put(b, "cachewire_redis_cluster_ask_total %llu\n",
	    (unsigned long long)s.ask);
	family(b, "cachewire_redis_cluster_slot_map_refreshes_total", "counter",
	    "Slot maps read (CLUSTER SLOTS).");
	put(b, "cachewire_redis_cluster_slot_map_refreshes_total %llu\n",
	    (unsigned long long)s.refreshes);
	family(b, "cachewire_redis_cluster_slot_map_errors_total", "counter",
	    "Times no node of the cluster gave its slot map.");
	put(b, "cachewire_redis_cluster_slot_map_errors_total %llu\n",
	    (unsigned long long)s.refresh_errors);
	family(b, "cachewire_redis_node_connections", "gauge",
	    "Connections open and ready, per master.");
	cw_cache_cluster_stats(d->cache, &s, node_line, b);
}

char *cw_metrics_render(cw_daemon *d, size_t *len)
{
	buf b = {.cap = 8192};

	if ((b.p = malloc(b.cap)) == NULL)
		return NULL;
	b.p[0] = '\0';
	pthread_mutex_lock(&d->mu);
	family(&b, "cachewire_build_info", "gauge",
	    "Versions of cachewired and the nng it runs on.");
	put(&b, "cachewire_build_info{version=\"%s\",nng=\"%s\"} 1\n",
	    CW_VERSION_STRING, nng_version());
	family(&b, "cachewire_start_time_seconds", "gauge",
	    "When cachewired started, in Unix seconds.");
	put(&b, "cachewire_start_time_seconds %lld\n", d->start_time);
	family(&b, "cachewire_ready", "gauge",
	    "1 when /readyz answers 200: serving, and Redis answers.");
	put(&b, "cachewire_ready %d\n", ready_locked(d, NULL, 0) ? 1 : 0);
	if (d->server != NULL)
		requests(&b, d);
	if (d->cache != NULL) {
		redis(&b, d);
		cluster(&b, d);
	}
	pthread_mutex_unlock(&d->mu);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
