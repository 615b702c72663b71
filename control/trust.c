/*
 * control/trust.c: the key table (see trust.h). A chained hash table of
 * at most max entries; each entry one allocation holding its RDATA.
 * Control process, one thread.
 */
#include "control/trust.h"

#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/log.h"
#include "control/err.h"
#include "dns/name.h"

#define BUCKETS 4096

struct ctl_trust {
	struct ctl_trust_entry *b[BUCKETS];
	unsigned n, max;
};

static uint32_t bucket(const uint8_t *zone)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0, n = dns_name_len(zone); i < n; i++)
		h = (h ^ dns_lower[zone[i]]) * 16777619u;
	return h % BUCKETS;
}

struct ctl_trust *ctl_trust_new(unsigned max)
{
	struct ctl_trust *t = calloc(1, sizeof(*t));

	if (t)
		t->max = max ? max : 1;
	return t;
}

static void entry_free(struct ctl_trust_entry *e)
{
	free(e);
}

void ctl_trust_free(struct ctl_trust *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		for (struct ctl_trust_entry *e = t->b[i], *n; e; e = n) {
			n = e->next;
			entry_free(e);
		}
	free(t);
}

unsigned ctl_trust_count(const struct ctl_trust *t)
{
	return t->n;
}

const struct ctl_trust_entry *ctl_trust_get(struct ctl_trust *t, const uint8_t *zone,
					    uint32_t now)
{
	for (struct ctl_trust_entry *e = t->b[bucket(zone)]; e; e = e->next)
		if (dns_name_equal(e->zone, zone))
			return (int32_t)(e->expire - now) > 0 ? e : NULL;
	return NULL;
}

/* Unlinks and frees *p's entry. */
static void drop(struct ctl_trust *t, struct ctl_trust_entry **p)
{
	struct ctl_trust_entry *e = *p;

	*p = e->next;
	entry_free(e);
	t->n--;
}

unsigned ctl_trust_flush(struct ctl_trust *t, const uint8_t *zone, bool below,
			 bool (*keep)(void *arg, const uint8_t *zone), void *arg)
{
	unsigned n = 0;

	for (unsigned i = 0; i < BUCKETS; i++)
		for (struct ctl_trust_entry **p = &t->b[i]; *p;) {
			const uint8_t *z = (*p)->zone;

			if ((!zone || (below ? dns_name_is_subdomain(z, zone) : dns_name_equal(z, zone))) &&
			    !(keep && keep(arg, z))) {
				drop(t, p);
				n++;
			} else {
				p = &(*p)->next;
			}
		}
	return n;
}

/* Room for one more: an expired entry anywhere in bucket b's chain, else
 * the chain's last (oldest) entry, else any bucket's first. */
static void make_room(struct ctl_trust *t, uint32_t b, uint32_t now)
{
	struct ctl_trust_entry **p, **last = NULL;

	for (p = &t->b[b]; *p; p = &(*p)->next) {
		if ((int32_t)((*p)->expire - now) <= 0) {
			drop(t, p);
			return;
		}
		last = p;
	}
	if (last) {
		drop(t, last);
		return;
	}
	for (uint32_t i = 0; i < BUCKETS; i++)
		if (t->b[i]) {
			drop(t, &t->b[i]);
			return;
		}
}

static size_t set_size(const struct ctl_val_rrset *s)
{
	size_t n = 0;

	for (unsigned i = 0; s && i < s->n; i++)
		n += s->rr[i].len;
	return n;
}

static void set_copy(struct ctl_val_rrset *dst, const struct ctl_val_rrset *src,
		     const uint8_t *owner, uint16_t type, struct ctl_val_rdata **rd,
		     uint8_t **data)
{
	*dst = (struct ctl_val_rrset){ .owner = owner, .type = type, .rclass = DNS_C_IN,
				       .rr = *rd };
	if (!src)
		return;
	dst->ttl = src->ttl;
	dst->n = src->n;
	for (unsigned i = 0; i < src->n; i++) {
		memcpy(*data, src->rr[i].p, src->rr[i].len);
		(*rd)[i] = (struct ctl_val_rdata){ *data, src->rr[i].len };
		*data += src->rr[i].len;
	}
	*rd += src->n;
}

int ctl_trust_set(struct ctl_trust *t, const uint8_t *zone, uint8_t state, uint16_t ede,
		  uint32_t ttl, uint32_t now, const struct ctl_val_rrset *ds,
		  const struct ctl_val_rrset *keys)
{
	uint32_t b = bucket(zone);
	unsigned nrd = (ds ? ds->n : 0) + (keys ? keys->n : 0);
	size_t size = sizeof(struct ctl_trust_entry) + nrd * sizeof(struct ctl_val_rdata) +
		      set_size(ds) + set_size(keys);
	struct ctl_trust_entry *e = calloc(1, size);

	if (!e)
		return CTL_E_NOMEM;
	for (struct ctl_trust_entry **p = &t->b[b]; *p; p = &(*p)->next)
		if (dns_name_equal((*p)->zone, zone)) {
			drop(t, p);
			break;
		}
	if (t->n >= t->max)
		make_room(t, b, now);
	dns_name_copy_lower(e->zone, zone);
	e->state = state;
	e->ede = ede;
	e->expire = now + (ttl ? ttl : 1);
	e->rd = (struct ctl_val_rdata *)(e + 1);
	e->data = (uint8_t *)(e->rd + nrd);
	struct ctl_val_rdata *rd = e->rd;
	uint8_t *data = e->data;
	set_copy(&e->ds, ds, e->zone, DNS_T_DS, &rd, &data);
	set_copy(&e->keys, keys, e->zone, DNS_T_DNSKEY, &rd, &data);
	e->next = t->b[b];
	t->b[b] = e;
	t->n++;
	if (cfg_log_on(CFG_LOG_DEBUG) && cfg_log_busy_ok()) {
		static const char *const names[] = {
			[CTL_TRUST_DS] = "a secure DS set, keys to fetch",
			[CTL_TRUST_SECURE] = "secure keys",
			[CTL_TRUST_INSECURE] = "insecure",
			[CTL_TRUST_BOGUS] = "bogus",
			[CTL_TRUST_NOCUT] = "no zone cut",
		};
		char z[4 * DNS_NAME_MAX + 1] = "?";
		dns_name_to_str(e->zone, z, sizeof(z));
		cfg_log(CFG_LOG_DEBUG, "key table: %s %s%s%s, for %u s", z,
			state >= CTL_TRUST_DS && state <= CTL_TRUST_NOCUT ? names[state] : "?",
			ede ? ": " : "", ede ? ctl_ede_why(ede) : "", ttl ? ttl : 1);
	}
	return 0;
}
