/*
 * tests/answer/test_policy.c: the compiled policy snapshot (answer/policy.h):
 * matching against a brute-force reference of the RPZ precedence rules on
 * random rule sets (zone order, CLIENT-IP before QNAME, exact before
 * wildcard, longer wildcard and longer prefix first), and every kind of
 * answer parsed back and read field by field.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/policy.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/query.h"
#include "tests/dns/testutil.h"

/* --- building zones by hand ---------------------------------------------- */

static const uint8_t soa_rd[] = {
	2, 'n', 's', 0, 4, 'r', 'o', 'o', 't', 0,
	0, 0, 0, 7, 0, 0, 14, 16, 0, 0, 3, 132, 0, 9, 58, 128, 0, 0, 0, 60,
};

static void zone(struct policy_zone *z, const char *origin)
{
	policy_zone_init(z);
	dns_name_copy_lower(z->origin, nm(origin));
	z->serial = 7;
	z->soa_ttl = 60;
	z->soa_rdlen = sizeof(soa_rd);
	z->soa_off = (uint32_t)policy_zone_put(z, soa_rd, sizeof(soa_rd));
}

static struct policy_rule *qname_rule(struct policy_zone *z, const char *name, bool wild,
				      uint8_t action)
{
	struct policy_rule *r = policy_zone_rule(z);
	const uint8_t *w = nm(name);

	r->trigger = POLICY_T_QNAME;
	r->action = action;
	r->wild = wild;
	r->name_len = (uint8_t)dns_name_len(w);
	r->name_off = (uint32_t)policy_zone_put(z, w, r->name_len);
	return r;
}

static struct policy_rule *ip_rule(struct policy_zone *z, int family, const uint8_t *addr,
				   uint8_t plen, uint8_t action)
{
	struct policy_rule *r = policy_zone_rule(z);

	r->trigger = POLICY_T_CLIENT_IP;
	r->action = action;
	r->family = (uint8_t)family;
	r->plen = plen;
	memcpy(r->addr, addr, family == 4 ? 4 : 16);
	return r;
}

static void local(struct policy_zone *z, struct policy_rule *r, uint16_t type, uint32_t ttl,
		  const void *rd, uint16_t rdlen)
{
	if (!r->rr_n)
		r->rr_first = (uint32_t)z->n_rr;
	struct policy_rr *x = policy_zone_rr(z);
	x->type = type;
	x->ttl = ttl;
	x->rdlen = rdlen;
	x->off = (uint32_t)policy_zone_put(z, rd, rdlen);
	x->wild_target = type == DNS_T_CNAME && ((const uint8_t *)rd)[0] == 1 &&
			 ((const uint8_t *)rd)[1] == '*';
	r->rr_n++;
}

static struct policy_zone_opts opts_default(void)
{
	return (struct policy_zone_opts){ .ede = 15, .max_ttl = 86400 };
}

static struct policy_snap *build(struct policy_zone **z, struct policy_zone_opts *o, unsigned n)
{
	static const char *names[] = { "zone0", "zone1", "zone2", "zone3", "zone4", "zone5" };
	size_t len = 0;
	struct policy_snap *s = policy_build((const struct policy_zone *const *)z, o, names, n,
					     42, NULL, NULL, &len);

	cr_assert_not_null(s);
	cr_assert_eq(policy_check(s, len), 0);
	cr_assert_eq(policy_gen(s), 42);
	return s;
}

static int match(const struct policy_snap *s, const char *name, int family, const uint8_t *ip,
		 struct policy_hit *hit)
{
	uint8_t l[DNS_NAME_MAX];
	size_t len = dns_name_copy_lower(l, nm(name));

	return policy_match(s, l, len, family, ip, hit);
}

/* --- matching ------------------------------------------------------------- */

Test(policy, exact_wildcard_and_zone_order)
{
	struct policy_zone z0, z1;
	struct policy_zone *zs[2] = { &z0, &z1 };
	struct policy_zone_opts o[2] = { opts_default(), opts_default() };
	struct policy_hit h;
	const uint8_t c4[4] = { 192, 0, 2, 1 };

	zone(&z0, "rpz0.");
	zone(&z1, "rpz1.");
	qname_rule(&z0, "bad.example.", false, POLICY_A_NXDOMAIN);		/* 0 */
	qname_rule(&z0, "example.", true, POLICY_A_NODATA);			/* 1 */
	qname_rule(&z0, "deep.example.", true, POLICY_A_DROP);			/* 2 */
	qname_rule(&z1, "good.example.", false, POLICY_A_PASSTHRU);		/* 3 */
	qname_rule(&z1, "other.", false, POLICY_A_TCP_ONLY);			/* 4 */
	struct policy_snap *s = build(zs, o, 2);

	cr_assert_eq(policy_rules(s), 5);
	cr_assert_eq(match(s, "BAD.example.", 4, c4, &h), POLICY_A_NXDOMAIN);
	cr_assert_eq(h.rule, 0);
	cr_assert_eq(h.trigger, POLICY_T_QNAME);
	/* the wildcard covers names below example., not example. itself */
	cr_assert_eq(match(s, "example.", 4, c4, &h), 0);
	cr_assert_eq(match(s, "x.example.", 4, c4, &h), POLICY_A_NODATA);
	/* a longer wildcard wins; its own name is the shorter one's */
	cr_assert_eq(match(s, "a.b.deep.example.", 4, c4, &h), POLICY_A_DROP);
	cr_assert_eq(match(s, "deep.example.", 4, c4, &h), POLICY_A_NODATA);
	/* zone 0's wildcard beats zone 1's exact name */
	cr_assert_eq(match(s, "good.example.", 4, c4, &h), POLICY_A_NODATA);
	cr_assert_eq(h.zone, 0);
	cr_assert_eq(match(s, "other.", 6, NULL, &h), POLICY_A_TCP_ONLY);
	cr_assert_eq(h.zone, 1);
	cr_assert_eq(match(s, "x.other.", 4, c4, &h), 0);
	cr_assert_eq(match(s, ".", 4, c4, &h), 0);
	free(s);
	policy_zone_fini(&z0);
	policy_zone_fini(&z1);
}

