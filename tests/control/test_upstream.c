/*
 * tests/control/test_upstream.c: the control process's event loop and
 * upstream query I/O against scripted test servers: threads of this test
 * with their own UDP and TCP sockets on 127.0.0.x or ::1 (ports chosen by
 * the kernel). No traffic leaves loopback. Every wait is bounded: the loop
 * runs until a flag or a deadline, servers poll with short timeouts and stop
 * on a flag or after SERVER_LIFE_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/dns/testutil.h"

#include "control/loop.h"
#include "control/rng.h"
#include "control/upstream.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/query.h"

#define SERVER_LIFE_MS 25000	/* a server thread never outlives this */
#define REC_MAX 12000		/* queries a server records */
#define RX_MAX 4096

TestSuite(upstream, .timeout = 60);
TestSuite(loop, .timeout = 10);

/* ---- scripted servers ---- */

struct tsrv;
/* Called for each UDP query, from the server thread. */
typedef void (*udp_script)(struct tsrv *t, const uint8_t *q, size_t n,
			   const struct sockaddr *from, socklen_t flen);

struct tsrv {
	int family;
	int udp, tcp;			/* the server's sockets, same port */
	int spoof_addr;			/* 127.0.0.2, the server's port */
	int spoof_port;			/* 127.0.0.1, another port */
	struct sockaddr_storage addr;	/* where the client sends */
	socklen_t alen;
	udp_script script;
	int tcp_answers;		/* A records in a TCP reply */
	bool lowercase;			/* reply with the qname lower-cased */
	bool give_cookie;		/* reply with a server cookie */
	bool tcp_junk_first;		/* TCP: a wrong-id message first */
	atomic_bool stop;
	pthread_t th;
	/* Recorded by the server thread, published by nrec (release). */
	atomic_uint nrec;
	atomic_uint ntcp;
	atomic_uint cuts;		/* truncated copies sent (fuzz script) */
	uint16_t port[REC_MAX];
	uint16_t id[REC_MAX];
	uint16_t flags[REC_MAX];
	uint16_t edns_size[8];		/* 0: no OPT */
	uint16_t edns_flags[8];
	uint8_t qname[64][DNS_NAME_MAX];
	uint8_t cookie[8][40];
	uint8_t cookie_len[8];
	uint16_t tcp_id;
	uint8_t tcp_qname[DNS_NAME_MAX];
};

static const uint8_t server_cookie[16] = "0123456789abcdef";

static uint64_t now_ms(void)
{
	return ctl_now_ms();
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A reply to query q: the question as sent, nans A records, TC when asked,
 * and when the query had EDNS an OPT that echoes its client cookie (plus our
 * server cookie when cookie is set). 0 when q is not a query we can answer.
 */
static size_t make_reply(const uint8_t *q, size_t n, uint8_t *out, size_t cap,
			 int nans, bool tc, bool cookie)
{
	struct dns_query dq;
	struct dns_builder b;
	uint8_t opt[4 + 8 + 16];
	size_t optlen = 0;

	if (dns_query_parse(&dq, q, n) != 0)
		return 0;
	if (dns_builder_reply(&b, out, cap, &dq,
			      DNS_F_QR | DNS_F_AA | (tc ? DNS_F_TC : 0)) != 0)
		return 0;
	for (int i = 0; i < nans; i++) {
		uint8_t a[4] = { 198, 18, (uint8_t)(i >> 8), (uint8_t)i };
		if (dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN,
					 300, a, 4) != 0)
			return 0;
	}
	if (dq.has_edns) {
		if (cookie && dq.edns.cookie_off) {
			dns_put16(opt, DNS_EO_COOKIE);
			dns_put16(opt + 2, 24);
			memcpy(opt + 4, q + dq.edns.cookie_off, 8);
			memcpy(opt + 12, server_cookie, 16);
			optlen = 28;
		}
		if (dns_builder_opt(&b, 1232, 0, 0, 0, opt, optlen) != 0)
			return 0;
	}
	return dns_builder_finish(&b);
}

static void record(struct tsrv *t, const uint8_t *q, size_t n,
		   const struct sockaddr *from)
{
	unsigned i = atomic_load_explicit(&t->nrec, memory_order_relaxed);
	struct dns_msg m;

	if (i >= REC_MAX || n < DNS_HDR_LEN)
		return;
	t->port[i] = ntohs(from->sa_family == AF_INET ?
			   ((const struct sockaddr_in *)from)->sin_port :
			   ((const struct sockaddr_in6 *)from)->sin6_port);
	t->id[i] = dns_get16(q);
	t->flags[i] = dns_get16(q + 2);
	if (dns_msg_parse(&m, q, n) == 0) {
		if (i < 64)
			memcpy(t->qname[i], m.qname, m.qname_len);
		if (i < 8 && m.has_edns) {
			t->edns_size[i] = m.edns.udp_size;
			t->edns_flags[i] = m.edns.flags;
		}
		if (i < 8 && m.has_edns && m.edns.cookie_off) {
			memcpy(t->cookie[i], q + m.edns.cookie_off,
			       m.edns.cookie_len);
			t->cookie_len[i] = m.edns.cookie_len;
		}
	}
	atomic_store_explicit(&t->nrec, i + 1, memory_order_release);
}

/* The default script: record the query, answer it at once. */
static void answer_now(struct tsrv *t, const uint8_t *q, size_t n,
		       const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 1, false, t->give_cookie);
	if (!len)
		return;
	if (t->lowercase)
		dns_name_lower(out + DNS_HDR_LEN);
	sendto(t->udp, out, len, 0, from, flen);
}

static void serve_tcp(struct tsrv *t)
{
	int fd = accept(t->tcp, NULL, NULL);
	struct timeval tv = { 1, 0 };
	uint8_t lenb[2], q[RX_MAX], out[2 + RX_MAX];
	struct dns_msg m;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(fd, lenb, 2, MSG_WAITALL) != 2)
		goto out;
	size_t n = dns_get16(lenb);
	if (n > sizeof(q) || recv(fd, q, n, MSG_WAITALL) != (ssize_t)n)
		goto out;
	if (dns_msg_parse(&m, q, n) == 0) {
		t->tcp_id = m.hdr.id;
		memcpy(t->tcp_qname, m.qname, m.qname_len);
	}
	size_t len = make_reply(q, n, out + 2, sizeof(out) - 2, t->tcp_answers,
				false, t->give_cookie);
	atomic_fetch_add(&t->ntcp, 1);
	if (!len)
		goto out;
	dns_put16(out, (uint16_t)len);
	if (t->tcp_junk_first) {
		uint16_t id = dns_get16(out + 2);
		dns_put16(out + 2, (uint16_t)(id + 1));
		send(fd, out, len + 2, MSG_NOSIGNAL);
		dns_put16(out + 2, id);
	}
	send(fd, out, len + 2, MSG_NOSIGNAL);
out:
	close(fd);
}

static void *server_main(void *arg)
{
	struct tsrv *t = arg;
	uint64_t end = now_ms() + SERVER_LIFE_MS;
	uint8_t q[RX_MAX];

	while (!atomic_load(&t->stop) && now_ms() < end) {
		struct pollfd p[2] = { { t->udp, POLLIN, 0 }, { t->tcp, POLLIN, 0 } };
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[1].revents & POLLIN)
			serve_tcp(t);
		for (int k = 0; k < 256 && (p[0].revents & POLLIN); k++) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(t->udp, q, sizeof(q), MSG_DONTWAIT,
					     (struct sockaddr *)&from, &flen);
			if (n < 0)
				break;
			t->script(t, q, (size_t)n, (struct sockaddr *)&from, flen);
		}
	}
	return NULL;
}

static int bound_socket(int family, int type, const char *ip, uint16_t port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family, type, 0);

	cr_assert(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		*len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)ss, *len) < 0) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)ss, len);
	return fd;
}

static uint16_t ss_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
		     ((const struct sockaddr_in *)ss)->sin_port :
		     ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A server on ip (UDP and TCP on one kernel-chosen port), started. */
static struct tsrv *tsrv_start(int family, const char *ip, udp_script script)
{
	struct tsrv *t = calloc(1, sizeof(*t));
	struct sockaddr_storage ss;
	socklen_t len;

