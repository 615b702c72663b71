/*
 * conf/log.c: a program's messages (see log.h). One thread per process.
 */
#include "conf/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "conf/config.h"

#define LINE_MAX_LEN 1024

static struct {
	const char *ident;
	unsigned level;
	unsigned target;
	bool syslog_open;
	struct cfg_log_stats st;
} lg = { .ident = "bailiwick", .level = CFG_LOG_INFO, .target = CFG_LOG_STDERR };

void cfg_log_open(const char *ident)
{
	lg.ident = ident;
}

void cfg_log_configure(unsigned level, unsigned target)
{
	lg.level = level < CFG_LOG_LEVELS ? level : CFG_LOG_INFO;
	lg.target = target == CFG_LOG_SYSLOG || target == CFG_LOG_JOURNAL ? target : CFG_LOG_STDERR;
	if (lg.target == CFG_LOG_SYSLOG && !lg.syslog_open) {
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	} else if (lg.target != CFG_LOG_SYSLOG && lg.syslog_open) {
		closelog();
		lg.syslog_open = false;
	}
}

void cfg_log_set_level(unsigned level)
{
	if (level < CFG_LOG_LEVELS)
		lg.level = level;
}

unsigned cfg_log_get_level(void)
{
	return lg.level;
}

unsigned cfg_log_get_target(void)
{
	return lg.target;
}

bool cfg_log_on(unsigned level)
{
	return level <= lg.level;
}

uint64_t cfg_log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
			fprintf(stderr, "%s: %s\n", lg.ident, line);
		break;
	default:
		fprintf(stderr, "%s: %s\n", lg.ident, line);
		return;
	}
	/* an operator who started the program by hand sees why it failed */
	if (level == CFG_LOG_ERR && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s\n", lg.ident, line);
}

static void vlog(unsigned level, const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	write_line(level, line);
}

void cfg_log(unsigned level, const char *fmt, ...)
{
	va_list ap;

	if (!cfg_log_on(level))
		return;
	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void cfg_log_limited(struct cfg_log_limit *l, unsigned level, const char *fmt, ...)
{
	uint64_t now = cfg_log_now_ms();
	char prefix[64] = "";
	va_list ap;

	if (!cfg_log_on(level))
		return;
	if (!l->window_ms || now - l->window_ms >= CFG_LOG_LIMIT_MS) {
		if (l->suppressed)
			snprintf(prefix, sizeof(prefix), "(%u more lines from here were not logged) ",
				 l->suppressed);
		l->window_ms = now;
		l->n = 0;
		l->suppressed = 0;
	}
	if (l->n >= CFG_LOG_LIMIT_N) {
		l->suppressed++;
		lg.st.suppressed++;
		return;
	}
	l->n++;
	va_start(ap, fmt);
	vlog(level, prefix, fmt, ap);
	va_end(ap);
}

void cfg_log_get_stats(struct cfg_log_stats *st)
{
	*st = lg.st;
}
