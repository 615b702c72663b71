/*
 * control/xfr.c: zone transfers and the record set (see xfr.h).
 *
 * The parser keeps a working copy of the zone: the records in one arena,
 * and a table from each record's key (owner, type, RDATA: not the TTL, as
 * RFC 1995 compares them) to its entry, keyed by a secret seed (a primary
 * cannot choose records that collide). An AXFR adds every record (a
 * repeated one once); an IXFR starts from a copy of the version held and
 * applies each difference: the deletions, each of which must find a live
 * record, then the additions. Deleted entries stay in the arena, dead,
 * counted against the limits with the live ones (a primary that deletes
 * and adds the same record over and over fills its budget, not our
 * memory), and the slot table is rebuilt without them once they hold as
 * many slots as the live ones (probe chains stay short),  * until the result is compacted in order.
 *
 * The answer's records as RFC 1995 4 and RFC 5936 2.2 lay them out:
 *   AXFR:  SOA(new) records... SOA(new)
 *   IXFR:  SOA(new) [ SOA(old) deleted... SOA(next) added... ]+ SOA(new)
 *          or one SOA alone (nothing newer), or the AXFR form
 * where the versions chain: the first old is the one we hold, each next is
 * the following old, the last next is the first SOA's serial.
 */
#include "control/xfr.h"

#include <errno.h>
#include <fcntl.h>
#include <libzscanner/scanner.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/err.h"
#include "control/khash.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"

#define REC_MAX (DNS_NAME_MAX + 8 + 65535)

void ctl_xfr_set_init(struct ctl_xfr_set *s)
{
	memset(s, 0, sizeof(*s));
}

void ctl_xfr_set_fini(struct ctl_xfr_set *s)
{
	free(s->buf);
	ctl_xfr_set_init(s);
}

void ctl_xfr_set_move(struct ctl_xfr_set *dst, struct ctl_xfr_set *src)
{
	ctl_xfr_set_fini(dst);
	*dst = *src;
	ctl_xfr_set_init(src);
}

/* A record at p (len octets left): its length, or 0 when it does not hold
 * together. */
static size_t rec_len(const uint8_t *p, size_t len, struct ctl_xfr_rec *r)
{
	int ol = dns_name_check(p, len < DNS_NAME_MAX ? len : DNS_NAME_MAX);

	if (ol <= 0 || len - (size_t)ol < 8)
		return 0;
	const uint8_t *f = p + ol;
	uint16_t rdlen = dns_get16(f + 6);
	if (len - (size_t)ol - 8 < rdlen)
		return 0;
	if (r)
		*r = (struct ctl_xfr_rec){ .owner = p, .owner_len = (size_t)ol,
					   .type = dns_get16(f), .ttl = dns_get32(f + 2),
					   .rdlen = rdlen, .rdata = f + 8 };
	return (size_t)ol + 8 + rdlen;
}

bool ctl_xfr_set_next(const struct ctl_xfr_set *s, size_t *pos, struct ctl_xfr_rec *r)
{
	if (*pos >= s->len)
		return false;
	size_t n = rec_len(s->buf + *pos, s->len - *pos, r);
	if (!n)
		return false; /* cannot happen: the set is built by this file */
	*pos += n;
	return true;
}

/* --- the working copy ------------------------------------------------------ */

struct ent {
	uint64_t off;		/* in the arena */
	uint32_t len;
	uint32_t hash;
	bool dead;
};

struct work {
	uint8_t *buf;
	size_t len, cap;
	struct ent *e;
	size_t n, cap_e, live, live_octets;
	size_t dead_slots;	/* slots of dead entries: rebuilt away */
	uint32_t *slot;		/* entry + 1; 0 empty */
	size_t n_slot;
	uint64_t seed[2];
	const struct ctl_xfr_limits *lim;
};

/* The key: the record without its TTL. */
static uint64_t key_hash(const struct work *w, const uint8_t *r, size_t olen, size_t len)
{
	uint8_t k[REC_MAX];

	memcpy(k, r, olen + 2);
	memcpy(k + olen + 2, r + olen + 6, len - olen - 6);
	return ctl_khash(w->seed, k, len - 4);
}

