/*
 * control/val_sig.c: signatures (see val.h): key tags, DS digests, the
 * canonical form of an RRset (RFC 4034 6), the public-key operations
 * through libcrypto's EVP, and the two checks built on them: an RRset
 * against a secure DNSKEY set, a DNSKEY set against its DS set or a trust
 * anchor. Control process; allocates only the signed data of one check.
 *
 * Cost: every public-key operation is charged to the question's budget
 * before it is made, and a failed one twice over (failures have their own,
 * smaller limit): the attacker who publishes colliding key tags or
 * thousands of signatures decides how many candidates there are, not how
 * many are tried.
 */
#include "control/val.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/name.h"

#define RRSIG_FIXED 18		/* RRSIG RDATA before the signer's name */
#define RSA_EXP_MAX 8		/* public exponent octets we accept */
#define RSA_MOD_MAX 512		/* 4096 bits (RFC 3110 2) */
#define MAX_DIGESTS 64		/* DS digests computed for one DNSKEY set */

void ctl_val_limits_default(struct ctl_val_limits *l)
{
	*l = (struct ctl_val_limits){
		.skew_s = CTL_VAL_SKEW_S,
		.max_verify = CTL_VAL_MAX_VERIFY,
		.max_failures = CTL_VAL_MAX_FAILURES,
		.max_nsec3_hashes = CTL_VAL_MAX_NSEC3_HASHES,
		.nsec3_max_iterations = CTL_VAL_NSEC3_MAX_ITERATIONS,
		.rsasha1 = true,
	};
}

const char *ctl_ede_why(uint16_t ede)
{
	switch (ede) {
	case CTL_EDE_UNSUPPORTED_ALG:
		return "the zone's algorithms are not supported";
	case CTL_EDE_UNSUPPORTED_DIGEST:
		return "the zone's DS digests are not supported";
	case CTL_EDE_SIG_EXPIRED:
		return "the zone's key signatures expired";
	case CTL_EDE_SIG_NOT_YET:
		return "the zone's key signatures are not yet valid";
	case CTL_EDE_DNSKEY_MISSING:
		return "no zone key matches the DS set";
	case CTL_EDE_RRSIGS_MISSING:
		return "the zone's key set is not signed";
	case CTL_EDE_NSEC_MISSING:
		return "the parent's proof of no DS fails";
	case CTL_EDE_NONE:
		return "the zone is unsigned";
	default:
		return "the zone's chain of trust is broken";
	}
}

const char *ctl_sec_str(int sec)
{
	switch (sec) {
	case CTL_SEC_INDETERMINATE:
		return "indeterminate";
	case CTL_SEC_INSECURE:
		return "insecure";
	case CTL_SEC_SECURE:
		return "secure";
	case CTL_SEC_BOGUS:
		return "bogus";
	default:
		return "unknown";
	}
}

bool ctl_rrsig_read(struct ctl_rrsig *s, const uint8_t *rd, size_t len)
{
	if (len < RRSIG_FIXED + 2)
		return false;
	int n = dns_name_check(rd + RRSIG_FIXED, len - RRSIG_FIXED);
	if (n < 0 || RRSIG_FIXED + (size_t)n >= len)
		return false;
	s->covered = dns_get16(rd);
	s->alg = rd[2];
	s->labels = rd[3];
	s->orig_ttl = dns_get32(rd + 4);
	s->expiration = dns_get32(rd + 8);
	s->inception = dns_get32(rd + 12);
	s->key_tag = dns_get16(rd + 16);
	s->signer_len = (uint8_t)n;
	s->signer = rd + RRSIG_FIXED;
	s->sig = rd + RRSIG_FIXED + n;
	s->sig_len = (uint16_t)(len - RRSIG_FIXED - (size_t)n);
	return true;
}

