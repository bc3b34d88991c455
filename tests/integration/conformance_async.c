/*
 * conformance_async.c - the asynchronous forms, C-only: what a cw_result
 * carries after cw_*_async (the client) or cw_cache_*_async (the core) of
 * each kind of call, checked against what the synchronous calls stored.
 */
#include "conformance.h"

/* One async call's outcome, copied out of the callback. */
typedef struct outcome {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	char message[256];
	bool found, existed;
	char value[16];
	size_t value_len, count;
	bool many_found[3], many_existed[3];
	char many_value[3][16];
} outcome;

static void keep(void *arg, const cw_result *r)
{
	outcome *o = arg;
	pthread_mutex_lock(&o->mu);
	o->status = r->status;
	snprintf(o->message, sizeof o->message, "%s", r->message);
	o->found = r->found;
	o->existed = r->existed;
	o->value_len = r->value_len;
	if (r->found)
		snprintf(o->value, sizeof o->value, "%.*s", (int)r->value_len,
		    (const char *)r->value);
	o->count = r->count;
	for (size_t i = 0; i < r->count && i < 3; i++) {
		if (r->values != NULL) {
			o->many_found[i] = r->values[i].found;
			snprintf(o->many_value[i], sizeof o->many_value[i],
			    "%.*s", (int)r->values[i].len,
			    r->values[i].found ? (const char *)r->values[i].data
			                       : "");
		}
		if (r->existed_many != NULL)
			o->many_existed[i] = r->existed_many[i];
	}
	o->done = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static void await(outcome *o)
{
	pthread_mutex_lock(&o->mu);
	while (!o->done)
		pthread_cond_wait(&o->cv, &o->mu);
	o->done = false;
	pthread_mutex_unlock(&o->mu);
}

static bool is_core(void **state)
{
	return strncmp(B->name, "core", 4) ==
	       0; /* "core", "core on a cluster" */
}

/* Each call form, on whichever backend this group runs. */
static void get(void **state, const char *k, outcome *o)
{
	if (is_core(state))
		cw_cache_get_async(B->h, k, strlen(k), TIMEOUT_MS, keep, o);
	else
		assert_int_equal(
		    cw_get_async(B->h, k, strlen(k), TIMEOUT_MS, keep, o),
		    CW_OK);
	await(o);
}

static void set(void **state, const char *k, const char *v, outcome *o)
{
	if (is_core(state))
		cw_cache_set_async(B->h, k, strlen(k), v, strlen(v),
		    CW_NO_EXPIRY, TIMEOUT_MS, keep, o);
	else
		assert_int_equal(cw_set_async(B->h, k, strlen(k), v, strlen(v),
		                     CW_NO_EXPIRY, TIMEOUT_MS, keep, o),
		    CW_OK);
	await(o);
}

static void del(void **state, const char *k, outcome *o)
{
	if (is_core(state))
		cw_cache_delete_async(B->h, k, strlen(k), TIMEOUT_MS, keep, o);
	else
		assert_int_equal(
		    cw_delete_async(B->h, k, strlen(k), TIMEOUT_MS, keep, o),
		    CW_OK);
	await(o);
}

static const cw_key three[] = {{"a", 1}, {"nope", 4}, {"b", 1}};

static void get_many(void **state, outcome *o)
{
	if (is_core(state))
		cw_cache_get_many_async(B->h, 3, three, TIMEOUT_MS, keep, o);
	else
		assert_int_equal(
		    cw_get_many_async(B->h, 3, three, TIMEOUT_MS, keep, o),
		    CW_OK);
	await(o);
}

static void set_many(void **state, outcome *o)
{
	static const cw_entry e[] = {{"a", 1, "1", 1, CW_NO_EXPIRY},
	    {"b", 1, "22", 2, CW_TTL_MS(60000)}};
	if (is_core(state))
		cw_cache_set_many_async(B->h, 2, e, TIMEOUT_MS, keep, o);
	else
		assert_int_equal(
		    cw_set_many_async(B->h, 2, e, TIMEOUT_MS, keep, o), CW_OK);
	await(o);
}

static void delete_many(void **state, outcome *o)
{
	if (is_core(state))
		cw_cache_delete_many_async(B->h, 3, three, TIMEOUT_MS, keep, o);
	else
		assert_int_equal(
		    cw_delete_many_async(B->h, 3, three, TIMEOUT_MS, keep, o),
		    CW_OK);
	await(o);
}

void async_results_c_api(void **state)
{
	outcome o = {
	    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

	set(state, "k", "value", &o);
	assert_int_equal(o.status, CW_OK);
	get(state, "k", &o);
	assert_int_equal(o.status, CW_OK);
	assert_true(o.found);
	assert_int_equal(o.value_len, 5);
	assert_string_equal(o.value, "value");
	get(state, "missing", &o);
	assert_int_equal(o.status, CW_OK);
	assert_false(o.found);
	assert_int_equal(o.value_len, 0);
	del(state, "k", &o);
	assert_int_equal(o.status, CW_OK);
	assert_true(o.existed);
	del(state, "k", &o);
	assert_false(o.existed);

	set_many(state, &o);
	assert_int_equal(o.status, CW_OK);
	get_many(state, &o);
	assert_int_equal(o.status, CW_OK);
	assert_int_equal(o.count, 3);
	assert_true(o.many_found[0]);
	assert_string_equal(o.many_value[0], "1");
	assert_false(o.many_found[1]);
	assert_true(o.many_found[2]);
	assert_string_equal(o.many_value[2], "22");
	delete_many(state, &o);
	assert_int_equal(o.status, CW_OK);
	assert_int_equal(o.count, 3);
	assert_true(o.many_existed[0]);
	assert_false(o.many_existed[1]);
	assert_true(o.many_existed[2]);
	assert_null(fetch(state, "a", 1, NULL));

	/* an error comes back as the status and message, nothing else */
	get(state, "", &o);
	assert_int_equal(o.status, CW_INVALID_ARGUMENT);
	assert_non_null(strstr(o.message, "key is empty"));
	assert_false(o.found);
}
