/*
 * dataplane/dp.h: the dataplane process's own state, shared by its main
 * thread (set-up, clock, control liveness, the cache writer) and its worker
 * lcores. Nothing here crosses to control: that is shm/shm.h.
 *
 * Set up once by main.c before the workers start and read-only afterwards,
 * except each worker's struct dp_worker (its owner only) and dp.quit.
 */
#ifndef BW_DATAPLANE_DP_H
#define BW_DATAPLANE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "answer/acl.h"
#include "answer/policy.h"
#include "answer/settings.h"
#include "conf/config.h"
#include "net/pkt.h"
#include "shm/shm.h"
#include "cache/msgcache.h"
#include "cache/nsec.h"
#include "dataplane/budget.h"
#include "dataplane/zcount.h"
#include "dns/query.h"

#define DP_BURST 32		 /* frames per rx burst (<= CACHE_BURST_MAX) */
#define DP_TX_DRAIN_US 100	 /* a partial tx batch waits at most this */
#define DP_RX_DESC 1024
#define DP_TX_DESC 1024
#define DP_MBUF_CACHE 256
#define DP_ANSWER_RING_SIZE 1024 /* resolved answers waiting for their worker */
#define DP_KERNEL_RING_SIZE 1024 /* exception frames, each way, per worker */
#define DP_ADDRS_MAX CFG_PORT_ADDRS_MAX

struct cache_nsec;
struct policy_snap;

/* A service port and its exception TAP (one queue pair, the main
 * thread's: net_tap has at most 16 queues, and a secondary process can be
 * handed the descriptors of only a few). */
struct dp_port {
	uint16_t port_id;	/* the service port */
	uint16_t exc_id;	/* its exception port (net_tap to the kernel) */
	struct rte_ether_addr mac;
	unsigned n_v4, n_v6;
	uint32_t v4[DP_ADDRS_MAX];	/* service addresses, network order */
	uint8_t v6[DP_ADDRS_MAX][16];
	unsigned n_bcast;
	uint32_t v4_bcast[DP_ADDRS_MAX]; /* their subnets' broadcast addresses */
	/* the largest UDP answer on this link, by family (NET_PKT_IPV4,
	 * NET_PKT_IPV6): answer_udp_max() of our EDNS size and the MTU */
	uint16_t udp_max[2];
	uint16_t mtu;
};

/* A frame that carries a DNS query, between parse and answer. */
struct dp_job {
	struct rte_mbuf *m;
	struct dp_port *port;
	struct net_pkt p;
	struct dns_query q;
	struct cache_key k;
	/* response policy: the question's own match (action 0: none) and
	 * what the response triggers before its zone need (policy.h) */
	struct policy_hit pre;
	unsigned need;
	uint8_t tap;		/* sampled for dnstap: its answer is copied too */
};

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *m[2 * DP_BURST];
};

struct dp;

/* One worker lcore's state: written by that lcore only. */
struct dp_worker {
	struct dp *dp;
	unsigned idx;			/* 0..n_workers-1: its queue on every port */
	unsigned lcore;
	struct shm_worker_stats *st;	/* in the control block */
	struct rte_ring *miss;		/* to control */
	struct rte_ring *answers;	/* from the writer: mbufs ready to send */
	struct rte_ring *to_kernel;	/* to the main thread: for the exception TAPs */
	struct rte_ring *from_kernel;	/* from the main thread: the kernel's egress */
	struct cache_reader_stats cst;
	uint64_t drain_tsc;		/* when the partial batches must go */
	const struct policy_snap *pol;	/* this iteration's (dp.policy), or NULL */
	uint64_t pol_gen;
	unsigned pol_need;		/* policy_needs() of every zone of pol */
	struct dp_txq tx[CFG_PORTS_MAX];	/* per service port */
	struct dp_txq kq;			/* for the kernel, any port (m->port: its id) */
	unsigned njobs;
	struct dp_job jobs[DP_BURST];
	struct shm_miss rec;		/* a miss record being filled */
	struct dp_budget budget;	/* dataplane.miss-budget */
	/* dnstap (cfg dnstap): 1 query in tap_every (0: none) is copied to
	 * control with its answer, through the tap ring; the query log (cfg
	 * log.query-sample): 1 query in qlog_every */
	struct rte_ring *tap;
	uint32_t tap_every, tap_left;
	uint32_t qlog_every, qlog_left;
	bool tap_queries, tap_responses;
	uint64_t rx_tsc;		/* the burst being sorted came in then */
	uint64_t done_tsc;		/* the last burst's DNS work ended then */
	struct dp_zcount_memo zc;	/* dp_zcount()'s, this turn */
	struct cache_nsec_memo nm;	/* answer_from_nsec()'s, this turn */
	alignas(64) uint8_t tap_rec[SHM_TAP_ELEM + SHM_TAP_MSG_MAX]; /* a copy being made */
} __rte_cache_aligned;

