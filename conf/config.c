/*
 * conf/config.c: the schema of the configuration: which keys each mapping
 * knows, their bounds, their defaults (cfg_default()) and the checks
 * between keys, one function per section from the top mapping
 * (cfgp_root(), which cfg_parse() in conf/parser.c calls) down, and the
 * public helpers on its values (cfg_port_drawable(), cfg_prefix_match()).
 * How a value is written and how errors read is conf/parser.c's. Control
 * process and dataplane main thread; no I/O.
 *
 * The walk follows the schema, not the tree: it only descends into keys it
 * knows and stops at the first error, and every list it accepts has a
 * bound, so the work is bounded by the schema whatever the file holds, even
 * with aliases that loop.
 */
#include "conf/config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/parser.h"

/* --- sections -------------------------------------------------------- */

static int limits(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "max-referrals", "max-ns-per-referral",
		 "max-upstream-queries", "max-cname-chain", "max-time-ms",
		 "max-zone-share");
	typeof(x->cfg->resolver.limits) *l = &x->cfg->resolver.limits;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_u32(x, v, 1, 255, "a number", &l->max_referrals));
	FIELD(k, 1, cfgp_get_u32(x, v, 1, 64, "a number",
				 &l->max_ns_per_referral));
	FIELD(k, 2, cfgp_get_u32(x, v, 1, 10000, "a number",
				 &l->max_upstream_queries));
	FIELD(k, 3, cfgp_get_u32(x, v, 0, 255, "a number",
				 &l->max_cname_chain));
	FIELD(k, 4, cfgp_get_u32(x, v, 1, 600000, "a number of milliseconds",
				 &l->max_time_ms));
	FIELD(k, 5, cfgp_get_u32(x, v, 1, 100, "a percentage",
				 &l->max_zone_share));
	return 0;
}

/* A list [FIRST, LAST] of two ports, FIRST <= LAST, into out. */
static int two_ports(struct ctx *x, yaml_node_t *n, uint16_t out[2])
{
	uint32_t pp[2];
	size_t count;
	int r = cfgp_list(x, n, 2, "ports", &count);

	if (r)
		return r;
	if (count != 2)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "expected two ports [FIRST, LAST], found %zu",
				 count);
	for (size_t i = 0; i < 2; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_u32(x, cfgp_item(x, n, i), 1, 65535,
				      "a port", &pp[i])))
			return r;
		cfgp_pop(x, saved);
	}
	if (pp[0] > pp[1])
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "the first port (%u) is above the last (%u)",
				 pp[0], pp[1]);
	out[0] = (uint16_t)pp[0];
	out[1] = (uint16_t)pp[1];
	return 0;
}

/* exclude: ports (a number) and ranges ([FIRST, LAST]). */
static int port_exclude(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	size_t count;
	int r = cfgp_list(x, n, CFG_PORT_EXCLUDE_MAX, "ports or ranges",
			  &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);
		yaml_node_t *e = cfgp_item(x, n, i);
		uint16_t *pr = u->port_exclude[i];

		if (e->type == YAML_SEQUENCE_NODE) {
			if ((r = two_ports(x, e, pr)))
				return r;
		} else {
			uint32_t p;
			if ((r = cfgp_get_u32(x, e, 1, 65535,
					      "a port or a range [FIRST, LAST]",
					      &p)))
				return r;
			pr[0] = pr[1] = (uint16_t)p;
		}
		cfgp_pop(x, saved);
	}
	u->n_port_exclude = (unsigned)count;
	return 0;
}

/* The ports of the range that no exclusion takes. */
static uint32_t ports_left(const typeof(((struct cfg *)0)->resolver.upstream) *u)
{
	uint32_t left = 0;

	for (uint32_t p = u->port_min; p <= u->port_max; p++)
		left += cfg_port_drawable(p, u->port_exclude, u->n_port_exclude);
	return left;
}

static int upstream_ports(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "range", "exclude");
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	uint16_t range[2] = { u->port_min, u->port_max };
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, two_ports(x, v, range));
	u->port_min = range[0];
	u->port_max = range[1];
	FIELD(k, 1, port_exclude(x, v));
	if (ports_left(u) == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "no port of %u..%u is left after the "
				 "exclusions", u->port_min, u->port_max);
	return 0;
}

