/*
 * answer/policy.h: response policy (RPZ, draft-vixie-dnsop-dns-rpz) as both
 * front ends apply it: the dataplane's workers and control's kernel sockets
 * check a client's question against one compiled snapshot before any cache
 * lookup, and answer from it.
 *
 * Two forms of a policy:
 *   - the source form (struct policy_zone): one zone's rules as control's
 *     parser (control/rpz.h) read them, in ordinary memory;
 *   - the snapshot: every configured zone compiled into one immutable,
 *     position-independent block (offsets, no pointers), so that control
 *     can build it in hugepage memory, the dataplane can use it at the same
 *     address, and a reload is one pointer swap (shm.h says who frees it).
 *
 * Precedence (the draft's): the first zone in the configured order that has
 * a matching trigger wins; within a zone CLIENT-IP before QNAME; among QNAME
 * triggers the exact name before any wildcard, a longer wildcard before a
 * shorter; among CLIENT-IP triggers the longest prefix. PASSTHRU is a match
 * too: it stops the search and the query is answered as without policy.
 *
 * The triggers that depend on the question alone (QNAME, CLIENT-IP) are
 * checked before any cache lookup (policy_match()); those that depend on
 * the response (QNAME on the names of its CNAME chain, IP on its
 * addresses, NSDNAME and NSIP on the name servers of the zones it came
 * from) once the response is known (policy_match_response(),
 * policy_winner()): a response trigger in an earlier zone beats a
 * question's match in a later one, so the question's match is final only
 * when no earlier zone has IP, NSDNAME or NSIP triggers
 * (POLICY_NEED_DEFER; a CNAME chain's names are met only when the
 * question's own name did not match, as BIND does).
 *
 * Any thread; policy_match() and policy_answer() allocate nothing and do no
 * I/O (worker hot path). policy_build() allocates (control's thread).
 */
#ifndef BW_ANSWER_POLICY_H
#define BW_ANSWER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

struct dns_query;

enum policy_trigger {
	POLICY_T_QNAME = 1,
	POLICY_T_CLIENT_IP,
	POLICY_T_IP,		/* an address in the response */
	POLICY_T_NSDNAME,	/* a name server's name */
	POLICY_T_NSIP,		/* a name server's address */
};

enum policy_action {
	POLICY_A_NXDOMAIN = 1,	/* CNAME .  */
	POLICY_A_NODATA,	/* CNAME *. */
	POLICY_A_PASSTHRU,	/* CNAME rpz-passthru. (or the name itself) */
	POLICY_A_DROP,		/* CNAME rpz-drop. */
	POLICY_A_TCP_ONLY,	/* CNAME rpz-tcp-only. */
	POLICY_A_LOCAL,		/* local data: A, AAAA, TXT, or one CNAME */
};

/* One record of local data; its RDATA is data[off .. off + rdlen) of the
 * zone's arena, names uncompressed. A CNAME whose target starts with the
 * label "*" is a wildcard rewrite: the target is the question's name with
 * the rest of the target appended (wild_target set). */
struct policy_rr {
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint32_t off;
	uint8_t wild_target;
	uint8_t pad[3];
};

/* One trigger with its action: every record of one owner name. */
struct policy_rule {
	uint8_t trigger;	/* enum policy_trigger */
	uint8_t action;		/* enum policy_action */
	uint8_t wild;		/* QNAME, NSDNAME: "*.name": every name below
				   name, not name itself */
	uint8_t family;		/* CLIENT_IP, IP, NSIP: 4 or 6 */
	uint8_t plen;		/* prefix length */
	uint8_t name_len;	/* QNAME, NSDNAME: name at data[name_off] */
	uint8_t pad[2];
	uint8_t addr[16];	/* CLIENT_IP, IP, NSIP: network order, host
				   bits zero; IPv4 in the first four octets */
	uint32_t name_off;	/* lower-cased wire, absolute */
	uint32_t rr_first;	/* LOCAL: rr[rr_first .. rr_first + rr_n) */
	uint32_t rr_n;
	uint32_t line;		/* where the owner's first record was read */
};

/* What the parser did with a zone's records. */
struct policy_zone_counts {
	uint64_t records;	/* read, SOA and NS included */
	uint64_t rules;		/* rules kept, all triggers */
	uint64_t rejected;	/* records rejected (each reported) */
	uint64_t by_trigger[POLICY_T_NSIP + 1]; /* rules kept per trigger */
};

/*
 * One policy zone in source form, owned by whoever called
 * policy_zone_init(): the parser appends to it, policy_build() reads it.
 */
struct policy_zone {
	uint8_t origin[DNS_NAME_MAX];	/* lower-cased wire */
	uint32_t serial;
	uint32_t soa_ttl;		/* min(SOA TTL, SOA minimum) */
	uint16_t soa_rdlen;
	uint32_t soa_off;		/* the SOA's RDATA in data */
	struct policy_rule *rule;
	size_t n_rule, cap_rule;
	struct policy_rr *rr;
	size_t n_rr, cap_rr;
	uint8_t *data;			/* names and RDATA */
	size_t data_len, cap_data;
	struct policy_zone_counts counts;
};

