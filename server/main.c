/*
 * main.c - cachewired: load the configuration, open the cache core, serve
 * the Cache service (and the gRPC health check) over nng, and over gRPC
 * when grpc.listen says so, until SIGINT or SIGTERM; SIGHUP reloads.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "admin.h"
#include "auth.h"
#include "cache.h"
#include "gate.h"
#include "grpc_server.h"
#include "health.h"
#include "health_service.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "reload.h"
#include "server.h"
#include "service.h"

extern char **environ;

/* *dst = a copy of src, wiping what *dst held (maybe a password). */
static int replace(char **dst, const char *src)
{
	char *v = strdup(src);
	if (v == NULL)
		return -1;
	if (*dst != NULL) {
		memset(*dst, 0, strlen(*dst));
		free(*dst);
	}
	*dst = v;
	return 0;
}

/* Open the cache core for cfg; where gets Redis' URL without password. */
static int open_cache(
    const cw_config *cfg, cw_cache **out, char *where, size_t wherelen)
{
	cw_error err;
	cw_cache_options o = {
	    .namespace_ = cfg->namespace_,
	    .pool_size = cfg->pool_size,
	    .connect_timeout_ms = cfg->connect_timeout_ms,
	    .command_timeout_ms = cfg->command_timeout_ms,
	    .max_key_bytes = cfg->max_key_bytes,
	    .max_value_bytes = cfg->max_value_bytes,
	    .clear_batch = cfg->clear_batch,
	    .max_batch_keys = cfg->max_batch_keys,
	    .chunk_bytes = cw_config_chunk_bytes(cfg),
	    .max_upload_bytes = cfg->max_upload_bytes,
	    .upload_ttl_ms = (uint64_t)cfg->upload_ttl_ms,
	};
	if (cw_redis_url_parse(cfg->redis_url, &o.redis, &err) != CW_OK) {
		cw_log(CW_LOG_ERROR, "redis.url: %s", err.message);
		return -1;
	}
	/* redis.user, redis.password(_file) win over the URL's */
	if ((cfg->redis_password != NULL &&
	        replace(&o.redis.password, cfg->redis_password) != 0) ||
	    (cfg->redis_user != NULL &&
	        replace(&o.redis.user, cfg->redis_user) != 0)) {
		cw_redis_target_free(&o.redis);
		cw_log(CW_LOG_ERROR, "out of memory");
		return -1;
	}
	cw_redis_target_describe(&o.redis, where, wherelen);
	cw_redis_node nodes[64];
	cw_redis_sentinel sentinel = {.nodes = nodes};
	int rc = CW_OK;
	if (cfg->redis_mode == CW_REDIS_SENTINEL) {
		rc = cw_redis_nodes_parse(
		    cfg->redis_nodes, nodes, 64, &sentinel.nnodes, &err);
		sentinel.master = cfg->redis_sentinel_master;
		sentinel.password = cfg->redis_sentinel_password;
		o.sentinel = &sentinel;
	} else if (cfg->redis_mode == CW_REDIS_CLUSTER) {
		rc = cw_redis_nodes_parse(
		    cfg->redis_nodes, nodes, 64, &sentinel.nnodes, &err);
		o.cluster_nodes = nodes;
		o.cluster_nnodes = sentinel.nnodes;
	}
	if (rc == CW_OK)
		rc = cw_cache_open(out, &o, &err);
	for (int i = 0; i < sentinel.nnodes; i++)
		cw_redis_node_free(&nodes[i]);
	cw_redis_target_free(&o.redis);
	if (rc != CW_OK) {
		cw_log(CW_LOG_ERROR, "cannot open cache: %s", err.message);
		return -1;
	}
	if (o.sentinel != NULL) {
		char now[192];
		cw_cache_describe(*out, now, sizeof now);
		snprintf(where, wherelen, "Sentinel master '%s' (%s%s)",
		    cfg->redis_sentinel_master,
		    strncmp(now, "redis://", 8) == 0 ? "now at " : "", now);
	} else if (o.cluster_nodes != NULL) {
		cw_cache_describe(*out, where, wherelen);
	}
	return 0;
}