	cr_assert(t);
	t->family = family;
	t->script = script ? script : answer_now;
	t->tcp_answers = 1;
	/* The kernel picks the UDP port; TCP takes the same number, which
	 * can be taken already: a few tries. */
	for (int tries = 0; tries < 20; tries++) {
		t->udp = bound_socket(family, SOCK_DGRAM, ip, 0, &t->addr, &t->alen);
		cr_assert(t->udp >= 0);
		t->tcp = bound_socket(family, SOCK_STREAM, ip, ss_port(&t->addr),
				      &ss, &len);
		if (t->tcp >= 0)
			break;
		close(t->udp);
	}
	cr_assert(t->tcp >= 0, "no port free for UDP and TCP");
	cr_assert_eq(listen(t->tcp, 8), 0);
	if (family == AF_INET) {
		t->spoof_addr = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.2",
					     ss_port(&t->addr), &ss, &len);
		if (t->spoof_addr < 0)
			t->spoof_addr = bound_socket(AF_INET, SOCK_DGRAM,
						     "127.0.0.2", 0, &ss, &len);
		t->spoof_port = bound_socket(AF_INET, SOCK_DGRAM, ip, 0, &ss,
					     &len);
		cr_assert(t->spoof_addr >= 0 && t->spoof_port >= 0);
	} else {
		t->spoof_addr = t->spoof_port = -1;
	}
	cr_assert_eq(pthread_create(&t->th, NULL, server_main, t), 0);
	return t;
}

static void tsrv_stop(struct tsrv *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->th, NULL);
	close(t->udp);
	close(t->tcp);
	if (t->spoof_addr >= 0)
		close(t->spoof_addr);
	if (t->spoof_port >= 0)
		close(t->spoof_port);
	free(t);
}

/* ---- the client side ---- */

struct res {
	int done;
	struct up_result r;
	uint8_t wire[RX_MAX];
	size_t len;
	uint16_t ancount;
	uint64_t at_ms;
};

static void on_result(void *arg, const struct up_result *r)
{
	struct res *x = arg;

	x->done++;
	x->r = *r;
	x->at_ms = now_ms();
	if (r->status == UP_OK) {
		cr_assert(r->wire && r->msg && r->len <= sizeof(x->wire));
		memcpy(x->wire, r->wire, r->len);
		x->len = r->len;
		x->ancount = r->msg->hdr.count[DNS_SEC_ANSWER];
	}
	x->r.wire = NULL;
	x->r.msg = NULL;
}

static struct ctl_loop *loop;
static struct up_ctx *ctx;

static void client(bool ipv4, bool ipv6, void (*tweak)(struct up_config *))
{
	struct up_config c;
	int err = 0;

	up_config_default(&c);
	c.ipv4 = ipv4;
	c.ipv6 = ipv6;
	inet_pton(AF_INET, "127.0.0.1", &c.src4.sin_addr);
	c.src6.sin6_addr = in6addr_loopback;
	if (tweak)
		tweak(&c);
	loop = ctl_loop_new(NULL);
	cr_assert(loop);
	ctx = up_new(loop, &c, &err);
	cr_assert(ctx, "up_new: %s", ctl_strerror(err));
}

static void client_free(void)
{
	up_free(ctx);
	ctl_loop_free(loop);
	ctx = NULL;
	loop = NULL;
}

static void run_until(const int *flag, int want, uint32_t max_ms)
{
	uint64_t end = now_ms() + max_ms;

	while (*flag < want && now_ms() < end)
		ctl_loop_run_once(loop, 20);
}

static void run_for(uint32_t ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		ctl_loop_run_once(loop, 10);
}

static struct up_opts opts(uint32_t timeout_ms)
{
	struct up_opts o;

	up_opts_default(&o);
	o.timeout_ms = timeout_ms;
	return o;
}

static void ask(struct tsrv *t, const char *name, const struct up_opts *o,
		struct res *x)
{
	int r = up_query(ctx, (struct sockaddr *)&t->addr, t->alen, nm(name),
			 DNS_T_A, DNS_C_IN, o, on_result, x, NULL);

	cr_assert_eq(r, 0, "up_query: %d", r);
}

static struct up_counters counters(void)
{
	struct up_counters k;

	up_counters_get(ctx, &k);
	return k;
}

/* ---- loop ---- */

static int order[8], norder;

static void note(struct ctl_loop *l, void *arg)
{
	(void)l;
	order[norder++] = (int)(intptr_t)arg;
}

Test(loop, timers_fire_in_deadline_order_and_cancelled_ones_never)
{
	struct ctl_loop *l = ctl_loop_new(NULL);
	struct ctl_timer t[4];

	cr_assert(l);
	for (int i = 0; i < 4; i++)
		ctl_timer_init(&t[i]);
	ctl_timer_add(l, &t[0], 60, note, (void *)0);
	ctl_timer_add(l, &t[1], 20, note, (void *)1);
	ctl_timer_add(l, &t[2], 40, note, (void *)2);
	ctl_timer_add(l, &t[3], 30, note, (void *)3);
	ctl_timer_cancel(l, &t[3]);
	cr_assert_not(ctl_timer_armed(&t[3]));
	uint64_t end = ctl_now_ms() + 1000;
	while (norder < 3 && ctl_now_ms() < end)
		ctl_loop_run_once(l, 100);
	cr_assert_eq(norder, 3);
	cr_assert(order[0] == 1 && order[1] == 2 && order[2] == 0);
	cr_assert_eq(ctl_loop_run_once(l, 0), 0);
	ctl_loop_free(l);
}

static int fired_a, fired_b;
static int pipe_b[2], pipe_c[2];
static bool close_in_loop; /* on_a closes with ctl_loop_close() */

static void on_b(struct ctl_loop *l, int fd, uint32_t ev, void *arg)
{
	(void)l; (void)fd; (void)ev; (void)arg;
	fired_b++;
}

/* Closes b's pipe and reuses its descriptor number for a new watch. */
static void on_a(struct ctl_loop *l, int fd, uint32_t ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	fired_a++;
	if (close_in_loop) {
		ctl_loop_close(l, pipe_b[0]);
	} else {
		ctl_loop_unwatch(l, pipe_b[0]);
		close(pipe_b[0]);
	}
	cr_assert_eq(pipe(pipe_c), 0);
	cr_assert_eq(pipe_c[0], pipe_b[0], "the number is reused");
	cr_assert_eq(ctl_loop_watch(l, pipe_c[0], EPOLLIN, on_b, NULL), 0);
}

Test(loop, events_of_a_descriptor_unwatched_during_dispatch_are_dropped)
{
	struct ctl_loop *l = ctl_loop_new(NULL);
	int pa[2];

	cr_assert(l);
	cr_assert_eq(pipe(pa), 0);
	cr_assert_eq(pipe(pipe_b), 0);
	cr_assert_eq(write(pa[1], "x", 1), 1);
	cr_assert_eq(write(pipe_b[1], "x", 1), 1);
	cr_assert_eq(ctl_loop_watch(l, pa[0], EPOLLIN, on_a, NULL), 0);
	cr_assert_eq(ctl_loop_watch(l, pipe_b[0], EPOLLIN, on_b, NULL), 0);
	/* Both are ready: one epoll_wait returns both, a's runs first. */
	ctl_loop_run_once(l, 100);
	cr_assert_eq(fired_a, 1);
	cr_assert_eq(fired_b, 0, "stale event of the closed pipe delivered");
	ctl_loop_unwatch(l, pa[0]);
	ctl_loop_unwatch(l, pipe_c[0]);
	ctl_loop_free(l);
	close(pa[0]);
	close(pa[1]);
	close(pipe_b[1]);
	close(pipe_c[0]);
	close(pipe_c[1]);
}

/* ctl_loop_close(): no EPOLL_CTL_DEL, yet the number's new watch is added
 * (close took the old file out of the set), the old event is stale and the
 * new one arrives. */
