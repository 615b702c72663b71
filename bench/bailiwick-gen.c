/*
 * bench/bailiwick-gen.c: bailiwick-gen [EAL arguments] -- OPTIONS, a DPDK
 * DNS load generator and response counter (bench/gen.h holds everything of
 * it that needs no EAL). One port (any PMD: memif, af_xdp, af_packet, PCI);
 * every worker lcore owns one rx/tx queue pair, sends queries from the
 * query file round robin from its own source addresses and ports (so RSS
 * spreads them on the receiver), and matches answers to sends by (id,
 * destination port) for latency. The main lcore prints a progress line each
 * second and the summary at the end: a table, and JSON with -j.
 *
 * Modes: -r RATE (queries/s over all lcores, token bucket on the TSC);
 * -r 0 as fast as the port takes them; -S searches for the highest rate
 * with less than 0.1 % loss (bisection between -r and the maximum rate
 * measured first). --reflect turns it into the far end: every UDP frame
 * to port 53 goes back with addresses and ports swapped and QR set, the
 * I/O ceiling of the same link and cores without DNS work. --plan FILE
 * makes several runs (a query file, rate, duration and JSON each) over one
 * connection, with a --hook command before and after each (before may skip
 * the run) and once at the end, when the senders have stopped and the far
 * end may go first.
 *
 * Worker lcores: no allocation, lock or syscall in the loop; every mbuf
 * received is freed or sent back in the same iteration.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench/gen.h"
#include "dns/name.h"
#include "conf/cpu.h"
#include "net/pkt.h"

#define BURST 32
#define NB_DESC 1024
#define PORTS_PER_LCORE 64	/* source ports each lcore cycles through */
#define SRC_PORT_BASE 10000
#define ADDRS_MAX PORTS_PER_LCORE	/* address = first + (port index mod -n) */
#define DRAIN_MS 200		/* answers still counted after the sends stop */
#define IDLE_SLEEP_US 200	/* an lcore's nap between runs and in nap runs */
#define LCORES_MAX 16
#define SEARCH_STEPS 6
#define SEARCH_LOSS 0.001	/* < 0.1 % lost: the NDR-like criterion */

struct opts {
	const char *queries;
	const char *json;
	const char *plan;	/* --plan: several runs in one process */
	const char *hook;	/* --hook: run before and after each of them */
	const char *split;	/* --split: its name as given, or NULL */
	uint8_t split_name[DNS_NAME_MAX];
	double seconds;
	uint64_t rate;
	bool search;
	bool reflect;
	unsigned naddrs;
	uint8_t family;
	uint8_t src[16], dst[16];
	uint8_t dmac[6];
};

/* One worker lcore; written by it, read by the main lcore for progress. */
struct lc {
	unsigned idx;
	uint16_t queue;
	struct gen_bucket bucket;
	struct gen_inflight inflight;
	struct gen_hist lat;
	struct gen_class cls[2];	/* with --split */
	uint64_t last_turn;		/* TSC of the loop's last turn in a run */
	uint64_t stalls, stall_ticks, stall_max;	/* turns > GEN_STALL_US apart */
	volatile uint64_t sent, answered, stray, foreign, truncated, tx_full, lost_reuse;
	uint64_t rcode[16];
	uint64_t next_query;
} __rte_cache_aligned;

static struct opts o;
static struct gen_queries qs;
static uint64_t *qsum;	/* net_pkt_sum() of each template (its ID 0) */
static struct rte_mempool *pool;
static uint16_t port;
static struct rte_ether_addr smac;
static unsigned nlc;
static struct lc lcs[LCORES_MAX];
static volatile int phase;	/* 0 idle, 1 sending, 2 draining, 3 quit */
static volatile bool nap;	/* this run's senders sleep when idle */
static volatile sig_atomic_t interrupted;
static uint64_t hz;

static void on_signal(int s)
{
	(void)s;
	interrupted = 1;
}

/* --- sending and receiving ---------------------------------------------------- */

