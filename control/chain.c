/*
 * control/chain.c: the chain of trust (see chain.h). Control process, the
 * iterator's thread; the scratch space for one reply's RRsets lives in
 * struct ctl_chain, so calls do not nest.
 *
 * Invariants:
 * - A zone under an anchor is never READY without a key table entry: its
 *   status is an anchor's keys, a DS set from a secure parent, or a proof.
 *   Data from it is secure only through its validated DNSKEY set.
 * - A child's entry comes from its parent's reply only when the parent is
 *   secure (the DS set validated, or its absence proven); an insecure
 *   parent's children are insecure, a bogus parent's bogus. An anchor at
 *   the child overrides what the parent says.
 * - Nothing from a reply that fails is recorded except that failure.
 */
#include "control/chain.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/name.h"
#include "dns/wire.h"

#define ARENA_MAX (256 * 1024)	/* unpacked RDATA of one reply */
#define GROUPS_MAX 256		/* RRsets in one reply */
#define ANCHOR_TTL_S 3600	/* an anchor's DS state until its keys are in */
#define INSECURE_TTL_MAX_S 86400

struct group {
	const uint8_t *owner;
	uint16_t type;
	uint8_t role;
	uint8_t wild_labels;	/* secure through a wildcard of this many labels */
	uint16_t n, nsig;
	uint32_t ttl;
	struct ctl_val_rrset set;
};

struct ctl_chain {
	const struct ctl_anchors *anchors;
	struct ctl_trust *trust;
	struct ctl_val_limits lim;
	int64_t vtime;
	struct ctl_chain_stats st;
	/* one reply's RRsets */
	unsigned ng;
	struct group g[GROUPS_MAX];
	int16_t gid[CTL_SCRUB_RECORDS_MAX];
	struct ctl_val_rdata rd[CTL_SCRUB_RECORDS_MAX];
	struct ctl_val_denial nsec[CTL_VAL_RRSET_MAX], nsec3[CTL_VAL_RRSET_MAX];
	size_t used;
	uint8_t arena[ARENA_MAX];
};

struct ctl_chain *ctl_chain_new(const struct ctl_anchors *anchors,
				const struct ctl_val_limits *lim, int64_t validation_time)
{
	struct ctl_chain *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (!(c->trust = ctl_trust_new(CTL_CHAIN_TRUST_MAX))) {
		free(c);
		return NULL;
	}
	c->anchors = anchors;
	c->lim = *lim;
	c->vtime = validation_time;
	return c;
}

void ctl_chain_free(struct ctl_chain *c)
{
	if (!c)
		return;
	ctl_trust_free(c->trust);
	free(c);
}

const struct ctl_val_limits *ctl_chain_limits(const struct ctl_chain *c)
{
	return &c->lim;
}

void ctl_chain_get_stats(const struct ctl_chain *c, struct ctl_chain_stats *st)
{
	*st = c->st;
}

/* The time signatures are judged by: validation-time, else the clock. */
static uint32_t wall(const struct ctl_chain *c)
{
	return c->vtime ? (uint32_t)c->vtime : (uint32_t)time(NULL);
}

static void step(struct ctl_chain_step *out, uint8_t sec, uint16_t ede, const char *why)
{
	*out = (struct ctl_chain_step){ .sec = sec, .ede = ede, .why = why,
					.ttl_cap = UINT32_MAX };
}

/* Counts what the budget stopped. */
static void count_budget(struct ctl_chain *c, const struct ctl_val_budget *b,
			 struct ctl_val_budget *before)
{
	c->st.verify += b->verify - before->verify;
	c->st.limit_verify += b->verify_hit && !before->verify_hit;
	c->st.limit_failures += b->failures_hit && !before->failures_hit;
	c->st.limit_nsec3 += b->nsec3_hit && !before->nsec3_hit;
}

