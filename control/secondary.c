/*
 * control/secondary.c: policy zones from a primary (see secondary.h).
 * Control process, the loop's thread (ctl_secondary_read(): the reload
 * thread).
 */
#include "control/secondary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answer/policy.h"
#include "conf/config.h"
#include "control/err.h"
#include "control/loop.h"
#include "control/rpz.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"

/* Clamps of the SOA's timers (seconds), and what a zone without a version
 * waits between tries. */
#define REFRESH_MIN_S 5
#define REFRESH_MAX_S 86400
#define RETRY_MIN_S 2
#define RETRY_MAX_S 3600
#define RETRY_NONE_S 10
#define NOTIFY_GAP_MS 2000
/* NOTIFY over TCP: connections at once, and how long one may stay */
#define NOTIFY_TCP_MAX 16
#define NOTIFY_TCP_IDLE_MS 5000

struct szone {
	struct ctl_secondary *s;
	unsigned i;
	bool primary;
	uint8_t origin[DNS_NAME_MAX];
	bool has_key;
	struct ctl_tsig_key key;
	struct sockaddr_storage addr;
	socklen_t alen;
	struct ctl_xfr_set set;		/* the version held */
	struct ctl_timer timer;
	uint64_t last_ok_ms;		/* the last refresh that worked */
	uint64_t expiry_base_ms;	/* that, or when the copy was read */
	uint64_t started_ms;		/* the last refresh started */
	uint64_t notify_signed;		/* the time signed of the last NOTIFY taken */
	unsigned fails;			/* refreshes failed in a row */
	bool broken;			/* its key cannot be used */
	uint32_t refresh_s, retry_s, expire_s;
	bool from_copy;			/* the version held is the copy's, unchecked */
	bool pending;			/* a refresh waits for the running reload */
	bool expired;
	unsigned last_messages;		/* the last transfer's messages */
	struct {
#define SEC_FIELD(name, text) uint64_t name;
		CTL_SECONDARY_COUNTERS(SEC_FIELD)
#undef SEC_FIELD
	} st;
	char last_error[512];
};

struct tconn;

struct ctl_secondary {
	const struct cfg *cfg;
	unsigned n;
	struct szone *z[CFG_POLICY_MAX];	/* by address: timers point at them */
	struct ctl_loop *loop;
	ctl_sec_refresh_fn refresh;
	void *arg;
	int nfd;
	int fd[2 * CFG_NOTIFY_LISTEN_MAX];	/* UDP and TCP */
	unsigned ntconn;			/* TCP connections open */
	struct tconn *tconn[NOTIFY_TCP_MAX];
	struct {
		uint64_t accepted, refused, notauth, malformed;
	} nst;
};

static void tconn_close(struct tconn *c);

/* z's TSIG key, cfg's for its zone: a key that cannot be used stops the
 * zone, never its transfers unsigned (conf checked the key: should not
 * happen). */
static void set_key(struct szone *z, const struct cfg *cfg)
{
	int k = cfg->policy[z->i].key;

	z->has_key = k >= 0;
	z->broken = k >= 0 && ((unsigned)k >= cfg->n_tsig ||
			       ctl_tsig_key_init(&z->key, &cfg->tsig[k]) != 0);
}

/* Zone i of cfg, no version held. NULL: no memory. */
static struct szone *szone_new(struct ctl_secondary *s, const struct cfg *cfg, unsigned i)
{
	const struct cfg_policy *c = &cfg->policy[i];
	struct szone *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->s = s;
	z->i = i;
	ctl_timer_init(&z->timer);
	ctl_xfr_set_init(&z->set);
	if (!c->has_primary)
		return z;
	z->primary = true;
	if (dns_name_from_str(c->name, z->origin) < 0)
		z->primary = false; /* conf checked it; policy.c reports it */
	z->alen = cfg_endpoint_sockaddr(&c->primary, &z->addr);
	set_key(z, cfg);
	z->retry_s = RETRY_NONE_S;
	return z;
}

