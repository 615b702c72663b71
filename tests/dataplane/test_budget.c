/*
 * tests/dataplane/test_budget.c: a worker's budget of records for control
 * (dataplane/budget.h, dataplane.miss-budget) without EAL: none is no
 * limit; a second's worth in hand at start and never more; the rate holds
 * over a long run at any TSC rate, up to the largest budget at a 10 GHz
 * TSC without overflow; a TSC that goes back adds nothing; new names leave
 * the last eighth to cached ones; a refund gives a record back, never
 * beyond the bucket. (Most cases ask as cached names: the whole bucket.)
 */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "conf/config.h"
#include "dataplane/budget.h"

TestSuite(budget);

/* records taken when one is asked for at every tick of [from, to) */
static uint64_t take_each_tick(struct dp_budget *b, uint64_t from, uint64_t to)
{
	uint64_t n = 0;

	for (uint64_t t = from; t < to; t++)
		n += dp_budget_take(b, t, true);
	return n;
}

/* records taken at tick t until the budget says no (at most max + 1) */
static uint64_t drain_as(struct dp_budget *b, uint64_t t, uint64_t max, bool cached)
{
	uint64_t n = 0;

	while (n <= max && dp_budget_take(b, t, cached))
		n++;
	return n;
}

static uint64_t drain(struct dp_budget *b, uint64_t t, uint64_t max)
{
	return drain_as(b, t, max, true);
}

Test(budget, no_budget_is_no_limit)
{
	struct dp_budget b;

	dp_budget_init(&b, 0, 1000, 5);
	for (unsigned i = 0; i < 100000; i++)
		cr_assert(dp_budget_take(&b, 5, true));
}

Test(budget, a_second_in_hand_at_start_then_the_rate)
{
	struct dp_budget b;

	dp_budget_init(&b, 10, 1000, 0);
	for (unsigned i = 0; i < 10; i++)
		cr_assert(dp_budget_take(&b, 0, true), "record %u of the first second's 10", i);
	cr_assert_not(dp_budget_take(&b, 0, true));
	/* 10 a second at 1000 ticks a second: one each 100 ticks */
	cr_assert_not(dp_budget_take(&b, 99, true));
	cr_assert(dp_budget_take(&b, 100, true));
	cr_assert_not(dp_budget_take(&b, 150, true));
	cr_assert(dp_budget_take(&b, 200, true));
}

Test(budget, an_idle_spell_leaves_a_second_in_hand_not_more)
{
	struct dp_budget b;

	dp_budget_init(&b, 10, 1000, 0);
	cr_assert_eq(drain(&b, 0, 1000), 10);
	/* 50 s idle, then everything at once: 10, not 500 */
	cr_assert_eq(drain(&b, 50000, 1000), 10);
	/* 6 of 10 spent, then 5 s idle: 10 again, not 14 */
	cr_assert_eq(drain(&b, 51000, 5), 6);
	cr_assert_eq(drain(&b, 56000, 1000), 10);
}

Test(budget, the_rate_holds_over_a_long_run)
{
	static const struct { uint64_t per_s, hz; } cases[] = {
		{ 1, 1000 }, { 7, 1000 }, { 333, 100000 }, { 5000, 2100000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_budget b;
		uint64_t hz = cases[i].hz, per_s = cases[i].per_s;

		dp_budget_init(&b, per_s, hz, 0);
		/* 10 s asked at every tick: the second in hand, then 10 s of rate */
		uint64_t n = take_each_tick(&b, 0, 10 * hz);
		cr_assert(n >= 11 * per_s - 1 && n <= 11 * per_s,
			  "%" PRIu64 "/s at %" PRIu64 " Hz: %" PRIu64 " in 10 s", per_s, hz, n);
	}
}

Test(budget, the_largest_budget_at_a_fast_tsc_does_not_overflow)
{
	struct dp_budget b;
	uint64_t hz = 10000000000ull, per_s = CFG_MISS_BUDGET_MAX;

	dp_budget_init(&b, per_s, hz, 1);
	cr_assert_eq(drain(&b, 1, per_s), per_s, "a second's worth in hand");
	/* 1000 ticks later one more (10^7 a second at 10^10 ticks) */
	cr_assert_not(dp_budget_take(&b, 999, true));
	cr_assert(dp_budget_take(&b, 1001, true));
	/* an hour idle: a second's worth, not wrapped to little or none */
	cr_assert_eq(drain(&b, 1001 + 3600 * hz, per_s), per_s);
	/* 2^20 a second idle for 2^44 ticks: 2^64 units, which would wrap
	 * to nothing in hand */
	dp_budget_init(&b, 1u << 20, hz, 1);
	cr_assert_eq(drain(&b, 1, 1u << 20), 1u << 20);
	cr_assert_eq(drain(&b, 1 + (1ull << 44), 1u << 20), 1u << 20);
}

Test(budget, a_tsc_that_goes_back_adds_nothing)
{
	struct dp_budget b;

	dp_budget_init(&b, 10, 1000, 5000);
	cr_assert_eq(drain(&b, 5000, 1000), 10);
	/* earlier readings: nothing comes back, and the later refill
	 * counts from the latest reading */
	cr_assert_not(dp_budget_take(&b, 100, true));
	cr_assert_not(dp_budget_take(&b, 5099, true));
	cr_assert(dp_budget_take(&b, 5100, true));
}

Test(budget, new_names_leave_the_last_eighth_to_cached_ones)
{
	struct dp_budget b;

	/* 16 a second: 14 for new names, the last 2 for cached ones */
	dp_budget_init(&b, 16, 1000, 0);
	cr_assert_eq(drain_as(&b, 0, 100, false), 14);
	cr_assert_eq(drain_as(&b, 0, 100, true), 2);
	cr_assert_eq(drain_as(&b, 0, 100, true), 0);
	/* a steady flood of new names at every tick leaves the reserve
	 * alone: the cached ones find it there */
	uint64_t n = 0;
	for (uint64_t t = 1; t < 5000; t++)
		n += dp_budget_take(&b, t, false);
	cr_assert(n >= 77 && n <= 78, "5 s of 16 a second, 2 left: %" PRIu64, n);
	/* (the flood stops below 3 in hand: the 2 kept and what came since
	 * its last take) */
	uint64_t kept = drain_as(&b, 5000, 100, true);
	cr_assert(kept >= 2 && kept <= 3, "%" PRIu64, kept);
	/* below 8 a second there is no reserve: 7 of 7 for new names */
	dp_budget_init(&b, 7, 1000, 0);
	cr_assert_eq(drain_as(&b, 0, 100, false), 7);
}

Test(budget, a_refund_gives_one_back_never_beyond_the_bucket)
{
	struct dp_budget b;

	dp_budget_init(&b, 4, 1000, 0);
	cr_assert_eq(drain(&b, 0, 100), 4);
	dp_budget_refund(&b);
	cr_assert_eq(drain(&b, 0, 100), 1);
	/* full: a refund adds nothing */
	dp_budget_init(&b, 4, 1000, 0);
	dp_budget_refund(&b);
	cr_assert_eq(drain(&b, 0, 100), 4);
	/* none: nothing to give back, still no limit */
	dp_budget_init(&b, 0, 1000, 0);
	dp_budget_refund(&b);
	cr_assert(dp_budget_take(&b, 0, false));
}
