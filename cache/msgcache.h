/*
 * cache/msgcache.h: the message cache. Keys are (lower-cased qname, qtype,
 * qclass); values are immutable entries holding a response's answer,
 * authority and additional sections in wire form, ready to copy behind a
 * client's question with every TTL rewritten as time left. One entry
 * answers clients with and without DO: it holds two views of its message,
 * the full one (RRSIGs, NSEC and NSEC3 records included) and, when the
 * message has such records, the plain one without them (RFC 4035 3.2.1),
 * each written once when the entry is made, so neither answer does more
 * than copy its octets and rewrite its TTLs.
 *
 * Threads: any number of readers (dataplane workers, registered liburcu QSBR
 * threads that announce quiescent states between bursts) call
 * cache_key_init(), cache_lookup_burst() and cache_answer(); they take no
 * lock and write no shared line except an entry's refresh stamp (for a
 * prefetch or stale refresh: once per entry, again every 10 s while no
 * refresh has replaced it) and its CLOCK reference bit (only when
 * clear). One writer at a time, also QSBR-registered, calls everything
 * else: one thread, or several that take turns under one lock of their
 * own (control on several threads: control/iter.h's
 * ctl_iter_cache_lock()). An entry pointer a reader holds stays valid until that reader's next
 * quiescent state.
 *
 * Invariants: an entry is never changed once published, except its refresh
 * stamp and reference bit; replacement publishes a new entry and frees the old
 * one after a grace period. The index holds at most CACHE_BUCKET_SLOTS
 * entries in each of a key's two buckets, so a lookup reads at most two
 * cache lines of index plus the candidate entries, whatever the input
 * (hash flooding only evicts); it reads the second bucket only when the
 * first has overflowed into others. Time is the caller's coarse clock in
 * seconds.
 *
 * Budget: entries (jemalloc usable size) plus the index never exceed
 * max_bytes after an insert returns. The margin is memory already removed
 * but not yet freed: entries and an old index wait one grace period (until
 * every reader has passed a quiescent state) before call_rcu frees them.
 */
#ifndef BW_CACHE_MSGCACHE_H
#define BW_CACHE_MSGCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/err.h"
#include "dns/wire.h"

struct dns_query;

#define CACHE_BURST_MAX 32	 /* keys per cache_lookup_burst() */
#define CACHE_BUCKET_SLOTS 7	 /* entry slots in one 64-octet bucket */
#define CACHE_STALE_RETRY_S 10	 /* stale entry: ask again for a refresh */
#define CACHE_PREFETCH_RETRY_S 10 /* fresh one in its last tenth: ask again when
				     no refresh replaced it (one not asked
				     for: the worker over its miss budget, a
				     full ring, a TCP lookup; or lost) */


/* Data ranks, RFC 2181 5.4.1, lowest to highest. */
enum cache_rank {
	CACHE_RANK_ADDITIONAL = 1,
	CACHE_RANK_GLUE = 2,
	CACHE_RANK_NONAUTH_ANSWER = 3,
	CACHE_RANK_AUTH_AUTHORITY = 4,
	CACHE_RANK_AUTH_ANSWER = 5,
	CACHE_RANK_SECURE = 6,	/* DNSSEC-validated */
};

struct cache_config {
	size_t max_bytes;	    /* budget: entries + index */
	uint32_t min_ttl;	    /* seconds */
	uint32_t max_ttl;
	uint32_t max_negative_ttl;
	uint32_t stale_answer_ttl;  /* TTL in stale answers (RFC 8767: 30) */
	uint32_t max_stale;	    /* seconds after expiry; 0: no serve-stale */
	uint8_t prefetch_percent;   /* share of the TTL left; 0: no prefetch */
	uint16_t edns_udp_size;	    /* advertised in our OPT */
};

/* The configuration's documented defaults. */
void cache_config_default(struct cache_config *cfg);

/* The first 14 octets are laid out as in an entry, so that a key is
 * compared with two loads; pad is zero. dnssec is no part of the key:
 * it says that the asker wants the DNSSEC records (DO), so that an entry
 * cached without them (not full) is a miss for it. */
struct cache_key {
	uint64_t hash;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t name_len;
	uint8_t dnssec;
	uint16_t pad;
	uint8_t name[DNS_NAME_MAX]; /* lower-cased wire */
};

