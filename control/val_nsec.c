/*
 * control/val_nsec.c: denial of existence (see val.h): NSEC proofs (RFC
 * 4035 5.4, RFC 6840 4) and NSEC3 proofs (RFC 5155 8). Control process; no
 * allocation. Every record given here is one whose RRset has been
 * validated already: what is checked here is whether together they say
 * what the response claims, and that they cannot be borrowed from the
 * wrong side of a zone cut:
 * - a record at a delegation (NS without SOA) or at a DNAME speaks for the
 *   parent only: it proves nothing about names below it, nor about other
 *   types than DS and the delegation's own (RFC 6840 4.1, RFC 5155 8.3);
 * - a record with SOA at the name asked for DS is the child's apex, the
 *   wrong zone for a DS (RFC 6840 4.4);
 * - NSEC3 records of other parameters than the first usable one, of an
 *   unknown hash or with unknown flags are ignored (RFC 5155 8.2), and
 *   every name hashed is charged to the budget: a proof is a few hashes,
 *   the search for a closest encloser at most one per label.
 */
#include "control/val.h"

#include <string.h>

#include "cache/nsec.h"
#include "dns/name.h"
#include "dns/wire.h"

#define NSEC3_HASH_LEN 20
#define NSEC3_F_OPT_OUT 0x01

bool ctl_val_bitmap_has(const uint8_t *bm, size_t len, uint16_t type)
{
	unsigned window = type >> 8, bit = type & 0xff;

	for (size_t p = 0; p + 2 <= len;) {
		unsigned w = bm[p], n = bm[p + 1];
		if (n == 0 || n > 32 || p + 2 + n > len)
			return false;
		if (w == window)
			return bit / 8 < n && (bm[p + 2 + bit / 8] & (0x80 >> (bit % 8)));
		p += 2 + n;
	}
	return false;
}

int ctl_val_b32hex_decode(const uint8_t *in, size_t len, uint8_t *out,
			  size_t outsize)
{
	uint64_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned c = in[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return -1;
		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == outsize)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero padding of less than one octet. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)))
		return -1;
	return (int)n;
}

/* The hash itself is the cache's (cache/nsec.h): one implementation for
 * the validator and the aggressive-NSEC store. */
bool ctl_val_nsec3_hash(struct ctl_val_budget *b, const uint8_t *name,
			const uint8_t *salt, size_t salt_len,
			uint16_t iterations, uint8_t out[20])
{
	if (b) {
		if (b->nsec3_hashes >= b->lim->max_nsec3_hashes) {
			b->nsec3_hit = true;
			return false;
		}
		b->nsec3_hashes++;
	}
	cache_nsec3_hash(name, salt, salt_len, iterations, out);
	return true;
}

static void set(struct ctl_val_result *res, uint8_t sec, uint16_t ede,
		const char *why)
{
	*res = (struct ctl_val_result){ .sec = sec, .ede = ede, .why = why };
}

/* The name made of the last `labels` labels of name. */
static const uint8_t *suffix(const uint8_t *name, int labels)
{
	for (int n = dns_name_labels(name); n > labels; n--)
		name += *name + 1;
	return name;
}

/* Labels of the longest common ancestor of a and b. */
static int common_labels(const uint8_t *a, const uint8_t *b)
{
	int la = dns_name_labels(a), lb = dns_name_labels(b);
	int n = la < lb ? la : lb;

	while (n > 0 && !dns_name_equal(suffix(a, n), suffix(b, n)))
		n--;
	return n;
}

/* "*." + name, or false when too long. */
static bool wildcard_of(uint8_t *out, const uint8_t *name)
{
	size_t len = dns_name_len(name);

	if (len + 2 > DNS_NAME_MAX)
		return false;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, name, len);
	return true;
}

/* ---- NSEC ------------------------------------------------------------- */

struct nsec {
	const uint8_t *zone;
	const uint8_t *owner;
	const uint8_t *next;
	const uint8_t *bm;
	size_t bmlen;
};

