/*
 * control/iter.c: the iterative resolver (see iter.h). Control process, one
 * thread, driven by the loop: every step runs from a loop callback (an
 * upstream reply, a timeout, a deferred start), never inside the caller's
 * ctl_iter_resolve(), so callbacks never re-enter.
 *
 * A resolution (struct req) owns: the name it is after now (the question,
 * or the end of the CNAME chain so far), a copy of the cut it follows (the
 * table's entries may be replaced while a query is out), the answer being
 * assembled in a builder (chain records as they come, then the data or the
 * SOA), and the budget of its client question (shared with its glueless
 * sub-resolutions). Per server address, a small table keeps the smoothed
 * RTT and whether EDNS works.
 */
#define _LGPL_SOURCE
#include "control/iter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/msgcache.h"
#include "control/chain.h"
#include "control/deleg.h"
#include "control/infra.h"
#include "control/log.h"
#include "control/rng.h"
#include "control/scrub.h"
#include "control/upstream.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/query.h"
#include "net/pkt.h"

#define MSG_MAX 16384		/* an assembled answer */
#define SPARE_MAX 256		/* freed resolutions kept for reuse */
#if defined(__SANITIZE_ADDRESS__)	/* gcc */
#define SPARE_KEEP false	/* ASan sees every use after free */
#elif defined(__has_feature)
#define SPARE_KEEP (!__has_feature(address_sanitizer)) /* clang */
#else
#define SPARE_KEEP true
#endif
#define TRIED_MAX (CTL_DELEG_NS_MAX * CTL_DELEG_ADDR_MAX) /* every address of a cut */
#define SUB_DEPTH_MAX 3		/* glueless resolutions within glueless ones */
#define QMIN_STEPS_MAX 10	/* RFC 9156 MAX_MINIMISE_COUNT */
#define TIMEOUT_PENALTY_MS 1000 /* per attempt already made, when choosing */
#define EXPLORE_PERCENT 5	/* a random server instead of the fastest */
#define EDNS_PROBE_TIMEOUTS 2
#define BACKOFF_MAX_SHIFT 2	/* a retry waits at most 4 times the timeout */
#define NAMES_SEEN_MAX 32
#define PRIME_RETRY_S 60	/* a failed or expired priming is tried again after */
#define KEY_DEPTH_MAX 8		/* DS and DNSKEY sub-questions within each other */
#define BOGUS_RETRIES 2		/* other servers asked after a bogus reply */
#define EDE_TEXT_MAX 80		/* the reason's text in an Extended DNS Error */
#define SIGNER_FETCHES_MAX 4	/* DS/DNSKEY fetches for zones below a cut */
#define KEY_FETCHES_MAX 32	/* DS/DNSKEY sub-questions asked or joined per
				   request (a client's: with its CNAME/DNAME
				   chain, max-cname-chain 11 links into as many
				   signed zones from a cold cache) */
#define KEY_ASKS_MAX 3		/* times one of them is asked or joined (key_sub()) */
#define KEY_JOIN_SCAN 64	/* joinable key questions looked at for a join */
#define LOG_BOGUS_PER_S 10	/* log lines about bogus answers a second */

/* What a sub-resolution is for. */
enum sub_kind {
	SUB_NS = 0,	/* an NS name's addresses (glueless) */
	SUB_DS,		/* a zone's DS set, for the chain of trust */
	SUB_KEYS,	/* a zone's DNSKEY set */
};

struct budget {
	uint32_t queries;
	uint32_t referrals;
	uint64_t deadline_ms;
};

struct ns_state {
	uint8_t name[DNS_NAME_MAX];
	uint8_t naddr;
	bool looked_up;		/* cache and (if allowed) sub-resolution done */
	struct ctl_addr addr[CTL_DELEG_ADDR_MAX];
};

struct cut {
	struct ctl_deleg d;	/* d.ns points to ns[] below */
	bool transient;		/* followed once, not stored */
	struct ns_state ns[CTL_DELEG_NS_MAX];
};

struct tried {
	struct ctl_addr a;
	uint8_t attempts;
};

struct waiter {
	ctl_iter_cb cb;
	void *arg;
};

struct req {
	struct ctl_iter *it;
	struct req *hnext;		/* coalescing table */
	struct req *prev, *next;	/* every resolution */
	struct req *parent;		/* a sub-resolution's */
	struct req *sub;		/* the sub-resolution running for it */
	unsigned parent_ns;		/* which NS name of the parent's cut */
	unsigned depth;
	/* the question */
	uint8_t qname[DNS_NAME_MAX];	/* lower-cased */
	uint16_t qtype, qclass;
	uint64_t hash;
	/* where it is */
	uint8_t target[DNS_NAME_MAX];
	struct cut cut;
	uint32_t chain_expire;
	uint32_t started;
	uint64_t started_us;		/* a resolution's own (no parent): its time */
	struct budget own, *bud;
	unsigned chain;			/* CNAME/DNAME links followed */
	uint8_t seen[NAMES_SEEN_MAX][DNS_NAME_MAX];
	unsigned nseen;
	unsigned qmin_labels;		/* labels of the minimised name sent */
	unsigned qmin_steps;
	bool qmin_off;
	unsigned ns_lookups;		/* NS names resolved for this cut */
	struct tried tried[TRIED_MAX];
	unsigned ntried;
	/* the query out */
	up_handle h;
	bool inflight;
	bool sub_out;			/* a sub-resolution is running */
	uint8_t sent_name[DNS_NAME_MAX];
	uint16_t sent_type;
	struct ctl_addr sent_to;
	bool sent_edns;
	/* the answer */
	uint8_t *buf;
	struct dns_builder b;
	bool all_aa;
	bool refresh;			/* skip the cache for the question once */
	int rcode;
	bool done;
	bool stale_sent;		/* the waiters had a stale answer already */
	bool priming;			/* ". NS" for the delegation table, not a client */
	bool held_skipped;		/* the last pick found held servers only */
	bool sent_probe;		/* the query out is a held server's probe */
	struct ctl_infra_mark sent_mark; /* its server as the query out went */
	bool local_fail;		/* failed by our own limits, not the servers' */
	/* DNSSEC: the worst status of every step so far (secure until a step
	 * says otherwise), why, and the question's validation budget */
	uint8_t sec;
	uint16_t ede;
	/* a SERVFAIL's Extended DNS Error (RFC 8914) and its text, when the
	 * failure was not the validator's: DNS_EDE_NONE, or set by fail() */
	uint16_t fail_ede;
	const char *fail_why;
	const char *why;
	uint8_t sub_kind;		/* enum sub_kind */
	uint8_t ds_why;			/* SUB_DS: enum ctl_chain_ds_why */
	uint8_t key_fetches;		/* DS/DNSKEY sub-questions it started or joined */
	uint64_t key_asked[KEY_FETCHES_MAX]; /* those questions (key_question()),
						   each at most KEY_ASKS_MAX times */
	/* key subs joined (key_sub()): the one a client resolution waits for
	 * (not its own sub), and on that sub, the resolutions waiting for it
	 * (a list through key_wnext, key_wpprev: unlinked in O(1));
	 * key_next, key_pprev: it->key_subs' list (joinable subs only) */
	struct req *key_host, *key_waiters, *key_wnext, **key_wpprev;
	struct req *key_next, **key_pprev;
	bool cd;			/* checking disabled: nothing validated,
					   nothing cached */
	uint8_t bogus_tries;
	uint8_t signer_fetches;		/* keys of zones below the cut fetched */
	uint32_t val_epoch;		/* it->val_epoch when it began */
	struct ctl_val_budget vb, *vbud;
	struct zone_load *zone;		/* the cut it follows, counted */
	struct ctl_timer step_timer;	/* deferred steps and completion */
	struct ctl_timer stale_timer;
	void (*step)(struct req *);
	unsigned nwait;
	struct waiter *wait;
};

/*
 * EDNS per server (control/infra.h keeps the fields): on until it answers
 * FORMERR/NOTIMP/BADVERS without an OPT, or until EDNS_PROBE_TIMEOUTS
 * queries with EDNS in a row time out on a server that never answered one
 * (some middleboxes drop EDNS): then one query goes without, and only an
 * answer to that turns EDNS off, for the infra table's no_edns_ms.
 */

/* Outstanding resolutions following one zone's cut (limits.max-zone-share). */
struct zone_load {
	struct zone_load *next;
	uint32_t n;
	uint8_t zone[DNS_NAME_MAX];
};

/* A question answered without resolving (a remembered failure), from the
 * loop: the callback never runs inside ctl_iter_resolve(). */
struct early {
	ctl_iter_cb cb;
	void *arg;
	uint16_t qtype, qclass;
	uint8_t qname[DNS_NAME_MAX];
};

struct ctl_iter {
	struct ctl_loop *loop;
	struct up_ctx *up;
	struct cache *cache;
	struct ctl_deleg_table *deleg;
	struct ctl_iter_config cfg;
	struct ctl_iter_stats st;
	struct ctl_hist resolve_time;	/* resolutions (no parent), question to answer */
	struct req **table;	/* outstanding client resolutions, by question */
	uint64_t mask;
	uint64_t seed;
	uint32_t nreq;
	struct req all;		/* sentinel of the list of every resolution */
	struct ctl_infra *infra; /* servers' state, remembered failures */
	struct zone_load **zones; /* per cut followed: resolutions at it */
	uint32_t zone_mask;
	uint32_t zone_max;	/* of max_requests: max_zone_share percent */
	struct early *early;	/* waiting for the loop */
	uint32_t nearly, early_cap;
	struct ctl_timer early_timer;
	struct ctl_scrub *scrub; /* one reply is scrubbed at a time */
	struct req *spare;	 /* freed resolutions kept for reuse (->next) */
	struct req *key_subs;	 /* joinable DS/DNSKEY subs running (->key_next) */
	uint32_t nspare;
	uint8_t side[MSG_MAX];	 /* a minimised reply being cached */
	bool priming;		 /* a priming query is out */
	uint32_t primed_at;	 /* when the last one started */
	uint32_t log_second, log_lines; /* log-bogus's rate limit */
	struct ctl_chain *chain; /* NULL: no validation */
	struct ctl_val_limits lim; /* chain's limits (resolutions' budgets point here) */
	uint32_t val_epoch;	 /* moves with each ctl_iter_set_validation() */
	ctl_iter_feed_cb feed;	 /* NULL: no aggressive negative caching */
	void *feed_arg;
	size_t feed_max;	 /* octets in one feed */
	struct ctl_iter_router router; /* route NULL: none (control/pool.h) */
	uint8_t rdata[65535];	 /* asm_rr()'s: one record's RDATA */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

void ctl_iter_cache_lock(void)
{
	pthread_mutex_lock(&cache_mu);
}

void ctl_iter_cache_unlock(void)
{
	pthread_mutex_unlock(&cache_mu);
}

static void step_start(struct req *r);
static void step_next(struct req *r);
static void finish(struct req *r, int rcode);
static void put_fail_ede(struct req *r);

/* b's OPT (its last record) with an Extended DNS Error (RFC 8914): code,
 * and why (static text, NULL: none) cut at EDE_TEXT_MAX octets. 0, or
 * dns_builder_opt()'s error. */
static int builder_ede(struct dns_builder *b, uint16_t code, const char *why)
{
	uint8_t opt[4 + 2 + EDE_TEXT_MAX];
	size_t tlen = why ? strnlen(why, EDE_TEXT_MAX) : 0;

	dns_put16(opt, DNS_EO_EDE);
	dns_put16(opt + 2, (uint16_t)(2 + tlen));
	dns_put16(opt + 4, code);
	memcpy(opt + 6, why ? why : "", tlen);
	return dns_builder_opt(b, 65535, 0, 0, 0, opt, 6 + tlen);
}
static void zone_leave(struct req *r);
static void prime_from(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s);

void ctl_iter_config_default(struct ctl_iter_config *c)
{
	*c = (struct ctl_iter_config){
		.qname_min = 1,
		.max_referrals = 30,
		.max_ns_per_referral = 6,
		.max_upstream_queries = 100,
		.max_cname_chain = 11,
		.max_time_ms = 10000,
		.edns_buffer = 1232,
		.use_0x20 = true,
		.cookies = true,
		.timeout_ms = 800,
		.retries = 1,
		.max_rrset = 100,
		.serve_stale = true,
		.stale_client_timeout_ms = 1800,
		.max_requests = 10000,
		.max_waiters = 256,
		.max_zone_share = 10,
		.sibling_glue = true,
		.failure_ttl = 5,
		.max_failure_ttl = 30,
		.max_ttl = 86400,
		.max_negative_ttl = 3600,
		.server_port = 53,
	};
}

/* resolver.clock-scale (bench/root-study): the clock runs scale times as
 * fast from base_ms on. */
static uint64_t clock_base_ms;
static uint32_t clock_scale = 1;

void ctl_iter_set_clock_scale(uint32_t scale, uint64_t base_ms)
{
	clock_base_ms = base_ms ? base_ms : ctl_now_ms();
	clock_scale = scale ? scale : 1;
}

struct ctl_deleg_table *ctl_iter_deleg(struct ctl_iter *it)
{
	return it->deleg;
}

uint32_t ctl_iter_now(void)
{
	uint64_t ms = ctl_now_ms();

	if (clock_scale > 1)
		ms = clock_base_ms + (ms - clock_base_ms) * clock_scale;
	return (uint32_t)(ms / 1000);
}

/* --- small helpers ------------------------------------------------------ */

static void name_copy(uint8_t *dst, const uint8_t *src)
{
	memmove(dst, src, dns_name_len(src));
}

/* The suffix of name with labels labels (name has at least that many). */
static const uint8_t *suffix_labels(const uint8_t *name, unsigned labels)
{
	int total = dns_name_labels(name);

	for (int drop = total - (int)labels; drop > 0; drop--)
		name += *name + 1;
	return name;
}

static uint64_t question_hash(const struct ctl_iter *it, const uint8_t *name,
			      uint16_t qtype, uint16_t qclass)
{
	uint64_t h = it->seed ^ ((uint64_t)qtype << 17 | (uint64_t)qclass << 1);
	size_t len = dns_name_len(name);

	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 0x100000001b3ULL;
	return h ^ h >> 31;
}

/* The address of an A or AAAA record of m, appended to addr[*n] while
 * there is room; false when rr is neither or there is none. */
static bool take_addr(const struct dns_msg *m, const struct dns_rr *rr,
		      struct ctl_addr *addr, uint8_t *n)
{
	bool v4 = rr->type == DNS_T_A && rr->rdlen == 4;
	bool v6 = rr->type == DNS_T_AAAA && rr->rdlen == 16;

