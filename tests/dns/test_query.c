/*
 * tests/dns/test_query.c: the worker's query parser (shape rules, fields,
 * the name read in place) and the reply builder that answers it (question
 * echoed octet for octet, header bits copied, records owned by the qname).
 */
#include "testutil.h"

#include "dns/build.h"
#include "dns/msg.h"
#include "dns/query.h"

static void query(struct raw *r, const char *name, uint16_t type, bool edns)
{
	raw_hdr(r, 1, 0, 0, edns ? 1 : 0);
	raw_name(r, name);
	raw_u16(r, type);
	raw_u16(r, DNS_C_IN);
	if (edns) {
		raw_u8(r, 0);
		raw_u16(r, DNS_T_OPT);
		raw_u16(r, 4096);
		raw_u32(r, DNS_EDNS_F_DO);
		raw_u16(r, 12);
		raw_bytes(r, "\0\12\0\10cookie!!", 12);
	}
}

Test(query, plain_query_fields)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	struct dns_query q;

	query(r, "WwW.Shop.Lab", DNS_T_AAAA, true);
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	cr_assert_eq(q.id, 0x1234);
	cr_assert_eq(q.flags, DNS_F_RD);
	cr_assert_eq(q.qtype, DNS_T_AAAA);
	cr_assert_eq(q.qclass, DNS_C_IN);
	cr_assert_eq(q.qname_len, 14);
	cr_assert_eq(dns_query_qname(&q), r->b + DNS_HDR_LEN, "read in place");
	cr_assert_arr_eq(dns_query_qname(&q), nm("WwW.Shop.Lab"), 14);
	cr_assert(q.has_edns);
	cr_assert_eq(q.edns.udp_size, 4096);
	cr_assert_eq(q.edns.flags, DNS_EDNS_F_DO);
	cr_assert_eq(q.edns.cookie_len, 8);
	cr_assert_arr_eq(r->b + q.edns.cookie_off, "cookie!!", 8);
	cr_assert_eq(dns_query_udp_size(&q), 4096);

	query(r, "a.lab", DNS_T_A, false);
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	cr_assert_not(q.has_edns);
	cr_assert_eq(dns_query_udp_size(&q), 512);
}

Test(query, agrees_with_the_general_parser)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	struct dns_query q;
	struct dns_msg m;

	query(r, "x.shop.lab", DNS_T_TXT, true);
	r->b[r->n - 18] = 0x12; /* extended rcode bits in the OPT TTL */
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	cr_assert_eq(dns_msg_parse(&m, r->b, r->n), 0);
	cr_assert_eq(q.rcode, m.rcode);
	cr_assert_eq(q.rcode, 0x120);
	cr_assert(dns_edns_equal(&q.edns, &m.edns));
	cr_assert_arr_eq(dns_query_qname(&q), m.qname, m.qname_len);
}

Test(query, shapes_a_query_never_has)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	struct dns_query q;

	/* One header octet changed in an otherwise good query. */
	static const struct {
		size_t octet;
		uint8_t value;
		bool edns;
		int want;
	} cases[] = {
		{ 5, 0, false, DNS_E_QDCOUNT },	    /* no question */
		{ 5, 2, false, DNS_E_QDCOUNT },	    /* two questions */
		{ 7, 1, false, DNS_E_QUERY_SHAPE }, /* an answer record */
		{ 9, 1, false, DNS_E_QUERY_SHAPE }, /* an authority record */
		{ 11, 2, true, DNS_E_QUERY_SHAPE }, /* two additional records */
		{ 11, 1, false, DNS_E_TRUNC },	    /* OPT counted, missing */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		query(r, "a.lab", DNS_T_A, cases[i].edns);
		r->b[cases[i].octet] = cases[i].value;
		cr_assert_eq(dns_query_parse(&q, r->b, r->n), cases[i].want,
			     "case %zu", i);
	}
	/* An additional record that is not an OPT (a TSIG, say). */
	query(r, "a.lab", DNS_T_A, false);
	r->b[11] = 1;
	raw_u8(r, 0);
	raw_rr(r, DNS_T_TSIG, 0);
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), DNS_E_QUERY_SHAPE);
}

Test(query, reply_echoes_question_and_header_bits)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	static const uint8_t a[4] = { 198, 18, 0, 7 };
	uint8_t buf[512];
	struct dns_query q;
	struct dns_builder b;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	query(r, "WwW.sHoP.lab", DNS_T_A, true);
	r->b[3] |= DNS_F_CD;
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	cr_assert_eq(dns_builder_reply(&b, buf, sizeof(buf), &q, DNS_F_RA), 0);
	cr_assert_eq(dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN,
					  60, a, 4), 0);
	/* A later name still compresses against the question's suffixes. */
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("shop.lab"),
				    DNS_T_NS, DNS_C_IN, 60, nm("ns.shop.lab"), 13), 0);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, DNS_EDNS_F_DO, NULL, 0), 0);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	cr_assert_eq(m.hdr.id, 0x1234);
	cr_assert_eq(m.hdr.flags, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_F_CD);
	cr_assert_arr_eq(buf + DNS_HDR_LEN, r->b + DNS_HDR_LEN, q.qname_len + 4,
			 "question octet for octet");
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(dns_get16(buf + rr.off), 0xc000 | DNS_HDR_LEN);
	cr_assert_arr_eq(rr.owner, nm("WwW.sHoP.lab"), 14, "client's case");
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(dns_get16(buf + rr.off), 0xc000 | (DNS_HDR_LEN + 4),
		     "owner points into the question");
	cr_assert_eq(rr.rdlen, 5);
}

Test(query, question_suffixes_survive_a_refused_record)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	uint8_t buf[512];
	struct dns_query q;
	struct dns_builder b;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	query(r, "www.shop.lab", DNS_T_NS, false);
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	dns_builder_reply(&b, buf, sizeof(buf), &q, 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("ns1.shop.lab"),
				    DNS_T_AAAA, DNS_C_IN, 60, buf, 15),
		     DNS_E_RDATA_LEN);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("ns2.shop.lab"),
				    DNS_T_A, DNS_C_IN, 60, buf, 4), 0);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(dns_get16(buf + rr.off + 4), 0xc000 | (DNS_HDR_LEN + 4),
		     "ns2 + pointer to shop.lab in the question");
}

Test(query, reply_without_question_or_room)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	uint8_t buf[20];
	struct dns_query q;
	struct dns_builder b;

	query(r, "a-rather-long-name.shop.lab", DNS_T_A, false);
	cr_assert_eq(dns_query_parse(&q, r->b, r->n), 0);
	cr_assert_eq(dns_builder_reply(&b, buf, sizeof(buf), &q, 0), DNS_E_SPACE);
	dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR);
	cr_assert_eq(dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN,
					  1, (const uint8_t *)"\1\2\3\4", 4),
		     DNS_E_ORDER);
}
