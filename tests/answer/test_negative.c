/*
 * tests/answer/test_negative.c: aggressive negative answers (RFC 8198)
 * built from a real NSEC store holding blobs in the dataplane's format
 * (answer/negative.h): rcode, AD, what a DO client gets and what others
 * get, TTLs as time left, truncation, broken blobs, and answering in the
 * query's own buffer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "cache/err.h"
#include "cache/nsec.h"
#include "answer/negative.h"
#include "answer/reply.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"
#include "tests/dns/testutil.h"

#define EXP 1000u
#define NOW 400u

static void setup(void)
{
	urcu_qsbr_register_thread();
}

static void teardown(void)
{
	urcu_qsbr_unregister_thread();
}

TestSuite(negative, .init = setup, .fini = teardown);

/* One record in uncompressed wire form at out; its length. */
static size_t rr(uint8_t *out, const char *owner, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, uint16_t rdlen)
{
	size_t l = dns_name_len(nm(owner));

	memcpy(out, nm(owner), l);
	dns_put16(out + l, type);
	dns_put16(out + l + 2, DNS_C_IN);
	dns_put32(out + l + 4, ttl);
	dns_put16(out + l + 8, rdlen);
	memcpy(out + l + 10, rdata, rdlen);
	return l + 10 + rdlen;
}

static const uint8_t fake_sig[40] = { 0, 47, 8, 1 }; /* contents unread */

/* An NSEC range owner -> next (types A RRSIG NSEC) with its RRSIG. */
static void range(struct cache_nsec *n, const char *owner, const char *next,
		  uint32_t ttl)
{
	uint8_t rd[300], blob[700];
	size_t l = dns_name_len(nm(next));

	memcpy(rd, nm(next), l);
	rd[l] = 0;		/* window 0 */
	rd[l + 1] = 6;		/* A (1), RRSIG (46), NSEC (47) */
	memset(rd + l + 2, 0, 6);
	rd[l + 2] = 0x40;
	rd[l + 2 + 5] = 0x03;
	size_t rdlen = l + 8, b = rr(blob, owner, DNS_T_NSEC, ttl, rd, (uint16_t)rdlen);
	b += rr(blob + b, owner, DNS_T_RRSIG, ttl, fake_sig, sizeof(fake_sig));
	uint8_t z[DNS_NAME_MAX], o[DNS_NAME_MAX];
	memcpy(z, nm("example."), DNS_NAME_MAX);
	memcpy(o, nm(owner), DNS_NAME_MAX);
	cr_assert_eq(cache_nsec_insert(n, z, o, rd, rdlen, EXP, blob, b, 0), 0, "%s", owner);
}

/* A store as the front ends make one: blobs checked on the way in. */
static struct cache_nsec *new_store(void)
{
	struct cache_nsec_config nc;

	cache_nsec_config_default(&nc);
	nc.record_blobs = true;
	return cache_nsec_new(&nc);
}

static struct cache_nsec *store(uint32_t ttl)
{
	struct cache_nsec *n = new_store();
	uint8_t soa_rd[64], blob[400];
	size_t l = 0;

	cr_assert_not_null(n);
	memcpy(soa_rd, nm("ns.example."), dns_name_len(nm("ns.example.")));
	l = dns_name_len(nm("ns.example."));
	memcpy(soa_rd + l, nm("host.example."), dns_name_len(nm("host.example.")));
	l += dns_name_len(nm("host.example."));
	memset(soa_rd + l, 0, 20);
	soa_rd[l + 19] = 60;	/* MINIMUM */
	l += 20;
	size_t b = rr(blob, "example.", DNS_T_SOA, ttl, soa_rd, (uint16_t)l);
	b += rr(blob + b, "example.", DNS_T_RRSIG, ttl, fake_sig, sizeof(fake_sig));
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), blob, b, EXP, 0), 0);
	range(n, "example.", "a.example.", ttl);
	range(n, "a.example.", "d.example.", ttl);
	range(n, "d.example.", "example.", ttl);
	return n;
}

/* A client query for name A with EDNS (DO as given) or without. */
static void query(struct dns_query *q, uint8_t *buf, const char *name, uint16_t type,
		  int edns, bool do_bit)
{
	struct dns_builder b;

	dns_builder_init(&b, buf, 512, 0x4242, DNS_F_RD);
	dns_builder_question(&b, nm(name), type, DNS_C_IN);
	if (edns)
		dns_builder_opt(&b, 1232, 0, 0, do_bit ? DNS_EDNS_F_DO : 0, NULL, 0);
	cr_assert_eq(dns_query_parse(q, buf, dns_builder_finish(&b)), 0);
}

static unsigned count_type(const struct dns_msg *m, uint16_t type)
{
	struct dns_rr_iter it;
	struct dns_rr r;
	unsigned n = 0;

	dns_rr_iter_init(&it, m, DNS_SEC_AUTHORITY);
	while (dns_rr_next(&it, &r) > 0)
		n += r.section == DNS_SEC_AUTHORITY && r.type == type;
	return n;
}

