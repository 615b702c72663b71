/*
 * tests/cache/stress_nsec.c: readers on other threads proving NXDOMAIN and
 * NODATA from the NSEC store while its writer keeps replacing ranges,
 * switching a zone between two chains (so that inserts prune), re-salting
 * an NSEC3 chain, dropping expired zones and evicting zones under a tight
 * byte budget. A plain program (not Criterion, whose runner does not
 * survive ThreadSanitizer) so that it runs in the release, ASan and TSan
 * builds alike.
 *
 * What readers know whatever the writer does: in st.lab (NSEC, ranges only
 * replaced) and for the even names of pr.lab (NSEC, switched between the
 * chains "all 32 names" and "even names only") the verdict is fixed: NODATA
 * for a name, NXDOMAIN for a name sorting just after one. Elsewhere (odd
 * names of pr.lab, the re-salted n3.lab, churn zones) any verdict may come,
 * but every proof must hold up: each blob carries its owner, next (names or
 * hashes, with the NSEC3 salt and iterations) and a checksum, and the
 * reader checks that the ranges it was given really match or cover qname
 * and the wildcard, and that an NSEC3 proof never mixes two chains. Half
 * the lookups go through a memo of the last zone (cache_nsec_lookup_memo()),
 * forgotten before each quiescent state, while zones come and go.
 *
 * Usage: stress_nsec [SECONDS] [READERS]   (default 2 s, 2 readers; the
 * order of stress_msgcache, which scripts/test runs the same way). Prints
 * one summary line last; exit 0 only when every check passed and the
 * writer really pruned, re-salted, expired and evicted meanwhile.
 */
#define _LGPL_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "cache/nsec.h"
#include "dns/name.h"
#include "dns/wire.h"

#define READERS_MAX 8
#define NAMES 32		/* names in st.lab, pr.lab and n3.lab */
#define CHURN_RANGES 24		/* ranges in each churn zone */
#define FAR 100000000u		/* expiry of the ranges that must stay */
#define T0 1000u		/* the writer's clock starts here */
#define NSEC3_ITER_MAX 2	/* re-salts cycle through 0..2 iterations */

static struct cache_nsec *shared;
static uint32_t clock_now = T0;	/* atomic: the writer's clock */
static int stop;		/* atomic */

