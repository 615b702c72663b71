/*
 * tests/answer/test_answer.c: the client-facing rules both front ends
 * share: access control (the compiled first-match list against the list
 * read in order, and the cases both front ends must agree on) and the
 * client cache's settings.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/acl.h"
#include "answer/settings.h"
#include "cache/msgcache.h"
#include "conf/config.h"
#include "tests/conf/addr.h"

static struct cfg c;
static char err[512];

#define MIN "resolver: { root-hints: /etc/bailiwick/root.hints }\n"

#define ok(text)                                                               \
	do {                                                                   \
		int r_ = cfg_parse(&c, text, strlen(text), "bailiwick.yaml", err, \
				   sizeof(err));                               \
		cr_assert_eq(r_, 0, "expected success, got %d: %s", r_, err); \
	} while (0)


/* The action for a client under c's list, through the compiled engine. */
static uint8_t act(bool v6, const uint8_t *addr)
{
	static struct answer_acl acl;

	answer_acl_build(&acl, &c);
	return answer_acl_lookup(&acl, v6, addr);
}

/* The list read as the configuration states it: the first rule whose
 * prefix holds the address, else REFUSE (the oracle for the engine). */
static uint8_t first_match(int af, const uint8_t *addr)
{
	for (unsigned i = 0; i < c.n_acl; i++) {
		const struct cfg_prefix *p = &c.acl[i].prefix;
		if (p->a.family == af && cfg_prefix_match(p, addr))
			return c.acl[i].action;
	}
	return CFG_ACL_REFUSE;
}

Test(acl, acl_first_match_wins_and_no_match_refuses)
{
	struct cfg_addr a;

	ok(MIN "access-control:\n"
	   "  - { prefix: 10.1.0.0/16, action: drop }\n"
	   "  - { prefix: 10.0.0.0/8, action: allow }\n"
	   "  - { prefix: 10.1.2.0/24, action: allow }\n"
	   "  - { prefix: \"2001:db8::/32\", action: allow }\n");
	v4(&a, "10.1.2.3");
	cr_assert_eq(act(false, a.addr), CFG_ACL_DROP);
	v4(&a, "10.2.0.1");
	cr_assert_eq(act(false, a.addr), CFG_ACL_ALLOW);
	v4(&a, "11.0.0.1");
	cr_assert_eq(act(false, a.addr), CFG_ACL_REFUSE);
	v6(&a, "2001:db8:ffff::1");
	cr_assert_eq(act(true, a.addr), CFG_ACL_ALLOW);
	v6(&a, "2001:db9::1");
	cr_assert_eq(act(true, a.addr), CFG_ACL_REFUSE);
	v6(&a, "::ffff:10.1.9.9");
	cr_assert_eq(act(true, a.addr), CFG_ACL_DROP,
		     "a mapped client matches IPv4 rules");
	ok(MIN "access-control: []\n");
	v4(&a, "127.0.0.1");
	cr_assert_eq(act(false, a.addr), CFG_ACL_REFUSE,
		     "an empty list refuses everyone");
}

Test(acl, acl_matches_lengths_that_end_inside_an_octet)
{
	struct cfg_addr a;

	ok(MIN "access-control:\n"
	   "  - { prefix: 10.128.0.0/9, action: drop }\n"
	   "  - { prefix: 192.0.2.240/28, action: drop }\n"
	   "  - { prefix: '2001:db8:8000::/33', action: drop }\n"
	   "  - { prefix: 0.0.0.0/0, action: allow }\n"
	   "  - { prefix: '::/0', action: allow }\n");
	static const struct {
		int family;
		const char *addr;
		enum cfg_acl_action want;
	} cases[] = {
		{ AF_INET, "10.128.0.0", CFG_ACL_DROP },
		{ AF_INET, "10.255.255.255", CFG_ACL_DROP },
		{ AF_INET, "10.127.255.255", CFG_ACL_ALLOW },
		{ AF_INET, "192.0.2.240", CFG_ACL_DROP },
		{ AF_INET, "192.0.2.255", CFG_ACL_DROP },
		{ AF_INET, "192.0.2.239", CFG_ACL_ALLOW },
		{ AF_INET6, "2001:db8:8000::1", CFG_ACL_DROP },
		{ AF_INET6, "2001:db8:ffff::1", CFG_ACL_DROP },
		{ AF_INET6, "2001:db8:7fff::1", CFG_ACL_ALLOW },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].family == AF_INET)
			v4(&a, cases[i].addr);
		else
			v6(&a, cases[i].addr);
		cr_assert_eq(act(cases[i].family == AF_INET6, a.addr),
			     cases[i].want, "%s", cases[i].addr);
	}
}

