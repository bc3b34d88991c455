/*
 * report.c - cachewire-bench's output: a table for people (default) or one
 * JSON object for machines (--json), with the per-target figures, the
 * ratios between targets and the server's memory.
 */
#include <stdio.h>
#include <string.h>

#include <cachewire/cachewire.h>

#include "bench.h"

#define MIB         (1024.0 * 1024.0)
#define SHOW_MIB_AT (64 * 1024) /* value sizes from which MiB/s is shown */

static const double pcts[] = {0.50, 0.90, 0.99, 0.999};
static const char *const pct_names[] = {"p50", "p90", "p99", "p999"};
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

/* Derived figures of one target. */
struct figures {
	uint64_t ops; /* measured completions: ok + errors */
	double ops_s, keys_s, bytes_s;
	double pct_us[NPCTS], max_us, mean_us;
};

static void figures(const struct target_result *r, struct figures *f)
{
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->ops = r->s.ok + r->errors;
	if (r->elapsed_s > 0) {
		f->ops_s = (double)r->s.ok / r->elapsed_s;
		f->keys_s = (double)r->s.keys / r->elapsed_s;
		f->bytes_s = (double)r->s.bytes / r->elapsed_s;
	}
	if (r->s.h == NULL)
		return;
	for (i = 0; i < NPCTS; i++)
		f->pct_us[i] = (double)hist_percentile(r->s.h, pcts[i]) / 1e3;
	f->max_us = (double)r->s.h->max / 1e3;
	f->mean_us = hist_mean(r->s.h) / 1e3;
}

static const struct target_result *find(
    const struct target_result *res, unsigned n, enum bench_target t)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (res[i].target == t && res[i].ran && res[i].s.ok > 0)
			return &res[i];
	return NULL;
}

/* The ratios between targets; false where a target is missing. */
struct ratios {
	bool have_echo, have_redis, have_p50, have_grpc;
	double over_echo, over_redis, p50_overhead_us;
	double svc_p50, echo_p50, redis_p50;
	double grpc_over_service, grpc_p50; /* the service over gRPC */
	bool have_twem;
	double over_twem, twem_p50; /* service / twemproxy */
};

static void ratios(
    const struct target_result *res, unsigned n, struct ratios *q)
{
	const struct target_result *s = find(res, n, TARGET_SERVICE);
	const struct target_result *r = find(res, n, TARGET_REDIS);
	const struct target_result *e = find(res, n, TARGET_ECHO);
	const struct target_result *g = find(res, n, TARGET_GRPC);
	const struct target_result *tw = find(res, n, TARGET_TWEMPROXY);
	struct figures fs, fr, fe, fg, ft;

	memset(q, 0, sizeof(*q));
	if (s == NULL)
		return;
	figures(s, &fs);
	q->svc_p50 = fs.pct_us[0];
	if (e != NULL) {
		figures(e, &fe);
		q->have_echo = fe.ops_s > 0;
		q->over_echo = q->have_echo ? fs.ops_s / fe.ops_s : 0;
		q->echo_p50 = fe.pct_us[0];
	}
	if (r != NULL) {
		figures(r, &fr);
		q->have_redis = fr.ops_s > 0;
		q->over_redis = q->have_redis ? fs.ops_s / fr.ops_s : 0;
		q->redis_p50 = fr.pct_us[0];
	}
	if (g != NULL) {
		figures(g, &fg);
		q->have_grpc = fs.ops_s > 0;
		q->grpc_over_service = q->have_grpc ? fg.ops_s / fs.ops_s : 0;
		q->grpc_p50 = fg.pct_us[0];
	}
	if (tw != NULL) {
		figures(tw, &ft);
		q->have_twem = ft.ops_s > 0;
		q->over_twem = q->have_twem ? fs.ops_s / ft.ops_s : 0;
		q->twem_p50 = ft.pct_us[0];
	}
	q->have_p50 = e != NULL && r != NULL;
	q->p50_overhead_us = q->svc_p50 - (q->echo_p50 + q->redis_p50);
}

