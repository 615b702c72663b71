/*
 * dataplane/policy.c: taking control's response policy snapshots (shm.h's
 * policy_* fields) for the workers. Dataplane main thread.
 *
 * A snapshot is control's memory: before any worker reads it, it must lie
 * wholly inside DPDK's shared memory (the one address space both processes
 * map alike) and pass policy_check() (every offset a lookup follows inside
 * it). One that fails is refused and counted; the workers keep the one
 * they have. Workers take dp.policy at the top of each loop and write the
 * generation they took in policy_seen; the smallest of those is what
 * control may free below (policy_released), as a grace period over the
 * workers' loops, like the cache's QSBR.
 */
#include <rte_memory.h>

#include "answer/policy.h"
#include "conf/log.h"
#include "dataplane/dp.h"

static bool in_dpdk_memory(uint64_t addr, uint64_t len)
{
	if (!addr || !len || addr + len < addr)
		return false;
	/* both ends, and every page between, in DPDK's memory segments */
	const uintptr_t step = 1u << 21;
	for (uint64_t a = addr; a < addr + len; a += step)
		if (!rte_mem_virt2memseg((void *)(uintptr_t)a, NULL))
			return false;
	return rte_mem_virt2memseg((void *)(uintptr_t)(addr + len - 1), NULL) != NULL;
}

void dp_policy_poll(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	uint64_t gen = __atomic_load_n(&ctl->policy_gen, __ATOMIC_ACQUIRE);

	if (gen && gen != ctl->policy_active && gen != ctl->policy_rejected) {
		uint64_t addr = ctl->policy_addr, len = ctl->policy_len;
		const struct policy_snap *s = (const struct policy_snap *)(uintptr_t)addr;
		if (!in_dpdk_memory(addr, len) || policy_check(s, (size_t)len) ||
		    policy_gen(s) != gen) {
			ctl->policy_rejected = gen;
			ctl->writer.policy_rejected++;
			CFG_LOG_LIMITED(CFG_LOG_WARNING, "policy snapshot %llu refused: not in "
							 "DPDK memory or not well-formed; the one "
							 "in force stays",
					(unsigned long long)gen);
		} else {
			__atomic_store_n(&dp->policy, s, __ATOMIC_RELEASE);
			ctl->policy_active = gen;
			ctl->writer.policy_published++;
			cfg_log(CFG_LOG_INFO, "policy snapshot %llu taken (%llu octets)",
				(unsigned long long)gen, (unsigned long long)len);
		}
	}
	/* what every worker has moved to */
	uint64_t low = ctl->policy_active;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint64_t seen = __atomic_load_n(&ctl->policy_seen[i], __ATOMIC_ACQUIRE);
		if (seen < low)
			low = seen;
	}
	__atomic_store_n(&ctl->policy_released, low, __ATOMIC_RELEASE);
}
