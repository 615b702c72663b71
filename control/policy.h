/*
 * control/policy.h: the response policy zones of the configuration
 * (cfg.policy): each read from its file (control/rpz.h), all compiled into
 * one snapshot (answer/policy.h) that control's own front end applies and
 * dplink.c publishes to the dataplane's workers. A reload reads the files
 * again; a zone that fails as a whole keeps its previous version in force
 * (and says why); records rejected one by one are reported as FILE:LINE
 * and the rest of the zone loads. The snapshot is swapped only once every
 * zone is read and the new one is built (staged: a failure changes
 * nothing). Also the chase of a policy CNAME (walled gardens): the target
 * resolved by the iterator, its records after the CNAME.
 *
 * Control process, the loop's thread; may block (reads files).
 */
#ifndef BW_CONTROL_POLICY_H
#define BW_CONTROL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "answer/policy.h"

struct cfg;
struct ctl_iter;
struct dns_query;

#define CTL_POLICY_COUNTERS(X)						\
	X(loads, "policy loads (start and reloads) that built a snapshot") \
	X(zone_failures, "zone loads that failed as a whole (the previous version kept)") \
	X(rejected, "policy records rejected (FILE:LINE reported)")	\
	X(nxdomain, "control's answers: NXDOMAIN by policy")		\
	X(nodata, "control's answers: NODATA by policy")		\
	X(local, "control's answers: local data by policy")		\
	X(dropped, "control's queries dropped by policy")		\
	X(tcp_only, "control's UDP answers with TC=1 by policy")	\
	X(passthru, "control's queries passed through by policy")	\
	X(chased, "policy CNAMEs whose target control resolved")	\
	X(response_matches, "answers by a response trigger (QNAME of the CNAME chain, IP, NSDNAME, NSIP)") \
	X(ns_gathered, "name server sets gathered for NSDNAME and NSIP triggers") \
	X(ns_lookups, "iterator questions asked for them (apex NS sets, addresses)") \
	X(ns_truncated, "name server sets with names or addresses left out (limits)") \
	X(ns_failed, "questions for them the iterator refused (overload)")

struct ctl_policy_stats {
#define CTL_POLICY_FIELD(name, text) uint64_t name;
	CTL_POLICY_COUNTERS(CTL_POLICY_FIELD)
#undef CTL_POLICY_FIELD
};

struct ctl_policy;

/* The zones of cfg (which must outlive p), none loaded yet. NULL: no
 * memory. */
struct ctl_policy *ctl_policy_new(const struct cfg *cfg);
void ctl_policy_free(struct ctl_policy *p);

/*
 * Reads the zone named only (its configured name; NULL: every zone) from
 * its file again, keeps the others as they are, and builds a new
 * snapshot. Each rejected record and each zone that fails is one line to
 * report (may be NULL). first: the first load, where a zone that fails
 * has no previous version: then nothing is built and it returns
 * CTL_E_POLICY with the zone's error in err. Later loads keep the previous
 * version of a zone that fails and return 0 with the count of failed
 * zones in *failed. CTL_E_INVAL: only names no zone.
 */
int ctl_policy_load(struct ctl_policy *p, const char *only, bool first, FILE *report,
		    unsigned *failed, char *err, size_t errlen);

/*
 * The same for an operator's reload, in a thread of its own so that the
 * loop goes on meanwhile: cb(arg, rc, err, failed, report, len) is called
 * later from loop with what ctl_policy_load() would have returned and the
 * report's text (rejected records, failed zones). One at a time:
 * CTL_E_FULL while one runs (no callback); CTL_E_SYSTEM, CTL_E_NOMEM.
 */
struct ctl_loop;
typedef void (*ctl_policy_reloaded)(void *arg, int rc, const char *err, unsigned failed,
				    const char *report, size_t len);
int ctl_policy_reload(struct ctl_policy *p, struct ctl_loop *loop, const char *only,
		      ctl_policy_reloaded cb, void *arg);

/*
 * A configuration reload's policy list and TSIG keys: next's (p takes it
 * in every case and frees it when it is replaced or the reload fails).
 * Each zone of next that is a zone in force from the same source (the
 * same name and file, or the same name and primary) keeps its version,
 * counts and transfer state (its options and key are next's); a new file
 * zone is read; a new zone from a primary starts empty and is transferred
 * at once; zones no longer listed are dropped. Read and built in a thread
 * as ctl_policy_reload(); cb(arg, rc, err, failed, report, len) on the
 * loop: rc 0: next's list in force with a new snapshot; otherwise nothing
 * changed (a new zone's file did not load: err names it). CTL_E_FULL
 * while a reload runs (ctl_policy_busy()).
 */
struct cfg;
int ctl_policy_reconfigure(struct ctl_policy *p, struct ctl_loop *loop, struct cfg *next,
			   ctl_policy_reloaded cb, void *arg);
bool ctl_policy_busy(const struct ctl_policy *p);

/*
 * Zones from a primary (control/secondary.h): ctl_policy_offline() before
 * the first load reads only their copies on disk (a configuration check);
 * ctl_policy_start_transfers() after it starts their refresh timers and
 * the NOTIFY sockets. A refresh is a reload of that one zone (one reload
 * at a time: a refresh due while another runs follows it); cb(arg, ...)
 * is told of each as ctl_policy_reload()'s callback is, and the
 * snapshot's generation moves only when a zone changed. 0, or
 * CTL_E_LISTEN with err (a notify-listen address).
 */
