/*
 * tests/fuzz/fuzz_xfr.c: libFuzzer target for what a policy zone's primary
 * sends (control/xfr.h, control/tsig.h): the answer to an AXFR or an IXFR,
 * message by message. Input: a mode octet (bit 0: IXFR from the version
 * held, else AXFR; bit 1: the query's id is the input's second and third
 * octet, else 0x2a2a), then messages, each behind a 2-octet length as on
 * TCP. Every message also goes through the TSIG reader. Beyond "no crash,
 * no leak, no sanitizer report" it checks:
 * - the parser answers MORE until it answers something else, and after an
 *   error or the end it takes no more;
 * - an error says why in one line;
 * - a new version holds exactly one SOA, at the origin, with the serial
 *   the set says, records that read back to the set's end and count up to
 *   its n, owners lower-cased in the zone's class, and turns into a policy
 *   zone (control/rpz.h) without failing;
 * - the version held is never changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/policy.h"
#include "control/err.h"
#include "control/rpz.h"
#include "control/tsig.h"
#include "control/xfr.h"
#include "dns/msg.h"
#include "dns/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t origin[] = "\003rpz\001t";
static const struct ctl_xfr_limits lim = { 5000, 1 << 22 };

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_xfr: property failed: %s\n", what);
		abort();
	}
}

/* The version held for IXFR: serial 1, a.rpz.t CNAME ., b.rpz.t A. */
static void held(struct ctl_xfr_set *s)
{
	static const uint8_t rec[] =
		/* rpz.t SOA ns.rpz.t h.rpz.t 1 5 2 600 60 */
		"\003rpz\001t\000\000\006\000\000\001\054\000\046"
		"\002ns\003rpz\001t\000\001h\003rpz\001t\000"
		"\000\000\000\001\000\000\000\005\000\000\000\002\000\000\002\130\000\000\000\074"
		/* a.rpz.t CNAME . */
		"\001a\003rpz\001t\000\000\005\000\000\001\054\000\001\000"
		/* b.rpz.t A 192.0.2.1 */
		"\001b\003rpz\001t\000\000\001\000\000\001\054\000\004\300\000\002\001";
	ctl_xfr_set_init(s);
	s->len = sizeof(rec) - 1;
	s->buf = malloc(s->len);
	check(s->buf != NULL, "memory");
	memcpy(s->buf, rec, s->len);
	s->cap = s->len;
	s->n = 3;
	s->serial = 1;
	s->have = true;
}

static void check_set(const struct ctl_xfr_set *s)
{
	size_t pos = 0, n = 0, soas = 0;
	struct ctl_xfr_rec r;

	check(s->have, "a version");
	while (ctl_xfr_set_next(s, &pos, &r)) {
		n++;
		check(dns_name_check(r.owner, r.owner_len) == (int)r.owner_len, "owner");
		for (size_t i = 0; i < r.owner_len; i++)
			check(!(r.owner[i] >= 'A' && r.owner[i] <= 'Z'), "owners lower-cased");
		check(dns_rdata_check_flat(r.type, r.rdata, r.rdlen) == 0, "RDATA flat and checked");
		if (r.type == DNS_T_SOA && dns_name_equal(r.owner, origin)) {
			soas++;
			check(r.rdlen >= 22 && dns_get32(r.rdata + r.rdlen - 20) == s->serial,
			      "the serial is the SOA's");
		}
	}
	check(pos == s->len, "records read to the end");
	check(n == s->n, "records counted");
	check(soas == 1, "one SOA at the origin");
	struct policy_zone z;
	char err[512];
	policy_zone_init(&z);
	int rc = ctl_rpz_from_set(&z, s, "fuzz", origin, NULL, NULL, err, sizeof(err));
	check(rc == 0 || rc == CTL_E_NOMEM, "a new version makes a policy zone");
	policy_zone_fini(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_xfr_set have, out;
	char why[256];

	if (size < 3)
		return 0;
	uint8_t mode = data[0];
	uint16_t id = mode & 2 ? (uint16_t)(data[1] << 8 | data[2]) : 0x2a2a;
	data += 3;
	size -= 3;
	held(&have);
	size_t held_len = have.len;
	uint8_t *copy = malloc(have.len);
	check(copy != NULL, "memory");
	memcpy(copy, have.buf, have.len);
	struct ctl_xfr_parse *p = ctl_xfr_parse_new(origin, id, mode & 1 ? &have : NULL, &lim);
	check(p != NULL, "memory");
	int rc = CTL_XFR_MORE, last = CTL_XFR_MORE;
	while (size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]);
		if (len > size - 2)
			len = size - 2;
		struct ctl_tsig_rr t;
		(void)ctl_tsig_find(data + 2, len, &t);
		why[0] = 0;
		rc = ctl_xfr_parse_msg(p, data + 2, len, why, sizeof(why));
		if (last != CTL_XFR_MORE)
			check(rc == CTL_E_XFR, "nothing taken after the end or an error");
		if (rc < 0)
			check(why[0] && !strchr(why, '\n'), "an error says why in one line");
		if (last == CTL_XFR_MORE)
			last = rc;
		data += 2 + len;
		size -= 2 + len;
	}
	if (last == CTL_XFR_DONE) {
		bool ixfr;
		unsigned diffs;
		ctl_xfr_set_init(&out);
		ctl_xfr_parse_result(p, &out, &ixfr, &diffs);
		check_set(&out);
		ctl_xfr_set_fini(&out);
	}
	ctl_xfr_parse_free(p);
	check(have.len == held_len && !memcmp(copy, have.buf, have.len),
	      "the version held is unchanged");
	free(copy);
	ctl_xfr_set_fini(&have);
	return 0;
}
