/*
 * tests/control/test_xfr.c: zone transfers (control/xfr.h) and TSIG
 * (control/tsig.h). TSIG: a signed request verifies, and every octet
 * changed, another key, another algorithm or a clock off by more than the
 * fudge makes it fail; an answer's MAC covers the request's. The parser,
 * fed messages: an AXFR over several messages, an IXFR of several
 * differences, "nothing newer", and every way an answer can be corrupt
 * (a deletion of a record we do not hold, a broken serial chain, another
 * id, a refusal, records after the end, another class) fails it without
 * touching the version held. The client against a scripted primary on
 * 127.0.0.1 (a thread of the test): IXFR applied; a corrupt IXFR asked
 * again as AXFR; a corrupt IXFR with the AXFR refused leaves an error and
 * the version held; a primary that closes early; TSIG on both ends. The
 * copy on disk read back equals the set written.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "conf/config.h"
#include "control/err.h"
#include "control/tsig.h"
#include "control/xfr.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"

static const uint8_t origin[] = "\003rpz\001t";
static const struct ctl_xfr_limits lim = { 1000, 1 << 20 };

static const uint8_t *nm(const char *s)
{
	static uint8_t ring[16][DNS_NAME_MAX];
	static unsigned next;
	uint8_t *out = ring[next++ % 16];

	cr_assert(dns_name_from_str(s, out) > 0, "%s", s);
	return out;
}

/* A record in the tests' shorthand: "SOA 5", "CNAME a.rpz.t.", "A b.rpz.t."
 * (owner and an address derived from it). */
struct r {
	const char *owner;
	uint16_t type;
	uint32_t v;	/* SOA: serial; A: last octet */
	const char *target;	/* CNAME */
};

#define SOA(s) { "rpz.t.", DNS_T_SOA, (s), NULL }
#define CN(o) { (o), DNS_T_CNAME, 0, "." }
#define A(o, v) { (o), DNS_T_A, (v), NULL }

static size_t rdata_of(const struct r *r, uint8_t *rd)
{
	if (r->type == DNS_T_SOA) {
		size_t n = (size_t)dns_name_from_str("ns.rpz.t.", rd);
		n += (size_t)dns_name_from_str("h.rpz.t.", rd + n);
		uint32_t t[5] = { r->v, 5, 2, 600, 60 };
		for (int i = 0; i < 5; i++, n += 4)
			dns_put32(rd + n, t[i]);
		return n;
	}
	if (r->type == DNS_T_CNAME)
		return (size_t)dns_name_from_str(r->target, rd);
	rd[0] = 192;
	rd[1] = 0;
	rd[2] = 2;
	rd[3] = (uint8_t)r->v;
	return 4;
}

/* A message of the answer: id, question (q false: none), records. */
static size_t msg(uint8_t *out, size_t cap, uint16_t id, uint16_t qtype, bool q, uint16_t rcode,
		  const struct r *rs, size_t n)
{
	struct dns_builder b;
	uint8_t rd[512];

	cr_assert_eq(dns_builder_init(&b, out, cap, id, DNS_F_QR | DNS_F_AA | rcode), 0);
	if (q)
		cr_assert_eq(dns_builder_question(&b, origin, qtype, DNS_C_IN), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = rdata_of(&rs[i], rd);
		cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm(rs[i].owner), rs[i].type,
					    DNS_C_IN, 300, rd, len), 0);
	}
	return dns_builder_finish(&b);
}

/* The set's records as "owner type" lines, sorted, for comparisons. */
static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_text(const struct ctl_xfr_set *s, char *out, size_t cap)
{
	char *lines[64], name[DNS_NAME_MAX * 4];
	size_t pos = 0, n = 0;
	struct ctl_xfr_rec r;

	while (ctl_xfr_set_next(s, &pos, &r)) {
		cr_assert_lt(n, 64);
		cr_assert_geq(dns_name_to_str(r.owner, name, sizeof(name)), 0);
		lines[n] = malloc(1100);
		if (r.type == DNS_T_SOA)
			snprintf(lines[n], 1100, "%s SOA %u", name, dns_get32(r.rdata + r.rdlen - 20));
		else if (r.type == DNS_T_A)
			snprintf(lines[n], 1100, "%s A %u", name, r.rdata[3]);
		else
			snprintf(lines[n], 1100, "%s %u", name, r.type);
		n++;
	}
	cr_assert_eq(n, s->n);
	qsort(lines, n, sizeof(*lines), line_cmp);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		strncat(out, lines[i], cap - strlen(out) - 2);
		strcat(out, ";");
		free(lines[i]);
	}
}

/* Feeds the messages; returns the last result. */
struct m {
	uint8_t b[4096];
	size_t len;
};

static int feed(struct ctl_xfr_parse *p, struct m *ms, size_t n, char *why)
{
	int rc = CTL_XFR_MORE;

	for (size_t i = 0; i < n && rc == CTL_XFR_MORE; i++)
		rc = ctl_xfr_parse_msg(p, ms[i].b, ms[i].len, why, 256);
	return rc;
}

