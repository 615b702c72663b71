/*
 * tests/conf/test_config.c: the configuration file: the operator's example
 * (the one the design states, every key of the contract) read back value
 * for value, defaults, flow and block style alike, and every class of
 * error with the exact FILE:LINE:COLUMN and key path the operator sees;
 * value syntax (numbers, booleans, sizes, prefixes, listen addresses,
 * times). The access-control engine and the cache mapping are answer/'s
 * (tests/answer/).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "tests/conf/addr.h"

static struct cfg c;
static char err[512];

#define MIN "resolver: { root-hints: /etc/bailiwick/root.hints }\n"

static int parse(const char *text)
{
	return cfg_parse(&c, text, strlen(text), "bailiwick.yaml", err,
			 sizeof(err));
}

/* The text must parse; shows the message when it does not. */
#define ok(text)                                                               \
	do {                                                                   \
		int r_ = parse(text);                                          \
		cr_assert_eq(r_, 0, "expected success, got %d: %s", r_, err); \
	} while (0)

/* The text must fail with this code and exactly this message. */
#define bad(text, code, msg)                                                   \
	do {                                                                   \
		int r_ = parse(text);                                          \
		cr_assert_eq(r_, code, "expected %s, got %d: %s", #code, r_,  \
			     err);                                             \
		cr_assert_str_eq(err, msg);                                    \
	} while (0)

static const char design_example[] =
	"resolver:\n"
	"  root-hints: /etc/bailiwick/root.hints     # named.root format\n"
	"  trust-anchor: /etc/bailiwick/root.key     # DS/DNSKEY records; absent: no validation\n"
	"  qname-minimisation: relaxed               # off | relaxed | strict\n"
	"  limits: { max-referrals: 30, max-ns-per-referral: 6, max-upstream-queries: 100,\n"
	"            max-cname-chain: 11, max-time-ms: 10000 }\n"
	"  upstream: { edns-buffer: 1232, use-0x20: true, cookies: true,\n"
	"              ports: { range: [1024, 65535], exclude: [] } }\n"
	"cache:\n"
	"  size: 1G\n"
	"  min-ttl: 0\n"
	"  max-ttl: 86400\n"
	"  max-negative-ttl: 3600\n"
	"  serve-stale: { enabled: true, max-stale: 86400, answer-ttl: 30, client-timeout-ms: 1800 }\n"
	"  prefetch: { enabled: true, threshold-percent: 10 }\n"
	"access-control:                             # first match wins\n"
	"  - { prefix: 127.0.0.0/8, action: allow }\n"
	"  - { prefix: 0.0.0.0/0, action: refuse }   # allow | refuse | drop\n"
	"listen: [ \"127.0.0.1@53\" ]                  # control's kernel sockets: UDP+TCP when standalone,\n"
	"                                            # TCP only when a dataplane is configured\n"
	"control:\n"
	"  socket: /run/bailiwick/control.sock\n"
	"dataplane:                                  # absent: control runs standalone\n"
	"  eal: [ \"--file-prefix=bailiwick\", \"-l\", \"0-1\" ]\n"
	"  ports:\n"
	"    - { device: \"net_tap0,iface=bw0\", addresses: [ \"198.18.0.1/24\" ] }\n"
	"  workers: [ 1 ]\n";


static void assert_prefix(const struct cfg_prefix *p, int family,
			  const char *addr, unsigned len)
{
	struct cfg_addr want;

	if (family == AF_INET)
		v4(&want, addr);
	else
		v6(&want, addr);
	cr_assert_eq(p->a.family, family);
	cr_assert_arr_eq(p->a.addr, want.addr, 16, "address %s", addr);
	cr_assert_eq(p->len, len);
}

static void assert_endpoint(const struct cfg_endpoint *e, int family,
			    const char *addr, unsigned port)
{
	struct cfg_addr want;

	if (family == AF_INET)
		v4(&want, addr);
	else
		v6(&want, addr);
	cr_assert_eq(e->a.family, family);
	cr_assert_arr_eq(e->a.addr, want.addr, 16, "address %s", addr);
	cr_assert_eq(e->port, port);
}

/* --- whole files ----------------------------------------------------- */

Test(config, design_example_parses_to_its_values)
{
	ok(design_example);
	cr_assert_str_eq(c.resolver.root_hints, "/etc/bailiwick/root.hints");
	cr_assert_str_eq(c.resolver.trust_anchor, "/etc/bailiwick/root.key");
	cr_assert_eq(c.resolver.qname_min, CFG_QMIN_RELAXED);
	cr_assert_eq(c.resolver.limits.max_referrals, 30);
	cr_assert_eq(c.resolver.limits.max_ns_per_referral, 6);
	cr_assert_eq(c.resolver.limits.max_upstream_queries, 100);
	cr_assert_eq(c.resolver.limits.max_cname_chain, 11);
	cr_assert_eq(c.resolver.limits.max_time_ms, 10000);
	cr_assert_eq(c.resolver.upstream.edns_buffer, 1232);
	cr_assert(c.resolver.upstream.use_0x20);
	cr_assert(c.resolver.upstream.cookies);
	cr_assert_eq(c.resolver.upstream.n_port_exclude, 0);
	cr_assert_eq(c.resolver.upstream.port_min, 1024);
	cr_assert_eq(c.resolver.upstream.port_max, 65535);
	cr_assert_eq(c.cache.size_bytes, 1ull << 30);
	cr_assert_eq(c.cache.min_ttl_s, 0);
	cr_assert_eq(c.cache.max_ttl_s, 86400);
	cr_assert_eq(c.cache.max_negative_ttl_s, 3600);
	cr_assert(c.cache.stale_enabled);
	cr_assert_eq(c.cache.max_stale_s, 86400);
	cr_assert_eq(c.cache.stale_answer_ttl_s, 30);
	cr_assert_eq(c.cache.stale_client_timeout_ms, 1800);
	cr_assert(c.cache.prefetch_enabled);
	cr_assert_eq(c.cache.prefetch_threshold_percent, 10);
	cr_assert_eq(c.cache.failure_ttl_s, 5);
	cr_assert_eq(c.cache.max_failure_ttl_s, 30);
	cr_assert_eq(c.resolver.limits.max_zone_share, 10);
	cr_assert_eq(c.n_acl, 2);
	assert_prefix(&c.acl[0].prefix, AF_INET, "127.0.0.0", 8);
	cr_assert_eq(c.acl[0].action, CFG_ACL_ALLOW);
	assert_prefix(&c.acl[1].prefix, AF_INET, "0.0.0.0", 0);
	cr_assert_eq(c.acl[1].action, CFG_ACL_REFUSE);
	cr_assert_eq(c.n_listen, 1);
	assert_endpoint(&c.listen[0], AF_INET, "127.0.0.1", 53);
	cr_assert_str_eq(c.control.socket, "/run/bailiwick/control.sock");
	cr_assert(c.dataplane.enabled);
	cr_assert_eq(c.dataplane.n_eal, 3);
	cr_assert_str_eq(c.dataplane.eal[0], "--file-prefix=bailiwick");
	cr_assert_str_eq(c.dataplane.eal[1], "-l");
	cr_assert_str_eq(c.dataplane.eal[2], "0-1");
	cr_assert_eq(c.dataplane.n_ports, 1);
	cr_assert_str_eq(c.dataplane.ports[0].device, "net_tap0,iface=bw0");
	cr_assert_eq(c.dataplane.ports[0].n_addresses, 1);
	assert_prefix(&c.dataplane.ports[0].addresses[0], AF_INET, "198.18.0.1", 24);
	cr_assert_eq(c.dataplane.n_workers, 1);
	cr_assert_eq(c.dataplane.workers[0], 1);
	/* Keys the example leaves out keep their defaults. */
	cr_assert_not(c.resolver.has_validation_time);
	cr_assert_eq(c.resolver.upstream.timeout_ms, 800);
	cr_assert_eq(c.resolver.upstream.n_source, 0);
}

