/*
 * test_redis_cluster.c - the pure parts of Redis Cluster routing: hash
 * slots (CRC16 test vectors, hash tags, a key in two pieces) and reading
 * recorded CLUSTER SLOTS replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis.h>

#include "cluster.h"
#include "slot.h"

static int slot_of(const char *key)
{
	return cw_redis_slot(key, strlen(key), NULL, 0);
}

static void crc16_vectors(void **state)
{
	(void)state;
	/* CRC-16/XMODEM's check value, and Redis' own examples */
	assert_int_equal(cw_crc16("123456789", 9), 0x31C3);
	assert_int_equal(cw_crc16("", 0), 0);
	assert_int_equal(slot_of("foo"), 12182);
	assert_int_equal(slot_of("bar"), 5061);
	assert_int_equal(slot_of("123456789"), 0x31C3 & 16383);
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof k, "key:%d", i);
		int s = slot_of(k);
		assert_true(s >= 0 && s < CW_SLOTS);
	}
}

static void hash_tags(void **state)
{
	(void)state;
	/* the tag alone decides */
	assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
	assert_int_equal(
	    slot_of("{user1000}.followers"), slot_of("{user1000}.following"));
	/* the first '{' and the first '}' after it */
	assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
	assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
	/* an empty tag, or no '}', hashes the whole key */
	assert_int_equal(
	    slot_of("foo{}{bar}"), cw_crc16("foo{}{bar}", 10) & (CW_SLOTS - 1));
	assert_int_equal(
	    slot_of("foo{bar"), cw_crc16("foo{bar", 7) & (CW_SLOTS - 1));
	assert_int_equal(slot_of("}{"), cw_crc16("}{", 2) & (CW_SLOTS - 1));
}

/* How the core calls it: "<namespace>:" and the caller's key apart. */
static void two_pieces_are_one_key(void **state)
{
	(void)state;
	const char *keys[] = {"plain", "{tag}x", "a{b}c", "x{", "x{}", "{", "}",
	    "a{b", "{}{z}", ""};
	const char *prefixes[] = {"ns:", "", "a{b", "{", "x}"};
	for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++)
		for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
			char whole[64];
			snprintf(
			    whole, sizeof whole, "%s%s", prefixes[p], keys[k]);
			assert_int_equal(
			    cw_redis_slot(prefixes[p], strlen(prefixes[p]),
			        keys[k], strlen(keys[k])),
			    slot_of(whole));
		}
	/* a tag in the key keeps related keys of a namespace together */
	assert_int_equal(cw_redis_slot("pip:", 4, "{wheel}:a", 9),
	    cw_redis_slot("pip:", 4, "{wheel}:b", 9));
	assert_int_equal(
	    cw_redis_slot("pip:", 4, "{wheel}:a", 9), slot_of("wheel"));
}