/* The version 1 zone, as a set (by an AXFR). */
static void version1(struct ctl_xfr_set *have)
{
	struct r rs[] = { SOA(1), CN("a.rpz.t."), CN("b.rpz.t."), A("c.rpz.t.", 1), SOA(1) };
	struct m m;
	char why[256];
	bool ixfr;
	unsigned diffs;

	m.len = msg(m.b, sizeof(m.b), 7, DNS_T_AXFR, true, 0, rs, 5);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 7, NULL, &lim);
	cr_assert_eq(feed(p, &m, 1, why), CTL_XFR_DONE, "%s", why);
	ctl_xfr_set_init(have);
	ctl_xfr_parse_result(p, have, &ixfr, &diffs);
	ctl_xfr_parse_free(p);
	cr_assert(!ixfr);
	cr_assert_eq(have->serial, 1);
}

Test(xfr, axfr_over_messages_and_duplicates)
{
	struct r m1[] = { SOA(9), CN("a.rpz.t."), CN("a.rpz.t.") };
	struct r m2[] = { A("c.rpz.t.", 3) };
	struct r m3[] = { A("c.rpz.t.", 4), SOA(9) };
	struct m ms[3];
	struct ctl_xfr_set out;
	char why[256], text[2048];
	bool ixfr;
	unsigned diffs;

	ms[0].len = msg(ms[0].b, 4096, 1, DNS_T_AXFR, true, 0, m1, 3);
	ms[1].len = msg(ms[1].b, 4096, 1, DNS_T_AXFR, false, 0, m2, 1);
	ms[2].len = msg(ms[2].b, 4096, 1, DNS_T_AXFR, true, 0, m3, 2);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 1, NULL, &lim);
	cr_assert_eq(feed(p, ms, 3, why), CTL_XFR_DONE, "%s", why);
	ctl_xfr_set_init(&out);
	ctl_xfr_parse_result(p, &out, &ixfr, &diffs);
	ctl_xfr_parse_free(p);
	set_text(&out, text, sizeof(text));
	cr_assert_str_eq(text, "a.rpz.t. 5;c.rpz.t. A 3;c.rpz.t. A 4;rpz.t. SOA 9;");
	ctl_xfr_set_fini(&out);
}

Test(xfr, ixfr_differences_applied)
{
	struct ctl_xfr_set have, out;
	char why[256], text[2048];
	bool ixfr;
	unsigned diffs;

	version1(&have);
	/* 1 -> 2: a gone, d added; 2 -> 3: c's address 1 becomes 5 */
	struct r rs[] = { SOA(3), SOA(1), CN("a.rpz.t."), SOA(2), CN("d.rpz.t."),
			  SOA(2), A("c.rpz.t.", 1), SOA(3), A("c.rpz.t.", 5), SOA(3) };
	struct m m;
	m.len = msg(m.b, sizeof(m.b), 3, DNS_T_IXFR, true, 0, rs, 10);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 3, &have, &lim);
	cr_assert_eq(feed(p, &m, 1, why), CTL_XFR_DONE, "%s", why);
	ctl_xfr_set_init(&out);
	ctl_xfr_parse_result(p, &out, &ixfr, &diffs);
	ctl_xfr_parse_free(p);
	cr_assert(ixfr);
	cr_assert_eq(diffs, 2);
	cr_assert_eq(out.serial, 3);
	set_text(&out, text, sizeof(text));
	cr_assert_str_eq(text, "b.rpz.t. 5;c.rpz.t. A 5;d.rpz.t. 5;rpz.t. SOA 3;");
	/* the version held is untouched */
	set_text(&have, text, sizeof(text));
	cr_assert_str_eq(text, "a.rpz.t. 5;b.rpz.t. 5;c.rpz.t. A 1;rpz.t. SOA 1;");
	ctl_xfr_set_fini(&out);
	ctl_xfr_set_fini(&have);
}

Test(xfr, ixfr_nothing_newer_and_answered_whole)
{
	struct ctl_xfr_set have, out;
	char why[256], text[2048];
	bool ixfr;
	unsigned diffs;
	struct m m;

	version1(&have);
	struct r cur[] = { SOA(1) };
	m.len = msg(m.b, sizeof(m.b), 4, DNS_T_IXFR, true, 0, cur, 1);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 4, &have, &lim);
	cr_assert_eq(feed(p, &m, 1, why), CTL_XFR_CURRENT, "%s", why);
	ctl_xfr_parse_free(p);
	/* a primary that went back to serial 0: we keep ours */
	struct r back[] = { SOA(0) };
	m.len = msg(m.b, sizeof(m.b), 4, DNS_T_IXFR, true, 0, back, 1);
	p = ctl_xfr_parse_new(origin, 4, &have, &lim);
	cr_assert_eq(feed(p, &m, 1, why), CTL_XFR_CURRENT, "%s", why);
	ctl_xfr_parse_free(p);
	/* an IXFR answered with the whole zone */
	struct r whole[] = { SOA(8), CN("z.rpz.t."), SOA(8) };
	m.len = msg(m.b, sizeof(m.b), 4, DNS_T_IXFR, true, 0, whole, 3);
	p = ctl_xfr_parse_new(origin, 4, &have, &lim);
	cr_assert_eq(feed(p, &m, 1, why), CTL_XFR_DONE, "%s", why);
	ctl_xfr_set_init(&out);
	ctl_xfr_parse_result(p, &out, &ixfr, &diffs);
	ctl_xfr_parse_free(p);
	cr_assert(!ixfr);
	set_text(&out, text, sizeof(text));
	cr_assert_str_eq(text, "rpz.t. SOA 8;z.rpz.t. 5;");
	ctl_xfr_set_fini(&out);
	ctl_xfr_set_fini(&have);
}