enum cache_state {
	CACHE_MISS = 0,
	CACHE_HIT,		/* fresh */
	CACHE_HIT_PREFETCH,	/* fresh, and this hit should ask for a refresh */
	CACHE_STALE,		/* expired, answerable (serve-stale) */
	CACHE_STALE_REFRESH,	/* the same, and this hit should ask for one */
};

struct cache_entry;

struct cache_result {
	const struct cache_entry *entry; /* NULL on a miss */
	uint8_t state;			 /* enum cache_state */
};

/* Counters a reader keeps for itself (one block per worker). */
struct cache_reader_stats {
	uint64_t hits;
	uint64_t stale_hits;
	uint64_t misses;
	uint64_t prefetches;
	uint64_t second_reads;	/* lookups that read the key's second bucket */
};

/* The writer's counters. */
struct cache_stats {
	uint64_t entries;
	uint64_t bytes;		/* entries + index, as allocated */
	uint64_t inserts;
	uint64_t replacements;
	uint64_t evictions;
	uint64_t uncacheable;
	uint64_t resizes;
};

struct cache;

/* Writer: create (with a random hash secret) and destroy. */
struct cache *cache_new(const struct cache_config *cfg);
void cache_free(struct cache *c);

/* A configuration reload: the UDP size our answers' OPT advertises from
 * now on (one store; readers take either the old size or the new). Any
 * thread. */
void cache_set_edns_udp_size(struct cache *c, uint16_t size);

/*
 * A configuration reload, writer: cfg's TTL bounds, serve-stale and
 * prefetch settings (max_bytes and edns_udp_size are not taken) from now
 * on. New entries are made with them; answers cap their TTLs at the new
 * max_ttl at once; expired entries are served stale only within the new
 * max_stale (0: not at all), and prefetch asks for no refresh when the new
 * percentage is 0. When max_ttl or max_negative_ttl is lowered, entries
 * whose time left exceeds the new bound (max_negative_ttl for negative
 * answers) are removed by cache_trim(), so that none outlives it.
 */
void cache_set_limits(struct cache *c, const struct cache_config *cfg);

/* Writer: every entry held is a miss for readers from now on (what a
 * change of trust anchor makes unknown), and removed by cache_trim() (an
 * entry moved past the trim's position meanwhile stays, unused, until
 * evicted). At most 65 535 of these while one trim runs (16-bit epochs). */
void cache_flush_epoch(struct cache *c);

/*
 * Writer: an operator's flush (bailiwick-ctl flush, flush-zone,
 * flush-negative): the entries whose question is name (CACHE_FLUSH_NAME,
 * every type and class), name or any name below it (CACHE_FLUSH_ZONE), or
 * whose answer is negative (CACHE_FLUSH_NEGATIVE, name unused: NXDOMAIN,
 * NODATA, RFC 8020 cuts; not an answer whose CNAME chain ends in NODATA)
 * are removed by cache_trim() over the whole index, in slices (entries
 * made after now stay: they were resolved since; an entry the trim would
 * take that a cuckoo step would move goes at once instead). NAME and ZONE
 * also remove the RFC 8020 markers above name at once, and the entries
 * that hold name's records or denial as a CNAME chain's later link. 0,
 * DNS_E_INVAL (mode, name), or CACHE_E_BUSY (one is in progress).
 * cache_flush_busy() is true until the trim has looked at every slot;
 * *removed (NULL: not wanted) gets the count so far. A flush of
 * everything is cache_flush_epoch().
 */
#define CACHE_FLUSH_NAME 1
#define CACHE_FLUSH_ZONE 2
#define CACHE_FLUSH_NEGATIVE 3
#define CACHE_FLUSH_ALL 4	/* cache_flush_stores() only */
int cache_flush_names(struct cache *c, unsigned mode, const uint8_t *name, uint32_t now);
bool cache_flush_busy(const struct cache *c, uint64_t *removed);

/*
 * Writer (cache/flush.c): an operator's flush of a message cache and its
 * NSEC store (n NULL: none), as both processes apply it: NAME, ZONE and
 * NEGATIVE as cache_flush_names() (the ranges too: NEGATIVE all of them,
 * NAME and ZONE cache_nsec_flush_under()'s), ALL as cache_flush_epoch()
 * with every range (*entries: the entries made misses). The NSEC zones
 * dropped, or cache_flush_names()'s error, or CACHE_E_NSEC_NOMEM (the
 * message cache's part is under way all the same).
 */
