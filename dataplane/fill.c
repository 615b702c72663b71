/*
 * dataplane/fill.c: a fill record's content (see fill.h). The cache
 * writer's thread.
 */
#include "dataplane/fill.h"

#include <string.h>

#include "cache/msgcache.h"
#include "dns/query.h"
#include "dns/reply.h"

int dp_fill_insert(struct cache *c, const struct shm_fill *f, uint32_t now)
{
	if (!(f->flags & SHM_FILL_CACHE) || (f->flags & (SHM_FILL_STALE | SHM_FILL_TRUNCATED)) ||
	    !f->msg_len)
		return 1;
	return cache_insert(c, f->msg, f->msg_len, now, (enum cache_rank)f->rank,
			    f->c.has_edns && (f->c.edns_flags & DNS_EDNS_F_DO));
}

size_t dp_fill_answer(struct cache *c, const struct shm_fill *f, const struct dns_query *q,
		      uint32_t now, uint16_t edns_size, uint8_t *out, size_t cap)
{
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };

	if (f->flags & SHM_FILL_TRUNCATED) {
		size_t n = dns_reply_empty(q->wire, q, f->rcode, edns_size, out);
		out[2] |= DNS_F_TC >> 8;
		return n;
	}
	/* What the cache now holds answers as a hit would (AD rules, TTLs);
	 * after a failure, a stale entry is better than SERVFAIL (RFC 8767). */
	cache_key_from_query(&k, c, q);
	cache_lookup_burst(c, &kp, 1, now, &res, &rst);
	if (res.entry && !(f->flags & SHM_FILL_STALE) &&
	    (res.state == CACHE_HIT || res.state == CACHE_HIT_PREFETCH ||
	     f->rcode == DNS_R_SERVFAIL)) {
		int n = cache_answer(c, res.entry, (enum cache_state)res.state, q, now, out, cap);
		if (n > 0)
			return (size_t)n;
	}
	return dns_reply_from_msg(q, f->msg_len ? f->msg : NULL, f->msg_len, f->rcode, false,
				  cap, edns_size, out);
}
