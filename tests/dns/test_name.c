/*
 * tests/dns/test_name.c: wire names: parsing with compression, case,
 * comparison, canonical order (RFC 4034 6.1 vectors), the bailiwick test and
 * presentation conversion.
 */
#include "testutil.h"

Test(name, parse_uncompressed_keeps_case)
{
	static const uint8_t msg[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				       3, 'W', 'w', 'W', 2, 'e', 'X', 0, 0xff };
	uint8_t out[DNS_NAME_MAX];
	size_t pos = 12;

	cr_assert_eq(dns_name_parse(msg, sizeof(msg), &pos, out), 8);
	cr_assert_eq(pos, 20);
	cr_assert_arr_eq(out, msg + 12, 8);
}

Test(name, parse_follows_pointers_and_stops_after_first)
{
	/* 12: "b.c." ; 17: "a" + ptr(12) ; 21: ptr(17) */
	static const uint8_t msg[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				       1, 'b', 1, 'c', 0,
				       1, 'a', 0xc0, 12,
				       0xc0, 17 };
	uint8_t out[DNS_NAME_MAX];
	size_t pos = 21;

	cr_assert_eq(dns_name_parse(msg, sizeof(msg), &pos, out), 7);
	cr_assert_eq(pos, 23, "pos after the first pointer");
	cr_assert(dns_name_equal(out, nm("a.b.c")));
	pos = 17;
	cr_assert_eq(dns_name_parse(msg, sizeof(msg), &pos, NULL), 7);
	cr_assert_eq(pos, 21);
}

Test(name, parse_rejects_each_problem_with_its_code)
{
	uint8_t m[300] = { 0 };
	size_t pos;

	/* label type 01 */
	m[12] = 0x41;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 20, &pos, NULL), DNS_E_LABEL_LEN);
	/* forward pointer */
	m[12] = 0xc0; m[13] = 14; m[14] = 0;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 20, &pos, NULL), DNS_E_PTR_FORWARD);
	/* pointer to itself */
	m[13] = 12;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 20, &pos, NULL), DNS_E_PTR_LOOP);
	/* pointer into the header */
	m[13] = 2;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 20, &pos, NULL), DNS_E_PTR_HEADER);
	/* truncated: pointer's second octet missing */
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 13, &pos, NULL), DNS_E_TRUNC);
	/* truncated: label runs past the end */
	m[12] = 5;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, 15, &pos, NULL), DNS_E_TRUNC);
	/* 4 labels of 63: 257 octets */
	for (int i = 0; i < 4; i++)
		m[12 + 64 * i] = 63;
	m[12 + 256] = 0;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, sizeof(m), &pos, NULL), DNS_E_NAME_LEN);
	/* 3 x 63 + 61: exactly 255 is fine */
	m[12 + 192] = 61;
	m[12 + 254] = 0;
	pos = 12;
	cr_assert_eq(dns_name_parse(m, sizeof(m), &pos, NULL), 255);
}

Test(name, check_refuses_pointers)
{
	static const uint8_t n[] = { 1, 'a', 0xc0, 12 };

	cr_assert_eq(dns_name_check(n, sizeof(n)), DNS_E_PTR_NOT_ALLOWED);
	cr_assert_eq(dns_name_check(n, 2), DNS_E_TRUNC);
	cr_assert_eq(dns_name_check((const uint8_t *)"\0", 1), 1);
}

Test(name, lower_and_equal)
{
	uint8_t n[DNS_NAME_MAX], l[DNS_NAME_MAX];

	memcpy(n, nm("WwW.ExAmPlE.CoM"), 17);
	cr_assert(dns_name_equal(n, nm("www.example.com")));
	cr_assert_not(dns_name_equal(n, nm("www.example.co")));
	cr_assert_not(dns_name_equal(nm("a.b"), nm("ab")));
	cr_assert_eq(dns_name_copy_lower(l, n), 17);
	cr_assert_arr_eq(l, nm("www.example.com"), 17);
	dns_name_lower(n);
	cr_assert_arr_eq(n, l, 17);
	/* Only ASCII letters fold: not Latin-1 (\192 vs \224 would be A-grave
	 * in both cases), and not the neighbours of A-Z and a-z. */
	cr_assert_not(dns_name_equal(nm("\\192"), nm("\\224")));
	cr_assert_not(dns_name_equal(nm("\\@"), nm("`")));
	cr_assert_not(dns_name_equal(nm("["), nm("{")));
	cr_assert(dns_name_equal(nm("AZ"), nm("az")));
}

Test(name, copy_lower_matches_the_table_for_every_octet)
{
	/* Long names take the 8-octet path, short ones the table path. */
	for (int len = 1; len <= 20; len += 19)
		for (int c = 0; c < 256; c++) {
			uint8_t name[32], low[32];
			name[0] = (uint8_t)len;
			memset(name + 1, c, (size_t)len);
			name[1] = 'Q';
			name[len + 1] = 0;
			cr_assert_eq(dns_name_copy_lower(low, name), (size_t)len + 2);
			for (int i = 1; i <= len; i++)
				cr_assert_eq(low[i], dns_lower[name[i]], "octet %d", c);
		}
}

Test(name, labels)
{
	cr_assert_eq(dns_name_labels(nm(".")), 0);
	cr_assert_eq(dns_name_labels(nm("com")), 1);
	cr_assert_eq(dns_name_labels(nm("www.example.com.")), 3);
}

