/*
 * control/policy_ns.c: gathering a question's name servers for NSDNAME and
 * NSIP triggers (see policy_ns.h): the delegation table's cuts above the
 * name, each cut's apex NS set and the names' addresses through the
 * iterator, merged into one set.
 */
#include "control/policy_ns.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/deleg.h"
#include "control/err.h"
#include "control/iter.h"
#include "dns/msg.h"
#include "dns/name.h"

struct gather {
	struct ctl_iter *it;
	unsigned need;
	unsigned outstanding;	/* iterator questions not answered yet */
	unsigned asked;
	bool starting;		/* inside ctl_ns_gather(): done waits */
	bool addresses;		/* the second round (NSIP) was asked */
	bool truncated;
	bool incomplete;	/* a question failed or was not asked, or a set
				   overflowed (what was kept would depend on
				   the order answers came in) */
	ctl_ns_done done;
	void *arg;
	struct ctl_ns_stats *st;
	struct policy_ns ns;
};

/* One iterator question of a gathering. */
struct ask {
	struct gather *g;
	uint16_t qtype;
	uint8_t name[DNS_NAME_MAX];	/* lower-cased */
};

static void ask(struct gather *g, const uint8_t *name, uint16_t qtype);

static void add_addr(struct gather *g, int family, const uint8_t *a)
{
	struct policy_ns *ns = &g->ns;
	size_t n = family == 4 ? 4 : 16;

	for (unsigned i = 0; i < ns->n_addrs; i++)
		if (ns->addr[i].family == family && memcmp(ns->addr[i].a, a, n) == 0)
			return;
	if (ns->n_addrs == POLICY_NS_ADDRS_MAX) {
		g->truncated = true;
		g->incomplete = true;
		return;
	}
	ns->addr[ns->n_addrs].family = (uint8_t)family;
	memset(ns->addr[ns->n_addrs].a, 0, sizeof(ns->addr[0].a));
	memcpy(ns->addr[ns->n_addrs].a, a, n);
	ns->n_addrs++;
}

/* A name server's name (any case): kept once. */
static void add_name(struct gather *g, const uint8_t *name)
{
	struct policy_ns *ns = &g->ns;
	uint8_t l[DNS_NAME_MAX];
	size_t len = dns_name_copy_lower(l, name);

	for (unsigned i = 0; i < ns->n_names; i++)
		if (ns->name_len[i] == len && memcmp(ns->name[i], l, len) == 0)
			return;
	if (ns->n_names == POLICY_NS_NAMES_MAX) {
		g->truncated = true;
		g->incomplete = true;
		return;
	}
	memcpy(ns->name[ns->n_names], l, len);
	ns->name_len[ns->n_names++] = (uint8_t)len;
}

static int name_order(const void *a, const void *b)
{
	return dns_name_cmp(a, b);
}

/* The second round, once every NS set is in: the names' addresses, in
 * DNSSEC order, as far as the question budget goes (the same names every
 * time). */
static void ask_addresses(struct gather *g)
{
	static uint8_t sorted[POLICY_NS_NAMES_MAX][DNS_NAME_MAX];
	unsigned n = g->ns.n_names;

	g->addresses = true;
	for (unsigned i = 0; i < n; i++)
		memcpy(sorted[i], g->ns.name[i], g->ns.name_len[i]);
	qsort(sorted, n, DNS_NAME_MAX, name_order);
	for (unsigned i = 0; i < n; i++) {
		ask(g, sorted[i], DNS_T_A);
		ask(g, sorted[i], DNS_T_AAAA);
	}
}

static void finish(struct gather *g)
{
	if (g->outstanding || g->starting)
		return;
	if ((g->need & POLICY_NEED_NSIP) && !g->addresses) {
		g->starting = true;
		ask_addresses(g);
		g->starting = false;
		if (g->outstanding)
			return;
	}
	g->st->gathered++;
	g->st->truncated += g->truncated;
	g->done(g->arg, &g->ns, !g->incomplete);
	free(g);
}

/* The answer to one question: the NS names of a zone's apex, or a name's
 * addresses (answer-section records owned by the name asked; a CNAME's
 * target's records are the name's too). */
static void answered(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct ask *a = arg;
	struct gather *g = a->g;
	struct dns_msg m;

	(void)stale;
	if ((rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) || !msg)
		g->incomplete = true;
	if (rcode == DNS_R_NOERROR && msg && !dns_msg_parse(&m, msg, len)) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
		while (it.section == DNS_SEC_ANSWER && dns_rr_next(&it, &rr) == 1) {
			if (rr.type != a->qtype || rr.rclass != DNS_C_IN)
				continue;
			if (rr.type == DNS_T_NS) {
				uint8_t target[DNS_NAME_MAX];
				size_t pos = rr.rdata_off;
				if (dns_name_equal(rr.owner, a->name) &&
				    dns_name_parse(msg, len, &pos, target) > 0)
					add_name(g, target);
			} else if (rr.type == DNS_T_A && rr.rdlen == 4) {
				add_addr(g, 4, msg + rr.rdata_off);
			} else if (rr.type == DNS_T_AAAA && rr.rdlen == 16) {
				add_addr(g, 6, msg + rr.rdata_off);
			}
		}
	}
	free(a);
	g->outstanding--;
	finish(g);
}

