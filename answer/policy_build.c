/*
 * answer/policy_build.c: compiling policy zones into a snapshot (control's
 * thread; it allocates) and checking a snapshot received from the other
 * process before anyone reads it. The layout and its invariants:
 * policy_int.h.
 */
#include "answer/policy_int.h"

#include <stdlib.h>
#include <sys/random.h>

#include "dns/name.h"

/* --- building ------------------------------------------------------------- */

struct pfx {
	unsigned __int128 lo, hi;
	uint32_t key;		/* precedence: smaller wins */
	uint32_t rule;
};

struct segs {
	unsigned __int128 *start;
	uint32_t *rule;
	size_t n;
};

static int pfx_cmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1; /* the outer one first */
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	/* one prefix written twice in a zone (IPv6 has several spellings):
	 * the first in the file wins, whatever qsort's order */
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void seg_emit(struct segs *g, unsigned __int128 start, uint32_t rule)
{
	if (g->n && g->rule[g->n - 1] == rule)
		return;
	if (g->n && g->start[g->n - 1] == start) {
		g->rule[g->n - 1] = rule; /* an empty segment: replaced */
		if (g->n > 1 && g->rule[g->n - 2] == rule)
			g->n--;
		return;
	}
	g->start[g->n] = start;
	g->rule[g->n++] = rule;
}

/*
 * Prefixes (CIDR: nested or disjoint) flattened into segments that cover
 * the space [0, max], each with the rule that wins there: the smallest key
 * among the prefixes holding it. g has room for 2 n + 1 segments.
 */
static bool flatten(struct pfx *p, size_t n, unsigned __int128 max, struct segs *g)
{
	struct {
		unsigned __int128 hi;
		uint32_t key, rule;
	} *st = malloc((n + 1) * sizeof(*st));
	size_t sp = 0;
	unsigned __int128 cur = 0;
	bool end = false; /* cur passed max */

	if (!st)
		return false;
	qsort(p, n, sizeof(*p), pfx_cmp);
	g->n = 0;
	for (size_t i = 0; i <= n; i++) {
		/* close what ends before the next prefix (all, at the end) */
		while (sp && (i == n || st[sp - 1].hi < p[i].lo)) {
			unsigned __int128 e = st[sp - 1].hi;
			seg_emit(g, cur, st[sp - 1].rule);
			sp--;
			if (e == max) {
				end = true;
				break;
			}
			cur = e + 1;
		}
		if (end || i == n)
			break;
		if (p[i].lo > cur || g->n == 0) {
			seg_emit(g, cur, sp ? st[sp - 1].rule : NONE);
			cur = p[i].lo;
		}
		uint32_t key = p[i].key, rule = p[i].rule;
		if (sp && st[sp - 1].key <= key) {
			key = st[sp - 1].key;
			rule = st[sp - 1].rule;
		}
		st[sp].hi = p[i].hi;
		st[sp].key = key;
		st[sp++].rule = rule;
	}
	if (!end)
		seg_emit(g, cur, NONE);
	free(st);
	return true;
}

static unsigned __int128 addr_value(int family, const uint8_t *a)
{
	unsigned __int128 v = 0;
	int len = family == 4 ? 4 : 16;

	for (int i = 0; i < len; i++)
		v = v << 8 | a[i];
	return v;
}

struct build {
	size_t n_rules, n_rrs, data_len, n_names;
	size_t n_pfx[PNET_KINDS][2];
	struct pfx *pfx[PNET_KINDS][2];
	struct segs seg[PNET_KINDS][2];
};

/* The address table of a trigger, or -1 (a name trigger). */
static int net_kind(uint8_t trigger)
{
	switch (trigger) {
	case POLICY_T_CLIENT_IP:
		return PNET_CLIENT_IP;
	case POLICY_T_IP:
		return PNET_IP;
	case POLICY_T_NSIP:
		return PNET_NSIP;
	default:
		return -1;
	}
}

