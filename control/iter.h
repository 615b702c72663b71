/*
 * control/iter.h: the iterative resolver of the control process. It takes a
 * question and finds its answer by asking authorities, starting from the
 * closest usable zone cut of the delegation table (control/deleg.h) and
 * believing only what control/scrub.h lets through; upstream I/O is
 * control/upstream.h, answers are cached in a cache/ message cache.
 *
 * What it does per question: the message cache first; then from the cut,
 * with relaxed or strict QNAME minimisation (RFC 9156, A queries one label
 * at a time), referrals learnt through the delegation table (so kiting and
 * ghost domains fail there), CNAME and DNAME chains followed across zones
 * (the chain limit counts restarts), NXDOMAIN and NODATA with their SOA,
 * glueless NS names resolved as sub-questions (at most max-ns-per-referral
 * per cut; an NS name inside its own zone without glue is skipped), servers
 * chosen by smoothed RTT with some exploration, EDNS fallback for servers
 * that reject it, timeouts and retries. Identical outstanding questions are
 * coalesced into one resolution. Every cached answer lives no longer than
 * the delegations it was learnt through.
 *
 * Hard limits per client question (each hit counted): referrals, NS names
 * resolved per cut, upstream queries in all (sub-questions included),
 * CNAME/DNAME restarts, total time. A question that hits one ends SERVFAIL,
 * or with a stale answer when the cache has one (RFC 8767).
 *
 * Failure (RFC 9520, control/infra.h): a question that failed is answered
 * at once (stale, else SERVFAIL) for failure_ttl seconds, doubling up to
 * max_failure_ttl while it keeps failing; a server that times out three
 * times in a row is held down (one probe at a time, the hold doubling up
 * to a minute), and a question whose remaining servers are all held fails
 * at once, without a query; no zone's cut is followed by more than
 * max_zone_share percent of max_requests resolutions at a time. So one
 * zone whose servers black-hole can neither take every slot nor cost a
 * dozen upstream queries per random name asked below it.
 *
 * Control process: an iterator is its loop's thread's (control/pool.h runs
 * one per control thread, all on one message cache); that thread must be a
 * registered liburcu QSBR thread (it writes and reads the cache) and call
 * cache_reader_quiescent() between loop iterations. The cache's writer
 * calls of every thread go under ctl_iter_cache_lock().
 */
#ifndef BW_CONTROL_ITER_H
#define BW_CONTROL_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/config.h"
#include "control/hist.h"
#include "control/loop.h"

#define CTL_ITER_OWN_MAX 512	/* our addresses (a wildcard listen: the host's) */

struct cache;
struct ctl_addr;
struct ctl_deleg_table;
struct up_ctx;

struct ctl_iter_config {
	uint8_t qname_min;		/* 0 off, 1 relaxed, 2 strict */
	uint32_t max_referrals;
	uint32_t max_ns_per_referral;
	uint32_t max_upstream_queries;
	uint32_t max_cname_chain;
	uint32_t max_time_ms;
	uint16_t edns_buffer;
	bool use_0x20;
	bool cookies;
	uint32_t timeout_ms;		/* per upstream attempt */
	uint32_t retries;		/* extra attempts per server address */
	uint32_t max_rrset;		/* records per RRset */
	bool serve_stale;
	uint32_t stale_client_timeout_ms; /* a stale answer after this long */
	uint32_t max_requests;		/* resolutions outstanding */
	uint32_t max_waiters;		/* clients coalesced onto one */
	uint32_t min_ttl;		/* cache.min-ttl, applied when assembling */
	uint32_t max_ttl;		/* cache.max-ttl, the same */
	uint32_t max_negative_ttl;	/* cache.max-negative-ttl: a negative
					   answer's SOA and proof */
	uint32_t max_zone_share;	/* percent of max_requests at one cut */
	bool sibling_glue;		/* use a referral's sibling glue; on */
	uint32_t failure_ttl;		/* a failed question: SERVFAIL this long */
	uint32_t max_failure_ttl;	/* ... doubling up to this (RFC 9520) */
	bool log_bogus;			/* a warning line per bogus answer
					   (at most LOG_BOGUS_PER_S a second) */
	uint16_t server_port;		/* authorities' port: 53 (the unit tests'
					   scripted authorities use their own) */
	/* Server addresses never asked: in dont_query and not in do_query,
	 * one of own (the resolver's addresses), or no server's (0/8,
	 * multicast, 240/4, ::, v4-mapped). Empty lists by default. */
	unsigned n_dont_query, n_do_query, n_own;
	struct cfg_prefix dont_query[CFG_QUERY_PREFIXES_MAX];
	struct cfg_prefix do_query[CFG_QUERY_PREFIXES_MAX];
	struct cfg_addr own[CTL_ITER_OWN_MAX];
};

