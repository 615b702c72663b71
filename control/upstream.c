/*
 * control/upstream.c: upstream query I/O (RFC 5452 forgery resistance).
 * Control process, single thread, non-blocking sockets on the loop of
 * control/loop.h; no call here blocks.
 *
 * Invariants:
 * - A query slot is FREE (on the free list), live (UDP, TCP_*, FAILED) or
 *   in its callback (CALLBACK). Every live query has its timer armed, so it
 *   ends by itself; only a reply, that timer or up_cancel() end it.
 * - A UDP query owns its socket: bound to a port drawn for it alone, on the
 *   loop while the query waits on UDP, closed the moment it stops (reply,
 *   TCP, timeout, cancel). No socket carries two queries, so a datagram on
 *   it can only be for its query, and no port is reused while its query
 *   is outstanding (the kernel refuses a second bind).
 * - The per-server table never holds more than max_servers entries; a
 *   query keeps its own copy of the client cookie it sent (and whether the
 *   server was known to send cookies), so evicting or rotating an entry
 *   never makes a genuine reply look forged.
 * - Junk (any datagram that is not accepted) never completes, fails or
 *   shortens a query: the worst it does is move the query to TCP, with a
 *   fresh timeout. Unrelated junk (another address or port) does not even
 *   do that: whoever sends it does not know what we asked whom.
 *
 * 0x20 fallback (why a spoofer cannot switch 0x20 off cheaply): a reply
 * counts as "server does not echo case" only after it passed every other
 * check (socket, address, port, id, question, and our client cookie when
 * the server is known to return cookies), and at most once per query; the
 * limit (case_mismatch_limit, default 2) must be reached before one
 * correctly-cased reply resets the count, and the "no 0x20" flag expires
 * (no_0x20_ttl_s). So switching 0x20 off costs a spoofer at least
 * case_mismatch_limit blind hits on a 16-bit id and a ~16-bit port, each of
 * which would already have been a successful spoof without 0x20, and it
 * only holds for no_0x20_ttl_s. Queries sent while the flag holds still
 * have their id, port and cookie protection.
 */
#include "control/upstream.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/config.h"
#include "control/rng.h"
#include "dns/build.h"
#include "dns/err.h"
#include "dns/name.h"
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

static double decay_add(struct decay *d, uint64_t now, uint32_t half_life_ms)
{
	if (d->n > 0 && now > d->at_ms)
		d->n *= exp2(-(double)(now - d->at_ms) / half_life_ms);
	d->at_ms = now;
	return d->n += 1;
}

static double decay_get(const struct decay *d, uint64_t now, uint32_t half_life_ms)
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

struct up_ctx {
	struct ctl_loop *loop;
	struct up_config cfg;
	struct up_counters cnt;
	uint16_t *ports;	/* the range minus the exclusions */
	uint32_t nports;
	/* the ports drawn last (a ring of recent_max) and a bitmap of them:
	 * a draw that lands on one is drawn again, so consecutive queries
	 * almost never share a port (10 birthday repeats in 1000 otherwise) */
	uint16_t recent[RECENT_PORTS];
	uint32_t recent_max, recent_next;
	uint64_t recent_map[65536 / 64];
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
};

void up_config_default(struct up_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ipv4 = true;
	c->ipv6 = true;
	c->port_min = 1024;
	c->port_max = 65535;
	c->src4.sin_family = AF_INET;
	c->src6.sin6_family = AF_INET6;
	c->bind_attempts = 32;
	c->max_queries = 4096;
	c->max_servers = 4096;
	c->flood_threshold = 10;
	c->junk_half_life_ms = 60000;
	c->cookie_mark_s = 3600;
	c->case_mismatch_limit = 2;
	c->no_0x20_ttl_s = 3600;
	c->cookie_rotate_s = 86400;
}

void up_opts_default(struct up_opts *o)
{
	*o = (struct up_opts){
		.edns = true,
		.edns_size = 1232,
		.use_0x20 = true,
		.cookies = true,
		.timeout_ms = 1500,
	};
}

/* ---- addresses ---- */

static const uint8_t *sa_addr(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	}
	*len = 16;
	return (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	size_t la, lb;
	const uint8_t *pa = sa_addr(a, &la), *pb = sa_addr(b, &lb);

	return a->ss_family == b->ss_family && la == lb && !memcmp(pa, pb, la);
}

/* ---- per-server table: fixed size, chained buckets, LRU eviction ---- */

/*
 * Server addresses come from referrals, which an attacker can choose, so
 * the bucket index is keyed with a secret drawn at start.
 */
static uint32_t srv_hash(const struct up_ctx *c, uint8_t family,
			 const uint8_t *addr, size_t len)
{
	uint64_t h = c->hash_key[0] ^ family;

	for (size_t i = 0; i < len; i++) {
		h ^= addr[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h ^= c->hash_key[1];
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (c->nbucket - 1);
}

static void lru_unlink(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];

	if (s->lprev != NONE)
		c->srv[s->lprev].lnext = s->lnext;
	else
		c->lru_head = s->lnext;
	if (s->lnext != NONE)
		c->srv[s->lnext].lprev = s->lprev;
	else
		c->lru_tail = s->lprev;
}

static void lru_push(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];

	s->lprev = NONE;
	s->lnext = c->lru_head;
	if (c->lru_head != NONE)
		c->srv[c->lru_head].lprev = i;
	c->lru_head = i;
	if (c->lru_tail == NONE)
		c->lru_tail = i;
}