void policy_zone_init(struct policy_zone *z);
void policy_zone_fini(struct policy_zone *z);
/* Moves src into dst (dst finalised first); src is left empty. */
void policy_zone_move(struct policy_zone *dst, struct policy_zone *src);

/* Appends len octets to z's arena: their offset, or -1 (no memory, or the
 * arena would pass 4 GiB). */
int64_t policy_zone_put(struct policy_zone *z, const void *p, size_t len);
/* A new rule (zeroed) or NULL; a new record or NULL. */
struct policy_rule *policy_zone_rule(struct policy_zone *z);
struct policy_rr *policy_zone_rr(struct policy_zone *z);

/*
 * Room for more elements of sz octets in *arr (n used, *cap held; NULL
 * and 0 for a new array): the capacity doubles (from 64) until it fits;
 * false when memory ran out, with *arr and *cap as they were. Blocks of
 * 4 MiB and more are mappings of their own, asked for transparent huge
 * pages. Such arrays are freed with policy_array_free(), never free().
 * For the arrays of a zone, of its readers and of control's snapshots
 * (policy_array_alloc() is a policy_alloc_fn), on control's threads.
 */
bool policy_grow(void **arr, size_t n, size_t *cap, size_t sz, size_t more);
void *policy_array_alloc(void *arg, size_t size);
void policy_array_free(void *arr);

/* --- compiling ------------------------------------------------------------ */

#define POLICY_ZONES_MAX 64

/* A zone's settings from the configuration (conf's policy list). */
enum policy_override {
	POLICY_OVERRIDE_NONE = 0,	/* "given": the zone's own actions */
	POLICY_OVERRIDE_NXDOMAIN,
	POLICY_OVERRIDE_NODATA,
	POLICY_OVERRIDE_PASSTHRU,
	POLICY_OVERRIDE_DROP,
	POLICY_OVERRIDE_TCP_ONLY,
	POLICY_OVERRIDE_CNAME,		/* every match rewritten to cname */
};

struct policy_zone_opts {
	uint8_t override;		/* enum policy_override */
	uint8_t log;			/* control logs its matches */
	uint16_t ede;			/* RFC 8914 info-code, DNS_EDE_NONE: none */
	uint32_t max_ttl;		/* local data and SOA TTLs capped */
	uint8_t cname[DNS_NAME_MAX];	/* OVERRIDE_CNAME's target */
};

/*
 * Compiles n zones (zone order = precedence) into a new snapshot of
 * generation gen, in memory from alloc(arg, size) (NULL: malloc); the
 * snapshot's length goes to *len. NULL when memory ran out. The snapshot
 * copies what it needs: the zones may be freed after.
 */
typedef void *(*policy_alloc_fn)(void *arg, size_t size);
struct policy_snap;
struct policy_snap *policy_build(const struct policy_zone *const *zones,
				 const struct policy_zone_opts *opts, const char *const *names,
				 unsigned n, uint64_t gen, policy_alloc_fn alloc, void *arg,
				 size_t *len);

/*
 * Checks a snapshot received from another process: len octets at s, every
 * offset and index a lookup can follow inside them. 0, or -1 (it must not
 * be used). policy_build()'s output always passes.
 */
int policy_check(const struct policy_snap *s, size_t len);

uint64_t policy_gen(const struct policy_snap *s);
/* A built snapshot's generation changed (before it is published). */
void policy_set_gen(struct policy_snap *s, uint64_t gen);
unsigned policy_zones(const struct policy_snap *s);
/* Zone i's configured name (NUL-terminated, in the snapshot). */
const char *policy_zone_name(const struct policy_snap *s, unsigned i);
/* Rules compiled, every trigger, in all zones. */
uint64_t policy_rules(const struct policy_snap *s);

/* --- matching and answering (worker hot path) ---------------------------- */

/* The outcome of a match. */
struct policy_hit {
	uint8_t action;		/* enum policy_action; 0: no match */
	uint8_t zone;		/* index in the snapshot's zone order */
	uint8_t trigger;	/* enum policy_trigger */
	uint8_t pad;
	uint32_t rule;		/* the rule's index in the snapshot */
};

/*
 * The best match for q's name (lname: lower-cased wire, lname_len octets)
 * asked from client (family 4 or 6, address in network order; IPv4 in the
 * first four octets). Returns the action (0: no trigger matched).
 */
int policy_match(const struct policy_snap *s, const uint8_t *lname, size_t lname_len,
		 int family, const uint8_t *client, struct policy_hit *hit);

/* What the response triggers of the zones before limit need (bits). */
#define POLICY_NEED_CHAIN 1u	/* QNAME rules: the CNAME chain's names */
#define POLICY_NEED_IP 2u	/* IP rules: the answer's A and AAAA */
#define POLICY_NEED_NSDNAME 4u	/* the names of the zones' name servers */
#define POLICY_NEED_NSIP 8u	/* their addresses */
#define POLICY_NEED_NS (POLICY_NEED_NSDNAME | POLICY_NEED_NSIP)
/* A question's own match waits for the response only for these (BIND's
 * qname-wait-recurse): the names of a CNAME chain are met only when the
 * question's own name did not stop the resolution. */
