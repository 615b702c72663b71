/*
 * tests/net/test_pkt.c: the frame layer. Frames are written by hand
 * (tests/net/frames.h: a byte writer and a byte-at-a-time reference
 * checksum, nothing shared with the library), then parsed, answered in place and
 * parsed again; checksums of everything the library writes are verified
 * with the reference. Then a malformed-input corpus, one drop reason each,
 * and every truncation of valid frames.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/pkt.h"
#include "tests/net/frames.h"

static bool is_class(int r)
{
	return r >= NET_PKT_OTHER && r < NET_PKT_NCLASSES;
}

static bool is_reason(int r)
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

static void assert_in_bounds(const struct net_pkt *p, size_t len)
{
	cr_assert_leq(p->l2_len, len);
	cr_assert_leq((size_t)p->l2_len + p->l3_len, len);
	cr_assert_leq(p->l3_hdr_len, p->l3_len);
	cr_assert_leq((size_t)p->l4_off + p->l4_len, len);
	cr_assert_leq((size_t)p->payload_off + p->payload_len, len);
}

static int parse(struct net_pkt *p, const struct frame *f)
{
	int r = net_pkt_parse(p, f->b, (uint16_t)f->n);

	cr_assert(is_class(r) || is_reason(r), "parse returned %d", r);
	if (is_class(r))
		assert_in_bounds(p, f->n);
	return r;
}

#define assert_reason(f, reason)                                               \
	do {                                                                   \
		struct net_pkt p_;                                              \
		int r_ = parse(&p_, f);                                        \
		cr_assert_eq(r_, reason, "got %d (%s), want %s", r_,          \
			     net_pkt_strerror(r_), net_pkt_strerror(reason));    \
	} while (0)

/* ------------------------------------------------------------------ */
/* Parsing valid frames. */

Test(pkt, ipv4_udp_query_fields)
{
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 4, .ttl = 57 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_arr_eq(p.dst_mac, MAC_S, 6);
	cr_assert_arr_eq(p.src_mac, MAC_C, 6);
	cr_assert_eq(p.l2_len, 14);
	cr_assert_not(p.vlan);
	cr_assert_eq(p.ethertype, 0x0800);
	cr_assert_eq(p.family, NET_PKT_IPV4);
	cr_assert_eq(p.ttl, 57);
	cr_assert_arr_eq(p.src_ip, IP4_C, 4);
	cr_assert_arr_eq(p.dst_ip, IP4_S, 4);
	cr_assert_eq(p.l3_hdr_len, 20);
	cr_assert_eq(p.l3_len, 20 + 8 + sizeof(DNS_PAYLOAD));
	cr_assert_eq(p.l4_proto, 17);
	cr_assert_eq(p.l4_off, 34);
	cr_assert_eq(p.src_port, 40000);
	cr_assert_eq(p.dst_port, 53);
	cr_assert_eq(p.payload_off, 42);
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
	cr_assert_arr_eq(f.b + p.payload_off, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));
}

Test(pkt, ipv6_udp_query_fields)
{
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 6, .ttl = 33 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.ethertype, 0x86dd);
	cr_assert_eq(p.family, NET_PKT_IPV6);
	cr_assert_eq(p.ttl, 33);
	cr_assert_arr_eq(p.src_ip, IP6_C, 16);
	cr_assert_arr_eq(p.dst_ip, IP6_S, 16);
	cr_assert_eq(p.l3_hdr_len, 40);
	cr_assert_eq(p.l4_off, 54);
	cr_assert_eq(p.src_port, 40000);
	cr_assert_eq(p.dst_port, 53);
	cr_assert_eq(p.payload_off, 62);
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
}

/* Whatever *p held before, a parse leaves every field it does not set at
 * zero: the same struct as a parse into a zeroed one, octet for octet. */
Test(pkt, parse_clears_what_it_does_not_set)
{
	struct frame f;
	struct net_pkt dirty, clean;

	for (int fam = 4; fam <= 6; fam += 2) {
		udp_frame(&f, &(struct wrap){ .family = fam, .ttl = 9 });
		memset(&dirty, 0xa5, sizeof(dirty));
		memset(&clean, 0, sizeof(clean));
		cr_assert_eq(parse(&dirty, &f), NET_PKT_UDP);
		cr_assert_eq(parse(&clean, &f), NET_PKT_UDP);
		cr_assert_eq(memcmp(&dirty, &clean, sizeof(dirty)), 0, "IPv%d", fam);
		cr_assert_eq(dirty.nd_target[15], 0);
	}
}

Test(pkt, vlan_tag_is_reported_and_skipped)
{
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 4, .vlan = true, .tci = 0xa123 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert(p.vlan);
	cr_assert_eq(p.vlan_tci, 0xa123);
	cr_assert_eq(p.l2_len, 18);
	cr_assert_eq(p.ethertype, 0x0800);
	cr_assert_eq(p.payload_off, 46);

	udp_frame(&f, &(struct wrap){ .family = 6, .vlan = true, .tci = 7 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.vlan_tci, 7);
	cr_assert_eq(p.payload_off, 18 + 40 + 8);
}

Test(pkt, ethernet_padding_is_not_payload)
{
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 4, .pad = 11 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.l3_len, 20 + 8 + sizeof(DNS_PAYLOAD));
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
	udp_frame(&f, &(struct wrap){ .family = 6, .pad = 3 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
}

Test(pkt, udp_length_shorter_than_ip_payload_decides)
{
	struct frame f;
	struct net_pkt p;
	uint8_t seg[64];
	struct wrap w = { .family = 4 };
	size_t n = udp_seg(seg, &w, 1, 53, DNS_PAYLOAD, 20);

	memset(seg + n, 0, 5);	/* inside the IP datagram, after UDP */
	ip_frame(&f, &w, 17, seg, n + 5);
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.l4_len, n + 5);
	cr_assert_eq(p.payload_len, 20);
}

Test(pkt, ipv4_options_are_skipped)
{
	static const uint8_t opts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 4, .opts = opts, .opts_len = 8 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.l3_hdr_len, 28);
	cr_assert_eq(p.l4_off, 14 + 28);
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
}

