/*
 * stats_format.c - `cachewire stats`' output: struct cli_metrics (parsed by
 * stats.c) as the figures a human wants at a glance (see stats.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define LABEL_WIDTH 17

/* A count: "12345", or "1.2e+20", "NaN", "+Inf" when not a plain one. */
static const char *num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%sInf", v > 0 ? "+" : "-");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* Seconds as a person reads them: "0.25 ms", "2.5 s". */
static const char *secs(char *buf, size_t len, double s)
{
	if (isnan(s) || isinf(s) || s < 0)
		return num(buf, len, s);
	if (s < 1)
		snprintf(buf, len, "%.3g ms", s * 1000);
	else
		snprintf(buf, len, "%.3g s", s);
	return buf;
}

static const char *bytes(char *buf, size_t len, double v)
{
	static const char *const units[] = {
	    "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	char n[32];
	size_t u = 0;

	if (!(v >= 1024) || isinf(v)) {
		snprintf(buf, len, "%s B", num(n, sizeof n, v));
		return buf;
	}
	for (v /= 1024; v >= 1024 && u + 1 < sizeof units / sizeof units[0];
	     u++)
		v /= 1024;
	snprintf(buf, len, v < 1024 ? "%.1f %s" : "%.3g %s", v, units[u]);
	return buf;
}

/* "2h 03m 10s", "3d 00h 00m 05s", "42s". */
static const char *uptime(char *buf, size_t len, double s)
{
	unsigned long long t, d, h, mi;

	if (isnan(s) || s > 1e15)
		return "unknown";
	t = s > 0 ? (unsigned long long)s : 0;
	d = t / 86400;
	h = t / 3600 % 24;
	mi = t / 60 % 60;
	if (d > 0)
		snprintf(buf, len, "%llud %02lluh %02llum %02llus", d, h, mi,
		    t % 60);
	else if (h > 0)
		snprintf(buf, len, "%lluh %02llum %02llus", h, mi, t % 60);
	else if (mi > 0)
		snprintf(buf, len, "%llum %02llus", mi, t % 60);
	else
		snprintf(buf, len, "%llus", t);
	return buf;
}

static void label(FILE *f, const char *name)
{
	fprintf(f, "%-*s ", LABEL_WIDTH - 1, name);
}

/* ", N thing(s)"; an absent counter is 0. */
static void counted(FILE *f, double v, const char *what)
{
	char b[32];

	fprintf(f, ", %s %s%s", num(b, sizeof b, v), what, v == 1 ? "" : "s");
}

/* OK first, then the most frequent; ties by name. */
static int code_order(const void *pa, const void *pb)
{
	const struct cli_metrics_code *a = pa, *b = pb;
	int oa = strcmp(a->name, "OK") != 0, ob = strcmp(b->name, "OK") != 0;

	if (oa != ob)
		return oa - ob;
	if (a->n != b->n && !isnan(a->n) && !isnan(b->n))
		return a->n > b->n ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* ", p99 <= 2.5 ms", or ", p99 > 10 s" past the last finite bucket. */
static void quantile(
    FILE *f, const struct cli_metrics_method *mm, const char *name, double q)
{
	double v = cli_metrics_quantile(mm, q);
	char b[32];

	if (isnan(v))
		return;
	if (!isinf(v))
		fprintf(f, ", %s <= %s", name, secs(b, sizeof b, v));
	else if (mm->nbuckets > 1 && !isinf(mm->le[mm->nbuckets - 2]))
		fprintf(f, ", %s > %s", name,
		    secs(b, sizeof b, mm->le[mm->nbuckets - 2]));
}

static void format_method(FILE *f, const struct cli_metrics_method *mm)
{
	char name[CLI_METRICS_NAME_MAX + 2], b[32];
	double calls = mm->requests.seen ? mm->requests.v : mm->count.v;

	snprintf(name, sizeof name, "  %s", mm->name);
	label(f, name);
	fprintf(f, "%s call%s", num(b, sizeof b, calls), calls == 1 ? "" : "s");
	quantile(f, mm, "p50", 0.5);
	quantile(f, mm, "p99", 0.99);
	if (mm->sum.seen && mm->count.seen && mm->count.v > 0)
		fprintf(
		    f, ", mean %s", secs(b, sizeof b, mm->sum.v / mm->count.v));
	fputc('\n', f);
}

void cli_stats_format(const struct cli_metrics *m, const char *admin_url,
    bool ready, const char *reason, FILE *f)
{
	static const char *const known[] = {"Get", "Set", "Delete", "Clear",
	    "Ping", "GetMany", "SetMany", "DeleteMany"};
	struct cli_metrics_code codes[CLI_METRICS_MAX_CODES];
	bool shown[CLI_METRICS_MAX_METHODS] = {false};
	char b[64], b2[64];
	size_t i, k;

	fprintf(f, "cachewired %s at %s: %s\n",
	    m->version[0] != '\0' ? m->version : "(version unknown)", admin_url,
	    ready                                 ? "ready"
	    : reason != NULL && reason[0] != '\0' ? reason
	                                          : "not ready");
	label(f, "uptime");
	fprintf(f, "%s\n",
	    m->start_time.seen ? uptime(b, sizeof b, m->now - m->start_time.v)
	                       : "unknown");

	label(f, "requests");
	fprintf(f, "%s total", num(b, sizeof b, m->requests.v));
	if (m->in_flight.seen)
		fprintf(f, ", %s in flight", num(b, sizeof b, m->in_flight.v));
	if (m->max_in_flight.seen)
		fprintf(f, " (max %s)", num(b, sizeof b, m->max_in_flight.v));
	fputc('\n', f);
	if (m->ncodes > 0) {
		memcpy(codes, m->codes, m->ncodes * sizeof codes[0]);
		qsort(codes, m->ncodes, sizeof codes[0], code_order);
		label(f, "  by status");
		for (i = 0; i < m->ncodes; i++)
			fprintf(f, "%s%s %s", i > 0 ? ", " : "", codes[i].name,
			    num(b, sizeof b, codes[i].n));
		fputc('\n', f);
	}
	/* The service's methods in their usual order, then the others. */
	for (k = 0; k <= sizeof known / sizeof known[0]; k++)
		for (i = 0; i < m->nmethods; i++)
			if (!shown[i] &&
			    (k == sizeof known / sizeof known[0] ||
			        strcmp(m->methods[i].name, known[k]) == 0)) {
				format_method(f, &m->methods[i]);
				shown[i] = true;
			}

	label(f, "bytes");
	fprintf(f, "%s in, %s out\n", bytes(b, sizeof b, m->received_bytes.v),
	    bytes(b2, sizeof b2, m->sent_bytes.v));

	label(f, "redis");
	fputs(!m->redis_up.seen    ? "state unknown"
	      : m->redis_up.v == 1 ? "up"
	                           : "DOWN",
	    f);
	if (m->redis_connections.seen && m->redis_pool_size.seen)
		fprintf(f, ", %s of %s connections open",
		    num(b, sizeof b, m->redis_connections.v),
		    num(b2, sizeof b2, m->redis_pool_size.v));
	else if (m->redis_connections.seen)
		fprintf(f, ", %s connection%s open",
		    num(b, sizeof b, m->redis_connections.v),
		    m->redis_connections.v == 1 ? "" : "s");
	if (m->redis_pending.seen)
		fprintf(
		    f, ", %s pending", num(b, sizeof b, m->redis_pending.v));
	counted(f, m->redis_errors.v, "error");
	counted(f, m->redis_reconnects.v, "reconnect");
	fputc('\n', f);
}
