/*
 * cache/msgcache.c: the message cache (see msgcache.h for the threading
 * rules and invariants). Readers: cache_key_init, cache_lookup_burst,
 * cache_answer, cache_nxdomain_cut, on worker lcores' hot path (no lock, no
 * allocation, no syscall). Everything else: the cache-writer thread.
 *
 * Index: a power-of-two array of 64-octet buckets of CACHE_BUCKET_SLOTS
 * slots; a slot is a 16-bit tag in the top bits over a 48-bit entry pointer,
 * written by the writer with one atomic store, so readers see a whole slot
 * or none. A key may live in two buckets (the second chosen from other hash
 * bits); when both are full the writer evicts one of their 16 entries. A
 * table that grows is rebuilt beside the old one and published by one
 * pointer store; the old one is freed after a grace period.
 *
 * The hash is keyed with a random secret: qnames come from attackers, and
 * with bounded buckets a flood of colliding names can only evict, never make
 * a lookup slower.
 */
#define _LGPL_SOURCE
#include "msgcache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <urcu/urcu-qsbr.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"
#include "mem.h"

/*
 * ThreadSanitizer cannot see liburcu's grace periods (its atomics are inline
 * assembly), so in TSan builds the RCU contract is spelt out: every
 * quiescent state releases qsbr_token, and a callback that frees memory
 * after a grace period acquires it (and the object it frees).
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define TSAN_ACQUIRE(p) ((void)(p))
#define TSAN_RELEASE(p) ((void)(p))
#endif
static int qsbr_token;

#define PTR_BITS 48
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)
#define TABLE_MIN_BUCKETS 64
#define CUT_QTYPE 0	     /* key type of RFC 8020 NXDOMAIN cut markers */
#define OPT_LEN 11	     /* our OPT: root owner, fixed part, no options */
#define EVICT_SCAN_FACTOR 2  /* CLOCK visits each slot at most this often */

struct cache_bucket {
	uint64_t slot[CACHE_BUCKET_SLOTS];
} __attribute__((aligned(64)));

/* Written once by the writer before publication; read-only afterwards. */
struct cache_table {
	struct rcu_head rcu;
	uint64_t mask;		/* buckets - 1 */
	size_t bytes;
	struct cache_bucket *b;
};

/*
 * Immutable once published, except refresh_at and ref (see msgcache.h).
 * data[]: the lower-cased qname, padding to 4, the original TTLs (uint32),
 * the TTL field offsets within the sections (uint16), the sections.
 */
struct cache_entry {
	struct rcu_head rcu;
	uint64_t hash;
	uint32_t inserted;
	uint32_t expire;	/* fresh while now < expire */
	uint32_t stale_until;	/* answerable while now < stale_until */
	uint32_t prefetch_at;	/* a fresh hit from here on wants a refresh */
	uint32_t refresh_at;	/* atomic: 1 + when a reader last asked for one */
	uint32_t bytes;
	uint8_t ref;		/* atomic: CLOCK reference bit */
	uint8_t rank;
	uint8_t rcode;
	uint8_t do_bit;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t flags;		/* header bits the answer carries (AD) */
	uint8_t policy_verdict;	/* response policy: 0 until policy exists */
	uint32_t policy_gen;	/* the policy snapshot the verdict is from */
	uint16_t count[3];	/* ANCOUNT, NSCOUNT, ARCOUNT */
	uint16_t nttl;
	uint16_t sec_len;
	uint8_t name_len;
	uint8_t data[];
};

/* Only the writer writes this struct; readers read cfg, seed and table. */
struct cache {
	struct cache_config cfg;
	uint64_t seed[2];
	struct cache_table *table; /* RCU-published (atomic store/load) */
	struct cache_mem mem;
	struct cache_stats st;
	size_t entry_bytes;
	uint64_t hand;		   /* CLOCK position: bucket * slots + slot */
};

void cache_config_default(struct cache_config *cfg)
{
	*cfg = (struct cache_config){
		.max_bytes = (size_t)1 << 30,
		.min_ttl = 0,
		.max_ttl = 86400,
		.max_negative_ttl = 3600,
		.stale_answer_ttl = 30,
		.max_stale = 86400,
		.prefetch_percent = 10,
		.edns_udp_size = 1232,
	};
}

