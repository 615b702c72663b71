/*
 * conf/log.h: a program's messages, as the log section sets them: one
 * level (enum cfg_log_level), one target (enum cfg_log_target): stderr
 * (the lines "PROGRAM: ..."; under systemd the journal takes them without
 * a priority), syslog (daemon facility, with the priority) or the systemd
 * journal (sd_journal_print(), with the priority; stderr if there is no
 * journal). Repeated warnings are limited at each place that writes them.
 * Both programs write through it: bailiwick-control on its loop's thread,
 * bailiwick-dataplane on its main thread (its workers never log).
 * Process-wide state, one thread.
 *
 * Until cfg_log_configure() the target is stderr and the level info, so
 * an error at start reaches whoever started the program. A syslog or
 * journal socket that is full blocks the write: the limits keep the volume
 * small, and err/warning lines are few.
 */
#ifndef BW_CONF_LOG_H
#define BW_CONF_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define CFG_LOG_LIMIT_N 10		/* lines from one place ... */
#define CFG_LOG_LIMIT_MS 60000		/* ... in this window, then a count */

struct cfg_log_stats {
	uint64_t messages;	/* lines written (at the level in force) */
	uint64_t suppressed;	/* repeated lines not written (the limits) */
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

/* CLOCK_MONOTONIC in ms: the limits' clock. */
uint64_t cfg_log_now_ms(void);

void cfg_log_get_stats(struct cfg_log_stats *st);

#endif
