/*
 * answer/settings.c: the configuration's client-facing settings (see
 * settings.h). Main thread.
 */
#include "answer/settings.h"

#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "conf/config.h"
#include "dns/name.h"

void answer_cache_config(const struct cfg *cfg, struct cache_config *cc)
{
	cc->max_bytes = (size_t)cfg->cache.size_bytes;
	cc->min_ttl = 0; /* control applies cache.min-ttl: see settings.h */
	cc->max_ttl = cfg->cache.max_ttl_s;
	cc->max_negative_ttl = cfg->cache.max_negative_ttl_s;
	cc->stale_answer_ttl = cfg->cache.stale_answer_ttl_s;
	cc->max_stale = cfg->cache.stale_enabled ? cfg->cache.max_stale_s : 0;
	cc->prefetch_percent = cfg->cache.prefetch_enabled
		? cfg->cache.prefetch_threshold_percent : 0;
	cc->edns_udp_size = cfg->resolver.upstream.edns_buffer;
}

unsigned answer_routed_zones(const struct cfg *cfg, uint8_t (*out)[DNS_NAME_MAX], unsigned max)
{
	unsigned n = 0;

	for (int fwd = 0; fwd < 2; fwd++)
		for (unsigned i = 0; i < (fwd ? cfg->n_forward : cfg->n_stub) && n < max; i++)
			if (dns_name_from_str(fwd ? cfg->forward[i].name : cfg->stub[i].name,
					      out[n]) > 0)
				dns_name_lower(out[n++]);
	return n;
}

bool answer_routed(const uint8_t (*zones)[DNS_NAME_MAX], unsigned n, const uint8_t *name)
{
	for (unsigned i = 0; i < n; i++)
		if (dns_name_is_subdomain(name, zones[i]))
			return true;
	return false;
}

void answer_nsec_config(const struct cfg *cfg, struct cache_nsec_config *nc)
{
	uint32_t it = cfg->resolver.nsec3_max_iterations;

	nc->max_bytes = (size_t)(cfg->cache.size_bytes / 8);
	nc->record_blobs = true; /* answer_negative() copies them unchecked */
	nc->nsec3_max_iterations =
		(uint16_t)(it < ANSWER_NSEC3_SYNTH_ITER_MAX ? it : ANSWER_NSEC3_SYNTH_ITER_MAX);
}