static void szone_free(struct ctl_secondary *s, struct szone *z)
{
	if (!z)
		return;
	if (s->loop)
		ctl_timer_cancel(s->loop, &z->timer);
	ctl_xfr_set_fini(&z->set);
	free(z);
}

static void arm(struct szone *z, uint32_t delay_s);

struct ctl_secondary *ctl_secondary_new(const struct cfg *cfg)
{
	struct ctl_secondary *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = cfg;
	for (; s->n < cfg->n_policy; s->n++)
		if (!(s->z[s->n] = szone_new(s, cfg, s->n))) {
			ctl_secondary_free(s);
			return NULL;
		}
	return s;
}

int ctl_secondary_reconfigure(struct ctl_secondary *s, const struct cfg *cfg, const int *from)
{
	struct szone *nz[CFG_POLICY_MAX] = { 0 };
	bool kept[CFG_POLICY_MAX] = { 0 };

	/* everything that can fail first */
	for (unsigned j = 0; j < cfg->n_policy; j++)
		if (from[j] < 0 && !(nz[j] = szone_new(s, cfg, j))) {
			while (j--)
				if (from[j] < 0)
					szone_free(s, nz[j]);
			return CTL_E_NOMEM;
		}
	for (unsigned j = 0; j < cfg->n_policy; j++) {
		if (from[j] < 0)
			continue;
		struct szone *z = nz[j] = s->z[from[j]];
		z->i = j;
		kept[from[j]] = true;
		if (!z->primary)
			continue;
		/* a key may change, the version stays; a zone whose key
		 * changed is asked again at once */
		struct ctl_tsig_key old = z->key;
		bool had = z->has_key;
		set_key(z, cfg);
		if (had != z->has_key || memcmp(&old, &z->key, sizeof(old))) {
			z->fails = 0;
			if (s->loop)
				arm(z, 0);
		}
	}
	for (unsigned i = 0; i < s->n; i++)
		if (!kept[i])
			szone_free(s, s->z[i]);
	memcpy(s->z, nz, sizeof(s->z));
	s->n = cfg->n_policy;
	s->cfg = cfg;
	/* a new zone from a primary: its first transfer at once */
	for (unsigned j = 0; s->loop && j < s->n; j++)
		if (from[j] < 0 && s->z[j]->primary)
			arm(s->z[j], 0);
	return 0;
}

void ctl_secondary_free(struct ctl_secondary *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++)
		szone_free(s, s->z[i]);
	for (int i = 0; i < s->nfd; i++) {
		if (s->loop)
			ctl_loop_unwatch(s->loop, s->fd[i]);
		close(s->fd[i]);
	}
	while (s->ntconn)
		tconn_close(s->tconn[0]);
	free(s);
}

bool ctl_secondary_has(const struct ctl_secondary *s, unsigned i)
{
	return i < s->n && s->z[i]->primary;
}

void ctl_sec_read_fini(struct ctl_sec_read *rd)
{
	ctl_xfr_set_fini(&rd->set);
}

/* --- reading (the reload thread) ------------------------------------------ */

static int build(struct szone *z, struct ctl_sec_read *rd, struct policy_zone *pz,
		 ctl_sec_report_fn report, void *arg)
{
	const struct cfg_policy *c = &z->s->cfg->policy[z->i];
	char name[CFG_DNAME_MAX + 64], err[512];

	snprintf(name, sizeof(name), "%s serial %u%s", c->name, rd->set.serial,
		 rd->from_copy ? " (copy)" : "");
	int r = ctl_rpz_from_set(pz, &rd->set, name, z->origin, report, arg, err, sizeof(err));
	if (r) {
		snprintf(rd->why, sizeof(rd->why), "%s", err);
		rd->state = r;
	}
	return r;
}

