/*
 * control/cacheview.c: the cache views (cacheview.h). lookup builds the
 * question a TCP client with AD would send and asks the client cache the
 * way the front end does (answer_cached() and answer_nxdomain_cut() on
 * control's cache, ctl_dp_lookup() through the dataplane's writer), so
 * what it shows is what a client gets. dump-cache walks control's own
 * cache with cache_walk() in one go (as its writer, under
 * ctl_iter_cache_lock()), or
 * the dataplane's a page at a time through its writer (ctl_dp_dump()),
 * the answer written as the client reads (ctl_sock_reply_async()).
 */
#include "control/cacheview.h"

#include <stdlib.h>
#include <string.h>

#include "answer/reply.h"
#include "control/err.h"
#include "control/iter.h"
#include "control/jsonw.h"
#include "dns/build.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/query.h"

#define NAME_STR_MAX 1024 /* a name in presentation form, \DDD and all */
#define LOOKUP_OUT_MAX 65535

static const char *rank_str(uint8_t rank)
{
	static const char *const r[] = { "-", "additional", "glue", "nonauth-answer",
					  "auth-authority", "auth-answer", "secure" };

	return rank < sizeof(r) / sizeof(r[0]) ? r[rank] : "?";
}

static void put_type(FILE *f, uint16_t type)
{
	char t[24];

	dns_type_to_str(type, t, sizeof(t));
	fputs(t, f);
}

/* lookup's answer: its first line, then the records of msg (len octets;
 * NULL: none held); json: as one JSON object. cut: denied by an RFC 8020
 * NXDOMAIN cut above it. */
static void put_lookup(FILE *f, bool json, const char *where, const char *name, uint16_t qtype,
		       const uint8_t *msg, size_t len, bool stale, bool cut)
{
	static const char *const sec[] = { "", "answer", "authority", "additional" };
	struct dns_msg m;
	struct jw w;
	char t[24];
	bool held = msg && !dns_msg_parse(&m, msg, len);
	const char *rc = held ? dns_rcode_str(m.rcode) : NULL;

	dns_type_to_str(qtype, t, sizeof(t));
	if (json) {
		jw_init(&w, f);
		jw_object(&w, NULL);
		jw_str(&w, "name", name);
		jw_str(&w, "type", t);
		jw_str(&w, "cache", strcmp(where, "control's cache") ? "dataplane" : "control");
		jw_bool(&w, "held", held);
	} else if (!held) {
		fprintf(f, "%s %s: not in %s\n", name, t, where);
		return;
	} else {
		if (cut)
			fprintf(f, "(denied by a cached secure NXDOMAIN at or above it, RFC 8020)\n");
		fprintf(f, "%s %s: in %s, %s, %s, %s%s\n", name, t, where,
			stale ? "stale (RFC 8767)" : "fresh", rc ? rc : "?",
			m.hdr.flags & DNS_F_AD ? "secure (AD)" : "not secure",
			m.hdr.flags & DNS_F_TC ? ", truncated" : "");
	}
	if (!held) {
		jw_end(&w, '}');
		return;
	}
	uint16_t ede = m.has_edns ? dns_opt_find_ede(m.wire + m.edns.opts_off, m.edns.opts_len)
				  : DNS_EDE_NONE;
	if (json) {
		jw_bool(&w, "stale", stale);
		jw_str(&w, "rcode", rc ? rc : "?");
		jw_bool(&w, "secure", m.hdr.flags & DNS_F_AD);
		jw_bool(&w, "truncated", m.hdr.flags & DNS_F_TC);
		jw_bool(&w, "nxdomain_cut", cut);
		if (ede != DNS_EDE_NONE)
			jw_u64(&w, "ede", ede);
		else
			jw_null(&w, "ede");
		jw_array(&w, "records");
	}
	for (int s = DNS_SEC_ANSWER; s <= DNS_SEC_ADDITIONAL; s++) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		char line[4096];
		dns_rr_iter_init(&it, &m, (enum dns_section)s);
		while (dns_rr_next(&it, &rr) == 1) {
			if (rr.type == DNS_T_OPT)
				continue;
			if (dns_rr_to_str(&m, &rr, line, sizeof(line)) < 0)
				snprintf(line, sizeof(line), "(a record that does not print)");
			if (!json) {
				fprintf(f, "%s\t%s\n", sec[s], line);
				continue;
			}
			/* "owner TTL CLASS TYPE RDATA": the first four fields
			 * have no blank in them */
			char split[sizeof(line)], *field[4], *p = split;
			memcpy(split, line, sizeof(split));
			int k = 0;
			for (; k < 4; k++) {
				p += strspn(p, " \t");
				field[k] = p;
				p += strcspn(p, " \t");
				if (!*p)
					break;
				*p++ = 0;
			}
			jw_object(&w, NULL);
			jw_str(&w, "section", sec[s]);
			if (k == 4) {
				jw_str(&w, "owner", field[0]);
				jw_u64(&w, "ttl", strtoull(field[1], NULL, 10));
				jw_str(&w, "class", field[2]);
				jw_str(&w, "type", field[3]);
				jw_str(&w, "rdata", p + strspn(p, " \t"));
			} else {
				jw_str(&w, "record", line);
			}
			jw_end(&w, '}');
		}
	}
	if (json) {
		jw_end(&w, ']');
		jw_end(&w, '}');
	} else if (ede != DNS_EDE_NONE) {
		fprintf(f, "ede\t%u\n", ede);
	}
}

