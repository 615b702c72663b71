/*
 * dns/name.h: domain names in wire form. A "name" here is always an
 * uncompressed wire name (length-prefixed labels ending in the root label,
 * at most DNS_NAME_MAX octets) in a caller-owned buffer; only
 * dns_name_parse() reads compressed names, from inside a message. No I/O and
 * no allocation: callable from any thread, including worker hot paths.
 */
#ifndef BW_DNS_NAME_H
#define BW_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

/* ASCII lower-casing table: DNS compares names case-insensitively (RFC 4343). */
extern const uint8_t dns_lower[256];

/*
 * Eight octets at a time: an octet is an ASCII capital if its low seven bits
 * are 'A'..'Z' and its top bit is clear; adding 0x20 to those lower-cases
 * them. No octet's sum can carry into the next one. Length octets are below
 * 'A', so a whole wire name can go through it.
 */
static inline uint64_t dns_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t low7 = x & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones;
	uint64_t upper = ge_a & ~gt_z & ~x & 0x8080808080808080ULL;

	return x | upper >> 2;
}

/*
 * Reads the name at msg[*pos] of a message of msglen octets, following
 * compression pointers, and writes it uncompressed to out (NULL: only
 * validate). Advances *pos past the octets the name occupies where it starts.
 * Returns the uncompressed length (1..255) or DNS_E_TRUNC, DNS_E_LABEL_LEN,
 * DNS_E_NAME_LEN, DNS_E_PTR_FORWARD (pointer past itself),
 * DNS_E_PTR_LOOP (pointer to itself or back into octets this name used),
 * DNS_E_PTR_HEADER (pointer into the 12-octet header). Letter case is kept.
 */
int dns_name_parse(const uint8_t *msg, size_t msglen, size_t *pos,
		   uint8_t *out);

/*
 * The fast path of dns_name_parse(), for callers that read a name in place:
 * scans the labels at msg[start] and returns the name's length (1..255) if
 * it is written in full, 0 if it meets a compression pointer or reserved
 * label type (dns_name_parse() then gives the verdict), or DNS_E_TRUNC /
 * DNS_E_NAME_LEN, checked in the order dns_name_parse() checks them.
 */
static inline int dns_name_scan(const uint8_t *msg, size_t msglen,
				size_t start)
{
	size_t p = start;

	for (;;) {
		if (p >= msglen)
			return DNS_E_TRUNC;
		uint8_t c = msg[p];
		if (c == 0)
			return (int)(p - start) + 1;
		if (c > DNS_LABEL_MAX)
			return 0;
		if ((size_t)c + 1 > msglen - p)
			return DNS_E_TRUNC;
		p += (size_t)c + 1;
		if (p - start >= DNS_NAME_MAX)
			return DNS_E_NAME_LEN;
	}
}

/*
 * Checks an uncompressed name that must lie within len octets at wire (for
 * RDATA fields where compression is forbidden, and for names handed over by
 * other processes). Returns its length, or DNS_E_TRUNC, DNS_E_LABEL_LEN,
 * DNS_E_NAME_LEN, DNS_E_PTR_NOT_ALLOWED.
 */
int dns_name_check(const uint8_t *wire, size_t len);

/* Length of a valid name, root label included. */
size_t dns_name_len(const uint8_t *name);

/* Number of labels, the root label not counted ("." has 0). */
int dns_name_labels(const uint8_t *name);

/* Lower-cases in place; copy variant returns the length written to dst. */
void dns_name_lower(uint8_t *name);
size_t dns_name_copy_lower(uint8_t *dst, const uint8_t *src);
/* The same for a name whose length the caller knows (e.g. a parsed query's). */
void dns_copy_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Case-insensitive equality. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);

/* Octet-for-octet equality: for names both already lower-cased. */
static inline bool dns_name_same(const uint8_t *a, const uint8_t *b)
{
	size_t la = dns_name_len(a);

	return la == dns_name_len(b) && dns_same_octets(a, b, la);
}

/*
 * Canonical DNS name order (RFC 4034 6.1): labels compared right to left as
 * lower-cased octet strings, a missing label sorting first. <0, 0, >0.
 */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);

/*
 * The bailiwick test: true when name equals zone or lies below it
 * (case-insensitive, on label boundaries: "xample.com" is not below
 * "ample.com" even though the octets are a suffix).
 */
bool dns_name_is_subdomain(const uint8_t *name, const uint8_t *zone);

/*
 * Presentation format ("www.example.com.", "." for the root), escaping
 * '.', '\\', '"', '(', ')', ';', '@', '$' as \c and other non-printable
 * octets as \DDD. Always NUL-terminates when size > 0. Returns the length
 * written (without the NUL) or DNS_E_SPACE.
 */
int dns_name_to_str(const uint8_t *name, char *buf, size_t size);

/*
 * Parses presentation format (escapes \c and \DDD understood; a missing
 * trailing dot is accepted, the name is always taken as absolute). out must
 * hold DNS_NAME_MAX octets. Returns the wire length, or DNS_E_SYNTAX
 * (empty label, bad escape), DNS_E_LABEL_LEN, DNS_E_NAME_LEN.
 */
int dns_name_from_str(const char *str, uint8_t *out);

#endif
