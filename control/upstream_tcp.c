/*
 * control/upstream_tcp.c: TCP attempts of the upstream module: after TC=1,
 * a flood of near misses, a cookie server's reply without its cookie, or
 * when asked. A fresh id and timeout, the caller's letter case, the
 * configured source address on any port (the handshake proves the path),
 * the two-octet length framing both ways. Control process, the loop's
 * thread.
 */
#include "control/upstream_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control/rng.h"

void up_tcp_close_fd(struct up_ctx *c, struct query *q)
{
	if (q->tcp_fd >= 0) {
		ctl_loop_unwatch(c->loop, q->tcp_fd);
		close(q->tcp_fd);
		q->tcp_fd = -1;
	}
}

void up_tcp_close(struct up_ctx *c, struct query *q)
{
	up_tcp_close_fd(c, q);
	free(q->tcp_in);
	q->tcp_in = NULL;
	q->tcp_got = 0;
}

static void tcp_cb(struct ctl_loop *loop, int fd, uint32_t events, void *arg);

/*
 * A new attempt over TCP: new id, the caller's qname as given (the
 * handshake already proves the path, and servers that mangle case over UDP
 * do so over TCP too), a fresh timeout so that junk cannot shorten the
 * query. Failures are reported from the loop (q_fail_later).
 */
void up_tcp_start(struct up_ctx *c, struct query *q)
{
	int fd, r;

	up_udp_close(c, q);
	q->id = up_rng_u16();
	q->use_0x20 = false;
	q->tcp_attempt = true;
	q->junk = 0;
	memcpy(q->qsent, q->qname, q->qname_len);
	if ((r = up_build_query(c, q))) {
		up_q_fail_later(c, q, EINVAL);
		return;
	}
	fd = socket(q->srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		up_q_fail_later(c, q, errno);
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
			up_q_fail_later(c, q, errno);
			return;
		}
	} else if (q->srv.ss_family == AF_INET6 &&
		   !IN6_IS_ADDR_UNSPECIFIED(&c->cfg.src6.sin6_addr)) {
		struct sockaddr_in6 sin6 = c->cfg.src6;
		sin6.sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
			up_q_fail_later(c, q, errno);
			return;
		}
	}
	q->sent_us = ctl_now_us();
	if (connect(fd, (struct sockaddr *)&q->srv, q->srv_len) < 0 &&
	    errno != EINPROGRESS) {
		up_q_fail_later(c, q, errno);
		return;
	}
	q->state = Q_TCP_CONNECT;
	if ((r = ctl_loop_watch(c->loop, fd, EPOLLOUT, tcp_cb, q)) < 0) {
		up_q_fail_later(c, q, ctl_err_errno(r));
		return;
	}
	c->cnt.sent_tcp++;
	ctl_timer_add(c->loop, &q->timer, q->opts.timeout_ms, up_q_timer_cb, q);
}

/* One complete TCP message in q->tcp_in: accept it or count and go on. */
static bool tcp_frame(struct up_ctx *c, struct query *q, size_t len)
{
	struct dns_msg m;
	bool cookie_ok;
	enum up_verdict v = up_reply_check(c, q, &m, q->tcp_in, len, &cookie_ok);

	if (v == UP_V_ACCEPT) {
		up_accept_reply(c, q, &m, cookie_ok);
		return true;
	}
	up_reply_count_drop(c, v);
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
			up_q_fail_now(c, q, err);
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
				up_q_fail_now(c, q, errno);
			return;
		}
		q->tcp_out_off = (uint16_t)(q->tcp_out_off + n);
		if (q->tcp_out_off < total)
			return;
		up_tap(c, q, false, q->out + 2, q->out_len, true);
		q->state = Q_TCP_READ;
		if ((err = ctl_loop_watch(loop, fd, EPOLLIN, tcp_cb, q)) < 0)
			up_q_fail_now(c, q, ctl_err_errno(err));
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
			up_q_fail_now(c, q, ECONNRESET);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				up_q_fail_now(c, q, errno);
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
				up_q_fail_now(c, q, ENOMEM);
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
