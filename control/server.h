/*
 * control/server.h: the front end of bailiwick-control on kernel sockets
 * (the configuration's listen addresses): client queries over UDP and TCP
 * when standalone, over TCP only with a dataplane (clients retrying after
 * TC=1), answered from the client cache or by the iterator. The client
 * cache is control's own when standalone and the dataplane's otherwise
 * (asked through shared memory; what control resolves for these clients
 * is filled into it, and its stale entries are what they get when
 * resolving takes long or fails, RFC 8767).
 *
 * Per query, answer/screen.h's rules, as the dataplane's workers apply
 * them: QR=1 is dropped; access control (first matching prefix: allow,
 * refuse, drop); opcodes other than QUERY get NOTIMP; what does not parse
 * gets FORMERR when its header is readable; EDNS versions other than 0 get
 * BADVERS; zone transfers and classes other than IN are REFUSED. Answers
 * carry our OPT when the client sent one and TC=1 when they exceed the
 * client's UDP size or our EDNS buffer. TCP connections are bounded in
 * all (tcp.max-connections) and per client (tcp.max-per-client: an IPv4
 * address or an IPv6 /64), and closed when no whole query has come and no
 * answer has been read for tcp.idle-timeout-ms. Every outcome is counted.
 *
 * Control process, the loop's thread.
 */
#ifndef BW_CONTROL_SERVER_H
#define BW_CONTROL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "control/loop.h"

struct cache;
struct cfg;
struct ctl_dp;
struct ctl_iter;

#define CTL_SERVER_COUNTERS(X)						\
	X(udp_queries, "UDP queries received")				\
	X(tcp_queries, "TCP queries received")				\
	X(tcp_connections, "TCP connections accepted")			\
	X(tcp_refused, "TCP connections refused: too many, or dropped by the ACL") \
	X(tcp_refused_client, "TCP connections refused: the client has its share") \
	X(tcp_idle_closed, "TCP connections closed: no whole query for the idle timeout") \
	X(cache_hits, "answered from the cache")			\
	X(resolved, "answered after resolution")			\
	X(servfail, "SERVFAIL answers")				\
	X(stale, "stale answers from the dataplane's cache (RFC 8767)")	\
	X(found_mismatch, "answers from the dataplane's cache not for the question asked: resolved instead") \
	X(refused, "REFUSED (access control, class, transfers)")	\
	X(acl_dropped, "dropped by access control")			\
	X(formerr, "FORMERR answers")					\
	X(notimp, "NOTIMP answers")					\
	X(badvers, "BADVERS answers")					\
	X(dropped, "dropped: responses, runts, unreadable headers")	\
	X(truncated, "answers sent with TC=1")				\
	X(overload, "SERVFAIL: the iterator is full")			\
	X(nsec_synth, "negative answers from NSEC/NSEC3 ranges (RFC 8198)") \
	X(nxdomain_cut, "NXDOMAINs below a cached secure NXDOMAIN (RFC 8020)")

struct ctl_server_stats {
#define CTL_SERVER_FIELD(name, text) uint64_t name;
	CTL_SERVER_COUNTERS(CTL_SERVER_FIELD)
#undef CTL_SERVER_FIELD
};

struct ctl_server;

/*
 * Opens UDP and TCP sockets (TCP only when cfg has a dataplane, whose
 * workers take UDP) on every listen address of cfg (which must
 * outlive the server, like the other arguments). Clients are answered
 * from the client cache: dp's (the dataplane's) when dp is not NULL, else
 * cache, which is then control's own. NULL with *code set
 * (CTL_E_LISTEN, CTL_E_NOMEM) and a line in err naming the address that
 * failed.
 */
/* A configuration reload: the access-control list, the EDNS size and the
 * serve-stale client timeout from cfg (the same struct as at creation,
 * its runtime fields changed; the TCP limits are read from it as they are
 * needed). Listen addresses stay. */
void ctl_server_reconfigure(struct ctl_server *s, const struct cfg *cfg);

struct ctl_server *ctl_server_new(struct ctl_loop *loop, struct ctl_iter *it,
				  struct cache *cache, struct ctl_dp *dp, const struct cfg *cfg,
				  int *code, char *err, size_t errlen);
void ctl_server_free(struct ctl_server *s);

/* Standalone: the NSEC store (RFC 8198) its UDP clients are answered from
 * after a cache miss, fed by the iterator (ctl_iter_set_feed()); NULL
 * (the default): none. n must outlive s. */
struct cache_nsec;
void ctl_server_set_nsec(struct ctl_server *s, const struct cache_nsec *n);

/* dnstap (control/dnstap.h): 1 client query in dnstap.sample and its
 * answer copied; NULL (the default): none. t must outlive s. */
struct ctl_dnstap;
void ctl_server_set_dnstap(struct ctl_server *s, struct ctl_dnstap *t);

/* Response policy (control/policy.h) applied to every client's question
 * before any cache; NULL (the default): none. p must outlive s. */
struct ctl_policy;
void ctl_server_set_policy(struct ctl_server *s, struct ctl_policy *p);

void ctl_server_get_stats(const struct ctl_server *s, struct ctl_server_stats *st);

#endif
