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
#define R_CUT 0x04	/* NSEC: the bitmap has NS without SOA, or DNAME */
#define NODE_SIZE 64
#define KPRE_LEN 31	/* fills the node's cache line */

/* One validated range, immutable once published. data[]: key (owner name or
 * hash), next (name or hash), type bitmap, caller blob. nkpre: NSEC, the key
 * prefix of next (nsec_key_prefix()), so that most "does it cover" and "is
 * next below" questions are answered without reading the names. */
struct nsec_range {
	uint32_t expire_at;
	uint32_t size;		/* octets allocated (usable size) */
	uint16_t blob_len;
	uint16_t bitmap_len;
	uint8_t key_len;
	uint8_t next_len;
	uint8_t flags;		/* R_WRAP, R_OPT_OUT, R_CUT */
	uint8_t nkpre[KPRE_LEN];
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
	/* the SOA record in data (record_blobs: the check found one; else
	 * rr_len 0) and its owner's length */
	uint16_t rr_at, rr_len;
	uint8_t owner_len;
	/* that record packed (cache_nsec_soa_pack()) at data + len,
	 * packed_len octets (0: none) */
	uint16_t packed_len;
	uint16_t ptr_at[2];
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
	/* NSEC3 hashes of the apex and of "*.apex" with the parameters above,
	 * worked out by the writer when they change: a name right below the
	 * apex (most NXDOMAINs) then costs a reader one hash, not three. */
	uint8_t n3_apex_h[CACHE_NSEC3_HASH_LEN];
	uint8_t n3_wild_h[CACHE_NSEC3_HASH_LEN];
	/* "*.apex" against the NSEC tree above, worked out by the writer for
	 * every state it publishes: the range at or before it and what that
	 * range says of it, whatever the time (W_*). An NXDOMAIN whose closest
	 * encloser is the apex (a random name right below it: most of them)
	 * then needs one descent, not two. */
	const struct nsec_range *wild;
	uint8_t wild_how;
};

#define W_NONE 0	/* no range, or one that proves nothing of "*.apex" */
#define W_MATCH 1	/* "*.apex" exists: its own range */
#define W_DENIED 2	/* covered, not below a cut, not an empty non-terminal */

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
	uint64_t depths;		/* depth_bit() of every zone's apex_labels */
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
	/* the zones the budget evicted most (cache_nsec_evictions()) */
	struct cache_nsec_evict_info tally[CACHE_NSEC_EVICT_TALLY];
	unsigned ntally;
	uint64_t tally_other;	/* evictions of zones that left the tally */
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

/* The zone table's bit for apexes of labels labels (the last: 63 or more). */
static inline uint64_t depth_bit(int labels)
{
	return UINT64_C(1) << (labels < 63 ? labels : 63);
}

/* A lower-cased name with zeros after it, readable a word at a time. */
struct lname {
	uint8_t n[DNS_NAME_MAX + 16];
	size_t len;
};

/* name (len octets, any letter case) into *l, a word at a time (a memcpy
 * of a variable length is a rep movs here: tens of cycles to start) */
static inline void lname_set(struct lname *l, const uint8_t *name, size_t len)
{
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		uint64_t w;

		memcpy(&w, name + k, 8);
		w = dns_lower8(w);
		memcpy(l->n + k, &w, 8);
	}
	memset(l->n + k, 0, 16);
	for (; k < len; k++)
		l->n[k] = dns_lower[name[k]];
	l->len = len;
}

/* The 128-bit product of a and b, folded: every bit of either moves bits
 * of both halves (wyhash's and mum's mix). */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	/* (the halves taken apart, not from one __int128 variable: gcc 12
	 * kept that on the stack, a store and a reload in the chain of every
	 * word of the suffix hashes) */
	uint64_t hi = (uint64_t)(((unsigned __int128)a * b) >> 64);

	return a * b ^ hi;
}

/*
 * Eight octets of name (len octets, any letter case) from pos < len,
 * lower-cased, zeros for those past its end: no octet past the end is read
 * (a word that would cross it comes from two smaller loads that overlap).
 * The names a worker asks about are the query's own octets: reading them in
 * place, lower-cased in registers, spares a copy whose octet-wide stores
 * the next word-wide loads would wait for (no store-to-load forward).
 */