	if ((!v4 && !v6) || *n >= CTL_DELEG_ADDR_MAX)
		return false;
	addr[*n].family = v4 ? AF_INET : AF_INET6;
	memcpy(addr[*n].a, m->wire + rr->rdata_off, rr->rdlen);
	(*n)++;
	return true;
}

static struct ctl_srv *srv_of(struct ctl_iter *it, const struct ctl_addr *a)
{
	return ctl_infra_get(it->infra, a, ctl_now_ms());
}

/* --- the answer being assembled ------------------------------------------ */

/* A step's DNSSEC status: the question's becomes the worse of the two
 * (bogus below insecure below secure; indeterminate counts as insecure). */
static void sec_lower(struct req *r, uint8_t sec, uint16_t ede, const char *why)
{
	static const uint8_t worth[] = {
		[CTL_SEC_INDETERMINATE] = 1, [CTL_SEC_INSECURE] = 1,
		[CTL_SEC_SECURE] = 2, [CTL_SEC_BOGUS] = 0,
	};

	if (worth[sec] < worth[r->sec] ||
	    (sec == CTL_SEC_INSECURE && r->sec == CTL_SEC_INDETERMINATE)) {
		r->sec = sec;
		r->ede = ede;
		r->why = why;
	}
}

static int asm_init(struct req *r)
{
	if (!r->buf && !(r->buf = malloc(MSG_MAX)))
		return CTL_E_NOMEM;
	dns_builder_init(&r->b, r->buf, MSG_MAX, 0, DNS_F_QR | DNS_F_AA);
	dns_builder_question(&r->b, r->qname, r->qtype, r->qclass);
	r->all_aa = true;
	return 0;
}

/* Appends a record of m (parsed at rr) to b with its TTL raised to floor,
 * then capped: a cap (the delegation's life) always wins. */
static int asm_rr(struct ctl_iter *it, struct dns_builder *b, const struct dns_msg *m,
		  const struct dns_rr *rr, enum dns_section sec, uint32_t floor,
		  uint32_t ttl_cap)
{
	uint8_t *rdata = it->rdata;
	int n = dns_rr_rdata(m, rr, rdata, sizeof(it->rdata));
	uint32_t ttl = rr->ttl < floor ? floor : rr->ttl;

	if (ttl > ttl_cap)
		ttl = ttl_cap;

	if (n < 0)
		return CTL_E_INVAL;
	if (dns_builder_rr(b, sec, rr->owner, rr->type, rr->rclass, ttl,
			   rdata, (size_t)n) || (b->flags & DNS_F_TC)) {
		it->st.overflow++;
		return CTL_E_FULL;
	}
	return 0;
}

/* The records of a scrubbed reply with one of the roles, into sec of b;
 * with sigs, the RRSIGs over them too (same owner, section, covered type).
 * cache.min-ttl raises the answer section's TTLs (not a negative answer's
 * SOA: RFC 2308 has its own bounds) before ttl_cap lowers them. */
static int asm_roles(struct ctl_iter *it, struct dns_builder *b, bool sigs,
		     const struct dns_msg *m, const struct ctl_scrub *s,
		     uint8_t role1, uint8_t role2, enum dns_section sec, uint32_t ttl_cap)
{
	for (unsigned i = 0; i < s->nrr; i++) {
		struct dns_rr rr;
		size_t pos = s->rr[i].off;
		uint8_t role = s->rr[i].role;

		if (role != role1 && role != role2 && (role != CTL_ROLE_SIG || !sigs))
			continue;
		if (dns_rr_parse(m->wire, m->len, &pos, &rr))
			return CTL_E_INVAL;
		if (role == CTL_ROLE_SIG) {
			bool covers = false;
			uint16_t type = rr.rdlen >= 2 ? dns_get16(m->wire + rr.rdata_off) : 0;
			for (unsigned j = 0; j < s->nrr && !covers; j++)
				covers = (s->rr[j].role == role1 || s->rr[j].role == role2) &&
					 s->rr[j].type == type &&
					 s->rr[j].section == s->rr[i].section &&
					 dns_name_same(s->owner[j], s->owner[i]);
			if (!covers)
				continue;
		}
		if (asm_rr(it, b, m, &rr, sec, sec == DNS_SEC_ANSWER ? it->cfg.min_ttl : 0,
			   ttl_cap))
			return CTL_E_FULL;
	}
	return 0;
}

/* --- the cache ------------------------------------------------------------ */

/*
 * The cached answer to (name, qtype) as a message in out (cap octets), or
 * 0. dnssec: as a DO client gets it (an entry cached without its DNSSEC
 * records does not count); else without them. stale_ok: expired entries
 * within the stale window count too.
 */
static size_t cache_fetch(struct ctl_iter *it, const uint8_t *name, uint16_t qtype,
			  uint16_t qclass, bool dnssec, bool stale_ok,
			  uint8_t *out, size_t cap, bool *stale)
{
	uint8_t qbuf[DNS_NAME_MAX + 64];
	struct dns_builder b;
	struct dns_query q;
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };

	/* AD in the question: the entry's AD comes back (RFC 6840 5.8) */
	dns_builder_init(&b, qbuf, sizeof(qbuf), 0, DNS_F_RD | DNS_F_AD);
	dns_builder_question(&b, name, qtype, qclass);
	dns_builder_opt(&b, 65535, 0, 0, dnssec ? DNS_EDNS_F_DO : 0, NULL, 0);
	if (dns_query_parse(&q, qbuf, dns_builder_finish(&b)))
		return 0;
	cache_key_from_query(&k, it->cache, &q);
	cache_lookup_burst(it->cache, &kp, 1, ctl_iter_now(), &res, &rst);
	if (!res.entry)
		return 0;
	bool is_stale = res.state == CACHE_STALE || res.state == CACHE_STALE_REFRESH;
	if (is_stale && !stale_ok)
		return 0;
	int n = cache_answer(it->cache, res.entry, (enum cache_state)res.state, &q,
			     ctl_iter_now(), out, cap);
	if (n <= 0)
		return 0;
	if (stale)
		*stale = is_stale;
	return (size_t)n;
}

/* Adds the cached answer for the target, if any: true when it ends r. */
static bool from_cache(struct req *r, bool stale_ok)
{
	uint8_t buf[MSG_MAX];
	struct dns_msg m;
	struct dns_rr_iter iter;
	struct dns_rr rr;
	bool stale = false;
	size_t n = cache_fetch(r->it, r->target, r->qtype, r->qclass, true,
			       stale_ok, buf, sizeof(buf), &stale);

	if (!n || dns_msg_parse(&m, buf, n) || (m.hdr.flags & DNS_F_TC))
		return false;
	/* only validated entries carry AD: the rest is insecure */
	if (!(m.hdr.flags & DNS_F_AD))
		sec_lower(r, CTL_SEC_INSECURE, CTL_EDE_NONE, "cached without validation");
	dns_rr_iter_init(&iter, &m, DNS_SEC_ANSWER);
	while (dns_rr_next(&iter, &rr) > 0) {
		if (rr.type == DNS_T_OPT)
			continue;
		if (asm_rr(r->it, &r->b, &m, &rr, (enum dns_section)rr.section, 0, UINT32_MAX))
			return false;
	}
	r->it->st.cache_answers++;
	if (stale)
		r->it->st.stale++;
	finish(r, m.rcode);
	return true;
}

/* Addresses of an NS name from cached A/AAAA answers. */
static void ns_from_cache(struct ctl_iter *it, struct ns_state *ns, uint16_t qclass)
{
	static const uint16_t types[2] = { DNS_T_A, DNS_T_AAAA };

	for (int t = 0; t < 2; t++) {
		uint8_t buf[4096];
		struct dns_msg m;
		struct dns_rr_iter iter;
		struct dns_rr rr;
		size_t n = cache_fetch(it, ns->name, types[t], qclass, false, false,
				       buf, sizeof(buf), NULL);
		if (!n || dns_msg_parse(&m, buf, n))
			continue;
		dns_rr_iter_init(&iter, &m, DNS_SEC_ANSWER);
		while (dns_rr_next(&iter, &rr) > 0 && rr.section == DNS_SEC_ANSWER)
			if (rr.type == types[t])
				take_addr(&m, &rr, ns->addr, &ns->naddr);
	}
}

/* --- lifetime ------------------------------------------------------------- */

static void deferred(struct ctl_loop *loop, void *arg)
{
	struct req *r = arg;

	(void)loop;
	r->step(r);
}

/*
 * Runs step from the loop, soon (a later step replaces an earlier one). The
 * timer heap only grows when more timers are armed than ever before; if it
 * cannot, the step is lost and the resolution waits for its stale timer or
 * for ctl_iter_free() (counted: it means the process is out of memory).
 */
static void defer(struct req *r, void (*step)(struct req *))
{
	r->step = step;
	if (ctl_timer_add(r->it->loop, &r->step_timer, 0, deferred, r) != 0)
		r->it->st.overflow++;
}