struct cache_nsec;
int cache_flush_stores(struct cache *c, struct cache_nsec *n, unsigned mode,
		       const uint8_t *name, uint32_t now, uint64_t *entries);

/* Writer, called in its loop: looks at up to max_slots more slots of the
 * index for entries a lowered bound removes, adding their count to
 * *removed; returns the slots looked at (0: nothing is due). A whole
 * table in slices, so that the writer's other duties (the dataplane's
 * heartbeat, its clock) go on. */
#define CACHE_TRIM_SLICE 16384
uint64_t cache_trim(struct cache *c, uint32_t now, uint64_t max_slots, uint64_t *removed);

/* Any thread: the key of a question (qname in any case); dnssec: the
 * asker wants DNSSEC records (see struct cache_key). */
void cache_key_init(struct cache_key *k, const struct cache *c,
		    const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		    bool dnssec);

/* Any thread: the key of a parsed client query (dnssec: its DO bit). */
void cache_key_from_query(struct cache_key *k, const struct cache *c,
			  const struct dns_query *q);

/*
 * Reader: looks up n <= CACHE_BURST_MAX keys at once (hash, prefetch every
 * bucket, match tags, prefetch candidates, compare keys) and fills res[i].
 */
void cache_lookup_burst(const struct cache *c, const struct cache_key *const *keys,
			unsigned n, uint32_t now, struct cache_result *res,
			struct cache_reader_stats *st);

/*
 * Reader: the reply to query q from entry e (found by a lookup with state)
 * into out (cap octets; the client's UDP size is applied too): header with
 * q's id, opcode, RD and CD, QR and RA set; q's question octet for octet;
 * the sections with TTLs as time left (stale_answer_ttl when stale), never
 * above max_ttl, the full view when q has DO and the plain one when not;
 * our OPT when q had one. When the sections do not fit, TC=1
 * and none are sent. Returns the length, or DNS_E_SPACE when not even the
 * question fits. out may be q's own buffer (q->wire): a worker answers in
 * the query's mbuf.
 */
int cache_answer(const struct cache *c, const struct cache_entry *e,
		 enum cache_state state, const struct dns_query *q,
		 uint32_t now, uint8_t *out, size_t cap);

/* The same for a query that came over TCP: only cap limits the size (at
 * most 65535), the client's UDP size does not apply. */
int cache_answer_stream(const struct cache *c, const struct cache_entry *e,
			enum cache_state state, const struct dns_query *q,
			uint32_t now, uint8_t *out, size_t cap);

/*
 * Writer: caches the response msg (a whole message as an authority or
 * control sent it, question included; an OPT may only be its last record
 * and is not kept, but the info-code of its Extended DNS Error, if any and
 * within 1..255, is, and goes to every client with EDNS as an option of
 * our OPT when there is room after the records). Positive answers live min(TTLs) clamped to
 * [min_ttl, max_ttl]; NXDOMAIN and NODATA (RFC 2308) need an SOA in the
 * authority section and live min(SOA TTL, SOA MINIMUM, max_negative_ttl).
 * A record with TTL 0 makes the message uncacheable unless min_ttl is set
 * (then it lives min_ttl). Referrals and other rcodes are
 * CACHE_E_UNCACHEABLE. full: msg was assembled with its DNSSEC records
 * (RRSIGs and denial records of DO answers, whatever the zone has); an
 * entry that is not full answers only clients without DO. An existing
 * fresh entry stays when it is full and the new one is not, or when both
 * are alike and it is of higher rank; otherwise it is replaced (a full
 * entry replaces a fresh one that is not, whatever the ranks).
 *
 * RFC 8020 markers: a full CACHE_RANK_SECURE NXDOMAIN also makes a marker for
 * the name it denies (the end of the answer's CNAME chain), which
 * cache_nxdomain_cut() finds; an NXDOMAIN of any lower rank makes none (a
 * forged one would deny a whole subtree). The marker holds the authority
 * section alone, names written out in full, so that its answers are well
 * formed behind any question; its plain view, the SOA alone. Any answer that
 * shows a name exists (data, a CNAME, NODATA) drops the markers at and
 * above it. 0 or an error.
 */
int cache_insert(struct cache *c, const uint8_t *msg, size_t len,
		 uint32_t now, enum cache_rank rank, bool full);