static inline uint64_t name_word(const uint8_t *name, size_t len, size_t pos)
{
	size_t rem = len - pos;
	uint64_t w;

	if (rem >= 8) {
		memcpy(&w, name + pos, 8);
	} else if (rem >= 4) {
		uint32_t a, b;

		memcpy(&a, name + pos, 4);
		memcpy(&b, name + len - 4, 4);
		w = a | (uint64_t)b << (8 * (rem - 4));
	} else if (rem >= 2) {
		uint16_t a, b;

		memcpy(&a, name + pos, 2);
		memcpy(&b, name + len - 2, 2);
		w = a | (uint64_t)b << (8 * (rem - 2));
	} else {
		w = name[pos];
	}
	return dns_lower8(w);
}

/*
 * Zone-table hash, from a secret seed, so that the hash of every suffix of a
 * name (len octets, any letter case; label offsets off) comes out of one
 * pass: labels taken right to left, each with its length octet eight
 * octets at a time, lower-cased (name_word()), a word and the running state
 * multiplied (128 bits, folded), both keyed by the seed (a multiply per
 * octet, FNV's, was the worker's longest chain in a synthesized answer; a
 * 64-bit multiply and shift per word let a difference in a word's top bit
 * be cancelled in the next word whatever the seed: names colliding on
 * purpose, one cluster of the zone table). A label's last word runs on into
 * the labels to its right and zeros after the name, all part of the same
 * suffix, so h[i] depends on the suffix starting at label i alone. Only
 * h[stop..from] are computed (no zone of the table is deeper), going on
 * from x, the hash of the suffix at label from.
 */
static inline void suffix_hashes_from(uint64_t seed, uint64_t x, const uint8_t *name,
				      size_t len, const uint8_t *off, int from, int stop,
				      uint64_t *h)
{
	const uint64_t k1 = seed ^ UINT64_C(0xa0761d6478bd642f);
	const uint64_t k2 = seed ^ UINT64_C(0xe7037ed1a0b428db);

	/* (x carried in a register, not reloaded from h[]) */
	h[from] = x;
	for (int i = from - 1; i >= stop; i--) {
		for (unsigned k = 0; k <= name[off[i]]; k += 8)
			x = mum(name_word(name, len, off[i] + k) ^ k1, x ^ k2);
		h[i] = x;
	}
}

/* h[count] (the root) is the seed; suffix_hashes_from() goes on from the
 * hash of any suffix, such as a known apex's (struct nsec_zone's hash). */
static inline void suffix_hashes(uint64_t seed, const uint8_t *name, size_t len,
				 const uint8_t *off, int count, int stop, uint64_t *h)
{
	suffix_hashes_from(seed, seed, name, len, off, count, stop, h);
}

/* The 8 octets at apex (lower-cased) and at name (any letter case) equal:
 * lower-cased only when they differ (most questions come lower-cased). */
static inline bool word_eq_lower(const uint8_t *apex, const uint8_t *name)
{
	uint64_t a, b;

	memcpy(&a, apex, 8);
	memcpy(&b, name, 8);
	return a == b || a == dns_lower8(b);
}

/* Does name (len octets, any letter case) equal apex (lower-cased, as
 * long)? Inline words, not a call to memcmp: the zone found is compared on
 * every synthesized answer. From 8 octets on, the last word is the last 8
 * octets (overlapping the one before), not a shorter read. */
static inline bool apex_eq(const uint8_t *apex, const uint8_t *name, size_t len)
{
	if (len < 8)
		return name_word(apex, len, 0) == name_word(name, len, 0);
	for (size_t k = 0; k + 8 < len; k += 8)
		if (!word_eq_lower(apex + k, name + k))
			return false;
	return word_eq_lower(apex + len - 8, name + len - 8);
}

static inline uint32_t slot_of(uint64_t h, uint32_t mask)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (uint32_t)h & mask;
}

/* The zone of apex (len octets, any letter case). At most mask + 1 probes;
 * the table is at most half full. */