Test(policy, client_ip_before_qname_in_a_zone_not_across_zones)
{
	struct policy_zone z0, z1;
	struct policy_zone *zs[2] = { &z0, &z1 };
	struct policy_zone_opts o[2] = { opts_default(), opts_default() };
	struct policy_hit h;
	const uint8_t net[4] = { 10, 1, 0, 0 }, host[4] = { 10, 1, 2, 3 }, in[4] = { 10, 1, 2, 3 },
		      out[4] = { 10, 2, 0, 1 };
	uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 }, in6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 },
		out6[16] = { 0x20, 0x01, 0x0d, 0xb9 };

	zone(&z0, "rpz0.");
	zone(&z1, "rpz1.");
	qname_rule(&z0, "blocked.test.", false, POLICY_A_NXDOMAIN);	/* 0 */
	ip_rule(&z1, 4, net, 16, POLICY_A_DROP);			/* 1 */
	ip_rule(&z1, 4, host, 32, POLICY_A_PASSTHRU);			/* 2 */
	ip_rule(&z1, 6, net6, 32, POLICY_A_NODATA);			/* 3 */
	qname_rule(&z1, "q.test.", false, POLICY_A_NXDOMAIN);		/* 4 */
	struct policy_snap *s = build(zs, o, 2);

	/* zone 0's QNAME beats zone 1's CLIENT-IP */
	cr_assert_eq(match(s, "blocked.test.", 4, in, &h), POLICY_A_NXDOMAIN);
	cr_assert_eq(h.zone, 0);
	/* in zone 1, CLIENT-IP beats QNAME; the longest prefix wins */
	cr_assert_eq(match(s, "q.test.", 4, in, &h), POLICY_A_PASSTHRU);
	cr_assert_eq(h.trigger, POLICY_T_CLIENT_IP);
	cr_assert_eq(h.rule, 2);
	const uint8_t other[4] = { 10, 1, 200, 9 };
	cr_assert_eq(match(s, "q.test.", 4, other, &h), POLICY_A_DROP);
	cr_assert_eq(match(s, "q.test.", 4, out, &h), POLICY_A_NXDOMAIN);
	cr_assert_eq(h.trigger, POLICY_T_QNAME);
	cr_assert_eq(match(s, "x.test.", 4, out, &h), 0);
	cr_assert_eq(match(s, "x.test.", 6, in6, &h), POLICY_A_NODATA);
	cr_assert_eq(match(s, "x.test.", 6, out6, &h), 0);
	free(s);
	policy_zone_fini(&z0);
	policy_zone_fini(&z1);
}

Test(policy, empty_snapshot_matches_nothing)
{
	struct policy_snap *s = build(NULL, NULL, 0);
	struct policy_hit h;
	const uint8_t c[16] = { 1 };

	cr_assert_eq(match(s, "a.b.", 4, c, &h), 0);
	cr_assert_eq(match(s, "a.b.", 6, c, &h), 0);
	free(s);
}

/* --- random rule sets against the reference ------------------------------- */

struct ref_rule {
	int zone, trigger, wild, family, plen;
	char name[128];
	uint8_t addr[16];
	uint32_t index;
};

static unsigned rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 8) & 0xffffff;
}

static void rand_name(unsigned *st, char *out, int *labels)
{
	static const char *lab[] = { "a", "b", "cc", "ddd", "e-longer-label-here" };
	int n = 1 + (int)(rnd(st) % 4);

	out[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(out, lab[rnd(st) % 5]);
		strcat(out, ".");
	}
	*labels = n;
}

