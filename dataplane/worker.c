/*
 * dataplane/worker.c: the worker lcore, hot path. One per configured lcore,
 * pinned; it owns queue idx on every service port and on every exception
 * port. Each iteration: rx a burst from each service port, sort the frames
 * (ARP, neighbour solicitation and echo for our addresses answered in place;
 * DNS queries to a service address on port 53 kept; everything else to the
 * kernel, through the main thread, which owns the exception TAPs), look every query up in the cache in
 * one burst, answer hits in the query's own mbuf, turn misses into miss
 * records for control; then send what the kernel sent out, the answers
 * the cache writer resolved, and announce a quiescent state.
 *
 * Rules of the loop: no allocation, lock, syscall or log. Every mbuf
 * received is sent or freed in the same iteration; a frame tx could not
 * take is freed and counted. Full rings drop and count.
 */
#define _LGPL_SOURCE
#include <endian.h>
#include <stdatomic.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <urcu/urcu-qsbr.h>

#include "answer/negative.h"
#include "answer/policy.h"
#include "answer/reply.h"
#include "answer/screen.h"
#include "cache/nsec.h"
#include "dataplane/dispatch.h"
#include "dataplane/dp.h"

#define ST(w, name) ((w)->st->name++)

static void tx_flush(struct dp_worker *w, uint16_t port, struct dp_txq *q)
{
	uint16_t sent = q->n ? rte_eth_tx_burst(port, (uint16_t)w->idx, q->m, q->n) : 0;

	w->st->tx += sent;
	w->st->tx_dropped += q->n - sent;
	for (uint16_t i = sent; i < q->n; i++)
		rte_pktmbuf_free(q->m[i]);
	q->n = 0;
}

/* Frames for the kernel go to the main thread, which owns the exception
 * TAPs (one queue each, whatever the number of workers). */
static void kernel_flush(struct dp_worker *w)
{
	struct dp_txq *q = &w->kq;
	unsigned sent = q->n ? rte_ring_sp_enqueue_burst(w->to_kernel, (void **)q->m, q->n, NULL)
			     : 0;

	w->st->to_kernel += sent;
	w->st->to_kernel_dropped += q->n - sent;
	for (unsigned i = sent; i < q->n; i++)
		rte_pktmbuf_free(q->m[i]);
	q->n = 0;
}

static inline void out(struct dp_worker *w, struct dp_port *pt, struct rte_mbuf *m)
{
	struct dp_txq *q = &w->tx[pt - w->dp->ports];

	if (q->n == RTE_DIM(q->m))
		tx_flush(w, pt->port_id, q);
	q->m[q->n++] = m;
}

static inline void to_kernel(struct dp_worker *w, struct dp_port *pt, struct rte_mbuf *m)
{
	if (w->kq.n == RTE_DIM(w->kq.m))
		kernel_flush(w);
	m->port = pt->port_id; /* its TAP is that port's */
	w->kq.m[w->kq.n++] = m;
}

/* Trims the mbuf to the reply frame at offset start, len octets. */
static inline void set_frame(struct rte_mbuf *m, int start, uint16_t len)
{
	m->data_off = (uint16_t)(m->data_off + start);
	m->data_len = len;
	m->pkt_len = len;
	m->ol_flags = 0;
}

/* --- dnstap -------------------------------------------------------------- */

/*
 * A copy of msg (len octets) between the client and the service address
 * (client: src_ip/src_port, as received) for control's dnstap output and
 * query log (kind: what it is and what for): one record in consecutive
 * elements of the tap ring, all or none. Sampled queries only (1 in
 * dnstap.sample or log.query-sample): two copies of a few hundred octets,
 * no syscall.
 */
