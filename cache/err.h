/*
 * cache/err.h: error codes of the cache/ library, one list for the message
 * cache and the NSEC trees. Functions return 0 (or a length or count) on
 * success and a negative code on failure; cache codes sit below -2000
 * (dns/ uses -1001..-1999, whose codes cache functions may pass through).
 * Any thread.
 */
#ifndef BW_CACHE_ERR_H
#define BW_CACHE_ERR_H

#define CACHE_ERRORS(X)                                                        \
	X(CACHE_E_NOMEM, -2001, "allocation failed or budget too small")       \
	X(CACHE_E_UNCACHEABLE, -2002, "not cacheable (TTL 0, referral, SERVFAIL, no SOA)") \
	X(CACHE_E_MSG, -2003, "message does not parse or has an odd shape")    \
	X(CACHE_E_RANK, -2004, "a fresher entry of higher rank stays")         \
	X(CACHE_E_BUSY, -2005, "a flush is in progress")                        \
	X(CACHE_E_NSEC_NOMEM, -2101, "NSEC store: allocation failed")          \
	X(CACHE_E_NSEC_ZONE, -2102, "NSEC owner or next outside the zone, or bad wrap") \
	X(CACHE_E_NSEC_ALG, -2103, "NSEC3 hash algorithm other than SHA-1")    \
	X(CACHE_E_NSEC_FLAGS, -2104, "NSEC3 flags other than opt-out")         \
	X(CACHE_E_NSEC_ITER, -2105, "NSEC3 iterations above the limit")        \
	X(CACHE_E_NSEC_FULL, -2106, "NSEC store: zone limit reached")          \
	X(CACHE_E_NSEC_NOZONE, -2107, "NSEC store: no such zone")            \
	X(CACHE_E_NSEC_BUDGET, -2108, "NSEC store: byte budget too small for the record") \
	X(CACHE_E_NSEC_BLOB, -2109, "NSEC store: blob is not whole records of SOA, NSEC, NSEC3, RRSIG")

enum cache_err {
#define CACHE_ERR_ENUM(name, value, text) name = value,
	CACHE_ERRORS(CACHE_ERR_ENUM)
#undef CACHE_ERR_ENUM
};

/* Static text for a cache or dns/ code (never NULL). */
const char *cache_strerror(int err);

#endif