/* A lookup waiting for the dataplane's writer. */
struct lookup_req {
	struct ctl_sock *sock;
	int fd;
	bool json;
	uint16_t qtype;
	char name[NAME_STR_MAX];
};

static void found(void *arg, const uint8_t *msg, size_t len, bool stale)
{
	struct lookup_req *q = arg;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);

	if (f) {
		/* (no answer in time reads the same: its writer was busy) */
		put_lookup(f, q->json, "the dataplane's cache", q->name, q->qtype, msg, len, stale,
			   false);
		fclose(f);
		ctl_sock_reply_async(q->sock, q->fd, text, tlen);
	} else {
		static const char nomem[] = "error: out of memory\n";
		ctl_sock_reply(q->sock, q->fd, nomem, sizeof(nomem) - 1);
	}
	free(q);
}

static void lookup(const struct ctl_cacheview_parts *x, uint32_t now, const char *arg, FILE *f)
{
	char nm[NAME_STR_MAX] = "", ty[32] = "A", extra[2] = "";
	uint8_t name[DNS_NAME_MAX], qbuf[DNS_NAME_MAX + 64];
	int type;

	if (!arg || sscanf(arg, "%1023s %31s %1s", nm, ty, extra) < 1 || extra[0]) {
		fprintf(f, "error: lookup NAME [TYPE]\n");
		return;
	}
	if (dns_name_from_str(nm, name) < 0) {
		fprintf(f, "error: \"%s\" is not a domain name\n", nm);
		return;
	}
	if ((type = dns_type_from_str(ty)) < 0 || type == DNS_T_OPT || type == DNS_T_AXFR ||
	    type == DNS_T_IXFR || type == DNS_T_ANY) {
		fprintf(f, "error: \"%s\" is not a type the cache answers\n", ty);
		return;
	}
	/* the question a TCP client with AD would ask, without DO */
	struct dns_builder b;
	struct dns_query q;
	dns_builder_init(&b, qbuf, sizeof(qbuf), 0, DNS_F_RD | DNS_F_AD);
	dns_builder_question(&b, name, (uint16_t)type, DNS_C_IN);
	dns_builder_opt(&b, 65535, 0, 0, 0, NULL, 0);
	if (dns_query_parse(&q, qbuf, dns_builder_finish(&b))) {
		fprintf(f, "error: \"%s\" makes no question\n", nm);
		return;
	}
	char shown[NAME_STR_MAX];
	dns_name_to_str(name, shown, sizeof(shown));
	if (x->dp) {
		struct lookup_req *r = malloc(sizeof(*r));
		int fd = r ? ctl_sock_defer(x->sock) : -1;
		if (fd < 0) {
			free(r);
			fprintf(f, "error: out of memory\n");
			return;
		}
		*r = (struct lookup_req){ .sock = x->sock, .fd = fd, .json = x->json,
					  .qtype = (uint16_t)type };
		snprintf(r->name, sizeof(r->name), "%s", shown);
		if (ctl_dp_lookup(x->dp, &q, found, r)) {
			ctl_sock_undefer(x->sock);
			free(r);
			fprintf(f, "error: the dataplane's lookup ring is full; try again\n");
		}
		return;
	}
	uint8_t *out = malloc(LOOKUP_OUT_MAX);
	bool stale = false;
	size_t n = 0;
	if (!out) {
		fprintf(f, "error: out of memory\n");
		return;
	}
	bool cut = false;
	n = answer_cached(x->cache, &q, now, true, true, out, LOOKUP_OUT_MAX, &stale);
	if (!n && (n = answer_nxdomain_cut(x->cache, &q, now, true, out, LOOKUP_OUT_MAX)))
		cut = true;
	put_lookup(f, x->json, "control's cache", shown, (uint16_t)type, n ? out : NULL, n, stale,
		   cut);
	free(out);
}