static void tap(struct dp_worker *w, uint8_t kind, uint8_t family,
		const uint8_t *client_ip, uint16_t client_port,
		const uint8_t *server_ip, uint16_t server_port,
		const uint8_t *msg, size_t len, uint64_t query_tsc)
{
	struct shm_tap *r = (struct shm_tap *)w->tap_rec;
	unsigned n = (unsigned)((sizeof(*r) + len + SHM_TAP_ELEM - 1) / SHM_TAP_ELEM);

	if (len < DNS_HDR_LEN || len > SHM_TAP_MSG_MAX) {
		ST(w, tap_too_big);
		return;
	}
	/* (no copy for a ring control is not emptying: down, restarting) */
	if (rte_ring_free_count(w->tap) < n) {
		ST(w, tap_ring_full);
		return;
	}
	r->h.type = SHM_REC_TAP;
	r->h.abi = SHM_ABI_VERSION;
	r->h.len = (uint32_t)(sizeof(*r) + len);
	r->kind = kind;
	r->family = family;
	r->client_port = client_port;
	r->server_port = server_port;
	r->msg_len = (uint16_t)len;
	r->query_tsc = query_tsc;
	r->response_tsc = (kind & SHM_TAP_KIND_MASK) == SHM_TAP_CLIENT_RESPONSE ? rte_rdtsc() : 0;
	memcpy(r->client_ip, client_ip, 16);
	memcpy(r->server_ip, server_ip, 16);
	memcpy(r->msg, msg, len);
	if (rte_ring_sp_enqueue_bulk_elem(w->tap, r, SHM_TAP_ELEM, n, NULL) == 0)
		ST(w, tap_ring_full);
	else
		ST(w, tap_records);
}

/* Job j's query or answer (the DNS payload of its frame, len octets). */
static inline void tap_job(struct dp_worker *w, const struct dp_job *j, uint8_t kind,
			   const uint8_t *dns, size_t len)
{
	tap(w, kind | SHM_TAP_FOR_DNSTAP, j->p.family, j->p.src_ip, j->p.src_port, j->p.dst_ip,
	    j->p.dst_port, dns, len, w->rx_tsc);
}

/* An answer the writer made for a miss the worker sampled (its frame:
 * l2_len, l3_len set by the writer; we are the source; hash.usr: the
 * query's receipt, the low 32 bits of the dataplane's ms clock, made
 * non-zero). */
static void tap_answer(struct dp_worker *w, struct rte_mbuf *m)
{
	uint32_t age_ms = (uint32_t)w->dp->ctl->now_ms - m->hash.usr;
	if ((int32_t)age_ms < 0) /* (the low bit set: 1 ms ahead) */
		age_ms = 0;
	uint64_t now = rte_rdtsc(), ago = (uint64_t)age_ms * (rte_get_tsc_hz() / 1000);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = f + m->l2_len, *udp = ip + m->l3_len;
	bool v6 = m->l3_len == NET_PKT_IPV6_HDR_LEN;
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	size_t alen = v6 ? 16 : 4;

	memcpy(src, ip + (v6 ? 8 : 12), alen);
	memcpy(dst, ip + (v6 ? 24 : 16), alen);
	tap(w, SHM_TAP_CLIENT_RESPONSE | SHM_TAP_FOR_DNSTAP, v6 ? NET_PKT_IPV6 : NET_PKT_IPV4, dst,
	    dns_get16(udp + 2), src, dns_get16(udp), udp + 8,
	    (size_t)(dns_get16(udp + 4) - 8), age_ms < SHM_MISS_MAX_AGE_MS * 10 ? now - ago : 0);
}

/* --- answers ------------------------------------------------------------ */

static inline void count_rcode(struct dp_worker *w, unsigned rcode)
{
	if (rcode == DNS_R_NOERROR)
		ST(w, rcode_noerror);
	else if (rcode == DNS_R_NXDOMAIN)
		ST(w, rcode_nxdomain);
	else if (rcode == DNS_R_SERVFAIL)
		ST(w, rcode_servfail);
}

/* The worker counter of each outcome of the screen (answer/screen.h). */
static inline void count_slot(struct dp_worker *w, enum answer_slot s)
{
	switch (s) {
	case ANSWER_GO:
		break;
	case ANSWER_SHORT:
		ST(w, dns_dropped);
		break;
	case ANSWER_QR:
		ST(w, qr_dropped);
		break;
	case ANSWER_ACL_DROP:
		ST(w, acl_dropped);
		break;
	case ANSWER_NOTIMP:
		ST(w, notimp);
		break;
	case ANSWER_FORMERR:
		ST(w, formerr);
		break;
	case ANSWER_BADVERS:
		ST(w, badvers);
		break;
	default:
		ST(w, refused);
	}
}