static bool nsec_read(const struct ctl_val_denial *d, const uint8_t *zone,
		      struct nsec *n)
{
	int len = dns_name_check(d->rdata, d->len);

	if (len < 0 || !dns_name_is_subdomain(d->owner, zone))
		return false;
	n->zone = zone;
	n->owner = d->owner;
	n->next = d->rdata;
	n->bm = d->rdata + len;
	n->bmlen = d->len - (size_t)len;
	return true;
}

static bool nsec_has(const struct nsec *n, uint16_t type)
{
	return ctl_val_bitmap_has(n->bm, n->bmlen, type);
}

/* At a delegation (parent side) or a DNAME: no say about names below. */
static bool nsec_is_cut(const struct nsec *n)
{
	return (nsec_has(n, DNS_T_NS) && !nsec_has(n, DNS_T_SOA)) ||
	       nsec_has(n, DNS_T_DNAME);
}

/*
 * owner < name < next in canonical order. The zone's last NSEC wraps: its
 * next name is the apex (the zone the proof is for, nothing else: a
 * "last" NSEC of another zone below must not cover everything after it).
 */
static bool nsec_covers(const struct nsec *n, const uint8_t *name)
{
	if (dns_name_cmp(n->owner, name) >= 0)
		return false;
	if (dns_name_cmp(n->next, n->owner) <= 0)
		return dns_name_equal(n->next, n->zone) && dns_name_is_subdomain(name, n->zone);
	return dns_name_cmp(name, n->next) < 0;
}

/* A covering NSEC that may deny name: not from above a cut on its way. */
static bool nsec_denies(const struct nsec *n, const uint8_t *name)
{
	return nsec_covers(n, name) &&
	       !(nsec_is_cut(n) && dns_name_is_subdomain(name, n->owner));
}

static const struct nsec *nsec_find(const struct nsec *v, unsigned n,
				    const uint8_t *name, bool covering)
{
	for (unsigned i = 0; i < n; i++)
		if (covering ? nsec_denies(&v[i], name)
			     : dns_name_equal(v[i].owner, name))
			return &v[i];
	return NULL;
}

/* Neither the type nor a CNAME at the matching record. */
static bool nsec_nodata(const struct nsec *n, uint16_t qtype)
{
	if (nsec_has(n, qtype) || nsec_has(n, DNS_T_CNAME))
		return false;
	if (qtype == DNS_T_DS)
		return !nsec_has(n, DNS_T_SOA) || dns_name_labels(n->owner) == 0;
	/* Parent side of a cut: the child has the answer, not this NODATA. */
	return !(nsec_has(n, DNS_T_NS) && !nsec_has(n, DNS_T_SOA));
}

static void deny_nsec(enum ctl_val_deny what, const uint8_t *zone,
		      const uint8_t *qname, uint16_t qtype, uint8_t wlabels,
		      const struct ctl_val_denial *d, unsigned nd,
		      struct ctl_val_result *res)
{
	struct nsec v[CTL_VAL_RRSET_MAX];
	unsigned n = 0;
	uint8_t wild[DNS_NAME_MAX];

	for (unsigned i = 0; i < nd && n < CTL_VAL_RRSET_MAX; i++)
		if (nsec_read(&d[i], zone, &v[n]))
			n++;
	set(res, CTL_SEC_BOGUS, CTL_EDE_NSEC_MISSING, "no NSEC proves it");
	const struct nsec *match = nsec_find(v, n, qname, false);
	const struct nsec *cover = match ? NULL : nsec_find(v, n, qname, true);

