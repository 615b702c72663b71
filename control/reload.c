/*
 * control/reload.c: the operator verbs that change bailiwick-control while
 * it runs (see parts.h): reload-policy (the zone files read again in
 * policy.c's thread, the snapshot published to the workers), reload (the
 * configuration file read again: what it may change applied, the rest
 * named as needing a restart, reconf.c's table), and what a new log level
 * or target sets in motion, in every control thread (control/pool.h: each
 * held still in turn, or all at once for new trust anchors). Control
 * process, the loop's thread.
 */
#include "control/parts.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer/settings.h"
#include "cache/msgcache.h"
#include "conf/config.h"
#include "conf/log.h"
#include "control/anchor.h"
#include "control/chain.h"
#include "control/confmap.h"
#include "control/ctlsock.h"
#include "control/deleg.h"
#include "control/dnstap.h"
#include "control/dplink.h"
#include "control/iter.h"
#include "control/log.h"
#include "control/policy.h"
#include "control/pool.h"
#include "control/reconf.h"
#include "control/server.h"
#include "control/upstream.h"
#include "control/val.h"

/* The upstream module's tap: dnstap's resolver messages (arg: NULL when
 * dnstap is off) and the debug level's lines. */
static void upstream_tap(void *arg, bool reply, const struct sockaddr_storage *server,
			 uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
			 uint64_t age_us, const uint8_t *zone)
{
	if (arg)
		ctl_dnstap_upstream(arg, reply, server, local_port, tcp, msg, len, age_us, zone);
	ctl_log_upstream(reply, server, local_port, tcp, msg, len, age_us, zone);
}

static void set_tap(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct ctl_parts *p = arg;

	(void)i;
	up_set_tap(s->up, p->dnstap || cfg_log_on(CFG_LOG_DEBUG) ? upstream_tap : NULL, p->dnstap);
}

void ctl_log_applied(struct ctl_parts *p)
{
	if (p->dp)
		ctl_dp_publish_log(p->dp);
	ctl_pool_each(p->pool, set_tap, p);
}

/* bailiwick-ctl reload-policy [ZONE]: the zone files read again (in
 * policy.c's thread: the loop goes on), the new snapshot in force for
 * control and published to the workers. The first line says how it went
 * ("error: ..." makes bailiwick-ctl exit 1): a zone that failed keeps its
 * previous version and is an error; records rejected one by one follow
 * as FILE:LINE lines. */
struct reload_req {
	struct ctl_parts *p;
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
		ctl_sock_reply_async(q->p->sock, q->fd, text, n + q->len);
	} else {
		close(q->fd);
	}
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
		if (ctl_timer_add(loop, &q->wait, 10, reload_wait, q) == 0)
			return;
		/* no memory for the timer: the answer as things stand */
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
	struct ctl_parts *p = q->p;
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
	ctl_sock_reply_async(p->sock, q->fd, text, tlen);
	free(q);
}

void ctl_reload_policy(struct ctl_parts *p, const char *zone, FILE *f)
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
	struct ctl_parts *p;
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
		if (ctl_timer_add(loop, &q->wait, 10, conf_wait, q) == 0)
			return;
		/* no memory for the timer: the answer as things stand */
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
	ctl_sock_reply(q->p->sock, q->fd, out, strlen(out));
	free(q);
}

/*
 * The applying half of a reload, once everything is checked (and a new
 * policy list is in force): next's run-time settings into control's and
 * published; the reply (policy: its lines, or NULL) to fd, or to f when
 * fd < 0.
 */
static struct cfg next;	/* the file read again: one reload at a time */

/* Validation's anchors and limits for every control thread at once: what
 * each needs made first (nothing changed when memory runs out), then put
 * in force with every thread held still, behind a fence (what a thread
 * validated under the old anchors and had not handed back yet ends
 * SERVFAIL), and control's caches emptied of what was validated before
 * any thread runs again (none answers from them, or caches again what it
 * read there, under the new anchors). */
struct set_val {
	struct ctl_parts *p;
	struct ctl_chain **chains;
};

static void set_val_one(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct set_val *v = arg;

	ctl_iter_validation_set(s->it, v->chains[i]);
}

static void set_val_flush(void *arg)
{
	struct set_val *v = arg;

	ctl_iter_cache_lock();
	cache_flush_epoch(v->p->cache);
	ctl_iter_cache_unlock();
	if (v->p->nsec)
		cache_nsec_flush(v->p->nsec);
}

