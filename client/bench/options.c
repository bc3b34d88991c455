/*
 * options.c - cachewire-bench's command line (getopt_long) and the redis
 * URL of the redis target. Every bad value is reported with the option's
 * name and exit status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cachewire/cachewire.h>

#include "bench.h"

#define DEFAULT_REDIS_URL "redis://127.0.0.1:6379/0"
#define MAX_VALUE_SIZE    ((size_t)32 * 1024 * 1024)
#define MAX_CONNS         1024
#define MAX_DEPTH         1024
#define MAX_SLOTS         16384
#define MAX_BATCH         100000
/* Refuse workloads that would store more than this in Redis. */
#define MAX_STORED_BYTES ((uint64_t)4 << 30)

static const char usage_text[] =
    "usage: cachewire-bench [options]\n"
    "\n"
    "Measures the cachewire service, Redis directly and a bare nng echo\n"
    "with the same workload in one invocation, and reports throughput,\n"
    "latency percentiles and the ratios between them.\n"
    "\n"
    "Targets:\n"
    "      --targets LIST    service,redis,echo,grpc,twemproxy (default:\n"
    "                        the first three, in that order)\n"
    "      --url URL         cachewired (default: $CACHEWIRE_URL, else\n"
    "                        " CW_DEFAULT_URL ")\n"
    "      --redis URL       redis://[user:pass@]host:port[/db] or\n"
    "                        unix:///path[?db=N] (default " DEFAULT_REDIS_URL
    ")\n"
    "      --redis-prefix P  prefix of the redis target's keys (default\n"
    "                        cwbench:), so they never meet the service's\n"
    "      --echo-url URL    where the echo server listens (default\n"
    "                        tcp://127.0.0.1:<free port>)\n"
    "      --no-coalescing   the service target's client sends every call\n"
    "                        as a message of its own (default: calls that\n"
    "                        overlap go together, as batches)\n"
    "      --twemproxy URL   redis://host:port of twemproxy (nutcracker) in\n"
    "                        front of the same Redis, for the twemproxy\n"
    "                        target: the redis target's load through it\n"
    "      --grpc HOST:PORT  cachewired's gRPC listener, for the grpc target\n"
    "                        (default 127.0.0.1:7422): the service's calls\n"
    "                        over HTTP/2 instead of nng\n"
    "      --server-pid PID  report cachewired's memory (VmRSS before and\n"
    "                        after, VmHWM, and the peak sampled while the\n"
    "                        service is measured)\n"
    "Workload:\n"
    "      --workload W      get, set, mixed, delete, getmany or setmany\n"
    "                        (default get)\n"
    "      --ratio R         get fraction of mixed (default 0.9)\n"
    "      --value-size N    value bytes; suffixes k/KiB, M/MiB (x1024)\n"
    "                        (default 100)\n"
    "      --keys N          key space: keys bench:0 .. bench:N-1 (default\n"
    "                        10000)\n"
    "      --hit-ratio H     share of the key space stored before get, mixed\n"
    "                        and getmany runs; the rest is deleted (default "
    "1)\n"
    "      --batch N         keys per getmany / setmany (default 100)\n"
    "      --ops N           measured operations per target\n"
    "      --duration S      or: seconds measured per target (default 5)\n"
    "      --warmup S        seconds before measuring, not counted\n"
    "                        (default 1)\n"
    "      --seed N          key sequence seed (default 1)\n"
    "Concurrency:\n"
    "      --conns C         connections (default 4)\n"
    "      --depth D         requests in flight per connection (default 16)\n"
    "      --blocking        every one of the conns x depth slots is a thread\n"
    "                        making blocking calls: the service's threads\n"
    "                        share their connection's client (depth threads\n"
    "                        per cw_client); redis and twemproxy give each\n"
    "                        thread a connection of its own (targets\n"
    "                        service, redis, twemproxy only)\n"
    "      --timeout-ms MS   per request and for connecting (default 5000)\n"
    "Output:\n"
    "      --json            one JSON object on stdout instead of the table\n"
    "      --quiet           no progress line\n"
    "      --progress        a progress line even when stderr is not a tty\n"
    "  -h, --help            this help\n"
    "  -V, --version         the version\n"
    "\n"
    "Exit status: 0 every target ran (errors are counted, not fatal), 1 a\n"
    "target could not run or all its operations failed, 2 bad options.\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("cachewire-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'cachewire-bench --help' for more information.\n", stderr);
	return BENCH_EXIT_USAGE;
}

