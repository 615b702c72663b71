/*
 * tests/control/test_scrub.c: what of an authority's response is believed
 * (control/scrub.h): classification of answers, chains, negative answers,
 * referrals and lame responses, and every kind of record a poisoner would
 * add (out of zone, off the chain, glue outside the cut, the child's NS set
 * in authority, another class, oversized RRsets) dropped and counted.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/scrub.h"
#include "dns/build.h"
#include "dns/name.h"
#include "tests/dns/testutil.h"

struct rec {
	int sec;
	const char *owner;
	uint16_t type;
	const char *data; /* a name for NS/CNAME/DNAME/SOA; "a.b.c.d" for A */
	uint16_t rclass;  /* 0: IN */
};

static uint8_t wire[16384];
static struct dns_msg msg;
static struct ctl_scrub *sc;

static void setup(void)
{
	sc = calloc(1, sizeof(*sc));
	cr_assert_not_null(sc);
}

static void teardown(void)
{
	free(sc);
}

TestSuite(scrub, .init = setup, .fini = teardown);

static size_t rdata(uint8_t *out, uint16_t type, const char *data)
{
	size_t n;

	switch (type) {
	case DNS_T_A: {
		unsigned a, b, c, d;
		cr_assert_eq(sscanf(data, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
		out[0] = (uint8_t)a, out[1] = (uint8_t)b, out[2] = (uint8_t)c, out[3] = (uint8_t)d;
		return 4;
	}
	case DNS_T_SOA:
		n = dns_name_len(nm(data));
		memcpy(out, nm(data), n);
		memcpy(out + n, nm(data), n);
		n *= 2;
		for (int i = 0; i < 5; i++, n += 4)
			dns_put32(out + n, 300);
		return n;
	case DNS_T_DS:
		dns_put16(out, 12345);
		out[2] = 13, out[3] = 2; /* ECDSA, SHA-256 */
		memset(out + 4, 0xab, 32);
		return 36;
	case DNS_T_RRSIG: /* data: the covered type's number */
		dns_put16(out, (uint16_t)atoi(data));
		out[2] = 13, out[3] = 2;
		dns_put32(out + 4, 300);
		dns_put32(out + 8, 2000000000u);
		dns_put32(out + 12, 1000000000u);
		dns_put16(out + 16, 12345);
		n = dns_name_len(nm("shop.lab"));
		memcpy(out + 18, nm("shop.lab"), n);
		memset(out + 18 + n, 0x55, 64);
		return 18 + n + 64;
	default:
		n = dns_name_len(nm(data));
		memcpy(out, nm(data), n);
		return n;
	}
}

/* The response to (qname, qtype) with flags and rcode, parsed into msg. */
static void respond(const char *qname, uint16_t qtype, uint16_t flags,
		    const struct rec *r, size_t n)
{
	struct dns_builder b;
	uint8_t rd[512];

	cr_assert_eq(dns_builder_init(&b, wire, sizeof(wire), 7, DNS_F_QR | flags), 0);
	cr_assert_eq(dns_builder_question(&b, nm(qname), qtype, DNS_C_IN), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = rdata(rd, r[i].type, r[i].data);
		cr_assert_eq(dns_builder_rr(&b, r[i].sec, nm(r[i].owner), r[i].type,
					    r[i].rclass ? r[i].rclass : DNS_C_IN, 3600,
					    rd, len), 0, "record %zu", i);
	}
	cr_assert_eq(dns_msg_parse(&msg, wire, dns_builder_finish(&b)), 0);
}

static int scrub(const char *zone, const char *qname, uint16_t qtype)
{
	return ctl_scrub(sc, &msg, nm(zone), nm(qname), qtype, DNS_C_IN, 0);
}

/* Records kept in a role. */
static unsigned kept(uint8_t role)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sc->nrr; i++)
		n += sc->rr[i].role == role;
	return n;
}

static bool name_is(const uint8_t *name, const char *s)
{
	return dns_name_equal(name, nm(s));
}

#define AN DNS_SEC_ANSWER
#define NS DNS_SEC_AUTHORITY
#define AR DNS_SEC_ADDITIONAL