static bool same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, size_t olen)
{
	return alen == blen && memcmp(a, b, olen + 2) == 0 &&
	       memcmp(a + olen + 6, b + olen + 6, alen - olen - 6) == 0;
}

/* A slot table of n slots (a power of two) for the live entries, which
 * are first moved together (their order kept: the arena's): the work is
 * that of the entries made since the last rebuild, not of every record
 * ever deleted. */
static bool slots_resize(struct work *w, size_t n)
{
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return false;
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++)
		if (!w->e[i].dead)
			w->e[k++] = w->e[i];
	w->n = k;
	for (size_t i = 0; i < w->n; i++) {
		size_t j = w->e[i].hash & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)(i + 1);
	}
	free(w->slot);
	w->slot = s;
	w->n_slot = n;
	w->dead_slots = 0;
	return true;
}

/* The live entry with r's key: its slot, or the empty slot where it goes. */
static uint32_t *find(struct work *w, const uint8_t *r, size_t olen, size_t len, uint32_t h)
{
	size_t mask = w->n_slot - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t v = w->slot[i];
		if (!v)
			return &w->slot[i];
		const struct ent *e = &w->e[v - 1];
		if (!e->dead && e->hash == h &&
		    same_key(w->buf + e->off, e->len, r, len, olen))
			return &w->slot[i];
	}
}

/* Adds record r (len octets, owner olen): 0, 1 when it was there already,
 * CTL_E_NOMEM, CTL_E_XFR (a limit). */
static int w_add(struct work *w, const uint8_t *r, size_t olen, size_t len)
{
	/* the zone's limits, and as much again for what differences delete */
	if (w->live >= w->lim->max_records || w->live_octets + len > w->lim->max_octets ||
	    w->len + len > 2 * w->lim->max_octets)
		return CTL_E_XFR;
	/* at most half full, dead slots counted */
	if (2 * (w->live + w->dead_slots + 1) > w->n_slot) {
		size_t n = w->n_slot ? w->n_slot : 1024;
		while (2 * (w->live + 1) > n / 2)
			n *= 2;
		if (!slots_resize(w, n))
			return CTL_E_NOMEM;
	}
	uint32_t h = (uint32_t)key_hash(w, r, olen, len);
	uint32_t *slot = find(w, r, olen, len, h);
	if (*slot)
		return 1;
	if (w->n >= UINT32_MAX - 1)
		return CTL_E_XFR;
	if (w->n == w->cap_e) {
		size_t c = w->cap_e ? 2 * w->cap_e : 1024;
		struct ent *e = realloc(w->e, c * sizeof(*e));
		if (!e)
			return CTL_E_NOMEM;
		w->e = e;
		w->cap_e = c;
	}
	if (w->cap - w->len < len) {
		size_t c = w->cap ? w->cap : 65536;
		while (c - w->len < len)
			c *= 2;
		uint8_t *b = realloc(w->buf, c);
		if (!b)
			return CTL_E_NOMEM;
		w->buf = b;
		w->cap = c;
	}
	memcpy(w->buf + w->len, r, len);
	w->e[w->n] = (struct ent){ .off = w->len, .len = (uint32_t)len, .hash = h };
	w->len += len;
	*slot = (uint32_t)++w->n;
	w->live++;
	w->live_octets += len;
	return 0;
}

/* Deletes the live record with r's key: 0, or 1 when there is none. */
static int w_del(struct work *w, const uint8_t *r, size_t olen, size_t len)
{
	if (!w->n_slot)
		return 1;
	uint32_t h = (uint32_t)key_hash(w, r, olen, len);
	uint32_t *slot = find(w, r, olen, len, h);
	if (!*slot)
		return 1;
	struct ent *e = &w->e[*slot - 1];
	e->dead = true;
	w->live--;
	w->live_octets -= e->len;
	/* the slot stays taken (others may have probed past it; find() skips
	 * dead entries) until the table is rebuilt */
	w->dead_slots++;
	return 0;
}

static void w_fini(struct work *w)
{
	free(w->buf);
	free(w->e);
	free(w->slot);
	memset(w, 0, sizeof(*w));
}

