/*
 * control/main.c: bailiwick-control -c FILE. Reads the configuration and
 * the root hints, sets up upstream I/O (a fresh port per query), and runs the iterator with
 * its own message cache behind the standalone front end (UDP and TCP on the
 * listen addresses), or, when the file has a dataplane section, attached
 * to bailiwick-dataplane (misses from its workers, TCP on the listen
 * addresses), until SIGINT or SIGTERM. When the dataplane goes away it
 * executes itself again to attach to the next one. SIGUSR1 writes the
 * counters to standard error; so does "stats" on the operator socket.
 * Control process: this thread (the front ends, the operator, one
 * iterator) and control.threads - 1 more resolving (control/pool.h);
 * errors at start name the
 * file, line and key (configuration) or the address (sockets) and exit 2
 * (configuration) or 1 (anything else).
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <urcu/urcu-qsbr.h>

#include "answer/settings.h"
#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "conf/config.h"
#include "conf/cpu.h"
#include "control/anchor.h"
#include "control/cacheview.h"
#include "control/confmap.h"
#include "control/chain.h"
#include "control/ctlsock.h"
#include "control/deleg.h"
#include "control/cpus.h"
#include "control/dplink.h"
#include "control/view.h"
#include "control/flush.h"
#include "control/hints.h"
#include "control/infra.h"
#include "control/iter.h"
#include "control/dnstap.h"
#include "control/log.h"
#include "control/metrics.h"
#include "control/parts.h"
#include "control/privs.h"
#include "control/policy.h"
#include "control/pool.h"
#include "control/server.h"
#include "control/upstream.h"
#include "control/val.h"
#include "dns/name.h"

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bailiwick-control -c FILE\n"
		   "  -c FILE   the YAML configuration (see conf/bailiwick.example.yaml)\n"
		   "  -t        check the configuration and the root hints, then exit\n"
		   "  --version print the version and exit\n");
}

/* The iterator's denial feed into our own NSEC store, as the dataplane's
 * writer puts it into the workers' (and, with a dataplane, to the writer). */
static void feed_local(void *arg, const uint8_t *msg, size_t len)
{
	struct ctl_parts *p = arg;
	struct cache_nsec_feed_result r;

	if (p->dp)
		ctl_dp_feed_nsec(p->dp, msg, len);
	p->feeds++;
	if (cache_nsec_feed(p->nsec, msg, len, ctl_iter_now(), p->max_ttl, &r)) {
		p->fed.refused++;
		return;
	}
	p->fed.ranges += r.ranges;
	p->fed.soas += r.soas;
	p->fed.refused += r.refused;
}

static void dump_stats(const struct ctl_parts *p, FILE *f)
{
	struct ctl_server *srv = p->srv;
	struct cache *cache = p->cache;
	struct ctl_server_stats ss;
	struct cache_stats cs;
	/* every control thread's, added up */
	static struct ctl_pool_sums sum;

	ctl_pool_sum(p->pool, &sum);
	const struct ctl_iter_stats is = sum.iter;
	const struct ctl_infra_stats xs = sum.infra;
	const struct up_counters uc = sum.up;
	const struct ctl_deleg_stats ds = sum.deleg;
	const struct ctl_chain_stats vs = sum.chain;
	const struct ctl_pool_stats ps = sum.pool;

	ctl_server_get_stats(srv, &ss);
	ctl_iter_cache_lock(); /* (its counters are the writer's) */
	cache_get_stats(cache, &cs);
	ctl_iter_cache_unlock();
#define P(group, s, name, text) fprintf(f, "stat %s.%s %llu\n", group, #name, \
					(unsigned long long)(s).name);