static void die(const char *what)
{
	fprintf(stderr, "stress_nsec: %s\n", what);
	exit(1);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void name_of(uint8_t *out, const char *fmt, int i)
{
	char s[64];

	snprintf(s, sizeof(s), fmt, i);
	if (dns_name_from_str(s, out) <= 0)
		die("bad name");
}

/* ---- blobs: what a reader checks a proof against ---- */

/* NSEC: 'N', generation, owner, next, checksum of what precedes. */
static size_t nsec_blob(uint8_t *b, uint32_t gen, const uint8_t *owner,
			const uint8_t *next)
{
	size_t p = 0, l;

	b[p++] = 'N';
	dns_put32(b + p, gen);
	p += 4;
	l = dns_name_len(owner);
	memcpy(b + p, owner, l);
	p += l;
	l = dns_name_len(next);
	memcpy(b + p, next, l);
	p += l;
	dns_put32(b + p, fnv(b, p));
	return p + 4;
}

/* NSEC3: '3', iterations, salt length, salt, owner hash, next hash,
 * checksum. */
static size_t nsec3_blob(uint8_t *b, uint16_t iter, const uint8_t *salt,
			 uint8_t salt_len, const uint8_t *h, const uint8_t *next)
{
	size_t p = 0;

	b[p++] = '3';
	dns_put16(b + p, iter);
	p += 2;
	b[p++] = salt_len;
	memcpy(b + p, salt, salt_len);
	p += salt_len;
	memcpy(b + p, h, CACHE_NSEC3_HASH_LEN);
	p += CACHE_NSEC3_HASH_LEN;
	memcpy(b + p, next, CACHE_NSEC3_HASH_LEN);
	p += CACHE_NSEC3_HASH_LEN;
	dns_put32(b + p, fnv(b, p));
	return p + 4;
}

static bool blob_sum_ok(const struct cache_nsec_blob *b)
{
	return b->len >= 5 &&
	       fnv(b->data, b->len - 4u) == dns_get32(b->data + b->len - 4);
}

/* An NSEC blob's owner and next, or false. */
static bool nsec_blob_parse(const struct cache_nsec_blob *b,
			    const uint8_t **owner, const uint8_t **next)
{
	if (!blob_sum_ok(b) || b->len < 9 || b->data[0] != 'N')
		return false;
	size_t room = b->len - 9u;
	int l1 = dns_name_check(b->data + 5, room);

	if (l1 < 0)
		return false;
	int l2 = dns_name_check(b->data + 5 + l1, room - (size_t)l1);

	if (l2 < 0 || (size_t)l1 + (size_t)l2 != room)
		return false;
	*owner = b->data + 5;
	*next = b->data + 5 + l1;
	return true;
}

struct n3blob {
	uint16_t iter;
	uint8_t salt_len;
	const uint8_t *salt, *h, *next;
};

static bool nsec3_blob_parse(const struct cache_nsec_blob *b,
			     struct n3blob *out)
{
	if (!blob_sum_ok(b) || b->len < 8 || b->data[0] != '3')
		return false;
	out->iter = dns_get16(b->data + 1);
	out->salt_len = b->data[3];
	if (b->len != 4u + out->salt_len + 2 * CACHE_NSEC3_HASH_LEN + 4)
		return false;
	out->salt = b->data + 4;
	out->h = out->salt + out->salt_len;
	out->next = out->h + CACHE_NSEC3_HASH_LEN;
	return true;
}

/* NSEC: does (owner, next) cover name (owner < name < next, or the
 * last range wrapping to apex)? */
static bool nsec_covers(const uint8_t *owner, const uint8_t *next,
			const uint8_t *apex, const uint8_t *name)
{
	return dns_name_cmp(owner, name) < 0 &&
	       (dns_name_equal(next, apex) || dns_name_cmp(name, next) < 0);
}

static bool nsec3_covers(const struct n3blob *r, const uint8_t *h)
{
	int lo = memcmp(r->h, h, CACHE_NSEC3_HASH_LEN);
	int hi = memcmp(h, r->next, CACHE_NSEC3_HASH_LEN);

	if (memcmp(r->h, r->next, CACHE_NSEC3_HASH_LEN) >= 0)
		return lo < 0 || hi < 0;
	return lo < 0 && hi < 0;
}

/* ---- readers ---- */

enum expect {
	EXPECT_ANY,	 /* any verdict, but a proof must hold up */
	EXPECT_NODATA,
	EXPECT_NXDOMAIN,
};

struct query {
	uint8_t name[DNS_NAME_MAX];
	uint8_t apex[DNS_NAME_MAX];
	uint8_t expect;
};

#define QUERIES (4 * NAMES + 2 * NAMES + 2 * NAMES + 16)
static struct query queries[QUERIES];
static int nqueries;

struct reader {
	pthread_t th;
	uint64_t lookups, fixed_ok, proofs, nsec3_proofs;
	uint64_t bad;
	char first_bad[200];
};

static const char *check_nsec(const struct query *q, int v,
			      const struct cache_nsec_proof *p)
{
	uint8_t wc[DNS_NAME_MAX];
	const uint8_t *owner, *next;

	for (unsigned i = 0; i < p->nrr; i++)
		if (!nsec_blob_parse(&p->rr[i], &owner, &next))
			return "NSEC blob torn or foreign";
	nsec_blob_parse(&p->rr[0], &owner, &next);
	if (v == CACHE_NSEC_NODATA)
		return p->nrr == 1 && dns_name_equal(owner, q->name)
			       ? NULL
			       : "NODATA from another owner";
	/* Every qname is one label below its apex: the closest encloser
	 * is the apex, the wildcard *.apex. */
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, q->apex, dns_name_len(q->apex));
	if (!nsec_covers(owner, next, q->apex, q->name))
		return "NXDOMAIN range does not cover qname";
	nsec_blob_parse(&p->rr[p->nrr - 1], &owner, &next);
	if (!nsec_covers(owner, next, q->apex, wc))
		return "NXDOMAIN range does not cover the wildcard";
	return NULL;
}

