/*
 * target_service.c - the cachewire service through libcachewire: conns
 * clients (one nng socket each) x depth slots, each slot with one call in
 * flight. By default the slots use the async API: the completion callback
 * counts the call and issues the slot's next one. With --blocking each
 * slot is a thread of its own making blocking calls (cw_get, cw_set, ...)
 * on its connection's client, as a program's threads share one cw_client.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cachewire/cachewire.h>

#include "run.h"

/* One closed-loop slot. Its calls never overlap, so its fields and stats
 * need no lock: each callback happens after the call that it completes. */
struct svc_slot {
	struct svc *svc;
	cw_client *client;
	struct rng rng;
	struct slot_stats st;
	/* the call in flight */
	enum op_kind kind;
	unsigned n;
	bool measured;
	int64_t t0;
	/* Two sets of request buffers, alternating: a callback may run (and
	 * build the next request) before the call that it completes has
	 * returned to its caller. */
	unsigned flip;
	pthread_t thread; /* --blocking */
	bool started;
	cw_value *values; /* --blocking GetMany: n results */
	uint64_t *idx;
	char *keybuf[2]; /* n keys of KEY_CAP bytes */
	cw_key *keys[2];
	cw_entry *entries[2];
};

struct svc {
	const struct bench_opts *o;
	struct run *run;
	const char *value; /* value_size bytes */
	cw_client **clients;
	struct svc_slot *slots;
	unsigned nslots;
};

static void svc_next(struct svc_slot *s);

/* Count a successful call; a reply that does not answer the request (a
 * wrong count or value size) counts as a DATA_LOSS error instead. */
static void svc_count_ok(struct svc_slot *s, const cw_result *res, int64_t lat)
{
	size_t vsize = s->svc->o->value_size, i;
	uint64_t hits = 0, bytes = 0;
	char msg[128] = "";

	switch (s->kind) {
	case OP_GET:
		if (res->found && res->value_len != vsize)
			snprintf(msg, sizeof(msg),
			    "Get returned %zu bytes, %zu were stored",
			    res->value_len, vsize);
		hits = res->found;
		bytes = res->found ? res->value_len : 0;
		break;
	case OP_GETMANY:
		if (res->count != s->n)
			snprintf(msg, sizeof(msg),
			    "GetMany returned %zu results for %u keys",
			    res->count, s->n);
		for (i = 0; msg[0] == '\0' && i < res->count; i++) {
			if (!res->values[i].found)
				continue;
			if (res->values[i].len != vsize)
				snprintf(msg, sizeof(msg),
				    "GetMany returned %zu bytes, %zu were "
				    "stored",
				    res->values[i].len, vsize);
			hits++;
			bytes += res->values[i].len;
		}
		break;
	case OP_SET:
	case OP_SETMANY:
		bytes = (uint64_t)s->n * vsize;
		break;
	case OP_DELETE:
		break;
	}
	if (msg[0] != '\0') {
		stats_error(&s->st, CW_DATA_LOSS, msg);
		return;
	}
	if (s->kind == OP_GET || s->kind == OP_GETMANY) {
		s->st.lookups += s->n;
		s->st.hits += hits;
		s->st.misses += s->n - hits;
	}
	hist_record(s->st.h, (uint64_t)lat);
	s->st.ok++;
	s->st.keys += s->n;
	s->st.bytes += bytes;
}

static void svc_done(void *arg, const cw_result *res)
{
	struct svc_slot *s = arg;
	int64_t lat = now_ns() - s->t0;

	if (s->measured) {
		if (res->status != CW_OK)
			stats_error(
			    &s->st, (unsigned)res->status, res->message);
		else
			svc_count_ok(s, res, lat);
		run_completed(s->svc->run);
	}
	svc_next(s);
}

/* Send the slot's planned call; CW_OK when svc_done will run. */
static int svc_issue(struct svc_slot *s)
{
	const struct bench_opts *o = s->svc->o;
	unsigned f = s->flip ^= 1, i;
	char *kb = s->keybuf[f];
	cw_key *keys = s->keys[f];
	cw_entry *ents = s->entries[f];
	int tmo = o->timeout_ms;

	for (i = 0; i < s->n; i++) {
		keys[i].data = kb + (size_t)i * KEY_CAP;
		keys[i].len = wl_key(kb + (size_t)i * KEY_CAP, "", s->idx[i]);
	}
	s->t0 = now_ns();
	switch (s->kind) {
	case OP_GET:
		return cw_get_async(
		    s->client, keys[0].data, keys[0].len, tmo, svc_done, s);
	case OP_SET:
		return cw_set_async(s->client, keys[0].data, keys[0].len,
		    s->svc->value, o->value_size, CW_NO_EXPIRY, tmo, svc_done,
		    s);
	case OP_DELETE:
		return cw_delete_async(
		    s->client, keys[0].data, keys[0].len, tmo, svc_done, s);
	case OP_GETMANY:
		return cw_get_many_async(
		    s->client, s->n, keys, tmo, svc_done, s);
	case OP_SETMANY:
		for (i = 0; i < s->n; i++) {
			ents[i].key = keys[i].data;
			ents[i].key_len = keys[i].len;
			ents[i].value = s->svc->value;
			ents[i].value_len = o->value_size;
			ents[i].expiry = CW_NO_EXPIRY;
		}
		return cw_set_many_async(
		    s->client, s->n, ents, tmo, svc_done, s);
	}
	return CW_INTERNAL;
}

