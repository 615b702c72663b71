/*
 * control/main.c: bailiwick-control -c FILE. Reads the configuration and
 * the root hints, sets up upstream I/O (a fresh port per query), and runs the iterator with
 * its own message cache behind the standalone front end (UDP and TCP on the
 * listen addresses), or, when the file has a dataplane section, attached
 * to bailiwick-dataplane (misses from its workers, TCP on the listen
 * addresses), until SIGINT or SIGTERM. When the dataplane goes away it
 * executes itself again to attach to the next one. SIGUSR1 writes the
 * counters to standard error; so does "stats" on the operator socket. Control process, one thread; errors at start name the
 * file, line and key (configuration) or the address (sockets) and exit 2
 * (configuration) or 1 (anything else).
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <math.h>
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
#include "control/dplink.h"
#include "control/view.h"
#include "control/flush.h"
#include "control/hints.h"
#include "control/infra.h"
#include "control/iter.h"
#include "control/dnstap.h"
#include "control/log.h"
#include "control/metrics.h"
#include "control/privs.h"
#include "control/policy.h"
#include "control/reconf.h"
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

struct parts {
	struct ctl_iter *it;
	struct up_ctx *up;
	struct ctl_server *srv;
	struct ctl_deleg_table *deleg;
	struct cache *cache;
	struct ctl_dp *dp;		/* NULL: standalone */
	struct ctl_policy *policy;	/* the response policy zones */
	struct ctl_loop *loop;
	struct ctl_sock *sock;
	struct cache_nsec *nsec;	/* with aggressive NSEC: the store the
					   server answers from (standalone), or
					   the dataplane's misses (ctl_dp_set_nsec()) */
	struct cache_nsec_feed_result fed; /* what went into it */
	uint64_t feeds;
	uint32_t max_ttl;		/* cache.max-negative-ttl */
	/* the configuration in force: its file, the file's SHA-256, and its
	 * generation (moves with each reload that changed something; the
	 * dataplane reports the one it applies) */
	struct cfg *cfg;
	const char *cfg_path;
	uint8_t *cfg_sha256;
	uint64_t cfg_gen;
	const struct ctl_referral *hints;	/* the root hints read at start */
	bool reconf_busy;	/* a reload waits for its policy list */
	/* the trust anchors in force (NULL: no validation) and the identity
	 * of validation (ctl_validation_id(): the dataplane empties its caches
	 * when it changes) */
	struct ctl_anchors *anchors;
	uint64_t anchors_id;
	/* the stat lines at the last "stats --reset" (NULL: none since the
	 * start): "stats" shows the counters since */
	char *stats_base;
	size_t stats_base_len;
	uint64_t started_ms;	/* ctl_now_ms() at the start (status' uptime) */
	struct ctl_dnstap *dnstap;	/* NULL: no dnstap section */
};

/* The iterator's denial feed into our own NSEC store, as the dataplane's
 * writer puts it into the workers' (and, with a dataplane, to the writer). */
