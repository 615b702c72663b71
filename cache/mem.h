/*
 * cache/mem.h: where cache memory comes from. Normal builds give the cache a
 * jemalloc arena of its own (mallocx/dallocx, no thread cache), so that its
 * footprint can be told apart and accounted by usable size; sanitizer builds
 * use the system allocator so that ASan sees every entry. Allocation is done
 * by the cache-writer thread only; frees happen there or in liburcu's
 * call_rcu thread. Never called from a worker's loop.
 */
#ifndef BW_CACHE_MEM_H
#define BW_CACHE_MEM_H

#include <stddef.h>

struct cache_mem {
	unsigned arena; /* jemalloc arena index; unused without jemalloc */
};

/* 0, or -1 when jemalloc refuses to create the arena. */
int cache_mem_init(struct cache_mem *m);

/* size octets, zeroed or not as the caller asks; *usable gets what is
 * really held (what the budget counts). NULL when out of memory. */
void *cache_mem_alloc(struct cache_mem *m, size_t size, size_t *usable);
void *cache_mem_calloc(struct cache_mem *m, size_t size, size_t *usable);
/* What an allocation of size octets really holds, without allocating for
 * good (jemalloc: nallocx; system allocator: one malloc and free): lets a
 * caller check a budget before it allocates. */
size_t cache_mem_usable(struct cache_mem *m, size_t size);
/* Needs no arena, so callbacks can free without finding the cache. */
void cache_mem_free(void *p);

#endif
