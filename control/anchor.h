/*
 * control/anchor.h: the trust anchors (resolver.trust-anchor): a file of DS
 * and/or DNSKEY records in presentation format, as root.key of the lab
 * world or IANA's root anchor in DS form. Read at start by the control
 * process, before anything is validated, and again at every configuration
 * reload (reload.c: applied when the records differ); the file is parsed by
 * Knot DNS's zone scanner (libzscanner), so every presentation form a zone
 * file may use is understood. RFC 5011 rollover is not done: a new anchor
 * is a new file (or new records in it) and a reload.
 */
#ifndef BW_CONTROL_ANCHOR_H
#define BW_CONTROL_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "control/val.h"
#include "dns/wire.h"

#define CTL_ANCHOR_NAMES_MAX 16	 /* owners in one file */
#define CTL_ANCHOR_RR_MAX 16	 /* DS or DNSKEY records per owner */
#define CTL_ANCHOR_RDATA_MAX 1024 /* octets of one record's RDATA */

/* One anchored name: its DS records and DNSKEY records, as RRset views
 * the validator takes (ds.n or keys.n may be 0). */
struct ctl_anchor {
	uint8_t owner[DNS_NAME_MAX];	/* lower-cased */
	struct ctl_val_rrset ds;
	struct ctl_val_rrset keys;
	struct ctl_val_rdata ds_rd[CTL_ANCHOR_RR_MAX];
	struct ctl_val_rdata key_rd[CTL_ANCHOR_RR_MAX];
	uint8_t ds_buf[CTL_ANCHOR_RR_MAX][CTL_ANCHOR_RDATA_MAX];
	uint8_t key_buf[CTL_ANCHOR_RR_MAX][CTL_ANCHOR_RDATA_MAX];
};

struct ctl_anchors {
	unsigned n;
	struct ctl_anchor a[CTL_ANCHOR_NAMES_MAX];
};

/*
 * Reads the anchors from text (len octets; name is the file's name for
 * messages) or from the file at path, into *t (large: heap or static).
 * Returns 0, or CTL_E_ANCHOR with "FILE:LINE: what" in err: a syntax
 * error, a record of another type or class, a DNSKEY that is not a zone
 * key or is revoked, a malformed DS, too many names or records, no record
 * at all. Nothing is half-filled: on error *t is empty.
 */
int ctl_anchors_parse(struct ctl_anchors *t, const char *text, size_t len,
		      const char *name, char *err, size_t errlen);
/* The identity of t's records: a hash of owners and RDATA in the file's
 * order (comments and spacing do not count), never 0. A reload applies
 * anchors whose identity differs from those in force. */
uint64_t ctl_anchors_id(const struct ctl_anchors *t);

int ctl_anchors_load(struct ctl_anchors *t, const char *path, char *err,
		     size_t errlen);

/* The anchor at or closest above name, or NULL. */
const struct ctl_anchor *ctl_anchors_find(const struct ctl_anchors *t,
					  const uint8_t *name);

#endif
