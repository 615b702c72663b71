/*
 * tests/fuzz/fuzz_answer.c: libFuzzer target for every writer of an answer
 * a client receives: the cache's answer from an entry (fresh, stale, over
 * UDP and TCP), the RFC 8020 answer from an NXDOMAIN marker below the
 * denied name, the RFC 8198 answer from NSEC/NSEC3 blobs and from a store
 * the input's message fed as a denial feed (cache_nsec_feed(), the
 * writer's parser of SHM_FILL_NSEC records), the answer from
 * an assembled message, and the rcode-only answer (with and without a
 * question, TC set as the fill path sets it). Whatever the cached message
 * and whatever the client's question, each answer must be a well-formed
 * response to that question:
 * - it parses with the general parser (dns_msg_parse: every name, pointer
 *   and RDATA checked), within the caller's buffer and, over UDP, within
 *   the client's size;
 * - the client's id, QR set, QDCOUNT 1 and the question octet for octet;
 * - our OPT exactly when the client sent one;
 * - TC set means no records but the OPT;
 * - an RFC 8020 answer is NXDOMAIN with an empty answer section;
 * - a client without DO gets no RRSIG, NSEC or NSEC3 record it did not ask
 *   for by type (dns_rr_needs_do());
 * - the answer from the entry an input's message just made, to that
 *   message's own question, carries the message's records (owner, type,
 *   class, RDATA; TTLs aside; without DO, those a client without DO gets),
 *   so no name reads otherwise behind it.
 * Input: octet 0 bit 0-1 the client's EDNS (0 none, 1 plain, 2-3 DO), bit 2
 * the time is in the stale window, bit 3 insert as DNSSEC-secure, bits 4-5
 * labels put before the cached name, bit 6 the client's name is taken
 * whole from the input, bit 7 CD in the query; 1-2 the client's UDP size,
 * 3-4 the buffer (ANSWER_EMPTY_MAX + n), 5-6 qtype, 7 the rcode of the
 * rcode-only answer (low 4 bits; bit 4: the message is inserted as one
 * without its DNSSEC records), 8 the length L of the name octets; then L
 * octets (the labels, or the whole name), then the message that is cached.
 * Runs with -detect_leaks=0 (fuzz_answer.options, as fuzz_fill).
 */
#define FUZZ_NAME "fuzz_answer"
#include "tests/fuzz/fuzz_cache.h"

#include <string.h>

#include "answer/negative.h"
#include "answer/reply.h"
#include "cache/nsec.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"

#define T0 1000000u
#define HEAD 9

static uint8_t out[65536];
static uint8_t qwire[1024];
static uint8_t flat[2][65536];

/* The properties every answer to q must have (see the top of the file). */
static void check_answer(const struct dns_query *q, const uint8_t *a, size_t n,
			 size_t cap, bool stream, const char *who)
{
	struct dns_msg m;
	char what[128];

/* the message is made only when the property fails */
#define CHECK(cond, text)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			snprintf(what, sizeof(what), "%s: %s", who, text); \
			check(false, what);                                \
		}                                                          \
	} while (0)
	CHECK(n >= DNS_HDR_LEN && n <= cap, "length within the buffer");
	if (!stream)
		CHECK(n <= dns_query_udp_size(q), "length within the client's UDP size");
	CHECK(dns_msg_parse(&m, a, n) == 0, "parses with the general parser");
	CHECK(m.hdr.id == q->id, "the client's id");
	CHECK(m.hdr.flags & DNS_F_QR, "QR set");
	CHECK(m.hdr.count[DNS_SEC_QUESTION] == 1, "one question");
	CHECK(m.qname_len == q->qname_len &&
	      memcmp(a + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, (size_t)q->qname_len + 4) == 0,
	      "the question octet for octet");
	CHECK(m.has_edns == q->has_edns, "our OPT exactly when the client sent one");
	if (m.hdr.flags & DNS_F_TC)
		CHECK(m.hdr.count[DNS_SEC_ANSWER] == 0 && m.hdr.count[DNS_SEC_AUTHORITY] == 0 &&
		      m.hdr.count[DNS_SEC_ADDITIONAL] == (m.has_edns ? 1 : 0),
		      "TC means no records");
	if (!(q->has_edns && (q->edns.flags & DNS_EDNS_F_DO)) && m.qname_len) {
		struct dns_rr_iter it;
		struct dns_rr rr;
		dns_rr_iter_init(&it, &m, DNS_SEC_ANSWER);
		while (dns_rr_next(&it, &rr) > 0)
			CHECK(!dns_rr_needs_do(rr.type, (enum dns_section)rr.section, q->qtype),
			      "no DNSSEC record for a client without DO");
	}
#undef CHECK
}

/* Record by record, TTLs aside: owner (any case), type, class and the
 * unpacked RDATA (any case) of every record but the OPT, in order; strip:
 * a's records a client without DO does not get are not counted. */
