/*
 * control/scrub.h: what of an authority's response may be believed. Every
 * response the iterator accepts from upstream goes through ctl_scrub()
 * before anything of it is cached or followed: it classifies the response
 * (answer, CNAME/DNAME chain leaving the zone, NXDOMAIN, NODATA, referral,
 * lame, failure) and marks the records that may be used, dropping (and
 * counting) everything else. Control process; no I/O, no allocation.
 *
 * The rules (RFC 2181 5.4.1 ranking and 6 zone authority; the bailiwick
 * rule of the project's founding concern):
 * - A server is asked as an authority for one zone (the delegation the
 *   iterator followed). No record whose owner lies outside that zone is
 *   used, in any section.
 * - Answer section: only the chain from the question: DNAMEs above the
 *   current name, a CNAME at it, then the asked type at the final name,
 *   with their RRSIGs. A chain that leaves the zone ends there (the rest is
 *   asked of its own zone). Records off the chain are dropped.
 * - Negative answers keep one SOA, at or above the final name and inside
 *   the zone, and the NSEC/NSEC3 records with their RRSIGs.
 * - A referral is an NS set for one name strictly below the zone and at or
 *   above the final name, with no SOA beside it. It keeps that NS set, the
 *   DS set and denial records for the cut, as glue the A/AAAA records of
 *   the NS names that lie inside the referred zone, and as sibling glue
 *   those of NS names elsewhere inside the zone the server was asked for
 *   (RFC 9471 asks authorities to send them: the root's referral to com.
 *   carries gtld-servers.net's addresses); whether sibling glue is used is
 *   the iterator's decision. NS names outside the zone get no glue at all:
 *   they are resolved on their own. An NS set for the zone itself or above
 *   it without AA is lame.
 * - Additional data outside referrals and NS sets in the authority section
 *   of answers are never used: the child's NS set reaches the cache only as
 *   the answer to an NS question, so it can never extend a delegation.
 * - An RRset of more than max_rrset records fails the whole response (a
 *   cut RRset would not match its signature); records of another class
 *   are dropped.
 * - A chain that ends inside the zone without the end's data, SOA or a
 *   referral is CHAIN_OUT too: the end is asked for by itself.
 */
#ifndef BW_CONTROL_SCRUB_H
#define BW_CONTROL_SCRUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

#define CTL_SCRUB_RECORDS_MAX 1024  /* records considered in one message */
#define CTL_SCRUB_CHAIN_MAX 16	    /* CNAME/DNAME links followed in one */
#define CTL_SCRUB_RRSET_MAX_DEFAULT 100
#define CTL_SCRUB_FENCES_MAX 64	    /* deleg.h's CTL_DELEG_CONF_MAX */

enum ctl_scrub_kind {
	CTL_SCRUB_ANSWER = 1,	/* data of the asked type at the final name */
	CTL_SCRUB_CHAIN_OUT,	/* a CNAME/DNAME chain leaves the zone: restart */
	CTL_SCRUB_NXDOMAIN,	/* the final name does not exist */
	CTL_SCRUB_NODATA,	/* it exists without the asked type */
	CTL_SCRUB_REFERRAL,	/* a delegation to a zone below */
	CTL_SCRUB_LAME,		/* not an answer from an authority for the zone */
	CTL_SCRUB_FAIL,		/* an rcode that answers nothing, or a loop */
};

/* What a kept record is for. */
enum ctl_scrub_role {
	CTL_ROLE_DROP = 0,
	CTL_ROLE_DATA,		/* the asked type at the final name */
	CTL_ROLE_CHAIN,		/* CNAME or DNAME on the way there */
	CTL_ROLE_SOA,		/* the negative answer's SOA */
	CTL_ROLE_DENIAL,	/* NSEC, NSEC3 */
	CTL_ROLE_REF_NS,	/* the referral's NS set */
	CTL_ROLE_REF_DS,	/* the referral's DS set */
	CTL_ROLE_GLUE,		/* A/AAAA of a referral NS name inside the cut */
	CTL_ROLE_SIBLING,	/* ... inside the zone, outside the cut */
	CTL_ROLE_SIG,		/* RRSIG over a kept RRset */
};