int ctl_chain_need(struct ctl_chain *c, const uint8_t *zone, uint32_t now, uint16_t *ede)
{
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, zone);

	if (!a)
		return CTL_CHAIN_READY; /* under no anchor: insecure */
	const struct ctl_trust_entry *e = ctl_trust_get(c->trust, zone, now);
	if (e && e->state == CTL_TRUST_BOGUS) {
		*ede = e->ede;
		return CTL_CHAIN_BOGUS;
	}
	if (e)
		return e->state == CTL_TRUST_DS ? CTL_CHAIN_NEED_KEYS : CTL_CHAIN_READY;
	if (!dns_name_equal(a->owner, zone))
		return CTL_CHAIN_NEED_DS;
	ctl_trust_set(c->trust, zone, CTL_TRUST_DS, CTL_EDE_NONE, ANCHOR_TTL_S, now,
		      &a->ds, &a->keys);
	return CTL_CHAIN_NEED_KEYS;
}

/* ---- one reply's RRsets ---------------------------------------------- */

static uint8_t *arena_take(struct ctl_chain *c, size_t n)
{
	if (n > ARENA_MAX - c->used)
		return NULL;
	uint8_t *p = c->arena + c->used;
	c->used += n;
	return p;
}

/* The group of (owner, type), made when new; -1 when full. */
static int group_of(struct ctl_chain *c, const uint8_t *owner, uint16_t type)
{
	for (unsigned g = 0; g < c->ng; g++)
		if (c->g[g].type == type && dns_name_same(c->g[g].owner, owner))
			return (int)g;
	if (c->ng == GROUPS_MAX)
		return -1;
	c->g[c->ng] = (struct group){ .owner = owner, .type = type, .ttl = UINT32_MAX };
	return (int)c->ng++;
}

static bool signed_role(uint8_t role)
{
	return role == CTL_ROLE_DATA || role == CTL_ROLE_CHAIN || role == CTL_ROLE_SOA ||
	       role == CTL_ROLE_DENIAL || role == CTL_ROLE_REF_DS;
}

/*
 * Groups the records of the reply that signatures cover by owner and
 * type, their RDATA unpacked into the arena and the RRSIGs beside them.
 * false when the reply is too large for the scratch space.
 */
static bool load_groups(struct ctl_chain *c, const struct dns_msg *m,
			const struct ctl_scrub *s)
{
	unsigned at = 0;

	c->ng = 0;
	c->used = 0;
	for (unsigned i = 0; i < s->nrr; i++) {
		c->gid[i] = -1;
		uint8_t role = s->rr[i].role;
		struct dns_rr rr;
		size_t pos = s->rr[i].off;
		if (!signed_role(role) && role != CTL_ROLE_SIG)
			continue;
		if (dns_rr_parse(m->wire, m->len, &pos, &rr))
			return false;
		uint16_t type = rr.type;
		if (role == CTL_ROLE_SIG) {
			if (rr.rdlen < 2)
				continue;
			type = dns_get16(m->wire + rr.rdata_off);
		}
		int g = group_of(c, s->owner[i], type);
		if (g < 0)
			return false;
		if (role == CTL_ROLE_SIG) {
			c->g[g].nsig++;
		} else {
			c->g[g].n++;
			c->g[g].role = role;
			if (rr.ttl < c->g[g].ttl)
				c->g[g].ttl = rr.ttl;
		}
		c->gid[i] = (int16_t)g;
	}
	/* Each group's records, then its signatures, side by side in rd[]. */
	for (unsigned g = 0; g < c->ng; g++) {
		struct group *x = &c->g[g];
		struct ctl_val_rdata *rr = &c->rd[at], *sig = &c->rd[at + x->n];
		unsigned nr = 0, ns = 0;
		at += x->n + x->nsig;
		for (unsigned i = 0; i < s->nrr; i++) {
			struct dns_rr r;
			size_t pos = s->rr[i].off;
			if (c->gid[i] != (int)g || dns_rr_parse(m->wire, m->len, &pos, &r))
				continue;
			size_t room = ARENA_MAX - c->used;
			uint8_t *p = c->arena + c->used;
			int n = dns_rr_rdata(m, &r, p, room);
			if (n < 0 || !arena_take(c, (size_t)n))
				return false;
			if (s->rr[i].role == CTL_ROLE_SIG)
				sig[ns++] = (struct ctl_val_rdata){ p, (uint16_t)n };
			else
				rr[nr++] = (struct ctl_val_rdata){ p, (uint16_t)n };
		}
		x->set = (struct ctl_val_rrset){ .owner = x->owner, .type = x->type,
						 .rclass = DNS_C_IN, .ttl = x->ttl,
						 .n = (uint16_t)nr, .nsig = (uint16_t)ns,
						 .rr = rr, .sig = sig };
	}
	return true;
}