/* The DNS payload of job j's reply has been written (len octets): the
 * frame's headers around it, and out. */
static void reply(struct dp_worker *w, struct dp_job *j, size_t len)
{
	uint8_t *buf = rte_pktmbuf_mtod(j->m, uint8_t *);
	int start = net_pkt_udp_reply(buf, &j->p, (uint16_t)len);

	if (start < 0) {
		ST(w, answer_dropped);
		rte_pktmbuf_free(j->m);
		return;
	}
	if (dns_get16(buf + j->p.payload_off + 2) & DNS_F_TC)
		ST(w, truncated);
	count_rcode(w, buf[j->p.payload_off + 3] & DNS_F_RCODE_MASK);
	if (unlikely(j->tap) && w->tap_responses)
		tap_job(w, j, SHM_TAP_CLIENT_RESPONSE, buf + j->p.payload_off, len);
	set_frame(j->m, start, (uint16_t)(j->p.payload_off - start + len));
	out(w, j->port, j->m);
}

/* An answer without records; q is NULL when the query did not parse. */
static void reply_empty(struct dp_worker *w, struct dp_job *j,
			const struct dns_query *q, int rcode, uint16_t ede)
{
	uint8_t *dns = rte_pktmbuf_mtod(j->m, uint8_t *) + j->p.payload_off;

	reply(w, j, answer_empty(dns, q, rcode, ede, w->dp->edns_size, dns));
}

/* Room for the reply's payload: the mbuf from the query's payload on, and
 * no more than our largest UDP answer on this link (answer_udp_max():
 * our EDNS size, one frame of the MTU). The writers apply the client's
 * size themselves. */
static inline size_t room(const struct dp_job *j)
{
	size_t r = (size_t)j->m->buf_len - j->m->data_off - j->p.payload_off;
	size_t u = j->port->udp_max[j->p.family == NET_PKT_IPV6];

	return r < u ? r : u;
}

/* --- misses -------------------------------------------------------------- */

/* A miss record for job j; false when control cannot take it now: the
 * worker is over its budget (dataplane.miss-budget; refresh: the refresh a
 * cached entry's hit claimed, which may take the budget to its end) or the
 * ring to control is full. Both counted. */
static bool ask_control(struct dp_worker *w, struct dp_job *j, uint8_t kind, bool stale,
			bool refresh)
{
	struct shm_miss *r = &w->rec;
	struct shm_client *c = &r->c;
	const struct dns_query *q = &j->q;
	uint32_t per_s = __atomic_load_n(&w->dp->miss_budget, __ATOMIC_RELAXED);

	if (per_s != w->budget.per_s) /* a reload's */
		dp_budget_init(&w->budget, per_s, w->budget.hz, w->rx_tsc);
	if (!dp_budget_take(&w->budget, w->rx_tsc, refresh)) {
		ST(w, miss_over_budget);
		return false;
	}
	r->h.type = SHM_REC_MISS;
	r->h.abi = SHM_ABI_VERSION;
	r->h.len = sizeof(*r);
	r->kind = kind;
	r->stale = stale;
	memcpy(c->src_mac, j->p.src_mac, 6);
	memcpy(c->dst_mac, j->p.dst_mac, 6);
	c->vlan_tci = j->p.vlan_tci;
	c->has_vlan = j->p.vlan;
	c->family = j->p.family;
	memcpy(c->src_ip, j->p.src_ip, 16);
	memcpy(c->dst_ip, j->p.dst_ip, 16);
	c->src_port = j->p.src_port;
	c->dst_port = j->p.dst_port;
	c->port_id = j->port->port_id;
	c->worker = (uint16_t)w->idx;
	c->tap = kind == SHM_MISS_CLIENT && j->tap;
	shm_client_set_query(c, q);
	c->rx_ms = w->dp->ctl->now_ms;
	if (rte_ring_sp_enqueue_elem(w->miss, r, sizeof(*r)) != 0) {
		dp_budget_refund(&w->budget);
		ST(w, miss_ring_full);
		return false;
	}
	return true;
}

