/*
 * control/deleg.c: the delegation table (see deleg.h for the rules).
 * Control process, one thread. A chained hash table keyed by the lower-
 * cased zone name, with a keyed hash (zone names come from referrals, that
 * is from anyone) and an LRU list bounding the entries; the root entry is
 * never evicted. A lookup walks qname's ancestors from the root down:
 * at most 128 probes.
 */
#include "deleg.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf/config.h"
#include "conf/log.h"
#include "dns/name.h"

struct link {
	struct link *prev, *next; /* LRU: the head's next is the most recent */
};

struct entry {
	struct entry *hnext;
	struct link lru;
	uint64_t hash;
	struct ctl_deleg d;
	struct ctl_deleg_ns ns[];
};

struct ctl_deleg_table {
	struct entry **bucket;
	uint64_t mask;
	uint64_t seed;
	size_t max_entries;
	uint32_t max_ttl;
	uint64_t next_id;
	struct entry *root;
	struct link lru; /* sentinel */
	struct ctl_referral *hints;
	struct entry *conf[CTL_DELEG_CONF_MAX];	/* configured cuts */
	unsigned nconf;
	struct ctl_deleg_stats st;
};

static uint64_t name_hash(const struct ctl_deleg_table *t, const uint8_t *name)
{
	uint64_t h = t->seed ^ 0xcbf29ce484222325ULL;
	size_t len = dns_name_len(name);

	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 0x100000001b3ULL;
	}
	/* FNV alone mixes its last octets poorly into the high bits. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct entry *entry_of(struct link *l)
{
	return (struct entry *)((uint8_t *)l - offsetof(struct entry, lru));
}

static void lru_unlink(struct entry *e)
{
	e->lru.prev->next = e->lru.next;
	e->lru.next->prev = e->lru.prev;
}

static void lru_front(struct ctl_deleg_table *t, struct entry *e)
{
	e->lru.next = t->lru.next;
	e->lru.prev = &t->lru;
	t->lru.next->prev = &e->lru;
	t->lru.next = &e->lru;
}

static struct entry *lookup(const struct ctl_deleg_table *t, const uint8_t *zone,
			    uint64_t h)
{
	for (struct entry *e = t->bucket[h & t->mask]; e; e = e->hnext)
		if (e->hash == h && dns_name_same(e->d.zone, zone))
			return e;
	return NULL;
}

static void unhash(struct ctl_deleg_table *t, struct entry *e)
{
	struct entry **p = &t->bucket[e->hash & t->mask];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(e);
	if (t->root == e)
		t->root = NULL;
	t->st.entries--;
	free(e);
}

struct ctl_deleg_table *ctl_deleg_table_new(size_t max_entries, uint32_t max_ttl)
{
	struct ctl_deleg_table *t = calloc(1, sizeof(*t));
	uint64_t buckets = 64;

	if (!t)
		return NULL;
	t->max_entries = max_entries ? max_entries : CTL_DELEG_ENTRIES_DEFAULT;
	t->max_ttl = max_ttl ? max_ttl : 86400;
	while (buckets < t->max_entries)
		buckets <<= 1;
	t->mask = buckets - 1;
	t->bucket = calloc(buckets, sizeof(*t->bucket));
	if (!t->bucket || getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed)) {
		free(t->bucket);
		free(t);
		return NULL;
	}
	t->lru.next = t->lru.prev = &t->lru;
	t->next_id = 1;
	return t;
}

void ctl_deleg_set_max_ttl(struct ctl_deleg_table *t, uint32_t max_ttl)
{
	t->max_ttl = max_ttl ? max_ttl : 86400;
}

void ctl_deleg_table_free(struct ctl_deleg_table *t)
{
	if (!t)
		return;
	while (t->lru.next != &t->lru)
		unhash(t, entry_of(t->lru.next));
	free(t->bucket);
	free(t->hints);
	free(t);
}

static bool same_addrs(const struct ctl_deleg_ns *a, const struct ctl_deleg_ns *b)
{
	if (a->naddr != b->naddr)
		return false;
	for (unsigned i = 0; i < a->naddr; i++) {
		bool found = false;
		for (unsigned j = 0; j < b->naddr && !found; j++)
			found = ctl_addr_same(&a->addr[i], &b->addr[j]);
		if (!found)
			return false;
	}
	return true;
}

/*
 * The same delegation: the same NS names with the same glue, in any
 * order. New glue is a new delegation too: the parent sends us to other
 * servers, so what the old ones said below the cut must not stay.
 */
