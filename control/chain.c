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

#include "dns/build.h"
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
	bool secure;		/* validated */
	uint8_t signer[DNS_NAME_MAX]; /* the zone whose keys it needs */
	uint16_t n, nsig;
	uint16_t sig_used;	/* secure: the RRSIG that verified it */
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
	/* the last reply, when it validated as secure (feed): the zone its
	 * proof records are of (ctl_chain_feed()); the root is a zone too */
	bool feed;
	uint8_t feed_zone[DNS_NAME_MAX];
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

static bool anchored_at(const struct ctl_chain *c, const uint8_t *name);

/* ctl_trust_flush()'s keep: an anchor's zone */
static bool keep_anchored(void *arg, const uint8_t *zone)
{
	return anchored_at(arg, zone);
}

unsigned ctl_chain_flush(struct ctl_chain *c, const uint8_t *zone, bool below)
{
	/* an anchor's zone keeps its entry: without it, a question in flight
	 * at that zone would ask its parent for its DS (the anchor is its
	 * only source) */
	return ctl_trust_flush(c->trust, zone, below, keep_anchored, c);
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
	c->st.verify_memo += b->memo - before->memo;
	c->st.limit_verify += b->verify_hit && !before->verify_hit;
	c->st.limit_failures += b->failures_hit && !before->failures_hit;
	c->st.limit_nsec3 += b->nsec3_hit && !before->nsec3_hit;
}

/* The key table's entry of a zone: a "no cut here" entry is none. */
static const struct ctl_trust_entry *zone_entry(struct ctl_chain *c, const uint8_t *zone,
						uint32_t now)
{
	const struct ctl_trust_entry *e = ctl_trust_get(c->trust, zone, now);

	return e && e->state == CTL_TRUST_NOCUT ? NULL : e;
}

int ctl_chain_need(struct ctl_chain *c, const uint8_t *zone, uint32_t now, uint16_t *ede)
{
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, zone);

	if (!a)
		return CTL_CHAIN_READY; /* under no anchor: insecure */
	const struct ctl_trust_entry *e = zone_entry(c, zone, now);
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

/* Whether an anchor is configured at name itself. */
static bool anchored_at(const struct ctl_chain *c, const uint8_t *name)
{
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, name);

	return a && dns_name_equal(a->owner, name);
}

/* The name a DNAME at downer with target dtarget makes of name (below
 * downer): name's labels above downer, then dtarget. false: too long. */
static bool dname_subst(const uint8_t *name, const uint8_t *downer, const uint8_t *dtarget,
			uint8_t *out)
{
	size_t nl = dns_name_len(name), dl = dns_name_len(downer), tl = dns_name_len(dtarget);
	size_t prefix = nl - dl;

	if (prefix + tl > DNS_NAME_MAX)
		return false;
	memcpy(out, name, prefix);
	memcpy(out + prefix, dtarget, tl);
	return true;
}

/*
 * A CNAME the server made from a DNAME of the reply (RFC 6672 5.3.1): it
 * is not signed; it is as good as the DNAME only when the DNAME validated
 * and the CNAME is exactly its substitution (owner below the DNAME's,
 * target the owner with the DNAME's owner replaced by its target).
 */
