/*
 * shm/shm.h: the shared-memory ABI between bailiwick-dataplane (the DPDK
 * primary process) and bailiwick-control (a secondary process with the same
 * --file-prefix). Every name, layout, record type and the ABI version of
 * what crosses the two processes is here and nowhere else; both programs
 * include it, neither includes the other. shm.c holds the checks each side
 * makes of a record it receives. No EAL: any thread of either process.
 *
 * Objects (DPDK named memzones and rings, created by the dataplane at start,
 * looked up by control at attach):
 *   SHM_CTL_NAME         struct shm_ctl: versions, liveness of both sides,
 *                        the dataplane's clock, every counter
 *   SHM_MISS_RING_FMT    per worker, worker -> control: struct shm_miss
 *                        elements (single producer, single consumer)
 *   SHM_FILL_RING_NAME   control -> cache writer: struct shm_fill elements
 *   SHM_LOOKUP_RING_NAME control -> cache writer: struct shm_lookup, a TCP
 *                        client's question for the client cache
 *   SHM_FOUND_RING_NAME  cache writer -> control: struct shm_found, the
 *                        cache's answer to a lookup (all four rings: single
 *                        producer, single consumer)
 *   SHM_TAP_RING_FMT     per worker, worker -> control: struct shm_tap
 *                        (dnstap copies) in SHM_TAP_ELEM-octet elements
 * The writer -> worker answer rings and the exception rings between the
 * workers and the main thread carry mbuf pointers inside the dataplane
 * process only; their names are here so that no two objects share one.
 *
 * Records are copied into and out of the rings whole (rte_ring *_elem
 * calls), so no pointer crosses the processes and a reader never sees a
 * record its writer is still filling. Every record starts with struct
 * shm_hdr; the reader checks type, ABI version and length (and every field
 * it uses) before use: a bad record is counted and dropped by the
 * dataplane; control treats a bad control block as fatal at attach, and a
 * control block published from another configuration file too (config_sha256:
 * both processes must read one file, or their ports, workers and cache
 * settings disagree).
 *
 * Who writes what: each cache line of struct shm_ctl has one writer, named
 * on it. Counters are written by their owner only and read by anyone (a
 * torn read of a 64-bit counter cannot happen on x86-64).
 */
#ifndef BW_SHM_SHM_H
#define BW_SHM_SHM_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/wire.h"

struct dns_query;

/* 3: the dead fields of 2 (config generation, control instance, policy
 * snapshot, per-worker seen generations) gone, config_sha256 added; the
 * lookup and found rings (one client cache: control's TCP clients are
 * answered from the dataplane's). 4: a fill's msg always carries its
 * DNSSEC records, whatever the client's DO (one cache entry answers both
 * kinds of client); the layout is 3's. 5: SHM_FILL_NSEC (denial feeds
 * for the NSEC store) and the writer's and control's counters of them. 6:
 * the per-zone RFC 8198 counts (wzones, nsec_zones) and the writer's
 * lookup_nsec counter. 7: the zones the NSEC store evicted most
 * (nsec_zones.e); the study clock (clock_scale, clock_base_ms); the
 * writer's lookup_nxdomain_cut counter. 8: the policy snapshot
 * (policy_gen, policy_addr, policy_len; policy_active, policy_released,
 * policy_rejected; policy_seen), SHM_FILL_VERBATIM, the workers' and the
 * writer's policy counters. 9: a fill's policy tag (policy_gen,
 * policy_rule: the response policy's verdict on msg, kept with the cache
 * entry), SHM_FILL_PLAIN, the workers' policy_recheck and
 * policy_response counters. 10: the client-facing settings control
 * publishes on a configuration reload (settings_seq, settings;
 * settings_active, settings_rejected). 11: the cache's TTL bounds,
 * serve-stale and prefetch settings in the settings block, and the
 * writer's settings_removed counter. 12: the trust anchors' identity
 * (settings' and every fill's anchors_id), the stub and forward zones
 * (settings' routed), the writer's anchor_flushes and anchor_stale
 * counters. 13: an operator's flush (flush_seq, flush_mode, flush_name;
 * flush_done, flush_removed, flush_zones, flush_status) and the writer's flush
 * counters. 14: the service ports' link state and counters (n_ports,
 * ports[]: DPDK's basic statistics and extended ones by name). 15: dnstap
 * and the query log: the workers' tap rings and struct shm_tap, a miss's
 * tap flag (shm_client.tap), the workers' and control's tap counters.
 * 16: control's nsec_synth counter (misses answered from its own NSEC
 * store). 17: the cache dump (dump_seq, dump_pos, dump_under; dump_done,
 * dump_next, dump_n, dump_status, dump[]) and the writer's dump
 * counters; the dataplane's version and start (dp_version,
 * dp_started_ms). 18: the log level and target control has in force
 * (log_setting), for the dataplane's own lines. 19: log_setting carries
 * its writer's pid; the writer's log counters. 20: the workers' miss
 * budget and overflow counters (miss_over_budget, overflow_*) and the
 * settings' miss_budget and miss_overflow; the workers' CPUs
 * (worker_cpus). */
