/*
 * control/log.h: control's side of the messages. The engine (level, target,
 * limits on repeated warnings) is conf/log.h's, which the dataplane shares;
 * here: control's log section applied to it, its counters, and the sampled
 * query log (1 client query in log.query-sample, at info). Control process:
 * the loop's thread, and every control thread (control/pool.h) for
 * ctl_log_upstream() (the upstream tap's lines; the engine is
 * thread-safe); libfstrm's and the policy loader's threads never log.
 */
#ifndef BW_CONTROL_LOG_H
#define BW_CONTROL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/config.h"
#include "conf/log.h"

#define CTL_LOG_COUNTERS(X)						\
	X(messages, "log lines written (at the level in force)")	\
	X(suppressed, "repeated warnings not written (at most 10 a minute from one place)") \
	X(queries, "client queries written to the query log (1 in log.query-sample)") \
	X(busy_dropped, "query log, policy match and debug lines not written: over 1000 a second")

struct ctl_log_stats {
#define X(name, text) uint64_t name;
	CTL_LOG_COUNTERS(X)
#undef X
};

/* The level, target and query sample of cfg's log section (the lines
 * themselves: cfg_log()); a reload calls it again (the level set by
 * set-log-level goes back to the file's). */
void ctl_log_configure(const struct cfg *cfg);

/*
 * bailiwick-ctl set-log-level LEVEL (lvl; NULL: none given): the level
 * until the next reload, said in the log at the level before and after
 * (a lowered level still says it once); the answer, or a one-line error,
 * to f (with_dp: the answer says the dataplane follows). Whether the level
 * was set.
 */
bool ctl_log_set_level_verb(const char *lvl, bool with_dp, FILE *f);

/* For control's own front end: whether this client query is one of the 1
 * in log.query-sample logged. */
bool ctl_log_query_sample(void);

/*
 * A query log line for the client query msg (len octets) from addr (4 or
 * 16 octets by family: AF_INET, AF_INET6) and port, over TCP or UDP,
 * taken by via ("worker 0", "control"): "query ADDR#PORT UDP NAME TYPE
 * CLASS +RD +CD +DO -EDNS id ID (via)" (TCP for a stream); a message that
 * is not a query is logged as such, with its length. Counts against
 * cfg_log_busy_ok().
 */
void ctl_log_query(const char *via, int family, const uint8_t *addr, uint16_t port, bool tcp,
		   const uint8_t *msg, size_t len);

/*
 * The debug level's lines of a resolution, written only at debug (and
 * counted against cfg_log_busy_ok(), shared with the query log):
 * ctl_log_upstream(), from the upstream module's tap (control/upstream.h's
 * up_tap_cb, its arguments): "upstream query NAME TYPE to ADDR#PORT UDP
 * from port P (zone Z)" (over TCP: no port) and "upstream reply NAME TYPE
 * from ADDR#PORT UDP: RCODE aa tc, A/N/R records, after N us (zone Z)".
 * ctl_log_resolved(): a resolution's end as its front end (via) gets it:
 * "resolved NAME TYPE: RCODE, N answers, AD, stale (via)"; msg may be NULL
 * (no answer: qname and qtype say what it was).
 */
struct sockaddr_storage;
void ctl_log_upstream(bool reply, const struct sockaddr_storage *server,
		      uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
		      uint64_t age_us, const uint8_t *zone);
void ctl_log_resolved(const char *via, const uint8_t *qname, uint16_t qtype, int rcode,
		      const uint8_t *msg, size_t len, bool stale);

void ctl_log_get_stats(struct ctl_log_stats *st);

#endif
