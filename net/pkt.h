/*
 * net/pkt.h: the frame layer of the worker: parsing an Ethernet frame
 * down to the UDP payload a DNS query sits in, writing the UDP reply's
 * headers in place around the answer, building UDP frames from scratch for
 * the cache-writer thread, and answering ARP, ICMP echo and IPv6 neighbour
 * solicitation in place. Pure functions over caller-owned byte buffers: no
 * EAL, no allocation, no I/O, no global state, so every function may be
 * called from any thread; the worker lcore's hot path is the reason they
 * exist, and they are written for it. Buffers may be at any alignment.
 *
 * Ownership: the frame buffer always belongs to the caller (in the worker,
 * the mbuf's data). net_pkt_parse() copies every field it reports (MACs,
 * addresses, ports, VLAN tag) into the caller's struct net_pkt, because the
 * reply functions then write over the same buffer: they read the request's
 * fields from the struct, never from the frame.
 *
 * Not handled here, left to the caller: whether a destination address is
 * ours, and refusing to answer from a multicast or broadcast source or to
 * a multicast or broadcast destination (the reply functions swap addresses
 * as they find them).
 */
#ifndef BW_NET_PKT_H
#define BW_NET_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NET_PKT_ETH_HDR_LEN 14
#define NET_PKT_VLAN_LEN 4
#define NET_PKT_IPV4_HDR_LEN 20		/* without options */
#define NET_PKT_IPV6_HDR_LEN 40		/* without extension headers */
#define NET_PKT_UDP_HDR_LEN 8
#define NET_PKT_ARP_LEN 28		/* Ethernet/IPv4 ARP body */
#define NET_PKT_ETH_MIN_LEN 60		/* shortest frame on the wire, FCS excluded */
#define NET_PKT_ETHERTYPE_IPV4 0x0800
#define NET_PKT_ETHERTYPE_ARP 0x0806
#define NET_PKT_ETHERTYPE_VLAN 0x8100
#define NET_PKT_ETHERTYPE_IPV6 0x86dd
#define NET_PKT_PROTO_ICMP4 1
#define NET_PKT_PROTO_TCP 6
#define NET_PKT_PROTO_UDP 17
#define NET_PKT_PROTO_ICMP6 58
#define NET_PKT_ICMP4_ECHO_REPLY 0
#define NET_PKT_ICMP4_ECHO_REQUEST 8
#define NET_PKT_ICMP6_ECHO_REQUEST 128
#define NET_PKT_ICMP6_ECHO_REPLY 129
#define NET_PKT_ICMP6_NS 135
#define NET_PKT_ICMP6_NA 136
#define NET_PKT_ARP_REQUEST 1
#define NET_PKT_ARP_REPLY 2
#define NET_PKT_REPLY_TTL 64		/* hops, IPv4 TTL and IPv6 hop limit */
#define NET_PKT_ND_HOP_LIMIT 255		/* RFC 4861: ND is link-local only */
/* Extension headers walked before the upper-layer header is given up on
 * (E_IPV6_EXT): a legitimate chain has hop-by-hop, destination options,
 * routing and destination options at most. */
#define NET_PKT_IPV6_EXT_MAX 4

/* family: the IP version. */
#define NET_PKT_IPV4 4
#define NET_PKT_IPV6 6

/*
 * What net_pkt_parse() returns for a frame it does not drop; with the text
 * the control process shows for the worker's per-class counters. OTHER is
 * everything the worker hands to the kernel unread: other ethertypes
 * (802.3 length fields, QinQ 0x88a8, a second 0x8100 tag, LLDP...) and other
 * IP protocols (including IPv6 extension headers other than hop-by-hop,
 * routing and destination options, such as AH and ESP).
 */
