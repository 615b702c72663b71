/*
 * control/pool.c: control on N threads (see pool.h).
 *
 * Two kinds of queue, each a list under a mutex with an eventfd that says
 * "not empty": a shard's inbox (the loop's thread puts questions in, the
 * shard takes them) and the loop's thread's outbox (every shard puts
 * answers and feeds in, the loop's thread takes them). The eventfd is
 * written only by a put onto an empty list, and read by the taker before
 * it takes the whole list, so no put is left unseen and a busy queue costs
 * no system call per item. A question travels as one struct ask, there
 * and back: put in the inbox by the router, handed to the shard's iterator
 * as its callback argument, filled in with the answer, put in the outbox,
 * freed after the caller's callback.
 *
 * Locks, outermost first: the shards' locks (each held by its shard while
 * it dispatches, by ctl_pool_each() to hold it still, all of them in index
 * order by ctl_pool_all()); then any one of the queues' mutexes, the
 * cache's writer lock (ctl_iter_cache_lock()), the source ports' mutex
 * (upstream_ports.c), dnstap's, or the log's (conf/log.c: the line's, then
 * the limiters' inside the line's when stats are read); none of the others
 * is held while another is taken, and nothing is called with a queue's
 * mutex held.
 *
 * A fence (ctl_pool_all(..., true)) moves the pool's epoch while every
 * shard is held: what a shard sent back before it (answers and denials
 * of the trust anchors just replaced) is stale when the loop's thread
 * takes it out of the outbox.
 */
#define _LGPL_SOURCE
#include "control/pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "cache/msgcache.h"
#include "conf/log.h"
#include "control/err.h"
#include "control/rng.h"
#include "control/val.h"
#include "dns/name.h"
#include "dns/wire.h"

#define POOL_WAIT_MS 200	/* a shard's longest wait (its stop flag) */

struct ask {
	struct ask *next;	/* in a queue */
	struct ask *lnext, *lprev; /* in its shard's iterator (live) */
	ctl_iter_cb cb;		/* NULL: a denial feed */
	void *arg;
	struct shard *s;
	uint8_t *msg;		/* the answer or feed (malloc'ed); NULL: none */
	size_t len;
	int rcode;
	uint32_t epoch;		/* its shard's when it was sent back */
	bool refresh, stale;
	uint16_t qtype, qclass;
	unsigned flags;
	uint8_t qname[DNS_NAME_MAX];
};

struct queue {
	pthread_mutex_t mu;
	struct ask *head, **tail;
	uint32_t n;
	int efd;
};

struct shard {
	struct ctl_pool_shard parts;
	struct ctl_pool *pool;
	unsigned idx;
	pthread_t thread;
	bool running;		/* its thread was started and not joined */
	pthread_mutex_t mu;	/* held by the thread but while it waits */
	unsigned want;		/* (atomic) the loop's thread waits for mu */
	bool stop;		/* (atomic) */
	uint32_t epoch;		/* the pool's as of the last fence (mu's) */
	struct queue in;
	struct ask live;	/* sentinel: the asks its iterator holds (its
				   thread's; freed after it is joined) */
};

struct ctl_pool {
	unsigned n;
	struct shard *s;	/* s[0]: the loop's thread's own (no queue) */
	struct queue out;
	uint64_t seed;
	bool failed;		/* (atomic) a shard's loop failed */
	uint32_t epoch;		/* moves with each fence (ctl_pool_all()) */
	ctl_iter_feed_cb feed;
	void *feed_arg;
	size_t feed_max;
	struct ctl_pool_stats st;	/* the loop's thread's */
	uint64_t refused, feeds_lost;	/* (atomic) counted by shards */
};

/* ---- queues ---- */

static int queue_init(struct queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return CTL_E_SYSTEM;
	pthread_mutex_init(&q->mu, NULL);
	return 0;
}

static void queue_wake(struct queue *q)
{
	uint64_t one = 1;

	/* (EAGAIN: the counter is full, so it is set: woken all the same) */
	(void)!write(q->efd, &one, sizeof(one));
}

/* a at q's end; false (a not queued) when q holds cap already (0: no cap). */
static bool queue_put(struct queue *q, struct ask *a, uint32_t cap)
{
	bool was_empty;

	a->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (cap && q->n >= cap) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	was_empty = !q->head;
	*q->tail = a;
	q->tail = &a->next;
	q->n++;
	pthread_mutex_unlock(&q->mu);
	if (was_empty)
		queue_wake(q);
	return true;
}

