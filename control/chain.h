/*
 * control/chain.h: the chain of trust as the iterator walks it. The
 * iterator asks, before it queries a zone's servers, whether the zone's
 * DNSSEC status is known (ctl_chain_need: an anchor, a DS set from the
 * parent, a validated DNSKEY set, or proof that the zone is unsigned);
 * when it is not, it resolves the zone's DS (at the parent) or DNSKEY (at
 * the zone) as a sub-question and hands the result here. Every reply it
 * then takes from a zone is validated here against that zone's keys
 * (ctl_chain_reply): each RRset it will use, the denial proofs of negative
 * answers and of wildcard expansions, and, for a referral, the child's DS
 * set or the proof that there is none, which becomes the child's entry in
 * the key table. Control process, the iterator's thread.
 *
 * Zones under no trust anchor are insecure; with no anchors at all
 * nothing is validated (ctl_chain_new is not called).
 */
#ifndef BW_CONTROL_CHAIN_H
#define BW_CONTROL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/anchor.h"
#include "control/scrub.h"
#include "control/trust.h"
#include "control/val.h"
#include "dns/msg.h"

#define CTL_CHAIN_BOGUS_TTL_S 60   /* a bogus zone is not validated again for */
#define CTL_CHAIN_TRUST_MAX 100000 /* zones in the key table */

#define CTL_CHAIN_COUNTERS(X)						\
	X(secure, "replies validated as secure")			\
	X(insecure, "replies from provably unsigned zones")		\
	X(bogus, "replies that failed validation")			\
	X(verify, "signature checks charged to the questions' budgets (made or from the memo)") \
	X(verify_memo, "of the signature checks, those answered from the memo of checks made before") \
	X(limit_verify, "limit hit: signature checks per question")	\
	X(limit_failures, "limit hit: failed signature checks per question") \
	X(limit_nsec3, "limit hit: NSEC3 hashes per question")		\
	X(nsec3_iterations, "NSEC3 proofs insecure: iterations above the limit") \
	X(keysets, "DNSKEY sets validated")				\
	X(keysets_bogus, "DNSKEY sets that failed validation")		\
	X(ds_secure, "DS sets validated (signed delegations)")		\
	X(ds_insecure, "delegations proven unsigned")

struct ctl_chain_stats {
#define CTL_CHAIN_FIELD(name, text) uint64_t name;
	CTL_CHAIN_COUNTERS(CTL_CHAIN_FIELD)
#undef CTL_CHAIN_FIELD
};

struct ctl_chain;

/*
 * anchors must outlive the chain. validation_time: seconds since the epoch
 * that replace the wall clock for signature windows only (0: the clock).
 * NULL: no memory.
 */
struct ctl_chain *ctl_chain_new(const struct ctl_anchors *anchors,
				const struct ctl_val_limits *lim, int64_t validation_time);
void ctl_chain_free(struct ctl_chain *c);

const struct ctl_val_limits *ctl_chain_limits(const struct ctl_chain *c);

/* What the iterator must do before it asks zone's servers. */
enum ctl_chain_need {
	CTL_CHAIN_READY = 0,	/* the zone's status is known */
	CTL_CHAIN_NEED_DS,	/* resolve "zone DS" (asked of the parent) */
	CTL_CHAIN_NEED_KEYS,	/* resolve "zone DNSKEY" (asked of the zone) */
	CTL_CHAIN_BOGUS,	/* the zone is bogus for now (*ede: why): no query */
	CTL_CHAIN_NEED_CUT,	/* resolve "zone DS" to learn whether zone is an
				   unsigned delegation (a reply's unsigned data
				   lies below the zone asked) */
};

/* Why a "zone DS" sub-question was asked (ctl_chain_ds_done()). */
enum ctl_chain_ds_why {
	CTL_DS_CUT = 0,		/* a known cut (a validated referral, an anchor) */
	CTL_DS_SIGNER,		/* zone signed a reply without a referral to it:
				   it must have a DS set */
	CTL_DS_PROBE,		/* CTL_CHAIN_NEED_CUT: is zone a cut at all? */
	CTL_DS_CONFIGURED,	/* a stub or forward zone: a cut by configuration,
				   a delegation only if the parent proves one */
};

