/*
 * tests/control/test_rpz.c: the response policy zone reader
 * (control/rpz.h): every trigger encoding of the draft, valid and not,
 * every CNAME action and local data, an owner's records grouped wherever
 * they are in the file, each rejection reported with its file and line
 * while the rest loads, the whole-zone failures, a file read from disk,
 * and a generated zone of 200 000 rules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer/policy.h"
#include "control/err.h"
#include "control/rpz.h"
#include "dns/name.h"

/* The zone's head: lines 1 to 3, so the first record below is line 4. */
#define HEAD                                                                     \
	"$TTL 300\n"                                                             \
	"@ SOA ns.rpz.example. hostmaster.rpz.example. ( 2024010101 3600 600 86400 60 )\n" \
	"@ NS ns.example.\n"

#define REPORTS_MAX 64

static struct policy_zone z;
static char err[512];
static char reports[REPORTS_MAX][512];
static unsigned n_reports;

static void collect(void *arg, const char *line)
{
	(void)arg;
	if (n_reports < REPORTS_MAX)
		snprintf(reports[n_reports], sizeof(reports[0]), "%s", line);
	n_reports++;
}

static const uint8_t *nm(const char *s)
{
	static uint8_t ring[8][DNS_NAME_MAX];
	static unsigned next;
	uint8_t *out = ring[next++ % 8];

	cr_assert(dns_name_from_str(s, out) > 0);
	return out;
}

static int parse_origin(const char *text, const char *origin)
{
	err[0] = 0;
	n_reports = 0;
	return ctl_rpz_parse(&z, text, strlen(text), "rpz.zone", nm(origin), collect, NULL,
			     err, sizeof(err));
}

static int parse(const char *text)
{
	return parse_origin(text, "rpz.example.");
}

static void teardown(void)
{
	policy_zone_fini(&z);
}

TestSuite(rpz, .init = teardown, .fini = teardown);

/* A wire-form literal: "\003www\007example" (the string's NUL is the root
 * label, so sizeof counts it). */
#define NAME_IS(r, lit)                                                          \
	do {                                                                     \
		cr_assert_eq((r)->name_len, sizeof(lit), "name length %u", (r)->name_len); \
		cr_assert(memcmp(z.data + (r)->name_off, lit, sizeof(lit)) == 0, "name"); \
	} while (0)

#define RDATA_IS(rr, lit, n)                                                     \
	do {                                                                     \
		cr_assert_eq((rr)->rdlen, (n), "rdlen %u", (rr)->rdlen);         \
		cr_assert(memcmp(z.data + (rr)->off, lit, (n)) == 0, "rdata");   \
	} while (0)

static void addr_is(const struct policy_rule *r, int family, unsigned plen, const uint8_t *want)
{
	cr_assert_eq(r->family, family);
	cr_assert_eq(r->plen, plen);
	for (unsigned i = 0; i < 16; i++)
		cr_assert_eq(r->addr[i], want[i], "octet %u: %u, not %u", i, r->addr[i], want[i]);
	cr_assert_eq(r->name_len, 0);
}

static void no_reports(void)
{
	cr_assert_eq(n_reports, 0, "unexpected report: %s", reports[0]);
	cr_assert_eq(z.counts.rejected, 0);
}

Test(rpz, soa_and_ns_at_the_origin_fill_the_zone)
{
	cr_assert_eq(parse_origin(HEAD, "RPZ.Example."), 0, "%s", err);
	no_reports();
	cr_assert(memcmp(z.origin, "\003rpz\007example", 13) == 0, "origin lower-cased");
	cr_assert_eq(z.serial, 2024010101);
	cr_assert_eq(z.soa_ttl, 60, "min(SOA TTL 300, minimum 60)");
	static const uint8_t soa[] = "\002ns\003rpz\007example\000"
				     "\012hostmaster\003rpz\007example\000"
				     "\x78\xa3\xf1\x75" "\x00\x00\x0e\x10" "\x00\x00\x02\x58"
				     "\x00\x01\x51\x80" "\x00\x00\x00\x3c";
	cr_assert_eq(z.soa_rdlen, sizeof(soa) - 1);
	cr_assert(memcmp(z.data + z.soa_off, soa, sizeof(soa) - 1) == 0);
	cr_assert_eq(z.counts.records, 2);
	cr_assert_eq(z.counts.rules, 0);
	cr_assert_eq(z.n_rule, 0);
}

