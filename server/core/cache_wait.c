/*
 * cache_wait.c - the cache core's blocking calls (cache.h): each starts
 * the asynchronous form and waits for its callback, copying the borrowed
 * results out for the caller.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	cw_error *err;
	/* where the caller wants the results; any may be NULL */
	bool *found;
	void **value;
	size_t *value_len;
	bool *existed;
	uint64_t *removed;
	cw_value *values;
	bool *existed_many;
} waiter;

static void waiter_init(waiter *w, cw_error *err)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->err = err;
}

/* A malloc'd, NUL-terminated copy of p[0..len) (NULL when out of memory). */
static void *dup_value(const void *p, size_t len)
{
	char *v = malloc(len + 1);

	if (v != NULL) {
		if (len > 0)
			memcpy(v, p, len);
		v[len] = '\0';
	}
	return v;
}

/* Copy r's results where w's caller wants them; CW_INTERNAL on OOM. */
static int copy_out(waiter *w, const cw_result *r)
{
	void *v = NULL;
	size_t i;

	if (w->value != NULL && r->found &&
	    (v = dup_value(r->value, r->value_len)) == NULL)
		return CW_INTERNAL;
	if (w->values != NULL) {
		for (i = 0; i < r->count; i++) {
			const cw_value *x = &r->values[i];
			w->values[i] = (cw_value){x->found, NULL, 0};
			if (x->found) {
				w->values[i].data = dup_value(x->data, x->len);
				w->values[i].len = x->len;
				if (w->values[i].data == NULL) {
					cw_values_free(w->values, i);
					free(v);
					return CW_INTERNAL;
				}
			}
		}
	}
	if (w->found != NULL)
		*w->found = r->found;
	if (w->value != NULL)
		*w->value = v;
	if (w->value_len != NULL)
		*w->value_len = r->found ? r->value_len : 0;
	if (w->existed != NULL)
		*w->existed = r->existed;
	if (w->removed != NULL)
		*w->removed = r->removed;
	if (w->existed_many != NULL && r->count > 0)
		memcpy(
		    w->existed_many, r->existed_many, r->count * sizeof(bool));
	return CW_OK;
}

static void waiter_done(void *arg, const cw_result *r)
{
	waiter *w = arg;
	int status = r->status;

	if (status == CW_OK && copy_out(w, r) != CW_OK)
		status = cw_error_set(w->err, CW_INTERNAL, "out of memory");
	else if (status != CW_OK)
		cw_error_set(w->err, status, "%s", r->message);
	pthread_mutex_lock(&w->mu);
	w->status = status;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int waiter_wait(waiter *w)
{
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	return w->status;
}

int cw_cache_get(cw_cache *c, const void *key, size_t key_len, bool *found,
    void **value, size_t *value_len, int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	w.found = found;
	w.value = value;
	w.value_len = value_len;
	cw_cache_get_async(c, key, key_len, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_set(cw_cache *c, const void *key, size_t key_len,
    const void *value, size_t value_len, cw_expiry expiry, int timeout_ms,
    cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	cw_cache_set_async(c, key, key_len, value, value_len, expiry,
	    timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_delete(cw_cache *c, const void *key, size_t key_len, bool *existed,
    int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	w.existed = existed;
	cw_cache_delete_async(c, key, key_len, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_clear(
    cw_cache *c, uint64_t *removed, int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	w.removed = removed;
	cw_cache_clear_async(c, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_ping(cw_cache *c, int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	cw_cache_ping_async(c, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_get_many(cw_cache *c, size_t n, const cw_key *keys,
    cw_value *values, int timeout_ms, cw_error *err)
{
	waiter w;

	if (values == NULL && n > 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "values is NULL");
	waiter_init(&w, err);
	w.values = values;
	cw_cache_get_many_async(c, n, keys, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_set_many(cw_cache *c, size_t n, const cw_entry *entries,
    int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	cw_cache_set_many_async(c, n, entries, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}

int cw_cache_delete_many(cw_cache *c, size_t n, const cw_key *keys,
    bool *existed, int timeout_ms, cw_error *err)
{
	waiter w;

	waiter_init(&w, err);
	w.existed_many = existed;
	cw_cache_delete_many_async(c, n, keys, timeout_ms, waiter_done, &w);
	return waiter_wait(&w);
}