/* A client's query that control could not take (ask_control() false):
 * SERVFAIL at once, so that the client tries elsewhere now rather than
 * after its timeout, or a counted drop (dataplane.miss-overflow). */
static void overflow(struct dp_worker *w, struct dp_job *j)
{
	if (__atomic_load_n(&w->dp->miss_overflow, __ATOMIC_RELAXED) == CFG_OVERFLOW_DROP) {
		ST(w, overflow_dropped);
		rte_pktmbuf_free(j->m);
		return;
	}
	ST(w, overflow_servfail);
	reply_empty(w, j, &j->q, DNS_R_SERVFAIL, DNS_EDE_NONE);
}

static bool policy_reply(struct dp_worker *w, struct dp_job *j, const struct policy_hit *h);

/*
 * Job j, not in the cache or stale there (stale: control may serve the
 * entry after serve-stale's client timeout): answered from the NSEC store
 * or a cached NXDOMAIN above it, else handed to control (refresh: the
 * stale entry's hit claimed its refresh, CACHE_STALE_REFRESH). true when
 * the job is done; false only for a stale one control cannot take now,
 * which the caller answers from its entry.
 */
static bool miss(struct dp_worker *w, struct dp_job *j, uint32_t now, bool stale, bool refresh)
{
	/* RFC 8198: validated NSEC/NSEC3 ranges that prove the answer (none
	 * when cache.aggressive-nsec is off). A denial has no CNAME or
	 * address for a response trigger, but its zone has name servers:
	 * with NSDNAME or NSIP triggers to weigh, or a question's match
	 * waiting for them, control answers. */
	bool policy_waits = (j->need & POLICY_NEED_NS) ||
			    (j->pre.action && j->pre.action != POLICY_A_PASSTHRU);
	/* (no denial at or below a stub or forward zone: the public proofs
	 * say nothing of what its servers hold) */
	bool synth = !policy_waits && dp_synth_ok(w->dp, j->k.name);
	if (w->dp->nsec && synth) {
		uint8_t *dns = rte_pktmbuf_mtod(j->m, uint8_t *) + j->p.payload_off;
		int n = answer_from_nsec(w->dp->nsec, &j->q, now, w->dp->edns_size, dns, room(j),
					 false, &w->nm);
		if (n > 0) {
			ST(w, nsec_synth);
			dp_zcount(w->dp->ctl->wzones[w->idx], &w->zc, w->nm.apex, w->nm.apex_len);
			reply(w, j, (size_t)n);
			return true;
		}
	}
	/* RFC 8020: below a cached secure NXDOMAIN nothing exists. */
	if (synth) {
		uint8_t *dns = rte_pktmbuf_mtod(j->m, uint8_t *) + j->p.payload_off;
		size_t n = answer_nxdomain_cut(w->dp->cache, &j->q, now, false, dns, room(j));
		if (n > 0) {
			ST(w, nxdomain_cut);
			reply(w, j, n);
			return true;
		}
	}
	if (!w->dp->ctl->ctl_up) {
		/* the response cannot be checked: the question's own match */
		if (j->pre.action && policy_reply(w, j, &j->pre))
			return true;
		if (w->dp->cfg->dataplane.control_down == CFG_DOWN_DROP) {
			ST(w, ctl_down_dropped);
			rte_pktmbuf_free(j->m);
			return true;
		}
		ST(w, ctl_down_servfail);
		reply_empty(w, j, &j->q, DNS_R_SERVFAIL, DNS_EDE_NOT_READY);
		return true;
	}
	/* the answer comes back through the writer in a new mbuf */
	if (ask_control(w, j, SHM_MISS_CLIENT, stale, refresh)) {
		ST(w, misses);
		rte_pktmbuf_free(j->m);
		return true;
	}
	if (stale)
		return false;
	overflow(w, j);
	return true;
}

/* What the policy makes of a cached answer (policy_judge()). */
enum pol_entry {
	POL_FROM_ENTRY,	/* answer from the entry */
	POL_HIT,	/* the policy answers: *win */
	POL_UNKNOWN,	/* the entry's verdict is for another policy: only
			   control can say */
};