uint16_t ctl_val_key_tag(const uint8_t *rd, size_t len)
{
	uint32_t ac = 0;

	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += ac >> 16 & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

bool ctl_val_alg_supported(const struct ctl_val_limits *l, uint8_t alg)
{
	switch (alg) {
	case CTL_ALG_RSASHA1:
	case CTL_ALG_RSASHA1_NSEC3:
		return l->rsasha1;
	case CTL_ALG_RSASHA256:
	case CTL_ALG_RSASHA512:
	case CTL_ALG_ECDSAP256:
	case CTL_ALG_ECDSAP384:
	case CTL_ALG_ED25519:
	case CTL_ALG_ED448:
		return true;
	default:
		return false;
	}
}

bool ctl_val_digest_supported(uint8_t t)
{
	return t == DNS_DS_SHA1 || t == DNS_DS_SHA256 || t == DNS_DS_SHA384;
}

static const EVP_MD *ds_md(uint8_t t)
{
	switch (t) {
	case DNS_DS_SHA1:
		return EVP_sha1();
	case DNS_DS_SHA256:
		return EVP_sha256();
	case DNS_DS_SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

int ctl_val_ds_match(const uint8_t *owner, const uint8_t *ds, size_t ds_len,
		     const uint8_t *key, size_t key_len)
{
	uint8_t name[DNS_NAME_MAX], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (ds_len < 5 || key_len < 4)
		return 0;
	const EVP_MD *t = ds_md(ds[3]);
	if (!t)
		return -1;
	if (dns_get16(ds) != ctl_val_key_tag(key, key_len) || ds[2] != key[3])
		return 0;
	size_t nlen = dns_name_copy_lower(name, owner);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestInit_ex(c, t, NULL) &&
		  EVP_DigestUpdate(c, name, nlen) &&
		  EVP_DigestUpdate(c, key, key_len) &&
		  EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	return ok && mdlen == ds_len - 4 && memcmp(md, ds + 4, mdlen) == 0;
}

/* ---- public keys ------------------------------------------------------ */

static EVP_PKEY *from_params(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

	if (c && EVP_PKEY_fromdata_init(c) > 0)
		(void)EVP_PKEY_fromdata(c, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(c);
	return pkey;
}

/* RFC 3110 2: exponent length (1 octet, or 0 and 2 octets), exponent, modulus. */
static EVP_PKEY *pkey_rsa(const uint8_t *k, size_t len)
{
	size_t off = 1, elen;

	if (len < 3)
		return NULL;
	elen = k[0];
	if (elen == 0) {
		elen = dns_get16(k + 1);
		off = 3;
	}
	if (elen == 0 || elen > RSA_EXP_MAX || off + elen >= len ||
	    len - off - elen > RSA_MOD_MAX)
		return NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = BN_bin2bn(k + off, (int)elen, NULL);
	BIGNUM *n = BN_bin2bn(k + off + elen, (int)(len - off - elen), NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	if (e && n && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)))
		pkey = from_params("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return pkey;
}

/* RFC 6605 4: the point's x and y, each the curve's size. */
static EVP_PKEY *pkey_ec(const uint8_t *k, size_t len, size_t half,
			 const char *group)
{
	uint8_t point[1 + 2 * 48];

	if (len != 2 * half)
		return NULL;
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, k, len);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						 (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
						  len + 1),
		OSSL_PARAM_construct_end(),
	};
	return from_params("EC", params);
}

static EVP_PKEY *pkey_of(uint8_t alg, const uint8_t *k, size_t len)
{
	switch (alg) {
	case CTL_ALG_RSASHA1:
	case CTL_ALG_RSASHA1_NSEC3:
	case CTL_ALG_RSASHA256:
	case CTL_ALG_RSASHA512:
		return pkey_rsa(k, len);
	case CTL_ALG_ECDSAP256:
		return pkey_ec(k, len, 32, "P-256");
	case CTL_ALG_ECDSAP384:
		return pkey_ec(k, len, 48, "P-384");
	case CTL_ALG_ED25519:
		return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
							       NULL, k, len)
				 : NULL;
	case CTL_ALG_ED448:
		return len == 57 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448,
							       NULL, k, len)
				 : NULL;
	default:
		return NULL;
	}
}

static const EVP_MD *sig_md(uint8_t alg)
{
	switch (alg) {
	case CTL_ALG_RSASHA1:
	case CTL_ALG_RSASHA1_NSEC3:
		return EVP_sha1();
	case CTL_ALG_RSASHA256:
	case CTL_ALG_ECDSAP256:
		return EVP_sha256();
	case CTL_ALG_RSASHA512:
		return EVP_sha512();
	case CTL_ALG_ECDSAP384:
		return EVP_sha384();
	default:
		return NULL; /* EdDSA: no separate digest */
	}
}

