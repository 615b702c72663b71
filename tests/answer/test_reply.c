/*
 * tests/answer/test_reply.c: the answers both front ends write without a
 * cache hit (from an assembled message, rcode-only) and the screen every
 * client's message meets first: each outcome of answer_screen() with the
 * bytes of the answer that goes back, parsed by the general parser.
 */
#include "tests/dns/testutil.h"

#include "answer/acl.h"
#include "answer/reply.h"
#include "answer/screen.h"
#include "conf/config.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/opt.h"
#include "dns/query.h"

/* An assembled message's pointers may point into its question: it answers
 * only a question it was made for (letter case aside). */
Test(reply, from_a_message_for_another_question_is_empty)
{
	uint8_t qb[512], mb[512], out[1232];
	struct dns_builder b;
	struct dns_query q;
	struct dns_msg m;
	static const uint8_t a[4] = { 198, 18, 0, 1 };

	dns_builder_init(&b, qb, sizeof(qb), 7, DNS_F_RD);
	dns_builder_question(&b, nm("WWW.shop.lab"), DNS_T_A, DNS_C_IN);
	cr_assert_eq(dns_query_parse(&q, qb, dns_builder_finish(&b)), 0);
	/* the same length, another name: its owner pointer would read
	 * "shop.lab" as "xop.lab"-ish garbage behind q's question */
	dns_builder_init(&b, mb, sizeof(mb), 0, DNS_F_QR);
	dns_builder_question(&b, nm("abc.xxop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN, 60, a, 4);
	size_t ml = dns_builder_finish(&b);
	size_t n = answer_from_msg(&q, mb, ml, 0, false, sizeof(out), 1232, out);
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0, "another name: no records");
	/* the same name in another case: the records */
	dns_builder_init(&b, mb, sizeof(mb), 0, DNS_F_QR);
	dns_builder_question(&b, nm("www.shop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN, 60, a, 4);
	ml = dns_builder_finish(&b);
	n = answer_from_msg(&q, mb, ml, 0, false, sizeof(out), 1232, out);
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	/* the same name, another type */
	dns_builder_init(&b, mb, sizeof(mb), 0, DNS_F_QR);
	dns_builder_question(&b, nm("www.shop.lab"), DNS_T_AAAA, DNS_C_IN);
	ml = dns_builder_finish(&b);
	n = answer_from_msg(&q, mb, ml, 0, false, sizeof(out), 1232, out);
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.qtype, DNS_T_A, "the client's question, not the message's");
}

/* A pointer into the question that lands inside a label on an octet of
 * 0xc0 or more reads it as a pointer whose second octet is the next one,
 * a letter: behind a client's question in another case it would lead
 * elsewhere (here: 'a' is offset 97, the root octet; 'A' is 65, inside
 * the first label). Such an answer is written again, and parses. */
Test(reply, a_pointer_through_a_letter_of_the_question_is_written_again)
{
	uint8_t mb[512], qb[512], out[1232];
	struct dns_query q;
	struct dns_msg m;
	size_t n = DNS_HDR_LEN;

	memset(mb, 0, sizeof(mb));
	dns_put16(mb + 2, DNS_F_QR);
	dns_put16(mb + 4, 1);
	dns_put16(mb + 6, 1);
	mb[n++] = 63; /* 12: "xxx..." (13..75) */
	memset(mb + n, 'x', 63);
	n += 63;
	mb[n++] = 30; /* 76: 77..106 */
	memset(mb + n, 'y', 30);
	mb[97] = 0;	  /* the pointer's target: the root */
	mb[100] = 0xc0;	  /* a pointer inside the label ... */
	mb[101] = 'a';	  /* ... to offset 97 */
	n += 30;
	memcpy(mb + n, "\3lab", 5);
	n += 5;
	cr_assert_eq(n, 112);
	dns_put16(mb + n, DNS_T_A);
	dns_put16(mb + n + 2, DNS_C_IN);
	n += 4;
	static const uint8_t an[] = { 0xc0, 100, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1 };
	memcpy(mb + n, an, sizeof(an));
	n += sizeof(an);
	cr_assert_eq(dns_msg_parse(&m, mb, n), 0, "the message is well-formed");

	memcpy(qb, mb, n);
	dns_put16(qb + 2, DNS_F_RD);
	dns_put16(qb + 6, 0);
	qb[101] = 'A';
	cr_assert_eq(dns_query_parse(&q, qb, 116), 0);
	size_t a = answer_from_msg(&q, mb, n, 0, false, sizeof(out), 1232, out);
	cr_assert_eq(dns_msg_parse(&m, out, a), 0, "the answer parses");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	cr_assert_eq(out[DNS_HDR_LEN + 89], 'A', "the client's question as asked");
}

/* A message whose OPT is not its last record (a server may send one so;
 * the cache and control write their own last): the records after the OPT
 * reach the client, with the client's OPT or none, and the answer parses.
 * (A copy up to the OPT lost them, with their count left in ARCOUNT.) */
Test(reply, a_message_with_records_after_its_opt)
{
	uint8_t qb[512], mb[512], out[1232];
	struct dns_builder b;
	struct dns_query q;
	struct dns_msg m;
	size_t ml = 0;

	dns_put16(mb, 0x4444);
	dns_put16(mb + 2, DNS_F_QR | DNS_F_AA);
	dns_put16(mb + 4, 1);
	dns_put16(mb + 6, 1);
	dns_put16(mb + 8, 0);
	dns_put16(mb + 10, 2);
	ml = DNS_HDR_LEN;
	memcpy(mb + ml, nm("www.shop.lab"), 14);
	ml += 14;
	dns_put16(mb + ml, DNS_T_A);
	dns_put16(mb + ml + 2, DNS_C_IN);
	ml += 4;
	/* answer: www.shop.lab A; additional: OPT, then ns1.shop.lab A */
	static const uint8_t an[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1 };
	static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t ns1[] = { 3, 'n', 's', '1', 0xc0, 0x10, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
				       198, 18, 0, 2 };
	memcpy(mb + ml, an, sizeof(an));
	ml += sizeof(an);
	memcpy(mb + ml, opt, sizeof(opt));
	ml += sizeof(opt);
	memcpy(mb + ml, ns1, sizeof(ns1));
	ml += sizeof(ns1);
	cr_assert_eq(dns_msg_parse(&m, mb, ml), 0, "the message is well-formed");
	for (int edns = 0; edns <= 1; edns++) {
		dns_builder_init(&b, qb, sizeof(qb), 7, DNS_F_RD);
		dns_builder_question(&b, nm("WWW.shop.lab"), DNS_T_A, DNS_C_IN);
		if (edns)
			dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0);
		cr_assert_eq(dns_query_parse(&q, qb, dns_builder_finish(&b)), 0);
		for (int tcp = 0; tcp <= 1; tcp++) {
			size_t n = answer_from_msg(&q, mb, ml, 0, tcp, sizeof(out), 1232, out);
			cr_assert_eq(dns_msg_parse(&m, out, n), 0, "edns %d tcp %d", edns, tcp);
			cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
			cr_assert_eq(m.hdr.count[DNS_SEC_ADDITIONAL], 1 + edns,
				     "ns1's address, and the client's OPT");
			cr_assert_eq(m.has_edns, edns);
			cr_assert_eq(out[n - (edns ? DNS_OPT_LEN : 0) - 1], 2,
				     "ns1's address, last before the OPT");
		}
	}
}

/* A signed NXDOMAIN as control assembles it (SOA, NSEC, their RRSIGs;
 * an EDE in its OPT), asked with DO or without, over UDP with room for
 * the records without their signatures only, and over TCP. */
Test(reply, a_client_without_do_gets_the_message_without_its_dnssec_records)
{
	uint8_t qb[512], mb[2048], out[4096], soa[64], nsec[32], sig[600], opt[6];
	struct dns_builder b;
	struct dns_query q;
	struct dns_msg m;
	size_t sl = 0, nl = 0;

	memcpy(soa, nm("ns1.shop.lab"), 14);
	memcpy(soa + 14, nm("hm.shop.lab"), 13);
	memset(soa + 27, 0, 20);
	sl = 47;
	memcpy(nsec, nm("zz.shop.lab"), 13);
	memcpy(nsec + 13, "\x00\x01\x40", 3);
	nl = 16;
	memset(sig, 0, sizeof(sig));
	dns_put16(sig, DNS_T_NSEC);
	sig[2] = 8;
	sig[3] = 3;
	memcpy(sig + 18, nm("shop.lab"), 10);
	dns_builder_init(&b, mb, sizeof(mb), 0, DNS_F_QR | DNS_R_NXDOMAIN);
	dns_builder_question(&b, nm("gone.shop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("shop.lab"), DNS_T_SOA, DNS_C_IN, 60, soa, sl);
	dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("a.shop.lab"), DNS_T_NSEC, DNS_C_IN, 60, nsec, nl);
	dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("a.shop.lab"), DNS_T_RRSIG, DNS_C_IN, 60, sig,
		       28 + 512); /* an RSA-4096-sized signature */
	dns_put16(opt, DNS_EO_EDE);
	dns_put16(opt + 2, 2);
	dns_put16(opt + 4, 27);
	dns_builder_opt(&b, 1232, 0, 0, 0, opt, sizeof(opt));
	size_t ml = dns_builder_finish(&b);
	for (int dnssec = 0; dnssec <= 1; dnssec++) {
		dns_builder_init(&b, qb, sizeof(qb), 7, DNS_F_RD);
		dns_builder_question(&b, nm("Gone.shop.lab"), DNS_T_A, DNS_C_IN);
		dns_builder_opt(&b, 512, 0, 0, dnssec ? DNS_EDNS_F_DO : 0, NULL, 0);
		cr_assert_eq(dns_query_parse(&q, qb, dns_builder_finish(&b)), 0);
		for (int tcp = 0; tcp <= 1; tcp++) {
			size_t n = answer_from_msg(&q, mb, ml, DNS_R_NXDOMAIN, tcp, sizeof(out), 1232,
						   out);
			cr_assert_eq(dns_msg_parse(&m, out, n), 0);
			cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
			if (!dnssec) {
				cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1, "the SOA alone");
				cr_assert_not(m.hdr.flags & DNS_F_TC, "it fits in 512 without them");
			} else {
				cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], tcp ? 3 : 0);
				cr_assert_eq(!!(m.hdr.flags & DNS_F_TC), !tcp, "over 512 with them");
			}
			cr_assert_eq(dns_opt_find_ede(out + m.edns.opts_off, m.edns.opts_len), 27,
				     "the EDE goes with it");
		}
	}
	/* answer_plain alone: the records, its OPT left out */
	size_t n = answer_plain(mb, ml, out, sizeof(out));
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1);
	cr_assert_not(m.has_edns);
	cr_assert_eq(answer_plain(mb, ml, out, 40), 0, "does not fit: 0");
	cr_assert_eq(answer_plain(mb, 7, out, sizeof(out)), 0, "does not parse: 0");
}