#define NET_PKT_CLASSES(X)                                                      \
	X(NET_PKT_OTHER, 0, "other ethertype or IP protocol")                   \
	X(NET_PKT_UDP, 1, "UDP")                                                \
	X(NET_PKT_TCP, 2, "TCP")                                                \
	X(NET_PKT_ARP, 3, "ARP")                                                \
	X(NET_PKT_ICMP4, 4, "ICMPv4")                                           \
	X(NET_PKT_ICMP6, 5, "ICMPv6")

enum net_pkt_class {
#define NET_PKT_CLASS_ENUM(name, value, text) name = value,
	NET_PKT_CLASSES(NET_PKT_CLASS_ENUM)
#undef NET_PKT_CLASS_ENUM
};
#define NET_PKT_NCLASSES 6

/*
 * Why a frame was dropped (net_pkt_parse()) or not answered (the reply
 * functions): one counter per code in the worker. -41xx so that the rest of
 * dataplane/ may use -40xx; the other libraries use -1xxx (dns), -2xxx
 * (cache) and -3xxx (configuration).
 */
#define NET_PKT_ERRORS(X)                                                       \
	X(NET_PKT_E_RUNT, -4101, "frame shorter than an Ethernet header")      \
	X(NET_PKT_E_TRUNC_VLAN, -4102, "frame ends inside the VLAN tag")       \
	X(NET_PKT_E_TRUNC_L3, -4103, "frame ends inside the IP header or ARP body") \
	X(NET_PKT_E_IP_VERSION, -4104, "IP version does not match the ethertype") \
	X(NET_PKT_E_IP_HDRLEN, -4105, "IPv4 header length below 20 or beyond the frame") \
	X(NET_PKT_E_IP_CSUM, -4106, "bad IPv4 header checksum")                \
	X(NET_PKT_E_IP_LEN, -4107, "IP length below the header or beyond the frame") \
	X(NET_PKT_E_FRAGMENT, -4108, "IP fragment")                            \
	X(NET_PKT_E_IPV6_EXT, -4109, "IPv6 extension headers truncated, misplaced or too many") \
	X(NET_PKT_E_TRUNC_L4, -4110, "IP payload ends inside the transport header") \
	X(NET_PKT_E_UDP_LEN, -4111, "UDP length below 8 or beyond the IP payload") \
	X(NET_PKT_E_ICMP_CSUM, -4112, "bad ICMP checksum")                     \
	X(NET_PKT_E_ARP, -4113, "ARP for other than Ethernet and IPv4")        \
	X(NET_PKT_E_ND, -4114, "neighbour solicitation fails RFC 4861 7.1.1")  \
	X(NET_PKT_E_NOT_REQUEST, -4115, "not a request this reply function answers") \
	X(NET_PKT_E_SPACE, -4116, "buffer too small or payload too long for one datagram")

enum net_pkt_err {
#define NET_PKT_ERR_ENUM(name, value, text) name = value,
	NET_PKT_ERRORS(NET_PKT_ERR_ENUM)
#undef NET_PKT_ERR_ENUM
};

/* A drop reason's counter slot (1..16: a worker's frame_drops[], shm.h) and
 * back; the slot's public name is the code's number, dataplane.drop_4101. */
#define NET_PKT_E_BASE (-4100)
static inline unsigned net_pkt_drop_slot(int code)
{
	return (unsigned)(NET_PKT_E_BASE - code);
}

static inline int net_pkt_drop_code(unsigned slot)
{
	return NET_PKT_E_BASE - (int)slot;
}

/*
 * Whether a (v6: 16 octets, else 4) could be one host's unicast address:
 * not IPv4 0/8 ("this network"), 224/4 (multicast) or 240/4 with the
 * limited broadcast; not IPv6 ::, ff00::/8 (multicast) or ::ffff:0:0/96
 * (v4-mapped, which is no address on a wire). The rule a client's source
 * (dataplane) and a server's address (control's iterator) both meet;
 * loopback is each caller's own business. Any thread.
 */
static inline bool net_addr_unicast(bool v6, const uint8_t *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!v6)
		return a[0] != 0 && a[0] < 224;
	return a[0] != 0xff && memcmp(a, zero, 16) != 0 && memcmp(a, mapped, 12) != 0;
}

