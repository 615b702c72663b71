/*
 * bench/bench_cache.c: the cache hit path in numbers. One operation is what a
 * worker does for a query it answers from the cache: make the key (lower-case
 * + keyed hash), look it up (in bursts of 32: prefetch buckets, then
 * entries), and write the answer (question echoed, sections copied, TTLs
 * rewritten). The same query pool is run against cds_lfht (liburcu's
 * lock-free hash table, one lookup at a time) as the baseline, in the same
 * run. Queries are drawn uniformly or by Zipf (s = 1) popularity.
 *
 * Usage: bench_cache ENTRIES [uniform|zipf|signed] [SECONDS] [WRITER_RATE]
 *   WRITER_RATE > 0 runs a writer thread inserting that many new entries per
 *   second while the reader measures.
 *   signed: every entry is a validated A RRset with its RRSIG (a 64-octet
 *   signature, as ECDSA P-256 and Ed25519 make), queried uniformly by
 *   clients with EDNS, with DO and without, from the same entries: the
 *   answers with and without the RRSIG side by side (run_signed_do and
 *   run_signed_plain, for callgrind's inclusive counts).
 * Prints one line per structure; ENTRIES up to 10000000 (about 2.5 GB).
 */
#define _LGPL_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "cache/msgcache.h"
#include "dns/build.h"
#include "dns/name.h"
#include "dns/query.h"

#define NOW 1000000u
#define POOL (1u << 20) /* distinct queries run in a loop */

struct pq {
	struct dns_query q;
	uint8_t wire[64];
};

static struct cache *cache;
static struct cache_reader_stats reader_stats;
static struct pq *pool, *pool_do, *pool_plain;
static bool sign;
static int stop;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t name_of(uint8_t *out, uint64_t i)
{
	char s[40];

	snprintf(s, sizeof(s), "h%llu.bench.lab", (unsigned long long)i);
	return (size_t)dns_name_from_str(s, out);
}

static int insert(uint64_t i)
{
	static const uint8_t a[4] = { 198, 18, 0, 1 };
	uint8_t name[DNS_NAME_MAX], buf[512], sig[128];
	struct dns_builder b;

	name_of(name, i);
	dns_builder_init(&b, buf, sizeof(buf), 0, DNS_F_QR | DNS_F_AA);
	dns_builder_question(&b, name, DNS_T_A, DNS_C_IN);
	dns_builder_rr(&b, DNS_SEC_ANSWER, name, DNS_T_A, DNS_C_IN, 86400, a, 4);
	if (sign) {
		size_t signer = (size_t)dns_name_from_str("bench.lab", sig + 18);
		memset(sig, 0, 18);
		dns_put16(sig, DNS_T_A);
		sig[2] = 13;
		sig[3] = 3;
		dns_put32(sig + 4, 86400);
		memset(sig + 18 + signer, 0x5a, 64);
		dns_builder_rr(&b, DNS_SEC_ANSWER, name, DNS_T_RRSIG, DNS_C_IN, 86400, sig,
			       18 + signer + 64);
	}
	return cache_insert(cache, buf, dns_builder_finish(&b), NOW,
			    sign ? CACHE_RANK_SECURE : CACHE_RANK_AUTH_ANSWER, true);
}

/* Zipf(s = 1) ranks by inverse CDF; uniform otherwise. edns: 0 none, 1
 * an OPT, 2 an OPT with DO. */
static struct pq *make_pool(uint64_t n, bool zipf, int edns)
{
	double *cdf = NULL;
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	struct pq *pool = malloc(POOL * sizeof(*pool));

	if (zipf) {
		cdf = malloc(n * sizeof(*cdf));
		double sum = 0;
		for (uint64_t i = 0; i < n; i++)
			cdf[i] = (sum += 1.0 / (double)(i + 1));
		for (uint64_t i = 0; i < n; i++)
			cdf[i] /= sum;
	}
	for (unsigned i = 0; i < POOL; i++) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		uint64_t k;
		if (zipf) {
			double u = (double)(state >> 11) / 9007199254740992.0;
			uint64_t lo = 0, hi = n - 1;
			while (lo < hi) {
				uint64_t mid = (lo + hi) / 2;
				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			/* Spread popular ranks over the key space. */
			k = (lo * 0x9e3779b97f4a7c15ULL) % n;
		} else {
			k = state % n;
		}
		uint8_t name[DNS_NAME_MAX];
		struct dns_builder b;
		name_of(name, k);
		dns_builder_init(&b, pool[i].wire, sizeof(pool[i].wire), (uint16_t)i, DNS_F_RD);
		dns_builder_question(&b, name, DNS_T_A, DNS_C_IN);
		if (edns)
			dns_builder_opt(&b, 1232, 0, 0, edns == 2 ? DNS_EDNS_F_DO : 0, NULL, 0);
		if (dns_query_parse(&pool[i].q, pool[i].wire, dns_builder_finish(&b)))
			abort();
	}
	free(cdf);
	return pool;
}