static void bucket_unlink(struct up_ctx *c, uint32_t i)
{
	struct server *s = &c->srv[i];
	size_t len = s->family == AF_INET ? 4 : 16;
	uint32_t *p = &c->bucket[srv_hash(c, s->family, s->addr, len)];

	while (*p != NONE && *p != i)
		p = &c->srv[*p].hnext;
	if (*p == i)
		*p = s->hnext;
}

/* A new client cookie; whether the server sends cookies stays known. */
static void srv_new_cookie(struct server *s, uint64_t now)
{
	up_rng_buf(s->client_cookie, sizeof(s->client_cookie));
	s->cookie_born_ms = now;
	s->server_cookie_len = 0;
}

/*
 * The entry to give up for a new server: the least recently used of the
 * last EVICT_SCAN that does not send cookies, else the least recently
 * used. Whoever makes us ask many new addresses (a referral with many
 * glue records, random names) pushes entries out; a server's cookie mark
 * is what keeps its replies unforgeable, so it goes last.
 */
static uint32_t evict_one(struct up_ctx *c)
{
	uint32_t i = c->lru_tail;

	for (unsigned n = 0; i != NONE && n < EVICT_SCAN; n++, i = c->srv[i].lprev)
		if (!c->srv[i].cookie_seen)
			return i;
	return c->lru_tail;
}

/* The entry for the address of ss; created (evicting the LRU) when create. */
static struct server *srv_get(struct up_ctx *c,
			      const struct sockaddr_storage *ss, bool create)
{
	size_t len;
	const uint8_t *a = sa_addr(ss, &len);
	uint8_t fam = (uint8_t)ss->ss_family;
	uint32_t b = srv_hash(c, fam, a, len);
	uint64_t now = ctl_now_ms();
	uint32_t i;

	for (i = c->bucket[b]; i != NONE; i = c->srv[i].hnext) {
		struct server *s = &c->srv[i];
		if (s->family == fam && !memcmp(s->addr, a, len))
			break;
	}
	if (i == NONE) {
		if (!create)
			return NULL;
		if (c->nsrv < c->cfg.max_servers) {
			i = c->nsrv++;
		} else {
			i = evict_one(c);
			lru_unlink(c, i);
			bucket_unlink(c, i);
			c->cnt.server_evictions++;
		}
		struct server *s = &c->srv[i];
		memset(s, 0, sizeof(*s));
		s->family = fam;
		memcpy(s->addr, a, len);
		srv_new_cookie(s, now);
		s->hnext = c->bucket[b];
		c->bucket[b] = i;
		lru_push(c, i);
	} else {
		lru_unlink(c, i);
		lru_push(c, i);
	}
	struct server *s = &c->srv[i];
	/* Rotation bounds how long one cookie can link our queries. */
	if (now - s->cookie_born_ms >= (uint64_t)c->cfg.cookie_rotate_s * 1000u) {
		srv_new_cookie(s, now);
		c->cnt.cookie_rotations++;
	}
	if (s->no_0x20_until_ms && now >= s->no_0x20_until_ms)
		s->no_0x20_until_ms = 0;
	/* a server that stopped sending cookies is believed without them an
	 * hour after the last one (until then its replies come over TCP) */
	if (s->cookie_seen && now - s->cookie_seen_ms >= (uint64_t)c->cfg.cookie_mark_s * 1000u)
		s->cookie_seen = false;
	return s;
}

/* ---- source ports ---- */

/*
 * Binds fd to the family's source address on a port drawn uniformly from
 * the range minus the exclusions; a port in use (or not ours to take)
 * means another draw.
 */
static bool recent(const struct up_ctx *c, uint16_t p)
{
	return c->recent_map[p / 64] >> (p % 64) & 1;
}

static void remember(struct up_ctx *c, uint16_t p)
{
	if (!c->recent_max)
		return;
	uint16_t old = c->recent[c->recent_next];
	if (old)
		c->recent_map[old / 64] &= ~(UINT64_C(1) << (old % 64));
	c->recent[c->recent_next] = p;
	c->recent_map[p / 64] |= UINT64_C(1) << (p % 64);
	c->recent_next = (c->recent_next + 1) % c->recent_max;
}

/*
 * A port drawn uniformly from the range minus the exclusions, again while
 * it is one of the last few drawn (at most 1/16 of the range is avoided
 * that way: under 0.1 bit of entropy for the default range).
 */
static uint16_t draw_port(struct up_ctx *c)
{
	uint16_t p = c->ports[up_rng_below(c->nports)];

	for (int i = 0; i < RECENT_REDRAWS && recent(c, p); i++)
		p = c->ports[up_rng_below(c->nports)];
	return p;
}

