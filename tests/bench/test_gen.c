/*
 * tests/bench/test_gen.c: bailiwick-gen's EAL-free library: query files
 * (templates parsed back with dns/, errors naming file and line), the TSC
 * token bucket's long-run bound, the in-flight table's id cycle and lost /
 * duplicate counting, the histogram's error bound and percentiles, and the
 * JSON summary checked by a small parser.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench/gen.h"
#include "dns/name.h"
#include "dns/query.h"

/* --- helpers ---------------------------------------------------------------- */

static int parse(struct gen_queries *qs, const char *text, char *err, size_t errlen)
{
	return gen_queries_parse(qs, text, strlen(text), "q.txt", err, errlen);
}

/* Parses text that must fail and checks the whole error message. */
static void parse_fails(const char *text, const char *want)
{
	struct gen_queries qs;
	char err[256] = "";

	cr_assert_eq(parse(&qs, text, err, sizeof(err)), -1, "accepted: %s", text);
	cr_assert_str_eq(err, want);
	cr_assert_eq(qs.n, 0);
	cr_assert_null(qs.q);
}

/* The template parsed back as a query. */
static void query_of(const struct gen_query *t, struct dns_query *q)
{
	cr_assert_eq(dns_query_parse(q, t->wire, t->len), 0);
}

static void qname_is(const struct dns_query *q, const char *want)
{
	char s[1100];

	cr_assert_gt(dns_name_to_str(dns_query_qname(q), s, sizeof(s)), 0);
	cr_assert_str_eq(s, want);
}

/* xorshift64*: reproducible pseudo-random numbers. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* --- the query file ------------------------------------------------------- */

