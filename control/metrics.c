/*
 * control/metrics.c: the stat lines as Prometheus metrics, served over
 * HTTP, and the counters' differences for "stats --reset" (see
 * metrics.h). Control process, the loop's thread.
 *
 * What each stat line is (counter, gauge, histogram) and its help text
 * come from the modules' own counter lists (the X-macros whose entries are
 * the stat lines' names) and, for the lines printed one by one, from the
 * table below. A line this table does not know is rendered untyped with
 * "no description": tests/control/test-metrics fails on one, so a new
 * counter cannot reach the exporter without its kind and meaning.
 *
 * The HTTP side is libmicrohttpd without a thread of its own: its epoll
 * descriptor is watched by control's loop and MHD_run() does the work, so
 * a scrape reads the counters on the thread that owns them. A client that
 * does not read cannot stall the loop (the daemon writes without
 * blocking), and a timer runs the daemon's connection timeouts.
 */
#include "control/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/chain.h"
#include "control/deleg.h"
#include "control/dnstap.h"
#include "control/log.h"
#include "control/err.h"
#include "control/infra.h"
#include "control/iter.h"
#include "control/policy.h"
#include "control/pool.h"
#include "control/secondary.h"
#include "control/server.h"
#include "control/upstream.h"
#include "net/pkt.h"
#include "shm/shm.h"

/* --- what each stat line is ------------------------------------------------ */

enum kind { K_COUNTER, K_GAUGE, K_HIST };

struct family {
	const char *key;	/* GROUP.NAME as the stat line has it */
	enum kind kind;
	const char *help;
};

#define FC(group, name, text) { group "." #name, K_COUNTER, text },
#define F_SERVER(name, text) FC("server", name, text)
#define F_ITER(name, text) FC("iter", name, text)
#define F_CHAIN(name, text) FC("dnssec", name, text)
#define F_INFRA(name, text) FC("infra", name, text)
#define F_UP(name, text) FC("upstream", name, text)
#define F_DELEG(name, text) FC("deleg", name, text)
#define F_POLICY(name, text) FC("policy", name, text)
#define F_WORKER(name, text) FC("dataplane", name, text)
#define F_WRITER(name, text) FC("writer", name, text)
#define F_SHM(name, text) FC("shm", name, text)
#define F_PORT(name, text) FC("dataplane_port", name, "service port: " text)
#define F_XFR(name, text) FC("policy_zone", xfr_##name, "policy zone transfers: " text)
#define F_DNSTAP(name, text) FC("dnstap", name, text)
#define F_LOG(name, text) FC("log", name, text)
#define F_POOL(name, text) FC("pool", name, text)