/* The measured loop: bursts of 32 through the message cache. */
__attribute__((noinline)) uint64_t run_cache(unsigned from, unsigned count);
__attribute__((noinline)) uint64_t run_cache(unsigned from, unsigned count)
{
	struct cache_key keys[CACHE_BURST_MAX];
	const struct cache_key *kp[CACHE_BURST_MAX];
	struct cache_result res[CACHE_BURST_MAX];
	struct cache_reader_stats *st = &reader_stats;
	uint8_t out[512];
	uint64_t bytes = 0;

	for (unsigned base = from; base < from + count; base += CACHE_BURST_MAX) {
		for (unsigned i = 0; i < CACHE_BURST_MAX; i++) {
			const struct dns_query *q = &pool[(base + i) % POOL].q;
			cache_key_from_query(&keys[i], cache, q);
			kp[i] = &keys[i];
		}
		cache_lookup_burst(cache, kp, CACHE_BURST_MAX, NOW, res, st);
		for (unsigned i = 0; i < CACHE_BURST_MAX; i++)
			if (res[i].entry)
				bytes += (uint64_t)cache_answer(cache, res[i].entry, res[i].state,
								&pool[(base + i) % POOL].q,
								NOW, out, sizeof(out));
		cache_reader_quiescent();
	}
	return bytes;
}

/* The signed entries' answers to DO clients, and to clients without DO. */
__attribute__((noinline)) uint64_t run_signed_do(unsigned from, unsigned count);
__attribute__((noinline)) uint64_t run_signed_do(unsigned from, unsigned count)
{
	pool = pool_do;
	return run_cache(from, count);
}

__attribute__((noinline)) uint64_t run_signed_plain(unsigned from, unsigned count);
__attribute__((noinline)) uint64_t run_signed_plain(unsigned from, unsigned count)
{
	pool = pool_plain;
	return run_cache(from, count);
}

/* The baseline: cds_lfht nodes pointing at the same entries. */
struct lnode {
	struct cds_lfht_node node;
	struct cache_key key;
	const struct cache_entry *e;
};

static int lmatch(struct cds_lfht_node *node, const void *key)
{
	const struct lnode *n = caa_container_of(node, struct lnode, node);
	const struct cache_key *k = key;

	return n->key.name_len == k->name_len && n->key.qtype == k->qtype &&
	       memcmp(n->key.name, k->name, k->name_len) == 0;
}

__attribute__((noinline)) uint64_t run_lfht(struct cds_lfht *ht, unsigned from,
					    unsigned count);
__attribute__((noinline)) uint64_t run_lfht(struct cds_lfht *ht, unsigned from,
					    unsigned count)
{
	uint8_t out[512];
	uint64_t bytes = 0;

	for (unsigned i = from; i < from + count; i++) {
		const struct dns_query *q = &pool[i % POOL].q;
		struct cache_key k;
		struct cds_lfht_iter it;

		cache_key_from_query(&k, cache, q);
		cds_lfht_lookup(ht, k.hash, lmatch, &k, &it);
		struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
		if (node)
			bytes += (uint64_t)cache_answer(cache,
				caa_container_of(node, struct lnode, node)->e,
				CACHE_HIT, q, NOW, out, sizeof(out));
		if ((i & 31) == 31)
			cache_reader_quiescent();
	}
	return bytes;
}

