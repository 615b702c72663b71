/*
 * dns/msg.h: parsing a DNS message in place. dns_msg_parse() checks the whole
 * message (header, question, every record's owner and RDATA by type, OPT
 * placement and options, no trailing octets) and records where things are;
 * the records are then walked with dns_rr_iter without copying the message.
 * No I/O and no allocation: callable from worker hot paths. The message
 * buffer is owned by the caller and must outlive the struct dns_msg.
 */
#ifndef BW_DNS_MSG_H
#define BW_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct dns_hdr {
	uint16_t id;
	uint16_t flags; /* DNS_F_* bits, opcode and 4-bit rcode */
	uint16_t count[4]; /* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT by section */
};

struct dns_edns {
	uint16_t udp_size;  /* as sent; see dns_edns_udp_size() */
	uint8_t ext_rcode;  /* upper 8 bits of the 12-bit rcode */
	uint8_t version;
	uint16_t flags;	    /* DNS_EDNS_F_DO and the Z bits */
	uint16_t rr_off;    /* offset of the OPT record's owner octet */
	uint16_t opts_off;  /* offset and length of the options */
	uint16_t opts_len;
	uint16_t cookie_off; /* 0: no cookie option */
	uint8_t cookie_len;  /* 8 (client only) or 16..40 */
};

/* Field by field: the struct's padding is not part of its value. */
static inline bool dns_edns_equal(const struct dns_edns *a,
				  const struct dns_edns *b)
{
	return a->udp_size == b->udp_size && a->ext_rcode == b->ext_rcode &&
	       a->version == b->version && a->flags == b->flags &&
	       a->rr_off == b->rr_off && a->opts_off == b->opts_off &&
	       a->opts_len == b->opts_len && a->cookie_off == b->cookie_off &&
	       a->cookie_len == b->cookie_len;
}

struct dns_msg {
	const uint8_t *wire;
	uint16_t len;
	struct dns_hdr hdr;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;		/* 0 when qdcount == 0 */
	uint8_t qname[DNS_NAME_MAX];	/* as sent: letter case kept */
	uint16_t sec_off[4];		/* first octet of each section */
	uint16_t rcode;			/* 12-bit rcode (EDNS included) */
	bool has_edns;
	struct dns_edns edns;
};

/*
 * Parses and checks a whole message of len octets (len <= 65535). Returns 0,
 * or the first problem found (DNS_E_HEADER, DNS_E_QDCOUNT, any name error,
 * DNS_E_TRUNC, DNS_E_RDLEN, an RDATA error, an OPT error, DNS_E_TRAILING).
 * Messages with QDCOUNT > 1 are rejected: no DNS implementation uses them.
 */
int dns_msg_parse(struct dns_msg *m, const uint8_t *wire, size_t len);

/*
 * Reads the EDNS fields of an OPT record (owner at rr_off, TYPE field at
 * fixed_off) whose options have been checked: fills *e and returns the
 * 12-bit rcode made of the header's 4 bits and the OPT's upper 8. Shared by
 * dns_msg_parse() and dns_query_parse().
 */
uint16_t dns_edns_read(struct dns_edns *e, const uint8_t *wire, size_t rr_off,
		       size_t fixed_off, uint16_t header_rcode);

static inline uint8_t dns_msg_opcode(const struct dns_msg *m)
{
	return (uint8_t)((m->hdr.flags & DNS_F_OPCODE_MASK) >> DNS_F_OPCODE_SHIFT);
}

/* The client's usable UDP payload size: 512 without EDNS, at least 512. */
static inline uint16_t dns_edns_udp_size(const struct dns_msg *m)
{
	if (!m->has_edns || m->edns.udp_size < DNS_EDNS_MIN_UDP)
		return DNS_EDNS_MIN_UDP;
	return m->edns.udp_size;
}

/* One resource record as found in a message. */
struct dns_rr {
	uint16_t off;		/* first octet of the owner name */
	uint16_t ttl_off;	/* the TTL field, for TTL rewriting */
	uint16_t rdata_off;	/* RDATA as in the message (maybe compressed) */
	uint16_t rdlen;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;		/* > 2^31-1 on the wire reads as 0 (RFC 2181 8) */
	uint8_t section;	/* enum dns_section */
	uint8_t owner_len;
	uint8_t owner[DNS_NAME_MAX]; /* uncompressed, case kept */
};

