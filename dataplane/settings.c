/*
 * dataplane/settings.c: the client-facing settings control publishes on a
 * configuration reload (shm.h's settings block): the access-control list
 * the workers screen clients with, the EDNS buffer size they advertise,
 * what they do with misses control cannot take (dataplane.miss-overflow,
 * miss-budget), and the cache's TTL bounds, serve-stale and prefetch
 * settings (the main
 * thread is the cache's writer: cache_set_limits()). Dataplane main
 * thread.
 *
 * The block is read under its sequence lock into a private copy, every
 * field checked (a control of another build, or a bad write, must not
 * give the workers a list they misread), then compiled into a new ACL the
 * workers load by pointer for each packet; the one it replaces is freed
 * after a grace period (call_rcu: every worker passes a quiescent state
 * once per loop, after which it holds no pointer from before). The EDNS size and the ports' UDP limits it sets
 * are single stores a worker reads per packet: a burst may answer with
 * the old size, never with a torn one.
 */
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "answer/reply.h"
#include "cache/nsec.h"
#include "conf/log.h"
#include "dataplane/dp.h"

struct acl_box {
	struct rcu_head rcu;
	struct answer_acl acl;
};

static void acl_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct acl_box, rcu));
}

struct routed_box {
	struct rcu_head rcu;
	struct dp_routed r;
};

static void routed_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct routed_box, rcu));
}

bool dp_routed_set(struct dp *dp, const uint8_t (*names)[DNS_NAME_MAX], unsigned n)
{
	struct routed_box *b = NULL;

	if (n && !(b = malloc(sizeof(*b))))
		return false;
	if (b) {
		b->r.n = n;
		memcpy(b->r.name, names, (size_t)n * DNS_NAME_MAX);
	}
	const struct dp_routed *old = dp->routed;
	__atomic_store_n(&dp->routed, b ? &b->r : NULL, __ATOMIC_RELEASE);
	if (old)
		urcu_qsbr_call_rcu(&caa_container_of(old, struct routed_box, r)->rcu,
				   routed_free_cb);
	return true;
}

const struct answer_acl *dp_acl_new(struct dp *dp, const struct cfg_acl_rule *r, unsigned n)
{
	struct acl_box *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	answer_acl_build_rules(&b->acl, r, n);
	const struct answer_acl *old = dp->acl;
	__atomic_store_n(&dp->acl, &b->acl, __ATOMIC_RELEASE);
	if (old)
		urcu_qsbr_call_rcu(&caa_container_of(old, struct acl_box, acl)->rcu, acl_free_cb);
	return &b->acl;
}

/* The block's fields as the configuration would hold them: false when one
 * is out of range. */
static bool take(const struct shm_settings *s, struct cfg_acl_rule *r)
{
	if (s->n_acl > SHM_ACL_MAX || s->n_acl > CFG_ACL_MAX || s->edns_size < 512 ||
	    s->edns_size > 4096 || s->prefetch_percent > 100 || !s->max_ttl ||
	    s->max_ttl > CFG_TTL_MAX_S || s->max_negative_ttl > CFG_TTL_MAX_S ||
	    s->max_stale > CFG_TTL_MAX_S || !s->stale_answer_ttl || s->stale_answer_ttl > 86400 ||
	    s->n_routed > SHM_ROUTED_MAX || s->miss_overflow > CFG_OVERFLOW_DROP ||
	    s->miss_budget > CFG_MISS_BUDGET_MAX)
		return false;
	for (unsigned i = 0; i < s->n_routed; i++)
		if (dns_name_check(s->routed[i], DNS_NAME_MAX) < 0)
			return false;
	for (unsigned i = 0; i < s->n_acl; i++) {
		const struct shm_acl_rule *a = &s->acl[i];
		unsigned bits = a->family == AF_INET ? 32 : 128;
		if ((a->family != AF_INET && a->family != AF_INET6) || a->len > bits ||
		    a->action > CFG_ACL_DROP)
			return false;
		memset(&r[i], 0, sizeof(r[i]));
		r[i].prefix.a.family = a->family;
		memcpy(r[i].prefix.a.addr, a->addr, bits / 8);
		r[i].prefix.len = a->len;
		r[i].action = a->action;
	}
	return true;
}

