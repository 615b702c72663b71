/*
 * tests/dns/test_roundtrip.c: build -> parse -> compare for every RR type the
 * library knows: each record goes through the builder (which compresses names
 * where RFC 1035 allows it) into a message, the message is parsed and walked,
 * and the unpacked RDATA must equal what went in, byte for byte; the
 * presentation form is checked against the text a zone file would hold.
 */
#include "testutil.h"

#include "dns/build.h"
#include "dns/msg.h"
#include "dns/print.h"

struct rd {
	uint8_t b[512];
	size_t n;
};

static void rd_bytes(struct rd *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void rd_u8(struct rd *r, uint8_t v)
{
	rd_bytes(r, &v, 1);
}

static void rd_u16(struct rd *r, uint16_t v)
{
	dns_put16(r->b + r->n, v);
	r->n += 2;
}

static void rd_u32(struct rd *r, uint32_t v)
{
	dns_put32(r->b + r->n, v);
	r->n += 4;
}

static void rd_name(struct rd *r, const char *s)
{
	const uint8_t *n = nm(s);

	rd_bytes(r, n, dns_name_len(n));
}

static void rd_seq(struct rd *r, uint8_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rd_u8(r, (uint8_t)(from + i));
}

struct rt_case {
	uint16_t type;
	struct rd rdata;
	const char *text;
};

static struct rt_case cases[16];
static size_t ncases;

static struct rd *add(uint16_t type, const char *text)
{
	struct rt_case *c = &cases[ncases++];

	c->type = type;
	c->rdata.n = 0;
	c->text = text;
	return &c->rdata;
}

static void make_cases(void)
{
	struct rd *r;

	ncases = 0;
	rd_bytes(add(DNS_T_A, "198.18.0.1"), "\xc6\x12\x00\x01", 4);
	rd_bytes(add(DNS_T_AAAA, "2001:db8::1"),
		 "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	rd_name(add(DNS_T_NS, "ns1.shop.lab."), "ns1.shop.lab");
	rd_name(add(DNS_T_CNAME, "WWW.shop.lab."), "WWW.shop.lab");
	rd_name(add(DNS_T_DNAME, "shop.bench."), "shop.bench");
	rd_name(add(DNS_T_PTR, "host.shop.lab."), "host.shop.lab");
	r = add(DNS_T_SOA, "ns1.shop.lab. hostmaster.shop.lab. 2026112201 3600 900 604800 300");
	rd_name(r, "ns1.shop.lab");
	rd_name(r, "hostmaster.shop.lab");
	rd_u32(r, 2026112201);
	rd_u32(r, 3600);
	rd_u32(r, 900);
	rd_u32(r, 604800);
	rd_u32(r, 300);
	r = add(DNS_T_MX, "10 mail.shop.lab.");
	rd_u16(r, 10);
	rd_name(r, "mail.shop.lab");
	r = add(DNS_T_TXT, "\"hello world\" \"second \\\"quoted\\\"\" \"\\010\"");
	rd_bytes(r, "\13hello world", 12);
	rd_bytes(r, "\17second \"quoted\"", 16);
	rd_bytes(r, "\1\n", 2);
	r = add(DNS_T_SRV, "10 20 5060 sip.shop.lab.");
	rd_u16(r, 10);
	rd_u16(r, 20);
	rd_u16(r, 5060);
	rd_name(r, "sip.shop.lab");
	r = add(DNS_T_DS, "12345 13 2 6465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F80818283");
	rd_u16(r, 12345);
	rd_u8(r, 13);
	rd_u8(r, 2);
	rd_seq(r, 100, 32);
	r = add(DNS_T_DNSKEY, "257 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	rd_u16(r, 257);
	rd_u8(r, 3);
	rd_u8(r, 13);
	rd_seq(r, 0, 32);
	r = add(DNS_T_RRSIG, "A 13 3 300 20261231000000 20261201000000 12345 shop.lab. "
		"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZw==");
	rd_u16(r, DNS_T_A);
	rd_u8(r, 13);
	rd_u8(r, 3);
	rd_u32(r, 300);
	rd_u32(r, 1798675200);
	rd_u32(r, 1796083200);
	rd_u16(r, 12345);
	rd_name(r, "shop.lab");
	rd_seq(r, 64, 40);
	r = add(DNS_T_NSEC, "b.shop.lab. A NS SOA RRSIG NSEC DNSKEY TYPE1234");
	rd_name(r, "b.shop.lab");
	rd_bytes(r, "\0\7\x62\0\0\0\0\3\x80", 9);
	/* TYPE1234: window 4, bit 210 = octet 26, mask 0x20 */
	rd_bytes(r, "\4\x1b", 2);
	for (int i = 0; i < 26; i++)
		rd_u8(r, 0);
	rd_u8(r, 0x20);
	r = add(DNS_T_NSEC3, "1 0 0 - 000G40O40K30E209185GO38E1S8124GJ A RRSIG");
	rd_bytes(r, "\1\0\0\0\0\x14", 6);
	rd_seq(r, 0, 20);
	rd_bytes(r, "\0\6\x40\0\0\0\0\2", 8);
	r = add(DNS_T_NSEC3, "1 1 0 AABB 000G40O40K30E209185GO38E1S8124GJ");
	rd_bytes(r, "\1\1\0\0\2\xaa\xbb\x14", 8);
	rd_seq(r, 0, 20);
}

Test(roundtrip, every_type_through_builder_and_parser)
{
	uint8_t buf[4096];
	struct dns_builder b;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;
	size_t len;

	make_cases();
	cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 0xbeef,
				      DNS_F_QR | DNS_F_AA), 0);
	cr_assert_eq(dns_builder_question(&b, nm("shop.lab"), DNS_T_ANY, DNS_C_IN), 0);
	/* Names are compressed case-insensitively (RFC 1035 4.1.4), so the
	 * owners here share the question's case; build.c's tests cover case. */
	for (size_t i = 0; i < ncases; i++)
		cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("shop.lab"),
					    cases[i].type, DNS_C_IN,
					    (uint32_t)(100 + i), cases[i].rdata.b,
					    cases[i].rdata.n),
			     0, "case %zu", i);
	cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, DNS_EDNS_F_DO,
				     (const uint8_t *)"\0\12\0\10abcdefgh", 12), 0);
	len = dns_builder_finish(&b);

	int r = dns_msg_parse(&m, buf, len);
	cr_assert_eq(r, 0, "%s", dns_strerror(r));
	cr_assert_eq(m.hdr.id, 0xbeef);
	cr_assert_eq(m.hdr.flags, DNS_F_QR | DNS_F_AA);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], ncases);
	cr_assert_eq(m.qtype, DNS_T_ANY);
	cr_assert(m.has_edns);
	cr_assert_eq(m.edns.udp_size, 1232);
	cr_assert_eq(m.edns.flags, DNS_EDNS_F_DO);
	cr_assert_eq(m.edns.cookie_len, 8);
	cr_assert_arr_eq(buf + m.edns.cookie_off, "abcdefgh", 8);

	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	for (size_t i = 0; i < ncases; i++) {
		uint8_t rdata[1024];
		char text[1024];

		cr_assert_eq(dns_rr_next(&it, &rr), 1);
		cr_assert_eq(rr.type, cases[i].type);
		cr_assert_eq(rr.rclass, DNS_C_IN);
		cr_assert_eq(rr.ttl, 100 + i);
		cr_assert_arr_eq(rr.owner, nm("shop.lab"), rr.owner_len,
				 "owner (case %zu)", i);
		int n = dns_rr_rdata(&m, &rr, rdata, sizeof(rdata));
		cr_assert_eq((size_t)n, cases[i].rdata.n, "case %zu: %d %s", i, n,
			     dns_strerror(n));
		cr_assert_arr_eq(rdata, cases[i].rdata.b, (size_t)n, "case %zu", i);
		cr_assert_gt(dns_rdata_to_str(rr.type, rdata, (size_t)n, text,
					      sizeof(text)), 0);
		cr_assert_str_eq(text, cases[i].text);
	}
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.type, DNS_T_OPT);
	cr_assert_eq(rr.section, DNS_SEC_ADDITIONAL);
	cr_assert_eq(dns_rr_next(&it, &rr), 0);
}

