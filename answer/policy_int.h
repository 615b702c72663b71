/*
 * answer/policy_int.h: the compiled policy snapshot's layout and the name
 * hash, shared by its builder (policy_build.c) and its reader (policy.c).
 * Only answer/ includes it; policy.h is the interface.
 *
 * The snapshot is one block: a header, then arrays found by offset from the
 * block's start, so that it means the same at any address. Invariants the
 * lookups rely on (policy_build() makes them, policy_check() verifies them
 * on a block from elsewhere):
 *   - the name table has a power-of-two number of slots, at most half of
 *     them used, and no probe sequence is longer than max_probe; a slot's
 *     rule index is below n_rules and its name inside the data array;
 *   - the address segments of each family start at address 0, rise
 *     strictly, and the top-16-bit index says for every 65536th of the
 *     space which segments start in it;
 *   - every rule's zone is below n_zones and its records inside rrs, every
 *     record's RDATA inside data.
 * A name is hashed label by label from the root down with a key drawn for
 * the snapshot (a feed's author cannot aim names at one probe cluster), so
 * that the hash of every suffix of the question comes for free: a wildcard
 * at depth d is one more probe, made only when some wildcard has depth d.
 */
#ifndef BW_ANSWER_POLICY_INT_H
#define BW_ANSWER_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "answer/policy.h"
#include "dns/name.h"

#define POLICY_MAGIC 0x62777270u /* "bwrp" */
#define POLICY_LAYOUT 3
#define NONE UINT32_MAX
/*
 * An address table's index: the first segment of each value of the
 * address's top `bits` bits, and the end (1 << bits + 1 slots). The top 16
 * bits (256 KiB) for most tables; 20 (4 MiB) for a table of more than
 * IDX_FINE_SEGMENTS segments: in a feed of 100 000 /24s one /16 held ~200
 * segments, eight steps of search for every client in it, where a /20
 * holds 32 at most.
 */
#define IDX_BITS 16u
#define IDX_BITS_FINE 20u
#define IDX_FINE_SEGMENTS 32768u
#define IDX_SLOTS(bits) ((1u << (bits)) + 1u)

/* The address tables (each for IPv4 and IPv6) and the name tables' kinds. */
enum { PNET_CLIENT_IP, PNET_IP, PNET_NSIP, PNET_KINDS };
enum { PNAME_QNAME, PNAME_NSDNAME, PNAME_KINDS };

/*
 * The order of matches: key = zone << 16 | rank << 8 | specificity, the
 * smallest wins. Ranks are the draft's order of triggers within a zone;
 * specificity: 0 for an exact name, 128 - depth for a wildcard (the longer
 * base wins), 128 - prefix length for an address.
 */
static inline uint32_t trigger_rank(uint8_t trigger)
{
	switch (trigger) {
	case POLICY_T_CLIENT_IP:
		return 0;
	case POLICY_T_QNAME:
		return 1;
	case POLICY_T_IP:
		return 2;
	case POLICY_T_NSDNAME:
		return 3;
	default:
		return 4;
	}
}

struct pslot {
	uint32_t tag;
	uint32_t rule;		/* index + 1; 0: empty */
};

struct prule {
	uint32_t name_off;	/* QNAME, NSDNAME: lower-cased wire in data */
	uint8_t name_len;
	uint8_t zone;
	uint8_t action;
	uint8_t wild;
	uint32_t rr_first;
	uint32_t rr_n;
	uint8_t trigger;	/* enum policy_trigger */
	uint8_t plen;		/* CLIENT_IP, IP, NSIP: the prefix's length */
	uint8_t pad[2];
};

struct pzone {
	uint32_t cfg_off;	/* the configured name, NUL-terminated */
	uint32_t origin_off;
	uint32_t soa_off;
	uint16_t soa_rdlen;
	uint16_t ede;
	uint32_t soa_ttl;
	uint8_t origin_len;
	uint8_t pad[3];
};

struct pnet {
	uint64_t idx_off;	/* uint32_t[IDX_SLOTS(bits)] */
	uint64_t start_off;	/* v4: uint32_t[n]; v6: uint64_t[2 * n] (high, low) */
	uint64_t rule_off;	/* uint32_t[n]: rule index or NONE */
	uint32_t n;		/* 0: no prefix of this family */
	uint8_t bits;		/* the index's: IDX_BITS or IDX_BITS_FINE */
	uint8_t pad[3];
};

