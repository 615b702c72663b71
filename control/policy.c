/*
 * control/policy.c: the configured policy zones, their loads and reloads,
 * the snapshot in force, and control's own use of it (see policy.h).
 * Control process, the loop's thread.
 *
 * Each zone keeps the version last read without failing; a reload reads
 * into a fresh struct and replaces that version only on success, so a
 * zone file caught half-written or broken leaves the zone as it was. The
 * snapshot is rebuilt from every zone's kept version, then swapped in; the
 * old one is freed at once (this thread is its only reader here; the
 * dataplane gets its own copy from dplink.c).
 *
 * An operator's reload reads and compiles in a thread of its own (a
 * million rules take seconds, and the loop must go on resolving misses
 * and stamping its heartbeat meanwhile): that thread reads only the
 * configuration and the kept versions, which nothing changes while it
 * runs (one reload at a time), and writes only its struct reload; the
 * loop commits the result when the thread says it is done (an eventfd).
 */
#include "control/policy.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "control/err.h"
#include "control/iter.h"
#include "control/log.h"
#include "control/loop.h"
#include "control/policy_ns.h"
#include "control/rpz.h"
#include "control/secondary.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/print.h"
#include "dns/query.h"

struct pzone {
	struct policy_zone z;	/* the version in force */
	bool loaded;
	time_t loaded_at;
	uint64_t failures;
	uint64_t rejected_last;	/* records the last good load rejected */
	char last_error[256];
};

/* One reload: read (a thread, or the caller at start), then committed. */
struct reload {
	struct ctl_policy *p;
	char only[CFG_DNAME_MAX + 2];	/* "": every zone */
	bool first;
	bool read[CFG_POLICY_MAX];	/* zone i was read again */
	bool current[CFG_POLICY_MAX];	/* from a primary: the version held is current */
	bool changed;			/* some zone read has a new version */
	struct ctl_sec_read sr[CFG_POLICY_MAX];	/* zones from a primary */
	int rc[CFG_POLICY_MAX];
	struct policy_zone z[CFG_POLICY_MAX];
	char why[CFG_POLICY_MAX][512];
	char *text;			/* the report: rejected records, failures */
	size_t len;
	FILE *report;			/* text's stream, or the caller's */
	unsigned matched, failed;
	int result;
	char err[512];
	struct policy_snap *snap;
	size_t snap_len;
	uint8_t map[CFG_POLICY_MAX];	/* snap's zone k: the configured index */
	/* a configuration reload's new policy list (ctl_policy_reconfigure):
	 * next's zones, each read anew or kept from the list in force */
	struct cfg *next;
	int from[CFG_POLICY_MAX];	/* next's zone j: the index in force, -1: new */
	/* a thread's */
	pthread_t th;
	int efd;
	struct ctl_loop *loop;
	ctl_policy_reloaded cb;
	void *arg;
};

struct ctl_policy {
	const struct cfg *cfg;
	struct cfg *own;	/* cfg, when a configuration reload gave it */
	unsigned n;
	struct pzone zone[CFG_POLICY_MAX];
	struct policy_zone_opts opts[CFG_POLICY_MAX];
	const char *names[CFG_POLICY_MAX];
	struct policy_snap *snap;
	size_t snap_len;
	/* snap's zone k is configured zone map[k] (zones without a version
	 * are not in it: a hit's zone is no configured index) */
	uint8_t map[CFG_POLICY_MAX];
	uint64_t gen;		/* the next snapshot's */
	struct reload *busy;	/* a reload in its thread */
	struct ctl_secondary *sec;	/* the zones from a primary */
	bool offline;		/* no transfers (a configuration check) */
	struct ctl_loop *loop;	/* after ctl_policy_start_transfers() */
	ctl_policy_reloaded xfr_cb;	/* the end of a refresh the timers asked for */
	void *xfr_arg;
	struct ctl_policy_stats st;
	struct ctl_ns_stats ns_st;
	bool probing;		/* inside a quiet ctl_policy_now() */
};

/* A chase of a policy CNAME: the CNAME answer waits for its target. */
/* A walled-garden CNAME whose target is being resolved, found on the
 * question (done) or on its response (vcb: the verdict waits). */
struct chase {
	ctl_policy_done done;		/* done(arg, joined answer, len) */
	ctl_policy_verdict_cb vcb;	/* vcb(arg, v, msg, mlen) */
	void *arg;
	struct ctl_policy_verdict v;	/* vcb's */
	const uint8_t *msg;		/* vcb's response, copied after head */
	size_t mlen, cap, hlen;
	uint8_t head[];			/* the CNAME answer */
};

static uint8_t override_of(uint8_t o)
{
	static const uint8_t map[] = {
		[CFG_POLICY_GIVEN] = POLICY_OVERRIDE_NONE,
		[CFG_POLICY_NXDOMAIN] = POLICY_OVERRIDE_NXDOMAIN,
		[CFG_POLICY_NODATA] = POLICY_OVERRIDE_NODATA,
		[CFG_POLICY_PASSTHRU] = POLICY_OVERRIDE_PASSTHRU,
		[CFG_POLICY_DROP] = POLICY_OVERRIDE_DROP,
		[CFG_POLICY_TCP_ONLY] = POLICY_OVERRIDE_TCP_ONLY,
		[CFG_POLICY_CNAME] = POLICY_OVERRIDE_CNAME,
	};
	return o < sizeof(map) ? map[o] : POLICY_OVERRIDE_NONE;
}