/*
 * The policy for job j whose answer is cached in e, when the response
 * triggers of zones before the question's match need it (j->need): the
 * verdict control recorded with the entry, while it is for this worker's
 * snapshot. After a reload the entry's verdict is unknown when the entry
 * holds what the triggers look at: a CNAME for QNAME rules, an address for
 * IP rules, anything for NSDNAME and NSIP rules. No side effect: the
 * caller acts (it may ask control for a refresh first).
 */
static enum pol_entry policy_judge(struct dp_worker *w, const struct dp_job *j,
				   const struct cache_entry *e, struct policy_hit *win)
{
	struct policy_hit resp = { 0 };
	const struct policy_hit *h = &j->pre;
	uint8_t kinds = cache_entry_kinds(e);

	/* something the triggers look at, with a verdict of this snapshot
	 * (nothing to look at, the common hit: no verdict under any) */
	if ((j->need & POLICY_NEED_NS) ||
	    ((j->need & POLICY_NEED_IP) && (kinds & CACHE_KIND_ADDR)) ||
	    ((j->need & POLICY_NEED_CHAIN) && (kinds & CACHE_KIND_CNAME))) {
		uint32_t tg = cache_entry_tag_gen(e);
		/* (0: never checked, whatever the generation's low bits) */
		if (!tg || tg != (uint32_t)w->pol_gen)
			return POL_UNKNOWN;
		policy_tag_hit(w->pol, cache_entry_tag_verdict(e), &resp);
		h = policy_winner(&j->pre, &resp);
	}
	/* a PASSTHRU (the question's, kept so that no later zone's response
	 * trigger beats it, or the response's) is an answer from the entry */
	if (!h || !h->action || h->action == POLICY_A_PASSTHRU)
		return POL_FROM_ENTRY;
	*win = *h;
	return POL_HIT;
}

/* Looks every kept query up at once and answers. */
static void answer_jobs(struct dp_worker *w)
{
	const struct cache_key *keys[DP_BURST];
	struct cache_result res[DP_BURST];
	struct dp *dp = w->dp;
	uint32_t now = dp->ctl->now_s;
	unsigned n = w->njobs;

	for (unsigned i = 0; i < n; i++)
		keys[i] = &w->jobs[i].k;
	cache_lookup_burst(dp->cache, keys, n, now, res, &w->cst);
	for (unsigned i = 0; i < n; i++) {
		struct dp_job *j = &w->jobs[i];
		enum cache_state state = (enum cache_state)res[i].state;
		bool ctl_up = dp->ctl->ctl_up;

		enum pol_entry pe = POL_FROM_ENTRY;
		bool stale = state == CACHE_STALE || state == CACHE_STALE_REFRESH;
		bool stale_now = false;
		struct policy_hit win;

		if (!res[i].entry) {
			miss(w, j, now, false, false);
			continue;
		}
		if (j->need)
			pe = policy_judge(w, j, res[i].entry, &win);
		/* A stale entry waits for control's refresh (which has the
		 * writer serve it stale after client-timeout-ms, RFC 8767,
		 * when the policy has nothing against it: a verdict on stale
		 * data is not applied, the fresh data gets its own); without
		 * control it is the best answer there is. */
		if (stale && ctl_up) {
			if (miss(w, j, now, pe == POL_FROM_ENTRY, state == CACHE_STALE_REFRESH))
				continue;
			/* control cannot take the refresh now: the entry is
			 * the best answer there is (RFC 8767), as without
			 * control (the cache lets a reader ask again after
			 * CACHE_STALE_RETRY_S) */
			stale_now = true;
		}
		if (pe == POL_HIT) {
			/* data the policy hides still gets refreshed, so that
			 * its verdict follows it */
			if (state == CACHE_HIT_PREFETCH && ctl_up &&
			    ask_control(w, j, SHM_MISS_REFRESH, false, true))
				ST(w, prefetches);
			state = state == CACHE_HIT_PREFETCH ? CACHE_HIT : state; /* asked */
			if (!j->pre.action || win.rule != j->pre.rule)
				ST(w, policy_response); /* the response's verdict */
			if (policy_reply(w, j, &win))
				continue;
		}
		if (pe == POL_UNKNOWN) {
			if (ctl_up) {
				/* control's verdict, and the entry again with it;
				 * never the entry unjudged */
				if (ask_control(w, j, SHM_MISS_CLIENT, false, false)) {
					ST(w, policy_recheck);
					rte_pktmbuf_free(j->m);
				} else {
					overflow(w, j);
				}
				continue;
			}
			/* control is down: the question's own match stands */
			if (j->pre.action && policy_reply(w, j, &j->pre))
				continue;
		}
		uint8_t *dns = rte_pktmbuf_mtod(j->m, uint8_t *) + j->p.payload_off;
		int len = cache_answer(dp->cache, res[i].entry, state, &j->q, now, dns, room(j));
		if (len <= 0) {
			ST(w, answer_dropped);
			rte_pktmbuf_free(j->m);
			continue;
		}
		/* (over the budget or the ring: the cache lets a hit ask
		 * again after CACHE_PREFETCH_RETRY_S) */
		if (state == CACHE_HIT_PREFETCH && ctl_up &&
		    ask_control(w, j, SHM_MISS_REFRESH, false, true))
			ST(w, prefetches);
		if (stale_now)
			ST(w, overflow_stale);
		if (state >= CACHE_STALE)
			ST(w, stale_hits);
		else
			ST(w, hits);
		reply(w, j, (size_t)len);
	}
	w->njobs = 0;
}

