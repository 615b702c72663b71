/*
 * control/bench_val.c: micro-benchmark of one signature check by the
 * validator (control/val.h), per algorithm, on real signed data: a signed
 * zone file of the lab world (one per algorithm, tests/world), its DNSKEY
 * set and the RRset of `www` A with its RRSIG. One call of bench_one()
 * validates that RRset against the key set once (key tag match, window,
 * canonical form, the public-key operation; the key is made once and
 * reused, as in the resolver), with the outcome memo off: the public-key
 * operation is what is measured. bench/val-bench runs this under callgrind
 * with --toggle-collect=bench_one for instructions per check. Then the
 * same check answered from the memo, timed (the resolver's cost when it
 * meets the same signature again).
 *
 * Usage: bench_val ZONEFILE [ITERATIONS]   (default 200)
 */
#include <libzscanner/scanner.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/val.h"
#include "dns/name.h"
#include "dns/wire.h"

#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline))
#else
#define BENCH_OPAQUE __attribute__((noipa))
#endif

#define RR_MAX 64

static uint8_t owner_www[DNS_NAME_MAX], apex[DNS_NAME_MAX];
static struct ctl_val_rdata keys_rd[RR_MAX], a_rd[RR_MAX], a_sig[RR_MAX];
static struct ctl_val_rrset keys = { .type = DNS_T_DNSKEY, .rclass = DNS_C_IN, .rr = keys_rd };
static struct ctl_val_rrset www = { .type = DNS_T_A, .rclass = DNS_C_IN, .rr = a_rd,
				    .sig = a_sig };
static struct ctl_val_limits lim;
static uint32_t now;

static uint8_t *copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c)
		exit(1);
	memcpy(c, p, n);
	return c;
}

/* The zone's DNSKEY set and www's A RRset with RRSIGs, from the file. */
static void load(const char *path)
{
	zs_scanner_t *s = calloc(1, sizeof(*s));

	if (!s || zs_init(s, ".", DNS_C_IN, 3600) || zs_set_input_file(s, path)) {
		fprintf(stderr, "bench_val: cannot read %s\n", path);
		exit(1);
	}
	while (zs_parse_record(s) == 0 && s->state == ZS_STATE_DATA) {
		const uint8_t *o = s->r_owner;
		uint16_t t = s->r_type, len = (uint16_t)s->r_data_length;
		if (t == DNS_T_SOA)
			memcpy(apex, o, s->r_owner_length);
		if (t == DNS_T_DNSKEY && keys.n < RR_MAX)
			keys_rd[keys.n++] = (struct ctl_val_rdata){ copy(s->r_data, len), len };
		bool at_www = o[0] == 3 && dns_name_labels(o) >= 2 && !memcmp(o + 1, "www", 3);
		if (!at_www)
			continue;
		memcpy(owner_www, o, s->r_owner_length);
		if (t == DNS_T_A && www.n < RR_MAX) {
			a_rd[www.n++] = (struct ctl_val_rdata){ copy(s->r_data, len), len };
			www.ttl = s->r_ttl;
		}
		if (t == DNS_T_RRSIG && len > 2 && dns_get16(s->r_data) == DNS_T_A &&
		    www.nsig < RR_MAX) {
			a_sig[www.nsig++] = (struct ctl_val_rdata){ copy(s->r_data, len), len };
			struct ctl_rrsig r;
			if (ctl_rrsig_read(&r, s->r_data, len))
				now = r.inception + 3600 * 2;
		}
	}
	zs_deinit(s);
	free(s);
	keys.owner = apex;
	www.owner = owner_www;
	if (!keys.n || !www.n || !www.nsig) {
		fprintf(stderr, "bench_val: %s has no DNSKEY set or signed www A\n", path);
		exit(1);
	}
}

static int check(void)
{
	struct ctl_val_budget b;
	struct ctl_val_result res;

	ctl_val_budget_init(&b, &lim);
	ctl_val_rrset(&b, &www, apex, &keys, now, &res);
	return res.sec;
}

/* the check with the memo off (callgrind counts this one) */
static BENCH_OPAQUE int bench_one(void)
{
	return check();
}

/* the same check met again: from the memo */
static BENCH_OPAQUE int bench_memo(void)
{
	return check();
}

int main(int argc, char **argv)
{
	long iters = argc > 2 ? atol(argv[2]) : 200;
	struct timespec t0, t1;

	if (argc < 2 || iters <= 0) {
		fprintf(stderr, "usage: bench_val ZONEFILE [ITERATIONS]\n");
		return 2;
	}
	ctl_val_limits_default(&lim);
	ctl_val_memo_enable(false);
	load(argv[1]);
	struct ctl_rrsig r;
	ctl_rrsig_read(&r, a_sig[0].p, a_sig[0].len);
	if (bench_one() != CTL_SEC_SECURE) {
		fprintf(stderr, "bench_val: www A of %s does not validate\n", argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		bench_one();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		    1e3 / (double)iters;
	printf("algorithm %u: %.1f us per check (%ld checks)\n", r.alg, us, iters);
	ctl_val_memo_enable(true);
	bench_memo(); /* the memo's first: a check made */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		if (bench_memo() != CTL_SEC_SECURE) {
			fprintf(stderr, "bench_val: the memo's outcome is not secure\n");
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 /
	     (double)iters;
	printf("algorithm %u: %.1f us per check met again (the memo: %llu of %ld)\n", r.alg, us,
	       (unsigned long long)ctl_val_memo_hits(), iters);
	return 0;
}
