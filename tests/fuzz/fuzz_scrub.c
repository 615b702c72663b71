/*
 * tests/fuzz/fuzz_scrub.c: libFuzzer target for the response scrubber
 * (control/scrub.h), which reads every upstream answer. Input: one octet
 * choosing the zone the "server" was asked as (the root, the question's
 * parent, the question itself, or lab.), then a DNS message. Beyond "no
 * crash": whatever is kept lies inside the zone, roles fit the kind (data
 * only in answers, NS/DS/glue only in referrals, glue inside the cut, the
 * cut strictly below the zone), and the kept count adds up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/scrub.h"
#include "dns/msg.h"
#include "dns/name.h"

static struct ctl_scrub s;

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t root[1] = { 0 };
	static const uint8_t lab[5] = { 3, 'l', 'a', 'b', 0 };
	struct dns_msg m;
	const uint8_t *zone;

	if (size < 1 || dns_msg_parse(&m, data + 1, size - 1) || m.qname_len == 0)
		return 0;
	switch (data[0] % 4) {
	case 0: zone = root; break;
	case 1: zone = m.qname[0] ? m.qname + m.qname[0] + 1 : m.qname; break;
	case 2: zone = m.qname; break;
	default: zone = lab; break;
	}
	int kind = ctl_scrub(&s, &m, zone, m.qname, m.qtype, m.qclass, 1 + data[0] / 4 % 8);
	check(kind >= CTL_SCRUB_ANSWER && kind <= CTL_SCRUB_FAIL);
	unsigned kept = 0;
	for (unsigned i = 0; i < s.nrr; i++) {
		uint8_t role = s.rr[i].role;
		if (role == CTL_ROLE_DROP)
			continue;
		kept++;
		check(dns_name_is_subdomain(s.owner[i], zone));
		check(role != CTL_ROLE_DATA || kind == CTL_SCRUB_ANSWER);
		check((role != CTL_ROLE_REF_NS && role != CTL_ROLE_REF_DS &&
		       role != CTL_ROLE_GLUE && role != CTL_ROLE_SIBLING) ||
		      kind == CTL_SCRUB_REFERRAL);
		check(role != CTL_ROLE_GLUE || dns_name_is_subdomain(s.owner[i], s.cut));
		check(role != CTL_ROLE_SIBLING || !dns_name_is_subdomain(s.owner[i], s.cut));
		check(role != CTL_ROLE_SOA || kind == CTL_SCRUB_NXDOMAIN ||
		      kind == CTL_SCRUB_NODATA);
	}
	check(kept == s.kept);
	check(kind != CTL_SCRUB_FAIL || kept == 0);
	check(kind != CTL_SCRUB_LAME || kept == 0);
	if (kind == CTL_SCRUB_REFERRAL)
		check(dns_name_is_subdomain(s.cut, zone) && !dns_name_equal(s.cut, zone) &&
		      s.ref_ns > 0);
	return 0;
}
