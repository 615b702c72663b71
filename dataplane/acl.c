/*
 * dataplane/acl.c: access control for the workers. The configuration's
 * list is first-match; rte_lpm answers longest-match. They agree when only
 * the rules no earlier rule shadows are inserted: prefixes either nest or
 * are disjoint, so if an earlier rule's prefix contains a later one's, the
 * later can never be the first match, and among the rest the longest
 * prefix containing an address is its first match. A /0 rule cannot go in
 * an LPM table (depths 1..32, 1..128): it becomes the default, which is
 * REFUSE when no rule matches. Built by the main thread at start; looked up
 * by workers (read-only tables, no lock).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include "dataplane/dp.h"

static bool contains(const struct cfg_prefix *outer, const struct cfg_prefix *inner)
{
	return outer->a.family == inner->a.family && outer->len <= inner->len &&
	       cfg_prefix_match(outer, inner->a.addr);
}

int dp_acl_build(struct dp *dp, char *err, size_t errlen)
{
	const struct cfg *cfg = dp->cfg;
	struct rte_lpm_config c4 = { .max_rules = CFG_ACL_MAX + 1, .number_tbl8s = 256 };
	struct rte_lpm6_config c6 = { .max_rules = CFG_ACL_MAX + 1, .number_tbl8s = 1 << 14 };

	dp->acl_default[0] = dp->acl_default[1] = CFG_ACL_REFUSE;
	dp->acl4 = rte_lpm_create("bw_acl4", SOCKET_ID_ANY, &c4);
	dp->acl6 = rte_lpm6_create("bw_acl6", SOCKET_ID_ANY, &c6);
	if (!dp->acl4 || !dp->acl6) {
		snprintf(err, errlen, "access-control: cannot create the LPM tables: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned i = 0; i < cfg->n_acl; i++) {
		const struct cfg_acl_rule *r = &cfg->acl[i];
		bool shadowed = false;
		int rc = 0;

		for (unsigned j = 0; j < i && !shadowed; j++)
			shadowed = contains(&cfg->acl[j].prefix, &r->prefix);
		if (shadowed)
			continue;
		bool v6 = r->prefix.a.family == AF_INET6;
		if (r->prefix.len == 0) {
			dp->acl_default[v6] = r->action;
			continue;
		}
		if (v6) {
			rc = rte_lpm6_add(dp->acl6, r->prefix.a.addr, r->prefix.len, r->action);
		} else {
			uint32_t a;
			memcpy(&a, r->prefix.a.addr, 4);
			rc = rte_lpm_add(dp->acl4, rte_be_to_cpu_32(a), r->prefix.len, r->action);
		}
		if (rc < 0) {
			snprintf(err, errlen, "access-control[%u]: cannot add the prefix: %s",
				 i, rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

void dp_acl_free(struct dp *dp)
{
	rte_lpm_free(dp->acl4);
	rte_lpm6_free(dp->acl6);
	dp->acl4 = NULL;
	dp->acl6 = NULL;
}

uint8_t dp_acl_lookup(const struct dp *dp, int family, const uint8_t *addr)
{
	uint32_t hop;

	if (family == DP_PKT_IPV4) {
		uint32_t a;
		memcpy(&a, addr, 4);
		if (rte_lpm_lookup(dp->acl4, rte_be_to_cpu_32(a), &hop) == 0)
			return (uint8_t)hop;
		return dp->acl_default[0];
	}
	if (rte_lpm6_lookup(dp->acl6, addr, &hop) == 0)
		return (uint8_t)hop;
	return dp->acl_default[1];
}