/* The health service's question: what /readyz would say. */
static bool daemon_ready(void *arg)
{
	char why[256];
	return cw_daemon_ready(arg, why, sizeof why);
}

/* --check-redis: does the configured Redis answer? 0 yes, 1 no. */
static int check_redis(const cw_config *cfg)
{
	cw_cache *cache;
	char where[1024];
	if (open_cache(cfg, &cache, where, sizeof where) != 0)
		return 1;
	cw_error err;
	int rc = cw_cache_ping(cache, cfg->connect_timeout_ms, &err);
	if (cfg->redis_mode == CW_REDIS_CLUSTER) /* the topology it found */
		cw_cache_describe(cache, where, sizeof where);
	cw_cache_close(cache);
	if (rc != CW_OK) {
		printf("redis at %s does not answer: %s\n", where, err.message);
		return 1;
	}
	printf("redis at %s answers\n", where);
	return 0;
}

/* Serve until SIGINT or SIGTERM, reloading on SIGHUP; returns the signal
 * that stopped us. */
static int wait_for_stop(const sigset_t *set, int argc, char **argv,
    cw_config *cfg, const cw_reload_targets *t)
{
	int sig = 0;
	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return sig;
		cw_reload(argc, argv, cfg, t);
	}
}

/* Move d to phase, and forget the parts it names when stopping. */
static void set_phase(cw_daemon *d, enum cw_phase phase)
{
	pthread_mutex_lock(&d->mu);
	d->phase = phase;
	pthread_mutex_unlock(&d->mu);
}

/*
 * Stopping waits for the requests in flight, up to server.drain_timeout_ms.
 * Should it still hang (nng 1.5.2 can deadlock in nng_close(), upstream
 * issue #1813), give up after a bound rather than never exit.
 */
#define WATCHDOG_SLACK_MS 5000

static pthread_mutex_t watchdog_mu = PTHREAD_MUTEX_INITIALIZER;
static bool stopped;

static void *watchdog(void *arg)
{
	int ms = (int)(intptr_t)arg;
	struct timespec tick = {0, 10 * 1000000L};
	bool done = false;

	/* Plain POSIX, not nng: it outlives nng_fini(). */
	for (int waited = 0; waited < ms && !done; waited += 10) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&watchdog_mu);
		done = stopped;
		pthread_mutex_unlock(&watchdog_mu);
	}
	if (!done) {
		cw_log(CW_LOG_ERROR,
		    "stopping took longer than %d ms; exiting without "
		    "finishing",
		    ms);
		_exit(1);
	}
	return NULL;
}

static bool watchdog_started;
static pthread_t watchdog_thread;

static void start_watchdog(int ms)
{
	watchdog_started = pthread_create(&watchdog_thread, NULL, watchdog,
	                       (void *)(intptr_t)ms) == 0;
}

/* Stopping is over: let the watchdog go. */
static void stop_watchdog(void)
{
	if (!watchdog_started)
		return;
	pthread_mutex_lock(&watchdog_mu);
	stopped = true;
	pthread_mutex_unlock(&watchdog_mu);
	pthread_join(watchdog_thread, NULL);
}

