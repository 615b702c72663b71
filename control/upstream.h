/*
 * control/upstream.h: upstream query I/O of the control process, built to
 * RFC 5452's forgery resistance. The iterator hands over one question for
 * one server address; this module sends it from a socket of its own, bound
 * for this query alone to a port drawn at random from the whole configured
 * range (unbound's outgoing-range model), with a random id (and 0x20 letter
 * case and an RFC 7873 cookie when asked), accepts only a reply that
 * matches on every count, falls back to TCP on TC=1, on a flood of near
 * misses or on a missing cookie, and calls back exactly once with the
 * reply, a timeout or a network error.
 *
 * Control process only: a context is one thread's; every function must be
 * called from the thread that runs the struct ctl_loop given to up_new()
 * (or while control/pool.h holds that thread still); nothing blocks.
 * Contexts of several threads may share one source port set
 * (up_share_ports()), which takes its own lock.
 *
 * Randomness: query ids, port draws, 0x20 case and client cookies are the
 * kernel's bytes (getrandom(2) through arc4random_buf(3)), fetched 256 at a
 * time into a per-thread pool and each handed out once; control/rng.h says
 * what that pool does not survive (a fork, a VM snapshot restored twice).
 *
 * Ports: one socket per UDP query, closed when the query ends, so a port is
 * open only while its query waits (an off-path scanner has nothing lasting
 * to find, SAD DNS) and never carries two queries; each draw is uniform
 * over the range minus the exclusions, drawn again when it is one of the
 * last ports drawn (at most 1024 and 1/16 of the range: under 0.1 bit for
 * the default range, and consecutive queries almost never share a port)
 * or in use (bind fails). About 16 bits of port entropy on top of the
 * id's 16.
 *
 * A reply is accepted only when it arrived on the query's socket, from the
 * queried address and port, with our id, QR=1, parses, has exactly our
 * question (octet for octet when 0x20 was used) and our client cookie when
 * it carries one. A datagram from another address or port is unrelated
 * junk: counted, nothing more. One from the queried address and port that
 * fails a later check is a near miss (someone who knows the port guesses
 * the rest): counted by reason, and more than flood_threshold of them in
 * one query's life move it to TCP; the server's own near-miss count (over
 * all its queries, halving every junk_half_life_ms: a spray at every
 * port, or a slow guesser, adds up) above the threshold makes its next
 * queries start on TCP. Once a server has returned our client cookie, a
 * UDP reply from it without one, or with another, is dropped and counted,
 * and the query moves to TCP (BIND's rule); the mark lasts cookie_mark_s
 * after the last cookie the server sent (a TCP reply without one does not
 * end it: TCP fallbacks can be provoked), and its entry is the last the
 * per-server table gives up. Port 53 is never drawn. FORMERR, NOTIMP, REFUSED
 * and BADCOOKIE are replies like any other (a BADCOOKIE's new server
 * cookie is learnt, so the caller's retry carries it); EDNS fallback is
 * the caller's decision.
 *
 * Sockets are never connect()ed: an unconnected UDP socket ignores ICMP
 * errors, which an off-path attacker can forge as easily as a reply. So a
 * UDP query ends in a reply or a timeout only; UP_NETWORK_ERROR comes from
 * socket(), bind() or sendto() failing locally and from TCP (connect
 * refused, reset, early close).
 */
#ifndef BW_CONTROL_UPSTREAM_H
#define BW_CONTROL_UPSTREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control/err.h"
#include "control/hist.h"
#include "control/loop.h"
#include "dns/msg.h"