/* --- keys ------------------------------------------------------------ */

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t key_hash(const struct cache *c, const uint8_t *name,
			 size_t len, uint16_t qtype, uint16_t qclass,
			 uint8_t do_bit)
{
	const uint64_t p0 = 0xa0761d6478bd642fULL, p1 = 0xe7037ed1a0b428dbULL;
	uint64_t h = c->seed[0] ^ (len * p0);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, name + i, 8);
		h = mix(h ^ w, c->seed[1] ^ p1);
	}
	uint64_t w = 0;
	if (i < len && len >= 8) {
		memcpy(&w, name + len - 8, 8); /* overlaps; len is hashed too */
	} else {
		for (size_t k = 0; i + k < len; k++)
			w |= (uint64_t)name[i + k] << (8 * k);
	}
	w ^= (uint64_t)qtype << 40 | (uint64_t)qclass << 24 | (uint64_t)do_bit << 56;
	h = mix(h ^ w, c->seed[1] ^ p0);
	return mix(h, p1 ^ c->seed[0]);
}

void cache_key_init(struct cache_key *k, const struct cache *c,
		    const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		    bool do_bit)
{
	size_t len = dns_name_copy_lower(k->name, qname);

	k->name_len = (uint8_t)len;
	k->qtype = qtype;
	k->qclass = qclass;
	k->do_bit = do_bit;
	k->hash = key_hash(c, k->name, len, qtype, qclass, k->do_bit);
}

void cache_key_from_query(struct cache_key *k, const struct cache *c,
			  const struct dns_query *q)
{
	dns_copy_lower(k->name, dns_query_qname(q), q->qname_len);
	k->name_len = q->qname_len;
	k->qtype = q->qtype;
	k->qclass = q->qclass;
	k->do_bit = q->has_edns && (q->edns.flags & DNS_EDNS_F_DO);
	k->hash = key_hash(c, k->name, k->name_len, k->qtype, k->qclass,
			   k->do_bit);
}

static inline uint16_t hash_tag(uint64_t hash)
{
	uint16_t tag = (uint16_t)(hash >> PTR_BITS);

	return (uint16_t)(tag | (tag == 0));
}

static inline uint64_t bucket1(const struct cache_table *t, uint64_t hash)
{
	return hash & t->mask;
}

/* Differs from bucket1 in at least the lowest bit. */
static inline uint64_t bucket2(const struct cache_table *t, uint64_t hash)
{
	return (hash ^ ((hash >> 24) | 1)) & t->mask;
}

static inline const struct cache_entry *slot_entry(uint64_t v)
{
	return (const struct cache_entry *)(uintptr_t)(v & PTR_MASK);
}

static inline bool key_matches(const struct cache_entry *e,
			       const struct cache_key *k)
{
	return e->hash == k->hash && e->qtype == k->qtype &&
	       e->qclass == k->qclass && e->do_bit == k->do_bit &&
	       e->name_len == k->name_len &&
	       dns_same_octets(e->data, k->name, k->name_len);
}

/* --- entry layout ------------------------------------------------------ */

static inline size_t ttl_base(uint8_t name_len)
{
	return ((size_t)name_len + 3) & ~(size_t)3;
}

static inline const uint8_t *e_ttls(const struct cache_entry *e)
{
	return e->data + ttl_base(e->name_len);
}

static inline const uint8_t *e_offs(const struct cache_entry *e)
{
	return e_ttls(e) + 4 * (size_t)e->nttl;
}

static inline const uint8_t *e_sections(const struct cache_entry *e)
{
	return e_offs(e) + 2 * (size_t)e->nttl;
}

uint8_t cache_entry_rcode(const struct cache_entry *e) { return e->rcode; }
uint8_t cache_entry_rank(const struct cache_entry *e) { return e->rank; }
uint32_t cache_entry_expire(const struct cache_entry *e) { return e->expire; }
uint8_t cache_entry_policy(const struct cache_entry *e, uint32_t *gen)
{
	*gen = e->policy_gen;
	return e->policy_verdict;
}
const uint8_t *cache_entry_qname(const struct cache_entry *e) { return e->data; }

/* --- lookups (readers) --------------------------------------------------- */