struct dump {
	FILE *f;
	struct jw *w;		/* NULL: text */
	const uint8_t *under;	/* NULL: every entry */
	uint64_t shown, more;
	bool capped;		/* stopped at CTL_DUMP_CACHE_MAX: more is a floor */
};

static void dump_one(void *arg, const struct cache_entry_info *e)
{
	struct dump *d = arg;
	char name[NAME_STR_MAX], cls[24];

	if (d->under && !dns_name_is_subdomain(e->qname, d->under))
		return;
	if (d->shown >= CTL_DUMP_CACHE_MAX) {
		d->more++;
		return;
	}
	d->shown++;
	dns_name_to_str(e->qname, name, sizeof(name));
	if (d->w) {
		struct jw *w = d->w;
		char t[24];
		const char *rc = dns_rcode_str(e->rcode);

		jw_object(w, NULL);
		jw_str(w, "name", name);
		if (e->qtype) {
			dns_type_to_str(e->qtype, t, sizeof(t));
			jw_str(w, "type", t);
		} else {
			jw_null(w, "type");
		}
		dns_class_to_str(e->qclass, cls, sizeof(cls));
		jw_str(w, "class", cls);
		jw_str(w, "rcode", rc ? rc : "?");
		jw_bool(w, "stale", e->stale);
		jw_u64(w, "ttl_s", e->ttl_s);
		jw_u64(w, "stale_s", e->stale_s);
		jw_str(w, "rank", rank_str(e->rank));
		jw_bool(w, "secure", e->secure);
		jw_bool(w, "dnssec_records", e->full);
		jw_u64(w, "records", e->records);
		jw_u64(w, "bytes", e->bytes);
		if (e->ede)
			jw_u64(w, "ede", e->ede);
		else
			jw_null(w, "ede");
		jw_end(w, '}');
		return;
	}
	fprintf(d->f, "%s ", name);
	if (e->qtype)
		put_type(d->f, e->qtype);
	else
		fputs("(NXDOMAIN cut)", d->f);
	dns_class_to_str(e->qclass, cls, sizeof(cls));
	const char *rc = dns_rcode_str(e->rcode);
	fprintf(d->f, " %s %s ", cls, rc ? rc : "?");
	if (e->stale)
		fprintf(d->f, "stale %u s left", e->stale_s);
	else
		fprintf(d->f, "ttl %u stale-window %u", e->ttl_s, e->stale_s);
	fprintf(d->f, " rank %s%s%s records %u bytes %u", rank_str(e->rank),
		e->secure ? " secure" : "", e->full ? " dnssec-records" : "", e->records,
		e->bytes);
	if (e->ede)
		fprintf(d->f, " ede %u", e->ede);
	fputc('\n', d->f);
}

/* The dump's first part (which cache) and its last (the counts; why: NULL
 * when it is whole, else why it is not). */
