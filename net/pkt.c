/*
 * net/pkt.c: frame parsing and in-place replies (see pkt.h). Worker
 * lcore, hot path: no allocation, no I/O, every walk bounded (IPv6
 * extension headers by NET_PKT_IPV6_EXT_MAX, ND options by the message
 * length). Every octet is read through get16() or memcpy, so frames may sit
 * at any alignment; replies are written from the copies in struct net_pkt,
 * never from the frame they overwrite.
 *
 * Measured (gcc 12 -O3 -march=x86-64-v3 with LTO, instructions/call by
 * callgrind, ns/call in a loop on the shared 2-core VM, 2025-12; a
 * throwaway driver, not yet in bench/): net_pkt_parse() of a 41-octet DNS
 * query in IPv4 198 instructions / 17 ns, in IPv6 147 / 15 ns (no header
 * checksum); net_pkt_udp_reply() with a 100-octet answer 227 / 28 ns (IPv4)
 * and 241 / 21 ns (IPv6); net_pkt_cksum() 47 instructions / 2.4 ns for 20
 * octets, 577 / 63 ns for 1232. Since then (2026-12-05) the reply's header
 * checksums are summed from values, not read back: net_pkt_build_udp_hdr()
 * with a 96-octet answer 76-87 -> 34-42 TSC cycles a call in a loop.
 */
#include "net/pkt.h"

#include <string.h>

#define IPV6_HOP_BY_HOP 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_DEST_OPTS 60
#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2
#define NA_F_SOLICITED 0x40
#define NA_F_OVERRIDE 0x20
#define NS_LEN 24			/* type to target, no options */
#define NA_LEN 32			/* with the target link-layer option */

static inline uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline bool all_zero16(const uint8_t *a)
{
	uint64_t w[2];

	memcpy(w, a, 16);
	return (w[0] | w[1]) == 0;
}

/* ------------------------------------------------------------------ */
/* Checksums. The sum runs over native-order words, 8 octets at a time
 * with an end-around carry; RFC 1071's byte-order independence makes the
 * folded result the byte-swapped big-endian sum on a little-endian CPU,
 * which cksum_final() swaps back. */

static inline uint64_t sum_add(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/* len octets from an even offset of the checksummed data. */
static uint64_t sum_buf(uint64_t acc, const uint8_t *b, size_t len)
{
	uint64_t w8;
	uint32_t w4;
	uint16_t w2;

	while (len >= 32) {
		uint64_t a, c, d;

		memcpy(&w8, b, 8);
		memcpy(&a, b + 8, 8);
		memcpy(&c, b + 16, 8);
		memcpy(&d, b + 24, 8);
		acc = sum_add(sum_add(sum_add(sum_add(acc, w8), a), c), d);
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w8, b, 8);
		acc = sum_add(acc, w8);
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w4, b, 4);
		acc = sum_add(acc, w4);
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, b, 2);
		acc = sum_add(acc, w2);
		b += 2;
		len -= 2;
	}
	if (len) {
		/* The odd octet is the high half of a big-endian word padded
		 * with zero: that word's native bytes are b[0], 0. */
		uint8_t last[2] = { b[0], 0 };

		memcpy(&w2, last, 2);
		acc = sum_add(acc, w2);
	}
	return acc;
}

/*
 * A big-endian 16-bit field's part of a sum, from its value: the native
 * word its two octets make in memory. The headers this file writes are
 * summed from their values, not read back: the octets were stored one at
 * a time a moment before, and a wider load of them waits for every store
 * to reach the cache (a failed store-to-load forward, ~12 cycles each).
 */
static inline uint64_t sum_be16(uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint16_t)(v << 8 | v >> 8);
#else
	return v;
#endif
}

/* Four octets (an IPv4 address) as one native word of the sum. */
static inline uint64_t sum_4(const uint8_t *b)
{
	uint32_t w;

	memcpy(&w, b, 4);
	return w;
}

static inline uint16_t cksum_final(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	uint16_t s = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (uint16_t)(s << 8 | s >> 8);
#endif
	return (uint16_t)~s;
}

uint16_t net_pkt_cksum(const void *buf, size_t len)
{
	return cksum_final(sum_buf(0, buf, len));
}