/* --- response policy ----------------------------------------------------- */

/* The policy's answer to job j when a trigger matched (hit): true when the
 * job is done (answered, dropped, or handed to control for a CNAME's
 * target), false when the query goes on to the cache (PASSTHRU). */
static bool policy_reply(struct dp_worker *w, struct dp_job *j, const struct policy_hit *h)
{
	uint8_t *dns = rte_pktmbuf_mtod(j->m, uint8_t *) + j->p.payload_off;
	size_t len = 0;

	switch (policy_answer(w->pol, h, &j->q, false, w->dp->edns_size, dns, room(j), &len)) {
	case POLICY_V_PASS:
		ST(w, policy_passthru);
		return false;
	case POLICY_V_DROP:
		ST(w, policy_dropped);
		rte_pktmbuf_free(j->m);
		return true;
	case POLICY_V_CHASE:
		/* the target's answer is control's to find: it applies the
		 * same snapshot to the miss and chases the CNAME */
		if (w->dp->ctl->ctl_up && ask_control(w, j, SHM_MISS_CLIENT, false, false)) {
			ST(w, policy_chase);
			rte_pktmbuf_free(j->m);
			return true;
		}
		/* control is down or cannot take it now: the CNAME alone */
		ST(w, policy_chase_alone);
		break;
	case POLICY_V_ANSWER:
		break;
	}
	if (h->action == POLICY_A_TCP_ONLY)
		ST(w, policy_tcp_only);
	else if (h->action == POLICY_A_NODATA)
		ST(w, policy_nodata);
	else if ((dns[3] & DNS_F_RCODE_MASK) == DNS_R_NXDOMAIN)
		ST(w, policy_nxdomain);
	else
		ST(w, policy_local);
	reply(w, j, len);
	return true;
}

/* --- sorting frames ------------------------------------------------------ */