/*
 * What the response policy (answer/policy.h) found in a message, kept with
 * its entry and opaque here: the generation of the policy snapshot it was
 * checked against (0: not checked; entries keep its low 32 bits) and that
 * snapshot's verdict on the message's data.
 */
struct cache_tag {
	uint64_t gen;
	uint64_t verdict;
};

/* The same as cache_insert(), the entry tagged (NULL: untagged). A tag of
 * a newer generation than the existing entry's replaces it whatever the
 * ranks (the verdict belongs to the data it was found on; an entry whose
 * verdict is old would be asked about again at every hit). */
int cache_insert_tagged(struct cache *c, const uint8_t *msg, size_t len, uint32_t now,
			enum cache_rank rank, bool full, const struct cache_tag *tag);

/*
 * Reader or writer: RFC 8020 NXDOMAIN cut. The nearest cached, unexpired
 * marker at or above qname (same class), or NULL. Its answer
 * (cache_answer()) is NXDOMAIN with the denying zone's SOA (and, for DO,
 * its NSEC/NSEC3 proof and signatures), whatever the question below it.
 */
const struct cache_entry *cache_nxdomain_cut(const struct cache *c,
					     const uint8_t *qname,
					     uint16_t qclass, uint32_t now);

/*
 * Reader: announces a quiescent state (urcu_qsbr_quiescent_state(), plus
 * what ThreadSanitizer builds need to see the grace period). Call it
 * between bursts; entry pointers from earlier lookups are then invalid.
 */
void cache_reader_quiescent(void);

/* Writer: forget one key; everything. */
void cache_remove(struct cache *c, const struct cache_key *k);
void cache_flush(struct cache *c);

/* Writer: counters. */
void cache_get_stats(const struct cache *c, struct cache_stats *st);

/*
 * Writer (tests, debugging): checks the index's invariants: every entry sits
 * in one of its key's two buckets and only once, each bucket's overflow
 * count equals the entries that wanted it but live in their second, and the
 * entry and byte counts add up. 0, or the number of faults found.
 */
int cache_check(const struct cache *c);

/* Entry fields readers may need. */
uint8_t cache_entry_rcode(const struct cache_entry *e);
/* What the entry's answer section holds: CNAME records, addresses. */
#define CACHE_KIND_CNAME 1
#define CACHE_KIND_ADDR 2
uint8_t cache_entry_kinds(const struct cache_entry *e);
/* Its struct cache_tag: gen's low 32 bits, and verdict. */
uint32_t cache_entry_tag_gen(const struct cache_entry *e);
uint64_t cache_entry_tag_verdict(const struct cache_entry *e);
uint8_t cache_entry_rank(const struct cache_entry *e);
uint32_t cache_entry_expire(const struct cache_entry *e);
const uint8_t *cache_entry_qname(const struct cache_entry *e);

/* An entry as the operator sees it (bailiwick-ctl dump-cache). */
struct cache_entry_info {
	const uint8_t *qname;		/* wire form, lower case */
	uint16_t qtype;			/* 0: an RFC 8020 NXDOMAIN cut marker */
	uint16_t qclass;
	uint8_t rcode;
	uint8_t rank;			/* enum cache_rank */
	uint8_t ede;			/* its EDE info-code, 0: none */
	bool full;			/* holds the DNSSEC records (DO) */
	bool secure;			/* answers AD */
	bool stale;			/* expired, answerable (serve-stale) */
	uint32_t ttl_s;			/* fresh for this long; stale: 0 */
	uint32_t stale_s;		/* answerable after that for this long */
	uint32_t bytes;
	uint16_t records;		/* answer + authority + additional */
};
typedef void (*cache_walk_cb)(void *arg, const struct cache_entry_info *e);

/*
 * The thread that writes c (nothing else may change it meanwhile): cb for
 * every answerable entry (fresh, or stale within its window; not one made
 * before cache_flush_epoch()) in up to max_slots slots of the index from
 * *pos on, in the index's order; *pos moves past them. Returns false once
 * the walk has looked at every slot (*pos back to 0). A walk spread over
 * calls sees an entry at most once unless the index grew in between.
 */
bool cache_walk(const struct cache *c, uint64_t *pos, uint64_t max_slots, uint32_t now,
		cache_walk_cb cb, void *arg);

#endif
