/*
 * dns/rdata.c: RDATA checking and decompression by type. One walker serves
 * both: it steps through the fields of a type's format, checking each against
 * the RDATA's bounds, and copies them (names decompressed) when given an
 * output buffer. Any thread; no I/O, no allocation.
 */
#include "err.h"
#include "msg.h"
#include "name.h"

struct rwalk {
	const uint8_t *msg;
	size_t p;	/* next octet to read */
	size_t end;	/* end of the RDATA */
	bool flat;	/* RDATA outside a message: no pointers at all */
	bool lower;	/* canonical form: names written lower-cased */
	uint8_t *out;	/* NULL: check only */
	size_t outsize;
	size_t n;	/* octets written */
};

static int w_emit(struct rwalk *w, const uint8_t *src, size_t len)
{
	if (!w->out)
		return 0;
	if (len > w->outsize - w->n)
		return DNS_E_SPACE;
	memcpy(w->out + w->n, src, len);
	w->n += len;
	return 0;
}

static int w_fixed(struct rwalk *w, size_t len)
{
	if (len > w->end - w->p)
		return DNS_E_RDATA_LEN;
	int r = w_emit(w, w->msg + w->p, len);
	w->p += len;
	return r;
}

static int w_rest(struct rwalk *w, size_t min)
{
	return w_fixed(w, w->end - w->p < min ? min : w->end - w->p);
}

static int w_name(struct rwalk *w, bool compressible)
{
	uint8_t name[DNS_NAME_MAX];
	size_t at = w->n;
	int len, r;

	if (compressible && !w->flat) {
		size_t q = w->p;
		/* Bounded by the RDATA end: pointers only ever go backwards. */
		len = dns_name_parse(w->msg, w->end, &q, name);
		if (len < 0)
			return len == DNS_E_TRUNC ? DNS_E_RDATA_LEN : len;
		w->p = q;
		r = w_emit(w, name, (size_t)len);
	} else {
		len = dns_name_check(w->msg + w->p, w->end - w->p);
		if (len < 0)
			return len == DNS_E_TRUNC ? DNS_E_RDATA_LEN : len;
		r = w_fixed(w, (size_t)len);
	}
	/* Length octets are at most 63, below 'A': the table keeps them. */
	if (!r && w->lower && w->out)
		for (size_t i = at; i < w->n; i++)
			w->out[i] = dns_lower[w->out[i]];
	return r;
}

static int w_string(struct rwalk *w)
{
	if (w->p == w->end)
		return DNS_E_RDATA_LEN;
	size_t len = w->msg[w->p];
	if (len + 1 > w->end - w->p)
		return DNS_E_TXT_STRING;
	return w_fixed(w, len + 1);
}

static int w_strings(struct rwalk *w)
{
	int r;

	do {
		if ((r = w_string(w)))
			return r;
	} while (w->p < w->end);
	return 0;
}

static int w_bitmap(struct rwalk *w)
{
	int last = -1;

	while (w->p < w->end) {
		if (w->end - w->p < 2)
			return DNS_E_BITMAP;
		int window = w->msg[w->p];
		size_t len = w->msg[w->p + 1];
		/* RFC 4034 4.1.2: no empty windows, no trailing zero octets. */
		if (window <= last || len < 1 || len > 32 ||
		    len + 2 > w->end - w->p || w->msg[w->p + 1 + len] == 0)
			return DNS_E_BITMAP;
		last = window;
		int r = w_fixed(w, len + 2);
		if (r)
			return r;
	}
	return 0;
}

static size_t ds_digest_len(uint8_t digest_type)
{
	switch (digest_type) {
	case DNS_DS_SHA1:
		return 20;
	case DNS_DS_SHA256:
	case DNS_DS_GOST:
		return 32;
	case DNS_DS_SHA384:
		return 48;
	default:
		return 0;
	}
}

static int w_ds(struct rwalk *w)
{
	if (w->end - w->p < 5)
		return DNS_E_RDATA_LEN;
	size_t want = ds_digest_len(w->msg[w->p + 3]);
	if (want && w->end - w->p - 4 != want)
		return DNS_E_DS_DIGEST;
	return w_fixed(w, w->end - w->p);
}

static int w_nsec3(struct rwalk *w)
{
	size_t avail = w->end - w->p;

	if (avail < 5)
		return DNS_E_RDATA_LEN;
	uint8_t alg = w->msg[w->p];
	size_t salt = w->msg[w->p + 4];
	if (5 + salt + 1 > avail)
		return DNS_E_NSEC3;
	size_t hash = w->msg[w->p + 5 + salt];
	if (hash == 0 || 6 + salt + hash > avail ||
	    (alg == DNS_NSEC3_SHA1 && hash != 20))
		return DNS_E_NSEC3;
	int r = w_fixed(w, 6 + salt + hash);
	return r ? r : w_bitmap(w);
}

static int w_nsec3param(struct rwalk *w)
{
	if (w->end - w->p < 5)
		return DNS_E_RDATA_LEN;
	size_t salt = w->msg[w->p + 4];
	if (5 + salt != w->end - w->p)
		return DNS_E_NSEC3;
	return w_fixed(w, 5 + salt);
}