Test(pkt, ipv6_extension_headers_are_walked)
{
	/* hop-by-hop (PadN), routing with no segments left, destination
	 * options with 16 octets */
	static const uint8_t ext[] = {
		43, 0, 1, 4, 0, 0, 0, 0,
		60, 0, 4, 0, 0, 0, 0, 0,
		17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	struct frame f;
	struct net_pkt p;

	udp_frame(&f, &(struct wrap){ .family = 6, .opts = ext,
				      .opts_len = sizeof(ext), .first_nh = 0 });
	cr_assert_eq(parse(&p, &f), NET_PKT_UDP);
	cr_assert_eq(p.l3_hdr_len, 40 + sizeof(ext));
	cr_assert_eq(p.l4_proto, 17);
	cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
}

Test(pkt, tcp_is_classified_with_ports)
{
	uint8_t seg[24] = { 0x9c, 0x40, 0, 53, [12] = 6 << 4 };
	struct frame f;
	struct net_pkt p;

	ip_frame(&f, &(struct wrap){ .family = 4 }, 6, seg, sizeof(seg));
	cr_assert_eq(parse(&p, &f), NET_PKT_TCP);
	cr_assert_eq(p.src_port, 40000);
	cr_assert_eq(p.dst_port, 53);
	cr_assert_eq(p.payload_len, 0);
	ip_frame(&f, &(struct wrap){ .family = 6 }, 6, seg, sizeof(seg));
	cr_assert_eq(parse(&p, &f), NET_PKT_TCP);
	seg[12] = 7 << 4;	/* data offset beyond the segment */
	ip_frame(&f, &(struct wrap){ .family = 6 }, 6, seg, sizeof(seg));
	assert_reason(&f, NET_PKT_E_TRUNC_L4);
}

Test(pkt, the_kernel_gets_what_the_worker_does_not_read)
{
	static const uint8_t rh_left[] = { 17, 0, 0, 1, 0, 0, 0, 0 };
	uint8_t junk[16] = { 0 };
	struct frame f;
	struct net_pkt p;
	struct wrap w = { .family = 4 };

	eth(&f, &w, 0x88cc);	/* LLDP */
	put(&f, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	eth(&f, &w, 0x88a8);	/* QinQ */
	put(&f, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	eth(&f, &(struct wrap){ .vlan = true }, 0x8100);	/* second tag */
	put(&f, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	ip_frame(&f, &w, 47, junk, sizeof(junk));	/* GRE */
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	cr_assert_eq(p.l4_proto, 47);
	ip_frame(&f, &(struct wrap){ .family = 6 }, 50, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	ip_frame(&f, &(struct wrap){ .family = 6 }, 59, junk, 0);
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER);
	ip_frame(&f, &(struct wrap){ .family = 6 }, 1, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER, "ICMPv4 inside IPv6");
	ip_frame(&f, &(struct wrap){ .family = 6, .opts = rh_left,
				     .opts_len = sizeof(rh_left), .first_nh = 43 },
		 17, junk, sizeof(junk));
	cr_assert_eq(parse(&p, &f), NET_PKT_OTHER, "routing header, segments left");
	cr_assert_eq(p.l4_proto, 43);
}

/* ------------------------------------------------------------------ */
/* Building, and UDP replies in place. */

static void addrs(struct net_pkt_addrs *a, int family, bool vlan)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->src_mac, MAC_S, 6);
	memcpy(a->dst_mac, MAC_C, 6);
	a->vlan = vlan;
	a->vlan_tci = 0x2064;
	a->family = (uint8_t)family;
	memcpy(a->src_ip, family == 6 ? IP6_S : IP4_S, family == 6 ? 16 : 4);
	memcpy(a->dst_ip, family == 6 ? IP6_C : IP4_C, family == 6 ? 16 : 4);
	a->src_port = 53;
	a->dst_port = 40000;
}

/* A sent UDP frame's checksums, by the reference. */
static void assert_udp_checksums(const uint8_t *frame, const struct net_pkt *p)
{
	const uint8_t *ip = frame + p->l2_len;
	const uint8_t *udp = frame + p->l4_off;

	if (p->family == 4)
		cr_assert_eq(ref_cksum(ip, p->l3_hdr_len), 0, "IPv4 header checksum");
	cr_assert_neq(rd16(udp + 6), 0, "UDP checksum present");
	cr_assert_eq(ref_l4_cksum(p->family, p->src_ip, p->dst_ip, 17, udp,
				  rd16(udp + 4)), 0, "UDP checksum");
}

Test(pkt, built_udp_frames_parse_back)
{
	for (int family = 4; family <= 6; family += 2)
		for (int vlan = 0; vlan < 2; vlan++) {
			uint8_t buf[FRAME_MAX];
			struct net_pkt_addrs a;
			struct net_pkt p;

			addrs(&a, family, vlan);
			int n = net_pkt_build_udp(buf, sizeof(buf), &a, DNS_PAYLOAD,
						 sizeof(DNS_PAYLOAD));
			cr_assert_eq(n, net_pkt_hdr_len(a.family, vlan) + sizeof(DNS_PAYLOAD));
			cr_assert_eq(net_pkt_parse(&p, buf, (uint16_t)n), NET_PKT_UDP);
			cr_assert_arr_eq(p.src_mac, MAC_S, 6);
			cr_assert_arr_eq(p.dst_mac, MAC_C, 6);
			cr_assert_eq(p.vlan, vlan);
			cr_assert_eq(p.vlan_tci, vlan ? 0x2064 : 0);
			cr_assert_eq(p.family, family);
			cr_assert_arr_eq(p.src_ip, a.src_ip, 16);
			cr_assert_arr_eq(p.dst_ip, a.dst_ip, 16);
			cr_assert_eq(p.src_port, 53);
			cr_assert_eq(p.dst_port, 40000);
			cr_assert_eq(p.ttl, 64);
			cr_assert_eq(p.payload_off, net_pkt_hdr_len(a.family, vlan));
			cr_assert_eq(p.payload_len, sizeof(DNS_PAYLOAD));
			cr_assert_arr_eq(buf + p.payload_off, DNS_PAYLOAD,
					 sizeof(DNS_PAYLOAD));
			assert_udp_checksums(buf, &p);
			if (family == 4)
				cr_assert_eq(rd16(buf + p.l2_len + 6), 0,
					     "DF clear, not a fragment");
		}
}

Test(pkt, header_pair_writes_what_build_udp_writes)
{
	uint8_t a1[FRAME_MAX], a2[FRAME_MAX];
	struct net_pkt_addrs a;

	addrs(&a, 6, true);
	int n1 = net_pkt_build_udp(a1, sizeof(a1), &a, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));
	uint16_t hl = net_pkt_hdr_len(NET_PKT_IPV6, true);
	cr_assert_eq(hl, 14 + 4 + 40 + 8);
	memcpy(a2 + hl, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));
	int n2 = net_pkt_build_udp_hdr(a2, &a, sizeof(DNS_PAYLOAD));
	cr_assert_eq(n1, n2);
	cr_assert_arr_eq(a1, a2, (size_t)n1);
}