/* --- the screen ------------------------------------------------------------ */

static struct answer_acl acl;
static const uint8_t allowed[4] = { 127, 0, 0, 1 }, refused[4] = { 192, 0, 2, 1 },
		     dropped[4] = { 10, 0, 0, 1 };

static void acl_init(void)
{
	static struct cfg c;
	static const char text[] = "resolver: { root-hints: /r }\n"
				   "access-control:\n"
				   "  - { prefix: 127.0.0.0/8, action: allow }\n"
				   "  - { prefix: 10.0.0.0/8, action: drop }\n";
	char err[256];

	cr_assert_eq(cfg_parse(&c, text, sizeof(text) - 1, "t.yaml", err, sizeof(err)), 0, "%s", err);
	answer_acl_build(&acl, &c);
}

/* A query for name/type/class with the header flags, EDNS version (-1:
 * no OPT), into r. */
static void msg(struct raw *r, const char *name, uint16_t type, uint16_t class,
		uint16_t flags, int edns_version)
{
	r->n = 0;
	raw_hdr(r, 1, 0, 0, edns_version >= 0 ? 1 : 0);
	r->b[2] = (uint8_t)(flags >> 8);
	r->b[3] = (uint8_t)flags;
	raw_name(r, name);
	raw_u16(r, type);
	raw_u16(r, class);
	if (edns_version >= 0) {
		raw_u8(r, 0);
		raw_u16(r, DNS_T_OPT);
		raw_u16(r, 1232);
		raw_u32(r, (uint32_t)edns_version << 16);
		raw_u16(r, 0);
	}
}