#define SHM_ABI_VERSION 20
#define SHM_MAGIC 0x6277636c /* "bwcl" */

#define SHM_CTL_NAME "bw_ctl"
#define SHM_MISS_RING_FMT "bw_miss_%u"	/* %u: worker index */
#define SHM_ANSWER_RING_FMT "bw_ans_%u"	/* dataplane-internal */
#define SHM_TO_KERNEL_RING_FMT "bw_tok_%u"	/* dataplane-internal */
#define SHM_FROM_KERNEL_RING_FMT "bw_fromk_%u"	/* dataplane-internal */
#define SHM_FILL_RING_NAME "bw_fill"
#define SHM_LOOKUP_RING_NAME "bw_lookup"
#define SHM_FOUND_RING_NAME "bw_found"
#define SHM_TAP_RING_FMT "bw_tap_%u"	/* %u: worker index */

/* Where EAL maps the hugepage memory in both processes, unless
 * dataplane.eal says otherwise: far above the usual mmap area and clear
 * of ASan's shadow and allocator regions, so that a secondary process
 * (sanitizer build or not) finds the same addresses free. */
#define SHM_BASE_VIRTADDR "0x200000000000"

#define SHM_WORKERS_MAX 64
#define SHM_MISS_RING_SIZE 4096	/* records per worker */
#define SHM_FILL_RING_SIZE 4096
#define SHM_LOOKUP_RING_SIZE 256	/* TCP questions waiting for the writer */
#define SHM_LOOKUP_WAIT_MS 50	/* control resolves a lookup not found by then */
#define SHM_CPU_WORDS 16	/* worker_cpus: CPUs 0..1023 */
#define SHM_MSG_MAX 4096	/* a fill's message; larger ones are sent truncated */
#define SHM_HEARTBEAT_MS 50	/* both sides stamp their heartbeat this often */
#define SHM_DEAD_MS 500		/* a heartbeat this old: the other side is gone */
#define SHM_MISS_MAX_AGE_MS 3000 /* control drops older misses: the client gave up */

enum shm_rec_type {
	SHM_REC_MISS = 1,
	SHM_REC_FILL = 2,
	SHM_REC_LOOKUP = 3,
	SHM_REC_FOUND = 4,
	SHM_REC_TAP = 5,
};

struct shm_hdr {
	uint16_t type;		/* enum shm_rec_type */
	uint16_t abi;		/* SHM_ABI_VERSION */
	uint32_t len;		/* octets of the whole record, this header included */
};

/* Why a worker asks control. */
enum shm_miss_kind {
	SHM_MISS_CLIENT = 1,	/* not in the cache: the client waits for the fill */
	SHM_MISS_REFRESH = 2,	/* answered stale or for prefetch: refresh only */
};

/*
 * Everything needed to answer a client later, so that workers keep no
 * table of pending queries: the frame's addresses (as received: src is the
 * client), the worker and port, and the question as the client spelled it.
 */
struct shm_client {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint16_t vlan_tci;
	uint8_t has_vlan;
	uint8_t family;		/* 4 or 6 (NET_PKT_IPV4, NET_PKT_IPV6) */
	uint8_t src_ip[16];	/* client; IPv4 in the first 4 octets */
	uint8_t dst_ip[16];	/* our service address */
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t port_id;	/* DPDK port it came in on */
	uint16_t worker;	/* index of the worker that owns the answer */
	uint16_t dns_id;
	uint16_t dns_flags;	/* the client's header flags (opcode, RD, CD) */
	uint16_t udp_size;	/* the client's EDNS size; 0: no EDNS */
	uint16_t edns_flags;	/* DO */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t has_edns;
	uint8_t qname_len;	/* 1..DNS_NAME_MAX */
	uint8_t qname[DNS_NAME_MAX]; /* wire, the client's letter case */
	uint8_t tap;		/* 1: the worker copied the query for dnstap:
				   the answer is copied too */
	uint64_t rx_ms;		/* dataplane clock (shm_ctl.now_ms) at receipt */
};

/* Worker -> control. */
struct shm_miss {
	struct shm_hdr h;
	uint8_t kind;		/* enum shm_miss_kind */
	uint8_t stale;		/* 1: the cache holds a stale entry for it, which
				   control may have served (SHM_FILL_STALE
				   without a message) if resolving takes long */
	uint8_t pad[6];
	struct shm_client c;
};

/*
 * Control's check of a miss record taken from worker ring's miss ring (of
 * n_workers): header, kind, the worker it names, the family, and the
 * question name (uncompressed, exactly qname_len octets). 0 or -1.
 */
int shm_miss_check(const struct shm_miss *r, unsigned ring, unsigned n_workers);

/*
 * Worker -> control: a copy of a client's query, or of the answer sent to
 * it, for dnstap (1 query in dnstap.sample, with its answer) and for the
 * query log (1 query in log.query-sample): kind says which. A record is
 * this header and msg_len octets of message, in ceil(h.len / SHM_TAP_ELEM)
 * consecutive elements of the worker's tap ring, enqueued in one bulk call
 * (all or none), so the reader takes the first element, checks it, and
 * finds the rest there. The times are the dataplane's TSC (shm_ctl.tsc_hz;
 * every core's counts together on the invariant-TSC CPUs DPDK needs):
 * control turns them into wall-clock time.
 */
