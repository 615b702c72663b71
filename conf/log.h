/*
 * conf/log.h: a program's messages, as the log section sets them: one
 * level (enum cfg_log_level), one target (enum cfg_log_target): stderr
 * (the lines "PROGRAM: ..."; under systemd the journal takes them without
 * a priority), syslog (daemon facility, with the priority) or the systemd
 * journal (sd_journal_print(), with the priority; stderr if there is no
 * journal). Repeated warnings are limited at each place that writes them.
 * Both programs write through it: bailiwick-control on its loop's thread,
 * bailiwick-dataplane on its main thread (its workers never log).
 * Process-wide state: one calling thread (never a signal handler; and,
 * after cfg_log_async_start(), the writer thread it starts).
 *
 * Until cfg_log_configure() the target is stderr and the level info, so
 * an error at start reaches whoever started the program. A syslog or
 * journal socket that is full, or a stderr pipe nobody reads, blocks the
 * write: in control the limits keep the volume small and err/warning lines
 * are few; the dataplane's main thread, the cache writer, hands its lines
 * to a thread of their own (cfg_log_async_start()) and never waits.
 */
#ifndef BW_CONF_LOG_H
#define BW_CONF_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define CFG_LOG_LIMIT_N 10		/* lines from one place ... */
#define CFG_LOG_LIMIT_MS 60000		/* ... in this window, then a count */
#define CFG_LOG_BUSY_PER_S 1000		/* high-volume lines a second */
#define CFG_LOG_QUEUE 256		/* lines waiting for the writer thread */

struct cfg_log_stats {
	uint64_t messages;	/* lines written (at the level in force) */
	uint64_t suppressed;	/* repeated lines not written (the limits) */
	uint64_t busy_dropped;	/* high-volume lines over CFG_LOG_BUSY_PER_S */
	uint64_t queue_dropped;	/* lines the writer thread's full queue refused */
};

/* The program's name, the prefix of its stderr lines and syslog's ident
 * ("bailiwick-control"); a string that lives as long as the process. */
void cfg_log_open(const char *ident);

/* The level and target in force (out of range: info, stderr). */
void cfg_log_configure(unsigned level, unsigned target);

/* enum cfg_log_level; set-log-level's (out of range: ignored). */
void cfg_log_set_level(unsigned level);
unsigned cfg_log_get_level(void);
unsigned cfg_log_get_target(void);

/* Whether a line of level would be written. */
bool cfg_log_on(unsigned level);

/* One line (no newline in fmt) at level (enum cfg_log_level). */
void cfg_log(unsigned level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * At most CFG_LOG_LIMIT_N lines through l in CFG_LOG_LIMIT_MS (of
 * CLOCK_MONOTONIC: a study clock's speed changes nothing here); those over
 * are counted, and the next line written says how many were not.
 * CFG_LOG_LIMITED() gives each place its own limit.
 */
struct cfg_log_limit {
	uint64_t window_ms;	/* CLOCK_MONOTONIC, ms; 0: none yet */
	uint32_t n;
	uint32_t suppressed;
};
void cfg_log_limited(struct cfg_log_limit *l, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CFG_LOG_LIMITED(level, ...)					\
	do {								\
		static struct cfg_log_limit lim_;			\
		cfg_log_limited(&lim_, (level), __VA_ARGS__);		\
	} while (0)

/*
 * Whether one more line of a high-volume kind (control's query log, policy
 * matches, the debug level's trace) may be written this second: at most
 * CFG_LOG_BUSY_PER_S, shared by all of them, so that a slow syslog or
 * journal cannot hold the caller for long; the rest are counted
 * (busy_dropped).
 */
bool cfg_log_busy_ok(void);

/*
 * From now on each line is queued (CFG_LOG_QUEUE at most; over that it is
 * dropped and counted: queue_dropped, and said by the next line that finds
 * room) for a thread of its own that writes it: the caller never waits on
 * the target. The thread takes the caller's CPU affinity: start it before
 * pinning the caller. 0, or -1 (no thread: lines are written by the caller
 * as before). cfg_log_async_stop(): what is queued is written, waiting at
 * most wait_ms for the thread, then the caller writes again; a target that
 * blocks longer keeps the thread, which goes on as before. exit() stops it
 * the same way (2 s at most); abort() loses what is queued.
 */
int cfg_log_async_start(void);
void cfg_log_async_stop(unsigned wait_ms);

/* CLOCK_MONOTONIC in ms (shm/clock.h's clock, which conf/ may not
 * include): the limits' clock. */
uint64_t cfg_log_now_ms(void);

void cfg_log_get_stats(struct cfg_log_stats *st);

#endif