static void req_unlink(struct req *r)
{
	struct ctl_iter *it = r->it;

	if (!r->parent) {
		struct req **p = &it->table[r->hash & it->mask];
		while (*p && *p != r)
			p = &(*p)->hnext;
		if (*p)
			*p = r->hnext;
	}
	r->prev->next = r->next;
	r->next->prev = r->prev;
	it->nreq--;
}

/* The query out, if any, is forgotten (a probe among them: the next may go). */
static void cancel_query(struct req *r)
{
	if (!r->inflight)
		return;
	up_cancel(r->it->up, r->h);
	r->inflight = false;
	if (r->sent_probe)
		ctl_infra_probe_gone(srv_of(r->it, &r->sent_to));
	r->sent_probe = false;
}

static void defer(struct req *r, void (*step)(struct req *));
static void step_next(struct req *r);

/* A waiter leaves its host's list (O(1)). */
static void key_unwait(struct req *r)
{
	if (!r->key_host)
		return;
	*r->key_wpprev = r->key_wnext;
	if (r->key_wnext)
		r->key_wnext->key_wpprev = r->key_wpprev;
	r->key_host = NULL;
	r->key_wnext = NULL;
	r->key_wpprev = NULL;
	r->sub_out = false;
}

/* r's part in joined key subs is over: a waiter leaves its host's list; a
 * host leaves it->key_subs, and its waiters go on (the chain's status is
 * known now, or one of them asks again and the others join it). */
static void key_leave(struct req *r)
{
	key_unwait(r);
	if (r->key_pprev) {
		*r->key_pprev = r->key_next;
		if (r->key_next)
			r->key_next->key_pprev = r->key_pprev;
		r->key_pprev = NULL;
		r->key_next = NULL;
	}
	while (r->key_waiters) {
		struct req *w = r->key_waiters;
		key_unwait(w);
		/* a host that failed by our own limits: so may its waiters,
		 * and such a failure is not remembered (RFC 9520) */
		w->local_fail |= r->local_fail;
		if (!w->done)
			defer(w, step_next);
	}
}

static void req_free(struct req *r)
{
	key_leave(r);
	if (r->parent && r->parent->sub == r) {
		r->parent->sub = NULL;
		r->parent->sub_out = false;
	}
	if (r->sub) {
		struct req *sub = r->sub;
		r->sub = NULL;
		req_free(sub);
	}
	ctl_timer_cancel(r->it->loop, &r->step_timer);
	ctl_timer_cancel(r->it->loop, &r->stale_timer);
	cancel_query(r);
	zone_leave(r);
	req_unlink(r);
	free(r->wait);
	if (SPARE_KEEP && r->it->nspare < SPARE_MAX) {
		/* kept with its answer buffer: a resolution a few microseconds
		 * long otherwise pays the allocator's page purging and faults
		 * for its 40 KB again each time */
		r->next = r->it->spare;
		r->it->spare = r;
		r->it->nspare++;
		return;
	}
	free(r->buf);
	free(r);
}

static struct req *req_new(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
			   uint16_t qclass, struct req *parent)
{
	struct req *r = it->spare;

	if (r) {
		uint8_t *buf = r->buf;

		it->spare = r->next;
		it->nspare--;
		memset(r, 0, sizeof(*r));
		r->buf = buf;
	} else if (!(r = calloc(1, sizeof(*r)))) {
		return NULL;
	}
	r->it = it;
	dns_name_copy_lower(r->qname, qname);
	name_copy(r->target, r->qname);
	r->qtype = qtype;
	r->qclass = qclass;
	r->started = ctl_iter_now();
	r->parent = parent;
	if (parent) {
		r->bud = parent->bud;
		r->vbud = parent->vbud;
		r->depth = parent->depth + 1;
	} else {
		r->started_us = ctl_now_us();
		r->own.deadline_ms = r->started_us / 1000 + it->cfg.max_time_ms;
		r->bud = &r->own;
		if (it->chain)
			ctl_val_budget_init(&r->vb, &it->lim);
		r->vbud = &r->vb;
	}
	r->val_epoch = it->val_epoch;
	r->sec = it->chain ? CTL_SEC_SECURE : CTL_SEC_INDETERMINATE;
	r->ede = CTL_EDE_NONE;
	r->fail_ede = DNS_EDE_NONE;
	r->chain_expire = UINT32_MAX;
	ctl_timer_init(&r->step_timer);
	ctl_timer_init(&r->stale_timer);
	r->step_timer.arg = r;
	r->step_timer.cb = deferred;
	if (asm_init(r)) {
		free(r->buf);
		free(r);
		return NULL;
	}
	r->next = it->all.next;
	r->prev = &it->all;
	it->all.next->prev = r;
	it->all.next = r;
	it->nreq++;
	return r;
}

/* --- completion ------------------------------------------------------------ */

/* What a sub-resolution found: the NS name's addresses, to its parent. */
static void sub_done(struct req *sub, const struct dns_msg *m)
{
	struct req *p = sub->parent;
	struct ns_state *ns = &p->cut.ns[sub->parent_ns];
	struct dns_rr_iter iter;
	struct dns_rr rr;

	p->sub_out = false;
	p->sub = NULL;
	p->local_fail |= sub->local_fail;
	if (p->done)
		return; /* its finish is armed: a step would replace it */
	if (m) {
		dns_rr_iter_init(&iter, m, DNS_SEC_ANSWER);
		while (dns_rr_next(&iter, &rr) > 0 && rr.section == DNS_SEC_ANSWER)
			take_addr(m, &rr, ns->addr, &ns->naddr);
	}
	defer(p, step_next);
}

static void deliver(struct req *r, const uint8_t *msg, size_t len, int rcode, bool stale)
{
	for (unsigned i = 0; i < r->nwait; i++)
		r->wait[i].cb(r->wait[i].arg, rcode, msg, len, stale);
	r->nwait = 0;
}

/* The cache's stale answer to the question into buf (MSG_MAX octets), with
 * its DNSSEC records as every answer of ours: its length and rcode, or 0
 * when serve-stale is off or there is none. */
static size_t stale_answer(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
			   uint16_t qclass, uint8_t *buf, int *rcode)
{
	struct dns_msg m;
	bool stale = false;
	size_t n;

	if (!it->cfg.serve_stale)
		return 0;
	n = cache_fetch(it, qname, qtype, qclass, true, true, buf, MSG_MAX, &stale);
	if (!n || !stale || dns_msg_parse(&m, buf, n))
		return 0;
	*rcode = m.rcode;
	return n;
}

/* The stale answer, if the cache has one; true when delivered. */
static bool deliver_stale(struct req *r)
{
	uint8_t buf[MSG_MAX];
	int rcode;
	size_t n;

	if (r->parent ||
	    !(n = stale_answer(r->it, r->qname, r->qtype, r->qclass, buf, &rcode)))
		return false;
	r->it->st.stale++;
	deliver(r, buf, n, rcode, true);
	return true;
}

/*
 * The DNSSEC end of a resolution (r->buf holds the answer, len octets): a
 * DS or DNSKEY sub-question hands its result to the chain of trust; a
 * bogus answer becomes SERVFAIL (remembered as a failure, RFC 9520, so a
 * bogus zone is not validated again at once); a secure one carries AD.
 * Returns the answer's length.
 */
/* resolver.dnssec.log-bogus: the question, the reason and its EDE code at
 * warning (control/log.h), at most LOG_BOGUS_PER_S lines a second (a bogus zone under a
 * flood of names must not flood the log). */
static void log_bogus(const struct req *r)
{
	struct ctl_iter *it = r->it;
	char name[DNS_NAME_MAX * 4];
	uint32_t now = ctl_iter_now();

	if (!it->cfg.log_bogus)
		return;
	if (now != it->log_second) {
		it->log_second = now;
		it->log_lines = 0;
	}
	if (it->log_lines++ >= LOG_BOGUS_PER_S)
		return;
	if (dns_name_to_str(r->qname, name, sizeof(name)) < 0)
		strcpy(name, "?");
	cfg_log(CFG_LOG_WARNING, "bogus: %s type %u: %s (EDE %u)", name, r->qtype,
		r->why ? r->why : "?", r->ede == CTL_EDE_NONE ? CTL_EDE_BOGUS : r->ede);
}

static size_t chain_done(struct req *r, size_t len)
{
	struct ctl_iter *it = r->it;
	bool ok = r->rcode == DNS_R_NOERROR || r->rcode == DNS_R_NXDOMAIN;

	if (r->sub_kind == SUB_KEYS) {
		struct ctl_chain_step st;
		ctl_chain_keys_done(it->chain, r->vbud, r->qname, ok ? r->buf : NULL, len,
				    ctl_iter_now(), &st);
		r->sec = CTL_SEC_SECURE;
		sec_lower(r, st.sec, st.ede, st.why);
	} else if (r->sub_kind == SUB_DS) {
		ctl_chain_ds_done(it->chain, r->qname, ok ? r->buf : NULL, len, r->rcode,
				  r->sec, r->ede, r->ds_why, ctl_iter_now());
	}
	if (r->sec == CTL_SEC_BOGUS && (ok || r->rcode == DNS_R_SERVFAIL)) {
		/* RFC 8914: which check failed, as an Extended DNS Error in
		 * the OPT (answer/ gives it to the client) */
		it->st.bogus++;
		log_bogus(r);
		asm_init(r);
		r->rcode = DNS_R_SERVFAIL;
		r->b.flags = (uint16_t)((r->b.flags & ~0xf) | DNS_R_SERVFAIL);
		builder_ede(&r->b, r->ede == CTL_EDE_NONE ? CTL_EDE_BOGUS : r->ede, r->why);
		return dns_builder_finish(&r->b);
	}
	if (r->sec == CTL_SEC_INSECURE && ok &&
	    (r->ede == CTL_EDE_NSEC3_ITERATIONS || r->ede == CTL_EDE_UNSUPPORTED_ALG ||
	     r->ede == CTL_EDE_UNSUPPORTED_DIGEST)) {
		/* RFC 8914, RFC 9276 3.2: insecure, and why (no text: the
		 * cache keeps the code alone, and hits must say the same) */
		if (builder_ede(&r->b, r->ede, NULL) == 0)
			return dns_builder_finish(&r->b);
		return len;
	}
	if (r->sec == CTL_SEC_SECURE && ok) {
		it->st.secure++;
		r->buf[2] |= DNS_F_AD >> 8;
		r->buf[3] |= DNS_F_AD & 0xff;
	}
	return len;
}