#define SHM_TAP_ELEM 64
#define SHM_TAP_RING_SIZE 8192	/* elements per worker: 512 KiB */
#define SHM_TAP_MSG_MAX 4096	/* a longer message is not copied (counted) */

enum shm_tap_kind {
	SHM_TAP_CLIENT_QUERY = 1,
	SHM_TAP_CLIENT_RESPONSE = 2,
	SHM_TAP_KIND_MASK = 0x0f,
	SHM_TAP_FOR_DNSTAP = 0x10,	/* with either: for dnstap */
	SHM_TAP_FOR_LOG = 0x20,		/* with a query: for the query log */
};

struct shm_tap {
	struct shm_hdr h;	/* SHM_REC_TAP; len: 64 + msg_len */
	uint8_t kind;		/* enum shm_tap_kind: a kind and what for */
	uint8_t family;		/* 4 or 6 (NET_PKT_IPV4, NET_PKT_IPV6) */
	uint16_t client_port;
	uint16_t server_port;	/* ours */
	uint16_t msg_len;	/* 1..SHM_TAP_MSG_MAX */
	uint64_t query_tsc;	/* the query's receipt; 0: not known (an answer
				   that came back from control) */
	uint64_t response_tsc;	/* CLIENT_RESPONSE: when it was sent; else 0 */
	uint8_t client_ip[16];	/* IPv4 in the first 4 octets */
	uint8_t server_ip[16];	/* our service address */
	uint8_t msg[];
};

/* Control's check of a tap record's first element (the header): type, ABI,
 * kind (a query for dnstap, the log or both; a response for dnstap),
 * family, and a length that agrees with msg_len. 0 or -1. */
int shm_tap_check(const struct shm_tap *r);

/* Cache writer -> control: one entry of the cache dump (struct
 * cache_entry_info with its name in place). qname is checked on receipt
 * (dns_name_check()). */
struct shm_dump_entry {
	uint8_t qname[DNS_NAME_MAX];	/* wire form, lower case */
	uint8_t rcode, rank, ede;
	uint8_t flags;			/* SHM_DUMP_F_* */
	uint16_t qtype;			/* 0: an RFC 8020 NXDOMAIN cut */
	uint16_t qclass;
	uint16_t records;
	uint32_t ttl_s, stale_s, bytes;
};
#define SHM_DUMP_F_FULL 1	/* holds the DNSSEC records */
#define SHM_DUMP_F_SECURE 2
#define SHM_DUMP_F_STALE 4

/* Control -> cache writer: the answer to a miss. */
enum shm_fill_flags {
	SHM_FILL_CACHE = 1 << 0,	/* insert msg into the cache */
	SHM_FILL_ANSWER = 1 << 1,	/* send the client its answer */
	SHM_FILL_STALE = 1 << 2,	/* msg is a stale answer (RFC 8767); without
					   a msg: answer from the cache's stale
					   entry, or not at all when it has none */
	SHM_FILL_TRUNCATED = 1 << 3,	/* msg was larger than SHM_MSG_MAX:
					   the client gets TC=1 */
	SHM_FILL_NSEC = 1 << 4,		/* msg is a denial feed (cache/nsec.h,
					   cache_nsec_feed()): NSEC/NSEC3 and SOA
					   records control validated as secure,
					   for the NSEC store only; alone (no
					   other flag), c holds the feed's
					   question, for the record checks */
	SHM_FILL_VERBATIM = 1 << 5,	/* with ANSWER: msg is the client's
					   answer as it is (a policy answer, a
					   denial from control's NSEC store),
					   not the cache's entry for the
					   question; never with CACHE */
	SHM_FILL_PLAIN = 1 << 6,	/* with ANSWER: the answer from msg and
					   rcode alone, never from a cache entry
					   (a failure the response policy has
					   not judged the entry for: no
					   serve-stale from it) */
};

struct shm_fill {
	struct shm_hdr h;
	uint8_t flags;		/* enum shm_fill_flags */
	uint8_t rank;		/* enum cache_rank of msg's data */
	uint16_t rcode;
	uint16_t msg_len;	/* 0..SHM_MSG_MAX */
	uint16_t pad;
	/* With CACHE: the response policy's verdict on msg's data (answer/
	 * policy.h, policy_match_response() over every zone), kept with the
	 * entry: the snapshot's generation (0: not checked) and its rule's
	 * index + 1 (0: no response trigger matched). The workers use it
	 * while that generation is theirs, and ask control again after. */
	uint64_t policy_gen;
	uint64_t policy_rule;
	/* the trust anchors msg was validated under (shm_settings'
	 * anchors_id when control made it): the writer keeps nothing of a
	 * fill made under others (a client's answer is still sent) */
	uint64_t anchors_id;
	struct shm_client c;	/* the miss's, unchanged */
	uint8_t msg[SHM_MSG_MAX]; /* the assembled response: question, sections,
				     with the RRSIGs and denial records a DO
				     client gets (the writer strips them for
				     a client without DO) */
};

