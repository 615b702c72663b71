/*
 * tests/fuzz/fuzz_msg.c: libFuzzer target for the message parsers, the
 * untrusted input of every packet and upstream answer. Beyond "no crash, no
 * sanitizer report" it checks properties on every input:
 * - the worker's query parser agrees with the general parser (same verdict
 *   unless it turns the message away for its shape; same fields on success);
 * - each record's RDATA unpacks and prints, and rebuilding the message with
 *   the builder from the unpacked records gives a message that parses back
 *   to the same question and records (owner, type, class, TTL, RDATA).
 */
#include <stdio.h>
#include <stdlib.h>

#include "dns/build.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_msg: property failed: %s\n", what);
		abort();
	}
}

static uint8_t rdata[DNS_MSG_MAX];
static uint8_t out[DNS_MSG_MAX];
static char text[1 << 20];

/*
 * The builder compresses names case-insensitively, so names in NS, CNAME,
 * SOA, PTR and MX RDATA may come back in another letter case: compare those
 * names ignoring case and everything else exactly.
 */
static bool same_rdata(uint16_t type, const uint8_t *a, int na,
		       const uint8_t *b, int nb)
{
	size_t p = 0;

	if (na != nb)
		return false;
	if (!dns_type_compressible(type))
		return memcmp(a, b, (size_t)na) == 0;
	if (type == DNS_T_MX) {
		if (memcmp(a, b, 2) != 0)
			return false;
		p = 2;
	}
	for (int names = type == DNS_T_SOA ? 2 : 1; names > 0; names--) {
		if (!dns_name_equal(a + p, b + p))
			return false;
		p += dns_name_len(a + p);
	}
	return memcmp(a + p, b + p, (size_t)na - p) == 0;
}

static void rebuild(const struct dns_msg *m)
{
	struct dns_builder b;
	struct dns_msg again;
	struct dns_rr_iter it, it2;
	struct dns_rr rr, rr2;
	int n, r;

	dns_builder_init(&b, out, sizeof(out), m->hdr.id,
			 m->hdr.flags & (uint16_t)~DNS_F_TC);
	if (m->qname_len)
		check(dns_builder_question(&b, m->qname, m->qtype, m->qclass) == 0,
		      "question rebuilds");
	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	while ((r = dns_rr_next(&it, &rr)) > 0) {
		n = dns_rr_rdata(m, &rr, rdata, sizeof(rdata));
		check(n >= 0, "RDATA of a parsed record unpacks");
		if (rr.type == DNS_T_OPT)
			r = dns_builder_opt(&b, m->edns.udp_size,
					    m->edns.ext_rcode, m->edns.version,
					    m->edns.flags, rdata, (size_t)n);
		else
			r = dns_builder_rr(&b, rr.section, rr.owner, rr.type,
					   rr.rclass, rr.ttl, rdata, (size_t)n);
		/* Unpacked names can outgrow 64 KiB; anything else is a bug. */
		if (r == DNS_E_SPACE)
			return;
		check(r == 0, "parsed record rebuilds");
	}
	check(r == 0, "parsed message walks");
	size_t len = dns_builder_finish(&b);
	check(dns_msg_parse(&again, out, len) == 0, "rebuilt message parses");
	check(again.qname_len == m->qname_len &&
	      memcmp(again.qname, m->qname, m->qname_len) == 0 &&
	      again.qtype == m->qtype && again.qclass == m->qclass,
	      "question survives");
	check(again.has_edns == m->has_edns && again.rcode == m->rcode,
	      "EDNS presence and rcode survive");
	if (m->has_edns)
		check(again.edns.udp_size == m->edns.udp_size &&
		      again.edns.ext_rcode == m->edns.ext_rcode &&
		      again.edns.version == m->edns.version &&
		      again.edns.flags == m->edns.flags &&
		      again.edns.opts_len == m->edns.opts_len &&
		      again.edns.cookie_len == m->edns.cookie_len &&
		      memcmp(out + again.edns.opts_off, m->wire + m->edns.opts_off,
			     m->edns.opts_len) == 0,
		      "EDNS fields and options survive");
	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	dns_rr_iter_init(&it2, &again, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0) {
		uint8_t a[DNS_MSG_MAX];
		int na, nb;

		if (rr.type == DNS_T_OPT)
			continue;
		do {
			check(dns_rr_next(&it2, &rr2) == 1, "record count survives");
		} while (rr2.type == DNS_T_OPT);
		check(dns_name_equal(rr.owner, rr2.owner), "owner survives");
		check(rr.type == rr2.type && rr.rclass == rr2.rclass &&
		      rr.ttl == rr2.ttl && rr.section == rr2.section,
		      "fixed fields survive");
		na = dns_rr_rdata(m, &rr, a, sizeof(a));
		nb = dns_rr_rdata(&again, &rr2, rdata, sizeof(rdata));
		check(same_rdata(dns_rdata_format(rr.type, rr.rclass, rr.rdlen), a, na,
				 rdata, nb), "RDATA survives");
	}
	while (dns_rr_next(&it2, &rr2) > 0)
		check(rr2.type == DNS_T_OPT, "no extra records in the rebuild");
}

static void compare_parsers(const uint8_t *data, size_t size, int rm,
			    const struct dns_msg *m)
{
	struct dns_query q;
	int rq = dns_query_parse(&q, data, size);

	if (rq == DNS_E_QDCOUNT || rq == DNS_E_QUERY_SHAPE)
		return;
	check(rq == rm, "query parser gives the general parser's verdict");
	if (rq)
		return;
	check(q.id == m->hdr.id && q.flags == m->hdr.flags &&
	      q.qtype == m->qtype && q.qclass == m->qclass &&
	      q.rcode == m->rcode && q.qname_len == m->qname_len &&
	      memcmp(dns_query_qname(&q), m->qname, m->qname_len) == 0 &&
	      q.has_edns == m->has_edns &&
	      (!q.has_edns || dns_edns_equal(&q.edns, &m->edns)),
	      "query parser reads the same fields");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg m;
	char name[DNS_NAME_MAX * 4 + 2];
	uint8_t back[DNS_NAME_MAX];
	int r;

	if (size > DNS_MSG_MAX)
		return 0;
	r = dns_msg_parse(&m, data, size);
	compare_parsers(data, size, r, &m);
	if (r != 0)
		return 0;
	dns_msg_to_str(&m, text, sizeof(text));
	if (m.qname_len) {
		check(dns_name_to_str(m.qname, name, sizeof(name)) > 0, "qname prints");
		check(dns_name_from_str(name, back) == m.qname_len &&
		      memcmp(back, m.qname, m.qname_len) == 0,
		      "qname survives presentation round trip");
	}
	rebuild(&m);
	return 0;
}
