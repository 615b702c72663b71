/*
 * control/deleg.h: the delegation table, the zone cuts the iterator follows.
 * This is where the resolver refuses to be kited: a server that was once
 * authoritative for a zone cannot keep itself authoritative after the
 * parent changed or removed the delegation (ghost domains, CVE-2012-1191,
 * and the "Phoenix" variants).
 *
 * Rules kept here:
 * - Cuts come only from parent-side referrals (the parent's NS set and its
 *   glue, with the parent's TTL) and, for the root, from the hints and the
 *   priming answer. Nothing a child says about itself enters the table, so
 *   the child's apex NS set can never extend, replace or refresh a cut.
 * - Each stored cut is an instance with its own id and the id of the
 *   parent instance it was learned through. A cut is used only while it is
 *   unexpired and its parent instance is the one in use: when a cut expires
 *   everything learned below it is ignored, so sub-delegations cannot
 *   outlive their parent's. A referral that changes the NS set makes a new
 *   instance (so the old children are no longer used); one that repeats the
 *   same NS set with the same glue renews the instance in place.
 * - A fresh cut is never replaced or extended (a referral for it while it
 *   is fresh is ignored); an expired one is replaced only by a referral
 *   from a lookup that started after it expired, never by one that was in
 *   flight when it expired.
 * - Removing a cut (the parent says NXDOMAIN) removes the use of all below.
 * - The table is bounded: least recently used cuts are evicted (the root
 *   never is); an evicted cut's children are then unusable too.
 * - Configured cuts (stub and forward zones, ctl_deleg_set_configured())
 *   are anchors, as the root is: one is used for every name at or below
 *   its zone whatever the table holds above it, never expires, is never
 *   evicted, replaced by a referral or revoked. Below a stub zone the
 *   rules above hold as below the root (cuts learnt through the stub's
 *   instance); below a forward zone nothing is learnt.
 *
 * Control process, one thread; no I/O. Times are the caller's clock in
 * seconds.
 */
#ifndef BW_CONTROL_DELEG_H
#define BW_CONTROL_DELEG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control/err.h"
#include "dns/wire.h"

#define CTL_DELEG_NS_MAX 32	    /* NS names stored per cut */
#define CTL_DELEG_ADDR_MAX 8	    /* glue addresses stored per NS name */
#define CTL_DELEG_ENTRIES_DEFAULT 100000

/* One address (IPv4 or IPv6, port 53 implied). */
struct ctl_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t a[16];	/* network order; IPv4 in the first 4 octets */
};

static inline bool ctl_addr_same(const struct ctl_addr *a, const struct ctl_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16) == 0;
}

struct ctl_deleg_ns {
	uint8_t name[DNS_NAME_MAX]; /* lower-cased */
	uint8_t naddr;
	struct ctl_addr addr[CTL_DELEG_ADDR_MAX]; /* glue from the referral */
};

/* A cut as the table hands it out: valid until the next change of the
 * table (a copy must be taken to keep it longer). */
struct ctl_deleg {
	uint64_t id;		/* instance: changes when the NS set does */
	uint64_t parent_id;	/* 0: the root */
	uint32_t learned;	/* when this instance was made or renewed */
	uint32_t expire;	/* usable while now < expire */
	bool from_hints;	/* the root from hints, not from priming */
	uint8_t kind;		/* enum ctl_deleg_kind */
	bool rd;		/* forward: questions with RD set */
	uint8_t zone[DNS_NAME_MAX]; /* lower-cased */
	uint16_t nns;
	struct ctl_deleg_ns *ns;
};

enum ctl_deleg_kind {
	CTL_DELEG_LEARNT = 0,	/* from hints, priming or a referral */
	CTL_DELEG_STUB,		/* configured authorities: iterate from them */
	CTL_DELEG_FORWARD,	/* configured resolvers: their answer is final */
};

/* A referral, as the scrubbed response gave it. */
struct ctl_referral {
	const uint8_t *zone;	/* the cut (any case) */
	uint32_t ttl;		/* the parent's NS TTL */
	uint16_t nns;
	struct ctl_deleg_ns ns[CTL_DELEG_NS_MAX];
};

#define CTL_DELEG_COUNTERS(X)						\
	X(learned, "new cut instances")					\
	X(renewed, "expired cuts renewed with the same NS set")	\
	X(changed, "expired cuts replaced by a different NS set")	\
	X(fresh_kept, "referrals ignored: the cut was still fresh")	\
	X(late_refused, "referrals refused: the lookup began before the cut expired") \
	X(revoked, "cuts removed (parent said NXDOMAIN)")		\
	X(evicted, "cuts evicted (table full)")			\
	X(flushed, "cuts removed by an operator's flush")		\
	X(ignored_below, "lookups that ignored a cut learned through an old parent")

struct ctl_deleg_stats {
#define CTL_DELEG_FIELD(name, text) uint64_t name;
	CTL_DELEG_COUNTERS(CTL_DELEG_FIELD)
#undef CTL_DELEG_FIELD
	uint64_t entries;
};

struct ctl_deleg_table;