Test(config, minimal_file_gets_every_default)
{
	struct cfg want;

	cfg_default(&want);
	strcpy(want.resolver.root_hints, "/etc/bailiwick/root.hints");
	ok(MIN);
	cr_assert_eq(memcmp(&c, &want, sizeof(c)), 0,
		     "a minimal file is the defaults plus root-hints");
	cr_assert_str_eq(c.resolver.trust_anchor, "", "no validation by default");
	cr_assert_eq(c.resolver.qname_min, CFG_QMIN_RELAXED);
	cr_assert_not(c.resolver.has_validation_time);
	cr_assert_eq(c.resolver.nsec3_max_iterations, 100);
	cr_assert_eq(c.resolver.max_rrset_records, 100);
	cr_assert_eq(c.resolver.dnssec.skew_s, 3600);
	cr_assert(c.resolver.dnssec.rsasha1);
	cr_assert_eq(c.resolver.dnssec.max_verifications, 32);
	cr_assert_eq(c.resolver.dnssec.max_failures, 8);
	cr_assert_eq(c.resolver.dnssec.max_nsec3_hashes, 64);
	cr_assert_not(c.resolver.dnssec.log_bogus);
	cr_assert_eq(c.resolver.cache_size_bytes, 64ull << 20);
	cr_assert_eq(c.resolver.limits.max_referrals, 30);
	cr_assert_eq(c.resolver.limits.max_ns_per_referral, 6);
	cr_assert_eq(c.resolver.limits.max_upstream_queries, 100);
	cr_assert_eq(c.resolver.limits.max_cname_chain, 11);
	cr_assert_eq(c.resolver.limits.max_time_ms, 10000);
	cr_assert_eq(c.resolver.upstream.edns_buffer, 1232);
	cr_assert(c.resolver.upstream.use_0x20 && c.resolver.upstream.cookies);
	cr_assert_eq(c.resolver.upstream.timeout_ms, 800);
	cr_assert_eq(c.resolver.upstream.retries, 2);
	cr_assert_eq(c.resolver.upstream.n_port_exclude, 0);
	cr_assert_eq(c.resolver.upstream.port_min, 1024);
	cr_assert_eq(c.resolver.upstream.port_max, 65535);
	cr_assert_eq(c.resolver.upstream.n_source, 0);
	cr_assert_eq(c.cache.size_bytes, 1ull << 30);
	cr_assert_eq(c.cache.min_ttl_s, 0);
	cr_assert_eq(c.cache.max_ttl_s, 86400);
	cr_assert_eq(c.cache.max_negative_ttl_s, 3600);
	cr_assert(c.cache.stale_enabled);
	cr_assert_eq(c.cache.max_stale_s, 86400);
	cr_assert_eq(c.cache.stale_answer_ttl_s, 30);
	cr_assert_eq(c.cache.stale_client_timeout_ms, 1800);
	cr_assert(c.cache.prefetch_enabled);
	cr_assert_eq(c.cache.prefetch_threshold_percent, 10);
	cr_assert_eq(c.cache.failure_ttl_s, 5);
	cr_assert_eq(c.cache.max_failure_ttl_s, 30);
	cr_assert_eq(c.resolver.limits.max_zone_share, 10);
	cr_assert_eq(c.n_acl, 2);
	assert_prefix(&c.acl[0].prefix, AF_INET, "127.0.0.0", 8);
	assert_prefix(&c.acl[1].prefix, AF_INET6, "::1", 128);
	cr_assert_eq(c.acl[0].action, CFG_ACL_ALLOW);
	cr_assert_eq(c.acl[1].action, CFG_ACL_ALLOW);
	cr_assert_eq(c.n_listen, 2);
	assert_endpoint(&c.listen[0], AF_INET, "127.0.0.1", 53);
	assert_endpoint(&c.listen[1], AF_INET6, "::1", 53);
	cr_assert_str_eq(c.control.socket, "/run/bailiwick/control.sock");
	cr_assert_not(c.dataplane.enabled, "no dataplane key: standalone");
	cr_assert_eq(c.dataplane.n_ports, 0);
	cr_assert_eq(c.dataplane.n_workers, 0);
}

Test(config, example_file_states_exactly_the_defaults)
{
	struct cfg want;

	cfg_default(&want);
	strcpy(want.resolver.root_hints, "/etc/bailiwick/root.hints");
	cr_assert_eq(cfg_load(&c, BW_EXAMPLE_YAML, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &want, sizeof(c)), 0,
		     "conf/bailiwick.example.yaml gives the defaults");
}

Test(config, flow_and_block_style_give_the_same_struct)
{
	static const char block[] =
		"resolver:\n"
		"  root-hints: /r\n"
		"  limits:\n"
		"    max-referrals: 20\n"
		"  upstream:\n"
		"    ports:\n"
		"      range:\n"
		"        - 2000\n"
		"        - 4000\n"
		"      exclude:\n"
		"        - 2053\n"
		"        - [ 3000, 3099 ]\n"
		"    source-addresses:\n"
		"      - 192.0.2.1\n"
		"      - 2001:db8::1\n"
		"cache:\n"
		"  serve-stale:\n"
		"    enabled: false\n"
		"access-control:\n"
		"  - prefix: 10.0.0.0/8\n"
		"    action: drop\n"
		"listen:\n"
		"  - 0.0.0.0@53\n"
		"dataplane:\n"
		"  eal:\n"
		"    - -l\n"
		"    - 0-3\n"
		"  ports:\n"
		"    - device: 0000:01:00.0\n"
		"      addresses:\n"
		"        - 198.18.0.1/24\n"
		"        - 2001:db8:1::1/64\n"
		"  workers:\n"
		"    - 1\n"
		"    - 2\n";
	static const char flow[] =
		"{ resolver: { root-hints: /r, limits: { max-referrals: 20 },\n"
		"  upstream: { ports: { range: [2000, 4000], exclude: [ 2053, [3000, 3099] ] },\n"
		"              source-addresses: [192.0.2.1, \"2001:db8::1\"] } },\n"
		"  cache: { serve-stale: { enabled: false } },\n"
		"  access-control: [ { prefix: 10.0.0.0/8, action: drop } ],\n"
		"  listen: [ \"0.0.0.0@53\" ],\n"
		"  dataplane: { eal: [ '-l', '0-3' ],\n"
		"    ports: [ { device: '0000:01:00.0',\n"
		"               addresses: [ 198.18.0.1/24, '2001:db8:1::1/64' ] } ],\n"
		"    workers: [1, 2] } }\n";
	static struct cfg a;

	ok(block);
	a = c;
	memset(&c, 0xa5, sizeof(c));
	ok(flow);
	cr_assert_eq(memcmp(&a, &c, sizeof(c)), 0, "same settings, same octets");
	cr_assert_eq(c.resolver.upstream.port_min, 2000);
	cr_assert_eq(c.resolver.upstream.n_port_exclude, 2);
	cr_assert_eq(c.resolver.upstream.port_exclude[1][1], 3099);
	cr_assert_eq(c.resolver.upstream.n_source, 2);
	cr_assert_not(c.cache.stale_enabled);
	cr_assert_eq(c.dataplane.ports[0].n_addresses, 2);
	assert_prefix(&c.dataplane.ports[0].addresses[1], AF_INET6,
		      "2001:db8:1::1", 64);
	cr_assert_eq(c.dataplane.n_workers, 2);
}

Test(config, anchors_and_aliases_are_followed)
{
	ok("resolver: { root-hints: &p /same/path, trust-anchor: *p }\n");
	cr_assert_str_eq(c.resolver.trust_anchor, "/same/path");
}