int ctl_secondary_read(struct ctl_secondary *s, unsigned i, bool first, bool offline,
		       struct ctl_sec_read *rd, struct policy_zone *pz, ctl_sec_report_fn report,
		       void *arg)
{
	struct szone *z = s->z[i];
	const struct cfg_policy *c = &s->cfg->policy[i];
	const struct ctl_xfr_set *have = &z->set;
	struct stat st;

	memset(rd, 0, sizeof(*rd));
	ctl_xfr_set_init(&rd->set);
	if (first && c->file[0] && stat(c->file, &st) == 0) {
		/* the copy of the last transfer: in force at once, refreshed
		 * right after the start */
		rd->state = ctl_xfr_set_read(&rd->set, c->file, z->origin, rd->why,
					     sizeof(rd->why));
		if (rd->state == 0) {
			rd->state = CTL_XFR_DONE;
			rd->from_copy = true;
			build(z, rd, pz, report, arg);
			return rd->state;
		}
		/* a broken copy: the primary decides */
		if (report) {
			char line[600];
			snprintf(line, sizeof(line), "%s (the copy is not used)", rd->why);
			report(arg, line);
		}
	}
	if (offline) {
		snprintf(rd->why, sizeof(rd->why), "not transferred (checking the configuration)");
		rd->state = CTL_XFR_CURRENT;
		return rd->state;
	}
	if (z->broken) {
		snprintf(rd->why, sizeof(rd->why), "its TSIG key cannot be used");
		rd->state = CTL_E_TSIG;
		return rd->state;
	}
	struct ctl_xfr_req req;
	ctl_xfr_req_default(&req);
	req.origin = z->origin;
	memcpy(&req.primary, &z->addr, sizeof(z->addr));
	req.primary_len = z->alen;
	req.key = z->has_key ? &z->key : NULL;
	/* a copy read at start was never checked against the primary: IXFR
	 * from it all the same (a primary without its differences answers
	 * whole) */
	rd->state = ctl_xfr_fetch(&req, have->have ? have : NULL, &rd->set, &rd->info, rd->why,
				  sizeof(rd->why));
	if (rd->state == CTL_XFR_DONE) {
		build(z, rd, pz, report, arg);
		if (rd->state == CTL_XFR_DONE && c->file[0]) {
			char why[512];
			if (ctl_xfr_set_write(&rd->set, c->file, why, sizeof(why)) && report)
				report(arg, why);
		}
	} else if (rd->state < 0) {
		char primary[INET6_ADDRSTRLEN + 8];
		const void *a = z->addr.ss_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)&z->addr)->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)&z->addr)->sin6_addr;
		char tmp[sizeof(rd->why)];
		inet_ntop(z->addr.ss_family, a, primary, sizeof(primary));
		snprintf(tmp, sizeof(tmp), "%s", rd->why);
		snprintf(rd->why, sizeof(rd->why), "transfer from %s@%u: %.400s", primary,
			 c->primary.port, tmp);
	}
	return rd->state;
}

/* --- committing (the loop) ------------------------------------------------- */

static void arm(struct szone *z, uint32_t delay_s);
static void start(struct szone *z);
static uint32_t retry_after(const struct szone *z);

static void soa_timers(struct szone *z)
{
	size_t pos = 0;
	struct ctl_xfr_rec r;

	while (ctl_xfr_set_next(&z->set, &pos, &r)) {
		if (r.type != DNS_T_SOA || r.rdlen < 22 || !dns_name_equal(r.owner, z->origin))
			continue;
		const uint8_t *t = r.rdata + r.rdlen - 16;
		uint32_t refresh = dns_get32(t), retry = dns_get32(t + 4), expire = dns_get32(t + 8);
		z->refresh_s = refresh < REFRESH_MIN_S ? REFRESH_MIN_S
			       : refresh > REFRESH_MAX_S ? REFRESH_MAX_S : refresh;
		z->retry_s = retry < RETRY_MIN_S ? RETRY_MIN_S
			     : retry > RETRY_MAX_S ? RETRY_MAX_S : retry;
		z->expire_s = expire;
		return;
	}
}

