/*
 * cache/nsec.c: NSEC/NSEC3 range trees for aggressive negative caching (see
 * nsec.h for the threading rules), the writer side: allocation and deferred
 * freeing, the persistent AVL trees, zones, the byte budget, inserts, drops,
 * life cycle and counters. Everything here runs on the cache-writer thread
 * (the deferred frees on liburcu's call_rcu thread). The reader side,
 * cache_nsec_lookup() on worker lcores' hot path, is nsec_read.c; the
 * structs both see are in nsec_int.h. The layout and invariants below are
 * what lets the readers go without a lock.
 *
 * Layout: a zone table (open addressing, keyed by a secret-seeded hash of the
 * lower-cased apex, at most half full) points at zones; a zone points at its
 * current state (trees, counts, NSEC3 parameters, SOA). Readers reach
 * everything through two RCU pointers: the table and the zone's state.
 *
 * Invariants:
 * - Nothing a reader can reach is written after publication. The table is
 *   rebuilt beside the old one when a zone comes or goes (zones change
 *   rarely); a zone's state is replaced whole on every change.
 * - Trees are persistent AVL trees: an insert copies the nodes on its path
 *   (and none other: rotations only touch path nodes), marking copies with
 *   the operation's generation so that one operation copies a node once. The
 *   old path nodes, a replaced range and the old state go to one retire
 *   batch, freed by call_rcu; every other node is shared by old and new
 *   trees and belongs to the newest one.
 * - Every allocation an operation needs is made before it publishes, so a
 *   failed operation changes nothing (but for a zone created for it, which
 *   stays empty until cache_nsec_drop_expired()).
 * - NSEC keys are lower-cased owner names in canonical order; NSEC3 keys
 *   are the 20-octet owner hashes in octet order. Each node holds its key's
 *   order-preserving prefix (nsec_key_prefix()), so a descent reads one
 *   cache line per level. A zone has one NSEC3 parameter set; its ranges
 *   all use it.
 * - A zone's chain is consistent: no range's owner lies strictly inside
 *   another range (canonical order; NSEC3: hash order, cyclic). An insert
 *   removes, in the state it publishes, the ranges its new range
 *   contradicts: those whose owner it covers (left over from an older
 *   chain) and the one that covered its owner.
 * - Byte accounting (usable sizes, cache/mem.h) covers every allocation,
 *   including the retire batches, until the call_rcu thread frees them.
 *   The writer also keeps live, the part still published (zones, table,
 *   the store itself); the budget applies to that (see nsec.h).
 */
#define _LGPL_SOURCE
#include "nsec_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "mem.h"
#include "tsan.h"

#define TABLE_MIN_SLOTS 16
#define NSEC3_FLAG_OPT_OUT 0x01
#define B32_LABEL_LEN 32 /* base32hex of a 20-octet hash, no padding */
#define EVICT_SLACK_DIV 32 /* evicting frees 1/32 of the budget beyond need */

/* ---- allocation and deferred freeing ---- */

enum retire_kind {
	RK_NODE,
	RK_RANGE,
	RK_STATE,	/* the state struct only */
	RK_SOA,
	RK_TABLE,
	RK_TREE_NODES,	/* a whole tree's nodes, not its ranges */
	RK_TREE_ALL,	/* a whole tree's nodes and ranges */
	RK_ZONE,	/* a zone with its state, trees and SOA */
};

struct retire {
	struct rcu_head head;
	struct cache_nsec *n;
	size_t len, cap, size;
	struct {
		void *p;
		int kind;
	} e[];
};

/* size octets from the cache's allocator; *usable what is counted. */
static void *nalloc(struct cache_nsec *n, size_t size, size_t *usable)
{
	void *p = cache_mem_alloc(&n->mem, size, usable);

	if (p)
		__atomic_fetch_add(&n->bytes, *usable, __ATOMIC_RELAXED);
	return p;
}

static void nfree(struct cache_nsec *n, void *p, size_t usable)
{
	if (!p)
		return;
	cache_mem_free(p);
	__atomic_fetch_sub(&n->bytes, usable, __ATOMIC_RELAXED);
}

/*
 * Fixed-size objects are counted at the usable size measured once in
 * cache_nsec_new() (both allocators give one size per request size below
 * their large classes), so that frees need not ask the allocator.
 */
static void *nalloc_fixed(struct cache_nsec *n, size_t size, size_t usable)
{
	size_t u;
	void *p = cache_mem_alloc(&n->mem, size, &u);

	if (p)
		__atomic_fetch_add(&n->bytes, usable, __ATOMIC_RELAXED);
	return p;
}

/* jemalloc's 64-octet size class is line-aligned; glibc's malloc is not,
 * and its aligned_alloc made inserts twice as slow. */
static struct nsec_node *node_alloc(struct cache_nsec *n)
{
	return nalloc_fixed(n, NODE_SIZE, n->node_size);
}

static void node_free(struct cache_nsec *n, struct nsec_node *t)
{
	nfree(n, t, n->node_size);
}

static struct zstate *state_alloc(struct cache_nsec *n)
{
	return nalloc_fixed(n, sizeof(struct zstate), n->state_size);
}

static void state_free(struct cache_nsec *n, struct zstate *st)
{
	nfree(n, st, n->state_size);
}

static size_t table_size(uint32_t slots)
{
	return sizeof(struct ztable) + slots * sizeof(struct nsec_zone *);
}

static void table_free(struct cache_nsec *n, struct ztable *tb)
{
	nfree(n, tb, tb->size);
}

static void soa_free(struct cache_nsec *n, struct nsec_soa *s)
{
	if (s)
		nfree(n, s, s->size);
}

static void range_free(struct cache_nsec *n, const struct nsec_range *r)
{
	nfree(n, (void *)r, r->size);
}

/* Recursion depth is the tree's height (AVL: 1.44 log2 n). */
static void tree_free(struct cache_nsec *n, struct nsec_node *t, bool ranges)
{
	if (!t)
		return;
	tree_free(n, t->left, ranges);
	tree_free(n, t->right, ranges);
	if (ranges)
		range_free(n, t->r);
	node_free(n, t);
}

static void state_free_all(struct cache_nsec *n, struct zstate *st)
{
	tree_free(n, st->nsec, true);
	tree_free(n, st->nsec3, true);
	soa_free(n, st->soa);
	state_free(n, st);
}

/* What a zone holds while published (the live bytes it accounts for). */
static size_t zone_bytes(const struct cache_nsec *n, const struct nsec_zone *z)
{
	const struct zstate *st = z->state;

	return n->zone_size + n->state_size + (st->soa ? st->soa->size : 0) +
	       st->nsec_bytes + st->nsec3_bytes;
}

/* call_rcu thread: a grace period has passed since the batch was retired. */
static void retire_cb(struct rcu_head *head)
{
	struct retire *b = caa_container_of(head, struct retire, head);

	TSAN_ACQUIRE(&cache_qsbr_token);
	TSAN_ACQUIRE(b);
	struct cache_nsec *n = b->n;

	for (size_t i = 0; i < b->len; i++) {
		void *p = b->e[i].p;

		switch (b->e[i].kind) {
		case RK_NODE:
			node_free(n, p);
			break;
		case RK_RANGE:
			range_free(n, p);
			break;
		case RK_STATE:
			state_free(n, p);
			break;
		case RK_SOA:
			soa_free(n, p);
			break;
		case RK_TABLE:
			table_free(n, p);
			break;
		case RK_TREE_NODES:
			tree_free(n, p, false);
			break;
		case RK_TREE_ALL:
			tree_free(n, p, true);
			break;
		case RK_ZONE:
			state_free_all(n, ((struct nsec_zone *)p)->state);
			nfree(n, p, n->zone_size);
			break;
		default:
			abort();
		}
	}
	nfree(n, b, b->size);
	/* cache_nsec_free() frees n once rcu_barrier() has seen this end. */
	TSAN_RELEASE(n);
}

