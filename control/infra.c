/*
 * control/infra.c: server state and remembered failures (see infra.h).
 * Control process, one thread. Both tables are indexed by a hash keyed
 * with a secret drawn at start: server addresses come from referrals and
 * question names from clients, that is from anyone, so nobody can aim
 * entries at one slot. A server lookup probes at most PROBES slots.
 */
#include "infra.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/rng.h"
#include "dns/name.h"

#define PROBES 8
#define SRTT_MAX_MS 120000
#define TIMEOUT_PENALTY_MS 1000

struct fail {
	uint64_t key;		/* 0: empty */
	uint64_t expire_ms;
	uint8_t shift;		/* this failure's TTL is min_s << shift */
};

struct ctl_infra {
	struct ctl_infra_config cfg;
	struct ctl_infra_stats st;
	uint64_t seed[2];
	struct ctl_srv *srv;
	struct fail *fail;
	uint32_t made;		/* entries made so far (wrapping), the last one's serial */
};

void ctl_infra_config_default(struct ctl_infra_config *c)
{
	*c = (struct ctl_infra_config){
		.slots = 4096,
		.hold_after = 3,
		.hold_min_ms = 2000,
		.hold_max_ms = 60000,
		.no_edns_ms = 900000,
		.fail_slots = 65536,
		.fail_min_s = 5,
		.fail_max_s = 30,
	};
}

static bool pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

struct ctl_infra *ctl_infra_new(const struct ctl_infra_config *c)
{
	struct ctl_infra *t;

	if (!pow2(c->slots) || !pow2(c->fail_slots) || !c->hold_after || !c->hold_min_ms ||
	    c->hold_max_ms < c->hold_min_ms || !c->fail_min_s || c->fail_max_s < c->fail_min_s)
		return NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	t->cfg = *c;
	t->srv = calloc(c->slots, sizeof(*t->srv));
	t->fail = calloc(c->fail_slots, sizeof(*t->fail));
	if (!t->srv || !t->fail) {
		ctl_infra_free(t);
		return NULL;
	}
	up_rng_buf(t->seed, sizeof(t->seed));
	return t;
}

void ctl_infra_forget_failures(struct ctl_infra *t)
{
	memset(t->fail, 0, t->cfg.fail_slots * sizeof(*t->fail));
}

unsigned ctl_infra_each(const struct ctl_infra *t,
			void (*cb)(void *arg, const struct ctl_srv *s), void *arg)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < t->cfg.slots; i++)
		if (t->srv[i].used) {
			cb(arg, &t->srv[i]);
			n++;
		}
	return n;
}

void ctl_infra_set_fail_ttl(struct ctl_infra *t, uint32_t min_s, uint32_t max_s)
{
	if (!min_s || max_s < min_s)
		return;
	t->cfg.fail_min_s = min_s;
	t->cfg.fail_max_s = max_s;
}

