/*
 * tests/cache/test_msgcache.c: the message cache's behaviour: hits and
 * misses, TTLs counting down in the emitted wire, expiry, serve-stale,
 * prefetch once, negative TTLs (RFC 2308), the NXDOMAIN cut (RFC 8020), DO
 * separation, case, TC, ranks, the memory budget with CLOCK eviction and
 * index growth. Readers on other threads: stress_msgcache.c.
 */
#define _LGPL_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <urcu/urcu-qsbr.h>

#include "cache/msgcache.h"
#include "dns/build.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/opt.h"
#include "dns/query.h"
#include "tests/dns/testutil.h"

#define T0 1000000u /* the tests' clock starts here */

struct rec {
	int sec;
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const void *rdata;
	size_t rdlen;
};

static const uint8_t addr[4] = { 198, 18, 0, 1 };

/* SOA RDATA for shop.lab with the given MINIMUM. */
static size_t soa(uint8_t *out, uint32_t minimum)
{
	size_t n = 0;

	memcpy(out, nm("ns1.shop.lab"), 14);
	n += 14;
	memcpy(out + n, nm("hm.shop.lab"), 13);
	n += 13;
	for (int i = 0; i < 4; i++, n += 4)
		dns_put32(out + n, (uint32_t)(1000 + i));
	dns_put32(out + n, minimum);
	return n + 4;
}

static size_t response(uint8_t *buf, size_t cap, const char *qname,
		       uint16_t qtype, uint16_t rcode, const struct rec *r,
		       size_t n, bool opt)
{
	struct dns_builder b;

	cr_assert_eq(dns_builder_init(&b, buf, cap, 0, DNS_F_QR | DNS_F_AA | rcode), 0);
	cr_assert_eq(dns_builder_question(&b, nm(qname), qtype, DNS_C_IN), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(dns_builder_rr(&b, r[i].sec, nm(r[i].owner), r[i].type,
					    DNS_C_IN, r[i].ttl, r[i].rdata,
					    r[i].rdlen), 0);
	if (opt)
		cr_assert_eq(dns_builder_opt(&b, 1232, 0, 0, DNS_EDNS_F_DO, NULL, 0), 0);
	return dns_builder_finish(&b);
}

/* A client query, parsed; wire must outlive q. */
static void query(struct dns_query *q, uint8_t *wire, const char *qname,
		  uint16_t qtype, int edns /* 0 none, 1 plain, 2 DO */,
		  uint16_t udp)
{
	struct dns_builder b;

	dns_builder_init(&b, wire, 512, 0x4242, DNS_F_RD);
	dns_builder_question(&b, nm(qname), qtype, DNS_C_IN);
	if (edns)
		dns_builder_opt(&b, udp, 0, 0, edns == 2 ? DNS_EDNS_F_DO : 0, NULL, 0);
	cr_assert_eq(dns_query_parse(q, wire, dns_builder_finish(&b)), 0);
}

static struct cache *new_cache(void (*tweak)(struct cache_config *))
{
	struct cache_config cfg;

	cache_config_default(&cfg);
	cfg.max_bytes = 64u << 20;
	if (tweak)
		tweak(&cfg);
	struct cache *c = cache_new(&cfg);
	cr_assert_not_null(c);
	return c;
}

static void setup(void)
{
	urcu_qsbr_register_thread();
}

static void teardown(void)
{
	urcu_qsbr_unregister_thread();
}

TestSuite(msgcache, .init = setup, .fini = teardown);

/* One lookup of (name, type, DO). */
static struct cache_result lookup(struct cache *c, const char *name,
				  uint16_t type, bool do_bit, uint32_t now)
{
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats st = { 0 };

	cache_key_init(&k, c, nm(name), type, DNS_C_IN, do_bit);
	cache_lookup_burst(c, &kp, 1, now, &res, &st);
	return res;
}

/* The reply to (name, type) at now, parsed into m (wire in out). */
static void answer(struct cache *c, const char *qname, uint16_t type,
		   int edns, uint32_t now, uint8_t *out, size_t cap,
		   struct dns_msg *m, enum cache_state *state)
{
	uint8_t qwire[512];
	struct dns_query q;
	struct cache_result res;

	query(&q, qwire, qname, type, edns, 1232);
	res = lookup(c, qname, type, edns == 2, now);
	cr_assert_not_null(res.entry, "no entry for %s at %u", qname, now);
	if (state)
		*state = res.state;
	int len = cache_answer(c, res.entry, res.state, &q, now, out, cap);
	cr_assert_gt(len, 0);
	cr_assert_eq(dns_msg_parse(m, out, (size_t)len), 0);
	/* The question comes back as the client sent it. */
	cr_assert_arr_eq(out + DNS_HDR_LEN, qwire + DNS_HDR_LEN, q.qname_len + 4u);
	cr_assert_eq(m->hdr.id, 0x4242);
}

static uint32_t first_ttl(const struct dns_msg *m, enum dns_section sec)
{
	struct dns_rr_iter it;
	struct dns_rr rr;

	dns_rr_iter_init(&it, m, sec);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	return rr.ttl;
}

static void insert_a(struct cache *c, const char *name, uint32_t ttl,
		     uint32_t now, bool do_bit)
{
	uint8_t buf[512];
	struct rec r = { DNS_SEC_ANSWER, name, DNS_T_A, ttl, addr, 4 };
	size_t len = response(buf, sizeof(buf), name, DNS_T_A, 0, &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, now, CACHE_RANK_AUTH_ANSWER, do_bit), 0);
}

Test(msgcache, hit_counts_ttl_down_and_keeps_client_case)
{
	struct cache *c = new_cache(NULL);
	uint8_t out[1232];
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_A, false, T0).entry);
	insert_a(c, "WWW.Shop.lab", 300, T0, false);
	cr_assert_eq(lookup(c, "www.shop.lab", DNS_T_A, false, T0).state, CACHE_HIT);
	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_AAAA, false, T0).entry);
	answer(c, "wWw.sHoP.LAB", DNS_T_A, 0, T0 + 10, out, sizeof(out), &m, NULL);
	cr_assert_eq(m.hdr.flags, DNS_F_QR | DNS_F_RD | DNS_F_RA);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.ttl, 290);
	cr_assert_arr_eq(rr.owner, nm("wWw.sHoP.LAB"), 14, "owner in the client's case");
	answer(c, "www.shop.lab", DNS_T_A, 0, T0 + 299, out, sizeof(out), &m, NULL);
	cr_assert_eq(first_ttl(&m, DNS_SEC_ANSWER), 1);
	cache_free(c);
}

static void no_stale(struct cache_config *cfg) { cfg->max_stale = 0; }

Test(msgcache, expiry_then_stale_window_then_gone)
{
	struct cache *c = new_cache(NULL);
	uint8_t out[1232];
	struct dns_msg m;
	enum cache_state st;

	insert_a(c, "a.shop.lab", 100, T0, false);
	cr_assert_eq(lookup(c, "a.shop.lab", DNS_T_A, false, T0 + 50).state, CACHE_HIT);
	answer(c, "a.shop.lab", DNS_T_A, 0, T0 + 100, out, sizeof(out), &m, &st);
	cr_assert_eq(st, CACHE_STALE_REFRESH, "first stale hit asks for a refresh");
	cr_assert_eq(first_ttl(&m, DNS_SEC_ANSWER), 30);
	cr_assert_eq(lookup(c, "a.shop.lab", DNS_T_A, false, T0 + 101).state, CACHE_STALE);
	cr_assert_eq(lookup(c, "a.shop.lab", DNS_T_A, false,
			    T0 + 100 + CACHE_STALE_RETRY_S).state, CACHE_STALE_REFRESH,
		     "asks again after the retry interval");
	cr_assert_geq(lookup(c, "a.shop.lab", DNS_T_A, false, T0 + 100 + 86399).state,
		      CACHE_STALE, "still answerable at the end of the window");
	cr_assert_null(lookup(c, "a.shop.lab", DNS_T_A, false, T0 + 100 + 86400).entry);
	cache_free(c);

	c = new_cache(no_stale);
	insert_a(c, "a.shop.lab", 100, T0, false);
	cr_assert_null(lookup(c, "a.shop.lab", DNS_T_A, false, T0 + 100).entry,
		       "max-stale 0 disables serve-stale");
	cache_free(c);
}