Test(loop, a_descriptor_closed_by_the_loop_leaves_the_set_and_its_events)
{
	struct ctl_loop *l = ctl_loop_new(NULL);
	int pa[2];

	cr_assert(l);
	close_in_loop = true;
	cr_assert_eq(pipe(pa), 0);
	cr_assert_eq(pipe(pipe_b), 0);
	cr_assert_eq(write(pa[1], "x", 1), 1);
	cr_assert_eq(write(pipe_b[1], "x", 1), 1);
	cr_assert_eq(ctl_loop_watch(l, pa[0], EPOLLIN, on_a, NULL), 0);
	cr_assert_eq(ctl_loop_watch(l, pipe_b[0], EPOLLIN, on_b, NULL), 0);
	ctl_loop_run_once(l, 100);
	cr_assert_eq(fired_a, 1);
	cr_assert_eq(fired_b, 0, "stale event of the closed pipe delivered");
	ctl_loop_unwatch(l, pa[0]);
	cr_assert_eq(write(pipe_c[1], "y", 1), 1);
	ctl_loop_run_once(l, 100);
	cr_assert_eq(fired_b, 1, "the reused number's own event is lost");
	ctl_loop_close(l, pipe_c[0]);
	ctl_loop_close(l, -1);
	ctl_loop_free(l);
	close(pa[0]);
	close(pa[1]);
	close(pipe_b[1]);
	close(pipe_c[1]);
}

/* ---- normal answers ---- */

Test(upstream, normal_answer_comes_back_with_rtt)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	client(true, false, NULL);
	ask(t, "www.shop.lab", &o, &x);
	run_until(&x.done, 1, 3000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert_eq(x.ancount, 1);
	cr_assert_not(x.r.tcp);
	cr_assert(x.r.rtt_us > 0 && x.r.rtt_us < 2000000, "rtt %u", x.r.rtt_us);
	cr_assert(x.r.sent_0x20 && x.r.sent_cookie);
	/* What the server saw: RD=0, an 8-octet client cookie. */
	cr_assert_eq(atomic_load(&t->nrec), 1);
	cr_assert_not(t->flags[0] & DNS_F_RD);
	cr_assert_eq(t->cookie_len[0], 8);
	struct up_counters k = counters();
	cr_assert_eq(k.sent_udp, 1);
	cr_assert_eq(k.accepted, 1);
	cr_assert_eq(k.reply_no_cookie, 1, "no cookie back: accepted, noted");
	cr_assert_eq(up_outstanding(ctx), 0);
	client_free();
	tsrv_stop(t);
}

Test(upstream, answer_over_ipv6_loopback)
{
	struct tsrv *t = tsrv_start(AF_INET6, "::1", NULL);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	client(true, true, NULL);
	ask(t, "v6.shop.lab", &o, &x);
	run_until(&x.done, 1, 3000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert_eq(x.ancount, 1);
	client_free();
	tsrv_stop(t);
}

Test(upstream, qname_case_and_ids_are_random_and_the_echo_is_checked)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	static struct res x[32];
	const char *name = "abcdefghijklmnopqrstuvwxyz.example.lab";
	const uint8_t *wire = nm(name);
	size_t wlen = dns_name_len(wire);
	int done = 0;

	client(true, false, NULL);
	for (int i = 0; i < 32; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		ask(t, name, &o, &x[i]);
		run_until(&x[i].done, 1, 3000);
		cr_assert_eq(x[i].r.status, UP_OK);
		done++;
	}
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), 32);
	/* Every letter position was seen in both cases, names differ, and
	 * the server's echo (identical octets) was accepted each time. */
	int upper[64] = { 0 }, distinct = 0, ids = 0;
	for (int i = 0; i < 32; i++) {
		cr_assert(dns_name_equal(t->qname[i], wire));
		for (size_t p = 0; p < wlen; p++)
			upper[p] += t->qname[i][p] >= 'A' && t->qname[i][p] <= 'Z';
		bool seen = false, id_seen = false;
		for (int j = 0; j < i; j++) {
			seen |= !memcmp(t->qname[i], t->qname[j], wlen);
			id_seen |= t->id[i] == t->id[j];
		}
		distinct += !seen;
		ids += !id_seen;
	}
	for (size_t p = 1; p < 27; p++)
		cr_assert(upper[p] > 0 && upper[p] < 32, "position %zu", p);
	cr_assert_eq(distinct, 32);
	cr_assert(ids >= 30, "only %d distinct ids of 32", ids);
	cr_assert_eq(counters().accepted, 32);
	cr_assert_eq(counters().drop_bad_case, 0);
	(void)done;
	client_free();
	tsrv_stop(t);
}

/* ---- forgeries ---- */

static void send_raw(int fd, const uint8_t *p, size_t n,
		     const struct sockaddr *to, socklen_t tlen)
{
	/* Server thread: no assertion here (the client's counters tell). */
	(void)sendto(fd, p, n, 0, to, tlen);
}

/*
 * Before the real answer (200 ms late), one forgery of each kind: wrong id,
 * letter case, question, source port, source address, client cookie, a
 * query instead of a response, and two pieces of garbage.
 */
static void forge_then_answer(struct tsrv *t, const uint8_t *q, size_t n,
			      const struct sockaddr *from, socklen_t flen)
{
	uint8_t good[RX_MAX], bad[RX_MAX];
	struct dns_msg m;
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, good, sizeof(good), 1, false, true);
	if (!len || dns_msg_parse(&m, good, len) != 0)
		return;
	/* wrong id, from the server's own address and port */
	memcpy(bad, good, len);
	dns_put16(bad, (uint16_t)(m.hdr.id ^ 0x5a5a));
	send_raw(t->udp, bad, len, from, flen);
	/* every letter's case flipped */
	memcpy(bad, good, len);
	for (size_t i = DNS_HDR_LEN; i < DNS_HDR_LEN + (size_t)m.qname_len; i++)
		if ((bad[i] | 0x20) >= 'a' && (bad[i] | 0x20) <= 'z')
			bad[i] ^= 0x20;
	send_raw(t->udp, bad, len, from, flen);
	/* another question: AAAA */
	memcpy(bad, good, len);
	dns_put16(bad + DNS_HDR_LEN + m.qname_len, DNS_T_AAAA);
	send_raw(t->udp, bad, len, from, flen);
	/* right everything, from another port and another address */
	send_raw(t->spoof_port, good, len, from, flen);
	send_raw(t->spoof_addr, good, len, from, flen);
	/* a client cookie that is not the client's */
	memcpy(bad, good, len);
	bad[m.edns.cookie_off] ^= 0xff;
	send_raw(t->udp, bad, len, from, flen);
	/* QR=0 */
	memcpy(bad, good, len);
	dns_put16(bad + 2, (uint16_t)(dns_get16(bad + 2) & ~DNS_F_QR));
	send_raw(t->udp, bad, len, from, flen);
	/* garbage: too short for a header; a header with a cut question */
	send_raw(t->udp, (const uint8_t *)"\x12\x34\x80", 3, from, flen);
	memcpy(bad, good, DNS_HDR_LEN);
	memcpy(bad + DNS_HDR_LEN, "\x05" "ab", 3);
	send_raw(t->udp, bad, DNS_HDR_LEN + 3, from, flen);
	sleep_ms(200);
	send_raw(t->udp, good, len, from, flen);
}

Test(upstream, forged_replies_are_counted_and_the_real_answer_wins)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", forge_then_answer);
	struct up_opts o = opts(3000);
	struct res x = { 0 };
	uint64_t t0 = now_ms();

	client(true, false, NULL);
	ask(t, "www.shop.lab", &o, &x);
	run_until(&x.done, 1, 4000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert(x.r.cookie_ok);
	cr_assert(x.at_ms - t0 >= 190, "answered after %llu ms",
		  (unsigned long long)(x.at_ms - t0));
	/* The accepted reply is the real one, octet for octet. */
	cr_assert_eq(dns_get16(x.wire), t->id[0]);
	struct up_counters k = counters();
	cr_assert_eq(k.accepted, 1);
	cr_assert_eq(k.drop_unknown_id, 1);
	cr_assert_eq(k.drop_bad_case, 1);
	cr_assert_eq(k.drop_bad_question, 1);
	cr_assert_eq(k.drop_wrong_port, 1);
	cr_assert_eq(k.drop_wrong_addr, 1);
	cr_assert_eq(k.drop_bad_cookie, 1);
	cr_assert_eq(k.drop_not_response, 1);
	cr_assert_eq(k.drop_unparsable, 2);
	cr_assert_eq(k.near_misses, 7, "another address or port is no near miss");
	cr_assert_eq(k.tcp_fallback_flood, 0, "7 near misses are below the threshold");
	cr_assert_eq(k.no_0x20_servers, 0);
	cr_assert_eq(k.sent_udp, 1);
	cr_assert_eq(k.sent_tcp, 0);
	client_free();
	tsrv_stop(t);
}

