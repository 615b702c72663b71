/*
 * cache/nsec_feed.c: a denial feed into the NSEC store (see nsec.h,
 * cache_nsec_feed()), and the lists of the store's zones and of those it
 * evicted for the operator's counters (cache_nsec_zones(),
 * cache_nsec_evictions()). The store's writer thread. Every record is checked
 * here as the message parser and the store check it; nothing of the feed
 * is trusted for its shape, only for its validation status, which control
 * vouches for.
 */
#include "cache/nsec.h"

#include <string.h>

#include "cache/nsec_int.h"

#include "dns/msg.h"
#include "dns/name.h"

#define FEED_RR_MAX 64		/* authority records of one feed */
#define FEED_RDATA_MAX 8192	/* unpacked RDATA of one feed */
#define RRSIG_SIGNER_OFF 18	/* RFC 4034 3.1: type .. key tag, then the signer */

struct feed_rr {
	struct dns_rr rr;
	uint16_t rd_off, rd_len; /* unpacked RDATA in the feed's scratch */
};

struct feed {
	unsigned n;
	struct feed_rr r[FEED_RR_MAX];
	size_t used;
	uint8_t rd[FEED_RDATA_MAX];
	uint8_t blob[CACHE_NSEC_BLOB_MAX];
};

/* Appends record x to the blob at *n (owner as received, the TTL given),
 * or false when it does not fit. */
static bool put_rr(struct feed *f, const struct feed_rr *x, uint32_t ttl, size_t *n)
{
	size_t ol = x->rr.owner_len, len = ol + 10 + x->rd_len;

	if (len > sizeof(f->blob) - *n)
		return false;
	uint8_t *p = f->blob + *n;
	memcpy(p, x->rr.owner, ol);
	dns_put16(p + ol, x->rr.type);
	dns_put16(p + ol + 2, x->rr.rclass);
	dns_put32(p + ol + 4, ttl);
	dns_put16(p + ol + 8, x->rd_len);
	memcpy(p + ol + 10, f->rd + x->rd_off, x->rd_len);
	*n += len;
	return true;
}

/* Whether x is an RRSIG by zone over (owner, type). */
static bool sig_over(const struct feed *f, const struct feed_rr *x, const uint8_t *zone,
		     const struct feed_rr *data)
{
	const uint8_t *rd = f->rd + x->rd_off;

	if (x->rr.type != DNS_T_RRSIG || x->rd_len < RRSIG_SIGNER_OFF + 1 ||
	    dns_get16(rd) != data->rr.type || !dns_name_equal(x->rr.owner, data->rr.owner))
		return false;
	int sl = dns_name_check(rd + RRSIG_SIGNER_OFF, x->rd_len - RRSIG_SIGNER_OFF);
	return sl > 0 && dns_name_equal(rd + RRSIG_SIGNER_OFF, zone);
}

/* The SOA's negative TTL: the least of its TTL and MINIMUM (RFC 2308 5,
 * RFC 9077). */
static uint32_t soa_negative_ttl(const struct feed *f, const struct feed_rr *d)
{
	uint32_t min = d->rd_len >= 4 ? dns_get32(f->rd + d->rd_off + d->rd_len - 4) : 0;

	return min < d->rr.ttl ? min : d->rr.ttl;
}

/*
 * Record i and the RRSIGs over it into the blob, every TTL the least of
 * theirs and cap (for the SOA, also its MINIMUM). Its lifetime in *ttl;
 * the blob's length, or 0 when it has no signature or does not fit.
 */
static size_t make_blob(struct feed *f, unsigned i, const uint8_t *zone, uint32_t cap,
			uint32_t *ttl)
{
	const struct feed_rr *d = &f->r[i];
	uint32_t t = d->rr.type == DNS_T_SOA ? soa_negative_ttl(f, d) : d->rr.ttl;
	unsigned sigs = 0;
	size_t n = 0;

	if (cap < t)
		t = cap;
	for (unsigned k = 0; k < f->n; k++)
		if (sig_over(f, &f->r[k], zone, d)) {
			sigs++;
			if (f->r[k].rr.ttl < t)
				t = f->r[k].rr.ttl;
		}
	if (!sigs || !t || !put_rr(f, d, t, &n))
		return 0;
	for (unsigned k = 0; k < f->n; k++)
		if (sig_over(f, &f->r[k], zone, d) && !put_rr(f, &f->r[k], t, &n))
			return 0;
	*ttl = t;
	return n;
}

/* Whether another record of i's owner and type comes in the feed (an
 * NSEC, NSEC3 or SOA RRset holds one record: RFC 4034 4, RFC 1035). */
static bool rrset_of_one(const struct feed *f, unsigned i)
{
	for (unsigned k = 0; k < f->n; k++)
		if (k != i && f->r[k].rr.type == f->r[i].rr.type &&
		    dns_name_equal(f->r[k].rr.owner, f->r[i].rr.owner))
			return false;
	return true;
}

