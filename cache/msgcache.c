/*
 * cache/msgcache.c: the message cache (see msgcache.h for the threading
 * rules and invariants). Readers: cache_key_init, cache_lookup_burst,
 * cache_answer, cache_nxdomain_cut, on worker lcores' hot path (no lock, no
 * allocation, no syscall). Everything else: the cache-writer thread.
 *
 * Index: a power-of-two array of 64-octet buckets of CACHE_BUCKET_SLOTS
 * slots and one overflow count; a slot is a 16-bit tag in the top bits over
 * a 48-bit entry pointer, written by the writer with one atomic store, so
 * readers see a whole slot or none. A key may live in two buckets (the
 * second chosen from other hash bits); the writer prefers the first, and a
 * bucket counts the entries that wanted it but live in their second, so a
 * lookup reads the second line only when that count is not zero (at the
 * loads the table runs at, most keys never need it). When both are full the
 * writer moves one entry (one cuckoo step) or evicts one of their 14. A
 * table that grows is rebuilt beside the old one and published by one
 * pointer store; the old one is freed after a grace period.
 *
 * The hash is keyed with a random secret: qnames come from attackers, and
 * with bounded buckets a flood of colliding names can only evict, never make
 * a lookup slower.
 */
#define _LGPL_SOURCE
#include "msgcache.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <urcu/urcu-qsbr.h>

#include "dns/build.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"
#include "dns/opt.h"
#include "mem.h"
#include "tsan.h"

#define PTR_BITS 48
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)
#define TABLE_MIN_BUCKETS 64
#define CUT_QTYPE 0	     /* key type of RFC 8020 NXDOMAIN cut markers */
#define EVICT_SCAN_FACTOR 2  /* CLOCK visits each slot at most this often */
#define SCRATCH_BUFS 4	     /* re-encoded message, marker, one RDATA,
				the message without DNSSEC records */

/*
 * over: how many entries whose first bucket is this one live in their
 * second. The writer raises it before it stores such an entry and lowers it
 * after it clears one, so a reader that loads the slots and then over never
 * misses an entry that stays put.
 */
struct cache_bucket {
	uint64_t slot[CACHE_BUCKET_SLOTS];
	uint64_t over;
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
 * hash..name_len are laid out as in struct cache_key (full takes the key's
 * dnssec, flags its pad), so a key compares with two loads. data[]: the
 * lower-cased qname, padding to 4, then the full view: the original TTLs
 * (uint32), the TTL field offsets within the sections (uint16), the
 * sections; then, at plain_off when the message has records a client
 * without DO must not see, the plain view: struct plain_hdr, its TTLs,
 * offsets and sections (the message written again without them). A
 * one-record answer fits jemalloc's 128-octet class: two cache lines.
 */
struct cache_entry {
	struct rcu_head rcu;
	uint64_t hash;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t name_len;
	uint8_t full;		/* assembled with its DNSSEC records (DO) */
	uint16_t flags;		/* header bits the answer carries (AD) */
	uint32_t inserted;
	uint32_t expire;	/* fresh while now < expire */
	uint32_t stale_until;	/* answerable while now < stale_until */
	uint32_t prefetch_at;	/* a fresh hit from here on wants a refresh */
	uint32_t refresh_at;	/* atomic: 1 + when a reader last asked for one */
	uint32_t bytes;
	uint16_t count[3];	/* ANCOUNT, NSCOUNT, ARCOUNT */
	uint16_t nttl;
	uint16_t sec_len;
	uint16_t plain_off;	/* the plain view in data[]; 0: the full one */
	uint8_t ede;		/* Extended DNS Error info-code 1..255, 0: none */
	uint8_t ref;		/* atomic: CLOCK reference bit */
	uint8_t rank;
	uint8_t rcode;
	uint8_t kinds;		/* CACHE_KIND_* of the answer section */
	uint8_t pad;
	uint16_t epoch;		/* the cache's epoch when made (cache_flush_epoch()) */
	uint32_t tag_gen;	/* struct cache_tag's gen, its low 32 bits */
	uint64_t tag_verdict;
	uint8_t data[];
};

_Static_assert(offsetof(struct cache_entry, name_len) -
		       offsetof(struct cache_entry, hash) ==
	       offsetof(struct cache_key, name_len) &&
	       offsetof(struct cache_entry, full) - offsetof(struct cache_entry, hash) ==
	       offsetof(struct cache_key, dnssec),
	       "entry and key headers must line up");

/* The plain view's counts, in data[] at plain_off (unaligned: memcpy). */
struct plain_hdr {
	uint16_t count[3];
	uint16_t nttl;
	uint16_t sec_len;
};

/* What an answer copies: one view of an entry. count points at the
 * entry's own counts, or at plain (the plain view's, copied out). */
struct view {
	const uint16_t *count;
	uint16_t plain[3];
	unsigned nttl;
	size_t sec_len;
	const uint8_t *ttls, *offs, *sections;
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
	uint8_t *scratch;	   /* SCRATCH_BUFS messages: see reencode() */
	/* cache_trim(): the slot it goes on from, in table trim_table;
	 * trim_table NULL: nothing to trim */
	const struct cache_table *trim_table;
	uint64_t trim_pos;
	uint16_t epoch;		   /* atomic: entries of another are misses */
	/* cache_flush_names(): what the trim removes besides (fl_mode 0:
	 * nothing), entries made up to fl_at; fl_removed so far */
	unsigned fl_mode;
	uint32_t fl_at;
	uint64_t fl_removed;
	uint8_t fl_name[DNS_NAME_MAX];
	uint8_t *fl_msg;	   /* DNS_MSG_MAX: an entry's message, to read */
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

/*
 * Lower-cases len octets of the name at src into k->name and hashes them as
 * it goes (one pass, eight octets a step; the last word may overlap the one
 * before, and the length is hashed, so names cannot collide that way).
 * Measured with the rest of the key: about 60 instructions for a 19-octet
 * name (bench/bench_cache, callgrind).
 */
static inline void key_fill(struct cache_key *k, const struct cache *c,
			    const uint8_t *src, size_t len, uint16_t qtype,
			    uint16_t qclass, bool dnssec)
{
	const uint64_t p0 = 0xa0761d6478bd642fULL, p1 = 0xe7037ed1a0b428dbULL;
	const uint64_t k1 = c->seed[1] ^ p1;
	uint64_t h = c->seed[0] ^ (len * p0), w;
	uint8_t *dst = k->name;

	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8) {
			memcpy(&w, src + i, 8);
			w = dns_lower8(w);
			memcpy(dst + i, &w, 8);
			h = mix(h ^ w, k1);
		}
		memcpy(&w, src + len - 8, 8);
		w = dns_lower8(w);
		memcpy(dst + len - 8, &w, 8);
	} else {
		w = 0;
		for (size_t i = 0; i < len; i++) {
			dst[i] = dns_lower[src[i]];
			w |= (uint64_t)dst[i] << (8 * i);
		}
	}
	w ^= (uint64_t)qtype << 40 | (uint64_t)qclass << 24;
	h = mix(h ^ w, c->seed[1] ^ p0);
	k->hash = mix(h, p1 ^ c->seed[0]);
	k->qtype = qtype;
	k->qclass = qclass;
	k->name_len = (uint8_t)len;
	k->dnssec = dnssec;
	k->pad = 0;
}

