/*
 * dns/build.c: the message builder. Any thread, worker hot path included.
 *
 * Compression: every name written uncompressed registers each of its
 * suffixes (offset, uncompressed length) as a target; a later name looks for
 * its longest suffix among them, comparing lengths first and octets only on
 * a length match, with an exact memcmp tried before the case-insensitive walk.
 * The table is bounded (DNS_COMP_MAX); names past it are written in full.
 */
#include "build.h"

#include "err.h"
#include "msg.h"
#include "name.h"
#include "query.h"

#define PTR_OFF_MAX 0x3fff /* a pointer's 14-bit offset */

int dns_builder_init(struct dns_builder *b, uint8_t *buf, size_t cap,
		     uint16_t id, uint16_t flags)
{
	if (cap < DNS_HDR_LEN)
		return DNS_E_SPACE;
	if (cap > DNS_MSG_MAX)
		cap = DNS_MSG_MAX;
	b->buf = buf;
	b->cap = (uint16_t)cap;
	b->limit = (uint16_t)cap;
	b->len = DNS_HDR_LEN;
	b->id = id;
	b->flags = flags;
	memset(b->count, 0, sizeof(b->count));
	b->section = DNS_SEC_QUESTION;
	b->ncomp = 0;
	b->tc = false;
	b->full = false;
	b->has_opt = false;
	b->q_suffixes = false;
	return 0;
}

int dns_builder_reserve(struct dns_builder *b, size_t n)
{
	if (n > (size_t)(b->limit - b->len))
		return DNS_E_SPACE;
	b->limit = (uint16_t)(b->limit - n);
	return 0;
}

