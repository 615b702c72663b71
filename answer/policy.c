/*
 * answer/policy.c: matching and answering from a compiled policy snapshot
 * (see policy.h; workers, hot path: no allocation, no I/O). The snapshot's
 * layout: policy_int.h; how it is made and checked: policy_build.c.
 */
#include "answer/policy_int.h"

#include <string.h>

#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/query.h"

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
		      size_t len, uint8_t trigger, bool wild)
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
		if (sl[i].tag == tag && p->wild == wild && p->trigger == trigger &&
		    p->name_len == len && memcmp(data + p->name_off, name, len) == 0)
			return r - 1;
	}
	return NONE;
}

/*
 * The rule of the segment of pn holding the address (f: 0 IPv4, 1 IPv6):
 * the last segment in [lo, hi) starting at or before it, by a search
 * without branches on the data (the halves taken become conditional
 * moves): every client's address takes its own path through a dense
 * bucket, and a mispredicted step costs more than the step.
 */
static uint32_t net_find(const struct policy_snap *s, const struct pnet *pn, int f,
			 const uint8_t *a)
{
	const uint32_t *idx = AT(s, pn->idx_off, uint32_t);
	const uint32_t *rl = AT(s, pn->rule_off, uint32_t);
	uint32_t lo, n;

	if (!f) {
		uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		const uint32_t *st = AT(s, pn->start_off, uint32_t);
		uint32_t t = v >> (32 - pn->bits);
		lo = idx[t] ? idx[t] - 1 : 0;
		n = idx[t + 1] > lo ? idx[t + 1] - lo : 1;
		while (n > 1) {
			uint32_t half = n / 2;
			lo = st[lo + half] <= v ? lo + half : lo;
			n -= half;
		}
		return rl[lo];
	}
	uint64_t vh = 0, vl = 0;
	for (int i = 0; i < 8; i++) {
		vh = vh << 8 | a[i];
		vl = vl << 8 | a[8 + i];
	}
	const uint64_t *st = AT(s, pn->start_off, uint64_t);
	uint32_t t = (uint32_t)(vh >> (64 - pn->bits));
	lo = idx[t] ? idx[t] - 1 : 0;
	n = idx[t + 1] > lo ? idx[t + 1] - lo : 1;
	while (n > 1) {
		uint32_t half = n / 2, m = lo + half;
		bool le = (st[2 * m] < vh) | ((st[2 * m] == vh) & (st[2 * m + 1] <= vl));
		lo = le ? m : lo;
		n -= half;
	}
	return rl[lo];
}

/*
 * The best so far: a rule and its key (policy_int.h: the smallest wins),
 * and what it matched. Two rules with one key (one zone, one trigger, as
 * specific) are told apart as the draft says: the smaller matched name in
 * DNSSEC order, the smaller address (IPv4 as ::ffff:a.b.c.d).
 */
struct best {
	uint32_t rule, key;
	const uint8_t *name;	/* the matched name, or NULL */
	uint8_t addr[16];	/* the matched address */
};

static void consider(struct best *b, const struct prule *rules, uint32_t r, uint32_t spec,
		     const uint8_t *name, const uint8_t *addr16)
{
	if (r == NONE)
		return;
	uint32_t key = (uint32_t)rules[r].zone << 16 | trigger_rank(rules[r].trigger) << 8 | spec;
	if (key > b->key || (key == b->key &&
			     (r == b->rule || (name ? !b->name || dns_name_cmp(name, b->name) >= 0
						    : memcmp(addr16, b->addr, 16) >= 0))))
		return;
	b->rule = r;
	b->key = key;
	b->name = name;
	if (addr16)
		memcpy(b->addr, addr16, 16);
}

/* An address of family (4 or 6) in the table of kind k. Its specificity
 * counts an IPv4 prefix as the IPv6 one it maps to (96 + length). */
static void addr_match(const struct policy_snap *s, int k, int family, const uint8_t *a,
		       struct best *b)
{
	const struct prule *rules = AT(s, s->rules_off, struct prule);
	const struct pnet *pn = &s->net[k][family == 6];
	uint8_t m[16] = { [10] = 0xff, [11] = 0xff };

	if ((family != 4 && family != 6) || !pn->n)
		return;
	uint32_t r = net_find(s, pn, family == 6, a);
	if (r == NONE)
		return;
	memcpy(family == 4 ? m + 12 : m, a, family == 4 ? 4 : 16);
	consider(b, rules, r, 128u - (family == 4 ? 96u : 0u) - rules[r].plen, NULL, m);
}

/* lname (lower-cased wire, len octets) in the name table, rules of the
 * given trigger (QNAME or NSDNAME) whose key can beat b's. */
static void name_match(const struct policy_snap *s, uint8_t trigger, const uint8_t *lname,
		       size_t len, struct best *b)
{
	const struct prule *rules = AT(s, s->rules_off, struct prule);
	const struct pdepths *dp = &s->names[trigger == POLICY_T_NSDNAME];
	int kind = trigger == POLICY_T_NSDNAME ? PNAME_NSDNAME : PNAME_QNAME;
	uint8_t off[DNS_LABELS_MAX];

	if (!dp->n)
		return;
	int n = label_offsets(lname, len, off);
	if (n < 0)
		return;
	/* hashed from the root down only as far as a probe needs: the name's
	 * own depth when an exact rule has it, else the deepest wildcard
	 * above it */
	bool exact = depth_set(dp->exact, (unsigned)n);
	int maxd = exact ? n : deepest_below(dp->wild, (unsigned)n);
	uint64_t h = s->seed;
	/* the wildcard of the root first: depth 0 */
	for (int d = 0; d <= maxd; d++) {
		if (d > 0) {
			int i = n - d;
			h = hlabel(h, lname + off[i] + 1, lname[off[i]]);
		}
		if (d < n && depth_set(dp->wild, (unsigned)d)) {
			const uint8_t *suf = d ? lname + off[n - d] : lname + len - 1;
			uint32_t r = probe(s, hkey(h, kind, true), suf, (size_t)(lname + len - suf),
					   trigger, true);
			if (r != NONE)
				consider(b, rules, r, 128u - (unsigned)d, lname, NULL);
		}
	}
	if (exact) {
		uint32_t r = probe(s, hkey(h, kind, false), lname, len, trigger, false);
		if (r != NONE)
			consider(b, rules, r, 0, lname, NULL);
	}
}

