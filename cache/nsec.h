/*
 * cache/nsec.h: NSEC and NSEC3 range trees for aggressive negative caching
 * (RFC 8198). Per signed zone (keyed by its apex, the signer name of the
 * ranges' RRSIGs) the cache keeps the DNSSEC-validated NSEC ranges in RFC
 * 4034 canonical order, the NSEC3 ranges in hash order under the zone's one
 * set of NSEC3 parameters, and the zone's SOA RRset; a worker that misses the
 * message cache asks whether those prove NXDOMAIN or NODATA for its question
 * and, if so, copies the blobs it is given into a synthesized answer.
 *
 * Threads: any number of readers (dataplane workers: registered liburcu QSBR
 * threads that announce a quiescent state between bursts) call
 * cache_nsec_lookup() and cache_nsec_bytes(); a lookup takes no lock, makes
 * no syscall, allocates nothing and writes no shared memory. Exactly one
 * writer thread (the dataplane's cache writer, a registered QSBR thread that
 * also announces quiescent states, since grace periods wait for it) calls
 * everything else. cache_nsec3_hash() is callable from any thread.
 *
 * Invariants: everything a reader can reach (zone table, zone states, tree
 * nodes, ranges, SOA blobs) is immutable once published; the writer changes a
 * zone by building a new state beside the old one (path copying in the
 * trees: O(log n) new nodes per insert) and publishing it with one pointer
 * store, and frees what the new state no longer uses with call_rcu. Pointers
 * a reader gets stay valid until its next quiescent state. Trees are AVL,
 * so a lookup's walk is bounded by 1.44 log2(ranges); NSEC3 lookups are also
 * bounded by the per-query hash budget. Time is the caller's coarse clock in
 * seconds; a range or SOA with now >= expire_at proves nothing.
 *
 * Not done here: validation (only validated records may be inserted),
 * choosing TTLs for the synthesized answer (each blob's expire_at is given),
 * and budgeting: the caller reads cache_nsec_bytes() and drops zones.
 */
#ifndef BW_CACHE_NSEC_H
#define BW_CACHE_NSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/err.h"
#include "dns/wire.h"

/* RFC 9276 3.2: more NSEC3 iterations than this make a zone's NSEC3 ranges
 * refused (the validator treats such answers as insecure anyway). */
#define CACHE_NSEC3_ITER_MAX_DEFAULT 100
/* Name hashes one NSEC3 lookup may compute (each costs iterations + 1
 * SHA-1 runs): ancestors of qname tried plus the wildcard. A query that
 * needs more gets no answer; 16 covers a closest encloser 14 labels up. */
#define CACHE_NSEC3_HASH_BUDGET_DEFAULT 16
#define CACHE_NSEC_ZONES_MAX_DEFAULT 65536
#define CACHE_NSEC3_HASH_LEN 20		/* SHA-1, the only algorithm defined */
#define CACHE_NSEC_PROOF_RR_MAX 3	/* ranges in one proof (NSEC3 NXDOMAIN) */
#define CACHE_NSEC_BLOB_MAX 65535	/* octets in one caller blob */


struct cache_nsec_config {
	uint16_t nsec3_max_iterations;	/* CACHE_NSEC3_ITER_MAX_DEFAULT */
	uint8_t nsec3_hash_budget;	/* CACHE_NSEC3_HASH_BUDGET_DEFAULT, >= 2 */
	uint32_t max_zones;		/* CACHE_NSEC_ZONES_MAX_DEFAULT */
};

void cache_nsec_config_default(struct cache_nsec_config *cfg);

enum cache_nsec_verdict {
	CACHE_NSEC_NONE = 0,	 /* nothing proven: ask upstream */
	CACHE_NSEC_NODATA = 1,	 /* the name exists, the type does not */
	CACHE_NSEC_NXDOMAIN = 2, /* the name does not exist */
};

/* Why a lookup proved nothing (for the worker's counters). */
enum cache_nsec_why {
	CACHE_NSEC_WHY_PROVEN = 0,
	CACHE_NSEC_WHY_NO_ZONE,	    /* no signed zone above qname */
	CACHE_NSEC_WHY_NO_SOA,	    /* the zone's SOA is missing or expired */
	CACHE_NSEC_WHY_NO_RANGE,    /* no unexpired range matches or covers */
	CACHE_NSEC_WHY_TYPE_EXISTS, /* the bitmap has qtype or CNAME */
	CACHE_NSEC_WHY_DELEGATION,  /* NS without SOA, or DNAME, in the way */
	CACHE_NSEC_WHY_NO_WILDCARD, /* no denial of the wildcard */
	CACHE_NSEC_WHY_OPT_OUT,	    /* an opt-out NSEC3 would be needed */
	CACHE_NSEC_WHY_BUDGET,	    /* NSEC3 hash budget spent */
	CACHE_NSEC_WHY_QTYPE,	    /* meta or question-only qtype */
};

/* One caller blob: the NSEC(3) or SOA RRset and its RRSIGs in wire form. */
struct cache_nsec_blob {
	const uint8_t *data;
	uint16_t len;
	uint32_t expire_at;
};

/*
 * A lookup's result. Pointers stay valid until the reader's next quiescent
 * state. rr[] holds the distinct ranges used, in the order an answer lists
 * them: NSEC: the one matching qname (NODATA), or the one covering qname
 * then the one denying (or matching) the wildcard; NSEC3: the one matching
 * qname, or the closest encloser's, the next closer name's cover, and the
 * wildcard's cover (or match). expire_at is the earliest of rr[] and soa.
 */