/* --blocking: make the slot's planned call and wait for it; *res gets its
 * outcome as the callback would (values[] then freed by the caller). */
static void svc_call(struct svc_slot *s, cw_result *res, cw_error *err)
{
	const struct bench_opts *o = s->svc->o;
	cw_key *keys = s->keys[0];
	cw_entry *ents = s->entries[0];
	void *value = NULL;
	unsigned i;
	int tmo = o->timeout_ms;

	for (i = 0; i < s->n; i++) {
		keys[i].data = s->keybuf[0] + (size_t)i * KEY_CAP;
		keys[i].len =
		    wl_key(s->keybuf[0] + (size_t)i * KEY_CAP, "", s->idx[i]);
	}
	memset(res, 0, sizeof(*res));
	err->message[0] = '\0';
	s->t0 = now_ns();
	switch (s->kind) {
	case OP_GET:
		res->status = cw_get(s->client, keys[0].data, keys[0].len,
		    &res->found, &value, &res->value_len, tmo, err);
		cw_free(value);
		break;
	case OP_SET:
		res->status = cw_set(s->client, keys[0].data, keys[0].len,
		    s->svc->value, o->value_size, CW_NO_EXPIRY, tmo, err);
		break;
	case OP_DELETE:
		res->status = cw_delete(s->client, keys[0].data, keys[0].len,
		    &res->existed, tmo, err);
		break;
	case OP_GETMANY:
		res->status =
		    cw_get_many(s->client, s->n, keys, s->values, tmo, err);
		if (res->status == CW_OK) {
			res->count = s->n;
			res->values = s->values;
		}
		break;
	case OP_SETMANY:
		for (i = 0; i < s->n; i++) {
			ents[i].key = keys[i].data;
			ents[i].key_len = keys[i].len;
			ents[i].value = s->svc->value;
			ents[i].value_len = o->value_size;
			ents[i].expiry = CW_NO_EXPIRY;
		}
		res->status = cw_set_many(s->client, s->n, ents, tmo, err);
		break;
	}
	res->message = err->message;
}

/* --blocking: one slot's thread, calling until the pass says stop. */
static void *svc_thread(void *arg)
{
	struct svc_slot *s = arg;
	struct svc *svc = s->svc;
	uint64_t seq = 0;
	enum claim c;
	cw_result res;
	cw_error err;

	while ((c = run_claim(svc->run, &seq)) != CLAIM_STOP) {
		s->n = wl_plan(
		    svc->o, &s->rng, svc->run->prepare, seq, &s->kind, s->idx);
		svc_call(s, &res, &err);
		int64_t lat = now_ns() - s->t0;
		if (c == CLAIM_MEASURE) {
			if (res.status != CW_OK)
				stats_error(
				    &s->st, (unsigned)res.status, res.message);
			else
				svc_count_ok(s, &res, lat);
			run_completed(svc->run);
		}
		if (res.count > 0)
			cw_values_free(s->values, s->n);
	}
	run_slot_done(svc->run);
	return NULL;
}

/* Issue the slot's next call, or finish the slot. */
static void svc_next(struct svc_slot *s)
{
	struct svc *svc = s->svc;
	uint64_t seq = 0;
	enum claim c = run_claim(svc->run, &seq);
	int rc;

	if (c == CLAIM_STOP) {
		run_slot_done(svc->run);
		return;
	}
	s->n =
	    wl_plan(svc->o, &s->rng, svc->run->prepare, seq, &s->kind, s->idx);
	s->measured = c == CLAIM_MEASURE;
	rc = svc_issue(s);
	if (rc == CW_OK)
		return;
	/* Not even sent: a slot that cannot send stops (a retry loop here
	 * would spin on the caller's thread). */
	stats_error(&s->st, (unsigned)rc,
	    "the request could not be sent (the call failed at once)");
	run_slot_done(svc->run);
}

static int svc_start(void *ctx)
{
	struct svc *svc = ctx;
	unsigned i;

	for (i = 0; i < svc->nslots; i++) {
		struct svc_slot *s = &svc->slots[i];
		if (!svc->o->blocking)
			svc_next(s);
		else if (pthread_create(&s->thread, NULL, svc_thread, s) == 0)
			s->started = true;
		else {
			stats_error(&s->st, CW_RESOURCE_EXHAUSTED,
			    "cannot start a thread for a blocking slot");
			run_slot_done(svc->run);
		}
	}
	return 0;
}

/* --blocking: the pass is over; collect the slots' threads. */
static void svc_join(struct svc *svc)
{
	for (unsigned i = 0; i < svc->nslots; i++) {
		if (svc->slots[i].started)
			pthread_join(svc->slots[i].thread, NULL);
		svc->slots[i].started = false;
	}
}

