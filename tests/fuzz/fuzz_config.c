/*
 * tests/fuzz/fuzz_config.c: libFuzzer target for the configuration parser
 * (a file an operator or a deployment tool writes, read by both processes
 * at start and on every reload). Beyond "no crash, no leak, no sanitizer
 * report" it checks on every input:
 * - a failed parse leaves the struct untouched and explains itself in one
 *   line that starts with the file name;
 * - a successful parse fills every field within its documented range
 *   (conf/config.h), strings NUL-terminated inside their arrays;
 * - the parsed struct, written back as YAML (canonical flow style, every
 *   string double-quoted with escapes) parses again to the same octets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/acl.h"
#include "answer/settings.h"
#include "cache/msgcache.h"
#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: property failed: %s\n", what);
		abort();
	}
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool path_ok(const char *s, size_t cap)
{
	return terminated(s, cap) && s[0] == '/';
}

static bool family_ok(const struct cfg_addr *a)
{
	static const uint8_t zero[12];

	if (a->family == AF_INET)
		return memcmp(a->addr + 4, zero, 12) == 0;
	return a->family == AF_INET6;
}

static bool prefix_ok(const struct cfg_prefix *p, bool network)
{
	unsigned bits = p->a.family == AF_INET ? 32 : 128;

	if (!family_ok(&p->a) || p->len > bits)
		return false;
	if (network)
		for (unsigned i = p->len; i < bits; i++)
			if (p->a.addr[i / 8] & (0x80 >> (i % 8)))
				return false;
	return true;
}

#define RANGE(v, lo, hi) ((uint64_t)(v) >= (uint64_t)(lo) && (uint64_t)(v) <= (uint64_t)(hi))

static void check_ranges(const struct cfg *c)
{
	const typeof(c->resolver) *r = &c->resolver;

	check(path_ok(r->root_hints, sizeof(r->root_hints)), "root-hints");
	check(r->trust_anchor[0] == '\0' ||
	      path_ok(r->trust_anchor, sizeof(r->trust_anchor)), "trust-anchor");
	check(r->qname_min <= CFG_QMIN_STRICT, "qname-minimisation");
	check(!r->has_validation_time ||
	      RANGE(r->validation_time, 0, 253402300799LL), "validation-time");
	check(RANGE(r->nsec3_max_iterations, 0, 2500), "nsec3-max-iterations");
	check(RANGE(r->max_rrset_records, 1, 65535), "max-rrset-records");
	check(RANGE(r->cache_size_bytes, 1ull << 20, 1ull << 40), "resolver.cache-size");
	check(RANGE(r->limits.max_referrals, 1, 255) &&
	      RANGE(r->limits.max_ns_per_referral, 1, 64) &&
	      RANGE(r->limits.max_upstream_queries, 1, 10000) &&
	      RANGE(r->limits.max_cname_chain, 0, 255) &&
	      RANGE(r->limits.max_time_ms, 1, 600000) &&
	      RANGE(r->limits.max_zone_share, 1, 100), "limits");
	check(RANGE(r->upstream.edns_buffer, 512, 4096) &&
	      RANGE(r->upstream.timeout_ms, 10, 60000) &&
	      RANGE(r->upstream.retries, 0, 10), "upstream");
	check(r->upstream.port_min >= 1 && r->upstream.port_min <= r->upstream.port_max &&
	      r->upstream.n_port_exclude <= CFG_PORT_EXCLUDE_MAX, "ports");
	for (unsigned i = 0; i < r->upstream.n_port_exclude; i++)
		check(r->upstream.port_exclude[i][0] >= 1 &&
		      r->upstream.port_exclude[i][0] <= r->upstream.port_exclude[i][1],
		      "ports.exclude");
	check(r->n_do_not_query <= CFG_QUERY_PREFIXES_MAX &&
	      r->n_do_query <= CFG_QUERY_PREFIXES_MAX, "do-not-query and do-query counts");
	for (unsigned i = 0; i < r->n_do_not_query; i++)
		check(prefix_ok(&r->do_not_query[i], true), "do-not-query prefix");
	for (unsigned i = 0; i < r->n_do_query; i++)
		check(prefix_ok(&r->do_query[i], true), "do-query prefix");
	check(r->upstream.n_source <= CFG_SOURCE_MAX, "source-addresses count");
	for (unsigned i = 0; i < r->upstream.n_source; i++)
		check(family_ok(&r->upstream.source[i]), "source address");

	check(RANGE(c->cache.size_bytes, 1ull << 20, 1ull << 40), "cache.size");
	check(c->cache.max_ttl_s >= 1 && c->cache.max_ttl_s <= CFG_TTL_MAX_S &&
	      c->cache.min_ttl_s <= c->cache.max_ttl_s &&
	      c->cache.max_negative_ttl_s <= CFG_TTL_MAX_S, "TTL bounds");
	check(RANGE(c->cache.max_stale_s, 1, CFG_TTL_MAX_S) &&
	      RANGE(c->cache.stale_answer_ttl_s, 1, 86400) &&
	      RANGE(c->cache.stale_client_timeout_ms, 0, 60000), "serve-stale");
	check(c->cache.prefetch_threshold_percent <= 100, "prefetch");
	check(RANGE(c->cache.failure_ttl_s, 1, 30) &&
	      RANGE(c->cache.max_failure_ttl_s, c->cache.failure_ttl_s, 300), "failure-ttl");

	check(c->n_acl <= CFG_ACL_MAX, "access-control count");
	for (unsigned i = 0; i < c->n_acl; i++)
		check(prefix_ok(&c->acl[i].prefix, true) &&
		      c->acl[i].action <= CFG_ACL_DROP, "access-control rule");
	check(c->n_listen >= 1 && c->n_listen <= CFG_LISTEN_MAX, "listen count");
	for (unsigned i = 0; i < c->n_listen; i++)
		check(family_ok(&c->listen[i].a) && c->listen[i].port >= 1,
		      "listen address");
	check(path_ok(c->control.socket, sizeof(c->control.socket)),
	      "control.socket");
	check(c->control.n_notify <= CFG_NOTIFY_LISTEN_MAX, "notify-listen count");
	for (unsigned i = 0; i < c->control.n_notify; i++)
		check(family_ok(&c->control.notify[i].a) && c->control.notify[i].port >= 1,
		      "notify-listen address");
	check(c->n_tsig <= CFG_TSIG_MAX, "tsig-keys count");
	for (unsigned i = 0; i < c->n_tsig; i++)
		check(terminated(c->tsig[i].name, sizeof(c->tsig[i].name)) && c->tsig[i].name[0] &&
		      c->tsig[i].alg <= CFG_TSIG_HMAC_SHA512 && c->tsig[i].secret_len >= 1 &&
		      c->tsig[i].secret_len <= CFG_TSIG_SECRET_MAX, "tsig key");
	check(c->n_policy <= CFG_POLICY_MAX, "policy count");
	for (unsigned i = 0; i < c->n_policy; i++) {
		const struct cfg_policy *p = &c->policy[i];
		check(terminated(p->name, sizeof(p->name)) && p->name[0], "policy name");
		check(p->file[0] || p->has_primary, "policy file or primary");
		check(!p->has_primary || (family_ok(&p->primary.a) && p->primary.port >= 1),
		      "policy primary");
		check(p->key == -1 || (p->has_primary && p->key >= 0 && (unsigned)p->key < c->n_tsig),
		      "policy key");
	}

	check(c->n_stub <= CFG_ZONES_MAX && c->n_forward <= CFG_ZONES_MAX, "zones count");
	for (unsigned f = 0; f < 2; f++)
		for (unsigned i = 0; i < (f ? c->n_forward : c->n_stub); i++) {
			const struct cfg_zone *z = f ? &c->forward[i] : &c->stub[i];
			check(terminated(z->name, sizeof(z->name)) && z->name[0] &&
			      strcmp(z->name, "."), "zone name");
			check(z->n_servers >= 1 && z->n_servers <= CFG_ZONE_SERVERS_MAX,
			      "zone servers count");
			for (unsigned j = 0; j < z->n_servers; j++)
				check(family_ok(&z->servers[j].a) && z->servers[j].port == 53,
				      "zone server");
			check(f || z->rd, "recursion-desired only for forward zones");
		}

	const typeof(c->dataplane) *dp = &c->dataplane;
	if (!dp->enabled) {
		check(dp->n_eal == 0 && dp->n_ports == 0 && dp->n_workers == 0 &&
		      !dp->control_down && !dp->miss_overflow && !dp->miss_budget,
		      "standalone has no dataplane settings");
		return;
	}
	check(dp->n_eal <= CFG_EAL_ARGS_MAX, "eal count");
	for (unsigned i = 0; i < dp->n_eal; i++)
		check(terminated(dp->eal[i], sizeof(dp->eal[i])) && dp->eal[i][0],
		      "eal argument");
	check(dp->n_ports >= 1 && dp->n_ports <= CFG_PORTS_MAX, "ports count");
	for (unsigned i = 0; i < dp->n_ports; i++) {
		const struct cfg_port *p = &dp->ports[i];

		check(terminated(p->device, sizeof(p->device)) && p->device[0],
		      "port device");
		check(p->n_addresses >= 1 && p->n_addresses <= CFG_PORT_ADDRS_MAX,
		      "port address count");
		for (unsigned j = 0; j < p->n_addresses; j++)
			check(prefix_ok(&p->addresses[j], false), "port address");
	}
	check(dp->n_workers >= 1 && dp->n_workers <= CFG_WORKERS_MAX,
	      "workers count");
	for (unsigned i = 0; i < dp->n_workers; i++) {
		check(dp->workers[i] <= CFG_LCORE_MAX, "worker lcore");
		for (unsigned j = 0; j < i; j++)
			check(dp->workers[i] != dp->workers[j], "workers unique");
	}
	check(dp->control_down <= CFG_DOWN_DROP, "control-down");
	check(dp->miss_overflow <= CFG_OVERFLOW_DROP, "miss-overflow");
	check(dp->miss_budget <= CFG_MISS_BUDGET_MAX, "miss-budget");
}

/* --- writing a struct back as YAML ----------------------------------- */