Test(scrub, authoritative_answer_keeps_its_data)
{
	struct rec r[] = { { AN, "www.shop.lab", DNS_T_A, "198.18.0.1", 0 } };

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_DATA), 1);
	cr_assert(sc->aa);
	cr_assert_eq(ctl_scrub_dropped(sc), 0);
}

Test(scrub, poison_in_every_section_is_dropped)
{
	struct rec r[] = {
		{ AN, "www.shop.lab", DNS_T_A, "198.18.0.1", 0 },
		{ AN, "www.bank.secure", DNS_T_A, "198.18.6.6", 0 },	/* other zone */
		{ AN, "mail.shop.lab", DNS_T_A, "198.18.6.6", 0 },		/* off chain */
		{ NS, "lab", DNS_T_NS, "ns.evil.bench", 0 },		/* above the zone */
		{ NS, "shop.lab", DNS_T_NS, "ns.evil.bench", 0 },		/* child NS in an answer */
		{ AR, "ns.evil.bench", DNS_T_A, "198.18.6.6", 0 },		/* other zone */
		{ AR, "ns1.shop.lab", DNS_T_A, "198.18.6.6", 0 },		/* not a referral */
	};

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 7);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(sc->kept, 1);
	cr_assert_eq(kept(CTL_ROLE_DATA), 1);
	cr_assert_eq(sc->drops.out_of_zone, 3);
	cr_assert_eq(sc->drops.off_chain, 1);
	cr_assert_eq(sc->drops.authority, 1);
	cr_assert_eq(sc->drops.additional, 1);
	cr_assert_eq(ctl_scrub_dropped(sc), 6);
}

Test(scrub, zone_and_owners_compare_without_case)
{
	struct rec r[] = { { AN, "WWW.Shop.LAB", DNS_T_A, "198.18.0.1", 0 } };

	respond("www.SHOP.lab", DNS_T_A, DNS_F_AA, r, 1);
	cr_assert_eq(scrub("SHOP.LAB", "www.SHOP.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_DATA), 1);
}

Test(scrub, cname_chain_inside_the_zone_is_followed)
{
	struct rec r[] = {
		{ AN, "www.shop.lab", DNS_T_CNAME, "web.shop.lab", 0 },
		{ AN, "web.shop.lab", DNS_T_CNAME, "srv.shop.lab", 0 },
		{ AN, "srv.shop.lab", DNS_T_A, "198.18.0.2", 0 },
	};

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 3);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 2);
	cr_assert_eq(kept(CTL_ROLE_DATA), 1);
	cr_assert(name_is(sc->final_name, "srv.shop.lab"));
}

Test(scrub, chain_leaving_the_zone_stops_there)
{
	struct rec r[] = {
		{ AN, "www.shop.lab", DNS_T_CNAME, "www.bank.secure", 0 },
		{ AN, "www.bank.secure", DNS_T_A, "198.18.6.6", 0 },
	};

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 2);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_CHAIN_OUT);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 1);
	cr_assert_eq(kept(CTL_ROLE_DATA), 0, "the target's data is asked of its own zone");
	cr_assert_eq(sc->drops.out_of_zone, 1);
	cr_assert(name_is(sc->final_name, "www.bank.secure"));
}

