/*
 * answer/policy.c: the compiled policy snapshot (see policy.h): building it
 * (control's thread), checking one received from the other process, and
 * matching and answering from it (workers, hot path).
 *
 * The snapshot is one block: a header, then arrays found by offset from the
 * block's start, so that it means the same at any address. Invariants the
 * lookups rely on (policy_build() makes them, policy_check() verifies them
 * on a block from elsewhere):
 *   - the name table has a power-of-two number of slots, at most half of
 *     them used, and no probe sequence is longer than max_probe; a slot's
 *     rule index is below n_rules and its name inside the data array;
 *   - the address segments of each family start at address 0, rise
 *     strictly, and the top-16-bit index says for every 65536th of the
 *     space which segments start in it;
 *   - every rule's zone is below n_zones and its records inside rrs, every
 *     record's RDATA inside data.
 * A name is hashed label by label from the root down with a key drawn for
 * the snapshot (a feed's author cannot aim names at one probe cluster), so
 * that the hash of every suffix of the question comes for free: a wildcard
 * at depth d is one more probe, made only when some wildcard has depth d.
 */
#include "answer/policy.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/query.h"

#define POLICY_MAGIC 0x62777270u /* "bwrp" */
#define POLICY_LAYOUT 1
#define NONE UINT32_MAX
#define IDX_SLOTS 65537u	/* top 16 bits of an address, and the end */

struct pslot {
	uint32_t tag;
	uint32_t rule;		/* index + 1; 0: empty */
};

struct prule {
	uint32_t name_off;	/* QNAME: lower-cased wire in data */
	uint8_t name_len;
	uint8_t zone;
	uint8_t action;
	uint8_t wild;
	uint32_t rr_first;
	uint32_t rr_n;
};

struct pzone {
	uint32_t cfg_off;	/* the configured name, NUL-terminated */
	uint32_t origin_off;
	uint32_t soa_off;
	uint16_t soa_rdlen;
	uint16_t ede;
	uint32_t soa_ttl;
	uint8_t origin_len;
	uint8_t pad[3];
};

struct pnet {
	uint64_t idx_off;	/* uint32_t[IDX_SLOTS] */
	uint64_t start_off;	/* v4: uint32_t[n]; v6: uint64_t[2 * n] (high, low) */
	uint64_t rule_off;	/* uint32_t[n]: rule index or NONE */
	uint32_t n;		/* 0: no prefix of this family */
	uint32_t pad;
};

struct policy_snap {
	uint32_t magic;
	uint32_t layout;
	uint64_t gen;
	uint64_t len;
	uint64_t seed;
	uint32_t n_zones;
	uint32_t n_rules;
	uint32_t n_rrs;
	uint32_t slot_mask;
	uint32_t max_probe;
	uint32_t n_names;	/* QNAME rules in the name table */
	uint64_t exact_depths[2]; /* bit d: an exact rule's name has d labels */
	uint64_t wild_depths[2];  /* bit d: a wildcard's base name has d labels */
	uint64_t slots_off;
	uint64_t rules_off;
	uint64_t rrs_off;
	uint64_t zones_off;
	uint64_t data_off;
	uint64_t data_len;
	struct pnet net[2];	/* IPv4, IPv6 */
};

#define AT(s, off, T) ((T *)((const uint8_t *)(s) + (off)))

