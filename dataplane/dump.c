/*
 * dataplane/dump.c: a page of the cache dump (bailiwick-ctl dump-cache),
 * asked by control through shm.h's dump request. Dataplane main thread
 * (the cache's writer: cache_walk() is its to call).
 *
 * Each request is one page: the walk goes on from the slot control names,
 * keeps the entries at or below the requested name, and stops when the
 * page is full or SHM_DUMP_SLOTS slots were looked at (the heartbeat must
 * not wait for a large cache); control asks for the next page from where
 * this one stopped. A name that is not a wire name is refused, counted,
 * and done at once.
 */
#include <string.h>

#include "conf/log.h"
#include "dataplane/dp.h"
#include "dns/name.h"

struct page {
	struct shm_ctl *ctl;
	const uint8_t *under;	/* NULL: every entry */
	uint32_t n;
};

static void keep(void *arg, const struct cache_entry_info *e)
{
	struct page *p = arg;

	if (p->under && !dns_name_is_subdomain(e->qname, p->under))
		return;
	/* cache_walk() calls once a slot, and the walk is no longer than the
	 * room left: a page that is full here is a broken invariant */
	if (p->n >= SHM_DUMP_PAGE)
		rte_panic("dump page overflow");
	struct shm_dump_entry *d = &p->ctl->dump[p->n++];

	memset(d, 0, sizeof(*d));
	memcpy(d->qname, e->qname, dns_name_len(e->qname));
	d->rcode = e->rcode;
	d->rank = e->rank;
	d->ede = e->ede;
	d->flags = (uint8_t)((e->full ? SHM_DUMP_F_FULL : 0) | (e->secure ? SHM_DUMP_F_SECURE : 0) |
			     (e->stale ? SHM_DUMP_F_STALE : 0));
	d->qtype = e->qtype;
	d->qclass = e->qclass;
	d->records = e->records;
	d->ttl_s = e->ttl_s;
	d->stale_s = e->stale_s;
	d->bytes = e->bytes;
}

unsigned dp_dump_poll(struct dp *dp)
{
	struct shm_ctl *ctl = dp->ctl;
	uint64_t seq = __atomic_load_n(&ctl->dump_seq, __ATOMIC_ACQUIRE);

	if (seq == ctl->dump_done)
		return 0;
	uint8_t under[DNS_NAME_MAX];
	uint64_t pos = ctl->dump_pos, looked = 0;
	struct page p = { ctl, NULL, 0 };

	_Static_assert(sizeof(ctl->dump_under) == sizeof(under), "a wire name's room");
	memcpy(under, ctl->dump_under, sizeof(under));
	ctl->dump_status = SHM_FLUSH_OK;
	if (dns_name_check(under, sizeof(under)) < 0) {
		ctl->dump_status = SHM_FLUSH_REFUSED;
		ctl->dump_next = 0;
		ctl->writer.dump_rejected++;
		goto done;
	}
	p.under = under[0] ? under : NULL;
	/* each slot holds one entry at most: a walk of as many slots as the
	 * page has room left cannot overflow it */
	while (p.n < SHM_DUMP_PAGE && looked < SHM_DUMP_SLOTS) {
		uint64_t room = SHM_DUMP_PAGE - p.n;

		looked += room;
		if (!cache_walk(dp->cache, &pos, room, ctl->now_s, keep, &p))
			break; /* pos is 0: every slot looked at */
	}
	ctl->dump_next = pos;
	ctl->writer.dump_pages++;
	cfg_log(CFG_LOG_DEBUG, "cache dump: a page of %u entries, the next from slot %llu", p.n,
		(unsigned long long)pos);
done:
	ctl->dump_n = p.n;
	__atomic_store_n(&ctl->dump_done, seq, __ATOMIC_RELEASE);
	return 1;
}