/* A CNAME the server made from a DNAME of the reply (RFC 6672 5.3.1): it
 * is not signed; the DNAME is, and the scrubber checked that they agree. */
static bool synthesized(const struct ctl_chain *c, const struct group *x)
{
	if (x->type != DNS_T_CNAME || x->set.nsig)
		return false;
	for (unsigned g = 0; g < c->ng; g++)
		if (c->g[g].type == DNS_T_DNAME && c->g[g].role == CTL_ROLE_CHAIN &&
		    dns_name_is_subdomain(x->owner, c->g[g].owner) &&
		    !dns_name_same(x->owner, c->g[g].owner))
			return true;
	return false;
}

/* The smallest TTL of the referral's NS records (the child's entry lives
 * no longer than the delegation it came with). */
static uint32_t ref_ttl(const struct dns_msg *m, const struct ctl_scrub *s)
{
	uint32_t ttl = INSECURE_TTL_MAX_S;

	for (unsigned i = 0; i < s->nrr; i++) {
		struct dns_rr rr;
		size_t pos = s->rr[i].off;
		if (s->rr[i].role == CTL_ROLE_REF_NS &&
		    !dns_rr_parse(m->wire, m->len, &pos, &rr) && rr.ttl < ttl)
			ttl = rr.ttl;
	}
	return ttl;
}

/* What a referral says of the child: its entry in the key table. ds: the
 * child's DS set, validated (secure, kept ds_ttl), or NULL. */
static void learn_child(struct ctl_chain *c, struct ctl_val_budget *b, const uint8_t *zone,
			const struct dns_msg *m, const struct ctl_scrub *s, uint8_t parent,
			uint16_t ede, const struct group *ds, uint32_t ds_ttl,
			unsigned n_nsec, unsigned n_nsec3, uint32_t now)
{
	const uint8_t *child = s->cut;
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, child);
	struct ctl_val_result res;
	uint32_t ttl = ref_ttl(m, s);

	if (!a || dns_name_equal(a->owner, child))
		return; /* no anchor above: insecure anyway; an anchor here rules */
	if (parent == CTL_SEC_BOGUS) {
		ctl_trust_set(c->trust, child, CTL_TRUST_BOGUS, ede, CTL_CHAIN_BOGUS_TTL_S, now,
			      NULL, NULL);
		return;
	}
	if (parent != CTL_SEC_SECURE) {
		ctl_trust_set(c->trust, child, CTL_TRUST_INSECURE, CTL_EDE_NONE, ttl, now, NULL,
			      NULL);
		return;
	}
	if (ds) {
		c->st.ds_secure++;
		ctl_trust_set(c->trust, child, CTL_TRUST_DS, CTL_EDE_NONE,
			      ds_ttl < ttl ? ds_ttl : ttl, now, &ds->set, NULL);
		return;
	}
	ctl_val_deny(b, CTL_DENY_DS, zone, child, DNS_T_DS, 0, c->nsec, n_nsec, c->nsec3,
		     n_nsec3, &res);
	if (res.sec == CTL_SEC_BOGUS) {
		ctl_trust_set(c->trust, child, CTL_TRUST_BOGUS, res.ede, CTL_CHAIN_BOGUS_TTL_S,
			      now, NULL, NULL);
		return;
	}
	c->st.ds_insecure++;
	ctl_trust_set(c->trust, child, CTL_TRUST_INSECURE, res.ede, ttl, now, NULL, NULL);
}