static void feed_local(void *arg, const uint8_t *msg, size_t len)
{
	struct parts *p = arg;
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

/* The upstream module's tap: dnstap's resolver messages (arg: NULL when
 * dnstap is off) and the debug level's lines; set only while one of them
 * wants it (log_applied()), so that no query pays for a copy nobody takes. */
static void upstream_tap(void *arg, bool reply, const struct sockaddr_storage *server,
			 uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
			 uint64_t age_us, const uint8_t *zone)
{
	if (arg)
		ctl_dnstap_upstream(arg, reply, server, local_port, tcp, msg, len, age_us, zone);
	ctl_log_upstream(NULL, reply, server, local_port, tcp, msg, len, age_us, zone);
}

/* The log level and target in force changed (start, reload, set-log-level):
 * the dataplane follows, and the upstream tap is on while dnstap or the
 * debug level wants it. */
static void log_applied(struct parts *p)
{
	if (p->dp)
		ctl_dp_publish_log(p->dp);
	up_set_tap(p->up, p->dnstap || cfg_log_on(CFG_LOG_DEBUG) ? upstream_tap : NULL, p->dnstap);
}

static void dump_stats(const struct parts *p, FILE *f)
{
	struct ctl_iter *it = p->it;
	struct up_ctx *up = p->up;
	struct ctl_server *srv = p->srv;
	struct ctl_deleg_table *deleg = p->deleg;
	struct cache *cache = p->cache;
	struct ctl_iter_stats is;
	struct ctl_infra_stats xs;
	struct up_counters uc;
	struct ctl_server_stats ss;
	struct ctl_deleg_stats ds;
	struct cache_stats cs;
	struct ctl_chain_stats vs;

	ctl_iter_get_stats(it, &is);
	ctl_iter_get_chain_stats(it, &vs);
	ctl_iter_get_infra_stats(it, &xs);
	up_counters_get(up, &uc);
	ctl_server_get_stats(srv, &ss);
	ctl_deleg_get_stats(deleg, &ds);
	cache_get_stats(cache, &cs);
#define P(group, s, name, text) fprintf(f, "stat %s.%s %llu\n", group, #name, \
					(unsigned long long)(s).name);
#define PS(name, text) P("server", ss, name, text)
#define PI(name, text) P("iter", is, name, text)
#define PU(name, text) P("upstream", uc, name, text)
#define PD(name, text) P("deleg", ds, name, text)
#define PX(name, text) P("infra", xs, name, text)
#define PV(name, text) P("dnssec", vs, name, text)
	/* the resolver's TTL clock (resolver.clock-scale: the study's) */
	fprintf(f, "stat clock.resolver_s %u\n", ctl_iter_now());
	CTL_SERVER_COUNTERS(PS)
	CTL_ITER_COUNTERS(PI)
	CTL_CHAIN_COUNTERS(PV)
	CTL_INFRA_COUNTERS(PX)
	UP_COUNTERS(PU)
	ctl_hist_print(up_rtt_hist(up), "upstream.rtt", f);
	ctl_hist_print(ctl_iter_resolve_hist(it), "iter.resolve_time", f);
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

/* bailiwick-ctl reload-policy [ZONE]: the zone files read again (in
 * policy.c's thread: the loop goes on), the new snapshot in force for
 * control and published to the workers. The first line says how it went
 * ("error: ..." makes bailiwick-ctl exit 1): a zone that failed keeps its
 * previous version and is an error; records rejected one by one follow
 * as FILE:LINE lines. */
struct reload_req {
	struct parts *p;
	int fd;		/* the operator's connection */
	/* with a dataplane: the answer waits until its workers have the
	 * generation (or it refused it), at most RELOAD_WAIT_MS */
	struct ctl_timer wait;
	uint64_t gen, rules;
	unsigned waited_ms;
	char *report;
	size_t len;
};

#define RELOAD_WAIT_MS 3000

static void reload_answer(struct reload_req *q, const char *first)
{
	size_t n = strlen(first);
	char *text = malloc(n + q->len);

	if (text) {
		memcpy(text, first, n);
		memcpy(text + n, q->report, q->len);
		ctl_sock_reply(q->fd, text, n + q->len);
	} else {
		close(q->fd);
	}
	free(text);
	free(q->report);
	free(q);
}

static void reload_wait(struct ctl_loop *loop, void *arg)
{
	struct reload_req *q = arg;
	uint64_t active, rejected;
	char line[200];

	ctl_dp_policy_state(q->p->dp, &active, &rejected);
	if (active != q->gen && rejected != q->gen && q->waited_ms < RELOAD_WAIT_MS &&
	    !ctl_dp_lost(q->p->dp)) {
		q->waited_ms += 10;
		ctl_timer_add(loop, &q->wait, 10, reload_wait, q);
		return;
	}
	if (active == q->gen)
		snprintf(line, sizeof(line), "ok generation %llu, %llu rules, in the workers\n",
			 (unsigned long long)q->gen, (unsigned long long)q->rules);
	else if (rejected == q->gen)
		snprintf(line, sizeof(line), "error: the dataplane refused generation %llu "
					     "(writer.policy_rejected)\n", (unsigned long long)q->gen);
	else
		snprintf(line, sizeof(line), "error: the dataplane has not taken generation %llu "
					     "in %u ms (control retries)\n",
			 (unsigned long long)q->gen, RELOAD_WAIT_MS);
	reload_answer(q, line);
}

static void policy_reloaded(void *arg, int r, const char *err, unsigned failed,
			    const char *report, size_t len)
{
	struct reload_req *q = arg;
	struct parts *p = q->p;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);

	if (!f) {
		close(q->fd);
		free(q);
		return;
	}
	size_t slen = 0;
	const struct policy_snap *s = ctl_policy_snap(p->policy, &slen);
	int pr = 0;
	if (!r && s && p->dp && policy_gen(s) > ctl_dp_policy_gen(p->dp))
		pr = ctl_dp_publish_policy(p->dp, s, slen);
	if (!r && !failed && !pr && s && p->dp && (q->report = malloc(len + 1))) {
		fclose(f);
		free(text);
		memcpy(q->report, report, len);
		q->len = len;
		q->gen = policy_gen(s);
		q->rules = policy_rules(s);
		q->waited_ms = 0;
		ctl_timer_init(&q->wait);
		reload_wait(p->loop, q);
		return;
	}
	if (r)
		fprintf(f, "error: %s\n", err);
	else if (failed)
		fprintf(f, "error: %u zone%s failed, the previous version kept: %s\n", failed,
			failed == 1 ? "" : "s", err);
	else if (pr)
		fprintf(f, "error: the dataplane did not take generation %llu: %s\n",
			(unsigned long long)policy_gen(s), ctl_strerror(pr));
	else
		fprintf(f, "ok generation %llu, %llu rules\n",
			(unsigned long long)(s ? policy_gen(s) : 0),
			(unsigned long long)(s ? policy_rules(s) : 0));
	fwrite(report, 1, len, f);
	fclose(f);
	ctl_sock_reply(q->fd, text, tlen);
	free(text);
	free(q);
}

