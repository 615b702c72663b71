/*
 * tests/control/test_val.c: the validator's pieces (control/val.h) against
 * published vectors and real data: RFC 5155 Appendix A/B (NSEC3 hashes,
 * signatures, every proof of Appendix B), the real signed root zone of
 * 2017-08-21 (every signature in it, its NSEC chain), the signature window
 * and the budgets that stop KeyTrap and NSEC3 exhaustion.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/val.h"
#include "dns/name.h"
#include "dns/wire.h"
#include "zonefile.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR: the folder of the validator's test data"
#endif
#ifndef ROOT_ZONE_2017
#error "ROOT_ZONE_2017: the 2017 root zone snapshot"
#endif

static const uint8_t *nm(const char *s)
{
	static __thread uint8_t ring[16][DNS_NAME_MAX];
	static __thread unsigned next;
	uint8_t *out = ring[next++ % 16];

	cr_assert(dns_name_from_str(s, out) > 0, "bad test name %s", s);
	return out;
}

/* Seconds since the epoch of a YYYYMMDDHHMMSS time in UTC. */
static uint32_t at(const char *t)
{
	struct tm tm = { 0 };

	cr_assert(sscanf(t, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (uint32_t)timegm(&tm);
}

static struct ctl_val_limits lim;
static struct ctl_val_budget bud;

static void setup(void)
{
	ctl_val_limits_default(&lim);
	ctl_val_budget_init(&bud, &lim);
}

/* ---- RFC 5155 --------------------------------------------------------- */

static struct zone *z5155;
static struct zset keys5155;

static void setup_5155(void)
{
	setup();
	z5155 = zone_read(TEST_DATA_DIR "/rfc5155.zone");
	cr_assert_eq(zone_rrset(z5155, nm("example."), DNS_T_DNSKEY, &keys5155), 2);
}

static void teardown_5155(void)
{
	zone_free(z5155);
}

#define IN_5155 "20120420235959"

TestSuite(val5155, .init = setup_5155, .fini = teardown_5155);

Test(val5155, key_tags_are_those_the_signatures_name)
{
	uint16_t a = ctl_val_key_tag(keys5155.rr[0].p, keys5155.rr[0].len);
	uint16_t b = ctl_val_key_tag(keys5155.rr[1].p, keys5155.rr[1].len);

	cr_assert_eq(a, 40430);
	cr_assert_eq(b, 12708);
}

Test(val5155, nsec3_hashes_match_appendix_a)
{
	static const struct {
		const char *name, *hash;
	} v[] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "z.w.example.", "qlu7gtfaeh0ek0c05ksfhdpbcgglbe03" },
		{ "c.x.w.example.", "0va5bpr2ou0vk0lbqeeljri88laipsfh" },
		{ "*.x.w.example.", "92pqneegtaue7pjatc3l3qnk738c6v5m" },
		{ "c.example.", "4g6p9u5gvfshp30pqecj98b3maqbn1ck" },
		{ "X.W.Example.", "b4um86eghhds6nea196smvmlo4ors995" },
	};
	static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t h[20], want[20];
		cr_assert(ctl_val_nsec3_hash(NULL, nm(v[i].name), salt, 4, 12, h));
		cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)v[i].hash, 32,
						   want, sizeof(want)), 20);
		cr_assert_arr_eq(h, want, 20, "%s", v[i].name);
	}
}

Test(val5155, base32hex_takes_either_case_and_refuses_the_rest)
{
	uint8_t out[20], up[20];

	cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)"0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM",
					   32, up, 20), 20);
	cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
					   32, out, 20), 20);
	cr_assert_arr_eq(out, up, 20);
	cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)"0p9mhaveqvm6t7vbl5lop2u3t2rp3toW",
					   32, out, 20), -1);
	cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)"0p9m", 4, out, 20), -1,
		     "leftover bits that are not zero");
	cr_assert_eq(ctl_val_b32hex_decode((const uint8_t *)"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
					   32, out, 19), -1, "no room");
}