static void send_burst(struct lc *l, uint64_t now, unsigned n)
{
	struct rte_mbuf *m[BURST];
	struct net_pkt_addrs a = { .family = o.family, .dst_port = 53 };

	if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
		return;
	memcpy(a.src_mac, smac.addr_bytes, 6);
	memcpy(a.dst_mac, o.dmac, 6);
	memcpy(a.dst_ip, o.dst, 16);
	uint8_t cls[BURST];

	for (unsigned i = 0; i < n; i++) {
		const struct gen_query *q = &qs.q[l->next_query];
		uint16_t id;
		unsigned sp;
		uint64_t lost = 0;

		/* lcore i sends queries i, i + nlc, ...: together the lcores
		 * go through the file once per pass, in order */
		l->next_query += nlc;
		while (l->next_query >= qs.n)
			l->next_query -= qs.n;
		gen_inflight_send(&l->inflight, now, q->cls, &id, &sp, &lost);
		cls[i] = q->cls;
		l->cls[q->cls].sent++;
		l->lost_reuse += lost;
		a.src_port = (uint16_t)(SRC_PORT_BASE + l->idx * PORTS_PER_LCORE + sp);
		memcpy(a.src_ip, o.src, 16);
		a.src_ip[o.family == NET_PKT_IPV4 ? 3 : 15] =
			(uint8_t)(a.src_ip[o.family == NET_PKT_IPV4 ? 3 : 15] + sp % o.naddrs);
		uint8_t *buf = rte_pktmbuf_mtod(m[i], uint8_t *);
		uint16_t hl = net_pkt_hdr_len(o.family, false);
		/* the ID's two octets into the query, and with the template's
		 * sum into its checksum: the query is not read back */
		uint16_t idw;
		dns_put16((uint8_t *)&idw, id);
		memcpy(buf + hl, q->wire, q->len);
		memcpy(buf + hl, &idw, 2);
		int len = net_pkt_build_udp_hdr_sum(buf, &a, q->len,
						    qsum[q - qs.q] + net_pkt_sum(&idw, 2));
		m[i]->data_len = (uint16_t)len;
		m[i]->pkt_len = (uint32_t)len;
	}
	uint16_t sent = rte_eth_tx_burst(port, l->queue, m, (uint16_t)n);
	l->sent += sent;
	l->tx_full += n - sent;
	for (uint16_t i = sent; i < n; i++) {
		l->cls[cls[i]].sent--;	/* (counted as sends, as l->sent is) */
		rte_pktmbuf_free(m[i]);
	}
}