static void opts_of(const struct cfg_policy *c, struct policy_zone_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->override = override_of(c->override);
	o->log = c->log;
	o->ede = c->ede == CFG_EDE_NONE ? DNS_EDE_NONE : c->ede;
	o->max_ttl = c->max_ttl_s;
	if (c->override == CFG_POLICY_CNAME && dns_name_from_str(c->cname, o->cname) < 0)
		o->override = POLICY_OVERRIDE_NXDOMAIN; /* conf checked its syntax */
}

/* cfg's list: names and options (the zones are the caller's). */
static void set_list(struct ctl_policy *p, const struct cfg *cfg)
{
	p->cfg = cfg;
	p->n = cfg->n_policy;
	for (unsigned i = 0; i < p->n; i++) {
		p->names[i] = cfg->policy[i].name;
		opts_of(&cfg->policy[i], &p->opts[i]);
	}
}

struct ctl_policy *ctl_policy_new(const struct cfg *cfg)
{
	struct ctl_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->gen = 1;
	if (!(p->sec = ctl_secondary_new(cfg))) {
		free(p);
		return NULL;
	}
	set_list(p, cfg);
	for (unsigned i = 0; i < p->n; i++)
		policy_zone_init(&p->zone[i].z);
	return p;
}

static void reload_free(struct reload *r);

void ctl_policy_free(struct ctl_policy *p)
{
	if (!p)
		return;
	if (p->busy) {
		/* the operator still gets an answer */
		struct reload *r = p->busy;
		pthread_join(r->th, NULL);
		ctl_loop_close(r->loop, r->efd);
		r->cb(r->arg, CTL_E_SYSTEM, "control stopped before the reload ended", r->failed,
		      r->text ? r->text : "", r->len);
		reload_free(r);
	}
	for (unsigned i = 0; i < p->n; i++)
		policy_zone_fini(&p->zone[i].z);
	ctl_secondary_free(p->sec);
	policy_array_free(p->snap);
	free(p->own);
	free(p);
}

struct report_ctx {
	FILE *f;
	uint64_t n;
};

static void report_line(void *arg, const char *line)
{
	struct report_ctx *r = arg;

	r->n++;
	/* a feed with a broken generator could reject every record: the
	 * first lines say what is wrong, the count says how much */
	if (r->f && r->n <= 100)
		fprintf(r->f, "policy: %s\n", line);
	else if (r->f && r->n == 101)
		fprintf(r->f, "policy: (more rejected records not shown)\n");
}

static bool named(const char *only, const char *name)
{
	size_t l = strlen(only);

	/* the final dot or not, as the configuration allows */
	return strcasecmp(only, name) == 0 ||
	       (l > 1 && only[l - 1] == '.' && strlen(name) == l - 1 &&
		strncasecmp(only, name, l - 1) == 0);
}

/*
 * The reading half of a reload: the zones asked for read into r's own
 * structs, then every zone's newest good version compiled into r->snap.
 * Reads p's configuration and kept versions only (any thread).
 */
static void reload_read(struct reload *r)
{
	struct ctl_policy *p = r->p;
	struct report_ctx rc = { r->report, 0 };

	r->err[0] = 0;
	for (unsigned i = 0; i < p->n; i++) {
		if (r->only[0] && !named(r->only, p->names[i]))
			continue;
		const struct cfg_policy *c = &p->cfg->policy[i];
		uint8_t origin[DNS_NAME_MAX];
		r->matched++;
		r->read[i] = true;
		policy_zone_init(&r->z[i]);
		if (dns_name_from_str(c->name, origin) < 0) {
			r->rc[i] = CTL_E_POLICY;
			snprintf(r->why[i], sizeof(r->why[i]), "not a domain name");
		} else if (ctl_secondary_has(p->sec, i)) {
			rc.n = 0;
			int st = ctl_secondary_read(p->sec, i, r->first, p->offline, &r->sr[i],
						    &r->z[i], report_line, &rc);
			r->rc[i] = st < 0 ? st : 0;
			r->current[i] = st == CTL_XFR_CURRENT;
			if (st < 0) {
				size_t l = strnlen(r->sr[i].why, sizeof(r->why[i]) - 1);
				memcpy(r->why[i], r->sr[i].why, l);
				r->why[i][l] = 0;
			} else if (r->current[i] && r->first && r->report) {
				fprintf(r->report, "policy: %s: %s\n", c->name, r->sr[i].why);
			}
		} else {
			rc.n = 0;
			r->rc[i] = ctl_rpz_load(&r->z[i], c->file, origin, report_line, &rc,
						r->why[i], sizeof(r->why[i]));
		}
		if (!r->rc[i]) {
			r->changed |= !r->current[i];
			continue;
		}
		r->failed++;
		if (r->report)
			fprintf(r->report, "policy: %s: %s%s\n", c->name, r->why[i],
				p->zone[i].loaded ? " (the previous version stays in force)" : "");
		if (!r->err[0])
			snprintf(r->err, sizeof(r->err), "policy %s: %s", c->name, r->why[i]);
		/* a zone from a primary starts empty and is retried; a zone
		 * file that does not load stops the start */
		if (r->first && !ctl_secondary_has(p->sec, i)) {
			r->result = r->rc[i];
			return;
		}
	}
	if (r->only[0] && !r->matched) {
		snprintf(r->err, sizeof(r->err), "no policy zone is named %s", r->only);
		r->result = CTL_E_INVAL;
		return;
	}
	if (!r->first && !r->changed)
		return; /* nothing new: the snapshot in force stays (its generation too) */
	/* Every zone's newest good version, in the configured order. */
	const struct policy_zone *zs[CFG_POLICY_MAX];
	struct policy_zone_opts opts[CFG_POLICY_MAX];
	const char *names[CFG_POLICY_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < p->n; i++) {
		const struct policy_zone *z = r->read[i] && !r->rc[i] && !r->current[i] ? &r->z[i]
					      : p->zone[i].loaded ? &p->zone[i].z : NULL;
		if (!z)
			continue;
		zs[n] = z;
		opts[n] = p->opts[i];
		r->map[n] = (uint8_t)i;
		names[n++] = p->names[i];
	}
	r->snap = policy_build(zs, opts, names, n, 0, policy_array_alloc, NULL,
			       &r->snap_len);
	if (!r->snap) {
		snprintf(r->err, sizeof(r->err), "out of memory building the policy snapshot");
		r->result = CTL_E_NOMEM;
	}
}