static char out[1 << 20];
static size_t olen;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(out + olen, sizeof(out) - olen, fmt, ap);
	va_end(ap);
	check(n >= 0 && (size_t)n < sizeof(out) - olen, "emitted YAML fits");
	olen += (size_t)n;
}

/*
 * A double-quoted scalar. The value came out of libyaml, so it is valid
 * UTF-8: ASCII controls become \xHH and every other code point \UHHHHHHHH,
 * which the reader cannot refuse as unprintable or read as a line break.
 */
static void emit_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	emit("\"");
	while (*p) {
		unsigned c = *p, n = 0;

		if (c == '"' || c == '\\') {
			emit("\\%c", c);
		} else if (c >= 0x20 && c < 0x7f) {
			emit("%c", c);
		} else if (c < 0x80) {
			emit("\\x%02x", c);
		} else {
			n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
			c &= 0x3fu >> n;
			for (unsigned i = 1; i <= n; i++) {
				check((p[i] & 0xc0) == 0x80, "strings are UTF-8");
				c = c << 6 | (p[i] & 0x3fu);
			}
			emit("\\U%08x", c);
		}
		p += n + 1;
	}
	emit("\"");
}

static void emit_addr(const struct cfg_addr *a, bool bracket)
{
	char text[INET6_ADDRSTRLEN];

	check(inet_ntop(a->family, a->addr, text, sizeof(text)) != NULL,
	      "address prints");
	if (bracket && a->family == AF_INET6)
		emit("[%s]", text);
	else
		emit("%s", text);
}