struct dns_rr_iter {
	const struct dns_msg *m;
	size_t pos;
	uint8_t section;
	uint16_t left; /* records left in this section */
};

/* Starts at the first record of section sec (ANSWER, AUTHORITY, ADDITIONAL). */
void dns_rr_iter_init(struct dns_rr_iter *it, const struct dns_msg *m,
		      enum dns_section sec);

/* Next record of this and later sections: 1 and *rr filled, 0 at the end. */
int dns_rr_next(struct dns_rr_iter *it, struct dns_rr *rr);

/*
 * Parses one record at msg[*pos] (owner, fixed fields, RDATA checked by
 * type) and advances *pos past it. Returns 0 or an error.
 */
int dns_rr_parse(const uint8_t *msg, size_t msglen, size_t *pos,
		 struct dns_rr *rr);

/*
 * RDATA of type at msg[off..off+rdlen): dns_rdata_check() validates it by
 * type (unknown types are opaque), dns_rdata_unpack() also writes it to out
 * with embedded names decompressed. Compression pointers are accepted where
 * RFC 3597 4 says receivers decompress: the RFC 1035 types (NS, MD, MF,
 * CNAME, SOA, MB, MG, MR, PTR, MINFO, MX) and RP, AFSDB, RT, PX, NAPTR, SRV;
 * a pointer in DNAME (RFC 6672 2.5), RRSIG or NSEC RDATA (RFC 4034) is
 * DNS_E_PTR_NOT_ALLOWED. unpack returns the
 * unpacked length or an error (DNS_E_SPACE when outsize is too small).
 */
int dns_rdata_check(const uint8_t *msg, size_t msglen, uint16_t type,
		    size_t off, size_t rdlen);
int dns_rdata_unpack(const uint8_t *msg, size_t msglen, uint16_t type,
		     size_t off, size_t rdlen, uint8_t *out, size_t outsize);

/*
 * Unpacked RDATA (no compression pointers, as dns_rdata_unpack() writes
 * it) in canonical form (RFC 4034 6.2, RFC 6840 5.1), as signatures cover
 * it: checked as dns_rdata_check_flat() does and copied to out with the
 * embedded names of the RFC 1035 types, RP, AFSDB, RT, PX, NAPTR, SRV,
 * DNAME and RRSIG lower-cased (NSEC's next name keeps its case). type is
 * the format (dns_rdata_format()). Returns the length or an error.
 */
int dns_rdata_canonical(uint16_t type, const uint8_t *rdata, size_t rdlen,
			uint8_t *out, size_t outsize);
/*
 * Checks unpacked RDATA held outside a message (from dns_rdata_unpack, a
 * builder's caller or another process): as dns_rdata_check(), but a
 * compression pointer anywhere is DNS_E_PTR_NOT_ALLOWED.
 */
int dns_rdata_check_flat(uint16_t type, const uint8_t *rdata, size_t rdlen);

/*
 * The type whose RDATA format applies (0: opaque). A, AAAA and SRV have
 * their formats in class IN only (RFC 3597 5); empty RDATA in class ANY or
 * NONE is an UPDATE prerequisite or deletion (RFC 2136 2.4, 2.5).
 */
static inline uint16_t dns_rdata_format(uint16_t type, uint16_t rclass,
					size_t rdlen)
{
	if (rclass != DNS_C_IN &&
	    (type == DNS_T_A || type == DNS_T_AAAA || type == DNS_T_SRV))
		return 0;
	if (rdlen == 0 && (rclass == DNS_C_ANY || rclass == DNS_C_NONE))
		return 0;
	return type;
}

/* Unpacked RDATA of a parsed record, into out. */
static inline int dns_rr_rdata(const struct dns_msg *m, const struct dns_rr *rr,
			       uint8_t *out, size_t outsize)
{
	return dns_rdata_unpack(m->wire, m->len,
				dns_rdata_format(rr->type, rr->rclass, rr->rdlen),
				rr->rdata_off, rr->rdlen, out, outsize);
}

/*
 * True for types whose RDATA names the builder compresses: those of RFC 1035
 * that RFC 3597 4 still allows. Names in MD, MF, MB, MG, MR, MINFO, RP,
 * AFSDB, RT, PX and NAPTR are decompressed when read but written in full.
 */
bool dns_type_compressible(uint16_t type);

#endif
