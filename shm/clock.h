/*
 * shm/clock.h: the one clock both processes keep time by. Cache expiry,
 * delegation life, timers, heartbeats and the dataplane's shm_ctl.now_ms
 * are all CLOCK_MONOTONIC, so an entry control fills expires when the
 * dataplane thinks it does, and neither a wall-clock step nor NTP slewing
 * the date moves a TTL. The study clock of a replay (resolver.clock-scale)
 * does not replace these: it is derived from them in the two TTL clocks,
 * the dataplane's shm_ctl.now_s and control's ctl_iter_now(), from one
 * base (shm_ctl.clock_base_ms); timers and heartbeats stay on these. Any
 * thread; a vDSO call, no syscall.
 */
#ifndef BW_SHM_CLOCK_H
#define BW_SHM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t shm_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t shm_clock_ms(void)
{
	return shm_clock_us() / 1000u;
}

#endif
