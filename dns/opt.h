/*
 * dns/opt.h: the OPT record our answers carry (RFC 6891: root owner, our
 * UDP size, the client's DO echoed, no options), written by the cache's
 * answer writer and by answer/'s. No I/O, no allocation: worker hot path
 * included.
 */
#ifndef BW_DNS_OPT_H
#define BW_DNS_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

#define DNS_OPT_LEN 11	/* our OPT: root owner, no options */

/* Our OPT record (root owner, edns_size, q's DO, no options) at w. */
static inline size_t dns_opt_put(uint8_t *w, uint16_t edns_size, uint16_t edns_flags)
{
	w[0] = 0;
	dns_put16(w + 1, DNS_T_OPT);
	dns_put16(w + 3, edns_size);
	dns_put32(w + 5, edns_flags & DNS_EDNS_F_DO);
	dns_put16(w + 9, 0);
	return DNS_OPT_LEN;
}

#define DNS_EDE_LEN 6	    /* an Extended DNS Error option, info-code alone */
#define DNS_EDE_NONE 0xffff /* no info-code (a private-use code, RFC 8914 5.2,
			       that we never give) */
/* The info-codes (RFC 8914 4) the front ends and the iterator give on
 * their own (the validator's are in control/val.h, policy's in conf/). */
#define DNS_EDE_OTHER 0
#define DNS_EDE_STALE_ANSWER 3
#define DNS_EDE_CACHED_ERROR 13		/* a remembered failure (RFC 9520) */
#define DNS_EDE_NOT_READY 14		/* the resolving half is not there */
#define DNS_EDE_PROHIBITED 18		/* access control */
#define DNS_EDE_NOT_SUPPORTED 21	/* a class, a zone transfer */
#define DNS_EDE_NO_REACHABLE_AUTHORITY 22

/* An Extended DNS Error option (RFC 8914) with info-code code and no text
 * at w, the end of the OPT record at opt (as dns_opt_put() wrote it, with
 * any options after): its RDLENGTH grows by the option's. Returns
 * DNS_EDE_LEN. */
static inline size_t dns_opt_put_ede(uint8_t *opt, uint8_t *w, uint16_t code)
{
	dns_put16(w, DNS_EO_EDE);
	dns_put16(w + 2, 2);
	dns_put16(w + 4, code);
	dns_put16(opt + 9, (uint16_t)(dns_get16(opt + 9) + DNS_EDE_LEN));
	return DNS_EDE_LEN;
}

/* The info-code of the first Extended DNS Error option among an OPT's
 * options (len octets at opts), or DNS_EDE_NONE. */
static inline uint16_t dns_opt_find_ede(const uint8_t *opts, size_t len)
{
	while (len >= 4) {
		uint16_t code = dns_get16(opts), olen = dns_get16(opts + 2);
		if (len - 4 < olen)
			break;
		if (code == DNS_EO_EDE && olen >= 2)
			return dns_get16(opts + 4);
		opts += 4u + olen;
		len -= 4u + olen;
	}
	return DNS_EDE_NONE;
}

#endif
