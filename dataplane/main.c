/*
 * dataplane/main.c: bailiwick-dataplane -c FILE [-t], the DPDK primary
 * process. At start (may block, may log): reads the configuration, starts
 * EAL with the file's arguments plus one device argument per port and per
 * exception TAP, configures one rx/tx queue pair per worker on every port
 * (RSS over addresses and ports where the device has it) and one on each
 * exception TAP (the main thread's), gives each
 * exception TAP the service port's MAC and addresses so the kernel's stack
 * lives on the same link, creates the shared objects of shm/shm.h and
 * the cache, and launches the workers. Then the main thread is the cache
 * writer, serves the exception TAPs, and keeps the clock and control's
 * liveness in the control block,
 * until SIGINT or SIGTERM. Its lines (conf/log.h) go to stderr until it is
 * ready, then to log.target at log.level; once control has published its
 * own level and target (set-log-level, a reload), the dataplane follows
 * them.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <systemd/sd-daemon.h>
#include <urcu/urcu-qsbr.h>

#include "answer/reply.h"
#include "answer/settings.h"
#include "cache/nsec.h"
#include "conf/cpu.h"
#include "conf/log.h"
#include "dataplane/dp.h"
#include "shm/clock.h"

#define EXC_VDEV_FMT "net_tap_bwexc%u"
#define MBUFS_MIN 16383
#define HOUSEKEEPING_MS 10	/* liveness checks, clock */
#define IDLE_SLEEP_US 20	/* the writer's nap when there is nothing to do */
#define IDLE_SLEEP_MAX_US 500	/* ... doubling up to this while nothing comes */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The ethdev name of a configured device: up to its first comma. */
static void dev_name(const char *dev, char *out, size_t cap)
{
	size_t n = strcspn(dev, ",");

	if (n >= cap)
		n = cap - 1;
	memcpy(out, dev, n);
	out[n] = 0;
}

/* A PCI address (domain optional), devargs after a comma allowed. */
static bool is_pci(const char *dev)
{
	char name[64];
	unsigned a, b, c, d;
	char tail;

	dev_name(dev, name, sizeof(name));
	return sscanf(name, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
	       sscanf(name, "%x:%x.%x%c", &b, &c, &d, &tail) == 3;
}

static bool has_arg(const struct cfg *cfg, const char *arg)
{
	for (unsigned i = 0; i < cfg->dataplane.n_eal; i++)
		if (!strncmp(cfg->dataplane.eal[i], arg, strlen(arg)))
			return true;
	return false;
}

/* Hugepages: used when reserved; otherwise say how (or run --no-huge). */
static void check_hugepages(const struct cfg *cfg, const char *path)
{
	static const char *const sizes[] = { "hugepages-2048kB", "hugepages-1048576kB" };
	long free_pages = 0;
	bool known = false;

	if (has_arg(cfg, "--no-huge"))
		return;
	/* every page size, not only the default one /proc/meminfo shows */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char p[128];
		long n;
		snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/%s/free_hugepages", sizes[i]);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &n) == 1) {
			free_pages += n;
			known = true;
		}
		fclose(f);
	}
	if (known && free_pages == 0) {
		cfg_log(CFG_LOG_ERR,
			"no free hugepages. Reserve some, e.g.\n"
			"  echo 512 > /proc/sys/vm/nr_hugepages\n"
			"or add \"--no-huge\" to dataplane.eal in %s (then control cannot\n"
			"attach: a secondary process needs the primary's hugepages).",
			path);
		exit(1);
	}
}

