/*
 * control/view.c: the operator's views (view.h). Reads the delegation
 * table through ctl_deleg_each(); lookup-delegation also asks
 * ctl_deleg_find() as a resolution would (which drops cuts learnt through
 * a parent instance no longer in use, as the next resolution would). The
 * servers through ctl_infra_each() and up_server_cookies() (read only).
 */
#include "control/view.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "control/err.h"
#include "control/infra.h"
#include "control/jsonw.h"
#include "dns/name.h"

#define NAME_STR_MAX 1024 /* a name in presentation form, \DDD and all */

static const char *kind_of(const struct ctl_deleg *d, bool json)
{
	switch (d->kind) {
	case CTL_DELEG_STUB:
		return "stub";
	case CTL_DELEG_FORWARD:
		return d->rd ? "forward" : json ? "forward-no-rd" : "forward (no RD)";
	}
	return d->from_hints ? "hints" : "learnt";
}

static void name_str(const uint8_t *name, char s[NAME_STR_MAX])
{
	if (dns_name_to_str(name, s, NAME_STR_MAX) < 0)
		snprintf(s, NAME_STR_MAX, "?");
}

static void put_name(FILE *f, const uint8_t *name)
{
	char s[NAME_STR_MAX];

	name_str(name, s);
	fputs(s, f);
}

/* One cut: a line for it, one per name server; with w, a JSON object
 * (note: "note", when given; thread: the control thread's table it is in,
 * -1: not said). */
static void put_cut(FILE *f, struct jw *w, const struct ctl_deleg *d, uint32_t now,
		    const char *note, int thread)
{
	bool learnt = d->kind == CTL_DELEG_LEARNT && !d->from_hints;

	if (w) {
		char s[NAME_STR_MAX], a[INET6_ADDRSTRLEN];

		jw_object(w, NULL);
		name_str(d->zone, s);
		jw_str(w, "zone", s);
		jw_str(w, "kind", kind_of(d, true));
		jw_u64(w, "instance", d->id);
		if (thread >= 0)
			jw_u64(w, "thread", (uint64_t)thread);
		jw_u64(w, "parent", d->parent_id);
		if (learnt) {
			jw_i64(w, "expires_in_s", (int64_t)d->expire - (int64_t)now);
			jw_u64(w, "learnt_s_ago", now >= d->learned ? now - d->learned : 0);
		} else {
			jw_null(w, "expires_in_s");
		}
		if (note)
			jw_str(w, "note", note);
		jw_array(w, "ns");
		for (unsigned i = 0; i < d->nns; i++) {
			const struct ctl_deleg_ns *ns = &d->ns[i];

			jw_object(w, NULL);
			name_str(ns->name, s);
			jw_str(w, "name", s);
			jw_array(w, "addresses");
			for (unsigned k = 0; k < ns->naddr; k++)
				if (inet_ntop(ns->addr[k].family, ns->addr[k].a, a, sizeof(a)))
					jw_str(w, NULL, a);
			jw_end(w, ']');
			jw_end(w, '}');
		}
		jw_end(w, ']');
		jw_end(w, '}');
		return;
	}
	put_name(f, d->zone);
	fprintf(f, " %s instance %llu parent %llu", kind_of(d, false), (unsigned long long)d->id,
		(unsigned long long)d->parent_id);
	if (!learnt)
		fprintf(f, " never expires");
	else if (now < d->expire)
		fprintf(f, " expires in %u s", d->expire - now);
	else
		fprintf(f, " expired %u s ago", now - d->expire);
	if (learnt)
		fprintf(f, " learnt %u s ago", now >= d->learned ? now - d->learned : 0);
	fprintf(f, " %u ns%s%s\n", d->nns, note ? ": " : "", note ? note : "");
	for (unsigned i = 0; i < d->nns; i++) {
		const struct ctl_deleg_ns *ns = &d->ns[i];

		fputs("\tns ", f);
		put_name(f, ns->name);
		for (unsigned k = 0; k < ns->naddr; k++) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(ns->addr[k].family, ns->addr[k].a, a, sizeof(a));
			fprintf(f, " %s", a);
		}
		fputc('\n', f);
	}
}

static void lookup(struct ctl_deleg_table *t, uint32_t now, const uint8_t *name, FILE *f,
		   struct jw *w, unsigned thread, unsigned threads);

