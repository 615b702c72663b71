/*
 * control/policy_ns.h: the name servers that RPZ NSDNAME and NSIP triggers
 * are checked against, gathered the same way whatever the caches hold.
 *
 * The parent's delegation NS set and the child's apex NS set of one zone
 * can differ; a resolver that checks whichever it has cached gives
 * different verdicts for one name depending on cache order and timing.
 * Here a question's name servers are, for each zone cut that holds it or
 * a name of its answer's CNAME chain (as BIND: the servers of every zone
 * the resolution passed through) below the top-level domains (deepest
 * first, at most CTL_NS_CUTS_MAX;
 * BIND's default min-ns-dots 1 skips the root's and the TLDs' servers
 * alike), the union of
 *   - the parent's NS set and its glue (the delegation tables, every
 *     control thread's: what the iterators followed; cuts are learned
 *     only from parent-side referrals),
 *   - the child's apex NS set (asked through the iterator: its cache, or
 *     the zone's servers when not cached or expired),
 *   - for NSIP, the A and AAAA records of every name of both (asked
 *     through the iterator too), and the glue.
 * A set that passes POLICY_NS_NAMES_MAX names, POLICY_NS_ADDRS_MAX
 * addresses or CTL_NS_CUTS_MAX cuts is incomplete (what was kept would
 * depend on the order answers came in); addresses are asked for in a
 * second round, name by name in DNSSEC order, as far as
 * CTL_NS_LOOKUPS_MAX questions go (the same names every time).
 *
 * A zone served by its parent's servers without a referral (no cut in the
 * delegation table) counts as part of the parent: its own NS set is not
 * seen. Control process, the loop's thread.
 */
#ifndef BW_CONTROL_POLICY_NS_H
#define BW_CONTROL_POLICY_NS_H

#include <stdbool.h>
#include <stdint.h>

#include "answer/policy.h"

struct ctl_iter;

#define CTL_NS_QNAMES_MAX 4	/* the question and three chain names */
#define CTL_NS_CUTS_MAX 12
#define CTL_NS_LOOKUPS_MAX 48	/* iterator questions per gathering */

/* Counters (control's "stat policy.ns_*" lines). */
struct ctl_ns_stats {
	uint64_t gathered;	/* gatherings finished */
	uint64_t lookups;	/* iterator questions asked */
	uint64_t truncated;	/* gatherings with names or addresses left out */
	uint64_t failed;	/* questions the iterator refused (overload) */
};

/* complete: every question was answered (NOERROR, NXDOMAIN) and no set
 * overflowed; false when the set may lack some, or some would be left out
 * differently another time (the caller keeps no verdict from it). Names
 * left unasked at the question budget do not make it incomplete: the
 * same ones are left out every time. A name three labels deep or more
 * with no cut below the TLDs makes it incomplete too (its cut expired or
 * was evicted since its answer was cached). */
typedef void (*ctl_ns_done)(void *arg, const struct policy_ns *ns, bool complete);

/*
 * Gathers the name servers of the n names (lower-cased wire; the
 * question's first; need: POLICY_NEED_NSDNAME, and POLICY_NEED_NSIP for
 * their addresses) and calls done(arg, ns, complete) exactly once (ns
 * valid during the call): before returning when nothing had to be asked,
 * else later from the loop. 0, or CTL_E_NOMEM (no callback).
 */
int ctl_ns_gather(struct ctl_iter *it, const uint8_t (*names)[DNS_NAME_MAX], unsigned n,
		  unsigned need, ctl_ns_done done, void *arg, struct ctl_ns_stats *st);

#endif
