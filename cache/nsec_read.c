/*
 * cache/nsec_read.c: the reader side of the NSEC/NSEC3 range trees:
 * cache_nsec_lookup() and the NSEC and NSEC3 proofs it builds, the NSEC3
 * name hash it computes, and the reader's quiescent state. It runs on
 * worker lcores' hot path, for every query that missed the message cache:
 * no lock, no allocation, no syscall, no write to shared memory, and
 * bounded walks (AVL descents of at most 1.44 log2(ranges) levels, at most
 * nsec3_hash_budget NSEC3 hashes per lookup). It reads only what the writer
 * (nsec.c) published, through the structs of nsec_int.h; why it needs no
 * lock for that is the invariant comment at the top of nsec.c.
 */
#define _LGPL_SOURCE
/*
 * SHA1_Init/Update/Final are deprecated in OpenSSL 3, but they are plain
 * code on a stack context; the EVP replacements fetch the algorithm (a lock)
 * and allocate contexts, which workers must not do.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "nsec_int.h"

#include <openssl/sha.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "dns/name.h"
#include "tsan.h"

/* ---- names, keys, bitmaps ---- */

static bool label_equal(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0])
		return false;
	for (unsigned i = 1; i <= a[0]; i++)
		if (dns_lower[a[i]] != dns_lower[b[i]])
			return false;
	return true;
}

/* Labels a (with offsets aoff, na labels) and b have in common at the right. */
static int common_labels(const uint8_t *a, const uint8_t *aoff, int na,
			 const uint8_t *b)
{
	uint8_t boff[DNS_LABELS_MAX + 1];
	int nb = label_offsets(b, boff);
	int c = 0;

	while (na > 0 && nb > 0 && label_equal(a + aoff[--na], b + boff[--nb]))
		c++;
	return c;
}

/* The encoding and why this is not inline: see nsec_int.h. */
void nsec_key_prefix(const uint8_t *name, const uint8_t *off, int labels,
		     int skip, uint8_t out[KPRE_LEN])
{
	size_t o = 0;

	memset(out, 0, KPRE_LEN);
	for (int i = labels - skip - 1; i >= 0 && o < KPRE_LEN; i--) {
		const uint8_t *l = name + off[i];

		for (unsigned j = 1; j <= l[0] && o < KPRE_LEN; j++) {
			uint8_t c = dns_lower[l[j]];

			if (c < 0xfe) {
				out[o++] = (uint8_t)(c + 1);
			} else {
				out[o++] = 0xff;
				if (o < KPRE_LEN)
					out[o++] = (uint8_t)(c - 0xfd);
			}
		}
		if (o < KPRE_LEN)
			out[o++] = 0;
	}
}

static bool bm_has(const struct nsec_range *r, uint16_t type)
{
	const uint8_t *bm = r->data + r->key_len + r->next_len;
	unsigned win = type >> 8, bit = type & 0xff;
	size_t p = 0;

	while (p + 2 <= r->bitmap_len) {
		unsigned w = bm[p], len = bm[p + 1];

		if (w == win)
			return bit / 8 < len &&
			       (bm[p + 2 + bit / 8] & (0x80 >> (bit % 8)));
		if (w > win)
			return false;
		p += 2 + len;
	}
	return false;
}

static bool bm_cut(const struct nsec_range *r)
{
	return (bm_has(r, DNS_T_NS) && !bm_has(r, DNS_T_SOA)) ||
	       bm_has(r, DNS_T_DNAME);
}

static const uint8_t *r_blob(const struct nsec_range *r)
{
	return r->data + r->key_len + r->next_len + r->bitmap_len;
}

/* ---- NSEC3 name hashes ---- */

void cache_nsec3_hash(const uint8_t *name, const uint8_t *salt,
		      size_t salt_len, uint16_t iterations,
		      uint8_t out[CACHE_NSEC3_HASH_LEN])
{
	uint8_t lower[DNS_NAME_MAX];
	size_t len = dns_name_copy_lower(lower, name);
	SHA_CTX c;

	SHA1_Init(&c);
	SHA1_Update(&c, lower, len);
	SHA1_Update(&c, salt, salt_len);
	SHA1_Final(out, &c);
	for (unsigned i = 0; i < iterations; i++) {
		SHA1_Init(&c);
		SHA1_Update(&c, out, CACHE_NSEC3_HASH_LEN);
		SHA1_Update(&c, salt, salt_len);
		SHA1_Final(out, &c);
	}
}

