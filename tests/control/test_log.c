/*
 * tests/control/test_log.c: control's query log on stderr: its line, its
 * sampling, at most CFG_LOG_BUSY_PER_S lines a second, none above info, and
 * control's counters. (The engine: tests/conf/test_log.c; the syslog and
 * journal targets: tests/control/test-log.)
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "control/log.h"
#include "tests/conf/capture.h"

TestSuite(log, .init = capture_setup, .fini = capture_teardown);

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
	cfg_log_open("bailiwick-control");
	ctl_log_configure(&c);
	unsigned n = 0;
	for (unsigned i = 0; i < 30; i++)
		n += ctl_log_query_sample();
	cr_assert_eq(n, 10);
	ctl_log_query("worker 1", AF_INET, a, 40000, false, q, sizeof(q));
	ctl_log_query("control", AF_INET, a, 40001, true, q, 5);
	cr_assert_str_eq(captured(), "bailiwick-control: query 198.18.0.7#40000 UDP www.bank. AAAA IN "
				    "+RD +CD +DO id 43981 (worker 1)\n"
				    "bailiwick-control: query 198.18.0.7#40001 TCP: not a query "
				    "(5 octets) (control)\n");
	/* at most CFG_LOG_BUSY_PER_S lines a second, the rest counted */
	struct ctl_log_stats st0, st1;
	ctl_log_get_stats(&st0);
	uint64_t s0 = cfg_log_now_ms() / 1000;
	for (unsigned i = 0; i < 1500; i++)
		ctl_log_query("worker 0", AF_INET, a, 1, false, q, sizeof(q));
	ctl_log_get_stats(&st1);
	if (cfg_log_now_ms() / 1000 == s0) /* (not across a second's edge) */
		cr_assert_geq(st1.busy_dropped - st0.busy_dropped, 1500 - CFG_LOG_BUSY_PER_S,
			      "%llu", (unsigned long long)(st1.busy_dropped - st0.busy_dropped));
	cr_assert_leq(st1.queries - st0.queries, 2 * CFG_LOG_BUSY_PER_S);
	/* above info: no query log, no sampling */
	c.log.level = CFG_LOG_NOTICE;
	ctl_log_configure(&c);
	for (unsigned i = 0; i < 30; i++)
		cr_assert_not(ctl_log_query_sample());
}