static uint32_t max_ttl(const struct dns_msg *m)
{
	struct dns_rr_iter it;
	struct dns_rr r;
	uint32_t t = 0;

	dns_rr_iter_init(&it, m, DNS_SEC_AUTHORITY);
	while (dns_rr_next(&it, &r) > 0)
		if (r.section == DNS_SEC_AUTHORITY && r.ttl > t)
			t = r.ttl;
	return t;
}

/* Answers a and b (parsed) say the same: header, question, and each
 * record's owner (without regard to case), type, class, TTL and RDATA
 * (names unpacked and in canonical form), whatever compression either
 * uses. */
static void same_records(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct dns_msg ma, mb;
	struct dns_rr_iter ia, ib;
	struct dns_rr ra, rb;
	uint8_t da[1024], db[1024], ca[1024], cb[1024];
	int ga, gb;

	cr_assert_eq(dns_msg_parse(&ma, a, alen), 0);
	cr_assert_eq(dns_msg_parse(&mb, b, blen), 0);
	cr_assert_eq(memcmp(a, b, DNS_HDR_LEN), 0, "headers");
	cr_assert(dns_name_equal(ma.qname, mb.qname));
	dns_rr_iter_init(&ia, &ma, DNS_SEC_ANSWER);
	dns_rr_iter_init(&ib, &mb, DNS_SEC_ANSWER);
	while ((ga = dns_rr_next(&ia, &ra)) > 0) {
		cr_assert_gt(gb = dns_rr_next(&ib, &rb), 0);
		cr_assert(dns_name_equal(ra.owner, rb.owner));
		cr_assert_eq(ra.type, rb.type);
		cr_assert_eq(ra.rclass, rb.rclass);
		cr_assert_eq(ra.ttl, rb.ttl);
		cr_assert_eq(ra.section, rb.section);
		int la = dns_rr_rdata(&ma, &ra, da, sizeof(da));
		int lb = dns_rr_rdata(&mb, &rb, db, sizeof(db));
		cr_assert_geq(la, 0);
		cr_assert_eq(la, lb);
		if (la == 0) /* (the OPT's) */
			continue;
		la = dns_rdata_canonical(ra.type, da, (size_t)la, ca, sizeof(ca));
		lb = dns_rdata_canonical(rb.type, db, (size_t)lb, cb, sizeof(cb));
		cr_assert_gt(la, 0);
		cr_assert_eq(la, lb);
		cr_assert_eq(memcmp(ca, cb, (size_t)la), 0);
	}
	cr_assert_eq(ga, 0);
	cr_assert_eq(dns_rr_next(&ib, &rb), 0);
}

Test(negative, nxdomain_for_a_dnssec_client_has_soa_ranges_and_signatures)
{
	struct cache_nsec *n = store(3600);
	struct cache_nsec_proof p;
	struct dns_query q;
	struct dns_msg m;
	uint8_t qb[512], out[1232];

	query(&q, qb, "B.example.", DNS_T_A, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	cr_assert_eq(v, CACHE_NSEC_NXDOMAIN);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
	cr_assert_gt(len, 0);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(m.hdr.id, 0x4242);
	cr_assert(m.hdr.flags & DNS_F_QR && m.hdr.flags & DNS_F_RA && m.hdr.flags & DNS_F_AD);
	cr_assert(m.hdr.flags & DNS_F_RD);
	cr_assert_eq(memcmp(out + DNS_HDR_LEN, qb + DNS_HDR_LEN, q.qname_len), 0,
		     "the question as the client spelled it");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0);
	cr_assert_eq(count_type(&m, DNS_T_SOA), 1);
	/* b is covered by a -> d; *.example by example -> a */
	cr_assert_eq(count_type(&m, DNS_T_NSEC), 2);
	cr_assert_eq(count_type(&m, DNS_T_RRSIG), 3);
	cr_assert(m.has_edns && (m.edns.flags & DNS_EDNS_F_DO));
	cr_assert_eq(max_ttl(&m), EXP - NOW, "TTLs are the proof's time left (%u)", max_ttl(&m));
	cache_nsec_free(n);
}

/*
 * With a dataplane, control answers a miss its own store proves: the whole
 * answer (stream, 4 KiB), which the writer fits to the client with
 * answer_from_msg() (its OPT, the client's size: SHM_FILL_VERBATIM). The
 * client must get what a worker that held the ranges would have sent, to
 * the octet: without EDNS, without and with DO, AD and CD asked, the name
 * in mixed case, NODATA, and an answer the room does not fit (TC: the
 * worker's buffer, the writer's link).
 */
