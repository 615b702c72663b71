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

/* Does a word have an octet 0xfe or 0xff (one that needs an escape)? */
static inline bool has_fe(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t y = x | ones; /* 0xfe and 0xff: 0xff */

	return ((~y - ones) & y & (ones << 7)) != 0;
}

/* kw[] from the prefix's octets as four words (0..7, 8..15, 16..23,
 * 24..31): the four kpre_diff() reads, at octets 0, 8, 16 and 23. */
static inline void kw_from_words(uint64_t kw[4], uint64_t w0, uint64_t w1, uint64_t w2,
				 uint64_t w3)
{
	kw[0] = w0;
	kw[1] = w1;
	kw[2] = w2;
	kw[3] = w2 >> 56 | w3 << 8;
}

/* Octets k.. of the label at name + at (length l, name len octets long),
 * at most 8, lower-cased, each + 1 (0 past the label); *bad gets whether
 * one needs an escape (0xfe or 0xff). */
static inline uint64_t label_word(const uint8_t *name, size_t len, size_t at, unsigned l,
				  unsigned k, uint64_t *bad)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);

	if (k >= l)
		return 0;
	/* (lower-cased: 0xfe and 0xff are not letters) */
	uint64_t m = l - k >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * (l - k))) - 1;
	uint64_t x = name_word(name, len, at + 1u + k) & m;

	*bad |= has_fe(x);
	return x + (ones & m); /* (octets below 0xfe: + 1 carries into no other) */
}

/*
 * key_prefix_words() of one label below the apex, the question a denial
 * answers most (a name just below a zone; at the root, a TLD that does not
 * exist): the label's octets are the prefix's first, so each word is one
 * of the name's, no shift, no array (key_prefix_words() took 162
 * instructions for a 9-octet label, this ~50).
 */
static inline __attribute__((always_inline)) bool
one_label_words(const uint8_t *name, size_t len, uint64_t kw[4], uint32_t *ends)
{
	unsigned l = name[0];
	uint64_t bad = 0;
	uint64_t w0 = label_word(name, len, 0, l, 0, &bad), w1 = label_word(name, len, 0, l, 8, &bad);
	uint64_t w2 = label_word(name, len, 0, l, 16, &bad);
	uint64_t w3 = label_word(name, len, 0, l, 24, &bad);

	if (bad)
		return false;
	kw_from_words(kw, w0, w1, w2, w3);
	if (ends)
		*ends = UINT32_C(1) << l;
	return true;
}

/*
 * nsec_key_prefix() of an encoding that fits (at most KPRE_LEN octets) and
 * needs no escape, built a word at a time in registers: kw[] gets the four
 * words kpre_diff() reads (octets 0, 8, 16 and 23). Octets stored one at a
 * time and then read a word at a time wait for the stores to reach the
 * cache, no store-to-load forward. false, nothing written, when an octet
 * needs an escape.
 */
static bool key_prefix_words(const uint8_t *name, const uint8_t *off, int labels, int skip,
			     uint64_t kw[4], uint32_t *ends)
{
	size_t len = (size_t)off[labels] + 1;
	uint64_t w[5] = { 0 };
	uint32_t z = 0;
	unsigned o = 0;

	for (int i = labels - skip - 1; i >= 0; i--) {
		unsigned l = name[off[i]];

		for (unsigned k = 0; k < l; k += 8) {
			uint64_t bad = 0, v = label_word(name, len, off[i], l, k, &bad);

			if (bad)
				return false;
			unsigned at = o + k, s = (at & 7) * 8;

			w[at >> 3] |= v << s;
			if (s)
				w[(at >> 3) + 1] |= v >> (64 - s);
		}
		o += l;
		z |= UINT32_C(1) << o;
		o++;
	}
	uint64_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];

	/* each word read alone, as it was stored: gcc had read w[0..1] in
	 * one 16-octet load (to store kw[0..1] in one), which two 8-octet
	 * stores cannot forward to (30 % of this function's samples) */
	__asm__("" : "+r"(w0), "+r"(w1), "+r"(w2), "+r"(w3));
	kw_from_words(kw, w0, w1, w2, w3);
	if (ends)
		*ends = z;
	return true;
}