Test(pkt, header_with_the_callers_sum_writes_what_build_udp_writes)
{
	static uint8_t payload[301];

	srand(1071);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rand();
	for (int family = 4; family <= 6; family += 2)
		for (size_t len = 0; len <= sizeof(payload); len += 7) {
			uint8_t a1[FRAME_MAX], a2[FRAME_MAX];
			struct net_pkt_addrs a;

			addrs(&a, family, len % 2);
			uint16_t hl = net_pkt_hdr_len(a.family, a.vlan);
			memcpy(a1 + hl, payload, len);
			memcpy(a2 + hl, payload, len);
			int n1 = net_pkt_build_udp_hdr(a1, &a, (uint16_t)len);
			/* the sum in two pieces split at an even offset, as a
			 * sender with a template and a new ID adds them */
			size_t cut = len / 4 * 2;
			uint64_t s = net_pkt_sum(payload, cut) + net_pkt_sum(payload + cut, len - cut);
			int n2 = net_pkt_build_udp_hdr_sum(a2, &a, (uint16_t)len, s);
			cr_assert_eq(n1, n2);
			cr_assert_arr_eq(a1, a2, (size_t)n1, "family %d, %zu octets", family, len);
		}
	/* the generator's way: a template with ID 0 summed once, and the
	 * ID's two octets */
	{
		uint8_t t[64], q1[FRAME_MAX], q2[FRAME_MAX], idw[2] = { 0xbe, 0xef };
		struct net_pkt_addrs a4;

		memcpy(t, payload, sizeof(t));
		t[0] = t[1] = 0;
		addrs(&a4, 4, false);
		memcpy(q1 + 42, t, sizeof(t));
		memcpy(q1 + 42, idw, 2);
		net_pkt_build_udp_hdr(q1, &a4, sizeof(t));
		memcpy(q2 + 42, q1 + 42, sizeof(t));
		net_pkt_build_udp_hdr_sum(q2, &a4, sizeof(t),
					  net_pkt_sum(t, sizeof(t)) + net_pkt_sum(idw, 2));
		cr_assert_arr_eq(q1, q2, 42 + sizeof(t));
	}
	/* an all-ones payload: the largest sums */
	uint8_t a1[FRAME_MAX], a2[FRAME_MAX];
	struct net_pkt_addrs a;

	addrs(&a, 4, false);
	memset(a1 + 42, 0xff, 1400);
	memset(a2 + 42, 0xff, 1400);
	net_pkt_build_udp_hdr(a1, &a, 1400);
	net_pkt_build_udp_hdr_sum(a2, &a, 1400, net_pkt_sum(a1 + 42, 1400));
	cr_assert_arr_eq(a1, a2, 42);
}

Test(pkt, build_udp_refuses_what_does_not_fit)
{
	uint8_t buf[128];
	struct net_pkt_addrs a;

	addrs(&a, 4, false);
	cr_assert_eq(net_pkt_build_udp(buf, 42 + 28, &a, DNS_PAYLOAD, 29), NET_PKT_E_SPACE);
	cr_assert_eq(net_pkt_build_udp(buf, 10, &a, DNS_PAYLOAD, 0), NET_PKT_E_SPACE);
	cr_assert_eq(net_pkt_build_udp(buf, 42 + 29, &a, DNS_PAYLOAD, 29), 42 + 29);
	cr_assert_eq(net_pkt_build_udp_hdr(buf, &a, 65535 - 42 + 1), NET_PKT_E_SPACE);
}

Test(pkt, zero_udp_checksum_is_sent_as_ffff)
{
	for (int family = 4; family <= 6; family += 2) {
		uint8_t buf[FRAME_MAX], payload[sizeof(DNS_PAYLOAD) + 1];
		struct net_pkt_addrs a;
		struct net_pkt p;

		/* The checksum c of a payload with a zero word, and the same
		 * payload with c in that word sums to 0xffff: computes to 0. */
		addrs(&a, family, false);
		memcpy(payload, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));
		payload[sizeof(DNS_PAYLOAD)] = 0;
		payload[0] = payload[1] = 0;
		int n = net_pkt_build_udp(buf, sizeof(buf), &a, payload, sizeof(payload));
		cr_assert_eq(net_pkt_parse(&p, buf, (uint16_t)n), NET_PKT_UDP);
		uint16_t c = rd16(buf + p.l4_off + 6);
		wr16(payload, c);
		n = net_pkt_build_udp(buf, sizeof(buf), &a, payload, sizeof(payload));
		cr_assert_eq(net_pkt_parse(&p, buf, (uint16_t)n), NET_PKT_UDP);
		cr_assert_eq(rd16(buf + p.l4_off + 6), 0xffff);
		cr_assert_eq(ref_l4_cksum(family, p.src_ip, p.dst_ip, 17,
					  buf + p.l4_off, 8 + sizeof(payload)), 0);
	}
}