/* The denial records of the loaded groups, as the proofs take them. */
static void load_denials(struct ctl_chain *c, unsigned *n_nsec, unsigned *n_nsec3)
{
	*n_nsec = *n_nsec3 = 0;
	for (unsigned g = 0; g < c->ng; g++) {
		const struct group *x = &c->g[g];
		if (x->role != CTL_ROLE_DENIAL)
			continue;
		for (unsigned i = 0; i < x->set.n; i++) {
			struct ctl_val_denial d = { x->owner, x->set.rr[i].p, x->set.rr[i].len };
			if (x->type == DNS_T_NSEC && *n_nsec < CTL_VAL_RRSET_MAX)
				c->nsec[(*n_nsec)++] = d;
			else if (x->type == DNS_T_NSEC3 && *n_nsec3 < CTL_VAL_RRSET_MAX)
				c->nsec3[(*n_nsec3)++] = d;
		}
	}
}

static void tally(struct ctl_chain *c, const struct ctl_chain_step *out)
{
	if (out->sec == CTL_SEC_SECURE)
		c->st.secure++;
	else if (out->sec == CTL_SEC_INSECURE)
		c->st.insecure++;
	else if (out->sec == CTL_SEC_BOGUS)
		c->st.bogus++;
	if (out->ede == CTL_EDE_NSEC3_ITERATIONS)
		c->st.nsec3_iterations++;
}

/*
 * The keys that must have signed x: the zone's (zkeys), or, when its
 * RRSIG names a zone below the one asked and above the owner, that zone's
 * from the key table (*szone gets the zone that signs). NULL when x is not
 * to be validated with keys now: *out then says why (insecure, bogus, or
 * the signer's DS or keys to fetch), or out->sec is left alone for the
 * DNSKEY set being fetched.
 */
static const struct ctl_val_rrset *keys_for(struct ctl_chain *c, const struct group *x,
					    const uint8_t *zone,
					    const struct ctl_val_rrset *zkeys,
					    const uint8_t *key_fetch, uint32_t now,
					    const uint8_t **szone, struct ctl_chain_step *out)
{
	struct ctl_rrsig sig;

	*szone = zone;
	if (!x->set.nsig || !ctl_rrsig_read(&sig, x->set.sig[0].p, x->set.sig[0].len) ||
	    dns_name_equal(sig.signer, zone) || !dns_name_is_subdomain(sig.signer, zone) ||
	    !dns_name_is_subdomain(x->owner, sig.signer))
		return zkeys;
	const struct ctl_trust_entry *e = ctl_trust_get(c->trust, sig.signer, now);
	if (e && e->state == CTL_TRUST_SECURE) {
		*szone = e->zone;
		return &e->keys;
	}
	if (e && e->state == CTL_TRUST_INSECURE) {
		*szone = e->zone;
		step(out, CTL_SEC_INSECURE, e->ede, "signed by an unsigned zone below");
		return NULL;
	}
	if (e && e->state == CTL_TRUST_BOGUS) {
		step(out, CTL_SEC_BOGUS, e->ede, ctl_ede_why(e->ede));
		return NULL;
	}
	if (e && key_fetch && x->type == DNS_T_DNSKEY && dns_name_equal(key_fetch, sig.signer))
		return NULL; /* the keys being fetched: ctl_chain_keys_done() */
	step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "signed by a zone below: its keys first");
	out->need = e ? CTL_CHAIN_NEED_KEYS : CTL_CHAIN_NEED_DS;
	dns_name_copy_lower(out->signer, sig.signer);
	return NULL;
}

