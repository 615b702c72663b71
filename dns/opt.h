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

#endif