Test(name, canonical_order_rfc4034_example)
{
	static const char *const order[] = {
		"example", "a.example", "yljkjljk.a.example", "Z.a.example",
		"zABC.a.EXAMPLE", "z.example", "\\001.z.example",
		"*.z.example", "\\200.z.example",
	};
	const size_t n = sizeof(order) / sizeof(order[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
			memcpy(a, nm(order[i]), DNS_NAME_MAX);
			memcpy(b, nm(order[j]), DNS_NAME_MAX);
			int c = dns_name_cmp(a, b);
			if (i < j)
				cr_assert_lt(c, 0, "%s < %s", order[i], order[j]);
			else if (i > j)
				cr_assert_gt(c, 0, "%s > %s", order[i], order[j]);
			else
				cr_assert_eq(c, 0, "%s == %s", order[i], order[j]);
		}
	cr_assert_lt(dns_name_cmp(nm("."), nm("a")), 0);
	cr_assert_eq(dns_name_cmp(nm("A.B"), nm("a.b")), 0);
}

Test(name, subdomain_respects_label_boundaries)
{
	cr_assert(dns_name_is_subdomain(nm("www.example.com"), nm("example.com")));
	cr_assert(dns_name_is_subdomain(nm("EXAMPLE.com"), nm("example.COM")));
	cr_assert(dns_name_is_subdomain(nm("a.b"), nm(".")));
	cr_assert(dns_name_is_subdomain(nm("."), nm(".")));
	cr_assert_not(dns_name_is_subdomain(nm("xample.com"), nm("ample.com")));
	cr_assert_not(dns_name_is_subdomain(nm("example.com"), nm("www.example.com")));
	cr_assert_not(dns_name_is_subdomain(nm("example.net"), nm("example.com")));
	cr_assert_not(dns_name_is_subdomain(nm("."), nm("com")));
	/* A label that contains a dot is not two labels. */
	cr_assert_not(dns_name_is_subdomain(nm("evil\\.example.com"),
					    nm("example.com")));
	cr_assert_not(dns_name_is_subdomain(nm("a.evil\\.com"), nm("com")));
	cr_assert(dns_name_is_subdomain(nm("evil\\.example.com"), nm("com")));
}

Test(name, to_str_escapes)
{
	char buf[64];

	cr_assert_eq(dns_name_to_str(nm("."), buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, ".");
	dns_name_to_str(nm("a\\.b.c"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "a\\.b.c.");
	dns_name_to_str(nm("\\000\\032x\\\\\\\"\\(\\)\\;\\@\\$.\\255"), buf,
			sizeof(buf));
	cr_assert_str_eq(buf, "\\000\\032x\\\\\\\"\\(\\)\\;\\@\\$.\\255.");
	cr_assert_eq(dns_name_to_str(nm("abc.def"), buf, 5), DNS_E_SPACE);
	cr_assert_str_eq(buf, "abc.");
	cr_assert_eq(dns_name_to_str(nm("abc.def"), buf, 9), 8);
	cr_assert_eq(dns_name_to_str(nm("abc.def"), buf, 8), DNS_E_SPACE);
}

Test(name, from_str_rules)
{
	uint8_t out[DNS_NAME_MAX];
	char big[400];

	cr_assert_eq(dns_name_from_str("a.b.", out), 5);
	cr_assert_arr_eq(out, "\1a\1b", 5);
	cr_assert_eq(dns_name_from_str("a.b", out), 5);
	cr_assert_eq(dns_name_from_str(".", out), 1);
	cr_assert_eq(dns_name_from_str("", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str("a..b", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str(".a", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str("a\\", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str("a\\25", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str("a\\256", out), DNS_E_SYNTAX);
	cr_assert_eq(dns_name_from_str("\\065\\.", out), 4);
	cr_assert_arr_eq(out, "\2A.", 4);
	memset(big, 'x', 64);
	big[64] = 0;
	cr_assert_eq(dns_name_from_str(big, out), DNS_E_LABEL_LEN);
	big[63] = 0;
	cr_assert_eq(dns_name_from_str(big, out), 65);
	/* 3 x 63 + 61 octet labels: 255 with and without the trailing dot */
	memset(big, 'x', sizeof(big));
	big[63] = big[127] = big[191] = '.';
	big[253] = 0;
	cr_assert_eq(dns_name_from_str(big, out), 255);
	big[253] = '.';
	big[254] = 0;
	cr_assert_eq(dns_name_from_str(big, out), 255);
	big[253] = 'x';
	cr_assert_eq(dns_name_from_str(big, out), DNS_E_NAME_LEN);
}

Test(name, str_round_trip_every_octet)
{
	uint8_t name[DNS_NAME_MAX], back[DNS_NAME_MAX];
	char buf[DNS_NAME_MAX * 4 + 2];

	for (int c = 0; c < 256; c++) {
		name[0] = 1;
		name[1] = (uint8_t)c;
		name[2] = 0;
		cr_assert_gt(dns_name_to_str(name, buf, sizeof(buf)), 0);
		cr_assert_eq(dns_name_from_str(buf, back), 3, "octet %d: %s", c, buf);
		cr_assert_arr_eq(back, name, 3, "octet %d: %s", c, buf);
	}
}
