/*
 * dataplane/exception.c: the exception path, on the dataplane's main thread
 * (see dp.h). Each port's exception TAP has one queue pair, served here, so
 * the number of workers is not limited by the TAP PMD's queues and control
 * (a secondary process) is handed only two of its descriptors. Exception
 * traffic (TCP to the service addresses, replies to control's upstream
 * queries, ARP replies, routing, management) is light; the price is the
 * main thread's nap (IDLE_SLEEP_US) on the way.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/dp.h"

/* Sends n frames of one port out of its TAP; frees and counts the rest. */
static void to_tap(struct dp *dp, unsigned port, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(dp->ports[port].exc_id, 0, m, n);

	dp->ctl->writer.to_tap += sent;
	dp->ctl->writer.to_tap_dropped += n - sent;
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

unsigned dp_exception_poll(struct dp *dp)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned moved = 0;

	for (unsigned w = 0; w < dp->n_workers; w++) {
		unsigned n = rte_ring_sc_dequeue_burst(dp->workers[w]->to_kernel, (void **)m,
						       DP_BURST, NULL);
		/* runs of one port at a time (nearly always one port) */
		for (unsigned i = 0; i < n;) {
			unsigned j = i + 1;
			while (j < n && m[j]->port == m[i]->port)
				j++;
			to_tap(dp, (unsigned)(dp_port_of(dp, m[i]->port) - dp->ports), m + i,
			       (uint16_t)(j - i));
			i = j;
		}
		moved += n;
	}
	for (unsigned p = 0; p < dp->n_ports; p++) {
		uint16_t n = rte_eth_rx_burst(dp->ports[p].exc_id, 0, m, DP_BURST);
		struct dp_worker *w = dp->workers[p % dp->n_workers];

		for (uint16_t i = 0; i < n; i++)
			m[i]->port = dp->ports[p].port_id; /* where the worker sends it */
		unsigned taken = n ? rte_ring_sp_enqueue_burst(w->from_kernel, (void **)m, n, NULL) : 0;
		dp->ctl->writer.from_tap += taken;
		dp->ctl->writer.from_tap_dropped += n - taken;
		for (unsigned i = taken; i < n; i++)
			rte_pktmbuf_free(m[i]);
		moved += n;
	}
	return moved;
}
