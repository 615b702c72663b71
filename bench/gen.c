/*
 * bench/gen.c: bailiwick-gen's EAL-free library (see gen.h). The query
 * file reader and the summary run on the main lcore before and after the
 * load and may allocate and do stdio; the bucket, the in-flight table and
 * the histogram run on a worker lcore for every packet: no allocation, no
 * syscall, no division on the histogram path, one on the bucket's and the
 * in-flight table's. Measured per call (Xeon, 2 cores, gcc 12.2, -O3
 * -march=x86-64-v3, without LTO, 20 M calls): gen_bucket_take() 5.5 ns,
 * gen_inflight_send() 3.1 ns, gen_inflight_answer() 1.7 ns,
 * gen_hist_record() 2.5 ns.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/gen.h"
#include "dns/build.h"
#include "dns/err.h"
#include "dns/name.h"

/* --- the query file ------------------------------------------------------- */

#define GEN_EDNS_UDP 1232	/* the buffer size our OPT offers (DNS flag day 2020) */
#define GEN_QUERIES_FIRST 64	/* templates allocated for the first line */

/*
 * Presentation names longer than this cannot fit 255 octets: \DDD, the
 * longest spelling of one octet, takes 4 characters.
 */
#define GEN_NAME_TEXT_MAX (4 * DNS_NAME_MAX + 8)

/* The mnemonics dnsperf files use, dns/wire.h's and a few more. */
static const struct {
	const char *name;
	uint16_t type;
} gen_types[] = {
	{ "A", DNS_T_A }, { "NS", DNS_T_NS }, { "MD", DNS_T_MD }, { "MF", DNS_T_MF },
	{ "CNAME", DNS_T_CNAME }, { "SOA", DNS_T_SOA }, { "MB", DNS_T_MB },
	{ "MG", DNS_T_MG }, { "MR", DNS_T_MR }, { "NULL", 10 }, { "WKS", 11 },
	{ "PTR", DNS_T_PTR }, { "HINFO", DNS_T_HINFO }, { "MINFO", DNS_T_MINFO },
	{ "MX", DNS_T_MX }, { "TXT", DNS_T_TXT }, { "RP", DNS_T_RP },
	{ "AFSDB", DNS_T_AFSDB }, { "RT", DNS_T_RT }, { "PX", DNS_T_PX },
	{ "AAAA", DNS_T_AAAA }, { "LOC", 29 }, { "SRV", DNS_T_SRV },
	{ "NAPTR", DNS_T_NAPTR }, { "CERT", 37 }, { "A6", 38 }, { "DNAME", DNS_T_DNAME },
	{ "OPT", DNS_T_OPT }, { "DS", DNS_T_DS }, { "SSHFP", 44 },
	{ "RRSIG", DNS_T_RRSIG }, { "NSEC", DNS_T_NSEC }, { "DNSKEY", DNS_T_DNSKEY },
	{ "NSEC3", DNS_T_NSEC3 }, { "NSEC3PARAM", DNS_T_NSEC3PARAM }, { "TLSA", 52 },
	{ "CDS", 59 }, { "CDNSKEY", 60 }, { "ZONEMD", 63 }, { "SVCB", 64 },
	{ "HTTPS", 65 }, { "SPF", 99 }, { "TSIG", DNS_T_TSIG }, { "IXFR", DNS_T_IXFR },
	{ "AXFR", DNS_T_AXFR }, { "ANY", DNS_T_ANY }, { "URI", 256 }, { "CAA", 257 },
};

static void gen_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void gen_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool gen_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A mnemonic (any letter case) or TYPEnnn (RFC 3597 5); -1 if neither. */
static int gen_type(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(gen_types) / sizeof(gen_types[0]); i++)
		if (strlen(gen_types[i].name) == len &&
		    !strncasecmp(gen_types[i].name, s, len))
			return gen_types[i].type;
	if (len > 4 && len <= 4 + 5 && !strncasecmp(s, "TYPE", 4)) {
		uint32_t v = 0;

		for (size_t i = 4; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v = v * 10 + (uint32_t)(s[i] - '0');
		}
		return v <= UINT16_MAX ? (int)v : -1;
	}
	return -1;
}

