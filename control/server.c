/*
 * control/server.c: the front end on kernel sockets (see server.h).
 * Control process, the loop's thread. A query that is not answered at once
 * (a lookup of the dataplane's cache, a resolution) becomes a struct pend
 * carrying a copy of the query and where the answer goes; TCP connections
 * track their pending queries so that a connection that closes first
 * leaves them harmless (their answers are dropped, what was resolved still
 * fills the client cache).
 */
#define _LGPL_SOURCE
#include "control/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "answer/acl.h"
#include "answer/negative.h"
#include "answer/reply.h"
#include "answer/screen.h"
#include "cache/msgcache.h"
#include "conf/config.h"
#include "control/deleg.h"
#include "control/dnstap.h"
#include "control/log.h"
#include "control/dplink.h"
#include "control/iter.h"
#include "control/policy.h"
#include "dns/msg.h"
#include "dns/query.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78 /* linux/in6.h; glibc's netinet/in.h lacks it */
#endif

#define UDP_BURST 64		/* datagrams read per readiness event */
#define TCP_PENDING_MAX 64	/* resolutions in flight for one connection
				   (lookups of the dataplane's cache are
				   bounded by its ring, not by this) */
#define TCP_WBUF_MAX (128 * 1024) /* answers queued for a client: stop reading */
#define QUERY_MAX 4096		/* a longer query is dropped (EDNS padding
				   needs far less; a pending one is copied) */

struct conn;

struct pend {
	struct ctl_server *s;
	struct conn *conn;	/* TCP: NULL once the connection is gone */
	struct pend *cnext;	/* the connection's list */
	int fd;			/* UDP: the socket it came on */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct dns_query q;
	/* With a dataplane: its cache's stale answer (RFC 8767), sent when
	 * resolving takes longer than serve-stale's client timeout or fails. */
	uint8_t *stale_msg;
	uint16_t stale_len;
	bool stale_sent;
	bool resolving;		/* counted in its connection's nresolve */
	uint64_t tap_ns;	/* sampled for dnstap: when it came (wall
				   clock, ns); its answer is copied. 0: not */
	bool stale;		/* the resolution's answer is stale */
	int rcode;		/* the resolution's */
	struct ctl_timer stale_timer;
	uint16_t len;
	uint8_t wire[];
};

struct conn {
	struct ctl_server *s;
	int fd;
	struct conn *prev, *next;
	struct ctl_timer idle;
	uint32_t rlen;
	uint8_t rbuf[2 + 65535];
	uint8_t *wbuf;
	size_t wlen, wcap;
	bool wrote;			/* the client read something since the last idle tick */
	unsigned npend;		/* its queries not answered yet */
	unsigned nresolve;	/* of those, the ones being resolved */
	struct pend *pends;
	struct sockaddr_storage peer;	/* for access control of each query */
	socklen_t peerlen;
};

struct lsock {
	int fd;
	bool tcp;
};

struct ctl_server {
	struct ctl_loop *loop;
	struct ctl_iter *it;
	struct cache *cache;		/* the client cache when standalone */
	struct ctl_dp *dp;		/* else the dataplane's, through this */
	const struct cache_nsec *nsec;	/* standalone: RFC 8198's store, or NULL */
	struct ctl_dnstap *dnstap;	/* client messages' copies, or NULL */
	struct ctl_policy *policy;	/* response policy, or NULL */
	uint32_t stale_ms;		/* serve-stale's client timeout; 0: off */
	const struct cfg *cfg;
	struct answer_acl acl;		/* cfg's access-control list */
	struct ctl_server_stats st;
	struct lsock ls[2 * CFG_LISTEN_MAX];
	unsigned nls;
	struct conn conns; /* sentinel */
	unsigned nconn;
	uint16_t edns_size;	/* ours, advertised: resolver.upstream.edns-buffer */
	uint8_t out[65535 + 2];
};

/* The answer writers' cap: over UDP our largest answer (the kernel
 * fragments, so no link bound), over TCP the buffer. */