static bool n3_any_covers(const struct n3blob *r, unsigned nrr,
			  const uint8_t *h)
{
	for (unsigned i = 0; i < nrr; i++)
		if (nsec3_covers(&r[i], h))
			return true;
	return false;
}

static const char *check_nsec3(const struct query *q, int v,
			       const struct cache_nsec_proof *p)
{
	struct n3blob r[CACHE_NSEC_PROOF_RR_MAX];
	uint8_t h[CACHE_NSEC3_HASH_LEN], wc[DNS_NAME_MAX];

	if (p->nrr < 1 || p->nrr > CACHE_NSEC_PROOF_RR_MAX)
		return "NSEC3 range count";
	for (unsigned i = 0; i < p->nrr; i++) {
		if (!nsec3_blob_parse(&p->rr[i], &r[i]))
			return "NSEC3 blob torn or foreign";
		if (r[i].iter != r[0].iter || r[i].salt_len != r[0].salt_len ||
		    memcmp(r[i].salt, r[0].salt, r[0].salt_len))
			return "NSEC3 proof mixes two chains";
	}
	cache_nsec3_hash(q->name, r[0].salt, r[0].salt_len, r[0].iter, h);
	if (v == CACHE_NSEC_NODATA)
		return p->nrr == 1 && !memcmp(r[0].h, h, CACHE_NSEC3_HASH_LEN)
			       ? NULL
			       : "NSEC3 NODATA from another hash";
	/* rr[0] matches the closest encloser (the apex); the ranges
	 * covering the next closer name (qname) and the wildcard are in the
	 * proof too, once each (one range may do several of these jobs). */
	if (!n3_any_covers(r, p->nrr, h))
		return "next closer name not covered";
	cache_nsec3_hash(q->apex, r[0].salt, r[0].salt_len, r[0].iter, h);
	if (memcmp(r[0].h, h, CACHE_NSEC3_HASH_LEN))
		return "closest encloser does not match the apex";
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, q->apex, dns_name_len(q->apex));
	cache_nsec3_hash(wc, r[0].salt, r[0].salt_len, r[0].iter, h);
	if (!n3_any_covers(r, p->nrr, h))
		return "wildcard not covered";
	return NULL;
}

/* One proof checked against what it claims. NULL when fine. */
static const char *check(const struct query *q, uint32_t now, int v,
			 const struct cache_nsec_proof *p)
{
	if (q->expect == EXPECT_NODATA && v != CACHE_NSEC_NODATA)
		return "a name that always exists was not NODATA";
	if (q->expect == EXPECT_NXDOMAIN && v != CACHE_NSEC_NXDOMAIN)
		return "a name that never exists was not NXDOMAIN";
	if (v == CACHE_NSEC_NONE)
		return p->nrr == 0 ? NULL : "ranges listed without a proof";
	if (p->nrr < 1 || p->wildcard)
		return "odd proof shape";
	if (!dns_name_equal(p->zone, q->apex))
		return "proof from another zone";
	if (p->soa.len < 5 || !blob_sum_ok(&p->soa) || p->soa.data[0] != 'S')
		return "SOA blob torn or foreign";
	if (p->expire_at <= now)
		return "expired proof";
	for (unsigned i = 0; i < p->nrr; i++)
		if (p->rr[i].expire_at <= now)
			return "expired range";
	return p->nsec3 ? check_nsec3(q, v, p) : check_nsec(q, v, p);
}