Test(scrub, dname_redirects_and_a_contradicting_cname_is_dropped)
{
	struct rec ok[] = {
		{ AN, "old.shop.lab", DNS_T_DNAME, "new.shop.lab", 0 },
		{ AN, "a.b.old.shop.lab", DNS_T_CNAME, "a.b.new.shop.lab", 0 },
		{ AN, "a.b.new.shop.lab", DNS_T_A, "198.18.0.3", 0 },
	};
	struct rec bad[] = {
		{ AN, "old.shop.lab", DNS_T_DNAME, "new.shop.lab", 0 },
		{ AN, "a.b.old.shop.lab", DNS_T_CNAME, "elsewhere.shop.lab", 0 },
		{ AN, "a.b.new.shop.lab", DNS_T_A, "198.18.0.3", 0 },
		{ AN, "elsewhere.shop.lab", DNS_T_A, "198.18.6.6", 0 },
	};

	respond("a.b.old.shop.lab", DNS_T_A, DNS_F_AA, ok, 3);
	cr_assert_eq(scrub("shop.lab", "a.b.old.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 2);
	cr_assert_eq(kept(CTL_ROLE_DATA), 1);

	respond("a.b.old.shop.lab", DNS_T_A, DNS_F_AA, bad, 4);
	cr_assert_eq(scrub("shop.lab", "a.b.old.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 1, "only the DNAME");
	cr_assert_eq(sc->drops.contradicting, 1);
	cr_assert_eq(sc->drops.off_chain, 1, "the bogus CNAME's target");
	cr_assert(name_is(sc->final_name, "a.b.new.shop.lab"));
}

Test(scrub, cname_loop_fails)
{
	struct rec r[] = {
		{ AN, "a.shop.lab", DNS_T_CNAME, "b.shop.lab", 0 },
		{ AN, "b.shop.lab", DNS_T_CNAME, "a.shop.lab", 0 },
	};

	respond("a.shop.lab", DNS_T_A, DNS_F_AA, r, 2);
	cr_assert_eq(scrub("shop.lab", "a.shop.lab", DNS_T_A), CTL_SCRUB_FAIL);
	cr_assert(sc->loop);
	cr_assert_eq(sc->kept, 0);
}

Test(scrub, second_cname_for_a_name_is_dropped)
{
	struct rec r[] = {
		{ AN, "www.shop.lab", DNS_T_CNAME, "web.shop.lab", 0 },
		{ AN, "www.shop.lab", DNS_T_CNAME, "evil.shop.lab", 0 },
		{ AN, "web.shop.lab", DNS_T_A, "198.18.0.2", 0 },
	};

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 3);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 1);
	cr_assert_eq(sc->drops.contradicting, 1);
}

Test(scrub, nxdomain_keeps_the_zone_soa_only)
{
	struct rec r[] = {
		{ NS, "lab", DNS_T_SOA, "ns.lab", 0 },		/* above the zone */
		{ NS, "shop.lab", DNS_T_SOA, "ns1.shop.lab", 0 },
		{ NS, "shop.lab", DNS_T_SOA, "ns2.shop.lab", 0 },	/* a second SOA */
	};

	respond("nope.shop.lab", DNS_T_A, DNS_F_AA | DNS_R_NXDOMAIN, r, 3);
	cr_assert_eq(scrub("shop.lab", "nope.shop.lab", DNS_T_A), CTL_SCRUB_NXDOMAIN);
	cr_assert(sc->has_soa);
	cr_assert(name_is(sc->soa_owner, "shop.lab"));
	cr_assert_eq(kept(CTL_ROLE_SOA), 1);
	cr_assert_eq(sc->drops.out_of_zone, 1);
	cr_assert_eq(sc->drops.oversized, 1);
}

Test(scrub, nodata_needs_an_soa_at_or_above_the_name)
{
	struct rec r[] = { { NS, "shop.lab", DNS_T_SOA, "ns1.shop.lab", 0 } };
	struct rec below[] = { { NS, "x.www.shop.lab", DNS_T_SOA, "ns1.shop.lab", 0 } };

	respond("www.shop.lab", DNS_T_AAAA, DNS_F_AA, r, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_AAAA), CTL_SCRUB_NODATA);
	cr_assert(sc->has_soa);

	respond("www.shop.lab", DNS_T_AAAA, DNS_F_AA, below, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_AAAA), CTL_SCRUB_NODATA);
	cr_assert_not(sc->has_soa, "an SOA below the name is not its zone's");
	cr_assert_eq(sc->drops.authority, 1);
}

