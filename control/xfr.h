/*
 * control/xfr.h: zone transfers of policy zones from their primary (AXFR,
 * RFC 5936; IXFR, RFC 1995) over TCP, TSIG-signed when a key is
 * configured, and the record set a transferred zone is kept as between
 * transfers (what the next IXFR applies to, and what control/rpz.h turns
 * into rules).
 *
 * Control process. ctl_xfr_fetch() blocks (up to the request's time
 * limit): it runs in policy.c's reload thread, never on the loop. The
 * parser (ctl_xfr_parse_*) does no I/O: the fuzz target and the unit tests
 * feed it messages.
 *
 * Everything a primary sends is untrusted: every message is parsed and
 * checked whole, records are kept only in the zone's class (IN), an IXFR
 * must start from the version we hold, delete only records we hold, and
 * chain its versions to the serial it announced first; anything else fails
 * the transfer as a whole and the previous version stays (the caller
 * keeps it). A transfer is bounded in records, octets and time.
 */
#ifndef BW_CONTROL_XFR_H
#define BW_CONTROL_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control/tsig.h"

/*
 * A zone's records: each one owner (lower-cased wire), type, TTL, RDLENGTH
 * (big-endian, 2, 4, 2 octets) and RDATA in canonical form (RFC 4034 6.2:
 * no compression, names in the RFC 1035 types lower-cased), back to back
 * in buf, class IN. Exactly one SOA, at the origin, when have is true.
 */
struct ctl_xfr_set {
	uint8_t *buf;
	size_t len, cap;
	size_t n;		/* records */
	uint32_t serial;	/* the SOA's */
	bool have;
};

void ctl_xfr_set_init(struct ctl_xfr_set *s);
void ctl_xfr_set_fini(struct ctl_xfr_set *s);
/* Moves src into dst (dst's records freed first); src is left empty. */
void ctl_xfr_set_move(struct ctl_xfr_set *dst, struct ctl_xfr_set *src);

struct ctl_xfr_rec {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

/* The record at *pos (start at 0): true and *r filled, *pos past it;
 * false at the end. */
bool ctl_xfr_set_next(const struct ctl_xfr_set *s, size_t *pos, struct ctl_xfr_rec *r);

/* Writes s as a master file to path (through path.tmp and a rename, so a
 * reader never sees half of it): 0, or CTL_E_SYSTEM with why. */
int ctl_xfr_set_write(const struct ctl_xfr_set *s, const char *path, char *why, size_t whylen);

/* Reads a master file written by ctl_xfr_set_write() (or any zone file of
 * the origin's without $INCLUDE) into s: 0, or CTL_E_XFR / CTL_E_NOMEM with
 * why. Records the file holds twice are kept once. */
int ctl_xfr_set_read(struct ctl_xfr_set *s, const char *path, const uint8_t *origin,
		     char *why, size_t whylen);

/* Bounds of one transfer (defaults: ctl_xfr_req_default()): the zone's
 * records and octets, and what an IXFR's deletions leave in the working
 * copy besides (as much again as max_octets). */
struct ctl_xfr_limits {
	size_t max_records;	/* 20 000 000 */
	size_t max_octets;	/* of the record set: 2 GiB */
};

/* --- the parser: the messages of one answer, in order --------------------- */

struct ctl_xfr_parse;

/*
 * Starts reading the answer to an AXFR (have NULL) or an IXFR from the
 * version in have (which must stay unchanged until the parser is freed)
 * for origin (wire). NULL: no memory.
 */
struct ctl_xfr_parse *ctl_xfr_parse_new(const uint8_t *origin, uint16_t id,
					const struct ctl_xfr_set *have,
					const struct ctl_xfr_limits *lim);
void ctl_xfr_parse_free(struct ctl_xfr_parse *p);

enum {
	CTL_XFR_MORE = 0,	/* more messages to come */
	CTL_XFR_DONE = 1,	/* a new version: ctl_xfr_parse_result() */
	CTL_XFR_CURRENT = 2,	/* IXFR: the primary has nothing newer */
};

/* One message (its TSIG, if any, already verified): CTL_XFR_MORE, DONE,
 * CURRENT, or CTL_E_XFR / CTL_E_NOMEM with why set (then the answer is
 * unusable; the parser takes no more). */
int ctl_xfr_parse_msg(struct ctl_xfr_parse *p, const uint8_t *msg, size_t len, char *why,
		      size_t whylen);

/* After DONE: the new version moved into out; ixfr: it came as
 * differences (false: whole, AXFR or an IXFR answered as one). */
void ctl_xfr_parse_result(struct ctl_xfr_parse *p, struct ctl_xfr_set *out, bool *ixfr,
			  unsigned *diffs);

/* The primary's serial (the first SOA's), after any record was read. */
uint32_t ctl_xfr_parse_serial(const struct ctl_xfr_parse *p);

/* --- the client ---------------------------------------------------------- */

struct ctl_xfr_req {
	const uint8_t *origin;			/* wire */
	struct sockaddr_storage primary;
	socklen_t primary_len;
	const struct ctl_tsig_key *key;		/* NULL: unsigned */
	uint32_t timeout_ms;			/* the whole transfer: 120 000 */
	uint32_t idle_ms;			/* between two reads: 10 000 */
	bool axfr;				/* AXFR even when have holds a version */
	struct ctl_xfr_limits lim;
};

void ctl_xfr_req_default(struct ctl_xfr_req *r);

struct ctl_xfr_info {
	bool ixfr;		/* the version came as differences */
	bool fell_back;		/* an IXFR failed and an AXFR was asked */
	unsigned messages;
	unsigned diffs;
	uint32_t serial;	/* the primary's */
	char ixfr_error[256];	/* why the IXFR failed, when fell_back */
};

/*
 * Brings the zone up to date from the primary: IXFR from have's version
 * when have holds one (and !req->axfr), else AXFR. An IXFR whose answer
 * does not hold together, or breaks off after it began, is asked again as
 * AXFR once (info->fell_back); a connection refused, a refusal or a TSIG
 * failure is not. Returns CTL_XFR_DONE with the new version in out,
 * CTL_XFR_CURRENT (out untouched; also for the whole zone sent again as we
 * hold it), or an error with why: CTL_E_TSIG, CTL_E_XFR (network, the
 * primary's rcode, the answer), CTL_E_NOMEM, CTL_E_SYSTEM.
 */
int ctl_xfr_fetch(const struct ctl_xfr_req *req, const struct ctl_xfr_set *have,
		  struct ctl_xfr_set *out, struct ctl_xfr_info *info, char *why,
		  size_t whylen);

/* RFC 1982: a is newer than b. */
static inline bool ctl_serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

#endif
