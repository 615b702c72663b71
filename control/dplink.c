/*
 * control/dplink.c: misses in, fills out (see dplink.h). Control process,
 * the loop's thread; attach may block. Every record from the dataplane is
 * checked whole before use; records are copied out of the rings, so
 * nothing the dataplane writes later can change one under us.
 */
#include "control/dplink.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <systemd/sd-daemon.h>

#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "conf/config.h"
#include "answer/negative.h"
#include "answer/reply.h"
#include "answer/settings.h"
#include "control/cpus.h"
#include "control/deleg.h"
#include "control/dnstap.h"
#include "control/dpstats.h"
#include "control/err.h"
#include "control/log.h"
#include "control/iter.h"
#include "control/policy.h"
#include "dns/name.h"
#include "dns/query.h"
#include "net/pkt.h"

#define POLL_MS 1		/* the miss rings are read this often, at least */
#define POLL_BUDGET 1024	/* misses taken per poll, over all rings */
#define TAP_BUDGET 256		/* copies of client messages taken per poll and ring */
#define TAP_CLOCK_MS 1000	/* the TSC's wall-clock pair is taken again this often */
#define POLICY_RETIRED_MAX 8	/* snapshots replaced, not yet released */
#define EAL_ARGS_MAX 16

/* A TCP question waiting for the dataplane's cache (token 0: free). */
struct lookup_wait {
	uint64_t token;
	uint64_t deadline_ms;
	ctl_dp_found_cb cb;
	void *arg;
};

struct ctl_dp {
	struct ctl_loop *loop;
	struct ctl_iter *it;
	struct shm_ctl *ctl;
	struct rte_ring *fill;
	struct rte_ring *lookup, *found;
	uint32_t stale_ms;	/* serve-stale's client timeout; 0: off */
	uint64_t anchors_id;	/* the trust anchors fills are made under */
	uint64_t next_token;
	unsigned nwait;
	struct lookup_wait wait[SHM_LOOKUP_RING_SIZE];
	struct shm_found found_in;	/* the found record being read */
	unsigned n_workers;
	unsigned n_lcores, lcores[SHM_WORKERS_MAX]; /* dataplane.workers (status) */
	struct rte_ring *miss[SHM_WORKERS_MAX];
	struct ctl_timer poll, beat;
	uint64_t dp_instance;
	bool lost;
	unsigned npend;
	struct shm_fill out;	/* the fill being built */
	struct shm_miss in;	/* the miss being read */
	struct ctl_policy *policy;
	const struct cache_nsec *nsec;	/* control's own (ctl_dp_set_nsec()) */
	/* snapshots published and replaced, freed once released (shm.h) */
	struct {
		uint64_t gen;
		void *addr;
	} retired[POLICY_RETIRED_MAX];
	unsigned nretired;
	uint8_t pbuf[SHM_MSG_MAX];	/* a policy answer being written */
	/* the workers' copies of client messages: for dnstap (NULL: none)
	 * and the query log */
	struct ctl_dnstap *dnstap;
	bool qlog;
	struct rte_ring *tap[SHM_WORKERS_MAX];
	uint64_t tap_tsc0, tap_ns0, tap_clock_ms; /* a TSC reading and the wall
						     clock then (ns) */
	alignas(8) uint8_t tap_in[SHM_TAP_ELEM + SHM_TAP_MSG_MAX]; /* a record being read */
};

/* A miss whose policy CNAME's target is being resolved. */
struct chase_wait {
	struct ctl_dp *d;
	struct shm_client c;
};

struct pend {
	struct ctl_dp *d;
	uint8_t kind;
	bool stale_sent;	/* the writer answered from its stale entry */
	bool cd;		/* the client set CD: its answer is not cached */
	bool stale;		/* the resolution's answer is stale */
	bool stale_ok;		/* the worker allowed its stale entry */
	int rcode;		/* the resolution's */
	struct ctl_timer stale_timer;
	struct shm_client c;
};

static struct shm_control_stats *cst(struct ctl_dp *d)
{
	return &d->ctl->control;
}

/* --- fills ---------------------------------------------------------------- */

/* A fill record: store is SHM_FILL_CACHE (keep msg), SHM_FILL_STALE
 * (answer from the stale entry) or 0 (answer with msg, keep nothing); tag:
 * the response policy's verdict kept with the entry (NULL: none). */
static void send_fill_as(struct ctl_dp *d, const struct shm_client *c, uint8_t kind,
			 int rcode, const uint8_t *msg, size_t len, uint8_t store,
			 const struct cache_tag *tag)
{
	struct shm_fill *f = &d->out;

	f->h.type = SHM_REC_FILL;
	f->h.abi = SHM_ABI_VERSION;
	f->h.len = sizeof(*f);
	f->flags = (uint8_t)(store | (kind == SHM_MISS_CLIENT ? SHM_FILL_ANSWER : 0));
	f->rcode = (uint16_t)rcode;
	f->policy_gen = tag ? tag->gen : 0;
	f->policy_rule = tag ? tag->verdict : 0;
	f->anchors_id = d->anchors_id;
	f->rank = CACHE_RANK_NONAUTH_ANSWER;
	f->msg_len = 0;
	if (msg && len > DNS_HDR_LEN) {
		uint16_t flags = dns_get16(msg + 2);
		if (flags & DNS_F_AA)
			f->rank = CACHE_RANK_AUTH_ANSWER;
		/* the iterator sets AD on what it validated as secure only */
		if (flags & DNS_F_AD)
			f->rank = CACHE_RANK_SECURE;
		size_t n;
		if (len <= SHM_MSG_MAX) {
			memcpy(f->msg, msg, len);
			f->msg_len = (uint16_t)len;
		} else if ((f->flags & SHM_FILL_ANSWER) &&
			   !(c->has_edns && (c->edns_flags & DNS_EDNS_F_DO)) &&
			   (n = answer_plain(msg, len, f->msg, SHM_MSG_MAX))) {
			/* too large with its DNSSEC records, which a client
			 * without DO does not get: it gets the rest; the
			 * dataplane's cache nothing (an entry holds them all) */
			f->msg_len = (uint16_t)n;
			f->flags = (uint8_t)(f->flags & ~SHM_FILL_CACHE);
		} else {
			f->flags = (uint8_t)((f->flags & ~SHM_FILL_CACHE) | SHM_FILL_TRUNCATED);
		}
	}
	f->c = *c;
	if (d->lost || rte_ring_sp_enqueue_elem(d->fill, f, sizeof(*f)) != 0) {
		cst(d)->fill_ring_full++;
		return;
	}
	cst(d)->fills++;
}