Test(scrub, referral_keeps_ns_ds_and_glue_inside_the_cut)
{
	struct rec r[] = {
		{ NS, "shop.lab", DNS_T_NS, "ns1.shop.lab", 0 },
		{ NS, "shop.lab", DNS_T_NS, "ns.sibling.lab", 0 },
		{ NS, "shop.lab", DNS_T_NS, "ns.elsewhere.bench", 0 },
		{ NS, "shop.lab", DNS_T_DS, "", 0 },
		{ AR, "ns1.shop.lab", DNS_T_A, "127.53.2.1", 0 },
		{ AR, "ns.sibling.lab", DNS_T_A, "198.18.6.6", 0 },	/* sibling glue */
		{ AR, "ns.elsewhere.bench", DNS_T_A, "198.18.6.6", 0 },	/* outside the zone */
		{ AR, "www.lab", DNS_T_A, "198.18.6.6", 0 },		/* not an NS name */
	};

	respond("www.shop.lab", DNS_T_A, 0, r, 8);
	cr_assert_eq(scrub("lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_REFERRAL);
	cr_assert(name_is(sc->cut, "shop.lab"));
	cr_assert_eq(sc->ref_ns, 3);
	cr_assert_eq(kept(CTL_ROLE_REF_NS), 3);
	cr_assert_eq(kept(CTL_ROLE_REF_DS), 1);
	cr_assert_eq(kept(CTL_ROLE_GLUE), 1);
	cr_assert_eq(kept(CTL_ROLE_SIBLING), 1, "inside lab, outside shop.lab: sibling glue");
	cr_assert_eq(sc->sibling, 1);
	cr_assert_eq(sc->drops.out_of_zone, 1);
	cr_assert_eq(sc->drops.additional, 1);
}

Test(scrub, referral_must_lead_down_to_the_name)
{
	struct rec up[] = { { NS, "lab", DNS_T_NS, "ns.lab", 0 } };
	struct rec side[] = { { NS, "bank.secure", DNS_T_NS, "ns.bank.secure", 0 } };
	struct rec off[] = { { NS, "other.shop.lab", DNS_T_NS, "ns.other.shop.lab", 0 } };
	struct rec self[] = { { NS, "shop.lab", DNS_T_NS, "ns1.shop.lab", 0 } };

	respond("www.shop.lab", DNS_T_A, 0, up, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_LAME, "upward");
	respond("www.shop.lab", DNS_T_A, 0, side, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_LAME, "sideways");
	respond("www.shop.lab", DNS_T_A, 0, off, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_LAME,
		     "a cut that is not above the name");
	respond("www.shop.lab", DNS_T_A, 0, self, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_LAME,
		     "the zone's own NS set without AA");
	cr_assert_eq(sc->kept, 0);
	respond("www.shop.lab", DNS_T_A, DNS_F_AA, self, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_NODATA);
	cr_assert_not(sc->has_soa);
}

Test(scrub, cname_then_referral_to_the_target)
{
	struct rec r[] = {
		{ AN, "www.lab", DNS_T_CNAME, "www.shop.lab", 0 },
		{ NS, "shop.lab", DNS_T_NS, "ns1.shop.lab", 0 },
		{ AR, "ns1.shop.lab", DNS_T_A, "127.53.2.1", 0 },
	};

	respond("www.lab", DNS_T_A, DNS_F_AA, r, 3);
	cr_assert_eq(scrub("lab", "www.lab", DNS_T_A), CTL_SCRUB_REFERRAL);
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 1);
	cr_assert(name_is(sc->cut, "shop.lab"));
	cr_assert(name_is(sc->final_name, "www.shop.lab"));
}

Test(scrub, ns_question_gets_the_apex_set_as_data)
{
	struct rec r[] = {
		{ AN, "shop.lab", DNS_T_NS, "ns1.shop.lab", 0 },
		{ AN, "shop.lab", DNS_T_NS, "ns2.shop.lab", 0 },
		{ AR, "ns1.shop.lab", DNS_T_A, "127.53.2.1", 0 },
	};

	respond("shop.lab", DNS_T_NS, DNS_F_AA, r, 3);
	cr_assert_eq(scrub("shop.lab", "shop.lab", DNS_T_NS), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_DATA), 2);
	cr_assert_eq(kept(CTL_ROLE_REF_NS), 0, "an answer is never a delegation");
	cr_assert_eq(sc->drops.additional, 1);
}

Test(scrub, failure_rcodes_keep_nothing)
{
	struct rec r[] = { { AN, "www.shop.lab", DNS_T_A, "198.18.0.1", 0 } };

	respond("www.shop.lab", DNS_T_A, DNS_F_AA | DNS_R_SERVFAIL, r, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_FAIL);
	cr_assert_eq(sc->kept, 0);
	respond("www.shop.lab", DNS_T_A, DNS_F_AA | DNS_R_NXDOMAIN, r, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_FAIL,
		     "NXDOMAIN beside data contradicts itself");
}