/* key_prefix_words(), one label below the apex without its call */
static inline bool prefix_words(const uint8_t *name, const uint8_t *off, int labels, int skip,
				uint64_t kw[4], uint32_t *ends)
{
	if (labels - skip == 1)
		return one_label_words(name, (size_t)off[labels] + 1, kw, ends);
	return key_prefix_words(name, off, labels, skip, kw, ends);
}

static unsigned key_prefix_octets(const uint8_t *name, const uint8_t *off, int labels,
				  int skip, uint8_t out[KPRE_LEN], uint32_t *ends);

/* The octets of the labels below the apex, length octets included, are as
 * many as their encoding's when no octet needs an escape (a terminator for
 * each length). */
static unsigned below_apex(const uint8_t *off, int labels, int skip)
{
	return labels >= skip ? off[labels - skip] : 0;
}

/* The encoding and why this is not inline: see nsec_int.h. */
unsigned nsec_key_prefix(const uint8_t *name, const uint8_t *off, int labels,
			 int skip, uint8_t out[KPRE_LEN], uint32_t *ends)
{
	unsigned total = below_apex(off, labels, skip);
	uint64_t kw[4];

	if (total <= KPRE_LEN && prefix_words(name, off, labels, skip, kw, ends)) {
		/* (words 2 and 3 share octet 23, of one value) */
		for (int i = 0; i < 4; i++)
			memcpy(out + kpre_at[i], &kw[i], 8);
		return total;
	}
	return key_prefix_octets(name, off, labels, skip, out, ends);
}

void nsec_pname_prefix(struct pname *p, const uint8_t *off, int labels, int skip)
{
	unsigned total = below_apex(off, labels, skip);
	uint8_t k[KPRE_LEN];

	if (total <= KPRE_LEN && prefix_words(p->name, off, labels, skip, p->w, &p->ends)) {
		p->len = total;
		return;
	}
	/* an escape or a long name: the octets, then their words (this one
	 * load after the stores waits) */
	p->len = key_prefix_octets(p->name, off, labels, skip, k, &p->ends);
	for (int i = 0; i < 4; i++)
		memcpy(&p->w[i], k + kpre_at[i], 8);
}

/* nsec_key_prefix() an octet at a time, escapes and cuts included. */
static unsigned key_prefix_octets(const uint8_t *name, const uint8_t *off, int labels,
				  int skip, uint8_t out[KPRE_LEN], uint32_t *ends)
{
	uint32_t z = 0;
	unsigned o = 0;
	int i;

	memset(out, 0, KPRE_LEN);
	for (i = labels - skip - 1; i >= 0; i--) {
		const uint8_t *l = name + off[i];
		unsigned len = l[0], j;

		/* room for the label and its end when no octet needs an
		 * escape: no bound checks (an escape: the label again, below) */
		if (o + len < KPRE_LEN) {
			for (j = 1; j <= len; j++) {
				uint8_t c = dns_lower[l[j]];

				if (c >= 0xfe)
					break;
				out[o + j - 1] = (uint8_t)(c + 1);
			}
			if (j > len) {
				o += len;
				z |= UINT32_C(1) << o;
				out[o++] = 0;
				continue;
			}
		}
		for (j = 1; j <= len; j++) {
			uint8_t c = dns_lower[l[j]];

			if (o + (c >= 0xfe) >= KPRE_LEN)
				goto cut;
			if (c < 0xfe) {
				out[o++] = (uint8_t)(c + 1);
			} else {
				out[o++] = 0xff;
				out[o++] = (uint8_t)(c - 0xfd);
			}
		}
		if (o >= KPRE_LEN)
			goto cut;
		z |= UINT32_C(1) << o;
		out[o++] = 0;
	}
	if (ends)
		*ends = z;
	return o;
cut:
	/* an escape's first octet still goes in, as it always did */
	if (o < KPRE_LEN)
		out[o] = 0xff;
	if (ends)
		*ends = z;
	return KPRE_CUT;
}

static const uint8_t *r_blob(const struct nsec_range *r)
{
	return r->data + r->key_len + r->next_len + r->bitmap_len;
}

/* ---- NSEC3 name hashes ---- */