uint16_t net_pkt_cksum4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		       const void *l4, uint16_t l4_len)
{
	uint8_t ph[12];

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, l4_len);
	return cksum_final(sum_buf(sum_buf(0, ph, sizeof(ph)), l4, l4_len));
}

uint16_t net_pkt_cksum6(const uint8_t src[16], const uint8_t dst[16],
		       uint8_t next_header, const void *l4, uint32_t l4_len)
{
	uint8_t ph[8] = { (uint8_t)(l4_len >> 24), (uint8_t)(l4_len >> 16),
			  (uint8_t)(l4_len >> 8), (uint8_t)l4_len,
			  0, 0, 0, next_header };
	uint64_t acc = sum_buf(sum_buf(sum_buf(0, src, 16), dst, 16), ph, 8);

	return cksum_final(sum_buf(acc, l4, l4_len));
}

/* ------------------------------------------------------------------ */
/* Parsing. */

static int parse_ns(struct net_pkt *p, const uint8_t *m, uint16_t n)
{
	bool unspecified = all_zero16(p->src_ip);
	const uint8_t *d = p->dst_ip;

	if (p->ttl != NET_PKT_ND_HOP_LIMIT || p->icmp_code != 0 || n < NS_LEN)
		return NET_PKT_E_ND;
	memcpy(p->nd_target, m + 8, 16);
	if (p->nd_target[0] == 0xff)
		return NET_PKT_E_ND;
	/* From :: (duplicate address detection) only to ff02::1:ffXX:XXXX. */
	if (unspecified &&
	    !(d[0] == 0xff && d[1] == 0x02 && d[2] == 0 && d[3] == 0 &&
	      d[4] == 0 && d[5] == 0 && d[6] == 0 && d[7] == 0 && d[8] == 0 &&
	      d[9] == 0 && d[10] == 0 && d[11] == 0x01 && d[12] == 0xff))
		return NET_PKT_E_ND;
	/* Options: at least 8 octets each, so at most n / 8 steps. */
	for (uint16_t o = NS_LEN; o < n;) {
		if (n - o < 2)
			return NET_PKT_E_ND;
		uint16_t olen = (uint16_t)(m[o + 1] * 8);
		if (olen == 0 || olen > n - o)
			return NET_PKT_E_ND;
		if (unspecified && m[o] == ND_OPT_SOURCE_LLADDR)
			return NET_PKT_E_ND;
		o = (uint16_t)(o + olen);
	}
	return NET_PKT_ICMP6;
}

static int parse_l4(struct net_pkt *p, const uint8_t *f)
{
	const uint8_t *l4 = f + p->l4_off;
	uint16_t n = p->l4_len;

	switch (p->l4_proto) {
	case NET_PKT_PROTO_UDP: {
		if (n < NET_PKT_UDP_HDR_LEN)
			return NET_PKT_E_TRUNC_L4;
		uint16_t ulen = get16(l4 + 4);
		if (ulen < NET_PKT_UDP_HDR_LEN || ulen > n)
			return NET_PKT_E_UDP_LEN;
		p->src_port = get16(l4);
		p->dst_port = get16(l4 + 2);
		p->payload_off = (uint16_t)(p->l4_off + NET_PKT_UDP_HDR_LEN);
		p->payload_len = (uint16_t)(ulen - NET_PKT_UDP_HDR_LEN);
		return NET_PKT_UDP;
	}
	case NET_PKT_PROTO_TCP: {
		if (n < 20)
			return NET_PKT_E_TRUNC_L4;
		uint16_t doff = (uint16_t)((l4[12] >> 4) * 4);
		if (doff < 20 || doff > n)
			return NET_PKT_E_TRUNC_L4;
		p->src_port = get16(l4);
		p->dst_port = get16(l4 + 2);
		p->payload_off = (uint16_t)(p->l4_off + doff);
		p->payload_len = (uint16_t)(n - doff);
		return NET_PKT_TCP;
	}
	case NET_PKT_PROTO_ICMP4:
		if (p->family != NET_PKT_IPV4)
			return NET_PKT_OTHER;
		if (n < 8)
			return NET_PKT_E_TRUNC_L4;
		if (net_pkt_cksum(l4, n) != 0)
			return NET_PKT_E_ICMP_CSUM;
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->payload_off = (uint16_t)(p->l4_off + 8);
		p->payload_len = (uint16_t)(n - 8);
		return NET_PKT_ICMP4;
	case NET_PKT_PROTO_ICMP6:
		if (p->family != NET_PKT_IPV6)
			return NET_PKT_OTHER;
		if (n < 8)
			return NET_PKT_E_TRUNC_L4;
		if (net_pkt_cksum6(p->src_ip, p->dst_ip, NET_PKT_PROTO_ICMP6, l4, n) != 0)
			return NET_PKT_E_ICMP_CSUM;
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->payload_off = (uint16_t)(p->l4_off + 8);
		p->payload_len = (uint16_t)(n - 8);
		if (p->icmp_type == NET_PKT_ICMP6_NS)
			return parse_ns(p, l4, n);
		return NET_PKT_ICMP6;
	default:
		return NET_PKT_OTHER;
	}
}

