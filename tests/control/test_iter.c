/*
 * tests/control/test_iter.c: the iterator against scripted authorities in
 * this process: a root, lab. and shop.lab. served from 127.53.0.1,
 * 127.53.1.1 and 127.53.2.1 on one port the kernel picks (the iterator's
 * server_port), by a thread that answers from a small table of zones. Each
 * test resolves through the real upstream module, delegation table and
 * cache, and checks the answer's bytes and which servers were asked:
 * referrals followed down to the authority, an answer from the cache
 * asked of no one, a CNAME chain, NXDOMAIN with its SOA, and data outside
 * the answering zone's bailiwick never believed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "cache/msgcache.h"
#include "control/deleg.h"
#include "control/hints.h"
#include "control/iter.h"
#include "control/pool.h"
#include "control/upstream.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "tests/dns/testutil.h"

enum { ROOT, LAB, SHOP, NSERVERS };

static const char *const server_ip[NSERVERS] = { "127.53.0.1", "127.53.1.1", "127.53.2.1" };

static struct {
	int fd[NSERVERS];
	uint16_t port;
	pthread_t th;
	atomic_bool stop;
	atomic_int asked[NSERVERS];
	char last[NSERVERS][DNS_NAME_MAX]; /* the last name each was asked, lower case */
} auth;

/* --- the scripted authorities ---------------------------------------------- */

static size_t name_rd(uint8_t *out, const char *name)
{
	size_t l = dns_name_len(nm(name));

	memcpy(out, nm(name), l);
	return l;
}

static void soa(struct dns_builder *b, const char *zone)
{
	uint8_t rd[600];
	size_t n = name_rd(rd, "ns.invalid");

	n += name_rd(rd + n, "hostmaster.invalid");
	for (int i = 0; i < 5; i++)
		dns_put32(rd + n + 4 * i, i == 4 ? 300u : 3600u);
	dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(zone), DNS_T_SOA, DNS_C_IN, 300, rd, n + 20);
}

static void referral(struct dns_builder *b, const char *zone, const char *ns, int server)
{
	uint8_t rd[300], a[4];

	dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(zone), DNS_T_NS, DNS_C_IN, 3600, rd,
		       name_rd(rd, ns));
	inet_pton(AF_INET, server_ip[server], a);
	dns_builder_rr(b, DNS_SEC_ADDITIONAL, nm(ns), DNS_T_A, DNS_C_IN, 3600, a, 4);
}

static bool under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	return n == z ? !strcmp(name, zone) : n > z && name[n - z - 1] == '.' &&
					      !strcmp(name + n - z, zone);
}

static void a_record(struct dns_builder *b, const char *owner, const char *addr)
{
	uint8_t a[4];

	inet_pton(AF_INET, addr, a);
	dns_builder_rr(b, DNS_SEC_ANSWER, nm(owner), DNS_T_A, DNS_C_IN, 300, a, 4);
}

/* The answer of server s to the question (name lower-cased, as text). */
static void answer(int s, struct dns_builder *b, const char *name, uint16_t qtype)
{
	uint8_t rd[300];

	switch (s) {
	case ROOT:
		if (!strcmp(name, ".") || !*name) {
			dns_builder_rr(b, DNS_SEC_ANSWER, nm("."), DNS_T_NS, DNS_C_IN, 3600, rd,
				       name_rd(rd, "a.root"));
			uint8_t a[4];
			inet_pton(AF_INET, server_ip[ROOT], a);
			dns_builder_rr(b, DNS_SEC_ADDITIONAL, nm("a.root"), DNS_T_A, DNS_C_IN,
				       3600, a, 4);
		} else if (under(name, "lab")) {
			referral(b, "lab", "ns.lab", LAB);
		} else {
			b->flags |= DNS_R_NXDOMAIN;
			soa(b, ".");
		}
		return;
	case LAB:
		if (under(name, "shop.lab")) {
			referral(b, "shop.lab", "ns.shop.lab", SHOP);
		} else {
			b->flags |= DNS_R_NXDOMAIN;
			soa(b, "lab");
		}
		return;
	default:
		b->flags |= DNS_F_AA;
		if (!strcmp(name, "www.shop.lab") && qtype == DNS_T_A) {
			a_record(b, "www.shop.lab", "198.18.1.10");
		} else if (!strcmp(name, "alias.shop.lab")) {
			dns_builder_rr(b, DNS_SEC_ANSWER, nm("alias.shop.lab"), DNS_T_CNAME,
				       DNS_C_IN, 300, rd, name_rd(rd, "www.shop.lab"));
			if (qtype == DNS_T_A)
				a_record(b, "www.shop.lab", "198.18.1.10");
		} else if (!strcmp(name, "poison.shop.lab") && qtype == DNS_T_A) {
			/* an answer with a record of another zone riding along */
			a_record(b, "poison.shop.lab", "198.18.1.11");
			a_record(b, "www.bank.secure", "203.0.113.66");
		} else if (!strcmp(name, "shop.lab") && qtype == DNS_T_NS) {
			dns_builder_rr(b, DNS_SEC_ANSWER, nm("shop.lab"), DNS_T_NS, DNS_C_IN, 3600,
				       rd, name_rd(rd, "ns.shop.lab"));
		} else {
			b->flags |= DNS_R_NXDOMAIN;
			soa(b, "shop.lab");
		}
	}
}

