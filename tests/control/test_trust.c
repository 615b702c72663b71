/*
 * tests/control/test_trust.c: the key table (control/trust.h): entries
 * found case-insensitively until their TTL ends, replaced whole, copies
 * of what they were given, and a full table making room instead of
 * growing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/trust.h"
#include "dns/name.h"

static const uint8_t *nm(const char *s)
{
	static __thread uint8_t ring[8][DNS_NAME_MAX];
	static __thread unsigned next;
	uint8_t *out = ring[next++ % 8];

	cr_assert(dns_name_from_str(s, out) > 0);
	return out;
}

Test(trust, entries_live_their_ttl_and_are_found_in_any_case)
{
	struct ctl_trust *t = ctl_trust_new(100);
	uint8_t key[] = { 1, 1, 3, 13, 9, 9 };
	struct ctl_val_rdata rd = { key, sizeof(key) };
	struct ctl_val_rrset keys = { .type = DNS_T_DNSKEY, .n = 1, .ttl = 300, .rr = &rd };

	cr_assert_eq(ctl_trust_set(t, nm("Example.COM."), CTL_TRUST_SECURE, CTL_EDE_NONE, 60,
				   1000, NULL, &keys), 0);
	key[5] = 0; /* the table keeps its own copy */
	const struct ctl_trust_entry *e = ctl_trust_get(t, nm("example.com."), 1059);
	cr_assert_not_null(e);
	cr_assert_eq(e->state, CTL_TRUST_SECURE);
	cr_assert_eq(e->keys.n, 1);
	cr_assert_eq(e->keys.rr[0].p[5], 9);
	cr_assert_eq(e->ds.n, 0);
	cr_assert(dns_name_equal(e->keys.owner, nm("example.com.")));
	cr_assert_null(ctl_trust_get(t, nm("example.com."), 1060), "expired at its TTL");
	cr_assert_null(ctl_trust_get(t, nm("www.example.com."), 1000), "exact names only");

	/* Replaced whole: a bogus mark drops the keys. */
	ctl_trust_set(t, nm("example.com."), CTL_TRUST_BOGUS, CTL_EDE_SIG_EXPIRED, 0, 1000, NULL,
		      NULL);
	e = ctl_trust_get(t, nm("example.com."), 1000);
	cr_assert_not_null(e, "a TTL of 0 lives a second");
	cr_assert_eq(e->state, CTL_TRUST_BOGUS);
	cr_assert_eq(e->ede, CTL_EDE_SIG_EXPIRED);
	cr_assert_eq(e->keys.n, 0);
	cr_assert_eq(ctl_trust_count(t), 1);
	ctl_trust_free(t);
}

Test(trust, a_full_table_makes_room_and_never_grows)
{
	struct ctl_trust *t = ctl_trust_new(50);
	char name[64];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "z%d.example.", i);
		cr_assert_eq(ctl_trust_set(t, nm(name), CTL_TRUST_INSECURE, CTL_EDE_NONE, 3600,
					   1000, NULL, NULL), 0);
		cr_assert_leq(ctl_trust_count(t), 50);
	}
	cr_assert_eq(ctl_trust_count(t), 50);
	cr_assert_not_null(ctl_trust_get(t, nm("z999.example."), 1000), "the newest stays");
	ctl_trust_free(t);
}

static bool keep_org(void *arg, const uint8_t *zone)
{
	(void)arg;
	return dns_name_equal(zone, nm("org."));
}

/* An operator's flush: a zone's entry, a zone and those below it, all. */
Test(trust, a_flush_forgets_a_zone_those_below_it_or_all)
{
	struct ctl_trust *t = ctl_trust_new(64);
	static const char *const zones[] = { "com.", "example.com.", "a.example.com.",
					     "xexample.com.", "org." };

	cr_assert_not_null(t);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(ctl_trust_set(t, nm(zones[i]), CTL_TRUST_INSECURE, CTL_EDE_NONE, 3600,
					   1000, NULL, NULL), 0);
	cr_assert_eq(ctl_trust_flush(t, nm("EXAMPLE.com."), false, NULL, NULL), 1);
	cr_assert_not_null(ctl_trust_get(t, nm("a.example.com."), 1001));
	cr_assert_eq(ctl_trust_flush(t, nm("example.com."), true, NULL, NULL), 1,
		     "a.example.com alone");
	cr_assert_null(ctl_trust_get(t, nm("a.example.com."), 1001));
	cr_assert_not_null(ctl_trust_get(t, nm("xexample.com."), 1001));
	cr_assert_eq(ctl_trust_count(t), 3);
	cr_assert_eq(ctl_trust_flush(t, NULL, true, keep_org, NULL), 2, "org. kept");
	cr_assert_not_null(ctl_trust_get(t, nm("org."), 1001));
	cr_assert_eq(ctl_trust_flush(t, NULL, true, NULL, NULL), 1);
	cr_assert_eq(ctl_trust_count(t), 0);
	/* one bucket's chain: every entry of it looked at */
	struct ctl_trust *t1 = ctl_trust_new(64);
	char name[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "z%d.example.", i);
		ctl_trust_set(t1, nm(name), CTL_TRUST_INSECURE, CTL_EDE_NONE, 3600, 1000, NULL,
			      NULL);
	}
	cr_assert_eq(ctl_trust_flush(t1, nm("example."), true, NULL, NULL), 40);
	cr_assert_eq(ctl_trust_count(t1), 0);
	ctl_trust_free(t1);
	ctl_trust_free(t);
}
