/* health_service.c - grpc.health.v1.Health/Check (health_service.h). */
#include <stdlib.h>
#include <string.h>

#include "health.pb-c.h"

#include "dispatch.h"
#include "health_service.h"

typedef struct health {
	Grpc__Health__V1__Health_Service base; /* first: cast to and from */
	bool (*ready)(void *arg);
	void *arg;
} health;

static void check(Grpc__Health__V1__Health_Service *svc,
    const Grpc__Health__V1__HealthCheckRequest *in,
    Grpc__Health__V1__HealthCheckResponse_Closure closure, void *data)
{
	health *h = (health *)svc;
	cw_call *call = data; /* dispatch's closure data is the call */
	Grpc__Health__V1__HealthCheckResponse out =
	    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

	if (in->service[0] != '\0' &&
	    strcmp(in->service, "cachewire.v1.Cache") != 0) {
		cw_error_set(&call->err, CW_NOT_FOUND,
		    "unknown service \"%.128s\": this server has "
		    "\"cachewire.v1.Cache\" (or \"\" for the server)",
		    in->service);
		closure(NULL, data);
		return;
	}
	out.status =
	    h->ready(h->arg)
	        ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
	        : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	closure(&out, data);
}

static void destroy(ProtobufCService *svc)
{
	free(svc);
}

ProtobufCService *cw_health_service_new(bool (*ready)(void *arg), void *arg)
{
	health *h = malloc(sizeof *h);
	if (h == NULL)
		return NULL;
	*h = (health){
	    .base = GRPC__HEALTH__V1__HEALTH__INIT(),
	    .ready = ready,
	    .arg = arg,
	};
	h->base.check = check;
	h->base.base.destroy = destroy;
	return &h->base.base;
}
