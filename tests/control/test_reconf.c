/*
 * tests/control/test_reconf.c: what a configuration reload applies
 * (control/reconf.h): run-time groups copied and named, the others named
 * as needing a restart and kept, nothing named when nothing changed, and
 * every key of the example configuration classified (no change of a
 * parsed file falls through the table).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "conf/config.h"
#include "control/reconf.h"

static struct cfg cur, next;
static char applied[1024], restart[1024];

static void parse(struct cfg *c, const char *text)
{
	char err[512];
	cfg_default(c);
	cr_assert_eq(cfg_parse(c, text, strlen(text), "t.yaml", err, sizeof(err)), 0, "%s", err);
}

#define BASE "resolver: { root-hints: /r }\n"

Test(reconf, nothing_changed)
{
	parse(&cur, BASE);
	parse(&next, BASE);
	cr_assert_eq(ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart,
				      sizeof(restart)), 0);
	cr_assert_str_eq(applied, "");
	cr_assert_str_eq(restart, "");
}

Test(reconf, runtime_applied_restart_kept)
{
	parse(&cur, BASE "access-control: [ { prefix: 10.0.0.0/8, action: allow } ]\n"
		    "listen: [ 127.0.0.1 ]\n");
	parse(&next, "resolver: { root-hints: /r, limits: { max-referrals: 7 },"
		     " upstream: { timeout-ms: 300, ports: { range: [ 2000, 3000 ] } } }\n"
		     "access-control: [ { prefix: 10.0.0.0/8, action: drop } ]\n"
		     "listen: [ 127.0.0.2 ]\ncache: { size: 64M, min-ttl: 5 }\n"
		     "tcp: { max-connections: 3 }\n");
	unsigned n = ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart,
				      sizeof(restart));
	cr_assert_gt(n, 0);
	cr_assert_str_eq(applied, "access-control, tcp, resolver.limits, "
				  "resolver.upstream.timeout-ms, cache.min-ttl");
	cr_assert_str_eq(restart, "resolver.upstream.ports, cache.size, listen");
	cr_assert_eq(cur.acl[0].action, CFG_ACL_DROP);
	cr_assert_eq(cur.resolver.limits.max_referrals, 7);
	cr_assert_eq(cur.tcp.max_connections, 3);
	cr_assert_eq(cur.cache.min_ttl_s, 5);
	/* kept */
	cr_assert_eq(cur.listen[0].a.addr[3], 1);
	cr_assert_eq(cur.resolver.upstream.port_min, 1024);
	cr_assert_neq(cur.cache.size_bytes, 64u << 20);
	/* a second merge of the same file: nothing more to apply, the same
	 * restart keys */
	cr_assert_eq(ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart,
				      sizeof(restart)), 0);
	cr_assert_str_eq(restart, "resolver.upstream.ports, cache.size, listen");
}

/* Every key of the operator's example changed at once: each is named,
 * none falls through as unclassified. */