/* The reply to the query in f, answered with ans in place. */
static void assert_udp_reply(struct frame *f, size_t query_hdr_extra)
{
	static const uint8_t ans[40] = "an answer longer than the question....";
	struct net_pkt q, r;

	cr_assert_eq(parse(&q, f), NET_PKT_UDP);
	memcpy(f->b + q.payload_off, ans, sizeof(ans));
	int start = net_pkt_udp_reply(f->b, &q, sizeof(ans));
	cr_assert_eq(start, (int)query_hdr_extra);
	size_t len = q.payload_off - (size_t)start + sizeof(ans);
	cr_assert_eq(net_pkt_parse(&r, f->b + start, (uint16_t)len), NET_PKT_UDP);
	cr_assert_arr_eq(r.src_mac, q.dst_mac, 6);
	cr_assert_arr_eq(r.dst_mac, q.src_mac, 6);
	cr_assert_eq(r.vlan, q.vlan);
	cr_assert_eq(r.vlan_tci, q.vlan_tci);
	cr_assert_eq(r.family, q.family);
	cr_assert_arr_eq(r.src_ip, q.dst_ip, 16);
	cr_assert_arr_eq(r.dst_ip, q.src_ip, 16);
	cr_assert_eq(r.src_port, q.dst_port);
	cr_assert_eq(r.dst_port, q.src_port);
	cr_assert_eq(r.l3_hdr_len, q.family == 6 ? 40 : 20, "no options");
	cr_assert_eq(r.ttl, 64);
	cr_assert_eq(r.payload_len, sizeof(ans));
	cr_assert_eq(start + r.payload_off, q.payload_off, "payload not moved");
	cr_assert_arr_eq(f->b + start + r.payload_off, ans, sizeof(ans));
	assert_udp_checksums(f->b + start, &r);
}

Test(pkt, udp_reply_in_place_for_each_shape)
{
	static const uint8_t opts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };
	static const uint8_t dstopts[16] = { 17, 1, 1, 12 };
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	assert_udp_reply(&f, 0);
	udp_frame(&f, &(struct wrap){ .family = 6, .vlan = true, .tci = 5, .pad = 4 });
	assert_udp_reply(&f, 0);
	udp_frame(&f, &(struct wrap){ .family = 4, .vlan = true,
				      .opts = opts, .opts_len = sizeof(opts) });
	assert_udp_reply(&f, sizeof(opts));
	udp_frame(&f, &(struct wrap){ .family = 6, .opts = dstopts,
				      .opts_len = sizeof(dstopts), .first_nh = 60 });
	assert_udp_reply(&f, sizeof(dstopts));
}

Test(pkt, udp_reply_needs_a_udp_parse)
{
	uint8_t seg[20] = { [12] = 5 << 4 };
	struct frame f;
	struct net_pkt p;

	ip_frame(&f, &(struct wrap){ .family = 4 }, 6, seg, sizeof(seg));
	cr_assert_eq(parse(&p, &f), NET_PKT_TCP);
	cr_assert_eq(net_pkt_udp_reply(f.b, &p, 0), NET_PKT_E_NOT_REQUEST);
}

/* ------------------------------------------------------------------ */
/* Checksums. */

Test(pkt, checksum_matches_the_reference_at_every_length_and_alignment)
{
	static uint8_t data[300];
	uint8_t src4[4] = { 10, 1, 2, 3 }, dst4[4] = { 255, 254, 0, 1 };

	srand(53);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rand();
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n + off <= sizeof(data); n++) {
			cr_assert_eq(net_pkt_cksum(data + off, n),
				     ref_cksum(data + off, n), "off %zu len %zu", off, n);
			uint16_t c4 = net_pkt_cksum4(src4, dst4, 17, data + off, (uint16_t)n);
			uint16_t c6 = net_pkt_cksum6(IP6_C, IP6_S, 58, data + off, (uint32_t)n);
			cr_assert_eq(c4, ref_l4_cksum(4, src4, dst4, 17, data + off, n));
			cr_assert_eq(c6, ref_l4_cksum(6, IP6_C, IP6_S, 58, data + off, n));
		}
	memset(data, 0xff, sizeof(data));
	cr_assert_eq(net_pkt_cksum(data, 64), 0, "all ones: -0");
	/* the largest UDP datagram's worth of ones and of a pattern */
	static uint8_t big[65535];
	memset(big, 0xff, sizeof(big));
	cr_assert_eq(net_pkt_cksum(big, sizeof(big) - 1), 0, "65534 octets of ones: -0");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + (i >> 8));
	cr_assert_eq(net_pkt_cksum(big, sizeof(big)), ref_cksum(big, sizeof(big)));
	memset(data, 0, sizeof(data));
	cr_assert_eq(net_pkt_cksum(data, 64), 0xffff, "all zero");
}

/* ------------------------------------------------------------------ */
/* ARP, ICMP echo, neighbour discovery. */