/*
 * Control -> cache writer: a question for the client cache, from a client
 * control serves itself (TCP): in dataplane mode the dataplane's cache is
 * the one clients are answered from, whichever way they came. c holds the
 * client's question as for a miss (worker, port and addresses unused).
 */
struct shm_lookup {
	struct shm_hdr h;
	uint64_t token;		/* control's, returned in the shm_found */
	struct shm_client c;
};

/* Cache writer -> control: the answer to a lookup, written for a stream
 * (TCP: no UDP size applies) when the cache has an entry (fresh, or stale
 * within the stale window: then flagged) and it fits in SHM_MSG_MAX;
 * msg_len 0 otherwise (control resolves). */
struct shm_found {
	struct shm_hdr h;
	uint64_t token;
	uint16_t msg_len;	/* 0..SHM_MSG_MAX */
	uint8_t stale;		/* msg is from an expired entry (RFC 8767): to be
				   sent only if resolving takes long or fails */
	uint8_t pad[5];
	uint8_t msg[SHM_MSG_MAX];
};

/* The writer's check of a lookup record: header and question as for a
 * miss (shm_miss_check() without the worker). 0 or -1. */
int shm_lookup_check(const struct shm_lookup *r);

/* Control's check of a found record: header and length. 0 or -1. */
int shm_found_check(const struct shm_found *r);

/* The cache writer's check of a fill record for a dataplane with n_workers
 * workers: header, length, rank, rcode, worker and family (the port id is
 * the writer's to check against its ports). 0 or -1. */
int shm_fill_check(const struct shm_fill *f, unsigned n_workers);

/* Writes the DNS half of c from the client's query q (id, flags, question
 * as spelled, EDNS size and DO); the frame's addresses are the caller's. */
void shm_client_set_query(struct shm_client *c, const struct dns_query *q);

/* The client's query as rebuilt from a record's struct shm_client: header,
 * question, OPT when the client sent one. */
#define SHM_QUERY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11)

/* Rebuilds the client's query from c into qbuf (SHM_QUERY_MAX octets) and
 * parses it into q (which points into qbuf). 0, or -1 when c does not make
 * a query. */
int shm_client_query(const struct shm_client *c, uint8_t *qbuf, struct dns_query *q);

/* Per-worker counters, written by that worker only. */
#define SHM_WORKER_COUNTERS(X)						\
	X(rx, "frames received on service ports")			\
	X(tx, "frames sent on service ports")				\
	X(tx_dropped, "frames dropped: the port's tx queue was full")	\
	X(queries, "DNS queries to a service address")			\
	X(hits, "answered from the cache (fresh)")			\
	X(stale_hits, "answered from the cache (stale, RFC 8767)")	\
	X(prefetches, "refreshes asked for while answering (prefetch, stale)") \
	X(nsec_synth, "negative answers from NSEC/NSEC3 ranges (RFC 8198)") \
	X(nxdomain_cut, "NXDOMAIN from a cached ancestor (RFC 8020)")	\
	X(misses, "misses sent to control")				\
	X(miss_ring_full, "misses and refreshes control's ring had no room for") \
	X(miss_over_budget, "misses and refreshes over the worker's budget (dataplane.miss-budget)") \
	X(overflow_servfail, "SERVFAIL: control could not take the miss (dataplane.miss-overflow)") \
	X(overflow_dropped, "misses dropped: control could not take them (dataplane.miss-overflow)") \
	X(overflow_stale, "stale answers at once: control could not take the refresh (RFC 8767)") \
	X(ctl_down_servfail, "SERVFAIL: control is down")		\
	X(ctl_down_dropped, "misses dropped: control is down")		\
	X(fill_answers, "answers sent after resolution")		\
	X(refused, "REFUSED (access control, class, transfers)")	\
	X(acl_dropped, "queries dropped by access control")		\
	X(notimp, "NOTIMP answers")					\
	X(formerr, "FORMERR answers")					\
	X(badvers, "BADVERS answers")					\
	X(qr_dropped, "dropped: QR=1 to port 53")			\
	X(bad_source, "queries dropped: from a source no client has (broadcast, multicast, ours, port 0)") \
	X(dns_dropped, "dropped: DNS header unreadable")		\
	X(answer_dropped, "dropped: answer could not be built")		\
	X(truncated, "answers sent with TC=1")				\
	X(policy_nxdomain, "NXDOMAIN by response policy")		\
	X(policy_nodata, "NODATA by response policy")			\
	X(policy_local, "local data by response policy")		\
	X(policy_dropped, "queries dropped by response policy")	\
	X(policy_tcp_only, "TC=1 by response policy (rpz-tcp-only)")	\
	X(policy_passthru, "queries passed through by response policy") \
	X(policy_chase, "policy CNAMEs sent to control for their target")	\
	X(policy_chase_alone, "policy CNAMEs answered without their target's records: control down or could not take it") \
	X(policy_response, "answers by a response trigger (IP, NSDNAME, NSIP, CNAME chain) control recorded with the entry") \
	X(policy_recheck, "hits sent to control: the entry was checked under an older policy that response triggers need") \
	X(rcode_noerror, "answers with NOERROR")			\
	X(rcode_nxdomain, "answers with NXDOMAIN")			\
	X(rcode_servfail, "answers with SERVFAIL")			\
	X(tap_records, "copies of client messages sent to control (dnstap, query log)") \
	X(tap_ring_full, "copies of client messages dropped: the ring to control was full") \
	X(tap_too_big, "copies of client messages not made: shorter than a DNS header or longer than SHM_TAP_MSG_MAX") \
	X(arp_replies, "ARP replies for service addresses")		\
	X(nd_replies, "neighbour advertisements for service addresses")	\
	X(echo_replies, "ICMP/ICMPv6 echo replies")			\
	X(to_kernel, "frames passed to the kernel (exception path)")	\
	X(to_kernel_dropped, "exception frames dropped: queue full")	\
	X(from_kernel, "kernel frames sent out on the port")		\
	X(from_kernel_dropped, "kernel frames dropped: queue full")	\
	X(frame_dropped, "frames dropped as malformed (see drop_*)")	\
	X(busy_cycles, "TSC cycles spent on iterations that did work (each to the next one's start)")	\
	X(dns_cycles, "TSC cycles spent answering DNS queries")		\
	X(iterations, "loop iterations")