/* Each corrupt answer fails with CTL_E_XFR and why containing what. */
static void corrupt(const struct ctl_xfr_set *have, uint16_t id, uint16_t qtype, bool q,
		    uint16_t rcode, const struct r *rs, size_t n, const char *what)
{
	struct m m;
	char why[256] = "";

	m.len = msg(m.b, sizeof(m.b), id, qtype, q, rcode, rs, n);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 5, have, &lim);
	int rc = feed(p, &m, 1, why);
	cr_assert_eq(rc, CTL_E_XFR, "%s: rc %d (%s)", what, rc, why);
	cr_assert(strstr(why, what), "expected \"%s\" in \"%s\"", what, why);
	/* and it takes nothing more */
	cr_assert_eq(ctl_xfr_parse_msg(p, m.b, m.len, why, sizeof(why)), CTL_E_XFR);
	ctl_xfr_parse_free(p);
}

Test(xfr, corrupt_answers_fail)
{
	struct ctl_xfr_set have;
	char text[2048];

	version1(&have);
	struct r del_missing[] = { SOA(2), SOA(1), CN("nothere.rpz.t."), SOA(2), SOA(2) };
	corrupt(&have, 5, DNS_T_IXFR, true, 0, del_missing, 5, "which serial 1 does not hold");
	struct r from_other[] = { SOA(3), SOA(2), CN("a.rpz.t."), SOA(3), SOA(3) };
	corrupt(&have, 5, DNS_T_IXFR, true, 0, from_other, 5, "a second, different SOA");
	struct r chain[] = { SOA(4), SOA(1), SOA(2), SOA(3), SOA(4), SOA(4) };
	corrupt(&have, 5, DNS_T_IXFR, true, 0, chain, 6, "follows the one to 2");
	struct r backwards[] = { SOA(4), SOA(1), SOA(1), SOA(4) };
	corrupt(&have, 5, DNS_T_IXFR, true, 0, backwards, 4, "from serial 1 to 1");
	struct r after[] = { SOA(6), CN("x.rpz.t."), SOA(6), CN("y.rpz.t.") };
	corrupt(NULL, 5, DNS_T_AXFR, true, 0, after, 4, "after the final SOA");
	struct r ok[] = { SOA(6), SOA(6) };
	corrupt(NULL, 6, DNS_T_AXFR, true, 0, ok, 2, "not an answer to our query");
	corrupt(NULL, 5, DNS_T_AXFR, true, DNS_R_REFUSED, NULL, 0, "REFUSED");
	corrupt(NULL, 5, DNS_T_AXFR, false, 0, ok, 2, "no question");
	corrupt(NULL, 5, DNS_T_IXFR, true, 0, ok, 2, "the question is not ours");
	struct r nosoa[] = { CN("x.rpz.t."), SOA(6) };
	corrupt(NULL, 5, DNS_T_AXFR, true, 0, nosoa, 2, "does not start with the zone's SOA");
	set_text(&have, text, sizeof(text));
	cr_assert_str_eq(text, "a.rpz.t. 5;b.rpz.t. 5;c.rpz.t. A 1;rpz.t. SOA 1;");
	ctl_xfr_set_fini(&have);
}

Test(xfr, limits)
{
	static const struct ctl_xfr_limits small = { 3, 1 << 20 };
	struct r rs[] = { SOA(1), CN("a.rpz.t."), CN("b.rpz.t."), CN("c.rpz.t."), SOA(1) };
	struct m m;
	char why[256];

	m.len = msg(m.b, sizeof(m.b), 1, DNS_T_AXFR, true, 0, rs, 5);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 1, NULL, &small);
	cr_assert_eq(feed(p, &m, 1, why), CTL_E_XFR);
	cr_assert(strstr(why, "exceeds 3 records"), "%s", why);
	ctl_xfr_parse_free(p);
}

/* An IXFR that deletes and adds the same record again and again: what the
 * deletions leave behind counts against the limits, so it ends with an
 * error (and the working copy's table is rebuilt on the way, or this test
 * would take minutes). */
Test(xfr, endless_differences_hit_the_limit)
{
	static const struct ctl_xfr_limits small = { 1000, 1 << 20 };
	struct ctl_xfr_set have;
	struct m m;
	char why[256] = "";
	int rc = CTL_XFR_MORE;

	version1(&have);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 3, &have, &small);
	uint32_t serial = 1;
	for (unsigned k = 0; k < 100000 && rc == CTL_XFR_MORE; k++) {
		/* each message: 40 differences serial -> serial + 1, deleting
		 * and adding b.rpz.t (the first message opens with the new
		 * SOA, which is never reached) */
		struct r rs[1 + 4 * 40];
		size_t n = 0;
		if (k == 0)
			rs[n++] = (struct r)SOA(0x7fffffff);
		for (int d = 0; d < 40; d++, serial++) {
			rs[n++] = (struct r)SOA(serial);
			rs[n++] = (struct r)CN("b.rpz.t.");
			rs[n++] = (struct r)SOA(serial + 1);
			rs[n++] = (struct r)CN("b.rpz.t.");
		}
		m.len = msg(m.b, sizeof(m.b), 3, DNS_T_IXFR, k == 0, 0, rs, n);
		rc = ctl_xfr_parse_msg(p, m.b, m.len, why, sizeof(why));
	}
	cr_assert_eq(rc, CTL_E_XFR, "rc %d after serial %u", rc, serial);
	cr_assert(strstr(why, "exceeds"), "%s", why);
	ctl_xfr_parse_free(p);
	ctl_xfr_set_fini(&have);
}

