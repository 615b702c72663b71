/*
 * answer/reply.c: answers without a cache hit (see reply.h). Any thread.
 */
#include "answer/reply.h"

#include <string.h>

#include "cache/msgcache.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"

size_t answer_empty(const uint8_t *wire, const struct dns_query *q,
		    int rcode, uint16_t ede, uint16_t edns_size, uint8_t *out)
{
	uint16_t flags = (uint16_t)(DNS_F_QR | DNS_F_RA |
				    (dns_get16(wire + 2) & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD)) |
				    (rcode & 0xf));
	size_t n = DNS_HDR_LEN;

	memmove(out, wire, 2);
	dns_put16(out + 2, flags);
	memset(out + 4, 0, 8);
	if (q) {
		size_t qlen = (size_t)q->qname_len + 4;
		dns_put16(out + 4, 1);
		memmove(out + n, wire + DNS_HDR_LEN, qlen);
		n += qlen;
		if (q->has_edns) {
			/* BADVERS is an extended rcode: its upper bits in the OPT */
			n += dns_opt_put(out + n, edns_size, q->edns.flags);
			out[n - DNS_OPT_LEN + 5] = (uint8_t)(rcode >> 4);
			dns_put16(out + 10, 1);
			if (ede != DNS_EDE_NONE)
				n += dns_opt_put_ede(out + n - DNS_OPT_LEN, out + n, ede);
		}
	}
	return n;
}

/*
 * The Extended DNS Error (RFC 8914) of msg's OPT, if it has one, appended
 * to the OPT record we wrote at opt (n octets of out used, cap in all):
 * control puts the reason for a SERVFAIL there (a bogus answer: which
 * DNSSEC check failed), and the client gets it as it is. Returns the new
 * length.
 */
static size_t copy_ede(const struct dns_msg *m, uint8_t *out, size_t opt, size_t n,
		       size_t cap)
{
	const uint8_t *p = m->wire + m->edns.opts_off, *end = p + m->edns.opts_len;

	while (end - p >= 4) {
		uint16_t code = dns_get16(p), len = dns_get16(p + 2);
		if ((size_t)(end - p) - 4 < len)
			break;
		if (code == DNS_EO_EDE && len >= 2 && n + 4u + len <= cap) {
			memcpy(out + n, p, 4u + len);
			dns_put16(out + opt + 9, (uint16_t)(4u + len));
			return n + 4u + len;
		}
		p += 4u + len;
	}
	return n;
}

size_t answer_plain(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	uint8_t rdata[DNS_MSG_MAX];
	struct dns_msg m;
	int n;

	if (dns_msg_parse(&m, msg, len) || !m.qname_len ||
	    (n = dns_msg_rewrite(&m, true, out, cap, rdata)) < 0)
		return 0;
	return (size_t)n;
}

/*
 * m written again (strip: without the records a client without DO does
 * not get) into this thread's buffer and parsed into *out; false when that
 * fails. Out of line, so that answer_from_msg()'s usual path does not
 * reserve the scratch.
 */
static __attribute__((noinline)) bool write_again(const struct dns_msg *m, bool strip,
						   struct dns_msg *out)
{
	static __thread uint8_t again[DNS_MSG_MAX];
	uint8_t rdata[DNS_MSG_MAX];
	int n = dns_msg_rewrite(m, strip, again, sizeof(again), rdata);

	return n >= 0 && dns_msg_parse(out, again, (size_t)n) == 0;
}

/*
 * Whether m's records read the same behind q's question as behind m's
 * (the two names equal but for letter case): a pointer into the name that
 * lands on a length octet reads the same labels; one that lands inside a
 * label reads an octet of 64..0xbf as an error either way (letters among
 * them), one of 0xc0 or more as a pointer whose second octet may be a
 * letter: only such a name (rare) must be written again.
 */