/* ---- values -------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Bytes: a number with an optional k/K/KiB, M/MiB or G/GiB suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
	    {"", 0},
	    {"b", 0},
	    {"k", 10},
	    {"ki", 10},
	    {"kib", 10},
	    {"m", 20},
	    {"mi", 20},
	    {"mib", 20},
	    {"g", 30},
	    {"gi", 30},
	    {"gib", 30},
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (v > (UINT64_MAX >> units[i].shift))
				return -1;
			*out = (uint64_t)v << units[i].shift;
			return 0;
		}
	}
	return -1;
}

/* Seconds: a number, optionally followed by s or ms. */
static int parse_seconds(const char *s, double *out)
{
	char buf[64];
	size_t len = strlen(s);
	double scale = 1;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	if (len > 2 && strcmp(buf + len - 2, "ms") == 0) {
		buf[len - 2] = '\0';
		scale = 0.001;
	} else if (len > 1 && buf[len - 1] == 's') {
		buf[len - 1] = '\0';
	}
	if (parse_double(buf, out) != 0 || *out < 0)
		return -1;
	*out *= scale;
	return 0;
}

static int parse_workload(const char *s, enum bench_workload *w)
{
	static const enum bench_workload all[] = {
	    WL_GET, WL_SET, WL_MIXED, WL_DELETE, WL_GETMANY, WL_SETMANY};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(s, workload_name(all[i])) == 0) {
			*w = all[i];
			return 0;
		}
	}
	return -1;
}

static int parse_targets(struct bench_opts *o, const char *list)
{
	char buf[128], *tok, *save = NULL;
	unsigned i, t;

	if (strlen(list) >= sizeof(buf))
		return bad("--targets: '%s' is too long", list);
	snprintf(buf, sizeof(buf), "%s", list);
	o->ntargets = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (t = 0; t < TARGET_COUNT; t++)
			if (strcmp(tok, target_name((enum bench_target)t)) == 0)
				break;
		if (t == TARGET_COUNT)
			return bad("--targets: unknown target '%s' (service, "
			           "redis, echo, grpc or twemproxy)",
			    tok);
		for (i = 0; i < o->ntargets; i++)
			if (o->order[i] == (enum bench_target)t)
				return bad(
				    "--targets: '%s' is given twice", tok);
		o->order[o->ntargets++] = (enum bench_target)t;
	}
	if (o->ntargets == 0)
		return bad("--targets: no target given");
	return BENCH_EXIT_OK;
}

/* ---- redis URL ----------------------------------------------------------- */

void redis_addr_free(struct redis_addr *a)
{
	free(a->host);
	free(a->path);
	free(a->user);
	free(a->pass);
	memset(a, 0, sizeof(*a));
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int db_number(const char *s, int *db)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v > 1000000)
		return -1;
	*db = (int)v;
	return 0;
}

int redis_addr_parse(
    struct redis_addr *a, const char *url, char *err, size_t errlen)
{
	const char *p, *at, *slash, *colon, *q;
	uint64_t port;