/* The live records, in order, as a set. */
static int w_result(struct work *w, struct ctl_xfr_set *out, uint32_t serial)
{
	size_t d = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct ent *e = &w->e[i];
		if (e->dead)
			continue;
		memmove(w->buf + d, w->buf + e->off, e->len);
		d += e->len;
	}
	ctl_xfr_set_fini(out);
	out->buf = w->buf;
	out->len = d;
	out->cap = w->cap;
	out->n = w->live;
	out->serial = serial;
	out->have = true;
	w->buf = NULL;
	w_fini(w);
	return 0;
}

static bool w_init(struct work *w, const struct ctl_xfr_limits *lim)
{
	memset(w, 0, sizeof(*w));
	w->lim = lim;
	return getrandom(w->seed, sizeof(w->seed), 0) == sizeof(w->seed);
}

/* --- the parser ------------------------------------------------------------ */

enum phase { P_FIRST, P_SECOND, P_AXFR, P_DEL, P_ADD, P_END, P_FAILED };

struct ctl_xfr_parse {
	uint8_t origin[DNS_NAME_MAX];
	size_t origin_len;
	uint16_t id;
	uint16_t qtype;
	const struct ctl_xfr_set *have;
	const struct ctl_xfr_limits *lim;
	enum phase phase;
	uint32_t first_serial, cur;	/* the version the differences reached */
	uint8_t first_soa[REC_MAX];	/* the first record, as kept */
	size_t first_len;
	unsigned diffs, messages;
	bool ixfr_form;
	struct work w;
};

struct ctl_xfr_parse *ctl_xfr_parse_new(const uint8_t *origin, uint16_t id,
					const struct ctl_xfr_set *have,
					const struct ctl_xfr_limits *lim)
{
	struct ctl_xfr_parse *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (!w_init(&p->w, lim)) {
		free(p);
		return NULL;
	}
	p->origin_len = dns_name_copy_lower(p->origin, origin);
	p->id = id;
	p->have = have && have->have ? have : NULL;
	p->qtype = p->have ? DNS_T_IXFR : DNS_T_AXFR;
	p->lim = lim;
	return p;
}

void ctl_xfr_parse_free(struct ctl_xfr_parse *p)
{
	if (!p)
		return;
	w_fini(&p->w);
	free(p);
}

uint32_t ctl_xfr_parse_serial(const struct ctl_xfr_parse *p)
{
	return p->first_serial;
}

void ctl_xfr_parse_result(struct ctl_xfr_parse *p, struct ctl_xfr_set *out, bool *ixfr,
			  unsigned *diffs)
{
	w_result(&p->w, out, p->first_serial);
	*ixfr = p->ixfr_form;
	*diffs = p->diffs;
}

static int bad(struct ctl_xfr_parse *p, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct ctl_xfr_parse *p, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, whylen, "message %u: ", p->messages);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < whylen)
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
	va_end(ap);
	p->phase = P_FAILED;
	return CTL_E_XFR;
}

static bool is_soa(const struct ctl_xfr_parse *p, const uint8_t *r, size_t olen)
{
	return olen == p->origin_len && memcmp(r, p->origin, olen) == 0 &&
	       dns_get16(r + olen) == DNS_T_SOA;
}

static uint32_t soa_serial(const uint8_t *r, size_t olen, size_t len)
{
	(void)olen;
	return dns_get32(r + len - 20);
}

/* Starts the working copy from the version held (an IXFR's first
 * difference). */
