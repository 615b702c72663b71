/*
 * control/confmap.c: the configuration as control's parts take it (see
 * confmap.h).
 */
#include "control/confmap.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/err.h"
#include "dns/name.h"

uint64_t ctl_validation_id(uint64_t anchors, const struct cfg *c)
{
	const uint64_t v[] = {
		c->resolver.has_validation_time, (uint64_t)c->resolver.validation_time,
		c->resolver.dnssec.skew_s, c->resolver.dnssec.rsasha1,
		c->resolver.dnssec.max_verifications, c->resolver.dnssec.max_failures,
		c->resolver.dnssec.max_nsec3_hashes,
	};
	uint64_t h = anchors;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		h ^= v[i] + 0x9e3779b97f4a7c15ull;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	return h == ANCHORS_NONE || h == 0 ? h + 2 : h;
}

int ctl_anchors_read(const char *path, const struct cfg *c, struct ctl_anchors **out,
		     uint64_t *id, char *err, size_t errlen)
{
	int r = CTL_E_NOMEM;

	if (!(*out = malloc(sizeof(**out))) || (r = ctl_anchors_load(*out, path, err, errlen))) {
		if (r != CTL_E_ANCHOR) /* (only a file's fault writes err) */
			snprintf(err, errlen, "%s: %s", path, ctl_strerror(r));
		free(*out);
		*out = NULL;
		return -1;
	}
	*id = ctl_validation_id(ctl_anchors_id(*out), c);
	return 0;
}

void ctl_val_limits_of(const struct cfg *c, struct ctl_val_limits *lim)
{
	ctl_val_limits_default(lim);
	lim->nsec3_max_iterations = (uint16_t)c->resolver.nsec3_max_iterations;
	lim->skew_s = c->resolver.dnssec.skew_s;
	lim->rsasha1 = c->resolver.dnssec.rsasha1;
	lim->max_verify = c->resolver.dnssec.max_verifications;
	lim->max_failures = c->resolver.dnssec.max_failures;
	lim->max_nsec3_hashes = c->resolver.dnssec.max_nsec3_hashes;
}

bool ctl_hints_usable(const struct ctl_referral *h, const struct ctl_iter_config *ic)
{
	for (unsigned i = 0; i < h->nns; i++)
		for (unsigned j = 0; j < h->ns[i].naddr; j++)
			if (ctl_iter_may_query(ic, &h->ns[i].addr[j]))
				return true;
	return false;
}

