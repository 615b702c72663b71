/*
 * answer/negative.h: aggressive negative answers (RFC 8198) from the
 * NSEC/NSEC3 store (cache/nsec.h). A worker that misses the message cache
 * asks the store whether its validated ranges prove NXDOMAIN or NODATA and,
 * if so, answers from the proof's blobs instead of asking control.
 *
 * The blob format of the dataplane's store (what its writer inserts): an
 * RRset (NSEC, NSEC3 or SOA) and its RRSIGs, each record in uncompressed
 * wire form (owner, type, class, TTL, RDLENGTH, RDATA), back to back. The
 * store checks each blob when it goes in (cache_nsec_config.record_blobs,
 * which answer_nsec_config() sets), so an answer copies it unchecked.
 *
 * Worker lcore, hot path: no allocation, no I/O.
 */
#ifndef BW_ANSWER_NEGATIVE_H
#define BW_ANSWER_NEGATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache_nsec_proof;
struct dns_query;

/*
 * The answer to q from proof (verdict CACHE_NSEC_NXDOMAIN or
 * CACHE_NSEC_NODATA) into out (cap octets; unless stream (TCP), the
 * client's UDP size applies too;
 * out may be q's own buffer): q's id, opcode, RD, CD and question; QR, RA,
 * the rcode; AD when the client set DO or AD (only validated ranges enter
 * the store, RFC 6840 5.8); in the authority section the SOA, then, for a
 * client that set DO, the ranges and every RRSIG (others get the SOA
 * alone, RFC 4035 3.2.1); TTLs are the time left of the proof
 * (proof->expire_at - now), never more than a record's own; our OPT
 * (edns_size) when q had one. When the records do not fit, TC=1 and none
 * are sent. With a packed SOA (proof->soa_packed_len), the proof's zone
 * must end q's name on a label boundary, as every proof of a lookup of
 * q's name does: the SOA's names point to it there. Returns the length,
 * or -1 when the proof is not from a store that checked its blobs
 * (record_blobs), the SOA blob has no SOA, or not even the question fits
 * (the caller then asks control).
 */
int answer_negative(const struct cache_nsec_proof *proof, int verdict,
		    const struct dns_query *q, uint32_t now, uint16_t edns_size,
		    uint8_t *out, size_t cap, bool stream);

/*
 * What a front end asks after a cache miss: whether n's validated ranges
 * prove an answer to q (class IN; n NULL: aggressive NSEC is off), and if
 * so that answer as answer_negative() writes it. memo (NULL: none) is the
 * reader's cache_nsec_memo: after an answer, memo->apex is the apex of the
 * zone that proved it (both valid until the reader's next quiescent
 * state, before which it must forget the memo). Returns the answer's
 * length, or -1 (nothing proven, or not writable: resolve). A registered
 * QSBR reader.
 */
struct cache_nsec;
struct cache_nsec_memo;
int answer_from_nsec(const struct cache_nsec *n, const struct dns_query *q, uint32_t now,
		     uint16_t edns_size, uint8_t *out, size_t cap, bool stream,
		     struct cache_nsec_memo *memo);

#endif
