/*
 * tests/fuzz/fuzz_policy.c: libFuzzer target for the response policy
 * snapshot (answer/policy.h): a rule set taken from the input is compiled,
 * checked, asked a question, and every answer written from it is parsed
 * back:
 * - policy_build()'s snapshot passes policy_check(), and one with any
 *   octet of the input flipped in it never reads outside itself;
 * - a policy answer parses with the general parser (every name, pointer
 *   and RDATA checked) within the caller's buffer and, over UDP, within
 *   the client's size; the client's id, QR, QDCOUNT 1, the question octet
 *   for octet; our OPT exactly when the client sent one; never AA or AD;
 *   TC means no records;
 * - a CNAME to chase, joined with the input's message as the target's
 *   resolution (policy_chase_answer()), parses too and keeps the question.
 * Input: octet 0 bit 0-1 the client's EDNS (0 none, 1 plain, 2-3 DO), bit 2
 * stream (TCP), 1-2 the client's UDP size, 3-4 the buffer (ANSWER_EMPTY_MAX
 * + n), 5-6 qtype, 7 the number of rules R (low 3 bits); then R rules: kind
 * (bit 0-1: exact name, wildcard, IPv4 prefix, IPv6 prefix; bit 2-4 zone;
 * bit 5 a name is NSDNAME; bits 5-6 a prefix is CLIENT-IP, IP, NSIP),
 * action (1..6), the name or prefix (length octet, then the octets: a wire
 * name, or plen and the address), local data count and per record type
 * selector, TTL octet, RDATA length octet and RDATA; then the question's
 * name (length octet and octets), the client's address (16 octets), and
 * the rest as the target's message.
 */
#include <stdlib.h>
#include <string.h>

#include "answer/policy.h"
#include "answer/reply.h"
#include "dns/build.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/query.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

static bool take(struct in *in, void *out, size_t n)
{
	if (in->n < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return true;
}

static int u8(struct in *in)
{
	uint8_t v;

	return take(in, &v, 1) ? v : -1;
}

static const uint8_t soa[] = { 1, 'n', 0, 1, 'h', 0, 0, 0, 0, 1, 0, 0, 0, 60,
			       0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60 };

/* A wire name from the input (length octet, octets); false if none. */
static bool name_of(struct in *in, uint8_t *name, size_t *len)
{
	int l = u8(in);

	if (l <= 0 || !take(in, name, (size_t)l) || dns_name_check(name, (size_t)l) != l)
		return false;
	*len = (size_t)l;
	return true;
}

static void rules(struct in *in, int n, struct policy_zone *z, unsigned nz)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_CNAME };

	for (int i = 0; i < n; i++) {
		int kind = u8(in), action = u8(in);
		if (kind < 0 || action < 0)
			return;
		struct policy_zone *pz = &z[(unsigned)(kind >> 2 & 7) % nz];
		struct policy_rule r = { 0 };
		r.action = (uint8_t)(action % POLICY_A_LOCAL + 1);
		uint8_t name[DNS_NAME_MAX];
		size_t len = 0;
		if ((kind & 3) < 2) {
			if (!name_of(in, name, &len))
				return;
			r.trigger = kind & 32 ? POLICY_T_NSDNAME : POLICY_T_QNAME;
			r.wild = kind & 1;
			dns_name_lower(name);
			r.name_len = (uint8_t)len;
			int64_t off = policy_zone_put(pz, name, len);
			CHECK(off >= 0);
			r.name_off = (uint32_t)off;
		} else {
			int plen = u8(in);
			static const uint8_t nets[] = { POLICY_T_CLIENT_IP, POLICY_T_IP,
							POLICY_T_NSIP, POLICY_T_CLIENT_IP };
			r.trigger = nets[kind >> 5 & 3];
			r.family = (kind & 3) == 2 ? 4 : 6;
			unsigned bits = r.family == 4 ? 32 : 128;
			if (plen < 0 || !take(in, r.addr, r.family == 4 ? 4 : 16))
				return;
			r.plen = (uint8_t)(plen % bits + 1);
			for (unsigned b = r.plen; b < 128; b++)
				r.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		}
		if (r.action == POLICY_A_LOCAL) {
			int k = u8(in);
			if (k < 0)
				return;
			r.rr_first = (uint32_t)pz->n_rr;
			for (int j = 0; j < (k & 3) + 1; j++) {
				int t = u8(in), ttl = u8(in), rl = u8(in);
				uint8_t rd[255];
				if (t < 0 || ttl < 0 || rl < 0 || !take(in, rd, (size_t)rl))
					return;
				uint16_t type = types[t & 3];
				if (dns_rdata_check_flat(type, rd, (size_t)rl))
					continue; /* the parser checks RDATA: so do we */
				struct policy_rr *x = policy_zone_rr(pz);
				CHECK(x);
				x->type = type;
				x->ttl = (uint32_t)ttl;
				x->rdlen = (uint16_t)rl;
				int64_t off = policy_zone_put(pz, rd, (size_t)rl);
				CHECK(off >= 0);
				x->off = (uint32_t)off;
				x->wild_target = type == DNS_T_CNAME && rl > 2 && rd[0] == 1 &&
						 rd[1] == '*';
				r.rr_n++;
			}
		}
		struct policy_rule *d = policy_zone_rule(pz);
		CHECK(d);
		*d = r;
	}
}

