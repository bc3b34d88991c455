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

#endif
