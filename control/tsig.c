/*
 * control/tsig.c: TSIG signatures (see tsig.h). What a MAC covers (RFC 8945
 * 4.3): the prior MAC (a request's, for its answer; the last verified one,
 * for the later messages of a transfer) as length and octets, the message
 * as it was before the TSIG record was added (the original id, ARCOUNT
 * without it), and the TSIG variables: all of them for a request and the
 * first answer, only the timers (time signed, fudge) for the later
 * messages, where the unsigned messages since the last signed one are
 * covered whole. Nothing is copied: the parts go into the HMAC one by one.
 */
#include "control/tsig.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "control/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"

static const struct {
	const char *name;	/* the algorithm's domain name (RFC 8945 6) */
	const char *digest;
	size_t len;
} algs[] = {
	[CFG_TSIG_HMAC_SHA256] = { "hmac-sha256", "SHA256", 32 },
	[CFG_TSIG_HMAC_SHA1] = { "hmac-sha1", "SHA1", 20 },
	[CFG_TSIG_HMAC_SHA224] = { "hmac-sha224", "SHA224", 28 },
	[CFG_TSIG_HMAC_SHA384] = { "hmac-sha384", "SHA384", 48 },
	[CFG_TSIG_HMAC_SHA512] = { "hmac-sha512", "SHA512", 64 },
};

int ctl_tsig_key_init(struct ctl_tsig_key *k, const struct cfg_tsig *c)
{
	memset(k, 0, sizeof(*k));
	if (c->alg >= sizeof(algs) / sizeof(algs[0]) || c->secret_len > sizeof(k->secret))
		return CTL_E_INVAL;
	if (dns_name_from_str(c->name, k->name) < 0 ||
	    dns_name_from_str(algs[c->alg].name, k->alg) < 0)
		return CTL_E_NAME;
	dns_name_lower(k->name);
	k->name_len = dns_name_len(k->name);
	k->alg_len = dns_name_len(k->alg);
	k->digest = algs[c->alg].digest;
	k->mac_len = algs[c->alg].len;
	memcpy(k->secret, c->secret, c->secret_len);
	k->secret_len = c->secret_len;
	return 0;
}

/* --- the HMAC ------------------------------------------------------------ */

static EVP_MAC_CTX *mac_new(const struct ctl_tsig_key *k)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)k->digest, 0),
		OSSL_PARAM_construct_end(),
	};

	EVP_MAC_free(mac); /* the context holds its own reference */
	if (c && !EVP_MAC_init(c, k->secret, k->secret_len, params)) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	return c;
}

static bool feed(EVP_MAC_CTX *c, const void *p, size_t len)
{
	return len == 0 || EVP_MAC_update(c, p, len);
}

static bool feed16(EVP_MAC_CTX *c, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return feed(c, b, 2);
}

static bool feed_timers(EVP_MAC_CTX *c, uint64_t time, uint16_t fudge)
{
	uint8_t b[8];

	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(time >> (8 * (5 - i)));
	b[6] = (uint8_t)(fudge >> 8);
	b[7] = (uint8_t)fudge;
	return feed(c, b, sizeof(b));
}

/* The message without its TSIG record: header with id and arcount given. */
static bool feed_msg(EVP_MAC_CTX *c, const uint8_t *msg, size_t end, uint16_t id,
		     uint16_t arcount)
{
	uint8_t h[12];

	memcpy(h, msg, sizeof(h));
	dns_put16(h, id);
	dns_put16(h + 10, arcount);
	return feed(c, h, sizeof(h)) && feed(c, msg + 12, end - 12);
}

/* All the variables: key name, class ANY, TTL 0, algorithm, timers, error,
 * other data. */
static bool feed_vars(EVP_MAC_CTX *c, const uint8_t *name, size_t name_len,
		      const uint8_t *alg, size_t alg_len, uint64_t time, uint16_t fudge,
		      uint16_t error, const uint8_t *other, uint16_t other_len)
{
	static const uint8_t class_ttl[6] = { 0, DNS_C_ANY, 0, 0, 0, 0 };

	return feed(c, name, name_len) && feed(c, class_ttl, sizeof(class_ttl)) &&
	       feed(c, alg, alg_len) && feed_timers(c, time, fudge) && feed16(c, error) &&
	       feed16(c, other_len) && feed(c, other, other_len);
}