/* Everything q holds, oldest first (its eventfd read first). */
static struct ask *queue_take(struct queue *q)
{
	uint64_t v;
	struct ask *a;

	(void)!read(q->efd, &v, sizeof(v));
	pthread_mutex_lock(&q->mu);
	a = q->head;
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
	pthread_mutex_unlock(&q->mu);
	return a;
}

static void asks_free(struct ask *a)
{
	while (a) {
		struct ask *next = a->next;
		free(a->msg);
		free(a);
		a = next;
	}
}

static void queue_fini(struct queue *q)
{
	if (q->efd < 0)
		return;
	asks_free(q->head);
	q->head = NULL;
	close(q->efd);
	q->efd = -1;
	pthread_mutex_destroy(&q->mu);
}

/* ---- a shard's side (its thread) ---- */

/* The shard's iterator answered a: a copy back to the loop's thread. */
static void answered(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	struct ask *a = arg;

	a->lprev->lnext = a->lnext;
	a->lnext->lprev = a->lprev;
	a->epoch = a->s->epoch;
	a->rcode = rcode;
	a->stale = stale;
	a->msg = NULL;
	a->len = 0;
	if (msg && len) {
		if ((a->msg = malloc(len))) {
			memcpy(a->msg, msg, len);
			a->len = len;
		} else {
			a->rcode = DNS_R_SERVFAIL; /* no memory: a failure, no message */
			a->stale = false;
		}
	}
	queue_put(&a->s->pool->out, a, 0);
}

/* A validated denial of the shard's: a copy to the loop's thread's feed. */
static void fed(void *arg, const uint8_t *msg, size_t len)
{
	struct shard *s = arg;
	struct ask *a = malloc(sizeof(*a));

	if (a && (a->msg = malloc(len))) {
		memcpy(a->msg, msg, len);
		a->len = len;
		a->cb = NULL;
		a->s = s;
		a->epoch = s->epoch;
		queue_put(&s->pool->out, a, 0);
		return;
	}
	free(a);
	__atomic_add_fetch(&s->pool->feeds_lost, 1, __ATOMIC_RELAXED);
}

/* The shard's inbox: each question to its iterator. */
static void on_inbox(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct shard *s = arg;
	struct ask *a = queue_take(&s->in);

	(void)loop;
	(void)fd;
	(void)events;
	while (a) {
		struct ask *next = a->next;
		struct ctl_iter *it = s->parts.it;
		int rc = a->refresh ? ctl_iter_refresh(it, a->qname, a->qtype, a->qclass,
						       a->flags, answered, a)
				    : ctl_iter_resolve(it, a->qname, a->qtype, a->qclass,
						       a->flags, answered, a);
		if (!rc) {
			a->lnext = s->live.lnext;
			a->lprev = &s->live;
			s->live.lnext->lprev = a;
			s->live.lnext = a;
		} else {
			/* refused (too many outstanding, no memory): the
			 * caller hears SERVFAIL with no message, later */
			__atomic_add_fetch(&s->pool->refused, 1, __ATOMIC_RELAXED);
			a->rcode = DNS_R_SERVFAIL;
			a->msg = NULL;
			a->len = 0;
			a->stale = false;
			a->epoch = s->epoch;
			queue_put(&s->pool->out, a, 0);
		}
		a = next;
	}
}

/* The loop's thread asked for the lock: it goes first (a busy shard would
 * otherwise take it back at once, again and again); the RCU reader state
 * comes back once the lock is ours (a shard held still for a long verb is
 * offline meanwhile, so that no grace period waits for it). */
static void take_back(struct shard *s)
{
	while (__atomic_load_n(&s->want, __ATOMIC_ACQUIRE))
		sched_yield();
	pthread_mutex_lock(&s->mu);
	urcu_qsbr_thread_online();
}

/* Around the loop's blocking wait, and between two callbacks when the
 * loop's thread waits for the shard: the lock and the RCU reader state go
 * (no callback keeps a cache entry past its return). */