/* The bits of the index of a table of n segments. */
static unsigned idx_bits(size_t n)
{
	return n > IDX_FINE_SEGMENTS ? IDX_BITS_FINE : IDX_BITS;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The rule's action once the zone's override is applied. */
static uint8_t action_of(const struct policy_zone_opts *o, uint8_t action)
{
	switch (o->override) {
	case POLICY_OVERRIDE_NXDOMAIN:
		return POLICY_A_NXDOMAIN;
	case POLICY_OVERRIDE_NODATA:
		return POLICY_A_NODATA;
	case POLICY_OVERRIDE_PASSTHRU:
		return POLICY_A_PASSTHRU;
	case POLICY_OVERRIDE_DROP:
		return POLICY_A_DROP;
	case POLICY_OVERRIDE_TCP_ONLY:
		return POLICY_A_TCP_ONLY;
	case POLICY_OVERRIDE_CNAME:
		return POLICY_A_LOCAL;
	default:
		return action;
	}
}

static bool compiled(const struct policy_rule *r)
{
	return r->trigger >= POLICY_T_QNAME && r->trigger <= POLICY_T_NSIP &&
	       (net_kind(r->trigger) < 0 || r->family == 4 || r->family == 6);
}

/* Inserts rule index ri (name, wild) unless the key is there (an earlier
 * zone's: it wins). */
static void name_insert(struct policy_snap *s, struct pslot *slots, const struct prule *rules,
			const uint8_t *data, uint32_t ri)
{
	const struct prule *r = &rules[ri];
	const uint8_t *name = data + r->name_off;
	uint8_t off[DNS_LABELS_MAX];
	int n = label_offsets(name, r->name_len, off);
	int kind = r->trigger == POLICY_T_NSDNAME ? PNAME_NSDNAME : PNAME_QNAME;
	uint64_t h = hkey(name_hash(s->seed, name, off, n, n), kind, r->wild);
	uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & s->slot_mask, k = 0;

	for (;; i = (i + 1) & s->slot_mask, k++) {
		if (!slots[i].rule)
			break;
		const struct prule *o = &rules[slots[i].rule - 1];
		if (slots[i].tag == tag && o->wild == r->wild && o->trigger == r->trigger &&
		    o->name_len == r->name_len &&
		    memcmp(data + o->name_off, name, r->name_len) == 0)
			return;
	}
	slots[i].tag = tag;
	slots[i].rule = ri + 1;
	if (k > s->max_probe)
		s->max_probe = k;
	uint64_t *mask = r->wild ? s->names[kind].wild : s->names[kind].exact;
	mask[n >> 6] |= 1ull << (n & 63);
	s->names[kind].n++;
	s->n_names++;
}

static void build_free(struct build *b)
{
	for (int k = 0; k < PNET_KINDS; k++)
		for (int f = 0; f < 2; f++) {
			free(b->pfx[k][f]);
			free(b->seg[k][f].start);
			free(b->seg[k][f].rule);
		}
}

struct policy_snap *policy_build(const struct policy_zone *const *zones,
				 const struct policy_zone_opts *opts, const char *const *names,
				 unsigned n, uint64_t gen, policy_alloc_fn alloc, void *arg,
				 size_t *len)
{
	struct build b = { 0 };
	struct policy_snap *s = NULL;

	if (n > POLICY_ZONES_MAX)
		return NULL;
	/* Sizes first. */
	for (unsigned z = 0; z < n; z++) {
		const struct policy_zone *pz = zones[z];
		/* its name, origin, SOA, and an override's CNAME target */
		b.data_len += strlen(names[z]) + 1 + 2 * DNS_NAME_MAX + pz->soa_rdlen;
		for (size_t i = 0; i < pz->n_rule; i++) {
			const struct policy_rule *r = &pz->rule[i];
			if (!compiled(r))
				continue;
			b.n_rules++;
			if (net_kind(r->trigger) < 0) {
				b.n_names++;
				b.data_len += r->name_len;
			} else {
				b.n_pfx[net_kind(r->trigger)][r->family == 6]++;
			}
			if (opts[z].override == POLICY_OVERRIDE_CNAME) {
				b.n_rrs++; /* the zone's one target, below */
			} else if (action_of(&opts[z], r->action) == POLICY_A_LOCAL) {
				b.n_rrs += r->rr_n;
				for (uint32_t k = 0; k < r->rr_n; k++)
					b.data_len += pz->rr[r->rr_first + k].rdlen;
			}
		}
	}
	/* every offset and index of the snapshot is 32-bit */
	if (b.n_rules >= NONE || b.n_rrs >= NONE || b.data_len >= NONE)
		return NULL;
	for (int k = 0; k < PNET_KINDS; k++)
		for (int f = 0; f < 2; f++) {
			size_t m = b.n_pfx[k][f];
			b.pfx[k][f] = malloc((m + 1) * sizeof(struct pfx));
			b.seg[k][f].start = malloc((2 * m + 2) * sizeof(unsigned __int128));
			b.seg[k][f].rule = malloc((2 * m + 2) * sizeof(uint32_t));
			if (!b.pfx[k][f] || !b.seg[k][f].start || !b.seg[k][f].rule)
				goto out;
			b.n_pfx[k][f] = 0;
		}
	size_t slots = 16;
	while (slots < 2 * b.n_names)
		slots *= 2;
	if (slots > (size_t)UINT32_MAX + 1)
		goto out;

	/* Prefixes: gathered with their rule indexes (assigned in the order
	 * the rules are laid out below) and flattened, to know the sizes. */
	{
		uint32_t ri = 0;
		for (unsigned z = 0; z < n; z++)
			for (size_t i = 0; i < zones[z]->n_rule; i++) {
				const struct policy_rule *r = &zones[z]->rule[i];
				if (!compiled(r))
					continue;
				int k = net_kind(r->trigger);
				if (k >= 0) {
					int f = r->family == 6;
					unsigned bits = f ? 128 : 32;
					unsigned __int128 lo = addr_value(r->family, r->addr);
					unsigned __int128 span = r->plen >= bits ? 0
						: ((unsigned __int128)1 << (bits - r->plen)) - 1;
					struct pfx *p = &b.pfx[k][f][b.n_pfx[k][f]++];
					p->lo = lo;
					p->hi = lo | span;
					p->key = (uint32_t)z << 8 | (uint32_t)(128 - r->plen);
					p->rule = ri;
				}
				ri++;
			}
		for (int k = 0; k < PNET_KINDS; k++)
			for (int f = 0; f < 2; f++) {
				unsigned __int128 max = f ? ~(unsigned __int128)0 : 0xffffffffu;
				if (b.n_pfx[k][f] &&
				    !flatten(b.pfx[k][f], b.n_pfx[k][f], max, &b.seg[k][f]))
					goto out;
			}
	}

	size_t hdr = align8(sizeof(struct policy_snap));
	size_t o_slots = hdr;
	size_t o_rules = o_slots + align8(slots * sizeof(struct pslot));
	size_t o_rrs = o_rules + align8(b.n_rules * sizeof(struct prule));
	size_t o_zones = o_rrs + align8(b.n_rrs * sizeof(struct policy_rr));
	size_t o_net = o_zones + align8(n * sizeof(struct pzone));
	size_t net_len[PNET_KINDS][2], nets = 0;
	for (int k = 0; k < PNET_KINDS; k++)
		for (int f = 0; f < 2; f++) {
			size_t sn = b.n_pfx[k][f] ? b.seg[k][f].n : 0;
			net_len[k][f] = sn ? align8(IDX_SLOTS(idx_bits(sn)) * 4) +
						     align8(sn * (f ? 16 : 4)) + align8(sn * 4)
					   : 0;
			nets += net_len[k][f];
		}
	size_t o_data = o_net + nets;
	size_t total = o_data + align8(b.data_len + 1);

	s = alloc ? alloc(arg, total) : malloc(total);
	if (!s)
		goto out;
	memset(s, 0, o_data);
	s->magic = POLICY_MAGIC;
	s->layout = POLICY_LAYOUT;
	s->gen = gen;
	s->len = total;
	if (getrandom(&s->seed, sizeof(s->seed), 0) != sizeof(s->seed))
		s->seed = (uint64_t)(uintptr_t)s ^ gen ^ 0x6a09e667f3bcc909ull;
	s->n_zones = n;
	s->n_rules = (uint32_t)b.n_rules;
	s->n_rrs = (uint32_t)b.n_rrs;
	s->slot_mask = (uint32_t)(slots - 1);
	s->slots_off = o_slots;
	s->rules_off = o_rules;
	s->rrs_off = o_rrs;
	s->zones_off = o_zones;
	s->data_off = o_data;

	uint8_t *data = (uint8_t *)s + o_data;
	size_t dl = 0;
	struct prule *rules = AT(s, o_rules, struct prule);
	struct policy_rr *rrs = AT(s, o_rrs, struct policy_rr);
	struct pzone *pz = AT(s, o_zones, struct pzone);
	uint32_t ri = 0, rr = 0;

	for (unsigned z = 0; z < n; z++) {
		const struct policy_zone *src = zones[z];
		const struct policy_zone_opts *o = &opts[z];
		size_t nl = strlen(names[z]) + 1;

		pz[z].cfg_off = (uint32_t)dl;
		memcpy(data + dl, names[z], nl);
		dl += nl;
		pz[z].origin_off = (uint32_t)dl;
		pz[z].origin_len = (uint8_t)dns_name_copy_lower(data + dl, src->origin);
		dl += pz[z].origin_len;
		pz[z].soa_off = (uint32_t)dl;
		pz[z].soa_rdlen = src->soa_rdlen;
		memcpy(data + dl, src->data + src->soa_off, src->soa_rdlen);
		dl += src->soa_rdlen;
		pz[z].soa_ttl = src->soa_ttl < o->max_ttl ? src->soa_ttl : o->max_ttl;
		pz[z].ede = o->ede;

		uint32_t cname_off = 0;
		uint16_t cname_len = 0;
		if (o->override == POLICY_OVERRIDE_CNAME) {
			cname_off = (uint32_t)dl;
			cname_len = (uint16_t)dns_name_copy_lower(data + dl, o->cname);
			dl += cname_len;
		}
		for (size_t i = 0; i < src->n_rule; i++) {
			const struct policy_rule *r = &src->rule[i];
			if (!compiled(r))
				continue;
			struct prule *d = &rules[ri];
			d->zone = (uint8_t)z;
			d->action = action_of(o, r->action);
			d->wild = r->wild;
			d->trigger = r->trigger;
			d->plen = r->plen;
			s->zones_with[r->trigger] |= 1ull << z;
			if (net_kind(r->trigger) < 0) {
				d->name_off = (uint32_t)dl;
				d->name_len = r->name_len;
				dns_copy_lower(data + dl, src->data + r->name_off, r->name_len);
				dl += r->name_len;
			}
			d->rr_first = rr;
			if (o->override == POLICY_OVERRIDE_CNAME) {
				rrs[rr] = (struct policy_rr){ .type = DNS_T_CNAME, .rdlen = cname_len,
							      .ttl = o->max_ttl, .off = cname_off,
							      .wild_target = o->cname[0] == 1 &&
									     o->cname[1] == '*' };
				rr++;
			} else if (d->action == POLICY_A_LOCAL) {
				for (uint32_t k = 0; k < r->rr_n; k++) {
					const struct policy_rr *x = &src->rr[r->rr_first + k];
					rrs[rr] = *x;
					rrs[rr].off = (uint32_t)dl;
					if (rrs[rr].ttl > o->max_ttl)
						rrs[rr].ttl = o->max_ttl;
					memcpy(data + dl, src->data + x->off, x->rdlen);
					dl += x->rdlen;
					rr++;
				}
			}
			d->rr_n = rr - d->rr_first;
			ri++;
		}
	}
	s->data_len = dl;

	/* The name table, rules in precedence order (an earlier zone's key
	 * is there first). */
	struct pslot *sl = AT(s, o_slots, struct pslot);
	ri = 0;
	for (unsigned z = 0; z < n; z++)
		for (size_t i = 0; i < zones[z]->n_rule; i++) {
			const struct policy_rule *r = &zones[z]->rule[i];
			if (!compiled(r))
				continue;
			if (net_kind(r->trigger) < 0)
				name_insert(s, sl, rules, data, ri);
			ri++;
		}

	/* The address segments and their index. */
	size_t at = o_net;
	for (int nf = 0; nf < 2 * PNET_KINDS; nf++) {
		int kind = nf / 2, f = nf % 2;
		struct pnet *pn = &s->net[kind][f];
		const struct segs *g = &b.seg[kind][f];
		if (!b.n_pfx[kind][f])
			continue;
		pn->n = (uint32_t)g->n;
		pn->bits = (uint8_t)idx_bits(g->n);
		pn->idx_off = at;
		pn->start_off = pn->idx_off + align8(IDX_SLOTS(pn->bits) * 4);
		pn->rule_off = pn->start_off + align8(g->n * (f ? 16 : 4));
		at += net_len[kind][f];
		uint32_t *idx = AT(s, pn->idx_off, uint32_t);
		uint32_t *rl = AT(s, pn->rule_off, uint32_t);
		unsigned shift = (f ? 128 : 32) - pn->bits;
		size_t k = 0;
		for (size_t i = 0; i < g->n; i++) {
			if (f) {
				uint64_t *st = AT(s, pn->start_off, uint64_t);
				st[2 * i] = (uint64_t)(g->start[i] >> 64);
				st[2 * i + 1] = (uint64_t)g->start[i];
			} else {
				AT(s, pn->start_off, uint32_t)[i] = (uint32_t)g->start[i];
			}
			rl[i] = g->rule[i];
			/* idx[t]: the first segment starting at or after t's
			 * start */
			unsigned t = (unsigned)(g->start[i] >> shift);
			while (k <= t)
				idx[k++] = (uint32_t)i;
		}
		while (k < IDX_SLOTS(pn->bits))
			idx[k++] = (uint32_t)g->n;
	}
	*len = total;
out:
	build_free(&b);
	return s;
}

/* --- checking ------------------------------------------------------------- */

/* An array of n elements of size octets at off: inside the snapshot, and
 * aligned for its elements (8: every array but the data's). */
static bool inside(const struct policy_snap *s, uint64_t off, uint64_t n, uint64_t size)
{
	return off <= s->len && n <= (s->len - off) / (size ? size : 1) &&
	       (size == 1 || off % 8 == 0);
}

int policy_check(const struct policy_snap *s, size_t len)
{
	if ((uintptr_t)s % 8 || len < sizeof(*s) || s->magic != POLICY_MAGIC || s->layout != POLICY_LAYOUT ||
	    s->len != len || s->n_zones > POLICY_ZONES_MAX)
		return -1;
	uint64_t slots = (uint64_t)s->slot_mask + 1;
	if ((slots & s->slot_mask) || s->max_probe >= slots || s->n_names >= slots ||
	    !inside(s, s->slots_off, slots, sizeof(struct pslot)) ||
	    !inside(s, s->rules_off, s->n_rules, sizeof(struct prule)) ||
	    !inside(s, s->rrs_off, s->n_rrs, sizeof(struct policy_rr)) ||
	    !inside(s, s->zones_off, s->n_zones, sizeof(struct pzone)) ||
	    !inside(s, s->data_off, s->data_len, 1))
		return -1;
	const uint8_t *data = AT(s, s->data_off, uint8_t);
	const struct pzone *pz = AT(s, s->zones_off, struct pzone);
	for (uint32_t z = 0; z < s->n_zones; z++) {
		if (pz[z].cfg_off >= s->data_len ||
		    !memchr(data + pz[z].cfg_off, 0, s->data_len - pz[z].cfg_off) ||
		    pz[z].origin_off + (uint64_t)pz[z].origin_len > s->data_len ||
		    dns_name_check(data + pz[z].origin_off, pz[z].origin_len) !=
			    (int)pz[z].origin_len ||
		    pz[z].soa_off + (uint64_t)pz[z].soa_rdlen > s->data_len)
			return -1;
	}
	const struct policy_rr *rrs = AT(s, s->rrs_off, struct policy_rr);
	for (uint32_t i = 0; i < s->n_rrs; i++)
		if (rrs[i].off + (uint64_t)rrs[i].rdlen > s->data_len)
			return -1;
	const struct prule *rules = AT(s, s->rules_off, struct prule);
	for (uint32_t i = 0; i < s->n_rules; i++)
		if (rules[i].zone >= s->n_zones || rules[i].rr_first > s->n_rrs ||
		    rules[i].rr_n > s->n_rrs - rules[i].rr_first ||
		    rules[i].name_off + (uint64_t)rules[i].name_len > s->data_len ||
		    rules[i].action < POLICY_A_NXDOMAIN || rules[i].action > POLICY_A_LOCAL ||
		    rules[i].trigger < POLICY_T_QNAME || rules[i].trigger > POLICY_T_NSIP ||
		    rules[i].plen > 128)
			return -1;
	if (s->names[PNAME_QNAME].n + (uint64_t)s->names[PNAME_NSDNAME].n != s->n_names)
		return -1;
	uint64_t zones = s->n_zones >= 64 ? ~0ull : (1ull << s->n_zones) - 1;
	for (int t = 0; t <= POLICY_T_NSIP; t++)
		if (s->zones_with[t] & ~zones)
			return -1;
	const struct pslot *sl = AT(s, s->slots_off, struct pslot);
	for (uint64_t i = 0; i < slots; i++)
		if (sl[i].rule > s->n_rules)
			return -1;
	for (int nf = 0; nf < 2 * PNET_KINDS; nf++) {
		int f = nf % 2;
		const struct pnet *pn = &s->net[nf / 2][f];
		if (!pn->n)
			continue;
		if ((pn->bits != IDX_BITS && pn->bits != IDX_BITS_FINE) ||
		    !inside(s, pn->idx_off, IDX_SLOTS(pn->bits), 4) ||
		    !inside(s, pn->start_off, pn->n, f ? 16 : 4) ||
		    !inside(s, pn->rule_off, pn->n, 4))
			return -1;
		const uint32_t *idx = AT(s, pn->idx_off, uint32_t);
		const uint32_t *rl = AT(s, pn->rule_off, uint32_t);
		for (uint32_t i = 0; i < IDX_SLOTS(pn->bits); i++)
			if (idx[i] > pn->n || (i && idx[i] < idx[i - 1]))
				return -1;
		for (uint32_t i = 0; i < pn->n; i++)
			if (rl[i] != NONE && rl[i] >= s->n_rules)
				return -1;
		/* segments start at 0 and rise */
		if (f) {
			const uint64_t *st = AT(s, pn->start_off, uint64_t);
			if (st[0] || st[1])
				return -1;
			for (uint32_t i = 1; i < pn->n; i++)
				if (st[2 * i] < st[2 * i - 2] ||
				    (st[2 * i] == st[2 * i - 2] && st[2 * i + 1] <= st[2 * i - 1]))
					return -1;
		} else {
			const uint32_t *st = AT(s, pn->start_off, uint32_t);
			if (st[0])
				return -1;
			for (uint32_t i = 1; i < pn->n; i++)
				if (st[i] <= st[i - 1])
					return -1;
		}
	}
	return 0;
}

