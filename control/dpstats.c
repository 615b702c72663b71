/*
 * control/dpstats.c: the dataplane's counters and ports as control's lines
 * (see dpstats.h). Everything read from shared memory is checked or
 * bounded as it is read: zone names by dns_name_check(), counts by the
 * arrays' sizes, strings by their fields' lengths.
 */
#include "control/dpstats.h"

#include <string.h>

#include "dns/name.h"
#include "net/pkt.h"

/* A zone name from the control block, checked as any record from it: its
 * presentation form in buf, or false. */
static bool zone_text(const uint8_t *apex, uint8_t len, char *buf, size_t size)
{
	return len > 0 && dns_name_check(apex, len) == (int)len &&
	       dns_name_to_str(apex, buf, size) >= 0;
}

/*
 * RFC 8198 per zone (shm.h): the ranges of the zones the writer lists and
 * the evictions of those its budget evicted most (read under its sequence
 * count; nothing when it keeps changing), and every worker's answers summed
 * by zone, as "stat nsec_zone.ranges[ZONE] N", "stat
 * nsec_zone.evictions[ZONE] N" (with nsec_zone.evicted_ranges[ZONE] and
 * nsec_zone.evictions_other) and "stat nsec_zone.answers[ZONE] N" lines.
 */
static void print_nsec_zones(const struct shm_ctl *ctl, unsigned n_workers, FILE *f)
{
	static struct shm_nsec_zones z;
	static struct shm_nsec_zone_count sum[SHM_WORKERS_MAX * SHM_NSEC_ZONE_SLOTS];
	char text[4 * DNS_NAME_MAX + 1];
	uint64_t other = 0;
	unsigned nh = 0, ne = 0, ns = 0;
	bool read = false;

	for (int tries = 0; tries < 8 && !read; tries++) {
		uint32_t s0 = __atomic_load_n(&ctl->nsec_zones.seq, __ATOMIC_ACQUIRE);
		if (s0 & 1)
			continue;
		memcpy(&z, (const void *)&ctl->nsec_zones, sizeof(z));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		read = __atomic_load_n(&ctl->nsec_zones.seq, __ATOMIC_RELAXED) == s0;
	}
	if (read) {
		nh = z.n <= SHM_NSEC_ZONES_HELD ? z.n : 0;
		ne = z.ne <= SHM_NSEC_ZONES_HELD ? z.ne : 0;
	}
	for (unsigned i = 0; i < nh; i++)
		if (zone_text(z.z[i].apex, z.z[i].apex_len, text, sizeof(text)))
			fprintf(f, "stat nsec_zone.ranges[%s] %u\n", text, z.z[i].ranges);
	for (unsigned i = 0; i < ne; i++)
		if (zone_text(z.e[i].apex, z.e[i].apex_len, text, sizeof(text)))
			fprintf(f, "stat nsec_zone.evictions[%s] %llu\nstat nsec_zone.evicted_ranges[%s] %llu\n",
				text, (unsigned long long)z.e[i].evictions, text,
				(unsigned long long)z.e[i].ranges);
	if (read)
		fprintf(f, "stat nsec_zone.evictions_other %llu\n",
			(unsigned long long)z.evicted_other);
	for (unsigned w = 0; w < n_workers && w < SHM_WORKERS_MAX; w++)
		for (unsigned k = 0; k < SHM_NSEC_ZONE_SLOTS; k++) {
			const struct shm_nsec_zone_count *s = &ctl->wzones[w][k];
			uint8_t len = __atomic_load_n(&s->apex_len, __ATOMIC_ACQUIRE);
			if (!len || k == SHM_NSEC_ZONE_SLOTS - 1) {
				other += k == SHM_NSEC_ZONE_SLOTS - 1 ? s->answers : 0;
				continue;
			}
			unsigned j = 0;
			while (j < ns && !(sum[j].apex_len == len &&
					   memcmp(sum[j].apex, s->apex, len) == 0))
				j++;
			if (j == ns) {
				sum[ns].apex_len = len;
				memcpy(sum[ns].apex, s->apex, len);
				sum[ns++].answers = 0;
			}
			sum[j].answers += s->answers;
		}
	for (unsigned j = 0; j < ns; j++)
		if (zone_text(sum[j].apex, sum[j].apex_len, text, sizeof(text)))
			fprintf(f, "stat nsec_zone.answers[%s] %llu\n", text,
				(unsigned long long)sum[j].answers);
	fprintf(f, "stat nsec_zone.answers_other %llu\n", (unsigned long long)other);
}

void ctl_dpstats_print(const struct shm_ctl *ctl, unsigned n_workers, FILE *f)
{
	struct shm_worker_stats sum = { 0 };

	/* the dataplane's cache clock, next to clock.resolver_s: one time */
	fprintf(f, "stat clock.dataplane_s %u\nstat clock.scale %u\n", ctl->now_s,
		ctl->clock_scale);

	for (unsigned i = 0; i < n_workers; i++) {
#define ADD(name, text) sum.name += ctl->wstats[i].name;
		SHM_WORKER_COUNTERS(ADD)
#undef ADD
		for (unsigned r = 0; r < SHM_FRAME_DROPS_MAX; r++)
			sum.frame_drops[r] += ctl->wstats[i].frame_drops[r];
	}
#define PW(name, text) fprintf(f, "stat dataplane.%s %llu\n", #name, \
			       (unsigned long long)sum.name);