/* now: the iterator's clock (ctl_iter_now()). */
int ctl_chain_need(struct ctl_chain *c, const uint8_t *zone, uint32_t now, uint16_t *ede);

/* The result of one step: the status, why, and how long the data may be
 * kept at most (signatures' expiry). */
struct ctl_chain_step {
	uint8_t sec;		/* enum ctl_sec */
	uint16_t ede;
	const char *why;
	uint32_t ttl_cap;	/* UINT32_MAX: no cap */
	bool retry;		/* bogus by the reply itself: another server
				   may send a good one (not so when the
				   zone's status is bogus) */
	/* The reply is signed by a zone below the one asked (a server of
	 * parent and child answered for the child without a referral):
	 * resolve this (CTL_CHAIN_NEED_DS or _KEYS) for signer, then ask
	 * again. 0: nothing needed. */
	uint8_t need;
	uint8_t signer[DNS_NAME_MAX];
};

/*
 * Validates the scrubbed reply m (kind, enum ctl_scrub_kind) that zone's
 * servers gave to a question of sent_type (the names come from s: its
 * final name is what a proof denies), charging b. A referral also
 * records the child's status in the key table. key_fetch: the zone whose
 * DNSKEY set the question is fetching (its DNSKEY RRset is validated by
 * ctl_chain_keys_done() instead), or NULL.
 */
void ctl_chain_reply(struct ctl_chain *c, struct ctl_val_budget *b,
		     const struct dns_msg *m, const struct ctl_scrub *s, int kind,
		     const uint8_t *zone, uint16_t sent_type,
		     const uint8_t *key_fetch, uint32_t now, struct ctl_chain_step *out);

/*
 * The end of a "zone DNSKEY" sub-question: msg (len octets, the answer as
 * assembled, RRSIGs included; NULL when it failed) is validated against
 * the zone's DS set or anchor, and the key table records the outcome
 * (SECURE with the keys, INSECURE, BOGUS for CTL_CHAIN_BOGUS_TTL_S).
 */
void ctl_chain_keys_done(struct ctl_chain *c, struct ctl_val_budget *b,
			 const uint8_t *zone, const uint8_t *msg, size_t len,
			 uint32_t now, struct ctl_chain_step *out);

/*
 * The end of a "zone DS" sub-question: msg as above, sec the status its
 * resolution reached (the DS set or its absence validated on the way).
 * why (enum ctl_chain_ds_why): for CTL_DS_SIGNER no DS proves nothing;
 * for CTL_DS_PROBE no DS makes zone insecure only when the parent's proof
 * shows a delegation there (NS, no DS), else it records "no cut here";
 * CTL_DS_CONFIGURED is the same, but an insecure answer (the parent
 * unsigned) makes it insecure as for a known cut.
 * Failures record nothing.
 */
void ctl_chain_ds_done(struct ctl_chain *c, const uint8_t *zone, const uint8_t *msg,
		       size_t len, int rcode, uint8_t sec, uint16_t ede, int why,
		       uint32_t now);

/*
 * After ctl_chain_reply() found the reply secure: its NSEC/NSEC3 records
 * that validated (signed by the zone of its proof: a negative answer's
 * SOA signer, else the zone asked), each with the RRSIG that verified it,
 * and the zone's SOA when the reply had it, written into out (cap octets)
 * as the denial feed cache_nsec_feed() takes (cache/nsec.h), each TTL the
 * validated one. *next (0 at first) is where the next feed starts: call
 * again while it returns a length, so that what does not fit in one feed
 * goes in the next (each with the SOA); an RRset too large alone is left
 * out. Returns the length, or 0: the reply was not secure, nothing (more)
 * to feed, or not even the SOA fits in cap. Call it right after
 * ctl_chain_reply(): it reads that reply's groups.
 */
size_t ctl_chain_feed(const struct ctl_chain *c, uint8_t *out, size_t cap, unsigned *next);

void ctl_chain_get_stats(const struct ctl_chain *c, struct ctl_chain_stats *st);

/* An operator's flush: what the key table knows of zone (below: and of
 * every zone below it; NULL: of every zone) is forgotten: keys, DS sets,
 * insecure proofs, bogus marks are learnt again. How many entries went. */
unsigned ctl_chain_flush(struct ctl_chain *c, const uint8_t *zone, bool below);

#endif
