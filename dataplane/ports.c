/*
 * dataplane/ports.c: the service ports' link state and DPDK's counters in
 * shm.h's ports[] for control (bailiwick-ctl status, the metrics
 * endpoint). Dataplane main thread, about once a second: never a worker
 * (rte_eth_stats_get() and the xstats calls may take locks in a PMD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dataplane/dp.h"

void dp_ports_stats_init(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	static struct rte_eth_xstat_name names[SHM_PORT_XSTATS_MAX];
	_Static_assert(SHM_PORT_XSTAT_NAME_MAX == RTE_ETH_XSTATS_NAME_SIZE, "xstat names' room");
	_Static_assert(SHM_PORTS_MAX >= CFG_PORTS_MAX, "a slot per service port");

	ctl->n_ports = dp->n_ports;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct shm_port_stats *s = &ctl->ports[i];
		snprintf(s->device, sizeof(s->device), "%s", dp->cfg->dataplane.ports[i].device);
		/* the PMD's first SHM_PORT_XSTATS_MAX (a call with room for
		 * fewer than it has returns how many it has, names none) */
		int n = rte_eth_xstats_get_names(dp->ports[i].port_id, NULL, 0);
		if (n > SHM_PORT_XSTATS_MAX) {
			struct rte_eth_xstat_name *all = calloc((size_t)n, sizeof(*all));
			if (!all || rte_eth_xstats_get_names(dp->ports[i].port_id, all,
							     (unsigned)n) != n) {
				free(all);
				continue;
			}
			memcpy(names, all, sizeof(names));
			free(all);
			n = SHM_PORT_XSTATS_MAX;
		} else if (n <= 0 ||
			   rte_eth_xstats_get_names(dp->ports[i].port_id, names, (unsigned)n) != n) {
			continue;
		}
		for (int k = 0; k < n; k++)
			memcpy(s->xstat_name[k], names[k].name, SHM_PORT_XSTAT_NAME_MAX);
		/* the names before their count (control reads them after it) */
		__atomic_store_n(&s->n_xstats, (uint32_t)n, __ATOMIC_RELEASE);
	}
	dp_ports_stats(dp);
}

void dp_ports_stats(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	static struct rte_eth_xstat *xs;
	static int nxs;

	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct shm_port_stats *s = &ctl->ports[i];
		uint16_t port = dp->ports[i].port_id;
		struct rte_eth_link link = { 0 };
		struct rte_eth_stats st;

		if (rte_eth_link_get_nowait(port, &link) == 0) {
			s->link_up = link.link_status == RTE_ETH_LINK_UP;
			s->link_mbps = link.link_speed;
		}
		if (rte_eth_stats_get(port, &st) == 0) {
			s->rx_packets = st.ipackets;
			s->tx_packets = st.opackets;
			s->rx_bytes = st.ibytes;
			s->tx_bytes = st.obytes;
			s->rx_missed = st.imissed;
			s->rx_errors = st.ierrors;
			s->tx_errors = st.oerrors;
			s->rx_nombuf = st.rx_nombuf;
		}
		if (!s->n_xstats)
			continue;
		/* every xstat of the port (the PMD fills all or none), the
		 * first n_xstats kept: their ids are their places */
		int n = rte_eth_xstats_get(port, NULL, 0);
		if (n <= 0)
			continue;
		if (n > nxs) {
			struct rte_eth_xstat *nx = realloc(xs, (size_t)n * sizeof(*xs));
			if (!nx)
				continue;
			xs = nx;
			nxs = n;
		}
		if (rte_eth_xstats_get(port, xs, (unsigned)n) != n)
			continue;
		for (uint32_t k = 0; k < s->n_xstats && k < (uint32_t)n; k++)
			if (xs[k].id == k)
				s->xstat[k] = xs[k].value;
	}
}