Test(negative, controls_answer_through_the_writer_is_the_workers)
{
	static const struct {
		int edns;
		bool do_bit;
		uint16_t flags, size;
		const char *name;
		uint16_t type;
		size_t room;
	} c[] = {
		{ 0, false, DNS_F_RD, 0, "b.example.", DNS_T_A, 1472 },
		{ 1, false, DNS_F_RD, 1232, "B.eXample.", DNS_T_A, 1472 },
		{ 1, true, DNS_F_RD, 1232, "b.EXAMPLE.", DNS_T_AAAA, 1472 },
		{ 1, false, DNS_F_RD | DNS_F_AD, 1232, "b.example.", DNS_T_MX, 1472 },
		{ 1, true, DNS_F_RD | DNS_F_CD, 4096, "b.example.", DNS_T_A, 1472 },
		{ 1, true, DNS_F_RD, 512, "b.example.", DNS_T_A, 1472 },
		{ 1, true, 0, 1232, "a.example.", DNS_T_TXT, 1472 },	/* NODATA */
		{ 1, true, DNS_F_RD, 1232, "b.example.", DNS_T_A, 120 },	/* TC */
	};
	struct cache_nsec *n = store(3600);

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct dns_builder b;
		struct dns_query q;
		uint8_t qb[512], worker[1472], ctl[4096], writer[1472];

		dns_builder_init(&b, qb, sizeof(qb), 0x1234, c[i].flags);
		dns_builder_question(&b, nm(c[i].name), c[i].type, DNS_C_IN);
		if (c[i].edns)
			dns_builder_opt(&b, c[i].size, 0, 0, c[i].do_bit ? DNS_EDNS_F_DO : 0, NULL, 0);
		cr_assert_eq(dns_query_parse(&q, qb, dns_builder_finish(&b)), 0);
		int w = answer_from_nsec(n, &q, NOW, 1232, worker, c[i].room, false, NULL);
		int m = answer_from_nsec(n, &q, NOW, DNS_EDNS_MIN_UDP, ctl, sizeof(ctl), true, NULL);
		cr_assert_gt(w, 0, "case %zu", i);
		cr_assert_gt(m, 0, "case %zu", i);
		size_t x = answer_from_msg(&q, ctl, (size_t)m, dns_get16(ctl + 2) & DNS_F_RCODE_MASK,
					   false, c[i].room, 1232, writer);
		cr_assert_eq(x, (size_t)w, "case %zu: %zu octets from the writer, %d from a worker",
			     i, x, w);
		cr_assert_eq(memcmp(writer, worker, x), 0, "case %zu: the same octets", i);
		if (c[i].room < 1472)
			cr_assert(dns_get16(worker + 2) & DNS_F_TC, "case %zu: TC", i);
	}
	cache_nsec_free(n);
}

Test(negative, a_client_without_do_gets_the_soa_alone)
{
	struct cache_nsec *n = store(3600);
	struct cache_nsec_proof p;
	struct dns_query q;
	struct dns_msg m;
	uint8_t qb[512], out[1232];

	query(&q, qb, "b.example.", DNS_T_A, 0, false);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cr_assert_not(m.hdr.flags & DNS_F_AD, "AD only to clients that ask (RFC 6840 5.8)");
	cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1);
	cr_assert_eq(count_type(&m, DNS_T_SOA), 1);
	cr_assert_not(m.has_edns);
	cache_nsec_free(n);
}

/* The SOA record a client without DO gets is found when the SOA goes in,
 * wherever it sits in its blob: the answer is the walk of the blob's. */
Test(negative, the_soa_record_found_at_insert_answers_as_the_walk_does)
{
	struct cache_nsec *n = store(3600);
	struct cache_nsec_proof p, walk;
	struct dns_query q;
	struct dns_msg m;
	struct dns_rr_iter it;
	struct dns_rr r;
	uint8_t qb[512], out[1232], out2[1232], soa_rd[64], blob[400];
	size_t l = dns_name_len(nm("ns.example."));

	/* the signature first, then the SOA (TTL 30) */
	memcpy(soa_rd, nm("ns.example."), l);
	memcpy(soa_rd + l, nm("host.example."), dns_name_len(nm("host.example.")));
	l += dns_name_len(nm("host.example."));
	memset(soa_rd + l, 0, 20);
	soa_rd[l + 19] = 60;
	l += 20;
	size_t b = rr(blob, "example.", DNS_T_RRSIG, 3600, fake_sig, sizeof(fake_sig));
	b += rr(blob + b, "EXAMPLE.", DNS_T_SOA, 30, soa_rd, (uint16_t)l);
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), blob, b, EXP, 0), 0);
	query(&q, qb, "b.example.", DNS_T_A, 1, false);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	cr_assert_eq(v, CACHE_NSEC_NXDOMAIN);
	cr_assert_gt(p.soa_rr_at, 0);
	cr_assert_eq(p.soa_owner_len, dns_name_len(nm("example.")));
	cr_assert_gt(p.soa_packed_len, 0);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
	walk = p;
	walk.soa_rr_len = walk.soa_packed_len = 0;
	cr_assert_gt(len, 0);
	/* packed: the owner a pointer (9 -> 2 octets), and MNAME and RNAME
	 * end in one (3 + 2 and 5 + 2 octets in place of 12 and 14) */
	int wlen = answer_negative(&walk, v, &q, NOW, 1232, out2, sizeof(out2), false);
	cr_assert_eq(wlen, len + 7 + 7 + 7, "%d %d", wlen, len);
	same_records(out, (size_t)len, out2, (size_t)wlen);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1);
	dns_rr_iter_init(&it, &m, DNS_SEC_AUTHORITY);
	cr_assert_gt(dns_rr_next(&it, &r), 0);
	cr_assert_eq(r.type, DNS_T_SOA);
	cr_assert_eq(r.ttl, 30);
	/* no room for it: TC, no records, as the walk gives it */
	len = answer_negative(&p, v, &q, NOW, 1232, out, DNS_HDR_LEN + 15 + 11 + 20, false);
	cr_assert_gt(len, 0);
	cr_assert_eq(answer_negative(&walk, v, &q, NOW, 1232, out2, DNS_HDR_LEN + 15 + 11 + 20,
				     false), len);
	cr_assert_eq(memcmp(out, out2, (size_t)len), 0);
	cr_assert(out[2] & (DNS_F_TC >> 8));
	/* room for the packed record exactly (not for the whole one): it goes
	 * in; one octet less, TC */
	len = answer_negative(&p, v, &q, NOW, 1232, out, (size_t)wlen - 21, false);
	cr_assert_eq(len, wlen - 21);
	cr_assert_not(out[2] & (DNS_F_TC >> 8));
	len = answer_negative(&p, v, &q, NOW, 1232, out, (size_t)wlen - 22, false);
	cr_assert_gt(len, 0);
	cr_assert(out[2] & (DNS_F_TC >> 8));
	cache_nsec_free(n);
}