static bool synthesized(const struct ctl_chain *c, const struct group *x)
{
	uint8_t want[DNS_NAME_MAX];

	if (x->type != DNS_T_CNAME || x->set.nsig || x->set.n != 1)
		return false;
	for (unsigned g = 0; g < c->ng; g++) {
		const struct group *d = &c->g[g];
		if (d->type != DNS_T_DNAME || d->role != CTL_ROLE_CHAIN || !d->secure ||
		    d->set.n != 1 || !dns_name_is_subdomain(x->owner, d->owner) ||
		    dns_name_equal(x->owner, d->owner))
			continue;
		if (dns_name_check(d->set.rr[0].p, d->set.rr[0].len) != (int)d->set.rr[0].len ||
		    dns_name_check(x->set.rr[0].p, x->set.rr[0].len) != (int)x->set.rr[0].len ||
		    !dname_subst(x->owner, d->owner, d->set.rr[0].p, want))
			continue;
		if (dns_name_equal(want, x->set.rr[0].p))
			return true;
	}
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

/*
 * What a secure parent's referral says of the child: its DS set
 * (validated), else a proof that there is none, recorded in the key table;
 * a child already known secure or with a DS set keeps its entry (replacing
 * it would fail the questions in flight to it). Returns the proof's
 * result: bogus when the referral proves nothing (the reply's fault).
 */
static void learn_child(struct ctl_chain *c, struct ctl_val_budget *b, const uint8_t *zone,
			const struct dns_msg *m, const struct ctl_scrub *s,
			const struct group *ds, uint32_t ds_ttl, unsigned n_nsec,
			unsigned n_nsec3, uint32_t now, struct ctl_val_result *res)
{
	const uint8_t *child = s->cut;
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, child);
	const struct ctl_trust_entry *e = zone_entry(c, child, now);
	uint32_t ttl = ref_ttl(m, s);

	*res = (struct ctl_val_result){ .sec = CTL_SEC_SECURE, .ede = CTL_EDE_NONE,
					.why = "secure referral" };
	if (!a || dns_name_equal(a->owner, child))
		return; /* no anchor above: insecure anyway; an anchor here rules */
	if (ds) {
		c->st.ds_secure++;
		if (!e || (e->state != CTL_TRUST_SECURE && e->state != CTL_TRUST_DS))
			ctl_trust_set(c->trust, child, CTL_TRUST_DS, CTL_EDE_NONE,
				      ds_ttl < ttl ? ds_ttl : ttl, now, &ds->set, NULL);
		return;
	}
	ctl_val_deny(b, CTL_DENY_DS, zone, child, DNS_T_DS, 0, c->nsec, n_nsec, c->nsec3,
		     n_nsec3, res);
	if (res->sec == CTL_SEC_BOGUS)
		return;
	c->st.ds_insecure++;
	ctl_trust_set(c->trust, child, CTL_TRUST_INSECURE, res->ede, ttl, now, NULL, NULL);
	*res = (struct ctl_val_result){ .sec = CTL_SEC_SECURE, .ede = CTL_EDE_NONE,
					.why = "secure referral to an unsigned zone" };
}

/*
 * The denial records of the groups that validated as secure and were
 * signed by pzone (a proof never mixes records of two zones, nor takes one
 * that was not checked).
 */