Test(scrub, oversized_rrsets_fail_and_other_classes_are_dropped)
{
	static struct rec r[160];
	char addr[160][16];

	for (int i = 0; i < 150; i++) {
		snprintf(addr[i], sizeof(addr[i]), "198.18.%d.%d", i / 256, i % 256);
		r[i] = (struct rec){ AN, "big.shop.lab", DNS_T_A, addr[i], 0 };
	}
	r[150] = (struct rec){ AN, "big.shop.lab", DNS_T_A, "198.18.9.9", DNS_C_CH };
	respond("big.shop.lab", DNS_T_A, DNS_F_AA, r + 50, 101);
	cr_assert_eq(scrub("shop.lab", "big.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_DATA), CTL_SCRUB_RRSET_MAX_DEFAULT);
	cr_assert_eq(sc->drops.wrong_class, 1);
	respond("big.shop.lab", DNS_T_A, DNS_F_AA, r, 151);
	cr_assert_eq(scrub("shop.lab", "big.shop.lab", DNS_T_A), CTL_SCRUB_FAIL,
		     "an oversized RRset is refused whole, not cut");
	cr_assert(sc->oversized);
	cr_assert_eq(sc->kept, 0);
	cr_assert_eq(sc->drops.oversized, 150 - CTL_SCRUB_RRSET_MAX_DEFAULT);
}

Test(scrub, signatures_follow_what_they_cover)
{
	struct rec r[] = {
		{ AN, "www.shop.lab", DNS_T_A, "198.18.0.1", 0 },
		{ AN, "www.shop.lab", DNS_T_RRSIG, "1", 0 },	/* covers A: kept */
		{ AN, "www.shop.lab", DNS_T_RRSIG, "16", 0 },	/* covers TXT: nothing */
		{ AN, "mail.shop.lab", DNS_T_RRSIG, "1", 0 },	/* off the chain */
		{ NS, "nope.shop.lab", DNS_T_NSEC, "zz.shop.lab", 0 },
	};

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 4);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_ANSWER);
	cr_assert_eq(kept(CTL_ROLE_SIG), 1);
	cr_assert_eq(sc->drops.unsigned_sig, 2);
}

Test(scrub, every_kind_has_a_name)
{
	for (int k = CTL_SCRUB_ANSWER; k <= CTL_SCRUB_FAIL; k++)
		cr_assert_str_neq(ctl_scrub_kind_str(k), "?");
	cr_assert_str_eq(ctl_scrub_kind_str(0), "?");
}

Test(scrub, chain_without_its_end_is_asked_again)
{
	struct rec r[] = { { AN, "www.shop.lab", DNS_T_CNAME, "web.shop.lab", 0 } };

	respond("www.shop.lab", DNS_T_A, DNS_F_AA, r, 1);
	cr_assert_eq(scrub("shop.lab", "www.shop.lab", DNS_T_A), CTL_SCRUB_CHAIN_OUT);
	cr_assert(name_is(sc->final_name, "web.shop.lab"));
	cr_assert_eq(kept(CTL_ROLE_CHAIN), 1);
}

/* A configured zone below the cut (a fence): the cut's servers do not
 * speak for it, whatever they send. */
