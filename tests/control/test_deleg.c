/*
 * tests/control/test_deleg.c: the delegation table (control/deleg.h), the
 * kiting defence at its core: cuts expire with the parent's TTL, fresh cuts
 * are not extended, sub-delegations do not outlive their parent, a changed
 * or revoked delegation takes what was learnt below it along, referrals
 * from lookups in flight at expiry are refused, and the table is bounded.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>

#include "control/deleg.h"
#include "dns/name.h"
#include "tests/dns/testutil.h"

#define T0 1000000u

static struct ctl_deleg_table *t;

static void setup(void)
{
	t = ctl_deleg_table_new(0, 86400);
	cr_assert_not_null(t);
}

static void teardown(void)
{
	ctl_deleg_table_free(t);
}

TestSuite(deleg, .init = setup, .fini = teardown);

/* A referral to zone with NS names "a b c" (glue 127.53.0.x for each). */
static struct ctl_referral ref(const char *zone, const char *names, uint32_t ttl)
{
	struct ctl_referral r = { .zone = nm(zone), .ttl = ttl };
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct ctl_deleg_ns *ns = &r.ns[r.nns];
		cr_assert_gt(dns_name_from_str(w, ns->name), 0);
		ns->naddr = 1;
		ns->addr[0].family = AF_INET;
		inet_pton(AF_INET, "127.53.0.1", ns->addr[0].a);
		ns->addr[0].a[3] = (uint8_t)(r.nns + 1);
		r.nns++;
	}
	return r;
}

static const struct ctl_deleg *find(const char *qname, uint32_t now, uint32_t *exp)
{
	uint32_t e;
	const struct ctl_deleg *d = ctl_deleg_find(t, nm(qname), now, exp ? exp : &e);

	cr_assert_not_null(d);
	return d;
}

static bool zone_is(const struct ctl_deleg *d, const char *zone)
{
	return dns_name_equal(d->zone, nm(zone));
}

static bool has_ns(const struct ctl_deleg *d, const char *name)
{
	for (unsigned i = 0; i < d->nns; i++)
		if (dns_name_equal(d->ns[i].name, nm(name)))
			return true;
	return false;
}

/* Hints, then lab. learnt from the root with ttl. */
static const struct ctl_deleg *with_lab(uint32_t ttl)
{
	struct ctl_referral hints = ref(".", "a.root-servers.lab b.root-servers.lab", 0);
	struct ctl_referral lab = ref("lab", "ns1.lab ns2.lab", ttl);
	const struct ctl_deleg *d;

	cr_assert_eq(ctl_deleg_set_hints(t, &hints, T0), 0);
	cr_assert_eq(ctl_deleg_learn(t, find("lab", T0, NULL), &lab, T0, T0, &d), CTL_DELEG_NEW);
	return d;
}

static int learn(const char *via, const char *zone, const char *ns, uint32_t ttl,
		 uint32_t started, uint32_t now, const struct ctl_deleg **out)
{
	struct ctl_referral r = ref(zone, ns, ttl);
	const struct ctl_deleg *parent = find(via, now, NULL);
	const struct ctl_deleg *d;
	int rc;

	cr_assert(zone_is(parent, via), "the parent cut is %s", via);
	rc = ctl_deleg_learn(t, parent, &r, started, now, &d);
	if (out)
		*out = d;
	return rc;
}

Test(deleg, hints_are_the_root_and_never_expire)
{
	struct ctl_referral hints = ref(".", "a.root-servers.lab", 0);
	uint32_t exp;

	cr_assert_null(ctl_deleg_find(t, nm("www.lab"), T0, &exp));
	cr_assert_eq(ctl_deleg_set_hints(t, &hints, T0), 0);
	const struct ctl_deleg *d = find("www.lab", T0 + 10000000, &exp);
	cr_assert(zone_is(d, "."));
	cr_assert(d->from_hints);
	cr_assert_eq(exp, UINT32_MAX);
}