static int parse_ipv4(struct net_pkt *p, const uint8_t *f, uint16_t len)
{
	const uint8_t *ip = f + p->l2_len;
	uint16_t room = (uint16_t)(len - p->l2_len);

	if (room < NET_PKT_IPV4_HDR_LEN)
		return NET_PKT_E_TRUNC_L3;
	if (ip[0] >> 4 != 4)
		return NET_PKT_E_IP_VERSION;
	uint16_t hl = (uint16_t)((ip[0] & 0x0f) * 4);
	if (hl < NET_PKT_IPV4_HDR_LEN || hl > room)
		return NET_PKT_E_IP_HDRLEN;
	if (net_pkt_cksum(ip, hl) != 0)
		return NET_PKT_E_IP_CSUM;
	uint16_t total = get16(ip + 2);
	if (total < hl || total > room)
		return NET_PKT_E_IP_LEN;
	if (get16(ip + 6) & 0x3fff)	/* MF, fragment offset */
		return NET_PKT_E_FRAGMENT;
	p->family = NET_PKT_IPV4;
	p->ttl = ip[8];
	p->l4_proto = ip[9];
	memcpy(p->src_ip, ip + 12, 4);
	memcpy(p->dst_ip, ip + 16, 4);
	p->l3_len = total;
	p->l3_hdr_len = hl;
	p->l4_off = (uint16_t)(p->l2_len + hl);
	p->l4_len = (uint16_t)(total - hl);
	return parse_l4(p, f);
}

static int parse_ipv6(struct net_pkt *p, const uint8_t *f, uint16_t len)
{
	const uint8_t *ip = f + p->l2_len;
	uint16_t room = (uint16_t)(len - p->l2_len);

	if (room < NET_PKT_IPV6_HDR_LEN)
		return NET_PKT_E_TRUNC_L3;
	if (ip[0] >> 4 != 6)
		return NET_PKT_E_IP_VERSION;
	uint16_t plen = get16(ip + 4);
	if (plen > room - NET_PKT_IPV6_HDR_LEN)
		return NET_PKT_E_IP_LEN;
	p->family = NET_PKT_IPV6;
	p->ttl = ip[7];
	memcpy(p->src_ip, ip + 8, 16);
	memcpy(p->dst_ip, ip + 24, 16);

	uint16_t end = (uint16_t)(NET_PKT_IPV6_HDR_LEN + plen);
	uint16_t hl = NET_PKT_IPV6_HDR_LEN;
	uint8_t nh = ip[6];
	for (int n = 0;; n++) {
		if (nh == IPV6_FRAGMENT)
			return NET_PKT_E_FRAGMENT;
		if (nh != IPV6_HOP_BY_HOP && nh != IPV6_ROUTING &&
		    nh != IPV6_DEST_OPTS)
			break;
		/* Hop-by-hop only right after the fixed header (RFC 8200 4.1). */
		if ((nh == IPV6_HOP_BY_HOP && n > 0) || n == NET_PKT_IPV6_EXT_MAX ||
		    end - hl < 8)
			return NET_PKT_E_IPV6_EXT;
		uint16_t ext = (uint16_t)((ip[hl + 1] + 1) * 8);
		if (ext > end - hl)
			return NET_PKT_E_IPV6_EXT;
		/* Segments left: the datagram is not for us yet; let the
		 * kernel forward it or send the ICMP error. */
		if (nh == IPV6_ROUTING && ip[hl + 3] != 0) {
			p->l4_proto = nh;
			p->l3_len = end;
			p->l3_hdr_len = hl;
			p->l4_off = (uint16_t)(p->l2_len + hl);
			p->l4_len = (uint16_t)(end - hl);
			return NET_PKT_OTHER;
		}
		nh = ip[hl];
		hl = (uint16_t)(hl + ext);
	}
	p->l4_proto = nh;
	p->l3_len = end;
	p->l3_hdr_len = hl;
	p->l4_off = (uint16_t)(p->l2_len + hl);
	p->l4_len = (uint16_t)(end - hl);
	return parse_l4(p, f);
}

