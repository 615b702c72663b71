/*
 * control/anchor.c: reading trust anchors (see anchor.h). Control process,
 * at start. Every record is checked before it is kept; the first problem
 * is reported with its file and line.
 */
#include "control/anchor.h"

#include <libzscanner/scanner.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/err.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"

static int fail(struct ctl_anchors *t, char *err, size_t errlen,
		const char *name, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	int n = line ? snprintf(err, errlen, "%s:%llu: ", name,
				(unsigned long long)line)
		     : snprintf(err, errlen, "%s: ", name);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	t->n = 0;
	return CTL_E_ANCHOR;
}

static struct ctl_anchor *anchor_of(struct ctl_anchors *t, const uint8_t *owner)
{
	for (unsigned i = 0; i < t->n; i++)
		if (dns_name_equal(t->a[i].owner, owner))
			return &t->a[i];
	if (t->n == CTL_ANCHOR_NAMES_MAX)
		return NULL;
	struct ctl_anchor *a = &t->a[t->n++];
	dns_name_copy_lower(a->owner, owner);
	a->ds = (struct ctl_val_rrset){ .owner = a->owner, .type = DNS_T_DS,
					.rclass = DNS_C_IN, .rr = a->ds_rd };
	a->keys = (struct ctl_val_rrset){ .owner = a->owner, .type = DNS_T_DNSKEY,
					  .rclass = DNS_C_IN, .rr = a->key_rd };
	return a;
}

/* Checks and keeps the record the scanner holds; NULL or what is wrong. */
static const char *take(struct ctl_anchors *t, const zs_scanner_t *s)
{
	const uint8_t *rd = s->r_data;
	size_t len = s->r_data_length;

	if (s->r_class != DNS_C_IN)
		return "trust anchors are records of class IN";
	if (s->r_type != DNS_T_DS && s->r_type != DNS_T_DNSKEY)
		return "a trust anchor is a DS or DNSKEY record";
	if (len > CTL_ANCHOR_RDATA_MAX || dns_rdata_check_flat(s->r_type, rd, len))
		return "malformed or oversized RDATA";
	if (s->r_type == DNS_T_DNSKEY) {
		uint16_t flags = dns_get16(rd);
		if (!(flags & CTL_DNSKEY_ZONE))
			return "DNSKEY without the zone key flag (256 or 257 expected)";
		if (flags & CTL_DNSKEY_REVOKE)
			return "DNSKEY with the REVOKE flag cannot anchor trust";
		if (rd[2] != CTL_DNSKEY_PROTOCOL)
			return "DNSKEY protocol must be 3";
	}
	struct ctl_anchor *a = anchor_of(t, s->r_owner);
	if (!a)
		return "too many trust anchor names";
	struct ctl_val_rrset *set = s->r_type == DNS_T_DS ? &a->ds : &a->keys;
	uint8_t(*buf)[CTL_ANCHOR_RDATA_MAX] =
		s->r_type == DNS_T_DS ? a->ds_buf : a->key_buf;
	struct ctl_val_rdata *v = s->r_type == DNS_T_DS ? a->ds_rd : a->key_rd;
	for (unsigned i = 0; i < set->n; i++)
		if (v[i].len == len && memcmp(v[i].p, rd, len) == 0)
			return NULL; /* a duplicate: one is enough */
	if (set->n == CTL_ANCHOR_RR_MAX)
		return "too many records for one trust anchor name";
	memcpy(buf[set->n], rd, len);
	v[set->n] = (struct ctl_val_rdata){ buf[set->n], (uint16_t)len };
	set->n++;
	if (s->r_ttl < set->ttl || set->n == 1)
		set->ttl = s->r_ttl;
	return NULL;
}

static int run(struct ctl_anchors *t, zs_scanner_t *s, const char *name,
	       char *err, size_t errlen)
{
	unsigned records = 0;

	for (;;) {
		if (zs_parse_record(s) != 0 && s->state != ZS_STATE_ERROR)
			return fail(t, err, errlen, name, 0, "%s",
				    zs_strerror(s->error.code));
		switch (s->state) {
		case ZS_STATE_DATA: {
			const char *why = take(t, s);
			if (why)
				return fail(t, err, errlen, name, s->line_counter, "%s", why);
			records++;
			break;
		}
		case ZS_STATE_ERROR:
			return fail(t, err, errlen, name, s->line_counter, "%s",
				    zs_strerror(s->error.code));
		case ZS_STATE_INCLUDE:
			return fail(t, err, errlen, name, s->line_counter,
				    "$INCLUDE is not allowed in a trust anchor file");
		case ZS_STATE_EOF:
		case ZS_STATE_STOP:
			if (!records)
				return fail(t, err, errlen, name, 0,
					    "no DS or DNSKEY record: no trust anchor");
			return 0;
		default:
			break;
		}
	}
}

static int parse(struct ctl_anchors *t, const char *text, size_t len,
		 const char *path, const char *name, char *err, size_t errlen)
{
	zs_scanner_t *s = calloc(1, sizeof(*s));
	int r;

	t->n = 0;
	if (!s)
		return CTL_E_NOMEM;
	if (zs_init(s, ".", DNS_C_IN, 3600) != 0) {
		free(s);
		return CTL_E_NOMEM;
	}
	if ((path ? zs_set_input_file(s, path) : zs_set_input_string(s, text, len)) != 0)
		r = fail(t, err, errlen, name, 0, "%s", zs_strerror(s->error.code));
	else
		r = run(t, s, name, err, errlen);
	zs_deinit(s);
	free(s);
	return r;
}

int ctl_anchors_parse(struct ctl_anchors *t, const char *text, size_t len,
		      const char *name, char *err, size_t errlen)
{
	return parse(t, text, len, NULL, name, err, errlen);
}

uint64_t ctl_anchors_id(const struct ctl_anchors *t)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (unsigned i = 0; i < t->n; i++) {
		const struct ctl_anchor *a = &t->a[i];
		const struct ctl_val_rdata *rd[2] = { a->ds_rd, a->key_rd };
		unsigned nrd[2] = { a->ds.n, a->keys.n };
		for (size_t k = 0; k < dns_name_len(a->owner); k++)
			h = (h ^ a->owner[k]) * 0x100000001b3ULL;
		for (int s = 0; s < 2; s++)
			for (unsigned j = 0; j < nrd[s]; j++) {
				uint8_t head[3] = { (uint8_t)(s + 1), (uint8_t)(rd[s][j].len >> 8),
						    (uint8_t)rd[s][j].len };
				for (unsigned k = 0; k < 3; k++)
					h = (h ^ head[k]) * 0x100000001b3ULL;
				for (unsigned k = 0; k < rd[s][j].len; k++)
					h = (h ^ rd[s][j].p[k]) * 0x100000001b3ULL;
			}
	}
	return h ? h : 1;
}

int ctl_anchors_load(struct ctl_anchors *t, const char *path, char *err,
		     size_t errlen)
{
	return parse(t, NULL, 0, path, path, err, errlen);
}

const struct ctl_anchor *ctl_anchors_find(const struct ctl_anchors *t,
					  const uint8_t *name)
{
	const struct ctl_anchor *best = NULL;
	int best_labels = -1;

	for (unsigned i = 0; i < t->n; i++) {
		int l = dns_name_labels(t->a[i].owner);
		if (l > best_labels && dns_name_is_subdomain(name, t->a[i].owner)) {
			best = &t->a[i];
			best_labels = l;
		}
	}
	return best;
}
