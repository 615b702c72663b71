/*
 * control/rpz.c: reading a response policy zone (see rpz.h). Control
 * process, at start and on every reload; may block (reads a file).
 *
 * Two passes. The scanner's records are checked one by one as they come
 * (class, zone, type, RDATA, the trigger the owner encodes) and kept with
 * their owner's group: a hash table from the lower-cased owner, the origin
 * removed (every owner ends in it), to a group whose records are chained
 * in file order. Then each group becomes one rule, in the order the owners
 * were first seen. Invariants:
 *   - a group exists only for an owner below the origin whose trigger
 *     decodes, and every record chained to it is a CNAME, A, AAAA or TXT
 *     with checked RDATA (CNAME targets lower-cased);
 *   - every record read (a line the scanner could not parse included) is
 *     counted once in records, every record rejected once in rejected, and
 *     each rejection is one report line (an owner whose records are
 *     rejected together: one line, at the record that made the conflict);
 *   - the work is linear in the file, because a feed is large and made by
 *     programs we do not control: one table lookup per record, the table
 *     at most half full and its hash keyed by a secret seed so that a feed
 *     cannot choose owners that collide; an owner's duplicates are found by
 *     sorting its records, never by comparing every pair (nothing stops a
 *     feed from putting 100 000 records at one owner).
 * Measured on a 2-core VM: 1 million one-record QNAME rules in 0.9 to
 * 1.4 s, the scanner 0.1 s of it; most of the rest is first touches of
 * the ~190 MB the records, groups, table and the zone itself take.
 */
#include "control/rpz.h"

#include <libzscanner/scanner.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "control/err.h"
#include "control/khash.h"
#include "control/xfr.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"

#define RPZ_LINE_MAX 4096	/* octets of one report or error line */
#define RPZ_NAME_TEXT_MAX 1100	/* a wire name in presentation, \DDD escapes */
#define RPZ_TTL_DEFAULT_S 3600	/* for records before any $TTL or TTL */
#define REC_END UINT32_MAX	/* the end of an owner's chain */

/* One record kept for its owner's rule. */
struct rec {
	uint32_t next;		/* the owner's next record, or REC_END */
	uint32_t line;
	uint32_t ttl;
	uint32_t rd_off;	/* RDATA in the scratch arena */
	uint16_t rdlen;
	uint16_t type;
	uint8_t dup;		/* an earlier record of the owner is the same */
};

/* The records of one owner: one rule to be. */
struct group {
	uint32_t rel_off;	/* the owner, origin removed, root added:
				   lower-cased wire in the scratch arena */
	uint32_t first, last;	/* records, chained by next; the first's line
				   is the rule's */
	uint32_t n;
	uint8_t rel_len;
};

/* A reader's state, on the heap (the scanner's is large too). */
struct rpz {
	struct policy_zone *z;
	const char *name;	/* the file's, for messages */
	bool by_record;		/* "NAME, record N:" rather than "FILE:LINE:" */
	ctl_rpz_report_fn report;
	void *arg;
	size_t origin_len;
	int origin_labels;
	bool have_soa;
	uint64_t seed[2];	/* the owner hash's key */
	struct rec *rec;
	size_t n_rec, cap_rec;
	struct group *group;
	size_t n_group, cap_group;
	uint64_t *slot;		/* the owner's hash << 32 | group index + 1;
				   0: empty */
	size_t n_slot;		/* a power of two, at least 2 * n_group */
	uint8_t *scratch;	/* owners and RDATA until the rules are made */
	size_t scratch_len, cap_scratch;
	uint32_t *order;	/* one owner's records: file order, then sorted */
	size_t cap_order;
	char line[RPZ_LINE_MAX];
};

/* One record read: from the scanner, or from a transferred zone (line is
 * then the record's number in it). */
struct in_rr {
	const uint8_t *owner;
	size_t olen;
	uint16_t rclass, type;
	uint32_t ttl;
	const uint8_t *data;
	size_t dlen;
	uint64_t line;
};

/* A trigger as an owner encodes it. */
struct trigger {
	struct policy_rule rule;	/* trigger, wild, family, addr, plen */
	uint8_t name[DNS_NAME_MAX];	/* QNAME, NSDNAME: lower-cased wire */
	size_t name_len;
};