static enum cache_state entry_state(const struct cache *c,
				    const struct cache_entry *e, uint32_t now)
{
	struct cache_entry *w = (struct cache_entry *)e;

	/* The reference bit is written only when clear: rarely. */
	if (!__atomic_load_n(&e->ref, __ATOMIC_RELAXED))
		__atomic_store_n(&w->ref, 1, __ATOMIC_RELAXED);
	if (now < e->expire) {
		if (now < e->prefetch_at ||
		    __atomic_load_n(&e->refresh_at, __ATOMIC_RELAXED))
			return CACHE_HIT;
		uint32_t zero = 0;
		/* Exactly one hit wins the exchange and asks for a refresh.
		 * The stamp is now + 1 so that it is never 0 ("never asked"). */
		if (__atomic_compare_exchange_n(&w->refresh_at, &zero, now + 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return CACHE_HIT_PREFETCH;
		return CACHE_HIT;
	}
	if (now >= e->stale_until)
		return CACHE_MISS;
	uint32_t last = __atomic_load_n(&e->refresh_at, __ATOMIC_RELAXED);
	if ((last == 0 || now + 1 - last >= CACHE_STALE_RETRY_S) &&
	    __atomic_compare_exchange_n(&w->refresh_at, &last, now + 1, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return CACHE_STALE_REFRESH;
	(void)c;
	return CACHE_STALE;
}

static const struct cache_entry *scan_bucket(const struct cache_bucket *b,
					     unsigned from, uint16_t tag,
					     const struct cache_key *k)
{
	for (unsigned s = from; s < CACHE_BUCKET_SLOTS; s++) {
		uint64_t v = __atomic_load_n(&b->slot[s], __ATOMIC_ACQUIRE);
		if (v && (uint16_t)(v >> PTR_BITS) == tag &&
		    key_matches(slot_entry(v), k))
			return slot_entry(v);
	}
	return NULL;
}

void cache_lookup_burst(const struct cache *c, const struct cache_key *const *keys,
			unsigned n, uint32_t now, struct cache_result *res,
			struct cache_reader_stats *st)
{
	/* rcu_dereference() in effect; the builtin lets TSan see the pairing. */
	const struct cache_table *t = __atomic_load_n(&c->table, __ATOMIC_ACQUIRE);
	const struct cache_bucket *b1[CACHE_BURST_MAX], *b2[CACHE_BURST_MAX];
	const struct cache_entry *cand[CACHE_BURST_MAX];
	uint8_t where[CACHE_BURST_MAX]; /* slot of cand; +8: second bucket */

	if (n > CACHE_BURST_MAX)
		n = CACHE_BURST_MAX;
	/* 1. both buckets of every key on their way from memory */
	for (unsigned i = 0; i < n; i++) {
		b1[i] = &t->b[bucket1(t, keys[i]->hash)];
		b2[i] = &t->b[bucket2(t, keys[i]->hash)];
		__builtin_prefetch(b1[i]);
		__builtin_prefetch(b2[i]);
	}
	/* 2. first tag match per key; its entry on its way too */
	for (unsigned i = 0; i < n; i++) {
		uint16_t tag = hash_tag(keys[i]->hash);
		cand[i] = NULL;
		for (unsigned s = 0; s < 2 * CACHE_BUCKET_SLOTS; s++) {
			const struct cache_bucket *b = s < CACHE_BUCKET_SLOTS ? b1[i] : b2[i];
			uint64_t v = __atomic_load_n(&b->slot[s % CACHE_BUCKET_SLOTS],
						     __ATOMIC_ACQUIRE);
			if (v && (uint16_t)(v >> PTR_BITS) == tag) {
				cand[i] = slot_entry(v);
				where[i] = (uint8_t)s;
				/* key and name span the first two lines */
				__builtin_prefetch(cand[i]);
				__builtin_prefetch((const uint8_t *)cand[i] + 64);
				break;
			}
		}
	}
	/* 3. compare keys; a tag collision falls back to scanning the rest */
	for (unsigned i = 0; i < n; i++) {
		const struct cache_entry *e = cand[i];
		if (e && !key_matches(e, keys[i])) {
			uint16_t tag = hash_tag(keys[i]->hash);
			unsigned s = where[i] + 1u;
			e = s < CACHE_BUCKET_SLOTS ? scan_bucket(b1[i], s, tag, keys[i]) : NULL;
			if (!e)
				e = scan_bucket(b2[i], s < CACHE_BUCKET_SLOTS ? 0 :
						s - CACHE_BUCKET_SLOTS, tag, keys[i]);
		}
		res[i].entry = e;
		res[i].state = e ? (uint8_t)entry_state(c, e, now) : CACHE_MISS;
		if (res[i].state == CACHE_MISS) {
			res[i].entry = NULL;
			st->misses++;
		} else if (res[i].state >= CACHE_STALE) {
			st->stale_hits++;
		} else {
			st->hits++;
			st->prefetches += res[i].state == CACHE_HIT_PREFETCH;
		}
	}
}

/* --- answers (readers) ------------------------------------------------- */

int cache_answer(const struct cache *c, const struct cache_entry *e,
		 enum cache_state state, const struct dns_query *q,
		 uint32_t now, uint8_t *out, size_t cap)
{
	size_t qlen = (size_t)q->qname_len + 4;
	size_t client = dns_query_udp_size(q);
	size_t opt = q->has_edns ? OPT_LEN : 0;
	size_t base = DNS_HDR_LEN + qlen;
	bool fits;
	uint16_t flags;

	if (client < cap)
		cap = client;
	if (base + opt > cap)
		return DNS_E_SPACE;
	fits = base + e->sec_len + opt <= cap;
	flags = DNS_F_QR | DNS_F_RA | e->rcode |
		(q->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD));
	/* RFC 6840 5.8: AD only to clients that show they understand it. */
	if ((q->flags & DNS_F_AD) || (q->has_edns && (q->edns.flags & DNS_EDNS_F_DO)))
		flags |= e->flags & DNS_F_AD;
	if (!fits)
		flags |= DNS_F_TC;
	dns_put16(out, q->id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, fits ? e->count[0] : 0);
	dns_put16(out + 8, fits ? e->count[1] : 0);
	dns_put16(out + 10, (uint16_t)((fits ? e->count[2] : 0) + (opt ? 1 : 0)));
	dns_copy(out + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen);
	size_t len = base;
	if (fits) {
		const uint8_t *ttls = e_ttls(e), *offs = e_offs(e);
		uint8_t *sec = out + base;
		uint32_t age = now - e->inserted;

		dns_copy(sec, e_sections(e), e->sec_len);
		for (unsigned i = 0; i < e->nttl; i++) {
			uint32_t orig, ttl;
			uint16_t off;
			memcpy(&orig, ttls + 4 * i, 4);
			memcpy(&off, offs + 2 * i, 2);
			ttl = state >= CACHE_STALE ? c->cfg.stale_answer_ttl :
			      orig > age ? orig - age : 0;
			if (ttl > c->cfg.max_ttl)
				ttl = c->cfg.max_ttl;
			dns_put32(sec + off, ttl);
		}
		len += e->sec_len;
	}
	if (opt) {
		uint8_t *w = out + len;
		w[0] = 0;
		dns_put16(w + 1, DNS_T_OPT);
		dns_put16(w + 3, c->cfg.edns_udp_size);
		dns_put32(w + 5, q->edns.flags & DNS_EDNS_F_DO);
		dns_put16(w + 9, 0);
		len += OPT_LEN;
	}
	return (int)len;
}

/* --- the writer ---------------------------------------------------------- */

void cache_reader_quiescent(void)
{
	TSAN_RELEASE(&qsbr_token);
	urcu_qsbr_quiescent_state();
}

static void entry_free_cb(struct rcu_head *head)
{
	struct cache_entry *e = caa_container_of(head, struct cache_entry, rcu);

	TSAN_ACQUIRE(&qsbr_token);
	TSAN_ACQUIRE(e);
	cache_mem_free(e);
}

static void table_free_cb(struct rcu_head *head)
{
	struct cache_table *t = caa_container_of(head, struct cache_table, rcu);

	TSAN_ACQUIRE(&qsbr_token);
	TSAN_ACQUIRE(t);
	cache_mem_free(t->b);
	cache_mem_free(t);
}

static void retire_entry(struct cache *c, const struct cache_entry *e)
{
	struct cache_entry *w = (struct cache_entry *)e;

	c->entry_bytes -= e->bytes;
	c->st.entries--;
	TSAN_RELEASE(w);
	urcu_qsbr_call_rcu(&w->rcu, entry_free_cb);
}

static struct cache_table *table_new(struct cache *c, uint64_t buckets)
{
	size_t u1, u2;
	struct cache_table *t = cache_mem_alloc(&c->mem, sizeof(*t), &u1);

	if (!t)
		return NULL;
	t->b = cache_mem_calloc(&c->mem, buckets * sizeof(struct cache_bucket), &u2);
	if (!t->b) {
		cache_mem_free(t);
		return NULL;
	}
	t->mask = buckets - 1;
	t->bytes = u1 + u2;
	return t;
}

static uint64_t table_slots(const struct cache_table *t)
{
	return (t->mask + 1) * CACHE_BUCKET_SLOTS;
}

static uint64_t *slot_at(struct cache_table *t, uint64_t i)
{
	return &t->b[i / CACHE_BUCKET_SLOTS].slot[i % CACHE_BUCKET_SLOTS];
}

static void slot_store(uint64_t *slot, const struct cache_entry *e)
{
	uint64_t v = e ? (uint64_t)hash_tag(e->hash) << PTR_BITS |
			 (uint64_t)(uintptr_t)e : 0;

	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
}

/* Takes the entry out of its slot; it is freed after a grace period. */
static void drop_slot(struct cache *c, uint64_t *slot)
{
	const struct cache_entry *e = slot_entry(*slot);

	slot_store(slot, NULL);
	retire_entry(c, e);
}

struct cache *cache_new(const struct cache_config *cfg)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	if (getrandom(c->seed, sizeof(c->seed), 0) != sizeof(c->seed) ||
	    cache_mem_init(&c->mem) != 0 ||
	    !(c->table = table_new(c, TABLE_MIN_BUCKETS))) {
		free(c);
		return NULL;
	}
	return c;
}

void cache_flush(struct cache *c)
{
	struct cache_table *t = c->table;

	for (uint64_t i = 0; i < table_slots(t); i++) {
		uint64_t *slot = slot_at(t, i);
		if (*slot)
			drop_slot(c, slot);
	}
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_flush(c);
	/* Wait for the callbacks; the writer must not hold up its own grace
	 * periods while it waits. */
	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	urcu_qsbr_thread_online();
	cache_mem_free(c->table->b);
	cache_mem_free(c->table);
	free(c);
}

void cache_get_stats(const struct cache *c, struct cache_stats *st)
{
	*st = c->st;
	st->bytes = c->entry_bytes + c->table->bytes;
}

/* Where the key is in the table: its slot, or NULL. */
static uint64_t *find_slot(struct cache_table *t, const struct cache_key *k)
{
	struct cache_bucket *bs[2] = { &t->b[bucket1(t, k->hash)],
				       &t->b[bucket2(t, k->hash)] };
	uint16_t tag = hash_tag(k->hash);

	for (int i = 0; i < 2; i++)
		for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++) {
			uint64_t v = bs[i]->slot[s];
			if (v && (uint16_t)(v >> PTR_BITS) == tag &&
			    key_matches(slot_entry(v), k))
				return &bs[i]->slot[s];
		}
	return NULL;
}

/* An empty slot of the hash's two buckets, or NULL. */
static uint64_t *empty_slot(struct cache_table *t, uint64_t hash)
{
	struct cache_bucket *bs[2] = { &t->b[bucket1(t, hash)],
				       &t->b[bucket2(t, hash)] };

	for (int i = 0; i < 2; i++)
		for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++)
			if (!bs[i]->slot[s])
				return &bs[i]->slot[s];
	return NULL;
}

