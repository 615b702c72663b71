/*
 * control/view.h: what control holds, shown to the operator: the
 * delegation table (bailiwick-ctl dump-delegations [NAME],
 * lookup-delegation NAME: the kiting defence made visible) and the
 * upstream servers' state (servers). Control process, the loop's thread.
 */
#ifndef BW_CONTROL_VIEW_H
#define BW_CONTROL_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "control/ctlsock.h"
#include "control/deleg.h"
#include "control/pool.h"
#include "control/upstream.h"

struct ctl_view_parts {
	struct ctl_pool *pool;	/* every control thread's table and servers */
	bool json;	/* the answer as one JSON object, field by field */
};

/*
 * Serves cmd when it is one of these verbs, writing its answer to f;
 * CTL_E_UNKNOWN_COMMAND when it is not one.
 *   dump-delegations [NAME]  every cut held (at or below NAME), most
 *                            recently used first: zone, kind, instance,
 *                            parent instance, time left, name servers
 *                            with their addresses
 *   lookup-delegation NAME   the cut a resolution of NAME starts from,
 *                            and each cut held at or above NAME from the
 *                            root down, with why it is used or not
 *   servers                  every upstream server the iterator keeps
 *                            state for: smoothed RTT, timeouts in a row,
 *                            replies and timeouts seen, hold-down, EDNS,
 *                            whether it returns our cookies (RFC 7873)
 * With more than one control thread (control.threads), each keeps its own
 * cuts and servers: dump-delegations and servers show every thread's (a
 * cut's note, a server's line: "thread I"; JSON: "thread"; instance
 * numbers are each table's own), lookup-delegation the thread whose cut
 * for NAME is the deepest (then "thread I of N" follows the name; JSON:
 * "thread", "threads").
 * With json, the same as one JSON object (an error stays an "error: " line):
 *   {"delegations": [CUT...], "count": N}
 *   {"name", "starts_at", "instance", "configured", "usable_s" (null: no
 *    expiry), "cuts": [CUT + "note"...]}
 *   CUT: {"zone", "kind" (learnt, hints, stub, forward, forward-no-rd),
 *    "instance", "parent", "expires_in_s" (null: never; negative: expired),
 *    "learnt_s_ago" (learnt cuts), "ns": [{"name", "addresses": [...]}]}
 *   {"servers": [{"address", "rtt_ms", "timeouts", "timeouts_seen",
 *    "replies_seen", "held", "held_ms_left" (null: a probe may go),
 *    "probing", "edns" (yes, no, unknown), "no_edns_s_left", "cookies",
 *    "thread" (more than one control thread)}], "count", "held"}
 */
int ctl_view_command(const struct ctl_view_parts *x, uint32_t now, const char *cmd, FILE *f);

#endif
