/*
 * bench/bench_wire.c: micro-benchmark of the dns/ hot path a worker runs for
 * a query it can answer: parse a typical client query (www.shop.lab A with
 * EDNS, 1232-octet buffer) and build a one-answer response (question echoed
 * in the client's letter case, A record with a compressed owner, OPT echoed).
 * One call of bench_one() is one operation; bench/wire-bench runs this
 * under callgrind with --toggle-collect=bench_one for instructions/op.
 *
 * Usage: bench_wire [ITERATIONS]   (default 10000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dns/build.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/query.h"

static const uint8_t query[] = {
	0x4a, 0x21, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1,
	3, 'w', 'W', 'w', 4, 's', 'h', 'o', 'p', 3, 'l', 'a', 'b', 0,
	0, DNS_T_A, 0, DNS_C_IN,
	0, 0, DNS_T_OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t answer_a[4] = { 198, 18, 0, 1 };

/*
 * Not inlined into the loop, and (with GCC) not specialised for the constant
 * query either: the count must be that of a call on unknown input.
 */
#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline))
#else
#define BENCH_OPAQUE __attribute__((noipa))
#endif

int bench_one(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap);

BENCH_OPAQUE int bench_one(const uint8_t *q, size_t qlen,
					       uint8_t *out, size_t cap)
{
	struct dns_query m;
	struct dns_builder b;
	int r;

	if ((r = dns_query_parse(&m, q, qlen)))
		return r;
	if ((r = dns_builder_reply(&b, out, cap < dns_query_udp_size(&m) ? cap :
				   dns_query_udp_size(&m), &m, DNS_F_RA)) ||
	    (m.has_edns && (r = dns_builder_reserve(&b, 11))) ||
	    (r = dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN,
				      300, answer_a, sizeof(answer_a))))
		return r;
	if (m.has_edns && (r = dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0)))
		return r;
	return (int)dns_builder_finish(&b);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000000;
	uint8_t out[1232];
	struct dns_msg check;
	struct timespec t0, t1;
	int len = bench_one(query, sizeof(query), out, sizeof(out));

	/* The answer must be right before its speed means anything. */
	if (len < 0 || dns_msg_parse(&check, out, (size_t)len) != 0 ||
	    check.hdr.count[DNS_SEC_ANSWER] != 1 || !check.has_edns ||
	    (size_t)len != sizeof(query) + 16) {
		fprintf(stderr, "bench_wire: wrong answer (%d: %s)\n", len,
			len < 0 ? dns_strerror(len) : "bad content");
		return 1;
	}
	if (iters < 1)
		iters = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		if (bench_one(query, sizeof(query), out, sizeof(out)) != len)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec);
	printf("parse query + build 1-answer response: %ld ops, %.1f ns/op, "
	       "%d-octet answer\n", iters, ns / (double)iters, len);
	return 0;
}