#define SHM_FRAME_DROPS_MAX 32	/* room for the frame layer's drop reasons
				   (net/pkt.h: net_pkt_drop_slot()) */

struct shm_worker_stats {
#define SHM_FIELD(name, text) uint64_t name;
	SHM_WORKER_COUNTERS(SHM_FIELD)
#undef SHM_FIELD
	uint64_t frame_drops[SHM_FRAME_DROPS_MAX]; /* by net_pkt_drop_slot() */
} __attribute__((aligned(64)));

/* The dataplane main thread's counters: the cache writer's and the
 * exception TAPs'. */
#define SHM_WRITER_COUNTERS(X)						\
	X(fills, "fill records received")				\
	X(bad_records, "records dropped: type, version or length wrong") \
	X(inserted, "answers inserted into the cache")			\
	X(uncacheable, "answers not cacheable (TTL 0, SERVFAIL, ...)")	\
	X(answers, "answers passed to workers")				\
	X(answer_ring_full, "answers dropped: a worker's answer ring was full") \
	X(no_mbuf, "answers dropped: no mbuf")				\
	X(cache_entries, "entries in the cache")			\
	X(cache_bytes, "octets the cache holds")			\
	X(cache_evictions, "entries evicted")				\
	X(to_tap, "frames written to the exception TAPs")		\
	X(to_tap_dropped, "exception frames dropped: the TAP's queue was full") \
	X(from_tap, "frames the kernel sent out of the exception TAPs")	\
	X(from_tap_dropped, "kernel frames dropped: a worker's ring was full") \
	X(stale_gone, "stale answers control asked for that the cache no longer held") \
	X(lookups, "client-cache lookups for control's TCP clients")	\
	X(lookup_hits, "lookups answered from the cache, the NSEC store or an NXDOMAIN cut") \
	X(lookup_nsec, "lookups answered from the NSEC store (RFC 8198)") \
	X(lookup_nxdomain_cut, "lookups answered below a cached secure NXDOMAIN (RFC 8020)") \
	X(found_ring_full, "lookup answers dropped: the ring to control was full") \
	X(nsec_feeds, "denial feeds received (validated NSEC/NSEC3 proofs)") \
	X(nsec_ranges, "NSEC/NSEC3 records put into the NSEC store")	\
	X(nsec_soas, "zone SOAs put into the NSEC store")		\
	X(nsec_refused, "feed records the NSEC store did not take")	\
	X(nsec_zones, "zones the NSEC store holds")			\
	X(nsec_held, "NSEC and NSEC3 ranges the NSEC store holds")	\
	X(nsec_bytes, "octets the NSEC store holds")			\
	X(nsec_evicted, "zones evicted from the NSEC store (budget)")	\
	X(policy_published, "policy snapshots given to the workers")	\
	X(policy_rejected, "policy snapshots refused: outside shared memory or inconsistent") \
	X(settings_published, "configuration settings (ACL, EDNS size) given to the workers") \
	X(settings_rejected, "configuration settings refused: a field out of range") \
	X(settings_removed, "cache entries and NSEC zones removed for outliving a lowered max-ttl or max-negative-ttl") \
	X(anchor_flushes, "caches emptied: control's trust anchors changed") \
	X(flushes, "operator flushes done (bailiwick-ctl flush*)")	\
	X(flush_removed, "cache entries an operator's flush removed")	\
	X(flush_rejected, "operator flushes refused (a bad request record)") \
	X(dump_pages, "pages of the cache dump served (bailiwick-ctl dump-cache)") \
	X(dump_rejected, "cache dump requests refused (a bad request record)") \
	X(anchor_stale, "fills made under trust anchors no longer in force: not kept") \
	X(log_messages, "the dataplane's log lines handed to its log thread (at the level in force)") \
	X(log_suppressed, "the dataplane's repeated warnings not written (10 a minute from one place)") \
	X(log_dropped, "the dataplane's log lines dropped: its log thread's queue was full (a slow target)")