/* --- hashing names -------------------------------------------------------- */

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	__uint128_t p = (__uint128_t)(h ^ w) * 0x9e3779b97f4a7c15ull;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* The last 1..8 octets of a label, read without passing its end. */
static inline uint64_t tail(const uint8_t *p, unsigned n)
{
	if (n >= 8)
		return ld64(p);
	if (n >= 4)
		return (uint64_t)ld32(p) | (uint64_t)ld32(p + n - 4) << 32;
	return (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
}

/* h extended by the label of n octets at p (lower-cased). */
static inline uint64_t hlabel(uint64_t h, const uint8_t *p, unsigned n)
{
	h ^= n;
	while (n > 8) {
		h = mix(h, ld64(p));
		p += 8;
		n -= 8;
	}
	return mix(h, tail(p, n));
}

static inline uint64_t hkey(uint64_t h, bool wild)
{
	return mix(h, wild ? 0x5bd1e9955bd1e995ull : 0x2545f4914f6cdd1dull);
}

/* Offsets of name's labels (name lower-cased wire, len octets); the number
 * of labels, root excluded, or -1 when name is not one. */
static int label_offsets(const uint8_t *name, size_t len, uint8_t *off)
{
	size_t i = 0;
	int n = 0;

	while (i < len && name[i]) {
		if (name[i] > DNS_LABEL_MAX || n == DNS_LABELS_MAX)
			return -1;
		off[n++] = (uint8_t)i;
		i += 1u + name[i];
	}
	return i + 1 == len ? n : -1;
}

/* The hash of name's suffix of depth labels (of n). */
static uint64_t name_hash(uint64_t seed, const uint8_t *name, const uint8_t *off, int n,
			  int depth)
{
	uint64_t h = seed;

	for (int i = n - 1; i >= n - depth; i--)
		h = hlabel(h, name + off[i] + 1, name[off[i]]);
	return h;
}

static inline bool depth_set(const uint64_t *mask, unsigned d)
{
	return d < 128 && (mask[d >> 6] >> (d & 63)) & 1;
}

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
	size_t n_pfx[2];
	struct pfx *pfx[2];
	struct segs seg[2];
};

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
	return r->trigger == POLICY_T_QNAME || r->trigger == POLICY_T_CLIENT_IP;
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
	uint64_t h = hkey(name_hash(s->seed, name, off, n, n), r->wild);
	uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & s->slot_mask, k = 0;

	for (;; i = (i + 1) & s->slot_mask, k++) {
		if (!slots[i].rule)
			break;
		const struct prule *o = &rules[slots[i].rule - 1];
		if (slots[i].tag == tag && o->wild == r->wild && o->name_len == r->name_len &&
		    memcmp(data + o->name_off, name, r->name_len) == 0)
			return;
	}
	slots[i].tag = tag;
	slots[i].rule = ri + 1;
	if (k > s->max_probe)
		s->max_probe = k;
	uint64_t *mask = r->wild ? s->wild_depths : s->exact_depths;
	mask[n >> 6] |= 1ull << (n & 63);
	s->n_names++;
}