static void reply(struct ctl_chain *c, struct ctl_val_budget *b, const struct dns_msg *m,
		  const struct ctl_scrub *s, int kind, const uint8_t *zone,
		  const uint8_t *sent_name, uint16_t sent_type, const uint8_t *key_fetch,
		  uint32_t now, struct ctl_chain_step *out)
{
	const struct ctl_trust_entry *e;
	uint32_t t = wall(c);
	const struct group *ds = NULL;
	uint32_t ds_ttl = UINT32_MAX;
	unsigned n_nsec, n_nsec3;

	step(out, CTL_SEC_SECURE, CTL_EDE_NONE, "secure");
	if (!ctl_anchors_find(c->anchors, zone)) {
		step(out, CTL_SEC_INSECURE, CTL_EDE_NONE, "under no trust anchor");
		return;
	}
	if (!(e = ctl_trust_get(c->trust, zone, now))) {
		step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING,
		     "the zone's keys expired while the query was out");
		return;
	}
	if (e->state == CTL_TRUST_DS) {
		if (key_fetch && dns_name_equal(key_fetch, zone))
			step(out, CTL_SEC_INDETERMINATE, CTL_EDE_NONE, "the keys being fetched");
		else
			step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "the zone's keys are not known");
		return;
	}
	if (e->state != CTL_TRUST_SECURE) {
		bool bogus = e->state == CTL_TRUST_BOGUS;
		step(out, bogus ? CTL_SEC_BOGUS : CTL_SEC_INSECURE, e->ede, ctl_ede_why(e->ede));
		if (kind == CTL_SCRUB_REFERRAL)
			learn_child(c, b, zone, m, s, out->sec, out->ede, NULL, 0, 0, 0, now);
		return;
	}
	if (!load_groups(c, m, s)) {
		step(out, CTL_SEC_BOGUS, CTL_EDE_BOGUS, "reply too large to validate");
		return;
	}
	/* Every RRset the reply is used for, against the keys of the zone
	 * that signed it (the zone asked, or a zone below it). */
	const struct ctl_val_rrset zkeys = e->keys;
	const uint8_t *pzone = zone; /* the denial records' zone */
	for (unsigned g = 0; g < c->ng; g++) {
		struct group *x = &c->g[g];
		struct ctl_val_result res;
		const uint8_t *szone;
		if (!x->set.n || synthesized(c, x))
			continue;
		const struct ctl_val_rrset *keys = keys_for(c, x, zone, &zkeys, key_fetch, now,
							    &szone, out);
		if (!keys) {
			if (out->sec == CTL_SEC_BOGUS)
				return;
			continue; /* insecure below, or the keys being fetched */
		}
		ctl_val_rrset(b, &x->set, szone, keys, t, &res);
		if (x->role == CTL_ROLE_SOA || x->role == CTL_ROLE_DENIAL)
			pzone = szone;
		if (res.sec != CTL_SEC_SECURE) {
			step(out, CTL_SEC_BOGUS, res.ede, res.why);
			out->retry = true;
			if (kind == CTL_SCRUB_REFERRAL)
				learn_child(c, b, zone, m, s, CTL_SEC_BOGUS, res.ede, NULL, 0, 0, 0,
					    now);
			return;
		}
		if (res.ttl < out->ttl_cap)
			out->ttl_cap = res.ttl;
		if (x->role == CTL_ROLE_REF_DS) {
			ds = x;
			ds_ttl = res.ttl;
		}
		if (x->role == CTL_ROLE_DATA || x->role == CTL_ROLE_CHAIN)
			x->wild_labels = res.wildcard_labels;
	}
	load_denials(c, &n_nsec, &n_nsec3);

	struct ctl_val_result res = { .sec = CTL_SEC_SECURE, .ede = CTL_EDE_NONE };
	switch (kind) {
	case CTL_SCRUB_NXDOMAIN:
		if (out->sec == CTL_SEC_SECURE)
			ctl_val_deny(b, CTL_DENY_NXDOMAIN, pzone, s->final_name, sent_type, 0,
				     c->nsec, n_nsec, c->nsec3, n_nsec3, &res);
		break;
	case CTL_SCRUB_NODATA:
		if (out->sec == CTL_SEC_SECURE)
			ctl_val_deny(b, CTL_DENY_NODATA, pzone, s->final_name, sent_type, 0,
				     c->nsec, n_nsec, c->nsec3, n_nsec3, &res);
		break;
	case CTL_SCRUB_REFERRAL:
		learn_child(c, b, zone, m, s, CTL_SEC_SECURE, CTL_EDE_NONE, ds, ds_ttl, n_nsec,
			    n_nsec3, now);
		break;
	default:
		break;
	}
	/* Answers expanded from a wildcard: the next closer name is denied. */
	for (unsigned g = 0; g < c->ng && res.sec == CTL_SEC_SECURE; g++) {
		struct group *x = &c->g[g];
		if (!x->wild_labels)
			continue;
		ctl_val_deny(b, CTL_DENY_WILDCARD, pzone, x->owner, x->type, x->wild_labels,
			     c->nsec, n_nsec, c->nsec3, n_nsec3, &res);
	}
	(void)sent_name;
	if (res.sec != CTL_SEC_SECURE) {
		step(out, res.sec, res.ede, res.why);
		out->retry = res.sec == CTL_SEC_BOGUS;
	}
}