Test(pkt, arp_request_becomes_reply)
{
	for (int vlan = 0; vlan < 2; vlan++) {
		static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		struct frame f;
		struct net_pkt p, r;

		arp_frame(&f, &(struct wrap){ .vlan = vlan, .tci = 9, .dst_mac = bcast,
					      .pad = 18 }, 1);
		cr_assert_eq(parse(&p, &f), NET_PKT_ARP);
		cr_assert_eq(p.arp_op, NET_PKT_ARP_REQUEST);
		cr_assert_arr_eq(p.arp_sha, MAC_C, 6);
		cr_assert_arr_eq(p.src_ip, IP4_C, 4);
		cr_assert_arr_eq(p.dst_ip, IP4_S, 4);
		int n = net_pkt_arp_reply(f.b, sizeof(f.b), &p, MAC_S);
		cr_assert_eq(n, 60);
		cr_assert_eq(net_pkt_parse(&r, f.b, (uint16_t)n), NET_PKT_ARP);
		cr_assert_arr_eq(r.dst_mac, MAC_C, 6);
		cr_assert_arr_eq(r.src_mac, MAC_S, 6);
		cr_assert_eq(r.vlan, vlan);
		cr_assert_eq(r.vlan_tci, vlan ? 9 : 0);
		cr_assert_eq(r.arp_op, NET_PKT_ARP_REPLY);
		cr_assert_arr_eq(r.arp_sha, MAC_S, 6);
		cr_assert_arr_eq(r.src_ip, IP4_S, 4);
		cr_assert_arr_eq(r.arp_tha, MAC_C, 6);
		cr_assert_arr_eq(r.dst_ip, IP4_C, 4);
		for (int i = r.l4_off; i < 60; i++)
			cr_assert_eq(f.b[i], 0, "padding zeroed");
		cr_assert_eq(net_pkt_arp_reply(f.b, sizeof(f.b), &r, MAC_S),
			     NET_PKT_E_NOT_REQUEST, "replies are not answered");
	}
}

Test(pkt, arp_reply_stays_short_without_room)
{
	struct frame f;
	struct net_pkt p;

	arp_frame(&f, &(struct wrap){ 0 }, 1);
	cr_assert_eq(f.n, 42);
	cr_assert_eq(parse(&p, &f), NET_PKT_ARP);
	cr_assert_eq(net_pkt_arp_reply(f.b, f.n, &p, MAC_S), 42);
}

static void assert_echo_reply(struct frame *f, int family, size_t extra)
{
	struct net_pkt q, r;
	uint16_t len;
	uint8_t data[FRAME_MAX];

	cr_assert_eq(parse(&q, f), family == 6 ? NET_PKT_ICMP6 : NET_PKT_ICMP4);
	memcpy(data, f->b + q.l4_off + 4, q.l4_len - 4u);
	int start = net_pkt_echo_reply(f->b, &q, &len);
	cr_assert_eq(start, (int)extra);
	cr_assert_eq(len, q.l4_off - extra + q.l4_len, "padding left behind");
	cr_assert_eq(net_pkt_parse(&r, f->b + start, len),
		     family == 6 ? NET_PKT_ICMP6 : NET_PKT_ICMP4);
	cr_assert_eq(r.icmp_type, family == 6 ? 129 : 0);
	cr_assert_eq(r.icmp_code, 0);
	cr_assert_arr_eq(r.src_mac, q.dst_mac, 6);
	cr_assert_arr_eq(r.dst_mac, q.src_mac, 6);
	cr_assert_arr_eq(r.src_ip, q.dst_ip, 16);
	cr_assert_arr_eq(r.dst_ip, q.src_ip, 16);
	cr_assert_eq(r.ttl, 64);
	cr_assert_eq(r.l4_len, q.l4_len);
	cr_assert_arr_eq(f->b + start + r.l4_off + 4, data, q.l4_len - 4u,
			 "identifier, sequence and data echoed");
	const uint8_t *m = f->b + start + r.l4_off;
	if (family == 6)
		cr_assert_eq(ref_l4_cksum(6, r.src_ip, r.dst_ip, 58, m, r.l4_len), 0);
	else {
		cr_assert_eq(ref_cksum(m, r.l4_len), 0, "ICMP checksum");
		cr_assert_eq(ref_cksum(f->b + start + r.l2_len, 20), 0, "IP checksum");
	}
	cr_assert_eq(net_pkt_echo_reply(f->b + start, &r, &len), NET_PKT_E_NOT_REQUEST);
}

Test(pkt, icmp4_echo_request_becomes_reply)
{
	static const uint8_t opts[4] = { 1, 1, 1, 0 };
	struct frame f;

	echo_frame(&f, &(struct wrap){ .family = 4 }, 56);
	assert_echo_reply(&f, 4, 0);
	echo_frame(&f, &(struct wrap){ .family = 4, .vlan = true, .pad = 20 }, 3);
	assert_echo_reply(&f, 4, 0);
	echo_frame(&f, &(struct wrap){ .family = 4, .opts = opts, .opts_len = 4 }, 17);
	assert_echo_reply(&f, 4, 4);
}

Test(pkt, icmp6_echo_request_becomes_reply)
{
	static const uint8_t hbh[8] = { 58, 0, 1, 4 };
	struct frame f;

	echo_frame(&f, &(struct wrap){ .family = 6 }, 56);
	assert_echo_reply(&f, 6, 0);
	echo_frame(&f, &(struct wrap){ .family = 6, .vlan = true, .opts = hbh,
				       .opts_len = 8, .first_nh = 0 }, 9);
	assert_echo_reply(&f, 6, 8);
}

Test(pkt, icmp_with_bad_checksum_is_dropped)
{
	struct frame f;
	struct net_pkt p;

	echo_frame(&f, &(struct wrap){ .family = 4 }, 8);
	cr_assert_eq(parse(&p, &f), NET_PKT_ICMP4);
	f.b[f.n - 1] ^= 1;
	assert_reason(&f, NET_PKT_E_ICMP_CSUM);
	echo_frame(&f, &(struct wrap){ .family = 6 }, 8);
	f.b[f.n - 1] ^= 1;
	assert_reason(&f, NET_PKT_E_ICMP_CSUM);
}