static void complete(struct req *r)
{
	struct ctl_iter *it = r->it;
	size_t len;

	if (r->priming)
		it->priming = false;
	if (!r->all_aa)
		r->b.flags &= (uint16_t)~DNS_F_AA;
	r->b.flags = (uint16_t)((r->b.flags & ~0xf) | (r->rcode & 0xf));
	put_fail_ede(r);
	len = dns_builder_finish(&r->b);
	/* one that began under other anchors was ended (SERVFAIL): no chain
	 * of trust, nothing cached or remembered of it */
	bool old_epoch = r->val_epoch != it->val_epoch;
	if (it->chain && !r->cd && !old_epoch)
		len = chain_done(r, len);
	if (r->cd || old_epoch) {
		/* unvalidated: for this client only */
	} else if (r->rcode == DNS_R_NOERROR || r->rcode == DNS_R_NXDOMAIN) {
		/* The cache decides what it keeps (TTL 0, no SOA: nothing);
		 * the answer has its DNSSEC records (take_answer()). */
		ctl_iter_cache_lock();
		cache_insert(it->cache, r->buf, len, ctl_iter_now(),
			     r->sec == CTL_SEC_SECURE ? CACHE_RANK_SECURE
			     : r->all_aa		    ? CACHE_RANK_AUTH_ANSWER
						    : CACHE_RANK_NONAUTH_ANSWER,
			     true);
		ctl_iter_cache_unlock();
	} else if (r->rcode == DNS_R_SERVFAIL && !r->priming && !r->local_fail && !r->cd) {
		/* RFC 9520: asked again at once, it would fail again (unless
		 * the failure was ours: out of ports, slots or a zone's share) */
		ctl_infra_fail(it->infra, r->qname, r->qtype, r->qclass, ctl_now_ms());
	}
	if (!r->parent)
		ctl_hist_add(&it->resolve_time, ctl_now_us() - r->started_us);
	if (r->parent && r->sub_kind != SUB_NS) {
		struct req *p = r->parent;
		p->sub_out = false;
		p->sub = NULL;
		p->local_fail |= r->local_fail;
		if (!p->done) /* else its finish is armed: a step would replace it */
			defer(p, step_next);
	} else if (r->parent) {
		struct dns_msg m;
		bool ok = r->rcode == DNS_R_NOERROR && dns_msg_parse(&m, r->buf, len) == 0;
		sub_done(r, ok ? &m : NULL);
	} else if (r->rcode == DNS_R_SERVFAIL && deliver_stale(r)) {
		/* served stale */
	} else {
		if (r->rcode == DNS_R_SERVFAIL)
			it->st.servfail++;
		else if (r->rcode == DNS_R_NXDOMAIN)
			it->st.nxdomain++;
		else
			it->st.answers++;
		deliver(r, r->buf, len, r->rcode, false);
	}
	req_free(r);
}

static void finish_deferred(struct req *r)
{
	complete(r);
}

static void finish(struct req *r, int rcode)
{
	if (r->done)
		return;
	r->done = true;
	r->rcode = rcode;
	cancel_query(r);
	defer(r, finish_deferred);
}

/* SERVFAIL with the builder reset (what was assembled is not an answer),
 * the client told why with an Extended DNS Error (ede, why: static text)
 * unless ede is DNS_EDE_NONE. */
static void fail_ede(struct req *r, uint64_t *limit_counter, uint16_t ede, const char *why)
{
	if (limit_counter)
		(*limit_counter)++;
	r->fail_ede = ede;
	r->fail_why = why;
	asm_init(r);
	finish(r, DNS_R_SERVFAIL);
}

/* fail_ede() with the reason a limit's counter names (RFC 8914 "Other"
 * with the limit's key), none for the others. */
static void fail(struct req *r, uint64_t *limit_counter)
{
	const struct ctl_iter_stats *st = &r->it->st;
	static const struct {
		size_t off;
		const char *why;
	} limits[] = {
		{ offsetof(struct ctl_iter_stats, limit_queries), "limit: max-upstream-queries" },
		{ offsetof(struct ctl_iter_stats, limit_time), "limit: max-time-ms" },
		{ offsetof(struct ctl_iter_stats, limit_referrals), "limit: max-referrals" },
		{ offsetof(struct ctl_iter_stats, limit_chain), "limit: max-cname-chain" },
		{ offsetof(struct ctl_iter_stats, limit_zone), "limit: the zone's share of resolutions" },
		{ offsetof(struct ctl_iter_stats, overflow), "limit: the answer is too large" },
	};
	for (size_t i = 0; limit_counter && i < sizeof(limits) / sizeof(limits[0]); i++)
		if ((const char *)limit_counter == (const char *)st + limits[i].off) {
			fail_ede(r, limit_counter, DNS_EDE_OTHER, limits[i].why);
			return;
		}
	fail_ede(r, limit_counter, DNS_EDE_NONE, NULL);
}

/* A SERVFAIL's Extended DNS Error in r's OPT (the builder's last
 * record), when fail_ede() gave one. */
static void put_fail_ede(struct req *r)
{
	if (r->rcode == DNS_R_SERVFAIL && r->fail_ede != DNS_EDE_NONE)
		builder_ede(&r->b, r->fail_ede, r->fail_why);
}

/* --- following a cut --------------------------------------------------------- */

static uint32_t zone_bucket(const struct ctl_iter *it, const uint8_t *zone)
{
	return (uint32_t)question_hash(it, zone, 0, 0) & it->zone_mask;
}

/* r stops following its cut. */
static void zone_leave(struct req *r)
{
	struct zone_load *z = r->zone, **p;

	if (!z)
		return;
	r->zone = NULL;
	if (--z->n)
		return;
	for (p = &r->it->zones[zone_bucket(r->it, z->zone)]; *p != z; p = &(*p)->next)
		;
	*p = z->next;
	free(z);
}

/* Whether some address of d's servers answers: it has replied, has not
 * timed out since and is not held down. */
static bool cut_answers(struct ctl_iter *it, const struct ctl_deleg *d)
{
	uint64_t now = ctl_now_ms();

	for (unsigned i = 0; i < d->nns; i++)
		for (unsigned j = 0; j < d->ns[i].naddr; j++) {
			const struct ctl_srv *s = srv_of(it, &d->ns[i].addr[j]);
			/* (by its replies: a measured 200 ms is the unknown
			 * RTT's default too) */
			if (s->replies_seen && !s->timeouts &&
			    ctl_infra_state(s, now) == CTL_SRV_USABLE)
				return true;
		}
	return false;
}

/*
 * r follows d's cut from now on, counted, unless the zone already has its
 * share of the outstanding resolutions and none of its servers answers:
 * one zone whose servers black-hole must not take every slot
 * (limits.max-zone-share), while a busy zone that answers (com. under a
 * flood of new names) is never turned away.
 */
static bool zone_enter(struct req *r, const struct ctl_deleg *d)
{
	struct ctl_iter *it = r->it;
	const uint8_t *zone = d->zone;
	struct zone_load *z;
	uint32_t b = zone_bucket(it, zone);

	if (r->zone && dns_name_same(r->zone->zone, zone))
		return true;
	zone_leave(r);
	for (z = it->zones[b]; z && !dns_name_same(z->zone, zone); z = z->next)
		;
	if (z && z->n >= it->zone_max && !cut_answers(it, d))
		return false;
	if (!z) {
		if (!(z = calloc(1, sizeof(*z))))
			return false;
		memcpy(z->zone, zone, dns_name_len(zone));
		z->next = it->zones[b];
		it->zones[b] = z;
	}
	z->n++;
	r->zone = z;
	return true;
}

/* Takes d as r's cut; false (r failed) when the zone has its share. */
static bool set_cut(struct req *r, const struct ctl_deleg *d, bool transient)
{
	struct cut *c = &r->cut;

	if (!zone_enter(r, d)) {
		r->local_fail = true;
		fail(r, &r->it->st.limit_zone);
		return false;
	}

	c->d = *d;
	c->d.ns = NULL;
	c->transient = transient;
	if (c->d.nns > CTL_DELEG_NS_MAX)
		c->d.nns = CTL_DELEG_NS_MAX;
	for (unsigned i = 0; i < c->d.nns; i++) {
		memcpy(c->ns[i].name, d->ns[i].name, DNS_NAME_MAX);
		c->ns[i].naddr = d->ns[i].naddr;
		memcpy(c->ns[i].addr, d->ns[i].addr, sizeof(c->ns[i].addr));
		c->ns[i].looked_up = false;
	}
	if (d->expire < r->chain_expire)
		r->chain_expire = d->expire;
	r->ntried = 0;
	r->ns_lookups = 0;
	r->qmin_off = false; /* a fallback was for the servers of the last cut */
	r->qmin_labels = (unsigned)dns_name_labels(c->d.zone);
	return true;
}

/* The closest usable cut for the target (DS lives in the parent). */
static bool find_cut(struct req *r)
{
	uint32_t chain;
	const uint8_t *name = r->target;
	const struct ctl_deleg *d;

	if (r->qtype == DNS_T_DS && r->target[0])
		name = r->target + r->target[0] + 1;
	d = ctl_deleg_find(r->it->deleg, name, ctl_iter_now(), &chain);
	if (!d)
		return false;
	r->chain_expire = UINT32_MAX;
	if (!set_cut(r, d, false))
		return false;
	if (chain < r->chain_expire)
		r->chain_expire = chain;
	return true;
}

static unsigned tried_count(const struct req *r, const struct ctl_addr *a)
{
	for (unsigned i = 0; i < r->ntried; i++)
		if (ctl_addr_same(&r->tried[i].a, a))
			return r->tried[i].attempts;
	return 0;
}

static void mark_tried(struct req *r, const struct ctl_addr *a)
{
	for (unsigned i = 0; i < r->ntried; i++)
		if (ctl_addr_same(&r->tried[i].a, a)) {
			r->tried[i].attempts++;
			return;
		}
	if (r->ntried < TRIED_MAX)
		r->tried[r->ntried++] = (struct tried){ .a = *a, .attempts = 1 };
}

static void unmark_tried(struct req *r, const struct ctl_addr *a)
{
	for (unsigned i = 0; i < r->ntried; i++)
		if (ctl_addr_same(&r->tried[i].a, a) && r->tried[i].attempts)
			r->tried[i].attempts--;
}

bool ctl_iter_may_query(const struct ctl_iter_config *c, const struct ctl_addr *a)
{
	const uint8_t *x = a->a;
	size_t len = a->family == AF_INET ? 4 : 16;

	if (!net_addr_unicast(a->family == AF_INET6, x))
		return false; /* "this network", multicast, reserved, broadcast */
	for (unsigned i = 0; i < c->n_own; i++)
		if (c->own[i].family == a->family && !memcmp(c->own[i].addr, x, len))
			return false;
	for (unsigned i = 0; i < c->n_do_query; i++)
		if (c->do_query[i].a.family == a->family && cfg_prefix_match(&c->do_query[i], x))
			return true;
	for (unsigned i = 0; i < c->n_dont_query; i++)
		if (c->dont_query[i].a.family == a->family &&
		    cfg_prefix_match(&c->dont_query[i], x))
			return false;
	return true;
}

/* The next address to ask: the fastest not yet tried out, or now and then a
 * random one (so a server that was slow once is measured again). */
static const struct ctl_addr *pick_server(struct req *r)
{
	const struct ctl_addr *cand[CTL_DELEG_NS_MAX * CTL_DELEG_ADDR_MAX];
	unsigned n = 0, best = 0, held = 0;
	uint32_t best_rtt = UINT32_MAX;
	uint64_t now = ctl_now_ms();

	for (unsigned i = 0; i < r->cut.d.nns; i++)
		for (unsigned j = 0; j < r->cut.ns[i].naddr; j++) {
			const struct ctl_addr *a = &r->cut.ns[i].addr[j];
			if (tried_count(r, a) > r->it->cfg.retries)
				continue;
			if (!ctl_iter_may_query(&r->it->cfg, a)) {
				r->it->st.dont_query++;
				continue;
			}
			/* held down: not asked (one probe at a time may go) */
			if (ctl_infra_state(srv_of(r->it, a), now) == CTL_SRV_HELD) {
				held++;
				continue;
			}
			cand[n++] = a;
		}
	r->held_skipped = held > 0;
	if (!n)
		return NULL;
	if (up_rng_below(100) < EXPLORE_PERCENT)
		return cand[up_rng_below(n)];
	bool best_unheard = false;
	for (unsigned i = 0; i < n; i++) {
		struct ctl_srv *s = srv_of(r->it, cand[i]);
		uint32_t rtt = s->srtt_ms + tried_count(r, cand[i]) * TIMEOUT_PENALTY_MS;
		/* a server never heard (its RTT only the default) wins a tie: a
		 * server measured at that default, 200 ms, would otherwise be
		 * asked again and again while a faster one waited for the 5 %
		 * of exploration (tests/control/test-resolve's RTT check: 13 of
		 * 40 questions to the slow server, now and then) */
		bool unheard = !ctl_infra_heard(s);
		if (rtt < best_rtt || (rtt == best_rtt && unheard && !best_unheard)) {
			best_rtt = rtt;
			best = i;
			best_unheard = unheard;
		}
	}
	return cand[best];
}

