/*
 * control/trust.h: what the iterator has learnt of each zone's DNSSEC
 * status (the key table): a zone is known by a secure DS set (its keys not
 * fetched yet), by a validated DNSKEY set, as provably insecure, or as
 * bogus for a short while (RFC 9520: a bogus zone is not validated again
 * for every question). Control process, the iterator's thread. No entry
 * outlives its TTL, which the iterator bounds by the data it came from
 * (DS and DNSKEY TTLs capped at their signatures' expiry).
 */
#ifndef BW_CONTROL_TRUST_H
#define BW_CONTROL_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include "control/val.h"
#include "dns/wire.h"

enum ctl_trust_state {
	CTL_TRUST_DS = 1,	/* a secure DS set (or an anchor): keys to fetch */
	CTL_TRUST_SECURE,	/* the validated DNSKEY set */
	CTL_TRUST_INSECURE,	/* provably unsigned (or algorithms we lack) */
	CTL_TRUST_BOGUS,	/* the chain is broken here */
	CTL_TRUST_NOCUT,	/* no zone cut here: the parent's secure
				   NSEC/NSEC3 at the name has no NS */
};

struct ctl_trust_entry {
	uint8_t zone[DNS_NAME_MAX];	/* lower-cased */
	uint8_t state;			/* enum ctl_trust_state */
	uint16_t ede;			/* BOGUS, INSECURE: why */
	uint32_t expire;		/* ctl_iter_now() clock */
	/* DS: the DS set and any anchor keys; SECURE: keys is the DNSKEY
	 * set. Views into the entry's own copy. */
	struct ctl_val_rrset ds;
	struct ctl_val_rrset keys;
	struct ctl_trust_entry *next;	/* hash chain */
	struct ctl_val_rdata *rd;
	uint8_t *data;
};

struct ctl_trust;

/* A table of at most max entries; NULL: no memory. */
struct ctl_trust *ctl_trust_new(unsigned max);
void ctl_trust_free(struct ctl_trust *t);

/* zone's entry if it has not expired, or NULL. The pointer is valid until
 * the next ctl_trust_set() or ctl_trust_flush(). */
const struct ctl_trust_entry *ctl_trust_get(struct ctl_trust *t, const uint8_t *zone,
					    uint32_t now);

/*
 * Sets zone's entry (replacing any), copying ds and keys (either NULL).
 * The entry lives ttl seconds from now (at least 1). When the table is
 * full an expired entry, else the oldest of the bucket, makes room.
 * Returns 0 or CTL_E_NOMEM.
 */
int ctl_trust_set(struct ctl_trust *t, const uint8_t *zone, uint8_t state, uint16_t ede,
		  uint32_t ttl, uint32_t now, const struct ctl_val_rrset *ds,
		  const struct ctl_val_rrset *keys);

/* Entries held. */
unsigned ctl_trust_count(const struct ctl_trust *t);

/* An operator's flush: zone's entry (below: and every one below it; zone
 * NULL: every entry) is dropped, but those keep (NULL: none) says to keep.
 * How many went. */
unsigned ctl_trust_flush(struct ctl_trust *t, const uint8_t *zone, bool below,
			 bool (*keep)(void *arg, const uint8_t *zone), void *arg);

#endif
