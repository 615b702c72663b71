/*
 * tests/dataplane/test_dispatch.c: the worker's frame dispatch without EAL
 * (dataplane/dispatch.h): which frames are a client's query, which get an
 * ARP, neighbour or echo reply from the worker, which go to the kernel and
 * which are dropped, on frames written by hand (tests/net/frames.h) for a
 * port with one IPv4 and one IPv6 service address; and the sources no
 * client has.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dataplane/dispatch.h"
#include "dataplane/dp.h"
#include "tests/net/frames.h"

static struct dp_port pt;

static void setup(void)
{
	memset(&pt, 0, sizeof(pt));
	memcpy(pt.mac.addr_bytes, MAC_S, 6);
	pt.n_v4 = 1;
	memcpy(&pt.v4[0], IP4_S, 4);
	pt.n_v6 = 1;
	memcpy(pt.v6[0], IP6_S, 16);
	pt.n_bcast = 1;
	memcpy(&pt.v4_bcast[0], (const uint8_t[4]){ 198, 18, 0, 255 }, 4);
}

TestSuite(dispatch, .init = setup);

static enum dp_action act(const struct frame *f, struct net_pkt *p, int *cls)
{
	return dp_dispatch(&pt, f->b, (uint16_t)f->n, p, cls);
}

Test(dispatch, queries_to_a_service_address_port_53_are_dns)
{
	struct frame f;
	struct net_pkt p;
	int cls;
	struct wrap w4 = { .family = 4 }, w6 = { .family = 6 };

	udp_frame(&f, &w4);
	cr_assert_eq(act(&f, &p, &cls), DP_DNS);
	cr_assert_eq(cls, NET_PKT_UDP);
	cr_assert_eq(p.dst_port, 53);
	udp_frame(&f, &w6);
	cr_assert_eq(act(&f, &p, &cls), DP_DNS, "IPv6 too");
	static const uint8_t other4[4] = { 198, 18, 0, 9 };
	struct wrap o = { .family = 4, .dst = other4 };
	udp_frame(&f, &o);
	cr_assert_eq(act(&f, &p, &cls), DP_KERNEL, "another address: the kernel's");
	uint8_t seg[FRAME_MAX];
	size_t n = udp_seg(seg, &w4, 40000, 5353, DNS_PAYLOAD, sizeof(DNS_PAYLOAD));
	ip_frame(&f, &w4, 17, seg, n);
	cr_assert_eq(act(&f, &p, &cls), DP_KERNEL, "another port: the kernel's");
}

Test(dispatch, link_level_requests_for_our_addresses_are_the_workers)
{
	struct frame f;
	struct net_pkt p;
	int cls;
	struct wrap w4 = { .family = 4 }, w6 = { .family = 6 };

	arp_frame(&f, &w4, 1);
	cr_assert_eq(act(&f, &p, &cls), DP_ARP);
	arp_frame(&f, &w4, 2);
	cr_assert_eq(act(&f, &p, &cls), DP_KERNEL, "an ARP reply teaches the kernel");
	echo_frame(&f, &w4, 32);
	cr_assert_eq(act(&f, &p, &cls), DP_ECHO);
	echo_frame(&f, &w6, 32);
	cr_assert_eq(act(&f, &p, &cls), DP_ECHO);
	struct wrap ns = { 0 };
	ns_frame(&f, &ns, false);
	cr_assert_eq(act(&f, &p, &cls), DP_ND);
	static const uint8_t other6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };
	struct wrap o = { .family = 6, .dst = other6 };
	echo_frame(&f, &o, 32);
	cr_assert_eq(act(&f, &p, &cls), DP_KERNEL, "an echo for someone else");
	pt.n_v6 = 0;
	ns = (struct wrap){ 0 };
	ns_frame(&f, &ns, false);
	cr_assert_eq(act(&f, &p, &cls), DP_KERNEL, "a solicitation for an address not ours");
}

Test(dispatch, malformed_frames_are_dropped_with_their_reason)
{
	struct frame f;
	struct net_pkt p;
	int cls;
	struct wrap w4 = { .family = 4 };

	udp_frame(&f, &w4);
	cr_assert_eq(dp_dispatch(&pt, f.b, 10, &p, &cls), DP_DROP);
	cr_assert_eq(cls, NET_PKT_E_RUNT);
	cr_assert_eq(net_pkt_drop_code(net_pkt_drop_slot(cls)), cls, "the counter slot names it");
	f.b[14 + 10] ^= 0xff; /* the IPv4 header checksum */
	cr_assert_eq(act(&f, &p, &cls), DP_DROP);
	cr_assert_eq(cls, NET_PKT_E_IP_CSUM);
}

Test(dispatch, sources_no_client_has_are_refused)
{
	struct net_pkt p;
	static const struct {
		int family;
		uint8_t a[16];
		bool ok;
	} cases[] = {
		{ 4, { 192, 0, 2, 10 }, true },
		{ 4, { 0, 1, 2, 3 }, false },
		{ 4, { 127, 0, 0, 1 }, false },
		{ 4, { 224, 0, 0, 1 }, false },
		{ 4, { 240, 0, 0, 1 }, false },
		{ 4, { 255, 255, 255, 255 }, false },
		{ 4, { 198, 18, 0, 255 }, false },	/* our subnet's broadcast */
		{ 4, { 198, 18, 0, 1 }, false },	/* ours */
		{ 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 }, true },
		{ 6, { 0 }, false },
		{ 6, { [15] = 1 }, false },
		{ 6, { 0xff, 0x02, [15] = 1 }, false },
		{ 6, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 10 }, false },
		{ 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 }, false },	/* ours */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.family = (uint8_t)cases[i].family;
		memcpy(p.src_ip, cases[i].a, 16);
		memcpy(p.src_mac, MAC_C, 6);
		p.src_port = 40000;
		cr_assert_eq(dp_client_source_ok(&pt, &p), cases[i].ok, "case %zu", i);
	}
	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src_ip, cases[0].a, 4);
	memcpy(p.src_mac, MAC_C, 6);
	cr_assert(!dp_client_source_ok(&pt, &p), "port 0");
	p.src_port = 40000;
	p.src_mac[0] |= 1;
	cr_assert(!dp_client_source_ok(&pt, &p), "a group MAC");
}