static uint16_t receive(struct lc *l, uint64_t now)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(port, l->queue, m, BURST);

	for (uint16_t i = 0; i < n; i++) {
		struct net_pkt p;
		const uint8_t *buf = rte_pktmbuf_mtod(m[i], const uint8_t *);
		int cls = net_pkt_parse(&p, buf, rte_pktmbuf_data_len(m[i]));

		if (cls == NET_PKT_UDP && p.src_port == 53 && p.payload_len >= DNS_HDR_LEN) {
			const uint8_t *dns = buf + p.payload_off;
			unsigned owner = (p.dst_port - SRC_PORT_BASE) / PORTS_PER_LCORE;
			unsigned sp = (p.dst_port - SRC_PORT_BASE) % PORTS_PER_LCORE;
			uint16_t flags = dns_get16(dns + 2);

			if (p.dst_port < SRC_PORT_BASE || owner >= nlc) {
				l->stray++;
			} else if (owner != l->idx) {
				/* another lcore's query (the far end's RSS put the
				 * answer here): counted, no latency */
				l->foreign++;
				l->answered++;
				l->rcode[flags & 0xf]++;
				/* its class from its question's name (no send
				 * time here) */
				if (o.split && dns_get16(dns + 4) == 1 &&
				    dns_name_check(dns + DNS_HDR_LEN,
						   p.payload_len - DNS_HDR_LEN) > 0)
					l->cls[dns_name_is_subdomain(dns + DNS_HDR_LEN,
								     o.split_name)].answered++;
				else
					l->cls[0].answered++;
			} else {
				unsigned c;
				uint64_t t = gen_inflight_answer(&l->inflight, dns_get16(dns), sp, now,
								 &c);
				if (t == UINT64_MAX) {
					l->stray++;
				} else {
					uint64_t ns = t * 1000000000ull / hz;

					l->answered++;
					l->rcode[flags & 0xf]++;
					if (flags & DNS_F_TC)
						l->truncated++;
					gen_hist_record(&l->lat, ns);
					l->cls[c].answered++;
					/* class 0's histogram is the rest (run()):
					 * a hit-only run records nothing more */
					if (c)
						gen_hist_record(&l->cls[1].lat, ns);
				}
			}
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

/* The far end without DNS work: every UDP frame to port 53 goes back. */
static void reflect(struct lc *l)
{
	struct rte_mbuf *m[BURST], *out[BURST];
	uint16_t n = rte_eth_rx_burst(port, l->queue, m, BURST), k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct net_pkt p;
		uint8_t *buf = rte_pktmbuf_mtod(m[i], uint8_t *);
		if (net_pkt_parse(&p, buf, rte_pktmbuf_data_len(m[i])) != NET_PKT_UDP ||
		    p.dst_port != 53 || p.payload_len < DNS_HDR_LEN) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		buf[p.payload_off + 2] |= DNS_F_QR >> 8;
		int start = net_pkt_udp_reply(buf, &p, p.payload_len);
		if (start < 0) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		m[i]->data_off = (uint16_t)(m[i]->data_off + start);
		m[i]->data_len = m[i]->pkt_len = (uint16_t)(p.payload_off - start + p.payload_len);
		out[k++] = m[i];
	}
	l->answered += n;
	uint16_t sent = k ? rte_eth_tx_burst(port, l->queue, out, k) : 0;
	l->sent += sent;
	for (uint16_t i = sent; i < k; i++)
		rte_pktmbuf_free(out[i]);
}

static int lcore_main(void *arg)
{
	struct lc *l = arg;

	while (phase != 3) {
		uint64_t now = rte_rdtsc();
		unsigned n = 0;

		if (o.reflect) {
			reflect(l);
			continue;
		}
		if (phase == 0) {
			/* between runs (a plan's hook, a search's next step):
			 * the CPU is the far end's or control's */
			rte_delay_us_sleep(IDLE_SLEEP_US);
			continue;
		}
		/* the sender kept from its loop (another thread on its CPU, the
		 * kernel): its queries go out late and its answers are read
		 * late, both counted in the latency it reports */
		if (phase == 1 && !nap) {
			uint64_t gap = l->last_turn ? now - l->last_turn : 0;

			if (gap > hz / 1000000 * GEN_STALL_US) {
				l->stalls++;
				l->stall_ticks += gap;
				if (gap > l->stall_max)
					l->stall_max = gap;
			}
			l->last_turn = now;
		}
		if (phase == 1 && (n = gen_bucket_take(&l->bucket, now, BURST)) != 0)
			send_burst(l, now, n);
		if (!receive(l, now) && !n && nap)
			rte_delay_us_sleep(IDLE_SLEEP_US);
	}
	return 0;
}

/* The loaded templates' checksum sums, and with --split their classes
 * (how many of each said). Exits when there is no memory for the sums. */
static void prepare_queries(void)
{
	free(qsum);
	if (!(qsum = malloc(qs.n * sizeof(*qsum)))) {
		fprintf(stderr, "bailiwick-gen: no memory for %zu queries' sums\n", qs.n);
		exit(1);
	}
	for (size_t i = 0; i < qs.n; i++)
		qsum[i] = net_pkt_sum(qs.q[i].wire, qs.q[i].len);
	if (!o.split)
		return;
	size_t n = gen_queries_split(&qs, o.split_name);

	fprintf(stderr, "bailiwick-gen: %zu of %zu queries at or below %s\n", n, qs.n, o.split);
}

/* --- one run ------------------------------------------------------------------ */

static void run(uint64_t rate, double seconds, struct gen_result *r, bool progress)
{
	uint64_t now = rte_rdtsc();

	for (unsigned i = 0; i < nlc; i++) {
		struct lc *l = &lcs[i];
		uint64_t each = rate ? (rate + nlc - 1) / nlc : 0;
		gen_bucket_init(&l->bucket, hz, each, BURST, now);
		gen_hist_init(&l->lat);
		for (unsigned c = 0; c < 2; c++)
			l->cls[c].sent = l->cls[c].answered = 0;
		if (o.split)
			gen_hist_init(&l->cls[1].lat);
		l->sent = l->answered = l->stray = l->foreign = l->truncated = 0;
		l->tx_full = l->lost_reuse = 0;
		l->last_turn = l->stalls = l->stall_ticks = l->stall_max = 0;
		memset(l->rcode, 0, sizeof(l->rcode));
	}
	phase = 1;
	uint64_t start = rte_rdtsc(), end = start + (uint64_t)(seconds * (double)hz);
	uint64_t last_sent = 0, last_ans = 0, tick = start + hz;
	while (rte_rdtsc() < end && !interrupted) {
		rte_delay_us_sleep(10000);
		if (progress && rte_rdtsc() >= tick) {
			uint64_t s = 0, a = 0;
			for (unsigned i = 0; i < nlc; i++) {
				s += lcs[i].sent;
				a += lcs[i].answered;
			}
			double el = (double)(rte_rdtsc() - start) / (double)hz;
			fprintf(stderr, "\r%6.1f/%.0f s  sent %9" PRIu64 "/s  answered %9" PRIu64
					"/s  %6.2f %%   ",
				el, seconds, s - last_sent, a - last_ans,
				s ? 100.0 * (double)a / (double)s : 0.0);
			last_sent = s;
			last_ans = a;
			tick += hz;
		}
	}
	double took = (double)(rte_rdtsc() - start) / (double)hz;
	phase = 2;
	rte_delay_us_sleep(DRAIN_MS * 1000);
	phase = 0;
	rte_delay_us_sleep(1000);
	if (progress)
		fprintf(stderr, "\n");

	memset(r, 0, sizeof(*r));
	r->seconds = took;
	r->offered_rate = rate;
	gen_hist_init(&r->lat);
	r->split = o.split;
	if (o.split)
		gen_hist_init(&r->cls[1].lat);	/* class 0's: the rest, below */
	for (unsigned i = 0; i < nlc; i++) {
		struct lc *l = &lcs[i];
		for (unsigned c = 0; c < 2 && o.split; c++) {
			r->cls[c].sent += l->cls[c].sent;
			r->cls[c].answered += l->cls[c].answered;
		}
		if (o.split)
			gen_hist_merge(&r->cls[1].lat, &l->cls[1].lat);
		r->sent += l->sent;
		r->answered += l->answered;
		r->stray += l->stray;
		r->truncated += l->truncated;
		for (unsigned k = 0; k < 16; k++)
			r->rcode[k] += l->rcode[k];
		gen_hist_merge(&r->lat, &l->lat);
		r->tx_full += l->tx_full;
		r->stalls += l->stalls;
		/* (in double: ticks times 10^9 passes 2^64 after ~7 s) */
		r->stall_ns += (uint64_t)((double)l->stall_ticks * 1e9 / (double)hz);
		uint64_t mx = (uint64_t)((double)l->stall_max * 1e9 / (double)hz);
		if (mx > r->stall_max_ns)
			r->stall_max_ns = mx;
	}
	if (o.split) {
		r->cls[0].lat = r->lat;
		gen_hist_sub(&r->cls[0].lat, &r->cls[1].lat);
	}
	r->lost = r->sent > r->answered ? r->sent - r->answered : 0;
}

/* --- a run with its summary, and plans of them -------------------------------- */

/* Every lcore back to its first query (lcore i sends i, i + nlc, ...). */
static void queries_rewind(void)
{
	for (unsigned i = 0; i < nlc; i++)
		lcs[i].next_query = qs.n ? i % qs.n : 0;
}

/* One run at rate for seconds: the table on stdout, the JSON summary in
 * json when it is not NULL. -1 (said on stderr) when json cannot be
 * written. */
static int run_summary(uint64_t rate, double seconds, const char *json)
{
	FILE *f = json ? fopen(json, "w") : NULL;
	struct gen_result r;

	if (json && !f) {
		fprintf(stderr, "bailiwick-gen: %s: %s\n", json, strerror(errno));
		return -1;
	}
	run(rate, seconds, &r, true);
	r.mode = rate ? "rate" : "max";
	gen_result_table(&r, stdout);
	fflush(stdout);
	if (!f)
		return 0;
	gen_result_json(&r, f);
	fputc('\n', f);
	if (fclose(f)) {
		fprintf(stderr, "bailiwick-gen: %s: %s\n", json, strerror(errno));
		return -1;
	}
	return 0;
}

/* -S: the maximum for seconds, then bisect between lo and it for the
 * highest rate with < 0.1 % lost; the tables on stdout, every run's
 * summary as a JSON array in json when it is not NULL. -1 when json
 * cannot be written. */
static int run_search(uint64_t lo, double seconds, const char *json_path)
{
	FILE *json = json_path ? fopen(json_path, "w") : NULL;
	struct gen_result r, max, best = { 0 };

	if (json_path && !json) {
		fprintf(stderr, "bailiwick-gen: %s: %s\n", json_path, strerror(errno));
		return -1;
	}
	run(0, seconds, &max, true);
	max.mode = "max";
	uint64_t hi = max.answered / (max.seconds > 0 ? (uint64_t)max.seconds : 1);
	if (json) {
		fputs("[", json);
		gen_result_json(&max, json);
	}
	best.mode = "search";
	for (int step = 0; step < SEARCH_STEPS && hi > lo && !interrupted; step++) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		run(mid, seconds, &r, true);
		r.mode = "search";
		double loss = r.sent ? (double)r.lost / (double)r.sent : 1;
		fprintf(stderr, "bailiwick-gen: %" PRIu64 "/s: %.3f %% lost\n", mid, 100 * loss);
		if (json) {
			fputs(",\n", json);
			gen_result_json(&r, json);
		}
		if (loss < SEARCH_LOSS) {
			lo = mid;
			best = r;
		} else {
			hi = mid - 1;
		}
	}
	printf("maximum response rate:\n");
	gen_result_table(&max, stdout);
	printf("highest rate with < 0.1 %% lost: %" PRIu64 "/s\n", lo);
	if (best.sent)
		gen_result_table(&best, stdout);
	fflush(stdout);
	if (json) {
		fputs("]\n", json);
		if (fclose(json)) {
			fprintf(stderr, "bailiwick-gen: %s: %s\n", json_path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The hook's exit status before a run that asks to skip it (a warm-up
 * pass after the cache is warm) */
#define HOOK_SKIP 3

/* 0, HOOK_SKIP when the hook asked to skip, -1 when it failed */
static int hook(const char *when, const char *json)
{
	char cmd[4096];
	int st;

	if (!o.hook)
		return 0;
	if (snprintf(cmd, sizeof(cmd), "%s %s %s", o.hook, when, json) >= (int)sizeof(cmd))
		return -1;
	st = system(cmd);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == HOOK_SKIP)
		return HOOK_SKIP;
	return -1;
}

/*
 * --plan FILE: one run per line, "QUERIES RATE SECONDS JSON" ('#' starts
 * a comment; RATE "search" runs -S's search), each with its own query file
 * and its summary in JSON. A far end that must not see its peer come and
 * go between runs (a memif server whose workers poll while the PMD unmaps
 * the client's regions on disconnect) sees one connection for the whole
 * plan, and the hook's "end" call can stop it before ours goes. Returns the exit
 * status: 2 for a plan or query file in error, 1 when a run's JSON or the
 * hook failed.
 */
static int run_plan(void)
{
	char line[4096], err[256];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(o.plan, "r");

	if (!f) {
		fprintf(stderr, "bailiwick-gen: %s: %s\n", o.plan, strerror(errno));
		return 2;
	}
	while (!rc && !interrupted && fgets(line, sizeof(line), f)) {
		struct gen_plan_step st;
		int got;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if ((got = gen_plan_parse(line, &st)) == 0)
			continue;
		gen_queries_free(&qs);
		if (got < 0) {
			fprintf(stderr, "bailiwick-gen: %s:%u: want QUERIES RATE SECONDS JSON\n",
				o.plan, lineno);
			rc = 2;
		} else if (gen_queries_load(&qs, st.queries, err, sizeof(err))) {
			fprintf(stderr, "bailiwick-gen: %s:%u: %s\n", o.plan, lineno, err);
			rc = 2;
		} else {
			prepare_queries();
			int before = hook("before", st.json);

			queries_rewind();
			nap = st.nap;
			if (before == HOOK_SKIP) {
				printf("%s: skipped (the hook asked)\n", st.json);
			} else if (before ||
				   (st.search ? run_search(0, st.seconds, st.json) :
						run_summary(st.rate, st.seconds, st.json)) ||
				   hook("after", st.json)) {
				fprintf(stderr, "bailiwick-gen: %s:%u: %s or the hook failed\n",
					o.plan, lineno, st.json);
				rc = 1;
			}
		}
	}
	fclose(f);
	return rc;
}

/* --- set-up ------------------------------------------------------------------- */

static void usage_to(FILE *f, int code)
{
	fprintf(f,
		"usage: bailiwick-gen [EAL arguments] -- -i QUERIES -d DEST [options]\n"
		"  -i FILE    queries, dnsperf format (NAME TYPE per line)\n"
		"  -d ADDR    the resolver's address (IPv4 or IPv6)\n"
		"  -s ADDR    first source address (default 198.18.1.1 / 2001:2:0:1::1)\n"
		"  -n N       source addresses, 1..%d (default 16)\n"
		"  -D MAC     destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"  -r RATE    queries/s over all lcores; 0: as fast as possible (default)\n"
		"  -t SECONDS duration of a run (default 5)\n"
		"  -S         search: the highest rate with < 0.1 %% lost, and the maximum\n"
		"  -j FILE    write the summary as JSON (an array with -S)\n"
		"  --reflect  be the far end: swap and return every query (I/O ceiling)\n"
		"  --plan FILE  several runs over one connection, a line each:\n"
		"             QUERIES RATE SECONDS JSON [nap] (RATE 0: as fast as\n"
		"             possible, search: as -S; nap: the senders sleep when\n"
		"             idle, latencies not meaningful)\n"
		"  --split NAME  latency and answers apart for the queries at or below\n"
		"             NAME and the others (e.g. a mix's misses and its hits)\n"
		"  --hook CMD   with --plan: sh -c 'CMD before JSON' and 'CMD after JSON'\n"
		"             around each run (before exiting 3: skip the run), and\n"
		"             'CMD end -' when the senders have stopped, before the port\n"
		"             closes (stop the far end there)\n",
		ADDRS_MAX);
	exit(code);
}

static void usage(void)
{
	usage_to(stderr, 2);
}

static void parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "reflect", no_argument, NULL, 'R' },
		{ "plan", required_argument, NULL, 'P' },
		{ "hook", required_argument, NULL, 'H' },
		{ "split", required_argument, NULL, 'L' },
		{ 0 },
	};
	const char *src = NULL, *dst = NULL;
	int c;

	o.seconds = 5;
	o.naddrs = 16;
	memset(o.dmac, 0xff, 6);
	while ((c = getopt_long(argc, argv, "i:d:s:n:D:r:t:Sj:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.queries = optarg; break;
		case 'd': dst = optarg; break;
		case 's': src = optarg; break;
		case 'n': o.naddrs = (unsigned)atoi(optarg); break;
		case 'D':
			if (rte_ether_unformat_addr(optarg, (struct rte_ether_addr *)o.dmac))
				usage();
			break;
		case 'r': o.rate = strtoull(optarg, NULL, 10); break;
		case 't': o.seconds = atof(optarg); break;
		case 'S': o.search = true; break;
		case 'j': o.json = optarg; break;
		case 'R': o.reflect = true; break;
		case 'P': o.plan = optarg; break;
		case 'H': o.hook = optarg; break;
		case 'L':
			o.split = optarg;
			if (dns_name_from_str(optarg, o.split_name) < 0) {
				fprintf(stderr, "bailiwick-gen: --split %s: not a domain name\n",
					optarg);
				exit(2);
			}
			break;
		default: usage();
		}
	}
	if (o.reflect)
		return;
	if ((!o.queries == !o.plan) || (o.plan && (o.search || o.json)) || (o.hook && !o.plan) ||
	    !dst || o.naddrs < 1 || o.naddrs > ADDRS_MAX || o.seconds <= 0)
		usage();
	if (inet_pton(AF_INET, dst, o.dst) == 1) {
		o.family = NET_PKT_IPV4;
		if (inet_pton(AF_INET, src ? src : "198.18.1.1", o.src) != 1)
			usage();
	} else if (inet_pton(AF_INET6, dst, o.dst) == 1) {
		o.family = NET_PKT_IPV6;
		if (inet_pton(AF_INET6, src ? src : "2001:2:0:1::1", o.src) != 1)
			usage();
	} else {
		fprintf(stderr, "bailiwick-gen: -d %s: not an address\n", dst);
		exit(2);
	}
	/* the source addresses vary in the last octet only, without a carry */
	if (o.src[o.family == NET_PKT_IPV4 ? 3 : 15] + o.naddrs - 1 > 255) {
		fprintf(stderr, "bailiwick-gen: -s and -n: %u addresses do not fit in the last octet\n",
			o.naddrs);
		exit(2);
	}
}