void ctl_chain_reply(struct ctl_chain *c, struct ctl_val_budget *b,
		     const struct dns_msg *m, const struct ctl_scrub *s, int kind,
		     const uint8_t *zone, const uint8_t *sent_name, uint16_t sent_type,
		     const uint8_t *key_fetch, uint32_t now, struct ctl_chain_step *out)
{
	struct ctl_val_budget before = *b;

	reply(c, b, m, s, kind, zone, sent_name, sent_type, key_fetch, now, out);
	count_budget(c, b, &before);
	if (!out->need)
		tally(c, out);
}

/* The records of type at owner in the answer section of msg, unpacked
 * into the arena, and the RRSIGs over them. */
static bool msg_rrset(struct ctl_chain *c, const struct dns_msg *m, const uint8_t *owner,
		      uint16_t type, struct ctl_val_rrset *set)
{
	struct dns_rr_iter it;
	struct dns_rr rr;
	unsigned n = 0, ns = 0;
	struct ctl_val_rdata *rd = c->rd, *sig = c->rd + CTL_SCRUB_RECORDS_MAX / 2;

	c->used = 0;
	*set = (struct ctl_val_rrset){ .owner = owner, .type = type, .rclass = DNS_C_IN,
				       .ttl = UINT32_MAX, .rr = rd, .sig = sig };
	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_ANSWER) {
		bool is_sig = rr.type == DNS_T_RRSIG && rr.rdlen >= 2 &&
			      dns_get16(m->wire + rr.rdata_off) == type;
		if ((rr.type != type && !is_sig) || !dns_name_equal(rr.owner, owner))
			continue;
		if ((is_sig ? ns : n) >= CTL_SCRUB_RECORDS_MAX / 2)
			return false;
		uint8_t *p = c->arena + c->used;
		int len = dns_rr_rdata(m, &rr, p, ARENA_MAX - c->used);
		if (len < 0 || !arena_take(c, (size_t)len))
			return false;
		if (is_sig) {
			sig[ns++] = (struct ctl_val_rdata){ p, (uint16_t)len };
		} else {
			rd[n++] = (struct ctl_val_rdata){ p, (uint16_t)len };
			if (rr.ttl < set->ttl)
				set->ttl = rr.ttl;
		}
	}
	set->n = (uint16_t)n;
	set->nsig = (uint16_t)ns;
	return n > 0;
}

