/*
 * tests/dns/test_malformed.c: the malformed-message corpus. Each case is a
 * hand-made message broken in one way, and the test asserts the exact error
 * dns_msg_parse() must give. A well-formed neighbour of each kind of case is
 * checked too, so that a parser rejecting everything cannot pass.
 */
#include "testutil.h"

#include "dns/msg.h"
#include "dns/query.h"

/*
 * Both parsers see every case: dns_query_parse() must give the same verdict
 * unless it turns the message away for its shape (not a plain query).
 */
static void expect(const struct raw *r, int want)
{
	struct dns_msg m;
	struct dns_query q;
	int got = dns_msg_parse(&m, r->b, r->n);
	int gotq = dns_query_parse(&q, r->b, r->n);

	cr_assert_eq(got, want, "got %d (%s), want %d (%s)", got,
		     dns_strerror(got), want, dns_strerror(want));
	if (gotq != DNS_E_QDCOUNT && gotq != DNS_E_QUERY_SHAPE)
		cr_assert_eq(gotq, want, "query parser: got %d (%s), want %d (%s)",
			     gotq, dns_strerror(gotq), want, dns_strerror(want));
}

/* One malformed message: the statements build it in r, want is the error. */
#define BAD(tname, want, ...)                                                  \
	Test(malformed, tname)                                                 \
	{                                                                      \
		struct raw raw = { .n = 0 }, *r = &raw;                        \
		__VA_ARGS__;                                                   \
		expect(r, want);                                               \
	}

/* Answer record of type t and the given RDATA, after a query for a.lab. */
static void one_rr(struct raw *r, uint16_t t, const void *rdata, uint16_t len)
{
	raw_query(r, 1, 0, 0, "a.lab");
	raw_u16(r, 0xc00c);
	raw_rr(r, t, len);
	raw_bytes(r, rdata, len);
}

static void opt_rr(struct raw *r, const void *opts, uint16_t len)
{
	raw_u8(r, 0);
	raw_u16(r, DNS_T_OPT);
	raw_u16(r, 1232);
	raw_u32(r, 0);
	raw_u16(r, len);
	raw_bytes(r, opts, len);
}

static const uint8_t ds_head[4] = { 0x12, 0x34, 13, DNS_DS_SHA256 };

/* --- header and question --- */
BAD(empty, DNS_E_HEADER, (void)r)
BAD(eleven_octets, DNS_E_HEADER, raw_hdr(r, 0, 0, 0, 0); r->n = 11)
BAD(two_questions, DNS_E_QDCOUNT, raw_hdr(r, 2, 0, 0, 0); raw_name(r, "a");
    raw_u32(r, 0x00010001); raw_name(r, "b"); raw_u32(r, 0x00010001))
BAD(question_missing, DNS_E_TRUNC, raw_hdr(r, 1, 0, 0, 0))
BAD(qname_label_past_end, DNS_E_TRUNC, raw_hdr(r, 1, 0, 0, 0);
    raw_bytes(r, "\5ab", 3))
BAD(qname_without_root_label, DNS_E_TRUNC, raw_hdr(r, 1, 0, 0, 0);
    raw_bytes(r, "\1a\1b", 4))
BAD(question_without_type_class, DNS_E_TRUNC, raw_hdr(r, 1, 0, 0, 0);
    raw_name(r, "a.lab"); raw_u16(r, 1))
BAD(label_length_64, DNS_E_LABEL_LEN, raw_hdr(r, 1, 0, 0, 0); raw_u8(r, 64);
    for (int i = 0; i < 70; i++) raw_u8(r, 'x'))
BAD(label_type_10, DNS_E_LABEL_LEN, raw_hdr(r, 1, 0, 0, 0); raw_u8(r, 0x80);
    raw_u8(r, 0); raw_u32(r, 0x00010001))
BAD(name_257_octets, DNS_E_NAME_LEN, raw_hdr(r, 1, 0, 0, 0);
    for (int i = 0; i < 4; i++) { raw_u8(r, 63);
	    for (int k = 0; k < 63; k++) raw_u8(r, 'x'); }
    raw_u8(r, 0); raw_u32(r, 0x00010001))
