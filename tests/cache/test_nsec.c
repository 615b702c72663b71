/*
 * tests/cache/test_nsec.c: the NSEC/NSEC3 range trees (cache/nsec.h):
 * NXDOMAIN and NODATA proofs and what must block them (type bits, CNAME,
 * zone cuts, DNAME, missing wildcard denial, expiry, opt-out, hash budget),
 * canonical order (RFC 4034 6.1 names, escapes, case, label lengths), wrap
 * at the last range, replacement, pruning of the ranges an insert
 * contradicts (NSEC and NSEC3, with the wrap), dropping, byte accounting
 * and the byte budget (expiry first, then least recently inserted-into
 * zones), RFC 5155 Appendix A hash vectors, and readers racing the writer
 * under QSBR (tests/cache/stress_nsec.c does that at length, under TSan).
 *
 * Blobs in these tests are the owner's presentation name (or, in the race
 * test, owner + next + checksum), so a proof can be checked by reading them.
 */
#define _LGPL_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "cache/nsec.h"
#include "dns/err.h"
#include "dns/name.h"
#include "dns/wire.h"
#include "tests/dns/testutil.h"

#define T_END (-1)
#define EXP 1000u	/* expiry of most test ranges */
#define NOW 500u
#define INS_NOW 0u	/* writer clock of inserts: no expiry sweep */

static void setup(void)
{
	urcu_qsbr_register_thread();
}

static void teardown(void)
{
	urcu_qsbr_unregister_thread();
}

TestSuite(nsec, .init = setup, .fini = teardown);
TestSuite(nsec3, .init = setup, .fini = teardown);

/* Type bitmap (RFC 4034 4.1.2) of the types in t[], ended by T_END. */
static size_t mkbitmap(uint8_t *out, const int *t)
{
	uint8_t win[256][32];
	int len[256] = { 0 };
	size_t p = 0;

	memset(win, 0, sizeof(win));
	for (; *t != T_END; t++) {
		int w = *t >> 8, b = (*t & 0xff) / 8;

		win[w][b] |= (uint8_t)(0x80 >> (*t % 8));
		if (len[w] < b + 1)
			len[w] = b + 1;
	}
	for (int w = 0; w < 256; w++) {
		if (!len[w])
			continue;
		out[p++] = (uint8_t)w;
		out[p++] = (uint8_t)len[w];
		memcpy(out + p, win[w], (size_t)len[w]);
		p += (size_t)len[w];
	}
	return p;
}

static size_t nsec_rdata(uint8_t *out, const char *next, const int *types)
{
	size_t l = dns_name_len(nm(next));

	memcpy(out, nm(next), l);
	return l + mkbitmap(out + l, types);
}

static int ins_nsec(struct cache_nsec *n, const char *zone, const char *owner,
		    const char *next, uint32_t exp, const int *types)
{
	uint8_t rd[1024], z[DNS_NAME_MAX], o[DNS_NAME_MAX];
	size_t rdlen = nsec_rdata(rd, next, types);

	memcpy(z, nm(zone), DNS_NAME_MAX);
	memcpy(o, nm(owner), DNS_NAME_MAX);
	return cache_nsec_insert(n, z, o, rd, rdlen, exp,
				 (const uint8_t *)owner, strlen(owner), INS_NOW);
}

#define TYPES(...) ((const int[]){ __VA_ARGS__, T_END })
#define NOTYPES ((const int[]){ T_END })
#define INS(n, zone, owner, next, ...)                                         \
	cr_assert_eq(ins_nsec(n, zone, owner, next, EXP, TYPES(__VA_ARGS__)), \
		     0, "insert %s", owner)

static void soa(struct cache_nsec *n, const char *zone, uint32_t exp)
{
	char b[300];

	snprintf(b, sizeof(b), "SOA %s", zone);
	cr_assert_eq(cache_nsec_set_soa(n, nm(zone), (const uint8_t *)b,
					strlen(b), exp, INS_NOW), 0);
}

static const char *blob_str(const struct cache_nsec_blob *b)
{
	static char ring[4][1024];
	static unsigned next;
	char *s = ring[next++ % 4];

	memcpy(s, b->data, b->len);
	s[b->len] = 0;
	return s;
}

static int look(const struct cache_nsec *n, const char *q, uint16_t qtype,
		uint32_t now, struct cache_nsec_proof *p)
{
	return cache_nsec_lookup(n, nm(q), qtype, now, p);
}

/* cache_nsec_lookup() of q copied to a buffer of exactly its length, so
 * that the ASan build catches a read past the name's end. */
static int look_exact(const struct cache_nsec *n, const char *q, uint16_t qtype,
		      struct cache_nsec_proof *p)
{
	const uint8_t *w = nm(q);
	size_t len = dns_name_len(w);
	uint8_t *b = malloc(len);
	int v;

	cr_assert(b);
	memcpy(b, w, len);
	v = cache_nsec_lookup(n, b, qtype, NOW, p);
	free(b);
	return v;
}

static void upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* The proof's ranges, by blob, joined with spaces. */
static const char *used(const struct cache_nsec_proof *p)
{
	static char s[2048];

	s[0] = 0;
	for (unsigned i = 0; i < p->nrr; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, blob_str(&p->rr[i]));
	}
	return s;
}

static uint32_t xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The small signed zone most NSEC tests use:
 * example. a.example. d.example.(CNAME) sub.example.(cut) z.example. */
static void fill_example(struct cache_nsec *n)
{
	soa(n, "example.", EXP);
	INS(n, "example.", "example.", "a.example.", DNS_T_NS, DNS_T_SOA,
	    DNS_T_RRSIG, DNS_T_NSEC, DNS_T_DNSKEY);
	INS(n, "example.", "a.example.", "d.example.", DNS_T_A, DNS_T_TXT,
	    DNS_T_RRSIG, DNS_T_NSEC);
	INS(n, "example.", "d.example.", "sub.example.", DNS_T_CNAME,
	    DNS_T_RRSIG, DNS_T_NSEC);
	INS(n, "example.", "sub.example.", "z.example.", DNS_T_NS, DNS_T_RRSIG,
	    DNS_T_NSEC);
	INS(n, "example.", "z.example.", "example.", DNS_T_A, DNS_T_RRSIG,
	    DNS_T_NSEC);
}

static struct cache_nsec *zone_example(void)
{
	struct cache_nsec *n = cache_nsec_new(NULL);

	cr_assert_not_null(n);
	fill_example(n);
	return n;
}