static int from_have(struct ctl_xfr_parse *p)
{
	size_t pos = 0;
	struct ctl_xfr_rec r;

	while (ctl_xfr_set_next(p->have, &pos, &r)) {
		size_t len = r.owner_len + 8 + r.rdlen;
		int rc = w_add(&p->w, r.owner, r.owner_len, len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add(struct ctl_xfr_parse *p, const uint8_t *r, size_t olen, size_t len, char *why,
	       size_t whylen)
{
	int rc = w_add(&p->w, r, olen, len);

	if (rc == CTL_E_NOMEM) {
		snprintf(why, whylen, "out of memory");
		p->phase = P_FAILED;
		return rc;
	}
	if (rc < 0)
		return bad(p, why, whylen, "the zone exceeds %zu records or %zu octets",
			   p->lim->max_records, p->lim->max_octets);
	return 0;
}

/* One record of the answer, kept form (r, owner olen, len octets). */
static int step(struct ctl_xfr_parse *p, const uint8_t *r, size_t olen, size_t len, char *why,
		size_t whylen)
{
	bool soa = is_soa(p, r, olen);
	uint32_t serial = soa ? soa_serial(r, olen, len) : 0;
	int rc;

	switch (p->phase) {
	case P_FIRST:
		if (!soa)
			return bad(p, why, whylen, "the answer does not start with the zone's SOA");
		memcpy(p->first_soa, r, len);
		p->first_len = len;
		p->first_serial = serial;
		p->phase = P_SECOND;
		return 0;
	case P_SECOND:
		if (soa && p->have && serial == p->have->serial &&
		    !(len == p->first_len && !memcmp(r, p->first_soa, len))) {
			/* RFC 1995 differences, from the version we hold */
			p->ixfr_form = true;
			if ((rc = from_have(p))) {
				if (rc != CTL_E_NOMEM)
					return bad(p, why, whylen, "the zone held exceeds the limits");
				snprintf(why, whylen, "out of memory");
				p->phase = P_FAILED;
				return rc;
			}
			p->cur = serial;
			p->phase = P_DEL;
			p->diffs = 1;
			if (w_del(&p->w, r, olen, len))
				return bad(p, why, whylen, "the IXFR deletes an SOA we do not hold");
			return 0;
		}
		/* the whole zone (AXFR, or an IXFR answered in full) */
		if ((rc = add(p, p->first_soa, p->origin_len, p->first_len, why, whylen)))
			return rc;
		p->phase = P_AXFR;
		/* this record is the zone's second */
		__attribute__((fallthrough));
	case P_AXFR:
		if (soa) {
			if (len != p->first_len || memcmp(r, p->first_soa, len))
				return bad(p, why, whylen, "a second, different SOA in the zone");
			p->phase = P_END;
			return 0;
		}
		return add(p, r, olen, len, why, whylen);
	case P_DEL:
		if (soa) {
			if (!ctl_serial_gt(serial, p->cur))
				return bad(p, why, whylen, "a difference from serial %u to %u",
					   p->cur, serial);
			p->cur = serial;
			p->phase = P_ADD;
			return add(p, r, olen, len, why, whylen);
		}
		if (w_del(&p->w, r, olen, len)) {
			char name[DNS_NAME_MAX * 4 + 1], type[16];
			if (dns_name_to_str(r, name, sizeof(name)) < 0)
				snprintf(name, sizeof(name), "?");
			if (dns_type_to_str(dns_get16(r + olen), type, sizeof(type)) < 0)
				snprintf(type, sizeof(type), "?");
			return bad(p, why, whylen, "the IXFR deletes %s %s, which serial %u does "
				   "not hold", name, type, p->cur);
		}
		return 0;
	case P_ADD:
		if (soa) {
			if (serial == p->first_serial && p->cur == p->first_serial &&
			    len == p->first_len && !memcmp(r, p->first_soa, len)) {
				p->phase = P_END;
				return 0;
			}
			if (serial != p->cur)
				return bad(p, why, whylen, "a difference from serial %u follows the "
					   "one to %u", serial, p->cur);
			if (w_del(&p->w, r, olen, len))
				return bad(p, why, whylen, "the IXFR deletes an SOA it did not add");
			p->phase = P_DEL;
			p->diffs++;
			return 0;
		}
		return add(p, r, olen, len, why, whylen);
	case P_END:
		return bad(p, why, whylen, "records after the final SOA");
	case P_FAILED:
		break;
	}
	snprintf(why, whylen, "the answer was already unusable");
	return CTL_E_XFR;
}

int ctl_xfr_parse_msg(struct ctl_xfr_parse *p, const uint8_t *msg, size_t len, char *why,
		      size_t whylen)
{
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;
	uint8_t rec[REC_MAX], rd[65535];
	unsigned before = p->messages++ ? 1 : 0;
	int rc;

	if (p->phase == P_FAILED)
		return bad(p, why, whylen, "the answer was already unusable");
	if (p->phase == P_END)
		return bad(p, why, whylen, "a message after the final SOA");
	if ((rc = dns_msg_parse(&m, msg, len)))
		return bad(p, why, whylen, "malformed (%d)", rc);
	if (m.hdr.id != p->id || !(m.hdr.flags & DNS_F_QR) || dns_msg_opcode(&m) != DNS_OP_QUERY)
		return bad(p, why, whylen, "not an answer to our query (id, QR, opcode)");
	if (m.rcode != DNS_R_NOERROR) {
		const char *rs = dns_rcode_str(m.rcode);
		return bad(p, why, whylen, "the primary answered %s", rs ? rs : "an error");
	}
	if (m.hdr.flags & DNS_F_TC)
		return bad(p, why, whylen, "truncated (TC) over TCP");
	if (m.qname_len) {
		uint8_t q[DNS_NAME_MAX];
		dns_copy_lower(q, m.qname, m.qname_len);
		if (m.qname_len != p->origin_len || memcmp(q, p->origin, p->origin_len) ||
		    m.qtype != p->qtype || m.qclass != DNS_C_IN)
			return bad(p, why, whylen, "the question is not ours");
	} else if (!before) {
		return bad(p, why, whylen, "the first message has no question");
	}
	unsigned in_msg = 0;
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_ANSWER) {
		in_msg++;
		if (rr.rclass != DNS_C_IN)
			return bad(p, why, whylen, "a record of class %u", rr.rclass);
		if (rr.type == DNS_T_OPT || rr.type == DNS_T_TSIG || rr.type == DNS_T_IXFR ||
		    rr.type == DNS_T_AXFR || rr.type == DNS_T_ANY)
			return bad(p, why, whylen, "a record of type %u in the answer", rr.type);
		int n = dns_rr_rdata(&m, &rr, rd, sizeof(rd));
		uint8_t *o = rec;
		if (n >= 0)
			n = dns_rdata_canonical(dns_rdata_format(rr.type, rr.rclass, rr.rdlen), rd,
						(size_t)n, rec + rr.owner_len + 8,
						sizeof(rec) - rr.owner_len - 8);
		if (n < 0)
			return bad(p, why, whylen, "malformed RDATA (%d)", n);
		if (rr.type == DNS_T_SOA && n < 22)
			return bad(p, why, whylen, "a malformed SOA");
		dns_copy_lower(o, rr.owner, rr.owner_len);
		dns_put16(o + rr.owner_len, rr.type);
		dns_put32(o + rr.owner_len + 2, rr.ttl);
		dns_put16(o + rr.owner_len + 6, (uint16_t)n);
		if ((rc = step(p, rec, rr.owner_len, rr.owner_len + 8 + (size_t)n, why, whylen)))
			return rc;
	}
	if (p->phase == P_END)
		return CTL_XFR_DONE;
	/* An IXFR answered by the one SOA: nothing newer (RFC 1995 2; an
	 * older serial too: the primary went back, we keep ours). A newer one
	 * alone in the first message: the rest may follow. */
	if (!before && p->have && p->phase == P_SECOND && in_msg == 1 &&
	    !ctl_serial_gt(p->first_serial, p->have->serial)) {
		p->phase = P_END;
		return CTL_XFR_CURRENT;
	}
	return CTL_XFR_MORE;
}

/* --- the client ------------------------------------------------------------ */

void ctl_xfr_req_default(struct ctl_xfr_req *r)
{
	memset(r, 0, sizeof(*r));
	r->timeout_ms = 120000;
	r->idle_ms = 10000;
	r->lim.max_records = 20000000;
	r->lim.max_octets = (size_t)2 << 30;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events within the deadline and idle time:
 * 0, or CTL_E_XFR on timeout with why. */
static int wait_fd(int fd, short events, uint64_t deadline, uint32_t idle_ms, char *why,
		   size_t whylen)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			snprintf(why, whylen, "the transfer took longer than its time limit");
			return CTL_E_XFR;
		}
		uint64_t left = deadline - now < idle_ms ? deadline - now : idle_ms;
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0) {
			snprintf(why, whylen, "the primary sent nothing for %llu ms",
				 (unsigned long long)left);
			return CTL_E_XFR;
		}
		if (errno != EINTR) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			return CTL_E_SYSTEM;
		}
	}
}

