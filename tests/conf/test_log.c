/*
 * tests/conf/test_log.c: the messages engine both programs write through,
 * on stderr: the program's name before each line, the level filters (and
 * set-log-level's out-of-range level is ignored), a place's repeated
 * warnings are limited and the next line after the window says how many
 * were not written, an unknown target falls back to stderr, the high-volume
 * budget, and the writer thread (the dataplane's): the caller never waits
 * on a blocked target, a full queue drops and counts, the lines come out
 * in order. (syslog and the journal: tests/control/test-log.)
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "conf/log.h"
#include "tests/conf/capture.h"

TestSuite(log, .init = capture_setup, .fini = capture_teardown);

Test(log, lines_below_the_level_are_not_written)
{
	cfg_log_open("bailiwick-dataplane");
	cfg_log(CFG_LOG_INFO, "before %s", "configure"); /* stderr at info */
	cfg_log_configure(CFG_LOG_WARNING, CFG_LOG_STDERR);
	cfg_log(CFG_LOG_ERR, "one %d", 1);
	cfg_log(CFG_LOG_WARNING, "two");
	cfg_log(CFG_LOG_NOTICE, "three");
	cfg_log(CFG_LOG_INFO, "four");
	cr_assert_not(cfg_log_on(CFG_LOG_INFO));
	cr_assert(cfg_log_on(CFG_LOG_WARNING));
	cfg_log_set_level(CFG_LOG_DEBUG);
	cfg_log(CFG_LOG_DEBUG, "five");
	cfg_log_set_level(99); /* not a level: ignored */
	cr_assert_eq(cfg_log_get_level(), CFG_LOG_DEBUG);
	cr_assert_str_eq(captured(), "bailiwick-dataplane: before configure\n"
				    "bailiwick-dataplane: one 1\nbailiwick-dataplane: two\n"
				    "bailiwick-dataplane: five\n");
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_eq(st.messages, 4);
}

Test(log, out_of_range_settings_fall_back_to_info_on_stderr)
{
	cfg_log_open("bailiwick-control");
	cfg_log_configure(CFG_LOG_LEVELS, 77);
	cr_assert_eq(cfg_log_get_level(), CFG_LOG_INFO);
	cr_assert_eq(cfg_log_get_target(), CFG_LOG_STDERR);
	cfg_log(CFG_LOG_DEBUG, "no");
	cfg_log(CFG_LOG_INFO, "yes");
	cr_assert_str_eq(captured(), "bailiwick-control: yes\n");
}

Test(log, a_places_repeats_are_limited_and_then_counted)
{
	cfg_log_open("bailiwick-control");
	cfg_log_configure(CFG_LOG_INFO, CFG_LOG_STDERR);
	struct cfg_log_limit lim = { 0 };
	for (unsigned i = 0; i < 25; i++)
		cfg_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", i);
	const char *w = captured();
	cr_assert_eq(capture_count(w, "failed"), CFG_LOG_LIMIT_N, "%s", w);
	cr_assert(strstr(w, "zone 9 failed") && !strstr(w, "zone 10 failed"));
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_eq(st.suppressed, 15);
	/* below the level: neither written nor counted */
	cfg_log_limited(&lim, CFG_LOG_DEBUG, "zone %u failed", 99u);
	cfg_log_get_stats(&st);
	cr_assert_eq(st.suppressed, 15);
	/* the next window: the count first */
	lim.window_ms = cfg_log_now_ms() - CFG_LOG_LIMIT_MS;
	cfg_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", 25u);
	cr_assert(strstr(captured(),
			 "bailiwick-control: (15 more lines from here were not logged) zone 25 failed\n"),
		  "%s", captured());
	/* each place has its own */
	CFG_LOG_LIMITED(CFG_LOG_WARNING, "elsewhere");
	cr_assert(strstr(captured(), "bailiwick-control: elsewhere\n"));
}

Test(log, the_high_volume_budget_is_1000_lines_a_second_and_counted)
{
	struct cfg_log_stats st0, st1;
	unsigned ok = 0;

	cfg_log_get_stats(&st0);
	uint64_t s0 = cfg_log_now_ms() / 1000;
	for (unsigned i = 0; i < 1500; i++)
		ok += cfg_log_busy_ok();
	cfg_log_get_stats(&st1);
	if (cfg_log_now_ms() / 1000 == s0) { /* (not across a second's edge) */
		cr_assert_eq(ok, CFG_LOG_BUSY_PER_S);
		cr_assert_eq(st1.busy_dropped - st0.busy_dropped, 1500 - CFG_LOG_BUSY_PER_S);
	}
	cr_assert_leq(ok, 2 * CFG_LOG_BUSY_PER_S);
}

