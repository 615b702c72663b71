/*
 * answer/settings.h: the client-facing settings of the configuration, in
 * the form the client cache takes them. One translation for both programs
 * (the dataplane's cache, and control's when it runs standalone), so the
 * two front ends cannot drift. Main thread, at start.
 */
#ifndef BW_ANSWER_SETTINGS_H
#define BW_ANSWER_SETTINGS_H

struct cache_config;
struct cfg;

/*
 * Writes the settings the configuration owns into a cache configuration:
 * max_bytes, the TTL bounds (min_ttl 0: control applies cache.min-ttl
 * while it assembles an answer, before capping TTLs at the life of the
 * delegations the answer was learnt through, so the caches get final TTLs
 * and no data outlives its delegation), serve-stale (max_stale 0 when
 * disabled), prefetch (0 when disabled) and the EDNS buffer size advertised
 * to clients (resolver.upstream.edns-buffer: one size for both directions,
 * DNS flag day 2020). Fields the file does not own are left as they are:
 * call cache_config_default() first.
 */
void answer_cache_config(const struct cfg *cfg, struct cache_config *cc);

/*
 * The same for the NSEC store (RFC 8198), whichever process keeps it:
 * max_bytes an eighth of cache.size (besides it), and NSEC3 chains used for
 * synthesis only up to ANSWER_NSEC3_SYNTH_ITER_MAX iterations (or the
 * validator's limit, when lower): a worker may hash up to the store's
 * budget of names per miss, each (iterations + 1) SHA-1 runs, so a zone
 * with 100 iterations could make every miss cost ~0.5 ms of a worker
 * (RFC 9276 asks signers for 0). Call cache_nsec_config_default() first.
 */
#define ANSWER_NSEC3_SYNTH_ITER_MAX 10
struct cache_nsec_config;
void answer_nsec_config(const struct cfg *cfg, struct cache_nsec_config *nc);

/*
 * The stub and forward zones of the configuration (lower-cased wire names,
 * up to max into out; how many). At or below them the front ends
 * synthesize no denial (RFC 8198 ranges, RFC 8020 cuts): those come from
 * the public tree, whose proofs say nothing of what the configured
 * servers hold.
 */
#include <stdbool.h>
#include <stdint.h>
#include "dns/wire.h"
unsigned answer_routed_zones(const struct cfg *cfg, uint8_t (*out)[DNS_NAME_MAX], unsigned max);

/* Whether name (any case) is at or below one of the n zones. */
bool answer_routed(const uint8_t (*zones)[DNS_NAME_MAX], unsigned n, const uint8_t *name);

#endif