static void idle(void *arg, enum ctl_loop_idle what)
{
	struct shard *s = arg;

	switch (what) {
	case CTL_LOOP_BETWEEN:
		if (!__atomic_load_n(&s->want, __ATOMIC_ACQUIRE))
			return;
		/* fall through */
	case CTL_LOOP_WAIT:
		/* a quiescent state first: the cache's (its TSan annotation
		 * with it), then offline until the lock is ours again */
		cache_reader_quiescent();
		urcu_qsbr_thread_offline();
		pthread_mutex_unlock(&s->mu);
		if (what == CTL_LOOP_BETWEEN)
			take_back(s);
		return;
	case CTL_LOOP_WOKE:
		take_back(s);
		return;
	}
}

static void *shard_main(void *arg)
{
	struct shard *s = arg;
	char name[16];

	snprintf(name, sizeof(name), "bw-resolve-%u", s->idx);
	pthread_setname_np(pthread_self(), name);
	urcu_qsbr_register_thread();
	urcu_qsbr_thread_offline(); /* until the lock is ours */
	take_back(s);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (ctl_loop_run_once(s->parts.loop, POOL_WAIT_MS) < 0) {
			cfg_log(CFG_LOG_ERR, "control thread %u: event loop: %s", s->idx,
				strerror(errno));
			__atomic_store_n(&s->pool->failed, true, __ATOMIC_RELEASE);
			break;
		}
		/* entry pointers from this round's lookups are not kept */
		cache_reader_quiescent();
	}
	pthread_mutex_unlock(&s->mu);
	urcu_qsbr_unregister_thread();
	ctl_val_thread_end(); /* its keys and digest context: thread-local */
	return NULL;
}

/* ---- the loop's thread's side ---- */

/* The shard of a question: a seeded hash of the name lower-cased (label
 * lengths are below 'A'), qtype and qclass. */