static void *reader_main(void *arg)
{
	struct reader *me = arg;
	struct cache_nsec_proof p;
	/* half the lookups go through a memo of the last zone, as the
	 * workers' do, forgotten before each quiescent state */
	struct cache_nsec_memo memo = { 0 };
	uint32_t seed = (uint32_t)(uintptr_t)me | 1;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int burst = 0; burst < 16; burst++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			const struct query *q = &queries[seed % (uint32_t)nqueries];
			uint32_t now = __atomic_load_n(&clock_now,
						       __ATOMIC_RELAXED);
			int v = (seed >> 7) & 1
					? cache_nsec_lookup_memo(shared, &memo, q->name,
								 DNS_T_TXT, now, &p)
					: cache_nsec_lookup(shared, q->name, DNS_T_TXT,
							    now, &p);
			const char *bad = check(q, now, v, &p);

			me->lookups++;
			me->fixed_ok += !bad && q->expect != EXPECT_ANY;
			me->proofs += v != CACHE_NSEC_NONE;
			me->nsec3_proofs += v != CACHE_NSEC_NONE && p.nsec3;
			if (bad && !me->bad++)
				snprintf(me->first_bad, sizeof(me->first_bad),
					 "%s (verdict %d, why %d)", bad, v,
					 p.why);
		}
		cache_nsec_memo_forget(&memo);
		cache_nsec_reader_quiescent();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

/* ---- the writer ---- */

struct writer {
	uint8_t bitmap[16];
	size_t bitmap_len;
	uint32_t gen;
	uint64_t inserts, resalts, dropped, churn_zones;
	size_t max_bytes;
	/* n3.lab: the chain being inserted, in hash order */
	uint8_t salt[4];
	uint16_t iter;
	uint8_t h[NAMES + 1][CACHE_NSEC3_HASH_LEN];
};

static void check_budget(const struct writer *w)
{
	struct cache_nsec_stats st;

	cache_nsec_get_stats(shared, &st);
	if (st.live_bytes > w->max_bytes)
		die("live bytes over the budget after an insert");
}

static void put_soa(struct writer *w, const char *zone, uint32_t exp)
{
	uint8_t apex[DNS_NAME_MAX], b[DNS_NAME_MAX + 16];
	size_t l;

	name_of(apex, zone, 0);
	l = dns_name_len(apex);
	b[0] = 'S';
	memcpy(b + 1, apex, l);
	dns_put32(b + 1 + l, w->gen++);
	dns_put32(b + 5 + l, fnv(b, 5 + l));
	if (cache_nsec_set_soa(shared, apex, b, l + 9, exp,
			       __atomic_load_n(&clock_now, __ATOMIC_RELAXED)))
		die("set_soa");
	check_budget(w);
}

static void put_nsec(struct writer *w, const uint8_t *apex,
		     const uint8_t *owner, const uint8_t *next, uint32_t exp)
{
	uint8_t rd[DNS_NAME_MAX + 16], blob[2 * DNS_NAME_MAX + 16];
	size_t nl = dns_name_len(next);

	memcpy(rd, next, nl);
	memcpy(rd + nl, w->bitmap, w->bitmap_len);
	int r = cache_nsec_insert(shared, apex, owner, rd, nl + w->bitmap_len,
				  exp, blob,
				  nsec_blob(blob, w->gen++, owner, next),
				  __atomic_load_n(&clock_now, __ATOMIC_RELAXED));
	if (r) {
		fprintf(stderr, "stress_nsec: insert: %s\n", cache_strerror(r));
		exit(1);
	}
	w->inserts++;
	check_budget(w);
}

/* Range i of a chain of names fmt % 0..count-1 below zone (i < 0: the
 * apex range; the last wraps to the apex). step 2: even names only. */
static void put_chain_range(struct writer *w, const char *zone,
			    const char *fmt, int i, int count, int step,
			    uint32_t exp)
{
	uint8_t apex[DNS_NAME_MAX], owner[DNS_NAME_MAX], next[DNS_NAME_MAX];

	name_of(apex, zone, 0);
	if (i < 0)
		memcpy(owner, apex, DNS_NAME_MAX);
	else
		name_of(owner, fmt, i);
	int j = i < 0 ? 0 : i + step;

	if (j >= count)
		memcpy(next, apex, DNS_NAME_MAX);
	else
		name_of(next, fmt, j);
	put_nsec(w, apex, owner, next, exp);
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CACHE_NSEC3_HASH_LEN);
}