static int w_options(struct rwalk *w)
{
	while (w->p < w->end) {
		if (w->end - w->p < 4)
			return DNS_E_OPT_LEN;
		uint16_t code = dns_get16(w->msg + w->p);
		size_t len = dns_get16(w->msg + w->p + 2);
		if (len > w->end - w->p - 4)
			return DNS_E_OPT_LEN;
		if (code == DNS_EO_COOKIE && len != DNS_COOKIE_CLIENT_LEN &&
		    (len < DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MIN ||
		     len > DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX))
			return DNS_E_COOKIE_LEN;
		int r = w_fixed(w, 4 + len);
		if (r)
			return r;
	}
	return 0;
}

static int walk(struct rwalk *w, uint16_t type)
{
	int r;

	switch (type) {
	case DNS_T_A:
		return w_fixed(w, 4);
	case DNS_T_AAAA:
		return w_fixed(w, 16);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_MD:
	case DNS_T_MF:
	case DNS_T_MB:
	case DNS_T_MG:
	case DNS_T_MR:
		return w_name(w, true);
	case DNS_T_MINFO:
	case DNS_T_RP:
		return (r = w_name(w, true)) ? r : w_name(w, true);
	case DNS_T_AFSDB:
	case DNS_T_RT:
		return (r = w_fixed(w, 2)) ? r : w_name(w, true);
	case DNS_T_PX:
		if ((r = w_fixed(w, 2)) || (r = w_name(w, true)))
			return r;
		return w_name(w, true);
	case DNS_T_NAPTR:
		if ((r = w_fixed(w, 4)) || (r = w_string(w)) ||
		    (r = w_string(w)) || (r = w_string(w)))
			return r;
		return w_name(w, true);
	case DNS_T_DNAME:
		return w_name(w, false);
	case DNS_T_SOA:
		if ((r = w_name(w, true)) || (r = w_name(w, true)))
			return r;
		return w_fixed(w, 20);
	case DNS_T_MX:
		return (r = w_fixed(w, 2)) ? r : w_name(w, true);
	case DNS_T_SRV:
		return (r = w_fixed(w, 6)) ? r : w_name(w, true);
	case DNS_T_TXT:
		return w_strings(w);
	case DNS_T_DS:
		return w_ds(w);
	case DNS_T_DNSKEY:
		return (r = w_fixed(w, 4)) ? r : w_rest(w, 1);
	case DNS_T_RRSIG:
		if ((r = w_fixed(w, 18)) || (r = w_name(w, false)))
			return r;
		return w_rest(w, 1);
	case DNS_T_NSEC:
		return (r = w_name(w, false)) ? r : w_bitmap(w);
	case DNS_T_NSEC3:
		return w_nsec3(w);
	case DNS_T_NSEC3PARAM:
		return w_nsec3param(w);
	case DNS_T_OPT:
		return w_options(w);
	default:
		return w_rest(w, 0);
	}
}

static int run(const uint8_t *msg, size_t msglen, uint16_t type, size_t off,
	       size_t rdlen, uint8_t *out, size_t outsize, bool flat, bool lower)
{
	struct rwalk w = {
		.msg = msg, .p = off, .end = off + rdlen, .flat = flat,
		.lower = lower, .out = out, .outsize = outsize,
	};

	if (off > msglen || rdlen > msglen - off)
		return DNS_E_RDLEN;
	int r = walk(&w, type);
	if (r)
		return r;
	if (w.p != w.end)
		return DNS_E_RDATA_LEN;
	return (int)w.n;
}

int dns_rdata_check(const uint8_t *msg, size_t msglen, uint16_t type,
		    size_t off, size_t rdlen)
{
	int r = run(msg, msglen, type, off, rdlen, NULL, 0, false, false);

	return r < 0 ? r : 0;
}

int dns_rdata_check_flat(uint16_t type, const uint8_t *rdata, size_t rdlen)
{
	int r = run(rdata, rdlen, type, 0, rdlen, NULL, 0, true, false);

	return r < 0 ? r : 0;
}

int dns_rdata_unpack(const uint8_t *msg, size_t msglen, uint16_t type,
		     size_t off, size_t rdlen, uint8_t *out, size_t outsize)
{
	if (!out)
		return DNS_E_INVAL;
	return run(msg, msglen, type, off, rdlen, out, outsize, false, false);
}

/*
 * RFC 4034 6.2 item 3 as RFC 6840 5.1 corrected it: the types whose
 * embedded names are lower-cased for signing. NSEC is not among them (its
 * next name is signed as the zone wrote it), HINFO has no name.
 */
static bool canonical_lower(uint16_t type)
{
	switch (type) {
	case DNS_T_NS:
	case DNS_T_MD:
	case DNS_T_MF:
	case DNS_T_CNAME:
	case DNS_T_SOA:
	case DNS_T_MB:
	case DNS_T_MG:
	case DNS_T_MR:
	case DNS_T_PTR:
	case DNS_T_MINFO:
	case DNS_T_MX:
	case DNS_T_RP:
	case DNS_T_AFSDB:
	case DNS_T_RT:
	case DNS_T_PX:
	case DNS_T_NAPTR:
	case DNS_T_SRV:
	case DNS_T_DNAME:
	case DNS_T_RRSIG:
		return true;
	default:
		return false;
	}
}

int dns_rdata_canonical(uint16_t type, const uint8_t *rdata, size_t rdlen,
			uint8_t *out, size_t outsize)
{
	if (!out)
		return DNS_E_INVAL;
	return run(rdata, rdlen, type, 0, rdlen, out, outsize, true,
		   canonical_lower(type));
}

bool dns_type_compressible(uint16_t type)
{
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_SOA:
	case DNS_T_PTR:
	case DNS_T_MX:
		return true;
	default:
		return false;
	}
}
