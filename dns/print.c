/*
 * dns/print.c: presentation format (RFC 1035 5, RFC 3597 for unknown types,
 * RFC 4034/5155 for the DNSSEC types), dig-like message dumps. Control
 * process, tools and tests only: it formats with snprintf.
 */
#include "print.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "name.h"

/* An output buffer that remembers when something did not fit. */
struct sb {
	char *buf;
	size_t size;
	size_t len;
	bool over;
};

static void sb_init(struct sb *s, char *buf, size_t size)
{
	*s = (struct sb){ .buf = buf, .size = size, .over = size == 0 };
	if (size)
		buf[0] = 0;
}

static void sb_add(struct sb *s, const char *src, size_t n)
{
	if (s->over)
		return;
	if (n + 1 > s->size - s->len) {
		n = s->size - s->len - 1;
		s->over = true;
	}
	memcpy(s->buf + s->len, src, n);
	s->len += n;
	s->buf[s->len] = 0;
}

static void sb_puts(struct sb *s, const char *str)
{
	sb_add(s, str, strlen(str));
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static int sb_end(const struct sb *s)
{
	return s->over ? DNS_E_SPACE : (int)s->len;
}

static void sb_name(struct sb *s, const uint8_t *name)
{
	char tmp[DNS_NAME_MAX * 4 + 2];

	dns_name_to_str(name, tmp, sizeof(tmp));
	sb_puts(s, tmp);
}

static void sb_hex(struct sb *s, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		char two[2] = { digits[p[i] >> 4], digits[p[i] & 15] };
		sb_add(s, two, 2);
	}
}

static void sb_base64(struct sb *s, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;
		char four[4];

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		four[0] = tab[v >> 18 & 63];
		four[1] = tab[v >> 12 & 63];
		four[2] = left > 1 ? tab[v >> 6 & 63] : '=';
		four[3] = left > 2 ? tab[v & 63] : '=';
		sb_add(s, four, 4);
	}
}

/* RFC 4648 base32hex without padding, as NSEC3 owner labels use it. */
static void sb_base32hex(struct sb *s, const uint8_t *p, size_t n)
{
	static const char tab[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			sb_add(s, &tab[acc >> (bits - 5) & 31], 1);
			bits -= 5;
		}
	}
	if (bits > 0)
		sb_add(s, &tab[acc << (5 - bits) & 31], 1);
}

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" },
	{ DNS_T_SOA, "SOA" }, { DNS_T_PTR, "PTR" }, { DNS_T_HINFO, "HINFO" },
	{ DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
	{ DNS_T_SRV, "SRV" }, { DNS_T_DNAME, "DNAME" }, { DNS_T_OPT, "OPT" },
	{ DNS_T_DS, "DS" }, { DNS_T_RRSIG, "RRSIG" }, { DNS_T_NSEC, "NSEC" },
	{ DNS_T_DNSKEY, "DNSKEY" }, { DNS_T_NSEC3, "NSEC3" },
	{ DNS_T_NSEC3PARAM, "NSEC3PARAM" }, { 52, "TLSA" }, { 59, "CDS" },
	{ 60, "CDNSKEY" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
	{ DNS_T_TSIG, "TSIG" }, { DNS_T_IXFR, "IXFR" }, { DNS_T_AXFR, "AXFR" },
	{ DNS_T_ANY, "ANY" }, { 257, "CAA" },
};

static const char *type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

static void sb_type(struct sb *s, uint16_t type)
{
	const char *name = type_name(type);

	if (name)
		sb_puts(s, name);
	else
		sb_printf(s, "TYPE%u", type);
}

int dns_type_to_str(uint16_t type, char *buf, size_t size)
{
	struct sb s;

	sb_init(&s, buf, size);
	sb_type(&s, type);
	return sb_end(&s);
}

int dns_class_to_str(uint16_t rclass, char *buf, size_t size)
{
	struct sb s;

	sb_init(&s, buf, size);
	switch (rclass) {
	case DNS_C_IN: sb_puts(&s, "IN"); break;
	case DNS_C_CH: sb_puts(&s, "CH"); break;
	case DNS_C_NONE: sb_puts(&s, "NONE"); break;
	case DNS_C_ANY: sb_puts(&s, "ANY"); break;
	default: sb_printf(&s, "CLASS%u", rclass); break;
	}
	return sb_end(&s);
}

const char *dns_rcode_str(uint16_t rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == DNS_R_BADVERS)
		return "BADVERS";
	if (rcode == DNS_R_BADCOOKIE)
		return "BADCOOKIE";
	return NULL;
}

const char *dns_opcode_str(uint8_t opcode)
{
	switch (opcode) {
	case DNS_OP_QUERY: return "QUERY";
	case DNS_OP_IQUERY: return "IQUERY";
	case DNS_OP_STATUS: return "STATUS";
	case DNS_OP_NOTIFY: return "NOTIFY";
	case DNS_OP_UPDATE: return "UPDATE";
	default: return NULL;
	}
}