static int source_addresses(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	size_t count;
	int r = cfgp_list(x, n, CFG_SOURCE_MAX, "addresses", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_addr(x, cfgp_item(x, n, i), &u->source[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (memcmp(&u->source[j], &u->source[i],
				   sizeof(u->source[i])) == 0)
				return cfgp_fail(x,
						 cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE,
						 "same address as element %zu",
						 j);
		cfgp_pop(x, saved);
	}
	u->n_source = (unsigned)count;
	return 0;
}

static int upstream(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "edns-buffer", "use-0x20", "cookies", "timeout-ms",
		 "retries", "ports", "source-addresses");
	typeof(x->cfg->resolver.upstream) *u = &x->cfg->resolver.upstream;
	uint32_t edns = u->edns_buffer;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_u32(x, v, 512, 4096, "a number of octets", &edns));
	u->edns_buffer = (uint16_t)edns;
	FIELD(k, 1, cfgp_get_bool(x, v, &u->use_0x20));
	FIELD(k, 2, cfgp_get_bool(x, v, &u->cookies));
	FIELD(k, 3, cfgp_get_u32(x, v, 10, 60000, "a number of milliseconds",
				 &u->timeout_ms));
	FIELD(k, 4, cfgp_get_u32(x, v, 0, 10, "a number", &u->retries));
	FIELD(k, 5, upstream_ports(x, v));
	FIELD(k, 6, source_addresses(x, v));
	return 0;
}

/* A list of prefixes (do-not-query, do-query) into out; its count. */
static int prefix_list(struct ctx *x, yaml_node_t *n, struct cfg_prefix *out,
		       unsigned *nout)
{
	size_t count;
	int r = cfgp_list(x, n, CFG_QUERY_PREFIXES_MAX, "prefixes", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_prefix(x, cfgp_item(x, n, i),
					 CFGP_PREFIX_ACL, &out[i])))
			return r;
		cfgp_pop(x, saved);
	}
	*nout = (unsigned)count;
	return 0;
}

static int dnssec(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "skew", "rsasha1", "max-verifications", "max-failures",
		 "max-nsec3-hashes", "log-bogus");
	typeof(x->cfg->resolver.dnssec) *d = &x->cfg->resolver.dnssec;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_u32(x, v, 0, 86400, "a number of seconds", &d->skew_s));
	FIELD(k, 1, cfgp_get_bool(x, v, &d->rsasha1));
	FIELD(k, 2, cfgp_get_u32(x, v, 1, 1000, "a number", &d->max_verifications));
	FIELD(k, 3, cfgp_get_u32(x, v, 1, 1000, "a number", &d->max_failures));
	FIELD(k, 4, cfgp_get_u32(x, v, 1, 10000, "a number", &d->max_nsec3_hashes));
	FIELD(k, 5, cfgp_get_bool(x, v, &d->log_bogus));
	return 0;
}

static int resolver(struct ctx *x, yaml_node_t *n)
{
	static const char *const qmin[] = { "off", "relaxed", "strict" };
	MAP_WALK(k, "root-hints", "trust-anchor", "qname-minimisation",
		 "validation-time", "nsec3-max-iterations", "max-rrset-records",
		 "limits", "upstream", "do-not-query", "do-query", "sibling-glue",
		 "cache-size", "dnssec", "clock-scale");
	typeof(x->cfg->resolver) *res = &x->cfg->resolver;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_path(x, v, res->root_hints,
				  sizeof(res->root_hints)));
	FIELD(k, 1, cfgp_get_path(x, v, res->trust_anchor,
				  sizeof(res->trust_anchor)));
	FIELD(k, 2, cfgp_get_enum(x, v, qmin, 3, "one of off, relaxed, strict",
				  &res->qname_min));
	FIELD(k, 3, cfgp_get_time(x, v, &res->validation_time));
	res->has_validation_time = k[3] != NULL;
	FIELD(k, 4, cfgp_get_u32(x, v, 0, 2500, "a number",
				 &res->nsec3_max_iterations));
	FIELD(k, 5, cfgp_get_u32(x, v, 1, 65535, "a number",
				 &res->max_rrset_records));
	FIELD(k, 6, limits(x, v));
	FIELD(k, 7, upstream(x, v));
	FIELD(k, 8, prefix_list(x, v, res->do_not_query, &res->n_do_not_query));
	FIELD(k, 9, prefix_list(x, v, res->do_query, &res->n_do_query));
	FIELD(k, 10, cfgp_get_bool(x, v, &res->sibling_glue));
	FIELD(k, 11, cfgp_get_size(x, v, 1ull << 20, 1ull << 40, &res->cache_size_bytes));
	FIELD(k, 12, dnssec(x, v));
	FIELD(k, 13, cfgp_get_u32(x, v, 1, 3600, "a number", &res->clock_scale));
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "root-hints");
	return 0;
}

static int serve_stale(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "enabled", "max-stale", "answer-ttl", "client-timeout-ms");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_bool(x, v, &c->stale_enabled));
	FIELD(k, 1, cfgp_get_u32(x, v, 1, CFG_TTL_MAX_S, "a number of seconds",
				 &c->max_stale_s));
	FIELD(k, 2, cfgp_get_u32(x, v, 1, 86400, "a number of seconds",
				 &c->stale_answer_ttl_s));
	FIELD(k, 3, cfgp_get_u32(x, v, 0, 60000, "a number of milliseconds",
				 &c->stale_client_timeout_ms));
	return 0;
}