/* max_entries 0: CTL_DELEG_ENTRIES_DEFAULT; a referral's TTL is capped at
 * max_ttl seconds (the cache's max-ttl). NULL when out of memory. */
struct ctl_deleg_table *ctl_deleg_table_new(size_t max_entries, uint32_t max_ttl);
void ctl_deleg_table_free(struct ctl_deleg_table *t);

/* A configuration reload: the cap for referrals learnt from now on (0:
 * 86400). Delegations held keep their expiry. */
void ctl_deleg_set_max_ttl(struct ctl_deleg_table *t, uint32_t max_ttl);

/*
 * The root from hints: replaces the root's instance only when none is
 * usable (hints never expire: they are what priming starts from).
 * 0, CTL_E_NO_NS or CTL_E_NOMEM.
 */
int ctl_deleg_set_hints(struct ctl_deleg_table *t, const struct ctl_referral *r,
			uint32_t now);

/*
 * The configured zones (stub and forward; at most CTL_DELEG_CONF_MAX), in
 * place of those set before: zone i is ref[i]'s (its servers as NS
 * entries with their addresses), of kind[i], rd[i] for a forward zone. A
 * zone set again with the same kind, flag and servers keeps its instance
 * (what was learnt below it stays usable); any other is a new instance
 * (nothing learnt below the old one is used). 0, CTL_E_NO_NS (a zone
 * without a server), CTL_E_INVAL (too many) or CTL_E_NOMEM (then only a
 * first part of the new list is set, the rest of the old is gone: call
 * again).
 */
#define CTL_DELEG_CONF_MAX 64
int ctl_deleg_set_configured(struct ctl_deleg_table *t, const struct ctl_referral *ref,
			     const uint8_t *kind, const bool *rd, unsigned n, uint32_t now);

/* The configured zones strictly below zone (lower-cased; valid until the
 * next change of the configured list), up to max into out; how many. */
unsigned ctl_deleg_configured_below(const struct ctl_deleg_table *t, const uint8_t *zone,
				    const uint8_t **out, unsigned max);

/* Whether name (any case) is at or below a configured zone. */
bool ctl_deleg_configured(const struct ctl_deleg_table *t, const uint8_t *name);

/*
 * The root from a priming answer (the root's own NS set: the one cut that
 * has no parent), used for ttl seconds; the hints come back after that.
 * 0, CTL_E_NO_NS or CTL_E_NOMEM.
 */
int ctl_deleg_prime(struct ctl_deleg_table *t, const struct ctl_referral *r,
		    uint32_t now);

/*
 * The usable cut closest to qname (the root at worst: NULL only before any
 * hints). *chain_expire gets the earliest expiry of the cuts on the way
 * down, the most any data learned through the returned cut may live.
 */
const struct ctl_deleg *ctl_deleg_find(struct ctl_deleg_table *t,
				       const uint8_t *qname, uint32_t now,
				       uint32_t *chain_expire);

enum ctl_deleg_outcome {
	CTL_DELEG_NEW = 1,	/* stored as a new instance */
	CTL_DELEG_RENEWED,	/* same NS set as the expired one: renewed */
	CTL_DELEG_CHANGED,	/* replaced an expired cut with another NS set */
	CTL_DELEG_FRESH_KEPT,	/* the cut is fresh: left as it was */
	CTL_DELEG_LATE,		/* refused: the lookup began before expiry */
	CTL_DELEG_NOT_BELOW,	/* refused: not strictly below the parent */
	CTL_DELEG_NOMEM,
};

/*
 * A referral to r->zone received from the servers of parent (a cut
 * ctl_deleg_find() gave) by a lookup that started at started. Stores it
 * under the rules above and sets *out to the cut to follow: the stored
 * one, the fresh one kept, or NULL when refused (after CTL_DELEG_LATE the
 * caller may follow r for this lookup alone, keeping nothing of it; after
 * CTL_DELEG_NOT_BELOW the referral is lame). Returns the outcome.
 */
int ctl_deleg_learn(struct ctl_deleg_table *t, const struct ctl_deleg *parent,
		    const struct ctl_referral *r, uint32_t started, uint32_t now,
		    const struct ctl_deleg **out);

/* The parent answered NXDOMAIN for zone (or below it): the cut goes, and
 * with it the use of everything below. true if there was one. */
bool ctl_deleg_revoke(struct ctl_deleg_table *t, const uint8_t *zone);

/* What the table holds, for the operator (bailiwick-ctl dump-delegations,
 * lookup-delegation): every cut (zone NULL), those at or below zone
 * (below), or those at zone and above it (!below), most recently used
 * first, each given to cb (valid during the call). How many. */
unsigned ctl_deleg_each(const struct ctl_deleg_table *t, const uint8_t *zone, bool below,
			void (*cb)(void *arg, const struct ctl_deleg *d), void *arg);

/* An operator's flush: the learnt cut at zone (below: and those below
 * it; zone NULL: every one) goes, as if never learnt; the root and the
 * configured zones stay. How many went. */
unsigned ctl_deleg_flush(struct ctl_deleg_table *t, const uint8_t *zone, bool below);

void ctl_deleg_get_stats(const struct ctl_deleg_table *t, struct ctl_deleg_stats *st);

#endif