	switch (what) {
	case CTL_DENY_DS:
		/* a delegation (NS) without DS: not merely a name without DS */
		if (match && nsec_has(match, DNS_T_NS) && nsec_nodata(match, DNS_T_DS))
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC: no DS at the cut");
		return;
	case CTL_DENY_NODATA:
		if (match) {
			if (nsec_nodata(match, qtype))
				set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC: no such type");
			return;
		}
		if (!cover)
			return;
		/* An empty non-terminal: the next name lies below qname. */
		if (dns_name_is_subdomain(cover->next, qname) &&
		    !dns_name_equal(cover->next, qname)) {
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC: empty non-terminal");
			return;
		}
		break; /* a wildcard's NODATA, below */
	case CTL_DENY_NXDOMAIN:
		/* a next name below qname: qname is an empty non-terminal */
		if (!cover || (dns_name_is_subdomain(cover->next, qname) &&
			       !dns_name_equal(cover->next, qname)))
			return;
		break;
	case CTL_DENY_WILDCARD: {
		/* The next closer name does not exist: qname is covered and no
		 * name between it and the source of synthesis exists. */
		if (match || !cover || wlabels >= dns_name_labels(qname))
			return;
		int ce = common_labels(qname, cover->owner);
		int c2 = common_labels(qname, cover->next);
		if ((c2 > ce ? c2 : ce) <= wlabels)
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE,
			    "NSEC: no closer match than the wildcard");
		return;
	}
	}

	/* NXDOMAIN, wildcard NODATA: the closest encloser from the covering
	 * NSEC, and the wildcard below it. */
	int ce = common_labels(qname, cover->owner);
	int c2 = common_labels(qname, cover->next);
	if (c2 > ce)
		ce = c2;
	const uint8_t *encloser = suffix(qname, ce);
	if (!dns_name_is_subdomain(encloser, zone) || !wildcard_of(wild, encloser))
		return;
	const struct nsec *wm = nsec_find(v, n, wild, false);
	if (what == CTL_DENY_NXDOMAIN) {
		if (!wm && nsec_find(v, n, wild, true))
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE,
			    "NSEC: name and wildcard covered");
		return;
	}
	if (wm && nsec_nodata(wm, qtype))
		set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC: wildcard without the type");
}

/* ---- NSEC3 ------------------------------------------------------------ */

struct nsec3 {
	uint8_t hash[NSEC3_HASH_LEN];	/* of the owner */
	const uint8_t *next;		/* NSEC3_HASH_LEN octets */
	const uint8_t *bm;
	size_t bmlen;
	uint8_t flags;
	uint16_t iterations;
	const uint8_t *salt;
	uint8_t salt_len;
};

static bool nsec3_read(const struct ctl_val_denial *d, const uint8_t *zone,
		       struct nsec3 *n)
{
	const uint8_t *r = d->rdata;
	size_t len = d->len;

	if (len < 5 || r[0] != DNS_NSEC3_SHA1 || (r[1] & ~NSEC3_F_OPT_OUT))
		return false;
	size_t salt_len = r[4];
	if (5 + salt_len + 1 > len || r[5 + salt_len] != NSEC3_HASH_LEN ||
	    5 + salt_len + 1 + NSEC3_HASH_LEN > len)
		return false;
	/* The owner: one base32hex label of the hash, directly below the zone. */
	if (d->owner[0] == 0 || !dns_name_equal(d->owner + d->owner[0] + 1, zone) ||
	    ctl_val_b32hex_decode(d->owner + 1, d->owner[0], n->hash,
				  sizeof(n->hash)) != NSEC3_HASH_LEN)
		return false;
	n->flags = r[1];
	n->iterations = dns_get16(r + 2);
	n->salt = r + 5;
	n->salt_len = (uint8_t)salt_len;
	n->next = r + 5 + salt_len + 1;
	n->bm = n->next + NSEC3_HASH_LEN;
	n->bmlen = len - (5 + salt_len + 1 + NSEC3_HASH_LEN);
	return true;
}

static bool nsec3_has(const struct nsec3 *n, uint16_t type)
{
	return ctl_val_bitmap_has(n->bm, n->bmlen, type);
}