static const struct family families[] = {
	CTL_SERVER_COUNTERS(F_SERVER)
	CTL_ITER_COUNTERS(F_ITER)
	CTL_CHAIN_COUNTERS(F_CHAIN)
	CTL_INFRA_COUNTERS(F_INFRA)
	UP_COUNTERS(F_UP)
	CTL_DELEG_COUNTERS(F_DELEG)
	CTL_POLICY_COUNTERS(F_POLICY)
	SHM_WORKER_COUNTERS(F_WORKER)
	SHM_WRITER_COUNTERS(F_WRITER)
	SHM_CONTROL_COUNTERS(F_SHM)
	CTL_SECONDARY_COUNTERS(F_XFR)
	CTL_DNSTAP_COUNTERS(F_DNSTAP)
	CTL_LOG_COUNTERS(F_LOG)
	CTL_POOL_COUNTERS(F_POOL)
	{ "pool.threads", K_GAUGE, "control threads resolving (control.threads)" },
	/* the lines printed one by one */
	{ "clock.resolver_s", K_GAUGE, "the resolver's TTL clock, seconds (resolver.clock-scale)" },
	{ "clock.dataplane_s", K_GAUGE, "the dataplane's cache clock, seconds" },
	{ "clock.scale", K_GAUGE, "resolver.clock-scale" },
	{ "deleg.entries", K_GAUGE, "zone cuts the delegation table holds" },
	{ "cache.entries", K_GAUGE, "entries in control's message cache" },
	{ "cache.bytes", K_GAUGE, "octets control's message cache holds" },
	{ "nsec.feeds", K_COUNTER, "denials fed to control's NSEC store" },
	{ "nsec.ranges", K_COUNTER, "NSEC and NSEC3 ranges fed to control's NSEC store" },
	{ "nsec.soas", K_COUNTER, "SOA records fed to control's NSEC store" },
	{ "nsec.refused", K_COUNTER, "records control's NSEC store refused" },
	{ "nsec.zones", K_GAUGE, "zones control's NSEC store holds" },
	{ "nsec.held", K_GAUGE, "ranges control's NSEC store holds" },
	{ "nsec.bytes", K_GAUGE, "octets control's NSEC store holds" },
	{ "nsec.evicted", K_COUNTER, "zones control's NSEC store evicted" },
	{ "nsec_zone.ranges", K_GAUGE, "NSEC and NSEC3 ranges held for the zone" },
	{ "nsec_zone.evictions", K_COUNTER, "evictions of the zone's ranges (the store's budget)" },
	{ "nsec_zone.evicted_ranges", K_COUNTER, "ranges of the zone evicted" },
	{ "nsec_zone.evictions_other", K_COUNTER, "evictions of zones not listed by name" },
	{ "nsec_zone.answers", K_COUNTER, "answers synthesized from the zone's ranges (RFC 8198)" },
	{ "nsec_zone.answers_other", K_COUNTER, "answers synthesized from zones not listed by name" },
	{ "policy.generation", K_GAUGE, "the policy snapshot's generation" },
	{ "policy.rules", K_GAUGE, "rules in the policy snapshot" },
	{ "policy.dataplane_generation", K_GAUGE, "the policy generation the workers use" },
	{ "policy.dataplane_rejected", K_GAUGE, "the last policy generation the dataplane refused" },
	{ "policy_zone.loaded", K_GAUGE, "1 when the policy zone is loaded" },
	{ "policy_zone.serial", K_GAUGE, "the policy zone's SOA serial" },
	{ "policy_zone.loaded_at", K_GAUGE, "when the policy zone was loaded (Unix time)" },
	{ "policy_zone.failures", K_COUNTER, "loads of the policy zone that failed" },
	{ "policy_zone.rejected", K_GAUGE, "records of the policy zone's last load rejected" },
	{ "policy_zone.records", K_GAUGE, "records in the policy zone" },
	{ "policy_zone.rules_qname", K_GAUGE, "QNAME rules of the policy zone" },
	{ "policy_zone.rules_client_ip", K_GAUGE, "CLIENT-IP rules of the policy zone" },
	{ "policy_zone.rules_ip", K_GAUGE, "response IP rules of the policy zone" },
	{ "policy_zone.rules_nsdname", K_GAUGE, "NSDNAME rules of the policy zone" },
	{ "policy_zone.rules_nsip", K_GAUGE, "NSIP rules of the policy zone" },
	{ "policy_zone.xfr_last_messages", K_GAUGE, "messages of the zone's last transfer" },
	{ "policy_zone.xfr_serial", K_GAUGE, "the serial of the transferred version held" },
	{ "policy_zone.xfr_expired", K_GAUGE, "1 when the transferred zone expired" },
	{ "policy_zone.xfr_since_ok_s", K_GAUGE, "seconds since the last refresh that worked (-1: none)" },
	{ "policy_zone.xfr_next_s", K_GAUGE, "seconds to the next refresh (-1: none planned)" },
	{ "notify.accepted", K_COUNTER, "NOTIFYs accepted" },
	{ "notify.refused", K_COUNTER, "NOTIFYs refused" },
	{ "notify.notauth", K_COUNTER, "NOTIFYs answered NOTAUTH (TSIG)" },
	{ "notify.malformed", K_COUNTER, "NOTIFYs malformed" },
	{ "dataplane.drop", K_COUNTER, "frames the workers dropped, by reason" },
	SHM_PORT_COUNTERS(F_PORT)
	{ "dataplane_port.link_up", K_GAUGE, "1 when the service port's link is up" },
	{ "dataplane_port.link_mbps", K_GAUGE, "the service port's link speed, Mb/s" },
	{ "dataplane_port.xstat", K_COUNTER, "the service port's extended statistics "
					     "(the PMD's, by name)" },
	{ "dataplane.tsc_hz", K_GAUGE, "the dataplane's TSC frequency" },
	{ "dataplane.workers", K_GAUGE, "the dataplane's workers" },
	{ "upstream.rtt", K_HIST, "round-trip time of accepted upstream replies" },
	{ "iter.resolve_time", K_HIST, "time from a question to its answer (resolutions, "
				       "not joined ones)" },
};

