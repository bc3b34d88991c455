/*
 * large.c - `cachewire-bench-large`: one large value (256 MiB by default)
 * set and read back through the service in chunks (cw_set_from /
 * cw_get_to), and the same value SET and GET on Redis directly through
 * hiredis, alternately, in one invocation, so their ratio holds on a noisy
 * machine. Reports MiB/s of each, their ratio, the client's peak RSS while
 * the service moved the value, and cachewired's peak RSS (--server-pid).
 *
 *   cachewire-bench-large --url tcp://127.0.0.1:7420 \
 *       --redis unix:///tmp/redis.sock [--size 256MiB] [--runs 3] \
 *       [--server-pid PID]
 *
 * The service side never holds the value: a generator callback makes it
 * as it is read, a checking callback verifies it as it comes back. The
 * hiredis side holds it whole, as a plain client does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include <cachewire/cachewire.h>

#include "bench.h"

#define MIB ((double)(1 << 20))

/* The value's byte at offset i: cheap, and wrong at any misplaced byte. */
static inline uint8_t byte_at(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ (i >> 20));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t peak_rss_kib; /* the client's VmRSS, sampled in transfers */

static void sample_rss(void *arg, uint64_t done, uint64_t total)
{
	uint64_t rss, hwm;
	char err[128];
	(void)arg, (void)done, (void)total;
	if (read_proc_mem(getpid(), &rss, &hwm, err, sizeof err) == 0 &&
	    rss > peak_rss_kib)
		peak_rss_kib = rss;
}

struct gen {
	uint64_t at, size;
	bool bad;
};

static int gen_read(void *arg, void *buf, size_t len, size_t *got)
{
	struct gen *g = arg;
	uint8_t *p = buf;
	size_t n = g->size - g->at < len ? (size_t)(g->size - g->at) : len;
	for (size_t i = 0; i < n; i++)
		p[i] = byte_at(g->at + i);
	g->at += n;
	*got = n;
	return 0;
}

static int check_write(void *arg, const void *buf, size_t len)
{
	struct gen *g = arg;
	const uint8_t *p = buf;
	for (size_t i = 0; i < len && !g->bad; i++)
		g->bad = p[i] != byte_at(g->at + i);
	g->at += len;
	return 0;
}

/* One service round trip: seconds for the set and the get; -1 failed. */
static int service_once(
    cw_client *c, uint64_t size, double *set_s, double *get_s)
{
	cw_stream_options o = {
	    .total_size = (int64_t)size, .progress = sample_rss};
	struct gen g = {0, size, false};
	cw_error err;
	bool found;
	double t0 = now_s();

	if (cw_set_from(c, "bench:large", 11, gen_read, &g, CW_NO_EXPIRY, &o,
	        NULL, &err) != CW_OK) {
		fprintf(stderr, "service set: %s\n", err.message);
		return -1;
	}
	*set_s = now_s() - t0;
	g = (struct gen){0, size, false};
	t0 = now_s();
	if (cw_get_to(c, "bench:large", 11, &found, check_write, &g, &o,
	        &err) != CW_OK) {
		fprintf(stderr, "service get: %s\n", err.message);
		return -1;
	}
	*get_s = now_s() - t0;
	if (!found || g.at != size || g.bad) {
		fprintf(stderr, "service get: the value came back wrong\n");
		return -1;
	}
	return 0;
}