Test(msgcache, a_stale_answer_says_so_with_ede_3)
{
	struct cache *c = new_cache(NULL);
	uint8_t out[1232];
	struct dns_msg m;

	insert_a(c, "a.shop.lab", 100, T0, false);
	answer(c, "a.shop.lab", DNS_T_A, 1, T0 + 50, out, sizeof(out), &m, NULL);
	cr_assert(m.has_edns);
	cr_assert_eq(dns_opt_find_ede(m.wire + m.edns.opts_off, m.edns.opts_len), DNS_EDE_NONE,
		     "fresh: no EDE");
	answer(c, "a.shop.lab", DNS_T_A, 1, T0 + 150, out, sizeof(out), &m, NULL);
	cr_assert(m.has_edns);
	cr_assert_eq(m.edns.opts_len, DNS_EDE_LEN);
	cr_assert_eq(dns_opt_find_ede(m.wire + m.edns.opts_off, m.edns.opts_len),
		     DNS_EDE_STALE_ANSWER, "RFC 8914 4.4");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1, "the records all the same");
	/* a client without EDNS: no OPT to carry it */
	answer(c, "a.shop.lab", DNS_T_A, 0, T0 + 150, out, sizeof(out), &m, NULL);
	cr_assert_not(m.has_edns);
	cache_free(c);
}

Test(msgcache, prefetch_fires_once_in_the_last_tenth)
{
	struct cache *c = new_cache(NULL);
	int prefetches = 0;

	insert_a(c, "p.shop.lab", 1000, T0, false);
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + 899).state, CACHE_HIT);
	/* many hits within the retry interval: one asks */
	for (int i = 0; i < 50; i++)
		prefetches += lookup(c, "p.shop.lab", DNS_T_A, false,
				     T0 + 900 + (uint32_t)i % CACHE_PREFETCH_RETRY_S).state ==
			      CACHE_HIT_PREFETCH;
	cr_assert_eq(prefetches, 1);
	cache_free(c);
}

/* A refresh claimed and not asked for (the worker over its miss budget, a
 * full ring, a TCP lookup), or lost: a hit asks again after
 * CACHE_PREFETCH_RETRY_S, stale or not, and only one hit each time. */
Test(msgcache, a_refresh_that_never_came_is_asked_for_again)
{
	struct cache *c = new_cache(NULL);

	insert_a(c, "p.shop.lab", 1000, T0, false);
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + 900).state, CACHE_HIT_PREFETCH);
	for (uint32_t t = 901; t < 900 + CACHE_PREFETCH_RETRY_S; t++)
		cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + t).state, CACHE_HIT,
			     "second %u", t);
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + 900 + CACHE_PREFETCH_RETRY_S).state,
		     CACHE_HIT_PREFETCH);
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + 900 + CACHE_PREFETCH_RETRY_S).state,
		     CACHE_HIT);
	/* a reader whose second is still the one before (a burst begun
	 * then) does not claim it again */
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false,
			    T0 + 900 + CACHE_PREFETCH_RETRY_S - 1).state, CACHE_HIT);
	/* a refresh that came replaces the entry: its window starts anew */
	insert_a(c, "p.shop.lab", 1000, T0 + 911, false);
	cr_assert_eq(lookup(c, "p.shop.lab", DNS_T_A, false, T0 + 912).state, CACHE_HIT);
	cache_free(c);
}

/* A reload's settings take effect for entries cached before it. */
Test(msgcache, a_reload_applies_its_limits_to_entries_already_cached)
{
	struct cache *c = new_cache(NULL);
	struct cache_config cfg;
	uint8_t buf[512], rd[64], out[1232];
	struct dns_msg m;

	insert_a(c, "long.shop.lab", 5000, T0, false);
	insert_a(c, "short.shop.lab", 100, T0, false);
	insert_a(c, "stale.shop.lab", 10, T0, false);
	insert_a(c, "pre.shop.lab", 1000, T0, false);
	size_t n = soa(rd, 3000);
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 3000, rd, n };
	size_t len = response(buf, sizeof(buf), "nope.shop.lab", DNS_T_A, DNS_R_NXDOMAIN, &r, 1,
			      false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_eq(lookup(c, "stale.shop.lab", DNS_T_A, false, T0 + 20).state,
		     CACHE_STALE_REFRESH);

	cache_config_default(&cfg);
	cfg.max_ttl = 1500;
	cfg.max_negative_ttl = 2000;
	cfg.max_stale = 0;
	cfg.prefetch_percent = 0;
	/* long.shop.lab outlives 1500 s and nope.shop.lab 2000 s: removed by
	 * the trim that follows, one slot at a time here */
	cache_set_limits(c, &cfg);
	uint64_t removed = 0, slices = 0;
	while (cache_trim(c, T0 + 1, 1, &removed))
		slices++;
	cr_assert_eq(removed, 2);
	cr_assert_gt(slices, 4, "in slices");
	cr_assert_null(lookup(c, "long.shop.lab", DNS_T_A, false, T0 + 1).entry);
	cr_assert_null(lookup(c, "nope.shop.lab", DNS_T_A, false, T0 + 1).entry);
	answer(c, "pre.shop.lab", DNS_T_A, 0, T0 + 10, out, sizeof(out), &m, NULL);
	cr_assert_eq(first_ttl(&m, DNS_SEC_ANSWER), 990, "within the bound: kept as it was");
	cr_assert_eq(lookup(c, "short.shop.lab", DNS_T_A, false, T0 + 50).state, CACHE_HIT);
	cr_assert_null(lookup(c, "stale.shop.lab", DNS_T_A, false, T0 + 21).entry,
		       "serve-stale off: an expired entry is a miss");
	cr_assert_eq(lookup(c, "pre.shop.lab", DNS_T_A, false, T0 + 950).state, CACHE_HIT,
		     "prefetch off: no refresh asked");
	cr_assert_eq(cache_check(c), 0);

	/* raised again: nothing removed; stale back within the new window */
	cfg.max_ttl = 86400;
	cfg.max_stale = 100;
	cfg.prefetch_percent = 10;
	cache_set_limits(c, &cfg);
	cr_assert_eq(cache_trim(c, T0 + 30, UINT64_MAX, &removed), 0, "raised: no trim");
	cr_assert_geq(lookup(c, "stale.shop.lab", DNS_T_A, false, T0 + 30).state, CACHE_STALE);
	cr_assert_null(lookup(c, "stale.shop.lab", DNS_T_A, false, T0 + 110).entry,
		       "the entry's window ends 100 s after its expiry now");
	cr_assert_eq(lookup(c, "pre.shop.lab", DNS_T_A, false, T0 + 950).state,
		     CACHE_HIT_PREFETCH);
	cache_free(c);
}

/* A change of trust anchor: what was validated is unknown at once. */
Test(msgcache, a_flushed_epoch_is_gone_for_readers_at_once_and_trimmed_after)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512];
	struct rec r = { DNS_SEC_ANSWER, "sec.shop.lab", DNS_T_A, 300, addr, 4 };
	size_t len = response(buf, sizeof(buf), "sec.shop.lab", DNS_T_A, 0, &r, 1, false);
	struct cache_stats st;
	uint64_t removed = 0;

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, false), 0);
	insert_a(c, "other.shop.lab", 300, T0, false);
	cache_flush_epoch(c);
	cr_assert_null(lookup(c, "sec.shop.lab", DNS_T_A, false, T0 + 1).entry);
	cr_assert_null(lookup(c, "other.shop.lab", DNS_T_A, false, T0 + 1).entry);
	/* a lower rank replaces the secure entry of the old epoch */
	cr_assert_eq(cache_insert(c, buf, len, T0 + 1, CACHE_RANK_NONAUTH_ANSWER, false), 0);
	cr_assert_eq(lookup(c, "sec.shop.lab", DNS_T_A, false, T0 + 1).state, CACHE_HIT);
	while (cache_trim(c, T0 + 1, 64, &removed))
		;
	cr_assert_eq(removed, 1, "other.shop.lab, left from the old epoch");
	cache_get_stats(c, &st);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(cache_check(c), 0);
	cache_free(c);
}

/* An operator's flush: by name (every type), by zone (on label
 * boundaries), negative answers; entries made after it stay. */