void dp_port_udp_max(const struct dp *dp, struct dp_port *pt)
{
	uint16_t e = __atomic_load_n(&dp->edns_size, __ATOMIC_RELAXED);

	__atomic_store_n(&pt->udp_max[0], (uint16_t)answer_udp_max(e, pt->mtu - NET_PKT_IPV4_HDR_LEN -
									   NET_PKT_UDP_HDR_LEN),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&pt->udp_max[1], (uint16_t)answer_udp_max(e, pt->mtu - NET_PKT_IPV6_HDR_LEN -
									   NET_PKT_UDP_HDR_LEN),
			 __ATOMIC_RELAXED);
}

void dp_settings_poll(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	static struct shm_settings s;
	struct cfg_acl_rule r[CFG_ACL_MAX];

	uint32_t seq = __atomic_load_n(&ctl->settings_seq, __ATOMIC_ACQUIRE);
	if (seq & 1)
		return; /* being written: next time */
	uint64_t gen = __atomic_load_n(&ctl->settings.gen, __ATOMIC_RELAXED);
	/* only forward: a generation below the one in force comes from a
	 * control that was replaced */
	if (!gen || gen <= ctl->settings_active || gen == ctl->settings_rejected)
		return;
	memcpy(&s, (const void *)&ctl->settings, sizeof(s));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&ctl->settings_seq, __ATOMIC_RELAXED) != seq || s.gen != gen)
		return; /* written meanwhile: next time */
	if (!take(&s, r)) {
		ctl->settings_rejected = gen;
		ctl->writer.settings_rejected++;
		CFG_LOG_LIMITED(CFG_LOG_WARNING, "control's settings generation %llu refused: a "
						 "field out of range; those in force stay",
				(unsigned long long)gen);
		return;
	}
	if (!dp_routed_set(dp, (const uint8_t (*)[DNS_NAME_MAX])s.routed, s.n_routed) ||
	    !dp_acl_new(dp, r, s.n_acl))
		return; /* no memory: next time */
	__atomic_store_n(&dp->edns_size, s.edns_size, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->miss_overflow, s.miss_overflow, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->miss_budget, s.miss_budget, __ATOMIC_RELAXED);
	cache_set_edns_udp_size(dp->cache, s.edns_size);
	struct cache_config cc = {
		.max_ttl = s.max_ttl,
		.max_negative_ttl = s.max_negative_ttl,
		.stale_answer_ttl = s.stale_answer_ttl,
		.max_stale = s.max_stale,
		.prefetch_percent = s.prefetch_percent,
	};
	cache_set_limits(dp->cache, &cc); /* main.c's loop trims */
	/* the NSEC store's ranges carry the bound they came with: a lower
	 * one drops them all (validated denials feed them again) */
	if (dp->nsec && s.max_negative_ttl < dp->max_negative_ttl) {
		int z = cache_nsec_flush(dp->nsec);
		if (z > 0)
			ctl->writer.settings_removed += (uint64_t)z;
	}
	dp->max_negative_ttl = s.max_negative_ttl;
	/* other trust anchors: nothing validated under the old ones stays
	 * (gone for the workers at once, removed by the trim) */
	if (dp->anchors_id && s.anchors_id != dp->anchors_id) {
		cache_flush_epoch(dp->cache);
		if (dp->nsec)
			cache_nsec_flush(dp->nsec);
		ctl->writer.anchor_flushes++;
	}
	dp->anchors_id = s.anchors_id;
	for (unsigned i = 0; i < dp->n_ports; i++)
		dp_port_udp_max(dp, &dp->ports[i]);
	ctl->settings_active = gen;
	ctl->writer.settings_published++;
	cfg_log(CFG_LOG_INFO, "settings generation %llu: %u ACL rules, %u stub and forward "
			      "zones, EDNS %u, max-ttl %u, max-negative-ttl %u, max-stale %u, "
			      "prefetch %u%%, miss budget %u a second (0: none), overflow %s",
		(unsigned long long)gen, s.n_acl, s.n_routed, s.edns_size, s.max_ttl,
		s.max_negative_ttl, s.max_stale, s.prefetch_percent, s.miss_budget,
		s.miss_overflow == CFG_OVERFLOW_DROP ? "drop" : "servfail");
}
