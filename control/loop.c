/*
 * control/loop.c: epoll set plus a binary min-heap of timers. Control
 * process: each loop is one thread's (control/pool.h runs one per control
 * thread); blocks only in epoll_wait.
 *
 * Invariants: watch[fd].gen changes every time fd is watched anew or
 * unwatched, and every epoll event carries the generation it was registered
 * with, so an event collected before an unwatch (or before the number was
 * reused) is recognised as stale and dropped. heap[i]->heap_idx == i for
 * every armed timer, and heap[(i - 1) / 2]->deadline_ms <= heap[i]->deadline_ms.
 */
#include "control/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control/err.h"
#include "shm/clock.h"

#define EVENTS_MAX 256		/* epoll events taken per epoll_wait */
#define EVENT_ROUNDS 16		/* epoll_waits per run while they come back full */
#define WATCH_FD_MAX (1u << 20)	/* descriptors beyond this are refused */

struct watch {
	ctl_fd_cb cb;
	void *arg;
	uint32_t gen;
	bool on;
};

struct ctl_loop {
	int epfd;
	struct watch *watch;
	uint32_t nwatch;	/* entries in watch[] */
	struct ctl_timer **heap;
	uint32_t nheap, capheap;
	ctl_loop_idle_cb idle;	/* around the blocking wait and between
				   callbacks; NULL: none */
	void *idle_arg;
};

void ctl_loop_set_idle(struct ctl_loop *l, ctl_loop_idle_cb fn, void *arg)
{
	l->idle = fn;
	l->idle_arg = arg;
}

uint64_t ctl_now_us(void)
{
	return shm_clock_us();
}

uint64_t ctl_now_ms(void)
{
	return shm_clock_ms();
}

struct ctl_loop *ctl_loop_new(int *err)
{
	struct ctl_loop *l = calloc(1, sizeof(*l));
	int e = CTL_E_NOMEM;

	if (l && (l->epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0)
		return l;
	if (l) {
		int saved = errno;
		free(l);
		errno = saved;
		e = CTL_E_SYSTEM;
	}
	if (err)
		*err = e;
	return NULL;
}

void ctl_loop_free(struct ctl_loop *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->nheap; i++)
		l->heap[i]->heap_idx = CTL_TIMER_IDLE;
	close(l->epfd);
	free(l->watch);
	free(l->heap);
	free(l);
}

/* ---- timers ---- */