static void load_denials(struct ctl_chain *c, const uint8_t *pzone, unsigned *n_nsec,
			 unsigned *n_nsec3)
{
	*n_nsec = *n_nsec3 = 0;
	for (unsigned g = 0; g < c->ng; g++) {
		const struct group *x = &c->g[g];
		if (x->role != CTL_ROLE_DENIAL || !x->secure || !dns_name_equal(x->signer, pzone))
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

/* A worse status for the reply (secure > insecure > bogus). */
static void lower(struct ctl_chain_step *out, uint8_t sec, uint16_t ede, const char *why,
		  bool retry)
{
	if (out->sec == CTL_SEC_BOGUS || sec == CTL_SEC_SECURE ||
	    (sec == CTL_SEC_INSECURE && out->sec == CTL_SEC_INSECURE))
		return;
	uint32_t cap = out->ttl_cap;
	step(out, sec, ede, why);
	out->ttl_cap = cap;
	out->retry = retry;
}

/*
 * x carries no RRSIG and lies below the zone asked: a server of the parent
 * and of an unsigned child may have answered for the child without a
 * referral. The names between the zone and x's owner that are also at or
 * above the name the reply is for (s->final_name: the child must hold the
 * data asked for, not merely some record of the reply; a CNAME or DNAME
 * link is on the question's path itself, wherever the chain ends), from
 * the top: a
 * known unsigned delegation makes x insecure (CTL_SEC_INSECURE); a signed
 * zone gives the keys x must have been signed with (CTL_SEC_SECURE: it
 * fails for want of RRSIGs), as does the zone asked when every name is
 * proven no cut, or when a trust anchor lies below the zone asked; a name
 * not known yet is asked about (CTL_CHAIN_NEED_CUT: its DS, of the
 * parent; CTL_SEC_BOGUS with *out saying so). Parent-side records at a
 * cut (DS, NSEC, NSEC3) are the parent's: never insecure by the cut
 * itself. A forged unsigned record passes only if the parent's signed
 * denial shows an unsigned delegation above the name asked.
 */
static uint8_t unsigned_below(struct ctl_chain *c, struct group *x, const uint8_t *zone,
			      const struct ctl_scrub *s, uint32_t now,
			      const struct ctl_val_rrset **keys, struct ctl_chain_step *out)
{
	int zl = dns_name_labels(zone), ol = dns_name_labels(x->owner);
	const struct ctl_anchor *a = ctl_anchors_find(c->anchors, x->owner);
	bool parent_side = x->type == DNS_T_DS || x->type == DNS_T_NSEC ||
			   x->type == DNS_T_NSEC3;

	if (!dns_name_is_subdomain(x->owner, zone) ||
	    (a && dns_name_is_subdomain(a->owner, zone) && !dns_name_equal(a->owner, zone)))
		return CTL_SEC_SECURE;
	for (int l = zl + 1; l <= ol - (parent_side ? 1 : 0); l++) {
		const uint8_t *name = x->owner;
		for (int drop = ol - l; drop > 0; drop--)
			name += *name + 1;
		/* a chain link is on the question's path; any other record
		 * only where the name the reply is for lies below */
		if (x->role != CTL_ROLE_CHAIN && !dns_name_is_subdomain(s->final_name, name))
			break;
		const struct ctl_trust_entry *e = ctl_trust_get(c->trust, name, now);
		if (e && e->state == CTL_TRUST_NOCUT)
			continue;
		if (e && e->state == CTL_TRUST_INSECURE)
			return CTL_SEC_INSECURE;
		if (e && e->state == CTL_TRUST_SECURE) {
			dns_name_copy_lower(x->signer, name);
			*keys = &e->keys;
			return CTL_SEC_SECURE;
		}
		if (e && e->state == CTL_TRUST_BOGUS) {
			lower(out, CTL_SEC_BOGUS, e->ede, ctl_ede_why(e->ede), false);
			return CTL_SEC_BOGUS;
		}
		lower(out, CTL_SEC_BOGUS, e ? CTL_EDE_DNSKEY_MISSING : CTL_EDE_RRSIGS_MISSING,
		      e ? "signed by a zone below: its keys first"
			: "unsigned data below the zone: is it an unsigned delegation?",
		      false);
		out->need = e ? CTL_CHAIN_NEED_KEYS : CTL_CHAIN_NEED_CUT;
		dns_name_copy_lower(out->signer, name);
		return CTL_SEC_BOGUS;
	}
	return CTL_SEC_SECURE;
}

/*
 * The keys that must have signed x, into *keys, and the zone that signed
 * it into x->signer: the zone asked, or a zone below it and above the
 * owner and the name asked, from the key table (a server of parent and
 * child answering for the child without a referral; never in a referral,
 * whose DS and denial records only the zone asked may sign). Returns
 * CTL_SEC_SECURE (keys set), CTL_SEC_INSECURE (that zone is provably
 * unsigned: x is taken as insecure), CTL_SEC_BOGUS (*out says why, or
 * what to fetch), CTL_SEC_INDETERMINATE (the DNSKEY set being fetched).
 */
static uint8_t keys_for(struct ctl_chain *c, struct group *x, const uint8_t *zone,
			const struct ctl_val_rrset *zkeys, const struct ctl_scrub *s, int kind,
			const uint8_t *key_fetch, uint32_t now,
			const struct ctl_val_rrset **keys, struct ctl_chain_step *out)
{
	struct ctl_rrsig sig;

	dns_name_copy_lower(x->signer, zone);
	*keys = zkeys;
	if (kind != CTL_SCRUB_REFERRAL && !x->set.nsig)
		return unsigned_below(c, x, zone, s, now, keys, out);
	if (kind == CTL_SCRUB_REFERRAL || !x->set.nsig ||
	    !ctl_rrsig_read(&sig, x->set.sig[0].p, x->set.sig[0].len) ||
	    dns_name_equal(sig.signer, zone) || !dns_name_is_subdomain(sig.signer, zone) ||
	    !dns_name_is_subdomain(x->owner, sig.signer) ||
	    (x->role != CTL_ROLE_CHAIN && !dns_name_is_subdomain(s->final_name, sig.signer)))
		return CTL_SEC_SECURE; /* the zone asked: its keys decide (a chain link is
					  on the question's path: its own owner counts) */
	dns_name_copy_lower(x->signer, sig.signer);
	const struct ctl_trust_entry *e = zone_entry(c, sig.signer, now);
	if (e && e->state == CTL_TRUST_SECURE) {
		*keys = &e->keys;
		return CTL_SEC_SECURE;
	}
	if (e && e->state == CTL_TRUST_INSECURE)
		return CTL_SEC_INSECURE;
	if (e && e->state == CTL_TRUST_BOGUS) {
		lower(out, CTL_SEC_BOGUS, e->ede, ctl_ede_why(e->ede), false);
		return CTL_SEC_BOGUS;
	}
	if (e && key_fetch && x->type == DNS_T_DNSKEY && dns_name_equal(key_fetch, sig.signer))
		return CTL_SEC_INDETERMINATE; /* ctl_chain_keys_done() decides */
	lower(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "signed by a zone below: its keys first",
	      false);
	out->need = e ? CTL_CHAIN_NEED_KEYS : CTL_CHAIN_NEED_DS;
	dns_name_copy_lower(out->signer, sig.signer);
	return CTL_SEC_BOGUS;
}

/* Validates one group; lowers *out as it must. */
static void check_group(struct ctl_chain *c, struct ctl_val_budget *b, struct group *x,
			const uint8_t *zone, const struct ctl_val_rrset *zkeys,
			const struct ctl_scrub *s, int kind, const uint8_t *key_fetch,
			uint32_t now, uint32_t t, struct ctl_chain_step *out)
{
	const struct ctl_val_rrset *keys;
	struct ctl_val_result res;

	uint8_t k = keys_for(c, x, zone, zkeys, s, kind, key_fetch, now, &keys, out);
	if (k == CTL_SEC_INSECURE) {
		lower(out, CTL_SEC_INSECURE, CTL_EDE_NONE, "from an unsigned zone below", false);
		return;
	}
	if (k != CTL_SEC_SECURE)
		return;
	ctl_val_rrset(b, &x->set, x->signer, keys, t, &res);
	if (res.sec != CTL_SEC_SECURE) {
		lower(out, CTL_SEC_BOGUS, res.ede, res.why,
		      !b->verify_hit && !b->failures_hit);
		return;
	}
	if (res.wildcard_labels && x->role != CTL_ROLE_DATA && x->role != CTL_ROLE_CHAIN) {
		/* a denial (or any record but the answer) expanded from a
		 * wildcard proves nothing of its owner: a *.zone NSEC
		 * replayed at www.zone would deny www's data */
		lower(out, CTL_SEC_BOGUS, CTL_EDE_BOGUS, "a proof record expanded from a wildcard",
		      true);
		return;
	}
	x->secure = true;
	x->ttl = res.ttl;
	x->sig_used = res.sig_used;
	if (res.ttl < out->ttl_cap)
		out->ttl_cap = res.ttl;
	if (x->role == CTL_ROLE_DATA || x->role == CTL_ROLE_CHAIN)
		x->wild_labels = res.wildcard_labels;
}

static void reply(struct ctl_chain *c, struct ctl_val_budget *b, const struct dns_msg *m,
		  const struct ctl_scrub *s, int kind, const uint8_t *zone,
		  uint16_t sent_type, const uint8_t *key_fetch,
		  uint32_t now, struct ctl_chain_step *out)
{
	const struct ctl_trust_entry *e;
	uint32_t t = wall(c);
	const struct group *ds = NULL;
	uint32_t ds_ttl = UINT32_MAX;
	unsigned n_nsec, n_nsec3;
	uint8_t pzone[DNS_NAME_MAX];

	step(out, CTL_SEC_SECURE, CTL_EDE_NONE, "secure");
	if (!ctl_anchors_find(c->anchors, zone)) {
		step(out, CTL_SEC_INSECURE, CTL_EDE_NONE, "under no trust anchor");
		return;
	}
	e = zone_entry(c, zone, now);
	if (e && e->state == CTL_TRUST_DS && key_fetch && dns_name_equal(key_fetch, zone)) {
		step(out, CTL_SEC_INDETERMINATE, CTL_EDE_NONE, "the keys being fetched");
		return;
	}
	if (!e || e->state == CTL_TRUST_DS) {
		/* The zone's entry ended (or was learnt again) while the query
		 * was out: its keys first, then the question again. */
		step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "the zone's keys are not known");
		out->need = e ? CTL_CHAIN_NEED_KEYS : CTL_CHAIN_NEED_DS;
		dns_name_copy_lower(out->signer, zone);
		return;
	}
	if (e->state != CTL_TRUST_SECURE) {
		bool bogus = e->state == CTL_TRUST_BOGUS;
		step(out, bogus ? CTL_SEC_BOGUS : CTL_SEC_INSECURE, e->ede, ctl_ede_why(e->ede));
		if (kind == CTL_SCRUB_REFERRAL && !bogus && !anchored_at(c, s->cut))
			ctl_trust_set(c->trust, s->cut, CTL_TRUST_INSECURE, CTL_EDE_NONE,
				      ref_ttl(m, s), now, NULL, NULL);
		return;
	}
	if (!load_groups(c, m, s)) {
		step(out, CTL_SEC_BOGUS, CTL_EDE_BOGUS, "reply too large to validate");
		return;
	}
	/* Every RRset the reply is used for, against the keys of the zone
	 * that signed it; unsigned CNAMEs made from a DNAME last, against
	 * the DNAME that validated. */
	const struct ctl_val_rrset zkeys = e->keys;
	for (int pass = 0; pass < 2 && out->sec != CTL_SEC_BOGUS; pass++)
		for (unsigned g = 0; g < c->ng && out->sec != CTL_SEC_BOGUS; g++) {
			struct group *x = &c->g[g];
			bool from_dname = x->type == DNS_T_CNAME && !x->set.nsig;
			if (!x->set.n || from_dname != (pass == 1))
				continue;
			if (from_dname && synthesized(c, x)) {
				x->secure = true;
				dns_name_copy_lower(x->signer, zone);
				continue;
			}
			check_group(c, b, x, zone, &zkeys, s, kind, key_fetch, now, t, out);
			if (x->secure && x->role == CTL_ROLE_REF_DS) {
				ds = x;
				ds_ttl = x->ttl;
			}
		}
	if (out->sec == CTL_SEC_BOGUS)
		return;

	/* The proof's zone: the signer of the negative answer's SOA (the zone
	 * asked, or the zone below that answered). */
	dns_name_copy_lower(pzone, zone);
	for (unsigned g = 0; g < c->ng; g++)
		if (c->g[g].role == CTL_ROLE_SOA && c->g[g].secure)
			dns_name_copy_lower(pzone, c->g[g].signer);
	load_denials(c, pzone, &n_nsec, &n_nsec3);
	dns_name_copy_lower(c->feed_zone, pzone);
	c->feed = true;

	struct ctl_val_result res = { .sec = CTL_SEC_SECURE, .ede = CTL_EDE_NONE };
	switch (kind) {
	case CTL_SCRUB_NXDOMAIN:
	case CTL_SCRUB_NODATA:
		if (out->sec != CTL_SEC_SECURE)
			break; /* from an unsigned zone below: nothing to prove */
		ctl_val_deny(b, kind == CTL_SCRUB_NXDOMAIN ? CTL_DENY_NXDOMAIN : CTL_DENY_NODATA,
			     pzone, s->final_name, sent_type, 0, c->nsec, n_nsec, c->nsec3, n_nsec3,
			     &res);
		break;
	case CTL_SCRUB_REFERRAL:
		learn_child(c, b, zone, m, s, ds, ds_ttl, n_nsec, n_nsec3, now, &res);
		break;
	default:
		break;
	}
	/* Answers expanded from a wildcard: the next closer name is denied. */
	for (unsigned g = 0; g < c->ng && res.sec == CTL_SEC_SECURE; g++) {
		struct group *x = &c->g[g];
		if (!x->wild_labels || !x->secure)
			continue;
		unsigned wn, wn3;
		load_denials(c, x->signer, &wn, &wn3);
		ctl_val_deny(b, CTL_DENY_WILDCARD, x->signer, x->owner, x->type, x->wild_labels,
			     c->nsec, wn, c->nsec3, wn3, &res);
	}
	if (res.sec != CTL_SEC_SECURE)
		lower(out, res.sec, res.ede, res.why, res.sec == CTL_SEC_BOGUS);
}

void ctl_chain_reply(struct ctl_chain *c, struct ctl_val_budget *b,
		     const struct dns_msg *m, const struct ctl_scrub *s, int kind,
		     const uint8_t *zone, uint16_t sent_type,
		     const uint8_t *key_fetch, uint32_t now, struct ctl_chain_step *out)
{
	struct ctl_val_budget before = *b;

	c->feed = false;
	c->ng = 0;
	reply(c, b, m, s, kind, zone, sent_type, key_fetch, now, out);
	count_budget(c, b, &before);
	if (out->need || out->sec != CTL_SEC_SECURE)
		c->feed = false;
	if (!out->need)
		tally(c, out);
}

/* Whether group x goes into the feed: the zone's SOA (soa) or one of its
 * denial RRsets, validated and signed by the feed's zone. */
static bool feeds(const struct ctl_chain *c, const struct group *x, bool soa)
{
	bool want = soa ? x->role == CTL_ROLE_SOA && x->type == DNS_T_SOA &&
				  dns_name_equal(x->owner, c->feed_zone)
			: x->role == CTL_ROLE_DENIAL;

	return want && x->secure && x->sig_used < x->set.nsig &&
	       dns_name_equal(x->signer, c->feed_zone);
}

/* x's records and the RRSIG that verified them (not the others the reply
 * put beside it: nothing unchecked goes on) into b; 0 or an error. */
static int put_group(struct dns_builder *b, const struct group *x)
{
	int r = 0;

	for (unsigned i = 0; i < x->set.n && !r; i++)
		r = dns_builder_rr(b, DNS_SEC_AUTHORITY, x->owner, x->type, DNS_C_IN, x->ttl,
				   x->set.rr[i].p, x->set.rr[i].len);
	if (!r)
		r = dns_builder_rr(b, DNS_SEC_AUTHORITY, x->owner, DNS_T_RRSIG, DNS_C_IN, x->ttl,
				   x->set.sig[x->sig_used].p, x->set.sig[x->sig_used].len);
	return r;
}

size_t ctl_chain_feed(const struct ctl_chain *c, uint8_t *out, size_t cap, unsigned *next)
{
	struct dns_builder b;
	unsigned nrr = 0;

	/* the zone's SOA first, then denial RRsets from *next on while they
	 * fit; one that does not fit even alone is passed over */
	while (c->feed && *next < c->ng) {
		if (dns_builder_init(&b, out, cap, 0, DNS_F_QR) ||
		    dns_builder_question(&b, c->feed_zone, DNS_T_NSEC, DNS_C_IN))
			return 0;
		for (unsigned g = 0; g < c->ng; g++)
			if (feeds(c, &c->g[g], true) && put_group(&b, &c->g[g]))
				return 0; /* no room for the SOA: no feed */
		for (; *next < c->ng; (*next)++) {
			const struct group *x = &c->g[*next];
			if (!feeds(c, x, false))
				continue;
			struct dns_builder keep = b;
			if (put_group(&b, x)) {
				b = keep;
				break;
			}
			nrr++;
		}
		if (nrr)
			return dns_builder_finish(&b);
		if (*next < c->ng)
			(*next)++; /* too large alone */
	}
	return 0;
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
	const struct ctl_trust_entry *e = zone_entry(c, zone, now);
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
	if (!msg) {
		/* the question failed on the way (time, budget, servers): this
		 * question's failure, not a verdict on the zone */
		step(out, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "the DNSKEY set could not be had");
		return;
	}
	if (dns_msg_parse(&m, msg, len) || !msg_rrset(c, &m, zone, DNS_T_DNSKEY, &keys)) {
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
	} else if (!b->verify_hit && !b->failures_hit) {
		/* a verdict on the zone's keys (not on this question's budget) */
		c->st.keysets_bogus++;
		ctl_trust_set(c->trust, zone, CTL_TRUST_BOGUS, res.ede, CTL_CHAIN_BOGUS_TTL_S, now,
			      NULL, NULL);
	}
}

/*
 * Whether the denial records of m (a secure "zone DS" NODATA, as
 * assembled) show a delegation at zone without DS (1: a matching NSEC or
 * NSEC3 with NS and without DS), no delegation there (0), or nothing
 * usable (-1: NSEC3 opt-out, which proves no delegation, or iterations
 * above the limit; fail closed). *ttl: the proof's shortest TTL.
 */
static int probe_cut(struct ctl_chain *c, const struct dns_msg *m, const uint8_t *zone,
		     uint32_t *ttl)
{
	struct dns_rr_iter it;
	struct dns_rr rr;
	uint8_t pzone[DNS_NAME_MAX];
	unsigned n = 0, n3 = 0;
	bool soa = false;

	c->used = 0;
	dns_rr_iter_init(&it, m, DNS_SEC_AUTHORITY);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_AUTHORITY) {
		if (rr.type == DNS_T_SOA && !soa) {
			dns_name_copy_lower(pzone, rr.owner);
			soa = true;
		}
		if ((rr.type == DNS_T_SOA || rr.type == DNS_T_NSEC || rr.type == DNS_T_NSEC3) &&
		    rr.ttl < *ttl)
			*ttl = rr.ttl;
		if ((rr.type != DNS_T_NSEC || n >= CTL_VAL_RRSET_MAX) &&
		    (rr.type != DNS_T_NSEC3 || n3 >= CTL_VAL_RRSET_MAX))
			continue;
		uint8_t *owner = arena_take(c, rr.owner_len), *rd = arena_take(c, rr.rdlen + 256u);
		int rl = rd ? dns_rr_rdata(m, &rr, rd, rr.rdlen + 256u) : -1;
		if (!owner || rl < 0)
			return -1;
		memcpy(owner, rr.owner, rr.owner_len);
		struct ctl_val_denial d = { owner, rd, (uint16_t)rl };
		if (rr.type == DNS_T_NSEC)
			c->nsec[n++] = d;
		else
			c->nsec3[n3++] = d;
	}
	if (!soa || !dns_name_is_subdomain(zone, pzone) || dns_name_equal(zone, pzone))
		return -1;
	struct ctl_val_budget vb;
	struct ctl_val_result res;
	ctl_val_budget_init(&vb, &c->lim);
	ctl_val_deny(&vb, CTL_DENY_DS, pzone, zone, DNS_T_DS, 0, c->nsec, n, c->nsec3, n3, &res);
	if (res.sec == CTL_SEC_BOGUS)
		return vb.nsec3_hit ? -1 : 0;
	return res.sec == CTL_SEC_SECURE ? 1 : -1;
}

