/*
 * tests/dataplane/test_fill.c: what the cache writer does with a fill
 * record from control, without EAL: the record's check (shm.h), the
 * client's query rebuilt from it, the cache insert (dataplane/fill.h) and
 * the client's answer (answer_resolved()), each answer parsed back and
 * compared with what the client asked: its id, its letter case, the
 * records, TC, the rcode.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "answer/reply.h"
#include "cache/msgcache.h"
#include "dataplane/fill.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"
#include "shm/shm.h"
#include "tests/dns/testutil.h"

#define NOW 1000u

static struct cache *cache;
static struct shm_fill f;

static void setup(void)
{
	struct cache_config cc;

	urcu_qsbr_register_thread();
	cache_config_default(&cc);
	cc.max_bytes = 1 << 20;
	cache = cache_new(&cc);
	cr_assert(cache);
}

static void teardown(void)
{
	cache_free(cache);
	urcu_qsbr_unregister_thread();
}

TestSuite(fill, .init = setup, .fini = teardown);

/* An authoritative answer for name/A with one address, TTL ttl, in msg. */
static size_t answer_msg(uint8_t *msg, size_t cap, const char *name, uint32_t ttl,
			 uint8_t last_octet)
{
	struct dns_builder b;
	const uint8_t a[4] = { 198, 18, 1, last_octet };

	dns_builder_init(&b, msg, cap, 0, DNS_F_QR | DNS_F_AA);
	dns_builder_question(&b, nm(name), DNS_T_A, DNS_C_IN);
	dns_builder_rr_qname(&b, DNS_SEC_ANSWER, DNS_T_A, DNS_C_IN, ttl, a, 4);
	return dns_builder_finish(&b);
}

/* A sound fill for a client that asked `asked` (its spelling), id 0x4242,
 * with EDNS; the message is msg (len octets). */
static void make_fill(const char *asked, uint8_t flags, int rcode, const uint8_t *msg,
		      size_t len)
{
	memset(&f, 0, sizeof(f));
	f.h = (struct shm_hdr){ SHM_REC_FILL, SHM_ABI_VERSION, sizeof(f) };
	f.flags = flags;
	f.rank = CACHE_RANK_AUTH_ANSWER;
	f.rcode = (uint16_t)rcode;
	f.c.family = 4;
	f.c.dns_id = 0x4242;
	f.c.dns_flags = DNS_F_RD;
	f.c.qtype = DNS_T_A;
	f.c.qclass = DNS_C_IN;
	f.c.has_edns = 1;
	f.c.udp_size = 1232;
	f.c.qname_len = (uint8_t)dns_name_len(nm(asked));
	memcpy(f.c.qname, nm(asked), f.c.qname_len);
	memcpy(f.msg, msg, len);
	f.msg_len = (uint16_t)len;
}

/* The writer's steps for f; the answer parsed into *m (out holds it). */
static size_t writer(uint8_t *out, size_t cap, struct dns_msg *m, int *inserted)
{
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;

	cr_assert_eq(shm_fill_check(&f, 1), 0);
	cr_assert_eq(shm_client_query(&f.c, qbuf, &q), 0);
	*inserted = dp_fill_insert(cache, &f, NOW);
	size_t n = answer_resolved(cache, &q, NOW, f.msg, f.msg_len, f.rcode,
				   f.flags & SHM_FILL_STALE, f.flags & SHM_FILL_TRUNCATED, 1232,
				   out, cap);
	cr_assert_eq(dns_msg_parse(m, out, n), 0, "the answer parses");
	cr_assert_eq(m->hdr.id, 0x4242, "the client's id");
	cr_assert(m->hdr.flags & DNS_F_QR);
	cr_assert(m->hdr.flags & DNS_F_RD, "the client's RD echoed");
	cr_assert_eq(m->qname_len, f.c.qname_len);
	cr_assert_arr_eq(m->qname, f.c.qname, f.c.qname_len, "the client's letter case");
	return n;
}

Test(fill, a_resolved_answer_is_cached_and_answered_in_the_clients_case)
{
	uint8_t msg[512] = { 0 }, out[1232];
	struct dns_msg m;
	int ins;

	make_fill("WwW.Shop.LAB", SHM_FILL_CACHE | SHM_FILL_ANSWER, DNS_R_NOERROR, msg,
		  answer_msg(msg, sizeof(msg), "www.shop.lab", 300, 10));
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(ins, 0, "inserted");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	cr_assert_eq(m.hdr.flags & 0xf, DNS_R_NOERROR);
	cr_assert(m.has_edns, "our OPT for an EDNS client");
	/* the next client's fill: the cache answers it, as a hit would */
	make_fill("www.shop.lab", SHM_FILL_ANSWER, DNS_R_NOERROR, msg, 0);
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(ins, 1, "nothing to insert");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1, "from the cache");
}