static int bind_random(struct up_ctx *c, int fd, uint8_t family,
		       uint16_t *port)
{
	for (uint32_t a = 0; a < c->cfg.bind_attempts; a++) {
		uint16_t p = draw_port(c);
		struct sockaddr_storage ss;
		socklen_t len;
		if (family == AF_INET) {
			struct sockaddr_in sin = c->cfg.src4;
			sin.sin_family = AF_INET;
			sin.sin_port = htons(p);
			memcpy(&ss, &sin, sizeof(sin));
			len = sizeof(sin);
		} else {
			struct sockaddr_in6 sin6 = c->cfg.src6;
			sin6.sin6_family = AF_INET6;
			sin6.sin6_port = htons(p);
			memcpy(&ss, &sin6, sizeof(sin6));
			len = sizeof(sin6);
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			*port = p;
			remember(c, p);
			return 0;
		}
		if (errno != EADDRINUSE && errno != EACCES)
			return -errno;
		c->cnt.bind_retries++;
	}
	c->cnt.bind_failures++;
	return -EADDRINUSE;
}

/* A UDP socket of the family on a fresh random port, or -errno. */
static int open_udp(struct up_ctx *c, uint8_t family, uint16_t *port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (fd < 0)
		return -errno;
	/* An IPv6 query socket is for IPv6 servers: v4-mapped traffic
	 * would take a port from the IPv4 side too. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = bind_random(c, fd, family, port)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static void udp_close(struct up_ctx *c, struct query *q)
{
	if (q->udp_fd < 0)
		return;
	ctl_loop_close(c->loop, q->udp_fd);
	q->udp_fd = -1;
	c->cnt.udp_sockets--;
}

/* ---- query slots ---- */

static struct query *q_by_idx(struct up_ctx *c, uint32_t i)
{
	return &c->q[i];
}

static void tcp_close_fd(struct up_ctx *c, struct query *q)
{
	if (q->tcp_fd >= 0) {
		ctl_loop_unwatch(c->loop, q->tcp_fd);
		close(q->tcp_fd);
		q->tcp_fd = -1;
	}
}

static void tcp_close(struct up_ctx *c, struct query *q)
{
	tcp_close_fd(c, q);
	free(q->tcp_in);
	q->tcp_in = NULL;
	q->tcp_got = 0;
}

/* Drops the query's sockets and timer; the slot stays taken. */
static void q_detach(struct up_ctx *c, struct query *q)
{
	udp_close(c, q);
	tcp_close(c, q);
	ctl_timer_cancel(c->loop, &q->timer);
}

static void q_release(struct up_ctx *c, struct query *q)
{
	q_detach(c, q);
	q->state = Q_FREE;
	q->cb = NULL;
	q->free_next = c->free_head;
	c->free_head = q->idx;
	c->outstanding--;
}

/*
 * Ends q with r: the slot is not reusable until the callback returns, and
 * a TCP reply's buffer (r->wire) lives until then too.
 */
static void q_complete(struct up_ctx *c, struct query *q, struct up_result *r)
{
	udp_close(c, q);
	tcp_close_fd(c, q);
	ctl_timer_cancel(c->loop, &q->timer);
	q->state = Q_CALLBACK;
	r->sent_0x20 = q->use_0x20;
	r->sent_cookie = q->sent_cookie;
	q->cb(q->arg, r);
	q_release(c, q);
}

static void q_timer_cb(struct ctl_loop *loop, void *arg);
static void udp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/* An error where no callback may run (inside up_query, or in a walk). */
static void q_fail_later(struct up_ctx *c, struct query *q, int err)
{
	q_detach(c, q);
	q->state = Q_FAILED;
	q->err = err;
	ctl_timer_add(c->loop, &q->timer, 0, q_timer_cb, q);
}

static void q_fail_now(struct up_ctx *c, struct query *q, int err)
{
	struct up_result r = { .status = UP_NETWORK_ERROR, .err = err,
			       .tcp = q->tcp_attempt };

	c->cnt.net_errors++;
	q_complete(c, q, &r);
}

static void q_timer_cb(struct ctl_loop *loop, void *arg)
{
	struct query *q = arg;
	struct up_ctx *c = q->ctx;
	struct up_result r = { .status = UP_TIMEOUT };

	if (q->state == Q_FAILED) {
		q_fail_now(c, q, q->err);
		return;
	}
	if (q->state == Q_UDP && q->udp_fd >= 0) {
		/* A reply that came in time but is still unread (a busy loop:
		 * a burst of new questions went first) is no timeout, and must
		 * not count against the server. */
		uint32_t gen = q->gen;

		udp_cb(loop, q->udp_fd, EPOLLIN, q);
		if (q->gen != gen || q->state != Q_UDP)
			return; /* answered, or over TCP now */
	}
	r.tcp = q->tcp_attempt;
	c->cnt.timeouts++;
	if (q->saw_case_mismatch) {
		r.status = UP_CASE_MISMATCH;
		c->cnt.case_mismatch_results++;
	}
	q_complete(c, q, &r);
}

/* ---- building the query ---- */

/* Each letter's case from one random bit (draft-vixie-dnsext-dns0x20). */
static void case_randomize(uint8_t *dst, const uint8_t *src, size_t len)
{
	uint8_t bits[(DNS_NAME_MAX + 7) / 8];

	up_rng_buf(bits, (len + 7) / 8);
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = src[i];
		uint8_t lo = dns_lower[ch];
		dst[i] = ch;
		/* Length octets are below 64 and never letters. */
		if (lo >= 'a' && lo <= 'z')
			dst[i] = (bits[i / 8] >> (i % 8)) & 1 ? (uint8_t)(lo - 32) : lo;
	}
}