static void build_free(struct build *b)
{
	for (int f = 0; f < 2; f++) {
		free(b->pfx[f]);
		free(b->seg[f].start);
		free(b->seg[f].rule);
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
			if (r->trigger == POLICY_T_QNAME) {
				b.n_names++;
				b.data_len += r->name_len;
			} else {
				b.n_pfx[r->family == 6]++;
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
	for (int f = 0; f < 2; f++) {
		size_t m = b.n_pfx[f];
		b.pfx[f] = malloc((m + 1) * sizeof(struct pfx));
		b.seg[f].start = malloc((2 * m + 2) * sizeof(unsigned __int128));
		b.seg[f].rule = malloc((2 * m + 2) * sizeof(uint32_t));
		if (!b.pfx[f] || !b.seg[f].start || !b.seg[f].rule)
			goto out;
		b.n_pfx[f] = 0;
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
				if (r->trigger == POLICY_T_CLIENT_IP) {
					int f = r->family == 6;
					unsigned bits = f ? 128 : 32;
					unsigned __int128 lo = addr_value(r->family, r->addr);
					unsigned __int128 span = r->plen >= bits ? 0
						: ((unsigned __int128)1 << (bits - r->plen)) - 1;
					struct pfx *p = &b.pfx[f][b.n_pfx[f]++];
					p->lo = lo;
					p->hi = lo | span;
					p->key = (uint32_t)z << 8 | (uint32_t)(128 - r->plen);
					p->rule = ri;
				}
				ri++;
			}
		for (int f = 0; f < 2; f++) {
			unsigned __int128 max = f ? ~(unsigned __int128)0 : 0xffffffffu;
			if (b.n_pfx[f] && !flatten(b.pfx[f], b.n_pfx[f], max, &b.seg[f]))
				goto out;
		}
	}

	size_t hdr = align8(sizeof(struct policy_snap));
	size_t o_slots = hdr;
	size_t o_rules = o_slots + align8(slots * sizeof(struct pslot));
	size_t o_rrs = o_rules + align8(b.n_rules * sizeof(struct prule));
	size_t o_zones = o_rrs + align8(b.n_rrs * sizeof(struct policy_rr));
	size_t o_net = o_zones + align8(n * sizeof(struct pzone));
	size_t net_len[2];
	for (int f = 0; f < 2; f++) {
		size_t sn = b.n_pfx[f] ? b.seg[f].n : 0;
		net_len[f] = sn ? align8(IDX_SLOTS * 4) + align8(sn * (f ? 16 : 4)) + align8(sn * 4)
			   : 0;
		net_len[f] = align8(net_len[f]);
	}
	size_t o_data = o_net + net_len[0] + net_len[1];
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
			if (r->trigger == POLICY_T_QNAME) {
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
			if (r->trigger == POLICY_T_QNAME)
				name_insert(s, sl, rules, data, ri);
			ri++;
		}

	/* The address segments and their index. */
	size_t at = o_net;
	for (int f = 0; f < 2; f++) {
		struct pnet *pn = &s->net[f];
		const struct segs *g = &b.seg[f];
		if (!b.n_pfx[f])
			continue;
		pn->n = (uint32_t)g->n;
		pn->idx_off = at;
		pn->start_off = pn->idx_off + align8(IDX_SLOTS * 4);
		pn->rule_off = pn->start_off + align8(g->n * (f ? 16 : 4));
		at += net_len[f];
		uint32_t *idx = AT(s, pn->idx_off, uint32_t);
		uint32_t *rl = AT(s, pn->rule_off, uint32_t);
		unsigned shift = f ? 112 : 16;
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
		while (k < IDX_SLOTS)
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
		    rules[i].action < POLICY_A_NXDOMAIN || rules[i].action > POLICY_A_LOCAL)
			return -1;
	const struct pslot *sl = AT(s, s->slots_off, struct pslot);
	for (uint64_t i = 0; i < slots; i++)
		if (sl[i].rule > s->n_rules)
			return -1;
	for (int f = 0; f < 2; f++) {
		const struct pnet *pn = &s->net[f];
		if (!pn->n)
			continue;
		if (!inside(s, pn->idx_off, IDX_SLOTS, 4) ||
		    !inside(s, pn->start_off, pn->n, f ? 16 : 4) ||
		    !inside(s, pn->rule_off, pn->n, 4))
			return -1;
		const uint32_t *idx = AT(s, pn->idx_off, uint32_t);
		const uint32_t *rl = AT(s, pn->rule_off, uint32_t);
		for (uint32_t i = 0; i < IDX_SLOTS; i++)
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

uint64_t policy_gen(const struct policy_snap *s)
{
	return s->gen;
}

void policy_set_gen(struct policy_snap *s, uint64_t gen)
{
	s->gen = gen;
}

unsigned policy_zones(const struct policy_snap *s)
{
	return s->n_zones;
}

const char *policy_zone_name(const struct policy_snap *s, unsigned i)
{
	const struct pzone *pz = AT(s, s->zones_off, struct pzone);

	return i < s->n_zones ? (const char *)AT(s, s->data_off + pz[i].cfg_off, uint8_t) : NULL;
}

uint64_t policy_rules(const struct policy_snap *s)
{
	return s->n_rules;
}

/* --- matching ------------------------------------------------------------- */

static uint32_t probe(const struct policy_snap *s, uint64_t h, const uint8_t *name,
		      size_t len, bool wild)
{
	const struct pslot *sl = AT(s, s->slots_off, struct pslot);
	const struct prule *rules = AT(s, s->rules_off, struct prule);
	const uint8_t *data = AT(s, s->data_off, uint8_t);
	uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & s->slot_mask;

	for (uint32_t k = 0; k <= s->max_probe; k++, i = (i + 1) & s->slot_mask) {
		uint32_t r = sl[i].rule;
		if (!r)
			break;
		const struct prule *p = &rules[r - 1];
		if (sl[i].tag == tag && p->wild == wild && p->name_len == len &&
		    memcmp(data + p->name_off, name, len) == 0)
			return r - 1;
	}
	return NONE;
}

/* The rule of the segment holding the address (family f: 0 IPv4, 1 IPv6). */
static uint32_t net_find(const struct policy_snap *s, int f, const uint8_t *a)
{
	const struct pnet *pn = &s->net[f];
	const uint32_t *idx = AT(s, pn->idx_off, uint32_t);
	const uint32_t *rl = AT(s, pn->rule_off, uint32_t);
	uint32_t lo, hi;

	if (!f) {
		uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		const uint32_t *st = AT(s, pn->start_off, uint32_t);
		uint32_t t = v >> 16;
		lo = idx[t] ? idx[t] - 1 : 0;
		hi = idx[t + 1];
		/* the last segment in [lo, hi) starting at or before v */
		while (hi - lo > 1) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (st[mid] <= v)
				lo = mid;
			else
				hi = mid;
		}
		return rl[lo];
	}
	uint64_t vh = 0, vl = 0;
	for (int i = 0; i < 8; i++) {
		vh = vh << 8 | a[i];
		vl = vl << 8 | a[8 + i];
	}
	const uint64_t *st = AT(s, pn->start_off, uint64_t);
	uint32_t t = (uint32_t)(vh >> 48);
	lo = idx[t] ? idx[t] - 1 : 0;
	hi = idx[t + 1];
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st[2 * mid] < vh || (st[2 * mid] == vh && st[2 * mid + 1] <= vl))
			lo = mid;
		else
			hi = mid;
	}
	return rl[lo];
}