Test(msgcache, an_operators_flush_takes_what_it_names_and_no_more)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], rd[64];
	uint64_t removed = 0, n = 0;

	insert_a(c, "www.shop.lab", 300, T0, true);
	insert_a(c, "a.www.shop.lab", 300, T0, false);
	insert_a(c, "xwww.shop.lab", 300, T0, false);
	insert_a(c, "shop.lab", 300, T0, false);
	insert_a(c, "other.lab", 300, T0, false);
	size_t len = soa(rd, 3000);
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 3000, rd, len };
	len = response(buf, sizeof(buf), "nope.other.lab", DNS_T_A, DNS_R_NXDOMAIN, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	len = response(buf, sizeof(buf), "WWW.Shop.lab", DNS_T_TXT, 0, &r, 1, false); /* NODATA */
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);

	/* the name, in any case: every type, both views */
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_NAME, nm("WWW.SHOP.LAB"), T0 + 1), 0);
	cr_assert(cache_flush_busy(c, NULL));
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_ZONE, nm("lab"), T0 + 1), CACHE_E_BUSY);
	while (cache_trim(c, T0 + 2, 2, &removed))
		n++;
	cr_assert_gt(n, 4, "in slices");
	cr_assert_not(cache_flush_busy(c, &removed));
	cr_assert_eq(removed, 2, "the address and the NODATA: %llu", (unsigned long long)removed);
	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_A, false, T0 + 2).entry);
	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_A, true, T0 + 2).entry);
	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_TXT, false, T0 + 2).entry);
	cr_assert_eq(lookup(c, "a.www.shop.lab", DNS_T_A, false, T0 + 2).state, CACHE_HIT);

	/* the zone: at and below www.shop.lab, not xwww.shop.lab; what is
	 * resolved after the flush began stays */
	insert_a(c, "www.shop.lab", 300, T0 + 2, false);
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_ZONE, nm("www.shop.lab"), T0 + 3), 0);
	insert_a(c, "b.www.shop.lab", 300, T0 + 4, false);
	while (cache_trim(c, T0 + 4, UINT64_MAX, &removed))
		;
	cr_assert_not(cache_flush_busy(c, &removed));
	cr_assert_eq(removed, 2);
	cr_assert_eq(lookup(c, "b.www.shop.lab", DNS_T_A, false, T0 + 4).state, CACHE_HIT);
	cr_assert_null(lookup(c, "www.shop.lab", DNS_T_A, false, T0 + 3).entry);
	cr_assert_null(lookup(c, "a.www.shop.lab", DNS_T_A, false, T0 + 3).entry);
	cr_assert_eq(lookup(c, "xwww.shop.lab", DNS_T_A, false, T0 + 3).state, CACHE_HIT);
	cr_assert_eq(lookup(c, "shop.lab", DNS_T_A, false, T0 + 3).state, CACHE_HIT);

	/* negative answers only */
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_NEGATIVE, NULL, T0 + 5), 0);
	while (cache_trim(c, T0 + 4, UINT64_MAX, &removed))
		;
	cr_assert_not(cache_flush_busy(c, &removed));
	cr_assert_eq(removed, 1);
	cr_assert_null(lookup(c, "nope.other.lab", DNS_T_A, false, T0 + 4).entry);
	cr_assert_eq(lookup(c, "other.lab", DNS_T_A, false, T0 + 4).state, CACHE_HIT);
	cr_assert_eq(lookup(c, "xwww.shop.lab", DNS_T_A, false, T0 + 4).state, CACHE_HIT);

	/* an RFC 8020 marker above the name denies it: gone with it, at once */
	len = response(buf, sizeof(buf), "dev.shop.lab", DNS_T_A, DNS_R_NXDOMAIN, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 5, CACHE_RANK_SECURE, true), 0);
	cr_assert_not_null(cache_nxdomain_cut(c, nm("app.dev.shop.lab"), DNS_C_IN, T0 + 6));
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_NAME, nm("app.dev.shop.lab"), T0 + 6), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("app.dev.shop.lab"), DNS_C_IN, T0 + 6));
	while (cache_trim(c, T0 + 6, UINT64_MAX, &removed))
		;

	/* a CNAME chain's target: its records in the chain's entry go too */
	struct rec chain[2] = {
		{ DNS_SEC_ANSWER, "alias.other.lab", DNS_T_CNAME, 300, nm("cdn.other.lab"), 15 },
		{ DNS_SEC_ANSWER, "cdn.other.lab", DNS_T_A, 300, addr, 4 },
	};
	len = response(buf, sizeof(buf), "alias.other.lab", DNS_T_A, 0, chain, 2, false);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 6, CACHE_RANK_AUTH_ANSWER, false), 0);
	insert_a(c, "other2.lab", 300, T0 + 6, false);
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_NAME, nm("CDN.other.lab"), T0 + 7), 0);
	while (cache_trim(c, T0 + 7, UINT64_MAX, &removed))
		;
	cr_assert_not(cache_flush_busy(c, &removed));
	cr_assert_eq(removed, 1, "the chain's entry");
	cr_assert_null(lookup(c, "alias.other.lab", DNS_T_A, false, T0 + 7).entry);
	cr_assert_eq(lookup(c, "other2.lab", DNS_T_A, false, T0 + 7).state, CACHE_HIT);
	cr_assert_eq(lookup(c, "other.lab", DNS_T_A, false, T0 + 7).state, CACHE_HIT);

	/* a chain that ends in the flushed name's NXDOMAIN: its denial is in
	 * the chain's entry, the name only a CNAME's target */
	struct rec cn = { DNS_SEC_ANSWER, "old.other.lab", DNS_T_CNAME, 300, nm("new.zone.lab"),
			  14 };
	struct rec ns[2] = { cn, r };
	len = response(buf, sizeof(buf), "old.other.lab", DNS_T_A, DNS_R_NXDOMAIN, ns, 2, false);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 7, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_not_null(lookup(c, "old.other.lab", DNS_T_A, false, T0 + 7).entry);
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_ZONE, nm("zone.lab"), T0 + 8), 0);
	while (cache_trim(c, T0 + 8, UINT64_MAX, &removed))
		;
	cr_assert_not(cache_flush_busy(c, &removed));
	cr_assert_eq(removed, 1);
	cr_assert_null(lookup(c, "old.other.lab", DNS_T_A, false, T0 + 8).entry);

	cr_assert_eq(cache_flush_names(c, 9, nm("lab"), T0), DNS_E_INVAL);
	cr_assert_eq(cache_flush_names(c, CACHE_FLUSH_NAME, NULL, T0), DNS_E_INVAL);
	cr_assert_eq(cache_check(c), 0);
	cache_free(c);
}

static void neg60(struct cache_config *cfg) { cfg->max_negative_ttl = 60; }

Test(msgcache, negative_ttl_is_min_of_soa_ttl_minimum_and_cap)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], rd[64], out[1232];
	struct dns_msg m;
	size_t n = soa(rd, 300);
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 3600, rd, n };
	size_t len = response(buf, sizeof(buf), "nope.shop.lab", DNS_T_A,
			      DNS_R_NXDOMAIN, &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	answer(c, "nope.shop.lab", DNS_T_A, 0, T0, out, sizeof(out), &m, NULL);
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(first_ttl(&m, DNS_SEC_AUTHORITY), 300, "MINIMUM 300 < SOA TTL");
	cr_assert_eq(cache_entry_expire(lookup(c, "nope.shop.lab", DNS_T_A, false, T0).entry),
		     T0 + 300);
	cache_free(c);

	c = new_cache(neg60);
	/* NODATA: NOERROR, no answer, SOA TTL 30 below MINIMUM 300. */
	r.ttl = 30;
	len = response(buf, sizeof(buf), "www.shop.lab", DNS_T_TXT, 0, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	answer(c, "www.shop.lab", DNS_T_TXT, 0, T0, out, sizeof(out), &m, NULL);
	cr_assert_eq(m.rcode, DNS_R_NOERROR);
	cr_assert_eq(first_ttl(&m, DNS_SEC_AUTHORITY), 30);
	r.ttl = 3600;
	len = response(buf, sizeof(buf), "www.shop.lab", DNS_T_MX, 0, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	answer(c, "www.shop.lab", DNS_T_MX, 0, T0, out, sizeof(out), &m, NULL);
	cr_assert_eq(first_ttl(&m, DNS_SEC_AUTHORITY), 60, "max-negative-ttl caps");
	cache_free(c);
}

Test(msgcache, what_is_not_cached)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512];
	struct rec ns = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_NS, 3600,
			  nm("ns1.shop.lab"), 14 };
	struct rec zero = { DNS_SEC_ANSWER, "z.shop.lab", DNS_T_A, 0, addr, 4 };
	size_t len;

	len = response(buf, sizeof(buf), "www.shop.lab", DNS_T_A, 0, &ns, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "a referral");
	len = response(buf, sizeof(buf), "x.shop.lab", DNS_T_A, DNS_R_NXDOMAIN, NULL, 0, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "NXDOMAIN without SOA");
	len = response(buf, sizeof(buf), "z.shop.lab", DNS_T_A, 0, &zero, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "TTL 0");
	len = response(buf, sizeof(buf), "s.shop.lab", DNS_T_A, DNS_R_SERVFAIL, NULL, 0, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "SERVFAIL");
	cr_assert_eq(cache_insert(c, buf, 5, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_MSG);
	struct cache_stats st;
	cache_get_stats(c, &st);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.uncacheable, 4);
	cache_free(c);
}

static void caps(struct cache_config *cfg)
{
	cfg->min_ttl = 50;
	cfg->max_ttl = 100;
}

