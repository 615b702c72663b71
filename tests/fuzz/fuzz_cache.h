/*
 * tests/fuzz/fuzz_cache.h: what the fuzz targets that drive a message cache
 * share: check(), which aborts with the target's name (FUZZ_NAME, defined
 * before this header) and the property that failed, and the cache itself,
 * made once in LLVMFuzzerInitialize (this thread a QSBR reader, a 1 MiB
 * budget) and freed at exit so that the exit-time leak check runs clean.
 * Entries an input replaced wait for call_rcu, which the leak checker
 * would take for leaks: these targets run with -detect_leaks=0
 * (TARGET.options).
 */
#ifndef BW_TESTS_FUZZ_FUZZ_CACHE_H
#define BW_TESTS_FUZZ_FUZZ_CACHE_H

#define _LGPL_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "cache/msgcache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cache *cache;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, FUZZ_NAME ": property failed: %s\n", what);
		abort();
	}
}

static void cache_done(void)
{
	cache_free(cache);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct cache_config cc;

	urcu_qsbr_register_thread();
	cache_config_default(&cc);
	cc.max_bytes = 1 << 20;
	cache = cache_new(&cc);
	if (!cache)
		return 1;
	atexit(cache_done);
	return 0;
}

#endif