/* The EDE of screen()'s last answer (DNS_EDE_NONE: none, or no OPT). */
static uint16_t last_ede;

/* Screens r from addr; for an answered slot, writes the answer and checks
 * it: QR, the rcode (BADVERS's upper bits in the OPT), the client's id and
 * question when it parsed, its EDE in last_ede. Returns the slot. */
static enum answer_slot screen(struct raw *r, const uint8_t *addr)
{
	struct answer_screen v;
	struct dns_query q;
	struct dns_msg m;
	uint8_t out[ANSWER_EMPTY_MAX];

	answer_screen(&v, &acl, 0, addr, r->b, r->n, &q);
	if (!answer_slot_replies(v.slot))
		return v.slot;
	size_t n = answer_empty(r->b, v.q, v.rcode, v.ede, 1232, out);
	cr_assert_eq(dns_msg_parse(&m, out, n), 0, "the answer parses");
	cr_assert(m.hdr.flags & DNS_F_QR);
	cr_assert_eq(dns_get16(out), dns_get16(r->b), "the client's id");
	int rcode = m.hdr.flags & 0xf;
	if (m.has_edns)
		rcode |= m.edns.ext_rcode << 4;
	cr_assert_eq(rcode, v.rcode);
	last_ede = m.has_edns ? dns_opt_find_ede(m.wire + m.edns.opts_off, m.edns.opts_len)
			      : DNS_EDE_NONE;
	if (v.q) {
		cr_assert_eq(m.hdr.count[DNS_SEC_QUESTION], 1);
		cr_assert_arr_eq(out + DNS_HDR_LEN, r->b + DNS_HDR_LEN, v.q->qname_len + 4u,
				 "the question octet for octet");
	} else {
		cr_assert_eq(m.hdr.count[DNS_SEC_QUESTION], 0, "nothing parsed: the header alone");
	}
	return v.slot;
}