Test(msgcache, ttl_caps_apply_to_every_record)
{
	struct cache *c = new_cache(caps);
	uint8_t buf[512], out[1232];
	struct dns_msg m;
	struct rec r[2] = { { DNS_SEC_ANSWER, "c.shop.lab", DNS_T_A, 10, addr, 4 },
			    { DNS_SEC_ANSWER, "c.shop.lab", DNS_T_A, 100000, addr, 4 } };
	size_t len = response(buf, sizeof(buf), "c.shop.lab", DNS_T_A, 0, r, 2, false);
	struct dns_rr_iter it;
	struct dns_rr rr;

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	answer(c, "c.shop.lab", DNS_T_A, 0, T0, out, sizeof(out), &m, NULL);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.ttl, 50, "raised to min-ttl");
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.ttl, 100, "lowered to max-ttl");
	cr_assert_eq(cache_entry_expire(lookup(c, "c.shop.lab", DNS_T_A, false, T0).entry),
		     T0 + 50);
	cache_free(c);
}

/* An NXDOMAIN for qname (its SOA at shop.lab, compressed against the
 * question by the builder), with an NSEC and an RRSIG for DO. */
static size_t nxdomain(uint8_t *buf, size_t cap, const char *qname, bool dnssec)
{
	static uint8_t rd[64], nsec[64], sig[128];
	size_t n = soa(rd, 600), nl = 0, sl = 0;
	struct rec r[3];

	memcpy(nsec, nm("zz.shop.lab"), 13);
	nl = 13;
	memcpy(nsec + nl, "\x00\x01\x40", 3); /* window 0: A */
	nl += 3;
	memset(sig, 0, 18);
	dns_put16(sig, DNS_T_NSEC);
	sig[2] = 13;
	sig[3] = 3;
	memcpy(sig + 18, nm("shop.lab"), 10);
	memset(sig + 28, 0xab, 64);
	sl = 92;
	r[0] = (struct rec){ DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, n };
	r[1] = (struct rec){ DNS_SEC_AUTHORITY, "a.shop.lab", DNS_T_NSEC, 600, nsec, nl };
	r[2] = (struct rec){ DNS_SEC_AUTHORITY, "a.shop.lab", DNS_T_RRSIG, 600, sig, sl };
	return response(buf, cap, qname, DNS_T_AAAA, DNS_R_NXDOMAIN, r, dnssec ? 3 : 1, false);
}

/* The cut's answer to (qname, A) from a client with edns (0 none, 1, 2 DO),
 * checked to parse and to echo the question; parsed into m. */
static void cut_answer(struct cache *c, const struct cache_entry *e, const char *qname,
		       int edns, uint8_t *out, size_t cap, struct dns_msg *m)
{
	uint8_t qwire[512];
	struct dns_query q;

	query(&q, qwire, qname, DNS_T_A, edns, 1232);
	int len = cache_answer(c, e, CACHE_HIT, &q, T0 + 5, out, cap);
	cr_assert_gt(len, 0);
	cr_assert_eq(dns_msg_parse(m, out, (size_t)len), 0, "answer for %s parses", qname);
	cr_assert_eq(m->qname_len, q.qname_len);
	cr_assert_arr_eq(out + DNS_HDR_LEN, qwire + DNS_HDR_LEN, q.qname_len + 4u);
	cr_assert_eq(m->rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(m->hdr.count[DNS_SEC_ANSWER], 0);
}

Test(msgcache, nxdomain_cut_answers_names_below)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], rd[64];
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 600) };
	size_t len = response(buf, sizeof(buf), "Gone.shop.lab", DNS_T_AAAA,
			      DNS_R_NXDOMAIN, &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	const struct cache_entry *e = cache_nxdomain_cut(c, nm("a.b.GONE.shop.lab"),
							 DNS_C_IN, T0 + 5);
	cr_assert_not_null(e);
	cr_assert(dns_name_equal(cache_entry_qname(e), nm("gone.shop.lab")));
	cr_assert_not_null(cache_nxdomain_cut(c, nm("gone.shop.lab"), DNS_C_IN, T0));
	cr_assert_null(cache_nxdomain_cut(c, nm("other.shop.lab"), DNS_C_IN, T0));
	cr_assert_null(cache_nxdomain_cut(c, nm("x.gone.shop.lab"), DNS_C_IN, T0 + 600),
		       "expired");
	/* The zone changed: a name below the cut exists after all. */
	insert_a(c, "new.gone.shop.lab", 300, T0 + 10, false);
	cr_assert_null(cache_nxdomain_cut(c, nm("x.gone.shop.lab"), DNS_C_IN, T0 + 10));
	cache_free(c);
}

Test(msgcache, nxdomain_cut_only_from_secure_answers)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512];
	size_t len = nxdomain(buf, sizeof(buf), "gone.shop.lab", false);

	/* One forged NXDOMAIN (for a TLD, say) must not deny what is below. */
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_not_null(lookup(c, "gone.shop.lab", DNS_T_AAAA, false, T0).entry,
			   "the answer itself is cached");
	cr_assert_null(cache_nxdomain_cut(c, nm("www.gone.shop.lab"), DNS_C_IN, T0));
	cr_assert_null(cache_nxdomain_cut(c, nm("gone.shop.lab"), DNS_C_IN, T0));
	len = nxdomain(buf, sizeof(buf), "gone2.shop.lab", false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_NONAUTH_ANSWER, false), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("www.gone2.shop.lab"), DNS_C_IN, T0));
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, false), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("www.gone2.shop.lab"), DNS_C_IN, T0),
		       "validated, but without its DNSSEC records: a DO client's marker "
		       "would lack the proof");
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	cr_assert_not_null(cache_nxdomain_cut(c, nm("www.gone2.shop.lab"), DNS_C_IN, T0),
			   "the same answer validated makes the marker");
	cache_free(c);
}

Test(msgcache, nxdomain_cut_answers_are_well_formed_below_the_name)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], out[1232];
	struct dns_msg m;
	static const char *const below[] = { "gone.shop.lab", "A.gone.shop.lab",
					     "a.b.gone.shop.lab", "a.b.c.gone.shop.lab",
					     "a-much-longer-label-than-the-rest.gone.shop.lab" };

	/* one marker, made from the DO answer, answers every client */
	cr_assert_eq(cache_insert(c, buf, nxdomain(buf, sizeof(buf), "gone.shop.lab", true),
				  T0, CACHE_RANK_SECURE, true), 0);
	for (size_t i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		for (int edns = 0; edns <= 2; edns++) {
			const struct cache_entry *e = cache_nxdomain_cut(c, nm(below[i]), DNS_C_IN,
									 T0 + 5);
			cr_assert_not_null(e, "%s", below[i]);
			cut_answer(c, e, below[i], edns, out, sizeof(out), &m);
			struct dns_rr_iter it;
			struct dns_rr rr;
			dns_rr_iter_init(&it, &m, DNS_SEC_AUTHORITY);
			cr_assert_eq(dns_rr_next(&it, &rr), 1);
			cr_assert_eq(rr.type, DNS_T_SOA);
			cr_assert(dns_name_equal(rr.owner, nm("shop.lab")));
			cr_assert_leq(rr.ttl, 595);
			uint8_t rdata[256];
			int rl = dns_rr_rdata(&m, &rr, rdata, sizeof(rdata));
			cr_assert_gt(rl, 0);
			cr_assert(dns_name_equal(rdata, nm("ns1.shop.lab")), "SOA MNAME intact");
			cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], edns == 2 ? 3 : 1,
				     "the proof for DO, the SOA alone without");
			if (edns == 2) {
				cr_assert_eq(dns_rr_next(&it, &rr), 1);
				cr_assert_eq(rr.type, DNS_T_NSEC);
				cr_assert(m.hdr.flags & DNS_F_AD, "from a secure answer");
			}
		}
	}
	cache_free(c);
}

Test(msgcache, nxdomain_cut_is_keyed_on_the_end_of_the_chain)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], rd[64], out[1232];
	struct dns_msg m;
	struct rec r[2] = {
		{ DNS_SEC_ANSWER, "www.a.example", DNS_T_CNAME, 600, nm("x.b.example"), 13 },
		{ DNS_SEC_AUTHORITY, "b.example", DNS_T_SOA, 600, rd, soa(rd, 600) },
	};
	size_t len = response(buf, sizeof(buf), "www.a.example", DNS_T_A, DNS_R_NXDOMAIN,
			      r, 2, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("sub.www.a.example"), DNS_C_IN, T0),
		       "the name with the CNAME exists: nothing below it is denied");
	cr_assert_null(cache_nxdomain_cut(c, nm("www.a.example"), DNS_C_IN, T0));
	const struct cache_entry *e = cache_nxdomain_cut(c, nm("y.x.b.example"), DNS_C_IN,
							 T0);
	cr_assert_not_null(e, "the chain's end is what was denied");
	cr_assert(dns_name_equal(cache_entry_qname(e), nm("x.b.example")));
	cut_answer(c, e, "y.x.b.example", 1, out, sizeof(out), &m);
	cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1, "the SOA, not the CNAME");
	cache_free(c);
}