static bool finish(EVP_MAC_CTX *c, uint8_t *out, size_t len)
{
	size_t n = 0;
	return EVP_MAC_final(c, out, &n, CTL_TSIG_MAC_MAX) && n == len;
}

/* --- signing ------------------------------------------------------------- */

/* The octets a TSIG record of these names, MAC and other data takes. */
static size_t rr_len(size_t name_len, size_t alg_len, size_t mac_len, size_t other_len)
{
	return name_len + 10 + alg_len + 10 + mac_len + 6 + other_len;
}

/* Appends a TSIG record to msg (room checked by the caller): the time
 * signed, MAC, error and other data given; the message's id as the
 * original id; ARCOUNT + 1. */
static size_t put_rr(uint8_t *msg, size_t len, const uint8_t *name, size_t name_len,
		     const uint8_t *alg, size_t alg_len, uint64_t time, const uint8_t *mac,
		     size_t mac_len, uint16_t error, const uint8_t *other, size_t other_len)
{
	size_t need = rr_len(name_len, alg_len, mac_len, other_len);
	uint8_t *p = msg + len;

	memcpy(p, name, name_len);
	p += name_len;
	dns_put16(p, DNS_T_TSIG);
	dns_put16(p + 2, DNS_C_ANY);
	memset(p + 4, 0, 4);
	dns_put16(p + 8, (uint16_t)(need - name_len - 10));
	p += 10;
	memcpy(p, alg, alg_len);
	p += alg_len;
	for (int i = 0; i < 6; i++)
		*p++ = (uint8_t)(time >> (8 * (5 - i)));
	dns_put16(p, CTL_TSIG_FUDGE_S);
	dns_put16(p + 2, (uint16_t)mac_len);
	p += 4;
	if (mac_len) /* (no MAC: an unsigned error) */
		memcpy(p, mac, mac_len);
	p += mac_len;
	dns_put16(p, dns_get16(msg));
	dns_put16(p + 2, error);
	dns_put16(p + 4, (uint16_t)other_len);
	if (other_len)
		memcpy(p + 6, other, other_len);
	dns_put16(msg + 10, (uint16_t)(dns_get16(msg + 10) + 1));
	return len + need;
}

/* ctl_tsig_sign() with other data (BADTIME's: our clock). */
static int sign(const struct ctl_tsig_key *k, uint8_t *msg, size_t len, size_t cap,
		const uint8_t *prior, size_t prior_len, uint64_t time, uint16_t error,
		const uint8_t *other, size_t other_len, uint8_t *mac)
{
	size_t need = rr_len(k->name_len, k->alg_len, k->mac_len, other_len);
	uint8_t m[CTL_TSIG_MAC_MAX];

	if (len < 12 || cap < len || cap - len < need || len + need > 65535)
		return CTL_E_FULL;
	uint16_t id = dns_get16(msg), ar = dns_get16(msg + 10);
	if (ar == 0xffff)
		return CTL_E_FULL;
	EVP_MAC_CTX *c = mac_new(k);
	bool ok = c && (!prior || (feed16(c, (uint16_t)prior_len) && feed(c, prior, prior_len))) &&
		  feed_msg(c, msg, len, id, ar) &&
		  feed_vars(c, k->name, k->name_len, k->alg, k->alg_len, time, CTL_TSIG_FUDGE_S,
			    error, other, (uint16_t)other_len) &&
		  finish(c, m, k->mac_len);
	EVP_MAC_CTX_free(c);
	if (!ok)
		return CTL_E_SYSTEM;
	len = put_rr(msg, len, k->name, k->name_len, k->alg, k->alg_len, time, m, k->mac_len,
		     error, other, other_len);
	if (mac)
		memcpy(mac, m, k->mac_len);
	return (int)len;
}

int ctl_tsig_sign(const struct ctl_tsig_key *k, uint8_t *msg, size_t len, size_t cap,
		  const uint8_t *prior, size_t prior_len, uint64_t now, uint16_t error,
		  uint8_t *mac)
{
	return sign(k, msg, len, cap, prior, prior_len, now, error, NULL, 0, mac);
}