Test(xfr, copy_on_disk_round_trip)
{
	struct ctl_xfr_set have, back;
	char path[] = "/tmp/bw-test-xfr-XXXXXX", why[256], t1[2048], t2[2048];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	version1(&have);
	cr_assert_eq(ctl_xfr_set_write(&have, path, why, sizeof(why)), 0, "%s", why);
	ctl_xfr_set_init(&back);
	cr_assert_eq(ctl_xfr_set_read(&back, path, origin, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(back.serial, 1);
	set_text(&have, t1, sizeof(t1));
	set_text(&back, t2, sizeof(t2));
	cr_assert_str_eq(t1, t2);
	cr_assert_eq(back.len, have.len);
	cr_assert_eq(memcmp(back.buf, have.buf, have.len), 0);
	/* TXT with quotes, a backslash and a non-ASCII octet, AAAA, a type
	 * without a presentation form here: back octet for octet */
	static const uint8_t txt[] = { 10, 'a', ' ', '"', 'q', '"', ' ', '\\', ' ', 0xe9, 'b' };
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t odd[3] = { 1, 2, 3 };
	struct dns_builder b;
	uint8_t m[4096], rd[512];
	struct r soa = SOA(4);
	size_t sl = rdata_of(&soa, rd);
	cr_assert_eq(dns_builder_init(&b, m, sizeof(m), 9, DNS_F_QR), 0);
	cr_assert_eq(dns_builder_question(&b, origin, DNS_T_AXFR, DNS_C_IN), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, origin, DNS_T_SOA, DNS_C_IN, 300, rd, sl), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("t.rpz.t."), DNS_T_TXT, DNS_C_IN, 60,
				    txt, sizeof(txt)), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("t.rpz.t."), DNS_T_AAAA, DNS_C_IN, 60,
				    aaaa, 16), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, nm("t.rpz.t."), 65280, DNS_C_IN, 60,
				    odd, 3), 0);
	cr_assert_eq(dns_builder_rr(&b, DNS_SEC_ANSWER, origin, DNS_T_SOA, DNS_C_IN, 300, rd, sl), 0);
	size_t ml = dns_builder_finish(&b);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, 9, NULL, &lim);
	struct ctl_xfr_set odd_set;
	bool ixfr;
	unsigned diffs;
	cr_assert_eq(ctl_xfr_parse_msg(p, m, ml, why, sizeof(why)), CTL_XFR_DONE, "%s", why);
	ctl_xfr_set_init(&odd_set);
	ctl_xfr_parse_result(p, &odd_set, &ixfr, &diffs);
	ctl_xfr_parse_free(p);
	cr_assert_eq(ctl_xfr_set_write(&odd_set, path, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ctl_xfr_set_read(&back, path, origin, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(back.len, odd_set.len);
	cr_assert_eq(memcmp(back.buf, odd_set.buf, odd_set.len), 0);
	ctl_xfr_set_fini(&odd_set);
	/* a file without an SOA is no copy */
	FILE *f = fopen(path, "w");
	fprintf(f, "a.rpz.t. 300 IN CNAME .\n");
	fclose(f);
	cr_assert_eq(ctl_xfr_set_read(&back, path, origin, why, sizeof(why)), CTL_E_XFR);
	cr_assert(strstr(why, "0 SOA records"), "%s", why);
	unlink(path);
	ctl_xfr_set_fini(&have);
	ctl_xfr_set_fini(&back);
}

/* --- TSIG ---------------------------------------------------------------- */

static void key(struct ctl_tsig_key *k, const char *name, uint8_t alg, uint8_t fill)
{
	struct cfg_tsig c = { .alg = alg, .secret_len = 32 };

	snprintf(c.name, sizeof(c.name), "%s", name);
	memset(c.secret, fill, 32);
	cr_assert_eq(ctl_tsig_key_init(k, &c), 0);
}

static size_t query(uint8_t *buf, size_t cap, uint16_t id)
{
	struct dns_builder b;

	cr_assert_eq(dns_builder_init(&b, buf, cap, id, DNS_OP_NOTIFY << DNS_F_OPCODE_SHIFT), 0);
	cr_assert_eq(dns_builder_question(&b, origin, DNS_T_SOA, DNS_C_IN), 0);
	return dns_builder_finish(&b);
}

Test(tsig, request_verifies_and_every_octet_counts)
{
	struct ctl_tsig_key k, other, sha1;
	uint8_t buf[1024], mac[CTL_TSIG_MAC_MAX];
	struct ctl_tsig_request rq;
	char why[256];
	uint64_t now = (uint64_t)time(NULL);

	key(&k, "xfr.key", CFG_TSIG_HMAC_SHA256, 7);
	key(&other, "xfr.key", CFG_TSIG_HMAC_SHA256, 8);
	key(&sha1, "xfr.key", CFG_TSIG_HMAC_SHA1, 7);
	size_t len = query(buf, sizeof(buf), 4242);
	int n = ctl_tsig_sign(&k, buf, len, sizeof(buf), NULL, 0, now, 0, mac);
	cr_assert_gt(n, (int)len);
	cr_assert_eq(dns_get16(buf + 10), 1);
	cr_assert_eq(ctl_tsig_check_request(&k, buf, (size_t)n, now, &rq, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(rq.mac_len, 32);
	cr_assert_eq(memcmp(mac, rq.mac, 32), 0);
	cr_assert_eq(rq.error, 0);
	cr_assert_eq(ctl_tsig_check_request(&other, buf, (size_t)n, now, &rq, why,
					    sizeof(why)), CTL_E_TSIG);
	cr_assert(strstr(why, "BADSIG"), "%s", why);
	cr_assert_eq(rq.error, CTL_TSIG_BADSIG);
	cr_assert_eq(ctl_tsig_check_request(&sha1, buf, (size_t)n, now, &rq, why,
					    sizeof(why)), CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADKEY);
	cr_assert_eq(ctl_tsig_check_request(&k, buf, (size_t)n, now + 301, &rq, why,
					    sizeof(why)), CTL_E_TSIG);
	cr_assert(strstr(why, "BADTIME"), "%s", why);
	cr_assert_eq(rq.error, CTL_TSIG_BADTIME);
	/* one changed octet anywhere (the MAC's own octets: a wrong MAC all
	 * the same); not the id, which the MAC does not cover (the TSIG
	 * record's original id stands for it, RFC 8945 4.3.1), nor ARCOUNT
	 * (then there is no TSIG to find) */
	for (size_t i = 2; i < (size_t)n; i++) {
		if (i == 10 || i == 11)
			continue;
		uint8_t save = buf[i];
		buf[i] ^= 0x01; /* not 0x20: letter case in names does not count */
		int r = ctl_tsig_check_request(&k, buf, (size_t)n, now, &rq, why, sizeof(why));
		buf[i] = save;
		cr_assert_neq(r, 0, "octet %zu changed and still verified", i);
	}
	/* unsigned */
	cr_assert_eq(ctl_tsig_check_request(&k, buf, len, now, &rq, why, sizeof(why)),
		     CTL_E_TSIG);
	cr_assert(!rq.signed_ && rq.error == 0);
}

/* The answer's header (NOTAUTH) and question, as secondary.c writes it. */
static size_t notauth(uint8_t *buf, size_t cap, uint16_t id)
{
	struct dns_builder b;

	cr_assert_eq(dns_builder_init(&b, buf, cap, id,
				      DNS_F_QR | DNS_F_AA | DNS_OP_NOTIFY << DNS_F_OPCODE_SHIFT |
					      DNS_R_NOTAUTH),
		     0);
	cr_assert_eq(dns_builder_question(&b, origin, DNS_T_SOA, DNS_C_IN), 0);
	return dns_builder_finish(&b);
}

/* A signed message's MAC cut to keep octets (the record's sizes fixed):
 * the new length. */
static size_t cut_mac(uint8_t *msg, size_t len, size_t keep)
{
	struct ctl_tsig_rr t;

	cr_assert_eq(ctl_tsig_find(msg, len, &t), 1);
	cr_assert_leq(keep, t.mac_len);
	size_t at = (size_t)(t.mac - msg), gone = t.mac_len - keep;
	uint8_t *rdlen = msg + t.off + t.name_len + 8;
	memmove(msg + at + keep, msg + at + t.mac_len, len - at - t.mac_len);
	dns_put16(msg + at - 2, (uint16_t)keep);
	dns_put16(rdlen, (uint16_t)(dns_get16(rdlen) - gone));
	return len - gone;
}

/* RFC 8945 5.2.2.1 and 5.2.4: a MAC cut to half the hash or more is
 * compared as far as it goes (BADSIG when wrong), and one that verifies
 * is refused as BADTRUNC (full-length MACs only) with a signed answer; a
 * MAC shorter than that, or longer than the hash, is a format error. A
 * zone without a key takes unsigned requests and refuses signed ones
 * (BADKEY). */
Test(tsig, truncated_macs_and_no_key)
{
	struct ctl_tsig_key k;
	struct ctl_tsig_request rq;
	struct ctl_tsig_rr t;
	uint8_t req[1024], ans[1024];
	char why[256];
	uint64_t now = (uint64_t)time(NULL);

	key(&k, "xfr.key", CFG_TSIG_HMAC_SHA256, 7);
	size_t ql = query(req, sizeof(req), 77);
	int n = ctl_tsig_sign(&k, req, ql, sizeof(req), NULL, 0, now, 0, NULL);
	cr_assert_gt(n, 0);
	uint8_t cut[1024];
	/* 16 octets of a right MAC: BADTRUNC, answered signed */
	memcpy(cut, req, (size_t)n);
	size_t cl = cut_mac(cut, (size_t)n, 16);
	cr_assert_eq(ctl_tsig_check_request(&k, cut, cl, now, &rq, why, sizeof(why)), CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADTRUNC, "%s", why);
	cr_assert_eq(rq.mac_len, 16);
	size_t al = notauth(ans, sizeof(ans), 77);
	int m = ctl_tsig_answer_error(&k, &rq, ans, al, sizeof(ans), now);
	cr_assert_gt(m, (int)al);
	cr_assert_eq(ctl_tsig_find(ans, (size_t)m, &t), 1);
	cr_assert_eq(t.error, CTL_TSIG_BADTRUNC);
	cr_assert_eq(t.mac_len, 32, "signed");
	/* ... a cut MAC that is wrong: BADSIG; one of 15 octets or of 33: a
	 * format error */
	cut[cl - 7 - 2] ^= 1; /* the MAC's last octet (before id, error, other length) */
	cr_assert_eq(ctl_tsig_check_request(&k, cut, cl, now, &rq, why, sizeof(why)), CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADSIG, "%s", why);
	memcpy(cut, req, (size_t)n);
	cl = cut_mac(cut, (size_t)n, 15);
	cr_assert_eq(ctl_tsig_check_request(&k, cut, cl, now, &rq, why, sizeof(why)), CTL_E_TSIG);
	cr_assert(rq.formerr && rq.error == 0, "%s", why);
	struct ctl_tsig_key sha512;
	key(&sha512, "xfr.key", CFG_TSIG_HMAC_SHA512, 7);
	ql = query(req, sizeof(req), 77);
	n = ctl_tsig_sign(&sha512, req, ql, sizeof(req), NULL, 0, now, 0, NULL);
	cr_assert_eq(ctl_tsig_check_request(&k, req, (size_t)n, now, &rq, why, sizeof(why)),
		     CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADKEY, "another algorithm first: %s", why);
	/* no key here: unsigned taken, signed refused */
	uint8_t plain[512];
	size_t pl = query(plain, sizeof(plain), 77);
	cr_assert_eq(ctl_tsig_check_request(NULL, plain, pl, now, &rq, why, sizeof(why)), 0);
	cr_assert(!rq.signed_);
	cr_assert_eq(ctl_tsig_check_request(NULL, req, (size_t)n, now, &rq, why, sizeof(why)),
		     CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADKEY, "%s", why);
	al = notauth(ans, sizeof(ans), 77);
	m = ctl_tsig_answer_error(NULL, &rq, ans, al, sizeof(ans), now);
	cr_assert_eq(ctl_tsig_find(ans, (size_t)m, &t), 1);
	cr_assert(t.error == CTL_TSIG_BADKEY && t.mac_len == 0);
}

/* RFC 8945 5.3.2: BADSIG and BADKEY answered with an unsigned TSIG record
 * (the request's key name, algorithm and time, no MAC), BADTIME with a
 * signed one (the request's MAC before the answer, the request's time,
 * our clock as other data), checked here against an HMAC of our own. */
Test(tsig, error_answers_carry_the_error)
{
	struct ctl_tsig_key k, other, sha1;
	struct ctl_tsig_request rq;
	struct ctl_tsig_rr t;
	uint8_t req[1024], ans[1024], mac[CTL_TSIG_MAC_MAX];
	char why[256];
	uint64_t now = (uint64_t)time(NULL);

	key(&k, "xfr.key", CFG_TSIG_HMAC_SHA256, 7);
	key(&other, "xfr.key", CFG_TSIG_HMAC_SHA256, 8);
	key(&sha1, "xfr.key", CFG_TSIG_HMAC_SHA1, 7);
	int n = ctl_tsig_sign(&k, req, query(req, sizeof(req), 99), sizeof(req), NULL, 0, now, 0,
			      mac);
	cr_assert_gt(n, 0);
	/* BADSIG (another secret), BADKEY (another algorithm): unsigned */
	const struct ctl_tsig_key *theirs[] = { &other, &sha1 };
	const uint16_t want[] = { CTL_TSIG_BADSIG, CTL_TSIG_BADKEY };
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(ctl_tsig_check_request(theirs[i], req, (size_t)n, now, &rq, why,
						    sizeof(why)), CTL_E_TSIG);
		cr_assert_eq(rq.error, want[i], "%s", why);
		size_t al = notauth(ans, sizeof(ans), 99);
		int m = ctl_tsig_answer_error(theirs[i], &rq, ans, al, sizeof(ans), now + 5);
		cr_assert_gt(m, (int)al);
		cr_assert_eq(ctl_tsig_find(ans, (size_t)m, &t), 1);
		cr_assert_eq(t.error, want[i]);
		cr_assert_eq(t.mac_len, 0);
		cr_assert_eq(t.time, now, "the request's time");
		cr_assert_eq(t.orig_id, 99);
		cr_assert_eq(t.other_len, 0);
		cr_assert(t.alg_len == k.alg_len && !memcmp(t.alg, k.alg, k.alg_len),
			  "the request's algorithm");
		cr_assert(t.name_len == k.name_len && !memcmp(t.name, k.name, k.name_len));
		cr_assert_eq(dns_get16(ans + 10), 1);
	}
	/* BADTIME: 301 s later by our clock; signed */
	cr_assert_eq(ctl_tsig_check_request(&k, req, (size_t)n, now + 301, &rq, why, sizeof(why)),
		     CTL_E_TSIG);
	cr_assert_eq(rq.error, CTL_TSIG_BADTIME, "%s", why);
	size_t al = notauth(ans, sizeof(ans), 99);
	int m = ctl_tsig_answer_error(&k, &rq, ans, al, sizeof(ans), now + 301);
	cr_assert_gt(m, (int)al);
	cr_assert_eq(ctl_tsig_find(ans, (size_t)m, &t), 1);
	cr_assert_eq(t.error, CTL_TSIG_BADTIME);
	cr_assert_eq(t.time, now, "the request's time signed");
	cr_assert_eq(t.other_len, 6);
	uint64_t ours = 0;
	for (int i = 0; i < 6; i++)
		ours = ours << 8 | t.other[i];
	cr_assert_eq(ours, now + 301, "our clock as other data");
	cr_assert_eq(t.mac_len, 32);
	/* the MAC: request MAC (length, octets), the answer without its
	 * TSIG record (ARCOUNT 0), the variables with the other data */
	uint8_t in[2048], h[32];
	size_t o = 0;
	in[o++] = 0;
	in[o++] = 32;
	memcpy(in + o, mac, 32);
	o += 32;
	memcpy(in + o, ans, al);
	in[o + 10] = in[o + 11] = 0;
	o += al;
	memcpy(in + o, k.name, k.name_len);
	o += k.name_len;
	memcpy(in + o, (const uint8_t[]){ 0, 255, 0, 0, 0, 0 }, 6);
	o += 6;
	memcpy(in + o, k.alg, k.alg_len);
	o += k.alg_len;
	for (int i = 0; i < 6; i++)
		in[o++] = (uint8_t)(now >> (8 * (5 - i)));
	memcpy(in + o, (const uint8_t[]){ 300 >> 8, 300 & 255, 0, CTL_TSIG_BADTIME, 0, 6 }, 6);
	o += 6;
	memcpy(in + o, t.other, 6);
	o += 6;
	size_t hl = 0;
	cr_assert_not_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k.secret, k.secret_len, in,
				     o, h, sizeof(h), &hl));
	cr_assert_eq(hl, 32);
	cr_assert_eq(memcmp(h, t.mac, 32), 0, "the BADTIME answer's MAC");
}

Test(tsig, answer_covers_the_request_mac)
{
	struct ctl_tsig_key k;
	uint8_t q[1024], a[1024], mac[CTL_TSIG_MAC_MAX], wrong[CTL_TSIG_MAC_MAX];
	char why[256];
	uint64_t now = (uint64_t)time(NULL);
	struct ctl_tsig_verify v;

	key(&k, "xfr.key", CFG_TSIG_HMAC_SHA512, 3);
	size_t len = query(q, sizeof(q), 99);
	cr_assert_gt(ctl_tsig_sign(&k, q, len, sizeof(q), NULL, 0, now, 0, mac), 0);
	struct r rs[] = { SOA(1), SOA(1) };
	size_t al = msg(a, sizeof(a), 99, DNS_T_AXFR, true, 0, rs, 2);
	int n = ctl_tsig_sign(&k, a, al, sizeof(a), mac, 64, now, 0, NULL);
	cr_assert_gt(n, 0);
	ctl_tsig_verify_init(&v, &k, 99, mac);
	cr_assert_eq(ctl_tsig_verify_msg(&v, a, (size_t)n, now, why, sizeof(why)), 0, "%s", why);
	cr_assert(v.ok_last);
	ctl_tsig_verify_fini(&v);
	/* against another request's MAC */
	memcpy(wrong, mac, 64);
	wrong[0] ^= 1;
	ctl_tsig_verify_init(&v, &k, 99, wrong);
	cr_assert_eq(ctl_tsig_verify_msg(&v, a, (size_t)n, now, why, sizeof(why)), CTL_E_TSIG);
	ctl_tsig_verify_fini(&v);
	/* an unsigned first answer */
	al = msg(a, sizeof(a), 99, DNS_T_AXFR, true, 0, rs, 2);
	ctl_tsig_verify_init(&v, &k, 99, mac);
	cr_assert_eq(ctl_tsig_verify_msg(&v, a, al, now, why, sizeof(why)), CTL_E_TSIG);
	cr_assert(strstr(why, "not signed"), "%s", why);
	ctl_tsig_verify_fini(&v);
}

/* --- the client against a scripted primary -------------------------------- */

/* The primary answers each connection with the next script: a function of
 * the query that writes the answer's messages. */
struct primary {
	int lfd;
	uint16_t port;
	int scripts;			/* connections to serve */
	void (*script[4])(int fd, const uint8_t *q, size_t qlen);
	uint16_t qtypes[4];		/* what each connection asked */
};

static void send_msg(int fd, const uint8_t *m, size_t len)
{
	uint8_t l[2];

	dns_put16(l, (uint16_t)len);
	cr_assert_eq(send(fd, l, 2, MSG_NOSIGNAL), 2);
	cr_assert_eq(send(fd, m, len, MSG_NOSIGNAL), (ssize_t)len);
}

static bool read_all(int fd, uint8_t *b, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = recv(fd, b + done, len - done, 0);
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void *primary_run(void *arg)
{
	struct primary *p = arg;

	for (int i = 0; i < p->scripts; i++) {
		int fd = accept(p->lfd, NULL, NULL);
		uint8_t l[2], q[1024];
		if (fd < 0)
			break;
		if (read_all(fd, l, 2) && dns_get16(l) <= sizeof(q) && read_all(fd, q, dns_get16(l))) {
			struct dns_msg m;
			if (!dns_msg_parse(&m, q, dns_get16(l)))
				p->qtypes[i] = m.qtype;
			p->script[i](fd, q, dns_get16(l));
		}
		close(fd);
	}
	return NULL;
}

static void primary_start(struct primary *p, pthread_t *th)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);

	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(p->lfd, 0);
	cr_assert_eq(bind(p->lfd, (struct sockaddr *)&sin, sl), 0);
	cr_assert_eq(listen(p->lfd, 4), 0);
	cr_assert_eq(getsockname(p->lfd, (struct sockaddr *)&sin, &sl), 0);
	p->port = ntohs(sin.sin_port);
	cr_assert_eq(pthread_create(th, NULL, primary_run, p), 0);
}

