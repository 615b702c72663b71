/*
 * answer/policy_zone.c: the source form of a policy zone (see policy.h):
 * growing arrays of rules and records and an arena of names and RDATA.
 * Control process, while a zone is read; never on a worker.
 */
#include "answer/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void policy_zone_init(struct policy_zone *z)
{
	memset(z, 0, sizeof(*z));
}

void policy_zone_fini(struct policy_zone *z)
{
	free(z->rule);
	free(z->rr);
	free(z->data);
	memset(z, 0, sizeof(*z));
}

void policy_zone_move(struct policy_zone *dst, struct policy_zone *src)
{
	if (dst == src)
		return;
	policy_zone_fini(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

/*
 * Large arrays are asked for transparent huge pages: a zone of a million
 * rules is otherwise first touched 4 KiB at a time, and on a virtual
 * machine those faults cost more than the parse (a 1.1 M-rule zone: read
 * 1.05-1.17 s and built 0.37 s with 4 KiB pages, 0.58-0.78 s and 0.16-0.22 s
 * with THP). The whole pages of the block are advised, so that a block
 * of its own mapping stays one mapping (realloc can still move it with
 * mremap). The kernel may ignore the advice (THP "never") at no cost.
 */
#define HUGE_ADVICE_MIN ((size_t)4 << 20)

void policy_advise_huge(void *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (!p || len < HUGE_ADVICE_MIN || page == 0 || page == (uintptr_t)-1)
		return;
	uintptr_t a = (uintptr_t)p & ~(page - 1);
	uintptr_t e = ((uintptr_t)p + len + page - 1) & ~(page - 1);
	madvise((void *)a, e - a, MADV_HUGEPAGE);
}

bool policy_grow(void **arr, size_t n, size_t *cap, size_t sz, size_t more)
{
	if (n + more <= *cap)
		return true;
	if (sz == 0 || more > SIZE_MAX / sz - n)
		return false;
	size_t c = *cap ? *cap : 64;
	while (c < n + more)
		c = c > SIZE_MAX / sz / 2 ? n + more : 2 * c;
	void *p = realloc(*arr, c * sz);
	if (!p)
		return false;
	policy_advise_huge(p, c * sz);
	*arr = p;
	*cap = c;
	return true;
}

int64_t policy_zone_put(struct policy_zone *z, const void *p, size_t len)
{
	if (z->data_len + len > UINT32_MAX)
		return -1;
	if (!policy_grow((void **)&z->data, z->data_len, &z->cap_data, 1, len ? len : 1))
		return -1;
	memcpy(z->data + z->data_len, p, len);
	z->data_len += len;
	return (int64_t)(z->data_len - len);
}

struct policy_rule *policy_zone_rule(struct policy_zone *z)
{
	if (z->n_rule >= UINT32_MAX - 1 ||
	    !policy_grow((void **)&z->rule, z->n_rule, &z->cap_rule, sizeof(*z->rule), 1))
		return NULL;
	struct policy_rule *r = &z->rule[z->n_rule++];
	memset(r, 0, sizeof(*r));
	return r;
}

struct policy_rr *policy_zone_rr(struct policy_zone *z)
{
	if (z->n_rr >= UINT32_MAX - 1 ||
	    !policy_grow((void **)&z->rr, z->n_rr, &z->cap_rr, sizeof(*z->rr), 1))
		return NULL;
	struct policy_rr *r = &z->rr[z->n_rr++];
	memset(r, 0, sizeof(*r));
	return r;
}