struct cache_nsec_proof {
	struct cache_nsec_blob rr[CACHE_NSEC_PROOF_RR_MAX];
	struct cache_nsec_blob soa;
	const uint8_t *zone;	/* the apex, lower-cased wire */
	uint32_t expire_at;
	uint8_t nrr;
	uint8_t why;		/* enum cache_nsec_why */
	uint8_t hashes;		/* NSEC3 name hashes computed */
	bool nsec3;		/* proven from NSEC3 ranges */
	bool wildcard;		/* NODATA of the wildcard that qname matches */
};

struct cache_nsec_stats {
	uint64_t zones;
	uint64_t nsec_ranges;
	uint64_t nsec3_ranges;
	uint64_t bytes;
	uint64_t max_height;	/* deepest tree: at most 1.44 log2(ranges + 2) */
};

struct cache_nsec;

/* Writer: create (NULL cfg: the defaults; a hash secret from getrandom) or
 * NULL when out of memory. */
struct cache_nsec *cache_nsec_new(const struct cache_nsec_config *cfg);

/* Writer, once no reader can reach n any more: waits for pending call_rcu
 * frees (rcu_barrier) and frees everything. NULL is accepted. */
void cache_nsec_free(struct cache_nsec *n);

/*
 * Writer: adds the validated NSEC record owner/rdata (rdlen octets of NSEC
 * RDATA: next name, type bitmap; no compression) of the zone whose apex is
 * zone, replacing the range with the same owner if any. blob (blob_len
 * octets, 1..CACHE_NSEC_BLOB_MAX) is copied. zone and owner are wire names in
 * the caller's buffers (read up to DNS_NAME_MAX octets); nothing is kept.
 * The zone is created when new. Checks: names well formed (dns/ errors),
 * RDATA well formed (DNS_E_BITMAP, ...), owner and next at or below zone,
 * next after owner in canonical order unless it is the apex (the last NSEC
 * wraps to the apex; else CACHE_E_NSEC_ZONE). 0 or an error; on error
 * no range changed (a zone created for the insert may stay, empty, until
 * cache_nsec_drop_expired()).
 */
int cache_nsec_insert(struct cache_nsec *n, const uint8_t *zone,
		      const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		      uint32_t expire_at, const uint8_t *blob, size_t blob_len);

/*
 * Writer: the same for an NSEC3 record (owner: base32hex hash label + zone;
 * rdata: NSEC3 RDATA). The algorithm must be SHA-1 (CACHE_E_NSEC_ALG), the
 * flags 0 or opt-out (CACHE_E_NSEC_FLAGS), the iterations at most
 * nsec3_max_iterations (CACHE_E_NSEC_ITER). A zone has one parameter set
 * (iterations, salt): a range with other parameters replaces the zone's
 * NSEC3 ranges by itself, so after a re-salt the new chain takes over.
 * Opt-out ranges are kept, but never used to deny a name.
 */
int cache_nsec3_insert(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *owner, const uint8_t *rdata,
		       size_t rdlen, uint32_t expire_at, const uint8_t *blob,
		       size_t blob_len);

/* Writer: sets (replaces) the zone's SOA blob, copied; creates the zone
 * when new. A proof needs an unexpired SOA. 0 or an error. */
int cache_nsec_set_soa(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *blob, size_t blob_len,
		       uint32_t expire_at);

/*
 * Reader (worker hot path): may the cache answer (qname, qtype) negatively
 * at time now? qname is a valid wire name in any case. The zone is the
 * longest cached apex at or above qname (strictly above for DS, whose
 * records live in the parent). Fills *out and returns its verdict
 * (enum cache_nsec_verdict); out->why says why nothing was proven. Cost:
 * one zone-table probe per label of qname, then for NSEC two tree descents
 * (qname, wildcard) of O(log n) name comparisons, and for NSEC3 at most
 * nsec3_hash_budget name hashes ((iterations + 1) SHA-1 runs each) with a
 * descent each. Measured on the 2-core dev VM (gcc -O2, glibc malloc): an
 * NSEC NXDOMAIN proof in a 100 K-range zone 2.0 us (cache misses: one line
 * per tree level); one NSEC3 hash 0.2 us at 0 iterations, 1.1 us at 12.
 * Not yet kept true by bench/.
 */
int cache_nsec_lookup(const struct cache_nsec *n, const uint8_t *qname,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out);

/* Writer: drops every range and SOA with now >= expire_at, and the zones
 * left empty; O(all ranges). The number of ranges dropped, or
 * CACHE_E_NSEC_NOMEM when a tree could not be rebuilt (the others were). */
int cache_nsec_drop_expired(struct cache_nsec *n, uint32_t now);

/* Writer: drops the zone with apex zone and all it holds.
 * 0, CACHE_E_NSEC_NOZONE or CACHE_E_NSEC_NOMEM. */
int cache_nsec_drop_zone(struct cache_nsec *n, const uint8_t *zone);

/* Any thread: octets allocated, including what waits for a grace period. */
size_t cache_nsec_bytes(const struct cache_nsec *n);

/* Writer (or a registered reader): counts. */
void cache_nsec_get_stats(const struct cache_nsec *n,
			  struct cache_nsec_stats *st);

/*
 * Any thread: the RFC 5155 5 hash of name (any case; hashed lower-cased)
 * with salt and iterations, SHA-1 into out. No allocation, no lock.
 */
void cache_nsec3_hash(const uint8_t *name, const uint8_t *salt,
		      size_t salt_len, uint16_t iterations,
		      uint8_t out[CACHE_NSEC3_HASH_LEN]);

#endif
