/*
 * control/cpus.h: control's threads kept off the CPUs the dataplane's
 * workers run on. A worker polls its CPU all the time, and a control
 * thread the kernel puts there takes its turns from the worker, so that
 * cache hits wait while misses are resolved (bench/memif-bench's mix:
 * control on the worker's CPU 8 % of the time).
 */
#ifndef BW_CONTROL_CPUS_H
#define BW_CONTROL_CPUS_H

#include <stdint.h>

/*
 * Every thread of control (the resolving threads, EAL's, libfstrm's) to
 * the CPUs it was started with, less the workers' (bit i of workers[i /
 * 64], words words: CPU i); said in the log. Kept as they are, with a
 * warning, when no other CPU is allowed or the affinity cannot be read.
 * At each attach.
 */
void ctl_cpus_keep_off(const uint64_t *workers, unsigned words);

/* Gives the calling thread back the CPUs ctl_cpus_keep_off() took, on top
 * of whatever was set since: before control executes itself again (the
 * next dataplane's workers may be elsewhere). */
void ctl_cpus_restore(void);

#endif