Test(deleg, cut_is_used_until_the_parent_ttl_ends)
{
	uint32_t exp;

	with_lab(3600);
	const struct ctl_deleg *d = find("www.shop.LAB", T0 + 3599, &exp);
	cr_assert(zone_is(d, "lab"));
	cr_assert_eq(exp, T0 + 3600);
	cr_assert(has_ns(d, "NS1.lab"));
	cr_assert_eq(d->ns[0].naddr, 1);
	cr_assert(zone_is(find("www.shop.lab", T0 + 3600, NULL), "."),
		  "expired: the parent is asked again");
}

Test(deleg, fresh_cut_is_not_replaced_or_extended)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	cr_assert_eq(learn("lab", "kite.lab", "ns.x.bench", 60, T0, T0, &d), CTL_DELEG_NEW);
	uint64_t id = d->id;
	/* The same parent's referral again, with another NS set or a longer
	 * TTL, while the cut is fresh: ignored. */
	cr_assert_eq(learn("lab", "kite.lab", "ns.y.bench", 86400, T0 + 30, T0 + 30, &d),
		     CTL_DELEG_FRESH_KEPT);
	cr_assert_eq(d->id, id);
	cr_assert_eq(d->expire, T0 + 60);
	cr_assert(has_ns(find("www.kite.lab", T0 + 59, NULL), "ns.x.bench"));
	cr_assert(zone_is(find("www.kite.lab", T0 + 60, NULL), "lab"));
}

Test(deleg, changed_delegation_wins_after_expiry)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 60, T0, T0, &d);
	uint64_t id = d->id;
	cr_assert_eq(learn("lab", "kite.lab", "ns.y.bench", 60, T0 + 61, T0 + 61, &d),
		     CTL_DELEG_CHANGED);
	cr_assert_neq(d->id, id);
	d = find("www.kite.lab", T0 + 62, NULL);
	cr_assert(has_ns(d, "ns.y.bench"));
	cr_assert_not(has_ns(d, "ns.x.bench"));
}

Test(deleg, sub_delegation_does_not_outlive_its_parent)
{
	const struct ctl_deleg *d;
	uint32_t exp;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 60, T0, T0, NULL);
	cr_assert_eq(learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 86400, T0, T0, &d),
		     CTL_DELEG_NEW);
	d = find("www.sub.kite.lab", T0 + 30, &exp);
	cr_assert(zone_is(d, "sub.kite.lab"));
	cr_assert_eq(exp, T0 + 60, "data below lives no longer than the parent's cut");
	/* kite.lab expired: sub.kite.lab (TTL one day) is not used. */
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 61, NULL), "lab"));
	/* The parent now delegates kite.lab elsewhere: the old sub-cut stays
	 * unused, and is dropped when met. */
	learn("lab", "kite.lab", "ns.y.bench", 60, T0 + 61, T0 + 61, NULL);
	d = find("www.sub.kite.lab", T0 + 62, NULL);
	cr_assert(zone_is(d, "kite.lab"));
	cr_assert(has_ns(d, "ns.y.bench"));
	struct ctl_deleg_stats st;
	ctl_deleg_get_stats(t, &st);
	cr_assert_eq(st.ignored_below, 1);
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 63, NULL), "kite.lab"));
}

Test(deleg, renewal_with_the_same_ns_set_keeps_what_is_below)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench ns2.x.bench", 60, T0, T0, &d);
	uint64_t id = d->id;
	learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 86400, T0, T0, NULL);
	cr_assert_eq(learn("lab", "kite.lab", "NS.x.bench NS2.x.bench", 60, T0 + 61,
			   T0 + 61, &d), CTL_DELEG_RENEWED);
	cr_assert_eq(d->id, id);
	cr_assert_eq(d->expire, T0 + 121);
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 62, NULL), "sub.kite.lab"));
}