/* 20 replies with wrong ids from the server's address; no UDP answer. */
static void flood(struct tsrv *t, const uint8_t *q, size_t n,
		  const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 1, false, true);
	if (!len)
		return;
	for (int i = 1; i <= 20; i++) {
		dns_put16(out, (uint16_t)(dns_get16(q) + 7 * i));
		send_raw(t->udp, out, len, from, flen);
	}
}

Test(upstream, flood_of_bad_replies_moves_the_query_to_tcp)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", flood);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	client(true, false, NULL);
	ask(t, "www.shop.lab", &o, &x);
	run_until(&x.done, 1, 4000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert(x.r.tcp);
	cr_assert_eq(x.ancount, 1);
	cr_assert_eq(atomic_load(&t->ntcp), 1);
	cr_assert(dns_name_equal(t->tcp_qname, nm("www.shop.lab")));
	struct up_counters k = counters();
	cr_assert_eq(k.tcp_fallback_flood, 1);
	cr_assert_eq(k.sent_tcp, 1);
	/* the 11th moved it to TCP and closed the socket: the rest went
	 * nowhere (11 in all, or 12 if the decay took a little off) */
	cr_assert(k.drop_unknown_id >= 11 && k.drop_unknown_id <= 12, "%llu",
		  (unsigned long long)k.drop_unknown_id);
	cr_assert_eq(k.accepted, 1);
	client_free();
	tsrv_stop(t);
}

static void truncated(struct tsrv *t, const uint8_t *q, size_t n,
		      const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	if ((len = make_reply(q, n, out, sizeof(out), 0, true, false)))
		send_raw(t->udp, out, len, from, flen);
}

Test(upstream, tc_reply_is_retried_over_tcp_and_the_full_answer_delivered)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", truncated);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	t->tcp_answers = 40;
	t->tcp_junk_first = true;
	client(true, false, NULL);
	ask(t, "big.shop.lab", &o, &x);
	run_until(&x.done, 1, 4000);
	cr_assert_eq(x.done, 1, "one result for both attempts");
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert(x.r.tcp);
	cr_assert_eq(x.ancount, 40);
	cr_assert_not(dns_get16(x.wire + 2) & DNS_F_TC, "flags %04x len %zu", dns_get16(x.wire + 2), x.len);
	struct up_counters k = counters();
	cr_assert_eq(k.tcp_fallback_tc, 1);
	cr_assert_eq(k.sent_udp, 1);
	cr_assert_eq(k.sent_tcp, 1);
	cr_assert_eq(k.accepted, 2, "the TC reply and the TCP answer");
	cr_assert_eq(k.drop_unknown_id, 1, "TCP's wrong-id message");
	client_free();
	tsrv_stop(t);
}

Test(upstream, tcp_connection_refused_is_a_network_error)
{
	struct sockaddr_storage ss;
	socklen_t len;
	/* A bound, never listening TCP socket: its port refuses. */
	int fd = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1", 0, &ss, &len);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	cr_assert(fd >= 0);
	o.tcp = true;
	client(true, false, NULL);
	cr_assert_eq(up_query(ctx, (struct sockaddr *)&ss, len, nm("shop.lab"),
			      DNS_T_NS, DNS_C_IN, &o, on_result, &x, NULL), 0);
	cr_assert_eq(x.done, 0, "never called back from inside up_query");
	run_until(&x.done, 1, 3000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_NETWORK_ERROR);
	cr_assert_eq(x.r.err, ECONNREFUSED);
	client_free();
	close(fd);
}

/* TC=1 and the message cut in the middle of its third answer record. */
static void truncated_badly(struct tsrv *t, const uint8_t *q, size_t n,
			    const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	struct dns_msg m;
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 10, true, false);
	if (!len || dns_msg_parse(&m, out, len) != 0)
		return;
	send_raw(t->udp, out, m.sec_off[DNS_SEC_ANSWER] + 2 * 16 + 7, from, flen);
}

Test(upstream, tc_reply_cut_inside_a_record_still_moves_to_tcp)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", truncated_badly);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	t->tcp_answers = 10;
	client(true, false, NULL);
	ask(t, "cut.shop.lab", &o, &x);
	run_until(&x.done, 1, 4000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert(x.r.tcp);
	cr_assert_eq(x.ancount, 10);
	struct up_counters k = counters();
	cr_assert_eq(k.tcp_fallback_tc, 1);
	cr_assert_eq(k.drop_unparsable, 0);
	client_free();
	tsrv_stop(t);
}

#define FUZZ_RANDOM 1000

/*
 * Every truncation of the real reply, then FUZZ_RANDOM random datagrams
 * (half with the query's id and QR=1), paced so that the client's receive
 * buffer keeps up, then the real reply.
 */
static void fuzz_then_answer(struct tsrv *t, const uint8_t *q, size_t n,
			     const struct sockaddr *from, socklen_t flen)
{
	uint8_t good[RX_MAX], bad[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, good, sizeof(good), 3, false, true);
	if (!len)
		return;
	atomic_store(&t->cuts, (unsigned)len);
	for (size_t cut = 0; cut < len; cut++) {
		send_raw(t->udp, good, cut, from, flen);
		if (cut % 20 == 19)
			sleep_ms(2);
	}
	for (int i = 0; i < FUZZ_RANDOM; i++) {
		size_t blen = arc4random_uniform(600);
		arc4random_buf(bad, blen);
		if (i % 2 && blen >= 4) {
			memcpy(bad, q, 2);
			bad[2] |= 0x80;
		}
		send_raw(t->udp, bad, blen, from, flen);
		if (i % 20 == 19)
			sleep_ms(2);
	}
	sleep_ms(50);
	send_raw(t->udp, good, len, from, flen);
}

static void no_flood_limit(struct up_config *c)
{
	c->flood_threshold = 1000000;
}

Test(upstream, random_and_truncated_datagrams_are_dropped_and_the_answer_wins)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", fuzz_then_answer);
	struct up_opts o = opts(5000);
	struct res x = { 0 };

	client(true, false, no_flood_limit);
	ask(t, "fuzz.shop.lab", &o, &x);
	run_until(&x.done, 1, 6000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert_eq(x.ancount, 3);
	struct up_counters k = counters();
	uint64_t drops = k.drop_wrong_addr + k.drop_wrong_port +
			 k.drop_unknown_id + k.drop_bad_question +
			 k.drop_bad_case + k.drop_bad_cookie + k.drop_unparsable +
			 k.drop_not_response;
	uint64_t sent = (uint64_t)atomic_load(&t->cuts) + FUZZ_RANDOM;
	cr_assert_eq(k.accepted, 1);
	/* The kernel may drop some when the machine is busy; none is taken. */
	cr_log_info("%llu drops of %llu sent", (unsigned long long)drops,
		    (unsigned long long)sent);
	cr_assert(drops <= sent && drops >= sent / 2, "%llu drops of %llu",
		  (unsigned long long)drops, (unsigned long long)sent);
	cr_assert_eq(k.sent_tcp, 0);
	client_free();
	tsrv_stop(t);
}

/* 5 wrong-id replies 50 ms apart, never an answer. */
static void junk_only(struct tsrv *t, const uint8_t *q, size_t n,
		      const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 1, false, true);
	for (int i = 1; len && i <= 5; i++) {
		sleep_ms(50);
		dns_put16(out, (uint16_t)(dns_get16(q) ^ (uint16_t)i));
		send_raw(t->udp, out, len, from, flen);
	}
}

Test(upstream, silence_times_out_and_junk_does_not_cut_it_short)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", junk_only);
	struct up_opts o = opts(400);
	struct res x = { 0 };
	uint64_t t0 = now_ms();

	client(true, false, NULL);
	ask(t, "slow.shop.lab", &o, &x);
	run_until(&x.done, 1, 3000);
	cr_assert_eq(x.done, 1);
	cr_assert_eq(x.r.status, UP_TIMEOUT);
	cr_assert(x.at_ms - t0 >= 400 && x.at_ms - t0 < 1400, "after %llu ms",
		  (unsigned long long)(x.at_ms - t0));
	struct up_counters k = counters();
	cr_assert_eq(k.timeouts, 1);
	cr_assert_eq(k.drop_unknown_id, 5);
	cr_assert_eq(k.accepted, 0);
	cr_assert_eq(k.sent_tcp, 0);
	cr_assert_eq(up_outstanding(ctx), 0);
	client_free();
	tsrv_stop(t);
}