int ctl_tsig_answer_error(const struct ctl_tsig_key *k, const struct ctl_tsig_request *req,
			  uint8_t *msg, size_t len, size_t cap, uint64_t now)
{
	if (req->error == CTL_TSIG_BADTIME) {
		/* signed with the request's MAC (it verified), the request's
		 * time signed, our clock as other data (RFC 8945 5.2.3) */
		uint8_t other[6];
		for (int i = 0; i < 6; i++)
			other[i] = (uint8_t)(now >> (8 * (5 - i)));
		return sign(k, msg, len, cap, req->mac, req->mac_len, req->time, req->error, other,
			    sizeof(other), NULL);
	}
	if (req->error == CTL_TSIG_BADTRUNC) /* signed too (5.3.2): its MAC verified */
		return sign(k, msg, len, cap, req->mac, req->mac_len, now, req->error, NULL, 0,
			    NULL);
	/* the request's key name and algorithm, its time, no MAC (RFC 8945
	 * 5.3.2: never signed) */
	size_t need = rr_len(req->name_len, req->alg_len, 0, 0);
	if (len < 12 || cap < len || cap - len < need || len + need > 65535 ||
	    dns_get16(msg + 10) == 0xffff)
		return CTL_E_FULL;
	return (int)put_rr(msg, len, req->name, req->name_len, req->alg, req->alg_len, req->time,
			   NULL, 0, req->error, NULL, 0);
}

/* --- reading a TSIG record ----------------------------------------------- */

int ctl_tsig_find(const uint8_t *msg, size_t len, struct ctl_tsig_rr *t)
{
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;
	unsigned total = 0, at = 0;
	bool found = false;

	if (dns_msg_parse(&m, msg, len))
		return CTL_E_TSIG;
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0) {
		total++;
		if (rr.type != DNS_T_TSIG)
			continue;
		if (found || rr.section != DNS_SEC_ADDITIONAL)
			return CTL_E_TSIG;
		found = true;
		at = total;
		t->off = rr.off;
		dns_copy_lower(t->name, rr.owner, rr.owner_len);
		t->name_len = rr.owner_len;
		if (rr.rclass != DNS_C_ANY || dns_get32(msg + rr.ttl_off) != 0)
			return CTL_E_TSIG;
		/* RDATA: algorithm (never compressed), time, fudge, MAC, id,
		 * error, other */
		const uint8_t *rd = msg + rr.rdata_off, *end = rd + rr.rdlen;
		int an = dns_name_check(rd, rr.rdlen);
		if (an <= 0)
			return CTL_E_TSIG;
		dns_copy_lower(t->alg, rd, (size_t)an);
		t->alg_len = (size_t)an;
		const uint8_t *p = rd + an;
		if (end - p < 10)
			return CTL_E_TSIG;
		t->time = 0;
		for (int i = 0; i < 6; i++)
			t->time = t->time << 8 | p[i];
		t->fudge = dns_get16(p + 6);
		t->mac_len = dns_get16(p + 8);
		p += 10;
		if ((size_t)(end - p) < (size_t)t->mac_len + 6)
			return CTL_E_TSIG;
		t->mac = p;
		p += t->mac_len;
		t->orig_id = dns_get16(p);
		t->error = dns_get16(p + 2);
		t->other_len = dns_get16(p + 4);
		p += 6;
		if ((size_t)(end - p) != t->other_len)
			return CTL_E_TSIG;
		t->other = p;
	}
	if (found && at != total)
		return CTL_E_TSIG;
	return found ? 1 : 0;
}

static const char *tsig_error_str(uint16_t e, char *buf, size_t size)
{
	switch (e) {
	case CTL_TSIG_BADSIG:
		return "BADSIG";
	case CTL_TSIG_BADKEY:
		return "BADKEY";
	case CTL_TSIG_BADTIME:
		return "BADTIME";
	case CTL_TSIG_BADTRUNC:
		return "BADTRUNC";
	default:
		snprintf(buf, size, "error %u", e);
		return buf;
	}
}