/* A new salt and iteration count for n3.lab: its NAMES names and apex
 * hashed and sorted; the chain's ranges then go in one by one. */
static void resalt(struct writer *w)
{
	uint8_t name[DNS_NAME_MAX];

	w->resalts++;
	dns_put32(w->salt, (uint32_t)w->resalts);
	w->iter = (uint16_t)(w->resalts % (NSEC3_ITER_MAX + 1));
	for (int i = 0; i <= NAMES; i++) {
		if (i == NAMES)
			name_of(name, "n3.lab.", 0);
		else
			name_of(name, "h%02d.n3.lab.", i);
		cache_nsec3_hash(name, w->salt, sizeof(w->salt), w->iter,
				 w->h[i]);
	}
	qsort(w->h, NAMES + 1, sizeof(w->h[0]), hash_cmp);
}

static void put_nsec3(struct writer *w, int i)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint8_t apex[DNS_NAME_MAX], owner[DNS_NAME_MAX], rd[128], blob[128];
	const uint8_t *h = w->h[i], *next = w->h[(i + 1) % (NAMES + 1)];
	size_t p = 0;
	uint32_t acc = 0;
	int bits = 0;

	name_of(apex, "n3.lab.", 0);
	owner[p++] = 32;
	for (int k = 0; k < CACHE_NSEC3_HASH_LEN; k++) {
		acc = (acc << 8) | h[k];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			owner[p++] = (uint8_t)digits[(acc >> bits) & 31];
		}
	}
	memcpy(owner + p, apex, dns_name_len(apex));
	p = 0;
	rd[p++] = DNS_NSEC3_SHA1;
	rd[p++] = 0;
	dns_put16(rd + p, w->iter);
	p += 2;
	rd[p++] = sizeof(w->salt);
	memcpy(rd + p, w->salt, sizeof(w->salt));
	p += sizeof(w->salt);
	rd[p++] = CACHE_NSEC3_HASH_LEN;
	memcpy(rd + p, next, CACHE_NSEC3_HASH_LEN);
	p += CACHE_NSEC3_HASH_LEN;
	memcpy(rd + p, w->bitmap, w->bitmap_len);
	p += w->bitmap_len;
	int r = cache_nsec3_insert(shared, apex, owner, rd, p, FAR, blob,
				   nsec3_blob(blob, w->iter, w->salt,
					      sizeof(w->salt), h, next),
				   __atomic_load_n(&clock_now,
						   __ATOMIC_RELAXED));
	if (r) {
		fprintf(stderr, "stress_nsec: nsec3 insert: %s\n",
			cache_strerror(r));
		exit(1);
	}
	w->inserts++;
	check_budget(w);
}

/* Everything the readers' fixed verdicts rely on, complete. */
static void put_stable(struct writer *w)
{
	put_soa(w, "st.lab.", FAR);
	put_soa(w, "pr.lab.", FAR);
	put_soa(w, "n3.lab.", FAR);
	for (int i = -1; i < NAMES; i++) {
		put_chain_range(w, "st.lab.", "s%02d.st.lab.", i, NAMES, 1, FAR);
		put_chain_range(w, "pr.lab.", "p%02d.pr.lab.", i, NAMES, 1, FAR);
	}
	resalt(w);
	for (int i = 0; i <= NAMES; i++)
		put_nsec3(w, i);
}