/* Does the (possibly compressed) name at buf[off] equal name? */
static bool same_name(const uint8_t *buf, size_t off, const uint8_t *name)
{
	for (;;) {
		uint8_t c = buf[off];
		if ((c & DNS_PTR_MASK) == DNS_PTR_MASK) {
			/* Our own pointers: always backwards, so this ends. */
			off = (size_t)(c & 0x3f) << 8 | buf[off + 1];
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		for (uint8_t i = 1; i <= c; i++)
			if (dns_lower[buf[off + i]] != dns_lower[name[i]])
				return false;
		off += (size_t)c + 1;
		name += c + 1;
	}
}

static int find_target(const struct dns_builder *b, const uint8_t *name,
		       size_t len)
{
	for (unsigned i = 0; i < b->ncomp; i++) {
		const struct dns_comp *e = &b->comp[i];
		if (e->len != len)
			continue;
		if (e->flat && dns_same_octets(b->buf + e->off, name, len))
			return e->off;
		if (same_name(b->buf, e->off, name))
			return e->off;
	}
	return -1;
}

/*
 * dns_builder_reply() registers only the whole question name; its suffixes
 * join the table when a name is first looked up, so replies whose records
 * all point at the question never pay for them.
 */
static void add_question_suffixes(struct dns_builder *b)
{
	const uint8_t *q = b->buf + DNS_HDR_LEN;
	size_t len = b->comp[0].len;

	b->q_suffixes = false;
	for (size_t p = q[0] + 1u; q[p] && b->ncomp < DNS_COMP_MAX; p += q[p] + 1u)
		b->comp[b->ncomp++] = (struct dns_comp){
			.off = (uint16_t)(DNS_HDR_LEN + p),
			.len = (uint8_t)(len - p),
			.flat = true,
		};
}

static int put_name(struct dns_builder *b, const uint8_t *name)
{
	uint8_t starts[DNS_LABELS_MAX];
	int labels = 0, i = 0;
	int target = -1;
	size_t len = 0, prefix;

	/* The caller's name is trusted to end, but not past 255 octets. */
	while (name[len]) {
		if (name[len] > DNS_LABEL_MAX)
			return DNS_E_LABEL_LEN;
		if (labels == DNS_LABELS_MAX)
			return DNS_E_NAME_LEN;
		starts[labels++] = (uint8_t)len;
		len += name[len] + 1u;
		if (len >= DNS_NAME_MAX)
			return DNS_E_NAME_LEN;
	}
	len++;
	for (; i < labels && b->ncomp; i++)
		if ((target = find_target(b, name + starts[i],
					  len - starts[i])) >= 0)
			break;
	if (!b->ncomp)
		i = labels;
	prefix = i < labels ? starts[i] : len - 1;
	size_t need = prefix + (target >= 0 ? 2 : 1);
	if (need > (size_t)(b->limit - b->len))
		return DNS_E_SPACE;
	uint8_t *w = b->buf + b->len;
	dns_copy(w, name, prefix);
	/* Remember the suffixes written in full, as far as table and 14-bit
	 * pointers reach. */
	unsigned n = b->ncomp;
	unsigned room = DNS_COMP_MAX - n;
	unsigned add = (unsigned)i < room ? (unsigned)i : room;
	uint16_t base = b->len;
	for (unsigned k = 0; k < add && base + starts[k] <= PTR_OFF_MAX; k++)
		b->comp[n++] = (struct dns_comp){
			.off = (uint16_t)(base + starts[k]),
			.len = (uint8_t)(len - starts[k]),
			.flat = target < 0,
		};
	b->ncomp = (uint8_t)n;
	if (target >= 0)
		dns_put16(w + prefix, (uint16_t)(0xc000 | target));
	else
		w[prefix] = 0;
	b->len = (uint16_t)(b->len + need);
	return 0;
}

static inline int put_bytes(struct dns_builder *b, const void *src, size_t len)
{
	if (len > (size_t)(b->limit - b->len))
		return DNS_E_SPACE;
	dns_copy(b->buf + b->len, src, len);
	b->len = (uint16_t)(b->len + len);
	return 0;
}

int dns_builder_question(struct dns_builder *b, const uint8_t *qname,
			 uint16_t qtype, uint16_t qclass)
{
	uint8_t fixed[4];
	uint16_t len0 = b->len;
	uint8_t ncomp0 = b->ncomp;
	int r;

	if (b->section != DNS_SEC_QUESTION || b->count[DNS_SEC_QUESTION])
		return DNS_E_ORDER;
	dns_put16(fixed, qtype);
	dns_put16(fixed + 2, qclass);
	if ((r = put_name(b, qname)) || (r = put_bytes(b, fixed, 4))) {
		b->len = len0;
		b->ncomp = ncomp0;
		return r;
	}
	b->count[DNS_SEC_QUESTION] = 1;
	return 0;
}

/* RDATA of a compressible type, its names compressed. */
static int put_rdata_names(struct dns_builder *b, uint16_t type,
			   const uint8_t *rdata, size_t rdlen)
{
	size_t p = 0;
	int r, n;

	if (type == DNS_T_MX) {
		if (rdlen < 2)
			return DNS_E_RDATA_LEN;
		if ((r = put_bytes(b, rdata, 2)))
			return r;
		p = 2;
	}
	for (int names = type == DNS_T_SOA ? 2 : 1; names > 0; names--) {
		if ((n = dns_name_check(rdata + p, rdlen - p)) < 0)
			return n == DNS_E_TRUNC ? DNS_E_RDATA_LEN : n;
		if ((r = put_name(b, rdata + p)))
			return r;
		p += (size_t)n;
	}
	if (type == DNS_T_SOA) {
		if (rdlen - p != 20)
			return DNS_E_RDATA_LEN;
		return put_bytes(b, rdata + p, 20);
	}
	return p == rdlen ? 0 : DNS_E_RDATA_LEN;
}

/* Everything of a record after its owner; rolls back to len0/ncomp0. */
static int put_rr_tail(struct dns_builder *b, enum dns_section sec,
		       uint16_t type, uint16_t rclass, uint32_t ttl,
		       const uint8_t *rdata, size_t rdlen)
{
	uint16_t format = dns_rdata_format(type, rclass, rdlen);
	uint8_t *fixed;
	int r;

	if ((size_t)(b->limit - b->len) < DNS_RR_FIXED_LEN)
		return DNS_E_SPACE;
	fixed = b->buf + b->len;
	dns_put16(fixed, type);
	dns_put16(fixed + 2, rclass);
	dns_put32(fixed + 4, ttl);
	b->len = (uint16_t)(b->len + DNS_RR_FIXED_LEN);
	if (dns_type_compressible(format)) {
		uint16_t start = b->len;
		if ((r = put_rdata_names(b, format, rdata, rdlen)))
			return r;
		dns_put16(fixed + 8, (uint16_t)(b->len - start));
	} else {
		/* Addresses are most answers: check their length inline. */
		if (format == DNS_T_A)
			r = rdlen == 4 ? 0 : DNS_E_RDATA_LEN;
		else if (format == DNS_T_AAAA)
			r = rdlen == 16 ? 0 : DNS_E_RDATA_LEN;
		else
			r = dns_rdata_check_flat(format, rdata, rdlen);
		if (r || (r = put_bytes(b, rdata, rdlen)))
			return r;
		dns_put16(fixed + 8, (uint16_t)rdlen);
	}
	b->count[sec]++;
	b->section = (uint8_t)sec;
	return 0;
}

/*
 * A record that does not fit ends the message's records: a smaller one after
 * it would leave part of an RRset behind (RFC 2181 5). Only a missing answer
 * or authority record is truncation (RFC 2181 9); OPT still has its reserve.
 */
static int rr_failed(struct dns_builder *b, enum dns_section sec, int r,
		     uint16_t len0, uint8_t ncomp0)
{
	b->len = len0;
	b->ncomp = ncomp0;
	if (r == DNS_E_SPACE) {
		b->full = true;
		if (sec != DNS_SEC_ADDITIONAL)
			b->tc = true;
	}
	return r;
}

static int rr_start(struct dns_builder *b, enum dns_section sec, size_t rdlen)
{
	if (sec > DNS_SEC_ADDITIONAL)
		return DNS_E_INVAL;
	if (sec < b->section || sec == DNS_SEC_QUESTION)
		return DNS_E_ORDER;
	if (b->full)
		return DNS_E_SPACE;
	if (rdlen > UINT16_MAX)
		return DNS_E_RDATA_LEN;
	return 0;
}

/*
 * Called before a record that looks names up saves its rollback point, so
 * that the question's suffixes stay registered if the record fails.
 */
static void want_names(struct dns_builder *b)
{
	if (b->q_suffixes)
		add_question_suffixes(b);
}

int dns_builder_rr(struct dns_builder *b, enum dns_section sec,
		   const uint8_t *owner, uint16_t type, uint16_t rclass,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	int r;

	if ((r = rr_start(b, sec, rdlen)))
		return r;
	want_names(b);
	uint16_t len0 = b->len;
	uint8_t ncomp0 = b->ncomp;
	if ((r = put_name(b, owner)) ||
	    (r = put_rr_tail(b, sec, type, rclass, ttl, rdata, rdlen)))
		return rr_failed(b, sec, r, len0, ncomp0);
	return 0;
}

int dns_builder_rr_qname(struct dns_builder *b, enum dns_section sec,
			 uint16_t type, uint16_t rclass, uint32_t ttl,
			 const uint8_t *rdata, size_t rdlen)
{
	int r;

	if (!b->count[DNS_SEC_QUESTION])
		return DNS_E_ORDER;
	if ((r = rr_start(b, sec, rdlen)))
		return r;
	if (dns_type_compressible(dns_rdata_format(type, rclass, rdlen)))
		want_names(b);
	uint16_t len0 = b->len;
	uint8_t ncomp0 = b->ncomp;
	if ((size_t)(b->limit - b->len) < 2) {
		r = DNS_E_SPACE;
	} else {
		dns_put16(b->buf + b->len, 0xc000 | DNS_HDR_LEN);
		b->len = (uint16_t)(b->len + 2);
		r = put_rr_tail(b, sec, type, rclass, ttl, rdata, rdlen);
	}
	if (r)
		return rr_failed(b, sec, r, len0, ncomp0);
	return 0;
}

int dns_builder_reply(struct dns_builder *b, uint8_t *buf, size_t cap,
		      const struct dns_query *query, uint16_t flags)
{
	uint16_t qlen = (uint16_t)(query->qname_len + 4);
	int r;

	if (!query->qname_len)
		return DNS_E_INVAL;
	flags |= DNS_F_QR | (query->flags & (DNS_F_OPCODE_MASK | DNS_F_RD |
					     DNS_F_CD));
	if ((r = dns_builder_init(b, buf, cap, query->id, flags)))
		return r;
	if (qlen > b->limit - b->len)
		return DNS_E_SPACE;
	/* The question as the client sent it; its name is the first target. */
	dns_copy(buf + DNS_HDR_LEN, query->wire + DNS_HDR_LEN, qlen);
	b->comp[0] = (struct dns_comp){ .off = DNS_HDR_LEN,
					.len = query->qname_len, .flat = true };
	b->ncomp = 1;
	b->q_suffixes = true;
	b->len = (uint16_t)(DNS_HDR_LEN + qlen);
	b->count[DNS_SEC_QUESTION] = 1;
	return 0;
}

int dns_builder_opt(struct dns_builder *b, uint16_t udp_size,
		    uint8_t ext_rcode, uint8_t version, uint16_t edns_flags,
		    const uint8_t *opts, size_t optlen)
{
	uint8_t *w;
	int r;

	if (b->has_opt)
		return DNS_E_OPT_DUP;
	if (optlen > UINT16_MAX - 11)
		return DNS_E_OPT_LEN;
	if (optlen && (r = dns_rdata_check_flat(DNS_T_OPT, opts, optlen)))
		return r;
	b->limit = b->cap;
	if (11 + optlen > (size_t)(b->cap - b->len))
		return DNS_E_SPACE;
	b->section = DNS_SEC_ADDITIONAL;
	w = b->buf + b->len;
	w[0] = 0;
	dns_put16(w + 1, DNS_T_OPT);
	dns_put16(w + 3, udp_size);
	dns_put32(w + 5, (uint32_t)ext_rcode << 24 | (uint32_t)version << 16 |
			 edns_flags);
	dns_put16(w + 9, (uint16_t)optlen);
	if (optlen)
		memcpy(w + 11, opts, optlen);
	b->len = (uint16_t)(b->len + 11 + optlen);
	b->has_opt = true;
	b->count[DNS_SEC_ADDITIONAL]++;
	return 0;
}

size_t dns_builder_finish(struct dns_builder *b)
{
	uint8_t *h = b->buf;

	dns_put16(h, b->id);
	dns_put16(h + 2, (uint16_t)(b->flags | (b->tc ? DNS_F_TC : 0)));
	for (int sec = DNS_SEC_QUESTION; sec <= DNS_SEC_ADDITIONAL; sec++)
		dns_put16(h + 4 + 2 * sec, b->count[sec]);
	return b->len;
}

bool dns_msg_has_do_only(const struct dns_msg *m)
{
	struct dns_rr_iter it;
	struct dns_rr rr;

	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0)
		if (dns_rr_needs_do(rr.type, (enum dns_section)rr.section, m->qtype))
			return true;
	return false;
}