Test(val5155, keyset_is_secure_through_the_anchor_key_and_not_through_the_zsk)
{
	struct ctl_val_result res;
	struct ctl_val_rdata ksk = keys5155.rr[1], zsk = keys5155.rr[0];
	struct ctl_val_rrset anchor = { .owner = nm("example."), .type = DNS_T_DNSKEY,
					.rclass = DNS_C_IN, .n = 1, .rr = &ksk };

	ctl_val_keyset(&bud, &keys5155.set, NULL, &anchor, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	cr_assert_eq(res.ttl, 3600);
	cr_assert_eq(bud.verify, 1);

	/* The ZSK did not sign the DNSKEY set: as an anchor it proves nothing. */
	anchor.rr = &zsk;
	ctl_val_budget_init(&bud, &lim);
	ctl_val_keyset(&bud, &keys5155.set, NULL, &anchor, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_DNSKEY_MISSING, "%s", res.why);
}

Test(val5155, rsasha1_switched_off_makes_the_zone_insecure_not_bogus)
{
	struct ctl_val_result res;
	struct ctl_val_rdata ksk = keys5155.rr[1];
	struct ctl_val_rrset anchor = { .owner = nm("example."), .type = DNS_T_DNSKEY,
					.rclass = DNS_C_IN, .n = 1, .rr = &ksk };

	lim.rsasha1 = false;
	ctl_val_keyset(&bud, &keys5155.set, NULL, &anchor, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE);
	cr_assert_eq(res.ede, CTL_EDE_UNSUPPORTED_ALG);
	cr_assert_eq(bud.verify, 0);
}

/* Every RRset of the file that carries an RRSIG verifies with the zone's keys. */
Test(val5155, every_signature_of_the_appendix_verifies)
{
	unsigned checked = 0;

	for (size_t i = 0; i < z5155->n; i++) {
		const struct zrec *r = &z5155->r[i];
		if (r->type != DNS_T_RRSIG)
			continue;
		struct zset s;
		struct ctl_val_result res;
		cr_assert(zone_rrset(z5155, r->owner, dns_get16(r->rd), &s) > 0);
		ctl_val_budget_init(&bud, &lim);
		ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
		char name[DNS_NAME_MAX * 4];
		dns_name_to_str(r->owner, name, sizeof(name));
		cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s type %u: %s", name,
			     dns_get16(r->rd), res.why);
		cr_assert_eq(res.wildcard_labels,
			     dns_name_equal(r->owner, nm("a.z.w.example.")) ? 2 : 0, "%s", name);
		checked++;
	}
	cr_assert_eq(checked, 14);
}

Test(val5155, a_changed_record_or_signature_is_bogus)
{
	struct zset s;
	struct ctl_val_result res;
	uint8_t rd[64];

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	memcpy(rd, s.rr[0].p, 4);
	rd[3] ^= 1; /* 192.0.2.9 -> 192.0.2.8 */
	s.rr[0].p = rd;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_BOGUS, "%s", res.why);
	cr_assert_eq(bud.failures, 1);

	/* The owner's case does not matter (canonical form lower-cases it). */
	cr_assert_eq(zone_rrset(z5155, nm("AI.Example."), DNS_T_A, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("EXAMPLE."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);

	/* Another owner: the signature does not cover it. */
	s.set.owner = nm("ns1.example.");
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}

/*
 * The memo of outcomes answers a check met again, and only that check: a
 * changed record, signature, signed field or key after a secure outcome
 * is checked (and fails), and a failure met again stays a failure.
 */
Test(val5155, the_memo_answers_the_same_check_and_no_other)
{
	struct zset s;
	struct ctl_val_result res;
	struct ctl_rrsig r;
	uint8_t rd[4], sig[512], key[512];

	/* empty (under --no-fork earlier tests have filled it) */
	ctl_val_memo_enable(false);
	ctl_val_memo_enable(true);
	uint64_t h0 = ctl_val_memo_hits();

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	cr_assert_eq(ctl_val_memo_hits(), h0, "the first check is made");
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 1, "met again: from the memo");
	cr_assert_eq(bud.verify, 2, "charged to the budget all the same");

	/* a changed record: checked, bogus; met again, bogus from the memo */
	const uint8_t *orig_rd = s.rr[0].p;
	memcpy(rd, orig_rd, 4);
	rd[3] ^= 1;
	s.rr[0].p = rd;
	for (unsigned i = 0; i < 2; i++) {
		ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
		cr_assert_eq(res.sec, CTL_SEC_BOGUS);
		cr_assert_eq(ctl_val_memo_hits(), h0 + 1 + i);
	}
	s.rr[0].p = orig_rd;

	/* the signature's last octet, a signed field (the original TTL) */
	const uint8_t *orig_sig = s.sig[0].p;
	size_t sl = s.sig[0].len;
	cr_assert(sl <= sizeof(sig));
	memcpy(sig, orig_sig, sl);
	sig[sl - 1] ^= 0x40;
	s.sig[0].p = sig;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS, "a changed signature");
	memcpy(sig, orig_sig, sl);
	sig[7] ^= 1; /* original TTL, octets 4..7 */
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS, "a changed original TTL");
	/* the expiration a second earlier: still inside the window, and
	 * only in the RRSIG's own fields of the signed data */
	memcpy(sig, orig_sig, sl);
	dns_put32(sig + 8, dns_get32(sig + 8) - 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS, "a changed expiration: %s", res.why);
	cr_assert_eq(res.ede, CTL_EDE_BOGUS, "%s", res.why);
	s.sig[0].p = orig_sig;
	cr_assert_eq(ctl_val_memo_hits(), h0 + 2, "none of them from the memo");
	cr_assert_eq(bud.memo, 2, "the budget counts what the memo answered");

	/* another key (the check alone: a changed key has another tag) */
	cr_assert(ctl_rrsig_read(&r, orig_sig, sl));
	const struct ctl_val_rdata *k = NULL;
	for (unsigned i = 0; i < keys5155.set.n; i++)
		if (ctl_val_key_tag(keys5155.rr[i].p, keys5155.rr[i].len) == r.key_tag)
			k = &keys5155.rr[i];
	cr_assert(k && k->len <= sizeof(key));
	cr_assert_eq(ctl_val_verify_one(&s.set, &r, orig_sig, sl, k->p, k->len), 1);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 3);
	memcpy(key, k->p, k->len);
	key[k->len - 1] ^= 0x10;
	cr_assert_eq(ctl_val_verify_one(&s.set, &r, orig_sig, sl, key, k->len), 0);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 3, "another key is checked");

	/* the key's last octet moved to the front of the signature: the same
	 * octets in a row, told apart by their lengths */
	struct ctl_rrsig r2;
	size_t at_sig = sl - r.sig_len;
	memcpy(sig, orig_sig, at_sig);
	sig[at_sig] = k->p[k->len - 1];
	memcpy(sig + at_sig + 1, orig_sig + at_sig, r.sig_len);
	cr_assert(ctl_rrsig_read(&r2, sig, sl + 1));
	cr_assert_eq(r2.sig_len, r.sig_len + 1);
	cr_assert_neq(ctl_val_verify_one(&s.set, &r2, sig, sl + 1, k->p, k->len - 1), 1);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 3, "not the first check's outcome");

	/* no outcome (an RSA key of no exponent) is not kept: -1 each time */
	memcpy(key, k->p, 4);
	memset(key + 4, 0, 3);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(ctl_val_verify_one(&s.set, &r, orig_sig, sl, key, 7), -1);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 3);

	/* off: the same check made again */
	ctl_val_memo_enable(false);
	cr_assert_eq(ctl_val_verify_one(&s.set, &r, orig_sig, sl, k->p, k->len), 1);
	cr_assert_eq(ctl_val_memo_hits(), h0 + 3);
	ctl_val_memo_enable(true);
}

