/*
 * control/upstream_int.h: what the files of the upstream module share and
 * nothing else may see: the query slots, the per-server table, the context,
 * and the functions one file of the module calls in another. The module is
 * one room in five files along its seams:
 *   upstream.c        query slots, UDP attempts, replies on the socket,
 *                     the context and the public API (upstream.h)
 *   upstream_srv.c    the per-server table (cookies, 0x20, junk counts)
 *   upstream_ports.c  source ports: the drawable range, draws, binds
 *   upstream_reply.c  the checks of a reply and what a reply teaches
 *   upstream_tcp.c    TCP attempts
 * The invariants the module keeps are at the top of upstream.c. Control
 * process, the loop's thread.
 */
#ifndef BW_CONTROL_UPSTREAM_INT_H
#define BW_CONTROL_UPSTREAM_INT_H

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "control/loop.h"
#include "control/upstream.h"
#include "dns/msg.h"
#include "dns/wire.h"

#define QUERY_MAX_LEN 512	/* ours: 12 + 255 + 4 + 11 + 4 + 40 = 326 */
#define RX_BURST 16		/* datagrams read per readiness event */
#define TCP_READS_MAX 16	/* recv() calls per TCP readiness event */
#define RECENT_PORTS 1024	/* at most this many recent ports avoided... */
#define RECENT_SHARE 16		/* ... and at most 1/16 of the range */
#define RECENT_REDRAWS 8	/* draws that may land on a recent port */
#define EVICT_SCAN 8		/* server entries looked at for one to evict */
#define NONE UINT32_MAX

enum qstate {
	Q_FREE = 0,
	Q_UDP,
	Q_TCP_CONNECT,
	Q_TCP_WRITE,
	Q_TCP_READ,
	Q_FAILED,	/* error noticed where no callback may run: timer at 0 */
	Q_CALLBACK,
};

/*
 * A count that halves every half-life: near misses weigh less as they age,
 * so a rare stray reply never adds up to a flood.
 */
struct decay {
	double n;
	uint64_t at_ms;
};

static inline double up_decay_add(struct decay *d, uint64_t now, uint32_t half_life_ms)
{
	if (d->n > 0 && now > d->at_ms)
		d->n *= exp2(-(double)(now - d->at_ms) / half_life_ms);
	d->at_ms = now;
	return d->n += 1;
}

static inline double up_decay_get(const struct decay *d, uint64_t now, uint32_t half_life_ms)
{
	return d->n > 0 && now > d->at_ms ?
		       d->n * exp2(-(double)(now - d->at_ms) / half_life_ms) : d->n;
}

struct query {
	struct up_ctx *ctx;
	uint32_t gen;
	uint32_t idx;
	uint8_t state;
	bool use_0x20;		/* this attempt's qname has random case */
	bool sent_cookie;
	bool saw_case_mismatch;
	bool case_counted;	/* counted toward the server's no-0x20 flag */
	bool tcp_attempt;	/* the current attempt is over TCP */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	uint16_t id;
	uint16_t out_len;	/* message length, after the 2-octet prefix */
	uint16_t tcp_out_off;
	int err;
	up_cb cb;
	void *arg;
	struct sockaddr_storage srv;
	socklen_t srv_len;
	struct up_opts opts;
	uint8_t cookie[DNS_COOKIE_CLIENT_LEN];
	uint8_t qname[DNS_NAME_MAX];	 /* the caller's */
	uint8_t qsent[DNS_NAME_MAX];	 /* as sent (0x20) */
	uint8_t out[2 + QUERY_MAX_LEN]; /* TCP length prefix + message */
	int udp_fd;			 /* its own socket while on UDP, else -1 */
	uint16_t udp_port;
	bool cookie_expected;		 /* the server was known to send cookies */
	uint32_t free_next;
	uint32_t junk;			 /* near misses aimed at it */
	int tcp_fd;
	uint8_t tcp_len[2];
	uint32_t tcp_got;		 /* octets of prefix + body read */
	uint8_t *tcp_in;		 /* body, malloc'ed once the length is known */
	uint64_t sent_us;
	struct ctl_timer timer;
	uint8_t zone[DNS_NAME_MAX];	 /* opts.zone's copy (opts.zone points here) */
};

struct server {
	uint8_t family;		/* 0: unused */
	uint8_t addr[16];
	bool cookie_seen;	/* it returned our client cookie at cookie_seen_ms */
	uint8_t case_mismatches;
	uint8_t server_cookie_len;
	uint8_t client_cookie[DNS_COOKIE_CLIENT_LEN];
	uint8_t server_cookie[DNS_COOKIE_SERVER_MAX];
	uint64_t cookie_born_ms;
	uint64_t cookie_seen_ms;
	uint64_t no_0x20_until_ms;
	struct decay junk;	/* near misses over all its queries */
	uint32_t hnext;		/* bucket chain */
	uint32_t lprev, lnext;	/* LRU list, most recent first */
};

/* The source ports to draw from, one set for every context of the process
 * (up_share_ports(): one per control thread), under mu. */
struct up_ports {
	pthread_mutex_t mu;
	unsigned refs;		/* contexts drawing from it (atomic) */
	uint16_t *ports;	/* the range minus the exclusions */
	uint32_t nports;
	/* the ports drawn last (a ring of recent_max) and a bitmap of them:
	 * a draw that lands on one is drawn again, so consecutive queries
	 * almost never share a port (10 birthday repeats in 1000 otherwise),
	 * whichever thread sent them */
	uint16_t recent[RECENT_PORTS];
	uint32_t recent_max, recent_next;
	uint64_t recent_map[65536 / 64];
};

