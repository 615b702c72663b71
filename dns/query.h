/*
 * dns/query.h: the worker's view of a client query. Nearly every query is a
 * header, one question and at most an OPT record; dns_query_parse() checks
 * exactly that shape (the rules and error codes are dns_msg_parse()'s) and
 * keeps no copy of anything: the question name is read in place, where it is
 * always uncompressed (a pointer there could only point into itself). No
 * I/O, no allocation: written for worker lcores' hot path.
 */
#ifndef BW_DNS_QUERY_H
#define BW_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "wire.h"

struct dns_query {
	const uint8_t *wire;	/* the caller's buffer, borrowed */
	uint16_t len;
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;		/* 12-bit (EDNS included) */
	uint8_t qname_len;
	bool has_edns;
	struct dns_edns edns;
};

/*
 * Returns 0, or: DNS_E_HEADER (short), DNS_E_QDCOUNT (QDCOUNT != 1),
 * DNS_E_QUERY_SHAPE (answer or authority records, more than one additional
 * record, or one that is not an OPT owned by the root), else the error
 * dns_msg_parse() gives for the same octets. QR and opcode are the caller's
 * business (a worker drops QR=1 and answers NOTIMP to other opcodes).
 */
int dns_query_parse(struct dns_query *q, const uint8_t *wire, size_t len);

/* The question name, uncompressed and in the client's letter case. */
static inline const uint8_t *dns_query_qname(const struct dns_query *q)
{
	return q->wire + DNS_HDR_LEN;
}

/* The client's usable UDP payload size: 512 without EDNS, at least 512. */
/* RFC 6840 5.8: AD goes only to clients that show they understand it,
 * by setting AD or DO in their question. */
static inline bool dns_query_takes_ad(const struct dns_query *q)
{
	return (q->flags & DNS_F_AD) || (q->has_edns && (q->edns.flags & DNS_EDNS_F_DO));
}

static inline uint16_t dns_query_udp_size(const struct dns_query *q)
{
	if (!q->has_edns || q->edns.udp_size < DNS_EDNS_MIN_UDP)
		return DNS_EDNS_MIN_UDP;
	return q->edns.udp_size;
}

#endif