void ctl_iter_config_default(struct ctl_iter_config *c);

#define CTL_ITER_COUNTERS(X)						\
	X(requests, "questions resolved (after coalescing)")		\
	X(primed, "root NS sets taken from priming (RFC 8109)")	\
	X(coalesced, "questions joined to one in progress")		\
	X(cache_answers, "questions answered from the cache on the way")\
	X(answers, "NOERROR answers")					\
	X(outstanding, "resolutions in progress (a gauge, not a counter)") \
	X(nxdomain, "NXDOMAIN answers")				\
	X(servfail, "SERVFAIL answers")				\
	X(stale, "stale answers (RFC 8767)")				\
	X(upstream, "upstream queries sent")				\
	X(referrals, "referrals followed")				\
	X(restarts, "CNAME/DNAME restarts")				\
	X(subqueries, "NS names resolved (glueless)")			\
	X(qmin_fallbacks, "relaxed QNAME minimisation fell back to the full name") \
	X(edns_fallbacks, "servers retried without EDNS")		\
	X(lame, "lame or failing answers")				\
	X(scrub_dropped, "upstream records dropped by the scrubber")	\
	X(oversized, "responses refused for an oversized RRset")	\
	X(timeouts, "upstream timeouts")				\
	X(revoked, "delegations revoked by a parent's NXDOMAIN")	\
	X(late_referrals, "referrals followed once, not stored (in flight at expiry)") \
	X(limit_referrals, "limit hit: referrals")			\
	X(limit_ns, "limit hit: NS names per referral")		\
	X(limit_queries, "limit hit: upstream queries")		\
	X(limit_chain, "limit hit: CNAME/DNAME chain")		\
	X(limit_time, "limit hit: time")				\
	X(limit_requests, "questions refused: too many outstanding")	\
	X(limit_zone, "limit hit: the cut's share of outstanding resolutions") \
	X(dont_query, "server addresses skipped: do-not-query, ours, or no server's") \
	X(sibling_glue, "sibling glue records taken from referrals (RFC 9471)") \
	X(held_down, "questions failed at once: every server left is held down") \
	X(overflow, "answers too large to assemble")			\
	X(secure, "answers validated as secure (AD)")			\
	X(bogus, "answers that failed validation (SERVFAIL)")		\
	X(bogus_retries, "bogus replies answered by asking another server") \
	X(key_queries, "DS and DNSKEY sub-questions for the chain of trust") \
	X(key_joined, "DS and DNSKEY sub-questions joined to one already asked") \
	X(nsec_feeds, "validated NSEC/NSEC3 proofs sent to the NSEC store (RFC 8198)")

struct ctl_iter_stats {
#define CTL_ITER_FIELD(name, text) uint64_t name;
	CTL_ITER_COUNTERS(CTL_ITER_FIELD)
#undef CTL_ITER_FIELD
};

/*
 * The result of a question: rcode and the assembled response (question as
 * first asked, lower-cased; answer and authority sections), valid during
 * the call. stale: answered from an expired entry.
 */
typedef void (*ctl_iter_cb)(void *arg, int rcode, const uint8_t *msg,
			    size_t len, bool stale);

struct ctl_iter;