#define PR(name, text) fprintf(f, "stat writer.%s %llu\n", #name, \
			       (unsigned long long)ctl->writer.name);
#define PC(name, text) fprintf(f, "stat shm.%s %llu\n", #name, \
			       (unsigned long long)ctl->control.name);
	SHM_WORKER_COUNTERS(PW)
	SHM_WRITER_COUNTERS(PR)
	SHM_CONTROL_COUNTERS(PC)
#undef PW
#undef PR
#undef PC
	/* every reason the frame layer has, at 0 too (a monitoring system
	 * sees each series from the start) */
	static const int reasons[] = {
#define REASON(name, value, text) value,
		NET_PKT_ERRORS(REASON)
#undef REASON
	};
	for (size_t k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++) {
		unsigned r = net_pkt_drop_slot(reasons[k]);
		if (r < SHM_FRAME_DROPS_MAX)
			fprintf(f, "stat dataplane.drop_%d %llu\n", -reasons[k],
				(unsigned long long)sum.frame_drops[r]);
	}
	fprintf(f, "stat dataplane.tsc_hz %llu\nstat dataplane.workers %u\n",
		(unsigned long long)ctl->tsc_hz, n_workers);
	/* each worker's own, every counter (bailiwick-ctl top's rates) */
	for (unsigned i = 0; i < n_workers; i++) {
#define PWI(name, text) fprintf(f, "stat dataplane.worker%u.%s %llu\n", i, #name, \
				(unsigned long long)ctl->wstats[i].name);
		SHM_WORKER_COUNTERS(PWI)
#undef PWI
	}
	print_nsec_zones(ctl, n_workers, f);
	for (unsigned i = 0; i < ctl->n_ports && i < SHM_PORTS_MAX; i++) {
		const struct shm_port_stats *s = &ctl->ports[i];
		uint32_t nx = __atomic_load_n(&s->n_xstats, __ATOMIC_ACQUIRE);
		fprintf(f, "stat dataplane.port%u.link_up %u\nstat dataplane.port%u.link_mbps %u\n",
			i, s->link_up, i, s->link_mbps);
#define PP(name, text) fprintf(f, "stat dataplane.port%u.%s %llu\n", i, #name, \
			       (unsigned long long)s->name);
		SHM_PORT_COUNTERS(PP)
#undef PP
		for (unsigned k = 0; k < nx && k < SHM_PORT_XSTATS_MAX; k++) {
			/* the PMD's name, in the stat line's alphabet */
			char name[SHM_PORT_XSTAT_NAME_MAX];
			unsigned j = 0;
			for (; j + 1 < sizeof(name) && s->xstat_name[k][j]; j++) {
				char c = s->xstat_name[k][j];
				name[j] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
						  (c >= '0' && c <= '9') || c == '_' || c == '-'
						  ? c : '_';
			}
			name[j] = 0;
			fprintf(f, "stat dataplane.port%u.xstat[%s] %llu\n", i, name,
				(unsigned long long)s->xstat[k]);
		}
	}
}

void ctl_dpstats_ports(const struct shm_ctl *ctl, unsigned n_workers, const unsigned *lcores,
		       unsigned n_lcores, FILE *f)
{

	char v[sizeof(ctl->dp_version) + 1];
	size_t n = 0;

	/* the version as it is in shared memory: printable octets only */
	for (; n < sizeof(ctl->dp_version) && ctl->dp_version[n]; n++)
		v[n] = ctl->dp_version[n] > ' ' && ctl->dp_version[n] < 0x7f ? ctl->dp_version[n] : '?';
	v[n] = 0;
	fprintf(f, "dataplane_pid %d\ndataplane_version %s\ndataplane_uptime_s %llu\n"
		   "dataplane_workers %u\ndataplane_lcores", (int)ctl->dp_pid, n ? v : "?",
		(unsigned long long)(ctl->now_ms >= ctl->dp_started_ms
					     ? (ctl->now_ms - ctl->dp_started_ms) / 1000 : 0),
		n_workers);
	for (unsigned i = 0; i < n_lcores; i++)
		fprintf(f, "%c%u", i ? ',' : ' ', lcores[i]);
	fputc('\n', f);

	for (unsigned i = 0; i < ctl->n_ports && i < SHM_PORTS_MAX; i++) {
		const struct shm_port_stats *s = &ctl->ports[i];
		fprintf(f, "port%u %.*s link %s %u Mb/s rx %llu tx %llu missed %llu errors %llu\n",
			i, (int)strnlen(s->device, sizeof(s->device)), s->device,
			s->link_up ? "up" : "down", s->link_mbps,
			(unsigned long long)s->rx_packets, (unsigned long long)s->tx_packets,
			(unsigned long long)s->rx_missed,
			(unsigned long long)(s->rx_errors + s->tx_errors));
	}
}
