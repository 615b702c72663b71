/*
 * control/log.c: control's messages (see log.h). Control process, the
 * loop's thread.
 */
#include "control/log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "control/loop.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/query.h"
#include "dns/wire.h"

#define LINE_MAX_LEN 1024

static struct {
	unsigned level;
	unsigned target;
	bool syslog_open;
	uint32_t query_sample, query_left;
	uint64_t busy_s;		/* the second busy_n counts */
	uint32_t busy_n;
	struct ctl_log_stats st;
} lg = { .level = CFG_LOG_INFO, .target = CFG_LOG_STDERR };

void ctl_log_configure(const struct cfg *cfg)
{
	lg.level = cfg->log.level < CFG_LOG_LEVELS ? cfg->log.level : CFG_LOG_INFO;
	lg.target = cfg->log.target;
	if (lg.target == CFG_LOG_SYSLOG && !lg.syslog_open) {
		openlog("bailiwick-control", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	} else if (lg.target != CFG_LOG_SYSLOG && lg.syslog_open) {
		closelog();
		lg.syslog_open = false;
	}
	if (lg.query_sample != cfg->log.query_sample)
		lg.query_sample = lg.query_left = cfg->log.query_sample;
}

void ctl_log_set_level(unsigned level)
{
	if (level < CFG_LOG_LEVELS)
		lg.level = level;
}

unsigned ctl_log_level(void)
{
	return lg.level;
}

bool ctl_log_on(unsigned level)
{
	return level <= lg.level;
}

static void write_line(unsigned level, const char *line)
{
	int prio = LOG_ERR + (int)level; /* enum cfg_log_level's order is syslog's */

	lg.st.messages++;
	switch (lg.target) {
	case CFG_LOG_SYSLOG:
		syslog(prio, "%s", line);
		break;
	case CFG_LOG_JOURNAL:
		if (sd_journal_print(prio, "%s", line) < 0) /* no journal: not lost */
			fprintf(stderr, "bailiwick-control: %s\n", line);
		break;
	default:
		fprintf(stderr, "bailiwick-control: %s\n", line);
		return;
	}
	/* an operator who started control by hand sees why it failed */
	if (level == CFG_LOG_ERR && isatty(STDERR_FILENO))
		fprintf(stderr, "bailiwick-control: %s\n", line);
}

static void vlog(unsigned level, const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	write_line(level, line);
}

void ctl_log(unsigned level, const char *fmt, ...)
{
	va_list ap;

	if (!ctl_log_on(level))
		return;
	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void ctl_log_limited(struct ctl_log_limit *l, unsigned level, const char *fmt, ...)
{
	uint64_t now = ctl_now_ms();
	char prefix[64] = "";
	va_list ap;

	if (!ctl_log_on(level))
		return;
	if (!l->window_ms || now - l->window_ms >= CTL_LOG_LIMIT_MS) {
		if (l->suppressed)
			snprintf(prefix, sizeof(prefix), "(%u more lines from here were not logged) ",
				 l->suppressed);
		l->window_ms = now;
		l->n = 0;
		l->suppressed = 0;
	}
	if (l->n >= CTL_LOG_LIMIT_N) {
		l->suppressed++;
		lg.st.suppressed++;
		return;
	}
	l->n++;
	va_start(ap, fmt);
	vlog(level, prefix, fmt, ap);
	va_end(ap);
}

bool ctl_log_busy_ok(void)
{
	uint64_t s = ctl_now_ms() / 1000;

	if (s != lg.busy_s) {
		lg.busy_s = s;
		lg.busy_n = 0;
	}
	if (lg.busy_n >= CTL_LOG_BUSY_PER_S) {
		lg.st.busy_dropped++;
		return false;
	}
	lg.busy_n++;
	return true;
}

bool ctl_log_query_sample(void)
{
	if (!lg.query_sample || !ctl_log_on(CFG_LOG_INFO))
		return false;
	if (--lg.query_left)
		return false;
	lg.query_left = lg.query_sample;
	return true;
}

void ctl_log_query(const char *via, int family, const uint8_t *addr, uint16_t port, bool tcp,
		   const uint8_t *msg, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", name[4 * DNS_NAME_MAX + 1], type[16], class[16];
	struct dns_query q;

	if (!ctl_log_on(CFG_LOG_INFO) || !ctl_log_busy_ok())
		return;
	inet_ntop(family, addr, a, sizeof(a));
	lg.st.queries++;
	if (dns_query_parse(&q, msg, len) != 0 ||
	    dns_name_to_str(dns_query_qname(&q), name, sizeof(name)) < 0) {
		ctl_log(CFG_LOG_INFO, "query %s#%u %s: not a query (%zu octets) (%s)", a, port,
			tcp ? "TCP" : "UDP", len, via);
		return;
	}
	dns_type_to_str(q.qtype, type, sizeof(type));
	dns_class_to_str(q.qclass, class, sizeof(class));
	ctl_log(CFG_LOG_INFO, "query %s#%u %s %s %s %s%s%s%s%s id %u (%s)", a, port,
		tcp ? "TCP" : "UDP", name, type, class, (q.flags & DNS_F_RD) ? " +RD" : "",
		(q.flags & DNS_F_CD) ? " +CD" : "",
		q.has_edns && (q.edns.flags & DNS_EDNS_F_DO) ? " +DO" : "",
		q.has_edns ? "" : " -EDNS", q.id, via);
}

void ctl_log_get_stats(struct ctl_log_stats *st)
{
	*st = lg.st;
}
