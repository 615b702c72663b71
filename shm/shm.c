/*
 * shm/shm.c: the checks each process makes of a shared-memory record it
 * receives (see shm.h), and the client's query rebuilt from a record. Records
 * come from the other process: nothing in them is trusted before these
 * checks. Any thread, no EAL.
 */
#include "shm/shm.h"

#include <string.h>

#include "cache/msgcache.h"
#include "dns/name.h"
#include "dns/query.h"

int shm_miss_check(const struct shm_miss *r, unsigned ring, unsigned n_workers)
{
	const struct shm_client *c = &r->c;

	return r->h.type == SHM_REC_MISS && r->h.abi == SHM_ABI_VERSION &&
	       r->h.len == sizeof(*r) &&
	       (r->kind == SHM_MISS_CLIENT || r->kind == SHM_MISS_REFRESH) &&
	       c->worker == ring && ring < n_workers &&
	       (c->family == 4 || c->family == 6) && c->qname_len > 0 &&
	       dns_name_check(c->qname, c->qname_len) == (int)c->qname_len ? 0 : -1;
}

int shm_lookup_check(const struct shm_lookup *r)
{
	const struct shm_client *c = &r->c;

	return r->h.type == SHM_REC_LOOKUP && r->h.abi == SHM_ABI_VERSION &&
	       r->h.len == sizeof(*r) && c->qname_len > 0 &&
	       dns_name_check(c->qname, c->qname_len) == (int)c->qname_len ? 0 : -1;
}

int shm_found_check(const struct shm_found *r)
{
	return r->h.type == SHM_REC_FOUND && r->h.abi == SHM_ABI_VERSION &&
	       r->h.len == sizeof(*r) && r->msg_len <= SHM_MSG_MAX && r->stale <= 1 &&
	       (r->msg_len == 0 || r->msg_len >= DNS_HDR_LEN) ? 0 : -1;
}

_Static_assert(sizeof(struct shm_tap) == SHM_TAP_ELEM, "a tap record's header is one element");
_Static_assert(SHM_TAP_RING_SIZE * SHM_TAP_ELEM >= 4 * (SHM_TAP_ELEM + SHM_TAP_MSG_MAX),
	       "a tap ring holds a few of the longest records");

int shm_tap_check(const struct shm_tap *r)
{
	unsigned uses = r->kind & (SHM_TAP_FOR_DNSTAP | SHM_TAP_FOR_LOG);
	unsigned kind = r->kind & SHM_TAP_KIND_MASK;

	return r->h.type == SHM_REC_TAP && r->h.abi == SHM_ABI_VERSION &&
	       (r->kind & ~(SHM_TAP_KIND_MASK | SHM_TAP_FOR_DNSTAP | SHM_TAP_FOR_LOG)) == 0 &&
	       ((kind == SHM_TAP_CLIENT_QUERY && uses) ||
		(kind == SHM_TAP_CLIENT_RESPONSE && uses == SHM_TAP_FOR_DNSTAP)) &&
	       (r->family == 4 || r->family == 6) && r->msg_len >= DNS_HDR_LEN &&
	       r->msg_len <= SHM_TAP_MSG_MAX && r->h.len == sizeof(*r) + r->msg_len
		       ? 0 : -1;
}

int shm_fill_check(const struct shm_fill *f, unsigned n_workers)
{
	const struct shm_client *c = &f->c;

	return f->h.type == SHM_REC_FILL && f->h.abi == SHM_ABI_VERSION &&
	       f->h.len == sizeof(*f) && f->msg_len <= SHM_MSG_MAX &&
	       f->rank >= CACHE_RANK_ADDITIONAL && f->rank <= CACHE_RANK_SECURE &&
	       f->rcode <= 0xfff && c->worker < n_workers &&
	       (!(f->flags & SHM_FILL_NSEC) || f->flags == SHM_FILL_NSEC) &&
	       (!(f->flags & SHM_FILL_VERBATIM) ||
		f->flags == (SHM_FILL_VERBATIM | SHM_FILL_ANSWER)) &&
	       (!(f->flags & SHM_FILL_PLAIN) ||
		(f->flags & (SHM_FILL_ANSWER | SHM_FILL_STALE | SHM_FILL_NSEC)) == SHM_FILL_ANSWER) &&
	       (c->family == 4 || c->family == 6) ? 0 : -1;
}

void shm_client_set_query(struct shm_client *c, const struct dns_query *q)
{
	c->dns_id = q->id;
	c->dns_flags = q->flags;
	c->has_edns = q->has_edns;
	c->udp_size = q->has_edns ? q->edns.udp_size : 0;
	c->edns_flags = q->has_edns ? (uint16_t)(q->edns.flags & DNS_EDNS_F_DO) : 0;
	c->qtype = q->qtype;
	c->qclass = q->qclass;
	c->qname_len = q->qname_len;
	memcpy(c->qname, dns_query_qname(q), q->qname_len);
}

int shm_client_query(const struct shm_client *c, uint8_t *qbuf, struct dns_query *q)
{
	size_t n = DNS_HDR_LEN;

	if (c->qname_len == 0)
		return -1;
	dns_put16(qbuf, c->dns_id);
	dns_put16(qbuf + 2, (uint16_t)(c->dns_flags & ~DNS_F_QR));
	dns_put16(qbuf + 4, 1);
	memset(qbuf + 6, 0, 4);
	dns_put16(qbuf + 10, c->has_edns ? 1 : 0);
	memcpy(qbuf + n, c->qname, c->qname_len);
	n += c->qname_len;
	dns_put16(qbuf + n, c->qtype);
	dns_put16(qbuf + n + 2, c->qclass);
	n += 4;
	if (c->has_edns) {
		qbuf[n] = 0;
		dns_put16(qbuf + n + 1, DNS_T_OPT);
		dns_put16(qbuf + n + 3, c->udp_size);
		dns_put32(qbuf + n + 5, c->edns_flags & DNS_EDNS_F_DO);
		dns_put16(qbuf + n + 9, 0);
		n += 11;
	}
	/* the question must be the record's name exactly: a shorter name
	 * whose tail, type and class happen to parse on as an OPT is another
	 * question (fuzz_fill found one) */
	return dns_query_parse(q, qbuf, n) || q->qname_len != c->qname_len ? -1 : 0;
}