Test(acl, default_acl_allows_loopback_and_refuses_the_rest)
{
	struct cfg_addr a;

	ok(MIN);
	v4(&a, "127.1.2.3");
	cr_assert_eq(act(false, a.addr), CFG_ACL_ALLOW);
	v6(&a, "::1");
	cr_assert_eq(act(true, a.addr), CFG_ACL_ALLOW);
	v6(&a, "::ffff:127.0.0.1");
	cr_assert_eq(act(true, a.addr), CFG_ACL_ALLOW);
	v4(&a, "192.0.2.1");
	cr_assert_eq(act(false, a.addr), CFG_ACL_REFUSE);
	v6(&a, "::2");
	cr_assert_eq(act(true, a.addr), CFG_ACL_REFUSE);
}

/* Random lists of nested and overlapping prefixes, random addresses near
 * their edges: the compiled ranges give what reading the list in order
 * gives, for both families. */
Test(acl, compiled_ranges_agree_with_the_first_match_list)
{
	static const char *acts[] = { "allow", "refuse", "drop" };
	static char text[16384];
	unsigned checked = 0;

	srandom(53);
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)snprintf(text, sizeof(text), MIN "access-control:\n");
		unsigned rules = 1 + (unsigned)random() % 30;
		for (unsigned i = 0; i < rules; i++) {
			uint8_t a[16] = { 0x20, 0x01 };
			bool v6 = random() % 2;
			if (!v6)
				a[0] = 10;
			for (int k = 1; k < 16; k++)
				if (random() % 3 == 0)
					a[k] = (uint8_t)random();
			unsigned len = (unsigned)random() % (v6 ? 129 : 33);
			/* host bits cleared: the configuration refuses them */
			for (unsigned b = len; b < (v6 ? 128u : 32u); b++)
				a[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			char addr[INET6_ADDRSTRLEN];
			inet_ntop(v6 ? AF_INET6 : AF_INET, a, addr, sizeof(addr));
			if (v6 && strchr(addr, '.'))
				continue; /* a mapped prefix is an IPv4 rule */
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "  - { prefix: \"%s/%u\", action: %s }\n", addr, len,
					      acts[random() % 3]);
		}
		if (cfg_parse(&c, text, n, "bailiwick.yaml", err, sizeof(err)) != 0)
			continue; /* a rule given twice */
		struct answer_acl acl;
		answer_acl_build(&acl, &c);
		for (int q = 0; q < 2000 && c.n_acl; q++) {
			uint8_t a[16];
			const struct cfg_prefix *p = &c.acl[(unsigned)random() % c.n_acl].prefix;
			bool v6 = p->a.family == AF_INET6;
			memcpy(a, p->a.addr, 16);
			/* the prefix's first address, one just outside, or inside */
			int mode = (int)(random() % 3);
			unsigned bytes = v6 ? 16 : 4;
			if (mode == 1) {
				for (int k = (int)bytes - 1; k >= 0 && a[k]-- == 0; k--)
					;
			} else if (mode == 2) {
				for (unsigned b = p->len; b < bytes * 8; b++)
					if (random() % 2)
						a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			}
			if (v6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
				continue; /* matched as IPv4: tested on its own */
			cr_assert_eq(answer_acl_lookup(&acl, v6, a),
				     first_match(v6 ? AF_INET6 : AF_INET, a), "round %d\n%s",
				     round, text);
			checked++;
		}
	}
	cr_assert_gt(checked, 100000u, "the property ran on %u addresses", checked);
}

Test(settings, cache_config_takes_the_cache_section)
{
	struct cache_config cc;

	memset(&cc, 0, sizeof(cc));
	ok("resolver: { root-hints: /r, upstream: { edns-buffer: 1400 } }\n"
	   "cache: { size: 64M, min-ttl: 5, max-ttl: 3600, max-negative-ttl: 60,\n"
	   "  serve-stale: { max-stale: 600, answer-ttl: 7 },\n"
	   "  prefetch: { threshold-percent: 20 } }\n");
	answer_cache_config(&c, &cc);
	cr_assert_eq(cc.max_bytes, 64u << 20);
	cr_assert_eq(c.cache.min_ttl_s, 5);
	cr_assert_eq(cc.min_ttl, 0, "control applies min-ttl before the delegation's cap");
	cr_assert_eq(cc.max_ttl, 3600);
	cr_assert_eq(cc.max_negative_ttl, 60);
	cr_assert_eq(cc.max_stale, 600);
	cr_assert_eq(cc.stale_answer_ttl, 7);
	cr_assert_eq(cc.prefetch_percent, 20);
	cr_assert_eq(cc.edns_udp_size, 1400);
	ok(MIN "cache: { serve-stale: { enabled: false }, prefetch: { enabled: false } }\n");
	answer_cache_config(&c, &cc);
	cr_assert_eq(cc.max_stale, 0, "disabled serve-stale is max_stale 0");
	cr_assert_eq(cc.prefetch_percent, 0, "disabled prefetch is 0 percent");
}