struct dump {
	FILE *f;
	struct jw *w;
	uint32_t now;
	const uint8_t *under;	/* NULL: every cut */
	unsigned n;
	int thread;		/* with more than one; -1: one thread */
	char note[32];		/* "thread I" */
};

static void dump_one(void *arg, const struct ctl_deleg *d)
{
	struct dump *x = arg;

	put_cut(x->f, x->w, d, x->now, x->w || x->thread < 0 ? NULL : x->note, x->thread);
}

static void dump_thread(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct dump *x = arg;

	if (x->thread >= 0) {
		x->thread = (int)i;
		snprintf(x->note, sizeof(x->note), "thread %u", i);
	}
	x->n += ctl_deleg_each(s->deleg, x->under, true, dump_one, x);
}

/* lookup-delegation: the thread holding the deepest cut at or above the
 * name (the first of those; looked at as they are: a find would drop the
 * evidence lookup() shows), then its answer. */
struct pick {
	const uint8_t *name;
	uint32_t now;
	unsigned best, labels, threads;
	unsigned deepest;	/* one thread's */
	struct ctl_deleg_table *table; /* the best's */
	FILE *f;
	struct jw *w;
};

static void deepest_one(void *arg, const struct ctl_deleg *d)
{
	struct pick *p = arg;
	unsigned labels = dns_name_labels(d->zone) + 1;

	if (labels > p->deepest)
		p->deepest = labels;
}

static void pick_one(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct pick *p = arg;

	p->deepest = 0;
	ctl_deleg_each(s->deleg, p->name, false, deepest_one, p);
	if (!p->table || p->deepest > p->labels) {
		p->best = i;
		p->labels = p->deepest;
		p->table = s->deleg;
	}
}

/* (every thread still held: the table picked is as it was) */
static void lookup_best(void *arg)
{
	struct pick *p = arg;

	lookup(p->table, p->now, p->name, p->f, p->w, p->best, p->threads);
}

/* lookup-delegation: the cuts above the name, kept (copied) to be sorted */
struct chain {
	unsigned n;
	struct ctl_deleg d[DNS_NAME_MAX / 2 + 1]; /* each with its own ns copy */
	bool nomem;
};

static void chain_one(void *arg, const struct ctl_deleg *d)
{
	struct chain *c = arg;

	if (c->n >= sizeof(c->d) / sizeof(c->d[0]))
		return;
	struct ctl_deleg_ns *ns = d->nns ? malloc(d->nns * sizeof(*ns)) : NULL;

	if (d->nns && !ns) {
		c->nomem = true;
		return;
	}
	if (ns)
		memcpy(ns, d->ns, d->nns * sizeof(*ns));
	c->d[c->n] = *d;
	c->d[c->n].ns = ns;
	c->n++;
}

static int by_depth(const void *a, const void *b)
{
	unsigned la = dns_name_labels(((const struct ctl_deleg *)a)->zone);
	unsigned lb = dns_name_labels(((const struct ctl_deleg *)b)->zone);

	return (la > lb) - (la < lb);
}

static void lookup(struct ctl_deleg_table *t, uint32_t now, const uint8_t *name, FILE *f,
		   struct jw *w, unsigned thread, unsigned threads)
{
	struct chain *c = calloc(1, sizeof(*c));
	uint32_t chain_expire = 0;