static void send_fill(struct ctl_dp *d, const struct shm_client *c, uint8_t kind, int rcode,
		      const uint8_t *msg, size_t len, bool stale, const struct cache_tag *tag)
{
	send_fill_as(d, c, kind, rcode, msg, len, stale ? SHM_FILL_STALE : SHM_FILL_CACHE, tag);
}

static bool send_verbatim(struct ctl_dp *d, const struct shm_client *c, const uint8_t *msg,
			  size_t len);

/* A failure answered to a client whose worker did not allow its stale
 * entry: with a policy, the writer must not answer from that entry (the
 * policy has not judged it). */
static bool plain_failure(const struct ctl_dp *d, bool stale_ok)
{
	return !stale_ok && d->policy && ctl_policy_active(d->policy);
}

/*
 * The resolution with the policy's verdict on it (v->v 0 when there is
 * none or no policy): the client gets the policy's answer (a refresh
 * nothing) or msg; the cache keeps msg with the verdict, so that the
 * workers apply it to later hits while the snapshot is theirs.
 */
static void judged(void *arg, const struct ctl_policy_verdict *v, const uint8_t *msg,
		   size_t len)
{
	struct pend *p = arg;
	struct ctl_dp *d = p->d;
	uint8_t kind = p->stale_sent ? SHM_MISS_REFRESH : p->kind;
	struct cache_tag tag = { .gen = v->gen, .verdict = v->rule };

	if (v->v) {
		if (v->v == POLICY_V_ANSWER && kind == SHM_MISS_CLIENT)
			send_verbatim(d, &p->c, v->answer, v->len);
		if (!p->cd && !p->stale)
			send_fill(d, &p->c, SHM_MISS_REFRESH, p->rcode, msg, len, false, &tag);
	} else if (p->cd) {
		/* unvalidated (CD=1): for this client only, never cached */
		if (!p->stale_sent)
			send_fill_as(d, &p->c, SHM_MISS_CLIENT, p->rcode, msg, len, 0, NULL);
	} else if (p->rcode == DNS_R_SERVFAIL && !p->stale && kind == SHM_MISS_CLIENT &&
		   plain_failure(d, p->stale_ok)) {
		send_fill_as(d, &p->c, kind, p->rcode, msg, len, SHM_FILL_PLAIN, NULL);
	} else {
		/* a client answered stale already: the cache only */
		send_fill(d, &p->c, kind, p->rcode, msg, len, p->stale, &tag);
	}
	d->npend--;
	free(p);
}

static void resolved(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	static const struct ctl_policy_verdict none;
	struct pend *p = arg;
	struct ctl_dp *d = p->d;
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;

	ctl_timer_cancel(d->loop, &p->stale_timer);
	p->rcode = rcode;
	p->stale = stale;
	if (cfg_log_on(CFG_LOG_DEBUG)) {
		char via[32];
		snprintf(via, sizeof(via), "worker %u%s", p->c.worker,
			 p->kind == SHM_MISS_CLIENT ? "" : ", a refresh");
		ctl_log_resolved(via, p->c.qname, p->c.qtype, rcode, msg, len, stale);
	}
	if (d->policy && ctl_policy_active(d->policy)) {
		if (!shm_client_query(&p->c, qbuf, &q) &&
		    ctl_policy_respond(d->policy, d->it, &q, p->c.family, p->c.src_ip, false,
				       SHM_MSG_MAX, SHM_MSG_MAX, msg, len, judged, p) == 0)
			return;
		/* not judged (no memory): nothing unjudged goes out */
		p->rcode = DNS_R_SERVFAIL;
		p->stale = false;
		msg = NULL;
		len = 0;
	}
	judged(p, &none, msg, len);
}

/* Resolving takes longer than serve-stale's client timeout: the writer
 * answers the client from the stale entry the worker saw (RFC 8767). The
 * dataplane's cache is the client cache, so its stale data is what
 * clients get, not control's. */
static void stale_due(struct ctl_loop *loop, void *arg)
{
	struct pend *p = arg;

	(void)loop;
	send_fill(p->d, &p->c, p->kind, DNS_R_NOERROR, NULL, 0, true, NULL);
	p->stale_sent = true;
	cst(p->d)->stale_asked++;
}

/* The client's question as a record's struct shm_client: the question
 * and the header fields an answer echoes; no frame addresses (control's
 * clients are not the dataplane's). */
static void client_of(const struct dns_query *q, struct shm_client *c)
{
	memset(c, 0, sizeof(*c));
	c->family = 4;
	shm_client_set_query(c, q);
}

void ctl_dp_fill_cache(struct ctl_dp *d, const struct dns_query *q, int rcode,
		       const uint8_t *msg, size_t len, const struct cache_tag *tag)
{
	struct shm_client c;

	client_of(q, &c);
	c.rx_ms = d->ctl->now_ms;
	send_fill(d, &c, SHM_MISS_REFRESH, rcode, msg, len, false, tag);
}

/* The iterator's denial feed (ctl_iter_set_feed()) as an SHM_FILL_NSEC
 * fill: its question in c for the record checks, nobody to answer. */