/* The answer 50 ms late (a server thread that has other work). */
static void answer_in_50ms(struct tsrv *t, const uint8_t *q, size_t n,
			   const struct sockaddr *from, socklen_t flen)
{
	sleep_ms(50);
	answer_now(t, q, n, from, flen);
}

/* A callback that keeps the loop busy for 300 ms (a burst of new work). */
static void busy_for_300ms(struct ctl_loop *l, int fd, uint32_t ev, void *arg)
{
	(void)ev;
	(void)arg;
	ctl_loop_unwatch(l, fd);
	sleep_ms(300);
}

/* The reply arrives 50 ms into a 100 ms timeout while the loop is busy
 * elsewhere until 300 ms: when the deadline is handled the reply waits
 * unread on the socket. It is the answer, not a timeout (a timeout would
 * count against a server that answered in time). */
Test(upstream, a_reply_unread_at_the_deadline_is_taken_not_timed_out)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", answer_in_50ms);
	struct up_opts o = opts(100);
	struct res x = { 0 };
	int p[2];

	client(true, false, NULL);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	ask(t, "late.shop.lab", &o, &x);
	cr_assert_eq(ctl_loop_watch(loop, p[0], EPOLLIN, busy_for_300ms, NULL), 0);
	/* one round: the pipe is the only ready descriptor, then the timers */
	ctl_loop_run_once(loop, 0);
	cr_assert_eq(x.done, 1, "the deadline was not handled in that round");
	cr_assert_eq(x.r.status, UP_OK, "an answer in time taken for a timeout");
	struct up_counters k = counters();
	cr_assert_eq(k.timeouts, 0);
	cr_assert_eq(k.accepted, 1);
	close(p[0]);
	close(p[1]);
	client_free();
	tsrv_stop(t);
}

/* Ready descriptors go before the timers, even more than one epoll_wait
 * takes: a timer that takes in new work must not starve replies. */
static int n_ready, ready_at_timer;

static void count_ready(struct ctl_loop *l, int fd, uint32_t ev, void *arg)
{
	(void)ev;
	(void)arg;
	ctl_loop_unwatch(l, fd);
	n_ready++;
}

static void note_ready(struct ctl_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	ready_at_timer = n_ready;
}

Test(loop, every_ready_descriptor_is_served_before_a_due_timer)
{
	struct ctl_loop *l = ctl_loop_new(NULL);
	struct ctl_timer tm;
	enum { N = 400 }; /* over EVENTS_MAX (256), under 1024 descriptors */
	int p[N][2];

	cr_assert(l);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(pipe(p[i]), 0);
		cr_assert_eq(write(p[i][1], "x", 1), 1);
		cr_assert_eq(ctl_loop_watch(l, p[i][0], EPOLLIN, count_ready, NULL), 0);
	}
	ctl_timer_init(&tm);
	ctl_timer_add(l, &tm, 0, note_ready, NULL);
	ctl_loop_run_once(l, 0);
	cr_assert_eq(n_ready, N);
	cr_assert_eq(ready_at_timer, N, "the timer ran after %d of %d", ready_at_timer, N);
	ctl_loop_free(l);
	for (int i = 0; i < N; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

/* ---- case echo fallback ---- */

Test(upstream, server_that_lowercases_is_asked_without_0x20_after_two_replies)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(250);
	struct res x[3] = { { 0 } };

	t->lowercase = true;
	client(true, false, NULL);
	for (int i = 0; i < 3; i++) {
		ask(t, "mixedcaseletters.shop.lab", &o, &x[i]);
		run_until(&x[i].done, 1, 2000);
		cr_assert_eq(x[i].done, 1);
	}
	/* 0x20 draws a 23-letter name all in lower case once in 2^23. */
	cr_assert_eq(x[0].r.status, UP_CASE_MISMATCH);
	cr_assert_eq(x[1].r.status, UP_CASE_MISMATCH);
	cr_assert_eq(x[2].r.status, UP_OK);
	cr_assert_not(x[2].r.sent_0x20);
	struct up_counters k = counters();
	cr_assert_eq(k.no_0x20_servers, 1);
	cr_assert_eq(k.drop_bad_case, 2);
	cr_assert_eq(k.case_mismatch_results, 2);
	client_free();
	tsrv_stop(t);
}

/* ---- cookies ---- */

Test(upstream, server_cookie_is_echoed_in_the_next_query)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	struct res x[2] = { { 0 } };

	t->give_cookie = true;
	client(true, false, NULL);
	for (int i = 0; i < 2; i++) {
		ask(t, "c.shop.lab", &o, &x[i]);
		run_until(&x[i].done, 1, 3000);
		cr_assert_eq(x[i].r.status, UP_OK);
		cr_assert(x[i].r.cookie_ok);
	}
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), 2);
	cr_assert_eq(t->cookie_len[0], 8, "first query: client cookie only");
	cr_assert_eq(t->cookie_len[1], 24);
	cr_assert_arr_eq(t->cookie[1], t->cookie[0], 8, "same client cookie");
	cr_assert_arr_eq(t->cookie[1] + 8, server_cookie, 16);
	client_free();
	tsrv_stop(t);
}

static void rotate_fast(struct up_config *c)
{
	c->cookie_rotate_s = 1;
}

Test(upstream, client_cookie_rotates_and_the_old_server_cookie_is_forgotten)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	struct res x[3] = { { 0 } };

	t->give_cookie = true;
	client(true, false, rotate_fast);
	for (int i = 0; i < 3; i++) {
		if (i == 2)
			sleep_ms(1100);
		ask(t, "rot.shop.lab", &o, &x[i]);
		run_until(&x[i].done, 1, 3000);
		cr_assert_eq(x[i].r.status, UP_OK);
	}
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), 3);
	cr_assert_eq(t->cookie_len[1], 24, "within the lifetime: echoed");
	cr_assert_eq(t->cookie_len[2], 8, "a new client cookie starts bare");
	cr_assert(memcmp(t->cookie[2], t->cookie[0], 8) != 0);
	cr_assert_eq(counters().cookie_rotations, 1);
	client_free();
	tsrv_stop(t);
}

/* Answers 300 ms late (with a server cookie when asked). */
static void answer_late(struct tsrv *t, const uint8_t *q, size_t n,
			const struct sockaddr *from, socklen_t flen)
{
	sleep_ms(300);
	answer_now(t, q, n, from, flen);
}

static void two_servers(struct up_config *c)
{
	c->max_servers = 2;
}

Test(upstream, evicting_a_server_entry_does_not_make_its_reply_look_forged)
{
	struct tsrv *a = tsrv_start(AF_INET, "127.0.0.1", answer_late);
	struct tsrv *b = tsrv_start(AF_INET, "127.0.0.3", NULL);
	struct tsrv *c = tsrv_start(AF_INET, "127.0.0.4", NULL);
	struct up_opts o = opts(2000);
	struct res x[3] = { { 0 } };

	a->give_cookie = true;
	client(true, false, two_servers);
	ask(a, "a.shop.lab", &o, &x[0]);
	ask(b, "b.shop.lab", &o, &x[1]);
	ask(c, "c.shop.lab", &o, &x[2]); /* evicts a's entry */
	cr_assert_eq(counters().server_evictions, 1);
	run_until(&x[0].done, 1, 3000);
	run_until(&x[2].done, 1, 1000);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(x[i].r.status, UP_OK, "query %d", i);
	cr_assert(x[0].r.cookie_ok, "a's own cookie was kept with its query");
	cr_assert_eq(counters().drop_bad_cookie, 0);
	client_free();
	tsrv_stop(a);
	tsrv_stop(b);
	tsrv_stop(c);
}

