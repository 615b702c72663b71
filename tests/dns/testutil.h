/*
 * tests/dns/testutil.h: helpers shared by the unit tests: names from
 * presentation strings, and a raw message writer for hand-made (and
 * deliberately broken) wire data that the builder would refuse to write.
 */
#ifndef BW_TESTS_DNS_TESTUTIL_H
#define BW_TESTS_DNS_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/wire.h"

/* A wire name from presentation format; fails the test on bad input. */
static inline const uint8_t *nm(const char *s)
{
	static __thread uint8_t ring[16][DNS_NAME_MAX];
	static __thread unsigned next;
	uint8_t *out = ring[next++ % 16];
	int r = dns_name_from_str(s, out);

	cr_assert(r > 0, "bad test name '%s': %s", s, dns_strerror(r));
	return out;
}

struct raw {
	uint8_t b[8192];
	size_t n;
};

static inline void raw_bytes(struct raw *r, const void *p, size_t n)
{
	cr_assert(r->n + n <= sizeof(r->b));
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static inline void raw_u8(struct raw *r, uint8_t v)
{
	raw_bytes(r, &v, 1);
}

static inline void raw_u16(struct raw *r, uint16_t v)
{
	uint8_t b[2];

	dns_put16(b, v);
	raw_bytes(r, b, 2);
}

static inline void raw_u32(struct raw *r, uint32_t v)
{
	uint8_t b[4];

	dns_put32(b, v);
	raw_bytes(r, b, 4);
}

static inline void raw_hdr(struct raw *r, uint16_t qd, uint16_t an,
			   uint16_t ns, uint16_t ar)
{
	r->n = 0;
	raw_u16(r, 0x1234);
	raw_u16(r, 0x0100);
	raw_u16(r, qd);
	raw_u16(r, an);
	raw_u16(r, ns);
	raw_u16(r, ar);
}

static inline void raw_name(struct raw *r, const char *s)
{
	const uint8_t *n = nm(s);

	raw_bytes(r, n, dns_name_len(n));
}

/* Header with one question for name/type A/IN. */
static inline void raw_query(struct raw *r, uint16_t an, uint16_t ns,
			     uint16_t ar, const char *name)
{
	raw_hdr(r, 1, an, ns, ar);
	raw_name(r, name);
	raw_u16(r, DNS_T_A);
	raw_u16(r, DNS_C_IN);
}

/* Type, class IN, TTL 300 and RDLENGTH of a record whose owner is written. */
static inline void raw_rr(struct raw *r, uint16_t type, uint16_t rdlen)
{
	raw_u16(r, type);
	raw_u16(r, DNS_C_IN);
	raw_u32(r, 300);
	raw_u16(r, rdlen);
}

#endif
