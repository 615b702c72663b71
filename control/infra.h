/*
 * control/infra.h: what the iterator remembers of failure. Two tables:
 *
 * - Servers (the "infrastructure cache"), by address: the smoothed RTT the
 *   iterator picks servers by, whether EDNS works (a "no EDNS" mark lasts
 *   no_edns_ms, then EDNS is tried again), and hold-down: a server that
 *   has timed out hold_after times in a row (not counting a timeout that
 *   came while the server answered at least as many queries as timed
 *   out: a burst its socket dropped) is not asked for hold_min_ms;
 *   then one probe query may go to it (never two at once); a probe that
 *   times out holds it twice as long (at most hold_max_ms), any reply
 *   releases it. So a zone whose servers black-hole costs a probe per
 *   server per hold period, not a dozen queries per client question
 *   (RFC 9520 3.1's "unresponsive servers").
 * - Resolution failures (RFC 9520 3): a question whose resolution failed
 *   is answered SERVFAIL without resolving for min_s seconds; a failure of
 *   the same question soon after its entry expired doubles the time, up
 *   to max_s. Keyed by a secret-keyed 64-bit hash of (name, type, class),
 *   one entry per slot: a flood of failing names evicts others' entries
 *   (which then only resolve again), never grows the table.
 *
 * Both tables are fixed-size and allocated once. Control process, one
 * thread; no I/O. Times are the caller's CLOCK_MONOTONIC milliseconds, so
 * tests drive them.
 */
#ifndef BW_CONTROL_INFRA_H
#define BW_CONTROL_INFRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/deleg.h"

struct ctl_infra_config {
	uint32_t slots;		/* server entries (power of two); 4096 */
	uint32_t hold_after;	/* timeouts in a row before a hold; 3 */
	uint32_t hold_min_ms;	/* the first hold; 2000 */
	uint32_t hold_max_ms;	/* the longest; 60000 */
	uint32_t no_edns_ms;	/* how long "no EDNS" holds; 900000 */
	uint32_t fail_slots;	/* failure entries (power of two); 65536 */
	uint32_t fail_min_s;	/* cache.failure-ttl; 5 */
	uint32_t fail_max_s;	/* cache.max-failure-ttl; 30 */
};

void ctl_infra_config_default(struct ctl_infra_config *c);

/* A server address's state; the iterator reads and sets the EDNS fields
 * itself (its fallback rules), the rest through the functions below. */
struct ctl_srv {
	struct ctl_addr a;
	bool used;
	bool no_edns;		/* asked without EDNS until no_edns_until_ms */
	bool edns_ok;		/* it has answered a query with EDNS */
	bool probe_plain;	/* the next query goes without EDNS */
	bool probing;		/* held, and its one probe is out */
	uint32_t srtt_ms;
	uint32_t timeouts;	/* in a row since its last reply */
	uint32_t silent;	/* of those, the ones that count towards a hold */
	uint32_t made;		/* the table's serial for this entry, never 0 */
	uint32_t replies_seen;	/* since it was made (wrapping) */
	uint32_t timeouts_seen;
	uint32_t hold_ms;	/* the current hold's length; 0: not held */
	uint64_t held_until_ms;
	uint64_t no_edns_until_ms;
};

#define CTL_INFRA_SRTT_UNKNOWN_MS 200	/* a server never heard: try it early */

/* Whether s was ever heard from, by a reply or a timeout: its srtt_ms is
 * then a measure, even one equal to the default above. */
static inline bool ctl_infra_heard(const struct ctl_srv *s)
{
	return s->replies_seen || s->timeouts_seen;
}

#define CTL_INFRA_COUNTERS(X)						\
	X(holds, "servers held down after timeouts in a row")		\
	X(lost, "timeouts while the server answered as many (no hold)") \
	X(probes, "probe queries to held servers")			\
	X(released, "held servers that answered a probe")		\
	X(failures_cached, "resolution failures remembered (RFC 9520)")\
	X(failures_hit, "questions answered SERVFAIL from a remembered failure")

