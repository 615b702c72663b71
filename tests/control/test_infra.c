/*
 * tests/control/test_infra.c: what the iterator remembers of failure
 * (control/infra.h), on a clock the test drives: servers held down after
 * timeouts in a row (not those that came while it answered as many),
 * one probe at a time, holds that double up to their
 * bound and end with any reply, a probe that ends without a verdict and
 * an older query's timeout that is not the probe's; RTT smoothing; the "no EDNS" mark that
 * expires; resolution failures remembered for 5 s, doubling to 30 s when
 * they come back, in any letter case, per type; the do-not-query rule
 * (list, exceptions, ourselves, no server's address); and the iterator's clock,
 * which must be CLOCK_MONOTONIC.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "control/infra.h"
#include "control/iter.h"
#include "tests/dns/testutil.h"

static struct ctl_infra *new_infra(void)
{
	struct ctl_infra_config c;

	ctl_infra_config_default(&c);
	struct ctl_infra *t = ctl_infra_new(&c);
	cr_assert_not_null(t);
	return t;
}

static struct ctl_addr addr(uint8_t last)
{
	struct ctl_addr a = { .family = AF_INET, .a = { 127, 54, 16, last } };

	return a;
}

#define T0 1000000u /* ms */

Test(infra, a_server_is_held_after_three_timeouts_then_probed_once)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(1);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	cr_assert_eq(s->srtt_ms, CTL_INFRA_SRTT_UNKNOWN_MS);
	for (int i = 0; i < 2; i++) {
		ctl_infra_timeout(t, s, T0, NULL, false);
		cr_assert_eq(ctl_infra_state(s, T0), CTL_SRV_USABLE, "after %d", i + 1);
	}
	ctl_infra_timeout(t, s, T0, NULL, false);
	cr_assert_eq(ctl_infra_state(s, T0), CTL_SRV_HELD);
	cr_assert_eq(ctl_infra_state(s, T0 + 1999), CTL_SRV_HELD);
	cr_assert_eq(ctl_infra_state(s, T0 + 2000), CTL_SRV_PROBE, "2 s later, a probe");
	cr_assert(ctl_infra_sent(t, s, T0 + 2000), "this query is the probe");
	cr_assert_eq(ctl_infra_state(s, T0 + 2001), CTL_SRV_HELD, "one probe at a time");
	/* the probe times out: twice as long */
	ctl_infra_timeout(t, s, T0 + 3000, NULL, true);
	cr_assert_eq(ctl_infra_state(s, T0 + 6999), CTL_SRV_HELD);
	cr_assert_eq(ctl_infra_state(s, T0 + 7000), CTL_SRV_PROBE);
	/* ... up to 60 s */
	uint64_t now = T0 + 7000;
	for (int i = 0; i < 10; i++) {
		cr_assert(ctl_infra_sent(t, s, now));
		ctl_infra_timeout(t, s, now, NULL, true);
		now = s->held_until_ms;
	}
	cr_assert_eq(s->hold_ms, 60000);
	/* any reply releases it */
	ctl_infra_sent(t, s, now);
	ctl_infra_reply(t, s, 12);
	cr_assert_eq(ctl_infra_state(s, now), CTL_SRV_USABLE);
	cr_assert_eq(s->srtt_ms, 12, "the first RTT after timeouts is taken as it is");
	ctl_infra_reply(t, s, 20);
	cr_assert_eq(s->srtt_ms, (12 * 7 + 20) / 8);
	struct ctl_infra_stats st;
	ctl_infra_get_stats(t, &st);
	cr_assert_eq(st.holds, 1);
	cr_assert_eq(st.probes, 12);
	cr_assert_eq(st.released, 1);
	ctl_infra_free(t);
}

/* A server's first RTT is taken as it is, the next ones averaged, also
 * when one of them equals the never-heard default (200 ms): such a sample
 * used to be taken as "never heard" and replace the average. */