/* ECDSA signatures are r | s on the wire (RFC 6605 4), DER for libcrypto:
 * its length; 0 when the signature has the wrong length (it cannot
 * verify), -1 when libcrypto failed (out of memory: no outcome). */
static int ecdsa_der(const uint8_t *sig, size_t len, size_t half,
		     uint8_t **der)
{
	if (len != 2 * half)
		return 0;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *v = BN_bin2bn(sig + half, (int)half, NULL);
	if (!s || !r || !v || !ECDSA_SIG_set0(s, r, v)) {
		BN_free(r);
		BN_free(v);
		ECDSA_SIG_free(s);
		return -1;
	}
	int n = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return n > 0 ? n : -1;
}

/*
 * Public keys already made, per thread: turning a DNSKEY into libcrypto's
 * key (an EC point decoded and checked, RSA numbers converted) costs about
 * as much as the signature check itself, and a zone's few keys sign
 * everything it serves. Direct-mapped by a hash of the key; a miss (a
 * KeyTrap zone's many keys included) costs what it did without the cache.
 */
#define PKEY_SLOTS 64

struct pkey_slot {
	EVP_PKEY *pkey;
	uint8_t alg;
	uint16_t len;
	uint8_t key[RSA_MOD_MAX + RSA_EXP_MAX + 3];
};

static __thread struct pkey_slot pkeys[PKEY_SLOTS];

/* The key for (alg, key); owned by the cache (never freed by the caller). */
static EVP_PKEY *pkey_cached(uint8_t alg, const uint8_t *k, size_t len)
{
	uint32_t h = 2166136261u ^ alg;

	if (len > sizeof(pkeys[0].key))
		return NULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ k[i]) * 16777619u;
	struct pkey_slot *s = &pkeys[h % PKEY_SLOTS];
	if (s->pkey && s->alg == alg && s->len == len && memcmp(s->key, k, len) == 0)
		return s->pkey;
	EVP_PKEY *pkey = pkey_of(alg, k, len);
	if (!pkey)
		return NULL;
	EVP_PKEY_free(s->pkey);
	s->pkey = pkey;
	s->alg = alg;
	s->len = (uint16_t)len;
	memcpy(s->key, k, len);
	return pkey;
}

/* 1 valid, 0 not, -1 no outcome: an unusable key, or libcrypto failed
 * (out of memory, or an error other than "does not verify"), which the
 * memo must not keep as the signature's outcome. */
static int pk_verify(uint8_t alg, const uint8_t *key, size_t key_len,
		     const uint8_t *sig, size_t sig_len, const uint8_t *data,
		     size_t len)
{
	uint8_t *der = NULL;
	int r = -1;
	EVP_PKEY *pkey = pkey_cached(alg, key, key_len);
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!pkey || !c)
		goto out;
	if (alg == CTL_ALG_ECDSAP256 || alg == CTL_ALG_ECDSAP384) {
		int n = ecdsa_der(sig, sig_len, alg == CTL_ALG_ECDSAP256 ? 32 : 48,
				  &der);
		if (n <= 0) {
			r = n == 0 ? 0 : -1;
			goto out;
		}
		sig = der;
		sig_len = (size_t)n;
	}
	if (EVP_DigestVerifyInit(c, NULL, sig_md(alg), NULL, pkey) <= 0)
		goto out;
	/* 0: does not verify; below 0: an error, the signature's form
	 * perhaps, perhaps not (OpenSSL's manual): no outcome to keep */
	int v = EVP_DigestVerify(c, sig, sig_len, data, len);
	r = v == 1 ? 1 : v == 0 ? 0 : -1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(c);
	return r;
}

/* ---- canonical form (RFC 4034 6.2, 6.3; RFC 4035 5.3.2) ---------------- */

struct canon {
	const uint8_t *p;
	uint16_t len;
};

static int canon_cmp(const void *a, const void *b)
{
	const struct canon *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (int)x->len - (int)y->len;
}