Test(upstream, header_bits_and_edns_are_sent_as_asked)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	struct res x[3] = { { 0 } };

	client(true, false, NULL);
	ask(t, "bits.shop.lab", &o, &x[0]);
	run_until(&x[0].done, 1, 3000);
	o.rd = o.cd = o.do_bit = true;
	o.edns_size = 4096;
	ask(t, "bits.shop.lab", &o, &x[1]);
	run_until(&x[1].done, 1, 3000);
	o.edns = false;
	ask(t, "bits.shop.lab", &o, &x[2]);
	run_until(&x[2].done, 1, 3000);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(x[i].r.status, UP_OK);
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), 3);
	cr_assert_eq(t->flags[0] & (DNS_F_RD | DNS_F_CD | DNS_F_QR), 0);
	cr_assert_eq(t->edns_size[0], 1232);
	cr_assert_eq(t->edns_flags[0] & DNS_EDNS_F_DO, 0);
	cr_assert_eq(t->flags[1] & (DNS_F_RD | DNS_F_CD), DNS_F_RD | DNS_F_CD);
	cr_assert_eq(t->edns_size[1], 4096);
	cr_assert(t->edns_flags[1] & DNS_EDNS_F_DO);
	cr_assert_eq(t->edns_size[2], 0, "no OPT record");
	cr_assert_not(x[2].r.sent_cookie, "no cookie without EDNS");
	client_free();
	tsrv_stop(t);
}

/* ---- bounds and cancellation ---- */

static void small_table(struct up_config *c)
{
	c->max_queries = 4;
	c->max_servers = 2;
}

Test(upstream, queries_beyond_the_limit_are_refused_and_cancel_is_silent)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1", 0, &ss, &len);
	struct up_opts o = opts(300);
	struct res x[5] = { { 0 } };
	up_handle h[5];

	cr_assert(fd >= 0);
	client(true, false, small_table);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(up_query(ctx, (struct sockaddr *)&ss, len,
				      nm("shop.lab"), DNS_T_A, DNS_C_IN, &o,
				      on_result, &x[i], &h[i]), 0);
	cr_assert_eq(up_query(ctx, (struct sockaddr *)&ss, len, nm("shop.lab"),
			      DNS_T_A, DNS_C_IN, &o, on_result, &x[4], &h[4]),
		     CTL_E_FULL);
	cr_assert_eq(counters().refused_full, 1);
	up_cancel(ctx, h[1]);
	up_cancel(ctx, h[1]); /* stale: ignored */
	up_cancel(ctx, 0);
	cr_assert_eq(up_outstanding(ctx), 3);
	run_for(500);
	cr_assert_eq(x[0].done + x[2].done + x[3].done, 3);
	cr_assert_eq(x[1].done, 0, "cancelled: no callback");
	cr_assert_eq(x[0].r.status, UP_TIMEOUT);
	cr_assert_eq(up_outstanding(ctx), 0);
	/* Bad arguments never take a slot. */
	cr_assert_eq(up_query(ctx, (struct sockaddr *)&ss, 3, nm("shop.lab"),
			      DNS_T_A, DNS_C_IN, &o, on_result, &x[4], NULL),
		     CTL_E_INVAL);
	static const uint8_t badname[3] = { 64, 'a', 0 };
	cr_assert(up_query(ctx, (struct sockaddr *)&ss, len, badname, DNS_T_A,
			   DNS_C_IN, &o, on_result, &x[4], NULL) < 0);
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons(53) };
	cr_assert_eq(up_query(ctx, (struct sockaddr *)&v6, sizeof(v6),
			      nm("shop.lab"), DNS_T_A, DNS_C_IN, &o, on_result,
			      &x[4], NULL), CTL_E_FAMILY);
	client_free();
	close(fd);
}


/* ---- source ports: one socket per query ---- */

static uint16_t test_port_base;

static void narrow_range(struct up_config *c)
{
	c->port_min = test_port_base;
	c->port_max = (uint16_t)(test_port_base + 15);
	c->bind_attempts = 400;
}

/* Binds 16 consecutive ports on 127.0.0.1 below the ephemeral range. */
static void take_16_ports(int fds[16])
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (int tries = 0; tries < 50; tries++) {
		uint16_t base = (uint16_t)(20000 + 16 * arc4random_uniform(600));
		int k;
		for (k = 0; k < 16; k++) {
			fds[k] = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1",
					      (uint16_t)(base + k), &ss, &len);
			if (fds[k] < 0)
				break;
		}
		if (k == 16) {
			test_port_base = base;
			return;
		}
		while (k--)
			close(fds[k]);
	}
	cr_assert_fail("no 16 free consecutive ports");
}

Test(upstream, a_query_skips_ports_in_use_and_fails_when_none_is_free)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct up_opts o = opts(2000);
	struct res x[2] = { { 0 } };
	int fds[16];

	take_16_ports(fds);
	client(true, false, narrow_range);
	ask(t, "p.shop.lab", &o, &x[0]);
	run_until(&x[0].done, 1, 3000);
	cr_assert_eq(x[0].r.status, UP_NETWORK_ERROR, "every port of the range is taken");
	cr_assert_eq(x[0].r.err, EADDRINUSE);
	cr_assert_eq(counters().bind_failures, 1);
	/* One port free: 400 draws find it (miss probability 6e-12). */
	close(fds[9]);
	ask(t, "p.shop.lab", &o, &x[1]);
	run_until(&x[1].done, 1, 3000);
	cr_assert_eq(x[1].r.status, UP_OK);
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), 1);
	cr_assert_eq(t->port[0], test_port_base + 9);
	cr_assert_eq(counters().udp_sockets, 0, "the socket closed with its query");
	client_free();
	for (int k = 0; k < 16; k++)
		if (k != 9)
			close(fds[k]);
	tsrv_stop(t);
}

/* The first query 300 ms late (the others wait behind it), then at once. */
static void first_late(struct tsrv *t, const uint8_t *q, size_t n,
		       const struct sockaddr *from, socklen_t flen)
{
	if (atomic_load_explicit(&t->nrec, memory_order_relaxed) == 0)
		sleep_ms(300);
	answer_now(t, q, n, from, flen);
}

Test(upstream, ports_of_outstanding_queries_are_never_shared)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", first_late);
	struct up_opts o = opts(3000);
	static struct res x[17];
	uint16_t ports[16];
	int fds[16];

	/* 16 free ports (taken to find them, then let go) and 17 queries
	 * at once: 16 go out on 16 different ports, the 17th finds none. */
	take_16_ports(fds);
	for (int k = 0; k < 16; k++)
		close(fds[k]);
	client(true, false, narrow_range);
	for (int i = 0; i < 17; i++)
		ask(t, "busy.shop.lab", &o, &x[i]);
	run_for(100);
	cr_assert_eq(up_udp_ports(ctx, ports, 16), 16);
	cr_assert_eq(counters().udp_sockets, 16);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < i; j++)
			cr_assert_neq(ports[i], ports[j], "two outstanding queries on port %u",
				      ports[i]);
	int done = 0;
	uint64_t end = now_ms() + 4000;
	while (now_ms() < end && done < 17) {
		ctl_loop_run_once(loop, 20);
		done = 0;
		for (int i = 0; i < 17; i++)
			done += x[i].done;
	}
	int ok = 0, busy = 0;
	for (int i = 0; i < 17; i++) {
		ok += x[i].r.status == UP_OK;
		busy += x[i].r.status == UP_NETWORK_ERROR && x[i].r.err == EADDRINUSE;
	}
	cr_assert_eq(ok, 16);
	cr_assert_eq(busy, 1);
	cr_assert_eq(counters().udp_sockets, 0);
	client_free();
	tsrv_stop(t);
}

/* ---- entropy ---- */

static double chi2(const unsigned *count, unsigned bins, double expected)
{
	double s = 0;

	for (unsigned i = 0; i < bins; i++) {
		double d = count[i] - expected;
		s += d * d / expected;
	}
	return s;
}

