/*
 * tests/fuzz/fuzz_val.c: libFuzzer target for the validator (control/
 * val.h), which reads the DNSSEC records of every upstream answer. Input:
 * one mode octet, then a DNS message. Its records are grouped into RRsets
 * (owner, type, with the RRSIGs over them, from every section); its
 * DNSKEYs are the zone's keys (the first one also an anchor when the mode
 * says so), its DS records a DS set for them. Every RRset is validated,
 * the key set against the DS set and the anchor, and every denial proof
 * is asked of the question with the NSEC and NSEC3 records, at a time
 * inside the first RRSIG's window (the mode may move it out). Beyond "no
 * crash": no budget is ever exceeded, and results are consistent (secure
 * without an EDE code, bogus with one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/val.h"
#include "dns/msg.h"
#include "dns/name.h"

#define RRS_MAX 256
#define SETS_MAX 64

static void check(int ok)
{
	if (!ok)
		abort();
}

struct set {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type;
	struct ctl_val_rrset s;
	struct ctl_val_rdata rr[RRS_MAX], sig[RRS_MAX];
};

static struct set sets[SETS_MAX];
static uint8_t arena[1 << 17];
static struct ctl_val_denial nsec[RRS_MAX], nsec3[RRS_MAX];
static uint8_t owners[RRS_MAX][DNS_NAME_MAX];

static void check_result(const struct ctl_val_budget *b, const struct ctl_val_result *r)
{
	const struct ctl_val_limits *l = b->lim;

	check(b->verify <= l->max_verify);
	check(b->failures <= l->max_failures);
	check(b->failures <= b->verify);
	check(b->nsec3_hashes <= l->max_nsec3_hashes);
	check(r->sec == CTL_SEC_SECURE || r->sec == CTL_SEC_INSECURE ||
	      r->sec == CTL_SEC_BOGUS);
	check(r->sec != CTL_SEC_SECURE || r->ede == CTL_EDE_NONE);
	check(r->sec != CTL_SEC_BOGUS || r->ede != CTL_EDE_NONE);
	check(r->why != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;
	struct ctl_val_limits lim;
	struct ctl_val_budget b;
	struct ctl_val_result res;
	unsigned nsets = 0, n_nsec = 0, n_nsec3 = 0, nowners = 0;
	size_t used = 0;
	uint32_t now = 0;
	bool have_time = false;

	if (size < 1 || dns_msg_parse(&m, data + 1, size - 1) || m.qname_len == 0)
		return 0;
	uint8_t mode = data[0];
	ctl_val_limits_default(&lim);
	lim.rsasha1 = !(mode & 0x10);
	if (mode & 0x20) {
		lim.max_verify = 4;
		lim.max_failures = 2;
		lim.max_nsec3_hashes = 3;
	}
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0) {
		if (rr.type == DNS_T_OPT || nowners == RRS_MAX)
			continue;
		int n = dns_rr_rdata(&m, &rr, arena + used, sizeof(arena) - used);
		if (n < 0)
			continue;
		const uint8_t *rd = arena + used;
		used += (size_t)n;
		uint8_t *owner = owners[nowners++];
		memcpy(owner, rr.owner, rr.owner_len);
		uint16_t type = rr.type;
		bool sig = type == DNS_T_RRSIG;
		if (sig) {
			struct ctl_rrsig s;
			if (!ctl_rrsig_read(&s, rd, (size_t)n))
				continue;
			type = s.covered;
			if (!have_time) {
				now = s.inception + 1 + (mode & 0x40 ? 0x7fffffffu : 0);
				have_time = true;
			}
		}
		if (type == DNS_T_NSEC && !sig)
			nsec[n_nsec++] = (struct ctl_val_denial){ owner, rd, (uint16_t)n };
		if (type == DNS_T_NSEC3 && !sig)
			nsec3[n_nsec3++] = (struct ctl_val_denial){ owner, rd, (uint16_t)n };
		unsigned k;
		for (k = 0; k < nsets; k++)
			if (sets[k].type == type && dns_name_equal(sets[k].owner, owner))
				break;
		if (k == nsets) {
			if (nsets == SETS_MAX)
				continue;
			memset(&sets[k].s, 0, sizeof(sets[k].s));
			memcpy(sets[k].owner, owner, rr.owner_len);
			sets[k].type = type;
			sets[k].s = (struct ctl_val_rrset){ .owner = sets[k].owner, .type = type,
							    .rclass = rr.rclass, .ttl = rr.ttl,
							    .rr = sets[k].rr, .sig = sets[k].sig };
			nsets++;
		}
		struct ctl_val_rrset *s = &sets[k].s;
		if (sig && s->nsig < RRS_MAX)
			sets[k].sig[s->nsig++] = (struct ctl_val_rdata){ rd, (uint16_t)n };
		else if (!sig && s->n < RRS_MAX)
			sets[k].rr[s->n++] = (struct ctl_val_rdata){ rd, (uint16_t)n };
	}
	const struct ctl_val_rrset *keys = NULL, *ds = NULL;
	for (unsigned k = 0; k < nsets; k++) {
		if (sets[k].type == DNS_T_DNSKEY && sets[k].s.n && !keys)
			keys = &sets[k].s;
		if (sets[k].type == DNS_T_DS && sets[k].s.n && !ds)
			ds = &sets[k].s;
	}
	if (!keys)
		return 0;
	const uint8_t *zone = keys->owner;

	/* the key set, against the DS set and (mode) its first key as anchor */
	struct ctl_val_rrset anchor = *keys;
	anchor.n = 1;
	ctl_val_budget_init(&b, &lim);
	ctl_val_keyset(&b, keys, ds, mode & 1 ? &anchor : NULL, now, &res);
	check_result(&b, &res);
	check(ds || (mode & 1) || res.sec != CTL_SEC_SECURE);

	/* every RRset against the keys, one budget for them all */
	ctl_val_budget_init(&b, &lim);
	for (unsigned k = 0; k < nsets; k++) {
		if (!sets[k].s.n)
			continue;
		ctl_val_rrset(&b, &sets[k].s, zone, keys, now, &res);
		check_result(&b, &res);
		check(res.sec != CTL_SEC_INSECURE);
		check(res.sec != CTL_SEC_SECURE || res.ttl <= sets[k].s.ttl);
		check(res.sec != CTL_SEC_SECURE ||
		      res.wildcard_labels < dns_name_labels(sets[k].s.owner) + 0u ||
		      res.wildcard_labels == 0);
	}

	/* every proof of the question, one budget */
	ctl_val_budget_init(&b, &lim);
	for (int what = CTL_DENY_NXDOMAIN; what <= CTL_DENY_DS; what++) {
		ctl_val_deny(&b, (enum ctl_val_deny)what, zone, m.qname, m.qtype,
			     (uint8_t)(mode >> 1 & 3), nsec, n_nsec, nsec3, n_nsec3, &res);
		check_result(&b, &res);
		check(res.sec != CTL_SEC_SECURE || n_nsec || n_nsec3);
	}
	return 0;
}