#define PS(name, text) P("server", ss, name, text)
#define PI(name, text) P("iter", is, name, text)
#define PU(name, text) P("upstream", uc, name, text)
#define PD(name, text) P("deleg", ds, name, text)
#define PX(name, text) P("infra", xs, name, text)
#define PV(name, text) P("dnssec", vs, name, text)
#define PO(name, text) P("pool", ps, name, text)
	/* the resolver's TTL clock (resolver.clock-scale: the study's) */
	fprintf(f, "stat clock.resolver_s %u\n", ctl_iter_now());
	CTL_SERVER_COUNTERS(PS)
	CTL_ITER_COUNTERS(PI)
	CTL_CHAIN_COUNTERS(PV)
	CTL_INFRA_COUNTERS(PX)
	UP_COUNTERS(PU)
	ctl_hist_print(&sum.rtt, "upstream.rtt", f);
	ctl_hist_print(&sum.resolve, "iter.resolve_time", f);
	fprintf(f, "stat pool.threads %u\n", ctl_pool_threads(p->pool));
	CTL_POOL_COUNTERS(PO)
	CTL_DELEG_COUNTERS(PD)
	fprintf(f, "stat deleg.entries %llu\n", (unsigned long long)ds.entries);
	struct ctl_dnstap_stats ts;
	ctl_dnstap_get_stats(p->dnstap, &ts);
#define PT(name, text) P("dnstap", ts, name, text)
	CTL_DNSTAP_COUNTERS(PT)
	struct ctl_log_stats ls;
	ctl_log_get_stats(&ls);
#define PL(name, text) P("log", ls, name, text)
	CTL_LOG_COUNTERS(PL)
	fprintf(f, "stat cache.entries %llu\nstat cache.bytes %llu\n",
		(unsigned long long)cs.entries, (unsigned long long)cs.bytes);
	if (p->nsec) {
		struct cache_nsec_stats ns;
		cache_nsec_get_stats(p->nsec, &ns);
		fprintf(f, "stat nsec.feeds %llu\nstat nsec.ranges %llu\nstat nsec.soas %llu\n"
			   "stat nsec.refused %llu\nstat nsec.zones %llu\nstat nsec.held %llu\n"
			   "stat nsec.bytes %llu\nstat nsec.evicted %llu\n",
			(unsigned long long)p->feeds, (unsigned long long)p->fed.ranges,
			(unsigned long long)p->fed.soas, (unsigned long long)p->fed.refused,
			(unsigned long long)ns.zones,
			(unsigned long long)(ns.nsec_ranges + ns.nsec3_ranges),
			(unsigned long long)ns.bytes, (unsigned long long)ns.evicted_zones);
	}
	/* by zone: the store clients are answered from (with a dataplane,
	 * the workers': ctl_dp_print_stats()) */
	if (p->nsec && !p->dp) {
		static struct cache_nsec_zone_info zi[32];
		char text[4 * DNS_NAME_MAX + 1];
		unsigned k = cache_nsec_zones(p->nsec, zi, 32);
		for (unsigned i = 0; i < k; i++)
			if (dns_name_to_str(zi[i].apex, text, sizeof(text)) >= 0)
				fprintf(f, "stat nsec_zone.ranges[%s] %u\n", text, zi[i].ranges);
		static struct cache_nsec_evict_info ev[CACHE_NSEC_EVICT_TALLY];
		uint64_t other;
		k = cache_nsec_evictions(p->nsec, ev, CACHE_NSEC_EVICT_TALLY, &other);
		for (unsigned i = 0; i < k; i++)
			if (dns_name_to_str(ev[i].apex, text, sizeof(text)) >= 0)
				fprintf(f, "stat nsec_zone.evictions[%s] %llu\n"
					   "stat nsec_zone.evicted_ranges[%s] %llu\n",
					text, (unsigned long long)ev[i].evictions, text,
					(unsigned long long)ev[i].ranges);
		fprintf(f, "stat nsec_zone.evictions_other %llu\n", (unsigned long long)other);
	}
	ctl_policy_print_stats(p->policy, f);
	if (p->dp) {
		uint64_t active, rejected;
		ctl_dp_policy_state(p->dp, &active, &rejected);
		fprintf(f, "stat policy.dataplane_generation %llu\nstat policy.dataplane_rejected %llu\n",
			(unsigned long long)active, (unsigned long long)rejected);
		ctl_dp_print_stats(p->dp, f);
	}
	fflush(f);
}

/* bailiwick-ctl stats [--reset]: the counters since the last reset (or
 * the start), gauges as they are; --reset starts the count again (for
 * this verb only: the metrics endpoint's counters never go back). */
