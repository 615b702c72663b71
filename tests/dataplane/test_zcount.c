/*
 * tests/dataplane/test_zcount.c: a worker's per-zone count of RFC 8198
 * answers (dataplane/zcount.h) without EAL: zones interleaved within one
 * turn each get their own answers, the memo of the last zone never
 * counts one zone's answer for another, a zone at the address of one
 * freed before the turn's end (after the memo is forgotten) gets a slot of
 * its own, and a row with no room counts in "other zones".
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dataplane/zcount.h"

static struct shm_nsec_zone_count row[SHM_NSEC_ZONE_SLOTS];

static void setup(void)
{
	memset(row, 0, sizeof(row));
}

/* The answers counted for apex (wire), 0 when it has no slot. */
static uint64_t answers(const uint8_t *apex, size_t len)
{
	for (unsigned i = 0; i < SHM_NSEC_ZONE_SLOTS - 1; i++)
		if (row[i].apex_len == len && !memcmp(row[i].apex, apex, len))
			return row[i].answers;
	return 0;
}

TestSuite(zcount, .init = setup);

Test(zcount, zones_interleaved_in_one_turn_each_count_their_own)
{
	static const uint8_t a[] = "\4bank\6secure", b[] = "\5nsec3\6secure";
	struct dp_zcount_memo m = { 0 };

	/* (the proofs' apexes: the store's copies, one address per zone) */
	for (int i = 0; i < 10; i++) {
		dp_zcount(row, &m, a, sizeof(a));
		if (i % 3 == 0)
			dp_zcount(row, &m, b, sizeof(b));
	}
	cr_assert_eq(answers(a, sizeof(a)), 10);
	cr_assert_eq(answers(b, sizeof(b)), 4);
	cr_assert_eq(row[SHM_NSEC_ZONE_SLOTS - 1].answers, 0);
}

Test(zcount, an_address_reused_after_forget_is_a_new_zone)
{
	uint8_t zone[32];
	static const uint8_t a[] = "\4bank\6secure", b[] = "\3lab";
	struct dp_zcount_memo m = { 0 };

	memcpy(zone, a, sizeof(a));
	dp_zcount(row, &m, zone, sizeof(a));
	dp_zcount(row, &m, zone, sizeof(a));
	/* the quiescent state: the store may now free the zone and put
	 * another at its address */
	dp_zcount_forget(&m);
	memcpy(zone, b, sizeof(b));
	dp_zcount(row, &m, zone, sizeof(b));
	cr_assert_eq(answers(a, sizeof(a)), 2);
	cr_assert_eq(answers(b, sizeof(b)), 1);
}

Test(zcount, copies_of_one_apex_share_its_slot)
{
	static const uint8_t a[] = "\4bank\6secure";
	uint8_t copy[sizeof(a)];
	struct dp_zcount_memo m = { 0 };

	memcpy(copy, a, sizeof(a));
	dp_zcount(row, &m, a, sizeof(a));
	dp_zcount(row, &m, copy, sizeof(a)); /* (a zone replaced by the writer) */
	dp_zcount(row, &m, a, sizeof(a));
	cr_assert_eq(answers(a, sizeof(a)), 3);
}

Test(zcount, a_full_neighbourhood_counts_as_other_zones)
{
	/* apexes of one length and second octet probe the same four slots */
	uint8_t z[6][9];
	struct dp_zcount_memo m = { 0 };

	for (int i = 0; i < 6; i++) {
		memcpy(z[i], "\3aXa\3lab", 9);
		z[i][3] = (uint8_t)('a' + i);
		dp_zcount(row, &m, z[i], 9);
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(answers(z[i], 9), 1);
	cr_assert_eq(answers(z[4], 9), 0);
	cr_assert_eq(row[SHM_NSEC_ZONE_SLOTS - 1].answers, 2);
	/* the memo of an "other zones" answer counts there again */
	dp_zcount(row, &m, z[5], 9);
	cr_assert_eq(row[SHM_NSEC_ZONE_SLOTS - 1].answers, 3);
}
