/*
 * dataplane/flush.c: an operator's flush (bailiwick-ctl flush, flush-zone,
 * flush-negative, flush-all), asked by control through shm.h's flush
 * request. Dataplane main thread (the cache's writer and the NSEC store's).
 *
 * The request is read once, checked (a name that is not a wire name is
 * refused and counted, and done at once), and applied: the NSEC store's
 * zones go at once; the message cache's entries are removed by the trim
 * (cache_trim(), main.c's loop) a slice at a time, so that a large cache
 * does not stall the heartbeat; the flush is reported done (flush_done)
 * once the trim has looked at every slot. A flush of everything bumps the
 * cache's epoch: every entry is a miss for the workers at once.
 */
#include <string.h>

#include "cache/nsec.h"
#include "conf/log.h"
#include "dataplane/dp.h"
#include "dns/name.h"

static void done(struct dp *dp, uint64_t seq, uint64_t removed, uint64_t zones,
		 uint32_t status)
{
	struct shm_ctl *ctl = dp->ctl;

	ctl->flush_removed = removed;
	ctl->flush_zones = zones;
	ctl->flush_status = status;
	__atomic_store_n(&ctl->flush_done, seq, __ATOMIC_RELEASE);
	if (status == SHM_FLUSH_REFUSED) {
		ctl->writer.flush_rejected++;
		CFG_LOG_LIMITED(CFG_LOG_WARNING, "flush %llu refused: a bad request (mode or "
						 "name), or the cache refused it",
				(unsigned long long)seq);
	} else {
		ctl->writer.flushes++;
		ctl->writer.flush_removed += removed;
		cfg_log(CFG_LOG_INFO, "flush %llu: %llu entries, %llu NSEC zones removed%s",
			(unsigned long long)seq, (unsigned long long)removed,
			(unsigned long long)zones,
			status == SHM_FLUSH_NOMEM ? " (the NSEC store: out of memory, its ranges stay)"
						  : "");
	}
	dp->flush_seq = 0;
}

void dp_flush_poll(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	uint64_t removed;

	if (dp->flush_seq) {
		if (!cache_flush_busy(dp->cache, &removed))
			done(dp, dp->flush_seq, removed, dp->flush_zones, dp->flush_status);
		return;
	}
	uint64_t seq = __atomic_load_n(&ctl->flush_seq, __ATOMIC_ACQUIRE);
	if (seq == ctl->flush_done)
		return;
	uint32_t mode = ctl->flush_mode;
	uint8_t name[DNS_NAME_MAX];

	_Static_assert(sizeof(ctl->flush_name) == sizeof(name), "a wire name's room");
	_Static_assert(SHM_FLUSH_NAME == CACHE_FLUSH_NAME && SHM_FLUSH_ZONE == CACHE_FLUSH_ZONE &&
		       SHM_FLUSH_NEGATIVE == CACHE_FLUSH_NEGATIVE && SHM_FLUSH_ALL == CACHE_FLUSH_ALL,
		       "the request's mode is the cache's");
	memcpy(name, ctl->flush_name, sizeof(name));
	bool named = mode == SHM_FLUSH_NAME || mode == SHM_FLUSH_ZONE;
	if ((!named && mode != SHM_FLUSH_NEGATIVE && mode != SHM_FLUSH_ALL) ||
	    (named && dns_name_check(name, sizeof(name)) < 0)) {
		done(dp, seq, 0, 0, SHM_FLUSH_REFUSED);
		return;
	}
	uint64_t entries;
	int zones = cache_flush_stores(dp->cache, dp->nsec, mode, name, ctl->now_s, &entries);
	uint32_t status = zones == CACHE_E_NSEC_NOMEM ? SHM_FLUSH_NOMEM : SHM_FLUSH_OK;

	if (zones < 0 && status == SHM_FLUSH_OK) {
		/* cannot be busy: one at a time, and ours is done */
		done(dp, seq, 0, 0, SHM_FLUSH_REFUSED);
		return;
	}
	if (mode == SHM_FLUSH_ALL) { /* done at once: every entry a miss */
		done(dp, seq, entries, zones > 0 ? (uint64_t)zones : 0, status);
		return;
	}
	dp->flush_seq = seq;
	dp->flush_zones = zones > 0 ? (uint64_t)zones : 0;
	dp->flush_status = status;
}