/* --- messages ------------------------------------------------------------ */

static void vformat(char *buf, size_t size, const char *file, uint64_t line, bool by_record,
		    const uint8_t *owner, const char *fmt, va_list ap)
{
	char text[RPZ_NAME_TEXT_MAX];
	int n = line ? snprintf(buf, size, by_record ? "%s, record %llu: " : "%s:%llu: ", file,
				(unsigned long long)line)
		     : snprintf(buf, size, "%s: ", file);

	if (n < 0 || (size_t)n >= size)
		return;
	if (owner) {
		if (dns_name_to_str(owner, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "?");
		int m = snprintf(buf + n, size - (size_t)n, "%s: ", text);
		if (m < 0 || (size_t)m >= size - (size_t)n)
			return;
		n += m;
	}
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
}

/* Rejects n records (an owner's, or one) with one report line. */
static void reject(struct rpz *p, uint64_t line, uint64_t n, const uint8_t *owner,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void reject(struct rpz *p, uint64_t line, uint64_t n, const uint8_t *owner,
		   const char *fmt, ...)
{
	va_list ap;

	p->z->counts.rejected += n;
	if (!p->report)
		return;
	va_start(ap, fmt);
	vformat(p->line, sizeof(p->line), p->name, line, p->by_record, owner, fmt, ap);
	va_end(ap);
	p->report(p->arg, p->line);
}

/* The zone fails as a whole: err gets the line, the caller empties z. */
static int fail(const char *name, int code, char *err, size_t errlen, uint64_t line,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(const char *name, int code, char *err, size_t errlen, uint64_t line,
		const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vformat(err, errlen, name, line, false, NULL, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *type_text(uint16_t type, char *buf, size_t size)
{
	if (dns_type_to_str(type, buf, size) < 0)
		snprintf(buf, size, "TYPE%u", type);
	return buf;
}

/* --- growing arrays -------------------------------------------------------- */

/* Copies len octets to the scratch arena (lower-cased when lower): their
 * offset, or -1 (no memory; the arena is capped at 4 GiB, as the zone's). */
static int64_t scratch_put(struct rpz *p, const uint8_t *src, size_t len, bool lower)
{
	if (p->scratch_len + len > UINT32_MAX ||
	    !policy_grow((void **)&p->scratch, p->scratch_len, &p->cap_scratch, 1, len))
		return -1;
	uint8_t *dst = p->scratch + p->scratch_len;
	if (lower)
		dns_copy_lower(dst, src, len);
	else
		memcpy(dst, src, len);
	p->scratch_len += len;
	return (int64_t)(p->scratch_len - len);
}

/* --- the owner table --------------------------------------------------------- */

/* The slot that holds the group of the owner whose first len octets
 * (origin removed) are rel, or the empty slot where it goes. */
static uint64_t *slot_of(struct rpz *p, uint32_t h, const uint8_t *rel, size_t len)
{
	size_t mask = p->n_slot - 1;

	/* never full (at most half), so the walk ends; the hash in the slot
	 * spares a look at another owner's group (a cache miss each) */
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint64_t v = p->slot[i];
		if (!v)
			return &p->slot[i];
		if ((uint32_t)(v >> 32) != h)
			continue;
		const struct group *g = &p->group[(uint32_t)v - 1];
		if (g->rel_len == len + 1 && memcmp(p->scratch + g->rel_off, rel, len) == 0)
			return &p->slot[i];
	}
}

/* A table of n slots (a power of two) with the groups of the old one. */
static bool table_resize(struct rpz *p, size_t n)
{
	uint64_t *old = p->slot, *slot = NULL;
	size_t cap = 0;

	if (!policy_grow((void **)&slot, 0, &cap, sizeof(*slot), n))
		return false;
	memset(slot, 0, n * sizeof(*slot));
	for (size_t i = 0; i < p->n_slot; i++) {
		if (!old[i])
			continue;
		size_t j = (size_t)(old[i] >> 32) & (n - 1);
		while (slot[j])
			j = (j + 1) & (n - 1);
		slot[j] = old[i];
	}
	policy_array_free(old);
	p->slot = slot;
	p->n_slot = n;
	return true;
}

/* Room for one more group, the table kept at most half full. */
static bool table_room(struct rpz *p)
{
	if (p->n_group + 1 >= UINT32_MAX ||
	    !policy_grow((void **)&p->group, p->n_group, &p->cap_group, sizeof(*p->group), 1))
		return false;
	return 2 * (p->n_group + 1) <= p->n_slot || table_resize(p, 2 * p->n_slot);
}

/*
 * Sizes the arrays for a text of len octets (a guess: a feed's lines are
 * rarely shorter than 24 octets), so that a large feed is not copied at
 * each doubling; memory not used is never touched (first touches are
 * what a large zone's load costs most). The table, whose every page is
 * touched, grows with the owners instead.
 */
static bool reserve(struct rpz *p, size_t len)
{
	size_t recs = len / 24 + 1024;

	if (recs > UINT32_MAX / 2)
		recs = UINT32_MAX / 2;
	return policy_grow((void **)&p->rec, 0, &p->cap_rec, sizeof(*p->rec), recs) &&
	       policy_grow((void **)&p->group, 0, &p->cap_group, sizeof(*p->group), recs) &&
	       policy_grow((void **)&p->scratch, 0, &p->cap_scratch, 1, len + 4096) &&
	       table_resize(p, 4096);
}

/* --- triggers ---------------------------------------------------------------- */

static bool label_is(const uint8_t *l, const char *s)
{
	size_t n = strlen(s);

	return l[0] == n && memcmp(l + 1, s, n) == 0;
}

/* Offsets of a valid name's labels (the root's at off[return]). */
static int labels_of(const uint8_t *name, uint8_t *off)
{
	int n = 0;
	size_t at = 0;

	while (name[at]) {
		off[n++] = (uint8_t)at;
		at += name[at] + 1u;
	}
	off[n] = (uint8_t)at;
	return n;
}

/* A decimal label of at most three digits without leading zeros, <= max. */
static bool dec_label(const uint8_t *l, unsigned max, unsigned *v)
{
	unsigned n = l[0], x = 0;

	if (n == 0 || n > 3 || (n > 1 && l[1] == '0'))
		return false;
	for (unsigned i = 1; i <= n; i++) {
		if (l[i] < '0' || l[i] > '9')
			return false;
		x = x * 10 + (l[i] - '0');
	}
	*v = x;
	return x <= max;
}

/* A hexadecimal 16-bit word of one to four digits without leading zeros
 * (the owner is lower-cased already). */
static bool hex_label(const uint8_t *l, unsigned *v)
{
	unsigned n = l[0], x = 0;

	if (n == 0 || n > 4 || (n > 1 && l[1] == '0'))
		return false;
	for (unsigned i = 1; i <= n; i++) {
		uint8_t c = l[i];
		if (c >= '0' && c <= '9')
			x = x * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x * 16 + (c - 'a' + 10);
		else
			return false;
	}
	*v = x;
	return true;
}

/*
 * The prefix of an address trigger: the k labels at owner + off[0..k),
 * "PLEN.D.C.B.A" (IPv4: five labels, no "zz") or "PLEN.W8.W7...W1" (IPv6:
 * hexadecimal words from the last one, "zz" once for a run of zero
 * words). NULL, or what is wrong.
 */
static const char *decode_prefix(const uint8_t *owner, const uint8_t *off, int k,
				 struct policy_rule *r)
{
	int zz = 0;
	unsigned plen;

	if (k < 2)
		return "an address trigger is PLEN then the address, reversed";
	for (int i = 1; i < k; i++)
		zz += label_is(owner + off[i], "zz");
	bool v4 = k == 5 && !zz;
	unsigned bits = v4 ? 32 : 128;
	if (!dec_label(owner + off[0], bits, &plen) || plen == 0)
		return v4 ? "prefix length out of range (IPv4: 1..32, decimal, no leading zeros)"
			  : "prefix length out of range (IPv6: 1..128, decimal, no leading zeros)";
	if (v4) {
		for (int i = 1; i <= 4; i++) {
			unsigned o;
			if (!dec_label(owner + off[i], 255, &o))
				return "bad IPv4 octet (0..255, decimal, no leading zeros)";
			r->addr[4 - i] = (uint8_t)o;
		}
		r->family = 4;
	} else {
		if (zz > 1)
			return "'zz' more than once in an IPv6 address";
		int words = k - 1 - zz;
		if (zz ? words > 7 : words != 8)
			return "an IPv6 address is 8 words ('zz' for a run of zero words)";
		int w = 0;
		for (int i = k - 1; i >= 1; i--) {
			unsigned v;
			if (label_is(owner + off[i], "zz")) {
				w += 8 - words; /* addr is zero already */
				continue;
			}
			if (!hex_label(owner + off[i], &v))
				return "bad IPv6 word (hexadecimal 0..ffff, no leading zeros)";
			r->addr[2 * w] = (uint8_t)(v >> 8);
			r->addr[2 * w + 1] = (uint8_t)v;
			w++;
		}
		r->family = 6;
	}
	for (unsigned b = plen; b < bits; b++)
		if (r->addr[b / 8] & (0x80 >> (b % 8)))
			return "host bits set beyond the prefix length";
	r->plen = (uint8_t)plen;
	return NULL;
}

/*
 * The trigger a lower-cased owner encodes, nr labels before the origin
 * (nr >= 1), its labels at off[]. NULL, or what is wrong.
 */
static const char *decode(const uint8_t *owner, const uint8_t *off, int nr,
			  struct trigger *t)
{
	const uint8_t *last = owner + off[nr - 1];
	int k = nr - 1; /* labels before the rpz- label */
	uint8_t trig;

	memset(&t->rule, 0, sizeof(t->rule));
	t->name_len = 0;
	if (label_is(last, "rpz-client-ip"))
		trig = POLICY_T_CLIENT_IP;
	else if (label_is(last, "rpz-ip"))
		trig = POLICY_T_IP;
	else if (label_is(last, "rpz-nsip"))
		trig = POLICY_T_NSIP;
	else if (label_is(last, "rpz-nsdname"))
		trig = POLICY_T_NSDNAME;
	else {
		trig = POLICY_T_QNAME;
		k = nr;
	}
	for (int i = 0; i < k; i++) {
		const uint8_t *l = owner + off[i];
		if (l[0] >= 4 && memcmp(l + 1, "rpz-", 4) == 0)
			return "unknown rpz- label";
		if (i > 0 && label_is(l, "*"))
			return "a '*' label is allowed leftmost only";
	}
	t->rule.trigger = trig;
	if (trig != POLICY_T_QNAME && trig != POLICY_T_NSDNAME)
		return decode_prefix(owner, off, k, &t->rule);
	if (trig == POLICY_T_NSDNAME && k == 0)
		return "rpz-nsdname without a name before it";
	int first = 0;
	if (k > 0 && label_is(owner, "*")) {
		t->rule.wild = 1;
		first = 1;
	}
	t->name_len = (size_t)(off[k] - off[first]) + 1;
	memcpy(t->name, owner + off[first], t->name_len - 1);
	t->name[t->name_len - 1] = 0;
	return NULL;
}

/* --- the first pass: records as the scanner reads them ---------------------- */

static int apex(struct rpz *p, const struct in_rr *s, const uint8_t *owner)
{
	const uint8_t *rd = s->data;
	size_t len = s->dlen;
	struct policy_zone *z = p->z;
	char tb[32];

	if (s->type == DNS_T_NS)
		return 0;
	if (s->type != DNS_T_SOA) {
		reject(p, s->line, 1, owner,
		       "type %s at the origin (only SOA and NS belong there)",
		       type_text(s->type, tb, sizeof(tb)));
		return 0;
	}
	if (dns_rdata_check_flat(DNS_T_SOA, rd, len)) {
		reject(p, s->line, 1, owner, "malformed SOA");
		return 0;
	}
	if (p->have_soa) {
		if (len != z->soa_rdlen || memcmp(z->data + z->soa_off, rd, len) != 0)
			reject(p, s->line, 1, owner, "a second SOA at the origin");
		return 0;
	}
	int64_t off = policy_zone_put(z, rd, len);
	if (off < 0)
		return CTL_E_NOMEM;
	p->have_soa = true;
	z->soa_off = (uint32_t)off;
	z->soa_rdlen = (uint16_t)len;
	z->serial = dns_get32(rd + len - 20);
	uint32_t minimum = dns_get32(rd + len - 4);
	z->soa_ttl = s->ttl < minimum ? s->ttl : minimum;
	return 0;
}

/* Checks and keeps the record the scanner holds: 0, or CTL_E_NOMEM. */
static int take(struct rpz *p, const struct in_rr *s)
{
	uint8_t owner[DNS_NAME_MAX], off[DNS_LABELS_MAX + 2];
	size_t olen = s->olen;
	uint64_t line = s->line;
	char tb[32];

	if (olen == 0 || olen > DNS_NAME_MAX || dns_name_check(s->owner, olen) != (int)olen) {
		reject(p, line, 1, NULL, "the owner is not a domain name");
		return 0;
	}
	dns_copy_lower(owner, s->owner, olen);
	if (s->rclass != DNS_C_IN) {
		reject(p, line, 1, owner, "class %u (policy records are of class IN)", s->rclass);
		return 0;
	}
	if (!dns_name_is_subdomain(owner, p->z->origin)) {
		char zt[RPZ_NAME_TEXT_MAX];
		if (dns_name_to_str(p->z->origin, zt, sizeof(zt)) < 0)
			zt[0] = 0;
		reject(p, line, 1, owner, "not in the zone %s", zt);
		return 0;
	}
	if (olen == p->origin_len)
		return apex(p, s, owner);

	uint16_t type = s->type;
	if (type != DNS_T_CNAME && type != DNS_T_A && type != DNS_T_AAAA && type != DNS_T_TXT) {
		reject(p, line, 1, owner, "type %s is not supported as policy data",
		       type_text(type, tb, sizeof(tb)));
		return 0;
	}
	if (s->dlen > UINT16_MAX ||
	    dns_rdata_check_flat(type, s->data, s->dlen)) {
		reject(p, line, 1, owner, "malformed %s RDATA", type_text(type, tb, sizeof(tb)));
		return 0;
	}

	/* the group's key: the owner without the origin (all share it) */
	size_t rel = olen - p->origin_len;
	uint64_t h = ctl_khash(p->seed, owner, rel);
	if (!table_room(p) || p->n_rec + 1 >= REC_END ||
	    !policy_grow((void **)&p->rec, p->n_rec, &p->cap_rec, sizeof(*p->rec), 1))
		return CTL_E_NOMEM;
	uint64_t *slot = slot_of(p, (uint32_t)h, owner, rel);
	struct group *g;
	if (*slot) {
		g = &p->group[(uint32_t)*slot - 1];
	} else {
		struct trigger t;
		int nr = labels_of(owner, off) - p->origin_labels;
		const char *why = decode(owner, off, nr, &t);
		if (why) {
			reject(p, line, 1, owner, "%s", why);
			return 0;
		}
		int64_t o = scratch_put(p, owner, rel + 1, false);
		if (o < 0)
			return CTL_E_NOMEM;
		p->scratch[o + (int64_t)rel] = 0;
		g = &p->group[p->n_group++];
		*slot = (uint64_t)(uint32_t)h << 32 | p->n_group;
		*g = (struct group){ .rel_off = (uint32_t)o, .first = REC_END,
				     .last = REC_END, .rel_len = (uint8_t)(rel + 1) };
	}
	int64_t rd = scratch_put(p, s->data, s->dlen, type == DNS_T_CNAME);
	if (rd < 0)
		return CTL_E_NOMEM;
	uint32_t i = (uint32_t)p->n_rec++;
	p->rec[i] = (struct rec){ .next = REC_END, .line = (uint32_t)line, .ttl = s->ttl,
				  .rd_off = (uint32_t)rd, .rdlen = (uint16_t)s->dlen,
				  .type = type };
	if (g->last == REC_END)
		g->first = i;
	else
		p->rec[g->last].next = i;
	g->last = i;
	g->n++;
	return 0;
}

static int scan(struct rpz *p, zs_scanner_t *s, char *err, size_t errlen)
{
	for (;;) {
		if (zs_parse_record(s) != 0 && s->state != ZS_STATE_ERROR)
			return fail(p->name, CTL_E_POLICY, err, errlen, 0, "%s",
				    zs_strerror(s->error.code));
		switch (s->state) {
		case ZS_STATE_DATA: {
			struct in_rr in = { s->r_owner, s->r_owner_length, s->r_class, s->r_type,
					    s->r_ttl, s->r_data, s->r_data_length,
					    s->line_counter };
			p->z->counts.records++;
			if (take(p, &in))
				return fail(p->name, CTL_E_NOMEM, err, errlen, s->line_counter,
					    "out of memory");
			break;
		}
		case ZS_STATE_ERROR:
			if (s->error.fatal)
				return fail(p->name, CTL_E_POLICY, err, errlen, s->line_counter,
					    "%s", zs_strerror(s->error.code));
			p->z->counts.records++;
			reject(p, s->line_counter, 1, NULL, "%s", zs_strerror(s->error.code));
			break;
		case ZS_STATE_INCLUDE:
			return fail(p->name, CTL_E_POLICY, err, errlen, s->line_counter,
				    "$INCLUDE is not allowed in a policy zone");
		case ZS_STATE_EOF:
		case ZS_STATE_STOP:
			return 0;
		default:
			break;
		}
	}
}

/* --- the second pass: one rule per owner --------------------------------------- */

static int rec_cmp(const void *a, const void *b, void *arg)
{
	const struct rpz *p = arg;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	const struct rec *ra = &p->rec[ia], *rb = &p->rec[ib];

	if (ra->type != rb->type)
		return ra->type < rb->type ? -1 : 1;
	if (ra->rdlen != rb->rdlen)
		return ra->rdlen < rb->rdlen ? -1 : 1;
	int c = memcmp(p->scratch + ra->rd_off, p->scratch + rb->rd_off, ra->rdlen);
	if (c)
		return c;
	return ia < ib ? -1 : ia > ib; /* the first in the file stays */
}

/* Marks the owner's records that repeat an earlier one (order[0..n), file
 * order, is left as it was). */
static void mark_dups(struct rpz *p, uint32_t n)
{
	uint32_t *sorted = p->order + n;

	memcpy(sorted, p->order, n * sizeof(*sorted));
	qsort_r(sorted, n, sizeof(*sorted), rec_cmp, p);
	for (uint32_t i = 1; i < n; i++) {
		const struct rec *a = &p->rec[sorted[i - 1]];
		struct rec *b = &p->rec[sorted[i]];
		if (a->type == b->type && a->rdlen == b->rdlen &&
		    memcmp(p->scratch + a->rd_off, p->scratch + b->rd_off, a->rdlen) == 0)
			b->dup = 1;
	}
}

/* The action of a rule whose one record is a CNAME to target (lower-cased). */
static uint8_t cname_action(const uint8_t *target, size_t len, const uint8_t *owner,
			    size_t rel_len, uint8_t trig)
{
	if (len == 1)
		return POLICY_A_NXDOMAIN;
	if (len == 3 && label_is(target, "*"))
		return POLICY_A_NODATA;
	if (len == 14 && label_is(target, "rpz-passthru"))
		return POLICY_A_PASSTHRU;
	if (len == 10 && label_is(target, "rpz-drop"))
		return POLICY_A_DROP;
	if (len == 14 && label_is(target, "rpz-tcp-only"))
		return POLICY_A_TCP_ONLY;
	/* the draft's older passthru: the owner's own name, origin removed
	 * (for an address trigger too, as BIND reads it) */
	(void)trig;
	if (len == rel_len + 1 && memcmp(target, owner, rel_len) == 0)
		return POLICY_A_PASSTHRU;
	return POLICY_A_LOCAL;
}

/* Makes the rule of group g: 0 (made, or the owner rejected), CTL_E_NOMEM. */
static int make_rule(struct rpz *p, const struct group *g)
{
	struct policy_zone *z = p->z;
	const uint8_t *rel = p->scratch + g->rel_off;
	uint8_t off[DNS_LABELS_MAX + 2], owner[DNS_NAME_MAX];
	uint32_t n = 0;

	if (!policy_grow((void **)&p->order, 0, &p->cap_order, sizeof(*p->order), 2 * (size_t)g->n))
		return CTL_E_NOMEM;
	for (uint32_t i = g->first; i != REC_END; i = p->rec[i].next)
		p->order[n++] = i;
	if (n > 1)
		mark_dups(p, n);

	uint32_t cnames = 0, others = 0, cname = REC_END;
	for (uint32_t i = 0; i < n; i++) {
		const struct rec *r = &p->rec[p->order[i]];
		const char *why = NULL;
		if (r->dup)
			continue;
		if (r->type == DNS_T_CNAME) {
			why = cnames ? "a second CNAME" : others ? "CNAME and other data" : NULL;
			cnames++;
			cname = p->order[i];
		} else {
			why = cnames ? "CNAME and other data" : NULL;
			others++;
		}
		if (why) {
			memcpy(owner, rel, g->rel_len - 1u);
			memcpy(owner + g->rel_len - 1, z->origin, p->origin_len);
			reject(p, r->line, g->n, owner, "%s: the owner's %u records rejected",
			       why, g->n);
			return 0;
		}
	}

	struct trigger t;
	int nr = labels_of(rel, off);
	if (decode(rel, off, nr, &t))
		abort(); /* it decoded when the group was made */
	struct policy_rule rule = t.rule;
	rule.line = p->rec[g->first].line;
	if (t.name_len) {
		int64_t o = policy_zone_put(z, t.name, t.name_len);
		if (o < 0)
			return CTL_E_NOMEM;
		rule.name_off = (uint32_t)o;
		rule.name_len = (uint8_t)t.name_len;
	}
	rule.rr_first = (uint32_t)z->n_rr;
	rule.action = POLICY_A_LOCAL;
	if (cname != REC_END) {
		const struct rec *r = &p->rec[cname];
		rule.action = cname_action(p->scratch + r->rd_off, r->rdlen, rel, off[nr],
					   rule.trigger);
	}
	if (rule.action == POLICY_A_LOCAL) {
		for (uint32_t i = 0; i < n; i++) {
			const struct rec *r = &p->rec[p->order[i]];
			if (r->dup)
				continue;
			const uint8_t *rd = p->scratch + r->rd_off;
			int64_t o = policy_zone_put(z, rd, r->rdlen);
			struct policy_rr *rr = o < 0 ? NULL : policy_zone_rr(z);
			if (!rr)
				return CTL_E_NOMEM;
			rr->type = r->type;
			rr->rdlen = r->rdlen;
			rr->ttl = r->ttl;
			rr->off = (uint32_t)o;
			rr->wild_target = r->type == DNS_T_CNAME && label_is(rd, "*");
			rule.rr_n++;
		}
	}
	struct policy_rule *slot = policy_zone_rule(z);
	if (!slot)
		return CTL_E_NOMEM;
	*slot = rule;
	z->counts.rules++;
	z->counts.by_trigger[rule.trigger]++;
	return 0;
}

/* --- the whole ------------------------------------------------------------- */

static void rpz_free(struct rpz *p)
{
	policy_array_free(p->rec);
	policy_array_free(p->group);
	policy_array_free(p->slot);
	policy_array_free(p->scratch);
	policy_array_free(p->order);
	free(p);
}

/* The records of a transferred zone, numbered from 1. */
static int scan_set(struct rpz *p, const struct ctl_xfr_set *set, char *err, size_t errlen)
{
	size_t pos = 0;
	uint64_t i = 0;
	struct ctl_xfr_rec r;

	while (ctl_xfr_set_next(set, &pos, &r)) {
		struct in_rr in = { r.owner, r.owner_len, DNS_C_IN, r.type, r.ttl, r.rdata, r.rdlen,
				    ++i };
		p->z->counts.records++;
		if (take(p, &in))
			return fail(p->name, CTL_E_NOMEM, err, errlen, 0, "out of memory");
	}
	return 0;
}

/* Reads text (len octets), the file at path (len: its size, or 0) or the
 * set. */
static int read_zone(struct policy_zone *z, const char *text, size_t len, const char *path,
		     const struct ctl_xfr_set *set, const char *name, const uint8_t *origin,
		     ctl_rpz_report_fn report, void *arg, char *err, size_t errlen)
{
	char ot[RPZ_NAME_TEXT_MAX];
	uint8_t off[DNS_LABELS_MAX + 2];
	int r;

	if (errlen)
		err[0] = 0;
	policy_zone_fini(z);
	if (dns_name_check(origin, DNS_NAME_MAX) <= 0)
		return fail(name, CTL_E_NAME, err, errlen, 0, "the origin is not a domain name");
	size_t olen = dns_name_copy_lower(z->origin, origin);
	if (dns_name_to_str(z->origin, ot, sizeof(ot)) < 0) {
		policy_zone_fini(z);
		return fail(name, CTL_E_NAME, err, errlen, 0, "the origin is not a domain name");
	}

	struct rpz *p = calloc(1, sizeof(*p));
	zs_scanner_t *s = calloc(1, sizeof(*s));
	if (!p || !s) {
		free(p);
		free(s);
		policy_zone_fini(z);
		return fail(name, CTL_E_NOMEM, err, errlen, 0, "out of memory");
	}
	*p = (struct rpz){ .z = z, .name = name, .by_record = set != NULL, .report = report,
			   .arg = arg, .origin_len = olen,
			   .origin_labels = labels_of(z->origin, off) };
	if (getrandom(p->seed, sizeof(p->seed), 0) != sizeof(p->seed)) {
		r = fail(name, CTL_E_SYSTEM, err, errlen, 0, "no random seed for the owner table");
		goto out_free;
	}
	if (!reserve(p, len) || zs_init(s, ot, DNS_C_IN, RPZ_TTL_DEFAULT_S) != 0) {
		r = fail(name, CTL_E_NOMEM, err, errlen, 0, "out of memory");
		goto out_free;
	}
	if (set)
		r = scan_set(p, set, err, errlen);
	else if ((path ? zs_set_input_file(s, path)
		       : zs_set_input_string(s, text ? text : "", len)) != 0)
		r = fail(name, CTL_E_POLICY, err, errlen, 0, "%s", zs_strerror(s->error.code));
	else
		r = scan(p, s, err, errlen);
	zs_deinit(s);
	if (!r && !p->have_soa)
		r = fail(name, CTL_E_POLICY, err, errlen, 0, "no SOA at the origin %s", ot);
	/* a rule per owner at most: sized once, not doubled */
	if (!r && !policy_grow((void **)&z->rule, z->n_rule, &z->cap_rule, sizeof(*z->rule),
			       p->n_group))
		r = fail(name, CTL_E_NOMEM, err, errlen, 0, "out of memory");
	for (size_t i = 0; !r && i < p->n_group; i++)
		if (make_rule(p, &p->group[i]))
			r = fail(name, CTL_E_NOMEM, err, errlen, 0, "out of memory");
out_free:
	free(s);
	rpz_free(p);
	if (r)
		policy_zone_fini(z);
	return r;
}

int ctl_rpz_load(struct policy_zone *z, const char *path, const uint8_t *origin,
		 ctl_rpz_report_fn report, void *arg, char *err, size_t errlen)
{
	struct stat st;
	size_t size = stat(path, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;

	return read_zone(z, NULL, size, path, NULL, path, origin, report, arg, err, errlen);
}

int ctl_rpz_parse(struct policy_zone *z, const char *text, size_t len, const char *name,
		  const uint8_t *origin, ctl_rpz_report_fn report, void *arg,
		  char *err, size_t errlen)
{
	return read_zone(z, text, len, NULL, NULL, name, origin, report, arg, err, errlen);
}

int ctl_rpz_from_set(struct policy_zone *z, const struct ctl_xfr_set *set, const char *name,
		     const uint8_t *origin, ctl_rpz_report_fn report, void *arg, char *err,
		     size_t errlen)
{
	return read_zone(z, NULL, set->len, NULL, set, name, origin, report, arg, err, errlen);
}
