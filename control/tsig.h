/*
 * control/tsig.h: TSIG (RFC 8945), the shared-secret signatures on zone
 * transfers, SOA queries and NOTIFYs between bailiwick and a policy zone's
 * primary. HMAC with SHA-256 (the one RFC 8945 6 asks for), SHA-1,
 * SHA-224, SHA-384 or SHA-512, computed by libcrypto. Any thread; a key is
 * read-only once made, a verification state belongs to one transfer.
 *
 * Decided: MACs must have their full length (RFC 8945 5.2.2.1 lets a
 * sender truncate them; no primary we know does, and a short MAC is a
 * weaker one), the time signed must be within the fudge of our clock
 * (300 s, as everyone signs), and in a multi-message answer at most 99
 * messages in a row may come unsigned, the last one never (RFC 8945 5.3.1).
 */
#ifndef BW_CONTROL_TSIG_H
#define BW_CONTROL_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

struct cfg_tsig;

#define CTL_TSIG_MAC_MAX 64	/* SHA-512 */
#define CTL_TSIG_FUDGE_S 300
#define CTL_TSIG_UNSIGNED_MAX 99
/* the most a TSIG record adds to a message: owner and algorithm names,
 * fixed fields, MAC */
#define CTL_TSIG_SPACE (2 * DNS_NAME_MAX + 10 + 16 + CTL_TSIG_MAC_MAX + 6)

/* TSIG's own errors (RFC 8945 3, in the record's error field). */
#define CTL_TSIG_BADSIG 16
#define CTL_TSIG_BADKEY 17
#define CTL_TSIG_BADTIME 18
#define CTL_TSIG_BADTRUNC 22

struct ctl_tsig_key {
	uint8_t name[DNS_NAME_MAX];	/* lower-cased wire */
	size_t name_len;
	uint8_t alg[32];		/* the algorithm's name, wire */
	size_t alg_len;
	const char *digest;		/* libcrypto's name for the hash */
	size_t mac_len;
	uint8_t secret[128];
	size_t secret_len;
};

/* The key of the configuration: 0, or CTL_E_NAME (its name is no domain
 * name; conf checked it). */
int ctl_tsig_key_init(struct ctl_tsig_key *k, const struct cfg_tsig *c);

/*
 * Signs the message msg[0..len) in place (cap octets of room): a TSIG
 * record added to the additional section (ARCOUNT + 1) with the time now
 * (unix seconds) and error (0, or a TSIG error for a signed error answer).
 * prior/prior_len: the request's MAC when msg answers a signed request,
 * else NULL. The MAC is written to mac (CTL_TSIG_MAC_MAX octets) when mac is
 * not NULL. Returns the new length, or CTL_E_FULL (no room), CTL_E_SYSTEM
 * (libcrypto failed).
 */
int ctl_tsig_sign(const struct ctl_tsig_key *k, uint8_t *msg, size_t len, size_t cap,
		  const uint8_t *prior, size_t prior_len, uint64_t now, uint16_t error,
		  uint8_t *mac);