static bool same_ns_set(const struct ctl_deleg *d, const struct ctl_referral *r)
{
	if (d->nns != r->nns)
		return false;
	for (unsigned i = 0; i < r->nns; i++) {
		uint8_t lower[DNS_NAME_MAX];
		bool found = false;
		dns_name_copy_lower(lower, r->ns[i].name);
		for (unsigned j = 0; j < d->nns && !found; j++)
			found = dns_name_same(d->ns[j].name, lower) && same_addrs(&d->ns[j], &r->ns[i]);
		if (!found)
			return false;
	}
	return true;
}

/* Writes r's NS names and glue into e (sized for them). */
static void fill_ns(struct entry *e, const struct ctl_referral *r)
{
	e->d.nns = r->nns;
	e->d.ns = e->ns;
	for (unsigned i = 0; i < r->nns; i++) {
		e->ns[i] = r->ns[i];
		dns_name_lower(e->ns[i].name);
		if (e->ns[i].naddr > CTL_DELEG_ADDR_MAX)
			e->ns[i].naddr = CTL_DELEG_ADDR_MAX;
	}
}

/* A new entry for r under parent_id, replacing any entry for the zone. */
static struct entry *store(struct ctl_deleg_table *t, const uint8_t *zone,
			   const struct ctl_referral *r, uint64_t parent_id,
			   uint32_t now, uint32_t expire)
{
	uint64_t h = name_hash(t, zone);
	struct entry *old = lookup(t, zone, h), *e;

	if (old)
		unhash(t, old);
	unsigned pinned = 0; /* the root and configured cuts stay */
	while (t->st.entries >= t->max_entries && t->lru.prev != &t->lru) {
		struct entry *victim = entry_of(t->lru.prev);
		if (victim == t->root || victim->d.kind) {
			/* move it out of the way */
			lru_unlink(victim);
			lru_front(t, victim);
			if (++pinned >= t->st.entries)
				break;
			continue;
		}
		unhash(t, victim);
		t->st.evicted++;
	}
	e = calloc(1, sizeof(*e) + r->nns * sizeof(e->ns[0]));
	if (!e)
		return NULL;
	e->hash = h;
	e->d.id = t->next_id++;
	e->d.parent_id = parent_id;
	e->d.learned = now;
	e->d.expire = expire;
	memcpy(e->d.zone, zone, dns_name_len(zone));
	fill_ns(e, r);
	e->hnext = t->bucket[h & t->mask];
	t->bucket[h & t->mask] = e;
	lru_front(t, e);
	t->st.entries++;
	return e;
}

static uint32_t expiry(const struct ctl_deleg_table *t, uint32_t now, uint32_t ttl)
{
	if (ttl > t->max_ttl)
		ttl = t->max_ttl;
	if (ttl == 0)
		ttl = 1; /* usable for the lookup that learnt it */
	return now + ttl;
}

/* The root from the hints, as a new instance or renewing the old one. */
static struct entry *root_from_hints(struct ctl_deleg_table *t, uint32_t now)
{
	struct entry *e = t->root;

	if (!t->hints)
		return NULL;
	if (e && same_ns_set(&e->d, t->hints)) {
		fill_ns(e, t->hints);
		e->d.learned = now;
	} else {
		if (!(e = store(t, (const uint8_t *)"", t->hints, 0, now, UINT32_MAX)))
			return NULL;
		t->root = e;
	}
	e->d.expire = UINT32_MAX;
	e->d.from_hints = true;
	return e;
}

int ctl_deleg_set_hints(struct ctl_deleg_table *t, const struct ctl_referral *r,
			uint32_t now)
{
	if (r->nns == 0)
		return CTL_E_NO_NS;
	if (!t->hints && !(t->hints = malloc(sizeof(*t->hints))))
		return CTL_E_NOMEM;
	*t->hints = *r;
	t->hints->zone = (const uint8_t *)"";
	if (t->root && now < t->root->d.expire && !t->root->d.from_hints)
		return 0; /* a primed root stays until it expires */
	return root_from_hints(t, now) ? 0 : CTL_E_NOMEM;
}

