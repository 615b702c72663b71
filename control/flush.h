/*
 * control/flush.h: the operator's flush verbs (bailiwick-ctl flush NAME,
 * flush-zone NAME, flush-negative, flush-all) over both processes'
 * caches. Control process, the loop's thread.
 */
#ifndef BW_CONTROL_FLUSH_H
#define BW_CONTROL_FLUSH_H

#include <stdio.h>

#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "control/ctlsock.h"
#include "control/deleg.h"
#include "control/dplink.h"
#include "control/loop.h"
#include "control/pool.h"

/* What a flush reaches: control's cache, its NSEC store (standalone with
 * aggressive NSEC, else NULL), every control thread's delegation table,
 * key table and remembered failures (the pool's), the dataplane (NULL:
 * standalone). */
struct ctl_flush_parts {
	struct cache *cache;
	struct cache_nsec *nsec;
	struct ctl_pool *pool;
	struct ctl_dp *dp;
	struct ctl_loop *loop;
	struct ctl_sock *sock;
};

/*
 * Serves cmd when it is a flush verb, writing its answer to f or, when it
 * has to wait for the caches' trims, answering later on the deferred
 * connection; CTL_E_UNKNOWN_COMMAND when cmd is not one.
 *   flush NAME       the cached answers for NAME (every type), the
 *                    delegation learnt at NAME and what the key table
 *                    knows of it (DNSKEY, DS, insecure or bogus), the
 *                    denials that could deny NAME (RFC 8020 cuts at or
 *                    above it, the NSEC zone at it and the closest one
 *                    above)
 *   flush-zone NAME  the same for NAME and every name below it
 *   flush-negative   negative answers (NXDOMAIN, NODATA, RFC 8020 cuts)
 *                    and every NSEC range
 *   flush-all        every cached answer, range, learnt delegation and
 *                    key table entry
 * Every flush forgets the remembered resolution failures (RFC 9520). The
 * root's delegation, the configured stub and forward zones, a trust
 * anchor's key table entry (the anchor is its only source), and the
 * servers' state (RTT, EDNS, hold-downs) stay. One flush at a time.
 */
int ctl_flush_command(const struct ctl_flush_parts *x, const char *cmd, FILE *f);

#endif