static void stats(struct ctl_parts *p, const char *opt, FILE *f)
{
	char *text = NULL;
	size_t len = 0;
	bool reset = opt && !strcmp(opt, "--reset");

	if (opt && !reset) {
		fprintf(f, "error: stats takes --reset or nothing, not \"%s\"\n", opt);
		return;
	}
	FILE *m = open_memstream(&text, &len);
	if (!m) {
		fprintf(f, "error: out of memory\n");
		return;
	}
	dump_stats(p, m);
	fclose(m);
	ctl_metrics_since(text, len, p->stats_base, p->stats_base ? p->stats_base_len : 0, f);
	if (reset) {
		free(p->stats_base);
		p->stats_base = text;
		p->stats_base_len = len;
	} else {
		free(text);
	}
}

/* A scrape of the metrics endpoint: every counter as it is. */
static void metrics_fill(void *arg, FILE *f)
{
	dump_stats(arg, f);
}

static int command(void *arg, const char *cmd, FILE *f)
{
	struct ctl_parts *p = arg;

	const char *zone;
	if (ctl_sock_verb(cmd, "reload-policy", &zone)) {
		ctl_reload_policy(p, zone, f);
		return 0;
	}
	const char *opt;
	if (ctl_sock_verb(cmd, "stats", &opt)) {
		stats(p, opt, f);
		return 0;
	}
	if (!strcmp(cmd, "reload")) {
		ctl_reload_config(p, f);
		return 0;
	}
	const char *lvl;
	if (ctl_sock_verb(cmd, "set-log-level", &lvl)) {
		if (ctl_log_set_level_verb(lvl, p->dp != NULL, f))
			ctl_log_applied(p);
		return 0;
	}
	/* the verbs of their own files: each says whether cmd is one of its;
	 * "json VERB ...": a table view's answer as one JSON object */
	const char *rest;
	bool json = ctl_sock_verb(cmd, "json", &rest) && rest;
	struct ctl_flush_parts fx = { p->cache, p->nsec, p->pool, p->dp, p->loop, p->sock };
	struct ctl_view_parts vx = { p->pool, json };
	struct ctl_cacheview_parts cx = { p->cache, p->dp, p->sock, p->loop, json };
	if (json) {
		if (ctl_view_command(&vx, ctl_iter_now(), rest, f) != CTL_E_UNKNOWN_COMMAND ||
		    ctl_cacheview_command(&cx, ctl_iter_now(), rest, f) != CTL_E_UNKNOWN_COMMAND)
			return 0;
		fprintf(f, "error: json: no JSON form of \"%s\" (servers, dump-delegations, "
			   "lookup-delegation, dump-cache, lookup)\n", rest);
		return 0;
	}
	if (ctl_flush_command(&fx, cmd, f) != CTL_E_UNKNOWN_COMMAND ||
	    ctl_view_command(&vx, ctl_iter_now(), cmd, f) != CTL_E_UNKNOWN_COMMAND ||
	    ctl_cacheview_command(&cx, ctl_iter_now(), cmd, f) != CTL_E_UNKNOWN_COMMAND)
		return 0;
	if (!strcmp(cmd, "status")) {
		size_t len;
		const struct policy_snap *s = ctl_policy_snap(p->policy, &len);
		fprintf(f, "version %s\nmode %s\npid %d\nuptime_s %llu\nconfig_generation %llu\n"
			   "policy_generation %llu\nlog_level %s\n", BW_VERSION,
			p->dp ? "dataplane" : "standalone", (int)getpid(),
			(unsigned long long)((ctl_now_ms() - p->started_ms) / 1000),
			(unsigned long long)p->cfg_gen, (unsigned long long)(s ? policy_gen(s) : 0),
			cfg_log_levels[cfg_log_get_level()]);
		if (p->dp) {
			uint64_t active, rejected;
			ctl_dp_settings_state(p->dp, &active, &rejected);
			fprintf(f, "dataplane_config_generation %llu\n", (unsigned long long)active);
			ctl_dp_policy_state(p->dp, &active, &rejected);
			fprintf(f, "dataplane_policy_generation %llu\n", (unsigned long long)active);
			ctl_dp_print_ports(p->dp, f);
		}
		return 0;
	}
	return CTL_E_UNKNOWN_COMMAND;
}

/* A refresh of a zone from its primary (the timers, a NOTIFY) ended: what
 * it reported goes to the log (a failure repeats at every retry: limited),
 * a new snapshot to the workers at once (the heartbeat would retry it
 * anyway). */
