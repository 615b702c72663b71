/*
 * cache/nsec_int.h: private to cache/nsec*.c, never included elsewhere: the
 * structs, layout constants and small helpers that the two halves of the
 * NSEC/NSEC3 range trees (cache/nsec.h) share. Who writes what: the
 * cache-writer thread (nsec.c) allocates, fills, publishes and retires
 * every struct here and is the only thread that writes them (but for
 * cache_nsec.bytes, which the call_rcu thread also updates); worker lcores
 * (nsec_read.c) only read what they reach from the store's table pointer
 * and a zone's state pointer, both loaded with DEREF(), and write nothing.
 * Why that is safe: the invariants at the top of nsec.c.
 */
#ifndef BW_CACHE_NSEC_INT_H
#define BW_CACHE_NSEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/name.h"
#include "mem.h"
#include "nsec.h"

/*
 * TSan and the RCU contract: see tsan.h. Publication uses __atomic release
 * stores and acquire loads (plain moves on x86) instead of
 * rcu_assign_pointer/rcu_dereference, which TSan sees as plain accesses.
 */

#define PUBLISH(ptr, v) __atomic_store_n(&(ptr), (v), __ATOMIC_RELEASE)
#define DEREF(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)

#define R_WRAP 0x01	/* NSEC: next <= owner, the last range of the zone */
#define R_OPT_OUT 0x02	/* NSEC3 opt-out flag */
#define NODE_SIZE 64
#define KPRE_LEN 31	/* fills the node's cache line */

/* One validated range, immutable once published. data[]: key (owner name or
 * hash), next (name or hash), type bitmap, caller blob. */
struct nsec_range {
	uint32_t expire_at;
	uint32_t size;		/* octets allocated (usable size) */
	uint16_t blob_len;
	uint16_t bitmap_len;
	uint8_t key_len;
	uint8_t next_len;
	uint8_t flags;		/* R_WRAP, R_OPT_OUT */
	uint8_t data[];
};

/*
 * One cache line. kpre is a prefix of the key in an encoding whose octet
 * order is the key order (see nsec_key_prefix()), so that a descent compares
 * keys without reading the ranges; only a tie reads the whole owner name.
 */
struct nsec_node {
	struct nsec_node *left, *right;
	const struct nsec_range *r;
	uint64_t gen;		/* writer operation that made this node */
	uint8_t height;
	uint8_t kpre[KPRE_LEN];
};
_Static_assert(sizeof(struct nsec_node) == NODE_SIZE, "node is a cache line");

struct nsec_soa {
	uint32_t expire_at;
	uint32_t size;		/* usable size */
	uint16_t len;
	uint8_t data[];
};

/* A zone's content, replaced whole by the writer. */
struct zstate {
	struct nsec_node *nsec;
	struct nsec_node *nsec3;
	struct nsec_soa *soa;
	size_t nsec_bytes;	/* ranges and nodes of each tree (usable) */
	size_t nsec3_bytes;
	uint32_t nsec_count;
	uint32_t nsec3_count;
	uint16_t n3_iter;
	uint8_t n3_salt_len;
	uint8_t n3_salt[255];
};

/*
 * Written by the writer: state (an RCU pointer); readers read state, hash
 * and apex*, which never change. The LRU links and min_expire are the
 * writer's own.
 */
struct nsec_zone {
	struct zstate *state;
	uint64_t hash;
	struct nsec_zone *lru_newer, *lru_older;
	uint32_t min_expire;	/* <= every expire_at in state (a bound) */
	uint8_t apex_len;
	uint8_t apex_labels;
	uint8_t apex[DNS_NAME_MAX];	/* lower-cased */
};

struct ztable {
	uint32_t mask;			/* slots - 1 */
	uint32_t count;
	size_t size;			/* usable size */
	struct nsec_zone *slot[];
};

/* Writer: everything but bytes, which the call_rcu thread also updates. */
struct cache_nsec {
	struct ztable *table;		/* RCU */
	struct cache_nsec_config cfg;
	struct cache_mem mem;
	uint64_t seed;
	uint64_t gen;
	size_t bytes;			/* atomic: all held, pending frees too */
	size_t live;			/* published: what the budget counts */
	size_t self_size;		/* usable sizes of fixed-size objects */
	size_t node_size, state_size, zone_size;
	struct nsec_zone *lru_newest, *lru_oldest;
	uint32_t min_expire;		/* <= every zone's min_expire (a bound) */
	uint64_t evicted_zones, pruned_ranges, refused_inserts;
	uint64_t budget_drops;		/* drop_expired runs for the budget */
};