Test(scrub, a_fenced_zone_below_the_cut_is_out_of_its_bailiwick)
{
	uint8_t corp[DNS_NAME_MAX];
	const uint8_t *fence[] = { corp };
	struct rec chain[] = { { AN, "www.lab", DNS_T_CNAME, "x.corp.lab", 0 },
			       { AN, "x.corp.lab", DNS_T_A, "192.0.2.66", 0 } };
	struct rec ref[] = { { NS, "sub.corp.lab", DNS_T_NS, "ns.sub.corp.lab", 0 },
			     { AR, "ns.sub.corp.lab", DNS_T_A, "192.0.2.67", 0 } };
	struct rec nx[] = { { NS, "lab", DNS_T_SOA, "lab", 0 } };

	memcpy(corp, nm("corp.lab"), dns_name_len(nm("corp.lab")));
	ctl_scrub_set_fences(sc, fence, 1);
	respond("www.lab", DNS_T_A, DNS_F_AA, chain, 2);
	cr_assert_eq(scrub("lab", "www.lab", DNS_T_A), CTL_SCRUB_CHAIN_OUT,
		     "the chain leaves the zone where it enters the fenced one");
	cr_assert(name_is(sc->final_name, "x.corp.lab"));
	cr_assert_eq(kept(CTL_ROLE_DATA), 0, "its data is not the cut's to give");
	respond("a.sub.corp.lab", DNS_T_A, 0, ref, 2);
	cr_assert_neq(scrub("lab", "a.sub.corp.lab", DNS_T_A), CTL_SCRUB_REFERRAL,
		      "no referral below the fence");
	cr_assert_eq(kept(CTL_ROLE_REF_NS), 0);
	respond("a.corp.lab", DNS_T_A, DNS_F_AA | DNS_R_NXDOMAIN, nx, 1);
	cr_assert_neq(scrub("lab", "a.corp.lab", DNS_T_A), CTL_SCRUB_NXDOMAIN);
	/* the fenced zone's DS is the parent's to give */
	struct rec ds[] = { { AN, "corp.lab", DNS_T_DS, "", 0 } };
	respond("corp.lab", DNS_T_DS, DNS_F_AA, ds, 1);
	cr_assert_eq(scrub("lab", "corp.lab", DNS_T_DS), CTL_SCRUB_ANSWER);
	struct rec ds2[] = { { AN, "x.corp.lab", DNS_T_DS, "", 0 } };
	respond("x.corp.lab", DNS_T_DS, DNS_F_AA, ds2, 1);
	cr_assert_neq(scrub("lab", "x.corp.lab", DNS_T_DS), CTL_SCRUB_ANSWER, "below it: not");
	ctl_scrub_set_fences(sc, NULL, 0);
	respond("www.lab", DNS_T_A, DNS_F_AA, chain, 2);
	cr_assert_eq(scrub("lab", "www.lab", DNS_T_A), CTL_SCRUB_ANSWER, "no fence: in zone");
}

/* The referral bench/scrub-bench measures: 100 NS names with 8 glue
 * addresses each (NS targets are unpacked once, glue finds its target by
 * hash); then one name with more glue than an RRset may hold. */
Test(scrub, a_large_referral_keeps_each_targets_glue_up_to_the_cap)
{
	struct dns_builder b;
	uint8_t com[DNS_NAME_MAX], name[DNS_NAME_MAX];
	char text[32];

	dns_name_from_str("com", com);
	for (int round = 0; round < 2; round++) {
		unsigned glue_each = round ? 101 : 8, nns = round ? 2 : 100;
		dns_builder_init(&b, wire, sizeof(wire), 7, DNS_F_QR);
		dns_builder_question(&b, nm("www.example.com"), DNS_T_A, DNS_C_IN);
		for (unsigned i = 0; i < nns; i++) {
			snprintf(text, sizeof(text), "NS%u.com", i);
			int n = dns_name_from_str(text, name);
			cr_assert_eq(dns_builder_rr(&b, NS, com, DNS_T_NS, DNS_C_IN, 3600, name,
						    (size_t)n), 0);
		}
		for (unsigned i = 0; i < nns; i++)
			for (unsigned k = 0; k < (i == 0 ? glue_each : 8); k++) {
				uint8_t a[4] = { 192, 0, (uint8_t)i, (uint8_t)k };
				snprintf(text, sizeof(text), "ns%u.com", i);
				dns_name_from_str(text, name);
				cr_assert_eq(dns_builder_rr(&b, AR, name, DNS_T_A, DNS_C_IN, 3600,
							    a, 4), 0);
			}
		cr_assert_eq(dns_msg_parse(&msg, wire, dns_builder_finish(&b)), 0);
		int kind = scrub(".", "www.example.com", DNS_T_A);
		if (round == 0) {
			cr_assert_eq(kind, CTL_SCRUB_REFERRAL);
			cr_assert_eq(sc->ref_ns, 100);
			cr_assert_eq(sc->glue, 800, "%u", sc->glue);
			cr_assert_eq(kept(CTL_ROLE_GLUE), 800);
			cr_assert_eq(ctl_scrub_dropped(sc), 0);
		} else {
			cr_assert_eq(kind, CTL_SCRUB_FAIL, "101 addresses for one name");
			cr_assert(sc->oversized);
		}
	}
}
