/*
 * dataplane/writer.c: the cache writer, on the dataplane's main thread (the
 * one thread that writes the cache; a registered QSBR reader too). It takes
 * fill records from control, checks each one whole before use (shm.h,
 * fill.h), inserts the answer into the cache and builds the client's answer
 * frame in a new mbuf for the worker that received the query, which sends
 * it. It also answers control's lookups: the cache is the client cache for
 * control's TCP clients too. May make syscalls and block briefly; never
 * called from a worker.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "answer/negative.h"
#include "answer/reply.h"
#include "cache/nsec.h"
#include "conf/log.h"
#include "dataplane/dp.h"
#include "dataplane/fill.h"

static void fill(struct dp *dp, const struct shm_fill *f)
{
	struct shm_writer_stats *st = &dp->ctl->writer;
	const struct shm_client *c = &f->c;
	uint32_t now = dp->ctl->now_s;
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;

	/* a fill for a question control's TCP front end looked up goes into
	 * the cache only: no port, no frame */
	if (shm_fill_check(f, dp->n_workers) ||
	    ((f->flags & SHM_FILL_ANSWER) && dp_port_index(dp, c->port_id) < 0) ||
	    shm_client_query(c, qbuf, &q)) {
		st->bad_records++;
		CFG_LOG_LIMITED(CFG_LOG_WARNING, "a fill from control refused (bad_records): "
						 "a field out of range, an unknown port or no "
						 "question in it");
		return;
	}
	/* validated under other trust anchors than those in force: nothing
	 * of it is kept (the answer still goes to its client) */
	bool stale = dp->anchors_id && f->anchors_id != dp->anchors_id;
	if (stale)
		st->anchor_stale++;
	if ((f->flags & SHM_FILL_NSEC) && stale)
		return;
	if (f->flags & SHM_FILL_NSEC) {
		/* validated denial records: the NSEC store, off when
		 * aggressive NSEC is (control sends none then) */
		struct cache_nsec_feed_result r;
		if (!dp->nsec || cache_nsec_feed(dp->nsec, f->msg, f->msg_len, now,
						 dp->max_negative_ttl, &r)) {
			st->bad_records++;
			CFG_LOG_LIMITED(CFG_LOG_WARNING, "an NSEC feed from control refused "
							 "(bad_records)%s",
					dp->nsec ? "" : ": aggressive NSEC is off here");
			return;
		}
		st->nsec_feeds++;
		st->nsec_ranges += r.ranges;
		st->nsec_soas += r.soas;
		st->nsec_refused += r.refused;
		return;
	}
	int inserted = stale ? 1 : dp_fill_insert(dp->cache, f, now);
	if (inserted == 0)
		st->inserted++;
	else if (inserted < 0)
		st->uncacheable++;
	if (!(f->flags & SHM_FILL_ANSWER))
		return; /* a refresh: the cache only */

	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		st->no_mbuf++;
		return;
	}
	int pi = dp_port_index(dp, c->port_id);
	struct net_pkt_addrs a = {
		.vlan = c->has_vlan,
		.vlan_tci = c->vlan_tci,
		.family = c->family,
		.src_port = c->dst_port,
		.dst_port = c->src_port,
	};
	memcpy(a.src_mac, dp->ports[pi].mac.addr_bytes, 6);
	memcpy(a.dst_mac, c->src_mac, 6);
	memcpy(a.src_ip, c->dst_ip, 16);
	memcpy(a.dst_ip, c->src_ip, 16);

	uint16_t hl = net_pkt_hdr_len(c->family, c->has_vlan);
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	size_t cap = (size_t)m->buf_len - m->data_off - hl;
	size_t link = dp->ports[pi].udp_max[c->family == NET_PKT_IPV6];
	if (cap > link)
		cap = link;
	/* a policy answer is the client's as it is: the cache may hold
	 * another for the question, which policy overrides */
	size_t n = f->flags & (SHM_FILL_VERBATIM | SHM_FILL_PLAIN)
		? answer_from_msg(&q, f->msg, f->msg_len, f->rcode, false, cap, dp->edns_size,
				  buf + hl)
		: answer_resolved(dp->cache, &q, now, f->msg, f->msg_len, f->rcode,
				  f->flags & SHM_FILL_STALE, f->flags & SHM_FILL_TRUNCATED,
				  dp->edns_size, buf + hl, cap);
	if ((f->flags & SHM_FILL_VERBATIM) && n >= DNS_HDR_LEN && f->msg_len >= DNS_HDR_LEN &&
	    (dns_get16(f->msg + 2) & DNS_F_TC))
		buf[hl + 2] |= DNS_F_TC >> 8; /* rpz-tcp-only: no records in it */
	if (n == 0) {
		/* a stale answer asked for that the cache no longer holds */
		rte_pktmbuf_free(m);
		st->stale_gone++;
		return;
	}
	int len = net_pkt_build_udp_hdr(buf, &a, (uint16_t)n);
	if (len < 0) {
		rte_pktmbuf_free(m);
		st->bad_records++;
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->port = dp->ports[pi].port_id;	/* where the worker sends it */
	m->l2_len = (uint8_t)(NET_PKT_ETH_HDR_LEN + (c->has_vlan ? NET_PKT_VLAN_LEN : 0));
	m->l3_len = c->family == NET_PKT_IPV6 ? NET_PKT_IPV6_HDR_LEN : NET_PKT_IPV4_HDR_LEN;
	/* the worker copies it for dnstap: the query's receipt (its low 32
	 * bits, never 0) */
	m->hash.usr = c->tap == 1 ? ((uint32_t)c->rx_ms | 1) : 0;
	if (rte_ring_sp_enqueue(dp->workers[c->worker]->answers, m) != 0) {
		rte_pktmbuf_free(m);
		st->answer_ring_full++;
		return;
	}
	st->answers++;
}