static struct retire *retire_new(struct cache_nsec *n, size_t cap)
{
	size_t u;
	struct retire *b = nalloc(n, sizeof(*b) + cap * sizeof(b->e[0]), &u);

	if (b) {
		b->n = n;
		b->len = 0;
		b->cap = cap;
		b->size = u;
	}
	return b;
}

/* An operation that failed before publishing: b was never used. */
static void retire_discard(struct cache_nsec *n, struct retire *b)
{
	if (b)
		nfree(n, b, b->size);
}

static void retire_add(struct retire *b, int kind, const void *p)
{
	if (!p)
		return;
	if (b->len == b->cap)
		abort(); /* capacity is computed from the tree: a broken bound */
	b->e[b->len].p = (void *)p;
	b->e[b->len].kind = kind;
	b->len++;
}

/* After publication: what b holds is freed once no reader can see it. */
static void retire_commit(struct cache_nsec *n, struct retire *b)
{
	if (b->len == 0) {
		nfree(n, b, b->size);
		return;
	}
	TSAN_RELEASE(b);
	urcu_qsbr_call_rcu(&b->head, retire_cb);
}

/* ---- names, NSEC3 owner labels, key prefixes ---- */

/* name's zone-table hash; its lower-cased form in *l */
static uint64_t name_hash(uint64_t seed, const uint8_t *name, struct lname *l)
{
	uint8_t off[DNS_LABELS_MAX + 1];
	uint64_t h[DNS_LABELS_MAX + 1];

	lname_set(l, name, dns_name_len(name));
	suffix_hashes(seed, l->n, l->len, off, label_offsets(l->n, off), 0, h);
	return h[0];
}

static int b32hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = dns_lower[c];
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	return -1;
}

