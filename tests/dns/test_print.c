/*
 * tests/dns/test_print.c: dig-like presentation of whole messages, type and
 * class mnemonics, and truncation of the output buffer.
 */
#include "testutil.h"

#include "dns/build.h"
#include "dns/msg.h"
#include "dns/print.h"

Test(print, message_like_dig)
{
	uint8_t buf[512];
	char text[2048];
	struct dns_builder b;
	struct dns_msg m;

	dns_builder_init(&b, buf, sizeof(buf), 4660,
			 DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_R_NXDOMAIN);
	dns_builder_question(&b, nm("nope.shop.lab"), DNS_T_AAAA, DNS_C_IN);
	dns_builder_rr(&b, DNS_SEC_AUTHORITY, nm("shop.lab"), DNS_T_SOA, DNS_C_IN,
		       300,
		       (const uint8_t *)"\2ns\4shop\3lab\0\2hm\4shop\3lab\0"
					"\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5",
		       46);
	dns_builder_opt(&b, 1232, 0, 0, DNS_EDNS_F_DO, NULL, 0);
	cr_assert_eq(dns_msg_parse(&m, buf, dns_builder_finish(&b)), 0);
	cr_assert_gt(dns_msg_to_str(&m, text, sizeof(text)), 0);
	cr_assert_str_eq(text,
		";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 4660\n"
		";; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1\n"
		"\n"
		";; OPT PSEUDOSECTION:\n"
		"; EDNS: version: 0, flags: do; udp: 1232\n"
		"\n"
		";; QUESTION SECTION:\n"
		";nope.shop.lab.\t\tIN\tAAAA\n"
		"\n"
		";; AUTHORITY SECTION:\n"
		"shop.lab.\t300\tIN\tSOA\tns.shop.lab. hm.shop.lab. 1 2 3 4 5\n");
	cr_assert_eq(dns_msg_to_str(&m, text, 40), DNS_E_SPACE);
	cr_assert_eq(strlen(text), 39);
}

Test(print, mnemonics)
{
	char t[32];

	dns_type_to_str(DNS_T_NSEC3, t, sizeof(t));
	cr_assert_str_eq(t, "NSEC3");
	dns_type_to_str(65280, t, sizeof(t));
	cr_assert_str_eq(t, "TYPE65280");
	dns_class_to_str(DNS_C_CH, t, sizeof(t));
	cr_assert_str_eq(t, "CH");
	dns_class_to_str(42, t, sizeof(t));
	cr_assert_str_eq(t, "CLASS42");
	cr_assert_eq(dns_type_from_str("aaaa"), DNS_T_AAAA);
	cr_assert_eq(dns_type_from_str("TYPE65280"), 65280);
	cr_assert_eq(dns_type_from_str("TYPE65536"), DNS_E_SYNTAX);
	cr_assert_eq(dns_type_from_str("TYPE"), DNS_E_SYNTAX);
	cr_assert_eq(dns_type_from_str("BOGUS"), DNS_E_SYNTAX);
	cr_assert_str_eq(dns_rcode_str(DNS_R_SERVFAIL), "SERVFAIL");
	cr_assert_str_eq(dns_rcode_str(DNS_R_BADCOOKIE), "BADCOOKIE");
	cr_assert_null(dns_rcode_str(12));
	cr_assert_str_eq(dns_strerror(DNS_E_PTR_LOOP), "compression pointer loops");
}

Test(print, unknown_and_invalid_rdata_in_generic_form)
{
	char t[64];

	dns_rdata_to_str(65280, (const uint8_t *)"\1\xab", 2, t, sizeof(t));
	cr_assert_str_eq(t, "\\# 2 01AB");
	dns_rdata_to_str(DNS_T_A, (const uint8_t *)"\1\2\3", 3, t, sizeof(t));
	cr_assert_str_eq(t, "\\# 3 010203");
	dns_rdata_to_str(65280, NULL, 0, t, sizeof(t));
	cr_assert_str_eq(t, "\\# 0");
}