/* The counters of the X-macro lists that are gauges (a value that can go
 * down exported as a counter would read as a reset). */
static const char *const gauges[] = {
	"iter.outstanding",	"upstream.udp_sockets", "writer.cache_entries",
	"writer.cache_bytes",	"writer.nsec_zones",	"writer.nsec_held",
	"writer.nsec_bytes",
};

static const struct family *family_of(const char *key, size_t len, enum kind *kind)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (strncmp(families[i].key, key, len) || families[i].key[len])
			continue;
		*kind = families[i].kind;
		for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++)
			if (!strcmp(gauges[g], families[i].key))
				*kind = K_GAUGE;
		return &families[i];
	}
	return NULL;
}

/* --- one stat line, taken apart ---------------------------------------------- */

struct sample {
	char base[96];		/* the family's key: GROUP.NAME */
	char family[128];	/* the Prometheus name, without _total/_bucket... */
	const char *label[2];	/* "worker", "port", "zone", "name", "reason", "le" */
	const char *lv[2];	/* their values: in the stat line, or in own */
	int ll[2];
	char own[32];		/* a drop reason's name */
	char value[32];
	const struct family *f;
	enum kind kind;
	const char *part;	/* a histogram's "_bucket", "_sum", "_count" */
};

static bool is_int(const char *s, size_t n)
{
	size_t i = n && s[0] == '-';

	if (i == n || n >= 21)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool name_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '.'))
			return false;
	return n > 0;
}

/* The name of a frame drop reason's code ("ip_csum" for -4106). */
static bool drop_reason(long code, char *out, size_t cap)
{
	static const struct {
		long code;
		const char *name;
	} r[] = {
#define R(name, value, text) { value, #name },
		NET_PKT_ERRORS(R)
#undef R
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (r[i].code != code)
			continue;
		const char *n = r[i].name + strlen("NET_PKT_E_");
		size_t k = 0;
		for (; n[k] && k + 1 < cap; k++)
			out[k] = (char)(n[k] >= 'A' && n[k] <= 'Z' ? n[k] - 'A' + 'a' : n[k]);
		out[k] = 0;
		return true;
	}
	snprintf(out, cap, "%ld", code);
	return true;
}

/*
 * raw (a stat key with '_' for '.') as a Prometheus name in out: the
 * words that read as abbreviated units spelled out (a name server's "ns"
 * is not nanoseconds, a clock's "s" is seconds), as promtool's lint wants.
 */
static bool prometheus_name(const char *raw, char *out, size_t cap)
{
	static const char *const words[][2] = {
		{ "ns", "nameserver" }, { "s", "seconds" }, { "ms", "milliseconds" },
		{ "us", "microseconds" }, { "b", "bytes" },
	};
	size_t o = 0;

	for (const char *p = raw; *p;) {
		size_t n = strcspn(p, "._");
		const char *word = p;
		size_t wl = n;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i][0]) == n && !memcmp(p, words[i][0], n)) {
				word = words[i][1];
				wl = strlen(word);
			}
		if (o + wl + 1 >= cap)
			return false;
		memcpy(out + o, word, wl);
		o += wl;
		p += n;
		if (*p) {
			out[o++] = '_';
			p++;
		}
	}
	out[o] = 0;
	return true;
}

/*
 * Takes line[0..n) ("stat KEY VALUE") apart into *s. False for a line that
 * is not a stat line with an integer value (info lines: text).
 */
