/*
 * bench/bench_nsec.c: the NSEC store in numbers. A lookup is what a worker
 * does for a query that missed the message cache: cache_nsec_lookup() of a
 * uniformly random name in one signed zone, proving NXDOMAIN (a name
 * between two owners: covering range plus wildcard denial) or NODATA (an
 * owner, a type its bitmap lacks); for NSEC3, NXDOMAIN by closest encloser
 * proof (three name hashes). An insert is what the cache writer does for a
 * validated NSEC record: cache_nsec_insert() replacing a range of a zone
 * of that size (path copying, one state published, the old path retired
 * through call_rcu, whose thread frees on the other core).
 *
 * Usage: bench_nsec                    every case below, SECONDS 1 each
 *        bench_nsec CASE RANGES [OPS]   one case, OPS operations
 * CASE: nxdomain | nodata (NSEC), nsec3-0 | nsec3-10 (NSEC3 NXDOMAIN at
 * 0 or 10 iterations), insert; a lookup case with "-memo" added
 * (nxdomain-memo, ...) looks up as a worker does, through a memo of the
 * zone forgotten every 32 lookups. Prints ns/op; the measured loops are the
 * noipa functions bench_lookup() and bench_insert(), so that
 *   valgrind --tool=callgrind --toggle-collect=bench_lookup \
 *       build/release/bench/bench_nsec nxdomain 100000 100000
 * counts instructions/op (Ir of bench_lookup / OPS). Every verdict is
 * checked: a wrong one aborts the run.
 */
#define _LGPL_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "cache/nsec.h"
#include "dns/name.h"
#include "dns/wire.h"

#define NOW 1000u
#define EXP 100000000u
#define POOL (1u << 16)		/* distinct query names, run in a loop */
#define BLOB_LEN 160		/* about an NSEC RRset and its RRSIG */
#define CHUNK 4096u		/* ops between quiescent states */

/* The measured loops: not inlined, and (with GCC) not specialised for
 * their callers' constant arguments; callgrind toggles on their names. */
#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline))
#else
#define BENCH_OPAQUE __attribute__((noipa))
#endif

static uint8_t (*pool)[DNS_NAME_MAX];
static uint8_t blob[BLOB_LEN];
static const uint8_t bitmap[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03 }; /* A RRSIG NSEC */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_nsec: %s\n", what);
	exit(1);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Owner k of the NSEC zone: h<2k>.bench.lab. (odd numbers do not exist). */
static void nsec_name(uint8_t *out, uint64_t num)
{
	char s[48];

	snprintf(s, sizeof(s), "h%08llu.bench.lab.", (unsigned long long)num);
	if (dns_name_from_str(s, out) <= 0)
		die("name");
}

static struct cache_nsec *store_new(void)
{
	struct cache_nsec_config cfg;
	struct cache_nsec *n;

	cache_nsec_config_default(&cfg);
	cfg.max_bytes = (size_t)4 << 30; /* measure the trees, not eviction */
	cfg.nsec3_max_iterations = 10;
	if (!(n = cache_nsec_new(&cfg)))
		die("cache_nsec_new");
	return n;
}

static void put_soa(struct cache_nsec *n, const uint8_t *apex)
{
	if (cache_nsec_set_soa(n, apex, blob, 64, EXP, NOW))
		die("set_soa");
}

/* One NSEC record as the writer gets it from the validator. */
struct rec {
	uint8_t owner[DNS_NAME_MAX];
	uint8_t rd[DNS_NAME_MAX + sizeof(bitmap)];
	size_t rdlen;
};

/* Range k of the chain apex -> h0 -> h2 -> ... -> h<2(ranges-1)> -> apex
 * (k < 0: the apex range). */
static void make_rec(struct rec *r, const uint8_t *apex, int64_t k,
		     uint64_t ranges)
{
	size_t nl;

	if (k < 0)
		memcpy(r->owner, apex, dns_name_len(apex));
	else
		nsec_name(r->owner, 2 * (uint64_t)k);
	if ((uint64_t)(k + 1) >= ranges)
		memcpy(r->rd, apex, dns_name_len(apex));
	else
		nsec_name(r->rd, 2 * (uint64_t)(k + 1));
	nl = dns_name_len(r->rd);
	memcpy(r->rd + nl, bitmap, sizeof(bitmap));
	r->rdlen = nl + sizeof(bitmap);
}