static int prefetch(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "enabled", "threshold-percent");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	uint32_t pct = c->prefetch_threshold_percent;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_bool(x, v, &c->prefetch_enabled));
	FIELD(k, 1, cfgp_get_u32(x, v, 0, 100, "a percentage", &pct));
	c->prefetch_threshold_percent = (uint8_t)pct;
	return 0;
}

/*
 * Key lo's value (lov) above key hi's (hiv) in one mapping (k and keys of
 * its walk): the error names the one of the two the file gave, lo first.
 */
static int above(struct ctx *x, yaml_node_t *const *k, const char *const *keys,
		 int lo, int hi, uint32_t lov, uint32_t hiv)
{
	int i = k[lo] ? lo : hi;
	size_t saved = cfgp_push_key(x, (const unsigned char *)keys[i],
				     strlen(keys[i]));
	int r = cfgp_fail(x, k[i]->start_mark, CFG_E_VALUE,
			  "%s (%u) is above %s (%u)", keys[lo], lov, keys[hi],
			  hiv);

	cfgp_pop(x, saved);
	return r;
}

static int cache(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "size", "min-ttl", "max-ttl", "max-negative-ttl",
		 "serve-stale", "prefetch", "failure-ttl", "max-failure-ttl",
		 "aggressive-nsec");
	typeof(x->cfg->cache) *c = &x->cfg->cache;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_size(x, v, 1ull << 20, 1ull << 40,
				  &c->size_bytes));
	FIELD(k, 1, cfgp_get_u32(x, v, 0, CFG_TTL_MAX_S, "a number of seconds",
				 &c->min_ttl_s));
	FIELD(k, 2, cfgp_get_u32(x, v, 1, CFG_TTL_MAX_S, "a number of seconds",
				 &c->max_ttl_s));
	FIELD(k, 3, cfgp_get_u32(x, v, 0, CFG_TTL_MAX_S, "a number of seconds",
				 &c->max_negative_ttl_s));
	FIELD(k, 4, serve_stale(x, v));
	FIELD(k, 5, prefetch(x, v));
	FIELD(k, 6, cfgp_get_u32(x, v, 1, 30, "a number of seconds",
				 &c->failure_ttl_s));
	FIELD(k, 7, cfgp_get_u32(x, v, 1, 300, "a number of seconds",
				 &c->max_failure_ttl_s));
	FIELD(k, 8, cfgp_get_bool(x, v, &c->aggressive_nsec));
	if (k[8]) {
		c->aggressive_nsec_given = true;
		/* (the resolver section, read first, says) */
		if (c->aggressive_nsec && !x->cfg->resolver.trust_anchor[0]) {
			size_t saved = cfgp_push_key(x, (const unsigned char *)"aggressive-nsec", 15);
			r = cfgp_fail(x, k[8]->start_mark, CFG_E_VALUE,
				      "true needs resolver.trust-anchor (only validated "
				      "NSEC/NSEC3 records may answer)");
			cfgp_pop(x, saved);
			return r;
		}
	}
	if (c->min_ttl_s > c->max_ttl_s)
		return above(x, k, k_keys, 1, 2, c->min_ttl_s, c->max_ttl_s);
	if (c->failure_ttl_s > c->max_failure_ttl_s)
		return above(x, k, k_keys, 6, 7, c->failure_ttl_s, c->max_failure_ttl_s);
	return 0;
}

static int tcp(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "max-connections", "max-per-client", "idle-timeout-ms");
	typeof(x->cfg->tcp) *t = &x->cfg->tcp;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_u32(x, v, 1, 65536, "a number",
				 &t->max_connections));
	FIELD(k, 1, cfgp_get_u32(x, v, 1, 65536, "a number",
				 &t->max_per_client));
	FIELD(k, 2, cfgp_get_u32(x, v, 100, 600000, "a number of milliseconds",
				 &t->idle_timeout_ms));
	return 0;
}

static int acl_rule(struct ctx *x, yaml_node_t *n, struct cfg_acl_rule *rule)
{
	static const char *const actions[] = { "allow", "refuse", "drop" };
	MAP_WALK(k, "prefix", "action");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_prefix(x, v, CFGP_PREFIX_ACL, &rule->prefix));
	FIELD(k, 1, cfgp_get_enum(x, v, actions, 3,
				  "one of allow, refuse, drop", &rule->action));
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "prefix");
	if (!k[1])
		return cfgp_missing(x, n->start_mark, "action");
	return 0;
}

static int access_control(struct ctx *x, yaml_node_t *n)
{
	size_t count;
	int r = cfgp_list(x, n, CFG_ACL_MAX, "rules", &count);

	if (r)
		return r;
	memset(x->cfg->acl, 0, sizeof(x->cfg->acl));
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = acl_rule(x, cfgp_item(x, n, i), &x->cfg->acl[i])))
			return r;
		cfgp_pop(x, saved);
	}
	x->cfg->n_acl = (unsigned)count;
	return 0;
}

