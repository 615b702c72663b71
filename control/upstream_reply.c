/*
 * control/upstream_reply.c: the checks of an upstream reply (RFC 5452: id,
 * question, case, cookie; socket, address and port are upstream.c's) and
 * what an accepted reply or a near miss teaches about its server. Control
 * process, the loop's thread.
 */
#include "control/upstream_int.h"

#include "dns/name.h"

/* A near miss of reason v: counted in all and by reason. */
void up_reply_count_drop(struct up_ctx *c, enum up_verdict v)
{
	switch (v) {
	case UP_V_BAD_QUESTION: c->cnt.drop_bad_question++; break;
	case UP_V_BAD_CASE: c->cnt.drop_bad_case++; break;
	case UP_V_BAD_COOKIE: c->cnt.drop_bad_cookie++; break;
	case UP_V_NO_COOKIE: c->cnt.drop_no_cookie++; break;
	case UP_V_UNPARSABLE: c->cnt.drop_unparsable++; break;
	case UP_V_NOT_RESPONSE: c->cnt.drop_not_response++; break;
	case UP_V_UNKNOWN_ID: c->cnt.drop_unknown_id++; break;
	case UP_V_ACCEPT: return;
	}
	c->cnt.near_misses++;
}

/*
 * A UDP reply with TC=1 that does not parse: some servers cut the message
 * in the middle of a record instead of at a record boundary. Its header and
 * question alone are parsed (from a copy with the other counts zeroed), so
 * that the usual checks can still send the query to TCP. No cookie can be
 * checked (the OPT record is gone); at worst a spoofer who matched id, port,
 * question and case makes us ask over TCP, which is what we want anyway.
 */
static bool tc_salvage(struct up_ctx *c, struct dns_msg *m,
		       const uint8_t *wire, size_t len)
{
	int n;

	if (!(dns_get16(wire + 2) & DNS_F_TC) || dns_get16(wire + 4) != 1)
		return false;
	n = dns_name_scan(wire, len, DNS_HDR_LEN);
	if (n <= 0 || len - DNS_HDR_LEN - (size_t)n < 4)
		return false;
	size_t qend = DNS_HDR_LEN + (size_t)n + 4;
	memcpy(c->tc_head, wire, qend);
	memset(c->tc_head + 6, 0, 6);
	return dns_msg_parse(m, c->tc_head, qend) == 0;
}

/*
 * The checks after socket, address and port (which only UDP needs): id,
 * QR, a well-formed message, our question, our client cookie, our case.
 * *cookie_ok tells whether the reply echoed our client cookie.
 */
enum up_verdict up_reply_check(struct up_ctx *c, const struct query *q,
				struct dns_msg *m, const uint8_t *wire,
				size_t len, bool *cookie_ok)
{
	*cookie_ok = false;
	if (len < DNS_HDR_LEN)
		return UP_V_UNPARSABLE;
	if (dns_get16(wire) != q->id)
		return UP_V_UNKNOWN_ID;
	if (!(dns_get16(wire + 2) & DNS_F_QR))
		return UP_V_NOT_RESPONSE;
	if (dns_msg_parse(m, wire, len) != 0 &&
	    (q->tcp_attempt || !tc_salvage(c, m, wire, len)))
		return UP_V_UNPARSABLE;
	if (m->hdr.count[DNS_SEC_QUESTION] != 1 || m->qtype != q->qtype ||
	    m->qclass != q->qclass || m->qname_len != q->qname_len ||
	    !dns_name_equal(m->qname, q->qsent))
		return UP_V_BAD_QUESTION;
	if (q->sent_cookie && m->has_edns && m->edns.cookie_off) {
		/* dns_msg_parse() checked the length: 8 or 16..40. */
		if (memcmp(m->wire + m->edns.cookie_off, q->cookie,
			   DNS_COOKIE_CLIENT_LEN) != 0)
			return UP_V_BAD_COOKIE;
		*cookie_ok = true;
	}
	if (q->use_0x20 && memcmp(m->qname, q->qsent, q->qname_len) != 0)
		return UP_V_BAD_CASE;
	/* A server that sends cookies sends them in every reply (RFC 7873
	 * 5.3): over UDP a reply without one is someone else's. Over TCP the
	 * handshake proves the path: the server has stopped, and the caller
	 * learns so from the accepted reply. A salvaged TC=1 reply has lost
	 * its OPT: it can only send the query to TCP. */
	if (q->cookie_expected && !*cookie_ok && !q->tcp_attempt && m->wire != c->tc_head)
		return UP_V_NO_COOKIE;
	return UP_V_ACCEPT;
}

/* What an accepted reply teaches about its server. */
void up_reply_learn(struct up_ctx *c, const struct query *q, const struct dns_msg *m,
		    bool cookie_ok)
{
	struct server *s = up_srv_get(c, &q->srv, false);

	c->cnt.accepted++;
	if (q->sent_cookie && !cookie_ok)
		c->cnt.reply_no_cookie++;
	if (s && q->use_0x20)
		s->case_mismatches = 0;
	if (s && cookie_ok) {
		s->cookie_seen = true;
		s->cookie_seen_ms = ctl_now_ms();
	}
	/* Learn the server cookie only for the client cookie it belongs to. */
	if (s && cookie_ok && m->edns.cookie_len > DNS_COOKIE_CLIENT_LEN &&
	    !memcmp(s->client_cookie, q->cookie, DNS_COOKIE_CLIENT_LEN)) {
		s->server_cookie_len =
			(uint8_t)(m->edns.cookie_len - DNS_COOKIE_CLIENT_LEN);
		memcpy(s->server_cookie,
		       m->wire + m->edns.cookie_off + DNS_COOKIE_CLIENT_LEN,
		       s->server_cookie_len);
	}
}

/*
 * A reply right in everything but letter case. Counted toward the server's
 * "does not echo case" flag once per query, and only with our cookie when
 * the server is known to send cookies (see the top of this file); the same
 * rule decides whether the query's timeout reads UP_CASE_MISMATCH.
 */
void up_reply_case_mismatch(struct up_ctx *c, struct query *q, bool cookie_ok)
{
	struct server *s;

	if (q->case_counted || !(s = up_srv_get(c, &q->srv, false)))
		return;
	if (s->cookie_seen && !cookie_ok)
		return;
	q->case_counted = true;
	q->saw_case_mismatch = true;
	if (++s->case_mismatches >= c->cfg.case_mismatch_limit) {
		s->case_mismatches = 0;
		s->no_0x20_until_ms = ctl_now_ms() +
				      (uint64_t)c->cfg.no_0x20_ttl_s * 1000u;
		c->cnt.no_0x20_servers++;
	}
}