Test(deleg, referral_in_flight_at_expiry_is_refused)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 60, T0, T0, NULL);
	/* A lookup that began at T0 + 50 (cut fresh) gets its referral at
	 * T0 + 70: it may not refresh the cut. */
	cr_assert_eq(learn("lab", "kite.lab", "ns.x.bench", 60, T0 + 50, T0 + 70, &d),
		     CTL_DELEG_LATE);
	cr_assert_null(d);
	cr_assert(zone_is(find("www.kite.lab", T0 + 70, NULL), "lab"));
	/* One that began after expiry may. */
	cr_assert_eq(learn("lab", "kite.lab", "ns.x.bench", 60, T0 + 60, T0 + 70, &d),
		     CTL_DELEG_RENEWED);
}

Test(deleg, revoked_delegation_takes_everything_below)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 3600, T0, T0, NULL);
	learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 3600, T0, T0, NULL);
	cr_assert(ctl_deleg_revoke(t, nm("KITE.lab")));
	cr_assert_not(ctl_deleg_revoke(t, nm("kite.lab")));
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 1, NULL), "lab"));
	/* Delegated again later: the sub-cut from before is not revived. */
	learn("lab", "kite.lab", "ns.x.bench", 3600, T0 + 2, T0 + 2, &d);
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 3, NULL), "kite.lab"));
	cr_assert_not(ctl_deleg_revoke(t, nm(".")), "the root cannot be revoked");
}

static void count_cut(void *arg, const struct ctl_deleg *d)
{
	unsigned *n = arg;

	cr_assert(d->zone[0] || d->parent_id == 0, "only the root has no parent");
	(*n)++;
}

/* What the operator sees: every cut, those below a name, those above it. */
Test(deleg, each_cut_is_shown_below_or_above_a_name)
{
	unsigned n = 0;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 3600, T0, T0, NULL);
	learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 3600, T0, T0, NULL);
	learn("lab", "shop.lab", "ns.shop.bench", 3600, T0, T0, NULL);
	cr_assert_eq(ctl_deleg_each(t, NULL, true, count_cut, &n), 5, "the root, lab and three");
	cr_assert_eq(n, 5);
	cr_assert_eq(ctl_deleg_each(t, nm("Kite.lab"), true, count_cut, &n), 2);
	cr_assert_eq(ctl_deleg_each(t, nm("www.sub.kite.lab"), false, count_cut, &n), 4,
		     "the root, lab, kite.lab, sub.kite.lab");
	cr_assert_eq(ctl_deleg_each(t, nm("xkite.lab"), false, count_cut, &n), 2);
}

/* An operator's flush: the cut at a name, the cuts at and below it, or
 * every learnt cut; never the root. */
Test(deleg, an_operators_flush_forgets_learnt_cuts_but_the_root)
{
	struct ctl_deleg_stats st;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench", 3600, T0, T0, NULL);
	learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 3600, T0, T0, NULL);
	learn("lab", "shop.lab", "ns.shop.bench", 3600, T0, T0, NULL);
	cr_assert_eq(ctl_deleg_flush(t, nm("Kite.LAB"), false), 1, "kite.lab alone");
	cr_assert(zone_is(find("www.kite.lab", T0 + 1, NULL), "lab"));
	cr_assert(zone_is(find("www.shop.lab", T0 + 1, NULL), "shop.lab"));
	cr_assert_eq(ctl_deleg_flush(t, nm("kite.lab"), false), 0);
	cr_assert_eq(ctl_deleg_flush(t, nm("kite.lab"), true), 1, "sub.kite.lab below it");
	cr_assert_eq(ctl_deleg_flush(t, nm("hop.lab"), true), 0, "not shop.lab");
	cr_assert_eq(ctl_deleg_flush(t, NULL, true), 2, "shop.lab and lab");
	cr_assert(zone_is(find("www.shop.lab", T0 + 1, NULL), "."), "the root stays");
	ctl_deleg_get_stats(t, &st);
	cr_assert_eq(st.flushed, 4);
	cr_assert_eq(ctl_deleg_flush(t, NULL, true), 0);
}

