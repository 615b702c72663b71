/*
 * tests/control/stress_pool.c: control on N threads (control/pool.h) under
 * load, for the release, ASan and ThreadSanitizer builds (a plain program:
 * Criterion's runner does not survive TSan). A scripted root on 127.53.0.1
 * (a thread of this process, a port the kernel picks) answers every
 * question itself: names under pos. with an A record (TTL 1 to 4 s),
 * every other name NXDOMAIN with the root's SOA, and 1 question in 50 not
 * at all (a timeout, then another try). The loop's thread keeps up to 200
 * questions outstanding over 20 000 names (so they coalesce, hit the cache
 * and expire; each iterator takes 48 at a time, so some are refused), and every 20 ms does what the operator's verbs and the
 * main loop do meanwhile: every thread's counters summed, a flush of one
 * name's delegation and keys in every thread, the cache's max-ttl lowered
 * (1 time in 10) and the cache trimmed, the iterators' configuration set
 * again, and 1 time in 5 all that with every thread held at once behind a
 * fence, the cache emptied meanwhile (as new trust anchors do).
 *
 * Exit 0 when every question was answered once, on the loop's thread,
 * with the rcode its name calls for, and every thread resolved some.
 *
 * Usage: stress_pool [SECONDS] [THREADS]   (default 2 s, 2 threads: the
 * loop's and one more; at most 8)
 */
#define _LGPL_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

#define NAMES 20000
#define OUTSTANDING 200
#define THREADS_MAX 8

static int auth_fd;
static uint16_t auth_port;
static int stop_auth; /* atomic */
static pthread_t loop_thread, auth_thread;

/* A thread's own pseudo-random numbers (xorshift). */
static unsigned next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned)(*s >> 33);
}

static uint64_t loop_rand = 0x9e3779b97f4a7c15ull, auth_rand = 0xd1b54a32d192ed03ull;

static void die(const char *what)
{
	fprintf(stderr, "stress_pool: %s\n", what);
	exit(1);
}

static bool positive(int i)
{
	return i % 3 == 0;
}

static void name_of(int i, char *s, size_t n)
{
	snprintf(s, n, positive(i) ? "n%d.pos" : "n%d.neg", i);
}

/* --- the scripted root ------------------------------------------------------- */

static void answer(const struct dns_msg *m, struct dns_builder *b)
{
	uint8_t rd[300];
	size_t n = (size_t)dns_name_from_str("a.root", rd);
	uint8_t pos[DNS_NAME_MAX];

	dns_name_from_str("pos", pos);
	b->flags |= DNS_F_AA;
	if (m->qname[0] == 0 && m->qtype == DNS_T_NS) {
		dns_builder_rr(b, DNS_SEC_ANSWER, m->qname, DNS_T_NS, DNS_C_IN, 3600, rd, n);
		uint8_t a[4];
		inet_pton(AF_INET, "127.53.0.1", a);
		dns_builder_rr(b, DNS_SEC_ADDITIONAL, rd, DNS_T_A, DNS_C_IN, 3600, a, 4);
		return;
	}
	uint8_t lower[DNS_NAME_MAX];
	dns_name_copy_lower(lower, m->qname);
	if (dns_name_is_subdomain(lower, pos) && m->qtype == DNS_T_A) {
		uint8_t a[4] = { 198, 18, 0, (uint8_t)(lower[1]) };
		dns_builder_rr(b, DNS_SEC_ANSWER, m->qname, DNS_T_A, DNS_C_IN,
			       1 + next_rand(&auth_rand) % 4, a, 4);
		return;
	}
	/* the root's SOA */
	n += (size_t)dns_name_from_str("hostmaster.invalid", rd + n);
	for (int i = 0; i < 5; i++)
		dns_put32(rd + n + 4 * i, i == 4 ? 2u : 3600u);
	b->flags |= DNS_R_NXDOMAIN;
	dns_builder_rr(b, DNS_SEC_AUTHORITY, (const uint8_t *)"", DNS_T_SOA, DNS_C_IN, 2, rd,
		       n + 20);
}

