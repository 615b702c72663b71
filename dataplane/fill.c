/*
 * dataplane/fill.c: a fill record's content (see fill.h). The cache
 * writer's thread.
 */
#include "dataplane/fill.h"

#include "cache/msgcache.h"

int dp_fill_insert(struct cache *c, const struct shm_fill *f, uint32_t now)
{
	if (!(f->flags & SHM_FILL_CACHE) || (f->flags & (SHM_FILL_STALE | SHM_FILL_TRUNCATED)) ||
	    !f->msg_len)
		return 1;
	/* control assembles every answer with its DNSSEC records (shm.h) */
	struct cache_tag tag = { .gen = f->policy_gen, .verdict = f->policy_rule };
	return cache_insert_tagged(c, f->msg, f->msg_len, now, (enum cache_rank)f->rank, true,
				   f->policy_gen ? &tag : NULL);
}