	memset(a, 0, sizeof(*a));
	a->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		q = strchr(p, '?');
		if (*p != '/' || q == p + 1) {
			snprintf(err, errlen,
			    "a unix URL needs an absolute "
			    "path: unix:///path[?db=N]");
			return -1;
		}
		if (q != NULL && (strncmp(q, "?db=", 4) != 0 ||
		                     db_number(q + 4, &a->db) != 0)) {
			snprintf(
			    err, errlen, "unknown query '%s' (only ?db=N)", q);
			return -1;
		}
		a->path = dup_n(p, q != NULL ? (size_t)(q - p) : strlen(p));
		if (a->path == NULL)
			goto oom;
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "expected redis://... or unix://...");
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			a->user = dup_n(p, (size_t)(colon - p));
			a->pass = dup_n(colon + 1, (size_t)(at - colon - 1));
		} else {
			a->pass = dup_n(p, (size_t)(at - p));
		}
		if (a->pass == NULL || (colon != NULL && a->user == NULL))
			goto oom;
		p = at + 1;
	}
	size_t hostport = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', hostport);
	a->host = dup_n(p, colon ? (size_t)(colon - p) : hostport);
	if (a->host == NULL)
		goto oom;
	if (a->host[0] == '\0') {
		snprintf(err, errlen, "no host");
		goto fail;
	}
	if (colon != NULL) {
		char *ps = dup_n(colon + 1, hostport - (size_t)(colon - p) - 1);
		int rc = ps == NULL ? -1 : parse_u64(ps, &port);
		free(ps);
		if (rc != 0 || port == 0 || port > 65535) {
			snprintf(err, errlen, "bad port");
			goto fail;
		}
		a->port = (int)port;
	}
	if (slash != NULL && slash[1] != '\0' &&
	    db_number(slash + 1, &a->db) != 0) {
		snprintf(err, errlen, "bad database number '%s'", slash + 1);
		goto fail;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	redis_addr_free(a);
	return -1;
}

/* ---- the command line -------------------------------------------------- */

enum {
	OPT_URL = 256,
	OPT_REDIS,
	OPT_REDIS_PREFIX,
	OPT_TARGETS,
	OPT_ECHO_URL,
	OPT_GRPC,
	OPT_NO_COALESCING,
	OPT_BLOCKING,
	OPT_TWEMPROXY,
	OPT_WORKLOAD,
	OPT_RATIO,
	OPT_VALUE_SIZE,
	OPT_KEYS,
	OPT_HIT_RATIO,
	OPT_BATCH,
	OPT_OPS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_CONNS,
	OPT_DEPTH,
	OPT_JSON,
	OPT_QUIET,
	OPT_PROGRESS,
	OPT_SERVER_PID,
	OPT_TIMEOUT_MS,
	OPT_SEED,
};

static const struct option long_opts[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"redis", required_argument, NULL, OPT_REDIS},
    {"redis-prefix", required_argument, NULL, OPT_REDIS_PREFIX},
    {"targets", required_argument, NULL, OPT_TARGETS},
    {"echo-url", required_argument, NULL, OPT_ECHO_URL},
    {"grpc", required_argument, NULL, OPT_GRPC},
    {"no-coalescing", no_argument, NULL, OPT_NO_COALESCING},
    {"twemproxy", required_argument, NULL, OPT_TWEMPROXY},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"ratio", required_argument, NULL, OPT_RATIO},
    {"value-size", required_argument, NULL, OPT_VALUE_SIZE},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"hit-ratio", required_argument, NULL, OPT_HIT_RATIO},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"ops", required_argument, NULL, OPT_OPS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"conns", required_argument, NULL, OPT_CONNS},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"blocking", no_argument, NULL, OPT_BLOCKING},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* An integer option in [lo, hi]. */
static int opt_range(
    const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (parse_u64(arg, out) != 0 || *out < lo || *out > hi)
		return bad("--%s: '%s' is not a whole number from %llu to %llu",
		    name, arg, (unsigned long long)lo, (unsigned long long)hi);
	return BENCH_EXIT_OK;
}

static int opt_fraction(const char *name, const char *arg, double *out)
{
	if (parse_double(arg, out) != 0 || *out < 0 || *out > 1)
		return bad("--%s: '%s' is not a number from 0 to 1", name, arg);
	return BENCH_EXIT_OK;
}