Test(config, failed_parse_leaves_the_struct_untouched)
{
	static struct cfg before;

	ok(design_example);
	before = c;
	bad(MIN "cache: { max-ttl: 5, bogus: 1 }\n", CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:2:22: cache.bogus: unknown key");
	cr_assert_eq(memcmp(&before, &c, sizeof(c)), 0);
}

/* --- errors: structure ----------------------------------------------- */

Test(config, unknown_key_is_named_with_line)
{
	bad("resolver:\n"
	    "  root-hints: /r\n"
	    "cache:\n"
	    "  max-tll: 5\n",
	    CFG_E_UNKNOWN_KEY, "bailiwick.yaml:4:3: cache.max-tll: unknown key");
	bad(MIN "resolvers: {}\n", CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:2:1: resolvers: unknown key");
	bad(MIN "cache: { serve-stale: { enable: true } }\n", CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:2:25: cache.serve-stale.enable: unknown key");
	bad(MIN "access-control: [ { prefix: '::/0', action: allow, why: x } ]\n",
	    CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:2:52: access-control[0].why: unknown key");
}

Test(config, unknown_key_with_odd_octets_is_escaped_in_the_message)
{
	bad(MIN "\"a\\nb\\\"\": 1\n", CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:2:1: a\\x0ab\\\": unknown key");
}

Test(config, wrong_kind_of_value_is_a_type_error)
{
	bad(MIN "cache: 5\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:8: cache: expected a mapping, found a scalar");
	bad(MIN "cache: [ 5 ]\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:8: cache: expected a mapping, found a list");
	bad(MIN "cache: { max-ttl: [ 5 ] }\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:19: cache.max-ttl: expected a number of seconds, "
	    "found a list");
	bad(MIN "listen: 127.0.0.1@53\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:9: listen: expected a list, found a scalar");
	bad(MIN "dataplane: { workers: { a: 1 } }\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:23: dataplane.workers: expected a list, found a "
	    "mapping");
	bad("resolver: { root-hints: { a: b } }\n", CFG_E_TYPE,
	    "bailiwick.yaml:1:25: resolver.root-hints: expected a path, found a "
	    "mapping");
	bad(MIN "? [ a ]\n: 1\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:3: expected a key, found a list");
}

Test(config, empty_values_are_errors_not_defaults)
{
	bad(MIN "cache:\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:7: cache: expected a mapping, found an empty value");
	bad("resolver: { root-hints: /r, trust-anchor: ~ }\n", CFG_E_TYPE,
	    "bailiwick.yaml:1:43: resolver.trust-anchor: expected a path, found "
	    "an empty value");
	bad("resolver: { root-hints: /r, trust-anchor: \"\" }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:43: resolver.trust-anchor: is empty");
}

Test(config, explicit_tags_are_refused)
{
	bad(MIN "cache: { max-ttl: !!int 5 }\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:19: cache.max-ttl: explicit YAML tags are not "
	    "supported");
	bad(MIN "cache: !special { }\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:8: cache: explicit YAML tags are not supported");
}

Test(config, duplicate_key_names_both_positions)
{
	bad("resolver:\n"
	    "  root-hints: /a\n"
	    "  root-hints: /b\n",
	    CFG_E_DUPLICATE,
	    "bailiwick.yaml:3:3: resolver.root-hints: duplicate key (first at 2:3)");
	bad(MIN "cache: {}\ncache: {}\n", CFG_E_DUPLICATE,
	    "bailiwick.yaml:3:1: cache: duplicate key (first at 2:1)");
}

Test(config, missing_root_hints_is_named_at_its_mapping)
{
	bad("cache: { size: 1G }\n"
	    "resolver:\n"
	    "  qname-minimisation: strict\n",
	    CFG_E_MISSING,
	    "bailiwick.yaml:3:3: resolver.root-hints: missing required key");
	bad("cache: { size: 1G }\n", CFG_E_MISSING,
	    "bailiwick.yaml:1:1: resolver.root-hints: missing required key");
}

Test(config, empty_file_reports_missing_root_hints)
{
	bad("", CFG_E_MISSING,
	    "bailiwick.yaml:1:1: resolver.root-hints: missing required key");
	bad("# only a comment\n\n", CFG_E_MISSING,
	    "bailiwick.yaml:1:1: resolver.root-hints: missing required key");
	cr_assert_eq(cfg_parse(&c, NULL, 0, "x", err, sizeof(err)), CFG_E_MISSING);
}

Test(config, file_that_is_a_list_is_an_error)
{
	bad("- resolver: { root-hints: /r }\n", CFG_E_TYPE,
	    "bailiwick.yaml:1:1: the configuration must be a mapping of "
	    "sections, found a list");
	bad("just words\n", CFG_E_TYPE,
	    "bailiwick.yaml:1:1: the configuration must be a mapping of "
	    "sections, found a scalar");
}

Test(config, yaml_syntax_error_reports_its_line)
{
	bad(MIN "cache:\n  size: 1G\n   max-ttl: 5\n", CFG_E_SYNTAX,
	    "bailiwick.yaml:4:11: YAML syntax error: mapping values are not "
	    "allowed in this context");
	bad(MIN "cache: { size: 1G\nlisten: []\n", CFG_E_SYNTAX,
	    "bailiwick.yaml:3:7: YAML syntax error: did not find expected ',' "
	    "or '}' (while parsing a flow mapping at 2:8)");
	bad(MIN "cache: *nowhere\n", CFG_E_SYNTAX,
	    "bailiwick.yaml:2:8: YAML syntax error: found undefined alias");
	bad(MIN "\t cache: {}\n", CFG_E_SYNTAX,
	    "bailiwick.yaml:2:1: YAML syntax error: found character that cannot "
	    "start any token (while scanning for the next token at 2:1)");
}

Test(config, invalid_utf8_is_a_syntax_error)
{
	bad(MIN "control: { socket: /run/\xff }\n", CFG_E_SYNTAX,
	    "bailiwick.yaml:2:25: YAML syntax error: invalid leading UTF-8 octet");
}

Test(config, second_document_is_an_error)
{
	bad(MIN "---\ncache: {}\n", CFG_E_VALUE,
	    "bailiwick.yaml:3:1: a second YAML document: the configuration is "
	    "one document");
	ok("---\n" MIN "...\n");
}

Test(config, list_bounds_exceeded_are_errors)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), MIN "access-control:\n");

	for (int i = 0; i <= CFG_ACL_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - { prefix: 10.%d.0.0/16, action: allow }\n", i);
	bad(text, CFG_E_LIMIT,
	    "bailiwick.yaml:67:5: access-control: more than 64 rules");
	/* Exactly the bound is fine. */
	*strrchr(text, '-') = '#';
	ok(text);
	cr_assert_eq(c.n_acl, CFG_ACL_MAX);
	bad("resolver: { root-hints: /r, upstream: { ports: { range: [1, 2, 3] } } }\n",
	    CFG_E_LIMIT,
	    "bailiwick.yaml:1:64: resolver.upstream.ports.range: more than 2 "
	    "ports");
}

/* --- errors: values -------------------------------------------------- */

Test(config, bad_number_is_named_with_key_path)
{
	bad("resolver:\n"
	    "  root-hints: /etc/bailiwick/root.hints\n"
	    "\n"
	    "# the cache\n"
	    "cache:\n"
	    "  size: 1G\n"
	    "  max-ttl:      abc\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:7:17: cache.max-ttl: \"abc\" is not a number of seconds");
}

Test(config, numbers_are_plain_decimal_digits_only)
{
	static const char *const refused[] = {
		"-1", "+5", "05", "5x", "5.0", "1e3", "0x10", "\"5\"", "'5'",
		"5 s", "true",
	};
	char text[256], msg[256];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text), MIN "cache: { min-ttl: %s }\n",
			 refused[i]);
		const char *shown = refused[i];
		char q[32];
		if (shown[0] == '"' || shown[0] == '\'') {
			snprintf(q, sizeof(q), "\"%c\"", shown[1]);
		} else {
			snprintf(q, sizeof(q), "\"%s\"", shown);
		}
		snprintf(msg, sizeof(msg),
			 "bailiwick.yaml:2:19: cache.min-ttl: %s is not a number "
			 "of seconds", q);
		bad(text, CFG_E_VALUE, msg);
	}
	ok(MIN "cache: { min-ttl: 0 }\n");
	cr_assert_eq(c.cache.min_ttl_s, 0);
}

Test(config, failure_ttls_and_the_zone_share)
{
	ok("cache: { failure-ttl: 2, max-failure-ttl: 120 }\n"
	   "resolver: { root-hints: /r, limits: { max-zone-share: 25 } }\n");
	cr_assert_eq(c.cache.failure_ttl_s, 2);
	cr_assert_eq(c.cache.max_failure_ttl_s, 120);
	cr_assert_eq(c.resolver.limits.max_zone_share, 25);
	bad(MIN "cache: { failure-ttl: 31 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:23: cache.failure-ttl: 31 is out of range 1..30");
	bad(MIN "cache: { failure-ttl: 20, max-failure-ttl: 10 }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:23: cache.failure-ttl: failure-ttl (20) is above "
	    "max-failure-ttl (10)");
	bad("resolver: { root-hints: /r, limits: { max-zone-share: 0 } }\n", CFG_E_RANGE,
	    "bailiwick.yaml:1:55: resolver.limits.max-zone-share: 0 is out of range 1..100");
}

Test(config, what_misses_control_cannot_take_get)
{
#define DP "dataplane: { ports: [ { device: d, addresses: [ 198.18.0.1/24 ] } ], workers: [ 1 ], "
	ok(MIN DP "miss-overflow: drop, miss-budget: 20000 }\n");
	cr_assert_eq(c.dataplane.miss_overflow, CFG_OVERFLOW_DROP);
	cr_assert_eq(c.dataplane.miss_budget, 20000);
	ok(MIN DP "miss-overflow: servfail, miss-budget: 10000000 }\n");
	cr_assert_eq(c.dataplane.miss_overflow, CFG_OVERFLOW_SERVFAIL);
	cr_assert_eq(c.dataplane.miss_budget, CFG_MISS_BUDGET_MAX);
	ok(MIN DP "miss-budget: 0 }\n");
	cr_assert_eq(c.dataplane.miss_budget, 0);
	bad(MIN DP "miss-budget: 10000001 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:99: dataplane.miss-budget: 10000001 is out of range "
	    "0..10000000");
	bad(MIN DP "miss-overflow: refuse }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:101: dataplane.miss-overflow: \"refuse\" is not one of "
	    "servfail, drop");
#undef DP
}

Test(config, out_of_range_numbers_name_the_range)
{
	bad(MIN "cache: { prefetch: { threshold-percent: 101 } }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:41: cache.prefetch.threshold-percent: 101 is out of "
	    "range 0..100");
	bad("resolver: { root-hints: /r, upstream: { edns-buffer: 511 } }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:54: resolver.upstream.edns-buffer: 511 is out of "
	    "range 512..4096");
	bad("resolver: { root-hints: /r, upstream: { edns-buffer: 4097 } }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:54: resolver.upstream.edns-buffer: 4097 is out of "
	    "range 512..4096");
	ok("resolver: { root-hints: /r, upstream: { edns-buffer: 512 } }\n");
	cr_assert_eq(c.resolver.upstream.edns_buffer, 512);
	ok("resolver: { root-hints: /r, upstream: { edns-buffer: 4096 } }\n");
	cr_assert_eq(c.resolver.upstream.edns_buffer, 4096);
	bad("resolver: { root-hints: /r, limits: { max-referrals: 0 } }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:54: resolver.limits.max-referrals: 0 is out of "
	    "range 1..255");
}