void ctl_policy_offline(struct ctl_policy *p);
int ctl_policy_start_transfers(struct ctl_policy *p, struct ctl_loop *loop,
			       ctl_policy_reloaded cb, void *arg, char *err, size_t errlen);

/* The snapshot in force (NULL before the first load, or when no zone is
 * configured) and its length. Valid until the next load. */
const struct policy_snap *ctl_policy_snap(const struct ctl_policy *p, size_t *len);

/* Whether a snapshot with a zone in it is in force (after a reload removed
 * every zone, an empty one is kept: published, it clears the workers'). */
bool ctl_policy_active(const struct ctl_policy *p);

/* The generation of the snapshot in force, and the next one's above it
 * (dplink starts above what a dataplane already has). */
void ctl_policy_set_gen(struct ctl_policy *p, uint64_t gen);

/* The answer to a client's question when the policy has one, for control's
 * front ends. wire/q: the client's query; family 4 or 6 and its address;
 * stream: TCP. Returns POLICY_V_ANSWER (out holds len octets), POLICY_V_DROP
 * (send nothing), POLICY_V_PASS or 0 (no match, or a match that waits for
 * the response: an earlier zone has response triggers; answer as usual and
 * ask ctl_policy_respond() then), or
 * POLICY_V_CHASE after starting the target's resolution: done(arg, msg,
 * len) is called later with the answer (msg NULL: it could not be started
 * or built; answer SERVFAIL). */
typedef void (*ctl_policy_done)(void *arg, const uint8_t *msg, size_t len);
int ctl_policy_apply(struct ctl_policy *p, struct ctl_iter *it, const struct dns_query *q,
		     int family, const uint8_t *addr, bool stream, uint16_t edns_size,
		     uint8_t *out, size_t cap, size_t *len, ctl_policy_done done, void *arg);

/* The policy's verdict on a resolution (ctl_policy_respond()). */
struct ctl_policy_verdict {
	int v;			/* 0: the response goes to the client as it
				   is; POLICY_V_ANSWER: answer and len;
				   POLICY_V_DROP: nothing */
	const uint8_t *answer;	/* the policy's answer to the client */
	size_t len;
	/* for the cache entry of the response (struct cache_tag): the
	 * snapshot's generation (0: no policy) and its response verdict */
	uint64_t gen;
	uint64_t rule;
	bool unchased;		/* answer is a walled-garden CNAME alone: it
				   was not chased (no iterator given) */
};

/* msg and len: the response as given to ctl_policy_respond() (or its
 * copy); v and msg are valid during the call. */
typedef void (*ctl_policy_verdict_cb)(void *arg, const struct ctl_policy_verdict *v,
				      const uint8_t *msg, size_t len);

/*
 * After a resolution of q (asked by family 4 or 6 from addr; stream: TCP;
 * cap and edns_size as for ctl_policy_apply()): the triggers that depend
 * on the response (msg, mlen; NULL when none) weighed against the
 * question's own match (policy.h: policy_winner()). cb(arg, v, msg, len)
 * is called exactly once: before returning when the snapshot has no
 * NSDNAME or NSIP trigger that could win, else once the question's name
 * servers are gathered (control/policy_ns.h), or a walled-garden CNAME's
 * target is resolved through it (it NULL: never; such a CNAME is then
 * answered alone, and without ctl_policy_waits() cb is called before
 * returning). 0, or CTL_E_NOMEM (no callback).
 */
/*
 * The verdict on msg as the answer to q from addr (the other arguments as
 * for ctl_policy_respond()) when it needs nothing more: 0 and *v (its
 * answer valid until the next verdict; a walled garden's CNAME alone, with
 * v->unchased), or -1 when it would wait (ctl_policy_waits()) or memory ran
 * out. quiet: counts and logs nothing (a front end deciding whether it may
 * keep a stale answer for later).
 */
int ctl_policy_now(struct ctl_policy *p, const struct dns_query *q, int family,
		   const uint8_t *addr, bool stream, uint16_t edns_size, size_t cap,
		   const uint8_t *msg, size_t mlen, bool quiet, struct ctl_policy_verdict *v);

/* True when the verdict on q from addr waits for more than a cached
 * answer: ctl_policy_respond() would wait for name servers (it would not
 * call back before returning), or q's own match waits for the response.
 * A front end then resolves rather than answer from a cache or a denial
 * it synthesizes. */
bool ctl_policy_waits(const struct ctl_policy *p, const struct dns_query *q, int family,
		      const uint8_t *addr);

int ctl_policy_respond(struct ctl_policy *p, struct ctl_iter *it, const struct dns_query *q,
		       int family, const uint8_t *addr, bool stream, uint16_t edns_size,
		       size_t cap, const uint8_t *msg, size_t mlen, ctl_policy_verdict_cb cb,
		       void *arg);

void ctl_policy_get_stats(const struct ctl_policy *p, struct ctl_policy_stats *st);
/* "stat policy.*" lines: the counters, the generation, and per zone its
 * serial, rules by trigger, rejected records and the time of its load. */
void ctl_policy_print_stats(const struct ctl_policy *p, FILE *f);

#endif
