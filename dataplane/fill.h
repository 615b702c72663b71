/*
 * dataplane/fill.h: what the cache writer does with a fill record from
 * control, apart from mbufs and rings: check the record, rebuild the
 * client's query from it, insert the answer into the cache, and write the
 * client's DNS answer. Fill records come from another process: every
 * field is checked before it is used. No EAL, no I/O; the cache writer's
 * thread (and the fuzz target fuzz_fill).
 */
#ifndef BW_DATAPLANE_FILL_H
#define BW_DATAPLANE_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/shm.h"

struct cache;
struct dns_query;

/* The client's query as rebuilt from a miss or fill record: header,
 * question, OPT when the client sent one. */
#define DP_QUERY_BUILD_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11)

/* 0 when f's header and fields are sound for a dataplane with n_workers
 * workers (the port id is the caller's to check), else -1. */
int dp_fill_check(const struct shm_fill *f, unsigned n_workers);

/* Rebuilds the client's query from c into qbuf (DP_QUERY_BUILD_MAX
 * octets) and parses it into q. 0, or -1 when c does not make a query. */
int dp_client_query(const struct shm_client *c, uint8_t *qbuf, struct dns_query *q);

/* Inserts f's message into the cache when f asks (SHM_FILL_CACHE, not
 * stale or truncated): cache_insert()'s result, or 1 when none was tried. */
int dp_fill_insert(struct cache *c, const struct shm_fill *f, uint32_t now);

/*
 * The DNS answer to q (the client's query, from dp_client_query()) into
 * out, cap octets (at least DNS_REPLY_EMPTY_MAX): from the cache entry when
 * there is a fresh one (or a stale one after a SERVFAIL, RFC 8767), else
 * from f's message; TC=1 without records when control said the message
 * was too large. Returns the length.
 */
size_t dp_fill_answer(struct cache *c, const struct shm_fill *f, const struct dns_query *q,
		      uint32_t now, uint16_t edns_size, uint8_t *out, size_t cap);

#endif