int ctl_deleg_set_configured(struct ctl_deleg_table *t, const struct ctl_referral *ref,
			     const uint8_t *kind, const bool *rd, unsigned n, uint32_t now)
{
	struct entry *keep[CTL_DELEG_CONF_MAX] = { 0 };

	if (n > CTL_DELEG_CONF_MAX)
		return CTL_E_INVAL;
	for (unsigned i = 0; i < n; i++)
		if (!ref[i].nns)
			return CTL_E_NO_NS;
	/* the old ones set again as they were keep their instance */
	for (unsigned k = 0; k < t->nconf; k++) {
		struct entry *e = t->conf[k];
		bool kept = false;
		for (unsigned i = 0; i < n && !kept; i++)
			if (!keep[i] && dns_name_equal(e->d.zone, ref[i].zone) &&
			    e->d.kind == kind[i] && e->d.rd == rd[i] && same_ns_set(&e->d, &ref[i]))
				keep[i] = e, kept = true;
		if (!kept)
			unhash(t, e);
	}
	t->nconf = 0;
	for (unsigned i = 0; i < n; i++) {
		struct entry *e = keep[i];
		uint8_t zone[DNS_NAME_MAX];
		dns_name_copy_lower(zone, ref[i].zone);
		if (!e && !(e = store(t, zone, &ref[i], 0, now, UINT32_MAX))) {
			/* no ghost: a kept one not listed again is removed */
			for (unsigned j = i + 1; j < n; j++)
				if (keep[j])
					unhash(t, keep[j]);
			return CTL_E_NOMEM;
		}
		e->d.kind = kind[i];
		e->d.rd = rd[i];
		t->conf[t->nconf++] = e;
	}
	return 0;
}

/* The deepest configured cut at or above qname (lower-cased), or NULL. */
static struct entry *configured_above(const struct ctl_deleg_table *t, const uint8_t *qname)
{
	struct entry *best = NULL;

	for (unsigned k = 0; k < t->nconf; k++) {
		struct entry *e = t->conf[k];
		if (dns_name_is_subdomain(qname, e->d.zone) &&
		    (!best || dns_name_labels(e->d.zone) > dns_name_labels(best->d.zone)))
			best = e;
	}
	return best;
}

unsigned ctl_deleg_configured_below(const struct ctl_deleg_table *t, const uint8_t *zone,
				    const uint8_t **out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < t->nconf && n < max; k++) {
		const uint8_t *z = t->conf[k]->d.zone;
		if (!dns_name_same(z, zone) && dns_name_is_subdomain(z, zone))
			out[n++] = z;
	}
	return n;
}

bool ctl_deleg_configured(const struct ctl_deleg_table *t, const uint8_t *name)
{
	uint8_t lower[DNS_NAME_MAX];

	if (!t->nconf)
		return false;
	dns_name_copy_lower(lower, name);
	return configured_above(t, lower) != NULL;
}

int ctl_deleg_prime(struct ctl_deleg_table *t, const struct ctl_referral *r,
		    uint32_t now)
{
	struct entry *e = t->root;

	if (r->nns == 0)
		return CTL_E_NO_NS;
	if (e && same_ns_set(&e->d, r)) {
		fill_ns(e, r);
		e->d.learned = now;
	} else {
		if (!(e = store(t, (const uint8_t *)"", r, 0, now, 0)))
			return CTL_E_NOMEM;
		t->root = e;
		t->st.learned++;
	}
	e->d.expire = expiry(t, now, r->ttl);
	e->d.from_hints = false;
	return 0;
}