/* Where a message's TSIG record is (the last record, the only TSIG one). */
struct ctl_tsig_rr {
	size_t off;		/* the record's owner */
	uint8_t name[DNS_NAME_MAX];	/* the key name, lower-cased */
	size_t name_len;
	uint8_t alg[DNS_NAME_MAX];	/* lower-cased */
	size_t alg_len;
	uint64_t time;
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

/* Finds the TSIG record of msg (len octets, parsed by dns_msg_parse()
 * already): 1 and *t filled, 0 when there is none, CTL_E_TSIG when a TSIG
 * record is anywhere but last in the additional section, is not of class
 * ANY and TTL 0, or its RDATA does not hold together. */
int ctl_tsig_find(const uint8_t *msg, size_t len, struct ctl_tsig_rr *t);

/* What a request's TSIG record said, for the answer. */
struct ctl_tsig_request {
	bool signed_;			/* it had a TSIG record (well formed) */
	bool formerr;			/* answer FORMERR: a malformed TSIG record, a
					   MAC of a size RFC 8945 5.2.2.1 refuses */
	uint16_t error;			/* 0, or the TSIG error to answer with */
	uint8_t name[DNS_NAME_MAX];	/* its key's name, lower-cased wire */
	size_t name_len;
	uint8_t alg[DNS_NAME_MAX];	/* its algorithm, lower-cased wire */
	size_t alg_len;
	uint64_t time;			/* its time signed */
	uint8_t mac[CTL_TSIG_MAC_MAX];	/* its MAC, when it verified */
	size_t mac_len;
};

/*
 * Checks a request (a NOTIFY) from a peer that shares key k (NULL: we
 * share none, and the request must be unsigned), in RFC 8945 5.2's order
 * (key, MAC, time, truncation): 0 with req's MAC set for the answer's
 * signature (an unsigned request without k: 0 too); CTL_E_TSIG with why
 * set and req->error the TSIG error to answer with (BADKEY: another key or
 * algorithm, or any where we have none; BADSIG: a wrong MAC; BADTIME:
 * outside the fudge; BADTRUNC: a MAC cut shorter than the hash, which we
 * do not take), or req->formerr (a malformed TSIG record, a MAC longer
 * than the hash or shorter than half of it), or neither (no TSIG record
 * where k wants one, one that carries an error: no TSIG in the answer).
 */
int ctl_tsig_check_request(const struct ctl_tsig_key *k, const uint8_t *msg, size_t len,
			   uint64_t now, struct ctl_tsig_request *req, char *why, size_t whylen);

/*
 * The TSIG record of an error answer (msg[0..len), cap octets of room; the
 * caller set NOTAUTH) to a request that failed with req->error (RFC 8945
 * 5.3.2): BADTIME signed with k and the request's MAC, with the request's
 * time signed and our clock (now) as other data; BADTRUNC signed with k
 * and the request's MAC; BADKEY and BADSIG unsigned (MAC size 0) with the
 * request's key name, algorithm and time (k may be NULL). The new length,
 * CTL_E_FULL or CTL_E_SYSTEM.
 */
int ctl_tsig_answer_error(const struct ctl_tsig_key *k, const struct ctl_tsig_request *req,
			  uint8_t *msg, size_t len, size_t cap, uint64_t now);

/* The verification of the answers to one signed request, message by
 * message (RFC 8945 5.3.1). */
struct ctl_tsig_verify {
	const struct ctl_tsig_key *k;
	uint16_t id;			/* the request's */
	uint8_t prior[CTL_TSIG_MAC_MAX];	/* the last MAC verified (the request's first) */
	size_t prior_len;
	void *run;			/* the digest over the unsigned messages since */
	unsigned unsigned_run;
	unsigned messages;
	bool ok_last;			/* the last message was signed and verified */
};

/* Starts with the request's MAC (ctl_tsig_sign()'s mac) and id. */
void ctl_tsig_verify_init(struct ctl_tsig_verify *v, const struct ctl_tsig_key *k,
			  uint16_t id, const uint8_t *request_mac);

/*
 * One message of the answer, in order: 0 when it verifies, or may come
 * unsigned (not the first, fewer than CTL_TSIG_UNSIGNED_MAX in a row);
 * CTL_E_TSIG with why set otherwise (an unsigned first message, the
 * primary's TSIG error, BADSIG, BADTIME). After the last message,
 * v->ok_last must be true (the caller checks: an answer may not end
 * unsigned). CTL_E_SYSTEM: libcrypto failed.
 */
int ctl_tsig_verify_msg(struct ctl_tsig_verify *v, const uint8_t *msg, size_t len,
			uint64_t now, char *why, size_t whylen);

void ctl_tsig_verify_fini(struct ctl_tsig_verify *v);

#endif