/* The checks every signed message gets before its MAC: 0 or CTL_E_TSIG. */
static int check_rr(const struct ctl_tsig_key *k, const struct ctl_tsig_rr *t, uint64_t now,
		    const char *who, char *why, size_t whylen)
{
	char eb[16];

	if (t->name_len != k->name_len || memcmp(t->name, k->name, k->name_len) ||
	    t->alg_len != k->alg_len || memcmp(t->alg, k->alg, k->alg_len)) {
		snprintf(why, whylen, "%s signed with another key or algorithm", who);
		return CTL_E_TSIG;
	}
	if (t->error) {
		snprintf(why, whylen, "%s says %s", who, tsig_error_str(t->error, eb, sizeof(eb)));
		return CTL_E_TSIG;
	}
	if (t->mac_len != k->mac_len) {
		snprintf(why, whylen, "%s has a MAC of %u octets (%zu expected)", who, t->mac_len,
			 k->mac_len);
		return CTL_E_TSIG;
	}
	if (now + t->fudge < t->time || t->time + t->fudge < now) {
		snprintf(why, whylen, "%s signed at %llu, %lld s from our clock (BADTIME)", who,
			 (unsigned long long)t->time, (long long)(t->time - now));
		return CTL_E_TSIG;
	}
	return 0;
}

int ctl_tsig_check_request(const struct ctl_tsig_key *k, const uint8_t *msg, size_t len,
			   uint64_t now, struct ctl_tsig_request *req, char *why, size_t whylen)
{
	struct ctl_tsig_rr t;
	uint8_t m[CTL_TSIG_MAC_MAX];
	int r = ctl_tsig_find(msg, len, &t);

	memset(req, 0, sizeof(*req));
	if (r < 0) {
		req->formerr = true;
		snprintf(why, whylen, "a malformed TSIG record");
		return CTL_E_TSIG;
	}
	if (r == 0) {
		snprintf(why, whylen, "no TSIG record");
		return k ? CTL_E_TSIG : 0;
	}
	req->signed_ = true;
	memcpy(req->name, t.name, t.name_len);
	req->name_len = t.name_len;
	memcpy(req->alg, t.alg, t.alg_len);
	req->alg_len = t.alg_len;
	req->time = t.time;
	/* in RFC 8945 5.2's order: the key, the MAC, the time, truncation */
	if (!k || t.name_len != k->name_len || memcmp(t.name, k->name, k->name_len) ||
	    t.alg_len != k->alg_len || memcmp(t.alg, k->alg, k->alg_len)) {
		req->error = CTL_TSIG_BADKEY;
		snprintf(why, whylen, "the request is signed with %s (BADKEY)",
			 k ? "another key or algorithm" : "a key where we have none");
		return CTL_E_TSIG;
	}
	/* 5.2.2.1: longer than the hash, or shorter than half of it and
	 * than 10 octets, is a format error; a truncated MAC is compared
	 * as far as it goes */
	size_t min = k->mac_len / 2 > 10 ? k->mac_len / 2 : 10;
	if (t.mac_len > k->mac_len || t.mac_len < min) {
		req->formerr = true;
		snprintf(why, whylen, "the request has a MAC of %u octets (FORMERR)", t.mac_len);
		return CTL_E_TSIG;
	}
	EVP_MAC_CTX *c = mac_new(k);
	bool ok = c && feed_msg(c, msg, t.off, t.orig_id, (uint16_t)(dns_get16(msg + 10) - 1)) &&
		  feed_vars(c, k->name, k->name_len, k->alg, k->alg_len, t.time, t.fudge,
			    t.error, t.other, t.other_len) &&
		  finish(c, m, k->mac_len);
	EVP_MAC_CTX_free(c);
	if (!ok) {
		snprintf(why, whylen, "libcrypto failed");
		return CTL_E_SYSTEM;
	}
	if (CRYPTO_memcmp(m, t.mac, t.mac_len)) {
		req->error = CTL_TSIG_BADSIG;
		snprintf(why, whylen, "the request's MAC is wrong (BADSIG)");
		return CTL_E_TSIG;
	}
	/* the MAC as the request has it: an answer's signature covers it */
	memcpy(req->mac, t.mac, t.mac_len);
	req->mac_len = t.mac_len;
	if (t.error) { /* (no request should carry one) */
		snprintf(why, whylen, "the request carries TSIG error %u", t.error);
		return CTL_E_TSIG;
	}
	if (now + t.fudge < t.time || t.time + t.fudge < now) {
		req->error = CTL_TSIG_BADTIME;
		snprintf(why, whylen, "the request signed at %llu, %lld s from our clock (BADTIME)",
			 (unsigned long long)t.time, (long long)(t.time - now));
		return CTL_E_TSIG;
	}
	if (t.mac_len < k->mac_len) { /* decided: full-length MACs only */
		req->error = CTL_TSIG_BADTRUNC;
		snprintf(why, whylen, "the request's MAC is cut to %u octets (BADTRUNC)", t.mac_len);
		return CTL_E_TSIG;
	}
	return 0;
}

