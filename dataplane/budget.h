/*
 * dataplane/budget.h: a worker's budget of records for control
 * (dataplane.miss-budget): a token bucket on the worker's TSC, a second of
 * the rate deep, full at start. Worker lcore only, one call per miss or
 * refresh. Header-only so that it inlines into the worker and
 * tests/dataplane can drive it without EAL.
 *
 * The last eighth of the bucket (whole records: none below 8 a second) is
 * kept for the refreshes cached entries' hits claimed (a prefetch, a stale
 * entry's): during a flood of new names the popular ones still get
 * refreshed.
 *
 * Units: a record costs hz; each TSC tick adds per_s. So the bucket holds
 * per_s * hz at most (a second's worth): 10^7 a second at a 10 GHz TSC is
 * 10^17, well inside 64 bits, and so is a second's refill.
 */
#ifndef BW_DATAPLANE_BUDGET_H
#define BW_DATAPLANE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct dp_budget {
	uint64_t per_s;		/* records a second; 0: no budget */
	uint64_t hz;		/* TSC ticks a second */
	uint64_t tokens;	/* in hand, one record = hz */
	uint64_t last;		/* TSC of the last refill */
};

static inline void dp_budget_init(struct dp_budget *b, uint64_t per_s, uint64_t hz,
				  uint64_t now)
{
	b->per_s = per_s;
	b->hz = hz;
	b->tokens = per_s * hz;
	b->last = now;
}

/* true when one more record may go to control at TSC now (it is taken
 * from the budget); always true without a budget. cached: a record for a
 * cached name, which may take the last eighth. */
static inline bool dp_budget_take(struct dp_budget *b, uint64_t now, bool cached)
{
	if (!b->per_s)
		return true;
	uint64_t cap = b->per_s * b->hz;

	if (now > b->last) { /* (a TSC that goes back adds nothing) */
		uint64_t dt = now - b->last < b->hz ? now - b->last : b->hz;
		b->last = now;
		b->tokens += dt * b->per_s;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	if (b->tokens < b->hz + (cached ? 0 : b->per_s / 8 * b->hz))
		return false;
	b->tokens -= b->hz;
	return true;
}

/* A record taken from the budget at no cost after all (control's ring had
 * no room for it): its share goes back. */
static inline void dp_budget_refund(struct dp_budget *b)
{
	if (b->per_s && b->tokens < b->per_s * b->hz)
		b->tokens += b->hz;
}

#endif