static size_t answer_cap(const struct ctl_server *s, bool tcp)
{
	return tcp ? 65535 : answer_udp_max(s->edns_size, 0);
}

/* --- sending --------------------------------------------------------------- */

static void conn_close(struct conn *c);

static void conn_flush(struct conn *c)
{
	while (c->wlen) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
		c->wrote = true;
	}
}

static void conn_events(struct conn *c);

static int family_of(const struct sockaddr_storage *ss, const uint8_t **addr);

static uint16_t peer_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
					       : ((const struct sockaddr_in *)ss)->sin_port);
}

/* A dnstap copy of a client's message (msg, len) on socket fd (ours: its
 * local address, unless a wildcard) with the client at peer, whose query
 * came at query_ns (sampled queries only). */
static void tap_client(struct ctl_server *s, enum ctl_dnstap_type type, int fd, bool tcp,
		       const struct sockaddr_storage *peer, uint64_t query_ns, const uint8_t *msg,
		       size_t len)
{
	static const uint8_t any[16];
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	const uint8_t *caddr, *laddr = NULL;
	int family = family_of(peer, &caddr);
	uint16_t lport = 0;

	if (!ctl_dnstap_wants(s->dnstap, type))
		return;
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0 && local.ss_family == peer->ss_family) {
		family_of(&local, &laddr);
		lport = peer_port(&local);
		if (!memcmp(laddr, any, family == AF_INET6 ? 16 : 4))
			laddr = NULL; /* a wildcard listener: not known */
	}
	struct ctl_dnstap_msg m = {
		.type = type,
		.family = family,
		.tcp = tcp,
		.query_addr = caddr,
		.query_port = peer_port(peer),
		.response_addr = laddr,
		.response_port = lport,
		.query_ns = query_ns,
		.msg = msg,
		.len = len,
	};
	if (type == CTL_DNSTAP_CLIENT_RESPONSE)
		m.response_ns = ctl_dnstap_now_ns();
	ctl_dnstap_send(s->dnstap, &m);
}

static void send_answer(struct ctl_server *s, struct conn *c, int fd,
			const struct sockaddr_storage *peer, socklen_t peerlen, uint64_t tap_ns,
			const uint8_t *msg, size_t len)
{
	if (len > DNS_HDR_LEN && (dns_get16(msg + 2) & DNS_F_TC))
		s->st.truncated++;
	if (tap_ns && (c || fd >= 0)) /* (not a closed connection's) */
		tap_client(s, CTL_DNSTAP_CLIENT_RESPONSE, c ? c->fd : fd, c != NULL, peer, tap_ns,
			   msg, len);
	if (!c) {
		sendto(fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen);
		return;
	}
	if (c->wlen + len + 2 > c->wcap) {
		size_t cap = c->wcap ? c->wcap * 2 : 4096;
		while (cap < c->wlen + len + 2)
			cap *= 2;
		uint8_t *w = realloc(c->wbuf, cap);
		if (!w) {
			conn_close(c);
			return;
		}
		c->wbuf = w;
		c->wcap = cap;
	}
	dns_put16(c->wbuf + c->wlen, (uint16_t)len);
	memcpy(c->wbuf + c->wlen + 2, msg, len);
	c->wlen += len + 2;
	conn_flush(c);
	if (c->fd >= 0)
		conn_events(c);
}

/* --- queries ---------------------------------------------------------------- */

static void pend_unlink(struct pend *p)
{
	struct conn *c = p->conn;

	if (!c)
		return;
	for (struct pend **pp = &c->pends; *pp; pp = &(*pp)->cnext)
		if (*pp == p) {
			*pp = p->cnext;
			break;
		}
	c->npend--;
	if (p->resolving)
		c->nresolve--;
	p->conn = NULL;
}

static void pend_free(struct pend *p)
{
	ctl_timer_cancel(p->s->loop, &p->stale_timer);
	free(p->stale_msg);
	free(p);
}