static int put_rec(struct cache_nsec *n, const uint8_t *apex,
		   const struct rec *r)
{
	return cache_nsec_insert(n, apex, r->owner, r->rd, r->rdlen, EXP, blob,
				 sizeof(blob), NOW);
}

static struct cache_nsec *build_nsec(uint64_t ranges, const uint8_t *apex)
{
	struct cache_nsec *n = store_new();
	double t0 = now_s();

	put_soa(n, apex);
	for (int64_t k = -1; k < (int64_t)ranges; k++) {
		struct rec r;

		make_rec(&r, apex, k, ranges);
		if (put_rec(n, apex, &r))
			die("insert");
		if (k % CHUNK == 0)
			urcu_qsbr_quiescent_state();
	}
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	printf("zone: %llu NSEC ranges, height %llu, %.1f MB, built in %.2f s "
	       "(%.0f ns/insert, ascending)\n",
	       (unsigned long long)st.nsec_ranges,
	       (unsigned long long)st.max_height, (double)st.live_bytes / 1e6,
	       now_s() - t0, (now_s() - t0) * 1e9 / (double)(ranges + 1));
	return n;
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CACHE_NSEC3_HASH_LEN);
}

static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };

/* RFC 5155 base32hex owner label of h, then apex. */
static void nsec3_owner(uint8_t *out, const uint8_t *h, const uint8_t *apex)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint32_t acc = 0;
	int bits = 0;
	size_t p = 0;

	out[p++] = 32;
	for (int i = 0; i < CACHE_NSEC3_HASH_LEN; i++) {
		acc = (acc << 8) | h[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[p++] = (uint8_t)digits[(acc >> bits) & 31];
		}
	}
	memcpy(out + p, apex, dns_name_len(apex));
}

/* An NSEC3 zone of ranges names (the apex and n<k>.n3.lab.). */
static struct cache_nsec *build_nsec3(uint64_t ranges, uint16_t iter,
				      const uint8_t *apex)
{
	struct cache_nsec *n = store_new();
	uint8_t (*h)[CACHE_NSEC3_HASH_LEN] = malloc(ranges * sizeof(*h));
	uint8_t name[DNS_NAME_MAX], owner[DNS_NAME_MAX], rd[128];

	if (!h)
		die("out of memory");
	put_soa(n, apex);
	for (uint64_t k = 0; k < ranges; k++) {
		char s[48];

		if (k == 0)
			memcpy(name, apex, dns_name_len(apex));
		else if (snprintf(s, sizeof(s), "n%llu.n3.lab.",
				  (unsigned long long)k) < 0 ||
			 dns_name_from_str(s, name) <= 0)
			die("name");
		cache_nsec3_hash(name, salt, sizeof(salt), iter, h[k]);
	}
	qsort(h, ranges, sizeof(*h), hash_cmp);
	for (uint64_t k = 0; k < ranges; k++) {
		size_t p = 0;

		rd[p++] = DNS_NSEC3_SHA1;
		rd[p++] = 0;
		dns_put16(rd + p, iter);
		p += 2;
		rd[p++] = sizeof(salt);
		memcpy(rd + p, salt, sizeof(salt));
		p += sizeof(salt);
		rd[p++] = CACHE_NSEC3_HASH_LEN;
		memcpy(rd + p, h[(k + 1) % ranges], CACHE_NSEC3_HASH_LEN);
		p += CACHE_NSEC3_HASH_LEN;
		memcpy(rd + p, bitmap, sizeof(bitmap));
		p += sizeof(bitmap);
		nsec3_owner(owner, h[k], apex);
		if (cache_nsec3_insert(n, apex, owner, rd, p, EXP, blob,
				       sizeof(blob), NOW))
			die("nsec3 insert");
	}
	free(h);
	return n;
}

