/*
 * control/secondary.h: the policy zones that come from a primary (cfg
 * policy[].primary): the version each one holds, when it is refreshed (the
 * SOA's refresh and retry timers, RFC 1034 4.3.5; a NOTIFY, RFC 1996), the
 * transfer itself (control/xfr.h) and the copy on disk. policy.c asks it
 * to read a zone in its reload thread and to commit the result on the
 * loop, as it reads and commits zone files; this module decides when a
 * zone needs reading and asks policy.c through a callback.
 *
 * Decided:
 *   - A zone transferred at start is in force before the first query is
 *     answered: the start waits for its transfer (a primary that refuses
 *     the connection costs nothing, one that does not answer 10 s, a
 *     transfer at most 120 s, an IXFR that falls back to AXFR twice that).
 *     One whose primary does not answer starts empty (said in the log and
 *     in the stats) and is retried after the retry interval, doubled for
 *     each failure in a row up to an hour. With a copy on disk
 *     (policy[].file) the copy is in force at once and the primary is
 *     asked right after the start.
 *   - One reload at a time (policy.c): a long transfer delays the other
 *     zones' refreshes (each follows when it ends) and an operator's
 *     reload-policy meanwhile answers that a reload is in progress.
 *   - NOTIFYs closer than 2 s to the zone's last refresh make one refresh
 *     when the 2 s end (a burst, or a signed NOTIFY replayed within its
 *     fudge, costs one transfer); a NOTIFY during the zone's refresh makes
 *     another follow it. The whole zone sent again as held builds
 *     nothing.
 *   - A zone past its SOA expire time without a successful refresh stays
 *     in force (a block list a little old blocks more than none); the
 *     stats say it expired.
 *   - NOTIFY is taken only on control.notify-listen, only for a zone
 *     with a primary, only from the primary's address, and signed with
 *     the zone's key when it has one; it is answered (signed in turn) and
 *     starts a refresh, or marks one to follow the refresh in progress.
 *     Anything else gets REFUSED or NOTAUTH, counted.
 *
 * Control process, the loop's thread, except ctl_secondary_read() (the
 * reload thread: it reads the zone's held version, which only
 * ctl_secondary_commit() changes, on the loop after the thread ended).
 */
#ifndef BW_CONTROL_SECONDARY_H
#define BW_CONTROL_SECONDARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control/xfr.h"

struct cfg;
struct ctl_loop;
struct policy_zone;

/* A zone's transfer counters ("stat policy_zone.xfr_NAME[ZONE]"). */
#define CTL_SECONDARY_COUNTERS(X)					\
	X(axfr, "versions transferred whole (AXFR, or an IXFR answered whole)") \
	X(ixfr, "versions transferred as differences (IXFR)")		\
	X(current, "refreshes that found the version held current")	\
	X(failures, "refreshes that failed (the version held stays)")	\
	X(fell_back, "IXFRs that could not be used, asked again as AXFR") \
	X(notifies, "NOTIFYs taken from the primary")

struct ctl_secondary;

/* The zones of cfg (which must outlive s). NULL: no memory. */
struct ctl_secondary *ctl_secondary_new(const struct cfg *cfg);
void ctl_secondary_free(struct ctl_secondary *s);

/*
 * A configuration reload changed the policy list: cfg's (which must outlive
 * s) from now on. from[j]: the index in the list in force of new zone j,
 * the same zone from the same primary with the same key, whose version
 * held, timers and counts it keeps; -1: a new zone, held empty and
 * transferred at once (after ctl_secondary_start()). The zones not named
 * are dropped. 0, or CTL_E_NOMEM (nothing changed). The loop's thread,
 * while no reload runs.
 */
int ctl_secondary_reconfigure(struct ctl_secondary *s, const struct cfg *cfg, const int *from);

/* Whether policy zone i (the configuration's index) has a primary. */
bool ctl_secondary_has(const struct ctl_secondary *s, unsigned i);

/* What one read of zone i gives (r->..., in the reload thread). */
struct ctl_sec_read {
	int state;			/* CTL_XFR_DONE: set is a new version;
					   CTL_XFR_CURRENT: the one held is
					   current; < 0: failed */
	bool from_copy;			/* set came from the copy on disk */
	struct ctl_xfr_set set;
	struct ctl_xfr_info info;
	char why[512];
};

/*
 * Reads zone i: at the first load (first) its copy on disk when there is
 * one, else a transfer; later a refresh from the version held (IXFR, or
 * AXFR). offline: no transfer (bailiwick-control -t): only the copy.
 * On CTL_XFR_DONE the new version is turned into z (control/rpz.h, records
 * rejected through report(arg, line)); the copy on disk is rewritten (a
 * failure to write is reported, not fatal). Returns rd->state; on failure
 * rd->why says why (for err lines). Any thread; see above.
 */
typedef void (*ctl_sec_report_fn)(void *arg, const char *line);
int ctl_secondary_read(struct ctl_secondary *s, unsigned i, bool first, bool offline,
		       struct ctl_sec_read *rd, struct policy_zone *z, ctl_sec_report_fn report,
		       void *arg);

/* The loop's half: rd's version becomes the one held (when rc is
 * CTL_XFR_DONE and the zone built), the timers are set from its SOA,
 * counts and the error kept. rd's set is taken. built: policy.c built and
 * kept the zone. */
void ctl_secondary_commit(struct ctl_secondary *s, unsigned i, struct ctl_sec_read *rd,
			  bool built);
void ctl_sec_read_fini(struct ctl_sec_read *rd);

/*
 * Starts the timers (the first refresh of a zone read from its copy at
 * once, of a zone held after its refresh interval, of a zone without a
 * version after its retry) and the NOTIFY sockets. refresh(arg, i) asks
 * policy.c to read zone i: 0 when it started, CTL_E_FULL when a reload is
 * running (the zone is then read when ctl_secondary_idle() is called),
 * another error when it could not start (tried again after the retry
 * interval).
 * 0, or CTL_E_LISTEN with why (a notify-listen address cannot be bound).
 */
typedef int (*ctl_sec_refresh_fn)(void *arg, unsigned i);
int ctl_secondary_start(struct ctl_secondary *s, struct ctl_loop *loop,
			ctl_sec_refresh_fn refresh, void *arg, char *why, size_t whylen);

/* Called by policy.c when no reload runs any more: a zone waiting for its
 * refresh is read now. */
void ctl_secondary_idle(struct ctl_secondary *s);

/* "stat policy_zone.*" lines of zone i (name: its configured name) with a
 * primary: serial held, transfers, failures, NOTIFYs, expiry. And
 * "stat notify.*" for the sockets (ctl_secondary_print_notify). */
void ctl_secondary_print_zone(const struct ctl_secondary *s, unsigned i, const char *name,
			      FILE *f);
void ctl_secondary_print_notify(const struct ctl_secondary *s, FILE *f);

#endif