static bool same_records(const struct dns_msg *a, const struct dns_msg *b, bool strip)
{
	static uint8_t ra[65536], rb[65536];
	struct dns_rr_iter ia, ib;
	struct dns_rr x, y;
	int na, nb;

	dns_rr_iter_init(&ia, a, DNS_SEC_ANSWER);
	dns_rr_iter_init(&ib, b, DNS_SEC_ANSWER);
	for (;;) {
		while ((na = dns_rr_next(&ia, &x)) > 0 &&
		       (x.type == DNS_T_OPT ||
			(strip && dns_rr_needs_do(x.type, (enum dns_section)x.section, a->qtype))))
			;
		while ((nb = dns_rr_next(&ib, &y)) > 0 && y.type == DNS_T_OPT)
			;
		if (na <= 0 || nb <= 0)
			return na <= 0 && nb <= 0;
		int la = dns_rr_rdata(a, &x, ra, sizeof(ra)), lb = dns_rr_rdata(b, &y, rb, sizeof(rb));
		if (x.section != y.section || x.type != y.type || x.rclass != y.rclass ||
		    !dns_name_equal(x.owner, y.owner) || la != lb || la < 0)
			return false;
		for (int i = 0; i < la; i++)
			if (dns_lower[ra[i]] != dns_lower[rb[i]])
				return false;
	}
}

/* The client's query: qname, qtype, the EDNS mode of octet 0. */
static bool make_query(struct dns_query *q, const uint8_t *qname, uint16_t qtype,
		       uint8_t mode, uint16_t udp)
{
	struct dns_builder b;

	dns_builder_init(&b, qwire, sizeof(qwire), 0x4242,
			 (uint16_t)(DNS_F_RD | ((mode & 0x80) ? DNS_F_CD : 0)));
	if (dns_builder_question(&b, qname, qtype, DNS_C_IN))
		return false;
	if ((mode & 3) && dns_builder_opt(&b, udp, 0, 0, (mode & 2) ? DNS_EDNS_F_DO : 0,
					  NULL, 0))
		return false;
	return dns_query_parse(q, qwire, dns_builder_finish(&b)) == 0;
}

/* The authority records of m written out in full, as the dataplane's NSEC
 * writer stores them: SOAs into flat[0], the rest into flat[1]. */