static bool nsec3_covers(const struct nsec3 *n, const uint8_t *h)
{
	int lo = memcmp(n->hash, h, NSEC3_HASH_LEN);
	int hi = memcmp(h, n->next, NSEC3_HASH_LEN);

	if (memcmp(n->next, n->hash, NSEC3_HASH_LEN) <= 0) /* the last one */
		return lo < 0 || hi < 0;
	return lo < 0 && hi < 0;
}

struct n3set {
	struct nsec3 v[CTL_VAL_RRSET_MAX];
	unsigned n;
	struct ctl_val_budget *b;
};

static bool n3_hash(struct n3set *s, const uint8_t *name, uint8_t *h)
{
	const struct nsec3 *p = &s->v[0];

	return ctl_val_nsec3_hash(s->b, name, p->salt, p->salt_len, p->iterations, h);
}

static const struct nsec3 *n3_match(const struct n3set *s, const uint8_t *h)
{
	for (unsigned i = 0; i < s->n; i++)
		if (memcmp(s->v[i].hash, h, NSEC3_HASH_LEN) == 0)
			return &s->v[i];
	return NULL;
}

static const struct nsec3 *n3_cover(const struct n3set *s, const uint8_t *h)
{
	for (unsigned i = 0; i < s->n; i++)
		if (nsec3_covers(&s->v[i], h))
			return &s->v[i];
	return NULL;
}

static bool n3_nodata(const struct nsec3 *n, uint16_t qtype)
{
	if (nsec3_has(n, qtype) || nsec3_has(n, DNS_T_CNAME))
		return false;
	if (qtype == DNS_T_DS)
		return !nsec3_has(n, DNS_T_SOA);
	return !(nsec3_has(n, DNS_T_NS) && !nsec3_has(n, DNS_T_SOA));
}

/*
 * The closest encloser proof (RFC 5155 8.3): the longest ancestor of qname
 * (qname itself included when self is true) with a matching NSEC3, and the
 * next closer name covered. *ce_labels gets its label count, *nc the
 * covering record. false when there is none (or the budget ran out).
 */
static bool n3_closest(struct n3set *s, const uint8_t *zone,
		       const uint8_t *qname, bool self, int *ce_labels,
		       const struct nsec3 **nc)
{
	uint8_t h[NSEC3_HASH_LEN];
	int ql = dns_name_labels(qname), zl = dns_name_labels(zone);

	for (int l = self ? ql : ql - 1; l >= zl; l--) {
		if (!n3_hash(s, suffix(qname, l), h))
			return false;
		const struct nsec3 *m = n3_match(s, h);
		if (!m)
			continue;
		/* A delegation or DNAME above qname: the names below are the
		 * child's (or renamed), this zone cannot deny them. */
		if (l < ql && ((nsec3_has(m, DNS_T_NS) && !nsec3_has(m, DNS_T_SOA)) ||
			       nsec3_has(m, DNS_T_DNAME)))
			return false;
		if (l == ql)
			return false; /* qname exists */
		if (!n3_hash(s, suffix(qname, l + 1), h) || !(*nc = n3_cover(s, h)))
			return false;
		*ce_labels = l;
		return true;
	}
	return false;
}

static void deny_nsec3(struct ctl_val_budget *b, enum ctl_val_deny what,
		       const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
		       uint8_t wlabels, const struct ctl_val_denial *d, unsigned nd,
		       struct ctl_val_result *res)
{
	struct n3set s;
	uint8_t h[NSEC3_HASH_LEN], wild[DNS_NAME_MAX];
	const struct nsec3 *nc, *m;
	int ce;