void ctl_infra_free(struct ctl_infra *t)
{
	if (!t)
		return;
	free(t->srv);
	free(t->fail);
	free(t);
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

static uint64_t hash_octets(const struct ctl_infra *t, const uint8_t *p, size_t n,
			    uint64_t extra)
{
	uint64_t h = t->seed[0] ^ extra;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return mix(h ^ t->seed[1]);
}

/* --- servers --------------------------------------------------------------- */

struct ctl_srv *ctl_infra_get(struct ctl_infra *t, const struct ctl_addr *a, uint64_t now)
{
	uint64_t h = hash_octets(t, a->a, a->family == AF_INET ? 4 : 16, a->family);
	struct ctl_srv *s = NULL;

	for (unsigned p = 0; p < PROBES && !s; p++) {
		struct ctl_srv *c = &t->srv[(h + p) & (t->cfg.slots - 1)];
		if (!c->used || ctl_addr_same(&c->a, a))
			s = c;
	}
	if (!s) /* a full neighbourhood: its first slot starts over */
		s = &t->srv[h & (t->cfg.slots - 1)];
	if (!s->used || !ctl_addr_same(&s->a, a)) {
		if (++t->made == 0) /* 0 is no entry's */
			t->made = 1;
		*s = (struct ctl_srv){ .a = *a, .used = true, .made = t->made,
				       .srtt_ms = CTL_INFRA_SRTT_UNKNOWN_MS };
	}
	if (s->no_edns && now >= s->no_edns_until_ms) {
		/* maybe it was upgraded, or the middlebox went: try again */
		s->no_edns = false;
		s->edns_ok = false;
	}
	return s;
}

enum ctl_srv_state ctl_infra_state(const struct ctl_srv *s, uint64_t now)
{
	if (!s->hold_ms)
		return CTL_SRV_USABLE;
	if (s->probing || now < s->held_until_ms)
		return CTL_SRV_HELD;
	return CTL_SRV_PROBE;
}

bool ctl_infra_sent(struct ctl_infra *t, struct ctl_srv *s, uint64_t now)
{
	if (ctl_infra_state(s, now) != CTL_SRV_PROBE)
		return false;
	s->probing = true;
	t->st.probes++;
	return true;
}

void ctl_infra_probe_gone(struct ctl_srv *s)
{
	s->probing = false;
}

struct ctl_infra_mark ctl_infra_mark(const struct ctl_srv *s)
{
	return (struct ctl_infra_mark){ s->made, s->replies_seen, s->timeouts_seen };
}

void ctl_infra_reply(struct ctl_infra *t, struct ctl_srv *s, uint32_t rtt_ms)
{
	/* the first sample, or the first since timeouts, is taken as it is;
	 * a measured RTT equal to the unknown one's default is averaged like
	 * any other (it used to be taken as "never heard") */
	bool first = !ctl_infra_heard(s);

	s->replies_seen++;
	s->srtt_ms = s->timeouts || first ? rtt_ms : (s->srtt_ms * 7 + rtt_ms) / 8;
	s->timeouts = 0;
	s->silent = 0;
	if (s->hold_ms)
		t->st.released++;
	s->hold_ms = 0;
	s->held_until_ms = 0;
	s->probing = false;
}

void ctl_infra_timeout(struct ctl_infra *t, struct ctl_srv *s, uint64_t now,
		       const struct ctl_infra_mark *sent, bool probe)
{
	s->srtt_ms = s->srtt_ms + TIMEOUT_PENALTY_MS > SRTT_MAX_MS ?
			     SRTT_MAX_MS : s->srtt_ms + TIMEOUT_PENALTY_MS;
	s->timeouts++;
	s->timeouts_seen++;
	if (!probe && sent && sent->made == s->made) {
		uint32_t replies = s->replies_seen - sent->replies;
		uint32_t timeouts = s->timeouts_seen - sent->timeouts;

		if (replies && replies >= timeouts) {
			/* it answered as many as it dropped while this one
			 * was out: a lost datagram or a busy server, not a
			 * silent one */
			t->st.lost++;
			return;
		}
	}
	s->silent++;
	if (probe && s->probing) {
		s->probing = false;
		s->hold_ms = s->hold_ms * 2 > t->cfg.hold_max_ms ? t->cfg.hold_max_ms :
								    s->hold_ms * 2;
		s->held_until_ms = now + s->hold_ms;
	} else if (!s->hold_ms && s->silent >= t->cfg.hold_after) {
		s->hold_ms = t->cfg.hold_min_ms;
		s->held_until_ms = now + s->hold_ms;
		t->st.holds++;
	}
}

void ctl_infra_no_edns(struct ctl_infra *t, struct ctl_srv *s, uint64_t now)
{
	s->no_edns = true;
	s->no_edns_until_ms = now + t->cfg.no_edns_ms;
}

/* --- resolution failures --------------------------------------------------- */

static uint64_t fail_key(const struct ctl_infra *t, const uint8_t *name, uint16_t qtype,
			 uint16_t qclass)
{
	uint8_t lower[DNS_NAME_MAX];
	size_t n = dns_name_copy_lower(lower, name);
	uint64_t k = hash_octets(t, lower, n, (uint64_t)qtype << 16 | qclass);

	return k | 1; /* never 0, the empty slot */
}

bool ctl_infra_failed(struct ctl_infra *t, const uint8_t *name, uint16_t qtype,
		      uint16_t qclass, uint64_t now)
{
	uint64_t k = fail_key(t, name, qtype, qclass);
	const struct fail *f = &t->fail[k & (t->cfg.fail_slots - 1)];

	if (f->key != k || now >= f->expire_ms)
		return false;
	t->st.failures_hit++;
	return true;
}

void ctl_infra_fail(struct ctl_infra *t, const uint8_t *name, uint16_t qtype,
		    uint16_t qclass, uint64_t now)
{
	uint64_t k = fail_key(t, name, qtype, qclass);
	struct fail *f = &t->fail[k & (t->cfg.fail_slots - 1)];
	uint8_t shift = 0;

	/* Failing again within one of its own TTLs after it expired: twice
	 * as long this time (exponential back-off, RFC 9520 3.2). */
	if (f->key == k) {
		uint64_t ttl = (uint64_t)t->cfg.fail_min_s * 1000 << f->shift;
		bool at_max = ((uint64_t)t->cfg.fail_min_s << f->shift) >= t->cfg.fail_max_s;
		if (now < f->expire_ms + ttl)
			shift = at_max ? f->shift : (uint8_t)(f->shift + 1);
	}
	uint64_t ttl_s = (uint64_t)t->cfg.fail_min_s << shift;
	if (ttl_s > t->cfg.fail_max_s)
		ttl_s = t->cfg.fail_max_s;
	*f = (struct fail){ .key = k, .expire_ms = now + ttl_s * 1000, .shift = shift };
	t->st.failures_cached++;
}

void ctl_infra_get_stats(const struct ctl_infra *t, struct ctl_infra_stats *st)
{
	*st = t->st;
}
