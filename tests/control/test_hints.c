/*
 * tests/control/test_hints.c: reading root hints (control/hints.h): IANA's
 * named.root layout, the lab world's file, and every error with its line.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "control/hints.h"
#include "dns/name.h"
#include "tests/dns/testutil.h"

static struct ctl_referral r;
static char err[256];

static int parse(const char *text)
{
	err[0] = '\0';
	return ctl_hints_parse(text, strlen(text), "hints", &r, err, sizeof(err));
}

/* The shape of IANA's named.root: header comments, TTL, no class, A and
 * AAAA per server, upper-case names. Two servers are enough. */
static const char named_root[] =
	";       This file holds the information on root name servers needed to\n"
	";       initialize cache of Internet domain name servers\n"
	";\n"
	".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
	"A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4\n"
	"A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30\n"
	";\n"
	"; FORMERLY NS1.ISI.EDU\n"
	".                        3600000      NS    B.ROOT-SERVERS.NET.\n"
	"B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2\n"
	"B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b\n"
	"; End of file\n";

Test(hints, iana_layout_gives_the_root_referral)
{
	char a[64];

	cr_assert_eq(parse(named_root), 0, "%s", err);
	cr_assert_eq(r.zone[0], 0);
	cr_assert_eq(r.nns, 2);
	cr_assert_eq(r.ttl, 3600000);
	cr_assert(dns_name_equal(r.ns[0].name, nm("a.root-servers.net")));
	cr_assert_eq(r.ns[0].name[1], 'a', "names are lower-cased");
	cr_assert_eq(r.ns[0].naddr, 2);
	cr_assert_eq(r.ns[0].addr[0].family, AF_INET);
	inet_ntop(AF_INET6, r.ns[1].addr[1].a, a, sizeof(a));
	cr_assert_str_eq(a, "2801:1b8:10::b");
}

Test(hints, lab_world_file_with_class_and_crlf)
{
	cr_assert_eq(parse(".\t3600000 IN NS a.root.lab.\r\n"
			   "a.root.lab. IN A 127.53.0.1\r\n"), 0, "%s", err);
	cr_assert_eq(r.nns, 1);
	cr_assert_eq(r.ns[0].addr[0].a[0], 127);
	cr_assert_eq(r.ns[0].addr[0].a[2], 0);
}

Test(hints, file_is_read_from_disk_and_missing_file_is_named)
{
	char path[] = "/tmp/bw-hints-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, named_root, sizeof(named_root) - 1),
		     (ssize_t)sizeof(named_root) - 1);
	close(fd);
	cr_assert_eq(ctl_hints_load(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.nns, 2);
	unlink(path);
	cr_assert_eq(ctl_hints_load(path, &r, err, sizeof(err)), CTL_E_HINTS);
	cr_assert(strstr(err, path) && strstr(err, "No such file"), "%s", err);
}

Test(hints, errors_name_the_line)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ ". NS a.root.lab.\na.root.lab. A 300.1.1.1\n", "hints:2: bad A address" },
		{ ". NS a.root.lab.\nlab. NS a.root.lab.\n", "hints:2: NS record for 'lab.'" },
		{ ". NS a.root.lab.\na.root.lab. MX 10 x.\n", "hints:2: expected OWNER" },
		{ ". NS a.root.lab.\na.root.lab. TXT hello\n", "hints:2: type TXT does not belong" },
		{ "$ORIGIN lab.\n", "hints:1: directive $ORIGIN" },
		{ ". NS a.root.lab.\nb.root.lab. A 127.0.0.1\n", "hints:2: address for b.root.lab." },
		{ ". NS a.root.lab.\n", "hints: no address for root server a.root.lab." },
		{ "; nothing\n", "hints: no NS records" },
		{ ". 99999999999 NS a.root.lab.\n", "hints:1: TTL 99999999999 out of range" },
		{ ". NS a..lab.\n", "hints:1: bad NS name" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].text), CTL_E_HINTS, "case %zu", i);
		cr_assert(strstr(err, bad[i].want), "case %zu: got '%s'", i, err);
	}
	cr_assert_eq(ctl_hints_parse("x\0y", 3, "hints", &r, err, sizeof(err)), CTL_E_HINTS);
	cr_assert(strstr(err, "NUL"), "%s", err);
}
