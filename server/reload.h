/*
 * reload.h - SIGHUP: build the configuration again as at start (file,
 * environment, flags) and apply what can change while serving:
 *   log.level, log.format                      at once
 *   auth.tokens_file (the tokens)              at once, for new requests
 *   server.max_in_flight, max_message_bytes,
 *   default_timeout_ms, drain_timeout_ms       at once, for new requests
 *   cache.max_key_bytes, max_value_bytes,
 *   clear_batch, max_batch_keys                at once, for new calls
 * Anything else that changed (listen, admin.listen, redis.*, tls.*,
 * cache.namespace) is logged as taking effect after a restart. An invalid
 * configuration is logged (file:line:col) and the running one kept whole.
 */
#ifndef CW_SERVER_RELOAD_H
#define CW_SERVER_RELOAD_H

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "gate.h"
#include "grpc_server.h"
#include "server.h"

typedef struct cw_reload_targets {
	cw_auth *auth;        /* owns the tokens; cfg borrows them */
	cw_server *server;    /* NULL: not serving yet */
	cw_grpc_server *grpc; /* NULL: no gRPC */
	cw_gate *gate;
	cw_cache *cache;
	struct ProtobufCService *service; /* tells Ping's callers the limit */
} cw_reload_targets;

void cw_reload(
    int argc, char **argv, cw_config *cfg, const cw_reload_targets *t);

/* Say whether and how callers authenticate (never a token); prefix
 * starts the line ("SIGHUP: " or ""). */
void cw_log_auth(const char *prefix, const cw_config *cfg);

#endif