Test(msgcache, nxdomain_cut_needs_an_soa_that_covers_the_name)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], rd[64];
	/* shop.lab's SOA cannot deny a name in another zone */
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 600) };
	size_t len = response(buf, sizeof(buf), "x.bank.secure", DNS_T_A, DNS_R_NXDOMAIN,
			      &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("y.x.bank.secure"), DNS_C_IN, T0));
	cache_free(c);
}

Test(msgcache, nodata_at_or_below_a_cut_drops_it)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], rd[64];
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 600) };

	cr_assert_eq(cache_insert(c, buf, nxdomain(buf, sizeof(buf), "gone.shop.lab", false),
				  T0, CACHE_RANK_SECURE, true), 0);
	cr_assert_not_null(cache_nxdomain_cut(c, nm("x.gone.shop.lab"), DNS_C_IN, T0));
	size_t len = response(buf, sizeof(buf), "x.gone.shop.lab", DNS_T_TXT, 0, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 1, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("y.gone.shop.lab"), DNS_C_IN, T0 + 1),
		       "a name below exists (NODATA): the cut was wrong");
	cache_free(c);
}

static void min30(struct cache_config *cfg) { cfg->min_ttl = 30; }

Test(msgcache, ttl_zero_is_cached_for_min_ttl_when_one_is_set)
{
	struct cache *c = new_cache(min30);
	uint8_t buf[512], out[1232];
	struct dns_msg m;
	struct rec zero = { DNS_SEC_ANSWER, "z.shop.lab", DNS_T_A, 0, addr, 4 };
	size_t len = response(buf, sizeof(buf), "z.shop.lab", DNS_T_A, 0, &zero, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	answer(c, "z.shop.lab", DNS_T_A, 0, T0 + 10, out, sizeof(out), &m, NULL);
	cr_assert_eq(first_ttl(&m, DNS_SEC_ANSWER), 20);
	cr_assert_eq(cache_entry_expire(lookup(c, "z.shop.lab", DNS_T_A, false, T0).entry),
		     T0 + 30);
	cache_free(c);
}

Test(msgcache, key_from_query_notes_do_and_ignores_case)
{
	struct cache *c = new_cache(NULL);
	uint8_t w1[512], w2[512];
	struct dns_query q1, q2;
	struct cache_key a, b, ref;

	query(&q1, w1, "MiXeD.Shop.LAB", DNS_T_AAAA, 2, 1232);
	query(&q2, w2, "mixed.shop.lab", DNS_T_AAAA, 1, 1232);
	cache_key_from_query(&a, c, &q1);
	cache_key_from_query(&b, c, &q2);
	cache_key_init(&ref, c, nm("mixed.shop.lab"), DNS_T_AAAA, DNS_C_IN, true);
	cr_assert_eq(a.hash, ref.hash, "DO from the query's OPT, name lower-cased");
	cr_assert_arr_eq(a.name, ref.name, ref.name_len);
	cr_assert_eq(a.dnssec, 1);
	cr_assert_eq(b.dnssec, 0);
	cr_assert_eq(a.hash, b.hash, "DO is no part of the key: one entry for both");
	cache_free(c);
}

/* RRSIG RDATA covering type covered at owner, signer shop.lab. */
static size_t rrsig(uint8_t *out, uint16_t covered, uint8_t labels)
{
	memset(out, 0, 18);
	dns_put16(out, covered);
	out[2] = 13;
	out[3] = labels;
	dns_put32(out + 4, 300);
	memcpy(out + 18, nm("shop.lab"), 10);
	memset(out + 28, 0xcd, 64);
	return 92;
}

/* The records of m's section sec as a string of type numbers. */
static void types_of(const struct dns_msg *m, enum dns_section sec, char *out, size_t cap)
{
	struct dns_rr_iter it;
	struct dns_rr rr;
	size_t n = 0;

	out[0] = 0;
	dns_rr_iter_init(&it, m, sec);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == sec && rr.type != DNS_T_OPT)
		n += (size_t)snprintf(out + n, cap - n, "%s%u", n ? " " : "", rr.type);
}

Test(msgcache, one_entry_answers_do_clients_with_signatures_and_others_without)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], out[1232], s1[128], s2[128], rd[128];
	char t[128];
	struct dns_msg m;
	/* a signed A set with an NS set and its glue, as control assembles
	 * it: the glue's owner name is compressed against the NS RDATA, which
	 * follows an RRSIG the plain view drops */
	struct rec r[6] = {
		{ DNS_SEC_ANSWER, "s.shop.lab", DNS_T_A, 300, addr, 4 },
		{ DNS_SEC_ANSWER, "s.shop.lab", DNS_T_RRSIG, 300, s1, rrsig(s1, DNS_T_A, 3) },
		{ DNS_SEC_AUTHORITY, "shop.lab", DNS_T_NS, 600, nm("ns1.shop.lab"), 14 },
		{ DNS_SEC_AUTHORITY, "shop.lab", DNS_T_RRSIG, 600, s2, rrsig(s2, DNS_T_NS, 2) },
		{ DNS_SEC_ADDITIONAL, "ns1.shop.lab", DNS_T_A, 600, addr, 4 },
		{ DNS_SEC_ADDITIONAL, "ns1.shop.lab", DNS_T_RRSIG, 600, rd, rrsig(rd, DNS_T_A, 3) },
	};
	size_t len = response(buf, sizeof(buf), "s.shop.lab", DNS_T_A, 0, r, 6, true);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	answer(c, "S.shop.LAB", DNS_T_A, 2, T0 + 10, out, sizeof(out), &m, NULL);
	types_of(&m, DNS_SEC_ANSWER, t, sizeof(t));
	cr_assert_str_eq(t, "1 46");
	types_of(&m, DNS_SEC_AUTHORITY, t, sizeof(t));
	cr_assert_str_eq(t, "2 46");
	types_of(&m, DNS_SEC_ADDITIONAL, t, sizeof(t));
	cr_assert_str_eq(t, "1 46");
	for (int edns = 0; edns <= 1; edns++) {
		answer(c, "s.SHOP.lab", DNS_T_A, edns, T0 + 10, out, sizeof(out), &m, NULL);
		types_of(&m, DNS_SEC_ANSWER, t, sizeof(t));
		cr_assert_str_eq(t, "1", "no RRSIG without DO (edns %d)", edns);
		types_of(&m, DNS_SEC_AUTHORITY, t, sizeof(t));
		cr_assert_str_eq(t, "2");
		types_of(&m, DNS_SEC_ADDITIONAL, t, sizeof(t));
		cr_assert_str_eq(t, "1");
		cr_assert_eq(m.hdr.count[DNS_SEC_ADDITIONAL], edns ? 2 : 1, "glue (and our OPT)");
		cr_assert_eq(first_ttl(&m, DNS_SEC_ANSWER), 290, "counted down");
		cr_assert_not(m.hdr.flags & DNS_F_AD);
		/* the glue's name reads as it was, in the view written again */
		struct dns_rr_iter it;
		struct dns_rr rr;
		dns_rr_iter_init(&it, &m, DNS_SEC_ADDITIONAL);
		cr_assert_eq(dns_rr_next(&it, &rr), 1);
		cr_assert(dns_name_equal(rr.owner, nm("ns1.shop.lab")));
		cr_assert_eq(rr.ttl, 590);
	}
	struct cache_stats st;
	cache_get_stats(c, &st);
	cr_assert_eq(st.entries, 1, "one entry for both kinds of client");
	cache_free(c);
}

Test(msgcache, a_client_without_do_gets_the_proof_records_it_asks_for_by_type)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], out[1232], sig[128], nsec[32];
	char t[128];
	struct dns_msg m;
	size_t nl = 13;

	memcpy(nsec, nm("zz.shop.lab"), 13);
	memcpy(nsec + nl, "\x00\x01\x40", 3);
	nl += 3;
	struct rec r[2] = {
		{ DNS_SEC_ANSWER, "a.shop.lab", DNS_T_NSEC, 300, nsec, nl },
		{ DNS_SEC_ANSWER, "a.shop.lab", DNS_T_RRSIG, 300, sig, rrsig(sig, DNS_T_NSEC, 3) },
	};
	size_t len = response(buf, sizeof(buf), "a.shop.lab", DNS_T_NSEC, 0, r, 2, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	answer(c, "a.shop.lab", DNS_T_NSEC, 1, T0, out, sizeof(out), &m, NULL);
	types_of(&m, DNS_SEC_ANSWER, t, sizeof(t));
	cr_assert_str_eq(t, "47", "the NSEC asked for; not its signature");
	len = response(buf, sizeof(buf), "a.shop.lab", DNS_T_RRSIG, 0, &r[1], 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, true), 0);
	answer(c, "a.shop.lab", DNS_T_RRSIG, 0, T0, out, sizeof(out), &m, NULL);
	types_of(&m, DNS_SEC_ANSWER, t, sizeof(t));
	cr_assert_str_eq(t, "46", "an RRSIG question gets its RRSIGs");
	cache_free(c);
}