static bool parse_line(const char *line, size_t n, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	if (n < 5 || memcmp(line, "stat ", 5))
		return false;
	const char *key = line + 5, *sp = memchr(key, ' ', n - 5);
	if (!sp)
		return false;
	size_t klen = (size_t)(sp - key), vlen = n - 5 - klen - 1;
	if (!is_int(sp + 1, vlen))
		return false;
	memcpy(s->value, sp + 1, vlen);
	/* GROUP.NAME[LABEL]: the bracket's label is the last */
	const char *br = memchr(key, '[', klen);
	int bn = 0;
	if (br) {
		if (key[klen - 1] != ']' || klen - (size_t)(br - key) > 2048)
			return false;
		bn = (int)(key + klen - 1 - br - 1);
		klen = (size_t)(br - key);
	}
	if (klen >= sizeof(s->base) || !name_chars(key, klen))
		return false;
	memcpy(s->base, key, klen);
	char *dot = strchr(s->base, '.');
	if (!dot)
		return false;
	unsigned nl = 0;
	/* GROUP.workerN.NAME: the worker's own (its help: GROUP.NAME's);
	 * dataplane.portN.NAME: a service port's (dataplane_port.NAME) */
	bool worker = !strncmp(dot + 1, "worker", 6) && dot[7] >= '0' && dot[7] <= '9';
	bool port = !strncmp(s->base, "dataplane.port", 14) && s->base[14] >= '0' &&
		    s->base[14] <= '9';
	if (worker || port) {
		char *num = dot + 1 + (worker ? 6 : 4), *d2 = strchr(num, '.');
		if (!d2)
			return false;
		s->lv[nl] = key + (num - s->base); /* the same octets in the line */
		s->ll[nl] = (int)(d2 - num);
		s->label[nl++] = worker ? "worker" : "port";
		if (port) {
			memmove(s->base + 15, d2 + 1, strlen(d2 + 1) + 1);
			memcpy(s->base, "dataplane_port.", 15);
		} else {
			memmove(dot + 1, d2 + 1, strlen(d2 + 1) + 1);
		}
	}
	/* dataplane.drop_CODE */
	size_t bl = strlen(s->base);
	if (!br && !nl && bl > 15 && !memcmp(s->base, "dataplane.drop_", 15) &&
	    is_int(s->base + 15, bl - 15)) {
		drop_reason(-strtol(s->base + 15, NULL, 10), s->own, sizeof(s->own));
		s->lv[nl] = s->own;
		s->ll[nl] = (int)strlen(s->own);
		s->label[nl++] = "reason";
		s->base[14] = 0;
	}
	/* a histogram's parts */
	static const char *const parts[] = { "_us_bucket", "_us_sum", "_us_count" };
	bl = strlen(s->base);
	for (size_t i = 0; i < 3 && !s->part; i++) {
		size_t pl = strlen(parts[i]);
		enum kind k;
		if (bl > pl && !strcmp(s->base + bl - pl, parts[i]) &&
		    family_of(s->base, bl - pl, &k) && k == K_HIST) {
			s->base[bl - pl] = 0;
			s->part = parts[i] + 3;
		}
	}
	if (s->part && !strcmp(s->part, "_bucket") != (br != NULL))
		return false;
	if (br) {
		if (nl == 2)
			return false;
		s->lv[nl] = br + 1;
		s->ll[nl] = bn;
		s->label[nl++] = s->part ? "le" : port ? "name" : "zone";
	}
	s->f = family_of(s->base, strlen(s->base), &s->kind);
	if (!s->f)
		s->kind = K_GAUGE;
	/* bailiwick_GROUP[_worker]_NAME */
	dot = strchr(s->base, '.');
	char raw[sizeof(s->family)];
	int w = snprintf(raw, sizeof(raw), "bailiwick_%.*s%s_%s", (int)(dot - s->base), s->base,
			 worker ? "_worker" : "", dot + 1);
	if (w < 0 || (size_t)w >= sizeof(raw))
		return false;
	return prometheus_name(raw, s->family, sizeof(s->family));
}