Test(reconf, every_key_classified)
{
	parse(&cur, BASE);
	parse(&next,
	      "resolver:\n  root-hints: /r2\n  trust-anchor: /a\n  qname-minimisation: strict\n"
	      "  validation-time: 2017-08-25T12:00:00Z\n  nsec3-max-iterations: 9\n"
	      "  max-rrset-records: 9\n  cache-size: 2M\n  sibling-glue: false\n  clock-scale: 2\n"
	      "  dnssec: { skew: 9, rsasha1: false, max-verifications: 9, max-failures: 9,"
	      " max-nsec3-hashes: 9, log-bogus: true }\n"
	      "  limits: { max-zone-share: 50 }\n  do-not-query: [ 10.0.0.0/8 ]\n"
	      "  do-query: [ 10.1.0.0/16 ]\n"
	      "  upstream: { edns-buffer: 1400, use-0x20: false, cookies: false,"
	      " timeout-ms: 99, retries: 9, ports: { exclude: [ 5000 ] },"
	      " source-addresses: [ 192.0.2.1 ] }\n"
	      "cache: { size: 2M, min-ttl: 1, max-ttl: 9, max-negative-ttl: 9,"
	      " serve-stale: { enabled: false, max-stale: 9, answer-ttl: 9, client-timeout-ms: 9 },"
	      " prefetch: { enabled: false, threshold-percent: 9 }, failure-ttl: 2,"
	      " max-failure-ttl: 9, aggressive-nsec: true }\n"
	      "access-control: [ { prefix: 10.0.0.0/8, action: drop } ]\n"
	      "listen: [ 127.0.0.9 ]\n"
	      "control: { socket: /s, notify-listen: [ 127.0.0.1@5 ] }\n"
	      "tcp: { idle-timeout-ms: 999 }\n"
	      "tsig-keys: [ { name: k, secret: \"AQ==\" } ]\n"
	      "policy: [ { name: p, primary: 192.0.2.1, key: k } ]\n"
	      "stub-zones: [ { name: s.example, servers: [ 192.0.2.53 ] } ]\n"
	      "forward-zones: [ { name: f.example, servers: [ 192.0.2.54 ],"
	      " recursion-desired: false } ]\n"
	      "dataplane: { ports: [ { device: x, addresses: [ 198.18.0.1/24 ] } ],"
	      " workers: [ 1 ], control-down: drop, miss-overflow: drop, miss-budget: 9 }\n");
	cr_assert(ctl_reconf_policy_changed(&cur, &next));
	ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart, sizeof(restart));
	cr_assert_null(strstr(restart, "classify"), "%s", restart);
	cr_assert(strstr(restart, "resolver.nsec3-max-iterations") && strstr(applied, "policy") &&
		  strstr(applied, "tsig-keys") && strstr(restart, "dataplane") &&
		  strstr(restart, "control.notify-listen") &&
		  strstr(restart, "dataplane.control-down"), "%s", restart);
	cr_assert(strstr(applied, "resolver.dnssec.log-bogus") &&
		  strstr(applied, "resolver.do-query") &&
		  strstr(applied, "cache.serve-stale.client-timeout-ms") &&
		  strstr(applied, "cache.max-ttl") && strstr(applied, "cache.max-negative-ttl") &&
		  strstr(applied, "cache.serve-stale,") && strstr(applied, "cache.prefetch") &&
		  strstr(applied, "cache.failure-ttl") && strstr(applied, "cache.max-failure-ttl") &&
		  strstr(applied, "stub-zones") && strstr(applied, "forward-zones") &&
		  strstr(applied, "resolver.trust-anchor") &&
		  strstr(applied, "resolver.validation-time") &&
		  strstr(applied, "resolver.dnssec.skew") && strstr(applied, "resolver.dnssec.rsasha1") &&
		  strstr(applied, "resolver.dnssec.max-verifications") &&
		  strstr(applied, "resolver.dnssec.max-failures") &&
		  strstr(applied, "resolver.dnssec.max-nsec3-hashes") &&
		  strstr(applied, "dataplane.miss-overflow") &&
		  strstr(applied, "dataplane.miss-budget"),
		  "%s", applied);
	cr_assert_null(strstr(restart, "dataplane.miss"), "%s", restart);
	cr_assert_null(strstr(restart, "resolver.dnssec"), "%s", restart);
	cr_assert_null(strstr(restart, "cache.max-ttl"), "%s", restart);
	cr_assert(ctl_reconf_policy_changed(&cur, &next) == false, "merged: the same list");
	/* after the merge, taking the restart keys too gives the file */
	struct cfg again = cur;
	ctl_reconf_merge(&again, &next, applied, sizeof(applied), restart, sizeof(restart));
	cr_assert_str_eq(applied, "");
}

/* What the workers do with misses control cannot take is published with
 * the settings: a reload applies it; the rest of the section needs a
 * restart. */
Test(reconf, the_miss_budget_and_overflow_apply_at_run_time)
{
#define DP "dataplane: { ports: [ { device: x, addresses: [ 198.18.0.1/24 ] } ], workers: "
	parse(&cur, BASE DP "[ 1 ] }\n");
	parse(&next, BASE DP "[ 1 ], miss-budget: 5000, miss-overflow: drop }\n");
	cr_assert_eq(ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart,
				      sizeof(restart)), 2);
	cr_assert_str_eq(applied, "dataplane.miss-overflow, dataplane.miss-budget");
	cr_assert_str_eq(restart, "");
	cr_assert_eq(cur.dataplane.miss_budget, 5000);
	cr_assert_eq(cur.dataplane.miss_overflow, CFG_OVERFLOW_DROP);
	parse(&next, BASE DP "[ 1, 2 ], miss-budget: 5000, miss-overflow: drop }\n");
	ctl_reconf_merge(&cur, &next, applied, sizeof(applied), restart, sizeof(restart));
	cr_assert_str_eq(applied, "");
	cr_assert_str_eq(restart, "dataplane");
#undef DP
}