static void assert_advert(struct frame *f, bool dad)
{
	struct net_pkt q, r;

	cr_assert_eq(parse(&q, f), NET_PKT_ICMP6);
	cr_assert_eq(q.icmp_type, 135);
	cr_assert_arr_eq(q.nd_target, IP6_S, 16);
	cr_assert_eq(net_pkt_nd_advert(f->b, q.l2_len + 71u, &q, MAC_S), NET_PKT_E_SPACE);
	int n = net_pkt_nd_advert(f->b, sizeof(f->b), &q, MAC_S);
	cr_assert_eq(n, q.l2_len + 40 + 32);
	cr_assert_eq(net_pkt_parse(&r, f->b, (uint16_t)n), NET_PKT_ICMP6);
	cr_assert_eq(r.icmp_type, 136);
	cr_assert_eq(r.icmp_code, 0);
	cr_assert_eq(r.ttl, 255);
	cr_assert_eq(r.vlan, q.vlan);
	cr_assert_eq(r.vlan_tci, q.vlan_tci);
	cr_assert_arr_eq(r.src_mac, MAC_S, 6);
	cr_assert_arr_eq(r.src_ip, IP6_S, 16);
	if (dad) {
		static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		cr_assert_arr_eq(r.dst_mac, all_nodes_mac, 6);
		cr_assert_arr_eq(r.dst_ip, IP6_ALL_NODES, 16);
	} else {
		cr_assert_arr_eq(r.dst_mac, MAC_C, 6);
		cr_assert_arr_eq(r.dst_ip, IP6_C, 16);
	}
	const uint8_t *m = f->b + r.l4_off;
	cr_assert_eq(r.l4_len, 32);
	cr_assert_eq(m[4], dad ? 0x20 : 0x60, "S unless DAD, O, not R");
	cr_assert_eq(m[5] | m[6] | m[7], 0);
	cr_assert_arr_eq(m + 8, IP6_S, 16);
	cr_assert_eq(m[24], 2, "target link-layer address option");
	cr_assert_eq(m[25], 1);
	cr_assert_arr_eq(m + 26, MAC_S, 6);
	cr_assert_eq(ref_l4_cksum(6, r.src_ip, r.dst_ip, 58, m, 32), 0);
	cr_assert_eq(net_pkt_nd_advert(f->b, sizeof(f->b), &r, MAC_S),
		     NET_PKT_E_NOT_REQUEST);
}

Test(pkt, neighbour_solicitation_becomes_advert)
{
	struct frame f;

	ns_frame(&f, &(struct wrap){ 0 }, false);
	assert_advert(&f, false);
	ns_frame(&f, &(struct wrap){ .vlan = true, .tci = 3 }, false);
	assert_advert(&f, false);
}

Test(pkt, duplicate_address_detection_is_answered_to_all_nodes)
{
	struct frame f;

	ns_frame(&f, &(struct wrap){ 0 }, true);
	assert_advert(&f, true);
}

Test(pkt, neighbour_solicitation_must_pass_rfc4861_checks)
{
	struct frame f;
	struct wrap w = { .ttl = 254 };
	uint8_t m[64], body[32];

	ns_frame(&f, &w, false);
	assert_reason(&f, NET_PKT_E_ND);

	/* code 1 */
	w = (struct wrap){ .family = 6, .ttl = 255, .dst = IP6_SNM_S };
	memcpy(body, IP6_S, 16);
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 1, 0, body, 16));
	assert_reason(&f, NET_PKT_E_ND);
	/* 20 octets */
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 12));
	assert_reason(&f, NET_PKT_E_ND);
	/* multicast target */
	memcpy(body, IP6_ALL_NODES, 16);
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 16));
	assert_reason(&f, NET_PKT_E_ND);
	/* an option of length 0; one running past the message */
	memcpy(body, IP6_S, 16);
	memset(body + 16, 0, 8);
	body[16] = 1;
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 24));
	assert_reason(&f, NET_PKT_E_ND);
	body[17] = 2;
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 24));
	assert_reason(&f, NET_PKT_E_ND);
	body[17] = 1;
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 24));
	cr_assert_eq(parse(&(struct net_pkt){ 0 }, &f), NET_PKT_ICMP6, "sound");
	/* from :: with a source link-layer option; from :: to unicast */
	w.src = IP6_ANY;
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 24));
	assert_reason(&f, NET_PKT_E_ND);
	w.dst = IP6_S;
	ip_frame(&f, &w, 58, m, icmp_msg(m, &w, 135, 0, 0, body, 16));
	assert_reason(&f, NET_PKT_E_ND);
}

/* ------------------------------------------------------------------ */
/* Malformed frames, one drop reason each. */

static void cut(struct frame *f, size_t n)
{
	cr_assert_leq(n, f->n);
	f->n = n;
}

Test(pkt_malformed, runt_ethernet)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	cut(&f, 13);
	assert_reason(&f, NET_PKT_E_RUNT);
	cut(&f, 0);
	assert_reason(&f, NET_PKT_E_RUNT);
}

Test(pkt_malformed, truncated_vlan_tag)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4, .vlan = true });
	cut(&f, 17);
	assert_reason(&f, NET_PKT_E_TRUNC_VLAN);
}

Test(pkt_malformed, truncated_ipv4_header)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	cut(&f, 14 + 19);
	assert_reason(&f, NET_PKT_E_TRUNC_L3);
	udp_frame(&f, &(struct wrap){ .family = 6 });
	cut(&f, 14 + 39);
	assert_reason(&f, NET_PKT_E_TRUNC_L3);
}

