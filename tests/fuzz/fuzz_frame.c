/*
 * tests/fuzz/fuzz_frame.c: libFuzzer target for the worker's frame layer,
 * whose input is every frame a NIC delivers. Beyond "no crash, no sanitizer
 * report" it checks properties on every input:
 * - parse returns a class or a known drop reason, and no offset or length
 *   it reports reaches past the input;
 * - a frame the worker would answer is answered in place on a copy, and
 *   the reply parses back with the expected class: UDP with MACs,
 *   addresses and ports swapped, the payload unchanged and a correct
 *   checksum (also for a reply payload of another length); ARP as a reply
 *   from our MAC; echo requests as echo replies; neighbour solicitations as
 *   advertisements from the target;
 * - a UDP frame built from a parse's addresses parses back to them.
 * The first input octet is not part of the frame: its bit 0 asks for a bad
 * IPv4 header checksum to be fixed and the frame parsed again, bit 1 the
 * same for a bad ICMP checksum, so that mutations past the checksums are
 * explored too (libFuzzer cannot solve a checksum by itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t input_size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_frame: property failed: %s\n", what);
		abort();
	}
}

static const uint8_t our_mac[6] = { 0x02, 0xb0, 0x0b, 0x00, 0x00, 0x01 };

/* Room for any reply: the largest frame plus a reply payload of 64 KiB. */
static uint8_t buf[2 * 65536];
static uint8_t payload[65536];

static bool known_reason(int r)
{
	switch (r) {
#define CASE(name, value, text) case name:
	NET_PKT_ERRORS(CASE)
#undef CASE
		return true;
	default:
		return false;
	}
}

static void check_bounds(const struct net_pkt *p, size_t len, int cls)
{
	check(p->l2_len == 14 || p->l2_len == 18, "L2 length");
	check(p->vlan == (p->l2_len == 18), "VLAN flag agrees with L2 length");
	check(p->l2_len <= len, "L2 within the input");
	if (cls == NET_PKT_OTHER && p->l3_len == 0)
		return;
	check((size_t)p->l2_len + p->l3_len <= len, "L3 within the input");
	check(p->l3_hdr_len <= p->l3_len, "L3 header within L3");
	check(p->l4_off == p->l2_len + p->l3_hdr_len, "L4 after L3 header");
	check(p->l4_len == p->l3_len - p->l3_hdr_len, "L4 length is the rest");
	check(p->payload_len == 0 || p->payload_off >= p->l4_off,
	      "payload after L4 start");
	check((size_t)p->payload_off + p->payload_len <= (size_t)p->l4_off + p->l4_len,
	      "payload within L4");
}

static size_t addr_len(const struct net_pkt *p)
{
	return p->family == NET_PKT_IPV6 ? 16 : 4;
}

static void check_swapped(const struct net_pkt *q, const struct net_pkt *r)
{
	check(memcmp(r->src_mac, q->dst_mac, 6) == 0 &&
	      memcmp(r->dst_mac, q->src_mac, 6) == 0, "MACs swapped");
	check(r->vlan == q->vlan && r->vlan_tci == q->vlan_tci, "same VLAN tag");
	check(r->family == q->family &&
	      memcmp(r->src_ip, q->dst_ip, addr_len(q)) == 0 &&
	      memcmp(r->dst_ip, q->src_ip, addr_len(q)) == 0, "addresses swapped");
}

static void udp_reply(const uint8_t *data, size_t size, const struct net_pkt *q,
		      uint16_t payload_len)
{
	struct net_pkt r;

	memcpy(buf, data, size);
	/* A payload of another length: a pattern, after the query's. */
	for (size_t i = q->payload_len; i < payload_len; i++)
		buf[q->payload_off + i] = (uint8_t)i;
	int start = net_pkt_udp_reply(buf, q, payload_len);
	if (start == NET_PKT_E_SPACE) {
		check(payload_len > 65535 - net_pkt_hdr_len(q->family, q->vlan),
		      "UDP reply refused only when too long");
		return;
	}
	check(start >= 0 && start <= q->payload_off, "UDP reply start");
	size_t len = q->payload_off - (size_t)start + payload_len;
	check(net_pkt_parse(&r, buf + start, (uint16_t)len) == NET_PKT_UDP,
	      "UDP reply parses as UDP");
	check_swapped(q, &r);
	check(r.src_port == q->dst_port && r.dst_port == q->src_port, "ports swapped");
	check(r.ttl == NET_PKT_REPLY_TTL, "reply TTL");
	check(start + r.payload_off == q->payload_off && r.payload_len == payload_len,
	      "UDP reply payload in place");
	check(memcmp(buf + q->payload_off, data + q->payload_off,
		     payload_len < q->payload_len ? payload_len : q->payload_len) == 0,
	      "UDP reply payload unchanged");
	const uint8_t *u = buf + start + r.l4_off;
	uint16_t c = r.family == NET_PKT_IPV6
		? net_pkt_cksum6(r.src_ip, r.dst_ip, NET_PKT_PROTO_UDP, u, r.l4_len)
		: net_pkt_cksum4(r.src_ip, r.dst_ip, NET_PKT_PROTO_UDP, u, r.l4_len);
	check(c == 0 && (u[6] | u[7]) != 0, "UDP reply checksum");
}