Test(config, overflowing_number_is_out_of_range)
{
	bad(MIN "cache: { max-ttl: 99999999999999999999999 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:19: cache.max-ttl: 99999999999999999999999 is out "
	    "of range 1..2147483647");
	bad(MIN "cache: { max-ttl: 4294967296 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:19: cache.max-ttl: 4294967296 is out of range "
	    "1..2147483647");
}

Test(config, booleans_are_true_or_false_only)
{
	bad(MIN "cache: { prefetch: { enabled: yes } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:31: cache.prefetch.enabled: \"yes\" is not a "
	    "boolean (true or false)");
	bad(MIN "cache: { prefetch: { enabled: \"true\" } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:31: cache.prefetch.enabled: \"true\" is not a "
	    "boolean (true or false)");
	bad(MIN "cache: { prefetch: { enabled: True } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:31: cache.prefetch.enabled: \"True\" is not a "
	    "boolean (true or false)");
	ok(MIN "cache: { prefetch: { enabled: false } }\n");
	cr_assert_not(c.cache.prefetch_enabled);
	ok(MIN "cache: { prefetch: { enabled: true } }\n");
	cr_assert(c.cache.prefetch_enabled);
}

Test(config, enumerations_name_their_choices)
{
	ok("resolver: { root-hints: /r, qname-minimisation: strict }\n");
	cr_assert_eq(c.resolver.qname_min, CFG_QMIN_STRICT);
	ok("resolver: { root-hints: /r, qname-minimisation: off }\n");
	cr_assert_eq(c.resolver.qname_min, CFG_QMIN_OFF);
	bad("resolver: { root-hints: /r, qname-minimisation: on }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:49: resolver.qname-minimisation: \"on\" is not one "
	    "of off, relaxed, strict");
	bad(MIN "access-control: [ { prefix: '::/0', action: deny } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:45: access-control[0].action: \"deny\" is not one "
	    "of allow, refuse, drop");
}

Test(config, size_suffixes_are_binary)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
		{ "1M", 1ull << 20 },	   { "1024K", 1ull << 20 },
		{ "64M", 64ull << 20 },	   { "2G", 2ull << 30 },
		{ "1073741824", 1ull << 30 }, { "1024G", 1ull << 40 },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), MIN "cache: { size: %s }\n",
			 good[i].text);
		ok(text);
		cr_assert_eq(c.cache.size_bytes, good[i].bytes, "%s", good[i].text);
	}
	bad(MIN "cache: { size: 1023K }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:16: cache.size: \"1023K\" is out of range 1M..1024G");
	bad(MIN "cache: { size: 1025G }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:16: cache.size: \"1025G\" is out of range 1M..1024G");
	bad(MIN "cache: { size: 99999999999G }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:16: cache.size: \"99999999999G\" is out of range "
	    "1M..1024G");
	static const char *const refused[] = { "1g", "1T", "1.5G", "G", "1GB",
					       "1 G", "-1G", "01G" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char text[128], msg[256];

		snprintf(text, sizeof(text), MIN "cache: { size: %s }\n", refused[i]);
		snprintf(msg, sizeof(msg),
			 "bailiwick.yaml:2:16: cache.size: \"%s\" is not a size "
			 "(octets, or a number with K, M or G)", refused[i]);
		bad(text, CFG_E_VALUE, msg);
	}
}

Test(config, the_iterators_own_cache_has_its_size_key)
{
	ok("resolver: { root-hints: /r, cache-size: 16M }\n");
	cr_assert_eq(c.resolver.cache_size_bytes, 16ull << 20);
	cr_assert_eq(c.cache.size_bytes, 1ull << 30, "the client cache keeps its own");
	bad("resolver: { root-hints: /r, cache-size: 512K }\n", CFG_E_RANGE,
	    "bailiwick.yaml:1:41: resolver.cache-size: \"512K\" is out of range 1M..1024G");
}

Test(config, strings_and_paths_are_checked)
{
	bad("resolver: { root-hints: etc/root.hints }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:25: resolver.root-hints: \"etc/root.hints\" is not "
	    "an absolute path");
	bad("resolver: { root-hints: \"/a\\0b\" }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:25: resolver.root-hints: \"/a\\x00b\" contains a "
	    "NUL character");
	char text[2048];
	snprintf(text, sizeof(text), "resolver: { root-hints: /%0*d }\n",
		 CFG_PATH_MAX - 1, 0);
	cr_assert_eq(parse(text), CFG_E_LIMIT, "%s", err);
	snprintf(text, sizeof(text), "resolver: { root-hints: /%0*d }\n",
		 CFG_PATH_MAX - 2, 0);
	ok(text);
	cr_assert_eq(strlen(c.resolver.root_hints), CFG_PATH_MAX - 1);
	/* A unix socket path must fit sun_path. */
	snprintf(text, sizeof(text), MIN "control: { socket: /%0*d }\n",
		 CFG_SOCKET_PATH_MAX - 1, 0);
	cr_assert_eq(parse(text), CFG_E_LIMIT, "%s", err);
	cr_assert(strstr(err, "bailiwick.yaml:2:20: control.socket: \"/000"), "%s",
		  err);
	cr_assert(strstr(err, "...\" is longer than 107 octets"), "%s", err);
	ok(MIN "control: { socket: \"/tmp/my socket\" }\n");
	cr_assert_str_eq(c.control.socket, "/tmp/my socket");
}

Test(config, ttl_bounds_are_checked_against_each_other)
{
	bad(MIN "cache: { min-ttl: 600, max-ttl: 300 }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:19: cache.min-ttl: min-ttl (600) is above max-ttl "
	    "(300)");
	bad(MIN "cache: { max-ttl: 300, min-ttl: 600 }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:33: cache.min-ttl: min-ttl (600) is above max-ttl "
	    "(300)");
	bad(MIN "cache: { max-ttl: 60 }\ncache: {}\n", CFG_E_DUPLICATE,
	    "bailiwick.yaml:3:1: cache: duplicate key (first at 2:1)");
	ok(MIN "cache: { min-ttl: 300, max-ttl: 300 }\n");
}

Test(config, port_range_and_exclusions_must_leave_a_port)
{
	bad("resolver:\n  root-hints: /r\n  upstream:\n    ports:\n"
	    "      range: [ 5000, 5099 ]\n      exclude: [ [ 4000, 5049 ], [ 5050, 5099 ] ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:5:7: resolver.upstream.ports: no port of 5000..5099 is "
	    "left after the exclusions");
	bad("resolver: { root-hints: /r, upstream: { ports: { range: [ 6000, 5000 ] } } }\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:1:57: resolver.upstream.ports.range: the first "
	    "port (6000) is above the last (5000)");
	bad("resolver: { root-hints: /r, upstream: { ports: { range: [ 6000 ] } } }\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:1:57: resolver.upstream.ports.range: expected two "
	    "ports [FIRST, LAST], found 1");
	bad("resolver: { root-hints: /r, upstream: { ports: { range: [ 0, 10 ] } } }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:59: resolver.upstream.ports.range[0]: 0 is out "
	    "of range 1..65535");
	bad("resolver: { root-hints: /r, upstream: { ports: { exclude: [ 53, x ] } } }\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:1:65: resolver.upstream.ports.exclude[1]: \"x\" is not "
	    "a port or a range [FIRST, LAST]");
	bad("resolver: { root-hints: /r, upstream: { ports: { exclude: [ [ 9, 8 ] ] } } }\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:1:61: resolver.upstream.ports.exclude[0]: the first "
	    "port (9) is above the last (8)");
	bad("resolver: { root-hints: /r, upstream: { port-pool: { sockets: 10 } } }\n",
	    CFG_E_UNKNOWN_KEY,
	    "bailiwick.yaml:1:41: resolver.upstream.port-pool: unknown key");
	ok("resolver: { root-hints: /r, upstream: { ports: { "
	   "range: [ 5000, 5099 ], exclude: [ 5053, [ 5010, 5019 ] ] } } }\n");
	cr_assert_eq(c.resolver.upstream.port_min, 5000);
	cr_assert_eq(c.resolver.upstream.port_max, 5099);
	cr_assert_eq(c.resolver.upstream.n_port_exclude, 2);
	cr_assert_eq(c.resolver.upstream.port_exclude[0][0], 5053);
	cr_assert_eq(c.resolver.upstream.port_exclude[0][1], 5053);
	cr_assert_eq(c.resolver.upstream.port_exclude[1][0], 5010);
}