int policy_match(const struct policy_snap *s, const uint8_t *lname, size_t lname_len,
		 int family, const uint8_t *client, struct policy_hit *hit)
{
	const struct prule *rules = AT(s, s->rules_off, struct prule);
	uint32_t best = NONE, best_key = NONE;

	hit->action = 0;
	if (client && (family == 4 || family == 6) && s->net[family == 6].n) {
		uint32_t r = net_find(s, family == 6, client);
		if (r != NONE) {
			best = r;
			best_key = (uint32_t)rules[r].zone << 16;
			hit->trigger = POLICY_T_CLIENT_IP;
		}
	}
	if (s->n_names && best_key != 0) {
		uint8_t off[DNS_LABELS_MAX];
		int n = label_offsets(lname, lname_len, off);
		uint64_t h = s->seed;
		/* hashed from the root down only as far as a probe needs: the
		 * name's own depth when an exact rule has it, else the deepest
		 * wildcard above it */
		int maxd = n >= 0 && depth_set(s->exact_depths, (unsigned)n) ? n : -1;
		for (int d = n - 1; maxd < 0 && d >= 0; d--)
			if (depth_set(s->wild_depths, (unsigned)d))
				maxd = d;
		/* the wildcard of the root first: depth 0 */
		for (int d = 0; d <= maxd; d++) {
			if (d > 0) {
				int i = n - d;
				h = hlabel(h, lname + off[i] + 1, lname[off[i]]);
			}
			bool exact = d == n && depth_set(s->exact_depths, (unsigned)d);
			bool wild = d < n && depth_set(s->wild_depths, (unsigned)d);
			if (wild) {
				const uint8_t *suf = d ? lname + off[n - d] : lname + lname_len - 1;
				uint32_t r = probe(s, hkey(h, true), suf,
						   (size_t)(lname + lname_len - suf), true);
				uint32_t key = r == NONE ? NONE
					: (uint32_t)rules[r].zone << 16 | 1u << 8 | (uint32_t)(128 - d);
				if (key < best_key) {
					best = r;
					best_key = key;
					hit->trigger = POLICY_T_QNAME;
				}
			}
			if (exact) {
				uint32_t r = probe(s, hkey(h, false), lname, lname_len, false);
				uint32_t key = r == NONE ? NONE : (uint32_t)rules[r].zone << 16 | 1u << 8;
				if (key < best_key) {
					best = r;
					best_key = key;
					hit->trigger = POLICY_T_QNAME;
				}
			}
		}
	}
	if (best == NONE)
		return 0;
	hit->rule = best;
	hit->zone = rules[best].zone;
	hit->action = rules[best].action;
	return hit->action;
}

