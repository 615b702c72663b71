/*
 * tests/conf/capture.h: stderr into a file for a test of log lines
 * (tests/conf/test_log.c, tests/control/test_log.c): capture_setup() as a
 * suite's .init (unbuffered, from an empty file), captured() what it got
 * from the start, capture_count() how often a needle occurs in it.
 */
#ifndef BW_TESTS_CONF_CAPTURE_H
#define BW_TESTS_CONF_CAPTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char capture_path[] = "/tmp/bw-log-XXXXXX";

static inline void capture_setup(void)
{
	/* a fresh template each time (one process may run several tests) */
	strcpy(capture_path, "/tmp/bw-log-XXXXXX");
	int fd = mkstemp(capture_path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert(freopen(capture_path, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);
}

static inline void capture_teardown(void)
{
	unlink(capture_path);
}

static inline char *captured(void)
{
	static char buf[1 << 16];
	FILE *f = fopen(capture_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static inline unsigned capture_count(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#endif
