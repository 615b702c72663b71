/*
 * cache/flush.c: an operator's flush of both stores (msgcache.h's
 * cache_flush_stores()), the one both processes apply: control to its own
 * stores, the dataplane's writer to the workers'. Writer thread.
 */
#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "cache/err.h"

int cache_flush_stores(struct cache *c, struct cache_nsec *n, unsigned mode,
		       const uint8_t *name, uint32_t now, uint64_t *entries)
{
	int zones = 0, r;

	*entries = 0;
	if (mode == CACHE_FLUSH_ALL) {
		struct cache_stats st;

		/* the epoch makes every entry a miss at once: counted now */
		cache_get_stats(c, &st);
		cache_flush_epoch(c);
		*entries = st.entries;
		return n ? cache_nsec_flush(n) : 0;
	}
	if ((r = cache_flush_names(c, mode, name, now)))
		return r;
	if (n)
		zones = mode == CACHE_FLUSH_NEGATIVE
				? cache_nsec_flush(n)
				: cache_nsec_flush_under(n, name, mode == CACHE_FLUSH_ZONE);
	return zones < 0 ? CACHE_E_NSEC_NOMEM : zones;
}