/* A refresh of a zone from its primary (the timers, a NOTIFY) ended: what
 * it reported goes to the log (a failure repeats at every retry: limited),
 * a new snapshot to the workers at once (the heartbeat would retry it
 * anyway). */
static void transferred(void *arg, int r, const char *err, unsigned failed, const char *report,
			size_t len)
{
	struct parts *p = arg;
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

static void reload_policy(struct parts *p, const char *zone, FILE *f)
{
	struct reload_req *q = malloc(sizeof(*q));
	int fd = q ? ctl_sock_defer(p->sock) : -1, r;

	if (fd < 0) {
		free(q);
		fprintf(f, "error: out of memory\n");
		return;
	}
	q->p = p;
	q->fd = fd;
	q->report = NULL;
	q->len = 0;
	if ((r = ctl_policy_reload(p->policy, p->loop, zone, policy_reloaded, q))) {
		/* answered now after all: the socket writes f */
		free(q);
		ctl_sock_undefer(p->sock);
		fprintf(f, "error: %s\n", r == CTL_E_FULL ? "a policy reload is in progress"
							 : ctl_strerror(r));
	}
}

/* A reload's new trust anchors, read while checking (NULL and
 * ANCHORS_NONE: validation off), for apply_config(). */
static struct ctl_anchors *next_anchors;
static uint64_t next_anchors_id;
static bool anchors_change;

/* bailiwick-ctl reload: the configuration file read again and checked
 * whole (an error changes nothing: "error: FILE:LINE:COL: ..."), what may
 * change at run time applied (control/reconf.h) in control and, with a
 * dataplane, published to its workers; the answer waits until they apply
 * it (at most RELOAD_WAIT_MS). What needs a restart is named and kept. */
struct conf_req {
	struct parts *p;
	int fd;
	struct ctl_timer wait;
	uint64_t gen;		/* the generation this reload made */
	uint64_t policy_gen;	/* and its policy snapshot's (0: none new) */
	unsigned waited_ms;
	uint8_t sha[CFG_SHA256_LEN];	/* the file's */
	char text[3400];	/* two lists of 1 KiB, the policy's lines and
				   the lines around them */
};

static void conf_wait(struct ctl_loop *loop, void *arg)
{
	struct conf_req *q = arg;
	uint64_t active = 0, rejected = 0;

	uint64_t pactive = 0, prejected = 0;
	ctl_dp_settings_state(q->p->dp, &active, &rejected);
	ctl_dp_policy_state(q->p->dp, &pactive, &prejected);
	bool policy_waits = q->policy_gen && pactive < q->policy_gen && prejected != q->policy_gen;
	if (((active < q->gen && rejected != q->gen) || policy_waits) &&
	    q->waited_ms < RELOAD_WAIT_MS && !ctl_dp_lost(q->p->dp)) {
		q->waited_ms += 10;
		ctl_timer_add(loop, &q->wait, 10, conf_wait, q);
		return;
	}
	/* the workers' verdict first: an error line makes bailiwick-ctl
	 * exit 1 */
	char out[sizeof(q->text) + 400];
	if (active >= q->gen && q->policy_gen && pactive < q->policy_gen)
		snprintf(out, sizeof(out), "error: the dataplane %s policy generation %llu (in %u ms); "
					   "control applies it, the workers keep %llu\n%s",
			 prejected == q->policy_gen ? "refused" : "has not taken",
			 (unsigned long long)q->policy_gen, q->waited_ms, (unsigned long long)pactive,
			 q->text);
	else if (active >= q->gen)
		snprintf(out, sizeof(out), "%sdataplane: generation %llu in the workers\n",
			 q->text, (unsigned long long)active);
	else
		snprintf(out, sizeof(out), "error: the dataplane %s generation %llu (in %u ms); "
					   "control applies it, the workers keep %llu\n%s",
			 rejected == q->gen ? "refused" : "has not taken", (unsigned long long)q->gen,
			 q->waited_ms, (unsigned long long)active, q->text);
	ctl_sock_reply(q->fd, out, strlen(out));
	free(q);
}

/*
 * The applying half of a reload, once everything is checked (and a new
 * policy list is in force): next's run-time settings into control's and
 * published; the reply (policy: its lines, or NULL) to fd, or to f when
 * fd < 0.
 */
static struct cfg next;	/* the file read again: one reload at a time */

static void apply_config(struct parts *p, const uint8_t *sha, const char *policy,
			 uint64_t policy_gen, FILE *f, int fd)
{
	char applied[1024], restart[1024];
	struct ctl_iter_config ic;

	static bool routed_failed; /* set again at the next reload */
	bool routed = routed_failed || p->cfg->n_stub != next.n_stub ||
		      p->cfg->n_forward != next.n_forward ||
		      memcmp(p->cfg->stub, next.stub, sizeof(next.stub)) ||
		      memcmp(p->cfg->forward, next.forward, sizeof(next.forward));
	unsigned n = ctl_reconf_merge(p->cfg, &next, applied, sizeof(applied), restart,
				      sizeof(restart));
	char anchor_line[200] = "";
	if (anchors_change) {
		/* the chain of trust starts again from the new anchors: what
		 * either process validated (or not) under the old ones is
		 * gone from the caches at once; resolutions in progress end
		 * SERVFAIL (ctl_iter_set_validation()) */
		struct ctl_val_limits lim;
		ctl_val_limits_of(p->cfg, &lim);
		anchors_change = false;
		if (ctl_iter_set_validation(p->it, next_anchors, &lim,
					    p->cfg->resolver.has_validation_time
						    ? p->cfg->resolver.validation_time : 0)) {
			free(next_anchors);
			snprintf(anchor_line, sizeof(anchor_line),
				 "error: trust anchors: out of memory; the old ones stay\n");
		} else {
			bool same = p->anchors && next_anchors &&
				    ctl_anchors_id(p->anchors) == ctl_anchors_id(next_anchors);
			free(p->anchors);
			p->anchors = next_anchors;
			p->anchors_id = next_anchors_id;
			cache_flush_epoch(p->cache);
			if (p->nsec)
				cache_nsec_flush(p->nsec);
			snprintf(anchor_line, sizeof(anchor_line),
				 "%s; the caches emptied of what was validated\n",
				 !p->anchors ? "trust anchors: none (validation off)"
				 : same	     ? "trust anchors: the same, validation settings changed"
					     : "trust anchors: changed");
			if (!n)
				p->cfg_gen++; /* the same file name, other anchors */
		}
		next_anchors = NULL;
	}
	if (n) {
		ctl_iter_config_of(p->cfg, &ic);
		char why[512];
		/* checked by reload_config(): only memory can fail here, and
		 * the next reload sets the whole list again */
		routed_failed = routed && ctl_routed_zones(p->deleg, p->cfg, &ic, why, sizeof(why));
		if (routed_failed)
			cfg_log(CFG_LOG_ERR, "reload: stub and forward zones: %s", why);
		p->cfg_gen++;
		ctl_iter_set_config(p->it, &ic);
		ctl_server_reconfigure(p->srv, p->cfg);
		if (!p->dp) /* standalone: ours is the client cache */
			cache_set_edns_udp_size(p->cache, p->cfg->resolver.upstream.edns_buffer);
		/* ours holds what iteration needs, in either mode: the same
		 * bounds (the dataplane's cache takes them from the block) */
		struct cache_config cc;
		answer_cache_config(p->cfg, &cc);
		cache_set_limits(p->cache, &cc); /* the loop trims */
		ctl_deleg_set_max_ttl(p->deleg, p->cfg->cache.max_ttl_s);
		if (p->nsec && p->cfg->cache.max_negative_ttl_s < p->max_ttl)
			cache_nsec_flush(p->nsec); /* as the dataplane's writer */
		p->max_ttl = p->cfg->cache.max_negative_ttl_s;
	}
	/* the file's level and target at every reload (set-log-level's goes) */
	unsigned was = cfg_log_get_level();
	ctl_log_configure(p->cfg);
	if (cfg_log_get_level() != was)
		cfg_log(CFG_LOG_NOTICE, "log level %s (was %s): the configuration's",
			cfg_log_levels[cfg_log_get_level()], cfg_log_levels[was]);
	log_applied(p);
	/* The file both processes stand for (a control started from it
	 * attaches) only when nothing in it waits for a restart: a control
	 * started from a file whose kept settings differ would not match the
	 * dataplane (its clock, its ports). */
	if (!restart[0])
		memcpy(p->cfg_sha256, sha, CFG_SHA256_LEN);
	if (p->dp)
		ctl_dp_publish_settings(p->dp, p->cfg, p->cfg_gen, p->cfg_sha256, p->anchors_id);
	char text[sizeof(((struct conf_req *)0)->text)];
	int tl = snprintf(text, sizeof(text), "%sok configuration generation %llu\napplied: %s\n"
					      "needs a restart (kept as it was): %s\n%s%s%s",
			  anchor_line[0] == 'e' ? anchor_line : "",
			  (unsigned long long)p->cfg_gen, applied[0] ? applied : "nothing",
			  restart[0] ? restart : "nothing",
			  restart[0] && p->dp ? "note: restart both processes for those (a "
						"control restarted alone from this file would "
						"not attach)\n" : "",
			  anchor_line[0] == 't' ? anchor_line : "", policy ? policy : "");
	if (tl >= (int)sizeof(text)) /* the policy's lines cut: say so */
		snprintf(text + sizeof(text) - 32, 32, "\n(more lines not shown)\n");
	struct conf_req *q = p->dp && (applied[0] || anchor_line[0] == 't') ? malloc(sizeof(*q))
									  : NULL;
	if (q && fd < 0 && (fd = ctl_sock_defer(p->sock)) < 0) {
		free(q);
		q = NULL;
	}
	if (!q) {
		if (fd >= 0)
			ctl_sock_reply(fd, text, strlen(text));
		else
			fputs(text, f);
		return;
	}
	memcpy(q->text, text, sizeof(text));
	q->gen = p->cfg_gen;
	q->policy_gen = policy_gen;
	q->p = p;
	q->fd = fd;
	q->waited_ms = 0;
	ctl_timer_init(&q->wait);
	conf_wait(p->loop, q);
}

/* A reload's new policy list is in force (rc 0) or nothing changed. */
static void conf_policy_done(void *arg, int rc, const char *err, unsigned failed,
			     const char *report, size_t len)
{
	struct conf_req *q = arg;
	struct parts *p = q->p;
	char line[700];

	(void)failed;
	p->reconf_busy = false;
	if (rc) {
		int n = snprintf(line, sizeof(line), "error: %s; nothing changed\n", err);
		char *t = malloc((size_t)n + len);
		if (t) {
			memcpy(t, line, (size_t)n);
			memcpy(t + n, report, len);
			ctl_sock_reply(q->fd, t, (size_t)n + len);
		} else {
			ctl_sock_reply(q->fd, line, (size_t)n);
		}
		free(t);
		free(q);
		return;
	}
	size_t slen = 0;
	const struct policy_snap *s = ctl_policy_snap(p->policy, &slen);
	uint64_t pg = 0;
	ctl_server_set_policy(p->srv, p->policy);
	/* the reply waits for the workers to use it (a publication that
	 * failed now is retried by the heartbeat; the reply says if the
	 * workers have not taken it in time) */
	if (s && p->dp && policy_gen(s) > ctl_dp_policy_gen(p->dp)) {
		ctl_dp_publish_policy(p->dp, s, slen);
		pg = policy_gen(s);
	}
	/* the policy's report: its generation, then rejected records */
	char *pt = NULL;
	size_t pl = 0;
	FILE *pf = open_memstream(&pt, &pl);
	if (pf) {
		fprintf(pf, "policy: generation %llu, %llu rules\n",
			(unsigned long long)(s ? policy_gen(s) : 0),
			(unsigned long long)(s ? policy_rules(s) : 0));
		fwrite(report, 1, len, pf);
		fclose(pf);
	}
	int fd = q->fd;
	uint8_t sha[CFG_SHA256_LEN];
	memcpy(sha, q->sha, sizeof(sha));
	free(q);
	apply_config(p, sha, pt, pg, NULL, fd);
	free(pt);
}

/* bailiwick-ctl stats [--reset]: the counters since the last reset (or
 * the start), gauges as they are; --reset starts the count again (for
 * this verb only: the metrics endpoint's counters never go back). */
static void stats(struct parts *p, const char *opt, FILE *f)
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

static void reload_config(struct parts *p, FILE *f)
{
	uint8_t sha[CFG_SHA256_LEN];
	char err[512], applied[1024], restart[1024];

	static struct cfg cand;
	struct ctl_iter_config ic;

	if (p->reconf_busy) {
		fprintf(f, "error: a configuration reload is in progress (its policy list); "
			   "nothing changed\n");
		return;
	}
	if (cfg_load_sha256(&next, p->cfg_path, sha, err, sizeof(err))) {
		fprintf(f, "error: %s\n", err);
		return;
	}
	/* the merge on a copy first: what the file's checks cannot see (its
	 * run-time settings beside the kept ones, the root hints read at
	 * start) must hold before anything changes */
	memcpy(&cand, p->cfg, sizeof(cand));
	ctl_reconf_merge(&cand, &next, applied, sizeof(applied), restart, sizeof(restart));
	ctl_iter_config_of(&cand, &ic);
	if (!ctl_hints_usable(p->hints, &ic)) {
		fprintf(f, "error: %s: resolver.do-not-query: every address of the root hints "
			   "would be excluded; nothing changed\n", p->cfg_path);
		return;
	}
	if (ctl_routed_zones(NULL, &cand, &ic, err, sizeof(err))) {
		fprintf(f, "error: %s: %s; nothing changed\n", p->cfg_path, err);
		return;
	}
	/* the trust anchors read again (a file's octets may change under the
	 * same name): applied only when they differ */
	free(next_anchors);
	next_anchors = NULL;
	next_anchors_id = ANCHORS_NONE;
	if (cand.resolver.trust_anchor[0] &&
	    ctl_anchors_read(cand.resolver.trust_anchor, &cand, &next_anchors, &next_anchors_id,
			     err, sizeof(err))) {
		fprintf(f, "error: %s: resolver.trust-anchor: %s; nothing changed\n", p->cfg_path,
			err);
		return;
	}
	anchors_change = next_anchors_id != p->anchors_id;
	if (!anchors_change) {
		free(next_anchors);
		next_anchors = NULL;
	}
	if (!ctl_reconf_policy_changed(p->cfg, &cand)) {
		apply_config(p, sha, NULL, 0, f, -1);
		return;
	}
	/* a new policy list: its new zones read (a thread) before anything
	 * changes; the rest is applied when it is in force */
	if (ctl_policy_busy(p->policy)) {
		fprintf(f, "error: a policy reload or transfer is in progress; nothing changed "
			   "(reload again)\n");
		return;
	}
	struct conf_req *q = malloc(sizeof(*q));
	struct cfg *pc = malloc(sizeof(*pc));
	int fd = q && pc ? ctl_sock_defer(p->sock) : -1;
	if (fd < 0) {
		free(q);
		free(pc);
		fprintf(f, "error: out of memory; nothing changed\n");
		return;
	}
	memcpy(pc, &cand, sizeof(*pc));
	q->p = p;
	q->fd = fd;
	memcpy(q->sha, sha, sizeof(q->sha));
	p->reconf_busy = true;
	int r = ctl_policy_reconfigure(p->policy, p->loop, pc, conf_policy_done, q);
	if (r) {
		p->reconf_busy = false;
		free(q);
		ctl_sock_undefer(p->sock);
		fprintf(f, "error: policy: %s; nothing changed\n", ctl_strerror(r));
	}
}

static int command(void *arg, const char *cmd, FILE *f)
{
	struct parts *p = arg;

	const char *zone;
	if (ctl_sock_verb(cmd, "reload-policy", &zone)) {
		reload_policy(p, zone, f);
		return 0;
	}
	const char *opt;
	if (ctl_sock_verb(cmd, "stats", &opt)) {
		stats(p, opt, f);
		return 0;
	}
	if (!strcmp(cmd, "reload")) {
		reload_config(p, f);
		return 0;
	}
	const char *lvl;
	if (ctl_sock_verb(cmd, "set-log-level", &lvl)) {
		if (ctl_log_set_level_verb(lvl, p->dp != NULL, f))
			log_applied(p);
		return 0;
	}
	/* the verbs of their own files: each says whether cmd is one of its;
	 * "json VERB ...": a table view's answer as one JSON object */
	const char *rest;
	bool json = ctl_sock_verb(cmd, "json", &rest) && rest;
	struct ctl_flush_parts fx = { p->cache, p->nsec, p->deleg, p->it, p->dp, p->loop, p->sock };
	struct ctl_view_parts vx = { p->deleg, p->it, p->up, json };
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

/* Upstream I/O; IPv6 only where the host has it. */
static struct up_ctx *open_upstream(struct ctl_loop *loop, const struct cfg *c)
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
		rlim_t want = (rlim_t)uc.max_queries + 4096;
		if (rl.rlim_cur < want) {
			rl.rlim_cur = want > rl.rlim_max ? rl.rlim_max : want;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (!(up = up_new(loop, &uc, &err))) {
		cfg_log(CFG_LOG_ERR, "upstream: %s", ctl_strerror(err));
		return NULL;
	}
	if (!(up_families(up) & 2))
		cfg_log(CFG_LOG_NOTICE, "no IPv6 on this host: IPv4 servers only");
	/* 2^14 ports and fewer: a spoofer's odds grow past 1 in 2^30 a try */
	if (up_port_count(up) < 16384)
		cfg_log(CFG_LOG_WARNING, "warning: only %u source ports to draw from "
				"(resolver.upstream.ports): about %.1f bits of port entropy",
			up_port_count(up), log2(up_port_count(up)));
	return up;
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
	struct ctl_deleg_table *deleg = ctl_deleg_table_new(0, cfg.cache.max_ttl_s);
	struct ctl_loop *loop = ctl_loop_new(NULL);
	if (!cache || !deleg || !loop ||
	    ctl_deleg_set_hints(deleg, &hints, ctl_iter_now()) ||
	    ctl_routed_zones(deleg, &cfg, &ic, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return 1;
	}
	struct up_ctx *up = open_upstream(loop, &cfg);
	if (!up)
		return 1;
	struct ctl_iter *it = ctl_iter_new(loop, up, cache, deleg, &ic);
	if (!it) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return 1;
	}
	if (anchors) {
		struct ctl_val_limits lim;
		ctl_val_limits_of(&cfg, &lim);
		if (ctl_iter_set_validation(it, anchors, &lim,
					    cfg.resolver.has_validation_time
						    ? cfg.resolver.validation_time : 0)) {
			cfg_log(CFG_LOG_ERR, "out of memory");
			return 1;
		}
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct parts parts = { it, up, NULL, deleg, cache, NULL, policy, loop, NULL, NULL,
			       { 0 }, 0, 0, &cfg, path, cfg_sha256, 1, &hints, false, anchors,
			       anchors_id, NULL, 0, ctl_now_ms(), NULL };
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
		ctl_iter_set_feed(it, feed_local, &parts, CACHE_NSEC_FEED_MAX);
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
	log_applied(&parts);
	if (cfg.log.query_sample && !cfg_log_on(CFG_LOG_INFO))
		cfg_log(CFG_LOG_NOTICE, "log.query-sample %u: the log level is below info: "
					"the queries copied are not written",
			cfg.log.query_sample);
	cfg_log(CFG_LOG_NOTICE, "%s, %u listen address%s%s, %u root servers",
		parts.dp ? "attached to the dataplane" : "standalone",
		cfg.n_listen, cfg.n_listen == 1 ? "" : "es", parts.dp ? " (TCP)" : "",
		hints.nns);
	cfg_log(CFG_LOG_NOTICE, "client cache: %s; its own cache %llu MiB",
		parts.dp ? "the dataplane's" : "its own",
		(unsigned long long)(cc.max_bytes >> 20));
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
		/* entry pointers from this round's lookups are not kept */
		cache_reader_quiescent();
		uint64_t removed = 0;
		while (cache_trim(cache, ctl_iter_now(), CACHE_TRIM_SLICE, &removed) &&
		       ctl_loop_run_once(loop, 0) >= 0)
			cache_reader_quiescent(); /* slices between rounds of events */
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
	ctl_dp_detach(parts.dp);
	/* a policy reload still running ends in ctl_policy_free() below, and
	 * its callback must not publish to the dataplane just left */
	parts.dp = NULL;
	ctl_metrics_free(metrics);
	ctl_sock_free(sock);
	free(parts.stats_base);
	ctl_server_free(srv);
	ctl_iter_free(it);
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
		execv("/proc/self/exe", argv);
		cfg_log(CFG_LOG_ERR, "exec: %s", strerror(errno));
		return 1;
	}
	cfg_log(CFG_LOG_NOTICE, "stopped");
	return loop_failed ? 1 : 0;
}