/* The resolution with the policy's verdict on it (v->v 0: none). */
static void judged(void *arg, const struct ctl_policy_verdict *v, const uint8_t *msg,
		   size_t len)
{
	struct pend *p = arg;
	struct ctl_server *s = p->s;
	bool tcp = p->conn != NULL;
	int rcode = p->rcode;
	struct cache_tag tag = { .gen = v->gen, .verdict = v->rule };

	/* what clients learn, the client cache holds: the dataplane's (even
	 * when this client has gone or was answered stale), with the
	 * policy's verdict for the workers */
	if (s->dp && !p->stale && !(p->q.flags & DNS_F_CD)) /* CD=1: unvalidated */
		ctl_dp_fill_cache(s->dp, &p->q, rcode, msg, len, &tag);
	if (v->v) {
		struct conn *c = p->conn;
		bool gone = (p->fd < 0 && !c) || p->stale_sent;
		pend_unlink(p);
		if (!gone && v->v == POLICY_V_ANSWER)
			send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, v->answer, v->len);
		pend_free(p);
		return;
	}
	if ((p->fd < 0 && !p->conn) || p->stale_sent) {
		pend_unlink(p); /* gone, or answered already */
		pend_free(p);
		return;
	}
	s->st.resolved++;
	if (rcode == DNS_R_SERVFAIL)
		s->st.servfail++;
	struct conn *c = p->conn;
	pend_unlink(p);
	if (rcode == DNS_R_SERVFAIL && p->stale_msg) {
		/* RFC 8767: stale data beats a failure */
		s->st.stale++;
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, p->stale_msg, p->stale_len);
	} else {
		size_t n = answer_from_msg(&p->q, msg, len, rcode, tcp, answer_cap(s, tcp),
					   s->edns_size, s->out);
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, s->out, n);
	}
	pend_free(p);
}

static void resolved(void *arg, int rcode, const uint8_t *msg, size_t len, bool stale)
{
	static const struct ctl_policy_verdict none;
	struct pend *p = arg;
	struct ctl_server *s = p->s;

	p->rcode = rcode;
	p->stale = stale;
	ctl_log_resolved(p->conn ? "control TCP" : "control UDP", dns_query_qname(&p->q),
			 p->q.qtype, rcode, msg, len, stale);
	if (s->policy && ctl_policy_active(s->policy)) {
		const uint8_t *addr;
		int fam = family_of(&p->peer, &addr) == AF_INET6 ? 6 : 4;
		bool tcp = p->conn != NULL;
		if (ctl_policy_respond(s->policy, s->it, &p->q, fam, addr, tcp, s->edns_size,
				       answer_cap(s, tcp), msg, len, judged, p) == 0)
			return;
		/* not judged (no memory): nothing unjudged goes out */
		p->rcode = DNS_R_SERVFAIL;
		p->stale = false;
		free(p->stale_msg);
		p->stale_msg = NULL;
		msg = NULL;
		len = 0;
	}
	judged(p, &none, msg, len);
}

/* Resolving takes longer than serve-stale's client timeout: the stale
 * answer the dataplane's cache gave (the resolution goes on and fills the
 * cache). */
static void stale_due(struct ctl_loop *loop, void *arg)
{
	struct pend *p = arg;
	struct ctl_server *s = p->s;

	(void)loop;
	if (p->fd < 0 && !p->conn)
		return; /* gone: resolved() frees */
	s->st.stale++;
	p->stale_sent = true;
	send_answer(s, p->conn, p->fd, &p->peer, p->peerlen, p->tap_ns, p->stale_msg, p->stale_len);
}

static int family_of(const struct sockaddr_storage *ss, const uint8_t **addr)
{
	if (ss->ss_family == AF_INET) {
		*addr = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		return AF_INET;
	}
	*addr = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	return AF_INET6;
}

/*
 * A cached answer msg (n octets) to q for a client at peer, with the
 * policy's triggers on the response applied when they need no name
 * servers: true when it was sent (or dropped by the policy); false when
 * the policy waits for them (the caller resolves: the iterator's cache
 * answers, and resolved() weighs it).
 */