int policy_match_chain(const struct policy_snap *s, const uint8_t *msg, size_t len,
		       struct policy_hit *hit)
{
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	if (!s || !s->n_names || dns_msg_parse(&m, msg, len))
		return 0;
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	while (it.section == DNS_SEC_ANSWER && dns_rr_next(&it, &rr) == 1) {
		uint8_t target[DNS_NAME_MAX];
		size_t pos = rr.rdata_off;
		if (rr.type != DNS_T_CNAME)
			continue;
		int n = dns_name_parse(msg, len, &pos, target);
		if (n <= 0)
			continue;
		dns_name_lower(target);
		int a = policy_match(s, target, (size_t)n, 0, NULL, hit);
		if (a == POLICY_A_PASSTHRU)
			return 0;
		if (a)
			return a;
	}
	return 0;
}

/* --- answering ------------------------------------------------------------ */

/* The header and question of an answer to q at out; its length. */
static size_t put_head(const struct dns_query *q, int rcode, uint8_t *out)
{
	uint16_t flags = (uint16_t)(DNS_F_QR | DNS_F_RA |
				    (q->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD)) | rcode);
	size_t qlen = (size_t)q->qname_len + 4;

	memmove(out, q->wire, 2);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, 1);
	memset(out + 6, 0, 6);
	memmove(out + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, qlen);
	return DNS_HDR_LEN + qlen;
}

/* One record at out + n (owner: a pointer to the question's name); false
 * when it does not fit in cap. */
static bool put_rr(uint8_t *out, size_t *n, size_t cap, const uint8_t *owner, size_t owner_len,
		   uint16_t type, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	size_t ol = owner ? owner_len : 2;

	if (*n + ol + DNS_RR_FIXED_LEN + rdlen > cap)
		return false;
	uint8_t *w = out + *n;
	if (owner)
		memcpy(w, owner, owner_len);
	else
		dns_put16(w, 0xc000 | DNS_HDR_LEN);
	w += ol;
	dns_put16(w, type);
	dns_put16(w + 2, DNS_C_IN);
	dns_put32(w + 4, ttl);
	dns_put16(w + 8, (uint16_t)rdlen);
	memcpy(w + DNS_RR_FIXED_LEN, rd, rdlen);
	*n += ol + DNS_RR_FIXED_LEN + rdlen;
	return true;
}

/* A wildcard CNAME target ("*" then suffix) for q: q's name, lower-cased,
 * before the suffix; its length or 0 when too long. */
static size_t wild_target(const struct dns_query *q, const uint8_t *target, size_t tlen,
			  uint8_t *out)
{
	size_t ql = q->qname_len - 1, sl = tlen - 2; /* q without the root, suffix */

	if (tlen < 3 || ql + sl > DNS_NAME_MAX)
		return 0;
	dns_copy_lower(out, q->wire + DNS_HDR_LEN, ql);
	memcpy(out + ql, target + 2, sl);
	return ql + sl;
}