Test(roundtrip, names_in_rdata_are_compressed_where_allowed)
{
	uint8_t buf[512];
	struct dns_builder b;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	make_cases();
	dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR);
	dns_builder_question(&b, nm("shop.lab"), DNS_T_NS, DNS_C_IN);
	/* NS (compressible) and DNAME (never compressed) with shared suffixes. */
	dns_builder_rr(&b, DNS_SEC_ANSWER, nm("shop.lab"), DNS_T_NS, DNS_C_IN,
		       60, nm("ns1.shop.lab"), 14);
	dns_builder_rr(&b, DNS_SEC_ANSWER, nm("old.shop.lab"), DNS_T_DNAME,
		       DNS_C_IN, 60, nm("shop.lab"), 10);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.rdlen, 6, "ns1 + pointer");
	cr_assert_eq(rr.owner_len, 10);
	cr_assert_eq(buf[rr.off], 0xc0, "owner is a pointer to the question");
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.rdlen, 10, "DNAME target written in full");
	/* The whole message: header 12, question 14, NS 12+6, DNAME 6+10+10 */
	cr_assert_eq(m.len, 12 + 14 + 18 + 26);
}

/*
 * Canonical RDATA (RFC 4034 6.2, RFC 6840 5.1): names lower-cased in the
 * types that list them, NSEC's next name kept as written, everything else
 * unchanged, and compression pointers refused.
 */
