/*
 * dataplane/dispatch.c: a frame's fate (see dispatch.h). Worker lcore, hot
 * path: a few compares over the port's addresses after the parse.
 */
#include "dataplane/dispatch.h"

#include <endian.h>
#include <string.h>

#include "dataplane/dp.h"

bool dp_is_ours4(const struct dp_port *pt, const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4);
	for (unsigned i = 0; i < pt->n_v4; i++)
		if (pt->v4[i] == v)
			return true;
	return false;
}

static bool is_ours6(const struct dp_port *pt, const uint8_t *a)
{
	for (unsigned i = 0; i < pt->n_v6; i++)
		if (!memcmp(pt->v6[i], a, 16))
			return true;
	return false;
}

static inline bool is_ours(const struct dp_port *pt, const struct net_pkt *p)
{
	return p->family == NET_PKT_IPV4 ? dp_is_ours4(pt, p->dst_ip) : is_ours6(pt, p->dst_ip);
}

bool dp_client_source_ok(const struct dp_port *pt, const struct net_pkt *p)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	const uint8_t *a = p->src_ip;
	bool v6 = p->family == NET_PKT_IPV6;

	if (p->src_port == 0 || (p->src_mac[0] & 1) || !net_addr_unicast(v6, a))
		return false;
	if (v6)
		return memcmp(a, loop6, 16) != 0 && !is_ours6(pt, a);
	if (a[0] == 127 || dp_is_ours4(pt, a))
		return false;
	uint32_t v;
	memcpy(&v, a, 4);
	for (unsigned i = 0; i < pt->n_bcast; i++)
		if (pt->v4_bcast[i] == v)
			return false;
	return true;
}

enum dp_action dp_dispatch(const struct dp_port *pt, const uint8_t *frame, uint16_t len,
			   struct net_pkt *p, int *cls)
{
	int c = net_pkt_parse(p, frame, len);

	*cls = c;
	if (c < 0)
		return DP_DROP;
	switch (c) {
	case NET_PKT_UDP:
		return p->dst_port == 53 && is_ours(pt, p) ? DP_DNS : DP_KERNEL;
	case NET_PKT_ARP:
		/* replies and other targets: the kernel learns them */
		return p->arp_op == NET_PKT_ARP_REQUEST && dp_is_ours4(pt, p->dst_ip) ? DP_ARP
										     : DP_KERNEL;
	case NET_PKT_ICMP6:
		if (p->icmp_type == NET_PKT_ICMP6_NS)
			return is_ours6(pt, p->nd_target) ? DP_ND : DP_KERNEL;
		return p->icmp_type == NET_PKT_ICMP6_ECHO_REQUEST && is_ours(pt, p) ? DP_ECHO
										     : DP_KERNEL;
	case NET_PKT_ICMP4:
		return p->icmp_type == NET_PKT_ICMP4_ECHO_REQUEST && is_ours(pt, p) ? DP_ECHO
										    : DP_KERNEL;
	default:
		return DP_KERNEL;
	}
}
