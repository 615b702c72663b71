/*
 * control/bench_scrub.c: micro-benchmark of the scrubber (control/scrub.h) on
 * the costliest referral a server can send in one 16 KB message: the root
 * refers com. to 100 NS names (max-rrset-records' default) with 8 glue
 * addresses each, 900 records in all, every owner a compression pointer
 * into an NS record's RDATA. One call of bench_one() scrubs it once;
 * bench/scrub-bench runs this under callgrind with
 * --toggle-collect=bench_one for instructions/op. The scrub runs on
 * control's single thread, once per upstream reply: what it costs, every
 * resolution waiting behind it waits too.
 *
 * Usage: bench_scrub [ITERATIONS]   (default 2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/scrub.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"

#define NS_COUNT 100
#define GLUE_PER_NS 8

#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline))
#else
#define BENCH_OPAQUE __attribute__((noipa))
#endif

int bench_one(struct ctl_scrub *s, const struct dns_msg *m);

static const uint8_t root[1] = { 0 };
static uint8_t qname[DNS_NAME_MAX];

BENCH_OPAQUE int bench_one(struct ctl_scrub *s, const struct dns_msg *m)
{
	return ctl_scrub(s, m, root, qname, DNS_T_A, DNS_C_IN, 100);
}

/* "ns<i>.com" in wire form into out; its length. */
static size_t ns_name(uint8_t *out, unsigned i)
{
	char text[32];

	snprintf(text, sizeof(text), "ns%u.com", i);
	return (size_t)dns_name_from_str(text, out);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000;
	static uint8_t buf[16384];
	static struct ctl_scrub s;
	struct dns_builder b;
	struct dns_msg m;
	uint8_t name[DNS_NAME_MAX], com[DNS_NAME_MAX];
	struct timespec t0, t1;

	dns_name_from_str("www.example.com", qname);
	dns_name_from_str("com", com);
	dns_builder_init(&b, buf, sizeof(buf), 0x1234, DNS_F_QR);
	dns_builder_question(&b, qname, DNS_T_A, DNS_C_IN);
	for (unsigned i = 0; i < NS_COUNT; i++) {
		size_t n = ns_name(name, i);
		dns_builder_rr(&b, DNS_SEC_AUTHORITY, com, DNS_T_NS, DNS_C_IN, 172800, name, n);
	}
	for (unsigned i = 0; i < NS_COUNT; i++)
		for (unsigned k = 0; k < GLUE_PER_NS; k++) {
			uint8_t a[4] = { 192, 0, (uint8_t)i, (uint8_t)k };
			ns_name(name, i);
			dns_builder_rr(&b, DNS_SEC_ADDITIONAL, name, DNS_T_A, DNS_C_IN, 172800, a, 4);
		}
	size_t len = dns_builder_finish(&b);
	if (b.tc || dns_msg_parse(&m, buf, len) != 0) {
		fprintf(stderr, "bench_scrub: the referral did not build (%zu octets)\n", len);
		return 1;
	}
	/* The verdict must be right before its speed means anything. */
	int kind = bench_one(&s, &m);
	if (kind != CTL_SCRUB_REFERRAL || s.ref_ns != NS_COUNT ||
	    s.glue != NS_COUNT * GLUE_PER_NS) {
		fprintf(stderr, "bench_scrub: wrong verdict: %s, %u NS, %u glue\n",
			ctl_scrub_kind_str(kind), s.ref_ns, s.glue);
		return 1;
	}
	if (iters < 1)
		iters = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		if (bench_one(&s, &m) != kind)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		     (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3;
	printf("scrub a %zu-octet referral (%u NS, %u glue): %ld ops, %.1f us/op\n", len,
	       NS_COUNT, NS_COUNT * GLUE_PER_NS, iters, us / (double)iters);
	return 0;
}
