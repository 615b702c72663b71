/*
 * answer/screen.c: the client-facing screen (see screen.h). Any thread, hot
 * path.
 */
#include "answer/screen.h"

#include "answer/acl.h"
#include "dns/wire.h"

static int rcode_slot(int rcode)
{
	switch (rcode) {
	case DNS_R_NOTIMP:
		return ANSWER_NOTIMP;
	case DNS_R_FORMERR:
		return ANSWER_FORMERR;
	case DNS_R_BADVERS:
		return ANSWER_BADVERS;
	default:
		return ANSWER_REFUSED;
	}
}

void answer_screen(struct answer_screen *out, const struct answer_acl *acl, int v6,
		   const uint8_t *addr, const uint8_t *wire, size_t len, struct dns_query *q)
{
	int rcode = DNS_R_REFUSED;

	out->q = NULL;
	out->rcode = DNS_R_NOERROR;
	if (len < DNS_HDR_LEN) {
		out->slot = ANSWER_SHORT;
		return;
	}
	if (dns_get16(wire + 2) & DNS_F_QR) {
		out->slot = ANSWER_QR;
		return;
	}
	int parsed = dns_query_parse(q, wire, len);
	if (!parsed)
		out->q = q;
	switch (answer_acl_lookup(acl, v6, addr)) {
	case CFG_ACL_ALLOW:
		break;
	case CFG_ACL_DROP:
		out->slot = ANSWER_ACL_DROP;
		return;
	default:
		out->slot = ANSWER_REFUSED;
		out->rcode = DNS_R_REFUSED;
		return;
	}
	if (((dns_get16(wire + 2) & DNS_F_OPCODE_MASK) >> DNS_F_OPCODE_SHIFT) != DNS_OP_QUERY)
		rcode = DNS_R_NOTIMP;
	else if (parsed)
		rcode = DNS_R_FORMERR;
	else if (q->has_edns && q->edns.version != 0)
		rcode = DNS_R_BADVERS;
	else if (q->qclass == DNS_C_IN && q->qtype != DNS_T_AXFR && q->qtype != DNS_T_IXFR &&
		 q->qtype != DNS_T_OPT && q->qtype != DNS_T_TSIG)
		rcode = DNS_R_NOERROR;
	out->slot = rcode == DNS_R_NOERROR ? ANSWER_GO : (enum answer_slot)rcode_slot(rcode);
	out->rcode = rcode;
}

const char *answer_slot_text(enum answer_slot s)
{
	switch (s) {
#define ANSWER_SLOT_CASE(name, text) case name: return text;
	ANSWER_SLOTS(ANSWER_SLOT_CASE)
#undef ANSWER_SLOT_CASE
	default:
		return "unknown slot";
	}
}