Test(config, source_addresses_are_plain_and_distinct)
{
	ok("resolver: { root-hints: /r, upstream: { source-addresses: "
	   "[ 192.0.2.7, \"2001:db8::7\" ] } }\n");
	cr_assert_eq(c.resolver.upstream.n_source, 2);
	bad("resolver: { root-hints: /r, upstream: { source-addresses: "
	    "[ 192.0.2.7/32 ] } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:61: resolver.upstream.source-addresses[0]: "
	    "\"192.0.2.7/32\" is not an IPv4 or IPv6 address");
	bad("resolver: { root-hints: /r, upstream: { source-addresses: "
	    "[ 'example.net' ] } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:61: resolver.upstream.source-addresses[0]: "
	    "\"example.net\" is not an IPv4 or IPv6 address");
	bad("resolver: { root-hints: /r, upstream: { source-addresses: "
	    "[ '::ffff:192.0.2.7' ] } }\n", CFG_E_VALUE,
	    "bailiwick.yaml:1:61: resolver.upstream.source-addresses[0]: "
	    "\"::ffff:192.0.2.7\" is an IPv4-mapped address: write the IPv4 "
	    "address");
	bad("resolver: { root-hints: /r, upstream: { source-addresses: "
	    "[ 192.0.2.7, 192.0.2.7 ] } }\n", CFG_E_DUPLICATE,
	    "bailiwick.yaml:1:72: resolver.upstream.source-addresses[1]: same "
	    "address as element 0");
}

Test(config, validation_time_is_unix_or_rfc3339)
{
	ok("resolver: { root-hints: /r, validation-time: 1503273600 }\n");
	cr_assert(c.resolver.has_validation_time);
	cr_assert_eq(c.resolver.validation_time, 1503273600);
	ok("resolver: { root-hints: /r, validation-time: 2017-08-21T00:00:00Z }\n");
	cr_assert_eq(c.resolver.validation_time, 1503273600);
	ok("resolver: { root-hints: /r, validation-time: \"2017-08-21T02:30:00+02:30\" }\n");
	cr_assert_eq(c.resolver.validation_time, 1503273600);
	ok("resolver: { root-hints: /r, validation-time: 2017-08-20T23:00:00.999-01:00 }\n");
	cr_assert_eq(c.resolver.validation_time, 1503273600);
	ok("resolver: { root-hints: /r, validation-time: 2016-02-29T00:00:00z }\n");
	cr_assert_eq(c.resolver.validation_time, 1456704000);
	ok("resolver: { root-hints: /r, validation-time: 1970-01-01T00:00:00Z }\n");
	cr_assert_eq(c.resolver.validation_time, 0);
	static const char *const refused[] = {
		"2017-02-29T00:00:00Z", "2017-13-01T00:00:00Z",
		"2017-08-21T24:00:00Z", "2017-08-21T00:00:00",
		"2017-08-21", "2017-08-21T00:00:00+0200", "yesterday",
		"-5",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char text[128], msg[256];

		snprintf(text, sizeof(text),
			 "resolver: { root-hints: /r, validation-time: %s }\n",
			 refused[i]);
		snprintf(msg, sizeof(msg),
			 "bailiwick.yaml:1:46: resolver.validation-time: \"%s\" is "
			 "not a unix time or an RFC 3339 time (2017-08-25T00:00:00Z)",
			 refused[i]);
		bad(text, CFG_E_VALUE, msg);
	}
	bad("resolver: { root-hints: /r, validation-time: 1969-12-31T23:59:59Z }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:46: resolver.validation-time: "
	    "\"1969-12-31T23:59:59Z\" is out of range "
	    "1970-01-01T00:00:00Z..9999-12-31T23:59:59Z");
	bad("resolver: { root-hints: /r, validation-time: 253402300800 }\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:1:46: resolver.validation-time: \"253402300800\" is "
	    "out of range 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z");
}

/* --- access control -------------------------------------------------- */

Test(config, cidr_edges_parse)
{
	ok(MIN "access-control:\n"
	   "  - { prefix: 0.0.0.0/0, action: allow }\n"
	   "  - { prefix: '::/0', action: refuse }\n"
	   "  - { prefix: 192.0.2.1/32, action: drop }\n"
	   "  - { prefix: '2001:db8::1/128', action: allow }\n"
	   "  - { prefix: 192.0.2.2, action: allow }\n"
	   "  - { prefix: \"2001:db8::2\", action: allow }\n"
	   "  - { prefix: 10.128.0.0/9, action: allow }\n");
	cr_assert_eq(c.n_acl, 7);
	assert_prefix(&c.acl[0].prefix, AF_INET, "0.0.0.0", 0);
	assert_prefix(&c.acl[1].prefix, AF_INET6, "::", 0);
	assert_prefix(&c.acl[2].prefix, AF_INET, "192.0.2.1", 32);
	assert_prefix(&c.acl[3].prefix, AF_INET6, "2001:db8::1", 128);
	assert_prefix(&c.acl[4].prefix, AF_INET, "192.0.2.2", 32);
	assert_prefix(&c.acl[5].prefix, AF_INET6, "2001:db8::2", 128);
	assert_prefix(&c.acl[6].prefix, AF_INET, "10.128.0.0", 9);
	cr_assert_eq(c.acl[2].action, CFG_ACL_DROP);
}

Test(config, prefix_with_host_bits_set_is_an_error)
{
	bad(MIN "access-control: [ { prefix: 10.0.0.1/8, action: allow } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"10.0.0.1/8\" has "
	    "host bits set (the network is 10.0.0.0/8)");
	bad(MIN "access-control: [ { prefix: \"2001:db8::1/32\", action: allow } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"2001:db8::1/32\" has "
	    "host bits set (the network is 2001:db8::/32)");
	bad(MIN "access-control: [ { prefix: 1.0.0.0/0, action: allow } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"1.0.0.0/0\" has "
	    "host bits set (the network is 0.0.0.0/0)");
	bad(MIN "access-control: [ { prefix: 10.129.0.0/9, action: allow } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"10.129.0.0/9\" has "
	    "host bits set (the network is 10.128.0.0/9)");
}

Test(config, bad_prefixes_are_errors)
{
	bad(MIN "access-control: [ { prefix: 10.0.0.0/33, action: allow } ]\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"10.0.0.0/33\": "
	    "prefix length 33 is out of range 0..32");
	bad(MIN "access-control: [ { prefix: \"::/129\", action: allow } ]\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: \"::/129\": prefix "
	    "length 129 is out of range 0..128");
	static const char *const refused[] = { "10.0.0/8", "10.0.0.0/", "10.0.0.0/08",
					       "010.0.0.0/8", "10.0.0.0/8/8",
					       "example.com", "10.0.0.0/-1",
					       "10.0.0.0/ 8" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char text[128], msg[256];

		snprintf(text, sizeof(text),
			 MIN "access-control: [ { prefix: \"%s\", action: allow } ]\n",
			 refused[i]);
		snprintf(msg, sizeof(msg),
			 "bailiwick.yaml:2:29: access-control[0].prefix: \"%s\" is "
			 "not a prefix (IPv4 or IPv6 CIDR)", refused[i]);
		bad(text, CFG_E_VALUE, msg);
	}
	bad(MIN "access-control: [ { action: allow } ]\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:19: access-control[0].prefix: missing required key");
	bad(MIN "access-control: [ { prefix: '::/0' } ]\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:19: access-control[0].action: missing required key");
	bad(MIN "access-control: [ '::/0' ]\n", CFG_E_TYPE,
	    "bailiwick.yaml:2:19: access-control[0]: expected a mapping, found a "
	    "scalar");
}

Test(config, v4_mapped_prefix_becomes_ipv4)
{
	ok(MIN "access-control:\n"
	   "  - { prefix: \"::ffff:10.0.0.0/104\", action: allow }\n"
	   "  - { prefix: \"::ffff:0.0.0.0/96\", action: drop }\n"
	   "  - { prefix: \"::ffff:192.0.2.1\", action: refuse }\n"
	   "  - { prefix: \"::/80\", action: refuse }\n");
	assert_prefix(&c.acl[0].prefix, AF_INET, "10.0.0.0", 8);
	assert_prefix(&c.acl[1].prefix, AF_INET, "0.0.0.0", 0);
	assert_prefix(&c.acl[2].prefix, AF_INET, "192.0.2.1", 32);
	assert_prefix(&c.acl[3].prefix, AF_INET6, "::", 80);
	bad(MIN "access-control: [ { prefix: \"::ffff:10.0.0.1/104\", action: allow } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:29: access-control[0].prefix: "
	    "\"::ffff:10.0.0.1/104\" has host bits set (the network is 10.0.0.0/8)");
}

/* --- listen ---------------------------------------------------------- */