#define POLICY_NEED_DEFER (POLICY_NEED_IP | POLICY_NEED_NS)
unsigned policy_needs(const struct policy_snap *s, unsigned limit);

/* The name servers NSDNAME and NSIP triggers are checked against (who
 * gathers them and how: control/policy_ns.h). */
#define POLICY_NS_NAMES_MAX 64
#define POLICY_NS_ADDRS_MAX 128
struct policy_ns {
	unsigned n_names, n_addrs;
	uint8_t name_len[POLICY_NS_NAMES_MAX];
	uint8_t name[POLICY_NS_NAMES_MAX][DNS_NAME_MAX]; /* lower-cased wire */
	struct {
		uint8_t family;	/* 4 or 6 */
		uint8_t a[16];	/* network order */
	} addr[POLICY_NS_ADDRS_MAX];
};

/*
 * The triggers of zones before limit that depend on a response: QNAME on
 * the targets of msg's answer-section CNAME records (as BIND applies them:
 * "CNAME cloaking", cloak.example. CNAME blocked.example.), IP on its
 * answer-section A and AAAA records, NSDNAME and NSIP on ns (NULL: not
 * known; msg may be NULL too). The best match by the draft's precedence:
 * zone order, then QNAME, IP, NSDNAME, NSIP, then the most specific (an
 * IPv4 prefix as long as the IPv6 one it maps to), then the smaller
 * matched name in DNSSEC order or the smaller address. Of the chain's
 * names only the first that matches counts (as a resolver meets them).
 * Returns its action (0: none; POLICY_A_PASSTHRU is a match: the caller
 * answers as without policy).
 */
int policy_match_response(const struct policy_snap *s, unsigned limit, const uint8_t *msg,
			  size_t len, const struct policy_ns *ns, struct policy_hit *hit);

/*
 * Which wins of a question's own match pre (policy_match()) and resp, the
 * match of its response (policy_match_response() over every zone): resp
 * when it is of a zone before pre's (within one zone the question's
 * triggers come first), else pre. NULL when neither matched.
 */
static inline const struct policy_hit *policy_winner(const struct policy_hit *pre,
						     const struct policy_hit *resp)
{
	if (resp->action && (!pre->action || resp->zone < pre->zone))
		return resp;
	return pre->action ? pre : NULL;
}

/* A response verdict as kept with a cache entry: rule index + 1, 0 for
 * none (struct cache_tag's verdict). */
static inline uint64_t policy_hit_tag(const struct policy_hit *h)
{
	return h->action ? (uint64_t)h->rule + 1 : 0;
}

/* The hit of tag (policy_hit_tag()) in s: false when tag is 0 or names no
 * rule of s (a tag from elsewhere is checked, not trusted). */
bool policy_tag_hit(const struct policy_snap *s, uint64_t tag, struct policy_hit *hit);

/* What a policy answer is. */
enum policy_verdict {
	POLICY_V_ANSWER = 1,	/* out holds the answer */
	POLICY_V_DROP,		/* send nothing */
	POLICY_V_PASS,		/* answer as without policy (PASSTHRU,
				   TCP-only over TCP) */
	POLICY_V_CHASE,		/* local data is a CNAME and the question is
				   not for CNAME: out holds the answer with
				   the CNAME alone; the front end appends the
				   target's answer (policy_chase_target()) */
};

/*
 * Writes the answer hit calls for to q (the client's query; its name in
 * the client's letter case is echoed) into out (cap octets: the UDP size
 * rules apply as for every answer writer, or cap alone when stream):
 * NXDOMAIN or NODATA with the policy zone's SOA, local data of q's type
 * (owner: q's name), TC=1 for TCP-only over UDP; RA, never AA or AD; an
 * EDE option when the zone has one and q had EDNS. *len gets the length.
 */
enum policy_verdict policy_answer(const struct policy_snap *s, const struct policy_hit *hit,
				  const struct dns_query *q, bool stream, uint16_t edns_size,
				  uint8_t *out, size_t cap, size_t *len);

/*
 * For POLICY_V_CHASE: the CNAME's target for q (lower-cased wire, into
 * target, DNS_NAME_MAX octets): its length, or 0 when a wildcard
 * rewrite would make a name too long.
 */
size_t policy_chase_target(const struct policy_snap *s, const struct policy_hit *hit,
			   const struct dns_query *q, uint8_t *target);

/*
 * The answer to a POLICY_V_CHASE question once the target has been
 * resolved: head (hlen octets, what policy_answer() wrote: the CNAME alone)
 * with the answer records of msg (mlen octets, the target's resolution;
 * NULL when it failed) after the CNAME, names uncompressed, DNSSEC records
 * left out (a policy answer is never secure); rcode the resolution's
 * (NXDOMAIN when the target does not exist). When the records do not fit
 * in cap: the CNAME alone with TC=1. Returns the length, 0 when head is
 * not a CNAME answer. out must not overlap head or msg.
 */
size_t policy_chase_answer(const uint8_t *head, size_t hlen, const uint8_t *msg, size_t mlen,
			   int rcode, size_t cap, uint8_t *out);

#endif