/* A question in the zone: the zone, or labels below it; letters in the
 * case that bits of *s give. */
static void spell(char *out, size_t cap, const char *below, const char *zone, uint32_t *s)
{
	snprintf(out, cap, "%s%s", below, zone);
	for (char *c = out; *c; c++) {
		*s = *s * 1103515245u + 12345u;
		if (((*s >> 16) & 1) && *c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
		else if (((*s >> 16) & 1) && *c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	}
}

/* Every packed SOA answer says what the record in full says: zones of one
 * to four labels, MNAME and RNAME at the zone, below it, above it, beside
 * it and elsewhere, in other letter cases; questions at the zone and up to
 * three labels below it, in random case, with EDNS and without. The root's
 * SOA is never packed. */
Test(negative, a_packed_soa_says_what_the_record_in_full_says)
{
	static const char *zones[] = { "example.", "a.b.example.", "x.", "Long-Label.zone.example." };
	/* MNAME and RNAME: "@" the zone itself, a prefix of it, or a name */
	static const char *rd_names[] = { "@", "ns.@", "a.b.c.@", "HOST.@", "ns.other.", ".",
					  "example.", "zone.example.", "b.example.", "xample." };
	static const char *below[] = { "", "q.", "x.Y.q.", "*." };
	uint32_t s = 7;
	unsigned packed_seen = 0;

	for (size_t zi = 0; zi < sizeof(zones) / sizeof(zones[0]); zi++)
	for (size_t mi = 0; mi < sizeof(rd_names) / sizeof(rd_names[0]); mi++)
	for (size_t ri = 0; ri < sizeof(rd_names) / sizeof(rd_names[0]); ri++)
	for (size_t bi = 0; bi < sizeof(below) / sizeof(below[0]); bi++)
	for (int edns = 0; edns <= 1; edns++) {
		uint8_t zone[DNS_NAME_MAX], rd[2 * DNS_NAME_MAX + 20], blob[1024];
		uint8_t packed[CACHE_NSEC_SOA_MAX], qb[512], out[1232], out2[1232];
		char name[300];
		size_t l = 0;
		uint16_t ptr_at[2];
		struct dns_query q;

		cr_assert_gt(dns_name_from_str(zones[zi], zone), 0);
		for (int k = 0; k < 2; k++) {
			const char *r = rd_names[k ? ri : mi];
			size_t rl = strlen(r);

			if (r[rl - 1] == '@')
				snprintf(name, sizeof(name), "%.*s%s", (int)(rl - 1), r, zones[zi]);
			else
				snprintf(name, sizeof(name), "%s", r);
			int nl = dns_name_from_str(name, rd + l);
			cr_assert_gt(nl, 0, "%s", name);
			l += (size_t)nl;
		}
		for (int k = 0; k < 20; k++)
			rd[l + k] = (uint8_t)(0x11 * (k + 1));
		l += 20;
		spell(name, sizeof(name), "", zones[zi], &s);
		size_t b = rr(blob, name, DNS_T_SOA, 300, rd, (uint16_t)l);
		size_t ol = dns_name_len(blob);

		size_t pl = cache_nsec_soa_pack(blob, ol, zone, packed, ptr_at);
		cr_assert_gt(pl, 0);
		cr_assert_lt(pl, b, "packed %zu of %zu octets", pl, b);
		spell(name, sizeof(name), below[bi], zones[zi], &s);
		query(&q, qb, name, DNS_T_A, edns, false);
		struct cache_nsec_proof p = {
			.soa = { .data = blob, .len = (uint16_t)b, .expire_at = EXP },
			.soa_rr_len = (uint16_t)b,
			.soa_owner_len = (uint8_t)ol,
			.soa_packed = packed,
			.soa_packed_len = (uint16_t)pl,
			.soa_ptr_at = { ptr_at[0], ptr_at[1] },
			.zone = zone,
			.zone_len = (uint8_t)dns_name_len(zone),
			.expire_at = EXP,
			.records = true,
		};
		struct cache_nsec_proof whole = p;

		whole.soa_packed_len = 0;
		for (int v = CACHE_NSEC_NODATA; v <= CACHE_NSEC_NXDOMAIN; v++) {
			int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
			int wlen = answer_negative(&whole, v, &q, NOW, 1232, out2, sizeof(out2), false);

			cr_assert_gt(len, 0);
			cr_assert_eq((size_t)wlen - (size_t)len, b - pl, "%s in %s", name, zones[zi]);
			same_records(out, (size_t)len, out2, (size_t)wlen);
			/* the message's own compression: what a client reads */
			struct dns_msg m;
			cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
			cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 1);
			packed_seen++;
		}
	}
	cr_assert_eq(packed_seen, 4u * 10 * 10 * 4 * 2 * 2);

	/* the root's: nothing to gain */
	uint8_t rd[64], blob[128], packed[CACHE_NSEC_SOA_MAX];
	uint16_t ptr_at[2];
	size_t l = (size_t)dns_name_from_str("a.root-servers.net.", rd);

	l += (size_t)dns_name_from_str("nstld.verisign-grs.com.", rd + l);
	memset(rd + l, 1, 20);
	rr(blob, ".", DNS_T_SOA, 300, rd, (uint16_t)(l + 20));
	cr_assert_eq(cache_nsec_soa_pack(blob, 1, nm("."), packed, ptr_at), 0);
}

Test(negative, nodata_and_ttl_never_above_the_records_own)
{
	struct cache_nsec *n = store(30);
	struct cache_nsec_proof p;
	struct dns_query q;
	struct dns_msg m;
	uint8_t qb[512], out[1232];

	query(&q, qb, "a.example.", DNS_T_TXT, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_TXT, NOW, &p);
	cr_assert_eq(v, CACHE_NSEC_NODATA);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert_eq(m.rcode, DNS_R_NOERROR);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0);
	cr_assert_eq(count_type(&m, DNS_T_NSEC), 1);
	cr_assert_eq(max_ttl(&m), 30, "%u", max_ttl(&m));
	cache_nsec_free(n);
}