static int parse_arp(struct net_pkt *p, const uint8_t *f, uint16_t len)
{
	const uint8_t *a = f + p->l2_len;

	if (len - p->l2_len < NET_PKT_ARP_LEN)
		return NET_PKT_E_TRUNC_L3;
	if (get16(a) != 1 || get16(a + 2) != NET_PKT_ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4)
		return NET_PKT_E_ARP;
	p->family = NET_PKT_IPV4;
	p->arp_op = get16(a + 6);
	memcpy(p->arp_sha, a + 8, 6);
	memcpy(p->src_ip, a + 14, 4);
	memcpy(p->arp_tha, a + 18, 6);
	memcpy(p->dst_ip, a + 24, 4);
	p->l3_len = NET_PKT_ARP_LEN;
	p->l3_hdr_len = NET_PKT_ARP_LEN;
	p->l4_off = (uint16_t)(p->l2_len + NET_PKT_ARP_LEN);
	return NET_PKT_ARP;
}

/* 32 octets at any alignment (four SSE2 or one AVX store) */
typedef uint8_t pkt_zero32 __attribute__((vector_size(32), aligned(1), may_alias));
_Static_assert(sizeof(struct net_pkt) > 96 && sizeof(struct net_pkt) <= 128,
	       "pkt_zero() clears struct net_pkt in four 32-octet stores");

/* memset(p, 0, sizeof(*p)) in four stores, the last overlapping the third:
 * gcc made the memset a rep stos, whose start-up cost ~10 TSC cycles of
 * each query (7 % of the worker loop's samples on a Xeon). */
static inline void pkt_zero(struct net_pkt *p)
{
	uint8_t *b = (uint8_t *)p;
	const pkt_zero32 z = { 0 };

	*(pkt_zero32 *)(void *)b = z;
	*(pkt_zero32 *)(void *)(b + 32) = z;
	*(pkt_zero32 *)(void *)(b + 64) = z;
	*(pkt_zero32 *)(void *)(b + sizeof(*p) - 32) = z;
}

int net_pkt_parse(struct net_pkt *p, const uint8_t *frame, uint16_t len)
{
	pkt_zero(p);
	if (len < NET_PKT_ETH_HDR_LEN)
		return NET_PKT_E_RUNT;
	memcpy(p->dst_mac, frame, 6);
	memcpy(p->src_mac, frame + 6, 6);
	p->l2_len = NET_PKT_ETH_HDR_LEN;
	p->ethertype = get16(frame + 12);
	if (p->ethertype == NET_PKT_ETHERTYPE_VLAN) {
		if (len < NET_PKT_ETH_HDR_LEN + NET_PKT_VLAN_LEN)
			return NET_PKT_E_TRUNC_VLAN;
		p->vlan = true;
		p->vlan_tci = get16(frame + 14);
		p->ethertype = get16(frame + 16);
		p->l2_len = NET_PKT_ETH_HDR_LEN + NET_PKT_VLAN_LEN;
	}
	switch (p->ethertype) {
	case NET_PKT_ETHERTYPE_IPV4:
		return parse_ipv4(p, frame, len);
	case NET_PKT_ETHERTYPE_IPV6:
		return parse_ipv6(p, frame, len);
	case NET_PKT_ETHERTYPE_ARP:
		return parse_arp(p, frame, len);
	default:
		return NET_PKT_OTHER;
	}
}