static int gen_template(struct gen_query *q, const uint8_t *name, uint16_t type,
			bool edns, bool dnssec_ok)
{
	struct dns_builder b;

	if (dns_builder_init(&b, q->wire, sizeof(q->wire), 0, DNS_F_RD) ||
	    dns_builder_question(&b, name, type, DNS_C_IN) ||
	    (edns && dns_builder_opt(&b, GEN_EDNS_UDP, 0, 0, dnssec_ok ? DNS_EDNS_F_DO : 0,
				     NULL, 0)))
		return -1;
	q->len = (uint16_t)dns_builder_finish(&b);
	q->cls = 0;
	return 0;
}

/* One non-blank, non-comment line (no newline); 0 or -1 with err set. */
static int gen_line(struct gen_query *q, const char *s, size_t len, const char *name,
		    unsigned long lineno, char *err, size_t errlen)
{
	const char *w[4];
	size_t wl[4];
	unsigned nw = 0;
	char text[GEN_NAME_TEXT_MAX + 1];
	uint8_t wire[DNS_NAME_MAX];
	int type, r;

	for (size_t i = 0; i < len;) {
		if (gen_blank(s[i])) {
			i++;
			continue;
		}
		if (nw == 4)
			break;
		w[nw] = s + i;
		while (i < len && !gen_blank(s[i]))
			i++;
		wl[nw] = (size_t)(s + i - w[nw]);
		nw++;
	}
	if (nw < 2) {
		gen_err(err, errlen, "%s:%lu: no type after the name", name, lineno);
		return -1;
	}
	bool noedns = nw > 2 && wl[2] == 6 && !strncasecmp(w[2], "noedns", 6);
	bool dnssec_ok = nw > 2 && wl[2] == 2 && !strncasecmp(w[2], "do", 2);
	if (nw > 2) {
		unsigned x = noedns || dnssec_ok ? 3 : 2;

		if (x < nw) {
			gen_err(err, errlen, "%s:%lu: unexpected '%.*s' (NAME TYPE [noedns|do])",
				name, lineno, (int)(wl[x] < 64 ? wl[x] : 64), w[x]);
			return -1;
		}
	}
	if ((type = gen_type(w[1], wl[1])) < 0) {
		gen_err(err, errlen, "%s:%lu: unknown type %.*s", name, lineno,
			(int)(wl[1] < 64 ? wl[1] : 64), w[1]);
		return -1;
	}
	if (wl[0] > GEN_NAME_TEXT_MAX) {
		gen_err(err, errlen, "%s:%lu: name longer than 255 octets", name, lineno);
		return -1;
	}
	memcpy(text, w[0], wl[0]);
	text[wl[0]] = 0;
	if ((r = dns_name_from_str(text, wire)) < 0) {
		if (r == DNS_E_NAME_LEN)
			gen_err(err, errlen, "%s:%lu: name longer than 255 octets",
				name, lineno);
		else if (r == DNS_E_LABEL_LEN)
			gen_err(err, errlen, "%s:%lu: label longer than 63 octets in %.80s",
				name, lineno, text);
		else
			gen_err(err, errlen, "%s:%lu: bad name %.80s (empty label or bad escape)",
				name, lineno, text);
		return -1;
	}
	if (gen_template(q, wire, (uint16_t)type, !noedns, dnssec_ok)) {
		/* The template holds the longest name with an OPT: a bug here. */
		gen_err(err, errlen, "%s:%lu: query does not fit its template", name, lineno);
		return -1;
	}
	return 0;
}

int gen_queries_parse(struct gen_queries *qs, const char *text, size_t len,
		      const char *name, char *err, size_t errlen)
{
	struct gen_query *q = NULL, *nq;
	size_t n = 0, cap = 0;
	unsigned long lineno = 0;

	qs->n = 0;
	qs->q = NULL;
	for (size_t at = 0; at < len;) {
		const char *line = text + at, *nl = memchr(line, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - line) : len - at, i = 0;

		at += ll + (nl != NULL);
		lineno++;
		if (memchr(line, 0, ll)) {
			gen_err(err, errlen, "%s:%lu: NUL octet in the line", name, lineno);
			goto fail;
		}
		while (i < ll && gen_blank(line[i]))
			i++;
		if (i == ll || line[i] == '#')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : GEN_QUERIES_FIRST;
			if (!(nq = realloc(q, cap * sizeof(*q)))) {
				gen_err(err, errlen, "%s:%lu: out of memory", name, lineno);
				goto fail;
			}
			q = nq;
		}
		if (gen_line(&q[n], line, ll, name, lineno, err, errlen))
			goto fail;
		n++;
	}
	if (!n) {
		gen_err(err, errlen, "%s: no queries in the file", name);
		goto fail;
	}
	qs->n = n;
	qs->q = q;
	return 0;