static void transferred(void *arg, int r, const char *err, unsigned failed, const char *report,
			size_t len)
{
	struct ctl_parts *p = arg;
	size_t slen = 0;
	const struct policy_snap *s = ctl_policy_snap(p->policy, &slen);

	/* a failure repeats at every retry: its lines (the summary and the
	 * report's) go through one limit */
	static struct cfg_log_limit failing;
	if (r || failed)
		cfg_log_limited(&failing, CFG_LOG_WARNING, "policy refresh: %s", err);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(report + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (report + i)) : len - i;
		if (ll && (r || failed))
			cfg_log_limited(&failing, CFG_LOG_WARNING, "%.*s", (int)ll, report + i);
		else if (ll)
			cfg_log(CFG_LOG_NOTICE, "%.*s", (int)ll, report + i);
		i += ll + 1;
	}
	if (!r && s && p->dp && policy_gen(s) > ctl_dp_policy_gen(p->dp))
		ctl_dp_publish_policy(p->dp, s, slen);
}

/* Upstream I/O; IPv6 only where the host has it. threads: how many
 * contexts there will be (descriptors for each); say: the notices (the
 * first one only). */
static struct up_ctx *open_upstream(struct ctl_loop *loop, const struct cfg *c,
				    unsigned threads, bool say)
{
	const typeof(c->resolver.upstream) *u = &c->resolver.upstream;
	struct up_config uc;
	struct up_ctx *up;
	int err = 0;
	struct rlimit rl;

	up_config_default(&uc);
	uc.port_min = u->port_min;
	uc.port_max = u->port_max;
	uc.n_exclude = u->n_port_exclude;
	memcpy(uc.exclude, u->port_exclude, sizeof(uc.exclude[0]) * u->n_port_exclude);
	/* and our own listen ports: a reply to one would meet our listener */
	for (unsigned i = 0; i < c->n_listen && uc.n_exclude < UP_EXCLUDE_MAX; i++) {
		uc.exclude[uc.n_exclude][0] = uc.exclude[uc.n_exclude][1] = c->listen[i].port;
		uc.n_exclude++;
	}
	for (unsigned i = 0; i < u->n_source; i++) {
		const struct cfg_addr *a = &u->source[i];
		if (a->family == AF_INET)
			memcpy(&uc.src4.sin_addr, a->addr, 4);
		else
			memcpy(&uc.src6.sin6_addr, a->addr, 16);
	}
	/* one socket per outstanding query (UDP or TCP), and clients */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)uc.max_queries * threads + 4096;
		if (rl.rlim_cur < want) {
			rl.rlim_cur = want > rl.rlim_max ? rl.rlim_max : want;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (!(up = up_new(loop, &uc, &err))) {
		cfg_log(CFG_LOG_ERR, "upstream: %s", ctl_strerror(err));
		return NULL;
	}
	if (say && !(up_families(up) & 2))
		cfg_log(CFG_LOG_NOTICE, "no IPv6 on this host: IPv4 servers only");
	/* 2^14 ports and fewer: a spoofer's odds grow past 1 in 2^30 a try */
	if (say && up_port_count(up) < 16384)
		cfg_log(CFG_LOG_WARNING, "warning: only %u source ports to draw from "
				"(resolver.upstream.ports): about %.1f bits of port entropy",
			up_port_count(up), log2(up_port_count(up)));
	return up;
}

/* control.threads, or (0) the CPUs we may run on less the dataplane's
 * workers among them (their lcore ids taken as CPUs, as "-l" gives them:
 * a worker on a CPU we may not run on, isolcpus', takes none of ours),
 * at least one. */
static unsigned control_threads(const struct cfg *c)
{
	cpu_set_t set;
	long n;

	if (c->control.threads)
		return c->control.threads;
	bool known = sched_getaffinity(0, sizeof(set), &set) == 0;

	n = known ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	if (c->dataplane.enabled)
		for (unsigned i = 0; i < c->dataplane.n_workers; i++)
			n -= !known || (c->dataplane.workers[i] < CPU_SETSIZE &&
					CPU_ISSET(c->dataplane.workers[i], &set));
	return n < 1 ? 1 : n > CFG_CONTROL_THREADS_MAX ? CFG_CONTROL_THREADS_MAX : (unsigned)n;
}

