/*
 * gate.h - server.max_in_flight across every transport: a request is let
 * in, or refused at once (RESOURCE_EXHAUSTED past the cap, UNAVAILABLE
 * once stopping), and leaves when its answer is handed over. One gate is
 * shared by the nng and the gRPC transports, so the cap is one number for
 * the daemon. Thread-safe.
 */
#ifndef CW_RPC_GATE_H
#define CW_RPC_GATE_H

#include <cachewire/status.h>

typedef struct cw_gate cw_gate;

/* A gate letting max requests in at once; NULL when out of memory. Free
 * with cw_gate_free once no transport uses it. */
cw_gate *cw_gate_new(int max);
void cw_gate_free(cw_gate *g);

/*
 * Let one request in: CW_OK (then call cw_gate_leave when it is
 * answered), or the code and message to refuse it with (err set):
 * CW_RESOURCE_EXHAUSTED with max requests in already, CW_UNAVAILABLE
 * "the server is stopping".
 */
int cw_gate_enter(cw_gate *g, cw_error *err);
void cw_gate_leave(cw_gate *g);

/* A new cap (SIGHUP); requests already in stay. */
void cw_gate_set_max(cw_gate *g, int max);

/* Requests in now, and the cap (for metrics). */
void cw_gate_load(cw_gate *g, int *in, int *max);

/* Stop letting requests in: from now on cw_gate_enter refuses with
 * UNAVAILABLE. NULL is ignored. */
void cw_gate_close(cw_gate *g);

/*
 * Stop letting requests in, and wait up to timeout_ms for those in to
 * leave. Returns how many are still in (0: all were answered). NULL
 * returns 0.
 */
int cw_gate_drain(cw_gate *g, int timeout_ms);

#endif