static bool same_behind(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (memcmp(a, b, n) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (a[i] >= 0xc0)
			return false;
	return true;
}

size_t answer_from_msg(const struct dns_query *q, const uint8_t *msg,
		       size_t len, int rcode, bool stream, size_t cap,
		       uint16_t edns_size, uint8_t *out)
{
	struct dns_msg m, plain;
	const struct dns_msg *src = &m;
	size_t qlen = (size_t)q->qname_len + 4, base = DNS_HDR_LEN + qlen;
	size_t opt = q->has_edns ? DNS_OPT_LEN : 0;

	if (!stream && cap > dns_query_udp_size(q))
		cap = dns_query_udp_size(q);
	/* Its compression pointers may point anywhere into its question:
	 * they can hold behind q's only when the two differ in letter case
	 * alone (same_behind() says when they do). */
	if (!msg || dns_msg_parse(&m, msg, len) || m.qname_len != q->qname_len ||
	    m.qtype != q->qtype || m.qclass != q->qclass ||
	    !dns_name_equal(m.qname, dns_query_qname(q)))
		return answer_empty(q->wire, q, rcode, DNS_EDE_NONE, edns_size, out);
	/* Control assembles every answer with its DNSSEC records; a client
	 * without DO gets it written again without them (RFC 4035 3.2.1).
	 * A message whose OPT is not its last record (not one of ours), or
	 * whose pointers could read otherwise behind q's question, is
	 * written again too: the copy below ends at the OPT and keeps the
	 * pointers. */
	bool strip = !(q->has_edns && (q->edns.flags & DNS_EDNS_F_DO)) &&
		     dns_msg_has_do_only(&m);
	if (strip || (m.has_edns && m.edns.opts_off + m.edns.opts_len != m.len) ||
	    !same_behind(m.wire + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, q->qname_len)) {
		/* (it parsed once: this cannot fail; if it did, no answer
		 * without records may pass for the data) */
		if (!write_again(&m, strip, &plain))
			return answer_empty(q->wire, q, DNS_R_SERVFAIL, DNS_EDE_NONE, edns_size, out);
		src = &plain;
	}
	/* Our OPT replaces the message's, its last record. The records
	 * before it read no octet of it (dns/name.c: a name behind a pointer
	 * ends before the name that points). */
	size_t end = src->has_edns ? src->edns.rr_off : src->len;
	unsigned ar = src->hdr.count[DNS_SEC_ADDITIONAL] - (src->has_edns ? 1 : 0);
	size_t sec = end - src->sec_off[DNS_SEC_ANSWER];
	bool fits = base + sec + opt <= cap;
	uint16_t flags = (uint16_t)(DNS_F_QR | DNS_F_RA |
				    (q->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD)) |
				    (rcode & 0xf) | (fits ? 0 : DNS_F_TC));
	/* validated by control (its AD), to a client that understands AD */
	if (dns_query_takes_ad(q))
		flags |= m.hdr.flags & DNS_F_AD;
	/* q may live in out (a worker answers in the query's buffer): the
	 * question is moved, not copied, and q's fields are read first. */
	uint16_t id = q->id;
	memmove(out + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen);
	dns_put16(out, id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, fits ? src->hdr.count[DNS_SEC_ANSWER] : 0);
	dns_put16(out + 8, fits ? src->hdr.count[DNS_SEC_AUTHORITY] : 0);
	dns_put16(out + 10, (uint16_t)((fits ? ar : 0) + (opt ? 1 : 0)));
	size_t n = base;
	if (fits) {
		memcpy(out + n, src->wire + src->sec_off[DNS_SEC_ANSWER], sec);
		n += sec;
	}
	if (opt) {
		size_t at = n;
		n += dns_opt_put(out + n, edns_size, q->edns.flags);
		if (m.has_edns && m.edns.opts_len)
			n = copy_ede(&m, out, at, n, cap);
	}
	return n;
}

bool answer_is_for(const struct dns_query *q, const uint8_t *msg, size_t len)
{
	size_t qlen = (size_t)q->qname_len + 4;

	return len >= DNS_HDR_LEN + qlen && dns_get16(msg) == q->id &&
	       (dns_get16(msg + 2) & DNS_F_QR) && dns_get16(msg + 4) == 1 &&
	       memcmp(msg + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen) == 0;
}

size_t answer_cached(struct cache *c, const struct dns_query *q, uint32_t now, bool stale_ok,
		     bool stream, uint8_t *out, size_t cap, bool *stale)
{
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };

	cache_key_from_query(&k, c, q);
	cache_lookup_burst(c, &kp, 1, now, &res, &rst);
	bool old = res.state == CACHE_STALE || res.state == CACHE_STALE_REFRESH;
	if (!res.entry || (old && !stale_ok))
		return 0;
	int n = (stream ? cache_answer_stream : cache_answer)(c, res.entry,
							    (enum cache_state)res.state, q, now,
							    out, cap);
	if (stale)
		*stale = old;
	return n > 0 ? (size_t)n : 0;
}

size_t answer_nxdomain_cut(struct cache *c, const struct dns_query *q, uint32_t now,
			   bool stream, uint8_t *out, size_t cap)
{
	const struct cache_entry *cut = cache_nxdomain_cut(c, dns_query_qname(q), q->qclass, now);

	if (!cut)
		return 0;
	int n = (stream ? cache_answer_stream : cache_answer)(c, cut, CACHE_HIT, q, now, out, cap);
	return n > 0 ? (size_t)n : 0;
}

size_t answer_resolved(struct cache *c, const struct dns_query *q, uint32_t now,
		       const uint8_t *msg, size_t msg_len, int rcode, bool stale,
		       bool truncated, uint16_t edns_size, uint8_t *out, size_t cap)
{
	if (truncated) {
		size_t n = answer_empty(q->wire, q, rcode, DNS_EDE_NONE, edns_size, out);
		out[2] |= DNS_F_TC >> 8;
		return n;
	}
	/* control's "serve it stale now": whatever the cache has, or nothing */
	if (stale && !msg_len)
		return answer_cached(c, q, now, true, false, out, cap, NULL);
	if (!stale) {
		size_t n = answer_cached(c, q, now, rcode == DNS_R_SERVFAIL, false, out, cap,
					 NULL);
		if (n)
			return n;
	}
	return answer_from_msg(q, msg_len ? msg : NULL, msg_len, rcode, false, cap, edns_size,
			       out);
}