Test(rpz, soa_ttl_is_the_record_ttl_when_lower_than_the_minimum)
{
	cr_assert_eq(parse("@ 30 SOA ns hm 7 3600 600 86400 600\n"), 0, "%s", err);
	cr_assert_eq(z.soa_ttl, 30);
	cr_assert_eq(z.serial, 7);
}

Test(rpz, qname_exact_and_wildcard_names_are_lower_cased_wire)
{
	cr_assert_eq(parse(HEAD "WWW.Bad.Example CNAME .\n"
			   "*.bad.example CNAME .\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 2);
	const struct policy_rule *r = &z.rule[0];
	cr_assert_eq(r->trigger, POLICY_T_QNAME);
	cr_assert_eq(r->wild, 0);
	cr_assert_eq(r->line, 4);
	NAME_IS(r, "\003www\003bad\007example");
	r = &z.rule[1];
	cr_assert_eq(r->trigger, POLICY_T_QNAME);
	cr_assert_eq(r->wild, 1);
	cr_assert_eq(r->line, 5);
	NAME_IS(r, "\003bad\007example");
	cr_assert_eq(z.counts.rules, 2);
	cr_assert_eq(z.counts.by_trigger[POLICY_T_QNAME], 2);
	cr_assert_eq(z.counts.records, 4);
}

Test(rpz, star_alone_is_a_wildcard_of_the_root)
{
	cr_assert_eq(parse(HEAD "* CNAME .\n"), 0, "%s", err);
	cr_assert_eq(z.n_rule, 1);
	cr_assert_eq(z.rule[0].wild, 1);
	NAME_IS(&z.rule[0], "");
}

Test(rpz, star_not_leftmost_is_rejected)
{
	cr_assert_eq(parse(HEAD "a.*.b CNAME .\n"
			   "ok CNAME .\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 1);
	cr_assert_str_eq(reports[0],
			 "rpz.zone:4: a.*.b.rpz.example.: a '*' label is allowed leftmost only");
	cr_assert_eq(z.counts.rejected, 1);
	cr_assert_eq(z.n_rule, 1);
	NAME_IS(&z.rule[0], "\002ok");
}

Test(rpz, client_ip_v4_prefixes)
{
	cr_assert_eq(parse(HEAD "32.1.2.0.192.rpz-client-ip CNAME .\n"
			   "24.0.2.0.192.rpz-client-ip CNAME rpz-drop.\n"
			   "8.0.0.0.10.rpz-client-ip CNAME .\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 3);
	cr_assert_eq(z.rule[0].trigger, POLICY_T_CLIENT_IP);
	addr_is(&z.rule[0], 4, 32, (const uint8_t[16]){ 192, 0, 2, 1 });
	addr_is(&z.rule[1], 4, 24, (const uint8_t[16]){ 192, 0, 2, 0 });
	cr_assert_eq(z.rule[1].action, POLICY_A_DROP);
	addr_is(&z.rule[2], 4, 8, (const uint8_t[16]){ 10 });
	cr_assert_eq(z.counts.by_trigger[POLICY_T_CLIENT_IP], 3);
}

Test(rpz, client_ip_v6_zz_expands)
{
	cr_assert_eq(parse(HEAD "128.1.zz.db8.2001.rpz-client-ip CNAME .\n"
			   "48.zz.db8.2001.rpz-client-ip CNAME .\n"
			   "128.8.7.6.5.4.3.2.1.rpz-client-ip CNAME .\n"
			   "128.ffff.zz.rpz-client-ip CNAME .\n"
			   "64.zz.abcd.1.db8.2001.rpz-client-ip CNAME .\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 5);
	addr_is(&z.rule[0], 6, 128,
		(const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 });
	addr_is(&z.rule[1], 6, 48, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 });
	addr_is(&z.rule[2], 6, 128,
		(const uint8_t[16]){ 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 });
	addr_is(&z.rule[3], 6, 128,
		(const uint8_t[16]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff });
	addr_is(&z.rule[4], 6, 64,
		(const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xab, 0xcd });
}

Test(rpz, ip_nsip_and_nsdname_triggers)
{
	cr_assert_eq(parse(HEAD "32.1.2.0.192.rpz-ip CNAME .\n"
			   "64.zz.db8.2001.rpz-nsip CNAME .\n"
			   "NS.Evil.Example.rpz-nsdname CNAME .\n"
			   "*.evil.example.rpz-nsdname CNAME rpz-passthru.\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 4);
	cr_assert_eq(z.rule[0].trigger, POLICY_T_IP);
	addr_is(&z.rule[0], 4, 32, (const uint8_t[16]){ 192, 0, 2, 1 });
	cr_assert_eq(z.rule[1].trigger, POLICY_T_NSIP);
	addr_is(&z.rule[1], 6, 64, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 });
	cr_assert_eq(z.rule[2].trigger, POLICY_T_NSDNAME);
	cr_assert_eq(z.rule[2].wild, 0);
	NAME_IS(&z.rule[2], "\002ns\004evil\007example");
	cr_assert_eq(z.rule[3].trigger, POLICY_T_NSDNAME);
	cr_assert_eq(z.rule[3].wild, 1);
	cr_assert_eq(z.rule[3].action, POLICY_A_PASSTHRU);
	NAME_IS(&z.rule[3], "\004evil\007example");
	cr_assert_eq(z.counts.by_trigger[POLICY_T_IP], 1);
	cr_assert_eq(z.counts.by_trigger[POLICY_T_NSIP], 1);
	cr_assert_eq(z.counts.by_trigger[POLICY_T_NSDNAME], 2);
	cr_assert_eq(z.counts.by_trigger[POLICY_T_QNAME], 0);
}

Test(rpz, invalid_triggers_are_rejected_each_with_its_line)
{
	static const struct {
		const char *owner, *why;
	} v[] = {
		{ "33.1.2.0.192.rpz-client-ip",
		  "prefix length out of range (IPv4: 1..32, decimal, no leading zeros)" },
		{ "0.0.0.0.0.rpz-client-ip",
		  "prefix length out of range (IPv4: 1..32, decimal, no leading zeros)" },
		{ "032.1.2.0.192.rpz-client-ip",
		  "prefix length out of range (IPv4: 1..32, decimal, no leading zeros)" },
		{ "24.1.2.0.192.rpz-client-ip", "host bits set beyond the prefix length" },
		{ "32.01.2.0.192.rpz-ip", "bad IPv4 octet (0..255, decimal, no leading zeros)" },
		{ "32.1.2.0.256.rpz-ip", "bad IPv4 octet (0..255, decimal, no leading zeros)" },
		{ "32.1.2.x.192.rpz-nsip", "bad IPv4 octet (0..255, decimal, no leading zeros)" },
		{ "129.1.zz.db8.2001.rpz-client-ip",
		  "prefix length out of range (IPv6: 1..128, decimal, no leading zeros)" },
		{ "64.1.zz.db8.2001.rpz-client-ip", "host bits set beyond the prefix length" },
		{ "128.1.zz.db8.zz.2001.rpz-client-ip", "'zz' more than once in an IPv6 address" },
		{ "128.1.2.3.4.5.6.7.8.9.rpz-client-ip",
		  "an IPv6 address is 8 words ('zz' for a run of zero words)" },
		{ "128.1.zz.2.3.4.5.6.7.8.rpz-client-ip",
		  "an IPv6 address is 8 words ('zz' for a run of zero words)" },
		{ "32.1.2.3.rpz-client-ip",
		  "an IPv6 address is 8 words ('zz' for a run of zero words)" },
		{ "128.1.zz.0db8.2001.rpz-client-ip",
		  "bad IPv6 word (hexadecimal 0..ffff, no leading zeros)" },
		{ "128.1.zz.10000.2001.rpz-client-ip",
		  "bad IPv6 word (hexadecimal 0..ffff, no leading zeros)" },
		{ "128.1.zz.g.2001.rpz-client-ip",
		  "bad IPv6 word (hexadecimal 0..ffff, no leading zeros)" },
		{ "32.rpz-client-ip", "an address trigger is PLEN then the address, reversed" },
		{ "rpz-ip", "an address trigger is PLEN then the address, reversed" },
		{ "rpz-nsdname", "rpz-nsdname without a name before it" },
		{ "www.rpz-bogus.example", "unknown rpz- label" },
		{ "x.rpz-bogus", "unknown rpz- label" },
		{ "ns.rpz-x.rpz-nsdname", "unknown rpz- label" },
		{ "a.*.rpz-nsdname", "a '*' label is allowed leftmost only" },
	};
	const size_t n = sizeof(v) / sizeof(v[0]);
	char text[8192] = HEAD, want[512];

	for (size_t i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s CNAME .\n",
			 v[i].owner);
	strcat(text, "good CNAME .\n");
	cr_assert_eq(parse(text), 0, "%s", err);
	cr_assert_eq(n_reports, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "rpz.zone:%zu: %s.rpz.example.: %s", i + 4,
			 v[i].owner, v[i].why);
		cr_assert_str_eq(reports[i], want);
	}
	cr_assert_eq(z.counts.rejected, n);
	cr_assert_eq(z.counts.records, n + 3);
	cr_assert_eq(z.n_rule, 1);
	NAME_IS(&z.rule[0], "\004good");
}

Test(rpz, each_cname_action)
{
	cr_assert_eq(parse(HEAD "nx CNAME .\n"
			   "nodata CNAME *.\n"
			   "pass CNAME rpz-passthru.\n"
			   "drop CNAME RPZ-DROP.\n"
			   "tcp CNAME rpz-tcp-only.\n"
			   "ok.example.com CNAME ok.example.com.\n"
			   "*.ok2.example CNAME *.ok2.example.\n"),
		     0, "%s", err);
	no_reports();
	static const uint8_t want[] = { POLICY_A_NXDOMAIN, POLICY_A_NODATA, POLICY_A_PASSTHRU,
					POLICY_A_DROP,	   POLICY_A_TCP_ONLY, POLICY_A_PASSTHRU,
					POLICY_A_PASSTHRU };
	cr_assert_eq(z.n_rule, sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++) {
		cr_assert_eq(z.rule[i].action, want[i], "rule %zu: action %u", i,
			     z.rule[i].action);
		cr_assert_eq(z.rule[i].rr_n, 0, "rule %zu", i);
	}
	cr_assert_eq(z.n_rr, 0);
}

Test(rpz, other_cnames_are_local_data)
{
	cr_assert_eq(parse(HEAD "walled CNAME Garden.Example.\n"
			   "*.w 60 CNAME *.garden.example.\n"
			   "rel CNAME rpz-drop\n"
			   "32.1.2.0.192.rpz-client-ip CNAME garden.example.\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 4);
	cr_assert_eq(z.n_rr, 4);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(z.rule[i].action, POLICY_A_LOCAL);
		cr_assert_eq(z.rule[i].rr_first, i);
		cr_assert_eq(z.rule[i].rr_n, 1);
		cr_assert_eq(z.rr[i].type, 5);
	}
	RDATA_IS(&z.rr[0], "\006garden\007example", 16);
	cr_assert_eq(z.rr[0].wild_target, 0);
	cr_assert_eq(z.rr[0].ttl, 300);
	RDATA_IS(&z.rr[1], "\001*\006garden\007example", 18);
	cr_assert_eq(z.rr[1].wild_target, 1);
	cr_assert_eq(z.rr[1].ttl, 60);
	NAME_IS(&z.rule[1], "\001w");
	cr_assert_eq(z.rule[1].wild, 1);
	/* relative: the origin appended, an ordinary target */
	RDATA_IS(&z.rr[2], "\010rpz-drop\003rpz\007example", 22);
	cr_assert_eq(z.rule[3].trigger, POLICY_T_CLIENT_IP);
}

Test(rpz, local_data_of_several_types_at_one_owner)
{
	cr_assert_eq(parse(HEAD "x A 192.0.2.1\n"
			   "x 10 A 192.0.2.2\n"
			   "x AAAA 2001:db8::1\n"
			   "x TXT \"blocked\" \"by policy\"\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 1);
	const struct policy_rule *r = &z.rule[0];
	cr_assert_eq(r->action, POLICY_A_LOCAL);
	cr_assert_eq(r->rr_first, 0);
	cr_assert_eq(r->rr_n, 4);
	cr_assert_eq(r->line, 4);
	cr_assert_eq(z.rr[0].type, 1);
	RDATA_IS(&z.rr[0], "\xc0\x00\x02\x01", 4);
	cr_assert_eq(z.rr[0].ttl, 300);
	cr_assert_eq(z.rr[1].type, 1);
	RDATA_IS(&z.rr[1], "\xc0\x00\x02\x02", 4);
	cr_assert_eq(z.rr[1].ttl, 10);
	cr_assert_eq(z.rr[2].type, 28);
	RDATA_IS(&z.rr[2], "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	cr_assert_eq(z.rr[3].type, 16);
	RDATA_IS(&z.rr[3], "\007blocked\011by policy", 18);
	cr_assert_eq(z.counts.records, 6);
}

Test(rpz, cname_and_other_data_reject_the_owner_at_the_later_line)
{
	cr_assert_eq(parse(HEAD "x CNAME .\n"
			   "y A 192.0.2.9\n"
			   "x A 192.0.2.1\n"
			   "w A 192.0.2.1\n"
			   "w TXT \"a\"\n"
			   "w CNAME garden.example.\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 2);
	cr_assert_str_eq(reports[0], "rpz.zone:6: x.rpz.example.: CNAME and other data: "
				     "the owner's 2 records rejected");
	cr_assert_str_eq(reports[1], "rpz.zone:9: w.rpz.example.: CNAME and other data: "
				     "the owner's 3 records rejected");
	cr_assert_eq(z.counts.rejected, 5);
	cr_assert_eq(z.n_rule, 1);
	NAME_IS(&z.rule[0], "\001y");
	cr_assert_eq(z.n_rr, 1);
}

Test(rpz, two_cnames_reject_the_owner_a_duplicate_is_kept_once)
{
	cr_assert_eq(parse(HEAD "x CNAME .\n"
			   "x CNAME *.\n"
			   "d CNAME rpz-drop.\n"
			   "d CNAME RPZ-Drop.\n"
			   "a A 192.0.2.1\n"
			   "a A 192.0.2.1\n"
			   "a A 192.0.2.2\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 1);
	cr_assert_str_eq(reports[0], "rpz.zone:5: x.rpz.example.: a second CNAME: "
				     "the owner's 2 records rejected");
	cr_assert_eq(z.counts.rejected, 2);
	cr_assert_eq(z.n_rule, 2);
	cr_assert_eq(z.rule[0].action, POLICY_A_DROP, "the duplicate is not a second CNAME");
	cr_assert_eq(z.rule[1].rr_n, 2);
	RDATA_IS(&z.rr[z.rule[1].rr_first], "\xc0\x00\x02\x01", 4);
	RDATA_IS(&z.rr[z.rule[1].rr_first + 1], "\xc0\x00\x02\x02", 4);
	cr_assert_eq(z.counts.records, 9);
}

Test(rpz, records_spread_over_the_file_make_one_rule)
{
	cr_assert_eq(parse(HEAD "a A 192.0.2.1\n"
			   "b CNAME .\n"
			   "A TXT \"x\"\n"
			   "c AAAA ::1\n"
			   "a A 192.0.2.3\n"),
		     0, "%s", err);
	no_reports();
	cr_assert_eq(z.n_rule, 3);
	NAME_IS(&z.rule[0], "\001a");
	cr_assert_eq(z.rule[0].line, 4);
	cr_assert_eq(z.rule[0].rr_first, 0);
	cr_assert_eq(z.rule[0].rr_n, 3);
	cr_assert_eq(z.rr[0].type, 1);
	cr_assert_eq(z.rr[1].type, 16);
	cr_assert_eq(z.rr[2].type, 1);
	RDATA_IS(&z.rr[2], "\xc0\x00\x02\x03", 4);
	NAME_IS(&z.rule[1], "\001b");
	cr_assert_eq(z.rule[1].line, 5);
	cr_assert_eq(z.rule[1].action, POLICY_A_NXDOMAIN);
	NAME_IS(&z.rule[2], "\001c");
	cr_assert_eq(z.rule[2].rr_first, 3);
	cr_assert_eq(z.rule[2].rr_n, 1);
	cr_assert_eq(z.counts.rules, 3);
}

Test(rpz, unsupported_types_are_rejected_and_the_rest_makes_the_rule)
{
	cr_assert_eq(parse(HEAD "x MX 10 mail.example.\n"
			   "x A 192.0.2.1\n"
			   "x CNAME .\n"
			   "y NS ns.example.\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 3);
	cr_assert_str_eq(reports[0], "rpz.zone:4: x.rpz.example.: type MX is not supported "
				     "as policy data");
	cr_assert_str_eq(reports[1], "rpz.zone:7: y.rpz.example.: type NS is not supported "
				     "as policy data");
	cr_assert_str_eq(reports[2], "rpz.zone:6: x.rpz.example.: CNAME and other data: "
				     "the owner's 2 records rejected");
	cr_assert_eq(z.n_rule, 0);

	cr_assert_eq(parse(HEAD "x MX 10 mail.example.\n"
			   "x A 192.0.2.1\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 1);
	cr_assert_eq(z.counts.rejected, 1);
	cr_assert_eq(z.n_rule, 1);
	cr_assert_eq(z.rule[0].rr_n, 1);
	cr_assert_eq(z.rule[0].line, 5);
}

Test(rpz, the_origin_holds_soa_and_ns_only_and_outside_names_are_rejected)
{
	cr_assert_eq(parse(HEAD "@ A 192.0.2.1\n"
			   "www.other. CNAME .\n"
			   "@ SOA ns.rpz.example. hostmaster.rpz.example. 2024010101 3600 600 86400 60\n"
			   "@ SOA ns.rpz.example. hostmaster.rpz.example. 2 3600 600 86400 60\n"
			   "x A \\# 3 010203\n"
			   "ok CNAME .\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 4);
	cr_assert_str_eq(reports[0], "rpz.zone:4: rpz.example.: type A at the origin "
				     "(only SOA and NS belong there)");
	cr_assert_str_eq(reports[1], "rpz.zone:5: www.other.: not in the zone rpz.example.");
	cr_assert_str_eq(reports[2], "rpz.zone:7: rpz.example.: a second SOA at the origin");
	cr_assert_str_eq(reports[3], "rpz.zone:8: x.rpz.example.: malformed A RDATA");
	cr_assert_eq(z.serial, 2024010101, "the first SOA stays");
	cr_assert_eq(z.counts.rejected, 4);
	cr_assert_eq(z.counts.records, 8);
	cr_assert_eq(z.n_rule, 1);
}

Test(rpz, a_broken_line_is_reported_and_the_rest_loads)
{
	cr_assert_eq(parse(HEAD "a CNAME .\n"
			   "b A 192.0.2.400\n"
			   "c CNAME .\n"
			   "d TXT \"unterminated\n"
			   "e CNAME .\n"),
		     0, "%s", err);
	cr_assert_eq(n_reports, 2);
	cr_assert_str_eq(reports[0], "rpz.zone:5: invalid IPv4 address");
	cr_assert_str_eq(reports[1], "rpz.zone:7: invalid text character");
	cr_assert_eq(z.counts.rejected, 2);
	cr_assert_eq(z.counts.records, 7);
	cr_assert_eq(z.n_rule, 3);
	NAME_IS(&z.rule[2], "\001e");
	cr_assert_eq(z.rule[2].line, 8);
}

Test(rpz, no_soa_fails_the_zone_and_leaves_it_empty)
{
	cr_assert_eq(parse("x CNAME .\n@ NS ns.example.\n"), CTL_E_POLICY);
	cr_assert_str_eq(err, "rpz.zone: no SOA at the origin rpz.example.");
	cr_assert_eq(z.n_rule, 0);
	cr_assert_eq(z.n_rr, 0);
	cr_assert_null(z.data);
	cr_assert_eq(z.counts.records, 0);

	cr_assert_eq(parse(""), CTL_E_POLICY);
	cr_assert_str_eq(err, "rpz.zone: no SOA at the origin rpz.example.");
}

Test(rpz, include_and_fatal_scanner_errors_fail_the_zone)
{
	cr_assert_eq(parse(HEAD "a CNAME .\n$INCLUDE /etc/passwd\n"), CTL_E_POLICY);
	cr_assert_str_eq(err, "rpz.zone:5: $INCLUDE is not allowed in a policy zone");
	cr_assert_eq(z.n_rule, 0);
	cr_assert_null(z.data);

	cr_assert_eq(parse(HEAD "a CNAME .\n$TTL\nb CNAME .\n"), CTL_E_POLICY);
	cr_assert_str_eq(err, "rpz.zone:5: invalid zone TTL");
	cr_assert_eq(z.n_rule, 0);
}

Test(rpz, a_bad_origin_is_refused)
{
	static const uint8_t bad[] = { 70, 'x', 0 };

	cr_assert_eq(ctl_rpz_parse(&z, HEAD, strlen(HEAD), "rpz.zone", bad, NULL, NULL, err,
				   sizeof(err)),
		     CTL_E_NAME);
	cr_assert_str_eq(err, "rpz.zone: the origin is not a domain name");
}

Test(rpz, rejections_are_counted_without_a_report_function)
{
	err[0] = 0;
	const char *text = HEAD "x MX 1 a.\ny CNAME .\n";
	cr_assert_eq(ctl_rpz_parse(&z, text, strlen(text), "rpz.zone", nm("rpz.example."),
				   NULL, NULL, err, sizeof(err)),
		     0);
	cr_assert_eq(z.counts.rejected, 1);
	cr_assert_eq(z.n_rule, 1);
}

static char *temp_zone(const char *text)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/test_rpz.XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(rpz, a_zone_file_is_read_from_disk)
{
	char *path = temp_zone(HEAD "; a feed\n"
				    "bad.example CNAME .\n"
				    "32.1.2.0.192.rpz-client-ip CNAME rpz-drop.\n"
				    "x MX 10 mail.\n");
	char want[128];

	n_reports = 0;
	cr_assert_eq(ctl_rpz_load(&z, path, nm("rpz.example."), collect, NULL, err,
				  sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(z.n_rule, 2);
	NAME_IS(&z.rule[0], "\003bad\007example");
	cr_assert_eq(z.rule[0].line, 5);
	addr_is(&z.rule[1], 4, 32, (const uint8_t[16]){ 192, 0, 2, 1 });
	cr_assert_eq(n_reports, 1);
	snprintf(want, sizeof(want), "%s:7: x.rpz.example.: type MX is not supported as policy data",
		 path);
	cr_assert_str_eq(reports[0], want);
	cr_assert_eq(z.serial, 2024010101);
	unlink(path);

	cr_assert_eq(ctl_rpz_load(&z, path, nm("rpz.example."), collect, NULL, err,
				  sizeof(err)),
		     CTL_E_POLICY);
	snprintf(want, sizeof(want), "%s: ", path);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cr_assert_eq(z.n_rule, 0);
}

/* A generated zone's text: cap octets, HEAD written (*len its length). */
static char *big_text(size_t cap, size_t *len)
{
	char *text = malloc(cap);

	cr_assert_not_null(text);
	*len = (size_t)snprintf(text, cap, "%s", HEAD);
	return text;
}

/* Parses a generated zone's text into z (then freed): no report. */
static void parse_big(char *text, size_t len)
{
	err[0] = 0;
	n_reports = 0;
	cr_assert_eq(ctl_rpz_parse(&z, text, len, "big.zone", nm("rpz.example."), collect, NULL,
				   err, sizeof(err)),
		     0, "%s", err);
	free(text);
	no_reports();
}

Test(rpz, a_generated_zone_of_200000_rules_loads)
{
	const unsigned n = 200000;
	size_t cap = 64 + (size_t)n * 32, len;
	char *text = big_text(cap, &len);

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "d%06u.example CNAME .\n", i);
	parse_big(text, len);
	cr_assert_eq(z.counts.rules, n);
	cr_assert_eq(z.counts.by_trigger[POLICY_T_QNAME], n);
	cr_assert_eq(z.counts.records, n + 2);
	cr_assert_eq(z.n_rule, n);
	NAME_IS(&z.rule[0], "\007d000000\007example");
	NAME_IS(&z.rule[n - 1], "\007d199999\007example");
	cr_assert_eq(z.rule[n - 1].line, n + 3);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(z.rule[i].action, POLICY_A_NXDOMAIN);
}

/* An owner's records far apart in a large zone (the owner table doubled
 * many times between them) still make one rule, in the owners' order. */
Test(rpz, records_of_one_owner_far_apart_in_a_large_zone_make_one_rule)
{
	const unsigned n = 100000;
	size_t cap = 64 + (size_t)n * 48, len;
	char *text = big_text(cap, &len);

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "a%06u.example A 192.0.2.1\n", i);
	for (unsigned i = 0; i < n; i += 1000)
		len += (size_t)snprintf(text + len, cap - len,
					"A%06u.EXAMPLE A 192.0.2.2\na%06u.example A 192.0.2.1\n", i, i);
	parse_big(text, len);
	cr_assert_eq(z.n_rule, n);
	cr_assert_eq(z.counts.records, n + 2 * (n / 1000) + 2);
	for (unsigned i = 0; i < n; i++) {
		char want[24];
		snprintf(want, sizeof(want), "\007a%06u\007example", i);
		cr_assert_eq(z.rule[i].name_len, 17);
		cr_assert(memcmp(z.data + z.rule[i].name_off, want, 17) == 0, "rule %u's name", i);
		cr_assert_eq(z.rule[i].line, i + 4);
		cr_assert_eq(z.rule[i].rr_n, i % 1000 ? 1u : 2u, "rule %u", i);
	}
	RDATA_IS(&z.rr[z.rule[5000].rr_first + 1], "\xc0\x00\x02\x02", 4);
}