Test(rdata, canonical_form_lower_cases_the_listed_types_only)
{
	static const struct {
		uint16_t type;
		const char *in, *out;
		size_t len;
	} v[] = {
		{ DNS_T_MX, "\x00\x0a\x02MX\x03" "Ex\x00", "\x00\x0a\x02mx\x03" "ex\x00", 10 },
		{ DNS_T_CNAME, "\x03WwW\x00", "\x03www\x00", 5 },
		{ DNS_T_NSEC, "\x01" "A\x00\x00\x01\x40", "\x01" "A\x00\x00\x01\x40", 6 },
		{ DNS_T_TXT, "\x02" "AB", "\x02" "AB", 3 },
		{ DNS_T_RRSIG,
		  "\x00\x01\x08\x01\x00\x00\x0e\x10\x00\x00\x00\x01\x00\x00\x00\x00\x12\x34"
		  "\x02" "EX\x00" "SIG",
		  "\x00\x01\x08\x01\x00\x00\x0e\x10\x00\x00\x00\x01\x00\x00\x00\x00\x12\x34"
		  "\x02" "ex\x00" "SIG", 25 },
	};
	uint8_t out[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = dns_rdata_canonical(v[i].type, (const uint8_t *)v[i].in, v[i].len,
					    out, sizeof(out));
		cr_assert_eq(n, (int)v[i].len, "case %zu: %d", i, n);
		cr_assert_arr_eq(out, v[i].out, v[i].len, "case %zu", i);
	}
	/* A pointer is never canonical RDATA. */
	cr_assert_eq(dns_rdata_canonical(DNS_T_CNAME, (const uint8_t *)"\xc0\x0c", 2, out,
					 sizeof(out)), DNS_E_PTR_NOT_ALLOWED);
	cr_assert_eq(dns_rdata_canonical(DNS_T_CNAME, (const uint8_t *)"\x03WwW\x00", 5, out, 4),
		     DNS_E_SPACE);
}
