/*
 * dns/reply.h: the two answers every front end sends without the cache's
 * help: an answer without records (an rcode: REFUSED, NOTIMP, FORMERR,
 * BADVERS, SERVFAIL) and the answer to a client from a message assembled
 * elsewhere (the iterator's result, a fill record from control). Shared by
 * control's standalone front end, the dataplane's workers and its cache
 * writer. No I/O, no allocation: worker hot path included. The caller owns
 * every buffer; out must hold DNS_REPLY_EMPTY_MAX octets for an empty
 * reply, and cap octets for one from a message.
 */
#ifndef BW_DNS_REPLY_H
#define BW_DNS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct dns_query;

#define DNS_REPLY_OPT_LEN 11	/* our OPT: root owner, no options */
#define DNS_REPLY_EMPTY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + DNS_REPLY_OPT_LEN)

/*
 * What a front end answers before any lookup to a query (not a response)
 * that access control let through: DNS_R_NOTIMP for opcodes other than
 * QUERY; DNS_R_FORMERR when it did not parse (parsed: dns_query_parse()'s
 * result; wire holds at least the header); DNS_R_BADVERS for EDNS versions
 * other than 0; DNS_R_REFUSED for classes other than IN, zone transfers and
 * OPT or TSIG as the question's type; DNS_R_NOERROR when it may be looked
 * up. The order is the checks' order: an unknown opcode wins over a broken
 * body.
 */
int dns_query_screen(const uint8_t *wire, int parsed, const struct dns_query *q);

/*
 * The largest UDP answer we send, whatever the client offers: our
 * configured EDNS buffer size (DNS flag day 2020: 1232 by default), and
 * never more than one datagram on the link (link_max: the largest UDP
 * payload a frame of the link carries, MTU minus IP and UDP headers; 0
 * when the kernel sends and fragments). A frame over the MTU is dropped by
 * the link, so the client would get neither the answer nor a TC=1. Every
 * UDP front end passes min(its buffer, this) as the cap of the answer
 * writers, which apply the client's own size (dns_query_udp_size()) too.
 */
static inline size_t dns_reply_udp_max(uint16_t edns_size, size_t link_max)
{
	size_t m = edns_size < DNS_EDNS_MIN_UDP ? DNS_EDNS_MIN_UDP : edns_size;

	return link_max && link_max < m ? link_max : m;
}

/* Our OPT record (root owner, edns_size, q's DO, no options) at w. */
static inline size_t dns_reply_put_opt(uint8_t *w, uint16_t edns_size, uint16_t edns_flags)
{
	w[0] = 0;
	dns_put16(w + 1, DNS_T_OPT);
	dns_put16(w + 3, edns_size);
	dns_put32(w + 5, edns_flags & DNS_EDNS_F_DO);
	dns_put16(w + 9, 0);
	return DNS_REPLY_OPT_LEN;
}

/*
 * An answer without records to the query in wire (at least DNS_HDR_LEN
 * octets): the client's id; its opcode, RD and CD; QR, RA and rcode (its
 * upper bits in our OPT, for BADVERS). q is wire parsed (dns_query_parse())
 * or NULL when it did not parse: then only the header goes back, since
 * there is no question to echo. With q, the question octet for octet and
 * our OPT (edns_size) when the client sent one. Returns the length.
 */
size_t dns_reply_empty(const uint8_t *wire, const struct dns_query *q,
		       int rcode, uint16_t edns_size, uint8_t *out);

/*
 * The answer to q from an assembled message msg (for q's question, the name
 * in any letter case, so that its compression pointers hold behind q's
 * question): q's id,
 * opcode, RD, CD and question; QR, RA and rcode; msg's answer, authority
 * and additional records (its own OPT dropped, ours added when q had one).
 * When they do not fit in min(cap, the client's UDP size) -- or cap alone
 * when stream (TCP) -- TC=1 and no records. A msg that does not parse or
 * whose question is another gives dns_reply_empty(). cap must be at
 * least DNS_REPLY_EMPTY_MAX. Returns the length.
 */
size_t dns_reply_from_msg(const struct dns_query *q, const uint8_t *msg,
			  size_t len, int rcode, bool stream, size_t cap,
			  uint16_t edns_size, uint8_t *out);

#endif