static int build_query(struct up_ctx *c, struct query *q)
{
	struct dns_builder b;
	uint16_t flags = (q->opts.rd ? DNS_F_RD : 0) | (q->opts.cd ? DNS_F_CD : 0);
	uint8_t opt[4 + DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX];
	size_t optlen = 0;
	int r;

	q->sent_cookie = false;
	q->cookie_expected = false;
	if ((r = dns_builder_init(&b, q->out + 2, QUERY_MAX_LEN, q->id, flags)))
		return r;
	if ((r = dns_builder_question(&b, q->qsent, q->qtype, q->qclass)))
		return r;
	if (q->opts.edns) {
		if (q->opts.cookies) {
			struct server *s = srv_get(c, &q->srv, true);
			size_t sl = s->server_cookie_len;
			q->cookie_expected = s->cookie_seen;
			dns_put16(opt, DNS_EO_COOKIE);
			dns_put16(opt + 2, (uint16_t)(DNS_COOKIE_CLIENT_LEN + sl));
			memcpy(opt + 4, s->client_cookie, DNS_COOKIE_CLIENT_LEN);
			memcpy(opt + 4 + DNS_COOKIE_CLIENT_LEN, s->server_cookie, sl);
			memcpy(q->cookie, s->client_cookie, DNS_COOKIE_CLIENT_LEN);
			optlen = 4 + DNS_COOKIE_CLIENT_LEN + sl;
			q->sent_cookie = true;
		}
		uint16_t size = q->opts.edns_size < DNS_EDNS_MIN_UDP ?
					DNS_EDNS_MIN_UDP : q->opts.edns_size;
		r = dns_builder_opt(&b, size, 0, 0,
				    q->opts.do_bit ? DNS_EDNS_F_DO : 0, opt,
				    optlen);
		if (r)
			return r;
	}
	q->out_len = (uint16_t)dns_builder_finish(&b);
	dns_put16(q->out, q->out_len);
	return 0;
}

/* ---- TCP ---- */

static void tcp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/*
 * A new attempt over TCP: new id, the caller's qname as given (the
 * handshake already proves the path, and servers that mangle case over UDP
 * do so over TCP too), a fresh timeout so that junk cannot shorten the
 * query. Failures are reported from the loop (q_fail_later).
 */
static void start_tcp(struct up_ctx *c, struct query *q)
{
	int fd, r;

	udp_close(c, q);
	q->id = up_rng_u16();
	q->use_0x20 = false;
	q->tcp_attempt = true;
	q->junk = 0;
	memcpy(q->qsent, q->qname, q->qname_len);
	if ((r = build_query(c, q))) {
		q_fail_later(c, q, EINVAL);
		return;
	}
	fd = socket(q->srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		q_fail_later(c, q, errno);
		return;
	}
	q->tcp_fd = fd;
	q->tcp_got = 0;
	q->tcp_out_off = 0;
	/* The configured source address, any port: a TCP reply cannot be
	 * blind-spoofed without the handshake's sequence numbers. */
	if (q->srv.ss_family == AF_INET && c->cfg.src4.sin_addr.s_addr) {
		struct sockaddr_in sin = c->cfg.src4;
		sin.sin_port = 0;
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			q_fail_later(c, q, errno);
			return;
		}
	} else if (q->srv.ss_family == AF_INET6 &&
		   !IN6_IS_ADDR_UNSPECIFIED(&c->cfg.src6.sin6_addr)) {
		struct sockaddr_in6 sin6 = c->cfg.src6;
		sin6.sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
			q_fail_later(c, q, errno);
			return;
		}
	}
	q->sent_us = ctl_now_us();
	if (connect(fd, (struct sockaddr *)&q->srv, q->srv_len) < 0 &&
	    errno != EINPROGRESS) {
		q_fail_later(c, q, errno);
		return;
	}
	q->state = Q_TCP_CONNECT;
	if ((r = ctl_loop_watch(c->loop, fd, EPOLLOUT, tcp_cb, q)) < 0) {
		q_fail_later(c, q, -r);
		return;
	}
	c->cnt.sent_tcp++;
	ctl_timer_add(c->loop, &q->timer, q->opts.timeout_ms, q_timer_cb, q);
}

/* ---- checking a reply ---- */

enum verdict {
	V_ACCEPT,
	V_BAD_QUESTION,
	V_BAD_CASE,
	V_BAD_COOKIE,
	V_NO_COOKIE,
	V_UNPARSABLE,
	V_NOT_RESPONSE,
	V_UNKNOWN_ID,
};

/* A near miss of reason v: counted in all and by reason. */
static void count_drop(struct up_ctx *c, enum verdict v)
{
	switch (v) {
	case V_BAD_QUESTION: c->cnt.drop_bad_question++; break;
	case V_BAD_CASE: c->cnt.drop_bad_case++; break;
	case V_BAD_COOKIE: c->cnt.drop_bad_cookie++; break;
	case V_NO_COOKIE: c->cnt.drop_no_cookie++; break;
	case V_UNPARSABLE: c->cnt.drop_unparsable++; break;
	case V_NOT_RESPONSE: c->cnt.drop_not_response++; break;
	case V_UNKNOWN_ID: c->cnt.drop_unknown_id++; break;
	case V_ACCEPT: return;
	}
	c->cnt.near_misses++;
}