static inline struct nsec_zone *table_find(const struct ztable *tb,
					   uint64_t h, const uint8_t *apex,
					   size_t len)
{
	uint32_t i = slot_of(h, tb->mask);

	for (uint32_t k = 0; k <= tb->mask; k++) {
		struct nsec_zone *z = tb->slot[i];

		if (!z)
			return NULL;
		if (z->hash == h && z->apex_len == len && apex_eq(z->apex, apex, len))
			return z;
		i = (i + 1) & tb->mask;
	}
	return NULL;
}

/* wc = "*." before name (len octets); false when that is too long (then no
 * name below name exists to be proven: every one is two octets longer) */
static inline bool wild_of(uint8_t wc[DNS_NAME_MAX], const uint8_t *name, size_t len)
{
	if (len + 2 > DNS_NAME_MAX)
		return false;
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, name, len);
	return true;
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
#define KPRE_CUT (KPRE_LEN + 1)	/* nsec_key_prefix(): the encoding was cut */

/* Returns the length of the whole encoding, or KPRE_CUT when it did not fit;
 * *ends (when not NULL) gets a bit per label terminator written (bit i: out[i]). */
unsigned nsec_key_prefix(const uint8_t *name, const uint8_t *off, int labels,
			 int skip, uint8_t out[KPRE_LEN], uint32_t *ends);

static inline unsigned name_prefix(const uint8_t *name, int skip,
				   uint8_t out[KPRE_LEN])
{
	uint8_t off[DNS_LABELS_MAX + 1];

	return nsec_key_prefix(name, off, label_offsets(name, off), skip, out, NULL);
}

/*
 * A name's key prefix, as the four words at octets 0, 8, 16 and 23 (the
 * last overlaps the third, so that nothing past the 31 octets is read;
 * struct pname's w), against a node's in memory, a word at a time (x86-64:
 * little-endian, unaligned loads).
 */
_Static_assert(KPRE_LEN == 31, "kpre_diff() reads 31 octets");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kpre_diff() assumes little-endian words"
#endif
static const uint8_t kpre_at[4] = { 0, 8, 16, 23 };

/* The first of the four words where a and b differ (4: none), b's in *y. */
static inline int kpre_word_diff(const uint64_t a[4], const uint8_t *b, uint64_t *y)
{
	int i = 0;

	for (; i < 4; i++) {
		memcpy(y, b + kpre_at[i], 8);
		if (a[i] != *y)
			break;
	}
	return i;
}

/* The first octet where a and b differ, KPRE_LEN when none does. */
static inline unsigned kpre_diff(const uint64_t a[4], const uint8_t *b)
{
	uint64_t y;
	int i = kpre_word_diff(a, b, &y);

	return i == 4 ? KPRE_LEN : kpre_at[i] + (unsigned)__builtin_ctzll(a[i] ^ y) / 8;
}

/* memcmp(a's octets, b, KPRE_LEN)'s sign: from the first octet that
 * differs, taken from the two words */
static inline int kpre_cmp(const uint64_t a[4], const uint8_t *b)
{
	uint64_t y;
	int i = kpre_word_diff(a, b, &y);

	if (i == 4)
		return 0;
	unsigned s = (unsigned)__builtin_ctzll(a[i] ^ y) & ~7u;

	return (int)((a[i] >> s) & 0xff) - (int)((y >> s) & 0xff);
}

/* Does r's type bitmap have type? */
static inline bool bm_has(const struct nsec_range *r, uint16_t type)
{
	const uint8_t *bm = r->data + r->key_len + r->next_len;
	unsigned win = type >> 8, bit = type & 0xff;
	size_t p = 0;

	while (p + 2 <= r->bitmap_len) {
		unsigned w = bm[p], len = bm[p + 1];

		if (w == win)
			return bit / 8 < len &&
			       (bm[p + 2 + bit / 8] & (0x80 >> (bit % 8)));
		if (w > win)
			return false;
		p += 2 + len;
	}
	return false;
}