static void *writer_main(void *arg)
{
	double rate = *(double *)arg;
	uint64_t next = 1ull << 40; /* names not in the query pool */
	double t0 = now_s();
	uint64_t done = 0;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		double due = (now_s() - t0) * rate;
		while (done < due) {
			insert(next++);
			done++;
		}
		cache_reader_quiescent();
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	urcu_qsbr_unregister_thread();
	*(double *)arg = (double)done / (now_s() - t0);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
	bool zipf = argc > 2 && strcmp(argv[2], "zipf") == 0;
	sign = argc > 2 && strcmp(argv[2], "signed") == 0;
	double seconds = argc > 3 ? atof(argv[3]) : 2;
	double rate = argc > 4 ? atof(argv[4]) : 0;
	struct cache_config cfg;
	pthread_t writer;

	if (n < 32 || n > 20000000)
		return fprintf(stderr, "ENTRIES: 32..20000000\n"), 2;
	urcu_qsbr_register_thread();
	cache_config_default(&cfg);
	cfg.max_bytes = (size_t)16 << 30;
	cache = cache_new(&cfg);
	for (uint64_t i = 0; i < n; i++)
		if (insert(i))
			return fprintf(stderr, "insert %llu failed\n", (unsigned long long)i), 1;
	if (sign) {
		pool_do = make_pool(n, false, 2);
		pool_plain = make_pool(n, false, 1);
		pool = pool_do;
	} else {
		pool = make_pool(n, zipf, 0);
	}

	/* Same entries in cds_lfht, sized up front. */
	struct cds_lfht *ht = cds_lfht_new_flavor(1ul << (unsigned)ceil(log2((double)n)),
						  1, 0, CDS_LFHT_AUTO_RESIZE,
						  &urcu_qsbr_flavor, NULL);
	struct lnode *nodes = calloc(n, sizeof(*nodes));
	uint64_t missing = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t name[DNS_NAME_MAX];
		struct cache_key *k = &nodes[i].key;
		const struct cache_key *kp = k;
		struct cache_result res;
		struct cache_reader_stats st = { 0 };
		name_of(name, i);
		cache_key_init(k, cache, name, DNS_T_A, DNS_C_IN, false);
		cache_lookup_burst(cache, &kp, 1, NOW, &res, &st);
		nodes[i].e = res.entry;
		if (!res.entry) {
			missing++; /* evicted when both its buckets were full */
			continue;
		}
		cds_lfht_node_init(&nodes[i].node);
		cds_lfht_add(ht, k->hash, &nodes[i].node);
	}
	struct cache_stats cst;
	cache_get_stats(cache, &cst);
	printf("cache: %llu entries held of %llu inserted, %.0f MB, %llu resizes\n",
	       (unsigned long long)cst.entries, (unsigned long long)n,
	       (double)cst.bytes / 1e6, (unsigned long long)cst.resizes);
	if (missing)
		printf("(%llu keys not in the cache: their queries miss in both)\n",
		       (unsigned long long)missing);
	if (rate > 0)
		pthread_create(&writer, NULL, writer_main, &rate);

	const char *dist = sign ? "signed" : zipf ? "zipf" : "uniform";
	/* signed: DO clients, the baseline, then the same entries for
	 * clients without DO */
	for (int which = 0; which < (sign ? 3 : 2); which++) {
		uint64_t ops = 0, bytes = 0;
		unsigned chunk = 32 * 1024;
		double t0 = now_s(), t;
		do {
			unsigned from = (unsigned)(ops % POOL);
			bytes += which == 1 ? run_lfht(ht, from, chunk) :
				 !sign	    ? run_cache(from, chunk) :
				 which == 0 ? run_signed_do(from, chunk) :
					      run_signed_plain(from, chunk);
			ops += chunk;
		} while ((t = now_s() - t0) < seconds);
		printf("%-9s %9llu entries %-7s%s: %7.1f ns/op  %6.2f M ops/s  (%.0f octets/answer%s, %llu ops)\n",
		       which == 1 ? "cds_lfht" : "bailiwick", (unsigned long long)n, dist,
		       !sign ? "" : which == 2 ? " plain" : " DO",
		       t * 1e9 / (double)ops, (double)ops / t / 1e6,
		       (double)bytes / (double)ops, rate > 0 ? ", writer on" : "",
		       (unsigned long long)ops);
	}
	uint64_t looked = reader_stats.hits + reader_stats.stale_hits + reader_stats.misses;
	printf("lookups: %.2f %% hits, %.2f %% read a second bucket\n",
	       100.0 * (double)reader_stats.hits / (double)looked,
	       100.0 * (double)reader_stats.second_reads / (double)looked);
	if (rate > 0) {
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
		pthread_join(writer, NULL);
		printf("writer: %.0f inserts/s\n", rate);
	}
	urcu_qsbr_thread_offline();
	return 0;
}