/* r's snapshot in force, with the next generation. */
static void swap_snap(struct ctl_policy *p, struct reload *r)
{
	policy_set_gen(r->snap, p->gen++);
	policy_array_free(p->snap);
	p->snap = r->snap;
	p->snap_len = r->snap_len;
	memcpy(p->map, r->map, sizeof(p->map));
	r->snap = NULL;
	p->st.loads++;
}

/* The committing half, on the loop's thread: the zones read without
 * failing replace their kept versions, the snapshot the one in force. */
static void reload_commit(struct reload *r)
{
	struct ctl_policy *p = r->p;

	for (unsigned i = 0; i < p->n; i++) {
		struct pzone *pz = &p->zone[i];
		if (!r->read[i])
			continue;
		if (ctl_secondary_has(p->sec, i))
			ctl_secondary_commit(p->sec, i, &r->sr[i],
					     !r->rc[i] && !r->current[i] && !r->result);
		if (r->current[i]) {
			pz->last_error[0] = 0;
			continue;
		}
		if (r->rc[i]) {
			pz->failures++;
			p->st.zone_failures++;
			snprintf(pz->last_error, sizeof(pz->last_error), "%s", r->why[i]);
			continue;
		}
		if (r->result)
			continue; /* nothing changes */
		p->st.rejected += r->z[i].counts.rejected;
		policy_zone_move(&pz->z, &r->z[i]);
		pz->loaded = true;
		pz->loaded_at = time(NULL);
		pz->rejected_last = pz->z.counts.rejected;
		pz->last_error[0] = 0;
	}
	if (r->result || !r->snap)
		return;
	swap_snap(p, r);
}

/* --- a configuration reload's policy list ------------------------------ */

/* Names equal as domain names (case, a final dot). */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	la -= la > 1 && a[la - 1] == '.';
	lb -= lb > 1 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Whether new zone c is zone k in force, from the same source: a file
 * zone from the same file, a zone from the same primary (its key, options
 * and copy on disk may change). */
static bool same_source(const struct cfg_policy *k, const struct cfg_policy *c)
{
	if (!same_name(k->name, c->name) || k->has_primary != c->has_primary)
		return false;
	return c->has_primary ? !memcmp(&k->primary, &c->primary, sizeof(c->primary))
			      : !strcmp(k->file, c->file);
}

/* The reading half: the new file zones read, the snapshot built from them
 * and the zones kept (any thread; as reload_read()). A new file zone that
 * does not load fails the whole reload: nothing changes. */
static void reconf_read(struct reload *r)
{
	struct ctl_policy *p = r->p;
	const struct cfg *nc = r->next;
	struct report_ctx rc = { r->report, 0 };
	const struct policy_zone *zs[CFG_POLICY_MAX];
	struct policy_zone_opts opts[CFG_POLICY_MAX];
	const char *names[CFG_POLICY_MAX];
	unsigned n = 0;

	for (unsigned j = 0; j < nc->n_policy; j++) {
		const struct cfg_policy *c = &nc->policy[j];
		const struct policy_zone *z = NULL;
		if (r->from[j] >= 0) {
			const struct pzone *k = &p->zone[r->from[j]];
			z = k->loaded ? &k->z : NULL;
		} else if (!c->has_primary) {
			uint8_t origin[DNS_NAME_MAX];
			r->read[j] = true;
			r->matched++;
			policy_zone_init(&r->z[j]);
			rc.n = 0;
			if (dns_name_from_str(c->name, origin) < 0) {
				r->rc[j] = CTL_E_POLICY;
				snprintf(r->why[j], sizeof(r->why[j]), "not a domain name");
			} else {
				r->rc[j] = ctl_rpz_load(&r->z[j], c->file, origin, report_line, &rc,
							r->why[j], sizeof(r->why[j]));
			}
			if (r->rc[j]) {
				snprintf(r->err, sizeof(r->err), "policy %s: %s", c->name, r->why[j]);
				r->result = r->rc[j];
				r->failed++;
				return;
			}
			z = &r->z[j];
		}
		if (!z)
			continue; /* from a primary, nothing held yet */
		zs[n] = z;
		opts_of(c, &opts[n]);
		r->map[n] = (uint8_t)j;
		names[n++] = c->name;
	}
	r->snap = policy_build(zs, opts, names, n, 0, policy_array_alloc, NULL,
			       &r->snap_len);
	if (!r->snap) {
		snprintf(r->err, sizeof(r->err), "out of memory building the policy snapshot");
		r->result = CTL_E_NOMEM;
	}
}