void ctl_dp_feed_nsec(struct ctl_dp *d, const uint8_t *msg, size_t len)
{
	struct shm_fill *f = &d->out;
	struct dns_msg m;

	_Static_assert(CACHE_NSEC_FEED_MAX <= SHM_MSG_MAX, "a feed fits in a fill");
	if (len > SHM_MSG_MAX || dns_msg_parse(&m, msg, len) || !m.qname_len)
		return;
	/* a client's answer must not wait for ring room a feed took: feeds
	 * leave a quarter of the ring free */
	if (rte_ring_free_count(d->fill) < SHM_FILL_RING_SIZE / 4) {
		cst(d)->nsec_feed_dropped++;
		return;
	}
	memset(&f->c, 0, sizeof(f->c));
	f->c.family = 4;
	f->c.qtype = m.qtype;
	f->c.qclass = m.qclass;
	f->c.qname_len = m.qname_len;
	memcpy(f->c.qname, m.qname, m.qname_len);
	f->c.rx_ms = d->ctl->now_ms;
	f->h = (struct shm_hdr){ .type = SHM_REC_FILL, .abi = SHM_ABI_VERSION, .len = sizeof(*f) };
	f->anchors_id = d->anchors_id;
	f->flags = SHM_FILL_NSEC;
	f->rank = CACHE_RANK_SECURE;
	f->rcode = 0;
	f->msg_len = (uint16_t)len;
	memcpy(f->msg, msg, len);
	if (d->lost || rte_ring_sp_enqueue_elem(d->fill, f, sizeof(*f)) != 0) {
		cst(d)->fill_ring_full++;
		return;
	}
	cst(d)->nsec_feeds++;
}

/* --- the client cache: control's TCP clients ------------------------------ */

int ctl_dp_lookup(struct ctl_dp *d, const struct dns_query *q, ctl_dp_found_cb cb, void *arg)
{
	struct shm_lookup r = { .h = { SHM_REC_LOOKUP, SHM_ABI_VERSION, sizeof(r) } };
	if (++d->next_token == 0)
		d->next_token = 1; /* 0 marks a free slot */
	uint64_t token = d->next_token;
	struct lookup_wait *w = &d->wait[token % SHM_LOOKUP_RING_SIZE];

	if (d->lost || w->token) {
		cst(d)->lookup_ring_full++;
		return CTL_E_FULL;
	}
	r.token = token;
	client_of(q, &r.c);
	r.c.rx_ms = d->ctl->now_ms;
	if (rte_ring_sp_enqueue_elem(d->lookup, &r, sizeof(r)) != 0) {
		cst(d)->lookup_ring_full++;
		return CTL_E_FULL;
	}
	*w = (struct lookup_wait){ token, ctl_now_ms() + SHM_LOOKUP_WAIT_MS, cb, arg };
	d->nwait++;
	cst(d)->lookups++;
	return 0;
}

static void lookup_done(struct ctl_dp *d, struct lookup_wait *w, const uint8_t *msg,
			size_t len, bool stale)
{
	struct lookup_wait done = *w;

	w->token = 0;
	d->nwait--;
	done.cb(done.arg, msg, len, stale);
}

/* The cache's answers, then the questions it did not answer in time. */
static void poll_found(struct ctl_dp *d)
{
	uint64_t now = ctl_now_ms();

	while (d->nwait &&
	       rte_ring_sc_dequeue_elem(d->found, &d->found_in, sizeof(d->found_in)) == 0) {
		struct shm_found *f = &d->found_in;
		struct lookup_wait *w;
		if (shm_found_check(f)) {
			cst(d)->bad_records++;
			continue;
		}
		w = &d->wait[f->token % SHM_LOOKUP_RING_SIZE];
		if (!f->token || w->token != f->token)
			continue; /* it timed out: already resolving */
		if (f->msg_len)
			cst(d)->lookup_hits++;
		else
			cst(d)->lookup_misses++;
		lookup_done(d, w, f->msg_len ? f->msg : NULL, f->msg_len, f->stale);
	}
	for (unsigned i = 0; d->nwait && i < SHM_LOOKUP_RING_SIZE; i++) {
		struct lookup_wait *w = &d->wait[i];
		if (w->token && (now >= w->deadline_ms || d->lost)) {
			cst(d)->lookup_timeouts++;
			lookup_done(d, w, NULL, 0, false);
		}
	}
}

/* --- policy --------------------------------------------------------------- */

/* A policy answer for the client of a miss, sent as it is (not the
 * cache's entry for the question, which the policy overrides): whether it
 * went into the fill ring. */
static bool send_verbatim(struct ctl_dp *d, const struct shm_client *c, const uint8_t *msg,
			  size_t len)
{
	struct shm_fill *f = &d->out;

	if (!msg || len < DNS_HDR_LEN || len > SHM_MSG_MAX) {
		send_fill_as(d, c, SHM_MISS_CLIENT, DNS_R_SERVFAIL, NULL, 0, 0, NULL);
		return false;
	}
	f->policy_gen = 0;
	f->policy_rule = 0;
	f->anchors_id = d->anchors_id;
	f->h.type = SHM_REC_FILL;
	f->h.abi = SHM_ABI_VERSION;
	f->h.len = sizeof(*f);
	f->flags = SHM_FILL_ANSWER | SHM_FILL_VERBATIM;
	f->rank = CACHE_RANK_NONAUTH_ANSWER;
	f->rcode = dns_get16(msg + 2) & DNS_F_RCODE_MASK;
	f->msg_len = (uint16_t)len;
	memcpy(f->msg, msg, len);
	f->c = *c;
	if (d->lost || rte_ring_sp_enqueue_elem(d->fill, f, sizeof(*f)) != 0) {
		cst(d)->fill_ring_full++;
		return false;
	}
	cst(d)->fills++;
	return true;
}

static void chase_done(void *arg, const uint8_t *msg, size_t len)
{
	struct chase_wait *w = arg;

	send_verbatim(w->d, &w->c, msg, len);
	free(w);
}

/* The policy's say on a client's miss: true when it answered (or dropped)
 * the question, false when it goes to the iterator. */
