/*
 * dns/wire.h: constants of the DNS wire format (RFC 1035, 6891, 4034, 5155 and
 * friends) and unaligned big-endian load/store helpers. Header only, no I/O;
 * safe in any thread, including dataplane workers on the hot path.
 */
#ifndef BW_DNS_WIRE_H
#define BW_DNS_WIRE_H

#include <stdint.h>
#include <string.h>

#define DNS_HDR_LEN 12		/* octets in the fixed message header */
#define DNS_NAME_MAX 255	/* octets in a wire name, root label included */
#define DNS_LABEL_MAX 63	/* octets in one label */
#define DNS_LABELS_MAX 127	/* labels in a name, root label excluded */
#define DNS_MSG_MAX 65535	/* octets in a message (TCP length field) */
#define DNS_RR_FIXED_LEN 10	/* type, class, TTL, RDLENGTH after the owner */
#define DNS_PTR_MASK 0xc0	/* top bits of a compression pointer */
#define DNS_EDNS_MIN_UDP 512	/* RFC 6891 6.2.3: smaller sizes read as 512 */

enum dns_section {
	DNS_SEC_QUESTION = 0,
	DNS_SEC_ANSWER = 1,
	DNS_SEC_AUTHORITY = 2,
	DNS_SEC_ADDITIONAL = 3,
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_MD = 3,
	DNS_T_MF = 4,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_MB = 7,
	DNS_T_MG = 8,
	DNS_T_MR = 9,
	DNS_T_PTR = 12,
	DNS_T_HINFO = 13,
	DNS_T_MINFO = 14,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_RP = 17,
	DNS_T_AFSDB = 18,
	DNS_T_RT = 21,
	DNS_T_PX = 26,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_DS = 43,
	DNS_T_RRSIG = 46,
	DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48,
	DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51,
	DNS_T_TSIG = 250,
	DNS_T_IXFR = 251,
	DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
};

enum dns_class {
	DNS_C_IN = 1,
	DNS_C_CH = 3,
	DNS_C_NONE = 254,
	DNS_C_ANY = 255,
};

enum dns_opcode {
	DNS_OP_QUERY = 0,
	DNS_OP_IQUERY = 1,
	DNS_OP_STATUS = 2,
	DNS_OP_NOTIFY = 4,
	DNS_OP_UPDATE = 5,
};

enum dns_rcode {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
	DNS_R_YXDOMAIN = 6,
	DNS_R_YXRRSET = 7,
	DNS_R_NXRRSET = 8,
	DNS_R_NOTAUTH = 9,
	DNS_R_NOTZONE = 10,
	DNS_R_BADVERS = 16,	/* extended: needs EDNS */
	DNS_R_BADCOOKIE = 23,	/* extended: needs EDNS */
};

/* Header flag bits, in the host-order 16-bit flags word. */
#define DNS_F_QR 0x8000
#define DNS_F_OPCODE_MASK 0x7800
#define DNS_F_OPCODE_SHIFT 11
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_Z 0x0040
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_F_RCODE_MASK 0x000f

/* EDNS(0): flag bits of the OPT TTL's low 16 bits, and option codes. */
#define DNS_EDNS_F_DO 0x8000
enum dns_edns_opt {
	DNS_EO_NSID = 3,
	DNS_EO_CLIENT_SUBNET = 8,
	DNS_EO_EXPIRE = 9,
	DNS_EO_COOKIE = 10,
	DNS_EO_KEEPALIVE = 11,
	DNS_EO_PADDING = 12,
	DNS_EO_EDE = 15,
};
#define DNS_COOKIE_CLIENT_LEN 8		/* RFC 7873 4.1 */
#define DNS_COOKIE_SERVER_MIN 8		/* RFC 7873 4.2 */
#define DNS_COOKIE_SERVER_MAX 32

/* DS digest types (RFC 4509, 6605, 3658) and NSEC3 hash algorithm. */
enum dns_ds_digest {
	DNS_DS_SHA1 = 1,
	DNS_DS_SHA256 = 2,
	DNS_DS_GOST = 3,
	DNS_DS_SHA384 = 4,
};
#define DNS_NSEC3_SHA1 1

/* Unaligned big-endian loads and stores (compile to a load/store + bswap). */
static inline uint16_t dns_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

/*
 * Copies n octets between buffers that do not overlap. Names and RDATA are
 * short, and a libc call costs more than the copy: up to 64 octets are moved
 * inline in 8-octet words (the last word may overlap the one before).
 */
static inline void dns_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	if (n > 64) {
		memcpy(dst, src, n);
	} else if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&a, src + i, 8);
			memcpy(dst + i, &a, 8);
		}
		memcpy(&b, src + n - 8, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/*
 * Equality of n octets, inline and 8 at a time (the last word may overlap
 * the one before): for names and keys, where a libc call costs more.
 */
static inline int dns_same_octets(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;

	if (n < 8)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return 0;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

#endif