void cache_key_init(struct cache_key *k, const struct cache *c,
		    const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		    bool dnssec)
{
	key_fill(k, c, qname, dns_name_len(qname), qtype, qclass, dnssec);
}

void cache_key_from_query(struct cache_key *k, const struct cache *c,
			  const struct dns_query *q)
{
	key_fill(k, c, dns_query_qname(q), q->qname_len, q->qtype, q->qclass,
		 q->has_edns && (q->edns.flags & DNS_EDNS_F_DO));
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

/* hash, qtype, qclass and name length in two loads (the key's dnssec and
 * pad, the entry's full and flags masked out), then the name. A key that
 * wants the DNSSEC records (dnssec) does not match an entry cached without
 * them (not full): the same test, one bit of the second word. */
static inline bool key_matches(const struct cache_entry *e,
			       const struct cache_key *k)
{
	uint64_t eh, ek, kh, kk;

	memcpy(&eh, &e->hash, 8);
	memcpy(&ek, &e->qtype, 8);
	memcpy(&kh, &k->hash, 8);
	memcpy(&kk, &k->qtype, 8);
	return eh == kh &&
	       (((ek ^ kk) & 0x000000ffffffffffULL) | (kk & ~ek & 0x0000010000000000ULL)) == 0 &&
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
uint8_t cache_entry_kinds(const struct cache_entry *e) { return e->kinds; }
uint32_t cache_entry_tag_gen(const struct cache_entry *e) { return e->tag_gen; }
uint64_t cache_entry_tag_verdict(const struct cache_entry *e) { return e->tag_verdict; }
uint8_t cache_entry_rank(const struct cache_entry *e) { return e->rank; }
uint32_t cache_entry_expire(const struct cache_entry *e) { return e->expire; }
const uint8_t *cache_entry_qname(const struct cache_entry *e) { return e->data; }

/* --- lookups (readers) --------------------------------------------------- */

static enum cache_state entry_state(const struct cache *c,
				    const struct cache_entry *e, uint32_t now)
{
	struct cache_entry *w = (struct cache_entry *)e;

	/* made before cache_flush_epoch(): gone for readers at once */
	if (e->epoch != __atomic_load_n(&c->epoch, __ATOMIC_RELAXED))
		return CACHE_MISS;
	/* The reference bit is written only when clear: rarely. */
	if (!__atomic_load_n(&e->ref, __ATOMIC_RELAXED))
		__atomic_store_n(&w->ref, 1, __ATOMIC_RELAXED);
	if (now < e->expire) {
		if (now < e->prefetch_at ||
		    !__atomic_load_n(&c->cfg.prefetch_percent, __ATOMIC_RELAXED))
			return CACHE_HIT;
		/* Exactly one hit wins the exchange and asks for a refresh,
		 * which replaces the entry; when none has after
		 * CACHE_PREFETCH_RETRY_S (not asked for, or lost), one hit
		 * asks again. The stamp is now + 1 so that it is never 0
		 * ("never asked"). */
		uint32_t last = __atomic_load_n(&e->refresh_at, __ATOMIC_RELAXED);
		/* (signed: a reader whose second is behind the stamp's, a
		 * burst begun before it, must not see a wrapped difference) */
		if ((last == 0 || (int32_t)(now + 1 - last) >= CACHE_PREFETCH_RETRY_S) &&
		    __atomic_compare_exchange_n(&w->refresh_at, &last, now + 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return CACHE_HIT_PREFETCH;
		return CACHE_HIT;
	}
	/* the entry's own bound, and a reload's since (serve-stale off or
	 * shortened) */
	if (now >= e->stale_until ||
	    now - e->expire >= __atomic_load_n(&c->cfg.max_stale, __ATOMIC_RELAXED))
		return CACHE_MISS;
	uint32_t last = __atomic_load_n(&e->refresh_at, __ATOMIC_RELAXED);
	if ((last == 0 || (int32_t)(now + 1 - last) >= CACHE_STALE_RETRY_S) &&
	    __atomic_compare_exchange_n(&w->refresh_at, &last, now + 1, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return CACHE_STALE_REFRESH;
	return CACHE_STALE;
}

/*
 * The slots of b whose tag is tag, as a bit mask. With AVX2 the bucket is
 * compared as two vectors; the vector loads are only a hint (the slot a
 * caller then uses is loaded again with acquire), so they need not be
 * atomic as a whole. ThreadSanitizer would call the plain vector load a
 * race with the writer's atomic stores, so its builds use the scalar loop.
 */
#if defined(__AVX2__) && !defined(__SANITIZE_THREAD__)
#define TAG_MASK_AVX2 1
#endif
static inline unsigned tag_mask(const struct cache_bucket *b, uint16_t tag)
{
#if defined(TAG_MASK_AVX2)
	__m256i t = _mm256_set1_epi64x(tag);
	__m256i lo = _mm256_srli_epi64(_mm256_load_si256((const __m256i *)b), PTR_BITS);
	__m256i hi = _mm256_srli_epi64(_mm256_load_si256((const __m256i *)b + 1), PTR_BITS);
	unsigned m = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(lo, t))) |
		     (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(hi, t))) << 4;

	return m & ((1u << CACHE_BUCKET_SLOTS) - 1);
#else
	unsigned m = 0;

	for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++)
		m |= (unsigned)((uint16_t)(__atomic_load_n(&b->slot[s], __ATOMIC_RELAXED) >>
					   PTR_BITS) == tag) << s;
	return m;
#endif
}

/* The first entry of b in mask's slots whose tag (loaded again, with
 * acquire) is still tag, or NULL; *mask loses the slots tried. */
static inline const struct cache_entry *take_candidate(const struct cache_bucket *b,
						       unsigned *mask, uint16_t tag)
{
	while (*mask) {
		unsigned s = (unsigned)__builtin_ctz(*mask);
		uint64_t v = __atomic_load_n(&b->slot[s], __ATOMIC_ACQUIRE);

		*mask &= *mask - 1;
		if ((uint16_t)(v >> PTR_BITS) == tag)
			return slot_entry(v);
	}
	return NULL;
}

/* Slow path after a tag collision: the rest of the key's slots. */
static const struct cache_entry *scan_rest(const struct cache_table *t,
					   const struct cache_key *k,
					   unsigned mask1, bool second)
{
	uint16_t tag = hash_tag(k->hash);
	const struct cache_entry *e;

	while ((e = take_candidate(&t->b[bucket1(t, k->hash)], &mask1, tag)))
		if (key_matches(e, k))
			return e;
	if (second) {
		const struct cache_bucket *b2 = &t->b[bucket2(t, k->hash)];
		unsigned m = tag_mask(b2, tag);
		while ((e = take_candidate(b2, &m, tag)))
			if (key_matches(e, k))
				return e;
	}
	return NULL;
}

void cache_lookup_burst(const struct cache *c, const struct cache_key *const *keys,
			unsigned n, uint32_t now, struct cache_result *res,
			struct cache_reader_stats *st)
{
	/* rcu_dereference() in effect; the builtin lets TSan see the pairing. */
	const struct cache_table *t = __atomic_load_n(&c->table, __ATOMIC_ACQUIRE);
	const struct cache_bucket *b1[CACHE_BURST_MAX];
	const struct cache_entry *cand[CACHE_BURST_MAX];
	unsigned rest[CACHE_BURST_MAX];	/* b1 slots not yet tried */
	uint32_t second = 0;		/* keys whose second bucket is needed */
	uint32_t searched = 0;		/* keys whose second bucket was read */

	if (n > CACHE_BURST_MAX)
		n = CACHE_BURST_MAX;
	/* 1. every key's first bucket on its way from memory */
	for (unsigned i = 0; i < n; i++) {
		b1[i] = &t->b[bucket1(t, keys[i]->hash)];
		__builtin_prefetch(b1[i]);
	}
	/* 2. a tag match in the first bucket: its entry on its way; none, and
	 * the bucket has overflowed: the second bucket on its way instead */
	for (unsigned i = 0; i < n; i++) {
		uint16_t tag = hash_tag(keys[i]->hash);
		rest[i] = tag_mask(b1[i], tag);
		cand[i] = take_candidate(b1[i], &rest[i], tag);
		if (cand[i]) {
			/* key and name span the first two lines */
			__builtin_prefetch(cand[i]);
			__builtin_prefetch((const uint8_t *)cand[i] + 64);
		} else if (__atomic_load_n(&b1[i]->over, __ATOMIC_ACQUIRE)) {
			second |= 1u << i;
			__builtin_prefetch(&t->b[bucket2(t, keys[i]->hash)]);
		}
	}
	/* 2b. the few keys that need their second bucket */
	for (uint32_t m = second; m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctz(m);
		const struct cache_bucket *b2 = &t->b[bucket2(t, keys[i]->hash)];
		uint16_t tag = hash_tag(keys[i]->hash);
		unsigned m2 = tag_mask(b2, tag);
		cand[i] = take_candidate(b2, &m2, tag);
		searched |= 1u << i;
		if (cand[i]) {
			__builtin_prefetch(cand[i]);
			__builtin_prefetch((const uint8_t *)cand[i] + 64);
		}
	}
	st->second_reads += (uint64_t)__builtin_popcount(second);
	/* 3. compare keys; a tag collision falls back to the rest */
	for (unsigned i = 0; i < n; i++) {
		const struct cache_entry *e = cand[i];
		if (e && !key_matches(e, keys[i])) {
			bool in_b2 = searched >> i & 1;
			/* A collision in the second bucket: the first has no
			 * other match; one in the first: try the rest, then the
			 * second if it has overflowed. */
			e = scan_rest(t, keys[i], in_b2 ? 0 : rest[i],
				      in_b2 || __atomic_load_n(&b1[i]->over,
							       __ATOMIC_ACQUIRE));
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

/* The view a client gets: the plain one (without DNSSEC records) when the
 * entry has one and the client did not set DO; the full one otherwise, read
 * from the entry's header (unsigned data's only view: no extra load). */
static inline void entry_view(const struct cache_entry *e, const struct dns_query *q,
			      struct view *v)
{
	if (__builtin_expect(e->plain_off != 0, 0) &&
	    !(q->has_edns && (q->edns.flags & DNS_EDNS_F_DO))) {
		const uint8_t *p = e->data + e->plain_off;
		struct plain_hdr h;
		memcpy(&h, p, sizeof(h));
		memcpy(v->plain, h.count, sizeof(v->plain));
		v->count = v->plain;
		v->nttl = h.nttl;
		v->sec_len = h.sec_len;
		v->ttls = p + sizeof(h);
		v->offs = v->ttls + 4 * (size_t)h.nttl;
		v->sections = v->offs + 2 * (size_t)h.nttl;
		return;
	}
	v->count = e->count;
	v->nttl = e->nttl;
	v->sec_len = e->sec_len;
	v->ttls = e_ttls(e);
	v->offs = e_offs(e);
	v->sections = e_sections(e);
}

static inline int answer(const struct cache *c, const struct cache_entry *e,
			 enum cache_state state, const struct dns_query *q,
			 uint32_t now, uint8_t *out, size_t cap, bool stream)
{
	size_t qlen = (size_t)q->qname_len + 4;
	size_t client = stream ? 65535 : dns_query_udp_size(q);
	size_t opt = q->has_edns ? DNS_OPT_LEN : 0;
	size_t base = DNS_HDR_LEN + qlen;
	bool fits;
	uint16_t flags;
	struct view v;

	if (client < cap)
		cap = client;
	if (base + opt > cap)
		return DNS_E_SPACE;
	entry_view(e, q, &v);
	fits = base + v.sec_len + opt <= cap;
	flags = DNS_F_QR | DNS_F_RA | e->rcode |
		(q->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD));
	if (dns_query_takes_ad(q))
		flags |= e->flags & DNS_F_AD;
	if (!fits)
		flags |= DNS_F_TC;
	dns_put16(out, q->id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, fits ? v.count[0] : 0);
	dns_put16(out + 8, fits ? v.count[1] : 0);
	dns_put16(out + 10, (uint16_t)((fits ? v.count[2] : 0) + (opt ? 1 : 0)));
	if (out != q->wire) /* a worker answers in the query's own buffer */
		dns_copy(out + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen);
	size_t len = base;
	if (fits) {
		uint8_t *sec = out + base;
		uint32_t age = now - e->inserted;
		uint32_t max_ttl = __atomic_load_n(&c->cfg.max_ttl, __ATOMIC_RELAXED);
		uint32_t stale_ttl = __atomic_load_n(&c->cfg.stale_answer_ttl, __ATOMIC_RELAXED);

		dns_copy(sec, v.sections, v.sec_len);
		for (unsigned i = 0; i < v.nttl; i++) {
			uint32_t orig, ttl;
			uint16_t off;
			memcpy(&orig, v.ttls + 4 * i, 4);
			memcpy(&off, v.offs + 2 * i, 2);
			ttl = state >= CACHE_STALE ? stale_ttl : orig > age ? orig - age : 0;
			if (ttl > max_ttl)
				ttl = max_ttl;
			dns_put32(sec + off, ttl);
		}
		len += v.sec_len;
	}
	if (opt) {
		uint8_t *at = out + len;
		len += dns_opt_put(at, __atomic_load_n(&c->cfg.edns_udp_size, __ATOMIC_RELAXED),
				   q->edns.flags);
		/* an expired entry served (RFC 8767) says so (RFC 8914 4.4),
		 * then why the data is as it is (e.g. insecure: 27, RFC
		 * 9276), when there is room: neither costs the records */
		if (state >= CACHE_STALE && len + DNS_EDE_LEN <= cap)
			len += dns_opt_put_ede(at, out + len, DNS_EDE_STALE_ANSWER);
		if (e->ede && len + DNS_EDE_LEN <= cap)
			len += dns_opt_put_ede(at, out + len, e->ede);
	}
	return (int)len;
}

int cache_answer(const struct cache *c, const struct cache_entry *e,
		 enum cache_state state, const struct dns_query *q,
		 uint32_t now, uint8_t *out, size_t cap)
{
	return answer(c, e, state, q, now, out, cap, false);
}

int cache_answer_stream(const struct cache *c, const struct cache_entry *e,
			enum cache_state state, const struct dns_query *q,
			uint32_t now, uint8_t *out, size_t cap)
{
	return answer(c, e, state, q, now, out, cap, true);
}

/* --- the writer ---------------------------------------------------------- */

void cache_reader_quiescent(void)
{
	TSAN_RELEASE(&cache_qsbr_token);
	urcu_qsbr_quiescent_state();
}

static void entry_free_cb(struct rcu_head *head)
{
	struct cache_entry *e = caa_container_of(head, struct cache_entry, rcu);

	TSAN_ACQUIRE(&cache_qsbr_token);
	TSAN_ACQUIRE(e);
	cache_mem_free(e);
}

static void table_free_cb(struct rcu_head *head)
{
	struct cache_table *t = caa_container_of(head, struct cache_table, rcu);

	TSAN_ACQUIRE(&cache_qsbr_token);
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

static uint64_t bucket_of(const struct cache_table *t, const uint64_t *slot)
{
	return (uint64_t)((const uint8_t *)slot - (const uint8_t *)t->b) /
	       sizeof(struct cache_bucket);
}

/* Stores e in slot, counting it in its first bucket's overflow when the
 * slot is in its second (the count goes up before the entry appears). */
static void slot_put(struct cache_table *t, uint64_t *slot,
		     const struct cache_entry *e)
{
	struct cache_bucket *home = &t->b[bucket1(t, e->hash)];

	if (bucket_of(t, slot) != (uint64_t)(home - t->b))
		__atomic_store_n(&home->over, home->over + 1, __ATOMIC_RELEASE);
	slot_store(slot, e);
}

/* Empties slot (the count goes down after the entry is gone). */
static void slot_clear(struct cache_table *t, uint64_t *slot)
{
	const struct cache_entry *e = slot_entry(*slot);
	struct cache_bucket *home = &t->b[bucket1(t, e->hash)];

	slot_store(slot, NULL);
	if (bucket_of(t, slot) != (uint64_t)(home - t->b))
		__atomic_store_n(&home->over, home->over - 1, __ATOMIC_RELEASE);
}

/* Takes the entry out of its slot; it is freed after a grace period. */
static void drop_slot(struct cache *c, uint64_t *slot)
{
	const struct cache_entry *e = slot_entry(*slot);

	slot_clear(c->table, slot);
	retire_entry(c, e);
}

void cache_set_edns_udp_size(struct cache *c, uint16_t size)
{
	__atomic_store_n(&c->cfg.edns_udp_size, size, __ATOMIC_RELAXED);
}

void cache_set_limits(struct cache *c, const struct cache_config *cfg)
{
	struct cache_config *k = &c->cfg;
	bool lower = cfg->max_ttl < k->max_ttl || cfg->max_negative_ttl < k->max_negative_ttl;

	/* readers load the ones they use one by one: any mix of old and new
	 * is a valid configuration for one answer */
	__atomic_store_n(&k->max_ttl, cfg->max_ttl, __ATOMIC_RELAXED);
	__atomic_store_n(&k->stale_answer_ttl, cfg->stale_answer_ttl, __ATOMIC_RELAXED);
	__atomic_store_n(&k->max_stale, cfg->max_stale, __ATOMIC_RELAXED);
	__atomic_store_n(&k->prefetch_percent, cfg->prefetch_percent, __ATOMIC_RELAXED);
	k->min_ttl = cfg->min_ttl;
	k->max_negative_ttl = cfg->max_negative_ttl;
	if (lower) { /* every slot looked at again, from the first */
		c->trim_table = c->table;
		c->trim_pos = 0;
	}
}

void cache_flush_epoch(struct cache *c)
{
	__atomic_store_n(&c->epoch, (uint16_t)(c->epoch + 1), __ATOMIC_RELAXED);
	c->trim_table = c->table;
	c->trim_pos = 0;
}

static void drop_cut_markers(struct cache *c, const uint8_t *name, uint16_t qclass);

int cache_flush_names(struct cache *c, unsigned mode, const uint8_t *name, uint32_t now)
{
	if ((mode != CACHE_FLUSH_NAME && mode != CACHE_FLUSH_ZONE &&
	     mode != CACHE_FLUSH_NEGATIVE) ||
	    (mode != CACHE_FLUSH_NEGATIVE && (!name || dns_name_check(name, DNS_NAME_MAX) < 0)))
		return DNS_E_INVAL;
	if (c->fl_mode)
		return CACHE_E_BUSY;
	/* to read CNAME entries' owners (none: those entries are not read) */
	if (mode != CACHE_FLUSH_NEGATIVE && !c->fl_msg)
		c->fl_msg = malloc(DNS_MSG_MAX);
	if (mode != CACHE_FLUSH_NEGATIVE) {
		dns_name_copy_lower(c->fl_name, name);
		/* RFC 8020 markers above the name deny it too: gone at once
		 * (those at and below it are the trim's) */
		drop_cut_markers(c, c->fl_name, DNS_C_IN);
	}
	c->fl_mode = mode;
	c->fl_at = now;
	c->fl_removed = 0;
	c->trim_table = c->table;
	c->trim_pos = 0;
	return 0;
}

bool cache_flush_busy(const struct cache *c, uint64_t *removed)
{
	if (removed)
		*removed = c->fl_removed;
	return c->fl_mode != 0;
}

/* Whether c's flush takes name (lower-cased or not). */
static bool flushed_name(const struct cache *c, const uint8_t *name)
{
	return c->fl_mode == CACHE_FLUSH_NAME ? dns_name_equal(name, c->fl_name)
					      : dns_name_is_subdomain(name, c->fl_name);
}

/* Whether an owner or a CNAME target in e's answer section is the flushed
 * name (or below it, for a zone): a CNAME chain's later names have their
 * records, or their denial, in the entry of the chain's question too.
 * Without the buffer to read it in, every such entry is taken. */
static bool answer_has_flushed(const struct cache *c, const struct cache_entry *e)
{
	uint8_t *m = c->fl_msg;
	size_t len = DNS_HDR_LEN + e->name_len + 4 + e->sec_len;
	struct dns_msg msg;
	struct dns_rr_iter it;
	struct dns_rr rr;

	if (!m)
		return true;
	if (len > DNS_MSG_MAX)
		return false;
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m + 2, DNS_F_QR | e->rcode);
	dns_put16(m + 4, 1);
	dns_put16(m + 6, e->count[0]);
	dns_put16(m + 8, e->count[1]);
	dns_put16(m + 10, e->count[2]);
	memcpy(m + DNS_HDR_LEN, e->data, e->name_len);
	dns_put16(m + DNS_HDR_LEN + e->name_len, e->qtype);
	dns_put16(m + DNS_HDR_LEN + e->name_len + 2, e->qclass);
	memcpy(m + DNS_HDR_LEN + e->name_len + 4, e_sections(e), e->sec_len);
	if (dns_msg_parse(&msg, m, len) != 0)
		return false;
	dns_rr_iter_init(&it, &msg, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_ANSWER) {
		uint8_t target[DNS_NAME_MAX];

		if (flushed_name(c, rr.owner) ||
		    (rr.type == DNS_T_CNAME &&
		     dns_rr_rdata(&msg, &rr, target, sizeof(target)) > 0 &&
		     flushed_name(c, target)))
			return true;
	}
	return false;
}

/* Does the flush in progress take e? Entries made after it began are
 * answers resolved since: they stay. */
static bool flush_takes(const struct cache *c, const struct cache_entry *e, bool negative)
{
	if (!c->fl_mode)
		return false;
	if (e->inserted > c->fl_at)
		return false;
	switch (c->fl_mode) {
	case CACHE_FLUSH_NAME:
		return dns_name_same(e->data, c->fl_name) ||
		       ((e->kinds & CACHE_KIND_CNAME) && answer_has_flushed(c, e));
	case CACHE_FLUSH_ZONE:
		return dns_name_is_subdomain(e->data, c->fl_name) ||
		       ((e->kinds & CACHE_KIND_CNAME) && answer_has_flushed(c, e));
	case CACHE_FLUSH_NEGATIVE:
		return negative;
	}
	return false;
}

/* Does the trim in progress remove e: 1 for a lowered bound or an old
 * epoch, 2 for the operator's flush, 0 not at all. */
static int trim_takes(const struct cache *c, const struct cache_entry *e, uint32_t now)
{
	const struct cache_config *k = &c->cfg;
	bool negative = e->rcode == DNS_R_NXDOMAIN || !e->count[0];
	uint32_t bound = negative ? k->max_negative_ttl : k->max_ttl;

	if (e->epoch != c->epoch || (e->expire > now && e->expire - now > bound))
		return 1;
	return flush_takes(c, e, negative) ? 2 : 0;
}

uint64_t cache_trim(struct cache *c, uint32_t now, uint64_t max_slots, uint64_t *removed)
{
	struct cache_table *t = c->table;

	if (!c->trim_table)
		return 0;
	if (c->trim_table != t) { /* the index grew meanwhile: again */
		c->trim_table = t;
		c->trim_pos = 0;
	}
	uint64_t end = table_slots(t) - c->trim_pos > max_slots ? c->trim_pos + max_slots
								 : table_slots(t);
	for (uint64_t i = c->trim_pos; i < end; i++) {
		uint64_t *slot = slot_at(t, i);
		if (!*slot)
			continue;
		int why = trim_takes(c, slot_entry(*slot), now);
		if (why) {
			drop_slot(c, slot);
			*(why == 1 ? removed : &c->fl_removed) += 1;
		}
	}
	uint64_t looked = end - c->trim_pos;
	c->trim_pos = end;
	if (end == table_slots(t)) {
		c->trim_table = NULL;
		c->fl_mode = 0; /* every slot looked at since it began */
	}
	return looked;
}

struct cache *cache_new(const struct cache_config *cfg)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	if (getrandom(c->seed, sizeof(c->seed), 0) != sizeof(c->seed) ||
	    !(c->scratch = malloc(SCRATCH_BUFS * (size_t)DNS_MSG_MAX)) ||
	    cache_mem_init(&c->mem) != 0 ||
	    !(c->table = table_new(c, TABLE_MIN_BUCKETS))) {
		free(c->scratch);
		free(c);
		return NULL;
	}
	return c;
}

bool cache_walk(const struct cache *c, uint64_t *pos, uint64_t max_slots, uint32_t now,
		cache_walk_cb cb, void *arg)
{
	struct cache_table *t = c->table;
	uint64_t n = table_slots(t), i = *pos < n ? *pos : n;
	uint64_t end = n - i > max_slots ? i + max_slots : n;

	for (; i < end; i++) {
		uint64_t v = *slot_at(t, i);
		if (!v)
			continue;
		const struct cache_entry *e = slot_entry(v);
		if (e->epoch != c->epoch || now >= e->stale_until)
			continue;
		struct cache_entry_info x = {
			.qname = e->data,
			.qtype = e->qtype,
			.qclass = e->qclass,
			.rcode = e->rcode,
			.rank = e->rank,
			.ede = e->ede,
			.full = e->full,
			.secure = (e->flags & DNS_F_AD) != 0,
			.stale = now >= e->expire,
			.ttl_s = now < e->expire ? e->expire - now : 0,
			.stale_s = e->stale_until - (now < e->expire ? e->expire : now),
			.bytes = e->bytes,
			.records = (uint16_t)(e->count[0] + e->count[1] + e->count[2]),
		};
		cb(arg, &x);
	}
	*pos = end < n ? end : 0;
	return end < n;
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
	free(c->scratch);
	free(c->fl_msg);
	free(c);
}

void cache_get_stats(const struct cache *c, struct cache_stats *st)
{
	*st = c->st;
	st->bytes = c->entry_bytes + c->table->bytes;
}

int cache_check(const struct cache *c)
{
	const struct cache_table *t = c->table;
	uint64_t buckets = t->mask + 1, entries = 0, bytes = 0;
	uint64_t *over = calloc(buckets, sizeof(*over));
	int faults = 0;

	if (!over)
		return 1;
	for (uint64_t b = 0; b < buckets; b++)
		for (unsigned s = 0; s < CACHE_BUCKET_SLOTS; s++) {
			uint64_t v = t->b[b].slot[s];
			if (!v)
				continue;
			const struct cache_entry *e = slot_entry(v);
			uint64_t home = bucket1(t, e->hash);
			entries++;
			bytes += e->bytes;
			faults += (uint16_t)(v >> PTR_BITS) != hash_tag(e->hash);
			if (b != home) {
				faults += b != bucket2(t, e->hash);
				over[home]++;
			}
		}
	for (uint64_t b = 0; b < buckets; b++)
		faults += over[b] != t->b[b].over;
	free(over);
	faults += entries != c->st.entries;
	faults += bytes != c->entry_bytes;
	return faults;
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
			/* one the trim in progress would take goes now: moved,
			 * it could land behind the trim's position and stay
			 * (a flush reported done with it still held) */
			int why = c->trim_table ? trim_takes(c, e, now) : 0;
			if (why) {
				if (why == 2)
					c->fl_removed++;
				drop_slot(c, &bs[i]->slot[s]);
				return &bs[i]->slot[s];
			}
			uint64_t alt = bucket1(t, e->hash);
			if (&t->b[alt] == bs[i])
				alt = bucket2(t, e->hash);
			for (unsigned a = 0; a < CACHE_BUCKET_SLOTS; a++)
				if (!t->b[alt].slot[a]) {
					slot_put(t, &t->b[alt].slot[a], e);
					slot_clear(t, &bs[i]->slot[s]);
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
			slot_put(t, slot, e);
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
	uint32_t neg_cap;	/* a negative entry's TTL bound (RFC 2308 5) */
	uint16_t ede;		/* its OPT's Extended DNS Error, or DNS_EDE_NONE */
};

/* The EDE info-code an entry keeps (1..255; see struct cache_entry). */
static inline uint8_t ede_kept(uint16_t code)
{
	return code != DNS_EDE_NONE && code >= 1 && code <= 255 ? (uint8_t)code : 0;
}

static int plan_message(const struct cache *c, struct msg_plan *p,
			const uint8_t *msg, size_t len)
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
	p->ede = p->m.has_edns ? dns_opt_find_ede(msg + p->m.edns.opts_off, p->m.edns.opts_len)
			       : DNS_EDE_NONE;
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
	 * with no answer is a referral, which is not the message cache's. Its
	 * TTL is bounded by the SOA's TTL and MINIMUM and max_negative_ttl; a
	 * bound of 0 says "do not cache" (min_ttl or not). */
	if (p->negative) {
		if (!p->has_soa)
			return CACHE_E_UNCACHEABLE;
		p->neg_cap = p->soa_ttl < p->soa_min ? p->soa_ttl : p->soa_min;
		if (p->neg_cap > c->cfg.max_negative_ttl)
			p->neg_cap = c->cfg.max_negative_ttl;
		if (!p->neg_cap)
			return CACHE_E_UNCACHEABLE;
	}
	/* TTL 0 means "do not cache" unless the operator set a minimum
	 * (unbound's cache-min-ttl does the same). */
	if (p->nttl == 0 || (p->min_ttl == 0 && c->cfg.min_ttl == 0))
		return CACHE_E_UNCACHEABLE;
	if (p->sec_end - p->sec_start > UINT16_MAX)
		return CACHE_E_MSG;
	return 0;
}

/*
 * One view of planned message p: its record TTLs clamped to
 * [min_ttl, cap], their offsets within the sections, and the sections, at
 * ttls, offs and sec; what its answer section holds (CACHE_KIND_*) to
 * *kinds. Returns the shortest TTL.
 */
static uint32_t put_view(const struct cache *c, const struct msg_plan *p, uint32_t cap,
			 uint8_t *ttls, uint8_t *offs, uint8_t *sec, uint8_t *kinds)
{
	struct dns_rr_iter it;
	struct dns_rr rr;
	unsigned i = 0;
	uint32_t life = UINT32_MAX;

	dns_rr_iter_init(&it, &p->m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0 && i < p->nttl) {
		if (rr.type == DNS_T_OPT)
			continue;
		if (rr.section == DNS_SEC_ANSWER)
			*kinds |= rr.type == DNS_T_CNAME ? CACHE_KIND_CNAME
				: rr.type == DNS_T_A || rr.type == DNS_T_AAAA ? CACHE_KIND_ADDR : 0;
		uint32_t ttl = rr.ttl < c->cfg.min_ttl ? c->cfg.min_ttl : rr.ttl;
		if (ttl > cap)
			ttl = cap;
		uint16_t off = (uint16_t)(rr.ttl_off - p->sec_start);
		memcpy(ttls + 4 * i, &ttl, 4);
		memcpy(offs + 2 * i, &off, 2);
		if (ttl < life)
			life = ttl;
		i++;
	}
	memcpy(sec, p->m.wire + p->sec_start, p->sec_end - p->sec_start);
	return life;
}

/*
 * The entry for planned message p (full: assembled with its DNSSEC
 * records), with TTLs clamped; plain: the same message without the records
 * a client without DO must not see, or NULL when it has none. NULL on
 * failure.
 */
static struct cache_entry *entry_new(struct cache *c, const struct msg_plan *p,
				     const struct msg_plan *plain, uint32_t now,
				     uint8_t rank, bool full, uint16_t qtype)
{
	const struct cache_config *cfg = &c->cfg;
	struct cache_key k;
	size_t name_len = dns_name_len(p->m.qname);
	size_t sec_len = p->sec_end - p->sec_start;
	size_t plain_off = ttl_base((uint8_t)name_len) + 6 * (size_t)p->nttl + sec_len;
	size_t plain_len = plain ? sizeof(struct plain_hdr) + 6 * (size_t)plain->nttl +
					   (plain->sec_end - plain->sec_start) : 0;
	size_t size = sizeof(struct cache_entry) + plain_off + plain_len;
	uint32_t cap;
	size_t usable;
	struct cache_entry *e;

	if (plain && plain_off > UINT16_MAX)
		return NULL;
	if (!(e = cache_mem_alloc(&c->mem, size, &usable)))
		return NULL;
	cap = p->negative ? p->neg_cap : cfg->max_ttl;
	memset(e, 0, sizeof(*e));
	key_fill(&k, c, p->m.qname, name_len, qtype, p->m.qclass, false);
	e->name_len = (uint8_t)name_len;
	memcpy(e->data, k.name, name_len);
	e->qtype = qtype;
	e->qclass = p->m.qclass;
	e->full = full;
	e->hash = k.hash;
	e->rank = rank;
	e->rcode = (uint8_t)p->m.rcode;
	e->flags = rank == CACHE_RANK_SECURE ? DNS_F_AD : 0;
	e->ede = ede_kept(p->ede);
	for (int s = 0; s < 3; s++)
		e->count[s] = p->m.hdr.count[s + 1];
	if (p->sec_end < p->m.len)
		e->count[2]--; /* the OPT we cut */
	e->nttl = (uint16_t)p->nttl;
	e->sec_len = (uint16_t)sec_len;
	e->bytes = (uint32_t)usable;

	/* The entry lives as long as its shortest TTL: the full view holds
	 * every record the plain one does. */
	uint32_t life = put_view(c, p, cap, (uint8_t *)e_ttls(e), (uint8_t *)e_offs(e),
				 (uint8_t *)e_sections(e), &e->kinds);
	if (plain) {
		uint8_t *at = e->data + plain_off;
		struct plain_hdr h = { .nttl = (uint16_t)plain->nttl,
				       .sec_len = (uint16_t)(plain->sec_end - plain->sec_start) };
		for (int s = 0; s < 3; s++)
			h.count[s] = plain->m.hdr.count[s + 1]; /* no OPT: rewritten */
		memcpy(at, &h, sizeof(h));
		at += sizeof(h);
		uint8_t same = 0; /* the full view's: a subset of its records */
		put_view(c, plain, cap, at, at + 4 * (size_t)h.nttl, at + 6 * (size_t)h.nttl,
			 &same);
		e->plain_off = (uint16_t)plain_off;
	}
	e->inserted = now;
	e->epoch = c->epoch;
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
	k.name_len = e->name_len;
	k.dnssec = 0;
	memcpy(k.name, e->data, e->name_len);
	if ((slot = find_slot(c->table, &k))) {
		const struct cache_entry *old = slot_entry(*slot);
		/* An entry with its DNSSEC records answers every client, one
		 * without them only some: a fresh full one stays, whatever
		 * the ranks (both come from our own resolutions: a minimised
		 * question's AA reply must not keep a chain's answer out);
		 * between two alike a fresh one stays for a lower rank. */
		/* ... unless the new one carries a newer policy verdict:
		 * a verdict belongs to the data it was found on, and the
		 * workers ask again while the entry's is old */
		bool newer_tag = e->tag_gen && (int32_t)(e->tag_gen - old->tag_gen) > 0;
		if (now < old->expire && !newer_tag && old->epoch == c->epoch &&
		    (old->full != e->full ? old->full : old->rank > e->rank)) {
			cache_mem_free(e);
			return CACHE_E_RANK;
		}
		slot_store(slot, e);
		retire_entry(c, old);
		c->st.replacements++;
	} else {
		slot_put(c->table, free_slot(c, c->table, e->hash, now), e);
	}
	c->entry_bytes += e->bytes;
	c->st.entries++;
	c->st.inserts++;
	return 0;
}

/* A name that exists (an answer, a chain link, NODATA) at or below a cut
 * makes the cut wrong: drop the markers at the name and its ancestors. */
static void drop_cut_markers(struct cache *c, const uint8_t *name, uint16_t qclass)
{
	for (const uint8_t *p = name;; p += *p + 1) {
		struct cache_key k;

		cache_key_init(&k, c, p, CUT_QTYPE, qclass, false);
		cache_remove(c, &k);
		if (*p == 0)
			break;
	}
}

/*
 * The end of the CNAME chain that starts at the question, into out
 * (lower-cased): the name an NXDOMAIN denies. The chain is followed through
 * the answer section in any record order, one link per answer record at
 * most, so a looping chain ends. DNAMEs need no step of their own: an
 * answer carries the CNAME synthesized beside each (RFC 6672 3.1).
 */
static void chain_end(const struct msg_plan *p, uint8_t *out)
{
	unsigned links = p->m.hdr.count[DNS_SEC_ANSWER];

	dns_name_copy_lower(out, p->m.qname);
	for (unsigned step = 0; step < links; step++) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		bool moved = false;

		dns_rr_iter_init(&it, &p->m, DNS_SEC_ANSWER);
		while (!moved && dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_ANSWER) {
			uint8_t target[DNS_NAME_MAX];
			if (rr.type != DNS_T_CNAME || !dns_name_equal(rr.owner, out) ||
			    dns_rr_rdata(&p->m, &rr, target, sizeof(target)) <= 0)
				continue;
			dns_name_copy_lower(out, target);
			moved = true;
		}
		if (!moved)
			return;
	}
}

/*
 * The marker's message for the NXDOMAIN planned in p, denying end, into buf
 * (DNS_MSG_MAX octets): question (end, type 0), the authority section
 * alone with every name written out in full; strip: without the records a
 * client without DO must not see. Its length, or 0 when the SOA does not
 * cover end (or is missing) or it does not fit.
 */
static size_t marker_msg(const struct msg_plan *p, const uint8_t *end, bool strip,
			 uint8_t *buf)
{
	size_t endlen = dns_name_len(end), n;
	struct dns_rr_iter it;
	struct dns_rr rr;
	unsigned count = 0;
	bool soa = false;

	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf + 2, (uint16_t)(DNS_F_QR | DNS_R_NXDOMAIN));
	dns_put16(buf + 4, 1);
	memcpy(buf + DNS_HDR_LEN, end, endlen);
	n = DNS_HDR_LEN + endlen;
	dns_put16(buf + n, CUT_QTYPE);
	dns_put16(buf + n + 2, p->m.qclass);
	n += 4;
	dns_rr_iter_init(&it, &p->m, DNS_SEC_AUTHORITY);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_AUTHORITY) {
		size_t ol = dns_name_len(rr.owner);
		if (strip && dns_rr_needs_do(rr.type, DNS_SEC_AUTHORITY, CUT_QTYPE))
			continue;
		if (rr.type == DNS_T_SOA && !dns_name_is_subdomain(end, rr.owner))
			return 0; /* an SOA that does not cover the name */
		if (n + ol + DNS_RR_FIXED_LEN > DNS_MSG_MAX)
			return 0;
		memcpy(buf + n, rr.owner, ol);
		dns_put16(buf + n + ol, rr.type);
		dns_put16(buf + n + ol + 2, rr.rclass);
		dns_put32(buf + n + ol + 4, rr.ttl);
		int rl = dns_rr_rdata(&p->m, &rr, buf + n + ol + DNS_RR_FIXED_LEN,
				      DNS_MSG_MAX - (n + ol + DNS_RR_FIXED_LEN));
		if (rl < 0)
			return 0;
		dns_put16(buf + n + ol + 8, (uint16_t)rl);
		n += ol + DNS_RR_FIXED_LEN + (size_t)rl;
		soa |= rr.type == DNS_T_SOA;
		count++;
	}
	dns_put16(buf + 8, (uint16_t)count);
	return soa ? n : 0;
}

