/*
 * conformance_batch.c - the C-only conformance cases of GetMany, SetMany
 * and DeleteMany, run against every backend like the others. What a
 * client can see of batches (order, empty batches, duplicates, per-entry
 * expiry, present/missing, checked as a whole, big and over-the-limit
 * batches) is in tests/conformance/cases.txt, shared with the Python
 * client; here is what only C can check: what lands in Redis, outputs
 * left unwritten, NULL arrays and pointers, out-of-range expiries.
 */
#include "conformance.h"

/* ---- batches: GetMany / SetMany / DeleteMany ------------------------------
 */

#define KEY(s)         ((cw_key){(s), sizeof(s) - 1})
#define ENTRY(k, v, x) ((cw_entry){(k), sizeof(k) - 1, (v), sizeof(v) - 1, (x)})

static char sentinel; /* what an output that no call wrote points at */

static void prefill(cw_value *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		values[i] = (cw_value){true, &sentinel, 12345};
}

/* GetMany (which must succeed) and check the shape of every result. */
static void fetch_many(
    void **state, size_t n, const cw_key *keys, cw_value *values)
{
	cw_error err;
	prefill(values, n);
	int rc = B->get_many(B->h, n, keys, values, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: get_many: %s: %s", B->name, cw_strerror(rc),
		    err.message);
	for (size_t i = 0; i < n; i++) {
		if (!values[i].found) {
			assert_null(values[i].data); /* a miss: NULL, 0 */
			assert_int_equal(values[i].len, 0);
			continue;
		}
		assert_non_null(values[i].data);
		assert_ptr_not_equal(values[i].data, &sentinel);
		/* NUL-terminated one past len, for convenience */
		assert_int_equal(((char *)values[i].data)[values[i].len], 0);
	}
}

static void put_many(void **state, size_t n, const cw_entry *entries)
{
	cw_error err;
	int rc = B->set_many(B->h, n, entries, TIMEOUT_MS, &err);
	if (rc != CW_OK)
		fail_msg("%s: set_many: %s: %s", B->name, cw_strerror(rc),
		    err.message);
}

/* v is a hit holding exactly the string s. */
static void assert_value(const cw_value *v, const char *s)
{
	assert_true(v->found);
	assert_int_equal(v->len, strlen(s));
	assert_string_equal(v->data, s);
}

/* The call failed with code, and the message holds want (and want2). */
static void assert_failed(void **state, int rc, const cw_error *err, int code,
    const char *want, const char *want2)
{
	if (rc != code)
		fail_msg("%s: wanted %s (%s), got %s: %s", B->name,
		    cw_strerror(code), want, cw_strerror(rc),
		    rc == CW_OK ? "" : err->message);
	assert_int_equal(err->code, code);
	if (strstr(err->message, want) == NULL ||
	    (want2 != NULL && strstr(err->message, want2) == NULL))
		fail_msg("%s: message '%s' lacks '%s'/'%s'", B->name,
		    err->message, want, want2 ? want2 : "");
}

/* The raw Redis value at the (already prefixed) key, malloc'd, or NULL. */
static char *raw_get(void **state, const void *key, size_t len, size_t *vl)
{
	redisReply *r = redisCommand(B->raw, "GET %b", key, len);
	assert_non_null(r);
	char *v = NULL;
	if (r->type == REDIS_REPLY_STRING) {
		v = malloc(r->len + 1);
		assert_non_null(v);
		memcpy(v, r->str, r->len + 1);
		*vl = r->len;
	} else {
		assert_int_equal(r->type, REDIS_REPLY_NIL);
	}
	freeReplyObject(r);
	return v;
}