/* A domain name in text: labels of 1..63 octets of letters, digits, '-'
 * and '_' (a policy zone's origin, a CNAME target), the final dot
 * optional; at most 253 octets. Copied without the final dot. */
static int dname(struct ctx *x, yaml_node_t *n, char *dst)
{
	char s[CFG_DNAME_MAX + 1];
	int r = cfgp_get_string(x, n, s, sizeof(s), "a domain name");
	size_t len, label = 0;

	if (r)
		return r;
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[--len] = 0;
	if (len >= CFG_DNAME_MAX || (len == 1 && s[0] == '.'))
		goto bad;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == 0) {
			if (label == 0 || label > 63)
				goto bad;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || (c == '*' && i == 0 && s[1] == '.')))
			goto bad;
		label++;
	}
	memcpy(dst, s, len + 1);
	return 0;
bad:
	return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
			 "%s is not a domain name (labels of 1..63 letters, digits, "
			 "'-' or '_', at most 253 octets)", cfgp_show(x, n));
}

/* A TSIG key's name in policy[].key: the index of the tsig-keys element
 * (read before the policy list, wherever the file has it). */
static int key_ref(struct ctx *x, yaml_node_t *n, int8_t *key)
{
	char s[CFG_DNAME_MAX];
	int r = dname(x, n, s);

	if (r)
		return r;
	for (unsigned i = 0; i < x->cfg->n_tsig; i++)
		if (!strcasecmp(x->cfg->tsig[i].name, s)) {
			*key = (int8_t)i;
			return 0;
		}
	return cfgp_fail(x, n->start_mark, CFG_E_VALUE, "no element of tsig-keys is named %s", s);
}

/* Strict base64 (RFC 4648 4, padding required, no line breaks): the
 * number of octets, or -1. */
static int base64_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s), n = 0;

	if (len == 0 || len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			char c = s[i + j];
			int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
				: c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62
				: c == '/' ? 63 : -1;
			if (c == '=' && i + 4 == len && j >= 2 && (j == 3 || s[i + 3] == '=')) {
				pad++;
				d = 0;
			} else if (d < 0 || pad) {
				return -1;
			}
			v = v << 6 | (uint32_t)d;
		}
		if (n + 3u - (size_t)pad > cap)
			return -1;
		out[n++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)v;
	}
	return (int)n;
}

static int tsig_key(struct ctx *x, yaml_node_t *n, struct cfg_tsig *t)
{
	static const char *const algs[] = { "hmac-sha256", "hmac-sha1", "hmac-sha224",
					    "hmac-sha384", "hmac-sha512" };
	MAP_WALK(k, "name", "algorithm", "secret");
	char s[4 * CFG_TSIG_SECRET_MAX / 3 + 8];
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, dname(x, v, t->name));
	FIELD(k, 1, cfgp_get_enum(x, v, algs, 5, "one of hmac-sha256, hmac-sha1, hmac-sha224, "
				  "hmac-sha384, hmac-sha512", &t->alg));
	if (k[2]) {
		size_t saved = cfgp_push_key(x, (const unsigned char *)"secret", 6);
		if ((r = cfgp_get_string(x, k[2], s, sizeof(s), "base64")))
			return r;
		int len = base64_decode(s, t->secret, sizeof(t->secret));
		if (len <= 0)
			return cfgp_fail(x, k[2]->start_mark, CFG_E_VALUE,
					 "is not base64 of 1..%u octets", CFG_TSIG_SECRET_MAX);
		t->secret_len = (uint8_t)len;
		cfgp_pop(x, saved);
	}
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "name");
	if (!k[2])
		return cfgp_missing(x, n->start_mark, "secret");
	return 0;
}

static int tsig_list(struct ctx *x, yaml_node_t *n)
{
	struct cfg_tsig *t = x->cfg->tsig;
	size_t count;
	int r = cfgp_list(x, n, CFG_TSIG_MAX, "keys", &count);

	if (r)
		return r;
	memset(t, 0, sizeof(x->cfg->tsig));
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = tsig_key(x, cfgp_item(x, n, i), &t[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(t[j].name, t[i].name))
				return cfgp_fail(x, cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE, "key %s is element %zu too",
						 t[i].name, j);
		cfgp_pop(x, saved);
	}
	x->cfg->n_tsig = (unsigned)count;
	return 0;
}