Test(infra, an_rtt_equal_to_the_default_is_averaged_like_any_other)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(1);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	ctl_infra_reply(t, s, CTL_INFRA_SRTT_UNKNOWN_MS);
	cr_assert_eq(s->srtt_ms, CTL_INFRA_SRTT_UNKNOWN_MS, "the first sample as it is");
	ctl_infra_reply(t, s, 0);
	cr_assert_eq(s->srtt_ms, CTL_INFRA_SRTT_UNKNOWN_MS * 7 / 8, "averaged, not replaced");
	ctl_infra_free(t);
}

Test(infra, a_reply_between_timeouts_starts_the_count_again)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(2);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	ctl_infra_timeout(t, s, T0, NULL, false);
	ctl_infra_timeout(t, s, T0, NULL, false);
	ctl_infra_reply(t, s, 5);
	/* queries sent after the reply */
	struct ctl_infra_mark m = ctl_infra_mark(s);
	ctl_infra_timeout(t, s, T0 + 1000, &m, false);
	ctl_infra_timeout(t, s, T0 + 1000, &m, false);
	cr_assert_eq(ctl_infra_state(s, T0 + 1000), CTL_SRV_USABLE, "2 in a row, not 4");
	ctl_infra_timeout(t, s, T0 + 1000, &m, false);
	cr_assert_eq(ctl_infra_state(s, T0 + 1000), CTL_SRV_HELD, "3 in a row");
	ctl_infra_free(t);
}

/* A burst its socket could not take: hundreds of queries lost while the
 * server answered the rest. Their timeouts are no sign of a dead server
 * and must not hold it (every question for its zone would fail). */
Test(infra, timeouts_of_queries_sent_before_a_reply_do_not_hold_the_server)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(3);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	/* earlier traffic, answered and not, weighs nothing */
	for (int i = 0; i < 50; i++)
		ctl_infra_reply(t, s, 5);
	for (int i = 0; i < 2; i++)
		ctl_infra_timeout(t, s, T0 - 2000, NULL, false);
	ctl_infra_reply(t, s, 5);
	/* 1000 queries at T0: 500 answered at T0 + 5, 500 lost */
	struct ctl_infra_mark m = ctl_infra_mark(s);
	for (int i = 0; i < 500; i++)
		ctl_infra_reply(t, s, 5);
	for (int i = 0; i < 500; i++)
		ctl_infra_timeout(t, s, T0 + 800, &m, false);
	cr_assert_eq(ctl_infra_state(s, T0 + 800), CTL_SRV_USABLE);
	cr_assert_eq(s->timeouts, 500, "timeouts in a row all the same (the iterator's "
		     "\"does this cut answer\" reads them)");
	cr_assert_gt(s->srtt_ms, 5, "and its RTT pays for them");
	struct ctl_infra_stats st;
	ctl_infra_get_stats(t, &st);
	cr_assert_eq(st.lost, 500);
	cr_assert_eq(st.holds, 0);
	/* the next reply puts the RTT back to what was measured */
	ctl_infra_reply(t, s, 7);
	cr_assert_eq(s->srtt_ms, 7);
	cr_assert_eq(s->timeouts, 0);
	/* then it goes silent: queries sent after its last reply count */
	m = ctl_infra_mark(s);
	for (int i = 0; i < 3; i++)
		ctl_infra_timeout(t, s, T0 + 2000, &m, false);
	cr_assert_eq(ctl_infra_state(s, T0 + 2000), CTL_SRV_HELD);
	ctl_infra_free(t);
}

/* An authority that answers one query in many (every 500 ms, dropping
 * the rest) always "answered meanwhile": that must not keep it from
 * being held (nor the iterator from seeing its timeouts), and one more
 * timeout than replies is one too many. */