/* The hash an NSEC3 owner label spells: 32 base32hex digits, any case. */
static bool b32hex_decode_label(const uint8_t *label,
				uint8_t out[CACHE_NSEC3_HASH_LEN])
{
	uint32_t acc = 0;
	unsigned bits = 0, o = 0;

	if (label[0] != B32_LABEL_LEN)
		return false;
	for (unsigned i = 1; i <= B32_LABEL_LEN; i++) {
		int v = b32hex_value(label[i]);

		if (v < 0)
			return false;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o == CACHE_NSEC3_HASH_LEN;
}

/* An NSEC3 key (the hash) fits the prefix whole. */
static void range_prefix(const struct nsec_range *r, bool hashed, int skip,
			 uint8_t out[KPRE_LEN])
{
	if (hashed) {
		memset(out, 0, KPRE_LEN);
		memcpy(out, r_key(r), CACHE_NSEC3_HASH_LEN);
	} else {
		name_prefix(r_key(r), skip, out);
	}
}

/* ---- persistent AVL tree (writer) ---- */

struct op {
	struct cache_nsec *n;
	struct retire *rt;
	struct nsec_node *pool;	/* preallocated nodes, linked by left */
	uint64_t gen;
	uint8_t kpre[KPRE_LEN];	/* of the range being inserted or deleted */
	bool hashed;		/* NSEC3 keys */
	const struct nsec_range *replaced; /* same owner, replaced */
};

/* Key (prefix kpre, range r) against node t: canonical or hash order. */
static int key_cmp(bool hashed, const uint8_t *kpre,
		   const struct nsec_range *r, const struct nsec_node *t)
{
	int d = memcmp(kpre, t->kpre, KPRE_LEN);

	if (d || hashed)
		return d;
	return dns_name_cmp(r_key(r), r_key(t->r));
}

static int height(const struct nsec_node *t)
{
	return t ? t->height : 0;
}

static void fix_height(struct nsec_node *t)
{
	int l = height(t->left), r = height(t->right);

	t->height = (uint8_t)(1 + (l > r ? l : r));
}

static struct nsec_node *pool_take(struct op *op)
{
	struct nsec_node *c = op->pool;

	if (!c)
		abort(); /* the pool is sized from the tree height */
	op->pool = c->left;
	c->gen = op->gen;
	return c;
}

/* A node this operation made and no longer needs. */
static void pool_give(struct op *op, struct nsec_node *c)
{
	c->left = op->pool;
	op->pool = c;
}

/* t itself if this operation made it, else a private copy (t retired). */
static struct nsec_node *own(struct op *op, struct nsec_node *t)
{
	if (t->gen == op->gen)
		return t;
	struct nsec_node *c = pool_take(op);

	c->left = t->left;
	c->right = t->right;
	c->r = t->r;
	c->height = t->height;
	memcpy(c->kpre, t->kpre, KPRE_LEN);
	retire_add(op->rt, RK_NODE, t);
	return c;
}

static struct nsec_node *rot_right(struct op *op, struct nsec_node *t)
{
	struct nsec_node *l = own(op, t->left);

	t->left = l->right;
	fix_height(t);
	l->right = t;
	fix_height(l);
	return l;
}

static struct nsec_node *rot_left(struct op *op, struct nsec_node *t)
{
	struct nsec_node *r = own(op, t->right);

	t->right = r->left;
	fix_height(t);
	r->left = t;
	fix_height(r);
	return r;
}

/* t is owned by op. At most two nodes besides t are copied. */
static struct nsec_node *balance(struct op *op, struct nsec_node *t)
{
	int bf = height(t->left) - height(t->right);

	if (bf > 1) {
		if (height(t->left->left) < height(t->left->right))
			t->left = rot_left(op, own(op, t->left));
		return rot_right(op, t);
	}
	if (bf < -1) {
		if (height(t->right->right) < height(t->right->left))
			t->right = rot_right(op, own(op, t->right));
		return rot_left(op, t);
	}
	fix_height(t);
	return t;
}

/* Recursion depth: the tree's height. */
static struct nsec_node *avl_insert(struct op *op, struct nsec_node *t,
				    const struct nsec_range *r)
{
	if (!t) {
		struct nsec_node *c = pool_take(op);

		c->left = c->right = NULL;
		c->r = r;
		c->height = 1;
		memcpy(c->kpre, op->kpre, KPRE_LEN);
		return c;
	}
	int d = key_cmp(op->hashed, op->kpre, r, t);

	t = own(op, t);
	if (d == 0) {
		retire_add(op->rt, RK_RANGE, t->r);
		op->replaced = t->r;
		t->r = r;
		return t;
	}
	if (d < 0)
		t->left = avl_insert(op, t->left, r);
	else
		t->right = avl_insert(op, t->right, r);
	return balance(op, t);
}

/* Unlinks t's leftmost node, whose range and prefix go to *r and kpre. */
static struct nsec_node *avl_take_min(struct op *op, struct nsec_node *t,
				      const struct nsec_range **r,
				      uint8_t kpre[KPRE_LEN])
{
	t = own(op, t);
	if (!t->left) {
		struct nsec_node *right = t->right;

		*r = t->r;
		memcpy(kpre, t->kpre, KPRE_LEN);
		pool_give(op, t);
		return right;
	}
	t->left = avl_take_min(op, t->left, r, kpre);
	return balance(op, t);
}

/*
 * Removes the range r (prefix op->kpre), which the tree holds, and retires
 * it. Copies at most 3 nodes per level (the path and what balance()
 * rotates). Recursion depth: the tree's height.
 */
static struct nsec_node *avl_delete(struct op *op, struct nsec_node *t,
				    const struct nsec_range *r)
{
	if (!t)
		abort(); /* the range was found in this tree */
	int d = key_cmp(op->hashed, op->kpre, r, t);

	t = own(op, t);
	if (d < 0) {
		t->left = avl_delete(op, t->left, r);
	} else if (d > 0) {
		t->right = avl_delete(op, t->right, r);
	} else {
		retire_add(op->rt, RK_RANGE, t->r);
		if (!t->left || !t->right) {
			struct nsec_node *child = t->left ? t->left : t->right;

			pool_give(op, t);
			return child;
		}
		t->right = avl_take_min(op, t->right, &t->r, t->kpre);
	}
	return balance(op, t);
}

static void pool_release(struct cache_nsec *n, struct nsec_node *p)
{
	while (p) {
		struct nsec_node *next = p->left;

		node_free(n, p);
		p = next;
	}
}

static bool pool_fill(struct op *op, size_t count)
{
	op->pool = NULL;
	for (size_t i = 0; i < count; i++) {
		struct nsec_node *c = node_alloc(op->n);

		if (!c) {
			pool_release(op->n, op->pool);
			op->pool = NULL;
			return false;
		}
		c->left = op->pool;
		op->pool = c;
	}
	return true;
}

/* ---- searches in the writer's trees (canonical or hash order) ---- */

/* Key k (prefix kpre) against range r's key. */
static int rkey_cmp(bool hashed, const uint8_t *kpre, const uint8_t *k,
		    const struct nsec_node *t)
{
	int d = memcmp(kpre, t->kpre, KPRE_LEN);

	if (d || hashed)
		return d;
	return dns_name_cmp(k, r_key(t->r));
}

/* The range with the least key > k, or NULL. */
static const struct nsec_range *succ_strict(const struct nsec_node *t,
					    bool hashed, const uint8_t *kpre,
					    const uint8_t *k)
{
	const struct nsec_range *best = NULL;

	while (t) {
		if (rkey_cmp(hashed, kpre, k, t) < 0) {
			best = t->r;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

/* The range with the greatest key < k, or NULL. */
static const struct nsec_range *pred_strict(const struct nsec_node *t,
					    bool hashed, const uint8_t *kpre,
					    const uint8_t *k)
{
	const struct nsec_range *best = NULL;

	while (t) {
		if (rkey_cmp(hashed, kpre, k, t) > 0) {
			best = t->r;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

static const struct nsec_range *first_range(const struct nsec_node *t)
{
	const struct nsec_range *r = NULL;

	for (; t; t = t->left)
		r = t->r;
	return r;
}

/* ---- zones (writer) ---- */

static uint32_t table_slots(uint32_t count)
{
	uint32_t slots = TABLE_MIN_SLOTS;

	while (slots < 2 * (uint64_t)count)
		slots <<= 1;
	return slots;
}

static struct ztable *table_build(struct cache_nsec *n, const struct ztable *old,
				  struct nsec_zone *add,
				  struct nsec_zone *const *drop, size_t ndrop)
{
	uint32_t count = old->count + (add ? 1 : 0) - (uint32_t)ndrop;
	uint32_t slots = table_slots(count);
	size_t u;
	struct ztable *tb = nalloc(n, table_size(slots), &u);

	if (!tb)
		return NULL;
	memset(tb, 0, table_size(slots));
	tb->mask = slots - 1;
	tb->count = count;
	tb->size = u;
	for (uint32_t i = 0; i <= old->mask + 1; i++) {
		struct nsec_zone *z = i <= old->mask ? old->slot[i] : add;
		bool skip = !z;

		for (size_t k = 0; !skip && k < ndrop; k++)
			skip = drop[k] == z;
		if (skip)
			continue;
		tb->depths |= depth_bit(z->apex_labels);
		uint32_t s = slot_of(z->hash, tb->mask);

		while (tb->slot[s])
			s = (s + 1) & tb->mask;
		tb->slot[s] = z;
	}
	return tb;
}

static struct nsec_zone *zone_find(const struct cache_nsec *n,
				   const uint8_t *apex)
{
	struct lname l;
	uint64_t h = name_hash(n->seed, apex, &l);

	return table_find(n->table, h, l.n, l.len);
}

static void lru_unlink(struct cache_nsec *n, struct nsec_zone *z)
{
	if (z->lru_newer)
		z->lru_newer->lru_older = z->lru_older;
	else
		n->lru_newest = z->lru_older;
	if (z->lru_older)
		z->lru_older->lru_newer = z->lru_newer;
	else
		n->lru_oldest = z->lru_newer;
	z->lru_newer = z->lru_older = NULL;
}

static void lru_push(struct cache_nsec *n, struct nsec_zone *z)
{
	z->lru_newer = NULL;
	z->lru_older = n->lru_newest;
	if (n->lru_newest)
		n->lru_newest->lru_newer = z;
	else
		n->lru_oldest = z;
	n->lru_newest = z;
}

/* z was inserted into: the last zone the budget evicts. */
static void lru_touch(struct cache_nsec *n, struct nsec_zone *z)
{
	if (n->lru_newest != z) {
		lru_unlink(n, z);
		lru_push(n, z);
	}
}

/* The zone with apex (a checked name), created and published if new. */
static int zone_get(struct cache_nsec *n, const uint8_t *apex,
		    struct nsec_zone **out)
{
	struct nsec_zone *z = zone_find(n, apex);

	if (z) {
		*out = z;
		return 0;
	}
	if (n->table->count >= n->cfg.max_zones)
		return CACHE_E_NSEC_FULL;
	z = nalloc_fixed(n, sizeof(*z), n->zone_size);
	struct zstate *st = state_alloc(n);
	struct retire *rt = retire_new(n, 1);
	struct ztable *tb = NULL;

	if (z && st && rt) {
		memset(st, 0, sizeof(*st));
		memset(z, 0, sizeof(*z));
		z->state = st;
		z->min_expire = UINT32_MAX;
		z->apex_len = (uint8_t)dns_name_copy_lower(z->apex, apex);
		z->apex_labels = (uint8_t)dns_name_labels(z->apex);
		struct lname l;

		z->hash = name_hash(n->seed, z->apex, &l);
		tb = table_build(n, n->table, z, NULL, 0);
	}
	if (!tb) {
		nfree(n, z, n->zone_size);
		if (st)
			state_free(n, st);
		retire_discard(n, rt);
		return CACHE_E_NSEC_NOMEM;
	}
	n->live += zone_bytes(n, z) + tb->size - n->table->size;
	retire_add(rt, RK_TABLE, n->table);
	PUBLISH(n->table, tb);
	retire_commit(n, rt);
	lru_push(n, z);
	*out = z;
	return 0;
}

static void tally_eviction(struct cache_nsec *n, const struct nsec_zone *z);

/* Unpublishes zones drop[0..ndrop) and retires them with the old table;
 * evicted: the budget's doing, into the eviction tally. */
static int zones_remove(struct cache_nsec *n, struct nsec_zone *const *drop,
			size_t ndrop, bool evicted)
{
	struct retire *rt = retire_new(n, ndrop + 1);
	struct ztable *tb = rt ? table_build(n, n->table, NULL, drop, ndrop)
			       : NULL;

	if (!tb) {
		retire_discard(n, rt);
		return CACHE_E_NSEC_NOMEM;
	}
	n->live -= n->table->size - tb->size;
	retire_add(rt, RK_TABLE, n->table);
	for (size_t i = 0; i < ndrop; i++) {
		n->live -= zone_bytes(n, drop[i]);
		lru_unlink(n, drop[i]);
		/* before retire_commit(): then the call_rcu thread may free it */
		if (evicted)
			tally_eviction(n, drop[i]);
		retire_add(rt, RK_ZONE, drop[i]);
	}
	PUBLISH(n->table, tb);
	retire_commit(n, rt);
	return 0;
}

/* ---- the byte budget (writer) ---- */

/* z (being removed, not yet retired) into the eviction tally (nsec.h) */
static void tally_eviction(struct cache_nsec *n, const struct nsec_zone *z)
{
	struct cache_nsec_evict_info *e = NULL;
	unsigned i;

	for (i = 0; i < n->ntally && !e; i++)
		if (dns_name_same(n->tally[i].apex, z->apex))
			e = &n->tally[i];
	if (!e && n->ntally < CACHE_NSEC_EVICT_TALLY) {
		e = &n->tally[n->ntally++];
		memset(e, 0, sizeof(*e));
	} else if (!e) {
		e = &n->tally[0];
		for (i = 1; i < n->ntally; i++)
			if (n->tally[i].evictions < e->evictions)
				e = &n->tally[i];
		n->tally_other += e->evictions;
		memset(e, 0, sizeof(*e));
	}
	if (!e->evictions)
		memcpy(e->apex, z->apex, z->apex_len);
	e->evictions++;
	e->ranges += z->state->nsec_count + z->state->nsec3_count;
}

/* What creating the zone with apex would add (0 when it exists). */
static size_t zone_cost(struct cache_nsec *n, const uint8_t *apex)
{
	if (zone_find(n, apex))
		return 0;
	uint32_t slots = table_slots(n->table->count + 1);
	size_t grow = 0;

	if (slots != n->table->mask + 1)
		grow = cache_mem_usable(&n->mem, table_size(slots)) -
		       n->table->size;
	return n->zone_size + n->state_size + grow;
}

static bool fits(struct cache_nsec *n, const uint8_t *apex, size_t need)
{
	return n->live + zone_cost(n, apex) + need <= n->cfg.max_bytes;
}

/*
 * Makes room for need more live octets in the zone with apex (a checked
 * name), which may not exist yet: first expired content everywhere, then
 * whole zones, least recently inserted into first, the target zone only
 * when no other is left. Refuses, changing nothing, when even a store
 * holding only the target zone, empty, could not take need.
 * 0, CACHE_E_NSEC_BUDGET or CACHE_E_NSEC_NOMEM.
 */
static int make_room(struct cache_nsec *n, const uint8_t *apex, size_t need,
		     uint32_t now)
{
	size_t floor = n->self_size +
		       cache_mem_usable(&n->mem, table_size(TABLE_MIN_SLOTS)) +
		       n->zone_size + n->state_size;
	int err;

	if (fits(n, apex, need))
		return 0;
	if (floor + need > n->cfg.max_bytes) {
		n->refused_inserts++;
		return CACHE_E_NSEC_BUDGET;
	}
	/* Expired content first, when min_expire says there may be some. */
	if (now >= n->min_expire) {
		n->budget_drops++;
		if ((err = cache_nsec_drop_expired(n, now)) < 0)
			return err;
		if (fits(n, apex, need))
			return 0;
	}
	/* Zones go with some slack (EVICT_SLACK_DIV), so that a full store
	 * does not rebuild its zone table on every insert. */
	struct nsec_zone *target = zone_find(n, apex);
	size_t slack = n->cfg.max_bytes / EVICT_SLACK_DIV;
	size_t nv = 0, got = 0, u;
	struct nsec_zone **victim = nalloc(n, (n->table->count + 1) *
						   sizeof(*victim), &u);

	if (!victim)
		return CACHE_E_NSEC_NOMEM;
	for (struct nsec_zone *z = n->lru_oldest; z; z = z->lru_newer) {
		if (z == target)
			continue;
		victim[nv++] = z;
		got += zone_bytes(n, z);
		if (n->live - got + zone_cost(n, apex) + need + slack <=
		    n->cfg.max_bytes)
			break;
	}
	if (n->live - got + need > n->cfg.max_bytes && target)
		victim[nv++] = target; /* alone, and still too big */
	err = nv ? zones_remove(n, victim, nv, true) : 0;
	nfree(n, victim, u);
	if (err < 0)
		return err;
	n->evicted_zones += nv;
	if (fits(n, apex, need))
		return 0;
	n->refused_inserts++;
	return CACHE_E_NSEC_BUDGET;
}

/* ---- inserting ranges (writer) ---- */

struct n3params {
	uint16_t iter;
	uint8_t salt_len;
	const uint8_t *salt;
};

static int kcmp(bool hashed, const uint8_t *a, const uint8_t *b)
{
	return hashed ? memcmp(a, b, CACHE_NSEC3_HASH_LEN) : dns_name_cmp(a, b);
}

/* Does c's key lie strictly inside r's range (cyclic for a wrap)? */
static bool inside(bool hashed, const struct nsec_range *r,
		   const struct nsec_range *c)
{
	int lo = kcmp(hashed, r_key(c), r_key(r));
	int hi = kcmp(hashed, r_key(c), r_next(r));

	if (r->flags & R_WRAP)
		return lo > 0 || hi < 0; /* NSEC: next is the apex, hi >= 0 */
	return lo > 0 && hi < 0;
}

/*
 * The ranges of tree t that the new range r (key prefix kpre) contradicts,
 * into out[] (NULL: only counted): those whose owner r covers, taken in
 * order after r's owner (around the end of the hash space for an NSEC3
 * wrap), and the one before r's owner that covers it. O(log n) per range
 * found and one more descent; the walk stops at the first range it keeps.
 */
static size_t contradicted(const struct nsec_node *t, bool hashed, int skip,
			   const struct nsec_range *r, const uint8_t *kpre,
			   const struct nsec_range **out)
{
	const uint8_t *o = r_key(r);
	const struct nsec_range *c = succ_strict(t, hashed, kpre, o);
	uint8_t kp[KPRE_LEN];
	bool wrapped = false;
	size_t k = 0;

	for (;;) {
		if (!c && hashed && !wrapped) {
			wrapped = true;
			c = first_range(t);
		}
		if (!c || (wrapped && kcmp(hashed, r_key(c), o) >= 0) ||
		    !inside(hashed, r, c))
			break;
		if (out)
			out[k] = c;
		k++;
		range_prefix(c, hashed, skip, kp);
		c = succ_strict(t, hashed, kp, r_key(c));
	}
	const struct nsec_range *p = pred_strict(t, hashed, kpre, o);

	if (!p && hashed) { /* cyclic: the last range may wrap over o */
		p = last_range(t);
		if (p && kcmp(hashed, r_key(p), o) == 0)
			p = NULL;
	}
	if (p && (hashed ? nsec3_covers(p, o) : nsec_covers(p, o)) &&
	    !inside(hashed, r, p)) {
		if (out)
			out[k] = p;
		k++;
	}
	return k;
}

static size_t state_bytes(const struct zstate *st)
{
	return (st->soa ? st->soa->size : 0) + st->nsec_bytes + st->nsec3_bytes;
}

/* The readers' NSEC3 hashes of z's apex and "*.apex" with st's parameters
 * (a name below the apex is two octets longer than "*.apex" at least, so
 * an apex too long for one has no names to prove anything for). */
static void apex_hashes(const struct nsec_zone *z, struct zstate *st)
{
	uint8_t wc[DNS_NAME_MAX];

	cache_nsec3_hash(z->apex, st->n3_salt, st->n3_salt_len, st->n3_iter, st->n3_apex_h);
	memset(st->n3_wild_h, 0, sizeof(st->n3_wild_h));
	if (wild_of(wc, z->apex, z->apex_len))
		cache_nsec3_hash(wc, st->n3_salt, st->n3_salt_len, st->n3_iter, st->n3_wild_h);
}

/* st->wild and st->wild_how for st's NSEC tree (see struct zstate): what a
 * reader's second descent would find for "*.apex", bar the clock. */
static void apex_wild(const struct nsec_zone *z, struct zstate *st)
{
	uint8_t wc[DNS_NAME_MAX], off[DNS_LABELS_MAX + 1];
	struct pname w = { .name = wc };
	bool eq;

	st->wild = NULL;
	st->wild_how = W_NONE;
	if (!st->nsec || !wild_of(wc, z->apex, z->apex_len))
		return;
	nsec_pname_prefix(&w, off, label_offsets(wc, off), z->apex_labels);
	const struct nsec_node *t = pred_name(st->nsec, &w, &eq);

	if (!t)
		return;
	st->wild = t->r;
	if (eq)
		st->wild_how = W_MATCH;
	else if (covers(t->r, &w) && !cut_above(t->r, &w) && !next_below(t->r, &w))
		st->wild_how = W_DENIED;
}

/*
 * Inserts r into z's NSEC (p NULL) or NSEC3 tree, removes the ranges it
 * contradicts, and publishes a new state. NSEC3 parameters other than the
 * zone's start a new tree. On failure r is freed and nothing changes.
 */
static int insert_range(struct cache_nsec *n, struct nsec_zone *z,
			struct nsec_range *r, const struct n3params *p)
{
	struct zstate *old = z->state;
	bool hashed = p != NULL;
	struct nsec_node *root = hashed ? old->nsec3 : old->nsec;
	size_t count = hashed ? old->nsec3_count : old->nsec_count;
	size_t tbytes = hashed ? old->nsec3_bytes : old->nsec_bytes;
	bool reset = hashed && root &&
		     (p->iter != old->n3_iter || p->salt_len != old->n3_salt_len ||
		      memcmp(p->salt, old->n3_salt, p->salt_len) != 0);
	struct op op = { .n = n, .hashed = hashed };
	const struct nsec_range **prune = NULL;
	size_t nprune, prune_u = 0;

	if (reset) {
		root = NULL;
		count = 0;
		tbytes = 0;
	}
	range_prefix(r, hashed, z->apex_labels, op.kpre);
	nprune = contradicted(root, hashed, z->apex_labels, r, op.kpre, NULL);
	size_t h = (size_t)height(root);
	/* An insert copies the nodes on its path (at most h: rotations only
	 * touch path nodes) and adds one; a delete copies at most 3 per level
	 * (the path, and what a rotation takes from the other side). No node
	 * is copied twice in one operation, so count + 1 bounds them all. */
	size_t pool = h + 1 + nprune * (3 * h + 1);

	if (pool > count + 1)
		pool = count + 1;
	struct zstate *st = state_alloc(n);

	op.rt = retire_new(n, pool + nprune + 8);
	if (nprune)
		prune = nalloc(n, nprune * sizeof(*prune), &prune_u);
	if (!st || !op.rt || (nprune && !prune) || !pool_fill(&op, pool)) {
		if (st)
			state_free(n, st);
		retire_discard(n, op.rt);
		nfree(n, prune, prune_u);
		range_free(n, r);
		return CACHE_E_NSEC_NOMEM;
	}
	contradicted(root, hashed, z->apex_labels, r, op.kpre, prune);
	op.gen = ++n->gen;
	for (size_t i = 0; i < nprune; i++) {
		range_prefix(prune[i], hashed, z->apex_labels, op.kpre);
		tbytes -= prune[i]->size + n->node_size;
		root = avl_delete(&op, root, prune[i]);
	}
	nfree(n, prune, prune_u);
	range_prefix(r, hashed, z->apex_labels, op.kpre);
	root = avl_insert(&op, root, r);
	tbytes += r->size;
	tbytes -= op.replaced ? op.replaced->size : 0;
	tbytes += op.replaced ? 0 : n->node_size;
	count = count - nprune + !op.replaced;
	*st = *old;
	if (hashed) {
		st->nsec3 = root;
		st->nsec3_count = (uint32_t)count;
		st->nsec3_bytes = tbytes;
		st->n3_iter = p->iter;
		st->n3_salt_len = p->salt_len;
		memcpy(st->n3_salt, p->salt, p->salt_len);
		if (reset || !old->nsec3)
			apex_hashes(z, st);
		if (reset)
			retire_add(op.rt, RK_TREE_ALL, old->nsec3);
	} else {
		st->nsec = root;
		apex_wild(z, st);
		st->nsec_count = (uint32_t)count;
		st->nsec_bytes = tbytes;
	}
	n->live = n->live - state_bytes(old) + state_bytes(st);
	n->pruned_ranges += nprune;
	if (r->expire_at < z->min_expire)
		z->min_expire = r->expire_at;
	if (r->expire_at < n->min_expire)
		n->min_expire = r->expire_at;
	retire_add(op.rt, RK_STATE, old);
	PUBLISH(z->state, st);
	pool_release(n, op.pool);
	retire_commit(n, op.rt);
	return 0;
}

static struct nsec_range *range_new(struct cache_nsec *n, size_t key_len,
				    size_t next_len, size_t bitmap_len,
				    const uint8_t *blob, size_t blob_len,
				    uint32_t expire_at)
{
	size_t size = offsetof(struct nsec_range, data) + key_len + next_len +
		      bitmap_len + blob_len, u;
	struct nsec_range *r = nalloc(n, size, &u);

	if (!r)
		return NULL;
	r->expire_at = expire_at;
	r->size = (uint32_t)u;
	r->blob_len = (uint16_t)blob_len;
	r->bitmap_len = (uint16_t)bitmap_len;
	r->key_len = (uint8_t)key_len;
	r->next_len = (uint8_t)next_len;
	r->flags = 0;
	memset(r->nkpre, 0, KPRE_LEN);
	memcpy(r->data + key_len + next_len + bitmap_len, blob, blob_len);
	return r;
}

/* What may be in a record blob (an OPT, say, would break the answer it is
 * copied into) */
static bool blob_type(uint16_t type)
{
	return type == DNS_T_SOA || type == DNS_T_NSEC || type == DNS_T_NSEC3 ||
	       type == DNS_T_RRSIG;
}

int cache_nsec_check_records(const uint8_t *blob, size_t len, const uint8_t *soa_zone)
{
	unsigned soas = 0;

	if (!blob || len == 0 || len > CACHE_NSEC_BLOB_MAX)
		return CACHE_E_NSEC_BLOB;
	for (size_t pos = 0; pos < len;) {
		/* RDATA goes out as it is: a name in it must be whole (a
		 * pointer would point into someone else's message) */
		int nl = dns_name_check(blob + pos, len - pos);
		if (nl < 0 || pos + (size_t)nl + 10 > len)
			return CACHE_E_NSEC_BLOB;
		const uint8_t *f = blob + pos + nl;
		uint16_t type = dns_get16(f), rdlen = dns_get16(f + 8);
		if (pos + (size_t)nl + 10 + rdlen > len || !blob_type(type) ||
		    dns_rdata_check_flat(type, f + 10, rdlen) < 0)
			return CACHE_E_NSEC_BLOB;
		/* an SOA blob: one SOA, the zone's own; a range's: none (an
		 * answer without its SOA, or with two, says something else) */
		if (type == DNS_T_SOA &&
		    (!soa_zone || soas++ || !dns_name_equal(blob + pos, soa_zone)))
			return CACHE_E_NSEC_BLOB;
		pos += (size_t)nl + 10 + rdlen;
	}
	return soa_zone && !soas ? CACHE_E_NSEC_BLOB : 0;
}

void cache_nsec_soa_rr(const uint8_t *blob, size_t len, uint16_t *at, uint16_t *rr_len,
		       uint8_t *owner_len)
{
	for (size_t pos = 0; pos < len;) {
		size_t nl = dns_name_len(blob + pos);
		size_t l = nl + 10 + dns_get16(blob + pos + nl + 8);

		if (dns_get16(blob + pos + nl) == DNS_T_SOA) {
			*at = (uint16_t)pos;
			*rr_len = (uint16_t)l;
			*owner_len = (uint8_t)nl;
			return;
		}
		pos += l;
	}
}

/* Name (whole) packed for zone into out: its labels above the zone and a
 * pointer (0xc000) when it is at or below it, else as it is. Its length;
 * *ptr the pointer's offset from out, or 0. */
static size_t pack_name(const uint8_t *name, const uint8_t *zone, size_t zone_len,
			uint8_t *out, size_t at, uint16_t *ptr)
{
	size_t len = dns_name_len(name);

	*ptr = 0;
	if (!dns_name_is_subdomain(name, zone)) {
		memcpy(out, name, len);
		return len;
	}
	size_t above = len - zone_len;

	memcpy(out, name, above);
	dns_put16(out + above, 0xc000);
	*ptr = (uint16_t)(at + above);
	return above + 2;
}

/* TYPE, CLASS, TTL and RDLENGTH after an owner; SOA's fixed RDATA after
 * its names (SERIAL to MINIMUM) */
#define RR_FIXED 10
#define SOA_FIXED 20

size_t cache_nsec_soa_pack(const uint8_t *rr, size_t owner_len, const uint8_t *zone,
			   uint8_t *out, uint16_t ptr_at[2])
{
	size_t zone_len = dns_name_len(zone);

	ptr_at[0] = ptr_at[1] = 0;
	if (zone_len == 1)
		return 0;
	const uint8_t *rd = rr + owner_len + RR_FIXED;
	size_t mlen = dns_name_len(rd), rlen = dns_name_len(rd + mlen);
	size_t o = 2 + RR_FIXED;

	dns_put16(out, 0xc000);
	memcpy(out + 2, rr + owner_len, RR_FIXED);
	o += pack_name(rd, zone, zone_len, out + o, o, &ptr_at[0]);
	o += pack_name(rd + mlen, zone, zone_len, out + o, o, &ptr_at[1]);
	memcpy(out + o, rd + mlen + rlen, SOA_FIXED);
	o += SOA_FIXED;
	dns_put16(out + 2 + 8, (uint16_t)(o - 2 - RR_FIXED));
	return o;
}

/* A blob of n's: 1..CACHE_NSEC_BLOB_MAX octets; with record_blobs, records
 * (cache_nsec_check_records(); soa_zone: an SOA blob's zone, NULL for a
 * range's). */
static int check_blob(const struct cache_nsec *n, const uint8_t *blob, size_t blob_len,
		      const uint8_t *soa_zone)
{
	if (!blob || blob_len == 0 || blob_len > CACHE_NSEC_BLOB_MAX)
		return DNS_E_INVAL;
	return n->cfg.record_blobs ? cache_nsec_check_records(blob, blob_len, soa_zone) : 0;
}

/* A built range r goes into the zone with apex zone: room, zone, tree. */
static int insert_built(struct cache_nsec *n, const uint8_t *zone,
			struct nsec_range *r, const struct n3params *p,
			uint32_t now)
{
	struct nsec_zone *z;
	int err = make_room(n, zone, r->size + n->node_size, now);

	if (err == 0)
		err = zone_get(n, zone, &z);
	if (err < 0) {
		range_free(n, r);
		return err;
	}
	lru_touch(n, z);
	return insert_range(n, z, r, p);
}

int cache_nsec_insert(struct cache_nsec *n, const uint8_t *zone,
		      const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		      uint32_t expire_at, const uint8_t *blob, size_t blob_len,
		      uint32_t now)
{
	int r;

	if (!zone || !owner || !rdata)
		return DNS_E_INVAL;
	if ((r = dns_name_check(zone, DNS_NAME_MAX)) < 0 ||
	    (r = dns_name_check(owner, DNS_NAME_MAX)) < 0 ||
	    (r = dns_rdata_check_flat(DNS_T_NSEC, rdata, rdlen)) < 0 ||
	    (r = check_blob(n, blob, blob_len, NULL)) < 0)
		return r;
	if (rdlen > UINT16_MAX)
		return DNS_E_RDATA_LEN;
	const uint8_t *next = rdata;
	size_t next_len = dns_name_len(next);
	size_t owner_len = dns_name_len(owner);
	int order = dns_name_cmp(owner, next);
	int zone_labels = dns_name_labels(zone);

	if (!dns_name_is_subdomain(owner, zone) ||
	    !dns_name_is_subdomain(next, zone) ||
	    (order >= 0 && !dns_name_equal(next, zone)))
		return CACHE_E_NSEC_ZONE;

	struct nsec_range *rg = range_new(n, owner_len, next_len,
					  rdlen - next_len, blob, blob_len,
					  expire_at);
	if (!rg)
		return CACHE_E_NSEC_NOMEM;
	dns_name_copy_lower(rg->data, owner);
	dns_name_copy_lower(rg->data + owner_len, next);
	memcpy(rg->data + owner_len + next_len, rdata + next_len,
	       rdlen - next_len);
	rg->flags = order >= 0 ? R_WRAP : 0;
	if (bm_cut(rg))
		rg->flags |= R_CUT;
	name_prefix(r_next(rg), zone_labels, rg->nkpre);
	return insert_built(n, zone, rg, NULL, now);
}

int cache_nsec3_insert(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *owner, const uint8_t *rdata,
		       size_t rdlen, uint32_t expire_at, const uint8_t *blob,
		       size_t blob_len, uint32_t now)
{
	uint8_t hash[CACHE_NSEC3_HASH_LEN];
	int r;

	if (!zone || !owner || !rdata)
		return DNS_E_INVAL;
	if ((r = dns_name_check(zone, DNS_NAME_MAX)) < 0 ||
	    (r = dns_name_check(owner, DNS_NAME_MAX)) < 0 ||
	    (r = dns_rdata_check_flat(DNS_T_NSEC3, rdata, rdlen)) < 0 ||
	    (r = check_blob(n, blob, blob_len, NULL)) < 0)
		return r;
	if (rdlen > UINT16_MAX)
		return DNS_E_RDATA_LEN;
	uint8_t alg = rdata[0], flags = rdata[1];
	struct n3params p = {
		.iter = dns_get16(rdata + 2),
		.salt_len = rdata[4],
		.salt = rdata + 5,
	};
	size_t hash_len = rdata[5 + p.salt_len];
	const uint8_t *next = rdata + 6 + p.salt_len;
	size_t fixed = 6 + (size_t)p.salt_len + hash_len;

	if (alg != DNS_NSEC3_SHA1 || hash_len != CACHE_NSEC3_HASH_LEN)
		return CACHE_E_NSEC_ALG;
	if (flags & ~NSEC3_FLAG_OPT_OUT)
		return CACHE_E_NSEC_FLAGS;
	if (p.iter > n->cfg.nsec3_max_iterations)
		return CACHE_E_NSEC_ITER;
	if (!b32hex_decode_label(owner, hash) ||
	    !dns_name_equal(owner + 1 + owner[0], zone))
		return CACHE_E_NSEC_ZONE;

	struct nsec_range *rg = range_new(n, CACHE_NSEC3_HASH_LEN,
					  CACHE_NSEC3_HASH_LEN, rdlen - fixed,
					  blob, blob_len, expire_at);
	if (!rg)
		return CACHE_E_NSEC_NOMEM;
	memcpy(rg->data, hash, CACHE_NSEC3_HASH_LEN);
	memcpy(rg->data + CACHE_NSEC3_HASH_LEN, next, CACHE_NSEC3_HASH_LEN);
	memcpy(rg->data + 2 * CACHE_NSEC3_HASH_LEN, rdata + fixed,
	       rdlen - fixed);
	rg->flags = (flags & NSEC3_FLAG_OPT_OUT) ? R_OPT_OUT : 0;
	if (memcmp(hash, next, CACHE_NSEC3_HASH_LEN) >= 0)
		rg->flags |= R_WRAP;
	return insert_built(n, zone, rg, &p, now);
}

int cache_nsec_set_soa(struct cache_nsec *n, const uint8_t *zone,
		       const uint8_t *blob, size_t blob_len,
		       uint32_t expire_at, uint32_t now)
{
	struct nsec_zone *z;
	size_t u;
	int r;

	if (!zone)
		return DNS_E_INVAL;
	if ((r = dns_name_check(zone, DNS_NAME_MAX)) < 0 ||
	    (r = check_blob(n, blob, blob_len, zone)) < 0)
		return r;
	uint16_t rr_at = 0, rr_len = 0, ptr_at[2] = { 0, 0 };
	uint8_t owner_len = 0, packed[CACHE_NSEC_SOA_MAX];
	size_t packed_len = 0;

	/* (a checked blob holds the zone's SOA record, names whole) */
	if (n->cfg.record_blobs) {
		cache_nsec_soa_rr(blob, blob_len, &rr_at, &rr_len, &owner_len);
		packed_len = cache_nsec_soa_pack(blob + rr_at, owner_len, zone, packed, ptr_at);
	}
	struct nsec_soa *soa = nalloc(n, sizeof(*soa) + blob_len + packed_len, &u);

	if (!soa)
		return CACHE_E_NSEC_NOMEM;
	soa->expire_at = expire_at;
	soa->size = (uint32_t)u;
	soa->len = (uint16_t)blob_len;
	soa->rr_at = rr_at;
	soa->rr_len = rr_len;
	soa->owner_len = owner_len;
	soa->packed_len = (uint16_t)packed_len;
	soa->ptr_at[0] = ptr_at[0];
	soa->ptr_at[1] = ptr_at[1];
	memcpy(soa->data, blob, blob_len);
	memcpy(soa->data + blob_len, packed, packed_len);
	if ((r = make_room(n, zone, u, now)) < 0 ||
	    (r = zone_get(n, zone, &z)) < 0) {
		soa_free(n, soa);
		return r;
	}
	struct zstate *st = state_alloc(n);
	struct retire *rt = retire_new(n, 2);

	if (!st || !rt) {
		soa_free(n, soa);
		if (st)
			state_free(n, st);
		retire_discard(n, rt);
		return CACHE_E_NSEC_NOMEM;
	}
	*st = *z->state;
	st->soa = soa;
	n->live = n->live - state_bytes(z->state) + state_bytes(st);
	if (expire_at < z->min_expire)
		z->min_expire = expire_at;
	if (expire_at < n->min_expire)
		n->min_expire = expire_at;
	lru_touch(n, z);
	retire_add(rt, RK_SOA, z->state->soa);
	retire_add(rt, RK_STATE, z->state);
	PUBLISH(z->state, st);
	retire_commit(n, rt);
	return 0;
}

/* ---- dropping (writer) ---- */

/* Expired ranges of t; *min gets the least expire_at of the others. */
static size_t count_expired(const struct nsec_node *t, uint32_t now,
			    uint32_t *min)
{
	if (!t)
		return 0;
	bool dead = now >= t->r->expire_at;

	if (!dead && t->r->expire_at < *min)
		*min = t->r->expire_at;
	return dead + count_expired(t->left, now, min) +
	       count_expired(t->right, now, min);
}

/* In order: live ranges to keep[], expired ones to rt; *bytes gets the
 * expired ones' sizes. */
static void split_live(const struct nsec_node *t, uint32_t now,
		       const struct nsec_range **keep, size_t *nkeep,
		       struct retire *rt, size_t *bytes)
{
	if (!t)
		return;
	split_live(t->left, now, keep, nkeep, rt, bytes);
	if (now >= t->r->expire_at) {
		retire_add(rt, RK_RANGE, t->r);
		*bytes += t->r->size;
	} else {
		keep[(*nkeep)++] = t->r;
	}
	split_live(t->right, now, keep, nkeep, rt, bytes);
}

/* A perfectly balanced tree of r[0..count) from the pool. */
static struct nsec_node *build_balanced(struct op *op, int skip,
					const struct nsec_range **r,
					size_t count)
{
	if (count == 0)
		return NULL;
	size_t mid = count / 2;
	struct nsec_node *t = pool_take(op);

	t->r = r[mid];
	range_prefix(r[mid], op->hashed, skip, t->kpre);
	t->left = build_balanced(op, skip, r, mid);
	t->right = build_balanced(op, skip, r + mid + 1, count - mid - 1);
	fix_height(t);
	return t;
}

/*
 * The live part of tree t (count ranges, dead of them expired) into *out;
 * old nodes and dead ranges go to rt, and *bytes drops by what they held.
 * False when out of memory (nothing retired then).
 */
static bool rebuild_live(struct cache_nsec *n, const struct nsec_zone *z,
			 bool hashed, struct nsec_node *t, size_t count,
			 size_t dead, uint32_t now, struct retire *rt,
			 struct nsec_node **out, size_t *bytes)
{
	size_t live = count - dead, got = 0, u = 0, gone = 0;
	const struct nsec_range **keep = NULL;
	struct op op = { .n = n, .gen = ++n->gen, .hashed = hashed };

	if (live && !(keep = nalloc(n, live * sizeof(*keep), &u)))
		return false;
	if (!pool_fill(&op, live)) {
		nfree(n, keep, u);
		return false;
	}
	split_live(t, now, keep, &got, rt, &gone);
	if (got != live)
		abort();
	*out = build_balanced(&op, z->apex_labels, keep, live);
	retire_add(rt, RK_TREE_NODES, t);
	nfree(n, keep, u);
	*bytes -= gone + dead * n->node_size;
	return true;
}

/*
 * One zone's expired content: its state is replaced, or *gone is set when
 * nothing would be left (the caller unpublishes the zone). Ranges dropped,
 * or CACHE_E_NSEC_NOMEM. Zones whose min_expire is later than now are not
 * walked.
 */
static int zone_drop_expired(struct cache_nsec *n, struct nsec_zone *z,
			     uint32_t now, bool *gone)
{
	struct zstate *old = z->state;
	uint32_t min = UINT32_MAX;

	*gone = false;
	if (now < z->min_expire &&
	    (old->nsec_count || old->nsec3_count || old->soa))
		return 0;
	size_t d1 = count_expired(old->nsec, now, &min);
	size_t d3 = count_expired(old->nsec3, now, &min);
	bool soa_dead = old->soa && now >= old->soa->expire_at;

	if (old->soa && !soa_dead && old->soa->expire_at < min)
		min = old->soa->expire_at;
	if (d1 == old->nsec_count && d3 == old->nsec3_count &&
	    (!old->soa || soa_dead)) {
		*gone = true;
		return (int)(d1 + d3);
	}
	if (d1 == 0 && d3 == 0 && !soa_dead) {
		z->min_expire = min;
		return 0;
	}
	struct zstate *st = state_alloc(n);
	struct retire *rt = retire_new(n, d1 + d3 + 4);
	struct nsec_node *t1 = old->nsec, *t3 = old->nsec3;
	size_t b1 = old->nsec_bytes, b3 = old->nsec3_bytes;

	if (!st || !rt)
		goto nomem;
	if (d1 && !rebuild_live(n, z, false, old->nsec, old->nsec_count, d1,
				now, rt, &t1, &b1))
		goto nomem;
	if (d3 && !rebuild_live(n, z, true, old->nsec3, old->nsec3_count, d3,
				now, rt, &t3, &b3)) {
		if (d1) /* undo the first rebuild: nothing is published yet */
			tree_free(n, t1, false);
		goto nomem;
	}
	*st = *old;
	st->nsec = t1;
	if (d1)
		apex_wild(z, st);
	st->nsec3 = t3;
	st->nsec_count = old->nsec_count - (uint32_t)d1;
	st->nsec3_count = old->nsec3_count - (uint32_t)d3;
	st->nsec_bytes = b1;
	st->nsec3_bytes = b3;
	if (soa_dead) {
		retire_add(rt, RK_SOA, old->soa);
		st->soa = NULL;
	}
	n->live = n->live - state_bytes(old) + state_bytes(st);
	z->min_expire = min;
	retire_add(rt, RK_STATE, old);
	PUBLISH(z->state, st);
	retire_commit(n, rt);
	return (int)(d1 + d3);
nomem:
	if (st)
		state_free(n, st);
	retire_discard(n, rt);
	return CACHE_E_NSEC_NOMEM;
}

int cache_nsec_drop_expired(struct cache_nsec *n, uint32_t now)
{
	struct ztable *tb = n->table;
	struct nsec_zone **gone = NULL;
	size_t ngone = 0, u = 0;
	int dropped = 0, err = 0;
	uint32_t min = UINT32_MAX;

	if (tb->count)
		gone = nalloc(n, tb->count * sizeof(*gone), &u);
	for (uint32_t i = 0; i <= tb->mask; i++) {
		struct nsec_zone *z = tb->slot[i];
		bool g;

		if (!z)
			continue;
		int r = zone_drop_expired(n, z, now, &g);

		if (r < 0) {
			err = r;
			min = 0; /* not swept: it may hold expired content */
			continue;
		}
		if (!g || !gone)
			min = z->min_expire < min ? z->min_expire : min;
		if (g && gone) {
			gone[ngone++] = z;
			dropped += r;
		} else if (!g) {
			dropped += r;
		}
	}
	if (ngone && (err = zones_remove(n, gone, ngone, false)) < 0)
		for (size_t i = 0; i < ngone; i++)
			dropped -= (int)(gone[i]->state->nsec_count +
					 gone[i]->state->nsec3_count);
	nfree(n, gone, u);
	if (err == 0)
		n->min_expire = min;
	return err < 0 ? err : dropped;
}

int cache_nsec_drop_zone(struct cache_nsec *n, const uint8_t *zone)
{
	if (!zone || dns_name_check(zone, DNS_NAME_MAX) < 0)
		return DNS_E_INVAL;
	struct nsec_zone *z = zone_find(n, zone);

	if (!z)
		return CACHE_E_NSEC_NOZONE;
	return zones_remove(n, &z, 1, false);
}

int cache_nsec_flush(struct cache_nsec *n)
{
	struct ztable *tb = n->table;
	struct nsec_zone **all;
	size_t k = 0, u = 0;

	if (!tb->count)
		return 0;
	if (!(all = nalloc(n, tb->count * sizeof(*all), &u)))
		return CACHE_E_NSEC_NOMEM;
	for (uint32_t i = 0; i <= tb->mask; i++)
		if (tb->slot[i])
			all[k++] = tb->slot[i];
	int r = zones_remove(n, all, k, false);
	nfree(n, all, u);
	return r < 0 ? r : (int)k;
}

int cache_nsec_flush_under(struct cache_nsec *n, const uint8_t *name, bool below)
{
	struct ztable *tb = n->table;
	struct nsec_zone **all, *encloser = NULL;
	size_t k = 0, u = 0;

	if (!name || dns_name_check(name, DNS_NAME_MAX) < 0)
		return DNS_E_INVAL;
	if (!tb->count)
		return 0;
	if (!(all = nalloc(n, tb->count * sizeof(*all), &u)))
		return CACHE_E_NSEC_NOMEM;
	for (uint32_t i = 0; i <= tb->mask; i++) {
		struct nsec_zone *z = tb->slot[i];

		if (!z)
			continue;
		if (below ? dns_name_is_subdomain(z->apex, name) : dns_name_equal(z->apex, name))
			all[k++] = z;
		else if (dns_name_is_subdomain(name, z->apex) &&
			 (!encloser || z->apex_labels > encloser->apex_labels))
			encloser = z;
	}
	if (encloser)
		all[k++] = encloser;
	int r = k ? zones_remove(n, all, k, false) : 0;
	nfree(n, all, u);
	return r < 0 ? r : (int)k;
}

/* ---- life cycle, counters ---- */

void cache_nsec_config_default(struct cache_nsec_config *cfg)
{
	cfg->nsec3_max_iterations = CACHE_NSEC3_ITER_MAX_DEFAULT;
	cfg->nsec3_hash_budget = CACHE_NSEC3_HASH_BUDGET_DEFAULT;
	cfg->max_zones = CACHE_NSEC_ZONES_MAX_DEFAULT;
	cfg->max_bytes = CACHE_NSEC_BYTES_MAX_DEFAULT;
	cfg->record_blobs = false;
}

struct cache_nsec *cache_nsec_new(const struct cache_nsec_config *cfg)
{
	struct cache_mem mem;
	size_t u;
	struct cache_nsec *n;

	if (cache_mem_init(&mem) != 0 ||
	    !(n = cache_mem_alloc(&mem, sizeof(*n), &u)))
		return NULL;
	memset(n, 0, sizeof(*n));
	n->mem = mem;
	n->bytes = u;
	n->self_size = u;
	n->node_size = cache_mem_usable(&mem, NODE_SIZE);
	n->state_size = cache_mem_usable(&mem, sizeof(struct zstate));
	n->zone_size = cache_mem_usable(&mem, sizeof(struct nsec_zone));
	if (cfg)
		n->cfg = *cfg;
	else
		cache_nsec_config_default(&n->cfg);
	if (n->cfg.nsec3_hash_budget < 2)
		n->cfg.nsec3_hash_budget = 2;
	if (getrandom(&n->seed, sizeof(n->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(n->seed))
		n->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)n;
	n->table = nalloc(n, table_size(TABLE_MIN_SLOTS), &u);
	if (!n->table) {
		cache_mem_free(n);
		return NULL;
	}
	memset(n->table, 0, table_size(TABLE_MIN_SLOTS));
	n->table->mask = TABLE_MIN_SLOTS - 1;
	n->table->size = u;
	n->live = n->self_size + u;
	n->min_expire = UINT32_MAX;
	return n;
}

void cache_nsec_free(struct cache_nsec *n)
{
	if (!n)
		return;
	urcu_qsbr_barrier();
	TSAN_ACQUIRE(n);
	for (uint32_t i = 0; i <= n->table->mask; i++) {
		struct nsec_zone *z = n->table->slot[i];

		if (z) {
			state_free_all(n, z->state);
			nfree(n, z, n->zone_size);
		}
	}
	table_free(n, n->table);
	cache_mem_free(n);
}

size_t cache_nsec_bytes(const struct cache_nsec *n)
{
	return __atomic_load_n(&n->bytes, __ATOMIC_RELAXED);
}

void cache_nsec_get_stats(const struct cache_nsec *n,
			  struct cache_nsec_stats *st)
{
	const struct ztable *tb = DEREF(n->table);

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i <= tb->mask; i++) {
		const struct nsec_zone *z = tb->slot[i];

		if (!z)
			continue;
		const struct zstate *s = DEREF(z->state);

		st->zones++;
		st->nsec_ranges += s->nsec_count;
		st->nsec3_ranges += s->nsec3_count;
		if ((uint64_t)height(s->nsec) > st->max_height)
			st->max_height = (uint64_t)height(s->nsec);
		if ((uint64_t)height(s->nsec3) > st->max_height)
			st->max_height = (uint64_t)height(s->nsec3);
	}
	st->bytes = cache_nsec_bytes(n);
	st->live_bytes = n->live;
	st->evicted_zones = n->evicted_zones;
	st->pruned_ranges = n->pruned_ranges;
	st->refused_inserts = n->refused_inserts;
	st->budget_drops = n->budget_drops;
}