struct ctl_infra_stats {
#define CTL_INFRA_FIELD(name, text) uint64_t name;
	CTL_INFRA_COUNTERS(CTL_INFRA_FIELD)
#undef CTL_INFRA_FIELD
};

struct ctl_infra;

/* c is copied; NULL when out of memory or c is unusable. */
struct ctl_infra *ctl_infra_new(const struct ctl_infra_config *c);
void ctl_infra_free(struct ctl_infra *t);

/*
 * The entry for a, made when there is none (a full neighbourhood of the
 * table forgets one: that server is simply measured again). Expires the
 * "no EDNS" mark when its time has passed. Valid until the next call.
 */
struct ctl_srv *ctl_infra_get(struct ctl_infra *t, const struct ctl_addr *a, uint64_t now);

enum ctl_srv_state {
	CTL_SRV_USABLE = 0,	/* ask it */
	CTL_SRV_PROBE,		/* held, and a probe may go now */
	CTL_SRV_HELD,		/* not now */
};

enum ctl_srv_state ctl_infra_state(const struct ctl_srv *s, uint64_t now);

/* A query goes to s now. true when it is the probe (s was
 * CTL_SRV_PROBE): the caller then ends it with ctl_infra_reply(),
 * ctl_infra_timeout(..., true) or ctl_infra_probe_gone(), whatever becomes
 * of it, or s stays held. */
bool ctl_infra_sent(struct ctl_infra *t, struct ctl_srv *s, uint64_t now);

/* What a query remembers of its server as it goes out, so that its
 * timeout can be weighed against what the server did meanwhile. */
struct ctl_infra_mark {
	uint32_t made, replies, timeouts;
};

struct ctl_infra_mark ctl_infra_mark(const struct ctl_srv *s);

/* s answered (anything) after rtt_ms: RTT smoothed, any hold released. */
void ctl_infra_reply(struct ctl_infra *t, struct ctl_srv *s, uint32_t rtt_ms);

/* A query to s marked sent as it went out (NULL: not known) went
 * unanswered: RTT penalised, a timeout in a row. Unless s, while it was
 * out, sent at least one reply and as many as it had timeouts, this one
 * included (a lost datagram, a burst its socket could not take: a hold
 * would turn a busy server into a dead one; a server that answers one
 * query in many is no busy one), it counts towards a hold: held after
 * hold_after in a row; the probe's (probe) holds it twice as long. A
 * query sent before the hold that times out while the probe is out
 * changes nothing of the hold. */
void ctl_infra_timeout(struct ctl_infra *t, struct ctl_srv *s, uint64_t now,
		       const struct ctl_infra_mark *sent, bool probe);

/* The probe ended without a verdict on s (cancelled, a local error, an
 * answer in the wrong letter case): the next one may go at once. */
void ctl_infra_probe_gone(struct ctl_srv *s);

/* s does not do EDNS: asked without it for no_edns_ms. */
void ctl_infra_no_edns(struct ctl_infra *t, struct ctl_srv *s, uint64_t now);

/* Resolution failures: whether (name, qtype, qclass) failed recently (and
 * counts the hit); remembering one. name in any case. */
bool ctl_infra_failed(struct ctl_infra *t, const uint8_t *name, uint16_t qtype,
		      uint16_t qclass, uint64_t now);
void ctl_infra_fail(struct ctl_infra *t, const uint8_t *name, uint16_t qtype,
		    uint16_t qclass, uint64_t now);

void ctl_infra_get_stats(const struct ctl_infra *t, struct ctl_infra_stats *st);

/* Every server the table holds, to cb (bailiwick-ctl servers); how many. */
unsigned ctl_infra_each(const struct ctl_infra *t,
			void (*cb)(void *arg, const struct ctl_srv *s), void *arg);

/* Every failure remembered is forgotten (the trust anchors changed: a
 * bogus answer may be good now, and the other way round). */
void ctl_infra_forget_failures(struct ctl_infra *t);

/* A configuration reload: the failure TTLs from now on (failures already
 * remembered keep theirs). Ignored unless 0 < min <= max. */
void ctl_infra_set_fail_ttl(struct ctl_infra *t, uint32_t min_s, uint32_t max_s);

#endif