static void heap_set(struct ctl_loop *l, uint32_t i, struct ctl_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct ctl_loop *l, uint32_t i)
{
	struct ctl_timer *t = l->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (l->heap[p]->deadline_ms <= t->deadline_ms)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void sift_down(struct ctl_loop *l, uint32_t i)
{
	struct ctl_timer *t = l->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap &&
		    l->heap[c + 1]->deadline_ms < l->heap[c]->deadline_ms)
			c++;
		if (t->deadline_ms <= l->heap[c]->deadline_ms)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void ctl_timer_cancel(struct ctl_loop *l, struct ctl_timer *t)
{
	uint32_t i = t->heap_idx;

	if (i == CTL_TIMER_IDLE)
		return;
	if (i >= l->nheap || l->heap[i] != t)
		abort(); /* a timer of another loop, or memory corruption */
	t->heap_idx = CTL_TIMER_IDLE;
	l->nheap--;
	if (i == l->nheap)
		return;
	struct ctl_timer *last = l->heap[l->nheap];
	heap_set(l, i, last);
	if (i > 0 && l->heap[(i - 1) / 2]->deadline_ms > last->deadline_ms)
		sift_up(l, i);
	else
		sift_down(l, i);
}

int ctl_timer_add(struct ctl_loop *l, struct ctl_timer *t, uint32_t delay_ms,
		 ctl_timer_cb cb, void *arg)
{
	ctl_timer_cancel(l, t);
	if (l->nheap == l->capheap) {
		uint32_t cap = l->capheap ? 2 * l->capheap : 64;
		struct ctl_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return CTL_E_NOMEM;
		l->heap = h;
		l->capheap = cap;
	}
	t->deadline_ms = ctl_now_ms() + delay_ms;
	t->cb = cb;
	t->arg = arg;
	heap_set(l, l->nheap++, t);
	sift_up(l, l->nheap - 1);
	return 0;
}

/*
 * Runs the timers due at now. Bounded by the number armed on entry, so that
 * a callback re-arming itself with a zero delay cannot keep us here.
 */
static int run_timers(struct ctl_loop *l, uint64_t now)
{
	uint32_t budget = l->nheap;
	int ran = 0;

	while (budget-- && l->nheap && l->heap[0]->deadline_ms <= now) {
		struct ctl_timer *t = l->heap[0];
		ctl_timer_cancel(l, t);
		t->cb(l, t->arg);
		ran++;
		if (l->idle)
			l->idle(l->idle_arg, CTL_LOOP_BETWEEN);
	}
	return ran;
}

/* ---- descriptors ---- */

int ctl_loop_watch(struct ctl_loop *l, int fd, uint32_t events, ctl_fd_cb cb,
		  void *arg)
{
	struct epoll_event ev = { 0 };
	int op;

	if (fd < 0 || (uint32_t)fd >= WATCH_FD_MAX || !cb)
		return CTL_E_INVAL;
	if ((uint32_t)fd >= l->nwatch) {
		uint32_t n = l->nwatch ? l->nwatch : 256;
		while (n <= (uint32_t)fd)
			n *= 2;
		struct watch *w = realloc(l->watch, n * sizeof(*w));
		if (!w)
			return CTL_E_NOMEM;
		memset(w + l->nwatch, 0, (n - l->nwatch) * sizeof(*w));
		l->watch = w;
		l->nwatch = n;
	}
	struct watch *w = &l->watch[fd];
	op = w->on ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (!w->on)
		w->gen++;
	ev.events = events;
	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return CTL_E_SYSTEM;
	w->cb = cb;
	w->arg = arg;
	w->on = true;
	return 0;
}

/* fd's watch ends (its events still queued are stale); false when it had
 * none. */
static bool watch_off(struct ctl_loop *l, int fd)
{
	if (fd < 0 || (uint32_t)fd >= l->nwatch || !l->watch[fd].on)
		return false;
	l->watch[fd].on = false;
	l->watch[fd].gen++;
	return true;
}

void ctl_loop_unwatch(struct ctl_loop *l, int fd)
{
	if (watch_off(l, fd))
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void ctl_loop_close(struct ctl_loop *l, int fd)
{
	if (fd < 0)
		return;
	watch_off(l, fd);
	close(fd);
}

int ctl_loop_run_once(struct ctl_loop *l, uint32_t cap_ms)
{
	struct epoll_event ev[EVENTS_MAX];
	uint64_t now = ctl_now_ms();
	int timeout = (int)(cap_ms > INT32_MAX ? INT32_MAX : cap_ms);
	int n, ran = 0;

	if (l->nheap) {
		uint64_t d = l->heap[0]->deadline_ms;
		uint64_t wait = d > now ? d - now : 0;
		if (wait < (uint64_t)timeout)
			timeout = (int)wait;
	}
	/* Every ready descriptor before the timers (up to EVENT_ROUNDS full
	 * sets): a timer that takes in new work (the dataplane's misses) must
	 * not starve the replies to the work already out. */
	for (int round = 0; round < EVENT_ROUNDS; round++) {
		bool block = !round && l->idle;
		if (block)
			l->idle(l->idle_arg, CTL_LOOP_WAIT);
		n = epoll_wait(l->epfd, ev, EVENTS_MAX, round ? 0 : timeout);
		if (block) {
			int saved = errno;
			l->idle(l->idle_arg, CTL_LOOP_WOKE);
			errno = saved;
		}
		if (n < 0 && errno != EINTR)
			return CTL_E_SYSTEM;
		if (n < 0 && !round)
			return 0; /* a signal before anything was ready */
		if (n < 0)
			break; /* one after: the timers still run */
		for (int i = 0; i < n; i++) {
			uint32_t fd = (uint32_t)ev[i].data.u64;
			uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
			if (fd >= l->nwatch)
				continue;
			struct watch *w = &l->watch[fd];
			if (!w->on || w->gen != gen)
				continue; /* unwatched by an earlier callback */
			w->cb(l, (int)fd, ev[i].events, w->arg);
			ran++;
			if (l->idle)
				l->idle(l->idle_arg, CTL_LOOP_BETWEEN);
		}
		if (n < EVENTS_MAX)
			break;
	}
	return ran + run_timers(l, ctl_now_ms());
}