static bool batching(const struct bench_opts *o)
{
	return wl_keys_per_op(o) > 1 || o->workload == WL_GETMANY ||
	       o->workload == WL_SETMANY;
}

static bool reading(const struct bench_opts *o)
{
	return o->workload == WL_GET || o->workload == WL_MIXED ||
	       o->workload == WL_GETMANY;
}

static void print_size(FILE *f, size_t n)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		fprintf(f, "%zu MiB", n / (1024 * 1024));
	else if (n >= 1024 && n % 1024 == 0)
		fprintf(f, "%zu KiB", n / 1024);
	else
		fprintf(f, "%zu B", n);
}

/* ---- table ----------------------------------------------------------------
 */

static void table_errors(const struct target_result *r)
{
	unsigned k;
	bool first = true;

	if (r->errors == 0)
		return;
	printf("  %s errors:", target_name(r->target));
	for (k = 0; k < ERR_KINDS; k++) {
		if (r->s.errors[k] == 0)
			continue;
		printf("%s %s %llu", first ? "" : ",", err_kind_name(k),
		    (unsigned long long)r->s.errors[k]);
		first = false;
	}
	printf("\n    first: %s\n", r->s.first_error);
}

void report_table(const struct bench_opts *o, const struct target_result *res,
    unsigned n, const struct server_mem *mem)
{
	bool keys_col = batching(o), mib_col = o->value_size >= SHOW_MIB_AT;
	bool hit_col = reading(o);
	struct figures f;
	struct ratios q;
	unsigned i;

	printf(
	    "cachewire-bench %s: %s", CW_VERSION, workload_name(o->workload));
	if (o->workload == WL_MIXED)
		printf(" (%.0f%% gets)", o->ratio * 100);
	if (keys_col)
		printf(", %u keys per op", o->batch);
	printf(", ");
	print_size(stdout, o->value_size);
	printf(" values, %llu keys", (unsigned long long)o->keys);
	if (hit_col)
		printf(" (%llu stored)", (unsigned long long)wl_populated(o));
	if (o->blocking)
		printf(", %u threads making blocking calls (%u per service "
		       "client, 1 per RESP connection), ",
		    o->conns * o->depth, o->depth);
	else
		printf(", %u conns x %u deep = %u in flight, ", o->conns,
		    o->depth, o->conns * o->depth);
	if (o->ops > 0)
		printf("%llu ops", (unsigned long long)o->ops);
	else
		printf("%g s", o->duration_s);
	printf(" per target after %g s warm-up\n\n", o->warmup_s);

	printf("%-8s %10s %11s", "target", "ops", "ops/s");
	if (keys_col)
		printf(" %11s", "keys/s");
	if (mib_col)
		printf(" %8s", "MiB/s");
	if (hit_col)
		printf(" %6s", "hit%");
	printf(" %9s %9s %9s %9s %9s %7s\n", "p50 us", "p90 us", "p99 us",
	    "p99.9 us", "max us", "errors");
	for (i = 0; i < n; i++) {
		const struct target_result *r = &res[i];
		if (!r->ran) {
			printf("%-8s not run: %s\n", target_name(r->target),
			    r->message);
			continue;
		}
		figures(r, &f);
		printf("%-8s %10llu %11.1f", target_name(r->target),
		    (unsigned long long)f.ops, f.ops_s);
		if (keys_col)
			printf(" %11.1f", f.keys_s);
		if (mib_col)
			printf(" %8.1f", f.bytes_s / MIB);
		if (hit_col) {
			uint64_t looked = r->s.hits + r->s.misses;
			printf(" %6.1f",
			    looked ? 100.0 * (double)r->s.hits / (double)looked
			           : 0.0);
		}
		printf(" %9.1f %9.1f %9.1f %9.1f %9.1f %7llu\n", f.pct_us[0],
		    f.pct_us[1], f.pct_us[2], f.pct_us[3], f.max_us,
		    (unsigned long long)r->errors);
	}
	for (i = 0; i < n; i++)
		if (res[i].ran)
			table_errors(&res[i]);

	ratios(res, n, &q);
	if (q.have_echo || q.have_redis || q.have_p50 || q.have_grpc ||
	    q.have_twem)
		printf("\n");
	if (q.have_twem)
		printf(
		    "service/twemproxy ops/s: %.3f; p50 %.1f us service, %.1f "
		    "us twemproxy\n",
		    q.over_twem, q.svc_p50, q.twem_p50);
	if (q.have_grpc)
		printf(
		    "grpc/service  ops/s: %.3f; p50 %.1f us over gRPC, %.1f us "
		    "over nng\n",
		    q.grpc_over_service, q.grpc_p50, q.svc_p50);
	if (q.have_echo)
		printf("service/echo  ops/s: %.3f\n", q.over_echo);
	if (q.have_redis)
		printf("service/redis ops/s: %.3f\n", q.over_redis);
	if (q.have_p50)
		printf("p50 service - (echo + redis): %.1f - (%.1f + %.1f) = "
		       "%.1f us\n",
		    q.svc_p50, q.echo_p50, q.redis_p50, q.p50_overhead_us);

	if (o->server_pid > 0) {
		printf("\nserver pid %ld: ", (long)o->server_pid);
		if (!mem->have) {
			printf("%s\n", mem->error);
		} else {
			printf("VmRSS %llu KiB before, %llu KiB after; VmHWM "
			       "(peak since it started) %llu KiB",
			    (unsigned long long)mem->rss_before_kib,
			    (unsigned long long)mem->rss_after_kib,
			    (unsigned long long)mem->hwm_after_kib);
			for (i = 0; i < n; i++)
				if (res[i].target == TARGET_SERVICE &&
				    res[i].ran)
					printf("; peak VmRSS sampled while "
					       "measuring the service %llu KiB",
					    (unsigned long long)res[i]
					        .rss_peak_kib);
			printf("\n");
		}
	}
}

