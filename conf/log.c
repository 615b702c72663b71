/*
 * conf/log.c: a program's messages (see log.h). Any thread may log: a line
 * is written (or, with cfg_log_async_start()'s writer thread, which alone
 * then writes and opens and closes syslog's connection, queued) under the
 * mutex, and the limiters' counts are kept under lim_mu. The level
 * and the target are read and set atomically.
 */
#include "conf/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "conf/config.h"

#define LINE_MAX_LEN 1024

struct queued {
	uint8_t level, target;
	char line[LINE_MAX_LEN];
};

static struct {
	const char *ident;
	unsigned level;
	unsigned target;
	bool syslog_open;	/* the writing thread's */
	uint64_t busy_s;	/* the second busy_n counts */
	uint32_t busy_n;
	struct cfg_log_stats st;
	/* the writer thread's queue: while async, lines go to it (after a
	 * stop that timed out too: the thread goes on writing) */
	bool async, stopping, done, cv_ready;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* on CLOCK_MONOTONIC (a wall-clock step does not
				   stretch or cut a stop's wait) */
	unsigned head, n;
	uint64_t unsaid;	/* lines dropped since the last said so */
	struct queued q[CFG_LOG_QUEUE];
} lg = {
	.ident = "bailiwick",
	.level = CFG_LOG_INFO,
	.target = CFG_LOG_STDERR,
	.mu = PTHREAD_MUTEX_INITIALIZER,
};

/* cfg_log_limited()'s limits (the callers' structs) and the busy budget */
static pthread_mutex_t lim_mu = PTHREAD_MUTEX_INITIALIZER;

void cfg_log_open(const char *ident)
{
	lg.ident = ident;
}

void cfg_log_configure(unsigned level, unsigned target)
{
	__atomic_store_n(&lg.level, level < CFG_LOG_LEVELS ? level : CFG_LOG_INFO,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&lg.target,
			 target == CFG_LOG_SYSLOG || target == CFG_LOG_JOURNAL ? target : CFG_LOG_STDERR,
			 __ATOMIC_RELAXED);
}

void cfg_log_set_level(unsigned level)
{
	if (level < CFG_LOG_LEVELS)
		__atomic_store_n(&lg.level, level, __ATOMIC_RELAXED);
}

unsigned cfg_log_get_level(void)
{
	return __atomic_load_n(&lg.level, __ATOMIC_RELAXED);
}

unsigned cfg_log_get_target(void)
{
	return __atomic_load_n(&lg.target, __ATOMIC_RELAXED);
}

bool cfg_log_on(unsigned level)
{
	return level <= __atomic_load_n(&lg.level, __ATOMIC_RELAXED);
}

uint64_t cfg_log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* On the writing thread: line at level to target. */
static void write_line(unsigned level, unsigned target, const char *line)
{
	int prio = LOG_ERR + (int)level; /* enum cfg_log_level's order is syslog's */

	if (target == CFG_LOG_SYSLOG && !lg.syslog_open) {
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	} else if (target != CFG_LOG_SYSLOG && lg.syslog_open) {
		closelog();
		lg.syslog_open = false;
	}
	switch (target) {
	case CFG_LOG_SYSLOG:
		syslog(prio, "%s", line);
		break;
	case CFG_LOG_JOURNAL:
		if (sd_journal_print(prio, "%s", line) < 0) /* no journal: not lost */
			fprintf(stderr, "%s: %s\n", lg.ident, line);
		break;
	default:
		fprintf(stderr, "%s: %s\n", lg.ident, line);
		return;
	}
	/* an operator who started the program by hand sees why it failed */
	if (level == CFG_LOG_ERR && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s\n", lg.ident, line);
}

static void *writer(void *arg)
{
	struct queued e;

	(void)arg;
	pthread_mutex_lock(&lg.mu);
	for (;;) {
		while (!lg.n && !lg.stopping)
			pthread_cond_wait(&lg.cv, &lg.mu);
		if (!lg.n)
			break; /* stopping, and nothing left */
		e = lg.q[lg.head];
		lg.head = (lg.head + 1) % CFG_LOG_QUEUE;
		lg.n--;
		pthread_mutex_unlock(&lg.mu);
		write_line(e.level, e.target, e.line);
		pthread_mutex_lock(&lg.mu);
	}
	lg.done = true;
	pthread_cond_broadcast(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
	return NULL;
}

static void vlog(unsigned level, const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	pthread_mutex_lock(&lg.mu);
	if (!lg.async) {
		lg.st.messages++;
		write_line(level, __atomic_load_n(&lg.target, __ATOMIC_RELAXED), line);
		pthread_mutex_unlock(&lg.mu);
		return;
	}
	/* lines dropped: said first, once there is room for it and this one */
	if (lg.unsaid && lg.n + 2 <= CFG_LOG_QUEUE) {
		struct queued *e = &lg.q[(lg.head + lg.n) % CFG_LOG_QUEUE];
		e->level = CFG_LOG_WARNING;
		e->target = (uint8_t)__atomic_load_n(&lg.target, __ATOMIC_RELAXED);
		snprintf(e->line, sizeof(e->line), "(%llu lines were not logged: the log queue was "
						   "full, its target slow)",
			 (unsigned long long)lg.unsaid);
		lg.n++;
		lg.unsaid = 0;
	}
	if (lg.n == CFG_LOG_QUEUE) {
		lg.st.queue_dropped++;
		lg.unsaid++;
	} else {
		struct queued *e = &lg.q[(lg.head + lg.n) % CFG_LOG_QUEUE];
		e->level = (uint8_t)level;
		e->target = (uint8_t)__atomic_load_n(&lg.target, __ATOMIC_RELAXED);
		memcpy(e->line, line, sizeof(line));
		lg.n++;
		lg.st.messages++;
		pthread_cond_signal(&lg.cv);
	}
	pthread_mutex_unlock(&lg.mu);
}

static void stop_at_exit(void)
{
	cfg_log_async_stop(2000);
}

int cfg_log_async_start(void)
{
	static bool registered;

	if (lg.async)
		return 0;
	if (!lg.cv_ready) {
		pthread_condattr_t a;
		if (pthread_condattr_init(&a) || pthread_condattr_setclock(&a, CLOCK_MONOTONIC) ||
		    pthread_cond_init(&lg.cv, &a))
			return -1;
		pthread_condattr_destroy(&a);
		lg.cv_ready = true;
	}
	lg.stopping = lg.done = false;
	lg.head = lg.n = 0;
	if (pthread_create(&lg.thread, NULL, writer, NULL))
		return -1;
	pthread_setname_np(lg.thread, "bw-log");
	lg.async = true;
	if (!registered)
		registered = atexit(stop_at_exit) == 0;
	return 0;
}

void cfg_log_async_stop(unsigned wait_ms)
{
	struct timespec until;
	bool done;

	if (!lg.async)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lg.mu);
	lg.stopping = true;
	pthread_cond_broadcast(&lg.cv);
	while (!lg.done && pthread_cond_timedwait(&lg.cv, &lg.mu, &until) == 0)
		;
	done = lg.done;
	/* a target that blocks still holds the thread: it goes on as before
	 * (lines still queued, the caller still never waits) */
	if (!done)
		lg.stopping = false;
	pthread_mutex_unlock(&lg.mu);
	if (done) {
		pthread_join(lg.thread, NULL);
		lg.async = false;
	}
}

void cfg_log(unsigned level, const char *fmt, ...)
{
	va_list ap;

	if (!cfg_log_on(level))
		return;
	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void cfg_log_limited(struct cfg_log_limit *l, unsigned level, const char *fmt, ...)
{
	uint64_t now = cfg_log_now_ms();
	char prefix[64] = "";
	va_list ap;

	if (!cfg_log_on(level))
		return;
	pthread_mutex_lock(&lim_mu);
	if (!l->window_ms || now - l->window_ms >= CFG_LOG_LIMIT_MS) {
		if (l->suppressed)
			snprintf(prefix, sizeof(prefix), "(%u more lines from here were not logged) ",
				 l->suppressed);
		l->window_ms = now;
		l->n = 0;
		l->suppressed = 0;
	}
	if (l->n >= CFG_LOG_LIMIT_N) {
		l->suppressed++;
		lg.st.suppressed++;
		pthread_mutex_unlock(&lim_mu);
		return;
	}
	l->n++;
	pthread_mutex_unlock(&lim_mu);
	va_start(ap, fmt);
	vlog(level, prefix, fmt, ap);
	va_end(ap);
}

bool cfg_log_busy_ok(void)
{
	uint64_t s = cfg_log_now_ms() / 1000;
	bool ok;

	pthread_mutex_lock(&lim_mu);
	if (s != lg.busy_s) {
		lg.busy_s = s;
		lg.busy_n = 0;
	}
	ok = lg.busy_n < CFG_LOG_BUSY_PER_S;
	if (ok)
		lg.busy_n++;
	else
		lg.st.busy_dropped++;
	pthread_mutex_unlock(&lim_mu);
	return ok;
}

void cfg_log_get_stats(struct cfg_log_stats *st)
{
	pthread_mutex_lock(&lg.mu);
	pthread_mutex_lock(&lim_mu);
	*st = lg.st;
	pthread_mutex_unlock(&lim_mu);
	pthread_mutex_unlock(&lg.mu);
}
