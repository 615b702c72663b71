/*
 * control/upstream.c: upstream query I/O (RFC 5452 forgery resistance).
 * Control process: a context is its loop's thread's (one per control
 * thread), non-blocking sockets on the loop of control/loop.h; no call
 * here blocks. This file holds the query slots,
 * UDP attempts and the public API; the server table, source ports, reply
 * checks and TCP are the module's other files (upstream_int.h lists them).
 * The invariants below are the whole module's.
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
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control/rng.h"
#include "control/upstream_int.h"
#include "dns/build.h"
#include "dns/err.h"
#include "dns/name.h"

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

/* ---- query slots ---- */

static struct query *q_by_idx(struct up_ctx *c, uint32_t i)
{
	return &c->q[i];
}

/* Drops the query's sockets and timer; the slot stays taken. */
static void q_detach(struct up_ctx *c, struct query *q)
{
	up_udp_close(c, q);
	up_tcp_close(c, q);
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
	up_udp_close(c, q);
	up_tcp_close_fd(c, q);
	ctl_timer_cancel(c->loop, &q->timer);
	q->state = Q_CALLBACK;
	r->sent_0x20 = q->use_0x20;
	r->sent_cookie = q->sent_cookie;
	q->cb(q->arg, r);
	q_release(c, q);
}

static void udp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/* An error where no callback may run (inside up_query, or in a walk). */
void up_q_fail_later(struct up_ctx *c, struct query *q, int err)
{
	q_detach(c, q);
	q->state = Q_FAILED;
	q->err = err;
	ctl_timer_add(c->loop, &q->timer, 0, up_q_timer_cb, q);
}

void up_q_fail_now(struct up_ctx *c, struct query *q, int err)
{
	struct up_result r = { .status = UP_NETWORK_ERROR, .err = err,
			       .tcp = q->tcp_attempt };

	c->cnt.net_errors++;
	q_complete(c, q, &r);
}