Test(pkt_malformed, ip_version_other_than_the_ethertype)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	wr16(f.b + 12, 0x86dd);
	assert_reason(&f, NET_PKT_E_IP_VERSION);
	udp_frame(&f, &(struct wrap){ .family = 6 });
	wr16(f.b + 12, 0x0800);
	assert_reason(&f, NET_PKT_E_IP_VERSION);
	f.b[14] = 0x45;
	wr16(f.b + 12, 0x86dd);
	assert_reason(&f, NET_PKT_E_IP_VERSION);
}

/* Sets IPv4 header octets and fixes the checksum. */
static void ip4_set(struct frame *f, size_t at, uint8_t v)
{
	uint8_t *ip = f->b + 14;

	ip[at] = v;
	wr16(ip + 10, 0);
	size_t hl = (ip[0] & 15) * 4u;
	if (hl < 20 || hl > f->n - 14)
		hl = 20;
	wr16(ip + 10, ref_cksum(ip, hl));
}

Test(pkt_malformed, ipv4_header_length_below_five)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	ip4_set(&f, 0, 0x44);
	assert_reason(&f, NET_PKT_E_IP_HDRLEN);
}

Test(pkt_malformed, ipv4_header_length_beyond_the_frame)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	cut(&f, 14 + 40);
	f.b[14] = 0x4f;	/* 60 octets */
	assert_reason(&f, NET_PKT_E_IP_HDRLEN);
}

Test(pkt_malformed, bad_ipv4_checksum)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4 });
	f.b[14 + 10] ^= 0x10;
	assert_reason(&f, NET_PKT_E_IP_CSUM);
	udp_frame(&f, &(struct wrap){ .family = 4 });
	f.b[14 + 8] = 1;	/* TTL changed, checksum not */
	assert_reason(&f, NET_PKT_E_IP_CSUM);
}

Test(pkt_malformed, ip_total_length_beyond_the_frame)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4, .len_delta = 1 });
	assert_reason(&f, NET_PKT_E_IP_LEN);
}

Test(pkt_malformed, ip_total_length_below_the_header)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4, .len_delta = -(8 + 29 + 1) });
	assert_reason(&f, NET_PKT_E_IP_LEN);
}

Test(pkt_malformed, ipv4_fragments)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 4, .frag = 0x2000 });
	assert_reason(&f, NET_PKT_E_FRAGMENT);
	udp_frame(&f, &(struct wrap){ .family = 4, .frag = 0x0001 });
	assert_reason(&f, NET_PKT_E_FRAGMENT);
	udp_frame(&f, &(struct wrap){ .family = 4, .frag = 0x4000 });
	cr_assert_eq(parse(&(struct net_pkt){ 0 }, &f), NET_PKT_UDP, "DF is fine");
}

Test(pkt_malformed, ipv6_payload_length_beyond_the_frame)
{
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 6, .len_delta = 1 });
	assert_reason(&f, NET_PKT_E_IP_LEN);
}

Test(pkt_malformed, ipv6_fragment_header)
{
	static const uint8_t frag[8] = { 17, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t hbh_frag[16] = { 44, 0, 1, 4, 0, 0, 0, 0,
					      17, 0, 0, 1, 0, 0, 0, 1 };
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 6, .opts = frag, .opts_len = 8,
				      .first_nh = 44 });
	assert_reason(&f, NET_PKT_E_FRAGMENT);
	udp_frame(&f, &(struct wrap){ .family = 6, .opts = hbh_frag, .opts_len = 16,
				      .first_nh = 0 });
	assert_reason(&f, NET_PKT_E_FRAGMENT);
}

Test(pkt_malformed, ipv6_extension_chain_truncated)
{
	/* destination options claiming 16 octets where the payload has 12 */
	static const uint8_t ext[4] = { 17, 1, 1, 0 };
	static const uint8_t dst8[8] = { 17, 0, 1, 4 };
	static const uint8_t after[8];
	struct frame f;

	ip_frame(&f, &(struct wrap){ .family = 6, .opts = ext, .opts_len = 4,
				     .first_nh = 60 }, 17, after, 8);
	assert_reason(&f, NET_PKT_E_IPV6_EXT);
	/* fewer than 8 octets left for the header itself */
	ip_frame(&f, &(struct wrap){ .family = 6, .opts = dst8, .opts_len = 4,
				     .first_nh = 60 }, 17, dst8, 0);
	assert_reason(&f, NET_PKT_E_IPV6_EXT);
}

Test(pkt_malformed, ipv6_extension_chain_too_long)
{
	uint8_t ext[8 * (NET_PKT_IPV6_EXT_MAX + 1)];
	struct frame f;

	for (int i = 0; i <= NET_PKT_IPV6_EXT_MAX; i++) {
		uint8_t *h = ext + 8 * i;
		memset(h, 0, 8);
		h[0] = i == NET_PKT_IPV6_EXT_MAX ? 17 : 60;
		h[2] = 1;
		h[3] = 4;
	}
	udp_frame(&f, &(struct wrap){ .family = 6, .opts = ext,
				      .opts_len = sizeof(ext), .first_nh = 60 });
	assert_reason(&f, NET_PKT_E_IPV6_EXT);
	/* one fewer is fine */
	udp_frame(&f, &(struct wrap){ .family = 6, .opts = ext + 8,
				      .opts_len = sizeof(ext) - 8, .first_nh = 60 });
	cr_assert_eq(parse(&(struct net_pkt){ 0 }, &f), NET_PKT_UDP);
}

Test(pkt_malformed, ipv6_hop_by_hop_not_first)
{
	static const uint8_t ext[16] = { 0, 0, 1, 4, 0, 0, 0, 0,
					 17, 0, 1, 4, 0, 0, 0, 0 };
	struct frame f;

	udp_frame(&f, &(struct wrap){ .family = 6, .opts = ext, .opts_len = 16,
				      .first_nh = 60 });
	assert_reason(&f, NET_PKT_E_IPV6_EXT);
}