static bool miss_policy(struct ctl_dp *d, const struct shm_client *c)
{
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;
	size_t len = 0;
	struct chase_wait *w;

	if (!ctl_policy_active(d->policy))
		return false;
	w = malloc(sizeof(*w));
	if (!w || shm_client_query(c, qbuf, &q)) {
		free(w);
		return false;
	}
	w->d = d;
	w->c = *c;
	int v = ctl_policy_apply(d->policy, d->it, &q, c->family, c->src_ip, false,
				 SHM_MSG_MAX, d->pbuf, sizeof(d->pbuf), &len, chase_done, w);
	if (v != POLICY_V_CHASE)
		free(w);
	if (v == POLICY_V_ANSWER)
		send_verbatim(d, c, d->pbuf, len);
	return v == POLICY_V_ANSWER || v == POLICY_V_DROP || v == POLICY_V_CHASE;
}

void ctl_dp_set_policy(struct ctl_dp *d, struct ctl_policy *p)
{
	d->policy = p;
}

/* --- RFC 8198 in control ----------------------------------------------------- */

void ctl_dp_set_nsec(struct ctl_dp *d, const struct cache_nsec *n)
{
	d->nsec = n;
}

/* A client's miss that control's own store proves, answered from it as a
 * worker would have (the same conditions as its miss path): true when
 * answered. The writer sends the message as it is (nothing cached, no
 * cache entry read) with its own OPT, truncated to the client's size. */
static bool miss_nsec(struct ctl_dp *d, const struct shm_client *c)
{
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;

	if (!d->nsec || shm_client_query(c, qbuf, &q))
		return false;
	/* a policy that waits for the zone's name servers, or a question's
	 * match that waits for the response: the iterator answers */
	if (d->policy && ctl_policy_waits(d->policy, &q, c->family, c->src_ip))
		return false;
	/* at or below a stub or forward zone the public proofs say nothing */
	if (ctl_deleg_configured(ctl_iter_deleg(d->it), dns_query_qname(&q)))
		return false;
	/* whole, whatever the client's size (the writer fits it to that and
	 * to the link); the OPT's size is a placeholder for the writer's */
	int n = answer_from_nsec(d->nsec, &q, ctl_iter_now(), DNS_EDNS_MIN_UDP, d->pbuf,
				 sizeof(d->pbuf), true, NULL);
	if (n <= 0)
		return false;
	/* (not queued: the ring is full or the dataplane gone; counted
	 * there, and the iterator would fare no better) */
	if (send_verbatim(d, c, d->pbuf, (size_t)n))
		cst(d)->nsec_synth++;
	return true;
}

/* Frees what no worker uses any more. */
static void free_released(struct ctl_dp *d)
{
	uint64_t released = __atomic_load_n(&d->ctl->policy_released, __ATOMIC_ACQUIRE);
	unsigned k = 0;

	for (unsigned i = 0; i < d->nretired; i++) {
		if (d->retired[i].gen < released)
			rte_free(d->retired[i].addr);
		else
			d->retired[k++] = d->retired[i];
	}
	d->nretired = k;
}

int ctl_dp_publish_policy(struct ctl_dp *d, const struct policy_snap *s, size_t len)
{
	struct shm_ctl *ctl = d->ctl;

	free_released(d);
	if (d->nretired == POLICY_RETIRED_MAX)
		return CTL_E_FULL; /* the workers have not moved on: try later */
	void *m = rte_malloc("bw_policy", len, 64);
	if (!m)
		return CTL_E_NOMEM;
	memcpy(m, s, len);
	if (ctl->policy_gen)
		d->retired[d->nretired++] = (typeof(d->retired[0])){
			ctl->policy_gen, (void *)(uintptr_t)ctl->policy_addr };
	ctl->policy_addr = (uint64_t)(uintptr_t)m;
	ctl->policy_len = len;
	__atomic_store_n(&ctl->policy_gen, policy_gen(s), __ATOMIC_RELEASE);
	return 0;
}

