/*
 * control/val.h: DNSSEC validation (RFC 4033-4035, 5155 NSEC3, 6840
 * clarifications, 8624 algorithm policy), the pieces the iterator puts
 * together into a chain of trust: key tags, DS digests, signatures over
 * RRsets in canonical form, DNSKEY sets proven by DS or a trust anchor, and
 * the NSEC/NSEC3 proofs of denial. Control process, any thread that owns
 * its arguments; no I/O. Cryptography is OpenSSL's libcrypto (EVP).
 *
 * The rules, and the attacks they answer:
 * - Algorithms: RSASHA256 (8), RSASHA512 (10), ECDSAP256SHA256 (13),
 *   ECDSAP384SHA384 (14), ED25519 (15), ED448 (16) validate; RSASHA1 (5)
 *   and RSASHA1-NSEC3-SHA1 (7) validate unless the limits switch them off
 *   (default on, as unbound 1.17 does). A DS set with no algorithm and
 *   digest we can check makes the zone insecure, never bogus (RFC 4035
 *   5.2, RFC 6840 5.2); SHA-1 DS records are ignored where a SHA-256 or
 *   SHA-384 one exists (RFC 4509 3).
 * - KeyTrap and NSEC3 exhaustion (CVE-2023-50387, CVE-2023-50868): every
 *   signature check, every failed key/signature pair and every NSEC3 name
 *   hash is charged to a budget that the caller keeps per client question;
 *   when one runs out the work stops and the result is bogus (for NSEC3
 *   iterations above the limit: insecure, EDE 27, RFC 9276 3.2), so a zone
 *   with a thousand keys of one tag and a thousand signatures costs at most
 *   the budget, not their product.
 * - Signatures count only inside their validity window (inception and
 *   expiration in RFC 1982 serial arithmetic, widened by the skew), from a
 *   signer that is the zone asked and at or above the owner, with a label
 *   count no larger than the owner's; the RRset's TTL is capped at the
 *   original TTL and at the expiration (RFC 4035 5.3.3).
 * - A key signs only with the zone key bit set and without REVOKE; a
 *   DNSKEY set is secure only through a key that a DS (or the anchor)
 *   names and that signed the set itself.
 */
#ifndef BW_CONTROL_VAL_H
#define BW_CONTROL_VAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Security status of data (RFC 4033 5). */
enum ctl_sec {
	CTL_SEC_INDETERMINATE = 0, /* not validated (no anchor, or CD) */
	CTL_SEC_INSECURE,	   /* provably unsigned, or an algorithm we lack */
	CTL_SEC_SECURE,
	CTL_SEC_BOGUS,
};

/* Extended DNS Error codes (RFC 8914 4) the validator gives. */
enum ctl_ede {
	CTL_EDE_OTHER = 0,
	CTL_EDE_UNSUPPORTED_ALG = 1,
	CTL_EDE_UNSUPPORTED_DIGEST = 2,
	CTL_EDE_BOGUS = 6,
	CTL_EDE_SIG_EXPIRED = 7,
	CTL_EDE_SIG_NOT_YET = 8,
	CTL_EDE_DNSKEY_MISSING = 9,
	CTL_EDE_RRSIGS_MISSING = 10,
	CTL_EDE_NO_ZONE_KEY = 11,
	CTL_EDE_NSEC_MISSING = 12,
	CTL_EDE_NSEC3_ITERATIONS = 27,
	CTL_EDE_NONE = 0xffff,
};

/* DNSSEC algorithm numbers (IANA) and DNSKEY flag bits. */
enum ctl_alg {
	CTL_ALG_RSASHA1 = 5,
	CTL_ALG_RSASHA1_NSEC3 = 7,
	CTL_ALG_RSASHA256 = 8,
	CTL_ALG_RSASHA512 = 10,
	CTL_ALG_ECDSAP256 = 13,
	CTL_ALG_ECDSAP384 = 14,
	CTL_ALG_ED25519 = 15,
	CTL_ALG_ED448 = 16,
};
#define CTL_DNSKEY_ZONE 0x0100	  /* flags: zone key (RFC 4034 2.1.1) */
#define CTL_DNSKEY_REVOKE 0x0080  /* RFC 5011 7 */
#define CTL_DNSKEY_SEP 0x0001
#define CTL_DNSKEY_PROTOCOL 3

/* Defaults (resolver.dnssec in the configuration). */
#define CTL_VAL_SKEW_S 3600		 /* signature windows widened by 1 h */
#define CTL_VAL_MAX_VERIFY 32		 /* signature checks per question */
#define CTL_VAL_MAX_FAILURES 8		 /* failed key/signature pairs */
#define CTL_VAL_MAX_NSEC3_HASHES 64	 /* NSEC3 names hashed per question */
#define CTL_VAL_NSEC3_MAX_ITERATIONS 100 /* RFC 9276: more is insecure */
#define CTL_VAL_RRSET_MAX 128		 /* records in one validated RRset */