/* ---- lookup (reader, hot path) ---- */

/* The range with the greatest owner <= name (key prefix kpre); *eq when
 * equal. One cache line per level; the range only on a prefix tie. */
static const struct nsec_range *pred_name(const struct nsec_node *t,
					  const uint8_t *name,
					  const uint8_t *kpre, bool *eq)
{
	const struct nsec_range *best = NULL;

	*eq = false;
	while (t) {
		int d = memcmp(kpre, t->kpre, KPRE_LEN);

		if (d == 0)
			d = dns_name_cmp(name, r_key(t->r));
		if (d == 0) {
			*eq = true;
			return t->r;
		}
		if (d < 0) {
			t = t->left;
		} else {
			best = t->r;
			t = t->right;
		}
	}
	return best;
}

/* The range with the greatest hash <= h, or NULL. */
static const struct nsec_range *pred_hash(const struct nsec_node *t,
					  const uint8_t *h, bool *eq)
{
	const struct nsec_range *best = NULL;

	*eq = false;
	while (t) {
		int d = memcmp(h, t->kpre, CACHE_NSEC3_HASH_LEN);

		if (d == 0) {
			*eq = true;
			return t->r;
		}
		if (d < 0) {
			t = t->left;
		} else {
			best = t->r;
			t = t->right;
		}
	}
	return best;
}

/* A range at an ancestor of name that is a zone cut (or DNAME): the names
 * below it are not in this chain, so it denies nothing there. The bitmap
 * first: it rarely says cut, and the name walk costs ~100 instructions. */
static bool nsec_cut_above(const struct nsec_range *r, const uint8_t *name)
{
	return bm_cut(r) && dns_name_is_subdomain(name, r_key(r));
}

/* Does a range at qname prove qtype absent? 0 or a why code. */
static int nodata_why(const struct nsec_range *r, uint16_t qtype)
{
	if (bm_has(r, qtype) || bm_has(r, DNS_T_CNAME))
		return CACHE_NSEC_WHY_TYPE_EXISTS;
	bool ns = bm_has(r, DNS_T_NS), soa = bm_has(r, DNS_T_SOA);

	/* RFC 4035 5.4: at a zone cut the parent's NSEC (NS, no SOA) speaks
	 * only for DS; the child's apex NSEC (SOA) never for DS, which lives
	 * in the parent. */
	if (qtype == DNS_T_DS)
		return soa ? CACHE_NSEC_WHY_DELEGATION : 0;
	return ns && !soa ? CACHE_NSEC_WHY_DELEGATION : 0;
}

static void proof_add(struct cache_nsec_proof *out, const struct nsec_range *r)
{
	for (unsigned i = 0; i < out->nrr; i++)
		if (out->rr[i].data == r_blob(r))
			return;
	out->rr[out->nrr].data = r_blob(r);
	out->rr[out->nrr].len = r->blob_len;
	out->rr[out->nrr].expire_at = r->expire_at;
	out->nrr++;
}

static int none(struct cache_nsec_proof *out, int why)
{
	out->nrr = 0;
	out->wildcard = false;
	out->why = (uint8_t)why;
	return CACHE_NSEC_NONE;
}

static bool live(const struct nsec_range *r, uint32_t now)
{
	return r && now < r->expire_at;
}

