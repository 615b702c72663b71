/*
 * tests/cache/stress_msgcache.c: readers on other threads while the writer
 * keeps replacing and evicting. A plain program (not Criterion, whose runner
 * does not survive ThreadSanitizer) so that it runs in the release, ASan and
 * TSan builds alike. Each reader looks its keys up in bursts, builds the
 * answer with cache_answer() and checks that the TXT record inside is whole:
 * "g=<generation> k=<key> s=<checksum of both>". Exit 0 when every answer
 * checked out and the writer really replaced and evicted meanwhile.
 *
 * Usage: stress_msgcache [SECONDS] [READERS]   (default 2 s, 2 readers)
 */
#define _LGPL_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "cache/msgcache.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"

#define KEYS 64
#define NOW 1000000u
#define READERS_MAX 8

static struct cache *shared;
static int stop; /* atomic */

static void die(const char *what)
{
	fprintf(stderr, "stress_msgcache: %s\n", what);
	exit(1);
}

static uint32_t checksum(uint32_t gen, uint32_t key)
{
	return gen * 2654435761u ^ key;
}

static size_t key_name(uint8_t *out, int key)
{
	char s[32];

	snprintf(s, sizeof(s), "k%d.shop.lab", key);
	return (size_t)dns_name_from_str(s, out);
}

struct reader {
	pthread_t th;
	uint64_t checked;
};

static void *reader_main(void *arg)
{
	struct reader *me = arg;
	static __thread uint8_t qwire[KEYS][64];
	uint8_t out[1232], name[DNS_NAME_MAX];
	struct dns_query q[KEYS];
	struct cache_key keys[KEYS];
	const struct cache_key *kp[CACHE_BURST_MAX];
	struct cache_result res[CACHE_BURST_MAX];
	struct cache_reader_stats st = { 0 };

	urcu_qsbr_register_thread();
	for (int k = 0; k < KEYS; k++) {
		struct dns_builder b;
		key_name(name, k);
		dns_builder_init(&b, qwire[k], sizeof(qwire[k]), 1, DNS_F_RD);
		dns_builder_question(&b, name, DNS_T_TXT, DNS_C_IN);
		if (dns_query_parse(&q[k], qwire[k], dns_builder_finish(&b)))
			die("query");
		cache_key_from_query(&keys[k], shared, &q[k]);
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int base = 0; base < KEYS; base += CACHE_BURST_MAX) {
			for (int i = 0; i < CACHE_BURST_MAX; i++)
				kp[i] = &keys[base + i];
			cache_lookup_burst(shared, kp, CACHE_BURST_MAX, NOW, res, &st);
			for (int i = 0; i < CACHE_BURST_MAX; i++) {
				struct dns_msg m;
				struct dns_rr_iter it;
				struct dns_rr rr;
				uint8_t rd[256];
				unsigned g, key, sum;

				if (!res[i].entry)
					continue;
				int n = cache_answer(shared, res[i].entry, res[i].state,
						     &q[base + i], NOW, out, sizeof(out));
				if (n < 0 || dns_msg_parse(&m, out, (size_t)n) != 0)
					die("answer does not parse");
				dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
				if (dns_rr_next(&it, &rr) != 1)
					die("answer has no record");
				int len = dns_rr_rdata(&m, &rr, rd, sizeof(rd) - 1);
				if (len < 1)
					die("bad RDATA");
				rd[len] = 0;
				if (sscanf((char *)rd + 1, "g=%u k=%u s=%u", &g, &key, &sum) != 3 ||
				    key != (unsigned)(base + i) || sum != checksum(g, key))
					die("torn or foreign entry");
				me->checked++;
			}
			cache_reader_quiescent();
		}
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void insert(const uint8_t *name, uint16_t type, const uint8_t *rdata,
		   size_t rdlen)
{
	uint8_t buf[512];
	struct dns_builder b;

	dns_builder_init(&b, buf, sizeof(buf), 0, DNS_F_QR | DNS_F_AA);
	dns_builder_question(&b, name, type, DNS_C_IN);
	if (dns_builder_rr(&b, DNS_SEC_ANSWER, name, type, DNS_C_IN, 300, rdata, rdlen))
		die("build");
	if (cache_insert(shared, buf, dns_builder_finish(&b), NOW,
			 CACHE_RANK_AUTH_ANSWER, false))
		die("insert");
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 2;
	int readers = argc > 2 ? atoi(argv[2]) : 2;
	struct reader r[READERS_MAX] = { 0 };
	struct cache_config cfg;
	struct cache_stats st;
	struct timespec t0, t1;
	uint8_t name[DNS_NAME_MAX], rd[64];
	uint64_t inserts = 0, checked = 0;
	uint32_t gen = 0;

	if (readers < 1 || readers > READERS_MAX || seconds < 1 || seconds > 60)
		die("usage: stress_msgcache [SECONDS 1..60] [READERS 1..8]");
	urcu_qsbr_register_thread();
	cache_config_default(&cfg);
	cfg.max_bytes = 256u << 10; /* small: the budget keeps evicting */
	if (!(shared = cache_new(&cfg)))
		die("cache_new");
	for (int i = 0; i < readers; i++)
		pthread_create(&r[i].th, NULL, reader_main, &r[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < KEYS; k++) {
			char txt[63];
			gen++;
			int n = snprintf(txt, sizeof(txt), "g=%u k=%d s=%u", gen, k,
					 checksum(gen, (uint32_t)k));
			rd[0] = (uint8_t)n;
			memcpy(rd + 1, txt, (size_t)n);
			key_name(name, k);
			insert(name, DNS_T_TXT, rd, (size_t)n + 1);
			/* Noise names that make the budget evict. */
			snprintf(txt, sizeof(txt), "n%u.shop.lab", gen);
			dns_name_from_str(txt, name);
			insert(name, DNS_T_A, (const uint8_t *)"\xc6\x12\0\1", 4);
			inserts += 2;
		}
		cache_reader_quiescent();
		if (gen % (64 * KEYS) == 0 && cache_check(shared))
			die("index invariants broken (cache_check)");
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (t1.tv_sec - t0.tv_sec < seconds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < readers; i++) {
		pthread_join(r[i].th, NULL);
		checked += r[i].checked;
		if (r[i].checked < 1000)
			die("a reader checked almost nothing");
	}
	cache_get_stats(shared, &st);
	printf("stress_msgcache: %d s, %d readers: %lu inserts, %lu answers checked, "
	       "%lu replacements, %lu evictions, %lu resizes\n", seconds, readers,
	       (unsigned long)inserts, (unsigned long)checked,
	       (unsigned long)st.replacements, (unsigned long)st.evictions,
	       (unsigned long)st.resizes);
	if (st.evictions < 1000 || st.replacements < 1000)
		die("the writer did not replace and evict enough");
	if (cache_check(shared))
		die("index invariants broken at the end (cache_check)");
	cache_free(shared);
	urcu_qsbr_unregister_thread();
	return 0;
}
