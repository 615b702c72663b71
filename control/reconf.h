/*
 * control/reconf.h: what a configuration reload (bailiwick-ctl reload) may
 * change while both processes run, and what needs a restart. Every field
 * of struct cfg belongs to one named group (its key in the file); a group
 * either changes at run time or is kept as it was (and named in the
 * reply). Pure functions; any thread.
 *
 * At run time: access-control (control's front end and the workers),
 * tcp (limits), resolver.limits, resolver.upstream.{edns-buffer, use-0x20,
 * cookies, timeout-ms, retries} (edns-buffer: the workers' advertised size
 * too), resolver.{max-rrset-records, do-not-query, do-query, sibling-glue,
 * qname-minimisation}, resolver.dnssec.log-bogus, cache.{min-ttl,
 * max-ttl, max-negative-ttl, serve-stale, prefetch, failure-ttl,
 * max-failure-ttl}, policy and tsig-keys (applied by reload.c only once the
 * new list's zones are read: ctl_policy_reconfigure()), stub-zones,
 * forward-zones and resolver.trust-anchor (whose file reload.c reads again
 * at every reload).
 *
 * Not yet (a restart): the validator's limits, the caches' sizes, listen
 * and notify addresses, ports, the dataplane's ports, workers and EAL,
 * and the rest.
 */
#ifndef BW_CONTROL_RECONF_H
#define BW_CONTROL_RECONF_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;

/* Whether b's policy list or TSIG keys differ from a's. */
bool ctl_reconf_policy_changed(const struct cfg *a, const struct cfg *b);

/*
 * Compares the configuration in force (cur) with the one just read
 * (next): the groups that change at run time are copied from next into
 * cur; the names of those that changed go to applied, the names of those
 * that differ but need a restart to restart (each ", "-separated, "" for
 * none; truncated to their sizes). Returns the number of groups applied.
 */
unsigned ctl_reconf_merge(struct cfg *cur, const struct cfg *next, char *applied,
			  size_t applied_size, char *restart, size_t restart_size);

#endif