Test(deleg, referral_must_be_strictly_below_its_parent)
{
	const struct ctl_deleg *d;
	struct ctl_referral r = ref("bank.secure", "ns.evil.bench", 60);
	struct ctl_referral self = ref("lab", "ns.evil.bench", 60);
	struct ctl_referral none = ref("x.lab", "", 60);
	const struct ctl_deleg *lab;

	with_lab(86400);
	lab = find("www.lab", T0, NULL);
	cr_assert_eq(ctl_deleg_learn(t, lab, &r, T0, T0, &d), CTL_DELEG_NOT_BELOW);
	lab = find("www.lab", T0, NULL);
	cr_assert_eq(ctl_deleg_learn(t, lab, &self, T0, T0, &d), CTL_DELEG_NOT_BELOW);
	lab = find("www.lab", T0, NULL);
	cr_assert_eq(ctl_deleg_learn(t, lab, &none, T0, T0, &d), CTL_DELEG_NOT_BELOW);
	cr_assert_null(d);
	cr_assert(zone_is(find("www.bank.secure", T0, NULL), "."));
}

Test(deleg, ttl_is_capped_and_zero_means_one_second)
{
	const struct ctl_deleg *d;

	with_lab(86400 * 30);
	cr_assert_eq(find("x.lab", T0, NULL)->expire, T0 + 86400);
	learn("lab", "z.lab", "ns.z.bench", 0, T0, T0, &d);
	cr_assert_eq(d->expire, T0 + 1);
}

Test(deleg, priming_replaces_hints_until_it_expires)
{
	struct ctl_referral primed = ref(".", "a.root-servers.lab c.root-servers.lab", 100);

	with_lab(86400);
	uint64_t hints_id = find("x", T0, NULL)->id;
	cr_assert_eq(ctl_deleg_prime(t, &primed, T0), 0);
	const struct ctl_deleg *root = find("x", T0 + 1, NULL);
	cr_assert_not(root->from_hints);
	cr_assert(has_ns(root, "c.root-servers.lab"));
	cr_assert_neq(root->id, hints_id, "another NS set: another instance");
	cr_assert(zone_is(find("www.lab", T0 + 1, NULL), "."),
		  "lab. was learnt through the hints' root instance");
	root = find("x", T0 + 100, NULL);
	cr_assert(root->from_hints, "priming expired: back to the hints");
	cr_assert(has_ns(root, "b.root-servers.lab"));
}

Test(deleg, table_is_bounded_and_keeps_the_root_and_recent_cuts)
{
	char zone[64], ns[64];
	struct ctl_deleg_stats st;

	ctl_deleg_table_free(t);
	t = ctl_deleg_table_new(10, 86400);
	with_lab(86400);
	for (int i = 0; i < 50; i++) {
		snprintf(zone, sizeof(zone), "z%d.lab", i);
		snprintf(ns, sizeof(ns), "ns.z%d.bench", i);
		learn("lab", zone, ns, 3600, T0, T0, NULL);
		/* lab. is used for every referral, so it stays recent */
	}
	ctl_deleg_get_stats(t, &st);
	cr_assert_leq(st.entries, 10);
	cr_assert_geq(st.evicted, 40);
	cr_assert(zone_is(find("www.z49.lab", T0, NULL), "z49.lab"));
	cr_assert(zone_is(find("www.z0.lab", T0, NULL), "lab"), "the oldest went");
	cr_assert(zone_is(find("x", T0, NULL), "."));
}

Test(deleg, new_glue_is_a_new_delegation)
{
	const struct ctl_deleg *d;

	with_lab(86400);
	learn("lab", "kite.lab", "ns.x.bench ns2.x.bench", 60, T0, T0, &d);
	learn("kite.lab", "sub.kite.lab", "ns.sub.x.bench", 86400, T0, T0, NULL);
	/* Same names, addresses swapped: the parent points elsewhere. */
	cr_assert_eq(learn("lab", "kite.lab", "ns2.x.bench ns.x.bench", 60, T0 + 61, T0 + 61, &d),
		     CTL_DELEG_CHANGED);
	cr_assert(zone_is(find("www.sub.kite.lab", T0 + 62, NULL), "kite.lab"),
		  "what the old servers delegated below is not used");
}