Test(nsec, covering_range_proves_nxdomain)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	/* b is covered by a->d; the wildcard *.example by example->a. */
	cr_assert_str_eq(used(&p), "a.example. example.");
	cr_assert_str_eq(blob_str(&p.soa), "SOA example.");
	cr_assert(dns_name_equal(p.zone, nm("example.")));
	cr_assert_eq(p.expire_at, EXP);
	cr_assert_not(p.nsec3);
	cr_assert_not(p.wildcard);
	/* Deeper names under a non-existent name: same proof. */
	cr_assert_eq(look(n, "x.y.B.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "a.example. example.");
	cache_nsec_free(n);
}

/* A question's letter case changes no proof: every name below as asked,
 * lower-cased and upper-cased (labels of 1 to 20 octets, so that the key
 * prefix's words are crossed; one with an octet 0xfe, which takes the
 * octet-at-a-time encoding; one too long for the prefix). */
Test(nsec, letter_case_changes_no_proof)
{
	struct cache_nsec *n = zone_example();
	static const char *const names[] = {
		"b.example.", "x.y.B.example.", "Abcdefghijklmnopqrst.example.", "zZ.example.",
		"a.example.", "A.EXAMPLE.", "Sub.Example.", "q.SUB.example.", "D.example.",
		"ccccccccC.Ccccccc.example.", "\\254Q.b.example.",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaAb.Example.",
		"yYYYYYYy.zzzzzz.Z.example.", "Z.example.", "example.", "ZA.example.",
	};
	static const uint16_t types[] = { DNS_T_A, DNS_T_MX, DNS_T_DS, DNS_T_NS };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			char lo[400], up[400], want[2048];
			struct cache_nsec_proof p;

			snprintf(lo, sizeof(lo), "%s", names[i]);
			snprintf(up, sizeof(up), "%s", names[i]);
			for (char *s = lo; *s; s++)
				if (*s >= 'A' && *s <= 'Z')
					*s = (char)(*s - 'A' + 'a');
			upper(up);
			int v = look(n, lo, types[t], NOW, &p);
			int why = p.why;
			snprintf(want, sizeof(want), "%s", used(&p));
			cr_assert_eq(look_exact(n, names[i], types[t], &p), v, "%s", names[i]);
			cr_assert_eq(p.why, why, "%s", names[i]);
			cr_assert_str_eq(used(&p), want, "%s", names[i]);
			cr_assert_eq(look_exact(n, up, types[t], &p), v, "%s", up);
			cr_assert_eq(p.why, why, "%s", up);
			cr_assert_str_eq(used(&p), want, "%s", up);
		}
	}
	/* and the answers are not all one kind */
	struct cache_nsec_proof p;
	cr_assert_eq(look(n, "B.EXAMPLE.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "a.example. example.");
	cr_assert_eq(look(n, "A.EXAMPLE.", DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "ZA.EXAMPLE.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "z.example. example.");
	cache_nsec_free(n);
}

Test(nsec, name_below_existing_name_needs_its_own_wildcard_denial)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	/* x.a.example: covered by a->d; closest encloser a.example, and
	 * *.a.example lies in a->d too: one range is the whole proof. */
	cr_assert_eq(look(n, "x.a.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(p.nrr, 1);
	cr_assert_str_eq(used(&p), "a.example.");
	cache_nsec_free(n);
}

Test(nsec, range_not_covering_proves_nothing)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", EXP);
	INS(n, "example.", "example.", "a.example.", DNS_T_SOA, DNS_T_NS);
	INS(n, "example.", "a.example.", "d.example.", DNS_T_A);
	cr_assert_eq(look(n, "e.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_RANGE);
	cr_assert_eq(p.nrr, 0);
	cr_assert_eq(look(n, "d.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	/* A name outside every zone, and meta qtypes. */
	cr_assert_eq(look(n, "b.example.org.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	cr_assert_eq(look(n, "b.example.", DNS_T_ANY, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_QTYPE);
	cr_assert_eq(look(n, "b.example.", DNS_T_OPT, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "b.example.", DNS_T_AXFR, NOW, &p),
		     CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec, missing_wildcard_denial_means_no_proof)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", EXP);
	INS(n, "example.", "a.example.", "d.example.", DNS_T_A);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_WILDCARD);
	cr_assert_eq(p.nrr, 0);
	/* An expired wildcard denial is no denial either. */
	cr_assert_eq(ins_nsec(n, "example.", "example.", "a.example.", 600,
			      TYPES(DNS_T_SOA, DNS_T_NS)), 0);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, 599, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(p.expire_at, 600);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, 600, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_WILDCARD);
	cache_nsec_free(n);
}

Test(nsec, exact_match_nodata_follows_the_type_bitmap)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "a.example.", DNS_T_AAAA, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "a.example.");
	cr_assert_eq(look(n, "A.EXAMPLE.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "a.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cr_assert_eq(look(n, "a.example.", DNS_T_TXT, NOW, &p),
		     CACHE_NSEC_NONE);
	/* Types in a later window of the bitmap. */
	cr_assert_eq(ins_nsec(n, "example.", "z.example.", "example.", EXP,
			      TYPES(DNS_T_A, 256, 32769)), 0);
	cr_assert_eq(look(n, "z.example.", 256, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "z.example.", 32769, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "z.example.", 257, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "z.example.", 32768, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "z.example.", DNS_T_AAAA, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* The apex: NODATA for what it lacks, nothing for what it has. */
	cr_assert_eq(look(n, "example.", DNS_T_A, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "example.", DNS_T_SOA, NOW, &p), CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec, cname_in_bitmap_blocks_nodata)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "d.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cr_assert_eq(look(n, "d.example.", DNS_T_CNAME, NOW, &p),
		     CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec, ns_without_soa_proves_only_ds_absent)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "sub.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "sub.example.");
	cr_assert_eq(look(n, "sub.example.", DNS_T_AAAA, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	cr_assert_eq(look(n, "sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	/* A signed delegation (DS in the bitmap): DS exists. */
	cr_assert_eq(ins_nsec(n, "example.", "sub.example.", "z.example.", EXP,
			      TYPES(DNS_T_NS, DNS_T_DS, DNS_T_RRSIG)), 0);
	cr_assert_eq(look(n, "sub.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cache_nsec_free(n);
}

Test(nsec, delegation_range_denies_nothing_below_the_cut)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	/* x.sub.example sorts inside sub->z, but it is in the child zone. */
	cr_assert_eq(look(n, "x.sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	/* The same for a DNAME: names below it are redirected, not absent. */
	cr_assert_eq(ins_nsec(n, "example.", "sub.example.", "z.example.", EXP,
			      TYPES(DNS_T_DNAME, DNS_T_RRSIG)), 0);
	cr_assert_eq(look(n, "x.sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	cr_assert_eq(look(n, "sub.example.", DNS_T_AAAA, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* Without the cut, the name is simply absent. */
	cr_assert_eq(ins_nsec(n, "example.", "sub.example.", "z.example.", EXP,
			      TYPES(DNS_T_A, DNS_T_RRSIG)), 0);
	cr_assert_eq(look(n, "x.sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cache_nsec_free(n);
}

Test(nsec, ds_is_answered_from_the_parent_zone)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	/* Only the child: its apex NSEC (SOA set) cannot deny DS. */
	soa(n, "sub.example.", EXP);
	INS(n, "sub.example.", "sub.example.", "sub.example.", DNS_T_NS,
	    DNS_T_SOA, DNS_T_RRSIG, DNS_T_NSEC, DNS_T_DNSKEY);
	cr_assert_eq(look(n, "sub.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	cr_assert_eq(look(n, "sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert(dns_name_equal(p.zone, nm("sub.example.")));
	cr_assert_eq(look(n, "x.sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN, "single-range zone wraps");
	/* With the parent's delegation range, DS absence is proven there. */
	soa(n, "example.", EXP);
	INS(n, "example.", "sub.example.", "z.example.", DNS_T_NS, DNS_T_RRSIG,
	    DNS_T_NSEC);
	cr_assert_eq(look(n, "sub.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert(dns_name_equal(p.zone, nm("example.")));
	cr_assert_str_eq(blob_str(&p.soa), "SOA example.");
	/* A child apex range in the parent's tree (SOA set) is refused. */
	INS(n, "example.", "sub.example.", "z.example.", DNS_T_NS, DNS_T_SOA);
	cr_assert_eq(look(n, "sub.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	/* The longest zone wins for everything else. */
	cr_assert_eq(look(n, "x.sub.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("sub.example.")));
	cache_nsec_free(n);
}

Test(nsec, wildcard_match_without_qtype_is_wildcard_nodata)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", EXP);
	INS(n, "example.", "example.", "*.example.", DNS_T_SOA, DNS_T_NS);
	INS(n, "example.", "*.example.", "a.example.", DNS_T_TXT, DNS_T_RRSIG);
	INS(n, "example.", "a.example.", "z.example.", DNS_T_A);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert(p.wildcard);
	cr_assert_str_eq(used(&p), "a.example. *.example.");
	/* The wildcard has TXT: the answer is a positive one, not ours. */
	cr_assert_eq(look(n, "b.example.", DNS_T_TXT, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cr_assert_not(p.wildcard);
	/* A wildcard CNAME blocks NODATA too. */
	INS(n, "example.", "*.example.", "a.example.", DNS_T_CNAME);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec, empty_non_terminal_is_nodata_not_nxdomain)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", EXP);
	INS(n, "example.", "example.", "a.example.", DNS_T_SOA, DNS_T_NS);
	INS(n, "example.", "a.example.", "x.b.example.", DNS_T_A);
	/* b.example has a child, so it exists with no records. */
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "a.example.");
	cr_assert_eq(look(n, "b.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* A wildcard that is an empty non-terminal (x.*.example exists)
	 * is not denied by the range that covers it. */
	INS(n, "example.", "example.", "x.*.example.", DNS_T_SOA, DNS_T_NS);
	INS(n, "example.", "x.*.example.", "a.example.", DNS_T_A);
	INS(n, "example.", "a.example.", "z.example.", DNS_T_A);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_WILDCARD);
	cache_nsec_free(n);
}

Test(nsec, last_range_wraps_to_the_apex)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "zz.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "z.example. example.");
	cr_assert_eq(look(n, "a.z.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "z.example.");
	cr_assert_eq(look(n, "\\255\\255.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	/* next before owner is only allowed when next is the apex. */
	cr_assert_eq(ins_nsec(n, "example.", "z.example.", "b.example.", EXP,
			      TYPES(DNS_T_A)), CACHE_E_NSEC_ZONE);
	cr_assert_eq(ins_nsec(n, "example.", "b.example.", "b.example.", EXP,
			      TYPES(DNS_T_A)), CACHE_E_NSEC_ZONE);
	cache_nsec_free(n);
}

/* ---- pruning: an insert removes the ranges it contradicts ---- */

static uint64_t pruned_count(const struct cache_nsec *n)
{
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	return st.pruned_ranges;
}

static uint64_t nsec_count(const struct cache_nsec *n)
{
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	return st.nsec_ranges;
}

/* apex -> a -> b -> c -> d -> e -> apex, every name with A. */
static struct cache_nsec *zone_abcde(void)
{
	static const char *const chain[] = { "example.", "a.example.",
		"b.example.", "c.example.", "d.example.", "e.example." };
	struct cache_nsec *n = cache_nsec_new(NULL);

	cr_assert_not_null(n);
	soa(n, "example.", EXP);
	for (int i = 0; i < 6; i++)
		INS(n, "example.", chain[i], chain[(i + 1) % 6], DNS_T_A);
	cr_assert_eq(nsec_count(n), 6);
	cr_assert_eq(pruned_count(n), 0, "a consistent chain loses nothing");
	return n;
}

Test(nsec, resigned_range_swallows_the_older_ranges_inside_it)
{
	struct cache_nsec *n = zone_abcde();
	struct cache_nsec_proof p;

	cr_assert_eq(look(n, "c.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* The zone lost b, c and d: its new chain has a -> e. */
	INS(n, "example.", "a.example.", "e.example.", DNS_T_A);
	cr_assert_eq(pruned_count(n), 3);
	cr_assert_eq(nsec_count(n), 3);
	for (const char *const *q = (const char *const[]){ "b.example.",
		"c.example.", "d.example.", "cc.example.", NULL }; *q; q++) {
		cr_assert_eq(look(n, *q, DNS_T_MX, NOW, &p),
			     CACHE_NSEC_NXDOMAIN, "%s", *q);
		cr_assert_str_eq(used(&p), "a.example. example.", "%s", *q);
	}
	cr_assert_eq(look(n, "e.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA, "the next name's range stays");
	cache_nsec_free(n);
}

Test(nsec, range_covering_the_new_owner_is_dropped)
{
	struct cache_nsec *n = zone_abcde();
	struct cache_nsec_proof p;

	/* The zone gained bb: b -> c is contradicted by bb's own range. */
	INS(n, "example.", "bb.example.", "c.example.", DNS_T_A);
	cr_assert_eq(pruned_count(n), 1);
	cr_assert_eq(nsec_count(n), 6);
	cr_assert_eq(look(n, "bb.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "b.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NONE, "b's range went with b -> c");
	cr_assert_eq(look(n, "ba.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE, "nothing covers b..bb any more");
	cr_assert_eq(look(n, "bc.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "bb.example. example.");
	cache_nsec_free(n);
}

Test(nsec, partial_overlaps_on_both_sides_are_dropped)
{
	struct cache_nsec *n = zone_abcde();
	struct cache_nsec_proof p;

	/* bb -> cc: bb lies inside b -> c, and c (inside bb -> cc) owns
	 * c -> d, which reaches past cc. Both go. */
	INS(n, "example.", "bb.example.", "cc.example.", DNS_T_A);
	cr_assert_eq(pruned_count(n), 2);
	cr_assert_eq(nsec_count(n), 5);
	cr_assert_eq(look(n, "c.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "bb.example. example.");
	cr_assert_eq(look(n, "ccc.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE, "c -> d no longer speaks");
	cr_assert_eq(look(n, "d.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cache_nsec_free(n);
}

Test(nsec, wrap_to_the_apex_prunes_to_the_end_of_the_zone)
{
	struct cache_nsec *n = zone_abcde();
	struct cache_nsec_proof p;

	/* The apex range does not lie inside the wrap e -> apex. */
	INS(n, "example.", "example.", "a.example.", DNS_T_SOA, DNS_T_NS);
	cr_assert_eq(pruned_count(n), 0);
	/* c became the last name: c -> apex swallows d and e. */
	INS(n, "example.", "c.example.", "example.", DNS_T_A);
	cr_assert_eq(pruned_count(n), 2);
	cr_assert_eq(nsec_count(n), 4);
	cr_assert_eq(look(n, "e.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "c.example. example.");
	/* A new last name after the wrap's owner drops the old wrap. */
	INS(n, "example.", "z.example.", "example.", DNS_T_A);
	cr_assert_eq(pruned_count(n), 3);
	cr_assert_eq(look(n, "d.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE, "c -> apex went");
	cr_assert_eq(look(n, "zz.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	/* A one-name zone: apex -> apex leaves nothing else. */
	INS(n, "example.", "example.", "example.", DNS_T_SOA, DNS_T_NS);
	cr_assert_eq(nsec_count(n), 1);
	cr_assert_eq(pruned_count(n), 6);
	cr_assert_eq(look(n, "a.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "example.");
	cache_nsec_free(n);
}

Test(nsec, expired_ranges_and_soa_prove_nothing)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", 800);
	cr_assert_eq(ins_nsec(n, "example.", "example.", "a.example.", 900,
			      TYPES(DNS_T_SOA, DNS_T_NS)), 0);
	cr_assert_eq(ins_nsec(n, "example.", "a.example.", "d.example.", 700,
			      TYPES(DNS_T_A)), 0);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, 699, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(p.expire_at, 700, "earliest of ranges and SOA");
	cr_assert_eq(p.rr[0].expire_at, 700);
	cr_assert_eq(p.rr[1].expire_at, 900);
	cr_assert_eq(p.soa.expire_at, 800);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, 700, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_RANGE);
	cr_assert_eq(look(n, "a.example.", DNS_T_MX, 700, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "example.", DNS_T_MX, 799, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "example.", DNS_T_MX, 800, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_SOA);
	/* No SOA at all. */
	cr_assert_eq(ins_nsec(n, "org.", "org.", "a.org.", 900,
			      TYPES(DNS_T_SOA)), 0);
	cr_assert_eq(look(n, "org.", DNS_T_MX, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_SOA);
	cache_nsec_free(n);
}

/*
 * RFC 4034 6.1's example names, in canonical order, as one chain; then
 * names that fall between them (escapes, case, label lengths).
 */
static const char *const rfc4034_order[] = {
	"example.",	     "a.example.",	"yljkjljk.a.example.",
	"Z.a.example.",	     "zABC.a.EXAMPLE.", "z.example.",
	"\\001.z.example.", "*.z.example.",	"\\200.z.example.",
};

Test(nsec, canonical_order_follows_rfc4034)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	size_t count = sizeof(rfc4034_order) / sizeof(rfc4034_order[0]);

	soa(n, "example.", EXP);
	/* Inserted backwards, so the tree has to order them itself. */
	for (size_t i = count; i-- > 0;) {
		const char *next = i + 1 < count ? rfc4034_order[i + 1]
						 : "example.";

		cr_assert_eq(ins_nsec(n, "example.", rfc4034_order[i], next,
				      EXP, TYPES(DNS_T_A, DNS_T_RRSIG)), 0,
			     "%s", rfc4034_order[i]);
	}
	for (size_t i = 0; i < count; i++) {
		cr_assert_eq(look(n, rfc4034_order[i], DNS_T_MX, NOW, &p),
			     CACHE_NSEC_NODATA, "%s", rfc4034_order[i]);
		cr_assert_str_eq(used(&p), rfc4034_order[i]);
	}
	static const struct {
		const char *q, *cover;
		int verdict;
	} between[] = {
		{ "b.a.example.", "a.example.", CACHE_NSEC_NXDOMAIN },
		{ "YZ.a.example.", "yljkjljk.a.example.", CACHE_NSEC_NXDOMAIN },
		{ "za.a.example.", "Z.a.example.", CACHE_NSEC_NXDOMAIN },
		{ "zabd.a.example.", "zABC.a.EXAMPLE.", CACHE_NSEC_NXDOMAIN },
		/* a shorter label sorts first: a.example's subtree < aa */
		{ "aa.example.", "zABC.a.EXAMPLE.", CACHE_NSEC_NXDOMAIN },
		{ "y.example.", "zABC.a.EXAMPLE.", CACHE_NSEC_NXDOMAIN },
		/* \000 sorts between z.example and \001.z.example; the
		 * wildcard *.z.example exists and lacks MX */
		{ "\\000.z.example.", "z.example.", CACHE_NSEC_NODATA },
		{ "\\001\\000.z.example.", "\\001.z.example.",
		  CACHE_NSEC_NODATA },
		{ "A.z.example.", "*.z.example.", CACHE_NSEC_NODATA },
		{ "\\127.z.example.", "*.z.example.", CACHE_NSEC_NODATA },
		{ "\\200\\000.z.example.", "\\200.z.example.",
		  CACHE_NSEC_NODATA },
		{ "\\255.z.example.", "\\200.z.example.", CACHE_NSEC_NODATA },
		{ "x.\\200.z.example.", "\\200.z.example.",
		  CACHE_NSEC_NXDOMAIN },
	};
	for (size_t i = 0; i < sizeof(between) / sizeof(between[0]); i++) {
		int v = look(n, between[i].q, DNS_T_MX, NOW, &p);

		cr_assert_eq(v, between[i].verdict, "%s: %d why %d",
			     between[i].q, v, p.why);
		cr_assert_str_eq(blob_str(&p.rr[0]), between[i].cover, "%s",
				 between[i].q);
	}
	/* The wildcard has A: querying A below z.example is positive. */
	cr_assert_eq(look(n, "A.z.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec, same_owner_replaces_the_range)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;

	cr_assert_eq(look(n, "c.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	/* The zone gained b.example: a->b replaces a->d. */
	INS(n, "example.", "A.Example.", "b.example.", DNS_T_A);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec_ranges, 5);
	cr_assert_eq(st.zones, 1);
	cr_assert_eq(look(n, "c.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "a.example.", DNS_T_TXT, NOW, &p),
		     CACHE_NSEC_NODATA, "the bitmap was replaced too");
	cr_assert_str_eq(used(&p), "A.Example.", "and the blob");
	cr_assert_eq(look(n, "aa.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cache_nsec_free(n);
}

Test(nsec, insert_refuses_bad_ranges)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	uint8_t rd[512], bad[80];
	size_t len;

	cr_assert_eq(ins_nsec(n, "example.", "a.example.org.", "b.example.",
			      EXP, TYPES(DNS_T_A)), CACHE_E_NSEC_ZONE);
	cr_assert_eq(ins_nsec(n, "example.", "a.example.", "b.example.org.",
			      EXP, TYPES(DNS_T_A)), CACHE_E_NSEC_ZONE);
	cr_assert_eq(ins_nsec(n, "example.", "xample.", "example.", EXP,
			      TYPES(DNS_T_A)), CACHE_E_NSEC_ZONE);
	/* A label longer than 63 octets as owner. */
	memset(bad, 'a', sizeof(bad));
	bad[0] = 64;
	len = nsec_rdata(rd, "b.example.", TYPES(DNS_T_A));
	cr_assert_eq(cache_nsec_insert(n, nm("example."), bad, rd, len, EXP,
				       (const uint8_t *)"x", 1, INS_NOW),
		     DNS_E_LABEL_LEN);
	/* Bitmaps: a zero trailing octet, windows out of order. */
	len = dns_name_len(nm("b.example."));
	memcpy(rd, nm("b.example."), len);
	memcpy(rd + len, (const uint8_t[]){ 0, 2, 0x40, 0 }, 4);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       len + 4, EXP, (const uint8_t *)"x", 1, INS_NOW),
		     DNS_E_BITMAP);
	memcpy(rd + len, (const uint8_t[]){ 1, 1, 0x40, 0, 1, 0x40 }, 6);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       len + 6, EXP, (const uint8_t *)"x", 1, INS_NOW),
		     DNS_E_BITMAP);
	/* A compression pointer as next name. */
	memcpy(rd, (const uint8_t[]){ 0xc0, 12 }, 2);
	cr_assert_lt(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       2, EXP, (const uint8_t *)"x", 1, INS_NOW), 0);
	/* Empty blob, NULL arguments. */
	len = nsec_rdata(rd, "b.example.", TYPES(DNS_T_A));
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       len, EXP, (const uint8_t *)"x", 0, INS_NOW),
		     DNS_E_INVAL);
	cr_assert_eq(cache_nsec_insert(n, NULL, nm("a.example."), rd, len, EXP,
				       (const uint8_t *)"x", 1, INS_NOW), DNS_E_INVAL);
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), NULL, 3, EXP, INS_NOW),
		     DNS_E_INVAL);
	/* Nothing was created by the refusals. */
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 0);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("example.")),
		     CACHE_E_NSEC_NOZONE);
	cache_nsec_free(n);
}

Test(nsec, drop_expired_removes_ranges_and_empty_zones)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	size_t empty = cache_nsec_bytes(n);
	char owner[64], next[64];

	soa(n, "example.", 2000);
	soa(n, "org.", 400);
	cr_assert_eq(ins_nsec(n, "org.", "org.", "org.", 400,
			      TYPES(DNS_T_SOA)), 0);
	/* 200 ranges, every other one expiring at 400. */
	for (int i = 0; i < 200; i++) {
		snprintf(owner, sizeof(owner), "n%03d.example.", i);
		snprintf(next, sizeof(next), "n%03d.example.", i + 1);
		cr_assert_eq(ins_nsec(n, "example.", owner,
				      i == 199 ? "example." : next,
				      i % 2 ? 400 : 1500, TYPES(DNS_T_A)), 0);
	}
	INS(n, "example.", "example.", "n000.example.", DNS_T_SOA, DNS_T_NS);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 2);
	cr_assert_eq(st.nsec_ranges, 202);
	cr_assert_eq(cache_nsec_drop_expired(n, 399), 0);
	cr_assert_eq(cache_nsec_drop_expired(n, 400), 101, "100 + org's");
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 1, "org had nothing left");
	cr_assert_eq(st.nsec_ranges, 101);
	cr_assert_eq(st.max_height, 7, "rebuilt balanced");
	cr_assert_eq(look(n, "n010x.example.", DNS_T_A, 450, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(look(n, "n011x.example.", DNS_T_A, 450, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "n198.example.", DNS_T_MX, 450, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_eq(look(n, "n199.example.", DNS_T_MX, 450, &p),
		     CACHE_NSEC_NONE);
	/* The rebuilt tree takes inserts as before. */
	INS(n, "example.", "n011.example.", "n012.example.", DNS_T_A);
	cr_assert_eq(look(n, "n011x.example.", DNS_T_A, 450, &p),
		     CACHE_NSEC_NXDOMAIN);
	for (int i = 0; i < 200; i += 2) {
		snprintf(owner, sizeof(owner), "n%03d.example.", i);
		cr_assert_eq(look(n, owner, DNS_T_MX, 450, &p),
			     CACHE_NSEC_NODATA, "%s", owner);
	}
	/* Everything expired: the zone goes, and so does its memory. */
	cr_assert_eq(cache_nsec_drop_expired(n, 5000), 102);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 0);
	urcu_qsbr_barrier();
	cr_assert_eq(cache_nsec_bytes(n), empty);
	cache_nsec_free(n);
}

Test(nsec, drop_zone_frees_everything_it_held)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	size_t empty = cache_nsec_bytes(n);

	fill_example(n);
	soa(n, "org.", EXP);
	cr_assert_gt(cache_nsec_bytes(n), empty);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("EXAMPLE.")), 0);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("example.")),
		     CACHE_E_NSEC_NOZONE);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("org.")), 0);
	urcu_qsbr_barrier();
	cr_assert_eq(cache_nsec_bytes(n), empty);
	/* The zone can come back. */
	fill_example(n);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cache_nsec_free(n);
}

/* An operator's flush of a name: the zones at or below it and the closest
 * one above (whose ranges could deny it) go; the others stay. */
Test(nsec, a_flush_under_a_name_drops_its_zones_and_the_one_above)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_stats st;

	soa(n, "org.", EXP);
	soa(n, "example.org.", EXP);
	soa(n, "a.b.example.org.", EXP);
	soa(n, "xb.example.org.", EXP);
	soa(n, "net.", EXP);
	/* the name a.b.example.org: the zone at it and example.org above
	 * (not org: only the closest) */
	cr_assert_eq(cache_nsec_flush_under(n, nm("a.b.example.org."), false), 2,
		     "itself and example.org above");
	soa(n, "a.b.example.org.", EXP);
	soa(n, "example.org.", EXP);
	/* the name b.example.org alone: example.org above; a zone below it
	 * cannot deny it */
	cr_assert_eq(cache_nsec_flush_under(n, nm("b.example.org."), false), 1);
	soa(n, "example.org.", EXP);
	/* the names at and below b.example.org: a.b.example.org below it,
	 * example.org above */
	cr_assert_eq(cache_nsec_flush_under(n, nm("B.Example.ORG."), true), 2);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 3);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("a.b.example.org.")), CACHE_E_NSEC_NOZONE);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("example.org.")), CACHE_E_NSEC_NOZONE);
	cr_assert_eq(cache_nsec_flush_under(n, nm("xb.example.org."), true), 2,
		     "itself, and org now the closest above");
	cr_assert_eq(cache_nsec_flush_under(n, nm("www.example."), true), 0, "nothing above");
	soa(n, "example.", EXP);
	cr_assert_eq(cache_nsec_flush_under(n, nm("."), true), 2, "the root: every zone");
	cr_assert_eq(cache_nsec_flush_under(n, NULL, true), DNS_E_INVAL);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 0);
	cache_nsec_free(n);
}

Test(nsec, many_ranges_stay_ordered_in_any_insert_order)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	enum { COUNT = 5000 };
	static int order[COUNT];
	char owner[64], next[64];
	uint32_t seed = 12345;

	soa(n, "example.", EXP);
	INS(n, "example.", "example.", "n00000.example.", DNS_T_SOA);
	/* Ascending (the worst case for an unbalanced tree), then every
	 * range again in a shuffled order (all replacements). */
	for (int i = 0; i < COUNT; i++)
		order[i] = i;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < COUNT; i++) {
			int k = order[i];

			snprintf(owner, sizeof(owner), "n%05d.example.", k);
			snprintf(next, sizeof(next), "n%05d.example.", k + 1);
			cr_assert_eq(ins_nsec(n, "example.", owner,
					      k == COUNT - 1 ? "example." : next,
					      EXP + (uint32_t)pass,
					      TYPES(DNS_T_A)), 0);
		}
		for (int i = COUNT - 1; i > 0; i--) {
			seed = seed * 1103515245 + 12345;
			int j = (int)((seed >> 8) % (uint32_t)(i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec_ranges, COUNT + 1);
	/* AVL: height <= 1.44 log2(5003) = 17.7 */
	cr_assert_leq(st.max_height, 17);
	cr_assert_geq(st.max_height, 13, "log2(5001) rounded up");
	for (int k = 0; k < COUNT; k++) {
		snprintf(owner, sizeof(owner), "n%05d.example.", k);
		cr_assert_eq(look(n, owner, DNS_T_MX, NOW, &p),
			     CACHE_NSEC_NODATA, "%s", owner);
		cr_assert_str_eq(used(&p), owner);
		cr_assert_eq(p.rr[0].expire_at, EXP + 1, "replaced");
		snprintf(owner, sizeof(owner), "n%05dx.example.", k);
		cr_assert_eq(look(n, owner, DNS_T_MX, NOW, &p),
			     CACHE_NSEC_NXDOMAIN, "%s", owner);
	}
	cache_nsec_free(n);
}

/*
 * Random inserts, replacements, expiry and drops against a model that
 * finds the covering range by a linear scan. Owners are n000..n299 (in
 * canonical order by number); the apex range is always there. Ranges
 * overlap at random, so the model prunes as nsec.h says: an insert of
 * (i, j) removes the ranges owned strictly between i and j, and the one
 * before i whose next lies after i.
 */
Test(nsec, random_operations_match_a_linear_model)
{
	enum { NAMES = 300, OPS = 20000 };
	static struct {
		bool present;
		int next;	/* NAMES: the apex */
		uint32_t exp;
	} m[NAMES];
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	uint32_t seed = 99, now = 100;
	char owner[32], next[32], q[32];
	int seen[3] = { 0 };
	uint64_t pruned = 0;

	memset(m, 0, sizeof(m));
	soa(n, "example.", 1u << 30);
	cr_assert_eq(ins_nsec(n, "example.", "example.", "n000.example.",
			      1u << 30, TYPES(DNS_T_SOA, DNS_T_NS)), 0);
	for (int op = 0; op < OPS; op++) {
		uint32_t x = xorshift32(&seed);
		int i = (int)(xorshift32(&seed) % NAMES);

		if (x % 97 == 0) {
			int d = 0;

			now += 5;
			for (int k = 0; k < NAMES; k++)
				if (m[k].present && now >= m[k].exp) {
					m[k].present = false;
					d++;
				}
			cr_assert_eq(cache_nsec_drop_expired(n, now), d);
			continue;
		}
		if (x % 3) { /* insert or replace */
			int j = i + 1 + (int)((x >> 10) % 4);

			if (j > NAMES)
				j = NAMES;
			int before = -1;

			for (int k = 0; k < i; k++)
				if (m[k].present)
					before = k;
			if (before >= 0 && m[before].next > i) {
				m[before].present = false;
				pruned++;
			}
			for (int k = i + 1; k < j; k++)
				if (m[k].present) {
					m[k].present = false;
					pruned++;
				}
			m[i].present = true;
			m[i].next = j;
			m[i].exp = now + (x >> 16) % 40;
			snprintf(owner, sizeof(owner), "n%03d.example.", i);
			snprintf(next, sizeof(next), "n%03d.example.", j);
			cr_assert_eq(ins_nsec(n, "example.", owner,
					      j == NAMES ? "example." : next,
					      m[i].exp, TYPES(DNS_T_A)), 0);
			continue;
		}
		/* the name itself, or one sorting just after it */
		bool after = (x >> 8) & 1;
		int pred = -1, expect;

		snprintf(q, sizeof(q),
			 after ? "n%03dx.example." : "n%03d.example.", i);
		for (int k = 0; k < i + after; k++)
			if (m[k].present)
				pred = k;
		if (!after && m[i].present)
			expect = now < m[i].exp ? CACHE_NSEC_NODATA
						: CACHE_NSEC_NONE;
		else if (pred >= 0 && now < m[pred].exp && m[pred].next > i)
			expect = CACHE_NSEC_NXDOMAIN;
		else
			expect = CACHE_NSEC_NONE;
		cr_assert_eq(look(n, q, DNS_T_MX, now, &p), expect,
			     "op %d: %s at %u", op, q, now);
		seen[expect]++;
	}
	for (int v = 0; v < 3; v++)
		cr_assert_gt(seen[v], 300, "verdict %d seen %d times", v,
			     seen[v]);
	cache_nsec_get_stats(n, &st);
	int count = 1;

	for (int k = 0; k < NAMES; k++)
		count += m[k].present;
	cr_assert_eq(st.nsec_ranges, (uint64_t)count);
	cr_assert_eq(st.pruned_ranges, pruned);
	cr_assert_gt(pruned, 1000, "the model pruned often");
	cache_nsec_free(n);
}

/* A random name below example.: 1-3 labels of lengths around the tree's
 * 31-octet key prefix, octets mostly 'a' and otherwise the ones the
 * prefix code treats specially (0x00, 0x01, 0xfe, 0xff), case mixed. */
static size_t random_name(uint32_t *seed, uint8_t *out)
{
	static const uint8_t odd[] = { 0x00, 0x01, '*', 'A', 'b', 'B',
				       0x7f, 0x80, 0xfd, 0xfe, 0xff };
	static const uint8_t lens[] = { 1, 2, 3, 29, 30, 31, 32, 33, 40 };
	int labels = 1 + (int)(xorshift32(seed) % 3);
	size_t p = 0;

	for (int i = 0; i < labels; i++) {
		uint8_t len = lens[xorshift32(seed) % sizeof(lens)];

		out[p++] = len;
		for (int j = 0; j < len; j++) {
			uint32_t x = xorshift32(seed);

			out[p++] = x % 4 ? 'a' : odd[(x >> 8) % sizeof(odd)];
		}
	}
	memcpy(out + p, nm("example."), 9);
	return p + 9;
}

static int name_qsort_cmp(const void *a, const void *b)
{
	return dns_name_cmp(a, b);
}

/* A random label (random_name()'s lengths and octets) put before name in
 * out, when the result fits. */
static bool random_child(uint32_t *seed, const uint8_t *name, uint8_t *out)
{
	uint8_t l[DNS_NAME_MAX + 16];
	size_t nl = dns_name_len(name), ll;

	random_name(seed, l);
	ll = 1 + (size_t)l[0]; /* its first label only */
	if (ll + nl > DNS_NAME_MAX)
		return false;
	memcpy(out, l, ll);
	memcpy(out + ll, name, nl);
	return true;
}

/*
 * A consistent NSEC chain of up to want random owners below example. (one in
 * four a child of an earlier one; with stars, half of those the wildcard at
 * one or a child of it), sorted into own[] by dns_name_cmp() (the
 * reference) and inserted in random order: apex -> own[0] -> ... -> apex.
 * Each range's blob is its owner; every bitmap is A alone. With hole and
 * cut (arrays of want, else NULL): one range in 9 is left out (hole[k]:
 * the range at own[k] was not inserted) and one owner in 7 is a
 * delegation (cut[k]: bitmap NS alone). Returns count.
 */
static int odd_chain(struct cache_nsec *n, uint8_t (*own)[DNS_NAME_MAX], int *order,
		     int want, bool stars, bool *hole, bool *cut, uint32_t *seed)
{
	uint8_t rd[2 * DNS_NAME_MAX + 8];
	size_t bl = mkbitmap(rd, TYPES(DNS_T_A));
	uint8_t bm[8], bm_ns[8];
	size_t bl_ns = mkbitmap(bm_ns, TYPES(DNS_T_NS));
	int count = 0, holes = 0;

	memcpy(bm, rd, bl);
	soa(n, "example.", EXP);
	for (int i = 0; i < want; i++) {
		bool dup = false;

		const uint8_t *up = count ? own[xorshift32(seed) % (uint32_t)count] : NULL;
		uint8_t star[DNS_NAME_MAX + 2];

		if (up && stars && i % 8 == 7 && dns_name_len(up) + 2 <= DNS_NAME_MAX) {
			/* below the wildcard at an owner: an empty
			 * non-terminal wildcard */
			star[0] = 1;
			star[1] = '*';
			memcpy(star + 2, up, dns_name_len(up));
			up = star;
		}
		if (up == star && i % 16 == 15)
			memcpy(own[count], star, dns_name_len(star)); /* the wildcard */
		else if (i % 4 != 3 || !up || !random_child(seed, up, own[count]))
			random_name(seed, own[count]);
		for (int k = 0; k < count && !dup; k++)
			dup = dns_name_equal(own[k], own[count]);
		count += !dup;
	}
	qsort(own, (size_t)count, sizeof(own[0]), name_qsort_cmp);
	for (int i = 0; i < count; i++)
		order[i] = i;
	for (int i = count - 1; i > 0; i--) {
		int j = (int)(xorshift32(seed) % (uint32_t)(i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	memcpy(rd, own[0], dns_name_len(own[0]));
	memcpy(rd + dns_name_len(own[0]), bm, bl);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("example."), rd,
				       dns_name_len(own[0]) + bl, EXP,
				       nm("example."), 9, INS_NOW), 0);
	for (int k = 0; k < count; k++) {
		if (hole)
			holes += hole[k] = xorshift32(seed) % 9 == 0;
		if (cut)
			cut[k] = xorshift32(seed) % 7 == 0;
	}
	for (int i = 0; i < count; i++) {
		int k = order[i];
		const uint8_t *nx = k + 1 < count ? own[k + 1] : nm("example.");
		size_t ol = dns_name_len(own[k]), nl = dns_name_len(nx);
		bool ns = cut && cut[k];

		if (hole && hole[k])
			continue;
		memcpy(rd, nx, nl);
		memcpy(rd + nl, ns ? bm_ns : bm, ns ? bl_ns : bl);
		cr_assert_eq(cache_nsec_insert(n, nm("example."), own[k], rd,
					       nl + (ns ? bl_ns : bl), EXP, own[k], ol,
					       INS_NOW), 0);
	}
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec_ranges, (uint64_t)(count - holes) + 1);
	cr_assert_eq(st.pruned_ranges, 0, "a consistent chain loses nothing");
	return count;
}

/* The tree's prefix-coded descent against dns_name_cmp() by linear scan. */
Test(nsec, tree_order_matches_dns_name_cmp_for_odd_octets)
{
	enum { OWNERS = 1500, QUERIES = 4000 };
	static uint8_t own[OWNERS][DNS_NAME_MAX];
	static int order[OWNERS];
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	uint8_t q[DNS_NAME_MAX];
	uint32_t seed = 4242;
	int count = odd_chain(n, own, order, OWNERS, false, NULL, NULL, &seed), no_wildcard = 0;

	for (int i = 0; i < QUERIES + count; i++) {
		const uint8_t *best = nm("example.");

		if (i < count) { /* each owner, case flipped at random */
			memcpy(q, own[i], dns_name_len(own[i]));
			for (size_t j = 0; q[j]; j += q[j] + 1u)
				for (unsigned k = 1; k <= q[j]; k++)
					if (q[j + k] >= 'a' && q[j + k] <= 'z' &&
					    xorshift32(&seed) % 2)
						q[j + k] -= 32;
		} else {
			random_name(&seed, q);
		}
		for (int k = 0; k < count; k++)
			if (dns_name_cmp(own[k], q) <= 0 &&
			    dns_name_cmp(own[k], best) > 0)
				best = own[k];
		int v = cache_nsec_lookup(n, q, DNS_T_MX, NOW, &p);

		/* A '*' label in an owner can make the wildcard exist (or be
		 * an empty non-terminal): then the covering range alone is no
		 * proof. Anything else must be proven. */
		if (v == CACHE_NSEC_NONE && p.why == CACHE_NSEC_WHY_NO_WILDCARD &&
		    i >= count) {
			no_wildcard++;
			continue;
		}
		cr_assert_neq(v, CACHE_NSEC_NONE, "query %d why %d", i, p.why);
		cr_assert_eq(p.rr[0].len, dns_name_len(best), "query %d", i);
		cr_assert(dns_name_equal(p.rr[0].data, best), "query %d", i);
		if (i < count)
			cr_assert(v == CACHE_NSEC_NODATA && !p.wildcard);
	}
	cr_assert_lt(no_wildcard, QUERIES / 20, "%d", no_wildcard);
	cache_nsec_free(n);
}

/* ---- a reference prover: linear scans and whole names, no prefixes ---- */

struct ref_proof {
	int v, why, nrr;
	bool wildcard;
	const uint8_t *rr[CACHE_NSEC_PROOF_RR_MAX];
};

/* name without its first skip labels */
static const uint8_t *ref_suffix(const uint8_t *name, int skip)
{
	while (skip-- > 0)
		name += name[0] + 1;
	return name;
}

/* Labels a and b share at the right (letter case aside). */
static int ref_common(const uint8_t *a, const uint8_t *b)
{
	int na = dns_name_labels(a), nb = dns_name_labels(b), c = 0;

	while (c < na && c < nb &&
	       dns_name_equal(ref_suffix(a, na - c - 1), ref_suffix(b, nb - c - 1)))
		c++;
	return c;
}

/* The chain apex -> own[0] -> ... -> apex with its holes and cuts. */
struct ref_chain {
	uint8_t (*own)[DNS_NAME_MAX];
	int count;
	const bool *hole, *cut;
};

/* The greatest owner <= q whose range is there (the apex's always is), its
 * index (-1: the apex), its next; *wrap for the last range. */
static const uint8_t *ref_pred(const struct ref_chain *c, const uint8_t *q, int *at,
			       const uint8_t **next, bool *wrap)
{
	int k = -1;

	for (int i = 0; i < c->count && dns_name_cmp(c->own[i], q) <= 0; i++)
		if (!c->hole[i])
			k = i;
	*at = k;
	*wrap = k == c->count - 1;
	*next = *wrap ? nm("example.") : c->own[k + 1];
	return k < 0 ? nm("example.") : c->own[k];
}

static void ref_add(struct ref_proof *r, const uint8_t *owner)
{
	for (int i = 0; i < r->nrr; i++)
		if (dns_name_equal(r->rr[i], owner))
			return;
	r->rr[r->nrr++] = owner;
}

static void ref_none(struct ref_proof *r, int why)
{
	r->v = CACHE_NSEC_NONE;
	r->why = why;
	r->nrr = 0;
}

/* RFC 4035 5.4 and RFC 8198 5.3 by the book, for qtype (MX or DS; every
 * bitmap A alone, or NS alone at a cut). */
static void ref_prove(const struct ref_chain *c, const uint8_t *q, uint16_t qtype,
		      uint8_t *wc, struct ref_proof *r)
{
	const uint8_t *next, *next2;
	bool wrap, wrap2;
	int k, k2;
	const uint8_t *o = ref_pred(c, q, &k, &next, &wrap);
	bool cut = k >= 0 && c->cut[k];

	memset(r, 0, sizeof(*r));
	if (dns_name_equal(o, q)) {
		/* NS without SOA speaks only for DS (RFC 4035 5.4) */
		if (cut && qtype != DNS_T_DS)
			return ref_none(r, CACHE_NSEC_WHY_DELEGATION);
		ref_add(r, o);
		r->v = CACHE_NSEC_NODATA;
		return;
	}
	if (!wrap && dns_name_cmp(q, next) >= 0)
		return ref_none(r, CACHE_NSEC_WHY_NO_RANGE);
	if (cut && dns_name_is_subdomain(q, o))
		return ref_none(r, CACHE_NSEC_WHY_DELEGATION);
	ref_add(r, o);
	if (!wrap && dns_name_is_subdomain(next, q)) {
		r->v = CACHE_NSEC_NODATA; /* an empty non-terminal */
		return;
	}
	int c1 = ref_common(q, o), c2 = ref_common(q, next);
	const uint8_t *ce = ref_suffix(q, dns_name_labels(q) - (c1 > c2 ? c1 : c2));

	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, ce, dns_name_len(ce));
	const uint8_t *o2 = ref_pred(c, wc, &k2, &next2, &wrap2);
	bool cut2 = k2 >= 0 && c->cut[k2];

	if (dns_name_equal(o2, wc)) {
		if (cut2 && qtype != DNS_T_DS)
			return ref_none(r, CACHE_NSEC_WHY_DELEGATION);
		ref_add(r, o2);
		r->v = CACHE_NSEC_NODATA;
		r->wildcard = true;
		return;
	}
	if ((!wrap2 && dns_name_cmp(wc, next2) >= 0) || (cut2 && dns_name_is_subdomain(wc, o2)) ||
	    (!wrap2 && dns_name_is_subdomain(next2, wc)))
		return ref_none(r, CACHE_NSEC_WHY_NO_WILDCARD);
	ref_add(r, o2);
	r->v = CACHE_NSEC_NXDOMAIN;
}

/*
 * Every proof the store builds (from its key prefixes: the closest encloser,
 * the wildcard's prefix, empty non-terminals) against the reference prover,
 * on names whose prefixes are cut, tie, escape 0xfe/0xff and carry '*'
 * labels: random names, children and siblings of owners, owners in mixed
 * letter case, and wildcards at owners.
 */
Test(nsec, proofs_match_a_reference_prover_for_odd_names)
{
	enum { OWNERS = 600, QUERIES = 6000 };
	static uint8_t own[OWNERS][DNS_NAME_MAX];
	static int order[OWNERS];
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	static bool hole[OWNERS], cut[OWNERS];
	struct ref_proof r;
	uint8_t q[DNS_NAME_MAX + 16], wc[DNS_NAME_MAX + 2];
	uint32_t seed = 777;
	int count = odd_chain(n, own, order, OWNERS, true, hole, cut, &seed);
	int seen[3] = { 0 }, wild = 0, why[16] = { 0 };
	struct ref_chain c = { own, count, hole, cut };

	for (int i = 0; i < QUERIES; i++) {
		const uint8_t *o = own[xorshift32(&seed) % (uint32_t)count];

		switch (i % 6) {
		case 0:
			random_name(&seed, q);
			break;
		case 1: /* a child of an owner */
			if (!random_child(&seed, o, q))
				random_name(&seed, q);
			break;
		case 2: /* a sibling: another first label */
			if (dns_name_labels(o) < 2 ||
			    !random_child(&seed, ref_suffix(o, 1), q))
				random_name(&seed, q);
			break;
		case 3: /* an owner, letters flipped */
			memcpy(q, o, dns_name_len(o));
			for (size_t j = 0; q[j]; j += q[j] + 1u)
				for (unsigned k = 1; k <= q[j]; k++)
					if (q[j + k] >= 'a' && q[j + k] <= 'z' &&
					    xorshift32(&seed) % 2)
						q[j + k] -= 32;
			break;
		case 4: /* an owner with one octet of its first label changed:
			 * it shares a long prefix with its neighbours */
			memcpy(q, o, dns_name_len(o));
			q[1 + xorshift32(&seed) % q[0]] ^= (uint8_t)(1 + xorshift32(&seed) % 255);
			break;
		default: /* the wildcard at an owner, or a name below it */
			if (dns_name_len(o) + 2 > DNS_NAME_MAX) {
				random_name(&seed, q);
				break;
			}
			q[0] = 1;
			q[1] = '*';
			memcpy(q + 2, o, dns_name_len(o));
			if (xorshift32(&seed) % 2) {
				memcpy(wc, q, dns_name_len(q));
				if (!random_child(&seed, wc, q))
					memcpy(q, wc, dns_name_len(wc));
			}
			break;
		}
		uint16_t qtype = i % 7 == 0 ? DNS_T_DS : DNS_T_MX;
		int v = cache_nsec_lookup(n, q, qtype, NOW, &p);

		ref_prove(&c, q, qtype, wc, &r);
		cr_assert_eq(v, r.v, "query %d: verdict %d, reference %d (why %d)", i, v, r.v,
			     p.why);
		seen[v]++;
		if (v == CACHE_NSEC_NONE) {
			cr_assert_eq(p.why, r.why, "query %d", i);
			why[p.why & 15]++;
			continue;
		}
		cr_assert_eq(p.nrr, r.nrr, "query %d", i);
		cr_assert_eq(p.wildcard, r.wildcard, "query %d", i);
		wild += p.wildcard;
		for (int k = 0; k < r.nrr; k++)
			cr_assert(p.rr[k].len == dns_name_len(r.rr[k]) &&
				  memcmp(p.rr[k].data, r.rr[k], p.rr[k].len) == 0,
				  "query %d: range %d", i, k);
	}
	/* the cases are all there */
	cr_assert_gt(seen[CACHE_NSEC_NXDOMAIN], QUERIES / 10);
	cr_assert_gt(seen[CACHE_NSEC_NODATA], QUERIES / 10);
	cr_assert_gt(seen[CACHE_NSEC_NONE], 10);
	cr_assert_gt(wild, 10);
	cr_assert_gt(why[CACHE_NSEC_WHY_NO_RANGE], 10, "holes");
	cr_assert_gt(why[CACHE_NSEC_WHY_DELEGATION], 10, "cuts");
	cr_assert_gt(why[CACHE_NSEC_WHY_NO_WILDCARD], 10, "wildcards");
	cache_nsec_free(n);
}

/*
 * A name one label below the apex takes its own path to its key prefix
 * (nsec_read.c's one_label_words(), the label's octets as the prefix's
 * words): every label length from 1 to 40 (each side of the words' edges
 * at 8, 16, 24 and of the prefix's end at 31), octets from the letters in
 * both cases and the ones the prefix treats apart (escapes 0xfe/0xff, 0x00,
 * 0x01, '*'), proven as the reference prover proves them in a chain with
 * holes and cuts whose owners are one label long as well as longer.
 */
Test(nsec, one_label_names_of_every_length_match_the_reference)
{
	enum { OWNERS = 600, PER_LENGTH = 60 };
	static uint8_t own[OWNERS][DNS_NAME_MAX];
	static int order[OWNERS];
	static bool hole[OWNERS], cut[OWNERS];
	static const uint8_t odd[] = { 0x00, 0x01, '*', 0x7f, 0x80, 0xfd, 0xfe, 0xff };
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct ref_proof r;
	uint8_t q[DNS_NAME_MAX], wc[DNS_NAME_MAX + 2];
	uint32_t seed = 9003;
	/* (no wildcard owners: with *.example. there, no one-label name would
	 * be an NXDOMAIN; random_name() can still make that one, not with
	 * this seed) */
	int count = odd_chain(n, own, order, OWNERS, false, hole, cut, &seed);
	struct ref_chain c = { own, count, hole, cut };
	int seen[3] = { 0 }, why[16] = { 0 };

	for (int k = 0; k < count; k++)
		cr_assert_not(dns_name_equal(own[k], nm("*.example.")), "the seed made *.example.");

	for (int len = 1; len <= 40; len++) {
		for (int i = 0; i < PER_LENGTH; i++) {
			const uint8_t *o = own[xorshift32(&seed) % (uint32_t)count];

			q[0] = (uint8_t)len;
			for (int j = 1; j <= len; j++) {
				uint32_t x = xorshift32(&seed);

				/* a third of them start as an owner does, so that
				 * they share a long prefix with it */
				if (i % 3 == 0 && j <= o[0])
					q[j] = o[j];
				else if (x % 8 == 0)
					q[j] = odd[(x >> 8) % sizeof(odd)];
				else
					q[j] = (uint8_t)((x >> 8) % 2 ? 'a' : 'A') + (uint8_t)((x >> 16) % 26);
			}
			memcpy(q + 1 + len, nm("example."), dns_name_len(nm("example.")));
			int v = cache_nsec_lookup(n, q, DNS_T_MX, NOW, &p);

			ref_prove(&c, q, DNS_T_MX, wc, &r);
			cr_assert_eq(v, r.v, "length %d, query %d: verdict %d, reference %d (why %d)",
				     len, i, v, r.v, p.why);
			seen[v]++;
			if (v == CACHE_NSEC_NONE) {
				cr_assert_eq(p.why, r.why, "length %d, query %d", len, i);
				why[p.why & 15]++;
				continue;
			}
			cr_assert_eq(p.nrr, r.nrr, "length %d, query %d", len, i);
			for (int k = 0; k < r.nrr; k++)
				cr_assert(p.rr[k].len == dns_name_len(r.rr[k]) &&
					  memcmp(p.rr[k].data, r.rr[k], p.rr[k].len) == 0,
					  "length %d, query %d: range %d", len, i, k);
		}
	}
	cr_assert_gt(seen[CACHE_NSEC_NXDOMAIN], 40 * PER_LENGTH / 10, "%d %d %d, why %d %d %d %d",
		     seen[0], seen[1], seen[2], why[CACHE_NSEC_WHY_NO_RANGE],
		     why[CACHE_NSEC_WHY_NO_WILDCARD], why[CACHE_NSEC_WHY_DELEGATION],
		     why[CACHE_NSEC_WHY_TYPE_EXISTS]);
	cr_assert_gt(seen[CACHE_NSEC_NONE], 10);
	cache_nsec_free(n);
}

/* The zones of the memo tests: nested with gaps between their depths, and
 * beside one another; each apex's range covers what sorts before "m", the
 * other what sorts after. */
static const char *memo_zones[] = { ".", "lab.", "q.r.s.lab.", "other.", "a.b.other." };

static struct cache_nsec *memo_store(void)
{
	struct cache_nsec *n = cache_nsec_new(NULL);

	for (size_t i = 0; i < sizeof(memo_zones) / sizeof(memo_zones[0]); i++) {
		const char *z = memo_zones[i];
		char m[64];

		snprintf(m, sizeof(m), "m.%s", strcmp(z, ".") ? z : "");
		soa(n, z, EXP);
		INS(n, z, z, m, DNS_T_NS, DNS_T_SOA, DNS_T_NSEC, DNS_T_RRSIG);
		INS(n, z, m, z, DNS_T_A, DNS_T_NSEC, DNS_T_RRSIG);
	}
	return n;
}

/*
 * The reader's memo (cache_nsec_lookup_memo()) changes no answer: 20 000
 * random names under memo_zones, each upper- or lower-cased, asked for A,
 * TXT and DS, give the lookup without memo's verdict and proof, with the
 * memo carried from one question to the next and forgotten now and then;
 * most lookups start from it. And the cases by name: a name below a deeper
 * zone after its parent's answer (the deeper zone's proof, found by the
 * probes below the memo's apex), one beside it (its own zone), and DS at
 * a child's apex (the parent's).
 */
Test(nsec, memo_changes_no_answer)
{
	static const char *labels[] = { "x", "m", "z", "q", "r", "s", "a", "b", "lab", "other", "*" };
	enum { NL = sizeof(labels) / sizeof(labels[0]), QUESTIONS = 20000 };
	struct cache_nsec *n = memo_store();
	struct cache_nsec_memo memo = { 0 };
	struct cache_nsec_proof p1, p2;
	uint32_t seed = 7;
	int proven = 0;

	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.lab."), DNS_T_A, NOW, &p1),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(memo.apex, nm("lab.")));
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.Q.r.S.lab."), DNS_T_A, NOW, &p1),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p1.zone, nm("q.r.s.lab.")), "the deeper zone's proof");
	cr_assert_eq(memo.used, 1);
	/* (as many labels as q.r.s.lab.: its apex compare says no) */
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("w.x.y.other."), DNS_T_A, NOW, &p1),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p1.zone, nm("other.")));
	cr_assert_eq(memo.used, 1, "not from q.r.s.lab.'s memo");
	/* from other.'s memo, a probe of x.a.b.other. (no zone) first */
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.a.b.other."), DNS_T_A, NOW, &p1),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p1.zone, nm("a.b.other.")), "the deeper zone, not other.");
	cr_assert_eq(memo.used, 2);
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("a.b.other."), DNS_T_DS, NOW, &p1),
		     cache_nsec_lookup(n, nm("a.b.other."), DNS_T_DS, NOW, &p2));
	cr_assert(dns_name_equal(p1.zone, nm("other.")), "DS: the parent's");

	memo.used = 0;
	for (int k = 0; k < QUESTIONS; k++) {
		char q[256] = "";
		int depth = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
		uint16_t qtype;

		for (int d = 0; d < depth; d++) {
			char *e = q + strlen(q);

			seed = seed * 1103515245u + 12345u;
			snprintf(e, sizeof(q) - (size_t)(e - q), "%s.", labels[(seed >> 16) % NL]);
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) & 1)
			upper(q);
		qtype = (seed >> 17) % 3 == 0 ? DNS_T_DS : (seed >> 17) % 3 == 1 ? DNS_T_TXT : DNS_T_A;
		if ((seed >> 20) % 7 == 0)
			cache_nsec_memo_forget(&memo);
		int v1 = cache_nsec_lookup(n, nm(q), qtype, NOW, &p1);
		int v2 = cache_nsec_lookup_memo(n, &memo, nm(q), qtype, NOW, &p2);

		cr_assert_eq(v2, v1, "%s type %u", q, qtype);
		cr_assert_eq(p2.why, p1.why, "%s type %u", q, qtype);
		cr_assert_eq(p2.zone, p1.zone, "%s type %u", q, qtype);
		cr_assert_eq(p2.nrr, p1.nrr, "%s type %u", q, qtype);
		cr_assert_eq(p2.wildcard, p1.wildcard, "%s type %u", q, qtype);
		for (unsigned i = 0; i < p1.nrr; i++)
			cr_assert_eq(p2.rr[i].data, p1.rr[i].data, "%s type %u", q, qtype);
		proven += v1 != CACHE_NSEC_NONE;
	}
	cr_assert_gt(proven, QUESTIONS / 4, "%d of the questions proven", proven);
	cr_assert_gt(memo.used, QUESTIONS / 4, "%lu started from the memo", memo.used);
	cache_nsec_free(n);
}

/*
 * A zone dropped, or another added, within the reader's turn (before its
 * quiescent state, so the memo's zone is still readable): the memo is of
 * the table before, and the next lookup gives what the table now says.
 */
Test(nsec, memo_follows_the_table_within_a_turn)
{
	struct cache_nsec *n = memo_store();
	struct cache_nsec_memo memo = { 0 };
	struct cache_nsec_proof p, p0;

	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.lab."), DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(cache_nsec_drop_zone(n, nm("lab.")), 0);
	int v = cache_nsec_lookup_memo(n, &memo, nm("y.lab."), DNS_T_A, NOW, &p);
	cr_assert_eq(v, cache_nsec_lookup(n, nm("y.lab."), DNS_T_A, NOW, &p0));
	cr_assert_eq(p.zone, p0.zone);
	cr_assert(p.zone && dns_name_equal(p.zone, nm(".")), "the root's, not the dropped zone's");
	cr_assert_eq(memo.used, 0);
	/* a zone added between the memo's apex and the question */
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.other."), DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	unsigned long used = memo.used;

	soa(n, "d.other.", EXP);
	INS(n, "d.other.", "d.other.", "m.d.other.", DNS_T_NS, DNS_T_SOA, DNS_T_NSEC, DNS_T_RRSIG);
	INS(n, "d.other.", "m.d.other.", "d.other.", DNS_T_A, DNS_T_NSEC, DNS_T_RRSIG);
	cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm("x.d.other."), DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("d.other.")), "the zone added");
	cr_assert_eq(memo.used, used, "a memo of the table before the zone came");
	cache_nsec_free(n);
}

/*
 * Zones whose apexes are as long and differ only in their last octets (the
 * memo's apex compare reads its last word apart: 8 octets ending at the
 * apex's end, over the word before), at lengths 8 to 24 and in both letter
 * cases: a question under one after the other's answer is the other's.
 */
Test(nsec, memo_tells_apexes_apart_by_their_last_octets)
{
	static const char *pairs[][2] = {
		{ "abcdef.", "abcdeg." },			/* 8 octets */
		{ "abcdefg.", "abcdefh." },			/* 9 */
		{ "abcdefgh.example.", "abcdefgh.examplf." },	/* 18 */
		{ "bank.secure.", "bank.securf." },		/* 13 */
		{ "abcdefghijklmnopqrstuv.", "abcdefghijklmnopqrstuw." }, /* 24 */
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct cache_nsec *n = cache_nsec_new(NULL);
		struct cache_nsec_memo memo = { 0 };
		struct cache_nsec_proof p;
		char q[128], m[128];

		for (int k = 0; k < 2; k++) {
			const char *z = pairs[i][k];

			snprintf(m, sizeof(m), "m.%s", z);
			soa(n, z, EXP);
			INS(n, z, z, m, DNS_T_NS, DNS_T_SOA, DNS_T_NSEC, DNS_T_RRSIG);
			INS(n, z, m, z, DNS_T_A, DNS_T_NSEC, DNS_T_RRSIG);
		}
		for (int k = 0; k < 4; k++) {
			const char *z = pairs[i][k % 2];

			snprintf(q, sizeof(q), "%s.%s", k < 2 ? "x" : "X", z);
			if (k >= 2) /* the zone's letters upper-cased too */
				for (char *c = q; *c; c++)
					if (*c >= 'a' && *c <= 'z')
						*c = (char)(*c - 'a' + 'A');
			cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm(q), DNS_T_A, NOW, &p),
				     CACHE_NSEC_NXDOMAIN, "%s", q);
			cr_assert(dns_name_equal(p.zone, nm(z)), "%s: the zone of %s", q, z);
		}
		/* each question was under the other zone than the memo's; one
		 * under the memo's own takes it (so the refusals above were the
		 * compare's) */
		cr_assert_eq(memo.used, 0, "%s", pairs[i][0]);
		snprintf(q, sizeof(q), "y.%s", pairs[i][1]);
		cr_assert_eq(cache_nsec_lookup_memo(n, &memo, nm(q), DNS_T_A, NOW, &p),
			     CACHE_NSEC_NXDOMAIN);
		cr_assert(dns_name_equal(p.zone, nm(pairs[i][1])));
		cr_assert_eq(memo.used, 1, "%s", pairs[i][0]);
		cache_nsec_free(n);
	}
}

/* "a." k times (k <= 126): a name of k labels. */
static const char *a_labels(char *b, int k, const char *first)
{
	b[0] = 0;
	if (first)
		strcat(b, first);
	for (int i = 0; i < k; i++)
		strcat(b, "a.");
	return b;
}

/*
 * From 63 labels on, the table's depth mask has one bit for every depth
 * (depth_bit()): a memo of a zone that deep cannot tell a deeper zone
 * from itself and is not used; one of 62 labels probes every deeper depth.
 * Zones of 62, 63 and 65 labels; names of 63 to 70 below them.
 */
Test(nsec, memo_at_63_labels_and_more)
{
	static const int depth[] = { 62, 63, 65 };
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p1, p2;
	char z[300], m[300], q[300];

	for (int i = 0; i < 3; i++) {
		a_labels(z, depth[i], NULL);
		a_labels(m, depth[i], "m.");
		soa(n, z, EXP);
		INS(n, z, z, m, DNS_T_NS, DNS_T_SOA, DNS_T_NSEC, DNS_T_RRSIG);
		INS(n, z, m, z, DNS_T_A, DNS_T_NSEC, DNS_T_RRSIG);
	}
	for (int from = 0; from < 2; from++)
		for (int k = 63; k <= 70; k++) {
			struct cache_nsec_memo memo = { 0 };

			/* the memo of the zone of 62 or 63 labels */
			cr_assert_eq(cache_nsec_lookup_memo(n, &memo,
							    nm(a_labels(q, depth[from], "x.")),
							    DNS_T_A, NOW, &p1), CACHE_NSEC_NXDOMAIN);
			cr_assert_eq(dns_name_labels(memo.apex), depth[from]);
			a_labels(q, k - 1, "x.");
			int v1 = cache_nsec_lookup_memo(n, &memo, nm(q), DNS_T_A, NOW, &p1);
			int v2 = cache_nsec_lookup(n, nm(q), DNS_T_A, NOW, &p2);

			cr_assert_eq(v1, v2, "%d labels from %d", k, depth[from]);
			cr_assert_eq(p1.zone, p2.zone, "%d labels from %d", k, depth[from]);
			cr_assert_eq(dns_name_labels(p1.zone), k > 65 ? 65 : k - 1 >= 63 ? 63 : 62,
				     "%d labels from %d", k, depth[from]);
		}
	cache_nsec_free(n);
}

/*
 * The writer's answer for "*.apex" follows every state it publishes: after
 * an expiry sweep took (and freed) the range that denied the wildcard, a
 * name right below the apex is not proven from it (under ASan, a stale
 * pointer to the freed range is a use after free), and a new range
 * denying the wildcard proves it again.
 */
Test(nsec, apex_wildcard_answer_follows_the_sweeps)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, "example.", EXP);
	cr_assert_eq(ins_nsec(n, "example.", "example.", "b.example.", 600,
			      TYPES(DNS_T_SOA, DNS_T_NS)), 0);
	INS(n, "example.", "b.example.", "example.", DNS_T_A);
	cr_assert_eq(look(n, "c.example.", DNS_T_A, 550, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "b.example. example.");
	cr_assert_eq(cache_nsec_drop_expired(n, 700), 1);
	urcu_qsbr_barrier();
	cr_assert_eq(look(n, "c.example.", DNS_T_A, 550, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_WILDCARD);
	cr_assert_eq(ins_nsec(n, "example.", "example.", "b.example.", EXP,
			      TYPES(DNS_T_SOA, DNS_T_NS)), 0);
	cr_assert_eq(look(n, "c.example.", DNS_T_A, 800, &p), CACHE_NSEC_NXDOMAIN);
	cache_nsec_free(n);
}

Test(nsec, root_zone_can_be_a_zone)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	soa(n, ".", EXP);
	INS(n, ".", ".", "aaa.", DNS_T_SOA, DNS_T_NS);
	INS(n, ".", "aaa.", "com.", DNS_T_NS, DNS_T_DS);
	INS(n, ".", "com.", "zw.", DNS_T_NS, DNS_T_DS);
	cr_assert_eq(look(n, "example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "com. .");
	cr_assert(dns_name_equal(p.zone, nm(".")));
	/* Below a TLD delegation: not the root's to deny. */
	cr_assert_eq(look(n, "example.com.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	cr_assert_eq(look(n, ".", DNS_T_DS, NOW, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	cache_nsec_free(n);
}

/* A name's zone is the deepest apex of the store above it, whatever the
 * question's letter case and whatever depths the zones have: the zone table
 * hashes the question in place, lower-cased a word at a time, and looks up
 * only the depths some apex has (63 labels and more share one). The apexes
 * end 1 to 8 octets into a word, and the names below them too. */
Test(nsec, zone_is_the_deepest_apex_in_any_letter_case)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	char deep[DNS_NAME_MAX], q[2 * DNS_NAME_MAX];
	const char *apex[] = { "ex.", "bb.ex.", "abcdefghijk.bb.ex.", "c.d.e.abcdefghijk.bb.ex.",
			       deep };
	const char *below[] = { "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg",
				"abcdefgh", "q.r", "*x" };

	deep[0] = 0;
	for (int i = 0; i < 69; i++)
		strcat(deep, "x.");
	strcat(deep, "ex."); /* 70 labels */
	for (size_t z = 0; z < sizeof(apex) / sizeof(apex[0]); z++) {
		soa(n, apex[z], EXP);
		INS(n, apex[z], apex[z], apex[z], DNS_T_SOA, DNS_T_NS);
	}
	for (size_t z = 0; z < sizeof(apex) / sizeof(apex[0]); z++) {
		for (size_t b = 0; b < sizeof(below) / sizeof(below[0]); b++) {
			for (int up = 0; up < 2; up++) {
				snprintf(q, sizeof(q), "%s.%s", below[b], apex[z]);
				if (up)
					upper(q);
				cr_assert_eq(look_exact(n, q, DNS_T_A, &p), CACHE_NSEC_NXDOMAIN,
					     "%s", q);
				cr_assert(dns_name_equal(p.zone, nm(apex[z])), "%s", q);
			}
		}
	}
	/* a name with fewer labels than the deepest apex, and one between
	 * two apexes' depths */
	cr_assert_eq(look_exact(n, "Z.EX.", DNS_T_A, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("ex.")));
	cr_assert_eq(look_exact(n, "p.Q.r.s.t.u.abcDEFghijk.bb.ex.", DNS_T_A, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("abcdefghijk.bb.ex.")));
	/* DS of an apex: the parent's, in any case */
	cr_assert_eq(look_exact(n, "BB.ex.", DNS_T_DS, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("ex.")));
	cr_assert_eq(look_exact(n, "Ex.", DNS_T_DS, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	/* not below any apex */
	cr_assert_eq(look_exact(n, "x.EY.", DNS_T_A, &p), CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE);
	/* the deepest dropped: the names below it go to the one above */
	cr_assert_eq(cache_nsec_drop_zone(n, nm(deep)), 0);
	snprintf(q, sizeof(q), "a.%s", deep);
	cr_assert_eq(look_exact(n, q, DNS_T_A, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert(dns_name_equal(p.zone, nm("ex.")));
	cache_nsec_free(n);
}

/* ---- NSEC3 ---- */

static const uint8_t rfc_salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
#define RFC_ITER 12

static void b32hex(const uint8_t *h, char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint32_t acc = 0;
	int bits = 0, o = 0;

	for (int i = 0; i < CACHE_NSEC3_HASH_LEN; i++) {
		acc = (acc << 8) | h[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = digits[(acc >> bits) & 31];
		}
	}
	out[o] = 0;
}

static void rfc_hash(const char *name, uint8_t *h)
{
	cache_nsec3_hash(nm(name), rfc_salt, sizeof(rfc_salt), RFC_ITER, h);
}

Test(nsec3, hash_matches_rfc5155_appendix_a)
{
	static const char *const v[][2] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "EXAMPLE.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
		{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
		/* from Appendix B.1 (name error) */
		{ "c.x.w.example.", "0va5bpr2ou0vk0lbqeeljri88laipsfh" },
		{ "*.x.w.example.", "92pqneegtaue7pjatc3l3qnk738c6v5m" },
	};
	uint8_t h[CACHE_NSEC3_HASH_LEN];
	char s[40];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		rfc_hash(v[i][0], h);
		b32hex(h, s);
		cr_assert_str_eq(s, v[i][1], "H(%s)", v[i][0]);
	}
}

/* H(name || salt), iterated (RFC 5155 5), from OpenSSL's one-shot digest. */
static void ref_hash(const uint8_t *name, const uint8_t *salt, size_t salt_len,
		     unsigned iterations, uint8_t out[CACHE_NSEC3_HASH_LEN])
{
	uint8_t m[DNS_NAME_MAX + 255];
	size_t len = dns_name_copy_lower(m, name);

	memcpy(m + len, salt, salt_len);
	cr_assert(EVP_Digest(m, len + salt_len, out, NULL, EVP_sha1(), NULL));
	for (unsigned i = 0; i < iterations; i++) {
		memcpy(m, out, CACHE_NSEC3_HASH_LEN);
		memcpy(m + CACHE_NSEC3_HASH_LEN, salt, salt_len);
		cr_assert(EVP_Digest(m, CACHE_NSEC3_HASH_LEN + salt_len, out, NULL, EVP_sha1(),
				     NULL));
	}
}

/* The hash pads short messages itself (one or two blocks) and hands long
 * ones to OpenSSL: every length across both bounds (55/56 and 119/120
 * octets of name and salt), salts of 0 to 255 octets, iterations 0 to 3. */
Test(nsec3, hash_of_every_length_matches_a_one_shot_digest)
{
	uint32_t seed = 7;

	for (unsigned nlen = 1; nlen <= DNS_NAME_MAX; nlen += nlen == 1 ? 2 : 1) {
		for (unsigned k = 0; k < 6; k++) {
			static const unsigned salts[] = { 0, 1, 8, 55, 64, 255 };
			uint8_t name[DNS_NAME_MAX], salt[255], h[CACHE_NSEC3_HASH_LEN],
				want[CACHE_NSEC3_HASH_LEN];
			size_t p = 0;

			/* labels of up to 63 octets, any octet, nlen in all
			 * (no name has 2: a label has a length and an octet) */
			while (p + 1 < nlen) {
				size_t r = nlen - 1 - p, l = r - 1 > 63 ? 63 : r - 1;

				if (r - 1 - l == 1)
					l--; /* leave room for a whole label */
				name[p++] = (uint8_t)l;
				for (size_t i = 0; i < l; i++)
					name[p++] = (uint8_t)xorshift32(&seed);
			}
			name[p] = 0;
			cr_assert_eq(dns_name_len(name), nlen);
			for (unsigned i = 0; i < salts[k]; i++)
				salt[i] = (uint8_t)xorshift32(&seed);
			unsigned it = (nlen + k) % 4;
			cache_nsec3_hash(name, salt, salts[k], (uint16_t)it, h);
			ref_hash(name, salt, salts[k], it, want);
			cr_assert_eq(memcmp(h, want, sizeof(h)), 0, "name %u, salt %u, %u iterations",
				     nlen, salts[k], it);
		}
	}
}

/* The names of RFC 5155 Appendix A's zone that have NSEC3 records. */
static const struct {
	const char *name;
	int types[8];
} rfc_zone[] = {
	{ "example.", { DNS_T_NS, DNS_T_SOA, DNS_T_MX, DNS_T_RRSIG,
			DNS_T_DNSKEY, DNS_T_NSEC3PARAM, T_END } },
	{ "a.example.", { DNS_T_NS, DNS_T_DS, DNS_T_RRSIG, T_END } },
	{ "ai.example.", { DNS_T_A, DNS_T_HINFO, DNS_T_AAAA, DNS_T_RRSIG,
			   T_END } },
	{ "ns1.example.", { DNS_T_A, DNS_T_RRSIG, T_END } },
	{ "ns2.example.", { DNS_T_A, DNS_T_RRSIG, T_END } },
	{ "w.example.", { T_END } },
	{ "*.w.example.", { DNS_T_MX, DNS_T_RRSIG, T_END } },
	{ "x.w.example.", { DNS_T_MX, DNS_T_RRSIG, T_END } },
	{ "y.w.example.", { T_END } },
	{ "x.y.w.example.", { DNS_T_MX, DNS_T_RRSIG, T_END } },
	{ "xx.example.", { DNS_T_A, DNS_T_HINFO, DNS_T_AAAA, DNS_T_RRSIG,
			   T_END } },
};
#define RFC_ZONE_LEN (sizeof(rfc_zone) / sizeof(rfc_zone[0]))

static int ins_nsec3(struct cache_nsec *n, const char *zone,
		     const uint8_t *hash, const uint8_t *next, uint8_t alg,
		     uint8_t flags, uint16_t iter, const uint8_t *salt,
		     uint8_t salt_len, const int *types, uint32_t exp,
		     const char *blob)
{
	uint8_t rd[1024], owner[DNS_NAME_MAX], z[DNS_NAME_MAX];
	size_t p = 0;
	char label[40];

	rd[p++] = alg;
	rd[p++] = flags;
	dns_put16(rd + p, iter);
	p += 2;
	rd[p++] = salt_len;
	if (salt_len)
		memcpy(rd + p, salt, salt_len);
	p += salt_len;
	rd[p++] = CACHE_NSEC3_HASH_LEN;
	memcpy(rd + p, next, CACHE_NSEC3_HASH_LEN);
	p += CACHE_NSEC3_HASH_LEN;
	p += mkbitmap(rd + p, types);
	b32hex(hash, label);
	memcpy(z, nm(zone), DNS_NAME_MAX);
	owner[0] = (uint8_t)strlen(label);
	memcpy(owner + 1, label, owner[0]);
	memcpy(owner + 1 + owner[0], z, dns_name_len(z));
	return cache_nsec3_insert(n, z, owner, rd, p, exp,
				  (const uint8_t *)blob, strlen(blob), INS_NOW);
}

/*
 * Inserts the NSEC3 chain of rfc_zone (salt aabbccdd, 12 iterations) with
 * flags, except the range owned by skip (NULL: none); expiry exp.
 */
static void rfc_chain(struct cache_nsec *n, uint8_t flags, const char *skip,
		      uint32_t exp)
{
	uint8_t h[RFC_ZONE_LEN][CACHE_NSEC3_HASH_LEN];
	size_t ord[RFC_ZONE_LEN];

	soa(n, "example.", EXP);
	for (size_t i = 0; i < RFC_ZONE_LEN; i++) {
		rfc_hash(rfc_zone[i].name, h[i]);
		ord[i] = i;
	}
	for (size_t i = 1; i < RFC_ZONE_LEN; i++)
		for (size_t j = i; j > 0 &&
				   memcmp(h[ord[j - 1]], h[ord[j]], 20) > 0; j--) {
			size_t t = ord[j];

			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	for (size_t i = 0; i < RFC_ZONE_LEN; i++) {
		size_t k = ord[i], nx = ord[(i + 1) % RFC_ZONE_LEN];

		if (skip && !strcmp(skip, rfc_zone[k].name))
			continue;
		cr_assert_eq(ins_nsec3(n, "example.", h[k], h[nx],
				       DNS_NSEC3_SHA1, flags, RFC_ITER,
				       rfc_salt, sizeof(rfc_salt),
				       rfc_zone[k].types, exp,
				       rfc_zone[k].name), 0, "%s",
			     rfc_zone[k].name);
	}
}

Test(nsec3, closest_encloser_proof_proves_nxdomain)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 0, NULL, EXP);
	/* RFC 5155 B.1: closest encloser x.w.example, next closer
	 * c.x.w.example covered by example's range, *.x.w.example by
	 * a.example's. */
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "x.w.example. example. a.example.");
	cr_assert(p.nsec3);
	cr_assert_eq(p.hashes, 4);
	cr_assert_str_eq(blob_str(&p.soa), "SOA example.");
	/* f.example hashes after the last owner: covered by the wrap. The
	 * apex's and *.example's hashes are the writer's: one hash here. */
	cr_assert_eq(look(n, "f.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "example. xx.example. ai.example.");
	cr_assert_eq(p.hashes, 1);
	cache_nsec_free(n);
}

Test(nsec3, matching_range_proves_nodata)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 0, NULL, EXP);
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "ns1.example.");
	cr_assert_eq(p.hashes, 1);
	cr_assert_eq(look(n, "NS1.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	/* An empty non-terminal has its own (empty) NSEC3. */
	cr_assert_eq(look(n, "y.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "y.w.example.");
	/* Delegation a.example: only DS speaks, and DS is there. */
	cr_assert_eq(look(n, "a.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	cr_assert_eq(look(n, "a.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cr_assert_eq(look(n, "ai.example.", DNS_T_DS, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* Below the cut the closest encloser is a delegation. */
	cr_assert_eq(look(n, "b.a.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_DELEGATION);
	cache_nsec_free(n);
}

Test(nsec3, wildcard_match_without_qtype_is_wildcard_nodata)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 0, NULL, EXP);
	/* RFC 5155 B.7: a.z.w.example AAAA. */
	cr_assert_eq(look(n, "a.z.w.example.", DNS_T_AAAA, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert(p.wildcard);
	cr_assert_str_eq(used(&p), "w.example. ns2.example. *.w.example.");
	cr_assert_eq(look(n, "a.z.w.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_TYPE_EXISTS);
	cache_nsec_free(n);
}

Test(nsec3, missing_range_of_the_proof_means_no_proof)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	/* Without example's range nothing covers the next closer name. */
	rfc_chain(n, 0, "example.", EXP);
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_RANGE);
	cr_assert_eq(p.nrr, 0);
	cache_nsec_free(n);
	/* Without a.example's nothing covers the wildcard. */
	n = cache_nsec_new(NULL);
	rfc_chain(n, 0, "a.example.", EXP);
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_WILDCARD);
	/* Without x.w.example's there is no closest encloser there. */
	cache_nsec_free(n);
	n = cache_nsec_new(NULL);
	rfc_chain(n, 0, "x.w.example.", EXP);
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

Test(nsec3, expired_ranges_prove_nothing)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 0, NULL, 600);
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, 599, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(p.expire_at, 600);
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, 600, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, 600, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(cache_nsec_drop_expired(n, 600), (int)RFC_ZONE_LEN);
	cache_nsec_free(n);
}

Test(nsec3, opt_out_range_never_denies_a_name)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 1, NULL, EXP); /* Appendix A's zone is opt-out */
	cr_assert_eq(look(n, "a.c.x.w.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(p.why, CACHE_NSEC_WHY_OPT_OUT);
	cr_assert_eq(p.nrr, 0);
	/* A matching opt-out range still lists the types of its name. */
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cache_nsec_free(n);
}

Test(nsec3, iterations_above_the_limit_are_refused)
{
	struct cache_nsec_config cfg;
	struct cache_nsec *n = cache_nsec_new(NULL);
	uint8_t h[CACHE_NSEC3_HASH_LEN], nx[CACHE_NSEC3_HASH_LEN];

	rfc_hash("example.", h);
	rfc_hash("ns1.example.", nx);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0, 100, rfc_salt, 4,
			       TYPES(DNS_T_SOA), EXP, "x"), 0);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0, 101, rfc_salt, 4,
			       TYPES(DNS_T_SOA), EXP, "x"), CACHE_E_NSEC_ITER);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0, 65535, rfc_salt, 4,
			       TYPES(DNS_T_SOA), EXP, "x"), CACHE_E_NSEC_ITER);
	cache_nsec_free(n);
	cache_nsec_config_default(&cfg);
	cr_assert_eq(cfg.nsec3_max_iterations, 100);
	cfg.nsec3_max_iterations = 0; /* RFC 9276: what zones should use */
	n = cache_nsec_new(&cfg);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0, 0, NULL, 0,
			       TYPES(DNS_T_SOA), EXP, "x"), 0);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0, 1, NULL, 0,
			       TYPES(DNS_T_SOA), EXP, "x"), CACHE_E_NSEC_ITER);
	cache_nsec_free(n);
}

Test(nsec3, bad_records_are_refused)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	uint8_t h[CACHE_NSEC3_HASH_LEN], nx[CACHE_NSEC3_HASH_LEN];
	uint8_t rd[64], owner[DNS_NAME_MAX];
	struct cache_nsec_stats st;

	rfc_hash("example.", h);
	rfc_hash("ns1.example.", nx);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 2, 0, 1, rfc_salt, 4,
			       TYPES(DNS_T_SOA), EXP, "x"), CACHE_E_NSEC_ALG);
	cr_assert_eq(ins_nsec3(n, "example.", h, nx, 1, 0x80, 1, rfc_salt, 4,
			       TYPES(DNS_T_SOA), EXP, "x"),
		     CACHE_E_NSEC_FLAGS);
	/* Owner label not base32hex, too short, or in another zone. */
	memcpy(rd, (const uint8_t[]){ 1, 0, 0, 1, 0, 20 }, 6);
	memcpy(rd + 6, nx, 20);
	memcpy(owner, nm("0p9mhaveqvm6t7vbl5lop2u3t2rp3toW.example."),
	       DNS_NAME_MAX);
	cr_assert_eq(cache_nsec3_insert(n, nm("example."), owner, rd, 26, EXP,
					(const uint8_t *)"x", 1, INS_NOW),
		     CACHE_E_NSEC_ZONE);
	memcpy(owner, nm("0p9mhaveqvm6t7vbl5lop2u3t2rp3to.example."),
	       DNS_NAME_MAX);
	cr_assert_eq(cache_nsec3_insert(n, nm("example."), owner, rd, 26, EXP,
					(const uint8_t *)"x", 1, INS_NOW),
		     CACHE_E_NSEC_ZONE);
	memcpy(owner, nm("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example.org."),
	       DNS_NAME_MAX);
	cr_assert_eq(cache_nsec3_insert(n, nm("example."), owner, rd, 26, EXP,
					(const uint8_t *)"x", 1, INS_NOW),
		     CACHE_E_NSEC_ZONE);
	/* Upper case base32hex is fine. */
	memcpy(owner, nm("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example."),
	       DNS_NAME_MAX);
	cr_assert_eq(cache_nsec3_insert(n, nm("example."), owner, rd, 26, EXP,
					(const uint8_t *)"x", 1, INS_NOW), 0);
	/* Truncated RDATA. */
	cr_assert_lt(cache_nsec3_insert(n, nm("example."), owner, rd, 20, EXP,
					(const uint8_t *)"x", 1, INS_NOW), 0);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec3_ranges, 1);
	cache_nsec_free(n);
}

Test(nsec3, hash_budget_bounds_the_work_of_one_query)
{
	/* 17 labels above x.w.example: 18 hashes find the closest
	 * encloser, the 19th is the wildcard's. */
	static const char q[] = "a1.a2.a3.a4.a5.a6.a7.a8.a9.a10.a11.a12.a13."
				"a14.a15.a16.a17.x.w.example.";
	static const struct {
		uint8_t budget;
		int verdict, hashes;
	} c[] = {
		{ 0, CACHE_NSEC_NONE, CACHE_NSEC3_HASH_BUDGET_DEFAULT },
		{ 18, CACHE_NSEC_NONE, 18 },
		{ 19, CACHE_NSEC_NXDOMAIN, 19 },
		{ 128, CACHE_NSEC_NXDOMAIN, 19 },
	};
	struct cache_nsec_proof p;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct cache_nsec_config cfg;

		cache_nsec_config_default(&cfg);
		if (c[i].budget)
			cfg.nsec3_hash_budget = c[i].budget;
		struct cache_nsec *n = cache_nsec_new(&cfg);

		rfc_chain(n, 0, NULL, EXP);
		cr_assert_eq(look(n, q, DNS_T_A, NOW, &p), c[i].verdict,
			     "budget %d", c[i].budget);
		cr_assert_eq(p.hashes, c[i].hashes);
		if (c[i].verdict == CACHE_NSEC_NONE)
			cr_assert_eq(p.why, CACHE_NSEC_WHY_BUDGET);
		else
			cr_assert_str_eq(blob_str(&p.rr[0]), "x.w.example.");
		cache_nsec_free(n);
	}
}

Test(nsec3, new_parameters_replace_the_chain)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	uint8_t h[CACHE_NSEC3_HASH_LEN];

	rfc_chain(n, 0, NULL, EXP);
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	/* Re-salted to none, 0 iterations: a one-range chain. */
	cache_nsec3_hash(nm("ns1.example."), NULL, 0, 0, h);
	cr_assert_eq(ins_nsec3(n, "example.", h, h, 1, 0, 0, NULL, 0,
			       TYPES(DNS_T_A, DNS_T_TXT), EXP, "new ns1"), 0);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec3_ranges, 1);
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "new ns1");
	cr_assert_eq(look(n, "ns1.example.", DNS_T_TXT, NOW, &p),
		     CACHE_NSEC_NONE);
	cr_assert_eq(look(n, "ns2.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NONE);
	cache_nsec_free(n);
}

/* The apex's and the wildcard's hashes that readers do not compute follow
 * the chain's parameters: after a re-salt, a name below the apex is proven
 * with the new ones (with the old, the apex would not match). */
Test(nsec3, apex_hashes_follow_new_parameters)
{
	static const uint8_t salt[] = { 0x01, 0x02 };
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	uint8_t h[CACHE_NSEC3_HASH_LEN];

	rfc_chain(n, 0, NULL, EXP);
	cr_assert_eq(look(n, "f.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	/* one range at the apex's new hash, around the whole hash space */
	cache_nsec3_hash(nm("example."), salt, sizeof(salt), 3, h);
	cr_assert_eq(ins_nsec3(n, "example.", h, h, 1, 0, 3, salt, sizeof(salt),
			       TYPES(DNS_T_SOA, DNS_T_NS), EXP, "apex"), 0);
	cr_assert_eq(look(n, "f.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "apex");
	cr_assert_eq(p.hashes, 1);
	cr_assert_eq(look(n, "example.", DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	cache_nsec_free(n);
}

Test(nsec3, nsec_and_nsec3_ranges_of_one_zone_both_count)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_chain(n, 0, NULL, EXP);
	INS(n, "example.", "zz.example.", "example.", DNS_T_A);
	/* NSEC has nothing on ns1 (its tree has one range): NSEC3 does. */
	cr_assert_eq(look(n, "ns1.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert(p.nsec3);
	cr_assert_eq(look(n, "zz.example.", DNS_T_MX, NOW, &p),
		     CACHE_NSEC_NODATA);
	cr_assert_not(p.nsec3);
	cache_nsec_free(n);
}

/* rfc_zone's hashes in hash order, and the names they belong to. */
static void rfc_sorted(uint8_t h[][CACHE_NSEC3_HASH_LEN], const char **name)
{
	for (size_t i = 0; i < RFC_ZONE_LEN; i++) {
		rfc_hash(rfc_zone[i].name, h[i]);
		name[i] = rfc_zone[i].name;
	}
	for (size_t i = 1; i < RFC_ZONE_LEN; i++)
		for (size_t j = i; j > 0 && memcmp(h[j - 1], h[j], 20) > 0; j--) {
			uint8_t t[CACHE_NSEC3_HASH_LEN];
			const char *tn = name[j];

			memcpy(t, h[j], 20);
			memcpy(h[j], h[j - 1], 20);
			memcpy(h[j - 1], t, 20);
			name[j] = name[j - 1];
			name[j - 1] = tn;
		}
}

static int ins_rfc3(struct cache_nsec *n, const uint8_t *h,
		    const uint8_t *next, const char *blob)
{
	return ins_nsec3(n, "example.", h, next, DNS_NSEC3_SHA1, 0, RFC_ITER,
			 rfc_salt, sizeof(rfc_salt), TYPES(DNS_T_A), EXP,
			 blob);
}

/* rfc_zone's names in one chain, each with A only (no delegation), blobs
 * the names: every name's range proves NODATA for MX. */
static void plain_chain(struct cache_nsec *n,
			uint8_t h[][CACHE_NSEC3_HASH_LEN], const char **name)
{
	soa(n, "example.", EXP);
	for (size_t i = 0; i < RFC_ZONE_LEN; i++)
		cr_assert_eq(ins_rfc3(n, h[i], h[(i + 1) % RFC_ZONE_LEN],
				      name[i]), 0);
}

/* Does name's own range (blob: the name) prove NODATA for MX? */
static bool own_nodata(const struct cache_nsec *n, const char *name)
{
	struct cache_nsec_proof p;

	return look(n, name, DNS_T_MX, NOW, &p) == CACHE_NSEC_NODATA &&
	       !p.wildcard && !strcmp(used(&p), name);
}

static uint64_t nsec3_count(const struct cache_nsec *n)
{
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	return st.nsec3_ranges;
}

Test(nsec3, resigned_range_swallows_the_older_ranges_inside_it)
{
	uint8_t h[RFC_ZONE_LEN][CACHE_NSEC3_HASH_LEN];
	const char *name[RFC_ZONE_LEN];
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_sorted(h, name);
	plain_chain(n, h, name);
	cr_assert_eq(pruned_count(n), 0);
	cr_assert(own_nodata(n, name[4]), "%s", name[4]);
	cr_assert_eq(ins_rfc3(n, h[2], h[6], "new"), 0);
	cr_assert_eq(pruned_count(n), 3);
	cr_assert_eq(nsec3_count(n), RFC_ZONE_LEN - 3);
	for (int i = 3; i <= 5; i++)
		cr_assert_not(own_nodata(n, name[i]), "%s lost its range",
			      name[i]);
	cr_assert_eq(look(n, name[2], DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "new");
	cr_assert(own_nodata(n, name[6]));
	cache_nsec_free(n);
}

Test(nsec3, range_covering_the_new_owner_is_dropped)
{
	uint8_t h[RFC_ZONE_LEN][CACHE_NSEC3_HASH_LEN], mid[CACHE_NSEC3_HASH_LEN];
	const char *name[RFC_ZONE_LEN];
	struct cache_nsec *n = cache_nsec_new(NULL);

	rfc_sorted(h, name);
	plain_chain(n, h, name);
	/* A hash just after h[3] (its last octet + 1) lies in h[3] -> h[4]. */
	memcpy(mid, h[3], 20);
	cr_assert_neq(mid[19], 0xff);
	mid[19]++;
	cr_assert_eq(ins_rfc3(n, mid, h[4], "mid"), 0);
	cr_assert_eq(pruned_count(n), 1);
	cr_assert_eq(nsec3_count(n), RFC_ZONE_LEN);
	cr_assert_not(own_nodata(n, name[3]), "%s's range was contradicted",
		      name[3]);
	cr_assert(own_nodata(n, name[2]));
	cr_assert(own_nodata(n, name[4]));
	cache_nsec_free(n);
}

Test(nsec3, wrap_prunes_around_the_end_of_the_hash_space)
{
	uint8_t h[RFC_ZONE_LEN][CACHE_NSEC3_HASH_LEN], zero[20] = { 0 };
	const char *name[RFC_ZONE_LEN];
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;

	rfc_sorted(h, name);
	plain_chain(n, h, name);
	/* h[8] -> h[1] wraps: h[9], h[10] (after it) and h[0] (before
	 * h[1]) go. */
	cr_assert_eq(ins_rfc3(n, h[8], h[1], "wrap"), 0);
	cr_assert_eq(pruned_count(n), 3);
	cr_assert_eq(nsec3_count(n), RFC_ZONE_LEN - 3);
	for (int i = 0; i < (int)RFC_ZONE_LEN; i++)
		cr_assert_eq(own_nodata(n, name[i]) || i == 8,
			     !(i == 0 || i == 9 || i == 10), "%s", name[i]);
	cr_assert_eq(look(n, name[8], DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "wrap");
	/* An owner before every hash lies in the wrapping range. */
	cr_assert_gt(memcmp(h[1], zero, 20), 0);
	cr_assert_eq(ins_rfc3(n, zero, h[1], "zero"), 0);
	cr_assert_eq(pruned_count(n), 4);
	cr_assert_eq(look(n, name[8], DNS_T_MX, NOW, &p), CACHE_NSEC_NONE,
		     "h[8] -> h[1] was contradicted");
	cr_assert(own_nodata(n, name[1]));
	/* h -> h, a one-name chain, leaves nothing else. */
	cr_assert_eq(ins_rfc3(n, h[5], h[5], "alone"), 0);
	cr_assert_eq(nsec3_count(n), 1);
	cr_assert_eq(look(n, name[5], DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	cr_assert_str_eq(used(&p), "alone");
	cache_nsec_free(n);
}

/*
 * Random NSEC3 inserts, overlapping at random and wrapping around the end
 * of the hash space, against a model of the cyclic pruning rule: an
 * insert of (i, j) removes the ranges owned strictly inside (i, j) (cyclic;
 * (i, i) is everything else) and the range before i that covers i. The
 * owners are the hashes of n00..n63 (no salt, no iterations) in hash
 * order, so a name's lookup proves NODATA exactly when the model holds
 * its range.
 */
Test(nsec3, random_inserts_match_a_cyclic_model)
{
	enum { NAMES = 64, OPS = 6000 };
	uint8_t h[NAMES][CACHE_NSEC3_HASH_LEN];
	const char *name[NAMES];
	static char names[NAMES][16];
	int next[NAMES];	/* -1: no range owned by this hash */
	struct cache_nsec *n = cache_nsec_new(NULL);
	uint32_t seed = 31337;
	uint64_t pruned = 0;
	int wraps = 0;

	for (int i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "n%02d.example.", i);
		name[i] = names[i];
		cache_nsec3_hash(nm(name[i]), NULL, 0, 0, h[i]);
		next[i] = -1;
	}
	for (int i = 1; i < NAMES; i++) /* sort hashes, names with them */
		for (int j = i; j > 0 && memcmp(h[j - 1], h[j], 20) > 0; j--) {
			uint8_t t[CACHE_NSEC3_HASH_LEN];
			const char *tn = name[j];

			memcpy(t, h[j], 20);
			memcpy(h[j], h[j - 1], 20);
			memcpy(h[j - 1], t, 20);
			name[j] = name[j - 1];
			name[j - 1] = tn;
		}
	soa(n, "example.", EXP);
	for (int op = 0; op < OPS; op++) {
		uint32_t x = xorshift32(&seed);
		int i = (int)(x % NAMES);
		int span = x >> 8 & 1 ? 1 + (int)((x >> 9) % 4)
				      : (int)((x >> 9) % NAMES);
		int j = (i + span) % NAMES;
		int before = -1;

		/* the model: the cyclic predecessor first, on the old state */
		for (int d = 1; d < NAMES && before < 0; d++)
			if (next[(i - d + NAMES) % NAMES] >= 0)
				before = (i - d + NAMES) % NAMES;
		for (int d = 1; d < NAMES; d++) {
			int k = (i + d) % NAMES;

			if (j != i && k == j)
				break;
			if (next[k] >= 0) {
				next[k] = -1;
				pruned++;
			}
		}
		if (before >= 0 && next[before] >= 0) {
			int b = before, bn = next[before];
			bool covers = b < bn ? b < i && i < bn
					     : i > b || i < bn || b == bn;

			if (covers && i != b) {
				next[b] = -1;
				pruned++;
			}
		}
		next[i] = j;
		wraps += j <= i;
		cr_assert_eq(ins_nsec3(n, "example.", h[i], h[j], DNS_NSEC3_SHA1,
				       0, 0, NULL, 0, TYPES(DNS_T_A), EXP,
				       name[i]), 0);
		/* the implementation */
		int count = 0;

		for (int k = 0; k < NAMES; k++)
			count += next[k] >= 0;
		cr_assert_eq(nsec3_count(n), (uint64_t)count, "op %d", op);
		cr_assert_eq(pruned_count(n), pruned, "op %d", op);
		int q = (int)((x >> 20) % NAMES);

		cr_assert_eq(own_nodata(n, name[q]), next[q] >= 0,
			     "op %d: %s", op, name[q]);
	}
	cr_assert_gt(pruned, 1000);
	cr_assert_gt(wraps, 500);
	for (int k = 0; k < NAMES; k++)
		cr_assert_eq(own_nodata(n, name[k]), next[k] >= 0, "%s",
			     name[k]);
	cache_nsec_free(n);
}

/* ---- the byte budget ---- */

static struct cache_nsec *budget_store(size_t max_bytes)
{
	struct cache_nsec_config cfg;
	struct cache_nsec *n;

	cache_nsec_config_default(&cfg);
	cr_assert_eq(cfg.max_bytes, (size_t)64 << 20);
	cfg.max_bytes = max_bytes;
	n = cache_nsec_new(&cfg);
	cr_assert_not_null(n);
	return n;
}

static void check_budget(const struct cache_nsec *n, size_t max_bytes,
			 const char *what)
{
	struct cache_nsec_stats st;

	cache_nsec_get_stats(n, &st);
	cr_assert_leq(st.live_bytes, max_bytes, "%s: %llu live", what,
		      (unsigned long long)st.live_bytes);
	cr_assert_geq(st.bytes, st.live_bytes, "%s", what);
}

/* After a grace period nothing waits: every octet held is published. */
static void check_settled(const struct cache_nsec *n)
{
	struct cache_nsec_stats st;

	urcu_qsbr_barrier();
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.bytes, st.live_bytes);
}

/* Range i of zone "z<k>.test." (chain apex -> r000 -> ... -> r<count-1>
 * -> apex), or the apex range for i < 0. */
static int ins_budget(struct cache_nsec *n, int k, int i, int count,
		      uint32_t exp, uint32_t now)
{
	char zone[32], owner[48], next[48];
	uint8_t rd[128];

	snprintf(zone, sizeof(zone), "z%d.test.", k);
	if (i < 0)
		snprintf(owner, sizeof(owner), "%s", zone);
	else
		snprintf(owner, sizeof(owner), "r%03d.%s", i, zone);
	if (i + 1 >= count)
		snprintf(next, sizeof(next), "%s", zone);
	else
		snprintf(next, sizeof(next), "r%03d.%s", i + 1, zone);
	size_t rdlen = nsec_rdata(rd, next, TYPES(DNS_T_A));
	uint8_t z[DNS_NAME_MAX], o[DNS_NAME_MAX];

	memcpy(z, nm(zone), DNS_NAME_MAX);
	memcpy(o, nm(owner), DNS_NAME_MAX);
	return cache_nsec_insert(n, z, o, rd, rdlen, exp,
				 (const uint8_t *)owner, strlen(owner), now);
}

static int soa_budget(struct cache_nsec *n, int k, uint32_t exp, uint32_t now)
{
	char zone[32];
	uint8_t z[DNS_NAME_MAX];

	snprintf(zone, sizeof(zone), "z%d.test.", k);
	memcpy(z, nm(zone), DNS_NAME_MAX);
	return cache_nsec_set_soa(n, z, (const uint8_t *)zone, strlen(zone),
				  exp, now);
}

/* Zone k holds its whole chain of count ranges (true), or nothing. */
static bool zone_whole(const struct cache_nsec *n, int k, int count)
{
	struct cache_nsec_proof p;
	char q[64], owner[48];
	int there = 0;

	for (int i = 0; i < count; i++) {
		snprintf(owner, sizeof(owner), "r%03d.z%d.test.", i, k);
		snprintf(q, sizeof(q), "r%03dx.z%d.test.", i, k);
		int v = look(n, q, DNS_T_MX, NOW, &p);

		if (v == CACHE_NSEC_NONE) {
			cr_assert_eq(p.why, CACHE_NSEC_WHY_NO_ZONE, "%s", q);
			continue;
		}
		cr_assert_eq(v, CACHE_NSEC_NXDOMAIN, "%s", q);
		cr_assert_str_eq(blob_str(&p.rr[0]), owner);
		cr_assert_eq(look(n, owner, DNS_T_MX, NOW, &p),
			     CACHE_NSEC_NODATA, "%s", owner);
		there++;
	}
	cr_assert(there == 0 || there == count, "zone %d: %d of %d", k,
		  there, count);
	return there == count;
}

Test(nsec, budget_holds_after_every_insert_and_keeps_the_recent_zone)
{
	enum { ZONES = 60, RANGES = 100, HOT = 1000 };
	const size_t max = 256u << 10;
	struct cache_nsec *n = budget_store(max);
	struct cache_nsec_stats st;
	int survivors = 0;

	/* HOT is inserted into between the other zones' ranges: though it
	 * came first, it is never the least recently inserted into. */
	cr_assert_eq(soa_budget(n, HOT, EXP, INS_NOW), 0);
	for (int i = -1; i < RANGES; i++)
		cr_assert_eq(ins_budget(n, HOT, i, RANGES, EXP, INS_NOW), 0);
	for (int k = 0; k < ZONES; k++) {
		cr_assert_eq(soa_budget(n, k, EXP, INS_NOW), 0);
		check_budget(n, max, "soa");
		for (int i = -1; i < RANGES; i++) {
			cr_assert_eq(ins_budget(n, k, i, RANGES, EXP, INS_NOW),
				     0, "zone %d range %d", k, i);
			check_budget(n, max, "range");
			if (i % 10 == 0)
				cr_assert_eq(ins_budget(n, HOT, i, RANGES, EXP,
							INS_NOW), 0);
		}
	}
	cache_nsec_get_stats(n, &st);
	cr_assert_gt(st.evicted_zones, ZONES / 2, "far past the budget");
	cr_assert_eq(st.refused_inserts, 0);
	cr_assert(zone_whole(n, HOT, RANGES), "the hot zone survives");
	cr_assert(zone_whole(n, ZONES - 1, RANGES), "the newest zone survives");
	cr_assert_not(zone_whole(n, 0, RANGES), "the oldest cold zone went");
	for (int k = 0; k < ZONES; k++)
		survivors += zone_whole(n, k, RANGES);
	cr_assert_eq((uint64_t)survivors + 1, st.zones);
	cr_assert_eq(st.evicted_zones, (uint64_t)ZONES - (uint64_t)survivors);
	check_settled(n);
	cache_nsec_free(n);
}

/*
 * The per-zone eviction tally: 40 zones filled in turn, twice, past the
 * budget: every eviction is counted once (in a zone's entry or in "other"),
 * each with the ranges the zone held, most evicted first; a tally of 32
 * full of zones evicted once takes a newcomer in the place of one of them.
 */
Test(nsec, evictions_are_tallied_by_zone)
{
	enum { ZONES = 40, RANGES = 100 };
	struct cache_nsec *n = budget_store(256u << 10);
	struct cache_nsec_evict_info ev[CACHE_NSEC_EVICT_TALLY];
	struct cache_nsec_stats st;
	uint64_t other, sum = 0;
	char zone[32], text[64];

	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < ZONES; k++) {
			cr_assert_eq(soa_budget(n, k, EXP, INS_NOW), 0);
			for (int i = -1; i < RANGES; i++)
				cr_assert_eq(ins_budget(n, k, i, RANGES, EXP, INS_NOW), 0);
		}
	cache_nsec_get_stats(n, &st);
	cr_assert_gt(st.evicted_zones, ZONES, "zones went more than once");
	unsigned k = cache_nsec_evictions(n, ev, CACHE_NSEC_EVICT_TALLY, &other);
	cr_assert_eq(k, CACHE_NSEC_EVICT_TALLY);
	for (unsigned i = 0; i < k; i++) {
		cr_assert_geq(ev[i].evictions, 1);
		if (i)
			cr_assert_geq(ev[i - 1].evictions, ev[i].evictions, "most first");
		/* each went whole: its SOA and RANGES + 1 ranges */
		cr_assert_eq(ev[i].ranges, ev[i].evictions * (RANGES + 1), "entry %u", i);
		cr_assert_gt(dns_name_to_str(ev[i].apex, text, sizeof(text)), 0);
		cr_assert_eq(strncmp(text, "z", 1), 0, "%s", text);
		sum += ev[i].evictions;
	}
	cr_assert_eq(sum + other, st.evicted_zones, "each eviction once");
	cr_assert_gt(ev[0].evictions, 1, "a zone evicted in both passes leads");
	/* fewer slots asked for: the rest counts as other */
	uint64_t other3;
	cr_assert_eq(cache_nsec_evictions(n, ev, 3, &other3), 3);
	cr_assert_eq(ev[0].evictions + ev[1].evictions + ev[2].evictions + other3,
		     st.evicted_zones);
	/* a zone that was never evicted has no entry */
	snprintf(zone, sizeof(zone), "z%d.test.", ZONES - 1);
	k = cache_nsec_evictions(n, ev, CACHE_NSEC_EVICT_TALLY, &other);
	for (unsigned i = 0; i < k; i++)
		cr_assert_not(dns_name_equal(ev[i].apex, nm(zone)), "the newest zone stays");
	cache_nsec_free(n);
}

Test(nsec, budget_drops_expired_ranges_before_evicting_zones)
{
	enum { RANGES = 200 };
	struct cache_nsec *n = budget_store((size_t)1 << 30);
	struct cache_nsec_stats st;
	size_t empty = 0, with1 = 0, with12 = 0, max = 0;

	/* Sizes differ between allocators: measure zones 1 and 2 in a
	 * store without pressure, then give the real store room for both
	 * and half of zone 1 again, so that zone 3 (zone 1's size) fits only
	 * once zone 1 is gone. */
	for (int pass = 0; pass < 2; pass++) {
		cache_nsec_get_stats(n, &st);
		empty = st.live_bytes;
		/* Zone 1 expires at 100, zone 2 stays. */
		cr_assert_eq(soa_budget(n, 1, 100, 50), 0);
		for (int i = -1; i < RANGES; i++)
			cr_assert_eq(ins_budget(n, 1, i, RANGES, 100, 50), 0);
		cache_nsec_get_stats(n, &st);
		with1 = st.live_bytes;
		cr_assert_eq(soa_budget(n, 2, EXP, 50), 0);
		for (int i = -1; i < 20; i++)
			cr_assert_eq(ins_budget(n, 2, i, 20, EXP, 50), 0);
		cache_nsec_get_stats(n, &st);
		with12 = st.live_bytes;
		if (pass == 0) {
			cache_nsec_free(n);
			max = with12 + (with1 - empty) / 2;
			n = budget_store(max);
		}
	}
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.evicted_zones, 0);
	cr_assert_eq(st.zones, 2);
	cr_assert_eq(soa_budget(n, 3, EXP, 200), 0);
	for (int i = -1; i < RANGES; i++) {
		cr_assert_eq(ins_budget(n, 3, i, RANGES, EXP, 200), 0);
		check_budget(n, max, "zone 3");
	}
	cache_nsec_get_stats(n, &st);
	cr_assert_geq(st.budget_drops, 1);
	cr_assert_eq(st.evicted_zones, 0, "expiry made room: nothing evicted");
	cr_assert_eq(st.zones, 2, "zone 1 went as expired");
	cr_assert(zone_whole(n, 2, 20));
	cr_assert(zone_whole(n, 3, RANGES));
	check_settled(n);
	cache_nsec_free(n);
}

Test(nsec, record_too_big_for_the_budget_changes_nothing)
{
	static uint8_t big[CACHE_NSEC_BLOB_MAX];
	const size_t max = 16u << 10;
	struct cache_nsec *n = budget_store(max);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	uint8_t rd[64];
	size_t rdlen = nsec_rdata(rd, "example.", TYPES(DNS_T_A));
	size_t empty = cache_nsec_bytes(n);

	memset(big, 'x', sizeof(big));
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       rdlen, EXP, big, sizeof(big), INS_NOW),
		     CACHE_E_NSEC_BUDGET);
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), big, sizeof(big),
					EXP, INS_NOW), CACHE_E_NSEC_BUDGET);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 0, "no zone was created for it");
	cr_assert_eq(st.refused_inserts, 2);
	urcu_qsbr_barrier();
	cr_assert_eq(cache_nsec_bytes(n), empty);
	/* Room for the small zone, and it stays when a big record fails. */
	fill_example(n);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("a.example."), rd,
				       rdlen, EXP, big, sizeof(big), INS_NOW),
		     CACHE_E_NSEC_BUDGET);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p),
		     CACHE_NSEC_NXDOMAIN);
	cr_assert_str_eq(used(&p), "a.example. example.");
	cache_nsec_free(n);
	/* A budget below an empty store's own size takes nothing. */
	n = budget_store(1);
	cr_assert_eq(ins_nsec(n, "example.", "a.example.", "b.example.", EXP,
			      TYPES(DNS_T_A)), CACHE_E_NSEC_BUDGET);
	cache_nsec_free(n);
}

Test(nsec, zone_alone_past_the_budget_starts_over)
{
	enum { RANGES = 1000 };
	const size_t max = 32u << 10;
	struct cache_nsec *n = budget_store(max);
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;
	char owner[48];

	for (int i = 0; i < RANGES; i++) {
		if (i % 50 == 0)
			cr_assert_eq(soa_budget(n, 7, EXP, INS_NOW), 0);
		cr_assert_eq(ins_budget(n, 7, i, RANGES, EXP, INS_NOW), 0,
			     "range %d", i);
		check_budget(n, max, "alone");
	}
	cache_nsec_get_stats(n, &st);
	cr_assert_gt(st.evicted_zones, 0);
	cr_assert_eq(st.zones, 1);
	cr_assert_lt(st.nsec_ranges, RANGES);
	/* The SOA went with the zone's last eviction. */
	cr_assert_eq(soa_budget(n, 7, EXP, INS_NOW), 0);
	snprintf(owner, sizeof(owner), "r%03d.z7.test.", RANGES - 1);
	cr_assert_eq(look(n, owner, DNS_T_MX, NOW, &p), CACHE_NSEC_NODATA);
	check_settled(n);
	cache_nsec_free(n);
}

/* ---- readers racing the writer ---- */

/*
 * Race blobs: 'R', owner wire, next wire, FNV-1a of what precedes; SOA
 * blobs: 'S', serial, the same checksum. A reader that gets a blob freed
 * or reused under it sees a bad checksum, a wrong owner (or ASan does).
 */
#define RACE_NAMES 200
#define RACE_SECONDS 2
#define RACE_READERS 2

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static size_t race_blob(uint8_t *b, const uint8_t *owner, const uint8_t *next)
{
	size_t p = 0, l = dns_name_len(owner);

	b[p++] = 'R';
	memcpy(b + p, owner, l);
	p += l;
	l = dns_name_len(next);
	memcpy(b + p, next, l);
	p += l;
	dns_put32(b + p, fnv(b, p));
	return p + 4;
}

/* Checks a race blob; its owner and next (pointers into it) on success. */
static bool race_blob_ok(const struct cache_nsec_blob *b, char kind,
			 const uint8_t **owner, const uint8_t **next)
{
	if (b->len < 5 || b->data[0] != kind ||
	    fnv(b->data, b->len - 4u) != dns_get32(b->data + b->len - 4))
		return false;
	if (kind != 'R')
		return true;
	int l1 = dns_name_check(b->data + 1, b->len - 5u);

	if (l1 < 0)
		return false;
	int l2 = dns_name_check(b->data + 1 + l1, b->len - 5u - (size_t)l1);

	if (l2 < 0 || 1 + (size_t)l1 + (size_t)l2 + 4 != b->len)
		return false;
	*owner = b->data + 1;
	*next = b->data + 1 + l1;
	return true;
}

struct race {
	struct cache_nsec *n;
	uint8_t names[RACE_NAMES][DNS_NAME_MAX];
	uint8_t apex[DNS_NAME_MAX];
	uint32_t now;		/* atomic: the writer's clock */
	int stop;		/* atomic */
};

struct reader_result {
	uint64_t lookups, nxdomain, nodata, bad;
	char first_bad[160];
};

/* One proof checked against what it claims. NULL when fine. */
static const char *race_check(const struct race *r, const uint8_t *q,
			      uint32_t now, int v,
			      const struct cache_nsec_proof *p)
{
	const uint8_t *owner, *next;

	if (v == CACHE_NSEC_NONE)
		return p->nrr == 0 ? NULL : "ranges listed without a proof";
	if (p->nrr < 1 || p->nrr > 2)
		return "range count";
	if (!race_blob_ok(&p->soa, 'S', &owner, &next))
		return "SOA blob";
	if (p->expire_at <= now)
		return "expired proof";
	for (unsigned i = 0; i < p->nrr; i++) {
		if (!race_blob_ok(&p->rr[i], 'R', &owner, &next))
			return "range blob";
		if (p->rr[i].expire_at <= now)
			return "expired range";
	}
	race_blob_ok(&p->rr[0], 'R', &owner, &next);
	if (p->wildcard)
		return "wildcard in a zone without one";
	if (v == CACHE_NSEC_NODATA)
		return dns_name_equal(owner, q) ? NULL : "NODATA from another owner";
	if (dns_name_cmp(owner, q) >= 0)
		return "covering owner not before qname";
	if (dns_name_cmp(q, next) >= 0 && !dns_name_equal(next, r->apex))
		return "covering next not after qname";
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = ((void **)arg)[0];
	struct reader_result *res = ((void **)arg)[1];
	uint32_t seed = (uint32_t)(uintptr_t)res | 1;
	uint8_t q[DNS_NAME_MAX];
	struct cache_nsec_proof p;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint32_t x = xorshift32(&seed);
		const uint8_t *base = r->names[x % RACE_NAMES];
		size_t l = dns_name_len(base);

		/* the name itself, one sorting after it, one below it */
		switch ((x >> 16) % 3) {
		case 0:
			memcpy(q, base, l);
			break;
		case 1:
			memcpy(q, base, l);
			q[0]++;
			q[q[0]] = 'x';
			memcpy(q + 1 + q[0], base + 1 + base[0],
			       l - 1 - base[0]);
			break;
		default:
			q[0] = 1;
			q[1] = 'a';
			memcpy(q + 2, base, l);
			break;
		}
		uint32_t now = __atomic_load_n(&r->now, __ATOMIC_RELAXED);
		int v = cache_nsec_lookup(r->n, q, (x >> 24) & 1 ? DNS_T_AAAA
							       : DNS_T_A,
					  now, &p);
		const char *bad = race_check(r, q, now, v, &p);

		res->lookups++;
		res->nxdomain += v == CACHE_NSEC_NXDOMAIN;
		res->nodata += v == CACHE_NSEC_NODATA;
		if (bad && !res->bad++)
			snprintf(res->first_bad, sizeof(res->first_bad),
				 "%s (verdict %d)", bad, v);
		cache_nsec_reader_quiescent();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void race_soa(struct race *r, uint32_t serial, uint32_t exp)
{
	uint8_t b[9];

	b[0] = 'S';
	dns_put32(b + 1, serial);
	dns_put32(b + 5, fnv(b, 5));
	cr_assert_eq(cache_nsec_set_soa(r->n, r->apex, b, sizeof(b), exp, INS_NOW), 0);
}

Test(nsec, readers_see_consistent_proofs_while_the_writer_churns,
     .timeout = 60)
{
	static struct race r;
	struct reader_result res[RACE_READERS];
	void *args[RACE_READERS][2];
	pthread_t t[RACE_READERS];
	uint8_t rd[512], blob[600];
	uint32_t seed = 7, serial = 0;
	uint64_t ops = 0, dropped = 0;
	struct timespec start, cur;
	size_t bitmap_len = mkbitmap(rd, TYPES(DNS_T_A, DNS_T_RRSIG,
					      DNS_T_NSEC));
	uint8_t bitmap[64];

	memcpy(bitmap, rd, bitmap_len);
	memset(res, 0, sizeof(res));
	r.n = cache_nsec_new(NULL);
	r.now = 1000;
	memcpy(r.apex, nm("example."), DNS_NAME_MAX);
	for (int i = 0; i < RACE_NAMES; i++) {
		char s[32];

		snprintf(s, sizeof(s), "h%03d.example.", i);
		memcpy(r.names[i], nm(s), DNS_NAME_MAX);
	}
	race_soa(&r, serial++, r.now + 50);
	for (int i = 0; i < RACE_READERS; i++) {
		args[i][0] = &r;
		args[i][1] = &res[i];
		cr_assert_eq(pthread_create(&t[i], NULL, race_reader, args[i]),
			     0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		uint32_t x = xorshift32(&seed);
		uint32_t now = r.now;
		int i = (int)(x % RACE_NAMES);
		int j = i + 1 + (int)((x >> 8) % 3);
		const uint8_t *owner = r.names[i];
		const uint8_t *next = j >= RACE_NAMES ? r.apex : r.names[j];

		if ((x >> 12) % 16 == 0) { /* the apex range */
			owner = r.apex;
			next = r.names[0];
		}
		size_t nl = dns_name_len(next);

		memcpy(rd, next, nl);
		memcpy(rd + nl, bitmap, bitmap_len);
		cr_assert_eq(cache_nsec_insert(r.n, r.apex, owner, rd,
					       nl + bitmap_len,
					       now + 1 + (x >> 20) % 30, blob,
					       race_blob(blob, owner, next), INS_NOW),
			     0);
		ops++;
		if (ops % 64 == 0)
			__atomic_store_n(&r.now, now + 1, __ATOMIC_RELAXED);
		if (ops % 256 == 0) {
			int d = cache_nsec_drop_expired(r.n, r.now);

			cr_assert_geq(d, 0);
			dropped += (uint64_t)d;
		}
		if (ops % 1024 == 0)
			race_soa(&r, serial++, r.now + 50);
		if (ops % 20000 == 0) {
			cr_assert_eq(cache_nsec_drop_zone(r.n, r.apex), 0);
			race_soa(&r, serial++, r.now + 50);
		}
		urcu_qsbr_quiescent_state();
		clock_gettime(CLOCK_MONOTONIC, &cur);
	} while (cur.tv_sec - start.tv_sec < RACE_SECONDS ||
		 (cur.tv_sec - start.tv_sec == RACE_SECONDS &&
		  cur.tv_nsec < start.tv_nsec));
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	/* Offline while joining: readers' last grace periods need not wait
	 * for this thread. */
	urcu_qsbr_thread_offline();
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(t[i], NULL);
	urcu_qsbr_thread_online();
	for (int i = 0; i < RACE_READERS; i++) {
		cr_log_info("reader %d: %llu lookups, %llu NXDOMAIN, %llu NODATA",
			    i, (unsigned long long)res[i].lookups,
			    (unsigned long long)res[i].nxdomain,
			    (unsigned long long)res[i].nodata);
		cr_assert_eq(res[i].bad, 0, "reader %d: %llu bad, first: %s", i,
			     (unsigned long long)res[i].bad, res[i].first_bad);
		cr_assert_gt(res[i].nxdomain, 0);
		cr_assert_gt(res[i].nodata, 0);
	}
	cr_log_info("writer: %llu inserts, %llu ranges dropped",
		    (unsigned long long)ops, (unsigned long long)dropped);
	cr_assert_gt(dropped, 0);
	cache_nsec_free(r.n);
}

/* A configuration reload that lowers max-negative-ttl: every zone goes. */
Test(nsec, flush_drops_every_zone)
{
	struct cache_nsec *n = zone_example();
	struct cache_nsec_proof p;
	struct cache_nsec_stats st;

	soa(n, "other.", EXP);
	INS(n, "other.", "other.", "m.other.", DNS_T_NS, DNS_T_SOA, DNS_T_RRSIG, DNS_T_NSEC);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	cr_assert_eq(cache_nsec_flush(n), 2);
	cr_assert_neq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.zones, 0);
	cr_assert_eq(cache_nsec_flush(n), 0, "an empty store: nothing to drop");
	fill_example(n);
	cr_assert_eq(look(n, "b.example.", DNS_T_A, NOW, &p), CACHE_NSEC_NXDOMAIN,
		     "fed again after the flush");
	cache_nsec_free(n);
}