/* Why records were dropped. */
#define CTL_SCRUB_DROPS(X)						\
	X(out_of_zone, "owner outside the zone the server was asked for")\
	X(off_chain, "answer record not on the question's chain")	\
	X(authority, "authority record that is not SOA/NS/DS/denial of this answer") \
	X(additional, "additional record that is not glue of this referral") \
	X(wrong_class, "class other than the question's")		\
	X(oversized, "beyond the RRset or message record cap")		\
	X(contradicting, "CNAME that contradicts its DNAME, second CNAME") \
	X(unsigned_sig, "RRSIG over nothing that was kept")

struct ctl_scrub_drops {
#define CTL_SCRUB_DROP_FIELD(name, text) uint32_t name;
	CTL_SCRUB_DROPS(CTL_SCRUB_DROP_FIELD)
#undef CTL_SCRUB_DROP_FIELD
};

struct ctl_scrub_rr {
	uint16_t off;		/* the record's first octet in the message */
	uint16_t type;
	uint8_t section;	/* enum dns_section */
	uint8_t role;		/* enum ctl_scrub_role */
};

/*
 * The result. rr[] lists every record of the message (up to
 * CTL_SCRUB_RECORDS_MAX) in message order with its role; only those with a
 * role other than CTL_ROLE_DROP may be used. Large: give it static or heap
 * storage, one per concurrent caller.
 */
struct ctl_scrub {
	uint8_t kind;			/* enum ctl_scrub_kind */
	bool aa;			/* the server set AA */
	bool loop;			/* the chain came back to a name it had */
	bool oversized;			/* an RRset over the cap: nothing is used */
	uint16_t rcode;
	uint16_t qtype;			/* the question's */
	uint8_t final_name[DNS_NAME_MAX]; /* end of the chain, lower-cased */
	uint8_t cut[DNS_NAME_MAX];	/* REFERRAL: the referred zone, lower-cased */
	uint8_t soa_owner[DNS_NAME_MAX]; /* NXDOMAIN/NODATA with an SOA, lower-cased */
	bool has_soa;
	uint16_t chain_len;		/* CNAME/DNAME links kept */
	uint16_t ref_ns;		/* REFERRAL: NS records kept */
	uint16_t glue;			/* REFERRAL: glue records kept */
	uint16_t sibling;		/* REFERRAL: sibling glue records kept */
	uint16_t nrr;
	uint16_t kept;
	struct ctl_scrub_drops drops;
	struct ctl_scrub_rr rr[CTL_SCRUB_RECORDS_MAX];
	/* Scratch: every record's owner, lower-cased, a hash of it (equal
	 * names hash equal: most comparisons end there), and whether it is
	 * still a candidate; the referral's NS targets, unpacked once. */
	uint8_t owner[CTL_SCRUB_RECORDS_MAX][DNS_NAME_MAX];
	uint32_t ohash[CTL_SCRUB_RECORDS_MAX];
	bool usable[CTL_SCRUB_RECORDS_MAX];
	uint8_t target[CTL_SCRUB_RECORDS_MAX][DNS_NAME_MAX];
	uint32_t thash[CTL_SCRUB_RECORDS_MAX];
	uint16_t nglue[CTL_SCRUB_RECORDS_MAX][2]; /* per target: A, AAAA kept */
	/* ctl_scrub_set_fences()'s: kept across calls */
	const uint8_t *fence[CTL_SCRUB_FENCES_MAX];
	unsigned nfence;
};

/*
 * Names at or below any of zones (lower-cased, each strictly below the
 * zone the next ctl_scrub() calls are for; they must outlive those calls)
 * are outside that zone's bailiwick: configured stub and forward zones
 * below the cut, whose own servers are the ones to ask. A chain that
 * enters one leaves the zone there (CHAIN_OUT); no record, referral or
 * denial for them is kept. n 0: none (the state of a zeroed struct).
 */
void ctl_scrub_set_fences(struct ctl_scrub *s, const uint8_t *const *zones, unsigned n);

/*
 * Scrubs m, the reply to (qname, qtype, qclass) from a server asked as an
 * authority for zone (wire names, any case; the question has been matched
 * already). max_rrset: records kept per RRset (0: the default). Fills *s;
 * returns its kind. Never fails: a message that makes no sense is LAME or
 * FAIL with everything dropped.
 */
int ctl_scrub(struct ctl_scrub *s, const struct dns_msg *m,
	      const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
	      uint16_t qclass, unsigned max_rrset);

/* The kind's name, for logs and tests ("answer", "referral", ...). */
const char *ctl_scrub_kind_str(int kind);

/* Sum of the drop counters. */
uint32_t ctl_scrub_dropped(const struct ctl_scrub *s);

#endif