void ctl_dp_publish_settings(struct ctl_dp *d, const struct cfg *cfg, uint64_t gen,
			     const uint8_t *cfg_sha256, uint64_t anchors_id)
{
	struct shm_ctl *ctl = d->ctl;
	struct shm_settings *s = &ctl->settings;

	_Static_assert(SHM_ACL_MAX >= CFG_ACL_MAX, "the shared ACL holds the configuration's");
	d->anchors_id = anchors_id; /* fills from now on are of these */
	d->stale_ms = cfg->cache.stale_enabled ? cfg->cache.stale_client_timeout_ms : 0;
	/* one writer: the attached control (an earlier one, stopped and
	 * replaced, may wake up; it must not write) */
	if (ctl->ctl_pid != getpid())
		return;
	/* even at rest, odd while written, whatever a control that died
	 * half-way through left */
	uint32_t seq = (ctl->settings_seq + 1) & ~1u;
	__atomic_store_n(&ctl->settings_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->n_acl = cfg->n_acl;
	s->edns_size = cfg->resolver.upstream.edns_buffer;
	s->miss_overflow = cfg->dataplane.miss_overflow;
	s->miss_budget = cfg->dataplane.miss_budget;
	struct cache_config cc;
	answer_cache_config(cfg, &cc);
	s->max_ttl = cc.max_ttl;
	s->max_negative_ttl = cc.max_negative_ttl;
	s->max_stale = cc.max_stale;
	s->stale_answer_ttl = cc.stale_answer_ttl;
	s->prefetch_percent = cc.prefetch_percent;
	s->anchors_id = anchors_id;
	s->n_routed = answer_routed_zones(cfg, s->routed, SHM_ROUTED_MAX);
	memset(s->acl, 0, sizeof(s->acl));
	for (unsigned i = 0; i < cfg->n_acl && i < SHM_ACL_MAX; i++) {
		const struct cfg_acl_rule *r = &cfg->acl[i];
		s->acl[i].family = r->prefix.a.family;
		s->acl[i].len = r->prefix.len;
		s->acl[i].action = r->action;
		memcpy(s->acl[i].addr, r->prefix.a.addr, sizeof(s->acl[i].addr));
	}
	memcpy(s->config_sha256, cfg_sha256, sizeof(s->config_sha256));
	s->gen = gen;
	__atomic_store_n(&ctl->settings_seq, seq + 2, __ATOMIC_RELEASE);
}

uint64_t ctl_dp_settings_gen(const struct ctl_dp *d)
{
	return d->ctl->settings.gen;
}

void ctl_dp_settings_state(const struct ctl_dp *d, uint64_t *active, uint64_t *rejected)
{
	*active = d->ctl->settings_active;
	*rejected = d->ctl->settings_rejected;
}

uint64_t ctl_dp_dump(struct ctl_dp *d, uint64_t pos, const uint8_t *under)
{
	struct shm_ctl *c = d->ctl;
	uint64_t done = __atomic_load_n(&c->dump_done, __ATOMIC_ACQUIRE);

	if (d->lost || c->dump_seq != done)
		return 0;
	c->dump_pos = pos;
	memset(c->dump_under, 0, sizeof(c->dump_under));
	if (under)
		memcpy(c->dump_under, under, dns_name_len(under));
	__atomic_store_n(&c->dump_seq, done + 1, __ATOMIC_RELEASE);
	return done + 1;
}

bool ctl_dp_dump_page(const struct ctl_dp *d, uint64_t seq, const struct shm_dump_entry **e,
		      unsigned *n, uint64_t *next, bool *refused)
{
	const struct shm_ctl *c = d->ctl;

	if (__atomic_load_n(&c->dump_done, __ATOMIC_ACQUIRE) != seq)
		return false;
	*e = c->dump;
	*n = c->dump_n < SHM_DUMP_PAGE ? c->dump_n : SHM_DUMP_PAGE;
	*next = c->dump_next;
	*refused = c->dump_status != SHM_FLUSH_OK;
	return true;
}

uint64_t ctl_dp_flush(struct ctl_dp *d, unsigned mode, const uint8_t *name)
{
	_Static_assert(SHM_FLUSH_NAME == CACHE_FLUSH_NAME && SHM_FLUSH_ZONE == CACHE_FLUSH_ZONE &&
		       SHM_FLUSH_NEGATIVE == CACHE_FLUSH_NEGATIVE && SHM_FLUSH_ALL == CACHE_FLUSH_ALL,
		       "the request's mode is the cache's (control/flush.c)");
	struct shm_ctl *c = d->ctl;
	uint64_t done = __atomic_load_n(&c->flush_done, __ATOMIC_ACQUIRE);

	if (c->flush_seq != done)
		return 0;
	c->flush_mode = mode;
	memset(c->flush_name, 0, sizeof(c->flush_name));
	if (name)
		memcpy(c->flush_name, name, dns_name_len(name));
	__atomic_store_n(&c->flush_seq, done + 1, __ATOMIC_RELEASE);
	return done + 1;
}

bool ctl_dp_flush_done(const struct ctl_dp *d, uint64_t seq, uint64_t *removed,
		       uint64_t *zones, uint32_t *status)
{
	const struct shm_ctl *c = d->ctl;

	if (__atomic_load_n(&c->flush_done, __ATOMIC_ACQUIRE) != seq)
		return false;
	*removed = c->flush_removed;
	*zones = c->flush_zones;
	*status = c->flush_status;
	return true;
}

uint64_t ctl_dp_policy_gen(const struct ctl_dp *d)
{
	return d->ctl->policy_gen;
}

void ctl_dp_policy_state(const struct ctl_dp *d, uint64_t *active, uint64_t *rejected)
{
	*active = d->ctl->policy_active;
	*rejected = d->ctl->policy_rejected;
}

/* --- misses --------------------------------------------------------------- */

static void take_miss(struct ctl_dp *d, const struct shm_miss *r)
{
	struct shm_client c = r->c;
	/* CD=1 (RFC 4035 3.2.2): resolved unvalidated, answered, not cached */
	unsigned flags = r->kind == SHM_MISS_CLIENT && (c.dns_flags & DNS_F_CD) ? CTL_ITER_CD : 0;
	struct pend *p;

	if (d->ctl->now_ms - c.rx_ms > SHM_MISS_MAX_AGE_MS) {
		cst(d)->too_old++;
		return;
	}
	if (r->kind == SHM_MISS_REFRESH)
		cst(d)->refreshes++;
	else if ((d->policy && miss_policy(d, &c)) || miss_nsec(d, &c))
		return;
	if (!(p = malloc(sizeof(*p))))
		goto overload;
	p->d = d;
	p->kind = r->kind;
	p->c = c;
	p->stale_sent = false;
	p->stale_ok = r->kind == SHM_MISS_CLIENT && r->stale;
	p->cd = flags & CTL_ITER_CD;
	ctl_timer_init(&p->stale_timer);
	int rc = r->kind == SHM_MISS_REFRESH
		 ? ctl_iter_refresh(d->it, c.qname, c.qtype, c.qclass, flags, resolved, p)
		 : ctl_iter_resolve(d->it, c.qname, c.qtype, c.qclass, flags, resolved, p);
	if (rc == 0) {
		d->npend++;
		if (r->kind == SHM_MISS_CLIENT && r->stale && d->stale_ms)
			ctl_timer_add(d->loop, &p->stale_timer, d->stale_ms, stale_due, p);
		return;
	}
	free(p);
overload:
	cst(d)->overload++;
	if (r->kind == SHM_MISS_CLIENT)
		send_fill_as(d, &c, r->kind, DNS_R_SERVFAIL, NULL, 0,
			     plain_failure(d, r->stale) ? SHM_FILL_PLAIN : SHM_FILL_CACHE, NULL);
}

/* --- dnstap ------------------------------------------------------------------ */

int ctl_dp_set_taps(struct ctl_dp *d, struct ctl_dnstap *t, bool qlog, char *err,
		    size_t errlen)
{
	for (unsigned i = 0; (t || qlog) && i < d->n_workers; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), SHM_TAP_RING_FMT, i);
		if (!(d->tap[i] = rte_ring_lookup(name))) {
			snprintf(err, errlen, "ring %s is missing: the dataplane was started "
					      "without dnstap's client messages or the query log", name);
			return CTL_E_ABI;
		}
		/* an earlier control may have died inside a record: what waits
		 * now is a whole number of records from there, not ours */
		for (unsigned k = rte_ring_count(d->tap[i]); k; k--)
			rte_ring_sc_dequeue_elem(d->tap[i], d->tap_in, SHM_TAP_ELEM);
	}
	d->dnstap = t;
	d->qlog = qlog;
	return 0;
}

