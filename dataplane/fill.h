/*
 * dataplane/fill.h: what the cache writer does with a fill record from
 * control once shm_fill_check() has passed it, apart from mbufs and rings:
 * insert the answer into the cache, and write the client's DNS answer. No
 * EAL, no I/O; the cache writer's thread (and the fuzz target fuzz_fill).
 */
#ifndef BW_DATAPLANE_FILL_H
#define BW_DATAPLANE_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/shm.h"

struct cache;
struct dns_query;

/* Inserts f's message into the cache when f asks (SHM_FILL_CACHE, not
 * stale or truncated): cache_insert()'s result, or 1 when none was tried. */
int dp_fill_insert(struct cache *c, const struct shm_fill *f, uint32_t now);

/*
 * The DNS answer to q (the client's query, from shm_client_query()) into
 * out, cap octets (at least DNS_REPLY_EMPTY_MAX): from the cache entry when
 * there is a fresh one (or a stale one after a SERVFAIL, RFC 8767), else
 * from f's message; TC=1 without records when control said the message
 * was too large. Returns the length.
 */
size_t dp_fill_answer(struct cache *c, const struct shm_fill *f, const struct dns_query *q,
		      uint32_t now, uint16_t edns_size, uint8_t *out, size_t cap);

#endif