/* Counters, all monotonic except udp_sockets (a gauge). */
#define UP_COUNTERS(X)                                                         \
	X(sent_udp, "UDP queries sent")                                        \
	X(sent_tcp, "TCP queries sent")                                        \
	X(accepted, "replies accepted")                                        \
	X(drop_wrong_addr, "unrelated junk: not from the queried address")    \
	X(drop_wrong_port, "unrelated junk: from the queried address, not its port") \
	X(near_misses, "near misses: from the queried address and port, dropped") \
	X(drop_unknown_id, "near miss: another id")                          \
	X(drop_bad_question, "near miss: question differs from ours")         \
	X(drop_bad_case, "near miss: qname letter case differs (0x20)")      \
	X(drop_bad_cookie, "near miss: client cookie is not ours")           \
	X(drop_no_cookie, "near miss: no cookie from a server that sends them") \
	X(drop_unparsable, "near miss: malformed message")                   \
	X(drop_not_response, "near miss: QR=0")                              \
	X(reply_no_cookie, "accepted without a cookie although we sent one")  \
	X(tcp_fallback_tc, "queries moved to TCP by TC=1")                    \
	X(tcp_fallback_flood, "queries moved to TCP by near misses")          \
	X(tcp_fallback_cookie, "queries moved to TCP by a missing or wrong cookie") \
	X(tcp_server_flood, "queries started on TCP: their server draws near misses") \
	X(timeouts, "queries that timed out")                                 \
	X(case_mismatch_results, "timeouts reported as UP_CASE_MISMATCH")     \
	X(no_0x20_servers, "servers marked as not echoing letter case")       \
	X(net_errors, "queries ended by a network error")                     \
	X(refused_full, "up_query() refused: max outstanding queries")        \
	X(server_evictions, "per-server entries evicted (table full)")        \
	X(cookie_rotations, "client cookies rotated")                         \
	X(udp_sockets, "UDP query sockets open (gauge)")                      \
	X(bind_retries, "port draws that hit a port in use")                   \
	X(bind_failures, "queries that found no free port")

struct up_counters {
#define UP_CNT_FIELD(name, text) uint64_t name;
	UP_COUNTERS(UP_CNT_FIELD)
#undef UP_CNT_FIELD
};

#define UP_EXCLUDE_MAX 128

struct up_config {
	bool ipv4;		   /* query IPv4 servers; default on */
	bool ipv6;		   /* query IPv6 servers; default on */
	uint16_t port_min;	   /* source port range, inclusive; 1024..65535 */
	uint16_t port_max;
	uint32_t n_exclude;	   /* ranges taken out of it; 0 */
	uint16_t exclude[UP_EXCLUDE_MAX][2]; /* first, last */
	struct sockaddr_in src4;   /* source address; sin_addr 0: wildcard */
	struct sockaddr_in6 src6;  /* source address; in6addr_any: wildcard */
	uint32_t bind_attempts;	   /* port draws per query before giving up; 32 */
	uint32_t max_queries;	   /* outstanding queries; 4096 */
	uint32_t max_servers;	   /* per-server table entries (LRU); 4096 */
	uint32_t flood_threshold;  /* near misses before TCP; more than 10 */
	uint32_t junk_half_life_ms; /* a server's near-miss count halves; 60000 */
	uint32_t cookie_mark_s;	   /* "sends cookies" holds after the last; 3600 */
	uint32_t case_mismatch_limit; /* replies before "no 0x20"; 2 */
	uint32_t no_0x20_ttl_s;	   /* how long that flag holds; 3600 */
	uint32_t cookie_rotate_s;  /* client cookie lifetime; 86400 */
};

/* Fills c with the defaults above. */
void up_config_default(struct up_config *c);

struct up_opts {
	bool edns;		/* send an OPT record; default on */
	uint16_t edns_size;	/* our UDP buffer size; 1232 */
	bool do_bit;		/* DNSSEC OK; off */
	bool cd;		/* checking disabled; off */
	bool rd;		/* recursion desired; off (iterators send RD=0) */
	bool use_0x20;		/* letter case randomization; on */
	bool cookies;		/* RFC 7873 client cookie (needs edns); on */
	bool tcp;		/* TCP from the start; off */
	uint32_t timeout_ms;	/* per transport attempt; 1500 */
	const uint8_t *zone;	/* the zone cut asked (wire; copied), for the
				   tap only; NULL */
};

void up_opts_default(struct up_opts *o);

enum up_status {
	UP_OK = 0,		/* a reply, whatever its rcode */
	UP_TIMEOUT,		/* nothing acceptable before the deadline */
	UP_CASE_MISMATCH,	/* timed out, but the server answered with the
				   right id, port and cookie in the wrong case */
	UP_NETWORK_ERROR,	/* err holds the errno */
};

struct up_result {
	enum up_status status;
	int err;		   /* errno for UP_NETWORK_ERROR, else 0 */
	const uint8_t *wire;	   /* UP_OK: the reply, valid during the call */
	size_t len;
	const struct dns_msg *msg; /* UP_OK: the reply, parsed */
	uint32_t rtt_us;	   /* UP_OK: send (or connect) to reply */
	bool tcp;		   /* the reply came over TCP */
	bool sent_0x20;		   /* the answered attempt used 0x20 */
	bool sent_cookie;	   /* ... carried a client cookie */
	bool cookie_ok;		   /* the reply's client cookie matched ours */
};