static int eal_start(const struct cfg *cfg, const char *argv0, const char *path)
{
	static char args[CFG_EAL_ARGS_MAX + 2 * CFG_PORTS_MAX * 2 + 8][CFG_DEVICE_MAX + 16];
	char *argv[RTE_DIM(args)];
	int argc = 0;

	snprintf(args[argc++], sizeof(args[0]), "%s", argv0);
	for (unsigned i = 0; i < cfg->dataplane.n_eal; i++)
		snprintf(args[argc++], sizeof(args[0]), "%s", cfg->dataplane.eal[i]);
	if (!has_arg(cfg, "--proc-type"))
		snprintf(args[argc++], sizeof(args[0]), "--proc-type=primary");
	if (!has_arg(cfg, "--base-virtaddr"))
		snprintf(args[argc++], sizeof(args[0]), "--base-virtaddr=" SHM_BASE_VIRTADDR);
	/* Without a PCI port, leave the host's NICs alone (EAL would probe
	 * every one it finds). */
	bool pci = false;
	for (unsigned i = 0; i < cfg->dataplane.n_ports; i++)
		pci |= is_pci(cfg->dataplane.ports[i].device);
	if (!pci && !has_arg(cfg, "--no-pci") && !has_arg(cfg, "-a") && !has_arg(cfg, "--allow"))
		snprintf(args[argc++], sizeof(args[0]), "--no-pci");
	for (unsigned i = 0; i < cfg->dataplane.n_ports; i++) {
		const char *dev = cfg->dataplane.ports[i].device;
		snprintf(args[argc++], sizeof(args[0]), is_pci(dev) ? "--allow=%s" : "--vdev=%s",
			 dev);
		snprintf(args[argc++], sizeof(args[0]), "--vdev=" EXC_VDEV_FMT ",iface=%s", i,
			 cfg->dataplane.ports[i].exception);
	}
	for (int i = 0; i < argc; i++)
		argv[i] = args[i];
	(void)path;
	return rte_eal_init(argc, argv);
}

/* One rx/tx queue pair per worker; RSS when there is more than one. */
static int port_start(uint16_t port, unsigned nq, struct rte_mempool *pool, bool rss,
		      char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	uint16_t nrx = DP_RX_DESC, ntx = DP_TX_DESC;
	int rc;

	if ((rc = rte_eth_dev_info_get(port, &info)) != 0)
		goto fail;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		snprintf(err, errlen, "port %u (%s): %u workers need %u queues, it has %u rx / %u tx",
			 port, info.driver_name, nq, nq, info.max_rx_queues, info.max_tx_queues);
		return -1;
	}
	if (rss && nq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
			info.flow_type_rss_offloads;
	}
	if ((rc = rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq, &conf)) != 0 ||
	    (rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx)) != 0)
		goto fail;
	for (unsigned q = 0; q < nq; q++) {
		int sock = rte_eth_dev_socket_id(port);
		if ((rc = rte_eth_rx_queue_setup(port, (uint16_t)q, nrx, sock, NULL, pool)) != 0 ||
		    (rc = rte_eth_tx_queue_setup(port, (uint16_t)q, ntx, sock, NULL)) != 0)
			goto fail;
	}
	if ((rc = rte_eth_dev_start(port)) != 0)
		goto fail;
	/* Neighbour solicitations go to solicited-node multicast groups. */
	rte_eth_allmulticast_enable(port);
	return 0;
fail:
	snprintf(err, errlen, "port %u: %s", port, rte_strerror(-rc));
	return -1;
}

static void link_report(const char *what, uint16_t port)
{
	struct rte_eth_link link = { 0 };
	struct rte_ether_addr mac;
	char macs[RTE_ETHER_ADDR_FMT_SIZE];

	rte_eth_link_get_nowait(port, &link);
	rte_eth_macaddr_get(port, &mac);
	rte_ether_format_addr(macs, sizeof(macs), &mac);
	cfg_log(CFG_LOG_NOTICE, "%s: port %u, %s, link %s, %u Mb/s", what, port, macs,
		link.link_status ? "up" : "down", link.link_speed);
}