static int redis_once(
    redisContext *r, uint64_t size, double *set_s, double *get_s)
{
	uint8_t *v = malloc(size);
	redisReply *x;
	bool ok;

	if (v == NULL)
		return -1;
	for (uint64_t i = 0; i < size; i++)
		v[i] = byte_at(i);
	double t0 = now_s();
	x = redisCommand(r, "SET bench:large-direct %b", v, (size_t)size);
	*set_s = now_s() - t0;
	ok = x != NULL && x->type == REDIS_REPLY_STATUS;
	freeReplyObject(x);
	t0 = now_s();
	x = ok ? redisCommand(r, "GET bench:large-direct") : NULL;
	*get_s = now_s() - t0;
	ok = x != NULL && x->type == REDIS_REPLY_STRING && x->len == size &&
	     memcmp(x->str, v, size) == 0;
	if (!ok)
		fprintf(stderr, "redis: %s\n",
		    x != NULL && x->type == REDIS_REPLY_ERROR ? x->str
		    : r->err                                  ? r->errstr
		                                              : "wrong reply");
	freeReplyObject(x);
	free(v);
	redisReply *d = redisCommand(r, "DEL bench:large-direct");
	freeReplyObject(d);
	return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static int usage(void)
{
	fputs("usage: cachewire-bench-large --url URL --redis "
	      "unix:///PATH|redis://HOST:PORT [--size BYTES[MiB]] [--runs N] "
	      "[--server-pid PID]\n",
	    stderr);
	return BENCH_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *url = NULL, *redis = NULL;
	uint64_t size = 256ull << 20;
	int runs = 3;
	long server_pid = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		char *end;
		if (strcmp(argv[i], "--url") == 0)
			url = argv[i + 1];
		else if (strcmp(argv[i], "--redis") == 0)
			redis = argv[i + 1];
		else if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--server-pid") == 0)
			server_pid = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--size") == 0) {
			size = strtoull(argv[i + 1], &end, 10);
			if (strcmp(end, "MiB") == 0)
				size <<= 20;
			else if (*end != '\0')
				return usage();
		} else
			return usage();
	}
	if (url == NULL || redis == NULL || runs < 1 || runs > 20 ||
	    size == 0 || argc % 2 == 0)
		return usage();

	redisContext *r = strncmp(redis, "unix://", 7) == 0
	                      ? redisConnectUnix(redis + 7)
	                      : NULL;
	if (r == NULL && strncmp(redis, "redis://", 8) == 0) {
		char host[256];
		int port = 6379;
		if (sscanf(redis + 8, "%255[^:/]:%d", host, &port) >= 1)
			r = redisConnect(host, port);
	}
	if (r == NULL || r->err) {
		fprintf(stderr, "cannot connect to %s: %s\n", redis,
		    r != NULL ? r->errstr : "bad URL");
		return BENCH_EXIT_FAILURE;
	}
	cw_client *c;
	cw_error err;
	if (cw_open(&c, url, NULL, &err) != CW_OK) {
		fprintf(stderr, "%s: %s\n", url, err.message);
		return BENCH_EXIT_FAILURE;
	}
	double ss[20], sg[20], rs[20], rg[20], st[20], rt[20];
	for (int k = 0; k < runs; k++) {
		if (service_once(c, size, &ss[k], &sg[k]) != 0 ||
		    redis_once(r, size, &rs[k], &rg[k]) != 0)
			return BENCH_EXIT_FAILURE;
		st[k] = ss[k] + sg[k];
		rt[k] = rs[k] + rg[k];
	}
	double mib = (double)size / MIB;
	double s_set = median(ss, runs), s_get = median(sg, runs),
	       s_rt = median(st, runs), r_set = median(rs, runs),
	       r_get = median(rg, runs), r_rt = median(rt, runs);
	printf("value: %.0f MiB, runs: %d (medians), service alternating with "
	       "Redis direct\n",
	    mib, runs);
	printf("%-28s %10s %10s %12s\n", "", "set MiB/s", "get MiB/s",
	    "both MiB/s");
	printf("%-28s %10.1f %10.1f %12.1f\n", "service (cw_set_from/get_to)",
	    mib / s_set, mib / s_get, mib / s_rt);
	printf("%-28s %10.1f %10.1f %12.1f\n", "redis direct (hiredis)",
	    mib / r_set, mib / r_get, mib / r_rt);
	printf("round trip, service / redis direct: %.2f\n", r_rt / s_rt);
	printf("client peak RSS while the service moved it: %.1f MiB\n",
	    (double)peak_rss_kib / 1024.0);
	if (server_pid > 0) {
		uint64_t rss, hwm;
		char e[128];
		if (read_proc_mem((pid_t)server_pid, &rss, &hwm, e, sizeof e) ==
		    0)
			printf("cachewired peak RSS: %.1f MiB\n",
			    (double)hwm / 1024.0);
		else
			printf("cachewired peak RSS: unknown (%s)\n", e);
	}
	cw_delete(c, "bench:large", 11, NULL, 0, NULL);
	cw_close(c);
	redisFree(r);
	return BENCH_EXIT_OK;
}