struct shm_writer_stats {
#define SHM_FIELD(name, text) uint64_t name;
	SHM_WRITER_COUNTERS(SHM_FIELD)
#undef SHM_FIELD
} __attribute__((aligned(64)));

/*
 * A service port as DPDK counts it, refreshed by the dataplane's main
 * thread about once a second (rte_eth_stats_get(), rte_eth_xstats_get()):
 * monitoring only, read without a lock (each value one aligned word).
 * The extended statistics' names are written once at start and do not
 * change; n_xstats of them (the PMD's first SHM_PORT_XSTATS_MAX).
 */
#define SHM_PORTS_MAX 16
#define SHM_PORT_XSTATS_MAX 64
#define SHM_PORT_XSTAT_NAME_MAX 64	/* RTE_ETH_XSTATS_NAME_SIZE, NUL included */
#define SHM_PORT_COUNTERS(X)						\
	X(rx_packets, "packets received (the PMD's count)")		\
	X(tx_packets, "packets sent")					\
	X(rx_bytes, "octets received")					\
	X(tx_bytes, "octets sent")					\
	X(rx_missed, "packets the NIC dropped: no receive descriptor free") \
	X(rx_errors, "packets received with errors")			\
	X(tx_errors, "packets that failed to be sent")			\
	X(rx_nombuf, "receive mbuf allocation failures")

struct shm_port_stats {
	char device[64];		/* dataplane.ports[i].device, cut */
	volatile uint32_t link_up;	/* 1: up */
	volatile uint32_t link_mbps;
#define SHM_FIELD(name, text) volatile uint64_t name;
	SHM_PORT_COUNTERS(SHM_FIELD)
#undef SHM_FIELD
	uint32_t n_xstats;
	char xstat_name[SHM_PORT_XSTATS_MAX][SHM_PORT_XSTAT_NAME_MAX];
	volatile uint64_t xstat[SHM_PORT_XSTATS_MAX];
} __attribute__((aligned(64)));

/* Control's counters of the shared-memory path. */
#define SHM_CONTROL_COUNTERS(X)						\
	X(misses, "miss records received")				\
	X(bad_records, "miss or found records dropped: type, version or length wrong") \
	X(too_old, "misses dropped: older than SHM_MISS_MAX_AGE_MS")	\
	X(refreshes, "refreshes (prefetch, stale) resolved")		\
	X(fills, "fill records sent")					\
	X(fill_ring_full, "fills dropped: the fill ring was full")	\
	X(overload, "misses answered SERVFAIL: the iterator is full")	\
	X(attaches, "attaches to a dataplane")				\
	X(lookups, "TCP questions sent to the dataplane's client cache")	\
	X(lookup_hits, "TCP questions answered from the dataplane's cache")	\
	X(lookup_misses, "TCP questions the dataplane's cache did not hold")	\
	X(lookup_timeouts, "TCP questions resolved: no answer from the cache in time") \
	X(lookup_ring_full, "TCP questions resolved: the lookup ring was full") \
	X(stale_asked, "misses answered stale by the writer: resolving took long") \
	X(nsec_feeds, "denial feeds sent to the NSEC store")		\
	X(nsec_feed_dropped, "denial feeds dropped: the fill ring was three quarters full") \
	X(nsec_synth, "misses answered from control's NSEC ranges (RFC 8198): not yet in the workers' store") \
	X(tap_records, "copies of client messages taken from the workers' rings") \
	X(tap_bad_records, "copies of client messages dropped: type, version or length wrong")

struct shm_control_stats {
#define SHM_FIELD(name, text) uint64_t name;
	SHM_CONTROL_COUNTERS(SHM_FIELD)
#undef SHM_FIELD
} __attribute__((aligned(64)));

/*
 * RFC 8198 per zone. Each worker counts its synthesized answers by zone in
 * its own row of slots (only it writes them: the name first, then its
 * length, release-ordered); a zone takes a free slot the first time, and
 * with every slot it may probe taken its answers count in the last slot
 * (apex_len 0: "other zones"). The writer publishes the zones of its store
 * that hold the most ranges, and those its byte budget evicted most (with
 * the evictions of all others), under a sequence count (odd while it
 * writes).
 */
#define SHM_NSEC_ZONE_SLOTS 16
#define SHM_NSEC_ZONES_HELD 32

struct shm_nsec_zone_count {
	uint64_t answers;
	uint8_t apex_len;		/* 0: free */
	uint8_t apex[DNS_NAME_MAX];	/* lower-cased wire */
};

struct shm_nsec_zone_held {
	uint32_t ranges;
	uint8_t apex_len;
	uint8_t apex[DNS_NAME_MAX];
};

struct shm_nsec_zone_evicted {
	uint64_t evictions;		/* times the budget evicted it */
	uint64_t ranges;		/* ranges it held then, summed */
	uint8_t apex_len;
	uint8_t apex[DNS_NAME_MAX];
};

