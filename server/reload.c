/* reload.c - SIGHUP (reload.h). */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "reload.h"
#include "service.h"

extern char **environ;

#define MAX_CHANGED 40

void cw_log_auth(const char *prefix, const cw_config *cfg)
{
	if (cfg->auth_tokens == NULL)
		cw_log(CW_LOG_INFO,
		    "%sno auth.tokens_file: callers are not authenticated and "
		    "share namespace \"%s\"",
		    prefix, cfg->namespace_);
	else
		cw_log(CW_LOG_INFO, "%sbearer tokens required: %zu from %s",
		    prefix, cw_tokens_count(cfg->auth_tokens),
		    cfg->auth_tokens_file);
}

static bool is(const char *key, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(key, *set) == 0)
			return true;
	return false;
}

static const char *const server_limits[] = {"server.max_in_flight",
    "server.max_message_bytes", "server.default_timeout_ms", NULL};
static const char *const cache_limits[] = {"cache.max_key_bytes",
    "cache.max_value_bytes", "cache.clear_batch", "cache.max_batch_keys",
    "cache.chunk_bytes", "cache.max_upload_bytes", "cache.upload_ttl_ms", NULL};

/* Apply fresh's limits; false (logged) when the running ones stay. */
static bool apply_limits(bool server, bool cache, cw_config *cfg,
    const cw_config *fresh, const cw_reload_targets *t)
{
	cw_error err;

	if (cache) {
		cw_cache_options o = {
		    .max_key_bytes = fresh->max_key_bytes,
		    .max_value_bytes = fresh->max_value_bytes,
		    .clear_batch = fresh->clear_batch,
		    .max_batch_keys = fresh->max_batch_keys,
		    .chunk_bytes = cw_config_chunk_bytes(fresh),
		    .max_upload_bytes = fresh->max_upload_bytes,
		    .upload_ttl_ms = (uint64_t)fresh->upload_ttl_ms,
		};
		if (cw_cache_set_limits(t->cache, &o, &err) != CW_OK) {
			cw_log(CW_LOG_ERROR,
			    "SIGHUP: cache limits not changed: %s",
			    err.message);
			return false;
		}
		cfg->max_key_bytes = fresh->max_key_bytes;
		cfg->max_value_bytes = fresh->max_value_bytes;
		cfg->clear_batch = fresh->clear_batch;
		cfg->max_batch_keys = fresh->max_batch_keys;
		cfg->chunk_bytes = fresh->chunk_bytes;
		cfg->max_upload_bytes = fresh->max_upload_bytes;
		cfg->upload_ttl_ms = fresh->upload_ttl_ms;
	}
	if (server && t->server != NULL) {
		if (cw_server_set_limits(t->server, fresh->max_in_flight,
		        fresh->max_message_bytes, fresh->default_timeout_ms,
		        &err) != CW_OK) {
			cw_log(CW_LOG_ERROR,
			    "SIGHUP: server limits not changed: %s",
			    err.message);
			return false;
		}
		cw_gate_set_max(t->gate, fresh->max_in_flight);
		if (t->grpc != NULL)
			cw_grpc_set_limits(t->grpc, fresh->max_message_bytes,
			    fresh->default_timeout_ms);
		if (t->service != NULL)
			cw_service_set_max_message_bytes(
			    t->service, fresh->max_message_bytes);
		cfg->max_in_flight = fresh->max_in_flight;
		cfg->max_message_bytes = fresh->max_message_bytes;
		cfg->default_timeout_ms = fresh->default_timeout_ms;
	}
	return true;
}

void cw_reload(
    int argc, char **argv, cw_config *cfg, const cw_reload_targets *t)
{
	cw_config fresh;
	char changed[MAX_CHANGED][48], why[512];

	if (cw_options_load(argc, argv, environ, &fresh, why, sizeof why) !=
	    CW_OPTIONS_RUN) {
		cw_log(CW_LOG_ERROR,
		    "SIGHUP: configuration not reloaded: %s; the running one "
		    "stays",
		    why);
		cw_config_free(&fresh);
		return;
	}
	int n = cw_config_changed(cfg, &fresh, changed, MAX_CHANGED);
	if (n > MAX_CHANGED)
		n = MAX_CHANGED; /* more keys than there are */
	if (n == 0)
		cw_log(CW_LOG_INFO,
		    "SIGHUP: configuration reloaded from %s; nothing changed",
		    fresh.source ? fresh.source : "built-in defaults");
	else
		cw_log(CW_LOG_INFO,
		    "SIGHUP: configuration reloaded from %s; %d key%s changed",
		    fresh.source ? fresh.source : "built-in defaults", n,
		    n == 1 ? "" : "s");
	bool server = false, cache = false;
	for (int i = 0; i < n; i++) {
		server |= is(changed[i], server_limits);
		cache |= is(changed[i], cache_limits);
	}
	bool limits = apply_limits(server, cache, cfg, &fresh, t);
	for (int i = 0; i < n; i++) {
		const char *k = changed[i];
		if (strcmp(k, "log.level") == 0) {
			cfg->log_level = fresh.log_level;
			cw_log_set_level(fresh.log_level);
			cw_log(CW_LOG_INFO, "SIGHUP: log.level is now %s",
			    cw_log_level_name(fresh.log_level));
		} else if (strcmp(k, "log.format") == 0) {
			cfg->log_format = fresh.log_format;
			cw_log_set_format(fresh.log_format);
			cw_log(CW_LOG_INFO, "SIGHUP: log.format is now %s",
			    fresh.log_format == CW_LOG_JSON ? "json" : "text");
		} else if (strcmp(k, "auth.tokens_file") == 0) {
			/* auth owns the tokens; cfg borrows them to compare
			 * with the next reload */
			cw_auth_replace(t->auth, fresh.auth_tokens);
			cfg->auth_tokens = fresh.auth_tokens;
			fresh.auth_tokens = NULL;
			char *path = cfg->auth_tokens_file;
			cfg->auth_tokens_file = fresh.auth_tokens_file;
			fresh.auth_tokens_file = path;
			cw_log_auth("SIGHUP: ", cfg);
		} else if (strcmp(k, "server.drain_timeout_ms") == 0) {
			cfg->drain_timeout_ms = fresh.drain_timeout_ms;
			cw_log(CW_LOG_INFO, "SIGHUP: %s is now %d", k,
			    cfg->drain_timeout_ms);
		} else if (is(k, server_limits) || is(k, cache_limits)) {
			if (limits)
				cw_log(CW_LOG_INFO, "SIGHUP: %s changed", k);
		} else {
			cw_log(CW_LOG_WARN,
			    "SIGHUP: %s changed; it takes effect after a "
			    "restart",
			    k);
		}
	}
	cw_config_free(&fresh);
}