/*
 * The signed data: the RRSIG RDATA without its signature (signer
 * lower-cased), then every record of the set, owner lower-cased (or the
 * wildcard it was expanded from), type, class, original TTL, RDATA in
 * canonical form, sorted, duplicates once. malloc'd; NULL when the set is
 * malformed or too large.
 */
static uint8_t *signed_data(const struct ctl_val_rrset *set,
			    const struct ctl_rrsig *s, const uint8_t *rrsig,
			    size_t *out_len)
{
	uint8_t owner[DNS_NAME_MAX];
	size_t olen, rdsum = 0;
	int labels = dns_name_labels(set->owner);

	if (set->n == 0 || set->n > CTL_VAL_RRSET_MAX || s->labels > labels)
		return NULL;
	if (s->labels < labels) {
		/* RFC 4035 5.3.2: "*." and the owner's rightmost labels. */
		const uint8_t *p = set->owner;
		for (int i = 0; i < labels - s->labels; i++)
			p += *p + 1;
		owner[0] = 1;
		owner[1] = '*';
		olen = 2 + dns_name_copy_lower(owner + 2, p);
		if (olen > DNS_NAME_MAX)
			return NULL;
	} else {
		olen = dns_name_copy_lower(owner, set->owner);
	}
	for (unsigned i = 0; i < set->n; i++)
		rdsum += set->rr[i].len;

	struct canon idx[CTL_VAL_RRSET_MAX];
	size_t total = RRSIG_FIXED + s->signer_len +
		       set->n * (olen + DNS_RR_FIXED_LEN) + rdsum;
	uint8_t *buf = malloc(rdsum + total), *cbuf = buf, *o;
	if (!buf)
		return NULL;
	o = buf + rdsum;
	for (unsigned i = 0; i < set->n; i++) {
		uint16_t fmt = dns_rdata_format(set->type, set->rclass, set->rr[i].len);
		int n = dns_rdata_canonical(fmt, set->rr[i].p, set->rr[i].len, cbuf,
					    set->rr[i].len);
		if (n != set->rr[i].len) {
			free(buf);
			return NULL;
		}
		idx[i] = (struct canon){ cbuf, (uint16_t)n };
		cbuf += n;
	}
	qsort(idx, set->n, sizeof(idx[0]), canon_cmp);

	uint8_t *w = o;
	memcpy(w, rrsig, RRSIG_FIXED);
	w += RRSIG_FIXED;
	w += dns_name_copy_lower(w, s->signer);
	for (unsigned i = 0; i < set->n; i++) {
		if (i && canon_cmp(&idx[i], &idx[i - 1]) == 0)
			continue;
		memcpy(w, owner, olen);
		w += olen;
		dns_put16(w, set->type);
		dns_put16(w + 2, set->rclass);
		dns_put32(w + 4, s->orig_ttl);
		dns_put16(w + 8, idx[i].len);
		w += DNS_RR_FIXED_LEN;
		memcpy(w, idx[i].p, idx[i].len);
		w += idx[i].len;
	}
	*out_len = (size_t)(w - o);
	memmove(buf, o, *out_len);
	return buf;
}

/*
 * Outcomes of signature checks already made, per thread. The same
 * signature by the same key over the same octets verifies the same way
 * every time, and a resolver meets the same signature again and again:
 * the NSEC record that denies a flood of random names, every expansion of
 * a wildcard (signed over the wildcard's owner), an RRset fetched again
 * when its TTL ran out. A check of P-256 costs ~77 us on an Intel Xeon
 * with AVX-512 (openssl speed), its memo a SHA-256 of a few hundred
 * octets. Keyed by the SHA-256 of everything the outcome depends on: the
 * algorithm, the public key, the signature and the signed data (the RRSIG
 * RDATA without its signature, then the canonical RRset), each behind its
 * length; the whole digest is compared, so a different input is taken for
 * the same only on a SHA-256 collision. Direct-mapped: a slot's new
 * outcome replaces the old. The window, signer and key tag are checked by
 * the caller every time, and every check is charged to the question's
 * budget as before: a memo makes a check cheap, not free. No outcome
 * (-1: an unusable key, a libcrypto error) is kept.
 */
#define MEMO_SLOTS 2048