int main(int argc, char **argv)
{
	cw_config cfg;
	switch (cw_options_load(argc, argv, environ, &cfg, NULL, 0)) {
	case CW_OPTIONS_EXIT:
		cw_config_free(&cfg);
		return 0;
	case CW_OPTIONS_ERROR:
		cw_config_free(&cfg);
		return 2;
	case CW_OPTIONS_CHECK_REDIS: {
		int status = check_redis(&cfg);
		cw_config_free(&cfg);
		return status;
	}
	case CW_OPTIONS_RUN:
		break;
	}
	cw_log_set_level(cfg.log_level);
	cw_log_set_format(cfg.log_format);

	/* Signals go to sigwait() below, never to a worker thread. A shell
	 * may have started us with them ignored (a background job): undo that.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	cw_log(CW_LOG_INFO,
	    "cachewired %s starting (pid %d; configuration from %s; %d "
	    "requests in flight, up to %d Redis connections; log.level %s)",
	    CW_VERSION_STRING, (int)getpid(),
	    cfg.source ? cfg.source : "built-in defaults", cfg.max_in_flight,
	    cfg.pool_size, cw_log_level_name(cfg.log_level));

	int status = 1;
	cw_cache *cache = NULL;
	ProtobufCService *svc = NULL, *health_svc = NULL;
	cw_server *server = NULL;
	cw_grpc_server *grpc = NULL;
	cw_gate *gate = NULL;
	cw_auth *auth = NULL;
	cw_health *health = NULL;
	cw_admin *admin = NULL;
	cw_daemon daemon = {.phase = CW_STARTING, .start_time = time(NULL)};
	char where[256];
	cw_error err;
	pthread_mutex_init(&daemon.mu, NULL);

	/* First, so that probes hear "alive, not ready" while we start. */
	if (cfg.admin_listen != NULL) {
		if (cw_admin_start(&admin, cfg.admin_listen, &daemon, &err) !=
		    CW_OK) {
			cw_log(CW_LOG_ERROR, "%s", err.message);
			goto out;
		}
		cw_log(CW_LOG_INFO,
		    "admin endpoint on %s (/healthz, /readyz, /metrics)",
		    cfg.admin_listen);
	}
	if (open_cache(&cfg, &cache, where, sizeof where) != 0)
		goto out;
	/* Redis may come up later (or take our password later): say so,
	 * serve UNAVAILABLE until then; the health thread keeps asking. */
	bool up = cw_cache_ping(cache, cfg.connect_timeout_ms, &err) == CW_OK;
	if (up)
		cw_log(CW_LOG_INFO, "redis at %s answers; namespace \"%s\"",
		    where, cfg.namespace_);
	else
		cw_log(CW_LOG_WARN,
		    "redis at %s does not answer (%s); serving anyway, calls "
		    "fail with UNAVAILABLE until it does; retrying every %d "
		    "ms",
		    where, err.message, CW_HEALTH_INTERVAL_MS);
	health = cw_health_start(
	    cache, where, cfg.command_timeout_ms, up, up ? "" : err.message);
	pthread_mutex_lock(&daemon.mu);
	daemon.cache = cache;
	daemon.health = health;
	pthread_mutex_unlock(&daemon.mu);
	/* auth owns the tokens; cfg keeps a borrowed pointer (reload) */
	if (cw_auth_new(&auth, cfg.auth_tokens, cfg.namespace_, &err) !=
	    CW_OK) {
		cfg.auth_tokens = NULL; /* freed by cw_auth_new */
		cw_log(CW_LOG_ERROR, "%s", err.message);
		goto out;
	}
	cw_log_auth("", &cfg);
	if ((svc = cw_service_new(cache, cfg.namespace_)) == NULL ||
	    (health_svc = cw_health_service_new(daemon_ready, &daemon)) ==
	        NULL ||
	    (gate = cw_gate_new(cfg.max_in_flight)) == NULL) {
		cw_log(CW_LOG_ERROR, "out of memory");
		goto out;
	}
	cw_service_set_max_message_bytes(svc, cfg.max_message_bytes);
	cw_services svcs = {.cache = svc,
	    .health = health_svc,
	    .hold = cw_cache_hold_writes,
	    .release = cw_cache_release_writes};
	cw_server_tls tls = {
	    .cert_file = cfg.tls_cert_file,
	    .key_file = cfg.tls_key_file,
	    .client_ca_file = cfg.tls_client_ca_file,
	    .min_version =
	        cfg.tls_min_version == 13 ? NNG_TLS_1_3 : NNG_TLS_1_2,
	};
	cw_server_options so = {
	    .listen = cfg.listen,
	    .listen_count = cfg.listen_count,
	    .tls = &tls,
	    .auth = auth,
	    .gate = gate,
	    .max_in_flight = cfg.max_in_flight,
	    .max_message_bytes = cfg.max_message_bytes,
	    .default_timeout_ms = cfg.default_timeout_ms,
	};
	if (cw_server_start(&server, &svcs, &so, &err) != CW_OK) {
		cw_log(CW_LOG_ERROR, "%s", err.message);
		goto out;
	}
	cw_grpc_tls gtls = {
	    .cert_file = cfg.tls_cert_file,
	    .key_file = cfg.tls_key_file,
	    .client_ca_file = cfg.tls_client_ca_file,
	    .min_version = cfg.tls_min_version,
	};
	cw_grpc_options go = {
	    .listen = cfg.grpc_listen,
	    .tls = &gtls,
	    .auth = auth,
	    .gate = gate,
	    .max_message_bytes = cfg.max_message_bytes,
	    .default_timeout_ms = cfg.default_timeout_ms,
	};
	if (cfg.grpc_listen != NULL &&
	    cw_grpc_start(&grpc, &svcs, &go, &err) != CW_OK) {
		cw_log(CW_LOG_ERROR, "%s", err.message);
		goto out;
	}
	pthread_mutex_lock(&daemon.mu);
	daemon.server = server;
	daemon.grpc = grpc;
	daemon.gate = gate;
	daemon.services = svcs;
	daemon.phase = CW_SERVING;
	pthread_mutex_unlock(&daemon.mu);
	cw_log(CW_LOG_INFO, "ready");

	cw_reload_targets targets = {.auth = auth,
	    .server = server,
	    .grpc = grpc,
	    .gate = gate,
	    .cache = cache,
	    .service = svc};
	int sig = wait_for_stop(&stop, argc, argv, &cfg, &targets);
	/* Closed before the log line says so: a call that starts after
	 * "stopping" is refused, however slowly the rest goes. */
	cw_gate_close(gate);
	cw_log(CW_LOG_INFO, "stopping on %s",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	set_phase(&daemon, CW_STOPPING); /* /readyz: 503 "stopping" */
	start_watchdog(cfg.drain_timeout_ms + WATCHDOG_SLACK_MS);
	cw_grpc_shutdown(grpc); /* GOAWAY: clients open no more calls */
	int left = cw_gate_drain(gate, cfg.drain_timeout_ms);
	if (left > 0) {
		cw_log(CW_LOG_WARN,
		    "%d request%s still in flight after "
		    "server.drain_timeout_ms (%d ms); ending %s UNAVAILABLE",
		    left, left == 1 ? "" : "s", cfg.drain_timeout_ms,
		    left == 1 ? "it" : "them");
		cw_cache_shutdown(cache);
	}
	status = 0;
out:
	/* Nothing reads the parts once the endpoint is gone. */
	cw_admin_stop(admin);
	pthread_mutex_lock(&daemon.mu);
	daemon.phase = CW_STOPPING;
	daemon.server = NULL;
	daemon.grpc = NULL;
	daemon.gate = NULL;
	daemon.cache = NULL;
	daemon.health = NULL;
	pthread_mutex_unlock(&daemon.mu);
	cw_health_stop(health);
	cw_gate_drain(gate, 0); /* if we got here by an error */
	cw_grpc_stop(grpc);
	cw_server_stop(server);
	cw_gate_free(gate);
	if (svc != NULL)
		protobuf_c_service_destroy(svc);
	if (health_svc != NULL)
		protobuf_c_service_destroy(health_svc);
	if (auth != NULL)
		cfg.auth_tokens = NULL; /* auth's; freed with it */
	cw_auth_free(auth);
	cw_cache_close(cache);
	cw_config_free(&cfg);
	pthread_mutex_destroy(&daemon.mu);
	nng_fini(); /* nng finishes closing asynchronously; wait for it */
	stop_watchdog();
	cw_log(status == 0 ? CW_LOG_INFO : CW_LOG_ERROR, "stopped%s",
	    status == 0 ? "" : " after an error");
	return status;
}