Test(infra, a_server_that_answers_fewer_than_it_drops_is_held)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(4);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);
	int i;

	/* ten queries out, then one reply and nine timeouts */
	for (i = 0; i < 10 && !s->hold_ms; i++) {
		struct ctl_infra_mark m = ctl_infra_mark(s);
		ctl_infra_reply(t, s, 5);
		for (int j = 0; j < 9; j++)
			ctl_infra_timeout(t, s, T0 + i * 500 + 700, &m, false);
		cr_assert_eq(s->timeouts, 9, "the iterator sees them all");
	}
	cr_assert_eq(i, 1, "held in the first round");
	cr_assert_eq(ctl_infra_state(s, T0 + 700), CTL_SRV_HELD);
	struct ctl_infra_stats st;
	ctl_infra_get_stats(t, &st);
	cr_assert_eq(st.holds, 1);
	cr_assert_eq(st.lost, 1, "the first, while replies were as many");
	ctl_infra_free(t);
}

/* A query sent after the server's last reply (an EDNS retry from that
 * reply's own handling, in the same millisecond) counts; so does one whose
 * mark is from another entry (the slot was given to another server). */
Test(infra, a_query_sent_after_the_last_reply_counts)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(5), b = addr(6);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	ctl_infra_reply(t, s, 5);
	ctl_infra_reply(t, s, 5);
	struct ctl_infra_mark m = ctl_infra_mark(s);
	for (int i = 0; i < 3; i++)
		ctl_infra_timeout(t, s, T0 + 800, &m, false);
	cr_assert_eq(ctl_infra_state(s, T0 + 800), CTL_SRV_HELD);

	struct ctl_srv *o = ctl_infra_get(t, &b, T0);
	struct ctl_infra_mark old = ctl_infra_mark(o);
	old.made++; /* as if o's slot had been made again */
	for (int i = 0; i < 10; i++)
		ctl_infra_reply(t, o, 5);
	for (int i = 0; i < 3; i++)
		ctl_infra_timeout(t, o, T0 + 800, &old, false);
	cr_assert_eq(ctl_infra_state(o, T0 + 800), CTL_SRV_HELD);
	cr_assert_neq(ctl_infra_mark(s).made, ctl_infra_mark(o).made);
	ctl_infra_free(t);
}

/* A server held down, its probe out at T0 + 2000. */
static struct ctl_srv *probing(struct ctl_infra *t, struct ctl_addr *a)
{
	struct ctl_srv *s = ctl_infra_get(t, a, T0);

	for (int i = 0; i < 3; i++)
		ctl_infra_timeout(t, s, T0, NULL, false);
	cr_assert(ctl_infra_sent(t, s, T0 + 2000));
	cr_assert_not(ctl_infra_sent(t, s, T0 + 2000), "a second query is no probe");
	return s;
}

Test(infra, a_probe_that_ends_without_a_verdict_lets_the_next_one_go)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(4);
	struct ctl_srv *s = probing(t, &a);

	cr_assert_eq(ctl_infra_state(s, T0 + 2500), CTL_SRV_HELD);
	/* cancelled, a local error, an answer in the wrong case: no verdict */
	ctl_infra_probe_gone(s);
	cr_assert_eq(ctl_infra_state(s, T0 + 2500), CTL_SRV_PROBE, "else held for ever");
	cr_assert_eq(s->hold_ms, 2000, "not doubled");
	ctl_infra_free(t);
}

Test(infra, an_older_querys_timeout_is_not_the_probes)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(5);
	struct ctl_srv *s = probing(t, &a);

	/* a query sent before the hold times out while the probe is out */
	ctl_infra_timeout(t, s, T0 + 2100, NULL, false);
	cr_assert(s->probing, "the probe is still out");
	cr_assert_eq(s->hold_ms, 2000, "the hold is the probe's to double");
	cr_assert_eq(ctl_infra_state(s, T0 + 2100), CTL_SRV_HELD);
	ctl_infra_timeout(t, s, T0 + 2800, NULL, true);
	cr_assert_eq(s->hold_ms, 4000);
	ctl_infra_free(t);
}