static unsigned pick(const struct ctl_pool *p, const uint8_t *qname, uint16_t qtype,
		     uint16_t qclass)
{
	uint64_t h = p->seed ^ ((uint64_t)qtype << 17 | (uint64_t)qclass << 1);
	size_t len = dns_name_len(qname);

	for (size_t i = 0; i < len; i++) {
		uint8_t c = qname[i];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (unsigned)(((h >> 32) * p->n) >> 32);
}

static bool route(void *arg, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		  unsigned flags, bool refresh, ctl_iter_cb cb, void *cbarg, int *rc)
{
	struct ctl_pool *p = arg;
	unsigned i = pick(p, qname, qtype, qclass);
	struct ask *a;

	if (!i)
		return false;
	if (!(a = malloc(sizeof(*a)))) {
		*rc = CTL_E_NOMEM;
		return true;
	}
	a->cb = cb;
	a->arg = cbarg;
	a->s = &p->s[i];
	a->msg = NULL;
	a->len = 0;
	a->refresh = refresh;
	a->qtype = qtype;
	a->qclass = qclass;
	a->flags = flags;
	memcpy(a->qname, qname, dns_name_len(qname));
	if (!queue_put(&a->s->in, a, CTL_POOL_INBOX_MAX)) {
		free(a);
		p->st.inbox_full++;
		*rc = CTL_E_FULL;
		return true;
	}
	p->st.routed++;
	*rc = 0;
	return true;
}

/* What the shards sent back: each to its caller. */
static void on_outbox(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_pool *p = arg;
	struct ask *a = queue_take(&p->out);

	(void)loop;
	(void)fd;
	(void)events;
	while (a) {
		struct ask *next = a->next;
		/* sent back before a fence: an answer of the old trust
		 * anchors ends SERVFAIL (as one thread's in-flight
		 * resolutions do), nothing of it kept; a feed is dropped */
		bool stale = a->epoch != p->epoch;
		if (a->cb && stale)
			a->cb(a->arg, DNS_R_SERVFAIL, NULL, 0, false);
		else if (a->cb)
			a->cb(a->arg, a->rcode, a->msg, a->len, a->stale);
		else if (p->feed && !stale)
			p->feed(p->feed_arg, a->msg, a->len);
		free(a->msg);
		free(a);
		a = next;
	}
}

static void hold(struct shard *s)
{
	if (!s->running)
		return;
	__atomic_add_fetch(&s->want, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&s->mu);
	__atomic_sub_fetch(&s->want, 1, __ATOMIC_ACQ_REL);
}

static void let_go(struct shard *s)
{
	if (!s->running)
		return;
	pthread_mutex_unlock(&s->mu);
	/* what was done to it (a timer armed) is seen at once, not after
	 * the wait it is in */
	queue_wake(&s->in);
}

static void each_deleg(void *arg, void (*fn)(void *fnarg, struct ctl_deleg_table *t),
		       void *fnarg)
{
	struct ctl_pool *p = arg;

	for (unsigned i = 1; i < p->n; i++) {
		hold(&p->s[i]);
		fn(fnarg, p->s[i].parts.deleg);
		let_go(&p->s[i]);
	}
}

static void shard_free(struct shard *s)
{
	ctl_iter_free(s->parts.it);
	/* its questions ended without callbacks: what carried them goes */
	while (s->live.lnext && s->live.lnext != &s->live) {
		struct ask *a = s->live.lnext;
		s->live.lnext = a->lnext;
		free(a);
	}
	up_free(s->parts.up);
	ctl_deleg_table_free(s->parts.deleg);
	if (s->in.efd >= 0)
		ctl_loop_unwatch(s->parts.loop, s->in.efd);
	ctl_loop_free(s->parts.loop);
	queue_fini(&s->in);
	pthread_mutex_destroy(&s->mu);
}

struct ctl_pool *ctl_pool_new(const struct ctl_pool_shard *shards, unsigned n, int *err)
{
	struct ctl_pool *p = calloc(1, sizeof(*p));
	int e = CTL_E_NOMEM;

	if (p && !(p->s = calloc(n, sizeof(*p->s)))) {
		free(p);
		p = NULL;
	}
	if (!p) {
		for (unsigned i = 1; i < n; i++) {
			struct shard s = { .parts = shards[i], .in = { .efd = -1 } };
			pthread_mutex_init(&s.mu, NULL);
			shard_free(&s);
		}
		*err = CTL_E_NOMEM;
		return NULL;
	}
	p->n = n;
	p->out.efd = -1;
	for (unsigned i = 0; i < n; i++) {
		p->s[i].parts = shards[i];
		p->s[i].pool = p;
		p->s[i].idx = i;
		p->s[i].in.efd = -1;
		p->s[i].live.lnext = p->s[i].live.lprev = &p->s[i].live;
		pthread_mutex_init(&p->s[i].mu, NULL);
	}
	up_rng_buf(&p->seed, sizeof(p->seed));
	if (n > 1) {
		bool ok = queue_init(&p->out) == 0 &&
			  ctl_loop_watch(shards[0].loop, p->out.efd, EPOLLIN, on_outbox, p) == 0;
		for (unsigned i = 1; ok && i < n; i++) {
			struct shard *s = &p->s[i];
			ok = queue_init(&s->in) == 0 &&
			     ctl_loop_watch(s->parts.loop, s->in.efd, EPOLLIN, on_inbox, s) == 0;
			ctl_loop_set_idle(s->parts.loop, idle, s);
		}
		if (!ok) {
			/* (no eventfd, or epoll_ctl failed: errno says why) */
			e = errno == ENOMEM ? CTL_E_NOMEM : CTL_E_SYSTEM;
			int saved = errno;
			ctl_pool_free(p);
			errno = saved;
			*err = e;
			return NULL;
		}
		struct ctl_iter_router r = { route, each_deleg, p };
		ctl_iter_set_router(shards[0].it, &r);
	}
	return p;
}

int ctl_pool_start(struct ctl_pool *p)
{
	sigset_t mine, was;
	int e = 0;

	/* the signals control handles are the loop's thread's (its wait is
	 * the one they must cut short); a fault's stays with the thread */
	sigemptyset(&mine);
	sigaddset(&mine, SIGINT);
	sigaddset(&mine, SIGTERM);
	sigaddset(&mine, SIGUSR1);
	sigaddset(&mine, SIGHUP);
	sigaddset(&mine, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mine, &was);
	for (unsigned i = 1; i < p->n && !e; i++) {
		struct shard *s = &p->s[i];
		if (!(e = pthread_create(&s->thread, NULL, shard_main, s)))
			s->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	errno = e;
	return e ? CTL_E_SYSTEM : 0;
}

void ctl_pool_free(struct ctl_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 1; i < p->n; i++) {
		struct shard *s = &p->s[i];
		__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
		if (s->in.efd >= 0)
			queue_wake(&s->in);
	}
	for (unsigned i = 1; i < p->n; i++) {
		struct shard *s = &p->s[i];
		if (s->running)
			pthread_join(s->thread, NULL);
		s->running = false;
		shard_free(s);
	}
	if (p->n > 1)
		ctl_iter_set_router(p->s[0].parts.it, NULL);
	if (p->out.efd >= 0)
		ctl_loop_unwatch(p->s[0].parts.loop, p->out.efd);
	queue_fini(&p->out);
	pthread_mutex_destroy(&p->s[0].mu);
	free(p->s);
	free(p);
}

unsigned ctl_pool_threads(const struct ctl_pool *p)
{
	return p->n;
}

bool ctl_pool_failed(const struct ctl_pool *p)
{
	return __atomic_load_n(&p->failed, __ATOMIC_ACQUIRE);
}

void ctl_pool_each(struct ctl_pool *p,
		   void (*fn)(void *arg, unsigned i, const struct ctl_pool_shard *s), void *arg)
{
	for (unsigned i = 0; i < p->n; i++) {
		hold(&p->s[i]);
		fn(arg, i, &p->s[i].parts);
		let_go(&p->s[i]);
	}
}

void ctl_pool_all(struct ctl_pool *p,
		  void (*fn)(void *arg, unsigned i, const struct ctl_pool_shard *s),
		  void (*done)(void *arg), void *arg, bool fence)
{
	/* in index order: the shards take no lock but their own, so no
	 * two holds can wait for each other */
	for (unsigned i = 0; i < p->n; i++)
		hold(&p->s[i]);
	for (unsigned i = 0; fn && i < p->n; i++)
		fn(arg, i, &p->s[i].parts);
	if (fence) {
		p->epoch++;
		for (unsigned i = 0; i < p->n; i++)
			p->s[i].epoch = p->epoch;
	}
	if (done)
		done(arg);
	for (unsigned i = 0; i < p->n; i++)
		let_go(&p->s[i]);
}

static void set_feed(void *arg, unsigned i, const struct ctl_pool_shard *s)
{
	struct ctl_pool *p = arg;

	if (!p->feed)
		ctl_iter_set_feed(s->it, NULL, NULL, 0);
	else if (i)
		ctl_iter_set_feed(s->it, fed, &p->s[i], p->feed_max);
	else
		ctl_iter_set_feed(s->it, p->feed, p->feed_arg, p->feed_max);
}

void ctl_pool_set_feed(struct ctl_pool *p, ctl_iter_feed_cb cb, void *arg, size_t max)
{
	p->feed_max = max;
	p->feed = cb;
	p->feed_arg = arg;
	ctl_pool_each(p, set_feed, p);
}

/* dst += src, field by field: each of these structs is uint64_t's only. */
static void add_u64s(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		d[i] += s[i];
}

#define ADD(dst, src)                                                          \
	do {                                                                   \
		_Static_assert(sizeof(dst) % sizeof(uint64_t) == 0,            \
			       "uint64_t fields only");                        \
		add_u64s(&(dst), &(src), sizeof(dst));                         \
	} while (0)

static void sum_one(void *arg, unsigned i, const struct ctl_pool_shard *sh)
{
	struct ctl_pool_sums *s = arg;
	struct ctl_iter_stats is;
	struct ctl_chain_stats vs;
	struct ctl_infra_stats xs;
	struct up_counters uc;
	struct ctl_deleg_stats ds;

	(void)i;
	ctl_iter_get_stats(sh->it, &is);
	ctl_iter_get_chain_stats(sh->it, &vs);
	ctl_iter_get_infra_stats(sh->it, &xs);
	up_counters_get(sh->up, &uc);
	ctl_deleg_get_stats(sh->deleg, &ds);
	ADD(s->iter, is);
	ADD(s->chain, vs);
	ADD(s->infra, xs);
	ADD(s->up, uc);
	ADD(s->deleg, ds);
	ADD(s->rtt, *up_rtt_hist(sh->up));
	ADD(s->resolve, *ctl_iter_resolve_hist(sh->it));
}

void ctl_pool_sum(struct ctl_pool *p, struct ctl_pool_sums *s)
{
	memset(s, 0, sizeof(*s));
	ctl_pool_each(p, sum_one, s);
	s->pool = p->st;
	s->pool.refused = __atomic_load_n(&p->refused, __ATOMIC_RELAXED);
	s->pool.feeds_lost = __atomic_load_n(&p->feeds_lost, __ATOMIC_RELAXED);
}