static int policy_zone(struct ctx *x, yaml_node_t *n, struct cfg_policy *p)
{
	static const char *const overrides[] = { "given", "nxdomain", "nodata", "passthru",
						 "drop", "tcp-only", "cname" };
	static const char *const edes[] = { "blocked", "censored", "filtered", "none" };
	static const uint16_t ede_codes[] = { 15, 16, 17, CFG_EDE_NONE };
	MAP_WALK(k, "name", "file", "policy", "cname", "max-ttl", "log", "ede", "primary", "key");
	uint8_t e = 0;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	p->key = -1;
	FIELD(k, 0, dname(x, v, p->name));
	FIELD(k, 1, cfgp_get_path(x, v, p->file, sizeof(p->file)));
	FIELD(k, 2, cfgp_get_enum(x, v, overrides, 7,
				  "one of given, nxdomain, nodata, passthru, drop, tcp-only, cname",
				  &p->override));
	FIELD(k, 3, dname(x, v, p->cname));
	FIELD(k, 4, cfgp_get_u32(x, v, 0, CFG_TTL_MAX_S, "a number of seconds", &p->max_ttl_s));
	FIELD(k, 5, cfgp_get_bool(x, v, &p->log));
	FIELD(k, 6, cfgp_get_enum(x, v, edes, 4, "one of blocked, censored, filtered, none", &e));
	if (k[6])
		p->ede = ede_codes[e];
	FIELD(k, 7, cfgp_get_endpoint(x, v, &p->primary));
	p->has_primary = k[7] != NULL;
	FIELD(k, 8, key_ref(x, v, &p->key));
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "name");
	if (!k[1] && !k[7])
		return cfgp_missing(x, n->start_mark, "file (or primary)");
	if (k[8] && !k[7]) {
		cfgp_push_key(x, (const unsigned char *)"key", 3);
		return cfgp_fail(x, k[8]->start_mark, CFG_E_VALUE, "is for a zone with a primary");
	}
	if (p->override == CFG_POLICY_CNAME && !k[3])
		return cfgp_missing(x, n->start_mark, "cname");
	if (k[3] && p->override != CFG_POLICY_CNAME) {
		cfgp_push_key(x, (const unsigned char *)"cname", 5);
		return cfgp_fail(x, k[3]->start_mark, CFG_E_VALUE,
				 "is for policy: cname only");
	}
	return 0;
}

static bool same_dname(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static int policy_list(struct ctx *x, yaml_node_t *n)
{
	struct cfg_policy *p = x->cfg->policy;
	size_t count;
	int r = cfgp_list(x, n, CFG_POLICY_MAX, "zones", &count);

	if (r)
		return r;
	memset(p, 0, sizeof(x->cfg->policy));
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		p[i].ede = 15;
		p[i].max_ttl_s = 3600;
		if ((r = policy_zone(x, cfgp_item(x, n, i), &p[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (same_dname(p[j].name, p[i].name))
				return cfgp_fail(x, cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE, "zone %s is element %zu too",
						 p[i].name, j);
		cfgp_pop(x, saved);
	}
	x->cfg->n_policy = (unsigned)count;
	return 0;
}

/* A stub or forward zone. */
static int routed_zone(struct ctx *x, yaml_node_t *n, struct cfg_zone *z, bool forward)
{
	MAP_WALK(k, "name", "servers", "recursion-desired");
	size_t count = 0;
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	z->rd = true;
	FIELD(k, 0, dname(x, v, z->name));
	FIELD(k, 1, cfgp_endpoints(x, v, z->servers, CFG_ZONE_SERVERS_MAX, &count));
	if (k[2] && !forward) {
		cfgp_push_key(x, (const unsigned char *)"recursion-desired", 17);
		return cfgp_fail(x, k[2]->start_mark, CFG_E_VALUE, "is for forward-zones only");
	}
	FIELD(k, 2, cfgp_get_bool(x, v, &z->rd));
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "name");
	if (!k[1])
		return cfgp_missing(x, n->start_mark, "servers");
	/* (the root is no domain name to dname(): resolver.root-hints say
	 * where iteration starts; forwarding every name is not built) */
	if (z->name[0] == '*') {
		cfgp_push_key(x, (const unsigned char *)"name", 4);
		return cfgp_fail(x, k[0]->start_mark, CFG_E_VALUE,
				 "%s is a wildcard: give the zone's own name", cfgp_show(x, k[0]));
	}
	if (!count) {
		cfgp_push_key(x, (const unsigned char *)"servers", 7);
		return cfgp_fail(x, k[1]->start_mark, CFG_E_VALUE,
				 "is empty: give at least one address");
	}
	for (size_t i = 0; i < count; i++)
		if (z->servers[i].port != 53) {
			cfgp_push_key(x, (const unsigned char *)"servers", 7);
			cfgp_push_index(x, i);
			return cfgp_fail(x, cfgp_item(x, k[1], i)->start_mark, CFG_E_VALUE,
					 "port %u: servers are asked on port 53 only",
					 (unsigned)z->servers[i].port);
		}
	z->n_servers = (unsigned)count;
	return 0;
}

static int routed_list(struct ctx *x, yaml_node_t *n, bool forward)
{
	struct cfg_zone *z = forward ? x->cfg->forward : x->cfg->stub;
	unsigned *nz = forward ? &x->cfg->n_forward : &x->cfg->n_stub;
	size_t count;
	int r = cfgp_list(x, n, CFG_ZONES_MAX, "zones", &count);

	if (r)
		return r;
	memset(z, 0, CFG_ZONES_MAX * sizeof(*z));
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);
		if ((r = routed_zone(x, cfgp_item(x, n, i), &z[i], forward)))
			return r;
		for (size_t j = 0; j < i; j++)
			if (same_dname(z[j].name, z[i].name))
				return cfgp_fail(x, cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE, "zone %s is element %zu too",
						 z[i].name, j);
		/* forward-zones are read after stub-zones */
		for (unsigned j = 0; forward && j < x->cfg->n_stub; j++)
			if (same_dname(x->cfg->stub[j].name, z[i].name))
				return cfgp_fail(x, cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE, "zone %s is stub-zones element %u "
						 "too", z[i].name, j);
		cfgp_pop(x, saved);
	}
	*nz = (unsigned)count;
	return 0;
}

/* A list of ADDR@PORT, each once (listen, control.notify-listen, a stub
 * or forward zone's servers): see parser.h. */
int cfgp_endpoints(struct ctx *x, yaml_node_t *n, struct cfg_endpoint *e, size_t max,
		   size_t *count)
{
	int r = cfgp_list(x, n, max, "addresses", count);

	if (r)
		return r;
	memset(e, 0, max * sizeof(*e));
	for (size_t i = 0; i < *count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_endpoint(x, cfgp_item(x, n, i), &e[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (memcmp(&e[j], &e[i], sizeof(e[i])) == 0)
				return cfgp_fail(x, cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE,
						 "same address and port as element %zu", j);
		cfgp_pop(x, saved);
	}
	return 0;
}

static int listen_list(struct ctx *x, yaml_node_t *n)
{
	size_t count;
	int r = cfgp_endpoints(x, n, x->cfg->listen, CFG_LISTEN_MAX, &count);

	if (r)
		return r;
	if (count == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "is empty: give at least one address");
	x->cfg->n_listen = (unsigned)count;
	return 0;
}


static int eal(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = cfgp_list(x, n, CFG_EAL_ARGS_MAX, "arguments", &count);

	if (r)
		return r;
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_string(x, cfgp_item(x, n, i), dp->eal[i],
					 sizeof(dp->eal[i]), "a string")))
			return r;
		cfgp_pop(x, saved);
	}
	dp->n_eal = (unsigned)count;
	return 0;
}