void ctl_secondary_commit(struct ctl_secondary *s, unsigned i, struct ctl_sec_read *rd,
			  bool built)
{
	struct szone *z = s->z[i];
	uint64_t now = ctl_now_ms();

	if (rd->info.fell_back)
		z->st.fell_back++;
	if (rd->state == CTL_XFR_DONE && built) {
		ctl_xfr_set_move(&z->set, &rd->set);
		z->from_copy = rd->from_copy;
		soa_timers(z);
		if (!rd->from_copy) {
			z->last_ok_ms = now;
			z->last_messages = rd->info.messages;
			if (rd->info.ixfr)
				z->st.ixfr++;
			else
				z->st.axfr++;
		}
		z->last_error[0] = 0;
		z->expired = false;
		z->fails = 0;
		z->expiry_base_ms = now;
	} else if (rd->state == CTL_XFR_CURRENT) {
		if (!rd->why[0]) { /* not offline */
			z->st.current++;
			z->last_ok_ms = now;
			z->expiry_base_ms = now;
			z->from_copy = false;
			z->expired = false;
			z->fails = 0;
			z->last_error[0] = 0;
			/* a primary whose serial went back: ours is kept, and said */
			if (ctl_serial_gt(z->set.serial, rd->info.serial))
				snprintf(z->last_error, sizeof(z->last_error),
					 "the primary's serial %u is older than ours (%u): ours kept",
					 rd->info.serial, z->set.serial);
		}
	} else {
		z->st.failures++;
		z->fails++;
		snprintf(z->last_error, sizeof(z->last_error), "%s",
			 rd->why[0] ? rd->why : "the zone was not built");
		if (z->set.have && z->expire_s && z->expiry_base_ms &&
		    now - z->expiry_base_ms > (uint64_t)z->expire_s * 1000)
			z->expired = true;
	}
	ctl_sec_read_fini(rd);
	if (!s->loop)
		return; /* the start: ctl_secondary_start() arms */
	if (z->pending)
		return; /* a NOTIFY came meanwhile: ctl_secondary_idle() starts it */
	if (rd->state == CTL_XFR_CURRENT || (rd->state == CTL_XFR_DONE && built))
		arm(z, z->from_copy ? 0 : z->refresh_s);
	else
		arm(z, retry_after(z));
}

/* The retry interval, doubled for each failure in a row after the first
 * (a primary that is down is not asked every 2 s), at most RETRY_MAX_S. */
static uint32_t retry_after(const struct szone *z)
{
	uint64_t d = z->retry_s;

	for (unsigned k = 1; k < z->fails && d < RETRY_MAX_S; k++)
		d *= 2;
	return d > RETRY_MAX_S ? RETRY_MAX_S : (uint32_t)d;
}

/* --- when to refresh -------------------------------------------------------- */

static void due(struct ctl_loop *loop, void *arg)
{
	(void)loop;
	start(arg);
}

static void arm(struct szone *z, uint32_t delay_s)
{
	ctl_timer_add(z->s->loop, &z->timer, delay_s * 1000u, due, z);
}

/* A refresh of z now: started (its commit arms the next one), or after the
 * reload in progress, or (it could not start) after the retry interval. */
static void start(struct szone *z)
{
	int r = z->s->refresh(z->s->arg, z->i);

	if (r == CTL_E_FULL) {
		z->pending = true;
		return;
	}
	if (r)
		arm(z, z->retry_s);
	else
		z->started_ms = ctl_now_ms();
}

void ctl_secondary_idle(struct ctl_secondary *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct szone *z = s->z[i];
		if (!z->pending)
			continue;
		z->pending = false;
		start(z);
		return; /* one at a time */
	}
}