static bool send_cached(struct ctl_server *s, struct conn *c, int fd,
			const struct sockaddr_storage *peer, socklen_t peerlen, uint64_t tap_ns,
			const struct dns_query *q, const uint8_t *msg, size_t n)
{
	struct ctl_policy_verdict v = { 0 };
	const uint8_t *addr;
	int fam = family_of(peer, &addr) == AF_INET6 ? 6 : 4;

	/* (a walled garden is chased on the resolving path) */
	if (s->policy && (ctl_policy_now(s->policy, q, fam, addr, c != NULL, s->edns_size,
					 answer_cap(s, c != NULL), msg, n, false, &v) ||
			  v.unchased))
		return false;
	s->st.cache_hits++;
	if (v.v == POLICY_V_ANSWER)
		send_answer(s, c, fd, peer, peerlen, tap_ns, v.answer, v.len);
	else if (!v.v)
		send_answer(s, c, fd, peer, peerlen, tap_ns, msg, n);
	return true;
}

/* Whether the stale answer msg may be sent to p's client later (RFC
 * 8767): no policy, or one that finds nothing in it without waiting. */
static bool stale_allowed(struct ctl_server *s, struct pend *p, const uint8_t *msg, size_t len)
{
	struct ctl_policy_verdict v;
	const uint8_t *addr;
	int fam = family_of(&p->peer, &addr) == AF_INET6 ? 6 : 4;

	return !s->policy || (ctl_policy_now(s->policy, &p->q, fam, addr, p->conn != NULL,
					     s->edns_size, answer_cap(s, p->conn != NULL), msg, len,
					     true, &v) == 0 && !v.v);
}

/* Standalone: a fresh entry of our cache, answered at once. */
static bool local_hit(struct ctl_server *s, struct conn *c, int fd,
		      const struct sockaddr_storage *peer, socklen_t peerlen, uint64_t tap_ns,
		      const struct dns_query *q)
{
	size_t n = answer_cached(s->cache, q, ctl_iter_now(), false, c != NULL, s->out,
				 answer_cap(s, c != NULL), NULL);

	if (n)
		/* standalone, our cache is the client cache: its answers meet
		 * the response triggers here */
		return send_cached(s, c, fd, peer, peerlen, tap_ns, q, s->out, n);
	/* synthesized denials have name servers and no response to weigh:
	 * when the policy waits for them, the iterator answers */
	const uint8_t *addr;
	int fam = family_of(peer, &addr) == AF_INET6 ? 6 : 4;
	if (s->policy && ctl_policy_waits(s->policy, q, fam, addr))
		return false;
	/* at or below a stub or forward zone the public tree's proofs say
	 * nothing: its servers are asked */
	if (ctl_deleg_configured(ctl_iter_deleg(s->it), dns_query_qname(q)))
		return false;
	/* RFC 8198: validated ranges that prove the answer (over UDP: the
	 * writer's cap is the client's UDP size) */
	int r = c ? -1 : answer_from_nsec(s->nsec, q, ctl_iter_now(), s->edns_size, s->out,
					  answer_cap(s, false), false, NULL);
	if (r > 0) {
		s->st.nsec_synth++;
		send_answer(s, c, fd, peer, peerlen, tap_ns, s->out, (size_t)r);
		return true;
	}
	/* RFC 8020: below a cached secure NXDOMAIN nothing exists (as the
	 * workers answer) */
	n = answer_nxdomain_cut(s->cache, q, ctl_iter_now(), c != NULL, s->out,
				answer_cap(s, c != NULL));
	if (!n)
		return false;
	s->st.nxdomain_cut++;
	send_answer(s, c, fd, peer, peerlen, tap_ns, s->out, n);
	return true;
}

void ctl_server_set_nsec(struct ctl_server *s, const struct cache_nsec *n)
{
	s->nsec = n;
}

void ctl_server_set_dnstap(struct ctl_server *s, struct ctl_dnstap *t)
{
	s->dnstap = t;
}

void ctl_server_set_policy(struct ctl_server *s, struct ctl_policy *p)
{
	s->policy = p;
}