/*
 * A slot for a new entry with this hash: an empty one, or the one whose
 * entry is least worth keeping (long expired, then not referenced, then
 * expiring first), which is evicted.
 */
static uint64_t *free_slot(struct cache *c, struct cache_table *t,
			   uint64_t hash, uint32_t now)
{
	struct cache_bucket *bs[2] = { &t->b[bucket1(t, hash)],
				       &t->b[bucket2(t, hash)] };
	uint64_t *victim = empty_slot(t, hash);
	uint64_t worst = UINT64_MAX;

	if (victim)
		return victim;
	/*
	 * Both full: move one of their entries to its other bucket if that
	 * has room (one cuckoo step). It is stored there before it is cleared
	 * here, so a reader finds it in one place or the other, never neither.
	 */
	for (int i = 0; i < 2; i++)
		for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++) {
			const struct cache_entry *e = slot_entry(bs[i]->slot[s]);
			uint64_t alt = bucket1(t, e->hash);
			if (&t->b[alt] == bs[i])
				alt = bucket2(t, e->hash);
			for (unsigned a = 0; a < CACHE_BUCKET_SLOTS; a++)
				if (!t->b[alt].slot[a]) {
					slot_store(&t->b[alt].slot[a], e);
					slot_store(&bs[i]->slot[s], NULL);
					return &bs[i]->slot[s];
				}
		}
	for (int i = 0; i < 2; i++)
		for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++) {
			const struct cache_entry *e = slot_entry(bs[i]->slot[s]);
			uint64_t ref = __atomic_load_n(&e->ref, __ATOMIC_RELAXED) ? 1 : 0;
			uint64_t score = now >= e->stale_until ? 0 :
					 ref << 32 | e->expire;
			if (score < worst) {
				worst = score;
				victim = &bs[i]->slot[s];
			}
		}
	drop_slot(c, victim);
	c->st.evictions++;
	return victim;
}