static void request(struct ctl_xfr_req *req, const struct primary *p)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&req->primary;

	ctl_xfr_req_default(req);
	req->origin = origin;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(p->port);
	req->primary_len = sizeof(*sin);
	req->idle_ms = 2000;
	req->timeout_ms = 5000;
}

static void answer(int fd, const uint8_t *q, size_t qlen, const struct r *rs, size_t n,
		   uint16_t rcode)
{
	uint8_t m[4096];
	struct dns_msg qm;

	cr_assert_eq(dns_msg_parse(&qm, q, qlen), 0);
	size_t len = msg(m, sizeof(m), qm.hdr.id, qm.qtype, true, rcode, rs, n);
	send_msg(fd, m, len);
}

static void s_corrupt_ixfr(int fd, const uint8_t *q, size_t len)
{
		struct r rs[] = { SOA(2), SOA(1), CN("nothere.rpz.t."), SOA(2), SOA(2) };
	answer(fd, q, len, rs, 5, 0);
}

static void s_axfr_v2(int fd, const uint8_t *q, size_t len)
{
		struct r rs[] = { SOA(2), CN("new.rpz.t."), SOA(2) };
	answer(fd, q, len, rs, 3, 0);
}

static void s_refused(int fd, const uint8_t *q, size_t len)
{
	(void)len;
	answer(fd, q, len, NULL, 0, DNS_R_REFUSED);
}