/* ---- names and keys (both halves) ---- */

/* Offsets of name's labels, leftmost first; off[count] is the root label. */
static inline int label_offsets(const uint8_t *name,
				uint8_t off[DNS_LABELS_MAX + 1])
{
	int n = 0;
	size_t p = 0;

	while (name[p] && n < DNS_LABELS_MAX) {
		off[n++] = (uint8_t)p;
		p += name[p] + 1u;
	}
	off[n] = (uint8_t)p;
	return n;
}

/*
 * Zone-table hash: FNV-1a over lower-cased labels taken right to left, from
 * a secret seed, so that the hash of every suffix of a name comes out of one
 * pass. h[i] is the hash of the suffix starting at label i (h[count]: root).
 */
static inline void suffix_hashes(uint64_t seed, const uint8_t *name,
				 const uint8_t *off, int count, uint64_t *h)
{
	h[count] = seed;
	for (int i = count - 1; i >= 0; i--) {
		const uint8_t *l = name + off[i];
		uint64_t x = h[i + 1] ^ l[0];

		x *= UINT64_C(0x100000001b3);
		for (unsigned j = 1; j <= l[0]; j++) {
			x ^= dns_lower[l[j]];
			x *= UINT64_C(0x100000001b3);
		}
		h[i] = x;
	}
}

static inline uint32_t slot_of(uint64_t h, uint32_t mask)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (uint32_t)h & mask;
}

/* At most mask + 1 probes; the table is at most half full. */
static inline struct nsec_zone *table_find(const struct ztable *tb,
					   uint64_t h, const uint8_t *apex)
{
	uint32_t i = slot_of(h, tb->mask);

	for (uint32_t k = 0; k <= tb->mask; k++) {
		struct nsec_zone *z = tb->slot[i];

		if (!z)
			return NULL;
		if (z->hash == h && dns_name_equal(z->apex, apex))
			return z;
		i = (i + 1) & tb->mask;
	}
	return NULL;
}

static inline const uint8_t *r_key(const struct nsec_range *r)
{
	return r->data;
}

static inline const uint8_t *r_next(const struct nsec_range *r)
{
	return r->data + r->key_len;
}

/*
 * The tree key prefix of a name at or below an apex of skip labels: its
 * labels below the apex, right to left, each lower-cased octet x written as
 * x + 1 (x < 0xfe) or 0xff 0x01 / 0xff 0x02 (x = 0xfe / 0xff), each label
 * ended by 0x00, cut or zero-padded to KPRE_LEN. The code is prefix-free and
 * keeps octet order, and the terminator sorts below every octet, so memcmp
 * of two full encodings is RFC 4034 canonical order; of two cut ones it
 * is that order or a tie. Defined in nsec_read.c rather than static inline
 * here: the inline hint would make the compiler inline it into
 * cache_nsec_lookup(), another trade of code size for instructions than
 * the one the figures in nsec.h and bench/README.md were measured with.
 */
void nsec_key_prefix(const uint8_t *name, const uint8_t *off, int labels,
		     int skip, uint8_t out[KPRE_LEN]);

static inline void name_prefix(const uint8_t *name, int skip,
			       uint8_t out[KPRE_LEN])
{
	uint8_t off[DNS_LABELS_MAX + 1];

	nsec_key_prefix(name, off, label_offsets(name, off), skip, out);
}

/* ---- ranges (the reader's proofs; the writer's pruning) ---- */

static inline const struct nsec_range *last_range(const struct nsec_node *t)
{
	const struct nsec_range *r = NULL;

	for (; t; t = t->right)
		r = t->r;
	return r;
}

/* r's owner < name (a predecessor search's answer, not equal): does r deny
 * name? */
static inline bool nsec_covers(const struct nsec_range *r,
			       const uint8_t *name)
{
	return (r->flags & R_WRAP) || dns_name_cmp(name, r_next(r)) < 0;
}

static inline bool nsec3_covers(const struct nsec_range *r, const uint8_t *h)
{
	int lo = memcmp(r_key(r), h, CACHE_NSEC3_HASH_LEN);
	int hi = memcmp(h, r_next(r), CACHE_NSEC3_HASH_LEN);

	if (r->flags & R_WRAP)
		return lo < 0 || hi < 0;
	return lo < 0 && hi < 0;
}

#endif