	if (!c) {
		fprintf(f, "error: out of memory\n");
		return;
	}
	/* the cuts as they are, before the find drops those learnt through
	 * a parent instance no longer in use (the evidence) */
	ctl_deleg_each(t, name, false, chain_one, c);
	const struct ctl_deleg *use = ctl_deleg_find(t, name, now, &chain_expire);
	if (!use) {
		for (unsigned i = 0; i < c->n; i++)
			free(c->d[i].ns);
		fprintf(f, "error: no root delegation (no hints)\n");
		free(c);
		return;
	}
	if (w) {
		char s[NAME_STR_MAX];

		jw_object(w, NULL);
		name_str(name, s);
		jw_str(w, "name", s);
		name_str(use->zone, s);
		jw_str(w, "starts_at", s);
		jw_u64(w, "instance", use->id);
		jw_bool(w, "configured", use->kind != CTL_DELEG_LEARNT);
		if (threads > 1) {
			jw_u64(w, "thread", thread);
			jw_u64(w, "threads", threads);
		}
		if (use->kind != CTL_DELEG_LEARNT || chain_expire == UINT32_MAX)
			jw_null(w, "usable_s");
		else
			jw_u64(w, "usable_s", chain_expire > now ? chain_expire - now : 0);
		jw_array(w, "cuts");
	} else {
		fputs("name ", f);
		put_name(f, name);
		if (threads > 1)
			fprintf(f, "\nthread %u of %u (the deepest cut of any)", thread, threads);
		fputs("\nstarts at ", f);
		put_name(f, use->zone);
		fprintf(f, " instance %llu", (unsigned long long)use->id);
		if (use->kind != CTL_DELEG_LEARNT)
			fprintf(f, " (a configured zone)\n");
		else if (chain_expire == UINT32_MAX)
			fprintf(f, " (the root hints: no expiry)\n");
		else
			fprintf(f, " (the chain is usable for %u s more)\n",
				chain_expire > now ? chain_expire - now : 0);
	}
	uint64_t use_id = use->id;
	bool use_configured = use->kind != CTL_DELEG_LEARNT;
	qsort(c->d, c->n, sizeof(c->d[0]), by_depth);
	if (!w)
		fprintf(f, "cuts held at and above it, from the root down:\n");
	/* as ctl_deleg_find() walks: each cut must have been learnt through
	 * the instance of the one above it that is in use (cur) */
	uint64_t cur = 0;
	bool past = false, stopped = false;
	for (unsigned i = 0; i < c->n; i++) {
		const struct ctl_deleg *d = &c->d[i];
		const char *note = "on the way down";
		char why[128];

		if (d->id == use_id) {
			note = "used";
			past = true;
			cur = d->id;
		} else if (!past && use_configured && d->kind == CTL_DELEG_LEARNT) {
			note = "skipped: a configured zone below it is used";
		} else if (!past && d->kind != CTL_DELEG_LEARNT) {
			note = "configured";
			cur = d->id;
		} else if (past && stopped) {
			note = "below: not reached";
		} else if (i && d->parent_id != cur) {
			/* where the walk stopped, or a cut it passed by */
			snprintf(why, sizeof(why), "not used: learnt through parent instance %llu, "
						   "not the one in use (%llu)",
				 (unsigned long long)d->parent_id, (unsigned long long)cur);
			note = why;
			stopped = past;
		} else if (now >= d->expire && !d->from_hints && d->parent_id) {
			note = "expired: its parent is asked again";
			stopped = past;
		} else if (past) {
			note = "below: not reached";
			stopped = true;
		} else {
			cur = d->id;
		}
		put_cut(f, w, d, now, note, -1);
	}
	if (w) {
		jw_end(w, ']');
		jw_bool(w, "incomplete", c->nomem); /* out of memory: some cuts not shown */
		jw_end(w, '}');
	} else if (c->nomem) {
		fprintf(f, "(out of memory: some cuts not shown)\n");
	}
	for (unsigned i = 0; i < c->n; i++)
		free(c->d[i].ns);
	free(c);
}

struct srv_view {
	FILE *f;
	struct jw *w;
	const struct up_ctx *up;
	const struct ctl_iter *it;
	uint64_t now_ms;
	unsigned n, held;
	unsigned thread, threads;
};

