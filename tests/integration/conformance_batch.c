/*
 * conformance_batch.c - the conformance cases of GetMany, SetMany and
 * DeleteMany, run against every backend like the others.
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

void many_results_in_request_order(void **state)
{
	put(state, "a", "alpha", CW_NO_EXPIRY);
	put(state, "c", "gamma", CW_NO_EXPIRY);
	put(state, "e", "", CW_NO_EXPIRY);
	const cw_key keys[] = {
	    KEY("c"), KEY("b"), KEY("a"), KEY("e"), KEY("z")};
	cw_value v[5];
	fetch_many(state, 5, keys, v);
	assert_value(&v[0], "gamma");
	assert_false(v[1].found);
	assert_value(&v[2], "alpha");
	assert_value(&v[3], ""); /* found, with an empty value: not a miss */
	assert_false(v[4].found);
	cw_values_free(v, 5);
	for (int i = 0; i < 5; i++)
		assert_null(v[i].data);
	/* a batch of one is the single call */
	fetch_many(state, 1, &keys[2], v);
	assert_value(&v[0], "alpha");
	cw_values_free(v, 1);
}

void many_of_nothing_is_ok(void **state)
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
}

void set_many_binary_round_trip(void **state)
{
	static const char k0[] = {'b', '\0', 'i', 'n'};
	static const char k1[] = {'b', '\0', 'i', 'n', '\xff', '\n'};
	static const char v1[] = {'\0', '\0', 'x', '\0'};
	unsigned char v0[256];
	for (int i = 0; i < 256; i++)
		v0[i] = (unsigned char)i;
	const cw_entry e[] = {
	    {k0, sizeof k0, v0, sizeof v0, CW_NO_EXPIRY},
	    {k1, sizeof k1, v1, sizeof v1, CW_NO_EXPIRY},
	    {"empty", 5, NULL, 0, CW_NO_EXPIRY}, /* NULL is fine for 0 bytes */
	    ENTRY("text", "plain", CW_NO_EXPIRY),
	};
	put_many(state, 4, e);
	const cw_key keys[] = {{k1, sizeof k1}, {k0, sizeof k0},
	    {k0, 2} /* differs from k0 only after the NUL */, KEY("empty"),
	    KEY("text")};
	cw_value v[5];
	fetch_many(state, 5, keys, v);
	assert_true(v[0].found);
	assert_int_equal(v[0].len, sizeof v1);
	assert_memory_equal(v[0].data, v1, sizeof v1);
	assert_true(v[1].found);
	assert_int_equal(v[1].len, sizeof v0);
	assert_memory_equal(v[1].data, v0, sizeof v0);
	assert_false(v[2].found);
	assert_value(&v[3], "");
	assert_value(&v[4], "plain");
	cw_values_free(v, 5);

	/* the single-key Get sees the same */
	size_t n;
	char *got = fetch(state, k1, sizeof k1, &n);
	assert_int_equal(n, sizeof v1);
	assert_memory_equal(got, v1, sizeof v1);
	cw_free(got);

	/* stored under the namespace prefix, as plain Redis strings */
	char raw_key[32];
	memcpy(raw_key, NS ":", 5);
	memcpy(raw_key + 5, k0, sizeof k0);
	got = raw_get(state, raw_key, 5 + sizeof k0, &n);
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
}

void many_duplicates(void **state)
{
	/* SetMany: the last entry of a key wins */
	const cw_entry e[] = {ENTRY("d", "one", CW_NO_EXPIRY),
	    ENTRY("o", "other", CW_NO_EXPIRY), ENTRY("d", "two", CW_NO_EXPIRY),
	    ENTRY("d", "three", CW_NO_EXPIRY)};
	put_many(state, 4, e);
	char *got = fetch(state, "d", 1, NULL);
	assert_string_equal(got, "three");
	cw_free(got);
	/* ... also when the last one removes it, or the first one did */
	const cw_entry gone[] = {ENTRY("g", "set", CW_NO_EXPIRY),
	    ENTRY("g", "past", CW_EXPIRE_AT_MS(1)),
	    ENTRY("h", "past", CW_EXPIRE_AT_MS(1)),
	    ENTRY("h", "back", CW_NO_EXPIRY)};
	put_many(state, 4, gone);
	assert_null(fetch(state, "g", 1, NULL));
	got = fetch(state, "h", 1, NULL);
	assert_string_equal(got, "back");
	cw_free(got);

	/* GetMany: the value for every occurrence, each its own copy */
	const cw_key keys[] = {
	    KEY("d"), KEY("x"), KEY("d"), KEY("o"), KEY("x"), KEY("d")};
	cw_value v[6];
	fetch_many(state, 6, keys, v);
	assert_value(&v[0], "three");
	assert_false(v[1].found);
	assert_value(&v[2], "three");
	assert_value(&v[3], "other");
	assert_false(v[4].found);
	assert_value(&v[5], "three");
	assert_ptr_not_equal(v[0].data, v[2].data);
	assert_ptr_not_equal(v[2].data, v[5].data);
	cw_values_free(v, 6);

	/* DeleteMany: existed is true for the first occurrence only */
	const cw_key del[] = {
	    KEY("d"), KEY("o"), KEY("d"), KEY("x"), KEY("x"), KEY("o")};
	bool existed[6] = {false, false, true, true, true, true};
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, 6, del, existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed[0]);
	assert_true(existed[1]);
	assert_false(existed[2]);
	assert_false(existed[3]);
	assert_false(existed[4]);
	assert_false(existed[5]);
	assert_null(fetch(state, "d", 1, NULL));
	assert_null(fetch(state, "o", 1, NULL));
}