Test(gen, query_template_is_rd_id_0_question_and_opt_1232)
{
	struct gen_queries qs;
	struct dns_query q;
	char err[128];

	cr_assert_eq(parse(&qs, "www.Shop.lab A\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.n, 1);
	query_of(&qs.q[0], &q);
	cr_assert_eq(q.id, 0);
	cr_assert_eq(q.flags, DNS_F_RD);
	cr_assert_eq(q.qtype, DNS_T_A);
	cr_assert_eq(q.qclass, DNS_C_IN);
	qname_is(&q, "www.Shop.lab.");
	cr_assert(q.has_edns);
	cr_assert_eq(q.edns.udp_size, 1232);
	cr_assert_eq(qs.q[0].len, 12 + 14 + 4 + 11);
	gen_queries_free(&qs);
	cr_assert_null(qs.q);
}

Test(gen, do_sets_the_dnssec_ok_bit)
{
	struct gen_queries qs;
	struct dns_query q;
	char err[128];

	cr_assert_eq(parse(&qs, "a.lab A do\nb.lab A\n", err, sizeof(err)), 0, "%s", err);
	query_of(&qs.q[0], &q);
	cr_assert(q.has_edns && (q.edns.flags & DNS_EDNS_F_DO));
	query_of(&qs.q[1], &q);
	cr_assert(q.has_edns && !(q.edns.flags & DNS_EDNS_F_DO));
	gen_queries_free(&qs);
}

Test(gen, noedns_leaves_the_opt_out)
{
	struct gen_queries qs;
	struct dns_query q;
	char err[128];

	cr_assert_eq(parse(&qs, "a.lab MX noedns\nb.lab MX NoEDNS\n", err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(qs.n, 2);
	for (size_t i = 0; i < 2; i++) {
		query_of(&qs.q[i], &q);
		cr_assert_not(q.has_edns);
		cr_assert_eq(q.qtype, DNS_T_MX);
		cr_assert_eq(qs.q[i].len, 12 + 7 + 4);
	}
	gen_queries_free(&qs);
}

Test(gen, blank_and_comment_lines_are_skipped_and_order_kept)
{
	struct gen_queries qs;
	struct dns_query q;
	char err[128];
	const char *text = "# a comment\n\n  \t\none.lab A\r\n   # indented comment\n"
			   "two.lab AAAA\n\nthree.lab TXT";	/* no final newline */

	cr_assert_eq(parse(&qs, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.n, 3);
	query_of(&qs.q[0], &q);
	qname_is(&q, "one.lab.");
	cr_assert_eq(q.qtype, DNS_T_A);
	query_of(&qs.q[1], &q);
	qname_is(&q, "two.lab.");
	cr_assert_eq(q.qtype, DNS_T_AAAA);
	query_of(&qs.q[2], &q);
	qname_is(&q, "three.lab.");
	cr_assert_eq(q.qtype, DNS_T_TXT);
	gen_queries_free(&qs);
}

Test(gen, type_mnemonics_map_to_their_numbers_in_any_case)
{
	static const struct {
		const char *s;
		uint16_t t;
	} types[] = {
		{ "A", 1 }, { "AAAA", 28 }, { "MX", 15 }, { "TXT", 16 }, { "NS", 2 },
		{ "SOA", 6 }, { "CNAME", 5 }, { "PTR", 12 }, { "SRV", 33 }, { "DS", 43 },
		{ "DNSKEY", 48 }, { "ANY", 255 }, { "aaaa", 28 }, { "Srv", 33 },
		{ "NAPTR", 35 }, { "CAA", 257 }, { "HTTPS", 65 }, { "A6", 38 },
		{ "TYPE1", 1 }, { "type0", 0 }, { "TYPE65535", 65535 }, { "TYPE00099", 99 },
	};
	char text[64], err[128];
	struct gen_queries qs;
	struct dns_query q;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(text, sizeof(text), "x.lab %s\n", types[i].s);
		cr_assert_eq(parse(&qs, text, err, sizeof(err)), 0, "%s: %s", types[i].s, err);
		query_of(&qs.q[0], &q);
		cr_assert_eq(q.qtype, types[i].t, "%s gave %u", types[i].s, q.qtype);
		gen_queries_free(&qs);
	}
}

Test(gen, unknown_type_names_file_line_and_type)
{
	parse_fails("a.lab A\n# c\nb.lab FOO\n", "q.txt:3: unknown type FOO");
	parse_fails("a.lab TYPE65536\n", "q.txt:1: unknown type TYPE65536");
	parse_fails("a.lab TYPE\n", "q.txt:1: unknown type TYPE");
	parse_fails("a.lab TYPE1x\n", "q.txt:1: unknown type TYPE1x");
	parse_fails("a.lab TYPE-1\n", "q.txt:1: unknown type TYPE-1");
	parse_fails("a.lab TYPE9999999999\n", "q.txt:1: unknown type TYPE9999999999");
}

Test(gen, missing_type_or_extra_words_are_errors)
{
	parse_fails("a.lab A\nb.lab\n", "q.txt:2: no type after the name");
	parse_fails("a.lab A edns\n",
		    "q.txt:1: unexpected 'edns' (NAME TYPE [noedns|do])");
	parse_fails("a.lab A noedns more\n",
		    "q.txt:1: unexpected 'more' (NAME TYPE [noedns|do])");
	parse_fails("a.lab A x y\n", "q.txt:1: unexpected 'x' (NAME TYPE [noedns|do])");
}

Test(gen, name_of_255_octets_fits_and_256_is_an_error)
{
	char text[600], err[128];
	struct gen_queries qs;
	struct dns_query q;
	size_t n = 0;

	/* 3 labels of 63 + one of 61: 4 + 250 + root = 255 octets. */
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;

		memset(text + n, 'a' + l, (size_t)len);
		n += (size_t)len;
		text[n++] = '.';
	}
	memcpy(text + n, " A\n", 4);
	cr_assert_eq(parse(&qs, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.q[0].len, sizeof(qs.q[0].wire), "the longest query fills the template");
	query_of(&qs.q[0], &q);
	cr_assert_eq(q.qname_len, 255);
	cr_assert(q.has_edns);
	gen_queries_free(&qs);

	/* One more octet in the last label. */
	memmove(text + n, text + n - 1, 4);
	text[n - 1] = 'z';
	parse_fails(text, "q.txt:1: name longer than 255 octets");

	/* Far too long to even hold as text. */
	memset(text, 'a', 590);
	for (int i = 50; i < 590; i += 50)
		text[i] = '.';
	memcpy(text + 590, " A\n", 4);
	parse_fails(text, "q.txt:1: name longer than 255 octets");
}

Test(gen, label_over_63_octets_is_an_error)
{
	char text[128], want[160], err[128];
	struct gen_queries qs;

	memset(text, 'x', 64);
	memcpy(text + 64, ".lab A\n", 8);
	snprintf(want, sizeof(want), "q.txt:1: label longer than 63 octets in %.*s.lab",
		 64, text);
	parse_fails(text, want);
	cr_assert_eq(parse(&qs, text + 1, err, sizeof(err)), 0, "63 octets: %s", err);
	gen_queries_free(&qs);
}

Test(gen, bad_names_and_nul_octets_are_errors)
{
	static const char nul[] = "a.lab A\nb.l\0ab A\n";
	struct gen_queries qs;
	char err[128];

	parse_fails("a..lab A\n", "q.txt:1: bad name a..lab (empty label or bad escape)");
	parse_fails("a\\9.lab A\n", "q.txt:1: bad name a\\9.lab (empty label or bad escape)");
	cr_assert_eq(gen_queries_parse(&qs, nul, sizeof(nul) - 1, "n.txt", err, sizeof(err)),
		     -1);
	cr_assert_str_eq(err, "n.txt:2: NUL octet in the line");
}

Test(gen, empty_file_or_only_comments_is_an_error)
{
	parse_fails("", "q.txt: no queries in the file");
	parse_fails("# nothing\n\n   \n", "q.txt: no queries in the file");
}

Test(gen, error_text_is_cut_to_errlen)
{
	struct gen_queries qs;
	char err[12];

	memset(err, '!', sizeof(err));
	cr_assert_eq(parse(&qs, "a.lab FOO\n", err, 8), -1);
	cr_assert_str_eq(err, "q.txt:1");
	cr_assert_eq(err[8], '!', "wrote past errlen");
	cr_assert_eq(parse(&qs, "a.lab FOO\n", NULL, 0), -1);
}

Test(gen, load_reads_a_file_and_names_a_missing_one)
{
	char path[] = "/tmp/test_gen_XXXXXX", err[256], want[300];
	struct gen_queries qs;
	struct dns_query q;
	const char text[] = "# dnsperf\nexample.com NS\nexample.com SOA noedns\n";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	cr_assert_eq(gen_queries_load(&qs, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.n, 2);
	query_of(&qs.q[1], &q);
	cr_assert_eq(q.qtype, DNS_T_SOA);
	cr_assert_not(q.has_edns);
	gen_queries_free(&qs);

	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "x.lab BOGUS\n", 12), 12);
	close(fd);
	cr_assert_eq(gen_queries_load(&qs, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: unknown type BOGUS", path);
	cr_assert_str_eq(err, want);

	unlink(path);
	cr_assert_eq(gen_queries_load(&qs, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	cr_assert_str_eq(err, want);
	cr_assert_null(qs.q);
}

Test(gen, many_lines_all_become_templates)
{
	size_t n = 5000, len = 0;
	static char text[5000 * 32];
	char err[128];
	struct gen_queries qs;
	struct dns_query q;
	char want[32];

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "n%zu.lab A\n", i);
	cr_assert_eq(gen_queries_parse(&qs, text, len, "big", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.n, n);
	for (size_t i = 0; i < n; i += 499) {
		query_of(&qs.q[i], &q);
		snprintf(want, sizeof(want), "n%zu.lab.", i);
		qname_is(&q, want);
	}
	gen_queries_free(&qs);
}

/* --- the token bucket ------------------------------------------------------- */

#define HZ 2600000000ull	/* a 2.6 GHz TSC */

struct mark {
	uint64_t now, taken;	/* at the first call after each millisecond */
};

/*
 * 10 s of TSC in steps of 100..999 ticks (with a few idle gaps of 4 ms when
 * idle is set, in which the bucket fills up and must drop what it cannot
 * hold), asking for want or, if 0, a random 1..burst each call. Checks the
 * bound from the start at every call and returns the total taken; *marks
 * (10001 of them) are filled for window checks.
 */
static uint64_t run_bucket(uint64_t rate, uint64_t burst, uint64_t t0, unsigned want,
			   bool idle, struct mark *marks)
{
	struct gen_bucket b;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ rate, now = t0, taken = 0;
	size_t nm = 0;

	gen_bucket_init(&b, HZ, rate, burst, t0);
	while (now - t0 < 10 * HZ) {
		uint64_t r = rnd(&seed);
		unsigned w = want ? want : (unsigned)(1 + r % burst);
		unsigned got = gen_bucket_take(&b, now, w);

		cr_assert_leq(got, w);
		taken += got;
		cr_assert_leq((unsigned __int128)taken * HZ,
			      (unsigned __int128)rate * (now - t0) + (unsigned __int128)burst * HZ,
			      "rate %llu: %llu taken after %llu ticks",
			      (unsigned long long)rate, (unsigned long long)taken,
			      (unsigned long long)(now - t0));
		if ((now - t0) / (HZ / 1000) >= nm && nm <= 10000)
			marks[nm++] = (struct mark){ now, taken };
		now += 100 + (r >> 32) % 900;
		if (idle && (r >> 20) % 8192 == 0)
			now += 4 * (HZ / 1000);
	}
	while (nm <= 10000)
		marks[nm++] = (struct mark){ now, taken };
	return taken;
}

Test(gen, bucket_never_exceeds_rate_plus_burst)
{
	static struct mark m[10001];
	static const uint64_t rates[] = { 1000, 3000000 };
	static const size_t lens[] = { 1, 7, 100, 1000, 5000 };

	for (size_t r = 0; r < 2; r++) {
		uint64_t rate = rates[r], burst = 32;
		uint64_t taken = run_bucket(rate, burst, 123456789, 0, true, m);

		cr_assert_leq(taken, rate * 10 + burst);
		/* Any window between two marks, not only from the start. */
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t i = 0; i + lens[l] <= 10000; i++) {
				const struct mark *a = &m[i], *z = &m[i + lens[l]];

				cr_assert_leq((unsigned __int128)(z->taken - a->taken) * HZ,
					      (unsigned __int128)rate * (z->now - a->now) +
						      (unsigned __int128)burst * HZ,
					      "rate %llu: %llu taken in %llu ticks",
					      (unsigned long long)rate,
					      (unsigned long long)(z->taken - a->taken),
					      (unsigned long long)(z->now - a->now));
			}
	}
}

Test(gen, bucket_keeps_up_with_the_rate_over_10_s_without_drift)
{
	static struct mark m[10001];
	static const uint64_t rates[] = { 7, 1234567 };

	for (size_t r = 0; r < 2; r++) {
		uint64_t rate = rates[r], burst = 32;
		uint64_t taken = run_bucket(rate, burst, 1, (unsigned)burst, false, m);

		cr_assert_leq(taken, rate * 10 + burst);
		cr_assert_geq(taken + burst + 1, rate * 10, "rate %llu: only %llu taken",
			      (unsigned long long)rate, (unsigned long long)taken);
	}
}

Test(gen, bucket_carries_fractions_of_a_token_between_calls)
{
	struct gen_bucket b;
	uint64_t taken = 0;

	/* 3 tokens/s, called every 1000 ticks: each call earns 3e-6 tokens. */
	gen_bucket_init(&b, 1000000000, 3, 1, 0);
	for (uint64_t now = 0; now <= 10 * 1000000000ull; now += 1000)
		taken += gen_bucket_take(&b, now, 1);
	cr_assert_geq(taken, 30);
	cr_assert_leq(taken, 31);
}

Test(gen, bucket_starts_full_and_saves_at_most_burst)
{
	struct gen_bucket b;

	gen_bucket_init(&b, HZ, 1000, 16, 5000);
	cr_assert_eq(gen_bucket_take(&b, 5000, 100), 16);
	cr_assert_eq(gen_bucket_take(&b, 5000, 100), 0);
	/* An hour idle earns 3.6 M tokens, of which 16 are kept. */
	cr_assert_eq(gen_bucket_take(&b, 5000 + 3600 * HZ, 100), 16);
	cr_assert_eq(gen_bucket_take(&b, 5000 + 3600 * HZ, 100), 0);
	/* And time spent full is not saved either: 1 ms later, one token. */
	cr_assert_eq(gen_bucket_take(&b, 5000 + 3600 * HZ + HZ / 1000, 100), 1);
}

Test(gen, bucket_now_equal_to_last_or_earlier_adds_nothing)
{
	struct gen_bucket b;
	uint64_t t = 1000 * HZ;

	gen_bucket_init(&b, HZ, 1000000, 4, t);
	cr_assert_eq(gen_bucket_take(&b, t, 4), 4);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(gen_bucket_take(&b, t, 4), 0);
	cr_assert_eq(gen_bucket_take(&b, t - HZ, 4), 0, "TSC going back earns nothing");
	/* 1 token per 2600 ticks, counted from t, not from the earlier value. */
	cr_assert_eq(gen_bucket_take(&b, t + 2599, 4), 0);
	cr_assert_eq(gen_bucket_take(&b, t + 2600, 4), 1);
	cr_assert_eq(gen_bucket_take(&b, t + 2600, 4), 0);
}

Test(gen, bucket_handles_tsc_values_near_2_to_64)
{
	struct gen_bucket b;
	uint64_t t = UINT64_MAX - 20 * HZ;

	gen_bucket_init(&b, HZ, 10000000000ull, 64, t);	/* 10 G tokens/s */
	cr_assert_eq(gen_bucket_take(&b, t, 64), 64);
	/* 26 ticks per 100 tokens. */
	cr_assert_eq(gen_bucket_take(&b, t + 26, 64), 64, "capped at burst");
	cr_assert_eq(gen_bucket_take(&b, t + 39, 64), 50);
	cr_assert_eq(gen_bucket_take(&b, t + 10 * HZ, 64), 64);
	/* Gaps whose elapsed * rate overflows 64 bits. */
	gen_bucket_init(&b, HZ, 1000000, 8, 1);
	cr_assert_eq(gen_bucket_take(&b, 1, 8), 8);
	cr_assert_eq(gen_bucket_take(&b, UINT64_MAX / 2, 8), 8);
	cr_assert_eq(gen_bucket_take(&b, UINT64_MAX / 2 + 2599, 8), 0);
	cr_assert_eq(gen_bucket_take(&b, UINT64_MAX / 2 + 2600, 8), 1);
	cr_assert_eq(gen_bucket_take(&b, UINT64_MAX, 8), 8);
	/* 2^20 tokens/s for 2^44 ticks (under 2 h): 2^64, 0 if it wrapped. */
	gen_bucket_init(&b, HZ, 1u << 20, 8, 1000);
	cr_assert_eq(gen_bucket_take(&b, 1000, 8), 8);
	cr_assert_eq(gen_bucket_take(&b, 1000 + (1ull << 44), 8), 8);
}

Test(gen, bucket_rate_0_is_unlimited)
{
	struct gen_bucket b;

	gen_bucket_init(&b, HZ, 0, 32, 0);
	for (unsigned w = 0; w < 1000; w += 37)
		cr_assert_eq(gen_bucket_take(&b, 0, w), w);
	cr_assert_eq(gen_bucket_take(&b, 0, UINT32_MAX), UINT32_MAX);
}

/* --- the in-flight table ---------------------------------------------------- */

Test(gen, inflight_ids_cycle_0_to_65535_on_every_port)
{
	struct gen_inflight f;
	uint64_t lost = 0;
	unsigned nports = 3;

	cr_assert_eq(gen_inflight_init(&f, nports), 0);
	for (uint64_t n = 0; n < 2ull * GEN_IDS * nports; n++) {
		uint16_t id;
		unsigned port;

		gen_inflight_send(&f, 100 + n, 0, &id, &port, &lost);
		cr_assert_eq(port, n % nports);
		cr_assert_eq(id, (n / nports) % GEN_IDS, "send %llu got id %u",
			     (unsigned long long)n, id);
		if (n == (uint64_t)GEN_IDS * nports - 1)
			cr_assert_eq(lost, 0, "no slot reused in the first cycle");
	}
	cr_assert_eq(lost, (uint64_t)GEN_IDS * nports, "second cycle reused every slot");
	gen_inflight_fini(&f);
}

Test(gen, inflight_answer_gives_latency_once_and_a_duplicate_gets_uint64_max)
{
	struct gen_inflight f;
	uint64_t lost = 0;
	uint16_t id[3];
	unsigned port[3];

	cr_assert_eq(gen_inflight_init(&f, 2), 0);
	gen_inflight_send(&f, 1000, 0, &id[0], &port[0], &lost);
	gen_inflight_send(&f, 1010, 0, &id[1], &port[1], &lost);
	gen_inflight_send(&f, 1020, 0, &id[2], &port[2], &lost);
	cr_assert_eq(gen_inflight_answer(&f, id[1], port[1], 1500, NULL), 490);
	cr_assert_eq(gen_inflight_answer(&f, id[1], port[1], 1600, NULL), UINT64_MAX);
	cr_assert_eq(gen_inflight_answer(&f, id[2], port[2], 1520, NULL), 500);
	cr_assert_eq(gen_inflight_answer(&f, id[0], port[0], 1700, NULL), 700);
	cr_assert_eq(gen_inflight_answer(&f, id[0], port[0], 1700, NULL), UINT64_MAX);
	cr_assert_eq(lost, 0);
	gen_inflight_fini(&f);
}

Test(gen, inflight_reused_slot_counts_only_unanswered_sends_lost)
{
	struct gen_inflight f;
	uint64_t lost = 0;
	uint16_t id;
	unsigned port;

	cr_assert_eq(gen_inflight_init(&f, 2), 0);
	for (uint64_t n = 0; n < 2ull * GEN_IDS; n++) {
		gen_inflight_send(&f, 1 + n, 0, &id, &port, &lost);
		if (id % 3 == 0)
			cr_assert_neq(gen_inflight_answer(&f, id, port, 5 + n, NULL), UINT64_MAX);
	}
	for (uint64_t n = 0; n < 2ull * GEN_IDS; n++)
		gen_inflight_send(&f, 1000000 + n, 0, &id, &port, &lost);
	/* ids 0..65535 on two ports; those divisible by 3 were answered. */
	cr_assert_eq(lost, 2ull * (GEN_IDS - (GEN_IDS + 2) / 3));
	gen_inflight_fini(&f);
}

Test(gen, inflight_answers_matching_nothing_get_uint64_max)
{
	struct gen_inflight f;
	uint64_t lost = 0;
	uint16_t id;
	unsigned port;

	cr_assert_eq(gen_inflight_init(&f, 4), 0);
	gen_inflight_send(&f, 50, 0, &id, &port, &lost);
	cr_assert_eq(id, 0);
	cr_assert_eq(port, 0);
	cr_assert_eq(gen_inflight_answer(&f, 0, 1, 60, NULL), UINT64_MAX, "port never used");
	cr_assert_eq(gen_inflight_answer(&f, 7, 0, 60, NULL), UINT64_MAX, "id never sent");
	cr_assert_eq(gen_inflight_answer(&f, 0, 4, 60, NULL), UINT64_MAX, "no such port");
	cr_assert_eq(gen_inflight_answer(&f, 0, UINT32_MAX, 60, NULL), UINT64_MAX);
	cr_assert_eq(gen_inflight_answer(&f, 0, 0, 60, NULL), 10, "the real one still matches");
	gen_inflight_fini(&f);
}

Test(gen, inflight_send_at_tsc_0_is_still_in_flight)
{
	struct gen_inflight f;
	uint64_t lost = 0, lat;
	uint16_t id;
	unsigned port;

	cr_assert_eq(gen_inflight_init(&f, 1), 0);
	gen_inflight_send(&f, 0, 0, &id, &port, &lost);
	lat = gen_inflight_answer(&f, id, port, 5, NULL);
	cr_assert_neq(lat, UINT64_MAX);
	cr_assert_leq(lat, 5);
	/* An answer stamped before its send (another core's TSC) is 0, not huge. */
	gen_inflight_send(&f, 100, 0, &id, &port, &lost);
	cr_assert_eq(gen_inflight_answer(&f, id, port, 90, NULL), 0);
	gen_inflight_fini(&f);
}

Test(gen, inflight_keeps_each_sends_class_apart_from_its_time)
{
	struct gen_inflight f;
	uint64_t lost = 0, big = (UINT64_C(1) << 62) + 7;
	uint16_t id[3];
	unsigned port[3], c = 9;

	cr_assert_eq(gen_inflight_init(&f, 2), 0);
	gen_inflight_send(&f, big, 1, &id[0], &port[0], &lost);
	gen_inflight_send(&f, 1000, 0, &id[1], &port[1], &lost);
	gen_inflight_send(&f, 0, 1, &id[2], &port[2], &lost);
	cr_assert_eq(gen_inflight_answer(&f, id[1], port[1], 1300, &c), 300);
	cr_assert_eq(c, 0);
	cr_assert_eq(gen_inflight_answer(&f, id[0], port[0], big + 40, &c), 40,
		     "the class bit is not part of the time");
	cr_assert_eq(c, 1);
	/* a class-1 send at TSC 0 is still in flight, and its class kept */
	cr_assert_leq(gen_inflight_answer(&f, id[2], port[2], 5, &c), 5);
	cr_assert_eq(c, 1);
	cr_assert_eq(gen_inflight_answer(&f, id[2], port[2], 6, &c), UINT64_MAX);
	cr_assert_eq(lost, 0);
	gen_inflight_fini(&f);
}

Test(gen, split_puts_names_at_or_below_the_suffix_in_class_1)
{
	struct gen_queries qs;
	char err[256];
	uint8_t suffix[DNS_NAME_MAX];

	cr_assert_eq(parse(&qs, "m1.Miss.shop.bench A\n"
				"z1.wild.shop.lab A\n"
				"miss.shop.bench. AAAA\n"
				"xmiss.shop.bench A\n"
				"shop.bench A\n"
				"a.b.MISS.SHOP.BENCH TXT do\n",
			 err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(dns_name_from_str("miss.shop.bench", suffix), 0);
	cr_assert_eq(gen_queries_split(&qs, suffix), 3);
	const uint8_t want[] = { 1, 0, 1, 0, 0, 1 };
	for (size_t i = 0; i < qs.n; i++)
		cr_assert_eq(qs.q[i].cls, want[i], "line %zu", i + 1);
	/* the root takes every name; a name nobody asked takes none */
	cr_assert_geq(dns_name_from_str(".", suffix), 0);
	cr_assert_eq(gen_queries_split(&qs, suffix), qs.n);
	cr_assert_geq(dns_name_from_str("other.lab", suffix), 0);
	cr_assert_eq(gen_queries_split(&qs, suffix), 0);
	for (size_t i = 0; i < qs.n; i++)
		cr_assert_eq(qs.q[i].cls, 0);
	gen_queries_free(&qs);
}

Test(gen, inflight_needs_at_least_one_port)
{
	struct gen_inflight f;

	cr_assert_lt(gen_inflight_init(&f, 0), 0);
	gen_inflight_fini(&f);
}

/* --- the histogram ---------------------------------------------------------- */

/* The value a histogram holding only v reports for it. */
static uint64_t reported(struct gen_hist *h, uint64_t v)
{
	gen_hist_init(h);
	gen_hist_record(h, v);
	cr_assert_eq(gen_hist_value_at(h, 0), gen_hist_value_at(h, 100));
	return gen_hist_value_at(h, 50);
}

static void within_1_64(struct gen_hist *h, uint64_t v)
{
	uint64_t p = reported(h, v);

	cr_assert_geq(p, v, "%llu reported as %llu", (unsigned long long)v,
		      (unsigned long long)p);
	cr_assert_leq((unsigned __int128)(p - v) * 64, v, "%llu reported as %llu",
		      (unsigned long long)v, (unsigned long long)p);
}

Test(gen, hist_relative_error_is_at_most_1_64_from_1_ns_to_2_40_ns)
{
	static struct gen_hist h;
	uint64_t seed = 42;

	for (uint64_t v = 1; v <= 5000; v++)
		within_1_64(&h, v);
	for (unsigned k = 1; k <= GEN_HIST_POW; k++) {
		within_1_64(&h, (1ull << k) - 1);
		within_1_64(&h, 1ull << k);
		within_1_64(&h, (1ull << k) + 1);
	}
	/* Log-uniform over the range. */
	for (int i = 0; i < 20000; i++) {
		uint64_t r = rnd(&seed);
		unsigned k = (unsigned)(r % (GEN_HIST_POW + 1));
		uint64_t v = (1ull << k) | ((r >> 8) & ((1ull << k) - 1));

		within_1_64(&h, v);
	}
}

Test(gen, hist_values_above_the_range_go_to_the_last_bucket)
{
	static struct gen_hist h;

	gen_hist_init(&h);
	gen_hist_record(&h, 1ull << 50);
	gen_hist_record(&h, UINT64_MAX);
	cr_assert_eq(h.b[GEN_HIST_BUCKETS - 1], 2);
	cr_assert_eq(h.count, 2);
	cr_assert_eq(gen_hist_value_at(&h, 100), UINT64_MAX, "reported as the max seen");
	gen_hist_record(&h, 0);
	cr_assert_eq(h.min, 0);
	cr_assert_eq(gen_hist_value_at(&h, 0), 1, "0 ns counts as 1 ns");
}

Test(gen, hist_percentiles_are_monotone_and_p100_covers_the_max)
{
	static struct gen_hist h;
	uint64_t seed = 7, prev = 0;

	gen_hist_init(&h);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd(&seed);

		/* Mostly 20..80 us, a tail up to about 1 s. */
		gen_hist_record(&h, r % 16 ? 20000 + r % 60000 : (r >> 4) % 1000000000);
	}
	for (double p = 0; p <= 100; p += 0.05) {
		uint64_t v = gen_hist_value_at(&h, p);

		cr_assert_geq(v, prev, "p%.2f = %llu < %llu", p, (unsigned long long)v,
			      (unsigned long long)prev);
		prev = v;
	}
	cr_assert_geq(gen_hist_value_at(&h, 100), h.max);
	cr_assert_leq(gen_hist_value_at(&h, 100) - h.max, h.max / 64, "in the max's bucket");
	cr_assert_geq(gen_hist_value_at(&h, 0), h.min);
	cr_assert_leq(gen_hist_value_at(&h, 0) - h.min, h.min / 64, "in the min's bucket");
	cr_assert_eq(gen_hist_value_at(&h, -5), gen_hist_value_at(&h, 0));
	cr_assert_eq(gen_hist_value_at(&h, 250), gen_hist_value_at(&h, 100));
}

Test(gen, hist_percentiles_of_1_to_1000_us)
{
	static struct gen_hist h;
	static const double ps[] = { 0, 1, 50, 90, 99, 99.9, 100 };
	static const uint64_t at[] = { 1, 10, 500, 900, 990, 999, 1000 };

	gen_hist_init(&h);
	/* Recorded in a shuffled order: the result must not depend on it. */
	for (uint64_t i = 0; i < 1000; i++)
		gen_hist_record(&h, 1000 * (1 + (i * 389) % 1000));
	cr_assert_eq(h.count, 1000);
	cr_assert_eq(h.min, 1000);
	cr_assert_eq(h.max, 1000000);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t v = gen_hist_value_at(&h, ps[i]), want = at[i] * 1000;

		cr_assert(v >= want && v - want <= want / 64, "p%g = %llu, want %llu",
			  ps[i], (unsigned long long)v, (unsigned long long)want);
	}
}

Test(gen, hist_percentile_is_the_value_with_rank_ceil_p_times_count)
{
	static struct gen_hist h;

	gen_hist_init(&h);
	gen_hist_record(&h, 3000);
	gen_hist_record(&h, 1000);
	gen_hist_record(&h, 2000);
	/* 3 values: p33 covers 0.99 of a value (the 1st), p34 1.02 (the 2nd). */
	cr_assert_eq(gen_hist_value_at(&h, 0), 1007);
	cr_assert_eq(gen_hist_value_at(&h, 33), 1007);
	cr_assert_eq(gen_hist_value_at(&h, 34), 2015);
	cr_assert_eq(gen_hist_value_at(&h, 50), 2015);
	cr_assert_eq(gen_hist_value_at(&h, 66), 2015);
	cr_assert_eq(gen_hist_value_at(&h, 67), 3007);
	cr_assert_eq(gen_hist_value_at(&h, 100), 3007);
}

Test(gen, hist_empty_reports_0)
{
	static struct gen_hist h;

	gen_hist_init(&h);
	cr_assert_eq(h.count, 0);
	cr_assert_eq(gen_hist_value_at(&h, 50), 0);
	cr_assert_eq(gen_hist_value_at(&h, 100), 0);
}

Test(gen, hist_merge_equals_recording_both)
{
	static struct gen_hist a, b, both, empty;
	uint64_t seed = 99;

	gen_hist_init(&a);
	gen_hist_init(&b);
	gen_hist_init(&both);
	gen_hist_init(&empty);
	for (int i = 0; i < 50000; i++) {
		uint64_t r = rnd(&seed), v = r >> (r % 64);

		gen_hist_record(i % 3 ? &a : &b, v);
		gen_hist_record(&both, v);
	}
	gen_hist_merge(&a, &empty);
	gen_hist_merge(&a, &b);
	cr_assert_eq(a.count, both.count);
	cr_assert_eq(a.min, both.min);
	cr_assert_eq(a.max, both.max);
	cr_assert_eq(memcmp(&a, &both, sizeof(a)), 0);
	gen_hist_merge(&empty, &both);
	cr_assert_eq(memcmp(&empty, &both, sizeof(a)), 0, "merge into an empty one");
}

/* --- the summary ------------------------------------------------------------ */

/*
 * A small JSON checker (RFC 8259 grammar, no extensions) that also flattens
 * the document: every scalar is kept as "path" -> text, e.g.
 * "latency_us.p99_9" -> "12.300"; strings are kept decoded (\uXXXX only
 * below 0x80).
 */
#define J_MAX 4096

struct jdoc {
	const char *s;
	size_t i;
	size_t n;
	char path[J_MAX][64];
	char val[J_MAX][128];
	bool str[J_MAX];
};

static void j_ws(struct jdoc *d)
{
	while (d->s[d->i] == ' ' || d->s[d->i] == '\t' || d->s[d->i] == '\n' ||
	       d->s[d->i] == '\r')
		d->i++;
}

static bool j_string(struct jdoc *d, char *out, size_t cap)
{
	size_t n = 0;

	if (d->s[d->i] != '"')
		return false;
	d->i++;
	for (;;) {
		unsigned char c = (unsigned char)d->s[d->i++];

		if (c == '"')
			break;
		if (c < 0x20)
			return false;	/* also the end of the text */
		if (c == '\\') {
			char e = d->s[d->i++];
			const char *m = strchr("\"\\/bfnrt", e);

			if (e == 'u') {
				unsigned v = 0;

				for (int k = 0; k < 4; k++) {
					char h = d->s[d->i++];

					if (!strchr("0123456789abcdefABCDEF", h) || !h)
						return false;
					v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
				}
				c = v < 0x80 ? (unsigned char)v : '?';
			} else if (!e || !m) {
				return false;
			} else {
				c = (unsigned char)"\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
			}
		}
		if (n + 1 < cap)
			out[n++] = (char)c;
	}
	out[n] = 0;
	return true;
}

static bool j_digits(struct jdoc *d)
{
	size_t at = d->i;

	while (d->s[d->i] >= '0' && d->s[d->i] <= '9')
		d->i++;
	return d->i > at;
}

static bool j_number(struct jdoc *d)
{
	if (d->s[d->i] == '-')
		d->i++;
	if (d->s[d->i] == '0')
		d->i++;
	else if (!(d->s[d->i] >= '1' && d->s[d->i] <= '9') || !j_digits(d))
		return false;
	if (d->s[d->i] == '.') {
		d->i++;
		if (!j_digits(d))
			return false;
	}
	if (d->s[d->i] == 'e' || d->s[d->i] == 'E') {
		d->i++;
		if (d->s[d->i] == '+' || d->s[d->i] == '-')
			d->i++;
		if (!j_digits(d))
			return false;
	}
	return true;
}

static bool j_keep(struct jdoc *d, const char *path, const char *from, size_t len, bool str)
{
	if (d->n == J_MAX)
		return false;
	snprintf(d->path[d->n], sizeof(d->path[0]), "%s", path);
	snprintf(d->val[d->n], sizeof(d->val[0]), "%.*s", (int)len, from);
	d->str[d->n++] = str;
	return true;
}

static bool j_value(struct jdoc *d, const char *path, int depth)
{
	char key[64], sub[64], s[128];
	size_t at;

	if (depth > 16)
		return false;
	j_ws(d);
	at = d->i;
	switch (d->s[d->i]) {
	case '{':
		d->i++;
		j_ws(d);
		if (d->s[d->i] == '}') {
			d->i++;
			return true;
		}
		for (;;) {
			j_ws(d);
			if (!j_string(d, key, sizeof(key)))
				return false;
			j_ws(d);
			if (d->s[d->i++] != ':')
				return false;
			if (snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
				     key) >= (int)sizeof(sub))
				return false;
			for (size_t k = 0; k < d->n; k++)
				if (!strcmp(d->path[k], sub))
					return false;	/* a key twice */
			if (!j_value(d, sub, depth + 1))
				return false;
			j_ws(d);
			if (d->s[d->i] == ',') {
				d->i++;
				continue;
			}
			if (d->s[d->i++] != '}')
				return false;
			return true;
		}
	case '[':
		d->i++;
		j_ws(d);
		if (d->s[d->i] == ']') {
			d->i++;
			return true;
		}
		for (;;) {
			if (!j_value(d, path, depth + 1))
				return false;
			j_ws(d);
			if (d->s[d->i] == ',') {
				d->i++;
				continue;
			}
			return d->s[d->i++] == ']';
		}
	case '"':
		if (!j_string(d, s, sizeof(s)))
			return false;
		return j_keep(d, path, s, strlen(s), true);
	default:
		if (!strncmp(d->s + d->i, "true", 4) || !strncmp(d->s + d->i, "null", 4))
			d->i += 4;
		else if (!strncmp(d->s + d->i, "false", 5))
			d->i += 5;
		else if (!j_number(d))
			return false;
		return j_keep(d, path, d->s + at, d->i - at, false);
	}
}

static bool j_parse(struct jdoc *d, const char *text)
{
	memset(d, 0, sizeof(*d));
	d->s = text;
	if (!j_value(d, "", 0))
		return false;
	j_ws(d);
	return d->s[d->i] == 0;
}

/* The text of a scalar at path, failing the test when it is not there. */
static const char *jget(const struct jdoc *d, const char *path)
{
	for (size_t k = 0; k < d->n; k++)
		if (!strcmp(d->path[k], path))
			return d->val[k];
	cr_assert_fail("no %s in the JSON", path);
	return NULL;
}

static bool jhas(const struct jdoc *d, const char *path)
{
	for (size_t k = 0; k < d->n; k++)
		if (!strcmp(d->path[k], path))
			return true;
	return false;
}

static double jnum(const struct jdoc *d, const char *path)
{
	for (size_t k = 0; k < d->n; k++)
		if (!strcmp(d->path[k], path)) {
			cr_assert_not(d->str[k], "%s is a string", path);
			return strtod(d->val[k], NULL);
		}
	cr_assert_fail("no %s in the JSON", path);
	return 0;
}

/* r's JSON, parsed; the text is returned in *text (free it). */
static void json_of(const struct gen_result *r, struct jdoc *d, char **text)
{
	size_t len;
	FILE *f = open_memstream(text, &len);

	cr_assert_not_null(f);
	gen_result_json(r, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_neq((*text)[len - 1], '\n', "no trailing newline");
	cr_assert(j_parse(d, *text), "not JSON at offset %zu: %s", d->i, *text);
}

static void sample(struct gen_result *r)
{
	memset(r, 0, sizeof(*r));
	r->mode = "rate";
	r->seconds = 2;
	r->offered_rate = 600;
	r->sent = 1000;
	r->answered = 900;
	r->lost = 100;
	r->stray = 3;
	r->truncated = 4;
	r->rcode[DNS_R_NOERROR] = 800;
	r->rcode[DNS_R_NXDOMAIN] = 90;
	r->rcode[DNS_R_SERVFAIL] = 10;
	gen_hist_init(&r->lat);
	for (uint64_t i = 1; i <= 900; i++)
		gen_hist_record(&r->lat, 1000 * i + 500);	/* 1.5 .. 900.5 us */
}

Test(gen, json_checker_rejects_broken_documents)
{
	static struct jdoc d;
	static const char *bad[] = {
		"", "{", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":nan}",
		"{\"a\":inf}", "{\"a\":1.}", "{\"a\":\"x}", "{\"a\":1}x", "{a:1}",
		"{\"a\":1,\"a\":2}", "[1,2", "{\"a\":\"\x01\"}", "{\"a\":-}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(j_parse(&d, bad[i]), "accepted %s", bad[i]);
	cr_assert(j_parse(&d, " {\"a\":{\"b\":[1,-2.5e3,true,null]},\"c\":\"\\u0041\\\"\"} "));
	cr_assert_str_eq(jget(&d, "c"), "A\"");
}

Test(gen, json_summary_is_valid_json_with_every_key)
{
	static struct gen_result r;
	static struct jdoc d;
	static const char *keys[] = {
		"mode", "seconds", "offered_rate", "sent", "answered", "lost", "stray",
		"truncated", "sent_per_s", "answered_per_s", "answered_share",
		"rcodes.NOERROR", "rcodes.FORMERR", "rcodes.SERVFAIL", "rcodes.NXDOMAIN",
		"rcodes.NOTIMP", "rcodes.REFUSED", "latency_us.min", "latency_us.p50",
		"latency_us.p90", "latency_us.p99", "latency_us.p99_9", "latency_us.max",
		"latency_us.count",
	};
	char *text;

	sample(&r);
	json_of(&r, &d, &text);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(jhas(&d, keys[i]), "no %s in %s", keys[i], text);
	cr_assert_str_eq(jget(&d, "mode"), "rate");
	cr_assert_eq(jnum(&d, "seconds"), 2);
	cr_assert_eq(jnum(&d, "offered_rate"), 600);
	cr_assert_eq(jnum(&d, "sent"), 1000);
	cr_assert_eq(jnum(&d, "answered"), 900);
	cr_assert_eq(jnum(&d, "lost"), 100);
	cr_assert_eq(jnum(&d, "stray"), 3);
	cr_assert_eq(jnum(&d, "truncated"), 4);
	cr_assert_eq(jnum(&d, "sent_per_s"), 500);
	cr_assert_eq(jnum(&d, "answered_per_s"), 450);
	cr_assert_eq(jnum(&d, "answered_share"), 0.9);
	free(text);
}

Test(gen, json_latency_is_in_microseconds_from_the_histogram)
{
	static struct gen_result r;
	static struct jdoc d;
	char *text;
	double p50, p90, p99, p999;

	sample(&r);
	json_of(&r, &d, &text);
	cr_assert_eq(jnum(&d, "latency_us.min"), 1.5);
	cr_assert_eq(jnum(&d, "latency_us.max"), 900.5);
	cr_assert_eq(jnum(&d, "latency_us.count"), 900);
	p50 = jnum(&d, "latency_us.p50");
	p90 = jnum(&d, "latency_us.p90");
	p99 = jnum(&d, "latency_us.p99");
	p999 = jnum(&d, "latency_us.p99_9");
	cr_assert(p50 >= 450.5 && p50 <= 450.5 * (1 + 1.0 / 64), "p50 %g", p50);
	cr_assert(p90 >= 810.5 && p90 <= 810.5 * (1 + 1.0 / 64), "p90 %g", p90);
	cr_assert(p99 >= 891.5 && p99 <= 891.5 * (1 + 1.0 / 64), "p99 %g", p99);
	cr_assert(p999 >= 899.5 && p999 <= 899.5 * (1 + 1.0 / 64), "p99.9 %g", p999);
	cr_assert(p50 <= p90 && p90 <= p99 && p99 <= p999);
	free(text);
}

/* The histogram's buckets in the JSON re-derive its count and percentiles
 * (what bench/report.py does to draw the latency CDF). */
Test(gen, json_histogram_re_derives_count_and_percentiles)
{
	static struct gen_result r;
	static struct jdoc d;
	static const double pct[] = { 50, 90, 99, 99.9 };
	static const char *key[] = { "latency_us.p50", "latency_us.p90", "latency_us.p99",
				     "latency_us.p99_9" };
	double edge[J_MAX], prev = 0;
	uint64_t cnt[J_MAX], total = 0;
	size_t nb = 0, v = 0;
	char *text;

	sample(&r);
	gen_hist_record(&r.lat, 5000000000ull);	/* 5 s: far past the rest */
	r.answered++;
	json_of(&r, &d, &text);
	for (size_t k = 0; k < d.n; k++) {
		if (strcmp(d.path[k], "latency_us.hist"))
			continue;
		if (v++ % 2 == 0) {
			edge[nb] = strtod(d.val[k], NULL);
		} else {
			cnt[nb] = strtoull(d.val[k], NULL, 10);
			cr_assert_gt(cnt[nb], 0, "an empty bucket written");
			cr_assert_gt(edge[nb], prev, "edges not increasing");
			prev = edge[nb];
			total += cnt[nb++];
		}
	}
	cr_assert_eq(v % 2, 0, "a bucket without its count");
	cr_assert_eq(total, 901);
	cr_assert_eq(total, (uint64_t)jnum(&d, "latency_us.count"));
	cr_assert(edge[nb - 1] >= 5000000 && edge[nb - 1] <= 5000000 * (1 + 1.0 / 64),
		  "the top bucket holds the 5 s answer: %g", edge[nb - 1]);
	for (size_t i = 0; i < 4; i++) {
		uint64_t rank = (uint64_t)ceil(pct[i] / 100 * 901), seen = 0;
		size_t b = 0;

		while ((seen += cnt[b]) < rank)
			b++;
		cr_assert_float_eq(edge[b], jnum(&d, key[i]), 0.0015, "%s: %g from the buckets",
				   key[i], edge[b]);
	}
	free(text);
}

Test(gen, json_rcodes_by_name_and_others_as_rcode_n)
{
	static struct gen_result r;
	static struct jdoc d;
	char *text;

	sample(&r);
	r.rcode[DNS_R_REFUSED] = 5;
	r.rcode[DNS_R_NOTAUTH] = 2;
	r.rcode[15] = 1;
	json_of(&r, &d, &text);
	cr_assert_eq(jnum(&d, "rcodes.NOERROR"), 800);
	cr_assert_eq(jnum(&d, "rcodes.NXDOMAIN"), 90);
	cr_assert_eq(jnum(&d, "rcodes.SERVFAIL"), 10);
	cr_assert_eq(jnum(&d, "rcodes.REFUSED"), 5);
	cr_assert_eq(jnum(&d, "rcodes.FORMERR"), 0);
	cr_assert_eq(jnum(&d, "rcodes.NOTIMP"), 0);
	cr_assert_eq(jnum(&d, "rcodes.RCODE9"), 2);
	cr_assert_eq(jnum(&d, "rcodes.RCODE15"), 1);
	cr_assert_not(jhas(&d, "rcodes.RCODE6"), "zero counts of other rcodes left out");
	free(text);
}

Test(gen, json_escapes_the_mode_and_survives_an_empty_run)
{
	static struct gen_result r;
	static struct jdoc d;
	char *text;

	memset(&r, 0, sizeof(r));
	r.mode = "se\"ar\\ch\n";
	r.seconds = 0;
	gen_hist_init(&r.lat);
	json_of(&r, &d, &text);
	cr_assert_str_eq(jget(&d, "mode"), "se\"ar\\ch\n");
	cr_assert_eq(jnum(&d, "sent_per_s"), 0);
	cr_assert_eq(jnum(&d, "answered_share"), 0);
	cr_assert_eq(jnum(&d, "latency_us.min"), 0);
	cr_assert_eq(jnum(&d, "latency_us.p99_9"), 0);
	free(text);

	r.mode = NULL;
	r.seconds = 0.0 / 0.0;
	r.sent = 5;
	json_of(&r, &d, &text);
	cr_assert_str_eq(jget(&d, "mode"), "");
	cr_assert_eq(jnum(&d, "seconds"), 0, "NaN is not JSON");
	cr_assert_eq(jnum(&d, "sent_per_s"), 0);
	free(text);
}

Test(gen, table_shows_counts_rates_and_nonzero_rcodes)
{
	static struct gen_result r;
	char *text;
	size_t len;
	FILE *f;

	sample(&r);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	gen_result_table(&r, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(strstr(text, "sent          1000 (500 q/s)"), "%s", text);
	cr_assert_not_null(strstr(text, "answered      900 (450 q/s, 90.00% of sent)"), "%s", text);
	cr_assert_not_null(strstr(text, "NOERROR 800 SERVFAIL 10 NXDOMAIN 90\n"), "%s", text);
	cr_assert_null(strstr(text, "FORMERR"), "zero rcodes left out: %s", text);
	cr_assert_not_null(strstr(text, "max 900.5"), "%s", text);
	free(text);
}

Test(gen, hist_sub_leaves_the_rest_as_if_recorded_alone)
{
	static struct gen_hist all, part, rest;
	uint32_t s = 99;

	gen_hist_init(&all);
	gen_hist_init(&part);
	gen_hist_init(&rest);
	for (unsigned i = 0; i < 20000; i++) {
		s = s * 1103515245u + 12345u;
		uint64_t ns = 1000 + (s >> 8) % 3000000;	/* 1 us .. 3 ms */
		bool in_part = i % 25 == 0;

		if (in_part)
			ns *= 4;	/* the part: later, as misses are */
		gen_hist_record(&all, ns);
		gen_hist_record(in_part ? &part : &rest, ns);
	}
	gen_hist_sub(&all, &part);
	cr_assert_eq(all.count, rest.count);
	cr_assert_eq(memcmp(all.b, rest.b, sizeof(all.b)), 0, "bucket counts");
	for (double pc = 0; pc <= 100; pc += 0.5)
		cr_assert_eq(gen_hist_value_at(&all, pc), gen_hist_value_at(&rest, pc), "p%g", pc);
	/* min and max: within the rest's first and last buckets */
	cr_assert_leq(all.min, rest.min);
	cr_assert_geq(all.min * 65 / 64 + 1, rest.min, "%llu %llu",
		      (unsigned long long)all.min, (unsigned long long)rest.min);
	cr_assert_geq(all.max, rest.max);
	cr_assert_leq(all.max, rest.max * 65 / 64 + 1);
	/* everything taken away: an empty histogram */
	gen_hist_sub(&part, &part);
	cr_assert_eq(part.count, 0);
	cr_assert_eq(gen_hist_value_at(&part, 99), 0);
}

Test(gen, split_summary_gives_each_class_its_answers_and_latency)
{
	static struct gen_result r;
	static struct jdoc d;
	char *text;
	size_t len;
	FILE *f;

	sample(&r);
	json_of(&r, &d, &text);
	cr_assert_null(strstr(text, "classes"), "no classes without a split");
	cr_assert_eq(jnum(&d, "sender_stalls.count"), 0);
	cr_assert_eq(jnum(&d, "tx_full"), 0);
	free(text);
	r.tx_full = 17;
	r.stalls = 3;
	r.stall_ns = 2500000;
	r.stall_max_ns = 1200000;
	r.split = "miss.shop.bench";
	r.cls[0].sent = 960;
	r.cls[0].answered = 880;
	r.cls[1].sent = 40;
	r.cls[1].answered = 20;
	for (unsigned i = 0; i < 2; i++)
		gen_hist_init(&r.cls[i].lat);
	for (unsigned i = 1; i <= 100; i++) {
		gen_hist_record(&r.cls[0].lat, 1000 * i);	/* 1..100 us */
		gen_hist_record(&r.cls[1].lat, 1000000 * i);	/* 1..100 ms */
	}
	json_of(&r, &d, &text);
	cr_assert_str_eq(jget(&d, "classes.split"), "miss.shop.bench");
	cr_assert_eq(jnum(&d, "classes.other.sent"), 960);
	cr_assert_eq(jnum(&d, "classes.other.answered"), 880);
	cr_assert_eq(jnum(&d, "classes.under.sent"), 40);
	cr_assert_eq(jnum(&d, "classes.under.answered"), 20);
	cr_assert_eq(jnum(&d, "classes.other.latency_us.count"), 100);
	cr_assert(fabs(jnum(&d, "classes.other.latency_us.p99") - 99) < 2, "%s", text);
	cr_assert(fabs(jnum(&d, "classes.under.latency_us.p99") - 99000) < 2000, "%s", text);
	cr_assert_eq(jnum(&d, "latency_us.count"), 900, "the whole run's latency as before");
	cr_assert_eq(jnum(&d, "sender_stalls.count"), 3);
	cr_assert_eq(jnum(&d, "tx_full"), 17);
	cr_assert(fabs(jnum(&d, "sender_stalls.total_ms") - 2.5) < 1e-9);
	cr_assert(fabs(jnum(&d, "sender_stalls.max_us") - 1200) < 1e-9);
	free(text);

	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	gen_result_table(&r, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(strstr(text, "under miss.shop.bench: sent 40, answered 20 (50.00%)"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "not under miss.shop.bench: sent 960, answered 880"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "max 100000.0"), "%s", text);
	cr_assert_not_null(strstr(text, "not sent      17 (the port's transmit ring full)"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "sender stalls 3 turns of its loop over 50 us apart, 2.5 ms"
				       " in all, the longest 1200.0 us"), "%s", text);
	free(text);
}

/* --- plans --------------------------------------------------------------- */

Test(gen, plan_lines_give_four_fields_or_an_error)
{
	struct gen_plan_step st;

	cr_assert_eq(gen_plan_parse("/tmp/q.txt 20000 4.5 /tmp/w1.json", &st), 1);
	cr_assert_str_eq(st.queries, "/tmp/q.txt");
	cr_assert_eq(st.rate, 20000);
	cr_assert_float_eq(st.seconds, 4.5, 1e-9);
	cr_assert_str_eq(st.json, "/tmp/w1.json");
	cr_assert_eq(gen_plan_parse("  hit.txt 0 5 out.json   # the maximum", &st), 1);
	cr_assert_eq(st.rate, 0, "0: as fast as possible");
	cr_assert_str_eq(st.json, "out.json");
	cr_assert_not(st.search);
	cr_assert_eq(gen_plan_parse("hit.txt search 2 s.json", &st), 1);
	cr_assert(st.search, "search: the maximum, then bisect for < 0.1 %% lost");
	cr_assert_not(st.nap);
	cr_assert_eq(gen_plan_parse("warm.txt 20000 5 w.json nap  # warm-up", &st), 1);
	cr_assert(st.nap, "nap: the senders sleep when idle");
	cr_assert_eq(st.rate, 20000);
	cr_assert_eq(gen_plan_parse("warm.txt 20000 5 w.json", &st), 1);
	cr_assert_not(st.nap, "nap is not left over from the line before");
	cr_assert_eq(gen_plan_parse("", &st), 0);
	cr_assert_eq(gen_plan_parse("   \t ", &st), 0);
	cr_assert_eq(gen_plan_parse("# warm passes", &st), 0);
	static const char *bad[] = {
		"hit.txt 0 5",			/* no JSON */
		"hit.txt 0 5 a.json extra",	/* a fifth field other than nap */
		"hit.txt 0 5 a.json napping",
		"hit.txt 0 5 a.json nap nap",
		"hit.txt -1 5 a.json",		/* a negative rate */
		"hit.txt 1e6 5 a.json",		/* not a decimal rate */
		"hit.txt 10x 5 a.json",
		"hit.txt searching 5 a.json",	/* not quite "search" */
		"hit.txt 99999999999999999999999 5 a.json", /* too large */
		"hit.txt 100 0 a.json",		/* no duration */
		"hit.txt 100 -2 a.json",
		"hit.txt 100 nan a.json",
		"hit.txt 100 inf a.json",	/* would never end */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gen_plan_parse(bad[i], &st), -1, "accepted \"%s\"", bad[i]);
}