BAD(pointer_forward, DNS_E_PTR_FORWARD, raw_hdr(r, 1, 0, 0, 0);
    raw_u16(r, 0xc000 | 16); raw_u8(r, 0); raw_u8(r, 0); raw_name(r, "a");
    raw_u32(r, 0x00010001))
BAD(pointer_to_itself, DNS_E_PTR_LOOP, raw_hdr(r, 1, 0, 0, 0);
    raw_u16(r, 0xc000 | 12); raw_u32(r, 0x00010001))
BAD(pointer_into_own_labels, DNS_E_PTR_LOOP, raw_hdr(r, 1, 0, 0, 0);
    raw_bytes(r, "\1a", 2); raw_u16(r, 0xc000 | 12); raw_u32(r, 0x00010001))
BAD(pointer_into_header, DNS_E_PTR_HEADER, raw_hdr(r, 1, 0, 0, 0);
    raw_u16(r, 0xc000 | 4); raw_u32(r, 0x00010001))
BAD(pointer_cut_short, DNS_E_TRUNC, raw_hdr(r, 1, 0, 0, 0); raw_u8(r, 0xc0))
BAD(compressed_name_over_255, DNS_E_NAME_LEN, raw_hdr(r, 1, 1, 0, 0);
    for (int i = 0; i < 3; i++) { raw_u8(r, 63);
	    for (int k = 0; k < 63; k++) raw_u8(r, 'q'); }
    raw_u8(r, 0); raw_u32(r, 0x00010001);
    raw_u8(r, 63); for (int k = 0; k < 63; k++) raw_u8(r, 'o');
    raw_u16(r, 0xc00c); raw_rr(r, DNS_T_A, 4); raw_u32(r, 0))
BAD(answer_pointer_loop_back, DNS_E_PTR_LOOP, raw_query(r, 1, 0, 0, "a.lab");
    raw_bytes(r, "\1b", 2); raw_u16(r, 0xc000 | 23); raw_rr(r, DNS_T_A, 4);
    raw_u32(r, 0))
/* a pointer to a prior octet whose label runs on into the name that
 * points (offset 36: the 5 inside the TXT; the owner starts at 37) */
BAD(pointer_target_runs_into_the_name, DNS_E_PTR_OVERRUN,
    raw_query(r, 2, 0, 0, "a.lab"); raw_u16(r, 0xc00c); raw_rr(r, DNS_T_TXT, 2);
    raw_bytes(r, "\1\5", 2); raw_u16(r, 0xc000 | 36); raw_rr(r, DNS_T_A, 4);
    raw_u32(r, 0))
/* ... or whose labels end where the name that points starts, so that it
 * would go on with the pointer itself (label "z" at 36-37, owner at 38) */
BAD(pointer_target_goes_on_into_the_name, DNS_E_PTR_OVERRUN,
    raw_query(r, 2, 0, 0, "a.lab"); raw_u16(r, 0xc00c); raw_rr(r, DNS_T_TXT, 3);
    raw_bytes(r, "\2\1z", 3); raw_u16(r, 0xc000 | 36); raw_rr(r, DNS_T_A, 4);
    raw_u32(r, 0))
BAD(answer_owner_label_type, DNS_E_LABEL_LEN, raw_query(r, 1, 0, 0, "a");
    raw_u8(r, 0x40); raw_rr(r, DNS_T_A, 4); raw_u32(r, 0))
BAD(answer_owner_pointer_into_header, DNS_E_PTR_HEADER,
    raw_query(r, 1, 0, 0, "a"); raw_u16(r, 0xc000 | 11);
    raw_rr(r, DNS_T_A, 4); raw_u32(r, 0))

/* --- record framing --- */
BAD(record_missing, DNS_E_TRUNC, raw_query(r, 1, 0, 0, "a.lab"))
BAD(record_fixed_part_short, DNS_E_TRUNC, raw_query(r, 1, 0, 0, "a.lab");
    raw_u16(r, 0xc00c); raw_u32(r, 0x00010001); raw_u8(r, 0))
BAD(rdlength_past_end, DNS_E_RDLEN, raw_query(r, 1, 0, 0, "a.lab");
    raw_u16(r, 0xc00c); raw_rr(r, DNS_T_A, 4); raw_u16(r, 0))
