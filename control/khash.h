/*
 * control/khash.h: a keyed hash of octet strings for control's tables of
 * things an outsider writes (a policy feed's owners, a transferred zone's
 * records): with a secret seed drawn per table, nobody can choose keys
 * that collide. Eight octets at a time, the running state and the word
 * each keyed and multiplied (wyhash's and mum's mix), as cache/nsec_int.h's
 * zone-table hash. Any thread.
 */
#ifndef BW_CONTROL_KHASH_H
#define BW_CONTROL_KHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The 128-bit product of a and b, folded. */
static inline uint64_t ctl_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t ctl_khash(const uint64_t seed[2], const uint8_t *o, size_t len)
{
	uint64_t h = seed[0] ^ len;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		memcpy(&w, o + i, len - i < 8 ? len - i : 8);
		h = ctl_mum(h ^ 0xa0761d6478bd642fULL, w ^ seed[1]);
	}
	return ctl_mum(h ^ 0xe7037ed1a0b428dbULL, seed[0] ^ 0x8ebc6af09c88c6e3ULL);
}

#endif
