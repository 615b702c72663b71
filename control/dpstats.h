/*
 * control/dpstats.h: the dataplane's counters and ports as control's stat
 * lines and status lines, read from the control block (shm/shm.h): every
 * worker's counters (summed and each), the writer's and control's own in
 * shared memory, frame drops by reason, RFC 8198 per zone, and the service
 * ports (link, DPDK's counters and xstats). dplink.c's ctl_dp_print_stats()
 * and ctl_dp_print_ports() call these. Control process, the loop's thread.
 */
#ifndef BW_CONTROL_DPSTATS_H
#define BW_CONTROL_DPSTATS_H

#include <stdio.h>

#include "shm/shm.h"

/* "stat NAME VALUE" lines of ctl's counters (n_workers workers). */
void ctl_dpstats_print(const struct shm_ctl *ctl, unsigned n_workers, FILE *f);

/* status' lines: the dataplane's pid, version, uptime, workers and their
 * lcores (n_lcores of them), and a line per port. */
void ctl_dpstats_ports(const struct shm_ctl *ctl, unsigned n_workers, const unsigned *lcores,
		       unsigned n_lcores, FILE *f);

#endif
