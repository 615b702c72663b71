/*
 * control/delegview.h: the delegation table shown to the operator
 * (bailiwick-ctl dump-delegations [NAME], lookup-delegation NAME): the
 * kiting defence made visible. Control process, the loop's thread.
 */
#ifndef BW_CONTROL_DELEGVIEW_H
#define BW_CONTROL_DELEGVIEW_H

#include <stdio.h>

#include "control/ctlsock.h"
#include "control/deleg.h"

/*
 * Serves cmd when it is one of the delegation verbs, writing its answer
 * to f; CTL_E_UNKNOWN_COMMAND when it is not one.
 *   dump-delegations [NAME]  every cut held (at or below NAME), most
 *                            recently used first: zone, kind, instance,
 *                            parent instance, time left, name servers
 *                            with their addresses
 *   lookup-delegation NAME   the cut a resolution of NAME starts from,
 *                            and each cut held at or above NAME from the
 *                            root down, with why it is used or not
 */
int ctl_delegview_command(struct ctl_deleg_table *t, uint32_t now, const char *cmd, FILE *f);

#endif