static void set_defaults(struct bench_opts *o)
{
	const char *env = getenv("CACHEWIRE_URL");

	memset(o, 0, sizeof(*o));
	o->url = env != NULL && *env != '\0' ? env : CW_DEFAULT_URL;
	o->redis_url = DEFAULT_REDIS_URL;
	o->redis_prefix = "cwbench:";
	o->grpc_addr = "127.0.0.1:7422";
	o->order[0] = TARGET_SERVICE;
	o->order[1] = TARGET_REDIS;
	o->order[2] = TARGET_ECHO;
	o->ntargets = 3;
	o->workload = WL_GET;
	o->ratio = 0.9;
	o->value_size = 100;
	o->keys = 10000;
	o->hit_ratio = 1.0;
	o->batch = 100;
	o->duration_s = 5;
	o->warmup_s = 1;
	o->conns = 4;
	o->depth = 16;
	o->timeout_ms = 5000;
	o->seed = 1;
}

/* Checks across options, once all are known. */
static int check_combined(struct bench_opts *o, bool have_ops, bool have_dur)
{
	uint64_t stored;
	char err[256];

	if (have_ops && have_dur)
		return bad("give --ops or --duration, not both");
	if (have_ops)
		o->duration_s = 0;
	if (!have_ops && o->duration_s <= 0)
		return bad("--duration must be more than 0");
	if ((uint64_t)o->conns * o->depth > MAX_SLOTS)
		return bad(
		    "--conns x --depth is %u; at most %u requests may be "
		    "in flight",
		    o->conns * o->depth, MAX_SLOTS);
	switch (o->workload) {
	case WL_SET:
	case WL_MIXED:
	case WL_SETMANY:
		stored = o->keys;
		break;
	default:
		stored = wl_populated(o);
	}
	if (stored > 0 && o->value_size > 0 &&
	    stored > MAX_STORED_BYTES / o->value_size)
		return bad("this workload could store %llu keys of %zu bytes "
		           "(more than %llu GiB) in Redis; lower --keys or "
		           "--value-size",
		    (unsigned long long)stored, o->value_size,
		    (unsigned long long)(MAX_STORED_BYTES >> 30));
	for (unsigned i = 0; i < o->ntargets; i++) {
		if (o->blocking &&
		    (o->order[i] == TARGET_ECHO || o->order[i] == TARGET_GRPC))
			return bad("--blocking: the %s target has no blocking "
			           "mode (service, redis and twemproxy have)",
			    o->order[i] == TARGET_ECHO ? "echo" : "grpc");
		if (o->order[i] == TARGET_REDIS &&
		    redis_addr_parse(
		        &o->redis, o->redis_url, err, sizeof(err)) != 0)
			return bad("--redis: %s: %s", o->redis_url, err);
		if (o->order[i] == TARGET_TWEMPROXY && o->twemproxy_url == NULL)
			return bad(
			    "the twemproxy target needs --twemproxy URL");
		if (o->order[i] == TARGET_TWEMPROXY &&
		    redis_addr_parse(
		        &o->twemproxy, o->twemproxy_url, err, sizeof(err)) != 0)
			return bad(
			    "--twemproxy: %s: %s", o->twemproxy_url, err);
	}
	if (o->server_pid > 0) {
		uint64_t rss, hwm;
		if (read_proc_mem(
		        o->server_pid, &rss, &hwm, err, sizeof(err)) != 0)
			return bad("--server-pid: %s", err);
	}
	return BENCH_EXIT_OK;
}