/* The dataplane's TSC reading tsc as wall-clock ns (0: not known, or more
 * than a day from our own reading: not a time the workers took lately). */
static uint64_t tap_time(const struct ctl_dp *d, uint64_t tsc)
{
	if (!tsc || !d->ctl->tsc_hz)
		return 0;
	double dt = (double)(int64_t)(tsc - d->tap_tsc0) * 1e9 / (double)d->ctl->tsc_hz;
	if (dt > 86400e9 || dt < -86400e9)
		return 0;
	return d->tap_ns0 + (uint64_t)(int64_t)dt;
}

static void tap_send(struct ctl_dp *d, const struct shm_tap *r, unsigned worker)
{
	int family = r->family == NET_PKT_IPV6 ? AF_INET6 : AF_INET;
	bool query = (r->kind & SHM_TAP_KIND_MASK) == SHM_TAP_CLIENT_QUERY;

	if ((r->kind & SHM_TAP_FOR_LOG) && d->qlog) {
		char via[32];
		snprintf(via, sizeof(via), "worker %u", worker);
		ctl_log_query(via, family, r->client_ip, r->client_port, false, r->msg, r->msg_len);
	}
	if (!(r->kind & SHM_TAP_FOR_DNSTAP) || !d->dnstap)
		return;
	struct ctl_dnstap_msg m = {
		.type = query ? CTL_DNSTAP_CLIENT_QUERY : CTL_DNSTAP_CLIENT_RESPONSE,
		.family = family,
		.query_addr = r->client_ip,
		.response_addr = r->server_ip,
		.query_port = r->client_port,
		.response_port = r->server_port,
		.query_ns = tap_time(d, r->query_tsc),
		.response_ns = tap_time(d, r->response_tsc),
		.msg = r->msg,
		.len = r->msg_len,
	};
	ctl_dnstap_send(d->dnstap, &m);
}

/* Takes what the workers copied for dnstap and the query log, at most
 * TAP_BUDGET records from each ring per poll (a busy worker neither
 * starves the others' rings nor control's misses: what waits longer is
 * the workers' to drop, counted). A record comes whole (its elements were
 * enqueued together); one that fails the check means the ring cannot be
 * trusted to be at a record's start: what it holds now goes (a whole
 * number of records), counted once. */
static void poll_taps(struct ctl_dp *d)
{
	if (!d->dnstap && !d->qlog)
		return;
	uint64_t now = ctl_now_ms();
	if (now - d->tap_clock_ms >= TAP_CLOCK_MS) {
		d->tap_tsc0 = rte_rdtsc();
		d->tap_ns0 = ctl_dnstap_now_ns();
		d->tap_clock_ms = now;
	}
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct rte_ring *ring = d->tap[i];
		struct shm_tap *r = (struct shm_tap *)d->tap_in;
		for (unsigned taken = 0;
		     taken < TAP_BUDGET && rte_ring_sc_dequeue_elem(ring, r, SHM_TAP_ELEM) == 0;
		     taken++) {
			cst(d)->tap_records++;
			unsigned rest = shm_tap_check(r) ? UINT32_MAX :
				(unsigned)((r->h.len + SHM_TAP_ELEM - 1) / SHM_TAP_ELEM - 1);
			if (rest == UINT32_MAX ||
			    (rest && rte_ring_sc_dequeue_bulk_elem(ring, r->msg, SHM_TAP_ELEM,
								   rest, NULL) != rest)) {
				cst(d)->tap_bad_records++;
				unsigned n = rte_ring_count(ring);
				for (unsigned k = 0; k < n; k++)
					rte_ring_sc_dequeue_elem(ring, r, SHM_TAP_ELEM);
				break;
			}
			tap_send(d, r, i);
		}
	}
}

static void poll_misses(struct ctl_loop *loop, void *arg)
{
	struct ctl_dp *d = arg;
	unsigned taken = 0;
	bool more = true;

	poll_found(d);
	poll_taps(d);
	while (more && taken < POLL_BUDGET && !d->lost) {
		more = false;
		for (unsigned i = 0; i < d->n_workers; i++) {
			if (rte_ring_sc_dequeue_elem(d->miss[i], &d->in, sizeof(d->in)) != 0)
				continue;
			more = true;
			taken++;
			cst(d)->misses++;
			if (shm_miss_check(&d->in, i, d->n_workers)) {
				cst(d)->bad_records++;
				continue;
			}
			take_miss(d, &d->in);
		}
	}
	/* A full budget means more is waiting: come back at once. */
	ctl_timer_add(loop, &d->poll, taken >= POLL_BUDGET ? 0 : POLL_MS, poll_misses, d);
}

/* --- liveness ------------------------------------------------------------- */

void ctl_dp_publish_log(struct ctl_dp *d)
{
	/* one writer: the attached control (an earlier one, stopped and
	 * replaced, may wake up; it must not write) */
	if (d->ctl->ctl_pid == getpid())
		__atomic_store_n(&d->ctl->log_setting,
				 (uint64_t)(uint32_t)getpid() << 32 | SHM_LOG_SET |
					 cfg_log_get_target() << 8 | cfg_log_get_level(),
				 __ATOMIC_RELEASE);
}

static void heartbeat(struct ctl_loop *loop, void *arg)
{
	struct ctl_dp *d = arg;
	uint64_t now = ctl_now_ms();
	int32_t pid = d->ctl->dp_pid;

	d->ctl->ctl_heartbeat_ms = now;
	if (d->nretired)
		free_released(d);
	/* a snapshot the dataplane could not be given yet (no hugepage
	 * memory, too many not released): again until it takes one */
	size_t len;
	const struct policy_snap *s = d->policy ? ctl_policy_snap(d->policy, &len) : NULL;
	if (s && policy_gen(s) > d->ctl->policy_gen)
		ctl_dp_publish_policy(d, s, len);
	if (d->ctl->dp_instance != d->dp_instance ||
	    (kill(pid, 0) != 0 && errno == ESRCH) ||
	    (int64_t)(now - d->ctl->dp_heartbeat_ms) > SHM_DEAD_MS)
		d->lost = true;
	if (!d->lost)
		ctl_timer_add(loop, &d->beat, SHM_HEARTBEAT_MS, heartbeat, d);
}