static int pipe_fd[2];
static char drained[1 << 20];
static size_t drained_len;

static void *drain(void *arg)
{
	ssize_t n;

	(void)arg;
	while ((n = read(pipe_fd[0], drained + drained_len,
			 sizeof(drained) - 1 - drained_len)) > 0)
		drained_len += (size_t)n;
	return NULL;
}

/* The dataplane's way: a writer thread. stderr is a pipe nobody reads at
 * first: the caller does not wait, the queue takes CFG_LOG_QUEUE lines
 * and counts the rest; once the pipe is read, every queued line comes out,
 * in order, and stop returns. */
Test(log, the_writer_thread_never_holds_the_caller_and_keeps_order)
{
	cr_assert_eq(pipe(pipe_fd), 0);
	cr_assert(dup2(pipe_fd[1], STDERR_FILENO) >= 0);
	cfg_log_open("bailiwick-dataplane");
	cfg_log_configure(CFG_LOG_INFO, CFG_LOG_STDERR);
	cr_assert_eq(cfg_log_async_start(), 0);
	char pad[200];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	/* 3000 lines of 230 octets: 690 kB, ten times a pipe's buffer */
	uint64_t t0 = cfg_log_now_ms();
	for (unsigned i = 0; i < 3000; i++)
		cfg_log(CFG_LOG_NOTICE, "line %04u %s", i, pad);
	uint64_t took = cfg_log_now_ms() - t0;
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_gt(st.queue_dropped, 0);
	cr_assert_eq(st.messages + st.queue_dropped, 3000);
	cr_assert_lt(took, 2000, "the caller waited %llu ms", (unsigned long long)took);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, drain, NULL), 0);
	cfg_log_async_stop(10000);
	cfg_log(CFG_LOG_NOTICE, "after stop"); /* written by the caller again */
	close(STDERR_FILENO);
	close(pipe_fd[1]);
	pthread_join(t, NULL);
	drained[drained_len] = 0;
	cr_assert_eq(capture_count(drained, "bailiwick-dataplane: line "), st.messages);
	cr_assert(strstr(drained, "bailiwick-dataplane: line 0000 x"));
	cr_assert(strstr(drained, "bailiwick-dataplane: after stop\n"));
	/* in order: each line's number above the one before */
	int last = -1;
	for (const char *p = drained; (p = strstr(p, ": line ")); p++) {
		int n = atoi(p + 7);
		cr_assert_gt(n, last, "line %d after %d", n, last);
		last = n;
	}
}

/* A stop that times out (the target blocks): the caller still never waits
 * and its later lines still go through the thread; the dropped ones are
 * said once there is room; a later stop writes everything. */
Test(log, a_stop_that_times_out_leaves_the_thread_writing)
{
	cr_assert_eq(pipe(pipe_fd), 0);
	cr_assert(dup2(pipe_fd[1], STDERR_FILENO) >= 0);
	cfg_log_open("bailiwick-dataplane");
	cr_assert_eq(cfg_log_async_start(), 0);
	char pad[500];
	memset(pad, 'y', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (unsigned i = 0; i < 1000; i++) /* 530 kB: the pipe and the queue full */
		cfg_log(CFG_LOG_NOTICE, "early %04u %s", i, pad);
	uint64_t t0 = cfg_log_now_ms();
	cfg_log_async_stop(100);
	uint64_t took = cfg_log_now_ms() - t0;
	cr_assert_lt(took, 1000, "the stop waited %llu ms", (unsigned long long)took);
	t0 = cfg_log_now_ms();
	cfg_log(CFG_LOG_NOTICE, "late line"); /* queued (or dropped), not written here */
	cr_assert_lt(cfg_log_now_ms() - t0, 100);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, drain, NULL), 0);
	usleep(300000); /* the thread empties its queue */
	cfg_log(CFG_LOG_NOTICE, "last line");
	cfg_log_async_stop(10000);
	close(STDERR_FILENO);
	close(pipe_fd[1]);
	pthread_join(t, NULL);
	drained[drained_len] = 0;
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_gt(st.queue_dropped, 0);
	cr_assert(strstr(drained, "lines were not logged: the log queue was full"), "%.300s",
		  drained);
	cr_assert(strstr(drained, "bailiwick-dataplane: last line\n"));
}