/* The checks every answer to q meets (len octets in a cap-octet buffer). */
static void check_answer(const struct dns_query *q, const uint8_t *a, size_t len, size_t cap,
			 bool stream)
{
	struct dns_msg m;

	CHECK(len >= DNS_HDR_LEN && len <= cap);
	if (!stream)
		CHECK(len <= dns_query_udp_size(q));
	CHECK(dns_msg_parse(&m, a, len) == 0);
	CHECK(m.hdr.id == q->id && (m.hdr.flags & DNS_F_QR));
	CHECK(!(m.hdr.flags & (DNS_F_AA | DNS_F_AD)));
	CHECK(m.hdr.count[0] == 1 && memcmp(a + DNS_HDR_LEN, q->wire + DNS_HDR_LEN,
					     (size_t)q->qname_len + 4) == 0);
	CHECK(m.has_edns == q->has_edns);
	if (m.hdr.flags & DNS_F_TC)
		CHECK(m.hdr.count[1] == 0 && m.hdr.count[2] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t head[8];

	if (!take(&in, head, sizeof(head)))
		return 0;
	bool stream = head[0] & 4;
	uint16_t udp = (uint16_t)(head[1] << 8 | head[2]);
	size_t cap = ANSWER_EMPTY_MAX + (size_t)(head[3] << 8 | head[4]);
	uint16_t qtype = (uint16_t)(head[5] << 8 | head[6]);
	struct policy_zone z[3];
	struct policy_zone_opts o[3];
	const char *names[3] = { "a", "b", "c" };
	const struct policy_zone *zs[3] = { &z[0], &z[1], &z[2] };

	for (int i = 0; i < 3; i++) {
		policy_zone_init(&z[i]);
		z[i].origin[0] = 0;
		z[i].soa_rdlen = sizeof(soa);
		z[i].soa_ttl = 60;
		z[i].soa_off = (uint32_t)policy_zone_put(&z[i], soa, sizeof(soa));
		o[i] = (struct policy_zone_opts){ .ede = i == 1 ? 0xffff : 15, .max_ttl = 100 };
	}
	o[2].override = (uint8_t)(head[7] >> 4) % (POLICY_OVERRIDE_CNAME + 1);
	memcpy(o[2].cname, "\x01*\x01g\0", 5);
	rules(&in, head[7] & 7, z, 3);

	size_t slen = 0;
	struct policy_snap *s = policy_build(zs, o, names, 3, 1, NULL, NULL, &slen);
	CHECK(s && policy_check(s, slen) == 0);

	/* the question */
	uint8_t qname[DNS_NAME_MAX], addr[16] = { 0 }, qbuf[600], l[DNS_NAME_MAX];
	size_t qlen = 0;
	if (!name_of(&in, qname, &qlen))
		goto out;
	take(&in, addr, sizeof(addr));
	struct dns_builder b;
	struct dns_query q;
	CHECK(dns_builder_init(&b, qbuf, sizeof(qbuf), 0x4242, DNS_F_RD) == 0);
	CHECK(dns_builder_question(&b, qname, qtype, DNS_C_IN) == 0);
	if (head[0] & 3)
		CHECK(dns_builder_opt(&b, udp, 0, 0, (head[0] & 2) ? DNS_EDNS_F_DO : 0, NULL, 0) ==
		      0);
	size_t qn = dns_builder_finish(&b);
	if (dns_query_parse(&q, qbuf, qn))
		goto out;
	dns_copy_lower(l, qname, qlen);
	for (int family = 4; family <= 6; family += 2) {
		struct policy_hit h;
		if (!policy_match(s, l, qlen, family, addr, &h))
			continue;
		static uint8_t out[65536], joined[65536];
		size_t len = 0;
		enum policy_verdict v = policy_answer(s, &h, &q, stream, 1232, out, cap, &len);
		if (v != POLICY_V_ANSWER && v != POLICY_V_CHASE)
			continue;
		check_answer(&q, out, len, cap, stream);
		if (v != POLICY_V_CHASE)
			continue;
		uint8_t target[DNS_NAME_MAX];
		size_t tl = policy_chase_target(s, &h, &q, target);
		CHECK(tl > 0 && dns_name_check(target, tl) == (int)tl);
		size_t jcap = stream ? 65535 : cap;
		size_t n = policy_chase_answer(out, len, in.p, in.n, DNS_R_NOERROR, jcap, joined);
		CHECK(n > 0);
		check_answer(&q, joined, n, jcap, true);
	}
	/* the rest as a resolution's answer: its CNAME chain's names */
	{
		static struct policy_ns ns;
		struct policy_hit h, back;
		ns.n_names = 1;
		ns.name_len[0] = (uint8_t)qlen;
		memcpy(ns.name[0], l, qlen);
		ns.n_addrs = 2;
		ns.addr[0].family = 4;
		ns.addr[1].family = 6;
		memcpy(ns.addr[0].a, addr, 16);
		memcpy(ns.addr[1].a, addr, 16);
		for (unsigned limit = 0; limit <= policy_zones(s); limit++) {
			int a = policy_match_response(s, limit, in.p, in.n, &ns, &h);
			CHECK(a == 0 || (a >= POLICY_A_NXDOMAIN && a <= POLICY_A_LOCAL &&
					 h.rule < policy_rules(s) && h.zone < limit &&
					 h.trigger != POLICY_T_CLIENT_IP));
			CHECK(!a || (policy_tag_hit(s, policy_hit_tag(&h), &back) &&
				     back.rule == h.rule && back.action == h.action));
		}
	}
	/* the snapshot damaged by the input: refused, or read within itself */
	if (in.n >= 4) {
		uint8_t *raw = (uint8_t *)s;
		size_t at = (size_t)(in.p[0] << 16 | in.p[1] << 8 | in.p[2]) % slen;
		raw[at] ^= in.p[3] ? in.p[3] : 1;
		if (policy_check(s, slen) == 0) {
			struct policy_hit h;
			policy_match(s, l, qlen, 4, addr, &h);
			policy_match(s, l, qlen, 6, addr, &h);
			static struct policy_ns ns;
			ns.n_names = 1;
			ns.name_len[0] = (uint8_t)qlen;
			memcpy(ns.name[0], l, qlen);
			ns.n_addrs = 1;
			ns.addr[0].family = 6;
			memcpy(ns.addr[0].a, addr, 16);
			policy_match_response(s, POLICY_ZONES_MAX, in.p, in.n, &ns, &h);
			policy_tag_hit(s, (uint64_t)in.p[0] << 8 | in.p[1], &h);
		}
	}
out:
	free(s);
	for (int i = 0; i < 3; i++)
		policy_zone_fini(&z[i]);
	return 0;
}