/* A UDP datagram to a service address, port 53: a query, or not. */
static void dns_frame(struct dp_worker *w, struct dp_port *pt, struct rte_mbuf *m,
		      const struct net_pkt *p)
{
	const uint8_t *dns = rte_pktmbuf_mtod(m, const uint8_t *) + p->payload_off;
	struct dp_job *j = &w->jobs[w->njobs];

	struct answer_screen v;

	ST(w, queries);
	if (!dp_client_source_ok(pt, p)) {
		ST(w, bad_source);
		rte_pktmbuf_free(m);
		return;
	}
	/* dnstap: 1 query in tap_every, copied as it came, and its answer;
	 * the query log: 1 in qlog_every */
	j->tap = 0;
	if (unlikely(w->tap)) {
		uint8_t uses = 0;
		if (w->tap_every && --w->tap_left == 0) {
			w->tap_left = w->tap_every;
			j->tap = 1;
			uses = w->tap_queries ? SHM_TAP_FOR_DNSTAP : 0;
		}
		if (w->qlog_every && --w->qlog_left == 0) {
			w->qlog_left = w->qlog_every;
			uses |= SHM_TAP_FOR_LOG;
		}
		if (uses)
			tap(w, SHM_TAP_CLIENT_QUERY | uses, p->family, p->src_ip, p->src_port,
			    p->dst_ip, p->dst_port, dns, p->payload_len, w->rx_tsc);
	}
	/* the list in force (settings.c): valid until this loop's quiescent
	 * state */
	answer_screen(&v, __atomic_load_n(&w->dp->acl, __ATOMIC_ACQUIRE),
		      p->family == NET_PKT_IPV6, p->src_ip, dns, p->payload_len, &j->q);
	count_slot(w, v.slot);
	if (v.slot != ANSWER_GO) {
		if (!answer_slot_replies(v.slot)) {
			rte_pktmbuf_free(m);
			return;
		}
		j->m = m;
		j->port = pt;
		j->p = *p;
		reply_empty(w, j, v.q, v.rcode, v.ede);
		return;
	}
	j->m = m;
	j->port = pt;
	j->p = *p;
	cache_key_from_query(&j->k, w->dp->cache, &j->q);
	/* QNAME and CLIENT-IP triggers, before the cache: a reload takes
	 * effect for cached names at once. The match is final unless an
	 * earlier zone has IP, NSDNAME or NSIP triggers (then see
	 * policy_judge()). */
	j->pre.action = 0;
	j->need = 0;
	if (w->pol) {
		int a = policy_match(w->pol, j->k.name, j->k.name_len,
				     p->family == NET_PKT_IPV6 ? 6 : 4, p->src_ip, &j->pre);
		j->need = a ? policy_needs(w->pol, j->pre.zone) : w->pol_need;
		/* (a PASSTHRU stays in pre: no later zone's response
		 * trigger may beat it) */
		if (a && !(j->need & POLICY_NEED_DEFER) && policy_reply(w, j, &j->pre))
			return;
	}
	rte_prefetch0(&j->k);
	w->njobs++;
}

/* A reply written over the request in m (frame len octets from start), or
 * the request dropped when it could not be written (n < 0). */
static inline void reply_in_place(struct dp_worker *w, struct dp_port *pt,
				  struct rte_mbuf *m, int start, int len)
{
	if (start < 0 || len < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	set_frame(m, start, (uint16_t)len);
	out(w, pt, m);
}

static void frame(struct dp_worker *w, struct dp_port *pt, struct rte_mbuf *m)
{
	struct net_pkt p;
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	size_t room = (size_t)m->buf_len - m->data_off;
	uint16_t len = 0;
	int cls, n;

	if (m->nb_segs != 1) {
		to_kernel(w, pt, m); /* jumbo frames: the kernel's business */
		return;
	}
	switch (dp_dispatch(pt, buf, rte_pktmbuf_data_len(m), &p, &cls)) {
	case DP_DROP: {
		ST(w, frame_dropped);
		unsigned r = net_pkt_drop_slot(cls);
		if (r < SHM_FRAME_DROPS_MAX)
			w->st->frame_drops[r]++;
		rte_pktmbuf_free(m);
		return;
	}
	case DP_DNS:
		dns_frame(w, pt, m, &p);
		return;
	case DP_ARP:
		n = net_pkt_arp_reply(buf, room, &p, pt->mac.addr_bytes);
		if (n <= 0)
			break; /* not answered: the kernel may */
		ST(w, arp_replies);
		reply_in_place(w, pt, m, 0, n);
		return;
	case DP_ND:
		n = net_pkt_nd_advert(buf, room, &p, pt->mac.addr_bytes);
		if (n >= 0)
			ST(w, nd_replies);
		reply_in_place(w, pt, m, 0, n);
		return;
	case DP_ECHO:
		n = net_pkt_echo_reply(buf, &p, &len);
		if (n >= 0)
			ST(w, echo_replies);
		reply_in_place(w, pt, m, n, len);
		return;
	case DP_KERNEL:
		break;
	}
	to_kernel(w, pt, m);
}

/* --- the loop ------------------------------------------------------------ */

static unsigned poll_port(struct dp_worker *w, struct dp_port *pt)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n = rte_eth_rx_burst(pt->port_id, (uint16_t)w->idx, pkts, DP_BURST);

