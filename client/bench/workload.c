/*
 * workload.c - what each operation of a run does (bench.h): the per-slot
 * key sequence, the mix of gets and sets, the prepare pass, the wire sizes
 * the echo target mimics, and the counters every target keeps.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cachewire/status.h>

#include "bench.h"

const char *workload_name(enum bench_workload w)
{
	static const char *const names[] = {
	    [WL_GET] = "get",
	    [WL_SET] = "set",
	    [WL_MIXED] = "mixed",
	    [WL_DELETE] = "delete",
	    [WL_GETMANY] = "getmany",
	    [WL_SETMANY] = "setmany",
	};
	return names[w];
}

const char *target_name(enum bench_target t)
{
	static const char *const names[] = {
	    [TARGET_SERVICE] = "service",
	    [TARGET_REDIS] = "redis",
	    [TARGET_ECHO] = "echo",
	    [TARGET_GRPC] = "grpc",
	    [TARGET_TWEMPROXY] = "twemproxy",
	};
	return t < TARGET_COUNT ? names[t] : "?";
}

/* ---- keys and operations ------------------------------------------------ */

/* splitmix64's output function: a strong 64-bit mix. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * The start of slot's sequence is a hash of (seed, slot), not seed plus a
 * multiple of splitmix's step: with the latter, slot i's sequence would be
 * slot 0's shifted by i steps, and all slots would draw the same keys.
 */
void rng_seed(struct rng *r, uint64_t seed, unsigned slot)
{
	r->s =
	    mix64(seed ^ mix64((uint64_t)slot + UINT64_C(0x632BE59BD9B4E019)));
}

uint64_t rng_next(struct rng *r)
{
	return mix64(r->s += UINT64_C(0x9E3779B97F4A7C15));
}

/* A uniform double in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t wl_populated(const struct bench_opts *o)
{
	double n;

	if (!wl_needs_prepare(o))
		return 0;
	n = floor(o->hit_ratio * (double)o->keys + 0.5);
	return n > (double)o->keys ? o->keys : (uint64_t)n;
}

bool wl_needs_prepare(const struct bench_opts *o)
{
	return o->workload == WL_GET || o->workload == WL_MIXED ||
	       o->workload == WL_GETMANY;
}

unsigned wl_keys_per_op(const struct bench_opts *o)
{
	return o->workload == WL_GETMANY || o->workload == WL_SETMANY ? o->batch
	                                                              : 1;
}

unsigned wl_plan(const struct bench_opts *o, struct rng *r, bool prepare,
    uint64_t seq, enum op_kind *kind, uint64_t *idx)
{
	unsigned i, n = wl_keys_per_op(o);

	if (prepare) {
		*kind = seq < wl_populated(o) ? OP_SET : OP_DELETE;
		idx[0] = seq;
		return 1;
	}
	switch (o->workload) {
	case WL_GET:
		*kind = OP_GET;
		break;
	case WL_SET:
		*kind = OP_SET;
		break;
	case WL_MIXED:
		*kind = rng_unit(r) < o->ratio ? OP_GET : OP_SET;
		break;
	case WL_DELETE:
		*kind = OP_DELETE;
		break;
	case WL_GETMANY:
		*kind = OP_GETMANY;
		break;
	case WL_SETMANY:
		*kind = OP_SETMANY;
		break;
	}
	for (i = 0; i < n; i++)
		idx[i] = rng_next(r) % o->keys;
	return n;
}

size_t wl_key(char *buf, const char *prefix, uint64_t i)
{
	int n = snprintf(
	    buf, KEY_CAP, "%sbench:%llu", prefix, (unsigned long long)i);

	return n < 0 ? 0 : (size_t)n >= KEY_CAP ? KEY_CAP - 1 : (size_t)n;
}

/* ---- wire sizes -----------------------------------------------------------
 *
 * The sizes of protobuf fields: a tag byte, a varint length, the bytes. A
 * request is cachewire.v1.Request {method, payload, timeout_ms}; a reply is
 * cachewire.v1.Reply {payload} (code OK and an empty message are not sent).
 */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A length-delimited field of len bytes (omitted when empty). */
static size_t field(size_t len)
{
	return len == 0 ? 0 : 1 + varint_len(len) + len;
}

/* A nested message that proto3 sends even when empty (repeated items). */
static size_t item(size_t len)
{
	return 1 + varint_len(len) + len;
}

static size_t key_len(uint64_t i)
{
	char buf[KEY_CAP];

	return wl_key(buf, "", i);
}

void wl_wire_sizes(const struct bench_opts *o, enum op_kind kind, unsigned n,
    const uint64_t *idx, size_t *req, size_t *rep, uint64_t *hits)
{
	static const char *const methods[] = {
	    [OP_GET] = "/cachewire.v1.Cache/Get",
	    [OP_SET] = "/cachewire.v1.Cache/Set",
	    [OP_DELETE] = "/cachewire.v1.Cache/Delete",
	    [OP_GETMANY] = "/cachewire.v1.Cache/GetMany",
	    [OP_SETMANY] = "/cachewire.v1.Cache/SetMany",
	};
	uint64_t populated = wl_populated(o);
	size_t v = o->value_size, payload = 0, answer = 0, k;
	unsigned i;

	*hits = 0;
	for (i = 0; i < n; i++) {
		k = key_len(idx[i]);
		bool hit = idx[i] < populated;
		switch (kind) {
		case OP_GET:
			payload += field(k);
			answer += hit ? 2 + field(v) : 0;
			break;
		case OP_SET:
			payload += field(k) + field(v);
			break;
		case OP_DELETE:
			payload += field(k);
			answer += 2;
			break;
		case OP_GETMANY:
			payload += item(k);
			answer += item(hit ? 2 + field(v) : 0);
			break;
		case OP_SETMANY:
			payload += item(field(k) + field(v));
			break;
		}
		if ((kind == OP_GET || kind == OP_GETMANY) && hit)
			(*hits)++;
	}
	*req = field(strlen(methods[kind])) + field(payload) + 1 +
	       varint_len((uint64_t)o->timeout_ms);
	*rep = field(answer);
}

/* ---- counters ------------------------------------------------------------ */

const char *err_kind_name(unsigned kind)
{
	if (kind == ERR_REDIS_REPLY)
		return "REDIS_ERROR";
	return cw_strerror((int)kind);
}

int stats_init(struct slot_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->h = hist_alloc();
	return s->h != NULL ? 0 : -1;
}

void stats_free(struct slot_stats *s)
{
	hist_free(s->h);
	s->h = NULL;
}

void stats_error(struct slot_stats *s, unsigned kind, const char *message)
{
	if (kind >= ERR_KINDS)
		kind = CW_UNKNOWN;
	s->errors[kind]++;
	if (s->first_error[0] == '\0')
		snprintf(s->first_error, sizeof(s->first_error), "%s: %s",
		    err_kind_name(kind),
		    message != NULL && *message ? message : "(no message)");
}

void stats_merge(struct slot_stats *dst, const struct slot_stats *src)
{
	unsigned i;

	if (dst->h != NULL && src->h != NULL)
		hist_merge(dst->h, src->h);
	dst->ok += src->ok;
	dst->lookups += src->lookups;
	dst->hits += src->hits;
	dst->misses += src->misses;
	dst->keys += src->keys;
	dst->bytes += src->bytes;
	for (i = 0; i < ERR_KINDS; i++)
		dst->errors[i] += src->errors[i];
	if (dst->first_error[0] == '\0')
		memcpy(dst->first_error, src->first_error,
		    sizeof(dst->first_error));
}