/* A policy CNAME's target has been resolved: the answer, if the client is
 * still there. */
static void policy_done(void *arg, const uint8_t *msg, size_t len)
{
	struct pend *p = arg;
	struct ctl_server *s = p->s;
	struct conn *c = p->conn;

	if (p->fd < 0 && !c) {
		pend_unlink(p);
		pend_free(p);
		return;
	}
	pend_unlink(p);
	if (msg)
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, msg, len);
	else
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, s->out,
			    answer_empty(p->wire, &p->q, DNS_R_SERVFAIL, DNS_EDE_NONE, s->edns_size,
					 s->out));
	pend_free(p);
}

/* p's question to the iterator; resolved() answers. 0 or a code
 * (CTL_E_FULL too when p's connection has TCP_PENDING_MAX resolving). */
static int resolve(struct pend *p)
{
	const struct dns_query *q = &p->q;
	struct conn *c = p->conn;

	if (c && c->nresolve >= TCP_PENDING_MAX)
		return CTL_E_FULL;
	unsigned flags = q->flags & DNS_F_CD ? CTL_ITER_CD : 0;
	int rc = ctl_iter_resolve(p->s->it, dns_query_qname(q), q->qtype, q->qclass, flags,
				  resolved, p);
	if (rc == 0) {
		p->resolving = true;
		if (c)
			c->nresolve++;
	}
	return rc;
}

/* The dataplane's cache answered p's lookup: the answer, or resolve. */
static void found(void *arg, const uint8_t *msg, size_t len, bool stale)
{
	struct pend *p = arg;
	struct ctl_server *s = p->s;
	struct conn *c = p->conn;

	if (p->fd < 0 && !c) {
		pend_free(p); /* its connection went away */
		return;
	}
	if (msg && !answer_is_for(&p->q, msg, len)) {
		s->st.found_mismatch++;
		msg = NULL; /* another question's answer: never relayed */
	}
	if (msg && !stale) {
		/* (a connection closed by the send leaves p unlinked) */
		if (send_cached(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, &p->q, msg, len)) {
			pend_unlink(p);
			pend_free(p);
			return;
		}
		msg = NULL; /* the policy waits for name servers: resolved() weighs it */
	}
	/* a stale answer is kept for later only when the policy has nothing
	 * against it and needs nothing more to say so */
	if (msg && stale_allowed(s, p, msg, len) && (p->stale_msg = malloc(len))) {
		memcpy(p->stale_msg, msg, len);
		p->stale_len = (uint16_t)len;
		if (s->stale_ms)
			ctl_timer_add(s->loop, &p->stale_timer, s->stale_ms, stale_due, p);
	}
	if (resolve(p) == 0)
		return;
	pend_unlink(p);
	if (p->stale_msg) {
		s->st.stale++;
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, p->stale_msg, p->stale_len);
	} else {
		s->st.overload++;
		send_answer(s, c, p->fd, &p->peer, p->peerlen, p->tap_ns, s->out,
			    answer_empty(p->wire, &p->q, DNS_R_SERVFAIL, DNS_EDE_NONE,
					 s->edns_size, s->out));
	}
	pend_free(p);
}

/* The front end's counter of each outcome of the screen (answer/screen.h). */
static void count_slot(struct ctl_server *s, enum answer_slot slot)
{
	switch (slot) {
	case ANSWER_GO:
		break;
	case ANSWER_SHORT:
	case ANSWER_QR:
		s->st.dropped++;
		break;
	case ANSWER_ACL_DROP:
		s->st.acl_dropped++;
		break;
	case ANSWER_NOTIMP:
		s->st.notimp++;
		break;
	case ANSWER_FORMERR:
		s->st.formerr++;
		break;
	case ANSWER_BADVERS:
		s->st.badvers++;
		break;
	default:
		s->st.refused++;
	}
}

