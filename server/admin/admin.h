/*
 * admin.h - the admin HTTP endpoint (admin.listen), on nng's own HTTP
 * server, for probes and scrapers:
 *   GET /healthz  200 "ok": the process is alive and answering
 *   GET /readyz   200 "ready", or 503 "not ready: <reason>"
 *   GET /metrics  200, Prometheus text format 0.0.4 (metrics.h)
 * Anything else is nng's 404 (or 405 for another method). Plain HTTP and
 * no authentication: bind it to loopback or a private network. Nothing it
 * serves holds a key, a value or a secret.
 */
#ifndef CW_SERVER_ADMIN_H
#define CW_SERVER_ADMIN_H

#include <cachewire/status.h>

#include "metrics.h"

typedef struct cw_admin cw_admin;

/*
 * Serve d (which must outlive the endpoint) at url, http://HOST:PORT.
 * CW_UNAVAILABLE naming the URL when it cannot be listened on.
 */
int cw_admin_start(
    cw_admin **out, const char *url, cw_daemon *d, cw_error *err);

/* Stop serving and free. NULL is a no-op. */
void cw_admin_stop(cw_admin *a);

#endif