static void build_again(const struct net_pkt *q)
{
	struct net_pkt_addrs a;
	struct net_pkt r;

	memset(&a, 0, sizeof(a));
	memcpy(a.src_mac, q->src_mac, 6);
	memcpy(a.dst_mac, q->dst_mac, 6);
	a.vlan = q->vlan;
	a.vlan_tci = q->vlan_tci;
	a.family = q->family;
	memcpy(a.src_ip, q->src_ip, 16);
	memcpy(a.dst_ip, q->dst_ip, 16);
	a.src_port = q->src_port;
	a.dst_port = q->dst_port;
	int n = net_pkt_build_udp(buf, sizeof(buf), &a, payload, q->payload_len);
	check(n == net_pkt_hdr_len(q->family, q->vlan) + q->payload_len, "built length");
	check(net_pkt_parse(&r, buf, (uint16_t)n) == NET_PKT_UDP, "built frame parses");
	check(memcmp(r.src_mac, q->src_mac, 6) == 0 &&
	      memcmp(r.dst_mac, q->dst_mac, 6) == 0 && r.vlan == q->vlan &&
	      r.vlan_tci == q->vlan_tci && r.family == q->family &&
	      memcmp(r.src_ip, q->src_ip, addr_len(q)) == 0 &&
	      memcmp(r.dst_ip, q->dst_ip, addr_len(q)) == 0 &&
	      r.src_port == q->src_port && r.dst_port == q->dst_port &&
	      r.payload_len == q->payload_len, "built frame keeps the addresses");
}

static void arp_reply(const uint8_t *data, size_t size, const struct net_pkt *q)
{
	struct net_pkt r;

	memcpy(buf, data, size);
	int n = net_pkt_arp_reply(buf, sizeof(buf), q, our_mac);
	if (q->arp_op != NET_PKT_ARP_REQUEST) {
		check(n == NET_PKT_E_NOT_REQUEST, "only requests are answered");
		return;
	}
	check(n == NET_PKT_ETH_MIN_LEN, "ARP reply padded");
	check(net_pkt_parse(&r, buf, (uint16_t)n) == NET_PKT_ARP, "ARP reply parses");
	check(r.arp_op == NET_PKT_ARP_REPLY && memcmp(r.src_mac, our_mac, 6) == 0 &&
	      memcmp(r.dst_mac, q->arp_sha, 6) == 0 &&
	      memcmp(r.arp_sha, our_mac, 6) == 0 &&
	      memcmp(r.arp_tha, q->arp_sha, 6) == 0 &&
	      memcmp(r.src_ip, q->dst_ip, 4) == 0 &&
	      memcmp(r.dst_ip, q->src_ip, 4) == 0, "ARP reply fields");
}

static void echo_reply(const uint8_t *data, size_t size, const struct net_pkt *q,
		       int cls)
{
	struct net_pkt r;
	uint16_t len;

	memcpy(buf, data, size);
	int start = net_pkt_echo_reply(buf, q, &len);
	if (start == NET_PKT_E_NOT_REQUEST)
		return;
	check(start >= 0 && start <= q->l4_off, "echo reply start");
	check(net_pkt_parse(&r, buf + start, len) == cls, "echo reply parses");
	check_swapped(q, &r);
	check(r.icmp_type == (cls == NET_PKT_ICMP6 ? NET_PKT_ICMP6_ECHO_REPLY
						    : NET_PKT_ICMP4_ECHO_REPLY) &&
	      r.icmp_code == 0, "echo reply type");
	check(r.l4_len == q->l4_len && start + r.l4_off == q->l4_off &&
	      memcmp(buf + q->l4_off + 4, data + q->l4_off + 4, q->l4_len - 4u) == 0,
	      "echo data unchanged");
}