size_t policy_chase_target(const struct policy_snap *s, const struct policy_hit *hit,
			   const struct dns_query *q, uint8_t *target)
{
	const struct prule *r = &AT(s, s->rules_off, struct prule)[hit->rule];
	const struct policy_rr *rrs = AT(s, s->rrs_off, struct policy_rr);
	const uint8_t *data = AT(s, s->data_off, uint8_t);

	for (uint32_t i = 0; i < r->rr_n; i++) {
		const struct policy_rr *x = &rrs[r->rr_first + i];
		if (x->type != DNS_T_CNAME)
			continue;
		if (x->wild_target)
			return wild_target(q, data + x->off, x->rdlen, target);
		memcpy(target, data + x->off, x->rdlen);
		return x->rdlen;
	}
	return 0;
}

enum policy_verdict policy_answer(const struct policy_snap *s, const struct policy_hit *hit,
				  const struct dns_query *q, bool stream, uint16_t edns_size,
				  uint8_t *out, size_t cap, size_t *len)
{
	const struct prule *r = &AT(s, s->rules_off, struct prule)[hit->rule];
	const struct pzone *z = &AT(s, s->zones_off, struct pzone)[r->zone];
	const struct policy_rr *rrs = AT(s, s->rrs_off, struct policy_rr);
	const uint8_t *data = AT(s, s->data_off, uint8_t);
	enum policy_verdict v = POLICY_V_ANSWER;
	int rcode = DNS_R_NOERROR;
	bool soa = false;

	switch (r->action) {
	case POLICY_A_DROP:
		return POLICY_V_DROP;
	case POLICY_A_PASSTHRU:
		return POLICY_V_PASS;
	case POLICY_A_TCP_ONLY:
		if (stream)
			return POLICY_V_PASS;
		break;
	case POLICY_A_NXDOMAIN:
		rcode = DNS_R_NXDOMAIN;
		soa = true;
		break;
	case POLICY_A_NODATA:
		soa = true;
		break;
	default:
		break;
	}
	if (!stream) {
		size_t u = dns_query_udp_size(q);
		if (u < cap)
			cap = u;
	}
	size_t opt = q->has_edns ? DNS_OPT_LEN + (z->ede != DNS_EDE_NONE ? DNS_EDE_LEN : 0) : 0;
	size_t n = put_head(q, rcode, out), ancount = 0;
	bool tc = false;
	uint8_t target[DNS_NAME_MAX];

	if (r->action == POLICY_A_TCP_ONLY) {
		tc = true;
	} else if (r->action == POLICY_A_LOCAL) {
		/* q's type, a CNAME in its place, or NODATA */
		const struct policy_rr *cname = NULL;
		for (uint32_t i = 0; i < r->rr_n; i++) {
			const struct policy_rr *x = &rrs[r->rr_first + i];
			if (x->type == DNS_T_CNAME)
				cname = x;
			if (x->type != q->qtype && q->qtype != DNS_T_ANY)
				continue;
			const uint8_t *rd = data + x->off;
			size_t rdlen = x->rdlen;
			if (x->type == DNS_T_CNAME && x->wild_target) {
				rdlen = wild_target(q, rd, rdlen, target);
				rd = target;
				if (!rdlen) {
					rcode = DNS_R_NXDOMAIN;
					soa = true;
					break;
				}
			}
			if (!put_rr(out, &n, cap - opt, NULL, 0, x->type, x->ttl, rd, rdlen)) {
				tc = true;
				break;
			}
			ancount++;
		}
		if (!ancount && !tc && !soa && cname) {
			size_t tl = cname->rdlen;
			const uint8_t *rd = data + cname->off;
			if (cname->wild_target) {
				tl = wild_target(q, rd, tl, target);
				rd = target;
			}
			if (!tl) {
				rcode = DNS_R_NXDOMAIN;
				soa = true;
			} else if (put_rr(out, &n, cap - opt, NULL, 0, DNS_T_CNAME, cname->ttl, rd, tl)) {
				ancount++;
				v = POLICY_V_CHASE;
			} else {
				tc = true;
			}
		}
		if (!ancount && !tc)
			soa = true;
	}
	if (tc) {
		n = put_head(q, rcode, out);
		ancount = 0;
		soa = false;
		dns_put16(out + 2, (uint16_t)(dns_get16(out + 2) | DNS_F_TC));
		v = POLICY_V_ANSWER;
	}
	dns_put16(out + 2, (uint16_t)((dns_get16(out + 2) & ~DNS_F_RCODE_MASK) | rcode));
	dns_put16(out + 6, (uint16_t)ancount);
	if (soa) {
		if (put_rr(out, &n, cap - opt, data + z->origin_off, z->origin_len, DNS_T_SOA,
			   z->soa_ttl, data + z->soa_off, z->soa_rdlen))
			dns_put16(out + 8, 1);
	}
	if (q->has_edns) {
		size_t o = n;
		n += dns_opt_put(out + n, edns_size, q->edns.flags);
		if (z->ede != DNS_EDE_NONE && !tc)
			n += dns_opt_put_ede(out + o, out + n, z->ede);
		dns_put16(out + 10, 1);
	}
	*len = n;
	return v;
}