/* One control thread's iterator, on loop (sh->loop): its delegation table
 * from the hints and the routed zones, its upstream context, validation
 * with the anchors. false: it said why (the parts made so far in sh). */
static bool build_shard(struct ctl_pool_shard *sh, struct ctl_loop *loop, const struct cfg *cfg,
			const struct ctl_referral *hints, const struct ctl_iter_config *ic,
			struct cache *cache, const struct ctl_anchors *anchors, unsigned threads,
			bool first)
{
	char err[512];

	sh->loop = loop;
	if (!loop || !(sh->deleg = ctl_deleg_table_new(0, cfg->cache.max_ttl_s)) ||
	    ctl_deleg_set_hints(sh->deleg, hints, ctl_iter_now()) ||
	    ctl_routed_zones(sh->deleg, cfg, ic, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return false;
	}
	if (!(sh->up = open_upstream(loop, cfg, threads, first)))
		return false;
	if (!(sh->it = ctl_iter_new(loop, sh->up, cache, sh->deleg, ic))) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return false;
	}
	if (anchors) {
		struct ctl_val_limits lim;
		ctl_val_limits_of(cfg, &lim);
		if (ctl_iter_set_validation(sh->it, anchors, &lim,
					    cfg->resolver.has_validation_time
						    ? cfg->resolver.validation_time : 0)) {
			cfg_log(CFG_LOG_ERR, "out of memory");
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	static struct cfg cfg;
	static struct ctl_referral hints;
	char err[512];
	int code = 0;
	const char *path = NULL;
	bool check = false;
	int opt;

	cfg_log_open("bailiwick-control");
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("bailiwick-control %s (shm ABI %u)\n", BW_VERSION, SHM_ABI_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "c:th")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	static uint8_t cfg_sha256[CFG_SHA256_LEN];
	if (cfg_load_sha256(&cfg, path, cfg_sha256, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s", err);
		return 2;
	}
	if (ctl_hints_load(cfg.resolver.root_hints, &hints, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "root hints: %s", err);
		return 2;
	}
	static struct ctl_iter_config ic;
	ctl_iter_config_of(&cfg, &ic);
	if (!ctl_hints_usable(&hints, &ic)) {
		cfg_log(CFG_LOG_ERR, "%s: resolver.do-not-query: every address of "
				"the root hints (%s) is excluded; list them in resolver.do-query",
			path, cfg.resolver.root_hints);
		return 2;
	}
	if (ctl_routed_zones(NULL, &cfg, &ic, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s: %s", path, err);
		return 2;
	}
	struct ctl_anchors *anchors = NULL;
	uint64_t anchors_id = ANCHORS_NONE;
	if (cfg.resolver.trust_anchor[0] &&
	    ctl_anchors_read(cfg.resolver.trust_anchor, &cfg, &anchors, &anchors_id, err,
			     sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s: resolver.trust-anchor: %s", path, err);
		return 2;
	}
	/* Response policy zones: a zone that does not load stops the start
	 * (there is no earlier version to keep, and running without a
	 * configured block list is not what was asked for). */
	struct ctl_policy *policy = ctl_policy_new(&cfg);
	if (!policy) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return 1;
	}
	if (check)
		ctl_policy_offline(policy); /* no zone transfers for a check */
	if (cfg.n_policy) {
		unsigned failed;
		if (ctl_policy_load(policy, NULL, true, stderr, &failed, err, sizeof(err))) {
			cfg_log(CFG_LOG_ERR, "%s: %s", path, err);
			ctl_policy_free(policy);
			return 2;
		}
		size_t slen;
		const struct policy_snap *s = ctl_policy_snap(policy, &slen);
		cfg_log(CFG_LOG_NOTICE, "policy: %u zone%s, %llu rules", cfg.n_policy,
			cfg.n_policy == 1 ? "" : "s", (unsigned long long)policy_rules(s));
	}
	if (check) {
		ctl_policy_free(policy);
		return 0;
	}

	urcu_qsbr_register_thread();
	if (cfg.resolver.clock_scale > 1) {
		/* with a dataplane, from its base once attached (below) */
		ctl_iter_set_clock_scale(cfg.resolver.clock_scale, 0);
		cfg_log(CFG_LOG_NOTICE, "the clock runs %u times as fast "
				"(resolver.clock-scale: for trace replays only)",
			cfg.resolver.clock_scale);
	}
	struct cache_config cc;
	cache_config_default(&cc);
	answer_cache_config(&cfg, &cc);
	/* With a dataplane its cache is the client cache (TCP included:
	 * server.c asks it); ours only holds what iteration needs on the way,
	 * in resolver.cache-size. Standalone, ours is the client cache. */
	if (cfg.dataplane.enabled)
		cc.max_bytes = (size_t)cfg.resolver.cache_size_bytes;
	struct cache *cache = cache_new(&cc);
	if (!cache) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return 1;
	}
	/* control.threads iterators on the one cache: this thread's (its
	 * loop the front ends' too) and the pool's */
	unsigned threads = control_threads(&cfg);
	static struct ctl_pool_shard shards[CFG_CONTROL_THREADS_MAX];
	for (unsigned i = 0; i < threads; i++) {
		if (!build_shard(&shards[i], ctl_loop_new(NULL), &cfg, &hints, &ic, cache, anchors,
				 threads, i == 0))
			return 1;
		/* one port mechanism: the ports drawn last avoided by all */
		if (i && up_share_ports(shards[i].up, shards[0].up)) {
			cfg_log(CFG_LOG_ERR, "control threads: the source port sets differ");
			return 1;
		}
	}
	struct ctl_pool *pool = ctl_pool_new(shards, threads, &code);
	if (!pool) {
		cfg_log(CFG_LOG_ERR, "control threads: %s", code == CTL_E_NOMEM ? "out of memory"
								    : strerror(errno));
		return 1;
	}
	struct ctl_loop *loop = shards[0].loop;
	struct up_ctx *up = shards[0].up;
	struct ctl_deleg_table *deleg = shards[0].deleg;
	struct ctl_iter *it = shards[0].it;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ctl_parts parts = { it, up, NULL, deleg, cache, NULL, policy, loop, NULL, NULL,
			       { 0 }, 0, 0, &cfg, path, cfg_sha256, 1, &hints, false, anchors,
			       anchors_id, NULL, 0, ctl_now_ms(), NULL, pool };
	if (cfg.dataplane.enabled) {
		cfg_log(CFG_LOG_NOTICE, "waiting for the dataplane");
		parts.dp = ctl_dp_attach(loop, it, &cfg, cfg_sha256, argv[0],
					 (volatile int *)&stop, 0, &code, err, sizeof(err));
		if (!parts.dp) {
			/* the line names what was refused and why; the code
			 * says which kind (control/err.h) */
			cfg_log(CFG_LOG_ERR, "%s", err);
			return stop && code == CTL_E_NO_DATAPLANE ? 0 : 1;
		}
		/* one clock for both: the dataplane's scale (the same
		 * configuration, checked on attaching) from its base */
		if (cfg.resolver.clock_scale > 1)
			ctl_iter_set_clock_scale(cfg.resolver.clock_scale,
						 ctl_dp_clock_base_ms(parts.dp));
		/* our generations above what the dataplane holds (from a
		 * control before us), and ours published: the workers drop
		 * an earlier control's policy for the configured one */
		ctl_policy_set_gen(policy, ctl_dp_policy_gen(parts.dp) + 1);
		size_t slen;
		const struct policy_snap *s = ctl_policy_snap(policy, &slen);
		if (s && (code = ctl_dp_publish_policy(parts.dp, s, slen)))
			cfg_log(CFG_LOG_WARNING, "policy: the dataplane did not take "
					"it: %s (retried every %u ms)", ctl_strerror(code),
				SHM_HEARTBEAT_MS);
		ctl_dp_set_policy(parts.dp, policy);
		/* our settings (ACL, EDNS size) in force in the workers, above
		 * whatever an earlier control published */
		parts.cfg_gen = ctl_dp_settings_gen(parts.dp) + 1;
		ctl_dp_publish_settings(parts.dp, &cfg, parts.cfg_gen, cfg_sha256, anchors_id);
	}
	struct ctl_server *srv = ctl_server_new(loop, it, cache, parts.dp, &cfg, &code, err,
						sizeof(err));
	struct ctl_sock *sock = srv ? ctl_sock_new(loop, cfg.control.socket,
						   cfg.control.socket_mode, cfg.control.socket_group,
						   command, &parts, &code, err, sizeof(err)) : NULL;
	struct ctl_metrics *metrics = NULL;
	if (sock && cfg.metrics.enabled)
		metrics = ctl_metrics_new(loop, &cfg.metrics.listen, metrics_fill, &parts, &code,
					  err, sizeof(err));
	if (!srv || !sock || (cfg.metrics.enabled && !metrics)) {
		cfg_log(CFG_LOG_ERR, "%s", err);
		return 1;
	}
	parts.srv = srv;
	parts.sock = sock;
	if (cfg.n_policy)
		ctl_server_set_policy(srv, policy);
	/* (with no zone yet: a reload may add some) */
	if (ctl_policy_start_transfers(policy, loop, transferred, &parts, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s", err);
		return 1;
	}
	if (cfg.cache.aggressive_nsec) {
		/* RFC 8198: our store, as the dataplane's. With a dataplane it
		 * answers the misses whose range has not reached the workers
		 * yet: an eighth of resolver.cache-size, as cache.size's
		 * eighth is theirs. */
		struct cache_nsec_config nc;
		cache_nsec_config_default(&nc);
		answer_nsec_config(&cfg, &nc);
		if (parts.dp)
			nc.max_bytes = (size_t)(cfg.resolver.cache_size_bytes / 8);
		parts.max_ttl = cfg.cache.max_negative_ttl_s;
		if (!(parts.nsec = cache_nsec_new(&nc))) {
			cfg_log(CFG_LOG_ERR, "out of memory");
			return 1;
		}
		ctl_pool_set_feed(pool, feed_local, &parts, CACHE_NSEC_FEED_MAX);
		if (parts.dp)
			ctl_dp_set_nsec(parts.dp, parts.nsec);
		else
			ctl_server_set_nsec(srv, parts.nsec);
	}
	/* control.user (standalone): root no more, now that every socket is
	 * bound and every file open */
	if (cfg.control.user[0]) {
		if (ctl_drop_privileges(cfg.control.user, err, sizeof(err))) {
			cfg_log(CFG_LOG_ERR, "%s", err);
			return 1;
		}
		cfg_log(CFG_LOG_NOTICE, "running as %s (uid %u)", cfg.control.user,
			(unsigned)getuid());
	}
	/* dnstap, as the user we run as (its file is made and reopened by
	 * libfstrm's thread: as that user, or it could not be after an
	 * error), before the first miss or client is taken (the loop) */
	if (cfg.dnstap.enabled) {
		if (!(parts.dnstap = ctl_dnstap_new(&cfg, err, sizeof(err)))) {
			cfg_log(CFG_LOG_ERR, "%s: %s", path, err);
			return 1;
		}
		ctl_server_set_dnstap(srv, parts.dnstap);
	}
	bool ctap = cfg.dnstap.client_queries || cfg.dnstap.client_responses;
	if (parts.dp && ((parts.dnstap && ctap) || cfg.log.query_sample) &&
	    ctl_dp_set_taps(parts.dp, ctap ? parts.dnstap : NULL, cfg.log.query_sample != 0, err,
			    sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s", err);
		return 1;
	}
	/* Until here every line went to stderr (an error at start, and -t's,
	 * reach whoever started us); from here on, to log.target. */
	ctl_log_configure(&cfg);
	ctl_log_applied(&parts);
	if (cfg.log.query_sample && !cfg_log_on(CFG_LOG_INFO))
		cfg_log(CFG_LOG_NOTICE, "log.query-sample %u: the log level is below info: "
					"the queries copied are not written",
			cfg.log.query_sample);
	cfg_log(CFG_LOG_NOTICE, "%s, %u listen address%s%s, %u root servers",
		parts.dp ? "attached to the dataplane" : "standalone",
		cfg.n_listen, cfg.n_listen == 1 ? "" : "es", parts.dp ? " (TCP)" : "",
		hints.nns);
	cfg_log(CFG_LOG_NOTICE, "client cache: %s; its own cache %llu MiB; %u thread%s resolving",
		parts.dp ? "the dataplane's" : "its own",
		(unsigned long long)(cc.max_bytes >> 20), threads, threads == 1 ? "" : "s");
	if (ctl_pool_start(pool)) {
		cfg_log(CFG_LOG_ERR, "control threads: %s", strerror(errno));
		ctl_pool_free(pool); /* those started stop before we go */
		return 1;
	}
	/* systemd (Type=notify): ready now; the watchdog is kept while the
	 * loop turns (no-ops without NOTIFY_SOCKET) */
	sd_notifyf(0, "READY=1\nSTATUS=resolving (%s)", parts.dp ? "attached to the dataplane"
								: "standalone");
	uint64_t wd_us = 0, next_wd = 0;
	if (sd_watchdog_enabled(0, &wd_us) <= 0)
		wd_us = 0;
	bool loop_failed = false; /* exit 1, not a stop asked for */

	while (!stop) {
		if (wd_us && ctl_now_ms() >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = ctl_now_ms() + wd_us / 2000;
		}
		int n = ctl_loop_run_once(loop, 200);
		if (n < 0) {
			cfg_log(CFG_LOG_ERR, "event loop: %s: %s", ctl_strerror(n),
				strerror(errno));
			loop_failed = true;
			break;
		}
		if (ctl_pool_failed(pool)) {
			loop_failed = true;
			break;
		}
		/* entry pointers from this round's lookups are not kept */
		cache_reader_quiescent();
		uint64_t removed = 0;
		for (;;) {
			ctl_iter_cache_lock();
			bool more = cache_trim(cache, ctl_iter_now(), CACHE_TRIM_SLICE, &removed);
			ctl_iter_cache_unlock();
			if (!more || ctl_loop_run_once(loop, 0) < 0)
				break;
			cache_reader_quiescent(); /* slices between rounds of events */
		}
		if (dump) {
			dump = 0;
			dump_stats(&parts, stderr);
		}
		if (parts.dp && ctl_dp_lost(parts.dp))
			break;
	}
	bool reattach = !stop && parts.dp && ctl_dp_lost(parts.dp);
	sd_notify(0, reattach ? "STATUS=the dataplane went away: attaching to the next one"
			      : "STOPPING=1");
	dump_stats(&parts, stderr);
	/* the other threads stop first: nothing of theirs runs from here on
	 * (what they were resolving ends without callbacks) */
	ctl_pool_free(pool);
	parts.pool = NULL;
	ctl_dp_detach(parts.dp);
	/* a policy reload still running ends in ctl_policy_free() below, and
	 * its callback must not publish to the dataplane just left */
	parts.dp = NULL;
	ctl_metrics_free(metrics);
	ctl_sock_free(sock);
	/* (its answer, if the operator waits for one, then written at once:
	 * the loop runs no more) */
	parts.sock = NULL;
	free(parts.stats_base);
	ctl_server_free(srv);
	ctl_iter_free(it);
	free(parts.anchors); /* (every chain of trust that read it is gone) */
	cache_nsec_free(parts.nsec);
	ctl_policy_free(policy);
	up_free(up);
	/* what is queued is written before we go (or exec) */
	if (!ctl_dnstap_free(parts.dnstap, CTL_DNSTAP_FREE_WAIT_MS))
		cfg_log(CFG_LOG_WARNING, "dnstap: the reader took nothing in %u ms: what was "
					 "queued for it is lost", CTL_DNSTAP_FREE_WAIT_MS);
	ctl_loop_free(loop);
	ctl_deleg_table_free(deleg);
	cache_free(cache);
	urcu_qsbr_unregister_thread();
	if (reattach) {
		/* An EAL secondary attaches once per process: start afresh. */
		cfg_log(CFG_LOG_NOTICE, "the dataplane went away; restarting to "
				"attach to the next one");
		/* Nothing of this attach may survive into the next: EAL's locks on
		 * the old memory files and the TAP queues it was handed would keep
		 * a new dataplane from starting. */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		ctl_cpus_restore();
		execv("/proc/self/exe", argv);
		cfg_log(CFG_LOG_ERR, "exec: %s", strerror(errno));
		return 1;
	}
	cfg_log(CFG_LOG_NOTICE, "stopped");
	return loop_failed ? 1 : 0;
}