static void s_ixfr_ok(int fd, const uint8_t *q, size_t len)
{
		struct r rs[] = { SOA(2), SOA(1), CN("b.rpz.t."), SOA(2), CN("e.rpz.t."), SOA(2) };
	answer(fd, q, len, rs, 6, 0);
}

static void s_early_close(int fd, const uint8_t *q, size_t len)
{
		struct r rs[] = { SOA(2), CN("new.rpz.t.") };
	answer(fd, q, len, rs, 2, 0);
}

static int fetch(struct primary *p, const struct ctl_xfr_set *have, struct ctl_xfr_set *out,
		 struct ctl_xfr_info *info, char *why)
{
	pthread_t th;
	struct ctl_xfr_req req;

	primary_start(p, &th);
	request(&req, p);
	int rc = ctl_xfr_fetch(&req, have, out, info, why, 256);
	shutdown(p->lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(p->lfd);
	return rc;
}

Test(xfr_client, ixfr_applied)
{
	struct primary p = { .scripts = 1, .script = { s_ixfr_ok } };
	struct ctl_xfr_set have, out;
	struct ctl_xfr_info info;
	char why[256] = "", text[2048];

	version1(&have);
	ctl_xfr_set_init(&out);
	cr_assert_eq(fetch(&p, &have, &out, &info, why), CTL_XFR_DONE, "%s", why);
	cr_assert_eq(p.qtypes[0], DNS_T_IXFR);
	cr_assert(info.ixfr && !info.fell_back);
	set_text(&out, text, sizeof(text));
	cr_assert_str_eq(text, "a.rpz.t. 5;c.rpz.t. A 1;e.rpz.t. 5;rpz.t. SOA 2;");
	ctl_xfr_set_fini(&out);
	ctl_xfr_set_fini(&have);
}

Test(xfr_client, corrupt_ixfr_falls_back_to_axfr)
{
	struct primary p = { .scripts = 2, .script = { s_corrupt_ixfr, s_axfr_v2 } };
	struct ctl_xfr_set have, out;
	struct ctl_xfr_info info;
	char why[256] = "", text[2048];

	version1(&have);
	ctl_xfr_set_init(&out);
	cr_assert_eq(fetch(&p, &have, &out, &info, why), CTL_XFR_DONE, "%s", why);
	cr_assert_eq(p.qtypes[0], DNS_T_IXFR);
	cr_assert_eq(p.qtypes[1], DNS_T_AXFR);
	cr_assert(info.fell_back && !info.ixfr);
	cr_assert(strstr(info.ixfr_error, "does not hold"), "%s", info.ixfr_error);
	set_text(&out, text, sizeof(text));
	cr_assert_str_eq(text, "new.rpz.t. 5;rpz.t. SOA 2;");
	ctl_xfr_set_fini(&out);
	ctl_xfr_set_fini(&have);
}

Test(xfr_client, corrupt_ixfr_and_refused_axfr_change_nothing)
{
	struct primary p = { .scripts = 2, .script = { s_corrupt_ixfr, s_refused } };
	struct ctl_xfr_set have, out;
	struct ctl_xfr_info info;
	char why[256] = "";

	version1(&have);
	ctl_xfr_set_init(&out);
	cr_assert_eq(fetch(&p, &have, &out, &info, why), CTL_E_XFR);
	cr_assert(strstr(why, "REFUSED"), "%s", why);
	cr_assert(!out.have);
	cr_assert_eq(have.serial, 1);
	ctl_xfr_set_fini(&have);
}

Test(xfr_client, primary_closes_early)
{
	struct primary p = { .scripts = 1, .script = { s_early_close } };
	struct ctl_xfr_set out;
	struct ctl_xfr_info info;
	char why[256] = "";

	ctl_xfr_set_init(&out);
	cr_assert_eq(fetch(&p, NULL, &out, &info, why), CTL_E_XFR);
	cr_assert(strstr(why, "closed the connection early"), "%s", why);
	cr_assert(!out.have);
}
