/*
 * dns/query.c: parsing client queries in place. Worker lcore, hot path: no
 * I/O, no allocation, no copy; the name scan is bounded by DNS_NAME_MAX.
 */
#include "query.h"

#include "err.h"
#include "name.h"

int dns_query_parse(struct dns_query *q, const uint8_t *wire, size_t len)
{
	size_t p = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN)
		return DNS_E_HEADER;
	if (len > DNS_MSG_MAX)
		return DNS_E_INVAL;
	if (dns_get16(wire + 4) != 1)
		return DNS_E_QDCOUNT;
	if ((dns_get16(wire + 6) | dns_get16(wire + 8)) != 0 ||
	    dns_get16(wire + 10) > 1)
		return DNS_E_QUERY_SHAPE;
	q->wire = wire;
	q->len = (uint16_t)len;
	q->id = dns_get16(wire);
	q->flags = dns_get16(wire + 2);
	q->rcode = q->flags & DNS_F_RCODE_MASK;
	q->has_edns = false;

	/* The question name: labels only, as dns_name_parse() would see it. */
	for (;;) {
		if (p >= len)
			return DNS_E_TRUNC;
		uint8_t c = wire[p];
		if (c == 0)
			break;
		if (c > DNS_LABEL_MAX) {
			size_t at = DNS_HDR_LEN;
			/* A pointer or reserved label type: let the general
			 * parser name the fault; it cannot succeed here. */
			int r = dns_name_parse(wire, len, &at, NULL);
			return r < 0 ? r : DNS_E_PTR_LOOP;
		}
		p += (size_t)c + 1;
		if (p - DNS_HDR_LEN >= DNS_NAME_MAX)
			return DNS_E_NAME_LEN;
	}
	p++;
	if (len - p < 4)
		return DNS_E_TRUNC;
	q->qname_len = (uint8_t)(p - DNS_HDR_LEN);
	q->qtype = dns_get16(wire + p);
	q->qclass = dns_get16(wire + p + 2);
	p += 4;

	if (dns_get16(wire + 10)) {
		size_t rdata = p + 1 + DNS_RR_FIXED_LEN;
		if (p == len)
			return DNS_E_TRUNC;
		if (wire[p] != 0)
			return DNS_E_QUERY_SHAPE;
		if (len - p < 1 + DNS_RR_FIXED_LEN)
			return DNS_E_TRUNC;
		if (dns_get16(wire + p + 1) != DNS_T_OPT)
			return DNS_E_QUERY_SHAPE;
		size_t rdlen = dns_get16(wire + p + 9);
		if (rdlen > len - rdata)
			return DNS_E_RDLEN;
		if (rdlen) {
			int r = dns_rdata_check(wire, len, DNS_T_OPT, rdata, rdlen);
			if (r)
				return r;
		}
		q->has_edns = true;
		q->rcode = dns_edns_read(&q->edns, wire, p, p + 1, q->rcode);
		p = rdata + rdlen;
	}
	if (p != len)
		return DNS_E_TRAILING;
	return 0;
}
