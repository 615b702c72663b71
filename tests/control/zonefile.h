/*
 * tests/control/zonefile.h: zone files for the validator's tests, read with
 * Knot DNS's zone scanner into memory, and RRset views of them as the
 * validator takes them (control/val.h). Test code: failures abort the test.
 */
#ifndef BW_TESTS_CONTROL_ZONEFILE_H
#define BW_TESTS_CONTROL_ZONEFILE_H

#include <criterion/criterion.h>
#include <libzscanner/scanner.h>
#include <stdlib.h>
#include <string.h>

#include "control/val.h"
#include "dns/name.h"
#include "dns/wire.h"

struct zrec {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t len;
	uint8_t *rd;
};

struct zone {
	struct zrec *r;
	size_t n, cap;
};

static inline struct zone *zone_read(const char *path)
{
	struct zone *z = calloc(1, sizeof(*z));
	zs_scanner_t *s = calloc(1, sizeof(*s));

	cr_assert(z && s);
	cr_assert_eq(zs_init(s, ".", DNS_C_IN, 3600), 0);
	cr_assert_eq(zs_set_input_file(s, path), 0, "%s: %s", path,
		     zs_strerror(s->error.code));
	while (zs_parse_record(s) == 0 && s->state == ZS_STATE_DATA) {
		if (z->n == z->cap) {
			z->cap = z->cap ? 2 * z->cap : 256;
			z->r = realloc(z->r, z->cap * sizeof(*z->r));
			cr_assert(z->r);
		}
		struct zrec *r = &z->r[z->n++];
		memcpy(r->owner, s->r_owner, s->r_owner_length);
		r->type = s->r_type;
		r->rclass = s->r_class;
		r->ttl = s->r_ttl;
		r->len = (uint16_t)s->r_data_length;
		r->rd = malloc(r->len ? r->len : 1);
		memcpy(r->rd, s->r_data, r->len);
	}
	cr_assert(s->state == ZS_STATE_EOF, "%s:%llu: %s", path,
		  (unsigned long long)s->line_counter, zs_strerror(s->error.code));
	zs_deinit(s);
	free(s);
	return z;
}

static inline void zone_free(struct zone *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->r[i].rd);
	free(z->r);
	free(z);
}

#define ZSET_MAX 128

/* One RRset of a zone with the RRSIGs over it, as a validator view. */
struct zset {
	struct ctl_val_rrset set;
	struct ctl_val_rdata rr[ZSET_MAX];
	struct ctl_val_rdata sig[ZSET_MAX];
};

/* Fills *o with owner/type's records and RRSIGs; returns the record count. */
static inline unsigned zone_rrset(const struct zone *z, const uint8_t *owner,
				  uint16_t type, struct zset *o)
{
	memset(o, 0, sizeof(*o));
	o->set.owner = owner;
	o->set.type = type;
	o->set.rclass = DNS_C_IN;
	o->set.rr = o->rr;
	o->set.sig = o->sig;
	for (size_t i = 0; i < z->n; i++) {
		const struct zrec *r = &z->r[i];
		if (!dns_name_equal(r->owner, owner))
			continue;
		if (r->type == type && o->set.n < ZSET_MAX) {
			o->rr[o->set.n++] = (struct ctl_val_rdata){ r->rd, r->len };
			o->set.ttl = r->ttl;
		} else if (r->type == DNS_T_RRSIG && r->len >= 2 &&
			   dns_get16(r->rd) == type && o->set.nsig < ZSET_MAX) {
			o->sig[o->set.nsig++] = (struct ctl_val_rdata){ r->rd, r->len };
		}
	}
	return o->set.n;
}

#endif
