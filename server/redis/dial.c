/* dial.c - a blocking, bounded, logged-in hiredis connection (dial.h). */
#include <stdbool.h>

#include "dial.h"

redisContext *cw__redis_dial(const char *host, int port, const char *user,
    const char *password, int timeout_ms, cw_error *err)
{
	struct timeval tv = {timeout_ms / 1000, timeout_ms % 1000 * 1000};
	redisContext *c = redisConnectWithTimeout(host, port, tv);

	if (c == NULL || c->err) {
		cw_error_set(err, CW_UNAVAILABLE, "cannot connect to %s:%d: %s",
		    host, port, c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (password == NULL)
		return c;
	redisReply *r = user != NULL
	                    ? redisCommand(c, "AUTH %s %s", user, password)
	                    : redisCommand(c, "AUTH %s", password);
	bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;
	if (!ok)
		cw_error_set(err, CW_UNAVAILABLE, "AUTH on %s:%d failed: %s",
		    host, port, r != NULL ? r->str : c->errstr);
	freeReplyObject(r);
	if (!ok) {
		redisFree(c);
		return NULL;
	}
	return c;
}
