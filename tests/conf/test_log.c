/*
 * tests/conf/test_log.c: the messages engine both programs write through,
 * on stderr: the program's name before each line, the level filters (and
 * set-log-level's out-of-range level is ignored), a place's repeated
 * warnings are limited and the next line after the window says how many
 * were not written, an unknown target falls back to stderr. (syslog and the
 * journal: tests/control/test-log and test-dataplane.)
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "conf/log.h"

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
	cfg_log_open("bailiwick-dataplane");
	cfg_log(CFG_LOG_INFO, "before %s", "configure"); /* stderr at info */
	cfg_log_configure(CFG_LOG_WARNING, CFG_LOG_STDERR);
	cfg_log(CFG_LOG_ERR, "one %d", 1);
	cfg_log(CFG_LOG_WARNING, "two");
	cfg_log(CFG_LOG_NOTICE, "three");
	cfg_log(CFG_LOG_INFO, "four");
	cr_assert_not(cfg_log_on(CFG_LOG_INFO));
	cr_assert(cfg_log_on(CFG_LOG_WARNING));
	cfg_log_set_level(CFG_LOG_DEBUG);
	cfg_log(CFG_LOG_DEBUG, "five");
	cfg_log_set_level(99); /* not a level: ignored */
	cr_assert_eq(cfg_log_get_level(), CFG_LOG_DEBUG);
	cr_assert_str_eq(written(), "bailiwick-dataplane: before configure\n"
				    "bailiwick-dataplane: one 1\nbailiwick-dataplane: two\n"
				    "bailiwick-dataplane: five\n");
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_eq(st.messages, 4);
}

Test(log, out_of_range_settings_fall_back_to_info_on_stderr)
{
	cfg_log_open("bailiwick-control");
	cfg_log_configure(CFG_LOG_LEVELS, 77);
	cr_assert_eq(cfg_log_get_level(), CFG_LOG_INFO);
	cr_assert_eq(cfg_log_get_target(), CFG_LOG_STDERR);
	cfg_log(CFG_LOG_DEBUG, "no");
	cfg_log(CFG_LOG_INFO, "yes");
	cr_assert_str_eq(written(), "bailiwick-control: yes\n");
}

Test(log, a_places_repeats_are_limited_and_then_counted)
{
	cfg_log_open("bailiwick-control");
	cfg_log_configure(CFG_LOG_INFO, CFG_LOG_STDERR);
	struct cfg_log_limit lim = { 0 };
	for (unsigned i = 0; i < 25; i++)
		cfg_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", i);
	const char *w = written();
	cr_assert_eq(count(w, "failed"), CFG_LOG_LIMIT_N, "%s", w);
	cr_assert(strstr(w, "zone 9 failed") && !strstr(w, "zone 10 failed"));
	struct cfg_log_stats st;
	cfg_log_get_stats(&st);
	cr_assert_eq(st.suppressed, 15);
	/* below the level: neither written nor counted */
	cfg_log_limited(&lim, CFG_LOG_DEBUG, "zone %u failed", 99u);
	cfg_log_get_stats(&st);
	cr_assert_eq(st.suppressed, 15);
	/* the next window: the count first */
	lim.window_ms = cfg_log_now_ms() - CFG_LOG_LIMIT_MS;
	cfg_log_limited(&lim, CFG_LOG_WARNING, "zone %u failed", 25u);
	cr_assert(strstr(written(),
			 "bailiwick-control: (15 more lines from here were not logged) zone 25 failed\n"),
		  "%s", written());
	/* each place has its own */
	CFG_LOG_LIMITED(CFG_LOG_WARNING, "elsewhere");
	cr_assert(strstr(written(), "bailiwick-control: elsewhere\n"));
}