void set_many_each_entry_own_expiry(void **state)
{
	put(state, "gone", "old", CW_NO_EXPIRY);
	put(state, "plain", "old", CW_TTL_MS(60000));
	uint64_t now = cw_now_ms();
	const cw_entry e[] = {
	    ENTRY("ttl", "v", CW_TTL_MS(1500)),
	    ENTRY("plain", "v", CW_NO_EXPIRY), /* drops the earlier expiry */
	    ENTRY("gone", "new", CW_EXPIRE_AT_MS(now - 1000)),
	    ENTRY("at", "v", CW_EXPIRE_AT_MS(now + 60000)),
	    ENTRY("zero", "v", CW_TTL_MS(0)),
	    ENTRY("epoch", "v", CW_EXPIRE_AT_MS(1)),
	    ENTRY("short", "v", CW_TTL_MS(600)),
	};
	put_many(state, 7, e);
	long long pttl = raw_int(state, "PTTL %s", NS ":ttl");
	assert_true(pttl > 1000 && pttl <= 1500); /* ms kept as such */
	assert_int_equal(raw_int(state, "PTTL %s", NS ":plain"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":gone"), 0);
	pttl = raw_int(state, "PTTL %s", NS ":at");
	assert_true(pttl > 50000 && pttl <= 60000);
	assert_int_equal(raw_int(state, "PTTL %s", NS ":zero"), -1);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":epoch"), 0);

	const cw_key keys[] = {KEY("ttl"), KEY("plain"), KEY("gone"), KEY("at"),
	    KEY("zero"), KEY("epoch"), KEY("short")};
	cw_value v[7];
	fetch_many(state, 7, keys, v);
	assert_value(&v[0], "v");
	assert_value(&v[1], "v");
	assert_false(v[2].found); /* past absolute expiry: removed, no error */
	assert_value(&v[3], "v");
	assert_value(&v[4], "v");
	assert_false(v[5].found);
	assert_value(&v[6], "v");
	cw_values_free(v, 7);
	cw_test_sleep_ms(1300);
	assert_null(fetch(state, "short", 5, NULL));
	assert_int_equal(raw_int(state, "PTTL %s", NS ":plain"), -1);
}

void delete_many_present_and_missing(void **state)
{
	put(state, "a", "v", CW_NO_EXPIRY);
	put(state, "c", "v", CW_NO_EXPIRY);
	const cw_key keys[] = {KEY("a"), KEY("b"), KEY("c")};
	bool existed[3] = {false, true, false};
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, 3, keys, existed, TIMEOUT_MS, &err), CW_OK);
	assert_true(existed[0]);
	assert_false(existed[1]);
	assert_true(existed[2]);
	assert_null(fetch(state, "a", 1, NULL));
	assert_null(fetch(state, "c", 1, NULL));
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":a"), 0);
	/* existed may be NULL */
	put(state, "a", "v", CW_NO_EXPIRY);
	assert_int_equal(
	    B->del_many(B->h, 3, keys, NULL, TIMEOUT_MS, &err), CW_OK);
	assert_null(fetch(state, "a", 1, NULL));
}

void batch_is_checked_as_a_whole(void **state)
{
	cw_error err;
	int rc;
	char *big = calloc(1, MAX_VALUE + 1);
	assert_non_null(big);
	memset(big, 'k', MAX_KEY + 1);

	/* SetMany: one bad entry, anywhere, and nothing is written */
	cw_entry e[] = {ENTRY("s0", "v", CW_NO_EXPIRY),
	    ENTRY("s1", "v", CW_NO_EXPIRY), ENTRY("s2", "v", CW_NO_EXPIRY)};
	e[2].key_len = 0;
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "entries[2]: key is empty", NULL);
	e[2].key_len = 2;
	e[1].key = big;
	e[1].key_len = MAX_KEY + 1;
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(
	    state, rc, &err, CW_INVALID_ARGUMENT, "entries[1]", "1025");
	e[1].key = NULL; /* NULL with a length */
	e[1].key_len = 2;
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
	/* a value over the limit is RESOURCE_EXHAUSTED, as for Set */
	e[2] = (cw_entry){"s2", 2, big, MAX_VALUE + 1, CW_NO_EXPIRY};
	rc = B->set_many(B->h, 3, e, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_RESOURCE_EXHAUSTED,
	    "entries[2]: value is 16777217 bytes; the limit is 16777216", NULL);
	free(big);
	assert_null(fetch(state, "s0", 2, NULL));
	assert_null(fetch(state, "s1", 2, NULL));
	assert_null(fetch(state, "s2", 2, NULL));
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

	/* DeleteMany: a bad last key, and the earlier ones stay */
	bool existed[5] = {false, true, true, true, true};
	keys[3] = KEY("d");
	keys[4] = (cw_key){"", 0};
	rc = B->del_many(B->h, 5, keys, existed, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT,
	    "keys[4]: key is empty", NULL);
	assert_false(existed[0]); /* not written */
	char *got = fetch(state, "kept", 4, NULL);
	assert_non_null(got);
	cw_free(got);
}