Test(negative, too_small_a_buffer_gives_tc_without_records)
{
	struct cache_nsec *n = store(3600);
	struct cache_nsec_proof p;
	struct dns_query q;
	struct dns_msg m;
	uint8_t qb[512], out[1232];

	query(&q, qb, "b.example.", DNS_T_A, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, 100, false);
	cr_assert_gt(len, 0);
	cr_assert_leq(len, 100);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert(m.hdr.flags & DNS_F_TC);
	cr_assert_eq(m.hdr.count[DNS_SEC_AUTHORITY], 0);
	cache_nsec_free(n);
}

Test(negative, answers_in_the_querys_own_buffer)
{
	struct cache_nsec *n = store(3600);
	struct cache_nsec_proof p;
	struct dns_query q;
	struct dns_msg m;
	uint8_t buf[1232];

	query(&q, buf, "c.example.", DNS_T_AAAA, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_AAAA, NOW, &p);
	int len = answer_negative(&p, v, &q, NOW, 1232, buf, sizeof(buf), false);
	cr_assert_eq(dns_msg_parse(&m, buf, (size_t)len), 0);
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(m.qtype, DNS_T_AAAA);
	cr_assert_eq(count_type(&m, DNS_T_NSEC), 2);
	cache_nsec_free(n);
}

/* A store of opaque blobs (record_blobs off) takes anything and answers
 * nothing: its blobs were never checked. */
Test(negative, a_store_of_unchecked_blobs_gives_no_answer)
{
	struct cache_nsec *n = cache_nsec_new(NULL);
	struct cache_nsec_proof p;
	struct dns_query q;
	uint8_t qb[512], out[1232], junk[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 6 };
	uint8_t rd[32];
	size_t l = dns_name_len(nm("z.example."));

	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), junk, sizeof(junk), EXP, 0), 0);
	memcpy(rd, nm("z.example."), l);
	rd[l] = 0;
	rd[l + 1] = 1;
	rd[l + 2] = 0x40;
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("example."), rd, l + 3, EXP,
				       junk, sizeof(junk), 0), 0);
	query(&q, qb, "b.example.", DNS_T_A, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	cr_assert_neq(v, CACHE_NSEC_NONE);
	cr_assert_not(p.records);
	cr_assert_eq(answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false), -1);
	cache_nsec_free(n);
}

/*
 * With record_blobs the store refuses, at insert, every blob an answer
 * could not copy as it is: a cut record, a name running past the blob,
 * records of types that do not belong in an authority section (an OPT, an
 * A), a compression pointer in an owner or in RDATA (it would point into
 * someone else's message). The range or SOA it came with is not stored.
 */
