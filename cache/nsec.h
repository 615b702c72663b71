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
 * cache_nsec_lookup() and cache_nsec_bytes(), and announce their quiescent
 * states with cache_nsec_reader_quiescent(); a lookup takes no lock, makes
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
 * Chains stay consistent: a range's insert also removes, in the same new
 * state, the ranges it contradicts (an older chain's leftovers whose owner
 * it covers, and the range that covered its own owner), so after any
 * insert no range's owner lies inside another range of its zone.
 *
 * Budget: everything comes from the cache's allocator (cache/mem.h) and is
 * counted by usable size. What is published (zones, trees, ranges, SOAs,
 * the zone table, the store itself: stats live_bytes) never exceeds
 * max_bytes after an insert returns. The margin is memory already removed
 * but not yet freed: old nodes, ranges, states and tables wait one grace
 * period (until every reader has passed a quiescent state) before call_rcu
 * frees them; cache_nsec_bytes() counts them too. An insert that would go
 * over first drops expired content everywhere (when a bound on the
 * earliest expiry says there is some; the sweep walks only the zones that
 * may hold some), then evicts whole zones, least recently inserted into
 * first (the zone being inserted into only when it is the last one), until
 * the insert fits with 1/32 of max_bytes to spare, so that a full store
 * does not rebuild its zone table on every insert.
 *
 * Not done here: validation (only validated records may be inserted) and
 * choosing TTLs for the synthesized answer (each blob's expire_at is given).
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
/* The dataplane gives the NSEC store a share of the configured cache size;
 * this is what a store gets without a configuration. */
#define CACHE_NSEC_BYTES_MAX_DEFAULT ((size_t)64 << 20)
#define CACHE_NSEC3_HASH_LEN 20		/* SHA-1, the only algorithm defined */
#define CACHE_NSEC_PROOF_RR_MAX 3	/* ranges in one proof (NSEC3 NXDOMAIN) */
#define CACHE_NSEC_BLOB_MAX 65535	/* octets in one caller blob */


struct cache_nsec_config {
	uint16_t nsec3_max_iterations;	/* CACHE_NSEC3_ITER_MAX_DEFAULT */
	uint8_t nsec3_hash_budget;	/* CACHE_NSEC3_HASH_BUDGET_DEFAULT, >= 2 */
	uint32_t max_zones;		/* CACHE_NSEC_ZONES_MAX_DEFAULT */
	size_t max_bytes;		/* CACHE_NSEC_BYTES_MAX_DEFAULT (64 MiB) */
	/* false by default (blobs are opaque). true: every blob must pass
	 * cache_nsec_check_records() (inserts refuse any other,
	 * CACHE_E_NSEC_BLOB) and proofs say so (records), so that an answer
	 * copies them without checking them again. */
	bool record_blobs;
};

/*
 * A record blob: resource records in wire form, names whole (no
 * compression), of types SOA, NSEC, NSEC3 and RRSIG, each RDATA well
 * formed; with soa_zone (an SOA blob) exactly one SOA, owned by soa_zone,
 * else (a range's) none. 0 or CACHE_E_NSEC_BLOB. Any thread.
 */
int cache_nsec_check_records(const uint8_t *blob, size_t len, const uint8_t *soa_zone);

/* Where the SOA record of an SOA blob that passed
 * cache_nsec_check_records() with its zone starts, its length and its
 * owner's (a lookup's proof carries them: struct cache_nsec_proof). */
void cache_nsec_soa_rr(const uint8_t *blob, size_t len, uint16_t *at, uint16_t *rr_len,
		       uint8_t *owner_len);

/*
 * That SOA record (rr, its owner owner_len octets and the zone's name,
 * names whole) packed for an answer to a question at or below zone, as
 * RFC 1035 4.1.4 lets a message say it: the owner one compression pointer,
 * and MNAME and RNAME, where they end in the zone, their labels above it
 * and one pointer. Each pointer is written 0xc000; the answer sets all
 * three to where the zone's labels start in its question. Writes out (room
 * for CACHE_NSEC_SOA_MAX octets; never more than the record's) and
 * ptr_at[] (where MNAME's and RNAME's pointers are in out; 0, the
 * owner's, for a name not below the zone). Returns the packed length; 0
 * for the root zone (a pointer is longer than its name).
 */
#define CACHE_NSEC_SOA_MAX (2 + 10 + 2 * DNS_NAME_MAX + 20)
size_t cache_nsec_soa_pack(const uint8_t *rr, size_t owner_len, const uint8_t *zone,
			   uint8_t *out, uint16_t ptr_at[2]);

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
	/* the SOA record in soa's blob (with records: where the store's
	 * check found it, so that a client without DO gets it without a walk
	 * of the blob): offset, length, its owner's length */
	uint16_t soa_rr_at, soa_rr_len;
	uint8_t soa_owner_len;
	/* that record packed for the question (cache_nsec_soa_pack(); length
	 * 0: none): the lookup's zone is always the question's or above it */
	uint16_t soa_packed_len;
	uint16_t soa_ptr_at[2];
	const uint8_t *soa_packed;
	uint8_t zone_len;	/* zone's */
	const uint8_t *zone;	/* the apex, lower-cased wire */
	uint32_t expire_at;
	uint8_t nrr;
	uint8_t why;		/* enum cache_nsec_why */
	uint8_t hashes;		/* NSEC3 name hashes computed */
	bool nsec3;		/* proven from NSEC3 ranges */
	bool wildcard;		/* NODATA of the wildcard that qname matches */
	bool records;		/* the store's record_blobs: blobs checked */
};