Test(config, listen_addresses_parse_with_optional_port)
{
	ok(MIN "listen: [ 127.0.0.1@53, 192.0.2.1, \"[::1]@5353\", \"::1\",\n"
	   "          \"2001:db8::1@853\", \"[2001:db8::2]\", 0.0.0.0@65535 ]\n");
	cr_assert_eq(c.n_listen, 7);
	assert_endpoint(&c.listen[0], AF_INET, "127.0.0.1", 53);
	assert_endpoint(&c.listen[1], AF_INET, "192.0.2.1", 53);
	assert_endpoint(&c.listen[2], AF_INET6, "::1", 5353);
	assert_endpoint(&c.listen[3], AF_INET6, "::1", 53);
	assert_endpoint(&c.listen[4], AF_INET6, "2001:db8::1", 853);
	assert_endpoint(&c.listen[5], AF_INET6, "2001:db8::2", 53);
	assert_endpoint(&c.listen[6], AF_INET, "0.0.0.0", 65535);
}

Test(config, bad_listen_addresses_are_errors)
{
	static const char *const refused[] = {
		"localhost@53", "[::1]x", "[::1]@", "1.2.3.4@", "[1.2.3.4]@53",
		"1.2.3.4@53@54", "1.2.3.4:53", "[::1", "1.2.3.4@053",
		"fe80::1%eth0@53", "1.2.3.4/32@53",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char text[128], msg[256];

		snprintf(text, sizeof(text), MIN "listen: [ \"%s\" ]\n", refused[i]);
		snprintf(msg, sizeof(msg),
			 "bailiwick.yaml:2:11: listen[0]: \"%s\" is not ADDR@PORT "
			 "(IPv4, [IPv6] or IPv6; @PORT optional)", refused[i]);
		bad(text, CFG_E_VALUE, msg);
	}
	/* Too long to be an address: refused, and shortened in the message. */
	char text[512];
	snprintf(text, sizeof(text), MIN "listen: [ 1.2.3.4@%0200d ]\n", 53);
	bad(text, CFG_E_VALUE,
	    "bailiwick.yaml:2:11: listen[0]: \"1.2.3.4@00000000000000000000000000"
	    "000000...\" is not ADDR@PORT (IPv4, [IPv6] or IPv6; @PORT optional)");
	bad(MIN "listen: [ 1.2.3.4@65536 ]\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:11: listen[0]: \"1.2.3.4@65536\": port 65536 is out "
	    "of range 1..65535");
	bad(MIN "listen: [ 1.2.3.4@0 ]\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:11: listen[0]: \"1.2.3.4@0\": port 0 is out of "
	    "range 1..65535");
	bad(MIN "listen: [ 127.0.0.1, 127.0.0.1@53 ]\n", CFG_E_DUPLICATE,
	    "bailiwick.yaml:2:22: listen[1]: same address and port as element 0");
	bad(MIN "listen: []\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:9: listen: is empty: give at least one address");
	bad(MIN "listen: [ \"::ffff:127.0.0.1@53\" ]\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:11: listen[0]: \"::ffff:127.0.0.1@53\" is an "
	    "IPv4-mapped address: write the IPv4 address");
}

/* --- dataplane ------------------------------------------------------- */

Test(config, dataplane_needs_ports_and_workers)
{
	bad(MIN "dataplane: { eal: [ -l, 0-1 ], workers: [ 1 ] }\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:12: dataplane.ports: missing required key");
	bad(MIN "dataplane:\n  ports: [ { device: net_tap0, addresses: [ 10.0.0.1/24 ] } ]\n",
	    CFG_E_MISSING,
	    "bailiwick.yaml:3:3: dataplane.workers: missing required key");
	bad(MIN "dataplane:\n  ports: []\n  workers: [ 1 ]\n", CFG_E_VALUE,
	    "bailiwick.yaml:3:10: dataplane.ports: is empty: give at least one port");
	bad(MIN "dataplane: { ports: [ { addresses: [ 10.0.0.1/24 ] } ], workers: [ 1 ] }\n",
	    CFG_E_MISSING,
	    "bailiwick.yaml:2:23: dataplane.ports[0].device: missing required key");
	bad(MIN "dataplane: { ports: [ { device: x } ], workers: [ 1 ] }\n",
	    CFG_E_MISSING,
	    "bailiwick.yaml:2:23: dataplane.ports[0].addresses: missing required "
	    "key");
}

Test(config, port_addresses_keep_host_bits_and_need_a_length)
{
	ok(MIN "dataplane: { ports: [ { device: x, addresses: [ 198.18.0.1/24, "
	   "\"2001:db8::1/64\", 198.18.1.1/32 ] } ], workers: [ 1 ] }\n");
	assert_prefix(&c.dataplane.ports[0].addresses[0], AF_INET, "198.18.0.1", 24);
	assert_prefix(&c.dataplane.ports[0].addresses[1], AF_INET6, "2001:db8::1", 64);
	assert_prefix(&c.dataplane.ports[0].addresses[2], AF_INET, "198.18.1.1", 32);
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 198.18.0.1 ] } ], "
	    "workers: [ 1 ] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:49: dataplane.ports[0].addresses[0]: \"198.18.0.1\" "
	    "is not an interface address with its prefix length (ADDR/LEN)");
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 0.0.0.0/24 ] } ], "
	    "workers: [ 1 ] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:49: dataplane.ports[0].addresses[0]: \"0.0.0.0/24\": "
	    "the unspecified address is not an interface address");
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ \"::ffff:10.0.0.1/120\" ] } ], "
	    "workers: [ 1 ] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:49: dataplane.ports[0].addresses[0]: "
	    "\"::ffff:10.0.0.1/120\" is an IPv4-mapped address: write the IPv4 "
	    "address");
}

Test(config, empty_dataplane_lists_are_errors)
{
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [] } ], workers: [ 1 ] }\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:47: dataplane.ports[0].addresses: is empty: give at "
	    "least one address");
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 10.0.0.1/8 ] } ], "
	    "workers: [] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:76: dataplane.workers: is empty: give at least one "
	    "lcore");
	bad(MIN "dataplane: { eal: [ \"\" ], ports: [ { device: x, addresses: "
	    "[ 10.0.0.1/8 ] } ], workers: [ 1 ] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:21: dataplane.eal[0]: is empty");
}

Test(config, workers_are_unique_lcore_ids)
{
	ok(MIN "dataplane: { ports: [ { device: x, addresses: [ 10.0.0.1/8 ] } ], "
	   "workers: [ 0, 3, 1023 ] }\n");
	cr_assert_eq(c.dataplane.n_workers, 3);
	cr_assert_eq(c.dataplane.workers[2], 1023);
	cr_assert_eq(c.dataplane.n_eal, 0);
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 10.0.0.1/8 ] } ], "
	    "workers: [ 1, 2, 1 ] }\n", CFG_E_DUPLICATE,
	    "bailiwick.yaml:2:84: dataplane.workers[2]: lcore 1 is already element 0");
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 10.0.0.1/8 ] } ], "
	    "workers: [ 1024 ] }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:78: dataplane.workers[0]: 1024 is out of range 0..1023");
	bad(MIN "dataplane: { ports: [ { device: x, addresses: [ 10.0.0.1/8 ] } ], "
	    "workers: [ one ] }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:78: dataplane.workers[0]: \"one\" is not an lcore id");
}

/* --- the API around the parser --------------------------------------- */

Test(config, load_reads_a_file_and_names_it)
{
	char path[] = "/tmp/bw-test-config-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, MIN "cache: { size: 2X }\n",
			   strlen(MIN "cache: { size: 2X }\n")),
		     (ssize_t)strlen(MIN "cache: { size: 2X }\n"));
	close(fd);
	cr_assert_eq(cfg_load(&c, path, err, sizeof(err)), CFG_E_VALUE);
	char want[256];
	snprintf(want, sizeof(want),
		 "%s:2:16: cache.size: \"2X\" is not a size (octets, or a number "
		 "with K, M or G)", path);
	cr_assert_str_eq(err, want);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, MIN, strlen(MIN)), (ssize_t)strlen(MIN));
	close(fd);
	cr_assert_eq(cfg_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.resolver.root_hints, "/etc/bailiwick/root.hints");
	unlink(path);
	cr_assert_eq(cfg_load(&c, path, err, sizeof(err)), CFG_E_IO);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
		 path);
	cr_assert_str_eq(err, want);
	cr_assert_eq(cfg_load(&c, "/tmp", err, sizeof(err)), CFG_E_IO);
	cr_assert_str_eq(err, "/tmp: not a regular file");
}

Test(config, oversized_input_is_refused)
{
	size_t len = CFG_FILE_MAX + 1;
	char *big = malloc(len);

	cr_assert(big);
	memset(big, '#', len);
	cr_assert_eq(cfg_parse(&c, big, len, "big.yaml", err, sizeof(err)),
		     CFG_E_LIMIT);
	cr_assert_str_eq(err, "big.yaml: larger than the 1 MiB a configuration "
			      "may be");
	free(big);
}