static int set_validation(struct ctl_parts *p, const struct ctl_anchors *next,
			  const struct ctl_val_limits *lim)
{
	unsigned n = ctl_pool_threads(p->pool);
	struct ctl_chain *chains[CFG_CONTROL_THREADS_MAX];
	int64_t vtime = p->cfg->resolver.has_validation_time ? p->cfg->resolver.validation_time
							       : 0;

	for (unsigned i = 0; i < n; i++)
		if (ctl_iter_validation_new(next, lim, vtime, &chains[i])) {
			while (i--)
				ctl_chain_free(chains[i]);
			return CTL_E_NOMEM;
		}
	struct set_val v = { p, chains };
	ctl_pool_all(p->pool, set_val_one, set_val_flush, &v, true);
	return 0;
}

struct reconf_iter {
	const struct cfg *cfg;
	const struct ctl_iter_config *ic;
	bool routed, routed_failed;
	char why[512];
};

static void reconf_one(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct reconf_iter *r = arg;

	(void)i;
	if (r->routed && ctl_routed_zones(s->deleg, r->cfg, r->ic, r->why, sizeof(r->why)))
		r->routed_failed = true;
	ctl_iter_set_config(s->it, r->ic);
	ctl_deleg_set_max_ttl(s->deleg, r->cfg->cache.max_ttl_s);
}

static void apply_config(struct ctl_parts *p, const uint8_t *sha, const char *policy,
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
		 * gone from the caches at once (control's in set_validation(),
		 * the dataplane's by the anchors' id it is published with);
		 * resolutions in progress end SERVFAIL */
		struct ctl_val_limits lim;
		ctl_val_limits_of(p->cfg, &lim);
		anchors_change = false;
		if (set_validation(p, next_anchors, &lim)) {
			free(next_anchors);
			snprintf(anchor_line, sizeof(anchor_line),
				 "error: trust anchors: out of memory; the old ones stay\n");
		} else {
			bool same = p->anchors && next_anchors &&
				    ctl_anchors_id(p->anchors) == ctl_anchors_id(next_anchors);
			free(p->anchors);
			p->anchors = next_anchors;
			p->anchors_id = next_anchors_id;
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
		/* every control thread's iterator and delegation table; the
		 * routed zones checked by reload_config(): only memory can
		 * fail here, and the next reload sets the whole list again */
		struct reconf_iter ri = { .cfg = p->cfg, .ic = &ic, .routed = routed };
		ctl_pool_each(p->pool, reconf_one, &ri);
		routed_failed = ri.routed_failed;
		if (routed_failed)
			cfg_log(CFG_LOG_ERR, "reload: stub and forward zones: %s", ri.why);
		p->cfg_gen++;
		ctl_server_reconfigure(p->srv, p->cfg);
		/* ours holds what iteration needs, in either mode: the same
		 * bounds (the dataplane's cache takes them from the block) */
		struct cache_config cc;
		answer_cache_config(p->cfg, &cc);
		ctl_iter_cache_lock();
		if (!p->dp) /* standalone: ours is the client cache */
			cache_set_edns_udp_size(p->cache, p->cfg->resolver.upstream.edns_buffer);
		cache_set_limits(p->cache, &cc); /* the loop trims */
		ctl_iter_cache_unlock();
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
	ctl_log_applied(p);
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
			ctl_sock_reply(p->sock, fd, text, strlen(text));
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
	struct ctl_parts *p = q->p;
	char line[700];

	(void)failed;
	p->reconf_busy = false;
	if (rc) {
		int n = snprintf(line, sizeof(line), "error: %s; nothing changed\n", err);
		char *t = malloc((size_t)n + len);
		if (t) {
			memcpy(t, line, (size_t)n);
			memcpy(t + n, report, len);
			ctl_sock_reply_async(p->sock, q->fd, t, (size_t)n + len);
		} else {
			ctl_sock_reply(p->sock, q->fd, line, (size_t)n);
		}
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

/* bailiwick-ctl reload: the configuration file read again; what it may
 * change applied (apply_config()), the rest named as needing a restart;
 * with a dataplane or a new policy list the answer waits for them. */
void ctl_reload_config(struct ctl_parts *p, FILE *f)
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