Test(infra, no_edns_mark_expires)
{
	struct ctl_infra *t = new_infra();
	struct ctl_addr a = addr(3);
	struct ctl_srv *s = ctl_infra_get(t, &a, T0);

	s->edns_ok = true;
	ctl_infra_no_edns(t, s, T0);
	s = ctl_infra_get(t, &a, T0 + 899999);
	cr_assert(s->no_edns);
	s = ctl_infra_get(t, &a, T0 + 900000);
	cr_assert_not(s->no_edns, "after 15 minutes EDNS is tried again");
	cr_assert_not(s->edns_ok);
	ctl_infra_free(t);
}

Test(infra, servers_are_kept_apart_and_a_full_table_only_forgets)
{
	struct ctl_infra_config c;

	ctl_infra_config_default(&c);
	c.slots = 16;
	struct ctl_infra *t = ctl_infra_new(&c);
	struct ctl_addr a = addr(1), b = addr(2);
	ctl_infra_get(t, &a, T0)->srtt_ms = 7;
	cr_assert_eq(ctl_infra_get(t, &b, T0)->srtt_ms, CTL_INFRA_SRTT_UNKNOWN_MS);
	cr_assert_eq(ctl_infra_get(t, &a, T0)->srtt_ms, 7);
	for (int i = 0; i < 200; i++) {
		struct ctl_addr x = addr((uint8_t)i);
		x.a[2] = 99;
		struct ctl_srv *s = ctl_infra_get(t, &x, T0);
		cr_assert(s->used && s->a.a[3] == (uint8_t)i);
	}
	ctl_infra_free(t);
}

Test(infra, failures_are_remembered_5_s_then_doubling_to_30)
{
	struct ctl_infra *t = new_infra();

	cr_assert_not(ctl_infra_failed(t, nm("x.hole"), DNS_T_A, DNS_C_IN, T0));
	ctl_infra_fail(t, nm("x.hole"), DNS_T_A, DNS_C_IN, T0);
	cr_assert(ctl_infra_failed(t, nm("X.Hole"), DNS_T_A, DNS_C_IN, T0 + 4999),
		  "in any letter case");
	cr_assert_not(ctl_infra_failed(t, nm("x.hole"), DNS_T_AAAA, DNS_C_IN, T0),
		      "per type");
	cr_assert_not(ctl_infra_failed(t, nm("y.hole"), DNS_T_A, DNS_C_IN, T0));
	cr_assert_not(ctl_infra_failed(t, nm("x.hole"), DNS_T_A, DNS_C_IN, T0 + 5000));
	/* failing again soon after: 10 s, then 20, then 30 (the bound) */
	uint64_t now = T0 + 5000;
	uint32_t want[] = { 10, 20, 30, 30 };
	for (int i = 0; i < 4; i++) {
		ctl_infra_fail(t, nm("x.hole"), DNS_T_A, DNS_C_IN, now);
		cr_assert(ctl_infra_failed(t, nm("x.hole"), DNS_T_A, DNS_C_IN,
					   now + want[i] * 1000 - 1), "round %d", i);
		cr_assert_not(ctl_infra_failed(t, nm("x.hole"), DNS_T_A, DNS_C_IN,
					       now + want[i] * 1000), "round %d", i);
		now += want[i] * 1000;
	}
	/* a failure long after the last one starts at 5 s again */
	now += 3600 * 1000;
	ctl_infra_fail(t, nm("x.hole"), DNS_T_A, DNS_C_IN, now);
	cr_assert_not(ctl_infra_failed(t, nm("x.hole"), DNS_T_A, DNS_C_IN, now + 5000));
	ctl_infra_free(t);
}

