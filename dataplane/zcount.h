/*
 * dataplane/zcount.h: a worker's per-zone count of RFC 8198 answers, in its
 * row of the control block (shm.h: wzones). Worker lcore, hot path: one
 * call per synthesized answer. Header-only so that it inlines into the
 * worker and tests/dataplane can drive it without EAL.
 */
#ifndef BW_DATAPLANE_ZCOUNT_H
#define BW_DATAPLANE_ZCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/name.h"
#include "shm/shm.h"

/*
 * The zone counted last and its slot, until the worker's next quiescent
 * state: apex points into the NSEC store's zone, which RCU does not free
 * before then, so no other zone can have that address meanwhile and the
 * slot is found by the pointer alone (the count was 13 TSC cycles of a
 * synthesized answer on a Xeon, most of it the apex's compare in shared
 * memory). The worker
 * forgets it (dp_zcount_forget()) before each quiescent state.
 */
struct dp_zcount_memo {
	const uint8_t *apex;
	struct shm_nsec_zone_count *slot;
};

static inline void dp_zcount_forget(struct dp_zcount_memo *m)
{
	m->apex = NULL;
}

/*
 * One answer of zone apex (len octets, lower-cased, as the proof has it) in
 * row: a few slots probed from the name's hash, a free one taken, then the
 * last slot ("other zones"). The length comes with the proof and the
 * compare is inline (dns_name_len and a call to memcmp were ~25 TSC cycles
 * of a synthesized answer in the worker's profile).
 */
static inline void dp_zcount(struct shm_nsec_zone_count row[SHM_NSEC_ZONE_SLOTS],
			     struct dp_zcount_memo *m, const uint8_t *apex, size_t len)
{
	unsigned h = (unsigned)len * 31u + apex[len > 1 ? 1 : 0];
	struct shm_nsec_zone_count *s = &row[SHM_NSEC_ZONE_SLOTS - 1];

	if (apex == m->apex) {
		m->slot->answers++;
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		struct shm_nsec_zone_count *c = &row[(h + i) % (SHM_NSEC_ZONE_SLOTS - 1)];

		if (c->apex_len == len && dns_same_octets(c->apex, apex, len)) {
			s = c;
			break;
		}
		if (c->apex_len == 0) {
			/* (counted before control sees the slot) */
			memcpy(c->apex, apex, len);
			c->answers = 1;
			__atomic_store_n(&c->apex_len, (uint8_t)len, __ATOMIC_RELEASE);
			m->apex = apex;
			m->slot = c;
			return;
		}
	}
	s->answers++;
	m->apex = apex;
	m->slot = s;
}

#endif
