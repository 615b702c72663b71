/*
 * control/pool.h: control resolving on N threads (control.threads).
 *
 * Sharded: each thread owns a whole iterator with its own loop, upstream
 * context (the one port mechanism of control/upstream.h, sockets of its
 * own), delegation table, server state (infra) and key table; the message
 * cache is one, shared (readers lock-free, writers under
 * ctl_iter_cache_lock()). Shard 0 is the caller's own iterator, run by
 * the loop's thread, which also keeps the front ends (server.c, dplink.c),
 * the operator's verbs, the NSEC store and the statistics; shards 1..N-1
 * run on threads of their own.
 *
 * A question goes to the shard a hash of (lower-cased qname, qtype, qclass)
 * picks (FNV-1a from a random start, mixed: no cryptographic key, and a
 * client steering its questions to one shard gets that shard's share), so that identical questions meet in one iterator and
 * coalesce there; its sub-questions (NS names, DS and DNSKEY) stay in it.
 * The front ends keep calling ctl_iter_resolve() on shard 0: its router
 * (ctl_iter_set_router()) takes the question to its shard's inbox. What
 * comes back (the answer, a validated denial for the NSEC store) is
 * copied into the loop's thread's queue and handed to the caller's
 * callback there, so callbacks and feeds still run on the loop's thread
 * only, as with one thread.
 *
 * Each delegation comes from its parent in every shard: a cut one shard
 * learnt is no use to another, which asks the parent itself (the root's
 * and the TLDs' referrals are learnt N times), and nothing one shard
 * learnt can keep a cut alive in another (kiting fails in each as it does
 * in one).
 *
 * Threads: everything here is called from the loop's thread. A shard
 * thread holds its lock while it runs its callbacks and lets go of it
 * (and of its RCU reader state) while it waits, and between two callbacks
 * when the loop's thread asks for it; ctl_pool_each() holds a shard still
 * through that lock to touch its objects, ctl_pool_all() every shard at
 * once. Signals are the loop's thread's only.
 */
#ifndef BW_CONTROL_POOL_H
#define BW_CONTROL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/chain.h"
#include "control/deleg.h"
#include "control/hist.h"
#include "control/infra.h"
#include "control/iter.h"
#include "control/upstream.h"

/* One shard's objects (the pool frees those of shards 1..N-1). */
struct ctl_pool_shard {
	struct ctl_loop *loop;
	struct up_ctx *up;
	struct ctl_deleg_table *deleg;
	struct ctl_iter *it;
};

#define CTL_POOL_INBOX_MAX 8192	/* questions waiting for one shard */

#define CTL_POOL_COUNTERS(X)						\
	X(routed, "questions taken to another control thread")		\
	X(inbox_full, "questions refused: a control thread's inbox was full") \
	X(refused, "questions another control thread's iterator refused (SERVFAIL)") \
	X(feeds_lost, "denial feeds lost on the way back (no memory)")

struct ctl_pool_stats {
#define CTL_POOL_FIELD(name, text) uint64_t name;
	CTL_POOL_COUNTERS(CTL_POOL_FIELD)
#undef CTL_POOL_FIELD
};

struct ctl_pool;

/*
 * n shards (1..CFG_CONTROL_THREADS_MAX): shards[0] is the caller's
 * (shards[0].loop the caller's loop), the others are the pool's from now
 * on, even on failure. Nothing runs on other threads until
 * ctl_pool_start(). NULL: no memory or no eventfd (*err: CTL_E_NOMEM or
 * CTL_E_SYSTEM).
 */
struct ctl_pool *ctl_pool_new(const struct ctl_pool_shard *shards, unsigned n, int *err);

/* Starts shards 1..N-1's threads: 0 or CTL_E_SYSTEM (errno: why). */
int ctl_pool_start(struct ctl_pool *p);

/* Stops and joins the threads (questions not answered yet: no callback,
 * as ctl_iter_free()), frees shards 1..N-1 and the pool. NULL: nothing. */
void ctl_pool_free(struct ctl_pool *p);

unsigned ctl_pool_threads(const struct ctl_pool *p);

/* A shard thread's loop failed (control exits 1, as for its own). */
bool ctl_pool_failed(const struct ctl_pool *p);

/* fn for every shard in turn, each held still (its objects safe to read and
 * change) for the call. Not inside ctl_iter_cache_lock(). */
void ctl_pool_each(struct ctl_pool *p,
		   void (*fn)(void *arg, unsigned i, const struct ctl_pool_shard *s), void *arg);

/*
 * Every shard held still at once (one switch for all of them: the trust
 * anchors, a flush), fn for each in turn, then done (NULL: none) while
 * they are still held. fence: what the shards sent back before (answers
 * and denial feeds in the outbox, made under what fn replaced) is stale:
 * such an answer reaches its callback as SERVFAIL with no message (as a
 * resolution one thread was running ends when its anchors change: those
 * fn itself ended come back SERVFAIL too, later), a feed is dropped. Not
 * inside ctl_iter_cache_lock().
 */
void ctl_pool_all(struct ctl_pool *p,
		  void (*fn)(void *arg, unsigned i, const struct ctl_pool_shard *s),
		  void (*done)(void *arg), void *arg, bool fence);

/* ctl_iter_set_feed() on every shard: cb is called on the loop's thread. */
void ctl_pool_set_feed(struct ctl_pool *p, ctl_iter_feed_cb cb, void *arg, size_t max);

/* Every shard's counters and histograms added up (gauges too: outstanding,
 * deleg.entries). */
struct ctl_pool_sums {
	struct ctl_iter_stats iter;
	struct ctl_chain_stats chain;
	struct ctl_infra_stats infra;
	struct up_counters up;
	struct ctl_deleg_stats deleg;
	struct ctl_hist rtt, resolve;
	struct ctl_pool_stats pool;
};
void ctl_pool_sum(struct ctl_pool *p, struct ctl_pool_sums *s);

#endif