/* All arguments must outlive the iterator; c is copied. NULL: no memory. */
struct ctl_iter *ctl_iter_new(struct ctl_loop *loop, struct up_ctx *up,
			      struct cache *cache, struct ctl_deleg_table *deleg,
			      const struct ctl_iter_config *c);

/* Ends every resolution without callbacks. */
void ctl_iter_free(struct ctl_iter *it);

/* A configuration reload: c's settings for the resolutions started from
 * now on (the failure TTLs for failures remembered from now on), except
 * those that sized the iterator's tables (max_requests, max_waiters,
 * server_port), which stay as they were. The loop's thread. */
void ctl_iter_set_config(struct ctl_iter *it, const struct ctl_iter_config *c);

/*
 * What a client asked for besides the question (ctl_iter_resolve's flags).
 * DO is none of them: every answer comes with the DNSSEC records a DO
 * client gets, and the front end strips them for a client without DO.
 */
#define CTL_ITER_CD 2	/* checking disabled: the data unvalidated, never
			   cached (RFC 4035 3.2.2); no AD */

/*
 * Resolves (qname, qtype, qclass) for a client (flags: CTL_ITER_CD).
 * cb is called exactly
 * once, later, from the loop. Returns 0, or (no callback) CTL_E_FULL when
 * too many resolutions or waiters are outstanding, CTL_E_NOMEM.
 */
int ctl_iter_resolve(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
		     uint16_t qclass, unsigned flags, ctl_iter_cb cb, void *arg);

/*
 * The same, for a refresh (prefetch, or a stale entry the dataplane still
 * answers): the cache's entry for the question itself is not used, so the
 * answer comes from the authorities and replaces it. A question already in
 * progress is joined as it is.
 */
int ctl_iter_refresh(struct ctl_iter *it, const uint8_t *qname, uint16_t qtype,
		     uint16_t qclass, unsigned flags, ctl_iter_cb cb, void *arg);

void ctl_iter_get_stats(const struct ctl_iter *it, struct ctl_iter_stats *st);

/* Whether c lets the iterator send a query to a (see dont_query). */
bool ctl_iter_may_query(const struct ctl_iter_config *c, const struct ctl_addr *a);

/*
 * DNSSEC validation (control/chain.h): on with trust anchors (which must
 * outlive it), off with NULL. lim: the validator's limits; validation_time
 * replaces the clock for signature windows (0: the clock). Every answer
 * then carries its status: secure ones AD (and enter the cache as
 * validated), bogus ones become SERVFAIL, remembered as failures. Returns
 * 0 or CTL_E_NOMEM. Called again (a reload): every resolution in
 * progress ends SERVFAIL, nothing of it cached or remembered, and the
 * failures remembered are forgotten.
 */
struct ctl_anchors;
struct ctl_val_limits;
struct ctl_chain_stats;
int ctl_iter_set_validation(struct ctl_iter *it, const struct ctl_anchors *anchors,
			    const struct ctl_val_limits *lim, int64_t validation_time);
void ctl_iter_get_chain_stats(const struct ctl_iter *it, struct ctl_chain_stats *st);
/* ctl_iter_set_validation() in two steps, for several iterators switched
 * as one (control/pool.h's ctl_pool_all()): what validation needs made
 * first (*out NULL with no anchors; CTL_E_NOMEM, nothing made), then put in
 * force, which cannot fail (c is the iterator's from then on). */
struct ctl_chain;
int ctl_iter_validation_new(const struct ctl_anchors *anchors, const struct ctl_val_limits *lim,
			    int64_t validation_time, struct ctl_chain **out);
void ctl_iter_validation_set(struct ctl_iter *it, struct ctl_chain *c);

/* An operator's flush (control/flush.c): the key table's entries for zone
 * (below: and every zone below it; NULL: all of them) and every
 * remembered resolution failure (RFC 9520: seconds of memory, forgotten
 * whole) go. The key table's entries dropped. */
unsigned ctl_iter_flush(struct ctl_iter *it, const uint8_t *zone, bool below);
/* The socket address the iterator sends to for server address a (the
 * port it asks on); its length. */
