/*
 * dataplane/dispatch.h: what a worker does with a frame of one of its
 * ports, decided over the frame's bytes alone: answer a DNS query, an ARP
 * request, a neighbour solicitation or an echo request for a service
 * address, drop it as malformed, or hand it to the kernel. And whether a
 * query's source could be a client's. Pure functions over the port's
 * read-only description and the caller's buffers: no EAL, no mbuf, so the
 * worker's dispatch is tested without DPDK (tests/dataplane/test_dispatch.c).
 * Worker lcore, hot path.
 */
#ifndef BW_DATAPLANE_DISPATCH_H
#define BW_DATAPLANE_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "net/pkt.h"

struct dp_port;

enum dp_action {
	DP_DROP,	/* malformed: counted by the parse's reason */
	DP_DNS,		/* UDP to a service address, port 53: a client's query */
	DP_ARP,		/* an ARP request for a service address: reply */
	DP_ND,		/* a neighbour solicitation for a service address: advert */
	DP_ECHO,	/* an echo request to a service address: reply */
	DP_KERNEL,	/* anything else: the exception path */
};

/*
 * Parses the len octets of frame into *p (*cls: net_pkt_parse()'s result,
 * a class or, for DP_DROP, the drop reason) and says what becomes of it.
 */
enum dp_action dp_dispatch(const struct dp_port *pt, const uint8_t *frame, uint16_t len,
			   struct net_pkt *p, int *cls);

/* Whether addr (4 octets) is one of the port's IPv4 service addresses. */
bool dp_is_ours4(const struct dp_port *pt, const uint8_t *addr);

/*
 * Whether a query's source could be a client's: not port 0, not a group
 * MAC, a unicast address a host may have (net_addr_unicast()), not
 * loopback (127/8, ::1: never on a wire), not one of our subnets'
 * broadcasts, and not our own. An answer to such a source is either lost
 * or reflected at many (or at us): RFC 1122 3.2.1.3, RFC 4291 2.5.2 and
 * 2.7, RFC 4038 4.2.
 */
bool dp_client_source_ok(const struct dp_port *pt, const struct net_pkt *p);

#endif