static void many_queries(struct up_config *c)
{
	c->max_queries = 256;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Distinct values among n ports. */
static unsigned distinct(const uint16_t *p, unsigned n)
{
	static uint16_t sorted[REC_MAX];
	unsigned d = 0;

	memcpy(sorted, p, n * sizeof(*p));
	qsort(sorted, n, sizeof(sorted[0]), cmp_u16);
	for (unsigned i = 0; i < n; i++)
		d += i == 0 || sorted[i] != sorted[i - 1];
	return d;
}

#define ENTROPY_QUERIES 10000
#define IN_FLIGHT 128

/* n queries, IN_FLIGHT at a time, to t; every one answered. */
static void run_many(struct tsrv *t, unsigned n)
{
	struct up_opts o = opts(2000);
	static struct res x;
	unsigned issued = 0;
	uint64_t end = now_ms() + 30000;

	memset(&x, 0, sizeof(x));
	o.cookies = false;
	o.use_0x20 = false;
	while ((unsigned)x.done < n && now_ms() < end) {
		while (issued < n && issued - (unsigned)x.done < IN_FLIGHT) {
			ask(t, "e.shop.lab", &o, &x);
			issued++;
		}
		ctl_loop_run_once(loop, 20);
	}
	cr_assert_eq(x.done, (int)n);
	cr_assert_eq(atomic_load_explicit(&t->nrec, memory_order_acquire), n);
}

Test(upstream, ports_and_ids_are_spread_over_the_whole_range)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);

	client(true, false, many_queries);
	run_many(t, ENTROPY_QUERIES);
	cr_assert_eq(counters().accepted, ENTROPY_QUERIES);
	unsigned n = ENTROPY_QUERIES;

	/* Every 1000 queries in a row: at least 99 % distinct ports (pure
	 * uniform draws would repeat about 8 in 1000; recent ports are drawn
	 * again, so none should). */
	for (unsigned b = 0; b < n / 1000; b++) {
		unsigned d = distinct(t->port + b * 1000, 1000);
		cr_assert(d >= 990, "queries %u..%u: %u distinct ports", b * 1000,
			  b * 1000 + 999, d);
	}
	for (unsigned i = 0; i < n; i++)
		cr_assert(t->port[i] >= 1024);

	/* Uniform over 1024..65535: 256 bins of 252 ports, 255 degrees of
	 * freedom (sd 22.6); 400 is p < 1e-8. A pool of ports, a slice of
	 * the range or sequential ports are far beyond. */
	unsigned bins[256] = { 0 };
	for (unsigned i = 0; i < n; i++)
		bins[(unsigned)(t->port[i] - 1024) * 256 / 64512]++;
	double c2 = chi2(bins, 256, n / 256.0);
	cr_assert(c2 < 400, "port chi-square %.1f over 256 bins", c2);

	/* Ids: 64 bins, 63 degrees of freedom; 150 is p < 1e-8. Sequential
	 * ids would fill ~10 bins. */
	memset(bins, 0, sizeof(bins));
	for (unsigned i = 0; i < n; i++)
		bins[t->id[i] >> 10]++;
	c2 = chi2(bins, 64, n / 64.0);
	cr_assert(c2 < 150, "id chi-square %.1f over 64 bins", c2);
	client_free();
	tsrv_stop(t);
}

static void excluding(struct up_config *c)
{
	c->max_queries = 256;
	c->n_exclude = 2;
	c->exclude[0][0] = 1024;
	c->exclude[0][1] = 40000;
	c->exclude[1][0] = 50000;
	c->exclude[1][1] = 60000;
}

Test(upstream, excluded_ports_are_never_drawn)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", NULL);

	client(true, false, excluding);
	cr_assert_eq(up_port_count(ctx), 65535 - 60000 + 49999 - 40000);
	run_many(t, 1000);
	unsigned hi = 0;
	for (unsigned i = 0; i < 1000; i++) {
		uint16_t p = t->port[i];
		cr_assert((p > 40000 && p < 50000) || p > 60000, "port %u", p);
		hi += p > 60000;
	}
	/* 5535 of the 15534 ports are above 60000: about 356 of 1000. */
	cr_assert(hi > 250 && hi < 460, "%u above 60000", hi);
	client_free();
	tsrv_stop(t);
}

/* ---- junk: near misses and the rest ---- */

/* 30 right answers from another address and another port, then the
 * real one 150 ms later. */
static void unrelated_then_answer(struct tsrv *t, const uint8_t *q, size_t n,
				  const struct sockaddr *from, socklen_t flen)
{
	uint8_t good[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, good, sizeof(good), 1, false, false);
	for (int i = 0; len && i < 15; i++) {
		send_raw(t->spoof_addr, good, len, from, flen);
		send_raw(t->spoof_port, good, len, from, flen);
	}
	sleep_ms(150);
	send_raw(t->udp, good, len, from, flen);
}

Test(upstream, unrelated_junk_never_moves_a_query_to_tcp)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", unrelated_then_answer);
	struct up_opts o = opts(2000);
	struct res x = { 0 };

	client(true, false, NULL);
	ask(t, "u.shop.lab", &o, &x);
	run_until(&x.done, 1, 3000);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert_not(x.r.tcp);
	struct up_counters k = counters();
	cr_assert_eq(k.drop_wrong_addr, 15);
	cr_assert_eq(k.drop_wrong_port, 15);
	cr_assert_eq(k.near_misses, 0);
	cr_assert_eq(k.sent_tcp, 0);
	cr_assert_eq(k.tcp_server_flood, 0);
	client_free();
	tsrv_stop(t);
}

/* 8 wrong ids, 400 ms of quiet, 8 more, then the answer. */
static void junk_in_two_bursts(struct tsrv *t, const uint8_t *q, size_t n,
			       const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 1, false, false);
	if (!len)
		return;
	uint16_t id = dns_get16(out);
	for (int burst = 0; burst < 2; burst++) {
		for (int i = 1; i <= 8; i++) {
			dns_put16(out, (uint16_t)(id + 16 * burst + i));
			send_raw(t->udp, out, len, from, flen);
		}
		sleep_ms(400);
	}
	dns_put16(out, id);
	send_raw(t->udp, out, len, from, flen);
}

/* A slow guesser: 16 near misses with 400 ms between the two halves add
 * up over the query's life (no decay there): to TCP. */
Test(upstream, near_misses_add_up_over_a_querys_life)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", junk_in_two_bursts);
	struct up_opts o = opts(3000);
	struct res x = { 0 };

	client(true, false, NULL);
	ask(t, "d.shop.lab", &o, &x);
	run_until(&x.done, 1, 4000);
	cr_assert_eq(x.r.status, UP_OK);
	cr_assert(x.r.tcp, "11 near misses in one query's life");
	struct up_counters k = counters();
	cr_assert_eq(k.tcp_fallback_flood, 1);
	cr_assert_eq(k.near_misses, 11, "the rest never reached the closed socket");
	client_free();
	tsrv_stop(t);
}

/* 6 wrong ids per query (too few for one query), then the answer. */
static void six_near_misses(struct tsrv *t, const uint8_t *q, size_t n,
			    const struct sockaddr *from, socklen_t flen)
{
	uint8_t out[RX_MAX];
	size_t len;

	record(t, q, n, from);
	len = make_reply(q, n, out, sizeof(out), 1, false, false);
	if (!len)
		return;
	uint16_t id = dns_get16(out);
	for (int i = 1; i <= 6; i++) {
		dns_put16(out, (uint16_t)(id ^ i));
		send_raw(t->udp, out, len, from, flen);
	}
	sleep_ms(20);
	dns_put16(out, id);
	send_raw(t->udp, out, len, from, flen);
}

static void fast_server_decay(struct up_config *c)
{
	c->junk_half_life_ms = 400;
}

Test(upstream, a_server_drawing_near_misses_gets_its_next_queries_over_tcp_for_a_while)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", six_near_misses);
	struct up_opts o = opts(2000);
	struct res x[4] = { { 0 } };

	client(true, false, fast_server_decay);
	for (int i = 0; i < 4; i++) {
		if (i == 3)
			run_for(2500); /* six half-lives: 12 near misses are 0.2 now */
		ask(t, "s.shop.lab", &o, &x[i]);
		run_until(&x[i].done, 1, 3000);
		cr_assert_eq(x[i].r.status, UP_OK, "query %d", i);
	}
	cr_assert_not(x[0].r.tcp);
	cr_assert_not(x[1].r.tcp, "6 near misses each: no query was flooded");
	cr_assert(x[2].r.tcp, "12 at the server: the next query starts on TCP");
	cr_assert_not(x[3].r.tcp, "the server's count decays");
	struct up_counters k = counters();
	cr_assert_eq(k.tcp_server_flood, 1);
	cr_assert_eq(k.tcp_fallback_flood, 0);
	cr_assert_eq(k.sent_udp, 3);
	client_free();
	tsrv_stop(t);
}

/* ---- cookies that cannot be left out ---- */

/*
 * The first query is answered with cookies. Later ones: an off-path
 * spoofer who guessed port and id answers first, leaving EDNS out (no
 * cookie to get wrong) or with another client cookie, as arg selects;
 * the real answer comes 200 ms later.
 */
static int spoof_kind; /* 0: no OPT, 1: a wrong client cookie */