/*
 * A UDP reply with TC=1 that does not parse: some servers cut the message
 * in the middle of a record instead of at a record boundary. Its header and
 * question alone are parsed (from a copy with the other counts zeroed), so
 * that the usual checks can still send the query to TCP. No cookie can be
 * checked (the OPT record is gone); at worst a spoofer who matched id, port,
 * question and case makes us ask over TCP, which is what we want anyway.
 */
static bool tc_salvage(struct up_ctx *c, struct dns_msg *m,
		       const uint8_t *wire, size_t len)
{
	int n;

	if (!(dns_get16(wire + 2) & DNS_F_TC) || dns_get16(wire + 4) != 1)
		return false;
	n = dns_name_scan(wire, len, DNS_HDR_LEN);
	if (n <= 0 || len - DNS_HDR_LEN - (size_t)n < 4)
		return false;
	size_t qend = DNS_HDR_LEN + (size_t)n + 4;
	memcpy(c->tc_head, wire, qend);
	memset(c->tc_head + 6, 0, 6);
	return dns_msg_parse(m, c->tc_head, qend) == 0;
}

/*
 * The checks after socket, address and port (which only UDP needs): id,
 * QR, a well-formed message, our question, our client cookie, our case.
 * *cookie_ok tells whether the reply echoed our client cookie.
 */
static enum verdict check_reply(struct up_ctx *c, const struct query *q,
				struct dns_msg *m, const uint8_t *wire,
				size_t len, bool *cookie_ok)
{
	*cookie_ok = false;
	if (len < DNS_HDR_LEN)
		return V_UNPARSABLE;
	if (dns_get16(wire) != q->id)
		return V_UNKNOWN_ID;
	if (!(dns_get16(wire + 2) & DNS_F_QR))
		return V_NOT_RESPONSE;
	if (dns_msg_parse(m, wire, len) != 0 &&
	    (q->tcp_attempt || !tc_salvage(c, m, wire, len)))
		return V_UNPARSABLE;
	if (m->hdr.count[DNS_SEC_QUESTION] != 1 || m->qtype != q->qtype ||
	    m->qclass != q->qclass || m->qname_len != q->qname_len ||
	    !dns_name_equal(m->qname, q->qsent))
		return V_BAD_QUESTION;
	if (q->sent_cookie && m->has_edns && m->edns.cookie_off) {
		/* dns_msg_parse() checked the length: 8 or 16..40. */
		if (memcmp(m->wire + m->edns.cookie_off, q->cookie,
			   DNS_COOKIE_CLIENT_LEN) != 0)
			return V_BAD_COOKIE;
		*cookie_ok = true;
	}
	if (q->use_0x20 && memcmp(m->qname, q->qsent, q->qname_len) != 0)
		return V_BAD_CASE;
	/* A server that sends cookies sends them in every reply (RFC 7873
	 * 5.3): over UDP a reply without one is someone else's. Over TCP the
	 * handshake proves the path: the server has stopped, and the caller
	 * learns so from the accepted reply. A salvaged TC=1 reply has lost
	 * its OPT: it can only send the query to TCP. */
	if (q->cookie_expected && !*cookie_ok && !q->tcp_attempt && m->wire != c->tc_head)
		return V_NO_COOKIE;
	return V_ACCEPT;
}

/* Delivers an accepted reply, or (TC over UDP) retries over TCP. */
static void accept_reply(struct up_ctx *c, struct query *q,
			 const struct dns_msg *m, bool cookie_ok)
{
	struct server *s = srv_get(c, &q->srv, false);
	bool tcp = q->state != Q_UDP;

	c->cnt.accepted++;
	if (q->sent_cookie && !cookie_ok)
		c->cnt.reply_no_cookie++;
	if (s && q->use_0x20)
		s->case_mismatches = 0;
	if (s && cookie_ok) {
		s->cookie_seen = true;
		s->cookie_seen_ms = ctl_now_ms();
	}
	/* Learn the server cookie only for the client cookie it belongs to. */
	if (s && cookie_ok && m->edns.cookie_len > DNS_COOKIE_CLIENT_LEN &&
	    !memcmp(s->client_cookie, q->cookie, DNS_COOKIE_CLIENT_LEN)) {
		s->server_cookie_len =
			(uint8_t)(m->edns.cookie_len - DNS_COOKIE_CLIENT_LEN);
		memcpy(s->server_cookie,
		       m->wire + m->edns.cookie_off + DNS_COOKIE_CLIENT_LEN,
		       s->server_cookie_len);
	}
	if (!tcp && (m->hdr.flags & DNS_F_TC)) {
		c->cnt.tcp_fallback_tc++;
		start_tcp(c, q);
		return;
	}
	struct up_result r = {
		.status = UP_OK,
		.wire = m->wire,
		.len = m->len,
		.msg = m,
		.rtt_us = (uint32_t)(ctl_now_us() - q->sent_us),
		.tcp = tcp,
		.cookie_ok = cookie_ok,
	};
	q_complete(c, q, &r);
}

/*
 * A reply right in everything but letter case. Counted toward the server's
 * "does not echo case" flag once per query, and only with our cookie when
 * the server is known to send cookies (see the top of this file); the same
 * rule decides whether the query's timeout reads UP_CASE_MISMATCH.
 */