static void *auth_main(void *arg)
{
	struct pollfd p = { .fd = auth_fd, .events = POLLIN };

	(void)arg;
	while (!__atomic_load_n(&stop_auth, __ATOMIC_ACQUIRE)) {
		uint8_t in[1500], out[1500];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct dns_msg m;
		struct dns_builder b;

		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t n = recvfrom(auth_fd, in, sizeof(in), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n <= 0 || dns_msg_parse(&m, in, (size_t)n) ||
		    m.hdr.count[DNS_SEC_QUESTION] != 1)
			continue;
		if (next_rand(&auth_rand) % 50 == 0)
			continue; /* silent: the iterator's timeout and retry */
		dns_builder_init(&b, out, sizeof(out), m.hdr.id, DNS_F_QR);
		dns_builder_question(&b, m.qname, m.qtype, m.qclass);
		answer(&m, &b);
		size_t len = dns_builder_finish(&b);
		sendto(auth_fd, out, len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void auth_start(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	inet_pton(AF_INET, "127.53.0.1", &sin.sin_addr);
	auth_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (auth_fd < 0 || bind(auth_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(auth_fd, (struct sockaddr *)&sin, &sl) < 0)
		die("no socket on 127.53.0.1");
	auth_port = ntohs(sin.sin_port);
	if (pthread_create(&auth_thread, NULL, auth_main, NULL))
		die("no thread");
}

/* --- the resolver ------------------------------------------------------------- */

struct ask {
	int name;
	bool out;	/* asked, not answered yet */
};

static struct ask asks[OUTSTANDING];
static uint64_t asked, answered, wrong;

static void on_done(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct ask *a = arg;

	(void)msg;
	(void)len;
	(void)stale;
	if (!a->out || !pthread_equal(pthread_self(), loop_thread))
		die("a callback twice, or off the loop's thread");
	a->out = false;
	answered++;
	/* a SERVFAIL: every try of a question timed out (1 in 50 each) */
	if (rcode != DNS_R_SERVFAIL &&
	    rcode != (positive(a->name) ? DNS_R_NOERROR : DNS_R_NXDOMAIN))
		wrong++;
}

static void resolve_one(struct ctl_iter *it, struct ask *a)
{
	char s[32];
	uint8_t name[DNS_NAME_MAX];

	a->name = (int)(next_rand(&loop_rand) % NAMES);
	name_of(a->name, s, sizeof(s));
	dns_name_from_str(s, name);
	/* the same question in other spellings (0x20): one thread's */
	for (size_t i = 1; i < dns_name_len(name); i++)
		if (name[i] >= 'a' && name[i] <= 'z' && next_rand(&loop_rand) % 2)
			name[i] -= 32;
	a->out = true;
	if (ctl_iter_resolve(it, name, DNS_T_A, DNS_C_IN, 0, on_done, a) != 0)
		a->out = false; /* refused at once: no callback */
	else
		asked++;
}

struct verbs {
	struct ctl_iter_config *ic;
	uint8_t name[DNS_NAME_MAX];
	uint64_t requests[THREADS_MAX];
};

static void verb_one(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct verbs *v = arg;
	struct ctl_iter_stats st;

	ctl_deleg_flush(s->deleg, v->name, false);
	ctl_iter_flush(s->it, v->name, false);
	ctl_iter_set_config(s->it, v->ic);
	ctl_iter_get_stats(s->it, &st);
	v->requests[i] = st.requests;
}

/* A fence's companion (new trust anchors: reload.c): control's cache
 * emptied of what was validated, every thread held still. */
static struct cache *the_cache;

static void flush_validated(void *arg)
{
	(void)arg;
	ctl_iter_cache_lock();
	cache_flush_epoch(the_cache);
	ctl_iter_cache_unlock();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	static const char hints[] = ". 3600000 NS a.root.\na.root. 3600000 A 127.53.0.1\n";
	static struct ctl_pool_shard shards[THREADS_MAX];
	struct ctl_referral h;
	struct up_config uc;
	struct cache_config cc;
	static struct ctl_iter_config ic;
	char err[256];
	int e = 0;

	if (!seconds || seconds > 600 || threads < 1 || threads > THREADS_MAX)
		die("usage: stress_pool [SECONDS 1..600] [THREADS 1..8]");
	loop_rand ^= (uint64_t)time(NULL);
	loop_thread = pthread_self();
	urcu_qsbr_register_thread();
	auth_start();
	if (ctl_hints_parse(hints, sizeof(hints) - 1, "hints", &h, err, sizeof(err)))
		die(err);
	up_config_default(&uc);
	uc.ipv6 = false;
	uc.max_queries = 1024;
	inet_pton(AF_INET, "127.0.0.1", &uc.src4.sin_addr);
	cache_config_default(&cc);
	cc.max_bytes = 1 << 20; /* small: evictions too */
	struct cache *cache = the_cache = cache_new(&cc);
	ctl_iter_config_default(&ic);
	ic.server_port = auth_port;
	ic.timeout_ms = 100;
	ic.qname_min = 0; /* one query a question: the root answers all */
	ic.max_requests = 48; /* fewer than asked: some refused, by another
				 thread too (SERVFAIL, no message, later) */
	if (!cache)
		die("no cache");
	for (unsigned i = 0; i < threads; i++) {
		struct ctl_pool_shard *s = &shards[i];
		s->loop = ctl_loop_new(NULL);
		s->up = s->loop ? up_new(s->loop, &uc, &e) : NULL;
		s->deleg = ctl_deleg_table_new(0, 86400);
		if (!s->up || !s->deleg || ctl_deleg_set_hints(s->deleg, &h, ctl_iter_now()) ||
		    (i && up_share_ports(s->up, shards[0].up)) ||
		    !(s->it = ctl_iter_new(s->loop, s->up, cache, s->deleg, &ic)))
			die("no iterator");
	}
	struct ctl_pool *pool = ctl_pool_new(shards, threads, &e);
	if (!pool || ctl_pool_start(pool))
		die("no pool");

	struct ctl_iter *it = shards[0].it;
	struct verbs v = { .ic = &ic };
	uint64_t end = now_ms() + seconds * 1000ull, next_verb = 0, trimmed = 0, verbs = 0;
	dns_name_from_str("pos", v.name);
	while (now_ms() < end) {
		for (int i = 0; i < OUTSTANDING; i++)
			if (!asks[i].out)
				resolve_one(it, &asks[i]);
		if (ctl_loop_run_once(shards[0].loop, 10) < 0)
			die("the loop failed");
		cache_reader_quiescent();
		if (now_ms() >= next_verb) {
			struct ctl_pool_sums sums;
			uint64_t removed = 0;
			ctl_pool_sum(pool, &sums);
			/* every fifth time all threads at once, behind a fence
			 * (answers on their way back end SERVFAIL) */
			if (verbs % 5 == 4)
				ctl_pool_all(pool, verb_one, flush_validated, &v, true);
			else
				ctl_pool_each(pool, verb_one, &v);
			ctl_iter_cache_lock();
			/* a reload's lowered max-ttl, every tenth time: trims */
			cc.max_ttl = ++verbs % 10 ? 86400 : 1;
			cache_set_limits(cache, &cc);
			cache_trim(cache, ctl_iter_now(), 4096, &removed);
			ctl_iter_cache_unlock();
			trimmed += removed;
			next_verb = now_ms() + 20;
		}
		if (ctl_pool_failed(pool))
			die("a thread's loop failed");
	}
	/* what is still out gets no callback once the pool is gone */
	struct ctl_pool_sums sums;
	ctl_pool_sum(pool, &sums);
	ctl_pool_each(pool, verb_one, &v);
	ctl_pool_free(pool);
	unsigned out = 0;
	for (int i = 0; i < OUTSTANDING; i++)
		out += asks[i].out;
	for (unsigned i = 1; i < threads; i++)
		if (!v.requests[i])
			die("a thread resolved nothing");
	if (wrong)
		die("an answer with the wrong rcode");
	/* 200 outstanding over threads of 48 each: some refused */
	if (threads > 1 && threads * 48 < OUTSTANDING && !sums.pool.refused)
		die("no question refused by another thread");
	if (answered + out != asked)
		die("a question answered twice or never");
	if (!answered)
		die("nothing answered");
	printf("stress_pool: %u threads, %u s: %llu questions, %llu answered (%llu routed to other "
	       "threads, %llu refused there, %llu coalesced, %llu upstream queries, %llu "
	       "timeouts), %llu cache entries trimmed\n",
	       threads, seconds, (unsigned long long)asked, (unsigned long long)answered,
	       (unsigned long long)sums.pool.routed, (unsigned long long)sums.pool.refused,
	       (unsigned long long)sums.iter.coalesced,
	       (unsigned long long)sums.iter.upstream, (unsigned long long)sums.iter.timeouts,
	       (unsigned long long)trimmed);
	__atomic_store_n(&stop_auth, 1, __ATOMIC_RELEASE);
	pthread_join(auth_thread, NULL);
	ctl_iter_free(it);
	up_free(shards[0].up);
	ctl_deleg_table_free(shards[0].deleg);
	ctl_loop_free(shards[0].loop);
	cache_free(cache);
	urcu_qsbr_unregister_thread();
	close(auth_fd);
	return 0;
}