static void dump_head(struct dump *d, struct jw *w, const char *which, const char *text,
		      bool client)
{
	if (d->w) {
		jw_init(w, d->f);
		jw_object(w, NULL);
		jw_str(w, "cache", which);
		jw_bool(w, "client_cache", client);
		jw_array(w, "entries");
	} else {
		fprintf(d->f, "%s\n", text);
	}
}

static void dump_tail(struct dump *d, uint64_t bad, const char *why)
{
	if (d->w) {
		jw_end(d->w, ']');
		jw_u64(d->w, "count", d->shown);
		jw_u64(d->w, "not_shown", d->more);
		jw_bool(d->w, "not_shown_at_least", d->capped);
		jw_u64(d->w, "bad_records", bad);
		jw_bool(d->w, "complete", !why);
		if (why)
			jw_str(d->w, "why", why);
		jw_end(d->w, '}');
		return;
	}
	fprintf(d->f, "%llu entr%s", (unsigned long long)d->shown, d->shown == 1 ? "y" : "ies");
	if (d->more)
		fprintf(d->f, ", %s%llu more not shown (at most %u: give a NAME)",
			d->capped ? "at least " : "", (unsigned long long)d->more,
			CTL_DUMP_CACHE_MAX);
	if (bad)
		fprintf(d->f, "; %llu records from the dataplane refused (not a name)",
			(unsigned long long)bad);
	if (why)
		fprintf(d->f, "; incomplete: %s", why);
	fputc('\n', d->f);
}

/* The dataplane's cache, a page at a time (ctl_dp_dump()): one dump at a
 * time, since the dataplane has one page; each page within DP_DUMP_WAIT_MS,
 * and no page asked for once CTL_DUMP_CACHE_MAX entries are shown. */
#define DP_DUMP_WAIT_MS 10000
#define DP_DUMP_POLL_MS 1

struct dp_dump {
	struct ctl_loop *loop;
	struct ctl_sock *sock;
	struct ctl_dp *dp;
	struct ctl_timer t;
	int fd;
	uint64_t pos, seq, started_ms, bad;
	uint8_t under[DNS_NAME_MAX];
	char *text;
	size_t len;
	struct jw w;
	struct dump d;
};

static bool dp_dumping;

static void dp_dump_end(struct dp_dump *q, const char *why)
{
	dump_tail(&q->d, q->bad, why);
	fclose(q->d.f);
	/* (a dump is long: written as the client reads, the loop never
	 * waiting for it) */
	ctl_sock_reply_async(q->sock, q->fd, q->text, q->len);
	free(q);
	dp_dumping = false;
}

static void dp_dump_wait(struct ctl_loop *loop, void *arg)
{
	struct dp_dump *q = arg;
	const struct shm_dump_entry *e;
	unsigned n;
	uint64_t next;
	bool refused;

	if (ctl_dp_lost(q->dp)) {
		dp_dump_end(q, "the dataplane is gone");
		return;
	}
	if (!q->seq)
		q->seq = ctl_dp_dump(q->dp, q->pos, q->under[0] ? q->under : NULL);
	while (q->seq && ctl_dp_dump_page(q->dp, q->seq, &e, &n, &next, &refused)) {
		if (refused) {
			dp_dump_end(q, "the dataplane refused the request (writer.dump_rejected)");
			return;
		}
		for (unsigned i = 0; i < n; i++) {
			/* a record from the dataplane's memory: copied, then its
			 * name checked before it is read as one */
			struct shm_dump_entry r = e[i];

			if (dns_name_check(r.qname, sizeof(r.qname)) < 0) {
				q->bad++;
				continue;
			}
			struct cache_entry_info x = {
				.qname = r.qname,
				.qtype = r.qtype,
				.qclass = r.qclass,
				.rcode = r.rcode,
				.rank = r.rank,
				.ede = r.ede,
				.full = r.flags & SHM_DUMP_F_FULL,
				.secure = r.flags & SHM_DUMP_F_SECURE,
				.stale = r.flags & SHM_DUMP_F_STALE,
				.ttl_s = r.ttl_s,
				.stale_s = r.stale_s,
				.bytes = r.bytes,
				.records = r.records,
			};
			dump_one(&q->d, &x);
		}
		if (next && q->d.shown >= CTL_DUMP_CACHE_MAX)
			q->d.capped = true;
		if (!next || q->d.capped) {
			dp_dump_end(q, NULL);
			return;
		}
		q->pos = next;
		q->started_ms = ctl_now_ms(); /* the next page's time */
		q->seq = ctl_dp_dump(q->dp, q->pos, q->under[0] ? q->under : NULL);
	}
	if (ctl_now_ms() - q->started_ms >= DP_DUMP_WAIT_MS) {
		dp_dump_end(q, "the dataplane gave no page in 10 s");
		return;
	}
	if (ctl_timer_add(loop, &q->t, DP_DUMP_POLL_MS, dp_dump_wait, q))
		dp_dump_end(q, "out of timers");
}