/* Static text for any net_pkt_parse() result, class or drop reason, or any
 * other code of this module (never NULL). */
const char *net_pkt_strerror(int code);

/*
 * A parsed frame. All offsets are from the frame's first octet and, with
 * the lengths, never reach beyond the length given to net_pkt_parse(). Ports
 * and the VLAN TCI are in host order; addresses and MACs are in wire order.
 * Fields a class does not have are zero.
 */
struct net_pkt {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint16_t l2_len;	/* 14, or 18 with a VLAN tag: offset of L3 */
	uint16_t ethertype;	/* after the tag */
	uint16_t vlan_tci;	/* PCP, DEI and VID as sent */
	bool vlan;
	uint8_t family;		/* NET_PKT_IPV4 or _IPV6; ARP: NET_PKT_IPV4 */
	uint8_t ttl;		/* IPv4 TTL or IPv6 hop limit */
	uint8_t l4_proto;	/* IPv6: the first header not walked */
	uint16_t l3_len;	/* IPv4 total length, IPv6 40 + payload length;
				 * ARP: 28. Ethernet padding is after it. */
	uint16_t l3_hdr_len;	/* IPv4 IHL * 4, IPv6 40 + extension headers */
	uint16_t l4_off;	/* l2_len + l3_hdr_len */
	uint16_t l4_len;	/* l3_len - l3_hdr_len */
	uint16_t src_port;	/* UDP and TCP */
	uint16_t dst_port;
	uint16_t payload_off;	/* UDP: after the UDP header, UDP length - 8
				 * octets; TCP: after its header; ICMP: after
				 * the 8-octet header (echo data) */
	uint16_t payload_len;
	uint8_t src_ip[16];	/* 4 or 16 octets used by family; ARP: sender */
	uint8_t dst_ip[16];	/* ARP: target protocol address */
	uint8_t icmp_type;	/* ICMPv4 and ICMPv6 */
	uint8_t icmp_code;
	uint16_t arp_op;	/* NET_PKT_ARP_REQUEST, _REPLY or other */
	uint8_t arp_sha[6];	/* sender and target hardware addresses */
	uint8_t arp_tha[6];
	uint8_t nd_target[16];	/* neighbour solicitation's target */
};

/*
 * Parses the len octets of frame into *p. Returns a class (enum
 * net_pkt_class, >= 0) or a drop reason (NET_PKT_E_*, < 0); *p is only
 * meaningful for a class. What is checked:
 * - Ethernet II, at most one 802.1Q tag (another tag or QinQ: OTHER);
 * - ARP: htype 1, ptype 0x0800, hlen 6, plen 4 (any op);
 * - IPv4: version, header length (options skipped, not read), header
 *   checksum, total length against the frame (octets after it are padding),
 *   fragments (MF or an offset: DNS over fragmented UDP is left to the
 *   kernel's reassembly, which the worker does not do, so they are dropped);
 * - IPv6: version, payload length against the frame, hop-by-hop (first
 *   only), routing and destination options headers, at most
 *   NET_PKT_IPV6_EXT_MAX of them; a fragment header is E_FRAGMENT;
 * - UDP: header present, 8 <= UDP length <= IP payload, payload by the UDP
 *   length. The UDP checksum is not verified: software ports (veth, tap)
 *   deliver packets whose checksum was left to an offload that never
 *   happened, which the kernel accepts as CHECKSUM_PARTIAL and we cannot
 *   tell apart from corruption; the DNS parser checks the content anyway;
 * - TCP: header and data offset present (ports reported, nothing else);
 * - ICMPv4, ICMPv6: 8-octet header, checksum over the whole message (ICMP
 *   is rare and small, and is answered only if sound); a neighbour
 *   solicitation also gets RFC 4861 7.1.1's checks (hop limit 255, code 0,
 *   24 octets, target not multicast, no empty or overlong option, from ::
 *   only to a solicited-node address and without a source link-layer
 *   address option).
 * Cost: the bounded header walk plus the IPv4 header's checksum (plus the
 * whole message for ICMP): about 200 instructions, 15-20 ns, for a DNS
 * query (measured in pkt.c).
 */