const struct ctl_deleg *ctl_deleg_find(struct ctl_deleg_table *t,
				       const uint8_t *qname_in, uint32_t now,
				       uint32_t *chain_expire)
{
	uint8_t qname[DNS_NAME_MAX];
	size_t label[DNS_NAME_MAX / 2 + 1];
	int n = 0;
	struct entry *cur = t->root;

	if (!cur || now >= cur->d.expire)
		cur = root_from_hints(t, now);
	if (!cur)
		return NULL;
	lru_unlink(cur);
	lru_front(t, cur);
	*chain_expire = cur->d.expire;
	dns_name_copy_lower(qname, qname_in);
	for (size_t p = 0; qname[p]; p += (size_t)qname[p] + 1)
		label[n++] = p;
	/* a configured cut at or above qname: the walk starts there, whatever
	 * the table holds above it */
	struct entry *c = configured_above(t, qname);
	if (c) {
		cur = c;
		lru_unlink(cur);
		lru_front(t, cur);
		*chain_expire = UINT32_MAX;
		n = (int)(dns_name_labels(qname) - dns_name_labels(c->d.zone));
		if (c->d.kind == CTL_DELEG_FORWARD)
			n = 0; /* nothing is learnt below */
	}
	/* From the root's children down to qname itself. */
	while (n-- > 0) {
		const uint8_t *zone = qname + label[n];
		struct entry *e = lookup(t, zone, name_hash(t, zone));
		if (!e)
			continue;
		if (e->d.parent_id != cur->d.id) {
			/* learned through a parent instance no longer in use:
			 * it and everything below it are not used */
			unhash(t, e);
			t->st.ignored_below++;
			break;
		}
		if (now >= e->d.expire)
			break; /* expired: ask its parent again */
		cur = e;
		lru_unlink(cur);
		lru_front(t, cur);
		if (cur->d.expire < *chain_expire)
			*chain_expire = cur->d.expire;
	}
	return &cur->d;
}

static int learn(struct ctl_deleg_table *t, const struct ctl_deleg *parent,
		 const struct ctl_referral *r, uint32_t started, uint32_t now,
		 const struct ctl_deleg **out)
{
	uint8_t zone[DNS_NAME_MAX];
	struct entry *e;

	*out = NULL;
	dns_name_copy_lower(zone, r->zone);
	if (r->nns == 0 || dns_name_same(zone, parent->zone) ||
	    !dns_name_is_subdomain(zone, parent->zone))
		return CTL_DELEG_NOT_BELOW;
	/* below a configured zone that is below the parent: only the
	 * configured zone's servers refer to it */
	const struct entry *c = configured_above(t, zone);
	if (c && !dns_name_same(c->d.zone, zone) && dns_name_labels(c->d.zone) >
						    dns_name_labels(parent->zone))
		return CTL_DELEG_NOT_BELOW;
	e = lookup(t, zone, name_hash(t, zone));
	if (e && e->d.kind) {
		/* configured: no referral replaces it */
		t->st.fresh_kept++;
		*out = &e->d;
		return CTL_DELEG_FRESH_KEPT;
	}
	/* Learnt through a newer instance of the parent than the one this
	 * referral came through (ids only grow): the older servers' word does
	 * not replace it. */
	if (e && e->d.parent_id > parent->id) {
		t->st.late_refused++;
		return CTL_DELEG_LATE;
	}
	if (e && e->d.parent_id == parent->id) {
		if (now < e->d.expire) {
			t->st.fresh_kept++;
			*out = &e->d;
			return CTL_DELEG_FRESH_KEPT;
		}
		if (started < e->d.expire) {
			t->st.late_refused++;
			return CTL_DELEG_LATE;
		}
		if (same_ns_set(&e->d, r)) {
			fill_ns(e, r);
			e->d.learned = now;
			e->d.expire = expiry(t, now, r->ttl);
			lru_unlink(e);
			lru_front(t, e);
			t->st.renewed++;
			*out = &e->d;
			return CTL_DELEG_RENEWED;
		}
	}
	/* New, changed, or left from an older parent instance (not in use:
	 * replacing it is learning afresh). */
	bool changed = e && e->d.parent_id == parent->id;
	if (!(e = store(t, zone, r, parent->id, now, expiry(t, now, r->ttl))))
		return CTL_DELEG_NOMEM;
	if (changed)
		t->st.changed++;
	else
		t->st.learned++;
	*out = &e->d;
	return changed ? CTL_DELEG_CHANGED : CTL_DELEG_NEW;
}