static void serve_one(int s)
{
	uint8_t in[1500], out[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(auth.fd[s], in, sizeof(in), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
	struct dns_msg m;
	struct dns_builder b;
	char name[DNS_NAME_MAX * 4];

	if (n <= 0 || dns_msg_parse(&m, in, (size_t)n) || m.hdr.count[DNS_SEC_QUESTION] != 1)
		return;
	uint8_t lower[DNS_NAME_MAX];
	dns_name_copy_lower(lower, m.qname);
	if (dns_name_to_str(lower, name, sizeof(name)) < 0)
		return;
	size_t l = strlen(name);
	if (l > 1 && name[l - 1] == '.')
		name[l - 1] = 0;
	snprintf(auth.last[s], sizeof(auth.last[s]), "%s", name);
	atomic_fetch_add(&auth.asked[s], 1);
	/* the question as asked, its letter case (0x20) included */
	dns_builder_init(&b, out, sizeof(out), m.hdr.id, DNS_F_QR);
	dns_builder_question(&b, m.qname, m.qtype, m.qclass);
	answer(s, &b, name, m.qtype);
	size_t len = dns_builder_finish(&b);
	sendto(auth.fd[s], out, len, 0, (struct sockaddr *)&from, fl);
}

static void *serve(void *arg)
{
	struct pollfd p[NSERVERS];

	(void)arg;
	for (int i = 0; i < NSERVERS; i++)
		p[i] = (struct pollfd){ .fd = auth.fd[i], .events = POLLIN };
	while (!atomic_load(&auth.stop)) {
		if (poll(p, NSERVERS, 20) <= 0)
			continue;
		for (int i = 0; i < NSERVERS; i++)
			if (p[i].revents & POLLIN)
				serve_one(i);
	}
	return NULL;
}

static int bind_udp(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, ip, &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void auth_start(void)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int ok = 1;

		auth.fd[0] = bind_udp(server_ip[0], 0);
		cr_assert(auth.fd[0] >= 0, "bind %s", server_ip[0]);
		getsockname(auth.fd[0], (struct sockaddr *)&sin, &sl);
		auth.port = ntohs(sin.sin_port);
		for (int i = 1; i < NSERVERS; i++)
			ok &= (auth.fd[i] = bind_udp(server_ip[i], auth.port)) >= 0;
		if (ok)
			break;
		for (int i = 0; i < NSERVERS; i++)
			if (auth.fd[i] >= 0)
				close(auth.fd[i]);
	}
	atomic_store(&auth.stop, false);
	cr_assert_eq(pthread_create(&auth.th, NULL, serve, NULL), 0);
}

static void auth_stop(void)
{
	atomic_store(&auth.stop, true);
	pthread_join(auth.th, NULL);
	for (int i = 0; i < NSERVERS; i++)
		close(auth.fd[i]);
}

/* --- the resolver ---------------------------------------------------------- */

static struct ctl_loop *loop;
static struct up_ctx *up;
static struct cache *cache;
static struct ctl_deleg_table *deleg;
static struct ctl_iter *it;

struct result {
	int done;
	int rcode;
	size_t len;
	uint8_t msg[4096];
};

static void on_done(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct result *r = arg;

	(void)stale;
	r->done++;
	r->rcode = rcode;
	r->len = len < sizeof(r->msg) ? len : 0;
	if (msg && r->len)
		memcpy(r->msg, msg, r->len);
}

/* An iterator of its own loop, upstream context and delegation table on
 * the one cache, asking the scripted authorities. */
static void new_iter(struct ctl_loop **l, struct up_ctx **u, struct ctl_deleg_table **d,
		     struct ctl_iter **i)
{
	static const char hints[] = ". 3600000 NS a.root.\na.root. 3600000 A 127.53.0.1\n";
	struct ctl_referral h;
	struct up_config uc;
	struct ctl_iter_config ic;
	char err[256];
	int e = 0;

	cr_assert_eq(ctl_hints_parse(hints, sizeof(hints) - 1, "hints", &h, err, sizeof(err)), 0,
		     "%s", err);
	*l = ctl_loop_new(NULL);
	up_config_default(&uc);
	uc.ipv6 = false;
	inet_pton(AF_INET, "127.0.0.1", &uc.src4.sin_addr);
	*u = *l ? up_new(*l, &uc, &e) : NULL;
	cr_assert(*u, "%s", ctl_strerror(e));
	*d = ctl_deleg_table_new(0, 86400);
	cr_assert(*d);
	cr_assert_eq(ctl_deleg_set_hints(*d, &h, ctl_iter_now()), 0);
	ctl_iter_config_default(&ic);
	ic.qname_min = 0;	/* one query per zone: the counts below are exact */
	ic.server_port = auth.port;
	*i = ctl_iter_new(*l, *u, cache, *d, &ic);
	cr_assert(*i);
}

static void setup(void)
{
	struct cache_config cc;

	urcu_qsbr_register_thread();
	auth_start();
	cache_config_default(&cc);
	cc.max_bytes = 1 << 22;
	cache = cache_new(&cc);
	cr_assert(cache);
	new_iter(&loop, &up, &deleg, &it);
}

static void teardown(void)
{
	ctl_iter_free(it);
	up_free(up);
	ctl_deleg_table_free(deleg);
	cache_free(cache);
	ctl_loop_free(loop);
	auth_stop();
	urcu_qsbr_unregister_thread();
}

TestSuite(iter, .init = setup, .fini = teardown, .timeout = 20);

static void resolve(const char *name, uint16_t qtype, struct result *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(ctl_iter_resolve(it, nm(name), qtype, DNS_C_IN, false, on_done, r), 0);
	for (int i = 0; i < 500 && !r->done; i++)
		ctl_loop_run_once(loop, 10);
	cr_assert_eq(r->done, 1, "%s answered once", name);
}

/* The records of section sec of r's message: how many of type, and
 * whether one of them is owned by owner. */
static unsigned count(const struct result *r, enum dns_section sec, uint16_t type,
		      const char *owner, bool *owned)
{
	struct dns_msg m;
	struct dns_rr_iter i;
	struct dns_rr rr;
	unsigned n = 0;

	cr_assert_eq(dns_msg_parse(&m, r->msg, r->len), 0, "the assembled answer parses");
	*owned = false;
	dns_rr_iter_init(&i, &m, sec);
	while (dns_rr_next(&i, &rr) == 1)
		if (rr.type == type) {
			n++;
			*owned |= dns_name_equal(rr.owner, nm(owner));
		}
	return n;
}

static int asked(void)
{
	return atomic_load(&auth.asked[ROOT]) + atomic_load(&auth.asked[LAB]) +
	       atomic_load(&auth.asked[SHOP]);
}

Test(iter, referrals_are_followed_down_to_the_authority)
{
	struct result r;
	bool owned;

	resolve("www.shop.lab", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(count(&r, DNS_SEC_ANSWER, DNS_T_A, "www.shop.lab", &owned), 1);
	cr_assert(owned);
	cr_assert_geq(atomic_load(&auth.asked[ROOT]), 1);
	cr_assert_eq(atomic_load(&auth.asked[LAB]), 1, "lab. once, for the referral");
	cr_assert_eq(atomic_load(&auth.asked[SHOP]), 1, "the authority once");
	cr_assert_str_eq(auth.last[SHOP], "www.shop.lab");
}

Test(iter, a_cached_answer_is_asked_of_no_one)
{
	struct result r;
	bool owned;

	resolve("www.shop.lab", DNS_T_A, &r);
	int before = asked();
	resolve("www.shop.lab", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(count(&r, DNS_SEC_ANSWER, DNS_T_A, "www.shop.lab", &owned), 1);
	cr_assert_eq(asked(), before, "no upstream query for a cached answer");
}

Test(iter, a_cname_chain_is_followed_to_its_data)
{
	struct result r;
	bool owned;

	resolve("alias.shop.lab", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(count(&r, DNS_SEC_ANSWER, DNS_T_CNAME, "alias.shop.lab", &owned), 1);
	cr_assert(owned);
	cr_assert_eq(count(&r, DNS_SEC_ANSWER, DNS_T_A, "www.shop.lab", &owned), 1);
	cr_assert(owned, "the target's address");
}

Test(iter, nxdomain_comes_with_the_zones_soa)
{
	struct result r;
	bool owned;

	resolve("nope.shop.lab", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(count(&r, DNS_SEC_AUTHORITY, DNS_T_SOA, "shop.lab", &owned), 1);
	cr_assert(owned, "the SOA of the zone that said so");
}

Test(iter, data_outside_the_answering_zone_is_never_believed)
{
	struct result r;
	bool owned;

	resolve("poison.shop.lab", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(count(&r, DNS_SEC_ANSWER, DNS_T_A, "poison.shop.lab", &owned), 1);
	count(&r, DNS_SEC_ANSWER, DNS_T_A, "www.bank.secure", &owned);
	cr_assert(!owned, "shop.lab's record for www.bank.secure is not passed on");
	int root0 = atomic_load(&auth.asked[ROOT]);
	resolve("www.bank.secure", DNS_T_A, &r);
	cr_assert_eq(r.rcode, DNS_R_NXDOMAIN, "the root says secure. does not exist");
	cr_assert_gt(atomic_load(&auth.asked[ROOT]), root0, "asked, not taken from the cache");
}

/* --- control on N threads (control/pool.h) ----------------------------------- */

#define POOL_N 4

static struct ctl_pool *pool;
static struct ctl_pool_shard shards[POOL_N];
static pthread_t loop_thread;

static void pool_setup(void)
{
	int e = 0;

	setup();
	loop_thread = pthread_self();
	shards[0] = (struct ctl_pool_shard){ loop, up, deleg, it };
	for (int i = 1; i < POOL_N; i++) {
		struct ctl_pool_shard *s = &shards[i];

		new_iter(&s->loop, &s->up, &s->deleg, &s->it);
		cr_assert_eq(up_share_ports(s->up, up), 0);
	}
	pool = ctl_pool_new(shards, POOL_N, &e);
	cr_assert(pool, "%s", ctl_strerror(e));
	cr_assert_eq(ctl_pool_start(pool), 0);
}

static void pool_teardown(void)
{
	ctl_pool_free(pool);
	teardown();
}

TestSuite(pool, .init = pool_setup, .fini = pool_teardown, .timeout = 30);

struct pool_result {
	int done, rcode;
	bool on_loop_thread, msg;
};

static void on_pool_done(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct pool_result *r = arg;

	(void)stale;
	r->done++;
	r->rcode = rcode;
	r->msg = msg && len;
	r->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
}

static void run_until(const struct pool_result *r, int n)
{
	for (int k = 0; k < 1000; k++) {
		int all = 1;
		for (int i = 0; i < n; i++)
			all &= r[i].done > 0;
		if (all)
			return;
		ctl_loop_run_once(loop, 10);
	}
}

/* n questions, PREFIXi.shop.lab A, through the loop's thread's iterator. */
static void ask(struct pool_result *r, int n, const char *prefix)
{
	char name[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d.shop.lab", prefix, i);
		cr_assert_eq(ctl_iter_resolve(it, nm(name), DNS_T_A, DNS_C_IN, 0, on_pool_done,
					      &r[i]), 0);
	}
}

/* What each thread's iterator was given. */
static void requests_of(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	uint64_t *req = arg;
	struct ctl_iter_stats st;

	ctl_iter_get_stats(s->it, &st);
	req[i] = st.requests;
}

Test(pool, questions_spread_over_the_threads_and_come_back_on_the_loops)
{
	enum { N = 64 };
	static struct pool_result r[N];
	uint64_t req[POOL_N] = { 0 };
	struct ctl_pool_sums sums;

	ask(r, N, "n");
	run_until(r, N);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].done, 1, "n%d answered once", i);
		cr_assert_eq(r[i].rcode, DNS_R_NXDOMAIN, "n%d: the authority's NXDOMAIN", i);
		cr_assert(r[i].on_loop_thread, "n%d's callback on the loop's thread", i);
	}
	ctl_pool_each(pool, requests_of, req);
	uint64_t total = 0;
	for (int i = 0; i < POOL_N; i++) {
		/* 64 names over 4 threads: one left empty 1 time in 10^7 */
		cr_assert_gt(req[i], 0, "thread %d resolved some", i);
		total += req[i];
	}
	cr_assert_eq(total, N, "each question resolved once, by one thread");
	ctl_pool_sum(pool, &sums);
	cr_assert_eq(sums.iter.requests, N);
	cr_assert_eq(sums.pool.routed, N - req[0], "the others' questions routed");
	cr_assert_eq(sums.iter.outstanding, 0);
}

Test(pool, one_question_however_spelled_is_one_threads_and_asked_once)
{
	/* eight spellings (RFC 4343: one name): hashed as they are, they
	 * would all meet in one thread 1 time in 4^7 */
	static const char *const spell[] = { "www.shop.lab", "WWW.shop.lab", "www.SHOP.lab",
					     "wWw.ShOp.LaB", "www.shop.LAB", "Www.shop.lab",
					     "wWW.sHOP.lAB", "WWW.SHOP.LAB" };
	static struct pool_result r[8];
	struct ctl_pool_sums sums;

	for (int i = 0; i < 8; i++)
		cr_assert_eq(ctl_iter_resolve(it, nm(spell[i]), DNS_T_A, DNS_C_IN, 0,
					      on_pool_done, &r[i]), 0);
	run_until(r, 8);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(r[i].done, 1);
		cr_assert_eq(r[i].rcode, DNS_R_NOERROR);
	}
	ctl_pool_sum(pool, &sums);
	cr_assert_eq(sums.iter.requests, 1, "one resolution for the 8 (%llu)",
		     (unsigned long long)sums.iter.requests);
	cr_assert_eq(atomic_load(&auth.asked[SHOP]), 1, "the authority asked once for all 8");
}

/* Resolutions the threads other than the loop's have in progress. */
static void others_outstanding(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	uint64_t *n = arg;
	struct ctl_iter_stats st;

	ctl_iter_get_stats(s->it, &st);
	if (i)
		*n += st.outstanding;
}

/* A fence (new trust anchors): what the other threads answered before it
 * and the loop's thread has not handed out yet ends SERVFAIL, with no
 * message; the loop's thread's own questions are answered as ever, and so
 * is every question asked after the fence. */
Test(pool, answers_from_before_a_fence_end_servfail)
{
	enum { N = 24 };
	static struct pool_result r[N], after[N];
	struct ctl_pool_sums sums;
	uint64_t out = 1;

	ask(r, N, "f");
	/* the other threads answer meanwhile (the loop's thread waits) */
	for (int k = 0; k < 1000 && out; k++) {
		usleep(10 * 1000);
		out = 0;
		ctl_pool_each(pool, others_outstanding, &out);
	}
	cr_assert_eq(out, 0, "the other threads have answered");
	ctl_pool_all(pool, NULL, NULL, NULL, true);
	run_until(r, N);
	ctl_pool_sum(pool, &sums);
	unsigned fenced = 0;
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].done, 1);
		if (r[i].rcode == DNS_R_SERVFAIL && !r[i].msg)
			fenced++;
		else
			cr_assert_eq(r[i].rcode, DNS_R_NXDOMAIN, "f%d", i);
	}
	cr_assert_gt(sums.pool.routed, 0);
	cr_assert_eq(fenced, sums.pool.routed, "every answer from another thread fenced off");
	/* after it: every thread's answers come through */
	ask(after, N, "g");
	run_until(after, N);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(after[i].done, 1);
		cr_assert(after[i].rcode == DNS_R_NXDOMAIN && after[i].msg, "g%d after the fence", i);
	}
}

/* Freed with questions in every thread's iterator: no callback, nothing
 * left behind (the sanitizer build's leak check). */
Test(pool, freed_with_questions_outstanding)
{
	static struct pool_result r[16];

	ask(r, 16, "gone");
	ctl_pool_free(pool);
	pool = NULL;
	for (int i = 0; i < 16; i++)
		cr_assert_eq(r[i].done, 0, "no callback after the pool is gone");
}