Test(msgcache, a_negative_answer_without_do_keeps_the_soa_alone)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], out[1232];
	char t[128];
	struct dns_msg m;

	cr_assert_eq(cache_insert(c, buf, nxdomain(buf, sizeof(buf), "gone.shop.lab", true),
				  T0, CACHE_RANK_SECURE, true), 0);
	answer(c, "gone.shop.lab", DNS_T_AAAA, 2, T0, out, sizeof(out), &m, NULL);
	types_of(&m, DNS_SEC_AUTHORITY, t, sizeof(t));
	cr_assert_str_eq(t, "6 47 46");
	answer(c, "gone.shop.lab", DNS_T_AAAA, 1, T0, out, sizeof(out), &m, NULL);
	types_of(&m, DNS_SEC_AUTHORITY, t, sizeof(t));
	cr_assert_str_eq(t, "6");
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cache_free(c);
}

Test(msgcache, an_entry_without_its_dnssec_records_answers_only_clients_without_do)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512];
	struct rec r = { DNS_SEC_ANSWER, "d.shop.lab", DNS_T_A, 300, addr, 4 };
	size_t len = response(buf, sizeof(buf), "d.shop.lab", DNS_T_A, 0, &r, 1, false);

	/* e.g. a minimised question's reply, assembled without RRSIGs */
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_not_null(lookup(c, "d.shop.lab", DNS_T_A, false, T0).entry);
	cr_assert_null(lookup(c, "d.shop.lab", DNS_T_A, true, T0).entry,
		       "a DO client misses: the resolution brings the records");
	cr_assert_eq(cache_insert(c, buf, len, T0 + 1, CACHE_RANK_AUTH_ANSWER, true), 0,
		     "the full answer replaces it");
	cr_assert_not_null(lookup(c, "d.shop.lab", DNS_T_A, true, T0 + 1).entry);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 2, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_RANK, "and is not replaced by one without them while fresh");
	cr_assert_not_null(lookup(c, "d.shop.lab", DNS_T_A, true, T0 + 2).entry);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 301, CACHE_RANK_AUTH_ANSWER, false), 0,
		     "expired (stale): fresh data replaces it");
	cr_assert_null(lookup(c, "d.shop.lab", DNS_T_A, true, T0 + 302).entry);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 301 + 86400, CACHE_RANK_AUTH_ANSWER, false),
		     0);
	/* a full answer of lower rank still replaces a fresh one without
	 * the records (a minimised question's reply is AA; the chain that
	 * later answers the client may not be) */
	cr_assert_eq(cache_insert(c, buf, len, T0 + 86800, CACHE_RANK_NONAUTH_ANSWER, true), 0);
	cr_assert_not_null(lookup(c, "d.shop.lab", DNS_T_A, true, T0 + 86800).entry);
	cache_free(c);
}

Test(msgcache, an_extended_dns_error_in_the_cached_opt_goes_to_every_edns_client)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], out[1232], rd[64], opts[6];
	struct dns_msg m;
	struct dns_builder b;
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 600) };

	/* control's insecure NXDOMAIN: NSEC3 iterations above the limit */
	dns_builder_init(&b, buf, sizeof(buf), 0, DNS_F_QR | DNS_R_NXDOMAIN);
	dns_builder_question(&b, nm("i.shop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_rr(&b, r.sec, nm(r.owner), r.type, DNS_C_IN, r.ttl, r.rdata, r.rdlen);
	dns_put16(opts, DNS_EO_EDE);
	dns_put16(opts + 2, 2);
	dns_put16(opts + 4, 27);
	dns_builder_opt(&b, 65535, 0, 0, 0, opts, sizeof(opts));
	cr_assert_eq(cache_insert(c, buf, dns_builder_finish(&b), T0, CACHE_RANK_AUTH_ANSWER, true),
		     0);
	for (int edns = 0; edns <= 2; edns++) {
		answer(c, "i.shop.lab", DNS_T_A, edns, T0, out, sizeof(out), &m, NULL);
		cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
		cr_assert_eq(m.has_edns, edns > 0);
		if (edns)
			cr_assert_eq(dns_opt_find_ede(out + m.edns.opts_off, m.edns.opts_len), 27,
				     "EDE 27 (edns %d)", edns);
	}
	/* every buffer from the question and the OPT alone up: the records
	 * whenever they fit without the EDE (it never costs them), the EDE
	 * whenever there is room for it too, never a broken OPT */
	uint8_t qw[512];
	struct dns_query q;
	query(&q, qw, "i.shop.lab", DNS_T_A, 1, 512);
	const struct cache_entry *e = lookup(c, "i.shop.lab", DNS_T_A, false, T0).entry;
	cr_assert_not_null(e);
	size_t least = DNS_HDR_LEN + q.qname_len + 4 + DNS_OPT_LEN, whole = 0;
	int n = cache_answer(c, e, CACHE_HIT, &q, T0, out, sizeof(out));
	cr_assert_gt(n, 0);
	whole = (size_t)n - DNS_EDE_LEN; /* the records and the OPT, no EDE */
	bool seen_tc = false, seen_bare = false, seen_all = false;
	for (size_t cap = least; cap <= whole + DNS_EDE_LEN + 2; cap++) {
		n = cache_answer(c, e, CACHE_HIT, &q, T0, out, cap);
		cr_assert_gt(n, 0);
		cr_assert_leq((size_t)n, cap);
		cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0, "cap %zu", cap);
		bool tc = m.hdr.flags & DNS_F_TC;
		uint16_t code = dns_opt_find_ede(out + m.edns.opts_off, m.edns.opts_len);
		cr_assert_eq(tc, cap < whole, "cap %zu: TC only when the records do not fit", cap);
		if (code != 27)
			cr_assert_gt((size_t)n + DNS_EDE_LEN, cap,
				     "cap %zu: the EDE left out only for want of room", cap);
		if (!tc)
			cr_assert_eq(code == 27, cap >= whole + DNS_EDE_LEN,
				     "cap %zu: the EDE when there is room for it", cap);
		seen_tc |= tc;
		seen_bare |= !tc && code != 27;
		seen_all |= !tc && code == 27;
	}
	cr_assert(seen_tc && seen_bare && seen_all, "every case met");
	cache_free(c);
}

Test(msgcache, tc_when_the_answer_exceeds_the_client_buffer)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[4096], out[4096], txt[256], qwire[512];
	struct rec r[4];
	struct dns_query q;
	struct dns_msg m;

	memset(txt, 'x', sizeof(txt));
	txt[0] = 255;
	for (int i = 0; i < 4; i++)
		r[i] = (struct rec){ DNS_SEC_ANSWER, "big.shop.lab", DNS_T_TXT, 300, txt, 256 };
	size_t len = response(buf, sizeof(buf), "big.shop.lab", DNS_T_TXT, 0, r, 4, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	struct cache_result res = lookup(c, "big.shop.lab", DNS_T_TXT, false, T0);

	query(&q, qwire, "big.shop.lab", DNS_T_TXT, 0, 0);
	int n = cache_answer(c, res.entry, res.state, &q, T0, out, sizeof(out));
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0);
	cr_assert(m.hdr.flags & DNS_F_TC, "512 octets without EDNS");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0);
	cr_assert_leq(n, 512);

	query(&q, qwire, "big.shop.lab", DNS_T_TXT, 1, 4096);
	n = cache_answer(c, res.entry, res.state, &q, T0, out, sizeof(out));
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0);
	cr_assert_not(m.hdr.flags & DNS_F_TC);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 4);
	cr_assert(m.has_edns, "our OPT comes back");
	cr_assert_eq(m.edns.udp_size, 1232);

	n = cache_answer(c, res.entry, res.state, &q, T0, out, 600);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0);
	cr_assert(m.hdr.flags & DNS_F_TC, "the caller's buffer is a limit too");

	/* Over TCP only the buffer limits: no EDNS, still all four. */
	query(&q, qwire, "big.shop.lab", DNS_T_TXT, 0, 0);
	n = cache_answer_stream(c, res.entry, res.state, &q, T0, out, sizeof(out));
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0);
	cr_assert_not(m.hdr.flags & DNS_F_TC);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 4);
	cr_assert_not(m.has_edns, "no OPT for a client that sent none");
	n = cache_answer_stream(c, res.entry, res.state, &q, T0, out, 600);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)n), 0);
	cr_assert(m.hdr.flags & DNS_F_TC);
	cache_free(c);
}

