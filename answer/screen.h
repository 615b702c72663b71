/*
 * answer/screen.h: the rules a client's message meets before any lookup,
 * one list for both front ends (the dataplane's workers and control's
 * kernel sockets), in this order:
 *   1. shorter than a DNS header: dropped (nothing to answer with);
 *   2. QR=1: dropped (a response sent to us; answering it would loop or
 *      reflect);
 *   3. access control: drop, or REFUSED (EDE 18, Prohibited);
 *   4. the opcode is not QUERY: NOTIMP (wins over a broken body);
 *   5. the body does not parse: FORMERR, the header echoed alone;
 *   6. an EDNS version other than 0: BADVERS;
 *   7. a class other than IN, AXFR, IXFR, or OPT or TSIG asked as a type:
 *      REFUSED (EDE 21, Not Supported);
 * and otherwise the query goes on to the cache. Each outcome is a slot
 * that names its counter; a front end keeps one counter per slot (the
 * dataplane's are in shm.h's worker counters, control's in server.h).
 * What only one front end checks stays there: the dataplane's frame and
 * client-source checks before, control's length cap before.
 *
 * Any thread; no allocation, no I/O (worker hot path).
 */
#ifndef BW_ANSWER_SCREEN_H
#define BW_ANSWER_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "dns/query.h"

struct answer_acl;

#define ANSWER_SLOTS(X)							\
	X(ANSWER_GO, "a query to look up")				\
	X(ANSWER_SHORT, "dropped: shorter than a DNS header")		\
	X(ANSWER_QR, "dropped: a response (QR=1)")			\
	X(ANSWER_ACL_DROP, "dropped by access control")			\
	X(ANSWER_REFUSED, "REFUSED: access control, class, zone transfer") \
	X(ANSWER_NOTIMP, "NOTIMP: an opcode other than QUERY")		\
	X(ANSWER_FORMERR, "FORMERR: the question does not parse")	\
	X(ANSWER_BADVERS, "BADVERS: an EDNS version other than 0")

enum answer_slot {
#define ANSWER_SLOT_ENUM(name, text) name,
	ANSWER_SLOTS(ANSWER_SLOT_ENUM)
#undef ANSWER_SLOT_ENUM
	ANSWER_NSLOTS
};

/* The outcome of the screen. */
struct answer_screen {
	enum answer_slot slot;
	int rcode;			/* the answer's rcode: slots from REFUSED on */
	uint16_t ede;			/* its Extended DNS Error (RFC 8914), or
					   DNS_EDE_NONE: PROHIBITED for access
					   control, NOT_SUPPORTED for a class or a
					   zone transfer */
	const struct dns_query *q;	/* the parsed query, or NULL (it did not
					   parse, or was dropped before parsing) */
};

/* Whether the slot is answered (an rcode without records) rather than
 * dropped or looked up. */
static inline int answer_slot_replies(enum answer_slot s)
{
	return s >= ANSWER_REFUSED;
}

/*
 * Screens the client's message wire (len octets) from the client at addr
 * (v6: 16 octets, else 4) under acl; q is filled by dns_query_parse() and
 * *out->q points to it when it parsed.
 */
void answer_screen(struct answer_screen *out, const struct answer_acl *acl, int v6,
		   const uint8_t *addr, const uint8_t *wire, size_t len, struct dns_query *q);

/* Static text for a slot (never NULL). */
const char *answer_slot_text(enum answer_slot s);

#endif