Test(screen, each_rule_in_its_order, .init = acl_init)
{
	struct raw raw = { .n = 0 }, *r = &raw;

	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, DNS_F_RD, 0);
	cr_assert_eq(screen(r, allowed), ANSWER_GO);
	cr_assert_eq(screen(r, refused), ANSWER_REFUSED, "no rule: REFUSED");
	cr_assert_eq(last_ede, DNS_EDE_PROHIBITED, "access control: EDE 18");
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, DNS_F_RD, -1);
	cr_assert_eq(screen(r, refused), ANSWER_REFUSED);
	cr_assert_eq(last_ede, DNS_EDE_NONE, "no OPT in the query: no EDE");
	cr_assert_eq(screen(r, dropped), ANSWER_ACL_DROP);
	r->n = DNS_HDR_LEN - 1;
	cr_assert_eq(screen(r, allowed), ANSWER_SHORT);
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, DNS_F_QR, 0);
	cr_assert_eq(screen(r, allowed), ANSWER_QR, "a response is never answered");
	cr_assert_eq(screen(r, refused), ANSWER_QR, "QR before access control");
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, 2 << DNS_F_OPCODE_SHIFT, 0);
	cr_assert_eq(screen(r, allowed), ANSWER_NOTIMP);
	r->n -= 3; /* a broken body under an unknown opcode: NOTIMP wins */
	cr_assert_eq(screen(r, allowed), ANSWER_NOTIMP);
	cr_assert_eq(screen(r, refused), ANSWER_REFUSED, "access control before the body");
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, 0, 0);
	r->n -= 3;
	cr_assert_eq(screen(r, allowed), ANSWER_FORMERR);
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, 0, 1);
	cr_assert_eq(screen(r, allowed), ANSWER_BADVERS);
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_CH, 0, -1);
	cr_assert_eq(screen(r, allowed), ANSWER_REFUSED, "CHAOS");
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_CH, 0, 0);
	cr_assert_eq(screen(r, allowed), ANSWER_REFUSED, "CHAOS");
	cr_assert_eq(last_ede, DNS_EDE_NOT_SUPPORTED, "a class: EDE 21");
	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, 0, 1);
	cr_assert_eq(screen(r, allowed), ANSWER_BADVERS);
	cr_assert_eq(last_ede, DNS_EDE_NONE, "BADVERS: none");
	static const uint16_t types[] = { DNS_T_AXFR, DNS_T_IXFR, DNS_T_OPT, DNS_T_TSIG };
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		msg(r, "shop.lab", types[i], DNS_C_IN, 0, -1);
		cr_assert_eq(screen(r, allowed), ANSWER_REFUSED, "type %u", types[i]);
	}
}

