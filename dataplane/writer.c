/*
 * dataplane/writer.c: the cache writer, on the dataplane's main thread (the
 * one thread that writes the cache; a registered QSBR reader too). It takes
 * fill records from control, checks each one whole before use, inserts the
 * answer into the cache and builds the client's answer frame in a new mbuf
 * for the worker that received the query, which sends it. May make
 * syscalls and block briefly; never called from a worker.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/dp.h"
#include "dns/reply.h"

int dp_client_query(const struct shm_client *c, uint8_t *qbuf, struct dns_query *q)
{
	size_t n = DNS_HDR_LEN;

	if (c->qname_len == 0)
		return -1;
	dns_put16(qbuf, c->dns_id);
	dns_put16(qbuf + 2, (uint16_t)(c->dns_flags & ~DNS_F_QR));
	dns_put16(qbuf + 4, 1);
	memset(qbuf + 6, 0, 4);
	dns_put16(qbuf + 10, c->has_edns ? 1 : 0);
	memcpy(qbuf + n, c->qname, c->qname_len);
	n += c->qname_len;
	dns_put16(qbuf + n, c->qtype);
	dns_put16(qbuf + n + 2, c->qclass);
	n += 4;
	if (c->has_edns) {
		qbuf[n] = 0;
		dns_put16(qbuf + n + 1, DNS_T_OPT);
		dns_put16(qbuf + n + 3, c->udp_size);
		dns_put32(qbuf + n + 5, c->edns_flags & DNS_EDNS_F_DO);
		dns_put16(qbuf + n + 9, 0);
		n += 11;
	}
	return dns_query_parse(q, qbuf, n) ? -1 : 0;
}

/* The port index of the port id a miss came in on, or -1. */
static int port_index(const struct dp *dp, uint16_t port_id)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

static bool fill_ok(const struct dp *dp, const struct shm_fill *f)
{
	const struct shm_client *c = &f->c;

	return f->h.type == SHM_REC_FILL && f->h.abi == SHM_ABI_VERSION &&
	       f->h.len == sizeof(*f) && f->msg_len <= SHM_MSG_MAX &&
	       f->rank >= CACHE_RANK_ADDITIONAL && f->rank <= CACHE_RANK_SECURE &&
	       f->rcode <= 0xfff && c->worker < dp->n_workers &&
	       (c->family == DP_PKT_IPV4 || c->family == DP_PKT_IPV6) &&
	       port_index(dp, c->port_id) >= 0;
}

/* The answer's DNS payload for the client into out (cap octets). */
static size_t answer(struct dp *dp, const struct shm_fill *f, const struct dns_query *q,
		     uint32_t now, uint8_t *out, size_t cap)
{
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };

	if (f->flags & SHM_FILL_TRUNCATED) {
		size_t n = dns_reply_empty(q->wire, q, f->rcode, dp->edns_size, out);
		out[2] |= DNS_F_TC >> 8;
		return n;
	}
	/* What the cache now holds answers as a hit would (AD rules, TTLs);
	 * after a failure, a stale entry is better than SERVFAIL (RFC 8767). */
	cache_key_from_query(&k, dp->cache, q);
	cache_lookup_burst(dp->cache, &kp, 1, now, &res, &rst);
	if (res.entry && !(f->flags & SHM_FILL_STALE) &&
	    (res.state == CACHE_HIT || res.state == CACHE_HIT_PREFETCH ||
	     f->rcode == DNS_R_SERVFAIL)) {
		int n = cache_answer(dp->cache, res.entry, (enum cache_state)res.state, q,
				     now, out, cap);
		if (n > 0)
			return (size_t)n;
	}
	return dns_reply_from_msg(q, f->msg_len ? f->msg : NULL, f->msg_len, f->rcode,
				  false, cap, dp->edns_size, out);
}

static void fill(struct dp *dp, const struct shm_fill *f)
{
	struct shm_writer_stats *st = &dp->ctl->writer;
	const struct shm_client *c = &f->c;
	uint32_t now = dp->ctl->now_s;
	uint8_t qbuf[DP_QUERY_BUILD_MAX];
	struct dns_query q;

	if (!fill_ok(dp, f) || dp_client_query(c, qbuf, &q)) {
		st->bad_records++;
		return;
	}
	if ((f->flags & SHM_FILL_CACHE) && !(f->flags & (SHM_FILL_STALE | SHM_FILL_TRUNCATED)) &&
	    f->msg_len) {
		int r = cache_insert(dp->cache, f->msg, f->msg_len, now, (enum cache_rank)f->rank,
				     c->has_edns && (c->edns_flags & DNS_EDNS_F_DO));
		if (r == 0)
			st->inserted++;
		else
			st->uncacheable++;
	}
	if (!(f->flags & SHM_FILL_ANSWER))
		return;

	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		st->no_mbuf++;
		return;
	}
	int pi = port_index(dp, c->port_id);
	struct dp_pkt_addrs a = {
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

	uint16_t hl = dp_pkt_hdr_len(c->family, c->has_vlan);
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	size_t cap = (size_t)m->buf_len - m->data_off - hl;
	if (cap > 65535 - 48)
		cap = 65535 - 48;
	size_t n = answer(dp, f, &q, now, buf + hl, cap);
	int len = dp_pkt_build_udp_hdr(buf, &a, (uint16_t)n);
	if (len < 0) {
		rte_pktmbuf_free(m);
		st->bad_records++;
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->port = (uint16_t)pi;	/* the port index: where the worker sends it */
	m->l2_len = (uint8_t)(DP_PKT_ETH_HDR_LEN + (c->has_vlan ? DP_PKT_VLAN_LEN : 0));
	m->l3_len = c->family == DP_PKT_IPV6 ? DP_PKT_IPV6_HDR_LEN : DP_PKT_IPV4_HDR_LEN;
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