static void ask(struct gather *g, const uint8_t *name, uint16_t qtype)
{
	struct ask *a;

	if (g->asked == CTL_NS_LOOKUPS_MAX) {
		g->truncated = true;
		return;
	}
	if (!(a = malloc(sizeof(*a)))) {
		g->st->failed++;
		g->incomplete = true;
		return;
	}
	a->g = g;
	a->qtype = qtype;
	dns_name_copy_lower(a->name, name);
	g->asked++;
	g->st->lookups++;
	g->outstanding++;
	if (ctl_iter_resolve(g->it, a->name, qtype, DNS_C_IN, 0, answered, a) != 0) {
		g->outstanding--;
		g->st->failed++;
		g->incomplete = true;
		free(a);
	}
}

/* The cut below the TLDs closest to at in t: its parent-side names (and
 * glue for NSIP) added, and its zone to zones[0 .. *nz) unless there
 * already (met from another name or in another thread's table: this
 * table's NS set joins the other's, and its parents are walked again,
 * since another table may hold other cuts above); false when none is
 * left. */
static bool next_cut(struct gather *g, struct ctl_deleg_table *t, const uint8_t *at,
		     uint8_t (*zones)[DNS_NAME_MAX], unsigned *nz, const uint8_t **parent,
		     bool *found)
{
	uint32_t ce;
	const struct ctl_deleg *d = ctl_deleg_find(t, at, ctl_iter_now(), &ce);
	uint8_t *z = NULL;

	if (!d || dns_name_labels(d->zone) < 2)
		return false;
	*found = true;
	for (unsigned i = 0; i < *nz && !z; i++)
		if (dns_name_equal(zones[i], d->zone))
			z = zones[i];
	if (!z && *nz == CTL_NS_CUTS_MAX) {
		g->incomplete = true;
		return false;
	}
	if (!z) {
		z = zones[(*nz)++];
		dns_name_copy_lower(z, d->zone);
	}
	for (unsigned i = 0; i < d->nns; i++) {
		add_name(g, d->ns[i].name);
		for (unsigned k = 0; (g->need & POLICY_NEED_NSIP) && k < d->ns[i].naddr; k++)
			add_addr(g, d->ns[i].addr[k].family == AF_INET ? 4 : 6,
				 d->ns[i].addr[k].a);
	}
	*parent = z + 1 + z[0];
	return true;
}

/* One control thread's delegation table (each thread keeps its own:
 * control/pool.h): each name's cuts, from the deepest up. */
struct walk {
	struct gather *g;
	const uint8_t (*names)[DNS_NAME_MAX];
	unsigned n;
	uint8_t (*zones)[DNS_NAME_MAX];
	unsigned nz;
	bool found[CTL_NS_QNAMES_MAX];
};

static void walk_table(void *arg, struct ctl_deleg_table *t)
{
	struct walk *w = arg;

	for (unsigned i = 0; i < w->n; i++) {
		const uint8_t *at = w->names[i];
		while (next_cut(w->g, t, at, w->zones, &w->nz, &at, &w->found[i]))
			;
	}
}

int ctl_ns_gather(struct ctl_iter *it, const uint8_t (*names)[DNS_NAME_MAX], unsigned n,
		  unsigned need, ctl_ns_done done, void *arg, struct ctl_ns_stats *st)
{
	struct gather *g = calloc(1, sizeof(*g));
	uint8_t zones[CTL_NS_CUTS_MAX][DNS_NAME_MAX];
	struct walk w = { g, names, n < CTL_NS_QNAMES_MAX ? n : CTL_NS_QNAMES_MAX, zones, 0, { 0 } };

	if (!g)
		return CTL_E_NOMEM;
	g->it = it;
	g->need = need;
	g->done = done;
	g->arg = arg;
	g->st = st;
	g->starting = true;
	/* Each name's cuts from the deepest up, in every control thread's
	 * table (each table's NS set of a cut met before joins it): the
	 * parent's side (names, glue) now, while the table's pointers hold;
	 * the apex sets asked after. Each step's cut is a proper ancestor of
	 * the last: the walk ends. */
	if (n > CTL_NS_QNAMES_MAX)
		g->incomplete = true;
	ctl_iter_each_deleg(it, walk_table, &w);
	unsigned nz = w.nz;
	/* a name three labels deep or more with no cut below the TLDs in
	 * any table: one that expired or was evicted since the answer was
	 * cached (or a registered name's zone holds it without a cut): this
	 * client's verdict without it, none kept */
	for (unsigned i = 0; i < w.n; i++)
		if (!w.found[i] && dns_name_labels(names[i]) >= 3)
			g->incomplete = true;
	/* now that the tables are not read any more: the apex sets (then, in
	 * finish(), every name's addresses) */
	for (unsigned i = 0; i < nz; i++)
		ask(g, zones[i], DNS_T_NS);
	g->starting = false;
	finish(g);
	return 0;
}