Test(deleg, referral_through_an_older_parent_instance_does_not_replace)
{
	struct ctl_referral lab2 = ref("lab", "ns3.lab", 86400);
	struct ctl_referral kite = ref("kite.lab", "ns.old.bench", 3600);
	struct ctl_deleg old_lab;
	const struct ctl_deleg *d;

	with_lab(60);
	old_lab = *find("lab", T0, NULL); /* a lookup holds this copy */
	/* lab. expires and the root delegates it to other servers */
	cr_assert_eq(ctl_deleg_learn(t, find("lab", T0 + 61, NULL), &lab2, T0 + 61, T0 + 61, &d),
		     CTL_DELEG_CHANGED);
	cr_assert_eq(learn("lab", "kite.lab", "ns.new.bench", 3600, T0 + 62, T0 + 62, &d), CTL_DELEG_NEW);
	/* the old lookup's referral, from the old lab. servers, comes late */
	cr_assert_eq(ctl_deleg_learn(t, &old_lab, &kite, T0, T0 + 63, &d), CTL_DELEG_LATE);
	cr_assert(has_ns(find("www.kite.lab", T0 + 64, NULL), "ns.new.bench"));
}

/* Stub and forward zones (ctl_deleg_set_configured()). */
static int configure(const char *const *zones, const char *const *servers, const uint8_t *kind,
		     unsigned n)
{
	struct ctl_referral r[4];
	bool rd[4] = { true, true, true, true };

	for (unsigned i = 0; i < n; i++) {
		static uint8_t z[4][DNS_NAME_MAX];
		r[i] = ref(zones[i], servers[i], 0);
		memcpy(z[i], nm(zones[i]), dns_name_len(nm(zones[i])));
		r[i].zone = z[i]; /* nm()'s buffer is reused */
	}
	return ctl_deleg_set_configured(t, r, kind, rd, n, T0);
}

Test(deleg, a_stub_zone_is_an_anchor_whatever_the_table_holds_above_it)
{
	static const char *const zones[] = { "shop.lab" };
	static const char *const servers[] = { "stub1.example" };
	static const uint8_t kind[] = { CTL_DELEG_STUB };
	uint32_t exp;

	with_lab(3600);
	cr_assert_eq(configure(zones, servers, kind, 1), 0);
	const struct ctl_deleg *d = find("www.shop.lab", T0 + 7200, &exp);
	cr_assert(zone_is(d, "shop.lab"), "lab. expired: the stub is still used");
	cr_assert_eq(d->kind, CTL_DELEG_STUB);
	cr_assert_eq(exp, UINT32_MAX);
	cr_assert(zone_is(find("www.lab", T0, NULL), "lab"), "names beside it: the table's");
	/* the parent's referral for it does not replace it */
	const struct ctl_deleg *out;
	cr_assert_eq(learn("lab", "shop.lab", "ns9.elsewhere", 3600, T0, T0, &out),
		     CTL_DELEG_FRESH_KEPT);
	cr_assert(has_ns(find("www.shop.lab", T0, NULL), "stub1.example"));
	cr_assert_not(ctl_deleg_revoke(t, nm("shop.lab")), "the parent's NXDOMAIN does not remove it");
	cr_assert(zone_is(find("www.shop.lab", T0, NULL), "shop.lab"));
}