int ctl_routed_zones(struct ctl_deleg_table *t, const struct cfg *c,
		     const struct ctl_iter_config *ic, char *why, size_t whylen)
{
	static struct ctl_referral ref[2 * CFG_ZONES_MAX];
	static uint8_t zone[2 * CFG_ZONES_MAX][DNS_NAME_MAX];
	uint8_t kind[2 * CFG_ZONES_MAX];
	bool rd[2 * CFG_ZONES_MAX];
	unsigned n = 0;

	_Static_assert(2 * CFG_ZONES_MAX <= CTL_DELEG_CONF_MAX, "the table holds every zone");
	_Static_assert(CFG_ZONE_SERVERS_MAX <= CTL_DELEG_NS_MAX, "a cut holds every server");
	for (int fwd = 0; fwd < 2; fwd++) {
		const struct cfg_zone *zs = fwd ? c->forward : c->stub;
		for (unsigned i = 0; i < (fwd ? c->n_forward : c->n_stub); i++, n++) {
			const struct cfg_zone *z = &zs[i];
			struct ctl_referral *r = &ref[n];
			bool usable = false;
			if (dns_name_from_str(z->name, zone[n]) < 0) {
				snprintf(why, whylen, "%s-zones %s: not a domain name",
					 fwd ? "forward" : "stub", z->name);
				return -1;
			}
			memset(r, 0, sizeof(*r));
			r->zone = zone[n];
			/* one NS entry per server, named after the zone: the
			 * addresses are all there is to know */
			for (unsigned j = 0; j < z->n_servers; j++) {
				struct ctl_deleg_ns *ns = &r->ns[r->nns++];
				memcpy(ns->name, zone[n], dns_name_len(zone[n]));
				ns->naddr = 1;
				ns->addr[0].family = z->servers[j].a.family;
				memcpy(ns->addr[0].a, z->servers[j].a.addr, 16);
				usable |= ctl_iter_may_query(ic, &ns->addr[0]);
			}
			if (!usable) {
				snprintf(why, whylen, "%s-zones %s: every server is excluded: by "
						      "resolver.do-not-query (list it in "
						      "resolver.do-query), or as an address of ours",
					 fwd ? "forward" : "stub", z->name);
				return -1;
			}
			kind[n] = fwd ? CTL_DELEG_FORWARD : CTL_DELEG_STUB;
			rd[n] = fwd && z->rd;
		}
	}
	if (!t)
		return 0; /* checked only */
	if (ctl_deleg_set_configured(t, ref, kind, rd, n, ctl_iter_now())) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

void ctl_iter_config_of(const struct cfg *c, struct ctl_iter_config *ic)
{
	ctl_iter_config_default(ic);
	ic->qname_min = c->resolver.qname_min;
	ic->log_bogus = c->resolver.dnssec.log_bogus;
	ic->max_referrals = c->resolver.limits.max_referrals;
	ic->max_ns_per_referral = c->resolver.limits.max_ns_per_referral;
	ic->max_upstream_queries = c->resolver.limits.max_upstream_queries;
	ic->max_cname_chain = c->resolver.limits.max_cname_chain;
	ic->max_time_ms = c->resolver.limits.max_time_ms;
	ic->edns_buffer = c->resolver.upstream.edns_buffer;
	ic->use_0x20 = c->resolver.upstream.use_0x20;
	ic->cookies = c->resolver.upstream.cookies;
	ic->timeout_ms = c->resolver.upstream.timeout_ms;
	ic->retries = c->resolver.upstream.retries;
	ic->max_rrset = c->resolver.max_rrset_records;
	/* With a dataplane its cache is the client cache, stale entries
	 * included: dplink.c and server.c serve those; ours only holds what
	 * iteration needs. */
	ic->serve_stale = c->cache.stale_enabled && !c->dataplane.enabled;
	ic->stale_client_timeout_ms = c->cache.stale_client_timeout_ms;
	ic->min_ttl = c->cache.min_ttl_s;
	ic->max_ttl = c->cache.max_ttl_s;
	ic->max_negative_ttl = c->cache.max_negative_ttl_s;
	ic->max_zone_share = c->resolver.limits.max_zone_share;
	ic->sibling_glue = c->resolver.sibling_glue;
	ic->failure_ttl = c->cache.failure_ttl_s;
	ic->max_failure_ttl = c->cache.max_failure_ttl_s;
	ic->n_dont_query = c->resolver.n_do_not_query;
	memcpy(ic->dont_query, c->resolver.do_not_query, sizeof(ic->dont_query));
	ic->n_do_query = c->resolver.n_do_query;
	memcpy(ic->do_query, c->resolver.do_query, sizeof(ic->do_query));
	/* ours: never a server to ask (a referral could loop us to ourselves);
	 * a wildcard listen address stands for every address of the host */
	bool wildcard = false;
	for (unsigned i = 0; i < c->n_listen; i++) {
		static const uint8_t zero[16];
		if (!memcmp(c->listen[i].a.addr, zero, c->listen[i].a.family == AF_INET ? 4 : 16))
			wildcard = true;
		else
			ic->own[ic->n_own++] = c->listen[i].a;
	}
	struct ifaddrs *ifa, *p;
	if (wildcard && getifaddrs(&ifa) == 0) {
		for (p = ifa; p && ic->n_own < CTL_ITER_OWN_MAX; p = p->ifa_next) {
			if (!p->ifa_addr || (p->ifa_addr->sa_family != AF_INET &&
					     p->ifa_addr->sa_family != AF_INET6))
				continue;
			struct cfg_addr *a = &ic->own[ic->n_own++];
			memset(a, 0, sizeof(*a));
			a->family = (uint8_t)p->ifa_addr->sa_family;
			if (a->family == AF_INET)
				memcpy(a->addr, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, 4);
			else
				memcpy(a->addr, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
		}
		freeifaddrs(ifa);
	}
	for (unsigned i = 0; i < c->resolver.upstream.n_source && ic->n_own < CTL_ITER_OWN_MAX; i++)
		ic->own[ic->n_own++] = c->resolver.upstream.source[i];
	for (unsigned i = 0; c->dataplane.enabled && i < c->dataplane.n_ports; i++)
		for (unsigned j = 0; j < c->dataplane.ports[i].n_addresses &&
				     ic->n_own < CTL_ITER_OWN_MAX; j++)
			ic->own[ic->n_own++] = c->dataplane.ports[i].addresses[j].a;
}