static int hit_of(const struct policy_snap *s, const struct best *b, struct policy_hit *hit)
{
	const struct prule *rules = AT(s, s->rules_off, struct prule);

	hit->action = 0;
	if (b->rule == NONE)
		return 0;
	hit->rule = b->rule;
	hit->zone = rules[b->rule].zone;
	hit->trigger = rules[b->rule].trigger;
	hit->action = rules[b->rule].action;
	hit->pad = 0;
	return hit->action;
}

int policy_match(const struct policy_snap *s, const uint8_t *lname, size_t lname_len,
		 int family, const uint8_t *client, struct policy_hit *hit)
{
	struct best b = { NONE, NONE, NULL, { 0 } };

	if (client)
		addr_match(s, PNET_CLIENT_IP, family, client, &b);
	/* a CLIENT-IP match in the first zone: no name can beat it; no
	 * QNAME rule: the name is not walked (an emptied policy costs a hit
	 * two tests) */
	if (b.key >= 1u << 16 && s->names[PNAME_QNAME].n)
		name_match(s, POLICY_T_QNAME, lname, lname_len, &b);
	return hit_of(s, &b, hit);
}

/* Zones before limit (a bit each). */
static uint64_t zones_below(unsigned limit)
{
	return limit >= 64 ? ~0ull : (1ull << limit) - 1;
}

unsigned policy_needs(const struct policy_snap *s, unsigned limit)
{
	uint64_t z = zones_below(limit);
	unsigned need = 0;

	if (s->zones_with[POLICY_T_QNAME] & z)
		need |= POLICY_NEED_CHAIN;
	if (s->zones_with[POLICY_T_IP] & z)
		need |= POLICY_NEED_IP;
	if (s->zones_with[POLICY_T_NSDNAME] & z)
		need |= POLICY_NEED_NSDNAME;
	if (s->zones_with[POLICY_T_NSIP] & z)
		need |= POLICY_NEED_NSIP;
	return need;
}

int policy_match_response(const struct policy_snap *s, unsigned limit, const uint8_t *msg,
			  size_t len, const struct policy_ns *ns, struct policy_hit *hit)
{
	struct best b = { NONE, NONE, NULL, { 0 } };
	unsigned need = policy_needs(s, limit);
	uint32_t bound = limit >= s->n_zones ? NONE : (uint32_t)limit << 16;
	struct dns_msg m;
	uint8_t target[DNS_NAME_MAX];
	bool chain_done = false;

	if ((need & (POLICY_NEED_CHAIN | POLICY_NEED_IP)) && msg && !dns_msg_parse(&m, msg, len)) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
		while (it.section == DNS_SEC_ANSWER && dns_rr_next(&it, &rr) == 1) {
			if (rr.type == DNS_T_CNAME && (need & POLICY_NEED_CHAIN) && !chain_done) {
				/* the chain's names in its order, as a resolver
				 * meets them: the first that matches is the
				 * chain's match (a PASSTHRU one too) */
				struct best nb = { NONE, NONE, NULL, { 0 } };
				size_t pos = rr.rdata_off;
				int n = dns_name_parse(msg, len, &pos, target);
				if (n <= 0)
					continue;
				dns_name_lower(target);
				name_match(s, POLICY_T_QNAME, target, (size_t)n, &nb);
				if (nb.key < bound) {
					chain_done = true;
					if (nb.key < b.key)
						b = nb;
				}
			} else if (rr.rclass == DNS_C_IN && (need & POLICY_NEED_IP) &&
				   ((rr.type == DNS_T_A && rr.rdlen == 4) ||
				    (rr.type == DNS_T_AAAA && rr.rdlen == 16))) {
				addr_match(s, PNET_IP, rr.type == DNS_T_A ? 4 : 6, msg + rr.rdata_off,
					   &b);
			}
		}
	}
	if (ns && (need & POLICY_NEED_NSDNAME))
		for (unsigned i = 0; i < ns->n_names; i++)
			name_match(s, POLICY_T_NSDNAME, ns->name[i], ns->name_len[i], &b);
	if (ns && (need & POLICY_NEED_NSIP))
		for (unsigned i = 0; i < ns->n_addrs; i++)
			addr_match(s, PNET_NSIP, ns->addr[i].family, ns->addr[i].a, &b);
	if (b.key >= bound)
		b.rule = NONE;
	return hit_of(s, &b, hit);
}

bool policy_tag_hit(const struct policy_snap *s, uint64_t tag, struct policy_hit *hit)
{
	struct best b = { NONE, NONE, NULL, { 0 } };

	if (!tag || tag > s->n_rules)
		return false;
	b.rule = (uint32_t)(tag - 1);
	return hit_of(s, &b, hit) != 0;
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