BAD(rdlength_past_end_in_additional, DNS_E_RDLEN,
    raw_query(r, 0, 0, 1, "a.lab"); raw_u16(r, 0xc00c);
    raw_rr(r, DNS_T_TXT, 200); raw_bytes(r, "\3abc", 4))
BAD(octets_after_question, DNS_E_TRAILING, raw_query(r, 0, 0, 0, "a.lab");
    raw_u8(r, 0))
BAD(octets_after_last_record, DNS_E_TRAILING, one_rr(r, DNS_T_A, "\1\2\3\4", 4);
    raw_u16(r, 0))
BAD(count_larger_than_records, DNS_E_TRUNC, one_rr(r, DNS_T_A, "\1\2\3\4", 4);
    r->b[7] = 2)

/* --- RDATA by type --- */
BAD(a_three_octets, DNS_E_RDATA_LEN, one_rr(r, DNS_T_A, "\1\2\3", 3))
BAD(a_five_octets, DNS_E_RDATA_LEN, one_rr(r, DNS_T_A, "\1\2\3\4\5", 5))
BAD(aaaa_four_octets, DNS_E_RDATA_LEN, one_rr(r, DNS_T_AAAA, "\1\2\3\4", 4))
BAD(ns_name_past_rdata, DNS_E_RDATA_LEN, one_rr(r, DNS_T_NS, "\3ns1\0", 3);
    raw_bytes(r, "\0\0", 2))
BAD(ns_octet_after_name, DNS_E_RDATA_LEN, one_rr(r, DNS_T_NS, "\2ns\0\0", 5))
BAD(cname_forward_pointer, DNS_E_PTR_FORWARD,
    one_rr(r, DNS_T_CNAME, "\xc0\xff", 2))
BAD(dname_compressed, DNS_E_PTR_NOT_ALLOWED,
    one_rr(r, DNS_T_DNAME, "\1x\xc0\x0c", 4))
BAD(soa_short_fixed_fields, DNS_E_RDATA_LEN,
    one_rr(r, DNS_T_SOA, "\0\0" "0123456789012345678", 21))
BAD(mx_one_octet, DNS_E_RDATA_LEN, one_rr(r, DNS_T_MX, "\1", 1))
BAD(txt_empty, DNS_E_RDATA_LEN, one_rr(r, DNS_T_TXT, "", 0))
BAD(txt_string_overrun, DNS_E_TXT_STRING, one_rr(r, DNS_T_TXT, "\2ab\5cd", 6))
BAD(srv_short, DNS_E_RDATA_LEN, one_rr(r, DNS_T_SRV, "\0\1\0\2\0", 5))
BAD(ds_sha256_with_sha1_length, DNS_E_DS_DIGEST,
    raw_query(r, 1, 0, 0, "a.lab"); raw_u16(r, 0xc00c);
    raw_rr(r, DNS_T_DS, 24); raw_bytes(r, ds_head, 4);
    for (int i = 0; i < 20; i++) raw_u8(r, (uint8_t)i))
BAD(ds_without_digest, DNS_E_RDATA_LEN, one_rr(r, DNS_T_DS, ds_head, 4))
BAD(dnskey_three_octets, DNS_E_RDATA_LEN, one_rr(r, DNS_T_DNSKEY, "\1\1\3", 3))
BAD(rrsig_seventeen_octets, DNS_E_RDATA_LEN,
    one_rr(r, DNS_T_RRSIG, "0123456789abcdefg", 17))
BAD(rrsig_signer_compressed, DNS_E_PTR_NOT_ALLOWED,
    one_rr(r, DNS_T_RRSIG, "0123456789abcdef01\xc0\x0cSIG", 23))
BAD(rrsig_without_signature, DNS_E_RDATA_LEN,
    one_rr(r, DNS_T_RRSIG, "0123456789abcdef01\0", 19))
BAD(nsec_next_compressed, DNS_E_PTR_NOT_ALLOWED,
    one_rr(r, DNS_T_NSEC, "\xc0\x0c\0\1\x40", 5))