static int io_exact(int fd, uint8_t *buf, size_t len, bool out, uint64_t deadline,
		    uint32_t idle_ms, char *why, size_t whylen)
{
	size_t done = 0;

	while (done < len) {
		int rc = wait_fd(fd, out ? POLLOUT : POLLIN, deadline, idle_ms, why, whylen);
		if (rc)
			return rc;
		ssize_t n = out ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
				: recv(fd, buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		snprintf(why, whylen, n == 0 ? "the primary closed the connection early"
				     : "%s: %s", out ? "send" : "recv", strerror(errno));
		return CTL_E_XFR;
	}
	return 0;
}

static int connect_to(const struct ctl_xfr_req *req, uint64_t deadline, char *why,
		      size_t whylen)
{
	int fd = socket(req->primary.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return CTL_E_SYSTEM;
	}
	if (connect(fd, (const struct sockaddr *)&req->primary, req->primary_len) && errno != EINPROGRESS) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		close(fd);
		return CTL_E_XFR;
	}
	int rc = wait_fd(fd, POLLOUT, deadline, req->idle_ms, why, whylen), e = 0;
	socklen_t el = sizeof(e);
	if (!rc && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e)) {
		snprintf(why, whylen, "connect: %s", strerror(e ? e : errno));
		rc = CTL_E_XFR;
	}
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* One transfer (AXFR when have is NULL). */
static int transfer(const struct ctl_xfr_req *req, const struct ctl_xfr_set *have,
		    struct ctl_xfr_set *out, struct ctl_xfr_info *info, bool *content,
		    char *why, size_t whylen)
{
	uint64_t deadline = now_ms() + req->timeout_ms;
	uint8_t q[2 + 512 + 2 * DNS_NAME_MAX + CTL_TSIG_SPACE], mac[CTL_TSIG_MAC_MAX];
	struct dns_builder b;
	uint16_t id;
	int rc;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		snprintf(why, whylen, "getrandom: %s", strerror(errno));
		return CTL_E_SYSTEM;
	}
	if (dns_builder_init(&b, q + 2, sizeof(q) - 2 - CTL_TSIG_SPACE, id, 0) ||
	    dns_builder_question(&b, req->origin, have ? DNS_T_IXFR : DNS_T_AXFR, DNS_C_IN)) {
		snprintf(why, whylen, "cannot build the query");
		return CTL_E_INVAL;
	}
	if (have) {
		/* RFC 1995 3: our SOA in the authority section */
		size_t pos = 0;
		struct ctl_xfr_rec r;
		bool put = false;
		while (!put && ctl_xfr_set_next(have, &pos, &r))
			if (r.type == DNS_T_SOA && dns_name_equal(r.owner, req->origin))
				put = dns_builder_rr(&b, DNS_SEC_AUTHORITY, r.owner, r.type, DNS_C_IN,
						     r.ttl, r.rdata, r.rdlen) == 0;
		if (!put) {
			snprintf(why, whylen, "the version held has no SOA");
			return CTL_E_INVAL;
		}
	}
	size_t qlen = dns_builder_finish(&b);
	if (req->key) {
		rc = ctl_tsig_sign(req->key, q + 2, qlen, sizeof(q) - 2, NULL, 0,
				   (uint64_t)time(NULL), 0, mac);
		if (rc < 0) {
			snprintf(why, whylen, "cannot sign the query: %s", ctl_strerror(rc));
			return rc;
		}
		qlen = (size_t)rc;
	}
	dns_put16(q, (uint16_t)qlen);

	int fd = connect_to(req, deadline, why, whylen);
	if (fd < 0)
		return fd;
	struct ctl_tsig_verify v;
	if (req->key)
		ctl_tsig_verify_init(&v, req->key, id, mac);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(req->origin, id, have, &req->lim);
	uint8_t *buf = malloc(2 + DNS_MSG_MAX);
	rc = p && buf ? io_exact(fd, q, qlen + 2, true, deadline, req->idle_ms, why, whylen)
		      : CTL_E_NOMEM;
	if (!p || !buf)
		snprintf(why, whylen, "out of memory");
	int state = CTL_XFR_MORE;
	while (!rc && state == CTL_XFR_MORE) {
		if ((rc = io_exact(fd, buf, 2, false, deadline, req->idle_ms, why, whylen)))
			break;
		size_t len = dns_get16(buf);
		if ((rc = io_exact(fd, buf + 2, len, false, deadline, req->idle_ms, why, whylen)))
			break;
		info->messages++;
		if (req->key && (rc = ctl_tsig_verify_msg(&v, buf + 2, len, (uint64_t)time(NULL), why,
							  whylen)))
			break;
		rc = ctl_xfr_parse_msg(p, buf + 2, len, why, whylen);
		*content = rc == CTL_E_XFR;
		if (rc > 0) {
			state = rc;
			rc = 0;
		}
	}
	/* an answer that broke off after it began (closed, silent, cut):
	 * the whole zone may still come */
	if (rc == CTL_E_XFR && info->messages)
		*content = true;
	if (!rc && req->key && !v.ok_last) {
		snprintf(why, whylen, "the answer's last message is not signed");
		rc = CTL_E_TSIG;
	}
	if (p)
		info->serial = ctl_xfr_parse_serial(p);
	if (!rc && state == CTL_XFR_DONE)
		ctl_xfr_parse_result(p, out, &info->ixfr, &info->diffs);
	if (req->key)
		ctl_tsig_verify_fini(&v);
	ctl_xfr_parse_free(p);
	free(buf);
	close(fd);
	return rc ? rc : state;
}