void ctl_chain_keys_done(struct ctl_chain *c, struct ctl_val_budget *b,
			 const uint8_t *zone, const uint8_t *msg, size_t len,
			 uint32_t now, struct ctl_chain_step *out)
{
	struct ctl_val_budget before = *b;
	const struct ctl_trust_entry *e = ctl_trust_get(c->trust, zone, now);
	struct dns_msg m;
	struct ctl_val_rrset keys;
	struct ctl_val_result res;

	if (!e || e->state != CTL_TRUST_DS) {
		/* Known meanwhile (another question fetched them), or gone. */
		if (e && e->state == CTL_TRUST_SECURE)
			step(out, CTL_SEC_SECURE, CTL_EDE_NONE, "keys known");
		else if (e)
			step(out, e->state == CTL_TRUST_BOGUS ? CTL_SEC_BOGUS : CTL_SEC_INSECURE,
			     e->ede, ctl_ede_why(e->ede));
		else
			step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "no DS for the keys");
		return;
	}
	if (!msg || dns_msg_parse(&m, msg, len) || !msg_rrset(c, &m, zone, DNS_T_DNSKEY, &keys)) {
		res = (struct ctl_val_result){ .sec = CTL_SEC_BOGUS, .ede = CTL_EDE_DNSKEY_MISSING,
					       .why = "no DNSKEY set" };
	} else {
		ctl_val_keyset(b, &keys, e->ds.n ? &e->ds : NULL, e->keys.n ? &e->keys : NULL,
			       wall(c), &res);
	}
	count_budget(c, b, &before);
	step(out, res.sec, res.ede, res.why);
	if (res.sec == CTL_SEC_SECURE) {
		c->st.keysets++;
		out->ttl_cap = res.ttl;
		ctl_trust_set(c->trust, zone, CTL_TRUST_SECURE, CTL_EDE_NONE, res.ttl, now, NULL,
			      &keys);
	} else if (res.sec == CTL_SEC_INSECURE) {
		ctl_trust_set(c->trust, zone, CTL_TRUST_INSECURE, res.ede,
			      e->ds.ttl ? e->ds.ttl : ANCHOR_TTL_S, now, NULL, NULL);
	} else {
		c->st.keysets_bogus++;
		ctl_trust_set(c->trust, zone, CTL_TRUST_BOGUS, res.ede, CTL_CHAIN_BOGUS_TTL_S, now,
			      NULL, NULL);
	}
}

void ctl_chain_ds_done(struct ctl_chain *c, const uint8_t *zone, const uint8_t *msg,
		       size_t len, int rcode, uint8_t sec, uint16_t ede, uint32_t now)
{
	struct dns_msg m;
	struct ctl_val_rrset ds;

	if (sec == CTL_SEC_BOGUS || !msg || dns_msg_parse(&m, msg, len) ||
	    (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN)) {
		ctl_trust_set(c->trust, zone, CTL_TRUST_BOGUS,
			      sec == CTL_SEC_BOGUS ? ede : CTL_EDE_DNSKEY_MISSING,
			      CTL_CHAIN_BOGUS_TTL_S, now, NULL, NULL);
		return;
	}
	if (sec != CTL_SEC_SECURE) {
		ctl_trust_set(c->trust, zone, CTL_TRUST_INSECURE, ede, ANCHOR_TTL_S, now, NULL,
			      NULL);
		return;
	}
	if (rcode == DNS_R_NOERROR && msg_rrset(c, &m, zone, DNS_T_DS, &ds)) {
		c->st.ds_secure++;
		ctl_trust_set(c->trust, zone, CTL_TRUST_DS, CTL_EDE_NONE, ds.ttl, now, &ds, NULL);
	} else if (rcode == DNS_R_NOERROR) {
		c->st.ds_insecure++;
		ctl_trust_set(c->trust, zone, CTL_TRUST_INSECURE, CTL_EDE_NONE, ANCHOR_TTL_S, now,
			      NULL, NULL);
	} else {
		/* The parent proves the zone does not exist: no chain to it. */
		ctl_trust_set(c->trust, zone, CTL_TRUST_BOGUS, CTL_EDE_BOGUS,
			      CTL_CHAIN_BOGUS_TTL_S, now, NULL, NULL);
	}
}
