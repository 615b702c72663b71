/*
 * cache/mem.c: the cache's allocator (see mem.h). Writer thread and the
 * call_rcu thread; never a worker's loop.
 */
#include "mem.h"

#include "tsan.h"

#include <stdlib.h>
#include <string.h>

#ifdef BW_CACHE_JEMALLOC
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <sys/mman.h>

/*
 * The arena's memory is asked for transparent huge pages: a cache lookup
 * lands on a random index line and a random entry, so with 4 KiB pages
 * nearly every lookup also misses the TLB (measured at 1 M entries: about
 * a tenth of the lookup time). jemalloc's own hooks do the mapping; ours
 * only add madvise(MADV_HUGEPAGE), which the kernel may ignore (THP
 * "never") at no cost. Written once, before the arena exists.
 */
static extent_hooks_t *default_hooks;
static extent_hooks_t huge_hooks;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *huge_alloc(extent_hooks_t *h, void *addr, size_t size,
			size_t align, bool *zero, bool *commit, unsigned arena)
{
	void *p = default_hooks->alloc(h, addr, size, align, zero, commit, arena);

	(void)h;
	if (p)
		madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static void hooks_init(void)
{
	size_t sz = sizeof(default_hooks);

	if (mallctl("arena.0.extent_hooks", &default_hooks, &sz, NULL, 0) == 0) {
		huge_hooks = *default_hooks;
		huge_hooks.alloc = huge_alloc;
	}
}

int cache_mem_init(struct cache_mem *m)
{
	size_t sz = sizeof(m->arena);
	extent_hooks_t *hooks = &huge_hooks;

	pthread_once(&hooks_once, hooks_init);
	if (!default_hooks)
		return -1;
	return mallctl("arenas.create", &m->arena, &sz, &hooks, sizeof(hooks)) ? -1 : 0;
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

size_t cache_mem_usable(struct cache_mem *m, size_t size)
{
	return nallocx(size, flags(m));
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

size_t cache_mem_usable(struct cache_mem *m, size_t size)
{
	void *p = malloc(size);
	size_t u = p ? malloc_usable_size(p) : size;

	(void)m;
	free(p);
	return u;
}

void cache_mem_free(void *p)
{
	free(p);
}
#endif

int cache_qsbr_token;