Test(msgcache, fresh_higher_rank_is_not_replaced)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512];
	struct rec r = { DNS_SEC_ANSWER, "r.shop.lab", DNS_T_A, 100, addr, 4 };
	size_t len = response(buf, sizeof(buf), "r.shop.lab", DNS_T_A, 0, &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, false), 0);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 1, CACHE_RANK_GLUE, false), CACHE_E_RANK);
	cr_assert_eq(cache_entry_rank(lookup(c, "r.shop.lab", DNS_T_A, false, T0 + 1).entry),
		     CACHE_RANK_SECURE);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 100, CACHE_RANK_GLUE, false), 0,
		     "expired: anything replaces it");
	cr_assert_eq(cache_insert(c, buf, len, T0 + 101, CACHE_RANK_GLUE, false), 0,
		     "same rank replaces");
	struct cache_stats st;
	cache_get_stats(c, &st);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.replacements, 2);
	cache_free(c);
}

Test(msgcache, opt_is_cut_and_ad_goes_only_to_dnssec_clients)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], out[1232];
	struct dns_msg m;
	struct rec r = { DNS_SEC_ANSWER, "s.bank.secure", DNS_T_A, 100, addr, 4 };
	size_t len = response(buf, sizeof(buf), "s.bank.secure", DNS_T_A, 0, &r, 1, true);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_SECURE, true), 0);
	answer(c, "s.bank.secure", DNS_T_A, 2, T0, out, sizeof(out), &m, NULL);
	cr_assert_eq(m.hdr.count[DNS_SEC_ADDITIONAL], 1, "one OPT: ours");
	cr_assert(m.edns.flags & DNS_EDNS_F_DO, "DO echoed");
	answer(c, "s.bank.secure", DNS_T_A, 1, T0, out, sizeof(out), &m, NULL);
	cr_assert_not(m.hdr.flags & DNS_F_AD, "no DO, no AD bit: no AD");

	/* An OPT anywhere but last is refused. */
	struct dns_builder b;
	dns_builder_init(&b, buf, sizeof(buf), 0, DNS_F_QR);
	dns_builder_question(&b, nm("o.shop.lab"), DNS_T_A, DNS_C_IN);
	dns_builder_opt(&b, 1232, 0, 0, 0, NULL, 0);
	dns_builder_rr(&b, DNS_SEC_ADDITIONAL, nm("o.shop.lab"), DNS_T_A, DNS_C_IN,
		       60, addr, 4);
	len = dns_builder_finish(&b);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_MSG);
	cache_free(c);
}

static void small(struct cache_config *cfg) { cfg->max_bytes = 1u << 20; }

Test(msgcache, budget_holds_and_hot_entries_survive)
{
	struct cache *c = new_cache(small);
	struct cache_stats st;
	char name[64];
	int hot_left = 0;

	for (int i = 0; i < 40000; i++) {
		snprintf(name, sizeof(name), "cold%d.shop.lab", i);
		insert_a(c, name, 3600, T0, false);
		if (i % 50 == 0)
			for (int h = 0; h < 50; h++) {
				snprintf(name, sizeof(name), "hot%d.shop.lab", h);
				if (!lookup(c, name, DNS_T_A, false, T0).entry)
					insert_a(c, name, 3600, T0, false);
			}
		cache_get_stats(c, &st);
		cr_assert_leq(st.bytes, 1u << 20, "over budget after insert %d", i);
	}
	for (int h = 0; h < 50; h++) {
		snprintf(name, sizeof(name), "hot%d.shop.lab", h);
		hot_left += lookup(c, name, DNS_T_A, false, T0).entry != NULL;
	}
	int cold_left = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "cold%d.shop.lab", i);
		cold_left += lookup(c, name, DNS_T_A, false, T0).entry != NULL;
	}
	cache_get_stats(c, &st);
	cr_assert_gt(st.evictions, 30000);
	cr_assert_geq(hot_left, 45, "hot entries kept: %d of 50", hot_left);
	cr_assert_lt(cold_left, 100, "early cold entries left: %d of 1000", cold_left);
	cr_assert_eq(cache_check(c), 0);
	cache_free(c);
}

Test(msgcache, index_grows_and_keeps_every_entry)
{
	struct cache *c = new_cache(NULL);
	struct cache_stats st;
	char name[64];

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "g%d.shop.lab", i);
		insert_a(c, name, 3600, T0, false);
	}
	cache_get_stats(c, &st);
	cr_assert_geq(st.resizes, 3);
	int found = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "g%d.shop.lab", i);
		found += lookup(c, name, DNS_T_A, false, T0).entry != NULL;
	}
	cr_assert_geq(found + (int)st.evictions, 5000);
	cr_assert_geq(found, 4990, "found %d", found);
	cr_assert_eq(cache_check(c), 0);
	cache_free(c);
}

/* A budget that stops the index growing, so buckets fill and overflow into
 * second buckets; lookups in bursts of 32 with names in mixed case. */
static void no_growth(struct cache_config *cfg) { cfg->max_bytes = 160u << 10; }

static unsigned burst_found(struct cache *c, int from, int to, uint32_t now)
{
	struct cache_key keys[CACHE_BURST_MAX];
	const struct cache_key *kp[CACHE_BURST_MAX];
	struct cache_result res[CACHE_BURST_MAX];
	struct cache_reader_stats st = { 0 };
	unsigned found = 0;
	char name[64];

	for (int base = from; base < to; base += CACHE_BURST_MAX) {
		unsigned n = 0;
		for (int i = base; i < to && n < CACHE_BURST_MAX; i++, n++) {
			snprintf(name, sizeof(name), i % 2 ? "O%d.Shop.LAB" : "o%d.shop.lab", i);
			cache_key_init(&keys[n], c, nm(name), DNS_T_A, DNS_C_IN, false);
			kp[n] = &keys[n];
		}
		cache_lookup_burst(c, kp, n, now, res, &st);
		for (unsigned i = 0; i < n; i++) {
			if (!res[i].entry)
				continue;
			/* a hit is the entry of its own key, never a neighbour's */
			cr_assert(dns_name_equal(cache_entry_qname(res[i].entry),
						 keys[i].name));
			found++;
		}
	}
	cr_assert_eq(st.hits + st.misses, (uint64_t)(to - from));
	return found;
}

Test(msgcache, overflowing_buckets_keep_every_entry_findable)
{
	struct cache *c = new_cache(no_growth);
	struct cache_stats st;
	char name[64];

	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "o%d.shop.lab", i);
		insert_a(c, name, 3600, T0, false);
		if (i % 7 == 3) {
			/* removals lower the overflow counts again */
			struct cache_key k;
			snprintf(name, sizeof(name), "o%d.shop.lab", i - 3);
			cache_key_init(&k, c, nm(name), DNS_T_A, DNS_C_IN, false);
			cache_remove(c, &k);
		}
		if (i % 100 == 0)
			cr_assert_eq(cache_check(c), 0, "after insert %d", i);
	}
	cache_get_stats(c, &st);
	cr_assert_gt(st.evictions, 100, "the index must have filled up");
	cr_assert_eq(cache_check(c), 0);
	/* Every entry the cache holds is found by its key, and nothing else. */
	cr_assert_eq(burst_found(c, 0, 3000, T0), st.entries);
	cr_assert_eq(burst_found(c, 3000, 4000, T0), 0);
	cache_flush(c);
	cr_assert_eq(cache_check(c), 0);
	cr_assert_eq(burst_found(c, 0, 3000, T0), 0);
	cache_free(c);
}

Test(msgcache, error_codes_have_texts_and_dns_codes_pass_through)
{
	cr_assert_str_eq(cache_strerror(CACHE_E_RANK), "a fresher entry of higher rank stays");
	cr_assert_str_eq(cache_strerror(CACHE_E_NSEC_ITER), "NSEC3 iterations above the limit");
	cr_assert_str_eq(cache_strerror(DNS_E_TRUNC), dns_strerror(DNS_E_TRUNC));
	cr_assert_str_eq(cache_strerror(-2999), dns_strerror(-2999));
}

/* An authority may point a name anywhere earlier in its message, into a
 * TTL field even; the entry's answers rewrite TTLs, so the cache keeps the
 * message as its own builder writes it again, pointers only at names. */