static bool in_prefix(const uint8_t *a, const uint8_t *p, int plen)
{
	for (int i = 0; i < plen; i++)
		if (((a[i / 8] ^ p[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* The RPZ precedence by brute force: (zone, CLIENT-IP before QNAME,
 * exact, longer wildcard, longer prefix). */
static int ref_match(const struct ref_rule *r, int n, const char *qname, int family,
		     const uint8_t *ip)
{
	int best = -1;
	long best_key = 0;
	uint8_t q[DNS_NAME_MAX];

	dns_name_copy_lower(q, nm(qname));
	for (int i = 0; i < n; i++) {
		long key;
		if (r[i].trigger == POLICY_T_CLIENT_IP) {
			if (r[i].family != family || !in_prefix(ip, r[i].addr, r[i].plen))
				continue;
			key = (long)r[i].zone << 20 | (200 - r[i].plen);
		} else {
			uint8_t w[DNS_NAME_MAX];
			dns_name_copy_lower(w, nm(r[i].name));
			if (r[i].wild) {
				if (dns_name_equal(q, w) || !dns_name_is_subdomain(q, w))
					continue;
				key = (long)r[i].zone << 20 | 1 << 10 | (200 - dns_name_labels(w));
			} else {
				if (!dns_name_equal(q, w))
					continue;
				key = (long)r[i].zone << 20 | 1 << 10;
			}
		}
		if (best < 0 || key < best_key) {
			best = i;
			best_key = key;
		}
	}
	return best;
}

/* A rule with the key of an earlier one of its zone (the parser groups one
 * owner's records into one rule). */
static bool ref_dup(const struct ref_rule *ref, int nref, const struct ref_rule *x)
{
	for (int j = 0; j < nref; j++)
		if (ref[j].zone == x->zone && ref[j].trigger == x->trigger &&
		    ref[j].wild == x->wild && ref[j].family == x->family &&
		    ref[j].plen == x->plen && memcmp(ref[j].addr, x->addr, 16) == 0 &&
		    strcasecmp(ref[j].name, x->name) == 0)
			return true;
	return false;
}

/* A random rule set: 1-4 zones, the rules in source form and in the
 * reference's. */
struct ref_set {
	struct policy_zone z[4];
	struct policy_zone *zs[4];
	struct policy_zone_opts o[4];
	struct ref_rule ref[400];
	int nref, nz;
	uint32_t index;
};

static void ref_set_init(struct ref_set *r, unsigned *st)
{
	r->nref = 0;
	r->index = 0;
	r->nz = 1 + (int)(rnd(st) % 4);
	for (int k = 0; k < 4; k++) {
		r->zs[k] = &r->z[k];
		r->o[k] = opts_default();
	}
	for (int k = 0; k < r->nz; k++)
		zone(&r->z[k], "rpz.");
}

static struct policy_rule *trigger_rule(struct policy_zone *z, const struct ref_rule *x,
					uint8_t action);

/* The next rule x (r->ref[r->nref], drawn by the caller) kept unless its
 * key is an earlier one's in its zone (the parser groups one owner's
 * records into one rule). */
static void ref_set_add(struct ref_set *r, uint8_t action)
{
	struct ref_rule *x = &r->ref[r->nref];

	if (ref_dup(r->ref, r->nref, x))
		return;
	trigger_rule(&r->z[x->zone], x, action);
	x->index = r->index++;
	r->nref++;
}

static void ref_set_fini(struct ref_set *r)
{
	for (int k = 0; k < r->nz; k++)
		policy_zone_fini(&r->z[k]);
}

Test(policy, random_rule_sets_match_the_reference)
{
	unsigned st = 12345, hits[3] = { 0 };
	static struct ref_set rs;
	struct ref_rule *ref = rs.ref;

	for (int round = 0; round < 40; round++) {
		ref_set_init(&rs, &st);
		for (int k = 0; k < rs.nz; k++) {
			int rules = (int)(rnd(&st) % 60);
			for (int i = 0; i < rules; i++) {
				struct ref_rule *x = &ref[rs.nref];
				memset(x, 0, sizeof(*x));
				x->zone = k;
				int labels;
				if (rnd(&st) % 2) {
					x->trigger = POLICY_T_QNAME;
					x->wild = (int)(rnd(&st) % 2);
					rand_name(&st, x->name, &labels);
					if (rnd(&st) % 10 == 0)
						strcpy(x->name, ".");
				} else {
					x->trigger = POLICY_T_CLIENT_IP;
					x->family = rnd(&st) % 3 ? 4 : 6;
					int bits = x->family == 4 ? 32 : 128;
					x->plen = 1 + (int)(rnd(&st) % (unsigned)bits);
					/* addresses from a small space, so prefixes nest,
					 * and a few anywhere (the index's buckets) */
					bool any = rnd(&st) % 8 == 0;
					x->addr[0] = (uint8_t)(any ? rnd(&st) % 256
								   : rnd(&st) % 2 ? 10 : 11);
					for (int b = 1; b < 16; b++)
						x->addr[b] = (uint8_t)(rnd(&st) % (any ? 256 : 3));
					for (int b = x->plen; b < 128; b++)
						x->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
				}
				if (x->trigger == POLICY_T_QNAME && strcmp(x->name, ".") == 0)
					x->wild = 1;
				ref_set_add(&rs, x->trigger == POLICY_T_QNAME ? POLICY_A_NXDOMAIN
									       : POLICY_A_DROP);
			}
		}
		struct policy_snap *s = build(rs.zs, rs.o, (unsigned)rs.nz);
		for (int t = 0; t < 400; t++) {
			char q[128];
			int labels;
			uint8_t ip[16] = { 0 };
			int family = rnd(&st) % 2 ? 4 : 6;
			rand_name(&st, q, &labels);
			bool any = rnd(&st) % 8 == 0;
			ip[0] = (uint8_t)(any ? rnd(&st) % 256 : rnd(&st) % 2 ? 10 : 11);
			for (int b = 1; b < 16; b++)
				ip[b] = (uint8_t)(rnd(&st) % (any ? 256 : 3));
			struct policy_hit h;
			int want = ref_match(ref, rs.nref, q, family, ip);
			int got = match(s, q, family, ip, &h);
			hits[want < 0 ? 0 : ref[want].trigger == POLICY_T_QNAME ? 1 : 2]++;
			if (want < 0) {
				cr_assert_eq(got, 0, "round %d: %s matched rule %u, none expected",
					     round, q, h.rule);
			} else {
				cr_assert_neq(got, 0, "round %d: %s matched nothing", round, q);
				cr_assert_eq(h.rule, ref[want].index,
					     "round %d: %s (family %d): rule %u, expected %u", round,
					     q, family, h.rule, ref[want].index);
			}
		}
		free(s);
		ref_set_fini(&rs);
	}
	/* the rule sets are dense enough to test something of each kind */
	cr_assert_gt(hits[0], 100, "%u %u %u", hits[0], hits[1], hits[2]);
	cr_assert_gt(hits[1], 1000);
	cr_assert_gt(hits[2], 1000);
}

/* --- response triggers against the reference ------------------------------ */

static struct policy_rule *trigger_rule(struct policy_zone *z, const struct ref_rule *x,
					uint8_t action)
{
	if (x->trigger == POLICY_T_QNAME || x->trigger == POLICY_T_NSDNAME) {
		struct policy_rule *r = qname_rule(z, x->name, x->wild, action);
		r->trigger = (uint8_t)x->trigger;
		return r;
	}
	struct policy_rule *r = ip_rule(z, x->family, x->addr, (uint8_t)x->plen, action);
	r->trigger = (uint8_t)x->trigger;
	return r;
}

static long name_key(const struct ref_rule *r, const char *name)
{
	uint8_t q[DNS_NAME_MAX], w[DNS_NAME_MAX];

	dns_name_copy_lower(q, nm(name));
	dns_name_copy_lower(w, nm(r->name));
	if (r->wild)
		return dns_name_equal(q, w) || !dns_name_is_subdomain(q, w)
			       ? -1 : 200 - dns_name_labels(w);
	return dns_name_equal(q, w) ? 0 : -1;
}

static long rank_of(int trigger)
{
	static const long rank[] = { [POLICY_T_CLIENT_IP] = 0, [POLICY_T_QNAME] = 1,
				     [POLICY_T_IP] = 2, [POLICY_T_NSDNAME] = 3, [POLICY_T_NSIP] = 4 };
	return rank[trigger];
}

/* The reference's best so far: a rule, its key, and what it matched (ties
 * between rules: the smaller name in DNSSEC order, the smaller address,
 * IPv4 as ::ffff:a.b.c.d). */
struct ref_best {
	int rule;
	long key;
	uint8_t name[DNS_NAME_MAX];
	uint8_t addr[16];
};

/* One candidate (a name or an address of the question or its response)
 * against every rule of trigger t. */
static void ref_try(const struct ref_rule *r, int n, int t, const char *name, int family,
		    const uint8_t *a, struct ref_best *b)
{
	uint8_t cn[DNS_NAME_MAX], ca[16] = { [10] = 0xff, [11] = 0xff };

	if (name)
		dns_name_copy_lower(cn, nm(name));
	else
		memcpy(family == 4 ? ca + 12 : ca, a, family == 4 ? 4 : 16);
	for (int i = 0; i < n; i++) {
		long spec;
		if (r[i].trigger != t)
			continue;
		if (name)
			spec = name_key(&r[i], name);
		else
			spec = r[i].family == family && in_prefix(a, r[i].addr, r[i].plen)
				       ? 200 - (family == 4 ? 96 : 0) - r[i].plen : -1;
		if (spec < 0)
			continue;
		long k = (long)r[i].zone << 20 | rank_of(t) << 12 | spec;
		if (b->rule >= 0 && (k > b->key ||
				     (k == b->key && (name ? dns_name_cmp(cn, b->name) >= 0
							   : memcmp(ca, b->addr, 16) >= 0))))
			continue;
		b->rule = i;
		b->key = k;
		memcpy(b->name, cn, sizeof(cn));
		memcpy(b->addr, ca, 16);
	}
}

struct resp_case {
	char qname[128];
	int family;
	uint8_t client[16];
	int nchain, naddr, nnsn, nnsa;
	char chain[2][128];
	int afam[2];
	uint8_t addr[2][16];
	char nsn[3][128];
	int nsfam[3];
	uint8_t nsa[3][16];
};

static void rand_addr(unsigned *st, int family, uint8_t *a)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(rnd(st) % 2 ? 10 : 11);
	for (int b = 1; b < (family == 4 ? 4 : 16); b++)
		a[b] = (uint8_t)(rnd(st) % 3);
}

Test(policy, response_triggers_match_the_reference)
{
	unsigned st = 777, wins[POLICY_T_NSIP + 1] = { 0 }, none = 0;
	static struct ref_set rs;
	struct ref_rule *ref = rs.ref;

	for (int round = 0; round < 40; round++) {
		ref_set_init(&rs, &st);
		for (int k = 0; k < rs.nz; k++) {
			int rules = (int)(rnd(&st) % 50);
			for (int i = 0; i < rules; i++) {
				struct ref_rule *x = &ref[rs.nref];
				int labels;
				memset(x, 0, sizeof(*x));
				x->zone = k;
				x->trigger = POLICY_T_QNAME + (int)(rnd(&st) % 5);
				if (x->trigger == POLICY_T_QNAME || x->trigger == POLICY_T_NSDNAME) {
					x->wild = (int)(rnd(&st) % 2);
					rand_name(&st, x->name, &labels);
				} else {
					x->family = rnd(&st) % 3 ? 4 : 6;
					x->plen = 1 + (int)(rnd(&st) % (x->family == 4 ? 32u : 128u));
					rand_addr(&st, x->family, x->addr);
					for (int b = x->plen; b < 128; b++)
						x->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
				}
				ref_set_add(&rs, POLICY_A_NXDOMAIN);
			}
		}
		struct policy_snap *s = build(rs.zs, rs.o, (unsigned)rs.nz);
		for (int t = 0; t < 300; t++) {
			struct resp_case c;
			int labels;
			memset(&c, 0, sizeof(c));
			rand_name(&st, c.qname, &labels);
			c.family = rnd(&st) % 2 ? 4 : 6;
			rand_addr(&st, c.family, c.client);
			c.nchain = (int)(rnd(&st) % 3);
			c.naddr = (int)(rnd(&st) % 3);
			c.nnsn = (int)(rnd(&st) % 4);
			c.nnsa = (int)(rnd(&st) % 4);
			for (int i = 0; i < c.nchain; i++)
				rand_name(&st, c.chain[i], &labels);
			for (int i = 0; i < c.naddr; i++) {
				c.afam[i] = rnd(&st) % 2 ? 4 : 6;
				rand_addr(&st, c.afam[i], c.addr[i]);
			}
			for (int i = 0; i < c.nnsn; i++)
				rand_name(&st, c.nsn[i], &labels);
			for (int i = 0; i < c.nnsa; i++) {
				c.nsfam[i] = rnd(&st) % 2 ? 4 : 6;
				rand_addr(&st, c.nsfam[i], c.nsa[i]);
			}

			/* the reference: the question's best, the response's
			 * best, and the response's only when of an earlier zone */
			static struct ref_best pb, rb, cb;
			pb.rule = rb.rule = -1;
			ref_try(ref, rs.nref, POLICY_T_CLIENT_IP, NULL, c.family, c.client, &pb);
			ref_try(ref, rs.nref, POLICY_T_QNAME, c.qname, 0, NULL, &pb);
			/* the chain's first name that matches is its match */
			for (int i = 0; i < c.nchain; i++) {
				cb.rule = -1;
				ref_try(ref, rs.nref, POLICY_T_QNAME, c.chain[i], 0, NULL, &cb);
				if (cb.rule >= 0) {
					rb = cb;
					break;
				}
			}
			for (int i = 0; i < c.naddr; i++)
				ref_try(ref, rs.nref, POLICY_T_IP, NULL, c.afam[i], c.addr[i], &rb);
			for (int i = 0; i < c.nnsn; i++)
				ref_try(ref, rs.nref, POLICY_T_NSDNAME, c.nsn[i], 0, NULL, &rb);
			for (int i = 0; i < c.nnsa; i++)
				ref_try(ref, rs.nref, POLICY_T_NSIP, NULL, c.nsfam[i], c.nsa[i], &rb);
			int pre = pb.rule, resp = rb.rule;
			int want = resp >= 0 && (pre < 0 || ref[resp].zone < ref[pre].zone) ? resp : pre;

			/* the response: the chain from the question, then the
			 * addresses owned by its last name */
			uint8_t buf[2048];
			struct dns_builder b;
			const char *owner = c.qname;
			cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR), 0);
			cr_assert_eq(dns_builder_question(&b, nm(c.qname), DNS_T_A, DNS_C_IN), 0);
			for (int i = 0; i < c.nchain; i++) {
				cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm(owner), DNS_T_CNAME,
							    DNS_C_IN, 60, nm(c.chain[i]),
							    (uint16_t)dns_name_len(nm(c.chain[i]))), 0);
				owner = c.chain[i];
			}
			for (int i = 0; i < c.naddr; i++)
				cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm(owner),
							    c.afam[i] == 4 ? DNS_T_A : DNS_T_AAAA,
							    DNS_C_IN, 60, c.addr[i],
							    c.afam[i] == 4 ? 4 : 16), 0);
			size_t n = dns_builder_finish(&b);
			static struct policy_ns ns;
			memset(&ns, 0, sizeof(ns));
			for (int i = 0; i < c.nnsn; i++) {
				ns.name_len[i] = (uint8_t)dns_name_copy_lower(ns.name[i], nm(c.nsn[i]));
				ns.n_names++;
			}
			for (int i = 0; i < c.nnsa; i++) {
				ns.addr[i].family = (uint8_t)c.nsfam[i];
				memcpy(ns.addr[i].a, c.nsa[i], 16);
				ns.n_addrs++;
			}

			struct policy_hit hp = { 0 }, hr = { 0 };
			match(s, c.qname, c.family, c.client, &hp);
			policy_match_response(s, policy_zones(s), buf, n, &ns, &hr);
			const struct policy_hit *w = policy_winner(&hp, &hr);
			if (want < 0) {
				none++;
				cr_assert_null(w, "round %d, case %d: rule %u matched, none expected",
					       round, t, w ? w->rule : 0);
				continue;
			}
			wins[ref[want].trigger]++;
			cr_assert_not_null(w, "round %d, case %d: nothing matched, rule %u expected",
					   round, t, ref[want].index);
			cr_assert_eq(w->rule, ref[want].index,
				     "round %d, case %d: rule %u (trigger %d), expected %u (trigger %d)",
				     round, t, w->rule, w->trigger, ref[want].index,
				     ref[want].trigger);
			cr_assert_eq(w->trigger, ref[want].trigger);
			/* what a cache entry keeps names the same rule */
			struct policy_hit back;
			if (w == &hr) {
				cr_assert(policy_tag_hit(s, policy_hit_tag(&hr), &back));
				cr_assert_eq(back.rule, hr.rule);
				cr_assert_eq(back.zone, hr.zone);
				cr_assert_eq(back.action, hr.action);
			}
			/* the needs say so whenever a response trigger could win */
			unsigned need = policy_needs(s, hp.action ? hp.zone : policy_zones(s));
			if (w == &hr)
				cr_assert(need & (w->trigger == POLICY_T_QNAME	   ? POLICY_NEED_CHAIN
						  : w->trigger == POLICY_T_IP	   ? POLICY_NEED_IP
						  : w->trigger == POLICY_T_NSDNAME ? POLICY_NEED_NSDNAME
										   : POLICY_NEED_NSIP));
		}
		free(s);
		ref_set_fini(&rs);
	}
	/* every trigger won somewhere, and some cases matched nothing */
	cr_assert_gt(none, 100);
	for (int t = POLICY_T_QNAME; t <= POLICY_T_NSIP; t++)
		cr_assert_gt(wins[t], 50, "trigger %d won %u times", t, wins[t]);
}

