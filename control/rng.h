/*
 * control/rng.h: the control process's source of unpredictable numbers for
 * forgery resistance (query ids, source ports, socket choice, 0x20 case,
 * client cookies). glibc 2.36 provides arc4random(3): a per-thread ChaCha20
 * keystream seeded from getrandom(2), reseeded periodically and after fork,
 * with no file descriptor and no failure return (it aborts if the kernel
 * cannot supply entropy, which is what we want). Any thread; no locks.
 */
#ifndef BW_CONTROL_RNG_H
#define BW_CONTROL_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Uniform in [0, n) without modulo bias; n = 0 gives 0. */
static inline uint32_t up_rng_below(uint32_t n)
{
	return n ? arc4random_uniform(n) : 0;
}

static inline uint16_t up_rng_u16(void)
{
	return (uint16_t)arc4random();
}

static inline void up_rng_buf(void *p, size_t n)
{
	arc4random_buf(p, n);
}

#endif