/* One query from a client; the answer goes back by send_answer(). */
static void query(struct ctl_server *s, struct conn *c, int fd,
		  const struct sockaddr_storage *peer, socklen_t peerlen,
		  const uint8_t *wire, size_t len)
{
	struct dns_query q;
	const uint8_t *addr;
	int family = family_of(peer, &addr);

	struct answer_screen v;

	if (len > QUERY_MAX) {
		s->st.dropped++;
		return;
	}
	/* dnstap: 1 query in dnstap.sample, and its answer */
	uint64_t tap_ns = ctl_dnstap_sample(s->dnstap) ? ctl_dnstap_now_ns() : 0;
	if (tap_ns)
		tap_client(s, CTL_DNSTAP_CLIENT_QUERY, c ? c->fd : fd, c != NULL, peer, tap_ns,
			   wire, len);
	/* the query log: 1 in log.query-sample */
	if (ctl_log_query_sample())
		ctl_log_query("control", family, addr, peer_port(peer), c != NULL, wire, len);
	answer_screen(&v, &s->acl, family == AF_INET6, addr, wire, len, &q);
	count_slot(s, v.slot);
	if (v.slot != ANSWER_GO) {
		if (answer_slot_replies(v.slot))
			send_answer(s, c, fd, peer, peerlen, tap_ns, s->out,
				    answer_empty(wire, v.q, v.rcode, v.ede, s->edns_size, s->out));
		return;
	}
#define OVERLOAD()							\
	do {								\
		s->st.overload++;					\
		send_answer(s, c, fd, peer, peerlen, tap_ns, s->out,		\
			    answer_empty(wire, &q, DNS_R_SERVFAIL,	\
					 DNS_EDE_NONE, s->edns_size,	\
					 s->out));			\
		return;							\
	} while (0)
	/* Without a policy a hit of our cache needs no pending state (with
	 * one, the policy comes first, below). */
	if (!s->policy && !s->dp && local_hit(s, c, fd, peer, peerlen, tap_ns, &q))
		return;
	struct pend *p = malloc(sizeof(*p) + len);
	if (!p)
		return;
	p->s = s;
	p->fd = c ? -1 : fd;
	p->conn = c;
	p->peer = *peer;
	p->peerlen = peerlen;
	p->len = (uint16_t)len;
	memcpy(p->wire, wire, len);
	dns_query_parse(&p->q, p->wire, len);
	p->stale_msg = NULL;
	p->stale_len = 0;
	p->stale_sent = false;
	p->resolving = false;
	p->tap_ns = tap_ns;
	ctl_timer_init(&p->stale_timer);
	/* Response policy first: it overrides what any cache holds. */
	if (s->policy) {
		size_t n = 0;
		size_t cap = answer_cap(s, c != NULL);
		switch (ctl_policy_apply(s->policy, s->it, &p->q, family == AF_INET6 ? 6 : 4, addr,
					 c != NULL, s->edns_size, s->out, cap, &n, policy_done, p)) {
		case POLICY_V_ANSWER:
			send_answer(s, c, fd, peer, peerlen, tap_ns, s->out, n);
			/* fall through */
		case POLICY_V_DROP:
			pend_free(p);
			return;
		case POLICY_V_CHASE:
			goto pending;
		default:
			break;
		}
	}
	/* The client cache: the dataplane's when there is one (asked through
	 * shared memory, answered later: found()), else ours. Fresh entries
	 * are answered at once; stale ones wait for a refresh (served when
	 * that takes too long: the iterator from ours, stale_due() from the
	 * dataplane's). */
	if (s->policy && !s->dp && local_hit(s, c, fd, peer, peerlen, tap_ns, &p->q)) {
		pend_free(p);
		return;
	}
	if (!(s->dp && ctl_dp_lookup(s->dp, &p->q, found, p) == 0) && resolve(p)) {
		pend_free(p);
		OVERLOAD();
	}
pending:
	if (c) {
		p->cnext = c->pends;
		c->pends = p;
		c->npend++;
	}
}
#undef OVERLOAD

/* --- sockets ----------------------------------------------------------------- */