struct cache_nsec_stats {
	uint64_t zones;
	uint64_t nsec_ranges;
	uint64_t nsec3_ranges;
	uint64_t bytes;		/* cache_nsec_bytes(): live + pending frees */
	uint64_t live_bytes;	/* published: what max_bytes bounds */
	uint64_t max_height;	/* deepest tree: at most 1.44 log2(ranges + 2) */
	uint64_t pruned_ranges;	  /* removed as contradicted by an insert */
	uint64_t evicted_zones;	  /* dropped whole to stay in the budget */
	uint64_t refused_inserts; /* CACHE_E_NSEC_BUDGET */
	uint64_t budget_drops;	  /* expiry sweeps the budget asked for */
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
 * zone, replacing the range with the same owner if any and removing the
 * ranges it contradicts (see above). blob (blob_len octets,
 * 1..CACHE_NSEC_BLOB_MAX) is copied. zone and owner are wire names in the
 * caller's buffers (read up to DNS_NAME_MAX octets); nothing is kept. The
 * zone is created when new. now is the caller's clock, for the budget's
 * expiry sweep. Checks: names well formed (dns/ errors), RDATA well formed
 * (DNS_E_BITMAP, ...), owner and next at or below zone, next after owner in
 * canonical order unless it is the apex (the last NSEC wraps to the apex;
 * else CACHE_E_NSEC_ZONE). 0 or an error. CACHE_E_NSEC_BUDGET: max_bytes
 * could not take the record even with every other zone gone; nothing
 * changed. On other errors no range of the zone changed (room made for the
 * insert stays made; a zone created for it may stay, empty, until
 * cache_nsec_drop_expired()). Cost: O(log n) path copying, plus O(log n)
 * per range removed as contradicted; an insert that needs room may also
 * sweep expired content (O(ranges of the zones whose earliest expiry has
 * passed)). Measured (bench/bench_nsec, replacing a random range, release
 * build): 14860 instructions at 1 K ranges, 19548 at 100 K, and 7-11 us at
 * 100 K, 12-27 us at 1 M ranges on the shared 2-core VM, the call_rcu
 * thread freeing the old path on the other core.
 */
int cache_nsec_insert(struct cache_nsec *n, const uint8_t *zone,
		      const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		      uint32_t expire_at, const uint8_t *blob, size_t blob_len,
		      uint32_t now);

/*
 * Writer: the same for an NSEC3 record (owner: base32hex hash label + zone;
 * rdata: NSEC3 RDATA). The algorithm must be SHA-1 (CACHE_E_NSEC_ALG), the
 * flags 0 or opt-out (CACHE_E_NSEC_FLAGS), the iterations at most
 * nsec3_max_iterations (CACHE_E_NSEC_ITER). A zone has one parameter set
 * (iterations, salt): a range with other parameters replaces the zone's
 * NSEC3 ranges by itself, so after a re-salt the new chain takes over.
 * Contradicted ranges go as for NSEC, in hash order, which wraps around
 * from the greatest hash to the least. Opt-out ranges are kept, but never
 * used to deny a name.
 */
int cache_nsec3_insert(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *owner, const uint8_t *rdata,
		       size_t rdlen, uint32_t expire_at, const uint8_t *blob,
		       size_t blob_len, uint32_t now);

/* Writer: sets (replaces) the zone's SOA blob, copied; creates the zone
 * when new. A proof needs an unexpired SOA. 0 or an error (budget as for
 * cache_nsec_insert()). */
int cache_nsec_set_soa(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *blob, size_t blob_len,
		       uint32_t expire_at, uint32_t now);

/*
 * Reader (worker hot path): may the cache answer (qname, qtype) negatively
 * at time now? qname is a valid wire name in any case. The zone is the
 * longest cached apex at or above qname (strictly above for DS, whose
 * records live in the parent). Fills *out and returns its verdict
 * (enum cache_nsec_verdict); out->why says why nothing was proven. Cost:
 * one zone-table probe per label of qname, then for NSEC one tree descent
 * of O(log n) key-prefix comparisons, and a second (the wildcard's) only
 * when the closest encloser is below the apex; for NSEC3 at most
 * nsec3_hash_budget name hashes ((iterations + 1) SHA-1 runs each; the
 * apex's and "*.apex"'s come from the writer) with a descent each.
 * Measured by bench/bench_nsec (release build with LTO, gcc 12, jemalloc;
 * uniform random names right below the apex of one zone; 2026-12-04, see
 * bench/README.md), instructions/op by callgrind, ns/op on the 2-core dev
 * VM (one run; noisy):
 *   NSEC NXDOMAIN    1 K ranges: 1030 instr,  130 ns
 *                  100 K ranges: 1165 instr,  660 ns
 *                    1 M ranges:              1.4 us
 *   NSEC NODATA      1 K ranges:  889 instr,  120 ns
 *                  100 K ranges: 1024 instr,  590 ns
 *   NSEC3 NXDOMAIN (1 hash, 10 K ranges): 0 iterations 3512 instr,
 *   450 ns; 10 iterations 15766 instr, 1.0 us.
 * Recounted 2026-12-06 (the key prefix in words, the lookup's own SHA-1
 * padding): NXDOMAIN 1 K 1097, NODATA 1 K 961, NSEC3 0 iterations 2461
 * instructions.
 * Past 1 K ranges the time is cache and TLB misses (a line per tree
 * level), not instructions.
 */
int cache_nsec_lookup(const struct cache_nsec *n, const uint8_t *qname,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out);

/*
 * A reader's memo of the zone its last lookup found, for
 * cache_nsec_lookup_memo(), in one store: the next question at or below
 * that apex (not DS) looks the zone table up only at the depths between
 * the apex and the question that some zone has, going on from the apex's
 * hash; it skips hashing the labels of the apex and the probes above it
 * (the table's work was ~40 % of a lookup's samples on a Xeon). The zone
 * and the table are the store's and live only until the reader's next
 * quiescent state: the reader calls cache_nsec_memo_forget() before each.
 * Zeroed: empty.
 */
struct cache_nsec_memo {
	const void *zone;
	const void *table;	/* the zone table it was found in */
	/* set with zone: its apex (lower-cased wire) and the apex's length */
	const uint8_t *apex;
	size_t apex_len;
	unsigned long used;	/* lookups that started from the memo */
};

static inline void cache_nsec_memo_forget(struct cache_nsec_memo *m)
{
	m->zone = m->table = NULL;
	m->apex = NULL;
	m->apex_len = 0;
}

/* cache_nsec_lookup() with a memo (NULL: none), which it reads and sets. */
int cache_nsec_lookup_memo(const struct cache_nsec *n, struct cache_nsec_memo *memo,
			   const uint8_t *qname, uint16_t qtype, uint32_t now,
			   struct cache_nsec_proof *out);

/*
 * Writer: a denial feed, as control sends what it validated (RFC 8198 4):
 * msg (len octets, at most CACHE_NSEC_FEED_MAX) is a DNS message whose
 * question names the zone (its
 * apex; type and the header do not matter, class IN) and whose authority
 * section holds the zone's SOA and/or NSEC or NSEC3 records, each with the
 * RRSIGs over it (matched by owner and covered type, signer the apex),
 * every TTL how long control lets it be used (validated, capped at the
 * signatures' expiry). Each SOA, NSEC and NSEC3 record goes in with its
 * signatures as its blob, for the least TTL of the record and its RRSIGs,
 * of max_ttl (cache.max-negative-ttl) and, when the feed has the zone's
 * SOA, of that SOA's TTL and MINIMUM (RFC 2308 5, RFC 9077); one without a
 * signature by
 * the apex, one of an RRset of two, a SOA not at the apex, or one the
 * store refuses (its own checks: names, RDATA, zone, NSEC3 parameters,
 * budget) is counted in res->refused and the rest still go in. Other
 * records are ignored. 0, or CACHE_E_MSG when msg does not parse (nothing
 * went in). Writer thread only (it uses static scratch).
 */
struct cache_nsec_feed_result {
	unsigned ranges;	/* NSEC and NSEC3 records inserted */
	unsigned soas;		/* SOAs set */
	unsigned refused;	/* records not taken */
};

#define CACHE_NSEC_FEED_MAX 4096

int cache_nsec_feed(struct cache_nsec *n, const uint8_t *msg, size_t len, uint32_t now,
		    uint32_t max_ttl, struct cache_nsec_feed_result *res);

/* Writer: drops every range and SOA with now >= expire_at, and the zones
 * left empty; O(all ranges). The number of ranges dropped, or
 * CACHE_E_NSEC_NOMEM when a tree could not be rebuilt (the others were). */
int cache_nsec_drop_expired(struct cache_nsec *n, uint32_t now);

/* Writer: drops the zone with apex zone and all it holds.
 * 0, CACHE_E_NSEC_NOZONE or CACHE_E_NSEC_NOMEM. */
int cache_nsec_drop_zone(struct cache_nsec *n, const uint8_t *zone);

/* Writer: an operator's flush of name (below: and of the names below it):
 * drops the zone at name (below: and those below it) and the closest zone
 * above it (whose ranges may deny name). The count of zones dropped,
 * DNS_E_INVAL or CACHE_E_NSEC_NOMEM (nothing dropped). */
int cache_nsec_flush_under(struct cache_nsec *n, const uint8_t *name, bool below);

/* Writer: drops every zone and all it holds. The count of zones dropped,
 * or CACHE_E_NSEC_NOMEM (nothing dropped). */
int cache_nsec_flush(struct cache_nsec *n);

/* Any thread: octets allocated, including what waits for a grace period. */
size_t cache_nsec_bytes(const struct cache_nsec *n);

/*
 * Reader: announces a quiescent state (urcu_qsbr_quiescent_state(), plus
 * what ThreadSanitizer builds need to see the grace period). Call it
 * between bursts; proofs from earlier lookups are then invalid. The same
 * as cache_reader_quiescent() (one TSan token for both stores, tsan.h): a
 * worker reading both calls either, once.
 */
void cache_nsec_reader_quiescent(void);

/* Writer: counts. */
void cache_nsec_get_stats(const struct cache_nsec *n,
			  struct cache_nsec_stats *st);

/* Writer: the zones holding the most ranges (up to max, most first), for
 * the operator's per-zone counters. O(zones). Returns how many. */
struct cache_nsec_zone_info {
	uint8_t apex[DNS_NAME_MAX];	/* lower-cased wire */
	uint32_t ranges;		/* NSEC and NSEC3 ranges held */
	bool nsec3;			/* the ranges are NSEC3 ones */
};
unsigned cache_nsec_zones(const struct cache_nsec *n, struct cache_nsec_zone_info *out,
			  unsigned max);

/*
 * Writer: the zones the byte budget evicted most, for the operator's
 * per-zone counters: a tally of CACHE_NSEC_EVICT_TALLY zones by apex, each
 * with how often it was evicted and the ranges it held each time, summed.
 * A zone evicted while the tally is full takes the place of the one with
 * fewest evictions, whose count goes to *other (so every eviction is
 * counted once: in an entry or in *other). Copies up to max entries,
 * most evicted first; returns how many.
 */
#define CACHE_NSEC_EVICT_TALLY 32
struct cache_nsec_evict_info {
	uint8_t apex[DNS_NAME_MAX];	/* lower-cased wire */
	uint64_t evictions;
	uint64_t ranges;		/* ranges dropped with it */
};
unsigned cache_nsec_evictions(const struct cache_nsec *n, struct cache_nsec_evict_info *out,
			      unsigned max, uint64_t *other);

/*
 * Any thread: the RFC 5155 5 hash of name (any case; hashed lower-cased)
 * with salt and iterations, SHA-1 into out. No allocation, no lock.
 */
void cache_nsec3_hash(const uint8_t *name, const uint8_t *salt,
		      size_t salt_len, uint16_t iterations,
		      uint8_t out[CACHE_NSEC3_HASH_LEN]);

#endif