struct memo_slot {
	uint8_t digest[32];
	int8_t outcome;		/* 1 valid, 0 not; 0 in an empty slot ... */
	bool used;		/* ... which this tells apart */
};

static __thread struct memo_slot memo[MEMO_SLOTS];
static __thread bool memo_off;
static __thread uint64_t memo_hits;
static __thread EVP_MD_CTX *memo_ctx;
static __thread EVP_MD *memo_md;

void ctl_val_memo_enable(bool on)
{
	if (on && memo_off)
		memset(memo, 0, sizeof(memo));
	memo_off = !on;
}

uint64_t ctl_val_memo_hits(void)
{
	return memo_hits;
}

void ctl_val_thread_end(void)
{
	for (unsigned i = 0; i < PKEY_SLOTS; i++) {
		EVP_PKEY_free(pkeys[i].pkey);
		pkeys[i].pkey = NULL;
	}
	EVP_MD_CTX_free(memo_ctx);
	memo_ctx = NULL;
	EVP_MD_free(memo_md);
	memo_md = NULL;
	memset(memo, 0, sizeof(memo));
}

/* The memo's key of one check; false when libcrypto failed (no memo). */
static bool memo_key(uint8_t alg, const uint8_t *key, size_t key_len, const uint8_t *sig,
		     size_t sig_len, const uint8_t *data, size_t len, uint8_t out[32])
{
	uint8_t head[1 + 3 * 4];
	unsigned n;

	if (!memo_md && !(memo_md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		return false;
	if (!memo_ctx && !(memo_ctx = EVP_MD_CTX_new()))
		return false;
	head[0] = alg;
	dns_put32(head + 1, (uint32_t)key_len);
	dns_put32(head + 5, (uint32_t)sig_len);
	dns_put32(head + 9, (uint32_t)len);
	return EVP_DigestInit_ex(memo_ctx, memo_md, NULL) == 1 &&
	       EVP_DigestUpdate(memo_ctx, head, sizeof(head)) == 1 &&
	       EVP_DigestUpdate(memo_ctx, key, key_len) == 1 &&
	       EVP_DigestUpdate(memo_ctx, sig, sig_len) == 1 &&
	       EVP_DigestUpdate(memo_ctx, data, len) == 1 &&
	       EVP_DigestFinal_ex(memo_ctx, out, &n) == 1 && n == 32;
}

int ctl_val_verify_one(const struct ctl_val_rrset *set,
		       const struct ctl_rrsig *s, const uint8_t *rrsig,
		       size_t rrsig_len, const uint8_t *key, size_t key_len)
{
	size_t len;
	uint8_t digest[32];
	struct memo_slot *slot = NULL;

	(void)rrsig_len;
	if (key_len < 5 || key[3] != s->alg)
		return -1;
	uint8_t *data = signed_data(set, s, rrsig, &len);
	if (!data)
		return 0;
	if (!memo_off && memo_key(s->alg, key + 4, key_len - 4, s->sig, s->sig_len, data, len,
				  digest)) {
		uint32_t h;
		memcpy(&h, digest, sizeof(h));
		slot = &memo[h % MEMO_SLOTS];
		if (slot->used && memcmp(slot->digest, digest, sizeof(digest)) == 0) {
			memo_hits++;
			free(data);
			return slot->outcome;
		}
	}
	int r = pk_verify(s->alg, key + 4, key_len - 4, s->sig, s->sig_len, data,
			  len);
	free(data);
	if (slot && r >= 0) {
		memcpy(slot->digest, digest, sizeof(digest));
		slot->outcome = (int8_t)r;
		slot->used = true;
	}
	return r;
}

/* ---- an RRset against a DNSKEY set ------------------------------------ */

/* a - b in RFC 1982 serial arithmetic. */
static int64_t serial_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static bool key_signs(const struct ctl_val_rdata *k, uint8_t alg, uint16_t tag)
{
	if (k->len < 5 || k->p[2] != CTL_DNSKEY_PROTOCOL || k->p[3] != alg)
		return false;
	uint16_t flags = dns_get16(k->p);
	if (!(flags & CTL_DNSKEY_ZONE) || (flags & CTL_DNSKEY_REVOKE))
		return false;
	return ctl_val_key_tag(k->p, k->len) == tag;
}

static void result(struct ctl_val_result *res, uint8_t sec, uint16_t ede,
		   const char *why)
{
	res->sec = sec;
	res->ede = ede;
	res->why = why;
	res->ttl = 0;
	res->wildcard_labels = 0;
}

void ctl_val_rrset(struct ctl_val_budget *b, const struct ctl_val_rrset *set,
		   const uint8_t *zone, const struct ctl_val_rrset *keys,
		   uint32_t now, struct ctl_val_result *res)
{
	const struct ctl_val_limits *lim = b->lim;
	bool expired = false, early = false, no_key = false, bad = false;
	bool other_signer = false, unsupported = false;
	int labels = dns_name_labels(set->owner);

	result(res, CTL_SEC_BOGUS, CTL_EDE_RRSIGS_MISSING, "no signature over the RRset");
	if (set->n == 0 || set->n > CTL_VAL_RRSET_MAX) {
		result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS, "RRset empty or too large");
		return;
	}
	for (unsigned i = 0; i < set->nsig; i++) {
		struct ctl_rrsig s;
		if (!ctl_rrsig_read(&s, set->sig[i].p, set->sig[i].len) ||
		    s.covered != set->type)
			continue;
		if (!dns_name_equal(s.signer, zone) ||
		    !dns_name_is_subdomain(set->owner, s.signer) || s.labels > labels) {
			other_signer = true;
			continue;
		}
		if (!ctl_val_alg_supported(lim, s.alg)) {
			unsupported = true;
			continue;
		}
		if (serial_diff(s.expiration, s.inception) < 0 ||
		    serial_diff(now, s.expiration) > lim->skew_s) {
			expired = true;
			continue;
		}
		if (serial_diff(s.inception, now) > lim->skew_s) {
			early = true;
			continue;
		}
		bool found = false;
		for (unsigned k = 0; k < keys->n; k++) {
			if (!key_signs(&keys->rr[k], s.alg, s.key_tag))
				continue;
			found = true;
			if (b->failures >= lim->max_failures) {
				b->failures_hit = true;
				result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS,
				       "failed signature budget spent");
				return;
			}
			if (b->verify >= lim->max_verify) {
				b->verify_hit = true;
				result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS,
				       "signature check budget spent");
				return;
			}
			b->verify++;
			uint64_t memo_before = ctl_val_memo_hits();
			int r = ctl_val_verify_one(set, &s, set->sig[i].p, set->sig[i].len,
						   keys->rr[k].p, keys->rr[k].len);
			b->memo += ctl_val_memo_hits() != memo_before;
			if (r == 1) {
				int64_t left = serial_diff(s.expiration, now);
				uint32_t ttl = set->ttl < s.orig_ttl ? set->ttl : s.orig_ttl;
				if (left < ttl)
					ttl = left > 0 ? (uint32_t)left : 0;
				result(res, CTL_SEC_SECURE, CTL_EDE_NONE, "signature valid");
				res->ttl = ttl;
				/* fewer labels: expanded from a wildcard, unless the
				 * owner is that wildcard itself (RFC 4035 5.3.2) */
				bool literal = set->owner[0] == 1 && set->owner[1] == '*' &&
					       s.labels == labels - 1;
				res->wildcard_labels = s.labels < labels && !literal ? s.labels : 0;
				res->sig_used = (uint16_t)i;
				return;
			}
			bad = true;
			if (++b->failures >= lim->max_failures) {
				b->failures_hit = true;
				result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS,
				       "failed signature budget spent");
				return;
			}
		}
		if (!found)
			no_key = true;
	}
	if (bad)
		result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS, "signature does not verify");
	else if (expired)
		result(res, CTL_SEC_BOGUS, CTL_EDE_SIG_EXPIRED, "signature expired");
	else if (early)
		result(res, CTL_SEC_BOGUS, CTL_EDE_SIG_NOT_YET, "signature not yet valid");
	else if (no_key)
		result(res, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING,
		       "no DNSKEY of the signature's tag and algorithm");
	else if (unsupported)
		result(res, CTL_SEC_BOGUS, CTL_EDE_UNSUPPORTED_ALG,
		       "signed only with algorithms the zone's keys do not validate");
	else if (other_signer)
		result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS,
		       "signer is not the zone or not above the owner");
}