/* --- answers -------------------------------------------------------------- */

static size_t query(uint8_t *buf, const char *name, uint16_t type, bool edns, bool dnssec,
		    struct dns_query *q)
{
	struct dns_builder b;

	cr_assert_eq(dns_builder_init(&b, buf, 512, 0x1234, DNS_F_RD), 0);
	cr_assert_eq(dns_builder_question(&b, nm(name), type, DNS_C_IN), 0);
	if (edns)
		cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, dnssec ? DNS_EDNS_F_DO : 0, NULL, 0), 0);
	size_t n = dns_builder_finish(&b);
	cr_assert_eq(dns_query_parse(q, buf, n), 0);
	return n;
}

struct answered {
	struct dns_msg m;
	uint8_t buf[4096];
	enum policy_verdict v;
};

static void answer(const struct policy_snap *s, const char *qname, uint16_t type, bool edns,
		   bool stream, size_t cap, struct answered *a)
{
	uint8_t qb[512], l[DNS_NAME_MAX];
	struct dns_query q;
	struct policy_hit h;
	size_t len = 0;

	query(qb, qname, type, edns, false, &q);
	size_t ll = dns_name_copy_lower(l, nm(qname));
	cr_assert_neq(policy_match(s, l, ll, 4, (const uint8_t *)"\x7f\0\0\1", &h), 0);
	a->v = policy_answer(s, &h, &q, stream, 1232, a->buf, cap, &len);
	if (a->v == POLICY_V_ANSWER || a->v == POLICY_V_CHASE) {
		cr_assert_eq(dns_msg_parse(&a->m, a->buf, len), 0, "answer does not parse");
		cr_assert_eq(a->m.hdr.id, 0x1234);
		cr_assert(a->m.hdr.flags & DNS_F_QR);
		cr_assert(a->m.hdr.flags & DNS_F_RA);
		cr_assert(a->m.hdr.flags & DNS_F_RD);
		cr_assert_not(a->m.hdr.flags & (DNS_F_AA | DNS_F_AD));
		cr_assert_eq(a->m.qtype, type);
		/* the question as the client spelled it */
		cr_assert_eq(memcmp(a->m.qname, nm(qname), dns_name_len(nm(qname))), 0);
		cr_assert_eq(a->m.has_edns, edns);
	}
}

