/*
 * bench.h - what the parts of cachewire-bench share: the options, the
 * workload (which operation on which keys), the per-slot counters, the
 * result of one target, and the four targets.
 *
 * A target is measured in passes (run.h): an optional prepare pass that
 * stores the keys a get workload should find, then the measured pass with
 * its warm-up. Every target runs the same closed loop: conns x depth slots,
 * each with one operation in flight; a finished operation starts the next.
 */
#ifndef CW_BENCH_BENCH_H
#define CW_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"

#define BENCH_EXIT_OK      0
#define BENCH_EXIT_FAILURE 1 /* a target could not run or every op failed */
#define BENCH_EXIT_USAGE   2

enum bench_workload {
	WL_GET,
	WL_SET,
	WL_MIXED,
	WL_DELETE,
	WL_GETMANY,
	WL_SETMANY,
};

enum bench_target {
	TARGET_SERVICE,
	TARGET_REDIS,
	TARGET_ECHO,
	TARGET_GRPC, /* the service over gRPC; only when --targets names it */
	TARGET_TWEMPROXY, /* the redis target through twemproxy (nutcracker)
	                     in front of the same Redis; only when named */
	TARGET_COUNT,
};

/* One operation of the closed loop. */
enum op_kind {
	OP_GET,
	OP_SET,
	OP_DELETE,
	OP_GETMANY,
	OP_SETMANY,
};

/* Where the redis target connects: redis://[user:pass@]host:port[/db] or
 * unix:///path[?db=N]. Strings are malloc'd (options_free). */
struct redis_addr {
	char *host; /* NULL for a unix socket */
	int port;
	char *path; /* unix socket, else NULL */
	char *user; /* NULL when none */
	char *pass; /* NULL when none */
	int db;
};

struct bench_opts {
	const char *url;       /* cachewired */
	const char *redis_url; /* as given, for messages */
	struct redis_addr redis;
	const char *echo_url;      /* NULL: tcp://127.0.0.1:<free port> */
	const char *grpc_addr;     /* the service's gRPC host:port */
	const char *twemproxy_url; /* redis://host:port of twemproxy, or NULL */
	struct redis_addr twemproxy;
	bool no_coalescing; /* the service target's client sends each
	                       call alone */
	bool blocking;      /* a thread per slot, blocking calls */
	enum bench_target order[TARGET_COUNT]; /* targets to run, in order */
	unsigned ntargets;
	enum bench_workload workload;
	double ratio; /* get fraction of mixed */
	size_t value_size;
	uint64_t keys;    /* key space */
	double hit_ratio; /* share of the key space stored before measuring */
	unsigned batch;   /* keys per getmany / setmany */
	uint64_t ops;     /* measured ops per target; 0: use duration_s */
	double duration_s;
	double warmup_s;
	unsigned conns;
	unsigned depth;
	bool json;
	bool quiet;
	bool progress;    /* forced on; else only when stderr is a tty */
	pid_t server_pid; /* 0: none */
	int timeout_ms;
	uint64_t seed;
	const char *redis_prefix; /* prepended to the redis target's keys */
};

/*
 * Parse argv into o (options.c). Returns BENCH_EXIT_OK, or BENCH_EXIT_USAGE
 * after printing what is wrong; *help_shown is set when --help or --version
 * printed and the program should exit 0. Free with options_free().
 */
int options_parse(
    struct bench_opts *o, int argc, char **argv, bool *help_shown);
void options_free(struct bench_opts *o);

/* Parse a redis URL into a (options.c). Returns 0, or -1 with a message in
 * err. Free with redis_addr_free(). */
int redis_addr_parse(
    struct redis_addr *a, const char *url, char *err, size_t errlen);
void redis_addr_free(struct redis_addr *a);

const char *workload_name(enum bench_workload w);
const char *target_name(enum bench_target t);

/* ---- the workload (workload.c) ----------------------------------------- */

/* A small, fast PRNG (splitmix64); each slot has its own. */
struct rng {
	uint64_t s;
};

/* Seed a slot's generator: the same slot of every target gets the same
 * sequence, so the targets see the same keys in the same order. */
void rng_seed(struct rng *r, uint64_t seed, unsigned slot);
uint64_t rng_next(struct rng *r);

/* How many keys (0 .. n-1) are stored before measuring: hit_ratio * keys
 * for the reading workloads, 0 for the others (no prepare pass). */
uint64_t wl_populated(const struct bench_opts *o);

/* Whether the workload stores (and deletes) keys before measuring, so
 * that exactly wl_populated() of them exist: get, mixed and getmany. */
bool wl_needs_prepare(const struct bench_opts *o);

/* Keys per operation of the workload: batch for getmany/setmany, else 1. */
unsigned wl_keys_per_op(const struct bench_opts *o);