int cache_nsec_feed(struct cache_nsec *n, const uint8_t *msg, size_t len, uint32_t now,
		    uint32_t max_ttl, struct cache_nsec_feed_result *res)
{
	static struct feed f; /* one writer thread */
	uint8_t zone[DNS_NAME_MAX];
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;
	int r;

	*res = (struct cache_nsec_feed_result){ 0 };
	if (len > CACHE_NSEC_FEED_MAX || dns_msg_parse(&m, msg, len) || !m.qname_len ||
	    m.qclass != DNS_C_IN ||
	    m.hdr.count[DNS_SEC_AUTHORITY] > FEED_RR_MAX)
		return CACHE_E_MSG;
	dns_name_copy_lower(zone, m.qname);
	f.n = 0;
	f.used = 0;
	dns_rr_iter_init(&it, &m, DNS_SEC_AUTHORITY);
	while ((r = dns_rr_next(&it, &rr)) > 0 && rr.section == DNS_SEC_AUTHORITY) {
		struct feed_rr *x = &f.r[f.n]; /* (at most FEED_RR_MAX, checked) */
		if (rr.rclass != DNS_C_IN)
			return CACHE_E_MSG;
		x->rr = rr;
		int rl = dns_rr_rdata(&m, &x->rr, f.rd + f.used, sizeof(f.rd) - f.used);
		if (rl < 0)
			return CACHE_E_MSG;
		x->rd_off = (uint16_t)f.used;
		x->rd_len = (uint16_t)rl;
		f.used += (size_t)rl;
		f.n++;
	}
	if (r < 0)
		return CACHE_E_MSG;

	/* no range outlives the zone's negative TTL when the feed says it
	 * (RFC 9077), nor cache.max-negative-ttl */
	uint32_t cap = max_ttl;
	for (unsigned i = 0; i < f.n; i++)
		if (f.r[i].rr.type == DNS_T_SOA && dns_name_equal(f.r[i].rr.owner, zone) &&
		    soa_negative_ttl(&f, &f.r[i]) < cap)
			cap = soa_negative_ttl(&f, &f.r[i]);
	for (unsigned i = 0; i < f.n; i++) {
		const struct feed_rr *x = &f.r[i];
		uint16_t t = x->rr.type;
		uint32_t ttl = 0;
		if (t != DNS_T_SOA && t != DNS_T_NSEC && t != DNS_T_NSEC3)
			continue;
		size_t bl = rrset_of_one(&f, i) ? make_blob(&f, i, zone, cap, &ttl) : 0;
		if (!bl) {
			res->refused++;
			continue;
		}
		const uint8_t *rd = f.rd + x->rd_off;
		if (t == DNS_T_SOA)
			r = dns_name_equal(x->rr.owner, zone)
				    ? cache_nsec_set_soa(n, zone, f.blob, bl, now + ttl, now)
				    : CACHE_E_NSEC_ZONE;
		else if (t == DNS_T_NSEC)
			r = cache_nsec_insert(n, zone, x->rr.owner, rd, x->rd_len, now + ttl, f.blob,
					      bl, now);
		else
			r = cache_nsec3_insert(n, zone, x->rr.owner, rd, x->rd_len, now + ttl, f.blob,
					       bl, now);
		if (r)
			res->refused++;
		else if (t == DNS_T_SOA)
			res->soas++;
		else
			res->ranges++;
	}
	return 0;
}

/* ---- the zones, for the operator's counters ---- */

unsigned cache_nsec_evictions(const struct cache_nsec *n, struct cache_nsec_evict_info *out,
			      unsigned max, uint64_t *other)
{
	unsigned order[CACHE_NSEC_EVICT_TALLY], k = 0;

	/* the tally's entries by evictions, most first (insertion sort) */
	for (unsigned i = 0; i < n->ntally; i++) {
		unsigned at = i;
		while (at > 0 && n->tally[order[at - 1]].evictions < n->tally[i].evictions) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
	}
	*other = n->tally_other;
	for (unsigned i = 0; i < n->ntally; i++) {
		if (k < max)
			out[k++] = n->tally[order[i]];
		else
			*other += n->tally[order[i]].evictions;
	}
	return k;
}

unsigned cache_nsec_zones(const struct cache_nsec *n, struct cache_nsec_zone_info *out,
			  unsigned max)
{
	const struct ztable *tb = DEREF(n->table);
	unsigned k = 0;

	for (uint32_t i = 0; i <= tb->mask && max; i++) {
		const struct nsec_zone *z = tb->slot[i];
		if (!z)
			continue;
		const struct zstate *s = DEREF(z->state);
		uint32_t ranges = s->nsec_count + s->nsec3_count;
		/* insertion into the list, most ranges first; the last
		 * falls off when full */
		unsigned at = k < max ? k : max - 1;
		if (k == max && out[at].ranges >= ranges)
			continue;
		while (at > 0 && out[at - 1].ranges < ranges) {
			out[at] = out[at - 1];
			at--;
		}
		memcpy(out[at].apex, z->apex, z->apex_len);
		out[at].ranges = ranges;
		out[at].nsec3 = s->nsec3_count > 0;
		if (k < max)
			k++;
	}
	return k;
}
