/*
 * tests/fuzz/fuzz_rpz.c: libFuzzer target for the response policy zone
 * reader (control/rpz.h), which reads feeds that programs outside our
 * control write. The input is the zone's text, origin rpz.example. Beyond
 * "no crash, no leak, no sanitizer report" it checks on every input:
 * - a zone that fails is empty and explains itself in one line that starts
 *   with the file name, with a CTL_E_POLICY or CTL_E_NOMEM code;
 * - every report is one line that starts with the file name, and there are
 *   never more reports than rejected records, nor more of those than
 *   records read;
 * - a zone that loads holds only what policy_build() may trust: names and
 *   RDATA inside the arena and well formed, names lower-cased, prefixes
 *   with their host bits clear, each rule's records contiguous after the
 *   previous rule's, LOCAL rules with records and the others without, a
 *   CNAME only alone, counts that add up;
 * - reading the same text again gives the same octets (the owner table's
 *   seed changes from one read to the next; the result must not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/policy.h"
#include "control/err.h"
#include "control/rpz.h"
#include "dns/msg.h"
#include "dns/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t origin[] = "\003rpz\007example";
static unsigned long reports;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rpz: property failed: %s\n", what);
		abort();
	}
}

static void one_line(const char *s)
{
	check(strncmp(s, "fuzz.rpz:", 9) == 0, "a message starts with the file name");
	check(!strchr(s, '\n'), "a message is one line");
}

static void on_report(void *arg, const char *line)
{
	(void)arg;
	one_line(line);
	reports++;
}

static bool in_arena(const struct policy_zone *z, uint64_t off, uint64_t len)
{
	return off <= z->data_len && len <= z->data_len - off;
}

static bool lower_name(const uint8_t *n, size_t len)
{
	if (dns_name_check(n, len) != (int)len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (n[i] >= 'A' && n[i] <= 'Z' && dns_lower[n[i]] != n[i])
			return false;
	return true;
}

static void check_zone(const struct policy_zone *z)
{
	uint64_t by = 0;
	uint32_t next_rr = 0;

	check(dns_name_same(z->origin, origin), "the origin, lower-cased");
	check(in_arena(z, z->soa_off, z->soa_rdlen) &&
	      dns_rdata_check_flat(DNS_T_SOA, z->data + z->soa_off, z->soa_rdlen) == 0,
	      "the SOA's RDATA");
	check(z->counts.rules == z->n_rule, "rules counted");
	for (int t = POLICY_T_QNAME; t <= POLICY_T_NSIP; t++)
		by += z->counts.by_trigger[t];
	check(by == z->n_rule && z->counts.by_trigger[0] == 0, "rules by trigger");
	check(z->counts.rejected <= z->counts.records, "rejected <= records");
	check(z->n_rule + z->counts.rejected <= z->counts.records, "a rule has a record");

	for (size_t i = 0; i < z->n_rule; i++) {
		const struct policy_rule *r = &z->rule[i];
		check(r->trigger >= POLICY_T_QNAME && r->trigger <= POLICY_T_NSIP, "trigger");
		check(r->action >= POLICY_A_NXDOMAIN && r->action <= POLICY_A_LOCAL, "action");
		check(r->line >= 1, "a rule has its line");
		if (r->trigger == POLICY_T_QNAME || r->trigger == POLICY_T_NSDNAME) {
			check(r->name_len >= 1 && in_arena(z, r->name_off, r->name_len) &&
			      lower_name(z->data + r->name_off, r->name_len), "trigger name");
			check(r->wild <= 1 && r->family == 0 && r->plen == 0, "a name trigger");
		} else {
			unsigned bits = r->family == 4 ? 32 : 128;
			check(r->family == 4 || r->family == 6, "family");
			check(r->plen >= 1 && r->plen <= bits, "prefix length");
			for (unsigned b = r->plen; b < 128; b++)
				check(!(r->addr[b / 8] & (0x80 >> (b % 8))), "host bits clear");
			check(r->name_len == 0 && r->wild == 0, "an address trigger");
		}
		check(r->rr_first == next_rr, "records contiguous, in rule order");
		check(r->rr_first <= z->n_rr && r->rr_n <= z->n_rr - r->rr_first, "records inside");
		check((r->action == POLICY_A_LOCAL) == (r->rr_n > 0), "LOCAL has records");
		next_rr += r->rr_n;
		unsigned cnames = 0;
		for (uint32_t j = 0; j < r->rr_n; j++) {
			const struct policy_rr *rr = &z->rr[r->rr_first + j];
			check(rr->type == DNS_T_A || rr->type == DNS_T_AAAA ||
			      rr->type == DNS_T_TXT || rr->type == DNS_T_CNAME, "local data type");
			check(in_arena(z, rr->off, rr->rdlen) &&
			      dns_rdata_check_flat(rr->type, z->data + rr->off, rr->rdlen) == 0,
			      "local data RDATA");
			if (rr->type == DNS_T_CNAME) {
				cnames++;
				check(lower_name(z->data + rr->off, rr->rdlen), "a CNAME lower-cased");
				check(rr->wild_target == (z->data[rr->off] == 1 &&
							  z->data[rr->off + 1] == '*'),
				      "wild_target: a '*' first label");
			} else {
				check(rr->wild_target == 0, "wild_target on a CNAME only");
			}
			for (uint32_t k = 0; k < j; k++) {
				const struct policy_rr *o = &z->rr[r->rr_first + k];
				check(o->type != rr->type || o->rdlen != rr->rdlen ||
				      memcmp(z->data + o->off, z->data + rr->off, rr->rdlen) != 0,
				      "no duplicate record");
			}
		}
		check(cnames == 0 || r->rr_n == 1, "a CNAME only alone");
	}
	check(next_rr == z->n_rr, "every record belongs to a rule");
}

static bool same_zone(const struct policy_zone *a, const struct policy_zone *b)
{
	return a->n_rule == b->n_rule && a->n_rr == b->n_rr && a->data_len == b->data_len &&
	       a->serial == b->serial && a->soa_ttl == b->soa_ttl &&
	       memcmp(&a->counts, &b->counts, sizeof(a->counts)) == 0 &&
	       (!a->n_rule || memcmp(a->rule, b->rule, a->n_rule * sizeof(*a->rule)) == 0) &&
	       (!a->n_rr || memcmp(a->rr, b->rr, a->n_rr * sizeof(*a->rr)) == 0) &&
	       (!a->data_len || memcmp(a->data, b->data, a->data_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_zone a, b;
	static char err[1024];

	policy_zone_init(&a);
	policy_zone_init(&b);
	reports = 0;
	int r = ctl_rpz_parse(&a, (const char *)data, size, "fuzz.rpz", origin, on_report, NULL,
			      err, sizeof(err));
	if (r) {
		static const struct policy_zone empty;
		check(r == CTL_E_POLICY || r == CTL_E_NOMEM, "a CTL_E_POLICY or CTL_E_NOMEM code");
		one_line(err);
		check(memcmp(&a, &empty, sizeof(a)) == 0, "a failed zone is empty");
		return 0;
	}
	check(reports <= a.counts.rejected, "each report is a rejection");
	check_zone(&a);

	unsigned long first = reports;
	reports = 0;
	r = ctl_rpz_parse(&b, (const char *)data, size, "fuzz.rpz", origin, on_report, NULL,
			  err, sizeof(err));
	check(r == 0 && reports == first && same_zone(&a, &b), "the same text, the same zone");
	policy_zone_fini(&a);
	policy_zone_fini(&b);
	return 0;
}