/* A reply as Redis sent it, through hiredis' reader. */
static redisReply *read_reply(const char *resp)
{
	redisReader *r = redisReaderCreate();
	void *reply = NULL;
	assert_int_equal(redisReaderFeed(r, resp, strlen(resp)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	assert_non_null(reply);
	redisReaderFree(r);
	return reply;
}

/* Recorded from redis-server 7.0 (Debian 12), three masters; the second
 * with one replica added as Redis 7 lists it, the third with an empty
 * host (the node asked). */
static const char slots_7[] =
    "*3\r\n"
    "*3\r\n:0\r\n:5460\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:29814\r\n"
    "$40\r\n347910ec5cb03198d4859c02375bb33e66c8c6a8\r\n*0\r\n"
    "*4\r\n:5461\r\n:10922\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:31727\r\n"
    "$40\r\n416c3979b4b69eb3196d9bea596602fee41a7f94\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:31728\r\n"
    "$40\r\n516c3979b4b69eb3196d9bea596602fee41a7f94\r\n*0\r\n"
    "*3\r\n:10923\r\n:16383\r\n"
    "*4\r\n$0\r\n\r\n:25232\r\n"
    "$40\r\nfc31c8e7cb678e7eddb582e79310d67e24878aec\r\n*0\r\n";

static void slots_reply(void **state)
{
	(void)state;
	redisReply *x = read_reply(slots_7);
	cw_slot_range *v = NULL;
	int n = 0;
	cw_error err = {0};
	assert_int_equal(
	    cw_cluster_slots_parse(x, "10.0.0.9", &v, &n, &err), CW_OK);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].start, 0);
	assert_int_equal(v[0].end, 5460);
	assert_string_equal(v[0].host, "127.0.0.1");
	assert_int_equal(v[0].port, 29814);
	assert_int_equal(v[0].replicas, 0);
	assert_int_equal(v[1].start, 5461);
	assert_int_equal(v[1].end, 10922);
	assert_int_equal(v[1].port, 31727);
	assert_int_equal(v[1].replicas, 1);
	assert_string_equal(v[2].host, "10.0.0.9"); /* "" is who we asked */
	assert_int_equal(v[2].port, 25232);
	assert_int_equal(v[2].end, 16383);
	free(v);
	freeReplyObject(x);
}

static void expect_bad(const char *resp, const char *want)
{
	redisReply *x = read_reply(resp);
	cw_slot_range *v = NULL;
	int n = -1;
	cw_error err = {0};
	assert_int_equal(
	    cw_cluster_slots_parse(x, "h", &v, &n, &err), CW_UNAVAILABLE);
	assert_string_equal(err.message, want);
	assert_null(v);
	assert_int_equal(n, -1);
	freeReplyObject(x);
}

static void bad_replies(void **state)
{
	(void)state;
	/* a node that is not in cluster mode */
	expect_bad("-ERR This instance has cluster support disabled\r\n",
	    "CLUSTER SLOTS: ERR This instance has cluster support disabled");
	expect_bad("+OK\r\n", "malformed CLUSTER SLOTS reply: not an array");
	expect_bad("*1\r\n*2\r\n:0\r\n:1\r\n",
	    "malformed CLUSTER SLOTS reply: an entry is not [start, end, "
	    "master, ...]");
	expect_bad("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n",
	    "malformed CLUSTER SLOTS reply: a slot range is out of 0..16383");
	expect_bad("*1\r\n*3\r\n:9\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n",
	    "malformed CLUSTER SLOTS reply: a slot range is out of 0..16383");
	expect_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n:1\r\n:1\r\n",
	    "malformed CLUSTER SLOTS reply: a node is not [host, port, ...]");
	expect_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:70000\r\n",
	    "malformed CLUSTER SLOTS reply: a node is not [host, port, ...]");
}

/* An empty map, and a master whose address is unknown: uncovered. */
static void uncovered(void **state)
{
	(void)state;
	redisReply *x = read_reply("*0\r\n");
	cw_slot_range *v = NULL;
	int n = -1;
	cw_error err = {0};
	assert_int_equal(cw_cluster_slots_parse(x, "h", &v, &n, &err), CW_OK);
	assert_int_equal(n, 0);
	free(v);
	freeReplyObject(x);
	x = read_reply("*2\r\n*3\r\n:0\r\n:99\r\n*2\r\n$1\r\n?\r\n:6379\r\n"
	               "*3\r\n:100\r\n:200\r\n*2\r\n$1\r\nh\r\n:7\r\n");
	assert_int_equal(cw_cluster_slots_parse(x, "h", &v, &n, &err), CW_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].start, 100);
	assert_int_equal(v[0].port, 7);
	free(v);
	freeReplyObject(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc16_vectors),
	    cmocka_unit_test(hash_tags),
	    cmocka_unit_test(two_pieces_are_one_key),
	    cmocka_unit_test(slots_reply),
	    cmocka_unit_test(bad_replies),
	    cmocka_unit_test(uncovered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