static void flatten(const struct dns_msg *m, size_t len[2])
{
	struct dns_rr_iter it;
	struct dns_rr rr;

	len[0] = len[1] = 0;
	dns_rr_iter_init(&it, m, DNS_SEC_AUTHORITY);
	while (dns_rr_next(&it, &rr) > 0 && rr.section == DNS_SEC_AUTHORITY) {
		int k = rr.type != DNS_T_SOA;
		size_t ol = dns_name_len(rr.owner), at = len[k];
		/* (room for the record as it is: a bound of a whole 65535-octet
		 * RDATA skipped every record, and the blobs were always empty) */
		if (at + ol + 10 >= sizeof(flat[k]) || rr.type == DNS_T_OPT)
			continue;
		memcpy(flat[k] + at, rr.owner, ol);
		dns_put16(flat[k] + at + ol, rr.type);
		dns_put16(flat[k] + at + ol + 2, rr.rclass);
		dns_put32(flat[k] + at + ol + 4, rr.ttl);
		int rl = dns_rr_rdata(m, &rr, flat[k] + at + ol + 10,
				      sizeof(flat[k]) - at - ol - 10);
		if (rl < 0 || rl > UINT16_MAX)
			continue;
		dns_put16(flat[k] + at + ol + 8, (uint16_t)rl);
		len[k] = at + ol + 10 + (size_t)rl;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEAD || (size_t)HEAD + data[8] > size)
		return 0;
	uint8_t mode = data[0];
	uint16_t udp = (uint16_t)(data[1] << 8 | data[2]);
	size_t cap = ANSWER_EMPTY_MAX + (size_t)(data[3] << 8 | data[4]);
	uint16_t qtype = (uint16_t)(data[5] << 8 | data[6]);
	int rcode = data[7] & 0xf;
	const uint8_t *name = data + HEAD, *msg = name + data[8];
	size_t nlen = data[8], mlen = size - HEAD - nlen;
	bool do_bit = mode & 2;
	uint32_t now = T0 + ((mode & 4) ? 90000 : 1);
	struct dns_msg m;
	bool parsed = dns_msg_parse(&m, msg, mlen) == 0 && m.qname_len;
	uint8_t qname[DNS_NAME_MAX];
	struct dns_query q;

	int ins = cache_insert(cache, msg, mlen, T0,
			       (mode & 8) ? CACHE_RANK_SECURE : CACHE_RANK_AUTH_ANSWER,
			       !(data[7] & 0x10));
	check(cache_check(cache) == 0, "cache invariants after the insert");

	/* The client's name: from the input, or labels before the cached one. */
	if (mode & 0x40 || !parsed) {
		if (dns_name_check(name, nlen) != (int)nlen)
			goto end;
		memcpy(qname, name, nlen);
	} else {
		size_t n = 0, labels = (mode >> 4) & 3, used = 0;
		for (size_t l = 0; l < labels; l++) {
			size_t ll = used < nlen ? name[used] % 64 : 1;
			if (ll == 0)
				ll = 1;
			if (n + 1 + ll + m.qname_len > DNS_NAME_MAX)
				break;
			qname[n++] = (uint8_t)ll;
			for (size_t i = 0; i < ll; i++)
				qname[n++] = used + 1 + i < nlen ? name[used + 1 + i] : 'x';
			used += 1 + ll;
		}
		memcpy(qname + n, m.qname, m.qname_len);
	}
	if (!make_query(&q, qname, qtype, mode, udp))
		goto end;

	/* 1. the entry for the question, fresh or stale, UDP and TCP */
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };
	cache_key_from_query(&k, cache, &q);
	cache_lookup_burst(cache, &kp, 1, now, &res, &rst);
	/* the entry just made from this message, asked for its own question:
	 * its answer must carry the message's records, whatever the TTLs do */
	bool own = ins == 0 && parsed && !(mode & 0x70) && qtype == m.qtype &&
		   m.qclass == DNS_C_IN;
	check(!own || (mode & 4) || res.entry || (do_bit && (data[7] & 0x10)),
	      "the entry just made answers its own question (a DO client: when full)");
	if (res.entry) {
		int n = cache_answer(cache, res.entry, (enum cache_state)res.state, &q, now, out, cap);
		if (n != DNS_E_SPACE)
			check_answer(&q, out, (size_t)n, cap, false, "cache_answer");
		struct dns_msg a;
		if (own && n > 0 && !(dns_get16(out + 2) & DNS_F_TC) &&
		    dns_msg_parse(&a, out, (size_t)n) == 0)
			check(same_records(&m, &a, !do_bit),
			      "cache_answer: the cached message's records");
		n = cache_answer_stream(cache, res.entry, (enum cache_state)res.state, &q, now,
					out, cap);
		if (n != DNS_E_SPACE)
			check_answer(&q, out, (size_t)n, cap, true, "cache_answer_stream");
	}

	/* 2. RFC 8020: the marker at or above the question, as a worker uses it */
	const struct cache_entry *cut = cache_nxdomain_cut(cache, qname, DNS_C_IN, now);
	if (cut) {
		for (int st = CACHE_HIT; st <= CACHE_STALE; st += CACHE_STALE - CACHE_HIT) {
			int n = cache_answer(cache, cut, (enum cache_state)st, &q, now, out, cap);
			if (n == DNS_E_SPACE)
				continue;
			check_answer(&q, out, (size_t)n, cap, false, "RFC 8020 answer");
			check((out[3] & 0xf) == DNS_R_NXDOMAIN && dns_get16(out + 6) == 0,
			      "RFC 8020 answer: NXDOMAIN, no answer records");
		}
	}

	/* 3. the answer from the assembled message, over UDP and TCP */
	size_t n = answer_from_msg(&q, msg, mlen, rcode, false, cap, 1232, out);
	check_answer(&q, out, n, cap, false, "answer_from_msg");
	n = answer_from_msg(&q, msg, mlen, rcode, true, cap, 1232, out);
	check_answer(&q, out, n, cap, true, "answer_from_msg (stream)");

	/* 4. rcode only, and as the fill path marks one truncated */
	n = answer_empty(q.wire, &q, rcode, data[0] & 1 ? DNS_EDE_PROHIBITED : DNS_EDE_NONE, 1232,
			 out);
	check_answer(&q, out, n, ANSWER_EMPTY_MAX, false, "answer_empty");
	out[2] |= DNS_F_TC >> 8;
	check_answer(&q, out, n, ANSWER_EMPTY_MAX, false, "answer_empty with TC");
	n = answer_empty(q.wire, NULL, rcode, DNS_EDE_PROHIBITED, 1232, out);
	check(n == DNS_HDR_LEN && dns_get16(out) == q.id && dns_get16(out + 4) == 0,
	      "answer_empty without a question: the header alone");

	/* 5. RFC 8198: blobs as a store with record_blobs takes them (the
	 * message's SOA records, and its other authority records, flattened;
	 * then the message's raw octets as a range's blob): whatever
	 * cache_nsec_check_records() lets in must answer well formed, and a
	 * proof whose blobs were never checked gets no answer */
	if (parsed) {
		size_t fl[2];
		flatten(&m, fl);
		struct cache_nsec_proof proof = {
			.soa = { .data = flat[0], .len = (uint16_t)fl[0], .expire_at = now + 60 },
			.rr = { { .data = flat[1], .len = (uint16_t)fl[1], .expire_at = now + 60 } },
			.expire_at = now + 60,
			.nrr = fl[1] ? 1 : 0,
		};
		check(answer_negative(&proof, CACHE_NSEC_NXDOMAIN, &q, now, 1232, out, cap,
				      false) == -1,
		      "no answer from blobs a store did not check");
		proof.records = fl[0] && fl[0] <= 65535 && fl[1] <= 65535 &&
				cache_nsec_check_records(flat[0], fl[0], flat[0]) == 0 &&
				(!fl[1] || cache_nsec_check_records(flat[1], fl[1], NULL) == 0);
		/* (NODATA is 1, NXDOMAIN 2: the other way round, no answer
		 * was ever made here) */
		for (int v = CACHE_NSEC_NODATA; proof.records && v <= CACHE_NSEC_NXDOMAIN; v++) {
			int r = answer_negative(&proof, v, &q, now, 1232, out, cap, false);
			if (r > 0)
				check_answer(&q, out, (size_t)r, cap, false, "RFC 8198 answer");
			/* the SOA record from where the store finds it, as a
			 * lookup's proof gives it: the same answer */
			struct cache_nsec_proof p2 = proof;
			static uint8_t out2[sizeof(out)];
			cache_nsec_soa_rr(flat[0], fl[0], &p2.soa_rr_at, &p2.soa_rr_len,
					  &p2.soa_owner_len);
			int r2 = answer_negative(&p2, v, &q, now, 1232, out2, cap, false);
			check(r2 == r && (r <= 0 || memcmp(out, out2, (size_t)r) == 0),
			      "RFC 8198 answer: the SOA record found ahead is the walk's");
			/* packed, as a store packs it, for a question in its
			 * zone: well formed, no longer, the same records */
			static uint8_t packed[CACHE_NSEC_SOA_MAX];
			if (r2 <= 0 || !p2.soa_rr_len ||
			    !dns_name_is_subdomain(dns_query_qname(&q), flat[0]))
				continue;
			p2.zone = flat[0];
			p2.zone_len = (uint8_t)dns_name_len(flat[0]);
			p2.soa_packed = packed;
			p2.soa_packed_len = (uint16_t)cache_nsec_soa_pack(
				flat[0] + p2.soa_rr_at, p2.soa_owner_len, flat[0], packed,
				p2.soa_ptr_at);
			bool walk_tc = out[2] & (DNS_F_TC >> 8);
			int r3 = answer_negative(&p2, v, &q, now, 1232, out2, cap, false);
			check(r3 > 0 && (walk_tc || r3 <= r2), "RFC 8198 answer, packed SOA: no longer");
			check_answer(&q, out2, (size_t)r3, cap, false, "RFC 8198 answer, packed SOA");
			struct dns_msg m2, m3;
			if (!walk_tc && dns_msg_parse(&m2, out, (size_t)r) == 0 &&
			    dns_msg_parse(&m3, out2, (size_t)r3) == 0)
				check(same_records(&m3, &m2, false),
				      "RFC 8198 answer, packed SOA: the records in full");
		}
		size_t off = m.sec_off[DNS_SEC_ANSWER];
		proof.rr[0] = (struct cache_nsec_blob){ .data = msg + off,
							.len = (uint16_t)(mlen - off),
							.expire_at = now + 60 };
		proof.nrr = 1;
		if (proof.records && mlen - off <= 65535 &&
		    cache_nsec_check_records(msg + off, mlen - off, NULL) == 0) {
			int r = answer_negative(&proof, CACHE_NSEC_NXDOMAIN, &q, now, 1232, out,
						cap, false);
			if (r > 0)
				check_answer(&q, out, (size_t)r, cap, false,
					     "RFC 8198 answer, raw blob");
		}
	}

	/* 6. the message as a denial feed, as the writer takes one from
	 * shared memory, into a store of its own; then that store's answer
	 * to the client's question, as the workers ask it */
	static struct cache_nsec *ns;
	if (!ns) {
		struct cache_nsec_config nc;
		cache_nsec_config_default(&nc);
		nc.max_bytes = 1 << 20;
		nc.record_blobs = true;
		check((ns = cache_nsec_new(&nc)) != NULL, "an NSEC store");
	}
	struct cache_nsec_feed_result fr;
	cache_nsec_feed(ns, msg, mlen, T0, 86400, &fr);
	int fa = answer_from_nsec(ns, &q, now, 1232, out, cap, false, NULL);
	if (fa > 0)
		check_answer(&q, out, (size_t)fa, cap, false, "RFC 8198 answer from a fed store");
end:
	if (data[1] == 0xff && data[2] == 0xff)
		cache_flush(cache);
	cache_reader_quiescent();
	return 0;
}