socklen_t ctl_iter_server_sockaddr(const struct ctl_iter *it, const struct ctl_addr *a,
				   struct sockaddr_storage *ss);
/* The servers' state the iterator keeps (bailiwick-ctl servers). */
struct ctl_infra;
const struct ctl_infra *ctl_iter_infra(const struct ctl_iter *it);
/* The remembered resolution failures alone (flush-negative). */
void ctl_iter_forget_failures(struct ctl_iter *it);

/*
 * Aggressive negative caching (RFC 8198): with validation on, every reply
 * that validates as secure with NSEC/NSEC3 records (a negative answer's
 * proof, a wildcard answer's, a referral's proof of an unsigned child)
 * hands them to cb as denial feeds of at most max octets each
 * (ctl_chain_feed(), cache/nsec.h's cache_nsec_feed()), valid during the
 * call. NULL: none (the default).
 */
typedef void (*ctl_iter_feed_cb)(void *arg, const uint8_t *msg, size_t len);
void ctl_iter_set_feed(struct ctl_iter *it, ctl_iter_feed_cb cb, void *arg, size_t max);

/* The servers' and remembered failures' counters (control/infra.h). */
struct ctl_infra_stats;
void ctl_iter_get_infra_stats(const struct ctl_iter *it, struct ctl_infra_stats *st);
/* The time resolutions took, question to answer (coalesced questions
 * joined one: not counted again). */
const struct ctl_hist *ctl_iter_resolve_hist(const struct ctl_iter *it);

/*
 * The clock the iterator uses for TTLs and delegation lifetimes, in
 * seconds: CLOCK_MONOTONIC (the dataplane's cache clock too), so that a
 * step of the wall clock can neither extend nor cut a delegation's life.
 * With ctl_iter_set_clock_scale(scale, base_ms) (resolver.clock-scale,
 * for trace replays in studies) it runs scale times as fast from base_ms
 * (ctl_now_ms()'s clock; 0: now) on: with a dataplane, the base it
 * publishes (shm_ctl.clock_base_ms), so that both processes keep one
 * time. Call it at start; with a dataplane again once attached (between
 * the two only the root hints read the clock, and they never expire).
 */
uint32_t ctl_iter_now(void);
/* The delegation table the iterator follows (read-only use: policy_ns.c). */
struct ctl_deleg_table *ctl_iter_deleg(struct ctl_iter *it);
void ctl_iter_set_clock_scale(uint32_t scale, uint64_t base_ms);

/*
 * The message cache has one writer at a time (cache/msgcache.h): every
 * iterator takes this process-wide lock around its inserts, and every other
 * writer call (trim, flush, walk, limits) of any thread goes under it too.
 * Innermost: nothing else is locked while it is held.
 */
void ctl_iter_cache_lock(void);
void ctl_iter_cache_unlock(void);

/*
 * Control on N threads (control/pool.h): route(arg, ...) is asked first by
 * ctl_iter_resolve() and ctl_iter_refresh() of this iterator (never by its
 * own sub-questions): true when it took the question to another thread's
 * iterator, *rc then the call's result (cb called exactly once, later, from
 * this iterator's loop when *rc is 0); false: this iterator resolves it.
 * each_deleg(arg, fn, fnarg) calls fn with every other iterator's
 * delegation table, that iterator held still, so that a reader of the
 * table (policy_ns.c) sees every thread's cuts. NULL router: none.
 */
struct ctl_iter_router {
	bool (*route)(void *arg, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		      unsigned flags, bool refresh, ctl_iter_cb cb, void *cbarg, int *rc);
	void (*each_deleg)(void *arg, void (*fn)(void *fnarg, struct ctl_deleg_table *t),
			   void *fnarg);
	void *arg;
};
void ctl_iter_set_router(struct ctl_iter *it, const struct ctl_iter_router *r);
/* fn with this iterator's delegation table, then with every other
 * thread's (the router's each_deleg). */
void ctl_iter_each_deleg(struct ctl_iter *it,
			 void (*fn)(void *fnarg, struct ctl_deleg_table *t), void *fnarg);

#endif