struct up_ctx {
	struct ctl_loop *loop;
	struct up_config cfg;
	struct up_counters cnt;
	struct ctl_hist rtt;	/* accepted replies */
	struct up_ports *pp;	/* its own, or another context's */
	struct query *q;
	uint32_t free_head;
	uint32_t outstanding;
	struct server *srv;
	uint32_t nsrv;		/* entries in use */
	uint32_t *bucket;	/* heads of chains, NONE: empty */
	uint32_t nbucket;	/* power of two */
	uint64_t hash_key[2];
	uint32_t lru_head, lru_tail;
	uint8_t rx[DNS_MSG_MAX];
	uint8_t tc_head[DNS_HDR_LEN + DNS_NAME_MAX + 4]; /* see tc_salvage() */
	up_tap_cb tap;		/* dnstap's copies, or NULL */
	void *tap_arg;
};

/* A copy of q's message for the tap (up_set_tap()). */
static inline void up_tap(struct up_ctx *c, const struct query *q, bool reply,
			  const uint8_t *msg, size_t len, bool tcp)
{
	if (c->tap)
		c->tap(c->tap_arg, reply, &q->srv, tcp ? 0 : q->udp_port, tcp, msg, len,
		       ctl_now_us() - q->sent_us, q->opts.zone);
}

/* ---- addresses ---- */

static inline const uint8_t *up_sa_addr(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	}
	*len = 16;
	return (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static inline uint16_t up_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static inline bool up_same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	size_t la, lb;
	const uint8_t *pa = up_sa_addr(a, &la), *pb = up_sa_addr(b, &lb);

	return a->ss_family == b->ss_family && la == lb && !memcmp(pa, pb, la);
}

/* ---- upstream_srv.c ---- */

/* The entry for the address of ss; created (evicting the least recently
 * used) when create, else NULL when unknown. Refreshes the entry's cookie
 * when it is due and ends expired marks. */
struct server *up_srv_get(struct up_ctx *c, const struct sockaddr_storage *ss, bool create);
/* The entry for the address of ss as it is (no LRU move, no cookie
 * refresh), or NULL: for the operator's views. */
const struct server *up_srv_peek(const struct up_ctx *c, const struct sockaddr_storage *ss);

/* ---- upstream_ports.c ---- */

/* The range minus the exclusions, as a table to draw from: 0, CTL_E_NOMEM,
 * or CTL_E_INVAL when no port is left. */
int up_ports_init(struct up_ctx *c);
/* c draws from it no more (the last context frees it). */
void up_ports_release(struct up_ctx *c);

/* A UDP socket of the family on a fresh random port (*port), or CTL_E_SYSTEM
 * with the reason in errno (EADDRINUSE: every draw was taken). */
int up_udp_open(struct up_ctx *c, uint8_t family, uint16_t *port);

/* Closes q's UDP socket, if it has one. */
void up_udp_close(struct up_ctx *c, struct query *q);

/* ---- upstream_reply.c ---- */

enum up_verdict {
	UP_V_ACCEPT,
	UP_V_BAD_QUESTION,
	UP_V_BAD_CASE,
	UP_V_BAD_COOKIE,
	UP_V_NO_COOKIE,
	UP_V_UNPARSABLE,
	UP_V_NOT_RESPONSE,
	UP_V_UNKNOWN_ID,
};

/*
 * The checks of a reply after socket, address and port (which only UDP
 * needs): id, QR, a well-formed message, our question, our client cookie,
 * our case. *cookie_ok tells whether the reply echoed our client cookie;
 * m is the parse on UP_V_ACCEPT.
 */
enum up_verdict up_reply_check(struct up_ctx *c, const struct query *q, struct dns_msg *m,
			       const uint8_t *wire, size_t len, bool *cookie_ok);

/* A near miss of reason v: counted in all and by reason. */
void up_reply_count_drop(struct up_ctx *c, enum up_verdict v);

/* A reply right in all but letter case: toward the server's no-0x20 flag. */
void up_reply_case_mismatch(struct up_ctx *c, struct query *q, bool cookie_ok);

/* What an accepted reply teaches about its server (cookies, 0x20). */
void up_reply_learn(struct up_ctx *c, const struct query *q, const struct dns_msg *m,
		    bool cookie_ok);

/* ---- upstream_tcp.c ---- */

/* A new attempt of q over TCP (failures reported from the loop). */
void up_tcp_start(struct up_ctx *c, struct query *q);

/* Closes q's TCP socket; up_tcp_close() also frees what was read. */
void up_tcp_close_fd(struct up_ctx *c, struct query *q);
void up_tcp_close(struct up_ctx *c, struct query *q);

/* ---- upstream.c ---- */

/* Builds q's query message (id, qsent, EDNS, cookie) into q->out. 0 or a
 * dns error. */
int up_build_query(struct up_ctx *c, struct query *q);

/* Delivers an accepted reply, or (TC over UDP) retries over TCP. */
void up_accept_reply(struct up_ctx *c, struct query *q, const struct dns_msg *m,
		     bool cookie_ok);

/* Ends q with an error: later from the loop (where no callback may run),
 * or now. */
void up_q_fail_later(struct up_ctx *c, struct query *q, int err);
void up_q_fail_now(struct up_ctx *c, struct query *q, int err);

/* q's timer: its timeout, or a failure noticed where no callback could
 * run. */
void up_q_timer_cb(struct ctl_loop *loop, void *arg);

#endif