static void port_start(unsigned nq)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nrx = NB_DESC, ntx = NB_DESC;

	if (rte_eth_dev_count_avail() < 1)
		rte_exit(1, "no DPDK port: give one with --vdev or -a\n");
	RTE_ETH_FOREACH_DEV(port) break;
	if (rte_eth_dev_info_get(port, &info))
		rte_exit(1, "port %u: no device info\n", port);
	if (info.max_rx_queues < nq || info.max_tx_queues < nq)
		rte_exit(1, "port %u (%s): %u lcores need %u queues, it has %u\n", port,
			 info.driver_name, nq, nq, info.max_rx_queues);
	if (nq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if (rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq, &conf) ||
	    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx))
		rte_exit(1, "port %u: cannot configure %u queues\n", port, nq);
	for (unsigned q = 0; q < nq; q++)
		if (rte_eth_rx_queue_setup(port, (uint16_t)q, nrx, rte_eth_dev_socket_id(port),
					   NULL, pool) ||
		    rte_eth_tx_queue_setup(port, (uint16_t)q, ntx, rte_eth_dev_socket_id(port), NULL))
			rte_exit(1, "port %u: queue %u setup failed\n", port, q);
	if (rte_eth_dev_start(port))
		rte_exit(1, "port %u: cannot start\n", port);
	rte_eth_promiscuous_enable(port);
	rte_eth_macaddr_get(port, &smac);
	/* memif and the like need a moment for the link */
	struct rte_eth_link link = { 0 };
	for (int i = 0; i < 100; i++) {
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status)
			break;
		rte_delay_us_sleep(100000);
	}
	fprintf(stderr, "bailiwick-gen: port %u (%s), %u queue(s), link %s\n", port,
		info.driver_name, nq, link.link_status ? "up" : "DOWN");
}

