/*
 * answer/screen.c: the client-facing screen (see screen.h). Any thread, hot
 * path.
 */
#include "answer/screen.h"

#include "answer/acl.h"
#include "dns/opt.h"
#include "dns/wire.h"

static inline void verdict(struct answer_screen *out, enum answer_slot slot, int rcode)
{
	out->slot = slot;
	out->rcode = rcode;
	out->ede = DNS_EDE_NONE;
}

void answer_screen(struct answer_screen *out, const struct answer_acl *acl, int v6,
		   const uint8_t *addr, const uint8_t *wire, size_t len, struct dns_query *q)
{
	out->q = NULL;
	if (len < DNS_HDR_LEN) {
		verdict(out, ANSWER_SHORT, DNS_R_NOERROR);
		return;
	}
	if (dns_get16(wire + 2) & DNS_F_QR) {
		verdict(out, ANSWER_QR, DNS_R_NOERROR);
		return;
	}
	int parsed = dns_query_parse(q, wire, len);
	if (!parsed)
		out->q = q;
	switch (answer_acl_lookup(acl, v6, addr)) {
	case CFG_ACL_ALLOW:
		break;
	case CFG_ACL_DROP:
		verdict(out, ANSWER_ACL_DROP, DNS_R_NOERROR);
		return;
	default:
		verdict(out, ANSWER_REFUSED, DNS_R_REFUSED);
		out->ede = DNS_EDE_PROHIBITED;
		return;
	}
	if (((dns_get16(wire + 2) & DNS_F_OPCODE_MASK) >> DNS_F_OPCODE_SHIFT) != DNS_OP_QUERY)
		verdict(out, ANSWER_NOTIMP, DNS_R_NOTIMP);
	else if (parsed)
		verdict(out, ANSWER_FORMERR, DNS_R_FORMERR);
	else if (q->has_edns && q->edns.version != 0)
		verdict(out, ANSWER_BADVERS, DNS_R_BADVERS);
	else if (q->qclass != DNS_C_IN || q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR ||
		 q->qtype == DNS_T_OPT || q->qtype == DNS_T_TSIG) {
		verdict(out, ANSWER_REFUSED, DNS_R_REFUSED);
		out->ede = DNS_EDE_NOT_SUPPORTED;
	} else
		verdict(out, ANSWER_GO, DNS_R_NOERROR);
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