Test(val5155, missing_signatures_and_keys_have_their_own_codes)
{
	struct zset s;
	struct ctl_val_result res;

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	s.set.nsig = 0;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.ede, CTL_EDE_RRSIGS_MISSING);

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	struct ctl_val_rrset only_ksk = keys5155.set;
	only_ksk.rr = &keys5155.rr[1];
	only_ksk.n = 1;
	ctl_val_rrset(&bud, &s.set, nm("example."), &only_ksk, at(IN_5155), &res);
	cr_assert_eq(res.ede, CTL_EDE_DNSKEY_MISSING);
	cr_assert_eq(bud.verify, 0, "no key of the tag: nothing to try");

	/* Signed by example., asked as if the zone were w.example. */
	ctl_val_rrset(&bud, &s.set, nm("w.example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}

Test(val5155, the_window_holds_with_its_skew_either_way)
{
	struct zset s;
	struct ctl_val_result res;
	uint32_t exp = at("20150420235959"), inc = at("20051021000000");

	cr_assert_eq(zone_rrset(z5155, nm("ns1.example."), DNS_T_NSEC3, &s), 0);
	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_AAAA, &s), 1);
	struct {
		uint32_t now;
		uint8_t sec;
		uint16_t ede;
	} v[] = {
		{ exp + lim.skew_s, CTL_SEC_SECURE, CTL_EDE_NONE },
		{ exp + lim.skew_s + 1, CTL_SEC_BOGUS, CTL_EDE_SIG_EXPIRED },
		{ inc - lim.skew_s, CTL_SEC_SECURE, CTL_EDE_NONE },
		{ inc - lim.skew_s - 1, CTL_SEC_BOGUS, CTL_EDE_SIG_NOT_YET },
		{ at("20240101000000"), CTL_SEC_BOGUS, CTL_EDE_SIG_EXPIRED },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, v[i].now, &res);
		cr_assert_eq(res.sec, v[i].sec, "case %zu: %s", i, res.why);
		cr_assert_eq(res.ede, v[i].ede, "case %zu", i);
	}
}

Test(val5155, ttl_is_capped_at_the_original_ttl_and_at_expiry)
{
	struct zset s;
	struct ctl_val_result res;

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	s.set.ttl = 86400;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.ttl, 3600);
	s.set.ttl = 60;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.ttl, 60);
	s.set.ttl = 3600;
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set,
		      at("20150420235959") - 100, &res);
	cr_assert_eq(res.ttl, 100);
}

