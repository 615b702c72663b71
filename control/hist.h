/*
 * control/hist.h: a latency histogram (upstream RTT, resolution time) with
 * fixed bounds from 100 us to 10 s, kept by one thread (each control
 * thread its own; control/pool.c adds them up) and printed as
 * stat lines that control/metrics.c renders as a Prometheus histogram:
 *   stat GROUP.NAME_us_bucket[BOUND] N   (cumulative, BOUND in us, +Inf last)
 *   stat GROUP.NAME_us_sum N             (microseconds)
 *   stat GROUP.NAME_us_count N
 * Control process, the thread that keeps it.
 */
#ifndef BW_CONTROL_HIST_H
#define BW_CONTROL_HIST_H

#include <stdint.h>
#include <stdio.h>

#define CTL_HIST_BOUNDS 16
static const uint32_t ctl_hist_bound_us[CTL_HIST_BOUNDS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

struct ctl_hist {
	uint64_t n[CTL_HIST_BOUNDS + 1];	/* per bucket, not cumulative; the last: above */
	uint64_t sum_us;
	uint64_t count;
};

static inline void ctl_hist_add(struct ctl_hist *h, uint64_t us)
{
	unsigned i = 0;

	while (i < CTL_HIST_BOUNDS && us > ctl_hist_bound_us[i])
		i++;
	h->n[i]++;
	h->sum_us += us;
	h->count++;
}

/* The stat lines of h under key ("upstream.rtt": upstream.rtt_us_...). */
static inline void ctl_hist_print(const struct ctl_hist *h, const char *key, FILE *f)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < CTL_HIST_BOUNDS; i++) {
		cum += h->n[i];
		fprintf(f, "stat %s_us_bucket[%u] %llu\n", key, ctl_hist_bound_us[i],
			(unsigned long long)cum);
	}
	fprintf(f, "stat %s_us_bucket[+Inf] %llu\nstat %s_us_sum %llu\nstat %s_us_count %llu\n",
		key, (unsigned long long)h->count, key, (unsigned long long)h->sum_us, key,
		(unsigned long long)h->count);
}

#endif