Test(deleg, below_a_stub_the_kiting_rules_hold_and_a_changed_stub_takes_its_children)
{
	static const char *const zones[] = { "shop.lab" };
	static const char *const servers[] = { "stub1.example" };
	static const char *const servers2[] = { "stub2.example" };
	static const uint8_t kind[] = { CTL_DELEG_STUB };

	with_lab(3600);
	cr_assert_eq(configure(zones, servers, kind, 1), 0);
	cr_assert_eq(learn("shop.lab", "kids.shop.lab", "ns1.kids.shop.lab", 600, T0, T0, NULL),
		     CTL_DELEG_NEW);
	cr_assert(zone_is(find("a.kids.shop.lab", T0 + 1, NULL), "kids.shop.lab"));
	cr_assert(zone_is(find("a.kids.shop.lab", T0 + 600, NULL), "shop.lab"),
		  "a child of the stub expires with its own TTL");
	cr_assert_eq(learn("shop.lab", "kids.shop.lab", "ns1.kids.shop.lab", 600, T0 + 600,
			   T0 + 600, NULL), CTL_DELEG_RENEWED);
	/* set again as it was: the same instance, its child still used */
	cr_assert_eq(configure(zones, servers, kind, 1), 0);
	cr_assert(zone_is(find("a.kids.shop.lab", T0 + 601, NULL), "kids.shop.lab"));
	/* other servers: a new instance; nothing learnt through the old one */
	cr_assert_eq(configure(zones, servers2, kind, 1), 0);
	cr_assert(zone_is(find("a.kids.shop.lab", T0 + 601, NULL), "shop.lab"));
	cr_assert(has_ns(find("a.kids.shop.lab", T0 + 601, NULL), "stub2.example"));
	/* removed: the parent's view again, and the stub's children stay unused */
	cr_assert_eq(learn("shop.lab", "kids.shop.lab", "ns1.kids.shop.lab", 600, T0 + 601,
			   T0 + 601, NULL), CTL_DELEG_NEW);
	cr_assert_eq(configure(NULL, NULL, NULL, 0), 0);
	cr_assert(zone_is(find("a.kids.shop.lab", T0 + 602, NULL), "lab"));
}

Test(deleg, nothing_below_a_forward_zone_is_used_and_configured_cuts_stay)
{
	static const char *const zones[] = { "corp.lab", "deep.corp.lab" };
	static const char *const servers[] = { "fwd.example", "stub.example" };
	static const uint8_t kind[] = { CTL_DELEG_FORWARD, CTL_DELEG_STUB };
	struct ctl_deleg_table *small = ctl_deleg_table_new(4, 86400);

	with_lab(3600);
	cr_assert_eq(configure(zones, servers, kind, 1), 0);
	cr_assert_eq(learn("lab", "sub.corp.lab", "ns.sub.corp.lab", 600, T0, T0, NULL),
		     CTL_DELEG_NOT_BELOW, "lab.'s servers do not speak below corp.lab.");
	const struct ctl_deleg *d = find("www.sub.corp.lab", T0, NULL);
	cr_assert(zone_is(d, "corp.lab"));
	cr_assert_eq(d->kind, CTL_DELEG_FORWARD);
	/* the deepest configured cut wins */
	cr_assert_eq(configure(zones, servers, kind, 2), 0);
	cr_assert(zone_is(find("a.deep.corp.lab", T0, NULL), "deep.corp.lab"));
	cr_assert(zone_is(find("a.corp.lab", T0, NULL), "corp.lab"));
	/* a full table evicts learnt cuts, never the configured ones */
	ctl_deleg_table_free(t);
	t = small;
	with_lab(3600);
	cr_assert_eq(configure(zones, servers, kind, 2), 0);
	for (int i = 0; i < 10; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%d", i);
		learn(".", z, "ns.z.lab", 600, T0, T0, NULL);
	}
	cr_assert(zone_is(find("a.deep.corp.lab", T0, NULL), "deep.corp.lab"));
	cr_assert(zone_is(find("a.corp.lab", T0, NULL), "corp.lab"));
}

Test(deleg, configured_zones_are_checked)
{
	static const char *const zones[] = { "a.lab" };
	static const uint8_t kind[] = { CTL_DELEG_STUB };
	struct ctl_referral r = { .zone = nm("a.lab") };
	bool rd = false;

	(void)zones;
	cr_assert_eq(ctl_deleg_set_configured(t, &r, kind, &rd, 1, T0), CTL_E_NO_NS);
	cr_assert_eq(ctl_deleg_set_configured(t, &r, kind, &rd, CTL_DELEG_CONF_MAX + 1, T0),
		     CTL_E_INVAL);
}