/* ---- JSON -------------------------------------------------------------------
 */

static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_target(const struct target_result *r)
{
	struct figures f;
	unsigned k, i;
	bool first = true;

	figures(r, &f);
	printf("\"%s\": {\"ran\": %s, \"error\": ", target_name(r->target),
	    r->ran ? "true" : "false");
	json_str(r->ran ? r->s.first_error : r->message);
	printf(", \"ops\": %llu, \"ok\": %llu, \"errors_total\": %llu, "
	       "\"errors\": {",
	    (unsigned long long)f.ops, (unsigned long long)r->s.ok,
	    (unsigned long long)r->errors);
	for (k = 0; k < ERR_KINDS; k++) {
		if (r->s.errors[k] == 0)
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ", err_kind_name(k),
		    (unsigned long long)r->s.errors[k]);
		first = false;
	}
	printf("}, \"lookups\": %llu, \"hits\": %llu, \"misses\": %llu, "
	       "\"keys\": %llu, "
	       "\"bytes\": %llu, \"elapsed_s\": %.6f, \"ops_per_s\": %.3f, "
	       "\"keys_per_s\": %.3f, \"bytes_per_s\": %.3f, "
	       "\"latency_us\": {",
	    (unsigned long long)r->s.lookups, (unsigned long long)r->s.hits,
	    (unsigned long long)r->s.misses, (unsigned long long)r->s.keys,
	    (unsigned long long)r->s.bytes, r->elapsed_s, f.ops_s, f.keys_s,
	    f.bytes_s);
	for (i = 0; i < NPCTS; i++)
		printf("\"%s\": %.3f, ", pct_names[i], f.pct_us[i]);
	printf("\"max\": %.3f, \"mean\": %.3f, \"min\": %.3f}, "
	       "\"histogram_count\": %llu, \"server_rss_peak_kib\": %llu}",
	    f.max_us, f.mean_us,
	    r->s.h != NULL && r->s.h->count ? (double)r->s.h->min / 1e3 : 0.0,
	    (unsigned long long)(r->s.h != NULL ? r->s.h->count : 0),
	    (unsigned long long)r->rss_peak_kib);
}