/* One churn zone: CHURN_RANGES ranges, short-lived when tmp. */
static void put_churn(struct writer *w, uint32_t now, bool tmp)
{
	char zone[32], fmt[48];
	uint32_t exp = tmp ? now + 1 : FAR;

	w->churn_zones++;
	snprintf(zone, sizeof(zone), "%s%llu.lab.", tmp ? "tm" : "ev",
		 (unsigned long long)w->churn_zones);
	snprintf(fmt, sizeof(fmt), "c%%02d.%s", zone);
	put_soa(w, zone, exp);
	for (int i = -1; i < CHURN_RANGES; i++)
		put_chain_range(w, zone, fmt, i, CHURN_RANGES, 1, exp);
}

static void add_query(const char *fmt, int i, const char *zone, int expect)
{
	struct query *q = &queries[nqueries++];

	if (nqueries > QUERIES)
		die("query table");
	name_of(q->name, fmt, i);
	name_of(q->apex, zone, 0);
	q->expect = (uint8_t)expect;
}

static void make_queries(void)
{
	for (int i = 0; i < NAMES; i++) {
		add_query("s%02d.st.lab.", i, "st.lab.", EXPECT_NODATA);
		add_query("s%02dx.st.lab.", i, "st.lab.", EXPECT_NXDOMAIN);
		add_query("p%02d.pr.lab.", i, "pr.lab.",
			  i % 2 ? EXPECT_ANY : EXPECT_NODATA);
		/* p<even>x lies in p<even> -> p<even+1> and in
		 * p<even> -> p<even+2>: covered in both chains. */
		add_query("p%02dx.pr.lab.", i, "pr.lab.",
			  i % 2 ? EXPECT_ANY : EXPECT_NXDOMAIN);
		add_query("h%02d.n3.lab.", i, "n3.lab.", EXPECT_ANY);
		add_query("x%02d.n3.lab.", i, "n3.lab.", EXPECT_ANY);
	}
	for (int i = 0; i < CHURN_RANGES; i++) {
		add_query("c%02d.ev3.lab.", i, "ev3.lab.", EXPECT_ANY);
		add_query("c%02dx.ev4.lab.", i, "ev4.lab.", EXPECT_ANY);
	}
}

/* The budget: the stable zones and four churn zones, measured in a store
 * of the same build without pressure (usable sizes differ between
 * allocators). */