static int prove_nsec(const struct zstate *st, const struct nsec_zone *z,
		      const uint8_t *qname, const uint8_t *qoff, int nq,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out)
{
	uint8_t wc[DNS_NAME_MAX], kpre[KPRE_LEN];
	bool eq;
	int why;

	nsec_key_prefix(qname, qoff, nq, z->apex_labels, kpre);
	const struct nsec_range *r = pred_name(st->nsec, qname, kpre, &eq);

	if (!live(r, now))
		return none(out, CACHE_NSEC_WHY_NO_RANGE);
	if (eq) {
		if ((why = nodata_why(r, qtype)))
			return none(out, why);
		proof_add(out, r);
		return CACHE_NSEC_NODATA;
	}
	if (!nsec_covers(r, qname))
		return none(out, CACHE_NSEC_WHY_NO_RANGE);
	if (nsec_cut_above(r, qname))
		return none(out, CACHE_NSEC_WHY_DELEGATION);
	proof_add(out, r);
	/* Names below qname exist: qname is an empty non-terminal. */
	if (!(r->flags & R_WRAP) && dns_name_is_subdomain(r_next(r), qname))
		return CACHE_NSEC_NODATA;

	/* RFC 4035 5.4, RFC 8198 5.3: the closest encloser is the longest
	 * ancestor of qname that the covering range's owner or next has. */
	int c1 = common_labels(qname, qoff, nq, r_key(r));
	int c2 = common_labels(qname, qoff, nq, r_next(r));
	const uint8_t *ce = qname + qoff[nq - (c1 > c2 ? c1 : c2)];
	size_t ce_len = dns_name_len(ce);

	/* qname is strictly below ce, so "*.ce" is no longer than qname. */
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, ce, ce_len);
	name_prefix(wc, z->apex_labels, kpre);
	const struct nsec_range *w = pred_name(st->nsec, wc, kpre, &eq);

	if (!live(w, now))
		return none(out, CACHE_NSEC_WHY_NO_WILDCARD);
	if (eq) {
		if ((why = nodata_why(w, qtype)))
			return none(out, why);
		proof_add(out, w);
		out->wildcard = true;
		return CACHE_NSEC_NODATA;
	}
	/* A wildcard that is an empty non-terminal exists: no NXDOMAIN. */
	if (!nsec_covers(w, wc) || nsec_cut_above(w, wc) ||
	    (!(w->flags & R_WRAP) && dns_name_is_subdomain(r_next(w), wc)))
		return none(out, CACHE_NSEC_WHY_NO_WILDCARD);
	proof_add(out, w);
	return CACHE_NSEC_NXDOMAIN;
}

static const struct nsec_range *find3(const struct zstate *st,
				      const uint8_t *name,
				      uint8_t h[CACHE_NSEC3_HASH_LEN],
				      uint32_t now, bool *eq,
				      struct cache_nsec_proof *out)
{
	cache_nsec3_hash(name, st->n3_salt, st->n3_salt_len, st->n3_iter, h);
	out->hashes++;
	const struct nsec_range *r = pred_hash(st->nsec3, h, eq);

	/* h sorts before every owner: only the last range, wrapping, can
	 * cover it. */
	if (!r)
		r = last_range(st->nsec3);
	return live(r, now) ? r : NULL;
}

/*
 * RFC 5155 8.4-8.7 with RFC 8198's use: from qname up to the apex, the
 * first name whose hash has a matching range is the closest encloser; the
 * name one label longer (the next closer) needs a covering range, and so
 * does the wildcard at the closest encloser (or a matching one: NODATA).
 */