/*
 * Doubles the index when it is 3/4 full and the budget allows. The new
 * table is filled beside the old one, which readers keep using until the
 * pointer store; an entry that finds no room in the new table (both buckets
 * full: rare at half the load) stays reachable through the old table until
 * then, so it is retired only after the publication.
 */
static void maybe_grow(struct cache *c)
{
	struct cache_table *old = c->table, *t;
	uint64_t buckets = (old->mask + 1) * 2;
	const struct cache_entry **dropped;
	size_t ndropped = 0;

	if (c->st.entries * 4 < table_slots(old) * 3)
		return;
	if (c->entry_bytes + old->bytes + buckets * sizeof(struct cache_bucket) >
	    c->cfg.max_bytes)
		return;
	if (!(dropped = malloc(c->st.entries * sizeof(*dropped) + 1)))
		return;
	if (!(t = table_new(c, buckets))) {
		free(dropped);
		return;
	}
	for (uint64_t i = 0; i < table_slots(old); i++) {
		uint64_t v = *slot_at(old, i);
		if (!v)
			continue;
		const struct cache_entry *e = slot_entry(v);
		uint64_t *slot = empty_slot(t, e->hash);
		if (slot)
			slot_store(slot, e);
		else
			dropped[ndropped++] = e;
	}
	__atomic_store_n(&c->table, t, __ATOMIC_RELEASE); /* rcu_assign_pointer() */
	for (size_t i = 0; i < ndropped; i++) {
		retire_entry(c, dropped[i]);
		c->st.evictions++;
	}
	free(dropped);
	TSAN_RELEASE(old);
	urcu_qsbr_call_rcu(&old->rcu, table_free_cb);
	c->hand = 0;
	c->st.resizes++;
}

