/*
 * health_service.h - grpc.health.v1.Health/Check, answered from the
 * daemon's readiness (what /readyz says): SERVING when ready, else
 * NOT_SERVING; for the server ("") and for "cachewire.v1.Cache", NOT_FOUND
 * for any other service name. Dispatch serves it to any caller, without a
 * token (cw_services.health), over every transport.
 */
#ifndef CW_SERVER_HEALTH_SERVICE_H
#define CW_SERVER_HEALTH_SERVICE_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

/*
 * The service; ready(arg) is asked on every Check (from any thread) and
 * must be quick. NULL when out of memory. Free with
 * protobuf_c_service_destroy().
 */
ProtobufCService *cw_health_service_new(bool (*ready)(void *arg), void *arg);

#endif