Test(screen, mapped_clients_are_screened_as_ipv4, .init = acl_init)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	struct answer_screen v;
	struct dns_query q;
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };

	msg(r, "www.shop.lab", DNS_T_A, DNS_C_IN, 0, -1);
	answer_screen(&v, &acl, 1, mapped, r->b, r->n, &q);
	cr_assert_eq(v.slot, ANSWER_ACL_DROP, "::ffff:10.0.0.1 is 10.0.0.1");
	mapped[12] = 127;
	answer_screen(&v, &acl, 1, mapped, r->b, r->n, &q);
	cr_assert_eq(v.slot, ANSWER_GO);
}

Test(screen, every_slot_has_a_text)
{
	for (int s = 0; s < ANSWER_NSLOTS; s++)
		cr_assert_str_neq(answer_slot_text((enum answer_slot)s), "unknown slot");
}

/* What crosses from the other process is relayed only when it answers the
 * client's own question. */
Test(reply, an_answer_is_for_the_question_only_when_id_qr_and_question_match)
{
	uint8_t qb[512], out[1232];
	struct dns_builder b;
	struct dns_query q;
	static const uint8_t a[4] = { 198, 18, 0, 1 };

	dns_builder_init(&b, qb, sizeof(qb), 7, DNS_F_RD);
	dns_builder_question(&b, nm("WwW.shop.lab"), DNS_T_A, DNS_C_IN);
	cr_assert_eq(dns_query_parse(&q, qb, dns_builder_finish(&b)), 0);
	dns_builder_init(&b, out, sizeof(out), 7, DNS_F_QR);
	dns_builder_question(&b, nm("WwW.shop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN, 60, a, 4);
	size_t n = dns_builder_finish(&b);
	cr_assert(answer_is_for(&q, out, n));
	cr_assert(!answer_is_for(&q, out, DNS_HDR_LEN + 3), "cut inside the question");
	out[1] ^= 1;
	cr_assert(!answer_is_for(&q, out, n), "another id");
	out[1] ^= 1;
	out[DNS_HDR_LEN + 1] = 'w';
	cr_assert(!answer_is_for(&q, out, n), "the question in another letter case");
	out[DNS_HDR_LEN + 1] = 'W';
	out[2] &= (uint8_t)~(DNS_F_QR >> 8);
	cr_assert(!answer_is_for(&q, out, n), "not a response");
}