/* --- Prometheus text ---------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s, size_t n, bool quote)
{
	for (const char *end = s + n; s < end; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static void put_sample(FILE *f, const struct sample *s)
{
	const char *suffix = s->kind == K_COUNTER ? "_total" : "";

	if (s->kind == K_HIST) {
		fprintf(f, "%s_seconds%s", s->family, s->part);
	} else {
		fprintf(f, "%s%s", s->family, suffix);
	}
	for (unsigned i = 0; i < 2 && s->label[i]; i++) {
		fprintf(f, "%c%s=\"", i ? ',' : '{', s->label[i]);
		if (!strcmp(s->label[i], "le") && !(s->ll[i] == 4 && !memcmp(s->lv[i], "+Inf", 4)))
			fprintf(f, "%.6g", strtod(s->lv[i], NULL) / 1e6);
		else
			put_escaped(f, s->lv[i], (size_t)s->ll[i], true);
		fputc('"', f);
	}
	if (s->label[0])
		fputc('}', f);
	if (s->kind == K_HIST && !strcmp(s->part, "_sum"))
		fprintf(f, " %.6f\n", strtod(s->value, NULL) / 1e6);
	else
		fprintf(f, " %s\n", s->value);
}

unsigned ctl_metrics_render(const char *text, size_t len, FILE *f)
{
	struct sample *s = NULL;
	size_t n = 0, cap = 0;
	unsigned unknown = 0;

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct sample *ns = realloc(s, nc * sizeof(*s));
			if (!ns)
				break;
			s = ns;
			cap = nc;
		}
		if (parse_line(p, ll, &s[n]))
			n++;
		else if (ll >= 5 && !memcmp(p, "stat ", 5))
			unknown++; /* a stat line it cannot render: counted too */
		p += ll + 1;
	}
	/* each family once: its samples after its HELP and TYPE, in the order
	 * the families first came */
	bool *done = calloc(n ? n : 1, sizeof(*done));
	for (size_t i = 0; done && i < n; i++) {
		if (done[i])
			continue;
		const struct sample *a = &s[i];
		const char *type = a->kind == K_COUNTER ? "counter"
				   : a->kind == K_HIST	  ? "histogram"
				   : a->f		  ? "gauge"
							  : "untyped";
		const char *suffix = a->kind == K_COUNTER ? "_total"
				     : a->kind == K_HIST  ? "_seconds"
							  : "";
		fprintf(f, "# HELP %s%s ", a->family, suffix);
		if (a->f) {
			put_escaped(f, a->f->help, strlen(a->f->help), false);
		} else {
			fprintf(f, "no description (stat %s)", a->base);
			unknown++;
		}
		fprintf(f, "\n# TYPE %s%s %s\n", a->family, suffix, type);
		for (size_t j = i; j < n; j++)
			if (!done[j] && !strcmp(s[j].family, a->family)) {
				done[j] = true;
				put_sample(f, &s[j]);
			}
	}
	free(done);
	free(s);
	return unknown;
}

/* --- stats --reset ------------------------------------------------------------- */

/* The value of key in the stat lines base[0..blen), or false. The search
 * starts at *cur (where the last one ended: both texts list their lines
 * in the same order, so this is mostly the next line) and wraps. */
static bool base_value(const char *base, size_t blen, const char **cur, const char *key,
		       size_t klen, long long *v)
{
	const char *end = base + blen, *from = *cur && *cur <= end ? *cur : base;

	for (int pass = 0; pass < 2; pass++) {
		const char *stop = pass ? from : end;
		for (const char *p = pass ? base : from; p < stop;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (ll > klen && p[klen] == ' ' && !memcmp(p, key, klen)) {
				*v = strtoll(p + klen + 1, NULL, 10);
				*cur = p + ll + 1;
				return true;
			}
			p += ll + 1;
		}
	}
	return false;
}

void ctl_metrics_since(const char *text, size_t len, const char *base, size_t blen, FILE *f)
{
	const char *cur = base;

	if (!base || !blen) { /* no reset yet: as they are */
		fwrite(text, 1, len, f);
		return;
	}
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct sample s;
		long long was;
		const char *sp = memrchr(p, ' ', ll);
		if (parse_line(p, ll, &s) && (s.kind == K_COUNTER || s.kind == K_HIST) && sp &&
		    base_value(base, blen, &cur, p, (size_t)(sp - p), &was)) {
			long long now = strtoll(s.value, NULL, 10);
			fprintf(f, "%.*s %lld\n", (int)(sp - p), p, now >= was ? now - was : now);
		} else {
			fprintf(f, "%.*s\n", (int)ll, p);
		}
		p += ll + 1;
	}
}

/* --- HTTP ---------------------------------------------------------------------- */

#define METRICS_CONNECTIONS 16
#define METRICS_PER_CLIENT 4
#define METRICS_TIMEOUT_S 10
#define METRICS_TICK_MS 1000

struct ctl_metrics {
	struct ctl_loop *loop;
	struct MHD_Daemon *d;
	int epfd;
	struct ctl_timer tick;
	ctl_metrics_fill fill;
	void *arg;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct ctl_metrics *m = cls;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	char *text = NULL, *out = NULL;
	size_t len = 0, olen = 0;
	(void)version;
	(void)upload;
	(void)con_cls;