int dns_msg_rewrite(const struct dns_msg *m, bool strip, uint8_t *out, size_t cap,
		    uint8_t *rdata)
{
	struct dns_builder b;
	struct dns_rr_iter it;
	struct dns_rr rr;
	int r;

	if (cap > DNS_MSG_MAX)
		cap = DNS_MSG_MAX;
	if ((r = dns_builder_init(&b, out, cap, m->hdr.id,
				  (uint16_t)((m->hdr.flags & ~DNS_F_RCODE_MASK) | (m->rcode & 0xf)))) ||
	    (r = dns_builder_question(&b, m->qname, m->qtype, m->qclass)))
		return r;
	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	while ((r = dns_rr_next(&it, &rr)) > 0) {
		if (rr.type == DNS_T_OPT ||
		    (strip && dns_rr_needs_do(rr.type, (enum dns_section)rr.section, m->qtype)))
			continue;
		int n = dns_rr_rdata(m, &rr, rdata, DNS_MSG_MAX);
		if (n < 0)
			return n;
		if ((r = dns_builder_rr(&b, (enum dns_section)rr.section, rr.owner, rr.type,
					rr.rclass, rr.ttl, rdata, (size_t)n)))
			return r;
		if (b.tc)
			return DNS_E_SPACE;
	}
	if (r < 0)
		return r;
	return (int)dns_builder_finish(&b);
}