Test(negative, blobs_an_answer_cannot_copy_are_refused_at_insert)
{
	struct cache_nsec *n = store(3600);
	uint8_t bad[128], rd[32], soa_rd[24] = { 0xc0, 0x0c, 0xc0, 0x0c };
	uint8_t ptr_owner[] = { 0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 60, 0, 0 };
	const uint8_t a_rd[4] = { 192, 0, 2, 1 };
	size_t nl = dns_name_len(nm("z.example.")), good, l;
	struct {
		const char *what;
		size_t len;
	} c[6];
	unsigned k = 0;

	memcpy(rd, nm("z.example."), nl);
	rd[nl] = 0;
	rd[nl + 1] = 1;
	rd[nl + 2] = 0x40;
	good = rr(bad, "y.example.", DNS_T_RRSIG, 60, fake_sig, sizeof(fake_sig));
	c[k++] = (typeof(c[0])){ "a cut record", good - 1 };
	c[k++] = (typeof(c[0])){ "a name past the blob", 5 };
	for (unsigned i = 0; i < k; i++)
		cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("y.example."), rd, nl + 3,
					       EXP, bad, c[i].len, 0),
			     CACHE_E_NSEC_BLOB, "%s", c[i].what);
	l = rr(bad, ".", DNS_T_OPT, 0, (const uint8_t *)"", 0);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("y.example."), rd, nl + 3, EXP, bad,
				       l, 0),
		     CACHE_E_NSEC_BLOB, "an OPT");
	l = rr(bad, "y.example.", DNS_T_A, 60, a_rd, sizeof(a_rd));
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("y.example."), rd, nl + 3, EXP, bad,
				       l, 0),
		     CACHE_E_NSEC_BLOB, "an A record");
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("y.example."), rd, nl + 3, EXP,
				       ptr_owner, sizeof(ptr_owner), 0),
		     CACHE_E_NSEC_BLOB, "a pointer for an owner");
	l = rr(bad, "example.", DNS_T_SOA, 60, soa_rd, sizeof(soa_rd));
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), bad, l, EXP, 0), CACHE_E_NSEC_BLOB,
		     "a compression pointer in RDATA");
	/* an SOA blob has one SOA, the zone's; a range's none (RFC 2308 3:
	 * one SOA in a negative answer, the zone's) */
	uint8_t flat_soa[64] = { 0 };
	size_t sl = dns_name_len(nm("ns.example.")) + dns_name_len(nm("h.example.")) + 20;
	memcpy(flat_soa, nm("ns.example."), dns_name_len(nm("ns.example.")));
	memcpy(flat_soa + dns_name_len(nm("ns.example.")), nm("h.example."),
	       dns_name_len(nm("h.example.")));
	l = rr(bad, "example.", DNS_T_RRSIG, 60, fake_sig, sizeof(fake_sig));
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), bad, l, EXP, 0), CACHE_E_NSEC_BLOB,
		     "an SOA blob without an SOA");
	l = rr(bad, "other.", DNS_T_SOA, 60, flat_soa, (uint16_t)sl);
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), bad, l, EXP, 0), CACHE_E_NSEC_BLOB,
		     "another zone's SOA");
	l = rr(bad, "example.", DNS_T_SOA, 60, flat_soa, (uint16_t)sl);
	cr_assert_eq(cache_nsec_check_records(bad, l, nm("example.")), 0, "the zone's own");
	l += rr(bad + l, "example.", DNS_T_SOA, 60, flat_soa, (uint16_t)sl);
	cr_assert_eq(cache_nsec_set_soa(n, nm("example."), bad, l, EXP, 0), CACHE_E_NSEC_BLOB,
		     "two SOAs");
	l = rr(bad, "example.", DNS_T_SOA, 60, flat_soa, (uint16_t)sl);
	cr_assert_eq(cache_nsec_insert(n, nm("example."), nm("y.example."), rd, nl + 3, EXP, bad,
				       l, 0),
		     CACHE_E_NSEC_BLOB, "an SOA in a range's blob");

	/* what was there still answers, from the old SOA and ranges */
	struct cache_nsec_proof p;
	struct dns_query q;
	uint8_t qb[512], out[1232];
	struct dns_msg m;

	query(&q, qb, "b.example.", DNS_T_A, 1, true);
	int v = cache_nsec_lookup(n, dns_query_qname(&q), DNS_T_A, NOW, &p);
	cr_assert_eq(v, CACHE_NSEC_NXDOMAIN);
	cr_assert(p.records);
	int len = answer_negative(&p, v, &q, NOW, 1232, out, sizeof(out), false);
	cr_assert_gt(len, 0);
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)len), 0);
	cr_assert_eq(count_type(&m, DNS_T_SOA), 1);
	cr_assert_eq(count_type(&m, DNS_T_NSEC), 2);
	cache_nsec_free(n);
}

/* --- the denial feed (cache_nsec_feed(), as control sends it) ------------ */

/* An RRSIG's RDATA over type by signer (the signature's octets unread). */
static size_t sig_rd(uint8_t *rd, uint16_t type, const char *signer)
{
	size_t l = dns_name_len(nm(signer));

	memset(rd, 0, 18);
	dns_put16(rd, type);
	rd[2] = 8;
	rd[3] = 2;
	memcpy(rd + 18, nm(signer), l);
	memset(rd + 18 + l, 0x5a, 32);
	return 18 + l + 32;
}

