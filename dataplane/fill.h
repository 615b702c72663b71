/*
 * dataplane/fill.h: what the cache writer puts into the cache from a fill
 * record once shm_fill_check() has passed it (the client's answer is
 * answer/reply.h's answer_resolved()). No EAL, no I/O; the cache writer's
 * thread (and the fuzz target fuzz_fill).
 */
#ifndef BW_DATAPLANE_FILL_H
#define BW_DATAPLANE_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/shm.h"

struct cache;

/* Inserts f's message into the cache when f asks (SHM_FILL_CACHE, not
 * stale or truncated): cache_insert()'s result, or 1 when none was tried. */
int dp_fill_insert(struct cache *c, const struct shm_fill *f, uint32_t now);

#endif
