/*
 * control/view.h: what control holds, shown to the operator: the
 * delegation table (bailiwick-ctl dump-delegations [NAME],
 * lookup-delegation NAME: the kiting defence made visible) and the
 * upstream servers' state (servers). Control process, the loop's thread.
 */
#ifndef BW_CONTROL_VIEW_H
#define BW_CONTROL_VIEW_H

#include <stdio.h>

#include "control/ctlsock.h"
#include "control/deleg.h"
#include "control/iter.h"
#include "control/upstream.h"

struct ctl_view_parts {
	struct ctl_deleg_table *deleg;
	struct ctl_iter *it;
	struct up_ctx *up;
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
 */
int ctl_view_command(const struct ctl_view_parts *x, uint32_t now, const char *cmd, FILE *f);

#endif