/*
 * SHA-1 of the first len octets of blk (room for at least 128), padded here (FIPS
 * 180-4 5.1.1) when they fit two blocks, into out. SHA1_Transform() on the
 * padded blocks is OpenSSL's own block function (its SHA extensions where
 * the CPU has them) without Update's buffering and Final's padding and
 * OPENSSL_cleanse(): about a third of the ~130 cycles an NSEC3 answer spent
 * in libcrypto. Longer messages go through Init/Update/Final.
 */
static void sha1_blocks(uint8_t *blk, size_t len, uint8_t out[CACHE_NSEC3_HASH_LEN])
{
	SHA_CTX c;

	SHA1_Init(&c);
	if (len + 9 > 128) {
		SHA1_Update(&c, blk, len);
		SHA1_Final(out, &c);
		return;
	}
	size_t end = len + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	blk[len] = 0x80;
	memset(blk + len + 1, 0, end - 8 - len - 1);
	for (int i = 0; i < 8; i++)
		blk[end - 1 - i] = (uint8_t)(bits >> (8 * i));
	SHA1_Transform(&c, blk);
	if (end == 128)
		SHA1_Transform(&c, blk + 64);
	const SHA_LONG h[5] = { c.h0, c.h1, c.h2, c.h3, c.h4 };

	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

void cache_nsec3_hash(const uint8_t *name, const uint8_t *salt,
		      size_t salt_len, uint16_t iterations,
		      uint8_t out[CACHE_NSEC3_HASH_LEN])
{
	/* the lower-cased name and the salt, or a hash and the salt; 128
	 * octets for sha1_blocks(), the rest for a long name and salt */
	uint8_t blk[DNS_NAME_MAX + 255];
	size_t len = dns_name_copy_lower(blk, name);

	if (salt_len) /* (an empty salt may be NULL: memcpy's arguments may not) */
		memcpy(blk + len, salt, salt_len);
	sha1_blocks(blk, len + salt_len, out);
	for (unsigned i = 0; i < iterations; i++) {
		memcpy(blk, out, CACHE_NSEC3_HASH_LEN);
		if (salt_len)
			memcpy(blk + CACHE_NSEC3_HASH_LEN, salt, salt_len);
		sha1_blocks(blk, CACHE_NSEC3_HASH_LEN + salt_len, out);
	}
}

/* ---- lookup (reader, hot path) ---- */

/* Labels below the apex that p's name (whole encoding) shares with the key
 * whose prefix is k, or -1 when the prefixes cannot tell. Octets before the
 * first difference are whole labels of both up to each terminator. */
static int shared_below(const struct pname *p, const uint8_t *k)
{
	unsigned d = kpre_diff(p->w, k);

	if (p->len > KPRE_LEN || d >= KPRE_LEN)
		return -1;
	return __builtin_popcount(p->ends & ((UINT32_C(1) << d) - 1));
}

/* The range with the greatest hash <= h, or NULL. */
static const struct nsec_range *pred_hash(const struct nsec_node *t,
					  const uint8_t *h, bool *eq)
{
	const struct nsec_range *best = NULL;

	*eq = false;
	while (t) {
		int d = hash_cmp(h, t->kpre);

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

/* The closest encloser's labels below the apex: the most that qname shares
 * with the covering range's owner (node t) or next. */
static int encloser_below(const struct pname *q, const uint8_t *qoff, int nq,
			  const struct nsec_node *t, int apex_labels)
{
	int c1 = shared_below(q, t->kpre);
	int c2 = (t->r->flags & R_WRAP) ? 0 : shared_below(q, t->r->nkpre);

	if (c1 < 0 || c2 < 0) {
		c1 = common_labels(q->name, qoff, nq, r_key(t->r));
		c2 = common_labels(q->name, qoff, nq, r_next(t->r));
		return (c1 > c2 ? c1 : c2) - apex_labels;
	}
	return c1 > c2 ? c1 : c2;
}

/* w's key prefix: "*." before the first ce_below labels of q's encoding
 * (those of the closest encloser below the apex), or from w's name when
 * q's encoding was cut inside them. */
static void wild_prefix(const struct pname *q, int ce_below, int skip,
			struct pname *w)
{
	uint32_t e = q->ends;
	unsigned at = 0;

	if (ce_below > __builtin_popcount(e)) {
		uint8_t off[DNS_LABELS_MAX + 1];

		nsec_pname_prefix(w, off, label_offsets(w->name, off), skip);
		return;
	}
	for (int i = 0; i < ce_below; i++) {
		at = (unsigned)__builtin_ctz(e) + 1;
		e &= e - 1;
	}
	/* q's first at octets, then "*" (+ 1) and its end, in words: each
	 * word keeps the octets of q's word below at, and gets the star when
	 * at falls in it */
	for (int i = 0; i < 4; i++) {
		int n = (int)at - kpre_at[i];
		uint64_t keep = n <= 0 ? 0 : n >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * n)) - 1;

		w->w[i] = q->w[i] & keep;
		if (n >= 0 && n < 8 && at < KPRE_LEN)
			w->w[i] |= (uint64_t)('*' + 1) << (8 * n);
	}
	w->ends = q->ends & ((UINT32_C(1) << at) - 1);
	w->len = KPRE_CUT;
	if (at + 2 <= KPRE_LEN) {
		w->ends |= UINT32_C(1) << (at + 1);
		w->len = at + 2;
	}
}

/* nsec_pname_prefix(), one label below the apex inline: no call, no
 * prologue (two of them were ~40 instructions of a lookup's ~750) */
static inline void pname_prefix(struct pname *p, const uint8_t *off, int labels, int skip)
{
	if (labels - skip == 1 && off[1] <= KPRE_LEN &&
	    one_label_words(p->name, (size_t)off[labels] + 1, p->w, &p->ends)) {
		p->len = off[1];
		return;
	}
	nsec_pname_prefix(p, off, labels, skip);
}

static int prove_nsec(const struct zstate *st, const struct nsec_zone *z,
		      const uint8_t *qname, const uint8_t *qoff, int nq,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out)
{
	uint8_t wc[DNS_NAME_MAX];
	/* (nsec_pname_prefix() and wild_prefix() set the rest: not zeroed
	 * first, 12 stores a lookup) */
	struct pname q, w;
	bool eq;
	int why;

	q.name = qname;
	pname_prefix(&q, qoff, nq, z->apex_labels);
	const struct nsec_node *t = pred_name(st->nsec, &q, &eq);
	const struct nsec_range *r = t ? t->r : NULL;

	if (!live(r, now))
		return none(out, CACHE_NSEC_WHY_NO_RANGE);
	if (eq) {
		if ((why = nodata_why(r, qtype)))
			return none(out, why);
		proof_add(out, r);
		return CACHE_NSEC_NODATA;
	}
	if (!covers(r, &q))
		return none(out, CACHE_NSEC_WHY_NO_RANGE);
	if (cut_above(r, &q))
		return none(out, CACHE_NSEC_WHY_DELEGATION);
	proof_add(out, r);
	/* Names below qname exist: qname is an empty non-terminal. */
	if (next_below(r, &q))
		return CACHE_NSEC_NODATA;

	/* RFC 4035 5.4, RFC 8198 5.3: the closest encloser is the longest
	 * ancestor of qname that the covering range's owner or next has. */
	int ce_below = encloser_below(&q, qoff, nq, t, z->apex_labels);
	const uint8_t *ce = qname + qoff[nq - z->apex_labels - ce_below];

	const struct nsec_range *wr = st->wild;
	int how = st->wild_how;

	/* "*.apex": the writer's answer (struct zstate); else a descent */
	if (ce_below > 0) {
		/* qname is strictly below ce, so "*.ce" is no longer than
		 * qname: it fits */
		wild_of(wc, ce, dns_name_len(ce));
		w.name = wc;
		wild_prefix(&q, ce_below, z->apex_labels, &w);
		const struct nsec_node *wt = pred_name(st->nsec, &w, &eq);

		wr = wt ? wt->r : NULL;
		/* a wildcard that is an empty non-terminal exists: no
		 * NXDOMAIN */
		how = !wr ? W_NONE
		      : eq ? W_MATCH
		      : covers(wr, &w) && !cut_above(wr, &w) && !next_below(wr, &w) ? W_DENIED
		      : W_NONE;
	}
	if (!live(wr, now))
		return none(out, CACHE_NSEC_WHY_NO_WILDCARD);
	if (how == W_MATCH) {
		if ((why = nodata_why(wr, qtype)))
			return none(out, why);
		proof_add(out, wr);
		out->wildcard = true;
		return CACHE_NSEC_NODATA;
	}
	if (how != W_DENIED)
		return none(out, CACHE_NSEC_WHY_NO_WILDCARD);
	proof_add(out, wr);
	return CACHE_NSEC_NXDOMAIN;
}

/* The range matching or covering name's hash (h: out; pre: the writer's
 * hash of name, or NULL to compute it, counted in out->hashes). */
static const struct nsec_range *find3(const struct zstate *st,
				      const uint8_t *name, const uint8_t *pre,
				      uint8_t h[CACHE_NSEC3_HASH_LEN],
				      uint32_t now, bool *eq,
				      struct cache_nsec_proof *out)
{
	if (pre) {
		memcpy(h, pre, CACHE_NSEC3_HASH_LEN);
	} else {
		cache_nsec3_hash(name, st->n3_salt, st->n3_salt_len, st->n3_iter, h);
		out->hashes++;
	}
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

		if (i < top && out->hashes >= n->cfg.nsec3_hash_budget)
			return none(out, CACHE_NSEC_WHY_BUDGET);
		const struct nsec_range *r =
			find3(st, s, i == top ? st->n3_apex_h : NULL, h, now, &eq, out);

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
		if (i < top && out->hashes >= n->cfg.nsec3_hash_budget)
			return none(out, CACHE_NSEC_WHY_BUDGET);
		proof_add(out, r);
		proof_add(out, nc_cover);
		wild_of(wc, s, dns_name_len(s)); /* s is above qname: it fits */
		const struct nsec_range *w =
			find3(st, wc, i == top ? st->n3_wild_h : NULL, h, now, &eq, out);

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

/* Bits lo + 1 .. hi of a depths mask (depth_bit(): 63 is 63 or more). */
static inline uint64_t depths_between(int lo, int hi)
{
	if (hi > 63)
		hi = 63;
	if (hi <= lo)
		return 0;
	uint64_t upto = hi == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;

	return upto & ~((UINT64_C(1) << (lo + 1)) - 1);
}

/*
 * The memo's zone when qname (nq labels, offsets qoff, qlen octets) is at or
 * below its apex and the memo is of this table: every table with another
 * zone in it or one gone is a new one (nsec.c's table_build()), and an old
 * table is not freed, nor its address reused, before the reader's next
 * quiescent state. Not for DS, whose zone is the parent of a same-named
 * apex. NULL: no memo to start from (the table then from the root).
 */
static const struct nsec_zone *memo_zone(const struct cache_nsec_memo *memo,
					 const struct ztable *tb, const uint8_t *qname,
					 const uint8_t *qoff, int nq, size_t qlen,
					 uint16_t qtype)
{
	const struct nsec_zone *z = memo ? memo->zone : NULL;

	/* (from 63 labels on, depth_bit() cannot tell a deeper zone) */
	if (!z || memo->table != tb || qtype == DNS_T_DS || z->apex_labels > nq ||
	    z->apex_labels >= 63)
		return NULL;
	size_t at = qoff[nq - z->apex_labels];

	return qlen - at == z->apex_len && apex_eq(z->apex, qname + at, z->apex_len) ? z : NULL;
}

int cache_nsec_lookup(const struct cache_nsec *n, const uint8_t *qname,
		      uint16_t qtype, uint32_t now,
		      struct cache_nsec_proof *out)
{
	return cache_nsec_lookup_memo(n, NULL, qname, qtype, now, out);
}

int cache_nsec_lookup_memo(const struct cache_nsec *n, struct cache_nsec_memo *memo,
			   const uint8_t *qname, uint16_t qtype, uint32_t now,
			   struct cache_nsec_proof *out)
{
	uint8_t qoff[DNS_LABELS_MAX + 1];
	uint64_t h[DNS_LABELS_MAX + 1];
	const struct ztable *tb = DEREF(n->table);
	const struct nsec_zone *z = NULL;
	int v;

	/* every field but rr[] (read only below nrr), soa_packed and
	 * soa_ptr_at[] (read only with soa_packed_len): a memset of the whole
	 * was a rep stos, 8 % of this function's samples, its start-up */
	out->soa = (struct cache_nsec_blob){ 0 };
	out->soa_rr_at = out->soa_rr_len = out->soa_packed_len = 0;
	out->soa_owner_len = out->zone_len = 0;
	out->zone = NULL;
	out->expire_at = 0;
	out->nrr = out->why = out->hashes = 0;
	out->nsec3 = out->wildcard = out->records = false;
	if (!qtype_is_data(qtype))
		return none(out, CACHE_NSEC_WHY_QTYPE);
	if (tb->count == 0)
		return none(out, CACHE_NSEC_WHY_NO_ZONE);
	int nq = label_offsets(qname, qoff);
	size_t qlen = (size_t)qoff[nq] + 1;

	uint64_t depths = tb->depths;
	const struct nsec_zone *mz = memo_zone(memo, tb, qname, qoff, nq, qlen, qtype);

	if (mz) {
		/* from the memo's apex: only the depths between it and the
		 * question that some zone has are looked up, their hashes
		 * going on from the apex's */
		int ai = nq - mz->apex_labels;
		uint64_t below = depths & depths_between(mz->apex_labels, nq);

		memo->used++;
		if (below) {
			int deepest = 63 - __builtin_clzll(below);
			int first = deepest == 63 ? 0 : nq - deepest;

			suffix_hashes_from(n->seed, mz->hash, qname, qlen, qoff, ai, first, h);
			for (int i = first; !z && i < ai; i++)
				if (depths & depth_bit(nq - i))
					z = table_find(tb, h[i], qname + qoff[i], qlen - qoff[i]);
		}
		if (!z)
			z = mz;
	} else {
		/* the suffixes as deep as the deepest zone's apex, and only
		 * those of a depth some zone has are looked up (the name as
		 * the client spelt it: every step below compares without
		 * regard to case) */
		int top = 63 - __builtin_clzll(depths);
		int first = top == 63 || top >= nq ? 0 : nq - top;

		suffix_hashes(n->seed, qname, qlen, qoff, nq, first, h);
		/* DS lives on the parent side: a zone's own apex cannot deny
		 * it. */
		if (qtype == DNS_T_DS && first == 0)
			first = 1;
		for (int i = first; !z && i <= nq; i++)
			if (depths & depth_bit(nq - i))
				z = table_find(tb, h[i], qname + qoff[i], qlen - qoff[i]);
		if (!z)
			return none(out, CACHE_NSEC_WHY_NO_ZONE);
	}
	if (memo) {
		memo->zone = z;
		memo->table = tb;
		memo->apex = z->apex;
		memo->apex_len = z->apex_len;
	}
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
	out->zone_len = z->apex_len;
	out->soa.data = st->soa->data;
	out->soa.len = st->soa->len;
	out->soa.expire_at = st->soa->expire_at;
	out->soa_rr_at = st->soa->rr_at;
	out->soa_rr_len = st->soa->rr_len;
	out->soa_owner_len = st->soa->owner_len;
	out->soa_packed = st->soa->data + st->soa->len;
	out->soa_packed_len = st->soa->packed_len;
	out->soa_ptr_at[0] = st->soa->ptr_at[0];
	out->soa_ptr_at[1] = st->soa->ptr_at[1];
	out->expire_at = st->soa->expire_at;
	for (unsigned i = 0; i < out->nrr; i++)
		if (out->rr[i].expire_at < out->expire_at)
			out->expire_at = out->rr[i].expire_at;
	out->why = CACHE_NSEC_WHY_PROVEN;
	out->records = n->cfg.record_blobs;
	return v;
}

/* ---- quiescent states ---- */

/* The release pairs with the acquire in nsec.c's retire_cb() (tsan.h). */
void cache_nsec_reader_quiescent(void)
{
	TSAN_RELEASE(&cache_qsbr_token);
	urcu_qsbr_quiescent_state();
}