/* ------------------------------------------------------------------ */
/* Writing. */

/* Ethernet and VLAN header; returns its length. */
static uint16_t put_eth(uint8_t *b, const uint8_t dst[6], const uint8_t src[6],
			bool vlan, uint16_t tci, uint16_t ethertype)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (!vlan) {
		put16(b + 12, ethertype);
		return NET_PKT_ETH_HDR_LEN;
	}
	put16(b + 12, NET_PKT_ETHERTYPE_VLAN);
	put16(b + 14, tci);
	put16(b + 16, ethertype);
	return NET_PKT_ETH_HDR_LEN + NET_PKT_VLAN_LEN;
}

/* IPv4 without options, DF clear, ID 0, with its header checksum. */
static void put_ipv4(uint8_t *ip, uint16_t total, uint8_t ttl, uint8_t proto,
		     const uint8_t src[4], const uint8_t dst[4])
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, total);
	memset(ip + 4, 0, 4);
	ip[8] = ttl;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	/* version and header length, total length, ID and fragment 0, TTL
	 * and protocol, the addresses (sum_be16()) */
	put16(ip + 10, cksum_final(sum_be16(0x4500) + sum_be16(total) +
				   sum_be16((uint16_t)(ttl << 8 | proto)) + sum_4(src) +
				   sum_4(dst)));
}