static void on_reply(void *arg, const struct up_result *res);

/* The socket address of server address a (cfg.server_port, 53); its length. */
static socklen_t server_sockaddr(const struct ctl_iter *it, const struct ctl_addr *a,
				 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(it->cfg.server_port);
		memcpy(&sin->sin_addr, a->a, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(it->cfg.server_port);
	memcpy(&sin6->sin6_addr, a->a, 16);
	return sizeof(*sin6);
}

socklen_t ctl_iter_server_sockaddr(const struct ctl_iter *it, const struct ctl_addr *a,
				   struct sockaddr_storage *ss)
{
	return server_sockaddr(it, a, ss);
}

/* Sends (name, qtype) to a; false when the budget is spent. */
static bool send_query(struct req *r, const struct ctl_addr *a, const uint8_t *name,
		       uint16_t qtype)
{
	struct ctl_iter *it = r->it;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct up_opts o;
	struct ctl_srv *s = srv_of(it, a);

	if (r->bud->queries >= it->cfg.max_upstream_queries) {
		fail(r, &it->st.limit_queries);
		return false;
	}
	if (ctl_now_ms() >= r->bud->deadline_ms) {
		fail(r, &it->st.limit_time);
		return false;
	}
	sl = server_sockaddr(r->it, a, &ss);
	up_opts_default(&o);
	o.edns = !s->no_edns && !s->probe_plain;
	o.edns_size = it->cfg.edns_buffer;
	/* RRSIGs to validate, and for DO clients: every answer carries them */
	o.do_bit = o.edns;
	o.cd = it->chain != NULL; /* a validating resolver's (RFC 4035 3.2.2) */
	/* a forward zone's resolvers answer for us (or from their cache) */
	o.rd = r->cut.d.kind == CTL_DELEG_FORWARD && r->cut.d.rd;
	o.use_0x20 = it->cfg.use_0x20;
	o.cookies = it->cfg.cookies && o.edns;
	/* back-off: each retry to the same address waits twice as long */
	unsigned shift = tried_count(r, a);
	o.timeout_ms = it->cfg.timeout_ms << (shift < BACKOFF_MAX_SHIFT ? shift : BACKOFF_MAX_SHIFT);
	o.zone = r->cut.d.zone;
	mark_tried(r, a);
	name_copy(r->sent_name, name);
	r->sent_type = qtype;
	r->sent_to = *a;
	r->sent_edns = o.edns;
	if (up_query(it->up, (struct sockaddr *)&ss, sl, name, qtype, r->qclass, &o,
		     on_reply, r, &r->h) != 0) {
		/* a family we do not query, or too many queries: next server;
		 * a failure of ours, not the servers' (never remembered) */
		r->local_fail = true;
		defer(r, step_next);
		return true;
	}
	r->sent_mark = ctl_infra_mark(s);
	r->sent_probe = ctl_infra_sent(it->infra, s, ctl_now_ms());
	r->bud->queries++;
	it->st.upstream++;
	r->inflight = true;
	return true;
}

/* Starts resolving an address of an NS name of the cut; false if none may. */
static bool resolve_ns(struct req *r)
{
	struct ctl_iter *it = r->it;

	for (unsigned i = 0; i < r->cut.d.nns; i++) {
		struct ns_state *ns = &r->cut.ns[i];
		if (ns->naddr || ns->looked_up)
			continue;
		ns->looked_up = true;
		ns_from_cache(it, ns, r->qclass);
		if (ns->naddr)
			return true;
		/* Inside its own zone without glue: only that zone's servers
		 * could tell, and they are what we are looking for. */
		if (dns_name_is_subdomain(ns->name, r->cut.d.zone))
			continue;
		if (r->ns_lookups >= it->cfg.max_ns_per_referral) {
			it->st.limit_ns++;
			return false;
		}
		if (r->depth >= SUB_DEPTH_MAX)
			return false;
		struct req *sub = req_new(it, ns->name, DNS_T_A, r->qclass, r);
		if (!sub)
			return false;
		sub->parent_ns = i;
		r->ns_lookups++;
		r->sub_out = true;
		r->sub = sub;
		it->st.subqueries++;
		defer(sub, step_start);
		return true;
	}
	return false;
}

/* The name and type to send: minimised while the target is deeper. */
static void query_name(struct req *r, const uint8_t **name, uint16_t *qtype)
{
	unsigned tl = (unsigned)dns_name_labels(r->target);

	*name = r->target;
	*qtype = r->qtype;
	/* a forwarder resolves the whole name itself */
	if (r->it->cfg.qname_min == 0 || r->qmin_off || r->qtype == DNS_T_DS ||
	    r->cut.d.kind == CTL_DELEG_FORWARD)
		return;
	/* Names the cache already knows to exist without a cut are skipped. */
	while (r->qmin_labels + 1 < tl && r->qmin_steps < QMIN_STEPS_MAX) {
		uint8_t buf[512];
		const uint8_t *next = suffix_labels(r->target, r->qmin_labels + 1);
		struct dns_msg m;
		size_t n = cache_fetch(r->it, next, DNS_T_A, r->qclass, false, false,
				       buf, sizeof(buf), NULL);
		if (!n || dns_msg_parse(&m, buf, n) || m.rcode != DNS_R_NOERROR)
			break;
		r->qmin_labels++;
	}
	if (r->qmin_steps >= QMIN_STEPS_MAX || r->qmin_labels + 1 >= tl)
		return;
	*name = suffix_labels(r->target, r->qmin_labels + 1);
	*qtype = DNS_T_A;
}

static bool minimised(const struct req *r)
{
	return !dns_name_same(r->sent_name, r->target) || r->sent_type != r->qtype;
}

/* A waiter's own deadline came before its host ended. */
static void key_wait_expired(struct req *r)
{
	key_unwait(r);
	fail(r, &r->it->st.limit_time);
}

/* A key question of a resolution, for key_sub()'s "asked before":
 * question_hash() of the zone lower-cased. */
static uint64_t key_question(const struct ctl_iter *it, const uint8_t *zone, uint16_t qtype)
{
	uint8_t lower[DNS_NAME_MAX];

	dns_name_copy_lower(lower, zone);
	return question_hash(it, lower, qtype, DNS_C_IN);
}

/* Starts the DS (need CTL_CHAIN_NEED_DS or _CUT; why: enum
 * ctl_chain_ds_why) or DNSKEY sub-question for zone, or joins one; r goes
 * on when it ends. One question at most KEY_ASKS_MAX times a request (each
 * sub-request keeps its own count), asked or joined: a failure is not in
 * the key table, and the RFC 9520 failure it leaves is looked at for
 * client questions only, so nothing else would stop r asking or joining it
 * again and again (a question that settles nothing, such as a configured
 * cut's DS that the parent proves no cut, was asked until the bound
 * below). More than once, because the first one's host may have failed
 * for its own budget, or the zone's status gone since (another
 * resolution's DS replacing it, a flush, a key TTL of 0 on a clock of
 * whole seconds). At most KEY_FETCHES_MAX questions a request, asked or
 * joined: a bound on the work (it was 8, successes counted, and the only
 * bound on a loop). Reaching either fails r as the chain's, as that bound
 * did: remembered (RFC 9520) like any SERVFAIL of the zone's. */
static void key_sub(struct req *r, const uint8_t *zone, int need, int why)
{
	struct ctl_iter *it = r->it;
	bool ds = need == CTL_CHAIN_NEED_DS || need == CTL_CHAIN_NEED_CUT;
	uint16_t qtype = ds ? DNS_T_DS : DNS_T_DNSKEY;
	uint64_t kq = key_question(it, zone, qtype);
	unsigned asked = 0;

	for (unsigned i = 0; i < r->key_fetches; i++)
		asked += r->key_asked[i] == kq;

	/*
	 * A client resolution joins the same question already asked for
	 * another client resolution (a burst of questions in a zone not yet
	 * known asks for its keys once), and goes on when it ends. Only such
	 * questions are joinable: asked by a client resolution (depth 1: the
	 * budget and depth they go on with are a client's), not CD. Only a
	 * client resolution waits so: it has no ancestor, and waits with no
	 * sub of its own, so no wait can close a circle. A join counts as a
	 * fetch: when the host fails, its waiters go on and would each ask or
	 * join again, and with every join free a burst of them kept joining
	 * the next failed question until their deadlines (a zone whose servers
	 * all refuse: answers seconds late). The waiter's own deadline still
	 * holds; the list is looked at KEY_JOIN_SCAN entries deep at most
	 * (newest first).
	 */
	if (asked >= KEY_ASKS_MAX || r->key_fetches >= KEY_FETCHES_MAX) {
		sec_lower(r, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING,
			  "the chain of trust could not be had");
		fail(r, NULL);
		return;
	}
	r->key_asked[r->key_fetches++] = kq;
	unsigned looked = 0;
	for (struct req *h = it->key_subs; !r->parent && !r->cd && h && looked < KEY_JOIN_SCAN;
	     h = h->key_next, looked++) {
		if (h->done || h->qtype != qtype || h->qclass != r->qclass ||
		    (ds && h->ds_why != (uint8_t)why) || h->val_epoch != r->val_epoch ||
		    !dns_name_same(h->qname, zone))
			continue;
		uint64_t now = ctl_now_ms();
		r->key_host = h;
		r->key_wnext = h->key_waiters;
		if (h->key_waiters)
			h->key_waiters->key_wpprev = &r->key_wnext;
		r->key_wpprev = &h->key_waiters;
		h->key_waiters = r;
		r->sub_out = true;
		it->st.key_joined++;
		/* its max-time-ms: the host's may be later */
		r->step = key_wait_expired;
		if (ctl_timer_add(it->loop, &r->step_timer,
				  r->bud->deadline_ms > now ? (uint32_t)(r->bud->deadline_ms - now) : 0,
				  deferred, r) != 0)
			it->st.overflow++;
		return;
	}
	struct req *sub = req_new(it, zone, qtype, r->qclass, r);
	if (!sub) {
		fail(r, NULL);
		return;
	}
	sub->ds_why = (uint8_t)why;
	sub->sub_kind = ds ? SUB_DS : SUB_KEYS;
	if (!r->parent && !r->cd) { /* joinable (above) */
		sub->key_next = it->key_subs;
		if (it->key_subs)
			it->key_subs->key_pprev = &sub->key_next;
		sub->key_pprev = &it->key_subs;
		it->key_subs = sub;
	}
	r->sub_out = true;
	r->sub = sub;
	it->st.key_queries++;
	defer(sub, step_start);
}

/*
 * Whether the cut's zone has a known DNSSEC status; if not, the DS or
 * DNSKEY sub-question that gets it is started (and r waits for it). The
 * DNSKEY question of a zone is asked of the zone itself, before its keys
 * are known: that is what it is for.
 */
static bool chain_ready(struct req *r)
{
	struct ctl_iter *it = r->it;
	const uint8_t *zone = r->cut.d.zone;
	uint16_t ede = CTL_EDE_NONE;
	int need = ctl_chain_need(it->chain, zone, ctl_iter_now(), &ede);

	if (need == CTL_CHAIN_BOGUS) {
		/* known bogus (RFC 9520): not asked again for a while */
		sec_lower(r, CTL_SEC_BOGUS, ede, ctl_ede_why(ede));
		fail(r, NULL);
		return false;
	}
	if (need == CTL_CHAIN_READY ||
	    (need == CTL_CHAIN_NEED_KEYS && r->sub_kind == SUB_KEYS &&
	     dns_name_same(r->qname, zone)))
		return true;
	if (r->depth >= KEY_DEPTH_MAX) {
		sec_lower(r, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "chain of trust too deep");
		fail(r, NULL);
		return false;
	}
	/* a configured cut is no proof of a delegation: the parent's proof
	 * must show one (NS, no DS) for the zone to be unsigned; else its
	 * data is the enclosing zone's, validated with its keys */
	key_sub(r, zone, need, r->cut.d.kind ? CTL_DS_CONFIGURED : CTL_DS_CUT);
	return false;
}

static void step_next(struct req *r)
{
	const struct ctl_addr *a;
	const uint8_t *name;
	uint16_t qtype;

	if (r->done || r->inflight || r->sub_out)
		return;
	if (r->it->chain && !r->cd && !chain_ready(r))
		return;
	if ((a = pick_server(r))) {
		query_name(r, &name, &qtype);
		send_query(r, a, name, qtype);
		return;
	}
	bool held = r->held_skipped;
	if (resolve_ns(r)) {
		if (!r->sub_out)
			defer(r, step_next); /* addresses came from the cache */
		return;
	}
	/* no server left to ask; every one left is held down: fail now, no
	 * query (RFC 9520) */
	fail_ede(r, held ? &r->it->st.held_down : NULL, DNS_EDE_NO_REACHABLE_AUTHORITY,
		 held ? "every server left is held down" : "no server of the zone answered");
}

/* Start, or restart at a new target after a chain left its zone. */
static void step_start(struct req *r)
{
	if (r->done)
		return;
	/* priming needs the root servers' own answer with its addresses */
	if (r->refresh)
		r->refresh = false; /* a later step (a CNAME's target) may use it */
	else if (!r->priming && from_cache(r, false))
		return;
	if (!find_cut(r)) {
		if (!r->done)
			fail(r, NULL);
		return;
	}
	step_next(r);
}

/* --- replies ------------------------------------------------------------------ */

/* The NS names of the NS records with role in s, into ref; ref's TTL is
 * the smallest of theirs. */
static void ref_ns_names(struct ctl_referral *ref, const struct dns_msg *m,
			 const struct ctl_scrub *s, uint8_t role)
{
	for (unsigned i = 0; i < s->nrr && ref->nns < CTL_DELEG_NS_MAX; i++) {
		struct dns_rr rr;
		size_t pos = s->rr[i].off;
		uint8_t target[DNS_NAME_MAX];
		if (s->rr[i].role != role || s->rr[i].type != DNS_T_NS ||
		    dns_rr_parse(m->wire, m->len, &pos, &rr) ||
		    dns_rr_rdata(m, &rr, target, sizeof(target)) <= 0)
			continue;
		dns_name_copy_lower(ref->ns[ref->nns++].name, target);
		if (rr.ttl < ref->ttl)
			ref->ttl = rr.ttl;
	}
}

/* An A/AAAA record whose owner (lower-cased) is one of ref's NS names. */
static void ref_glue(struct ctl_referral *ref, const struct dns_msg *m,
		     const struct dns_rr *rr, const uint8_t *owner)
{
	for (unsigned k = 0; k < ref->nns; k++)
		if (dns_name_same(ref->ns[k].name, owner))
			take_addr(m, rr, ref->ns[k].addr, &ref->ns[k].naddr);
}

/*
 * A referral from the scrubbed reply, as the delegation table takes it: the
 * NS names, and the addresses of glue and (unless resolver.sibling-glue is
 * off) sibling glue. Either is only an address to reach this delegation's
 * servers by: it lives and dies with the delegation instance (a changed
 * glue address is a new instance, control/deleg.h), is never cached as
 * the name's data and never answered to a client.
 */
static void make_referral(struct ctl_iter *it, const struct dns_msg *m,
			  const struct ctl_scrub *s, struct ctl_referral *ref)
{
	memset(ref, 0, sizeof(*ref));
	ref->zone = s->cut;
	ref->ttl = UINT32_MAX;
	ref_ns_names(ref, m, s, CTL_ROLE_REF_NS);
	for (unsigned i = 0; i < s->nrr; i++) {
		struct dns_rr rr;
		size_t pos = s->rr[i].off;
		uint8_t role = s->rr[i].role;
		if ((role != CTL_ROLE_GLUE && (role != CTL_ROLE_SIBLING || !it->cfg.sibling_glue)) ||
		    dns_rr_parse(m->wire, m->len, &pos, &rr))
			continue;
		ref_glue(ref, m, &rr, s->owner[i]);
		it->st.sibling_glue += role == CTL_ROLE_SIBLING;
	}
	if (ref->ttl == UINT32_MAX)
		ref->ttl = 0;
}

static void on_referral(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s)
{
	struct ctl_iter *it = r->it;
	struct ctl_referral *ref = malloc(sizeof(*ref));
	const struct ctl_deleg *d;

	if (!ref) {
		fail(r, NULL);
		return;
	}
	if (++r->bud->referrals > it->cfg.max_referrals) {
		free(ref);
		fail(r, &it->st.limit_referrals);
		return;
	}
	make_referral(it, m, s, ref);
	it->st.referrals++;
	/* Below a cut followed once, nothing is kept either. */
	int rc = r->cut.transient ? CTL_DELEG_LATE :
		 ctl_deleg_learn(it->deleg, &r->cut.d, ref, r->started, ctl_iter_now(), &d);
	if (r->cut.transient)
		d = NULL;
	if (d) {
		if (!set_cut(r, d, false)) {
			free(ref);
			return;
		}
	} else if (rc == CTL_DELEG_LATE) {
		/* followed for this question only, with the parent's TTL */
		struct ctl_deleg t = { .expire = ctl_iter_now() + (ref->ttl ? ref->ttl : 1),
				       .nns = ref->nns, .ns = ref->ns };
		name_copy(t.zone, s->cut);
		it->st.late_referrals++;
		if (!set_cut(r, &t, true)) {
			free(ref);
			return;
		}
	} else {
		free(ref);
		it->st.lame++;
		defer(r, step_next);
		return;
	}
	free(ref);
	defer(r, step_next);
}

/*
 * The parent said the name is not there (or has no such type): cuts
 * between it and the name go. A DS question is the exception at the name
 * itself: the parent answers it for the cut, which stays.
 */
static void revoke_below(struct req *r, const uint8_t *name)
{
	unsigned zl = (unsigned)dns_name_labels(r->cut.d.zone);
	unsigned nl = (unsigned)dns_name_labels(name);

	if (r->qtype == DNS_T_DS && r->sent_type == DNS_T_DS && nl > zl)
		nl--;
	for (unsigned l = nl; l > zl; l--)
		if (ctl_deleg_revoke(r->it->deleg, suffix_labels(name, l)))
			r->it->st.revoked++;
}

/* Records of the reply into the answer: chain, then data or SOA. last:
 * the reply ends the answer (no later reply adds answer records). */
static bool take_answer(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s,
			bool negative, bool last)
{
	uint32_t now = ctl_iter_now();
	uint32_t cap = r->chain_expire > now ? r->chain_expire - now : 0;
	const struct ctl_iter_config *c = &r->it->cfg;

	/* the client's answer bounded as the cache's entry will be (the
	 * cache answers the next client with the bounds again) */
	if (cap > c->max_ttl)
		cap = c->max_ttl;
	if (!s->aa)
		r->all_aa = false;
	/* Every answer is assembled as a DO client gets it, signatures and
	 * denial records included: one answer (and one cache entry) serves
	 * every client, and the front ends strip them for clients without DO
	 * (answer_from_msg(), the cache's plain view; RFC 4035 3.2.1). */
	if (asm_roles(r->it, &r->b, true, m, s, CTL_ROLE_CHAIN, CTL_ROLE_DATA,
		      DNS_SEC_ANSWER, cap))
		return false;
	/* the denial records: a negative answer's proof, and the last
	 * reply's wildcard expansion's (no closer match, RFC 4035 3.1.3.3;
	 * a link's before it would put authority records before answer
	 * records) */
	if (last && asm_roles(r->it, &r->b, true, m, s, negative ? CTL_ROLE_SOA : CTL_ROLE_DENIAL,
			      CTL_ROLE_DENIAL, DNS_SEC_AUTHORITY,
			      negative && cap > c->max_negative_ttl ? c->max_negative_ttl : cap))
		return false;
	return true;
}

/*
 * The reply to a minimised question, cached as the answer to it: the name
 * exists (data or NODATA) and is no cut. Later questions below it skip the
 * step (query_name() looks), as a resolver without minimisation would.
 */
static void cache_minimised(struct req *r, const struct dns_msg *m,
			    const struct ctl_scrub *s, bool negative)
{
	struct ctl_iter *it = r->it;
	uint32_t now = ctl_iter_now();
	uint32_t cap = r->chain_expire > now ? r->chain_expire - now : 0;
	struct dns_builder b;

	if (r->cut.transient || !cap)
		return;
	dns_builder_init(&b, it->side, MSG_MAX, 0, (uint16_t)(DNS_F_QR | (s->aa ? DNS_F_AA : 0)));
	dns_builder_question(&b, r->sent_name, r->sent_type, r->qclass);
	if (asm_roles(it, &b, false, m, s, CTL_ROLE_CHAIN, CTL_ROLE_DATA, DNS_SEC_ANSWER, cap) ||
	    (negative && asm_roles(it, &b, false, m, s, CTL_ROLE_SOA, CTL_ROLE_SOA,
				   DNS_SEC_AUTHORITY, cap)))
		return;
	ctl_iter_cache_lock();
	cache_insert(it->cache, it->side, dns_builder_finish(&b), now,
		     s->aa ? CACHE_RANK_AUTH_ANSWER : CACHE_RANK_NONAUTH_ANSWER, false);
	ctl_iter_cache_unlock();
}

/* A chain went on: has the name been seen (a loop) or the limit hit? */
static bool chain_on(struct req *r, const struct ctl_scrub *s)
{
	r->chain += s->chain_len;
	if (r->chain > r->it->cfg.max_cname_chain) {
		fail(r, &r->it->st.limit_chain);
		return false;
	}
	for (unsigned i = 0; i < r->nseen; i++)
		if (dns_name_same(r->seen[i], s->final_name)) {
			fail(r, NULL);
			return false;
		}
	if (r->nseen < NAMES_SEEN_MAX)
		name_copy(r->seen[r->nseen++], s->final_name);
	return true;
}

/* Whether a failed attempt was the server's doing (silence, a refused or
 * broken TCP connection), not ours (no port, no descriptor, no memory) nor
 * a reply in the wrong letter case (it answers, just not in 0x20). */
static bool server_fault(const struct up_result *res)
{
	if (res->status == UP_TIMEOUT)
		return true;
	if (res->status != UP_NETWORK_ERROR)
		return false;
	switch (res->err) {
	case EADDRINUSE: case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM: case EINVAL:
		return false;
	default:
		return true;
	}
}

/* An attempt that ended without a reply: the server's fault (silence, a
 * refused or broken connection) is remembered for it, ours is not. */
static void on_no_reply(struct req *r, struct ctl_srv *srv, const struct up_result *res,
			bool probe)
{
	struct ctl_iter *it = r->it;

	it->st.timeouts++;
	if (!server_fault(res)) {
		r->local_fail |= res->status == UP_NETWORK_ERROR;
		if (probe)
			ctl_infra_probe_gone(srv);
	} else {
		ctl_infra_timeout(it->infra, srv, ctl_now_ms(), &r->sent_mark, probe);
		struct sockaddr_storage ss;
		server_sockaddr(r->it, &r->sent_to, &ss);
		/* never without EDNS to a server that sends cookies:
		 * without EDNS nothing could tell its replies from
		 * forgeries, and timeouts can be provoked */
		if (r->sent_edns && !srv->edns_ok && srv->timeouts >= EDNS_PROBE_TIMEOUTS &&
		    !up_sends_cookies(it->up, (struct sockaddr *)&ss))
			srv->probe_plain = true;
		else if (!r->sent_edns && srv->probe_plain)
			srv->probe_plain = false; /* silent without EDNS too */
	}
	defer(r, step_next);
}

/* What a reply says of its server's EDNS; true when the question was sent
 * again without EDNS (the reply is then not used). */
static bool learn_edns(struct req *r, struct ctl_srv *srv, const struct dns_msg *m)
{
	struct ctl_iter *it = r->it;

	if (r->sent_edns) {
		srv->edns_ok = true;
	} else if (srv->probe_plain) {
		/* silent with EDNS, answers without: EDNS off for it */
		srv->probe_plain = false;
		ctl_infra_no_edns(it->infra, srv, ctl_now_ms());
		it->st.edns_fallbacks++;
	}
	if (r->sent_edns && (m->rcode == DNS_R_FORMERR || m->rcode == DNS_R_NOTIMP ||
			     m->rcode == DNS_R_BADVERS) && !m->has_edns) {
		/* RFC 6891 7: a server that does not know EDNS */
		ctl_infra_no_edns(it->infra, srv, ctl_now_ms());
		it->st.edns_fallbacks++;
		unmark_tried(r, &r->sent_to); /* this retry is not the server's fault */
		send_query(r, &r->sent_to, r->sent_name, r->sent_type);
		return true;
	}
	return false;
}

/*
 * The status of a reply r only steps through (a minimised one, cached for
 * later questions only if it validates): on a budget of its own, so that
 * the steps of a deep name do not spend the question's (they are bounded
 * by QMIN_STEPS_MAX).
 */
static uint8_t chain_peek(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s,
			  int kind)
{
	struct ctl_chain_step st;
	struct ctl_val_budget b;

	ctl_val_budget_init(&b, ctl_chain_limits(r->it->chain));
	ctl_chain_reply(r->it->chain, &b, m, s, kind, r->cut.d.zone, r->sent_type,
			r->sub_kind == SUB_KEYS ? r->qname : NULL, ctl_iter_now(), &st);
	return st.sec;
}

/*
 * Validates a reply r is about to take (control/chain.h). true: go on
 * (its status is now part of r's, its signatures' expiry caps the TTLs).
 * false: it is bogus and r has moved on, to another server while
 * BOGUS_RETRIES allow (a forged or broken reply from one server), else to
 * SERVFAIL.
 */
static bool chain_check(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s,
			int kind)
{
	struct ctl_iter *it = r->it;
	struct ctl_chain_step st;
	uint32_t now = ctl_iter_now();

	if (!it->chain || r->cd)
		return true;
	ctl_chain_reply(it->chain, r->vbud, m, s, kind, r->cut.d.zone, r->sent_type,
			r->sub_kind == SUB_KEYS ? r->qname : NULL, now, &st);
	if (st.need && r->signer_fetches < SIGNER_FETCHES_MAX && r->depth < KEY_DEPTH_MAX) {
		/* signed by a zone below the cut (its server answered for it
		 * without a referral): that zone's DS or keys; unsigned data
		 * below the cut: is there an unsigned delegation? Then ask
		 * again. */
		r->signer_fetches++;
		unmark_tried(r, &r->sent_to);
		key_sub(r, st.signer, st.need,
			st.need == CTL_CHAIN_NEED_CUT		      ? CTL_DS_PROBE
			: !dns_name_same(st.signer, r->cut.d.zone) ? CTL_DS_SIGNER
								    : CTL_DS_CUT);
		return false;
	}
	if (st.sec == CTL_SEC_BOGUS) {
		if (st.retry && r->bogus_tries < BOGUS_RETRIES && !r->vbud->verify_hit &&
		    !r->vbud->failures_hit) {
			r->bogus_tries++;
			it->st.bogus_retries++;
			defer(r, step_next);
			return false;
		}
		sec_lower(r, CTL_SEC_BOGUS, st.ede, st.why);
		fail(r, NULL);
		return false;
	}
	/* what validated as denial goes to the NSEC store (RFC 8198) */
	if (st.sec == CTL_SEC_SECURE && it->feed) {
		unsigned next = 0;
		size_t n;
		while ((n = ctl_chain_feed(it->chain, it->side, it->feed_max, &next))) {
			it->st.nsec_feeds++;
			it->feed(it->feed_arg, it->side, n);
		}
	}
	/* a referral's status too: its chain records go into the answer */
	sec_lower(r, st.sec, st.ede, st.why);
	if (st.ttl_cap != UINT32_MAX && now + st.ttl_cap < r->chain_expire)
		r->chain_expire = now + st.ttl_cap;
	return true;
}

/* The next step after a reply the scrubber classified as kind. */
static void on_scrubbed(struct req *r, const struct dns_msg *m, struct ctl_scrub *s, int kind)
{
	struct ctl_iter *it = r->it;
	bool mini = minimised(r);

	if (r->cut.d.kind == CTL_DELEG_FORWARD) {
		/* a forwarder that refers is not doing its job: the next one */
		if (kind == CTL_SCRUB_REFERRAL)
			kind = CTL_SCRUB_LAME;
		/* its empty NOERROR is NODATA (no AA; its SOA may lie above
		 * the zone configured: out of bailiwick, so not cacheable) */
		else if (kind == CTL_SCRUB_LAME && s->rcode == DNS_R_NOERROR && !s->loop &&
			 !s->oversized)
			kind = CTL_SCRUB_NODATA;
	}
	switch (kind) {
	case CTL_SCRUB_REFERRAL:
		if (!chain_check(r, m, s, kind))
			return;
		if (!dns_name_same(s->final_name, r->sent_name) && !mini) {
			/* a chain inside the zone, then a cut below */
			if (!chain_on(r, s) || !take_answer(r, m, s, false, false)) {
				if (!r->done)
					fail(r, &it->st.overflow);
				return;
			}
			name_copy(r->target, s->final_name);
		}
		on_referral(r, m, s);
		return;
	case CTL_SCRUB_ANSWER:
	case CTL_SCRUB_NODATA:
		if (mini) {
			/* the name exists and is no cut: one label deeper (kept
			 * for later questions only if it validates) */
			if (!it->chain || (!r->cd && chain_peek(r, m, s, kind) != CTL_SEC_BOGUS))
				cache_minimised(r, m, s, kind == CTL_SCRUB_NODATA);
			r->qmin_labels++;
			r->qmin_steps++;
			defer(r, step_next);
			return;
		}
		if (!chain_check(r, m, s, kind))
			return;
		if (kind == CTL_SCRUB_NODATA)
			revoke_below(r, s->final_name);
		if ((s->chain_len && !chain_on(r, s)) ||
		    !take_answer(r, m, s, kind == CTL_SCRUB_NODATA, true)) {
			if (!r->done)
				fail(r, NULL);
			return;
		}
		if (r->priming && kind == CTL_SCRUB_ANSWER)
			prime_from(r, m, s);
		finish(r, DNS_R_NOERROR);
		return;
	case CTL_SCRUB_CHAIN_OUT:
		if (mini) {
			/* a CNAME has no children: ask the full name */
			r->qmin_off = true;
			defer(r, step_next);
			return;
		}
		if (!chain_check(r, m, s, kind))
			return;
		if (!chain_on(r, s) || !take_answer(r, m, s, false, false)) {
			if (!r->done)
				fail(r, NULL);
			return;
		}
		it->st.restarts++;
		name_copy(r->target, s->final_name);
		r->qmin_steps = 0;
		r->qmin_off = false;
		defer(r, step_start);
		return;
	case CTL_SCRUB_NXDOMAIN:
		if (mini && it->cfg.qname_min == 1) {
			it->st.qmin_fallbacks++;
			r->qmin_off = true;
			defer(r, step_next);
			return;
		}
		/* validated before it revokes anything */
		if (!chain_check(r, m, s, kind))
			return;
		revoke_below(r, s->final_name);
		if ((s->chain_len && !chain_on(r, s)) || !take_answer(r, m, s, true, true)) {
			if (!r->done)
				fail(r, NULL);
			return;
		}
		finish(r, DNS_R_NXDOMAIN);
		return;
	default: /* lame, failure */
		it->st.lame++;
		if (mini && it->cfg.qname_min == 1) {
			it->st.qmin_fallbacks++;
			r->qmin_off = true;
		}
		if (s->loop) {
			fail(r, &it->st.limit_chain);
			return;
		}
		defer(r, step_next);
		return;
	}
}

static void on_reply(void *arg, const struct up_result *res)
{
	struct req *r = arg;
	struct ctl_iter *it = r->it;
	struct ctl_srv *srv = srv_of(it, &r->sent_to);
	struct ctl_scrub *s = it->scrub;
	const struct dns_msg *m = res->msg;

	r->inflight = false;
	if (r->done)
		return;
	bool probe = r->sent_probe;
	r->sent_probe = false;
	if (res->status != UP_OK) {
		on_no_reply(r, srv, res, probe);
		return;
	}
	ctl_infra_reply(it->infra, srv, res->rtt_us / 1000);
	if (learn_edns(r, srv, m))
		return;
	/* configured zones below the cut are not its servers' to speak for */
	const uint8_t *fence[CTL_SCRUB_FENCES_MAX];
	ctl_scrub_set_fences(s, fence, ctl_deleg_configured_below(it->deleg, r->cut.d.zone, fence,
								   CTL_SCRUB_FENCES_MAX));
	int kind = ctl_scrub(s, m, r->cut.d.zone, r->sent_name, r->sent_type, r->qclass,
			     it->cfg.max_rrset);
	ctl_scrub_set_fences(s, NULL, 0); /* fence[] is ours: gone on return */
	it->st.scrub_dropped += ctl_scrub_dropped(s);
	it->st.oversized += s->oversized;
	on_scrubbed(r, m, s, kind);
}

/*
 * RFC 8109 priming: the root servers' own NS set and, from the additional
 * section, their addresses (every name is inside the root zone, so all of
 * it is in bailiwick here) replace the hints in the delegation table for
 * the NS set's TTL. Without any address the hints stay.
 */
static void prime_from(struct req *r, const struct dns_msg *m, const struct ctl_scrub *s)
{
	struct ctl_referral *ref = calloc(1, sizeof(*ref));
	struct dns_rr_iter iter;
	struct dns_rr rr;
	unsigned with_addr = 0;

	if (!ref)
		return;
	ref->zone = (const uint8_t *)"";
	ref->ttl = UINT32_MAX;
	ref_ns_names(ref, m, s, CTL_ROLE_DATA);
	dns_rr_iter_init(&iter, m, DNS_SEC_ADDITIONAL);
	while (dns_rr_next(&iter, &rr) > 0) {
		uint8_t owner[DNS_NAME_MAX];
		dns_name_copy_lower(owner, rr.owner);
		ref_glue(ref, m, &rr, owner);
	}
	for (unsigned k = 0; k < ref->nns; k++)
		with_addr += ref->ns[k].naddr > 0;
	if (with_addr && ctl_deleg_prime(r->it->deleg, ref, ctl_iter_now()) == 0)
		r->it->st.primed++;
	free(ref);
}

/* Starts priming when the root is still the hints' and none is out. */
static void maybe_prime(struct ctl_iter *it)
{
	uint32_t now = ctl_iter_now(), chain;
	const struct ctl_deleg *root;
	struct req *r;

	if (it->priming || (it->primed_at && now - it->primed_at < PRIME_RETRY_S))
		return;
	root = ctl_deleg_find(it->deleg, (const uint8_t *)"", now, &chain);
	if (!root || !root->from_hints)
		return;
	if (!(r = req_new(it, (const uint8_t *)"", DNS_T_NS, DNS_C_IN, NULL)))
		return;
	r->priming = true;
	it->priming = true;
	it->primed_at = now;
	defer(r, step_start);
}

/* --- answers without resolving ------------------------------------------------- */

/* Every early answer due: the stale one if the cache has it, else SERVFAIL
 * with the question alone. */
static void early_flush(struct ctl_loop *loop, void *arg)
{
	struct ctl_iter *it = arg;
	uint8_t buf[MSG_MAX];

	(void)loop;
	/* a callback may add more: they wait for the next round */
	uint32_t n = it->nearly;
	for (uint32_t i = 0; i < n; i++) {
		struct early *e = &it->early[i];
		int rcode;
		size_t len = stale_answer(it, e->qname, e->qtype, e->qclass, buf, &rcode);
		if (len) {
			it->st.stale++;
			e->cb(e->arg, rcode, buf, len, true);
			continue;
		}
		struct dns_builder b;
		dns_builder_init(&b, buf, MSG_MAX, 0, DNS_F_QR | DNS_R_SERVFAIL);
		dns_builder_question(&b, e->qname, e->qtype, e->qclass);
		/* RFC 8914 4.14 "Cached Error": the failure remembered */
		builder_ede(&b, DNS_EDE_CACHED_ERROR, NULL);
		it->st.servfail++;
		e->cb(e->arg, DNS_R_SERVFAIL, buf, dns_builder_finish(&b), false);
	}
	memmove(it->early, it->early + n, (it->nearly - n) * sizeof(*it->early));
	it->nearly -= n;
	if (it->nearly)
		ctl_timer_add(it->loop, &it->early_timer, 0, early_flush, it);
}

/* Answers the question from the loop without resolving; 0, or CTL_E_FULL
 * or CTL_E_NOMEM. */
static int answer_early(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
			uint16_t qclass, ctl_iter_cb cb, void *arg)
{
	if (it->nearly == it->early_cap) {
		uint32_t cap = it->early_cap ? 2 * it->early_cap : 64;
		struct early *e;
		if (cap > it->cfg.max_requests)
			return CTL_E_FULL;
		if (!(e = realloc(it->early, cap * sizeof(*e))))
			return CTL_E_NOMEM;
		it->early = e;
		it->early_cap = cap;
	}
	struct early *e = &it->early[it->nearly];
	*e = (struct early){ .cb = cb, .arg = arg, .qtype = qtype, .qclass = qclass };
	dns_name_copy_lower(e->qname, qname);
	int rc = ctl_timer_add(it->loop, &it->early_timer, 0, early_flush, it);
	if (rc)
		return rc;
	it->nearly++;
	return 0;
}

/* --- the interface ------------------------------------------------------------ */

static void stale_timeout(struct ctl_loop *loop, void *arg)
{
	struct req *r = arg;

	(void)loop;
	if (!r->done && r->nwait && deliver_stale(r))
		r->stale_sent = true;
}

void ctl_iter_set_config(struct ctl_iter *it, const struct ctl_iter_config *c)
{
	struct ctl_iter_config k = it->cfg;

	it->cfg = *c;
	/* what sized tables stays */
	it->cfg.max_requests = k.max_requests;
	it->cfg.max_waiters = k.max_waiters;
	it->cfg.server_port = k.server_port;
	ctl_infra_set_fail_ttl(it->infra, c->failure_ttl, c->max_failure_ttl);
	it->zone_max = (uint32_t)((uint64_t)it->cfg.max_requests * it->cfg.max_zone_share / 100);
	if (it->zone_max < 1)
		it->zone_max = 1;
}

struct ctl_iter *ctl_iter_new(struct ctl_loop *loop, struct up_ctx *up,
			      struct cache *cache, struct ctl_deleg_table *deleg,
			      const struct ctl_iter_config *c)
{
	struct ctl_iter *it = calloc(1, sizeof(*it));
	uint64_t buckets = 1024;

	if (!it)
		return NULL;
	it->loop = loop;
	it->up = up;
	it->cache = cache;
	it->deleg = deleg;
	it->cfg = *c;
	while (buckets < c->max_requests)
		buckets <<= 1;
	it->mask = buckets - 1;
	struct ctl_infra_config ic;
	ctl_infra_config_default(&ic);
	ic.fail_min_s = c->failure_ttl;
	ic.fail_max_s = c->max_failure_ttl;
	it->table = calloc(buckets, sizeof(*it->table));
	it->zones = calloc(buckets, sizeof(*it->zones));
	it->zone_mask = (uint32_t)(buckets - 1);
	it->zone_max = (uint32_t)((uint64_t)c->max_requests * c->max_zone_share / 100);
	if (it->zone_max < 1)
		it->zone_max = 1;
	it->infra = ctl_infra_new(&ic);
	it->scrub = calloc(1, sizeof(*it->scrub));
	ctl_timer_init(&it->early_timer);
	if (!it->table || !it->zones || !it->infra || !it->scrub) {
		free(it->table);
		free(it->zones);
		ctl_infra_free(it->infra);
		free(it->scrub);
		free(it);
		return NULL;
	}
	arc4random_buf(&it->seed, sizeof(it->seed));
	it->all.next = it->all.prev = &it->all;
	return it;
}

void ctl_iter_free(struct ctl_iter *it)
{
	if (!it)
		return;
	while (it->all.next != &it->all)
		req_free(it->all.next);
	while (it->spare) {
		struct req *r = it->spare;
		it->spare = r->next;
		free(r->buf);
		free(r);
	}
	ctl_timer_cancel(it->loop, &it->early_timer);
	free(it->early);
	free(it->table);
	free(it->zones);
	ctl_infra_free(it->infra);
	ctl_chain_free(it->chain);
	free(it->scrub);
	free(it);
}

int ctl_iter_validation_new(const struct ctl_anchors *anchors, const struct ctl_val_limits *lim,
			    int64_t validation_time, struct ctl_chain **out)
{
	*out = anchors ? ctl_chain_new(anchors, lim, validation_time) : NULL;
	return anchors && !*out ? CTL_E_NOMEM : 0;
}

int ctl_iter_set_validation(struct ctl_iter *it, const struct ctl_anchors *anchors,
			    const struct ctl_val_limits *lim, int64_t validation_time)
{
	struct ctl_chain *c;

	if (ctl_iter_validation_new(anchors, lim, validation_time, &c))
		return CTL_E_NOMEM;
	ctl_iter_validation_set(it, c);
	return 0;
}

void ctl_iter_validation_set(struct ctl_iter *it, struct ctl_chain *c)
{
	/* The resolutions in progress were validated (or not) under the
	 * anchors in force: they end, SERVFAIL, nothing of them remembered
	 * (their budgets and steps belong to the old chain of trust). */
	for (struct req *r = it->all.next; r != &it->all; r = r->next) {
		r->local_fail = true;
		if (!r->done) {
			fail(r, NULL);
		} else { /* its finish is armed: as a failure */
			asm_init(r);
			r->rcode = DNS_R_SERVFAIL;
		}
	}
	it->val_epoch++;
	ctl_infra_forget_failures(it->infra);
	ctl_chain_free(it->chain);
	it->chain = c;
	if (c)
		it->lim = *ctl_chain_limits(c);
}

void ctl_iter_set_feed(struct ctl_iter *it, ctl_iter_feed_cb cb, void *arg, size_t max)
{
	it->feed = cb;
	it->feed_arg = arg;
	it->feed_max = max < sizeof(it->side) ? max : sizeof(it->side);
}

unsigned ctl_iter_flush(struct ctl_iter *it, const uint8_t *zone, bool below)
{
	ctl_infra_forget_failures(it->infra);
	return it->chain ? ctl_chain_flush(it->chain, zone, below) : 0;
}

const struct ctl_infra *ctl_iter_infra(const struct ctl_iter *it)
{
	return it->infra;
}

void ctl_iter_forget_failures(struct ctl_iter *it)
{
	ctl_infra_forget_failures(it->infra);
}

void ctl_iter_get_chain_stats(const struct ctl_iter *it, struct ctl_chain_stats *st)
{
	if (it->chain)
		ctl_chain_get_stats(it->chain, st);
	else
		memset(st, 0, sizeof(*st));
}

static int resolve(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
		   uint16_t qclass, unsigned flags, bool refresh, ctl_iter_cb cb, void *arg)
{
	uint8_t lower[DNS_NAME_MAX];
	uint64_t h;
	struct req *r;
	/* without validation CD changes nothing */
	bool cd = (flags & CTL_ITER_CD) && it->chain;

	maybe_prime(it);
	dns_name_copy_lower(lower, qname);
	h = question_hash(it, lower, qtype, qclass);
	for (r = it->table[h & it->mask]; r; r = r->hnext)
		if (r->hash == h && r->qtype == qtype && r->qclass == qclass &&
		    r->cd == cd && !r->done &&
		    dns_name_same(r->qname, lower))
			break;
	if (r) {
		if (r->nwait >= it->cfg.max_waiters)
			return CTL_E_FULL;
		it->st.coalesced++;
	} else if (!cd && ctl_infra_failed(it->infra, lower, qtype, qclass, ctl_now_ms())) {
		return answer_early(it, lower, qtype, qclass, cb, arg);
	} else {
		if (it->nreq >= it->cfg.max_requests) {
			it->st.limit_requests++;
			return CTL_E_FULL;
		}
		if (!(r = req_new(it, lower, qtype, qclass, NULL)))
			return CTL_E_NOMEM;
		r->hash = h;
		r->refresh = refresh;
		if (cd) {
			r->cd = true;
			r->sec = CTL_SEC_INDETERMINATE;
		}
		r->hnext = it->table[h & it->mask];
		it->table[h & it->mask] = r;
		name_copy(r->seen[r->nseen++], r->qname);
		it->st.requests++;
		if (it->cfg.serve_stale)
			ctl_timer_add(it->loop, &r->stale_timer,
				     it->cfg.stale_client_timeout_ms, stale_timeout, r);
		defer(r, step_start);
	}
	struct waiter *w = realloc(r->wait, (r->nwait + 1) * sizeof(*w));
	if (!w)
		return CTL_E_NOMEM;
	r->wait = w;
	r->wait[r->nwait++] = (struct waiter){ cb, arg };
	return 0;
}

int ctl_iter_resolve(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
		     uint16_t qclass, unsigned flags, ctl_iter_cb cb, void *arg)
{
	int rc;

	if (it->router.route &&
	    it->router.route(it->router.arg, qname, qtype, qclass, flags, false, cb, arg, &rc))
		return rc;
	return resolve(it, qname, qtype, qclass, flags, false, cb, arg);
}

int ctl_iter_refresh(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
		     uint16_t qclass, unsigned flags, ctl_iter_cb cb, void *arg)
{
	int rc;

	if (it->router.route &&
	    it->router.route(it->router.arg, qname, qtype, qclass, flags, true, cb, arg, &rc))
		return rc;
	return resolve(it, qname, qtype, qclass, flags, true, cb, arg);
}

void ctl_iter_set_router(struct ctl_iter *it, const struct ctl_iter_router *r)
{
	if (r)
		it->router = *r;
	else
		memset(&it->router, 0, sizeof(it->router));
}

void ctl_iter_each_deleg(struct ctl_iter *it,
			 void (*fn)(void *fnarg, struct ctl_deleg_table *t), void *fnarg)
{
	fn(fnarg, it->deleg);
	if (it->router.each_deleg)
		it->router.each_deleg(it->router.arg, fn, fnarg);
}

void ctl_iter_get_stats(const struct ctl_iter *it, struct ctl_iter_stats *st)
{
	*st = it->st;
	st->outstanding = it->nreq;
}

const struct ctl_hist *ctl_iter_resolve_hist(const struct ctl_iter *it)
{
	return &it->resolve_time;
}

void ctl_iter_get_infra_stats(const struct ctl_iter *it, struct ctl_infra_stats *st)
{
	ctl_infra_get_stats(it->infra, st);
}