struct dp {
	const struct cfg *cfg;
	uint8_t cfg_sha256[CFG_SHA256_LEN];	/* of the file cfg was read from */
	struct shm_ctl *ctl;
	struct cache *cache;
	struct cache_nsec *nsec;	/* validated ranges (filled by validation) */
	struct rte_mempool *pool;
	struct rte_ring *fill;
	struct rte_ring *lookup;	/* control's TCP questions, and ... */
	struct rte_ring *found;		/* ... the cache's answers to them */
	/* the access-control list the workers screen clients with: the
	 * configuration's, then each control publishes (settings.c) */
	const struct answer_acl *acl;
	unsigned n_ports;
	struct dp_port ports[CFG_PORTS_MAX];
	/* DPDK port id -> index in ports[] (DP_PORT_NONE: not a service
	 * port). An mbuf's port field always holds a port id, its DPDK
	 * meaning: the service port it came in on or goes out of. */
	uint8_t port_index[RTE_MAX_ETHPORTS];
	unsigned n_workers;
	struct dp_worker *workers[SHM_WORKERS_MAX];
	uint64_t drain_cycles;
	uint16_t edns_size;		/* our advertised UDP size */
	/* dataplane.miss-overflow and miss-budget: the configuration's, then
	 * each control publishes (settings.c); single stores a worker reads
	 * per miss */
	uint8_t miss_overflow;		/* enum cfg_miss_overflow */
	uint32_t miss_budget;		/* misses a second, per worker; 0: none */
	uint32_t max_negative_ttl;	/* cache.max-negative-ttl (the NSEC store's feeds) */
	uint64_t anchors_id;		/* control's trust anchors (0: none seen yet) */
	/* flush.c: the operator's flush the trim is doing (0: none) */
	uint64_t flush_seq, flush_zones;
	uint32_t flush_status;
	/* the stub and forward zones (settings.c; RCU: a worker loads it per
	 * miss): no denial is synthesized at or below them */
	const struct dp_routed *routed;
	/* the response policy snapshot the workers apply (NULL: none), set
	 * by the main thread once it has checked control's (policy.c) */
	const struct policy_snap *policy;
	volatile bool quit;
};

#define DP_PORT_NONE 0xff

/* The index in ports[] of a DPDK port id (-1: none of them), and its
 * service port (the first for none: an mbuf from our own rings always
 * carries one). Any thread. */
static inline int dp_port_index(const struct dp *dp, uint16_t port_id)
{
	uint8_t i = port_id < RTE_MAX_ETHPORTS ? dp->port_index[port_id] : DP_PORT_NONE;

	return i < dp->n_ports ? i : -1;
}

static inline struct dp_port *dp_port_of(struct dp *dp, uint16_t port_id)
{
	int i = dp_port_index(dp, port_id);

	return &dp->ports[i < 0 ? 0 : i];
}

/* Worker lcore entry (rte_eal_remote_launch): runs until dp->quit. */
int dp_worker_main(void *arg);

/*
 * Cache writer (writer.c), on the main thread: takes up to max fill records,
 * inserts their answers into the cache and hands each client's answer to its
 * worker. Returns the number of records taken.
 */
unsigned dp_writer_poll(struct dp *dp, unsigned max);

/*
 * The client cache for control's own clients (writer.c), on the main
 * thread: takes up to max lookup records and answers each from the cache
 * (a fresh entry, written for a stream) or with an empty found record.
 * Returns the number of records taken.
 */
unsigned dp_lookup_poll(struct dp *dp, unsigned max);

/*
 * Response policy (policy.c), on the main thread: a snapshot control
 * published in the control block is checked and given to the workers
 * (dp.policy), and policy_released tells control which older ones no
 * worker uses any more.
 */
void dp_policy_poll(struct dp *dp);

/*
 * Configuration settings (settings.c), on the main thread: the block
 * control publishes on a reload (shm.h: settings) is checked and put in
 * force for the workers (dp.acl, dp.edns_size and the ports' UDP limits)
 * and the cache (its TTL bounds, serve-stale and prefetch settings);
 * settings_active says which generation they apply. dp_acl_new() compiles
 * n rules into the list in force (the one it replaces freed after a grace
 * period); NULL: no memory. dp_port_udp_max() sets a port's UDP limits
 * from dp.edns_size and its MTU.
 */
struct dp_routed {
	unsigned n;
	uint8_t name[SHM_ROUTED_MAX][DNS_NAME_MAX];
};
void dp_settings_poll(struct dp *dp);
/* flush.c: control's flush request taken, and reported done once the
 * cache's trim has finished it (main thread, its loop). */
void dp_flush_poll(struct dp *dp);

/* A page of the cache dump when control asked for one (dump.c): 1 when
 * it served one (work done: no nap), else 0. */
unsigned dp_dump_poll(struct dp *dp);

/* ports.c: the service ports' link state and DPDK counters into shm's
 * ports[]: the names once (after the ports started and the control block
 * exists), the values at each call (about once a second). Main thread. */
void dp_ports_stats_init(struct dp *dp);
void dp_ports_stats(struct dp *dp);
/* n zones (lower-cased wire names) in force for the workers; false: no
 * memory (the list in force stays). */
bool dp_routed_set(struct dp *dp, const uint8_t (*names)[DNS_NAME_MAX], unsigned n);
/* Whether the workers may synthesize a denial for name. */
static inline bool dp_synth_ok(const struct dp *dp, const uint8_t *name)
{
	const struct dp_routed *r = __atomic_load_n(&dp->routed, __ATOMIC_ACQUIRE);

	return !r || !answer_routed((const uint8_t (*)[DNS_NAME_MAX])r->name, r->n, name);
}
const struct answer_acl *dp_acl_new(struct dp *dp, const struct cfg_acl_rule *r, unsigned n);
void dp_port_udp_max(const struct dp *dp, struct dp_port *pt);

/*
 * Exception path (exception.c), on the main thread: frames the workers
 * passed on go out of their port's exception TAP; what the kernel sends
 * out of a TAP goes to one worker (the port index modulo the workers, so a
 * flow keeps its order), which transmits it. Returns the frames moved.
 */
unsigned dp_exception_poll(struct dp *dp);

/* The kernel side of port cp's exception TAP (kernel.c): every service
 * address with its prefix, and the link up. 0, or -1 with one line in err
 * naming the interface (and the address). */
struct cfg_port;
int dp_kernel_iface(const struct cfg_port *cp, char *err, size_t errlen);

#endif
