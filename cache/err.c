/*
 * cache/err.c: texts of the cache/ error codes (see err.h). Any thread.
 */
#include "err.h"

#include "dns/err.h"

const char *cache_strerror(int err)
{
	switch (err) {
#define CACHE_ERR_CASE(name, value, text) case name: return text;
	CACHE_ERRORS(CACHE_ERR_CASE)
#undef CACHE_ERR_CASE
	default:
		return dns_strerror(err);
	}
}