static void json_ratio(const char *name, bool have, double v, bool last)
{
	printf("\"%s\": ", name);
	if (have)
		printf("%.6f", v);
	else
		printf("null");
	printf(last ? "" : ", ");
}

void report_json(const struct bench_opts *o, const struct target_result *res,
    unsigned n, const struct server_mem *mem)
{
	struct ratios q;
	unsigned i;

	printf(
	    "{\"tool\": \"cachewire-bench\", \"version\": \"%s\", "
	    "\"params\": {\"workload\": \"%s\", \"ratio\": %g, "
	    "\"value_size\": %zu, \"keys\": %llu, \"hit_ratio\": %g, "
	    "\"populated\": %llu, \"batch\": %u, \"keys_per_op\": %u, "
	    "\"ops\": %llu, \"duration_s\": %g, \"warmup_s\": %g, "
	    "\"conns\": %u, \"depth\": %u, \"in_flight\": %u, "
	    "\"blocking\": %s, \"timeout_ms\": %d, \"seed\": %llu, \"url\": ",
	    CW_VERSION, workload_name(o->workload), o->ratio, o->value_size,
	    (unsigned long long)o->keys, o->hit_ratio,
	    (unsigned long long)wl_populated(o), o->batch, wl_keys_per_op(o),
	    (unsigned long long)o->ops, o->duration_s, o->warmup_s, o->conns,
	    o->depth, o->conns * o->depth, o->blocking ? "true" : "false",
	    o->timeout_ms, (unsigned long long)o->seed);
	json_str(o->url);
	printf(", \"redis\": ");
	json_str(o->redis_url);
	printf(", \"echo_url\": ");
	if (o->echo_url != NULL)
		json_str(o->echo_url);
	else
		printf("null");
	printf(", \"targets\": [");
	for (i = 0; i < o->ntargets; i++)
		printf("%s\"%s\"", i ? ", " : "", target_name(o->order[i]));
	printf("]}, \"results\": {");
	for (i = 0; i < n; i++) {
		printf(i ? ", " : "");
		json_target(&res[i]);
	}
	ratios(res, n, &q);
	printf("}, \"ratios\": {");
	json_ratio("service_over_echo_ops", q.have_echo, q.over_echo, false);
	json_ratio("service_over_redis_ops", q.have_redis, q.over_redis, false);
	json_ratio(
	    "grpc_over_service_ops", q.have_grpc, q.grpc_over_service, false);
	json_ratio(
	    "service_over_twemproxy_ops", q.have_twem, q.over_twem, false);
	json_ratio("p50_overhead_us", q.have_p50, q.p50_overhead_us, true);
	printf("}, \"server\": ");
	if (o->server_pid <= 0) {
		printf("null");
	} else {
		printf("{\"pid\": %ld, ", (long)o->server_pid);
		if (mem->have) {
			printf("\"rss_before_kib\": %llu, \"hwm_before_kib\": "
			       "%llu, \"rss_after_kib\": %llu, "
			       "\"hwm_after_kib\": %llu, "
			       "\"rss_peak_sampled_kib\": ",
			    (unsigned long long)mem->rss_before_kib,
			    (unsigned long long)mem->hwm_before_kib,
			    (unsigned long long)mem->rss_after_kib,
			    (unsigned long long)mem->hwm_after_kib);
			const struct target_result *s =
			    find(res, n, TARGET_SERVICE);
			if (s != NULL)
				printf("%llu",
				    (unsigned long long)s->rss_peak_kib);
			else
				printf("null");
			printf(", \"error\": null}");
		} else {
			printf("\"error\": ");
			json_str(mem->error);
			printf("}");
		}
	}
	printf("}\n");
}
