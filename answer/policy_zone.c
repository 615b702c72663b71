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
	policy_array_free(z->rule);
	policy_array_free(z->rr);
	policy_array_free(z->data);
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
 * The arrays of policy_grow(): a header before the elements says how the
 * block was got. Blocks of BIG_MIN octets and more are mappings of their
 * own, asked for transparent huge pages, grown with mremap and given back
 * with munmap: a zone of a million rules is otherwise first touched 4 KiB
 * at a time, and on a virtual machine those faults cost more than the
 * parse (a 1.1 M-rule zone: read 1.05-1.17 s and built 0.37 s with 4 KiB
 * pages, 0.57-0.88 s and 0.12-0.16 s with huge pages). The advice covers
 * only these mappings (advice given to part of the malloc heap would stay
 * with it, under other blocks, after this one is freed). The kernel may
 * ignore it (THP "never") at no cost. Smaller blocks are malloc's.
 */
#define BIG_MIN ((size_t)4 << 20)

struct blk {
	size_t map;	/* the mapping's length; 0: malloc'd */
	size_t pad;	/* (the elements 16-aligned) */
};

static struct blk *blk_of(void *arr)
{
	return arr ? (struct blk *)(void *)((uint8_t *)arr - sizeof(struct blk)) : NULL;
}

void policy_array_free(void *arr)
{
	struct blk *b = blk_of(arr);

	if (b && b->map)
		munmap(b, b->map);
	else
		free(b);
}

/* The block old (NULL: none; used octets of it kept) as one of total
 * octets, header included: the new block, or NULL (old unchanged). */
static struct blk *blk_resize(struct blk *old, size_t used, size_t total)
{
	struct blk *b;

	if (total < BIG_MIN) { /* (old is smaller: malloc'd too) */
		if (!(b = realloc(old, total)))
			return NULL;
		b->map = 0;
		return b;
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (page == 0 || page == (size_t)-1 || total > SIZE_MAX - page)
		return NULL;
	size_t len = (total + page - 1) & ~(page - 1);
	if (old && old->map) {
		b = mremap(old, old->map, len, MREMAP_MAYMOVE); /* (the advice goes along) */
		if (b == MAP_FAILED)
			return NULL;
	} else {
		b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		madvise(b, len, MADV_HUGEPAGE);
		if (old) {
			memcpy(b, old, sizeof(*b) + used);
			free(old);
		}
	}
	b->map = len;
	return b;
}

bool policy_grow(void **arr, size_t n, size_t *cap, size_t sz, size_t more)
{
	if (sz == 0 || n > SIZE_MAX / sz || more > SIZE_MAX / sz - n)
		return false;
	if (n + more <= *cap)
		return true;
	size_t c = *cap ? *cap : 64;
	while (c < n + more)
		c = c > SIZE_MAX / sz / 2 ? n + more : 2 * c;
	if (c * sz > SIZE_MAX - sizeof(struct blk))
		return false;
	struct blk *b = blk_resize(blk_of(*arr), n * sz, sizeof(struct blk) + c * sz);
	if (!b)
		return false;
	*arr = (uint8_t *)b + sizeof(struct blk);
	*cap = c;
	return true;
}

void *policy_array_alloc(void *arg, size_t size)
{
	(void)arg;
	if (size > SIZE_MAX - sizeof(struct blk))
		return NULL;
	/* exactly its size: a snapshot does not grow */
	struct blk *b = blk_resize(NULL, 0, sizeof(struct blk) + size);
	return b ? (uint8_t *)b + sizeof(struct blk) : NULL;
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
