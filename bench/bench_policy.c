/*
 * bench/bench_policy.c: what response policy adds to a worker's cache hit,
 * in stable counts. A hit's policy work is policy_match() of the question's
 * name and the client's address before the cache lookup (dataplane/
 * worker.c); this runs it over the names and clients of `bench/memif-bench
 * SECONDS policy` (the 1000 cached names n1..n1000.wild.shop.lab, clients
 * 198.18.1.1-16, no rule matching them) against two snapshots built as
 * control builds them: memif-bench's zone of 1 000 000 QNAME rules (900 000
 * exact names of 3 labels, 100 000 wildcards *.wN.WORD.example) and
 * 100 000 CLIENT-IP /24 prefixes (100 in the clients' /16), and the same
 * zone emptied.
 *
 * Usage: bench_policy full|empty [OPS]   (OPS: 1 000 000)
 * Prints the zone's read (from memory: ctl_rpz_parse()), build and check
 * times and ns/op; the measured loop is the noipa function bench_match(), so
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
#include "control/rpz.h"
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

/* memif-bench's zone (its words drawn the same way: the rules' shape
 * matters, not which words), or only its head. */
static char *zone_text(bool full, size_t *len)
{
	static const char *const words[] = { "ads", "track", "cdn", "img", "stat",
					     "pixel", "beacon", "metrics", "promo", "click" };
	static const char *const tlds[] = { "com", "net", "org", "info" };
	size_t cap = 64u << 20, n = 0;
	char *t = malloc(cap);

	if (!t)
		die("out of memory");
	n += (size_t)snprintf(t, cap, "$TTL 300\n@ SOA ns.rpz.bench. h.rpz.bench. 1 3600 600 "
				      "86400 60\n NS ns.rpz.bench.\n");
	srandom(7);
	for (unsigned i = 0; full && i < 900000; i++)
		n += (size_t)snprintf(t + n, cap - n, "%s%u.%s-%u.%s CNAME .\n",
				      words[random() % 10], i % 97, words[random() % 10], i,
				      tlds[random() % 4]);
	for (unsigned i = 0; full && i < 100000; i++)
		n += (size_t)snprintf(t + n, cap - n, "*.w%u.%s.example CNAME *.\n", i,
				      words[random() % 10]);
	for (unsigned i = 0; full && i < 100000; i++) {
		unsigned a = i < 100 ? 198 : 10 + (i >> 16) % 90, b = i < 100 ? 18 : (i >> 8) & 255,
			 c = i < 100 ? 100 + i : i & 255;
		n += (size_t)snprintf(t + n, cap - n, "24.0.%u.%u.%u.rpz-client-ip CNAME .\n", c, b,
				      a);
	}
	if (n >= cap)
		die("the zone does not fit");
	*len = n;
	return t;
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
	uint8_t origin[DNS_NAME_MAX];
	char err[256];
	size_t len;
	char *text = zone_text(!strcmp(argv[1], "full"), &len);
	struct policy_zone z;

	policy_zone_init(&z);
	double r0 = now_s();
	if (dns_name_from_str("rpz.bench", origin) < 0 ||
	    ctl_rpz_parse(&z, text, len, "rpz.bench", origin, NULL, NULL, err, sizeof(err)))
		die(err);
	double r1 = now_s();
	free(text);
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
	printf("%s: %llu rules (read %.0f ms, built %.0f ms, %zu octets, checked %.0f ms), "
	       "%u ops, %.1f ns/op\n", argv[1], (unsigned long long)policy_rules(s),
	       (r1 - r0) * 1e3, (r2 - r1) * 1e3, slen, (r3 - r2) * 1e3, ops,
	       (t1 - t0) * 1e9 / ops);
	free(s);
	return 0;
}