int ctl_xfr_fetch(const struct ctl_xfr_req *req, const struct ctl_xfr_set *have,
		  struct ctl_xfr_set *out, struct ctl_xfr_info *info, char *why,
		  size_t whylen)
{
	bool incremental = have && have->have && !req->axfr, content = false;

	memset(info, 0, sizeof(*info));
	int rc = transfer(req, incremental ? have : NULL, out, info, &content, why, whylen);
	if (rc == CTL_XFR_DONE && have && have->have && !info->ixfr &&
	    out->serial == have->serial && out->len == have->len &&
	    !memcmp(out->buf, have->buf, have->len)) {
		/* the whole zone again, as held (a primary without differences,
		 * a NOTIFY replayed): nothing to build */
		ctl_xfr_set_fini(out);
		return CTL_XFR_CURRENT;
	}
	if (!content || !incremental)
		return rc; /* the network, a refusal, TSIG: an AXFR would not do better */
	/* RFC 1995 4: an IXFR that cannot be used: the whole zone instead */
	snprintf(info->ixfr_error, sizeof(info->ixfr_error), "%s", why);
	unsigned m = info->messages;
	memset(info, 0, offsetof(struct ctl_xfr_info, ixfr_error));
	info->fell_back = true;
	rc = transfer(req, NULL, out, info, &content, why, whylen);
	info->messages += m;
	return rc;
}