static void nth_rr(const struct dns_msg *m, enum dns_section sec, int i, struct dns_rr *rr)
{
	struct dns_rr_iter it;

	dns_rr_iter_init(&it, m, sec);
	for (int k = 0; k <= i; k++)
		cr_assert_eq(dns_rr_next(&it, rr), 1);
}

static uint16_t ede_of(const struct dns_msg *m)
{
	return dns_opt_find_ede(m->wire + m->edns.opts_off, m->edns.opts_len);
}

Test(policy, answers_parse_back_with_the_right_fields)
{
	struct policy_zone z;
	struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts o[1] = { opts_default() };
	struct answered a;
	struct dns_rr rr;
	const uint8_t a1[4] = { 198, 18, 0, 1 }, a2[4] = { 198, 18, 0, 2 };
	const uint8_t txt[] = "\x07" "blocked";

	zone(&z, "rpz.example.");
	qname_rule(&z, "nx.test.", false, POLICY_A_NXDOMAIN);
	qname_rule(&z, "nodata.test.", false, POLICY_A_NODATA);
	qname_rule(&z, "drop.test.", false, POLICY_A_DROP);
	qname_rule(&z, "pass.test.", false, POLICY_A_PASSTHRU);
	qname_rule(&z, "tcp.test.", false, POLICY_A_TCP_ONLY);
	struct policy_rule *r = qname_rule(&z, "local.test.", false, POLICY_A_LOCAL);
	local(&z, r, DNS_T_A, 30, a1, 4);
	local(&z, r, DNS_T_A, 30, a2, 4);
	local(&z, r, DNS_T_TXT, 100000, txt, 8);
	r = qname_rule(&z, "garden.test.", true, POLICY_A_LOCAL);
	local(&z, r, DNS_T_CNAME, 300, nm("walled.example."), (uint16_t)dns_name_len(nm("walled.example.")));
	r = qname_rule(&z, "wild.test.", true, POLICY_A_LOCAL);
	local(&z, r, DNS_T_CNAME, 300, nm("*.sink.example."), (uint16_t)dns_name_len(nm("*.sink.example.")));
	o[0].max_ttl = 3600;
	struct policy_snap *s = build(zs, o, 1);

	answer(s, "Nx.Test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_ANSWER);
	cr_assert_eq(a.m.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(a.m.hdr.count[1], 0);
	cr_assert_eq(a.m.hdr.count[2], 1);
	nth_rr(&a.m, DNS_SEC_AUTHORITY, 0, &rr);
	cr_assert_eq(rr.type, DNS_T_SOA);
	cr_assert_eq(dns_get32(a.buf + rr.ttl_off), 60);
	cr_assert_eq(ede_of(&a.m), 15);

	answer(s, "nodata.test.", DNS_T_AAAA, false, false, 1232, &a);
	cr_assert_eq(a.m.rcode, DNS_R_NOERROR);
	cr_assert_eq(a.m.hdr.count[1], 0);
	cr_assert_eq(a.m.hdr.count[2], 1);

	answer(s, "drop.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_DROP);
	answer(s, "pass.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_PASS);

	answer(s, "tcp.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_ANSWER);
	cr_assert(a.m.hdr.flags & DNS_F_TC);
	cr_assert_eq(a.m.hdr.count[1] + a.m.hdr.count[2], 0);
	answer(s, "tcp.test.", DNS_T_A, true, true, 65535, &a);
	cr_assert_eq(a.v, POLICY_V_PASS);

	answer(s, "LOCAL.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.m.rcode, DNS_R_NOERROR);
	cr_assert_eq(a.m.hdr.count[1], 2);
	nth_rr(&a.m, DNS_SEC_ANSWER, 1, &rr);
	cr_assert_eq(rr.type, DNS_T_A);
	cr_assert_eq(memcmp(a.buf + rr.rdata_off, a2, 4), 0);
	cr_assert_eq(dns_get32(a.buf + rr.ttl_off), 30);
	/* the TXT's TTL capped at the zone's max-ttl */
	answer(s, "local.test.", DNS_T_TXT, true, false, 1232, &a);
	cr_assert_eq(a.m.hdr.count[1], 1);
	nth_rr(&a.m, DNS_SEC_ANSWER, 0, &rr);
	cr_assert_eq(dns_get32(a.buf + rr.ttl_off), 3600);
	/* no local data of the type: NODATA */
	answer(s, "local.test.", DNS_T_MX, true, false, 1232, &a);
	cr_assert_eq(a.m.rcode, DNS_R_NOERROR);
	cr_assert_eq(a.m.hdr.count[1], 0);
	cr_assert_eq(a.m.hdr.count[2], 1);
	answer(s, "local.test.", DNS_T_ANY, false, false, 1232, &a);
	cr_assert_eq(a.m.hdr.count[1], 3);

	/* a CNAME: the front end chases the target */
	answer(s, "www.garden.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_CHASE);
	cr_assert_eq(a.m.hdr.count[1], 1);
	nth_rr(&a.m, DNS_SEC_ANSWER, 0, &rr);
	cr_assert_eq(rr.type, DNS_T_CNAME);
	cr_assert(dns_name_equal(a.buf + rr.rdata_off, nm("walled.example.")));
	answer(s, "www.garden.test.", DNS_T_CNAME, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_ANSWER);
	/* a wildcard target: the question's name before the suffix */
	answer(s, "Ads.Wild.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_CHASE);
	nth_rr(&a.m, DNS_SEC_ANSWER, 0, &rr);
	cr_assert(dns_name_equal(a.buf + rr.rdata_off, nm("ads.wild.test.sink.example.")));
	{
		uint8_t qb[512], t[DNS_NAME_MAX], l[DNS_NAME_MAX];
		struct dns_query q;
		struct policy_hit h;
		query(qb, "Ads.Wild.test.", DNS_T_A, false, false, &q);
		size_t ll = dns_name_copy_lower(l, nm("ads.wild.test."));
		cr_assert_eq(policy_match(s, l, ll, 4, NULL, &h), POLICY_A_LOCAL);
		size_t tl = policy_chase_target(s, &h, &q, t);
		cr_assert_eq(tl, dns_name_len(nm("ads.wild.test.sink.example.")));
		cr_assert(dns_name_equal(t, nm("ads.wild.test.sink.example.")));
	}
	/* too small for the records: TC=1, no records */
	answer(s, "local.test.", DNS_T_ANY, false, false, 40, &a);
	cr_assert(a.m.hdr.flags & DNS_F_TC);
	cr_assert_eq(a.m.hdr.count[1], 0);
	free(s);
	policy_zone_fini(&z);
}

Test(policy, chain_names_meet_qname_rules_in_chain_order)
{
	struct policy_zone z;
	struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts o[1] = { opts_default() };
	struct policy_hit h;
	uint8_t buf[512];
	struct dns_builder b;

	zone(&z, "rpz.");
	qname_rule(&z, "bad.example.", false, POLICY_A_NXDOMAIN);	/* 0 */
	qname_rule(&z, "ok.example.", false, POLICY_A_PASSTHRU);	/* 1 */
	qname_rule(&z, "sink.example.", true, POLICY_A_NODATA);	/* 2 */
	struct policy_snap *s = build(zs, o, 1);
	/* cloak.attacker. CNAME x.sink.example. CNAME bad.example. A ... */
	const uint8_t a[4] = { 192, 0, 2, 1 };
	cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR), 0);
	cr_assert_eq(dns_builder_question(&b, nm("cloak.attacker."), DNS_T_A, DNS_C_IN), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("cloak.attacker."), DNS_T_CNAME, DNS_C_IN,
				    60, nm("X.Sink.example."), (uint16_t)dns_name_len(nm("x.sink.example."))), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("x.sink.example."), DNS_T_CNAME, DNS_C_IN,
				    60, nm("bad.example."), (uint16_t)dns_name_len(nm("bad.example."))), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("bad.example."), DNS_T_A, DNS_C_IN, 60, a, 4), 0);
	size_t n = dns_builder_finish(&b);
	/* the first name of the chain that matches: the wildcard's, though
	 * an exact rule matches a later one */
	cr_assert_eq(policy_match_response(s, 1, buf, n, NULL, &h), POLICY_A_NODATA);
	cr_assert_eq(h.rule, 2);
	cr_assert_eq(h.trigger, POLICY_T_QNAME);
	/* below the zone limit only: a question's match in zone 0 wins */
	cr_assert_eq(policy_match_response(s, 0, buf, n, NULL, &h), 0);
	/* a passthru name first ends the search */
	cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR), 0);
	cr_assert_eq(dns_builder_question(&b, nm("c.attacker."), DNS_T_A, DNS_C_IN), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("c.attacker."), DNS_T_CNAME, DNS_C_IN, 60,
				    nm("ok.example."), (uint16_t)dns_name_len(nm("ok.example."))), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("ok.example."), DNS_T_CNAME, DNS_C_IN, 60,
				    nm("bad.example."), (uint16_t)dns_name_len(nm("bad.example."))), 0);
	n = dns_builder_finish(&b);
	cr_assert_eq(policy_match_response(s, 1, buf, n, NULL, &h), POLICY_A_PASSTHRU);
	/* no chain: nothing (the question's own name is the front end's) */
	cr_assert_eq(dns_builder_init(&b, buf, sizeof(buf), 1, DNS_F_QR), 0);
	cr_assert_eq(dns_builder_question(&b, nm("bad.example."), DNS_T_A, DNS_C_IN), 0);
	n = dns_builder_finish(&b);
	cr_assert_eq(policy_match_response(s, 1, buf, n, NULL, &h), 0);
	free(s);
	policy_zone_fini(&z);
}