static int prove_nsec3(const struct cache_nsec *n, const struct zstate *st,
		       const struct nsec_zone *z, const uint8_t *qname,
		       const uint8_t *qoff, int nq, uint16_t qtype,
		       uint32_t now, struct cache_nsec_proof *out)
{
	uint8_t h[CACHE_NSEC3_HASH_LEN], wc[DNS_NAME_MAX];
	const struct nsec_range *nc_cover = NULL;
	int top = nq - z->apex_labels, why;
	bool eq;

	for (int i = 0; i <= top; i++) {
		const uint8_t *s = qname + qoff[i];

		if (out->hashes >= n->cfg.nsec3_hash_budget)
			return none(out, CACHE_NSEC_WHY_BUDGET);
		const struct nsec_range *r = find3(st, s, h, now, &eq, out);

		if (!r || !eq) {
			nc_cover = r && nsec3_covers(r, h) ? r : NULL;
			continue;
		}
		if (i == 0) {
			if ((why = nodata_why(r, qtype)))
				return none(out, why);
			proof_add(out, r);
			return CACHE_NSEC_NODATA;
		}
		/* s is the closest encloser. */
		if (bm_cut(r))
			return none(out, CACHE_NSEC_WHY_DELEGATION);
		if (!nc_cover)
			return none(out, CACHE_NSEC_WHY_NO_RANGE);
		if (nc_cover->flags & R_OPT_OUT)
			return none(out, CACHE_NSEC_WHY_OPT_OUT);
		if (out->hashes >= n->cfg.nsec3_hash_budget)
			return none(out, CACHE_NSEC_WHY_BUDGET);
		proof_add(out, r);
		proof_add(out, nc_cover);
		wc[0] = 1;
		wc[1] = '*';
		memcpy(wc + 2, s, dns_name_len(s));
		const struct nsec_range *w = find3(st, wc, h, now, &eq, out);

		if (w && eq) {
			if ((why = nodata_why(w, qtype)))
				return none(out, why);
			proof_add(out, w);
			out->wildcard = true;
			return CACHE_NSEC_NODATA;
		}
		if (!w || !nsec3_covers(w, h))
			return none(out, CACHE_NSEC_WHY_NO_WILDCARD);
		if (w->flags & R_OPT_OUT)
			return none(out, CACHE_NSEC_WHY_OPT_OUT);
		proof_add(out, w);
		return CACHE_NSEC_NXDOMAIN;
	}
	return none(out, CACHE_NSEC_WHY_NO_RANGE);
}

/* RFC 6895 3.1: OPT and 128..255 are meta types and QTYPEs; 0 is reserved. */
static bool qtype_is_data(uint16_t qtype)
{
	return qtype != 0 && qtype != DNS_T_OPT && (qtype < 128 || qtype > 255);
}

int cache_nsec_lookup(const struct cache_nsec *n, const uint8_t *qname,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out)
{
	uint8_t qoff[DNS_LABELS_MAX + 1];
	uint64_t h[DNS_LABELS_MAX + 1];
	const struct ztable *tb = DEREF(n->table);
	const struct nsec_zone *z = NULL;
	int v;

	memset(out, 0, sizeof(*out));
	if (!qtype_is_data(qtype))
		return none(out, CACHE_NSEC_WHY_QTYPE);
	if (tb->count == 0)
		return none(out, CACHE_NSEC_WHY_NO_ZONE);
	int nq = label_offsets(qname, qoff);

	suffix_hashes(n->seed, qname, qoff, nq, h);
	/* DS lives on the parent side: a zone's own apex cannot deny it. */
	for (int i = qtype == DNS_T_DS; !z && i <= nq; i++)
		z = table_find(tb, h[i], qname + qoff[i]);
	if (!z)
		return none(out, CACHE_NSEC_WHY_NO_ZONE);
	const struct zstate *st = DEREF(z->state);

	if (!st->soa || now >= st->soa->expire_at)
		return none(out, CACHE_NSEC_WHY_NO_SOA);
	if (!st->nsec && !st->nsec3)
		return none(out, CACHE_NSEC_WHY_NO_RANGE);
	v = CACHE_NSEC_NONE;
	if (st->nsec)
		v = prove_nsec(st, z, qname, qoff, nq, qtype, now, out);
	if (v == CACHE_NSEC_NONE && st->nsec3) {
		v = prove_nsec3(n, st, z, qname, qoff, nq, qtype, now, out);
		out->nsec3 = v != CACHE_NSEC_NONE;
	}
	if (v == CACHE_NSEC_NONE)
		return v;
	out->zone = z->apex;
	out->soa.data = st->soa->data;
	out->soa.len = st->soa->len;
	out->soa.expire_at = st->soa->expire_at;
	out->expire_at = st->soa->expire_at;
	for (unsigned i = 0; i < out->nrr; i++)
		if (out->rr[i].expire_at < out->expire_at)
			out->expire_at = out->rr[i].expire_at;
	out->why = CACHE_NSEC_WHY_PROVEN;
	return v;
}

/* ---- quiescent states ---- */

/* The release pairs with the acquire in nsec.c's retire_cb() (tsan.h). */
void cache_nsec_reader_quiescent(void)
{
	TSAN_RELEASE(&cache_qsbr_token);
	urcu_qsbr_quiescent_state();
}