/* NSEC RDATA owner -> next, types A RRSIG NSEC. */
static size_t nsec_rd(uint8_t *rd, const char *next)
{
	size_t l = dns_name_len(nm(next));

	memcpy(rd, nm(next), l);
	static const uint8_t bm[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03 };
	memcpy(rd + l, bm, sizeof(bm));
	return l + sizeof(bm);
}

/* Adds owner's NSEC to next (ttl) with an RRSIG by signer (NULL: none). */
static void feed_nsec(struct dns_builder *b, const char *owner, const char *next,
		      uint32_t ttl, const char *signer)
{
	uint8_t rd[300];

	cr_assert_eq(dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(owner), DNS_T_NSEC, DNS_C_IN, ttl, rd,
				    nsec_rd(rd, next)), 0);
	if (signer)
		cr_assert_eq(dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(owner), DNS_T_RRSIG, DNS_C_IN,
					    ttl, rd, sig_rd(rd, DNS_T_NSEC, signer)), 0);
}

/* example.'s SOA at owner (MINIMUM min, TTL ttl), signed by example. */
static void feed_soa(struct dns_builder *b, const char *owner, uint32_t ttl, uint32_t min)
{
	uint8_t rd[300];
	size_t l = 0;

	memcpy(rd, nm("ns.example."), 12);
	memcpy(rd + 12, nm("host.example."), 14);
	l = 26;
	memset(rd + l, 0, 20);
	dns_put32(rd + l + 16, min);
	l += 20;
	cr_assert_eq(dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(owner), DNS_T_SOA, DNS_C_IN, ttl, rd,
				    l), 0);
	cr_assert_eq(dns_builder_rr(b, DNS_SEC_AUTHORITY, nm(owner), DNS_T_RRSIG, DNS_C_IN, ttl,
				    rd, sig_rd(rd, DNS_T_SOA, "example.")), 0);
}

static void feed_start(struct dns_builder *b, uint8_t *buf, size_t cap, const char *zone)
{
	cr_assert_eq(dns_builder_init(b, buf, cap, 0, DNS_F_QR), 0);
	cr_assert_eq(dns_builder_question(b, nm(zone), DNS_T_NSEC, DNS_C_IN), 0);
}

/* A feed as control writes it (SOA, the range over the name and the one
 * over the wildcard, each signed by the apex) answers NXDOMAIN for other
 * names in the range, with the SOA's MINIMUM as the answer's TTL bound
 * (RFC 9077), and nothing once that has passed. */
Test(negative, a_feed_answers_for_names_in_its_ranges)
{
	struct cache_nsec *n = new_store();
	struct cache_nsec_feed_result r;
	struct dns_builder b;
	struct dns_query q;
	struct dns_msg m;
	uint8_t buf[4096], qb[512], out[1232];

	feed_start(&b, buf, sizeof(buf), "Example.");
	feed_soa(&b, "example.", 3600, 300);
	feed_nsec(&b, "example.", "a.example.", 3600, "example.");
	feed_nsec(&b, "a.example.", "d.example.", 3600, "example.");
	size_t len = dns_builder_finish(&b);
	cr_assert_eq(cache_nsec_feed(n, buf, len, NOW, 86400, &r), 0);
	cr_assert_eq(r.ranges, 2);
	cr_assert_eq(r.soas, 1);
	cr_assert_eq(r.refused, 0);

	query(&q, qb, "C.example.", DNS_T_A, 1, true);
	struct cache_nsec_memo memo = { 0 };
	int a = answer_from_nsec(n, &q, NOW + 10, 1232, out, sizeof(out), false, &memo);
	cr_assert_gt(a, 0);
	cr_assert(memo.apex && dns_name_equal(memo.apex, nm("example.")), "the zone that proved it");
	cr_assert_eq(memo.apex_len, dns_name_len(nm("example.")));
	cr_assert_eq(dns_msg_parse(&m, out, (size_t)a), 0);
	cr_assert_eq(m.rcode, DNS_R_NXDOMAIN);
	cr_assert(m.hdr.flags & DNS_F_AD);
	cr_assert_eq(count_type(&m, DNS_T_SOA), 1);
	cr_assert_eq(count_type(&m, DNS_T_NSEC), 2);
	cr_assert_eq(count_type(&m, DNS_T_RRSIG), 3);
	cr_assert_eq(max_ttl(&m), 290, "MINIMUM 300, 10 s gone: %u", max_ttl(&m));
	/* a name the ranges do not cover, another class: nothing */
	query(&q, qb, "e.example.", DNS_T_A, 1, true);
	cr_assert_eq(answer_from_nsec(n, &q, NOW + 10, 1232, out, sizeof(out), false, NULL), -1);
	query(&q, qb, "c.example.", DNS_T_A, 1, true);
	dns_put16(qb + q.qname_len + DNS_HDR_LEN + 2, DNS_C_CH);
	cr_assert_eq(dns_query_parse(&q, qb, q.len), 0);
	cr_assert_eq(answer_from_nsec(n, &q, NOW + 10, 1232, out, sizeof(out), false, NULL), -1);
	cr_assert_eq(answer_from_nsec(NULL, &q, NOW + 10, 1232, out, sizeof(out), false, NULL), -1);
	/* the SOA's MINIMUM has passed: no answer (the ranges live on) */
	query(&q, qb, "c.example.", DNS_T_A, 0, false);
	cr_assert_gt(answer_from_nsec(n, &q, NOW + 299, 1232, out, sizeof(out), false, NULL), 0);
	cr_assert_eq(answer_from_nsec(n, &q, NOW + 300, 1232, out, sizeof(out), false, NULL), -1);
	cache_nsec_free(n);
}

