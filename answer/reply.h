/*
 * answer/reply.h: the answers every front end sends without a cache hit:
 * an answer without records (an rcode: REFUSED, NOTIMP, FORMERR, BADVERS,
 * SERVFAIL), the answer to a client from a message assembled elsewhere (the
 * iterator's result, a fill record from control), and the answer after a
 * resolution filled the cache. Shared by control's front end, the
 * dataplane's workers and its cache writer, with the one size rule of UDP
 * answers. No I/O, no allocation: worker hot path included. The caller
 * owns every buffer; out must hold ANSWER_EMPTY_MAX octets for an empty
 * reply, and cap octets for one from a message.
 */
#ifndef BW_ANSWER_REPLY_H
#define BW_ANSWER_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/opt.h"
#include "dns/wire.h"

struct cache;
struct dns_query;

#define ANSWER_EMPTY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + DNS_OPT_LEN + DNS_EDE_LEN)

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
static inline size_t answer_udp_max(uint16_t edns_size, size_t link_max)
{
	size_t m = edns_size < DNS_EDNS_MIN_UDP ? DNS_EDNS_MIN_UDP : edns_size;

	return link_max && link_max < m ? link_max : m;
}


/*
 * An answer without records to the query in wire (at least DNS_HDR_LEN
 * octets): the client's id; its opcode, RD and CD; QR, RA and rcode (its
 * upper bits in our OPT, for BADVERS). q is wire parsed (dns_query_parse())
 * or NULL when it did not parse: then only the header goes back, since
 * there is no question to echo. With q, the question octet for octet and
 * our OPT (edns_size) when the client sent one, with the Extended DNS
 * Error ede in it unless ede is DNS_EDE_NONE (RFC 8914). Returns the
 * length.
 */
size_t answer_empty(const uint8_t *wire, const struct dns_query *q,
		    int rcode, uint16_t ede, uint16_t edns_size, uint8_t *out);

/*
 * The answer to q from an assembled message msg (for q's question, the name
 * in any letter case, so that its compression pointers hold behind q's
 * question): q's id,
 * opcode, RD, CD and question; QR, RA and rcode; msg's answer, authority
 * and additional records (its own OPT dropped, ours added when q had one;
 * without DO in q, its RRSIG, NSEC and NSEC3 records dropped too, as
 * dns_rr_needs_do() says: msg is written again without them).
 * When they do not fit in min(cap, the client's UDP size) -- or cap alone
 * when stream (TCP) -- TC=1 and no records. A msg that does not parse or
 * whose question is another gives answer_empty(). cap must be at
 * least ANSWER_EMPTY_MAX. Returns the length.
 */
size_t answer_from_msg(const struct dns_query *q, const uint8_t *msg,
		       size_t len, int rcode, bool stream, size_t cap,
		       uint16_t edns_size, uint8_t *out);

/*
 * msg (len octets, a whole message) written again without the records a
 * client without DO must not get (dns_rr_needs_do()) and without its OPT,
 * into out (cap octets): its length, or 0 when it does not parse or does
 * not fit. Uses 64 KiB of stack (answer_from_msg() 128 KiB): control's
 * thread and the cache writer's, not a worker's.
 */
size_t answer_plain(const uint8_t *msg, size_t len, uint8_t *out, size_t cap);

/*
 * Whether msg (len octets, from another process) is an answer to q as the
 * client asked it: a whole header, its id, QR, one question octet for octet
 * the client's (letter case included). A front end relays nothing else.
 */
bool answer_is_for(const struct dns_query *q, const uint8_t *msg, size_t len);

/*
 * The answer to q from the cache's entry for it into out (cap octets; its
 * UDP size rules, or stream's: TCP, cap alone), as a hit is answered (TTLs
 * counted down, AD rules): its length, or 0 when the cache holds no fresh
 * entry (nor a stale one, when stale_ok) or not even the question fits.
 * *stale (may be NULL) tells whether the entry was stale. The one lookup
 * the writer, control's front end and answer_resolved() share.
 */
size_t answer_cached(struct cache *c, const struct dns_query *q, uint32_t now, bool stale_ok,
		     bool stream, uint8_t *out, size_t cap, bool *stale);

/*
 * RFC 8020, after a miss: when the cache holds a secure NXDOMAIN for a name
 * at or above q's (cache_nxdomain_cut()), that NXDOMAIN as the answer to q
 * (as answer_cached() writes it); else 0. The one check every front end
 * makes: workers, the writer for control's TCP clients, control alone.
 */
size_t answer_nxdomain_cut(struct cache *c, const struct dns_query *q, uint32_t now,
			   bool stream, uint8_t *out, size_t cap);

/*
 * The answer to q once a resolution has ended (the cache writer, after a
 * fill record): what the cache now holds for q, answered as a hit would
 * be (AD rules, TTLs counted down), when there is a fresh entry, or a
 * stale one after a SERVFAIL (RFC 8767: better than the failure); else
 * answer_from_msg() of msg (msg_len octets, NULL when 0) with rcode. stale:
 * msg is itself a stale answer (the cache is not asked), or, without a
 * msg, the cache's entry is wanted whatever its age (control's "serve it
 * stale now", RFC 8767): then 0 when the cache has none (nothing is sent).
 * truncated: msg was too large to be sent, so TC=1 and no records. cap as
 * for answer_from_msg(). Returns the length.
 */
size_t answer_resolved(struct cache *c, const struct dns_query *q, uint32_t now,
		       const uint8_t *msg, size_t msg_len, int rcode, bool stale,
		       bool truncated, uint16_t edns_size, uint8_t *out, size_t cap);

#endif