	if (n == 0)
		return 0;
	uint64_t t0 = rte_rdtsc();
	w->rx_tsc = t0;
	w->st->rx += n;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		frame(w, pt, pkts[i]);
	}
	if (w->njobs)
		answer_jobs(w);
	w->done_tsc = rte_rdtsc();
	w->st->dns_cycles += w->done_tsc - t0;
	return n;
}

/* What the kernel sent out of a port's exception TAP, handed over by the
 * main thread (m->port: the service port it goes out of). */
static unsigned poll_kernel(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->from_kernel, (void **)pkts, DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++)
		out(w, dp_port_of(w->dp, pkts[i]->port), pkts[i]);
	w->st->from_kernel += n;
	return n;
}

/* Answers the writer resolved for this worker's clients. */
static unsigned poll_answers(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->answers, (void **)pkts, DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + m->l2_len + m->l3_len + 8;

		count_rcode(w, dns[3] & DNS_F_RCODE_MASK);
		if (dns_get16(dns + 2) & DNS_F_TC)
			ST(w, truncated);
		if (unlikely(m->hash.usr) && w->tap_responses)
			tap_answer(w, m);
		out(w, dp_port_of(w->dp, m->port), m);
	}
	w->st->fill_answers += n;
	return n;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;

	/*
	 * The TSC is read once at a turn's start, and twice for each port
	 * that gave a burst (its DNS work's start and end): 3 times in a
	 * busy turn of one port, where this loop used to read it 5 times,
	 * and once in an idle turn. A read costs ~11 ns on this machine's
	 * VMs (AMD EPYC), and the 5 were 8 % of a cache hit's cycles at
	 * 4.6 M answers/s (perf, bench/worker-profile). A busy turn's time
	 * runs to the next turn's start.
	 */
	uint64_t turn = rte_rdtsc();
	bool busy = false;

	urcu_qsbr_register_thread();
	w->drain_tsc = turn + dp->drain_cycles;
	dp_budget_init(&w->budget, __atomic_load_n(&dp->miss_budget, __ATOMIC_RELAXED),
		       rte_get_tsc_hz(), turn);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc();
		unsigned work = 0, rx = 0;

		if (busy)
			w->st->busy_cycles += t0 - turn;
		turn = t0;

		/* the policy for this iteration; the one before is no longer
		 * ours once policy_seen says so (policy.c) */
		w->pol = __atomic_load_n(&dp->policy, __ATOMIC_ACQUIRE);
		if (w->pol && policy_gen(w->pol) != w->pol_gen) {
			w->pol_gen = policy_gen(w->pol);
			w->pol_need = policy_needs(w->pol, policy_zones(w->pol));
			__atomic_store_n(&dp->ctl->policy_seen[w->idx], w->pol_gen,
					 __ATOMIC_RELEASE);
		}

		for (unsigned i = 0; i < dp->n_ports; i++)
			rx += poll_port(w, &dp->ports[i]);
		work += rx + poll_kernel(w) + poll_answers(w);
		/* A full burst means more is coming: batch; otherwise, or at
		 * the deadline, send what there is (now: the end of this
		 * turn's last DNS work, or its start when there was none) */
		uint64_t now = rx ? w->done_tsc : t0;
		if (rx < DP_BURST || now >= w->drain_tsc) {
			for (unsigned i = 0; i < dp->n_ports; i++)
				if (w->tx[i].n)
					tx_flush(w, dp->ports[i].port_id, &w->tx[i]);
			if (w->kq.n)
				kernel_flush(w);
			w->drain_tsc = now + dp->drain_cycles;
		}
		dp_zcount_forget(&w->zc);
		cache_nsec_memo_forget(&w->nm);
		cache_reader_quiescent();
		w->st->iterations++;
		busy = work != 0;
	}
	urcu_qsbr_unregister_thread();
	return 0;
}