static void case_mismatch(struct up_ctx *c, struct query *q, bool cookie_ok)
{
	struct server *s;

	if (q->case_counted || !(s = srv_get(c, &q->srv, false)))
		return;
	if (s->cookie_seen && !cookie_ok)
		return;
	q->case_counted = true;
	q->saw_case_mismatch = true;
	if (++s->case_mismatches >= c->cfg.case_mismatch_limit) {
		s->case_mismatches = 0;
		s->no_0x20_until_ms = ctl_now_ms() +
				      (uint64_t)c->cfg.no_0x20_ttl_s * 1000u;
		c->cnt.no_0x20_servers++;
	}
}

/*
 * A near miss for q (from its server's address and port, on its socket):
 * someone who knows the port guesses the rest. More than flood_threshold
 * in the query's life and q goes to TCP; the server's own count, which
 * halves every junk_half_life_ms (a minute), decides where its next
 * queries start, so a spray at every port, or a slow guesser, adds up.
 */
static void q_junk(struct up_ctx *c, struct query *q)
{
	uint64_t now = ctl_now_ms();
	struct server *s = srv_get(c, &q->srv, false);

	if (s)
		decay_add(&s->junk, now, c->cfg.junk_half_life_ms);
	if (++q->junk > c->cfg.flood_threshold && q->state == Q_UDP) {
		c->cnt.tcp_fallback_flood++;
		start_tcp(c, q);
	}
}

static void on_datagram(struct up_ctx *c, struct query *q, const uint8_t *wire,
			size_t len, const struct sockaddr_storage *from)
{
	struct dns_msg m;
	bool cookie_ok;
	enum verdict v;

	/* Unrelated: whoever sent it does not know whom we asked. */
	if (!same_addr(&q->srv, from)) {
		c->cnt.drop_wrong_addr++;
		return;
	}
	if (sa_port(&q->srv) != sa_port(from)) {
		c->cnt.drop_wrong_port++;
		return;
	}
	if ((v = check_reply(c, q, &m, wire, len, &cookie_ok)) == V_ACCEPT) {
		accept_reply(c, q, &m, cookie_ok);
		return;
	}
	count_drop(c, v);
	if (v == V_BAD_CASE)
		case_mismatch(c, q, cookie_ok);
	if ((v == V_NO_COOKIE || (v == V_BAD_COOKIE && q->cookie_expected)) &&
	    q->state == Q_UDP) {
		/* BIND's rule: a server known to send cookies is asked again
		 * where no one off the path can answer for it. */
		c->cnt.tcp_fallback_cookie++;
		start_tcp(c, q);
		return;
	}
	q_junk(c, q);
}

static void udp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct query *q = arg;
	struct up_ctx *c = q->ctx;

	(void)loop;
	(void)events;
	for (int i = 0; i < RX_BURST && q->udp_fd == fd && q->state == Q_UDP; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, c->rx, sizeof(c->rx), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		if (n < 0)
			break; /* EAGAIN, or an error queued on the socket */
		socklen_t want = q->srv.ss_family == AF_INET ?
					 sizeof(struct sockaddr_in) :
					 sizeof(struct sockaddr_in6);
		if (flen < want || from.ss_family != q->srv.ss_family)
			continue;
		on_datagram(c, q, c->rx, (size_t)n, &from);
	}
}

/* One complete TCP message in q->tcp_in: accept it or count and go on. */
static bool tcp_frame(struct up_ctx *c, struct query *q, size_t len)
{
	struct dns_msg m;
	bool cookie_ok;
	enum verdict v = check_reply(c, q, &m, q->tcp_in, len, &cookie_ok);

	if (v == V_ACCEPT) {
		accept_reply(c, q, &m, cookie_ok);
		return true;
	}
	count_drop(c, v);
	return false;
}

static void tcp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct query *q = arg;
	struct up_ctx *c = q->ctx;
	int err = 0;
	socklen_t elen = sizeof(err);

	if (q->state == Q_TCP_CONNECT) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err) {
			q_fail_now(c, q, err);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		q->state = Q_TCP_WRITE;
	}
	if (q->state == Q_TCP_WRITE) {
		size_t total = 2u + q->out_len;
		ssize_t n = send(fd, q->out + q->tcp_out_off,
				 total - q->tcp_out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				q_fail_now(c, q, errno);
			return;
		}
		q->tcp_out_off = (uint16_t)(q->tcp_out_off + n);
		if (q->tcp_out_off < total)
			return;
		q->state = Q_TCP_READ;
		if ((err = ctl_loop_watch(loop, fd, EPOLLIN, tcp_cb, q)) < 0)
			q_fail_now(c, q, -err);
		return;
	}
	if (q->state != Q_TCP_READ)
		return;
	for (int k = 0; k < TCP_READS_MAX; k++) {
		size_t want = dns_get16(q->tcp_len); /* once tcp_got >= 2 */
		ssize_t n;
		if (q->tcp_got < 2)
			n = recv(fd, q->tcp_len + q->tcp_got, 2 - q->tcp_got, 0);
		else
			n = recv(fd, q->tcp_in + (q->tcp_got - 2),
				 want - (q->tcp_got - 2), 0);
		if (n == 0) {
			q_fail_now(c, q, ECONNRESET);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				q_fail_now(c, q, errno);
			return;
		}
		q->tcp_got += (uint32_t)n;
		if (q->tcp_got < 2)
			continue;
		if (q->tcp_got == 2 && !q->tcp_in) {
			want = dns_get16(q->tcp_len);
			if (want == 0) {
				c->cnt.drop_unparsable++;
				q->tcp_got = 0;
			} else if (!(q->tcp_in = malloc(want))) {
				q_fail_now(c, q, ENOMEM);
				return;
			}
			continue;
		}
		if (q->tcp_got - 2 < want)
			continue;
		if (tcp_frame(c, q, want))
			return; /* q completed */
		free(q->tcp_in);
		q->tcp_in = NULL;
		q->tcp_got = 0;
	}
}

