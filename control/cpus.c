/*
 * control/cpus.c: control's threads kept off the dataplane's workers' CPUs
 * (see cpus.h). Control process, the loop's thread.
 */
#include "control/cpus.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "control/log.h"

/* The CPUs control was started with (before the first attach narrowed
 * them): what ctl_cpus_restore() gives back before a re-execution, so
 * that the next dataplane's workers are kept off from the same start. */
static cpu_set_t start_cpus;
static bool start_saved;
static cpu_set_t taken;		/* the workers' CPUs of start_cpus, taken away */

/* Every thread of ours (the resolving threads, EAL's, libfstrm's) to cpus;
 * the number that took it. */
static unsigned set_all_threads(const cpu_set_t *cpus)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return sched_setaffinity(0, sizeof(*cpus), cpus) == 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    sched_setaffinity((pid_t)atoi(e->d_name), sizeof(*cpus), cpus) == 0)
			n++;
	closedir(d);
	return n;
}

void ctl_cpus_keep_off(const uint64_t *workers, unsigned words)
{
	cpu_set_t cur, want;
	char list[128];
	size_t used = 0;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(cur), &cur) != 0) {
		cfg_log(CFG_LOG_WARNING, "control's CPU affinity unreadable (%s): its threads "
					 "may share the workers' CPUs", strerror(errno));
		return;
	}
	if (!start_saved) {
		start_cpus = cur;
		start_saved = true;
	}
	CPU_ZERO(&want);
	for (unsigned c = 0; c < CPU_SETSIZE; c++) {
		bool worker = c < 64 * words && (workers[c / 64] >> (c % 64) & 1);
		if (!CPU_ISSET(c, &start_cpus) || worker)
			continue;
		CPU_SET(c, &want);
		if (n++ < 16 && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u",
						 n > 1 ? "," : "", c);
	}
	if (!n) {
		cfg_log(CFG_LOG_WARNING, "control runs on the workers' CPUs: it may run on no "
					 "other (its CPU affinity)");
		return;
	}
	/* (every thread, also when ours already kept off: EAL's control
	 * threads are pinned by EAL) */
	unsigned t = set_all_threads(&want);
	cfg_log(CFG_LOG_INFO, "control keeps off the workers' CPUs: its %u thread%s on CPU%s %s%s",
		t, t == 1 ? "" : "s", n == 1 ? "" : "s", list, n > 16 ? ",..." : "");
	CPU_XOR(&taken, &start_cpus, &want); /* (want is within start_cpus) */
}

void ctl_cpus_restore(void)
{
	cpu_set_t cur;

	/* what ctl_cpus_keep_off() took back, on top of whatever the
	 * operator has set since */
	if (start_saved && sched_getaffinity(0, sizeof(cur), &cur) == 0) {
		CPU_OR(&cur, &cur, &taken);
		sched_setaffinity(0, sizeof(cur), &cur);
	}
}