Test(policy, overrides_replace_every_action_of_the_zone)
{
	struct policy_zone z;
	struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts o[1] = { opts_default() };
	struct answered a;
	struct dns_rr rr;

	zone(&z, "rpz.");
	qname_rule(&z, "x.test.", false, POLICY_A_NXDOMAIN);
	o[0].override = POLICY_OVERRIDE_CNAME;
	dns_name_copy_lower(o[0].cname, nm("garden.example."));
	o[0].ede = DNS_EDE_NONE;
	struct policy_snap *s = build(zs, o, 1);
	answer(s, "x.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.v, POLICY_V_CHASE);
	nth_rr(&a.m, DNS_SEC_ANSWER, 0, &rr);
	cr_assert(dns_name_equal(a.buf + rr.rdata_off, nm("garden.example.")));
	cr_assert_eq(ede_of(&a.m), DNS_EDE_NONE);
	free(s);

	o[0].override = POLICY_OVERRIDE_NODATA;
	s = build(zs, o, 1);
	answer(s, "x.test.", DNS_T_A, true, false, 1232, &a);
	cr_assert_eq(a.m.rcode, DNS_R_NOERROR);
	cr_assert_eq(a.m.hdr.count[2], 1);
	free(s);
	policy_zone_fini(&z);
}

Test(policy, check_refuses_a_damaged_snapshot)
{
	struct policy_zone z;
	struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts o[1] = { opts_default() };
	const uint8_t net[4] = { 10, 0, 0, 0 };
	size_t len = 0;

	zone(&z, "rpz.");
	qname_rule(&z, "x.test.", false, POLICY_A_NXDOMAIN);
	ip_rule(&z, 4, net, 8, POLICY_A_DROP);
	const char *names[] = { "z" };
	struct policy_snap *s = policy_build((const struct policy_zone *const *)zs, o, names, 1, 1,
					     NULL, NULL, &len);
	cr_assert_eq(policy_check(s, len), 0);
	cr_assert_neq(policy_check(s, len - 8), 0);
	/* every octet of the header and tables flipped in turn: refused or
	 * still consistent, never an out-of-bounds read (ASan) */
	uint8_t *b = (uint8_t *)s;
	for (size_t i = 0; i < len; i += (i < 512 ? 1 : 997)) {
		b[i] ^= 0xff;
		if (policy_check(s, len) == 0) {
			struct policy_hit h;
			(void)match(s, "x.test.", 4, net, &h);
		}
		b[i] ^= 0xff;
	}
	free(s);
	policy_zone_fini(&z);
}

/* Tables of more than IDX_FINE_SEGMENTS segments get the finer index:
 * every address still finds the longest prefix holding it (or none),
 * against a search of every prefix; IPv4 and IPv6, prefixes anywhere and
 * crowded into one /16 (2001:db8::/32 for IPv6). */
Test(policy, a_large_client_ip_table_finds_the_longest_prefix)
{
	enum { PREFIXES = 24000, QUERIES = 4000 };
	unsigned st = 777;
	static struct policy_zone z;
	struct policy_zone *zs[1] = { &z };
	struct policy_zone_opts o[1] = { opts_default() };

	for (int family = 4; family <= 6; family += 2) {
		unsigned bytes = family == 4 ? 4 : 16, bits = 8 * bytes;
		zone(&z, "rpz.");
		for (unsigned i = 0; i < PREFIXES; i++) {
			uint8_t a[16] = { 0 };
			unsigned plen;
			for (unsigned b = 0; b < bytes; b++)
				a[b] = (uint8_t)rnd(&st);
			if (i % 2) { /* crowded */
				memcpy(a, family == 4 ? (const uint8_t[]){ 198, 18 }
						      : (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 },
				       family == 4 ? 2 : 4);
				plen = family == 4 ? 17 + rnd(&st) % 16 : 33 + rnd(&st) % 96;
			} else {
				plen = 1 + rnd(&st) % bits;
			}
			for (unsigned b = plen; b < bits; b++)
				a[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			ip_rule(&z, family, a, (uint8_t)plen, POLICY_A_DROP);
		}
		struct policy_snap *s = build(zs, o, 1);
		for (unsigned q = 0; q < QUERIES; q++) {
			uint8_t ip[16] = { 0 };
			for (unsigned b = 0; b < bytes; b++)
				ip[b] = (uint8_t)rnd(&st);
			if (q % 2) { /* inside a prefix, maybe a longer one's too */
				const struct policy_rule *r = &z.rule[rnd(&st) % z.n_rule];
				for (unsigned b = 0; b < r->plen; b++)
					ip[b / 8] = (uint8_t)((ip[b / 8] & ~(0x80 >> (b % 8))) |
							      (r->addr[b / 8] & (0x80 >> (b % 8))));
			}
			int longest = -1;
			for (size_t i = 0; i < z.n_rule; i++)
				if (in_prefix(ip, z.rule[i].addr, z.rule[i].plen) &&
				    (int)z.rule[i].plen > longest)
					longest = z.rule[i].plen;
			struct policy_hit h;
			int a = policy_match(s, nm("x."), 3, family, ip, &h);
			if (longest < 0) {
				cr_assert_eq(a, 0, "IPv%d query %u: matched, no prefix holds it", family, q);
				continue;
			}
			cr_assert_eq(a, POLICY_A_DROP, "IPv%d query %u: no match, a /%d holds it", family,
				     q, longest);
			const struct policy_rule *r = &z.rule[h.rule];
			cr_assert(in_prefix(ip, r->addr, r->plen), "IPv%d query %u: outside its rule",
				  family, q);
			cr_assert_eq(r->plen, longest, "IPv%d query %u: /%u, not the longest /%d", family,
				     q, r->plen, longest);
		}
		free(s);
		policy_zone_fini(&z);
	}
}

/* The process's address space (VmSize), KiB. */
static size_t vm_size_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* policy_grow(): an array grown past the size where it becomes a mapping
 * of its own (4 MiB) and on (mremap) keeps every element; freed with
 * policy_array_free() whichever it is; policy_array_alloc() blocks too. */
Test(policy, grown_arrays_keep_their_elements)
{
	uint32_t *a = NULL;
	size_t cap = 0, n = 0;

	for (uint32_t i = 0; i < 3000000; i++) {
		cr_assert(policy_grow((void **)&a, n, &cap, sizeof(*a), 1));
		a[n++] = i * 2654435761u;
		if (i % 65536 == 0) /* small and large arrays alike */
			for (uint32_t k = 0; k < n; k += 997)
				cr_assert_eq(a[k], k * 2654435761u, "element %u at %u", k, i);
	}
	for (uint32_t k = 0; k < n; k++)
		cr_assert_eq(a[k], k * 2654435761u);
	cr_assert_geq(cap, n);
	cr_assert_eq((uintptr_t)a % 16, 0);
	/* more than fits in a size_t: refused, the array as it was */
	cr_assert(!policy_grow((void **)&a, n, &cap, sizeof(*a), SIZE_MAX / 2));
	cr_assert_eq(a[n - 1], (uint32_t)(n - 1) * 2654435761u);
	policy_array_free(a);
	policy_array_free(NULL);
	for (size_t sz = 1; sz < ((size_t)64 << 20); sz *= 8) {
		uint8_t *p = policy_array_alloc(NULL, sz);
		cr_assert_not_null(p);
		p[0] = p[sz - 1] = 7;
		policy_array_free(p);
	}
	/* a snapshot's block is its size, not a grown array's capacity:
	 * 256 MiB asked, the address space grows by about that */
	size_t before = vm_size_kb();
	uint8_t *big = policy_array_alloc(NULL, (size_t)256 << 20);
	cr_assert_not_null(big);
	size_t grew = vm_size_kb() - before;
	cr_assert(grew >= 256 * 1024 && grew < 300 * 1024, "VmSize grew %zu KiB", grew);
	policy_array_free(big);
}