Test(config, short_error_buffer_is_truncated_and_terminated)
{
	char small[16];

	memset(small, 'x', sizeof(small));
	cr_assert_eq(cfg_parse(&c, "x: 1\n", 5, "bailiwick.yaml", small,
			       sizeof(small)), CFG_E_UNKNOWN_KEY);
	cr_assert_str_eq(small, "bailiwick.yaml:");
	cr_assert_eq(cfg_parse(&c, "x: 1\n", 5, "bailiwick.yaml", NULL, 0),
		     CFG_E_UNKNOWN_KEY);
}

Test(config, every_code_has_a_text)
{
	cr_assert_str_eq(cfg_strerror(CFG_E_DUPLICATE),
			 "key or list element given twice");
	cr_assert_str_eq(cfg_strerror(0), "success");
	cr_assert_str_eq(cfg_strerror(-1), "unknown configuration error");
}

/* RFC 8198: on by default with a trust anchor, off without one; true
 * without one is an error at the key (nothing would ever feed it). */
Test(config, aggressive_nsec_follows_the_trust_anchor)
{
	ok(MIN);
	cr_assert_not(c.cache.aggressive_nsec);
	ok("resolver: { root-hints: /r, trust-anchor: /k }\n");
	cr_assert(c.cache.aggressive_nsec);
	ok("resolver: { root-hints: /r, trust-anchor: /k }\ncache: { aggressive-nsec: false }\n");
	cr_assert_not(c.cache.aggressive_nsec);
	ok(MIN "cache: { aggressive-nsec: false }\n");
	cr_assert_not(c.cache.aggressive_nsec);
	bad(MIN "cache: { aggressive-nsec: true }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:27: cache.aggressive-nsec: true needs resolver.trust-anchor "
	    "(only validated NSEC/NSEC3 records may answer)");
}

/* The study clock (bench/root-study): 1..3600, with or without a
 * dataplane (both processes follow it). */
Test(config, clock_scale_is_for_studies)
{
	ok(MIN);
	cr_assert_eq(c.resolver.clock_scale, 1);
	ok("resolver: { root-hints: /r, clock-scale: 360 }\n");
	cr_assert_eq(c.resolver.clock_scale, 360);
	bad("resolver: { root-hints: /r, clock-scale: 0 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:1:42: resolver.clock-scale: 0 is out of range 1..3600");
	ok("resolver: { root-hints: /r, clock-scale: 60 }\n"
	   "dataplane:\n  ports: [ { device: net_tap0, addresses: [ 10.0.0.1/24 ] } ]\n"
	   "  workers: [ 1 ]\n");
	cr_assert_eq(c.resolver.clock_scale, 60);
	cr_assert(c.dataplane.enabled);
}

Test(config, policy_zones_in_order_with_their_options)
{
	ok("resolver: { root-hints: /r }\n"
	   "policy:\n"
	   "  - { name: rpz.example., file: /etc/a.zone }\n"
	   "  - name: Block.Test\n"
	   "    file: /etc/b.zone\n"
	   "    policy: cname\n"
	   "    cname: walled.example\n"
	   "    max-ttl: 60\n"
	   "    log: true\n"
	   "    ede: filtered\n");
	cr_assert_eq(c.n_policy, 2);
	cr_assert_str_eq(c.policy[0].name, "rpz.example");
	cr_assert_str_eq(c.policy[0].file, "/etc/a.zone");
	cr_assert_eq(c.policy[0].override, CFG_POLICY_GIVEN);
	cr_assert_eq(c.policy[0].ede, 15);
	cr_assert_eq(c.policy[0].max_ttl_s, 3600);
	cr_assert_not(c.policy[0].log);
	cr_assert_str_eq(c.policy[1].name, "Block.Test");
	cr_assert_eq(c.policy[1].override, CFG_POLICY_CNAME);
	cr_assert_str_eq(c.policy[1].cname, "walled.example");
	cr_assert_eq(c.policy[1].max_ttl_s, 60);
	cr_assert(c.policy[1].log);
	cr_assert_eq(c.policy[1].ede, 17);
	ok("resolver: { root-hints: /r }\npolicy: [ { name: r, file: /z, ede: none } ]\n");
	cr_assert_eq(c.policy[0].ede, CFG_EDE_NONE);
}

Test(config, policy_transfers_and_tsig_keys)
{
	/* the keys after the zones that name them: read first all the same */
	ok("resolver: { root-hints: /r }\n"
	   "control: { notify-listen: [ \"127.0.0.1@5301\", \"[::1]@5301\" ] }\n"
	   "policy:\n"
	   "  - { name: a.rpz, primary: \"192.0.2.1@5300\", key: K2, file: /var/a.copy }\n"
	   "  - { name: b.rpz, primary: \"2001:db8::1\" }\n"
	   "tsig-keys:\n"
	   "  - { name: k1, secret: \"AQID\" }\n"
	   "  - { name: k2., algorithm: hmac-sha512, secret: \"AQIDBA==\" }\n");
	cr_assert_eq(c.n_tsig, 2);
	cr_assert_eq(c.tsig[0].alg, CFG_TSIG_HMAC_SHA256);
	cr_assert_eq(c.tsig[0].secret_len, 3);
	cr_assert_eq(c.tsig[1].alg, CFG_TSIG_HMAC_SHA512);
	cr_assert_eq(c.tsig[1].secret_len, 4);
	cr_assert_eq(memcmp(c.tsig[1].secret, "\1\2\3\4", 4), 0);
	cr_assert(c.policy[0].has_primary);
	cr_assert_eq(c.policy[0].primary.port, 5300);
	cr_assert_eq(c.policy[0].key, 1);
	cr_assert_str_eq(c.policy[0].file, "/var/a.copy");
	cr_assert(c.policy[1].has_primary);
	cr_assert_eq(c.policy[1].primary.port, 53);
	cr_assert_eq(c.policy[1].primary.a.family, AF_INET6);
	cr_assert_eq(c.policy[1].key, -1);
	cr_assert_eq(c.policy[1].file[0], 0);
	cr_assert_eq(c.control.n_notify, 2);
	cr_assert_eq(c.control.notify[1].a.family, AF_INET6);
	ok("resolver: { root-hints: /r }\npolicy: [ { name: r, file: /z } ]\n");
	cr_assert_not(c.policy[0].has_primary);
	cr_assert_eq(c.policy[0].key, -1);

	bad("resolver: { root-hints: /r }\ntsig-keys: [ { name: k, secret: \"AQI\" } ]\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:33: tsig-keys[0].secret: is not base64 of 1..128 octets");
	bad("resolver: { root-hints: /r }\ntsig-keys: [ { name: k, secret: \"A=QI\" } ]\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:33: tsig-keys[0].secret: is not base64 of 1..128 octets");
	/* a name's control characters are escaped: the message stays one line
	 * (fuzz_config found it) */
	bad("resolver: { root-hints: /r }\ntsig-keys: [ { name: \"k\\n\\nx\", secret: \"AQ==\" } ]\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:22: tsig-keys[0].name: \"k\\x0a\\x0ax\" is not a domain "
	    "name (labels of 1..63 letters, digits, '-' or '_', at most 253 octets)");
	bad("resolver: { root-hints: /r }\ntsig-keys: [ { name: k } ]\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:14: tsig-keys[0].secret: missing required key");
	bad("resolver: { root-hints: /r }\n"
	    "tsig-keys: [ { name: k, secret: \"AQ==\", algorithm: hmac-md5 } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:52: tsig-keys[0].algorithm: \"hmac-md5\" is not one of hmac-sha256, "
	    "hmac-sha1, hmac-sha224, hmac-sha384, hmac-sha512");
	bad("resolver: { root-hints: /r }\n"
	    "tsig-keys: [ { name: k, secret: \"AQ==\" }, { name: K., secret: \"AQ==\" } ]\n",
	    CFG_E_DUPLICATE, "bailiwick.yaml:2:43: tsig-keys[1]: key K is element 0 too");
	bad("resolver: { root-hints: /r }\n"
	    "control: { notify-listen: [ \"127.0.0.1@1\", \"127.0.0.1@1\" ] }\n",
	    CFG_E_DUPLICATE,
	    "bailiwick.yaml:2:44: control.notify-listen[1]: same address and port as element 0");
}