static void put_ipv6(uint8_t *ip, uint16_t plen, uint8_t hop_limit, uint8_t nh,
		     const uint8_t src[16], const uint8_t dst[16])
{
	ip[0] = 0x60;
	memset(ip + 1, 0, 3);
	put16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = hop_limit;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

uint64_t net_pkt_sum(const void *buf, size_t len)
{
	uint64_t acc = sum_buf(0, buf, len);

	return (acc & 0xffffffffu) + (acc >> 32);
}

/* net_pkt_build_udp_hdr*(): payload_sum when payload is NULL, else the
 * payload_len octets at payload summed. */
static int build_udp_hdr(uint8_t *buf, const struct net_pkt_addrs *a, uint16_t payload_len,
			 const uint8_t *payload, uint64_t payload_sum)
{
	bool v6 = a->family == NET_PKT_IPV6;
	uint16_t hl = net_pkt_hdr_len(a->family, a->vlan);

	if (payload_len > UINT16_MAX - hl)
		return NET_PKT_E_SPACE;
	uint16_t ulen = (uint16_t)(NET_PKT_UDP_HDR_LEN + payload_len);
	uint16_t off = put_eth(buf, a->dst_mac, a->src_mac, a->vlan, a->vlan_tci,
			       v6 ? NET_PKT_ETHERTYPE_IPV6 : NET_PKT_ETHERTYPE_IPV4);
	uint8_t *udp;
	uint16_t c;

	if (v6) {
		put_ipv6(buf + off, ulen, NET_PKT_REPLY_TTL, NET_PKT_PROTO_UDP,
			 a->src_ip, a->dst_ip);
		udp = buf + off + NET_PKT_IPV6_HDR_LEN;
	} else {
		put_ipv4(buf + off, (uint16_t)(NET_PKT_IPV4_HDR_LEN + ulen),
			 NET_PKT_REPLY_TTL, NET_PKT_PROTO_UDP, a->src_ip, a->dst_ip);
		udp = buf + off + NET_PKT_IPV4_HDR_LEN;
	}
	put16(udp, a->src_port);
	put16(udp + 2, a->dst_port);
	put16(udp + 4, ulen);
	/* the pseudo-header (the length twice: its own and the UDP header's)
	 * and the ports from their values (sum_be16()); only the payload is
	 * read */
	uint64_t acc = sum_be16(NET_PKT_PROTO_UDP) + 2 * sum_be16(ulen) +
		       sum_be16(a->src_port) + sum_be16(a->dst_port);
	if (v6)
		acc = sum_buf(sum_buf(acc, a->src_ip, 16), a->dst_ip, 16);
	else
		acc += sum_4(a->src_ip) + sum_4(a->dst_ip);
	if (payload)
		acc = sum_buf(acc, payload, payload_len);
	else
		acc = sum_add(acc, payload_sum);
	c = cksum_final(acc);
	put16(udp + 6, c ? c : 0xffff);	/* 0 would mean "no checksum" */
	return hl + payload_len;
}

int net_pkt_build_udp_hdr(uint8_t *buf, const struct net_pkt_addrs *a,
			 uint16_t payload_len)
{
	return build_udp_hdr(buf, a, payload_len, buf + net_pkt_hdr_len(a->family, a->vlan), 0);
}

int net_pkt_build_udp_hdr_sum(uint8_t *buf, const struct net_pkt_addrs *a,
			     uint16_t payload_len, uint64_t payload_sum)
{
	return build_udp_hdr(buf, a, payload_len, NULL, payload_sum);
}

int net_pkt_build_udp(uint8_t *buf, size_t cap, const struct net_pkt_addrs *a,
		     const uint8_t *payload, uint16_t payload_len)
{
	uint16_t hl = net_pkt_hdr_len(a->family, a->vlan);

	if (cap < hl || cap - hl < payload_len)
		return NET_PKT_E_SPACE;
	memcpy(buf + hl, payload, payload_len);
	return net_pkt_build_udp_hdr(buf, a, payload_len);
}

int net_pkt_udp_reply(uint8_t *buf, const struct net_pkt *p, uint16_t payload_len)
{
	struct net_pkt_addrs a;

	if (p->l4_proto != NET_PKT_PROTO_UDP ||
	    (p->family != NET_PKT_IPV4 && p->family != NET_PKT_IPV6))
		return NET_PKT_E_NOT_REQUEST;
	memcpy(a.src_mac, p->dst_mac, 6);
	memcpy(a.dst_mac, p->src_mac, 6);
	a.vlan = p->vlan;
	a.vlan_tci = p->vlan_tci;
	a.family = p->family;
	memcpy(a.src_ip, p->dst_ip, 16);
	memcpy(a.dst_ip, p->src_ip, 16);
	a.src_port = p->dst_port;
	a.dst_port = p->src_port;
	/* The query's headers were at least as long as the reply's. */
	uint16_t start = (uint16_t)(p->payload_off - net_pkt_hdr_len(p->family, p->vlan));
	int r = net_pkt_build_udp_hdr(buf + start, &a, payload_len);
	return r < 0 ? r : start;
}

int net_pkt_arp_reply(uint8_t *frame, size_t cap, const struct net_pkt *p,
		     const uint8_t our_mac[6])
{
	if (p->ethertype != NET_PKT_ETHERTYPE_ARP || p->arp_op != NET_PKT_ARP_REQUEST)
		return NET_PKT_E_NOT_REQUEST;
	uint16_t off = put_eth(frame, p->arp_sha, our_mac, p->vlan, p->vlan_tci,
			       NET_PKT_ETHERTYPE_ARP);
	uint8_t *a = frame + off;

	put16(a, 1);
	put16(a + 2, NET_PKT_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, NET_PKT_ARP_REPLY);
	memcpy(a + 8, our_mac, 6);
	memcpy(a + 14, p->dst_ip, 4);
	memcpy(a + 18, p->arp_sha, 6);
	memcpy(a + 24, p->src_ip, 4);
	uint16_t end = (uint16_t)(off + NET_PKT_ARP_LEN);
	if (end < NET_PKT_ETH_MIN_LEN && cap >= NET_PKT_ETH_MIN_LEN) {
		memset(frame + end, 0, NET_PKT_ETH_MIN_LEN - end);
		end = NET_PKT_ETH_MIN_LEN;
	}
	return end;
}

int net_pkt_echo_reply(uint8_t *buf, const struct net_pkt *p, uint16_t *len)
{
	bool v6;

	if (p->family == NET_PKT_IPV4 && p->l4_proto == NET_PKT_PROTO_ICMP4 &&
	    p->icmp_type == NET_PKT_ICMP4_ECHO_REQUEST)
		v6 = false;
	else if (p->family == NET_PKT_IPV6 && p->l4_proto == NET_PKT_PROTO_ICMP6 &&
		 p->icmp_type == NET_PKT_ICMP6_ECHO_REQUEST)
		v6 = true;
	else
		return NET_PKT_E_NOT_REQUEST;
	if (p->icmp_code != 0 || p->l4_len < 8)
		return NET_PKT_E_NOT_REQUEST;

	uint16_t ipl = v6 ? NET_PKT_IPV6_HDR_LEN : NET_PKT_IPV4_HDR_LEN;
	uint16_t hl = (uint16_t)(NET_PKT_ETH_HDR_LEN +
				 (p->vlan ? NET_PKT_VLAN_LEN : 0) + ipl);
	uint16_t start = (uint16_t)(p->l4_off - hl);
	uint8_t *b = buf + start;
	uint8_t *icmp = buf + p->l4_off;
	uint16_t off = put_eth(b, p->src_mac, p->dst_mac, p->vlan, p->vlan_tci,
			       v6 ? NET_PKT_ETHERTYPE_IPV6 : NET_PKT_ETHERTYPE_IPV4);

	put16(icmp + 2, 0);
	if (v6) {
		put_ipv6(b + off, p->l4_len, NET_PKT_REPLY_TTL, NET_PKT_PROTO_ICMP6,
			 p->dst_ip, p->src_ip);
		icmp[0] = NET_PKT_ICMP6_ECHO_REPLY;
		put16(icmp + 2, net_pkt_cksum6(p->dst_ip, p->src_ip,
					      NET_PKT_PROTO_ICMP6, icmp, p->l4_len));
	} else {
		put_ipv4(b + off, (uint16_t)(NET_PKT_IPV4_HDR_LEN + p->l4_len),
			 NET_PKT_REPLY_TTL, NET_PKT_PROTO_ICMP4, p->dst_ip, p->src_ip);
		icmp[0] = NET_PKT_ICMP4_ECHO_REPLY;
		put16(icmp + 2, net_pkt_cksum(icmp, p->l4_len));
	}
	*len = (uint16_t)(hl + p->l4_len);
	return start;
}

int net_pkt_nd_advert(uint8_t *frame, size_t cap, const struct net_pkt *p,
		     const uint8_t our_mac[6])
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };

	if (p->family != NET_PKT_IPV6 || p->l4_proto != NET_PKT_PROTO_ICMP6 ||
	    p->icmp_type != NET_PKT_ICMP6_NS)
		return NET_PKT_E_NOT_REQUEST;
	uint16_t l2 = (uint16_t)(NET_PKT_ETH_HDR_LEN + (p->vlan ? NET_PKT_VLAN_LEN : 0));
	uint16_t len = (uint16_t)(l2 + NET_PKT_IPV6_HDR_LEN + NA_LEN);
	if (cap < len)
		return NET_PKT_E_SPACE;
	bool dad = all_zero16(p->src_ip);
	const uint8_t *dst = dad ? all_nodes : p->src_ip;

	put_eth(frame, dad ? all_nodes_mac : p->src_mac, our_mac, p->vlan,
		p->vlan_tci, NET_PKT_ETHERTYPE_IPV6);
	put_ipv6(frame + l2, NA_LEN, NET_PKT_ND_HOP_LIMIT, NET_PKT_PROTO_ICMP6,
		 p->nd_target, dst);
	uint8_t *m = frame + l2 + NET_PKT_IPV6_HDR_LEN;
	m[0] = NET_PKT_ICMP6_NA;
	m[1] = 0;
	put16(m + 2, 0);
	m[4] = (uint8_t)((dad ? 0 : NA_F_SOLICITED) | NA_F_OVERRIDE);
	memset(m + 5, 0, 3);
	memcpy(m + 8, p->nd_target, 16);
	m[24] = ND_OPT_TARGET_LLADDR;
	m[25] = 1;
	memcpy(m + 26, our_mac, 6);
	put16(m + 2, net_pkt_cksum6(p->nd_target, dst, NET_PKT_PROTO_ICMP6, m, NA_LEN));
	return len;
}

const char *net_pkt_strerror(int code)
{
	switch (code) {
#define NET_PKT_TEXT_CASE(name, value, text) case name: return text;
	NET_PKT_CLASSES(NET_PKT_TEXT_CASE)
	NET_PKT_ERRORS(NET_PKT_TEXT_CASE)
#undef NET_PKT_TEXT_CASE
	default:
		return "unknown code";
	}
}