/* ---- UDP ---- */

/*
 * A new attempt over UDP: its own socket on a fresh random port, a random
 * id (nothing else can be on that socket, so any id will do), 0x20 unless
 * the server mangles case. Failures are reported from the loop.
 */
static void start_udp(struct up_ctx *c, struct query *q, struct server *s)
{
	int r, fd;

	q->id = up_rng_u16();
	q->use_0x20 = q->opts.use_0x20 && !(s && s->no_0x20_until_ms);
	if (q->use_0x20)
		case_randomize(q->qsent, q->qname, q->qname_len);
	else
		memcpy(q->qsent, q->qname, q->qname_len);
	if ((r = build_query(c, q))) {
		q_fail_later(c, q, EINVAL);
		return;
	}
	if ((fd = open_udp(c, (uint8_t)q->srv.ss_family, &q->udp_port)) < 0) {
		q_fail_later(c, q, -fd);
		return;
	}
	q->udp_fd = fd;
	c->cnt.udp_sockets++;
	q->state = Q_UDP;
	if ((r = ctl_loop_watch(c->loop, fd, EPOLLIN, udp_cb, q)) < 0) {
		q_fail_later(c, q, -r);
		return;
	}
	q->sent_us = ctl_now_us();
	if (sendto(fd, q->out + 2, q->out_len, 0, (struct sockaddr *)&q->srv,
		   q->srv_len) < 0) {
		q_fail_later(c, q, errno);
		return;
	}
	c->cnt.sent_udp++;
	ctl_timer_add(c->loop, &q->timer, q->opts.timeout_ms, q_timer_cb, q);
}

int up_query(struct up_ctx *c, const struct sockaddr *server,
	     socklen_t server_len, const uint8_t *qname, uint16_t qtype,
	     uint16_t qclass, const struct up_opts *opts, up_cb cb, void *arg,
	     up_handle *h)
{
	struct up_opts def;
	int n;

	if (!server || !qname || !cb)
		return -EINVAL;
	if (server->sa_family == AF_INET) {
		if (server_len < sizeof(struct sockaddr_in))
			return -EINVAL;
		if (!c->cfg.ipv4)
			return -EAFNOSUPPORT;
	} else if (server->sa_family == AF_INET6) {
		if (server_len < sizeof(struct sockaddr_in6))
			return -EINVAL;
		if (!c->cfg.ipv6)
			return -EAFNOSUPPORT;
	} else {
		return -EAFNOSUPPORT;
	}
	if ((n = dns_name_check(qname, DNS_NAME_MAX)) < 0)
		return n;
	if (!opts) {
		up_opts_default(&def);
		opts = &def;
	}
	if (c->free_head == NONE) {
		c->cnt.refused_full++;
		return -ENOBUFS;
	}
	struct query *q = q_by_idx(c, c->free_head);
	c->free_head = q->free_next;
	c->outstanding++;
	q->gen++;
	q->cb = cb;
	q->arg = arg;
	q->opts = *opts;
	if (!q->opts.timeout_ms)
		q->opts.timeout_ms = 1500;
	if (!q->opts.edns)
		q->opts.cookies = false;
	memset(&q->srv, 0, sizeof(q->srv));
	q->srv_len = server->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
						    sizeof(struct sockaddr_in6);
	memcpy(&q->srv, server, q->srv_len);
	q->qname_len = (uint8_t)n;
	memcpy(q->qname, qname, (size_t)n);
	q->qtype = qtype;
	q->qclass = qclass;
	q->junk = 0;
	q->err = 0;
	q->saw_case_mismatch = false;
	q->case_counted = false;
	q->use_0x20 = false;
	q->tcp_attempt = false;
	q->sent_cookie = false;
	q->cookie_expected = false;
	q->udp_fd = -1;
	q->tcp_fd = -1;
	q->tcp_in = NULL;
	q->tcp_got = 0;
	ctl_timer_init(&q->timer);
	struct server *s = srv_get(c, &q->srv, true);
	bool flooded = decay_get(&s->junk, ctl_now_ms(), c->cfg.junk_half_life_ms) >
		       c->cfg.flood_threshold;
	if (flooded && !q->opts.tcp)
		c->cnt.tcp_server_flood++;
	if (q->opts.tcp || flooded) {
		q->state = Q_TCP_CONNECT;
		start_tcp(c, q);
	} else {
		start_udp(c, q, s);
	}
	/* Every path above arms the timer; only the heap's growth can fail,
	 * and a query without a timer would never end. (Later re-arms of
	 * the same timer cancel it first, so they never need to grow.) */
	if (!ctl_timer_armed(&q->timer)) {
		q_release(c, q);
		return -ENOMEM;
	}
	if (h)
		*h = (uint64_t)q->gen << 32 | (q->idx + 1);
	return 0;
}

