/*
 * answer/policy_zone.c: the source form of a policy zone (see policy.h):
 * growing arrays of rules and records and an arena of names and RDATA.
 * Control process, while a zone is read; never on a worker.
 */
#include "answer/policy.h"

#include <stdlib.h>
#include <string.h>

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

/* Makes room for one more element of size sz in *arr (n used, *cap held). */
static bool grow(void **arr, size_t n, size_t *cap, size_t sz, size_t more)
{
	if (n + more <= *cap)
		return true;
	size_t c = *cap ? *cap : 64;
	while (c < n + more)
		c *= 2;
	void *p = realloc(*arr, c * sz);
	if (!p)
		return false;
	*arr = p;
	*cap = c;
	return true;
}

int64_t policy_zone_put(struct policy_zone *z, const void *p, size_t len)
{
	if (z->data_len + len > UINT32_MAX)
		return -1;
	if (!grow((void **)&z->data, z->data_len, &z->cap_data, 1, len ? len : 1))
		return -1;
	memcpy(z->data + z->data_len, p, len);
	z->data_len += len;
	return (int64_t)(z->data_len - len);
}

struct policy_rule *policy_zone_rule(struct policy_zone *z)
{
	if (z->n_rule >= UINT32_MAX - 1 ||
	    !grow((void **)&z->rule, z->n_rule, &z->cap_rule, sizeof(*z->rule), 1))
		return NULL;
	struct policy_rule *r = &z->rule[z->n_rule++];
	memset(r, 0, sizeof(*r));
	return r;
}

struct policy_rr *policy_zone_rr(struct policy_zone *z)
{
	if (z->n_rr >= UINT32_MAX - 1 ||
	    !grow((void **)&z->rr, z->n_rr, &z->cap_rr, sizeof(*z->rr), 1))
		return NULL;
	struct policy_rr *r = &z->rr[z->n_rr++];
	memset(r, 0, sizeof(*r));
	return r;
}
