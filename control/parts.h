/*
 * control/parts.h: what bailiwick-control is made of once it runs (main.c
 * builds it), for the operator verbs that change it: reload and
 * reload-policy (reload.c), set-log-level. Control process, the loop's
 * thread.
 * Private to the program (no library includes it).
 */
#ifndef BW_CONTROL_PARTS_H
#define BW_CONTROL_PARTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cache/nsec.h"

struct ctl_parts {
	struct ctl_iter *it;
	struct up_ctx *up;
	struct ctl_server *srv;
	struct ctl_deleg_table *deleg;
	struct cache *cache;
	struct ctl_dp *dp;		/* NULL: standalone */
	struct ctl_policy *policy;	/* the response policy zones */
	struct ctl_loop *loop;
	struct ctl_sock *sock;
	struct cache_nsec *nsec;	/* with aggressive NSEC: the store the
					   server answers from (standalone), or
					   the dataplane's misses (ctl_dp_set_nsec()) */
	struct cache_nsec_feed_result fed; /* what went into it */
	uint64_t feeds;
	uint32_t max_ttl;		/* cache.max-negative-ttl */
	/* the configuration in force: its file, the file's SHA-256, and its
	 * generation (moves with each reload that changed something; the
	 * dataplane reports the one it applies) */
	struct cfg *cfg;
	const char *cfg_path;
	uint8_t *cfg_sha256;
	uint64_t cfg_gen;
	const struct ctl_referral *hints;	/* the root hints read at start */
	bool reconf_busy;	/* a reload waits for its policy list */
	/* the trust anchors in force (NULL: no validation) and the identity
	 * of validation (ctl_validation_id(): the dataplane empties its caches
	 * when it changes) */
	struct ctl_anchors *anchors;
	uint64_t anchors_id;
	/* the stat lines at the last "stats --reset" (NULL: none since the
	 * start): "stats" shows the counters since */
	char *stats_base;
	size_t stats_base_len;
	uint64_t started_ms;	/* ctl_now_ms() at the start (status' uptime) */
	struct ctl_dnstap *dnstap;	/* NULL: no dnstap section */
	/* every control thread's iterator (it, up and deleg above are the
	 * loop's thread's own: shard 0) */
	struct ctl_pool *pool;
};

/*
 * The log level and target in force changed (start, reload,
 * set-log-level): the dataplane follows, and the upstream module's tap is
 * set while dnstap or the debug level wants it (no query pays for a copy
 * nobody takes).
 */
void ctl_log_applied(struct ctl_parts *p);

/*
 * bailiwick-ctl reload-policy [ZONE] and reload: the answer (its first line
 * "error: ..." makes bailiwick-ctl exit 1) is written to f, or later to
 * the connection behind f when it waits for the dataplane or a policy
 * thread (see reload.c).
 */
void ctl_reload_policy(struct ctl_parts *p, const char *zone, FILE *f);
void ctl_reload_config(struct ctl_parts *p, FILE *f);

#endif