/* A KeyTrap zone: many keys of one tag, many signatures, none valid. */
Test(val5155, colliding_keys_and_signatures_cost_at_most_the_budget)
{
	static struct ctl_val_rdata keys[100], sigs[100];
	static uint8_t bad[100][256];
	struct zset s;
	struct ctl_val_result res;

	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_A, &s), 1);
	for (int i = 0; i < 100; i++) {
		keys[i] = keys5155.rr[0]; /* the ZSK, tag 40430, a hundred times */
		memcpy(bad[i], s.sig[0].p, s.sig[0].len);
		bad[i][s.sig[0].len - 1 - i % 20] ^= 0x55;
		sigs[i] = (struct ctl_val_rdata){ bad[i], s.sig[0].len };
	}
	struct ctl_val_rrset k = keys5155.set;
	k.rr = keys;
	k.n = 100;
	s.set.sig = sigs;
	s.set.nsig = 100;
	ctl_val_rrset(&bud, &s.set, nm("example."), &k, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert(bud.failures_hit);
	cr_assert_eq(bud.verify, lim.max_failures);
	/* ... and stays spent: a good RRset of the same question is not checked. */
	{
		struct zset good;
		cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_AAAA, &good), 1);
		ctl_val_rrset(&bud, &good.set, nm("example."), &keys5155.set, at(IN_5155), &res);
		cr_assert_eq(res.sec, CTL_SEC_BOGUS);
		cr_assert_eq(bud.verify, lim.max_failures);
	}

	/* With the failure limit out of the way the check limit holds. */
	lim.max_failures = 1000000;
	ctl_val_budget_init(&bud, &lim);
	ctl_val_rrset(&bud, &s.set, nm("example."), &k, at(IN_5155), &res);
	cr_assert(bud.verify_hit);
	cr_assert_eq(bud.verify, lim.max_verify);

	/* A spent budget stays spent for the rest of the question. */
	cr_assert_eq(zone_rrset(z5155, nm("ai.example."), DNS_T_AAAA, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys5155.set, at(IN_5155), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}

/* The NSEC3 records of the file at these hashes, as denial records. */
static unsigned denials(const char *const *hashes, struct ctl_val_denial *d)
{
	unsigned n = 0;

	for (; *hashes; hashes++) {
		char name[80];
		snprintf(name, sizeof(name), "%s.example.", *hashes);
		const uint8_t *owner = nm(name);
		for (size_t i = 0; i < z5155->n; i++)
			if (z5155->r[i].type == DNS_T_NSEC3 &&
			    dns_name_equal(z5155->r[i].owner, owner))
				d[n++] = (struct ctl_val_denial){ z5155->r[i].owner,
								  z5155->r[i].rd,
								  z5155->r[i].len };
	}
	return n;
}

#define H_APEX "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"
#define H_XW "b4um86eghhds6nea196smvmlo4ors995"
#define H_A "35mthgpgcu1qg68fab165klnsnk3dpvl"
#define H_NS1 "2t7b4g4vsa5smi47k61mv5bv1a22bojr"
#define H_YW "ji6neoaepv8b5o6k4ev33abha8ht9fgc"
#define H_NS2 "q04jkcevqvmu85r014c7dkba38o0ji5r"
#define H_W "k8udemvp1j2f7eg6jebps17vp3n8i58h"
#define H_WILD_W "r53bq7cc2uvmubfu5ocmm6pers9tk9en"

static void proof(enum ctl_val_deny what, const char *qname, uint16_t qtype,
		  uint8_t wl, const char *const *hashes, struct ctl_val_result *res)
{
	struct ctl_val_denial d[16];
	unsigned n = denials(hashes, d);

	ctl_val_deny(&bud, what, nm("example."), nm(qname), qtype, wl, NULL, 0, d, n, res);
}

Test(val5155, appendix_b_proofs_hold)
{
	struct ctl_val_result res;
	static const char *const b1[] = { H_APEX, H_XW, H_A, NULL };
	static const char *const b2[] = { H_NS1, NULL };
	static const char *const b21[] = { H_YW, NULL };
	static const char *const b3[] = { H_A, H_APEX, NULL };
	static const char *const b4[] = { H_NS2, NULL };
	static const char *const b5[] = { H_W, H_NS2, H_WILD_W, NULL };

	/* Every NSEC3 of the example zone has opt-out set, and the next
	 * closer name's is among them: c.x.w.example could be an unsigned
	 * delegation, so the NXDOMAIN is insecure (as BIND and Knot Resolver
	 * treat it; unbound sets AD). Without opt-out it is secure. */
	proof(CTL_DENY_NXDOMAIN, "a.c.x.w.example.", DNS_T_A, 0, b1, &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE, "B.1: %s", res.why);
	cr_assert_eq(res.ede, CTL_EDE_NONE);
	{
		struct ctl_val_denial d[4];
		static uint8_t rd[4][256];
		unsigned n = denials(b1, d);
		for (unsigned i = 0; i < n; i++) {
			memcpy(rd[i], d[i].rdata, d[i].len);
			rd[i][1] = 0; /* flags: no opt-out */
			d[i].rdata = rd[i];
		}
		ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("example."), nm("a.c.x.w.example."),
			     DNS_T_A, 0, NULL, 0, d, n, &res);
		cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.1 without opt-out: %s", res.why);
	}
	proof(CTL_DENY_NODATA, "ns1.example.", DNS_T_MX, 0, b2, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.2: %s", res.why);
	proof(CTL_DENY_NODATA, "y.w.example.", DNS_T_A, 0, b21, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.2.1: %s", res.why);
	proof(CTL_DENY_DS, "c.example.", DNS_T_DS, 0, b3, &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE, "B.3 (opt-out): %s", res.why);
	proof(CTL_DENY_WILDCARD, "a.z.w.example.", DNS_T_MX, 2, b4, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.4: %s", res.why);
	proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_AAAA, 0, b5, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.5: %s", res.why);
	cr_assert_leq(bud.nsec3_hashes, 20);
}

Test(val5155, proofs_missing_a_record_or_asked_the_wrong_thing_fail)
{
	struct ctl_val_result res;
	static const char *const b1_no_wild[] = { H_APEX, H_XW, NULL };
	static const char *const b1_no_ce[] = { H_APEX, H_A, NULL };
	static const char *const b1_no_nc[] = { H_XW, H_A, NULL };
	static const char *const b2[] = { H_NS1, NULL };
	static const char *const b5_no_wild[] = { H_W, H_NS2, NULL };
	static const char *const b1[] = { H_APEX, H_XW, H_A, NULL };

	proof(CTL_DENY_NXDOMAIN, "a.c.x.w.example.", DNS_T_A, 0, b1_no_wild, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_NSEC_MISSING);
	proof(CTL_DENY_NXDOMAIN, "a.c.x.w.example.", DNS_T_A, 0, b1_no_ce, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	proof(CTL_DENY_NXDOMAIN, "a.c.x.w.example.", DNS_T_A, 0, b1_no_nc, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* ns1.example has A: a NODATA for A is a lie. */
	proof(CTL_DENY_NODATA, "ns1.example.", DNS_T_A, 0, b2, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* ns1.example exists: it cannot be NXDOMAIN. */
	proof(CTL_DENY_NXDOMAIN, "ns1.example.", DNS_T_A, 0, b2, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* The wildcard has MX: the wildcard NODATA for MX is a lie. */
	static const char *const b5[] = { H_W, H_NS2, H_WILD_W, NULL };
	proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_MX, 0, b5, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_AAAA, 0, b5_no_wild, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* A question outside the zone is never proven by it. */
	proof(CTL_DENY_NXDOMAIN, "a.c.x.w.example.org.", DNS_T_A, 0, b1, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* The same records for a name whose closest encloser differs. */
	proof(CTL_DENY_NXDOMAIN, "a.b.c.x.w.example.", DNS_T_A, 0, b1, &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE, "%s", res.why);
}

Test(val5155, nsec3_iterations_above_the_limit_are_insecure_with_ede_27)
{
	struct ctl_val_result res;
	static const char *const b1[] = { H_APEX, H_XW, H_A, NULL };
	struct ctl_val_denial d[4];
	static uint8_t rd[4][256];
	unsigned n = denials(b1, d);

	for (unsigned i = 0; i < n; i++) {
		memcpy(rd[i], d[i].rdata, d[i].len);
		dns_put16(rd[i] + 2, 101);
		d[i].rdata = rd[i];
	}
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("example."), nm("a.c.x.w.example."),
		     DNS_T_A, 0, NULL, 0, d, n, &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE);
	cr_assert_eq(res.ede, CTL_EDE_NSEC3_ITERATIONS);
	cr_assert_eq(bud.nsec3_hashes, 0, "nothing hashed at 101 iterations");
	lim.nsec3_max_iterations = 150;
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("example."), nm("a.c.x.w.example."),
		     DNS_T_A, 0, NULL, 0, d, n, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS, "hashes differ at 101 iterations");
}

Test(val5155, a_deep_name_stops_the_closest_encloser_search_at_the_budget)
{
	struct ctl_val_result res;
	static const char *const b1[] = { H_APEX, H_XW, H_A, NULL };
	char q[600] = "";

	for (int i = 0; i < 100; i++)
		strcat(q, "a.");
	strcat(q, "c.x.w.example.");
	proof(CTL_DENY_NXDOMAIN, q, DNS_T_A, 0, b1, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert(bud.nsec3_hit);
	cr_assert_eq(bud.nsec3_hashes, lim.max_nsec3_hashes);
}

/* ---- the real root zone of 2017-08-21 ----------------------------------- */

static struct zone *zroot;
static struct zset root_keys;
#define IN_ROOT "20170825000000"

static void setup_root(void)
{
	setup();
	zroot = zone_read(ROOT_ZONE_2017);
	cr_assert_geq(zone_rrset(zroot, nm("."), DNS_T_DNSKEY, &root_keys), 2);
}

static void teardown_root(void)
{
	zone_free(zroot);
}

TestSuite(valroot, .init = setup_root, .fini = teardown_root, .timeout = 120);

/* IANA's root anchors: KSK-2010 (19036) and KSK-2017 (20326) as DS. */
static const char root_anchor[] =
	". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\n"
	". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";

static void root_ds(struct ctl_val_rrset *ds, struct ctl_val_rdata *rd, uint8_t (*buf)[64])
{
	unsigned tags[2] = { 19036, 20326 };
	const char *hex[2] = { root_anchor + 18, strchr(root_anchor, '\n') + 1 + 18 };

	for (int i = 0; i < 2; i++) {
		dns_put16(buf[i], (uint16_t)tags[i]);
		buf[i][2] = 8;
		buf[i][3] = 2;
		for (int j = 0; j < 32; j++)
			cr_assert(sscanf(hex[i] + 2 * j, "%2hhx", &buf[i][4 + j]) == 1);
		rd[i] = (struct ctl_val_rdata){ buf[i], 36 };
	}
	*ds = (struct ctl_val_rrset){ .owner = nm("."), .type = DNS_T_DS,
				      .rclass = DNS_C_IN, .n = 2, .rr = rd };
}

Test(valroot, root_keys_are_secure_from_ianas_ds_anchors)
{
	struct ctl_val_rrset ds;
	struct ctl_val_rdata rd[2];
	uint8_t buf[2][64];
	struct ctl_val_result res;

	cr_assert(strncmp(root_anchor + 18, "49AAC11D", 8) == 0);
	root_ds(&ds, rd, buf);
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at(IN_ROOT), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	cr_assert_eq(res.ttl, 172800);

	/* Outside the signatures' window: expired, then not yet valid. */
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at("20171001000000"), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_SIG_EXPIRED, "%s", res.why);
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at("20170701000000"), &res);
	cr_assert_eq(res.ede, CTL_EDE_SIG_NOT_YET, "%s", res.why);

	/* A DS of another digest than the key's: no key matches. */
	buf[0][10] ^= 1;
	buf[1][10] ^= 1;
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at(IN_ROOT), &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_DNSKEY_MISSING);

	/* Digests or algorithms we cannot check: insecure, never bogus. */
	buf[0][3] = buf[1][3] = DNS_DS_GOST;
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at(IN_ROOT), &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE);
	cr_assert_eq(res.ede, CTL_EDE_UNSUPPORTED_DIGEST);
	buf[0][3] = buf[1][3] = DNS_DS_SHA256;
	buf[0][2] = buf[1][2] = 253;
	ctl_val_keyset(&bud, &root_keys.set, &ds, NULL, at(IN_ROOT), &res);
	cr_assert_eq(res.sec, CTL_SEC_INSECURE);
	cr_assert_eq(res.ede, CTL_EDE_UNSUPPORTED_ALG);
}

/* Every signed RRset of the zone: the apex, each TLD's DS, the NSEC chain. */
Test(valroot, every_signature_in_the_root_zone_verifies)
{
	unsigned checked = 0, by_type[64] = { 0 };

	for (size_t i = 0; i < zroot->n; i++) {
		const struct zrec *r = &zroot->r[i];
		if (r->type != DNS_T_RRSIG)
			continue;
		struct zset s;
		struct ctl_val_result res;
		uint16_t t = dns_get16(r->rd);
		cr_assert(zone_rrset(zroot, r->owner, t, &s) > 0);
		ctl_val_budget_init(&bud, &lim);
		ctl_val_rrset(&bud, &s.set, nm("."), &root_keys.set, at(IN_ROOT), &res);
		char name[DNS_NAME_MAX * 4];
		dns_name_to_str(r->owner, name, sizeof(name));
		cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s type %u: %s", name, t, res.why);
		checked++;
		by_type[t < 64 ? t : 0]++;
	}
	cr_assert_geq(checked, 2500, "%u", checked);
	cr_assert_geq(by_type[DNS_T_NSEC], 1500);
	cr_assert_geq(by_type[DNS_T_DS], 1000);
}

static unsigned root_nsecs(struct ctl_val_denial *d, unsigned max)
{
	unsigned n = 0;

	for (size_t i = 0; i < zroot->n && n < max; i++)
		if (zroot->r[i].type == DNS_T_NSEC)
			d[n++] = (struct ctl_val_denial){ zroot->r[i].owner,
							  zroot->r[i].rd, zroot->r[i].len };
	return n;
}

/* The two NSEC records a server would send for qname's NXDOMAIN. */
static unsigned nxdomain_nsecs(const uint8_t *qname, struct ctl_val_denial *out)
{
	static struct ctl_val_denial all[4096];
	unsigned n = root_nsecs(all, 4096), k = 0;
	uint8_t wild[3] = { 1, '*', 0 };

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *next = all[i].rdata;
		for (int w = 0; w < 2; w++) {
			const uint8_t *q = w ? wild : qname;
			if (dns_name_cmp(all[i].owner, q) < 0 &&
			    (dns_name_cmp(q, next) < 0 || dns_name_cmp(next, all[i].owner) <= 0))
				out[k++] = all[i];
		}
	}
	return k;
}

Test(valroot, a_tld_that_does_not_exist_is_proven_by_two_nsecs)
{
	struct ctl_val_denial d[4];
	struct ctl_val_result res;
	unsigned n = nxdomain_nsecs(nm("bailiwick-no-such-tld."), d);

	cr_assert_eq(n, 2);
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("."), nm("bailiwick-no-such-tld."), DNS_T_A,
		     0, d, n, NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	/* Below a name that exists, the same NSEC must not deny it. */
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("."), nm("www.com."), DNS_T_A, 0, d, n,
		     NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* Without the wildcard's NSEC the proof is incomplete. */
	for (unsigned i = 0; i < n; i++)
		if (dns_name_labels(d[i].owner) == 0) {
			d[i] = d[n - 1];
			break;
		}
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("."), nm("bailiwick-no-such-tld."), DNS_T_A,
		     0, d, n - 1, NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}

Test(valroot, delegations_without_ds_are_proven_unsigned_and_with_ds_not)
{
	static struct ctl_val_denial all[4096];
	unsigned n = root_nsecs(all, 4096), unsigned_tlds = 0, signed_tlds = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *owner = all[i].owner;
		if (dns_name_labels(owner) == 0)
			continue;
		struct zset ds;
		struct ctl_val_result res;
		bool has_ds = zone_rrset(zroot, owner, DNS_T_DS, &ds) > 0;
		ctl_val_budget_init(&bud, &lim);
		ctl_val_deny(&bud, CTL_DENY_DS, nm("."), owner, DNS_T_DS, 0, &all[i], 1, NULL,
			     0, &res);
		cr_assert_eq(res.sec, has_ds ? CTL_SEC_BOGUS : CTL_SEC_SECURE);
		/* And a NODATA for an A at a delegation is never believed. */
		ctl_val_deny(&bud, CTL_DENY_NODATA, nm("."), owner, DNS_T_A, 0, &all[i], 1,
			     NULL, 0, &res);
		cr_assert_eq(res.sec, CTL_SEC_BOGUS);
		has_ds ? signed_tlds++ : unsigned_tlds++;
	}
	cr_assert_gt(unsigned_tlds, 0);
	cr_assert_gt(signed_tlds, 1000);
}

/* ---- RFC 4035 Appendix B: NSEC ---------------------------------------- */

static struct zone *z4035;
static struct zset keys4035;
#define IN_4035 "20040420000000"

static void setup_4035(void)
{
	setup();
	z4035 = zone_read(TEST_DATA_DIR "/rfc4035.zone");
	cr_assert_eq(zone_rrset(z4035, nm("example."), DNS_T_DNSKEY, &keys4035), 2);
}

static void teardown_4035(void)
{
	zone_free(z4035);
}

TestSuite(val4035, .init = setup_4035, .fini = teardown_4035);

Test(val4035, keyset_and_every_signature_of_appendix_b_verify)
{
	struct ctl_val_result res;
	struct ctl_val_rdata ksk = keys4035.rr[1];
	struct ctl_val_rrset anchor = { .owner = nm("example."), .type = DNS_T_DNSKEY,
					.rclass = DNS_C_IN, .n = 1, .rr = &ksk };
	unsigned checked = 0;

	cr_assert_eq(ctl_val_key_tag(ksk.p, ksk.len), 9465);
	ctl_val_keyset(&bud, &keys4035.set, NULL, &anchor, at(IN_4035), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	for (size_t i = 0; i < z4035->n; i++) {
		const struct zrec *r = &z4035->r[i];
		if (r->type != DNS_T_RRSIG)
			continue;
		struct zset s;
		uint16_t t = dns_get16(r->rd);
		cr_assert(zone_rrset(z4035, r->owner, t, &s) > 0);
		ctl_val_budget_init(&bud, &lim);
		ctl_val_rrset(&bud, &s.set, nm("example."), &keys4035.set, at(IN_4035), &res);
		char name[DNS_NAME_MAX * 4];
		dns_name_to_str(r->owner, name, sizeof(name));
		cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s type %u: %s", name, t, res.why);
		checked++;
	}
	cr_assert_eq(checked, 19, "%u", checked); /* RRSIG records in the file, repeats included */
}

static void nsec_proof(enum ctl_val_deny what, const char *qname, uint16_t qtype,
		       uint8_t wl, const char *const *owners, struct ctl_val_result *res)
{
	struct ctl_val_denial d[8];
	unsigned n = 0;

	for (; *owners; owners++)
		for (size_t i = 0; i < z4035->n; i++)
			if (z4035->r[i].type == DNS_T_NSEC &&
			    dns_name_equal(z4035->r[i].owner, nm(*owners))) {
				d[n++] = (struct ctl_val_denial){ z4035->r[i].owner,
								  z4035->r[i].rd,
								  z4035->r[i].len };
				break;
			}
	ctl_val_deny(&bud, what, nm("example."), nm(qname), qtype, wl, d, n, NULL, 0, res);
}

Test(val4035, appendix_b_proofs_hold)
{
	struct ctl_val_result res;
	static const char *const b2[] = { "b.example.", "example.", NULL };
	static const char *const b3[] = { "ns1.example.", NULL };
	static const char *const b5[] = { "b.example.", NULL };
	static const char *const b6[] = { "x.y.w.example.", NULL };
	static const char *const b7[] = { "x.y.w.example.", "*.w.example.", NULL };

	nsec_proof(CTL_DENY_NXDOMAIN, "ml.example.", DNS_T_A, 0, b2, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.2: %s", res.why);
	nsec_proof(CTL_DENY_NODATA, "ns1.example.", DNS_T_MX, 0, b3, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.3: %s", res.why);
	nsec_proof(CTL_DENY_DS, "b.example.", DNS_T_DS, 0, b5, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.5: %s", res.why);
	nsec_proof(CTL_DENY_WILDCARD, "a.z.w.example.", DNS_T_MX, 2, b6, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.6: %s", res.why);
	nsec_proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_AAAA, 0, b7, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "B.7: %s", res.why);
}

Test(val4035, proofs_from_the_wrong_side_of_a_cut_or_incomplete_fail)
{
	struct ctl_val_result res;
	static const char *const b2_no_wild[] = { "b.example.", NULL };
	static const char *const apex[] = { "example.", NULL };
	static const char *const b5[] = { "b.example.", NULL };
	static const char *const b6[] = { "x.y.w.example.", NULL };
	static const char *const b7_no_wild[] = { "x.y.w.example.", NULL };
	static const char *const b7[] = { "x.y.w.example.", "*.w.example.", NULL };

	nsec_proof(CTL_DENY_NXDOMAIN, "ml.example.", DNS_T_A, 0, b2_no_wild, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	cr_assert_eq(res.ede, CTL_EDE_NSEC_MISSING);
	/* B.8: the child's apex NSEC (with SOA) cannot deny the parent's DS. */
	nsec_proof(CTL_DENY_DS, "example.", DNS_T_DS, 0, apex, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS, "B.8: %s", res.why);
	/* The delegation's NSEC says nothing about names below the cut, nor
	 * about types other than DS at it. */
	nsec_proof(CTL_DENY_NXDOMAIN, "www.b.example.", DNS_T_A, 0, b5, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	nsec_proof(CTL_DENY_NODATA, "b.example.", DNS_T_A, 0, b5, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* A wildcard answer whose source would be below w: y.w.example exists
	 * (x.y.w.example is the covering NSEC's owner), so an answer
	 * synthesised from *.w.example for a.y.w.example is a lie. */
	nsec_proof(CTL_DENY_WILDCARD, "a.y.w.example.", DNS_T_MX, 2, b6, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	nsec_proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_AAAA, 0, b7_no_wild, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* The wildcard has MX: a wildcard NODATA for MX is a lie. */
	nsec_proof(CTL_DENY_NODATA, "a.z.w.example.", DNS_T_MX, 0, b7, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* An NXDOMAIN that the wildcard would have answered is a lie. */
	nsec_proof(CTL_DENY_NXDOMAIN, "a.z.w.example.", DNS_T_MX, 0, b7, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}

Test(val4035, the_ds_of_a_signed_delegation_verifies)
{
	struct zset s;
	struct ctl_val_result res;

	cr_assert_eq(zone_rrset(z4035, nm("a.example."), DNS_T_DS, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys4035.set, at(IN_4035), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	/* The NS set at a delegation is not signed: RRSIGs missing. */
	cr_assert_eq(zone_rrset(z4035, nm("a.example."), DNS_T_NS, &s), 2);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys4035.set, at(IN_4035), &res);
	cr_assert_eq(res.ede, CTL_EDE_RRSIGS_MISSING);
}

/* ---- what a hostile review found (each once a way to bogus-as-secure) ---- */

Test(val4035, a_name_without_ns_is_no_unsigned_delegation)
{
	struct ctl_val_result res;
	static const char *const ns1[] = { "ns1.example.", NULL };

	/* ns1.example has no DS, but it is no cut: it cannot be "unsigned". */
	nsec_proof(CTL_DENY_DS, "ns1.example.", DNS_T_DS, 0, ns1, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	/* while a NODATA for its DS is an ordinary, secure NODATA */
	nsec_proof(CTL_DENY_NODATA, "ns1.example.", DNS_T_DS, 0, ns1, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
}

Test(val4035, an_empty_non_terminal_is_not_nxdomain)
{
	struct ctl_val_result res;
	/* x.w.example NSEC x.y.w.example: y.w.example exists, empty */
	uint8_t rd[64];
	const uint8_t *next = nm("x.y.w.example.");
	size_t nl = dns_name_len(next);
	memcpy(rd, next, nl);
	memcpy(rd + nl, "\x00\x01\x40", 3);
	struct ctl_val_denial d[2] = {
		{ nm("x.w.example."), rd, (uint16_t)(nl + 3) },
	};
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("example."), nm("y.w.example."), DNS_T_A, 0,
		     d, 1, NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	ctl_val_deny(&bud, CTL_DENY_NODATA, nm("example."), nm("y.w.example."), DNS_T_A, 0, d,
		     1, NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "an ENT's NODATA: %s", res.why);
}

Test(val4035, the_wildcard_owner_itself_is_no_expansion)
{
	struct zset s;
	struct ctl_val_result res;

	cr_assert_eq(zone_rrset(z4035, nm("*.w.example."), DNS_T_NSEC, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys4035.set, at(IN_4035), &res);
	cr_assert_eq(res.sec, CTL_SEC_SECURE, "%s", res.why);
	cr_assert_eq(res.wildcard_labels, 0);
	cr_assert_eq(zone_rrset(z4035, nm("a.z.w.example."), DNS_T_MX, &s), 1);
	ctl_val_rrset(&bud, &s.set, nm("example."), &keys4035.set, at(IN_4035), &res);
	cr_assert_eq(res.wildcard_labels, 2);
}

Test(valroot, another_zones_last_nsec_does_not_wrap_over_the_root)
{
	struct ctl_val_denial d[4];
	struct ctl_val_result res;
	uint8_t rd[64];
	/* zz.y.nl. NSEC y.nl. (the last NSEC of y.nl): covers nothing of "." */
	const uint8_t *next = nm("y.nl.");
	size_t nl = dns_name_len(next);
	memcpy(rd, next, nl);
	memcpy(rd + nl, "\x00\x01\x40", 3);
	unsigned n = nxdomain_nsecs(nm("bailiwick-no-such-tld."), d);
	for (unsigned i = 0; i < n; i++)
		if (dns_name_labels(d[i].owner) != 0) /* keep the apex's (covers *.) */
			d[i] = (struct ctl_val_denial){ nm("zz.y.nl."), rd, (uint16_t)(nl + 3) };
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("."), nm("org."), DNS_T_A, 0, d, n, NULL, 0,
		     &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
	ctl_val_deny(&bud, CTL_DENY_NXDOMAIN, nm("."), nm("zzz-no-such."), DNS_T_A, 0, d, n,
		     NULL, 0, &res);
	cr_assert_eq(res.sec, CTL_SEC_BOGUS);
}