/* The committing half, on the loop's thread: the new list in force, its
 * zones kept or read, the snapshot swapped. */
static void reconf_commit(struct reload *r)
{
	struct ctl_policy *p = r->p;
	struct cfg *nc = r->next;
	static struct pzone zone[CFG_POLICY_MAX];
	bool kept[CFG_POLICY_MAX] = { 0 };

	if (r->result || !r->snap)
		return;
	if (ctl_secondary_reconfigure(p->sec, nc, r->from)) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		r->result = CTL_E_NOMEM;
		return;
	}
	for (unsigned j = 0; j < nc->n_policy; j++) {
		struct pzone *d = &zone[j];
		memset(d, 0, sizeof(*d));
		if (r->from[j] >= 0) {
			*d = p->zone[r->from[j]]; /* a plain struct: moved */
			kept[r->from[j]] = true;
		} else if (r->read[j]) {
			policy_zone_move(&d->z, &r->z[j]);
			d->loaded = true;
			d->loaded_at = time(NULL);
			d->rejected_last = d->z.counts.rejected;
			p->st.rejected += d->rejected_last;
		}
	}
	for (unsigned i = 0; i < p->n; i++)
		if (!kept[i])
			policy_zone_fini(&p->zone[i].z);
	memcpy(p->zone, zone, sizeof(zone[0]) * nc->n_policy);
	set_list(p, nc);
	free(p->own);
	p->own = nc;
	r->next = NULL;
	swap_snap(p, r);
}

static void reload_free(struct reload *r)
{
	for (unsigned i = 0; i < CFG_POLICY_MAX; i++)
		if (r->read[i]) {
			policy_zone_fini(&r->z[i]);
			ctl_sec_read_fini(&r->sr[i]);
		}
	policy_array_free(r->snap);
	free(r->text);
	free(r->next);
	free(r);
}

static struct reload *reload_new(struct ctl_policy *p, const char *only, bool first)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->p = p;
	r->first = first;
	r->efd = -1;
	if (only)
		snprintf(r->only, sizeof(r->only), "%s", only);
	return r;
}

int ctl_policy_load(struct ctl_policy *p, const char *only, bool first, FILE *report,
		    unsigned *failed, char *err, size_t errlen)
{
	struct reload *r = reload_new(p, only, first);

	*failed = 0;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return CTL_E_NOMEM;
	}
	if (p->busy) {
		free(r);
		snprintf(err, errlen, "a policy reload is in progress");
		return CTL_E_FULL;
	}
	r->report = report;
	reload_read(r);
	reload_commit(r);
	int rc = r->result;
	*failed = r->failed;
	snprintf(err, errlen, "%s", r->err);
	reload_free(r);
	return rc;
}

