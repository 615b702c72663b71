/*
 * dns/msg.c: whole-message parsing and record walking. Any thread, worker hot
 * path included: no I/O, no allocation; every loop is bounded by the
 * message length (each record consumes at least 11 octets or fails).
 */
#include "msg.h"

#include "err.h"
#include "name.h"

#define TTL_MAX_S 0x7fffffffu /* RFC 2181 8: larger TTLs read as zero */

/* Owner copied only when wanted: checking a message needs no copies. */
static int rr_parse(const uint8_t *msg, size_t msglen, size_t *pos,
		    struct dns_rr *rr, bool copy_owner, uint32_t *raw_ttl)
{
	size_t p = *pos;
	int n;

	rr->off = (uint16_t)p;
	n = dns_name_parse(msg, msglen, &p, copy_owner ? rr->owner : NULL);
	if (n < 0)
		return n;
	rr->owner_len = (uint8_t)n;
	if (msglen - p < DNS_RR_FIXED_LEN)
		return DNS_E_TRUNC;
	rr->type = dns_get16(msg + p);
	rr->rclass = dns_get16(msg + p + 2);
	rr->ttl_off = (uint16_t)(p + 4);
	*raw_ttl = dns_get32(msg + p + 4);
	rr->ttl = *raw_ttl > TTL_MAX_S ? 0 : *raw_ttl;
	rr->rdlen = dns_get16(msg + p + 8);
	p += DNS_RR_FIXED_LEN;
	if (rr->rdlen > msglen - p)
		return DNS_E_RDLEN;
	rr->rdata_off = (uint16_t)p;
	n = dns_rdata_check(msg, msglen, dns_rdata_format(rr->type, rr->rclass, rr->rdlen),
			    p, rr->rdlen);
	if (n < 0)
		return n;
	*pos = p + rr->rdlen;
	return 0;
}

int dns_rr_parse(const uint8_t *msg, size_t msglen, size_t *pos,
		 struct dns_rr *rr)
{
	uint32_t raw_ttl;

	rr->section = DNS_SEC_ANSWER;
	return rr_parse(msg, msglen, pos, rr, true, &raw_ttl);
}

uint16_t dns_edns_read(struct dns_edns *e, const uint8_t *wire, size_t rr_off,
		       size_t fixed_off, uint16_t header_rcode)
{
	const uint8_t *fixed = wire + fixed_off;
	uint32_t ttl = dns_get32(fixed + 4);
	size_t p = fixed_off + DNS_RR_FIXED_LEN;
	size_t end = p + dns_get16(fixed + 8);

	e->udp_size = dns_get16(fixed + 2);
	e->ext_rcode = (uint8_t)(ttl >> 24);
	e->version = (uint8_t)(ttl >> 16);
	e->flags = (uint16_t)ttl;
	e->rr_off = (uint16_t)rr_off;
	e->opts_off = (uint16_t)p;
	e->opts_len = (uint16_t)(end - p);
	e->cookie_off = 0;
	e->cookie_len = 0;
	/* The options were checked with the RDATA; find the cookie. */
	while (p < end) {
		uint16_t code = dns_get16(wire + p);
		uint16_t len = dns_get16(wire + p + 2);
		if (code == DNS_EO_COOKIE && !e->cookie_off) {
			e->cookie_off = (uint16_t)(p + 4);
			e->cookie_len = (uint8_t)len;
		}
		p += 4u + len;
	}
	return (uint16_t)(e->ext_rcode << 4 | (header_rcode & DNS_F_RCODE_MASK));
}

static int take_opt(struct dns_msg *m, const struct dns_rr *rr, int section)
{
	if (section != DNS_SEC_ADDITIONAL)
		return DNS_E_OPT_SECTION;
	/* RFC 6891 6.1.2: the owner is the root, one zero octet, not a
	 * pointer to one. */
	if (m->wire[rr->off] != 0)
		return DNS_E_OPT_OWNER;
	if (m->has_edns)
		return DNS_E_OPT_DUP;
	m->has_edns = true;
	m->rcode = dns_edns_read(&m->edns, m->wire, rr->off, rr->ttl_off - 4u,
				 m->rcode);
	return 0;
}

int dns_msg_parse(struct dns_msg *m, const uint8_t *wire, size_t len)
{
	size_t pos = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN)
		return DNS_E_HEADER;
	if (len > DNS_MSG_MAX)
		return DNS_E_INVAL;
	m->wire = wire;
	m->len = (uint16_t)len;
	m->hdr.id = dns_get16(wire);
	m->hdr.flags = dns_get16(wire + 2);
	for (int sec = DNS_SEC_QUESTION; sec <= DNS_SEC_ADDITIONAL; sec++)
		m->hdr.count[sec] = dns_get16(wire + 4 + 2 * sec);
	m->rcode = m->hdr.flags & DNS_F_RCODE_MASK;
	m->has_edns = false;
	m->qname_len = 0;
	m->qtype = 0;
	m->qclass = 0;
	m->sec_off[DNS_SEC_QUESTION] = DNS_HDR_LEN;
	if (m->hdr.count[DNS_SEC_QUESTION] > 1)
		return DNS_E_QDCOUNT;
	if (m->hdr.count[DNS_SEC_QUESTION] == 1) {
		int n = dns_name_parse(wire, len, &pos, m->qname);
		if (n < 0)
			return n;
		if (len - pos < 4)
			return DNS_E_TRUNC;
		m->qname_len = (uint8_t)n;
		m->qtype = dns_get16(wire + pos);
		m->qclass = dns_get16(wire + pos + 2);
		pos += 4;
	}
	for (int sec = DNS_SEC_ANSWER; sec <= DNS_SEC_ADDITIONAL; sec++) {
		m->sec_off[sec] = (uint16_t)pos;
		for (unsigned i = 0; i < m->hdr.count[sec]; i++) {
			struct dns_rr rr;
			uint32_t ttl;
			int r = rr_parse(wire, len, &pos, &rr, false, &ttl);
			if (r)
				return r;
			if (rr.type == DNS_T_OPT && (r = take_opt(m, &rr, sec)))
				return r;
		}
	}
	if (pos != len)
		return DNS_E_TRAILING;
	return 0;
}

void dns_rr_iter_init(struct dns_rr_iter *it, const struct dns_msg *m,
		      enum dns_section sec)
{
	it->m = m;
	it->section = (uint8_t)(sec < DNS_SEC_ANSWER ? DNS_SEC_ANSWER : sec);
	it->pos = m->sec_off[it->section];
	it->left = m->hdr.count[it->section];
}

int dns_rr_next(struct dns_rr_iter *it, struct dns_rr *rr)
{
	uint32_t ttl;

	while (it->left == 0) {
		if (it->section >= DNS_SEC_ADDITIONAL)
			return 0;
		it->section++;
		it->left = it->m->hdr.count[it->section];
	}
	int r = rr_parse(it->m->wire, it->m->len, &it->pos, rr, true, &ttl);
	if (r)
		return r;
	rr->section = it->section;
	it->left--;
	return 1;
}