BAD(nsec_window_length_zero, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\0\0", 5))
BAD(nsec_window_length_33, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\0\x21", 5))
BAD(nsec_windows_out_of_order, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\1\1\x40\0\1\x40", 9))
BAD(nsec_window_past_rdata, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\0\5\x40", 6))
BAD(nsec_window_trailing_zero_octet, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\0\2\x40\0", 7))
BAD(nsec_empty_window, DNS_E_BITMAP,
    one_rr(r, DNS_T_NSEC, "\1b\0\0\1\0", 6))
BAD(nsec3_sha1_hash_19_octets, DNS_E_NSEC3,
    raw_query(r, 1, 0, 0, "a.lab"); raw_u16(r, 0xc00c);
    raw_rr(r, DNS_T_NSEC3, 25); raw_bytes(r, "\1\0\0\0\0\x13", 6);
    for (int i = 0; i < 19; i++) raw_u8(r, (uint8_t)i))
BAD(nsec3_salt_past_rdata, DNS_E_NSEC3,
    one_rr(r, DNS_T_NSEC3, "\1\0\0\0\x09\1\2", 7))
BAD(nsec3param_salt_length_mismatch, DNS_E_NSEC3,
    one_rr(r, DNS_T_NSEC3PARAM, "\1\0\0\0\2\xaa", 6))

/* --- EDNS --- */
BAD(opt_in_answer, DNS_E_OPT_SECTION, raw_query(r, 1, 0, 0, "a.lab");
    opt_rr(r, "", 0))
BAD(opt_owner_not_root, DNS_E_OPT_OWNER, raw_query(r, 0, 0, 1, "a.lab");
    raw_u16(r, 0xc00c); raw_u16(r, DNS_T_OPT); raw_u16(r, 1232);
    raw_u32(r, 0); raw_u16(r, 0))
BAD(opt_owner_pointer_to_root, DNS_E_OPT_OWNER, raw_hdr(r, 1, 0, 0, 1);
    raw_u8(r, 0); raw_u32(r, 0x00020001); raw_u16(r, 0xc00c);
    raw_u16(r, DNS_T_OPT); raw_u16(r, 1232); raw_u32(r, 0); raw_u16(r, 0))
BAD(two_opts, DNS_E_OPT_DUP, raw_query(r, 0, 0, 2, "a.lab"); opt_rr(r, "", 0);
    opt_rr(r, "", 0))
BAD(option_past_rdata, DNS_E_OPT_LEN, raw_query(r, 0, 0, 1, "a.lab");
    opt_rr(r, "\0\3\0\5ab", 6))
BAD(option_header_short, DNS_E_OPT_LEN, raw_query(r, 0, 0, 1, "a.lab");
    opt_rr(r, "\0\3\0", 3))
BAD(cookie_seven_octets, DNS_E_COOKIE_LEN, raw_query(r, 0, 0, 1, "a.lab");
    opt_rr(r, "\0\12\0\7" "1234567", 11))
BAD(cookie_twelve_octets, DNS_E_COOKIE_LEN, raw_query(r, 0, 0, 1, "a.lab");
    opt_rr(r, "\0\12\0\14" "123456789012", 16))
BAD(cookie_41_octets, DNS_E_COOKIE_LEN, raw_query(r, 0, 0, 1, "a.lab");
    opt_rr(r, "\0\12\0\51" "12345678901234567890123456789012345678901", 45))

/* Names in the other types RFC 3597 4 says receivers decompress. */
Test(malformed, compressed_names_in_older_types_decompress)
{
	static const struct {
		uint16_t type;
		const char *rdata;
		uint16_t len;
		const char *unpacked;
		uint16_t unpacked_len;
	} cases[] = {
		{ DNS_T_MB, "\1m\xc0\x0c", 4, "\1m\1a\3lab\0", 9 },
		{ DNS_T_MINFO, "\xc0\x0c\1e\xc0\x0c", 6,
		  "\1a\3lab\0\1e\1a\3lab\0", 16 },
		{ DNS_T_AFSDB, "\0\1\xc0\x0c", 4, "\0\1\1a\3lab\0", 9 },
		{ DNS_T_RT, "\0\2\1r\xc0\x0c", 6, "\0\2\1r\1a\3lab\0", 11 },
		{ DNS_T_NAPTR, "\0\1\0\2\1u\3E2U\0\xc0\x0c", 13,
		  "\0\1\0\2\1u\3E2U\0\1a\3lab\0", 18 },
	};
	struct raw raw = { .n = 0 }, *r = &raw;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_msg m;
		struct dns_rr_iter it;
		struct dns_rr rr;
		uint8_t out[64];

		one_rr(r, cases[i].type, cases[i].rdata, cases[i].len);
		cr_assert_eq(dns_msg_parse(&m, r->b, r->n), 0, "case %zu", i);
		dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
		cr_assert_eq(dns_rr_next(&it, &rr), 1);
		cr_assert_eq(dns_rr_rdata(&m, &rr, out, sizeof(out)),
			     cases[i].unpacked_len, "case %zu", i);
		cr_assert_arr_eq(out, cases[i].unpacked, cases[i].unpacked_len,
				 "case %zu", i);
	}
}

/* The neighbours that must parse: the corpus tests the rules, not "reject". */
Test(malformed, well_formed_neighbours_parse)
{
	struct raw raw = { .n = 0 }, *r = &raw;

	one_rr(r, DNS_T_A, "\1\2\3\4", 4);
	expect(r, 0);
	/* a pointer into a TXT's octets whose name ends before the owner
	 * that points ("z.", offsets 36-38; the owner at 39) */
	raw_query(r, 2, 0, 0, "a.lab");
	raw_u16(r, 0xc00c);
	raw_rr(r, DNS_T_TXT, 4);
	raw_bytes(r, "\3\1z\0", 4);
	raw_u16(r, 0xc000 | 36);
	raw_rr(r, DNS_T_A, 4);
	raw_u32(r, 0);
	expect(r, 0);
	one_rr(r, DNS_T_CNAME, "\1x\xc0\x0c", 4);
	expect(r, 0);
	one_rr(r, DNS_T_SRV, "\0\1\0\2\0\3\xc0\x0c", 8);
	expect(r, 0);
	one_rr(r, DNS_T_DNAME, "\1x\0", 3);
	expect(r, 0);
	one_rr(r, DNS_T_NSEC, "\1b\0\0\1\x40\1\1\x40", 9);
	expect(r, 0);
	one_rr(r, DNS_T_NSEC, "\1b\0", 3);
	expect(r, 0);
	one_rr(r, DNS_T_TXT, "\0", 1);
	expect(r, 0);
	raw_query(r, 0, 0, 1, "a.lab");
	opt_rr(r, "\0\12\0\10" "12345678", 12);
	expect(r, 0);
	raw_query(r, 0, 0, 1, "a.lab");
	opt_rr(r, "\0\12\0\20" "1234567812345678", 20);
	expect(r, 0);
	raw_hdr(r, 0, 0, 0, 0);
	expect(r, 0);
	/* RFC 2136 deletions: class ANY or NONE with empty RDATA of any type. */
	raw_query(r, 1, 0, 0, "a.lab");
	raw_u16(r, 0xc00c);
	raw_u16(r, DNS_T_MX);
	raw_u16(r, DNS_C_ANY);
	raw_u32(r, 0);
	raw_u16(r, 0);
	expect(r, 0);
	/* Unknown types are opaque, even when empty. */
	one_rr(r, 65280, "", 0);
	expect(r, 0);
	/* In class CH an A record is not 4 octets (RFC 3597 5). */
	raw_query(r, 1, 0, 0, "a.lab");
	raw_u16(r, 0xc00c);
	raw_u16(r, DNS_T_A);
	raw_u16(r, DNS_C_CH);
	raw_u32(r, 0);
	raw_u16(r, 3);
	raw_bytes(r, "\0\0\1", 3);
	expect(r, 0);
}

Test(malformed, ttl_with_top_bit_reads_as_zero)
{
	struct raw raw = { .n = 0 }, *r = &raw;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	one_rr(r, DNS_T_A, "\1\2\3\4", 4);
	dns_put32(r->b + r->n - 10, 0x80000001u);
	cr_assert_eq(dns_msg_parse(&m, r->b, r->n), 0);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.ttl, 0);
	cr_assert_eq(rr.ttl_off, r->n - 10);
}
