/*
 * tests/control/test_anchor.c: the trust anchor file (control/anchor.h):
 * what the lab world and IANA write is read, anything else is refused
 * with its file and line, and the closest anchor above a name is found.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/anchor.h"
#include "control/err.h"
#include "dns/name.h"

static struct ctl_anchors t;
static char err[512];

static int parse(const char *text)
{
	err[0] = 0;
	return ctl_anchors_parse(&t, text, strlen(text), "root.key", err, sizeof(err));
}

static const uint8_t *nm(const char *s)
{
	static __thread uint8_t ring[8][DNS_NAME_MAX];
	static __thread unsigned next;
	uint8_t *out = ring[next++ % 8];

	cr_assert(dns_name_from_str(s, out) > 0);
	return out;
}

Test(anchor, ds_and_dnskey_records_of_several_names_are_read)
{
	cr_assert_eq(parse("; the root, as the lab world writes it\n"
			   ". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
			   ".\tIN DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )\n"
			   "example.  IN  DS  12345 13 4 ( 0123456789abcdef0123456789abcdef\n"
			   "   0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef )\n"
			   "Example. IN DS 12345 13 4 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"),
		     0, "%s", err);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(t.a[0].ds.n, 1);
	cr_assert_eq(t.a[0].keys.n, 1);
	cr_assert_eq(t.a[0].keys.rr[0].len, 4 + 32);
	cr_assert_eq(t.a[1].ds.n, 1, "the duplicate (another case) is kept once");
	cr_assert_eq(t.a[1].ds.rr[0].len, 4 + 48);
	cr_assert_eq(t.a[0].ds.ttl, 3600);
	cr_assert(dns_name_equal(t.a[1].owner, nm("example.")));

	cr_assert_eq(ctl_anchors_find(&t, nm("www.example.")), &t.a[1]);
	cr_assert_eq(ctl_anchors_find(&t, nm("example.")), &t.a[1]);
	cr_assert_eq(ctl_anchors_find(&t, nm("com.")), &t.a[0]);
}

Test(anchor, anything_else_is_refused_with_file_and_line)
{
	static const struct {
		const char *text, *want;
	} v[] = {
		{ ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
		  ". IN A 192.0.2.1\n", "root.key:2: a trust anchor is a DS or DNSKEY record" },
		{ "\n\n. IN DNSKEY 0 3 8 AwEAAQ==\n", "root.key:3: DNSKEY without the zone key flag" },
		{ ". IN DNSKEY 385 3 8 AwEAAQ==\n", "root.key:1: DNSKEY with the REVOKE flag" },
		{ ". IN DNSKEY 257 2 8 AwEAAQ==\n", "root.key:1: DNSKEY protocol must be 3" },
		{ ". CH DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n",
		  "root.key:1: " /* the scanner knows DS in class IN only */ },
		{ ". IN DS 20326 8 2 E06D\n", "root.key:1: malformed or oversized RDATA" },
		{ ". IN DS 20326 8 2 XYZ\n", "root.key:1: " },
		{ "; nothing\n", "root.key: no DS or DNSKEY record" },
		{ "$INCLUDE /etc/passwd\n", "root.key:1: $INCLUDE is not allowed" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(parse(v[i].text), CTL_E_ANCHOR, "case %zu", i);
		cr_assert(strncmp(err, v[i].want, strlen(v[i].want)) == 0,
			  "case %zu: '%s' does not start with '%s'", i, err, v[i].want);
		cr_assert_eq(t.n, 0, "case %zu: nothing half-filled", i);
	}
	cr_assert_eq(ctl_anchors_load(&t, "/nonexistent/root.key", err, sizeof(err)), CTL_E_ANCHOR);
	cr_assert(strncmp(err, "/nonexistent/root.key: ", 23) == 0, "%s", err);
}

Test(anchor, too_many_records_for_one_name_are_refused)
{
	char text[8192] = "";

	for (int i = 0; i <= CTL_ANCHOR_RR_MAX; i++)
		sprintf(text + strlen(text), ". IN DS %d 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", i);
	cr_assert_eq(parse(text), CTL_E_ANCHOR);
	cr_assert(strstr(err, ":17: too many records"), "%s", err);
}

/* A reload applies anchors whose records differ: comments and spacing do
 * not count, a digest does. */
Test(anchor, the_identity_follows_the_records_not_the_text)
{
	static const char a[] = ". IN DS 12345 13 2 "
				"c90b6d2823c63d438e5451187e5e8d4563745865f5ca4ab8bd37330aaaaaaaaa\n";
	static const char b[] = "; the same, said otherwise\n.  86400 IN  DS 12345 13 2 "
				"C90B6D2823C63D438E5451187E5E8D4563745865F5CA4AB8BD37330AAAAAAAAA\n";
	static const char c[] = ". IN DS 12345 13 2 "
				"c90b6d2823c63d438e5451187e5e8d4563745865f5ca4ab8bd37330aaaaaaaab\n";

	cr_assert_eq(parse(a), 0, "%s", err);
	uint64_t ia = ctl_anchors_id(&t);
	cr_assert_eq(parse(b), 0, "%s", err);
	cr_assert_eq(ctl_anchors_id(&t), ia);
	cr_assert_eq(parse(c), 0, "%s", err);
	cr_assert_neq(ctl_anchors_id(&t), ia);
}