bool ctl_dp_lost(const struct ctl_dp *d)
{
	return d->lost;
}

/* --- attach --------------------------------------------------------------- */

static const char *prefix_of(const struct cfg *cfg)
{
	static const char key[] = "--file-prefix=";

	for (unsigned i = 0; i < cfg->dataplane.n_eal; i++) {
		const char *a = cfg->dataplane.eal[i];
		if (!strncmp(a, key, sizeof(key) - 1))
			return a + sizeof(key) - 1;
		if (!strcmp(a, "--file-prefix") && i + 1 < cfg->dataplane.n_eal)
			return cfg->dataplane.eal[i + 1];
	}
	return "rte";
}

static int eal_secondary(const struct cfg *cfg, const char *argv0)
{
	static char args[EAL_ARGS_MAX][CFG_EAL_ARG_MAX + 16];
	char *argv[EAL_ARGS_MAX];
	int argc = 0;
	cpu_set_t cpus;
	bool have_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;
	int first = 0;

	if (have_cpus)
		while (first < CPU_SETSIZE && !CPU_ISSET(first, &cpus))
			first++;
	snprintf(args[argc++], sizeof(args[0]), "%s", argv0);
	snprintf(args[argc++], sizeof(args[0]), "--proc-type=secondary");
	snprintf(args[argc++], sizeof(args[0]), "--file-prefix=%s", prefix_of(cfg));
	snprintf(args[argc++], sizeof(args[0]), "-l");
	snprintf(args[argc++], sizeof(args[0]), "%d", first);
	snprintf(args[argc++], sizeof(args[0]), "--no-pci");
	snprintf(args[argc++], sizeof(args[0]), "--log-level=lib.eal:warning");
	/* the options that say where the primary's memory is, in either form
	 * (--opt=value or --opt value); the dataplane's default mapping */
	bool base = false;
	for (unsigned i = 0; i < cfg->dataplane.n_eal; i++)
		base |= !strncmp(cfg->dataplane.eal[i], "--base-virtaddr", 15);
	if (!base)
		snprintf(args[argc++], sizeof(args[0]), "--base-virtaddr=" SHM_BASE_VIRTADDR);
	for (unsigned i = 0; i < cfg->dataplane.n_eal && argc < EAL_ARGS_MAX - 2; i++) {
		const char *a = cfg->dataplane.eal[i];
		if (strncmp(a, "--huge-dir", 10) && strncmp(a, "--base-virtaddr", 15))
			continue;
		snprintf(args[argc++], sizeof(args[0]), "%s", a);
		if (!strchr(a, '=') && i + 1 < cfg->dataplane.n_eal)
			snprintf(args[argc++], sizeof(args[0]), "%s", cfg->dataplane.eal[++i]);
	}
	for (int i = 0; i < argc; i++)
		argv[i] = args[i];
	int rc = rte_eal_init(argc, argv);
	/* EAL pinned us to one lcore; control is an ordinary process. */
	if (have_cpus)
		sched_setaffinity(0, sizeof(cpus), &cpus);
	return rc;
}

/* A nap while waiting for the dataplane: control is well, it waits on
 * purpose, so systemd's watchdog is kept (after a re-execution it is
 * armed; at the first start it is not yet, and the ping is ignored). */
static void nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
	sd_notify(0, "WATCHDOG=1");
}