int net_pkt_parse(struct net_pkt *p, const uint8_t *frame, uint16_t len);

/* The addresses of a UDP datagram to build: sender first. */
struct net_pkt_addrs {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	bool vlan;
	uint16_t vlan_tci;	/* host order */
	uint8_t family;		/* NET_PKT_IPV4 or NET_PKT_IPV6 */
	uint8_t src_ip[16];	/* 4 or 16 octets used by family */
	uint8_t dst_ip[16];
	uint16_t src_port;	/* host order */
	uint16_t dst_port;
};

/* Octets of the Ethernet, VLAN, IP and UDP headers that net_pkt_build_udp_hdr()
 * writes: the offset at which to put the payload. */
static inline uint16_t net_pkt_hdr_len(uint8_t family, bool vlan)
{
	return (uint16_t)(NET_PKT_ETH_HDR_LEN + (vlan ? NET_PKT_VLAN_LEN : 0) +
			  (family == NET_PKT_IPV6 ? NET_PKT_IPV6_HDR_LEN
						 : NET_PKT_IPV4_HDR_LEN) +
			  NET_PKT_UDP_HDR_LEN);
}

/*
 * Writes the headers of a UDP datagram from *a at buf[0, net_pkt_hdr_len())
 * for the payload_len octets the caller has put at buf + net_pkt_hdr_len():
 * Ethernet, the VLAN tag if a->vlan, IPv4 without options (TTL 64, DF
 * clear, ID 0, header checksum) or IPv6 without extension headers (hop
 * limit 64), UDP with the full checksum (a computed 0 is sent as 0xffff,
 * RFC 768 and RFC 8200 8.1). Returns the frame length, or NET_PKT_E_SPACE
 * when the payload does not fit in one IP datagram. Reads the payload once
 * for the checksum.
 */
int net_pkt_build_udp_hdr(uint8_t *buf, const struct net_pkt_addrs *a,
			 uint16_t payload_len);

/*
 * The same for a payload whose checksum sum the caller has: payload_sum is
 * net_pkt_sum() of it, or the plain sum of such values for pieces that
 * start at even offsets of it (each below 2^33); the payload is not read.
 * A sender of a template whose DNS ID is 0 sums it once, and for each
 * query adds the net_pkt_sum() of the ID's two octets.
 */
int net_pkt_build_udp_hdr_sum(uint8_t *buf, const struct net_pkt_addrs *a,
			     uint16_t payload_len, uint64_t payload_sum);

/* The ones'-complement partial sum of len octets, for
 * net_pkt_build_udp_hdr_sum(): below 2^33. */
uint64_t net_pkt_sum(const void *buf, size_t len);

/*
 * net_pkt_build_udp_hdr() with the payload copied in: writes a whole frame
 * into buf (cap octets). Returns its length, or NET_PKT_E_SPACE when it does
 * not fit. payload must not overlap buf.
 */
int net_pkt_build_udp(uint8_t *buf, size_t cap, const struct net_pkt_addrs *a,
		     const uint8_t *payload, uint16_t payload_len);

/*
 * The UDP reply in place. p is the parse (class NET_PKT_UDP) of the query
 * frame in buf, and the caller has written the payload_len octets of the
 * reply payload at buf + p->payload_off, where the query's payload was
 * (buf must have room for them). Writes the reply's headers from p's fields
 * (MACs, addresses and ports swapped, same VLAN tag, no IP options or
 * extension headers; see net_pkt_build_udp_hdr()) so that they end at
 * p->payload_off, and returns the offset at which the reply frame starts:
 * 0, or more when the query's IP options or extension headers made its
 * headers longer. The frame is buf + ret, p->payload_off - ret +
 * payload_len octets; the worker trims the mbuf's front by ret. Returns
 * NET_PKT_E_SPACE when payload_len does not fit in one IP datagram.
 */
