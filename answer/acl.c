/*
 * answer/acl.c: the access-control engine (see acl.h). Building evaluates
 * the first-match list at every range boundary; looking up is a binary
 * search. Any thread for lookups; build before sharing.
 */
#include "answer/acl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Addresses as numbers, so that prefixes become intervals. */
static unsigned __int128 be_to_u128(const uint8_t *p, unsigned len)
{
	unsigned __int128 v = 0;

	for (unsigned i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t first_match(const struct cfg_acl_rule *r, unsigned n, int af, unsigned __int128 a,
			   unsigned bits)
{
	for (unsigned i = 0; i < n; i++) {
		const struct cfg_prefix *p = &r[i].prefix;
		if (p->a.family != af)
			continue;
		unsigned __int128 net = be_to_u128(p->a.addr, bits / 8);
		unsigned shift = bits - p->len;
		if (p->len == 0 || (shift < 128 && (a >> shift) == (net >> shift)))
			return r[i].action;
	}
	return CFG_ACL_REFUSE;
}

static int cmp_u128(const void *x, const void *y)
{
	unsigned __int128 a, b;

	memcpy(&a, x, sizeof(a));
	memcpy(&b, y, sizeof(b));
	return a < b ? -1 : a > b;
}

/*
 * The ranges of one family: every rule's first address and the address
 * after its last are boundaries; between two neighbouring boundaries the
 * first-match answer cannot change, so evaluating it at each boundary
 * gives the whole map. Neighbours with the same action are merged.
 */
static unsigned build_family(const struct cfg_acl_rule *r, unsigned nr, int af, unsigned bits,
			     unsigned __int128 *start, uint8_t *act)
{
	unsigned __int128 b[ANSWER_ACL_RANGES_MAX];
	unsigned nb = 0, n = 0;
	unsigned __int128 top = bits == 128 ? ~(unsigned __int128)0
					    : (((unsigned __int128)1 << bits) - 1);

	b[nb++] = 0;
	for (unsigned i = 0; i < nr; i++) {
		const struct cfg_prefix *p = &r[i].prefix;
		if (p->a.family != af || p->len == 0)
			continue;
		unsigned shift = bits - p->len;
		unsigned __int128 lo = be_to_u128(p->a.addr, bits / 8) >> shift << shift;
		unsigned __int128 hi = lo | ((shift ? ((unsigned __int128)1 << shift) : 1) - 1);
		b[nb++] = lo;
		if (hi != top)
			b[nb++] = hi + 1;
	}
	qsort(b, nb, sizeof(b[0]), cmp_u128);
	for (unsigned i = 0; i < nb; i++) {
		if (i && b[i] == b[i - 1])
			continue;
		uint8_t a = first_match(r, nr, af, b[i], bits);
		if (n && act[n - 1] == a)
			continue;
		start[n] = b[i];
		act[n++] = a;
	}
	return n;
}

void answer_acl_build_rules(struct answer_acl *acl, const struct cfg_acl_rule *r, unsigned n)
{
	unsigned __int128 s4[ANSWER_ACL_RANGES_MAX];

	if (n > CFG_ACL_MAX)
		n = CFG_ACL_MAX;
	memset(acl, 0, sizeof(*acl));
	acl->n4 = build_family(r, n, AF_INET, 32, s4, acl->act4);
	for (unsigned i = 0; i < acl->n4; i++)
		acl->start4[i] = (uint32_t)s4[i];
	acl->n6 = build_family(r, n, AF_INET6, 128, acl->start6, acl->act6);
}

void answer_acl_build(struct answer_acl *acl, const struct cfg *cfg)
{
	answer_acl_build_rules(acl, cfg->acl, cfg->n_acl);
}

uint8_t answer_acl_lookup(const struct answer_acl *acl, int v6, const uint8_t *addr)
{
	unsigned lo = 0, n;

	if (v6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		addr += 12;
		v6 = 0;
	}
	if (!v6) {
		uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			     (uint32_t)addr[2] << 8 | addr[3];
		/* the last range starting at or below a (start4[0] is 0) */
		for (n = acl->n4; n > 1;) {
			unsigned half = n / 2;
			if (acl->start4[lo + half] <= a)
				lo += half;
			n -= half;
		}
		return acl->act4[lo];
	}
	unsigned __int128 a = be_to_u128(addr, 16);
	for (n = acl->n6; n > 1;) {
		unsigned half = n / 2;
		if (acl->start6[lo + half] <= a)
			lo += half;
		n -= half;
	}
	return acl->act6[lo];
}