/* Lookups as a worker makes them (the "-memo" cases): through a memo of
 * the zone, forgotten every BURST lookups (a worker forgets it before each
 * quiescent state, once a turn of up to a burst of queries). */
#define BURST 32
static bool use_memo;

/* The measured lookup loop; returns the sum of the verdicts. */
BENCH_OPAQUE uint64_t bench_lookup(const struct cache_nsec *n,
				   unsigned from, unsigned count,
				   uint16_t qtype);
BENCH_OPAQUE uint64_t bench_lookup(const struct cache_nsec *n,
				   unsigned from, unsigned count,
				   uint16_t qtype)
{
	struct cache_nsec_proof p;
	struct cache_nsec_memo memo = { 0 };
	uint64_t sum = 0;

	for (unsigned i = from; i < from + count; i++) {
		if (use_memo && i % BURST == 0)
			cache_nsec_memo_forget(&memo);
		sum += (uint64_t)cache_nsec_lookup_memo(n, use_memo ? &memo : NULL,
							pool[i % POOL], qtype, NOW, &p);
	}
	return sum;
}

/* The measured insert loop: records r[0..count) replace their ranges. */
BENCH_OPAQUE int bench_insert(struct cache_nsec *n, const uint8_t *apex,
			      const struct rec *r, unsigned count);
BENCH_OPAQUE int bench_insert(struct cache_nsec *n, const uint8_t *apex,
			      const struct rec *r, unsigned count)
{
	int bad = 0;

	for (unsigned i = 0; i < count; i++)
		bad |= put_rec(n, apex, &r[i]);
	return bad;
}

/* Runs OPS lookups (or, with ops 0, for seconds), checking every verdict;
 * prints and returns ns/op. */
static double run_lookups(const char *label, const struct cache_nsec *n,
			  uint16_t qtype, int verdict, uint64_t ops,
			  double seconds)
{
	uint64_t done = 0, sum = 0;
	double t0 = now_s(), t;

	do {
		unsigned c = CHUNK;

		if (ops && ops - done < c)
			c = (unsigned)(ops - done);
		sum += bench_lookup(n, (unsigned)(done % POOL), c, qtype);
		done += c;
		urcu_qsbr_quiescent_state();
		t = now_s() - t0;
	} while (ops ? done < ops : t < seconds);
	if (sum != done * (uint64_t)verdict)
		die("a lookup gave the wrong verdict");
	printf("%-40s %8.1f ns/op  (%llu ops)\n", label, t * 1e9 / (double)done,
	       (unsigned long long)done);
	return t * 1e9 / (double)done;
}

static void bench_nsec_case(const char *kind, uint64_t ranges, uint64_t ops,
			    double seconds)
{
	uint8_t apex[DNS_NAME_MAX];
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	char label[64];
	bool nodata = !strcmp(kind, "nodata");
	bool insert = !strcmp(kind, "insert");

	dns_name_from_str("bench.lab.", apex);
	struct cache_nsec *n = build_nsec(ranges, apex);

	/* NXDOMAIN: an odd number (between owners 2k and 2k + 2); NODATA:
	 * an owner, asked for TXT. */
	for (unsigned i = 0; i < POOL; i++)
		nsec_name(pool[i], 2 * (rnd(&s) % ranges) + !nodata);
	if (!insert) {
		snprintf(label, sizeof(label), "NSEC %s%s, %llu ranges:", kind,
			 use_memo ? " (memo)" : "",
			 (unsigned long long)ranges);
		run_lookups(label, n, DNS_T_TXT,
			    nodata ? CACHE_NSEC_NODATA : CACHE_NSEC_NXDOMAIN,
			    ops, seconds);
		cache_nsec_free(n);
		return;
	}
	/* Replacements of uniformly random ranges: the zone keeps its size. */
	struct rec *k = malloc(POOL * sizeof(*k));
	uint64_t done = 0;

	if (!k)
		die("out of memory");
	for (unsigned i = 0; i < POOL; i++)
		make_rec(&k[i], apex, (int64_t)(rnd(&s) % ranges), ranges);
	double t0 = now_s(), t;

	do {
		unsigned c = CHUNK;

		if (ops && ops - done < c)
			c = (unsigned)(ops - done);
		if (bench_insert(n, apex, k + done % (POOL - CHUNK), c))
			die("insert failed");
		done += c;
		urcu_qsbr_quiescent_state();
		t = now_s() - t0;
	} while (ops ? done < ops : t < seconds);
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	if (st.nsec_ranges != ranges + 1 || st.pruned_ranges)
		die("replacements changed the chain");
	snprintf(label, sizeof(label), "NSEC insert (replace), %llu ranges:",
		 (unsigned long long)ranges);
	printf("%-40s %8.1f ns/op  (%llu ops)\n", label, t * 1e9 / (double)done,
	       (unsigned long long)done);
	free(k);
	cache_nsec_free(n);
}