Test(pkt_malformed, udp_length_below_eight)
{
	uint8_t seg[64];
	struct frame f;
	struct wrap w = { .family = 4 };
	size_t n = udp_seg(seg, &w, 1, 53, DNS_PAYLOAD, 10);

	wr16(seg + 4, 7);
	ip_frame(&f, &w, 17, seg, n);
	assert_reason(&f, NET_PKT_E_UDP_LEN);
}

Test(pkt_malformed, udp_length_beyond_the_ip_payload)
{
	uint8_t seg[64];
	struct frame f;
	struct wrap w = { .family = 6, .pad = 8 };
	size_t n = udp_seg(seg, &w, 1, 53, DNS_PAYLOAD, 10);

	/* the frame's padding would hold it; the IP length says no */
	wr16(seg + 4, (uint16_t)(n + 1));
	ip_frame(&f, &w, 17, seg, n);
	assert_reason(&f, NET_PKT_E_UDP_LEN);
	w.family = 4;
	n = udp_seg(seg, &w, 1, 53, DNS_PAYLOAD, 10);
	wr16(seg + 4, (uint16_t)(n + 1));
	ip_frame(&f, &w, 17, seg, n);
	assert_reason(&f, NET_PKT_E_UDP_LEN);
}

Test(pkt_malformed, truncated_udp_header)
{
	uint8_t seg[8] = { 0 };
	struct frame f;

	ip_frame(&f, &(struct wrap){ .family = 4, .pad = 20 }, 17, seg, 7);
	assert_reason(&f, NET_PKT_E_TRUNC_L4);
	ip_frame(&f, &(struct wrap){ .family = 6 }, 17, seg, 0);
	assert_reason(&f, NET_PKT_E_TRUNC_L4);
	ip_frame(&f, &(struct wrap){ .family = 4 }, 1, seg, 7);
	assert_reason(&f, NET_PKT_E_TRUNC_L4);
	ip_frame(&f, &(struct wrap){ .family = 4 }, 6, seg, 8);
	assert_reason(&f, NET_PKT_E_TRUNC_L4);
}

Test(pkt_malformed, arp_for_other_sizes_or_types)
{
	static const struct { size_t at; uint8_t v; } bad[] = {
		{ 1, 6 },	/* htype 6 */
		{ 2, 0x86 },	/* ptype 0x86dd-ish */
		{ 4, 8 },	/* hlen 8 */
		{ 5, 16 },	/* plen 16 */
	};
	struct frame f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arp_frame(&f, &(struct wrap){ 0 }, 1);
		f.b[14 + bad[i].at] = bad[i].v;
		assert_reason(&f, NET_PKT_E_ARP);
	}
	arp_frame(&f, &(struct wrap){ .vlan = true }, 1);
	cut(&f, f.n - 1);
	assert_reason(&f, NET_PKT_E_TRUNC_L3);
}

/* ------------------------------------------------------------------ */
/* Every truncation of valid frames. */

Test(pkt, every_prefix_parses_to_a_class_or_a_reason)
{
	static const uint8_t opts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };
	static const uint8_t ext[16] = { 60, 0, 1, 4, 0, 0, 0, 0,
					 17, 0, 1, 4, 0, 0, 0, 0 };
	struct frame fs[8];
	int want[8], n = 0;

	udp_frame(&fs[n], &(struct wrap){ .family = 4, .pad = 6 });
	want[n++] = NET_PKT_UDP;
	udp_frame(&fs[n], &(struct wrap){ .family = 4, .vlan = true,
					  .opts = opts, .opts_len = 8 });
	want[n++] = NET_PKT_UDP;
	udp_frame(&fs[n], &(struct wrap){ .family = 6, .opts = ext,
					  .opts_len = 16, .first_nh = 0 });
	want[n++] = NET_PKT_UDP;
	arp_frame(&fs[n], &(struct wrap){ .pad = 18 }, 1);
	want[n++] = NET_PKT_ARP;
	echo_frame(&fs[n], &(struct wrap){ .family = 4 }, 20);
	want[n++] = NET_PKT_ICMP4;
	echo_frame(&fs[n], &(struct wrap){ .family = 6, .vlan = true }, 20);
	want[n++] = NET_PKT_ICMP6;
	ns_frame(&fs[n], &(struct wrap){ 0 }, false);
	want[n++] = NET_PKT_ICMP6;
	ns_frame(&fs[n], &(struct wrap){ 0 }, true);
	want[n++] = NET_PKT_ICMP6;

	for (int i = 0; i < n; i++) {
		struct net_pkt p;

		cr_assert_eq(parse(&p, &fs[i]), want[i], "frame %d whole", i);
		for (size_t len = 0; len <= fs[i].n; len++) {
			/* exactly len octets of heap, so that ASan sees any
			 * read past the end */
			uint8_t *copy = malloc(len ? len : 1);
			memcpy(copy, fs[i].b, len);
			int r = net_pkt_parse(&p, copy, (uint16_t)len);
			cr_assert(is_class(r) || is_reason(r), "frame %d len %zu: %d",
				  i, len, r);
			if (is_class(r))
				assert_in_bounds(&p, len);
			free(copy);
		}
	}
}

Test(pkt, every_code_has_its_own_text)
{
	static const int codes[] = {
#define CODE(name, value, text) name,
		NET_PKT_CLASSES(CODE) NET_PKT_ERRORS(CODE)
#undef CODE
	};
	size_t n = sizeof(codes) / sizeof(codes[0]);

	for (size_t i = 0; i < n; i++) {
		cr_assert_str_neq(net_pkt_strerror(codes[i]), "unknown code");
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(net_pkt_strerror(codes[i]),
					  net_pkt_strerror(codes[j]));
	}
	cr_assert_str_eq(net_pkt_strerror(-1), "unknown code");
}