struct shm_nsec_zones {
	volatile uint32_t seq;		/* odd: being written */
	uint32_t n;
	struct shm_nsec_zone_held z[SHM_NSEC_ZONES_HELD];
	uint32_t ne;
	uint64_t evicted_other;		/* evictions of zones not in e[] */
	struct shm_nsec_zone_evicted e[SHM_NSEC_ZONES_HELD];
};

/*
 * The client-facing settings of the configuration in force, as control
 * publishes them (bailiwick-ctl reload, and at attach): what the workers
 * apply must move with control's front end. The dataplane checks every
 * field (family, prefix length, action, size in range) before it builds
 * anything from it. config_sha256 names the file they came from: a
 * control started later from it attaches.
 */
#define SHM_ACL_MAX 64		/* conf's CFG_ACL_MAX */
#define SHM_ROUTED_MAX 64	/* conf's 2 * CFG_ZONES_MAX */
struct shm_acl_rule {
	uint8_t family;		/* AF_INET, AF_INET6 */
	uint8_t len;		/* prefix length; host bits zero */
	uint8_t action;		/* 0 allow, 1 refuse, 2 drop (cfg_acl_action) */
	uint8_t pad;
	uint8_t addr[16];
};

struct shm_settings {
	uint64_t gen;		/* control's configuration generation; 0: none */
	uint32_t n_acl;
	uint16_t edns_size;	/* resolver.upstream.edns-buffer, 512..4096 */
	uint8_t prefetch_percent; /* cache.prefetch: 0 (off)..100 */
	uint8_t miss_overflow;	/* dataplane.miss-overflow: enum cfg_miss_overflow */
	/* cache: in seconds, the configuration's ranges */
	uint32_t max_ttl;	/* max-ttl, 1..CFG_TTL_MAX_S */
	uint32_t max_negative_ttl; /* max-negative-ttl, 0..CFG_TTL_MAX_S */
	uint32_t max_stale;	/* serve-stale.max-stale, 0 (off)..CFG_TTL_MAX_S */
	uint32_t stale_answer_ttl; /* serve-stale.answer-ttl, 1..86400 */
	uint32_t miss_budget;	/* dataplane.miss-budget, 0..CFG_MISS_BUDGET_MAX */
	/* the trust anchors control validates from (a hash of their file):
	 * when it changes, what the caches hold was validated under other
	 * anchors and goes (the first one a dataplane sees is taken as its) */
	uint64_t anchors_id;
	/* the stub and forward zones (lower-cased wire names): the workers
	 * synthesize no denial at or below them */
	uint32_t n_routed;		/* 0..SHM_ROUTED_MAX */
	uint32_t pad2;
	uint8_t routed[SHM_ROUTED_MAX][DNS_NAME_MAX];
	struct shm_acl_rule acl[SHM_ACL_MAX];
	uint8_t config_sha256[32];
};

/* The control block, memzone SHM_CTL_NAME. */
struct shm_ctl {
	/* Dataplane, once at creation; read-only afterwards. */
	alignas(64) uint32_t magic;
	uint32_t abi;
	uint32_t n_workers;
	uint32_t miss_ring_size;
	uint32_t fill_ring_size;
	uint32_t record_sizes[4];	/* sizeof(struct shm_miss), shm_fill,
					   shm_lookup, shm_found */
	int32_t dp_pid;
	char dp_version[32];		/* BW_VERSION, NUL-padded (status) */
	uint64_t dp_started_ms;		/* now_ms at its start (status' uptime) */
	uint64_t dp_instance;		/* random, new at every start */
	uint64_t tsc_hz;
	/* the CPUs the workers' lcores may run on (bit i of word i / 64:
	 * CPU i), which control keeps its threads off */
	uint64_t worker_cpus[SHM_CPU_WORDS];
	uint8_t config_sha256[32];	/* SHA-256 of the configuration file's
					   octets (struct cfg.sha256) */
	/* resolver.clock-scale (trace replays): now_s runs clock_scale times
	 * as fast from clock_base_ms (now_ms's clock); control's resolver
	 * clock follows the same two, so both processes keep one time */
	uint32_t clock_scale;		/* 1: real time */
	uint64_t clock_base_ms;

	/* Dataplane main thread: its clock and liveness. */
	alignas(64) volatile uint64_t now_ms;	/* CLOCK_MONOTONIC, ms */
	volatile uint32_t now_s;		/* the cache's clock (clock_scale) */
	volatile uint32_t ctl_up;		/* control is attached and alive */
	volatile uint64_t dp_heartbeat_ms;