static void udp_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	uint8_t buf[65535];

	(void)loop;
	(void)events;
	for (int i = 0; i < UDP_BURST; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return;
		s->st.udp_queries++;
		query(s, NULL, fd, &peer, pl, buf, (size_t)n);
	}
}

static void conn_free(struct ctl_loop *loop, void *arg)
{
	(void)loop;
	free(arg);
}

/*
 * Closes c. Its memory is freed from the loop, after the callback that
 * closed it has returned: callers up the stack still look at c->fd.
 */
static void conn_close(struct conn *c)
{
	struct ctl_server *s = c->s;

	if (c->fd < 0)
		return;
	ctl_loop_unwatch(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	ctl_timer_cancel(s->loop, &c->idle);
	/* pending answers have nowhere to go: they are freed when they come */
	while (c->pends) {
		struct pend *p = c->pends;
		c->pends = p->cnext;
		p->conn = NULL;
		p->fd = -1;
	}
	c->prev->next = c->next;
	c->next->prev = c->prev;
	s->nconn--;
	free(c->wbuf);
	c->wbuf = NULL;
	c->wlen = 0;
	if (ctl_timer_add(s->loop, &c->idle, 0, conn_free, c) != 0)
		free(c); /* no timer memory: nobody above holds c on this path */
}

/* Idle: nothing pending, or answers queued that the client does not read. */
static void conn_idle(struct ctl_loop *loop, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	if ((c->npend == 0 && c->wlen == 0) || (c->wlen && !c->wrote)) {
		c->s->st.tcp_idle_closed++;
		conn_close(c);
		return;
	}
	c->wrote = false;
	ctl_timer_add(c->s->loop, &c->idle, c->s->cfg->tcp.idle_timeout_ms, conn_idle, c);
}

static void conn_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/* Reading stops while too much waits for the client to read it. */
static void conn_events(struct conn *c)
{
	ctl_loop_watch(c->s->loop, c->fd,
		      (c->wlen <= TCP_WBUF_MAX ? EPOLLIN : 0) | (c->wlen ? EPOLLOUT : 0),
		      conn_ready, c);
}

static void conn_ready(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct ctl_server *s = c->s;

	(void)loop;
	if (events & EPOLLOUT) {
		conn_flush(c);
		if (c->fd < 0)
			return;
		conn_events(c);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->wlen > TCP_WBUF_MAX)
		return;
	ssize_t n = recv(fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->rlen += (uint32_t)n;
	while (c->rlen >= 2) {
		uint32_t mlen = dns_get16(c->rbuf);
		if (c->rlen < 2 + mlen)
			break;
		/* Only a whole query keeps a connection: one that trickles
		 * octets (slowloris) is idle all the same. */
		ctl_timer_add(s->loop, &c->idle, s->cfg->tcp.idle_timeout_ms, conn_idle, c);
		s->st.tcp_queries++;
		query(s, c, -1, &c->peer, c->peerlen, c->rbuf + 2, mlen);
		if (c->fd < 0)
			return; /* closed while answering */
		memmove(c->rbuf, c->rbuf + 2 + mlen, c->rlen - 2 - mlen);
		c->rlen -= 2 + mlen;
	}
}

/* Whether two peers are one client: the same IPv4 address, or IPv6
 * addresses in one /64 (one host's share of a subnet, RFC 7421). */
static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const uint8_t *x, *y;
	int fx = family_of(a, &x), fy = family_of(b, &y);

	return fx == fy && memcmp(x, y, fx == AF_INET ? 4 : 8) == 0;
}

/* Connections open from peer's client. */
static unsigned client_conns(const struct ctl_server *s, const struct sockaddr_storage *peer)
{
	unsigned n = 0;

	for (const struct conn *c = s->conns.next; c != &s->conns; c = c->next)
		n += same_client(&c->peer, peer);
	return n;
}

static void tcp_accept(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		const uint8_t *addr;
		int family = family_of(&peer, &addr);
		if (s->nconn >= s->cfg->tcp.max_connections ||
		    answer_acl_lookup(&s->acl, family == AF_INET6, addr) == CFG_ACL_DROP) {
			s->st.tcp_refused++;
			close(cfd);
			continue;
		}
		if (client_conns(s, &peer) >= s->cfg->tcp.max_per_client) {
			s->st.tcp_refused_client++;
			close(cfd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->s = s;
		c->fd = cfd;
		c->peer = peer;
		c->peerlen = pl;
		ctl_timer_init(&c->idle);
		c->next = s->conns.next;
		c->prev = &s->conns;
		s->conns.next->prev = c;
		s->conns.next = c;
		s->nconn++;
		s->st.tcp_connections++;
		conn_events(c);
		ctl_timer_add(s->loop, &c->idle, s->cfg->tcp.idle_timeout_ms, conn_idle, c);
	}
}

static int open_listener(struct ctl_server *s, const struct cfg_endpoint *ep, bool tcp,
			 char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;
	char a[INET6_ADDRSTRLEN];

	sl = cfg_endpoint_sockaddr(ep, &ss);
	inet_ntop(ep->a.family, ep->a.addr, a, sizeof(a));
	fd = socket(ep->a.family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s@%u: socket: %s", a, ep->port, strerror(errno));
		return CTL_E_LISTEN;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ep->a.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* With a dataplane the address lives on its exception TAP, which goes
	 * away while the dataplane restarts: bind to it regardless. */
	if (s->cfg->dataplane.enabled)
		setsockopt(fd, ep->a.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			   ep->a.family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one,
			   sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || (tcp && listen(fd, 128))) {
		snprintf(err, errlen, "listen %s@%u/%s: %s", a, ep->port, tcp ? "tcp" : "udp",
			 strerror(errno));
		close(fd);
		return CTL_E_LISTEN;
	}
	if (ctl_loop_watch(s->loop, fd, EPOLLIN, tcp ? tcp_accept : udp_ready, s)) {
		snprintf(err, errlen, "listen %s@%u: epoll", a, ep->port);
		close(fd);
		return CTL_E_LISTEN;
	}
	s->ls[s->nls++] = (struct lsock){ fd, tcp };
	return 0;
}

void ctl_server_reconfigure(struct ctl_server *s, const struct cfg *cfg)
{
	s->stale_ms = cfg->cache.stale_enabled ? cfg->cache.stale_client_timeout_ms : 0;
	answer_acl_build(&s->acl, cfg);
	s->edns_size = cfg->resolver.upstream.edns_buffer;
}

struct ctl_server *ctl_server_new(struct ctl_loop *loop, struct ctl_iter *it,
				  struct cache *cache, struct ctl_dp *dp, const struct cfg *cfg,
				  int *code, char *err, size_t errlen)
{
	struct ctl_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		*code = CTL_E_NOMEM;
		return NULL;
	}
	s->loop = loop;
	s->it = it;
	s->cache = cache;
	s->dp = dp;
	s->stale_ms = cfg->cache.stale_enabled ? cfg->cache.stale_client_timeout_ms : 0;
	s->cfg = cfg;
	answer_acl_build(&s->acl, cfg);
	s->edns_size = cfg->resolver.upstream.edns_buffer;
	s->conns.next = s->conns.prev = &s->conns;
	/* With a dataplane its workers take UDP; TCP stays here. */
	for (unsigned i = 0; i < cfg->n_listen; i++)
		for (int tcp = cfg->dataplane.enabled; tcp < 2; tcp++)
			if ((*code = open_listener(s, &cfg->listen[i], tcp, err, errlen))) {
				ctl_server_free(s);
				return NULL;
			}
	return s;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	while (s->conns.next != &s->conns) {
		struct conn *c = s->conns.next;
		conn_close(c);
		ctl_timer_cancel(s->loop, &c->idle);
		free(c);
	}
	for (unsigned i = 0; i < s->nls; i++) {
		ctl_loop_unwatch(s->loop, s->ls[i].fd);
		close(s->ls[i].fd);
	}
	free(s);
}

void ctl_server_get_stats(const struct ctl_server *s, struct ctl_server_stats *st)
{
	*st = s->st;
}