static void emit_prefix(const struct cfg_prefix *p)
{
	emit("\"");
	emit_addr(&p->a, false);
	emit("/%u\"", p->len);
}

static void emit_base64(const uint8_t *p, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	emit("\"");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		emit("%c%c%c%c", b64[v >> 18], b64[v >> 12 & 63],
		     i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '=');
	}
	emit("\"");
}

/* The policy zones and the TSIG keys (in a flow mapping each). */
static void emit_policy(const struct cfg *c)
{
	static const char *const override[] = { "given", "nxdomain", "nodata", "passthru",
						 "drop", "tcp-only", "cname" };
	static const char *const algs[] = { "hmac-sha256", "hmac-sha1", "hmac-sha224",
					    "hmac-sha384", "hmac-sha512" };

	emit("tsig-keys: [");
	for (unsigned i = 0; i < c->n_tsig; i++) {
		emit(i ? ",\n  { name: " : "\n  { name: ");
		emit_str(c->tsig[i].name);
		emit(", algorithm: %s, secret: ", algs[c->tsig[i].alg]);
		emit_base64(c->tsig[i].secret, c->tsig[i].secret_len);
		emit(" }");
	}
	emit(" ]\npolicy: [");
	for (unsigned i = 0; i < c->n_policy; i++) {
		const struct cfg_policy *p = &c->policy[i];
		emit(i ? ",\n  { name: " : "\n  { name: ");
		emit_str(p->name);
		if (p->file[0]) {
			emit(", file: ");
			emit_str(p->file);
		}
		emit(", policy: %s", override[p->override]);
		if (p->override == CFG_POLICY_CNAME) {
			emit(", cname: ");
			emit_str(p->cname);
		}
		emit(", max-ttl: %u, log: %s, ede: %s", p->max_ttl_s, p->log ? "true" : "false",
		     p->ede == 15 ? "blocked" : p->ede == 16 ? "censored"
		     : p->ede == 17 ? "filtered" : "none");
		if (p->has_primary) {
			emit(", primary: \"");
			emit_addr(&p->primary.a, true);
			emit("@%u\"", p->primary.port);
		}
		if (p->key >= 0) {
			emit(", key: ");
			emit_str(c->tsig[p->key].name);
		}
		emit(" }");
	}
	emit(" ]\n");
	for (unsigned f = 0; f < 2; f++) {
		emit(f ? "forward-zones: [" : "stub-zones: [");
		for (unsigned i = 0; i < (f ? c->n_forward : c->n_stub); i++) {
			const struct cfg_zone *z = f ? &c->forward[i] : &c->stub[i];
			emit(i ? ",\n  { name: " : "\n  { name: ");
			emit_str(z->name);
			emit(", servers: [");
			for (unsigned j = 0; j < z->n_servers; j++) {
				emit(j ? ", \"" : " \"");
				emit_addr(&z->servers[j].a, true);
				emit("@%u\"", z->servers[j].port);
			}
			emit(" ]");
			if (f)
				emit(", recursion-desired: %s", z->rd ? "true" : "false");
			emit(" }");
		}
		emit(" ]\n");
	}
}