struct ctl_dp *ctl_dp_attach(struct ctl_loop *loop, struct ctl_iter *it,
			     const struct cfg *cfg, const uint8_t *cfg_sha256,
			     const char *argv0,
			     volatile int *stop, uint32_t wait_ms,
			     int *code, char *err, size_t errlen)
{
	char path[256];
	uint64_t deadline = ctl_now_ms() + wait_ms;
	const struct rte_memzone *mz = NULL;

	snprintf(path, sizeof(path), "/var/run/dpdk/%s/config", prefix_of(cfg));
	sd_notify(0, "STATUS=waiting for the dataplane");
	while (!rte_eal_primary_proc_alive(path)) {
		if (*stop || (wait_ms && ctl_now_ms() > deadline)) {
			snprintf(err, errlen, "no dataplane is running (file prefix %s): "
					      "start bailiwick-dataplane first", prefix_of(cfg));
			*code = CTL_E_NO_DATAPLANE;
			return NULL;
		}
		nap_ms(100);
	}
	if (eal_secondary(cfg, argv0) < 0) {
		snprintf(err, errlen, "EAL secondary: %s (is the dataplane running with "
				      "the same --file-prefix?)", rte_strerror(rte_errno));
		*code = CTL_E_NO_DATAPLANE;
		return NULL;
	}
	/* The dataplane creates the block last, after its ports are up. */
	for (;;) {
		mz = rte_memzone_lookup(SHM_CTL_NAME);
		if (mz && __atomic_load_n(&((struct shm_ctl *)mz->addr)->magic,
					  __ATOMIC_ACQUIRE) == SHM_MAGIC)
			break;
		if (*stop || (wait_ms && ctl_now_ms() > deadline)) {
			snprintf(err, errlen, "the dataplane did not publish %s", SHM_CTL_NAME);
			*code = CTL_E_NO_DATAPLANE;
			return NULL;
		}
		nap_ms(50);
	}
	struct shm_ctl *ctl = mz->addr;
	/* (the block's size too: a change of it under one ABI number, no
	 * more than the cache line EAL rounds it to) */
	if (mz->len < sizeof(struct shm_ctl) || mz->len - sizeof(struct shm_ctl) >= RTE_CACHE_LINE_SIZE ||
	    ctl->abi != SHM_ABI_VERSION ||
	    ctl->record_sizes[0] != sizeof(struct shm_miss) ||
	    ctl->record_sizes[1] != sizeof(struct shm_fill) ||
	    ctl->record_sizes[2] != sizeof(struct shm_lookup) ||
	    ctl->record_sizes[3] != sizeof(struct shm_found) ||
	    ctl->n_workers == 0 || ctl->n_workers > SHM_WORKERS_MAX) {
		snprintf(err, errlen, "the dataplane speaks ABI %u (records %u/%u octets, a "
				      "control block of %zu, %u workers); this control speaks "
				      "ABI %u (%zu/%zu, %zu): run matching builds",
			 ctl->abi, ctl->record_sizes[0], ctl->record_sizes[1], mz->len,
			 ctl->n_workers, SHM_ABI_VERSION, sizeof(struct shm_miss),
			 sizeof(struct shm_fill), sizeof(struct shm_ctl));
		*code = CTL_E_ABI;
		return NULL;
	}
	/* the file the dataplane started from, or the one a control's reload
	 * published since */
	if (memcmp(ctl->config_sha256, cfg_sha256, sizeof(ctl->config_sha256)) != 0 &&
	    !(ctl->settings.gen &&
	      memcmp(ctl->settings.config_sha256, cfg_sha256, sizeof(ctl->config_sha256)) == 0)) {
		snprintf(err, errlen, "the dataplane (pid %d) was started from another "
				      "configuration file than this control's: start both "
				      "with the same -c FILE", ctl->dp_pid);
		*code = CTL_E_CONFIG_FILE;
		return NULL;
	}
	struct ctl_dp *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		*code = CTL_E_NOMEM;
		return NULL;
	}
	d->loop = loop;
	d->it = it;
	d->ctl = ctl;
	d->n_workers = ctl->n_workers;
	for (unsigned i = 0; i < cfg->dataplane.n_workers && i < SHM_WORKERS_MAX; i++)
		d->lcores[d->n_lcores++] = cfg->dataplane.workers[i];
	/* tokens of an earlier control's lookups may still come back: ours
	 * start anywhere, and what waits in the ring now is not ours */
	if (getrandom(&d->next_token, sizeof(d->next_token), 0) != sizeof(d->next_token))
		d->next_token = ctl_now_us();
	d->stale_ms = cfg->cache.stale_enabled ? cfg->cache.stale_client_timeout_ms : 0;
	d->dp_instance = ctl->dp_instance;
	d->fill = rte_ring_lookup(SHM_FILL_RING_NAME);
	d->lookup = rte_ring_lookup(SHM_LOOKUP_RING_NAME);
	d->found = rte_ring_lookup(SHM_FOUND_RING_NAME);
	for (unsigned i = 0; i < d->n_workers; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), SHM_MISS_RING_FMT, i);
		d->miss[i] = rte_ring_lookup(name);
		if (!d->miss[i]) {
			snprintf(err, errlen, "ring %s is missing", name);
			*code = CTL_E_ABI;
			free(d);
			return NULL;
		}
	}
	if (d->found)
		while (rte_ring_sc_dequeue_elem(d->found, &d->found_in, sizeof(d->found_in)) == 0)
			;
	if (!d->fill || !d->lookup || !d->found) {
		snprintf(err, errlen, "ring %s, %s or %s is missing", SHM_FILL_RING_NAME,
			 SHM_LOOKUP_RING_NAME, SHM_FOUND_RING_NAME);
		*code = CTL_E_ABI;
		free(d);
		return NULL;
	}
	/* The miss rings have one consumer: a second control must not attach
	 * while the first lives (after our own re-exec the pid is ours). */
	int32_t old = __atomic_load_n(&ctl->ctl_pid, __ATOMIC_ACQUIRE);
	if (old > 0 && old != getpid() && (kill(old, 0) == 0 || errno == EPERM) &&
	    (int64_t)(ctl->now_ms - ctl->ctl_heartbeat_ms) < SHM_DEAD_MS) {
		snprintf(err, errlen, "another bailiwick-control (pid %d) is attached to this "
				      "dataplane", old);
		*code = CTL_E_ATTACHED;
		free(d);
		return NULL;
	}
	ctl->ctl_heartbeat_ms = ctl_now_ms();
	if (!__atomic_compare_exchange_n(&ctl->ctl_pid, &old, getpid(), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		snprintf(err, errlen, "another bailiwick-control (pid %d) attached at the "
				      "same time", old);
		*code = CTL_E_ATTACHED;
		free(d);
		return NULL;
	}
	ctl->control.attaches++;
	ctl_cpus_keep_off(ctl->worker_cpus, SHM_CPU_WORDS);
	/* an earlier control's snapshot, still the workers': ours replaces
	 * it, and it is freed once they have moved on */
	ctl_timer_init(&d->poll);
	ctl_timer_init(&d->beat);
	ctl_timer_add(loop, &d->poll, 0, poll_misses, d);
	ctl_timer_add(loop, &d->beat, SHM_HEARTBEAT_MS, heartbeat, d);
	return d;
}

void ctl_dp_detach(struct ctl_dp *d)
{
	if (!d)
		return;
	/* what no worker uses any more; the rest is the next control's to
	 * free (the one in force), or lost with it (shm.h says so) */
	if (!d->lost && d->nretired)
		free_released(d);
	ctl_timer_cancel(d->loop, &d->poll);
	ctl_timer_cancel(d->loop, &d->beat);
	if (!d->lost && d->ctl->ctl_pid == getpid())
		__atomic_store_n(&d->ctl->ctl_pid, 0, __ATOMIC_RELEASE);
	free(d);
}

uint64_t ctl_dp_clock_base_ms(const struct ctl_dp *d)
{
	return d->ctl->clock_base_ms;
}

void ctl_dp_print_stats(const struct ctl_dp *d, FILE *f)
{
	ctl_dpstats_print(d->ctl, d->n_workers, f);
}

void ctl_dp_print_ports(const struct ctl_dp *d, FILE *f)
{
	ctl_dpstats_ports(d->ctl, d->n_workers, d->lcores, d->n_lcores, f);
}