size_t policy_chase_answer(const uint8_t *head, size_t hlen, const uint8_t *msg, size_t mlen,
			   int rcode, size_t cap, uint8_t *out)
{
	struct dns_msg h, m;

	if (dns_msg_parse(&h, head, hlen) || h.hdr.count[1] != 1 || hlen > cap)
		return 0;
	size_t add = h.sec_off[3], tail = hlen - add, n = add;
	uint16_t an = 1;
	bool tc = false;

	memcpy(out, head, add);
	if (msg && dns_msg_parse(&m, msg, mlen) == 0) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
		while (it.section == DNS_SEC_ANSWER && dns_rr_next(&it, &rr) == 1) {
			uint8_t owner[DNS_NAME_MAX], rd[DNS_MSG_MAX];
			size_t pos = rr.off;
			int ol = dns_name_parse(msg, mlen, &pos, owner);
			/* what a resolver adds to a policy answer: data, not
			 * the target's signatures (the answer is not secure) */
			if (ol < 0 || dns_rr_needs_do(rr.type, DNS_SEC_ANSWER, rr.type) ||
			    rr.type == DNS_T_RRSIG)
				continue;
			int rl = dns_rdata_unpack(msg, mlen, rr.type, rr.rdata_off, rr.rdlen, rd,
						  sizeof(rd));
			if (rl < 0)
				continue;
			if (n + (size_t)ol + DNS_RR_FIXED_LEN + (size_t)rl + tail > cap) {
				tc = true;
				break;
			}
			memcpy(out + n, owner, (size_t)ol);
			n += (size_t)ol;
			dns_put16(out + n, rr.type);
			dns_put16(out + n + 2, rr.rclass);
			dns_put32(out + n + 4, dns_get32(msg + rr.ttl_off));
			dns_put16(out + n + 8, (uint16_t)rl);
			memcpy(out + n + DNS_RR_FIXED_LEN, rd, (size_t)rl);
			n += DNS_RR_FIXED_LEN + (size_t)rl;
			an++;
		}
		if (rcode == DNS_R_NOERROR || rcode == DNS_R_NXDOMAIN)
			rcode = m.rcode == DNS_R_NXDOMAIN ? DNS_R_NXDOMAIN : rcode;
	}
	if (tc) {
		/* the CNAME alone, TC=1: the client asks again over TCP */
		n = add;
		an = 1;
		dns_put16(out + 2, (uint16_t)(dns_get16(out + 2) | DNS_F_TC));
	}
	dns_put16(out + 2, (uint16_t)((dns_get16(out + 2) & ~DNS_F_RCODE_MASK) | (rcode & 0xf)));
	dns_put16(out + 6, an);
	memcpy(out + n, head + add, tail);
	return n + tail;
}