unsigned dp_writer_poll(struct dp *dp, unsigned max)
{
	static struct shm_fill f; /* 4 KiB+: not on the stack; one writer */
	unsigned n = 0;

	while (n < max && rte_ring_sc_dequeue_elem(dp->fill, &f, sizeof(f)) == 0) {
		dp->ctl->writer.fills++;
		fill(dp, &f);
		n++;
	}
	return n;
}

/* One lookup: the found record says what the cache holds for it. */
static void lookup(struct dp *dp, const struct shm_lookup *r, struct shm_found *out)
{
	struct shm_writer_stats *st = &dp->ctl->writer;
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;
	bool stale = false;

	out->h = (struct shm_hdr){ .type = SHM_REC_FOUND, .abi = SHM_ABI_VERSION,
				   .len = sizeof(*out) };
	out->token = r->token;
	out->msg_len = 0;
	out->stale = 0;
	if (shm_lookup_check(r) || shm_client_query(&r->c, qbuf, &q)) {
		/* an empty answer at once: control resolves, no 50 ms wait */
		st->bad_records++;
		goto send;
	}
	st->lookups++;
	/* a stale entry goes back flagged: control sends it only when
	 * resolving takes too long or fails (RFC 8767), as for the workers */
	/* in the workers' order: a fresh entry; RFC 8198 (the NSEC store);
	 * RFC 8020 (a cut); a stale entry last. Written for a stream (TCP). */
	size_t n = answer_cached(dp->cache, &q, dp->ctl->now_s, false, true, out->msg,
				 SHM_MSG_MAX, NULL);
	int neg;
	bool synth = dp_synth_ok(dp, dns_query_qname(&q));
	if (!n && synth &&
	    (neg = answer_from_nsec(dp->nsec, &q, dp->ctl->now_s, dp->edns_size, out->msg,
				    SHM_MSG_MAX, true, NULL)) > 0) {
		n = (size_t)neg;
		st->lookup_nsec++;
	}
	if (!n && synth && (n = answer_nxdomain_cut(dp->cache, &q, dp->ctl->now_s, true,
						    out->msg, SHM_MSG_MAX)) > 0)
		st->lookup_nxdomain_cut++;
	if (!n)
		n = answer_cached(dp->cache, &q, dp->ctl->now_s, true, true, out->msg,
				  SHM_MSG_MAX, &stale);
	stale = n && stale;
	if (n && !(dns_get16(out->msg + 2) & DNS_F_TC)) {
		out->msg_len = (uint16_t)n;
		out->stale = stale;
		st->lookup_hits++;
	}
send:
	if (rte_ring_sp_enqueue_elem(dp->found, out, sizeof(*out)) != 0)
		st->found_ring_full++;
}

unsigned dp_lookup_poll(struct dp *dp, unsigned max)
{
	static struct shm_lookup r;
	static struct shm_found out; /* 4 KiB+: not on the stack; one writer */
	unsigned n = 0;

	while (n < max && rte_ring_sc_dequeue_elem(dp->lookup, &r, sizeof(r)) == 0) {
		lookup(dp, &r, &out);
		n++;
	}
	return n;
}