/* --- the copy on disk ------------------------------------------------------- */

int ctl_xfr_set_write(const struct ctl_xfr_set *s, const char *path, char *why, size_t whylen)
{
	char tmp[4096], name[DNS_NAME_MAX * 4 + 1], type[32];
	const size_t rdsize = 65535 * 4 + 64;	/* RDATA in text, escapes and all */
	size_t pos = 0;
	struct ctl_xfr_rec r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(why, whylen, "%s: path too long", path);
		return CTL_E_SYSTEM;
	}
	char *rd = malloc(rdsize);
	/* made anew, never through what is at tmp: its directory may be
	 * control.user's, and a start runs as root (a link planted there
	 * would have root write where it points) */
	int fd = -1;
	if (rd && (unlink(tmp) == 0 || errno == ENOENT))
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f && fd >= 0)
		close(fd);
	if (!f) {
		snprintf(why, whylen, "%s: %s", tmp, rd ? strerror(errno) : "out of memory");
		free(rd);
		return CTL_E_SYSTEM;
	}
	fprintf(f, "; transferred by bailiwick-control, serial %u, %zu records\n", s->serial, s->n);
	while (ctl_xfr_set_next(s, &pos, &r)) {
		if (dns_name_to_str(r.owner, name, sizeof(name)) < 0 ||
		    dns_type_to_str(r.type, type, sizeof(type)) < 0 ||
		    dns_rdata_to_str(r.type, r.rdata, r.rdlen, rd, rdsize) < 0) {
			/* unknown form: RFC 3597's generic one */
			int n = snprintf(rd, rdsize, "\\# %u ", r.rdlen);
			for (unsigned i = 0; i < r.rdlen && n > 0 && (size_t)n + 3 < rdsize; i++)
				n += snprintf(rd + n, rdsize - (size_t)n, "%02x", r.rdata[i]);
			snprintf(type, sizeof(type), "TYPE%u", r.type);
			if (dns_name_to_str(r.owner, name, sizeof(name)) < 0)
				continue; /* cannot happen: owners are checked names */
		}
		fprintf(f, "%s %u IN %s %s\n", name, r.ttl, type, rd);
	}
	free(rd);
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return CTL_E_SYSTEM;
	}
	fclose(f);
	if (rename(tmp, path)) {
		snprintf(why, whylen, "rename to %s: %s", path, strerror(errno));
		unlink(tmp);
		return CTL_E_SYSTEM;
	}
	return 0;
}

