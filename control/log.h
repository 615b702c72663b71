/*
 * control/log.h: control's messages. One level (log.level, changed by a
 * reload or bailiwick-ctl set-log-level), one target: stderr (the lines
 * "bailiwick-control: ..." as before; under systemd the journal takes
 * them without a priority), syslog (daemon facility, with the priority),
 * or the systemd journal (sd_journal_print(), with the priority). Repeated
 * warnings are limited at each place that writes them; the query log
 * writes 1 client query in log.query-sample at info. Process-wide state:
 * control process, the loop's thread only (libfstrm's and the policy
 * loader's threads never log).
 *
 * A syslog or journal socket that is full blocks the write: the limits
 * and the sampling keep the volume small, and err/warning lines are few.
 */
#ifndef BW_CONTROL_LOG_H
#define BW_CONTROL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

#define CTL_LOG_LIMIT_N 10		/* lines from one place ... */
#define CTL_LOG_LIMIT_MS 60000		/* ... in this window, then a count */
#define CTL_LOG_BUSY_PER_S 1000		/* query log and policy match lines a second */

#define CTL_LOG_COUNTERS(X)						\
	X(messages, "log lines written (at the level in force)")	\
	X(suppressed, "repeated warnings not written (at most 10 a minute from one place)") \
	X(queries, "client queries written to the query log (1 in log.query-sample)") \
	X(busy_dropped, "query log and policy match lines not written: over 1000 a second")

struct ctl_log_stats {
#define X(name, text) uint64_t name;
	CTL_LOG_COUNTERS(X)
#undef X
};

/* The level, target and query sample of cfg's log section; a reload calls
 * it again (the level set by set-log-level goes back to the file's). */
void ctl_log_configure(const struct cfg *cfg);

/* enum cfg_log_level; set-log-level's. */
void ctl_log_set_level(unsigned level);
unsigned ctl_log_level(void);

/* Whether a line of level would be written. */
bool ctl_log_on(unsigned level);

/* One line (no newline in fmt) at level (enum cfg_log_level). */
void ctl_log(unsigned level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * At most CTL_LOG_LIMIT_N lines through l in CTL_LOG_LIMIT_MS; those over
 * are counted, and the next line written says how many were not.
 * CTL_LOG_LIMITED() gives each place its own limit.
 */
struct ctl_log_limit {
	uint64_t window_ms;
	uint32_t n;
	uint32_t suppressed;
};
void ctl_log_limited(struct ctl_log_limit *l, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CTL_LOG_LIMITED(level, ...)					\
	do {								\
		static struct ctl_log_limit lim_;			\
		ctl_log_limited(&lim_, (level), __VA_ARGS__);		\
	} while (0)

/* Whether one more line of a high-volume kind (the query log, policy
 * matches) may be written this second: at most CTL_LOG_BUSY_PER_S, so a
 * slow syslog or journal cannot hold the loop for long; the rest are
 * counted (busy_dropped). */
bool ctl_log_busy_ok(void);

/* For control's own front end: whether this client query is one of the 1
 * in log.query-sample logged. */
bool ctl_log_query_sample(void);

/*
 * A query log line for the client query msg (len octets) from addr (4 or
 * 16 octets by family: AF_INET, AF_INET6) and port, over TCP or UDP,
 * taken by via ("worker 0", "control"): "query ADDR#PORT UDP NAME TYPE
 * CLASS +RD +CD +DO -EDNS id ID (via)" (TCP for a stream); a message that
 * is not a query is logged as such, with its length. Counts against
 * ctl_log_busy_ok().
 */
void ctl_log_query(const char *via, int family, const uint8_t *addr, uint16_t port, bool tcp,
		   const uint8_t *msg, size_t len);

void ctl_log_get_stats(struct ctl_log_stats *st);

#endif