static void srv_one(void *arg, const struct ctl_srv *s)
{
	struct srv_view *v = arg;
	struct sockaddr_storage ss;
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->a.family, s->a.a, a, sizeof(a));
	ctl_iter_server_sockaddr(v->it, &s->a, &ss);
	bool cookies = v->up && up_server_cookies(v->up, (const struct sockaddr *)&ss);
	bool held = s->hold_ms && s->held_until_ms > v->now_ms;
	bool no_edns = s->no_edns && s->no_edns_until_ms > v->now_ms;
	if (s->hold_ms)
		v->held++;
	if (v->w) {
		struct jw *w = v->w;

		jw_object(w, NULL);
		jw_str(w, "address", a);
		jw_u64(w, "rtt_ms", s->srtt_ms);
		jw_u64(w, "timeouts", s->timeouts);
		jw_u64(w, "timeouts_seen", s->timeouts_seen);
		jw_u64(w, "replies_seen", s->replies_seen);
		jw_bool(w, "held", s->hold_ms != 0);
		if (held)
			jw_u64(w, "held_ms_left", s->held_until_ms - v->now_ms);
		else
			jw_null(w, "held_ms_left");
		jw_bool(w, "probing", s->probing);
		jw_str(w, "edns", no_edns ? "no" : s->edns_ok ? "yes" : "unknown");
		jw_u64(w, "no_edns_s_left", no_edns ? (s->no_edns_until_ms - v->now_ms) / 1000 : 0);
		jw_bool(w, "cookies", cookies);
		if (v->threads > 1)
			jw_u64(w, "thread", v->thread);
		jw_end(w, '}');
		return;
	}
	fprintf(v->f, "%s rtt %u ms timeouts %u (seen %u, replies %u)", a, s->srtt_ms,
		s->timeouts, s->timeouts_seen, s->replies_seen);
	if (held)
		fprintf(v->f, " held %llu ms more%s",
			(unsigned long long)(s->held_until_ms - v->now_ms),
			s->probing ? " (probing)" : "");
	else if (s->hold_ms)
		fprintf(v->f, " held: a probe may go%s", s->probing ? " (probing)" : "");
	if (no_edns)
		fprintf(v->f, " edns no (%llu s more)",
			(unsigned long long)((s->no_edns_until_ms - v->now_ms) / 1000));
	else
		fprintf(v->f, " edns %s", s->edns_ok ? "yes" : "unknown");
	fprintf(v->f, " cookies %s", cookies ? "yes" : "no");
	if (v->threads > 1)
		fprintf(v->f, " thread %u", v->thread);
	fputc('\n', v->f);
}

static void srv_thread(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct srv_view *v = arg;

	v->thread = i;
	v->it = s->it;
	v->up = s->up;
	v->n += ctl_infra_each(ctl_iter_infra(s->it), srv_one, v);
}

int ctl_view_command(const struct ctl_view_parts *x, uint32_t now, const char *cmd, FILE *f)
{
	const char *arg;
	bool dump;
	uint8_t given[DNS_NAME_MAX], name[DNS_NAME_MAX];
	unsigned threads = ctl_pool_threads(x->pool);

	if (ctl_sock_verb(cmd, "servers", &arg)) {
		struct jw jw;
		struct srv_view v = { f, x->json ? &jw : NULL, NULL, NULL, ctl_now_ms(), 0, 0, 0,
				      threads };

		if (arg) {
			fprintf(f, "error: servers takes no argument\n");
			return 0;
		}
		if (v.w) {
			jw_init(&jw, f);
			jw_object(&jw, NULL);
			jw_array(&jw, "servers");
		}
		ctl_pool_each(x->pool, srv_thread, &v);
		unsigned n = v.n;
		if (v.w) {
			jw_end(&jw, ']');
			jw_u64(&jw, "count", n);
			jw_u64(&jw, "held", v.held);
			jw_end(&jw, '}');
		} else {
			fprintf(f, "%u server%s, %u held\n", n, n == 1 ? "" : "s", v.held);
		}
		return 0;
	}
	if (ctl_sock_verb(cmd, "dump-delegations", &arg))
		dump = true;
	else if (ctl_sock_verb(cmd, "lookup-delegation", &arg))
		dump = false;
	else
		return CTL_E_UNKNOWN_COMMAND;
	if ((!dump && !arg) || (arg && strpbrk(arg, " \t"))) {
		fprintf(f, "error: %s: one domain name\n",
			dump ? "dump-delegations [NAME]" : "lookup-delegation NAME");
		return 0;
	}
	if (arg && dns_name_from_str(arg, given) < 0) {
		fprintf(f, "error: \"%s\" is not a domain name\n", arg);
		return 0;
	}
	if (arg)
		dns_name_copy_lower(name, given);
	struct jw jw;
	if (x->json)
		jw_init(&jw, f);
	if (!dump) {
		struct pick p = { name, now, 0, 0, threads, 0, NULL, f, x->json ? &jw : NULL };
		ctl_pool_all(x->pool, pick_one, lookup_best, &p, false);
		return 0;
	}
	struct dump d = { f, x->json ? &jw : NULL, now, arg ? name : NULL, 0, threads > 1 ? 0 : -1,
			  "" };
	if (d.w) {
		jw_object(&jw, NULL);
		jw_array(&jw, "delegations");
	}
	ctl_pool_each(x->pool, dump_thread, &d);
	unsigned n = d.n;
	if (d.w) {
		jw_end(&jw, ']');
		jw_u64(&jw, "count", n);
		jw_end(&jw, '}');
	} else {
		fprintf(f, "%u cut%s\n", n, n == 1 ? "" : "s");
	}
	return 0;
}
