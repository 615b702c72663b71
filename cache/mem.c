/*
 * cache/mem.c: the cache's allocator (see mem.h). Writer thread and the
 * call_rcu thread; never a worker's loop.
 */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

#ifdef BW_CACHE_JEMALLOC
#include <jemalloc/jemalloc.h>

int cache_mem_init(struct cache_mem *m)
{
	size_t sz = sizeof(m->arena);

	return mallctl("arenas.create", &m->arena, &sz, NULL, 0) ? -1 : 0;
}

static int flags(const struct cache_mem *m)
{
	return (int)MALLOCX_ARENA(m->arena) | MALLOCX_TCACHE_NONE;
}

void *cache_mem_alloc(struct cache_mem *m, size_t size, size_t *usable)
{
	void *p = mallocx(size, flags(m));

	if (p)
		*usable = sallocx(p, flags(m));
	return p;
}

void *cache_mem_calloc(struct cache_mem *m, size_t size, size_t *usable)
{
	void *p = mallocx(size, flags(m) | MALLOCX_ZERO);

	if (p)
		*usable = sallocx(p, flags(m));
	return p;
}

void cache_mem_free(void *p)
{
	/* jemalloc finds the arena from the pointer; only skip the tcache. */
	if (p)
		dallocx(p, MALLOCX_TCACHE_NONE);
}

#else
#include <malloc.h>

int cache_mem_init(struct cache_mem *m)
{
	m->arena = 0;
	return 0;
}

void *cache_mem_alloc(struct cache_mem *m, size_t size, size_t *usable)
{
	void *p = malloc(size);

	(void)m;
	if (p)
		*usable = malloc_usable_size(p);
	return p;
}

void *cache_mem_calloc(struct cache_mem *m, size_t size, size_t *usable)
{
	void *p = calloc(1, size);

	(void)m;
	if (p)
		*usable = malloc_usable_size(p);
	return p;
}

void cache_mem_free(void *p)
{
	free(p);
}
#endif
