/*
 * cache/tsan.h: the RCU contract spelt out for ThreadSanitizer. TSan cannot
 * see liburcu's grace periods (its atomics are inline assembly), so in TSan
 * builds every reader quiescent state (cache_reader_quiescent(),
 * cache_nsec_reader_quiescent()) releases cache_qsbr_token, and every
 * call_rcu callback that frees memory acquires it, and the object it frees,
 * first. One token for both stores: a worker that reads both announces one
 * quiescent state for both. Elsewhere the macros compile to nothing.
 */
#ifndef BW_CACHE_TSAN_H
#define BW_CACHE_TSAN_H

#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define TSAN_ACQUIRE(p) ((void)(p))
#define TSAN_RELEASE(p) ((void)(p))
#endif

/* Defined in mem.c, which both stores link. */
extern int cache_qsbr_token;

#endif
