/*
 * control/loop.h: the control process's event loop: one epoll set for file
 * descriptors and one min-heap of millisecond deadlines on CLOCK_MONOTONIC.
 * Control process only; a loop is one thread's: every function here must be
 * called from the thread that runs the loop (or, for a control thread's
 * loop, while control/pool.c holds that thread still), and only ctl_loop_run_once() blocks (in
 * epoll_wait). Callbacks run from ctl_loop_run_once() and may add or remove
 * any watch or timer, their own included.
 *
 * Ownership: the loop owns its epoll descriptor and its tables; watched file
 * descriptors stay the caller's (ctl_loop_unwatch() before close(), or
 * ctl_loop_close()); a timer
 * is a struct ctl_timer in the caller's memory, which must stay valid while
 * the timer is armed (ctl_timer_cancel() before freeing it; a timer is
 * disarmed before its callback runs, so the callback may free it).
 */
#ifndef BW_CONTROL_LOOP_H
#define BW_CONTROL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/err.h"

struct ctl_loop;

/* events: the EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits that fired. */
typedef void (*ctl_fd_cb)(struct ctl_loop *loop, int fd, uint32_t events,
			 void *arg);
typedef void (*ctl_timer_cb)(struct ctl_loop *loop, void *arg);

struct ctl_timer {
	uint64_t deadline_ms;	/* CLOCK_MONOTONIC, milliseconds */
	ctl_timer_cb cb;
	void *arg;
	uint32_t heap_idx;	/* position in the heap; CTL_TIMER_IDLE: not armed */
};
#define CTL_TIMER_IDLE UINT32_MAX

/* A timer that is not armed; ctl_timer_add() may then be called on it. */
static inline void ctl_timer_init(struct ctl_timer *t)
{
	t->heap_idx = CTL_TIMER_IDLE;
	t->cb = NULL;
	t->arg = NULL;
	t->deadline_ms = 0;
}

static inline bool ctl_timer_armed(const struct ctl_timer *t)
{
	return t->heap_idx != CTL_TIMER_IDLE;
}

/* NULL on failure with *err (may be NULL) set: CTL_E_NOMEM, or CTL_E_SYSTEM
 * with epoll_create1's reason in errno. */
struct ctl_loop *ctl_loop_new(int *err);

/* Closes the epoll set; armed timers are forgotten, watched fds left open. */
void ctl_loop_free(struct ctl_loop *loop);

/*
 * Waits at most cap_ms milliseconds (0: poll, no wait) or until the next
 * timer, then runs the callbacks of the descriptors that are ready (all
 * of them first, in up to 16 waits of 256) and of the timers that are
 * due. Returns the number of callbacks run, or CTL_E_SYSTEM (errno: why)
 * when epoll_wait failed (EINTR before anything was ready is returned as
 * 0; a later one still runs the timers).
 */
int ctl_loop_run_once(struct ctl_loop *loop, uint32_t cap_ms);

/*
 * A loop run by a thread of its own lets go of what it holds (control/
 * pool.c: its lock, its RCU reader state) while it sleeps, and between two
 * callbacks when another thread waits for it: fn(arg, CTL_LOOP_WAIT) right
 * before ctl_loop_run_once()'s first wait (the one that may block),
 * fn(arg, CTL_LOOP_WOKE) right after (not around the non-blocking waits
 * that follow a full set), and fn(arg, CTL_LOOP_BETWEEN) after each
 * descriptor's and each timer's callback. NULL: nothing (the default).
 */
enum ctl_loop_idle { CTL_LOOP_WAIT, CTL_LOOP_WOKE, CTL_LOOP_BETWEEN };
typedef void (*ctl_loop_idle_cb)(void *arg, enum ctl_loop_idle what);
void ctl_loop_set_idle(struct ctl_loop *loop, ctl_loop_idle_cb fn, void *arg);

/* The time by the processes' one clock (shm/clock.h: CLOCK_MONOTONIC), in
 * milliseconds and microseconds. */
uint64_t ctl_now_ms(void);
uint64_t ctl_now_us(void);

/*
 * Arms t to fire delay_ms from now (an armed timer is moved). Returns 0 or
 * CTL_E_NOMEM when the heap cannot grow.
 */
int ctl_timer_add(struct ctl_loop *loop, struct ctl_timer *t, uint32_t delay_ms,
		 ctl_timer_cb cb, void *arg);

/* Disarms t; nothing happens when it is not armed. */
void ctl_timer_cancel(struct ctl_loop *loop, struct ctl_timer *t);

/*
 * Watches fd for events (EPOLLIN and/or EPOLLOUT; errors and hang-ups are
 * always reported), level-triggered. A second call for the same fd changes
 * its events, callback and argument. Returns 0, CTL_E_INVAL (fd out of
 * range), CTL_E_NOMEM, or CTL_E_SYSTEM with epoll_ctl's reason in errno.
 */
int ctl_loop_watch(struct ctl_loop *loop, int fd, uint32_t events, ctl_fd_cb cb,
		  void *arg);

/*
 * Stops watching fd. Events of fd already collected by the running
 * ctl_loop_run_once() are not delivered, even when the descriptor number is
 * reused by a new watch in the meantime.
 */
void ctl_loop_unwatch(struct ctl_loop *loop, int fd);

/*
 * ctl_loop_unwatch() and close(fd) in one, without the epoll_ctl() call:
 * closing the last reference drops the descriptor from the epoll set. Only
 * for descriptors that are neither duplicated nor shared with a child (a
 * socket per upstream query); one system call fewer per query.
 */
void ctl_loop_close(struct ctl_loop *loop, int fd);

#endif
