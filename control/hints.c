/*
 * control/hints.c: reading the root hints (see hints.h). Control process,
 * at start and on reload. Every line is checked; the first problem is
 * reported with its line and nothing is returned half-filled.
 */
#include "control/hints.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/name.h"

#define HINTS_ADDR_MAX 256   /* address records in one hints file */
#define HINTS_FILE_MAX 65536 /* octets: named.root is about 3 KiB */
#define TOKENS_MAX 6
#define NAME_STR_MAX 1024  /* a name in presentation form, escapes included */

struct addr_rec {
	uint8_t name[DNS_NAME_MAX];
	struct ctl_addr addr;
	unsigned line;
};

static int fail(char *err, size_t errlen, const char *name, unsigned line,
		const char *fmt, ...)
{
	va_list ap;
	int n = line ? snprintf(err, errlen, "%s:%u: ", name, line)
		     : snprintf(err, errlen, "%s: ", name);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return CTL_E_HINTS;
}

/* Splits line (NUL-terminated, comment cut) into at most TOKENS_MAX + 1
 * tokens; returns how many. */
static int split(char *line, char **tok)
{
	int n = 0;

	for (char *p = line; *p && n <= TOKENS_MAX;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		tok[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int ns_index(const struct ctl_referral *r, const uint8_t *name)
{
	for (unsigned i = 0; i < r->nns; i++)
		if (dns_name_equal(r->ns[i].name, name))
			return (int)i;
	return -1;
}

int ctl_hints_parse(const char *text, size_t len, const char *name,
		    struct ctl_referral *out, char *err, size_t errlen)
{
	static const uint8_t root[1] = { 0 };
	struct ctl_referral r = { .zone = root };
	struct addr_rec *addrs = calloc(HINTS_ADDR_MAX, sizeof(*addrs));
	unsigned naddrs = 0, lineno = 0;
	int rc = CTL_E_HINTS;
	uint32_t ttl = UINT32_MAX;

	if (!addrs) {
		fail(err, errlen, name, 0, "out of memory");
		return CTL_E_NOMEM;
	}
	for (size_t pos = 0; pos < len;) {
		char line[512], *tok[TOKENS_MAX + 1];
		size_t end = pos;

		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		if (end - pos >= sizeof(line)) {
			fail(err, errlen, name, lineno, "line longer than %zu octets",
			     sizeof(line) - 1);
			goto out;
		}
		if (memchr(text + pos, '\0', end - pos)) {
			fail(err, errlen, name, lineno, "contains a NUL octet");
			goto out;
		}
		memcpy(line, text + pos, end - pos);
		line[end - pos] = '\0';
		pos = end + 1;
		char *semi = strchr(line, ';');
		if (semi)
			*semi = '\0';
		int n = split(line, tok);
		if (n == 0)
			continue;
		if (tok[0][0] == '$') {
			fail(err, errlen, name, lineno, "directive %s is not supported in hints",
			     tok[0]);
			goto out;
		}
		/* OWNER [TTL] [IN] TYPE RDATA */
		int t = 1;
		uint32_t rttl = UINT32_MAX;
		if (t < n && all_digits(tok[t])) {
			errno = 0;
			unsigned long v = strtoul(tok[t], NULL, 10);
			if (errno || v > 0x7fffffffUL) {
				fail(err, errlen, name, lineno, "TTL %s out of range", tok[t]);
				goto out;
			}
			rttl = (uint32_t)v;
			t++;
		}
		if (t < n && strcasecmp(tok[t], "IN") == 0)
			t++;
		if (n - t != 2) {
			fail(err, errlen, name, lineno,
			     "expected OWNER [TTL] [IN] TYPE RDATA, got %d fields", n);
			goto out;
		}
		uint8_t owner[DNS_NAME_MAX];
		if (dns_name_from_str(tok[0], owner) <= 0) {
			fail(err, errlen, name, lineno, "bad owner name '%s'", tok[0]);
			goto out;
		}
		const char *type = tok[t], *rdata = tok[t + 1];
		if (strcasecmp(type, "NS") == 0) {
			uint8_t target[DNS_NAME_MAX];
			if (owner[0] != 0) {
				fail(err, errlen, name, lineno, "NS record for '%s', not the root",
				     tok[0]);
				goto out;
			}
			if (dns_name_from_str(rdata, target) <= 0 || target[0] == 0) {
				fail(err, errlen, name, lineno, "bad NS name '%s'", rdata);
				goto out;
			}
			if (ns_index(&r, target) >= 0)
				continue;
			if (r.nns == CTL_DELEG_NS_MAX) {
				fail(err, errlen, name, lineno, "more than %d NS names",
				     CTL_DELEG_NS_MAX);
				goto out;
			}
			dns_name_copy_lower(r.ns[r.nns++].name, target);
			if (rttl < ttl)
				ttl = rttl;
		} else if (strcasecmp(type, "A") == 0 || strcasecmp(type, "AAAA") == 0) {
			struct addr_rec *a = &addrs[naddrs];
			int af = strcasecmp(type, "A") == 0 ? AF_INET : AF_INET6;
			if (naddrs == HINTS_ADDR_MAX) {
				fail(err, errlen, name, lineno, "more than %d address records",
				     HINTS_ADDR_MAX);
				goto out;
			}
			memset(a, 0, sizeof(*a));
			if (inet_pton(af, rdata, a->addr.a) != 1) {
				fail(err, errlen, name, lineno, "bad %s address '%s'", type, rdata);
				goto out;
			}
			a->addr.family = (uint8_t)af;
			memcpy(a->name, owner, dns_name_len(owner));
			a->line = lineno;
			naddrs++;
		} else {
			fail(err, errlen, name, lineno, "type %s does not belong in hints", type);
			goto out;
		}
	}
	if (r.nns == 0) {
		fail(err, errlen, name, 0, "no NS records for the root");
		goto out;
	}
	for (unsigned i = 0; i < naddrs; i++) {
		int k = ns_index(&r, addrs[i].name);
		if (k < 0) {
			char s[NAME_STR_MAX];
			dns_name_to_str(addrs[i].name, s, sizeof(s));
			fail(err, errlen, name, addrs[i].line, "address for %s, which no NS names", s);
			goto out;
		}
		struct ctl_deleg_ns *ns = &r.ns[k];
		if (ns->naddr < CTL_DELEG_ADDR_MAX)
			ns->addr[ns->naddr++] = addrs[i].addr;
	}
	for (unsigned i = 0; i < r.nns; i++)
		if (r.ns[i].naddr == 0) {
			char s[NAME_STR_MAX];
			dns_name_to_str(r.ns[i].name, s, sizeof(s));
			fail(err, errlen, name, 0, "no address for root server %s", s);
			goto out;
		}
	r.ttl = ttl == UINT32_MAX ? 0 : ttl;
	*out = r;
	rc = 0;
out:
	free(addrs);
	return rc;
}

int ctl_hints_load(const char *path, struct ctl_referral *r, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (!f)
		return fail(err, errlen, path, 0, "%s", strerror(errno));
	if (!(buf = malloc(HINTS_FILE_MAX + 1))) {
		fclose(f);
		fail(err, errlen, path, 0, "out of memory");
		return CTL_E_NOMEM;
	}
	n = fread(buf, 1, HINTS_FILE_MAX + 1, f);
	if (ferror(f))
		rc = fail(err, errlen, path, 0, "read error");
	else if (n > HINTS_FILE_MAX)
		rc = fail(err, errlen, path, 0, "larger than %d octets", HINTS_FILE_MAX);
	else
		rc = ctl_hints_parse(buf, n, path, r, err, errlen);
	free(buf);
	fclose(f);
	return rc;
}