/*
 * RFC 8020: an NXDOMAIN says that its name and everything below it do not
 * exist. The marker is an entry under (the chain's end, type 0) that holds
 * the authority section alone, every name in it written out in full: its
 * answers go behind questions of any length, so no compression pointer may
 * point into the question it came with (they did, once). Clients without
 * DO get the SOA alone (RFC 4035 3.2.1: the plain view). The SOA must be
 * at or above the denied name, or nothing is made. The caller allows only
 * DNSSEC-secure NXDOMAINs assembled with their proofs (full): one forged
 * NXDOMAIN for a TLD would deny the whole TLD.
 */
static void insert_cut_marker(struct cache *c, const struct msg_plan *p,
			      uint32_t now, uint8_t rank)
{
	uint8_t end[DNS_NAME_MAX];
	struct msg_plan mp, pp;
	uint8_t *buf = c->scratch + DNS_MSG_MAX, *pbuf = c->scratch + 3 * (size_t)DNS_MSG_MAX;
	size_t n, pn = 0;

	chain_end(p, end);
	if (!(n = marker_msg(p, end, false, buf)) || plan_message(c, &mp, buf, n) != 0)
		return;
	if (dns_msg_has_do_only(&mp.m) &&
	    (!(pn = marker_msg(p, end, true, pbuf)) || plan_message(c, &pp, pbuf, pn) != 0))
		return;
	struct cache_entry *cut = entry_new(c, &mp, pn ? &pp : NULL, now, rank, true, CUT_QTYPE);
	if (cut && enforce_budget(c, now, cut->bytes))
		publish(c, cut, now);
	else if (cut)
		cache_mem_free(cut);
}

