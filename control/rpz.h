/*
 * control/rpz.h: the Response Policy Zone reader (draft-vixie-dnsop-dns-rpz):
 * a master file, as a feed or an operator writes it, turned into the source
 * form of one policy zone (answer/policy.h, struct policy_zone). The file is
 * read by Knot DNS's zone scanner (libzscanner), so every presentation form
 * a zone file may use is understood; owner names are read relative to the
 * configured origin and give the trigger (QNAME, rpz-client-ip, rpz-ip,
 * rpz-nsdname, rpz-nsip), the records of one owner give its action (a
 * CNAME to ".", "*.", rpz-passthru., rpz-drop., rpz-tcp-only., or local
 * data: A, AAAA, TXT, one CNAME). A feed is large and made by programs:
 * one wrong record is rejected and reported with its line, the rest loads.
 *
 * Control process, may block (reads a file). Not thread-safe per zone; two
 * zones may be read in two threads.
 */
#ifndef BW_CONTROL_RPZ_H
#define BW_CONTROL_RPZ_H

#include <stddef.h>
#include <stdint.h>

#include "answer/policy.h"

/* Called for each rejected record with one line "FILE:LINE: what" (or
 * "FILE: what" when no line applies). The line is the caller's to copy
 * during the call only. */
typedef void (*ctl_rpz_report_fn)(void *arg, const char *line);

/*
 * Reads the RPZ zone at path (or the text buffer of len octets, for
 * ctl_rpz_parse; name is the file's name in messages) whose origin is
 * `origin` (wire, from the configuration; the caller keeps it) into z
 * (policy_zone_init()ed by the caller, who owns it; a zone it held is
 * freed first; on success it holds the zone, z->origin lower-cased).
 *
 * Records that are wrong are rejected one by one: reported through report
 * (may be NULL; arg is passed on), counted in z->counts.rejected, and the
 * rest of the zone still loads. The zone fails as a whole -- return
 * CTL_E_POLICY with err set to "FILE[:LINE]: what", z left empty -- when
 * the file cannot be read, the scanner hits a fatal error, the file has an
 * $INCLUDE, or there is no SOA at the origin; CTL_E_NOMEM (err set too)
 * when memory runs out; CTL_E_NAME when origin is not a wire name;
 * CTL_E_SYSTEM when getrandom() gives no seed for the owner table.
 *
 * What is rejected, each with its line: a class other than IN, an owner
 * outside the origin, a type other than SOA and NS at the origin (a second,
 * different SOA too), a type other than CNAME, A, AAAA, TXT at a trigger,
 * malformed RDATA, an owner that is no valid trigger (an address not in
 * the draft's PLEN.reversed form, host bits set, an unknown rpz- label, a
 * "*" label not leftmost), a line the scanner cannot parse; and, the
 * owner's records together, reported once at the line that made the
 * conflict: a CNAME with other data or two different CNAMEs at one owner.
 * An exact duplicate (owner, type, RDATA) is kept once, not rejected.
 *
 * Counts: records is every record read (SOA, NS, rejected ones and lines
 * the scanner could not parse included); rejected is every record
 * rejected (an owner rejected together adds all its records, reported on
 * one line); rules and by_trigger[] the rules kept.
 *
 * Rules come out in the order of their owners' first records; a rule's
 * line is the line where its owner's first record ends (a record in
 * parentheses over several lines: its last).
 */
int ctl_rpz_load(struct policy_zone *z, const char *path, const uint8_t *origin,
		 ctl_rpz_report_fn report, void *arg, char *err, size_t errlen);
int ctl_rpz_parse(struct policy_zone *z, const char *text, size_t len, const char *name,
		  const uint8_t *origin, ctl_rpz_report_fn report, void *arg,
		  char *err, size_t errlen);

/*
 * The same for a zone transferred from its primary (control/xfr.h): the
 * same checks, each rejected record reported as "NAME, record N: OWNER:
 * what" (N counts the set's records from 1; name says which zone and
 * version, e.g. "rpz.example serial 7").
 */
struct ctl_xfr_set;
int ctl_rpz_from_set(struct policy_zone *z, const struct ctl_xfr_set *set, const char *name,
		     const uint8_t *origin, ctl_rpz_report_fn report, void *arg, char *err,
		     size_t errlen);

#endif