/* CLOCK over the slots until the budget holds; false if it cannot. */
static bool enforce_budget(struct cache *c, uint32_t now, size_t incoming)
{
	struct cache_table *t = c->table;
	uint64_t slots = table_slots(t);
	uint64_t steps = slots * EVICT_SCAN_FACTOR;

	while (c->entry_bytes + incoming + t->bytes > c->cfg.max_bytes) {
		if (steps-- == 0 || c->st.entries == 0)
			return c->entry_bytes + incoming + t->bytes <= c->cfg.max_bytes;
		uint64_t *slot = slot_at(t, c->hand);
		c->hand = (c->hand + 1) % slots;
		if (!*slot)
			continue;
		struct cache_entry *e = (struct cache_entry *)slot_entry(*slot);
		if (now < e->stale_until &&
		    __atomic_load_n(&e->ref, __ATOMIC_RELAXED)) {
			__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
			continue;
		}
		drop_slot(c, slot);
		c->st.evictions++;
	}
	return true;
}

/* What a response message holds, as far as caching it goes. */
struct msg_plan {
	struct dns_msg m;
	size_t sec_start, sec_end;
	unsigned nttl;
	uint32_t min_ttl;
	bool negative;
	bool has_soa;
	uint32_t soa_ttl, soa_min;
};