static void emit_cfg(const struct cfg *c)
{
	static const char *const qmin[] = { "off", "relaxed", "strict" };
	static const char *const action[] = { "allow", "refuse", "drop" };
	const typeof(c->resolver) *r = &c->resolver;
	const typeof(c->cache) *k = &c->cache;

	olen = 0;
	emit("resolver: { root-hints: ");
	emit_str(r->root_hints);
	if (r->trust_anchor[0]) {
		emit(", trust-anchor: ");
		emit_str(r->trust_anchor);
	}
	emit(", qname-minimisation: %s", qmin[r->qname_min]);
	if (r->has_validation_time)
		emit(", validation-time: %lld", (long long)r->validation_time);
	emit(", nsec3-max-iterations: %u, max-rrset-records: %u, cache-size: %llu,\n",
	     r->nsec3_max_iterations, r->max_rrset_records,
	     (unsigned long long)r->cache_size_bytes);
	emit("  do-not-query: [");
	for (unsigned i = 0; i < r->n_do_not_query; i++) {
		emit(i ? ", " : " ");
		emit_prefix(&r->do_not_query[i]);
	}
	emit(" ], do-query: [");
	for (unsigned i = 0; i < r->n_do_query; i++) {
		emit(i ? ", " : " ");
		emit_prefix(&r->do_query[i]);
	}
	emit(" ], sibling-glue: %s, clock-scale: %u,\n", r->sibling_glue ? "true" : "false",
	     r->clock_scale);
	emit("  dnssec: { skew: %u, rsasha1: %s, max-verifications: %u, max-failures: %u, "
	     "max-nsec3-hashes: %u, log-bogus: %s },\n",
	     r->dnssec.skew_s, r->dnssec.rsasha1 ? "true" : "false", r->dnssec.max_verifications,
	     r->dnssec.max_failures, r->dnssec.max_nsec3_hashes,
	     r->dnssec.log_bogus ? "true" : "false");
	emit("  limits: { max-referrals: %u, max-ns-per-referral: %u, "
	     "max-upstream-queries: %u, max-cname-chain: %u, max-time-ms: %u, "
	     "max-zone-share: %u },\n",
	     r->limits.max_referrals, r->limits.max_ns_per_referral,
	     r->limits.max_upstream_queries, r->limits.max_cname_chain,
	     r->limits.max_time_ms, r->limits.max_zone_share);
	emit("  upstream: { edns-buffer: %u, use-0x20: %s, cookies: %s, "
	     "timeout-ms: %u, retries: %u,\n"
	     "    ports: { range: [%u, %u], exclude: [",
	     r->upstream.edns_buffer, r->upstream.use_0x20 ? "true" : "false",
	     r->upstream.cookies ? "true" : "false", r->upstream.timeout_ms,
	     r->upstream.retries, r->upstream.port_min, r->upstream.port_max);
	for (unsigned i = 0; i < r->upstream.n_port_exclude; i++)
		emit("%s[%u, %u]", i ? ", " : "", r->upstream.port_exclude[i][0],
		     r->upstream.port_exclude[i][1]);
	emit("] }, source-addresses: [");
	for (unsigned i = 0; i < r->upstream.n_source; i++) {
		emit(i ? ", \"" : "\"");
		emit_addr(&r->upstream.source[i], false);
		emit("\"");
	}
	emit("] } }\n");
	emit("cache: { size: %llu, min-ttl: %u, max-ttl: %u, max-negative-ttl: %u,\n"
	     "  serve-stale: { enabled: %s, max-stale: %u, answer-ttl: %u, "
	     "client-timeout-ms: %u },\n"
	     "  prefetch: { enabled: %s, threshold-percent: %u },\n"
	     "  failure-ttl: %u, max-failure-ttl: %u",
	     (unsigned long long)k->size_bytes, k->min_ttl_s, k->max_ttl_s,
	     k->max_negative_ttl_s, k->stale_enabled ? "true" : "false",
	     k->max_stale_s, k->stale_answer_ttl_s, k->stale_client_timeout_ms,
	     k->prefetch_enabled ? "true" : "false",
	     k->prefetch_threshold_percent, k->failure_ttl_s, k->max_failure_ttl_s);
	if (k->aggressive_nsec_given)
		emit(", aggressive-nsec: %s", k->aggressive_nsec ? "true" : "false");
	emit(" }\n");
	emit("tcp: { max-connections: %u, max-per-client: %u, idle-timeout-ms: %u }\n",
	     c->tcp.max_connections, c->tcp.max_per_client, c->tcp.idle_timeout_ms);
	emit_policy(c);
	emit("access-control: [");
	for (unsigned i = 0; i < c->n_acl; i++) {
		emit(i ? ",\n  { prefix: " : "\n  { prefix: ");
		emit_prefix(&c->acl[i].prefix);
		emit(", action: %s }", action[c->acl[i].action]);
	}
	emit(" ]\nlisten: [");
	for (unsigned i = 0; i < c->n_listen; i++) {
		emit(i ? ", \"" : " \"");
		emit_addr(&c->listen[i].a, true);
		emit("@%u\"", c->listen[i].port);
	}
	emit(" ]\ncontrol: { socket: ");
	emit_str(c->control.socket);
	emit(", notify-listen: [");
	for (unsigned i = 0; i < c->control.n_notify; i++) {
		emit(i ? ", \"" : " \"");
		emit_addr(&c->control.notify[i].a, true);
		emit("@%u\"", c->control.notify[i].port);
	}
	emit(" ] }\n");
	if (!c->dataplane.enabled)
		return;
	emit("dataplane:\n  eal: [");
	for (unsigned i = 0; i < c->dataplane.n_eal; i++) {
		emit(i ? ", " : " ");
		emit_str(c->dataplane.eal[i]);
	}
	emit(" ]\n  ports:\n");
	for (unsigned i = 0; i < c->dataplane.n_ports; i++) {
		const struct cfg_port *p = &c->dataplane.ports[i];

		emit("    - device: ");
		emit_str(p->device);
		emit("\n      exception: ");
		emit_str(p->exception);
		emit("\n      addresses:\n");
		for (unsigned j = 0; j < p->n_addresses; j++) {
			emit("        - ");
			emit_prefix(&p->addresses[j]);
			emit("\n");
		}
	}
	emit("  workers: [");
	for (unsigned i = 0; i < c->dataplane.n_workers; i++)
		emit(i ? ", %u" : " %u", c->dataplane.workers[i]);
	emit(" ]\n  control-down: %s\n", c->dataplane.control_down ? "drop" : "servfail");
	emit("  miss-overflow: %s\n", c->dataplane.miss_overflow ? "drop" : "servfail");
	emit("  miss-budget: %u\n", c->dataplane.miss_budget);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg a, b, sentinel;
	static char err[512];
	struct cache_config cc;

	memset(&sentinel, 0x5a, sizeof(sentinel));
	a = sentinel;
	int r = cfg_parse(&a, (const char *)data, size, "fuzz.yaml", err,
			  sizeof(err));
	if (r) {
		check(r <= CFG_E_IO && r >= CFG_E_NOMEM, "a CFG_E_* code");
		check(memcmp(&a, &sentinel, sizeof(a)) == 0,
		      "failure leaves the struct untouched");
		check(strncmp(err, "fuzz.yaml:", 10) == 0 && !strchr(err, '\n'),
		      "one message line naming the file");
		return 0;
	}
	check(err[0] == '\0', "success leaves no message");
	check_ranges(&a);
	answer_cache_config(&a, &cc);
	check(cc.max_bytes == a.cache.size_bytes, "cache mapping");
	if (size >= 16) {
		static struct answer_acl acl;
		answer_acl_build(&acl, &a);
		(void)answer_acl_lookup(&acl, data[0] & 1, data);
	}

	emit_cfg(&a);
	r = cfg_parse(&b, out, olen, "emitted.yaml", err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s\n--- emitted:\n%.*s\n", err, (int)olen, out);
		check(false, "the written-back configuration parses");
	}
	check(memcmp(&a, &b, sizeof(a)) == 0,
	      "the written-back configuration gives the same struct");
	return 0;
}
