/*
 * dataplane/fill.c: a fill record's content (see fill.h). The cache
 * writer's thread.
 */
#include "dataplane/fill.h"

#include <string.h>

#include "cache/msgcache.h"
#include "dataplane/pkt.h"
#include "dns/query.h"
#include "dns/reply.h"

int dp_client_query(const struct shm_client *c, uint8_t *qbuf, struct dns_query *q)
{
	size_t n = DNS_HDR_LEN;

	if (c->qname_len == 0)
		return -1;
	dns_put16(qbuf, c->dns_id);
	dns_put16(qbuf + 2, (uint16_t)(c->dns_flags & ~DNS_F_QR));
	dns_put16(qbuf + 4, 1);
	memset(qbuf + 6, 0, 4);
	dns_put16(qbuf + 10, c->has_edns ? 1 : 0);
	memcpy(qbuf + n, c->qname, c->qname_len);
	n += c->qname_len;
	dns_put16(qbuf + n, c->qtype);
	dns_put16(qbuf + n + 2, c->qclass);
	n += 4;
	if (c->has_edns) {
		qbuf[n] = 0;
		dns_put16(qbuf + n + 1, DNS_T_OPT);
		dns_put16(qbuf + n + 3, c->udp_size);
		dns_put32(qbuf + n + 5, c->edns_flags & DNS_EDNS_F_DO);
		dns_put16(qbuf + n + 9, 0);
		n += 11;
	}
	return dns_query_parse(q, qbuf, n) ? -1 : 0;
}

int dp_fill_check(const struct shm_fill *f, unsigned n_workers)
{
	const struct shm_client *c = &f->c;

	return f->h.type == SHM_REC_FILL && f->h.abi == SHM_ABI_VERSION &&
	       f->h.len == sizeof(*f) && f->msg_len <= SHM_MSG_MAX &&
	       f->rank >= CACHE_RANK_ADDITIONAL && f->rank <= CACHE_RANK_SECURE &&
	       f->rcode <= 0xfff && c->worker < n_workers &&
	       (c->family == DP_PKT_IPV4 || c->family == DP_PKT_IPV6) ? 0 : -1;
}

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