struct policy_snap {
	uint32_t magic;
	uint32_t layout;
	uint64_t gen;
	uint64_t len;
	uint64_t seed;
	uint32_t n_zones;
	uint32_t n_rules;
	uint32_t n_rrs;
	uint32_t slot_mask;
	uint32_t max_probe;
	uint32_t n_names;	/* rules in the name table, both kinds */
	struct pdepths {
		uint64_t exact[2];	/* bit d: an exact rule's name has d labels */
		uint64_t wild[2];	/* bit d: a wildcard's base name has d labels */
		uint32_t n;		/* rules of this kind */
		uint32_t pad;
	} names[PNAME_KINDS];
	/* bit z: zone z has a rule of this trigger (POLICY_ZONES_MAX is 64) */
	uint64_t zones_with[POLICY_T_NSIP + 1];
	uint64_t slots_off;
	uint64_t rules_off;
	uint64_t rrs_off;
	uint64_t zones_off;
	uint64_t data_off;
	uint64_t data_len;
	struct pnet net[PNET_KINDS][2];	/* [kind][IPv4, IPv6] */
};

#define AT(s, off, T) ((T *)((const uint8_t *)(s) + (off)))

/* --- hashing names -------------------------------------------------------- */

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	__uint128_t p = (__uint128_t)(h ^ w) * 0x9e3779b97f4a7c15ull;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* The last 1..8 octets of a label, read without passing its end. */
static inline uint64_t tail(const uint8_t *p, unsigned n)
{
	if (n >= 8)
		return ld64(p);
	if (n >= 4)
		return (uint64_t)ld32(p) | (uint64_t)ld32(p + n - 4) << 32;
	return (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
}

/* h extended by the label of n octets at p (lower-cased). */
static inline uint64_t hlabel(uint64_t h, const uint8_t *p, unsigned n)
{
	h ^= n;
	while (n > 8) {
		h = mix(h, ld64(p));
		p += 8;
		n -= 8;
	}
	return mix(h, tail(p, n));
}

/* The key of a name's hash for one kind of rule, exact or wildcard. */
static inline uint64_t hkey(uint64_t h, int kind, bool wild)
{
	static const uint64_t k[PNAME_KINDS][2] = {
		{ 0x2545f4914f6cdd1dull, 0x5bd1e9955bd1e995ull },
		{ 0x94d049bb133111ebull, 0xbf58476d1ce4e5b9ull },
	};

	return mix(h, k[kind][wild]);
}

/* Offsets of name's labels (name lower-cased wire, len octets); the number
 * of labels, root excluded, or -1 when name is not one. */
static inline int label_offsets(const uint8_t *name, size_t len, uint8_t *off)
{
	size_t i = 0;
	int n = 0;

	while (i < len && name[i]) {
		if (name[i] > DNS_LABEL_MAX || n == DNS_LABELS_MAX)
			return -1;
		off[n++] = (uint8_t)i;
		i += 1u + name[i];
	}
	return i + 1 == len ? n : -1;
}

/* The hash of name's suffix of depth labels (of n). */
static inline uint64_t name_hash(uint64_t seed, const uint8_t *name, const uint8_t *off, int n,
			  int depth)
{
	uint64_t h = seed;

	for (int i = n - 1; i >= n - depth; i--)
		h = hlabel(h, name + off[i] + 1, name[off[i]]);
	return h;
}

static inline bool depth_set(const uint64_t *mask, unsigned d)
{
	return d < 128 && (mask[d >> 6] >> (d & 63)) & 1;
}

/* The deepest depth set in mask below n (n <= 128), or -1. */
static inline int deepest_below(const uint64_t *mask, unsigned n)
{
	uint64_t hi = n <= 64 ? 0 : mask[1] & (n >= 128 ? ~0ull : (1ull << (n - 64)) - 1);
	uint64_t lo = mask[0] & (n >= 64 ? ~0ull : (1ull << n) - 1);

	if (hi)
		return 127 - __builtin_clzll(hi);
	return lo ? 63 - __builtin_clzll(lo) : -1;
}

#endif
