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

	/* The question name, in place: at offset 12 it cannot be compressed
	 * (a pointer could only point into itself), so a pointer or reserved
	 * label type is an error, which dns_name_parse() names. */
	int n = dns_name_scan(wire, len, DNS_HDR_LEN);
	if (n == 0) {
		size_t at = DNS_HDR_LEN;
		n = dns_name_parse(wire, len, &at, NULL);
		return n < 0 ? n : DNS_E_PTR_LOOP;
	}
	if (n < 0)
		return n;
	p += (size_t)n;
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
