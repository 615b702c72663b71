/*
 * dns/print.h: presentation format for logs, tools and test failure
 * messages, in dig's style. Control process, tools and tests; not for the
 * worker hot path (uses snprintf). Every function writes a NUL-terminated
 * string into the caller's buffer and returns its length, or DNS_E_SPACE
 * with the buffer holding as much as fitted.
 */
#ifndef BW_DNS_PRINT_H
#define BW_DNS_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* Mnemonics; unknown values print as TYPE123, CLASS7, RCODE99 (RFC 3597). */
int dns_type_to_str(uint16_t type, char *buf, size_t size);
int dns_class_to_str(uint16_t rclass, char *buf, size_t size);
const char *dns_rcode_str(uint16_t rcode);   /* NULL for unknown */
const char *dns_opcode_str(uint8_t opcode);  /* NULL for unknown */

/* "AAAA" or "TYPE28" to 28; DNS_E_SYNTAX for anything else. */
int dns_type_from_str(const char *s);

/* Unpacked RDATA of type (see dns_rdata_unpack) in presentation format. */
int dns_rdata_to_str(uint16_t type, const uint8_t *rdata, size_t rdlen,
		     char *buf, size_t size);

/* One record of a parsed message: "owner TTL CLASS TYPE RDATA". */
int dns_rr_to_str(const struct dns_msg *m, const struct dns_rr *rr, char *buf,
		  size_t size);

/* A whole parsed message, header and sections, like dig's output. */
int dns_msg_to_str(const struct dns_msg *m, char *buf, size_t size);

#endif