/* ---- a DNSKEY set against DS or an anchor ------------------------------ */

/* The set signed by key alone: *res secure or why not. */
static void signed_by(struct ctl_val_budget *b, const struct ctl_val_rrset *keys,
		      const struct ctl_val_rdata *key, uint32_t now,
		      struct ctl_val_result *res)
{
	struct ctl_val_rrset one = {
		.owner = keys->owner, .type = DNS_T_DNSKEY, .rclass = keys->rclass,
		.n = 1, .rr = key,
	};

	ctl_val_rrset(b, keys, keys->owner, &one, now, res);
}

void ctl_val_keyset(struct ctl_val_budget *b, const struct ctl_val_rrset *keys,
		    const struct ctl_val_rrset *ds,
		    const struct ctl_val_rrset *anchor_keys, uint32_t now,
		    struct ctl_val_result *res)
{
	const struct ctl_val_limits *lim = b->lim;
	struct ctl_val_result r = { 0 };
	bool strong = false, bad_digest = false, bad_alg = false, matched = false;
	unsigned usable = 0, digests = 0;

	result(res, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "no DNSKEY matches the DS set");
	if (keys->type != DNS_T_DNSKEY || keys->n == 0) {
		result(res, CTL_SEC_BOGUS, CTL_EDE_DNSKEY_MISSING, "no DNSKEY set");
		return;
	}
	for (unsigned i = 0; ds && i < ds->n; i++) {
		const uint8_t *d = ds->rr[i].p;
		if (ds->rr[i].len > 4 && d[3] != DNS_DS_SHA1 &&
		    ctl_val_digest_supported(d[3]) && ctl_val_alg_supported(lim, d[2]))
			strong = true;
	}
	for (unsigned i = 0; ds && i < ds->n; i++) {
		const uint8_t *d = ds->rr[i].p;
		if (ds->rr[i].len < 5)
			continue;
		if (!ctl_val_digest_supported(d[3])) {
			bad_digest = true;
			continue;
		}
		if (d[3] == DNS_DS_SHA1 && strong)
			continue; /* RFC 4509 3 */
		if (!ctl_val_alg_supported(lim, d[2])) {
			bad_alg = true;
			continue;
		}
		usable++;
		for (unsigned k = 0; k < keys->n; k++) {
			if (!key_signs(&keys->rr[k], d[2], dns_get16(d)))
				continue;
			if (++digests > MAX_DIGESTS) {
				result(res, CTL_SEC_BOGUS, CTL_EDE_BOGUS,
				       "too many keys of one tag");
				return;
			}
			if (ctl_val_ds_match(keys->owner, d, ds->rr[i].len,
					     keys->rr[k].p, keys->rr[k].len) != 1)
				continue;
			matched = true;
			signed_by(b, keys, &keys->rr[k], now, &r);
			if (r.sec == CTL_SEC_SECURE) {
				*res = r;
				return;
			}
			if (b->verify_hit || b->failures_hit) {
				*res = r;
				return;
			}
		}
	}
	for (unsigned i = 0; anchor_keys && i < anchor_keys->n; i++) {
		const struct ctl_val_rdata *a = &anchor_keys->rr[i];
		if (a->len < 5 || !ctl_val_alg_supported(lim, a->p[3])) {
			bad_alg = true;
			continue;
		}
		usable++;
		matched = true;
		signed_by(b, keys, a, now, &r);
		if (r.sec == CTL_SEC_SECURE || b->verify_hit || b->failures_hit) {
			*res = r;
			return;
		}
	}
	if (!usable)
		result(res, CTL_SEC_INSECURE,
		       bad_alg ? CTL_EDE_UNSUPPORTED_ALG : bad_digest
				   ? CTL_EDE_UNSUPPORTED_DIGEST : CTL_EDE_DNSKEY_MISSING,
		       bad_alg || bad_digest
			       ? "no DS with an algorithm and digest we support"
			       : "no DS");
	else if (matched)
		*res = r;
	if (!usable && !bad_alg && !bad_digest)
		res->sec = CTL_SEC_BOGUS;
}