#define BATCH_LIMIT 1000 /* cache.max_batch_keys' default */

/* n keys "<prefix><i>", and entries storing "value-<i>" under them. */
typedef struct batch {
	size_t n;
	char (*names)[32];
	char (*values)[32];
	cw_key *keys;
	cw_entry *entries;
} batch;

static void batch_make(batch *b, const char *prefix, size_t n)
{
	b->n = n;
	b->names = calloc(n, sizeof *b->names);
	b->values = calloc(n, sizeof *b->values);
	b->keys = calloc(n, sizeof *b->keys);
	b->entries = calloc(n, sizeof *b->entries);
	assert_non_null(b->names);
	assert_non_null(b->values);
	assert_non_null(b->keys);
	assert_non_null(b->entries);
	for (size_t i = 0; i < n; i++) {
		snprintf(b->names[i], sizeof b->names[i], "%s%zu", prefix, i);
		snprintf(b->values[i], sizeof b->values[i], "value-%zu", i);
		size_t kl = strlen(b->names[i]);
		b->keys[i] = (cw_key){b->names[i], kl};
		b->entries[i] = (cw_entry){b->names[i], kl, b->values[i],
		    strlen(b->values[i]), CW_NO_EXPIRY};
	}
}

static void batch_free(batch *b)
{
	free(b->names);
	free(b->values);
	free(b->keys);
	free(b->entries);
}

void big_batch(void **state)
{
	size_t n = BATCH_LIMIT;
	batch b;
	batch_make(&b, "big:", n);
	put_many(state, n, b.entries);

	/* every key landed under the namespace prefix */
	char raw_key[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(raw_key, sizeof raw_key, NS ":%s", b.names[i]);
		assert_int_equal(raw_int(state, "EXISTS %s", raw_key), 1);
	}
	assert_int_equal(raw_int(state, "EXISTS %s", "big:0"), 0);
	size_t len;
	char *got = raw_get(state, NS ":big:999", strlen(NS ":big:999"), &len);
	assert_non_null(got);
	assert_string_equal(got, "value-999");
	free(got);

	/* all of them back, in reverse order, every third one a miss */
	cw_key *ask = calloc(n, sizeof *ask);
	char(*missing)[32] = calloc(n, sizeof *missing);
	cw_value *v = calloc(n, sizeof *v);
	assert_non_null(ask);
	assert_non_null(missing);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0) {
			snprintf(missing[i], sizeof missing[i], "nope:%zu", i);
			ask[i] = (cw_key){missing[i], strlen(missing[i])};
		} else {
			ask[i] = b.keys[n - 1 - i];
		}
	}
	fetch_many(state, n, ask, v);
	char want[32];
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0) {
			assert_false(v[i].found);
			continue;
		}
		snprintf(want, sizeof want, "value-%zu", n - 1 - i);
		assert_value(&v[i], want);
	}
	cw_values_free(v, n);

	/* and all of them deleted */
	bool *existed = calloc(n, sizeof *existed);
	assert_non_null(existed);
	cw_error err;
	assert_int_equal(
	    B->del_many(B->h, n, b.keys, existed, TIMEOUT_MS, &err), CW_OK);
	for (size_t i = 0; i < n; i++)
		assert_true(existed[i]);
	uint64_t removed = 99;
	assert_int_equal(B->clear(B->h, &removed, TIMEOUT_MS, &err), CW_OK);
	assert_int_equal(removed, 0);

	free(existed);
	free(v);
	free(missing);
	free(ask);
	batch_free(&b);
}

void batch_over_the_limit(void **state)
{
	size_t n = BATCH_LIMIT + 1;
	batch b;
	batch_make(&b, "over:", n);
	cw_error err;
	int rc = B->set_many(B->h, n, b.entries, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	assert_int_equal(raw_int(state, "EXISTS %s", NS ":over:0"), 0);
	assert_null(fetch(state, "over:0", 6, NULL));

	cw_value *v = calloc(n, sizeof *v);
	assert_non_null(v);
	prefill(v, n);
	rc = B->get_many(B->h, n, b.keys, v, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	assert_ptr_equal(v[0].data, &sentinel);

	put(state, "over:0", "v", CW_NO_EXPIRY);
	rc = B->del_many(B->h, n, b.keys, NULL, TIMEOUT_MS, &err);
	assert_failed(state, rc, &err, CW_INVALID_ARGUMENT, "1000", NULL);
	char *got = fetch(state, "over:0", 6, NULL); /* nothing deleted */
	assert_non_null(got);
	cw_free(got);

	free(v);
	batch_free(&b);
}
