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

#endif
