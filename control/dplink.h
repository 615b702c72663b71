/*
 * control/dplink.h: control's side of the shared memory with the dataplane
 * (shm/shm.h). Starts EAL as a secondary process of the dataplane's
 * --file-prefix (waiting for the dataplane to come up), checks the control
 * block's ABI, then on the loop: takes miss records from every worker's
 * ring, resolves them with the iterator (refreshes skip control's cache for
 * the question), and returns each answer as a fill record. Stamps control's
 * heartbeat so the dataplane knows it is alive, and watches the
 * dataplane's: when the dataplane is gone, ctl_dp_lost() turns true and the
 * caller re-executes itself to attach to the next one (an EAL secondary
 * cannot attach twice in one process).
 *
 * Control process, the loop's thread.
 */
#ifndef BW_CONTROL_DPLINK_H
#define BW_CONTROL_DPLINK_H

#include <stdbool.h>
#include <stdio.h>

#include "control/loop.h"
#include "shm/shm.h"

struct cfg;
struct ctl_iter;
struct ctl_dp;

/*
 * EAL as a secondary process with cfg's dataplane.eal arguments that name
 * the shared memory (--file-prefix, --huge-dir); waits up to wait_ms for the
 * dataplane (0: forever, while *stop stays 0). Then attaches, if the
 * dataplane read the same configuration file (cfg_sha256, CFG_SHA256_LEN
 * octets: the SHA-256 of control's file). NULL with *code set and one line
 * in err: CTL_E_NO_DATAPLANE (none came up, EAL failed), CTL_E_ABI (another
 * build), CTL_E_CONFIG_FILE (another file), CTL_E_ATTACHED (another control
 * holds it), CTL_E_NOMEM. Once per process.
 */
struct ctl_dp *ctl_dp_attach(struct ctl_loop *loop, struct ctl_iter *it,
			     const struct cfg *cfg, const uint8_t *cfg_sha256,
			     const char *argv0,
			     volatile int *stop, uint32_t wait_ms,
			     int *code, char *err, size_t errlen);

/* The base of the dataplane's study clock (shm_ctl.clock_base_ms, in
 * ctl_now_ms()'s clock): see ctl_iter_set_clock_scale(). */
uint64_t ctl_dp_clock_base_ms(const struct ctl_dp *d);

/*
 * The client cache, for control's own clients (TCP): in dataplane mode the
 * dataplane's cache answers every client, so control asks it. The answer
 * comes to cb(arg, msg, len, stale) once, later, from the loop: the whole
 * answer to q (its id and letter case; stale: from an expired entry, to be
 * sent only if resolving takes long or fails, RFC 8767), or msg NULL when
 * the cache holds no entry that fits a record, or gave no answer within
 * SHM_LOOKUP_WAIT_MS (the caller resolves). Returns 0, or CTL_E_FULL (no
 * callback: resolve now).
 */
struct dns_query;
typedef void (*ctl_dp_found_cb)(void *arg, const uint8_t *msg, size_t len, bool stale);
int ctl_dp_lookup(struct ctl_dp *d, const struct dns_query *q, ctl_dp_found_cb cb, void *arg);

/* Puts the answer control resolved for its own client's query q (rcode,
 * msg: the assembled message) into the dataplane's cache: a fill that
 * answers no one; tag: the policy's verdict on msg (NULL: none). */
struct cache_tag;
void ctl_dp_fill_cache(struct ctl_dp *d, const struct dns_query *q, int rcode,
		       const uint8_t *msg, size_t len, const struct cache_tag *tag);

/*
 * Response policy in dataplane mode. The workers apply the snapshot
 * ctl_dp_publish_policy() gave them (a copy of s, len octets, in hugepage
 * memory; the one it replaces is freed once every worker has moved past
 * it, shm.h's policy_released): 0, or CTL_E_NOMEM (the workers keep the
 * one they have). Misses are checked against p too (a CNAME's target is
 * control's to chase, and the policy may have changed since the worker
 * looked); p may be NULL. ctl_dp_policy_gen(): the generation the
 * dataplane holds, from this control or one before (the next must be
 * higher); ctl_dp_policy_state() the dataplane's view.
 */
struct policy_snap;
struct ctl_policy;
int ctl_dp_publish_policy(struct ctl_dp *d, const struct policy_snap *s, size_t len);
void ctl_dp_set_policy(struct ctl_dp *d, struct ctl_policy *p);

/*
 * The cache dump (bailiwick-ctl dump-cache), a page at a time (shm.h's
 * dump request). ctl_dp_dump() asks for the entries at or below under
 * (wire form; NULL: all) from index slot pos on (0: the start): its
 * sequence number, or 0 while a page is being made. ctl_dp_dump_page():
 * false until page seq is made; then true with its entries (*e, *n: each
 * name still to be checked), where the next page starts (*next; 0: the
 * walk is over) and whether the dataplane refused the request.
 */
