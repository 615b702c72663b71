/*
 * answer/acl.h: access control, one engine and one meaning for both front
 * ends (the dataplane's workers and control's kernel sockets). The
 * configuration's access-control list is first-match; answer_acl_build()
 * flattens it, per family, into sorted disjoint address ranges that each
 * carry the action of the first rule covering them, so a lookup is a binary
 * search over at most 2 * CFG_ACL_MAX + 1 boundaries (7-8 steps within one
 * or two cache lines for the addresses a /0 and a few prefixes make), with
 * no allocation and no EAL.
 *
 * Semantics: an address no rule covers is refused (CFG_ACL_REFUSE). An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as the IPv4 address
 * a.b.c.d in both front ends: a dual-stack socket reports IPv4 clients that
 * way, and a frame that carries one as its IPv6 source gets no more than
 * its IPv4 self would.
 *
 * Built once (main thread, at start or reload, into a struct the caller
 * owns); read-only afterwards, so any number of threads may look up
 * concurrently.
 */
#ifndef BW_ANSWER_ACL_H
#define BW_ANSWER_ACL_H

#include <stdint.h>

#include "conf/config.h"

#define ANSWER_ACL_RANGES_MAX (2 * CFG_ACL_MAX + 1)

struct answer_acl {
	unsigned n4, n6;
	/* range i runs from start[i] to start[i + 1] - 1 (the last to the end
	 * of the family's space); start[0] is 0 */
	uint32_t start4[ANSWER_ACL_RANGES_MAX];
	uint8_t act4[ANSWER_ACL_RANGES_MAX];	/* enum cfg_acl_action */
	uint8_t act6[ANSWER_ACL_RANGES_MAX];
	unsigned __int128 start6[ANSWER_ACL_RANGES_MAX];
};

/* Compiles cfg's access-control list into *acl. Cannot fail: the list's
 * bounds are the configuration's. */
void answer_acl_build(struct answer_acl *acl, const struct cfg *cfg);
/* The same from n rules (at most CFG_ACL_MAX are read), each checked as
 * the configuration checks them. */
void answer_acl_build_rules(struct answer_acl *acl, const struct cfg_acl_rule *r, unsigned n);

/* The action (enum cfg_acl_action) for a client: v6 false with 4 octets
 * at addr, true with 16. */
uint8_t answer_acl_lookup(const struct answer_acl *acl, int v6, const uint8_t *addr);

#endif