Test(infra, the_iterators_clock_is_monotonic)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint32_t mono = (uint32_t)ts.tv_sec;
	uint32_t now = ctl_iter_now();
	cr_assert(now >= mono && now <= mono + 1,
		  "ctl_iter_now() %u, CLOCK_MONOTONIC %u: a wall-clock step would move it",
		  now, mono);
}

static struct ctl_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ctl_addr x = { .family = AF_INET, .a = { a, b, c, d } };

	return x;
}

static struct ctl_addr v6(const char *s)
{
	struct ctl_addr x = { .family = AF_INET6 };

	cr_assert_eq(inet_pton(AF_INET6, s, x.a), 1);
	return x;
}

/* Whether c may query a (by value, for one-line checks). */
static bool may(const struct ctl_iter_config *c, struct ctl_addr a)
{
	return ctl_iter_may_query(c, &a);
}

static struct cfg_prefix pfx(struct ctl_addr a, uint8_t len)
{
	struct cfg_prefix p = { .a = { .family = a.family }, .len = len };

	memcpy(p.a.addr, a.a, 16);
	return p;
}

Test(iter, do_not_query_the_list_ourselves_and_no_servers_address)
{
	struct ctl_iter_config c;

	ctl_iter_config_default(&c);
	c.dont_query[c.n_dont_query++] = pfx(v4(127, 0, 0, 0), 8);
	c.dont_query[c.n_dont_query++] = pfx(v4(10, 0, 0, 0), 8);
	c.dont_query[c.n_dont_query++] = pfx(v6("fe80::"), 10);
	c.do_query[c.n_do_query++] = pfx(v4(127, 53, 0, 0), 16);
	c.own[c.n_own].family = AF_INET;
	memcpy(c.own[c.n_own++].addr, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	cr_assert(may(&c, v4(192, 0, 2, 53)), "anything else");
	cr_assert(may(&c, v4(127, 53, 1, 1)), "do-query wins");
	cr_assert_not(may(&c, v4(127, 0, 0, 1)));
	cr_assert_not(may(&c, v4(10, 1, 2, 3)));
	cr_assert_not(may(&c, v6("fe80::1")));
	cr_assert(may(&c, v6("2001:db8::53")));
	cr_assert_not(may(&c, v4(198, 18, 0, 1)), "ourselves");
	/* never a server's, whatever the lists say */
	c.do_query[c.n_do_query++] = pfx(v4(0, 0, 0, 0), 0);
	c.do_query[c.n_do_query++] = pfx(v6("::"), 0);
	cr_assert_not(may(&c, v4(0, 0, 0, 7)));
	cr_assert_not(may(&c, v4(224, 0, 0, 53)));
	cr_assert_not(may(&c, v4(255, 255, 255, 255)));
	cr_assert_not(may(&c, v6("::")));
	cr_assert_not(may(&c, v6("ff02::1")));
	cr_assert_not(may(&c, v6("::ffff:192.0.2.1")));
	cr_assert_not(may(&c, v4(198, 18, 0, 1)), "still ourselves");
}

static void count_srv(void *arg, const struct ctl_srv *s)
{
	unsigned *held = arg;

	if (s->hold_ms)
		(*held)++;
}

/* What the operator sees (bailiwick-ctl servers): every server held. */
Test(infra, each_server_is_shown)
{
	struct ctl_infra *t = new_infra();
	unsigned held = 0;

	cr_assert_eq(ctl_infra_each(t, count_srv, &held), 0);
	for (uint8_t i = 1; i <= 5; i++) {
		struct ctl_addr a = addr(i);
		struct ctl_srv *s = ctl_infra_get(t, &a, T0);

		for (int k = 0; i == 3 && k < 3; k++)
			ctl_infra_timeout(t, s, T0, NULL, false);
	}
	cr_assert_eq(ctl_infra_each(t, count_srv, &held), 5);
	cr_assert_eq(held, 1, "the one timed out three times");
	ctl_infra_free(t);
}