struct ctl_val_limits {
	uint32_t skew_s;
	uint32_t max_verify;
	uint32_t max_failures;
	uint32_t max_nsec3_hashes;
	uint16_t nsec3_max_iterations;
	bool rsasha1;			/* algorithms 5 and 7 validate */
};

void ctl_val_limits_default(struct ctl_val_limits *l);

/*
 * What validation spent, per client question (the caller keeps one and
 * passes it to every call made for that question, sub-questions for keys
 * included). *_hit is set when that limit stopped the work.
 */
struct ctl_val_budget {
	const struct ctl_val_limits *lim;
	uint32_t verify;	/* signature checks (made, or from the memo) */
	uint32_t failures;	/* of which failed */
	uint32_t memo;		/* of which answered from the memo (val_sig.c) */
	uint32_t nsec3_hashes;	/* NSEC3 names hashed */
	bool verify_hit, failures_hit, nsec3_hit;
};

static inline void ctl_val_budget_init(struct ctl_val_budget *b,
				       const struct ctl_val_limits *lim)
{
	*b = (struct ctl_val_budget){ .lim = lim };
}

/*
 * One RRset as the validator sees it: the owner in wire form (any case),
 * type, class, TTL, and each record's RDATA unpacked (no compression
 * pointers, dns_rdata_unpack()). sig lists the RRSIG RDATA found with it
 * (any covered type: those for other types are skipped). Caller-owned.
 */
struct ctl_val_rdata {
	const uint8_t *p;
	uint16_t len;
};

struct ctl_val_rrset {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t n;
	uint16_t nsig;
	const struct ctl_val_rdata *rr;
	const struct ctl_val_rdata *sig;
};

/* The outcome of one validation step. */
struct ctl_val_result {
	uint8_t sec;		/* enum ctl_sec */
	uint16_t ede;		/* enum ctl_ede; CTL_EDE_NONE when secure */
	uint32_t ttl;		/* secure: the TTL the data may be kept */
	uint8_t wildcard_labels; /* secure through a wildcard: the RRSIG's
				    label count (< the owner's), else 0 */
	uint16_t sig_used;	/* ctl_val_rrset() secure: the RRSIG (index
				   into set->sig) that verified */
	const char *why;	/* static text for the debug log */
};

/* RRSIG RDATA fields (RFC 4034 3.1). */
struct ctl_rrsig {
	uint16_t covered;
	uint8_t alg;
	uint8_t labels;
	uint32_t orig_ttl;
	uint32_t expiration;
	uint32_t inception;
	uint16_t key_tag;
	uint8_t signer_len;
	const uint8_t *signer;	/* into the RDATA */
	const uint8_t *sig;
	uint16_t sig_len;
};

/* Reads an RRSIG's RDATA; false when it is malformed. */
bool ctl_rrsig_read(struct ctl_rrsig *s, const uint8_t *rdata, size_t len);

/* The key tag of a DNSKEY's RDATA (RFC 4034 Appendix B). */
uint16_t ctl_val_key_tag(const uint8_t *rdata, size_t len);

/* Whether the algorithm validates under these limits. */
bool ctl_val_alg_supported(const struct ctl_val_limits *l, uint8_t alg);

/* Whether the DS digest type is one we compute (SHA-1, SHA-256, SHA-384). */
bool ctl_val_digest_supported(uint8_t digest_type);

/*
 * Whether DS RDATA ds names the DNSKEY RDATA key of owner: key tag,
 * algorithm and the digest over owner (lower-cased) and key. 1 yes, 0 no,
 * -1 digest type not supported.
 */
int ctl_val_ds_match(const uint8_t *owner, const uint8_t *ds, size_t ds_len,
		     const uint8_t *key, size_t key_len);

/*
 * Checks one signature: rrsig over set (in canonical form) with the DNSKEY
 * RDATA key, at time now (seconds since the epoch, as 32-bit serial). Only
 * the cryptography and the RRset's canonical form; the caller has checked
 * the window, the signer and the tags (ctl_val_rrset() does all of it).
 * 1 valid, 0 not, -1 algorithm not supported or key unusable. The outcome
 * comes from the thread's memo when the same check (algorithm, key,
 * signature, signed data: see val_sig.c) was made on this thread before.
 */
int ctl_val_verify_one(const struct ctl_val_rrset *set,
		       const struct ctl_rrsig *rrsig, const uint8_t *rrsig_rdata,
		       size_t rrsig_len, const uint8_t *key, size_t key_len);

