/*
 * control/cacheview.h: what the caches hold, shown to the operator:
 * bailiwick-ctl lookup NAME [TYPE] (the client cache's answer for one
 * question: the dataplane's cache in dataplane mode, control's own when
 * standalone) and dump-cache [NAME] (every entry of control's own cache,
 * at or below NAME). Control process, the loop's thread.
 */
#ifndef BW_CONTROL_CACHEVIEW_H
#define BW_CONTROL_CACHEVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cache/msgcache.h"
#include "control/ctlsock.h"
#include "control/dplink.h"

struct ctl_cacheview_parts {
	struct cache *cache;	/* control's own */
	struct ctl_dp *dp;	/* NULL: standalone (control's cache is the client cache) */
	struct ctl_sock *sock;
	struct ctl_loop *loop;
	bool json;	/* the answer as one JSON object, field by field */
};

/*
 * Serves cmd when it is one of these verbs, writing its answer to f (or,
 * for lookup in dataplane mode, later on the deferred connection);
 * CTL_E_UNKNOWN_COMMAND when it is not one.
 *   lookup NAME [TYPE]  the client cache's answer for NAME TYPE (A when
 *                       no TYPE; class IN) as a client with AD would get
 *                       it: fresh or stale, rcode, secure or not, and its
 *                       records with the TTLs left; or that it holds none
 *   dump-cache [--control] [NAME]
 *                       the client cache, one line per entry (at or
 *                       below NAME): question, rcode, time left, stale
 *                       window, rank, secure, DNSSEC records held, size;
 *                       at most CTL_DUMP_CACHE_MAX lines. With a
 *                       dataplane its cache, a page at a time through
 *                       its writer (ctl_dp_dump(); later, on the deferred
 *                       connection), or with --control control's own
 *                       (what iteration keeps)
 * With json, the same as one JSON object (an error stays an "error: " line):
 *   {"name", "type", "cache" (control, dataplane), "held", and when held
 *    "stale", "rcode", "secure", "truncated", "nxdomain_cut" (RFC 8020),
 *    "ede" (null: none), "records": [{"section", "owner", "ttl", "class",
 *    "type", "rdata"}]}
 *   {"cache" (control, dataplane), "client_cache", "entries": [{"name",
 *    "type" (null: an RFC 8020 cut), "class", "rcode", "stale", "ttl_s",
 *    "stale_s", "rank", "secure", "dnssec_records", "records", "bytes",
 *    "ede"}], "count", "not_shown", "bad_records", "complete", "why" (when
 *    not complete)}
 */
#define CTL_DUMP_CACHE_MAX 100000
int ctl_cacheview_command(const struct ctl_cacheview_parts *x, uint32_t now, const char *cmd,
			  FILE *f);

#endif