/* A zone cut (or DNAME) at r's owner: the names below are not in its chain. */
static inline bool bm_cut(const struct nsec_range *r)
{
	return (bm_has(r, DNS_T_NS) && !bm_has(r, DNS_T_SOA)) ||
	       bm_has(r, DNS_T_DNAME);
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

/* memcmp(a, b, CACHE_NSEC3_HASH_LEN)'s sign, from three big-endian words
 * (a call to memcmp was a tenth of a worker's NSEC3 answer: one per level
 * of three descents) */
_Static_assert(CACHE_NSEC3_HASH_LEN == 20, "hash_cmp() reads 20 octets");
static inline int hash_cmp(const uint8_t *a, const uint8_t *b)
{
	static const uint8_t at[3] = { 0, 8, 12 };

	for (int i = 0; i < 3; i++) {
		uint64_t x, y;

		memcpy(&x, a + at[i], 8);
		memcpy(&y, b + at[i], 8);
		if (x != y)
			return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
	}
	return 0;
}

static inline bool nsec3_covers(const struct nsec_range *r, const uint8_t *h)
{
	int lo = hash_cmp(r_key(r), h);
	int hi = hash_cmp(h, r_next(r));

	if (r->flags & R_WRAP)
		return lo < 0 || hi < 0;
	return lo < 0 && hi < 0;
}

/* ---- a name against the NSEC tree (the reader's proofs; the writer's
 * answer for the apex wildcard) ---- */

/*
 * A name being proven: wire form, its key prefix (nsec_key_prefix()) and
 * that encoding's length (KPRE_CUT: cut) and label ends. With the whole
 * encoding in w, most questions about the name are answered from w alone.
 * w holds the prefix as the four words kpre_diff() reads (octets 0, 8, 16
 * and 23), each stored as a word: a descent's loads of the name's side are
 * then each forwarded from one store of the same size and place. (The
 * prefix in octets, read a word at a time just after its stores, stalled
 * on the forward: 13 % of cache_nsec_lookup()'s samples at one load, ~13
 * TSC cycles of a synthesized answer on a Xeon.)
 */
struct pname {
	const uint8_t *name;
	uint64_t w[4];
	unsigned len;
	uint32_t ends;
};

/* p's w, len and ends for name (label offsets off, labels of them) at or
 * below an apex of skip labels (nsec_read.c). */
void nsec_pname_prefix(struct pname *p, const uint8_t *off, int labels, int skip);

/* The node with the greatest owner <= p's name; *eq when equal. One cache
 * line per level; the range only on a prefix tie of a cut encoding. */
static inline const struct nsec_node *pred_name(const struct nsec_node *t,
					 const struct pname *p, bool *eq)
{
	const struct nsec_node *best = NULL;

	*eq = false;
	while (t) {
		int d = kpre_cmp(p->w, t->kpre);

		/* a tie of a whole encoding with room after it: the owner's
		 * encoding ends there too (a label never starts with 0) */
		if (d == 0 && p->len >= KPRE_LEN)
			d = dns_name_cmp(p->name, r_key(t->r));
		if (d == 0) {
			*eq = true;
			return t;
		}
		if (d < 0) {
			t = t->left;
		} else {
			best = t;
			t = t->right;
		}
	}
	return best;
}

/* r's owner < p's name: does r deny it? (nsec_covers() from the prefixes) */
static inline bool covers(const struct nsec_range *r, const struct pname *p)
{
	if (r->flags & R_WRAP)
		return true;
	int d = kpre_cmp(p->w, r->nkpre);

	if (d != 0 || p->len < KPRE_LEN)
		return d < 0;
	return dns_name_cmp(p->name, r_next(r)) < 0;
}

/* r covers p's name: is r's next below it (the name an empty non-terminal)?
 * A whole encoding of the name is then a prefix of next's. */
static inline bool next_below(const struct nsec_range *r, const struct pname *p)
{
	if (r->flags & R_WRAP)
		return false;
	if (p->len <= KPRE_LEN)
		return kpre_diff(p->w, r->nkpre) >= p->len;
	return dns_name_is_subdomain(r_next(r), p->name);
}

/* A range at an ancestor of the name that is a zone cut (or DNAME): the
 * names below it are not in this chain, so it denies nothing there. */
static inline bool cut_above(const struct nsec_range *r, const struct pname *p)
{
	return (r->flags & R_CUT) && dns_name_is_subdomain(p->name, r_key(r));
}

#endif
