/*
 * control/hints.h: the root hints file (IANA's named.root format: master
 * file lines "OWNER [TTL] [IN] TYPE RDATA" with ';' comments; NS records
 * at the root, A and AAAA records of their names). The result is the root
 * referral the delegation table starts from. Control process, at start and
 * on reload; may block (reads a file).
 */
#ifndef BW_CONTROL_HINTS_H
#define BW_CONTROL_HINTS_H

#include <stddef.h>

#include "control/deleg.h"
#include "control/err.h"

/*
 * Reads the hints from path into *r (r->zone is the root). Errors go to
 * err as "FILE:LINE: what" and make it return CTL_E_HINTS (CTL_E_NOMEM
 * when memory ran out): unreadable file, a line
 * that does not parse, a type other than NS/A/AAAA, an NS record not at
 * the root, an address record for a name no NS names, more NS names than
 * CTL_DELEG_NS_MAX, no NS at all, or an NS name without any address.
 */
int ctl_hints_load(const char *path, struct ctl_referral *r, char *err,
		   size_t errlen);

/* The same from a buffer; name is used in messages. */
int ctl_hints_parse(const char *text, size_t len, const char *name,
		    struct ctl_referral *r, char *err, size_t errlen);

#endif