static void dp_dump(const struct ctl_cacheview_parts *x, const uint8_t *under, FILE *f)
{
	struct dp_dump *q;
	int fd;

	if (dp_dumping) {
		fprintf(f, "error: dump-cache: another dump of the dataplane's cache is in "
			   "progress; try again\n");
		return;
	}
	if (!(q = calloc(1, sizeof(*q))) || !(q->d.f = open_memstream(&q->text, &q->len)) ||
	    (fd = ctl_sock_defer(x->sock)) < 0) {
		if (q && q->d.f)
			fclose(q->d.f);
		if (q)
			free(q->text);
		free(q);
		fprintf(f, "error: out of memory\n");
		return;
	}
	q->loop = x->loop;
	q->sock = x->sock;
	q->dp = x->dp;
	q->fd = fd;
	q->started_ms = ctl_now_ms();
	ctl_timer_init(&q->t);
	if (under)
		memcpy(q->under, under, dns_name_len(under));
	q->d.w = x->json ? &q->w : NULL;
	q->d.under = under ? q->under : NULL;
	dump_head(&q->d, &q->w, "dataplane", "the dataplane's cache (the client cache)", true);
	dp_dumping = true;
	dp_dump_wait(q->loop, q);
}

int ctl_cacheview_command(const struct ctl_cacheview_parts *x, uint32_t now, const char *cmd,
			  FILE *f)
{
	const char *arg;
	uint8_t given[DNS_NAME_MAX], under[DNS_NAME_MAX];
	bool own = false;

	if (ctl_sock_verb(cmd, "lookup", &arg)) {
		lookup(x, now, arg, f);
		return 0;
	}
	if (!ctl_sock_verb(cmd, "dump-cache", &arg))
		return CTL_E_UNKNOWN_COMMAND;
	if (arg && ctl_sock_verb(arg, "--control", &arg))
		own = true;
	if (arg && arg[0] == '-') {
		fprintf(f, "error: dump-cache [--control] [NAME]: no option \"%s\"\n", arg);
		return 0;
	}
	if (arg && (strpbrk(arg, " \t") || dns_name_from_str(arg, given) < 0)) {
		fprintf(f, "error: dump-cache [--control] [NAME]: \"%s\" is not one domain name\n",
			arg);
		return 0;
	}
	if (arg)
		dns_name_copy_lower(under, given);
	if (x->dp && !own) {
		dp_dump(x, arg ? under : NULL, f);
		return 0;
	}
	struct jw w;
	struct dump d = { f, x->json ? &w : NULL, arg ? under : NULL, 0, 0, false };
	dump_head(&d, &w, "control", x->dp ? "control's own cache (what iteration needs; the "
					      "client cache is the dataplane's: dump-cache)"
					    : "control's cache (the client cache: standalone)",
		  !x->dp);
	uint64_t pos = 0; /* the whole index in one call */
	ctl_iter_cache_lock(); /* a writer's walk: the control threads' inserts wait */
	cache_walk(x->cache, &pos, UINT64_MAX, now, dump_one, &d);
	ctl_iter_cache_unlock();
	dump_tail(&d, 0, NULL);
	return 0;
}