/* --- verifying answers --------------------------------------------------- */

void ctl_tsig_verify_init(struct ctl_tsig_verify *v, const struct ctl_tsig_key *k,
			  uint16_t id, const uint8_t *request_mac)
{
	memset(v, 0, sizeof(*v));
	v->k = k;
	v->id = id;
	memcpy(v->prior, request_mac, k->mac_len);
	v->prior_len = k->mac_len;
}

void ctl_tsig_verify_fini(struct ctl_tsig_verify *v)
{
	EVP_MAC_CTX_free(v->run);
	v->run = NULL;
}

int ctl_tsig_verify_msg(struct ctl_tsig_verify *v, const uint8_t *msg, size_t len,
			uint64_t now, char *why, size_t whylen)
{
	const struct ctl_tsig_key *k = v->k;
	struct ctl_tsig_rr t;
	uint8_t m[CTL_TSIG_MAC_MAX];
	bool first = v->messages++ == 0;
	int r = ctl_tsig_find(msg, len, &t);

	v->ok_last = false;
	if (r < 0) {
		snprintf(why, whylen, "message %u: a malformed TSIG record", v->messages);
		return CTL_E_TSIG;
	}
	if (!v->run) {
		/* a fresh run after each verified MAC: the prior MAC first */
		v->run = mac_new(k);
		if (!v->run || !feed16(v->run, (uint16_t)v->prior_len) ||
		    !feed(v->run, v->prior, v->prior_len)) {
			snprintf(why, whylen, "libcrypto failed");
			return CTL_E_SYSTEM;
		}
	}
	if (r == 0) {
		if (first) {
			snprintf(why, whylen, "the answer is not signed");
			return CTL_E_TSIG;
		}
		if (++v->unsigned_run > CTL_TSIG_UNSIGNED_MAX) {
			snprintf(why, whylen, "more than %u messages in a row unsigned",
				 CTL_TSIG_UNSIGNED_MAX);
			return CTL_E_TSIG;
		}
		if (!feed(v->run, msg, len)) {
			snprintf(why, whylen, "libcrypto failed");
			return CTL_E_SYSTEM;
		}
		return 0;
	}
	char who[32];
	snprintf(who, sizeof(who), "message %u", v->messages);
	if ((r = check_rr(k, &t, now, who, why, whylen)))
		return r;
	EVP_MAC_CTX *c = v->run;
	v->run = NULL;
	uint16_t ar = (uint16_t)(dns_get16(msg + 10) - 1);
	bool ok = feed_msg(c, msg, t.off, t.orig_id, ar) &&
		  (first ? feed_vars(c, k->name, k->name_len, k->alg, k->alg_len, t.time,
				     t.fudge, t.error, t.other, t.other_len)
			 : feed_timers(c, t.time, t.fudge)) &&
		  finish(c, m, k->mac_len);
	EVP_MAC_CTX_free(c);
	if (!ok) {
		snprintf(why, whylen, "libcrypto failed");
		return CTL_E_SYSTEM;
	}
	if (t.orig_id != v->id || CRYPTO_memcmp(m, t.mac, k->mac_len)) {
		snprintf(why, whylen, "%s: the MAC is wrong (BADSIG)", who);
		return CTL_E_TSIG;
	}
	memcpy(v->prior, m, k->mac_len);
	v->prior_len = k->mac_len;
	v->unsigned_run = 0;
	v->ok_last = true;
	return 0;
}