/* What the feed does not take: a record without a signature by the apex,
 * one signed by another zone, two NSECs at one owner, a SOA below the
 * apex; the rest of the feed still goes in. A feed that does not parse
 * puts nothing in. */
Test(negative, a_feed_takes_only_records_signed_by_its_zone)
{
	struct cache_nsec *n = new_store();
	struct cache_nsec_feed_result r;
	struct cache_nsec_stats st;
	struct dns_builder b;
	uint8_t buf[4096];

	feed_start(&b, buf, sizeof(buf), "example.");
	feed_soa(&b, "sub.example.", 3600, 300);
	feed_nsec(&b, "a.example.", "d.example.", 3600, NULL);
	feed_nsec(&b, "d.example.", "f.example.", 3600, "other.");
	feed_nsec(&b, "f.example.", "g.example.", 3600, "example.");
	feed_nsec(&b, "f.example.", "h.example.", 3600, "example.");
	feed_nsec(&b, "k.example.", "m.example.", 3600, "example.");
	feed_nsec(&b, "m.example.", "p.example.", 0, "example.");
	size_t len = dns_builder_finish(&b);
	cr_assert_eq(cache_nsec_feed(n, buf, len, NOW, 86400, &r), 0);
	cr_assert_eq(r.ranges, 1, "k.example. alone");
	cr_assert_eq(r.soas, 0);
	cr_assert_eq(r.refused, 6);
	cache_nsec_get_stats(n, &st);
	cr_assert_eq(st.nsec_ranges, 1);

	cr_assert_eq(cache_nsec_feed(n, buf, len - 1, NOW, 86400, &r), CACHE_E_MSG);
	cr_assert_eq(r.ranges + r.soas + r.refused, 0);
	cache_nsec_free(n);
}

/* No range outlives its zone's negative TTL (the SOA's TTL and MINIMUM,
 * RFC 9077) when the feed says it, nor cache.max-negative-ttl: a fresher
 * SOA later does not make an old range answer again. */
Test(negative, a_feed_bounds_its_ranges_by_the_negative_ttl)
{
	struct cache_nsec *n = new_store();
	struct cache_nsec_feed_result r;
	struct dns_builder b;
	struct dns_query q;
	uint8_t buf[4096], qb[512], out[1232];

	feed_start(&b, buf, sizeof(buf), "example.");
	feed_soa(&b, "example.", 3600, 300);
	feed_nsec(&b, "example.", "a.example.", 86400, "example.");
	feed_nsec(&b, "a.example.", "d.example.", 86400, "example.");
	cr_assert_eq(cache_nsec_feed(n, buf, dns_builder_finish(&b), NOW, 86400, &r), 0);
	cr_assert_eq(r.ranges, 2);
	/* a new SOA alone, 200 s later: good until NOW + 500 */
	feed_start(&b, buf, sizeof(buf), "example.");
	feed_soa(&b, "example.", 3600, 300);
	cr_assert_eq(cache_nsec_feed(n, buf, dns_builder_finish(&b), NOW + 200, 86400, &r), 0);
	cr_assert_eq(r.soas, 1);
	query(&q, qb, "c.example.", DNS_T_A, 0, false);
	cr_assert_gt(answer_from_nsec(n, &q, NOW + 299, 1232, out, sizeof(out), false, NULL), 0);
	cr_assert_eq(answer_from_nsec(n, &q, NOW + 300, 1232, out, sizeof(out), false, NULL), -1,
		     "the ranges went with the first SOA's negative TTL");

	/* a feed without a SOA (a referral's proof): max_ttl bounds it */
	feed_start(&b, buf, sizeof(buf), "example.");
	feed_nsec(&b, "example.", "a.example.", 86400, "example.");
	feed_nsec(&b, "a.example.", "d.example.", 86400, "example.");
	cr_assert_eq(cache_nsec_feed(n, buf, dns_builder_finish(&b), NOW + 400, 50, &r), 0);
	cr_assert_eq(r.ranges, 2);
	cr_assert_gt(answer_from_nsec(n, &q, NOW + 449, 1232, out, sizeof(out), false, NULL), 0);
	cr_assert_eq(answer_from_nsec(n, &q, NOW + 450, 1232, out, sizeof(out), false, NULL), -1);
	cache_nsec_free(n);
}