/* Called once per query that up_query() accepted, unless cancelled. */
typedef void (*up_cb)(void *arg, const struct up_result *r);

/* 0 is never a valid handle; stale handles are recognised and ignored. */
typedef uint64_t up_handle;

struct up_ctx;

/*
 * Builds the context on loop (which must outlive it). The caller keeps c.
 * Returns NULL with *err set to a code (control/err.h): CTL_E_INVAL for a
 * bad config (no family, a range with no port left), CTL_E_FAMILY when no
 * asked family can open a socket, CTL_E_NOMEM. A family the host lacks (no IPv6) is dropped
 * silently; up_families() tells. The program raises RLIMIT_NOFILE first:
 * one descriptor per outstanding query (at most max_queries), plus its own.
 */
struct up_ctx *up_new(struct ctl_loop *loop, const struct up_config *c,
		      int *err);

/* What up_new() kept: bit 0 IPv4, bit 1 IPv6. */
unsigned up_families(const struct up_ctx *ctx);

/* The ports a draw can give (the range minus the exclusions). */
uint32_t up_port_count(const struct up_ctx *ctx);

/*
 * ctx draws its source ports from from's set from now on (control/pool.h:
 * one set for every control thread), so that the ports drawn last are
 * avoided whichever thread drew them: 0, or CTL_E_INVAL when their ranges
 * or exclusions differ. Both must be freed before the process ends;
 * either may go first.
 */
int up_share_ports(struct up_ctx *ctx, struct up_ctx *from);

/* Closes every socket; outstanding queries are dropped without callback. */
void up_free(struct up_ctx *ctx);

/*
 * Sends qname (a valid uncompressed wire name, any case: the case sent is
 * ours) / qtype / qclass to server (sockaddr_in or sockaddr_in6 with its
 * port). Returns 0 and *h (may be NULL), after which cb(arg, ...) is called
 * exactly once from the loop, never from inside up_query(); or a negative
 * code and no callback: CTL_E_FAMILY (that family is off), CTL_E_INVAL,
 * CTL_E_FULL (max_queries outstanding), CTL_E_NAME for a bad name,
 * CTL_E_NOMEM.
 * cb may call up_query() and up_cancel(), but not up_free().
 */
int up_query(struct up_ctx *ctx, const struct sockaddr *server,
	     socklen_t server_len, const uint8_t *qname, uint16_t qtype,
	     uint16_t qclass, const struct up_opts *opts, up_cb cb, void *arg,
	     up_handle *h);

/*
 * A copy of every query sent (each attempt, UDP or TCP) and of every reply
 * accepted, for dnstap: reply false for a query. server: whom we asked;
 * local_port: our UDP source port (0 over TCP); msg: the message as sent or
 * received; age_us: how long ago the query went out (over TCP: the
 * connect); zone: the
 * opts' zone, or NULL. Called on the context's loop's thread (each control
 * thread's: cb must be safe from any of them), from inside the module: cb
 * must not call back into it. NULL cb: none.
 */
typedef void (*up_tap_cb)(void *arg, bool reply, const struct sockaddr_storage *server,
			  uint16_t local_port, bool tcp, const uint8_t *msg, size_t len,
			  uint64_t age_us, const uint8_t *zone);
void up_set_tap(struct up_ctx *ctx, up_tap_cb cb, void *arg);

/* Forgets a query: no callback. Stale or zero handles are ignored. */
void up_cancel(struct up_ctx *ctx, up_handle h);

/* Whether server (its address) has sent our client cookie back lately:
 * then a reply from it without one is a forgery, and a caller must not
 * talk to it without EDNS (no cookie to check). */
bool up_sends_cookies(struct up_ctx *ctx, const struct sockaddr *server);
/* The same as the table holds it, changing nothing (no LRU move, no
 * cookie refresh): for the operator's views. */
bool up_server_cookies(const struct up_ctx *ctx, const struct sockaddr *server);

/* A snapshot of the counters. */
void up_counters_get(const struct up_ctx *ctx, struct up_counters *out);
/* The round-trip times of the replies accepted (UDP and TCP). */
const struct ctl_hist *up_rtt_hist(const struct up_ctx *ctx);

/* Queries outstanding now. */
uint32_t up_outstanding(const struct up_ctx *ctx);

/*
 * The source ports of the UDP queries outstanding now, for tests and
 * diagnostics: writes up to n ports, returns how many there are.
 */
uint32_t up_udp_ports(const struct up_ctx *ctx, uint16_t *ports, uint32_t n);

#endif