Test(fill, a_truncated_fill_is_not_cached_and_answers_tc_without_records)
{
	uint8_t msg[512] = { 0 }, out[1232];
	struct dns_msg m;
	int ins;

	make_fill("big.shop.lab", SHM_FILL_ANSWER | SHM_FILL_TRUNCATED, DNS_R_NOERROR, msg, 0);
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(ins, 1, "nothing inserted");
	cr_assert(m.hdr.flags & DNS_F_TC, "TC: ask again over TCP");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0);
}

Test(fill, a_stale_fill_answers_its_message_and_is_not_cached)
{
	uint8_t msg[512], out[1232], qbuf[SHM_QUERY_MAX];
	struct dns_msg m;
	struct dns_query q;
	struct cache_key k;
	const struct cache_key *kp = &k;
	struct cache_result res;
	struct cache_reader_stats rst = { 0 };
	int ins;

	make_fill("old.shop.lab", SHM_FILL_ANSWER | SHM_FILL_STALE, DNS_R_NOERROR, msg,
		  answer_msg(msg, sizeof(msg), "old.shop.lab", 30, 7));
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(ins, 1);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1, "the stale answer itself");
	cr_assert_eq(shm_client_query(&f.c, qbuf, &q), 0);
	cache_key_from_query(&k, cache, &q);
	cache_lookup_burst(cache, &kp, 1, NOW, &res, &rst);
	cr_assert_null(res.entry, "a stale answer does not enter the cache");
}

Test(fill, a_servfail_after_expiry_is_answered_from_the_stale_entry)
{
	uint8_t msg[512] = { 0 }, out[1232];
	struct dns_msg m;
	int ins;

	make_fill("www.shop.lab", SHM_FILL_CACHE | SHM_FILL_ANSWER, DNS_R_NOERROR, msg,
		  answer_msg(msg, sizeof(msg), "www.shop.lab", 60, 10));
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(ins, 0);
	/* 100 s later the entry is stale; the refresh failed */
	uint8_t qbuf[SHM_QUERY_MAX];
	struct dns_query q;
	make_fill("www.shop.lab", SHM_FILL_ANSWER, DNS_R_SERVFAIL, msg, 0);
	cr_assert_eq(shm_client_query(&f.c, qbuf, &q), 0);
	size_t n = answer_resolved(cache, &q, NOW + 100, NULL, 0, DNS_R_SERVFAIL, false, false,
				   1232, out, sizeof(out));
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.hdr.flags & 0xf, DNS_R_NOERROR, "stale data beats SERVFAIL (RFC 8767)");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
}

Test(fill, a_message_for_another_question_answers_without_records)
{
	uint8_t msg[512] = { 0 }, out[1232];
	struct dns_msg m;
	int ins;

	make_fill("www.shop.lab", SHM_FILL_ANSWER, DNS_R_NOERROR, msg,
		  answer_msg(msg, sizeof(msg), "xyz.shop.lab", 60, 10));
	writer(out, sizeof(out), &m, &ins);
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 0, "its pointers would not hold");
}

Test(fill, broken_records_are_refused_before_use)
{
	make_fill("www.shop.lab", SHM_FILL_ANSWER, DNS_R_NOERROR, (const uint8_t *)"", 0);
	f.h.abi = SHM_ABI_VERSION + 1;
	cr_assert_neq(shm_fill_check(&f, 1), 0, "another ABI");
	f.h.abi = SHM_ABI_VERSION;
	f.c.worker = 1;
	cr_assert_neq(shm_fill_check(&f, 1), 0, "a worker the dataplane has not");
	f.c.worker = 0;
	f.msg_len = SHM_MSG_MAX + 1;
	cr_assert_neq(shm_fill_check(&f, 1), 0, "a length beyond the record");
	f.msg_len = 0;
	f.rank = 0;
	cr_assert_neq(shm_fill_check(&f, 1), 0, "no rank");
	f.rank = CACHE_RANK_AUTH_ANSWER;
	cr_assert_eq(shm_fill_check(&f, 1), 0);
}