static int plan_message(struct msg_plan *p, const uint8_t *msg, size_t len)
{
	struct dns_rr_iter it;
	struct dns_rr rr;
	int r;

	if (dns_msg_parse(&p->m, msg, len) || p->m.hdr.count[DNS_SEC_QUESTION] != 1)
		return CACHE_E_MSG;
	p->sec_start = p->m.sec_off[DNS_SEC_ANSWER];
	p->sec_end = len;
	p->nttl = 0;
	p->min_ttl = UINT32_MAX;
	p->has_soa = false;
	dns_rr_iter_init(&it, &p->m, DNS_SEC_ANSWER);
	while ((r = dns_rr_next(&it, &rr)) > 0) {
		if (rr.type == DNS_T_OPT) {
			/* Only as the last record: it is cut off. */
			if (it.pos != len)
				return CACHE_E_MSG;
			p->sec_end = rr.off;
			continue;
		}
		p->nttl++;
		if (rr.ttl < p->min_ttl)
			p->min_ttl = rr.ttl;
		if (rr.section == DNS_SEC_AUTHORITY && rr.type == DNS_T_SOA &&
		    !p->has_soa) {
			p->has_soa = true;
			p->soa_ttl = rr.ttl;
			p->soa_min = dns_get32(msg + rr.rdata_off + rr.rdlen - 4);
		}
	}
	if (r < 0)
		return CACHE_E_MSG;
	switch (p->m.rcode) {
	case DNS_R_NXDOMAIN:
		p->negative = true;
		break;
	case DNS_R_NOERROR:
		p->negative = p->m.hdr.count[DNS_SEC_ANSWER] == 0;
		break;
	default:
		return CACHE_E_UNCACHEABLE;
	}
	/* A negative answer needs its SOA (RFC 2308 5); without one a NOERROR
	 * with no answer is a referral, which is not the message cache's. */
	if (p->negative && !p->has_soa)
		return CACHE_E_UNCACHEABLE;
	if (p->nttl == 0 || p->min_ttl == 0)
		return CACHE_E_UNCACHEABLE;
	if (p->sec_end - p->sec_start > UINT16_MAX)
		return CACHE_E_MSG;
	return 0;
}

/* The entry for a planned message, with TTLs clamped; NULL on failure. */
static struct cache_entry *entry_new(struct cache *c, const struct msg_plan *p,
				     const uint8_t *msg, uint32_t now,
				     uint8_t rank, bool do_bit, uint16_t qtype)
{
	const struct cache_config *cfg = &c->cfg;
	uint8_t name[DNS_NAME_MAX];
	size_t name_len = dns_name_copy_lower(name, p->m.qname);
	size_t sec_len = p->sec_end - p->sec_start;
	size_t size = sizeof(struct cache_entry) + ttl_base((uint8_t)name_len) +
		      6 * (size_t)p->nttl + sec_len;
	uint32_t ttl, cap;
	size_t usable;
	struct cache_entry *e = cache_mem_alloc(&c->mem, size, &usable);

	if (!e)
		return NULL;
	if (p->negative) {
		cap = p->soa_ttl < p->soa_min ? p->soa_ttl : p->soa_min;
		if (cap > cfg->max_negative_ttl)
			cap = cfg->max_negative_ttl;
	} else {
		cap = cfg->max_ttl;
	}
	memset(e, 0, sizeof(*e));
	e->name_len = (uint8_t)name_len;
	memcpy(e->data, name, name_len);
	e->qtype = qtype;
	e->qclass = p->m.qclass;
	e->do_bit = do_bit;
	e->hash = key_hash(c, name, name_len, qtype, e->qclass, e->do_bit);
	e->rank = rank;
	e->rcode = (uint8_t)p->m.rcode;
	e->flags = rank == CACHE_RANK_SECURE ? DNS_F_AD : 0;
	for (int s = 0; s < 3; s++)
		e->count[s] = p->m.hdr.count[s + 1];
	if (p->sec_end < p->m.len)
		e->count[2]--; /* the OPT we cut */
	e->nttl = (uint16_t)p->nttl;
	e->sec_len = (uint16_t)sec_len;
	e->bytes = (uint32_t)usable;

	/* Record TTLs, clamped; the entry lives as long as the shortest. */
	uint8_t *ttls = (uint8_t *)e_ttls(e), *offs = (uint8_t *)e_offs(e);
	struct dns_rr_iter it;
	struct dns_rr rr;
	unsigned i = 0;
	uint32_t life = UINT32_MAX;
	dns_rr_iter_init(&it, &p->m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0 && i < p->nttl) {
		if (rr.type == DNS_T_OPT)
			continue;
		ttl = rr.ttl < cfg->min_ttl ? cfg->min_ttl : rr.ttl;
		if (ttl > cap)
			ttl = cap;
		uint16_t off = (uint16_t)(rr.ttl_off - p->sec_start);
		memcpy(ttls + 4 * i, &ttl, 4);
		memcpy(offs + 2 * i, &off, 2);
		if (ttl < life)
			life = ttl;
		i++;
	}
	memcpy((uint8_t *)e_sections(e), msg + p->sec_start, sec_len);
	e->inserted = now;
	e->expire = now + life;
	e->stale_until = cfg->max_stale ? e->expire + cfg->max_stale : e->expire;
	uint32_t early = (uint32_t)((uint64_t)life * cfg->prefetch_percent / 100);
	e->prefetch_at = early ? e->expire - early : UINT32_MAX;
	return e;
}

