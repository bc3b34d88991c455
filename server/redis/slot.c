/* slot.c - Redis Cluster hash slots (slot.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "slot.h"

static uint16_t crc16_more(uint16_t crc, const uint8_t *p, size_t len)
{
	while (len-- > 0) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1) ^ 0x1021
			                   : (uint16_t)(crc << 1);
	}
	return crc;
}

uint16_t cw_crc16(const void *p, size_t len)
{
	return crc16_more(0, p, len);
}

/* A key in two pieces, p1 then p2, indexed as one. */
typedef struct key2 {
	const uint8_t *p1, *p2;
	size_t l1, l2;
} key2;

/* The first index >= from holding ch, or the key's length. */
static size_t find(const key2 *k, size_t from, int ch)
{
	const uint8_t *q;

	if (from < k->l1 && (q = memchr(k->p1 + from, ch, k->l1 - from)))
		return (size_t)(q - k->p1);
	if (from < k->l1)
		from = k->l1;
	if (from - k->l1 < k->l2 &&
	    (q = memchr(k->p2 + (from - k->l1), ch, k->l2 - (from - k->l1))))
		return k->l1 + (size_t)(q - k->p2);
	return k->l1 + k->l2;
}

/* CRC16 of bytes [a, b) of the key. */
static uint16_t crc_range(const key2 *k, size_t a, size_t b)
{
	uint16_t crc = 0;

	if (a < k->l1)
		crc = crc16_more(crc, k->p1 + a, (b < k->l1 ? b : k->l1) - a);
	if (b > k->l1) {
		size_t from = a > k->l1 ? a - k->l1 : 0;
		crc = crc16_more(crc, k->p2 + from, b - k->l1 - from);
	}
	return crc;
}

int cw_redis_slot(const void *p1, size_t l1, const void *p2, size_t l2)
{
	key2 k = {p1, p2, l1, l2};
	size_t len = l1 + l2, open = find(&k, 0, '{'), close;

	if (open < len) {
		close = find(&k, open + 1, '}');
		if (close < len && close > open + 1)
			return crc_range(&k, open + 1, close) & (CW_SLOTS - 1);
	}
	return crc_range(&k, 0, len) & (CW_SLOTS - 1);
}

/* tag_seed[s]: the smallest n whose decimal digits hash to slot s. */
static uint32_t tag_seed[CW_SLOTS];
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static void tags_fill(void)
{
	char buf[12];
	int left = CW_SLOTS;

	for (size_t s = 0; s < CW_SLOTS; s++)
		tag_seed[s] = UINT32_MAX;
	for (uint32_t n = 0; left > 0; n++) {
		int len = snprintf(buf, sizeof buf, "%" PRIu32, n);
		uint16_t s = cw_crc16(buf, (size_t)len) & (CW_SLOTS - 1);
		if (tag_seed[s] == UINT32_MAX) {
			tag_seed[s] = n;
			left--;
		}
	}
}

size_t cw_slot_tag(int slot, char out[CW_SLOT_TAG_MAX])
{
	pthread_once(&tag_once, tags_fill);
	return (size_t)snprintf(
	    out, CW_SLOT_TAG_MAX, "%" PRIu32, tag_seed[slot & (CW_SLOTS - 1)]);
}