/* --- NOTIFY (RFC 1996) ------------------------------------------------------ */

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* The answer: the NOTIFY's header and question with QR, AA and rcode;
 * signed with the request's MAC when mac is given, or carrying the TSIG
 * error of a request that failed its check (rq, RFC 8945 5.3.2). Its
 * length, or 0. */
static size_t notify_answer(uint8_t *out, size_t cap, const struct dns_msg *m, uint16_t rcode,
			    const struct szone *z, const uint8_t *mac,
			    const struct ctl_tsig_request *rq)
{
	struct dns_builder b;
	uint16_t flags = DNS_F_QR | DNS_F_AA | (m->hdr.flags & DNS_F_OPCODE_MASK) | rcode;

	if (cap < 512 + CTL_TSIG_SPACE || dns_builder_init(&b, out, 512, m->hdr.id, flags))
		return 0;
	if (m->qname_len && dns_builder_question(&b, m->qname, m->qtype, m->qclass))
		return 0;
	int len = (int)dns_builder_finish(&b);
	if (mac)
		len = ctl_tsig_sign(&z->key, out, (size_t)len, cap, mac, z->key.mac_len,
				    (uint64_t)time(NULL), 0, NULL);
	else if (rq && rq->error)
		len = ctl_tsig_answer_error(&z->key, rq, out, (size_t)len, cap,
					    (uint64_t)time(NULL));
	return len > 0 ? (size_t)len : 0;
}

/* One NOTIFY (n octets from from): the answer's length in out, or 0 for
 * no answer. */
static size_t notify(struct ctl_secondary *s, const uint8_t *buf, size_t n,
		     const struct sockaddr_storage *from, uint8_t *out, size_t cap)
{
	struct dns_msg m;

	if (n < 12 || dns_msg_parse(&m, buf, n) || (m.hdr.flags & DNS_F_QR) ||
	    dns_msg_opcode(&m) != DNS_OP_NOTIFY || !m.qname_len) {
		s->nst.malformed++; /* no answer: it may be an answer itself */
		return 0;
	}
	uint8_t q[DNS_NAME_MAX];
	struct szone *z = NULL;
	dns_copy_lower(q, m.qname, m.qname_len);
	for (unsigned i = 0; i < s->n && !z; i++)
		if (s->z[i]->primary && dns_name_equal(s->z[i]->origin, q))
			z = s->z[i];
	if (!z || m.qtype != DNS_T_SOA || m.qclass != DNS_C_IN || !same_host(from, &z->addr)) {
		s->nst.refused++;
		return notify_answer(out, cap, &m, DNS_R_REFUSED, z, NULL, NULL);
	}
	struct ctl_tsig_request rq;
	char why[256];
	uint64_t now_s = (uint64_t)time(NULL);
	if (ctl_tsig_check_request(z->has_key ? &z->key : NULL, buf, n, now_s, &rq, why,
				   sizeof(why))) {
		s->nst.notauth++;
		return notify_answer(out, cap, &m, rq.formerr ? DNS_R_FORMERR : DNS_R_NOTAUTH, z,
				     NULL, rq.formerr ? NULL : &rq);
	}
	/* RFC 8945 5.2.3: a signed NOTIFY older than the last one taken is a
	 * replay (within the fudge): BADTIME */
	if (z->has_key && rq.time < z->notify_signed) {
		rq.error = CTL_TSIG_BADTIME;
		s->nst.notauth++;
		return notify_answer(out, cap, &m, DNS_R_NOTAUTH, z, NULL, &rq);
	}
	if (z->has_key)
		z->notify_signed = rq.time;
	s->nst.accepted++;
	z->st.notifies++;
	/* a refresh now, or after the one in progress; NOTIFYs closer than
	 * NOTIFY_GAP_MS to the last refresh's start (a burst, a replay of a
	 * signed one within its fudge) make one refresh when the gap ends */
	uint64_t now = ctl_now_ms();
	if (!z->pending) {
		if (z->started_ms && now - z->started_ms < NOTIFY_GAP_MS) {
			ctl_timer_add(s->loop, &z->timer,
				      (uint32_t)(NOTIFY_GAP_MS - (now - z->started_ms)), due, z);
		} else {
			ctl_timer_cancel(s->loop, &z->timer);
			start(z);
		}
	}
	return notify_answer(out, cap, &m, DNS_R_NOERROR, z, z->has_key ? rq.mac : NULL, NULL);
}

