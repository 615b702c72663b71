/*
 * dns/build.h: writing a DNS message into a caller-given buffer, with name
 * compression and truncation. Records go in section order; a record that
 * does not fit leaves the buffer as it was, and in the answer or authority
 * section sets TC (RFC 2181 9: not for the additional section). Space for the
 * OPT record can be reserved first so that truncation never pushes it out.
 * No I/O, no allocation: callable from worker hot paths. The builder and the
 * buffer belong to the caller; names passed in must be valid wire names.
 */
#ifndef BW_DNS_BUILD_H
#define BW_DNS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define DNS_COMP_MAX 64 /* names remembered as compression targets */

struct dns_comp {
	uint16_t off;	/* where the name (or suffix) starts in the buffer */
	uint8_t len;	/* its uncompressed length */
	bool flat;	/* its octets up to the root label hold no pointer */
};

struct dns_builder {
	uint8_t *buf;
	uint16_t cap;	/* octets in buf, at most 65535 */
	uint16_t limit;	/* cap minus the reserved octets */
	uint16_t len;
	uint16_t id;
	uint16_t flags;
	uint16_t count[4];
	uint8_t section;
	uint8_t ncomp;
	bool tc;
	bool full;	 /* a record did not fit: no more records */
	bool has_opt;
	bool q_suffixes; /* question's suffixes not yet in comp[] */
	struct dns_comp comp[DNS_COMP_MAX];
};

/* Starts a message; returns DNS_E_SPACE when cap cannot hold the header. */
int dns_builder_init(struct dns_builder *b, uint8_t *buf, size_t cap,
		     uint16_t id, uint16_t flags);

/*
 * Starts the response to a parsed query: id, opcode, RD and CD come from the
 * query (RFC 1035 4.1.1, RFC 6840 5.9), flags adds the rest (QR, AA, RA,
 * rcode); the question is copied octet for octet, so the client's letter
 * case (0x20) comes back as sent. DNS_E_INVAL for a query without question.
 */
struct dns_query;
int dns_builder_reply(struct dns_builder *b, uint8_t *buf, size_t cap,
		      const struct dns_query *query, uint16_t flags);

/* Holds back n octets (e.g. for OPT); DNS_E_SPACE when they are not there. */
int dns_builder_reserve(struct dns_builder *b, size_t n);

/* The question: at most one, before any record. */
int dns_builder_question(struct dns_builder *b, const uint8_t *qname,
			 uint16_t qtype, uint16_t qclass);

/*
 * One record in section sec (not before the current one: DNS_E_ORDER).
 * rdata is unpacked (no pointers) and is checked by type; names in NS,
 * CNAME, SOA, PTR and MX RDATA are compressed. DNS_E_SPACE when it does not
 * fit, after which no more records are taken (only OPT): TC is set when the
 * record was for the answer or authority section. Callers add optional
 * authority data (an NS set beside a positive answer) only when it fits.
 */
int dns_builder_rr(struct dns_builder *b, enum dns_section sec,
		   const uint8_t *owner, uint16_t type, uint16_t rclass,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen);

/*
 * A record owned by the question's name (most answers' first record): the
 * owner is a pointer to it, no lookup needed. DNS_E_ORDER without question.
 */
int dns_builder_rr_qname(struct dns_builder *b, enum dns_section sec,
			 uint16_t type, uint16_t rclass, uint32_t ttl,
			 const uint8_t *rdata, size_t rdlen);

/*
 * The OPT record, in the additional section; releases any reservation first.
 * ext_rcode is the upper 8 bits of a 12-bit rcode; version is 0 from us.
 * A second OPT is DNS_E_OPT_DUP.
 */
int dns_builder_opt(struct dns_builder *b, uint16_t udp_size,
		    uint8_t ext_rcode, uint8_t version, uint16_t edns_flags,
		    const uint8_t *opts, size_t optlen);

/* Writes the header (TC added when truncated); returns the message length. */
size_t dns_builder_finish(struct dns_builder *b);

/*
 * RFC 4035 3.2.1, RFC 5155 7.2: a client that did not set DO gets no
 * RRSIG, NSEC or NSEC3 record, unless it asked for that type (or ANY):
 * then the answer section's records of the type are its data.
 */
static inline bool dns_rr_needs_do(uint16_t type, enum dns_section sec, uint16_t qtype)
{
	if (type != DNS_T_RRSIG && type != DNS_T_NSEC && type != DNS_T_NSEC3)
		return false;
	return sec != DNS_SEC_ANSWER || (qtype != type && qtype != DNS_T_ANY);
}

struct dns_msg;

/* Whether m holds a record dns_rr_needs_do() keeps from clients without DO. */
bool dns_msg_has_do_only(const struct dns_msg *m);

/*
 * m (parsed, one question) written again into out (cap octets): its id,
 * flags (the rcode's low bits), question and records in order, names
 * compressed by this builder, so that every pointer points at a name it
 * wrote (an authority's may point into a TTL or a type code); its OPT
 * left out; strip: without the records dns_rr_needs_do() names. rdata is
 * scratch for one record's RDATA (DNS_MSG_MAX octets). Returns the length,
 * or DNS_E_SPACE when the records do not all fit, or an RDATA error.
 */
int dns_msg_rewrite(const struct dns_msg *m, bool strip, uint8_t *out, size_t cap,
		    uint8_t *rdata);

#endif
