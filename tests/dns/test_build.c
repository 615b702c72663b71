/*
 * tests/dns/test_build.c: the message builder's rules: truncation and TC,
 * reserved room for OPT, section order, RDATA checks, compression across
 * letter case and beyond the 14-bit pointer range.
 */
#include <stdio.h>

#include "testutil.h"

#include "dns/build.h"
#include "dns/msg.h"

static const uint8_t a_rdata[4] = { 198, 18, 0, 1 };

Test(build, answer_that_does_not_fit_sets_tc_and_rolls_back)
{
	uint8_t buf[64];
	struct dns_builder b;
	struct dns_msg m;
	size_t len;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	cr_assert_eq(dns_builder_question(&b, nm("a.shop.lab"), DNS_T_A, DNS_C_IN), 0);
	cr_assert_eq(dns_builder_reserve(&b, 11), 0);
	/* 12 + 16 = 28 used, 64 - 11 = 53 usable: one A (16 octets) fits. */
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("a.shop.lab"),
				    DNS_T_A, DNS_C_IN, 60, a_rdata, 4), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("b.shop.lab"),
				    DNS_T_A, DNS_C_IN, 60, a_rdata, 4), DNS_E_SPACE);
	cr_assert(b.tc);
	cr_assert_eq(b.len, 12 + 16 + 16, "failed record left nothing behind");
	/* Nothing after truncation, but the reserved OPT still goes in. */
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("shop.lab"),
				    DNS_T_A, DNS_C_IN, 60, a_rdata, 4), DNS_E_SPACE);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0), 0);
	len = dns_builder_finish(&b);
	cr_assert_eq(dns_msg_parse(&m, buf, len), 0);
	cr_assert(m.hdr.flags & DNS_F_TC);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	cr_assert(m.has_edns);
}

Test(build, additional_that_does_not_fit_does_not_set_tc)
{
	uint8_t buf[48];
	struct dns_builder b;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	dns_builder_question(&b, nm("shop.lab"), DNS_T_NS, DNS_C_IN);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("shop.lab"), DNS_T_NS,
				    DNS_C_IN, 60, nm("ns.shop.lab"), 13), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("ns.shop.lab"),
				    DNS_T_AAAA, DNS_C_IN, 60,
				    (const uint8_t *)"0123456789abcdef", 16),
		     DNS_E_SPACE);
	cr_assert_not(b.tc);
	/* A smaller record would fit, but would split the RRset left behind. */
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("ns.shop.lab"),
				    DNS_T_A, DNS_C_IN, 60, a_rdata, 4), DNS_E_SPACE);
	cr_assert_eq(dns_builder_finish(&b) , 12 + 14 + 17);
	cr_assert_not(dns_get16(buf + 2) & DNS_F_TC);
}

Test(build, misuse_is_refused_without_writing)
{
	uint8_t buf[512];
	uint8_t bad[300] = { 64 };
	struct dns_builder b;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	cr_assert_eq(dns_builder_rr(&b, 4, nm("lab"), DNS_T_A, DNS_C_IN, 60,
				    a_rdata, 4), DNS_E_INVAL);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, bad, DNS_T_A, DNS_C_IN,
				    60, a_rdata, 4), DNS_E_LABEL_LEN);
	/* 128 one-octet labels: 257 octets. */
	for (int i = 0; i < 128; i++) {
		bad[2 * i] = 1;
		bad[2 * i + 1] = 'x';
	}
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, bad, DNS_T_A, DNS_C_IN,
				    60, a_rdata, 4), DNS_E_NAME_LEN);
	/* A refused record does not move the builder to its section. */
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 5), DNS_E_RDATA_LEN);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 4), 0);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0), 0);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0), DNS_E_OPT_DUP);
	cr_assert_eq(b.count[DNS_SEC_ADDITIONAL], 1);
}

Test(build, sections_only_go_forward)
{
	uint8_t buf[512];
	struct dns_builder b;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 4), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 4), DNS_E_ORDER);
	cr_assert_eq(dns_builder_question(&b, nm("lab"), DNS_T_A, DNS_C_IN),
		     DNS_E_ORDER);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_QUESTION, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 4), DNS_E_ORDER);
}