static void on_udp(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_secondary *s = arg;
	uint8_t buf[4096], out[512 + CTL_TSIG_SPACE];
	struct sockaddr_storage from;

	(void)loop;
	(void)events;
	for (int k = 0; k < 64; k++) {
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &flen);
		if (n < 0)
			return;
		size_t len = notify(s, buf, (size_t)n, &from, out, sizeof(out));
		if (len)
			sendto(fd, out, len, MSG_DONTWAIT, (struct sockaddr *)&from, flen);
	}
}

/* A NOTIFY over TCP (RFC 1996 doesn't forbid it; Knot DNS sends them so):
 * from a primary's address only, length-prefixed messages, each answered,
 * until the peer closes or NOTIFY_TCP_IDLE_MS after it connected (one
 * deadline, not one per read: a trickle cannot hold a slot). */
struct tconn {
	struct ctl_secondary *s;
	int fd;
	struct sockaddr_storage from;
	struct ctl_timer idle;
	size_t len;
	uint8_t buf[2 + 4096];
};

static void tconn_close(struct tconn *c)
{
	struct ctl_secondary *s = c->s;

	ctl_timer_cancel(s->loop, &c->idle);
	ctl_loop_close(s->loop, c->fd);
	for (unsigned i = 0; i < s->ntconn; i++)
		if (s->tconn[i] == c) {
			s->tconn[i] = s->tconn[--s->ntconn];
			break;
		}
	free(c);
}

static void tconn_idle(struct ctl_loop *loop, void *arg)
{
	(void)loop;
	tconn_close(arg);
}

static void on_tconn(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct tconn *c = arg;
	uint8_t out[2 + 512 + CTL_TSIG_SPACE];

	(void)loop;
	(void)events;
	ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tconn_close(c);
		return;
	}
	c->len += (size_t)n;
	while (c->len >= 2) {
		size_t m = dns_get16(c->buf);
		if (m + 2 > sizeof(c->buf)) {
			c->s->nst.malformed++;
			tconn_close(c);
			return;
		}
		if (c->len < m + 2)
			break;
		size_t len = notify(c->s, c->buf + 2, m, &c->from, out + 2, sizeof(out) - 2);
		if (len) {
			dns_put16(out, (uint16_t)len);
			if (send(fd, out, len + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(len + 2)) {
				tconn_close(c);
				return;
			}
		}
		memmove(c->buf, c->buf + m + 2, c->len - m - 2);
		c->len -= m + 2;
	}
}

static void on_accept(struct ctl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_secondary *s = arg;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);

	(void)events;
	int cfd = accept4(fd, (struct sockaddr *)&from, &flen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	/* only primaries hold a connection (the others' NOTIFYs would be
	 * refused anyway) */
	bool primary = false;
	for (unsigned i = 0; i < s->n && !primary; i++)
		primary = s->z[i]->primary && same_host(&from, &s->z[i]->addr);
	struct tconn *c = primary && s->ntconn < NOTIFY_TCP_MAX ? malloc(sizeof(*c)) : NULL;
	if (!c) {
		s->nst.refused++;
		close(cfd);
		return;
	}
	c->s = s;
	c->fd = cfd;
	c->from = from;
	c->len = 0;
	ctl_timer_init(&c->idle);
	if (ctl_loop_watch(loop, cfd, EPOLLIN, on_tconn, c)) {
		close(cfd);
		free(c);
		return;
	}
	s->tconn[s->ntconn++] = c;
	ctl_timer_add(loop, &c->idle, NOTIFY_TCP_IDLE_MS, tconn_idle, c);
}