fail:
	free(q);
	return -1;
}

int gen_queries_load(struct gen_queries *qs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *nt;
	size_t len = 0, cap = 0, got;
	int r;

	qs->n = 0;
	qs->q = NULL;
	if (!f) {
		gen_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			if (!(nt = realloc(text, cap))) {
				gen_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			text = nt;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		gen_err(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	r = gen_queries_parse(qs, text, len, path, err, errlen);
	free(text);
	return r;
fail:
	fclose(f);
	free(text);
	return -1;
}

void gen_queries_free(struct gen_queries *qs)
{
	free(qs->q);
	qs->q = NULL;
	qs->n = 0;
}

size_t gen_queries_split(struct gen_queries *qs, const uint8_t *suffix)
{
	size_t n = 0;

	for (size_t i = 0; i < qs->n; i++) {
		struct gen_query *q = &qs->q[i];

		q->cls = dns_name_is_subdomain(q->wire + DNS_HDR_LEN, suffix);
		n += q->cls;
	}
	return n;
}

/* --- plans ------------------------------------------------------------------ */

int gen_plan_parse(const char *line, struct gen_plan_step *st)
{
	char buf[4096], rate[32], *end;
	int used = 0;

	if (strlen(line) >= sizeof(buf))
		return -1;
	strcpy(buf, line);
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = 0;
	(void)sscanf(buf, " %n", &used);
	if (buf[used] == 0)
		return 0;
	used = 0;
	if (sscanf(buf, "%1023s %31s %lf %1023s %n", st->queries, rate, &st->seconds, st->json,
		   &used) != 4)
		return -1;
	st->nap = false;
	if (buf[used] != 0) {
		int more = 0;
		if (strncmp(buf + used, "nap", 3) != 0)
			return -1;
		(void)sscanf(buf + used + 3, " %n", &more);
		if (buf[used + 3 + more] != 0)
			return -1;
		st->nap = true;
	}
	if (!(st->seconds > 0) || !isfinite(st->seconds))
		return -1;
	st->search = strcmp(rate, "search") == 0;
	st->rate = 0;
	if (st->search)
		return 1;
	if (!isdigit((unsigned char)rate[0]))
		return -1;
	errno = 0;
	unsigned long long r = strtoull(rate, &end, 10);
	if (errno || *end)
		return -1;
	st->rate = r;
	return 1;
}

/* --- rate control ----------------------------------------------------------- */

/*
 * Invariant: tokens + frac / hz <= burst, and frac < hz. Every call adds
 * exactly (elapsed * rate + frac) / hz tokens and keeps the remainder, so
 * however the calls are spaced no fraction is lost or invented, except
 * that a bucket that fills up drops its remainder: that is what keeps the
 * bound "rate * seconds + burst" over any interval. The bucket starts
 * full; a burst of 0 would never send and is taken as 1.
 */
void gen_bucket_init(struct gen_bucket *b, uint64_t hz, uint64_t rate, uint64_t burst,
		     uint64_t now)
{
	if (!hz)
		abort();	/* a caller's bug: no TSC frequency */
	b->hz = hz;
	b->rate = rate;
	b->burst = burst ? burst : 1;
	b->last = now;
	b->frac = 0;
	b->tokens = b->burst;
}

unsigned gen_bucket_take(struct gen_bucket *b, uint64_t now, unsigned want)
{
	unsigned got;

	if (!b->rate)
		return want;
	/* A full bucket has no remainder and earns nothing: no refill. */
	if (now > b->last && b->tokens < b->burst) {
		uint64_t el = now - b->last, add, frac, num;

		/* 64 bits hold el * rate for gaps under a few seconds. */
		if (!__builtin_mul_overflow(el, b->rate, &num) &&
		    !__builtin_add_overflow(num, b->frac, &num)) {
			add = num / b->hz;
			frac = num % b->hz;
		} else {
			unsigned __int128 w = (unsigned __int128)el * b->rate + b->frac;
			unsigned __int128 a = w / b->hz;

			add = a > b->burst ? b->burst : (uint64_t)a;
			frac = (uint64_t)(w % b->hz);
		}
		if (add >= b->burst - b->tokens) {
			b->tokens = b->burst;
			b->frac = 0;
		} else {
			b->tokens += add;
			b->frac = frac;
		}
	}
	if (now > b->last)	/* a TSC going back earns nothing, later either */
		b->last = now;
	got = b->tokens < want ? (unsigned)b->tokens : want;
	b->tokens -= got;
	return got;
}

/* --- matching answers to sends ---------------------------------------------- */

/*
 * Slot s = id * nports + port, and the n-th send takes slot n mod
 * (GEN_IDS * nports): consecutive sends walk the ports round robin (so a
 * receiver's RSS spreads them from the first packet) and the table in
 * memory order; each port sees ids 0..65535 in turn.
 */
int gen_inflight_init(struct gen_inflight *f, unsigned nports)
{
	f->nports = nports;
	f->next = 0;
	f->sent = NULL;
	if (!nports)
		return -EINVAL;
	if (!(f->sent = calloc((size_t)GEN_IDS * nports, sizeof(*f->sent))))
		return -ENOMEM;
	return 0;
}

void gen_inflight_fini(struct gen_inflight *f)
{
	free(f->sent);
	f->sent = NULL;
}

/* A slot: the send's TSC, its class in the top bit. */
#define GEN_CLS_BIT (UINT64_C(1) << 63)

void gen_inflight_send(struct gen_inflight *f, uint64_t now, unsigned cls, uint16_t *id,
		       unsigned *port, uint64_t *lost)
{
	uint64_t round = f->next / f->nports;
	unsigned p = (unsigned)(f->next - round * f->nports);
	uint64_t *s = &f->sent[(round & (GEN_IDS - 1)) * f->nports + p];

	*lost += *s != 0;
	now &= ~GEN_CLS_BIT;
	*s = (now ? now : 1) | (cls ? GEN_CLS_BIT : 0);	/* 0: a free slot */
	*id = (uint16_t)round;
	*port = p;
	f->next++;
}

uint64_t gen_inflight_answer(struct gen_inflight *f, uint16_t id, unsigned port,
			     uint64_t now, unsigned *cls)
{
	uint64_t *s, t;

	if (port >= f->nports)
		return UINT64_MAX;
	s = &f->sent[(size_t)id * f->nports + port];
	if (!(t = *s))
		return UINT64_MAX;
	*s = 0;
	if (cls)
		*cls = !!(t & GEN_CLS_BIT);
	t &= ~GEN_CLS_BIT;
	return now > t ? now - t : 0;
}

/* --- latency histogram ---------------------------------------------------- */

/*
 * Bucket k * 64 + sub holds [2^k + sub * 2^k / 64, 2^k + (sub + 1) * 2^k / 64)
 * for k = 0..40: below 64 ns every integer has a bucket of its own (some
 * buckets stay empty), above it the width is 2^(k-6), under 1/64 of any
 * value in it. 0 ns counts as 1 ns; 2^41 ns and more go to the last bucket.
 */
static unsigned gen_hist_index(uint64_t ns)
{
	unsigned k;

	if (ns < 2)
		return 0;
	k = 63u - (unsigned)__builtin_clzll(ns);
	if (k > GEN_HIST_POW)
		return GEN_HIST_BUCKETS - 1;
	if (k >= 6)
		return k * GEN_HIST_SUB + (unsigned)((ns >> (k - 6)) & (GEN_HIST_SUB - 1));
	return k * GEN_HIST_SUB + (unsigned)((ns << (6 - k)) & (GEN_HIST_SUB - 1));
}

/* The largest value that lands in bucket i. */
static uint64_t gen_hist_upper(unsigned i)
{
	unsigned k = i / GEN_HIST_SUB;
	uint64_t sub = i % GEN_HIST_SUB;

	if (k >= 6)
		return ((GEN_HIST_SUB + sub + 1) << (k - 6)) - 1;
	return (GEN_HIST_SUB + sub) >> (6 - k);
}

void gen_hist_init(struct gen_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void gen_hist_record(struct gen_hist *h, uint64_t ns)
{
	h->b[gen_hist_index(ns)]++;
	h->count++;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void gen_hist_merge(struct gen_hist *into, const struct gen_hist *h)
{
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++)
		into->b[i] += h->b[i];
	into->count += h->count;
	if (h->min < into->min)
		into->min = h->min;
	if (h->max > into->max)
		into->max = h->max;
}

void gen_hist_sub(struct gen_hist *h, const struct gen_hist *part)
{
	unsigned first = GEN_HIST_BUCKETS, last = 0;

	h->count = 0;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++) {
		h->b[i] = h->b[i] > part->b[i] ? h->b[i] - part->b[i] : 0;
		h->count += h->b[i];
		if (h->b[i]) {
			if (first == GEN_HIST_BUCKETS)
				first = i;
			last = i;
		}
	}
	if (!h->count) {
		h->min = UINT64_MAX;
		h->max = 0;
		return;
	}
	uint64_t lo = first ? gen_hist_upper(first - 1) + 1 : 0;
	if (h->min < lo)
		h->min = lo;
	if (last < GEN_HIST_BUCKETS - 1 && h->max > gen_hist_upper(last))
		h->max = gen_hist_upper(last);
}

/*
 * The bucket holding the ceil(count * percentile / 100)-th smallest value
 * (the smallest for 0). The last bucket has no upper edge: its values are
 * reported as the largest recorded.
 */
uint64_t gen_hist_value_at(const struct gen_hist *h, double percentile)
{
	double want;
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (!(percentile > 0))
		percentile = 0;
	if (percentile > 100)
		percentile = 100;
	want = percentile / 100 * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS - 1; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return gen_hist_upper(i);
	}
	return h->max;
}

/* --- the summary ------------------------------------------------------------ */

static const char *const gen_rcode_names[6] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
};

/* JSON has no NaN or infinity: such a duration is reported as 0. */
static double gen_seconds(const struct gen_result *r)
{
	return isfinite(r->seconds) && r->seconds > 0 ? r->seconds : 0;
}

static double gen_per_s(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

static double gen_share(const struct gen_result *r)
{
	return r->sent ? (double)r->answered / (double)r->sent : 0;
}

static double gen_us(uint64_t ns)
{
	return (double)ns / 1000;
}

static void gen_json_str(const char *s, FILE *f)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "min":..,"p50":..,"p90":..,"p99":..,"p99_9":..,"max":..,"count":.. of h */
static void gen_json_percentiles(const struct gen_hist *h, FILE *f)
{
	fprintf(f, "\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,"
		"\"max\":%.3f,\"count\":%llu",
		gen_us(h->count ? h->min : 0), gen_us(gen_hist_value_at(h, 50)),
		gen_us(gen_hist_value_at(h, 90)), gen_us(gen_hist_value_at(h, 99)),
		gen_us(gen_hist_value_at(h, 99.9)), gen_us(h->max),
		(unsigned long long)h->count);
}

/* "classes":{"split":NAME,"under":{..},"other":{..}} */
static void gen_json_classes(const struct gen_result *r, FILE *f)
{
	static const char *const key[2] = { "other", "under" };

	fputs(",\"classes\":{\"split\":", f);
	gen_json_str(r->split, f);
	for (unsigned c = 2; c-- > 0;) {
		const struct gen_class *k = &r->cls[c];

		fprintf(f, ",\"%s\":{\"sent\":%llu,\"answered\":%llu,\"latency_us\":{",
			key[c], (unsigned long long)k->sent, (unsigned long long)k->answered);
		gen_json_percentiles(&k->lat, f);
		fputs("}}", f);
	}
	fputc('}', f);
}

void gen_result_json(const struct gen_result *r, FILE *f)
{
	const struct gen_hist *h = &r->lat;
	double seconds = gen_seconds(r);
	bool first = true;

	fputs("{\"mode\":", f);
	gen_json_str(r->mode, f);
	fprintf(f, ",\"seconds\":%.6f,\"offered_rate\":%llu,\"sent\":%llu,"
		"\"answered\":%llu,\"lost\":%llu,\"stray\":%llu,\"truncated\":%llu,\"tx_full\":%llu,"
		"\"sent_per_s\":%.3f,\"answered_per_s\":%.3f,\"answered_share\":%.6f,"
		"\"rcodes\":{",
		seconds, (unsigned long long)r->offered_rate,
		(unsigned long long)r->sent, (unsigned long long)r->answered,
		(unsigned long long)r->lost, (unsigned long long)r->stray,
		(unsigned long long)r->truncated, (unsigned long long)r->tx_full,
		gen_per_s(r->sent, seconds),
		gen_per_s(r->answered, seconds), gen_share(r));
	/* The common six always, so that scripts can rely on them. */
	for (unsigned i = 0; i < 16; i++) {
		if (i >= 6 && !r->rcode[i])
			continue;
		if (i < 6)
			fprintf(f, "%s\"%s\":%llu", first ? "" : ",", gen_rcode_names[i],
				(unsigned long long)r->rcode[i]);
		else
			fprintf(f, ",\"RCODE%u\":%llu", i, (unsigned long long)r->rcode[i]);
		first = false;
	}
	fputs("},\"latency_us\":{", f);
	gen_json_percentiles(h, f);
	fputs(",\"hist\":[", f);
	/* Every non-empty bucket as [upper edge, count]: the whole
	 * distribution, so that a reader can draw the CDF or take any
	 * percentile the way gen_hist_value_at() does. */
	first = true;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		fprintf(f, "%s[%.3f,%llu]", first ? "" : ",",
			gen_us(i == GEN_HIST_BUCKETS - 1 ? h->max : gen_hist_upper(i)),
			(unsigned long long)h->b[i]);
		first = false;
	}
	fprintf(f, "]},\"sender_stalls\":{\"count\":%llu,\"total_ms\":%.3f,\"max_us\":%.3f}",
		(unsigned long long)r->stalls, (double)r->stall_ns / 1e6, gen_us(r->stall_max_ns));
	if (r->split)
		gen_json_classes(r, f);
	fputc('}', f);
}

/* One "latency" line of the table. */
static void gen_table_latency(const char *what, const struct gen_hist *h, FILE *f)
{
	fprintf(f, "%s  min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f"
		"  (%llu answers)\n", what,
		gen_us(h->count ? h->min : 0), gen_us(gen_hist_value_at(h, 50)),
		gen_us(gen_hist_value_at(h, 90)), gen_us(gen_hist_value_at(h, 99)),
		gen_us(gen_hist_value_at(h, 99.9)), gen_us(h->max),
		(unsigned long long)h->count);
}

void gen_result_table(const struct gen_result *r, FILE *f)
{
	const struct gen_hist *h = &r->lat;
	double seconds = gen_seconds(r);
	bool none = true;

	fprintf(f, "mode          %s\n", r->mode ? r->mode : "");
	fprintf(f, "seconds       %.3f\n", seconds);
	if (r->offered_rate)
		fprintf(f, "offered       %llu q/s\n", (unsigned long long)r->offered_rate);
	else
		fprintf(f, "offered       as fast as possible\n");
	fprintf(f, "sent          %llu (%.0f q/s)\n", (unsigned long long)r->sent,
		gen_per_s(r->sent, seconds));
	fprintf(f, "answered      %llu (%.0f q/s, %.2f%% of sent)\n",
		(unsigned long long)r->answered, gen_per_s(r->answered, seconds),
		100 * gen_share(r));
	fprintf(f, "lost          %llu\n", (unsigned long long)r->lost);
	fprintf(f, "stray         %llu\n", (unsigned long long)r->stray);
	fprintf(f, "truncated     %llu\n", (unsigned long long)r->truncated);
	if (r->tx_full)
		fprintf(f, "not sent      %llu (the port's transmit ring full)\n",
			(unsigned long long)r->tx_full);
	fprintf(f, "rcodes       ");
	for (unsigned i = 0; i < 16; i++) {
		if (!r->rcode[i])
			continue;
		none = false;
		if (i < 6)
			fprintf(f, " %s %llu", gen_rcode_names[i],
				(unsigned long long)r->rcode[i]);
		else
			fprintf(f, " RCODE%u %llu", i, (unsigned long long)r->rcode[i]);
	}
	fprintf(f, "%s\n", none ? " none" : "");
	gen_table_latency("latency (us)", h, f);
	if (r->stalls)
		fprintf(f, "sender stalls %llu turns of its loop over %u us apart, %.1f ms in all,"
			" the longest %.1f us\n", (unsigned long long)r->stalls, GEN_STALL_US,
			(double)r->stall_ns / 1e6, gen_us(r->stall_max_ns));
	if (!r->split)
		return;
	for (unsigned c = 2; c-- > 0;) {
		const struct gen_class *k = &r->cls[c];

		fprintf(f, "%s %s: sent %llu, answered %llu (%.2f%%)\n",
			c ? "under" : "not under", r->split, (unsigned long long)k->sent,
			(unsigned long long)k->answered,
			k->sent ? 100.0 * (double)k->answered / (double)k->sent : 0.0);
		gen_table_latency("  latency (us)", &k->lat, f);
	}
}