/* Publishes e under its key: replaces, or takes a free or evicted slot. */
static int publish(struct cache *c, struct cache_entry *e, uint32_t now)
{
	struct cache_key k;
	uint64_t *slot;

	k.hash = e->hash;
	k.qtype = e->qtype;
	k.qclass = e->qclass;
	k.do_bit = e->do_bit;
	k.name_len = e->name_len;
	memcpy(k.name, e->data, e->name_len);
	if ((slot = find_slot(c->table, &k))) {
		const struct cache_entry *old = slot_entry(*slot);
		if (now < old->expire && old->rank > e->rank) {
			cache_mem_free(e);
			return CACHE_E_RANK;
		}
		slot_store(slot, e);
		retire_entry(c, old);
		c->st.replacements++;
	} else {
		slot_store(free_slot(c, c->table, e->hash, now), e);
	}
	c->entry_bytes += e->bytes;
	c->st.entries++;
	c->st.inserts++;
	return 0;
}

/* A positive answer at or below a cut makes the cut wrong: drop markers. */
static void drop_cut_markers(struct cache *c, const uint8_t *name,
			     uint16_t qclass, bool do_bit)
{
	for (const uint8_t *p = name;; p += *p + 1) {
		struct cache_key k;

		cache_key_init(&k, c, p, CUT_QTYPE, qclass, do_bit);
		cache_remove(c, &k);
		if (*p == 0)
			break;
	}
}

int cache_insert(struct cache *c, const uint8_t *msg, size_t len,
		 uint32_t now, enum cache_rank rank, bool do_bit)
{
	struct msg_plan p;
	struct cache_entry *e;
	int r = plan_message(&p, msg, len);

	if (r) {
		c->st.uncacheable += r == CACHE_E_UNCACHEABLE;
		return r;
	}
	if (p.m.qtype == CUT_QTYPE)
		return CACHE_E_UNCACHEABLE;
	maybe_grow(c);
	if (!(e = entry_new(c, &p, msg, now, (uint8_t)rank, do_bit, p.m.qtype)))
		return CACHE_E_NOMEM;
	if (!enforce_budget(c, now, e->bytes)) {
		cache_mem_free(e);
		return CACHE_E_NOMEM;
	}
	if ((r = publish(c, e, now)))
		return r;
	if (!p.negative) {
		drop_cut_markers(c, p.m.qname, p.m.qclass, do_bit);
	} else if (p.m.rcode == DNS_R_NXDOMAIN) {
		/* RFC 8020: the name and everything below it do not exist,
		 * whatever the type: a marker under type 0 says so. */
		struct cache_entry *cut = entry_new(c, &p, msg, now, (uint8_t)rank,
						    do_bit, CUT_QTYPE);
		if (cut && enforce_budget(c, now, cut->bytes))
			publish(c, cut, now);
		else if (cut)
			cache_mem_free(cut);
	}
	return 0;
}

void cache_remove(struct cache *c, const struct cache_key *k)
{
	uint64_t *slot = find_slot(c->table, k);

	if (slot)
		drop_slot(c, slot);
}

const struct cache_entry *cache_nxdomain_cut(const struct cache *c,
					     const uint8_t *qname,
					     uint16_t qclass, bool do_bit,
					     uint32_t now)
{
	struct cache_reader_stats st = { 0 };

	for (const uint8_t *p = qname;; p += *p + 1) {
		struct cache_key k;
		const struct cache_key *kp = &k;
		struct cache_result res;

		cache_key_init(&k, c, p, CUT_QTYPE, qclass, do_bit);
		cache_lookup_burst(c, &kp, 1, now, &res, &st);
		if (res.entry && (res.state == CACHE_HIT ||
				  res.state == CACHE_HIT_PREFETCH))
			return res.entry;
		if (*p == 0)
			return NULL;
	}
}