static size_t measure_budget(struct writer *w)
{
	struct cache_nsec_stats st;
	size_t stable;

	shared = cache_nsec_new(NULL);
	if (!shared)
		die("cache_nsec_new");
	w->max_bytes = SIZE_MAX;
	put_stable(w);
	cache_nsec_get_stats(shared, &st);
	stable = st.live_bytes;
	put_churn(w, T0, false);
	cache_nsec_get_stats(shared, &st);
	cache_nsec_free(shared);
	w->churn_zones = 0;
	w->resalts = 0;
	return stable + 4 * (st.live_bytes - stable);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 2;
	int readers = argc > 2 ? atoi(argv[2]) : 2;
	struct reader r[READERS_MAX];
	struct cache_nsec_config cfg;
	struct cache_nsec_stats st;
	struct writer w;
	struct timespec t0, t1;
	uint64_t lookups = 0, fixed = 0, proofs = 0, proofs3 = 0;
	uint64_t ops = 0;
	int pr_step = 1, pr_next = -1, n3_next = 0;

	if (readers < 1 || readers > READERS_MAX || seconds < 1 || seconds > 60)
		die("usage: stress_nsec [SECONDS 1..60] [READERS 1..8]");
	memset(r, 0, sizeof(r));
	memset(&w, 0, sizeof(w));
	/* A, RRSIG, NSEC: window 0, six octets; no TXT, the query type. */
	w.bitmap_len = 8;
	memcpy(w.bitmap, (const uint8_t[]){ 0, 6, 0x40, 0, 0, 0, 0, 0x03 }, 8);
	make_queries();
	urcu_qsbr_register_thread();
	cache_nsec_config_default(&cfg);
	cfg.nsec3_max_iterations = NSEC3_ITER_MAX;
	cfg.max_bytes = measure_budget(&w);
	shared = cache_nsec_new(&cfg);
	if (!shared)
		die("cache_nsec_new");
	w.max_bytes = cfg.max_bytes;
	put_stable(&w);
	for (int i = 0; i < readers; i++)
		if (pthread_create(&r[i].th, NULL, reader_main, &r[i]))
			die("pthread_create");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint32_t now = __atomic_load_n(&clock_now, __ATOMIC_RELAXED);
		int i = (int)(ops % (NAMES + 1)) - 1;

		/* st.lab: the same chain, new blobs. */
		put_chain_range(&w, "st.lab.", "s%02d.st.lab.", i, NAMES, 1, FAR);
		/* pr.lab: all names, then even names only, and back; each
		 * switch prunes what the other chain left. */
		put_chain_range(&w, "pr.lab.", "p%02d.pr.lab.", pr_next, NAMES,
				pr_step, FAR);
		pr_next = pr_next < 0 ? 0 : pr_next + pr_step;
		if (pr_next >= NAMES) {
			pr_next = -1;
			pr_step = 3 - pr_step;
		}
		/* n3.lab: re-salted every 4 chains; the first range of a
		 * new salt replaces the old chain by itself. */
		put_nsec3(&w, n3_next);
		if (++n3_next > NAMES) {
			n3_next = 0;
			if (ops % 4 == 0 || w.resalts < 2)
				resalt(&w);
		}
		if (ops % 8 == 0)
			put_churn(&w, now, (ops / 8) % 3 == 0);
		if (ops % 16 == 0)
			__atomic_store_n(&clock_now, now + 1, __ATOMIC_RELAXED);
		if (ops % 16 == 8) {
			int d = cache_nsec_drop_expired(shared, now);

			if (d < 0)
				die("drop_expired");
			w.dropped += (uint64_t)d;
		}
		if (ops % 128 == 0) {
			put_soa(&w, "st.lab.", FAR);
			put_soa(&w, "pr.lab.", FAR);
			put_soa(&w, "n3.lab.", FAR);
		}
		ops++;
		urcu_qsbr_quiescent_state();
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (t1.tv_sec - t0.tv_sec < seconds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	/* Offline while joining: readers' last grace periods need not wait
	 * for this thread. */
	urcu_qsbr_thread_offline();
	for (int i = 0; i < readers; i++)
		pthread_join(r[i].th, NULL);
	urcu_qsbr_thread_online();
	for (int i = 0; i < readers; i++) {
		if (r[i].bad) {
			fprintf(stderr, "stress_nsec: reader %d: %llu bad, first: %s\n",
				i, (unsigned long long)r[i].bad, r[i].first_bad);
			exit(1);
		}
		if (r[i].fixed_ok < 1000)
			die("a reader checked almost nothing");
		lookups += r[i].lookups;
		fixed += r[i].fixed_ok;
		proofs += r[i].proofs;
		proofs3 += r[i].nsec3_proofs;
	}
	cache_nsec_get_stats(shared, &st);
	printf("stress_nsec: %d s, %d readers: %llu inserts, %llu lookups "
	       "(%llu fixed verdicts, %llu proofs, %llu NSEC3) checked, "
	       "%llu pruned, %llu re-salts, %llu expired (+%llu budget sweeps), "
	       "%llu zones evicted, budget %zu\n",
	       seconds, readers, (unsigned long long)w.inserts,
	       (unsigned long long)lookups, (unsigned long long)fixed,
	       (unsigned long long)proofs, (unsigned long long)proofs3,
	       (unsigned long long)st.pruned_ranges,
	       (unsigned long long)w.resalts, (unsigned long long)w.dropped,
	       (unsigned long long)st.budget_drops,
	       (unsigned long long)st.evicted_zones, cfg.max_bytes);
	if (st.pruned_ranges < 100 || w.resalts < 2 || w.dropped < 10 ||
	    st.evicted_zones < 10 || proofs3 < 100)
		die("the writer did not prune, re-salt, expire and evict enough");
	if (st.refused_inserts)
		die("an insert was refused");
	cache_nsec_free(shared);
	urcu_qsbr_unregister_thread();
	return 0;
}