Test(config, policy_errors_name_the_key)
{
	bad("resolver: { root-hints: /r }\npolicy: [ { name: r } ]\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:11: policy[0].file (or primary): missing required key");
	bad("resolver: { root-hints: /r }\npolicy: [ { name: 'a..b', file: /z } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:19: policy[0].name: \"a..b\" is not a domain name (labels of "
	    "1..63 letters, digits, '-' or '_', at most 253 octets)");
	bad("resolver: { root-hints: /r }\npolicy: [ { name: r, file: /z, policy: block } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:40: policy[0].policy: \"block\" is not one of given, nxdomain, nodata, passthru, drop, tcp-only, cname");
	bad("resolver: { root-hints: /r }\npolicy: [ { name: r, file: /z, policy: cname } ]\n",
	    CFG_E_MISSING, "bailiwick.yaml:2:11: policy[0].cname: missing required key");
	bad("resolver: { root-hints: /r }\npolicy: [ { name: r, file: /z, cname: x } ]\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:39: policy[0].cname: is for policy: cname only");
	bad("resolver: { root-hints: /r }\n"
	    "policy: [ { name: r, file: /z }, { name: R., file: /y } ]\n",
	    CFG_E_DUPLICATE, "bailiwick.yaml:2:34: policy[1]: zone R is element 0 too");
	bad("resolver: { root-hints: /r }\n"
	    "policy: [ { name: r, primary: 192.0.2.1, key: k } ]\n",
	    CFG_E_VALUE,
	    "bailiwick.yaml:2:47: policy[0].key: no element of tsig-keys is named k");
	bad("resolver: { root-hints: /r }\n"
	    "policy: [ { name: r, file: /z, key: k } ]\n"
	    "tsig-keys: [ { name: k, secret: \"AAAA\" } ]\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:37: policy[0].key: is for a zone with a primary");
	bad("resolver: { root-hints: /r }\n"
	    "policy: [ { name: r, primary: \"192.0.2.1@99999\" } ]\n",
	    CFG_E_RANGE,
	    "bailiwick.yaml:2:31: policy[0].primary: \"192.0.2.1@99999\": port 99999 is out of range 1..65535");
	bad("resolver: { root-hints: /r }\npolicy: [ { name: r, file: z } ]\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:28: policy[0].file: \"z\" is not an absolute path");
}

Test(config, metrics_and_the_operator_socket)
{
	ok("resolver: { root-hints: /r }\n");
	cr_assert_not(c.metrics.enabled);
	cr_assert_eq(c.control.socket_mode, 0660);
	cr_assert_eq(c.control.socket_group[0], 0);
	ok("resolver: { root-hints: /r }\nmetrics: { listen: \"127.0.0.1@9953\" }\n"
	   "control: { socket-mode: \"0600\", socket-group: adm }\n");
	cr_assert(c.metrics.enabled);
	cr_assert_eq(c.metrics.listen.port, 9953);
	cr_assert_eq(c.metrics.listen.a.family, AF_INET);
	cr_assert_eq(c.control.socket_mode, 0600);
	cr_assert_str_eq(c.control.socket_group, "adm");
	ok("resolver: { root-hints: /r }\nmetrics: { listen: \"[::1]@9953\" }\n"
	   "control: { socket-mode: 640 }\n");
	cr_assert_eq(c.metrics.listen.a.family, AF_INET6);
	cr_assert_eq(c.control.socket_mode, 0640);
	ok("resolver: { root-hints: /r }\nmetrics: { listen: \"127.0.0.1\" }\n");
	cr_assert_eq(c.metrics.listen.port, 9953);
	ok("resolver: { root-hints: /r }\nmetrics: { listen: \"[::1]@80\" }\n");
	cr_assert_eq(c.metrics.listen.port, 80);

	bad("resolver: { root-hints: /r }\nmetrics: {}\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:10: metrics.listen: missing required key");
	bad("resolver: { root-hints: /r }\nmetrics: { listen: \"127.0.0.1\", port: 1 }\n",
	    CFG_E_UNKNOWN_KEY, "bailiwick.yaml:2:33: metrics.port: unknown key");
	bad("resolver: { root-hints: /r }\ncontrol: { socket-mode: \"0800\" }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:25: control.socket-mode: \"0800\" is not a file mode in octal "
	    "(0600, 0660, at most 0777)");
	bad("resolver: { root-hints: /r }\ncontrol: { socket-mode: \"1777\" }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:25: control.socket-mode: \"1777\" is not a file mode in octal "
	    "(0600, 0660, at most 0777)");
}

Test(config, control_user_is_for_a_standalone_control)
{
	ok("resolver: { root-hints: /r }\n");
	cr_assert_eq(c.control.user[0], 0);
	ok("resolver: { root-hints: /r }\ncontrol: { user: bailiwick }\n");
	cr_assert_str_eq(c.control.user, "bailiwick");
	bad("resolver: { root-hints: /r }\ncontrol: { user: \"\" }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:18: control.user: is empty");
	bad("resolver: { root-hints: /r }\ncontrol: { user: bailiwick }\n"
	    "dataplane: { ports: [ { device: net_tap0, addresses: [ 198.18.0.1/24 ] } ], "
	    "workers: [ 1 ] }\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:10: control.user: only a standalone control gives up "
	    "root (with a dataplane it maps the dataplane's hugepage files, which are root's): "
	    "leave it out or the dataplane section");
	bad("resolver: { root-hints: /r, upstream: { ports: { range: [ 500, 60000 ] } } }\n"
	    "control: { user: bailiwick }\n",
	    CFG_E_VALUE, "bailiwick.yaml:2:10: control.user: the source ports from 500 are below "
	    "1024, which only root may bind: start resolver.upstream.ports.range at 1024");
}

Test(config, log_level_target_and_query_sample)
{
	ok("resolver: { root-hints: /r }\n");
	cr_assert_eq(c.log.level, CFG_LOG_INFO);
	cr_assert_eq(c.log.target, CFG_LOG_STDERR);
	cr_assert_eq(c.log.query_sample, 0);
	ok("resolver: { root-hints: /r }\nlog: { level: debug, target: journal, query-sample: 100 }\n");
	cr_assert_eq(c.log.level, CFG_LOG_DEBUG);
	cr_assert_eq(c.log.target, CFG_LOG_JOURNAL);
	cr_assert_eq(c.log.query_sample, 100);
	ok("resolver: { root-hints: /r }\nlog: { level: err, target: syslog }\n");
	cr_assert_eq(c.log.level, CFG_LOG_ERR);
	cr_assert_eq(c.log.target, CFG_LOG_SYSLOG);
	cr_assert_str_eq(cfg_log_levels[CFG_LOG_WARNING], "warning");

	bad("resolver: { root-hints: /r }\nlog: { level: verbose }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:15: log.level: \"verbose\" is not one of err, warning, notice, info, debug");
	bad("resolver: { root-hints: /r }\nlog: { target: file }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:16: log.target: \"file\" is not one of stderr, syslog, journal");
	bad("resolver: { root-hints: /r }\nlog: { query-sample: -1 }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:22: log.query-sample: \"-1\" is not 1 in how many client queries (0: none)");
}

Test(config, dnstap_takes_a_socket_or_a_file)
{
	ok("resolver: { root-hints: /r }\n");
	cr_assert_not(c.dnstap.enabled);
	cr_assert_eq(c.dnstap.sample, 1);
	ok("resolver: { root-hints: /r }\ndnstap: { socket: /run/tap.sock }\n");
	cr_assert(c.dnstap.enabled);
	cr_assert_str_eq(c.dnstap.socket, "/run/tap.sock");
	cr_assert_eq(c.dnstap.file[0], 0);
	cr_assert(c.dnstap.client_queries && c.dnstap.client_responses &&
		  c.dnstap.resolver_queries && c.dnstap.resolver_responses);
	cr_assert_eq(c.dnstap.identity[0], 0);
	ok("resolver: { root-hints: /r }\ndnstap: { file: /var/tap, sample: 1000, identity: ns1,\n"
	   "  version: v9, client-queries: false, resolver-responses: false }\n");
	cr_assert_str_eq(c.dnstap.file, "/var/tap");
	cr_assert_eq(c.dnstap.socket[0], 0);
	cr_assert_eq(c.dnstap.sample, 1000);
	cr_assert_str_eq(c.dnstap.identity, "ns1");
	cr_assert_str_eq(c.dnstap.version, "v9");
	cr_assert(!c.dnstap.client_queries && c.dnstap.client_responses);
	cr_assert(c.dnstap.resolver_queries && !c.dnstap.resolver_responses);

	bad("resolver: { root-hints: /r }\ndnstap: { sample: 2 }\n", CFG_E_MISSING,
	    "bailiwick.yaml:2:9: dnstap: give socket (a reader's Unix socket) or file");
	bad("resolver: { root-hints: /r }\ndnstap: { socket: /a, file: /b }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:29: dnstap: socket and file are both given: give one of the two");
	bad("resolver: { root-hints: /r }\ndnstap: { file: /b, sample: 0 }\n", CFG_E_RANGE,
	    "bailiwick.yaml:2:29: dnstap.sample: 0 is out of range 1..1000000000");
	bad("resolver: { root-hints: /r }\ndnstap: { socket: tap.sock }\n", CFG_E_VALUE,
	    "bailiwick.yaml:2:19: dnstap.socket: \"tap.sock\" is not an absolute path");
	bad("resolver: { root-hints: /r }\ndnstap: { file: /b, sampling: 1 }\n",
	    CFG_E_UNKNOWN_KEY, "bailiwick.yaml:2:21: dnstap.sampling: unknown key");
}