Test(build, rdata_is_checked_by_type)
{
	uint8_t buf[512];
	struct dns_builder b;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_A,
				    DNS_C_IN, 60, a_rdata, 3), DNS_E_RDATA_LEN);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_NS,
				    DNS_C_IN, 60, (const uint8_t *)"\1a\xc0\x0c", 4),
		     DNS_E_PTR_NOT_ALLOWED);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_SOA,
				    DNS_C_IN, 60, (const uint8_t *)"\0\0\0", 3),
		     DNS_E_RDATA_LEN);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"), DNS_T_DNAME,
				    DNS_C_IN, 60, (const uint8_t *)"\1a\xc0\x0c", 4),
		     DNS_E_PTR_NOT_ALLOWED);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, 0, (const uint8_t *)"\0\12\0\3abc", 7),
		     DNS_E_COOKIE_LEN);
	cr_assert_eq(b.len, DNS_HDR_LEN, "rejected records wrote nothing");
	cr_assert_not(b.tc, "bad input is not truncation");
}

Test(build, compression_ignores_case_and_keeps_question_case)
{
	uint8_t buf[512];
	struct dns_builder b;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	dns_builder_question(&b, nm("WwW.ShOp.LaB"), DNS_T_A, DNS_C_IN);
	dns_builder_rr(&b, DNS_SEC_ANSWER, nm("www.shop.lab"), DNS_T_A,
		       DNS_C_IN, 60, a_rdata, 4);
	dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("SHOP.lab"), DNS_T_NS,
		       DNS_C_IN, 60, nm("ns.shop.LAB"), 13);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	cr_assert_arr_eq(m.qname, nm("WwW.ShOp.LaB"), 14);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(buf[rr.off], 0xc0);
	cr_assert_eq(buf[rr.off + 1], 12);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(dns_get16(buf + rr.off), 0xc000 | 16, "SHOP.lab -> ShOp.LaB");
	cr_assert_eq(rr.rdlen, 5, "ns + pointer");
	cr_assert(dns_name_equal(rr.owner, nm("shop.lab")));
}

Test(build, no_pointer_beyond_14_bits)
{
	static uint8_t buf[DNS_MSG_MAX];
	static uint8_t big[300];
	struct dns_builder b;
	struct dns_msg m;
	size_t len;

	memset(big, 'x', sizeof(big));
	big[0] = 255;
	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	dns_builder_question(&b, nm("lab"), DNS_T_TXT, DNS_C_IN);
	/* ~17000 octets of TXT push the next names past offset 0x3fff. */
	for (int i = 0; i < 64; i++)
		cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("lab"),
					    DNS_T_TXT, DNS_C_IN, 1, big, 256), 0);
	cr_assert_gt(b.len, 0x4000);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("far.away"), DNS_T_A,
				    DNS_C_IN, 1, a_rdata, 4), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("far.away"), DNS_T_A,
				    DNS_C_IN, 1, a_rdata, 4), 0);
	len = dns_builder_finish(&b);
	cr_assert_eq(dns_msg_parse(&m, buf, len), 0);
	/* The second far.away could not point at the first: written in full. */
	cr_assert_arr_eq(buf + len - 14 - 10, nm("far.away"), 10);
}

Test(build, compression_table_overflow_writes_names_in_full)
{
	static uint8_t buf[DNS_MSG_MAX];
	struct dns_builder b;
	struct dns_msg m;
	char name[32];

	dns_builder_init(&b, buf, sizeof(buf), 7, DNS_F_QR);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "h%d.z%d", i, i);
		cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm(name), DNS_T_A,
					    DNS_C_IN, 1, a_rdata, 4), 0);
	}
	cr_assert_eq(b.ncomp, DNS_COMP_MAX);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 100);
	/* Every owner reads back as written: no pointer to a wrong suffix. */
	struct dns_rr_iter it;
	struct dns_rr rr;
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "h%d.z%d", i, i);
		cr_assert_eq(dns_rr_next(&it, &rr), 1);
		cr_assert(dns_name_equal(rr.owner, nm(name)), "record %d", i);
	}
}

/* Found by fuzz_msg: what the parser takes, the builder must write back. */
Test(build, update_style_empty_rdata_in_class_any)
{
	uint8_t buf[64];
	struct dns_builder b;
	struct dns_msg m;

	dns_builder_init(&b, buf, sizeof(buf), 7, 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("."), DNS_T_SOA,
				    DNS_C_ANY, 0, NULL, 0), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("."), DNS_T_SOA,
				    DNS_C_IN, 0, NULL, 0), DNS_E_RDATA_LEN);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
}

Test(build, header_too_small_buffer)
{
	uint8_t buf[11];
	struct dns_builder b;

	cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 1, 0), DNS_E_SPACE);
}