/* A referral's outcome at the debug level: the kiting defence at work. */
static void log_learn(const struct ctl_deleg *parent, const struct ctl_referral *r, int rc,
		      const struct ctl_deleg *d)
{
	static const char *const what[] = {
		[CTL_DELEG_NEW] = "learned",
		[CTL_DELEG_RENEWED] = "renewed (the same NS set)",
		[CTL_DELEG_CHANGED] = "changed (another NS set)",
		[CTL_DELEG_FRESH_KEPT] = "kept (the cut held is fresh or configured)",
		[CTL_DELEG_LATE] = "refused (asked before the cut held expired, or through an "
				   "older parent instance)",
		[CTL_DELEG_NOT_BELOW] = "refused (not below the parent, or below a configured "
					"zone)",
		[CTL_DELEG_NOMEM] = "not stored (no memory)",
	};
	char z[4 * DNS_NAME_MAX + 1] = "?", p[4 * DNS_NAME_MAX + 1] = "?";

	dns_name_to_str(r->zone, z, sizeof(z));
	dns_name_to_str(parent->zone, p, sizeof(p));
	cfg_log(CFG_LOG_DEBUG, "delegation %s from %s (instance %llu): %s, %u NS, ttl %u%s%llu",
		z, p, (unsigned long long)parent->id,
		rc > 0 && rc <= CTL_DELEG_NOMEM ? what[rc] : "?", r->nns, r->ttl,
		d ? ", instance " : "", d ? (unsigned long long)d->id : 0ULL);
}

int ctl_deleg_learn(struct ctl_deleg_table *t, const struct ctl_deleg *parent,
		    const struct ctl_referral *r, uint32_t started, uint32_t now,
		    const struct ctl_deleg **out)
{
	int rc = learn(t, parent, r, started, now, out);

	if (cfg_log_on(CFG_LOG_DEBUG) && cfg_log_busy_ok())
		log_learn(parent, r, rc, *out);
	return rc;
}

bool ctl_deleg_revoke(struct ctl_deleg_table *t, const uint8_t *zone_in)
{
	uint8_t zone[DNS_NAME_MAX];
	struct entry *e;

	dns_name_copy_lower(zone, zone_in);
	e = lookup(t, zone, name_hash(t, zone));
	if (!e || e == t->root || e->d.kind)
		return false;
	unhash(t, e);
	t->st.revoked++;
	if (cfg_log_on(CFG_LOG_DEBUG) && cfg_log_busy_ok()) {
		char z[4 * DNS_NAME_MAX + 1] = "?";
		dns_name_to_str(zone, z, sizeof(z));
		cfg_log(CFG_LOG_DEBUG, "delegation %s revoked: its parent says it is gone", z);
	}
	return true;
}

unsigned ctl_deleg_each(const struct ctl_deleg_table *t, const uint8_t *zone, bool below,
			void (*cb)(void *arg, const struct ctl_deleg *d), void *arg)
{
	unsigned n = 0;

	for (const struct link *l = t->lru.next; l != &t->lru; l = l->next) {
		const struct entry *e = (const struct entry *)((const uint8_t *)l -
							       offsetof(struct entry, lru));

		if (zone && !(below ? dns_name_is_subdomain(e->d.zone, zone)
				    : dns_name_is_subdomain(zone, e->d.zone)))
			continue;
		cb(arg, &e->d);
		n++;
	}
	return n;
}

unsigned ctl_deleg_flush(struct ctl_deleg_table *t, const uint8_t *zone, bool below)
{
	unsigned n = 0;

	for (struct link *l = t->lru.next, *next; l != &t->lru; l = next) {
		struct entry *e = entry_of(l);

		next = l->next;
		if (e == t->root || e->d.kind ||
		    (zone && !(below ? dns_name_is_subdomain(e->d.zone, zone)
				     : dns_name_equal(e->d.zone, zone))))
			continue;
		unhash(t, e);
		t->st.flushed++;
		n++;
	}
	return n;
}

void ctl_deleg_get_stats(const struct ctl_deleg_table *t, struct ctl_deleg_stats *st)
{
	*st = t->st;
}
