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
		if (e->flat && memcmp(b->buf + e->off, name, len) == 0)
			return e->off;
		if (same_name(b->buf, e->off, name))
			return e->off;
	}
	return -1;
}

static int put_name(struct dns_builder *b, const uint8_t *name, bool compress)
{
	size_t len = dns_name_len(name);
	size_t p = 0; /* octets of name written in full */
	int target = -1;

	if (compress && b->ncomp) {
		for (; name[p]; p += name[p] + 1)
			if ((target = find_target(b, name + p, len - p)) >= 0)
				break;
	} else {
		p = len - 1;
	}
	size_t need = p + (target >= 0 ? 2 : 1);
	if (need > (size_t)(b->limit - b->len))
		return DNS_E_SPACE;
	uint8_t *w = b->buf + b->len;
	memcpy(w, name, p);
	for (size_t q = 0; q < p && b->ncomp < DNS_COMP_MAX; q += name[q] + 1) {
		if (b->len + q > PTR_OFF_MAX)
			break;
		b->comp[b->ncomp++] = (struct dns_comp){
			.off = (uint16_t)(b->len + q),
			.len = (uint8_t)(len - q),
			.flat = target < 0,
		};
	}
	if (target >= 0) {
		dns_put16(w + p, (uint16_t)(0xc000 | target));
	} else {
		w[p] = 0;
	}
	b->len = (uint16_t)(b->len + need);
	return 0;
}

static int put_bytes(struct dns_builder *b, const void *src, size_t len)
{
	if (len > (size_t)(b->limit - b->len))
		return DNS_E_SPACE;
	memcpy(b->buf + b->len, src, len);
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
	if ((r = put_name(b, qname, true)) || (r = put_bytes(b, fixed, 4))) {
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
		if ((r = put_name(b, rdata + p, true)))
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

int dns_builder_rr(struct dns_builder *b, enum dns_section sec,
		   const uint8_t *owner, uint16_t type, uint16_t rclass,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	uint16_t len0 = b->len;
	uint8_t ncomp0 = b->ncomp;
	uint8_t *fixed;
	int r;

	if (sec < b->section || sec == DNS_SEC_QUESTION)
		return DNS_E_ORDER;
	if (b->tc)
		return DNS_E_SPACE;
	if (rdlen > UINT16_MAX)
		return DNS_E_RDATA_LEN;
	b->section = (uint8_t)sec;
	if ((r = put_name(b, owner, true)))
		goto fail;
	if ((size_t)(b->limit - b->len) < DNS_RR_FIXED_LEN) {
		r = DNS_E_SPACE;
		goto fail;
	}
	fixed = b->buf + b->len;
	dns_put16(fixed, type);
	dns_put16(fixed + 2, rclass);
	dns_put32(fixed + 4, ttl);
	b->len = (uint16_t)(b->len + DNS_RR_FIXED_LEN);
	if (dns_type_compressible(type)) {
		uint16_t start = b->len;
		if ((r = put_rdata_names(b, type, rdata, rdlen)))
			goto fail;
		dns_put16(fixed + 8, (uint16_t)(b->len - start));
	} else {
		if ((r = dns_rdata_check_flat(dns_rdata_format(type, rclass),
					      rdata, rdlen)) ||
		    (r = put_bytes(b, rdata, rdlen)))
			goto fail;
		dns_put16(fixed + 8, (uint16_t)rdlen);
	}
	b->count[sec]++;
	return 0;
fail:
	b->len = len0;
	b->ncomp = ncomp0;
	if (r == DNS_E_SPACE && sec != DNS_SEC_ADDITIONAL)
		b->tc = true;
	return r;
}

int dns_builder_opt(struct dns_builder *b, uint16_t udp_size,
		    uint8_t ext_rcode, uint16_t edns_flags,
		    const uint8_t *opts, size_t optlen)
{
	uint8_t *w;
	int r;

	if (b->section > DNS_SEC_ADDITIONAL)
		return DNS_E_ORDER;
	if (optlen > UINT16_MAX - 11)
		return DNS_E_OPT_LEN;
	if ((r = dns_rdata_check_flat(DNS_T_OPT, opts, optlen)))
		return r;
	b->limit = b->cap;
	if (11 + optlen > (size_t)(b->cap - b->len))
		return DNS_E_SPACE;
	b->section = DNS_SEC_ADDITIONAL;
	w = b->buf + b->len;
	w[0] = 0;
	dns_put16(w + 1, DNS_T_OPT);
	dns_put16(w + 3, udp_size);
	dns_put32(w + 5, (uint32_t)ext_rcode << 24 | edns_flags);
	dns_put16(w + 9, (uint16_t)optlen);
	if (optlen)
		memcpy(w + 11, opts, optlen);
	b->len = (uint16_t)(b->len + 11 + optlen);
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