static int shared_objects(struct dp *dp, char *err, size_t errlen)
{
	const struct rte_memzone *mz = rte_memzone_reserve(SHM_CTL_NAME, sizeof(struct shm_ctl),
							   SOCKET_ID_ANY, 0);
	char name[RTE_RING_NAMESIZE];

	if (!mz) {
		snprintf(err, errlen, "memzone %s: %s", SHM_CTL_NAME, rte_strerror(rte_errno));
		return -1;
	}
	struct shm_ctl *ctl = mz->addr;
	memset(ctl, 0, sizeof(*ctl));
	ctl->abi = SHM_ABI_VERSION;
	ctl->n_workers = dp->n_workers;
	ctl->miss_ring_size = SHM_MISS_RING_SIZE;
	ctl->fill_ring_size = SHM_FILL_RING_SIZE;
	ctl->record_sizes[0] = sizeof(struct shm_miss);
	ctl->record_sizes[1] = sizeof(struct shm_fill);
	ctl->record_sizes[2] = sizeof(struct shm_lookup);
	ctl->record_sizes[3] = sizeof(struct shm_found);
	ctl->dp_pid = getpid();
	ctl->tsc_hz = rte_get_tsc_hz();
	for (unsigned i = 0; i < dp->n_workers; i++) {
		rte_cpuset_t cs = rte_lcore_cpuset(dp->cfg->dataplane.workers[i]);
		for (unsigned c = 0; c < 64 * SHM_CPU_WORDS && c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &cs))
				ctl->worker_cpus[c / 64] |= 1ull << (c % 64);
	}
	memcpy(ctl->config_sha256, dp->cfg_sha256, sizeof(ctl->config_sha256));
	if (getrandom(&ctl->dp_instance, sizeof(ctl->dp_instance), 0) != sizeof(ctl->dp_instance))
		ctl->dp_instance = rte_rdtsc();
	ctl->now_ms = shm_clock_ms();
	ctl->dp_started_ms = ctl->now_ms;
	snprintf(ctl->dp_version, sizeof(ctl->dp_version), "%s", BW_VERSION);
	ctl->clock_scale = dp->cfg->resolver.clock_scale > 1 ? dp->cfg->resolver.clock_scale : 1;
	ctl->clock_base_ms = ctl->now_ms;
	ctl->now_s = (uint32_t)(ctl->now_ms / 1000);
	ctl->dp_heartbeat_ms = ctl->now_ms;
	dp->ctl = ctl;

	dp->fill = rte_ring_create_elem(SHM_FILL_RING_NAME, sizeof(struct shm_fill),
					SHM_FILL_RING_SIZE, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->lookup = rte_ring_create_elem(SHM_LOOKUP_RING_NAME, sizeof(struct shm_lookup),
					  SHM_LOOKUP_RING_SIZE, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->found = rte_ring_create_elem(SHM_FOUND_RING_NAME, sizeof(struct shm_found),
					 SHM_LOOKUP_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!dp->fill || !dp->lookup || !dp->found) {
		snprintf(err, errlen, "rings %s, %s, %s: %s", SHM_FILL_RING_NAME,
			 SHM_LOOKUP_RING_NAME, SHM_FOUND_RING_NAME, rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		snprintf(name, sizeof(name), SHM_MISS_RING_FMT, i);
		w->miss = rte_ring_create_elem(name, sizeof(struct shm_miss), SHM_MISS_RING_SIZE,
					       (int)rte_lcore_to_socket_id(w->lcore),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		int sock = (int)rte_lcore_to_socket_id(w->lcore);
		unsigned f = RING_F_SP_ENQ | RING_F_SC_DEQ;
		snprintf(name, sizeof(name), SHM_ANSWER_RING_FMT, i);
		w->answers = rte_ring_create(name, DP_ANSWER_RING_SIZE, sock, f);
		snprintf(name, sizeof(name), SHM_TO_KERNEL_RING_FMT, i);
		w->to_kernel = rte_ring_create(name, DP_KERNEL_RING_SIZE, sock, f);
		snprintf(name, sizeof(name), SHM_FROM_KERNEL_RING_FMT, i);
		w->from_kernel = rte_ring_create(name, DP_KERNEL_RING_SIZE, sock, f);
		if (!w->miss || !w->answers || !w->to_kernel || !w->from_kernel) {
			snprintf(err, errlen, "worker %u's rings: %s", i, rte_strerror(rte_errno));
			return -1;
		}
		w->st = &ctl->wstats[i];
		/* dnstap's client messages and the query log: control reads
		 * the same file and looks the rings up */
		const typeof(dp->cfg->dnstap) *t = &dp->cfg->dnstap;
		bool tap = t->enabled && (t->client_queries || t->client_responses);
		if (tap || dp->cfg->log.query_sample) {
			snprintf(name, sizeof(name), SHM_TAP_RING_FMT, i);
			w->tap = rte_ring_create_elem(name, SHM_TAP_ELEM, SHM_TAP_RING_SIZE, sock, f);
			if (!w->tap) {
				snprintf(err, errlen, "worker %u's tap ring: %s", i,
					 rte_strerror(rte_errno));
				return -1;
			}
			w->tap_every = w->tap_left = tap ? t->sample : 0;
			w->qlog_every = w->qlog_left = dp->cfg->log.query_sample;
			w->tap_queries = t->client_queries;
			w->tap_responses = t->client_responses;
		}
	}
	/* Last: a control that finds the magic finds everything else. */
	__atomic_store_n(&ctl->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* Control is up while it stamps its heartbeat and its process exists. */
static void check_control(struct shm_ctl *ctl, uint64_t now)
{
	int32_t pid = ctl->ctl_pid;
	/* signed: control may stamp a time later than our now, read before
	 * (unsigned, that read as ages ago: "gone" at random under load) */
	bool up = pid > 0 && (int64_t)(now - ctl->ctl_heartbeat_ms) < SHM_DEAD_MS &&
		  (kill(pid, 0) == 0 || errno == EPERM);

	if (up != (bool)ctl->ctl_up) {
		ctl->ctl_up = up;
		cfg_log(up ? CFG_LOG_NOTICE : CFG_LOG_WARNING, "control %s (pid %d)",
			up ? "attached" : "gone", pid);
	}
}

/* Control's log level and target (shm.h's log_setting), once it has
 * published them: checked, then ours. */
static void follow_log(struct shm_ctl *ctl)
{
	static uint64_t seen;
	uint64_t s = __atomic_load_n(&ctl->log_setting, __ATOMIC_ACQUIRE);
	uint32_t v = (uint32_t)s;
	unsigned level = v & 0xff, target = (v >> 8) & 0xff;
	int32_t pid = ctl->ctl_pid;

	/* only the attached control's (not one it replaced, woken up) */
	if (s == seen || !(v & SHM_LOG_SET) || pid <= 0 || (uint32_t)(s >> 32) != (uint32_t)pid)
		return;
	seen = s;
	if (level >= CFG_LOG_LEVELS || target >= CFG_LOG_TARGETS || v >> 16 != 1) {
		CFG_LOG_LIMITED(CFG_LOG_WARNING, "control's log setting %#x: not a level "
						 "and target; ours stay", v);
		return;
	}
	unsigned was = cfg_log_get_level(), was_target = cfg_log_get_target();
	if (level == was && target == was_target)
		return;
	/* said where lines went before and where they go now */
	static struct cfg_log_limit lim, lim2;
	cfg_log_limited(&lim, CFG_LOG_NOTICE, "log level %s (was %s), target %s: control's",
			cfg_log_levels[level], cfg_log_levels[was], cfg_log_targets[target]);
	cfg_log_configure(level, target);
	if (target != was_target || (was < CFG_LOG_NOTICE && level >= CFG_LOG_NOTICE))
		cfg_log_limited(&lim2, CFG_LOG_NOTICE, "log level %s (was %s), target %s (was %s): "
						      "control's",
				cfg_log_levels[level], cfg_log_levels[was], cfg_log_targets[target],
				cfg_log_targets[was_target]);
}

static void writer_stats(struct dp *dp)
{
	struct cache_stats cs;

	struct cfg_log_stats ls;
	cfg_log_get_stats(&ls);
	dp->ctl->writer.log_messages = ls.messages;
	dp->ctl->writer.log_suppressed = ls.suppressed;
	dp->ctl->writer.log_dropped = ls.queue_dropped;
	cache_get_stats(dp->cache, &cs);
	dp->ctl->writer.cache_entries = cs.entries;
	dp->ctl->writer.cache_bytes = cs.bytes;
	dp->ctl->writer.cache_evictions = cs.evictions;
	if (dp->nsec) {
		struct cache_nsec_stats ns;
		cache_nsec_get_stats(dp->nsec, &ns);
		dp->ctl->writer.nsec_zones = ns.zones;
		dp->ctl->writer.nsec_held = ns.nsec_ranges + ns.nsec3_ranges;
		dp->ctl->writer.nsec_bytes = ns.bytes;
		dp->ctl->writer.nsec_evicted = ns.evicted_zones;
		/* the zones with most ranges and those evicted most, under
		 * the sequence count */
		static struct cache_nsec_zone_info zi[SHM_NSEC_ZONES_HELD];
		struct shm_nsec_zones *z = &dp->ctl->nsec_zones;
		unsigned k = cache_nsec_zones(dp->nsec, zi, SHM_NSEC_ZONES_HELD);
		__atomic_store_n(&z->seq, z->seq + 1, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		for (unsigned i = 0; i < k; i++) {
			z->z[i].ranges = zi[i].ranges;
			z->z[i].apex_len = (uint8_t)dns_name_len(zi[i].apex);
			memcpy(z->z[i].apex, zi[i].apex, z->z[i].apex_len);
		}
		z->n = k;
		static struct cache_nsec_evict_info ev[SHM_NSEC_ZONES_HELD];
		uint64_t other;
		k = cache_nsec_evictions(dp->nsec, ev, SHM_NSEC_ZONES_HELD, &other);
		for (unsigned i = 0; i < k; i++) {
			z->e[i].evictions = ev[i].evictions;
			z->e[i].ranges = ev[i].ranges;
			z->e[i].apex_len = (uint8_t)dns_name_len(ev[i].apex);
			memcpy(z->e[i].apex, ev[i].apex, z->e[i].apex_len);
		}
		z->ne = k;
		z->evicted_other = other;
		__atomic_store_n(&z->seq, z->seq + 1, __ATOMIC_RELEASE);
	}
}

static void usage(FILE *f, int code)
{
	fprintf(f, "usage: bailiwick-dataplane -c FILE [-t]\n"
		   "  -c FILE    the configuration (its dataplane section)\n"
		   "  -t         check the configuration and exit\n"
		   "  --version  print the version and exit\n");
	exit(code);
}

int main(int argc, char **argv)
{
	static struct cfg cfg;
	static struct dp dp;
	const char *path = NULL;
	bool check_only = false;
	char err[512];
	int opt;

	cfg_log_open("bailiwick-dataplane");
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("bailiwick-dataplane %s (shm ABI %u)\n", BW_VERSION, SHM_ABI_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help"))
		usage(stdout, 0);
	while ((opt = getopt(argc, argv, "c:th")) != -1) {
		if (opt == 'c')
			path = optarg;
		else if (opt == 't')
			check_only = true;
		else if (opt == 'h')
			usage(stdout, 0);
		else
			usage(stderr, 2);
	}
	if (!path || optind != argc)
		usage(stderr, 2);
	if (cfg_load_sha256(&cfg, path, dp.cfg_sha256, err, sizeof(err))) {
		cfg_log(CFG_LOG_ERR, "%s", err);
		return 1;
	}
	if (!cfg.dataplane.enabled) {
		cfg_log(CFG_LOG_ERR, "%s: no dataplane section: nothing to run (control runs "
				     "standalone)", path);
		return 1;
	}
	if (cfg.dataplane.n_workers > SHM_WORKERS_MAX) {
		cfg_log(CFG_LOG_ERR, "%s: dataplane.workers: at most %u", path, SHM_WORKERS_MAX);
		return 1;
	}
	if (check_only) {
		printf("%s: ok\n", path);
		return 0;
	}
	/* From here on our lines are written by a thread of their own: the
	 * main thread, the cache writer, never waits on a slow syslog,
	 * journal or stderr pipe. Started before EAL pins this thread to the
	 * main lcore, so that it runs on whichever CPU is free. */
	if (cfg_log_async_start())
		cfg_log(CFG_LOG_WARNING, "no log thread: the main thread writes its lines itself");
	check_hugepages(&cfg, path);
	if (eal_start(&cfg, argv[0], path) < 0)
		rte_exit(EXIT_FAILURE, "EAL: %s (is another dataplane running with the same "
				       "--file-prefix? are hugepages reserved?)\n",
			 rte_strerror(rte_errno));
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		rte_exit(EXIT_FAILURE, "the dataplane must be the primary process\n");

	dp.cfg = &cfg;
	dp.n_ports = cfg.dataplane.n_ports;
	dp.n_workers = cfg.dataplane.n_workers;
	dp.edns_size = cfg.resolver.upstream.edns_buffer;
	dp.miss_overflow = cfg.dataplane.miss_overflow;
	dp.miss_budget = cfg.dataplane.miss_budget;
	dp.max_negative_ttl = cfg.cache.max_negative_ttl_s;
	dp.drain_cycles = rte_get_tsc_hz() * DP_TX_DRAIN_US / 1000000;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		unsigned lc = cfg.dataplane.workers[i];
		if (lc >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lc) || lc == rte_get_main_lcore())
			rte_exit(EXIT_FAILURE, "%s: dataplane.workers[%u]: lcore %u is not a worker "
					       "lcore of dataplane.eal (-l/--lcores; the first is "
					       "the main lcore, which runs the cache writer)\n",
				 path, i, lc);
		struct dp_worker *w = rte_zmalloc_socket("bw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
							 (int)rte_lcore_to_socket_id(lc));
		if (!w)
			rte_exit(EXIT_FAILURE, "no memory for worker %u\n", i);
		w->dp = &dp;
		w->idx = i;
		w->lcore = lc;
		dp.workers[i] = w;
	}

	unsigned nmbufs = (DP_RX_DESC + DP_TX_DESC + 2 * DP_BURST) * (dp.n_workers + 1) * dp.n_ports +
			  (DP_ANSWER_RING_SIZE + 2 * DP_KERNEL_RING_SIZE) * dp.n_workers +
			  DP_MBUF_CACHE * (dp.n_workers + 1);
	if (nmbufs < MBUFS_MIN)
		nmbufs = MBUFS_MIN;
	dp.pool = rte_pktmbuf_pool_create("bw_mbufs", nmbufs, DP_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp.pool)
		rte_exit(EXIT_FAILURE, "mbuf pool: %s\n", rte_strerror(rte_errno));

	memset(dp.port_index, DP_PORT_NONE, sizeof(dp.port_index));
	for (unsigned i = 0; i < dp.n_ports; i++) {
		const struct cfg_port *cp = &cfg.dataplane.ports[i];
		struct dp_port *pt = &dp.ports[i];
		char name[RTE_ETH_NAME_MAX_LEN];

		dev_name(cp->device, name, sizeof(name));
		if (rte_eth_dev_get_port_by_name(name, &pt->port_id) != 0)
			rte_exit(EXIT_FAILURE, "%s: dataplane.ports[%u]: no DPDK port %s (is the "
					       "device bound to a DPDK driver, or the vdev name right?)\n",
				 path, i, name);
		snprintf(name, sizeof(name), EXC_VDEV_FMT, i);
		if (rte_eth_dev_get_port_by_name(name, &pt->exc_id) != 0)
			rte_exit(EXIT_FAILURE, "exception TAP %s did not come up\n", name);
		if (port_start(pt->port_id, dp.n_workers, dp.pool, true, err, sizeof(err)) ||
		    port_start(pt->exc_id, 1, dp.pool, false, err, sizeof(err)))
			rte_exit(EXIT_FAILURE, "%s: dataplane.ports[%u]: %s\n", path, i, err);
		if (pt->port_id < RTE_MAX_ETHPORTS)
			dp.port_index[pt->port_id] = (uint8_t)i;
		rte_eth_macaddr_get(pt->port_id, &pt->mac);
		/* The kernel speaks on the link with the port's MAC. */
		int mrc = rte_eth_dev_default_mac_addr_set(pt->exc_id, &pt->mac);
		if (mrc)
			cfg_log(CFG_LOG_WARNING, "%s: cannot give %s the port's MAC (%s): the "
						 "kernel's frames leave with its own",
				path, cp->exception, rte_strerror(-mrc));
		if (dp_kernel_iface(cp, err, sizeof(err)))
			rte_exit(EXIT_FAILURE, "%s: dataplane.ports[%u]: %s\n", path, i, err);
		for (unsigned a = 0; a < cp->n_addresses; a++) {
			const struct cfg_prefix *pa = &cp->addresses[a];
			if (pa->a.family == AF_INET) {
				memcpy(&pt->v4[pt->n_v4++], pa->a.addr, 4);
				if (pa->len <= 30) { /* /31 and /32 have none */
					uint32_t host = UINT32_MAX >> pa->len;
					pt->v4_bcast[pt->n_bcast++] =
						pt->v4[pt->n_v4 - 1] | htonl(host);
				}
			} else
				memcpy(pt->v6[pt->n_v6++], pa->a.addr, 16);
		}
		uint16_t mtu = 0;
		if (rte_eth_dev_get_mtu(pt->port_id, &mtu) != 0 || mtu < 576)
			mtu = RTE_ETHER_MTU; /* what the port sends if it cannot say */
		pt->mtu = mtu;
		dp_port_udp_max(&dp, pt);
		link_report(cp->device, pt->port_id);
		link_report(cp->exception, pt->exc_id);
	}

	struct cache_config cc;
	cache_config_default(&cc);
	answer_cache_config(&cfg, &cc);
	urcu_qsbr_register_thread();
	/* RFC 8198's store, fed by control with what it validated: an
	 * eighth of the cache's size besides it, its NSEC3 iteration limit
	 * the validator's */
	struct cache_nsec_config nc;
	cache_nsec_config_default(&nc);
	answer_nsec_config(&cfg, &nc);
	if (!(dp.cache = cache_new(&cc)) ||
	    (cfg.cache.aggressive_nsec && !(dp.nsec = cache_nsec_new(&nc))))
		rte_exit(EXIT_FAILURE, "cache: no memory for %zu octets\n", cc.max_bytes);
	static uint8_t routed[SHM_ROUTED_MAX][DNS_NAME_MAX];
	if (!dp_routed_set(&dp, (const uint8_t (*)[DNS_NAME_MAX])routed,
			   answer_routed_zones(&cfg, routed, SHM_ROUTED_MAX)) ||
	    !dp_acl_new(&dp, cfg.acl, cfg.n_acl)) {
		cfg_log(CFG_LOG_ERR, "out of memory");
		return 1;
	}
	if (shared_objects(&dp, err, sizeof(err)))
		rte_exit(EXIT_FAILURE, "%s: %s\n", path, err);
	dp_ports_stats_init(&dp);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < dp.n_workers; i++)
		if (rte_eal_remote_launch(dp_worker_main, dp.workers[i], dp.workers[i]->lcore))
			rte_exit(EXIT_FAILURE, "cannot launch worker %u\n", i);
	/* Until here every line went to stderr (an error at start reaches
	 * whoever started us); from here on, to log.target. */
	cfg_log_configure(cfg.log.level, cfg.log.target);
	if (dp.ctl->clock_scale > 1)
		cfg_log(CFG_LOG_NOTICE, "the cache's clock runs %u times as fast "
					"(resolver.clock-scale: for trace replays only)",
			dp.ctl->clock_scale);
	cfg_log(CFG_LOG_NOTICE, "%u worker(s), control block %s, ABI %u: ready", dp.n_workers,
		SHM_CTL_NAME, SHM_ABI_VERSION);
	/* whoever started us waits for this line on stderr (scripts/lib.sh's
	 * bw_start_dataplane): there too, whatever the level and target */
	if (cfg.log.target != CFG_LOG_STDERR || !cfg_log_on(CFG_LOG_NOTICE))
		fprintf(stderr, "bailiwick-dataplane: %u worker(s), control block %s, ABI %u: "
				"ready\n",
			dp.n_workers, SHM_CTL_NAME, SHM_ABI_VERSION);
	/* systemd (Type=notify): ready; the watchdog is kept while every
	 * worker's loop turns (a worker stuck: no more pings, and systemd
	 * restarts us). No-ops without NOTIFY_SOCKET. */
	sd_notifyf(0, "READY=1\nSTATUS=%u worker(s) answering", dp.n_workers);
	uint64_t wd_us = 0, next_wd = 0, seen[SHM_WORKERS_MAX] = { 0 };
	bool stuck = false;
	if (sd_watchdog_enabled(0, &wd_us) <= 0)
		wd_us = 0;
	/* the first look after half an interval: the workers have started */
	next_wd = shm_clock_ms() + wd_us / 2000;

	uint64_t next_check = 0, next_stats = 0;
	unsigned nap_us = IDLE_SLEEP_US;
	while (!stop) {
		uint64_t now = shm_clock_ms();
		dp.ctl->now_ms = now;
		dp.ctl->now_s = (uint32_t)((dp.ctl->clock_base_ms +
					    (now - dp.ctl->clock_base_ms) * dp.ctl->clock_scale) /
					   1000);
		if (now >= next_check) {
			dp.ctl->dp_heartbeat_ms = now;
			check_control(dp.ctl, now);
			follow_log(dp.ctl);
			next_check = now + HOUSEKEEPING_MS;
		}
		if (wd_us && now >= next_wd) {
			unsigned idle = dp.n_workers;
			for (unsigned i = 0; i < dp.n_workers; i++) {
				uint64_t it = __atomic_load_n(&dp.ctl->wstats[i].iterations,
							      __ATOMIC_RELAXED);
				if (it != seen[i]) {
					seen[i] = it;
				} else if (idle == dp.n_workers) {
					idle = i;
				}
			}
			if (idle == dp.n_workers)
				sd_notify(0, "WATCHDOG=1");
			else if (!stuck)
				cfg_log(CFG_LOG_ERR, "worker %u has not turned its loop for %llu ms: "
						     "the watchdog is not kept",
					idle, (unsigned long long)(wd_us / 2000));
			stuck = idle != dp.n_workers;
			next_wd = now + wd_us / 2000;
		}
		if (now >= next_stats) {
			writer_stats(&dp);
			dp_ports_stats(&dp);
			next_stats = now + 1000;
		}
		dp_policy_poll(&dp);
		dp_settings_poll(&dp);
		dp_flush_poll(&dp);
		uint64_t removed = 0;
		unsigned n = dp_dump_poll(&dp) + dp_writer_poll(&dp, 64) + dp_lookup_poll(&dp, 64) +
			     dp_exception_poll(&dp) +
			     (cache_trim(dp.cache, dp.ctl->now_s, CACHE_TRIM_SLICE, &removed) != 0);
		dp.ctl->writer.settings_removed += removed;
		cache_reader_quiescent();
		/* Fills and exception frames come in bursts: nap longer the
		 * longer nothing comes, so that an idle main thread does not
		 * take the CPU it shares (with control, with the host). */
		if (n) {
			nap_us = IDLE_SLEEP_US;
		} else {
			struct timespec ts = { 0, (long)nap_us * 1000 };
			urcu_qsbr_thread_offline();
			nanosleep(&ts, NULL);
			urcu_qsbr_thread_online();
			if (nap_us < IDLE_SLEEP_MAX_US)
				nap_us *= 2;
		}
	}

	cfg_log(CFG_LOG_NOTICE, "stopping");
	sd_notify(0, "STOPPING=1");
	__atomic_store_n(&dp.quit, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	for (unsigned i = 0; i < dp.n_ports; i++) {
		rte_eth_dev_stop(dp.ports[i].port_id);
		rte_eth_dev_close(dp.ports[i].port_id);
		rte_eth_dev_stop(dp.ports[i].exc_id);
		rte_eth_dev_close(dp.ports[i].exc_id);
	}
	cache_nsec_free(dp.nsec);
	cache_free(dp.cache);
	urcu_qsbr_unregister_thread();
	cfg_log_async_stop(2000); /* what is queued, 2 s at most */
	rte_eal_cleanup();
	return 0;
}