int main(int argc, char **argv)
{
	char err[512];

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("bailiwick-gen %s\n", BW_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help"))
		usage_to(stdout, 0);
	int n = rte_eal_init(argc, argv);

	if (n < 0)
		rte_exit(1, "EAL: %s (hugepages reserved? a port given?)\n", rte_strerror(rte_errno));
	parse_opts(argc - n, argv + n);
	hz = rte_get_tsc_hz();
	if (!o.reflect && !o.plan && gen_queries_load(&qs, o.queries, err, sizeof(err))) {
		fprintf(stderr, "bailiwick-gen: %s\n", err);
		return 2;
	}
	if (!o.plan && !o.reflect)
		prepare_queries();
	nlc = rte_lcore_count() - 1;
	if (nlc < 1 || nlc > LCORES_MAX)
		rte_exit(1, "give 2..%d lcores (-l): the main one and the senders\n", LCORES_MAX + 1);
	pool = rte_pktmbuf_pool_create("gen_mbufs", 8192 * nlc + 4096, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!pool)
		rte_exit(1, "mbuf pool: %s\n", rte_strerror(rte_errno));
	port_start(nlc);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	unsigned i = 0, lcore;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct lc *l = &lcs[i];
		l->idx = i;
		l->queue = (uint16_t)i;
		if (!o.reflect && gen_inflight_init(&l->inflight, PORTS_PER_LCORE))
			rte_exit(1, "no memory for the in-flight table\n");
		rte_eal_remote_launch(lcore_main, l, lcore);
		i++;
	}
	queries_rewind();
	if (o.reflect) {
		fprintf(stderr, "bailiwick-gen: reflecting on %u lcore(s) until SIGINT\n", nlc);
		uint64_t last = 0;
		while (!interrupted) {
			rte_delay_us_sleep(1000000);
			uint64_t s = 0;
			for (unsigned k = 0; k < nlc; k++)
				s += lcs[k].sent;
			fprintf(stderr, "\rreflected %9" PRIu64 "/s   ", s - last);
			last = s;
		}
		phase = 3;
		rte_eal_mp_wait_lcore();
		fprintf(stderr, "\n");
		return 0;
	}

	int rc = 0;
	if (o.plan)
		rc = run_plan();
	else if (!o.search)
		rc = run_summary(o.rate, o.seconds, o.json) ? 1 : 0;
	else
		rc = run_search(o.rate, o.seconds, o.json) ? 1 : 0;
	phase = 3;
	rte_eal_mp_wait_lcore();
	/* The senders are still now: the far end may go first (its memif
	 * server would otherwise unmap our regions under its own pollers, or
	 * ours under ours, DPDK 22.11); "CMD end -" says so. */
	if (o.plan && hook("end", "-"))
		rc = rc ? rc : 1;
	rte_eth_dev_stop(port);
	rte_eal_cleanup();
	return rc;
}