void up_cancel(struct up_ctx *c, up_handle h)
{
	uint32_t i = (uint32_t)h;

	if (!i || i > c->cfg.max_queries)
		return;
	struct query *q = &c->q[i - 1];
	if (q->gen != (uint32_t)(h >> 32) || q->state == Q_FREE ||
	    q->state == Q_CALLBACK)
		return;
	q_release(c, q);
}

/* ---- context ---- */

static bool config_ok(const struct up_config *cfg)
{
	return cfg->port_min >= 1 && cfg->port_min <= cfg->port_max &&
	       (cfg->ipv4 || cfg->ipv6) && cfg->n_exclude <= UP_EXCLUDE_MAX &&
	       cfg->max_queries > 0 && cfg->max_queries < (1u << 24) &&
	       cfg->max_servers > 0 && cfg->max_servers < (1u << 24) &&
	       cfg->bind_attempts > 0 && cfg->junk_half_life_ms > 0 &&
	       cfg->case_mismatch_limit > 0 && cfg->case_mismatch_limit < 256 &&
	       cfg->cookie_rotate_s > 0 && cfg->cookie_mark_s > 0;
}

/* The range minus the exclusions, as a table to draw from. */
static int ports_init(struct up_ctx *c)
{
	const struct up_config *cfg = &c->cfg;

	c->ports = malloc(((size_t)cfg->port_max - cfg->port_min + 1) * sizeof(*c->ports));
	if (!c->ports)
		return -ENOMEM;
	for (uint32_t p = cfg->port_min; p <= cfg->port_max; p++)
		if (cfg_port_drawable(p, cfg->exclude, cfg->n_exclude))
			c->ports[c->nports++] = (uint16_t)p;
	c->recent_max = c->nports / RECENT_SHARE < RECENT_PORTS ? c->nports / RECENT_SHARE :
								    RECENT_PORTS;
	return c->nports ? 0 : -EINVAL;
}

/* Whether the host can open a UDP socket of the family. */
static bool family_works(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

struct up_ctx *up_new(struct ctl_loop *loop, const struct up_config *cfg,
		      int *err)
{
	struct up_ctx *c;
	int r = -ENOMEM;

	if (!loop || !cfg || !config_ok(cfg)) {
		*err = -EINVAL;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		*err = -ENOMEM;
		return NULL;
	}
	c->loop = loop;
	c->cfg = *cfg;
	c->cfg.ipv4 = cfg->ipv4 && family_works(AF_INET);
	c->cfg.ipv6 = cfg->ipv6 && family_works(AF_INET6);
	if (!c->cfg.ipv4 && !c->cfg.ipv6) {
		r = -EAFNOSUPPORT;
		goto fail;
	}
	c->nbucket = 1;
	while (c->nbucket < 2 * cfg->max_servers)
		c->nbucket *= 2;
	c->q = calloc(cfg->max_queries, sizeof(*c->q));
	c->srv = calloc(cfg->max_servers, sizeof(*c->srv));
	c->bucket = malloc(c->nbucket * sizeof(*c->bucket));
	if (!c->q || !c->srv || !c->bucket || (r = ports_init(c)) < 0)
		goto fail;
	for (uint32_t i = 0; i < c->nbucket; i++)
		c->bucket[i] = NONE;
	c->lru_head = c->lru_tail = NONE;
	up_rng_buf(c->hash_key, sizeof(c->hash_key));
	for (uint32_t i = 0; i < cfg->max_queries; i++) {
		c->q[i] = (struct query){ .ctx = c, .idx = i, .tcp_fd = -1,
					  .udp_fd = -1, .free_next = i + 1 };
		ctl_timer_init(&c->q[i].timer);
	}
	c->q[cfg->max_queries - 1].free_next = NONE;
	c->free_head = 0;
	return c;
fail:
	*err = r;
	up_free(c);
	return NULL;
}

void up_free(struct up_ctx *c)
{
	if (!c)
		return;
	if (c->q)
		for (uint32_t i = 0; i < c->cfg.max_queries; i++)
			if (c->q[i].state != Q_FREE)
				q_detach(c, &c->q[i]);
	free(c->ports);
	free(c->q);
	free(c->srv);
	free(c->bucket);
	free(c);
}

unsigned up_families(const struct up_ctx *c)
{
	return (c->cfg.ipv4 ? 1u : 0u) | (c->cfg.ipv6 ? 2u : 0u);
}

uint32_t up_port_count(const struct up_ctx *c)
{
	return c->nports;
}

void up_counters_get(const struct up_ctx *c, struct up_counters *out)
{
	*out = c->cnt;
}

uint32_t up_outstanding(const struct up_ctx *c)
{
	return c->outstanding;
}

uint32_t up_udp_ports(const struct up_ctx *c, uint16_t *ports, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < c->cfg.max_queries; i++) {
		if (c->q[i].udp_fd < 0)
			continue;
		if (k < n)
			ports[k] = c->q[i].udp_port;
		k++;
	}
	return k;
}

bool up_sends_cookies(struct up_ctx *c, const struct sockaddr *server)
{
	struct sockaddr_storage ss;
	struct server *s;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, server, server->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
							   sizeof(struct sockaddr_in6));
	s = srv_get(c, &ss, false);
	return s && s->cookie_seen;
}