static void bench_nsec3_case(uint16_t iter, uint64_t ranges, uint64_t ops,
			     double seconds)
{
	uint8_t apex[DNS_NAME_MAX];
	uint64_t s = 0x2545f4914f6cdd1dULL;
	char label[64];

	dns_name_from_str("n3.lab.", apex);
	struct cache_nsec *n = build_nsec3(ranges, iter, apex);

	/* Names that do not exist: closest encloser the apex, three hashes. */
	for (unsigned i = 0; i < POOL; i++) {
		char q[48];

		snprintf(q, sizeof(q), "x%llu.n3.lab.",
			 (unsigned long long)(rnd(&s) % 100000000));
		dns_name_from_str(q, pool[i]);
	}
	snprintf(label, sizeof(label), "NSEC3 nxdomain%s, %u iter, %llu ranges:",
		 use_memo ? " (memo)" : "",
		 iter, (unsigned long long)ranges);
	run_lookups(label, n, DNS_T_TXT, CACHE_NSEC_NXDOMAIN, ops, seconds);
	cache_nsec_free(n);
}

int main(int argc, char **argv)
{
	memset(blob, 0x5a, sizeof(blob));
	pool = malloc(POOL * sizeof(*pool));
	if (!pool)
		die("out of memory");
	urcu_qsbr_register_thread();
	if (argc == 1) {
		static const uint64_t sizes[] = { 1000, 100000, 1000000 };

		for (int i = 0; i < 3; i++) {
			bench_nsec_case("nxdomain", sizes[i], 0, 1.0);
			bench_nsec_case("nodata", sizes[i], 0, 1.0);
		}
		bench_nsec3_case(0, 10000, 0, 1.0);
		bench_nsec3_case(10, 10000, 0, 1.0);
		bench_nsec_case("insert", 100000, 0, 1.0);
		bench_nsec_case("insert", 1000000, 0, 1.0);
	} else if (argc >= 3) {
		uint64_t ranges = strtoull(argv[2], NULL, 10);
		uint64_t ops = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
		size_t cl = strlen(argv[1]);

		if (cl > 5 && !strcmp(argv[1] + cl - 5, "-memo")) {
			use_memo = true;
			argv[1][cl - 5] = 0;
		}

		if (ranges < 1 || ranges > 10000000 || ops < 1)
			die("RANGES 1..10000000, OPS >= 1");
		if (!strcmp(argv[1], "nsec3-0"))
			bench_nsec3_case(0, ranges, ops, 0);
		else if (!strcmp(argv[1], "nsec3-10"))
			bench_nsec3_case(10, ranges, ops, 0);
		else if (!strcmp(argv[1], "nxdomain") ||
			 !strcmp(argv[1], "nodata") ||
			 !strcmp(argv[1], "insert"))
			bench_nsec_case(argv[1], ranges, ops, 0);
		else
			die("CASE: nxdomain, nodata, nsec3-0, nsec3-10, insert");
	} else {
		die("usage: bench_nsec [CASE RANGES [OPS]]");
	}
	urcu_qsbr_unregister_thread();
	free(pool);
	return 0;
}
