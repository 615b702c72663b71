/*
 * tests/conf/addr.h: configuration addresses from text, for the tests of
 * the configuration and of the rules that read it (tests/answer/).
 */
#ifndef BW_TESTS_CONF_ADDR_H
#define BW_TESTS_CONF_ADDR_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "conf/config.h"

static inline void v4(struct cfg_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, s, a->addr), 1, "test address %s", s);
}

static inline void v6(struct cfg_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, s, a->addr), 1, "test address %s", s);
}

#endif