static void spoof_after_first(struct tsrv *t, const uint8_t *q, size_t n,
			      const struct sockaddr *from, socklen_t flen)
{
	uint8_t good[RX_MAX], bad[RX_MAX];
	struct dns_query dq;
	struct dns_builder b;
	unsigned i = atomic_load_explicit(&t->nrec, memory_order_relaxed);

	if (i == 0) {
		answer_now(t, q, n, from, flen);
		return;
	}
	record(t, q, n, from);
	size_t len = make_reply(q, n, good, sizeof(good), 1, false, true);
	if (!len || dns_query_parse(&dq, q, n))
		return;
	if (spoof_kind == 0) {
		uint8_t a[4] = { 198, 18, 66, 6 };
		dns_builder_reply(&b, bad, sizeof(bad), &dq, DNS_F_QR | DNS_F_AA);
		dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN, 86400, a, 4);
		size_t bl = dns_builder_finish(&b);
		send_raw(t->udp, bad, bl, from, flen);
	} else {
		struct dns_msg m;
		memcpy(bad, good, len);
		if (dns_msg_parse(&m, bad, len) == 0 && m.edns.cookie_off)
			bad[m.edns.cookie_off] ^= 0xff;
		send_raw(t->udp, bad, len, from, flen);
	}
	sleep_ms(200);
	send_raw(t->udp, good, len, from, flen);
}

static void cookie_spoof_case(int kind)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", spoof_after_first);
	struct up_opts o = opts(2000);
	struct res x[2] = { { 0 } };

	spoof_kind = kind;
	t->give_cookie = true;
	client(true, false, NULL);
	ask(t, "k.shop.lab", &o, &x[0]);
	run_until(&x[0].done, 1, 3000);
	cr_assert_eq(x[0].r.status, UP_OK);
	cr_assert(x[0].r.cookie_ok);
	ask(t, "k.shop.lab", &o, &x[1]);
	run_until(&x[1].done, 1, 3000);
	cr_assert_eq(x[1].r.status, UP_OK);
	cr_assert(x[1].r.tcp, "asked again over TCP");
	cr_assert_eq(x[1].ancount, 1);
	cr_assert_eq(atomic_load(&t->ntcp), 1);
	struct up_counters k = counters();
	cr_assert_eq(kind == 0 ? k.drop_no_cookie : k.drop_bad_cookie, 1);
	cr_assert_eq(k.tcp_fallback_cookie, 1);
	cr_assert_eq(k.accepted, 2, "never the spoofed one");
	client_free();
	tsrv_stop(t);
}

Test(upstream, a_reply_without_edns_from_a_cookie_server_is_dropped_and_tcp_asked)
{
	cookie_spoof_case(0);
}

Test(upstream, a_reply_with_another_cookie_from_a_cookie_server_goes_to_tcp)
{
	cookie_spoof_case(1);
}

/* Cookies in the first answer only: the server changed its mind. */
static void cookies_then_none(struct tsrv *t, const uint8_t *q, size_t n,
			      const struct sockaddr *from, socklen_t flen)
{
	t->give_cookie = atomic_load_explicit(&t->nrec, memory_order_relaxed) == 0;
	answer_now(t, q, n, from, flen);
}

static void short_cookie_mark(struct up_config *c)
{
	c->cookie_mark_s = 1;
}

Test(upstream, a_server_that_stops_sending_cookies_is_asked_over_tcp_until_the_mark_ends)
{
	struct tsrv *t = tsrv_start(AF_INET, "127.0.0.1", cookies_then_none);
	struct up_opts o = opts(2000);
	struct res x[4] = { { 0 } };

	client(true, false, short_cookie_mark);
	for (int i = 0; i < 4; i++) {
		if (i == 3)
			sleep_ms(1100);
		ask(t, "stop.shop.lab", &o, &x[i]);
		run_until(&x[i].done, 1, 3000);
		cr_assert_eq(x[i].r.status, UP_OK, "query %d", i);
	}
	cr_assert(x[0].r.cookie_ok && !x[0].r.tcp);
	cr_assert(x[1].r.tcp, "no cookie over UDP: asked over TCP");
	cr_assert(x[2].r.tcp, "a TCP reply without one does not end the mark (TC can be provoked)");
	cr_assert_not(x[3].r.tcp, "cookie_mark_s after the last cookie, believed again");
	struct up_counters k = counters();
	cr_assert_eq(k.drop_no_cookie, 2);
	cr_assert_eq(k.reply_no_cookie, 3);
	client_free();
	tsrv_stop(t);
}

/* Whoever makes us ask many new addresses pushes entries out of the
 * per-server table; a server's cookie mark is what keeps its replies
 * unforgeable, so its entry goes last. */
Test(upstream, a_cookie_servers_entry_is_evicted_last)
{
	struct tsrv *a = tsrv_start(AF_INET, "127.0.0.1", NULL);
	struct tsrv *b = tsrv_start(AF_INET, "127.0.0.3", NULL);
	struct tsrv *c = tsrv_start(AF_INET, "127.0.0.4", NULL);
	struct up_opts o = opts(2000);
	struct res x[3] = { { 0 } };

	a->give_cookie = true;
	client(true, false, two_servers);
	ask(a, "a.shop.lab", &o, &x[0]);
	run_until(&x[0].done, 1, 3000);
	cr_assert(up_sends_cookies(ctx, (struct sockaddr *)&a->addr));
	ask(b, "b.shop.lab", &o, &x[1]);
	run_until(&x[1].done, 1, 3000);
	ask(c, "c.shop.lab", &o, &x[2]); /* a is the least recent: b goes */
	run_until(&x[2].done, 1, 3000);
	cr_assert_eq(counters().server_evictions, 1);
	cr_assert(up_sends_cookies(ctx, (struct sockaddr *)&a->addr), "a's mark kept");
	cr_assert_not(up_sends_cookies(ctx, (struct sockaddr *)&b->addr));
	client_free();
	tsrv_stop(a);
	tsrv_stop(b);
	tsrv_stop(c);
}

/*
 * control/rng.h's pool: every draw in range and unbiased enough to see, the
 * bytes new across the pool's refills (a pool handed out twice, or zeroed
 * before it was copied, fails), pieces of any size across its end.
 */
Test(rng, draws_are_in_range_uniform_and_new_across_refills, .timeout = 30)
{
	cr_assert_eq(up_rng_below(0), 0);
	cr_assert_eq(up_rng_below(1), 0);
	for (uint32_t n = 2; n < 2000; n++)
		cr_assert_lt(up_rng_below(n), n);
	for (int i = 0; i < 1000; i++)
		cr_assert_lt(up_rng_below(UINT32_MAX), UINT32_MAX);

	/* 60 000 draws of six values: each 10 000, sd ~91; 5 % is 5 sd */
	unsigned count[6] = { 0 };
	for (int i = 0; i < 60000; i++)
		count[up_rng_below(6)]++;
	for (int v = 0; v < 6; v++)
		cr_assert(count[v] > 9500 && count[v] < 10500, "value %d drawn %u times", v,
			  count[v]);

	/* n = 3 * 2^30: a plain r % n would give values below 2^30 half the
	 * time, the rejection a third (30 000 draws: sd ~82) */
	unsigned low = 0;
	for (int i = 0; i < 30000; i++)
		low += up_rng_below(UINT32_C(3) << 30) < (UINT32_C(1) << 30);
	cr_assert(low > 9500 && low < 10500, "%u of 30 000 below 2^30", low);

	/* 10 000 ids (79 refills): ~9 273 distinct expected (sd ~ 25) */
	static uint8_t seen[65536];
	unsigned distinct = 0;
	for (int i = 0; i < 10000; i++) {
		uint16_t id = up_rng_u16();
		distinct += !seen[id];
		seen[id] = 1;
	}
	cr_assert_gt(distinct, 9000, "%u distinct ids of 10 000", distinct);

	/* pieces of 7 across the pool's end: zero octets ~1 in 256 */
	uint8_t buf[7 * 300];
	for (int i = 0; i < 300; i++)
		up_rng_buf(buf + 7 * i, 7);
	unsigned zeros = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		zeros += !buf[i];
	cr_assert_lt(zeros, 30, "%u zero octets of %zu", zeros, sizeof(buf));
	uint8_t a[UP_RNG_POOL], b[UP_RNG_POOL];
	up_rng_buf(a, sizeof(a));
	up_rng_buf(b, sizeof(b));
	cr_assert(memcmp(a, b, sizeof(a)) != 0, "two whole pools alike");
}