static void svc_free(struct svc *svc)
{
	unsigned i, f;

	if (svc->clients != NULL) {
		for (i = 0; i < svc->o->conns; i++)
			cw_close(svc->clients[i]);
		free(svc->clients);
	}
	if (svc->slots != NULL) {
		for (i = 0; i < svc->nslots; i++) {
			struct svc_slot *s = &svc->slots[i];
			stats_free(&s->st);
			free(s->idx);
			free(s->values);
			for (f = 0; f < 2; f++) {
				free(s->keybuf[f]);
				free(s->keys[f]);
				free(s->entries[f]);
			}
		}
		free(svc->slots);
	}
	free((void *)svc->value);
}

static int svc_alloc(struct svc *svc)
{
	const struct bench_opts *o = svc->o;
	unsigned n = wl_keys_per_op(o), i, f;
	char *value;

	svc->nslots = o->conns * o->depth;
	svc->clients = calloc(o->conns, sizeof(*svc->clients));
	svc->slots = calloc(svc->nslots, sizeof(*svc->slots));
	value = malloc(o->value_size + 1);
	svc->value = value;
	if (svc->clients == NULL || svc->slots == NULL || value == NULL)
		return -1;
	for (size_t b = 0; b < o->value_size; b++)
		value[b] = (char)('a' + b % 26);
	for (i = 0; i < svc->nslots; i++) {
		struct svc_slot *s = &svc->slots[i];
		s->svc = svc;
		rng_seed(&s->rng, o->seed, i);
		if (stats_init(&s->st) != 0 ||
		    (s->idx = calloc(n, sizeof(*s->idx))) == NULL ||
		    (s->values = calloc(n, sizeof(*s->values))) == NULL)
			return -1;
		for (f = 0; f < 2; f++) {
			s->keybuf[f] = malloc((size_t)n * KEY_CAP);
			s->keys[f] = calloc(n, sizeof(cw_key));
			s->entries[f] = calloc(n, sizeof(cw_entry));
			if (!s->keybuf[f] || !s->keys[f] || !s->entries[f])
				return -1;
		}
	}
	return 0;
}

/* Open the clients and check the service answers; 0 or -1 with res's
 * message set. */
static int svc_connect(struct svc *svc, struct target_result *res)
{
	const struct bench_opts *o = svc->o;
	cw_client_options copts = {
	    .timeout_ms = o->timeout_ms, .no_coalescing = o->no_coalescing};
	cw_error err;
	unsigned i;
	int rc;

	for (i = 0; i < o->conns; i++) {
		rc = cw_open(&svc->clients[i], o->url, &copts, &err);
		if (rc == CW_OK)
			rc =
			    cw_ping(svc->clients[i], NULL, o->timeout_ms, &err);
		if (rc != CW_OK) {
			snprintf(res->message, sizeof(res->message),
			    "service at %s: %s: %s", o->url, cw_strerror(rc),
			    err.message);
			return -1;
		}
	}
	for (i = 0; i < svc->nslots; i++)
		svc->slots[i].client = svc->clients[i / o->depth];
	return 0;
}

/* One pass; 0, or -1 (res->message set) when the prepare pass failed. */
static int svc_pass(struct svc *svc, bool prepare, struct target_result *res)
{
	struct run run;
	struct slot_stats sum;
	unsigned i;
	int rc = 0;

	if (run_init(&run, svc->o, prepare ? "service prepare" : "service",
	        prepare, svc->nslots) != 0)
		return -1;
	svc->run = &run;
	run_pass(&run, svc_start, svc);
	svc_join(svc);
	if (prepare) {
		memset(&sum, 0, sizeof(sum));
		for (i = 0; i < svc->nslots; i++)
			stats_merge(&sum, &svc->slots[i].st);
		if (sum.first_error[0] != '\0') {
			snprintf(res->message, sizeof(res->message),
			    "service at %s: storing the keys to get failed: %s",
			    svc->o->url, sum.first_error);
			rc = -1;
		}
		for (i = 0; i < svc->nslots; i++) {
			stats_free(&svc->slots[i].st);
			if (stats_init(&svc->slots[i].st) != 0)
				rc = -1;
		}
	} else {
		for (i = 0; i < svc->nslots; i++)
			stats_merge(&res->s, &svc->slots[i].st);
		res->elapsed_s = run_elapsed_s(&run);
		res->rss_peak_kib = run.rss_peak_kib;
		res->ran = true;
	}
	svc->run = NULL;
	run_destroy(&run);
	return rc;
}

int target_service_run(const struct bench_opts *o, struct target_result *res)
{
	struct svc svc = {.o = o};
	int rc = -1;

	if (svc_alloc(&svc) != 0)
		goto out;
	rc = 0;
	if (svc_connect(&svc, res) != 0)
		goto out; /* res->message says why */
	if (wl_needs_prepare(o) && svc_pass(&svc, true, res) != 0) {
		rc = res->message[0] != '\0' ? 0 : -1;
		goto out;
	}
	rc = svc_pass(&svc, false, res);
out:
	svc_free(&svc);
	return rc;
}