static int port_addresses(struct ctx *x, yaml_node_t *n, struct cfg_port *p)
{
	size_t count;
	int r = cfgp_list(x, n, CFG_PORT_ADDRS_MAX, "addresses", &count);

	if (r)
		return r;
	if (count == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "is empty: give at least one address");
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		if ((r = cfgp_get_prefix(x, cfgp_item(x, n, i),
					 CFGP_PREFIX_IFACE, &p->addresses[i])))
			return r;
		cfgp_pop(x, saved);
	}
	p->n_addresses = (unsigned)count;
	return 0;
}

static int port(struct ctx *x, yaml_node_t *n, struct cfg_port *p)
{
	MAP_WALK(k, "device", "addresses", "exception");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, cfgp_get_string(x, v, p->device, sizeof(p->device),
				    "a device name"));
	FIELD(k, 1, port_addresses(x, v, p));
	FIELD(k, 2, cfgp_get_string(x, v, p->exception, sizeof(p->exception),
				    "an interface name (at most 15 octets)"));
	if (k[2] && !p->exception[0])
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "exception: is empty: give an interface name");
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "device");
	if (!k[1])
		return cfgp_missing(x, n->start_mark, "addresses");
	return 0;
}

static int ports(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = cfgp_list(x, n, CFG_PORTS_MAX, "ports", &count);

	if (r)
		return r;
	if (count == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "is empty: give at least one port");
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);

		snprintf(dp->ports[i].exception, sizeof(dp->ports[i].exception),
			 "bwexc%u", (unsigned)(i % CFG_PORTS_MAX));
		if ((r = port(x, cfgp_item(x, n, i), &dp->ports[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(dp->ports[j].exception, dp->ports[i].exception))
				return cfgp_fail(x,
						 cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE,
						 "exception interface %s is "
						 "already element %zu's",
						 dp->ports[i].exception, j);
		cfgp_pop(x, saved);
	}
	dp->n_ports = (unsigned)count;
	return 0;
}

static int workers(struct ctx *x, yaml_node_t *n)
{
	typeof(x->cfg->dataplane) *dp = &x->cfg->dataplane;
	size_t count;
	int r = cfgp_list(x, n, CFG_WORKERS_MAX, "workers", &count);

	if (r)
		return r;
	if (count == 0)
		return cfgp_fail(x, n->start_mark, CFG_E_VALUE,
				 "is empty: give at least one lcore");
	for (size_t i = 0; i < count; i++) {
		size_t saved = cfgp_push_index(x, i);
		uint32_t id;

		if ((r = cfgp_get_u32(x, cfgp_item(x, n, i), 0, CFG_LCORE_MAX,
				      "an lcore id", &id)))
			return r;
		for (size_t j = 0; j < i; j++)
			if (dp->workers[j] == id)
				return cfgp_fail(x,
						 cfgp_item(x, n, i)->start_mark,
						 CFG_E_DUPLICATE,
						 "lcore %u is already element "
						 "%zu", id, j);
		dp->workers[i] = (uint16_t)id;
		cfgp_pop(x, saved);
	}
	dp->n_workers = (unsigned)count;
	return 0;
}

static int dataplane(struct ctx *x, yaml_node_t *n)
{
	static const char *const down[] = { "servfail", "drop" };
	MAP_WALK(k, "eal", "ports", "workers", "control-down", "miss-overflow", "miss-budget");
	int r = cfgp_walk_map(x, n, &k_walk);

	if (r)
		return r;
	FIELD(k, 0, eal(x, v));
	FIELD(k, 1, ports(x, v));
	FIELD(k, 2, workers(x, v));
	FIELD(k, 3, cfgp_get_enum(x, v, down, 2, "one of servfail, drop",
				  &x->cfg->dataplane.control_down));
	FIELD(k, 4, cfgp_get_enum(x, v, down, 2, "one of servfail, drop",
				  &x->cfg->dataplane.miss_overflow));
	FIELD(k, 5, cfgp_get_u32(x, v, 0, CFG_MISS_BUDGET_MAX, "a number of misses a second",
				 &x->cfg->dataplane.miss_budget));
	if (!k[1])
		return cfgp_missing(x, n->start_mark, "ports");
	if (!k[2])
		return cfgp_missing(x, n->start_mark, "workers");
	x->cfg->dataplane.enabled = true;
	return 0;
}

/* The top mapping: the sections, each optional but resolver. */
int cfgp_root(struct ctx *x, yaml_node_t *n)
{
	MAP_WALK(k, "resolver", "cache", "access-control", "listen", "control",
		 "dataplane", "tcp", "policy", "tsig-keys", "stub-zones", "forward-zones",
		 "metrics", "dnstap", "log");
	static const yaml_mark_t start;
	int r;

	/* An empty stream has no node: every section takes its defaults. */
	if (!n)
		return cfgp_missing(x, start, "resolver.root-hints");
	if (n->type != YAML_MAPPING_NODE)
		return cfgp_fail(x, n->start_mark, CFG_E_TYPE,
				 "the configuration must be a mapping of "
				 "sections, found %s", cfgp_kind(n));
	if ((r = cfgp_walk_map(x, n, &k_walk)))
		return r;
	FIELD(k, 0, resolver(x, v));
	FIELD(k, 1, cache(x, v));
	FIELD(k, 2, access_control(x, v));
	FIELD(k, 3, listen_list(x, v));
	FIELD(k, 4, cfgp_control(x, v));
	FIELD(k, 5, dataplane(x, v));
	FIELD(k, 6, tcp(x, v));
	FIELD(k, 8, tsig_list(x, v)); /* before policy: its zones name the keys */
	FIELD(k, 7, policy_list(x, v));
	FIELD(k, 9, routed_list(x, v, false));
	FIELD(k, 10, routed_list(x, v, true)); /* after stub-zones: a name once */
	FIELD(k, 11, cfgp_metrics(x, v));
	FIELD(k, 12, cfgp_dnstap(x, v));
	FIELD(k, 13, cfgp_log(x, v));
	if (!k[0])
		return cfgp_missing(x, n->start_mark, "resolver.root-hints");
	if (x->cfg->control.user[0] && x->cfg->dataplane.enabled)
		return cfgp_fail(x, k[4]->start_mark, CFG_E_VALUE,
				 "control.user: only a standalone control gives up root (with a "
				 "dataplane it maps the dataplane's hugepage files, which are "
				 "root's): leave it out or the dataplane section");
	if (x->cfg->control.user[0] && x->cfg->resolver.upstream.port_min < 1024)
		return cfgp_fail(x, k[4]->start_mark, CFG_E_VALUE,
				 "control.user: the source ports from %u are below 1024, which "
				 "only root may bind: start resolver.upstream.ports.range at 1024",
				 (unsigned)x->cfg->resolver.upstream.port_min);
	if (!x->cfg->cache.aggressive_nsec_given)
		x->cfg->cache.aggressive_nsec = x->cfg->resolver.trust_anchor[0] != 0;
	return 0;
}

/* --- defaults and helpers -------------------------------------------- */

unsigned cfg_endpoint_sockaddr(const struct cfg_endpoint *e, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(e->port);
		memcpy(&sin->sin_addr, e->a.addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(e->port);
	memcpy(&sin6->sin6_addr, e->a.addr, 16);
	return sizeof(*sin6);
}

void cfg_default(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->resolver.qname_min = CFG_QMIN_RELAXED;
	cfg->resolver.nsec3_max_iterations = 100;
	cfg->resolver.clock_scale = 1;
	cfg->resolver.dnssec.skew_s = 3600;
	cfg->resolver.dnssec.rsasha1 = true;
	cfg->resolver.dnssec.max_verifications = 32;
	cfg->resolver.dnssec.max_failures = 8;
	cfg->resolver.dnssec.max_nsec3_hashes = 64;
	cfg->resolver.max_rrset_records = 100;
	cfg->resolver.limits.max_referrals = 30;
	cfg->resolver.limits.max_ns_per_referral = 6;
	cfg->resolver.limits.max_upstream_queries = 100;
	cfg->resolver.limits.max_cname_chain = 11;
	cfg->resolver.limits.max_time_ms = 10000;
	cfg->resolver.limits.max_zone_share = 10;
	cfg->resolver.sibling_glue = true;
	cfg->resolver.cache_size_bytes = 64ull << 20;
	/* PowerDNS's dont-query: loopback, RFC 1918, shared, link-local,
	 * documentation, ULA (RFC 6890 special-purpose blocks) */
	static const char *const dnq[] = {
		"127.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
		"172.16.0.0/12", "192.168.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
		"198.51.100.0/24", "203.0.113.0/24", "::1/128", "fc00::/7", "fe80::/10",
		"2001:db8::/32",
	};
	for (unsigned i = 0; i < sizeof(dnq) / sizeof(dnq[0]); i++) {
		struct cfg_prefix *p = &cfg->resolver.do_not_query[i];
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", dnq[i]);
		char *slash = strchr(buf, '/');
		*slash = '\0';
		cfgp_parse_ip(buf, &p->a);
		p->len = (uint8_t)atoi(slash + 1);
	}
	cfg->resolver.n_do_not_query = sizeof(dnq) / sizeof(dnq[0]);
	cfg->resolver.upstream.edns_buffer = 1232;
	cfg->resolver.upstream.use_0x20 = true;
	cfg->resolver.upstream.cookies = true;
	cfg->resolver.upstream.timeout_ms = 800;
	cfg->resolver.upstream.retries = 2;
	cfg->resolver.upstream.port_min = 1024;
	cfg->resolver.upstream.port_max = 65535;
	cfg->cache.size_bytes = 1ull << 30;
	cfg->cache.min_ttl_s = 0;
	cfg->cache.max_ttl_s = 86400;
	cfg->cache.max_negative_ttl_s = 3600;
	cfg->cache.stale_enabled = true;
	cfg->cache.max_stale_s = 86400;
	cfg->cache.stale_answer_ttl_s = 30;
	cfg->cache.stale_client_timeout_ms = 1800;
	cfg->cache.prefetch_enabled = true;
	cfg->cache.prefetch_threshold_percent = 10;
	cfg->tcp.max_connections = 256;
	cfg->tcp.max_per_client = 8;
	cfg->tcp.idle_timeout_ms = 10000;
	cfg->cache.failure_ttl_s = 5;
	cfg->cache.max_failure_ttl_s = 30;
	cfg->n_acl = 2;
	cfg->acl[0].prefix.a.family = AF_INET;
	cfg->acl[0].prefix.a.addr[0] = 127;
	cfg->acl[0].prefix.len = 8;
	cfg->acl[0].action = CFG_ACL_ALLOW;
	cfg->acl[1].prefix.a.family = AF_INET6;
	cfg->acl[1].prefix.a.addr[15] = 1;
	cfg->acl[1].prefix.len = 128;
	cfg->acl[1].action = CFG_ACL_ALLOW;
	cfg->n_listen = 2;
	cfg->listen[0].a.family = AF_INET;
	memcpy(cfg->listen[0].a.addr, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
	cfg->listen[0].port = 53;
	cfg->listen[1].a.family = AF_INET6;
	cfg->listen[1].a.addr[15] = 1;
	cfg->listen[1].port = 53;
	snprintf(cfg->control.socket, sizeof(cfg->control.socket), "%s",
		 "/run/bailiwick/control.sock");
	cfg->control.socket_mode = 0660;
	cfg->dnstap.sample = 1;
	cfg->dnstap.client_queries = true;
	cfg->dnstap.client_responses = true;
	cfg->dnstap.resolver_queries = true;
	cfg->dnstap.resolver_responses = true;
	cfg->log.level = CFG_LOG_INFO;
}

bool cfg_port_drawable(uint32_t port, const uint16_t (*exclude)[2], unsigned n)
{
	if (port == 53)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (port >= exclude[i][0] && port <= exclude[i][1])
			return false;
	return true;
}

bool cfg_prefix_match(const struct cfg_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->a.addr, addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((p->a.addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}
