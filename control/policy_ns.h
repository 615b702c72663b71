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
 *   - the parent's NS set and its glue (the delegation table: what the
 *     iterator followed; cuts are learned only from parent-side referrals),
 *   - the child's apex NS set (asked through the iterator: its cache, or
 *     the zone's servers when not cached or expired),
 *   - for NSIP, the A and AAAA records of every name of both (asked
 *     through the iterator too), and the glue.
 * Names past POLICY_NS_NAMES_MAX and addresses past POLICY_NS_ADDRS_MAX
 * are counted and left out (the first ones kept: the deepest cut's).
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

/* complete: every question was answered (NOERROR, NXDOMAIN); false when
 * one could not be asked or failed, so that the set may lack some. Names
 * and addresses left out at the limits do not make it incomplete: the
 * same ones are left out every time. */
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