int ctl_secondary_start(struct ctl_secondary *s, struct ctl_loop *loop,
			ctl_sec_refresh_fn refresh, void *arg, char *why, size_t whylen)
{
	s->loop = loop;
	s->refresh = refresh;
	s->arg = arg;
	for (unsigned i = 0; i < s->n; i++) {
		struct szone *z = s->z[i];
		if (!z->primary)
			continue;
		arm(z, !z->set.have ? retry_after(z) : z->from_copy ? 0 : z->refresh_s);
	}
	for (unsigned i = 0; i < s->cfg->control.n_notify; i++) {
		const struct cfg_endpoint *e = &s->cfg->control.notify[i];
		struct sockaddr_storage ss;
		socklen_t sl = cfg_endpoint_sockaddr(e, &ss);
		char a[INET6_ADDRSTRLEN];
		int one = 1;
		inet_ntop(e->a.family, e->a.addr, a, sizeof(a));
		for (int tcp = 0; tcp < 2; tcp++) {
			int fd = socket(e->a.family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
							     SOCK_CLOEXEC, 0);
			if (fd >= 0 && e->a.family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (fd >= 0 && tcp)
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			/* with a dataplane the address lives on its exception TAP,
			 * which goes away while the dataplane restarts */
			if (fd >= 0)
				setsockopt(fd, e->a.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
					   e->a.family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND,
					   &one, sizeof(one));
			if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) || (tcp && listen(fd, 16)) ||
			    ctl_loop_watch(loop, fd, EPOLLIN, tcp ? on_accept : on_udp, s)) {
				snprintf(why, whylen, "control.notify-listen %s@%u/%s: %s", a, e->port,
					 tcp ? "tcp" : "udp", strerror(errno));
				if (fd >= 0)
					close(fd);
				return CTL_E_LISTEN;
			}
			s->fd[s->nfd++] = fd;
		}
	}
	return 0;
}

/* --- stats -------------------------------------------------------------------- */

void ctl_secondary_print_zone(const struct ctl_secondary *s, unsigned i, const char *name,
			      FILE *f)
{
	const struct szone *z = s->z[i];
	uint64_t now = ctl_now_ms();

	if (!z->primary)
		return;
#define P(field, text) fprintf(f, "stat policy_zone.xfr_%s[%s] %llu\n", #field, name, \
			       (unsigned long long)z->st.field);
	CTL_SECONDARY_COUNTERS(P)
#undef P
	fprintf(f, "stat policy_zone.xfr_last_messages[%s] %u\n", name, z->last_messages);
	fprintf(f, "stat policy_zone.xfr_serial[%s] %u\nstat policy_zone.xfr_expired[%s] %d\n"
		   "stat policy_zone.xfr_since_ok_s[%s] %lld\n"
		   "stat policy_zone.xfr_next_s[%s] %lld\n",
		name, z->set.serial, name, z->expired, name,
		z->last_ok_ms ? (long long)((now - z->last_ok_ms) / 1000) : -1LL, name,
		ctl_timer_armed(&z->timer) && z->timer.deadline_ms >= now
			? (long long)((z->timer.deadline_ms - now) / 1000) : -1LL);
	if (z->last_error[0])
		fprintf(f, "info policy_zone.xfr_error[%s] %s\n", name, z->last_error);
}

void ctl_secondary_print_notify(const struct ctl_secondary *s, FILE *f)
{
	if (!s->cfg->control.n_notify)
		return;
	fprintf(f, "stat notify.accepted %llu\nstat notify.refused %llu\n"
		   "stat notify.notauth %llu\nstat notify.malformed %llu\n",
		(unsigned long long)s->nst.accepted, (unsigned long long)s->nst.refused,
		(unsigned long long)s->nst.notauth, (unsigned long long)s->nst.malformed);
}