/*
 * The planned message written again by dns/build.h (dns_msg_rewrite()) into
 * buf, its OPT left out (strip: and the records a client without DO must
 * not see), and planned anew into *out. An authority's compression
 * pointers may point anywhere earlier, into a TTL field or a type code; the
 * builder's point only at names it wrote. An entry's answers rewrite TTLs
 * and echo the client's question (the same name in any letter case), so
 * only then can no answer read a name differently from the message that
 * was cached. 0, CACHE_E_MSG, or CACHE_E_UNCACHEABLE (a message whose
 * records were all stripped).
 */
static int reencode(struct cache *c, const struct msg_plan *p, bool strip, uint8_t *buf,
		    struct msg_plan *out)
{
	int n = dns_msg_rewrite(&p->m, strip, buf, DNS_MSG_MAX,
				c->scratch + 2 * (size_t)DNS_MSG_MAX);
	int r;

	if (n < 0)
		return CACHE_E_MSG;
	r = plan_message(c, out, buf, (size_t)n);
	return r == CACHE_E_UNCACHEABLE && strip ? r : r ? CACHE_E_MSG : 0;
}

int cache_insert(struct cache *c, const uint8_t *msg, size_t len,
		 uint32_t now, enum cache_rank rank, bool full)
{
	return cache_insert_tagged(c, msg, len, now, rank, full, NULL);
}