struct shm_dump_entry;
uint64_t ctl_dp_dump(struct ctl_dp *d, uint64_t pos, const uint8_t *under);
bool ctl_dp_dump_page(const struct ctl_dp *d, uint64_t seq, const struct shm_dump_entry **e,
		      unsigned *n, uint64_t *next, bool *refused);

/*
 * RFC 8198 (cache.aggressive-nsec). ctl_dp_feed_nsec(): a denial the
 * iterator validated (the message of ctl_iter_set_feed()'s callback) to
 * the workers' NSEC store, as a fill record. ctl_dp_set_nsec(): control's
 * own store, fed the same messages (NULL: none). A client's miss that it
 * proves is answered from it, not resolved: the range was still on its way
 * to the workers, or its feed was dropped (a full fill ring).
 */
struct cache_nsec;
void ctl_dp_feed_nsec(struct ctl_dp *d, const uint8_t *msg, size_t len);
void ctl_dp_set_nsec(struct ctl_dp *d, const struct cache_nsec *n);
uint64_t ctl_dp_policy_gen(const struct ctl_dp *d);
void ctl_dp_policy_state(const struct ctl_dp *d, uint64_t *active, uint64_t *rejected);

/*
 * The client-facing settings of cfg (the access-control list, the EDNS
 * size; shm.h's settings block) published as configuration generation gen
 * (above ctl_dp_settings_gen(), what an earlier control published), with
 * the SHA-256 of the file they came from (a control started later from
 * it attaches) and the identity of the trust anchors in force (a change
 * empties the dataplane's caches); serve-stale's client timeout taken for
 * our own miss path.
 * ctl_dp_settings_state(): the generation the workers apply, and the last
 * one the dataplane refused.
 */
void ctl_dp_publish_settings(struct ctl_dp *d, const struct cfg *cfg, uint64_t gen,
			     const uint8_t *cfg_sha256, uint64_t anchors_id);
uint64_t ctl_dp_settings_gen(const struct ctl_dp *d);
void ctl_dp_settings_state(const struct ctl_dp *d, uint64_t *active, uint64_t *rejected);

/*
 * The log level and target control has in force now (conf/log.h's) go to
 * the dataplane for its own lines (it looks every 10 ms). Called once
 * control's log section applies (before it, the dataplane keeps its
 * file's), and after each change; a control that is not the attached one
 * writes nothing (and what it might still write, stopped between the
 * check and the store, names its pid: the dataplane ignores it).
 */
void ctl_dp_publish_log(struct ctl_dp *d);

/*
 * The workers' copies of client messages (their tap rings, which the
 * dataplane makes when the same file asks for dnstap's client messages or
 * the query log) go to t (dnstap; NULL: none) and, with qlog, to the query
 * log (control/log.h) from now on. 0, or CTL_E_ABI with a line in err (a
 * ring is missing). t must outlive d.
 */
struct ctl_dnstap;
int ctl_dp_set_taps(struct ctl_dp *d, struct ctl_dnstap *t, bool qlog, char *err,
		    size_t errlen);

/* True once the dataplane we attached to has gone away. */
bool ctl_dp_lost(const struct ctl_dp *d);

/*
 * An operator's flush for the dataplane's caches (shm.h's SHM_FLUSH_*;
 * name: a wire name for NAME and ZONE, else NULL): its sequence number,
 * or 0 while an earlier one is still in progress. ctl_dp_flush_done():
 * whether flush seq is done, what it removed (cache entries, NSEC store
 * zones) and how it ended (SHM_FLUSH_OK, ..._REFUSED, ..._NOMEM).
 */
uint64_t ctl_dp_flush(struct ctl_dp *d, unsigned mode, const uint8_t *name);
bool ctl_dp_flush_done(const struct ctl_dp *d, uint64_t seq, uint64_t *removed,
		       uint64_t *zones, uint32_t *status);

/* Detaches (control's pid cleared, so the dataplane answers misses itself
 * at once) and frees. The EAL stays: it cannot be started again. */
void ctl_dp_detach(struct ctl_dp *d);

/* Writes the dataplane's counters, each summed over the workers, then
 * the writer's and control's, as "stat GROUP.NAME VALUE" lines. */
void ctl_dp_print_stats(const struct ctl_dp *d, FILE *f);
/* "status" lines of the dataplane: its pid, workers, and each service
 * port ("portN DEVICE link up|down SPEED Mb/s rx N tx N missed N errors N"). */
void ctl_dp_print_ports(const struct ctl_dp *d, FILE *f);

#endif
