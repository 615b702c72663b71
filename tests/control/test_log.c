/*
 * tests/control/test_log.c: control's messages on stderr: the level
 * filters, a place's repeated warnings are limited and the next line after
 * the window says how many were not written, the query log's line and its
 * sampling. (The syslog and journal targets: tests/control/test-log.)
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "control/log.h"
#include "control/loop.h"

static char path[] = "/tmp/bw-log-XXXXXX";

static void setup(void)
{
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert(freopen(path, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);
}

static void teardown(void)
{
	unlink(path);
}

/* What stderr got, from the start. */
static char *written(void)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static unsigned count(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, lines_below_the_level_are_not_written)
{
	static struct cfg c;
	cfg_default(&c);
	c.log.level = CFG_LOG_WARNING;
	ctl_log_configure(&c);
	ctl_log(CFG_LOG_ERR, "one %d", 1);
	ctl_log(CFG_LOG_WARNING, "two");
	ctl_log(CFG_LOG_NOTICE, "three");
	ctl_log(CFG_LOG_INFO, "four");
	cr_assert_not(ctl_log_on(CFG_LOG_INFO));
	ctl_log_set_level(CFG_LOG_DEBUG);
	ctl_log(CFG_LOG_DEBUG, "five");
	ctl_log_set_level(99); /* not a level: ignored */
	cr_assert_eq(ctl_log_level(), CFG_LOG_DEBUG);
	cr_assert_str_eq(written(), "bailiwick-control: one 1\nbailiwick-control: two\n"
				    "bailiwick-control: five\n");
	struct ctl_log_stats st;
	ctl_log_get_stats(&st);
	cr_assert_eq(st.messages, 3);
}

Test(log, a_places_repeats_are_limited_and_then_counted)
{
	static struct cfg c;
	cfg_default(&c);
	ctl_log_configure(&c);
	struct ctl_log_limit lim = { 0 };
	for (unsigned i = 0; i < 25; i++)
		ctl_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", i);
	const char *w = written();
	cr_assert_eq(count(w, "failed"), CTL_LOG_LIMIT_N, "%s", w);
	cr_assert(strstr(w, "zone 9 failed") && !strstr(w, "zone 10 failed"));
	struct ctl_log_stats st;
	ctl_log_get_stats(&st);
	cr_assert_eq(st.suppressed, 15);
	/* the next window: the count first */
	lim.window_ms = ctl_now_ms() - CTL_LOG_LIMIT_MS;
	ctl_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", 25u);
	cr_assert(strstr(written(),
			 "bailiwick-control: (15 more lines from here were not logged) zone 25 failed\n"),
		  "%s", written());
	/* each place has its own */
	CTL_LOG_LIMITED(CFG_LOG_WARNING, "elsewhere");
	cr_assert(strstr(written(), "bailiwick-control: elsewhere\n"));
}

Test(log, the_query_log_names_client_question_and_flags_one_in_n)
{
	static struct cfg c;
	static const uint8_t q[] = {
		0xab, 0xcd, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 1,
		3, 'w', 'w', 'w', 4, 'b', 'a', 'n', 'k', 0, 0, 28, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,
	};
	uint8_t a[4] = { 198, 18, 0, 7 };
	cfg_default(&c);
	c.log.query_sample = 3;
	ctl_log_configure(&c);
	unsigned n = 0;
	for (unsigned i = 0; i < 30; i++)
		n += ctl_log_query_sample();
	cr_assert_eq(n, 10);
	ctl_log_query("worker 1", AF_INET, a, 40000, false, q, sizeof(q));
	ctl_log_query("control", AF_INET, a, 40001, true, q, 5);
	cr_assert_str_eq(written(), "bailiwick-control: query 198.18.0.7#40000 UDP www.bank. AAAA IN "
				    "+RD +CD +DO id 43981 (worker 1)\n"
				    "bailiwick-control: query 198.18.0.7#40001 TCP: not a query "
				    "(5 octets) (control)\n");
	/* at most CTL_LOG_BUSY_PER_S lines a second, the rest counted */
	struct ctl_log_stats st0, st1;
	ctl_log_get_stats(&st0);
	uint64_t s0 = ctl_now_ms() / 1000;
	for (unsigned i = 0; i < 1500; i++)
		ctl_log_query("worker 0", AF_INET, a, 1, false, q, sizeof(q));
	ctl_log_get_stats(&st1);
	if (ctl_now_ms() / 1000 == s0) /* (not across a second's edge) */
		cr_assert_geq(st1.busy_dropped - st0.busy_dropped, 1500 - CTL_LOG_BUSY_PER_S,
			      "%llu", (unsigned long long)(st1.busy_dropped - st0.busy_dropped));
	cr_assert_leq(st1.queries - st0.queries, 2 * CTL_LOG_BUSY_PER_S);
	/* above info: no query log, no sampling */
	c.log.level = CFG_LOG_NOTICE;
	ctl_log_configure(&c);
	for (unsigned i = 0; i < 30; i++)
		cr_assert_not(ctl_log_query_sample());
}