	/* Control: its liveness. */
	alignas(64) volatile int32_t ctl_pid;
	volatile uint32_t pad0;
	volatile uint64_t ctl_heartbeat_ms;	/* in now_ms's clock */
	/* log.level and log.target in force in control (the file's at its
	 * start and every reload, or set-log-level's), for the dataplane's
	 * own lines: pid << 32 | SHM_LOG_SET | target << 8 | level (the
	 * writer's pid; enum cfg_log_target, cfg_log_level), one 8-octet
	 * store; 0: none yet (the dataplane keeps its file's). The dataplane
	 * takes it only from the attached control (pid is ctl_pid: a replaced
	 * control that wakes up cannot write over it) and checks both fields. */
#define SHM_LOG_SET 0x10000u
	volatile uint64_t log_setting;
	/* Control: the response policy snapshot in force (answer/policy.h),
	 * in hugepage memory control allocated (the same address in both
	 * processes); addr and len are written first, then gen (release).
	 * gen 0: none. Control frees a snapshot it replaced once
	 * policy_released passes its generation; a new control replaces
	 * (and so frees) the one in force. Known leak: snapshots a control
	 * had replaced but not yet freed when it exits stay allocated (at
	 * most 8, dplink.c's POLICY_RETIRED_MAX). */
	volatile uint64_t policy_gen;
	volatile uint64_t policy_addr;
	volatile uint64_t policy_len;

	/* Dataplane main thread: what became of the published snapshots. It
	 * checks each (inside DPDK memory, policy_check()) before the
	 * workers get it. */
	alignas(64) volatile uint64_t policy_active;	/* the workers' generation */
	volatile uint64_t policy_released;	/* every worker uses this
						   generation or a newer one:
						   older snapshots are free */
	volatile uint64_t policy_rejected;	/* the last generation refused */
	/* Each worker: the policy generation it uses (its own slot). */
	alignas(64) volatile uint64_t policy_seen[SHM_WORKERS_MAX];

	/* Control: the settings in force, under a sequence lock (odd while
	 * control writes; a reader copies them and checks the sequence did not
	 * move). */
	alignas(64) volatile uint32_t settings_seq;
	struct shm_settings settings;
	/* Dataplane main thread: the generation the workers apply, and the
	 * last one refused (a field out of range). */
	alignas(64) volatile uint64_t settings_active;
	volatile uint64_t settings_rejected;

	/* Control: an operator's flush, one at a time (the next only once
	 * flush_done has reached this one): mode and name written first,
	 * then flush_seq (release). SHM_FLUSH_NAME: entries whose question
	 * is flush_name; ZONE: at or below it; NEGATIVE: negative answers
	 * and every NSEC range; ALL: everything. NAME and ZONE also drop
	 * the NSEC zones at or below the name and the closest one above. */
#define SHM_FLUSH_NAME 1
#define SHM_FLUSH_ZONE 2
#define SHM_FLUSH_NEGATIVE 3
#define SHM_FLUSH_ALL 4
	alignas(64) volatile uint64_t flush_seq;
	uint32_t flush_mode;
	uint8_t flush_name[DNS_NAME_MAX];	/* wire form (checked on receipt) */
	/* Dataplane main thread: the last flush done (every slot of its
	 * cache looked at; a bad request is done at once, removing
	 * nothing, and counted), what it removed; written before
	 * flush_done (release). */
	alignas(64) volatile uint64_t flush_done;
	volatile uint64_t flush_removed;	/* cache entries */
	volatile uint64_t flush_zones;		/* NSEC store zones */
	volatile uint32_t flush_status;		/* SHM_FLUSH_OK, ..._REFUSED, ..._NOMEM */
#define SHM_FLUSH_OK 0
#define SHM_FLUSH_REFUSED 1	/* a bad request: nothing done */
#define SHM_FLUSH_NOMEM 2	/* the NSEC store's part failed */

	/* Control: a page of the cache dump (bailiwick-ctl dump-cache), one
	 * request at a time like the flush: dump_pos (the index slot the walk
	 * goes on from; 0 to start) and dump_under (wire form: the entries at
	 * or below it; the root for all) written first, then dump_seq
	 * (release). */
	alignas(64) volatile uint64_t dump_seq;
	uint64_t dump_pos;
	uint8_t dump_under[DNS_NAME_MAX];	/* checked on receipt */
	/* Dataplane main thread: the page, written before dump_done
	 * (release): dump_n entries (at most SHM_DUMP_PAGE) found from
	 * dump_pos on, and dump_next, where the next page starts (0: every
	 * slot was looked at). A page may hold fewer entries than it could:
	 * the walk looks at SHM_DUMP_SLOTS slots at most each time, so that
	 * the writer's fills do not wait long. The cache changes between
	 * pages: an entry may be missed or shown twice, never half written. */
#define SHM_DUMP_PAGE 128
#define SHM_DUMP_SLOTS 4096
	alignas(64) volatile uint64_t dump_done;
	uint64_t dump_next;
	uint32_t dump_n;
	uint32_t dump_status;		/* SHM_FLUSH_OK or _REFUSED */
	struct shm_dump_entry dump[SHM_DUMP_PAGE];

	struct shm_worker_stats wstats[SHM_WORKERS_MAX];	/* each worker */
	struct shm_writer_stats writer;				/* the writer */
	struct shm_control_stats control;			/* control */
	/* RFC 8198 per zone: each worker's row, and the writer's list */
	alignas(64) struct shm_nsec_zone_count wzones[SHM_WORKERS_MAX][SHM_NSEC_ZONE_SLOTS];
	struct shm_nsec_zones nsec_zones;
	/* Dataplane main thread: its service ports (n_ports written once) */
	uint32_t n_ports;
	struct shm_port_stats ports[SHM_PORTS_MAX];
};

#endif