int cache_insert_tagged(struct cache *c, const uint8_t *msg, size_t len, uint32_t now,
			enum cache_rank rank, bool full, const struct cache_tag *tag)
{
	struct msg_plan given, p, plain;
	struct cache_entry *e;
	bool strip;
	int r = plan_message(c, &given, msg, len);

	if (r) {
		c->st.uncacheable += r == CACHE_E_UNCACHEABLE;
		return r;
	}
	if (given.m.qtype == CUT_QTYPE)
		return CACHE_E_UNCACHEABLE;
	if ((r = reencode(c, &given, false, c->scratch, &p)))
		return r;
	p.ede = given.ede; /* the OPT was left out, its EDE is kept */
	/* the plain view: without them (clients without DO) */
	strip = dns_msg_has_do_only(&p.m);
	if (strip && (r = reencode(c, &p, true, c->scratch + 3 * (size_t)DNS_MSG_MAX, &plain))) {
		c->st.uncacheable += r == CACHE_E_UNCACHEABLE;
		return r;
	}
	maybe_grow(c);
	if (!(e = entry_new(c, &p, strip ? &plain : NULL, now, (uint8_t)rank, full, p.m.qtype)))
		return CACHE_E_NOMEM;
	if (tag) {
		e->tag_gen = (uint32_t)tag->gen;
		e->tag_verdict = tag->verdict;
	}
	if (!enforce_budget(c, now, e->bytes)) {
		cache_mem_free(e);
		return CACHE_E_NOMEM;
	}
	if ((r = publish(c, e, now)))
		return r;
	/* A name with a CNAME exists; so does the end of a chain that was
	 * not denied. */
	uint8_t end[DNS_NAME_MAX];
	chain_end(&p, end);
	if (!dns_name_equal(end, p.m.qname) || p.m.rcode != DNS_R_NXDOMAIN)
		drop_cut_markers(c, p.m.qname, p.m.qclass);
	if (p.m.rcode != DNS_R_NXDOMAIN)
		drop_cut_markers(c, end, p.m.qclass);
	else if (rank == CACHE_RANK_SECURE && full)
		insert_cut_marker(c, &p, now, (uint8_t)rank);
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
					     uint16_t qclass, uint32_t now)
{
	struct cache_reader_stats st = { 0 };

	for (const uint8_t *p = qname;; p += *p + 1) {
		struct cache_key k;
		const struct cache_key *kp = &k;
		struct cache_result res;

		cache_key_init(&k, c, p, CUT_QTYPE, qclass, false);
		cache_lookup_burst(c, &kp, 1, now, &res, &st);
		if (res.entry && (res.state == CACHE_HIT ||
				  res.state == CACHE_HIT_PREFETCH))
			return res.entry;
		if (*p == 0)
			return NULL;
	}
}