/*
 * Choose the next operation: its kind and the key indexes it touches
 * (idx must hold wl_keys_per_op() entries). In a prepare pass (seq is the
 * sequence number, prepare true) key seq is stored when it is below
 * wl_populated(), otherwise deleted, so exactly the populated keys exist.
 * Returns the number of keys written to idx.
 */
unsigned wl_plan(const struct bench_opts *o, struct rng *r, bool prepare,
    uint64_t seq, enum op_kind *kind, uint64_t *idx);

/* Write key number i with prefix into buf (NUL-terminated); returns its
 * length. KEY_CAP is enough for any prefix up to 64 bytes. */
#define KEY_CAP 96
size_t wl_key(char *buf, const char *prefix, uint64_t i);

/*
 * The bytes a cachewired request and reply of this operation carry on the
 * wire (protobuf envelope included, approximately), for the echo target
 * to send and answer the same amounts. *hits gets the keys the service
 * would find (index below wl_populated()).
 */
void wl_wire_sizes(const struct bench_opts *o, enum op_kind kind, unsigned n,
    const uint64_t *idx, size_t *req, size_t *rep, uint64_t *hits);

/* ---- counting -------------------------------------------------------------
 */

/* Error kinds: the cw status codes 0..16, then failures only Redis has. */
#define ERR_REDIS_REPLY 17 /* Redis answered with an error reply */
#define ERR_KINDS       18
const char *err_kind_name(unsigned kind);

/* What one slot (or one redis connection) counted in the measured phase;
 * only its own thread writes it. */
struct slot_stats {
	hist *h;          /* latency of the successful ops */
	uint64_t ok;      /* successful ops */
	uint64_t lookups; /* keys read by gets (getmany: per key) */
	uint64_t hits;    /* ... of which found */
	uint64_t misses;  /* ... of which not found */
	uint64_t keys;    /* keys touched by successful ops */
	uint64_t bytes;   /* value bytes moved by successful ops */
	uint64_t errors[ERR_KINDS];
	char first_error[256]; /* message of the first error */
};

/* Allocate s's histogram; 0 or -1 when out of memory. */
int stats_init(struct slot_stats *s);
void stats_free(struct slot_stats *s);
/* Count a failed op of kind (cw status or ERR_*) with its message. */
void stats_error(struct slot_stats *s, unsigned kind, const char *message);
/* Add src's counts to dst. */
void stats_merge(struct slot_stats *dst, const struct slot_stats *src);

/* ---- one target's outcome ----------------------------------------------- */

struct target_result {
	enum bench_target target;
	bool ran;            /* the measured pass completed */
	char message[512];   /* why it could not run ("" when it ran) */
	struct slot_stats s; /* merged over slots */
	uint64_t errors;     /* sum of s.errors */
	double elapsed_s; /* measured phase, first issue to last completion */
	/* Server memory sampled during the measured pass (--server-pid). */
	uint64_t rss_peak_kib;
};

/*
 * Measure one target (target_service.c, target_redis.c, target_echo.c).
 * Each fills res; a failure to connect or prepare is reported in
 * res->message with res->ran false, and the call still returns 0. Returns
 * -1 only when out of memory.
 */
int target_service_run(const struct bench_opts *o, struct target_result *res);
int target_redis_run(const struct bench_opts *o, struct target_result *res);
int target_grpc_run(const struct bench_opts *o, struct target_result *res);
int target_twemproxy_run(const struct bench_opts *o, struct target_result *res);
/* url: where echo_start()'s server listens. */
int target_echo_run(
    const struct bench_opts *o, const char *url, struct target_result *res);

/*
 * The echo server, in a child process started before the parent makes any
 * nng call (nng is not fork-safe). Every request's first 4 bytes (big
 * endian) say how many bytes to answer with. On success *child is the
 * child's pid and url (urlcap bytes) the address it listens on; ctl_fd is
 * a pipe whose closing tells the child to exit. On failure returns -1 with
 * a message in url. echo_stop() ends and reaps it.
 */
int echo_start(const struct bench_opts *o, pid_t *child, int *ctl_fd, char *url,
    size_t urlcap);
void echo_stop(pid_t child, int ctl_fd);

/* ---- output (report.c) --------------------------------------------------- */

struct server_mem {
	bool have;
	uint64_t rss_before_kib, hwm_before_kib;
	uint64_t rss_after_kib, hwm_after_kib;
	char error[128]; /* why it could not be read */
};

/* Read VmRSS and VmHWM (KiB) of pid; 0, or -1 with a message in err. */
int read_proc_mem(
    pid_t pid, uint64_t *rss_kib, uint64_t *hwm_kib, char *err, size_t errlen);

void report_table(const struct bench_opts *o, const struct target_result *res,
    unsigned n, const struct server_mem *mem);
void report_json(const struct bench_opts *o, const struct target_result *res,
    unsigned n, const struct server_mem *mem);

#endif