	s.n = 0;
	s.b = b;
	for (unsigned i = 0; i < nd && s.n < CTL_VAL_RRSET_MAX; i++) {
		struct nsec3 *p = &s.v[s.n];
		if (!nsec3_read(&d[i], zone, p))
			continue;
		/* One parameter set: that of the first usable record. */
		if (s.n && (p->iterations != s.v[0].iterations ||
			    p->salt_len != s.v[0].salt_len ||
			    memcmp(p->salt, s.v[0].salt, p->salt_len)))
			continue;
		s.n++;
	}
	set(res, CTL_SEC_BOGUS, CTL_EDE_NSEC_MISSING, "no NSEC3 proves it");
	if (!s.n)
		return;
	if (s.v[0].iterations > b->lim->nsec3_max_iterations) {
		set(res, CTL_SEC_INSECURE, CTL_EDE_NSEC3_ITERATIONS,
		    "NSEC3 iterations above the limit");
		return;
	}
	switch (what) {
	case CTL_DENY_NODATA:
	case CTL_DENY_DS:
		if (!n3_hash(&s, qname, h))
			break;
		if ((m = n3_match(&s, h))) {
			if (n3_nodata(m, what == CTL_DENY_DS ? DNS_T_DS : qtype) &&
			    (what != CTL_DENY_DS || nsec3_has(m, DNS_T_NS)))
				set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC3: no such type");
			break;
		}
		if (!n3_closest(&s, zone, qname, false, &ce, &nc))
			break;
		if (what == CTL_DENY_DS || qtype == DNS_T_DS) {
			/* RFC 5155 8.6: an unsigned delegation under opt-out. */
			if (nc->flags & NSEC3_F_OPT_OUT)
				set(res, CTL_SEC_INSECURE, CTL_EDE_NONE,
				    "NSEC3 opt-out: an unsigned delegation");
			break;
		}
		/* RFC 5155 8.7: the wildcard at the closest encloser. */
		if (wildcard_of(wild, suffix(qname, ce)) && n3_hash(&s, wild, h) &&
		    (m = n3_match(&s, h)) && n3_nodata(m, qtype))
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE,
			    "NSEC3: wildcard without the type");
		break;
	case CTL_DENY_NXDOMAIN:
		if (!n3_closest(&s, zone, qname, false, &ce, &nc) ||
		    !wildcard_of(wild, suffix(qname, ce)) || !n3_hash(&s, wild, h) ||
		    n3_match(&s, h) || !n3_cover(&s, h))
			break;
		if (nc->flags & NSEC3_F_OPT_OUT)
			set(res, CTL_SEC_INSECURE, CTL_EDE_NONE,
			    "NSEC3 opt-out covers the name");
		else
			set(res, CTL_SEC_SECURE, CTL_EDE_NONE,
			    "NSEC3: closest encloser, next closer and wildcard");
		break;
	case CTL_DENY_WILDCARD:
		/* RFC 5155 8.8: the next closer name is covered. */
		if (wlabels >= dns_name_labels(qname) ||
		    !n3_hash(&s, suffix(qname, wlabels + 1), h) || !n3_cover(&s, h))
			break;
		set(res, CTL_SEC_SECURE, CTL_EDE_NONE, "NSEC3: next closer covered");
		break;
	}
	if (res->sec == CTL_SEC_BOGUS && b->nsec3_hit)
		res->why = "NSEC3 hash budget spent";
}

void ctl_val_deny(struct ctl_val_budget *b, enum ctl_val_deny what,
		  const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
		  uint8_t wildcard_labels, const struct ctl_val_denial *nsec,
		  unsigned n_nsec, const struct ctl_val_denial *nsec3,
		  unsigned n_nsec3, struct ctl_val_result *res)
{
	if (!dns_name_is_subdomain(qname, zone)) {
		set(res, CTL_SEC_BOGUS, CTL_EDE_NSEC_MISSING, "name outside the zone");
		return;
	}
	if (n_nsec) {
		deny_nsec(what, zone, qname, qtype, wildcard_labels, nsec, n_nsec, res);
		if (res->sec != CTL_SEC_BOGUS || !n_nsec3)
			return;
	}
	deny_nsec3(b, what, zone, qname, qtype, wildcard_labels, nsec3, n_nsec3, res);
}
