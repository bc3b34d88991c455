/*
 * slot.h - Redis Cluster's hash slot of a key: CRC16 (XMODEM: polynomial
 * 0x1021, initial value 0) of the key, or of its hash tag, mod 16384.
 *
 * The hash tag is what lies between the first '{' of the key and the
 * first '}' after it, when that is not empty: "{user42}:cart" and
 * "{user42}:profile" share a slot. cachewired stores "<namespace>:<key>"
 * and namespaces cannot hold braces, so a tag in the caller's key is
 * what decides, and a caller keeps related keys in one slot with it.
 */
#ifndef CW_REDIS_SLOT_H
#define CW_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define CW_SLOTS 16384

uint16_t cw_crc16(const void *p, size_t len);

/* The slot of the key made of p1 then p2 (a prefix and a key). */
int cw_redis_slot(const void *p1, size_t l1, const void *p2, size_t l2);

/*
 * A short hash tag for slot: the decimal digits (NUL-terminated, their
 * length returned) of a number whose CRC16 lands in slot, so that a key
 * "...{<tag>}..." lives in that slot. For keys that must share a slot
 * with a key whose own braces cannot be reused (an upload's temporary
 * entry). The first call fills a table (16384 numbers, a few ms).
 */
#define CW_SLOT_TAG_MAX 12
size_t cw_slot_tag(int slot, char out[CW_SLOT_TAG_MAX]);

#endif