	if (*upload_len) /* a body: not for us */
		return MHD_NO;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		out = strdup("only GET\n");
	} else if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		out = strdup("not found: the metrics are at /metrics\n");
	} else {
		FILE *f = open_memstream(&text, &len);
		FILE *o = f ? open_memstream(&out, &olen) : NULL;
		if (o) {
			m->fill(m->arg, f);
			fclose(f);
			fprintf(o, "# HELP bailiwick_build_info the version of bailiwick-control\n"
				   "# TYPE bailiwick_build_info gauge\n"
				   "bailiwick_build_info{version=\"%s\"} 1\n", BW_VERSION);
			unsigned bad = ctl_metrics_render(text, len, o);
			fprintf(o, "# HELP bailiwick_metrics_undescribed_lines stat lines exported "
				   "without a kind or left out (a defect: 0 expected)\n"
				   "# TYPE bailiwick_metrics_undescribed_lines gauge\n"
				   "bailiwick_metrics_undescribed_lines %u\n", bad);
			fclose(o);
		} else if (f) {
			fclose(f);
		}
		free(text);
	}
	if (!out)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(out), out, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(out);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
						      : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) /* RFC 9110 15.5.6 */
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result q = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return q;
}

static void tick(struct ctl_loop *loop, void *arg);

/* The daemon's work, then the timer at what it asks (MHD_get_timeout():
 * the loop must not wait longer, 0 meaning at once), at most a tick. */
static void work(struct ctl_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG to = METRICS_TICK_MS;

	MHD_run(m->d);
	if (MHD_get_timeout(m->d, &to) != MHD_YES || to > METRICS_TICK_MS)
		to = METRICS_TICK_MS;
	ctl_timer_cancel(m->loop, &m->tick);
	ctl_timer_add(m->loop, &m->tick, (uint32_t)to, tick, m);
}

static void run(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	work(arg);
}

static void tick(struct ctl_loop *loop, void *arg)
{
	(void)loop;
	work(arg);
}

struct ctl_metrics *ctl_metrics_new(struct ctl_loop *loop, const struct cfg_endpoint *at,
				    ctl_metrics_fill fill, void *arg, int *code, char *err,
				    size_t errlen)
{
	struct ctl_metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss;
	char a[INET6_ADDRSTRLEN] = "?";
	socklen_t sl = (socklen_t)cfg_endpoint_sockaddr(at, &ss);
	int one = 1, fd = -1;

	inet_ntop(at->a.family, at->a.addr, a, sizeof(a));
	*code = CTL_E_METRICS;
	if (!m) {
		*code = CTL_E_NOMEM;
		snprintf(err, errlen, "metrics.listen %s@%u: out of memory", a, at->port);
		return NULL;
	}
	/* bound here, so that the error names the address and errno */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		snprintf(err, errlen, "metrics.listen %s@%u: %s", a, at->port,
			 strerror(errno));
		goto fail;
	}
	m->loop = loop;
	m->fill = fill;
	m->arg = arg;
	ctl_timer_init(&m->tick);
	m->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, answer, m,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_PER_CLIENT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
				MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "metrics.listen %s@%u: the HTTP server did not start", a,
			 at->port);
		goto fail;
	}
	fd = -1; /* the daemon's */
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->epfd = info ? info->epoll_fd : -1;
	if (m->epfd < 0 || ctl_loop_watch(loop, m->epfd, EPOLLIN, run, m) ||
	    ctl_timer_add(loop, &m->tick, METRICS_TICK_MS, tick, m)) {
		snprintf(err, errlen, "metrics.listen %s@%u: cannot watch the HTTP server", a,
			 at->port);
		if (m->epfd >= 0)
			ctl_loop_unwatch(loop, m->epfd);
		MHD_stop_daemon(m->d);
		m->d = NULL;
		goto fail;
	}
	return m;
fail:
	if (fd >= 0)
		close(fd);
	free(m);
	return NULL;
}

void ctl_metrics_free(struct ctl_metrics *m)
{
	if (!m)
		return;
	ctl_timer_cancel(m->loop, &m->tick);
	ctl_loop_unwatch(m->loop, m->epfd);
	MHD_stop_daemon(m->d); /* closes the listening socket too */
	free(m);
}
