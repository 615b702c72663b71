/*
 * answer/negative.c: aggressive negative answers from a proof (see
 * negative.h). Worker lcore, hot path. The blobs are copied as they are:
 * a store with record_blobs checked each one when it went in (whole
 * records, whole names, SOA/NSEC/NSEC3/RRSIG, RDATA well formed), and a
 * proof from any other store gets no answer.
 */
#include "answer/negative.h"

#include <string.h>

#include "cache/nsec.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"
#include "dns/opt.h"

#define RR_FIXED 10	/* type, class, TTL, RDLENGTH */

/* Copies the records of blob b that the client gets (all of them with DO,
 * else the SOA) to out + *n (room until end), TTLs capped at ttl; counts
 * them in *count. 0; 1 when they do not fit. */
static int put_blob(const struct cache_nsec_blob *b, bool dnssec, uint32_t ttl,
		    uint8_t *out, size_t *n, size_t end, unsigned *count)
{
	for (size_t pos = 0; pos < b->len;) {
		size_t nl = dns_name_len(b->data + pos);
		const uint8_t *f = b->data + pos + nl;
		size_t len = nl + RR_FIXED + dns_get16(f + 8);

		if (dnssec || dns_get16(f) == DNS_T_SOA) {
			uint32_t own = dns_get32(f + 4);

			if (*n + len > end)
				return 1;
			memcpy(out + *n, b->data + pos, len);
			dns_put32(out + *n + nl + 4, own < ttl ? own : ttl);
			*n += len;
			(*count)++;
		}
		pos += len;
	}
	return 0;
}

/* A client without DO gets the SOA record alone: copied from where the
 * store found it when it went in, without put_blob()'s walk of the blob (a
 * name's length per record: ~20 TSC cycles of a synthesized answer in the
 * worker's profile); packed, its names pointing into the question, when
 * the store packed it (cache_nsec_soa_pack(): 84 -> 51 octets for
 * bank.secure's, less for the checksum and the port to carry). The zone
 * ends the question's name (the lookup found it there). */
static int put_soa_rr(const struct cache_nsec_proof *p, const struct dns_query *q,
		      uint32_t ttl, uint8_t *out, size_t *n, size_t end, unsigned *count)
{
	bool packed = p->soa_packed_len && q->qname_len >= p->zone_len;
	const uint8_t *rr = packed ? p->soa_packed : p->soa.data + p->soa_rr_at;
	size_t len = packed ? p->soa_packed_len : p->soa_rr_len;
	size_t ttl_at = (packed ? 2 : p->soa_owner_len) + 4;
	uint32_t own = dns_get32(rr + ttl_at);

	if (*n + len > end)
		return 1;
	memcpy(out + *n, rr, len);
	dns_put32(out + *n + ttl_at, own < ttl ? own : ttl);
	if (packed) {
		/* (a name not below the zone has its "pointer" at 0, the
		 * owner's: the same value written twice) */
		uint16_t ptr = (uint16_t)(0xc000 | (DNS_HDR_LEN + q->qname_len - p->zone_len));

		dns_put16(out + *n, ptr);
		dns_put16(out + *n + p->soa_ptr_at[0], ptr);
		dns_put16(out + *n + p->soa_ptr_at[1], ptr);
	}
	*n += len;
	(*count)++;
	return 0;
}

int answer_from_nsec(const struct cache_nsec *n, const struct dns_query *q, uint32_t now,
		     uint16_t edns_size, uint8_t *out, size_t cap, bool stream,
		     struct cache_nsec_memo *memo)
{
	struct cache_nsec_proof proof;

	if (!n || q->qclass != DNS_C_IN)
		return -1;
	int v = cache_nsec_lookup_memo(n, memo, dns_query_qname(q), q->qtype, now, &proof);
	if (v == CACHE_NSEC_NONE)
		return -1;
	return answer_negative(&proof, v, q, now, edns_size, out, cap, stream);
}

int answer_negative(const struct cache_nsec_proof *proof, int verdict,
		    const struct dns_query *q, uint32_t now, uint16_t edns_size,
		    uint8_t *out, size_t cap, bool stream)
{
	size_t qlen = (size_t)q->qname_len + 4, n = DNS_HDR_LEN + qlen;
	size_t opt = q->has_edns ? DNS_OPT_LEN : 0;
	bool dnssec = q->has_edns && (q->edns.flags & DNS_EDNS_F_DO);
	uint32_t ttl = proof->expire_at > now ? proof->expire_at - now : 0;
	unsigned count = 0;
	int full = 0;

	if (!stream && cap > dns_query_udp_size(q))
		cap = dns_query_udp_size(q);
	if (n + opt > cap || !proof->records ||
	    (verdict != CACHE_NSEC_NXDOMAIN && verdict != CACHE_NSEC_NODATA))
		return -1;
	uint16_t id = q->id;
	uint16_t flags = (uint16_t)(DNS_F_QR | DNS_F_RA |
				    (q->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD)) |
				    (verdict == CACHE_NSEC_NXDOMAIN ? DNS_R_NXDOMAIN : DNS_R_NOERROR));
	if (dnssec || (q->flags & DNS_F_AD))
		flags |= DNS_F_AD;
	if (out != q->wire) /* (a worker answers in the query's own buffer) */
		memmove(out + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen);
	if (!dnssec && proof->soa_rr_len)
		full = put_soa_rr(proof, q, ttl, out, &n, cap - opt, &count);
	else
		full = put_blob(&proof->soa, dnssec, ttl, out, &n, cap - opt, &count);
	/* a client without DO gets the SOA alone: the ranges' blobs are not
	 * even read (half the work of a synthesized answer) */
	for (unsigned i = 0; dnssec && i < proof->nrr && full == 0; i++)
		full = put_blob(&proof->rr[i], dnssec, ttl, out, &n, cap - opt, &count);
	if (full == 0 && count == 0)
		return -1; /* no SOA to answer with */
	if (full > 0) {
		flags |= DNS_F_TC;
		n = DNS_HDR_LEN + qlen;
		count = 0;
	}
	dns_put16(out, id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, 0);
	dns_put16(out + 8, (uint16_t)count);
	dns_put16(out + 10, opt ? 1 : 0);
	if (opt)
		n += dns_opt_put(out + n, edns_size, q->edns.flags);
	return (int)n;
}