int net_pkt_udp_reply(uint8_t *buf, const struct net_pkt *p, uint16_t payload_len);

/*
 * ARP request to reply in place: p is the parse (class NET_PKT_ARP) of the
 * request in frame, cap octets of room. Writes Ethernet (to the requester's
 * hardware address, from our_mac), op 2, sender = our_mac and the target
 * protocol address, target = the requester's addresses. The caller has
 * checked that the target protocol address is ours. Returns the reply's
 * length: 60 when cap allows (padding zeroed, so that nothing of the
 * request's padding is echoed), else the ARP body's end. Returns
 * NET_PKT_E_NOT_REQUEST when p's op is not a request.
 */
int net_pkt_arp_reply(uint8_t *frame, size_t cap, const struct net_pkt *p,
		     const uint8_t our_mac[6]);

/*
 * ICMPv4 or ICMPv6 echo request to echo reply in place: p is the parse
 * (class NET_PKT_ICMP4 type 8, or NET_PKT_ICMP6 type 128, both code 0, the
 * checksum verified by parse) of the request in buf. Swaps MACs and
 * addresses, writes IPv4 without options (TTL 64, header checksum) or IPv6
 * without extension headers (hop limit 64), type 0 or 129 and the ICMP
 * checksum; the echo data stays where it is. As for net_pkt_udp_reply(),
 * returns the offset the reply starts at (the options or extension headers
 * dropped) and stores its length in *len; the IP length is what counts,
 * Ethernet padding of the request is left behind. Returns
 * NET_PKT_E_NOT_REQUEST for anything but an echo request.
 */
int net_pkt_echo_reply(uint8_t *buf, const struct net_pkt *p, uint16_t *len);

/*
 * Neighbour solicitation to neighbour advertisement in place: p is the
 * parse (class NET_PKT_ICMP6 type 135, so RFC 4861 7.1.1 checked) of the
 * solicitation in frame, cap octets of room; the caller has checked that
 * p->nd_target is ours. Writes from offset 0: Ethernet from our_mac (to
 * the solicitation's sender, or 33:33:00:00:00:01 when the source was ::,
 * duplicate address detection), the same VLAN tag, IPv6 from the target to
 * the solicitation's source or ff02::1 (hop limit 255), and an NA with
 * Solicited set unless the source was ::, Override set, Router clear, and a
 * target link-layer address option with our_mac. Returns the frame length
 * (86, 90 with a tag), NET_PKT_E_SPACE if cap is shorter, or
 * NET_PKT_E_NOT_REQUEST if p is not a solicitation.
 */
int net_pkt_nd_advert(uint8_t *frame, size_t cap, const struct net_pkt *p,
		     const uint8_t our_mac[6]);

/*
 * The Internet checksum (RFC 1071) as the number to store big-endian in a
 * checksum field: the complement of the one's-complement sum of buf as
 * big-endian 16-bit words (an odd last octet padded with zero). Over data
 * that includes a correct checksum field it gives 0. net_pkt_cksum4() and
 * net_pkt_cksum6() add the pseudo-header of UDP, TCP (both families) and
 * ICMPv6, whose length field is l4_len; they do not apply the UDP rule that
 * 0 is sent as 0xffff. Cost: the sum reads 8 octets per step with one add
 * and one carry, about 0.05 ns per octet: 2.4 ns for an IPv4 header, 63 ns
 * for a 1232-octet DNS answer, which is why UDP replies are checksummed
 * once, when written, and received UDP never (see pkt.c).
 */
uint16_t net_pkt_cksum(const void *buf, size_t len);
uint16_t net_pkt_cksum4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		       const void *l4, uint16_t l4_len);
uint16_t net_pkt_cksum6(const uint8_t src[16], const uint8_t dst[16],
		       uint8_t next_header, const void *l4, uint32_t l4_len);

#endif
