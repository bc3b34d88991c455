/*
 * expiry.c - how an entry's expiry becomes a Redis SET option (see cache.h).
 */
#include <time.h>

#include "cache.h"

int cw_expiry_plan(cw_expiry e, uint64_t now_ms, enum cw_expiry_action *action,
    uint64_t *arg_ms, cw_error *err)
{
	enum cw_expiry_action a;
	uint64_t arg = 0;

	switch (e.kind) {
	case CW_EXPIRY_NONE:
		a = CW_EXPIRY_KEEP;
		break;
	case CW_EXPIRY_TTL:
	case CW_EXPIRY_AT:
		if (e.ms == 0) {
			a = CW_EXPIRY_KEEP; /* 0 means "never", as in
			                       cachecontrol */
			break;
		}
		if (e.ms > CW_EXPIRY_MAX_MS)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "expiry %s %llu ms is too large (the limit is "
			    "%llu)",
			    e.kind == CW_EXPIRY_TTL ? "TTL" : "time",
			    (unsigned long long)e.ms,
			    (unsigned long long)CW_EXPIRY_MAX_MS);
		if (e.kind == CW_EXPIRY_TTL) {
			a = CW_EXPIRY_PX;
			arg = e.ms;
		} else if (e.ms <= now_ms) {
			a = CW_EXPIRY_REMOVE; /* already expired */
		} else {
			a = CW_EXPIRY_PXAT;
			arg = e.ms;
		}
		break;
	default:
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unknown expiry kind %d", (int)e.kind);
	}
	if (action != NULL)
		*action = a;
	if (arg_ms != NULL)
		*arg_ms = arg;
	return CW_OK;
}

uint64_t cw_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