void ctl_chain_ds_done(struct ctl_chain *c, const uint8_t *zone, const uint8_t *msg,
		       size_t len, int rcode, uint8_t sec, uint16_t ede, int why,
		       uint32_t now)
{
	bool signer = why == CTL_DS_SIGNER;
	struct dns_msg m;
	struct ctl_val_rrset ds;

	/* A failed question (SERVFAIL, bogus, out of budget) records nothing:
	 * the question that needed it fails, the zone is not marked. */
	(void)ede;
	if (sec == CTL_SEC_BOGUS || !msg || dns_msg_parse(&m, msg, len) ||
	    (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN))
		return;
	/* an anchor's zone is what the anchor says: its parent's answer for
	 * its DS (asked when its entry had gone, an expiry) changes nothing
	 * (a root "without DS" would have turned validation off) */
	if (anchored_at(c, zone))
		return;
	if (why == CTL_DS_PROBE) {
		/* only the parent's secure proof may say "unsigned"; an entry
		 * learnt meanwhile (a referral's) stays */
		const struct ctl_trust_entry *e = ctl_trust_get(c->trust, zone, now);
		if (sec != CTL_SEC_SECURE || (e && e->state != CTL_TRUST_NOCUT))
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
	} else if (rcode == DNS_R_NOERROR && (why == CTL_DS_PROBE || why == CTL_DS_CONFIGURED)) {
		/* unsigned data below a secure zone: unsigned only if the
		 * parent's proof shows a delegation here without DS; for as
		 * long as the proof lives (at least a second, so that the
		 * question asked again sees it) */
		uint32_t ttl = ANCHOR_TTL_S;
		int cut = probe_cut(c, &m, zone, &ttl);
		if (cut > 0)
			c->st.ds_insecure++;
		if (cut >= 0)
			ctl_trust_set(c->trust, zone, cut ? CTL_TRUST_INSECURE : CTL_TRUST_NOCUT,
				      CTL_EDE_NONE, ttl ? ttl : 1, now, NULL, NULL);
	} else if (rcode == DNS_R_NOERROR && !signer) {
		/* a known cut (from a validated referral) without DS: unsigned.
		 * A name that signed data without a referral must have a DS:
		 * else any name of a secure zone could claim to be an unsigned
		 * zone and its data would pass as insecure. */
		c->st.ds_insecure++;
		ctl_trust_set(c->trust, zone, CTL_TRUST_INSECURE, CTL_EDE_NONE, ANCHOR_TTL_S, now,
			      NULL, NULL);
	} else if (rcode == DNS_R_NOERROR) {
		return;
	} else if (why == CTL_DS_PROBE || why == CTL_DS_CONFIGURED) {
		/* the name does not exist: no cut there (the unsigned data
		 * below it stays bogus) */
		ctl_trust_set(c->trust, zone, CTL_TRUST_NOCUT, CTL_EDE_NONE, CTL_CHAIN_BOGUS_TTL_S,
			      now, NULL, NULL);
	} else {
		/* The parent proves the zone does not exist: no chain to it. */
		ctl_trust_set(c->trust, zone, CTL_TRUST_BOGUS, CTL_EDE_BOGUS,
			      CTL_CHAIN_BOGUS_TTL_S, now, NULL, NULL);
	}
}
