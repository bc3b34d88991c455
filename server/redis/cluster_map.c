/*
 * cluster_map.c - reading the slot map out of a CLUSTER SLOTS reply
 * (cluster.h):
 *
 *   [[start, end, [ip, port, id, ...], [replica ip, port, id, ...]...]...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "slot.h"

static int bad(cw_error *err, const char *what)
{
	return cw_error_set(
	    err, CW_UNAVAILABLE, "malformed CLUSTER SLOTS reply: %s", what);
}

static bool is_int(const redisReply *r)
{
	return r->type == REDIS_REPLY_INTEGER;
}

int cw_cluster_slots_parse(const redisReply *r, const char *asked_host,
    cw_slot_range **out, int *n, cw_error *err)
{
	if (r->type == REDIS_REPLY_ERROR)
		return cw_error_set(err, CW_UNAVAILABLE, "CLUSTER SLOTS: %.*s",
		    (int)r->len, r->str);
	if (r->type != REDIS_REPLY_ARRAY)
		return bad(err, "not an array");
	cw_slot_range *v = calloc(r->elements > 0 ? r->elements : 1, sizeof *v);
	if (v == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	int k = 0;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		const char *why = NULL;
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    !is_int(e->element[0]) || !is_int(e->element[1]))
			why = "an entry is not [start, end, master, ...]";
		else if (e->element[0]->integer < 0 ||
		         e->element[1]->integer >= CW_SLOTS ||
		         e->element[0]->integer > e->element[1]->integer)
			why = "a slot range is out of 0..16383";
		const redisReply *m = why ? NULL : e->element[2];
		if (m != NULL &&
		    (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
		        m->element[0]->type != REDIS_REPLY_STRING ||
		        !is_int(m->element[1]) || m->element[1]->integer < 0 ||
		        m->element[1]->integer > 65535 ||
		        m->element[0]->len >= sizeof v->host))
			why = "a node is not [host, port, ...]";
		if (why != NULL) {
			free(v);
			return bad(err, why);
		}
		const char *host = m->element[0]->str;
		if (strcmp(host, "?") == 0 || m->element[1]->integer == 0)
			continue; /* address unknown: not served for us */
		if (*host == '\0')
			host = asked_host;
		v[k] = (cw_slot_range){
		    .start = (int)e->element[0]->integer,
		    .end = (int)e->element[1]->integer,
		    .port = (int)m->element[1]->integer,
		    .replicas = (int)e->elements - 3,
		};
		snprintf(v[k].host, sizeof v[k].host, "%s", host);
		k++;
	}
	*out = v;
	*n = k;
	return CW_OK;
}