int ctl_xfr_set_read(struct ctl_xfr_set *s, const char *path, const uint8_t *origin,
		     char *why, size_t whylen)
{
	static const struct ctl_xfr_limits lim = { 20000000, (size_t)2 << 30 };
	char ot[DNS_NAME_MAX * 4 + 1];
	uint8_t rec[REC_MAX], o[DNS_NAME_MAX];
	struct work w;
	uint32_t serial = 0;
	unsigned soas = 0;
	int rc = 0;

	if (dns_name_to_str(origin, ot, sizeof(ot)) < 0 || !w_init(&w, &lim)) {
		snprintf(why, whylen, "%s: no origin or no random seed", path);
		return CTL_E_XFR;
	}
	size_t olen = dns_name_copy_lower(o, origin);
	zs_scanner_t *sc = calloc(1, sizeof(*sc));
	if (!sc || zs_init(sc, ot, DNS_C_IN, 3600) != 0) {
		free(sc);
		w_fini(&w);
		snprintf(why, whylen, "out of memory");
		return CTL_E_NOMEM;
	}
	if (zs_set_input_file(sc, path) != 0) {
		snprintf(why, whylen, "%s: %s", path, zs_strerror(sc->error.code));
		rc = CTL_E_XFR;
	}
	while (!rc && zs_parse_record(sc) == 0 && sc->state == ZS_STATE_DATA) {
		size_t ol = sc->r_owner_length;
		int n = ol && ol <= DNS_NAME_MAX && sc->r_class == DNS_C_IN
			? dns_rdata_canonical(dns_rdata_format(sc->r_type, sc->r_class,
							       sc->r_data_length),
					      sc->r_data, sc->r_data_length, rec + ol + 8,
					      sizeof(rec) - ol - 8)
			: -1;
		if (n < 0 || dns_name_check(sc->r_owner, ol) != (int)ol) {
			snprintf(why, whylen, "%s:%llu: a record that does not hold together", path,
				 (unsigned long long)sc->line_counter);
			rc = CTL_E_XFR;
			break;
		}
		dns_copy_lower(rec, sc->r_owner, ol);
		dns_put16(rec + ol, sc->r_type);
		dns_put32(rec + ol + 2, sc->r_ttl);
		dns_put16(rec + ol + 6, (uint16_t)n);
		if (sc->r_type == DNS_T_SOA && ol == olen && !memcmp(rec, o, olen)) {
			if (n < 22) {
				rc = CTL_E_XFR;
				snprintf(why, whylen, "%s: a malformed SOA", path);
				break;
			}
			soas++;
			serial = dns_get32(rec + ol + 8 + (size_t)n - 20);
		}
		if ((rc = w_add(&w, rec, ol, ol + 8 + (size_t)n)) > 0)
			rc = 0;
		if (rc)
			snprintf(why, whylen, "%s: %s", path, rc == CTL_E_NOMEM ? "out of memory"
							      : "too large");
	}
	if (!rc && sc->state != ZS_STATE_EOF && sc->state != ZS_STATE_STOP) {
		snprintf(why, whylen, "%s:%llu: %s", path, (unsigned long long)sc->line_counter,
			 sc->state == ZS_STATE_INCLUDE ? "$INCLUDE is not allowed"
						      : zs_strerror(sc->error.code));
		rc = CTL_E_XFR;
	}
	if (!rc && soas != 1) {
		snprintf(why, whylen, "%s: %u SOA records at the origin (one expected)", path, soas);
		rc = CTL_E_XFR;
	}
	zs_deinit(sc);
	free(sc);
	if (rc) {
		w_fini(&w);
		return rc;
	}
	return w_result(&w, s, serial);
}