Test(fill, a_stale_fill_without_a_message_answers_from_the_stale_entry_or_not_at_all)
{
	uint8_t msg[512] = { 0 }, out[1232], qbuf[SHM_QUERY_MAX];
	struct dns_msg m;
	struct dns_query q;
	int ins;

	make_fill("www.shop.lab", SHM_FILL_CACHE | SHM_FILL_ANSWER, DNS_R_NOERROR, msg,
		  answer_msg(msg, sizeof(msg), "www.shop.lab", 60, 10));
	writer(out, sizeof(out), &m, &ins);
	/* 100 s later the entry is stale and control says "serve it stale" */
	make_fill("WWW.shop.lab", SHM_FILL_ANSWER | SHM_FILL_STALE, DNS_R_NOERROR, msg, 0);
	cr_assert_eq(shm_fill_check(&f, 1), 0);
	cr_assert_eq(shm_client_query(&f.c, qbuf, &q), 0);
	size_t n = answer_resolved(cache, &q, NOW + 100, NULL, 0, DNS_R_NOERROR, true, false,
				   1232, out, sizeof(out));
	cr_assert_gt(n, 0, "the stale entry answers");
	cr_assert_eq(dns_msg_parse(&m, out, n), 0);
	cr_assert_eq(m.hdr.id, 0x4242);
	cr_assert_arr_eq(m.qname, f.c.qname, f.c.qname_len, "the client's letter case");
	cr_assert_eq(m.hdr.count[DNS_SEC_ANSWER], 1);
	/* a question the cache never held: nothing is sent */
	make_fill("none.shop.lab", SHM_FILL_ANSWER | SHM_FILL_STALE, DNS_R_NOERROR, msg, 0);
	cr_assert_eq(shm_client_query(&f.c, qbuf, &q), 0);
	cr_assert_eq(answer_resolved(cache, &q, NOW + 100, NULL, 0, DNS_R_NOERROR, true, false,
				     1232, out, sizeof(out)), 0);
}

Test(fill, a_tap_record_header_is_checked_against_its_length)
{
	static uint8_t buf[SHM_TAP_ELEM + SHM_TAP_MSG_MAX];
	struct shm_tap *r = (struct shm_tap *)buf;

	r->h = (struct shm_hdr){ SHM_REC_TAP, SHM_ABI_VERSION, sizeof(*r) + 40 };
	r->kind = SHM_TAP_CLIENT_QUERY | SHM_TAP_FOR_DNSTAP;
	r->family = 4;
	r->msg_len = 40;
	cr_assert_eq(shm_tap_check(r), 0);
	r->kind = SHM_TAP_CLIENT_QUERY | SHM_TAP_FOR_LOG;
	cr_assert_eq(shm_tap_check(r), 0, "a query for the query log");
	r->kind = SHM_TAP_CLIENT_QUERY | SHM_TAP_FOR_LOG | SHM_TAP_FOR_DNSTAP;
	cr_assert_eq(shm_tap_check(r), 0, "a query for both");
	r->kind = SHM_TAP_CLIENT_QUERY;
	cr_assert_neq(shm_tap_check(r), 0, "a query for no one");
	r->kind = SHM_TAP_CLIENT_RESPONSE | SHM_TAP_FOR_LOG;
	cr_assert_neq(shm_tap_check(r), 0, "a response for the query log");
	r->kind = SHM_TAP_CLIENT_QUERY | SHM_TAP_FOR_DNSTAP | 0x40;
	cr_assert_neq(shm_tap_check(r), 0, "an unknown bit");
	r->kind = SHM_TAP_CLIENT_RESPONSE | SHM_TAP_FOR_DNSTAP;
	r->family = 6;
	cr_assert_eq(shm_tap_check(r), 0);
	r->h.len = sizeof(*r) + 41;
	cr_assert_neq(shm_tap_check(r), 0, "a length that disagrees with msg_len");
	r->h.len = sizeof(*r) + SHM_TAP_MSG_MAX + 1;
	r->msg_len = SHM_TAP_MSG_MAX + 1;
	cr_assert_neq(shm_tap_check(r), 0, "a message longer than the reader's buffer");
	r->h.len = sizeof(*r) + 11;
	r->msg_len = 11;
	cr_assert_neq(shm_tap_check(r), 0, "shorter than a DNS header");
	r->h.len = sizeof(*r) + 40;
	r->msg_len = 40;
	r->kind = 3 | SHM_TAP_FOR_DNSTAP;
	cr_assert_neq(shm_tap_check(r), 0, "an unknown kind");
	r->kind = SHM_TAP_CLIENT_QUERY | SHM_TAP_FOR_DNSTAP;
	r->family = 5;
	cr_assert_neq(shm_tap_check(r), 0, "an unknown family");
	r->family = 4;
	r->h.type = SHM_REC_MISS;
	cr_assert_neq(shm_tap_check(r), 0, "another record type");
	r->h.type = SHM_REC_TAP;
	r->h.abi = SHM_ABI_VERSION - 1;
	cr_assert_neq(shm_tap_check(r), 0, "another ABI");
}