Test(msgcache, a_pointer_into_a_ttl_field_reads_the_same_name_later)
{
	struct cache *c = new_cache(NULL);
	struct raw r;
	uint8_t out[1232];
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr rr;

	raw_hdr(&r, 1, 2, 0, 0);
	dns_put16(r.b + 2, DNS_F_QR | DNS_F_AA);
	raw_name(&r, "p.shop.lab");
	raw_u16(&r, DNS_T_A);
	raw_u16(&r, DNS_C_IN);
	size_t ttl_at = r.n + 2 + 4;		/* record 1's TTL */
	raw_u16(&r, 0xc00c);			/* p.shop.lab */
	raw_u16(&r, DNS_T_A);
	raw_u16(&r, DNS_C_IN);
	raw_bytes(&r, "\x01" "a" "\x00\x00", 4);	/* TTL 0x01610000, or the name "a." */
	raw_u16(&r, 4);
	raw_bytes(&r, addr, 4);
	raw_u16(&r, (uint16_t)(0xc000 | ttl_at));	/* owner: "a." read from that TTL */
	raw_u16(&r, DNS_T_A);
	raw_u16(&r, DNS_C_IN);
	raw_u32(&r, 300);
	raw_u16(&r, 4);
	raw_bytes(&r, addr, 4);
	cr_assert_eq(dns_msg_parse(&m, r.b, r.n), 0, "a legal message");
	cr_assert_eq(cache_insert(c, r.b, r.n, T0, CACHE_RANK_AUTH_ANSWER, false), 0);
	/* the TTL of record 1 is rewritten (capped at max-ttl, counted down):
	 * the name "a." must still read "a." */
	answer(c, "p.shop.lab", DNS_T_A, 0, T0 + 10, out, sizeof(out), &m, NULL);
	dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert_eq(rr.ttl, 86390, "capped at max-ttl, counted down: its octets changed");
	cr_assert_eq(dns_rr_next(&it, &rr), 1);
	cr_assert(dns_name_equal(rr.owner, nm("a")), "the second owner reads as it did");
	cr_assert_eq(rr.ttl, 290);
	cache_free(c);
}

Test(msgcache, a_name_shown_without_dnssec_records_to_exist_drops_the_marker)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[1024], rd[64];
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 600) };

	cr_assert_eq(cache_insert(c, buf, nxdomain(buf, sizeof(buf), "gone.shop.lab", true),
				  T0, CACHE_RANK_SECURE, true), 0);
	cr_assert_not_null(cache_nxdomain_cut(c, nm("x.gone.shop.lab"), DNS_C_IN, T0));
	/* a client without DO learns that a name below exists */
	size_t len = response(buf, sizeof(buf), "x.gone.shop.lab", DNS_T_TXT, 0, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0 + 1, CACHE_RANK_AUTH_ANSWER, false), 0);
	cr_assert_null(cache_nxdomain_cut(c, nm("y.gone.shop.lab"), DNS_C_IN, T0 + 1),
		       "the marker went");
	cache_free(c);
}

Test(msgcache, a_negative_answer_whose_soa_says_zero_is_not_cached_even_with_min_ttl)
{
	struct cache *c = new_cache(min30);
	uint8_t buf[512], rd[64];
	struct rec r = { DNS_SEC_AUTHORITY, "shop.lab", DNS_T_SOA, 600, rd, soa(rd, 0) };
	size_t len = response(buf, sizeof(buf), "nope.shop.lab", DNS_T_A, DNS_R_NXDOMAIN,
			      &r, 1, false);

	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "SOA MINIMUM 0");
	r.ttl = 0;
	dns_put32(rd + 27 + 16, 300);
	len = response(buf, sizeof(buf), "nope.shop.lab", DNS_T_A, DNS_R_NXDOMAIN, &r, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, T0, CACHE_RANK_AUTH_ANSWER, false),
		     CACHE_E_UNCACHEABLE, "SOA TTL 0");
	cache_free(c);
}

/* The response policy's tag (struct cache_tag) and what the answer
 * section holds, kept with the entry; a newer tag replaces a fresh entry
 * of higher rank, an older or equal one does not. */
Test(msgcache, policy_tag_and_kinds_are_kept_with_the_entry)
{
	struct cache *c = new_cache(NULL);
	uint8_t buf[512], out[512];
	struct dns_msg m;
	struct rec chain[2] = {
		{ DNS_SEC_ANSWER, "alias.shop.lab", DNS_T_CNAME, 300, nm("www.shop.lab"),
		  (uint16_t)dns_name_len(nm("www.shop.lab")) },
		{ DNS_SEC_ANSWER, "www.shop.lab", DNS_T_A, 300, addr, 4 },
	};
	struct cache_tag t1 = { .gen = 0x100000007ull, .verdict = 3 }, t2 = { .gen = 8, .verdict = 0 };

	/* an address and a CNAME, tagged */
	size_t len = response(buf, sizeof(buf), "alias.shop.lab", DNS_T_A, 0, chain, 2, false);
	cr_assert_eq(cache_insert_tagged(c, buf, len, 1000, CACHE_RANK_SECURE, true, &t1), 0);
	struct cache_result r = lookup(c, "alias.shop.lab", DNS_T_A, false, 1001);
	cr_assert_not_null(r.entry);
	cr_assert_eq(cache_entry_kinds(r.entry), CACHE_KIND_CNAME | CACHE_KIND_ADDR);
	cr_assert_eq(cache_entry_tag_gen(r.entry), 7); /* the low 32 bits */
	cr_assert_eq(cache_entry_tag_verdict(r.entry), 3);

	/* an older tag does not replace it */
	struct cache_tag t0 = { .gen = 6, .verdict = 0 };
	cr_assert_eq(cache_insert_tagged(c, buf, len, 1002, CACHE_RANK_AUTH_ANSWER, true, &t0),
		     CACHE_E_RANK);
	/* data of a lower rank with a newer tag: it replaces the entry */
	cr_assert_eq(cache_insert_tagged(c, buf, len, 1002, CACHE_RANK_AUTH_ANSWER, true, &t2), 0);
	r = lookup(c, "alias.shop.lab", DNS_T_A, false, 1003);
	cr_assert_eq(cache_entry_rank(r.entry), CACHE_RANK_AUTH_ANSWER);
	cr_assert_eq(cache_entry_tag_gen(r.entry), 8);
	cr_assert_eq(cache_entry_tag_verdict(r.entry), 0);
	answer(c, "alias.shop.lab", DNS_T_A, 0, 1003, out, sizeof(out), &m, NULL);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 2);
	cr_assert_eq(cache_check(c), 0);
	/* the same tag again with a lower rank: refused */
	cr_assert_eq(cache_insert_tagged(c, buf, len, 1004, CACHE_RANK_NONAUTH_ANSWER, true, &t2),
		     CACHE_E_RANK);

	/* untagged and without CNAME or address: none of either */
	struct rec txt = { DNS_SEC_ANSWER, "t.shop.lab", DNS_T_TXT, 300, (const uint8_t *)"\3abc", 4 };
	len = response(buf, sizeof(buf), "t.shop.lab", DNS_T_TXT, 0, &txt, 1, false);
	cr_assert_eq(cache_insert(c, buf, len, 1000, CACHE_RANK_AUTH_ANSWER, true), 0);
	r = lookup(c, "t.shop.lab", DNS_T_TXT, false, 1001);
	cr_assert_not_null(r.entry);
	cr_assert_eq(cache_entry_kinds(r.entry), 0);
	cr_assert_eq(cache_entry_tag_gen(r.entry), 0);
	cr_assert_eq(cache_entry_tag_verdict(r.entry), 0);
	cache_free(c);
}

struct walked {
	unsigned n, stale, secure_a;
	uint32_t ttl_a;
};

static void walk_one(void *arg, const struct cache_entry_info *e)
{
	struct walked *w = arg;

	w->n++;
	w->stale += e->stale;
	if (dns_name_equal(e->qname, nm("a.shop.lab"))) {
		w->ttl_a = e->ttl_s;
		cr_assert_eq(e->qtype, DNS_T_A);
		cr_assert_eq(e->qclass, DNS_C_IN);
		cr_assert_eq(e->rank, CACHE_RANK_AUTH_ANSWER);
		cr_assert_eq(e->records, 1);
		cr_assert_gt(e->bytes, 0);
	}
}

Test(msgcache, walk_sees_every_answerable_entry_once_in_slices)
{
	struct cache *c = new_cache(NULL);
	char name[32];
	struct walked w = { 0 };
	uint64_t pos = 0;
	unsigned calls = 0;

	insert_a(c, "a.shop.lab", 100, T0, false);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "n%d.shop.lab", i);
		insert_a(c, name, i < 10 ? 5 : 1000, T0, false);
	}
	/* in slices of 7 slots: every entry once, the walk ends by itself */
	while (cache_walk(c, &pos, 7, T0 + 40, walk_one, &w))
		calls++;
	cr_assert_eq(pos, 0, "back to the start");
	cr_assert_gt(calls, 1);
	cr_assert_eq(w.n, 41);
	cr_assert_eq(w.stale, 10, "expired, within serve-stale's window");
	cr_assert_eq(w.ttl_a, 60);
	/* after a flush of everything: nothing */
	cache_flush_epoch(c);
	memset(&w, 0, sizeof(w));
	cache_walk(c, &pos, UINT64_MAX, T0 + 40, walk_one, &w);
	cr_assert_eq(w.n, 0);
	cache_free(c);
}
