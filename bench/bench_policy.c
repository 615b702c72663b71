/*
 * bench/bench_policy.c: what response policy adds to a worker's cache hit,
 * in stable counts. A hit's policy work is policy_match() of the question's
 * name and the client's address before the cache lookup (dataplane/
 * worker.c); this runs it over the names and clients of `bench/memif-bench
 * SECONDS policy` (the 1000 cached names n1..n1000.wild.shop.lab, clients
 * 198.18.1.1-16, no rule matching them) against two snapshots built as
 * control builds them (the rules made here as control's zone reader
 * makes them from the zone's text): memif-bench's zone of 1 000 000 QNAME
 * rules (900 000
 * exact names of 3 labels, 100 000 wildcards *.wN.WORD.example) and
 * 100 000 CLIENT-IP /24 prefixes (100 in the clients' /16), and the same
 * zone emptied.
 *
 * Usage: bench_policy full|empty [OPS]   (OPS: 1 000 000)
 * Prints the snapshot's build and check times and ns/op (the zone's read
 * from its file is timed by memif-bench's reload-policy); the measured loop is the noipa function bench_match(), so
 *   valgrind --tool=callgrind --toggle-collect=bench_match \
 *       build/release/bench/bench_policy full 100000
 * counts instructions/op (Ir / OPS), and with --cache-sim=yes callgrind's
 * cycle estimate. bench/policy-bench runs both and prints the difference.
 * Every verdict is checked: a rule matching aborts the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer/policy.h"
#include "dns/name.h"
#include "dns/opt.h"

#define NAMES 1000u
#define CLIENTS 16u

#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline))
#else
#define BENCH_OPAQUE __attribute__((noipa))
#endif

static uint8_t names[NAMES][DNS_NAME_MAX];
static size_t name_len[NAMES];
static uint8_t clients[CLIENTS][4];

static void die(const char *what)
{
	fprintf(stderr, "bench_policy: %s\n", what);
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* z's rule of trigger and action on name (a presentation name, the
 * origin left out; wild: the names below it) or on the IPv4 prefix a/24. */
static void rule(struct policy_zone *z, uint8_t trigger, uint8_t action, const char *name,
		 bool wild, const uint8_t *a)
{
	struct policy_rule *r = policy_zone_rule(z);
	uint8_t w[DNS_NAME_MAX];

	if (!r)
		die("out of memory");
	r->trigger = trigger;
	r->action = action;
	if (name) {
		int l = dns_name_from_str(name, w);
		int64_t o = l < 0 ? -1 : policy_zone_put(z, w, (size_t)l);
		if (o < 0)
			die("a rule's name");
		r->wild = wild;
		r->name_off = (uint32_t)o;
		r->name_len = (uint8_t)l;
	} else {
		r->family = 4;
		r->plen = 24;
		memcpy(r->addr, a, 4);
	}
}

/* The rules of memif-bench's zone (its words drawn the same way: the
 * rules' shape matters, not which words) as control's reader makes them
 * (CNAME . is NXDOMAIN, CNAME *. NODATA), or none. */
static void zone_rules(struct policy_zone *z, bool full)
{
	static const char *const words[] = { "ads", "track", "cdn", "img", "stat",
					     "pixel", "beacon", "metrics", "promo", "click" };
	static const char *const tlds[] = { "com", "net", "org", "info" };
	static const uint8_t soa[] = { 2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 1, 0, 0, 14, 16,
				       0, 0, 2, 88, 0, 1, 81, 128, 0, 0, 0, 60 };
	char name[128];

	if (dns_name_from_str("rpz.bench", z->origin) < 0)
		die("the origin");
	z->serial = 1;
	z->soa_ttl = 60;
	z->soa_rdlen = sizeof(soa);
	int64_t o = policy_zone_put(z, soa, sizeof(soa));
	if (o < 0)
		die("out of memory");
	z->soa_off = (uint32_t)o;
	srandom(7);
	for (unsigned i = 0; full && i < 900000; i++) {
		const char *w1 = words[random() % 10], *w2 = words[random() % 10];
		snprintf(name, sizeof(name), "%s%u.%s-%u.%s", w1, i % 97, w2, i,
			 tlds[random() % 4]);
		rule(z, POLICY_T_QNAME, POLICY_A_NXDOMAIN, name, false, NULL);
	}
	for (unsigned i = 0; full && i < 100000; i++) {
		snprintf(name, sizeof(name), "w%u.%s.example", i, words[random() % 10]);
		rule(z, POLICY_T_QNAME, POLICY_A_NODATA, name, true, NULL);
	}
	for (unsigned i = 0; full && i < 100000; i++) {
		uint8_t a[4] = { (uint8_t)(i < 100 ? 198 : 10 + (i >> 16) % 90),
				 (uint8_t)(i < 100 ? 18 : (i >> 8) & 255),
				 (uint8_t)(i < 100 ? 100 + i : i & 255), 0 };
		rule(z, POLICY_T_CLIENT_IP, POLICY_A_NXDOMAIN, NULL, false, a);
	}
}

/* The policy work of ops hits, the questions and clients in turn. */
BENCH_OPAQUE static unsigned bench_match(const struct policy_snap *s, unsigned ops)
{
	unsigned matched = 0;

	for (unsigned i = 0; i < ops; i++) {
		struct policy_hit h;
		unsigned k = i % NAMES;
		matched += policy_match(s, names[k], name_len[k], 4, clients[i % CLIENTS], &h) != 0;
	}
	return matched;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "full") && strcmp(argv[1], "empty"))) {
		fprintf(stderr, "usage: bench_policy full|empty [OPS]\n");
		return 2;
	}
	unsigned ops = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000000u;
	struct policy_zone z;

	policy_zone_init(&z);
	zone_rules(&z, !strcmp(argv[1], "full"));
	double r1 = now_s();
	const struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts opts = { .ede = DNS_EDE_NONE };
	const char *zn[1] = { "rpz.bench" };
	size_t slen;
	struct policy_snap *s = policy_build(zs, &opts, zn, 1, 1, NULL, NULL, &slen);
	double r2 = now_s();
	if (!s || policy_check(s, slen))
		die("the snapshot did not build");
	double r3 = now_s();
	policy_zone_fini(&z);
	for (unsigned i = 0; i < NAMES; i++) {
		char txt[64];
		snprintf(txt, sizeof(txt), "n%u.wild.shop.lab", i + 1);
		int l = dns_name_from_str(txt, names[i]);
		if (l < 0)
			die("a query name");
		name_len[i] = (size_t)l;
	}
	for (unsigned i = 0; i < CLIENTS; i++)
		memcpy(clients[i], (const uint8_t[]){ 198, 18, 1, (uint8_t)(1 + i) }, 4);

	double t0 = now_s();
	unsigned matched = bench_match(s, ops);
	double t1 = now_s();
	if (matched)
		die("a rule matched a cached name");
	printf("%s: %llu rules (built %.0f ms, %zu octets, checked %.0f ms), "
	       "%u ops, %.1f ns/op\n", argv[1], (unsigned long long)policy_rules(s),
	       (r2 - r1) * 1e3, slen, (r3 - r2) * 1e3, ops,
	       (t1 - t0) * 1e9 / ops);
	free(s);
	return 0;
}