int options_parse(struct bench_opts *o, int argc, char **argv, bool *help_shown)
{
	bool have_ops = false, have_dur = false;
	uint64_t v = 0;
	int c, rc = BENCH_EXIT_OK;

	set_defaults(o);
	*help_shown = false;
	opterr = 0;
	optind = 1;
	while (rc == BENCH_EXIT_OK &&
	       (c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_REDIS:
			o->redis_url = optarg;
			break;
		case OPT_REDIS_PREFIX:
			if (strlen(optarg) > 64)
				rc = bad("--redis-prefix: at most 64 bytes");
			o->redis_prefix = optarg;
			break;
		case OPT_TARGETS:
			rc = parse_targets(o, optarg);
			break;
		case OPT_ECHO_URL:
			o->echo_url = optarg;
			break;
		case OPT_GRPC:
			o->grpc_addr = optarg;
			break;
		case OPT_NO_COALESCING:
			o->no_coalescing = true;
			break;
		case OPT_BLOCKING:
			o->blocking = true;
			break;
		case OPT_TWEMPROXY:
			o->twemproxy_url = optarg;
			break;
		case OPT_WORKLOAD:
			if (parse_workload(optarg, &o->workload) != 0)
				rc = bad("--workload: unknown workload '%s' "
				         "(get, set, mixed, delete, getmany or "
				         "setmany)",
				    optarg);
			break;
		case OPT_RATIO:
			rc = opt_fraction("ratio", optarg, &o->ratio);
			break;
		case OPT_HIT_RATIO:
			rc = opt_fraction("hit-ratio", optarg, &o->hit_ratio);
			break;
		case OPT_VALUE_SIZE:
			if (parse_size(optarg, &v) != 0 || v > MAX_VALUE_SIZE)
				rc = bad("--value-size: '%s' is not a size "
				         "from 0 to 32MiB (e.g. 100, 1k, 1MiB)",
				    optarg);
			o->value_size = (size_t)v;
			break;
		case OPT_KEYS:
			rc = opt_range(
			    "keys", optarg, 1, UINT64_C(1) << 40, &o->keys);
			break;
		case OPT_BATCH:
			rc = opt_range("batch", optarg, 1, MAX_BATCH, &v);
			o->batch = (unsigned)v;
			break;
		case OPT_OPS:
			rc = opt_range("ops", optarg, 1, UINT64_MAX, &o->ops);
			have_ops = true;
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, &o->duration_s) != 0 ||
			    o->duration_s <= 0)
				rc = bad("--duration: '%s' is not a number of "
				         "seconds above 0",
				    optarg);
			have_dur = true;
			break;
		case OPT_WARMUP:
			if (parse_seconds(optarg, &o->warmup_s) != 0)
				rc = bad("--warmup: '%s' is not a number of "
				         "seconds",
				    optarg);
			break;
		case OPT_CONNS:
			rc = opt_range("conns", optarg, 1, MAX_CONNS, &v);
			o->conns = (unsigned)v;
			break;
		case OPT_DEPTH:
			rc = opt_range("depth", optarg, 1, MAX_DEPTH, &v);
			o->depth = (unsigned)v;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_SERVER_PID:
			rc = opt_range("server-pid", optarg, 1, INT32_MAX, &v);
			o->server_pid = (pid_t)v;
			break;
		case OPT_TIMEOUT_MS:
			rc = opt_range("timeout-ms", optarg, 1, 3600000, &v);
			o->timeout_ms = (int)v;
			break;
		case OPT_SEED:
			rc = opt_range("seed", optarg, 0, UINT64_MAX, &o->seed);
			break;
		case 'h':
			fputs(usage_text, stdout);
			*help_shown = true;
			return BENCH_EXIT_OK;
		case 'V':
			printf("cachewire-bench %s\n", CW_VERSION);
			*help_shown = true;
			return BENCH_EXIT_OK;
		case ':':
			rc = bad("%s needs a value", argv[optind - 1]);
			break;
		default:
			rc = bad("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (rc != BENCH_EXIT_OK)
		return rc;
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return check_combined(o, have_ops, have_dur);
}

void options_free(struct bench_opts *o)
{
	redis_addr_free(&o->redis);
	redis_addr_free(&o->twemproxy);
}