void set_many_lands_in_redis(void **state)
{
	static const char k0[] = {'b', '\0', 'i', 'n'};
	unsigned char v0[256];
	for (int i = 0; i < 256; i++)
		v0[i] = (unsigned char)i;
	put(state, "plain", "old", CW_TTL_MS(60000));
	uint64_t now = cw_now_ms();
	const cw_entry e[] = {
	    {k0, sizeof k0, v0, sizeof v0, CW_NO_EXPIRY},
	    ENTRY("text", "plain", CW_NO_EXPIRY),
	    {"empty", 5, NULL, 0, CW_NO_EXPIRY}, /* NULL is fine for 0 bytes */
	    ENTRY("ttl", "v", CW_TTL_MS(1500)),
	    ENTRY("plain", "v", CW_NO_EXPIRY), /* drops the earlier expiry */
	    ENTRY("gone", "new", CW_EXPIRE_AT_MS(now - 1000)),
	    ENTRY("at", "v", CW_EXPIRE_AT_MS(now + 60000)),
	    ENTRY("zero", "v", CW_TTL_MS(0)),
	    ENTRY("epoch", "v", CW_EXPIRE_AT_MS(1)),
	};
	put_many(state, sizeof e / sizeof e[0], e);

	/* stored under the namespace prefix, as plain Redis strings */
	char raw_key[32];
	size_t n;
	memcpy(raw_key, NS ":", 5);
	memcpy(raw_key + 5, k0, sizeof k0);
	char *got = raw_get(state, raw_key, 5 + sizeof k0, &n);
	assert_non_null(got);
	assert_int_equal(n, sizeof v0);
	assert_memory_equal(got, v0, sizeof v0);
	free(got);
	got = raw_get(state, NS ":text", strlen(NS ":text"), &n);
	assert_non_null(got);
	assert_string_equal(got, "plain");
	free(got);
	assert_int_equal(raw_int(state, "EXISTS %s", "text"), 0);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":empty"), 1);

	/* each entry's own expiry, as Redis TTLs */
	long long pttl = raw_int(state, "PTTL %s", NS ":ttl");
	assert_true(pttl > 1000 && pttl <= 1500); /* ms kept as such */
	assert_int_equal(raw_int(state, "PTTL %s", NS ":plain"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":gone"), 0);
	pttl = raw_int(state, "PTTL %s", NS ":at");
	assert_true(pttl > 50000 && pttl <= 60000);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":zero"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":epoch"), 0);

	/* GetMany: NUL-terminated values, each occurrence its own copy */
	const cw_key keys[] = {KEY("text"), KEY("x"), KEY("text")};
	cw_value v[3];
	fetch_many(state, 3, keys, v);
	assert_value(&v[0], "plain");
	assert_value(&v[2], "plain");
	assert_ptr_not_equal(v[0].data, v[2].data);
	cw_values_free(v, 3);
	for (int i = 0; i < 3; i++)
		assert_null(v[i].data);
}

void many_of_nothing_c_api(void **state)
{
	put(state, "k", "v", CW_NO_EXPIRY);
	cw_error err;
	cw_key key = KEY("k");
	cw_entry entry = ENTRY("k", "changed", CW_NO_EXPIRY);
	cw_value value = {true, &sentinel, 12345};
	bool existed = true;
	assert_int_equal(
	    B->get_many(B->h, 0, &key, &value, TIMEOUT_MS, &err), CW_OK);
	assert_ptr_equal(value.data, &sentinel); /* no item: nothing written */
	assert_int_equal(B->set_many(B->h, 0, &entry, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(
	    B->del_many(B->h, 0, &key, &existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed);
	/* with no items, the arrays may be NULL */
	assert_int_equal(
	    B->get_many(B->h, 0, NULL, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(B->set_many(B->h, 0, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(
	    B->del_many(B->h, 0, NULL, NULL, TIMEOUT_MS, &err), CW_OK);
	char *got = fetch(state, "k", 1, NULL);
	assert_string_equal(got, "v"); /* untouched */
	cw_free(got);
	/* DeleteMany's existed may be NULL with items too */
	const cw_key keys[] = {KEY("k"), KEY("b")};
	assert_int_equal(
	    B->del_many(B->h, 2, keys, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_null(fetch(state, "k", 1, NULL));
}

void batch_is_checked_as_a_whole_c_api(void **state)
{
	cw_error err;
	int rc;
	/* SetMany: NULL pointers with lengths, expiries out of range */
	cw_entry e[] = {ENTRY("s0", "v", CW_NO_EXPIRY),
	    ENTRY("s1", "v", CW_NO_EXPIRY), ENTRY("s2", "v", CW_NO_EXPIRY)};
	e[1].key = NULL; /* NULL with a length */
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", NULL);
	e[1] = (cw_entry){"s1", 2, NULL, 4, CW_NO_EXPIRY}; /* value NULL */
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", NULL);
	e[1] = ENTRY("s1", "v", CW_NO_EXPIRY);
	e[2].expiry = CW_TTL_MS(UINT64_MAX);
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[2]", NULL);
	e[2].expiry = CW_EXPIRE_AT_MS(CW_EXPIRY_MAX_MS + 1);
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "entries[2]", NULL);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":s0"), 0);

	/* GetMany: the index is named; no result is written */
	put(state, "kept", "v", CW_NO_EXPIRY);
	cw_key keys[] = {KEY("kept"), KEY("a"), KEY("b"), {"", 0}, KEY("c")};
	cw_value v[5];
	prefill(v, 5);
	rc = B->get_many(B->h, 5, keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "keys[3]: key is empty", NULL);
	assert_ptr_equal(v[0].data, &sentinel);
	keys[3] = (cw_key){NULL, 4};
	rc = B->get_many(B->h, 5, keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "keys[3]", NULL);
	assert_ptr_equal(v[0].data, &sentinel);

	/* DeleteMany: a bad last key; existed is not written */
	bool existed[5] = {false, true, true, true, true};
	keys[3] = KEY("d");
	keys[4] = (cw_key){"", 0};
	rc = B->del_many(B->h, 5, keys, existed, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "keys[4]: key is empty", NULL);
	assert_false(existed[0]);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":kept"), 1);
}