int dns_type_from_str(const char *str)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i].name, str) == 0)
			return types[i].type;
	if (strncasecmp(str, "TYPE", 4) == 0 && str[4]) {
		unsigned long v = 0;
		for (const char *p = str + 4; *p; p++) {
			if (*p < '0' || *p > '9' || v > UINT16_MAX)
				return DNS_E_SYNTAX;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v <= UINT16_MAX)
			return (int)v;
	}
	return DNS_E_SYNTAX;
}

static void sb_string(struct sb *s, const uint8_t *p, size_t n)
{
	sb_add(s, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\') {
			char two[2] = { '\\', (char)c };
			sb_add(s, two, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			sb_printf(s, "\\%03u", c);
		} else {
			sb_add(s, (const char *)&c, 1);
		}
	}
	sb_add(s, "\"", 1);
}

static void sb_bitmap(struct sb *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 2 <= n;) {
		uint8_t window = p[i];
		uint8_t len = p[i + 1];
		for (unsigned k = 0; k < (unsigned)len * 8; k++)
			if (p[i + 2 + k / 8] & (0x80 >> (k % 8))) {
				sb_add(s, " ", 1);
				sb_type(s, (uint16_t)(window * 256 + k));
			}
		i += 2u + len;
	}
}

static void sb_time(struct sb *s, uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	sb_printf(s, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
		  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void sb_generic(struct sb *s, const uint8_t *p, size_t n)
{
	sb_printf(s, "\\# %zu", n);
	if (n) {
		sb_add(s, " ", 1);
		sb_hex(s, p, n);
	}
}

static void sb_rdata(struct sb *s, uint16_t type, const uint8_t *p, size_t n)
{
	char addr[INET6_ADDRSTRLEN];
	size_t len;

	if (dns_rdata_check_flat(type, p, n) < 0) {
		sb_generic(s, p, n);
		return;
	}
	switch (type) {
	case DNS_T_A:
		sb_puts(s, inet_ntop(AF_INET, p, addr, sizeof(addr)));
		break;
	case DNS_T_AAAA:
		sb_puts(s, inet_ntop(AF_INET6, p, addr, sizeof(addr)));
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		sb_name(s, p);
		break;
	case DNS_T_SOA:
		sb_name(s, p);
		sb_add(s, " ", 1);
		len = dns_name_len(p);
		sb_name(s, p + len);
		len += dns_name_len(p + len);
		sb_printf(s, " %u %u %u %u %u", dns_get32(p + len),
			  dns_get32(p + len + 4), dns_get32(p + len + 8),
			  dns_get32(p + len + 12), dns_get32(p + len + 16));
		break;
	case DNS_T_MX:
		sb_printf(s, "%u ", dns_get16(p));
		sb_name(s, p + 2);
		break;
	case DNS_T_SRV:
		sb_printf(s, "%u %u %u ", dns_get16(p), dns_get16(p + 2),
			  dns_get16(p + 4));
		sb_name(s, p + 6);
		break;
	case DNS_T_TXT:
		for (size_t i = 0; i < n; i += 1u + p[i]) {
			if (i)
				sb_add(s, " ", 1);
			sb_string(s, p + i + 1, p[i]);
		}
		break;
	case DNS_T_DS:
		sb_printf(s, "%u %u %u ", dns_get16(p), p[2], p[3]);
		sb_hex(s, p + 4, n - 4);
		break;
	case DNS_T_DNSKEY:
		sb_printf(s, "%u %u %u ", dns_get16(p), p[2], p[3]);
		sb_base64(s, p + 4, n - 4);
		break;
	case DNS_T_RRSIG:
		sb_type(s, dns_get16(p));
		sb_printf(s, " %u %u %u ", p[2], p[3], dns_get32(p + 4));
		sb_time(s, dns_get32(p + 8));
		sb_add(s, " ", 1);
		sb_time(s, dns_get32(p + 12));
		sb_printf(s, " %u ", dns_get16(p + 16));
		sb_name(s, p + 18);
		len = 18 + dns_name_len(p + 18);
		sb_add(s, " ", 1);
		sb_base64(s, p + len, n - len);
		break;
	case DNS_T_NSEC:
		sb_name(s, p);
		len = dns_name_len(p);
		sb_bitmap(s, p + len, n - len);
		break;
	case DNS_T_NSEC3:
	case DNS_T_NSEC3PARAM:
		sb_printf(s, "%u %u %u ", p[0], p[1], dns_get16(p + 2));
		if (p[4])
			sb_hex(s, p + 5, p[4]);
		else
			sb_add(s, "-", 1);
		if (type == DNS_T_NSEC3PARAM)
			break;
		len = 5u + p[4];
		sb_add(s, " ", 1);
		sb_base32hex(s, p + len + 1, p[len]);
		len += 1u + p[len];
		sb_bitmap(s, p + len, n - len);
		break;
	case DNS_T_OPT:
		for (size_t i = 0; i + 4 <= n;) {
			uint16_t olen = dns_get16(p + i + 2);
			sb_printf(s, "%s%u:", i ? " " : "", dns_get16(p + i));
			sb_hex(s, p + i + 4, olen);
			i += 4u + olen;
		}
		break;
	default:
		sb_generic(s, p, n);
		break;
	}
}

int dns_rdata_to_str(uint16_t type, const uint8_t *rdata, size_t rdlen,
		     char *buf, size_t size)
{
	struct sb s;

	sb_init(&s, buf, size);
	sb_rdata(&s, type, rdata, rdlen);
	return sb_end(&s);
}

static void sb_class(struct sb *s, uint16_t rclass)
{
	char tmp[16];

	dns_class_to_str(rclass, tmp, sizeof(tmp));
	sb_puts(s, tmp);
}

static void sb_rr(struct sb *s, const struct dns_msg *m,
		  const struct dns_rr *rr)
{
	uint8_t rdata[DNS_MSG_MAX];
	int n;

	sb_name(s, rr->owner);
	sb_printf(s, "\t%u\t", rr->ttl);
	sb_class(s, rr->rclass);
	sb_add(s, "\t", 1);
	sb_type(s, rr->type);
	sb_add(s, "\t", 1);
	n = dns_rr_rdata(m, rr, rdata, sizeof(rdata));
	if (n < 0)
		sb_printf(s, "; bad RDATA: %s", dns_strerror(n));
	else
		sb_rdata(s, dns_rdata_format(rr->type, rr->rclass, rr->rdlen), rdata,
			 (size_t)n);
}

int dns_rr_to_str(const struct dns_msg *m, const struct dns_rr *rr, char *buf,
		  size_t size)
{
	struct sb s;

	sb_init(&s, buf, size);
	sb_rr(&s, m, rr);
	return sb_end(&s);
}

static void sb_edns(struct sb *s, const struct dns_msg *m)
{
	const uint8_t *o = m->wire + m->edns.opts_off;

	sb_printf(s, ";; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s; udp: %u\n",
		  m->edns.version,
		  m->edns.flags & DNS_EDNS_F_DO ? " do" : "", m->edns.udp_size);
	for (size_t i = 0; i + 4 <= m->edns.opts_len;) {
		uint16_t code = dns_get16(o + i);
		uint16_t len = dns_get16(o + i + 2);
		if (code == DNS_EO_COOKIE)
			sb_puts(s, "; COOKIE: ");
		else
			sb_printf(s, "; OPTION %u: ", code);
		sb_hex(s, o + i + 4, len);
		sb_add(s, "\n", 1);
		i += 4u + len;
	}
	sb_add(s, "\n", 1);
}

int dns_msg_to_str(const struct dns_msg *m, char *buf, size_t size)
{
	static const char *const flag_names[] = { "qr", "aa", "tc", "rd", "ra",
						  "z", "ad", "cd" };
	static const uint16_t flag_bits[] = { DNS_F_QR, DNS_F_AA, DNS_F_TC,
					      DNS_F_RD, DNS_F_RA, DNS_F_Z,
					      DNS_F_AD, DNS_F_CD };
	static const char *const sec_names[] = { "QUESTION", "ANSWER",
						 "AUTHORITY", "ADDITIONAL" };
	const char *opcode = dns_opcode_str(dns_msg_opcode(m));
	const char *rcode = dns_rcode_str(m->rcode);
	struct dns_rr_iter it;
	struct dns_rr rr;
	int last = -1;
	struct sb s;

	sb_init(&s, buf, size);
	sb_puts(&s, ";; ->>HEADER<<- opcode: ");
	if (opcode)
		sb_puts(&s, opcode);
	else
		sb_printf(&s, "OPCODE%u", dns_msg_opcode(m));
	sb_puts(&s, ", status: ");
	if (rcode)
		sb_puts(&s, rcode);
	else
		sb_printf(&s, "RCODE%u", m->rcode);
	sb_printf(&s, ", id: %u\n;; flags:", m->hdr.id);
	for (size_t i = 0; i < sizeof(flag_bits) / sizeof(flag_bits[0]); i++)
		if (m->hdr.flags & flag_bits[i]) {
			sb_add(&s, " ", 1);
			sb_puts(&s, flag_names[i]);
		}
	sb_printf(&s, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n\n",
		  m->hdr.count[0], m->hdr.count[1], m->hdr.count[2],
		  m->hdr.count[3]);
	if (m->has_edns)
		sb_edns(&s, m);
	if (m->qname_len) {
		sb_puts(&s, ";; QUESTION SECTION:\n;");
		sb_name(&s, m->qname);
		sb_add(&s, "\t\t", 2);
		sb_class(&s, m->qclass);
		sb_add(&s, "\t", 1);
		sb_type(&s, m->qtype);
		sb_add(&s, "\n", 1);
	}
	dns_rr_iter_init(&it, m, DNS_SEC_ANSWER);
	while (dns_rr_next(&it, &rr) > 0) {
		if (rr.type == DNS_T_OPT)
			continue;
		if (rr.section != last) {
			last = rr.section;
			sb_printf(&s, "\n;; %s SECTION:\n", sec_names[last]);
		}
		sb_rr(&s, m, &rr);
		sb_add(&s, "\n", 1);
	}
	return sb_end(&s);
}