static void nd_advert(const uint8_t *data, size_t size, const struct net_pkt *q)
{
	struct net_pkt r;

	memcpy(buf, data, size);
	int n = net_pkt_nd_advert(buf, sizeof(buf), q, our_mac);
	check(n == q->l2_len + 72, "NA length");
	check(net_pkt_parse(&r, buf, (uint16_t)n) == NET_PKT_ICMP6, "NA parses");
	check(r.icmp_type == NET_PKT_ICMP6_NA && r.ttl == NET_PKT_ND_HOP_LIMIT &&
	      memcmp(r.src_ip, q->nd_target, 16) == 0 &&
	      memcmp(r.src_mac, our_mac, 6) == 0 &&
	      memcmp(buf + r.l4_off + 8, q->nd_target, 16) == 0, "NA fields");
}

/*
 * Parses in, fixing what the mode octet asks for. Uses what parse left in
 * *p on failure (the offsets found so far), which pkt.h does not promise:
 * hence the bounds checks, and a fix that misses only loses coverage.
 */
static int parse_fixing(struct net_pkt *p, uint8_t *in, size_t size, uint8_t mode)
{
	int r = net_pkt_parse(p, in, (uint16_t)size);

	if (r == NET_PKT_E_IP_CSUM && (mode & 1) && p->l2_len + 20u <= size) {
		uint8_t *ip = in + p->l2_len;
		size_t hl = (ip[0] & 15) * 4u;
		if (hl >= 20 && p->l2_len + hl <= size) {
			ip[10] = ip[11] = 0;
			uint16_t c = net_pkt_cksum(ip, hl);
			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;
			r = net_pkt_parse(p, in, (uint16_t)size);
		}
	}
	if (r == NET_PKT_E_ICMP_CSUM && (mode & 2) && p->l4_len >= 8 &&
	    (size_t)p->l4_off + p->l4_len <= size) {
		uint8_t *m = in + p->l4_off;
		uint16_t c;
		m[2] = m[3] = 0;
		if (p->family == NET_PKT_IPV6)
			c = net_pkt_cksum6(p->src_ip, p->dst_ip, NET_PKT_PROTO_ICMP6,
					  m, p->l4_len);
		else
			c = net_pkt_cksum(m, p->l4_len);
		m[2] = (uint8_t)(c >> 8);
		m[3] = (uint8_t)c;
		r = net_pkt_parse(p, in, (uint16_t)size);
	}
	return r;
}

/* The properties, for a parse result r of the size octets of data. */
static void check_frame(const struct net_pkt *p, const uint8_t *data, size_t size,
			int r)
{
	if (r < 0) {
		check(known_reason(r), "drop reason from the list");
		return;
	}
	check(r < NET_PKT_NCLASSES, "class from the list");
	check(size >= NET_PKT_ETH_HDR_LEN, "a runt has no class");
	check_bounds(p, size, r);
	switch (r) {
	case NET_PKT_UDP:
		check(p->family == NET_PKT_IPV4 || p->family == NET_PKT_IPV6,
		      "UDP family");
		udp_reply(data, size, p, p->payload_len);
		/* another length, chosen by the input */
		udp_reply(data, size, p, (uint16_t)(data[size - 1] * 7u));
		build_again(p);
		break;
	case NET_PKT_ARP:
		arp_reply(data, size, p);
		break;
	case NET_PKT_ICMP4:
	case NET_PKT_ICMP6:
		echo_reply(data, size, p, r);
		if (r == NET_PKT_ICMP6 && p->icmp_type == NET_PKT_ICMP6_NS)
			nd_advert(data, size, p);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t input_size)
{
	struct net_pkt p;

	if (input_size < 1 || input_size - 1 > UINT16_MAX)
		return 0;
	/* Exactly the frame's octets on the heap, so that ASan sees any read
	 * past its end. */
	size_t size = input_size - 1;
	uint8_t *data = malloc(size ? size : 1);
	check(data != NULL, "malloc");
	memcpy(data, input + 1, size);
	int r = parse_fixing(&p, data, size, input[0]);
	check_frame(&p, data, size, r);
	free(data);
	return 0;
}