static void *reload_thread(void *arg)
{
	struct reload *r = arg;
	uint64_t one = 1;

	if (r->next)
		reconf_read(r);
	else
		reload_read(r);
	if (r->report)
		fclose(r->report); /* r->text, r->len final */
	r->report = NULL;
	if (write(r->efd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail */
	return NULL;
}

static void reload_done(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct reload *r = arg;
	struct ctl_policy *p = r->p;

	(void)events;
	ctl_loop_close(loop, fd);
	pthread_join(r->th, NULL);
	p->busy = NULL;
	if (r->next)
		reconf_commit(r);
	else
		reload_commit(r);
	r->cb(r->arg, r->result, r->err, r->failed, r->text ? r->text : "", r->len);
	reload_free(r);
	ctl_secondary_idle(p->sec);
}

static int reload_start(struct reload *r, struct ctl_loop *loop, ctl_policy_reloaded cb,
			void *arg);

int ctl_policy_reload(struct ctl_policy *p, struct ctl_loop *loop, const char *only,
		      ctl_policy_reloaded cb, void *arg)
{
	if (p->busy)
		return CTL_E_FULL;
	struct reload *r = reload_new(p, only, false);
	if (!r)
		return CTL_E_NOMEM;
	return reload_start(r, loop, cb, arg);
}

bool ctl_policy_busy(const struct ctl_policy *p)
{
	return p->busy != NULL;
}

int ctl_policy_reconfigure(struct ctl_policy *p, struct ctl_loop *loop, struct cfg *next,
			   ctl_policy_reloaded cb, void *arg)
{
	struct reload *r = p->busy ? NULL : reload_new(p, NULL, false);
	bool used[CFG_POLICY_MAX] = { 0 };

	if (!r) {
		free(next);
		return p->busy ? CTL_E_FULL : CTL_E_NOMEM;
	}
	r->next = next;
	for (unsigned j = 0; j < next->n_policy; j++) {
		r->from[j] = -1;
		for (unsigned i = 0; i < p->n && r->from[j] < 0; i++)
			if (!used[i] && same_source(&p->cfg->policy[i], &next->policy[j])) {
				r->from[j] = (int)i;
				used[i] = true;
			}
	}
	return reload_start(r, loop, cb, arg);
}

/* r's reading half in a thread; its committing half when it is done. */
static int reload_start(struct reload *r, struct ctl_loop *loop, ctl_policy_reloaded cb,
			void *arg)
{
	struct ctl_policy *p = r->p;

	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	r->report = open_memstream(&r->text, &r->len);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r->report || r->efd < 0 || ctl_loop_watch(loop, r->efd, EPOLLIN, reload_done, r)) {
		if (r->report)
			fclose(r->report);
		if (r->efd >= 0)
			close(r->efd);
		r->report = NULL;
		reload_free(r);
		return CTL_E_SYSTEM;
	}
	if (pthread_create(&r->th, NULL, reload_thread, r)) {
		ctl_loop_close(loop, r->efd);
		fclose(r->report);
		r->report = NULL;
		reload_free(r);
		return CTL_E_SYSTEM;
	}
	p->busy = r;
	return 0;
}

/* The secondary's timers and NOTIFYs ask for zone i. */
static int refresh_zone(void *arg, unsigned i)
{
	struct ctl_policy *p = arg;

	if (p->busy)
		return CTL_E_FULL;
	return ctl_policy_reload(p, p->loop, p->names[i], p->xfr_cb, p->xfr_arg);
}

void ctl_policy_offline(struct ctl_policy *p)
{
	p->offline = true;
}

int ctl_policy_start_transfers(struct ctl_policy *p, struct ctl_loop *loop,
			       ctl_policy_reloaded cb, void *arg, char *err, size_t errlen)
{
	p->loop = loop;
	p->xfr_cb = cb;
	p->xfr_arg = arg;
	return ctl_secondary_start(p->sec, loop, refresh_zone, p, err, errlen);
}

const struct policy_snap *ctl_policy_snap(const struct ctl_policy *p, size_t *len)
{
	if (len)
		*len = p->snap_len;
	return p->snap;
}

bool ctl_policy_active(const struct ctl_policy *p)
{
	return p->snap && policy_zones(p->snap) > 0;
}

void ctl_policy_set_gen(struct ctl_policy *p, uint64_t gen)
{
	p->gen = gen;
	if (p->snap)
		policy_set_gen(p->snap, p->gen++);
}

static void chased(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct chase *c = arg;
	static uint8_t out[DNS_MSG_MAX];
	size_t n = policy_chase_answer(c->head, c->hlen, msg, len, rcode,
				       c->cap < sizeof(out) ? c->cap : sizeof(out), out);

	(void)stale;
	if (c->vcb) {
		/* a response's verdict: the CNAME alone when nothing joins */
		c->v.answer = n ? out : c->head;
		c->v.len = n ? n : c->hlen;
		c->vcb(c->arg, &c->v, c->msg, c->mlen);
	} else {
		c->done(c->arg, n ? out : NULL, n);
	}
	free(c);
}

/*
 * Starts resolving the target of h's CNAME for q, whose answer with the
 * CNAME alone is head (hlen octets; the joined answer meets the client's
 * UDP size, as policy_answer()); msg (mlen, may be NULL) is copied along
 * for a verdict's callback. The caller sets done or vcb, arg (and v)
 * before returning to the loop (the iterator never calls back at once).
 * NULL when there is no target, no memory or the iterator refused: the
 * CNAME alone then.
 */
static struct chase *chase_start(struct ctl_policy *p, struct ctl_iter *it,
				 const struct policy_hit *h, const struct dns_query *q, bool stream,
				 size_t cap, const uint8_t *head, size_t hlen, const uint8_t *msg,
				 size_t mlen)
{
	uint8_t target[DNS_NAME_MAX];
	struct chase *c;

	if (!msg)
		mlen = 0;
	if (!it || !policy_chase_target(p->snap, h, q, target) ||
	    !(c = calloc(1, sizeof(*c) + hlen + mlen)))
		return NULL;
	size_t u = dns_query_udp_size(q);
	c->cap = stream || u >= cap ? cap : u;
	c->hlen = hlen;
	memcpy(c->head, head, hlen);
	c->mlen = mlen;
	c->msg = mlen ? c->head + hlen : NULL;
	if (mlen)
		memcpy(c->head + hlen, msg, mlen);
	if (ctl_iter_resolve(it, target, q->qtype, DNS_C_IN, 0, chased, c) != 0) {
		free(c);
		return NULL;
	}
	p->st.chased++;
	return c;
}

/* A dual-stack socket's IPv4 client is an IPv4 client. */
static void client_of(int *family, const uint8_t **addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (*family == 6 && *addr && memcmp(*addr, mapped, 12) == 0) {
		*family = 4;
		*addr += 12;
	}
}

static const char *const trigger_name[] = { "?", "qname", "client-ip", "ip", "nsdname", "nsip" };

/* Whether the zone of the snapshot's index k logs its matches. */
static bool logs(const struct ctl_policy *p, unsigned k)
{
	return p->snap && k < policy_zones(p->snap) && p->map[k] < p->n && p->opts[p->map[k]].log;
}

/* One line per answer of a zone with log: true, at info (at most
 * CFG_LOG_BUSY_PER_S a second with the query log's). */
static void log_match(const struct ctl_policy *p, const struct policy_hit *h,
		      const struct dns_query *q, int family, const uint8_t *addr, int verdict)
{
	char name[4 * DNS_NAME_MAX + 1], type[16], a[INET6_ADDRSTRLEN] = "?";
	static const char *const what[] = { "?", "answer", "drop", "passthru", "cname" };

	if (dns_name_to_str(dns_query_qname(q), name, sizeof(name)) < 0 ||
	    dns_type_to_str(q->qtype, type, sizeof(type)) < 0)
		return;
	if (!cfg_log_on(CFG_LOG_INFO) || !cfg_log_busy_ok())
		return;
	if (addr)
		inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	cfg_log(CFG_LOG_INFO, "policy %s: %s %s from %s (%s): %s",
		policy_zone_name(p->snap, h->zone), name, type, a,
		trigger_name[h->trigger <= POLICY_T_NSIP ? h->trigger : 0],
		what[verdict >= 0 && verdict <= 4 ? verdict : 0]);
}

int ctl_policy_apply(struct ctl_policy *p, struct ctl_iter *it, const struct dns_query *q,
		     int family, const uint8_t *addr, bool stream, uint16_t edns_size,
		     uint8_t *out, size_t cap, size_t *len, ctl_policy_done done, void *arg)
{
	uint8_t l[DNS_NAME_MAX];
	struct policy_hit h;

	if (!p || !p->snap)
		return 0;
	client_of(&family, &addr);
	dns_copy_lower(l, dns_query_qname(q), q->qname_len);
	if (!policy_match(p->snap, l, q->qname_len, family, addr, &h))
		return 0;
	/* an earlier zone's IP, NSDNAME or NSIP trigger may beat it: decided
	 * once the response is known (ctl_policy_respond()) */
	if (policy_needs(p->snap, h.zone) & POLICY_NEED_DEFER)
		return 0;
	enum policy_verdict v = policy_answer(p->snap, &h, q, stream, edns_size, out, cap, len);
	if (logs(p, h.zone))
		log_match(p, &h, q, family, addr, (int)v);
	switch (v) {
	case POLICY_V_DROP:
		p->st.dropped++;
		return v;
	case POLICY_V_PASS:
		p->st.passthru++;
		return v;
	case POLICY_V_ANSWER:
		if (h.action == POLICY_A_TCP_ONLY)
			p->st.tcp_only++;
		else if (h.action == POLICY_A_NXDOMAIN || (out[3] & DNS_F_RCODE_MASK) == DNS_R_NXDOMAIN)
			p->st.nxdomain++;
		else if (h.action == POLICY_A_NODATA)
			p->st.nodata++;
		else
			p->st.local++;
		return v;
	case POLICY_V_CHASE:
		break;
	}
	struct chase *c = chase_start(p, it, &h, q, stream, cap, out, *len, NULL, 0);
	if (!c) {
		p->st.local++;
		return POLICY_V_ANSWER; /* the CNAME alone */
	}
	c->done = done;
	c->arg = arg;
	return POLICY_V_CHASE;
}


/* The verdict on a resolution with the name servers ns (NULL: none
 * needed; complete: all of them known), given to cb now, or by chased()
 * once a walled garden's target is resolved through it. */
static void decide(struct ctl_policy *p, struct ctl_iter *it, const struct dns_query *q,
		   int family, const uint8_t *addr, bool stream, uint16_t edns_size, size_t cap,
		   const uint8_t *msg, size_t mlen, const struct policy_ns *ns, bool complete,
		   ctl_policy_verdict_cb cb, void *arg)
{
	static uint8_t out[DNS_MSG_MAX];
	struct ctl_policy_verdict v = { 0 };
	const struct policy_snap *s = p ? p->snap : NULL;

	if (s) {
		uint8_t l[DNS_NAME_MAX];
		struct policy_hit pre = { 0 }, resp = { 0 };
		dns_copy_lower(l, dns_query_qname(q), q->qname_len);
		policy_match(s, l, q->qname_len, family, addr, &pre);
		policy_match_response(s, policy_zones(s), msg, mlen, ns, &resp);
		/* a verdict from name servers not all known is this client's
		 * alone: the cache keeps it unchecked (the workers ask again) */
		v.gen = complete ? policy_gen(s) : 0;
		v.rule = complete ? policy_hit_tag(&resp) : 0;
		const struct policy_hit *win = policy_winner(&pre, &resp);
		/* a quiet ctl_policy_now() counts and logs nothing */
		struct ctl_policy_stats scratch = { 0 }, *st = p->probing ? &scratch : &p->st;
		if (win && win->action != POLICY_A_PASSTHRU) {
			size_t n = 0;
			enum policy_verdict pv = policy_answer(s, win, q, stream, edns_size, out,
							       cap < sizeof(out) ? cap : sizeof(out), &n);
			if (logs(p, win->zone) && !p->probing)
				log_match(p, win, q, family, addr, (int)pv);
			if (pv == POLICY_V_DROP) {
				v.v = POLICY_V_DROP;
				st->dropped++;
			} else if (pv != POLICY_V_PASS) {
				v.v = POLICY_V_ANSWER;
				v.answer = out;
				v.len = n;
				/* a walled garden: its target's records after
				 * the CNAME (or the CNAME alone when it cannot
				 * be chased) */
				struct chase *c = pv == POLICY_V_CHASE
					? chase_start(p, it, win, q, stream, cap, out, n, msg, mlen)
					: NULL;
				if (c) {
					c->vcb = cb;
					c->arg = arg;
					c->v = v;
					if (win == &resp)
						st->response_matches++;
					return;
				}
				v.unchased = pv == POLICY_V_CHASE;
				if (v.unchased && !it)
					st = &scratch; /* the caller resolves: counted then */
				if (win->action == POLICY_A_TCP_ONLY)
					st->tcp_only++;
				else if (win->action == POLICY_A_NODATA)
					st->nodata++;
				else if ((out[3] & DNS_F_RCODE_MASK) == DNS_R_NXDOMAIN)
					st->nxdomain++;
				else
					st->local++;
			}
			if (v.v && win == &resp)
				st->response_matches++;
		}
	}
	cb(arg, &v, msg, mlen);
}

/* A verdict that waits for the question's name servers. */
struct respond {
	struct ctl_policy *p;
	struct ctl_iter *it;
	ctl_policy_verdict_cb cb;
	void *arg;
	int family;
	bool has_addr;
	bool stream;
	uint16_t edns_size;
	uint8_t addr[16];
	size_t cap;
	size_t mlen;
	uint8_t *msg;		/* a copy, or NULL */
	uint64_t gen;		/* the snapshot's when the gathering began */
	uint16_t qlen;
	uint8_t qwire[];	/* the client's query, copied */
};

static void ns_gathered(void *arg, const struct policy_ns *ns, bool complete)
{
	static const struct ctl_policy_verdict none;
	struct respond *r = arg;
	struct dns_query q;

	/* a reload meanwhile may want what was not gathered */
	if (!r->p->snap || policy_gen(r->p->snap) != r->gen)
		complete = false;
	/* it parsed when it was copied */
	if (dns_query_parse(&q, r->qwire, r->qlen) == 0)
		decide(r->p, r->it, &q, r->family, r->has_addr ? r->addr : NULL, r->stream,
		       r->edns_size, r->cap, r->msg, r->mlen, ns, complete, r->cb, r->arg);
	else
		r->cb(r->arg, &none, r->msg, r->mlen);
	free(r->msg);
	free(r);
}

/* The names whose zones' servers NSDNAME and NSIP look at: the question's
 * and its CNAME chain's in msg (as a resolver meets them), lower-cased,
 * at most CTL_NS_QNAMES_MAX. */
static unsigned qnames(const struct dns_query *q, const uint8_t *msg, size_t mlen,
		       uint8_t names[][DNS_NAME_MAX])
{
	struct dns_msg m;
	unsigned n = 0;

	dns_copy_lower(names[n++], dns_query_qname(q), q->qname_len);
	if (!msg || dns_msg_parse(&m, msg, mlen))
		return n;
	struct dns_rr_iter it;
	struct dns_rr rr;
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	while (n < CTL_NS_QNAMES_MAX && it.section == DNS_SEC_ANSWER && dns_rr_next(&it, &rr) == 1) {
		size_t pos = rr.rdata_off;
		if (rr.type == DNS_T_CNAME && dns_name_parse(msg, mlen, &pos, names[n]) > 0)
			dns_name_lower(names[n++]);
	}
	return n;
}

/* What the response triggers that could beat q's own match need (l gets
 * q's name lower-cased); *matched: whether q matched. */
static unsigned needs_of(const struct policy_snap *s, const struct dns_query *q, int family,
			 const uint8_t *addr, uint8_t *l, bool *matched)
{
	struct policy_hit pre = { 0 };

	dns_copy_lower(l, dns_query_qname(q), q->qname_len);
	*matched = policy_match(s, l, q->qname_len, family, addr, &pre) != 0;
	return policy_needs(s, *matched ? pre.zone : policy_zones(s));
}

/* A verdict given before ctl_policy_respond() returned, copied out. */
static void took(void *arg, const struct ctl_policy_verdict *v, const uint8_t *msg, size_t len)
{
	(void)msg;
	(void)len;
	*(struct ctl_policy_verdict *)arg = *v;
}

int ctl_policy_now(struct ctl_policy *p, const struct dns_query *q, int family,
		   const uint8_t *addr, bool stream, uint16_t edns_size, size_t cap,
		   const uint8_t *msg, size_t mlen, bool quiet, struct ctl_policy_verdict *v)
{
	*v = (struct ctl_policy_verdict){ 0 };
	if (!p || !p->snap)
		return 0;
	if (ctl_policy_waits(p, q, family, addr))
		return -1;
	/* without an iterator nothing is gathered or chased: the callback
	 * comes before ctl_policy_respond() returns */
	p->probing = quiet;
	int rc = ctl_policy_respond(p, NULL, q, family, addr, stream, edns_size, cap, msg, mlen,
				    took, v);
	p->probing = false;
	return rc ? -1 : 0;
}

bool ctl_policy_waits(const struct ctl_policy *p, const struct dns_query *q, int family,
		      const uint8_t *addr)
{
	uint8_t l[DNS_NAME_MAX];
	bool matched;

	if (!p || !p->snap)
		return false;
	client_of(&family, &addr);
	unsigned need = needs_of(p->snap, q, family, addr, l, &matched);
	return (policy_needs(p->snap, policy_zones(p->snap)) & POLICY_NEED_NS) ||
	       (matched && (need & POLICY_NEED_DEFER));
}

int ctl_policy_respond(struct ctl_policy *p, struct ctl_iter *it, const struct dns_query *q,
		       int family, const uint8_t *addr, bool stream, uint16_t edns_size,
		       size_t cap, const uint8_t *msg, size_t mlen, ctl_policy_verdict_cb cb,
		       void *arg)
{
	const struct policy_snap *s = p ? p->snap : NULL;
	struct respond *r;

	client_of(&family, &addr);
	if (s) {
		/* the cache keeps the verdict for every client: the name
		 * servers whenever some zone has NSDNAME or NSIP rules */
		unsigned need = policy_needs(s, policy_zones(s));
		if ((need & POLICY_NEED_NS) && !it) {
			/* nobody to ask: this client's verdict without them */
			decide(p, NULL, q, family, addr, stream, edns_size, cap, msg, mlen, NULL,
			       false, cb, arg);
			return 0;
		}
		if (need & POLICY_NEED_NS) {
			uint8_t names[CTL_NS_QNAMES_MAX][DNS_NAME_MAX];
			unsigned nn = qnames(q, msg, mlen, names);
			if (!(r = malloc(sizeof(*r) + q->len)))
				return CTL_E_NOMEM;
			*r = (struct respond){ .p = p, .it = it, .cb = cb, .arg = arg, .family = family,
					       .has_addr = addr != NULL, .stream = stream,
					       .edns_size = edns_size, .cap = cap, .mlen = mlen,
					       .qlen = q->len };
			if (addr)
				memcpy(r->addr, addr, family == 6 ? 16 : 4);
			memcpy(r->qwire, q->wire, q->len);
			if (msg && mlen && !(r->msg = malloc(mlen))) {
				free(r);
				return CTL_E_NOMEM;
			}
			if (r->msg)
				memcpy(r->msg, msg, mlen);
			r->gen = policy_gen(s);
			int rc = ctl_ns_gather(it, (const uint8_t(*)[DNS_NAME_MAX])names, nn,
					       need & POLICY_NEED_NS, ns_gathered, r, &p->ns_st);
			if (rc) {
				free(r->msg);
				free(r);
			}
			return rc;
		}
	}
	decide(p, it, q, family, addr, stream, edns_size, cap, msg, mlen, NULL, true, cb, arg);
	return 0;
}

void ctl_policy_get_stats(const struct ctl_policy *p, struct ctl_policy_stats *st)
{
	*st = p->st;
	st->ns_gathered = p->ns_st.gathered;
	st->ns_lookups = p->ns_st.lookups;
	st->ns_truncated = p->ns_st.truncated;
	st->ns_failed = p->ns_st.failed;
}

void ctl_policy_print_stats(const struct ctl_policy *p, FILE *f)
{
	struct ctl_policy_stats st;
	ctl_policy_get_stats(p, &st);
#define P(name, text) fprintf(f, "stat policy.%s %llu\n", #name, (unsigned long long)st.name);
	CTL_POLICY_COUNTERS(P)
#undef P
	fprintf(f, "stat policy.generation %llu\nstat policy.rules %llu\n",
		(unsigned long long)(p->snap ? policy_gen(p->snap) : 0),
		(unsigned long long)(p->snap ? policy_rules(p->snap) : 0));
	for (unsigned i = 0; i < p->n; i++) {
		const struct pzone *z = &p->zone[i];
		const char *n = p->names[i];
		static const char *const trig[] = { "", "qname", "client_ip", "ip", "nsdname",
						    "nsip" };
		fprintf(f, "stat policy_zone.loaded[%s] %d\nstat policy_zone.serial[%s] %u\n"
			   "stat policy_zone.loaded_at[%s] %lld\nstat policy_zone.failures[%s] %llu\n"
			   "stat policy_zone.rejected[%s] %llu\nstat policy_zone.records[%s] %llu\n",
			n, z->loaded, n, z->z.serial, n, (long long)z->loaded_at, n,
			(unsigned long long)z->failures, n, (unsigned long long)z->rejected_last,
			n, (unsigned long long)z->z.counts.records);
		for (int t = POLICY_T_QNAME; t <= POLICY_T_NSIP; t++)
			fprintf(f, "stat policy_zone.rules_%s[%s] %llu\n", trig[t], n,
				(unsigned long long)z->z.counts.by_trigger[t]);
		ctl_secondary_print_zone(p->sec, i, n, f);
	}
	ctl_secondary_print_notify(p->sec, f);
}