/* ctl_val_memo_enable(false): no memo for the calling thread (bench_val's
 * figure of the public-key operation); turned on again, it starts empty.
 * ctl_val_memo_hits(): the calling thread's checks answered from its
 * memo. */
void ctl_val_memo_enable(bool on);
uint64_t ctl_val_memo_hits(void);
/* What the calling thread kept (its public keys, the memo's digest
 * context) freed: at the end of a thread that validated (control/pool.c's
 * threads), whose thread-local pointers would go with it. It may validate
 * again after (all made again). */
void ctl_val_thread_end(void);

/*
 * Validates set against the zone's DNSKEY set keys (already secure), the
 * signer having to be zone. Tries the RRSIGs in order with every key of
 * their tag and algorithm until one verifies, charging b. Fills *res:
 * SECURE (ttl capped), or BOGUS with the reason (EDE 10 no signature, 9 no
 * key of that tag, 7/8 outside the window, 6 bad signature or a budget
 * spent).
 */
void ctl_val_rrset(struct ctl_val_budget *b, const struct ctl_val_rrset *set,
		   const uint8_t *zone, const struct ctl_val_rrset *keys,
		   uint32_t now, struct ctl_val_result *res);

/*
 * Validates the DNSKEY set keys of its owner against the DS set ds (from
 * the secure parent, or a trust anchor) and/or the trusted DNSKEY RDATA in
 * anchor_keys (a trust anchor given as keys; either may be empty). SECURE
 * when a key named by a usable DS (or equal to an anchor key) signed the
 * set; INSECURE when no DS has an algorithm and digest we support (EDE 1 or
 * 2); BOGUS otherwise (EDE 9 when no key matches, else the signature's).
 */
void ctl_val_keyset(struct ctl_val_budget *b, const struct ctl_val_rrset *keys,
		    const struct ctl_val_rrset *ds,
		    const struct ctl_val_rrset *anchor_keys, uint32_t now,
		    struct ctl_val_result *res);

/*
 * Denial of existence (RFC 4035 5.4, RFC 5155 8, RFC 6840 4). Each proof
 * takes the NSEC or NSEC3 records of a response, each of whose RRsets the
 * caller has already validated as secure (owner and unpacked RDATA), and
 * the zone they were signed for.
 */
struct ctl_val_denial {
	const uint8_t *owner;
	const uint8_t *rdata;
	uint16_t len;
};

/* What a denial proof is asked to show. */
enum ctl_val_deny {
	CTL_DENY_NXDOMAIN = 1,	/* qname does not exist (nor a wildcard) */
	CTL_DENY_NODATA,	/* qname exists without qtype (or its
				   wildcard does) */
	CTL_DENY_WILDCARD,	/* an answer expanded from a wildcard: the
				   next closer name does not exist */
	CTL_DENY_DS,		/* a referral without DS: no DS at qname
				   (NSEC3 opt-out proves it insecure) */
};

/*
 * Checks a proof. qname: the name denied (lower case not required); qtype
 * for NODATA and DS; wildcard_labels: for WILDCARD, the RRSIG label count
 * of the expanded answer. res: SECURE (proven; for DS: the delegation is
 * provably unsigned), INSECURE (NSEC3 opt-out covers it, or iterations
 * above the limit: EDE 27), BOGUS (not proven: EDE 12).
 */
void ctl_val_deny(struct ctl_val_budget *b, enum ctl_val_deny what,
		  const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
		  uint8_t wildcard_labels, const struct ctl_val_denial *nsec,
		  unsigned n_nsec, const struct ctl_val_denial *nsec3,
		  unsigned n_nsec3, struct ctl_val_result *res);

/* NSEC type bitmap membership (RFC 4034 4.1.2). */
bool ctl_val_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type);

/*
 * The NSEC3 hash of name (RFC 5155 5): SHA-1, iterations extra rounds,
 * salt. out gets 20 octets. Charges one hash to b (NULL: free). false when
 * the budget is spent.
 */
bool ctl_val_nsec3_hash(struct ctl_val_budget *b, const uint8_t *name,
			const uint8_t *salt, size_t salt_len,
			uint16_t iterations, uint8_t out[20]);

/* base32hex (RFC 4648 7) without padding, case-insensitive: the NSEC3
 * owner's first label. Returns octets written or -1. */
int ctl_val_b32hex_decode(const uint8_t *in, size_t len, uint8_t *out,
			  size_t outsize);

/* Why a zone is bogus or insecure, from its EDE code: static text for
 * the reason a client and the log get ("the zone's signatures expired"). */
const char *ctl_ede_why(uint16_t ede);

/* Static text of a status ("secure", "bogus", ...). */
const char *ctl_sec_str(int sec);

#endif