void up_q_timer_cb(struct ctl_loop *loop, void *arg)
{
	struct query *q = arg;
	struct up_ctx *c = q->ctx;
	struct up_result r = { .status = UP_TIMEOUT };

	if (q->state == Q_FAILED) {
		up_q_fail_now(c, q, q->err);
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

int up_build_query(struct up_ctx *c, struct query *q)
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
			struct server *s = up_srv_get(c, &q->srv, true);
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

/* Delivers an accepted reply, or (TC over UDP) retries over TCP. */
void up_accept_reply(struct up_ctx *c, struct query *q,
			 const struct dns_msg *m, bool cookie_ok)
{
	bool tcp = q->state != Q_UDP;

	up_reply_learn(c, q, m, cookie_ok);
	up_tap(c, q, true, m->wire, m->len, tcp); /* (a truncated one too) */
	if (!tcp && (m->hdr.flags & DNS_F_TC)) {
		c->cnt.tcp_fallback_tc++;
		up_tcp_start(c, q);
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
	ctl_hist_add(&c->rtt, r.rtt_us);
	q_complete(c, q, &r);
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
	struct server *s = up_srv_get(c, &q->srv, false);

	if (s)
		up_decay_add(&s->junk, now, c->cfg.junk_half_life_ms);
	if (++q->junk > c->cfg.flood_threshold && q->state == Q_UDP) {
		c->cnt.tcp_fallback_flood++;
		up_tcp_start(c, q);
	}
}

static void on_datagram(struct up_ctx *c, struct query *q, const uint8_t *wire,
			size_t len, const struct sockaddr_storage *from)
{
	struct dns_msg m;
	bool cookie_ok;
	enum up_verdict v;

	/* Unrelated: whoever sent it does not know whom we asked. */
	if (!up_same_addr(&q->srv, from)) {
		c->cnt.drop_wrong_addr++;
		return;
	}
	if (up_sa_port(&q->srv) != up_sa_port(from)) {
		c->cnt.drop_wrong_port++;
		return;
	}
	if ((v = up_reply_check(c, q, &m, wire, len, &cookie_ok)) == UP_V_ACCEPT) {
		up_accept_reply(c, q, &m, cookie_ok);
		return;
	}
	up_reply_count_drop(c, v);
	if (v == UP_V_BAD_CASE)
		up_reply_case_mismatch(c, q, cookie_ok);
	if ((v == UP_V_NO_COOKIE || (v == UP_V_BAD_COOKIE && q->cookie_expected)) &&
	    q->state == Q_UDP) {
		/* BIND's rule: a server known to send cookies is asked again
		 * where no one off the path can answer for it. */
		c->cnt.tcp_fallback_cookie++;
		up_tcp_start(c, q);
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
	if ((r = up_build_query(c, q))) {
		up_q_fail_later(c, q, EINVAL);
		return;
	}
	if ((fd = up_udp_open(c, (uint8_t)q->srv.ss_family, &q->udp_port)) < 0) {
		up_q_fail_later(c, q, ctl_err_errno(fd));
		return;
	}
	q->udp_fd = fd;
	c->cnt.udp_sockets++;
	q->state = Q_UDP;
	if ((r = ctl_loop_watch(c->loop, fd, EPOLLIN, udp_cb, q)) < 0) {
		up_q_fail_later(c, q, ctl_err_errno(r));
		return;
	}
	q->sent_us = ctl_now_us();
	if (sendto(fd, q->out + 2, q->out_len, 0, (struct sockaddr *)&q->srv,
		   q->srv_len) < 0) {
		up_q_fail_later(c, q, errno);
		return;
	}
	c->cnt.sent_udp++;
	up_tap(c, q, false, q->out + 2, q->out_len, false);
	ctl_timer_add(c->loop, &q->timer, q->opts.timeout_ms, up_q_timer_cb, q);
}

int up_query(struct up_ctx *c, const struct sockaddr *server,
	     socklen_t server_len, const uint8_t *qname, uint16_t qtype,
	     uint16_t qclass, const struct up_opts *opts, up_cb cb, void *arg,
	     up_handle *h)
{
	struct up_opts def;
	int n;

	if (!server || !qname || !cb)
		return CTL_E_INVAL;
	if (server->sa_family == AF_INET) {
		if (server_len < sizeof(struct sockaddr_in))
			return CTL_E_INVAL;
		if (!c->cfg.ipv4)
			return CTL_E_FAMILY;
	} else if (server->sa_family == AF_INET6) {
		if (server_len < sizeof(struct sockaddr_in6))
			return CTL_E_INVAL;
		if (!c->cfg.ipv6)
			return CTL_E_FAMILY;
	} else {
		return CTL_E_FAMILY;
	}
	if ((n = dns_name_check(qname, DNS_NAME_MAX)) < 0)
		return CTL_E_NAME;
	if (!opts) {
		up_opts_default(&def);
		opts = &def;
	}
	if (c->free_head == NONE) {
		c->cnt.refused_full++;
		return CTL_E_FULL;
	}
	struct query *q = q_by_idx(c, c->free_head);
	c->free_head = q->free_next;
	c->outstanding++;
	q->gen++;
	q->cb = cb;
	q->arg = arg;
	q->opts = *opts;
	q->opts.zone = NULL;
	if (opts->zone && c->tap) { /* (the zone is the tap's only) */
		int zl = dns_name_check(opts->zone, DNS_NAME_MAX);
		if (zl > 0)
			memcpy(q->zone, opts->zone, (size_t)zl);
		q->opts.zone = zl > 0 ? q->zone : NULL;
	}
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
	struct server *s = up_srv_get(c, &q->srv, true);
	bool flooded = up_decay_get(&s->junk, ctl_now_ms(), c->cfg.junk_half_life_ms) >
		       c->cfg.flood_threshold;
	if (flooded && !q->opts.tcp)
		c->cnt.tcp_server_flood++;
	if (q->opts.tcp || flooded) {
		q->state = Q_TCP_CONNECT;
		up_tcp_start(c, q);
	} else {
		start_udp(c, q, s);
	}
	/* Every path above arms the timer; only the heap's growth can fail,
	 * and a query without a timer would never end. (Later re-arms of
	 * the same timer cancel it first, so they never need to grow.) */
	if (!ctl_timer_armed(&q->timer)) {
		q_release(c, q);
		return CTL_E_NOMEM;
	}
	if (h)
		*h = (uint64_t)q->gen << 32 | (q->idx + 1);
	return 0;
}

void up_set_tap(struct up_ctx *c, up_tap_cb cb, void *arg)
{
	c->tap = cb;
	c->tap_arg = arg;
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
	int r = CTL_E_NOMEM;

	if (!loop || !cfg || !config_ok(cfg)) {
		*err = CTL_E_INVAL;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		*err = CTL_E_NOMEM;
		return NULL;
	}
	c->loop = loop;
	c->cfg = *cfg;
	c->cfg.ipv4 = cfg->ipv4 && family_works(AF_INET);
	c->cfg.ipv6 = cfg->ipv6 && family_works(AF_INET6);
	if (!c->cfg.ipv4 && !c->cfg.ipv6) {
		r = CTL_E_FAMILY;
		goto fail;
	}
	c->nbucket = 1;
	while (c->nbucket < 2 * cfg->max_servers)
		c->nbucket *= 2;
	c->q = calloc(cfg->max_queries, sizeof(*c->q));
	c->srv = calloc(cfg->max_servers, sizeof(*c->srv));
	c->bucket = malloc(c->nbucket * sizeof(*c->bucket));
	if (!c->q || !c->srv || !c->bucket || (r = up_ports_init(c)) < 0)
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
	up_ports_release(c);
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
	return c->pp->nports;
}

const struct ctl_hist *up_rtt_hist(const struct up_ctx *c)
{
	return &c->rtt;
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

bool up_server_cookies(const struct up_ctx *c, const struct sockaddr *server)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, server, server->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
							   sizeof(struct sockaddr_in6));
	const struct server *s = up_srv_peek(c, &ss);
	return s && s->cookie_seen;
}

bool up_sends_cookies(struct up_ctx *c, const struct sockaddr *server)
{
	struct sockaddr_storage ss;
	struct server *s;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, server, server->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
							   sizeof(struct sockaddr_in6));
	s = up_srv_get(c, &ss, false);
	return s && s->cookie_seen;
}
