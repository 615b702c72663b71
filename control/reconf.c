/*
 * control/reconf.c: the groups of a configuration and whether each may
 * change at run time (see reconf.h). One table: a group is fields of
 * struct cfg (offset and size), compared and copied as octets (the parser
 * writes every octet of the struct, padding included, so equal settings
 * compare equal). Whatever the table misses is still found: after the
 * restart groups are copied too, the two structs must be equal, else the
 * reply names an unclassified change.
 */
#include "control/reconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"

struct field {
	const char *key;
	size_t off, size;
	bool runtime;
};

#define F(key, member, rt) { key, offsetof(struct cfg, member), sizeof(((struct cfg *)0)->member), rt }

static const struct field fields[] = {
	F("access-control", n_acl, true),
	F("access-control", acl, true),
	F("tcp", tcp, true),
	F("resolver.limits", resolver.limits, true),
	F("resolver.upstream.edns-buffer", resolver.upstream.edns_buffer, true),
	F("resolver.upstream.use-0x20", resolver.upstream.use_0x20, true),
	F("resolver.upstream.cookies", resolver.upstream.cookies, true),
	F("resolver.upstream.timeout-ms", resolver.upstream.timeout_ms, true),
	F("resolver.upstream.retries", resolver.upstream.retries, true),
	F("resolver.max-rrset-records", resolver.max_rrset_records, true),
	F("resolver.do-not-query", resolver.n_do_not_query, true),
	F("resolver.do-not-query", resolver.do_not_query, true),
	F("resolver.do-query", resolver.n_do_query, true),
	F("resolver.do-query", resolver.do_query, true),
	F("resolver.sibling-glue", resolver.sibling_glue, true),
	F("resolver.qname-minimisation", resolver.qname_min, true),
	F("resolver.dnssec.log-bogus", resolver.dnssec.log_bogus, true),
	F("cache.min-ttl", cache.min_ttl_s, true),
	F("cache.max-ttl", cache.max_ttl_s, true),
	F("cache.max-negative-ttl", cache.max_negative_ttl_s, true),
	F("cache.serve-stale", cache.stale_enabled, true),
	F("cache.serve-stale", cache.max_stale_s, true),
	F("cache.serve-stale", cache.stale_answer_ttl_s, true),
	F("cache.serve-stale.client-timeout-ms", cache.stale_client_timeout_ms, true),
	F("cache.prefetch", cache.prefetch_enabled, true),
	F("cache.prefetch", cache.prefetch_threshold_percent, true),
	F("cache.failure-ttl", cache.failure_ttl_s, true),
	F("cache.max-failure-ttl", cache.max_failure_ttl_s, true),
	/* control/policy.c's reconfigure: reload.c applies these two only
	 * once the new list's zones are read */
	F("policy", n_policy, true),
	F("policy", policy, true),
	F("tsig-keys", n_tsig, true),
	F("tsig-keys", tsig, true),
	/* reload.c reads its file again at every reload; what decides a
	 * verdict goes with the anchors (confmap.c's ctl_validation_id()) */
	F("resolver.trust-anchor", resolver.trust_anchor, true),
	F("resolver.validation-time", resolver.has_validation_time, true),
	F("resolver.validation-time", resolver.validation_time, true),
	F("resolver.dnssec.skew", resolver.dnssec.skew_s, true),
	F("resolver.dnssec.rsasha1", resolver.dnssec.rsasha1, true),
	F("resolver.dnssec.max-verifications", resolver.dnssec.max_verifications, true),
	F("resolver.dnssec.max-failures", resolver.dnssec.max_failures, true),
	F("resolver.dnssec.max-nsec3-hashes", resolver.dnssec.max_nsec3_hashes, true),
	F("stub-zones", n_stub, true),
	F("stub-zones", stub, true),
	F("forward-zones", n_forward, true),
	F("forward-zones", forward, true),
	/* published to the workers with the settings (dataplane/settings.c) */
	F("dataplane.miss-overflow", dataplane.miss_overflow, true),
	F("dataplane.miss-budget", dataplane.miss_budget, true),

	F("resolver.root-hints", resolver.root_hints, false),
	F("resolver.clock-scale", resolver.clock_scale, false),
	/* the dataplane's NSEC store was made with it (answer/settings.c) */
	F("resolver.nsec3-max-iterations", resolver.nsec3_max_iterations, false),
	F("resolver.cache-size", resolver.cache_size_bytes, false),
	F("resolver.upstream.ports", resolver.upstream.port_min, false),
	F("resolver.upstream.ports", resolver.upstream.port_max, false),
	F("resolver.upstream.ports", resolver.upstream.n_port_exclude, false),
	F("resolver.upstream.ports", resolver.upstream.port_exclude, false),
	F("resolver.upstream.source-addresses", resolver.upstream.n_source, false),
	F("resolver.upstream.source-addresses", resolver.upstream.source, false),
	F("cache.size", cache.size_bytes, false),
	F("cache.aggressive-nsec", cache.aggressive_nsec, false),
	F("cache.aggressive-nsec", cache.aggressive_nsec_given, false),
	F("listen", n_listen, false),
	F("listen", listen, false),
	F("control.socket", control.socket, false),
	F("control.notify-listen", control.n_notify, false),
	F("control.notify-listen", control.notify, false),
	F("control.socket-mode", control.socket_mode, false),
	F("control.socket-group", control.socket_group, false),
	F("control.user", control.user, false),
	F("control.threads", control.threads, false),
	F("metrics.listen", metrics, false),
	F("dnstap", dnstap, false),
	F("log.level", log.level, true),
	F("log.target", log.target, true),
	F("log.query-sample", log.query_sample, false),
	F("dataplane", dataplane.enabled, false),
	F("dataplane", dataplane.n_eal, false),
	F("dataplane", dataplane.eal, false),
	F("dataplane", dataplane.n_ports, false),
	F("dataplane", dataplane.ports, false),
	F("dataplane", dataplane.n_workers, false),
	F("dataplane", dataplane.workers, false),
	F("dataplane.control-down", dataplane.control_down, false),
};

bool ctl_reconf_policy_changed(const struct cfg *a, const struct cfg *b)
{
	return a->n_policy != b->n_policy || a->n_tsig != b->n_tsig ||
	       memcmp(a->policy, b->policy, sizeof(a->policy)) ||
	       memcmp(a->tsig, b->tsig, sizeof(a->tsig));
}

/* Appends key to the list in buf (once). */
static void name(char *buf, size_t size, const char *key)
{
	size_t len = strlen(buf), kl = strlen(key);

	for (const char *p = buf; (p = strstr(p, key)); p += kl)
		if ((p == buf || p[-1] == ' ') && (p[kl] == ',' || p[kl] == 0))
			return;
	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", key);
}

unsigned ctl_reconf_merge(struct cfg *cur, const struct cfg *next, char *applied,
			  size_t applied_size, char *restart, size_t restart_size)
{
	static struct cfg all; /* cur with every group of next: must be next */
	unsigned n = 0;

	applied[0] = restart[0] = 0;
	memcpy(&all, cur, sizeof(all));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];
		const char *a = (const char *)cur + f->off, *b = (const char *)next + f->off;
		memcpy((char *)&all + f->off, b, f->size);
		if (!memcmp(a, b, f->size))
			continue;
		if (f->runtime) {
			memcpy((char *)cur + f->off, b, f->size);
			name(applied, applied_size, f->key);
			n++;
		} else {
			name(restart, restart_size, f->key);
		}
	}
	if (memcmp(&all, next, sizeof(all)))
		name(restart, restart_size, "(a setting this build does not classify)");
	return n;
}
