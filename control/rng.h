/*
 * control/rng.h: the control process's source of unpredictable numbers for
 * forgery resistance (query ids, source ports, socket choice, 0x20 case,
 * client cookies, server exploration). The bytes are the kernel's
 * (getrandom(2) through glibc's arc4random_buf(3), which aborts if the
 * kernel cannot supply entropy: what we want), taken UP_RNG_POOL at a time
 * into a per-thread pool and handed out once each. glibc 2.36's arc4random
 * is a getrandom(2) call every time (the ChaCha20 keystream it was first
 * written with did not ship): about four system calls an upstream query
 * (id, port, 0x20 bits, server choice), ~5 % of control's time in a cold
 * run. The pool holds bytes not yet used, never ones handed out (each is
 * zeroed as it goes). Control never forks (a fork would share the pool;
 * its exec() to reattach drops it). A VM or process snapshot restored
 * twice hands out the same pooled bytes in both copies, at most 255 per
 * file, where a getrandom(2) call each time would not: glibc 2.41's
 * arc4random (the kernel's vDSO getrandom, cheap and reseeded when a VM is
 * cloned) would make the pool unnecessary. Each file that includes this
 * has its own pool. Any thread; no locks.
 */
#ifndef BW_CONTROL_RNG_H
#define BW_CONTROL_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UP_RNG_POOL 256

static __thread struct {
	uint8_t b[UP_RNG_POOL];
	unsigned left;		/* unused bytes at the end of b */
} up_rng_pool;

/* n bytes (any n) from the pool, refilled from the kernel when short. */
static inline void up_rng_buf(void *p, size_t n)
{
	uint8_t *o = p;

	while (n) {
		if (!up_rng_pool.left) {
			arc4random_buf(up_rng_pool.b, UP_RNG_POOL);
			up_rng_pool.left = UP_RNG_POOL;
		}
		size_t k = n < up_rng_pool.left ? n : up_rng_pool.left;
		uint8_t *from = up_rng_pool.b + UP_RNG_POOL - up_rng_pool.left;
		memcpy(o, from, k);
		memset(from, 0, k);
		up_rng_pool.left -= (unsigned)k;
		o += k;
		n -= k;
	}
}

static inline uint32_t up_rng_u32(void)
{
	uint32_t v;

	up_rng_buf(&v, sizeof(v));
	return v;
}

static inline uint16_t up_rng_u16(void)
{
	uint16_t v;

	up_rng_buf(&v, sizeof(v));
	return v;
}

/* Uniform in [0, n) without modulo bias (draws below 2^32 mod n are
 * rejected, as arc4random_uniform(3) does); n = 0 gives 0. */
static inline uint32_t up_rng_below(uint32_t n)
{
	if (n < 2)
		return 0;
	uint32_t min = -n % n;

	for (;;) {
		uint32_t r = up_rng_u32();
		if (r >= min)
			return r % n;
	}
}

#endif
